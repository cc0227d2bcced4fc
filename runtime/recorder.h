/*
 * recorder.h - what one execution leaves behind: its record in the
 * container's execution history, its lines in the container's log file,
 * and the process and execution ids on the log lines of the thread that
 * runs it. The engine calls these; each accepts a NULL recorder (no
 * container directory: nothing is recorded).
 *
 * History problems never stop an execution: they are logged (stderr and
 * the log file) and the execution goes on without (the rest of) its record.
 */
#ifndef CONNRT_RECORDER_H
#define CONNRT_RECORDER_H

#include "container.h"
#include "document.h"
#include "engine.h"
#include "history.h"

typedef struct connrt_recorder connrt_recorder_t;

/* Begin recording an execution of `process_id` (borrowed for the call) in
 * `c`. Returns a new recorder, freed by connrt_recorder_end; NULL when the
 * container has no directory (or no memory). */
connrt_recorder_t *connrt_recorder_begin(connrt_container_t *c, const char *process_id);

/* The outcome of one document; `doc` and `error` are borrowed until
 * connrt_recorder_chunk_end. */
void connrt_recorder_document(connrt_recorder_t *r, const connrt_document_t *doc,
                              connrt_history_outcome_t outcome, const char *error);

/* 1 when successful documents are recorded with their tracked properties
 * (history.documents=all); 0 without a history record. */
int connrt_recorder_keeps_successes(const connrt_recorder_t *r);

/* The chunk's documents are final: write them (one transaction). */
void connrt_recorder_chunk_end(connrt_recorder_t *r);

/* Why the execution fails (the first message is kept); logged as an error. */
void connrt_recorder_failure(connrt_recorder_t *r, const char *message);

/* End the execution with its exit status (DESIGN §7) and final counts, and
 * free r. */
void connrt_recorder_end(connrt_recorder_t *r, int exit_status,
                         const struct connrt_engine_counts *counts);

#endif
