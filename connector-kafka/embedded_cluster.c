/*
 * embedded_cluster.c - the mock Kafka cluster wrapper (see embedded_cluster.h).
 */
#include "embedded_cluster.h"

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* Kafka protocol API keys (fixed by the protocol). */
#define KAFKA_API_METADATA 3

struct kafka_embedded_cluster {
    rd_kafka_t *rk; /* dedicated handle hosting the mock; never used as a client */
    rd_kafka_mock_cluster_t *mock;
    int brokers;
    kafka_embedded_log_fn log;
    void *log_opaque;
};

static void embedded_log_cb(const rd_kafka_t *rk, int level, const char *fac, const char *buf)
{
    const kafka_embedded_cluster_t *c = rd_kafka_opaque(rk);

    (void)fac;
    if (c != NULL && c->log != NULL) {
        c->log(c->log_opaque, level, buf);
    }
}

static int conf_set(rd_kafka_conf_t *conf, const char *name, const char *value, char *errstr,
                    size_t errstr_size)
{
    char why[256];

    if (rd_kafka_conf_set(conf, name, value, why, sizeof(why)) != RD_KAFKA_CONF_OK) {
        snprintf(errstr, errstr_size, "embedded cluster: %s=%s: %s", name, value, why);
        return -1;
    }
    return 0;
}

/* The hosting handle: quiet (it has no bootstrap servers and would say so at
 * notice level) and able to receive requests as large as the largest
 * connector.kafka.max.request.size we allow, instead of the 100 MB default.
 * Its settings are also the mock brokers' socket settings: TCP_NODELAY, as a
 * Kafka broker sets it. Without it, responses to pipelined requests waited
 * behind the client's delayed ACK: 40 ms stalls at the end of a batch. */
static rd_kafka_t *embedded_handle_new(kafka_embedded_cluster_t *c, char *errstr,
                                       size_t errstr_size)
{
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    char why[256];
    rd_kafka_t *rk;

    if (conf_set(conf, "log_level", "4", errstr, errstr_size) != 0 ||
        conf_set(conf, "receive.message.max.bytes", "1100000000", errstr, errstr_size) != 0 ||
        conf_set(conf, "socket.nagle.disable", "true", errstr, errstr_size) != 0) {
        rd_kafka_conf_destroy(conf);
        return NULL;
    }
    rd_kafka_conf_set_opaque(conf, c);
    rd_kafka_conf_set_log_cb(conf, embedded_log_cb);
    rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, why, sizeof(why));
    if (rk == NULL) {
        rd_kafka_conf_destroy(conf);
        snprintf(errstr, errstr_size, "embedded cluster: cannot create its handle: %s", why);
    }
    return rk;
}

kafka_embedded_cluster_t *kafka_embedded_cluster_new(int brokers, kafka_embedded_log_fn log,
                                                     void *log_opaque, char *errstr,
                                                     size_t errstr_size)
{
    kafka_embedded_cluster_t *c;

    if (brokers < 1 || brokers > 64) {
        snprintf(errstr, errstr_size, "embedded cluster: broker count must be 1..64, got %d",
                 brokers);
        return NULL;
    }
    c = calloc(1, sizeof(*c));
    if (c == NULL) {
        snprintf(errstr, errstr_size, "embedded cluster: out of memory");
        return NULL;
    }
    c->brokers = brokers;
    c->log = log;
    c->log_opaque = log_opaque;
    c->rk = embedded_handle_new(c, errstr, errstr_size);
    if (c->rk == NULL) {
        free(c);
        return NULL;
    }
    c->mock = rd_kafka_mock_cluster_new(c->rk, brokers);
    if (c->mock == NULL) {
        snprintf(errstr, errstr_size, "embedded cluster: rd_kafka_mock_cluster_new failed");
        rd_kafka_destroy(c->rk);
        free(c);
        return NULL;
    }
    /* librdkafka 2.0.2's mock advertises Metadata v0-2, which has no
     * AllowAutoTopicCreation flag, so every Metadata request for an unknown
     * topic creates it and a producer can never hear "unknown topic". Its
     * handler reads the flag from v4 on, and v4 is also librdkafka's own
     * maximum, so advertise v4: clients with allow.auto.create.topics=false
     * (connrt's producer and consumer) then get UNKNOWN_TOPIC_OR_PART. */
    rd_kafka_mock_set_apiversion(c->mock, KAFKA_API_METADATA, 0, 4);
    return c;
}

void kafka_embedded_cluster_destroy(kafka_embedded_cluster_t *cluster)
{
    if (cluster == NULL) {
        return;
    }
    rd_kafka_mock_cluster_destroy(cluster->mock);
    rd_kafka_destroy(cluster->rk);
    free(cluster);
}

const char *kafka_embedded_cluster_bootstraps(const kafka_embedded_cluster_t *cluster)
{
    return rd_kafka_mock_cluster_bootstraps(cluster->mock);
}

int kafka_embedded_cluster_broker_count(const kafka_embedded_cluster_t *cluster)
{
    return cluster->brokers;
}

rd_kafka_mock_cluster_t *kafka_embedded_cluster_mock(kafka_embedded_cluster_t *cluster)
{
    return cluster->mock;
}

int kafka_embedded_cluster_create_topic(kafka_embedded_cluster_t *cluster, const char *name,
                                        int partitions, char *errstr, size_t errstr_size)
{
    rd_kafka_resp_err_t err;
    int replicas = cluster->brokers < 3 ? cluster->brokers : 3;

    if (name == NULL || *name == '\0') {
        snprintf(errstr, errstr_size, "topic name is empty");
        return -1;
    }
    if (partitions < 1 || partitions > 10000) {
        snprintf(errstr, errstr_size, "topic '%s': partitions must be 1..10000, got %d", name,
                 partitions);
        return -1;
    }
    err = rd_kafka_mock_topic_create(cluster->mock, name, partitions, replicas);
    if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
        snprintf(errstr, errstr_size, "topic '%s': %s", name, rd_kafka_err2str(err));
        return -1;
    }
    return 0;
}

/* ------------------------------------------------------------------------ */
/* Fault commands                                                           */
/* ------------------------------------------------------------------------ */

/* Protocol API names accepted by `error API ...`, with their keys. */
static const struct {
    const char *name;
    int16_t key;
} kafka_api_names[] = {
    {"Produce", 0},
    {"Fetch", 1},
    {"ListOffsets", 2},
    {"Metadata", 3},
    {"OffsetCommit", 8},
    {"OffsetFetch", 9},
    {"FindCoordinator", 10},
    {"JoinGroup", 11},
    {"Heartbeat", 12},
    {"LeaveGroup", 13},
    {"SyncGroup", 14},
    {"DescribeGroups", 15},
    {"ListGroups", 16},
    {"SaslHandshake", 17},
    {"ApiVersions", 18},
    {"CreateTopics", 19},
    {"DeleteTopics", 20},
    {"DeleteRecords", 21},
    {"InitProducerId", 22},
    {"OffsetForLeaderEpoch", 23},
    {"AddPartitionsToTxn", 24},
    {"AddOffsetsToTxn", 25},
    {"EndTxn", 26},
    {"TxnOffsetCommit", 28},
    {"DescribeConfigs", 32},
    {"AlterConfigs", 33},
    {"SaslAuthenticate", 36},
};

#define KAFKA_MAX_TOKENS 6

/* Split `line` (copied into buf) on blanks. Returns the token count, or -1
 * when the line has more than KAFKA_MAX_TOKENS tokens or does not fit. */
static int split_line(const char *line, char *buf, size_t bufsize, char **tok)
{
    size_t len = strlen(line);
    int n = 0;
    char *p = buf;

    if (len >= bufsize) {
        return -1;
    }
    memcpy(buf, line, len + 1);
    while (*p != '\0') {
        while (isspace((unsigned char)*p)) {
            *p++ = '\0';
        }
        if (*p == '\0') {
            break;
        }
        if (n == KAFKA_MAX_TOKENS) {
            return -1;
        }
        tok[n++] = p;
        while (*p != '\0' && !isspace((unsigned char)*p)) {
            p++;
        }
    }
    return n;
}

static int parse_long(const char *s, long min, long max, long *out)
{
    char *end;
    long v;

    errno = 0;
    v = strtol(s, &end, 10);
    if (errno != 0 || end == s || *end != '\0' || v < min || v > max) {
        return -1;
    }
    *out = v;
    return 0;
}

/* "all" -> -1, else a broker id of this cluster. */
static int parse_broker(const kafka_embedded_cluster_t *c, const char *s, int32_t *id,
                        char *errstr, size_t errstr_size)
{
    long v;

    if (strcmp(s, "all") == 0) {
        *id = -1;
        return 0;
    }
    if (parse_long(s, 1, c->brokers, &v) != 0) {
        snprintf(errstr, errstr_size, "broker '%s': expected 'all' or a broker id 1..%d", s,
                 c->brokers);
        return -1;
    }
    *id = (int32_t)v;
    return 0;
}

static int parse_api(const char *s, int16_t *key, char *errstr, size_t errstr_size)
{
    long v;

    for (size_t i = 0; i < sizeof(kafka_api_names) / sizeof(kafka_api_names[0]); i++) {
        if (strcasecmp(s, kafka_api_names[i].name) == 0) {
            *key = kafka_api_names[i].key;
            return 0;
        }
    }
    if (parse_long(s, 0, 100, &v) == 0) {
        *key = (int16_t)v;
        return 0;
    }
    snprintf(errstr, errstr_size,
             "unknown API '%s' (expected a name such as Produce, Fetch, Metadata, "
             "OffsetCommit, JoinGroup, or an API key number)",
             s);
    return -1;
}

/* An error name as librdkafka spells it (NOT_ENOUGH_REPLICAS, _TRANSPORT),
 * with or without RD_KAFKA_RESP_ERR_, or its number. */
static int parse_error(const char *s, rd_kafka_resp_err_t *err, char *errstr,
                       size_t errstr_size)
{
    static const char prefix[] = "RD_KAFKA_RESP_ERR_";
    const struct rd_kafka_err_desc *descs;
    size_t count;
    long v;

    if (strncasecmp(s, prefix, sizeof(prefix) - 1) == 0) {
        s += sizeof(prefix) - 1;
    }
    rd_kafka_get_err_descs(&descs, &count);
    for (size_t i = 0; i < count; i++) {
        if (descs[i].name != NULL && strcasecmp(descs[i].name, s) == 0) {
            *err = descs[i].code;
            return 0;
        }
    }
    if (parse_long(s, -200, 200, &v) == 0) {
        *err = (rd_kafka_resp_err_t)v;
        return 0;
    }
    snprintf(errstr, errstr_size,
             "unknown error '%s' (expected a Kafka error name such as NOT_ENOUGH_REPLICAS, "
             "_TRANSPORT, or its number)",
             s);
    return -1;
}

static int mock_result(rd_kafka_resp_err_t err, const char *what, char *errstr,
                       size_t errstr_size)
{
    if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
        snprintf(errstr, errstr_size, "%s: %s", what, rd_kafka_err2str(err));
        return -1;
    }
    return 0;
}

static int cmd_broker(kafka_embedded_cluster_t *c, char **tok, int n, char *errstr,
                      size_t errstr_size)
{
    int32_t id;

    if (n != 3 || (strcmp(tok[1], "down") != 0 && strcmp(tok[1], "up") != 0)) {
        snprintf(errstr, errstr_size, "usage: broker down|up ID|all");
        return -1;
    }
    if (parse_broker(c, tok[2], &id, errstr, errstr_size) != 0) {
        return -1;
    }
    if (strcmp(tok[1], "down") == 0) {
        return mock_result(rd_kafka_mock_broker_set_down(c->mock, id), "broker down", errstr,
                           errstr_size);
    }
    return mock_result(rd_kafka_mock_broker_set_up(c->mock, id), "broker up", errstr,
                       errstr_size);
}

static int cmd_rtt(kafka_embedded_cluster_t *c, char **tok, int n, char *errstr,
                   size_t errstr_size)
{
    int32_t id;
    long ms;

    if (n != 3) {
        snprintf(errstr, errstr_size, "usage: rtt ID|all MS");
        return -1;
    }
    if (parse_broker(c, tok[1], &id, errstr, errstr_size) != 0) {
        return -1;
    }
    if (parse_long(tok[2], 0, 3600000, &ms) != 0) {
        snprintf(errstr, errstr_size, "rtt '%s': expected milliseconds 0..3600000", tok[2]);
        return -1;
    }
    return mock_result(rd_kafka_mock_broker_set_rtt(c->mock, id, (int)ms), "rtt", errstr,
                       errstr_size);
}

/* `error clear API|all`: drop the errors pushed for API (or for every API)
 * that no request has taken yet, so that one rehearsal does not leak into
 * the next. */
static int cmd_error_clear(kafka_embedded_cluster_t *c, const char *api, char *errstr,
                           size_t errstr_size)
{
    int16_t key;

    if (strcmp(api, "all") == 0) {
        for (int16_t k = 0; k <= 100; k++) {
            rd_kafka_mock_clear_request_errors(c->mock, k);
        }
        return 0;
    }
    if (parse_api(api, &key, errstr, errstr_size) != 0) {
        return -1;
    }
    rd_kafka_mock_clear_request_errors(c->mock, key);
    return 0;
}

static int cmd_error(kafka_embedded_cluster_t *c, char **tok, int n, char *errstr,
                     size_t errstr_size)
{
    rd_kafka_resp_err_t errs[1000];
    rd_kafka_resp_err_t err;
    int16_t key;
    long count;

    if (n == 3 && strcmp(tok[1], "clear") == 0) {
        return cmd_error_clear(c, tok[2], errstr, errstr_size);
    }
    if (n != 4) {
        snprintf(errstr, errstr_size, "usage: error API COUNT ERROR_NAME, or error clear API|all");
        return -1;
    }
    if (parse_api(tok[1], &key, errstr, errstr_size) != 0) {
        return -1;
    }
    if (parse_long(tok[2], 1, (long)(sizeof(errs) / sizeof(errs[0])), &count) != 0) {
        snprintf(errstr, errstr_size, "count '%s': expected 1..%zu", tok[2],
                 sizeof(errs) / sizeof(errs[0]));
        return -1;
    }
    if (parse_error(tok[3], &err, errstr, errstr_size) != 0) {
        return -1;
    }
    for (long i = 0; i < count; i++) {
        errs[i] = err;
    }
    rd_kafka_mock_push_request_errors_array(c->mock, key, (size_t)count, errs);
    return 0;
}

static int cmd_topic(kafka_embedded_cluster_t *c, char **tok, int n, char *errstr,
                     size_t errstr_size)
{
    long parts;

    if (n != 3) {
        snprintf(errstr, errstr_size, "usage: topic NAME PARTITIONS");
        return -1;
    }
    if (parse_long(tok[2], 1, 10000, &parts) != 0) {
        snprintf(errstr, errstr_size, "partitions '%s': expected 1..10000", tok[2]);
        return -1;
    }
    return kafka_embedded_cluster_create_topic(c, tok[1], (int)parts, errstr, errstr_size);
}

/* `topic-error NAME ERROR_NAME`: the topic's entry in every Metadata
 * answer carries ERROR_NAME (NO_ERROR takes it away). */
static int cmd_topic_error(kafka_embedded_cluster_t *c, char **tok, int n, char *errstr,
                           size_t errstr_size)
{
    rd_kafka_resp_err_t err;

    if (n != 3) {
        snprintf(errstr, errstr_size, "usage: topic-error NAME ERROR_NAME");
        return -1;
    }
    if (parse_error(tok[2], &err, errstr, errstr_size) != 0) {
        return -1;
    }
    rd_kafka_mock_topic_set_error(c->mock, tok[1], err);
    return 0;
}

int kafka_embedded_cluster_command(kafka_embedded_cluster_t *cluster, const char *line,
                                   char *errstr, size_t errstr_size)
{
    char buf[1024];
    char *tok[KAFKA_MAX_TOKENS];
    int n = split_line(line, buf, sizeof(buf), tok);

    if (n < 0) {
        snprintf(errstr, errstr_size, "command too long or too many words");
        return -1;
    }
    if (n == 0) {
        snprintf(errstr, errstr_size, "empty command");
        return -1;
    }
    if (strcmp(tok[0], "broker") == 0) {
        return cmd_broker(cluster, tok, n, errstr, errstr_size);
    }
    if (strcmp(tok[0], "rtt") == 0) {
        return cmd_rtt(cluster, tok, n, errstr, errstr_size);
    }
    if (strcmp(tok[0], "error") == 0) {
        return cmd_error(cluster, tok, n, errstr, errstr_size);
    }
    if (strcmp(tok[0], "topic") == 0) {
        return cmd_topic(cluster, tok, n, errstr, errstr_size);
    }
    if (strcmp(tok[0], "topic-error") == 0) {
        return cmd_topic_error(cluster, tok, n, errstr, errstr_size);
    }
    snprintf(errstr, errstr_size,
             "unknown command '%s' (expected broker, rtt, error, topic or topic-error)",
             tok[0]);
    return -1;
}

/* ------------------------------------------------------------------------ */
/* The shared cluster                                                       */
/* ------------------------------------------------------------------------ */

static pthread_mutex_t shared_lock = PTHREAD_MUTEX_INITIALIZER;
static kafka_embedded_cluster_t *shared_cluster;
static unsigned shared_refs;

int kafka_embedded_shared_acquire(kafka_embedded_log_fn log, void *log_opaque,
                                  kafka_embedded_cluster_t **cluster, char *errstr,
                                  size_t errstr_size)
{
    int rc = 0;

    pthread_mutex_lock(&shared_lock);
    if (shared_cluster == NULL) {
        shared_cluster = kafka_embedded_cluster_new(1, log, log_opaque, errstr, errstr_size);
    }
    if (shared_cluster == NULL) {
        rc = -1;
    } else {
        shared_refs++;
        *cluster = shared_cluster;
    }
    pthread_mutex_unlock(&shared_lock);
    return rc;
}

void kafka_embedded_shared_release(void)
{
    kafka_embedded_cluster_t *last = NULL;

    pthread_mutex_lock(&shared_lock);
    if (shared_refs > 0 && --shared_refs == 0) {
        last = shared_cluster;
        shared_cluster = NULL;
    }
    pthread_mutex_unlock(&shared_lock);
    kafka_embedded_cluster_destroy(last);
}
