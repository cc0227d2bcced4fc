/*
 * describe.h - prints property tables (the runtime's container properties
 * and each connector's connection, container and operation properties) as a
 * text table, a JSON document or the Markdown of docs/properties.md. All three
 * come from the same tables through one row model, so they cannot disagree.
 * Secret properties never show a default value.
 */
#ifndef CONNRT_DESCRIBE_H
#define CONNRT_DESCRIBE_H

#include <stdio.h>

#include <connrt/connector.h>

typedef enum connrt_describe_format {
    CONNRT_DESCRIBE_TEXT = 0,
    CONNRT_DESCRIBE_JSON = 1,
    CONNRT_DESCRIBE_MARKDOWN = 2
} connrt_describe_format_t;

/*
 * Write the description to `out` (borrowed). `runtime_table` (may be NULL:
 * left out) is the runtime's container property table; `connectors` holds
 * `nconnectors` borrowed descriptors, written in that order. Returns 0, or
 * -1 with errstr when the output could not be built or written.
 */
int connrt_describe_write(FILE *out, connrt_describe_format_t format,
                          const struct connrt_property_def *runtime_table,
                          const struct connrt_connector *const *connectors, size_t nconnectors,
                          char *errstr, size_t errstr_size);

#endif
