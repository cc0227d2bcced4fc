/* test_input.c - documents from --input: directory, lines, jsonl. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "runtime/arena.h"
#include "runtime/document.h"
#include "runtime/input.h"

struct fixture {
    char dir[64];
    connrt_arena_t *arena;
};

static int setup(void **state)
{
    struct fixture *f = calloc(1, sizeof(*f));
    snprintf(f->dir, sizeof(f->dir), "/tmp/test_input_XXXXXX");
    if (mkdtemp(f->dir) == NULL) {
        return -1;
    }
    f->arena = connrt_arena_new();
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *f = *state;
    char cmd[128];
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", f->dir);
    if (system(cmd) != 0) {
        return -1;
    }
    connrt_arena_destroy(f->arena);
    free(f);
    return 0;
}

/* Write `len` bytes to DIR/name; returns the path (static buffer). */
static const char *write_file(struct fixture *f, const char *name, const void *data, size_t len)
{
    static char path[256];
    snprintf(path, sizeof(path), "%s/%s", f->dir, name);
    FILE *fp = fopen(path, "wb");
    assert_non_null(fp);
    assert_int_equal(fwrite(data, 1, len, fp), len);
    fclose(fp);
    return path;
}

struct read_doc {
    connrt_document_t *doc;
    const char *error;
};

/* Read every document of `path` with documents of at most `limit` bytes
 * (0: the default); returns how many (at most max). */
static size_t read_limited(struct fixture *f, const char *path, connrt_input_format_t format,
                           size_t limit, struct read_doc *out, size_t max)
{
    char errstr[256];
    connrt_input_t *in = connrt_input_open(path, format, errstr, sizeof(errstr));
    assert_non_null(in);
    if (limit > 0) {
        connrt_input_set_max_document(in, limit);
    }
    size_t n = 0;
    int rc;
    connrt_document_t *doc;
    const char *error;
    while ((rc = connrt_input_next(in, f->arena, &doc, &error, errstr, sizeof(errstr))) == 1) {
        assert_true(n < max);
        out[n].doc = doc;
        out[n].error = error;
        n++;
    }
    assert_int_equal(rc, 0);
    connrt_input_close(in);
    return n;
}

static size_t read_all(struct fixture *f, const char *path, connrt_input_format_t format,
                       struct read_doc *out, size_t max)
{
    return read_limited(f, path, format, 0, out, max);
}

static const char *payload(const connrt_document_t *doc)
{
    return connrt_document_payload(doc, NULL);
}

static void input_lines__crlf_and_empty_lines__one_document_per_line(void **state)
{
    struct fixture *f = *state;
    const char text[] = "first\r\nsecond\n\nlast";
    const char *path = write_file(f, "in.txt", text, sizeof(text) - 1);
    struct read_doc d[8];
    assert_int_equal(read_all(f, path, CONNRT_INPUT_LINES, d, 8), 4);
    assert_string_equal(payload(d[0].doc), "first");
    assert_string_equal(payload(d[1].doc), "second");
    assert_string_equal(payload(d[2].doc), "");
    assert_string_equal(payload(d[3].doc), "last");
    char origin[300];
    snprintf(origin, sizeof(origin), "%s:4", path);
    assert_string_equal(connrt_document_origin(d[3].doc), origin);
    assert_null(d[0].error);
}

static void input_lines__line_longer_than_a_block__kept_whole(void **state)
{
    struct fixture *f = *state;
    size_t big = 700 * 1024;
    char *text = malloc(big + 16);
    memset(text, 'x', big);
    memcpy(text + big, "\r\nnext\r", 8);
    const char *path = write_file(f, "big.txt", text, big + 8);
    struct read_doc d[4];
    assert_int_equal(read_all(f, path, CONNRT_INPUT_LINES, d, 4), 2);
    size_t len;
    const char *p = connrt_document_payload(d[0].doc, &len);
    assert_int_equal(len, big);
    assert_int_equal(p[0], 'x');
    assert_int_equal(p[big - 1], 'x');
    /* Without a newline, a final '\r' is data. */
    assert_string_equal(payload(d[1].doc), "next\r");
    free(text);
}

static void input_lines__trailing_newline__no_extra_document(void **state)
{
    struct fixture *f = *state;
    const char *path = write_file(f, "in.txt", "a\nb\n", 4);
    struct read_doc d[8];
    assert_int_equal(read_all(f, path, CONNRT_INPUT_LINES, d, 8), 2);
    path = write_file(f, "empty.txt", "", 0);
    assert_int_equal(read_all(f, path, CONNRT_INPUT_LINES, d, 8), 0);
}

static void input_lines__binary_bytes__kept_exactly(void **state)
{
    struct fixture *f = *state;
    const char text[] = "a\0b\xff\n";
    const char *path = write_file(f, "bin.txt", text, sizeof(text) - 1);
    struct read_doc d[2];
    assert_int_equal(read_all(f, path, CONNRT_INPUT_LINES, d, 2), 1);
    size_t len;
    const void *p = connrt_document_payload(d[0].doc, &len);
    assert_int_equal(len, 4);
    assert_memory_equal(p, "a\0b\xff", 4);
}

static void input_jsonl__value_and_properties__become_document(void **state)
{
    struct fixture *f = *state;
    const char text[] =
        "{\"value\": \"order 1\", \"properties\": {\"connector.kafka.key\": \"c1\", \"n\": 5}}\n"
        "{\"value\": {\"id\": 2, \"items\": [1, 2]}}\n"
        "{\"value\": \"aGVsbG8A/w==\", \"value_encoding\": \"base64\"}\n";
    const char *path = write_file(f, "orders.jsonl", text, sizeof(text) - 1);
    struct read_doc d[4];
    assert_int_equal(read_all(f, path, CONNRT_INPUT_JSONL, d, 4), 3);
    assert_null(d[0].error);
    assert_string_equal(payload(d[0].doc), "order 1");
    assert_string_equal(connrt_document_get_property(d[0].doc, "connector.kafka.key"), "c1");
    assert_string_equal(connrt_document_get_property(d[0].doc, "n"), "5");
    assert_string_equal(payload(d[1].doc), "{\"id\":2,\"items\":[1,2]}");
    size_t len;
    const void *p = connrt_document_payload(d[2].doc, &len);
    assert_int_equal(len, 7);
    assert_memory_equal(p, "hello\0\xff", 7);
}

static void input_jsonl__malformed_line__error_names_file_line_and_keeps_document(void **state)
{
    struct fixture *f = *state;
    const char text[] = "{\"value\": \"ok\"}\n"
                        "{\"value\": oops}\n"
                        "[1, 2]\n"
                        "{\"properties\": {}}\n"
                        "{\"value\": \"x\", \"value_encoding\": \"base64\"}\n";
    const char *path = write_file(f, "orders.jsonl", text, sizeof(text) - 1);
    struct read_doc d[8];
    assert_int_equal(read_all(f, path, CONNRT_INPUT_JSONL, d, 8), 5);
    assert_null(d[0].error);
    char prefix[300];
    snprintf(prefix, sizeof(prefix), "%s:2: ", path);
    assert_non_null(d[1].error);
    assert_memory_equal(d[1].error, prefix, strlen(prefix));
    assert_non_null(strstr(d[1].error, "invalid token near 'oops' (column 14)"));
    assert_string_equal(payload(d[1].doc), "{\"value\": oops}");
    snprintf(prefix, sizeof(prefix), "%s:2", path);
    assert_string_equal(connrt_document_origin(d[1].doc), prefix);
    assert_non_null(strstr(d[2].error, ":3: expected a JSON object"));
    assert_non_null(strstr(d[3].error, ":4: missing member \"value\""));
    assert_non_null(strstr(d[4].error, ":5: \"value\" is not valid base64"));
}

static void input_dir__files__one_document_each_sorted_with_file_name(void **state)
{
    struct fixture *f = *state;
    write_file(f, "b.txt", "bee", 3);
    write_file(f, "a.json", "{\"x\":1}", 7);
    write_file(f, "c.bin", "\0\1\2", 3);
    char sub[128];
    snprintf(sub, sizeof(sub), "%s/subdir", f->dir);
    assert_int_equal(mkdir(sub, 0700), 0);
    struct read_doc d[8];
    assert_int_equal(read_all(f, f->dir, CONNRT_INPUT_LINES, d, 8), 3);
    assert_string_equal(connrt_document_get_property(d[0].doc, "file.name"), "a.json");
    assert_string_equal(payload(d[0].doc), "{\"x\":1}");
    assert_string_equal(connrt_document_get_property(d[1].doc, "file.name"), "b.txt");
    assert_string_equal(connrt_document_get_property(d[2].doc, "file.name"), "c.bin");
    size_t len;
    assert_memory_equal(connrt_document_payload(d[2].doc, &len), "\0\1\2", 3);
    assert_int_equal(len, 3);
    char origin[300];
    snprintf(origin, sizeof(origin), "%s/b.txt", f->dir);
    assert_string_equal(connrt_document_origin(d[1].doc), origin);
}

static void input_open__missing_path__error_names_path(void **state)
{
    (void)state;
    char errstr[256];
    assert_null(connrt_input_open("/nonexistent/orders.txt", CONNRT_INPUT_LINES, errstr,
                                  sizeof(errstr)));
    assert_string_equal(errstr, "/nonexistent/orders.txt: No such file or directory");
    connrt_input_close(NULL);
}

static void input_jsonl__string_or_number_line__says_an_object_is_expected(void **state)
{
    struct fixture *f = *state;
    const char text[] = "\"text\"\n42\n";
    const char *path = write_file(f, "scalars.jsonl", text, sizeof(text) - 1);
    struct read_doc d[4];
    assert_int_equal(read_all(f, path, CONNRT_INPUT_JSONL, d, 4), 2);
    assert_non_null(strstr(d[0].error, ":1: expected a JSON object {\"value\": ..."));
    assert_non_null(strstr(d[1].error, ":2: expected a JSON object {\"value\": ..."));
}

static void input_open__directory_as_jsonl__refused_naming_it(void **state)
{
    struct fixture *f = *state;
    char errstr[512];
    char expected[600];
    assert_null(connrt_input_open(f->dir, CONNRT_INPUT_JSONL, errstr, sizeof(errstr)));
    snprintf(expected, sizeof(expected),
             "%s: is a directory (one document per file); --input-format jsonl needs a file "
             "or -",
             f->dir);
    assert_string_equal(errstr, expected);
}

static void input_format_parse__names__lines_jsonl_only(void **state)
{
    (void)state;
    connrt_input_format_t fmt;
    assert_int_equal(connrt_input_format_parse("lines", &fmt), 0);
    assert_int_equal(fmt, CONNRT_INPUT_LINES);
    assert_int_equal(connrt_input_format_parse("jsonl", &fmt), 0);
    assert_int_equal(fmt, CONNRT_INPUT_JSONL);
    assert_int_equal(connrt_input_format_parse("json", &fmt), -1);
    assert_int_equal(connrt_input_format_parse(NULL, &fmt), -1);
}

static void input_lines__line_over_the_limit__error_with_its_size_and_the_rest_read(void **state)
{
    struct fixture *f = *state;
    /* Lines of 11 (over a limit of 10), 10, 700 KiB (over several blocks)
     * and a last one of 12 without a newline. */
    size_t big = 700 * 1024;
    char *text = malloc(big + 64);
    size_t n = 0;
    n += (size_t)sprintf(text + n, "%s\n%s\n", "eleven-byte", "ten-bytes!");
    memset(text + n, 'x', big);
    n += big;
    n += (size_t)sprintf(text + n, "\nafter\ntwelve-bytes");
    const char *path = write_file(f, "limit.txt", text, n);
    free(text);
    struct read_doc d[8];
    assert_int_equal(read_limited(f, path, CONNRT_INPUT_LINES, 10, d, 8), 5);
    char want[400];
    snprintf(want, sizeof(want), "%s:1: line of 11 bytes, larger than 10 "
             "(execution.max.document.bytes); not read", path);
    assert_string_equal(d[0].error, want);
    assert_string_equal(payload(d[0].doc), "");
    assert_null(d[1].error);
    assert_string_equal(payload(d[1].doc), "ten-bytes!");
    snprintf(want, sizeof(want), "%s:3: line of %zu bytes, larger than 10 "
             "(execution.max.document.bytes); not read", path, big);
    assert_string_equal(d[2].error, want);
    assert_string_equal(payload(d[3].doc), "after");
    snprintf(want, sizeof(want), "%s:5: line of 12 bytes, larger than 10 "
             "(execution.max.document.bytes); not read", path);
    assert_string_equal(d[4].error, want);
    snprintf(want, sizeof(want), "%s:5", path);
    assert_string_equal(connrt_document_origin(d[4].doc), want);
}

static void input_dir__file_over_the_limit__error_and_the_others_read(void **state)
{
    struct fixture *f = *state;
    write_file(f, "a.txt", "small", 5);
    write_file(f, "b.txt", "larger than ten", 15);
    struct read_doc d[4];
    assert_int_equal(read_limited(f, f->dir, CONNRT_INPUT_LINES, 10, d, 4), 2);
    assert_null(d[0].error);
    assert_string_equal(payload(d[0].doc), "small");
    char want[300];
    snprintf(want, sizeof(want), "%s/b.txt: larger than 10 bytes "
             "(execution.max.document.bytes); not read", f->dir);
    assert_string_equal(d[1].error, want);
    assert_string_equal(payload(d[1].doc), "");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(input_lines__crlf_and_empty_lines__one_document_per_line,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(input_lines__line_longer_than_a_block__kept_whole, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(input_lines__trailing_newline__no_extra_document, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(input_lines__binary_bytes__kept_exactly, setup, teardown),
        cmocka_unit_test_setup_teardown(input_jsonl__value_and_properties__become_document, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(
            input_jsonl__malformed_line__error_names_file_line_and_keeps_document, setup,
            teardown),
        cmocka_unit_test_setup_teardown(
            input_dir__files__one_document_each_sorted_with_file_name, setup, teardown),
        cmocka_unit_test(input_open__missing_path__error_names_path),
        cmocka_unit_test(input_format_parse__names__lines_jsonl_only),
        cmocka_unit_test_setup_teardown(
            input_jsonl__string_or_number_line__says_an_object_is_expected, setup, teardown),
        cmocka_unit_test_setup_teardown(input_open__directory_as_jsonl__refused_naming_it, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(
            input_lines__line_over_the_limit__error_with_its_size_and_the_rest_read, setup,
            teardown),
        cmocka_unit_test_setup_teardown(input_dir__file_over_the_limit__error_and_the_others_read,
                                        setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
