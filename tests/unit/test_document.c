/* test_document.c - documents: payload, properties and tracked properties. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "runtime/arena.h"
#include "runtime/document.h"
#include "runtime/known_names.h"

static int setup(void **state)
{
    *state = connrt_arena_new();
    return *state ? 0 : -1;
}

static int teardown(void **state)
{
    connrt_arena_destroy(*state);
    return 0;
}

static void document_new__payload__copied_with_nul(void **state)
{
    char payload[] = "abc\0def";
    connrt_document_t *d = connrt_document_new(*state, payload, 7);
    size_t len;
    const char *p = connrt_document_payload(d, &len);
    payload[0] = 'X'; /* the document holds its own copy */
    assert_int_equal(len, 7);
    assert_memory_equal(p, "abc\0def", 7);
    assert_int_equal(p[7], '\0');
    d = connrt_document_new(*state, NULL, 0);
    assert_string_equal(connrt_document_payload(d, &len), "");
    assert_int_equal(len, 0);
}

/* Kafka sets the topic and the key as a tracked and a document property:
 * each reads back its own value, also once one of them changes. */
static void set__same_value_twice__each_reads_its_value(void **state)
{
    connrt_document_t *d = connrt_document_new(*state, "x", 1);
    char key[8] = "c-1";
    assert_int_equal(connrt_document_set_tracked(d, "kafka.key", key), 0);
    assert_int_equal(connrt_document_set_property(d, "connector.kafka.key", key), 0);
    memcpy(key, "zz", 3); /* the caller's buffer is reused */
    assert_int_equal(connrt_document_set_tracked(d, "kafka.partition", key), 0);
    assert_string_equal(connrt_document_get_tracked(d, "kafka.key"), "c-1");
    assert_string_equal(connrt_document_get_property(d, "connector.kafka.key"), "c-1");
    assert_string_equal(connrt_document_get_tracked(d, "kafka.partition"), "zz");
    assert_int_equal(connrt_document_set_property(d, "connector.kafka.key", "c-2"), 0);
    assert_string_equal(connrt_document_get_property(d, "connector.kafka.key"), "c-2");
    assert_string_equal(connrt_document_get_tracked(d, "kafka.key"), "c-1");
}

static void set__existing_name__replaced_in_place(void **state)
{
    connrt_document_t *d = connrt_document_new(*state, "x", 1);
    const char *names[] = {"kafka.topic", "custom", "kafka.header.trace", "file.name"};
    for (size_t i = 0; i < 4; i++) {
        assert_int_equal(connrt_document_set_property(d, names[i], "first"), 0);
    }
    for (size_t i = 0; i < 4; i++) {
        assert_int_equal(connrt_document_set_property(d, names[i], names[i]), 0);
    }
    assert_int_equal(connrt_document_property_count(d), 4);
    for (size_t i = 0; i < 4; i++) {
        const char *name, *value;
        connrt_document_property_at(d, i, &name, &value);
        assert_string_equal(name, names[i]);
        assert_string_equal(value, names[i]);
        assert_string_equal(connrt_document_get_property(d, names[i]), names[i]);
    }
    /* A name that only starts like a known one is another name. */
    assert_null(connrt_document_get_property(d, "kafka.topicX"));
    assert_null(connrt_document_get_property(d, "kafka.topi"));
    assert_null(connrt_document_get_tracked(d, "kafka.topic"));
}

/* Many properties: the lists grow and keep their order. */
static void set__many__all_kept_in_order(void **state)
{
    connrt_document_t *d = connrt_document_new(*state, "x", 1);
    char name[32], value[32];
    for (int i = 0; i < 300; i++) {
        snprintf(name, sizeof(name), "kafka.header.h%d", i);
        snprintf(value, sizeof(value), "v%d", i);
        assert_int_equal(connrt_document_set_tracked(d, name, value), 0);
    }
    size_t count;
    const struct connrt_property_view *all = connrt_document_tracked_all(d, &count);
    assert_int_equal(count, 300);
    for (int i = 0; i < 300; i++) {
        snprintf(name, sizeof(name), "kafka.header.h%d", i);
        snprintf(value, sizeof(value), "v%d", i);
        assert_int_equal(connrt_property_name_len(&all[i]), strlen(name));
        assert_memory_equal(all[i].name, name, strlen(name));
        assert_int_equal(all[i].value_len, strlen(value));
        assert_string_equal(all[i].value, value);
        assert_int_equal(connrt_property_known(&all[i]), CONNRT_KN_NONE);
    }
}

/* Each well-known name is recognised with its id, and the writers' views
 * carry it; the list and the lookup agree. */
static void known_names__every_one__recognised(void **state)
{
    connrt_document_t *d = connrt_document_new(*state, "x", 1);
    for (int k = 1; k < CONNRT_KN_COUNT; k++) {
        const struct connrt_known_name_def *def = &connrt_known_names[k];
        assert_int_equal(strlen(def->name), def->len);
        assert_int_equal(connrt_known_name(def->name, def->len), k);
        /* ,"name": */
        assert_int_equal(strlen(def->json), def->len + 4);
        assert_memory_equal(def->json + 2, def->name, def->len);
        assert_int_equal(connrt_known_name(def->name, def->len - 1), CONNRT_KN_NONE);
        assert_int_equal(connrt_document_set_property(d, def->name, "v"), 0);
    }
    size_t count;
    const struct connrt_property_view *all = connrt_document_properties(d, &count);
    assert_int_equal(count, CONNRT_KN_COUNT - 1);
    for (size_t i = 0; i < count; i++) {
        assert_int_equal(connrt_property_known(&all[i]), i + 1);
        assert_string_equal(all[i].name, connrt_known_names[i + 1].name);
    }
    assert_int_equal(connrt_known_name("kafka.kez", 9), CONNRT_KN_NONE);
}

/* A clone into another arena outlives the original's arena. */
static void clone__other_arena__outlives_original(void **state)
{
    connrt_arena_t *other = connrt_arena_new();
    connrt_document_t *d = connrt_document_new(other, "payload", 7);
    connrt_document_set_tracked(d, "kafka.topic", "orders");
    connrt_document_set_property(d, "connector.kafka.topic", "orders");
    connrt_document_set_property(d, "custom", "value");
    connrt_document_t *c = connrt_document_clone(*state, d);
    connrt_arena_destroy(other);
    size_t len;
    assert_memory_equal(connrt_document_payload(c, &len), "payload", 7);
    assert_string_equal(connrt_document_get_tracked(c, "kafka.topic"), "orders");
    assert_string_equal(connrt_document_get_property(c, "connector.kafka.topic"), "orders");
    assert_string_equal(connrt_document_get_property(c, "custom"), "value");
    /* Setting on the clone after the copy still works. */
    assert_int_equal(connrt_document_set_property(c, "custom2", "orders"), 0);
    assert_string_equal(connrt_document_get_property(c, "custom2"), "orders");
}

static void set__null_or_overlong_name__refused(void **state)
{
    connrt_document_t *d = connrt_document_new(*state, "x", 1);
    assert_int_equal(connrt_document_set_property(d, NULL, "v"), -1);
    assert_int_equal(connrt_document_set_property(d, "n", NULL), -1);
    size_t len = (size_t)CONNRT_PROPERTY_NAME_MAX + 1;
    char *name = malloc(len + 1);
    memset(name, 'n', len);
    name[len] = '\0';
    assert_int_equal(connrt_document_set_property(d, name, "v"), -1);
    name[len - 1] = '\0'; /* exactly the limit */
    assert_int_equal(connrt_document_set_property(d, name, "v"), 0);
    assert_string_equal(connrt_document_get_property(d, name), "v");
    free(name);
    assert_int_equal(connrt_document_property_count(d), 1);
}

/* doc_set_fields (ABI 1.5): the properties a Kafka message gives, values
 * taken by length (not NUL-terminated), as the per-property calls would
 * set them; on a fresh document, a document with properties already, and
 * with a name outside the well-known list. */
#define F(n, v, l, t) ((struct connrt_doc_field){(n), strlen(n), (v), (l), (t)})

static void assert_tracked(const connrt_document_t *d, size_t i, const char *name,
                           const char *value)
{
    size_t count;
    const struct connrt_property_view *all = connrt_document_tracked_all(d, &count);
    assert_true(i < count);
    assert_int_equal(connrt_property_name_len(&all[i]), strlen(name));
    assert_memory_equal(all[i].name, name, strlen(name));
    assert_int_equal(all[i].value_len, strlen(value));
    assert_string_equal(all[i].value, value);
}

static void set_fields__fresh_document__in_order_with_lengths(void **state)
{
    connrt_document_t *d = connrt_document_new(*state, "x", 1);
    const char topic[] = "orders", key[] = "c-1XXXX"; /* key: 3 bytes of it */
    struct connrt_doc_field f[] = {
        F("kafka.topic", topic, 6, 1),    F("connector.kafka.topic", topic, 6, 0),
        F("kafka.partition", "3!", 1, 1), F("kafka.offset", "12345", 5, 1),
        F("kafka.key", key, 3, 1),        F("connector.kafka.key", key, 3, 0),
        F("kafka.timestamp", "99", 2, 1),
    };
    assert_int_equal(connrt_document_set_fields(d, f, 7), 0);
    assert_int_equal(connrt_document_tracked_count(d), 5);
    assert_tracked(d, 0, "kafka.topic", "orders");
    assert_tracked(d, 1, "kafka.partition", "3");
    assert_tracked(d, 2, "kafka.offset", "12345");
    assert_tracked(d, 3, "kafka.key", "c-1");
    assert_tracked(d, 4, "kafka.timestamp", "99");
    assert_int_equal(connrt_document_property_count(d), 2);
    assert_string_equal(connrt_document_get_property(d, "connector.kafka.topic"), "orders");
    assert_string_equal(connrt_document_get_property(d, "connector.kafka.key"), "c-1");
    assert_string_equal(connrt_document_get_tracked(d, "kafka.key"), "c-1");
    /* More afterwards: a header, a replaced key. */
    assert_int_equal(connrt_document_set_tracked(d, "kafka.header.h", "v"), 0);
    assert_int_equal(connrt_document_set_tracked(d, "kafka.key", "other"), 0);
    assert_int_equal(connrt_document_tracked_count(d), 6);
    assert_tracked(d, 3, "kafka.key", "other");
    assert_tracked(d, 5, "kafka.header.h", "v");
    assert_string_equal(connrt_document_get_property(d, "connector.kafka.key"), "c-1");
}

static void set_fields__existing_or_unknown_names__as_single_calls(void **state)
{
    connrt_document_t *d = connrt_document_new(*state, "x", 1);
    assert_int_equal(connrt_document_set_tracked(d, "kafka.offset", "1"), 0);
    struct connrt_doc_field f[] = {
        F("kafka.topic", "t", 1, 1),
        F("kafka.offset", "2", 1, 1),
        F("my.name", "abc", 2, 0),
        F("my.name", "abc", 3, 0),
    };
    assert_int_equal(connrt_document_set_fields(d, f, 4), 0);
    assert_int_equal(connrt_document_tracked_count(d), 2);
    assert_tracked(d, 0, "kafka.offset", "2");
    assert_tracked(d, 1, "kafka.topic", "t");
    assert_int_equal(connrt_document_property_count(d), 1);
    assert_string_equal(connrt_document_get_property(d, "my.name"), "abc");
    /* A fresh document with a name outside the list, and one set twice. */
    connrt_document_t *e = connrt_document_new(*state, "y", 1);
    struct connrt_doc_field g[] = {
        F("kafka.topic", "t", 1, 1),
        F("kafka.header.x", "hx", 2, 1),
        F("kafka.topic", "u", 1, 1),
    };
    assert_int_equal(connrt_document_set_fields(e, g, 3), 0);
    assert_int_equal(connrt_document_tracked_count(e), 2);
    assert_tracked(e, 0, "kafka.topic", "u");
    assert_tracked(e, 1, "kafka.header.x", "hx");
}

#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)

int main(void)
{
    const struct CMUnitTest tests[] = {
        T(document_new__payload__copied_with_nul),
        T(set__same_value_twice__each_reads_its_value),
        T(set__existing_name__replaced_in_place),
        T(set__many__all_kept_in_order),
        T(known_names__every_one__recognised),
        T(clone__other_arena__outlives_original),
        T(set__null_or_overlong_name__refused),
        T(set_fields__fresh_document__in_order_with_lengths),
        T(set_fields__existing_or_unknown_names__as_single_calls),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
