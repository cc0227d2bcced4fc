/*
 * json_scan.h - the value an RFC 6901 pointer designates, found by scanning
 * the JSON text once, without building a tree.
 *
 * A fast path in front of jansson (json_loadb + connrt_json_pointer_get):
 * it answers only when it is sure that jansson, with JSON_DECODE_ANY |
 * JSON_ALLOW_NUL, would accept the whole text and give the same property
 * text. Everything else (errors, escapes in the value or in a key on the
 * path, duplicate keys on the path, reals, very deep nesting) is left to
 * jansson, so results and error messages stay jansson's.
 */
#ifndef CONNRT_JSON_SCAN_H
#define CONNRT_JSON_SCAN_H

#include <stddef.h>

/*
 * Scans `len` bytes of `json` (borrowed; need not be NUL-terminated) for
 * `pointer` (a C string). Returns 0 when sure, with *value and *value_len
 * the property text of the value: the content of a string without escapes,
 * or the text of an integer, true, false or null. *value is borrowed from
 * `json` (it is not NUL-terminated). Returns 1 when not sure: ask jansson.
 */
int connrt_json_scan_pointer(const char *json, size_t len, const char *pointer,
                             const char **value, size_t *value_len);

#endif
