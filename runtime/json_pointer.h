/*
 * json_pointer.h - RFC 6901 JSON pointers ("/customer/id", "/items/0",
 * "~0" for '~' and "~1" for '/') evaluated on jansson values, and the text
 * a JSON value gives a document property.
 */
#ifndef CONNRT_JSON_POINTER_H
#define CONNRT_JSON_POINTER_H

#include <stddef.h>
#include <jansson.h>

/*
 * The value `pointer` designates in `root`. "" is the whole document.
 * Returns 0 and *out (borrowed from root), or -1 with a message in errstr
 * such as "no member 'id' under '/customer'", "index 3 out of range under
 * '/items' (2 elements)" or "invalid escape '~2' (only ~0 and ~1 exist)".
 */
int connrt_json_pointer_get(const json_t *root, const char *pointer, json_t **out, char *errstr,
                            size_t errstr_size);

/* Text of `value` for a property: a string's content as is, any other value
 * as compact JSON. Returns a string owned by the caller (free()), or NULL on
 * no memory. */
char *connrt_json_value_text(const json_t *value);

#endif
