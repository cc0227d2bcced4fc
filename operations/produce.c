/*
 * produce.c - the Produce operation: one Kafka message per input document,
 * one result per document from its own delivery report.
 */
#include <stdarg.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../connector-kafka/clock.h"
#include "formats.h"
#include "operations.h"
#include "../connector-kafka/security.h"

/* Extra time, beyond message.timeout.ms, that execute waits for the last
 * delivery reports before it calls the rest "timed out". */
#define KAFKA_FLUSH_MARGIN_MS 5000
/* After purging, how long to wait for the purge reports. */
#define KAFKA_PURGE_DRAIN_MS 2000
/* Longest wait in one rd_kafka_flush: between two, execute looks whether
 * the login failed (refused, or no token). */
#define KAFKA_FLUSH_SLICE_MS 100
/* While a batch waits for its last reports and another batch is in flight
 * too, it flushes (what lingers goes out at once: nothing more is coming
 * before this batch ends) in slices this short, not until the other batch
 * is delivered as well. */
#define KAFKA_SHARED_FLUSH_SLICE_MS 1
/* Serve delivery reports every so many messages while producing. */
#define KAFKA_POLL_EVERY 1024
/* Room for record framing and headers above max.request.size in
 * message.max.bytes, so that the document-size check is the one that bites. */
#define KAFKA_FRAMING_MARGIN 65536
#define KAFKA_MAX_TOPIC_HANDLES 256
/* Reading the wall clock for each create time was a fortieth of a produced
 * document: one read serves this many documents, queued microseconds
 * apart (well inside the millisecond of a timestamp); a wait reads anew. */
#define KAFKA_CLOCK_USES 16

static const char *const compressions[] = {"none", "gzip", "snappy", "lz4", "zstd", NULL};
static const char *const acks_values[] = {"all", "1", "0", NULL};

const struct connrt_property_def kafka_produce_properties[] = {
    {"topic", CONNRT_PROP_STRING, 0, NULL, NULL, 0, 0,
     "Topic to write to, unless a document sets connector.kafka.topic", NULL},
    {"compression", CONNRT_PROP_ENUM, 0, "none", compressions, 0, 0,
     "Compression of message batches", NULL},
    {"acks", CONNRT_PROP_ENUM, 0, "all", acks_values, 0, 0,
     "Broker acknowledgements per message: all (no loss), 1 (leader only), 0 (none)", NULL},
    {"linger_ms", CONNRT_PROP_DURATION_MS, 0, "5", NULL, 0, 900000,
     "How long to wait to fill a batch before sending it", NULL},
    {"idempotence", CONNRT_PROP_BOOL, 0, "true", NULL, 0, 0,
     "Idempotent producer: retries never duplicate or reorder messages (needs acks=all)",
     NULL},
    {"message_timeout_ms", CONNRT_PROP_DURATION_MS, 0, "30000", NULL, 1, 3600000,
     "Time a document may take to be delivered, retries included, before it fails", NULL},
    {"header.", CONNRT_PROP_PREFIX, 0, NULL, NULL, 0, 0,
     "header.NAME=VALUE adds header NAME to every message (a document's "
     "connector.kafka.header.NAME replaces it)",
     NULL},
    KAFKA_FORMAT_PROPERTY_ROWS,
    KAFKA_FORMAT_PRODUCE_ROWS,
    {NULL, CONNRT_PROP_STRING, 0, NULL, NULL, 0, 0, NULL, NULL},
};

/* Create time of a message, as a Java producer stamps it. */
/* ------------------------------------------------------------------------ */
/* Results                                                                  */
/* ------------------------------------------------------------------------ */

/* One batch in flight, from execute_begin to execute_end. */
struct kafka_produce_run {
    struct kafka_produce_run *next;
    connrt_batch_t *batch;
    size_t size;
    uint64_t generation;
    unsigned char *done; /* per input: has its result */
    int64_t *created;    /* per input: its message's create time (ms) */
    size_t outstanding;  /* produced, no report yet */
    long long deadline;  /* monotonic ms: the last report is due */
    unsigned refusals;   /* login refusals when it began */
    unsigned brokers_down; /* "all brokers down" reports when it began */
    int login_refused;   /* purged reports get no result (finish_run) */
    int track;           /* set the tracked properties of what is delivered */
};

static void fail_doc(const struct kafka_produce *p, const struct kafka_produce_run *run, size_t i,
                     const char *fmt, ...) __attribute__((format(printf, 4, 5)));

static void fail_doc(const struct kafka_produce *p, const struct kafka_produce_run *run, size_t i,
                     const char *fmt, ...)
{
    /* No "document N" prefix: the runtime names the document (its run-wide
     * number and origin); a batch index would be wrong once input is chunked. */
    char message[1024];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(message, sizeof(message), fmt, ap);
    va_end(ap);
    p->log.host->batch_fail(run->batch, i, message);
}

/* Why a timeout, when no broker could be reached since the batch began:
 * "; no broker was reachable (last error: ...)", else "". */
static const char *unreachable(const struct kafka_produce *p, const struct kafka_produce_run *run)
{
    static _Thread_local char text[600];

    if (p->log.brokers_down == run->brokers_down) {
        return "";
    }
    snprintf(text, sizeof(text), "; no broker was reachable (last error: %s)",
             p->log.down_reason[0] != '\0' ? p->log.down_reason : "none reported");
    return text;
}

/* Say in words why a message was not delivered. */
static void fail_delivery(const struct kafka_produce *p, const struct kafka_produce_run *run,
                          size_t i, const char *topic, rd_kafka_resp_err_t err)
{
    switch (err) {
    case RD_KAFKA_RESP_ERR__UNKNOWN_TOPIC:
    case RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART:
        fail_doc(p, run, i, "unknown topic '%s'", topic);
        break;
    case RD_KAFKA_RESP_ERR__MSG_TIMED_OUT:
    case RD_KAFKA_RESP_ERR__TIMED_OUT:
    case RD_KAFKA_RESP_ERR__PURGE_QUEUE:
    case RD_KAFKA_RESP_ERR__PURGE_INFLIGHT:
        fail_doc(p, run, i, "timed out: not delivered to topic '%s' within %lld ms%s", topic,
                 p->message_timeout_ms, unreachable(p, run));
        break;
    case RD_KAFKA_RESP_ERR_MSG_SIZE_TOO_LARGE:
        fail_doc(p, run, i, "too large for topic '%s': %s", topic, rd_kafka_err2str(err));
        break;
    default:
        fail_doc(p, run, i, "not delivered to topic '%s': %s (%s)", topic, rd_kafka_err2str(err),
                 rd_kafka_err2name(err));
        break;
    }
}

/* Input i was in flight on a producer that had a fatal error. */
static void fail_fatal(const struct kafka_produce *p, const struct kafka_produce_run *run,
                       size_t i)
{
    fail_doc(p, run, i, "not delivered: the producer had a fatal error (%s)", p->fatal_reason);
}

/* Create time of the next message: milliseconds since the epoch, read once
 * per KAFKA_CLOCK_USES calls. The thread running execute only. */
static long long produce_clock(struct kafka_produce *p)
{
    if (p->clock_uses == 0) {
        p->clock_ms = kafka_wall_ms();
        p->clock_uses = KAFKA_CLOCK_USES;
    }
    p->clock_uses--;
    return p->clock_ms;
}

/* After a wait the clock has moved on. */
static void produce_clock_reset(struct kafka_produce *p)
{
    p->clock_uses = 0;
}

/* The message's timestamp: the broker's when the topic keeps LogAppendTime,
 * else the create time. The mock cluster answers every Produce with
 * LogAppendTime 1234 (1970), so there the create time is the truth. */
static int64_t result_timestamp(const struct kafka_produce *p, const struct kafka_produce_run *run,
                                size_t i, const rd_kafka_message_t *m)
{
    rd_kafka_timestamp_type_t type;
    int64_t ts = rd_kafka_message_timestamp(m, &type);

    if (type == RD_KAFKA_TIMESTAMP_LOG_APPEND_TIME && !p->mock) {
        return ts;
    }
    return run->created[i];
}

/* A message's opaque: the batch generation in the high bits and the input
 * index in the low ones, so a late report of an earlier batch is recognised
 * and can never settle a document of another one. */
#define KAFKA_INDEX_BITS 40
#define KAFKA_INDEX_MASK ((UINT64_C(1) << KAFKA_INDEX_BITS) - 1)

static void *message_ticket(const struct kafka_produce_run *run, size_t i)
{
    return (void *)(uintptr_t)((run->generation << KAFKA_INDEX_BITS) | (uint64_t)i);
}

static struct kafka_produce_run *run_of_generation(const struct kafka_produce *p,
                                                   uint64_t generation)
{
    for (struct kafka_produce_run *run = p->runs; run != NULL; run = run->next) {
        if (run->generation == generation) {
            return run;
        }
    }
    return NULL;
}

/* The metrics of the reports served by the last poll: their latencies sum
 * to count * now - sum(create times), so the clock is read once per poll. */
static void account_reports(struct kafka_produce *p)
{
    if (p->reports_unaccounted == 0) {
        return;
    }
    long long now = kafka_wall_ms();
    atomic_fetch_add(&p->delivered, p->reports_unaccounted);
    atomic_fetch_add(&p->latency_ms_sum,
                     p->reports_unaccounted * now - p->reports_created_sum);
    p->reports_unaccounted = 0;
    p->reports_created_sum = 0;
}

/* Serve delivery reports (of every batch in flight) for up to timeout_ms;
 * `flush` also sends what lingers at once. The lock is held. */
static void serve_reports(struct kafka_produce *p, int timeout_ms, int flush)
{
    if (flush) {
        rd_kafka_flush(p->rk, timeout_ms);
    } else {
        rd_kafka_poll(p->rk, timeout_ms);
    }
    account_reports(p);
}

/* Delivery report of one document, served by serve_reports on a thread
 * holding the operation's lock. */
static void delivery_report(rd_kafka_t *rk, const rd_kafka_message_t *m, void *opaque)
{
    struct kafka_produce *p = opaque;
    uint64_t ticket = (uint64_t)(uintptr_t)m->_private;
    size_t i = (size_t)(ticket & KAFKA_INDEX_MASK);
    const struct connrt_host *host = p->log.host;
    struct kafka_produce_run *run = run_of_generation(p, ticket >> KAFKA_INDEX_BITS);
    connrt_document_t *doc;

    (void)rk;
    /* A report of a batch that ended (purged late) has no document to go to. */
    if (run == NULL || i >= run->size || run->done[i]) {
        return;
    }
    run->done[i] = 1;
    run->outstanding--;
    if (run->login_refused && (m->err == RD_KAFKA_RESP_ERR__PURGE_QUEUE ||
                               m->err == RD_KAFKA_RESP_ERR__PURGE_INFLIGHT)) {
        return; /* no result: the operation fails (finish_run) */
    }
    if (m->err != RD_KAFKA_RESP_ERR_NO_ERROR && p->fatal_reason[0] != '\0') {
        fail_fatal(p, run, i);
        return;
    }
    if (m->err != RD_KAFKA_RESP_ERR_NO_ERROR) {
        fail_delivery(p, run, i, rd_kafka_topic_name(m->rkt), m->err);
        return;
    }
    doc = host->batch_input(run->batch, i);
    if (run->track &&
        kafka_message_track(host, doc, m, 0, result_timestamp(p, run, i, m)) != 0) {
        fail_doc(p, run, i, "delivered to topic '%s' partition %d offset %lld, but out of "
                 "memory recording it", rd_kafka_topic_name(m->rkt), (int)m->partition,
                 (long long)m->offset);
        return;
    }
    host->batch_succeed(run->batch, i);
    p->reports_unaccounted++;
    p->reports_created_sum += run->created[i];
}

/* ------------------------------------------------------------------------ */
/* Producing                                                                */
/* ------------------------------------------------------------------------ */

/* A topic handle of the producer, kept for the operation's life so that
 * producev does not look the name up per message; NULL past the cache size
 * (then the name is passed as is). */
static rd_kafka_topic_t *topic_handle(struct kafka_produce *p, const char *name)
{
    struct kafka_topic_handle *t;
    rd_kafka_topic_t *rkt;
    char *copy;

    for (size_t i = 0; i < p->ntopics; i++) {
        if (strcmp(p->topics[i].name, name) == 0) {
            return p->topics[i].rkt;
        }
    }
    if (p->ntopics == KAFKA_MAX_TOPIC_HANDLES) {
        return NULL;
    }
    if (p->topics == NULL) {
        p->topics = calloc(KAFKA_MAX_TOPIC_HANDLES, sizeof(*p->topics));
        if (p->topics == NULL) {
            return NULL;
        }
    }
    copy = strdup(name);
    rkt = copy ? rd_kafka_topic_new(p->rk, name, NULL) : NULL;
    if (rkt == NULL) {
        free(copy);
        return NULL;
    }
    t = &p->topics[p->ntopics++];
    t->name = copy;
    t->rkt = rkt;
    return rkt;
}

static void topic_handles_destroy(struct kafka_produce *p)
{
    for (size_t i = 0; i < p->ntopics; i++) {
        rd_kafka_topic_destroy(p->topics[i].rkt);
        free(p->topics[i].name);
    }
    free(p->topics);
    p->topics = NULL;
    p->ntopics = 0;
}

/* Headers of one message: the document's connector.kafka.header.NAME, then
 * the operation's header.NAME unless the document replaced it. NULL when
 * there are none. Owned by the caller until producev takes it. */
static rd_kafka_headers_t *message_headers(const struct kafka_produce *p,
                                           const connrt_document_t *doc)
{
    const struct connrt_host *host = p->log.host;
    size_t count = host->doc_property_count(doc);
    size_t plen = strlen(KAFKA_DOC_HEADER_PREFIX);
    rd_kafka_headers_t *h = NULL;

    for (size_t i = 0; i < count; i++) {
        const char *name, *value;
        host->doc_property_at(doc, i, &name, &value);
        if (name != NULL && strncmp(name, KAFKA_DOC_HEADER_PREFIX, plen) == 0 &&
            name[plen] != '\0') {
            if (h == NULL) {
                h = rd_kafka_headers_new(4 + p->nheaders);
            }
            rd_kafka_header_add(h, name + plen, -1, value, -1);
        }
    }
    for (size_t i = 0; i < p->nheaders; i++) {
        if (h != NULL && host->doc_get_property(doc, p->headers[i].override) != NULL) {
            continue;
        }
        if (h == NULL) {
            h = rd_kafka_headers_new(4 + p->nheaders);
        }
        rd_kafka_header_add(h, p->headers[i].name, -1, p->headers[i].value, -1);
    }
    return h;
}

/* Queue the message of input i, waiting (serving reports) while the local
 * queue is full, until `deadline`. The payload is not copied: it lives in
 * the execution arena, which outlives this call and its flush, or it was
 * encoded (value_owned) and librdkafka frees it once queued. */
static rd_kafka_resp_err_t produce_message(struct kafka_produce *p,
                                           const struct kafka_produce_run *run, size_t i,
                                           const char *topic, const struct kafka_encoded *m,
                                           rd_kafka_headers_t *hdrs)
{
    rd_kafka_topic_t *rkt = topic_handle(p, topic);
    rd_kafka_resp_err_t err;

    for (;;) {
        if (rkt != NULL) {
            err = rd_kafka_producev(
                p->rk, RD_KAFKA_V_RKT(rkt), RD_KAFKA_V_VALUE((void *)m->value, m->value_len),
                RD_KAFKA_V_MSGFLAGS(m->value_owned ? RD_KAFKA_MSG_F_FREE : 0),
                RD_KAFKA_V_KEY(m->key, m->key_len), RD_KAFKA_V_HEADERS(hdrs),
                RD_KAFKA_V_TIMESTAMP(run->created[i]), RD_KAFKA_V_OPAQUE(message_ticket(run, i)),
                RD_KAFKA_V_END);
        } else {
            err = rd_kafka_producev(
                p->rk, RD_KAFKA_V_TOPIC(topic), RD_KAFKA_V_VALUE((void *)m->value, m->value_len),
                RD_KAFKA_V_MSGFLAGS(m->value_owned ? RD_KAFKA_MSG_F_FREE : 0),
                RD_KAFKA_V_KEY(m->key, m->key_len), RD_KAFKA_V_HEADERS(hdrs),
                RD_KAFKA_V_TIMESTAMP(run->created[i]), RD_KAFKA_V_OPAQUE(message_ticket(run, i)),
                RD_KAFKA_V_END);
        }
        if (err != RD_KAFKA_RESP_ERR__QUEUE_FULL || kafka_monotonic_ms() >= run->deadline) {
            return err;
        }
        serve_reports(p, 10, 0);
        produce_clock_reset(p);
    }
}


/* A document that a Consume or Listen stamped with its source topic goes
 * back there (DESIGN §5: connector.kafka.topic overrides the operation's
 * topic). In a relay that is rarely meant: say so once, with the fix. */
static void warn_source_topic(struct kafka_produce *p, const connrt_document_t *doc,
                              const char *topic)
{
    const char *source = p->log.host->doc_get_tracked(doc, "kafka.topic");
    if (p->warned_source_topic || p->topic == NULL || strcmp(topic, p->topic) == 0 ||
        source == NULL || strcmp(source, topic) != 0) {
        return;
    }
    p->warned_source_topic = 1;
    p->log.host->log(CONNRT_LOG_WARNING, p->component_id,
                     "documents read from topic '%s' carry %s='%s', which overrides this "
                     "operation's topic '%s': they go back to '%s'. To send them to '%s', set "
                     "%s in a set-properties step before this one",
                     source, KAFKA_DOC_TOPIC, topic, p->topic, topic, p->topic, KAFKA_DOC_TOPIC);
}

static void produce_document(struct kafka_produce *p, struct kafka_produce_run *run, size_t i)
{
    const struct connrt_host *host = p->log.host;
    connrt_document_t *doc = host->batch_input(run->batch, i);
    const char *topic = host->doc_get_property(doc, KAFKA_DOC_TOPIC);
    rd_kafka_headers_t *hdrs;
    rd_kafka_resp_err_t err;
    struct kafka_encoded m;
    char why[1024];

    if (topic == NULL) {
        topic = p->topic;
    } else {
        warn_source_topic(p, doc, topic);
    }
    if (topic == NULL || *topic == '\0') {
        fail_doc(p, run, i, "no topic: set the operation's topic or the document property %s",
                 KAFKA_DOC_TOPIC);
        return;
    }
    if (kafka_formats_encode(p->formats, host, doc, topic, &m, why, sizeof(why)) != 0) {
        fail_doc(p, run, i, "%s", why);
        return;
    }
    if ((long long)(m.value_len + m.key_len) > p->max_request_size) {
        fail_doc(p, run, i, "%zu bytes exceed connector.kafka.max.request.size (%lld)",
                 m.value_len + m.key_len, p->max_request_size);
        kafka_encoded_release(&m);
        return;
    }
    hdrs = message_headers(p, doc);
    run->created[i] = produce_clock(p);
    run->done[i] = 0;
    run->outstanding++;
    err = produce_message(p, run, i, topic, &m, hdrs);
    if (err == RD_KAFKA_RESP_ERR_NO_ERROR) {
        m.value_owned = NULL; /* librdkafka's now; it copied the key */
    }
    kafka_encoded_release(&m);
    if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
        /* Not queued: no report will come, and the headers are still ours. */
        run->outstanding--;
        run->done[i] = 1;
        if (hdrs != NULL) {
            rd_kafka_headers_destroy(hdrs);
        }
        if (err == RD_KAFKA_RESP_ERR__QUEUE_FULL) {
            fail_doc(p, run, i, "timed out: the producer queue stayed full for %lld ms",
                     p->message_timeout_ms);
        } else {
            fail_delivery(p, run, i, topic, err);
        }
    }
}

/* Nothing is in flight for the other batches: then waiting may send what
 * lingers at once (rd_kafka_flush), as no other batch will fill it. */
static int run_alone(const struct kafka_produce *p, const struct kafka_produce_run *run)
{
    return p->runs == run && run->next == NULL;
}

/* The login failed: nothing can be delivered. Every batch in flight is
 * purged and its purged reports get no result. */
static void purge_all(struct kafka_produce *p, int login_refused)
{
    long long drain_until = kafka_monotonic_ms() + KAFKA_PURGE_DRAIN_MS;
    size_t outstanding = 0;

    for (struct kafka_produce_run *run = p->runs; run != NULL; run = run->next) {
        run->login_refused |= login_refused;
    }
    rd_kafka_purge(p->rk, RD_KAFKA_PURGE_F_QUEUE | RD_KAFKA_PURGE_F_INFLIGHT);
    do {
        serve_reports(p, 50, 0);
        outstanding = 0;
        for (struct kafka_produce_run *run = p->runs; run != NULL; run = run->next) {
            outstanding += run->outstanding;
        }
    } while (outstanding > 0 && kafka_monotonic_ms() < drain_until);
}

/*
 * Wait for every report of `run` until its deadline; then purge what is
 * left (of every batch in flight: they share the producer's queues) so
 * that no late report can reach a later batch, and fail what still has
 * none. When the login fails meanwhile (the client's error callback counts
 * it past run->refusals), nothing can be delivered: the rest is purged at
 * once and left without a result, and -1 makes the operation fail with the
 * reason, as a Java producer fails its sends on an authentication error
 * instead of letting them time out.
 */
static int finish_run(struct kafka_produce *p, struct kafka_produce_run *run, char *errstr,
                      size_t errstr_size)
{
    long long left;

    while (run->outstanding > 0 && !run->login_refused &&
           p->log.login_refusals == run->refusals &&
           (left = run->deadline - kafka_monotonic_ms()) > 0) {
        int slice = run_alone(p, run) ? KAFKA_FLUSH_SLICE_MS : KAFKA_SHARED_FLUSH_SLICE_MS;
        serve_reports(p, left < slice ? (int)left : slice, 1);
    }
    if (run->outstanding > 0) {
        purge_all(p, p->log.login_refusals != run->refusals);
    }
    for (size_t i = 0; i < run->size; i++) {
        if (!run->done[i]) {
            run->done[i] = 1;
            if (!run->login_refused) {
                fail_doc(p, run, i, "timed out: no delivery report within %lld ms%s",
                         p->message_timeout_ms + KAFKA_FLUSH_MARGIN_MS, unreachable(p, run));
            }
        }
    }
    if (run->login_refused) {
        snprintf(errstr, errstr_size, "the login failed: %s", p->log.login_reason);
        return -1;
    }
    return 0;
}

/* ------------------------------------------------------------------------ */
/* Open, execute, close                                                     */
/* ------------------------------------------------------------------------ */

static int producer_conf_set(struct kafka_produce *p, rd_kafka_conf_t *conf, char *errstr,
                             size_t errstr_size)
{
    const struct connrt_host *host = p->log.host;
    const char *acks = host->settings_get(p->settings, "acks");
    const char *compression = host->settings_get(p->settings, "compression");
    int idempotence = kafka_setting_bool(host, p->settings, "idempotence", 1);
    long long linger = 5;
    long long max_bytes = p->max_request_size + KAFKA_FRAMING_MARGIN;

    if (host->settings_get(p->settings, "linger_ms") != NULL &&
        kafka_setting_int(host, p->settings, "linger_ms", &linger, errstr, errstr_size) != 0) {
        return -1;
    }
    if (acks == NULL) {
        acks = "all";
    }
    if (idempotence && strcmp(acks, "all") != 0) {
        snprintf(errstr, errstr_size,
                 "acks=%s needs idempotence=false (the idempotent producer needs acks=all)",
                 acks);
        return -1;
    }
    if (max_bytes > 1000000000) {
        max_bytes = 1000000000;
    }
    rd_kafka_conf_set_dr_msg_cb(conf, delivery_report);
    if (kafka_conf_set(conf, "acks", acks, errstr, errstr_size) != 0 ||
        kafka_conf_set(conf, "enable.idempotence", idempotence ? "true" : "false", errstr,
                       errstr_size) != 0 ||
        /* Java's default partitioner: a key lands where a Java client puts it. */
        kafka_conf_set(conf, "partitioner", "murmur2_random", errstr, errstr_size) != 0 ||
        kafka_conf_set(conf, "compression.codec", compression ? compression : "none", errstr,
                       errstr_size) != 0 ||
        kafka_conf_set_int(conf, "linger.ms", linger, errstr, errstr_size) != 0 ||
        kafka_conf_set_int(conf, "message.timeout.ms", p->message_timeout_ms, errstr,
                           errstr_size) != 0 ||
        kafka_conf_set_int(conf, "message.max.bytes", max_bytes, errstr, errstr_size) != 0) {
        return -1;
    }
    return 0;
}

static int producer_new(struct kafka_produce *p, char *errstr, size_t errstr_size)
{
    rd_kafka_conf_t *conf = kafka_connection_client_conf(p->conn, p, errstr, errstr_size);
    char why[512];

    if (conf == NULL) {
        return -1;
    }
    p->mock = kafka_connection_is_mock(p->conn);
    if (producer_conf_set(p, conf, errstr, errstr_size) != 0) {
        rd_kafka_conf_destroy(conf);
        return -1;
    }
    p->rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, why, sizeof(why));
    if (p->rk == NULL) {
        rd_kafka_conf_destroy(conf);
        snprintf(errstr, errstr_size, "cannot create the Kafka producer: %s", why);
        return -1;
    }
    if (kafka_security_client_started(p->conn->security, p->rk, errstr, errstr_size) != 0) {
        rd_kafka_destroy(p->rk);
        p->rk = NULL;
        return -1;
    }
    return 0;
}

static void producer_destroy(struct kafka_produce *p)
{
    topic_handles_destroy(p);
    if (p->rk != NULL) {
        rd_kafka_destroy(p->rk);
        p->rk = NULL;
    }
}

/* Static headers: settings named "header.NAME". */
static int static_headers_load(struct kafka_produce *p, char *errstr, size_t errstr_size)
{
    const struct connrt_host *host = p->log.host;
    size_t count = host->settings_count(p->settings);

    p->headers = calloc(count ? count : 1, sizeof(*p->headers));
    if (p->headers == NULL) {
        snprintf(errstr, errstr_size, "out of memory");
        return -1;
    }
    for (size_t i = 0; i < count; i++) {
        const char *name, *value;
        struct kafka_static_header *h;
        size_t len;
        host->settings_at(p->settings, i, &name, &value);
        if (name == NULL || strncmp(name, "header.", 7) != 0 || value == NULL) {
            continue;
        }
        if (name[7] == '\0') {
            snprintf(errstr, errstr_size, "property 'header.': the header name is missing");
            return -1;
        }
        h = &p->headers[p->nheaders++];
        h->name = name + 7;
        h->value = value;
        len = strlen(KAFKA_DOC_HEADER_PREFIX) + strlen(h->name) + 1;
        h->override = malloc(len);
        if (h->override == NULL) {
            snprintf(errstr, errstr_size, "out of memory");
            return -1;
        }
        snprintf(h->override, len, "%s%s", KAFKA_DOC_HEADER_PREFIX, h->name);
    }
    return 0;
}

static int produce_settings_load(struct kafka_produce *p, char *errstr, size_t errstr_size)
{
    const struct connrt_host *host = p->log.host;

    p->topic = host->settings_get(p->settings, "topic");
    p->max_request_size = 10485760;
    p->message_timeout_ms = 30000;
    if (host->settings_get(p->settings, KAFKA_MAX_REQUEST_SIZE) != NULL &&
        kafka_setting_int(host, p->settings, KAFKA_MAX_REQUEST_SIZE, &p->max_request_size,
                          errstr, errstr_size) != 0) {
        return -1;
    }
    if (host->settings_get(p->settings, "message_timeout_ms") != NULL &&
        kafka_setting_int(host, p->settings, "message_timeout_ms", &p->message_timeout_ms,
                          errstr, errstr_size) != 0) {
        return -1;
    }
    if (p->message_timeout_ms < 1) {
        snprintf(errstr, errstr_size, "property 'message_timeout_ms' must be at least 1");
        return -1;
    }
    return static_headers_load(p, errstr, errstr_size);
}

int kafka_produce_open(void *ctx, const struct connrt_host *host, void *connection,
                       const connrt_settings_t *settings, const char *component_id,
                       char *errstr, size_t errstr_size)
{
    struct kafka_produce *p = ctx;

    p->component_id = strdup(component_id ? component_id : "produce");
    if (p->component_id == NULL) {
        snprintf(errstr, errstr_size, "out of memory");
        return -1;
    }
    p->log.host = host;
    p->log.component_id = p->component_id;
    p->conn = connection;
    p->settings = settings;
    if (pthread_mutex_init(&p->lock, NULL) != 0) {
        snprintf(errstr, errstr_size, "cannot create a mutex");
        kafka_produce_close(p);
        return -1;
    }
    p->lock_ready = 1;
    if (produce_settings_load(p, errstr, errstr_size) != 0 ||
        kafka_formats_open(host, settings, p->conn, &p->formats, errstr, errstr_size) != 0 ||
        producer_new(p, errstr, errstr_size) != 0) {
        kafka_produce_close(p);
        return -1;
    }
    return 0;
}

static void run_free(struct kafka_produce_run *run)
{
    if (run != NULL) {
        free(run->done);
        free(run->created);
        free(run);
    }
}

/* A new batch in flight, linked into p->runs; NULL on no memory. */
static struct kafka_produce_run *run_new(struct kafka_produce *p, connrt_batch_t *batch, size_t n)
{
    const struct connrt_host *host = p->log.host;
    struct kafka_produce_run *run = calloc(1, sizeof(*run));

    if (run == NULL) {
        return NULL;
    }
    run->done = malloc(n > 0 ? n : 1);
    run->created = calloc(n > 0 ? n : 1, sizeof(*run->created));
    if (run->done == NULL || run->created == NULL) {
        run_free(run);
        return NULL;
    }
    memset(run->done, 1, n); /* until queued */
    run->batch = batch;
    run->size = n;
    /* 24 bits of generation: wraps after 16 M batches, far beyond any late report. */
    p->generation = (p->generation + 1) & 0xffffffu;
    run->generation = p->generation;
    run->deadline = kafka_monotonic_ms() + p->message_timeout_ms + KAFKA_FLUSH_MARGIN_MS;
    run->refusals = p->log.login_refusals;
    run->brokers_down = p->log.brokers_down;
    /* An older host has no batch_wants_tracked: track. */
    run->track = CONNRT_ABI_MINOR(host->abi_version) < 5 || host->batch_wants_tracked == NULL ||
                 host->batch_wants_tracked(batch);
    run->next = p->runs;
    p->runs = run;
    return run;
}

static void run_unlink(struct kafka_produce *p, struct kafka_produce_run *run)
{
    for (struct kafka_produce_run **at = &p->runs; *at != NULL; at = &(*at)->next) {
        if (*at == run) {
            *at = run->next;
            return;
        }
    }
}

/* The batches in flight on a producer that had a fatal error end now:
 * what it still reports is served, and every input left without a report
 * fails with the reason (p->fatal_reason), so that the producer can be
 * replaced; their execute_end then finds nothing to wait for. */
static void settle_runs(struct kafka_produce *p)
{
    if (p->rk != NULL && p->runs != NULL) {
        purge_all(p, 0);
    }
    for (struct kafka_produce_run *run = p->runs; run != NULL; run = run->next) {
        for (size_t i = 0; i < run->size; i++) {
            if (!run->done[i]) {
                run->done[i] = 1;
                fail_fatal(p, run, i);
            }
        }
        run->outstanding = 0;
    }
}

/* A fatal error (idempotence broken) leaves the producer unusable; a failed
 * rebuild leaves none at all. Then a new one is made, once the batches in
 * flight on the old one are settled. */
static int producer_usable(struct kafka_produce *p, char *errstr, size_t errstr_size)
{
    char why[512];
    int rc;

    if (p->rk != NULL && rd_kafka_fatal_error(p->rk, why, sizeof(why)) ==
                             RD_KAFKA_RESP_ERR_NO_ERROR) {
        return 0;
    }
    snprintf(p->fatal_reason, sizeof(p->fatal_reason), "%s",
             p->rk != NULL ? why : "no producer could be made");
    settle_runs(p);
    p->log.host->log(CONNRT_LOG_WARNING, p->component_id,
                     "producer had a fatal error (%s); starting a new one", p->fatal_reason);
    producer_destroy(p);
    rc = producer_new(p, errstr, errstr_size);
    p->fatal_reason[0] = '\0';
    return rc;
}

/* Queue every input of `batch`; its reports settle it in finish_run. */
static int begin_locked(struct kafka_produce *p, connrt_batch_t *batch, char *errstr,
                        size_t errstr_size)
{
    size_t n = p->log.host->batch_count(batch);
    struct kafka_produce_run *run;

    if (producer_usable(p, errstr, errstr_size) != 0) {
        return -1;
    }
    run = run_new(p, batch, n);
    if (run == NULL) {
        snprintf(errstr, errstr_size, "out of memory for %zu documents", n);
        return -1;
    }
    produce_clock_reset(p);
    for (size_t i = 0; i < n; i++) {
        produce_document(p, run, i);
        if (i % KAFKA_POLL_EVERY == KAFKA_POLL_EVERY - 1) {
            serve_reports(p, 0, 0);
        }
    }
    return 0;
}

static int end_locked(struct kafka_produce *p, connrt_batch_t *batch, char *errstr,
                      size_t errstr_size)
{
    struct kafka_produce_run *run = p->runs;
    int rc;

    while (run != NULL && run->batch != batch) {
        run = run->next;
    }
    if (run == NULL) {
        snprintf(errstr, errstr_size, "internal error: the batch was not begun");
        return -1;
    }
    rc = finish_run(p, run, errstr, errstr_size);
    run_unlink(p, run);
    run_free(run);
    return rc;
}

/* `half` of a batch under the operation's lock. */
static int locked(void *ctx,
                  int (*half)(struct kafka_produce *, connrt_batch_t *, char *, size_t),
                  connrt_batch_t *batch, char *errstr, size_t errstr_size)
{
    struct kafka_produce *p = ctx;
    int rc;

    pthread_mutex_lock(&p->lock);
    rc = half(p, batch, errstr, errstr_size);
    pthread_mutex_unlock(&p->lock);
    return rc;
}

int kafka_produce_execute_begin(void *ctx, connrt_batch_t *batch, char *errstr,
                                size_t errstr_size)
{
    return locked(ctx, begin_locked, batch, errstr, errstr_size);
}

int kafka_produce_execute_end(void *ctx, connrt_batch_t *batch, char *errstr,
                              size_t errstr_size)
{
    return locked(ctx, end_locked, batch, errstr, errstr_size);
}

int kafka_produce_execute(void *ctx, connrt_batch_t *batch, char *errstr, size_t errstr_size)
{
    struct kafka_produce *p = ctx;
    int rc;

    if (p->log.host->batch_count(batch) == 0) {
        return 0;
    }
    pthread_mutex_lock(&p->lock);
    rc = begin_locked(p, batch, errstr, errstr_size);
    if (rc == 0) {
        rc = end_locked(p, batch, errstr, errstr_size);
    }
    pthread_mutex_unlock(&p->lock);
    return rc;
}

void kafka_produce_close(void *ctx)
{
    struct kafka_produce *p = ctx;

    /* Nothing is queued once every begun batch has ended (flushed or
     * purged); a batch the runtime never ended is dropped with the producer. */
    while (p->runs != NULL) {
        struct kafka_produce_run *run = p->runs;
        p->runs = run->next;
        run_free(run);
    }
    producer_destroy(p);
    kafka_formats_destroy(p->formats);
    p->formats = NULL;
    for (size_t i = 0; i < p->nheaders; i++) {
        free(p->headers[i].override);
    }
    free(p->headers);
    p->headers = NULL;
    p->nheaders = 0;
    free(p->component_id);
    p->component_id = NULL;
    if (p->lock_ready) {
        pthread_mutex_destroy(&p->lock);
        p->lock_ready = 0;
    }
}

/* /metrics: delivered messages and their produce-to-acknowledgement time. */
void kafka_produce_metrics(void *ctx,
                           void (*sample)(void *opaque, const char *name, const char *labels,
                                          double value),
                           void *opaque)
{
    struct kafka_produce *p = ctx;
    sample(opaque, "connrt_produce_delivered_total", "", (double)atomic_load(&p->delivered));
    sample(opaque, "connrt_produce_latency_seconds_count", "",
           (double)atomic_load(&p->delivered));
    sample(opaque, "connrt_produce_latency_seconds_sum", "",
           (double)atomic_load(&p->latency_ms_sum) / 1000.0);
}
