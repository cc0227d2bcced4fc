/*
 * test_java_properties.c - the .properties parser. Every expected value here
 * was checked against java.util.Properties.load (OpenJDK 17) on the same text.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <unistd.h>

#include "properties/java_properties.h"

static char err[512];

static connrt_jprops_t *parse(const char *text)
{
    connrt_jprops_t *p;

    err[0] = '\0';
    p = connrt_jprops_parse(text, strlen(text), "c.properties", err, sizeof(err));
    if (p == NULL) {
        fail_msg("unexpected parse error: %s", err);
    }
    return p;
}

/* The only entry of `text` must be key=value. */
static void assert_single(const char *text, const char *key, const char *value)
{
    connrt_jprops_t *p = parse(text);
    const char *k, *v;

    assert_int_equal(connrt_jprops_count(p), 1);
    connrt_jprops_at(p, 0, &k, &v, NULL);
    assert_string_equal(k, key);
    assert_string_equal(v, value);
    connrt_jprops_destroy(p);
}

static void assert_parse_error(const char *text, const char *message)
{
    err[0] = '\0';
    assert_null(connrt_jprops_parse(text, strlen(text), "c.properties", err, sizeof(err)));
    assert_string_equal(err, message);
}

/* ---------------------------------------------------------------- separators */

static void parse__equals_with_spaces__trimmed_around_separator(void **state)
{
    (void)state;
    assert_single("key = value\n", "key", "value");
}

static void parse__colon_separator__splits(void **state)
{
    (void)state;
    assert_single("a:b\n", "a", "b");
}

static void parse__whitespace_separator__splits(void **state)
{
    (void)state;
    assert_single("a b\n", "a", "b");
}

static void parse__tab_and_formfeed_separators__split(void **state)
{
    connrt_jprops_t *p = parse("a\tb\nc\fd\n");
    (void)state;
    assert_string_equal(connrt_jprops_get(p, "a"), "b");
    assert_string_equal(connrt_jprops_get(p, "c"), "d");
    connrt_jprops_destroy(p);
}

static void parse__whitespace_then_equals__one_separator(void **state)
{
    (void)state;
    assert_single("a  =b\n", "a", "b");
}

static void parse__second_separator__kept_in_value(void **state)
{
    connrt_jprops_t *p = parse("a = = b\nc : : d\ne == f\n");
    (void)state;
    assert_string_equal(connrt_jprops_get(p, "a"), "= b");
    assert_string_equal(connrt_jprops_get(p, "c"), ": d");
    assert_string_equal(connrt_jprops_get(p, "e"), "= f");
    connrt_jprops_destroy(p);
}

static void parse__separators_inside_value__kept(void **state)
{
    connrt_jprops_t *p = parse("url=http://h:9092\na=b=c\nw a b c\n");
    (void)state;
    assert_string_equal(connrt_jprops_get(p, "url"), "http://h:9092");
    assert_string_equal(connrt_jprops_get(p, "a"), "b=c");
    assert_string_equal(connrt_jprops_get(p, "w"), "a b c");
    connrt_jprops_destroy(p);
}

static void parse__key_without_value__empty_value(void **state)
{
    connrt_jprops_t *p = parse("k1\nk2 =\nk3   \nk4:\n");
    (void)state;
    assert_int_equal(connrt_jprops_count(p), 4);
    assert_string_equal(connrt_jprops_get(p, "k1"), "");
    assert_string_equal(connrt_jprops_get(p, "k2"), "");
    assert_string_equal(connrt_jprops_get(p, "k3"), "");
    assert_string_equal(connrt_jprops_get(p, "k4"), "");
    connrt_jprops_destroy(p);
}

static void parse__separator_first__empty_key(void **state)
{
    (void)state;
    assert_single("=value\n", "", "value");
}

static void parse__leading_whitespace__dropped_before_key(void **state)
{
    (void)state;
    assert_single("    key=value\n", "key", "value");
}

/* ---------------------------------------------------------------- escapes */

static void parse__escaped_spaces_in_key__part_of_key(void **state)
{
    (void)state;
    assert_single("key\\ with\\ spaces = value\n", "key with spaces", "value");
}

static void parse__escaped_separators_in_key__part_of_key(void **state)
{
    connrt_jprops_t *p = parse("a\\=b=c\nd\\:e:f\n");
    (void)state;
    assert_string_equal(connrt_jprops_get(p, "a=b"), "c");
    assert_string_equal(connrt_jprops_get(p, "d:e"), "f");
    connrt_jprops_destroy(p);
}

static void parse__control_escapes__translated(void **state)
{
    (void)state;
    assert_single("a=t\\tn\\nr\\rf\\f\n", "a", "t\tn\nr\rf\f");
}

static void parse__escaped_backslash__one_backslash(void **state)
{
    (void)state;
    assert_single("path=C:\\\\temp\n", "path", "C:\\temp");
}

static void parse__unknown_escape__drops_backslash(void **state)
{
    (void)state;
    assert_single("\\k\\e\\y=\\q\n", "key", "q");
}

static void parse__escaped_leading_spaces_in_value__kept(void **state)
{
    (void)state;
    assert_single("a = \\ \\ x\n", "a", "  x");
}

static void parse__unicode_escape__utf8(void **state)
{
    (void)state;
    assert_single("caf\\u00e9=\\u00e9t\\u00e9\n", "caf\xC3\xA9", "\xC3\xA9t\xC3\xA9");
}

static void parse__unicode_escape_upper_hex__utf8(void **state)
{
    (void)state;
    assert_single("a=\\u00E9\\u4e2D\n", "a", "\xC3\xA9\xE4\xB8\xAD");
}

static void parse__surrogate_pair__one_utf8_code_point(void **state)
{
    (void)state;
    assert_single("s=\\uD83D\\uDE00\n", "s", "\xF0\x9F\x98\x80");
}

static void parse__raw_utf8__kept_as_is(void **state)
{
    (void)state;
    assert_single("k=\xC3\xA9\n", "k", "\xC3\xA9");
}

static void parse__malformed_unicode_escape__error_with_line(void **state)
{
    (void)state;
    assert_parse_error("# x\na=\\u12G4\n", "c.properties:2: malformed \\uXXXX escape");
}

static void parse__short_unicode_escape__error(void **state)
{
    (void)state;
    assert_parse_error("a=\\u12", "c.properties:1: malformed \\uXXXX escape");
}

static void parse__unpaired_surrogate__error(void **state)
{
    (void)state;
    assert_parse_error("a=\\uD83Dx\n", "c.properties:1: malformed \\uXXXX escape");
    assert_parse_error("a=\\uDE00\n", "c.properties:1: malformed \\uXXXX escape");
}

static void parse__unicode_nul__error(void **state)
{
    (void)state;
    assert_parse_error("a=x\\u0000y\n", "c.properties:1: \\u0000 (NUL) is not allowed");
}

static void parse__malformed_escape_on_continuation__names_physical_line(void **state)
{
    (void)state;
    assert_parse_error("a=1,\\\n  2,\\\n  \\uZZZZ\n", "c.properties:3: malformed \\uXXXX escape");
}

/* ---------------------------------------------------------------- values */

static void parse__trailing_whitespace__kept_in_value(void **state)
{
    (void)state;
    assert_single("a=b   \n", "a", "b   ");
}

static void parse__hash_inside_value__kept(void **state)
{
    (void)state;
    assert_single("a=b # not a comment\n", "a", "b # not a comment");
}

/* ---------------------------------------------------------------- lines */

static void parse__comment_lines__skipped(void **state)
{
    (void)state;
    assert_single("# c1\n! c2\n   # c3\n\t! c4\nreal=1\n", "real", "1");
}

static void parse__comment_ending_in_backslash__does_not_continue(void **state)
{
    (void)state;
    assert_single("# comment \\\na=b\n", "a", "b");
}

static void parse__blank_lines__skipped(void **state)
{
    (void)state;
    assert_single("\n   \n\t\n\f\na=1\n\n", "a", "1");
}

static void parse__continuation__joins_and_drops_leading_whitespace(void **state)
{
    (void)state;
    assert_single("a=b\\\n   c\n", "a", "bc");
}

static void parse__continuation_over_lines__joins_all(void **state)
{
    (void)state;
    assert_single("list = a,\\\n       b,\\\n       c\n", "list", "a,b,c");
}

static void parse__continuation_inside_key__joins_key(void **state)
{
    (void)state;
    assert_single("ke\\\n  y=v\n", "key", "v");
}

static void parse__continuation_line_starting_with_hash__not_a_comment(void **state)
{
    (void)state;
    assert_single("a=b\\\n#c\n", "a", "b#c");
}

static void parse__continuation_onto_blank_line__ends_value(void **state)
{
    connrt_jprops_t *p = parse("a=b\\\n\nc=d\n");
    (void)state;
    assert_string_equal(connrt_jprops_get(p, "a"), "b");
    assert_string_equal(connrt_jprops_get(p, "c"), "d");
    connrt_jprops_destroy(p);
}

static void parse__even_backslashes_at_end__no_continuation(void **state)
{
    connrt_jprops_t *p = parse("a=b\\\\\nc=d\n");
    (void)state;
    assert_string_equal(connrt_jprops_get(p, "a"), "b\\");
    assert_string_equal(connrt_jprops_get(p, "c"), "d");
    connrt_jprops_destroy(p);
}

static void parse__backslash_at_end_of_file__dropped(void **state)
{
    (void)state;
    assert_single("a=b\\", "a", "b");
}

static void parse__crlf_line_ends__handled(void **state)
{
    connrt_jprops_t *p = parse("a=1\r\nb=2\r\n\r\nc=x\\\r\n  y\r\n");
    (void)state;
    assert_int_equal(connrt_jprops_count(p), 3);
    assert_string_equal(connrt_jprops_get(p, "a"), "1");
    assert_string_equal(connrt_jprops_get(p, "b"), "2");
    assert_string_equal(connrt_jprops_get(p, "c"), "xy");
    connrt_jprops_destroy(p);
}

static void parse__cr_only_line_ends__handled(void **state)
{
    connrt_jprops_t *p = parse("a=1\rb=2\rc=x\\\r  y\r");
    (void)state;
    assert_int_equal(connrt_jprops_count(p), 3);
    assert_string_equal(connrt_jprops_get(p, "c"), "xy");
    connrt_jprops_destroy(p);
}

static void parse__no_final_newline__last_entry_kept(void **state)
{
    (void)state;
    assert_single("a=b", "a", "b");
}

static void parse__empty_text__no_entries(void **state)
{
    connrt_jprops_t *p = parse("");
    (void)state;
    assert_int_equal(connrt_jprops_count(p), 0);
    connrt_jprops_destroy(p);
    p = connrt_jprops_parse(NULL, 0, "x", err, sizeof(err));
    assert_non_null(p);
    assert_int_equal(connrt_jprops_count(p), 0);
    connrt_jprops_destroy(p);
}

static void parse__byte_order_mark__skipped(void **state)
{
    (void)state;
    assert_single("\xEF\xBB\xBF" "a=1\n", "a", "1");
}

static void parse__nul_byte__error_with_line(void **state)
{
    (void)state;
    assert_null(connrt_jprops_parse("a=1\nb=\0x\n", 8, "c.properties", err, sizeof(err)));
    assert_string_equal(err, "c.properties:2: NUL byte in file");
}

/* ---------------------------------------------------------------- lines and order */

static void parse__line_numbers__line_where_key_starts(void **state)
{
    connrt_jprops_t *p = parse("# header\n\na=1\nb=x\\\n  y\\\n  z\r\n\r\n   c = 3\n");
    const char *k;
    int line;
    (void)state;
    assert_int_equal(connrt_jprops_count(p), 3);
    connrt_jprops_at(p, 0, &k, NULL, &line);
    assert_string_equal(k, "a");
    assert_int_equal(line, 3);
    connrt_jprops_at(p, 1, &k, NULL, &line);
    assert_string_equal(k, "b");
    assert_int_equal(line, 4);
    connrt_jprops_at(p, 2, &k, NULL, &line);
    assert_string_equal(k, "c");
    assert_int_equal(line, 8);
    connrt_jprops_destroy(p);
}

static void parse__duplicate_key__later_value_wins(void **state)
{
    connrt_jprops_t *p = parse("a=1\nb=2\na=3\n");
    const char *k, *v;
    int line;
    (void)state;
    assert_int_equal(connrt_jprops_count(p), 2);
    connrt_jprops_at(p, 0, &k, &v, &line);
    assert_string_equal(k, "a");
    assert_string_equal(v, "3");
    assert_int_equal(line, 3);
    connrt_jprops_destroy(p);
}

static void parse__entries__in_file_order(void **state)
{
    connrt_jprops_t *p = parse("z=1\na=2\nm=3\n");
    const char *k;
    (void)state;
    connrt_jprops_at(p, 0, &k, NULL, NULL);
    assert_string_equal(k, "z");
    connrt_jprops_at(p, 1, &k, NULL, NULL);
    assert_string_equal(k, "a");
    connrt_jprops_at(p, 2, &k, NULL, NULL);
    assert_string_equal(k, "m");
    connrt_jprops_destroy(p);
}

static void parse__many_entries__all_kept(void **state)
{
    char *text = malloc(200000);
    size_t used = 0;
    connrt_jprops_t *p;
    char key[32];
    (void)state;
    for (int i = 0; i < 5000; i++) {
        used += (size_t)snprintf(text + used, 200000 - used, "key%d = value %d\n", i, i);
    }
    p = connrt_jprops_parse(text, used, "big", err, sizeof(err));
    assert_non_null(p);
    assert_int_equal(connrt_jprops_count(p), 5000);
    snprintf(key, sizeof(key), "key%d", 4999);
    assert_string_equal(connrt_jprops_get(p, key), "value 4999");
    connrt_jprops_destroy(p);
    free(text);
}

/* ---------------------------------------------------------------- accessors */

static void get__missing_key__null(void **state)
{
    connrt_jprops_t *p = parse("a=1\n");
    (void)state;
    assert_null(connrt_jprops_get(p, "b"));
    assert_null(connrt_jprops_get(p, NULL));
    assert_null(connrt_jprops_get(NULL, "a"));
    connrt_jprops_destroy(p);
}

static void at__out_of_range__nulls(void **state)
{
    connrt_jprops_t *p = parse("a=1\n");
    const char *k = "x", *v = "x";
    int line = 9;
    (void)state;
    connrt_jprops_at(p, 1, &k, &v, &line);
    assert_null(k);
    assert_null(v);
    assert_int_equal(line, 0);
    connrt_jprops_destroy(p);
}

static void new_empty__no_entries__keeps_filename(void **state)
{
    connrt_jprops_t *p = connrt_jprops_new_empty("/c/container.properties");
    (void)state;
    assert_int_equal(connrt_jprops_count(p), 0);
    assert_string_equal(connrt_jprops_filename(p), "/c/container.properties");
    assert_null(connrt_jprops_get(p, "a"));
    connrt_jprops_destroy(p);
    connrt_jprops_destroy(NULL);
}

static void load_file__existing_file__parsed_with_path_as_filename(void **state)
{
    char path[] = "/tmp/test_jprops_XXXXXX";
    int fd = mkstemp(path);
    connrt_jprops_t *p;
    (void)state;
    assert_true(fd >= 0);
    assert_int_equal(write(fd, "x = 1\ny=\\u12\n", 13), 13);
    close(fd);
    assert_null(connrt_jprops_load_file(path, err, sizeof(err)));
    char expected[128];
    snprintf(expected, sizeof(expected), "%s:2: malformed \\uXXXX escape", path);
    assert_string_equal(err, expected);

    fd = open(path, O_WRONLY | O_TRUNC);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, "x = 1\n", 6), 6);
    close(fd);
    p = connrt_jprops_load_file(path, err, sizeof(err));
    assert_non_null(p);
    assert_string_equal(connrt_jprops_get(p, "x"), "1");
    assert_string_equal(connrt_jprops_filename(p), path);
    connrt_jprops_destroy(p);
    unlink(path);
}

static void load_file__missing_file__error_names_path(void **state)
{
    (void)state;
    assert_null(connrt_jprops_load_file("/nonexistent/container.properties", err, sizeof(err)));
    assert_string_equal(err, "/nonexistent/container.properties: No such file or directory");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(parse__equals_with_spaces__trimmed_around_separator),
        cmocka_unit_test(parse__colon_separator__splits),
        cmocka_unit_test(parse__whitespace_separator__splits),
        cmocka_unit_test(parse__tab_and_formfeed_separators__split),
        cmocka_unit_test(parse__whitespace_then_equals__one_separator),
        cmocka_unit_test(parse__second_separator__kept_in_value),
        cmocka_unit_test(parse__separators_inside_value__kept),
        cmocka_unit_test(parse__key_without_value__empty_value),
        cmocka_unit_test(parse__separator_first__empty_key),
        cmocka_unit_test(parse__leading_whitespace__dropped_before_key),
        cmocka_unit_test(parse__escaped_spaces_in_key__part_of_key),
        cmocka_unit_test(parse__escaped_separators_in_key__part_of_key),
        cmocka_unit_test(parse__control_escapes__translated),
        cmocka_unit_test(parse__escaped_backslash__one_backslash),
        cmocka_unit_test(parse__unknown_escape__drops_backslash),
        cmocka_unit_test(parse__escaped_leading_spaces_in_value__kept),
        cmocka_unit_test(parse__unicode_escape__utf8),
        cmocka_unit_test(parse__unicode_escape_upper_hex__utf8),
        cmocka_unit_test(parse__surrogate_pair__one_utf8_code_point),
        cmocka_unit_test(parse__raw_utf8__kept_as_is),
        cmocka_unit_test(parse__malformed_unicode_escape__error_with_line),
        cmocka_unit_test(parse__short_unicode_escape__error),
        cmocka_unit_test(parse__unpaired_surrogate__error),
        cmocka_unit_test(parse__unicode_nul__error),
        cmocka_unit_test(parse__malformed_escape_on_continuation__names_physical_line),
        cmocka_unit_test(parse__trailing_whitespace__kept_in_value),
        cmocka_unit_test(parse__hash_inside_value__kept),
        cmocka_unit_test(parse__comment_lines__skipped),
        cmocka_unit_test(parse__comment_ending_in_backslash__does_not_continue),
        cmocka_unit_test(parse__blank_lines__skipped),
        cmocka_unit_test(parse__continuation__joins_and_drops_leading_whitespace),
        cmocka_unit_test(parse__continuation_over_lines__joins_all),
        cmocka_unit_test(parse__continuation_inside_key__joins_key),
        cmocka_unit_test(parse__continuation_line_starting_with_hash__not_a_comment),
        cmocka_unit_test(parse__continuation_onto_blank_line__ends_value),
        cmocka_unit_test(parse__even_backslashes_at_end__no_continuation),
        cmocka_unit_test(parse__backslash_at_end_of_file__dropped),
        cmocka_unit_test(parse__crlf_line_ends__handled),
        cmocka_unit_test(parse__cr_only_line_ends__handled),
        cmocka_unit_test(parse__no_final_newline__last_entry_kept),
        cmocka_unit_test(parse__empty_text__no_entries),
        cmocka_unit_test(parse__byte_order_mark__skipped),
        cmocka_unit_test(parse__nul_byte__error_with_line),
        cmocka_unit_test(parse__line_numbers__line_where_key_starts),
        cmocka_unit_test(parse__duplicate_key__later_value_wins),
        cmocka_unit_test(parse__entries__in_file_order),
        cmocka_unit_test(parse__many_entries__all_kept),
        cmocka_unit_test(get__missing_key__null),
        cmocka_unit_test(at__out_of_range__nulls),
        cmocka_unit_test(new_empty__no_entries__keeps_filename),
        cmocka_unit_test(load_file__existing_file__parsed_with_path_as_filename),
        cmocka_unit_test(load_file__missing_file__error_names_path),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
