/*
 * operations.h - the Kafka operations (produce, consume, commit_offset,
 * listen): their property tables, contexts and callbacks, gathered into the
 * descriptor's operation table by connector-kafka/plugin.c.
 *
 * Contexts are allocated (zeroed) by the host with the size of the structs
 * below and live from open to close. Every struct given to librdkafka as an
 * opaque starts with a kafka_log_target (see connection.h).
 */
#ifndef CONNRT_KAFKA_OPERATIONS_H
#define CONNRT_KAFKA_OPERATIONS_H

#include <pthread.h>
#include <stdint.h>

#include <connrt/connector.h>
#include <librdkafka/rdkafka.h>

#include "../connector-kafka/connection.h"

struct kafka_formats; /* formats.h */

/* Document properties (DESIGN §5). */
#define KAFKA_DOC_KEY "connector.kafka.key"
#define KAFKA_DOC_TOPIC "connector.kafka.topic"
#define KAFKA_DOC_HEADER_PREFIX "connector.kafka.header."

/* ------------------------------------------------------------------------ */
/* Produce                                                                  */
/* ------------------------------------------------------------------------ */

struct kafka_static_header {
    const char *name;  /* after "header."; borrowed from settings */
    const char *value; /* borrowed from settings */
    char *override;    /* owned: "connector.kafka.header.NAME", which replaces it */
};

struct kafka_topic_handle {
    char *name; /* owned */
    rd_kafka_topic_t *rkt;
};

struct kafka_produce {
    struct kafka_log_target log; /* first: opaque of the producer */
    char *component_id;          /* owned */
    struct kafka_connection *conn;
    const connrt_settings_t *settings;
    rd_kafka_t *rk; /* one producer for the operation's life */
    int mock;       /* the cluster is librdkafka's mock */
    const char *topic;
    long long max_request_size;
    long long message_timeout_ms;
    struct kafka_static_header *headers;
    size_t nheaders;
    struct kafka_topic_handle *topics; /* handles by name, for producev */
    size_t ntopics;
    /* One thread at a time in the producer: delivery reports are served
     * by whichever thread polls, and they settle any batch in flight. */
    pthread_mutex_t lock;
    int lock_ready;
    /* Batches between execute_begin and execute_end (execute is both at
     * once); delivery reports find their input here by generation. */
    struct kafka_produce_run *runs;
    uint64_t generation; /* of the latest batch: tags each message's opaque */
    long long clock_ms;  /* the wall clock, read once per few uses (produce_clock) */
    unsigned clock_uses; /* uses left of clock_ms */
    int warned_source_topic; /* see warn_source_topic */
    /* Reports served since the metrics were last brought up to date
     * (account_reports): one clock read per poll, not one per message. */
    long long reports_unaccounted;
    long long reports_created_sum;
    _Atomic long long delivered;      /* for metrics */
    _Atomic long long latency_ms_sum; /* created -> delivery report, summed */
    struct kafka_formats *formats;    /* owned; NULL: bytes as they are */
    /* Set while the batches in flight on a producer that had a fatal error
     * are settled (producer_usable): why their inputs fail. */
    char fatal_reason[512];
};

extern const struct connrt_property_def kafka_produce_properties[];
int kafka_produce_open(void *ctx, const struct connrt_host *host, void *connection,
                       const connrt_settings_t *settings, const char *component_id,
                       char *errstr, size_t errstr_size);
int kafka_produce_execute(void *ctx, connrt_batch_t *batch, char *errstr, size_t errstr_size);
int kafka_produce_execute_begin(void *ctx, connrt_batch_t *batch, char *errstr,
                                size_t errstr_size);
int kafka_produce_execute_end(void *ctx, connrt_batch_t *batch, char *errstr,
                              size_t errstr_size);
void kafka_produce_close(void *ctx);
void kafka_produce_metrics(void *ctx,
                           void (*sample)(void *opaque, const char *name, const char *labels,
                                          double value),
                           void *opaque);

/* ------------------------------------------------------------------------ */
/* Consume                                                                  */
/* ------------------------------------------------------------------------ */

struct kafka_consume {
    struct kafka_log_target log; /* first: opaque of the consumer */
    char *component_id;          /* owned */
    struct kafka_connection *conn;
    const connrt_settings_t *settings;
    rd_kafka_conf_t *conf;                   /* owned: template for each execute */
    rd_kafka_topic_partition_list_t *topics; /* owned: subscription */
    const char *group;
    int autocommit;
    long long min_messages;
    long long max_wait_ms;
    long long max_request_size;
    struct kafka_formats *formats; /* owned; NULL: bytes as they are */
};

extern const struct connrt_property_def kafka_consume_properties[];
int kafka_consume_open(void *ctx, const struct connrt_host *host, void *connection,
                       const connrt_settings_t *settings, const char *component_id,
                       char *errstr, size_t errstr_size);
int kafka_consume_execute(void *ctx, connrt_batch_t *batch, char *errstr, size_t errstr_size);
void kafka_consume_close(void *ctx);

/* ------------------------------------------------------------------------ */
/* Group members: what Consume and Listen share (consumer.c)                */
/* ------------------------------------------------------------------------ */

/* Short group timings when the cluster is librdkafka's mock (see why in
 * consumer.c); nothing on a real cluster. Returns 0 or -1 with errstr. */
int kafka_consumer_mock_tuning(struct kafka_connection *conn, rd_kafka_conf_t *conf,
                               char *errstr, size_t errstr_size);
/* Fetch sizes large enough for a message of max_request_size. */
int kafka_consumer_fetch_sizes(rd_kafka_conf_t *conf, long long max_request_size, char *errstr,
                               size_t errstr_size);
/* The `topic` property (comma or newline separated) as a new list owned by
 * the caller, or NULL with errstr. */
rd_kafka_topic_partition_list_t *kafka_topics_parse(const char *value, char *errstr,
                                                    size_t errstr_size);

/*
 * Restarting a stalled fetcher. librdkafka 2.0 stops fetching once the
 * consumer queue holds queued.min.messages or queued.max.messages.kbytes,
 * and looks again only when its broker thread next wakes up, up to a
 * second later: a consumer that drains a full queue then waits for
 * nothing (measured: stalls of 0.5-1 s every second when reading faster
 * than it can write). After each batch it takes, the consumer thread calls
 * kafka_fetch_nudge_after; once the queue has been near a threshold and
 * falls well below it, a thread of its own sends a watermark query for the
 * batch's partitions, which wakes their leaders' broker threads. start and
 * stop bracket the consumer's reading; without a thread (no resources)
 * nothing is nudged.
 */
#define KAFKA_NUDGE_TARGETS 8
struct kafka_nudge_target {
    char topic[256];
    int32_t partition;
};
struct kafka_fetch_nudge {
    rd_kafka_t *rk;                    /* borrowed */
    long long min_messages, max_bytes; /* the queue thresholds */
    long long taken, bytes;            /* messages taken, for their mean size */
    int full;                          /* the queue was near a threshold */
    int started, quit;
    pthread_t thread;
    pthread_mutex_t lock; /* wanted, targets, quit, nudges */
    pthread_cond_t cond;
    size_t wanted;
    struct kafka_nudge_target targets[KAFKA_NUDGE_TARGETS];
    long long nudges;
};
void kafka_fetch_nudge_start(struct kafka_fetch_nudge *n, rd_kafka_t *rk);
void kafka_fetch_nudge_after(struct kafka_fetch_nudge *n, rd_kafka_queue_t *queue,
                             rd_kafka_message_t *const *msgs, size_t count);
void kafka_fetch_nudge_stop(struct kafka_fetch_nudge *n);

/* ------------------------------------------------------------------------ */
/* Commit Offset                                                            */
/* ------------------------------------------------------------------------ */

struct kafka_commit_offset {
    struct kafka_log_target log; /* first: opaque of its consumer handles */
    char *component_id;          /* owned */
    struct kafka_connection *conn;
    const connrt_settings_t *settings;
    const char *group;       /* borrowed from settings */
    long long timeout_ms;    /* commit_timeout_ms */
    rd_kafka_t *rk;          /* owned: consumer handle that never joins the group */
};

extern const struct connrt_property_def kafka_commit_offset_properties[];
int kafka_commit_offset_open(void *ctx, const struct connrt_host *host, void *connection,
                             const connrt_settings_t *settings, const char *component_id,
                             char *errstr, size_t errstr_size);
int kafka_commit_offset_execute(void *ctx, connrt_batch_t *batch, char *errstr,
                                size_t errstr_size);
void kafka_commit_offset_close(void *ctx);

/*
 * Live group members of this process (group_members.c). Consume adds its
 * consumer `rk` (borrowed; remove it before destroying it) for the time it
 * is a member of `group` on `conn`; add copies `group` and returns 0, or -1
 * on no memory. kafka_group_member_with calls fn(rk, opaque) with such a
 * member, which cannot leave meanwhile, and returns fn's result (0 or -1),
 * or 1 when there is none (fn not called).
 */
int kafka_group_member_add(const struct kafka_connection *conn, const char *group,
                           rd_kafka_t *rk);
void kafka_group_member_remove(rd_kafka_t *rk);
int kafka_group_member_with(const struct kafka_connection *conn, const char *group,
                            int (*fn)(rd_kafka_t *rk, void *opaque), void *opaque);

/* ------------------------------------------------------------------------ */
/* Listen                                                                   */
/* ------------------------------------------------------------------------ */

/* earliest, latest: auto_offset_reset of Consume and Listen (consume.c). */
extern const char *const kafka_offset_resets[];

/* Listen (listen.c). One partition's buffered messages and batch state. */
struct listen_partition;

struct kafka_listen {
    struct kafka_log_target log; /* first: opaque of the consumer */
    char *component_id;          /* owned */
    struct kafka_connection *conn;
    const connrt_settings_t *settings;
    const char *group;
    const char *dead_letter_topic;
    rd_kafka_topic_partition_list_t *topics; /* owned: subscription */
    long long batch_size, batch_wait_ms, max_concurrent, max_retries, backoff_ms;
    long long max_request_size;

    connrt_listener_t *listener;
    rd_kafka_t *rk;
    rd_kafka_queue_t *queue; /* the consumer queue */
    int wake[2];             /* pipe that wakes the fetch loop; -1 when closed */
    rd_kafka_t *dlq;         /* dead-letter producer, when a topic is set */
    rd_kafka_resp_err_t dead_letter_status; /* report of the message in flight */
    pthread_t thread;
    int thread_started;

    pthread_mutex_t lock; /* done flags, stop, in_flight, executing */
    pthread_cond_t outcome_cond; /* an outcome was reported, or stop */
    int lock_ready;
    int stop;
    size_t in_flight;  /* batches submitted, outcome not handled (fetch thread) */
    size_t executing;  /* batches filled and not done: at most max_concurrent */
    size_t outcomes;   /* reported and not handled yet */
    int sleeping;      /* the fetch loop waits in poll: an outcome wakes it */

    struct listen_partition **parts; /* fetch thread only */
    size_t nparts, next_part;
    int commit_outstanding;
    long long commit_retry_at;
    long long commit_sent_at; /* monotonic ms of the last asynchronous commit */
    struct kafka_formats *formats; /* owned; NULL: bytes as they are */
};

extern const struct connrt_property_def kafka_listen_properties[];
int kafka_listen_open(void *ctx, const struct connrt_host *host, void *connection,
                      const connrt_settings_t *settings, const char *component_id,
                      char *errstr, size_t errstr_size);
int kafka_listen_execute(void *ctx, connrt_batch_t *batch, char *errstr, size_t errstr_size);
/* Start the consumer and its fetch thread; `listener` is borrowed until stop. */
int kafka_listen_start(void *ctx, connrt_listener_t *listener, char *errstr,
                       size_t errstr_size);
/* Stop fetching, wait for running executions, commit, leave the group. */
void kafka_listen_stop(void *ctx);
/* Lag (high watermark - committed offset) per assigned partition. */
void kafka_listen_metrics(void *ctx,
                          void (*sample)(void *opaque, const char *name, const char *labels,
                                         double value),
                          void *opaque);
void kafka_listen_close(void *ctx);

/* ------------------------------------------------------------------------ */
/* Messages and documents (message.c)                                       */
/* ------------------------------------------------------------------------ */

/*
 * Set the tracked properties kafka.topic, kafka.partition, kafka.offset (when
 * known), kafka.key (when present), kafka.timestamp and kafka.header.NAME of
 * `doc` from `m`; with `doc_properties`, also the document properties
 * connector.kafka.topic, connector.kafka.key and connector.kafka.header.NAME
 * (what a later Produce reads). `timestamp` >= 0 replaces the message's.
 * Values are copied. Returns 0, or -1 on no memory.
 */
int kafka_message_track(const struct connrt_host *host, connrt_document_t *doc,
                        const rd_kafka_message_t *m, int doc_properties, int64_t timestamp);

#endif
