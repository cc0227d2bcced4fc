/*
 * history.h - execution history in SQLite (DESIGN §9): one row per
 * execution, the outcome of every document with its error and tracked
 * properties, and payloads if asked, in one file (a container's
 * data/history.db), queryable with `connrt executions` and the sqlite3 shell.
 *
 * Durability: WAL journal. A commit has written its frames to the WAL file
 * when it returns, so they are in the kernel's page cache: a process killed
 * with SIGKILL loses no committed record, and the next open replays the WAL.
 * synchronous=NORMAL (default) syncs the WAL only at checkpoints, so a power
 * cut or kernel crash may lose the last commits but never corrupts the
 * file; synchronous=FULL (option synchronous_full) syncs every commit.
 *
 * Cost: documents are recorded a chunk at a time, in one transaction with
 * prepared statements, and consecutive documents that tell nothing more
 * than their neighbours (same outcome and error, no tracked properties, no
 * payload, consecutive lines of one origin) share one row. A short
 * execution whose documents get no rows (history.documents=errors, all
 * successes) costs two transactions: its 'running' row at the beginning,
 * and its final row at the end. Retention is checked with one index probe
 * per execution; rows are deleted only when some have expired.
 *
 * Schema (PRAGMA user_version = 1; docs/operations.md shows queries):
 *   executions(id, process, started_at, ended_at, status, documents, success,
 *              application_errors, failures, error, pid)
 *     times "YYYY-MM-DDTHH:MM:SS.mmmZ" (UTC; text order is time order);
 *     status running | success | application_errors | failure
 *   documents(execution_id, seq, count, outcome, origin, line, error)
 *     a row stands for documents seq .. seq+count-1, with lines line ..
 *     line+count-1 of origin (line NULL: no line); outcome success |
 *     application_error | failure
 *   tracked(execution_id, seq, name, value), indexed by (name, value)
 *   payloads(execution_id, seq, payload)
 */
#ifndef CONNRT_HISTORY_H
#define CONNRT_HISTORY_H

#include <stddef.h>
#include <time.h>

#include "document.h"

typedef struct connrt_history connrt_history_t;
typedef struct connrt_history_execution connrt_history_execution_t;

typedef enum {
    CONNRT_HISTORY_SUCCESS = 1,
    CONNRT_HISTORY_APPLICATION_ERROR = 2,
    CONNRT_HISTORY_FAILURE = 3
} connrt_history_outcome_t;

/* Which documents get rows (executions and counts are always kept). */
typedef enum {
    CONNRT_HISTORY_DOCUMENTS_ALL = 0,
    CONNRT_HISTORY_DOCUMENTS_ERRORS, /* only those that did not succeed */
    CONNRT_HISTORY_DOCUMENTS_NONE
} connrt_history_documents_t;

struct connrt_history_options {
    long long retention_days; /* executions that started longer ago are deleted; 0: never */
    int payloads;             /* keep each recorded document's payload */
    connrt_history_documents_t documents;
    int synchronous_full;     /* sync the WAL at every commit (power-loss safe) */
};

/* ------------------------------------------------------------ writing */

/*
 * Open the history at `path` for recording, creating the file and its
 * schema. Executions left 'running' by a connrt process that is gone (or
 * by this process: none of this handle's can be running yet) are closed
 * as failures, "interrupted". Returns a new handle (free with
 * connrt_history_close), or NULL with errstr.
 */
connrt_history_t *connrt_history_open(const char *path, const struct connrt_history_options *opts,
                                      char *errstr, size_t errstr_size);
/* Closes the database. Executions still open are not ended. NULL no-op. */
void connrt_history_close(connrt_history_t *h);

/*
 * Begin an execution of `process_id`: delete executions older than the
 * retention, insert a 'running' row. Thread-safe (one handle serves every
 * execution of a container). Returns 0 and *out (owned by the caller until
 * connrt_history_end), or -1 with errstr.
 */
int connrt_history_begin(connrt_history_t *h, const char *process_id,
                         connrt_history_execution_t **out, char *errstr, size_t errstr_size);
long long connrt_history_execution_id(const connrt_history_execution_t *x);
/* 1 when successful documents get rows (history.documents=all). */
int connrt_history_keeps_successes(const connrt_history_execution_t *x);

/* Note the outcome of `doc` for the next commit. `doc` and `error` (NULL:
 * none) are borrowed until then. Returns 0, or -1 on no memory. */
int connrt_history_add(connrt_history_execution_t *x, const connrt_document_t *doc,
                       connrt_history_outcome_t outcome, const char *error);

/* Write the noted documents and the counts so far in one transaction.
 * When no noted document gets a row (history.documents) and the counts
 * were written less than a second ago, nothing is written now: the next
 * commit, or the end, writes the counts. The noted documents are released
 * in every case. Returns 0, or -1 with errstr (the noted documents are
 * dropped). */
int connrt_history_commit(connrt_history_execution_t *x, char *errstr, size_t errstr_size);

struct connrt_history_counts {
    unsigned long long documents, success, application_errors, failures;
};

/*
 * Write what is noted and close the execution with its outcome, final
 * counts (NULL: those noted) and `error` (why it failed; NULL: none; never a
 * secret), in one transaction; when the noted documents cannot be written,
 * the execution is still closed. Frees x, also on error. Returns 0, or -1
 * with errstr.
 */
int connrt_history_end(connrt_history_execution_t *x, connrt_history_outcome_t outcome,
                       const struct connrt_history_counts *counts, const char *error,
                       char *errstr, size_t errstr_size);

/* ------------------------------------------------------------ reading */

/* Open an existing history to read it; never creates one. NULL with errstr
 * ("no execution history at PATH ..."). Free with connrt_history_close. */
connrt_history_t *connrt_history_open_existing(const char *path, char *errstr,
                                               size_t errstr_size);

struct connrt_history_filter {
    const char *process;       /* NULL: any */
    const char *status;        /* success, application_errors, failure (running: executions) */
    const char *since;         /* a time as stored (connrt_history_time_text); NULL: any */
    const char *tracked_name;  /* with tracked_value: has a document with this tracked value */
    const char *tracked_value;
    long long limit;           /* rows at most; 0: all */
};

struct connrt_history_execution_row {
    long long id;
    const char *process;
    const char *started_at;
    const char *ended_at; /* NULL while running */
    const char *status;
    long long documents, success, application_errors, failures;
    const char *error; /* NULL: none */
    long long pid;     /* of the connrt process that ran it */
};

struct connrt_history_document_row {
    long long execution_id;
    long long seq;
    const char *outcome; /* success, application_error, failure */
    const char *origin;  /* NULL: unknown */
    long long line;      /* 0: none */
    const char *error;   /* NULL: none */
    size_t ntracked;
    const char *const *tracked_names;
    const char *const *tracked_values;
    const void *payload; /* NULL: not kept */
    size_t payload_len;
};

/* A callback returns 0 to go on, non-zero to stop. Rows and their strings
 * are borrowed for the call. */
typedef int (*connrt_history_execution_fn)(void *opaque,
                                           const struct connrt_history_execution_row *row);
typedef int (*connrt_history_document_fn)(void *opaque,
                                          const struct connrt_history_document_row *row);

/* Matching executions, newest first; *more (may be NULL) tells whether the
 * limit left some out. Returns 0, or -1 with errstr. */
int connrt_history_list_executions(connrt_history_t *h, const struct connrt_history_filter *f,
                                   connrt_history_execution_fn fn, void *opaque, int *more,
                                   char *errstr, size_t errstr_size);

/* The documents of execution `id` in sequence order (f->status filters on
 * the document outcome, f->process and f->since are not used). Returns 0,
 * or -1 with errstr, also when there is no such execution. */
int connrt_history_list_documents(connrt_history_t *h, long long id,
                                  const struct connrt_history_filter *f,
                                  connrt_history_document_fn fn, void *opaque, int *more,
                                  char *errstr, size_t errstr_size);

/* `t` as stored: "YYYY-MM-DDTHH:MM:SS.mmmZ" (UTC). `size` >= 25. */
void connrt_history_time_text(const struct timespec *t, char *buf, size_t size);

#endif
