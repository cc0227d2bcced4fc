/*
 * consumer.c - what Consume and Listen share about a group member: the
 * timings the mock cluster needs, fetch sizes that fit max.request.size,
 * the topic list of their `topic` property, and restarting a fetcher that
 * stopped at a full queue.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../connector-kafka/clock.h"
#include "operations.h"

#define KAFKA_FETCH_MARGIN 65536

/*
 * The mock cluster's group coordinator holds a first join for 3 s and any
 * later one for session.timeout.ms - 1 s (a group whose last member left
 * included), and drops a member whose join outlasts session.timeout.ms.
 * Measured on librdkafka 2.0.2: 2000 ms fails every time, 2500 and 3000 ms
 * never failed (24 runs, 4 in parallel). 3000 ms (heartbeats every 1000 ms)
 * is the smallest with a margin; a later join then takes about 2 s instead
 * of 44 s with the 45 s default. An empty Fetch waits fetch.wait.max.ms:
 * 10 ms instead of 500 keeps a consume from idling while messages are there.
 * Real brokers refuse session timeouts under 6 s, hence mock only.
 */
int kafka_consumer_mock_tuning(struct kafka_connection *conn, rd_kafka_conf_t *conf,
                               char *errstr, size_t errstr_size)
{
    if (!kafka_connection_is_mock(conn)) {
        return 0;
    }
    return kafka_conf_default(conn, conf, "session.timeout.ms", "3000", errstr, errstr_size) !=
                       0 ||
                   kafka_conf_default(conn, conf, "heartbeat.interval.ms", "1000", errstr,
                                      errstr_size) != 0 ||
                   kafka_conf_default(conn, conf, "fetch.wait.max.ms", "10", errstr,
                                      errstr_size) != 0
               ? -1
               : 0;
}

/* A message of max.request.size must fit in one Fetch response. */
int kafka_consumer_fetch_sizes(rd_kafka_conf_t *conf, long long max_request_size, char *errstr,
                               size_t errstr_size)
{
    long long need = max_request_size + KAFKA_FETCH_MARGIN;

    if (need <= 50000000) { /* below librdkafka's defaults */
        return 0;
    }
    return kafka_conf_set_int(conf, "fetch.max.bytes", need, errstr, errstr_size) != 0 ||
                   kafka_conf_set_int(conf, "receive.message.max.bytes", need + 1024, errstr,
                                      errstr_size) != 0
               ? -1
               : 0;
}

rd_kafka_topic_partition_list_t *kafka_topics_parse(const char *value, char *errstr,
                                                    size_t errstr_size)
{
    rd_kafka_topic_partition_list_t *list = rd_kafka_topic_partition_list_new(4);
    const char *p = value ? value : "";

    while (*p != '\0') {
        char name[512];
        size_t span;
        p += strspn(p, ", \t\r\n");
        span = strcspn(p, ", \t\r\n");
        if (span == 0) {
            break;
        }
        if (span >= sizeof(name)) {
            snprintf(errstr, errstr_size, "property 'topic': a topic name is too long");
            rd_kafka_topic_partition_list_destroy(list);
            return NULL;
        }
        memcpy(name, p, span);
        name[span] = '\0';
        rd_kafka_topic_partition_list_add(list, name, RD_KAFKA_PARTITION_UA);
        p += span;
    }
    if (list->cnt == 0) {
        snprintf(errstr, errstr_size, "property 'topic': no topic given");
        rd_kafka_topic_partition_list_destroy(list);
        return NULL;
    }
    return list;
}

/* ------------------------------------------------------------------------ */
/* Restarting a stalled fetcher                                             */
/* ------------------------------------------------------------------------ */

/* librdkafka stops fetching once the queue reaches a threshold: at this
 * share of one (in %) the fetcher may have stopped... */
#define KAFKA_NUDGE_FULL_PERCENT 90
/* ...and below this share it is woken, low enough that the fetch it then
 * decides on does not stop at once. */
#define KAFKA_NUDGE_BELOW_PERCENT 75
#define KAFKA_NUDGE_TIMEOUT_MS 1000

static long long conf_int(rd_kafka_t *rk, const char *name, long long fallback)
{
    char buf[64];
    size_t size = sizeof(buf);
    char *end;
    long long v;

    if (rd_kafka_conf_get(rd_kafka_conf(rk), name, buf, &size) != RD_KAFKA_CONF_OK) {
        return fallback;
    }
    v = strtoll(buf, &end, 10);
    return end != buf && v > 0 ? v : fallback;
}

/* The nudging thread: a watermark query per partition asked for. The
 * answers do not matter: each request wakes the broker thread of the
 * partition's leader, which then decides again what to fetch. */
static void *nudge_thread(void *opaque)
{
    struct kafka_fetch_nudge *n = opaque;

    pthread_mutex_lock(&n->lock);
    for (;;) {
        while (n->wanted == 0 && !n->quit) {
            pthread_cond_wait(&n->cond, &n->lock);
        }
        if (n->quit) {
            break;
        }
        size_t count = n->wanted;
        struct kafka_nudge_target targets[KAFKA_NUDGE_TARGETS];
        memcpy(targets, n->targets, count * sizeof(targets[0]));
        n->wanted = 0;
        pthread_mutex_unlock(&n->lock);
        for (size_t i = 0; i < count; i++) {
            int64_t low, high;
            (void)rd_kafka_query_watermark_offsets(n->rk, targets[i].topic, targets[i].partition,
                                                   &low, &high, KAFKA_NUDGE_TIMEOUT_MS);
        }
        pthread_mutex_lock(&n->lock);
        n->nudges++;
    }
    pthread_mutex_unlock(&n->lock);
    return NULL;
}

void kafka_fetch_nudge_start(struct kafka_fetch_nudge *n, rd_kafka_t *rk)
{
    memset(n, 0, sizeof(*n));
    n->rk = rk;
    n->min_messages = conf_int(rk, "queued.min.messages", 100000);
    n->max_bytes = conf_int(rk, "queued.max.messages.kbytes", 65536) * 1024;
    if (pthread_mutex_init(&n->lock, NULL) != 0) {
        return;
    }
    if (pthread_cond_init(&n->cond, NULL) != 0) {
        pthread_mutex_destroy(&n->lock);
        return;
    }
    if (pthread_create(&n->thread, NULL, nudge_thread, n) != 0) {
        pthread_cond_destroy(&n->cond);
        pthread_mutex_destroy(&n->lock);
        return;
    }
    n->started = 1;
}

void kafka_fetch_nudge_stop(struct kafka_fetch_nudge *n)
{
    if (!n->started) {
        return;
    }
    pthread_mutex_lock(&n->lock);
    n->quit = 1;
    pthread_cond_signal(&n->cond);
    pthread_mutex_unlock(&n->lock);
    pthread_join(n->thread, NULL);
    pthread_cond_destroy(&n->cond);
    pthread_mutex_destroy(&n->lock);
    n->started = 0;
}

/* Whether a queue of `len` messages is above `percent` of either threshold
 * (its size in bytes estimated from the mean size of the messages taken). */
static int queue_above(const struct kafka_fetch_nudge *n, long long len, int percent)
{
    long long mean = n->taken > 0 ? n->bytes / n->taken : 0;

    return len * 100 >= n->min_messages * percent || len * mean * 100 >= n->max_bytes * percent;
}

/* The distinct partitions of `msgs` (up to KAFKA_NUDGE_TARGETS): one per
 * leader is enough, and these are what is being fetched. */
static size_t nudge_targets(struct kafka_fetch_nudge *n, rd_kafka_message_t *const *msgs,
                            size_t count)
{
    size_t found = 0;

    for (size_t i = count; i-- > 0 && found < KAFKA_NUDGE_TARGETS;) {
        const char *topic = msgs[i]->rkt ? rd_kafka_topic_name(msgs[i]->rkt) : NULL;
        size_t k = 0;
        if (topic == NULL || strlen(topic) >= sizeof(n->targets[0].topic)) {
            continue;
        }
        while (k < found && (n->targets[k].partition != msgs[i]->partition ||
                             strcmp(n->targets[k].topic, topic) != 0)) {
            k++;
        }
        if (k == found) {
            snprintf(n->targets[found].topic, sizeof(n->targets[found].topic), "%s", topic);
            n->targets[found++].partition = msgs[i]->partition;
        }
    }
    return found;
}

void kafka_fetch_nudge_after(struct kafka_fetch_nudge *n, rd_kafka_queue_t *queue,
                             rd_kafka_message_t *const *msgs, size_t count)
{
    long long len = (long long)rd_kafka_queue_length(queue);

    for (size_t i = 0; i < count; i++) {
        n->bytes += (long long)(msgs[i]->len + msgs[i]->key_len);
    }
    n->taken += (long long)count;
    /* Before this batch was taken, the queue held it too. */
    if (queue_above(n, len + (long long)count, KAFKA_NUDGE_FULL_PERCENT)) {
        n->full = 1;
    }
    if (!n->full || !n->started || queue_above(n, len, KAFKA_NUDGE_BELOW_PERCENT)) {
        return;
    }
    n->full = 0;
    pthread_mutex_lock(&n->lock);
    if (n->wanted == 0) {
        n->wanted = nudge_targets(n, msgs, count);
        pthread_cond_signal(&n->cond);
    }
    pthread_mutex_unlock(&n->lock);
}
