/*
 * connection.c - the Kafka connection: librdkafka configuration from the
 * connection's settings, the embedded cluster, connection test.
 */
#include "connection.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "clock.h"
#include "connection_probe.h"
#include "embedded_cluster.h"
#include "security.h"

#define KAFKA_TEST_TIMEOUT_MS 10000
/* How long to wait for a cluster id when telling a mock cluster apart. */
#define KAFKA_MOCK_QUERY_MS 3000
/* After a cluster did not answer, how long to take it as "not a mock"
 * without asking: an execution creates several clients, and an outage
 * must not cost KAFKA_MOCK_QUERY_MS for each. */
#define KAFKA_MOCK_RETRY_MS 30000

/* ------------------------------------------------------------------------ */
/* Logging                                                                  */
/* ------------------------------------------------------------------------ */

static connrt_log_level_t log_level_from_syslog(int level)
{
    if (level <= 3) {
        return CONNRT_LOG_ERROR;
    }
    if (level == 4) {
        return CONNRT_LOG_WARNING;
    }
    if (level <= 6) {
        return CONNRT_LOG_INFO;
    }
    return CONNRT_LOG_DEBUG;
}

/* librdkafka log lines, from any of its threads, to host->log. */
static void kafka_log_cb(const rd_kafka_t *rk, int level, const char *fac, const char *buf)
{
    const struct kafka_log_target *target = rd_kafka_opaque(rk);
    connrt_log_level_t lvl = log_level_from_syslog(level);

    if (target == NULL || target->host == NULL) {
        return;
    }
    /* Pass-through properties apply to every client of the connection, so a
     * consumer-only one is "ignored by this producer": expected, not news. */
    if (strcmp(fac, "CONFWARN") == 0 && strstr(buf, "will be ignored by this") != NULL) {
        lvl = CONNRT_LOG_DEBUG;
    }
    target->host->log(lvl, target->component_id, "librdkafka %s: %s", fac, buf);
}

/* Client errors. Without this callback librdkafka would log each one again
 * after the FAIL line that already said it. */
static void kafka_error_cb(rd_kafka_t *rk, int err, const char *reason, void *opaque)
{
    struct kafka_log_target *target = opaque;
    connrt_log_level_t lvl = CONNRT_LOG_WARNING;

    (void)rk;
    if (target == NULL || target->host == NULL) {
        return;
    }
    if (err == RD_KAFKA_RESP_ERR__AUTHENTICATION) {
        kafka_reason_trim(reason, target->login_reason, sizeof(target->login_reason));
        target->login_refusals++;
    }
    if (err == RD_KAFKA_RESP_ERR__ALL_BROKERS_DOWN) {
        target->brokers_down++;
    }
    if (err == RD_KAFKA_RESP_ERR__TRANSPORT || err == RD_KAFKA_RESP_ERR__RESOLVE) {
        kafka_reason_trim(reason, target->down_reason, sizeof(target->down_reason));
        lvl = CONNRT_LOG_DEBUG; /* the FAIL log line said it */
    } else if (err == RD_KAFKA_RESP_ERR__FATAL) {
        lvl = CONNRT_LOG_ERROR;
    }
    target->host->log(lvl, target->component_id, "kafka client: %s", reason);
}

/* The shared embedded cluster logs under its own name. `opaque` is the host
 * table, which lives as long as the plugin. */
static void embedded_log(void *opaque, int level, const char *message)
{
    const struct connrt_host *host = opaque;

    host->log(log_level_from_syslog(level), "embedded-cluster", "%s", message);
}

/* ------------------------------------------------------------------------ */
/* Settings helpers                                                         */
/* ------------------------------------------------------------------------ */

int kafka_conf_set(rd_kafka_conf_t *conf, const char *name, const char *value, char *errstr,
                   size_t errstr_size)
{
    char why[512];

    if (rd_kafka_conf_set(conf, name, value, why, sizeof(why)) != RD_KAFKA_CONF_OK) {
        snprintf(errstr, errstr_size, "librdkafka property '%s': %s", name, why);
        return -1;
    }
    return 0;
}

int kafka_conf_set_int(rd_kafka_conf_t *conf, const char *name, long long value, char *errstr,
                       size_t errstr_size)
{
    char buf[32];

    snprintf(buf, sizeof(buf), "%lld", value);
    return kafka_conf_set(conf, name, buf, errstr, errstr_size);
}

int kafka_setting_bool(const struct connrt_host *host, const connrt_settings_t *settings,
                       const char *name, int fallback)
{
    static const char *const yes[] = {"true", "yes", "on", "1", NULL};
    static const char *const no[] = {"false", "no", "off", "0", NULL};
    const char *v = host->settings_get(settings, name);

    if (v == NULL) {
        return fallback;
    }
    for (size_t i = 0; yes[i] != NULL; i++) {
        if (strcasecmp(v, yes[i]) == 0) {
            return 1;
        }
        if (strcasecmp(v, no[i]) == 0) {
            return 0;
        }
    }
    return fallback;
}

int kafka_setting_int(const struct connrt_host *host, const connrt_settings_t *settings,
                      const char *name, long long *out, char *errstr, size_t errstr_size)
{
    const char *v = host->settings_get(settings, name);

    if (v == NULL) {
        snprintf(errstr, errstr_size, "property '%s' is not set", name);
        return -1;
    }
    if (host->settings_get_int(settings, name, out) != 0) {
        snprintf(errstr, errstr_size, "property '%s': expected a number, got '%s'", name, v);
        return -1;
    }
    return 0;
}

/* ------------------------------------------------------------------------ */
/* What this version refuses                                                */
/* ------------------------------------------------------------------------ */

/* librdkafka properties connrt sets itself: a pass-through would silently
 * contradict a connrt property (or, for test.mock.*, silently force
 * PLAINTEXT). A trailing '*' matches a prefix. */
static const struct {
    const char *name;
    const char *instead;
} kafka_managed_properties[] = {
    {"bootstrap.servers", "use bootstrap_servers"},
    {"metadata.broker.list", "use bootstrap_servers"},
    {"security.protocol", "use security_protocol"},
    {"sasl.*", "use sasl_mechanism, username, password and the kerberos/oauth properties"},
    {"enable.sasl.*", "use sasl_mechanism and the oauth properties"},
    {"ssl.*", "use ssl_ca, ssl_certificate, ssl_key, ssl_key_password"},
    {"ssl_*", "use ssl_ca, ssl_certificate, ssl_key, ssl_key_password"},
    {"enable.ssl.certificate.verification", "use ssl_endpoint_identification"},
    {"client.id", "use client_id"},
    {"enable.idempotence", "use the produce operation's idempotence"},
    {"acks", "use the produce operation's acks"},
    {"request.required.acks", "use the produce operation's acks"},
    {"partitioner", "connrt always partitions like Java clients (murmur2_random)"},
    {"partitioner_cb", "connrt always partitions like Java clients (murmur2_random)"},
    {"compression.codec", "use the produce operation's compression"},
    {"compression.type", "use the produce operation's compression"},
    {"linger.ms", "use the produce operation's linger_ms"},
    {"queue.buffering.max.ms", "use the produce operation's linger_ms"},
    {"message.timeout.ms", "use the produce operation's message_timeout_ms"},
    {"delivery.timeout.ms", "use the produce operation's message_timeout_ms"},
    {"message.max.bytes", "use the container property connector.kafka.max.request.size"},
    {"transactional.id", "transactions are not supported"},
    {"group.id", "use the operation's consumer_group"},
    {"enable.auto.commit", "use the consume operation's autocommit"},
    {"enable.auto.offset.store", "use the consume operation's autocommit"},
    {"auto.offset.reset", "use the operation's auto_offset_reset"},
    {"allow.auto.create.topics", "connrt never creates topics by accident"},
    {"test.mock.*", "it silently forces PLAINTEXT; use bootstrap_servers=embedded"},
};

static const char *managed_property(const char *key)
{
    for (size_t i = 0; i < sizeof(kafka_managed_properties) / sizeof(kafka_managed_properties[0]);
         i++) {
        const char *name = kafka_managed_properties[i].name;
        size_t len = strlen(name);
        if (name[len - 1] == '*' ? strncmp(key, name, len - 1) == 0 : strcmp(key, name) == 0) {
            return kafka_managed_properties[i].instead;
        }
    }
    return NULL;
}

/* ------------------------------------------------------------------------ */
/* Building the configuration                                               */
/* ------------------------------------------------------------------------ */

/* Brokers "a:9092, b:9092\nc:9092" -> "a:9092,b:9092,c:9092" (owned). */
static char *normalize_bootstrap(const char *value, char *errstr, size_t errstr_size)
{
    size_t len = strlen(value);
    char *out = malloc(len + 1);
    size_t n = 0;
    const char *p = value;

    if (out == NULL) {
        snprintf(errstr, errstr_size, "out of memory");
        return NULL;
    }
    while (*p != '\0') {
        size_t span;
        while (*p == ',' || *p == '\n' || *p == '\r' || *p == ' ' || *p == '\t') {
            p++;
        }
        span = strcspn(p, ",\n\r \t");
        if (span == 0) {
            break;
        }
        if (n > 0) {
            out[n++] = ',';
        }
        memcpy(out + n, p, span);
        n += span;
        p += span;
    }
    out[n] = '\0';
    if (n == 0) {
        snprintf(errstr, errstr_size, "bootstrap_servers is empty");
        free(out);
        return NULL;
    }
    return out;
}

static int apply_passthrough(const struct connrt_host *host, const connrt_settings_t *settings,
                             rd_kafka_conf_t *conf, char *errstr, size_t errstr_size)
{
    size_t count = host->settings_count(settings);
    size_t plen = strlen(KAFKA_PASSTHROUGH_PREFIX);

    for (size_t i = 0; i < count; i++) {
        const char *name, *value, *key, *instead;
        char why[512];
        host->settings_at(settings, i, &name, &value);
        if (name == NULL || strncmp(name, KAFKA_PASSTHROUGH_PREFIX, plen) != 0) {
            continue;
        }
        key = name + plen;
        if (*key == '\0') {
            snprintf(errstr, errstr_size, "property '%s': the librdkafka property name is missing",
                     name);
            return -1;
        }
        instead = managed_property(key);
        if (instead != NULL) {
            snprintf(errstr, errstr_size,
                     "property '%s': connrt manages '%s' itself (%s)", name, key, instead);
            return -1;
        }
        if (rd_kafka_conf_set(conf, key, value, why, sizeof(why)) != RD_KAFKA_CONF_OK) {
            snprintf(errstr, errstr_size, "property '%s': %s", name, why);
            return -1;
        }
    }
    return 0;
}

static rd_kafka_conf_t *base_conf_new(struct kafka_connection *c, const char *container_dir,
                                      char *errstr, size_t errstr_size)
{
    const struct connrt_host *host = c->log.host;
    const char *client_id = host->settings_get(c->settings, "client_id");
    rd_kafka_conf_t *conf = rd_kafka_conf_new();

    rd_kafka_conf_set_log_cb(conf, kafka_log_cb);
    rd_kafka_conf_set_error_cb(conf, kafka_error_cb);
    if (kafka_conf_set(conf, "bootstrap.servers", c->bootstrap, errstr, errstr_size) != 0 ||
        kafka_conf_set(conf, "client.id", client_id ? client_id : "connrt", errstr,
                       errstr_size) != 0 ||
        /* Never create a topic because a name was mistyped (DESIGN §5). */
        kafka_conf_set(conf, "allow.auto.create.topics", "false", errstr, errstr_size) != 0) {
        rd_kafka_conf_destroy(conf);
        return NULL;
    }
    if (apply_passthrough(host, c->settings, conf, errstr, errstr_size) != 0 ||
        kafka_security_configure(conf, host, c->settings, c->component_id, container_dir,
                                 &c->security, errstr, errstr_size) != 0) {
        rd_kafka_conf_destroy(conf);
        return NULL;
    }
    if (kafka_security_bootstrap(c->security) != NULL) {
        free(c->bootstrap);
        c->bootstrap = strdup(kafka_security_bootstrap(c->security));
    }
    return conf;
}

int kafka_conf_default(const struct kafka_connection *conn, rd_kafka_conf_t *conf,
                       const char *name, const char *value, char *errstr, size_t errstr_size)
{
    char key[256];

    snprintf(key, sizeof(key), "%s%s", KAFKA_PASSTHROUGH_PREFIX, name);
    if (conn->log.host->settings_get(conn->settings, key) != NULL) {
        return 0;
    }
    return kafka_conf_set(conf, name, value, errstr, errstr_size);
}

int kafka_connection_is_mock(struct kafka_connection *conn)
{
    int known = atomic_load(&conn->mock);
    rd_kafka_conf_t *conf;
    char why[256];
    char *id;
    rd_kafka_t *rk;

    if (known >= 0) {
        return known;
    }
    if (kafka_monotonic_ms() < atomic_load(&conn->mock_retry_ms)) {
        return 0;
    }
    /* The mock has no TLS or SASL: a secure cluster is never the mock. */
    if (strcmp(kafka_security_protocol(conn->security), "PLAINTEXT") != 0) {
        atomic_store(&conn->mock, 0);
        return 0;
    }
    conf = rd_kafka_conf_dup(conn->base);
    rd_kafka_conf_set_opaque(conf, conn);
    rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, why, sizeof(why));
    if (rk == NULL) {
        rd_kafka_conf_destroy(conf);
        return 0;
    }
    id = rd_kafka_clusterid(rk, KAFKA_MOCK_QUERY_MS);
    if (id != NULL) {
        known = strncmp(id, "mockCluster", 11) == 0;
        atomic_store(&conn->mock, known);
        if (known) {
            conn->log.host->log(CONNRT_LOG_INFO, conn->component_id,
                                "%s is a librdkafka mock cluster (for tests only)",
                                conn->bootstrap);
        }
        rd_kafka_mem_free(rk, id);
    } else {
        atomic_store(&conn->mock_retry_ms, kafka_monotonic_ms() + KAFKA_MOCK_RETRY_MS);
    }
    rd_kafka_destroy(rk);
    return known > 0;
}

rd_kafka_conf_t *kafka_connection_client_conf(struct kafka_connection *conn, void *opaque,
                                              char *errstr, size_t errstr_size)
{
    rd_kafka_conf_t *conf = rd_kafka_conf_dup(conn->base);

    rd_kafka_conf_set_opaque(conf, opaque);
    /* Unbound, the token and ticket callbacks could not find the connection. */
    if (kafka_security_bind(conn->security, opaque) != 0) {
        rd_kafka_conf_destroy(conf);
        snprintf(errstr, errstr_size, "out of memory");
        return NULL;
    }
    /* The mock creates a topic at once, so there is no propagation delay to
     * wait out before believing "unknown topic" (30 s by default). */
    if (kafka_connection_is_mock(conn) &&
        kafka_conf_default(conn, conf, "topic.metadata.propagation.max.ms", "0", errstr,
                           errstr_size) != 0) {
        rd_kafka_conf_destroy(conf);
        return NULL;
    }
    return conf;
}

/* ------------------------------------------------------------------------ */
/* Open, test, close                                                        */
/* ------------------------------------------------------------------------ */

/* One "NAME[:PARTITIONS]" of embedded_topics; a topic that exists already
 * (another connection of the shared cluster made it) is fine. */
static int create_embedded_topic(kafka_embedded_cluster_t *cluster, const char *spec,
                                 size_t len, char *errstr, size_t errstr_size)
{
    char name[512], why[512];
    const char *colon = memchr(spec, ':', len);
    size_t name_len = colon ? (size_t)(colon - spec) : len;
    long long parts = 1;

    if (name_len == 0 || name_len >= sizeof(name)) {
        snprintf(errstr, errstr_size, "embedded_topics: '%.*s' is not NAME:PARTITIONS",
                 (int)len, spec);
        return -1;
    }
    if (colon != NULL) {
        char digits[16];
        char *end;
        size_t dlen = len - name_len - 1;
        if (dlen == 0 || dlen >= sizeof(digits)) {
            parts = 0;
        } else {
            memcpy(digits, colon + 1, dlen);
            digits[dlen] = '\0';
            parts = strtoll(digits, &end, 10);
            if (*end != '\0') {
                parts = 0;
            }
        }
    }
    if (parts < 1 || parts > 10000) {
        snprintf(errstr, errstr_size,
                 "embedded_topics: '%.*s': PARTITIONS must be a number 1..10000", (int)len,
                 spec);
        return -1;
    }
    memcpy(name, spec, name_len);
    name[name_len] = '\0';
    if (kafka_embedded_cluster_create_topic(cluster, name, (int)parts, why, sizeof(why)) != 0 &&
        strstr(why, "already exists") == NULL) {
        snprintf(errstr, errstr_size, "embedded_topics: %s", why);
        return -1;
    }
    return 0;
}

static int create_embedded_topics(struct kafka_connection *c, kafka_embedded_cluster_t *cluster,
                                  char *errstr, size_t errstr_size)
{
    const char *p = c->log.host->settings_get(c->settings, "embedded_topics");

    while (p != NULL && *p != '\0') {
        size_t span;
        p += strspn(p, ", \t\r\n");
        span = strcspn(p, ", \t\r\n");
        if (span > 0 && create_embedded_topic(cluster, p, span, errstr, errstr_size) != 0) {
            return -1;
        }
        p += span;
    }
    return 0;
}

static int start_embedded(struct kafka_connection *c, char *errstr, size_t errstr_size)
{
    kafka_embedded_cluster_t *cluster;

    if (kafka_embedded_shared_acquire(embedded_log, (void *)c->log.host, &cluster, errstr,
                                      errstr_size) != 0) {
        return -1;
    }
    c->embedded = 1;
    atomic_store(&c->mock, 1);
    free(c->bootstrap);
    c->bootstrap = strdup(kafka_embedded_cluster_bootstraps(cluster));
    if (c->bootstrap == NULL) {
        snprintf(errstr, errstr_size, "out of memory");
        return -1;
    }
    c->log.host->log(CONNRT_LOG_INFO, c->component_id, "embedded Kafka cluster at %s",
                     c->bootstrap);
    return create_embedded_topics(c, cluster, errstr, errstr_size);
}

/* Whether comma-separated `list` holds `item`. */
static int has_item(const char *list, const char *item)
{
    size_t len = strlen(item);

    for (const char *p = list; p != NULL; p = strchr(p, ',') ? strchr(p, ',') + 1 : NULL) {
        if (strncmp(p, item, len) == 0 && (p[len] == ',' || p[len] == '\0')) {
            return 1;
        }
    }
    return 0;
}

/* bootstrap_servers normalized (owned by the caller) and checked against
 * embedded_topics; *embedded says whether it is the embedded cluster. */
static char *checked_bootstrap(const struct connrt_host *host, const connrt_settings_t *settings,
                               int *embedded, char *errstr, size_t errstr_size)
{
    const char *servers = host->settings_get(settings, "bootstrap_servers");
    const char *why = NULL;
    char *bootstrap;

    if (servers == NULL) {
        const char *preset = host->settings_get(settings, "preset");
        if (preset != NULL && strcmp(preset, "event_hubs") == 0) {
            /* The namespace names the brokers: the preset's plan sets them
             * (kafka_security_bootstrap) from the connection string or
             * event_hubs_namespace, which its check requires. */
            *embedded = 0;
            return strdup("");
        }
        snprintf(errstr, errstr_size, "missing required property 'bootstrap_servers'");
        return NULL;
    }
    bootstrap = normalize_bootstrap(servers, errstr, errstr_size);
    if (bootstrap == NULL) {
        return NULL;
    }
    *embedded = strcmp(bootstrap, "embedded") == 0;
    if (!*embedded && has_item(bootstrap, "embedded")) {
        why = "bootstrap_servers: 'embedded' cannot be combined with other brokers";
    } else if (!*embedded && host->settings_get(settings, "embedded_topics") != NULL) {
        why = "property 'embedded_topics' applies only to bootstrap_servers=embedded";
    }
    if (why != NULL) {
        snprintf(errstr, errstr_size, "%s", why);
        free(bootstrap);
        return NULL;
    }
    return bootstrap;
}

int kafka_connection_check(const struct connrt_host *host, const connrt_settings_t *settings,
                           char *errstr, size_t errstr_size)
{
    int embedded;
    char *bootstrap = checked_bootstrap(host, settings, &embedded, errstr, errstr_size);

    if (bootstrap == NULL) {
        return -1;
    }
    free(bootstrap);
    return kafka_security_check(host, settings, errstr, errstr_size);
}

int kafka_connection_open(const struct connrt_host *host, const connrt_settings_t *settings,
                          const char *component_id, const char *container_dir,
                          void **connection, char *errstr, size_t errstr_size)
{
    struct kafka_connection *c = calloc(1, sizeof(*c));
    int embedded = 0; /* started once the settings are known to be right */

    if (c == NULL || (c->component_id = strdup(component_id ? component_id : "kafka")) == NULL) {
        free(c);
        snprintf(errstr, errstr_size, "out of memory");
        return -1;
    }
    c->log.host = host;
    c->log.component_id = c->component_id;
    c->settings = settings;
    atomic_init(&c->mock, -1);
    atomic_init(&c->mock_retry_ms, 0);
    c->bootstrap = checked_bootstrap(host, settings, &embedded, errstr, errstr_size);
    if (c->bootstrap == NULL) {
        kafka_connection_close(c);
        return -1;
    }
    c->base = base_conf_new(c, container_dir, errstr, errstr_size);
    if (c->base == NULL ||
        (embedded && (start_embedded(c, errstr, errstr_size) != 0 ||
                      kafka_conf_set(c->base, "bootstrap.servers", c->bootstrap, errstr,
                                     errstr_size) != 0))) {
        kafka_connection_close(c);
        return -1;
    }
    *connection = c;
    return 0;
}

int kafka_connection_test(void *connection, void (*report)(void *opaque, const char *line),
                          void *opaque, char *errstr, size_t errstr_size)
{
    struct kafka_connection *c = connection;
    rd_kafka_conf_t *conf = kafka_connection_client_conf(c, c, errstr, errstr_size);

    if (conf == NULL) {
        return -1;
    }
    return kafka_probe_connection(c->security, conf, c->bootstrap, c->log.host,
                                  c->component_id, KAFKA_TEST_TIMEOUT_MS, report, opaque,
                                  errstr, errstr_size);
}

int kafka_connection_describe(void *connection, void (*report)(void *opaque, const char *line),
                              void *opaque, char *errstr, size_t errstr_size)
{
    const struct kafka_connection *c = connection;

    (void)errstr, (void)errstr_size;
    /* The base conf, not a client's: a client conf asks the cluster whether
     * it is a mock, and describe must not contact the brokers. */
    kafka_security_describe_conf(c->security, c->base, report, opaque);
    return 0;
}

void kafka_connection_close(void *connection)
{
    struct kafka_connection *c = connection;

    if (c == NULL) {
        return;
    }
    if (c->base != NULL) {
        rd_kafka_conf_destroy(c->base);
    }
    kafka_security_destroy(c->security); /* after every client of the connection */
    if (c->embedded) {
        kafka_embedded_shared_release();
    }
    free(c->bootstrap);
    free(c->component_id);
    free(c);
}
