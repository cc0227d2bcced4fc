/*
 * input.h - documents for `connrt run --input` (DESIGN §7): one per regular
 * file of a directory (sorted by name, name in property file.name), or one
 * per line of a file or stdin, as plain lines or as JSON objects
 * {"value": ..., "properties": {...}}.
 */
#ifndef CONNRT_INPUT_H
#define CONNRT_INPUT_H

#include <connrt/connector.h>
#include "arena.h"

typedef enum connrt_input_format {
    CONNRT_INPUT_LINES = 0, /* one document per line; \n or \r\n stripped */
    CONNRT_INPUT_JSONL      /* one document per JSON object line */
} connrt_input_format_t;

typedef struct connrt_input connrt_input_t;

/* "lines" or "jsonl". Returns 0, or -1 for any other name. */
int connrt_input_format_parse(const char *name, connrt_input_format_t *out);

/*
 * Open `path`: a directory, a file, or "-" / NULL for stdin. `format`
 * applies to files and stdin. Returns a reader owned by the caller (free
 * with connrt_input_close), or NULL with "PATH: reason" in errstr.
 */
connrt_input_t *connrt_input_open(const char *path, connrt_input_format_t format, char *errstr,
                                  size_t errstr_size);
void connrt_input_close(connrt_input_t *in); /* NULL no-op; does not close stdin */

/* A line (or a file of a directory) larger than this many bytes is not read
 * into memory: it becomes a document with an empty payload and an
 * application error naming its line (or file) and size. */
#define CONNRT_INPUT_DEFAULT_MAX_DOCUMENT ((size_t)100 * 1024 * 1024)
void connrt_input_set_max_document(connrt_input_t *in, size_t bytes);

/*
 * The next document, created in `arena` with its origin set ("PATH:LINE",
 * or the file's path for a directory). Returns 1 with *doc; *error is NULL,
 * or (jsonl) an arena string "PATH:LINE: why" when the line is malformed:
 * the document (its payload is the raw line) is then an application error.
 * Returns 0 at the end of input, -1 with errstr when reading failed or on
 * no memory.
 */
int connrt_input_next(connrt_input_t *in, connrt_arena_t *arena, connrt_document_t **doc,
                      const char **error, char *errstr, size_t errstr_size);

#endif
