/*
 * json_schema.c - a small JSON Schema checker: the keywords a registry's
 * JSON schemas for Kafka records use (see formats_internal.h). Errors name
 * the field as a JSON pointer.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "formats_internal.h"

#define JSON_SCHEMA_MAX_DEPTH 64

struct checker {
    const json_t *root; /* for "$ref": "#/..." */
    char path[512];
    size_t len;
    char *errstr;
    size_t errstr_size;
};

static const char *where(const struct checker *c)
{
    return c->len ? c->path : "/";
}

static int type_is(const char *type, const json_t *j)
{
    if (strcmp(type, "object") == 0) return json_is_object(j);
    if (strcmp(type, "array") == 0) return json_is_array(j);
    if (strcmp(type, "string") == 0) return json_is_string(j);
    if (strcmp(type, "integer") == 0) {
        /* 1.0 is an integer too (a number whose fraction is zero). */
        return json_is_integer(j) ||
               (json_is_real(j) && json_real_value(j) == floor(json_real_value(j)));
    }
    if (strcmp(type, "number") == 0) return json_is_number(j);
    if (strcmp(type, "boolean") == 0) return json_is_boolean(j);
    if (strcmp(type, "null") == 0) return json_is_null(j);
    return 1; /* unknown type names are not ours to refuse */
}

static int check_type(struct checker *c, const json_t *type, const json_t *j)
{
    size_t i;
    json_t *t;

    if (json_is_string(type)) {
        if (type_is(json_string_value(type), j)) {
            return 0;
        }
        snprintf(c->errstr, c->errstr_size, "field '%s': expected %s", where(c),
                 json_string_value(type));
        return -1;
    }
    if (json_is_array(type)) {
        json_array_foreach(type, i, t) {
            if (json_is_string(t) && type_is(json_string_value(t), j)) {
                return 0;
            }
        }
        snprintf(c->errstr, c->errstr_size, "field '%s': not one of the allowed types",
                 where(c));
        return -1;
    }
    return 0;
}

static int check(struct checker *c, const json_t *schema, const json_t *j, int depth);

static int check_child(struct checker *c, const char *name, const json_t *schema,
                       const json_t *j, int depth)
{
    size_t mark = c->len;
    int n = snprintf(c->path + c->len, sizeof(c->path) - c->len, "/%s", name);
    int rc;

    if (n > 0) {
        c->len += (size_t)n < sizeof(c->path) - c->len ? (size_t)n : sizeof(c->path) - c->len - 1;
    }
    rc = check(c, schema, j, depth + 1);
    c->len = mark;
    c->path[mark] = '\0';
    return rc;
}

static int check_object(struct checker *c, const json_t *schema, const json_t *j, int depth)
{
    const json_t *props = json_object_get(schema, "properties");
    const json_t *required = json_object_get(schema, "required");
    const json_t *additional = json_object_get(schema, "additionalProperties");
    const char *key;
    json_t *v;
    size_t i;

    json_array_foreach(required, i, v) {
        if (json_is_string(v) && json_object_get(j, json_string_value(v)) == NULL) {
            snprintf(c->errstr, c->errstr_size, "field '%s%s/%s' is required but missing",
                     c->len ? c->path : "", "", json_string_value(v));
            return -1;
        }
    }
    json_object_foreach((json_t *)j, key, v) {
        const json_t *sub = props ? json_object_get(props, key) : NULL;
        if (sub == NULL && json_is_false(additional)) {
            snprintf(c->errstr, c->errstr_size,
                     "field '%s/%s' is not allowed (additionalProperties is false)",
                     c->len ? c->path : "", key);
            return -1;
        }
        if (sub == NULL && json_is_object(additional)) {
            sub = additional;
        }
        if (sub != NULL && check_child(c, key, sub, v, depth) != 0) {
            return -1;
        }
    }
    return 0;
}

static int check_array(struct checker *c, const json_t *schema, const json_t *j, int depth)
{
    const json_t *items = json_object_get(schema, "items");
    json_t *v;
    size_t i;

    if (!json_is_object(items)) {
        return 0;
    }
    json_array_foreach(j, i, v) {
        char index[24];
        snprintf(index, sizeof(index), "%zu", i);
        if (check_child(c, index, items, v, depth) != 0) {
            return -1;
        }
    }
    return 0;
}

/* Characters (code points) of a UTF-8 string, as JSON Schema counts. */
static json_int_t string_chars(const json_t *j)
{
    const unsigned char *p = (const unsigned char *)json_string_value(j);
    size_t n = json_string_length(j);
    json_int_t chars = 0;

    for (size_t i = 0; i < n; i++) {
        chars += (p[i] & 0xc0) != 0x80;
    }
    return chars;
}

static int check_number(struct checker *c, const json_t *schema, const json_t *j)
{
    const json_t *min = json_object_get(schema, "minimum");
    const json_t *max = json_object_get(schema, "maximum");
    const json_t *xmin = json_object_get(schema, "exclusiveMinimum");
    const json_t *xmax = json_object_get(schema, "exclusiveMaximum");
    double v = json_number_value(j);

    if (json_is_number(min) && v < json_number_value(min)) {
        snprintf(c->errstr, c->errstr_size, "field '%s': below the minimum %g", where(c),
                 json_number_value(min));
        return -1;
    }
    if (json_is_number(max) && v > json_number_value(max)) {
        snprintf(c->errstr, c->errstr_size, "field '%s': above the maximum %g", where(c),
                 json_number_value(max));
        return -1;
    }
    /* Draft 6 and later: exclusiveMinimum/Maximum are numbers. */
    if (json_is_number(xmin) && v <= json_number_value(xmin)) {
        snprintf(c->errstr, c->errstr_size, "field '%s': not above the exclusive minimum %g",
                 where(c), json_number_value(xmin));
        return -1;
    }
    if (json_is_number(xmax) && v >= json_number_value(xmax)) {
        snprintf(c->errstr, c->errstr_size, "field '%s': not below the exclusive maximum %g",
                 where(c), json_number_value(xmax));
        return -1;
    }
    return 0;
}

static int check_bounds(struct checker *c, const json_t *schema, const json_t *j)
{
    const json_t *minlen = json_object_get(schema, "minLength");
    const json_t *maxlen = json_object_get(schema, "maxLength");

    if (json_is_number(j)) {
        return check_number(c, schema, j);
    }
    if (json_is_string(j) && json_is_integer(minlen) &&
        string_chars(j) < json_integer_value(minlen)) {
        snprintf(c->errstr, c->errstr_size, "field '%s': shorter than minLength %lld", where(c),
                 (long long)json_integer_value(minlen));
        return -1;
    }
    if (json_is_string(j) && json_is_integer(maxlen) &&
        string_chars(j) > json_integer_value(maxlen)) {
        snprintf(c->errstr, c->errstr_size, "field '%s': longer than maxLength %lld", where(c),
                 (long long)json_integer_value(maxlen));
        return -1;
    }
    return 0;
}

static int check_enum(struct checker *c, const json_t *schema, const json_t *j)
{
    const json_t *values = json_object_get(schema, "enum");
    const json_t *constant = json_object_get(schema, "const");
    json_t *v;
    size_t i;

    if (constant != NULL && !json_equal(constant, (json_t *)j)) {
        snprintf(c->errstr, c->errstr_size, "field '%s': not the constant value", where(c));
        return -1;
    }
    if (!json_is_array(values)) {
        return 0;
    }
    json_array_foreach(values, i, v) {
        if (json_equal(v, (json_t *)j)) {
            return 0;
        }
    }
    snprintf(c->errstr, c->errstr_size, "field '%s': not one of the enum values", where(c));
    return -1;
}

/* allOf: every one; anyOf: at least one; oneOf: exactly one. */
static int check_combinations(struct checker *c, const json_t *schema, const json_t *j,
                              int depth)
{
    const json_t *all = json_object_get(schema, "allOf");
    const json_t *any = json_object_get(schema, "anyOf");
    const json_t *one = json_object_get(schema, "oneOf");
    size_t i, matches = 0;
    json_t *s;

    json_array_foreach(all, i, s) {
        if (check(c, s, j, depth + 1) != 0) {
            return -1;
        }
    }
    if (json_is_array(any)) {
        json_array_foreach(any, i, s) {
            if (check(c, s, j, depth + 1) == 0) {
                matches++;
                break;
            }
        }
        if (matches == 0) {
            snprintf(c->errstr, c->errstr_size, "field '%s': matches none of anyOf", where(c));
            return -1;
        }
    }
    if (json_is_array(one)) {
        matches = 0;
        json_array_foreach(one, i, s) {
            matches += check(c, s, j, depth + 1) == 0;
        }
        if (matches != 1) {
            snprintf(c->errstr, c->errstr_size, "field '%s': matches %zu of oneOf (needs 1)",
                     where(c), matches);
            return -1;
        }
    }
    return 0;
}

/* The schema a local "$ref" ("#", "#/definitions/x", "#/$defs/x"...)
 * points to in the root schema, or NULL. */
static const json_t *resolve_ref(const struct checker *c, const char *ref)
{
    const json_t *at = c->root;
    char token[256];

    ref++; /* '#' */
    while (*ref == '/' && at != NULL) {
        size_t n = 0;
        ref++;
        while (*ref != '\0' && *ref != '/' && n + 1 < sizeof(token)) {
            /* RFC 6901 escapes: ~1 is '/', ~0 is '~'. */
            if (ref[0] == '~' && (ref[1] == '0' || ref[1] == '1')) {
                token[n++] = ref[1] == '1' ? '/' : '~';
                ref += 2;
            } else {
                token[n++] = *ref++;
            }
        }
        token[n] = '\0';
        if (json_is_array(at)) {
            char *end;
            unsigned long i = strtoul(token, &end, 10);
            at = *token != '\0' && *end == '\0' ? json_array_get(at, i) : NULL;
        } else {
            at = json_object_get(at, token);
        }
    }
    return *ref == '\0' ? at : NULL;
}

static int check(struct checker *c, const json_t *schema, const json_t *j, int depth)
{
    const char *ref;

    if (json_is_true(schema) || !json_is_object(schema)) {
        return 0;
    }
    if (depth > JSON_SCHEMA_MAX_DEPTH) {
        snprintf(c->errstr, c->errstr_size, "field '%s': nested too deeply (or a $ref loop)",
                 where(c));
        return -1;
    }
    ref = json_string_value(json_object_get(schema, "$ref"));
    if (ref != NULL && ref[0] != '#') {
        return 0; /* another document (registry schema references): not checked */
    }
    if (ref != NULL) {
        const json_t *target = resolve_ref(c, ref);
        if (target == NULL) {
            snprintf(c->errstr, c->errstr_size, "field '%s': the schema's $ref '%s' points to "
                     "nothing in the schema", where(c), ref);
            return -1;
        }
        /* Draft 7 and earlier: a $ref replaces its siblings. */
        return check(c, target, j, depth + 1);
    }
    if (check_type(c, json_object_get(schema, "type"), j) != 0 ||
        check_enum(c, schema, j) != 0 || check_bounds(c, schema, j) != 0 ||
        check_combinations(c, schema, j, depth) != 0) {
        return -1;
    }
    if (json_is_object(j)) {
        return check_object(c, schema, j, depth);
    }
    if (json_is_array(j)) {
        return check_array(c, schema, j, depth);
    }
    return 0;
}

int kafka_json_schema_check(const json_t *schema, const json_t *doc, char *errstr,
                            size_t errstr_size)
{
    struct checker c = {schema, "", 0, errstr, errstr_size};

    return check(&c, schema, doc, 0);
}
