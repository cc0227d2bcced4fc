/* test_json_pointer.c - RFC 6901 evaluation and property text of JSON values. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "runtime/json_pointer.h"

/* The example document of RFC 6901 section 5. */
static const char rfc_doc[] = "{\"foo\": [\"bar\", \"baz\"], \"\": 0, \"a/b\": 1, \"c%d\": 2, "
                              "\"e^f\": 3, \"g|h\": 4, \"i\\\\j\": 5, \"k\\\"l\": 6, \" \": 7, "
                              "\"m~n\": 8}";

static json_t *load(const char *text)
{
    json_error_t err;
    json_t *root = json_loads(text, JSON_DECODE_ANY, &err);
    assert_non_null(root);
    return root;
}

/* Text of the value at `pointer`, or the error message; caller frees. */
static char *eval(const char *text, const char *pointer, int *rc)
{
    json_t *root = load(text);
    json_t *found = NULL;
    char errstr[256] = "";
    *rc = connrt_json_pointer_get(root, pointer, &found, errstr, sizeof(errstr));
    char *out = *rc == 0 ? connrt_json_value_text(found) : strdup(errstr);
    json_decref(root);
    return out;
}

static void assert_eval(const char *text, const char *pointer, const char *expected)
{
    int rc;
    char *got = eval(text, pointer, &rc);
    assert_int_equal(rc, 0);
    assert_string_equal(got, expected);
    free(got);
}

static void assert_eval_error(const char *text, const char *pointer, const char *expected)
{
    int rc;
    char *got = eval(text, pointer, &rc);
    assert_int_equal(rc, -1);
    assert_string_equal(got, expected);
    free(got);
}

static void pointer_get__rfc6901_examples__each_resolves(void **state)
{
    (void)state;
    assert_eval(rfc_doc, "/foo", "[\"bar\",\"baz\"]");
    assert_eval(rfc_doc, "/foo/0", "bar");
    assert_eval(rfc_doc, "/", "0");
    assert_eval(rfc_doc, "/a~1b", "1");
    assert_eval(rfc_doc, "/c%d", "2");
    assert_eval(rfc_doc, "/e^f", "3");
    assert_eval(rfc_doc, "/g|h", "4");
    assert_eval(rfc_doc, "/i\\j", "5");
    assert_eval(rfc_doc, "/k\"l", "6");
    assert_eval(rfc_doc, "/ ", "7");
    assert_eval(rfc_doc, "/m~0n", "8");
}

static void pointer_get__empty_pointer__whole_document(void **state)
{
    (void)state;
    assert_eval("{\"a\":1}", "", "{\"a\":1}");
    assert_eval("\"just text\"", "", "just text");
}

static void pointer_get__escape_order__tilde01_is_tilde_then_1(void **state)
{
    (void)state;
    /* "~01" decodes to "~1", not "/" (RFC 6901 section 4). */
    assert_eval("{\"~1\": \"tilde-one\", \"/\": \"slash\"}", "/~01", "tilde-one");
}

static void value_text__non_strings__compact_json(void **state)
{
    (void)state;
    assert_eval("{\"c\":{\"id\": 7, \"tags\": [1, 2]}}", "/c", "{\"id\":7,\"tags\":[1,2]}");
    assert_eval("{\"n\": 12.5}", "/n", "12.5");
    assert_eval("{\"n\": null}", "/n", "null");
    assert_eval("{\"b\": true}", "/b", "true");
    assert_eval("{\"s\": \"with \\\"quotes\\\" and \\u00e9\"}", "/s",
                "with \"quotes\" and \xc3\xa9");
}

static void pointer_get__missing_member__names_member_and_parent(void **state)
{
    (void)state;
    assert_eval_error("{\"customer\": {\"name\": \"x\"}}", "/customer/id",
                      "no member 'id' under '/customer'");
    assert_eval_error("{}", "/customer", "no member 'customer' under the top level");
}

static void pointer_get__array_index_errors__explained(void **state)
{
    (void)state;
    assert_eval_error("{\"items\": [1, 2]}", "/items/2",
                      "index 2 out of range under '/items' (2 elements)");
    assert_eval_error("{\"items\": [1, 2]}", "/items/01",
                      "'01' is not an array index under '/items'");
    assert_eval_error("{\"items\": [1, 2]}", "/items/-",
                      "'-' is not an array index under '/items'");
    assert_eval("{\"items\": [1, {\"k\": \"v\"}]}", "/items/1/k", "v");
}

static void pointer_get__into_scalar__explained(void **state)
{
    (void)state;
    assert_eval_error("{\"customer\": \"acme\"}", "/customer/id",
                      "'/customer' is a string, not an object or array (looking for 'id')");
}

static void pointer_get__bad_syntax__refused(void **state)
{
    (void)state;
    assert_eval_error("{}", "customer",
                      "invalid JSON pointer: it must be empty or start with '/'");
    assert_eval_error("{\"a\":1}", "/a~2", "invalid escape '~2' (only ~0 and ~1 exist)");
    assert_eval_error("{\"a\":1}", "/a~",
                      "invalid escape: '~' at the end of a token (only ~0 and ~1 exist)");
    json_t *root = load("{}");
    json_t *found;
    char errstr[128];
    assert_int_equal(connrt_json_pointer_get(root, NULL, &found, errstr, sizeof(errstr)), -1);
    json_decref(root);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(pointer_get__rfc6901_examples__each_resolves),
        cmocka_unit_test(pointer_get__empty_pointer__whole_document),
        cmocka_unit_test(pointer_get__escape_order__tilde01_is_tilde_then_1),
        cmocka_unit_test(value_text__non_strings__compact_json),
        cmocka_unit_test(pointer_get__missing_member__names_member_and_parent),
        cmocka_unit_test(pointer_get__array_index_errors__explained),
        cmocka_unit_test(pointer_get__into_scalar__explained),
        cmocka_unit_test(pointer_get__bad_syntax__refused),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
