/*
 * listener.h - runs a process whose start step is a listen operation
 * (DESIGN §4, §5 Listen): opens the operation, hands it a listener, runs
 * one execution for each batch the operation submits on a pool of worker
 * threads, and reports each execution's outcome back to the operation,
 * which commits only after success.
 *
 * The pool has container property execution.max.concurrent threads, so the
 * container's cap wins over a listener asking for more
 * (max_concurrent_executions): further batches wait for a free worker.
 * A batch comes built (host->listener_submit) or is built by the worker
 * through the operation's fill callback (host->listener_submit_fill, ABI
 * 1.4) before it takes a container slot and counts as running; finished
 * batches and their arenas are kept for reuse.
 */
#ifndef CONNRT_LISTENER_H
#define CONNRT_LISTENER_H

#include <connrt/connector.h>

#include "container.h"
#include "definitions.h"
#include "engine.h"

struct connrt_listener_counts {
    size_t executions;        /* executions run */
    size_t failed_executions; /* reported back as failed (retried by the operation) */
    size_t documents;         /* documents of every execution, retries included */
    size_t success, application_errors, failures;
    size_t max_running; /* most executions running at the same moment */
};

/* Workers when execution.max.concurrent is not set. */
#define CONNRT_LISTENER_DEFAULT_WORKERS 16

/*
 * Open the start operation of `process` (borrowed, from `defs`; both must
 * outlive the listener) through `container` and start it. Executions write
 * to opts->output (one writer shared by all) and report to opts->report
 * (both as for connrt_engine_run). Returns a new listener owned by the
 * caller (stop it, then destroy it), or NULL with errstr.
 */
connrt_listener_t *connrt_listener_start(connrt_container_t *container,
                                         const connrt_definitions_t *defs,
                                         const struct connrt_def_component *process,
                                         const struct connrt_engine_options *opts,
                                         char *errstr, size_t errstr_size);

/* Stop fetching, let running executions finish and their offsets commit
 * (the operation's listen_stop), then end the workers. Fills *counts (may
 * be NULL). Returns 0, or -1 with errstr when the output could not be
 * written. */
int connrt_listener_stop(connrt_listener_t *l, struct connrt_listener_counts *counts,
                         char *errstr, size_t errstr_size);

/* The counts so far, and how many executions run now (thread-safe: for
 * /metrics while the listener runs). */
void connrt_listener_counts_now(connrt_listener_t *l, struct connrt_listener_counts *counts,
                                size_t *running);

/* The listen operation it runs; borrowed from the container. */
const struct connrt_open_operation *connrt_listener_operation(const connrt_listener_t *l);

/* Free a stopped listener. NULL no-op. */
void connrt_listener_destroy(connrt_listener_t *l);

/* Whether the process starts with a listen operation (from the definitions
 * and the connector's operation table; nothing is opened). */
int connrt_listener_starts(connrt_container_t *container, const connrt_definitions_t *defs,
                           const struct connrt_def_component *process);

#endif
