/*
 * connection.h - the Kafka connection component: its property tables, the
 * librdkafka configuration built from its settings, and the handle that
 * operations borrow.
 */
#ifndef CONNRT_KAFKA_CONNECTION_H
#define CONNRT_KAFKA_CONNECTION_H

#include <stdatomic.h>

#include <connrt/connector.h>
#include <librdkafka/rdkafka.h>

/* Property tables (connection_properties.c), NULL-name terminated. */
extern const struct connrt_property_def kafka_connection_properties[];
/* Container properties, rows named without "connector.kafka.". */
extern const struct connrt_property_def kafka_container_properties[];

/* Container property names as operations see them in their settings. */
#define KAFKA_MAX_REQUEST_SIZE "max.request.size"
#define KAFKA_MAX_POLL_RECORDS "max.poll.records"

/* Prefix of the librdkafka pass-through rows. */
#define KAFKA_PASSTHROUGH_PREFIX "librdkafka."

/*
 * Where librdkafka's log lines of one client handle go. Every rd_kafka_t
 * the plugin creates has, as its opaque, a struct whose FIRST member is this
 * (so the shared log callback can find it); it must outlive the handle.
 */
struct kafka_log_target {
    const struct connrt_host *host;
    const char *component_id; /* borrowed; lives as long as the component */
    /* Set by the client's error callback, which librdkafka calls from the
     * thread that polls the handle: how many times the brokers refused the
     * login (SASL or token), and the last reason (see kafka_reason_trim). An
     * operation compares the count before and after a wait to fail at once
     * instead of timing out. */
    unsigned login_refusals;
    char login_reason[512];
    /* Also: how many times no broker could be reached (all brokers down),
     * and the last connection error, so that a timeout can say why. */
    unsigned brokers_down;
    char down_reason[512];
};


/* An open connection. Operations borrow it between their open and close. */
struct kafka_connection {
    struct kafka_log_target log;
    const connrt_settings_t *settings; /* borrowed until close */
    char *component_id;                /* owned */
    char *bootstrap;                   /* owned: brokers as given to librdkafka */
    int embedded;                      /* holds a reference on the shared cluster */
    rd_kafka_conf_t *base;             /* owned: settings shared by every client */
    _Atomic int mock;                  /* see kafka_connection_is_mock; -1: not known yet */
    _Atomic long long mock_retry_ms;   /* monotonic time before which not to ask again */
    struct kafka_security *security;   /* owned: TLS, SASL, presets (security.h) */
};

/* connrt_connector callbacks. *connection is freed by kafka_connection_close. */
int kafka_connection_open(const struct connrt_host *host, const connrt_settings_t *settings,
                          const char *component_id, const char *container_dir,
                          void **connection, char *errstr, size_t errstr_size);
/* connection_check: bootstrap_servers and kafka_security_check; opens
 * nothing. */
int kafka_connection_check(const struct connrt_host *host, const connrt_settings_t *settings,
                           char *errstr, size_t errstr_size);
int kafka_connection_test(void *connection, void (*report)(void *opaque, const char *line),
                          void *opaque, char *errstr, size_t errstr_size);
void kafka_connection_close(void *connection);
/* connection_describe: the base configuration's settings that differ from
 * librdkafka's defaults, secrets redacted (kafka_security_describe_conf).
 * Contacts no broker. */
int kafka_connection_describe(void *connection, void (*report)(void *opaque, const char *line),
                              void *opaque, char *errstr, size_t errstr_size);

/*
 * A new librdkafka configuration for one client handle of `conn`: the
 * connection's settings, with log lines sent to the kafka_log_target that
 * is the first member of `opaque` (it must outlive the handle). Returns a
 * conf owned by the caller (give it to rd_kafka_new or rd_kafka_conf_destroy
 * it), or NULL with errstr.
 */
rd_kafka_conf_t *kafka_connection_client_conf(struct kafka_connection *conn, void *opaque,
                                              char *errstr, size_t errstr_size);

/*
 * Whether the brokers are librdkafka's mock cluster: the embedded one, or
 * one run by `connrt embedded-cluster` (its cluster id starts "mockCluster").
 * Its group coordinator and topic creation need different timings (see
 * consume.c). Asked of the cluster once, then remembered; an unreachable
 * cluster counts as not a mock and is asked again once KAFKA_MOCK_RETRY_MS
 * have passed (not at every client: each asking costs KAFKA_MOCK_QUERY_MS).
 */
int kafka_connection_is_mock(struct kafka_connection *conn);

/* Set librdkafka property `name` on `conf` unless the user gave it as
 * librdkafka.NAME on the connection. Returns 0 or -1 with errstr. */
int kafka_conf_default(const struct kafka_connection *conn, rd_kafka_conf_t *conf,
                       const char *name, const char *value, char *errstr, size_t errstr_size);

/* rd_kafka_conf_set naming the property and, unless `secret`, the value in
 * errstr: "librdkafka property 'acks'='2': ...". Returns 0 or -1. */
int kafka_conf_set(rd_kafka_conf_t *conf, const char *name, const char *value, char *errstr,
                   size_t errstr_size);

/* Same for an integer value. */
int kafka_conf_set_int(rd_kafka_conf_t *conf, const char *name, long long value, char *errstr,
                       size_t errstr_size);

/* Read a BOOL setting (true/false as resolved, also yes/no/on/off/1/0).
 * Returns 0/1, or `fallback` when unset or unreadable. */
int kafka_setting_bool(const struct connrt_host *host, const connrt_settings_t *settings,
                       const char *name, int fallback);

/* Read an INT/SIZE/DURATION_MS setting into *out. Returns 0, or -1 with
 * "property 'NAME' ..." in errstr when unset or not a number. */
int kafka_setting_int(const struct connrt_host *host, const connrt_settings_t *settings,
                      const char *name, long long *out, char *errstr, size_t errstr_size);

#endif
