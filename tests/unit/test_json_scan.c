/* test_json_scan.c - the pointer scanner: sure only where jansson agrees. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "runtime/json_pointer.h"
#include "runtime/json_scan.h"

/* What the engine did before the scanner: jansson, then the pointer.
 * Returns the property text (caller frees) or NULL when jansson fails. */
static char *reference(const char *text, size_t len, const char *pointer)
{
    json_error_t jerr;
    json_t *root = json_loadb(text, len, JSON_DECODE_ANY | JSON_ALLOW_NUL, &jerr);
    json_t *found;
    char errstr[256];
    char *out = NULL;
    if (root == NULL) {
        return NULL;
    }
    if (connrt_json_pointer_get(root, pointer, &found, errstr, sizeof(errstr)) == 0) {
        if (json_is_string(found)) {
            out = strdup(json_string_value(found)); /* a NUL inside ends it */
        } else {
            out = connrt_json_value_text(found);
        }
    }
    json_decref(root);
    return out;
}

/* Whenever the scanner is sure, jansson gives the same text. Returns 1
 * when the scanner was sure. */
static int check_len(const char *text, size_t len, const char *pointer)
{
    const char *v;
    size_t vlen;
    if (connrt_json_scan_pointer(text, len, pointer, &v, &vlen) != 0) {
        return 0;
    }
    char *want = reference(text, len, pointer);
    if (want == NULL || strlen(want) != vlen || memcmp(want, v, vlen) != 0) {
        fprintf(stderr, "scanner sure of '%.*s' for %s in <%.*s>, jansson says %s\n", (int)vlen,
                v, pointer, (int)len, text, want ? want : "(error)");
        fail();
    }
    free(want);
    return 1;
}

static int check(const char *text, const char *pointer)
{
    return check_len(text, strlen(text), pointer);
}

static void assert_found(const char *text, const char *pointer, const char *expected)
{
    const char *v;
    size_t vlen;
    assert_int_equal(connrt_json_scan_pointer(text, strlen(text), pointer, &v, &vlen), 0);
    assert_int_equal(vlen, strlen(expected));
    assert_memory_equal(v, expected, vlen);
    assert_true(check(text, pointer));
}

static void assert_unsure(const char *text, const char *pointer)
{
    const char *v;
    size_t vlen;
    assert_int_equal(connrt_json_scan_pointer(text, strlen(text), pointer, &v, &vlen), 1);
}

static void scan_pointer__plain_values__found_as_jansson(void **state)
{
    (void)state;
    assert_found("{\"customer\":\"c-0042\",\"pad\":\"xxx\"}", "/customer", "c-0042");
    assert_found(" {\n\t\"a\" : { \"b\" : [ 1 , {\"c\":\"deep\"} ] } }\r\n", "/a/b/1/c", "deep");
    assert_found("{\"n\":-17,\"z\":0,\"t\":true,\"f\":false,\"u\":null}", "/n", "-17");
    assert_found("{\"n\":-17,\"z\":0,\"t\":true,\"f\":false,\"u\":null}", "/z", "0");
    assert_found("{\"n\":-17,\"z\":0,\"t\":true,\"f\":false,\"u\":null}", "/t", "true");
    assert_found("{\"n\":-17,\"z\":0,\"t\":true,\"f\":false,\"u\":null}", "/f", "false");
    assert_found("{\"n\":-17,\"z\":0,\"t\":true,\"f\":false,\"u\":null}", "/u", "null");
    assert_found("[\"a\",[\"b\",\"c\"]]", "/1/0", "b");
    assert_found("\"top\"", "", "top");
    assert_found("42", "", "42");
    assert_found("{\"\":\"empty key\"}", "/", "empty key");
    assert_found("{\"k\":\"\"}", "/k", "");
    assert_found("{\"k\":\"caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80\"}", "/k",
                 "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80");
}

static void scan_pointer__pointer_escapes__decoded_tokens(void **state)
{
    (void)state;
    assert_found("{\"a/b\":{\"c~d\":\"x\"}}", "/a~1b/c~0d", "x");
    assert_found("{\"~1\":\"tilde-one\"}", "/~01", "tilde-one");
    assert_unsure("{\"a\":1}", "/a~2");
    assert_unsure("{\"a\":1}", "/a~");
    assert_unsure("{\"a\":1}", "a");
}

static void scan_pointer__rest_of_text_checked__malformed_is_unsure(void **state)
{
    (void)state;
    /* The value is found early, but jansson fails the whole text. */
    assert_unsure("{\"customer\":\"c-1\",\"pad\":}", "/customer");
    assert_unsure("{\"customer\":\"c-1\",}", "/customer");
    assert_unsure("{\"customer\":\"c-1\"} x", "/customer");
    assert_unsure("{\"customer\":\"c-1\"", "/customer");
    assert_unsure("{\"customer\":\"c-1\",\"n\":01}", "/customer");
    assert_unsure("{\"customer\":\"c-1\",\"n\":1.}", "/customer");
    assert_unsure("{\"customer\":\"c-1\",\"n\":-}", "/customer");
    assert_unsure("{\"customer\":\"c-1\",\"n\":12345678901234567890}", "/customer");
    assert_unsure("{\"customer\":\"c-1\",\"n\":1e400}", "/customer");
    assert_unsure("{\"customer\":\"c-1\",\"s\":\"tab\there\"}", "/customer");
    assert_unsure("{\"customer\":\"c-1\",\"s\":\"\\x\"}", "/customer");
    assert_unsure("{\"customer\":\"c-1\",\"s\":\"\\ud800\"}", "/customer");
    assert_unsure("{\"customer\":\"c-1\",\"s\":\"\\udc00\"}", "/customer");
    assert_unsure("{\"customer\":\"c-1\",\"s\":\"\xc0\xaf\"}", "/customer");
    assert_unsure("{\"customer\":\"c-1\",\"s\":\"\xed\xa0\x80\"}", "/customer");
    assert_unsure("{\"customer\":\"c-1\",\"s\":\"\xe2\x82\"}", "/customer");
    assert_unsure("{\"customer\":\"c-1\",\"\\u0000\":1}", "/customer");
    assert_unsure("{\"customer\":\"c-1\",\"t\":tru}", "/customer");
    assert_unsure("{\"customer\":\"c-1\",\"t\":truex}", "/customer");
    assert_unsure("", "");
    assert_unsure("   ", "");
    /* Elsewhere in the text, valid escapes and reals are fine. */
    assert_found("{\"customer\":\"c-1\",\"s\":\"\\ud83d\\ude00 \\\"q\\\" \\u0000\",\"r\":-1.5e-3}",
                 "/customer", "c-1");
}

static void scan_pointer__embedded_nul_byte__unsure(void **state)
{
    (void)state;
    const char text[] = "{\"k\":\"a\0b\"}";
    const char *v;
    size_t vlen;
    assert_int_equal(connrt_json_scan_pointer(text, sizeof(text) - 1, "/k", &v, &vlen), 1);
    const char after[] = "{\"k\":\"a\"}\0";
    assert_int_equal(connrt_json_scan_pointer(after, sizeof(after) - 1, "/k", &v, &vlen), 1);
}

static void scan_pointer__duplicate_key_on_path__left_to_jansson(void **state)
{
    (void)state;
    /* jansson keeps the last duplicate: the scanner must not pick the first. */
    assert_unsure("{\"k\":\"first\",\"k\":\"last\"}", "/k");
    assert_unsure("{\"a\":{\"b\":\"x\"},\"a\":5}", "/a/b");
    assert_unsure("{\"a\":{\"b\":\"x\",\"b\":\"y\"}}", "/a/b");
    /* Off the path, duplicates do not matter. */
    assert_found("{\"o\":{\"k\":1,\"k\":2},\"k\":\"only\"}", "/k", "only");
    const char *dup = "{\"k\":\"first\",\"k\":\"last\"}";
    char *want = reference(dup, strlen(dup), "/k");
    assert_string_equal(want, "last");
    free(want);
}

static void scan_pointer__escaped_key_on_path__left_to_jansson(void **state)
{
    (void)state;
    /* "\u0063ustomer" is "customer": a later match the scanner cannot see. */
    assert_unsure("{\"customer\":\"a\",\"\\u0063ustomer\":\"b\"}", "/customer");
    assert_unsure("{\"\\u0063ustomer\":\"b\"}", "/customer");
    assert_unsure("{\"k\\\"l\":6}", "/k\"l");
    /* Escaped keys below the path level are only validated. */
    assert_found("{\"x\":{\"\\u0063\":1},\"k\":\"v\"}", "/k", "v");
}

static void scan_pointer__values_jansson_rewrites__unsure(void **state)
{
    (void)state;
    assert_unsure("{\"k\":\"a\\nb\"}", "/k");     /* escapes decoded */
    assert_unsure("{\"k\":\"a\\u0000b\"}", "/k"); /* NUL ends the property */
    assert_unsure("{\"k\":1.50}", "/k");           /* jansson prints reals its way */
    assert_unsure("{\"k\":1e2}", "/k");
    assert_unsure("{\"k\":-0}", "/k");             /* the integer 0 */
    assert_unsure("{\"k\":{\"a\": 1}}", "/k");     /* objects are re-serialised */
    assert_unsure("{\"k\":[1, 2]}", "/k");
}

static void scan_pointer__missing_or_wrong_type__unsure(void **state)
{
    (void)state;
    assert_unsure("{\"a\":1}", "/b");
    assert_unsure("{\"a\":1}", "/a/b");
    assert_unsure("{\"a\":\"s\"}", "/a/0");
    assert_unsure("[1,2]", "/2");
    assert_unsure("[1,2]", "/01");
    assert_unsure("[1,2]", "/-");
    assert_unsure("[1,2]", "/x");
    assert_unsure("[]", "/0");
    assert_unsure("{}", "/a");
}

static void scan_pointer__deep_nesting__unsure_not_crash(void **state)
{
    (void)state;
    size_t depth = 5000;
    char *text = malloc(2 * depth + 1);
    assert_non_null(text);
    memset(text, '[', depth);
    memset(text + depth, ']', depth);
    text[2 * depth] = '\0';
    assert_unsure(text, "/0");
    free(text);
    assert_found("[[[[[[[[[[\"ten\"]]]]]]]]]]", "/0/0/0/0/0/0/0/0/0/0", "ten");
}

/* A small deterministic generator, so that a failure can be replayed. */
static uint32_t next_random(uint32_t *state)
{
    *state ^= *state << 13;
    *state ^= *state >> 17;
    *state ^= *state << 5;
    return *state;
}

static void scan_pointer__random_mutations__sure_only_when_jansson_agrees(void **state)
{
    (void)state;
    static const char *const seeds[] = {
        "{\"customer\":\"c-0042\",\"pad\":\"xxxxxxxx\"}",
        "{\"a\":{\"b\":[1,{\"c\":\"d\"},-2,true,null]},\"e\":\"\\u00e9\\ud83d\\ude00\"}",
        "[\"x\",{\"customer\":7},[0.5e-3,\"caf\xc3\xa9\"]]",
        "{\"customer\":{\"id\":\"k\"},\"customer2\":false}",
    };
    static const char *const pointers[] = {"/customer", "/a/b/1/c", "/1/customer",
                                           "/customer/id", "/e", "", "/0", "/a/b/0"};
    static const char alphabet[] = "{}[]\":,\\/u0123456789abcdefeE+-.tnrl x\t\n\xc3\xa9\xed\xf0";
    uint32_t rnd = 0x9e3779b9u;
    char buf[256];
    int sure = 0;
    for (int iter = 0; iter < 200000; iter++) {
        const char *seed = seeds[next_random(&rnd) % (sizeof(seeds) / sizeof(seeds[0]))];
        size_t len = strlen(seed);
        memcpy(buf, seed, len);
        int edits = 1 + (int)(next_random(&rnd) % 3);
        for (int k = 0; k < edits && len > 0 && len < sizeof(buf) - 1; k++) {
            size_t at = next_random(&rnd) % len;
            char c = alphabet[next_random(&rnd) % (sizeof(alphabet) - 1)];
            switch (next_random(&rnd) % 3) {
            case 0: /* replace */
                buf[at] = c;
                break;
            case 1: /* insert */
                memmove(buf + at + 1, buf + at, len - at);
                buf[at] = c;
                len++;
                break;
            default: /* delete */
                memmove(buf + at, buf + at + 1, len - at - 1);
                len--;
                break;
            }
        }
        const char *pointer = pointers[next_random(&rnd) % (sizeof(pointers) / sizeof(pointers[0]))];
        sure += check_len(buf, len, pointer);
    }
    /* The mutations leave many texts valid: the scanner answers some. */
    assert_true(sure > 1000);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(scan_pointer__plain_values__found_as_jansson),
        cmocka_unit_test(scan_pointer__pointer_escapes__decoded_tokens),
        cmocka_unit_test(scan_pointer__rest_of_text_checked__malformed_is_unsure),
        cmocka_unit_test(scan_pointer__embedded_nul_byte__unsure),
        cmocka_unit_test(scan_pointer__duplicate_key_on_path__left_to_jansson),
        cmocka_unit_test(scan_pointer__escaped_key_on_path__left_to_jansson),
        cmocka_unit_test(scan_pointer__values_jansson_rewrites__unsure),
        cmocka_unit_test(scan_pointer__missing_or_wrong_type__unsure),
        cmocka_unit_test(scan_pointer__deep_nesting__unsure_not_crash),
        cmocka_unit_test(scan_pointer__random_mutations__sure_only_when_jansson_agrees),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
