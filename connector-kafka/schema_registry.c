/*
 * schema_registry.c - the schema registry client (see schema_registry.h):
 * GET /schemas/ids/{id}, GET /schemas/ids/{id}/versions,
 * GET /subjects/{subject}/versions/latest, POST /subjects/{subject}/versions.
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <curl/curl.h>
#include <jansson.h>
#include <openssl/crypto.h>

#include "schema_registry.h"

/* Attempts of one request when the registry is unreachable or answers 5xx,
 * with a doubling backoff from REGISTRY_BACKOFF_MS. */
#define REGISTRY_ATTEMPTS 3
#define REGISTRY_BACKOFF_MS 200
#define REGISTRY_TIMEOUT_MS 10000
/* How long an unavailable registry is not asked again. */
#define REGISTRY_DOWN_MS 1000
/* Largest answer kept: a schema document is small. */
#define REGISTRY_MAX_BODY (16 * 1024 * 1024)

struct cached {
    struct kafka_registry_schema s; /* strings owned */
    char *key;                      /* subject for the latest cache, NULL for ids */
};

struct cache {
    struct cached *items;
    size_t n, cap;
};

struct kafka_schema_registry {
    char *url;   /* without a trailing '/' */
    char *shown; /* url without user info, for messages */
    char *user, *password, *ca;
    pthread_mutex_t lock;
    struct cache by_id, latest;
    atomic_uint requests;
    /* After the registry was found unavailable, requests fail at once
     * until this time (monotonic ms), so a batch does not wait for the
     * retries of every document. */
    long long down_until;
    char down_why[512];
};

struct body {
    char *data;
    size_t len;
};

static pthread_once_t curl_once = PTHREAD_ONCE_INIT;

static void curl_init_once(void)
{
    curl_global_init(CURL_GLOBAL_DEFAULT);
}

static char *dup_or_null(const char *s)
{
    return s != NULL && s[0] != '\0' ? strdup(s) : NULL;
}

/* The URL without "user:password@", so that messages never show a secret. */
static char *shown_url(const char *url)
{
    const char *scheme = strstr(url, "://");
    const char *host = scheme ? scheme + 3 : url;
    const char *at = strchr(host, '@');
    const char *slash = strchr(host, '/');
    size_t len;
    char *s;

    if (at == NULL || (slash != NULL && slash < at)) {
        return strdup(url);
    }
    len = (size_t)(host - url) + strlen(at + 1) + 1;
    s = malloc(len);
    if (s != NULL) {
        snprintf(s, len, "%.*s%s", (int)(host - url), url, at + 1);
    }
    return s;
}

struct kafka_schema_registry *kafka_schema_registry_new(const char *url, const char *user,
                                                        const char *password, const char *ca,
                                                        char *errstr, size_t errstr_size)
{
    struct kafka_schema_registry *r;
    size_t len;

    if (url == NULL || (strncmp(url, "http://", 7) != 0 && strncmp(url, "https://", 8) != 0)) {
        snprintf(errstr, errstr_size,
                 "property 'schema_registry_url' must be an http:// or https:// URL");
        return NULL;
    }
    pthread_once(&curl_once, curl_init_once);
    r = calloc(1, sizeof(*r));
    if (r == NULL) {
        snprintf(errstr, errstr_size, "out of memory");
        return NULL;
    }
    r->url = strdup(url);
    r->shown = shown_url(url);
    r->user = dup_or_null(user);
    r->password = dup_or_null(password);
    r->ca = dup_or_null(ca);
    if (r->url == NULL || r->shown == NULL || (user && *user && !r->user) ||
        (password && *password && !r->password) || (ca && *ca && !r->ca) ||
        pthread_mutex_init(&r->lock, NULL) != 0) {
        snprintf(errstr, errstr_size, "out of memory");
        free(r->ca);
        free(r->url);
        free(r->shown);
        free(r->user);
        free(r->password);
        free(r);
        return NULL;
    }
    len = strlen(r->url);
    while (len > 0 && r->url[len - 1] == '/') {
        r->url[--len] = '\0';
    }
    return r;
}

static void cached_free(struct cached *c)
{
    free((char *)c->s.type);
    free((char *)c->s.schema);
    free((char *)c->s.subject);
    free(c->key);
}

static void cache_free(struct cache *c)
{
    for (size_t i = 0; i < c->n; i++) {
        cached_free(&c->items[i]);
    }
    free(c->items);
}

void kafka_schema_registry_destroy(struct kafka_schema_registry *r)
{
    if (r == NULL) {
        return;
    }
    cache_free(&r->by_id);
    cache_free(&r->latest);
    if (r->password != NULL) {
        OPENSSL_cleanse(r->password, strlen(r->password));
    }
    free(r->url);
    free(r->shown);
    free(r->user);
    free(r->password);
    free(r->ca);
    pthread_mutex_destroy(&r->lock);
    free(r);
}

unsigned kafka_schema_registry_requests(const struct kafka_schema_registry *r)
{
    return atomic_load(&((struct kafka_schema_registry *)r)->requests);
}

/* ------------------------------------------------------------------------ */
/* HTTP                                                                     */
/* ------------------------------------------------------------------------ */

static size_t collect(char *ptr, size_t size, size_t nmemb, void *userdata)
{
    struct body *b = userdata;
    size_t n = size * nmemb;
    char *grown;

    if (b->len + n > REGISTRY_MAX_BODY) {
        return 0;
    }
    grown = realloc(b->data, b->len + n + 1);
    if (grown == NULL) {
        return 0;
    }
    memcpy(grown + b->len, ptr, n);
    b->len += n;
    grown[b->len] = '\0';
    b->data = grown;
    return n;
}

static long long monotonic_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void sleep_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

static void set_tls_and_auth(struct kafka_schema_registry *r, CURL *c)
{
    if (r->user != NULL) {
        curl_easy_setopt(c, CURLOPT_HTTPAUTH, (long)CURLAUTH_BASIC);
        curl_easy_setopt(c, CURLOPT_USERNAME, r->user);
        curl_easy_setopt(c, CURLOPT_PASSWORD, r->password ? r->password : "");
    }
    /* Inline PEM as the property check takes it: anywhere in the value
     * (XML text is often indented). */
    if (r->ca != NULL && strstr(r->ca, "-----BEGIN") != NULL) {
        struct curl_blob blob = {r->ca, strlen(r->ca), CURL_BLOB_COPY};
        curl_easy_setopt(c, CURLOPT_CAINFO_BLOB, &blob);
    } else if (r->ca != NULL) {
        curl_easy_setopt(c, CURLOPT_CAINFO, r->ca);
    }
}

/* One request, once. Returns the CURLcode; *http and *resp on CURLE_OK. */
static CURLcode request_once(struct kafka_schema_registry *r, const char *url, const char *post,
                             long *http, struct body *resp, char *curl_err)
{
    CURL *c = curl_easy_init();
    struct curl_slist *headers = NULL;
    CURLcode rc;

    if (c == NULL) {
        return CURLE_FAILED_INIT;
    }
    headers = curl_slist_append(headers, "Accept: application/vnd.schemaregistry.v1+json, "
                                         "application/json");
    if (post != NULL) {
        headers = curl_slist_append(headers,
                                    "Content-Type: application/vnd.schemaregistry.v1+json");
        curl_easy_setopt(c, CURLOPT_POSTFIELDS, post);
    }
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "https,http");
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L); /* called from librdkafka and listener threads */
    curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, (long)REGISTRY_TIMEOUT_MS);
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, headers);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, collect);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, resp);
    curl_easy_setopt(c, CURLOPT_ERRORBUFFER, curl_err);
    set_tls_and_auth(r, c);
    atomic_fetch_add(&r->requests, 1);
    rc = curl_easy_perform(c);
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, http);
    curl_slist_free_all(headers);
    curl_easy_cleanup(c);
    return rc;
}

/* A certificate or URL problem does not fix itself by retrying. */
static int curl_permanent(CURLcode rc)
{
    return rc == CURLE_PEER_FAILED_VERIFICATION || rc == CURLE_SSL_CACERT_BADFILE ||
           rc == CURLE_UNSUPPORTED_PROTOCOL || rc == CURLE_URL_MALFORMAT ||
           rc == CURLE_SSL_CONNECT_ERROR;
}

/* The registry's own error text: {"error_code":N,"message":"..."}. */
static void registry_message(const struct body *b, char *out, size_t out_size)
{
    json_t *j = b->data ? json_loads(b->data, 0, NULL) : NULL;
    const char *m = j ? json_string_value(json_object_get(j, "message")) : NULL;

    snprintf(out, out_size, "%s", m ? m : "(no message)");
    json_decref(j);
}

/*
 * `path` (GET, or POST `post`) with retries. On OK *answer is the parsed
 * JSON (owned by the caller). `what` names the request in messages.
 */
static kafka_registry_status_t request(struct kafka_schema_registry *r, const char *path,
                                       const char *post, const char *what, json_t **answer,
                                       char *errstr, size_t errstr_size)
{
    char url[2048], curl_err[CURL_ERROR_SIZE], why[512];
    long backoff = REGISTRY_BACKOFF_MS;

    snprintf(url, sizeof(url), "%s%s", r->url, path);
    if (monotonic_ms() < r->down_until) {
        snprintf(errstr, errstr_size, "%s", r->down_why);
        return KAFKA_REGISTRY_UNAVAILABLE;
    }
    for (int attempt = 1;; attempt++) {
        struct body resp = {NULL, 0};
        long http = 0;
        CURLcode rc;

        curl_err[0] = '\0';
        rc = request_once(r, url, post, &http, &resp, curl_err);
        if (rc == CURLE_OK && http >= 200 && http < 300) {
            json_error_t jerr;
            *answer = json_loads(resp.data ? resp.data : "", 0, &jerr);
            free(resp.data);
            if (*answer == NULL) {
                snprintf(errstr, errstr_size, "schema registry %s: %s: the answer is not JSON "
                         "(%s)", r->shown, what, jerr.text);
                return KAFKA_REGISTRY_REFUSED;
            }
            return KAFKA_REGISTRY_OK;
        }
        if (rc == CURLE_OK && http < 500) {
            registry_message(&resp, why, sizeof(why));
            free(resp.data);
            snprintf(errstr, errstr_size, "schema registry %s: %s: HTTP %ld: %s%s", r->shown,
                     what, http, why,
                     http == 401 || http == 403
                         ? " (check schema_registry_user and schema_registry_password)"
                         : "");
            return http == 404 ? KAFKA_REGISTRY_NOT_FOUND : KAFKA_REGISTRY_REFUSED;
        }
        if (rc == CURLE_OK) {
            char message[400];
            registry_message(&resp, message, sizeof(message));
            snprintf(why, sizeof(why), "HTTP %ld: %s", http, message);
        } else {
            snprintf(why, sizeof(why), "%s", curl_err[0] ? curl_err : curl_easy_strerror(rc));
        }
        free(resp.data);
        if (rc != CURLE_OK && curl_permanent(rc)) {
            snprintf(errstr, errstr_size,
                     "schema registry %s: %s: %s (check schema_registry_url%s)", r->shown, what,
                     why,
                     strncmp(r->url, "https:", 6) == 0 ? " and schema_registry_ca" : "");
            return KAFKA_REGISTRY_REFUSED;
        }
        if (attempt >= REGISTRY_ATTEMPTS) {
            snprintf(errstr, errstr_size, "schema registry %s: %s: %s%s (after %d attempt%s)",
                     r->shown, what, rc == CURLE_OK ? "server error: " : "cannot reach it: ",
                     why, attempt, attempt == 1 ? "" : "s");
            r->down_until = monotonic_ms() + REGISTRY_DOWN_MS;
            snprintf(r->down_why, sizeof(r->down_why), "%s", errstr);
            return KAFKA_REGISTRY_UNAVAILABLE;
        }
        sleep_ms(backoff);
        backoff *= 2;
    }
}

/* ------------------------------------------------------------------------ */
/* Caches                                                                   */
/* ------------------------------------------------------------------------ */

static const struct cached *cache_find_id(const struct cache *c, int id)
{
    for (size_t i = 0; i < c->n; i++) {
        if (c->items[i].s.id == id) {
            return &c->items[i];
        }
    }
    return NULL;
}

static struct cached *cache_find_key(const struct cache *c, const char *key)
{
    for (size_t i = 0; i < c->n; i++) {
        if (c->items[i].key != NULL && strcmp(c->items[i].key, key) == 0) {
            return &c->items[i];
        }
    }
    return NULL;
}

/* Add (or, for a key already there, replace) an entry; copies the strings.
 * Returns the entry, or NULL on no memory. */
static const struct cached *cache_put(struct cache *c, const char *key, int id,
                                      const char *type, const char *schema, const char *subject)
{
    struct cached fresh = {{id, strdup(type), strdup(schema), subject ? strdup(subject) : NULL},
                           key ? strdup(key) : NULL};
    struct cached *slot = key ? cache_find_key(c, key) : NULL;

    if (fresh.s.type == NULL || fresh.s.schema == NULL || (subject && !fresh.s.subject) ||
        (key && !fresh.key)) {
        cached_free(&fresh);
        return NULL;
    }
    if (slot != NULL) {
        /* The old entry stays (its strings may be borrowed), unfindable. */
        free(slot->key);
        slot->key = NULL;
    }
    if (c->n == c->cap) {
        size_t cap = c->cap ? 2 * c->cap : 8;
        struct cached *grown = realloc(c->items, cap * sizeof(*grown));
        if (grown == NULL) {
            cached_free(&fresh);
            return NULL;
        }
        c->items = grown;
        c->cap = cap;
    }
    c->items[c->n] = fresh;
    return &c->items[c->n++];
}

/* schemaType is absent for Avro (the registry's default). */
static const char *schema_type(json_t *answer)
{
    const char *t = json_string_value(json_object_get(answer, "schemaType"));
    return t ? t : "AVRO";
}

static kafka_registry_status_t no_memory(char *errstr, size_t errstr_size)
{
    snprintf(errstr, errstr_size, "out of memory");
    return KAFKA_REGISTRY_REFUSED;
}

/* A subject of schema `id`: `preferred` when it is one, else the first. */
static char *subject_of_id(struct kafka_schema_registry *r, int id, const char *preferred)
{
    char path[64], err[256];
    json_t *answer = NULL;
    const char *first = NULL, *chosen = NULL;
    char *subject;
    size_t i;
    json_t *v;

    snprintf(path, sizeof(path), "/schemas/ids/%d/versions", id);
    if (request(r, path, NULL, "subjects of a schema id", &answer, err, sizeof(err)) !=
        KAFKA_REGISTRY_OK) {
        return NULL; /* optional: older registries lack the call */
    }
    json_array_foreach(answer, i, v) {
        const char *s = json_string_value(json_object_get(v, "subject"));
        if (s != NULL && first == NULL) {
            first = s;
        }
        if (s != NULL && preferred != NULL && strcmp(s, preferred) == 0) {
            chosen = s;
        }
    }
    chosen = chosen ? chosen : first;
    subject = chosen ? strdup(chosen) : NULL;
    json_decref(answer);
    return subject;
}

static void fill(struct kafka_registry_schema *out, const struct cached *c)
{
    *out = c->s;
}

kafka_registry_status_t kafka_schema_registry_by_id(struct kafka_schema_registry *r, int id,
                                                    const char *preferred_subject,
                                                    struct kafka_registry_schema *out,
                                                    char *errstr, size_t errstr_size)
{
    kafka_registry_status_t st = KAFKA_REGISTRY_OK;
    const struct cached *c;
    json_t *answer = NULL;
    char path[64], what[64];

    pthread_mutex_lock(&r->lock);
    c = cache_find_id(&r->by_id, id);
    if (c == NULL) {
        snprintf(path, sizeof(path), "/schemas/ids/%d", id);
        snprintf(what, sizeof(what), "schema id %d", id);
        st = request(r, path, NULL, what, &answer, errstr, errstr_size);
    }
    if (c == NULL && st == KAFKA_REGISTRY_OK) {
        const char *schema = json_string_value(json_object_get(answer, "schema"));
        char *subject = subject_of_id(r, id, preferred_subject);
        if (schema == NULL) {
            snprintf(errstr, errstr_size, "schema registry %s: schema id %d: the answer has no "
                     "\"schema\"", r->shown, id);
            st = KAFKA_REGISTRY_REFUSED;
        } else if ((c = cache_put(&r->by_id, NULL, id, schema_type(answer), schema, subject)) ==
                   NULL) {
            st = no_memory(errstr, errstr_size);
        }
        free(subject);
    }
    if (c != NULL) {
        fill(out, c);
    }
    pthread_mutex_unlock(&r->lock);
    json_decref(answer);
    return st;
}

/* An answer {"id","schema","schemaType"?} as the subject's latest; also
 * cached by id. Called with the lock held. */
static kafka_registry_status_t keep_latest(struct kafka_schema_registry *r, const char *subject,
                                           int id, const char *type, const char *schema,
                                           struct kafka_registry_schema *out, char *errstr,
                                           size_t errstr_size)
{
    const struct cached *c;

    if (cache_find_id(&r->by_id, id) == NULL &&
        cache_put(&r->by_id, NULL, id, type, schema, subject) == NULL) {
        return no_memory(errstr, errstr_size);
    }
    c = cache_put(&r->latest, subject, id, type, schema, subject);
    if (c == NULL) {
        return no_memory(errstr, errstr_size);
    }
    fill(out, c);
    return KAFKA_REGISTRY_OK;
}

/* The subject, percent-encoded for a path. Returns owned, or NULL. */
static char *escaped(const char *subject)
{
    CURL *c = curl_easy_init();
    char *e = c ? curl_easy_escape(c, subject, 0) : NULL;
    char *copy = e ? strdup(e) : NULL;

    curl_free(e);
    curl_easy_cleanup(c);
    return copy;
}

kafka_registry_status_t kafka_schema_registry_latest_cached(struct kafka_schema_registry *r,
                                                            const char *subject,
                                                            struct kafka_registry_schema *out)
{
    const struct cached *c;

    pthread_mutex_lock(&r->lock);
    c = cache_find_key(&r->latest, subject);
    if (c != NULL) {
        fill(out, c);
    }
    pthread_mutex_unlock(&r->lock);
    return c != NULL ? KAFKA_REGISTRY_OK : KAFKA_REGISTRY_NOT_FOUND;
}

kafka_registry_status_t kafka_schema_registry_latest(struct kafka_schema_registry *r,
                                                     const char *subject,
                                                     struct kafka_registry_schema *out,
                                                     char *errstr, size_t errstr_size)
{
    kafka_registry_status_t st;
    const struct cached *c;
    json_t *answer = NULL;
    char path[1024], what[512];
    char *e;

    pthread_mutex_lock(&r->lock);
    c = cache_find_key(&r->latest, subject);
    if (c != NULL) {
        fill(out, c);
        pthread_mutex_unlock(&r->lock);
        return KAFKA_REGISTRY_OK;
    }
    e = escaped(subject);
    if (e == NULL) {
        pthread_mutex_unlock(&r->lock);
        return no_memory(errstr, errstr_size);
    }
    snprintf(path, sizeof(path), "/subjects/%s/versions/latest", e);
    snprintf(what, sizeof(what), "latest schema of subject '%s'", subject);
    free(e);
    st = request(r, path, NULL, what, &answer, errstr, errstr_size);
    if (st == KAFKA_REGISTRY_OK) {
        json_t *id = json_object_get(answer, "id");
        const char *schema = json_string_value(json_object_get(answer, "schema"));
        if (!json_is_integer(id) || schema == NULL) {
            snprintf(errstr, errstr_size, "schema registry %s: %s: the answer has no \"id\" "
                     "and \"schema\"", r->shown, what);
            st = KAFKA_REGISTRY_REFUSED;
        } else {
            st = keep_latest(r, subject, (int)json_integer_value(id), schema_type(answer),
                             schema, out, errstr, errstr_size);
        }
    }
    pthread_mutex_unlock(&r->lock);
    json_decref(answer);
    return st;
}

kafka_registry_status_t kafka_schema_registry_register(struct kafka_schema_registry *r,
                                                       const char *subject, const char *type,
                                                       const char *schema,
                                                       struct kafka_registry_schema *out,
                                                       char *errstr, size_t errstr_size)
{
    json_t *req = json_pack("{s:s}", "schema", schema), *answer = NULL;
    kafka_registry_status_t st;
    char path[1024], what[512];
    char *body, *e = escaped(subject);

    if (req != NULL && strcmp(type, "AVRO") != 0) {
        json_object_set_new(req, "schemaType", json_string(type));
    }
    body = req ? json_dumps(req, JSON_COMPACT) : NULL;
    json_decref(req);
    if (body == NULL || e == NULL) {
        free(body);
        free(e);
        return no_memory(errstr, errstr_size);
    }
    snprintf(path, sizeof(path), "/subjects/%s/versions", e);
    snprintf(what, sizeof(what), "registering a schema under subject '%s'", subject);
    free(e);
    pthread_mutex_lock(&r->lock);
    st = request(r, path, body, what, &answer, errstr, errstr_size);
    if (st == KAFKA_REGISTRY_OK) {
        json_t *id = json_object_get(answer, "id");
        if (!json_is_integer(id)) {
            snprintf(errstr, errstr_size, "schema registry %s: %s: the answer has no \"id\"",
                     r->shown, what);
            st = KAFKA_REGISTRY_REFUSED;
        } else {
            st = keep_latest(r, subject, (int)json_integer_value(id), type, schema, out,
                             errstr, errstr_size);
        }
    }
    pthread_mutex_unlock(&r->lock);
    json_decref(answer);
    free(body);
    return st;
}
