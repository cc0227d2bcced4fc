/*
 * test_arena.c - the execution arena, and the documents, batches and host
 * services built on it.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "runtime/arena.h"
#include "runtime/batch.h"
#include "runtime/document.h"
#include "runtime/host.h"

static void arena_alloc__many_small__aligned_distinct_and_counted(void **state)
{
    (void)state;
    connrt_arena_t *a = connrt_arena_new();
    assert_non_null(a);
    unsigned char *prev = NULL;
    for (int i = 0; i < 100000; i++) {
        unsigned char *p = connrt_arena_alloc(a, (size_t)(i % 37) + 1);
        assert_non_null(p);
        assert_int_equal((uintptr_t)p % _Alignof(max_align_t), 0);
        assert_ptr_not_equal(p, prev);
        memset(p, 0xab, (size_t)(i % 37) + 1); /* ASan checks the bounds */
        prev = p;
    }
    assert_true(connrt_arena_used(a) >= 100000);
    connrt_arena_destroy(a);
}

static void arena_alloc__large_block__usable_and_counted(void **state)
{
    (void)state;
    connrt_arena_t *a = connrt_arena_new();
    size_t big = 10u * 1024 * 1024;
    unsigned char *small = connrt_arena_alloc(a, 8);
    unsigned char *p = connrt_arena_alloc(a, big);
    assert_non_null(p);
    memset(p, 1, big);
    memset(small, 2, 8);
    assert_int_equal(p[big - 1], 1);
    assert_int_equal(connrt_arena_used(a), big + 8);
    connrt_arena_destroy(a);
}

static void arena_strdup__copies__independent_of_source(void **state)
{
    (void)state;
    connrt_arena_t *a = connrt_arena_new();
    char src[] = "hello";
    char *copy = connrt_arena_strdup(a, src);
    src[0] = 'j';
    assert_string_equal(copy, "hello");
    assert_null(connrt_arena_strdup(a, NULL));
    assert_string_equal(connrt_arena_strndup(a, "abcdef", 3), "abc");
    unsigned char bytes[3] = {0, 1, 2};
    unsigned char *m = connrt_arena_memdup(a, bytes, 3);
    assert_memory_equal(m, bytes, 3);
    connrt_arena_destroy(a);
}

static void arena_reset__after_use__used_is_zero_and_alloc_works(void **state)
{
    (void)state;
    connrt_arena_t *a = connrt_arena_new();
    for (int round = 0; round < 3; round++) {
        for (int i = 0; i < 20000; i++) {
            assert_non_null(connrt_arena_alloc(a, 24));
        }
        assert_non_null(connrt_arena_alloc(a, 100000));
        connrt_arena_reset(a);
        assert_int_equal(connrt_arena_used(a), 0);
    }
    assert_non_null(connrt_arena_strdup(a, "still works"));
    connrt_arena_destroy(a);
}

static void arena_generation__reset_or_other_arena__differs(void **state)
{
    (void)state;
    connrt_arena_t *a = connrt_arena_new();
    connrt_arena_t *b = connrt_arena_new();
    size_t g = connrt_arena_generation(a);
    assert_int_not_equal(g, connrt_arena_generation(b));
    assert_non_null(connrt_arena_alloc(a, 10));
    assert_int_equal(connrt_arena_generation(a), g);
    connrt_arena_reset(a);
    assert_int_not_equal(connrt_arena_generation(a), g);
    assert_int_not_equal(connrt_arena_generation(a), connrt_arena_generation(b));
    connrt_arena_destroy(a);
    connrt_arena_destroy(b);
}

static void document_origin_ref__line__formatted_on_demand(void **state)
{
    (void)state;
    connrt_arena_t *a = connrt_arena_new();
    connrt_document_t *d = connrt_document_new(a, "x", 1);
    assert_false(connrt_document_has_origin(d));
    assert_null(connrt_document_origin(d));
    connrt_document_set_origin_ref(d, "orders.jsonl", 42);
    assert_true(connrt_document_has_origin(d));
    assert_string_equal(connrt_document_origin(d), "orders.jsonl:42");
    connrt_document_set_origin_ref(d, "consume-orders", 0);
    assert_string_equal(connrt_document_origin(d), "consume-orders");
    connrt_arena_destroy(a);
}

static size_t hook_calls;
static size_t hook_seen;
static size_t hook_stop_after; /* the hook reports "stopped" from this call on (0: never) */

/* Takes the emitted documents on, as the engine does: checks and counts. */
static int hook_finals; /* calls from connrt_batch_flush */

static int count_emitted(void *opaque, connrt_batch_t *batch, int final)
{
    assert_ptr_equal(opaque, &hook_calls);
    hook_calls++;
    hook_finals += final;
    hook_seen += connrt_batch_emitted_count(batch);
    connrt_arena_reset(connrt_batch_arena(batch));
    return hook_stop_after != 0 && hook_calls >= hook_stop_after ? -1 : 0;
}

static void batch_flush__pending_documents__handed_on_and_verdict_kept(void **state)
{
    (void)state;
    connrt_arena_t *a = connrt_arena_new();
    connrt_batch_t *b = connrt_batch_new(a);
    hook_calls = hook_seen = hook_finals = 0;
    hook_stop_after = 2;
    assert_int_equal(connrt_batch_flush(b), 0); /* no hook: nothing to do */
    connrt_batch_set_emit_hook(b, 100, (size_t)1 << 30, count_emitted, &hook_calls);
    assert_non_null(connrt_batch_emit(b, "a", 1, NULL));
    assert_non_null(connrt_batch_emit(b, "b", 1, NULL));
    /* The process took both: the source may acknowledge them. */
    assert_int_equal(connrt_batch_flush(b), 0);
    assert_int_equal(hook_seen, 2);
    assert_int_equal(connrt_batch_emitted_count(b), 0);
    assert_non_null(connrt_batch_emit(b, "c", 1, NULL));
    /* The process stopped on this one: no acknowledgement, now or later. */
    assert_int_equal(connrt_batch_flush(b), -1);
    assert_int_equal(hook_seen, 3);
    /* A flush with nothing waiting still asks the hook (which may have
     * documents on their way in the background). */
    assert_int_equal(connrt_batch_flush(b), -1);
    assert_int_equal(hook_seen, 3);
    assert_int_equal(hook_calls, 3);
    assert_int_equal(hook_finals, 3);
    hook_stop_after = 0;
    connrt_batch_destroy(b);
    connrt_arena_destroy(a);
}

static void batch_emit_hook__limit_reached__called_before_next_emit(void **state)
{
    (void)state;
    connrt_arena_t *a = connrt_arena_new();
    connrt_batch_t *b = connrt_batch_new(a);
    hook_calls = hook_seen = hook_finals = 0;
    connrt_batch_set_emit_hook(b, 3, (size_t)1 << 30, count_emitted, &hook_calls);
    for (int i = 0; i < 7; i++) {
        connrt_document_t *d = connrt_batch_emit(b, "abc", 3, NULL);
        assert_non_null(d);
        /* The document just emitted stays usable until the next emit. */
        assert_int_equal(connrt_document_set_tracked(d, "n", "1"), 0);
    }
    /* 7 emitted: handed on at the 4th and the 7th emit; one still waits. */
    assert_int_equal(hook_calls, 2);
    assert_int_equal(hook_seen, 6);
    assert_int_equal(hook_finals, 0); /* a full batch may go on in the background */
    assert_int_equal(connrt_batch_emitted_count(b), 1);
    connrt_batch_set_emit_hook(b, 0, 0, NULL, NULL);
    assert_non_null(connrt_batch_emit(b, "d", 1, NULL));
    assert_int_equal(connrt_batch_emitted_count(b), 2);
    assert_int_equal(hook_calls, 2);
    connrt_batch_destroy(b);
    connrt_arena_destroy(a);
}

static void arena_destroy__null__no_op(void **state)
{
    (void)state;
    connrt_arena_destroy(NULL);
}

static void document_new__payload__copied_with_nul(void **state)
{
    (void)state;
    connrt_arena_t *a = connrt_arena_new();
    char buf[] = "payload";
    connrt_document_t *d = connrt_document_new(a, buf, 7);
    buf[0] = 'X';
    size_t len = 0;
    const char *p = connrt_document_payload(d, &len);
    assert_int_equal(len, 7);
    assert_string_equal(p, "payload");
    assert_int_equal(connrt_document_set_payload(d, "new", 3), 0);
    p = connrt_document_payload(d, &len);
    assert_int_equal(len, 3);
    assert_memory_equal(p, "new", 3);
    connrt_document_t *empty = connrt_document_new(a, NULL, 0);
    assert_non_null(empty);
    assert_string_equal(connrt_document_payload(empty, NULL), "");
    connrt_arena_destroy(a);
}

static void document_set_property__replace__keeps_one_entry_in_order(void **state)
{
    (void)state;
    connrt_arena_t *a = connrt_arena_new();
    connrt_document_t *d = connrt_document_new(a, "x", 1);
    char name[32];
    char value[32];
    for (int i = 0; i < 20; i++) {
        snprintf(name, sizeof(name), "p%d", i);
        snprintf(value, sizeof(value), "v%d", i);
        assert_int_equal(connrt_document_set_property(d, name, value), 0);
    }
    assert_int_equal(connrt_document_set_property(d, "p3", "changed"), 0);
    assert_int_equal(connrt_document_property_count(d), 20);
    assert_string_equal(connrt_document_get_property(d, "p3"), "changed");
    assert_string_equal(connrt_document_get_property(d, "p19"), "v19");
    assert_null(connrt_document_get_property(d, "nope"));
    const char *n, *v;
    connrt_document_property_at(d, 0, &n, &v);
    assert_string_equal(n, "p0");
    assert_string_equal(v, "v0");
    connrt_document_property_at(d, 20, &n, &v);
    assert_null(n);
    assert_null(v);
    /* tracked properties are a separate list */
    assert_int_equal(connrt_document_tracked_count(d), 0);
    assert_int_equal(connrt_document_set_tracked(d, "kafka.offset", "42"), 0);
    assert_string_equal(connrt_document_get_tracked(d, "kafka.offset"), "42");
    assert_null(connrt_document_get_property(d, "kafka.offset"));
    connrt_arena_destroy(a);
}

static void document_clone__other_arena__survives_source_arena(void **state)
{
    (void)state;
    connrt_arena_t *a = connrt_arena_new();
    connrt_arena_t *b = connrt_arena_new();
    connrt_document_t *d = connrt_document_new(a, "body", 4);
    connrt_document_set_property(d, "k", "v");
    connrt_document_set_tracked(d, "t", "1");
    connrt_document_set_origin(d, "in.txt:3");
    connrt_document_set_seq(d, 3);
    connrt_document_t *c = connrt_document_clone(b, d);
    connrt_document_t *same = connrt_document_clone(a, d);
    connrt_document_set_property(same, "k", "changed");
    assert_string_equal(connrt_document_get_property(d, "k"), "v");
    connrt_arena_destroy(a);
    size_t len;
    assert_memory_equal(connrt_document_payload(c, &len), "body", 4);
    assert_string_equal(connrt_document_get_property(c, "k"), "v");
    assert_string_equal(connrt_document_get_tracked(c, "t"), "1");
    assert_string_equal(connrt_document_origin(c), "in.txt:3");
    assert_int_equal(connrt_document_seq(c), 3);
    connrt_arena_destroy(b);
}

static void batch_results__each_input_once__second_result_refused(void **state)
{
    (void)state;
    connrt_arena_t *a = connrt_arena_new();
    connrt_batch_t *b = connrt_batch_new(a);
    for (int i = 0; i < 100; i++) {
        assert_int_equal(connrt_batch_add_input(b, connrt_document_new(a, "d", 1)), 0);
    }
    assert_int_equal(connrt_batch_input_count(b), 100);
    assert_int_equal(connrt_batch_set_success(b, 0), 0);
    assert_int_equal(connrt_batch_set_error(b, 1, "too large"), 0);
    assert_int_equal(connrt_batch_set_success(b, 0), -1);
    assert_int_equal(connrt_batch_set_error(b, 1, "again"), -1);
    assert_int_equal(connrt_batch_set_success(b, 100), -1);
    const char *msg;
    assert_int_equal(connrt_batch_result(b, 0, &msg), CONNRT_RESULT_SUCCESS);
    assert_null(msg);
    assert_int_equal(connrt_batch_result(b, 1, &msg), CONNRT_RESULT_APPLICATION_ERROR);
    assert_string_equal(msg, "too large");
    assert_int_equal(connrt_batch_result(b, 2, &msg), CONNRT_RESULT_NONE);
    assert_null(connrt_batch_input_at(b, 100));
    connrt_batch_destroy(b);
    connrt_batch_destroy(NULL);
    connrt_arena_destroy(a);
}

static void batch_emit__with_and_without_message__listed_in_order(void **state)
{
    (void)state;
    connrt_arena_t *a = connrt_arena_new();
    connrt_batch_t *b = connrt_batch_new(a);
    assert_non_null(connrt_batch_emit(b, "one", 3, NULL));
    assert_non_null(connrt_batch_emit(b, "two", 3, "bad record"));
    assert_int_equal(connrt_batch_emitted_count(b), 2);
    const char *msg;
    connrt_document_t *d = connrt_batch_emitted_at(b, 1, &msg);
    assert_string_equal(msg, "bad record");
    assert_string_equal(connrt_document_payload(d, NULL), "two");
    connrt_batch_emitted_at(b, 0, &msg);
    assert_null(msg);
    assert_ptr_equal(connrt_batch_arena(b), a);
    connrt_batch_clear(b);
    assert_int_equal(connrt_batch_emitted_count(b), 0);
    connrt_batch_destroy(b);
    connrt_arena_destroy(a);
}

static void host_services__document_and_batch__map_to_runtime(void **state)
{
    (void)state;
    const struct connrt_host *h = connrt_host_services();
    assert_int_equal(h->abi_version, CONNRT_ABI_VERSION);
    assert_int_equal(h->struct_size, sizeof(struct connrt_host));
    connrt_arena_t *a = connrt_arena_new();
    connrt_batch_t *b = connrt_batch_new(a);
    connrt_batch_add_input(b, connrt_document_new(a, "abc", 3));
    assert_int_equal(h->batch_count(b), 1);
    connrt_document_t *d = h->batch_input(b, 0);
    assert_int_equal(h->doc_set_property(d, "connector.kafka.key", "k1"), 0);
    assert_string_equal(h->doc_get_property(d, "connector.kafka.key"), "k1");
    assert_int_equal(h->doc_set_tracked(d, "kafka.offset", "7"), 0);
    assert_int_equal(h->doc_tracked_count(d), 1);
    assert_int_equal(h->batch_fail(b, 0, "nope"), 0);
    assert_int_equal(h->batch_succeed(b, 0), -1);
    size_t len;
    assert_memory_equal(h->doc_payload(d, &len), "abc", 3);
    char secret[] = "hunter2";
    h->wipe(secret, sizeof(secret));
    for (size_t i = 0; i < sizeof(secret); i++) {
        assert_int_equal(secret[i], 0);
    }
    char err[128];
    assert_int_not_equal(h->listener_submit(NULL, b, NULL, NULL, err, sizeof(err)), 0);
    assert_string_equal(err, "no listener is running in this process");
    assert_null(h->listener_batch_new(NULL));
    connrt_batch_destroy(b);
    connrt_arena_destroy(a);
}

static void host_log__component__tagged_line_on_stderr(void **state)
{
    (void)state;
    char path[] = "/tmp/test_arena_logXXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    fflush(stderr);
    int saved = dup(2);
    dup2(fd, 2);
    const struct connrt_host *h = connrt_host_services();
    h->log(CONNRT_LOG_WARNING, "send-orders", "topic %s missing", "orders");
    h->log(CONNRT_LOG_DEBUG, "send-orders", "hidden at default level");
    fflush(stderr);
    dup2(saved, 2);
    close(saved);
    char buf[256] = {0};
    ssize_t n = pread(fd, buf, sizeof(buf) - 1, 0);
    close(fd);
    unlink(path);
    assert_true(n > 0);
    assert_string_equal(buf, "connrt[WARNING] send-orders: topic orders missing\n");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(arena_alloc__many_small__aligned_distinct_and_counted),
        cmocka_unit_test(arena_alloc__large_block__usable_and_counted),
        cmocka_unit_test(arena_strdup__copies__independent_of_source),
        cmocka_unit_test(arena_reset__after_use__used_is_zero_and_alloc_works),
        cmocka_unit_test(arena_generation__reset_or_other_arena__differs),
        cmocka_unit_test(document_origin_ref__line__formatted_on_demand),
        cmocka_unit_test(batch_emit_hook__limit_reached__called_before_next_emit),
        cmocka_unit_test(batch_flush__pending_documents__handed_on_and_verdict_kept),
        cmocka_unit_test(arena_destroy__null__no_op),
        cmocka_unit_test(document_new__payload__copied_with_nul),
        cmocka_unit_test(document_set_property__replace__keeps_one_entry_in_order),
        cmocka_unit_test(document_clone__other_arena__survives_source_arena),
        cmocka_unit_test(batch_results__each_input_once__second_result_refused),
        cmocka_unit_test(batch_emit__with_and_without_message__listed_in_order),
        cmocka_unit_test(host_services__document_and_batch__map_to_runtime),
        cmocka_unit_test(host_log__component__tagged_line_on_stderr),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
