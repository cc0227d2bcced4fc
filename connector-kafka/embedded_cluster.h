/*
 * embedded_cluster.h - librdkafka's in-process mock Kafka cluster
 * (rdkafka_mock.h) wrapped for connrt: `bootstrap_servers=embedded` and the
 * `connrt embedded-cluster` command.
 *
 * The mock speaks the Kafka protocol on loopback sockets. It is not a broker:
 * data is in memory (about 5 MiB kept per partition), there is no SASL or TLS
 * and no CreateTopics (topics are created here or auto-created by Metadata
 * requests that allow it). See README and TEST-INFRA.md.
 *
 * This file is compiled into both the Kafka plugin and the connrt binary;
 * the plugin exports only its entry point, so each has its own copy.
 */
#ifndef CONNRT_KAFKA_EMBEDDED_CLUSTER_H
#define CONNRT_KAFKA_EMBEDDED_CLUSTER_H

#include <stddef.h>
#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>

typedef struct kafka_embedded_cluster kafka_embedded_cluster_t;

/* Receives the cluster's own log lines (syslog level 0-7). `message` is
 * borrowed for the call. Called from librdkafka threads. */
typedef void (*kafka_embedded_log_fn)(void *opaque, int level, const char *message);

/*
 * Start a cluster with `brokers` brokers (ids 1..brokers). `log` may be NULL
 * (logs dropped); `log_opaque` must outlive the cluster. Returns a new
 * cluster owned by the caller (kafka_embedded_cluster_destroy), or NULL with
 * errstr.
 */
kafka_embedded_cluster_t *kafka_embedded_cluster_new(int brokers, kafka_embedded_log_fn log,
                                                     void *log_opaque, char *errstr,
                                                     size_t errstr_size);
void kafka_embedded_cluster_destroy(kafka_embedded_cluster_t *cluster); /* NULL no-op */

/* "127.0.0.1:PORT,..." borrowed until destroy. */
const char *kafka_embedded_cluster_bootstraps(const kafka_embedded_cluster_t *cluster);
int kafka_embedded_cluster_broker_count(const kafka_embedded_cluster_t *cluster);

/* The underlying mock, for fault injection; borrowed until destroy. */
rd_kafka_mock_cluster_t *kafka_embedded_cluster_mock(kafka_embedded_cluster_t *cluster);

/* Create topic `name` with `partitions` partitions. Returns 0, or -1 with
 * errstr (bad count, already exists). */
int kafka_embedded_cluster_create_topic(kafka_embedded_cluster_t *cluster, const char *name,
                                        int partitions, char *errstr, size_t errstr_size);

/*
 * Run one fault command (one line, no newline), as read by `connrt
 * embedded-cluster`:
 *   broker down ID|all          broker up ID|all         rtt ID|all MS
 *   error API COUNT ERROR_NAME  (e.g. error Produce 3 NOT_ENOUGH_REPLICAS)
 *   error clear API|all         (drop pushed errors no request has taken)
 *   topic NAME PARTITIONS       topic-error NAME ERROR_NAME (in Metadata; NO_ERROR clears)
 * Returns 0, or -1 with the reason in errstr.
 */
int kafka_embedded_cluster_command(kafka_embedded_cluster_t *cluster, const char *line,
                                   char *errstr, size_t errstr_size);

/*
 * The one cluster shared by every `bootstrap_servers=embedded` connection of
 * this process (reference counted, thread-safe). The first acquire starts it
 * with one broker; `log`/`log_opaque` of that first call are kept for its
 * life and must stay valid until the last release. Returns 0 and *cluster
 * (borrowed until the matching release), or -1 with errstr.
 */
int kafka_embedded_shared_acquire(kafka_embedded_log_fn log, void *log_opaque,
                                  kafka_embedded_cluster_t **cluster, char *errstr,
                                  size_t errstr_size);
/* Drop one reference; the last one stops the cluster. */
void kafka_embedded_shared_release(void);

#endif
