/*
 * listener.c - the runtime side of a listen operation: a queue of submitted
 * batches, worker threads that run one execution per batch, and the
 * outcome reported back through the operation's `done` callback.
 */
#include "listener.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../properties/java_properties.h"
#include "../properties/property.h"
#include "arena.h"
#include "batch.h"
#include "commands.h"
#include "host.h"
#include "slots.h"

#define WORKERS_PROPERTY "execution.max.concurrent"
#define OUTPUT_CACHE_PROPERTY "output.cached.bytes"
/* Batches (with their arenas) kept for reuse, so that executions do not go
 * back to malloc and fresh pages for every batch; a batch whose arena grew
 * past SPARE_BYTES is freed instead (big messages are exceptional). */
#define SPARE_BATCHES 4
#define SPARE_BYTES ((size_t)16 * 1024 * 1024)

struct job {
    struct job *next;
    connrt_batch_t *batch; /* owned, with its arena; NULL: `fill` makes it */
    int (*fill)(void *opaque, connrt_batch_t *batch);
    void (*done)(void *opaque, connrt_execution_outcome_t outcome);
    void *opaque;
};

struct connrt_listener {
    connrt_container_t *container;
    const connrt_definitions_t *defs;
    const struct connrt_def_component *process;
    struct connrt_engine_options opts; /* per execution: emitted, shared output */
    connrt_output_t *output;           /* owned; NULL when the process has no <output/> */
    struct connrt_open_operation *op;  /* borrowed from the container */
    int started;                       /* listen_start succeeded: listen_stop owed */

    pthread_mutex_t lock;
    pthread_cond_t wake;
    struct job *head, *tail;
    int stopping;
    size_t running;
    struct connrt_listener_counts counts;

    pthread_t *workers;
    size_t nworkers;

    pthread_mutex_t spare_lock;
    connrt_batch_t *spare[SPARE_BATCHES]; /* owned, cleared, arenas reset */
    size_t nspare;
};

/* ------------------------------------------------------------ host hooks */

static connrt_batch_t *listener_batch_new(connrt_listener_t *l)
{
    connrt_batch_t *batch = NULL;
    if (l != NULL) {
        pthread_mutex_lock(&l->spare_lock);
        batch = l->nspare > 0 ? l->spare[--l->nspare] : NULL;
        pthread_mutex_unlock(&l->spare_lock);
    }
    if (batch != NULL) {
        return batch;
    }
    connrt_arena_t *arena = connrt_arena_new();
    batch = arena ? connrt_batch_new(arena) : NULL;
    if (batch == NULL) {
        connrt_arena_destroy(arena);
    }
    return batch;
}

static void batch_free(connrt_batch_t *batch)
{
    if (batch != NULL) {
        connrt_arena_t *arena = connrt_batch_arena(batch);
        connrt_batch_destroy(batch);
        connrt_arena_destroy(arena);
    }
}

/* Done with `batch`: kept for the next listener_batch_new, or freed. */
static void batch_recycle(connrt_listener_t *l, connrt_batch_t *batch)
{
    if (batch == NULL) {
        return;
    }
    connrt_arena_t *arena = connrt_batch_arena(batch);
    if (connrt_arena_used(arena) <= SPARE_BYTES) {
        connrt_batch_clear(batch);
        connrt_arena_reset(arena);
        pthread_mutex_lock(&l->spare_lock);
        if (l->nspare < SPARE_BATCHES) {
            l->spare[l->nspare++] = batch;
            batch = NULL;
        }
        pthread_mutex_unlock(&l->spare_lock);
    }
    batch_free(batch);
}

/* A job for a worker: `batch` (owned; NULL: `fill` makes it). On failure
 * the batch is given back and `done` is never called. */
static int job_queue(connrt_listener_t *l, connrt_batch_t *batch,
                     int (*fill)(void *opaque, connrt_batch_t *batch),
                     void (*done)(void *opaque, connrt_execution_outcome_t outcome), void *opaque,
                     char *errstr, size_t errstr_size)
{
    struct job *job = calloc(1, sizeof(*job));
    if (job == NULL) {
        batch_recycle(l, batch);
        snprintf(errstr, errstr_size, "out of memory");
        return -1;
    }
    *job = (struct job){NULL, batch, fill, done, opaque};
    pthread_mutex_lock(&l->lock);
    if (l->stopping && l->nworkers == 0) {
        pthread_mutex_unlock(&l->lock);
        batch_free(batch);
        free(job);
        snprintf(errstr, errstr_size, "the listener has stopped");
        return -1;
    }
    if (l->tail != NULL) {
        l->tail->next = job;
    } else {
        l->head = job;
    }
    l->tail = job;
    pthread_cond_signal(&l->wake);
    pthread_mutex_unlock(&l->lock);
    return 0;
}

/* Takes ownership of `batch` in every case: on failure it is freed and
 * `done` is never called; `done` NULL discards the batch unrun. */
static int listener_submit(connrt_listener_t *l, connrt_batch_t *batch,
                           void (*done)(void *opaque, connrt_execution_outcome_t outcome),
                           void *opaque, char *errstr, size_t errstr_size)
{
    if (done == NULL || l == NULL || batch == NULL) {
        if (l != NULL) {
            batch_recycle(l, batch);
        } else {
            batch_free(batch);
        }
        if (done != NULL) {
            snprintf(errstr, errstr_size, "invalid submit: no listener or no batch");
            return -1;
        }
        return 0;
    }
    return job_queue(l, batch, NULL, done, opaque, errstr, errstr_size);
}

/* The batch is made and filled by the worker that runs it. */
static int listener_submit_fill(connrt_listener_t *l,
                                int (*fill)(void *opaque, connrt_batch_t *batch),
                                void (*done)(void *opaque, connrt_execution_outcome_t outcome),
                                void *opaque, char *errstr, size_t errstr_size)
{
    if (l == NULL || fill == NULL || done == NULL) {
        snprintf(errstr, errstr_size, "invalid submit: no listener, fill or done");
        return -1;
    }
    return job_queue(l, NULL, fill, done, opaque, errstr, errstr_size);
}

/* ---------------------------------------------------------------- workers */

static void count_execution(connrt_listener_t *l, const struct connrt_engine_counts *c,
                            int handled)
{
    l->counts.executions++;
    l->counts.failed_executions += handled ? 0 : 1;
    l->counts.documents += c->documents;
    l->counts.success += c->success;
    l->counts.application_errors += c->application_errors;
    l->counts.failures += c->failures;
}

/* The job's batch, filled by its `fill` when it has one; NULL when that
 * failed (the batch is gone, nothing ran). */
static connrt_batch_t *job_batch(connrt_listener_t *l, struct job *job)
{
    connrt_batch_t *batch = job->batch;
    if (job->fill != NULL) {
        batch = listener_batch_new(l);
        if (batch != NULL && job->fill(job->opaque, batch) != 0) {
            batch_recycle(l, batch);
            batch = NULL;
        }
    }
    job->batch = NULL;
    return batch;
}

/* An execution of `batch` (taken), in a container slot. */
static int run_batch(connrt_listener_t *l, connrt_batch_t *batch)
{
    struct connrt_engine_options opts = l->opts;
    struct connrt_engine_counts counts = {0};
    if (l->opts.slots != NULL) {
        connrt_slots_acquire(l->opts.slots);
    }
    pthread_mutex_lock(&l->lock);
    l->running++;
    if (l->running > l->counts.max_running) {
        l->counts.max_running = l->running;
    }
    pthread_mutex_unlock(&l->lock);
    opts.emitted = batch;
    int status = connrt_engine_run(l->container, l->defs, l->process, &opts, &counts);
    int handled = connrt_engine_handled(l->process, status, &counts);
    batch_recycle(l, batch);
    pthread_mutex_lock(&l->lock);
    count_execution(l, &counts, handled);
    l->running--;
    pthread_mutex_unlock(&l->lock);
    if (l->opts.slots != NULL) {
        connrt_slots_release(l->opts.slots);
    }
    return handled;
}

/* The batch is filled before the job takes a slot or counts as running:
 * a fill may wait for the operation's own limit. */
static void run_job(connrt_listener_t *l, struct job *job)
{
    connrt_batch_t *batch = job_batch(l, job);
    int handled = batch != NULL && run_batch(l, batch);
    job->done(job->opaque, handled ? CONNRT_EXECUTION_SUCCEEDED : CONNRT_EXECUTION_FAILED);
    free(job);
}

static void *worker_main(void *arg)
{
    connrt_listener_t *l = arg;
    pthread_setname_np(pthread_self(), "connrt-exec"); /* for top -H and perf */
    pthread_mutex_lock(&l->lock);
    for (;;) {
        while (l->head == NULL && !l->stopping) {
            pthread_cond_wait(&l->wake, &l->lock);
        }
        struct job *job = l->head;
        if (job == NULL) {
            break; /* stopping, and nothing left to run */
        }
        l->head = job->next;
        if (l->head == NULL) {
            l->tail = NULL;
        }
        pthread_mutex_unlock(&l->lock);
        run_job(l, job);
        pthread_mutex_lock(&l->lock);
    }
    pthread_mutex_unlock(&l->lock);
    return NULL;
}

static size_t worker_count(const connrt_container_t *container)
{
    long long value = connrt_container_int(container, WORKERS_PROPERTY);
    return value > 0 ? (size_t)value : CONNRT_LISTENER_DEFAULT_WORKERS;
}

static int workers_start(connrt_listener_t *l, char *errstr, size_t errstr_size)
{
    size_t n = worker_count(l->container);
    l->workers = calloc(n, sizeof(*l->workers));
    if (l->workers == NULL) {
        snprintf(errstr, errstr_size, "out of memory");
        return -1;
    }
    for (; l->nworkers < n; l->nworkers++) {
        if (pthread_create(&l->workers[l->nworkers], NULL, worker_main, l) != 0) {
            snprintf(errstr, errstr_size, "cannot start execution thread %zu", l->nworkers + 1);
            return -1;
        }
    }
    return 0;
}

static void workers_join(connrt_listener_t *l)
{
    pthread_mutex_lock(&l->lock);
    l->stopping = 1;
    pthread_cond_broadcast(&l->wake);
    pthread_mutex_unlock(&l->lock);
    for (size_t i = 0; i < l->nworkers; i++) {
        pthread_join(l->workers[i], NULL);
    }
    pthread_mutex_lock(&l->lock);
    l->nworkers = 0;
    pthread_mutex_unlock(&l->lock);
}

/* ------------------------------------------------------------- life cycle */

static int has_output_step(const struct connrt_def_step *steps, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (steps[i].kind == CONNRT_STEP_OUTPUT) {
            return 1;
        }
    }
    return 0;
}

int connrt_listener_starts(connrt_container_t *container, const connrt_definitions_t *defs,
                           const struct connrt_def_component *process)
{
    if (process->nsteps == 0 || process->steps[0].kind != CONNRT_STEP_START ||
        process->steps[0].operation == NULL) {
        return 0;
    }
    const struct connrt_def_component *op =
        connrt_definitions_find(defs, process->steps[0].operation);
    const struct connrt_def_component *conn =
        op && op->connection ? connrt_definitions_find(defs, op->connection) : NULL;
    const struct connrt_connector *connector =
        conn && conn->connector
            ? connrt_registry_find(connrt_container_registry(container), conn->connector)
            : NULL;
    const struct connrt_operation *entry =
        connector && op->type ? connrt_connector_operation(connector, op->type) : NULL;
    return entry != NULL && entry->kind == CONNRT_OP_LISTEN;
}

static int open_start(connrt_listener_t *l, char *errstr, size_t errstr_size)
{
    const struct connrt_def_step *start = &l->process->steps[0];
    char why[1024];
    if (connrt_container_operation(l->container, l->defs, start->operation, &l->op, why,
                                   sizeof(why)) != 0) {
        snprintf(errstr, errstr_size, "%s", why); /* located at the component */
        return -1;
    }
    if (l->op->op->kind != CONNRT_OP_LISTEN) {
        snprintf(errstr, errstr_size, "%s:%d: operation '%s' does not listen",
                 start->file ? start->file : "?", start->line, start->operation);
        return -1;
    }
    return 0;
}

static int open_output(connrt_listener_t *l, char *errstr, size_t errstr_size)
{
    char why[1024];
    if (!has_output_step(l->process->steps, l->process->nsteps) &&
        !has_output_step(l->process->error_steps, l->process->nerror_steps)) {
        return 0;
    }
    l->output = l->opts.append_output ? connrt_output_open_append(l->opts.output, why, sizeof(why))
                                      : connrt_output_open(l->opts.output, why, sizeof(why));
    if (l->output == NULL) {
        snprintf(errstr, errstr_size, "--output %s", why);
        return -1;
    }
    connrt_output_limit_cache(l->output,
                              connrt_container_int(l->container, OUTPUT_CACHE_PROPERTY));
    l->opts.shared_output = l->output;
    return 0;
}

connrt_listener_t *connrt_listener_start(connrt_container_t *container,
                                         const connrt_definitions_t *defs,
                                         const struct connrt_def_component *process,
                                         const struct connrt_engine_options *opts,
                                         char *errstr, size_t errstr_size)
{
    connrt_listener_t *l = calloc(1, sizeof(*l));
    if (l == NULL) {
        snprintf(errstr, errstr_size, "out of memory");
        return NULL;
    }
    l->container = container;
    l->defs = defs;
    l->process = process;
    l->opts = *opts;
    l->opts.quiet = 1;
    pthread_mutex_init(&l->lock, NULL);
    pthread_cond_init(&l->wake, NULL);
    pthread_mutex_init(&l->spare_lock, NULL);
    connrt_host_set_listener_hooks(listener_submit, listener_submit_fill, listener_batch_new);
    if (open_start(l, errstr, errstr_size) != 0 || open_output(l, errstr, errstr_size) != 0 ||
        workers_start(l, errstr, errstr_size) != 0) {
        connrt_listener_stop(l, NULL, errstr, 0);
        connrt_listener_destroy(l);
        return NULL;
    }
    char why[1024] = "";
    if (l->op->op->listen_start(l->op->ctx, l, why, sizeof(why)) != 0) {
        snprintf(errstr, errstr_size, "operation '%s' could not start listening: %s",
                 process->steps[0].operation, why[0] ? why : "no reason given");
        connrt_listener_stop(l, NULL, errstr, 0);
        connrt_listener_destroy(l);
        return NULL;
    }
    l->started = 1;
    return l;
}

int connrt_listener_stop(connrt_listener_t *l, struct connrt_listener_counts *counts,
                         char *errstr, size_t errstr_size)
{
    int rc = 0;
    if (l->started) {
        /* The operation waits for its running executions: workers still run. */
        l->op->op->listen_stop(l->op->ctx);
        l->started = 0;
    }
    workers_join(l);
    /* listen_stop returns once every submitted batch had its outcome, so
     * none is left; the operation has stopped, so `done` is not called. Its
     * messages were not committed: they are read again next time. */
    size_t left = 0;
    for (struct job *job = l->head; job != NULL;) {
        struct job *next = job->next;
        batch_free(job->batch);
        free(job);
        job = next;
        left++;
    }
    if (left > 0) {
        fprintf(stderr, "connrt: internal error: %zu batches left unrun after the listener "
                "stopped (not committed: they are read again)\n", left);
    }
    l->head = l->tail = NULL;
    if (l->output != NULL && connrt_output_close(l->output, errstr, errstr_size) != 0) {
        rc = -1;
    }
    l->output = NULL;
    if (counts != NULL) {
        *counts = l->counts;
    }
    return rc;
}

void connrt_listener_counts_now(connrt_listener_t *l, struct connrt_listener_counts *counts,
                                size_t *running)
{
    pthread_mutex_lock(&l->lock);
    *counts = l->counts;
    *running = l->running;
    pthread_mutex_unlock(&l->lock);
}

const struct connrt_open_operation *connrt_listener_operation(const connrt_listener_t *l)
{
    return l->op;
}

void connrt_listener_destroy(connrt_listener_t *l)
{
    if (l == NULL) {
        return;
    }
    for (size_t i = 0; i < l->nspare; i++) {
        batch_free(l->spare[i]);
    }
    pthread_mutex_destroy(&l->spare_lock);
    pthread_mutex_destroy(&l->lock);
    pthread_cond_destroy(&l->wake);
    free(l->workers);
    free(l);
}
