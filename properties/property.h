/*
 * property.h - checking values against a connector property table
 * (struct connrt_property_def rows from connrt/connector.h).
 */
#ifndef CONNRT_PROPERTY_H
#define CONNRT_PROPERTY_H

#include <connrt/connector.h>

/* The row that governs `name`: an exact row, else a PREFIX row whose name
 * starts `name`. NULL when none. Returned pointer borrowed from `table`. */
const struct connrt_property_def *connrt_property_find(const struct connrt_property_def *table,
                                                       const char *name);

/* Check `value` against `def` (type, bounds, allowed values, INVALID flag).
 * Returns 0, or -1 with a message such as "expected an integer between 1 and
 * 100, got 'abc'" in errstr. A SECRET value is never echoed. */
int connrt_property_check(const struct connrt_property_def *def, const char *value, char *errstr,
                          size_t errstr_size);

/* As connrt_property_check, naming `name` in the message instead of the row
 * name (for PREFIX rows, whose row name is only the prefix). */
int connrt_property_check_named(const struct connrt_property_def *def, const char *name,
                                const char *value, char *errstr, size_t errstr_size);

/* Parse an INT, SIZE (KB/MB/GB suffixes), DURATION_MS (ms/s/m/h suffixes)
 * or BOOL (1/0) value. Returns 0, or -1 when it does not parse. */
int connrt_property_parse_int(connrt_property_type_t type, const char *value, long long *out);

/* The closest row name to `name` (edit distance <= 3), or NULL; borrowed
 * from `table`. For "did you mean" messages. */
const char *connrt_property_suggest(const struct connrt_property_def *table, const char *name);

/* Human-readable name of a type: "string", "integer", ... (static). */
const char *connrt_property_type_name(connrt_property_type_t type);

#endif
