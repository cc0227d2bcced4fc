/*
 * connection_probe.h - `connrt test-connection` for Kafka: reach the
 * brokers step by step and, on failure, name the stage that failed:
 * resolve, TCP connect, TLS, SASL mechanism, credentials, authorization.
 */
#ifndef CONNRT_KAFKA_CONNECTION_PROBE_H
#define CONNRT_KAFKA_CONNECTION_PROBE_H

#include <connrt/connector.h>
#include <librdkafka/rdkafka.h>

#include "security.h"

/* Stage names, as they appear in messages ("TLS failed: ..."). */
#define KAFKA_STAGE_RESOLVE "resolve"
#define KAFKA_STAGE_CONNECT "TCP connect"
#define KAFKA_STAGE_TLS "TLS"
#define KAFKA_STAGE_MECHANISM "SASL mechanism"
#define KAFKA_STAGE_CREDENTIALS "credentials"
#define KAFKA_STAGE_AUTHORIZATION "authorization"

/*
 * Check the connection: resolve each broker of `bootstrap`, open a TCP
 * connection, then log in with a client made from `conf` (taken: always
 * consumed) and list brokers and topics to `report` (lines borrowed for the
 * call; may be NULL). `sec` is what kafka_security_configure returned for
 * `conf`; `host` and `component_id` are borrowed. Returns 0, or -1 with
 * errstr "<stage> failed: <why>" (never a secret).
 */
int kafka_probe_connection(kafka_security_t *sec, rd_kafka_conf_t *conf,
                           const char *bootstrap, const struct connrt_host *host,
                           const char *component_id, int timeout_ms,
                           void (*report)(void *opaque, const char *line), void *opaque,
                           char *errstr, size_t errstr_size);

/*
 * Copy librdkafka's error `reason` into out without the state suffix it
 * appends ("(after 0ms in state AUTH_REQ, 1 identical error(s) suppressed)"),
 * which varies from run to run and means nothing to a user.
 */
void kafka_reason_trim(const char *reason, char *out, size_t out_size);

#endif
