/*
 * connrt/connector.h - the connrt connector ABI.
 *
 * This is the only header a connector (plugin) needs. A connector is a shared
 * object that exports exactly one symbol:
 *
 *     const struct connrt_connector *connrt_connector_entry(void);
 *
 * returning a pointer to a static, constant descriptor. Calling it must have
 * no side effects (the runtime calls it for `connrt describe`).
 *
 * The runtime loads connectors with dlopen(RTLD_NOW | RTLD_LOCAL) and refuses
 * one whose major ABI version differs from its own or whose descriptor is
 * smaller than the runtime requires. A connector never links runtime symbols:
 * everything it needs from the host comes through struct connrt_host.
 *
 * Conventions
 *  - 0 is success; any function that can fail takes `char *errstr, size_t
 *    errstr_size` last and writes a NUL-terminated message there. Messages
 *    never contain secret property values.
 *  - Ownership is stated next to every function: "borrowed" pointers stay
 *    owned by the caller for the time stated; "arena" memory is owned by the
 *    execution and freed with it.
 *  - Descriptors only ever grow at the end; new members are announced in the
 *    changelog below with the minor version that added them.
 *
 * ABI changelog
 *  1.0  first version: connection and operation tables, batch operations,
 *       listen callbacks, host services for logging, settings, documents,
 *       batches and listener submission.
 *  1.1  host->batch_flush (in a former reserved slot), so that a source
 *       acknowledges only what the process has taken; batch_emit documents
 *       are valid until the next batch_emit of the same batch.
 *  1.2  connector->connection_browse (in the former reserved[0] of struct
 *       connrt_connector, so struct_size is unchanged) with struct
 *       connrt_browse_request, connrt_browse_report and connrt_browse_cell,
 *       for `connrt browse`. A 1.0/1.1 connector has no such member: the
 *       runtime reads it only when the connector's minor version is >= 2
 *       (connrt_connector_browse() in the runtime does that check).
 *       Binary compatible; a descriptor written with positional (not
 *       designated) initializers needs one more NULL before `reserved`.
 *       Listen is implemented: listener_submit's ownership and `done`
 *       contract are stated in full, `done` NULL discards a batch, and a
 *       batch operation's execute may run on several runtime threads at
 *       once (one per listener execution).
 *  1.3  connector->connection_describe (in the former reserved[0] after
 *       connection_browse, so struct_size is unchanged), for `connrt
 *       describe --resolved`: the effective client settings of an open
 *       connection, secrets redacted. Read only from a connector whose
 *       minor version is >= 3 (connrt_connector_describe() in the runtime).
 *       operation->metrics (in the former reserved[0] of struct
 *       connrt_operation): an operation's own metrics for `connrt serve`'s
 *       /metrics; read only from a connector of minor version >= 3.
 *       Binary compatible, like 1.2.
 *  1.4  connector->connection_check (in the former reserved[0] after
 *       connection_describe): the checks of a connection's settings that
 *       depend on each other (a mechanism without its credentials, a preset
 *       without its fields), run by `connrt validate` without opening
 *       anything, so such a definition is refused before a run (exit 2).
 *       Read only from a connector of minor version >= 4. Binary compatible.
 *       Also host->listener_submit_fill (in the former reserved[0] of struct
 *       connrt_host, so struct_size is unchanged): a listener batch filled
 *       on the execution's thread just before it runs, so that a listener
 *       builds its documents in parallel, off its fetch thread. A plugin
 *       checks host->abi_version (minor >= 4) before calling it; a 1.4 host
 *       keeps listener_submit as it was.
 *  1.5  operation->execute_begin and operation->execute_end (in the former
 *       reserved[0] and reserved[1] of struct connrt_operation): execute in
 *       two halves, so that a Produce sends one chunk while the runtime
 *       reads and prepares the next, instead of waiting for the last
 *       delivery reports with nothing else to do. Both or neither; read
 *       only from a connector of minor version >= 5 (connrt_operation_split()
 *       in the runtime). Also host->batch_wants_tracked (in the former
 *       reserved[0] after listener_submit_fill): whether anything will read the
 *       tracked properties an operation sets on a batch's inputs, so that it
 *       can skip computing them. And host->doc_set_fields (in the former
 *       reserved[0] after batch_wants_tracked): several properties set in
 *       one call, with their lengths, as a consume sets seven on every
 *       message. Binary compatible.
 */
#ifndef CONNRT_CONNECTOR_H
#define CONNRT_CONNECTOR_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define CONNRT_ABI_VERSION_MAJOR 1
#define CONNRT_ABI_VERSION_MINOR 5
/* Encoded as (major << 16) | minor in connrt_connector.abi_version. */
#define CONNRT_ABI_VERSION ((CONNRT_ABI_VERSION_MAJOR << 16) | CONNRT_ABI_VERSION_MINOR)
#define CONNRT_ABI_MAJOR(v) ((unsigned)(v) >> 16)
#define CONNRT_ABI_MINOR(v) ((unsigned)(v)&0xffffu)

/* Name of the one exported symbol. */
#define CONNRT_CONNECTOR_ENTRY_SYMBOL "connrt_connector_entry"

/* ------------------------------------------------------------------------ */
/* Property tables                                                          */
/* ------------------------------------------------------------------------ */

typedef enum connrt_property_type {
    CONNRT_PROP_STRING = 0,  /* any text */
    CONNRT_PROP_INT,         /* decimal integer, within [min, max] when min < max */
    CONNRT_PROP_BOOL,        /* true/false, yes/no, on/off, 1/0 */
    CONNRT_PROP_SIZE,        /* bytes; suffixes KB, MB, GB (1024-based) accepted */
    CONNRT_PROP_DURATION_MS, /* milliseconds; suffixes ms, s, m, h accepted */
    CONNRT_PROP_ENUM,        /* one of `allowed` (case-sensitive) */
    CONNRT_PROP_LIST,        /* comma or newline separated list of strings */
    CONNRT_PROP_PEM,         /* a file path, or inline PEM text */
    CONNRT_PROP_PREFIX       /* `name` is a prefix: any "name<suffix>" is accepted */
} connrt_property_type_t;

/* Property flags. */
#define CONNRT_PROP_F_REQUIRED 0x01u   /* must be given; default_value is NULL */
#define CONNRT_PROP_F_SECRET 0x02u     /* value redacted in logs, errors, describe */
#define CONNRT_PROP_F_DEPRECATED 0x04u /* accepted, with a warning naming `hint` */
#define CONNRT_PROP_F_INVALID 0x08u    /* known wrong name: refused with `hint` */

/*
 * One row of a property table. Tables are arrays terminated by a row whose
 * `name` is NULL. The same table drives validation, defaults, `connrt
 * describe` and docs/properties.md.
 */
struct connrt_property_def {
    const char *name;
    connrt_property_type_t type;
    unsigned flags;
    const char *default_value;   /* NULL: no default */
    const char *const *allowed;  /* ENUM: NULL-terminated list; else NULL */
    long long min, max;          /* INT/SIZE/DURATION_MS bounds, used when min < max */
    const char *description;     /* one line */
    const char *hint;            /* DEPRECATED/INVALID: what to use instead */
};

/* ------------------------------------------------------------------------ */
/* Opaque host objects                                                      */
/* ------------------------------------------------------------------------ */

/* Resolved, validated settings of one component (defaults filled in). */
typedef struct connrt_settings connrt_settings_t;

/* One property for host->doc_set_fields (1.5). */
struct connrt_doc_field {
    const char *name; /* name_len bytes */
    size_t name_len;
    const char *value; /* value_len bytes */
    size_t value_len;
    int tracked; /* 1: a tracked property; 0: a document property */
};

/* A document: payload bytes, document properties, tracked properties. */
typedef struct connrt_document connrt_document_t;
/* One call of a batch operation: its input documents and their results. */
typedef struct connrt_batch connrt_batch_t;
/* A running listen operation's link to the runtime. */
typedef struct connrt_listener connrt_listener_t;

typedef enum connrt_log_level {
    CONNRT_LOG_ERROR = 3,
    CONNRT_LOG_WARNING = 4,
    CONNRT_LOG_INFO = 6,
    CONNRT_LOG_DEBUG = 7
} connrt_log_level_t;

/* Outcome of a listener execution, reported back to the connector. */
typedef enum connrt_execution_outcome {
    CONNRT_EXECUTION_SUCCEEDED = 0, /* every document succeeded or was handled */
    CONNRT_EXECUTION_FAILED = 1     /* retry or dead-letter the batch */
} connrt_execution_outcome_t;

/*
 * Services the runtime hands to a connector. Valid from the first callback
 * until the connector is unloaded. All functions are thread-safe unless
 * stated otherwise; document and batch functions must be called only from
 * the thread running the callback that received the batch.
 */
struct connrt_host {
    unsigned abi_version; /* CONNRT_ABI_VERSION of the runtime */
    size_t struct_size;   /* sizeof(struct connrt_host) of the runtime */

    /* Log a message tagged with `component_id` (borrowed). Never pass
     * secret values: the host does not know which substrings are secret. */
    void (*log)(connrt_log_level_t level, const char *component_id, const char *fmt, ...)
#if defined(__GNUC__)
        __attribute__((format(printf, 3, 4)))
#endif
        ;

    /* Settings. Returned strings are borrowed from `settings` and valid as
     * long as the component that received it (until its close callback). */
    const char *(*settings_get)(const connrt_settings_t *settings, const char *name);
    /* Integer value of an INT/SIZE/DURATION_MS/BOOL setting. Returns 0 and
     * sets *out, or -1 when unset or not a number. */
    int (*settings_get_int)(const connrt_settings_t *settings, const char *name, long long *out);
    size_t (*settings_count)(const connrt_settings_t *settings);
    /* i-th setting in name order; *name and *value borrowed as above. */
    void (*settings_at)(const connrt_settings_t *settings, size_t i, const char **name,
                        const char **value);

    /* Overwrite `len` bytes of secret material so it does not linger. */
    void (*wipe)(void *buf, size_t len);

    /* Documents. A document belongs to the execution arena of the batch
     * that created or delivered it; it is freed with the execution.
     * Returned pointers are borrowed until then. */
    const void *(*doc_payload)(const connrt_document_t *doc, size_t *len);
    /* Document properties (e.g. connector.kafka.key). NULL when unset. */
    const char *(*doc_get_property)(const connrt_document_t *doc, const char *name);
    /* Copies name and value into the arena. Returns 0, or -1 on no memory. */
    int (*doc_set_property)(connrt_document_t *doc, const char *name, const char *value);
    size_t (*doc_property_count)(const connrt_document_t *doc);
    void (*doc_property_at)(const connrt_document_t *doc, size_t i, const char **name,
                            const char **value);
    /* Tracked properties (e.g. kafka.partition), kept in execution history. */
    const char *(*doc_get_tracked)(const connrt_document_t *doc, const char *name);
    int (*doc_set_tracked)(connrt_document_t *doc, const char *name, const char *value);
    size_t (*doc_tracked_count)(const connrt_document_t *doc);
    void (*doc_tracked_at)(const connrt_document_t *doc, size_t i, const char **name,
                           const char **value);

    /* Batches. A batch operation gives every input exactly one result with
     * batch_succeed or batch_fail. Source operations (a consume that starts
     * a process) have no inputs and create documents with batch_emit. */
    size_t (*batch_count)(const connrt_batch_t *batch);
    /* Input i; borrowed (arena). The operation may set tracked properties on
     * it: it flows on as the result document. */
    connrt_document_t *(*batch_input)(connrt_batch_t *batch, size_t i);
    /* Input i succeeded. Returns 0, or -1 if i already has a result. */
    int (*batch_succeed)(connrt_batch_t *batch, size_t i);
    /* Input i is an application error; `message` (borrowed, copied) says why. */
    int (*batch_fail)(connrt_batch_t *batch, size_t i, const char *message);
    /* New output document with a copy of `payload`; returned pointer is
     * arena memory, valid until the next batch_emit or batch_flush of the
     * same batch (the runtime streams emitted documents on in chunks) or the
     * end of execute. NULL on no memory. `message` NULL: success; non-NULL:
     * the document is an application error with that reason. */
    connrt_document_t *(*batch_emit)(connrt_batch_t *batch, const void *payload, size_t len,
                                     const char *message);

    /* Listener: hand a batch (from listener_batch_new, filled with
     * batch_emit on the calling thread) to a new execution. Takes
     * ownership of `batch` in every case: the plugin must not touch it
     * after the call. Returns 0: `done` will be called exactly once, from
     * a runtime thread, with the outcome (`opaque` passed back), after the
     * execution ended and before listen_stop returns; the batch's documents
     * are gone by then. Returns -1 with errstr: the batch was freed unrun
     * and `done` is never called. `done` NULL discards the batch unrun
     * (returns 0): how a plugin drops a batch it could not fill. Executions
     * may run concurrently (container property execution.max.concurrent). */
    int (*listener_submit)(connrt_listener_t *listener, connrt_batch_t *batch,
                           void (*done)(void *opaque, connrt_execution_outcome_t outcome),
                           void *opaque, char *errstr, size_t errstr_size);
    /* A new empty batch for listener_submit, or NULL on no memory. Owned
     * by the runtime; every batch must be given to listener_submit. */
    connrt_batch_t *(*listener_batch_new)(connrt_listener_t *listener);

    /* 1.1: a source operation (no inputs) hands every document emitted so
     * far on through the rest of the process and waits for it. Returns 0
     * when the process took them all (each ended in success or application
     * error), -1 when it stopped on a failure: the source must then not
     * acknowledge (commit) them. May be NULL in a 1.0 host. */
    int (*batch_flush)(connrt_batch_t *batch);

    /* 1.4: listener_submit, but the runtime makes the batch and fills it on
     * the thread that runs the execution, just before it runs: `fill(opaque,
     * batch)` emits the documents (batch_emit, on that thread) and returns
     * 0, or -1 to drop the batch unrun (no execution is recorded; `done`
     * then reports CONNRT_EXECUTION_FAILED, and the plugin knows from its
     * fill why). Several fills and executions may run at once, on
     * different threads. Returns 0: `done` is called exactly once, as for
     * listener_submit. Returns -1 with errstr: neither `fill` nor `done`
     * is called. */
    int (*listener_submit_fill)(connrt_listener_t *listener,
                                int (*fill)(void *opaque, connrt_batch_t *batch),
                                void (*done)(void *opaque, connrt_execution_outcome_t outcome),
                                void *opaque, char *errstr, size_t errstr_size);

    /* 1.5: 0 when nothing will read the tracked properties set on this
     * batch's successful inputs (no later step, and the execution history
     * keeps no row for them: history.documents=errors or none), so the
     * operation may leave them unset; 1 otherwise. Failed inputs keep what
     * the operation sets. A plugin checks host->abi_version (minor >= 5)
     * first; an older host has no such member (then: 1). */
    int (*batch_wants_tracked)(const connrt_batch_t *batch);

    /* 1.5: set n properties of `doc` in one call, in order, as that many
     * doc_set_tracked (tracked 1) or doc_set_property (tracked 0) calls
     * would, with the lengths given (nothing needs to end in a NUL). Names
     * and values are borrowed for the call and copied. Returns 0, or -1 on
     * no memory (then some of the fields may be set). A plugin
     * checks host->abi_version (minor >= 5) first. */
    int (*doc_set_fields)(connrt_document_t *doc, const struct connrt_doc_field *fields,
                          size_t n);

    void *reserved[4];
};

/* ------------------------------------------------------------------------ */
/* Operations                                                               */
/* ------------------------------------------------------------------------ */

typedef enum connrt_operation_kind {
    CONNRT_OP_BATCH = 0, /* documents in, one result each (may also start a process) */
    CONNRT_OP_LISTEN = 1 /* long-running; submits batches to executions */
} connrt_operation_kind_t;

struct connrt_operation {
    const char *type;        /* "produce", "consume", ... as in XML type="" */
    connrt_operation_kind_t kind;
    int can_start;           /* 1: may be a process's <start operation=...> */
    const char *description; /* one line */
    const struct connrt_property_def *properties; /* NULL-name terminated */
    size_t context_size;     /* bytes the host allocates (zeroed) for open */

    /*
     * Prepare the operation. `ctx` is host-allocated (context_size bytes,
     * zeroed) and lives until close. `connection` is what connection_open
     * returned, borrowed until close. `settings` borrowed until close.
     */
    int (*open)(void *ctx, const struct connrt_host *host, void *connection,
                const connrt_settings_t *settings, const char *component_id, char *errstr,
                size_t errstr_size);
    /* Run one batch. Returns 0 when every input has a result (or, with no
     * inputs, when emitting finished); non-zero means the operation failed
     * as a whole: inputs without a result become failures. */
    /* Executions of a listen process run on several threads at once, so
     * a batch operation's execute may be called concurrently on one ctx:
     * it must serialise what it shares (Produce holds a lock). */
    int (*execute)(void *ctx, connrt_batch_t *batch, char *errstr, size_t errstr_size);
    /* LISTEN only: start fetching and submitting; returns once started. */
    int (*listen_start)(void *ctx, connrt_listener_t *listener, char *errstr, size_t errstr_size);
    /* LISTEN only: stop fetching, wait for running executions, commit. */
    void (*listen_stop)(void *ctx);
    /* Release everything open acquired; ctx itself is freed by the host. */
    void (*close)(void *ctx);

    /* 1.3 (former reserved[0]; may be NULL): the operation's own metrics
     * for `connrt serve`'s /metrics, e.g. a listener's lag per partition.
     * Calls sample() once per value: `name` a Prometheus metric name
     * (e.g. "connrt_consumer_lag"), `labels` its labels without braces
     * (e.g. "topic=\"t\",partition=\"0\"", or ""), both borrowed for the
     * call. Called from a runtime thread at any time between open and
     * close, also while execute or listen_stop run: it must take what it
     * reads under its own lock. */
    void (*metrics)(void *ctx,
                    void (*sample)(void *opaque, const char *name, const char *labels,
                                   double value),
                    void *opaque);

    /*
     * 1.5 (former reserved[0] and [1] after metrics; both NULL or both set): execute in
     * two halves. execute_begin starts the batch and may return before its
     * inputs have results; execute_end then waits until each has one and
     * returns what execute would have. The runtime may begin a second batch
     * on the same ctx before it ends the first, and keeps each batch (and
     * its documents) untouched until its execute_end. When execute_begin
     * returns non-zero, the batch failed as a whole (as execute's non-zero)
     * and execute_end is not called. Thread rules are execute's; execute
     * may also be called between the halves (another execution).
     */
    int (*execute_begin)(void *ctx, connrt_batch_t *batch, char *errstr, size_t errstr_size);
    int (*execute_end)(void *ctx, connrt_batch_t *batch, char *errstr, size_t errstr_size);

    void *reserved[5];
};

/* ------------------------------------------------------------------------ */
/* Browse (1.2)                                                             */
/* ------------------------------------------------------------------------ */

/*
 * What `connrt browse` asks a connection for. The connector reads a member
 * only when struct_size covers it (requests grow at the end).
 */
struct connrt_browse_request {
    size_t struct_size;        /* sizeof(struct connrt_browse_request) of the runtime */
    const char *topic;         /* NULL: every topic; else only this one (borrowed) */
    const char *const *groups; /* with topic: consumer groups to show offsets of */
    size_t ngroups;
    long long peek;            /* with topic, > 0: read this many messages into peek_batch */
    /* Source batch (no inputs) for the peeked messages: one host->batch_emit
     * per message, with the tracked properties a consume would set. */
    connrt_batch_t *peek_batch;
};

/* A cell holds an integer: JSON writes it unquoted, tables align it right. */
#define CONNRT_BROWSE_F_NUMBER 0x01u

/* One cell of a report row. */
struct connrt_browse_cell {
    const char *name;  /* column name; same columns, same order in every row of a table */
    const char *value; /* NULL: the cluster cannot tell (JSON null, "-" in tables) */
    unsigned flags;    /* CONNRT_BROWSE_F_* */
};

/*
 * Where a connector puts what it found: rows of named tables ("topics",
 * "partitions", ...) and plain-language notes. The runtime prints them as
 * aligned tables or as JSON Lines; the connector never formats output.
 */
struct connrt_browse_report {
    size_t struct_size; /* sizeof(struct connrt_browse_report) of the runtime */
    void *opaque;       /* first argument of the callbacks */
    /* One row of `table`; table, cells and their strings are borrowed for
     * the call (the runtime copies them). Returns 0, or -1 on no memory:
     * the connector then stops and fails. */
    int (*row)(void *opaque, const char *table, const struct connrt_browse_cell *cells,
               size_t ncells);
    /* A remark about `table` (e.g. that the cluster cannot list consumer
     * groups): said in the output, not an error. Borrowed for the call. */
    void (*note)(void *opaque, const char *table, const char *text);
};

/* connection_browse: what the request named does not exist (errstr names it). */
#define CONNRT_BROWSE_NOT_FOUND 1

/* ------------------------------------------------------------------------ */
/* The connector descriptor                                                 */
/* ------------------------------------------------------------------------ */

struct connrt_connector {
    unsigned abi_version; /* CONNRT_ABI_VERSION the connector was built with */
    size_t struct_size;   /* sizeof(struct connrt_connector) */
    const char *name;     /* "kafka": XML connector="" */
    const char *version;
    const char *description;

    /* Connection component properties, NULL-name terminated. */
    const struct connrt_property_def *connection_properties;
    /* Container properties, named "connector.NAME.<row name>" in
     * container.properties; NULL-name terminated. Their resolved values are
     * also visible in every operation's settings under the row name. */
    const struct connrt_property_def *container_properties;

    const struct connrt_operation *operations; /* terminated by type == NULL */

    /*
     * Open a connection. *connection is the connector's handle, passed to
     * operations and to connection_close. `settings` borrowed until close.
     * `container_dir` (may be NULL) is the container directory, borrowed for
     * the call only.
     */
    int (*connection_open)(const struct connrt_host *host, const connrt_settings_t *settings,
                           const char *component_id, const char *container_dir,
                           void **connection, char *errstr, size_t errstr_size);
    /* Check the connection end to end. `report` (may be NULL) receives lines
     * of human-readable findings (brokers, topics). */
    int (*connection_test)(void *connection, void (*report)(void *opaque, const char *line),
                           void *opaque, char *errstr, size_t errstr_size);
    void (*connection_close)(void *connection);

    /*
     * 1.2: explore a connection without changing anything in it: never
     * commit offsets, join a group, create a topic or write a message.
     * `request` and `report` are borrowed for the call. Returns 0,
     * CONNRT_BROWSE_NOT_FOUND when request->topic does not exist, or -1
     * with errstr. May be NULL (the connector cannot browse).
     */
    int (*connection_browse)(void *connection, const struct connrt_browse_request *request,
                             const struct connrt_browse_report *report, char *errstr,
                             size_t errstr_size);

    /*
     * 1.3: the settings the connection's clients will use, as the client
     * library sees them once presets and defaults are applied: one line per
     * setting to `report` ("name = value (why)"; line borrowed for the
     * call), secret values shown as "[redacted]". Must not contact the
     * brokers. Returns 0, or -1 with errstr. May be NULL.
     */
    int (*connection_describe)(void *connection, void (*report)(void *opaque, const char *line),
                               void *opaque, char *errstr, size_t errstr_size);

    /*
     * 1.4: check resolved connection settings (each already valid on its
     * own) against each other. Must not open files, contact any server or
     * keep anything: `settings` is borrowed for the call. Returns 0, or -1
     * with errstr naming the properties (never a secret). May be NULL.
     */
    int (*connection_check)(const struct connrt_host *host, const connrt_settings_t *settings,
                            char *errstr, size_t errstr_size);

    void *reserved[5];
};

/* The one exported symbol. Must have no side effects. */
const struct connrt_connector *connrt_connector_entry(void);

#ifdef __cplusplus
}
#endif

#endif /* CONNRT_CONNECTOR_H */
