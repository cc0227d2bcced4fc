/*
 * test_json_schema.c - the JSON Schema checker (operations/json_schema.c):
 * each keyword it knows, and errors that name the field (a JSON pointer)
 * and the rule.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "../../operations/formats_internal.h"

static json_t *parse(const char *text)
{
    json_error_t err;
    json_t *j = json_loads(text, JSON_DECODE_ANY, &err);

    if (j == NULL) {
        fail_msg("bad test JSON %s: %s", text, err.text);
    }
    return j;
}

/* Check `doc` against `schema`; "" when it fits, else the error. */
static const char *checked(const char *schema, const char *doc)
{
    static char errstr[512];
    json_t *s = parse(schema), *d = parse(doc);
    int rc;

    errstr[0] = '\0';
    rc = kafka_json_schema_check(s, d, errstr, sizeof(errstr));
    json_decref(s);
    json_decref(d);
    if (rc == 0) {
        return "";
    }
    assert_true(errstr[0] != '\0');
    return errstr;
}

#define ORDER                                                                                  \
    "{\"type\":\"object\",\"required\":[\"id\",\"customer\"],\"properties\":{"                \
    "\"id\":{\"type\":\"integer\",\"minimum\":1},"                                            \
    "\"customer\":{\"type\":\"object\",\"required\":[\"name\"],\"additionalProperties\":false," \
    "\"properties\":{\"name\":{\"type\":\"string\",\"minLength\":2,\"maxLength\":4},"         \
    "\"vip\":{\"type\":\"boolean\"}}},"                                                       \
    "\"lines\":{\"type\":\"array\",\"items\":{\"type\":\"object\",\"properties\":{"            \
    "\"qty\":{\"type\":\"integer\",\"exclusiveMinimum\":0,\"maximum\":100}}}},"               \
    "\"status\":{\"enum\":[\"NEW\",\"PAID\"]},"                                               \
    "\"kind\":{\"const\":\"order\"},"                                                         \
    "\"note\":{\"type\":[\"string\",\"null\"]}}}"

static void kafka_json_schema_check__fitting_document__passes(void **state)
{
    (void)state;
    assert_string_equal(checked(ORDER, "{\"id\":1,\"customer\":{\"name\":\"Zoë\",\"vip\":true},"
                                       "\"lines\":[{\"qty\":1},{\"qty\":100}],\"status\":\"PAID\","
                                       "\"kind\":\"order\",\"note\":null,\"extra\":[1]}"),
                        "");
    /* 2.0 is an integer (its fraction is zero); 2.5 is not. */
    assert_string_equal(checked(ORDER, "{\"id\":2.0,\"customer\":{\"name\":\"ab\"}}"), "");
}

static void kafka_json_schema_check__type_mismatch__names_the_field_path(void **state)
{
    (void)state;
    assert_string_equal(checked(ORDER, "{\"id\":2.5,\"customer\":{\"name\":\"ab\"}}"),
                        "field '/id': expected integer");
    assert_string_equal(checked(ORDER, "{\"id\":1,\"customer\":{\"name\":\"ab\"},"
                                       "\"lines\":[{\"qty\":1},{\"qty\":\"2\"}]}"),
                        "field '/lines/1/qty': expected integer");
    assert_string_equal(checked(ORDER, "{\"id\":1,\"customer\":{\"name\":\"ab\"},\"note\":5}"),
                        "field '/note': not one of the allowed types");
    assert_string_equal(checked(ORDER, "[]"), "field '/': expected object");
}

static void kafka_json_schema_check__required_and_additional__name_the_field(void **state)
{
    (void)state;
    assert_string_equal(checked(ORDER, "{\"id\":1}"), "field '/customer' is required but missing");
    assert_string_equal(checked(ORDER, "{\"id\":1,\"customer\":{}}"),
                        "field '/customer/name' is required but missing");
    assert_string_equal(checked(ORDER, "{\"id\":1,\"customer\":{\"name\":\"ab\",\"age\":3}}"),
                        "field '/customer/age' is not allowed (additionalProperties is false)");
}

static void kafka_json_schema_check__bounds__name_the_rule(void **state)
{
    (void)state;
    assert_string_equal(checked(ORDER, "{\"id\":0,\"customer\":{\"name\":\"ab\"}}"),
                        "field '/id': below the minimum 1");
    assert_string_equal(checked(ORDER, "{\"id\":1,\"customer\":{\"name\":\"ab\"},"
                                       "\"lines\":[{\"qty\":101}]}"),
                        "field '/lines/0/qty': above the maximum 100");
    assert_string_equal(checked(ORDER, "{\"id\":1,\"customer\":{\"name\":\"ab\"},"
                                       "\"lines\":[{\"qty\":0}]}"),
                        "field '/lines/0/qty': not above the exclusive minimum 0");
    /* Lengths count characters: "Zoë" is 3 of them in 4 bytes. */
    assert_string_equal(checked(ORDER, "{\"id\":1,\"customer\":{\"name\":\"Zoëy\"}}"), "");
    assert_string_equal(checked(ORDER, "{\"id\":1,\"customer\":{\"name\":\"Zoëys\"}}"),
                        "field '/customer/name': longer than maxLength 4");
    assert_string_equal(checked(ORDER, "{\"id\":1,\"customer\":{\"name\":\"ë\"}}"),
                        "field '/customer/name': shorter than minLength 2");
    assert_string_equal(checked("{\"exclusiveMaximum\":10}", "10"),
                        "field '/': not below the exclusive maximum 10");
}

static void kafka_json_schema_check__enum_and_const__name_the_field(void **state)
{
    (void)state;
    assert_string_equal(checked(ORDER, "{\"id\":1,\"customer\":{\"name\":\"ab\"},"
                                       "\"status\":\"LOST\"}"),
                        "field '/status': not one of the enum values");
    assert_string_equal(checked(ORDER, "{\"id\":1,\"customer\":{\"name\":\"ab\"},"
                                       "\"kind\":\"invoice\"}"),
                        "field '/kind': not the constant value");
}

static void kafka_json_schema_check__combinations__count_matches(void **state)
{
    (void)state;
    const char *one = "{\"oneOf\":[{\"type\":\"integer\"},{\"type\":\"number\",\"minimum\":5}]}";
    const char *any = "{\"anyOf\":[{\"type\":\"string\"},{\"type\":\"null\"}]}";
    const char *all = "{\"allOf\":[{\"type\":\"integer\"},{\"maximum\":3}]}";

    assert_string_equal(checked(one, "2"), "");
    assert_string_equal(checked(one, "7"), "field '/': matches 2 of oneOf (needs 1)");
    assert_string_equal(checked(one, "\"x\""), "field '/': matches 0 of oneOf (needs 1)");
    assert_string_equal(checked(any, "null"), "");
    assert_string_equal(checked(any, "1"), "field '/': matches none of anyOf");
    assert_string_equal(checked(all, "3"), "");
    assert_string_equal(checked(all, "4"), "field '/': above the maximum 3");
}

static void kafka_json_schema_check__local_ref__is_followed(void **state)
{
    (void)state;
    const char *s = "{\"definitions\":{\"line\":{\"type\":\"object\",\"required\":[\"sku\"],"
                    "\"properties\":{\"sku\":{\"type\":\"string\"}}},"
                    "\"a/b\":{\"type\":\"integer\"}},"
                    "\"type\":\"object\",\"properties\":{"
                    "\"lines\":{\"type\":\"array\",\"items\":{\"$ref\":\"#/definitions/line\"}},"
                    "\"n\":{\"$ref\":\"#/definitions/a~1b\"},"
                    "\"self\":{\"$ref\":\"#\"},"
                    "\"broken\":{\"$ref\":\"#/definitions/nothing\"},"
                    "\"remote\":{\"$ref\":\"other.json#/x\"}}}";

    assert_string_equal(checked(s, "{\"lines\":[{\"sku\":\"a\"}],\"n\":1,\"self\":{},"
                                   "\"remote\":\"anything\"}"),
                        "");
    assert_string_equal(checked(s, "{\"lines\":[{\"sku\":\"a\"},{}]}"),
                        "field '/lines/1/sku' is required but missing");
    assert_string_equal(checked(s, "{\"n\":\"x\"}"), "field '/n': expected integer");
    assert_string_equal(checked(s, "{\"self\":{\"n\":1.5}}"), "field '/self/n': expected integer");
    assert_string_equal(checked(s, "{\"broken\":1}"),
                        "field '/broken': the schema's $ref '#/definitions/nothing' points to "
                        "nothing in the schema");
}

static void kafka_json_schema_check__ref_loop__fails_without_crashing(void **state)
{
    (void)state;
    assert_string_equal(checked("{\"$ref\":\"#\"}", "1"),
                        "field '/': nested too deeply (or a $ref loop)");
}

static void kafka_json_schema_check__boolean_and_empty_schemas__accept_all(void **state)
{
    (void)state;
    assert_string_equal(checked("true", "{\"a\":1}"), "");
    assert_string_equal(checked("{}", "[1,\"x\",null]"), "");
    assert_string_equal(checked("{\"type\":\"array\",\"items\":{\"type\":\"string\"}}",
                                "[\"a\",\"b\",3]"),
                        "field '/2': expected string");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(kafka_json_schema_check__fitting_document__passes),
        cmocka_unit_test(kafka_json_schema_check__type_mismatch__names_the_field_path),
        cmocka_unit_test(kafka_json_schema_check__required_and_additional__name_the_field),
        cmocka_unit_test(kafka_json_schema_check__bounds__name_the_rule),
        cmocka_unit_test(kafka_json_schema_check__enum_and_const__name_the_field),
        cmocka_unit_test(kafka_json_schema_check__combinations__count_matches),
        cmocka_unit_test(kafka_json_schema_check__local_ref__is_followed),
        cmocka_unit_test(kafka_json_schema_check__ref_loop__fails_without_crashing),
        cmocka_unit_test(kafka_json_schema_check__boolean_and_empty_schemas__accept_all),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
