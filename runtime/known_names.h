/*
 * known_names.h - the property names set on nearly every document (the
 * Kafka tracked properties and document properties, file.name,
 * connrt.error). A document stores these names as the static strings below
 * instead of a copy per document, and keeps each one's id, so that the
 * JSON Lines writer maps tracked properties to output fields without
 * comparing names again (a line holds a dozen of them).
 */
#ifndef CONNRT_KNOWN_NAMES_H
#define CONNRT_KNOWN_NAMES_H

#include <stddef.h>
#include <string.h>

enum connrt_known_name {
    CONNRT_KN_NONE = 0,
    CONNRT_KN_KAFKA_KEY,
    CONNRT_KN_KAFKA_TOPIC,
    CONNRT_KN_KAFKA_PARTITION,
    CONNRT_KN_KAFKA_OFFSET,
    CONNRT_KN_KAFKA_TIMESTAMP,
    CONNRT_KN_CONNECTOR_KAFKA_TOPIC,
    CONNRT_KN_CONNECTOR_KAFKA_KEY,
    CONNRT_KN_FILE_NAME,
    CONNRT_KN_CONNRT_ERROR,
    CONNRT_KN_COUNT
};

/* The one list of the names, with the JSON of each as an object key after
 * a comma (`,"name":`), for writers. */
#define CONNRT_KNOWN_NAMES(X)                                                                     \
    X(CONNRT_KN_KAFKA_KEY, "kafka.key")                                                            \
    X(CONNRT_KN_KAFKA_TOPIC, "kafka.topic")                                                        \
    X(CONNRT_KN_KAFKA_PARTITION, "kafka.partition")                                                \
    X(CONNRT_KN_KAFKA_OFFSET, "kafka.offset")                                                      \
    X(CONNRT_KN_KAFKA_TIMESTAMP, "kafka.timestamp")                                                \
    X(CONNRT_KN_CONNECTOR_KAFKA_TOPIC, "connector.kafka.topic")                                    \
    X(CONNRT_KN_CONNECTOR_KAFKA_KEY, "connector.kafka.key")                                        \
    X(CONNRT_KN_FILE_NAME, "file.name")                                                            \
    X(CONNRT_KN_CONNRT_ERROR, "connrt.error")

struct connrt_known_name_def {
    const char *name; /* static, NUL-terminated */
    const char *json; /* ,"name": */
    size_t len;       /* of the name alone */
};

static const struct connrt_known_name_def connrt_known_names[CONNRT_KN_COUNT] = {
#define CONNRT_KN_DEF(id, s) [id] = {s, ",\"" s "\":", sizeof(s) - 1},
    CONNRT_KNOWN_NAMES(CONNRT_KN_DEF)
#undef CONNRT_KN_DEF
};

#define CONNRT_KN_IS(name, lit) (memcmp((name), (lit), sizeof(lit) - 1) == 0)

/* The id of the `len` bytes at `name`, or CONNRT_KN_NONE: by length first,
 * then one comparison of constant length (which the compiler inlines). */
static inline enum connrt_known_name connrt_known_name(const char *name, size_t len)
{
    switch (len) {
    case 9:
        return CONNRT_KN_IS(name, "kafka.key")   ? CONNRT_KN_KAFKA_KEY
               : CONNRT_KN_IS(name, "file.name") ? CONNRT_KN_FILE_NAME
                                                 : CONNRT_KN_NONE;
    case 11:
        return CONNRT_KN_IS(name, "kafka.topic") ? CONNRT_KN_KAFKA_TOPIC : CONNRT_KN_NONE;
    case 12:
        return CONNRT_KN_IS(name, "kafka.offset")   ? CONNRT_KN_KAFKA_OFFSET
               : CONNRT_KN_IS(name, "connrt.error") ? CONNRT_KN_CONNRT_ERROR
                                                    : CONNRT_KN_NONE;
    case 15:
        return CONNRT_KN_IS(name, "kafka.partition")   ? CONNRT_KN_KAFKA_PARTITION
               : CONNRT_KN_IS(name, "kafka.timestamp") ? CONNRT_KN_KAFKA_TIMESTAMP
                                                       : CONNRT_KN_NONE;
    case 19:
        return CONNRT_KN_IS(name, "connector.kafka.key") ? CONNRT_KN_CONNECTOR_KAFKA_KEY
                                                         : CONNRT_KN_NONE;
    case 21:
        return CONNRT_KN_IS(name, "connector.kafka.topic") ? CONNRT_KN_CONNECTOR_KAFKA_TOPIC
                                                           : CONNRT_KN_NONE;
    default:
        return CONNRT_KN_NONE;
    }
}

#endif
