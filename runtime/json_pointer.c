/*
 * json_pointer.c - RFC 6901 evaluation on jansson values.
 */
#include "json_pointer.h"

#include "json_memory.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Decode one reference token (raw text up to '/' or the end) into `out`
 * (at least raw_len + 1 bytes). Returns 0, or -1 with errstr. */
static int decode_token(const char *raw, size_t raw_len, char *out, char *errstr,
                        size_t errstr_size)
{
    size_t n = 0;
    for (size_t i = 0; i < raw_len; i++) {
        if (raw[i] != '~') {
            out[n++] = raw[i];
            continue;
        }
        if (i + 1 < raw_len && (raw[i + 1] == '0' || raw[i + 1] == '1')) {
            out[n++] = raw[i + 1] == '0' ? '~' : '/';
            i++;
            continue;
        }
        if (i + 1 < raw_len) {
            snprintf(errstr, errstr_size, "invalid escape '~%c' (only ~0 and ~1 exist)",
                     raw[i + 1]);
        } else {
            snprintf(errstr, errstr_size, "invalid escape: '~' at the end of a token "
                                          "(only ~0 and ~1 exist)");
        }
        return -1;
    }
    out[n] = '\0';
    return 0;
}

/* Where we are, for messages: the pointer text consumed so far. */
static void describe_location(char *buf, size_t size, const char *pointer, size_t consumed)
{
    if (consumed == 0) {
        snprintf(buf, size, "the top level");
    } else {
        snprintf(buf, size, "'%.*s'", (int)consumed, pointer);
    }
}

static const char *type_name(const json_t *v)
{
    switch (json_typeof(v)) {
    case JSON_OBJECT:
        return "an object";
    case JSON_ARRAY:
        return "an array";
    case JSON_STRING:
        return "a string";
    case JSON_INTEGER:
    case JSON_REAL:
        return "a number";
    case JSON_TRUE:
    case JSON_FALSE:
        return "a boolean";
    case JSON_NULL:
        return "null";
    }
    return "a value";
}

/* RFC 6901 array index: "0" or digits without a leading zero. */
static int parse_index(const char *token, size_t *out)
{
    size_t len = strlen(token);
    if (len == 0 || (len > 1 && token[0] == '0') || len > 18) {
        return -1;
    }
    size_t value = 0;
    for (size_t i = 0; i < len; i++) {
        if (token[i] < '0' || token[i] > '9') {
            return -1;
        }
        value = value * 10 + (size_t)(token[i] - '0');
    }
    *out = value;
    return 0;
}

static json_t *step_into(const json_t *cur, const char *token, const char *where, char *errstr,
                         size_t errstr_size)
{
    if (json_is_object(cur)) {
        json_t *next = json_object_get(cur, token);
        if (next == NULL) {
            snprintf(errstr, errstr_size, "no member '%s' under %s", token, where);
        }
        return next;
    }
    if (json_is_array(cur)) {
        size_t index;
        if (parse_index(token, &index) != 0) {
            snprintf(errstr, errstr_size, "'%s' is not an array index under %s", token, where);
            return NULL;
        }
        if (index >= json_array_size(cur)) {
            snprintf(errstr, errstr_size, "index %zu out of range under %s (%zu elements)", index,
                     where, json_array_size(cur));
            return NULL;
        }
        return json_array_get(cur, index);
    }
    snprintf(errstr, errstr_size, "%s is %s, not an object or array (looking for '%s')", where,
             type_name(cur), token);
    return NULL;
}

int connrt_json_pointer_get(const json_t *root, const char *pointer, json_t **out, char *errstr,
                            size_t errstr_size)
{
    if (pointer == NULL || (pointer[0] != '\0' && pointer[0] != '/')) {
        snprintf(errstr, errstr_size, "invalid JSON pointer: it must be empty or start with '/'");
        return -1;
    }
    char *token = malloc(strlen(pointer) + 1);
    if (token == NULL) {
        snprintf(errstr, errstr_size, "out of memory");
        return -1;
    }
    const json_t *cur = root;
    const char *p = pointer;
    int rc = 0;
    while (*p == '/') {
        const char *start = p + 1;
        const char *end = strchr(start, '/');
        size_t raw_len = end ? (size_t)(end - start) : strlen(start);
        char where[256];
        describe_location(where, sizeof(where), pointer, (size_t)(p - pointer));
        if (decode_token(start, raw_len, token, errstr, errstr_size) != 0) {
            rc = -1;
            break;
        }
        cur = step_into(cur, token, where, errstr, errstr_size);
        if (cur == NULL) {
            rc = -1;
            break;
        }
        p = start + raw_len;
    }
    free(token);
    if (rc == 0) {
        *out = (json_t *)cur;
    }
    return rc;
}

char *connrt_json_value_text(const json_t *value)
{
    if (json_is_string(value)) {
        return strndup(json_string_value(value), json_string_length(value));
    }
    return connrt_json_dumps(value, JSON_COMPACT | JSON_ENCODE_ANY);
}
