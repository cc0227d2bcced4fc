/*
 * test_kafka_connector.c - the Kafka plugin driven through the ABI (no XML)
 * against the embedded cluster: what a user would check of produce and
 * consume, commit offset, and that what is not implemented says so.
 *
 * The plugin's sources are linked in (connrt_connector_entry() is called
 * directly), so this program shares the plugin's embedded cluster and can
 * create topics on it.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include <connrt/connector.h>
#include <librdkafka/rdkafka.h>

#include "connector-kafka/embedded_cluster.h"
#include "properties/java_properties.h"
#include "properties/settings.h"
#include "runtime/arena.h"
#include "runtime/batch.h"
#include "runtime/document.h"
#include "runtime/host.h"

static const struct connrt_host *host;
static const struct connrt_connector *kafka;
static connrt_settings_t *conn_settings;
static void *conn;
static kafka_embedded_cluster_t *cluster;

/* ------------------------------------------------------------------------ */
/* Helpers                                                                  */
/* ------------------------------------------------------------------------ */

static long long now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Java's murmur2 (org.apache.kafka.common.utils.Utils.murmur2), written
 * from Kafka's source independently of librdkafka's. */
static int32_t java_murmur2(const void *key, size_t len)
{
    const uint32_t m = 0x5bd1e995;
    const unsigned char *d = key;
    uint32_t h = 0x9747b28cu ^ (uint32_t)len;
    size_t tail = len & ~(size_t)3;

    for (size_t i = 0; i < tail; i += 4) {
        uint32_t k = (uint32_t)d[i] | (uint32_t)d[i + 1] << 8 | (uint32_t)d[i + 2] << 16 |
                     (uint32_t)d[i + 3] << 24;
        k *= m;
        k ^= k >> 24;
        k *= m;
        h *= m;
        h ^= k;
    }
    switch (len & 3) {
    case 3:
        h ^= (uint32_t)d[tail + 2] << 16;
        /* fall through */
    case 2:
        h ^= (uint32_t)d[tail + 1] << 8;
        /* fall through */
    case 1:
        h ^= d[tail];
        h *= m;
        break;
    default:
        break;
    }
    h ^= h >> 13;
    h *= m;
    h ^= h >> 15;
    return (int32_t)h;
}

/* Kafka's DefaultPartitioner: toPositive(murmur2(key)) % partitions. */
static int java_partition(const char *key, int partitions)
{
    return (int)(((uint32_t)java_murmur2(key, strlen(key)) & 0x7fffffffu) %
                 (uint32_t)partitions);
}

/* A topic no other test uses. */
static const char *new_topic(const char *base, int partitions)
{
    static char names[64][64];
    static int n;
    char errstr[256];
    char *name = names[n++ % 64];

    snprintf(name, sizeof(names[0]), "%s-%d-%lld", base, n, now_ms());
    assert_int_equal(
        kafka_embedded_cluster_create_topic(cluster, name, partitions, errstr, sizeof(errstr)),
        0);
    return name;
}

static connrt_settings_t *resolve(const struct connrt_property_def *table, const char *const *kv,
                                  const char *container_text)
{
    struct connrt_setting_value values[32];
    connrt_jprops_t *container = NULL;
    connrt_settings_t *s;
    char errstr[512] = "";
    size_t n = 0;

    for (; kv != NULL && kv[2 * n] != NULL; n++) {
        values[n].name = kv[2 * n];
        values[n].value = kv[2 * n + 1];
    }
    if (container_text != NULL) {
        container = connrt_jprops_parse(container_text, strlen(container_text),
                                        "container.properties", errstr, sizeof(errstr));
        assert_non_null(container);
    }
    s = connrt_settings_resolve(table, values, n, kafka->container_properties, container,
                                "connector.kafka.", errstr, sizeof(errstr));
    if (s == NULL) {
        fail_msg("settings: %s", errstr);
    }
    connrt_jprops_destroy(container);
    return s;
}

struct op {
    const struct connrt_operation *def;
    connrt_settings_t *settings;
    void *ctx;
};

static const struct connrt_operation *operation(const char *type)
{
    for (const struct connrt_operation *o = kafka->operations; o->type != NULL; o++) {
        if (strcmp(o->type, type) == 0) {
            return o;
        }
    }
    fail_msg("no operation %s", type);
    return NULL;
}

/* Open operation `type` with NAME, VALUE, ..., NULL and container.properties
 * text (may be NULL). Returns open's status; errstr gets its message. */
static int op_try_open(struct op *op, const char *type, const char *const *kv,
                       const char *container_text, char *errstr, size_t errstr_size)
{
    int rc;

    op->def = operation(type);
    op->settings = resolve(op->def->properties, kv, container_text);
    op->ctx = calloc(1, op->def->context_size);
    assert_non_null(op->ctx);
    rc = op->def->open(op->ctx, host, conn, op->settings, type, errstr, errstr_size);
    if (rc != 0) {
        free(op->ctx);
        op->ctx = NULL;
        connrt_settings_destroy(op->settings);
        op->settings = NULL;
    }
    return rc;
}

static void op_open(struct op *op, const char *type, const char *const *kv,
                    const char *container_text)
{
    char errstr[512] = "";

    if (op_try_open(op, type, kv, container_text, errstr, sizeof(errstr)) != 0) {
        fail_msg("open %s: %s", type, errstr);
    }
}

static void op_close(struct op *op)
{
    if (op->ctx != NULL) {
        op->def->close(op->ctx);
    }
    free(op->ctx);
    connrt_settings_destroy(op->settings);
}

struct run {
    connrt_arena_t *arena;
    connrt_batch_t *batch;
};

static void run_new(struct run *r)
{
    r->arena = connrt_arena_new();
    assert_non_null(r->arena);
    r->batch = connrt_batch_new(r->arena);
    assert_non_null(r->batch);
}

static void run_free(struct run *r)
{
    connrt_batch_destroy(r->batch);
    connrt_arena_destroy(r->arena);
}

static connrt_document_t *add_doc(struct run *r, const void *payload, size_t len,
                                  const char *key, const char *topic)
{
    connrt_document_t *doc = connrt_document_new(r->arena, payload, len);

    assert_non_null(doc);
    if (key != NULL) {
        assert_int_equal(connrt_document_set_property(doc, "connector.kafka.key", key), 0);
    }
    if (topic != NULL) {
        assert_int_equal(connrt_document_set_property(doc, "connector.kafka.topic", topic), 0);
    }
    assert_int_equal(connrt_batch_add_input(r->batch, doc), 0);
    return doc;
}

static int execute(struct op *op, struct run *r, char *errstr, size_t errstr_size)
{
    return op->def->execute(op->ctx, r->batch, errstr, errstr_size);
}

static void execute_ok(struct op *op, struct run *r)
{
    char errstr[512] = "";

    if (execute(op, r, errstr, sizeof(errstr)) != 0) {
        fail_msg("execute %s: %s", op->def->type, errstr);
    }
}

static void assert_success(struct run *r, size_t i)
{
    const char *message = NULL;
    connrt_result_state_t state = connrt_batch_result(r->batch, i, &message);

    if (state != CONNRT_RESULT_SUCCESS) {
        fail_msg("document %zu: expected success, got state %d (%s)", i + 1, (int)state,
                 message ? message : "no message");
    }
}

static void assert_app_error(struct run *r, size_t i, const char *expected_part)
{
    const char *message = NULL;
    connrt_result_state_t state = connrt_batch_result(r->batch, i, &message);

    assert_int_equal(state, CONNRT_RESULT_APPLICATION_ERROR);
    assert_non_null(message);
    if (strstr(message, expected_part) == NULL) {
        fail_msg("document %zu: message '%s' lacks '%s'", i + 1, message, expected_part);
    }
}

static long long tracked_int(const connrt_document_t *doc, const char *name)
{
    const char *v = connrt_document_get_tracked(doc, name);

    if (v == NULL) {
        fail_msg("tracked property %s missing", name);
    }
    return strtoll(v, NULL, 10);
}

/* Produce `n` documents "value-I" with keys "key-I" to `topic`. */
static void produce_values(const char *topic, int n, const char *prefix)
{
    const char *kv[] = {"topic", topic, NULL};
    struct op op;
    struct run r;

    op_open(&op, "produce", kv, NULL);
    run_new(&r);
    for (int i = 0; i < n; i++) {
        char value[64], key[64];
        snprintf(value, sizeof(value), "%s-%d", prefix, i);
        snprintf(key, sizeof(key), "key-%d", i);
        add_doc(&r, value, strlen(value), key, NULL);
    }
    execute_ok(&op, &r);
    for (int i = 0; i < n; i++) {
        assert_success(&r, (size_t)i);
    }
    run_free(&r);
    op_close(&op);
}

/* A consume step's emitted documents, as payload strings. */
static size_t emitted_payload(struct run *r, size_t i, char *buf, size_t bufsize)
{
    const char *message = NULL;
    connrt_document_t *doc = connrt_batch_emitted_at(r->batch, i, &message);
    size_t len;
    const char *p = connrt_document_payload(doc, &len);

    assert_null(message);
    snprintf(buf, bufsize, "%.*s", (int)len, p);
    return len;
}

/* Consume once: returns the run (caller frees). */
static void consume_once(struct run *r, const char *topic, const char *group, int min,
                         const char *max_wait, const char *autocommit,
                         const char *container_text)
{
    char minbuf[16];
    struct op op;

    snprintf(minbuf, sizeof(minbuf), "%d", min);
    const char *kv[] = {"topic", topic, "consumer_group", group, "min_messages", minbuf,
                        "max_wait_ms", max_wait, "autocommit", autocommit, NULL};
    op_open(&op, "consume", kv, container_text);
    run_new(r);
    execute_ok(&op, r);
    op_close(&op);
}

/* Highest offset + 1 summed over partitions: what the cluster holds. */
static long long messages_in(const char *topic, int partitions)
{
    char errstr[512];
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    long long total = 0;
    rd_kafka_t *rk;

    assert_int_equal(rd_kafka_conf_set(conf, "bootstrap.servers",
                                       kafka_embedded_cluster_bootstraps(cluster), errstr,
                                       sizeof(errstr)),
                     RD_KAFKA_CONF_OK);
    rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, errstr, sizeof(errstr));
    assert_non_null(rk);
    for (int p = 0; p < partitions; p++) {
        int64_t lo, hi;
        assert_int_equal(rd_kafka_query_watermark_offsets(rk, topic, p, &lo, &hi, 10000),
                         RD_KAFKA_RESP_ERR_NO_ERROR);
        total += hi;
    }
    rd_kafka_destroy(rk);
    return total;
}

/* The group's committed offset of topic/partition (-1001: none) and its
 * metadata (copied into `metadata`). */
static long long committed_at(const char *topic, int partition, const char *group,
                              char *metadata, size_t metadata_size)
{
    char errstr[512];
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    rd_kafka_topic_partition_list_t *l = rd_kafka_topic_partition_list_new(1);
    long long offset;
    rd_kafka_t *rk;

    assert_int_equal(rd_kafka_conf_set(conf, "bootstrap.servers",
                                       kafka_embedded_cluster_bootstraps(cluster), errstr,
                                       sizeof(errstr)),
                     RD_KAFKA_CONF_OK);
    assert_int_equal(rd_kafka_conf_set(conf, "group.id", group, errstr, sizeof(errstr)),
                     RD_KAFKA_CONF_OK);
    rk = rd_kafka_new(RD_KAFKA_CONSUMER, conf, errstr, sizeof(errstr));
    assert_non_null(rk);
    rd_kafka_topic_partition_list_add(l, topic, partition);
    assert_int_equal(rd_kafka_committed(rk, l, 10000), RD_KAFKA_RESP_ERR_NO_ERROR);
    offset = l->elems[0].offset;
    snprintf(metadata, metadata_size, "%.*s", (int)l->elems[0].metadata_size,
             l->elems[0].metadata ? (const char *)l->elems[0].metadata : "");
    rd_kafka_topic_partition_list_destroy(l);
    rd_kafka_destroy(rk);
    return offset;
}

/* The group's committed offset of topic/partition 0 (-1001: none). */
static long long committed_offset(const char *topic, const char *group)
{
    char metadata[8];

    return committed_at(topic, 0, group, metadata, sizeof(metadata));
}

/* ------------------------------------------------------------------------ */
/* Fixture: one embedded connection for the whole run                       */
/* ------------------------------------------------------------------------ */

static int group_setup(void **state)
{
    const char *kv[] = {"bootstrap_servers", "embedded", NULL};
    char errstr[512] = "";

    (void)state;
    connrt_host_set_log_level(getenv("CONNRT_TEST_DEBUG") ? CONNRT_LOG_DEBUG
                                                          : CONNRT_LOG_WARNING);
    host = connrt_host_services();
    kafka = connrt_connector_entry();
    conn_settings = resolve(kafka->connection_properties, kv, NULL);
    if (kafka->connection_open(host, conn_settings, "test-connection", NULL, &conn, errstr,
                               sizeof(errstr)) != 0) {
        fprintf(stderr, "connection_open: %s\n", errstr);
        return -1;
    }
    /* A second reference: the same cluster, to create topics on. */
    if (kafka_embedded_shared_acquire(NULL, NULL, &cluster, errstr, sizeof(errstr)) != 0) {
        fprintf(stderr, "embedded cluster: %s\n", errstr);
        return -1;
    }
    return 0;
}

static int group_teardown(void **state)
{
    (void)state;
    kafka->connection_close(conn);
    kafka_embedded_shared_release();
    connrt_settings_destroy(conn_settings);
    return 0;
}

/* ------------------------------------------------------------------------ */
/* Descriptor and connection                                                */
/* ------------------------------------------------------------------------ */

static void murmur2__kafka_reference_vectors__match(void **state)
{
    (void)state;
    /* Values from Kafka's UtilsTest (and kafka-python). */
    assert_int_equal(java_murmur2("21", 2), -973932308);
    assert_int_equal(java_murmur2("foobar", 6), -790332482);
    assert_int_equal(java_murmur2("a-little-bit-long-string", 24), -985981536);
    assert_int_equal(java_murmur2("a-little-bit-longer-string", 26), -1486304829);
    assert_int_equal(java_murmur2("abc", 3), 479470107);
}

static void entry__descriptor__kafka_with_four_operations(void **state)
{
    const char *types[] = {"produce", "consume", "commit_offset", "listen"};

    (void)state;
    assert_int_equal(CONNRT_ABI_MAJOR(kafka->abi_version), CONNRT_ABI_VERSION_MAJOR);
    assert_int_equal(kafka->struct_size, sizeof(struct connrt_connector));
    assert_string_equal(kafka->name, "kafka");
    for (size_t i = 0; i < 4; i++) {
        assert_non_null(operation(types[i]));
    }
    assert_true(operation("consume")->can_start);
    assert_false(operation("produce")->can_start);
    assert_int_equal(operation("listen")->kind, CONNRT_OP_LISTEN);
}

static void connection_properties__secrets__flagged_secret(void **state)
{
    const char *secrets[] = {"password", "oauth_client_secret", "ssl_key_password", "ssl_key"};

    (void)state;
    for (size_t i = 0; i < sizeof(secrets) / sizeof(secrets[0]); i++) {
        const struct connrt_property_def *d = kafka->connection_properties;
        while (d->name != NULL && strcmp(d->name, secrets[i]) != 0) {
            d++;
        }
        assert_non_null(d->name);
        assert_true(d->flags & CONNRT_PROP_F_SECRET);
    }
}

#define REPORT_SIZE 8192

static void append_line(void *opaque, const char *line)
{
    char *buf = opaque;
    size_t len = strlen(buf);

    snprintf(buf + len, REPORT_SIZE - len, "%s\n", line);
}

static void connection_test__embedded__lists_brokers_and_topics(void **state)
{
    char report[REPORT_SIZE] = "";
    char errstr[512] = "";
    const char *topic = new_topic("listed", 3);

    (void)state;
    assert_int_equal(
        kafka->connection_test(conn, append_line, report, errstr, sizeof(errstr)), 0);
    assert_non_null(strstr(report, "1 broker(s)"));
    assert_non_null(strstr(report, topic));
    assert_non_null(strstr(report, "3 partition(s)"));
}

static int open_connection(const char *const *kv, char *errstr, size_t errstr_size)
{
    connrt_settings_t *s = resolve(kafka->connection_properties, kv, NULL);
    void *c = NULL;
    int rc = kafka->connection_open(host, s, "bad", NULL, &c, errstr, errstr_size);

    if (rc == 0) {
        kafka->connection_close(c);
    }
    connrt_settings_destroy(s);
    return rc;
}

static void connection_open__sasl_ssl_without_mechanism__refused_naming_it(void **state)
{
    const char *kv[] = {"bootstrap_servers", "broker:9093", "security_protocol", "SASL_SSL",
                        NULL};
    char errstr[512] = "";

    (void)state;
    assert_int_not_equal(open_connection(kv, errstr, sizeof(errstr)), 0);
    assert_non_null(strstr(errstr, "security_protocol=SASL_SSL needs sasl_mechanism"));
}

static void connection_open__password__refused_without_echoing_it(void **state)
{
    const char *kv[] = {"bootstrap_servers", "broker:9092", "password", "hunter2-secret",
                        "security_protocol", "SASL_PLAINTEXT", "sasl_mechanism", "PLAIN", NULL};
    char errstr[512] = "";

    (void)state;
    assert_int_not_equal(open_connection(kv, errstr, sizeof(errstr)), 0);
    assert_non_null(strstr(errstr, "sasl_mechanism=PLAIN needs username and password"));
    assert_null(strstr(errstr, "hunter2"));
}

static void connection_open__managed_passthrough__refused_naming_property(void **state)
{
    const char *kv[] = {"bootstrap_servers", "broker:9092", "librdkafka.acks", "1", NULL};
    const char *kv2[] = {"bootstrap_servers", "broker:9092", "librdkafka.test.mock.num.brokers",
                         "3", NULL};
    char errstr[512] = "";

    (void)state;
    assert_int_not_equal(open_connection(kv, errstr, sizeof(errstr)), 0);
    assert_non_null(strstr(errstr, "librdkafka.acks"));
    assert_non_null(strstr(errstr, "manages"));
    assert_int_not_equal(open_connection(kv2, errstr, sizeof(errstr)), 0);
    assert_non_null(strstr(errstr, "librdkafka.test.mock.num.brokers"));
}

static void connection_open__unknown_passthrough__refused_naming_property(void **state)
{
    const char *kv[] = {"bootstrap_servers", "broker:9092", "librdkafka.no.such.thing", "1",
                        NULL};
    const char *ok[] = {"bootstrap_servers", "broker:9092", "librdkafka.socket.timeout.ms",
                        "5000", NULL};
    char errstr[512] = "";

    (void)state;
    assert_int_not_equal(open_connection(kv, errstr, sizeof(errstr)), 0);
    assert_non_null(strstr(errstr, "librdkafka.no.such.thing"));
    assert_int_equal(open_connection(ok, errstr, sizeof(errstr)), 0);
}

static void connection_open__embedded_topics__created_with_partitions(void **state)
{
    const char *kv[] = {"bootstrap_servers", "embedded", "embedded_topics",
                        "preset-a:3, preset-b\npreset-a:3", NULL};
    connrt_settings_t *s = resolve(kafka->connection_properties, kv, NULL);
    char report[REPORT_SIZE] = "";
    char errstr[512] = "";
    void *c = NULL;

    (void)state;
    assert_int_equal(kafka->connection_open(host, s, "topics", NULL, &c, errstr, sizeof(errstr)),
                     0);
    assert_int_equal(kafka->connection_test(c, append_line, report, errstr, sizeof(errstr)), 0);
    assert_non_null(strstr(report, "topic preset-a: 3 partition(s)"));
    assert_non_null(strstr(report, "topic preset-b: 1 partition(s)"));
    kafka->connection_close(c);
    connrt_settings_destroy(s);
}

static void connection_open__embedded_topics_bad__refused_naming_it(void **state)
{
    const char *bad[] = {"bootstrap_servers", "embedded", "embedded_topics", "t:0", NULL};
    const char *remote[] = {"bootstrap_servers", "broker:9092", "embedded_topics", "t:1", NULL};
    char errstr[512] = "";

    (void)state;
    assert_int_not_equal(open_connection(bad, errstr, sizeof(errstr)), 0);
    assert_non_null(strstr(errstr, "embedded_topics: 't:0'"));
    assert_int_not_equal(open_connection(remote, errstr, sizeof(errstr)), 0);
    assert_non_null(strstr(errstr, "only to bootstrap_servers=embedded"));
}

/* ------------------------------------------------------------------------ */
/* Produce                                                                  */
/* ------------------------------------------------------------------------ */

static void produce__keyed_documents__partition_is_java_murmur2(void **state)
{
    const int partitions = 6, n = 30;
    const char *topic = new_topic("keyed", partitions);
    const char *kv[] = {"topic", topic, NULL};
    struct op op;
    struct run r;
    char keys[30][32];

    (void)state;
    op_open(&op, "produce", kv, NULL);
    run_new(&r);
    for (int i = 0; i < n; i++) {
        snprintf(keys[i], sizeof(keys[i]), "customer-%d", i * 7919);
        add_doc(&r, "{}", 2, keys[i], NULL);
    }
    execute_ok(&op, &r);
    for (int i = 0; i < n; i++) {
        connrt_document_t *doc = connrt_batch_input_at(r.batch, (size_t)i);
        assert_success(&r, (size_t)i);
        assert_string_equal(connrt_document_get_tracked(doc, "kafka.topic"), topic);
        assert_string_equal(connrt_document_get_tracked(doc, "kafka.key"), keys[i]);
        assert_int_equal(tracked_int(doc, "kafka.partition"), java_partition(keys[i], partitions));
        assert_true(tracked_int(doc, "kafka.offset") >= 0);
        assert_true(tracked_int(doc, "kafka.timestamp") > 1600000000000LL);
    }
    assert_int_equal(messages_in(topic, partitions), n);
    run_free(&r);
    op_close(&op);
}

static void produce__unknown_topic__only_that_document_fails(void **state)
{
    const char *topic = new_topic("known", 2);
    const char *kv[] = {"topic", topic, NULL};
    struct op op;
    struct run r;

    (void)state;
    op_open(&op, "produce", kv, NULL);
    run_new(&r);
    add_doc(&r, "a", 1, NULL, NULL);
    add_doc(&r, "b", 1, NULL, "no-such-topic");
    add_doc(&r, "c", 1, NULL, NULL);
    execute_ok(&op, &r);
    assert_success(&r, 0);
    assert_app_error(&r, 1, "unknown topic 'no-such-topic'");
    assert_success(&r, 2);
    assert_int_equal(messages_in(topic, 2), 2);
    run_free(&r);
    op_close(&op);
}

static void produce__no_topic_anywhere__application_error(void **state)
{
    struct op op;
    struct run r;

    (void)state;
    op_open(&op, "produce", NULL, NULL);
    run_new(&r);
    add_doc(&r, "a", 1, NULL, NULL);
    execute_ok(&op, &r);
    assert_app_error(&r, 0, "no topic");
    run_free(&r);
    op_close(&op);
}

static void produce__oversize_document__application_error_before_sending(void **state)
{
    const char *topic = new_topic("oversize", 1);
    const char *kv[] = {"topic", topic, NULL};
    char big[2000];
    struct op op;
    struct run r;

    (void)state;
    memset(big, 'x', sizeof(big));
    op_open(&op, "produce", kv, "connector.kafka.max.request.size=1024\n");
    run_new(&r);
    add_doc(&r, "small", 5, NULL, NULL);
    add_doc(&r, big, sizeof(big), NULL, NULL);
    add_doc(&r, "small", 5, NULL, NULL);
    execute_ok(&op, &r);
    assert_success(&r, 0);
    assert_app_error(&r, 1,
                     "2000 bytes exceed connector.kafka.max.request.size (1024)");
    assert_success(&r, 2);
    assert_int_equal(messages_in(topic, 1), 2);
    run_free(&r);
    op_close(&op);
}

static void produce__acks_1_with_idempotence__open_refused(void **state)
{
    const char *kv[] = {"topic", "t", "acks", "1", NULL};
    char errstr[512] = "";
    struct op op;

    (void)state;
    assert_int_not_equal(op_try_open(&op, "produce", kv, NULL, errstr, sizeof(errstr)), 0);
    assert_non_null(strstr(errstr, "idempotence=false"));
}

static void produce__broker_rejects_then_accepts__no_loss_no_duplicate(void **state)
{
    const char *topic = new_topic("retried", 1);
    char errstr[256];

    (void)state;
    assert_int_equal(kafka_embedded_cluster_command(cluster, "error Produce 3 NOT_ENOUGH_REPLICAS",
                                                    errstr, sizeof(errstr)),
                     0);
    produce_values(topic, 10, "r"); /* asserts every document succeeded */
    assert_int_equal(messages_in(topic, 1), 10);
}

/* Last of the produce tests: it takes the cluster down for a while. */
static void produce__all_brokers_down__documents_time_out_as_application_errors(void **state)
{
    const char *topic = new_topic("down", 1);
    const char *kv[] = {"topic", topic, "message_timeout_ms", "1500", NULL};
    rd_kafka_mock_cluster_t *mock = kafka_embedded_cluster_mock(cluster);
    long long start;
    struct op op;
    struct run r;

    (void)state;
    op_open(&op, "produce", kv, NULL);
    assert_int_equal(rd_kafka_mock_broker_set_down(mock, -1), RD_KAFKA_RESP_ERR_NO_ERROR);
    run_new(&r);
    add_doc(&r, "a", 1, NULL, NULL);
    add_doc(&r, "b", 1, NULL, NULL);
    start = now_ms();
    execute_ok(&op, &r);
    assert_true(now_ms() - start < 1500 + 5000 + 2000);
    assert_int_equal(rd_kafka_mock_broker_set_up(mock, -1), RD_KAFKA_RESP_ERR_NO_ERROR);
    assert_app_error(&r, 0, "timed out");
    assert_app_error(&r, 1, "timed out");
    run_free(&r);
    op_close(&op);
}

/* ------------------------------------------------------------------------ */
/* Consume                                                                  */
/* ------------------------------------------------------------------------ */

static void consume__produced_documents__tracked_properties_and_headers_intact(void **state)
{
    const char *topic = new_topic("roundtrip", 3);
    const char *kv[] = {"topic", topic, "header.source", "connrt-test", NULL};
    struct op op;
    struct run r, c;
    int seen[3] = {0, 0, 0};

    (void)state;
    op_open(&op, "produce", kv, NULL);
    run_new(&r);
    for (int i = 0; i < 3; i++) {
        char value[32], key[32];
        connrt_document_t *doc;
        snprintf(value, sizeof(value), "{\"n\":%d}", i);
        snprintf(key, sizeof(key), "k%d", i);
        doc = add_doc(&r, value, strlen(value), key, NULL);
        assert_int_equal(connrt_document_set_property(doc, "connector.kafka.header.trace",
                                                      key), 0);
    }
    execute_ok(&op, &r);
    run_free(&r);
    op_close(&op);

    consume_once(&c, topic, "g-roundtrip", 3, "20000", "false",
                 "connector.kafka.max.poll.records=10\n");
    assert_int_equal(connrt_batch_emitted_count(c.batch), 3);
    for (size_t i = 0; i < 3; i++) {
        const char *message = NULL;
        connrt_document_t *doc = connrt_batch_emitted_at(c.batch, i, &message);
        const char *key = connrt_document_get_tracked(doc, "kafka.key");
        char payload[64], expected[64];
        int n;
        assert_null(message);
        assert_non_null(key);
        n = key[1] - '0';
        assert_in_range(n, 0, 2);
        seen[n]++;
        emitted_payload(&c, i, payload, sizeof(payload));
        snprintf(expected, sizeof(expected), "{\"n\":%d}", n);
        assert_string_equal(payload, expected);
        assert_string_equal(connrt_document_get_tracked(doc, "kafka.topic"), topic);
        assert_string_equal(connrt_document_get_property(doc, "connector.kafka.topic"), topic);
        assert_string_equal(connrt_document_get_property(doc, "connector.kafka.key"), key);
        assert_int_equal(tracked_int(doc, "kafka.partition"), java_partition(key, 3));
        assert_true(tracked_int(doc, "kafka.offset") >= 0);
        assert_true(tracked_int(doc, "kafka.timestamp") > 1600000000000LL);
        assert_string_equal(connrt_document_get_tracked(doc, "kafka.header.source"),
                            "connrt-test");
        assert_string_equal(connrt_document_get_tracked(doc, "kafka.header.trace"), key);
    }
    assert_int_equal(seen[0] + seen[1] + seen[2], 3);
    assert_true(seen[0] == 1 && seen[1] == 1 && seen[2] == 1);
    run_free(&c);
}

static void consume__max_poll_records_3_min_messages_5__returns_6(void **state)
{
    const char *topic = new_topic("steps", 1);
    struct run c;

    (void)state;
    produce_values(topic, 10, "v");
    consume_once(&c, topic, "g-steps", 5, "20000", "false",
                 "connector.kafka.max.poll.records=3\n");
    assert_int_equal(connrt_batch_emitted_count(c.batch), 6);
    for (size_t i = 0; i < 6; i++) {
        char payload[64], expected[64];
        emitted_payload(&c, i, payload, sizeof(payload));
        snprintf(expected, sizeof(expected), "v-%zu", i);
        assert_string_equal(payload, expected);
    }
    run_free(&c);
}

static void consume__fewer_messages_than_min__returns_them_after_max_wait(void **state)
{
    const char *topic = new_topic("few", 1);
    struct run c;
    long long start, elapsed;

    (void)state;
    produce_values(topic, 2, "few");
    start = now_ms();
    consume_once(&c, topic, "g-few", 5, "1500", "false", "connector.kafka.max.poll.records=10\n");
    elapsed = now_ms() - start;
    assert_int_equal(connrt_batch_emitted_count(c.batch), 2);
    assert_true(elapsed >= 1500);
    run_free(&c);
}

static void consume__autocommit__second_consume_starts_after(void **state)
{
    const char *topic = new_topic("autocommit", 1);
    const char *ctr = "connector.kafka.max.poll.records=2\n";
    char payload[64];
    struct run c;

    (void)state;
    produce_values(topic, 4, "ac");
    consume_once(&c, topic, "g-autocommit", 2, "20000", "true", ctr);
    assert_int_equal(connrt_batch_emitted_count(c.batch), 2);
    emitted_payload(&c, 0, payload, sizeof(payload));
    assert_string_equal(payload, "ac-0");
    run_free(&c);
    assert_int_equal(committed_offset(topic, "g-autocommit"), 2);

    consume_once(&c, topic, "g-autocommit", 2, "20000", "true", ctr);
    assert_int_equal(connrt_batch_emitted_count(c.batch), 2);
    emitted_payload(&c, 0, payload, sizeof(payload));
    assert_string_equal(payload, "ac-2");
    emitted_payload(&c, 1, payload, sizeof(payload));
    assert_string_equal(payload, "ac-3");
    run_free(&c);
    assert_int_equal(committed_offset(topic, "g-autocommit"), 4);
}

static void consume__without_autocommit__second_consume_sees_same_messages(void **state)
{
    const char *topic = new_topic("noautocommit", 1);
    const char *ctr = "connector.kafka.max.poll.records=2\n";
    char payload[64];
    struct run c;

    (void)state;
    produce_values(topic, 4, "na");
    for (int round = 0; round < 2; round++) {
        consume_once(&c, topic, "g-noautocommit", 2, "20000", "false", ctr);
        assert_int_equal(connrt_batch_emitted_count(c.batch), 2);
        emitted_payload(&c, 0, payload, sizeof(payload));
        assert_string_equal(payload, "na-0");
        emitted_payload(&c, 1, payload, sizeof(payload));
        assert_string_equal(payload, "na-1");
        run_free(&c);
    }
    assert_true(committed_offset(topic, "g-noautocommit") < 0);
}

/* Documents of 10, 2000 and 10 bytes; max.request.size 1024 on consume. */
static const char *oversize_topic(void)
{
    const char *topic = new_topic("bigmsg", 1);
    const char *kv[] = {"topic", topic, NULL};
    char big[2000];
    struct op op;
    struct run r;

    memset(big, 'y', sizeof(big));
    op_open(&op, "produce", kv, NULL);
    run_new(&r);
    add_doc(&r, "first-msg!", 10, NULL, NULL);
    add_doc(&r, big, sizeof(big), NULL, NULL);
    add_doc(&r, "third-msg!", 10, NULL, NULL);
    execute_ok(&op, &r);
    for (size_t i = 0; i < 3; i++) {
        assert_success(&r, i);
    }
    run_free(&r);
    op_close(&op);
    return topic;
}

static void consume__oversize_without_autocommit__stops_with_error_document(void **state)
{
    const char *topic = oversize_topic();
    const char *message = NULL;
    connrt_document_t *doc;
    struct run c;

    (void)state;
    consume_once(&c, topic, "g-big-noac", 3, "20000", "false",
                 "connector.kafka.max.request.size=1024\nconnector.kafka.max.poll.records=10\n");
    assert_int_equal(connrt_batch_emitted_count(c.batch), 2);
    doc = connrt_batch_emitted_at(c.batch, 1, &message);
    assert_non_null(message);
    assert_non_null(strstr(message, "2000 bytes exceed connector.kafka.max.request.size (1024)"));
    assert_non_null(strstr(message, "stopped"));
    assert_int_equal(tracked_int(doc, "kafka.offset"), 1);
    assert_int_equal(tracked_int(doc, "kafka.partition"), 0);
    assert_string_equal(connrt_document_get_tracked(doc, "kafka.topic"), topic);
    assert_true(committed_offset(topic, "g-big-noac") < 0);
    run_free(&c);
}

static void consume__oversize_with_autocommit__error_document_and_goes_on(void **state)
{
    const char *topic = oversize_topic();
    const char *message = NULL;
    connrt_document_t *doc;
    char payload[64];
    struct run c;

    (void)state;
    consume_once(&c, topic, "g-big-ac", 3, "20000", "true",
                 "connector.kafka.max.request.size=1024\nconnector.kafka.max.poll.records=10\n");
    assert_int_equal(connrt_batch_emitted_count(c.batch), 3);
    emitted_payload(&c, 0, payload, sizeof(payload));
    assert_string_equal(payload, "first-msg!");
    doc = connrt_batch_emitted_at(c.batch, 1, &message);
    assert_non_null(message);
    assert_non_null(strstr(message, "offset 1"));
    assert_int_equal(tracked_int(doc, "kafka.offset"), 1);
    emitted_payload(&c, 2, payload, sizeof(payload));
    assert_string_equal(payload, "third-msg!");
    assert_int_equal(committed_offset(topic, "g-big-ac"), 3);
    run_free(&c);
}

static void consume__with_input_documents__each_input_application_error(void **state)
{
    const char *kv[] = {"topic", "t", "consumer_group", "g", NULL};
    struct op op;
    struct run r;

    (void)state;
    op_open(&op, "consume", kv, NULL);
    run_new(&r);
    add_doc(&r, "a", 1, NULL, NULL);
    add_doc(&r, "b", 1, NULL, NULL);
    execute_ok(&op, &r);
    assert_app_error(&r, 0, "consume must be a process's start step");
    assert_app_error(&r, 1, "consume must be a process's start step");
    assert_int_equal(connrt_batch_emitted_count(r.batch), 0);
    run_free(&r);
    op_close(&op);
}

static void consume__unknown_topic__fails_naming_topic(void **state)
{
    const char *kv[] = {"topic", "never-created", "consumer_group", "g-unknown", NULL};
    char errstr[512] = "";
    struct op op;
    struct run r;

    (void)state;
    op_open(&op, "consume", kv, NULL);
    run_new(&r);
    assert_int_not_equal(execute(&op, &r, errstr, sizeof(errstr)), 0);
    assert_non_null(strstr(errstr, "'never-created'"));
    run_free(&r);
    op_close(&op);
}

/* ------------------------------------------------------------------------ */
/* Commit Offset                                                            */
/* ------------------------------------------------------------------------ */

static connrt_document_t *add_tracked_doc(struct run *r, const char *payload, const char *topic,
                                          const char *partition, const char *offset)
{
    connrt_document_t *doc = add_doc(r, payload, strlen(payload), NULL, NULL);

    if (topic != NULL) {
        assert_int_equal(connrt_document_set_tracked(doc, "kafka.topic", topic), 0);
    }
    if (partition != NULL) {
        assert_int_equal(connrt_document_set_tracked(doc, "kafka.partition", partition), 0);
    }
    if (offset != NULL) {
        assert_int_equal(connrt_document_set_tracked(doc, "kafka.offset", offset), 0);
    }
    return doc;
}

static void commit_offset__tracked_and_json__highest_plus_one_per_partition(void **state)
{
    const char *topic = new_topic("commit", 2);
    const char *kv[] = {"consumer_group", "g-commit-mixed", NULL};
    char body[256], metadata[64];
    struct op op;
    struct run r;

    (void)state;
    produce_values(topic, 10, "c");
    op_open(&op, "commit_offset", kv, NULL);
    run_new(&r);
    /* All three tracked properties win over a JSON body naming another offset. */
    snprintf(body, sizeof(body), "{\"topic\":\"%s\",\"partition\":0,\"offset\":100}", topic);
    add_tracked_doc(&r, body, topic, "0", "1");
    snprintf(body, sizeof(body),
             "{\"topic\":\"%s\",\"partition\":1,\"offset\":0,\"metadata\":\"low\"}", topic);
    add_tracked_doc(&r, body, NULL, NULL, NULL);
    snprintf(body, sizeof(body),
             "{\"topic\":\"%s\",\"partition\":1,\"offset\":0,\"metadata\":\"highest\"}",
             topic);
    add_tracked_doc(&r, body, NULL, NULL, NULL);
    add_tracked_doc(&r, "ignored payload", topic, "0", "0");
    execute_ok(&op, &r);
    for (size_t i = 0; i < 4; i++) {
        assert_success(&r, i);
    }
    assert_int_equal(committed_at(topic, 0, "g-commit-mixed", metadata, sizeof(metadata)), 2);
    assert_string_equal(metadata, "");
    assert_int_equal(committed_at(topic, 1, "g-commit-mixed", metadata, sizeof(metadata)), 1);
    assert_string_equal(metadata, "highest");
    run_free(&r);
    op_close(&op);
}

static void commit_offset__partial_tracked_no_body__names_missing_properties(void **state)
{
    const char *kv[] = {"consumer_group", "g-commit-partial", NULL};
    const char *topic = new_topic("commit-partial", 1);
    struct op op;
    struct run r;

    (void)state;
    op_open(&op, "commit_offset", kv, NULL);
    run_new(&r);
    add_tracked_doc(&r, "private bytes", topic, NULL, NULL);
    add_tracked_doc(&r, "private bytes", topic, "0", "x1");
    add_tracked_doc(&r, "{}", topic, "0", "-1");
    execute_ok(&op, &r);
    assert_app_error(&r, 0, "(tracked properties kafka.partition, kafka.offset missing)");
    assert_app_error(&r, 1, "tracked property kafka.offset is not an integer");
    assert_app_error(&r, 2, "tracked property kafka.offset -1 is negative");
    for (size_t i = 0; i < 3; i++) {
        const char *message = NULL;
        connrt_batch_result(r.batch, i, &message);
        assert_null(strstr(message, "private"));
    }
    assert_true(committed_offset(topic, "g-commit-partial") < 0);
    run_free(&r);
    op_close(&op);
}

static void commit_offset__group_refuses__fails_as_a_whole_no_success(void **state)
{
    const char *topic = new_topic("commit-refused", 1);
    const char *kv[] = {"consumer_group", "g-commit-refused", NULL};
    char errstr[512] = "";
    struct op op;
    struct run r;

    (void)state;
    produce_values(topic, 2, "cr");
    op_open(&op, "commit_offset", kv, NULL);
    assert_int_equal(kafka_embedded_cluster_command(
                         cluster, "error OffsetCommit 1 GROUP_AUTHORIZATION_FAILED", errstr,
                         sizeof(errstr)),
                     0);
    run_new(&r);
    add_tracked_doc(&r, "", topic, "0", "1");
    add_tracked_doc(&r, "not json", NULL, NULL, NULL);
    assert_int_not_equal(execute(&op, &r, errstr, sizeof(errstr)), 0);
    assert_non_null(strstr(errstr, "consumer group 'g-commit-refused': the commit was refused"));
    assert_int_equal(connrt_batch_result(r.batch, 0, NULL), CONNRT_RESULT_NONE);
    assert_app_error(&r, 1, "not JSON");
    assert_true(committed_offset(topic, "g-commit-refused") < 0);
    run_free(&r);
    op_close(&op);
}

/* ------------------------------------------------------------------------ */
/* Listen outside a listener                                                */
/* ------------------------------------------------------------------------ */

/* A listen operation runs only from a listener (connrt run/serve starts
 * it); started without one, or used as a batch step, it says so. */
static void listen__without_listener__refused_saying_why(void **state)
{
    const char *kv[] = {"topic", "t", "consumer_group", "g", NULL};
    char errstr[512] = "";
    struct op op;

    (void)state;
    op_open(&op, "listen", kv, NULL);
    assert_int_not_equal(op.def->listen_start(op.ctx, NULL, errstr, sizeof(errstr)), 0);
    assert_non_null(strstr(errstr, "only starts a process"));
    errstr[0] = '\0';
    assert_int_not_equal(op.def->execute(op.ctx, NULL, errstr, sizeof(errstr)), 0);
    assert_non_null(strstr(errstr, "cannot be a connector step"));
    op.def->listen_stop(op.ctx); /* never started: a no-op */
    op_close(&op);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(murmur2__kafka_reference_vectors__match),
        cmocka_unit_test(entry__descriptor__kafka_with_four_operations),
        cmocka_unit_test(connection_properties__secrets__flagged_secret),
        cmocka_unit_test(connection_test__embedded__lists_brokers_and_topics),
        cmocka_unit_test(connection_open__sasl_ssl_without_mechanism__refused_naming_it),
        cmocka_unit_test(connection_open__password__refused_without_echoing_it),
        cmocka_unit_test(connection_open__managed_passthrough__refused_naming_property),
        cmocka_unit_test(connection_open__unknown_passthrough__refused_naming_property),
        cmocka_unit_test(connection_open__embedded_topics__created_with_partitions),
        cmocka_unit_test(connection_open__embedded_topics_bad__refused_naming_it),
        cmocka_unit_test(produce__keyed_documents__partition_is_java_murmur2),
        cmocka_unit_test(produce__unknown_topic__only_that_document_fails),
        cmocka_unit_test(produce__no_topic_anywhere__application_error),
        cmocka_unit_test(produce__oversize_document__application_error_before_sending),
        cmocka_unit_test(produce__acks_1_with_idempotence__open_refused),
        cmocka_unit_test(produce__broker_rejects_then_accepts__no_loss_no_duplicate),
        cmocka_unit_test(consume__produced_documents__tracked_properties_and_headers_intact),
        cmocka_unit_test(consume__max_poll_records_3_min_messages_5__returns_6),
        cmocka_unit_test(consume__fewer_messages_than_min__returns_them_after_max_wait),
        cmocka_unit_test(consume__autocommit__second_consume_starts_after),
        cmocka_unit_test(consume__without_autocommit__second_consume_sees_same_messages),
        cmocka_unit_test(consume__oversize_without_autocommit__stops_with_error_document),
        cmocka_unit_test(consume__oversize_with_autocommit__error_document_and_goes_on),
        cmocka_unit_test(consume__with_input_documents__each_input_application_error),
        cmocka_unit_test(consume__unknown_topic__fails_naming_topic),
        cmocka_unit_test(commit_offset__tracked_and_json__highest_plus_one_per_partition),
        cmocka_unit_test(commit_offset__partial_tracked_no_body__names_missing_properties),
        cmocka_unit_test(commit_offset__group_refuses__fails_as_a_whole_no_success),
        cmocka_unit_test(listen__without_listener__refused_saying_why),
        cmocka_unit_test(produce__all_brokers_down__documents_time_out_as_application_errors),
    };

    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
