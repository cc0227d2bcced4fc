/*
 * history.c - execution history in SQLite (see history.h for the schema,
 * durability and cost).
 *
 * One handle serves every execution of a container; its mutex keeps each
 * transaction whole. An execution notes its documents without touching
 * the database (the engine's documents live until the chunk ends) and
 * writes them at commit, one transaction per chunk.
 */
#include "history.h"
#include "vector.h"

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <unistd.h>

#define SCHEMA_VERSION 1
#define BUSY_TIMEOUT_MS 10000
/* A chunk that adds no document rows updates a running execution's counts
 * only if they were last written this long ago; its end writes them all. */
#define COUNTS_EVERY_MS 1000
#define SECONDS_PER_DAY 86400LL
#define TIME_TEXT_SIZE 40

static const char schema_sql[] =
    "CREATE TABLE executions ("
    " id INTEGER PRIMARY KEY AUTOINCREMENT,"
    " process TEXT NOT NULL,"
    " started_at TEXT NOT NULL,"
    " ended_at TEXT,"
    " status TEXT NOT NULL,"
    " documents INTEGER NOT NULL DEFAULT 0,"
    " success INTEGER NOT NULL DEFAULT 0,"
    " application_errors INTEGER NOT NULL DEFAULT 0,"
    " failures INTEGER NOT NULL DEFAULT 0,"
    " error TEXT,"
    " pid INTEGER NOT NULL);"
    "CREATE INDEX executions_started ON executions(started_at);"
    "CREATE INDEX executions_process ON executions(process, started_at);"
    "CREATE TABLE documents ("
    " execution_id INTEGER NOT NULL,"
    " seq INTEGER NOT NULL,"
    " count INTEGER NOT NULL,"
    " outcome TEXT NOT NULL,"
    " origin TEXT,"
    " line INTEGER,"
    " error TEXT,"
    " PRIMARY KEY (execution_id, seq)) WITHOUT ROWID;"
    "CREATE TABLE tracked ("
    " execution_id INTEGER NOT NULL,"
    " seq INTEGER NOT NULL,"
    " name TEXT NOT NULL,"
    " value TEXT NOT NULL,"
    " PRIMARY KEY (execution_id, seq, name)) WITHOUT ROWID;"
    "CREATE INDEX tracked_value ON tracked(name, value);"
    "CREATE TABLE payloads ("
    " execution_id INTEGER NOT NULL,"
    " seq INTEGER NOT NULL,"
    " payload BLOB NOT NULL,"
    " PRIMARY KEY (execution_id, seq));"
    "PRAGMA user_version = 1;";

/* Statements of the writer, prepared once. */
enum stmt {
    ST_BEGIN,
    ST_COMMIT,
    ST_ROLLBACK,
    ST_INSERT_EXECUTION,
    ST_INSERT_DOCUMENT,
    ST_INSERT_TRACKED,
    ST_INSERT_PAYLOAD,
    ST_UPDATE_COUNTS,
    ST_END_EXECUTION,
    ST_EXPIRABLE,
    ST_EXPIRE_TRACKED,
    ST_EXPIRE_PAYLOADS,
    ST_EXPIRE_DOCUMENTS,
    ST_EXPIRE_EXECUTIONS,
    ST_COUNT
};

#define EXPIRED "(SELECT id FROM executions WHERE started_at < ?1 AND status <> 'running')"

static const char *const stmt_sql[ST_COUNT] = {
    [ST_BEGIN] = "BEGIN IMMEDIATE",
    [ST_COMMIT] = "COMMIT",
    [ST_ROLLBACK] = "ROLLBACK",
    [ST_INSERT_EXECUTION] = "INSERT INTO executions(process, started_at, status, pid) "
                            "VALUES (?1, ?2, 'running', ?3)",
    [ST_INSERT_DOCUMENT] = "INSERT OR REPLACE INTO documents(execution_id, seq, count, outcome, "
                           "origin, line, error) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
    [ST_INSERT_TRACKED] = "INSERT OR REPLACE INTO tracked(execution_id, seq, name, value) "
                          "VALUES (?1, ?2, ?3, ?4)",
    [ST_INSERT_PAYLOAD] = "INSERT OR REPLACE INTO payloads(execution_id, seq, payload) "
                          "VALUES (?1, ?2, ?3)",
    [ST_UPDATE_COUNTS] = "UPDATE executions SET documents = ?2, success = ?3, "
                         "application_errors = ?4, failures = ?5 WHERE id = ?1",
    [ST_END_EXECUTION] = "UPDATE executions SET documents = ?2, success = ?3, "
                         "application_errors = ?4, failures = ?5, ended_at = ?6, status = ?7, "
                         "error = ?8 WHERE id = ?1",
    [ST_EXPIRABLE] = "SELECT EXISTS " EXPIRED,
    [ST_EXPIRE_TRACKED] = "DELETE FROM tracked WHERE execution_id IN " EXPIRED,
    [ST_EXPIRE_PAYLOADS] = "DELETE FROM payloads WHERE execution_id IN " EXPIRED,
    [ST_EXPIRE_DOCUMENTS] = "DELETE FROM documents WHERE execution_id IN " EXPIRED,
    [ST_EXPIRE_EXECUTIONS] = "DELETE FROM executions WHERE started_at < ?1 AND "
                             "status <> 'running'",
};

struct connrt_history {
    sqlite3 *db;
    char *path;
    struct connrt_history_options opts;
    pthread_mutex_t lock;
    sqlite3_stmt *st[ST_COUNT]; /* NULL for a reader */
};

struct pending {
    const connrt_document_t *doc;
    const char *error;
    unsigned char outcome;
};

struct connrt_history_execution {
    connrt_history_t *h;
    long long id;
    struct pending *pending;
    size_t npending, cap;
    struct connrt_history_counts counts;
    int dirty;             /* counts changed since they were written */
    int rows_due;          /* a pending document gets a row */
    long long written_at;  /* monotonic ms of the last write of the row */
};

/* Consecutive documents that share one row. */
struct range {
    long long seq, count;
    int outcome;
    const char *origin;
    size_t line; /* of the first; 0: none */
    const char *error;
};

/* ------------------------------------------------------------- helpers */

void connrt_history_time_text(const struct timespec *t, char *buf, size_t size)
{
    struct tm tm;
    gmtime_r(&t->tv_sec, &tm);
    size_t n = strftime(buf, size, "%Y-%m-%dT%H:%M:%S", &tm);
    snprintf(buf + n, size - n, ".%03ldZ", t->tv_nsec / 1000000);
}

static long long monotonic_ms(void)
{
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    return (long long)now.tv_sec * 1000 + now.tv_nsec / 1000000;
}

static void now_text(char *buf, size_t size)
{
    struct timespec now;
    clock_gettime(CLOCK_REALTIME, &now);
    connrt_history_time_text(&now, buf, size);
}

static int db_error(connrt_history_t *h, const char *what, char *errstr, size_t errstr_size)
{
    snprintf(errstr, errstr_size, "%s: %s: %s", h->path, what, sqlite3_errmsg(h->db));
    return -1;
}

/* Run a prepared statement to its end and reset it. */
static int run(connrt_history_t *h, sqlite3_stmt *st, const char *what, char *errstr,
               size_t errstr_size)
{
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
    }
    if (rc != SQLITE_DONE) {
        db_error(h, what, errstr, errstr_size);
        sqlite3_reset(st);
        return -1;
    }
    sqlite3_reset(st);
    return 0;
}

static int exec_sql(connrt_history_t *h, const char *sql, const char *what, char *errstr,
                    size_t errstr_size)
{
    if (sqlite3_exec(h->db, sql, NULL, NULL, NULL) != SQLITE_OK) {
        return db_error(h, what, errstr, errstr_size);
    }
    return 0;
}

static int same_text(const char *a, const char *b)
{
    return a == b || (a != NULL && b != NULL && strcmp(a, b) == 0);
}

static const char *outcome_text(int outcome)
{
    switch (outcome) {
    case CONNRT_HISTORY_SUCCESS:
        return "success";
    case CONNRT_HISTORY_APPLICATION_ERROR:
        return "application_error";
    default:
        return "failure";
    }
}

static const char *status_text(connrt_history_outcome_t outcome)
{
    switch (outcome) {
    case CONNRT_HISTORY_SUCCESS:
        return "success";
    case CONNRT_HISTORY_APPLICATION_ERROR:
        return "application_errors";
    case CONNRT_HISTORY_FAILURE:
        break;
    }
    return "failure";
}

static long long query_int(connrt_history_t *h, const char *sql, long long fallback)
{
    sqlite3_stmt *st;
    long long v = fallback;
    if (sqlite3_prepare_v2(h->db, sql, -1, &st, NULL) == SQLITE_OK &&
        sqlite3_step(st) == SQLITE_ROW) {
        v = sqlite3_column_int64(st, 0);
    }
    sqlite3_finalize(st);
    return v;
}

/* ------------------------------------------------------------- opening */

static connrt_history_t *handle_new(const char *path, int flags, char *errstr,
                                    size_t errstr_size)
{
    connrt_history_t *h = calloc(1, sizeof(*h));
    if (h == NULL || (h->path = strdup(path)) == NULL) {
        free(h);
        snprintf(errstr, errstr_size, "%s: out of memory", path);
        return NULL;
    }
    pthread_mutex_init(&h->lock, NULL);
    if (sqlite3_open_v2(path, &h->db, flags | SQLITE_OPEN_FULLMUTEX, NULL) != SQLITE_OK) {
        if (h->db != NULL) {
            db_error(h, "cannot open", errstr, errstr_size);
        } else {
            snprintf(errstr, errstr_size, "%s: cannot open: out of memory", path);
        }
        connrt_history_close(h);
        return NULL;
    }
    sqlite3_busy_timeout(h->db, BUSY_TIMEOUT_MS);
    sqlite3_extended_result_codes(h->db, 1);
    return h;
}

/* The schema version, creating the schema in an empty file. */
static int ensure_schema(connrt_history_t *h, char *errstr, size_t errstr_size)
{
    if (exec_sql(h, "BEGIN IMMEDIATE", "cannot lock", errstr, errstr_size) != 0) {
        return -1;
    }
    long long version = query_int(h, "PRAGMA user_version", -1);
    long long objects = query_int(h, "SELECT count(*) FROM sqlite_master", -1);
    int rc = 0;
    if (version == 0 && objects == 0) {
        rc = exec_sql(h, schema_sql, "cannot create the schema", errstr, errstr_size);
    } else if (version == 0) {
        snprintf(errstr, errstr_size, "%s: not a connrt execution history (a database with "
                 "other tables)", h->path);
        rc = -1;
    } else if (version != SCHEMA_VERSION) {
        snprintf(errstr, errstr_size, "%s: execution history of schema version %lld; this "
                 "connrt reads version %d", h->path, version, SCHEMA_VERSION);
        rc = -1;
    }
    if (rc != 0) {
        sqlite3_exec(h->db, "ROLLBACK", NULL, NULL, NULL);
        return -1;
    }
    return exec_sql(h, "COMMIT", "cannot create the schema", errstr, errstr_size);
}

static int process_alive(long long pid)
{
    if (pid <= 0 || pid == (long long)getpid()) {
        return 0;
    }
    return kill((pid_t)pid, 0) == 0 || errno == EPERM;
}

/* Executions whose connrt process is gone end as "interrupted" failures. */
static int close_interrupted(connrt_history_t *h, char *errstr, size_t errstr_size)
{
    sqlite3_stmt *sel = NULL, *upd = NULL;
    char error[128];
    int rc = -1;
    if (sqlite3_prepare_v2(h->db, "SELECT id, pid FROM executions WHERE status = 'running'",
                           -1, &sel, NULL) != SQLITE_OK ||
        sqlite3_prepare_v2(h->db, "UPDATE executions SET status = 'failure', error = ?2 "
                           "WHERE id = ?1 AND status = 'running'", -1, &upd, NULL) != SQLITE_OK ||
        exec_sql(h, "BEGIN IMMEDIATE", "cannot lock", errstr, errstr_size) != 0) {
        db_error(h, "cannot close interrupted executions", errstr, errstr_size);
        goto out;
    }
    int step;
    while ((step = sqlite3_step(sel)) == SQLITE_ROW) {
        long long pid = sqlite3_column_int64(sel, 1);
        if (process_alive(pid)) {
            continue;
        }
        snprintf(error, sizeof(error), "interrupted: connrt (pid %lld) stopped before the "
                 "execution ended", pid);
        sqlite3_bind_int64(upd, 1, sqlite3_column_int64(sel, 0));
        sqlite3_bind_text(upd, 2, error, -1, SQLITE_TRANSIENT);
        if (run(h, upd, "cannot close interrupted executions", errstr, errstr_size) != 0) {
            break;
        }
    }
    if (step == SQLITE_DONE) {
        rc = exec_sql(h, "COMMIT", "cannot close interrupted executions", errstr, errstr_size);
    } else {
        if (step != SQLITE_ROW) {
            db_error(h, "cannot close interrupted executions", errstr, errstr_size);
        }
        sqlite3_exec(h->db, "ROLLBACK", NULL, NULL, NULL);
    }
out:
    sqlite3_finalize(sel);
    sqlite3_finalize(upd);
    return rc;
}

static int prepare_writer(connrt_history_t *h, char *errstr, size_t errstr_size)
{
    for (int i = 0; i < ST_COUNT; i++) {
        if (sqlite3_prepare_v3(h->db, stmt_sql[i], -1, SQLITE_PREPARE_PERSISTENT, &h->st[i],
                               NULL) != SQLITE_OK) {
            return db_error(h, "cannot prepare statements", errstr, errstr_size);
        }
    }
    return 0;
}

connrt_history_t *connrt_history_open(const char *path, const struct connrt_history_options *opts,
                                      char *errstr, size_t errstr_size)
{
    connrt_history_t *h =
        handle_new(path, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, errstr, errstr_size);
    if (h == NULL) {
        return NULL;
    }
    if (opts != NULL) {
        h->opts = *opts;
    }
    /* A checkpoint at close would sync the WAL at the end of every run; on
     * ext4 that also waits for the run's output file to reach the disk
     * (~0.1 s per run measured). The WAL is checkpointed as it fills instead. */
    sqlite3_db_config(h->db, SQLITE_DBCONFIG_NO_CKPT_ON_CLOSE, 1, NULL);
    /* WAL: commits survive the death of the process; readers never block
     * the writer. journal_size_limit keeps the WAL file from staying big.
     * wal_autocheckpoint 10000 pages (~40 MB; SQLite's default is 1000):
     * a checkpoint syncs the files, and with rows of short executions
     * changing the same few pages, fewer checkpoints copy and sync far less
     * (a listener with batch_size 1 writes ~5 pages per execution). */
    const char *pragmas = h->opts.synchronous_full
                              ? "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL; "
                                "PRAGMA journal_size_limit=67108864; "
                                "PRAGMA wal_autocheckpoint=10000;"
                              : "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; "
                                "PRAGMA journal_size_limit=67108864; "
                                "PRAGMA wal_autocheckpoint=10000;";
    if (exec_sql(h, pragmas, "cannot set up", errstr, errstr_size) != 0 ||
        ensure_schema(h, errstr, errstr_size) != 0 ||
        close_interrupted(h, errstr, errstr_size) != 0 ||
        prepare_writer(h, errstr, errstr_size) != 0) {
        connrt_history_close(h);
        return NULL;
    }
    return h;
}

connrt_history_t *connrt_history_open_existing(const char *path, char *errstr,
                                               size_t errstr_size)
{
    struct stat st;
    if (stat(path, &st) != 0) {
        snprintf(errstr, errstr_size, "no execution history at %s (%s; the first execution "
                 "run in this container creates it)", path, strerror(errno));
        return NULL;
    }
    connrt_history_t *h = handle_new(path, SQLITE_OPEN_READWRITE, errstr, errstr_size);
    if (h == NULL) {
        return NULL;
    }
    long long version = query_int(h, "PRAGMA user_version", -1);
    if (version != SCHEMA_VERSION) {
        if (version < 0) {
            db_error(h, "cannot read", errstr, errstr_size);
        } else {
            snprintf(errstr, errstr_size, "%s: not an execution history this connrt reads "
                     "(schema version %lld, expected %d)", path, version, SCHEMA_VERSION);
        }
        connrt_history_close(h);
        return NULL;
    }
    return h;
}

void connrt_history_close(connrt_history_t *h)
{
    if (h == NULL) {
        return;
    }
    for (int i = 0; i < ST_COUNT; i++) {
        sqlite3_finalize(h->st[i]);
    }
    sqlite3_close(h->db);
    pthread_mutex_destroy(&h->lock);
    free(h->path);
    free(h);
}

/* ------------------------------------------------------------- writing */

static int expire_locked(connrt_history_t *h, char *errstr, size_t errstr_size)
{
    char cutoff[TIME_TEXT_SIZE];
    struct timespec now;
    clock_gettime(CLOCK_REALTIME, &now);
    now.tv_sec -= (time_t)(h->opts.retention_days * SECONDS_PER_DAY);
    connrt_history_time_text(&now, cutoff, sizeof(cutoff));
    /* One index probe when there is nothing to delete (nearly always). */
    sqlite3_stmt *probe = h->st[ST_EXPIRABLE];
    sqlite3_bind_text(probe, 1, cutoff, -1, SQLITE_TRANSIENT);
    int step = sqlite3_step(probe);
    int expirable = step == SQLITE_ROW && sqlite3_column_int(probe, 0) != 0;
    sqlite3_reset(probe);
    if (step != SQLITE_ROW) {
        return db_error(h, "cannot delete expired executions", errstr, errstr_size);
    }
    if (!expirable) {
        return 0;
    }
    static const enum stmt order[] = {ST_EXPIRE_TRACKED, ST_EXPIRE_PAYLOADS, ST_EXPIRE_DOCUMENTS,
                                      ST_EXPIRE_EXECUTIONS};
    for (size_t i = 0; i < sizeof(order) / sizeof(order[0]); i++) {
        sqlite3_stmt *st = h->st[order[i]];
        sqlite3_bind_text(st, 1, cutoff, -1, SQLITE_TRANSIENT);
        if (run(h, st, "cannot delete expired executions", errstr, errstr_size) != 0) {
            return -1;
        }
    }
    return 0;
}

static int insert_execution_locked(connrt_history_t *h, const char *process_id, long long *id,
                                   char *errstr, size_t errstr_size)
{
    char started[TIME_TEXT_SIZE];
    now_text(started, sizeof(started));
    sqlite3_stmt *st = h->st[ST_INSERT_EXECUTION];
    sqlite3_bind_text(st, 1, process_id, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, started, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 3, (long long)getpid());
    if (run(h, st, "cannot record the execution", errstr, errstr_size) != 0) {
        return -1;
    }
    *id = sqlite3_last_insert_rowid(h->db);
    return 0;
}

static int begin_locked(connrt_history_t *h, const char *process_id, long long *id, char *errstr,
                        size_t errstr_size)
{
    if (run(h, h->st[ST_BEGIN], "cannot lock", errstr, errstr_size) != 0) {
        return -1;
    }
    if ((h->opts.retention_days > 0 && expire_locked(h, errstr, errstr_size) != 0) ||
        insert_execution_locked(h, process_id, id, errstr, errstr_size) != 0 ||
        run(h, h->st[ST_COMMIT], "cannot commit", errstr, errstr_size) != 0) {
        sqlite3_step(h->st[ST_ROLLBACK]);
        sqlite3_reset(h->st[ST_ROLLBACK]);
        return -1;
    }
    return 0;
}

int connrt_history_begin(connrt_history_t *h, const char *process_id,
                         connrt_history_execution_t **out, char *errstr, size_t errstr_size)
{
    if (h->st[ST_BEGIN] == NULL) {
        snprintf(errstr, errstr_size, "%s: opened for reading only", h->path);
        return -1;
    }
    connrt_history_execution_t *x = calloc(1, sizeof(*x));
    if (x == NULL) {
        snprintf(errstr, errstr_size, "%s: out of memory", h->path);
        return -1;
    }
    x->h = h;
    pthread_mutex_lock(&h->lock);
    int rc = begin_locked(h, process_id, &x->id, errstr, errstr_size);
    pthread_mutex_unlock(&h->lock);
    x->written_at = monotonic_ms();
    if (rc != 0) {
        free(x);
        return -1;
    }
    *out = x;
    return 0;
}

long long connrt_history_execution_id(const connrt_history_execution_t *x)
{
    return x->id;
}

int connrt_history_keeps_successes(const connrt_history_execution_t *x)
{
    return x->h->opts.documents == CONNRT_HISTORY_DOCUMENTS_ALL;
}

int connrt_history_add(connrt_history_execution_t *x, const connrt_document_t *doc,
                       connrt_history_outcome_t outcome, const char *error)
{
    if (x->npending == x->cap) {
        size_t cap = x->cap ? x->cap * 2 : 1024;
        struct pending *grown = connrt_realloc_array(x->pending, cap, sizeof(*grown));
        if (grown == NULL) {
            return -1;
        }
        x->pending = grown;
        x->cap = cap;
    }
    x->pending[x->npending++] = (struct pending){doc, error, (unsigned char)outcome};
    if (x->h->opts.documents == CONNRT_HISTORY_DOCUMENTS_ALL ||
        (x->h->opts.documents == CONNRT_HISTORY_DOCUMENTS_ERRORS &&
         outcome != CONNRT_HISTORY_SUCCESS)) {
        x->rows_due = 1;
    }
    x->counts.documents++;
    if (outcome == CONNRT_HISTORY_SUCCESS) {
        x->counts.success++;
    } else if (outcome == CONNRT_HISTORY_APPLICATION_ERROR) {
        x->counts.application_errors++;
    } else {
        x->counts.failures++;
    }
    x->dirty = 1;
    return 0;
}

static void bind_text_or_null(sqlite3_stmt *st, int i, const char *text)
{
    if (text != NULL) {
        sqlite3_bind_text(st, i, text, -1, SQLITE_STATIC);
    } else {
        sqlite3_bind_null(st, i);
    }
}

static int insert_row(connrt_history_execution_t *x, const struct range *r, char *errstr,
                      size_t errstr_size)
{
    sqlite3_stmt *st = x->h->st[ST_INSERT_DOCUMENT];
    sqlite3_bind_int64(st, 1, x->id);
    sqlite3_bind_int64(st, 2, r->seq);
    sqlite3_bind_int64(st, 3, r->count);
    sqlite3_bind_text(st, 4, outcome_text(r->outcome), -1, SQLITE_STATIC);
    bind_text_or_null(st, 5, r->origin);
    if (r->line > 0) {
        sqlite3_bind_int64(st, 6, (long long)r->line);
    } else {
        sqlite3_bind_null(st, 6);
    }
    bind_text_or_null(st, 7, r->error);
    return run(x->h, st, "cannot record documents", errstr, errstr_size);
}

/* The document's tracked properties and payload (its row is written). */
static int insert_details(connrt_history_execution_t *x, const connrt_document_t *doc,
                          long long seq, char *errstr, size_t errstr_size)
{
    sqlite3_stmt *st = x->h->st[ST_INSERT_TRACKED];
    size_t n = connrt_document_tracked_count(doc);
    for (size_t i = 0; i < n; i++) {
        const char *name, *value;
        connrt_document_tracked_at(doc, i, &name, &value);
        sqlite3_bind_int64(st, 1, x->id);
        sqlite3_bind_int64(st, 2, seq);
        sqlite3_bind_text(st, 3, name, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 4, value ? value : "", -1, SQLITE_STATIC);
        if (run(x->h, st, "cannot record tracked properties", errstr, errstr_size) != 0) {
            return -1;
        }
    }
    if (!x->h->opts.payloads) {
        return 0;
    }
    size_t len;
    const void *payload = connrt_document_payload(doc, &len);
    st = x->h->st[ST_INSERT_PAYLOAD];
    sqlite3_bind_int64(st, 1, x->id);
    sqlite3_bind_int64(st, 2, seq);
    sqlite3_bind_blob64(st, 3, payload ? payload : "", (sqlite3_uint64)len, SQLITE_STATIC);
    return run(x->h, st, "cannot record payloads", errstr, errstr_size);
}

static int extends(const struct range *r, long long seq, int outcome, const char *origin,
                   size_t line, const char *error)
{
    return r->count > 0 && outcome == r->outcome && seq == r->seq + r->count &&
           (r->line == 0 ? line == 0 : line == r->line + (size_t)r->count) &&
           same_text(origin, r->origin) && same_text(error, r->error);
}

static int write_documents(connrt_history_execution_t *x, char *errstr, size_t errstr_size)
{
    const struct connrt_history_options *o = &x->h->opts;
    struct range r = {0};
    if (o->documents == CONNRT_HISTORY_DOCUMENTS_NONE) {
        return 0;
    }
    for (size_t i = 0; i < x->npending; i++) {
        const struct pending *p = &x->pending[i];
        if (o->documents == CONNRT_HISTORY_DOCUMENTS_ERRORS &&
            p->outcome == CONNRT_HISTORY_SUCCESS) {
            continue;
        }
        size_t line;
        const char *origin = connrt_document_origin_source(p->doc, &line);
        long long seq = (long long)connrt_document_seq(p->doc);
        int plain = !o->payloads && connrt_document_tracked_count(p->doc) == 0;
        if (plain && extends(&r, seq, p->outcome, origin, line, p->error)) {
            r.count++;
            continue;
        }
        if (r.count > 0 && insert_row(x, &r, errstr, errstr_size) != 0) {
            return -1;
        }
        r = (struct range){seq, 1, p->outcome, origin, line, p->error};
        if (!plain) {
            if (insert_row(x, &r, errstr, errstr_size) != 0 ||
                insert_details(x, p->doc, seq, errstr, errstr_size) != 0) {
                return -1;
            }
            r.count = 0;
        }
    }
    return r.count > 0 ? insert_row(x, &r, errstr, errstr_size) : 0;
}

static void bind_counts(sqlite3_stmt *st, long long id, const struct connrt_history_counts *c)
{
    sqlite3_bind_int64(st, 1, id);
    sqlite3_bind_int64(st, 2, (long long)c->documents);
    sqlite3_bind_int64(st, 3, (long long)c->success);
    sqlite3_bind_int64(st, 4, (long long)c->application_errors);
    sqlite3_bind_int64(st, 5, (long long)c->failures);
}

static int commit_locked(connrt_history_execution_t *x, char *errstr, size_t errstr_size)
{
    connrt_history_t *h = x->h;
    if (run(h, h->st[ST_BEGIN], "cannot lock", errstr, errstr_size) != 0) {
        return -1;
    }
    bind_counts(h->st[ST_UPDATE_COUNTS], x->id, &x->counts);
    if (write_documents(x, errstr, errstr_size) != 0 ||
        run(h, h->st[ST_UPDATE_COUNTS], "cannot record counts", errstr, errstr_size) != 0 ||
        run(h, h->st[ST_COMMIT], "cannot commit", errstr, errstr_size) != 0) {
        sqlite3_step(h->st[ST_ROLLBACK]);
        sqlite3_reset(h->st[ST_ROLLBACK]);
        return -1;
    }
    return 0;
}

/* The noted documents are dropped: the engine frees them after the chunk. */
static void pending_written(connrt_history_execution_t *x)
{
    x->npending = 0;
    x->rows_due = 0;
    x->dirty = 0;
    x->written_at = monotonic_ms();
}

int connrt_history_commit(connrt_history_execution_t *x, char *errstr, size_t errstr_size)
{
    if (x->npending == 0 && !x->dirty) {
        return 0;
    }
    if (!x->rows_due && monotonic_ms() - x->written_at < COUNTS_EVERY_MS) {
        /* Counts only, written a moment ago: the next write carries them
         * (at the latest the end's, in the same transaction as its row). */
        x->npending = 0;
        return 0;
    }
    pthread_mutex_lock(&x->h->lock);
    int rc = commit_locked(x, errstr, errstr_size);
    pthread_mutex_unlock(&x->h->lock);
    pending_written(x);
    return rc;
}

/* The documents still noted and the final row, in one transaction. When
 * the documents cannot be written, the execution still ends with its
 * counts (the row alone). */
static int end_locked(connrt_history_execution_t *x, sqlite3_stmt *st, char *errstr,
                      size_t errstr_size)
{
    connrt_history_t *h = x->h;
    char second[256];
    if (run(h, h->st[ST_BEGIN], "cannot lock", errstr, errstr_size) == 0) {
        if (write_documents(x, errstr, errstr_size) == 0 &&
            run(h, st, "cannot end the execution", errstr, errstr_size) == 0 &&
            run(h, h->st[ST_COMMIT], "cannot commit", errstr, errstr_size) == 0) {
            return 0;
        }
        sqlite3_step(h->st[ST_ROLLBACK]);
        sqlite3_reset(h->st[ST_ROLLBACK]);
    }
    run(h, st, "cannot end the execution", second, sizeof(second));
    return -1;
}

int connrt_history_end(connrt_history_execution_t *x, connrt_history_outcome_t outcome,
                       const struct connrt_history_counts *counts, const char *error,
                       char *errstr, size_t errstr_size)
{
    char ended[TIME_TEXT_SIZE];
    connrt_history_t *h = x->h;
    now_text(ended, sizeof(ended));
    sqlite3_stmt *st = h->st[ST_END_EXECUTION];
    pthread_mutex_lock(&h->lock);
    bind_counts(st, x->id, counts != NULL ? counts : &x->counts);
    sqlite3_bind_text(st, 6, ended, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 7, status_text(outcome), -1, SQLITE_STATIC);
    bind_text_or_null(st, 8, error);
    int rc = end_locked(x, st, errstr, errstr_size);
    pthread_mutex_unlock(&h->lock);
    free(x->pending);
    free(x);
    return rc;
}

/* ------------------------------------------------------------- reading */

/* SQL text with bound parameters only; the user's values never enter it. */
struct sql_text {
    char buf[1024];
    size_t len;
};

static void sql_add(struct sql_text *s, const char *part)
{
    int n = snprintf(s->buf + s->len, sizeof(s->buf) - s->len, "%s", part);
    if (n > 0) {
        s->len += (size_t)n;
    }
}

static int prepare(connrt_history_t *h, const char *sql, sqlite3_stmt **st, char *errstr,
                   size_t errstr_size)
{
    if (sqlite3_prepare_v2(h->db, sql, -1, st, NULL) != SQLITE_OK) {
        return db_error(h, "cannot query", errstr, errstr_size);
    }
    return 0;
}

static const char *column_text(sqlite3_stmt *st, int i)
{
    return (const char *)sqlite3_column_text(st, i);
}

static int list_executions_locked(connrt_history_t *h, const struct connrt_history_filter *f,
                                  connrt_history_execution_fn fn, void *opaque, int *more,
                                  char *errstr, size_t errstr_size)
{
    struct sql_text sql = {.len = 0};
    sqlite3_stmt *st;
    sql_add(&sql, "SELECT id, process, started_at, ended_at, status, documents, success, "
                  "application_errors, failures, error, pid FROM executions WHERE 1");
    sql_add(&sql, f->process ? " AND process = ?1" : "");
    sql_add(&sql, f->status ? " AND status = ?2" : "");
    sql_add(&sql, f->since ? " AND started_at >= ?3" : "");
    sql_add(&sql, f->tracked_name ? " AND id IN (SELECT execution_id FROM tracked WHERE "
                                    "name = ?4 AND value = ?5)" : "");
    sql_add(&sql, " ORDER BY id DESC LIMIT ?6");
    if (prepare(h, sql.buf, &st, errstr, errstr_size) != 0) {
        return -1;
    }
    bind_text_or_null(st, 1, f->process);
    bind_text_or_null(st, 2, f->status);
    bind_text_or_null(st, 3, f->since);
    bind_text_or_null(st, 4, f->tracked_name);
    bind_text_or_null(st, 5, f->tracked_name ? f->tracked_value : NULL);
    sqlite3_bind_int64(st, 6, f->limit > 0 ? f->limit + 1 : -1);
    long long rows = 0;
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        if (f->limit > 0 && rows == f->limit) {
            *more = 1;
            break;
        }
        rows++;
        struct connrt_history_execution_row row = {
            sqlite3_column_int64(st, 0), column_text(st, 1), column_text(st, 2),
            column_text(st, 3), column_text(st, 4), sqlite3_column_int64(st, 5),
            sqlite3_column_int64(st, 6), sqlite3_column_int64(st, 7),
            sqlite3_column_int64(st, 8), column_text(st, 9), sqlite3_column_int64(st, 10)};
        if (fn(opaque, &row) != 0) {
            break;
        }
    }
    if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
        db_error(h, "cannot query", errstr, errstr_size);
        sqlite3_finalize(st);
        return -1;
    }
    sqlite3_finalize(st);
    return 0;
}

int connrt_history_list_executions(connrt_history_t *h, const struct connrt_history_filter *f,
                                   connrt_history_execution_fn fn, void *opaque, int *more,
                                   char *errstr, size_t errstr_size)
{
    int ignored = 0;
    static const struct connrt_history_filter none = {0};
    pthread_mutex_lock(&h->lock);
    int rc = list_executions_locked(h, f ? f : &none, fn, opaque, more ? more : &ignored, errstr,
                                    errstr_size);
    pthread_mutex_unlock(&h->lock);
    return rc;
}

/* A document's tracked properties and payload, read for listing. */
struct details {
    sqlite3_stmt *tracked, *payload;
    char **names, **values;
    size_t n, cap;
    void *payload_copy;
    size_t payload_len;
};

static void details_clear(struct details *d)
{
    for (size_t i = 0; i < d->n; i++) {
        free(d->names[i]);
        free(d->values[i]);
    }
    d->n = 0;
    free(d->payload_copy);
    d->payload_copy = NULL;
    d->payload_len = 0;
}

static int details_push(struct details *d, const char *name, const char *value)
{
    if (d->n == d->cap) {
        size_t cap = d->cap ? d->cap * 2 : 8;
        char **names = connrt_realloc_array(d->names, cap, sizeof(*names));
        if (names != NULL) {
            d->names = names;
        }
        char **values = names ? connrt_realloc_array(d->values, cap, sizeof(*values)) : NULL;
        if (values == NULL) {
            return -1;
        }
        d->values = values;
        d->cap = cap;
    }
    d->names[d->n] = strdup(name ? name : "");
    d->values[d->n] = strdup(value ? value : "");
    d->n++;
    return d->names[d->n - 1] && d->values[d->n - 1] ? 0 : -1;
}

static int details_read(connrt_history_t *h, struct details *d, long long id, long long seq,
                        char *errstr, size_t errstr_size)
{
    details_clear(d);
    sqlite3_bind_int64(d->tracked, 1, id);
    sqlite3_bind_int64(d->tracked, 2, seq);
    int rc;
    while ((rc = sqlite3_step(d->tracked)) == SQLITE_ROW) {
        if (details_push(d, column_text(d->tracked, 0), column_text(d->tracked, 1)) != 0) {
            rc = SQLITE_NOMEM;
            break;
        }
    }
    sqlite3_reset(d->tracked);
    if (rc != SQLITE_DONE) {
        return db_error(h, "cannot read tracked properties", errstr, errstr_size);
    }
    sqlite3_bind_int64(d->payload, 1, id);
    sqlite3_bind_int64(d->payload, 2, seq);
    if (sqlite3_step(d->payload) == SQLITE_ROW) {
        int len = sqlite3_column_bytes(d->payload, 0);
        const void *blob = sqlite3_column_blob(d->payload, 0);
        d->payload_copy = malloc((size_t)len + 1);
        if (d->payload_copy != NULL) {
            if (len > 0) {
                memcpy(d->payload_copy, blob, (size_t)len);
            }
            d->payload_len = (size_t)len;
        }
    }
    sqlite3_reset(d->payload);
    return 0;
}

static const char *document_outcome_filter(const char *status)
{
    if (status != NULL && strcmp(status, "application_errors") == 0) {
        return "application_error";
    }
    return status;
}

static int execution_exists(connrt_history_t *h, long long id)
{
    sqlite3_stmt *st;
    int found = 0;
    if (sqlite3_prepare_v2(h->db, "SELECT 1 FROM executions WHERE id = ?1", -1, &st, NULL) ==
        SQLITE_OK) {
        sqlite3_bind_int64(st, 1, id);
        found = sqlite3_step(st) == SQLITE_ROW;
    }
    sqlite3_finalize(st);
    return found;
}

/* Each document a row stands for, through fn. Returns 1 to stop, else 0. */
static int expand_row(sqlite3_stmt *st, long long id, const struct details *d,
                      const struct connrt_history_filter *f, long long *emitted, int *more,
                      connrt_history_document_fn fn, void *opaque)
{
    long long seq = sqlite3_column_int64(st, 0), count = sqlite3_column_int64(st, 1);
    long long line = sqlite3_column_int64(st, 4);
    for (long long k = 0; k < count; k++) {
        if (f->limit > 0 && *emitted == f->limit) {
            *more = 1;
            return 1;
        }
        (*emitted)++;
        struct connrt_history_document_row row = {
            id, seq + k, column_text(st, 2), column_text(st, 3), line > 0 ? line + k : 0,
            column_text(st, 5), d->n, (const char *const *)d->names,
            (const char *const *)d->values, d->payload_copy, d->payload_len};
        if (fn(opaque, &row) != 0) {
            return 1;
        }
    }
    return 0;
}

static int list_documents_locked(connrt_history_t *h, long long id,
                                 const struct connrt_history_filter *f,
                                 connrt_history_document_fn fn, void *opaque, int *more,
                                 char *errstr, size_t errstr_size)
{
    struct sql_text sql = {.len = 0};
    struct details d = {0};
    sqlite3_stmt *st = NULL;
    int rc = -1;
    if (!execution_exists(h, id)) {
        snprintf(errstr, errstr_size, "%s: no execution %lld", h->path, id);
        return -1;
    }
    sql_add(&sql, "SELECT seq, count, outcome, origin, line, error FROM documents "
                  "WHERE execution_id = ?1");
    sql_add(&sql, f->status ? " AND outcome = ?2" : "");
    sql_add(&sql, f->tracked_name ? " AND seq IN (SELECT seq FROM tracked WHERE name = ?3 AND "
                                    "value = ?4 AND execution_id = ?1)" : "");
    sql_add(&sql, " ORDER BY seq");
    if (prepare(h, sql.buf, &st, errstr, errstr_size) != 0 ||
        prepare(h, "SELECT name, value FROM tracked WHERE execution_id = ?1 AND seq = ?2 "
                "ORDER BY name", &d.tracked, errstr, errstr_size) != 0 ||
        prepare(h, "SELECT payload FROM payloads WHERE execution_id = ?1 AND seq = ?2",
                &d.payload, errstr, errstr_size) != 0) {
        goto out;
    }
    sqlite3_bind_int64(st, 1, id);
    bind_text_or_null(st, 2, document_outcome_filter(f->status));
    bind_text_or_null(st, 3, f->tracked_name);
    bind_text_or_null(st, 4, f->tracked_name ? f->tracked_value : NULL);
    long long emitted = 0;
    int step;
    while ((step = sqlite3_step(st)) == SQLITE_ROW) {
        if (sqlite3_column_int64(st, 1) == 1 &&
            details_read(h, &d, id, sqlite3_column_int64(st, 0), errstr, errstr_size) != 0) {
            goto out;
        }
        if (sqlite3_column_int64(st, 1) != 1) {
            details_clear(&d);
        }
        if (expand_row(st, id, &d, f, &emitted, more, fn, opaque)) {
            break;
        }
    }
    if (step != SQLITE_ROW && step != SQLITE_DONE) {
        db_error(h, "cannot query", errstr, errstr_size);
        goto out;
    }
    rc = 0;
out:
    details_clear(&d);
    free(d.names);
    free(d.values);
    sqlite3_finalize(d.tracked);
    sqlite3_finalize(d.payload);
    sqlite3_finalize(st);
    return rc;
}

int connrt_history_list_documents(connrt_history_t *h, long long id,
                                  const struct connrt_history_filter *f,
                                  connrt_history_document_fn fn, void *opaque, int *more,
                                  char *errstr, size_t errstr_size)
{
    int ignored = 0;
    static const struct connrt_history_filter none = {0};
    pthread_mutex_lock(&h->lock);
    int rc = list_documents_locked(h, id, f ? f : &none, fn, opaque, more ? more : &ignored,
                                   errstr, errstr_size);
    pthread_mutex_unlock(&h->lock);
    return rc;
}
