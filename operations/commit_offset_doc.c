/*
 * commit_offset_doc.c - what one input document of Commit Offset names:
 * tracked properties kafka.topic/partition/offset, or a JSON body. Apart
 * from commit_offset.c so that the fuzzer links it without librdkafka.
 */
#include "commit_offset_doc.h"

#include <errno.h>
#include <inttypes.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Kafka's longest topic name. */
#define KAFKA_TOPIC_MAX 249

/* Kafka's topic name rule; a valid name is safe to repeat in messages. */
static int topic_name_valid(const char *s)
{
    size_t n = strlen(s);

    if (n == 0 || n > KAFKA_TOPIC_MAX || strcmp(s, ".") == 0 || strcmp(s, "..") == 0) {
        return 0;
    }
    return strspn(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-") == n;
}

/* A decimal integer filling all of `s`. */
static int parse_integer(const char *s, long long *out)
{
    char *end;

    errno = 0;
    *out = strtoll(s, &end, 10);
    return s[0] != '\0' && *end == '\0' && errno == 0 ? 0 : -1;
}

/* Range checks shared by both sources; `source` says where the value came
 * from ("tracked property kafka.offset", "JSON field 'offset'"). */
static int check_position(long long partition, long long offset, const char *psource,
                          const char *osource, char *why, size_t why_size)
{
    if (partition < 0 || partition > INT32_MAX) {
        snprintf(why, why_size, "%s %lld is out of range (0 to %d)", psource, partition,
                 INT32_MAX);
        return -1;
    }
    if (offset < 0) {
        snprintf(why, why_size, "%s %lld is negative: only an offset a message has can be "
                 "committed", osource, offset);
        return -1;
    }
    return 0;
}

static int set_doc(struct kafka_commit_doc *d, const char *topic, long long partition,
                   long long offset, const char *metadata, char *why, size_t why_size)
{
    d->topic = strdup(topic);
    d->metadata = metadata != NULL ? strdup(metadata) : NULL;
    d->partition = (int32_t)partition;
    d->offset = offset;
    if (d->topic == NULL || (metadata != NULL && d->metadata == NULL)) {
        snprintf(why, why_size, "out of memory");
        return -1;
    }
    return 0;
}

static int from_tracked(const struct connrt_host *host, const connrt_document_t *doc,
                        struct kafka_commit_doc *d, char *why, size_t why_size)
{
    const char *topic = host->doc_get_tracked(doc, "kafka.topic");
    long long partition, offset;

    if (!topic_name_valid(topic)) {
        snprintf(why, why_size, "tracked property kafka.topic is not a valid Kafka topic name");
        return -1;
    }
    if (parse_integer(host->doc_get_tracked(doc, "kafka.partition"), &partition) != 0) {
        snprintf(why, why_size, "tracked property kafka.partition is not an integer");
        return -1;
    }
    if (parse_integer(host->doc_get_tracked(doc, "kafka.offset"), &offset) != 0) {
        snprintf(why, why_size, "tracked property kafka.offset is not an integer");
        return -1;
    }
    if (check_position(partition, offset, "tracked property kafka.partition",
                       "tracked property kafka.offset", why, why_size) != 0) {
        return -1;
    }
    return set_doc(d, topic, partition, offset, NULL, why, why_size);
}

static const char *json_kind(const json_t *v)
{
    switch (json_typeof(v)) {
    case JSON_OBJECT:
        return "an object";
    case JSON_ARRAY:
        return "an array";
    case JSON_STRING:
        return "a string";
    case JSON_INTEGER:
        return "an integer";
    case JSON_REAL:
        return "a number with a fraction";
    case JSON_TRUE:
    case JSON_FALSE:
        return "a boolean";
    case JSON_NULL:
        return "null";
    }
    return "something else";
}

/* Field `name` of `body` as an integer. */
static int json_field_integer(const json_t *body, const char *name, long long *out, char *why,
                              size_t why_size)
{
    const json_t *v = json_object_get(body, name);

    if (v == NULL) {
        snprintf(why, why_size, "JSON body has no field '%s'", name);
        return -1;
    }
    if (!json_is_integer(v)) {
        snprintf(why, why_size, "JSON field '%s' must be an integer, not %s", name, json_kind(v));
        return -1;
    }
    *out = (long long)json_integer_value(v);
    return 0;
}

static int body_fields(const json_t *body, struct kafka_commit_doc *d, char *why, size_t why_size)
{
    const json_t *topic = json_object_get(body, "topic");
    const json_t *metadata = json_object_get(body, "metadata");
    long long partition, offset;

    if (topic == NULL) {
        snprintf(why, why_size, "JSON body has no field 'topic'");
        return -1;
    }
    if (!json_is_string(topic)) {
        snprintf(why, why_size, "JSON field 'topic' must be a string, not %s", json_kind(topic));
        return -1;
    }
    if (!topic_name_valid(json_string_value(topic))) {
        snprintf(why, why_size,
                 "JSON field 'topic' is not a valid Kafka topic name (1 to %d of a-z A-Z 0-9 "
                 ". _ -)",
                 KAFKA_TOPIC_MAX);
        return -1;
    }
    if (json_field_integer(body, "partition", &partition, why, why_size) != 0 ||
        json_field_integer(body, "offset", &offset, why, why_size) != 0 ||
        check_position(partition, offset, "JSON field 'partition'", "JSON field 'offset'", why,
                       why_size) != 0) {
        return -1;
    }
    if (metadata != NULL && !json_is_null(metadata) && !json_is_string(metadata)) {
        snprintf(why, why_size, "JSON field 'metadata' must be a string, not %s",
                 json_kind(metadata));
        return -1;
    }
    return set_doc(d, json_string_value(topic), partition, offset,
                   json_is_string(metadata) ? json_string_value(metadata) : NULL, why,
                   why_size);
}

/* Names the missing tracked properties, for a document that has some. */
static void missing_tracked(const struct connrt_host *host, const connrt_document_t *doc,
                            char *out, size_t out_size)
{
    static const char *const names[] = {"kafka.topic", "kafka.partition", "kafka.offset"};
    size_t used = 0;

    out[0] = '\0';
    for (size_t i = 0; i < 3; i++) {
        if (host->doc_get_tracked(doc, names[i]) == NULL && used < out_size) {
            used += (size_t)snprintf(out + used, out_size - used, "%s%s", used ? ", " : "",
                                     names[i]);
        }
    }
}

/* The payload as {"topic","partition","offset","metadata"}. Messages give
 * positions, never payload bytes. */
static int from_body(const struct connrt_host *host, const connrt_document_t *doc,
                     struct kafka_commit_doc *d, char *why, size_t why_size)
{
    char missing[64], context[128] = "";
    json_error_t jerr;
    size_t len;
    const void *payload = host->doc_payload(doc, &len);
    json_t *body;
    int rc;

    missing_tracked(host, doc, missing, sizeof(missing));
    if (strlen(missing) < strlen("kafka.topic, kafka.partition, kafka.offset")) {
        snprintf(context, sizeof(context), " (tracked properties %s missing)", missing);
    } else {
        snprintf(context, sizeof(context),
                 " and no tracked properties kafka.topic, kafka.partition, kafka.offset");
    }
    body = json_loadb(payload != NULL ? payload : "", len, 0, &jerr);
    if (body == NULL) {
        snprintf(why, why_size, "the payload is not JSON (line %d, column %d)%s", jerr.line,
                 jerr.column, context);
        return -1;
    }
    if (!json_is_object(body)) {
        snprintf(why, why_size, "the payload is %s, not a JSON object {\"topic\", "
                 "\"partition\", \"offset\"}%s", json_kind(body), context);
        json_decref(body);
        return -1;
    }
    rc = body_fields(body, d, why, why_size);
    json_decref(body);
    return rc;
}

/* Tracked properties win when all three are set (what Consume emits). */
int kafka_commit_offset_read_doc(const struct connrt_host *host, connrt_document_t *doc,
                                 struct kafka_commit_doc *d, char *why, size_t why_size)
{
    if (host->doc_get_tracked(doc, "kafka.topic") != NULL &&
        host->doc_get_tracked(doc, "kafka.partition") != NULL &&
        host->doc_get_tracked(doc, "kafka.offset") != NULL) {
        return from_tracked(host, doc, d, why, why_size);
    }
    if (from_body(host, doc, d, why, why_size) != 0) {
        return -1;
    }
    /* History then shows what was committed from a JSON body too. */
    char num[32];
    snprintf(num, sizeof(num), "%" PRId32, d->partition);
    if (host->doc_set_tracked(doc, "kafka.topic", d->topic) != 0 ||
        host->doc_set_tracked(doc, "kafka.partition", num) != 0) {
        snprintf(why, why_size, "out of memory");
        return -1;
    }
    snprintf(num, sizeof(num), "%" PRId64, d->offset);
    if (host->doc_set_tracked(doc, "kafka.offset", num) != 0) {
        snprintf(why, why_size, "out of memory");
        return -1;
    }
    return 0;
}
