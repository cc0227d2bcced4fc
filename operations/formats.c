/*
 * formats.c - key and value formats of Produce, Consume and Listen (see
 * formats.h): checks for string and json, the schema registry's wire
 * format for avro and json_schema, and the schemas each id stands for.
 */
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../connector-kafka/schema_registry.h"
#include "formats.h"
#include "formats_internal.h"
#include "operations.h"

typedef enum kafka_format {
    FORMAT_BYTES = 0,
    FORMAT_STRING,
    FORMAT_JSON,
    FORMAT_AVRO,
    FORMAT_JSON_SCHEMA
} kafka_format_t;

const char *const kafka_format_names[] = {"bytes", "string", "json", "avro", "json_schema", NULL};

/* Magic byte + 4-byte schema id. */
#define WIRE_HEADER 5
#define ERR_SIZE 1024

/* A schema by id, parsed once. */
struct parsed_schema {
    int id;
    const char *subject;          /* borrowed from the registry client */
    avro_schema_t avro;           /* avro: owned */
    avro_value_iface_t *iface;    /* avro: owned */
    json_t *defaults;             /* avro: field defaults (kafka_avro_defaults), owned */
    json_t *json;                 /* json_schema: owned */
};

/* Key or value. */
struct side {
    const char *name;    /* "key", "value" */
    kafka_format_t format;
    const char *subject; /* Produce: borrowed from settings, NULL: TOPIC-name */
    const char *schema;  /* Produce with auto_register: borrowed from settings */
};

struct kafka_formats {
    const struct connrt_host *host;
    struct side key, value;
    int auto_register;
    struct kafka_schema_registry *registry; /* owned; NULL when no side needs one */
    pthread_mutex_t lock;                   /* schemas */
    struct parsed_schema **schemas; /* each owned; never freed before destroy */
    size_t nschemas, cap;
};

static int format_of(const char *value, kafka_format_t *out)
{
    for (int i = 0; kafka_format_names[i] != NULL; i++) {
        if (value != NULL && strcmp(value, kafka_format_names[i]) == 0) {
            *out = (kafka_format_t)i;
            return 0;
        }
    }
    *out = FORMAT_BYTES;
    return value == NULL ? 0 : -1;
}

static int needs_registry(kafka_format_t f)
{
    return f == FORMAT_AVRO || f == FORMAT_JSON_SCHEMA;
}

static const char *registry_type(kafka_format_t f)
{
    return f == FORMAT_AVRO ? "AVRO" : "JSON";
}

static int registry_open(struct kafka_formats *f, const struct kafka_connection *conn,
                         char *errstr, size_t errstr_size)
{
    const struct connrt_host *host = f->host;
    const char *url = host->settings_get(conn->settings, "schema_registry_url");

    if (url == NULL || *url == '\0') {
        snprintf(errstr, errstr_size,
                 "%s_format=%s needs the connection property schema_registry_url",
                 needs_registry(f->value.format) ? "value" : "key",
                 kafka_format_names[needs_registry(f->value.format) ? f->value.format
                                                                    : f->key.format]);
        return -1;
    }
    f->registry = kafka_schema_registry_new(
        url, host->settings_get(conn->settings, "schema_registry_user"),
        host->settings_get(conn->settings, "schema_registry_password"),
        host->settings_get(conn->settings, "schema_registry_ca"), errstr, errstr_size);
    return f->registry == NULL ? -1 : 0;
}

static int side_open(struct kafka_formats *f, struct side *s, const connrt_settings_t *settings,
                     const char *name, const char *subject_prop, const char *schema_prop,
                     char *errstr, size_t errstr_size)
{
    char prop[32];

    s->name = name;
    snprintf(prop, sizeof(prop), "%s_format", name);
    if (format_of(f->host->settings_get(settings, prop), &s->format) != 0) {
        snprintf(errstr, errstr_size, "property '%s': unknown format", prop);
        return -1;
    }
    s->subject = f->host->settings_get(settings, subject_prop);
    s->schema = f->host->settings_get(settings, schema_prop);
    if (f->auto_register && needs_registry(s->format) && (s->schema == NULL || !*s->schema)) {
        snprintf(errstr, errstr_size, "auto_register needs property '%s' (the schema to "
                 "register for %s_format=%s)", schema_prop, name, kafka_format_names[s->format]);
        return -1;
    }
    return 0;
}

int kafka_formats_open(const struct connrt_host *host, const connrt_settings_t *settings,
                       const struct kafka_connection *conn, struct kafka_formats **out,
                       char *errstr, size_t errstr_size)
{
    struct kafka_formats *f = calloc(1, sizeof(*f));

    *out = NULL;
    if (f == NULL || pthread_mutex_init(&f->lock, NULL) != 0) {
        free(f);
        snprintf(errstr, errstr_size, "out of memory");
        return -1;
    }
    f->host = host;
    f->auto_register = kafka_setting_bool(host, settings, "auto_register", 0);
    if (side_open(f, &f->key, settings, "key", "key_subject", "key_schema", errstr,
                  errstr_size) != 0 ||
        side_open(f, &f->value, settings, "value", "subject", "value_schema", errstr,
                  errstr_size) != 0 ||
        ((needs_registry(f->key.format) || needs_registry(f->value.format)) &&
         registry_open(f, conn, errstr, errstr_size) != 0)) {
        kafka_formats_destroy(f);
        return -1;
    }
    if (f->key.format == FORMAT_BYTES && f->value.format == FORMAT_BYTES) {
        kafka_formats_destroy(f); /* the fast path: bytes are passed as they are */
        return 0;
    }
    *out = f;
    return 0;
}

void kafka_formats_destroy(struct kafka_formats *f)
{
    if (f == NULL) {
        return;
    }
    for (size_t i = 0; i < f->nschemas; i++) {
        struct parsed_schema *p = f->schemas[i];
        if (p->iface != NULL) {
            avro_value_iface_decref(p->iface);
        }
        if (p->avro != NULL) {
            avro_schema_decref(p->avro);
        }
        json_decref(p->json);
        json_decref(p->defaults);
        free(p);
    }
    free(f->schemas);
    kafka_schema_registry_destroy(f->registry);
    pthread_mutex_destroy(&f->lock);
    free(f);
}

/* ------------------------------------------------------------------------ */
/* Checks                                                                   */
/* ------------------------------------------------------------------------ */

/* Position of the first byte that is not well-formed UTF-8, or -1. */
static long long utf8_invalid_at(const unsigned char *p, size_t n)
{
    size_t i = 0;

    while (i < n) {
        unsigned char c = p[i];
        size_t extra;
        uint32_t cp;
        if (c < 0x80) {
            i++;
            continue;
        }
        if ((c & 0xe0) == 0xc0) {
            extra = 1, cp = c & 0x1f;
        } else if ((c & 0xf0) == 0xe0) {
            extra = 2, cp = c & 0x0f;
        } else if ((c & 0xf8) == 0xf0) {
            extra = 3, cp = c & 0x07;
        } else {
            return (long long)i;
        }
        if (n - i <= extra) {
            return (long long)i;
        }
        for (size_t k = 1; k <= extra; k++) {
            if ((p[i + k] & 0xc0) != 0x80) {
                return (long long)i;
            }
            cp = (cp << 6) | (p[i + k] & 0x3f);
        }
        /* Overlong forms, surrogates and beyond U+10FFFF are not UTF-8. */
        if ((extra == 1 && cp < 0x80) || (extra == 2 && cp < 0x800) ||
            (extra == 3 && cp < 0x10000) || (cp >= 0xd800 && cp <= 0xdfff) || cp > 0x10ffff) {
            return (long long)i;
        }
        i += extra + 1;
    }
    return -1;
}

static int check_utf8(const void *p, size_t n, char *why, size_t why_size)
{
    long long at = utf8_invalid_at(p, n);

    if (at < 0) {
        return 0;
    }
    snprintf(why, why_size, "not valid UTF-8: byte 0x%02x at position %lld",
             ((const unsigned char *)p)[at], at);
    return -1;
}

/* The JSON text p..n as a new value, or NULL with why. */
static json_t *parse_json(const void *p, size_t n, char *why, size_t why_size)
{
    json_error_t err;
    json_t *j = json_loadb(p, n, JSON_DECODE_ANY | JSON_ALLOW_NUL, &err);

    if (j == NULL) {
        snprintf(why, why_size, "not JSON: %s at line %d column %d (position %d)", err.text,
                 err.line, err.column, err.position);
    }
    return j;
}

static int check_json(const void *p, size_t n, char *why, size_t why_size)
{
    json_t *j = parse_json(p, n, why, why_size);

    json_decref(j);
    return j == NULL ? -1 : 0;
}

/* string and json, the same check on both ways: -1 (OUT_UNFIT) with why;
 * other formats pass. */
static int check_plain(const struct side *s, const void *p, size_t n, char *why,
                       size_t why_size)
{
    char inner[ERR_SIZE / 2];
    int rc = s->format == FORMAT_STRING ? check_utf8(p, n, inner, sizeof(inner))
             : s->format == FORMAT_JSON ? check_json(p, n, inner, sizeof(inner))
                                        : 0;

    if (rc != 0) {
        snprintf(why, why_size, "%s is %s", s->name, inner);
        return -1; /* OUT_UNFIT */
    }
    return 0;
}

/* ------------------------------------------------------------------------ */
/* Schemas                                                                  */
/* ------------------------------------------------------------------------ */

/* Outcome of a schema step: like the registry's, plus no memory. */
enum outcome { OUT_OK = 0, OUT_UNFIT = -1, OUT_UNAVAILABLE = -2, OUT_NOMEM = -3 };

static enum outcome registry_outcome(kafka_registry_status_t st)
{
    return st == KAFKA_REGISTRY_OK            ? OUT_OK
           : st == KAFKA_REGISTRY_UNAVAILABLE ? OUT_UNAVAILABLE
                                              : OUT_UNFIT;
}

/* Parse a registry schema of the side's format into *p. */
static enum outcome schema_parse(const struct side *s, const struct kafka_registry_schema *rs,
                                 struct parsed_schema *p, char *why, size_t why_size)
{
    if (strcmp(rs->type, registry_type(s->format)) != 0) {
        snprintf(why, why_size, "schema id %d is a %s schema, but %s_format is %s", rs->id,
                 rs->type, s->name, kafka_format_names[s->format]);
        return OUT_UNFIT;
    }
    memset(p, 0, sizeof(*p));
    p->id = rs->id;
    p->subject = rs->subject;
    if (s->format == FORMAT_AVRO) {
        if (avro_schema_from_json_length(rs->schema, strlen(rs->schema), &p->avro) != 0) {
            snprintf(why, why_size, "schema id %d is not a valid Avro schema: %s", rs->id,
                     avro_strerror());
            return OUT_UNFIT;
        }
        p->iface = avro_generic_class_from_schema(p->avro);
        if (p->iface == NULL) {
            avro_schema_decref(p->avro);
            snprintf(why, why_size, "schema id %d: %s", rs->id, avro_strerror());
            return OUT_UNFIT;
        }
        p->defaults = kafka_avro_defaults(rs->schema);
        if (p->defaults == NULL) {
            avro_value_iface_decref(p->iface);
            avro_schema_decref(p->avro);
            return OUT_NOMEM;
        }
        return OUT_OK;
    }
    p->json = json_loads(rs->schema, 0, NULL);
    if (p->json == NULL) {
        snprintf(why, why_size, "schema id %d is not valid JSON", rs->id);
        return OUT_UNFIT;
    }
    return OUT_OK;
}

/*
 * The parsed schema of `id` (with `rs` when the caller already has it from
 * the registry, else looked up). *out is valid until destroy (parsed
 * schemas are never freed before), so it may be used unlocked.
 */
static enum outcome schema_get(struct kafka_formats *f, const struct side *s, int id,
                               const char *preferred_subject,
                               const struct parsed_schema **out, char *why, size_t why_size)
{
    struct kafka_registry_schema rs;
    struct parsed_schema p;
    enum outcome o;

    pthread_mutex_lock(&f->lock);
    for (size_t i = 0; i < f->nschemas; i++) {
        /* Ids are shared by formats only if they agree on the type. */
        if (f->schemas[i]->id == id &&
            (f->schemas[i]->avro != NULL) == (s->format == FORMAT_AVRO)) {
            *out = f->schemas[i];
            pthread_mutex_unlock(&f->lock);
            return OUT_OK;
        }
    }
    o = registry_outcome(
        kafka_schema_registry_by_id(f->registry, id, preferred_subject, &rs, why, why_size));
    if (o == OUT_OK) {
        o = schema_parse(s, &rs, &p, why, why_size);
    }
    if (o == OUT_OK && f->nschemas == f->cap) {
        size_t cap = f->cap ? 2 * f->cap : 16;
        struct parsed_schema **grown = realloc(f->schemas, cap * sizeof(*grown));
        o = grown ? OUT_OK : OUT_NOMEM;
        if (grown != NULL) {
            f->schemas = grown;
            f->cap = cap;
        }
    }
    if (o == OUT_OK) {
        struct parsed_schema *kept = malloc(sizeof(*kept));
        if (kept == NULL) {
            o = OUT_NOMEM;
        } else {
            *kept = p;
            f->schemas[f->nschemas++] = kept;
            *out = kept;
        }
    }
    pthread_mutex_unlock(&f->lock);
    return o;
}

/* ------------------------------------------------------------------------ */
/* Decoding (Consume, Listen)                                               */
/* ------------------------------------------------------------------------ */

/* One side's decoded bytes: borrowed from the message, or owned. */
struct decoded {
    const void *data;
    size_t len;
    char *owned;
    const struct parsed_schema *schema;
};

static enum outcome wire_header(const struct side *s, const unsigned char *p, size_t n,
                                int *id, char *why, size_t why_size)
{
    if (n < WIRE_HEADER) {
        snprintf(why, why_size, "%s of %zu byte(s) is too short for the schema registry's "
                 "wire format (magic byte 0 and a 4-byte schema id first)", s->name, n);
        return OUT_UNFIT;
    }
    if (p[0] != 0) {
        snprintf(why, why_size,
                 "%s is not in the schema registry's wire format: unknown magic byte 0x%02x%s%c%s "
                 "(expected 0x00 and a 4-byte schema id; a producer without a registry "
                 "serializer wrote it? %s_format=json or bytes reads it as is)",
                 s->name, p[0], p[0] >= 0x20 && p[0] < 0x7f ? " ('" : "",
                 p[0] >= 0x20 && p[0] < 0x7f ? (char)p[0] : ' ',
                 p[0] >= 0x20 && p[0] < 0x7f ? "')" : "", s->name);
        return OUT_UNFIT;
    }
    *id = (int)(((uint32_t)p[1] << 24) | ((uint32_t)p[2] << 16) | ((uint32_t)p[3] << 8) | p[4]);
    return OUT_OK;
}

static enum outcome decode_registry(struct kafka_formats *f, const struct side *s,
                                    const char *topic, const unsigned char *p, size_t n,
                                    struct decoded *d, char *why, size_t why_size)
{
    char subject[512], inner[ERR_SIZE / 2];
    json_t *j;
    int id;
    enum outcome o = wire_header(s, p, n, &id, why, why_size);

    if (o != OUT_OK) {
        return o;
    }
    snprintf(subject, sizeof(subject), "%s-%s", topic, s->name);
    o = schema_get(f, s, id, subject, &d->schema, why, why_size);
    if (o != OUT_OK) {
        return o;
    }
    if (s->format == FORMAT_JSON_SCHEMA) {
        j = parse_json(p + WIRE_HEADER, n - WIRE_HEADER, inner, sizeof(inner));
        if (j == NULL || kafka_json_schema_check(d->schema->json, j, inner, sizeof(inner)) != 0) {
            snprintf(why, why_size, "%s (schema id %d): %s", s->name, id, inner);
            json_decref(j);
            return OUT_UNFIT;
        }
        json_decref(j);
        d->data = p + WIRE_HEADER;
        d->len = n - WIRE_HEADER;
        return OUT_OK;
    }
    j = kafka_avro_to_json(d->schema->avro, d->schema->iface, p + WIRE_HEADER, n - WIRE_HEADER,
                           inner, sizeof(inner));
    if (j == NULL) {
        snprintf(why, why_size, "%s (schema id %d): %s", s->name, id, inner);
        return OUT_UNFIT;
    }
    d->owned = json_dumps(j, JSON_COMPACT | JSON_ENCODE_ANY);
    json_decref(j);
    if (d->owned == NULL) {
        return OUT_NOMEM;
    }
    d->data = d->owned;
    d->len = strlen(d->owned);
    return OUT_OK;
}

/* Decode one side; a null (absent) key or value stays absent. */
static enum outcome decode_side(struct kafka_formats *f, const struct side *s,
                                const char *topic, const void *p, size_t n, struct decoded *d,
                                char *why, size_t why_size)
{
    memset(d, 0, sizeof(*d));
    d->data = p;
    d->len = n;
    if (p == NULL) {
        return OUT_OK;
    }
    if (needs_registry(s->format)) {
        return decode_registry(f, s, topic, p, n, d, why, why_size);
    }
    return check_plain(s, p, n, why, why_size);
}

/* A NUL-terminated copy of bytes (keys are properties: strings). */
static char *string_copy(const void *p, size_t n)
{
    char *s = malloc(n + 1);

    if (s != NULL) {
        memcpy(s, p, n);
        s[n] = '\0';
    }
    return s;
}

static int track_schema(const struct connrt_host *host, connrt_document_t *doc,
                        const char *side, const struct parsed_schema *ps)
{
    char name[64], id[16];

    if (ps == NULL) {
        return 0;
    }
    snprintf(id, sizeof(id), "%d", ps->id);
    snprintf(name, sizeof(name), "kafka.%s.schema_id", side);
    if (host->doc_set_tracked(doc, name, id) != 0) {
        return -1;
    }
    snprintf(name, sizeof(name), "kafka.%s.subject", side);
    return ps->subject != NULL ? host->doc_set_tracked(doc, name, ps->subject) : 0;
}

/* A decoded key (Avro as JSON text, JSON Schema without its header)
 * replaces the raw one that kafka_message_track set, with its schema. */
static int set_decoded_key(const struct connrt_host *host, connrt_document_t *doc,
                           const rd_kafka_message_t *m, const struct decoded *key)
{
    char *k;
    int rc;

    if (key->data == NULL || key->data == m->key) {
        return 0;
    }
    k = string_copy(key->data, key->len);
    rc = k == NULL || host->doc_set_tracked(doc, "kafka.key", k) != 0 ||
         host->doc_set_property(doc, KAFKA_DOC_KEY, k) != 0;
    free(k);
    return rc || track_schema(host, doc, "key", key->schema) != 0 ? -1 : 0;
}

/* The decoded document: value as payload, key as kafka.key/connector.kafka.key. */
static int emit_decoded(struct kafka_formats *f, connrt_batch_t *batch,
                        const rd_kafka_message_t *m, const struct decoded *key,
                        const struct decoded *value, connrt_document_t **doc)
{
    const struct connrt_host *host = f->host;

    *doc = host->batch_emit(batch, value->data ? value->data : "", value->len, NULL);
    if (*doc == NULL || kafka_message_track(host, *doc, m, 1, -1) != 0) {
        return -1;
    }
    return set_decoded_key(host, *doc, m, key) != 0 ||
                   track_schema(host, *doc, "value", value->schema) != 0
               ? -1
               : 0;
}

int kafka_formats_emit(struct kafka_formats *f, connrt_batch_t *batch,
                       const rd_kafka_message_t *m, connrt_document_t **doc, char *errstr,
                       size_t errstr_size)
{
    const char *topic = rd_kafka_topic_name(m->rkt);
    struct decoded key, value;
    char why[ERR_SIZE], message[ERR_SIZE + 256];
    enum outcome ko = decode_side(f, &f->key, topic, m->key, m->key_len, &key, why, sizeof(why));
    enum outcome o = ko;
    int rc;

    memset(&value, 0, sizeof(value));
    if (o == OUT_OK) {
        o = decode_side(f, &f->value, topic, m->payload, m->len, &value, why, sizeof(why));
    }
    snprintf(message, sizeof(message), "message at topic '%s' partition %d offset %" PRId64 ": %s",
             topic, (int)m->partition, m->offset, o == OUT_OK ? "" : why);
    if (o == OUT_NOMEM) {
        rc = -1;
    } else if (o == OUT_UNAVAILABLE) {
        snprintf(errstr, errstr_size, "%s", message);
        rc = 1;
    } else if (o == OUT_UNFIT) {
        /* The raw bytes go on with the reason, for an <on-error> branch;
         * a key that decoded is given decoded, to say which record it was. */
        *doc = f->host->batch_emit(batch, m->payload ? m->payload : "", m->len, message);
        rc = *doc == NULL || kafka_message_track(f->host, *doc, m, 1, -1) != 0 ||
                     (ko == OUT_OK && set_decoded_key(f->host, *doc, m, &key) != 0)
                 ? -1
                 : 0;
    } else {
        rc = emit_decoded(f, batch, m, &key, &value, doc);
    }
    free(key.owned);
    free(value.owned);
    return rc;
}

/* ------------------------------------------------------------------------ */
/* Encoding (Produce)                                                       */
/* ------------------------------------------------------------------------ */

/* The schema Produce writes a side with: the subject's latest, or the
 * side's schema registered under it. */
static enum outcome writer_schema(struct kafka_formats *f, const struct side *s,
                                  const char *topic, const struct parsed_schema **out,
                                  char *why, size_t why_size)
{
    struct kafka_registry_schema rs;
    char subject[512];
    kafka_registry_status_t st;

    if (s->subject != NULL && *s->subject != '\0') {
        snprintf(subject, sizeof(subject), "%s", s->subject);
    } else {
        snprintf(subject, sizeof(subject), "%s-%s", topic, s->name);
    }
    if (f->auto_register) {
        /* The registry client keeps it as the subject's latest: one POST. */
        st = kafka_schema_registry_latest_cached(f->registry, subject, &rs);
        if (st != KAFKA_REGISTRY_OK) {
            st = kafka_schema_registry_register(f->registry, subject, registry_type(s->format),
                                                s->schema, &rs, why, why_size);
        }
    } else {
        char inner[ERR_SIZE / 2];
        st = kafka_schema_registry_latest(f->registry, subject, &rs, inner, sizeof(inner));
        if (st == KAFKA_REGISTRY_NOT_FOUND) {
            snprintf(why, why_size,
                     "subject '%s' has no schema (%s): register one under '%s', or set "
                     "auto_register=true and %s_schema on the operation",
                     subject, inner, subject, s->name);
        } else if (st != KAFKA_REGISTRY_OK) {
            snprintf(why, why_size, "%s", inner);
        }
    }
    if (st != KAFKA_REGISTRY_OK) {
        return registry_outcome(st);
    }
    return schema_get(f, s, rs.id, subject, out, why, why_size);
}

static void wire_header_put(unsigned char *h, int id)
{
    h[0] = 0;
    h[1] = (unsigned char)((uint32_t)id >> 24);
    h[2] = (unsigned char)((uint32_t)id >> 16);
    h[3] = (unsigned char)((uint32_t)id >> 8);
    h[4] = (unsigned char)id;
}

/* Encode one side's bytes p..n into a new buffer (*owned, *len). */
static enum outcome encode_registry(struct kafka_formats *f, const struct side *s,
                                    connrt_document_t *doc, const char *topic, const void *p,
                                    size_t n, void **owned, size_t *len, char *why,
                                    size_t why_size)
{
    const struct parsed_schema *ps = NULL;
    unsigned char header[WIRE_HEADER];
    char inner[ERR_SIZE / 2];
    json_t *j = parse_json(p, n, inner, sizeof(inner));
    enum outcome o;

    if (j == NULL) {
        snprintf(why, why_size, "%s is %s", s->name, inner);
        return OUT_UNFIT;
    }
    o = writer_schema(f, s, topic, &ps, why, why_size);
    if (o == OUT_OK) {
        wire_header_put(header, ps->id);
        if (s->format == FORMAT_AVRO) {
            *owned = kafka_json_to_avro(ps->iface, ps->defaults, j, header, WIRE_HEADER, len,
                                        inner, sizeof(inner));
        } else if (kafka_json_schema_check(ps->json, j, inner, sizeof(inner)) == 0 &&
                   (*owned = malloc(WIRE_HEADER + n)) != NULL) {
            memcpy(*owned, header, WIRE_HEADER);
            memcpy((char *)*owned + WIRE_HEADER, p, n);
            *len = WIRE_HEADER + n;
        }
        if (*owned == NULL) {
            snprintf(why, why_size, "%s does not match schema id %d%s%s: %s", s->name, ps->id,
                     ps->subject ? " of subject " : "", ps->subject ? ps->subject : "", inner);
            o = OUT_UNFIT;
        } else if (track_schema(f->host, doc, s->name, ps) != 0) {
            o = OUT_NOMEM;
        }
    }
    json_decref(j);
    return o;
}

static enum outcome encode_side(struct kafka_formats *f, const struct side *s,
                                connrt_document_t *doc, const char *topic, const void *p,
                                size_t n, void **owned, size_t *len, char *why,
                                size_t why_size)
{
    *owned = NULL;
    if (p == NULL) {
        return OUT_OK;
    }
    if (needs_registry(s->format)) {
        return encode_registry(f, s, doc, topic, p, n, owned, len, why, why_size);
    }
    return check_plain(s, p, n, why, why_size);
}

int kafka_formats_encode(struct kafka_formats *f, const struct connrt_host *host,
                         connrt_document_t *doc, const char *topic, struct kafka_encoded *out,
                         char *errstr, size_t errstr_size)
{
    enum outcome o;

    memset(out, 0, sizeof(*out));
    out->value = host->doc_payload(doc, &out->value_len);
    out->key = host->doc_get_property(doc, KAFKA_DOC_KEY);
    out->key_len = out->key ? strlen(out->key) : 0;
    if (f == NULL) {
        return 0;
    }
    o = encode_side(f, &f->key, doc, topic, out->key, out->key_len, &out->key_owned,
                    &out->key_len, errstr, errstr_size);
    if (o == OUT_OK) {
        o = encode_side(f, &f->value, doc, topic, out->value, out->value_len,
                        &out->value_owned, &out->value_len, errstr, errstr_size);
    }
    if (o == OUT_NOMEM) {
        snprintf(errstr, errstr_size, "out of memory");
    }
    if (o != OUT_OK) {
        kafka_encoded_release(out);
        return -1;
    }
    if (out->key_owned != NULL) {
        out->key = out->key_owned;
    }
    if (out->value_owned != NULL) {
        out->value = out->value_owned;
    }
    return 0;
}

void kafka_encoded_release(struct kafka_encoded *e)
{
    free(e->value_owned);
    free(e->key_owned);
    e->value_owned = NULL;
    e->key_owned = NULL;
}
