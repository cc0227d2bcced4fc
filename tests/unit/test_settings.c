/*
 * test_settings.c - resolved settings and the one precedence function.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "properties/java_properties.h"
#include "properties/settings.h"

static const char *const reset_allowed[] = {"earliest", "latest", NULL};

/* An operation table shaped like Kafka consume. */
static const struct connrt_property_def op_table[] = {
    {"topic", CONNRT_PROP_LIST, CONNRT_PROP_F_REQUIRED, NULL, NULL, 0, 0, "topics", NULL},
    {"min_messages", CONNRT_PROP_INT, 0, "1", NULL, 1, 100000, "min", NULL},
    {"max_wait_ms", CONNRT_PROP_DURATION_MS, 0, "5s", NULL, 0, 0, "wait", NULL},
    {"autocommit", CONNRT_PROP_BOOL, 0, "yes", NULL, 0, 0, "commit", NULL},
    {"auto_offset_reset", CONNRT_PROP_ENUM, 0, "earliest", reset_allowed, 0, 0, "reset", NULL},
    {"group_secret", CONNRT_PROP_STRING, CONNRT_PROP_F_SECRET, NULL, NULL, 0, 0, "s", NULL},
    {"header.", CONNRT_PROP_PREFIX, 0, NULL, NULL, 0, 0, "headers", NULL},
    {"old_name", CONNRT_PROP_STRING, CONNRT_PROP_F_INVALID, NULL, NULL, 0, 0, "gone", "use x"},
    {"max.poll.records", CONNRT_PROP_INT, 0, "500", NULL, 0, 0, "clash with container", NULL},
    {NULL, 0, 0, NULL, NULL, 0, 0, NULL, NULL}};

/* A connector's container table, shaped like Kafka's. */
static const struct connrt_property_def container_table[] = {
    {"max.request.size", CONNRT_PROP_SIZE, 0, "10485760", NULL, 1, 1LL << 31, "size", NULL},
    {"max.poll.records", CONNRT_PROP_INT, 0, "1", NULL, 1, 100000, "poll", NULL},
    {"client.", CONNRT_PROP_PREFIX, 0, NULL, NULL, 0, 0, "client overrides", NULL},
    {NULL, 0, 0, NULL, NULL, 0, 0, NULL, NULL}};

static char err[512];

static connrt_jprops_t *props(const char *text)
{
    connrt_jprops_t *p = connrt_jprops_parse(text, strlen(text), "container.properties", err,
                                             sizeof(err));
    assert_non_null(p);
    return p;
}

static connrt_settings_t *resolve(const struct connrt_setting_value *values, size_t n,
                                  const connrt_jprops_t *container)
{
    err[0] = '\0';
    return connrt_settings_resolve(op_table, values, n, container_table, container,
                                   "connector.kafka.", err, sizeof(err));
}

/* ---------------------------------------------------------------- put / lookup */

static void put__new_name__lookup_returns_copy(void **state)
{
    char value[] = "abc";
    connrt_settings_t *s = connrt_settings_new();
    (void)state;
    assert_int_equal(connrt_settings_put(s, "x", value, 0), 0);
    value[0] = 'Z';
    assert_string_equal(connrt_settings_lookup(s, "x"), "abc");
    assert_null(connrt_settings_lookup(s, "y"));
    connrt_settings_destroy(s);
}

static void put__same_name__replaces_value(void **state)
{
    connrt_settings_t *s = connrt_settings_new();
    (void)state;
    assert_int_equal(connrt_settings_put(s, "x", "1", 0), 0);
    assert_int_equal(connrt_settings_put(s, "x", "2", 0), 0);
    assert_int_equal(connrt_settings_size(s), 1);
    assert_string_equal(connrt_settings_lookup(s, "x"), "2");
    connrt_settings_destroy(s);
}

static void put__null_arguments__refused(void **state)
{
    connrt_settings_t *s = connrt_settings_new();
    (void)state;
    assert_int_equal(connrt_settings_put(s, NULL, "1", 0), -1);
    assert_int_equal(connrt_settings_put(s, "x", NULL, 0), -1);
    assert_int_equal(connrt_settings_put(NULL, "x", "1", 0), -1);
    assert_int_equal(connrt_settings_size(s), 0);
    connrt_settings_destroy(s);
}

static void entry__many_names__in_name_order(void **state)
{
    static const char *const names[] = {"m", "b", "z", "a", "k", "c", "y", "d", "x", "e",
                                        "w", "f", "v", "g", "u", "h", "t", "i", "s", "j"};
    connrt_settings_t *s = connrt_settings_new();
    const char *prev = "", *name, *value;
    (void)state;
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
        assert_int_equal(connrt_settings_put(s, names[i], names[i], 0), 0);
    }
    assert_int_equal(connrt_settings_size(s), 20);
    for (size_t i = 0; i < connrt_settings_size(s); i++) {
        connrt_settings_entry(s, i, &name, &value);
        assert_true(strcmp(prev, name) < 0);
        assert_string_equal(name, value);
        assert_string_equal(connrt_settings_lookup(s, name), name);
        prev = name;
    }
    connrt_settings_entry(s, 20, &name, &value);
    assert_null(name);
    assert_null(value);
    connrt_settings_destroy(s);
}

static void lookup_int__units_and_bools__parsed(void **state)
{
    connrt_settings_t *s = connrt_settings_new();
    long long n = 0;
    (void)state;
    connrt_settings_put(s, "a", "42", 0);
    connrt_settings_put(s, "b", "true", 0);
    connrt_settings_put(s, "c", "2KB", 0);
    connrt_settings_put(s, "d", "3s", 0);
    connrt_settings_put(s, "e", "abc", 0);
    assert_int_equal(connrt_settings_lookup_int(s, "a", &n), 0);
    assert_int_equal(n, 42);
    assert_int_equal(connrt_settings_lookup_int(s, "b", &n), 0);
    assert_int_equal(n, 1);
    assert_int_equal(connrt_settings_lookup_int(s, "c", &n), 0);
    assert_int_equal(n, 2048);
    assert_int_equal(connrt_settings_lookup_int(s, "d", &n), 0);
    assert_int_equal(n, 3000);
    assert_int_equal(connrt_settings_lookup_int(s, "e", &n), -1);
    assert_int_equal(connrt_settings_lookup_int(s, "missing", &n), -1);
    connrt_settings_destroy(s);
}

static void is_secret__flag_kept__even_after_plain_put(void **state)
{
    connrt_settings_t *s = connrt_settings_new();
    (void)state;
    connrt_settings_put(s, "password", "p1", 1);
    connrt_settings_put(s, "user", "u", 0);
    assert_true(connrt_settings_is_secret(s, "password"));
    assert_false(connrt_settings_is_secret(s, "user"));
    assert_false(connrt_settings_is_secret(s, "missing"));
    connrt_settings_put(s, "password", "p2", 0);
    assert_true(connrt_settings_is_secret(s, "password"));
    connrt_settings_destroy(s);
}

static void destroy__null__is_noop(void **state)
{
    (void)state;
    connrt_settings_destroy(NULL);
    assert_int_equal(connrt_settings_size(NULL), 0);
    assert_null(connrt_settings_lookup(NULL, "x"));
}

/* ---------------------------------------------------------------- resolve */

static void resolve__no_values__defaults_filled_canonical(void **state)
{
    struct connrt_setting_value v[] = {{"topic", "orders"}};
    connrt_settings_t *s = resolve(v, 1, NULL);
    (void)state;
    assert_non_null(s);
    assert_string_equal(connrt_settings_lookup(s, "topic"), "orders");
    assert_string_equal(connrt_settings_lookup(s, "min_messages"), "1");
    assert_string_equal(connrt_settings_lookup(s, "max_wait_ms"), "5000");
    assert_string_equal(connrt_settings_lookup(s, "autocommit"), "true");
    assert_string_equal(connrt_settings_lookup(s, "auto_offset_reset"), "earliest");
    assert_null(connrt_settings_lookup(s, "group_secret"));
    /* Container rows appear under their row name with their defaults. */
    assert_string_equal(connrt_settings_lookup(s, "max.request.size"), "10485760");
    assert_string_equal(connrt_settings_lookup(s, "max.poll.records"), "1");
    connrt_settings_destroy(s);
}

static void resolve__component_value__beats_default(void **state)
{
    struct connrt_setting_value v[] = {
        {"topic", "orders"}, {"min_messages", "5"}, {"max_wait_ms", "2m"}, {"autocommit", "OFF"}};
    connrt_settings_t *s = resolve(v, 4, NULL);
    (void)state;
    assert_non_null(s);
    assert_string_equal(connrt_settings_lookup(s, "min_messages"), "5");
    assert_string_equal(connrt_settings_lookup(s, "max_wait_ms"), "120000");
    assert_string_equal(connrt_settings_lookup(s, "autocommit"), "false");
    connrt_settings_destroy(s);
}

static void resolve__later_duplicate_value__wins(void **state)
{
    struct connrt_setting_value v[] = {{"topic", "a"}, {"topic", "b"}};
    connrt_settings_t *s = resolve(v, 2, NULL);
    (void)state;
    assert_string_equal(connrt_settings_lookup(s, "topic"), "b");
    connrt_settings_destroy(s);
}

static void resolve__container_value__beats_component_and_default(void **state)
{
    struct connrt_setting_value v[] = {{"topic", "orders"}, {"max.poll.records", "500"}};
    connrt_jprops_t *c = props("connector.kafka.max.poll.records = 3\n"
                               "connector.kafka.max.request.size=1MB\n"
                               "connector.other.max.poll.records=7\n");
    connrt_settings_t *s = resolve(v, 2, c);
    (void)state;
    assert_non_null(s);
    assert_string_equal(connrt_settings_lookup(s, "max.poll.records"), "3");
    assert_string_equal(connrt_settings_lookup(s, "max.request.size"), "1048576");
    connrt_settings_destroy(s);
    connrt_jprops_destroy(c);
}

/* DESIGN §5: Consume reads in steps of max.poll.records until it holds
 * min_messages, so 3 and 5 give 6. */
static void resolve__max_poll_records_3_min_messages_5__min_messages_6(void **state)
{
    struct connrt_setting_value v[] = {{"topic", "orders"}, {"min_messages", "5"}};
    connrt_jprops_t *c = props("connector.kafka.max.poll.records=3\n");
    connrt_settings_t *s = resolve(v, 2, c);
    (void)state;
    assert_non_null(s);
    assert_string_equal(connrt_settings_lookup(s, "min_messages"), "6");
    connrt_settings_destroy(s);
    connrt_jprops_destroy(c);
}

static void resolve__min_messages_whole_steps_or_step_1__unchanged(void **state)
{
    struct connrt_setting_value six[] = {{"topic", "orders"}, {"min_messages", "6"}};
    struct connrt_setting_value five[] = {{"topic", "orders"}, {"min_messages", "5"}};
    connrt_jprops_t *c = props("connector.kafka.max.poll.records=3\n");
    connrt_settings_t *s = resolve(six, 2, c);
    connrt_settings_t *d = resolve(five, 2, NULL); /* default max.poll.records=1 */
    (void)state;
    assert_string_equal(connrt_settings_lookup(s, "min_messages"), "6");
    assert_string_equal(connrt_settings_lookup(d, "min_messages"), "5");
    connrt_settings_destroy(s);
    connrt_settings_destroy(d);
    connrt_jprops_destroy(c);
}

static void resolve__container_prefix_row__copies_matching_values(void **state)
{
    struct connrt_setting_value v[] = {{"topic", "orders"}};
    connrt_jprops_t *c = props("connector.kafka.client.rack=eu-1\n"
                               "connector.kafka.client.id=abc\n"
                               "client.other=x\n");
    connrt_settings_t *s = resolve(v, 1, c);
    (void)state;
    assert_non_null(s);
    assert_string_equal(connrt_settings_lookup(s, "client.rack"), "eu-1");
    assert_string_equal(connrt_settings_lookup(s, "client.id"), "abc");
    assert_null(connrt_settings_lookup(s, "client.other"));
    connrt_settings_destroy(s);
    connrt_jprops_destroy(c);
}

static void resolve__bad_container_value__error_names_file_and_line(void **state)
{
    struct connrt_setting_value v[] = {{"topic", "orders"}};
    connrt_jprops_t *c = props("# limits\n\nconnector.kafka.max.poll.records=lots\n");
    (void)state;
    assert_null(resolve(v, 1, c));
    assert_string_equal(err, "container.properties:3: property "
                             "'connector.kafka.max.poll.records': expected an integer between "
                             "1 and 100000, got 'lots'");
    connrt_jprops_destroy(c);
}

static void resolve__prefix_row__copies_matching_values(void **state)
{
    struct connrt_setting_value v[] = {
        {"topic", "orders"}, {"header.source", "erp"}, {"header.trace", "on"}};
    connrt_settings_t *s = resolve(v, 3, NULL);
    (void)state;
    assert_non_null(s);
    assert_string_equal(connrt_settings_lookup(s, "header.source"), "erp");
    assert_string_equal(connrt_settings_lookup(s, "header.trace"), "on");
    connrt_settings_destroy(s);
}

static void resolve__missing_required__refused(void **state)
{
    (void)state;
    assert_null(resolve(NULL, 0, NULL));
    assert_string_equal(err, "property 'topic' is required");
}

static void resolve__unknown_value__refused(void **state)
{
    struct connrt_setting_value v[] = {{"topic", "a"}, {"topik", "b"}};
    (void)state;
    assert_null(resolve(v, 2, NULL));
    assert_string_equal(err, "property 'topik': unknown property");
}

static void resolve__invalid_value__refused_with_reason(void **state)
{
    struct connrt_setting_value v[] = {{"topic", "a"}, {"auto_offset_reset", "oldest"}};
    struct connrt_setting_value w[] = {{"topic", "a"}, {"old_name", "x"}};
    (void)state;
    assert_null(resolve(v, 2, NULL));
    assert_string_equal(err, "property 'auto_offset_reset': expected one of earliest, latest, "
                             "got 'oldest'");
    assert_null(resolve(w, 2, NULL));
    assert_string_equal(err, "property 'old_name' is not supported: use x");
}

static void resolve__secret_row__marked_secret(void **state)
{
    struct connrt_setting_value v[] = {{"topic", "a"}, {"group_secret", "s3cr3t"}};
    connrt_settings_t *s = resolve(v, 2, NULL);
    (void)state;
    assert_non_null(s);
    assert_true(connrt_settings_is_secret(s, "group_secret"));
    assert_false(connrt_settings_is_secret(s, "topic"));
    assert_string_equal(connrt_settings_lookup(s, "group_secret"), "s3cr3t");
    connrt_settings_destroy(s);
}

static void resolve__no_container_table__only_component(void **state)
{
    struct connrt_setting_value v[] = {{"topic", "a"}};
    connrt_settings_t *s =
        connrt_settings_resolve(op_table, v, 1, NULL, NULL, NULL, err, sizeof(err));
    (void)state;
    assert_non_null(s);
    assert_null(connrt_settings_lookup(s, "max.request.size"));
    assert_string_equal(connrt_settings_lookup(s, "max.poll.records"), "500");
    connrt_settings_destroy(s);
}

static void resolve__result__in_name_order(void **state)
{
    struct connrt_setting_value v[] = {{"topic", "a"}, {"header.z", "1"}, {"header.a", "2"}};
    connrt_settings_t *s = resolve(v, 3, NULL);
    const char *prev = "", *name, *value;
    (void)state;
    for (size_t i = 0; i < connrt_settings_size(s); i++) {
        connrt_settings_entry(s, i, &name, &value);
        assert_true(strcmp(prev, name) < 0);
        prev = name;
    }
    connrt_settings_destroy(s);
}


/* ---------------------------------------------------------------- check_container */

static const char *const level_allowed[] = {"error", "info", NULL};

static const struct connrt_property_def runtime_table[] = {
    {"log.level", CONNRT_PROP_ENUM, 0, "info", level_allowed, 0, 0, "level", NULL},
    {"admin.password", CONNRT_PROP_INT, CONNRT_PROP_F_SECRET, NULL, NULL, 0, 0, "pin", NULL},
    {NULL, 0, 0, NULL, NULL, 0, 0, NULL, NULL}};

static const struct connrt_container_scope scopes[] = {
    {"", runtime_table}, {"connector.kafka.", container_table}};

static char reported[8][512];
static size_t nreported;

static void collect(void *opaque, const char *file, int line, const char *message)
{
    (void)opaque;
    if (nreported < 8) {
        snprintf(reported[nreported], sizeof(reported[0]), "%s:%d: %s", file, line, message);
    }
    nreported++;
}

static size_t check_container(const char *text)
{
    connrt_jprops_t *c = props(text);
    size_t n;

    nreported = 0;
    n = connrt_settings_check_container(c, scopes, 2, collect, NULL);
    connrt_jprops_destroy(c);
    assert_int_equal(n, nreported);
    return n;
}

static void check_container__valid_keys__no_problems(void **state)
{
    (void)state;
    assert_int_equal(check_container("log.level=error\n"
                                     "connector.kafka.max.poll.records=3\n"
                                     "connector.kafka.max.request.size=2MB\n"
                                     "connector.kafka.client.rack=x\n"),
                     0);
}

static void check_container__unknown_key__reported_with_suggestion(void **state)
{
    (void)state;
    assert_int_equal(check_container("log.level=info\n"
                                     "connector.kafka.max.poll.record=3\n"),
                     1);
    assert_string_equal(reported[0], "container.properties:2: unknown container property "
                                     "'connector.kafka.max.poll.record' (did you mean "
                                     "'connector.kafka.max.poll.records'?)");
}

static void check_container__unknown_connector__reported_unknown(void **state)
{
    (void)state;
    assert_int_equal(check_container("connector.nosuch.x=1\n"), 1);
    assert_string_equal(reported[0], "container.properties:1: unknown container property "
                                     "'connector.nosuch.x'");
}

static void check_container__every_bad_value__reported(void **state)
{
    (void)state;
    assert_int_equal(check_container("log.level=loud\n"
                                     "# comment\n"
                                     "connector.kafka.max.poll.records=0\n"
                                     "admin.password=abc123\n"),
                     3);
    assert_string_equal(reported[0], "container.properties:1: property 'log.level': expected "
                                     "one of error, info, got 'loud'");
    assert_string_equal(reported[1], "container.properties:3: property "
                                     "'connector.kafka.max.poll.records': expected an integer "
                                     "between 1 and 100000, got '0'");
    assert_non_null(strstr(reported[2], "container.properties:4: property 'admin.password'"));
    assert_null(strstr(reported[2], "abc123"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(put__new_name__lookup_returns_copy),
        cmocka_unit_test(put__same_name__replaces_value),
        cmocka_unit_test(put__null_arguments__refused),
        cmocka_unit_test(entry__many_names__in_name_order),
        cmocka_unit_test(lookup_int__units_and_bools__parsed),
        cmocka_unit_test(is_secret__flag_kept__even_after_plain_put),
        cmocka_unit_test(destroy__null__is_noop),
        cmocka_unit_test(resolve__no_values__defaults_filled_canonical),
        cmocka_unit_test(resolve__component_value__beats_default),
        cmocka_unit_test(resolve__later_duplicate_value__wins),
        cmocka_unit_test(resolve__container_value__beats_component_and_default),
        cmocka_unit_test(resolve__max_poll_records_3_min_messages_5__min_messages_6),
        cmocka_unit_test(resolve__min_messages_whole_steps_or_step_1__unchanged),
        cmocka_unit_test(resolve__container_prefix_row__copies_matching_values),
        cmocka_unit_test(resolve__bad_container_value__error_names_file_and_line),
        cmocka_unit_test(resolve__prefix_row__copies_matching_values),
        cmocka_unit_test(resolve__missing_required__refused),
        cmocka_unit_test(resolve__unknown_value__refused),
        cmocka_unit_test(resolve__invalid_value__refused_with_reason),
        cmocka_unit_test(resolve__secret_row__marked_secret),
        cmocka_unit_test(resolve__no_container_table__only_component),
        cmocka_unit_test(resolve__result__in_name_order),
        cmocka_unit_test(check_container__valid_keys__no_problems),
        cmocka_unit_test(check_container__unknown_key__reported_with_suggestion),
        cmocka_unit_test(check_container__unknown_connector__reported_unknown),
        cmocka_unit_test(check_container__every_bad_value__reported),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
