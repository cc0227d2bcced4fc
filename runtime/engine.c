/*
 * engine.c - one execution of a process.
 *
 * Documents move through the steps a chunk at a time: every document of the
 * chunk goes through step 1, then step 2, ... (operations see batches).
 * Each document has a slot holding its outcome; lists of slot indices say
 * which documents are still flowing. Slot order is sequence order, so
 * sorting indices restores input order for the output.
 */
#include "engine.h"

#include <jansson.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../properties/java_properties.h"
#include "../properties/property.h"
#include "arena.h"
#include "batch.h"
#include "commands.h"
#include "document.h"
#include "json_memory.h"
#include "json_pointer.h"
#include "json_scan.h"
#include "output.h"
#include "plugin_loader.h"
#include "recorder.h"
#include "vector.h"

#define CHUNK_PROPERTY "execution.max.documents.in.flight"
#define MAX_DOCUMENT_PROPERTY "execution.max.document.bytes"
#define OUTPUT_CACHE_PROPERTY "output.cached.bytes"
/* A chunk also ends when its arena holds this many bytes, so that large
 * documents keep memory flat too. Small enough that a chunk's documents
 * are still in the caches when librdkafka copies them out (1,000,000
 * produced documents of 1 KiB: 1.8 CPU s with 64 MiB, 1.4 with 8). */
#define CHUNK_MAX_BYTES ((size_t)8 * 1024 * 1024)
#define ERROR_PROPERTY "connrt.error"
#define FILE_NAME_PROPERTY "file.name"
#define REASON_SIZE 1024
/* Emitted documents fetched ahead by take_emitted. */
#define EMITTED_PREFETCH 8

/* The history's values, so that an outcome is recorded as it is. */
enum doc_outcome {
    OUTCOME_NONE = 0,
    OUTCOME_SUCCESS = CONNRT_HISTORY_SUCCESS,
    OUTCOME_APP_ERROR = CONNRT_HISTORY_APPLICATION_ERROR,
    OUTCOME_FAILURE = CONNRT_HISTORY_FAILURE
};

struct slot {
    connrt_document_t *doc;
    const char *error; /* arena: reason of the (first) application error */
    unsigned char outcome;
    unsigned char written; /* its line is in the output */
};

struct index_list {
    size_t *items;
    size_t count, cap;
};

struct step_rt {
    const struct connrt_def_step *def;
    struct connrt_open_operation *op; /* START with an operation, CONNECTOR */
    const char *name;                 /* operation id or step kind, for messages */
};

struct engine {
    connrt_container_t *container;
    const connrt_definitions_t *defs;
    const struct connrt_def_component *process;
    const struct connrt_engine_options *opts;
    FILE *report;
    struct step_rt *main_steps, *error_steps;
    size_t nmain, nerror;
    int main_has_output, error_has_output;
    connrt_input_t *input;
    connrt_output_t *output;
    connrt_arena_t *arena;
    connrt_batch_t *batch;  /* inputs of connector steps */
    connrt_batch_t *source; /* what a start operation emits, streamed in chunks */
    struct slot *slots;
    size_t nslots, slots_cap;
    struct index_list live, next, errors;
    size_t chunk_documents;
    size_t next_seq;
    size_t entered; /* documents that entered, checked against outcomes */
    size_t not_processed; /* emitted after a failure stopped the process */
    struct connrt_engine_counts counts;
    int stopped; /* read no further input: an operation, the input or output failed */
    int failed;  /* exit status 3 */
    connrt_recorder_t *recorder; /* history and log of the execution; NULL: none */
    /* The current chunk's last step, begun (execute_begin) and not ended. */
    int begun;
    int begin_rc;
    char begin_err[REASON_SIZE];
    /* Background chunks of a start operation (see chunk_worker); `handoff`
     * holds the emitted documents of the worker's chunk. */
    connrt_batch_t *handoff;
    connrt_arena_t *spare;
    pthread_t worker;
    pthread_mutex_t lock;
    pthread_cond_t cond;
    int worker_started, work_pending, worker_quit;
};

/* ------------------------------------------------------------------ lists */

static int list_push(struct index_list *l, size_t idx)
{
    if (l->count == l->cap) {
        size_t cap = l->cap ? l->cap * 2 : 1024;
        size_t *grown = connrt_realloc_array(l->items, cap, sizeof(*grown));
        if (grown == NULL) {
            return -1;
        }
        l->items = grown;
        l->cap = cap;
    }
    l->items[l->count++] = idx;
    return 0;
}

static void list_swap(struct index_list *a, struct index_list *b)
{
    struct index_list t = *a;
    *a = *b;
    *b = t;
}

static int compare_index(const void *a, const void *b)
{
    size_t x = *(const size_t *)a, y = *(const size_t *)b;
    return (x > y) - (x < y);
}

static int list_sorted(const struct index_list *l)
{
    for (size_t i = 1; i < l->count; i++) {
        if (l->items[i - 1] > l->items[i]) {
            return 0;
        }
    }
    return 1;
}

static void list_sort(struct index_list *l)
{
    if (l->count > 1) {
        qsort(l->items, l->count, sizeof(*l->items), compare_index);
    }
}

/* -------------------------------------------------------------- documents */

static void report_document(struct engine *e, size_t idx, const char *step, const char *reason)
{
    const connrt_document_t *doc = e->slots[idx].doc;
    const char *origin = connrt_document_origin(doc);
    if (origin != NULL) {
        fprintf(e->report, "connrt: document %zu (%s): application error at step '%s': %s\n",
                connrt_document_seq(doc), origin, step, reason);
    } else {
        fprintf(e->report, "connrt: document %zu: application error at step '%s': %s\n",
                connrt_document_seq(doc), step, reason);
    }
}

/* A new slot for `doc`; returns its index, or (size_t)-1 on no memory. */
static size_t add_slot(struct engine *e, connrt_document_t *doc)
{
    if (e->nslots == e->slots_cap) {
        size_t cap = e->slots_cap ? e->slots_cap * 2 : 1024;
        struct slot *grown = connrt_realloc_array(e->slots, cap, sizeof(*grown));
        if (grown == NULL) {
            return (size_t)-1;
        }
        e->slots = grown;
        e->slots_cap = cap;
    }
    connrt_document_set_seq(doc, ++e->next_seq);
    e->slots[e->nslots] = (struct slot){doc, NULL, OUTCOME_NONE, 0};
    e->entered++;
    return e->nslots++;
}

static void fail_operation(struct engine *e, const char *what)
{
    fprintf(e->report, "connrt: %s\n", what);
    connrt_recorder_failure(e->recorder, what);
    e->stopped = 1;
    e->failed = 1;
}

/* The document is an application error. In the main steps it is kept for
 * <on-error> (or the output); an error inside <on-error> only ends its way. */
static void app_error(struct engine *e, size_t idx, const char *step, const char *reason,
                      int in_error_branch)
{
    struct slot *s = &e->slots[idx];
    report_document(e, idx, step, reason);
    if (in_error_branch && s->outcome == OUTCOME_APP_ERROR) {
        return;
    }
    s->outcome = OUTCOME_APP_ERROR;
    s->error = connrt_arena_strdup(e->arena, reason);
    if (s->error == NULL) {
        s->error = "application error (out of memory recording the reason)";
    }
    connrt_document_set_property(s->doc, ERROR_PROPERTY, s->error);
    if (!in_error_branch && list_push(&e->errors, idx) != 0) {
        /* Not routed, it must not count as handled (a listener would commit
         * it): a failure. */
        char what[128];
        s->outcome = OUTCOME_FAILURE;
        snprintf(what, sizeof(what), "out of memory routing document %zu to <on-error>",
                 connrt_document_seq(s->doc));
        fail_operation(e, what);
    }
}


/* ----------------------------------------------------------- set-properties */

/* The value of a json-pointer assignment. The scanner answers the common
 * case (a plain string or integer) without building a tree; anything else,
 * errors included, goes to jansson, parsed once per document in *root. */
static const char *pointer_value(const struct connrt_def_assignment *a,
                                 const connrt_document_t *doc, json_t **root, char **owned,
                                 size_t *value_len, char *reason, size_t reason_size)
{
    char why[REASON_SIZE / 2];
    const char *v;
    size_t len;
    const char *payload = connrt_document_payload(doc, &len);
    if (*root == NULL &&
        connrt_json_scan_pointer(payload, len, a->argument, &v, value_len) == 0) {
        return v;
    }
    if (*root == NULL) {
        json_error_t jerr;
        int no_memory;
        *root = connrt_json_loadb(payload, len, JSON_DECODE_ANY | JSON_ALLOW_NUL, &jerr,
                                  &no_memory);
        if (*root == NULL && no_memory) {
            snprintf(reason, reason_size, "json-pointer '%s': out of memory", a->argument);
            return NULL;
        }
        if (*root == NULL) {
            /* jansson's text may quote the payload: keep payloads out of errors.
             * Bytes that are not UTF-8 have no column (jansson says 0):
             * name the byte, counted from 1 like columns. */
            if (json_error_code(&jerr) == json_error_invalid_utf8) {
                snprintf(reason, reason_size,
                         "json-pointer '%s': the payload is not JSON: byte %d is not valid UTF-8",
                         a->argument, jerr.position + 1);
            } else {
                snprintf(reason, reason_size,
                         "json-pointer '%s': the payload is not JSON (line %d, column %d)",
                         a->argument, jerr.line, jerr.column);
            }
            return NULL;
        }
    }
    json_t *found;
    if (connrt_json_pointer_get(*root, a->argument, &found, why, sizeof(why)) != 0) {
        snprintf(reason, reason_size, "json-pointer '%s': %s", a->argument, why);
        return NULL;
    }
    if (json_is_string(found)) {
        /* Borrowed from *root, which lives until the property is set; a NUL
         * inside ends the property. */
        v = json_string_value(found);
        *value_len = strlen(v);
        return v;
    }
    *owned = connrt_json_value_text(found);
    if (*owned == NULL) {
        snprintf(reason, reason_size, "json-pointer '%s': out of memory", a->argument);
        return NULL;
    }
    *value_len = strlen(*owned);
    return *owned;
}

/* The value of one assignment and its length (it need not end in a NUL). */
static const char *assignment_value(const struct connrt_def_assignment *a,
                                    const connrt_document_t *doc, json_t **root, char **owned,
                                    size_t *value_len, char *reason, size_t reason_size)
{
    const char *v = NULL;
    switch (a->source) {
    case CONNRT_SOURCE_VALUE:
        v = a->argument;
        break;
    case CONNRT_SOURCE_JSON_POINTER:
        return pointer_value(a, doc, root, owned, value_len, reason, reason_size);
    case CONNRT_SOURCE_FROM_PROPERTY:
        /* Document properties first, then tracked ones (kafka.offset...). */
        v = connrt_document_get_property(doc, a->argument);
        if (v == NULL) {
            v = connrt_document_get_tracked(doc, a->argument);
        }
        if (v == NULL) {
            snprintf(reason, reason_size, "from-property '%s': the document has no property '%s'",
                     a->argument, a->argument);
        }
        break;
    case CONNRT_SOURCE_FILE_NAME:
        v = connrt_document_get_property(doc, FILE_NAME_PROPERTY);
        if (v == NULL) {
            snprintf(reason, reason_size,
                     "file-name: the document has no file name (" FILE_NAME_PROPERTY
                     " is set for each file of --input DIR)");
        }
        break;
    default:
        snprintf(reason, reason_size, "unknown value source");
        break;
    }
    if (v != NULL) {
        *value_len = strlen(v);
    }
    return v;
}

/* Apply every assignment in order. Returns 0, or -1 with the reason. */
static int apply_assignments(const struct connrt_def_step *step, connrt_document_t *doc,
                             char *reason, size_t reason_size)
{
    json_t *root = NULL;
    int rc = 0;
    for (size_t i = 0; i < step->nassignments && rc == 0; i++) {
        const struct connrt_def_assignment *a = &step->assignments[i];
        char *owned = NULL;
        size_t len = 0;
        const char *v = assignment_value(a, doc, &root, &owned, &len, reason, reason_size);
        if (v == NULL) {
            rc = -1;
        } else if (connrt_document_set_property_n(doc, a->name, v, len) != 0) {
            snprintf(reason, reason_size, "property '%s': out of memory", a->name);
            rc = -1;
        }
        free(owned);
    }
    json_decref(root);
    return rc;
}

static void step_set_properties(struct engine *e, const struct step_rt *st,
                                struct index_list *list, int in_error_branch)
{
    char reason[REASON_SIZE];
    size_t keep = 0;
    for (size_t i = 0; i < list->count; i++) {
        size_t idx = list->items[i];
        if (apply_assignments(st->def, e->slots[idx].doc, reason, sizeof(reason)) == 0) {
            list->items[keep++] = idx;
        } else {
            app_error(e, idx, st->name, reason, in_error_branch);
        }
    }
    list->count = keep;
}

/* ---------------------------------------------------------------- connector */

/* Emitted documents are new documents that flow on from this step. */
static void take_emitted(struct engine *e, const struct step_rt *st, connrt_batch_t *batch,
                         struct index_list *next, int in_error_branch)
{
    size_t n = connrt_batch_emitted_count(batch);
    for (size_t i = 0; i < n; i++) {
        const char *message;
        connrt_document_t *doc = connrt_batch_emitted_at(batch, i, &message);
        /* A chunk is far larger than the caches: ask for the documents a
         * few steps ahead so that their misses overlap (they were a tenth
         * of the consuming thread's time). */
        if (i + EMITTED_PREFETCH < n) {
            __builtin_prefetch(connrt_batch_emitted_at(batch, i + EMITTED_PREFETCH, NULL), 1);
        }
        size_t idx = add_slot(e, doc);
        if (idx == (size_t)-1) {
            e->entered++;
            e->counts.documents++;
            e->counts.failures++;
            fail_operation(e, "out of memory taking an emitted document");
            continue;
        }
        if (!connrt_document_has_origin(doc)) {
            connrt_document_set_origin_ref(doc, st->name, 0);
        }
        if (message != NULL) {
            app_error(e, idx, st->name, message, in_error_branch);
        } else if (list_push(next, idx) != 0) {
            e->slots[idx].outcome = OUTCOME_FAILURE;
            fail_operation(e, "out of memory passing an emitted document on");
        }
    }
}

/* Sort the batch's results: successes flow on, application errors are
 * routed, inputs left without a result are failures (counted in the
 * return), and so are successes that cannot be passed on (*unheld). */
static size_t take_results(struct engine *e, const struct step_rt *st, struct index_list *list,
                           struct index_list *next, int in_error_branch, size_t *unheld)
{
    size_t missing = 0;
    *unheld = 0;
    for (size_t i = 0; i < list->count; i++) {
        size_t idx = list->items[i];
        const char *message;
        switch (connrt_batch_result(e->batch, i, &message)) {
        case CONNRT_RESULT_SUCCESS:
            if (list_push(next, idx) != 0) {
                e->slots[idx].outcome = OUTCOME_FAILURE;
                (*unheld)++;
            }
            break;
        case CONNRT_RESULT_APPLICATION_ERROR:
            app_error(e, idx, st->name, message ? message : "application error",
                      in_error_branch);
            break;
        case CONNRT_RESULT_NONE:
            e->slots[idx].outcome = OUTCOME_FAILURE;
            missing++;
            break;
        }
    }
    return missing;
}

/* Nothing reads the tracked properties a step sets on its successful
 * documents when they end there (last step of its branch) and the history
 * keeps no row for them. */
static int tracked_unread(const struct engine *e, const struct step_rt *st, int in_error_branch)
{
    const struct step_rt *last = in_error_branch ? &e->error_steps[e->nerror - 1]
                                                 : &e->main_steps[e->nmain - 1];
    return st == last && !connrt_recorder_keeps_successes(e->recorder);
}

/* Run the step's operation on `list` (split: only begin it); its outcome
 * waits in e->begin_rc and e->begin_err for connector_finish. */
static void connector_start(struct engine *e, const struct step_rt *st,
                            const struct index_list *list, int in_error_branch, int split)
{
    e->begin_err[0] = '\0';
    e->begun = 0;
    connrt_batch_clear(e->batch);
    connrt_batch_set_tracked_unread(e->batch, tracked_unread(e, st, in_error_branch));
    int rc = 0;
    for (size_t i = 0; i < list->count && rc == 0; i++) {
        rc = connrt_batch_add_input(e->batch, e->slots[list->items[i]].doc);
    }
    if (rc != 0) {
        snprintf(e->begin_err, sizeof(e->begin_err), "out of memory building the batch");
    } else if (list->count > 0 || st->def->kind == CONNRT_STEP_START) {
        const struct connrt_operation *op = st->op->op;
        rc = split ? op->execute_begin(st->op->ctx, e->batch, e->begin_err, sizeof(e->begin_err))
                   : op->execute(st->op->ctx, e->batch, e->begin_err, sizeof(e->begin_err));
        e->begun = split && rc == 0;
    }
    e->begin_rc = rc;
}

/* The step's results: successes flow on in `list`, the rest is routed. */
static void connector_finish(struct engine *e, const struct step_rt *st, struct index_list *list,
                             int in_error_branch)
{
    char what[2 * REASON_SIZE];
    int rc = e->begin_rc;
    if (e->begun) {
        rc = st->op->op->execute_end(st->op->ctx, e->batch, e->begin_err,
                                     sizeof(e->begin_err));
        e->begun = 0;
    }
    if (rc != 0 && e->begin_err[0] == '\0') {
        snprintf(e->begin_err, sizeof(e->begin_err), "no reason given");
    }
    e->next.count = 0;
    size_t unheld;
    size_t missing = take_results(e, st, list, &e->next, in_error_branch, &unheld);
    take_emitted(e, st, e->batch, &e->next, in_error_branch);
    if (unheld > 0) {
        snprintf(what, sizeof(what), "out of memory passing on %zu documents after operation "
                 "'%s'", unheld, st->name);
        fail_operation(e, what);
    }
    if (rc != 0) {
        snprintf(what, sizeof(what), "operation '%s' failed: %s (%zu of %zu documents without a "
                 "result)", st->name, e->begin_err, missing, list->count);
        fail_operation(e, what);
    } else if (missing > 0) {
        snprintf(what, sizeof(what), "operation '%s' failed: it returned without a result for "
                 "%zu of %zu documents", st->name, missing, list->count);
        fail_operation(e, what);
    }
    list_swap(list, &e->next);
}

static void step_connector(struct engine *e, const struct step_rt *st, struct index_list *list,
                           int in_error_branch)
{
    connector_start(e, st, list, in_error_branch, 0);
    connector_finish(e, st, list, in_error_branch);
}

/* ------------------------------------------------------------------- output */

/* Writing failed: report once, stop, and write nothing more. */
static void output_failed(struct engine *e, const char *why)
{
    char what[REASON_SIZE + 32];
    char ignored[REASON_SIZE];
    snprintf(what, sizeof(what), "output: %s", why);
    fail_operation(e, what);
    if (e->output != e->opts->shared_output) { /* a listener's stays with it */
        connrt_output_close(e->output, ignored, sizeof(ignored));
    }
    e->output = NULL;
}

static void write_slot(struct engine *e, size_t idx)
{
    struct slot *s = &e->slots[idx];
    char errstr[REASON_SIZE];
    if (s->written || e->output == NULL) {
        return;
    }
    s->written = 1;
    const char *error = (s->outcome == OUTCOME_APP_ERROR) ? s->error : NULL;
    if (connrt_output_write(e->output, s->doc, error, errstr, sizeof(errstr)) != 0) {
        output_failed(e, errstr);
    }
}

static void step_output(struct engine *e, struct index_list *list, int in_error_branch)
{
    if (in_error_branch || e->process->has_on_error) {
        for (size_t i = 0; i < list->count; i++) {
            write_slot(e, list->items[i]);
        }
        return;
    }
    /* Without <on-error>, errors so far go to the output with the flowing
     * documents, in input order. Without errors, the flowing documents
     * usually are in order already: no merge needed. */
    if (e->errors.count == 0 && list_sorted(list)) {
        for (size_t i = 0; i < list->count; i++) {
            write_slot(e, list->items[i]);
        }
        return;
    }
    for (size_t i = 0; i < list->count; i++) {
        if (list_push(&e->errors, list->items[i]) != 0) {
            write_slot(e, list->items[i]);
        }
    }
    list_sort(&e->errors);
    for (size_t i = 0; i < e->errors.count; i++) {
        write_slot(e, e->errors.items[i]);
    }
    /* Keep only the errors in the list (the others are still flowing). */
    size_t keep = 0;
    for (size_t i = 0; i < e->errors.count; i++) {
        size_t idx = e->errors.items[i];
        if (e->slots[idx].outcome == OUTCOME_APP_ERROR) {
            e->errors.items[keep++] = idx;
        }
    }
    e->errors.count = keep;
}

/* -------------------------------------------------------------------- steps */

static void run_steps(struct engine *e, const struct step_rt *steps, size_t n,
                      struct index_list *list, int in_error_branch)
{
    for (size_t i = 0; i < n; i++) {
        const struct step_rt *st = &steps[i];
        switch (st->def->kind) {
        case CONNRT_STEP_START:
            break; /* only first; handled by the caller */
        case CONNRT_STEP_SET_PROPERTIES:
            step_set_properties(e, st, list, in_error_branch);
            break;
        case CONNRT_STEP_CONNECTOR:
            if (list->count > 0) {
                step_connector(e, st, list, in_error_branch);
            }
            break;
        case CONNRT_STEP_OUTPUT:
            step_output(e, list, in_error_branch);
            break;
        }
    }
}

/* Errors of the chunk go through <on-error>, or to the output. */
static void finish_errors(struct engine *e)
{
    list_sort(&e->errors);
    if (e->process->has_on_error) {
        e->live.count = 0;
        list_swap(&e->live, &e->errors);
        run_steps(e, e->error_steps, e->nerror, &e->live, 1);
        /* Emitted by an operation of <on-error>: new documents that made it. */
        for (size_t i = 0; i < e->live.count; i++) {
            struct slot *s = &e->slots[e->live.items[i]];
            if (s->outcome == OUTCOME_NONE) {
                s->outcome = OUTCOME_SUCCESS;
            }
        }
        e->live.count = 0;
    } else if (e->main_has_output) {
        for (size_t i = 0; i < e->errors.count; i++) {
            write_slot(e, e->errors.items[i]);
        }
    }
    e->errors.count = 0;
}

/* Count the chunk's outcomes; a document without one is an internal error
 * (the engine's promise: exactly one outcome per document). */
static void count_outcomes(struct engine *e)
{
    for (size_t i = 0; i < e->nslots; i++) {
        struct slot *s = &e->slots[i];
        switch (s->outcome) {
        case OUTCOME_SUCCESS:
            e->counts.success++;
            break;
        case OUTCOME_APP_ERROR:
            e->counts.application_errors++;
            break;
        case OUTCOME_FAILURE:
            e->counts.failures++;
            break;
        default:
            fprintf(e->report, "connrt: internal error: document %zu ended without an outcome\n",
                    connrt_document_seq(s->doc));
            s->outcome = OUTCOME_FAILURE;
            e->counts.failures++;
            e->failed = 1;
        }
        connrt_recorder_document(e->recorder, s->doc, s->outcome, s->error);
    }
    e->counts.documents += e->nslots;
    connrt_recorder_chunk_end(e->recorder);
}

/* The chunk has been through the main steps: route its errors, record it. */
static void finish_chunk(struct engine *e)
{
    char errstr[REASON_SIZE];
    for (size_t i = 0; i < e->live.count; i++) {
        e->slots[e->live.items[i]].outcome = OUTCOME_SUCCESS;
    }
    e->live.count = 0;
    finish_errors(e);
    if (e->output != NULL && connrt_output_flush(e->output, errstr, sizeof(errstr)) != 0) {
        output_failed(e, errstr);
    }
    count_outcomes(e);
}

static void process_chunk(struct engine *e)
{
    run_steps(e, e->main_steps + 1, e->nmain - 1, &e->live, 0);
    finish_chunk(e);
}

static void chunk_reset(struct engine *e)
{
    connrt_arena_reset(e->arena);
    connrt_batch_clear(e->batch);
    e->nslots = 0;
    e->live.count = 0;
    e->errors.count = 0;
}

/* Read the next chunk. Returns the number of documents read. */
static size_t read_chunk(struct engine *e)
{
    char errstr[REASON_SIZE];
    chunk_reset(e);
    while (e->nslots < e->chunk_documents && connrt_arena_used(e->arena) < CHUNK_MAX_BYTES) {
        connrt_document_t *doc;
        const char *error;
        int rc = connrt_input_next(e->input, e->arena, &doc, &error, errstr, sizeof(errstr));
        if (rc == 0) {
            break;
        }
        size_t idx = rc > 0 ? add_slot(e, doc) : (size_t)-1;
        if (idx == (size_t)-1 && rc > 0) {
            /* A document was read but cannot be held: it still gets an outcome. */
            e->entered++;
            e->counts.documents++;
            e->counts.failures++;
        }
        if (idx == (size_t)-1) {
            char what[REASON_SIZE + 32];
            snprintf(what, sizeof(what), "input: %s", rc > 0 ? "out of memory" : errstr);
            fail_operation(e, what);
            break;
        }
        if (error != NULL) {
            app_error(e, idx, e->main_steps[0].name, error, 0);
        } else if (list_push(&e->live, idx) != 0) {
            e->slots[idx].outcome = OUTCOME_FAILURE;
            fail_operation(e, "input: out of memory");
            break;
        }
    }
    return e->nslots;
}

/* After a failure the rest of the input is not processed; each remaining
 * document still counts, as a failure, so that nothing vanishes. */
static void drain_input(struct engine *e)
{
    char errstr[REASON_SIZE];
    size_t skipped = 0;
    for (;;) {
        if (connrt_arena_used(e->arena) > CHUNK_MAX_BYTES) {
            connrt_arena_reset(e->arena);
        }
        connrt_document_t *doc;
        const char *error;
        if (connrt_input_next(e->input, e->arena, &doc, &error, errstr, sizeof(errstr)) != 1) {
            break;
        }
        skipped++;
    }
    if (skipped > 0) {
        fprintf(e->report, "connrt: %zu more input documents were not processed because of the "
                "failure above\n", skipped);
        e->entered += skipped;
        e->counts.documents += skipped;
        e->counts.failures += skipped;
    }
}

/* --------------------------------------------------------- pipelined input */

/*
 * When the last main step's operation runs in two halves (a Produce), a
 * chunk's last step is begun and the next chunk is read and taken through
 * the steps before it while the first one's deliveries complete: the
 * producer is never idle waiting for a chunk's last reports. Two chunks
 * are alive at once, each of half the documents, so that the container's
 * in-flight limit still bounds the documents in memory, and each up to
 * CHUNK_MAX_BYTES (16 MiB of documents in flight). The chunk not being worked
 * on is parked here; chunk_swap exchanges it with the engine's.
 */
struct parked_chunk {
    connrt_arena_t *arena;
    connrt_batch_t *batch;
    struct slot *slots;
    size_t nslots, slots_cap;
    struct index_list live, next, errors;
    int begun;
    int begin_rc;
    char begin_err[REASON_SIZE];
};

#define SWAP_FIELD(a, b, type) \
    do {                       \
        type tmp_ = (a);       \
        (a) = (b);             \
        (b) = tmp_;            \
    } while (0)

static void chunk_swap(struct engine *e, struct parked_chunk *c)
{
    struct parked_chunk mine = {e->arena, e->batch, e->slots, e->nslots, e->slots_cap,
                                e->live, e->next, e->errors, e->begun, e->begin_rc, ""};
    memcpy(mine.begin_err, e->begin_err, sizeof(mine.begin_err));
    e->arena = c->arena;
    e->batch = c->batch;
    e->slots = c->slots;
    e->nslots = c->nslots;
    e->slots_cap = c->slots_cap;
    e->live = c->live;
    e->next = c->next;
    e->errors = c->errors;
    e->begun = c->begun;
    e->begin_rc = c->begin_rc;
    memcpy(e->begin_err, c->begin_err, sizeof(e->begin_err));
    *c = mine;
}

static void parked_free(struct parked_chunk *c)
{
    connrt_batch_destroy(c->batch);
    connrt_arena_destroy(c->arena);
    free(c->slots);
    free(c->live.items);
    free(c->next.items);
    free(c->errors.items);
}

/* The last main step runs in halves: a connector step whose operation
 * has both, with no <output/> in the main steps (its lines would come out
 * of order) and more than the start step. */
static int can_pipeline(const struct engine *e)
{
    const struct step_rt *last = &e->main_steps[e->nmain - 1];
    return e->nmain >= 2 && !e->main_has_output && last->def->kind == CONNRT_STEP_CONNECTOR &&
           last->op != NULL && connrt_operation_split(last->op->connector, last->op->op);
}

/* The steps of the current chunk up to its last one, which is begun. */
static void begin_chunk(struct engine *e)
{
    const struct step_rt *last = &e->main_steps[e->nmain - 1];
    run_steps(e, e->main_steps + 1, e->nmain - 2, &e->live, 0);
    e->begun = 0;
    e->begin_rc = 0;
    if (e->live.count > 0) {
        connector_start(e, last, &e->live, 0, 1);
    }
}

/* The current chunk's last step ends; the chunk is finished. */
static void end_chunk(struct engine *e)
{
    const struct step_rt *last = &e->main_steps[e->nmain - 1];
    if (e->live.count > 0) {
        connector_finish(e, last, &e->live, 0);
    }
    finish_chunk(e);
}

static void run_pipelined(struct engine *e)
{
    struct parked_chunk other = {0};
    int in_flight = 0; /* `other` holds a begun chunk */
    other.arena = connrt_arena_new();
    other.batch = other.arena != NULL ? connrt_batch_new(other.arena) : NULL;
    if (other.batch == NULL) {
        parked_free(&other);
        while (!e->stopped && read_chunk(e) > 0) { /* no memory for two: one at a time */
            process_chunk(e);
        }
        return;
    }
    /* The documents in flight stay within the container's limit. Each
     * chunk keeps the whole byte bound: with 4 MiB chunks at 1 KiB, Produce
     * waited for acknowledgements half of the run. */
    e->chunk_documents = e->chunk_documents > 1 ? e->chunk_documents / 2 : 1;
    /* A chunk whose begin failed ends before anything more is read: the
     * outage that failed it would fail the next one too. */
    while (!e->stopped && (!in_flight || other.begin_rc == 0) && read_chunk(e) > 0) {
        begin_chunk(e);
        chunk_swap(e, &other); /* the engine holds the previous chunk */
        if (in_flight) {
            end_chunk(e);
        }
        in_flight = 1;
    }
    if (in_flight) {
        chunk_swap(e, &other);
        end_chunk(e);
    }
    parked_free(&other);
}

static void run_from_input(struct engine *e)
{
    if (can_pipeline(e)) {
        run_pipelined(e);
    } else {
        while (!e->stopped && read_chunk(e) > 0) {
            process_chunk(e);
        }
    }
    if (e->stopped && e->input != NULL) {
        drain_input(e);
    }
}

/* The documents taken into the slots go through the process. After a
 * failure stopped it, they are counted as failures instead. */
static void process_emitted(struct engine *e)
{
    if (!e->stopped) {
        process_chunk(e);
        return;
    }
    for (size_t i = 0; i < e->live.count; i++) {
        e->slots[e->live.items[i]].outcome = OUTCOME_FAILURE;
    }
    e->not_processed += e->live.count;
    e->live.count = 0;
    e->errors.count = 0;
    count_outcomes(e);
}

/* Emitted documents of the start operation go through the process. */
static void pass_emitted_on(struct engine *e)
{
    take_emitted(e, &e->main_steps[0], e->source, &e->live, 0);
    process_emitted(e);
}

/* ------------------------------------------------------- background chunks */

/*
 * A start operation's chunks are processed on a second thread while the
 * operation goes on reading into a second arena: Consume then polls and
 * builds documents on one core while the previous chunk is written out on
 * the other. The engine's state (slots, lists, counts, recorder) belongs to
 * the worker while it holds a chunk; the operation's thread touches it only
 * once the worker is idle again (wait_worker).
 */
static void *chunk_worker(void *opaque)
{
    struct engine *e = opaque;
    pthread_mutex_lock(&e->lock);
    for (;;) {
        while (!e->work_pending && !e->worker_quit) {
            pthread_cond_wait(&e->cond, &e->lock);
        }
        if (!e->work_pending) {
            break;
        }
        pthread_mutex_unlock(&e->lock);
        /* Taken here, not on the operation's thread: that one is busier. */
        take_emitted(e, &e->main_steps[0], e->handoff, &e->live, 0);
        connrt_batch_clear(e->handoff);
        process_emitted(e);
        chunk_reset(e);
        pthread_mutex_lock(&e->lock);
        e->work_pending = 0;
        pthread_cond_broadcast(&e->cond);
    }
    pthread_mutex_unlock(&e->lock);
    return NULL;
}

static void wait_worker(struct engine *e)
{
    if (!e->worker_started) {
        return;
    }
    pthread_mutex_lock(&e->lock);
    while (e->work_pending) {
        pthread_cond_wait(&e->cond, &e->lock);
    }
    pthread_mutex_unlock(&e->lock);
}

/* A worker and the second arena; without them chunks are processed inline. */
static void start_worker(struct engine *e)
{
    e->spare = connrt_arena_new();
    e->handoff = e->spare != NULL ? connrt_batch_new(e->spare) : NULL;
    if (e->handoff == NULL) {
        return;
    }
    if (pthread_mutex_init(&e->lock, NULL) != 0) {
        return;
    }
    if (pthread_cond_init(&e->cond, NULL) != 0) {
        pthread_mutex_destroy(&e->lock);
        return;
    }
    if (pthread_create(&e->worker, NULL, chunk_worker, e) != 0) {
        pthread_cond_destroy(&e->cond);
        pthread_mutex_destroy(&e->lock);
        return;
    }
    e->worker_started = 1;
    /* The operation emits into the spare arena; e->arena is the worker's. */
    connrt_batch_set_arena(e->source, e->spare);
}

static void stop_worker(struct engine *e)
{
    if (!e->worker_started) {
        return;
    }
    pthread_mutex_lock(&e->lock);
    e->worker_quit = 1;
    pthread_cond_broadcast(&e->cond);
    pthread_mutex_unlock(&e->lock);
    pthread_join(e->worker, NULL);
    pthread_cond_destroy(&e->cond);
    pthread_mutex_destroy(&e->lock);
    e->worker_started = 0;
}

/* The engine takes the arena the operation emitted into; the operation
 * goes on in the one the worker has finished with (reset). */
static void take_source_arena(struct engine *e)
{
    connrt_arena_t *emitted_into = connrt_batch_arena(e->source);
    if (emitted_into == e->arena) {
        return;
    }
    connrt_batch_set_arena(e->source, e->arena);
    e->spare = e->arena; /* the pair stays owned by e->arena and e->spare */
    e->arena = emitted_into;
    connrt_batch_set_arena(e->batch, e->arena);
}

/* The start operation has emitted a chunk: pass it on and free it, so that
 * memory stays flat however many documents it emits (two chunks at most:
 * one being read, one on the worker). */
static int stream_emitted(void *opaque, connrt_batch_t *batch, int final)
{
    struct engine *e = opaque;
    (void)batch;
    wait_worker(e);
    if (connrt_batch_emitted_count(e->source) == 0) {
        return e->stopped ? -1 : 0;
    }
    take_source_arena(e);
    if (final || !e->worker_started) {
        /* The operation waits for the outcome (e.g. before committing). */
        take_emitted(e, &e->main_steps[0], e->source, &e->live, 0);
        process_emitted(e);
        chunk_reset(e);
        return e->stopped ? -1 : 0;
    }
    connrt_batch_swap_emitted(e->source, e->handoff);
    int stopped = e->stopped;
    pthread_mutex_lock(&e->lock);
    e->work_pending = 1;
    pthread_cond_broadcast(&e->cond);
    pthread_mutex_unlock(&e->lock);
    return stopped ? -1 : 0;
}

static void run_from_operation(struct engine *e)
{
    const struct step_rt *st = &e->main_steps[0];
    char errstr[REASON_SIZE] = "";
    char what[2 * REASON_SIZE];
    chunk_reset(e);
    start_worker(e);
    /* A source operation: an empty batch in, emitted documents out. */
    connrt_batch_set_emit_hook(e->source, e->chunk_documents, CHUNK_MAX_BYTES, stream_emitted,
                               e);
    int rc = st->op->op->execute(st->op->ctx, e->source, errstr, sizeof(errstr));
    connrt_batch_set_emit_hook(e->source, 0, 0, NULL, NULL);
    wait_worker(e);
    stop_worker(e);
    take_source_arena(e);
    pass_emitted_on(e);
    if (rc != 0) {
        snprintf(what, sizeof(what), "operation '%s' failed: %s", st->name,
                 errstr[0] != '\0' ? errstr : "no reason given");
        fail_operation(e, what);
    }
    if (e->not_processed > 0) {
        fprintf(e->report, "connrt: %zu more documents of '%s' were not processed because of "
                "the failure above\n", e->not_processed, st->name);
    }
}

/* -------------------------------------------------------------- preparation */

static const char *step_kind_name(connrt_step_kind_t kind)
{
    switch (kind) {
    case CONNRT_STEP_START:
        return "start";
    case CONNRT_STEP_SET_PROPERTIES:
        return "set-properties";
    case CONNRT_STEP_CONNECTOR:
        return "connector";
    case CONNRT_STEP_OUTPUT:
        return "output";
    }
    return "step";
}

/* Open the step's operation. Returns CONNRT_EXIT_OK or the exit status. */
static int prepare_operation(struct engine *e, struct step_rt *st)
{
    char errstr[REASON_SIZE] = "";
    const struct connrt_def_step *def = st->def;
    if (connrt_container_operation(e->container, e->defs, def->operation, &st->op, errstr,
                                   sizeof(errstr)) != 0) {
        /* The message names the file:line of the operation or connection
         * that could not be opened: that is what to fix, not this step. */
        fprintf(e->report, "connrt: %s\n", errstr);
        return CONNRT_EXIT_FAILURE;
    }
    const struct connrt_operation *op = st->op->op;
    if (def->kind == CONNRT_STEP_START && op->kind == CONNRT_OP_LISTEN) {
        if (e->opts->emitted != NULL) {
            return CONNRT_EXIT_OK; /* the listener runtime runs it */
        }
        fprintf(e->report, "connrt: %s:%d: process '%s' starts with listen operation '%s': "
                "it runs from a listener, not as one execution\n",
                def->file ? def->file : "?", def->line, e->process->id, def->operation);
        return CONNRT_EXIT_USAGE;
    }
    if (op->kind != CONNRT_OP_BATCH || op->execute == NULL ||
        (def->kind == CONNRT_STEP_START && !op->can_start)) {
        fprintf(e->report, "connrt: %s:%d: operation '%s' (type %s) cannot be used %s\n",
                def->file ? def->file : "?", def->line, def->operation, op->type,
                def->kind == CONNRT_STEP_START ? "to start a process" : "in a connector step");
        return CONNRT_EXIT_USAGE;
    }
    return CONNRT_EXIT_OK;
}

static int prepare_steps(struct engine *e, const struct connrt_def_step *defs, size_t n,
                         struct step_rt **out, int *has_output)
{
    *out = calloc(n ? n : 1, sizeof(**out));
    if (*out == NULL) {
        fprintf(e->report, "connrt: out of memory\n");
        return CONNRT_EXIT_FAILURE;
    }
    for (size_t i = 0; i < n; i++) {
        struct step_rt *st = &(*out)[i];
        st->def = &defs[i];
        st->name = defs[i].operation ? defs[i].operation : step_kind_name(defs[i].kind);
        if (defs[i].kind == CONNRT_STEP_OUTPUT) {
            *has_output = 1;
        }
        if (defs[i].operation != NULL &&
            (defs[i].kind == CONNRT_STEP_CONNECTOR || defs[i].kind == CONNRT_STEP_START)) {
            int status = prepare_operation(e, st);
            if (status != CONNRT_EXIT_OK) {
                return status;
            }
        }
    }
    return CONNRT_EXIT_OK;
}

/* A positive integer container property, or `fallback`. */
static size_t container_count(const struct engine *e, const char *name, size_t fallback)
{
    long long value = connrt_container_int(e->container, name);
    return value > 0 ? (size_t)value : fallback;
}

static size_t chunk_documents(const struct engine *e)
{
    if (e->opts->chunk_documents > 0) {
        return e->opts->chunk_documents;
    }
    return container_count(e, CHUNK_PROPERTY, CONNRT_ENGINE_DEFAULT_CHUNK);
}

int connrt_engine_handled(const struct connrt_def_component *process, int status,
                          const struct connrt_engine_counts *counts)
{
    if (status == CONNRT_EXIT_OK) {
        return 1;
    }
    return status == CONNRT_EXIT_APPLICATION_ERRORS && process->has_on_error &&
           counts->failures == 0;
}

int connrt_engine_reads_input(const struct connrt_def_component *process)
{
    return process->nsteps > 0 && process->steps[0].kind == CONNRT_STEP_START &&
           process->steps[0].operation == NULL;
}

static int prepare(struct engine *e)
{
    char errstr[REASON_SIZE];
    const struct connrt_def_component *p = e->process;
    if (p->nsteps == 0 || p->steps[0].kind != CONNRT_STEP_START) {
        fprintf(e->report, "connrt: %s:%d: process '%s' does not begin with a <start> step\n",
                p->file ? p->file : "?", p->line, p->id);
        return CONNRT_EXIT_USAGE;
    }
    int status = prepare_steps(e, p->steps, p->nsteps, &e->main_steps, &e->main_has_output);
    e->nmain = p->nsteps;
    if (status == CONNRT_EXIT_OK) {
        status = prepare_steps(e, p->error_steps, p->nerror_steps, &e->error_steps,
                               &e->error_has_output);
        e->nerror = p->nerror_steps;
    }
    if (status != CONNRT_EXIT_OK) {
        return status;
    }
    if (connrt_engine_reads_input(p)) {
        e->input = connrt_input_open(e->opts->input, e->opts->input_format, errstr,
                                     sizeof(errstr));
        if (e->input == NULL) {
            fprintf(e->report, "connrt: --input %s\n", errstr);
            return CONNRT_EXIT_USAGE;
        }
        connrt_input_set_max_document(
            e->input, container_count(e, MAX_DOCUMENT_PROPERTY, CONNRT_INPUT_DEFAULT_MAX_DOCUMENT));
    }
    if (e->opts->shared_output != NULL) {
        e->output = e->opts->shared_output;
    } else if (e->main_has_output || e->error_has_output) {
        e->output = connrt_output_open(e->opts->output, errstr, sizeof(errstr));
        if (e->output == NULL) {
            fprintf(e->report, "connrt: --output %s\n", errstr);
            return CONNRT_EXIT_USAGE;
        }
        connrt_output_limit_cache(e->output,
                                  connrt_container_int(e->container, OUTPUT_CACHE_PROPERTY));
    }
    e->arena = connrt_arena_new();
    e->batch = e->arena ? connrt_batch_new(e->arena) : NULL;
    e->source = e->opts->emitted ? e->opts->emitted
                                 : e->arena ? connrt_batch_new(e->arena) : NULL;
    if (e->batch == NULL || e->source == NULL) {
        fprintf(e->report, "connrt: out of memory\n");
        return CONNRT_EXIT_FAILURE;
    }
    e->chunk_documents = chunk_documents(e);
    return CONNRT_EXIT_OK;
}

static void release(struct engine *e)
{
    char errstr[REASON_SIZE];
    if (e->output == e->opts->shared_output) {
        e->output = NULL; /* the listener's, flushed per chunk */
    }
    if (e->output != NULL && connrt_output_close(e->output, errstr, sizeof(errstr)) != 0) {
        char what[REASON_SIZE + 32];
        snprintf(what, sizeof(what), "output: %s", errstr);
        fail_operation(e, what);
    }
    e->output = NULL;
    connrt_input_close(e->input);
    connrt_batch_destroy(e->batch);
    if (e->source != e->opts->emitted) {
        connrt_batch_destroy(e->source);
    }
    connrt_batch_destroy(e->handoff);
    connrt_arena_destroy(e->arena);
    connrt_arena_destroy(e->spare);
    free(e->slots);
    free(e->live.items);
    free(e->next.items);
    free(e->errors.items);
    free(e->main_steps);
    free(e->error_steps);
}

static double seconds_since(const struct timespec *start)
{
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    return (double)(now.tv_sec - start->tv_sec) + (double)(now.tv_nsec - start->tv_nsec) / 1e9;
}

static const char *plural(size_t n, const char *one, const char *many)
{
    return n == 1 ? one : many;
}

static void print_summary(struct engine *e)
{
    const struct connrt_engine_counts *c = &e->counts;
    fprintf(e->report,
            "connrt: process %s: %zu %s: %zu success, %zu %s, %zu %s (%.2f s)\n", e->process->id,
            c->documents, plural(c->documents, "document", "documents"), c->success,
            c->application_errors,
            plural(c->application_errors, "application error", "application errors"),
            c->failures, plural(c->failures, "failure", "failures"), c->seconds);
}

int connrt_engine_run(connrt_container_t *container, const connrt_definitions_t *defs,
                      const struct connrt_def_component *process,
                      const struct connrt_engine_options *opts,
                      struct connrt_engine_counts *counts)
{
    static const struct connrt_engine_options defaults = {0};
    struct engine e = {0};
    struct timespec start;
    clock_gettime(CLOCK_MONOTONIC, &start);
    e.container = container;
    e.defs = defs;
    e.process = process;
    e.opts = opts ? opts : &defaults;
    e.report = e.opts->report ? e.opts->report : stderr;
    int status = prepare(&e);
    if (status == CONNRT_EXIT_OK) {
        e.recorder = connrt_recorder_begin(container, process->id);
        if (e.input != NULL) {
            run_from_input(&e);
        } else if (e.opts->emitted != NULL) {
            chunk_reset(&e);
            pass_emitted_on(&e);
        } else {
            run_from_operation(&e);
        }
    }
    release(&e);
    e.counts.seconds = seconds_since(&start);
    if (status == CONNRT_EXIT_OK) {
        size_t out = e.counts.success + e.counts.application_errors + e.counts.failures;
        if (out != e.entered) {
            fprintf(e.report, "connrt: internal error: %zu documents entered, %zu outcomes\n",
                    e.entered, out);
            e.failed = 1;
        }
        if (!e.opts->quiet) {
            print_summary(&e);
        }
        if (e.failed || e.counts.failures > 0) {
            status = CONNRT_EXIT_FAILURE;
        } else if (e.counts.application_errors > 0) {
            status = CONNRT_EXIT_APPLICATION_ERRORS;
        }
    }
    connrt_recorder_end(e.recorder, status, &e.counts);
    if (counts != NULL) {
        *counts = e.counts;
    }
    return status;
}
