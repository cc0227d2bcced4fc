/*
 * security.h - how a Kafka connection reaches and logs in to its brokers:
 * TLS and mutual TLS (PEM files or inline PEM), SASL PLAIN and SCRAM,
 * Kerberos (GSSAPI) with tickets obtained in process, OAuth 2.0 client
 * credentials (OAUTHBEARER), and the Azure Event Hubs and Amazon MSK
 * presets. One call configures a librdkafka configuration from a
 * connection's settings; the returned object holds what must live as long
 * as the clients made from it (ticket caches, token sources).
 *
 * The librdkafka callbacks installed here find their connection through
 * the client's opaque, whose first member is a struct kafka_log_target
 * (connection.h): its component_id names the connection.
 */
#ifndef CONNRT_KAFKA_SECURITY_H
#define CONNRT_KAFKA_SECURITY_H

#include <connrt/connector.h>
#include <librdkafka/rdkafka.h>

typedef struct kafka_security kafka_security_t;

/*
 * Apply the security settings of a connection to `conf`: security.protocol,
 * sasl.*, ssl.* (inline PEM written under CONTAINER/data/pem), callbacks,
 * and a preset's settings (which may set bootstrap.servers: see
 * kafka_security_bootstrap). `host`, `settings` and `component_id` are
 * borrowed and must outlive the returned object; `container_dir` (may be
 * NULL) is borrowed for the call. Returns 0 and *out (owned by the caller:
 * kafka_security_destroy, after every client made from `conf` is
 * destroyed), or -1 with errstr naming the property (never a secret).
 */
/*
 * The checks kafka_security_configure makes before applying anything
 * (protocol, mechanism and credentials, preset fields), and nothing else:
 * no file, no server, no allocation kept. Both borrowed for the call.
 * Returns 0, or -1 with errstr naming the property (never a secret).
 */
int kafka_security_check(const struct connrt_host *host, const connrt_settings_t *settings,
                         char *errstr, size_t errstr_size);

int kafka_security_configure(rd_kafka_conf_t *conf, const struct connrt_host *host,
                             const connrt_settings_t *settings, const char *component_id,
                             const char *container_dir, kafka_security_t **out, char *errstr,
                             size_t errstr_size);

/* Stops ticket renewal and forgets the connection. NULL is a no-op. */
void kafka_security_destroy(kafka_security_t *sec);

/*
 * Call where a client's configuration gets its opaque (kafka_connection_
 * client_conf): the callbacks then find this connection from the client's
 * opaque, whatever component id its log target carries (an operation's).
 * Binding the same opaque again replaces the old binding. Returns 0, or -1
 * when out of memory (the component-id lookup is then the fallback).
 */
int kafka_security_bind(kafka_security_t *sec, const void *opaque);
/* Forget the binding of `opaque` (a client whose opaque is short-lived). */
void kafka_security_unbind(const void *opaque);

/*
 * Call after rd_kafka_new() of every client made from the configured conf:
 * with OAUTHBEARER it lets librdkafka's background thread fetch tokens
 * (else only rd_kafka_poll would, and a client that does not poll would
 * never log in). Returns 0, or -1 with errstr.
 */
int kafka_security_client_started(const kafka_security_t *sec, rd_kafka_t *rk, char *errstr,
                                  size_t errstr_size);

/* Brokers a preset chose (Event Hubs namespace, MSK ports added), already
 * set as bootstrap.servers on conf; NULL when bootstrap_servers is used as
 * given. Borrowed until destroy. */
const char *kafka_security_bootstrap(const kafka_security_t *sec);

/* Largest message the service accepts (Event Hubs: 1000000), 0 if no
 * preset limit. Produce should refuse larger documents. */
long long kafka_security_max_message_bytes(const kafka_security_t *sec);

/* "PLAINTEXT", "SSL", "SASL_PLAINTEXT" or "SASL_SSL"; and the SASL
 * mechanism or NULL. Borrowed until destroy. */
const char *kafka_security_protocol(const kafka_security_t *sec);
const char *kafka_security_mechanism(const kafka_security_t *sec);

/*
 * One line per librdkafka setting this module applied, "name = value
 * (why)", secrets shown as "[redacted]", to `report` (line borrowed for the
 * call): what `describe --resolved` and test-connection show.
 */
void kafka_security_describe(const kafka_security_t *sec,
                             void (*report)(void *opaque, const char *line), void *opaque);

/*
 * The effective librdkafka settings of `conf` that differ from librdkafka's
 * defaults, one "name = value" line each (with why, for what this module
 * set), passwords, secrets and keys shown as "[redacted]", callbacks left
 * out: what `describe --resolved` and test-connection show. `sec` may be
 * NULL.
 */
void kafka_security_describe_conf(const kafka_security_t *sec, const rd_kafka_conf_t *conf,
                                  void (*report)(void *opaque, const char *line),
                                  void *opaque);

/* The last login problem a callback met (token endpoint refused, Kerberos
 * service ticket, ...) into out; returns 0 when there is one, else -1. */
int kafka_security_last_error(const kafka_security_t *sec, char *out, size_t out_size);

/* Why the last TLS handshake of client `rk` failed certificate checks
 * (expired, wrong CA, host name), into out; 0 when known, else -1. */
int kafka_security_tls_failure(const rd_kafka_t *rk, char *out, size_t out_size);

/* Forget what was recorded for `rk` (call before destroying it). */
void kafka_security_forget_client(const rd_kafka_t *rk);

#endif
