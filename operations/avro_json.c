/*
 * avro_json.c - Avro binary <-> JSON documents, with avro-c's value API
 * (see formats_internal.h for the mapping).
 */
#include <float.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "formats_internal.h"

/* Deeper nesting than this is refused rather than risking the stack. */
#define AVRO_JSON_MAX_DEPTH 64

/* ------------------------------------------------------------------------ */
/* Checking the bytes first                                                 */
/* ------------------------------------------------------------------------ */

/*
 * avro-c allocates what a length prefix says before it reads the bytes
 * (10 hostile bytes can ask for 2^62), and leaks what it allocated when a
 * read then fails. So the bytes are walked against the schema first, with
 * no allocation: every length within what is left, every union and enum
 * index in range, items bounded; avro-c then reads only bytes that fit.
 */
struct span {
    const unsigned char *p;
    size_t left, len;
    size_t items; /* array/map items still allowed (zero-byte items cost nothing) */
    char *why;
    size_t why_size;
};

static int span_fail(struct span *in, const char *what)
{
    snprintf(in->why, in->why_size, "not Avro of its schema: %s at byte %zu", what,
             in->len - in->left);
    return -1;
}

static int span_skip(struct span *in, size_t n)
{
    if (n > in->left) {
        return span_fail(in, "the bytes end too early");
    }
    in->p += n;
    in->left -= n;
    return 0;
}

/* A zig-zag varint long. */
static int span_long(struct span *in, int64_t *out)
{
    uint64_t v = 0;

    for (int shift = 0; shift < 64; shift += 7) {
        unsigned char b;
        if (in->left == 0) {
            return span_fail(in, "the bytes end too early");
        }
        b = *in->p++;
        in->left--;
        v |= (uint64_t)(b & 0x7f) << shift;
        if ((b & 0x80) == 0) {
            *out = (int64_t)(v >> 1) ^ -(int64_t)(v & 1);
            return 0;
        }
    }
    return span_fail(in, "a number longer than 10 bytes");
}

static int span_length(struct span *in)
{
    int64_t n;

    if (span_long(in, &n) != 0) {
        return -1;
    }
    if (n < 0 || (uint64_t)n > in->left) {
        return span_fail(in, "a length beyond the end of the bytes");
    }
    return span_skip(in, (size_t)n);
}

static int span_index(struct span *in, int64_t count, const char *what)
{
    int64_t i;

    if (span_long(in, &i) != 0) {
        return -1;
    }
    return i < 0 || i >= count ? span_fail(in, what) : 0;
}

static int span_value(struct span *in, avro_schema_t schema, int depth);

/* Array or map blocks: a count (negative: followed by the block's size),
 * its items, until a count of 0. */
static int span_blocks(struct span *in, avro_schema_t items, int is_map, int depth)
{
    for (;;) {
        int64_t count, size;
        if (span_long(in, &count) != 0) {
            return -1;
        }
        if (count == 0) {
            return 0;
        }
        if (count < 0) {
            if (count == INT64_MIN || span_long(in, &size) != 0) {
                return count == INT64_MIN ? span_fail(in, "a bad block count") : -1;
            }
            count = -count;
        }
        if ((uint64_t)count > in->items) {
            return span_fail(in, "more array or map items than the bytes can hold");
        }
        in->items -= (size_t)count;
        for (int64_t i = 0; i < count; i++) {
            if ((is_map && span_length(in) != 0) || span_value(in, items, depth + 1) != 0) {
                return -1;
            }
        }
    }
}

static int span_value(struct span *in, avro_schema_t schema, int depth)
{
    unsigned char b;

    if (depth > AVRO_JSON_MAX_DEPTH) {
        return span_fail(in, "values nested too deeply");
    }
    switch (avro_typeof(schema)) {
    case AVRO_NULL:
        return 0;
    case AVRO_BOOLEAN:
        if (span_skip(in, 1) != 0) {
            return -1;
        }
        b = in->p[-1];
        return b > 1 ? span_fail(in, "a boolean that is neither 0 nor 1") : 0;
    case AVRO_INT32:
    case AVRO_INT64: {
        int64_t v;
        if (span_long(in, &v) != 0) {
            return -1;
        }
        return avro_typeof(schema) == AVRO_INT32 && (v < INT32_MIN || v > INT32_MAX)
                   ? span_fail(in, "an int out of range")
                   : 0;
    }
    case AVRO_FLOAT:
        return span_skip(in, 4);
    case AVRO_DOUBLE:
        return span_skip(in, 8);
    case AVRO_STRING:
    case AVRO_BYTES:
        return span_length(in);
    case AVRO_FIXED:
        return span_skip(in, (size_t)avro_schema_fixed_size(schema));
    case AVRO_ENUM:
        return span_index(in, avro_schema_enum_number_of_symbols(schema),
                          "an enum index out of range");
    case AVRO_UNION: {
        int64_t i;
        if (span_long(in, &i) != 0) {
            return -1;
        }
        if (i < 0 || (size_t)i >= avro_schema_union_size(schema)) {
            return span_fail(in, "a union branch index out of range");
        }
        return span_value(in, avro_schema_union_branch(schema, (int)i), depth + 1);
    }
    case AVRO_RECORD:
        for (size_t i = 0; i < avro_schema_record_size(schema); i++) {
            if (span_value(in, avro_schema_record_field_get_by_index(schema, (int)i),
                           depth + 1) != 0) {
                return -1;
            }
        }
        return 0;
    case AVRO_ARRAY:
        return span_blocks(in, avro_schema_array_items(schema), 0, depth);
    case AVRO_MAP:
        return span_blocks(in, avro_schema_map_values(schema), 1, depth);
    case AVRO_LINK:
        return span_value(in, avro_schema_link_target(schema), depth + 1);
    default:
        return span_fail(in, "a type connrt does not know");
    }
}

/* Items allowed in one message beyond one per byte (items of null or of
 * empty records take no bytes). */
#define AVRO_ZERO_SIZE_ITEMS 65536

/* 0 when `data` is exactly one value of `schema`, else -1 with why. */
static int avro_bytes_check(avro_schema_t schema, const void *data, size_t len, char *why,
                            size_t why_size)
{
    struct span in = {data, len, len, len + AVRO_ZERO_SIZE_ITEMS, why, why_size};

    if (span_value(&in, schema, 0) != 0) {
        return -1;
    }
    if (in.left > 0) {
        /* Written with another schema than its id says. */
        snprintf(why, why_size, "not Avro of its schema: the value ends at byte %zu of %zu "
                 "(written with a different schema?)", len - in.left, len);
        return -1;
    }
    return 0;
}

/* ------------------------------------------------------------------------ */
/* Avro -> JSON                                                             */
/* ------------------------------------------------------------------------ */

/* Bytes as a string of code points 0-255, each a UTF-8 sequence. */
static json_t *bytes_to_json(const unsigned char *p, size_t n)
{
    char *s = malloc(2 * n + 1);
    size_t k = 0;
    json_t *j;

    if (s == NULL) {
        return NULL;
    }
    for (size_t i = 0; i < n; i++) {
        if (p[i] < 0x80) {
            s[k++] = (char)p[i];
        } else {
            s[k++] = (char)(0xc0 | (p[i] >> 6));
            s[k++] = (char)(0x80 | (p[i] & 0x3f));
        }
    }
    j = json_stringn(s, k);
    free(s);
    return j;
}

static json_t *value_to_json(avro_value_t *v, int depth);

static json_t *record_to_json(avro_value_t *v, int depth)
{
    json_t *o = json_object();
    size_t n = 0;

    avro_value_get_size(v, &n);
    for (size_t i = 0; o != NULL && i < n; i++) {
        avro_value_t child;
        const char *name = NULL;
        json_t *c;
        if (avro_value_get_by_index(v, i, &child, &name) != 0 ||
            (c = value_to_json(&child, depth + 1)) == NULL ||
            json_object_set_new(o, name, c) != 0) {
            json_decref(o);
            return NULL;
        }
    }
    return o;
}

static json_t *container_to_json(avro_value_t *v, int is_map, int depth)
{
    json_t *out = is_map ? json_object() : json_array();
    size_t n = 0;

    avro_value_get_size(v, &n);
    for (size_t i = 0; out != NULL && i < n; i++) {
        avro_value_t child;
        const char *key = NULL;
        json_t *c;
        int rc = avro_value_get_by_index(v, i, &child, is_map ? &key : NULL);
        if (rc != 0 || (c = value_to_json(&child, depth + 1)) == NULL ||
            (is_map ? json_object_set_new(out, key, c) : json_array_append_new(out, c)) != 0) {
            json_decref(out);
            return NULL;
        }
    }
    return out;
}

static json_t *scalar_to_json(avro_value_t *v)
{
    const void *buf;
    const char *s;
    size_t size;
    int32_t i32;
    int64_t i64;
    double d;
    float f;
    int b, e;

    switch (avro_value_get_type(v)) {
    case AVRO_NULL:
        return json_null();
    case AVRO_BOOLEAN:
        avro_value_get_boolean(v, &b);
        return json_boolean(b);
    case AVRO_INT32:
        avro_value_get_int(v, &i32);
        return json_integer(i32);
    case AVRO_INT64:
        avro_value_get_long(v, &i64);
        return json_integer(i64);
    case AVRO_FLOAT:
        avro_value_get_float(v, &f);
        return isfinite(f) ? json_real(f) : json_null();
    case AVRO_DOUBLE:
        avro_value_get_double(v, &d);
        return isfinite(d) ? json_real(d) : json_null();
    case AVRO_STRING:
        avro_value_get_string(v, &s, &size);
        return json_stringn(s, size > 0 ? size - 1 : 0); /* size counts the NUL */
    case AVRO_BYTES:
        avro_value_get_bytes(v, &buf, &size);
        return bytes_to_json(buf, size);
    case AVRO_FIXED:
        avro_value_get_fixed(v, &buf, &size);
        return bytes_to_json(buf, size);
    case AVRO_ENUM:
        avro_value_get_enum(v, &e);
        s = avro_schema_enum_get(avro_value_get_schema(v), e);
        return s ? json_string(s) : NULL;
    default:
        return NULL;
    }
}

static json_t *value_to_json(avro_value_t *v, int depth)
{
    avro_value_t branch;

    if (depth > AVRO_JSON_MAX_DEPTH) {
        return NULL;
    }
    switch (avro_value_get_type(v)) {
    case AVRO_RECORD:
        return record_to_json(v, depth);
    case AVRO_ARRAY:
        return container_to_json(v, 0, depth);
    case AVRO_MAP:
        return container_to_json(v, 1, depth);
    case AVRO_UNION:
        if (avro_value_get_current_branch(v, &branch) != 0) {
            return NULL;
        }
        return value_to_json(&branch, depth + 1);
    default:
        return scalar_to_json(v);
    }
}

json_t *kafka_avro_to_json(avro_schema_t schema, avro_value_iface_t *iface, const void *data,
                           size_t len, char *errstr, size_t errstr_size)
{
    avro_reader_t reader;
    avro_value_t value;
    json_t *out = NULL;

    if (avro_bytes_check(schema, data, len, errstr, errstr_size) != 0) {
        return NULL;
    }
    reader = avro_reader_memory(data, (int64_t)len);
    if (reader == NULL || avro_generic_value_new(iface, &value) != 0) {
        snprintf(errstr, errstr_size, "out of memory");
        if (reader != NULL) {
            avro_reader_free(reader);
        }
        return NULL;
    }
    if (avro_value_read(reader, &value) != 0) {
        snprintf(errstr, errstr_size, "not Avro of its schema: %s", avro_strerror());
    } else if ((out = value_to_json(&value, 0)) == NULL) {
        snprintf(errstr, errstr_size, "cannot turn the Avro value into JSON (too deep or no "
                 "memory)");
    }
    avro_value_decref(&value);
    avro_reader_free(reader);
    return out;
}

/* ------------------------------------------------------------------------ */
/* JSON -> Avro                                                             */
/* ------------------------------------------------------------------------ */

/* Where in the document the conversion is: a JSON pointer. */
struct path {
    char buf[512];
    size_t len;
};

static size_t path_push(struct path *p, const char *name)
{
    size_t mark = p->len;
    int n = snprintf(p->buf + p->len, sizeof(p->buf) - p->len, "/%s", name);
    if (n > 0) {
        p->len += (size_t)n < sizeof(p->buf) - p->len ? (size_t)n : sizeof(p->buf) - p->len - 1;
    }
    return mark;
}

static void path_pop(struct path *p, size_t mark)
{
    p->len = mark;
    p->buf[mark] = '\0';
}

static const char *json_kind(const json_t *j)
{
    switch (json_typeof(j)) {
    case JSON_OBJECT: return "an object";
    case JSON_ARRAY: return "an array";
    case JSON_STRING: return "a string";
    case JSON_INTEGER: return "an integer";
    case JSON_REAL: return "a number";
    case JSON_TRUE:
    case JSON_FALSE: return "a boolean";
    default: return "null";
    }
}

struct encoder {
    struct path path;
    const json_t *defaults; /* see kafka_avro_defaults; may be NULL */
    char *errstr;
    size_t errstr_size;
};

/* "int", "record Order", "enum Status": what the schema wants, for messages. */
static const char *wanted(avro_schema_t schema, char *buf, size_t size)
{
    const char *kind = is_avro_record(schema) ? "record"
                       : is_avro_enum(schema) ? "enum"
                       : is_avro_fixed(schema) ? "fixed"
                                               : NULL;

    if (kind == NULL) {
        return avro_schema_type_name(schema);
    }
    snprintf(buf, size, "%s %s", kind, avro_schema_name(schema));
    return buf;
}

static int mismatch(struct encoder *e, avro_schema_t schema, const json_t *j)
{
    char want[300];

    snprintf(e->errstr, e->errstr_size, "field '%s': expected %s, got %s",
             e->path.len ? e->path.buf : "/", wanted(schema, want, sizeof(want)), json_kind(j));
    return -1;
}

static int fill(struct encoder *e, avro_value_t *v, const json_t *j, int depth);

/* Bytes from a string of code points 0-255 (see bytes_to_json). */
static int json_to_bytes(struct encoder *e, avro_value_t *v, const json_t *j, int fixed)
{
    const unsigned char *s = (const unsigned char *)json_string_value(j);
    size_t n = json_string_length(j), k = 0;
    unsigned char *out = malloc(n + 1);
    int rc;

    if (out == NULL) {
        snprintf(e->errstr, e->errstr_size, "out of memory");
        return -1;
    }
    for (size_t i = 0; i < n; i++) {
        if (s[i] < 0x80) {
            out[k++] = s[i];
        } else if ((s[i] == 0xc2 || s[i] == 0xc3) && i + 1 < n) {
            out[k++] = (unsigned char)(((s[i] & 0x03) << 6) | (s[i + 1] & 0x3f));
            i++;
        } else {
            free(out);
            snprintf(e->errstr, e->errstr_size,
                     "field '%s': bytes must be a string of code points U+0000-U+00FF",
                     e->path.buf);
            return -1;
        }
    }
    if (fixed && (int64_t)k != avro_schema_fixed_size(avro_value_get_schema(v))) {
        free(out);
        snprintf(e->errstr, e->errstr_size, "field '%s': fixed of %lld bytes, got %zu",
                 e->path.buf, (long long)avro_schema_fixed_size(avro_value_get_schema(v)), k);
        return -1;
    }
    rc = fixed ? avro_value_set_fixed(v, out, k) : avro_value_set_bytes(v, out, k);
    free(out);
    return rc;
}

/* The defaults of record `schema`'s fields ({field: default}), or NULL. */
static const json_t *record_defaults(const struct encoder *e, avro_schema_t schema)
{
    const char *ns = avro_schema_namespace(schema), *name = avro_schema_name(schema);
    char full[512];
    const json_t *d;

    if (e->defaults == NULL || name == NULL) {
        return NULL;
    }
    snprintf(full, sizeof(full), "%s%s%s", ns && *ns ? ns : "", ns && *ns ? "." : "", name);
    d = json_object_get(e->defaults, full);
    return d != NULL ? d : json_object_get(e->defaults, name);
}

static int fill_record(struct encoder *e, avro_value_t *v, const json_t *j, int depth)
{
    avro_schema_t schema = avro_value_get_schema(v);
    const json_t *defaults = record_defaults(e, schema);
    size_t n = 0;

    if (!json_is_object(j)) {
        return mismatch(e, schema, j);
    }
    avro_value_get_size(v, &n);
    for (size_t i = 0; i < n; i++) {
        const char *name = avro_schema_record_field_name(schema, (int)i);
        const json_t *field = json_object_get(j, name);
        size_t mark = path_push(&e->path, name);
        avro_value_t child;
        json_t *null = NULL;
        int rc, defaulted = 0;
        avro_value_get_by_index(v, i, &child, NULL);
        if (field == NULL) {
            /* A missing field takes the schema's default; without one it
             * still fits a nullable field (null). */
            field = defaults ? json_object_get(defaults, name) : NULL;
            defaulted = field != NULL;
            if (field == NULL) {
                field = null = json_null();
            }
        }
        rc = fill(e, &child, field, depth + 1);
        if (rc != 0 && null != NULL) {
            char want[300];
            snprintf(e->errstr, e->errstr_size, "field '%s' is missing (the schema requires %s "
                     "and gives no default)",
                     e->path.buf, wanted(avro_value_get_schema(&child), want, sizeof(want)));
        } else if (rc != 0 && defaulted) {
            size_t used = strlen(e->errstr);
            snprintf(e->errstr + used, e->errstr_size - used, " (the schema's default for the "
                     "missing field)");
        }
        json_decref(null);
        if (rc != 0) {
            return -1;
        }
        path_pop(&e->path, mark);
    }
    return 0;
}

static int fill_array(struct encoder *e, avro_value_t *v, const json_t *j, int depth)
{
    size_t i;
    json_t *item;

    if (!json_is_array(j)) {
        return mismatch(e, avro_value_get_schema(v), j);
    }
    json_array_foreach(j, i, item) {
        char index[24];
        size_t mark;
        avro_value_t child;
        snprintf(index, sizeof(index), "%zu", i);
        mark = path_push(&e->path, index);
        if (avro_value_append(v, &child, NULL) != 0 || fill(e, &child, item, depth + 1) != 0) {
            return -1;
        }
        path_pop(&e->path, mark);
    }
    return 0;
}

static int fill_map(struct encoder *e, avro_value_t *v, const json_t *j, int depth)
{
    const char *key;
    json_t *item;

    if (!json_is_object(j)) {
        return mismatch(e, avro_value_get_schema(v), j);
    }
    json_object_foreach((json_t *)j, key, item) {
        size_t mark = path_push(&e->path, key);
        avro_value_t child;
        if (avro_value_add(v, key, &child, NULL, NULL) != 0 ||
            fill(e, &child, item, depth + 1) != 0) {
            return -1;
        }
        path_pop(&e->path, mark);
    }
    return 0;
}

/* The first branch that takes the value. When none does: the error of the
 * only branch tried (a nullable type's own error names the inner field),
 * else that no branch fits. */
static int fill_union(struct encoder *e, avro_value_t *v, const json_t *j, int depth)
{
    avro_schema_t schema = avro_value_get_schema(v);
    size_t n = avro_schema_union_size(schema), tried = 0;

    for (size_t i = 0; i < n; i++) {
        avro_schema_t b = avro_schema_union_branch(schema, (int)i);
        avro_value_t branch;
        if (json_is_null(j) != (avro_typeof(b) == AVRO_NULL)) {
            continue;
        }
        tried++;
        e->errstr[0] = '\0';
        if (avro_value_set_branch(v, (int)i, &branch) == 0 &&
            fill(e, &branch, j, depth + 1) == 0) {
            return 0;
        }
    }
    if (tried != 1 || e->errstr[0] == '\0') {
        snprintf(e->errstr, e->errstr_size, "field '%s': %s fits no branch of the union",
                 e->path.len ? e->path.buf : "/", json_kind(j));
    }
    return -1;
}

static int out_of_range(struct encoder *e, avro_schema_t schema, const json_t *j)
{
    char number[64];

    if (json_is_integer(j)) {
        snprintf(number, sizeof(number), "%" JSON_INTEGER_FORMAT, json_integer_value(j));
    } else {
        snprintf(number, sizeof(number), "%g", json_number_value(j));
    }
    snprintf(e->errstr, e->errstr_size, "field '%s': %s is out of the range of %s",
             e->path.len ? e->path.buf : "/", number, avro_schema_type_name(schema));
    return -1;
}

static int fill_scalar(struct encoder *e, avro_value_t *v, const json_t *j)
{
    avro_schema_t schema = avro_value_get_schema(v);
    int sym;

    switch (avro_value_get_type(v)) {
    case AVRO_NULL:
        return json_is_null(j) ? avro_value_set_null(v) : mismatch(e, schema, j);
    case AVRO_BOOLEAN:
        return json_is_boolean(j) ? avro_value_set_boolean(v, json_is_true(j))
                                  : mismatch(e, schema, j);
    case AVRO_INT32:
        if (!json_is_integer(j)) {
            return mismatch(e, schema, j);
        }
        if (json_integer_value(j) < INT32_MIN || json_integer_value(j) > INT32_MAX) {
            return out_of_range(e, schema, j);
        }
        return avro_value_set_int(v, (int32_t)json_integer_value(j));
    case AVRO_INT64:
        return json_is_integer(j) ? avro_value_set_long(v, json_integer_value(j))
                                  : mismatch(e, schema, j);
    case AVRO_FLOAT:
        if (!json_is_number(j)) {
            return mismatch(e, schema, j);
        }
        if (fabs(json_number_value(j)) > FLT_MAX) {
            return out_of_range(e, schema, j);
        }
        return avro_value_set_float(v, (float)json_number_value(j));
    case AVRO_DOUBLE:
        return json_is_number(j) ? avro_value_set_double(v, json_number_value(j))
                                 : mismatch(e, schema, j);
    case AVRO_STRING:
        return json_is_string(j) ? avro_value_set_string_len(v, json_string_value(j),
                                                             json_string_length(j) + 1)
                                 : mismatch(e, schema, j);
    case AVRO_BYTES:
    case AVRO_FIXED:
        return json_is_string(j) ? json_to_bytes(e, v, j, avro_value_get_type(v) == AVRO_FIXED)
                                 : mismatch(e, schema, j);
    case AVRO_ENUM:
        sym = json_is_string(j) ? avro_schema_enum_get_by_name(schema, json_string_value(j))
                                : -1;
        if (sym < 0) {
            snprintf(e->errstr, e->errstr_size, "field '%s': %s is not a symbol of enum %s",
                     e->path.len ? e->path.buf : "/",
                     json_is_string(j) ? json_string_value(j) : json_kind(j),
                     avro_schema_name(schema));
            return -1;
        }
        return avro_value_set_enum(v, sym);
    default:
        return mismatch(e, schema, j);
    }
}

static int fill(struct encoder *e, avro_value_t *v, const json_t *j, int depth)
{
    if (depth > AVRO_JSON_MAX_DEPTH) {
        snprintf(e->errstr, e->errstr_size, "field '%s': nested too deeply", e->path.buf);
        return -1;
    }
    switch (avro_value_get_type(v)) {
    case AVRO_RECORD:
        return fill_record(e, v, j, depth);
    case AVRO_ARRAY:
        return fill_array(e, v, j, depth);
    case AVRO_MAP:
        return fill_map(e, v, j, depth);
    case AVRO_UNION:
        return fill_union(e, v, j, depth);
    default:
        return fill_scalar(e, v, j);
    }
}

void *kafka_json_to_avro(avro_value_iface_t *iface, const json_t *defaults, const json_t *doc,
                         const void *header, size_t header_len, size_t *len, char *errstr,
                         size_t errstr_size)
{
    struct encoder e = {{"", 0}, defaults, errstr, errstr_size};
    avro_writer_t writer = NULL;
    avro_value_t value;
    size_t size = 0;
    char *buf = NULL;

    if (avro_generic_value_new(iface, &value) != 0) {
        snprintf(errstr, errstr_size, "out of memory");
        return NULL;
    }
    errstr[0] = '\0';
    if (fill(&e, &value, doc, 0) != 0) {
        if (errstr[0] == '\0') {
            snprintf(errstr, errstr_size, "does not fit the schema: %s", avro_strerror());
        }
    } else if (avro_value_sizeof(&value, &size) != 0 ||
               (buf = malloc(header_len + size + 1)) == NULL ||
               (writer = avro_writer_memory(buf + header_len, (int64_t)size)) == NULL ||
               avro_value_write(writer, &value) != 0) {
        snprintf(errstr, errstr_size, "cannot encode in Avro: %s", avro_strerror());
        free(buf);
        buf = NULL;
    } else {
        memcpy(buf, header, header_len);
        *len = header_len + size;
    }
    if (writer != NULL) {
        avro_writer_free(writer);
    }
    avro_value_decref(&value);
    return buf;
}

/* ------------------------------------------------------------------------ */
/* Field defaults                                                           */
/* ------------------------------------------------------------------------ */

/* The full name of a named type `t` in namespace `ns` (Avro's rules: a
 * dotted name is full; else the type's namespace, else the enclosing
 * one). Sets *inner to the namespace its own children inherit. */
static void full_name(const json_t *t, const char *ns, char *full, size_t full_size,
                      char *inner, size_t inner_size)
{
    const char *name = json_string_value(json_object_get(t, "name"));
    const char *own = json_string_value(json_object_get(t, "namespace"));
    const char *dot = name ? strrchr(name, '.') : NULL;

    if (name == NULL) {
        snprintf(full, full_size, "%s", "");
        snprintf(inner, inner_size, "%s", ns);
    } else if (dot != NULL) {
        snprintf(full, full_size, "%s", name);
        snprintf(inner, inner_size, "%.*s", (int)(dot - name), name);
    } else {
        const char *space = own != NULL ? own : ns;
        snprintf(full, full_size, "%s%s%s", space, *space ? "." : "", name);
        snprintf(inner, inner_size, "%s", space);
    }
}

static int collect_defaults(json_t *out, const json_t *t, const char *ns, int depth);

static int collect_record(json_t *out, const json_t *t, const char *ns, int depth)
{
    char full[512], inner[512];
    const json_t *field;
    json_t *fields = json_object();
    const char *dot;
    size_t i;

    full_name(t, ns, full, sizeof(full), inner, sizeof(inner));
    if (fields == NULL) {
        return -1;
    }
    json_array_foreach(json_object_get(t, "fields"), i, field) {
        const char *name = json_string_value(json_object_get(field, "name"));
        json_t *dflt = json_object_get(field, "default");
        if ((name != NULL && dflt != NULL && json_object_set(fields, name, dflt) != 0) ||
            collect_defaults(out, json_object_get(field, "type"), inner, depth + 1) != 0) {
            json_decref(fields);
            return -1;
        }
    }
    dot = strrchr(full, '.');
    /* By full name, and by short name unless another record has it. */
    if (json_object_size(fields) > 0 && *full != '\0' &&
        ((dot != NULL && json_object_get(out, dot + 1) == NULL &&
          json_object_set(out, dot + 1, fields) != 0) ||
         json_object_set(out, full, fields) != 0)) {
        json_decref(fields);
        return -1;
    }
    json_decref(fields);
    return 0;
}

static int collect_defaults(json_t *out, const json_t *t, const char *ns, int depth)
{
    const char *type = json_string_value(json_object_get(t, "type"));
    const json_t *branch;
    size_t i;

    if (depth > AVRO_JSON_MAX_DEPTH) {
        return 0; /* avro-c refused such a schema anyway */
    }
    if (json_is_array(t)) {
        json_array_foreach(t, i, branch) {
            if (collect_defaults(out, branch, ns, depth + 1) != 0) {
                return -1;
            }
        }
        return 0;
    }
    if (!json_is_object(t)) {
        return 0; /* a primitive or a reference to a named type */
    }
    if (type == NULL) {
        return collect_defaults(out, json_object_get(t, "type"), ns, depth + 1);
    }
    if (strcmp(type, "record") == 0 || strcmp(type, "error") == 0) {
        return collect_record(out, t, ns, depth);
    }
    if (strcmp(type, "array") == 0) {
        return collect_defaults(out, json_object_get(t, "items"), ns, depth + 1);
    }
    if (strcmp(type, "map") == 0) {
        return collect_defaults(out, json_object_get(t, "values"), ns, depth + 1);
    }
    return 0;
}

json_t *kafka_avro_defaults(const char *schema_text)
{
    json_t *schema = json_loads(schema_text, JSON_DECODE_ANY | JSON_ALLOW_NUL, NULL);
    json_t *out = json_object();

    if (out != NULL && schema != NULL && collect_defaults(out, schema, "", 0) != 0) {
        json_decref(out);
        out = NULL;
    }
    json_decref(schema);
    return out;
}
