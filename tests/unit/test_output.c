/* test_output.c - the JSON Lines output, checked by parsing it back with jansson. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "runtime/arena.h"
#include "runtime/document.h"
#include "runtime/output.h"

struct fixture {
    connrt_arena_t *arena;
    FILE *fp;
    connrt_output_t *out;
    char *text; /* everything written, after finish() */
};

static int setup(void **state)
{
    struct fixture *f = calloc(1, sizeof(*f));
    f->arena = connrt_arena_new();
    f->fp = tmpfile();
    f->out = connrt_output_open_stream(f->fp, "test");
    *state = f;
    return f->fp && f->out ? 0 : -1;
}

static int teardown(void **state)
{
    struct fixture *f = *state;
    char errstr[128];
    connrt_output_close(f->out, errstr, sizeof(errstr));
    fclose(f->fp);
    free(f->text);
    connrt_arena_destroy(f->arena);
    free(f);
    return 0;
}

static void write_doc(struct fixture *f, const connrt_document_t *doc, const char *error)
{
    char errstr[128];
    assert_int_equal(connrt_output_write(f->out, doc, error, errstr, sizeof(errstr)), 0);
}

/* Flush and read back everything written. */
static const char *finish(struct fixture *f)
{
    char errstr[128];
    assert_int_equal(connrt_output_flush(f->out, errstr, sizeof(errstr)), 0);
    long size = ftell(f->fp);
    free(f->text);
    f->text = calloc(1, (size_t)size + 1);
    rewind(f->fp);
    assert_int_equal(fread(f->text, 1, (size_t)size, f->fp), (size_t)size);
    return f->text;
}

/* The one line written, parsed (caller decrefs). */
static json_t *parse_line(const char *line)
{
    json_error_t err;
    const char *nl = strchr(line, '\n');
    assert_non_null(nl);
    json_t *obj = json_loadb(line, (size_t)(nl - line), JSON_ALLOW_NUL, &err);
    if (obj == NULL) {
        fail_msg("not JSON: %s: %.*s", err.text, (int)(nl - line), line);
    }
    return obj;
}

static json_t *write_and_parse(struct fixture *f, const connrt_document_t *doc, const char *error)
{
    write_doc(f, doc, error);
    return parse_line(finish(f));
}

static void output_write__kafka_tracked__mapped_to_fields(void **state)
{
    struct fixture *f = *state;
    connrt_document_t *d = connrt_document_new(f->arena, "{\"id\":1}", 8);
    connrt_document_set_tracked(d, "kafka.topic", "orders");
    connrt_document_set_tracked(d, "kafka.partition", "2");
    connrt_document_set_tracked(d, "kafka.offset", "1234567890123");
    connrt_document_set_tracked(d, "kafka.key", "c1");
    connrt_document_set_tracked(d, "kafka.timestamp", "1700000000000");
    connrt_document_set_tracked(d, "kafka.header.trace-id", "abc");
    connrt_document_set_tracked(d, "kafka.header.source", "web");
    connrt_document_set_property(d, "connector.kafka.key", "c1");
    connrt_document_set_tracked(d, "kafka.value.schema_id", "3");
    connrt_document_set_tracked(d, "file.name", "in.txt"); /* a well-known name, not a field */
    connrt_document_set_tracked(d, "connector.kafka.key", "c1");
    json_t *o = write_and_parse(f, d, NULL);
    assert_string_equal(json_string_value(json_object_get(o, "value")), "{\"id\":1}");
    assert_string_equal(json_string_value(json_object_get(o, "key")), "c1");
    assert_string_equal(json_string_value(json_object_get(o, "topic")), "orders");
    assert_true(json_is_integer(json_object_get(o, "partition")));
    assert_int_equal(json_integer_value(json_object_get(o, "partition")), 2);
    assert_int_equal(json_integer_value(json_object_get(o, "offset")), 1234567890123LL);
    assert_int_equal(json_integer_value(json_object_get(o, "timestamp")), 1700000000000LL);
    json_t *h = json_object_get(o, "headers");
    assert_string_equal(json_string_value(json_object_get(h, "trace-id")), "abc");
    assert_string_equal(json_string_value(json_object_get(h, "source")), "web");
    assert_int_equal(json_object_size(h), 2);
    assert_string_equal(
        json_string_value(json_object_get(json_object_get(o, "properties"), "connector.kafka.key")),
        "c1");
    /* tracked: only what the fields above do not show. */
    json_t *t = json_object_get(o, "tracked");
    assert_int_equal(json_object_size(t), 3);
    assert_string_equal(json_string_value(json_object_get(t, "kafka.value.schema_id")), "3");
    assert_string_equal(json_string_value(json_object_get(t, "file.name")), "in.txt");
    assert_string_equal(json_string_value(json_object_get(t, "connector.kafka.key")), "c1");
    assert_string_equal(json_string_value(json_object_get(o, "outcome")), "success");
    assert_null(json_object_get(o, "error"));
    assert_null(json_object_get(o, "value_encoding"));
    json_decref(o);
}

/* A number no reader can hold as an integer is written as the string it was:
 * the line is its only copy of the value. */
static void output_write__number_past_int64__stays_string(void **state)
{
    struct fixture *f = *state;
    connrt_document_t *d = connrt_document_new(f->arena, "v", 1);
    connrt_document_set_tracked(d, "kafka.partition", "-0");
    connrt_document_set_tracked(d, "kafka.offset", "9223372036854775808");
    connrt_document_set_tracked(d, "kafka.timestamp", "9223372036854775807");
    json_t *o = write_and_parse(f, d, NULL);
    assert_string_equal(json_string_value(json_object_get(o, "partition")), "-0");
    assert_string_equal(json_string_value(json_object_get(o, "offset")), "9223372036854775808");
    assert_true(json_is_integer(json_object_get(o, "timestamp")));
    assert_int_equal(json_object_size(json_object_get(o, "tracked")), 0);
    json_decref(o);
}

static void output_write__no_tracked__kafka_fields_null(void **state)
{
    struct fixture *f = *state;
    connrt_document_t *d = connrt_document_new(f->arena, "plain", 5);
    const char *text = (write_doc(f, d, NULL), finish(f));
    assert_string_equal(text, "{\"value\":\"plain\",\"key\":null,\"topic\":null,"
                              "\"partition\":null,\"offset\":null,\"timestamp\":null,"
                              "\"headers\":{},\"properties\":{},\"tracked\":{},"
                              "\"outcome\":\"success\"}\n");
}

static void output_write__application_error__outcome_and_error(void **state)
{
    struct fixture *f = *state;
    connrt_document_t *d = connrt_document_new(f->arena, "x", 1);
    json_t *o = write_and_parse(f, d, "json-pointer '/customer': no member 'customer'");
    assert_string_equal(json_string_value(json_object_get(o, "outcome")), "application_error");
    assert_string_equal(json_string_value(json_object_get(o, "error")),
                        "json-pointer '/customer': no member 'customer'");
    json_decref(o);
}

static void output_write__special_characters__round_trip_exactly(void **state)
{
    struct fixture *f = *state;
    const char value[] = "quote\" backslash\\ nl\n cr\r tab\t bell\a nul\0 del\x7f "
                         "e-acute\xc3\xa9 euro\xe2\x82\xac emoji\xf0\x9f\x98\x80 </script>";
    connrt_document_t *d = connrt_document_new(f->arena, value, sizeof(value) - 1);
    connrt_document_set_property(d, "name \"with\" quotes", "line\nbreak");
    json_t *o = write_and_parse(f, d, "reason with \"quotes\"\n");
    json_t *v = json_object_get(o, "value");
    assert_int_equal(json_string_length(v), sizeof(value) - 1);
    assert_memory_equal(json_string_value(v), value, sizeof(value) - 1);
    assert_string_equal(json_string_value(json_object_get(json_object_get(o, "properties"),
                                                          "name \"with\" quotes")),
                        "line\nbreak");
    assert_string_equal(json_string_value(json_object_get(o, "error")),
                        "reason with \"quotes\"\n");
    json_decref(o);
}

static void output_write__long_mixed_value__round_trip_exactly(void **state)
{
    struct fixture *f = *state;
    /* Longer than one escaping slice, so that escapes and multi-byte
     * characters fall on every offset, slice boundaries included. */
    static const char *const pieces[] = {"plain text ", "\"", "\\", "\n", "\x01",
                                         "\xc3\xa9", "\xe2\x82\xac", "\xf0\x9f\x98\x80"};
    size_t cap = 300 * 1024, len = 0;
    char *value = malloc(cap);
    for (size_t i = 0; len + 16 < cap; i = (i + 3) % 8) {
        size_t n = strlen(pieces[i]);
        memcpy(value + len, pieces[i], n);
        len += n;
    }
    connrt_document_t *d = connrt_document_new(f->arena, value, len);
    json_t *o = write_and_parse(f, d, NULL);
    assert_null(json_object_get(o, "value_encoding"));
    json_t *v = json_object_get(o, "value");
    assert_int_equal(json_string_length(v), len);
    assert_memory_equal(json_string_value(v), value, len);
    json_decref(o);
    /* The same with one invalid byte at the end: base64, still exact. */
    value[len - 1] = '\xff';
    rewind(f->fp);
    d = connrt_document_new(f->arena, value, len);
    o = write_and_parse(f, d, NULL);
    assert_string_equal(json_string_value(json_object_get(o, "value_encoding")), "base64");
    json_decref(o);
    free(value);
}

static void output_write__invalid_utf8_value__base64_round_trip(void **state)
{
    struct fixture *f = *state;
    /* Each is invalid UTF-8: a stray byte, an overlong '/', a surrogate,
     * beyond U+10FFFF, a truncated sequence. */
    static const struct {
        const char *bytes;
        size_t len;
    } cases[] = {
        {"ab\xff", 3}, {"\xc0\xaf", 2}, {"\xed\xa0\x80", 3}, {"\xf4\x90\x80\x80", 4},
        {"\xe2\x82", 2},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        connrt_document_t *d = connrt_document_new(f->arena, cases[i].bytes, cases[i].len);
        rewind(f->fp);
        json_t *o = write_and_parse(f, d, NULL);
        assert_string_equal(json_string_value(json_object_get(o, "value_encoding")), "base64");
        const char *b64 = json_string_value(json_object_get(o, "value"));
        /* decode with a tiny reference decoder */
        static const char alphabet[] =
            "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
        unsigned char out[16];
        size_t n = 0;
        unsigned bits = 0, nbits = 0;
        for (const char *p = b64; *p && *p != '='; p++) {
            bits = (bits << 6) | (unsigned)(strchr(alphabet, *p) - alphabet);
            nbits += 6;
            if (nbits >= 8) {
                out[n++] = (unsigned char)(bits >> (nbits - 8));
                nbits -= 8;
            }
        }
        assert_int_equal(n, cases[i].len);
        assert_memory_equal(out, cases[i].bytes, n);
        json_decref(o);
    }
}

static void output_write__invalid_utf8_property__replacement_character(void **state)
{
    struct fixture *f = *state;
    connrt_document_t *d = connrt_document_new(f->arena, "v", 1);
    connrt_document_set_tracked(d, "kafka.header.bin", "a\xff" "b");
    json_t *o = write_and_parse(f, d, NULL);
    assert_string_equal(json_string_value(json_object_get(json_object_get(o, "headers"), "bin")),
                        "a\xef\xbf\xbd" "b");
    json_decref(o);
}

static void output_write__non_numeric_partition__written_as_string(void **state)
{
    struct fixture *f = *state;
    connrt_document_t *d = connrt_document_new(f->arena, "v", 1);
    connrt_document_set_tracked(d, "kafka.partition", "07");
    connrt_document_set_tracked(d, "kafka.offset", "-1");
    json_t *o = write_and_parse(f, d, NULL);
    assert_string_equal(json_string_value(json_object_get(o, "partition")), "07");
    assert_int_equal(json_integer_value(json_object_get(o, "offset")), -1);
    json_decref(o);
}

static void output_write__many_documents__one_valid_line_each_in_order(void **state)
{
    struct fixture *f = *state;
    char value[64];
    for (int i = 0; i < 20000; i++) {
        snprintf(value, sizeof(value), "document number %d", i);
        connrt_document_t *d = connrt_document_new(f->arena, value, strlen(value));
        write_doc(f, d, (i % 7) ? NULL : "rejected");
    }
    assert_int_equal(connrt_output_count(f->out), 20000);
    const char *p = finish(f);
    for (int i = 0; i < 20000; i++) {
        json_t *o = parse_line(p);
        snprintf(value, sizeof(value), "document number %d", i);
        assert_string_equal(json_string_value(json_object_get(o, "value")), value);
        assert_string_equal(json_string_value(json_object_get(o, "outcome")),
                            (i % 7) ? "success" : "application_error");
        json_decref(o);
        p = strchr(p, '\n') + 1;
    }
    assert_string_equal(p, "");
}

static void output_open__unwritable_path__error_names_path(void **state)
{
    (void)state;
    char errstr[256];
    assert_null(connrt_output_open("/nonexistent/out.jsonl", errstr, sizeof(errstr)));
    assert_string_equal(errstr, "/nonexistent/out.jsonl: No such file or directory");
    assert_int_equal(connrt_output_close(NULL, errstr, sizeof(errstr)), 0);
}

static void output_close__full_disk__reports_error(void **state)
{
    (void)state;
    char errstr[256] = "";
    connrt_output_t *out = connrt_output_open("/dev/full", errstr, sizeof(errstr));
    if (out == NULL) {
        skip();
    }
    connrt_arena_t *a = connrt_arena_new();
    connrt_document_t *d = connrt_document_new(a, "x", 1);
    assert_int_equal(connrt_output_write(out, d, NULL, errstr, sizeof(errstr)), 0);
    assert_int_equal(connrt_output_close(out, errstr, sizeof(errstr)), -1);
    assert_string_equal(errstr, "/dev/full: No space left on device");
    connrt_arena_destroy(a);
}

/* A listener killed mid-line left `{"value":"cu`; the restarted one appends. */
static void output_open_append__file_ends_mid_line__new_lines_start_on_their_own(void **state)
{
    (void)state;
    char path[] = "/tmp/connrt-test-output-XXXXXX", errstr[256] = "", text[512] = "";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, "{\"value\":\"cu", 12), 12);
    close(fd);
    connrt_output_t *out = connrt_output_open_append(path, errstr, sizeof(errstr));
    assert_non_null(out);
    connrt_arena_t *a = connrt_arena_new();
    assert_int_equal(connrt_output_write(out, connrt_document_new(a, "x", 1), NULL, errstr,
                                         sizeof(errstr)),
                     0);
    assert_int_equal(connrt_output_close(out, errstr, sizeof(errstr)), 0);
    FILE *fp = fopen(path, "rb");
    size_t n = fread(text, 1, sizeof(text) - 1, fp);
    fclose(fp);
    text[n] = '\0';
    assert_memory_equal(text, "{\"value\":\"cu\n{\"value\":\"x\"", 22);
    json_decref(parse_line(strchr(text, '\n') + 1));
    /* A file that ends with a whole line gets nothing extra. */
    out = connrt_output_open_append(path, errstr, sizeof(errstr));
    assert_int_equal(connrt_output_close(out, errstr, sizeof(errstr)), 0);
    fp = fopen(path, "rb");
    assert_int_equal(fread(text, 1, sizeof(text) - 1, fp), n);
    fclose(fp);
    unlink(path);
    connrt_arena_destroy(a);
}

/* The exact bytes of a consumed message's line: the writer's shortcuts
 * (ready-made keys, fields found by id, numbers unquoted) must not change
 * one byte of the format. */
static void output_write__kafka_message__exact_line(void **state)
{
    struct fixture *f = *state;
    static const char value[] = "{\"customer\":\"c-1\",\"note\":\"a\tb\u00e9\"}";
    connrt_document_t *d = connrt_document_new(f->arena, value, sizeof(value) - 1);
    connrt_document_set_tracked(d, "kafka.topic", "orders");
    connrt_document_set_property(d, "connector.kafka.topic", "orders");
    connrt_document_set_tracked(d, "kafka.partition", "7");
    connrt_document_set_tracked(d, "kafka.offset", "42");
    connrt_document_set_tracked(d, "kafka.key", "c-1");
    connrt_document_set_property(d, "connector.kafka.key", "c-1");
    connrt_document_set_tracked(d, "kafka.timestamp", "1700000000000");
    connrt_document_set_tracked(d, "kafka.header.trace\"id", "x\ny");
    connrt_document_set_property(d, "connector.kafka.header.trace\"id", "x\ny");
    connrt_document_set_property(d, "file.name", "in.txt");
    connrt_document_set_property(d, "connrt.error", "none");
    connrt_document_set_tracked(d, "kafka.value.subject", "orders-value");
    write_doc(f, d, NULL);
    write_doc(f, d, "bad \"doc\"");
    const char *line =
        "{\"value\":\"{\\\"customer\\\":\\\"c-1\\\",\\\"note\\\":\\\"a\\tb\u00e9\\\"}\","
        "\"key\":\"c-1\",\"topic\":\"orders\",\"partition\":7,\"offset\":42,"
        "\"timestamp\":1700000000000,\"headers\":{\"trace\\\"id\":\"x\\ny\"},"
        "\"properties\":{\"connector.kafka.topic\":\"orders\",\"connector.kafka.key\":\"c-1\","
        "\"connector.kafka.header.trace\\\"id\":\"x\\ny\",\"file.name\":\"in.txt\","
        "\"connrt.error\":\"none\"},"
        "\"tracked\":{\"kafka.value.subject\":\"orders-value\"},";
    char expected[4096];
    snprintf(expected, sizeof(expected),
             "%s\"outcome\":\"success\"}\n"
             "%s\"outcome\":\"application_error\",\"error\":\"bad \\\"doc\\\"\"}\n",
             line, line);
    assert_string_equal(finish(f), expected);
}

/* The escape of one character at every offset of a longer plain run, byte
 * for byte: the writer copies in blocks while it looks for escapes. */
static void output_write__escape_at_every_offset__exact_bytes(void **state)
{
    struct fixture *f = *state;
    static const struct {
        const char *raw, *json;
    } cases[] = {{"\"", "\\\""}, {"\\", "\\\\"}, {"\n", "\\n"},      {"\x01", "\\u0001"},
                 {"\x1f", "\\u001f"}, {"\xc3\xa9", "\xc3\xa9"}, {"\x7f", "\x7f"}};
    for (size_t c = 0; c < sizeof(cases) / sizeof(cases[0]); c++) {
        for (size_t off = 0; off < 48; off++) {
            char value[128], expected[256];
            memset(value, 'a', off);
            size_t n = off + (size_t)snprintf(value + off, sizeof(value) - off, "%s%s",
                                              cases[c].raw, "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb");
            snprintf(expected, sizeof(expected), "{\"value\":\"%.*s%s%s\",\"key\":", (int)off,
                     value, cases[c].json, "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb");
            connrt_document_t *d = connrt_document_new(f->arena, value, n);
            rewind(f->fp);
            write_doc(f, d, NULL);
            const char *text = finish(f);
            if (strncmp(text, expected, strlen(expected)) != 0) {
                fail_msg("case %zu offset %zu: %s", c, off, text);
            }
        }
    }
}

#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)

int main(void)
{
    const struct CMUnitTest tests[] = {
        T(output_write__kafka_tracked__mapped_to_fields),
        T(output_write__number_past_int64__stays_string),
        T(output_write__no_tracked__kafka_fields_null),
        T(output_write__application_error__outcome_and_error),
        T(output_write__special_characters__round_trip_exactly),
        T(output_write__long_mixed_value__round_trip_exactly),
        T(output_write__invalid_utf8_value__base64_round_trip),
        T(output_write__invalid_utf8_property__replacement_character),
        T(output_write__non_numeric_partition__written_as_string),
        T(output_write__many_documents__one_valid_line_each_in_order),
        cmocka_unit_test(output_open__unwritable_path__error_names_path),
        cmocka_unit_test(output_close__full_disk__reports_error),
        cmocka_unit_test(output_open_append__file_ends_mid_line__new_lines_start_on_their_own),
        T(output_write__kafka_message__exact_line),
        T(output_write__escape_at_every_offset__exact_bytes),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
