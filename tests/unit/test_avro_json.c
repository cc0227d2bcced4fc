/*
 * test_avro_json.c - Avro binary <-> JSON documents (operations/avro_json.c):
 * round trips of every Avro type, field defaults, and the errors that name
 * the field (a JSON pointer) when a document does not fit its schema.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "../../operations/formats_internal.h"

/* One schema, parsed as formats.c parses a registry's. */
struct schema {
    avro_schema_t avro;
    avro_value_iface_t *iface;
    json_t *defaults;
};

static struct schema schema_of(const char *text)
{
    struct schema s;

    assert_int_equal(avro_schema_from_json_length(text, strlen(text), &s.avro), 0);
    s.iface = avro_generic_class_from_schema(s.avro);
    assert_non_null(s.iface);
    s.defaults = kafka_avro_defaults(text);
    assert_non_null(s.defaults);
    return s;
}

static void schema_free(struct schema *s)
{
    avro_value_iface_decref(s->iface);
    avro_schema_decref(s->avro);
    json_decref(s->defaults);
}

static json_t *parse(const char *text)
{
    json_error_t err;
    json_t *j = json_loads(text, JSON_DECODE_ANY | JSON_ALLOW_NUL, &err);

    if (j == NULL) {
        fail_msg("bad test JSON %s: %s", text, err.text);
    }
    return j;
}

/* Encode `doc` (after a 5-byte header); NULL with errstr on a misfit. */
static void *encode(struct schema *s, const char *doc, size_t *len, char *errstr,
                    size_t errstr_size)
{
    static const unsigned char header[5] = {0, 0, 0, 0, 7};
    json_t *j = parse(doc);
    void *out = kafka_json_to_avro(s->iface, s->defaults, j, header, sizeof(header), len, errstr,
                                   errstr_size);

    json_decref(j);
    if (out != NULL) {
        assert_memory_equal(out, header, sizeof(header));
    }
    return out;
}

/* Encode `doc`, decode it again, and compare with `want` (JSON text). */
static void assert_round_trip(const char *schema_text, const char *doc, const char *want)
{
    struct schema s = schema_of(schema_text);
    char errstr[512] = "";
    size_t len = 0;
    unsigned char *bin = encode(&s, doc, &len, errstr, sizeof(errstr));
    json_t *got, *expected = parse(want);

    if (bin == NULL) {
        fail_msg("%s does not encode: %s", doc, errstr);
    }
    got = kafka_avro_to_json(s.avro, s.iface, bin + 5, len - 5, errstr, sizeof(errstr));
    if (got == NULL) {
        fail_msg("%s does not decode: %s", doc, errstr);
    }
    if (!json_equal(got, expected)) {
        char *text = json_dumps(got, JSON_COMPACT | JSON_ENCODE_ANY);
        fail_msg("%s came back as %s, not %s", doc, text, want);
    }
    json_decref(got);
    json_decref(expected);
    free(bin);
    schema_free(&s);
}

/* Encoding `doc` fails with exactly `want`. */
static void assert_misfit(const char *schema_text, const char *doc, const char *want)
{
    struct schema s = schema_of(schema_text);
    char errstr[512] = "";
    size_t len = 0;
    void *bin = encode(&s, doc, &len, errstr, sizeof(errstr));

    if (bin != NULL) {
        fail_msg("%s encoded, but should fail with: %s", doc, want);
    }
    assert_string_equal(errstr, want);
    schema_free(&s);
}

#define ORDER                                                                                  \
    "{\"type\":\"record\",\"name\":\"Order\",\"namespace\":\"shop\",\"fields\":["             \
    "{\"name\":\"id\",\"type\":\"long\"},"                                                    \
    "{\"name\":\"customer\",\"type\":{\"type\":\"record\",\"name\":\"Customer\",\"fields\":[" \
    "{\"name\":\"name\",\"type\":\"string\"},"                                                \
    "{\"name\":\"address\",\"type\":[\"null\",{\"type\":\"record\",\"name\":\"Address\","     \
    "\"fields\":[{\"name\":\"zip\",\"type\":\"int\"}]}]}]}},"                                 \
    "{\"name\":\"lines\",\"type\":{\"type\":\"array\",\"items\":{\"type\":\"record\","         \
    "\"name\":\"Line\",\"fields\":[{\"name\":\"sku\",\"type\":\"string\"},"                   \
    "{\"name\":\"qty\",\"type\":\"int\"}]}}},"                                                \
    "{\"name\":\"tags\",\"type\":{\"type\":\"map\",\"values\":\"double\"}},"                  \
    "{\"name\":\"status\",\"type\":{\"type\":\"enum\",\"name\":\"Status\","                   \
    "\"symbols\":[\"NEW\",\"PAID\"]}},"                                                       \
    "{\"name\":\"note\",\"type\":[\"null\",\"string\"]}]}"

#define ORDER_DOC                                                                              \
    "{\"id\":9007199254740993,\"customer\":{\"name\":\"Zoë\",\"address\":{\"zip\":12345}},"  \
    "\"lines\":[{\"sku\":\"A\",\"qty\":1},{\"sku\":\"B\",\"qty\":-2}],"                       \
    "\"tags\":{\"weight\":1.5,\"size\":-0.25},\"status\":\"PAID\",\"note\":\"rush\"}"

static void kafka_json_to_avro__nested_record_array_map_enum__round_trips(void **state)
{
    (void)state;
    assert_round_trip(ORDER, ORDER_DOC, ORDER_DOC);
}

static void kafka_json_to_avro__nulls_in_unions__round_trip(void **state)
{
    (void)state;
    assert_round_trip(ORDER,
                      "{\"id\":1,\"customer\":{\"name\":\"a\",\"address\":null},\"lines\":[],"
                      "\"tags\":{},\"status\":\"NEW\",\"note\":null}",
                      "{\"id\":1,\"customer\":{\"name\":\"a\",\"address\":null},\"lines\":[],"
                      "\"tags\":{},\"status\":\"NEW\",\"note\":null}");
}

static void kafka_json_to_avro__missing_nullable_field__is_null(void **state)
{
    (void)state;
    assert_round_trip(ORDER,
                      "{\"id\":1,\"customer\":{\"name\":\"a\"},\"lines\":[],\"tags\":{},"
                      "\"status\":\"NEW\"}",
                      "{\"id\":1,\"customer\":{\"name\":\"a\",\"address\":null},\"lines\":[],"
                      "\"tags\":{},\"status\":\"NEW\",\"note\":null}");
}

static void kafka_json_to_avro__bytes_and_fixed__are_code_points_0_255(void **state)
{
    (void)state;
    /* \u00ff is byte 0xff, \u0000 byte 0: Avro's JSON convention. */
    assert_round_trip("{\"type\":\"record\",\"name\":\"B\",\"fields\":["
                      "{\"name\":\"b\",\"type\":\"bytes\"},"
                      "{\"name\":\"f\",\"type\":{\"type\":\"fixed\",\"name\":\"F\",\"size\":3}}]}",
                      "{\"b\":\"\\u0000\\u00ffA\\u0080\",\"f\":\"\\u00e9\\u0001z\"}",
                      "{\"b\":\"\\u0000\\u00ffA\\u0080\",\"f\":\"\\u00e9\\u0001z\"}");
}

static void kafka_json_to_avro__primitives__round_trip(void **state)
{
    (void)state;
    assert_round_trip("{\"type\":\"record\",\"name\":\"P\",\"fields\":["
                      "{\"name\":\"i\",\"type\":\"int\"},{\"name\":\"l\",\"type\":\"long\"},"
                      "{\"name\":\"f\",\"type\":\"float\"},{\"name\":\"d\",\"type\":\"double\"},"
                      "{\"name\":\"b\",\"type\":\"boolean\"},{\"name\":\"n\",\"type\":\"null\"}]}",
                      "{\"i\":-2147483648,\"l\":-9223372036854775807,\"f\":0.5,\"d\":1e300,"
                      "\"b\":true,\"n\":null}",
                      "{\"i\":-2147483648,\"l\":-9223372036854775807,\"f\":0.5,\"d\":1e300,"
                      "\"b\":true,\"n\":null}");
    /* An integer fits a double; it comes back as a number. */
    assert_round_trip("\"double\"", "12", "12.0");
    assert_round_trip("[\"null\",\"long\",\"string\"]", "\"x\"", "\"x\"");
}

static void kafka_json_to_avro__missing_fields__take_the_schema_defaults(void **state)
{
    (void)state;
    /* Defaults of every kind, in a nested record of another namespace. */
    assert_round_trip(
        "{\"type\":\"record\",\"name\":\"V2\",\"namespace\":\"shop\",\"fields\":["
        "{\"name\":\"id\",\"type\":\"long\"},"
        "{\"name\":\"status\",\"type\":{\"type\":\"enum\",\"name\":\"S\",\"symbols\":[\"NEW\","
        "\"PAID\"]},\"default\":\"NEW\"},"
        "{\"name\":\"qty\",\"type\":\"int\",\"default\":1},"
        "{\"name\":\"tags\",\"type\":{\"type\":\"array\",\"items\":\"string\"},"
        "\"default\":[\"a\"]},"
        "{\"name\":\"raw\",\"type\":\"bytes\",\"default\":\"\\u00ff\"},"
        "{\"name\":\"inner\",\"type\":{\"type\":\"record\",\"name\":\"In\",\"namespace\":\"other\","
        "\"fields\":[{\"name\":\"x\",\"type\":\"string\",\"default\":\"dx\"}]},"
        "\"default\":{\"x\":\"from-outer\"}}]}",
        "{\"id\":5,\"inner\":{}}",
        "{\"id\":5,\"status\":\"NEW\",\"qty\":1,\"tags\":[\"a\"],\"raw\":\"\\u00ff\","
        "\"inner\":{\"x\":\"dx\"}}");
    /* The record default itself applies when the whole record is missing. */
    assert_round_trip("{\"type\":\"record\",\"name\":\"R\",\"fields\":["
                      "{\"name\":\"inner\",\"type\":{\"type\":\"record\",\"name\":\"In\","
                      "\"fields\":[{\"name\":\"x\",\"type\":\"string\"}]},"
                      "\"default\":{\"x\":\"d\"}}]}",
                      "{}", "{\"inner\":{\"x\":\"d\"}}");
}

static void kafka_json_to_avro__type_mismatch__names_the_field_path(void **state)
{
    (void)state;
    assert_misfit(ORDER,
                  "{\"id\":1,\"customer\":{\"name\":\"a\"},\"lines\":[{\"sku\":\"A\",\"qty\":1},"
                  "{\"sku\":\"B\",\"qty\":\"two\"}],\"tags\":{},\"status\":\"NEW\"}",
                  "field '/lines/1/qty': expected int, got a string");
    assert_misfit(ORDER,
                  "{\"id\":1.5,\"customer\":{\"name\":\"a\"},\"lines\":[],\"tags\":{},"
                  "\"status\":\"NEW\"}",
                  "field '/id': expected long, got a number");
    assert_misfit(ORDER,
                  "{\"id\":1,\"customer\":{\"name\":\"a\"},\"lines\":[],\"tags\":{\"w\":\"x\"},"
                  "\"status\":\"NEW\"}",
                  "field '/tags/w': expected double, got a string");
    assert_misfit(ORDER, "[1]", "field '/': expected record Order, got an array");
}

static void kafka_json_to_avro__nullable_record__names_the_inner_field(void **state)
{
    (void)state;
    /* ["null", Address]: the error is Address's, not "fits no branch". */
    assert_misfit(ORDER,
                  "{\"id\":1,\"customer\":{\"name\":\"a\",\"address\":{\"zip\":\"x\"}},"
                  "\"lines\":[],\"tags\":{},\"status\":\"NEW\"}",
                  "field '/customer/address/zip': expected int, got a string");
    assert_misfit("[\"null\",\"long\",\"string\"]", "true",
                  "field '/': a boolean fits no branch of the union");
}

static void kafka_json_to_avro__missing_required_field__says_so(void **state)
{
    (void)state;
    assert_misfit(ORDER, "{\"id\":1,\"lines\":[],\"tags\":{},\"status\":\"NEW\"}",
                  "field '/customer' is missing (the schema requires record Customer and gives no "
                  "default)");
}

static void kafka_json_to_avro__bad_enum_bytes_fixed__are_named(void **state)
{
    (void)state;
    assert_misfit(ORDER,
                  "{\"id\":1,\"customer\":{\"name\":\"a\"},\"lines\":[],\"tags\":{},"
                  "\"status\":\"SHIPPED\"}",
                  "field '/status': SHIPPED is not a symbol of enum Status");
    assert_misfit("{\"type\":\"record\",\"name\":\"B\",\"fields\":[{\"name\":\"b\",\"type\":"
                  "\"bytes\"}]}",
                  "{\"b\":\"\\u0100\"}",
                  "field '/b': bytes must be a string of code points U+0000-U+00FF");
    assert_misfit("{\"type\":\"record\",\"name\":\"B\",\"fields\":[{\"name\":\"f\",\"type\":"
                  "{\"type\":\"fixed\",\"name\":\"F\",\"size\":4}}]}",
                  "{\"f\":\"abc\"}", "field '/f': fixed of 4 bytes, got 3");
}

static void kafka_json_to_avro__numbers_out_of_range__are_named(void **state)
{
    (void)state;
    const char *s = "{\"type\":\"record\",\"name\":\"N\",\"fields\":["
                    "{\"name\":\"i\",\"type\":\"int\"},{\"name\":\"f\",\"type\":\"float\"}]}";
    assert_misfit(s, "{\"i\":2147483648,\"f\":0}",
                  "field '/i': 2147483648 is out of the range of int");
    assert_misfit(s, "{\"i\":-2147483649,\"f\":0}",
                  "field '/i': -2147483649 is out of the range of int");
    assert_misfit(s, "{\"i\":1,\"f\":1e300}", "field '/f': 1e+300 is out of the range of float");
}

static void kafka_avro_to_json__truncated_or_trailing_bytes__fail(void **state)
{
    (void)state;
    struct schema s = schema_of("{\"type\":\"record\",\"name\":\"T\",\"fields\":["
                                "{\"name\":\"s\",\"type\":\"string\"}]}");
    char errstr[256] = "";
    /* "abc" is 0x06 'a' 'b' 'c'. */
    const unsigned char ok[] = {0x06, 'a', 'b', 'c'}, longer[] = {0x06, 'a', 'b', 'c', 0x00};
    json_t *j = kafka_avro_to_json(s.avro, s.iface, ok, sizeof(ok), errstr, sizeof(errstr));

    assert_non_null(j);
    assert_string_equal(json_string_value(json_object_get(j, "s")), "abc");
    json_decref(j);
    assert_null(kafka_avro_to_json(s.avro, s.iface, ok, 3, errstr, sizeof(errstr)));
    assert_non_null(strstr(errstr, "not Avro of its schema"));
    assert_null(kafka_avro_to_json(s.avro, s.iface, longer, sizeof(longer), errstr,
                                   sizeof(errstr)));
    assert_string_equal(errstr, "not Avro of its schema: the value ends at byte 4 of 5 "
                                "(written with a different schema?)");
    schema_free(&s);
}

/* Decoding `len` bytes fails with exactly `want`. */
static void assert_undecodable(const char *schema_text, const unsigned char *data, size_t len,
                               const char *want)
{
    struct schema s = schema_of(schema_text);
    char errstr[256] = "";

    assert_null(kafka_avro_to_json(s.avro, s.iface, data, len, errstr, sizeof(errstr)));
    assert_string_equal(errstr, want);
    schema_free(&s);
}

static void kafka_avro_to_json__bad_indexes_and_booleans__are_refused(void **state)
{
    (void)state;
    const unsigned char two = 0x04, minus = 0x01, bool2 = 0x02;

    assert_undecodable("[\"null\",\"long\"]", &two, 1,
                       "not Avro of its schema: a union branch index out of range at byte 1");
    assert_undecodable("[\"null\",\"long\"]", &minus, 1,
                       "not Avro of its schema: a union branch index out of range at byte 1");
    assert_undecodable("{\"type\":\"enum\",\"name\":\"E\",\"symbols\":[\"A\",\"B\"]}", &two, 1,
                       "not Avro of its schema: an enum index out of range at byte 1");
    assert_undecodable("\"boolean\"", &bool2, 1,
                       "not Avro of its schema: a boolean that is neither 0 nor 1 at byte 1");
}

static void kafka_avro_to_json__items_of_no_bytes__are_bounded(void **state)
{
    (void)state;
    /* 2^62 nulls would take no bytes at all: refused, not looped over. */
    const unsigned char nulls[] = {0xfe, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f, 0x00};
    /* A block of 3 nulls with its byte size (negative count), then the end. */
    const unsigned char sized[] = {0x05, 0x00, 0x00};
    struct schema s = schema_of("{\"type\":\"array\",\"items\":\"null\"}");
    char errstr[256];
    json_t *j;

    assert_undecodable("{\"type\":\"array\",\"items\":\"null\"}", nulls, sizeof(nulls),
                       "not Avro of its schema: more array or map items than the bytes can "
                       "hold at byte 9");
    j = kafka_avro_to_json(s.avro, s.iface, sized, sizeof(sized), errstr, sizeof(errstr));
    if (j == NULL) {
        fail_msg("a sized block does not decode: %s", errstr);
    }
    assert_int_equal(json_array_size(j), 3);
    json_decref(j);
    schema_free(&s);
}

static void kafka_avro_to_json__hostile_lengths__fail_without_crashing(void **state)
{
    (void)state;
    struct schema s = schema_of("{\"type\":\"record\",\"name\":\"H\",\"fields\":["
                                "{\"name\":\"s\",\"type\":\"string\"},"
                                "{\"name\":\"a\",\"type\":{\"type\":\"array\","
                                "\"items\":\"long\"}}]}");
    char errstr[256] = "";
    /* A string "of" 2^62 bytes; a negative length; an array of 2^62 items. */
    const unsigned char huge[] = {0xfe, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f, 'x'};
    const unsigned char negative[] = {0x01, 'x'};
    const unsigned char items[] = {0x00, 0xfe, 0xff, 0xff, 0xff, 0xff,
                                   0xff, 0xff, 0xff, 0x7f, 0x02};

    assert_null(kafka_avro_to_json(s.avro, s.iface, huge, sizeof(huge), errstr, sizeof(errstr)));
    assert_string_equal(errstr,
                        "not Avro of its schema: a length beyond the end of the bytes at byte 9");
    assert_null(kafka_avro_to_json(s.avro, s.iface, negative, sizeof(negative), errstr,
                                   sizeof(errstr)));
    assert_string_equal(errstr,
                        "not Avro of its schema: a length beyond the end of the bytes at byte 1");
    assert_null(kafka_avro_to_json(s.avro, s.iface, items, sizeof(items), errstr, sizeof(errstr)));
    assert_string_equal(errstr, "not Avro of its schema: more array or map items than the "
                                "bytes can hold at byte 10");
    schema_free(&s);
}

static void kafka_avro_to_json__nan__is_null(void **state)
{
    (void)state;
    struct schema s = schema_of("\"double\"");
    char errstr[256];
    const unsigned char nan[] = {0, 0, 0, 0, 0, 0, 0xf8, 0x7f};
    json_t *j = kafka_avro_to_json(s.avro, s.iface, nan, sizeof(nan), errstr, sizeof(errstr));

    assert_non_null(j);
    assert_true(json_is_null(j));
    schema_free(&s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(kafka_json_to_avro__nested_record_array_map_enum__round_trips),
        cmocka_unit_test(kafka_json_to_avro__nulls_in_unions__round_trip),
        cmocka_unit_test(kafka_json_to_avro__missing_nullable_field__is_null),
        cmocka_unit_test(kafka_json_to_avro__bytes_and_fixed__are_code_points_0_255),
        cmocka_unit_test(kafka_json_to_avro__primitives__round_trip),
        cmocka_unit_test(kafka_json_to_avro__missing_fields__take_the_schema_defaults),
        cmocka_unit_test(kafka_json_to_avro__type_mismatch__names_the_field_path),
        cmocka_unit_test(kafka_json_to_avro__nullable_record__names_the_inner_field),
        cmocka_unit_test(kafka_json_to_avro__missing_required_field__says_so),
        cmocka_unit_test(kafka_json_to_avro__bad_enum_bytes_fixed__are_named),
        cmocka_unit_test(kafka_json_to_avro__numbers_out_of_range__are_named),
        cmocka_unit_test(kafka_avro_to_json__truncated_or_trailing_bytes__fail),
        cmocka_unit_test(kafka_avro_to_json__hostile_lengths__fail_without_crashing),
        cmocka_unit_test(kafka_avro_to_json__nan__is_null),
        cmocka_unit_test(kafka_avro_to_json__bad_indexes_and_booleans__are_refused),
        cmocka_unit_test(kafka_avro_to_json__items_of_no_bytes__are_bounded),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
