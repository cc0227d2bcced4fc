/*
 * schema_registry.h - a client of a Confluent-compatible schema registry
 * (the REST subset connrt uses), over libcurl.
 *
 * One client per operation; it may be used from several threads at once
 * (one lock around its caches and requests). Schemas are cached for the
 * client's life: by id (ids are immutable in a registry) and the latest
 * version by subject (like Confluent's serializers with
 * latest.cache.ttl.sec=-1: a new version is seen by a new operation).
 */
#ifndef CONNRT_KAFKA_SCHEMA_REGISTRY_H
#define CONNRT_KAFKA_SCHEMA_REGISTRY_H

#include <stddef.h>

struct kafka_schema_registry;

/* What a lookup gave. */
typedef enum kafka_registry_status {
    KAFKA_REGISTRY_OK = 0,
    KAFKA_REGISTRY_NOT_FOUND = -1,   /* the registry answered: no such id/subject */
    KAFKA_REGISTRY_REFUSED = -2,     /* it answered with an error (auth, bad schema...) */
    KAFKA_REGISTRY_UNAVAILABLE = -3  /* not reachable after the retries: try again later */
} kafka_registry_status_t;

/* A schema as the registry holds it. Strings are owned by the client and
 * borrowed by the caller until kafka_schema_registry_destroy. */
struct kafka_registry_schema {
    int id;
    const char *type;    /* "AVRO", "JSON" (the registry's schemaType) */
    const char *schema;  /* the schema text */
    const char *subject; /* a subject it is registered under (may be NULL) */
};

/*
 * A new client of the registry at `url` (http or https; borrowed, copied).
 * `user`/`password` (may be NULL; copied, the password wiped on destroy)
 * give basic auth; `ca` (may be NULL) is a CA file path or inline PEM for
 * TLS. Contacts nothing. Returns a client owned by the caller, or NULL with
 * errstr (never quoting the password).
 */
struct kafka_schema_registry *kafka_schema_registry_new(const char *url, const char *user,
                                                        const char *password, const char *ca,
                                                        char *errstr, size_t errstr_size);
/* Free the client and everything it returned. NULL is a no-op. */
void kafka_schema_registry_destroy(struct kafka_schema_registry *r);

/*
 * The schema with id `id` (GET /schemas/ids/{id}, and the subject from
 * GET /schemas/ids/{id}/versions, preferring `preferred_subject` when it is
 * one of them). *out is filled with borrowed strings. Returns a status;
 * on anything but OK errstr says what and where.
 */
kafka_registry_status_t kafka_schema_registry_by_id(struct kafka_schema_registry *r, int id,
                                                    const char *preferred_subject,
                                                    struct kafka_registry_schema *out,
                                                    char *errstr, size_t errstr_size);

/* The latest version of `subject` (GET /subjects/{subject}/versions/latest). */
kafka_registry_status_t kafka_schema_registry_latest(struct kafka_schema_registry *r,
                                                     const char *subject,
                                                     struct kafka_registry_schema *out,
                                                     char *errstr, size_t errstr_size);

/* The subject's latest as this client last saw it; NOT_FOUND when it has
 * not asked (no request is sent). */
kafka_registry_status_t kafka_schema_registry_latest_cached(struct kafka_schema_registry *r,
                                                            const char *subject,
                                                            struct kafka_registry_schema *out);

/*
 * Register `schema` of `type` ("AVRO", "JSON") under `subject` (POST
 * /subjects/{subject}/versions; the registry returns the existing id when
 * it already holds it) and fill *out with it, subject's latest from now on.
 */
kafka_registry_status_t kafka_schema_registry_register(struct kafka_schema_registry *r,
                                                       const char *subject, const char *type,
                                                       const char *schema,
                                                       struct kafka_registry_schema *out,
                                                       char *errstr, size_t errstr_size);

/* Requests sent so far (tests check that the cache works). */
unsigned kafka_schema_registry_requests(const struct kafka_schema_registry *r);

#endif
