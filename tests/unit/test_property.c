/*
 * test_property.c - checking values against property table rows.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <limits.h>
#include <string.h>

#include "properties/property.h"

static const char *const acks_allowed[] = {"all", "1", "0", NULL};

static const struct connrt_property_def table[] = {
    {"topic", CONNRT_PROP_LIST, 0, NULL, NULL, 0, 0, "topics", NULL},
    {"linger_ms", CONNRT_PROP_INT, 0, "5", NULL, 0, 900000, "linger", NULL},
    {"retries", CONNRT_PROP_INT, 0, "3", NULL, 0, 0, "unbounded int", NULL},
    {"idempotence", CONNRT_PROP_BOOL, 0, "true", NULL, 0, 0, "idempotent", NULL},
    {"max_bytes", CONNRT_PROP_SIZE, 0, "1MB", NULL, 1, 1024LL * 1024 * 1024, "size", NULL},
    {"timeout", CONNRT_PROP_DURATION_MS, 0, "30s", NULL, 1, 3600000, "duration", NULL},
    {"acks", CONNRT_PROP_ENUM, 0, "all", acks_allowed, 0, 0, "acks", NULL},
    {"ssl_ca", CONNRT_PROP_PEM, 0, NULL, NULL, 0, 0, "CA", NULL},
    {"ssl_key", CONNRT_PROP_PEM, CONNRT_PROP_F_SECRET, NULL, NULL, 0, 0, "key", NULL},
    {"password", CONNRT_PROP_INT, CONNRT_PROP_F_SECRET, NULL, NULL, 0, 10, "secret int", NULL},
    {"bootstrap_servers", CONNRT_PROP_LIST, CONNRT_PROP_F_REQUIRED, NULL, NULL, 0, 0, "b", NULL},
    {"header.", CONNRT_PROP_PREFIX, 0, NULL, NULL, 0, 0, "static headers", NULL},
    {"header.x-", CONNRT_PROP_PREFIX, 0, NULL, NULL, 0, 0, "x headers", NULL},
    {"sasl.jaas.config", CONNRT_PROP_STRING, CONNRT_PROP_F_INVALID, NULL, NULL, 0, 0, "Java only",
     "use sasl_mechanism, username and password"},
    {"client_id", CONNRT_PROP_STRING, 0, "connrt", NULL, 0, 0, "client id", NULL},
    {NULL, 0, 0, NULL, NULL, 0, 0, NULL, NULL}};

static const struct connrt_property_def *row(const char *name)
{
    const struct connrt_property_def *d = connrt_property_find(table, name);
    assert_non_null(d);
    return d;
}

/* check() a value; returns the result and leaves the message in errbuf. */
static char errbuf[512];

static int check(const char *name, const char *value)
{
    errbuf[0] = '\0';
    return connrt_property_check(row(name), value, errbuf, sizeof(errbuf));
}

/* ---------------------------------------------------------------- find */

static void find__exact_name__returns_row(void **state)
{
    (void)state;
    assert_string_equal(connrt_property_find(table, "linger_ms")->name, "linger_ms");
}

static void find__unknown_name__returns_null(void **state)
{
    (void)state;
    assert_null(connrt_property_find(table, "lingerms"));
    assert_null(connrt_property_find(table, ""));
    assert_null(connrt_property_find(NULL, "topic"));
    assert_null(connrt_property_find(table, NULL));
}

static void find__prefixed_name__returns_prefix_row(void **state)
{
    (void)state;
    assert_string_equal(connrt_property_find(table, "header.trace-id")->name, "header.");
}

static void find__two_prefixes_match__longest_wins(void **state)
{
    (void)state;
    assert_string_equal(connrt_property_find(table, "header.x-trace")->name, "header.x-");
}

static void find__invalid_row__is_found(void **state)
{
    (void)state;
    /* So that the caller can refuse it with its hint rather than "unknown". */
    assert_int_equal(connrt_property_find(table, "sasl.jaas.config")->flags,
                     CONNRT_PROP_F_INVALID);
}

/* ---------------------------------------------------------------- parse_int */

static long long parsed(connrt_property_type_t type, const char *value)
{
    long long n = -12345;
    assert_int_equal(connrt_property_parse_int(type, value, &n), 0);
    return n;
}

static void parse_int__decimal__parses(void **state)
{
    (void)state;
    assert_int_equal(parsed(CONNRT_PROP_INT, "42"), 42);
    assert_int_equal(parsed(CONNRT_PROP_INT, "-7"), -7);
    assert_int_equal(parsed(CONNRT_PROP_INT, "+7"), 7);
    assert_int_equal(parsed(CONNRT_PROP_INT, " 3 "), 3);
    assert_true(parsed(CONNRT_PROP_INT, "9223372036854775807") == LLONG_MAX);
    assert_true(parsed(CONNRT_PROP_INT, "-9223372036854775808") == LLONG_MIN);
}

static void parse_int__not_a_number__fails(void **state)
{
    long long n;
    (void)state;
    assert_int_equal(connrt_property_parse_int(CONNRT_PROP_INT, "abc", &n), -1);
    assert_int_equal(connrt_property_parse_int(CONNRT_PROP_INT, "", &n), -1);
    assert_int_equal(connrt_property_parse_int(CONNRT_PROP_INT, "12x", &n), -1);
    assert_int_equal(connrt_property_parse_int(CONNRT_PROP_INT, "1.5", &n), -1);
    assert_int_equal(connrt_property_parse_int(CONNRT_PROP_INT, "-", &n), -1);
    assert_int_equal(connrt_property_parse_int(CONNRT_PROP_INT, "9223372036854775808", &n), -1);
    assert_int_equal(connrt_property_parse_int(CONNRT_PROP_INT, NULL, &n), -1);
    assert_int_equal(connrt_property_parse_int(CONNRT_PROP_STRING, "1", &n), -1);
}

static void parse_int__size_suffixes__are_1024_based(void **state)
{
    (void)state;
    assert_int_equal(parsed(CONNRT_PROP_SIZE, "10485760"), 10485760);
    assert_int_equal(parsed(CONNRT_PROP_SIZE, "1KB"), 1024);
    assert_int_equal(parsed(CONNRT_PROP_SIZE, "10MB"), 10485760);
    assert_int_equal(parsed(CONNRT_PROP_SIZE, "2 GB"), 2LL * 1024 * 1024 * 1024);
    assert_int_equal(parsed(CONNRT_PROP_SIZE, "3kb"), 3072);
    assert_int_equal(parsed(CONNRT_PROP_SIZE, "5B"), 5);
}

static void parse_int__bad_size__fails(void **state)
{
    long long n;
    (void)state;
    assert_int_equal(connrt_property_parse_int(CONNRT_PROP_SIZE, "-1", &n), -1);
    assert_int_equal(connrt_property_parse_int(CONNRT_PROP_SIZE, "1TB", &n), -1);
    assert_int_equal(connrt_property_parse_int(CONNRT_PROP_SIZE, "MB", &n), -1);
    assert_int_equal(connrt_property_parse_int(CONNRT_PROP_SIZE, "9000000000GB", &n), -1);
}

static void parse_int__duration_suffixes__give_milliseconds(void **state)
{
    (void)state;
    assert_int_equal(parsed(CONNRT_PROP_DURATION_MS, "250"), 250);
    assert_int_equal(parsed(CONNRT_PROP_DURATION_MS, "250ms"), 250);
    assert_int_equal(parsed(CONNRT_PROP_DURATION_MS, "30s"), 30000);
    assert_int_equal(parsed(CONNRT_PROP_DURATION_MS, "5m"), 300000);
    assert_int_equal(parsed(CONNRT_PROP_DURATION_MS, "2h"), 7200000);
}

static void parse_int__bad_duration__fails(void **state)
{
    long long n;
    (void)state;
    assert_int_equal(connrt_property_parse_int(CONNRT_PROP_DURATION_MS, "5d", &n), -1);
    assert_int_equal(connrt_property_parse_int(CONNRT_PROP_DURATION_MS, "s", &n), -1);
    assert_int_equal(connrt_property_parse_int(CONNRT_PROP_DURATION_MS, "-5s", &n), -1);
}

static void parse_int__bool_words__give_1_or_0(void **state)
{
    (void)state;
    assert_int_equal(parsed(CONNRT_PROP_BOOL, "true"), 1);
    assert_int_equal(parsed(CONNRT_PROP_BOOL, "YES"), 1);
    assert_int_equal(parsed(CONNRT_PROP_BOOL, "On"), 1);
    assert_int_equal(parsed(CONNRT_PROP_BOOL, "1"), 1);
    assert_int_equal(parsed(CONNRT_PROP_BOOL, "False"), 0);
    assert_int_equal(parsed(CONNRT_PROP_BOOL, "no"), 0);
    assert_int_equal(parsed(CONNRT_PROP_BOOL, "OFF"), 0);
    assert_int_equal(parsed(CONNRT_PROP_BOOL, "0"), 0);
}

static void parse_int__bad_bool__fails(void **state)
{
    long long n;
    (void)state;
    assert_int_equal(connrt_property_parse_int(CONNRT_PROP_BOOL, "2", &n), -1);
    assert_int_equal(connrt_property_parse_int(CONNRT_PROP_BOOL, "truth", &n), -1);
    assert_int_equal(connrt_property_parse_int(CONNRT_PROP_BOOL, "", &n), -1);
}

/* ---------------------------------------------------------------- check */

static void check__int_in_bounds__accepted(void **state)
{
    (void)state;
    assert_int_equal(check("linger_ms", "0"), 0);
    assert_int_equal(check("linger_ms", "900000"), 0);
}

static void check__int_not_a_number__names_property_bounds_and_value(void **state)
{
    (void)state;
    assert_int_equal(check("linger_ms", "abc"), -1);
    assert_string_equal(errbuf,
                        "property 'linger_ms': expected an integer between 0 and 900000, "
                        "got 'abc'");
}

static void check__int_out_of_bounds__refused(void **state)
{
    (void)state;
    assert_int_equal(check("linger_ms", "900001"), -1);
    assert_non_null(strstr(errbuf, "got '900001'"));
    assert_int_equal(check("linger_ms", "-1"), -1);
}

static void check__int_without_bounds__accepts_any_integer(void **state)
{
    (void)state;
    assert_int_equal(check("retries", "-1000000"), 0);
    assert_int_equal(check("retries", "x"), -1);
    assert_string_equal(errbuf, "property 'retries': expected an integer, got 'x'");
}

static void check__bool__accepts_words_refuses_others(void **state)
{
    (void)state;
    assert_int_equal(check("idempotence", "yes"), 0);
    assert_int_equal(check("idempotence", "FALSE"), 0);
    assert_int_equal(check("idempotence", "maybe"), -1);
    assert_non_null(strstr(errbuf, "property 'idempotence': expected true or false"));
    assert_non_null(strstr(errbuf, "got 'maybe'"));
}

static void check__size__suffix_and_bounds(void **state)
{
    (void)state;
    assert_int_equal(check("max_bytes", "10MB"), 0);
    assert_int_equal(check("max_bytes", "1GB"), 0);
    assert_int_equal(check("max_bytes", "2GB"), -1);
    assert_non_null(strstr(errbuf, "between 1 and 1073741824"));
    assert_int_equal(check("max_bytes", "0"), -1);
    assert_int_equal(check("max_bytes", "ten"), -1);
    assert_non_null(strstr(errbuf, "expected a size in bytes"));
}

static void check__duration__suffix_and_bounds(void **state)
{
    (void)state;
    assert_int_equal(check("timeout", "1h"), 0);
    assert_int_equal(check("timeout", "2h"), -1);
    assert_non_null(strstr(errbuf, "property 'timeout': expected a duration"));
    assert_non_null(strstr(errbuf, "got '2h'"));
}

static void check__enum_allowed__accepted(void **state)
{
    (void)state;
    assert_int_equal(check("acks", "all"), 0);
    assert_int_equal(check("acks", "0"), 0);
}

static void check__enum_not_allowed__lists_allowed_values(void **state)
{
    (void)state;
    assert_int_equal(check("acks", "ALL"), -1);
    assert_string_equal(errbuf, "property 'acks': expected one of all, 1, 0, got 'ALL'");
}

static void check__list__accepts_comma_and_newline_items(void **state)
{
    (void)state;
    assert_int_equal(check("topic", "a"), 0);
    assert_int_equal(check("topic", "a,b, c"), 0);
    assert_int_equal(check("topic", "\n    a\n    b\n  "), 0);
    assert_int_equal(check("topic", "a\r\nb\r\n"), 0);
}

static void check__list_with_empty_item__refused(void **state)
{
    (void)state;
    assert_int_equal(check("topic", "a,,b"), -1);
    assert_non_null(strstr(errbuf, "property 'topic': expected a comma or newline"));
    assert_int_equal(check("topic", ""), -1);
    assert_int_equal(check("topic", " , "), -1);
    assert_int_equal(check("topic", "a,"), -1);
    assert_int_equal(check("topic", "a\n\nb"), -1);
}

static void check__pem_path_or_inline__accepted(void **state)
{
    (void)state;
    assert_int_equal(check("ssl_ca", "/etc/ssl/ca.pem"), 0);
    assert_int_equal(check("ssl_ca", "-----BEGIN CERTIFICATE-----\nMIIB\n"
                                     "-----END CERTIFICATE-----\n"),
                     0);
}

static void check__pem_multiline_without_begin__refused(void **state)
{
    (void)state;
    assert_int_equal(check("ssl_ca", "MIIB\nAAAA\n"), -1);
    assert_non_null(strstr(errbuf, "expected a file path or inline PEM text"));
    assert_int_equal(check("ssl_ca", ""), -1);
    assert_int_equal(check("ssl_ca", "-----BEGIN CERTIFICATE-----\nMIIB\n"), -1);
}

static void check__secret_value__never_echoed(void **state)
{
    (void)state;
    assert_int_equal(check("password", "hunter2"), -1);
    assert_null(strstr(errbuf, "hunter2"));
    assert_non_null(strstr(errbuf, "property 'password'"));
    assert_int_equal(check("ssl_key", "SECRETKEYBYTES\nMORE"), -1);
    assert_null(strstr(errbuf, "SECRETKEYBYTES"));
}

static void check__invalid_row__refused_with_hint(void **state)
{
    (void)state;
    assert_int_equal(check("sasl.jaas.config", "org.apache...;"), -1);
    assert_string_equal(errbuf, "property 'sasl.jaas.config' is not supported: use "
                                "sasl_mechanism, username and password");
}

static void check__required_empty__refused(void **state)
{
    (void)state;
    assert_int_equal(check("bootstrap_servers", ""), -1);
    assert_string_equal(errbuf, "property 'bootstrap_servers': a value is required");
}

static void check__string_and_prefix__accept_anything(void **state)
{
    (void)state;
    assert_int_equal(check("client_id", ""), 0);
    assert_int_equal(check("header.", "anything at all"), 0);
}

static void check__long_value__quoted_cut(void **state)
{
    char value[300];
    (void)state;
    memset(value, 'x', sizeof(value) - 1);
    value[sizeof(value) - 1] = '\0';
    assert_int_equal(check("linger_ms", value), -1);
    assert_non_null(strstr(errbuf, "...'"));
    assert_true(strlen(errbuf) < 200);
}

static void check__null_row_or_value__refused(void **state)
{
    char err[128];
    (void)state;
    assert_int_equal(connrt_property_check(NULL, "x", err, sizeof(err)), -1);
    assert_int_equal(connrt_property_check(row("client_id"), NULL, err, sizeof(err)), -1);
    assert_string_equal(err, "property 'client_id': no value");
}

static void check_named__prefix_row__names_full_property(void **state)
{
    static const struct connrt_property_def num_prefix[] = {
        {"limit.", CONNRT_PROP_INT, 0, NULL, NULL, 1, 9, "limits", NULL},
        {NULL, 0, 0, NULL, NULL, 0, 0, NULL, NULL}};
    char err[256];
    (void)state;
    assert_int_equal(connrt_property_check_named(&num_prefix[0], "limit.cpu", "12", err,
                                                 sizeof(err)),
                     -1);
    assert_string_equal(err, "property 'limit.cpu': expected an integer between 1 and 9, "
                             "got '12'");
}

/* ---------------------------------------------------------------- suggest */

static void suggest__typo__closest_name(void **state)
{
    (void)state;
    assert_string_equal(connrt_property_suggest(table, "linger.ms"), "linger_ms");
    assert_string_equal(connrt_property_suggest(table, "lingerms"), "linger_ms");
    assert_string_equal(connrt_property_suggest(table, "Topic"), "topic");
    assert_string_equal(connrt_property_suggest(table, "clientid"), "client_id");
}

static void suggest__prefix__completes_name(void **state)
{
    (void)state;
    assert_string_equal(connrt_property_suggest(table, "bootstrap"), "bootstrap_servers");
    assert_string_equal(connrt_property_suggest(table, "bootstrap_servers_list"),
                        "bootstrap_servers");
}

static void suggest__nothing_close__null(void **state)
{
    (void)state;
    assert_null(connrt_property_suggest(table, "zzzzzzzzzz"));
    assert_null(connrt_property_suggest(table, "q"));
    assert_null(connrt_property_suggest(NULL, "topic"));
}

static void suggest__invalid_rows__never_suggested(void **state)
{
    (void)state;
    const char *s = connrt_property_suggest(table, "sasl.jaas.confi");
    assert_true(s == NULL || strcmp(s, "sasl.jaas.config") != 0);
}

/* ---------------------------------------------------------------- type_name */

static void type_name__every_type__has_a_name(void **state)
{
    (void)state;
    assert_string_equal(connrt_property_type_name(CONNRT_PROP_STRING), "string");
    assert_string_equal(connrt_property_type_name(CONNRT_PROP_INT), "integer");
    assert_string_equal(connrt_property_type_name(CONNRT_PROP_BOOL), "boolean");
    assert_string_equal(connrt_property_type_name(CONNRT_PROP_SIZE), "size");
    assert_string_equal(connrt_property_type_name(CONNRT_PROP_DURATION_MS), "duration");
    assert_string_equal(connrt_property_type_name(CONNRT_PROP_ENUM), "enum");
    assert_string_equal(connrt_property_type_name(CONNRT_PROP_LIST), "list");
    assert_string_equal(connrt_property_type_name(CONNRT_PROP_PEM), "pem");
    assert_string_equal(connrt_property_type_name(CONNRT_PROP_PREFIX), "prefix");
    assert_string_equal(connrt_property_type_name((connrt_property_type_t)99), "unknown");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(find__exact_name__returns_row),
        cmocka_unit_test(find__unknown_name__returns_null),
        cmocka_unit_test(find__prefixed_name__returns_prefix_row),
        cmocka_unit_test(find__two_prefixes_match__longest_wins),
        cmocka_unit_test(find__invalid_row__is_found),
        cmocka_unit_test(parse_int__decimal__parses),
        cmocka_unit_test(parse_int__not_a_number__fails),
        cmocka_unit_test(parse_int__size_suffixes__are_1024_based),
        cmocka_unit_test(parse_int__bad_size__fails),
        cmocka_unit_test(parse_int__duration_suffixes__give_milliseconds),
        cmocka_unit_test(parse_int__bad_duration__fails),
        cmocka_unit_test(parse_int__bool_words__give_1_or_0),
        cmocka_unit_test(parse_int__bad_bool__fails),
        cmocka_unit_test(check__int_in_bounds__accepted),
        cmocka_unit_test(check__int_not_a_number__names_property_bounds_and_value),
        cmocka_unit_test(check__int_out_of_bounds__refused),
        cmocka_unit_test(check__int_without_bounds__accepts_any_integer),
        cmocka_unit_test(check__bool__accepts_words_refuses_others),
        cmocka_unit_test(check__size__suffix_and_bounds),
        cmocka_unit_test(check__duration__suffix_and_bounds),
        cmocka_unit_test(check__enum_allowed__accepted),
        cmocka_unit_test(check__enum_not_allowed__lists_allowed_values),
        cmocka_unit_test(check__list__accepts_comma_and_newline_items),
        cmocka_unit_test(check__list_with_empty_item__refused),
        cmocka_unit_test(check__pem_path_or_inline__accepted),
        cmocka_unit_test(check__pem_multiline_without_begin__refused),
        cmocka_unit_test(check__secret_value__never_echoed),
        cmocka_unit_test(check__invalid_row__refused_with_hint),
        cmocka_unit_test(check__required_empty__refused),
        cmocka_unit_test(check__string_and_prefix__accept_anything),
        cmocka_unit_test(check__long_value__quoted_cut),
        cmocka_unit_test(check__null_row_or_value__refused),
        cmocka_unit_test(check_named__prefix_row__names_full_property),
        cmocka_unit_test(suggest__typo__closest_name),
        cmocka_unit_test(suggest__prefix__completes_name),
        cmocka_unit_test(suggest__nothing_close__null),
        cmocka_unit_test(suggest__invalid_rows__never_suggested),
        cmocka_unit_test(type_name__every_type__has_a_name),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
