/*
 * java_properties.h - a parser for Java .properties files (container.properties):
 * comments (# and !), '=', ':' or whitespace separators, backslash escapes,
 * \uXXXX (written out as UTF-8), line continuations. Keys keep the line they
 * started on so errors can say "file:line".
 */
#ifndef CONNRT_JAVA_PROPERTIES_H
#define CONNRT_JAVA_PROPERTIES_H

#include <stddef.h>

typedef struct connrt_jprops connrt_jprops_t;

/* Parse `len` bytes of `text`; `filename` (borrowed, copied) names the source
 * in messages. Returns a new object owned by the caller (free with
 * connrt_jprops_destroy), or NULL with "file:line: why" in errstr. A later
 * duplicate key replaces the earlier value, as in Java. */
connrt_jprops_t *connrt_jprops_parse(const char *text, size_t len, const char *filename,
                                     char *errstr, size_t errstr_size);

/* Read and parse a file. Same ownership as connrt_jprops_parse. */
connrt_jprops_t *connrt_jprops_load_file(const char *path, char *errstr, size_t errstr_size);

/* An empty set (for containers without container.properties); owned by caller. */
connrt_jprops_t *connrt_jprops_new_empty(const char *filename);

void connrt_jprops_destroy(connrt_jprops_t *props); /* NULL is a no-op */

/* Value of `key` or NULL; borrowed until destroy. */
const char *connrt_jprops_get(const connrt_jprops_t *props, const char *key);
size_t connrt_jprops_count(const connrt_jprops_t *props);
/* i-th entry in file order; pointers borrowed until destroy. */
void connrt_jprops_at(const connrt_jprops_t *props, size_t i, const char **key, const char **value,
                      int *line);
/* Source file name given at parse time; borrowed until destroy. */
const char *connrt_jprops_filename(const connrt_jprops_t *props);

#endif
