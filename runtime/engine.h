/*
 * engine.h - runs one execution of a process (DESIGN §2, §6, §7): documents
 * from the input (or a start operation) through set-properties, connector
 * and output steps, application errors to <on-error>, and exactly one
 * outcome per document.
 *
 * Memory stays flat in the number of documents: the input is processed in
 * chunks (container property execution.max.documents.in.flight), each in
 * its own arena, with outcomes aggregated and output written per chunk. A
 * start operation's chunks go through the rest of the process on a second
 * thread while the operation reads the next one (two chunks at most).
 */
#ifndef CONNRT_ENGINE_H
#define CONNRT_ENGINE_H

#include <stdio.h>

#include "container.h"
#include "definitions.h"
#include "input.h"
#include "output.h"

struct connrt_engine_options {
    const char *input;                  /* file, directory or "-"; NULL: stdin */
    connrt_input_format_t input_format; /* for files and stdin */
    const char *output;                 /* file or "-"; NULL: stdout */
    size_t chunk_documents;             /* 0: from the container property */
    FILE *report;                       /* per-document errors and summary; NULL: stderr */
    /* A listener's execution: the documents its start operation already
     * emitted (borrowed for the run); the start step is not executed. */
    connrt_batch_t *emitted;
    /* Written to instead of opening `output` (borrowed, shared by the
     * executions of a listener; connrt_output is thread-safe). */
    connrt_output_t *shared_output;
    int quiet; /* no summary line on `report` */
    /* Listener: executions take a slot of this cap shared with other
     * listeners (borrowed; NULL: only the listener's own pool limits). */
    struct connrt_slots *slots;
    int append_output; /* listener: append to `output` instead of truncating */
};

struct connrt_engine_counts {
    size_t documents;          /* documents that entered the execution */
    size_t success;
    size_t application_errors; /* including those handled by <on-error> */
    size_t failures;           /* an operation could not run for them */
    double seconds;
};

/* Documents held in memory at once when nothing else is configured. Large,
 * because every chunk ends with a wait: Produce waits for the delivery
 * reports of the whole chunk (a round trip and more, however small the
 * chunk), so 10,000-document chunks spent most of the time waiting. The
 * chunk's arena is capped in bytes too, so large documents stay bounded. */
#define CONNRT_ENGINE_DEFAULT_CHUNK 100000

/*
 * Run `process` (borrowed, from `defs`) once. Operations are opened through
 * `container`. Each application error is reported on opts->report as
 * "connrt: document N (ORIGIN): application error at step 'STEP': REASON",
 * and a summary line ends the run. Fills *counts (may be NULL) and returns
 * the exit status of DESIGN §7: CONNRT_EXIT_OK, _APPLICATION_ERRORS, _USAGE
 * (bad --input/--output, a step that cannot run in this process) or
 * _FAILURE (an operation could not be opened or failed).
 */
int connrt_engine_run(connrt_container_t *container, const connrt_definitions_t *defs,
                      const struct connrt_def_component *process,
                      const struct connrt_engine_options *opts,
                      struct connrt_engine_counts *counts);

/* Whether every document of a run with these counts ended in success or
 * was taken by <on-error> (what a listener commits after). */
int connrt_engine_handled(const struct connrt_def_component *process, int status,
                          const struct connrt_engine_counts *counts);

/* Whether `process` reads documents from --input (its start step has no
 * operation). */
int connrt_engine_reads_input(const struct connrt_def_component *process);

#endif
