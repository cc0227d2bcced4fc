/*
 * json_memory.h - jansson when memory runs out. jansson 2.14 reports a
 * failed allocation inside json_loadb as bad JSON ("string or '}'
 * expected") or even returns a value with a key cut short, and json_dumps
 * may return text with an object key left out.
 * These wrappers turn all of that into a plain "no memory".
 */
#ifndef CONNRT_JSON_MEMORY_H
#define CONNRT_JSON_MEMORY_H

#include <stddef.h>
#include <jansson.h>

/* Route jansson's allocations through malloc() and free(), noting per
 * thread when one fails. Call once at start-up, before other threads
 * exist; without it, connrt_json_loadb only knows what jansson says. */
void connrt_json_memory_setup(void);

/* json_loadb(). On failure *no_memory (may be NULL) says whether memory ran
 * out, in which case err's text means nothing. */
json_t *connrt_json_loadb(const char *buf, size_t len, size_t flags, json_error_t *err,
                          int *no_memory);

/* json_dumps(), but NULL when memory runs out part way. Returns a string
 * owned by the caller (free()), or NULL. */
char *connrt_json_dumps(const json_t *value, size_t flags);

#endif
