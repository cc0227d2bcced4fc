/*
 * listen.c - the Listen operation: a long-running consumer group member
 * that hands batches of messages to process executions and commits a
 * batch's offsets only after its execution succeeded (at-least-once).
 *
 * One thread (the fetch loop) owns the consumer: it polls, keeps each
 * assigned partition's messages in a buffer until they are committed,
 * forms batches and submits them, and handles the outcomes that the
 * runtime reports from its own threads. A batch holds messages of one
 * partition, and a partition has at most one batch in an execution at a
 * time, so per-partition order holds however many executions run at once.
 *
 * A failed batch is submitted again from the same buffered messages (the
 * rewind to the first uncommitted offset), after a backoff that doubles up
 * to KAFKA_LISTEN_MAX_BACKOFF_MS. After max_retries failures, with a
 * dead_letter_topic, the batch's messages are tried one by one and a single
 * message that still fails goes to the dead-letter topic; without one, the
 * batch keeps being retried.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../connector-kafka/clock.h"
#include "../connector-kafka/security.h"
#include "formats.h"
#include "operations.h"

#define KAFKA_LISTEN_MAX_BACKOFF_MS 60000
/* Longest sleep of the fetch loop when nothing is due: it is woken through
 * its pipe by outcomes, by librdkafka's queues and by stop anyway. */
#define KAFKA_LISTEN_IDLE_MS 200
/* Messages taken from librdkafka per loop turn before batches are formed. */
#define KAFKA_LISTEN_DRAIN 10000
/* Messages a partition holds in the listener: this many batches' worth (at
 * least ..._MIN). The rest waits in librdkafka's own queue of the
 * partition, bounded by queued.max.messages.kbytes. */
#define KAFKA_LISTEN_HOLD_BATCHES 4
#define KAFKA_LISTEN_HOLD_MIN 1000
/* Batches handed to the runtime beyond max_concurrent_executions: their
 * documents are built while the others run, and they start as soon as one
 * ends (fill_batch waits for room). */
#define KAFKA_LISTEN_AHEAD 1
/* How long a final (synchronous) commit or a dead-letter delivery may take. */
#define KAFKA_LISTEN_SYNC_TIMEOUT_MS 30000
/* Retry a failed commit no sooner than this. */
#define KAFKA_LISTEN_COMMIT_RETRY_MS 1000
/* Asynchronous commits go out at most this often: under load, executions
 * that end within it share one commit. A commit costs librdkafka's threads
 * ~40 us of CPU (measured), more than an execution of one message; at
 * batch_size 1 nearly every execution had its own. 2 ms keeps them under
 * 500/s for ~1 ms more from produce to commit on average (measured p50 at
 * 2000 msg/s: 11 ms at 1 ms, 13 ms at 5 ms). */
#define KAFKA_LISTEN_COMMIT_EVERY_MS 2

static const char *const assignment_strategies[] = {"range", "roundrobin", "cooperative-sticky",
                                                    NULL};

const struct connrt_property_def kafka_listen_properties[] = {
    {"topic", CONNRT_PROP_LIST, CONNRT_PROP_F_REQUIRED, NULL, NULL, 0, 0,
     "Topic(s) to listen to, comma or newline separated", NULL},
    {"consumer_group", CONNRT_PROP_STRING, CONNRT_PROP_F_REQUIRED, NULL, NULL, 0, 0,
     "Consumer group: containers of the same group share the partitions", NULL},
    {"batch_size", CONNRT_PROP_INT, 0, "100", NULL, 1, 1000000,
     "Most documents handed to one process execution (a batch holds one partition's messages)",
     NULL},
    {"batch_wait_ms", CONNRT_PROP_DURATION_MS, 0, "1000", NULL, 0, 3600000,
     "Longest wait to fill a batch before handing over what there is", NULL},
    {"max_concurrent_executions", CONNRT_PROP_INT, 0, "1", NULL, 1, 1024,
     "Executions running at once (never two of the same partition; capped by container "
     "property execution.max.concurrent)",
     NULL},
    {"max_retries", CONNRT_PROP_INT, 0, "-1", NULL, -1, 1000000,
     "Retries of a failed batch before it goes to dead_letter_topic; -1 retries forever",
     NULL},
    {"retry_backoff_ms", CONNRT_PROP_DURATION_MS, 0, "1000", NULL, 0, 3600000,
     "Wait before the first retry of a failed batch; it doubles with each retry, up to 60 s",
     NULL},
    {"dead_letter_topic", CONNRT_PROP_STRING, 0, NULL, NULL, 0, 0,
     "Where a message goes after max_retries failures (none: keep retrying)", NULL},
    {"auto_offset_reset", CONNRT_PROP_ENUM, 0, "earliest", kafka_offset_resets, 0, 0,
     "Where to start in a partition the group has no committed offset for", NULL},
    {"assignment_strategy", CONNRT_PROP_ENUM, 0, "range", assignment_strategies, 0, 0,
     "How the group spreads partitions over its members", NULL},
    KAFKA_FORMAT_PROPERTY_ROWS,
    {NULL, CONNRT_PROP_STRING, 0, NULL, NULL, 0, 0, NULL, NULL},
};

/* ------------------------------------------------------------------------ */
/* State                                                                    */
/* ------------------------------------------------------------------------ */

/* One assigned partition. Buffered messages are owned until committed; the
 * first `batch_len` of them are the current batch (in an execution, or
 * waiting for a retry). While the batch is in an execution, `batch` (its
 * message pointers, with batch_len and batch_last) is read by the runtime
 * thread that fills it, and the fetch thread leaves all three alone. */
struct listen_partition {
    struct kafka_listen *l;
    char *topic; /* owned */
    int32_t partition;
    rd_kafka_message_t **msgs; /* ring buffer, owned */
    long long *arrived;        /* monotonic ms each message was taken */
    size_t head, count, cap;
    size_t batch_len;
    rd_kafka_message_t **batch; /* owned array: the current batch's messages */
    size_t batch_cap;
    int64_t batch_last; /* offset of the batch's last message */
    int filled;         /* fill built the batch's documents (set before done) */
    int fill_stopped;   /* fill gave up on it: the listener is stopping */
    char fill_error[512]; /* why fill could not build it (not filled, not stopped) */
    int in_flight;       /* submitted, outcome not handled yet */
    int done;            /* outcome reported, not handled yet (under l->lock) */
    int outcome;         /* connrt_execution_outcome_t, with done */
    int attempts;        /* failures of the current batch */
    int64_t isolate_end; /* >= 0: retry one message at a time up to this offset */
    long long retry_at;
    rd_kafka_queue_t *queue; /* owned: librdkafka's queue of this partition */
    int dead_letter_due; /* the batch's one message failed to reach the dead-letter topic */
    int revoked; /* no longer ours: freed in partitions_revoked */
    int started; /* a message was taken since the assignment */
    int64_t commit_next;  /* next offset to commit, -1: none */
    int64_t commit_sent;  /* last commit_next handed to librdkafka */
};


/* ------------------------------------------------------------------------ */
/* Partitions                                                               */
/* ------------------------------------------------------------------------ */

static size_t running(struct kafka_listen *l)
{
    pthread_mutex_lock(&l->lock);
    size_t n = l->in_flight;
    pthread_mutex_unlock(&l->lock);
    return n;
}

/* Whether the host fills batches on the execution's thread (ABI 1.4). */
static int host_fills(const struct kafka_listen *l)
{
    const struct connrt_host *host = l->log.host;
    return CONNRT_ABI_MINOR(host->abi_version) >= 4 && host->listener_submit_fill != NULL;
}

/* Whether another batch may be submitted now. A batch ahead only with a
 * host that fills it on its own thread (else this thread would wait). */
static int submit_room(struct kafka_listen *l)
{
    size_t ahead = host_fills(l) ? KAFKA_LISTEN_AHEAD : 0;
    return running(l) < (size_t)l->max_concurrent + ahead;
}

static struct listen_partition *part_find(struct kafka_listen *l, const char *topic,
                                          int32_t partition)
{
    for (size_t i = 0; i < l->nparts; i++) {
        struct listen_partition *p = l->parts[i];
        if (!p->revoked && p->partition == partition && strcmp(p->topic, topic) == 0) {
            return p;
        }
    }
    return NULL;
}

static struct listen_partition *part_add(struct kafka_listen *l, const char *topic,
                                         int32_t partition)
{
    struct listen_partition *p = calloc(1, sizeof(*p));
    if (p == NULL || (p->topic = strdup(topic)) == NULL) {
        free(p);
        return NULL;
    }
    /* The array changes under the lock: metrics read it from another thread. */
    pthread_mutex_lock(&l->lock);
    struct listen_partition **grown = realloc(l->parts, (l->nparts + 1) * sizeof(*grown));
    if (grown == NULL) {
        pthread_mutex_unlock(&l->lock);
        free(p->topic);
        free(p);
        return NULL;
    }
    l->parts = grown;
    p->l = l;
    p->partition = partition;
    p->isolate_end = -1;
    p->commit_next = -1;
    p->commit_sent = -1;
    l->parts[l->nparts++] = p;
    pthread_mutex_unlock(&l->lock);
    return p;
}

static rd_kafka_message_t *part_at(const struct listen_partition *p, size_t i)
{
    return p->msgs[(p->head + i) % p->cap];
}

static long long part_arrived(const struct listen_partition *p, size_t i)
{
    return p->arrived[(p->head + i) % p->cap];
}

static int part_push(struct listen_partition *p, rd_kafka_message_t *m, long long now)
{
    if (p->count == p->cap) {
        size_t cap = p->cap ? p->cap * 2 : 256;
        rd_kafka_message_t **msgs = malloc(cap * sizeof(*msgs));
        long long *arrived = malloc(cap * sizeof(*arrived));
        if (msgs == NULL || arrived == NULL) {
            free(msgs);
            free(arrived);
            return -1;
        }
        for (size_t i = 0; i < p->count; i++) {
            msgs[i] = part_at(p, i);
            arrived[i] = part_arrived(p, i);
        }
        free(p->msgs);
        free(p->arrived);
        p->msgs = msgs;
        p->arrived = arrived;
        p->head = 0;
        p->cap = cap;
    }
    p->msgs[(p->head + p->count) % p->cap] = m;
    p->arrived[(p->head + p->count) % p->cap] = now;
    p->count++;
    return 0;
}

/* Forget the first n buffered messages; with `destroy`, free them too
 * (else they were freed already: see execution_done). */
static void part_shift(struct listen_partition *p, size_t n, int destroy)
{
    for (size_t i = 0; i < n && p->count > 0; i++) {
        if (destroy) {
            rd_kafka_message_destroy(part_at(p, 0));
        }
        p->head = (p->head + 1) % p->cap;
        p->count--;
    }
}

/* Drop the first n buffered messages (committed, or no longer ours). */
static void part_drop(struct listen_partition *p, size_t n)
{
    part_shift(p, n, 1);
}

static void part_free(struct listen_partition *p)
{
    part_drop(p, p->count);
    if (p->queue != NULL) {
        rd_kafka_queue_io_event_enable(p->queue, -1, NULL, 0);
        rd_kafka_queue_destroy(p->queue);
    }
    free(p->msgs);
    free(p->arrived);
    free(p->batch);
    free(p->topic);
    free(p);
}

/* Messages it may take from librdkafka now. A partition never pauses:
 * librdkafka would drop what it had fetched and fetch it again. */
static size_t part_room(const struct kafka_listen *l, const struct listen_partition *p)
{
    size_t hold = (size_t)l->batch_size * KAFKA_LISTEN_HOLD_BATCHES;
    if (hold < KAFKA_LISTEN_HOLD_MIN) {
        hold = KAFKA_LISTEN_HOLD_MIN;
    }
    return p->count < hold ? hold - p->count : 0;
}

/* ------------------------------------------------------------------------ */
/* Commits                                                                  */
/* ------------------------------------------------------------------------ */

static rd_kafka_topic_partition_list_t *pending_commits(struct kafka_listen *l)
{
    rd_kafka_topic_partition_list_t *list = NULL;
    for (size_t i = 0; i < l->nparts; i++) {
        struct listen_partition *p = l->parts[i];
        if (p->commit_next < 0 || p->commit_next == p->commit_sent) {
            continue;
        }
        if (list == NULL) {
            list = rd_kafka_topic_partition_list_new(4);
        }
        rd_kafka_topic_partition_list_add(list, p->topic, p->partition)->offset = p->commit_next;
        p->commit_sent = p->commit_next;
    }
    return list;
}

/* Partitions whose commit failed are sent again (their commit_next only
 * grows, so a late retry never moves an offset back). */
static int commit_failures(struct kafka_listen *l, rd_kafka_resp_err_t err,
                           const rd_kafka_topic_partition_list_t *offsets, const char *when,
                           const char *then)
{
    int failed = 0;
    for (int i = 0; offsets != NULL && i < offsets->cnt; i++) {
        rd_kafka_resp_err_t e = offsets->elems[i].err ? offsets->elems[i].err : err;
        struct listen_partition *p;
        if (e == RD_KAFKA_RESP_ERR_NO_ERROR || e == RD_KAFKA_RESP_ERR__NO_OFFSET) {
            continue;
        }
        if (!failed) {
            l->log.host->log(CONNRT_LOG_WARNING, l->component_id,
                             "group '%s': committing offsets%s failed: %s (%s)", l->group, when,
                             rd_kafka_err2str(e), then);
        }
        failed = 1;
        p = part_find(l, offsets->elems[i].topic, offsets->elems[i].partition);
        if (p != NULL) {
            p->commit_sent = -1;
        }
    }
    return failed;
}

/* Served by rd_kafka_consumer_poll on the fetch thread (the commit's
 * result is posted on the consumer queue). */
static void commit_result(rd_kafka_t *rk, rd_kafka_resp_err_t err,
                          rd_kafka_topic_partition_list_t *offsets, void *opaque)
{
    struct kafka_listen *l = opaque;
    (void)rk;
    l->commit_outstanding = 0;
    if (commit_failures(l, err, offsets, "", "will retry")) {
        l->commit_retry_at = kafka_monotonic_ms() + KAFKA_LISTEN_COMMIT_RETRY_MS;
    }
}

/* Whether a partition has a processed offset not handed to librdkafka. */
static int commits_pending(const struct kafka_listen *l)
{
    for (size_t i = 0; i < l->nparts; i++) {
        const struct listen_partition *p = l->parts[i];
        if (p->commit_next >= 0 && p->commit_next != p->commit_sent) {
            return 1;
        }
    }
    return 0;
}

/* When the next asynchronous commit may go (monotonic ms). */
static long long commit_due_at(const struct kafka_listen *l)
{
    long long at = l->commit_sent_at + KAFKA_LISTEN_COMMIT_EVERY_MS;
    return at > l->commit_retry_at ? at : l->commit_retry_at;
}

/* One asynchronous commit at a time and at most one per
 * KAFKA_LISTEN_COMMIT_EVERY_MS, so commits coalesce under load and follow
 * each other in order. */
static void commit_async(struct kafka_listen *l)
{
    long long now = kafka_monotonic_ms();
    if (l->commit_outstanding || now < commit_due_at(l)) {
        return;
    }
    rd_kafka_topic_partition_list_t *list = pending_commits(l);
    if (list == NULL) {
        return;
    }
    l->commit_sent_at = now;
    rd_kafka_resp_err_t err = rd_kafka_commit_queue(l->rk, list, l->queue, commit_result, l);
    if (err == RD_KAFKA_RESP_ERR_NO_ERROR) {
        l->commit_outstanding = 1;
    } else {
        commit_failures(l, err, list, "", "will retry");
        l->commit_retry_at = kafka_monotonic_ms() + KAFKA_LISTEN_COMMIT_RETRY_MS;
    }
    rd_kafka_topic_partition_list_destroy(list);
}

struct sync_commit {
    struct kafka_listen *l;
    const char *when;
    int reported;
};

static void commit_sync_result(rd_kafka_t *rk, rd_kafka_resp_err_t err,
                               rd_kafka_topic_partition_list_t *offsets, void *opaque)
{
    struct sync_commit *c = opaque;
    (void)rk;
    c->reported = commit_failures(c->l, err, offsets, c->when,
                                  "their messages may be processed again");
}

/* Before partitions are given up or the member leaves. */
static void commit_sync(struct kafka_listen *l, const char *why)
{
    rd_kafka_topic_partition_list_t *list;
    for (size_t i = 0; i < l->nparts; i++) {
        l->parts[i]->commit_sent = -1; /* a pending async commit may still fail */
    }
    list = pending_commits(l);
    if (list == NULL) {
        return;
    }
    /* A NULL queue: the result is served by this call, synchronously. */
    struct sync_commit c = {l, why, 0};
    rd_kafka_resp_err_t err = rd_kafka_commit_queue(l->rk, list, NULL, commit_sync_result, &c);
    if (err != RD_KAFKA_RESP_ERR_NO_ERROR && !c.reported) {
        l->log.host->log(CONNRT_LOG_WARNING, l->component_id,
                         "group '%s': committing offsets%s failed: %s (their messages may be "
                         "processed again)",
                         l->group, why, rd_kafka_err2str(err));
    }
    rd_kafka_topic_partition_list_destroy(list);
}

/* ------------------------------------------------------------------------ */
/* Dead letters                                                             */
/* ------------------------------------------------------------------------ */

/* The dead-letter producer's opaque is the listen context; one message is
 * in flight at a time, and its report lands in l->dead_letter_status. */
static void dead_letter_report(rd_kafka_t *rk, const rd_kafka_message_t *m, void *opaque)
{
    struct kafka_listen *l = opaque;
    (void)rk;
    l->dead_letter_status = m->err;
}

static int header_add(rd_kafka_headers_t *h, const char *name, const char *value)
{
    return rd_kafka_header_add(h, name, -1, value, -1) == RD_KAFKA_RESP_ERR_NO_ERROR ? 0 : -1;
}

/* The original key, value and headers, plus headers saying why and from
 * where. Returns 0 once delivered. */
static int dead_letter_send(struct kafka_listen *l, const rd_kafka_message_t *m, int attempts)
{
    rd_kafka_headers_t *h = NULL;
    rd_kafka_resp_err_t delivered;
    char partition[16], offset[32], tries[16], reason[256];

    if (rd_kafka_message_headers(m, &h) == RD_KAFKA_RESP_ERR_NO_ERROR && h != NULL) {
        h = rd_kafka_headers_copy(h);
    } else {
        h = rd_kafka_headers_new(6);
    }
    snprintf(partition, sizeof(partition), "%d", (int)m->partition);
    snprintf(offset, sizeof(offset), "%" PRId64, m->offset);
    snprintf(tries, sizeof(tries), "%d", attempts);
    snprintf(reason, sizeof(reason),
             "the process failed on this message %d times (see the execution history)",
             attempts);
    if (header_add(h, "connrt.dlt.reason", reason) != 0 ||
        header_add(h, "connrt.dlt.topic", rd_kafka_topic_name(m->rkt)) != 0 ||
        header_add(h, "connrt.dlt.partition", partition) != 0 ||
        header_add(h, "connrt.dlt.offset", offset) != 0 ||
        header_add(h, "connrt.dlt.group", l->group) != 0 ||
        header_add(h, "connrt.dlt.attempts", tries) != 0) {
        rd_kafka_headers_destroy(h);
        return -1;
    }
    rd_kafka_resp_err_t err = rd_kafka_producev(
        l->dlq, RD_KAFKA_V_TOPIC(l->dead_letter_topic), RD_KAFKA_V_VALUE(m->payload, m->len),
        RD_KAFKA_V_KEY(m->key, m->key_len), RD_KAFKA_V_HEADERS(h),
        RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY), RD_KAFKA_V_END);
    l->dead_letter_status = RD_KAFKA_RESP_ERR__IN_PROGRESS;
    if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
        rd_kafka_headers_destroy(h); /* not taken on failure */
        l->dead_letter_status = err;
    } else if (rd_kafka_flush(l->dlq, KAFKA_LISTEN_SYNC_TIMEOUT_MS) != RD_KAFKA_RESP_ERR_NO_ERROR) {
        /* Not delivered in time: take it back, so that no late report can
         * be mistaken for the next message's. */
        rd_kafka_purge(l->dlq, RD_KAFKA_PURGE_F_QUEUE | RD_KAFKA_PURGE_F_INFLIGHT);
        rd_kafka_flush(l->dlq, KAFKA_LISTEN_SYNC_TIMEOUT_MS);
    }
    delivered = l->dead_letter_status;
    if (delivered != RD_KAFKA_RESP_ERR_NO_ERROR) {
        l->log.host->log(CONNRT_LOG_ERROR, l->component_id,
                         "dead-letter topic '%s': message %s/%d@%" PRId64
                         " not delivered: %s (will retry)",
                         l->dead_letter_topic, rd_kafka_topic_name(m->rkt), (int)m->partition,
                         m->offset, rd_kafka_err2str(delivered));
        return -1;
    }
    l->log.host->log(CONNRT_LOG_WARNING, l->component_id,
                     "message %s/%d@%" PRId64 " sent to dead-letter topic '%s' after %d failed "
                     "attempts",
                     rd_kafka_topic_name(m->rkt), (int)m->partition, m->offset,
                     l->dead_letter_topic, attempts);
    return 0;
}

static int dead_letter_producer(struct kafka_listen *l, char *errstr, size_t errstr_size)
{
    char why[512];
    rd_kafka_conf_t *conf = kafka_connection_client_conf(l->conn, l, errstr, errstr_size);
    if (conf == NULL) {
        return -1;
    }
    rd_kafka_conf_set_dr_msg_cb(conf, dead_letter_report);
    if (kafka_conf_set_int(conf, "message.timeout.ms", KAFKA_LISTEN_SYNC_TIMEOUT_MS, errstr,
                           errstr_size) != 0) {
        rd_kafka_conf_destroy(conf);
        return -1;
    }
    if (kafka_conf_set(conf, "acks", "all", errstr, errstr_size) != 0 ||
        kafka_conf_set(conf, "enable.idempotence", "true", errstr, errstr_size) != 0) {
        rd_kafka_conf_destroy(conf);
        return -1;
    }
    l->dlq = rd_kafka_new(RD_KAFKA_PRODUCER, conf, why, sizeof(why));
    if (l->dlq == NULL) {
        rd_kafka_conf_destroy(conf);
        snprintf(errstr, errstr_size, "cannot create the dead-letter producer: %s", why);
        return -1;
    }
    return kafka_security_client_started(l->conn->security, l->dlq, errstr, errstr_size);
}

/* ------------------------------------------------------------------------ */
/* Outcomes                                                                 */
/* ------------------------------------------------------------------------ */

/* Wake the fetch loop; call with l->lock held (the pipe is closed under it). */
static void wake_locked(struct kafka_listen *l)
{
    if (l->wake[1] >= 0) {
        ssize_t n = write(l->wake[1], "w", 1);
        (void)n; /* a full pipe wakes the loop just as well */
    }
}

/* Called by the runtime, from one of its threads. The messages of a batch
 * that succeeded are freed here, off the fetch thread (which then only
 * forgets them: batch_succeeded). */
static void execution_done(void *opaque, connrt_execution_outcome_t outcome)
{
    struct listen_partition *p = opaque;
    struct kafka_listen *l = p->l;
    if (p->filled) {
        /* Room for a batch waiting in fill_batch: it starts now. */
        pthread_mutex_lock(&l->lock);
        l->executing--;
        pthread_cond_broadcast(&l->outcome_cond);
        pthread_mutex_unlock(&l->lock);
    }
    if (outcome == CONNRT_EXECUTION_SUCCEEDED) {
        for (size_t i = 0; i < p->batch_len; i++) {
            rd_kafka_message_destroy(p->batch[i]);
        }
    }
    pthread_mutex_lock(&l->lock);
    p->done = 1;
    p->outcome = (int)outcome;
    l->outcomes++;
    pthread_cond_broadcast(&l->outcome_cond);
    if (l->sleeping) {
        /* Only a loop that waits needs the pipe (a write is a system call
         * and a wakeup); a busy one sees the outcome on its next turn. */
        l->sleeping = 0;
        wake_locked(l);
    }
    pthread_mutex_unlock(&l->lock);
}

/* `freed`: execution_done freed the batch's messages already. */
static void batch_succeeded(struct kafka_listen *l, struct listen_partition *p, int freed)
{
    int64_t last = freed ? p->batch_last : part_at(p, p->batch_len - 1)->offset;
    pthread_mutex_lock(&l->lock);
    p->commit_next = last + 1;
    pthread_mutex_unlock(&l->lock);
    if (p->isolate_end >= 0 && last >= p->isolate_end) {
        p->isolate_end = -1;
    }
    part_shift(p, p->batch_len, !freed);
    p->batch_len = 0;
    p->attempts = 0;
}

static long long backoff_ms(const struct kafka_listen *l, int attempts)
{
    long long wait = l->backoff_ms;
    for (int i = 1; i < attempts && wait < KAFKA_LISTEN_MAX_BACKOFF_MS; i++) {
        wait *= 2;
    }
    return wait < KAFKA_LISTEN_MAX_BACKOFF_MS ? wait : KAFKA_LISTEN_MAX_BACKOFF_MS;
}

static void batch_failed(struct kafka_listen *l, struct listen_partition *p)
{
    const rd_kafka_message_t *first = part_at(p, 0), *last = part_at(p, p->batch_len - 1);
    int exhausted;
    p->attempts++;
    exhausted = l->max_retries >= 0 && p->attempts > l->max_retries;
    l->log.host->log(CONNRT_LOG_WARNING, l->component_id,
                     "batch of %zu message(s) from %s/%d offsets %" PRId64 "-%" PRId64
                     " failed (attempt %d)%s",
                     p->batch_len, p->topic, (int)p->partition, first->offset, last->offset,
                     p->attempts,
                     exhausted && l->dead_letter_topic ? "" : "; retrying from its first offset");
    if (exhausted && l->dead_letter_topic != NULL) {
        if (p->batch_len > 1) {
            /* Find the message that fails: the others still get processed. */
            p->isolate_end = last->offset;
            p->batch_len = 0;
            p->attempts = 0;
            p->retry_at = kafka_monotonic_ms() + backoff_ms(l, 1);
            return;
        }
        if (dead_letter_send(l, first, p->attempts) == 0) {
            batch_succeeded(l, p, 0);
            return;
        }
        p->dead_letter_due = 1; /* send it again, without running it again */
    }
    p->retry_at = kafka_monotonic_ms() + backoff_ms(l, p->attempts);
}

/* Handle every reported outcome. Returns how many were handled. */
static size_t handle_outcomes(struct kafka_listen *l)
{
    size_t handled = 0;
    pthread_mutex_lock(&l->lock);
    size_t reported = l->outcomes;
    pthread_mutex_unlock(&l->lock);
    for (size_t i = 0; reported > 0 && i < l->nparts; i++) {
        struct listen_partition *p = l->parts[i];
        int outcome;
        pthread_mutex_lock(&l->lock);
        if (!p->done) {
            pthread_mutex_unlock(&l->lock);
            continue;
        }
        p->done = 0;
        outcome = p->outcome;
        l->in_flight--;
        l->outcomes--;
        pthread_mutex_unlock(&l->lock);
        p->in_flight = 0;
        handled++;
        reported--;
        if (!p->filled) {
            /* No memory, or the registry is down: not the batch's fault. */
            long long backoff = backoff_ms(l, 1);
            if (!p->fill_stopped) {
                l->log.host->log(CONNRT_LOG_ERROR, l->component_id,
                                 "cannot build a batch of %s/%d: %s; retrying in %lld ms",
                                 p->topic, (int)p->partition, p->fill_error, backoff);
            }
            p->retry_at = kafka_monotonic_ms() + backoff;
        } else if (outcome == CONNRT_EXECUTION_SUCCEEDED) {
            batch_succeeded(l, p, 1);
        } else {
            batch_failed(l, p);
        }
    }
    return handled;
}

/* ------------------------------------------------------------------------ */
/* Batches                                                                  */
/* ------------------------------------------------------------------------ */

/* A message larger than max.request.size goes in as an application error
 * (so the execution fails unless <on-error> takes it: then retries and the
 * dead-letter topic apply to it like to any failing message). */
/* NULL with `why` when the batch cannot be built now (no memory, or the
 * schema registry is down): it is tried again later. */
static connrt_document_t *emit_message(struct kafka_listen *l, connrt_batch_t *batch,
                                       const rd_kafka_message_t *m, char *why, size_t why_size)
{
    const struct connrt_host *host = l->log.host;
    char message[512];
    connrt_document_t *doc;
    int oversize = (long long)(m->len + m->key_len) > l->max_request_size;

    snprintf(why, why_size, "out of memory");
    if (!oversize && l->formats != NULL) {
        return kafka_formats_emit(l->formats, batch, m, &doc, why, why_size) == 0 ? doc : NULL;
    }
    if (oversize) {
        snprintf(message, sizeof(message),
                 "message at topic '%s' partition %d offset %" PRId64
                 ": %zu bytes exceed connector.kafka.max.request.size (%lld)",
                 rd_kafka_topic_name(m->rkt), (int)m->partition, m->offset,
                 m->len + m->key_len, l->max_request_size);
    }
    doc = host->batch_emit(batch, oversize || m->payload == NULL ? "" : m->payload,
                           oversize ? 0 : m->len, oversize ? message : NULL);
    if (doc == NULL || kafka_message_track(host, doc, m, !oversize, -1) != 0) {
        return NULL;
    }
    return doc;
}

static size_t batch_length(const struct kafka_listen *l, const struct listen_partition *p)
{
    if (p->batch_len > 0) {
        return p->batch_len; /* a retry: the same messages again */
    }
    if (p->isolate_end >= 0) {
        return 1;
    }
    return p->count < (size_t)l->batch_size ? p->count : (size_t)l->batch_size;
}

/* Whether partition p has a batch to submit now. */
static int batch_due(const struct kafka_listen *l, const struct listen_partition *p,
                     long long now)
{
    if (p->in_flight || p->revoked || p->count == 0 || now < p->retry_at) {
        return 0;
    }
    if (p->batch_len > 0 || p->isolate_end >= 0) {
        return 1;
    }
    return p->count >= (size_t)l->batch_size || now - part_arrived(p, 0) >= l->batch_wait_ms;
}

/* Runtime thread, before the execution: the batch's documents, then a wait
 * until fewer than max_concurrent_executions run (a batch handed over
 * ahead). On failure (no memory, registry down, stop) `filled` stays 0 and
 * the batch is not run; its messages stay buffered and are tried again
 * later. */
static int fill_batch(void *opaque, connrt_batch_t *batch)
{
    struct listen_partition *p = opaque;
    struct kafka_listen *l = p->l;
    for (size_t i = 0; i < p->batch_len; i++) {
        if (emit_message(l, batch, p->batch[i], p->fill_error, sizeof(p->fill_error)) == NULL) {
            return -1;
        }
    }
    pthread_mutex_lock(&l->lock);
    while (l->executing >= (size_t)l->max_concurrent && !l->stop) {
        pthread_cond_wait(&l->outcome_cond, &l->lock);
    }
    if (!l->stop) {
        l->executing++;
        p->filled = 1;
    } else {
        p->fill_stopped = 1;
    }
    pthread_mutex_unlock(&l->lock);
    return p->filled ? 0 : -1;
}

/* The batch is filled by the runtime thread that runs it (ABI 1.4), so
 * that documents are built in parallel, off this thread; or here, by an
 * older host. A batch that cannot be built is reported through
 * execution_done unfilled. */
static int submit_filled(struct kafka_listen *l, struct listen_partition *p, char *errstr,
                         size_t errstr_size)
{
    const struct connrt_host *host = l->log.host;
    if (host_fills(l)) {
        return host->listener_submit_fill(l->listener, fill_batch, execution_done, p, errstr,
                                          errstr_size);
    }
    connrt_batch_t *batch = host->listener_batch_new(l->listener);
    if (batch != NULL && fill_batch(p, batch) != 0) {
        /* A submit without `done` frees it unrun. */
        host->listener_submit(l->listener, batch, NULL, NULL, errstr, errstr_size);
        batch = NULL;
    }
    if (batch == NULL) {
        execution_done(p, CONNRT_EXECUTION_FAILED);
        return 0;
    }
    if (host->listener_submit(l->listener, batch, execution_done, p, errstr, errstr_size) != 0) {
        pthread_mutex_lock(&l->lock);
        l->executing--; /* counted by fill_batch; no execution_done will */
        pthread_mutex_unlock(&l->lock);
        p->filled = 0;
        return -1;
    }
    return 0;
}

/* Room for n message pointers in p->batch. */
static int batch_reserve(struct listen_partition *p, size_t n)
{
    if (n <= p->batch_cap) {
        return 0;
    }
    rd_kafka_message_t **grown = realloc(p->batch, n * sizeof(*grown));
    if (grown == NULL) {
        return -1;
    }
    p->batch = grown;
    p->batch_cap = n;
    return 0;
}

static int submit_batch(struct kafka_listen *l, struct listen_partition *p)
{
    const struct connrt_host *host = l->log.host;
    char errstr[512];
    size_t n = batch_length(l, p);
    if (batch_reserve(p, n) != 0) {
        host->log(CONNRT_LOG_ERROR, l->component_id, "cannot build a batch of %s/%d; retrying",
                  p->topic, (int)p->partition);
        p->retry_at = kafka_monotonic_ms() + backoff_ms(l, 1);
        return -1;
    }
    for (size_t i = 0; i < n; i++) {
        p->batch[i] = part_at(p, i);
    }
    p->batch_len = n;
    p->batch_last = p->batch[n - 1]->offset;
    p->filled = 0;
    p->fill_stopped = 0;
    p->in_flight = 1;
    pthread_mutex_lock(&l->lock);
    l->in_flight++;
    pthread_mutex_unlock(&l->lock);
    if (submit_filled(l, p, errstr, sizeof(errstr)) != 0) {
        host->log(CONNRT_LOG_ERROR, l->component_id, "cannot start an execution: %s", errstr);
        pthread_mutex_lock(&l->lock);
        l->in_flight--;
        pthread_mutex_unlock(&l->lock);
        p->in_flight = 0;
        batch_failed(l, p);
        return -1;
    }
    return 0;
}

static void dead_letter_retry(struct kafka_listen *l, struct listen_partition *p)
{
    if (dead_letter_send(l, part_at(p, 0), p->attempts) == 0) {
        p->dead_letter_due = 0;
        batch_succeeded(l, p, 0);
    } else {
        p->retry_at = kafka_monotonic_ms() + backoff_ms(l, p->attempts);
    }
}

/* Hand out due batches, round-robin over the partitions, while executions
 * are free. */
static void submit_due(struct kafka_listen *l)
{
    long long now = kafka_monotonic_ms();
    int room = submit_room(l); /* changes only when this loop submits */
    for (size_t k = 0; room && k < l->nparts; k++) {
        size_t i = (l->next_part + k) % l->nparts;
        struct listen_partition *p = l->parts[i];
        if (!batch_due(l, p, now)) {
            continue;
        }
        if (p->dead_letter_due) {
            dead_letter_retry(l, p);
        } else if (submit_batch(l, p) == 0) {
            l->next_part = i + 1;
        }
        room = submit_room(l);
    }
}

/* Milliseconds until the next batch or commit falls due (0: now, capped
 * by idle). */
static int next_due_ms(struct kafka_listen *l)
{
    long long now = kafka_monotonic_ms(), wait = KAFKA_LISTEN_IDLE_MS;
    if (!l->commit_outstanding && commits_pending(l) && commit_due_at(l) - now < wait) {
        wait = commit_due_at(l) - now;
    }
    if (!submit_room(l)) {
        return wait > 0 ? (int)wait : 0; /* an outcome wakes the loop */
    }
    for (size_t i = 0; i < l->nparts; i++) {
        const struct listen_partition *p = l->parts[i];
        long long at;
        if (p->in_flight || p->revoked || p->count == 0) {
            continue;
        }
        at = part_arrived(p, 0) + l->batch_wait_ms;
        if (p->batch_len > 0 || p->isolate_end >= 0 || at < p->retry_at) {
            at = p->retry_at;
        }
        if (at - now < wait) {
            wait = at - now;
        }
    }
    return wait > 0 ? (int)wait : 0;
}

/* ------------------------------------------------------------------------ */
/* Rebalances                                                               */
/* ------------------------------------------------------------------------ */

/* Partitions taken away: their running executions finish and commit first
 * (another member starts where this one committed); buffered messages are
 * dropped (they are refetched by the new owner). */
static void partitions_revoked(struct kafka_listen *l,
                               const rd_kafka_topic_partition_list_t *list, int lost)
{
    pthread_mutex_lock(&l->lock);
    for (int i = 0; i < list->cnt; i++) {
        struct listen_partition *p = part_find(l, list->elems[i].topic, list->elems[i].partition);
        while (p != NULL && p->in_flight && !p->done) {
            pthread_cond_wait(&l->outcome_cond, &l->lock);
        }
    }
    pthread_mutex_unlock(&l->lock);
    handle_outcomes(l);
    if (!lost) {
        commit_sync(l, " before a rebalance");
    }
    for (int i = 0; i < list->cnt; i++) {
        struct listen_partition *p = part_find(l, list->elems[i].topic, list->elems[i].partition);
        if (p != NULL) {
            p->revoked = 1;
        }
    }
    size_t keep = 0;
    pthread_mutex_lock(&l->lock);
    for (size_t i = 0; i < l->nparts; i++) {
        if (l->parts[i]->revoked) {
            part_free(l->parts[i]);
        } else {
            l->parts[keep++] = l->parts[i];
        }
    }
    l->nparts = keep;
    pthread_mutex_unlock(&l->lock);
    l->next_part = 0;
}

/* Each partition's messages stay in librdkafka's queue of that partition
 * until the listener has room for them (part_room), instead of all going
 * to the consumer queue; its first message wakes the loop. */
static void partition_queue(struct kafka_listen *l, struct listen_partition *p)
{
    p->queue = rd_kafka_queue_get_partition(l->rk, p->topic, p->partition);
    if (p->queue == NULL) {
        return; /* its messages come through the consumer queue instead */
    }
    rd_kafka_queue_forward(p->queue, NULL);
    rd_kafka_queue_io_event_enable(p->queue, l->wake[1], "p", 1);
}

static void partitions_assigned(struct kafka_listen *l,
                                const rd_kafka_topic_partition_list_t *list)
{
    for (int i = 0; i < list->cnt; i++) {
        struct listen_partition *p;
        if (part_find(l, list->elems[i].topic, list->elems[i].partition) != NULL) {
            continue;
        }
        p = part_add(l, list->elems[i].topic, list->elems[i].partition);
        if (p == NULL) {
            l->log.host->log(CONNRT_LOG_ERROR, l->component_id, "out of memory");
            continue;
        }
        partition_queue(l, p);
    }
}

static void rebalance(rd_kafka_t *rk, rd_kafka_resp_err_t err,
                      rd_kafka_topic_partition_list_t *partitions, void *opaque)
{
    struct kafka_listen *l = opaque;
    int cooperative = strcmp(rd_kafka_rebalance_protocol(rk), "COOPERATIVE") == 0;
    rd_kafka_error_t *error = NULL;

    if (err == RD_KAFKA_RESP_ERR__ASSIGN_PARTITIONS) {
        l->log.host->log(CONNRT_LOG_INFO, l->component_id, "group '%s' assigned %d partition(s)",
                         l->group, partitions->cnt);
        partitions_assigned(l, partitions);
        if (cooperative) {
            error = rd_kafka_incremental_assign(rk, partitions);
        } else if (rd_kafka_assign(rk, partitions) != RD_KAFKA_RESP_ERR_NO_ERROR) {
            l->log.host->log(CONNRT_LOG_ERROR, l->component_id, "group '%s': assign failed",
                             l->group);
        }
    } else {
        int lost = rd_kafka_assignment_lost(rk);
        l->log.host->log(CONNRT_LOG_INFO, l->component_id, "group '%s' %s %d partition(s)",
                         l->group, lost ? "lost" : "revoked", partitions->cnt);
        partitions_revoked(l, partitions, lost);
        if (cooperative) {
            error = rd_kafka_incremental_unassign(rk, partitions);
        } else {
            rd_kafka_assign(rk, NULL);
        }
    }
    if (error != NULL) {
        l->log.host->log(CONNRT_LOG_WARNING, l->component_id, "rebalance: %s",
                         rd_kafka_error_string(error));
        rd_kafka_error_destroy(error);
    }
}

/* ------------------------------------------------------------------------ */
/* The fetch loop                                                           */
/* ------------------------------------------------------------------------ */

/* `from`: the partition whose own queue held m (NULL: the consumer queue). */
static void take_message(struct kafka_listen *l, rd_kafka_message_t *m, long long now,
                         struct listen_partition *from)
{
    struct listen_partition *p;
    if (m->err != RD_KAFKA_RESP_ERR_NO_ERROR) {
        if (m->err != RD_KAFKA_RESP_ERR__PARTITION_EOF) {
            l->log.host->log(CONNRT_LOG_WARNING, l->component_id, "consumer: %s",
                             rd_kafka_message_errstr(m));
        }
        rd_kafka_message_destroy(m);
        return;
    }
    p = from != NULL ? from : part_find(l, rd_kafka_topic_name(m->rkt), m->partition);
    if (p == NULL) {
        rd_kafka_message_destroy(m); /* not ours any more: the owner refetches it */
        return;
    }
    if (part_push(p, m, now) != 0) {
        /* No memory: fetch from this message again rather than skip it. */
        rd_kafka_topic_partition_list_t *at = rd_kafka_topic_partition_list_new(1);
        rd_kafka_error_t *error;
        rd_kafka_topic_partition_list_add(at, p->topic, p->partition)->offset = m->offset;
        rd_kafka_message_destroy(m);
        error = rd_kafka_seek_partitions(l->rk, at, 0);
        if (error != NULL) {
            rd_kafka_error_destroy(error);
        }
        rd_kafka_topic_partition_list_destroy(at);
        l->log.host->log(CONNRT_LOG_ERROR, l->component_id,
                         "out of memory buffering %s/%d; fetching it again", p->topic,
                         (int)p->partition);
        return;
    }
    if (!p->started) {
        /* Where consumption starts after an assignment (`make bench-listen`
         * also times its runs from the first of these). */
        p->started = 1;
        l->log.host->log(CONNRT_LOG_DEBUG, l->component_id,
                         "group '%s': %s/%d: first message at offset %" PRId64, l->group,
                         p->topic, (int)p->partition, m->offset);
    }
}

/* Take what librdkafka fetched for each partition, as far as there is room. */
static void take_fetched(struct kafka_listen *l, long long now)
{
    rd_kafka_message_t *msgs[1024];
    for (size_t i = 0; i < l->nparts; i++) {
        struct listen_partition *p = l->parts[i];
        size_t room = p->revoked || p->queue == NULL ? 0 : part_room(l, p);
        while (room > 0) {
            size_t want = room < 1024 ? room : 1024;
            ssize_t n = rd_kafka_consume_batch_queue(p->queue, 0, msgs, want);
            if (n <= 0) {
                break;
            }
            for (ssize_t k = 0; k < n; k++) {
                take_message(l, msgs[k], now, p);
            }
            room = (size_t)n < room ? room - (size_t)n : 0;
            if ((size_t)n < want) {
                break; /* the queue is empty */
            }
        }
    }
}

static int stopping(struct kafka_listen *l)
{
    pthread_mutex_lock(&l->lock);
    int stop = l->stop;
    pthread_mutex_unlock(&l->lock);
    return stop;
}

/* Whether the loop may wait in poll: no outcome is waiting to be handled
 * (one reported from now on writes to the pipe). */
static int loop_may_sleep(struct kafka_listen *l)
{
    pthread_mutex_lock(&l->lock);
    l->sleeping = l->outcomes == 0 && !l->stop;
    int sleep = l->sleeping;
    pthread_mutex_unlock(&l->lock);
    return sleep;
}

static void loop_turn(struct kafka_listen *l, int timeout_ms)
{
    struct pollfd pfd = {.fd = l->wake[0], .events = POLLIN};
    char drained[256];
    rd_kafka_message_t *m;
    if (timeout_ms > 0 && loop_may_sleep(l)) {
        poll(&pfd, 1, timeout_ms);
        pthread_mutex_lock(&l->lock);
        l->sleeping = 0;
        pthread_mutex_unlock(&l->lock);
    }
    long long now = kafka_monotonic_ms(); /* arrival time of what this turn takes */
    while (read(l->wake[0], drained, sizeof(drained)) > 0) {
    }
    /* Group events, commit results and errors (and the messages of a
     * partition without its own queue); serves the rebalance callback. */
    for (size_t n = 0; n < KAFKA_LISTEN_DRAIN && (m = rd_kafka_consumer_poll(l->rk, 0)) != NULL;
         n++) {
        take_message(l, m, now, NULL);
    }
    handle_outcomes(l);
    take_fetched(l, now);
    commit_async(l);
}

/* SIGTERM: no new batch; running executions finish and commit; then the
 * member leaves the group. */
static void drain(struct kafka_listen *l)
{
    while (running(l) > 0) {
        pthread_mutex_lock(&l->lock);
        while (l->in_flight > 0) {
            size_t done = 0;
            for (size_t i = 0; i < l->nparts; i++) {
                done += (size_t)l->parts[i]->done;
            }
            if (done > 0) {
                break;
            }
            pthread_cond_wait(&l->outcome_cond, &l->lock);
        }
        pthread_mutex_unlock(&l->lock);
        handle_outcomes(l);
    }
    /* Serve commit callbacks, then commit what is left for certain. */
    rd_kafka_message_t *m;
    while ((m = rd_kafka_consumer_poll(l->rk, 0)) != NULL) {
        rd_kafka_message_destroy(m);
    }
    commit_sync(l, " at shutdown");
}

static void *fetch_loop(void *arg)
{
    struct kafka_listen *l = arg;
    pthread_setname_np(pthread_self(), "connrt-listen"); /* for top -H and perf */
    while (!stopping(l)) {
        loop_turn(l, next_due_ms(l));
        submit_due(l);
    }
    drain(l);
    return NULL;
}

/* ------------------------------------------------------------------------ */
/* Open, start, stop, close                                                 */
/* ------------------------------------------------------------------------ */

static int int_setting(struct kafka_listen *l, const char *name, long long fallback,
                       long long *out, char *errstr, size_t errstr_size)
{
    *out = fallback;
    if (l->log.host->settings_get(l->settings, name) == NULL) {
        return 0;
    }
    return kafka_setting_int(l->log.host, l->settings, name, out, errstr, errstr_size);
}

static int listen_settings_load(struct kafka_listen *l, char *errstr, size_t errstr_size)
{
    const struct connrt_host *host = l->log.host;
    l->group = host->settings_get(l->settings, "consumer_group");
    if (l->group == NULL || *l->group == '\0') {
        snprintf(errstr, errstr_size, "property 'consumer_group' is required");
        return -1;
    }
    l->dead_letter_topic = host->settings_get(l->settings, "dead_letter_topic");
    if (l->dead_letter_topic != NULL && *l->dead_letter_topic == '\0') {
        l->dead_letter_topic = NULL;
    }
    l->topics = kafka_topics_parse(host->settings_get(l->settings, "topic"), errstr, errstr_size);
    if (l->topics == NULL) {
        return -1;
    }
    return int_setting(l, "batch_size", 100, &l->batch_size, errstr, errstr_size) != 0 ||
                   int_setting(l, "batch_wait_ms", 1000, &l->batch_wait_ms, errstr,
                               errstr_size) != 0 ||
                   int_setting(l, "max_concurrent_executions", 1, &l->max_concurrent, errstr,
                               errstr_size) != 0 ||
                   int_setting(l, "max_retries", -1, &l->max_retries, errstr, errstr_size) !=
                       0 ||
                   int_setting(l, "retry_backoff_ms", 1000, &l->backoff_ms, errstr,
                               errstr_size) != 0 ||
                   int_setting(l, KAFKA_MAX_REQUEST_SIZE, 10485760, &l->max_request_size,
                               errstr, errstr_size) != 0
               ? -1
               : 0;
}

int kafka_listen_open(void *ctx, const struct connrt_host *host, void *connection,
                      const connrt_settings_t *settings, const char *component_id,
                      char *errstr, size_t errstr_size)
{
    struct kafka_listen *l = ctx;
    l->component_id = strdup(component_id ? component_id : "listen");
    if (l->component_id == NULL) {
        snprintf(errstr, errstr_size, "out of memory");
        return -1;
    }
    l->log.host = host;
    l->log.component_id = l->component_id;
    l->conn = connection;
    l->settings = settings;
    pthread_mutex_init(&l->lock, NULL);
    pthread_cond_init(&l->outcome_cond, NULL);
    l->lock_ready = 1;
    l->wake[0] = l->wake[1] = -1;
    if (listen_settings_load(l, errstr, errstr_size) != 0 ||
        kafka_formats_open(host, settings, l->conn, &l->formats, errstr, errstr_size) != 0) {
        kafka_listen_close(l);
        return -1;
    }
    return 0;
}

static rd_kafka_conf_t *listener_conf(struct kafka_listen *l, char *errstr, size_t errstr_size)
{
    const struct connrt_host *host = l->log.host;
    const char *reset = host->settings_get(l->settings, "auto_offset_reset");
    const char *strategy = host->settings_get(l->settings, "assignment_strategy");
    rd_kafka_conf_t *conf = kafka_connection_client_conf(l->conn, l, errstr, errstr_size);
    if (conf == NULL) {
        return NULL;
    }
    rd_kafka_conf_set_rebalance_cb(conf, rebalance);
    /* Offsets are committed by hand, only after the execution succeeded. */
    if (kafka_conf_set(conf, "group.id", l->group, errstr, errstr_size) != 0 ||
        kafka_conf_set(conf, "enable.auto.commit", "false", errstr, errstr_size) != 0 ||
        kafka_conf_set(conf, "enable.auto.offset.store", "false", errstr, errstr_size) != 0 ||
        kafka_conf_set(conf, "auto.offset.reset", reset ? reset : "earliest", errstr,
                       errstr_size) != 0 ||
        kafka_conf_set(conf, "partition.assignment.strategy", strategy ? strategy : "range",
                       errstr, errstr_size) != 0 ||
        kafka_consumer_mock_tuning(l->conn, conf, errstr, errstr_size) != 0 ||
        kafka_consumer_fetch_sizes(conf, l->max_request_size, errstr, errstr_size) != 0) {
        rd_kafka_conf_destroy(conf);
        return NULL;
    }
    /* DESIGN §5: reconnect with backoff from 10 s to 5 min on a real
     * cluster; the mock (tests) keeps librdkafka's short defaults. */
    if (!kafka_connection_is_mock(l->conn) &&
        (kafka_conf_default(l->conn, conf, "reconnect.backoff.ms", "10000", errstr,
                            errstr_size) != 0 ||
         kafka_conf_default(l->conn, conf, "reconnect.backoff.max.ms", "300000", errstr,
                            errstr_size) != 0)) {
        rd_kafka_conf_destroy(conf);
        return NULL;
    }
    return conf;
}

static int consumer_start(struct kafka_listen *l, char *errstr, size_t errstr_size)
{
    char why[512];
    rd_kafka_conf_t *conf = listener_conf(l, errstr, errstr_size);
    if (conf == NULL) {
        return -1;
    }
    l->rk = rd_kafka_new(RD_KAFKA_CONSUMER, conf, why, sizeof(why));
    if (l->rk == NULL) {
        rd_kafka_conf_destroy(conf);
        snprintf(errstr, errstr_size, "cannot create the Kafka consumer: %s", why);
        return -1;
    }
    if (kafka_security_client_started(l->conn->security, l->rk, errstr, errstr_size) != 0) {
        return -1;
    }
    rd_kafka_poll_set_consumer(l->rk);
    l->queue = rd_kafka_queue_get_consumer(l->rk);
    rd_kafka_queue_io_event_enable(l->queue, l->wake[1], "c", 1);
    rd_kafka_resp_err_t err = rd_kafka_subscribe(l->rk, l->topics);
    if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
        snprintf(errstr, errstr_size, "cannot subscribe to the topic(s): %s",
                 rd_kafka_err2str(err));
        return -1;
    }
    return 0;
}

static void clients_destroy(struct kafka_listen *l)
{
    pthread_mutex_lock(&l->lock);
    for (size_t i = 0; i < l->nparts; i++) {
        part_free(l->parts[i]);
    }
    free(l->parts);
    l->parts = NULL;
    l->nparts = 0;
    rd_kafka_t *rk = l->rk;
    l->rk = NULL; /* metrics stop asking it */
    pthread_mutex_unlock(&l->lock);
    if (l->queue != NULL) {
        rd_kafka_queue_io_event_enable(l->queue, -1, NULL, 0);
        rd_kafka_queue_destroy(l->queue);
        l->queue = NULL;
    }
    if (rk != NULL) {
        kafka_security_forget_client(rk);
        rd_kafka_destroy(rk);
    }
    if (l->dlq != NULL) {
        kafka_security_forget_client(l->dlq);
        rd_kafka_destroy(l->dlq);
        l->dlq = NULL;
    }
    pthread_mutex_lock(&l->lock);
    for (int i = 0; i < 2; i++) {
        if (l->wake[i] >= 0) {
            close(l->wake[i]);
            l->wake[i] = -1;
        }
    }
    pthread_mutex_unlock(&l->lock);
}

int kafka_listen_start(void *ctx, connrt_listener_t *listener, char *errstr,
                       size_t errstr_size)
{
    struct kafka_listen *l = ctx;
    if (listener == NULL) {
        snprintf(errstr, errstr_size, "a listen operation only starts a process");
        return -1;
    }
    l->listener = listener;
    if (pipe2(l->wake, O_NONBLOCK | O_CLOEXEC) != 0) {
        snprintf(errstr, errstr_size, "cannot create the listener's wake-up pipe: %s",
                 strerror(errno));
        l->wake[0] = l->wake[1] = -1;
        return -1;
    }
    if ((l->dead_letter_topic != NULL && dead_letter_producer(l, errstr, errstr_size) != 0) ||
        consumer_start(l, errstr, errstr_size) != 0) {
        clients_destroy(l);
        return -1;
    }
    if (pthread_create(&l->thread, NULL, fetch_loop, l) != 0) {
        snprintf(errstr, errstr_size, "cannot start the listener thread");
        rd_kafka_consumer_close(l->rk);
        clients_destroy(l);
        return -1;
    }
    l->thread_started = 1;
    return 0;
}

void kafka_listen_stop(void *ctx)
{
    struct kafka_listen *l = ctx;
    if (!l->thread_started) {
        return;
    }
    pthread_mutex_lock(&l->lock);
    l->stop = 1;
    pthread_cond_broadcast(&l->outcome_cond); /* batches waiting in fill_batch */
    wake_locked(l);
    pthread_mutex_unlock(&l->lock);
    pthread_join(l->thread, NULL);
    l->thread_started = 0;
    /* Leaves the group: revokes (and commits) through the rebalance
     * callback, on this thread now that the loop has ended. */
    rd_kafka_consumer_close(l->rk);
    clients_destroy(l);
}

void kafka_listen_metrics(void *ctx,
                          void (*sample)(void *opaque, const char *name, const char *labels,
                                         double value),
                          void *opaque)
{
    struct kafka_listen *l = ctx;
    char labels[700];
    if (!l->lock_ready) {
        return;
    }
    pthread_mutex_lock(&l->lock);
    for (size_t i = 0; l->rk != NULL && i < l->nparts; i++) {
        const struct listen_partition *p = l->parts[i];
        int64_t low = -1, high = -1;
        /* Kafka topic names are [a-zA-Z0-9._-]: nothing to escape. */
        snprintf(labels, sizeof(labels), "topic=\"%s\",partition=\"%d\"", p->topic,
                 (int)p->partition);
        /* Cached from fetch responses: no request to the cluster here. */
        if (p->commit_next >= 0 &&
            rd_kafka_get_watermark_offsets(l->rk, p->topic, p->partition, &low, &high) ==
                RD_KAFKA_RESP_ERR_NO_ERROR &&
            high >= 0) {
            sample(opaque, "connrt_consumer_lag", labels,
                   (double)(high > p->commit_next ? high - p->commit_next : 0));
        }
    }
    pthread_mutex_unlock(&l->lock);
}

/* A listen operation only starts processes; as a batch step it fails. */
int kafka_listen_execute(void *ctx, connrt_batch_t *batch, char *errstr, size_t errstr_size)
{
    (void)ctx;
    (void)batch;
    snprintf(errstr, errstr_size,
             "a listen operation only starts a process (it cannot be a connector step)");
    return -1;
}

void kafka_listen_close(void *ctx)
{
    struct kafka_listen *l = ctx;
    kafka_listen_stop(l);
    if (l->topics != NULL) {
        rd_kafka_topic_partition_list_destroy(l->topics);
        l->topics = NULL;
    }
    if (l->lock_ready) {
        pthread_mutex_destroy(&l->lock);
        pthread_cond_destroy(&l->outcome_cond);
        l->lock_ready = 0;
    }
    kafka_formats_destroy(l->formats);
    l->formats = NULL;
    free(l->component_id);
    l->component_id = NULL;
}
