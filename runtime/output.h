/*
 * output.h - the JSON Lines output of `connrt run` (DESIGN §7): one object
 * per document with value (base64 with "value_encoding" when not UTF-8),
 * key, topic, partition, offset, timestamp, headers (from the kafka.*
 * tracked properties; null or {} when absent), properties, tracked (the
 * tracked properties those fields do not show), outcome and error.
 */
#ifndef CONNRT_OUTPUT_H
#define CONNRT_OUTPUT_H

#include <stdio.h>
#include <connrt/connector.h>

/* Thread-safe: lines of concurrent writers never mix. */
typedef struct connrt_output connrt_output_t;

/* Create or truncate `path`; "-" or NULL writes to stdout. Returns a writer
 * owned by the caller (close with connrt_output_close), or NULL with
 * "PATH: reason" in errstr. */
connrt_output_t *connrt_output_open(const char *path, char *errstr, size_t errstr_size);
/* The same, appending to `path` (created when missing): a long-running
 * container keeps what earlier runs wrote. */
connrt_output_t *connrt_output_open_append(const char *path, char *errstr, size_t errstr_size);
/* A writer on `fp` (borrowed; flushed, never closed). */
connrt_output_t *connrt_output_open_stream(FILE *fp, const char *name);

/* Append the line of `doc` (borrowed). `error` NULL: outcome success;
 * else application_error with that reason. Lines are buffered. Returns 0,
 * or -1 with errstr when writing failed. */
int connrt_output_write(connrt_output_t *out, const connrt_document_t *doc, const char *error,
                        char *errstr, size_t errstr_size);
/* Write buffered lines through to the file. Returns 0 or -1 with errstr. */
int connrt_output_flush(connrt_output_t *out, char *errstr, size_t errstr_size);
/* Flush and close (stdout and streams are flushed, not closed). Returns 0 or
 * -1 with errstr when the data could not be written. NULL no-op. */
int connrt_output_close(connrt_output_t *out, char *errstr, size_t errstr_size);

/* Keep at most about `window` bytes of what `out` writes in the page cache
 * (container property output.cached.bytes): older parts are written back
 * and dropped by a thread of their own. No effect with 0 or when the
 * output is not a regular file. Call once, before the first line. */
void connrt_output_limit_cache(connrt_output_t *out, long long window);

/* Lines written so far. */
size_t connrt_output_count(const connrt_output_t *out);

#endif
