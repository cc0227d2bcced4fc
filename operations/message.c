/*
 * message.c - what a Kafka message says about a document: the tracked
 * properties (and document properties) shared by Produce results and the
 * documents Consume emits.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "operations.h"

/* Keys and header values are bytes; properties are strings. A NUL inside
 * ends the string (documented limit). Returns a NUL-terminated copy: `buf`
 * when it fits, else malloc'd (free it when != buf); NULL on no memory. */
static char *bytes_to_string(const void *p, size_t len, char *buf, size_t bufsize)
{
    char *s = len < bufsize ? buf : malloc(len + 1);

    if (s != NULL) {
        if (len > 0) {
            memcpy(s, p, len);
        }
        s[len] = '\0';
    }
    return s;
}

/* Decimal text of v, written at the end of buf (at least 21 bytes) two
 * digits a step; returns where it starts. A consumed message has three
 * numbers (snprintf was a tenth of its time, and a copy of the digits to
 * the start of buf was a library call per number). */
static const char *decimal(char *buf, size_t size, int64_t v)
{
    static const char pairs[] = "00010203040506070809101112131415161718192021222324"
                                "25262728293031323334353637383940414243444546474849"
                                "50515253545556575859606162636465666768697071727374"
                                "75767778798081828384858687888990919293949596979899";
    char *p = buf + size;
    uint64_t u = v < 0 ? (uint64_t)0 - (uint64_t)v : (uint64_t)v;

    *--p = '\0';
    while (u >= 100) {
        p -= 2;
        memcpy(p, pairs + (u % 100) * 2, 2);
        u /= 100;
    }
    if (u >= 10) {
        p -= 2;
        memcpy(p, pairs + u * 2, 2);
    } else {
        *--p = (char)('0' + u);
    }
    if (v < 0) {
        *--p = '-';
    }
    return p;
}

static int set_pair(const struct connrt_host *host, connrt_document_t *doc, const char *tracked,
                    const char *property, const char *value)
{
    if (host->doc_set_tracked(doc, tracked, value) != 0) {
        return -1;
    }
    if (property != NULL && host->doc_set_property(doc, property, value) != 0) {
        return -1;
    }
    return 0;
}

static int track_headers(const struct connrt_host *host, connrt_document_t *doc,
                         const rd_kafka_message_t *m, int doc_properties)
{
    rd_kafka_headers_t *hdrs = NULL;
    const char *name;
    const void *value;
    size_t size;

    /* The message keeps ownership of its headers. */
    if (rd_kafka_message_headers(m, &hdrs) != RD_KAFKA_RESP_ERR_NO_ERROR || hdrs == NULL) {
        return 0;
    }
    for (size_t i = 0; rd_kafka_header_get_all(hdrs, i, &name, &value, &size) ==
                       RD_KAFKA_RESP_ERR_NO_ERROR;
         i++) {
        char tracked[512], property[512], small[256];
        char *v = bytes_to_string(value, value ? size : 0, small, sizeof(small));
        int rc;
        if (v == NULL) {
            return -1;
        }
        snprintf(tracked, sizeof(tracked), "kafka.header.%s", name);
        snprintf(property, sizeof(property), "%s%s", KAFKA_DOC_HEADER_PREFIX, name);
        rc = set_pair(host, doc, tracked, doc_properties ? property : NULL, v);
        if (v != small) {
            free(v);
        }
        if (rc != 0) {
            return -1;
        }
    }
    return 0;
}

#define FIELD(n, v, len, t) ((struct connrt_doc_field){(n), sizeof(n) - 1, (v), (len), (t)})

/* The fields through host->doc_set_fields, or one call each on a host
 * older than ABI 1.5 (its calls take NUL-terminated values). */
static int set_fields(const struct connrt_host *host, connrt_document_t *doc,
                      const struct connrt_doc_field *f, size_t n)
{
    if (CONNRT_ABI_MINOR(host->abi_version) >= 5 && host->doc_set_fields != NULL) {
        return host->doc_set_fields(doc, f, n);
    }
    for (size_t i = 0; i < n; i++) {
        char small[256];
        char *value = bytes_to_string(f[i].value, f[i].value_len, small, sizeof(small));
        int rc = value == NULL ? -1
                 : f[i].tracked ? host->doc_set_tracked(doc, f[i].name, value)
                                : host->doc_set_property(doc, f[i].name, value);
        if (value != small) {
            free(value);
        }
        if (rc != 0) {
            return -1;
        }
    }
    return 0;
}

int kafka_message_track(const struct connrt_host *host, connrt_document_t *doc,
                        const rd_kafka_message_t *m, int doc_properties, int64_t timestamp)
{
    char partition[24], offset[24], stamp[24];
    struct connrt_doc_field f[7];
    const char *topic = rd_kafka_topic_name(m->rkt);
    size_t n = 0, topic_len = strlen(topic);
    int64_t ts = timestamp >= 0 ? timestamp : rd_kafka_message_timestamp(m, NULL);
    const char *num;

    f[n++] = FIELD("kafka.topic", topic, topic_len, 1);
    if (doc_properties) {
        f[n++] = FIELD(KAFKA_DOC_TOPIC, topic, topic_len, 0);
    }
    num = decimal(partition, sizeof(partition), m->partition);
    f[n++] = FIELD("kafka.partition", num, (size_t)(partition + sizeof(partition) - 1 - num), 1);
    if (m->offset >= 0) { /* acks=0 learns no offset */
        num = decimal(offset, sizeof(offset), m->offset);
        f[n++] = FIELD("kafka.offset", num, (size_t)(offset + sizeof(offset) - 1 - num), 1);
    }
    if (m->key != NULL) {
        /* A NUL inside ends the key's text (documented limit). */
        size_t key_len = strnlen(m->key, m->key_len);
        f[n++] = FIELD("kafka.key", m->key, key_len, 1);
        if (doc_properties) {
            f[n++] = FIELD(KAFKA_DOC_KEY, m->key, key_len, 0);
        }
    }
    if (ts >= 0) {
        num = decimal(stamp, sizeof(stamp), ts);
        f[n++] = FIELD("kafka.timestamp", num, (size_t)(stamp + sizeof(stamp) - 1 - num), 1);
    }
    if (set_fields(host, doc, f, n) != 0) {
        return -1;
    }
    return track_headers(host, doc, m, doc_properties);
}
