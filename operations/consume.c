/*
 * consume.c - the Consume operation: a process's start step that joins a
 * consumer group, reads until it holds at least min_messages (or max_wait_ms
 * passes), emits one document per message and, with autocommit, commits
 * exactly the offsets of what it emitted.
 *
 * Each execute is one short-lived group member (join, read, commit, leave):
 * between executions no member holds partitions nor prefetches messages, and
 * the next execution starts where the group's committed offsets say.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../connector-kafka/clock.h"
#include "formats.h"
#include "operations.h"
#include "../connector-kafka/security.h"

/* How long to wait for the group to hand out partitions before max_wait_ms
 * starts to count; beyond it the cluster is taken as unreachable. */
#define KAFKA_JOIN_TIMEOUT_MS 30000
/* After that, how long to wait for the cluster to answer a Metadata request
 * to tell "unreachable" from "no group coordinator". */
#define KAFKA_REACH_PROBE_MS 2000
/* Poll slice while joining, so the message deadline starts on time. */
#define KAFKA_JOIN_POLL_MS 100
/* Messages taken from the consumer queue in one call once one has come. */
#define KAFKA_CONSUME_BATCH 1024
/*
 * librdkafka's prefetch (queued.max.messages.kbytes; its default is 65536);
 * librdkafka also caps one fetch (fetch.max.bytes, 50 MB) at it unless that
 * is set. The engine already holds the chunk being read and the one being
 * processed, so a prefetch as large again only adds memory, and with many
 * partitions the answer of one fetch was the part of peak memory that grew
 * with them. With the fetcher restarted as soon as the queue drains
 * (kafka_fetch_nudge_after) a small one costs no throughput. Measured on
 * the embedded cluster, 1,000,000 messages of 1 KiB over 256 partitions:
 * 8 MiB ran as fast as librdkafka's defaults, with ~90 MiB less peak RSS and
 * a third of the page faults. A link with long round trips may want more.
 */
#define KAFKA_CONSUME_QUEUE_KBYTES "8192"

const char *const kafka_offset_resets[] = {"earliest", "latest", NULL};

const struct connrt_property_def kafka_consume_properties[] = {
    {"topic", CONNRT_PROP_LIST, CONNRT_PROP_F_REQUIRED, NULL, NULL, 0, 0,
     "Topic(s) to read, comma or newline separated", NULL},
    {"consumer_group", CONNRT_PROP_STRING, CONNRT_PROP_F_REQUIRED, NULL, NULL, 0, 0,
     "Consumer group: its committed offsets say where reading starts", NULL},
    {"autocommit", CONNRT_PROP_BOOL, 0, "false", NULL, 0, 0,
     "Commit the offsets of the emitted documents when the operation ends (else leave them "
     "to a Commit Offset operation)",
     NULL},
    {"min_messages", CONNRT_PROP_INT, 0, "1", NULL, 1, 10000000,
     "Read until at least this many messages are held (in steps of "
     "connector.kafka.max.poll.records)",
     NULL},
    {"max_wait_ms", CONNRT_PROP_DURATION_MS, 0, "10000", NULL, 0, 86400000,
     "Longest wait for min_messages once the group has assigned partitions", NULL},
    {"auto_offset_reset", CONNRT_PROP_ENUM, 0, "earliest", kafka_offset_resets, 0, 0,
     "Where to start in a partition the group has no committed offset for", NULL},
    KAFKA_FORMAT_PROPERTY_ROWS,
    {NULL, CONNRT_PROP_STRING, 0, NULL, NULL, 0, 0, NULL, NULL},
};

/* ------------------------------------------------------------------------ */
/* The consumer                                                             */
/* ------------------------------------------------------------------------ */

/* One execute's reading state; the opaque of its consumer. */
struct consume_run {
    struct kafka_log_target log; /* first: see connection.h */
    struct kafka_consume *c;
    rd_kafka_t *rk;
    rd_kafka_queue_t *queue; /* the consumer queue, for batches */
    connrt_batch_t *batch;
    rd_kafka_topic_partition_list_t *offsets; /* next offset to commit */
    long long count;                          /* messages taken */
    int stop;                                 /* no further message may be taken */
    int assigned;                             /* the group has assigned partitions */
    struct kafka_fetch_nudge nudge;           /* restarts a stalled fetcher */
    char stopped_why[1024]; /* why reading stopped early (then execute fails) */
};

static void rebalance(rd_kafka_t *rk, rd_kafka_resp_err_t err,
                      rd_kafka_topic_partition_list_t *partitions, void *opaque)
{
    struct consume_run *run = opaque;
    struct kafka_consume *c = run->c;
    int cooperative = strcmp(rd_kafka_rebalance_protocol(rk), "COOPERATIVE") == 0;
    rd_kafka_error_t *error = NULL;

    if (err == RD_KAFKA_RESP_ERR__ASSIGN_PARTITIONS) {
        c->log.host->log(CONNRT_LOG_DEBUG, c->component_id,
                         "group '%s' assigned %d partition(s)", c->group, partitions->cnt);
        if (cooperative) {
            error = rd_kafka_incremental_assign(rk, partitions);
        } else {
            rd_kafka_assign(rk, partitions);
        }
        run->assigned = 1;
    } else if (cooperative) {
        error = rd_kafka_incremental_unassign(rk, partitions);
    } else {
        rd_kafka_assign(rk, NULL);
    }
    if (error != NULL) {
        c->log.host->log(CONNRT_LOG_WARNING, c->component_id, "rebalance: %s",
                         rd_kafka_error_string(error));
        rd_kafka_error_destroy(error);
    }
}

static rd_kafka_conf_t *consumer_conf_new(struct kafka_consume *c, char *errstr,
                                          size_t errstr_size)
{
    const struct connrt_host *host = c->log.host;
    const char *reset = host->settings_get(c->settings, "auto_offset_reset");
    rd_kafka_conf_t *conf = kafka_connection_client_conf(c->conn, c, errstr, errstr_size);

    if (conf == NULL) {
        return NULL;
    }
    rd_kafka_conf_set_rebalance_cb(conf, rebalance);
    /* Offsets are committed by hand, and only those of emitted documents. */
    if (kafka_conf_set(conf, "group.id", c->group, errstr, errstr_size) != 0 ||
        kafka_conf_set(conf, "enable.auto.commit", "false", errstr, errstr_size) != 0 ||
        kafka_conf_set(conf, "enable.auto.offset.store", "false", errstr, errstr_size) != 0 ||
        kafka_conf_set(conf, "enable.partition.eof", "false", errstr, errstr_size) != 0 ||
        kafka_conf_set(conf, "auto.offset.reset", reset ? reset : "earliest", errstr,
                       errstr_size) != 0 ||
        kafka_conf_default(c->conn, conf, "queued.max.messages.kbytes",
                           KAFKA_CONSUME_QUEUE_KBYTES, errstr, errstr_size) != 0 ||
        kafka_consumer_fetch_sizes(conf, c->max_request_size, errstr, errstr_size) != 0) {
        rd_kafka_conf_destroy(conf);
        return NULL;
    }
    return conf;
}

static void consumer_destroy(rd_kafka_t *rk, struct consume_run *run)
{
    kafka_group_member_remove(rk);
    kafka_security_forget_client(rk);
    rd_kafka_destroy(rk);
    kafka_security_unbind(run);
}

/* A new group member for one execute; `run` is its opaque. */
static rd_kafka_t *consumer_start(struct kafka_consume *c, struct consume_run *run,
                                  char *errstr, size_t errstr_size)
{
    rd_kafka_conf_t *conf = rd_kafka_conf_dup(c->conf);
    rd_kafka_resp_err_t err;
    char why[512];
    rd_kafka_t *rk;

    if (kafka_consumer_mock_tuning(c->conn, conf, errstr, errstr_size) != 0) {
        rd_kafka_conf_destroy(conf);
        return NULL;
    }
    rd_kafka_conf_set_opaque(conf, run);
    /* The security callbacks (OAuth tokens, Kerberos tickets) find their
     * connection from the client's opaque: bind this run to it. */
    if (kafka_security_bind(c->conn->security, run) != 0) {
        rd_kafka_conf_destroy(conf);
        snprintf(errstr, errstr_size, "cannot create the Kafka consumer: out of memory");
        return NULL;
    }
    rk = rd_kafka_new(RD_KAFKA_CONSUMER, conf, why, sizeof(why));
    if (rk == NULL) {
        rd_kafka_conf_destroy(conf);
        kafka_security_unbind(run);
        snprintf(errstr, errstr_size, "cannot create the Kafka consumer: %s", why);
        return NULL;
    }
    if (kafka_security_client_started(c->conn->security, rk, errstr, errstr_size) != 0) {
        consumer_destroy(rk, run);
        return NULL;
    }
    rd_kafka_poll_set_consumer(rk);
    if (kafka_group_member_add(c->conn, c->group, rk) != 0) {
        snprintf(errstr, errstr_size, "cannot create the Kafka consumer: out of memory");
        consumer_destroy(rk, run);
        return NULL;
    }
    err = rd_kafka_subscribe(rk, c->topics);
    if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
        snprintf(errstr, errstr_size, "cannot subscribe to the topic(s): %s",
                 rd_kafka_err2str(err));
        consumer_destroy(rk, run);
        return NULL;
    }
    return rk;
}

static void consumer_stop(rd_kafka_t *rk, struct consume_run *run)
{
    /* No Commit Offset may use it once it starts to leave. */
    kafka_group_member_remove(rk);
    /* Leaves the group; commits nothing (enable.auto.commit=false). */
    rd_kafka_consumer_close(rk);
    consumer_destroy(rk, run);
}

/* ------------------------------------------------------------------------ */
/* Reading                                                                  */
/* ------------------------------------------------------------------------ */

static void record_offset(struct consume_run *r, const rd_kafka_message_t *m)
{
    const char *topic = rd_kafka_topic_name(m->rkt);
    rd_kafka_topic_partition_t *tp =
        rd_kafka_topic_partition_list_find(r->offsets, topic, m->partition);

    if (tp == NULL) {
        tp = rd_kafka_topic_partition_list_add(r->offsets, topic, m->partition);
        tp->offset = m->offset + 1;
    } else if (m->offset + 1 > tp->offset) {
        tp->offset = m->offset + 1;
    }
}

/* A message larger than max.request.size becomes an application error.
 * With autocommit it is reported and passed; without, nothing after it may
 * be taken, since the next consume must meet it again. */
static int emit_oversize(struct consume_run *r, const rd_kafka_message_t *m, char *errstr,
                         size_t errstr_size)
{
    const struct connrt_host *host = r->c->log.host;
    char message[1024];
    connrt_document_t *doc;

    snprintf(message, sizeof(message),
             "message at topic '%s' partition %d offset %" PRId64
             ": %zu bytes exceed connector.kafka.max.request.size (%lld)%s",
             rd_kafka_topic_name(m->rkt), (int)m->partition, m->offset, m->len + m->key_len,
             r->c->max_request_size,
             r->c->autocommit ? ""
                              : "; consume stopped there (without autocommit it is not "
                                "skipped)");
    doc = host->batch_emit(r->batch, "", 0, message);
    if (doc == NULL || kafka_message_track(host, doc, m, 0, -1) != 0) {
        snprintf(errstr, errstr_size, "out of memory");
        return -1;
    }
    if (r->c->autocommit) {
        record_offset(r, m);
    } else {
        r->stop = 1;
    }
    return 0;
}

static int emit_message(struct consume_run *r, const rd_kafka_message_t *m, char *errstr,
                        size_t errstr_size)
{
    const struct connrt_host *host = r->c->log.host;
    connrt_document_t *doc;

    r->count++;
    if ((long long)(m->len + m->key_len) > r->c->max_request_size) {
        return emit_oversize(r, m, errstr, errstr_size);
    }
    if (r->c->formats != NULL) {
        int rc = kafka_formats_emit(r->c->formats, r->batch, m, &doc, r->stopped_why,
                                    sizeof(r->stopped_why));
        if (rc == 1) {
            /* Registry down: stop before this message; what was emitted is
             * committed, then execute fails, and this one is read again. */
            r->stop = 1;
            return 0;
        }
        doc = rc == 0 ? doc : NULL;
    } else {
        doc = host->batch_emit(r->batch, m->payload ? m->payload : "", m->len, NULL);
        doc = doc && kafka_message_track(host, doc, m, 1, -1) == 0 ? doc : NULL;
    }
    if (doc == NULL) {
        snprintf(errstr, errstr_size, "out of memory");
        return -1;
    }
    if (r->c->autocommit) {
        record_offset(r, m);
    }
    return 0;
}

/* A consumer event carried as a message. Returns 0 to go on, -1 to fail. */
static int consumer_event(struct consume_run *r, const rd_kafka_message_t *m, char *errstr,
                          size_t errstr_size)
{
    const char *topic = m->rkt ? rd_kafka_topic_name(m->rkt) : NULL;

    switch (m->err) {
    case RD_KAFKA_RESP_ERR__PARTITION_EOF:
        return 0;
    case RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART:
    case RD_KAFKA_RESP_ERR__UNKNOWN_TOPIC:
        snprintf(errstr, errstr_size, "topic '%s' does not exist (%s)", topic ? topic : "?",
                 rd_kafka_message_errstr(m));
        return -1;
    case RD_KAFKA_RESP_ERR_TOPIC_AUTHORIZATION_FAILED:
    case RD_KAFKA_RESP_ERR_GROUP_AUTHORIZATION_FAILED:
    case RD_KAFKA_RESP_ERR__AUTHENTICATION:
    case RD_KAFKA_RESP_ERR__FATAL:
        snprintf(errstr, errstr_size, "consumer group '%s': %s", r->c->group,
                 rd_kafka_message_errstr(m));
        return -1;
    default:
        r->c->log.host->log(CONNRT_LOG_WARNING, r->c->component_id, "consumer: %s",
                            rd_kafka_message_errstr(m));
        return 0;
    }
}

/* One message or event from the consumer. Returns 1 when a message was
 * taken, 0 for an event, -1 on failure. */
static int handle_message(struct consume_run *r, const rd_kafka_message_t *m, char *errstr,
                          size_t errstr_size)
{
    if (m->err != RD_KAFKA_RESP_ERR_NO_ERROR) {
        return consumer_event(r, m, errstr, errstr_size);
    }
    return emit_message(r, m, errstr, errstr_size) == 0 ? 1 : -1;
}

/* Poll once; the message (NULL on timeout) is handled and destroyed here.
 * Returns 1 when a message was taken, 0 when none, -1 on failure. */
static int poll_once(struct consume_run *r, int timeout_ms, char *errstr, size_t errstr_size)
{
    rd_kafka_message_t *m = rd_kafka_consumer_poll(r->rk, timeout_ms);
    int rc;

    if (m == NULL) {
        return 0;
    }
    rc = handle_message(r, m, errstr, errstr_size);
    rd_kafka_message_destroy(m);
    return rc;
}

/* Take up to `max` messages already waiting, without blocking, in one call:
 * librdkafka's per-poll bookkeeping (clocks, poll-interval tracking) then
 * runs once per batch instead of once per message. Nothing is taken past a
 * stop; messages fetched but not taken are simply not committed. Returns
 * the number of messages and events seen, or -1 on failure. */
static ssize_t drain_waiting(struct consume_run *r, long long max, char *errstr,
                             size_t errstr_size)
{
    rd_kafka_message_t *msgs[KAFKA_CONSUME_BATCH];
    size_t want = max < KAFKA_CONSUME_BATCH ? (size_t)max : KAFKA_CONSUME_BATCH;
    ssize_t n = rd_kafka_consume_batch_queue(r->queue, 0, msgs, want);
    int rc = 0;

    for (ssize_t i = 0; i < n; i++) {
        if (rc >= 0 && !r->stop) {
            rc = handle_message(r, msgs[i], errstr, errstr_size);
        }
    }
    if (n > 0) {
        kafka_fetch_nudge_after(&r->nudge, r->queue, msgs, (size_t)n);
    }
    for (ssize_t i = 0; i < n; i++) {
        rd_kafka_message_destroy(msgs[i]);
    }
    return rc < 0 ? -1 : n;
}

/* Why no assignment came: a cluster that answers a Metadata request was
 * reached (and logged in to), so its group coordinator is what is missing. */
static void no_assignment(struct consume_run *r, char *errstr, size_t errstr_size)
{
    const struct rd_kafka_metadata *md = NULL;
    int answers = rd_kafka_metadata(r->rk, 0, NULL, &md, KAFKA_REACH_PROBE_MS) ==
                  RD_KAFKA_RESP_ERR_NO_ERROR;

    if (md != NULL) {
        rd_kafka_metadata_destroy(md);
    }
    snprintf(errstr, errstr_size,
             answers ? "consumer group '%s' got no partition assignment within %d ms: the "
                       "cluster at '%s' answers but found no coordinator for the group (do its "
                       "brokers support consumer groups?)"
                     : "consumer group '%s' got no partition assignment within %d ms: no "
                       "broker of '%s' could be reached",
             r->c->group, KAFKA_JOIN_TIMEOUT_MS, r->c->conn->bootstrap);
}

/* Wait for the group to assign partitions (possibly none). A refused login
 * fails at once: waiting would not change the answer. */
static int wait_assignment(struct consume_run *r, char *errstr, size_t errstr_size)
{
    long long until = kafka_monotonic_ms() + KAFKA_JOIN_TIMEOUT_MS;
    unsigned refusals = r->log.login_refusals;

    while (!r->assigned) {
        if (r->log.login_refusals != refusals) {
            snprintf(errstr, errstr_size, "consumer group '%s': the login failed: %s",
                     r->c->group, r->log.login_reason);
            return -1;
        }
        if (kafka_monotonic_ms() >= until) {
            no_assignment(r, errstr, errstr_size);
            return -1;
        }
        if (poll_once(r, KAFKA_JOIN_POLL_MS, errstr, errstr_size) < 0) {
            return -1;
        }
    }
    return 0;
}

/*
 * The read loop: one message at a time until min_messages are held or
 * max_wait_ms (counted from the assignment) passes. The container's
 * max.poll.records is already folded into min_messages by the precedence
 * function (connrt_settings_resolve: 3 and 5 give 6), so the count taken is
 * exact whenever enough messages are there.
 */
static int read_messages(struct consume_run *r, char *errstr, size_t errstr_size)
{
    struct kafka_consume *c = r->c;
    long long deadline;

    if (wait_assignment(r, errstr, errstr_size) != 0) {
        return -1;
    }
    deadline = kafka_monotonic_ms() + c->max_wait_ms;
    while (!r->stop && r->count < c->min_messages) {
        long long left = deadline - kafka_monotonic_ms();
        ssize_t n = 1;
        if (left <= 0) {
            break;
        }
        if (poll_once(r, (int)left, errstr, errstr_size) < 0) {
            return -1;
        }
        /* One has come: take what else is waiting without blocking. */
        while (n > 0 && r->queue != NULL && !r->stop && r->count < c->min_messages) {
            n = drain_waiting(r, c->min_messages - r->count, errstr, errstr_size);
            if (n < 0) {
                return -1;
            }
        }
    }
    return 0;
}

static int commit_emitted(struct consume_run *r, char *errstr, size_t errstr_size)
{
    rd_kafka_resp_err_t err;

    const struct connrt_host *host = r->log.host;

    if (!r->c->autocommit || r->offsets->cnt == 0) {
        return 0;
    }
    /* At-least-once: commit only once the process has taken every emitted
     * document. A 1.0 host has no batch_flush; it processes after execute. */
    if (host->batch_flush != NULL && host->batch_flush(r->batch) != 0) {
        snprintf(errstr, errstr_size,
                 "consumer group '%s': offsets not committed because the process failed; "
                 "the documents will be read again",
                 r->c->group);
        return -1;
    }
    err = rd_kafka_commit(r->rk, r->offsets, 0 /* synchronous */);
    if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
        snprintf(errstr, errstr_size,
                 "consumer group '%s': committing the offsets of %d partition(s) failed: %s "
                 "(the documents will be read again)",
                 r->c->group, r->offsets->cnt, rd_kafka_err2str(err));
        return -1;
    }
    return 0;
}

/* ------------------------------------------------------------------------ */
/* Open, execute, close                                                     */
/* ------------------------------------------------------------------------ */

static int int_setting(const struct kafka_consume *c, const char *name, long long fallback,
                       long long *out, char *errstr, size_t errstr_size)
{
    *out = fallback;
    if (c->log.host->settings_get(c->settings, name) == NULL) {
        return 0;
    }
    return kafka_setting_int(c->log.host, c->settings, name, out, errstr, errstr_size);
}

static int consume_settings_load(struct kafka_consume *c, char *errstr, size_t errstr_size)
{
    const struct connrt_host *host = c->log.host;

    c->group = host->settings_get(c->settings, "consumer_group");
    if (c->group == NULL || *c->group == '\0') {
        snprintf(errstr, errstr_size, "property 'consumer_group' is required");
        return -1;
    }
    c->topics = kafka_topics_parse(host->settings_get(c->settings, "topic"), errstr, errstr_size);
    if (c->topics == NULL) {
        return -1;
    }
    c->autocommit = kafka_setting_bool(host, c->settings, "autocommit", 0);
    if (int_setting(c, "min_messages", 1, &c->min_messages, errstr, errstr_size) != 0 ||
        int_setting(c, "max_wait_ms", 10000, &c->max_wait_ms, errstr, errstr_size) != 0 ||
        int_setting(c, KAFKA_MAX_REQUEST_SIZE, 10485760, &c->max_request_size, errstr,
                    errstr_size) != 0) {
        return -1;
    }
    if (c->min_messages < 1 || c->max_wait_ms < 0) {
        snprintf(errstr, errstr_size, "min_messages must be at least 1");
        return -1;
    }
    return 0;
}

int kafka_consume_open(void *ctx, const struct connrt_host *host, void *connection,
                       const connrt_settings_t *settings, const char *component_id,
                       char *errstr, size_t errstr_size)
{
    struct kafka_consume *c = ctx;

    c->component_id = strdup(component_id ? component_id : "consume");
    if (c->component_id == NULL) {
        snprintf(errstr, errstr_size, "out of memory");
        return -1;
    }
    c->log.host = host;
    c->log.component_id = c->component_id;
    c->conn = connection;
    c->settings = settings;
    if (consume_settings_load(c, errstr, errstr_size) != 0 ||
        kafka_formats_open(host, settings, c->conn, &c->formats, errstr, errstr_size) != 0 ||
        (c->conf = consumer_conf_new(c, errstr, errstr_size)) == NULL) {
        kafka_consume_close(c);
        return -1;
    }
    return 0;
}

/* Consume reads Kafka; documents flowing into it have nowhere to go. */
static int refuse_inputs(struct kafka_consume *c, connrt_batch_t *batch, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        c->log.host->batch_fail(batch, i,
                                "consume must be a process's start step (it takes no input "
                                "documents)");
    }
    return 0;
}

int kafka_consume_execute(void *ctx, connrt_batch_t *batch, char *errstr, size_t errstr_size)
{
    struct kafka_consume *c = ctx;
    size_t n = c->log.host->batch_count(batch);
    struct consume_run run;
    int rc;

    if (n > 0) {
        return refuse_inputs(c, batch, n);
    }
    memset(&run, 0, sizeof(run));
    run.log = c->log;
    run.c = c;
    run.batch = batch;
    run.rk = consumer_start(c, &run, errstr, errstr_size);
    if (run.rk == NULL) {
        return -1;
    }
    run.offsets = rd_kafka_topic_partition_list_new(8);
    /* NULL (no memory): one message per poll. */
    run.queue = rd_kafka_queue_get_consumer(run.rk);
    if (run.queue != NULL) {
        kafka_fetch_nudge_start(&run.nudge, run.rk);
    }
    rc = read_messages(&run, errstr, errstr_size);
    kafka_fetch_nudge_stop(&run.nudge);
    if (rc == 0) {
        rc = commit_emitted(&run, errstr, errstr_size);
    }
    if (rc == 0 && run.stopped_why[0] != '\0') {
        snprintf(errstr, errstr_size, "%s; stopped before it (it will be read again)",
                 run.stopped_why);
        rc = -1;
    }
    /* Without autocommit, hand the documents on while still a member, so
     * that a Commit Offset later in the process commits through this
     * member (see group_members.c). A failed process is already recorded
     * by the host; there is nothing to hold back. */
    if (rc == 0 && !c->autocommit && c->log.host->batch_flush != NULL) {
        (void)c->log.host->batch_flush(batch);
    }
    rd_kafka_topic_partition_list_destroy(run.offsets);
    if (run.queue != NULL) {
        rd_kafka_queue_destroy(run.queue);
    }
    consumer_stop(run.rk, &run);
    return rc;
}

void kafka_consume_close(void *ctx)
{
    struct kafka_consume *c = ctx;

    if (c->conf != NULL) {
        rd_kafka_conf_destroy(c->conf);
        c->conf = NULL;
    }
    if (c->topics != NULL) {
        rd_kafka_topic_partition_list_destroy(c->topics);
        c->topics = NULL;
    }
    kafka_formats_destroy(c->formats);
    c->formats = NULL;
    free(c->component_id);
    c->component_id = NULL;
}
