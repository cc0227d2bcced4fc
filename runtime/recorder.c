/*
 * recorder.c - an execution's history record and log lines (recorder.h).
 */
#include "recorder.h"

#include <stdlib.h>
#include <string.h>

#include "commands.h"
#include "host.h"
#include "log.h"

#define REASON_SIZE 1024

struct connrt_recorder {
    connrt_history_execution_t *x; /* NULL: not recorded in history */
    int broken;                    /* history failed: record no more documents */
    long long id;                  /* 0: no execution id */
    char *process_id;
    char *failure; /* first failure message */
};

static void history_failed(connrt_recorder_t *r, const char *why)
{
    r->broken = 1;
    connrt_host_services()->log(CONNRT_LOG_ERROR, NULL,
                                "history: %s; the rest of execution %lld is not recorded", why,
                                r->id);
}

connrt_recorder_t *connrt_recorder_begin(connrt_container_t *c, const char *process_id)
{
    char errstr[REASON_SIZE];
    if (c == NULL || connrt_container_dir(c) == NULL) {
        return NULL;
    }
    connrt_recorder_t *r = calloc(1, sizeof(*r));
    if (r == NULL || (r->process_id = strdup(process_id)) == NULL) {
        free(r);
        connrt_host_services()->log(CONNRT_LOG_WARNING, NULL,
                                    "history: out of memory; this execution is not recorded");
        return NULL;
    }
    connrt_history_t *h = connrt_container_history(c);
    if (h != NULL && connrt_history_begin(h, process_id, &r->x, errstr, sizeof(errstr)) != 0) {
        connrt_host_services()->log(CONNRT_LOG_WARNING, NULL,
                                    "history: %s; this execution is not recorded", errstr);
        r->x = NULL;
    }
    r->id = r->x != NULL ? connrt_history_execution_id(r->x) : 0;
    connrt_log_set_context(r->process_id, r->id);
    if (r->id > 0) {
        connrt_log_to_file(CONNRT_LOG_INFO, NULL, "execution %lld of process '%s' started",
                           r->id, process_id);
    } else {
        connrt_log_to_file(CONNRT_LOG_INFO, NULL, "an execution of process '%s' started (not "
                           "recorded in history)", process_id);
    }
    return r;
}

void connrt_recorder_document(connrt_recorder_t *r, const connrt_document_t *doc,
                              connrt_history_outcome_t outcome, const char *error)
{
    if (r == NULL || r->x == NULL || r->broken) {
        return;
    }
    if (connrt_history_add(r->x, doc, outcome, error) != 0) {
        history_failed(r, "out of memory");
    }
}

int connrt_recorder_keeps_successes(const connrt_recorder_t *r)
{
    return r != NULL && r->x != NULL && !r->broken && connrt_history_keeps_successes(r->x);
}

void connrt_recorder_chunk_end(connrt_recorder_t *r)
{
    char errstr[REASON_SIZE];
    if (r == NULL || r->x == NULL || r->broken) {
        return;
    }
    if (connrt_history_commit(r->x, errstr, sizeof(errstr)) != 0) {
        history_failed(r, errstr);
    }
}

void connrt_recorder_failure(connrt_recorder_t *r, const char *message)
{
    if (r == NULL) {
        return;
    }
    if (r->failure == NULL) {
        r->failure = strdup(message);
    }
    connrt_log_to_file(CONNRT_LOG_ERROR, NULL, "%s", message);
}

static connrt_history_outcome_t outcome_of(int exit_status)
{
    switch (exit_status) {
    case CONNRT_EXIT_OK:
        return CONNRT_HISTORY_SUCCESS;
    case CONNRT_EXIT_APPLICATION_ERRORS:
        return CONNRT_HISTORY_APPLICATION_ERROR;
    default:
        return CONNRT_HISTORY_FAILURE;
    }
}

static void log_end(const connrt_recorder_t *r, connrt_history_outcome_t outcome,
                    const struct connrt_engine_counts *c)
{
    static const char *const names[] = {"", "success", "application_errors", "failure"};
    connrt_log_level_t level = outcome == CONNRT_HISTORY_SUCCESS ? CONNRT_LOG_INFO
                               : outcome == CONNRT_HISTORY_APPLICATION_ERROR ? CONNRT_LOG_WARNING
                                                                             : CONNRT_LOG_ERROR;
    connrt_log_to_file(level, NULL, "execution %lld of process '%s' ended: %s (documents %zu, "
                       "success %zu, application errors %zu, failures %zu, %.2f s)", r->id,
                       r->process_id, names[outcome], c->documents, c->success,
                       c->application_errors, c->failures, c->seconds);
}

void connrt_recorder_end(connrt_recorder_t *r, int exit_status,
                         const struct connrt_engine_counts *counts)
{
    char errstr[REASON_SIZE];
    if (r == NULL) {
        return;
    }
    connrt_history_outcome_t outcome = outcome_of(exit_status);
    if (r->x != NULL) {
        struct connrt_history_counts hc = {counts->documents, counts->success,
                                           counts->application_errors, counts->failures};
        if (connrt_history_end(r->x, outcome, &hc, r->failure, errstr, sizeof(errstr)) != 0) {
            connrt_host_services()->log(CONNRT_LOG_ERROR, NULL,
                                        "history: %s; execution %lld may show as running", errstr,
                                        r->id);
        }
    }
    log_end(r, outcome, counts);
    connrt_log_set_context(NULL, 0);
    free(r->failure);
    free(r->process_id);
    free(r);
}
