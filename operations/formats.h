/*
 * formats.h - data formats of message keys and values (operation
 * properties key_format, value_format): bytes, string, json, avro and
 * json_schema (the last two in the schema registry's wire format: magic
 * byte 0, 4-byte big-endian schema id, payload).
 *
 * Consume and Listen decode each message into a document
 * (kafka_formats_emit); Produce encodes each document into a message
 * (kafka_formats_encode). A message or document that does not fit its
 * format becomes an application error saying what was wrong and where;
 * the others are not affected.
 */
#ifndef CONNRT_KAFKA_FORMATS_H
#define CONNRT_KAFKA_FORMATS_H

#include <stddef.h>

#include <connrt/connector.h>
#include <librdkafka/rdkafka.h>

#include "../connector-kafka/connection.h"

/* bytes, string, json, avro, json_schema (the ENUM's allowed values). */
extern const char *const kafka_format_names[];

/* Rows of key_format and value_format, shared by produce, consume, listen. */
#define KAFKA_FORMAT_PROPERTY_ROWS                                                             \
    {"key_format", CONNRT_PROP_ENUM, 0, "bytes", kafka_format_names, 0, 0,                     \
     "Format of message keys: bytes (as is), string (UTF-8), json, avro or json_schema "       \
     "(schema registry wire format)",                                                         \
     NULL},                                                                                    \
    {"value_format", CONNRT_PROP_ENUM, 0, "bytes", kafka_format_names, 0, 0,                 \
     "Format of message values: bytes (as is), string (UTF-8), json, avro or json_schema "     \
     "(schema registry wire format)",                                                         \
     NULL}

/* Rows only Produce has: where its schemas come from. */
#define KAFKA_FORMAT_PRODUCE_ROWS                                                              \
    {"subject", CONNRT_PROP_STRING, 0, NULL, NULL, 0, 0,                                       \
     "Registry subject of value schemas (default TOPIC-value)", NULL},                         \
    {"key_subject", CONNRT_PROP_STRING, 0, NULL, NULL, 0, 0,                                   \
     "Registry subject of key schemas (default TOPIC-key)", NULL},                             \
    {"auto_register", CONNRT_PROP_BOOL, 0, "false", NULL, 0, 0,                                \
     "Register value_schema/key_schema under the subject and write with it (else write with " \
     "the subject's latest schema)",                                                           \
     NULL},                                                                                    \
    {"value_schema", CONNRT_PROP_STRING, 0, NULL, NULL, 0, 0,                                  \
     "Schema text registered for values when auto_register is true", NULL},                    \
    {"key_schema", CONNRT_PROP_STRING, 0, NULL, NULL, 0, 0,                                    \
     "Schema text registered for keys when auto_register is true", NULL}

struct kafka_formats;

/*
 * The formats of one operation from its `settings` (borrowed until
 * destroy); `conn` gives the schema registry (connection properties
 * schema_registry_*), contacted only when a message needs a schema.
 * Returns 0 with *out a new object owned by the caller, or NULL when key
 * and value are both bytes (nothing to do); -1 with errstr on a bad
 * combination (e.g. avro without schema_registry_url).
 */
int kafka_formats_open(const struct connrt_host *host, const connrt_settings_t *settings,
                       const struct kafka_connection *conn, struct kafka_formats **out,
                       char *errstr, size_t errstr_size);
void kafka_formats_destroy(struct kafka_formats *f);

/*
 * Consume/Listen: emit message `m` (borrowed) into `batch` as a document,
 * decoded by the formats, with its tracked properties (kafka_message_track,
 * document properties included) and kafka.value.schema_id/subject,
 * kafka.key.schema_id/subject when a schema was used. A message that does
 * not fit is emitted as an application error (its raw bytes, the reason
 * naming topic, partition and offset). Returns 0 with *doc; -1 on no
 * memory; 1 when the registry is unavailable: nothing emitted, errstr says
 * why (the message must be read again later).
 */
int kafka_formats_emit(struct kafka_formats *f, connrt_batch_t *batch,
                       const rd_kafka_message_t *m, connrt_document_t **doc, char *errstr,
                       size_t errstr_size);

/* What Produce sends for one document. value/key are borrowed from the
 * document, or owned here (value_owned/key_owned non-NULL: the same
 * buffers) and freed by kafka_encoded_release unless given away. */
struct kafka_encoded {
    const void *value;
    size_t value_len;
    void *value_owned;
    const char *key; /* NULL: no key */
    size_t key_len;
    void *key_owned;
};

/*
 * Produce: the message bytes for `doc` (borrowed; payload and connector.kafka.key)
 * to `topic`. With f NULL they are the document's, untouched. Sets tracked
 * kafka.value.schema_id/subject (and key) on `doc` when a schema is used.
 * Returns 0, or -1 with errstr: the document is an application error
 * (what does not fit, and the field; or the registry's failure).
 */
int kafka_formats_encode(struct kafka_formats *f, const struct connrt_host *host,
                         connrt_document_t *doc, const char *topic, struct kafka_encoded *out,
                         char *errstr, size_t errstr_size);
void kafka_encoded_release(struct kafka_encoded *e);

#endif
