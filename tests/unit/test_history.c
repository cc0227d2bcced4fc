/*
 * test_history.c - execution history (runtime/history.c) on a scratch
 * SQLite file: what `connrt executions` and an operator's sqlite3 shell
 * would find after executions ran, ended, expired or were killed.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "runtime/arena.h"
#include "runtime/document.h"
#include "runtime/history.h"

struct fixture {
    char dir[64];
    char path[96];
    connrt_arena_t *arena;
    connrt_history_t *h;
};

static int setup(void **state)
{
    struct fixture *f = calloc(1, sizeof(*f));
    snprintf(f->dir, sizeof(f->dir), "/tmp/connrt-history.XXXXXX");
    if (f == NULL || mkdtemp(f->dir) == NULL) {
        return -1;
    }
    snprintf(f->path, sizeof(f->path), "%s/history.db", f->dir);
    f->arena = connrt_arena_new();
    *state = f;
    return f->arena != NULL ? 0 : -1;
}

static int teardown(void **state)
{
    struct fixture *f = *state;
    char cmd[128];
    connrt_history_close(f->h);
    connrt_arena_destroy(f->arena);
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", f->dir);
    if (system(cmd) != 0) {
        fprintf(stderr, "could not remove %s\n", f->dir);
    }
    free(f);
    return 0;
}

static connrt_history_t *open_with(struct fixture *f, long long retention, int payloads,
                                   connrt_history_documents_t documents)
{
    char errstr[512] = "";
    struct connrt_history_options o = {retention, payloads, documents, 0};
    connrt_history_t *h = connrt_history_open(f->path, &o, errstr, sizeof(errstr));
    if (h == NULL) {
        fail_msg("open: %s", errstr);
    }
    return h;
}

/* A document with origin ORIGIN:LINE (line 0: none) and sequence `seq`. */
static connrt_document_t *doc(struct fixture *f, const char *origin, size_t line, size_t seq,
                              const char *payload)
{
    connrt_document_t *d = connrt_document_new(f->arena, payload, strlen(payload));
    assert_non_null(d);
    connrt_document_set_origin_ref(d, origin, line);
    connrt_document_set_seq(d, seq);
    return d;
}

/* One number from the database, read with a separate connection, as an
 * operator's sqlite3 shell would. */
static long long sql_number(const struct fixture *f, const char *sql)
{
    sqlite3 *db;
    sqlite3_stmt *st;
    long long v = -1;
    assert_int_equal(sqlite3_open_v2(f->path, &db, SQLITE_OPEN_READWRITE, NULL), SQLITE_OK);
    if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK) {
        fail_msg("%s: %s", sql, sqlite3_errmsg(db));
    }
    if (sqlite3_step(st) == SQLITE_ROW) {
        v = sqlite3_column_int64(st, 0);
    }
    sqlite3_finalize(st);
    sqlite3_close(db);
    return v;
}

static void sql_exec(const struct fixture *f, const char *sql)
{
    sqlite3 *db;
    char *err = NULL;
    assert_int_equal(sqlite3_open_v2(f->path, &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE,
                                     NULL), SQLITE_OK);
    if (sqlite3_exec(db, sql, NULL, NULL, &err) != SQLITE_OK) {
        fail_msg("%s: %s", sql, err);
    }
    sqlite3_close(db);
}

/* ------------------------------------------------------ collected rows */

#define MAX_ROWS 64

struct exec_rows {
    size_t n;
    long long id[MAX_ROWS];
    char status[MAX_ROWS][32];
    char process[MAX_ROWS][32];
    char error[MAX_ROWS][160];
    long long documents[MAX_ROWS], success[MAX_ROWS], app_errors[MAX_ROWS], failures[MAX_ROWS];
    int ended[MAX_ROWS];
};

static int collect_execution(void *opaque, const struct connrt_history_execution_row *r)
{
    struct exec_rows *rows = opaque;
    size_t i = rows->n++;
    assert_true(i < MAX_ROWS);
    rows->id[i] = r->id;
    snprintf(rows->status[i], sizeof(rows->status[i]), "%s", r->status);
    snprintf(rows->process[i], sizeof(rows->process[i]), "%s", r->process);
    snprintf(rows->error[i], sizeof(rows->error[i]), "%s", r->error ? r->error : "");
    rows->documents[i] = r->documents;
    rows->success[i] = r->success;
    rows->app_errors[i] = r->application_errors;
    rows->failures[i] = r->failures;
    rows->ended[i] = r->ended_at != NULL;
    return 0;
}

struct doc_rows {
    size_t n;
    long long seq[MAX_ROWS], line[MAX_ROWS];
    char outcome[MAX_ROWS][32];
    char origin[MAX_ROWS][32];
    char error[MAX_ROWS][64];
    char tracked[MAX_ROWS][128]; /* "a=1 b=2" */
    char payload[MAX_ROWS][32];  /* "-" when not kept */
};

static int collect_document(void *opaque, const struct connrt_history_document_row *r)
{
    struct doc_rows *rows = opaque;
    size_t i = rows->n++;
    assert_true(i < MAX_ROWS);
    rows->seq[i] = r->seq;
    rows->line[i] = r->line;
    snprintf(rows->outcome[i], sizeof(rows->outcome[i]), "%s", r->outcome);
    snprintf(rows->origin[i], sizeof(rows->origin[i]), "%s", r->origin ? r->origin : "");
    snprintf(rows->error[i], sizeof(rows->error[i]), "%s", r->error ? r->error : "");
    size_t used = 0;
    for (size_t k = 0; k < r->ntracked; k++) {
        used += (size_t)snprintf(rows->tracked[i] + used, sizeof(rows->tracked[i]) - used,
                                 "%s%s=%s", k ? " " : "", r->tracked_names[k],
                                 r->tracked_values[k]);
    }
    snprintf(rows->payload[i], sizeof(rows->payload[i]), "%.*s",
             r->payload ? (int)r->payload_len : 1, r->payload ? (const char *)r->payload : "-");
    return 0;
}

static void list_executions(connrt_history_t *h, const struct connrt_history_filter *filter,
                            struct exec_rows *rows, int *more)
{
    char errstr[512] = "";
    memset(rows, 0, sizeof(*rows));
    if (connrt_history_list_executions(h, filter, collect_execution, rows, more, errstr,
                                       sizeof(errstr)) != 0) {
        fail_msg("list executions: %s", errstr);
    }
}

static void list_documents(connrt_history_t *h, long long id,
                           const struct connrt_history_filter *filter, struct doc_rows *rows,
                           int *more)
{
    char errstr[512] = "";
    memset(rows, 0, sizeof(*rows));
    if (connrt_history_list_documents(h, id, filter, collect_document, rows, more, errstr,
                                      sizeof(errstr)) != 0) {
        fail_msg("list documents: %s", errstr);
    }
}

static connrt_history_execution_t *begin(connrt_history_t *h, const char *process)
{
    char errstr[512] = "";
    connrt_history_execution_t *x = NULL;
    if (connrt_history_begin(h, process, &x, errstr, sizeof(errstr)) != 0) {
        fail_msg("begin: %s", errstr);
    }
    return x;
}

static void commit(connrt_history_execution_t *x)
{
    char errstr[512] = "";
    if (connrt_history_commit(x, errstr, sizeof(errstr)) != 0) {
        fail_msg("commit: %s", errstr);
    }
}

static void end(connrt_history_execution_t *x, connrt_history_outcome_t outcome,
                const char *error)
{
    char errstr[512] = "";
    if (connrt_history_end(x, outcome, NULL, error, errstr, sizeof(errstr)) != 0) {
        fail_msg("end: %s", errstr);
    }
}

/* ------------------------------------------------------------------ tests */

static void open__new_file__wal_schema_version_1(void **state)
{
    struct fixture *f = *state;
    f->h = open_with(f, 30, 0, CONNRT_HISTORY_DOCUMENTS_ALL);
    assert_int_equal(sql_number(f, "PRAGMA user_version"), 1);
    sqlite3 *db;
    sqlite3_stmt *st;
    assert_int_equal(sqlite3_open(f->path, &db), SQLITE_OK);
    assert_int_equal(sqlite3_prepare_v2(db, "PRAGMA journal_mode", -1, &st, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    assert_string_equal((const char *)sqlite3_column_text(st, 0), "wal");
    sqlite3_finalize(st);
    sqlite3_close(db);
}

static void end__success__execution_row_with_counts_and_end_time(void **state)
{
    struct fixture *f = *state;
    f->h = open_with(f, 30, 0, CONNRT_HISTORY_DOCUMENTS_ALL);
    connrt_history_execution_t *x = begin(f->h, "orders");
    long long id = connrt_history_execution_id(x);
    assert_true(id > 0);
    for (size_t i = 1; i <= 3; i++) {
        assert_int_equal(connrt_history_add(x, doc(f, "in.txt", i, i, "p"),
                                            CONNRT_HISTORY_SUCCESS, NULL), 0);
    }
    commit(x);
    end(x, CONNRT_HISTORY_SUCCESS, NULL);
    struct exec_rows rows;
    list_executions(f->h, NULL, &rows, NULL);
    assert_int_equal(rows.n, 1);
    assert_int_equal(rows.id[0], id);
    assert_string_equal(rows.process[0], "orders");
    assert_string_equal(rows.status[0], "success");
    assert_int_equal(rows.documents[0], 3);
    assert_int_equal(rows.success[0], 3);
    assert_int_equal(rows.app_errors[0] + rows.failures[0], 0);
    assert_true(rows.ended[0]);
}

static void commit__running_execution__counts_visible_before_end(void **state)
{
    struct fixture *f = *state;
    f->h = open_with(f, 30, 0, CONNRT_HISTORY_DOCUMENTS_ALL);
    connrt_history_execution_t *x = begin(f->h, "p");
    connrt_history_add(x, doc(f, "in.txt", 1, 1, "a"), CONNRT_HISTORY_SUCCESS, NULL);
    connrt_history_add(x, doc(f, "in.txt", 2, 2, "b"), CONNRT_HISTORY_APPLICATION_ERROR, "bad");
    commit(x);
    assert_int_equal(sql_number(f, "SELECT documents FROM executions WHERE status='running'"), 2);
    assert_int_equal(sql_number(f, "SELECT application_errors FROM executions"), 1);
    end(x, CONNRT_HISTORY_APPLICATION_ERROR, NULL);
    assert_int_equal(sql_number(f, "SELECT count(*) FROM executions WHERE "
                                   "status='application_errors' AND ended_at IS NOT NULL"), 1);
}

static void commit__consecutive_plain_documents__one_row_listed_as_each(void **state)
{
    struct fixture *f = *state;
    f->h = open_with(f, 30, 0, CONNRT_HISTORY_DOCUMENTS_ALL);
    connrt_history_execution_t *x = begin(f->h, "p");
    long long id = connrt_history_execution_id(x);
    for (size_t i = 1; i <= 10; i++) {
        connrt_history_add(x, doc(f, "in.txt", i, i, "p"), CONNRT_HISTORY_SUCCESS, NULL);
    }
    commit(x);
    for (size_t i = 11; i <= 20; i++) { /* the next chunk continues the lines */
        connrt_history_add(x, doc(f, "in.txt", i, i, "p"), CONNRT_HISTORY_SUCCESS, NULL);
    }
    end(x, CONNRT_HISTORY_SUCCESS, NULL);
    assert_int_equal(sql_number(f, "SELECT count(*) FROM documents"), 2);
    assert_int_equal(sql_number(f, "SELECT sum(count) FROM documents"), 20);
    struct doc_rows rows;
    list_documents(f->h, id, NULL, &rows, NULL);
    assert_int_equal(rows.n, 20);
    for (size_t i = 0; i < 20; i++) {
        assert_int_equal(rows.seq[i], (long long)i + 1);
        assert_int_equal(rows.line[i], (long long)i + 1);
        assert_string_equal(rows.origin[i], "in.txt");
        assert_string_equal(rows.outcome[i], "success");
    }
}

static void commit__break_in_lines_or_origin__new_row(void **state)
{
    struct fixture *f = *state;
    f->h = open_with(f, 30, 0, CONNRT_HISTORY_DOCUMENTS_ALL);
    connrt_history_execution_t *x = begin(f->h, "p");
    long long id = connrt_history_execution_id(x);
    connrt_history_add(x, doc(f, "a.txt", 1, 1, "p"), CONNRT_HISTORY_SUCCESS, NULL);
    connrt_history_add(x, doc(f, "a.txt", 3, 2, "p"), CONNRT_HISTORY_SUCCESS, NULL);
    connrt_history_add(x, doc(f, "b.txt", 4, 3, "p"), CONNRT_HISTORY_SUCCESS, NULL);
    connrt_history_add(x, doc(f, "consume", 0, 4, "p"), CONNRT_HISTORY_SUCCESS, NULL);
    connrt_history_add(x, doc(f, "consume", 0, 5, "p"), CONNRT_HISTORY_SUCCESS, NULL);
    end(x, CONNRT_HISTORY_SUCCESS, NULL);
    assert_int_equal(sql_number(f, "SELECT count(*) FROM documents"), 4);
    struct doc_rows rows;
    list_documents(f->h, id, NULL, &rows, NULL);
    assert_int_equal(rows.n, 5);
    assert_int_equal(rows.line[1], 3);
    assert_string_equal(rows.origin[2], "b.txt");
    assert_string_equal(rows.origin[4], "consume");
    assert_int_equal(rows.line[4], 0);
}

static void commit__errors_and_tracked__own_rows_with_details(void **state)
{
    struct fixture *f = *state;
    f->h = open_with(f, 30, 0, CONNRT_HISTORY_DOCUMENTS_ALL);
    connrt_history_execution_t *x = begin(f->h, "p");
    long long id = connrt_history_execution_id(x);
    connrt_document_t *tracked = doc(f, "in.txt", 1, 1, "p");
    connrt_document_set_tracked(tracked, "kafka.topic", "orders");
    connrt_document_set_tracked(tracked, "kafka.offset", "42");
    connrt_history_add(x, tracked, CONNRT_HISTORY_SUCCESS, NULL);
    connrt_history_add(x, doc(f, "in.txt", 2, 2, "p"), CONNRT_HISTORY_APPLICATION_ERROR,
                       "too large");
    connrt_history_add(x, doc(f, "in.txt", 3, 3, "p"), CONNRT_HISTORY_FAILURE, NULL);
    end(x, CONNRT_HISTORY_FAILURE, "operation 'send' failed: broker down");
    struct doc_rows rows;
    list_documents(f->h, id, NULL, &rows, NULL);
    assert_int_equal(rows.n, 3);
    assert_string_equal(rows.tracked[0], "kafka.offset=42 kafka.topic=orders");
    assert_string_equal(rows.outcome[1], "application_error");
    assert_string_equal(rows.error[1], "too large");
    assert_string_equal(rows.tracked[1], "");
    assert_string_equal(rows.outcome[2], "failure");
    struct exec_rows ex;
    list_executions(f->h, NULL, &ex, NULL);
    assert_string_equal(ex.status[0], "failure");
    assert_string_equal(ex.error[0], "operation 'send' failed: broker down");
    assert_int_equal(ex.documents[0], 3);
    assert_int_equal(ex.failures[0], 1);
}

static void list__tracked_filter__finds_execution_and_document(void **state)
{
    struct fixture *f = *state;
    f->h = open_with(f, 30, 0, CONNRT_HISTORY_DOCUMENTS_ALL);
    long long ids[2];
    for (int e = 0; e < 2; e++) {
        connrt_history_execution_t *x = begin(f->h, "p");
        ids[e] = connrt_history_execution_id(x);
        for (size_t i = 1; i <= 5; i++) {
            char offset[16];
            snprintf(offset, sizeof(offset), "%zu", (size_t)e * 5 + i);
            connrt_document_t *d = doc(f, "in.txt", i, i, "p");
            connrt_document_set_tracked(d, "kafka.offset", offset);
            connrt_history_add(x, d, CONNRT_HISTORY_SUCCESS, NULL);
        }
        end(x, CONNRT_HISTORY_SUCCESS, NULL);
    }
    struct connrt_history_filter filter = {.tracked_name = "kafka.offset", .tracked_value = "8"};
    struct exec_rows ex;
    list_executions(f->h, &filter, &ex, NULL);
    assert_int_equal(ex.n, 1);
    assert_int_equal(ex.id[0], ids[1]);
    struct doc_rows rows;
    list_documents(f->h, ids[1], &filter, &rows, NULL);
    assert_int_equal(rows.n, 1);
    assert_int_equal(rows.seq[0], 3);
    filter.tracked_value = "99";
    list_executions(f->h, &filter, &ex, NULL);
    assert_int_equal(ex.n, 0);
    /* The query uses the (name, value) index, not a scan. */
    assert_int_equal(sql_number(f, "SELECT count(*) FROM pragma_index_list('tracked') "
                                   "WHERE name = 'tracked_value'"), 1);
}

static void list_executions__filters_and_limit__newest_first(void **state)
{
    struct fixture *f = *state;
    f->h = open_with(f, 30, 0, CONNRT_HISTORY_DOCUMENTS_ALL);
    const char *processes[] = {"a", "b", "a", "a"};
    connrt_history_outcome_t outcomes[] = {CONNRT_HISTORY_SUCCESS, CONNRT_HISTORY_SUCCESS,
                                           CONNRT_HISTORY_FAILURE, CONNRT_HISTORY_SUCCESS};
    for (int i = 0; i < 4; i++) {
        end(begin(f->h, processes[i]), outcomes[i], NULL);
    }
    struct exec_rows ex;
    int more = 0;
    struct connrt_history_filter filter = {.process = "a"};
    list_executions(f->h, &filter, &ex, &more);
    assert_int_equal(ex.n, 3);
    assert_true(ex.id[0] > ex.id[1] && ex.id[1] > ex.id[2]);
    assert_false(more);
    filter.status = "failure";
    list_executions(f->h, &filter, &ex, NULL);
    assert_int_equal(ex.n, 1);
    filter = (struct connrt_history_filter){.limit = 2};
    list_executions(f->h, &filter, &ex, &more);
    assert_int_equal(ex.n, 2);
    assert_true(more);
    filter = (struct connrt_history_filter){.since = "2999-01-01T00:00:00.000Z"};
    list_executions(f->h, &filter, &ex, NULL);
    assert_int_equal(ex.n, 0);
    filter.since = "2000-01-01T00:00:00.000Z";
    list_executions(f->h, &filter, &ex, NULL);
    assert_int_equal(ex.n, 4);
}

static void documents_errors__successes_counted_not_listed(void **state)
{
    struct fixture *f = *state;
    f->h = open_with(f, 30, 0, CONNRT_HISTORY_DOCUMENTS_ERRORS);
    connrt_history_execution_t *x = begin(f->h, "p");
    long long id = connrt_history_execution_id(x);
    connrt_history_add(x, doc(f, "in.txt", 1, 1, "p"), CONNRT_HISTORY_SUCCESS, NULL);
    connrt_history_add(x, doc(f, "in.txt", 2, 2, "p"), CONNRT_HISTORY_APPLICATION_ERROR, "bad");
    end(x, CONNRT_HISTORY_APPLICATION_ERROR, NULL);
    struct doc_rows rows;
    list_documents(f->h, id, NULL, &rows, NULL);
    assert_int_equal(rows.n, 1);
    assert_int_equal(rows.seq[0], 2);
    assert_int_equal(sql_number(f, "SELECT success FROM executions"), 1);
}

static void documents_none__only_the_execution(void **state)
{
    struct fixture *f = *state;
    f->h = open_with(f, 30, 0, CONNRT_HISTORY_DOCUMENTS_NONE);
    connrt_history_execution_t *x = begin(f->h, "p");
    connrt_document_t *d = doc(f, "in.txt", 1, 1, "p");
    connrt_document_set_tracked(d, "k", "v");
    connrt_history_add(x, d, CONNRT_HISTORY_APPLICATION_ERROR, "bad");
    end(x, CONNRT_HISTORY_APPLICATION_ERROR, NULL);
    assert_int_equal(sql_number(f, "SELECT count(*) FROM documents"), 0);
    assert_int_equal(sql_number(f, "SELECT count(*) FROM tracked"), 0);
    assert_int_equal(sql_number(f, "SELECT application_errors FROM executions"), 1);
}

static void payloads__on__kept_per_document_off__not(void **state)
{
    struct fixture *f = *state;
    f->h = open_with(f, 30, 1, CONNRT_HISTORY_DOCUMENTS_ALL);
    connrt_history_execution_t *x = begin(f->h, "p");
    long long id = connrt_history_execution_id(x);
    connrt_history_add(x, doc(f, "in.txt", 1, 1, "first"), CONNRT_HISTORY_SUCCESS, NULL);
    connrt_history_add(x, doc(f, "in.txt", 2, 2, "second"), CONNRT_HISTORY_SUCCESS, NULL);
    end(x, CONNRT_HISTORY_SUCCESS, NULL);
    struct doc_rows rows;
    list_documents(f->h, id, NULL, &rows, NULL);
    assert_int_equal(rows.n, 2);
    assert_string_equal(rows.payload[0], "first");
    assert_string_equal(rows.payload[1], "second");
    connrt_history_close(f->h);

    f->h = open_with(f, 30, 0, CONNRT_HISTORY_DOCUMENTS_ALL);
    x = begin(f->h, "p");
    id = connrt_history_execution_id(x);
    connrt_history_add(x, doc(f, "in.txt", 1, 1, "secret"), CONNRT_HISTORY_SUCCESS, NULL);
    end(x, CONNRT_HISTORY_SUCCESS, NULL);
    list_documents(f->h, id, NULL, &rows, NULL);
    assert_string_equal(rows.payload[0], "-");
    assert_int_equal(sql_number(f, "SELECT count(*) FROM payloads WHERE execution_id = "
                                   "(SELECT max(id) FROM executions)"), 0);
}

static void begin__retention__older_executions_deleted_with_documents(void **state)
{
    struct fixture *f = *state;
    f->h = open_with(f, 30, 0, CONNRT_HISTORY_DOCUMENTS_ALL);
    end(begin(f->h, "recent"), CONNRT_HISTORY_SUCCESS, NULL);
    sql_exec(f, "INSERT INTO executions(id, process, started_at, ended_at, status, pid) VALUES "
                "(100, 'old', '2000-01-01T00:00:00.000Z', '2000-01-01T00:00:01.000Z', "
                "'success', 1);"
                "INSERT INTO documents VALUES (100, 1, 1, 'success', 'x', 1, NULL);"
                "INSERT INTO tracked VALUES (100, 1, 'k', 'v');");
    end(begin(f->h, "new"), CONNRT_HISTORY_SUCCESS, NULL);
    assert_int_equal(sql_number(f, "SELECT count(*) FROM executions WHERE id = 100"), 0);
    assert_int_equal(sql_number(f, "SELECT count(*) FROM documents WHERE execution_id = 100"), 0);
    assert_int_equal(sql_number(f, "SELECT count(*) FROM tracked WHERE execution_id = 100"), 0);
    assert_int_equal(sql_number(f, "SELECT count(*) FROM executions"), 2);
}

static void begin__retention_zero__old_executions_kept(void **state)
{
    struct fixture *f = *state;
    f->h = open_with(f, 0, 0, CONNRT_HISTORY_DOCUMENTS_ALL);
    sql_exec(f, "INSERT INTO executions(id, process, started_at, status, pid) VALUES "
                "(100, 'old', '2000-01-01T00:00:00.000Z', 'success', 1)");
    end(begin(f->h, "new"), CONNRT_HISTORY_SUCCESS, NULL);
    assert_int_equal(sql_number(f, "SELECT count(*) FROM executions WHERE id = 100"), 1);
}

static void open__running_rows_of_gone_processes__closed_as_interrupted(void **state)
{
    struct fixture *f = *state;
    char sql[512];
    f->h = open_with(f, 30, 0, CONNRT_HISTORY_DOCUMENTS_ALL);
    connrt_history_close(f->h);
    f->h = NULL;
    pid_t child = fork();
    if (child == 0) {
        _exit(0);
    }
    waitpid(child, NULL, 0);
    /* A process that is gone, this process (no execution of a new handle
     * can be running), and a live other process (the parent). */
    snprintf(sql, sizeof(sql),
             "INSERT INTO executions(id, process, started_at, status, documents, pid) VALUES "
             "(1, 'dead', '2030-01-01T00:00:00.000Z', 'running', 7, %d),"
             "(2, 'self', '2030-01-01T00:00:00.000Z', 'running', 0, %d),"
             "(3, 'alive', '2030-01-01T00:00:00.000Z', 'running', 0, %d)",
             (int)child, (int)getpid(), (int)getppid());
    sql_exec(f, sql);
    f->h = open_with(f, 30, 0, CONNRT_HISTORY_DOCUMENTS_ALL);
    struct exec_rows ex;
    list_executions(f->h, NULL, &ex, NULL);
    assert_int_equal(ex.n, 3);
    assert_string_equal(ex.status[0], "running"); /* id 3 */
    assert_string_equal(ex.status[1], "failure");
    assert_string_equal(ex.status[2], "failure");
    assert_non_null(strstr(ex.error[2], "interrupted"));
    assert_int_equal(ex.documents[2], 7); /* what was committed stays */
}

static void open__other_database__refused_with_path(void **state)
{
    struct fixture *f = *state;
    char errstr[512] = "";
    sql_exec(f, "CREATE TABLE customers(name TEXT)");
    struct connrt_history_options o = {30, 0, CONNRT_HISTORY_DOCUMENTS_ALL, 0};
    assert_null(connrt_history_open(f->path, &o, errstr, sizeof(errstr)));
    assert_non_null(strstr(errstr, f->path));
    assert_non_null(strstr(errstr, "not a connrt execution history"));
    assert_null(connrt_history_open_existing(f->path, errstr, sizeof(errstr)));
    assert_non_null(strstr(errstr, "schema version 0"));
}

static void open_existing__missing_file__error_names_path(void **state)
{
    struct fixture *f = *state;
    char errstr[512] = "";
    assert_null(connrt_history_open_existing(f->path, errstr, sizeof(errstr)));
    assert_non_null(strstr(errstr, "no execution history at"));
    assert_non_null(strstr(errstr, f->path));
    assert_int_equal(access(f->path, F_OK), -1); /* nothing created */
}

static void list_documents__unknown_execution__error(void **state)
{
    struct fixture *f = *state;
    char errstr[512] = "";
    struct doc_rows rows = {0};
    f->h = open_with(f, 30, 0, CONNRT_HISTORY_DOCUMENTS_ALL);
    assert_int_equal(connrt_history_list_documents(f->h, 42, NULL, collect_document, &rows, NULL,
                                                   errstr, sizeof(errstr)),
                     -1);
    assert_non_null(strstr(errstr, "no execution 42"));
}

static void list_documents__status_and_limit__expanded_rows_cut(void **state)
{
    struct fixture *f = *state;
    f->h = open_with(f, 30, 0, CONNRT_HISTORY_DOCUMENTS_ALL);
    connrt_history_execution_t *x = begin(f->h, "p");
    long long id = connrt_history_execution_id(x);
    for (size_t i = 1; i <= 10; i++) {
        connrt_history_add(x, doc(f, "in.txt", i, i, "p"),
                           i == 7 ? CONNRT_HISTORY_APPLICATION_ERROR : CONNRT_HISTORY_SUCCESS,
                           i == 7 ? "bad" : NULL);
    }
    end(x, CONNRT_HISTORY_APPLICATION_ERROR, NULL);
    struct doc_rows rows;
    int more = 0;
    struct connrt_history_filter filter = {.status = "application_errors"};
    list_documents(f->h, id, &filter, &rows, &more);
    assert_int_equal(rows.n, 1);
    assert_int_equal(rows.seq[0], 7);
    filter = (struct connrt_history_filter){.limit = 4};
    list_documents(f->h, id, &filter, &rows, &more);
    assert_int_equal(rows.n, 4);
    assert_int_equal(rows.seq[3], 4);
    assert_true(more);
}

static void begin__reader_handle__refused(void **state)
{
    struct fixture *f = *state;
    char errstr[512] = "";
    f->h = open_with(f, 30, 0, CONNRT_HISTORY_DOCUMENTS_ALL);
    connrt_history_t *reader = connrt_history_open_existing(f->path, errstr, sizeof(errstr));
    assert_non_null(reader);
    connrt_history_execution_t *x = NULL;
    assert_int_equal(connrt_history_begin(reader, "p", &x, errstr, sizeof(errstr)), -1);
    assert_non_null(strstr(errstr, "reading only"));
    connrt_history_close(reader);
}

static void time_text__epoch_plus__iso_utc_milliseconds(void **state)
{
    (void)state;
    char buf[40];
    struct timespec t = {86400 + 3661, 7000000};
    connrt_history_time_text(&t, buf, sizeof(buf));
    assert_string_equal(buf, "1970-01-02T01:01:01.007Z");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(open__new_file__wal_schema_version_1, setup, teardown),
        cmocka_unit_test_setup_teardown(end__success__execution_row_with_counts_and_end_time,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(commit__running_execution__counts_visible_before_end,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(
            commit__consecutive_plain_documents__one_row_listed_as_each, setup, teardown),
        cmocka_unit_test_setup_teardown(commit__break_in_lines_or_origin__new_row, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(commit__errors_and_tracked__own_rows_with_details, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(list__tracked_filter__finds_execution_and_document,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(list_executions__filters_and_limit__newest_first, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(documents_errors__successes_counted_not_listed, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(documents_none__only_the_execution, setup, teardown),
        cmocka_unit_test_setup_teardown(payloads__on__kept_per_document_off__not, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(begin__retention__older_executions_deleted_with_documents,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(begin__retention_zero__old_executions_kept, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(
            open__running_rows_of_gone_processes__closed_as_interrupted, setup, teardown),
        cmocka_unit_test_setup_teardown(open__other_database__refused_with_path, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(open_existing__missing_file__error_names_path, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(list_documents__unknown_execution__error, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(list_documents__status_and_limit__expanded_rows_cut,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(begin__reader_handle__refused, setup, teardown),
        cmocka_unit_test(time_text__epoch_plus__iso_utc_milliseconds),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
