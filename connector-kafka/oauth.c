/*
 * oauth.c - OAuth 2.0 client-credentials token requests with libcurl.
 */
#include "clock.h"
#include "oauth.h"

#include <ctype.h>
#include <curl/curl.h>
#include <errno.h>
#include <jansson.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define OAUTH_MAX_BODY (1024 * 1024)
#define OAUTH_MAX_EXTENSIONS 16
#define OAUTH_DEFAULT_LIFETIME_S 3600

struct kafka_oauth {
    char *endpoint, *shown_endpoint, *client_id, *client_secret, *scopes, *ca_path;
    int post;
    int attempts;
    long backoff_ms, timeout_ms;
    char *ext_storage[2 * OAUTH_MAX_EXTENSIONS];
    size_t ext_count;
    atomic_uint requests;
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

static void wipe_free(char *s)
{
    if (s != NULL) {
        OPENSSL_cleanse(s, strlen(s));
        free(s);
    }
}

/* The endpoint without user info or query, fit for messages. */
static char *shown_url(const char *url)
{
    const char *scheme_end = strstr(url, "://");
    const char *host = scheme_end != NULL ? scheme_end + 3 : url;
    const char *at = strchr(host, '@');
    const char *slash = strchr(host, '/');
    size_t keep;
    char *out;

    if (at != NULL && (slash == NULL || at < slash)) {
        host = at + 1;
    }
    keep = strcspn(host, "?#");
    out = malloc((size_t)(host - url) + keep + 1);
    if (out != NULL) {
        size_t prefix = scheme_end != NULL ? (size_t)(scheme_end + 3 - url) : 0;
        memcpy(out, url, prefix);
        memcpy(out + prefix, host, keep);
        out[prefix + keep] = '\0';
    }
    return out;
}

/* "k=v,k=v" -> ext_storage; librdkafka's rules: key alphabetic, not
 * "auth"; value printable. */
static int parse_extensions(struct kafka_oauth *o, const char *s, char *errstr,
                            size_t errstr_size)
{
    const char *p = s;

    while (p != NULL && *p != '\0') {
        size_t len = strcspn(p, ",");
        const char *eq = memchr(p, '=', len);
        size_t klen = eq != NULL ? (size_t)(eq - p) : 0;
        if (eq == NULL || klen == 0) {
            snprintf(errstr, errstr_size,
                     "oauth_sasl_extensions: expected KEY=VALUE,... (item %zu)",
                     o->ext_count + 1);
            return -1;
        }
        for (size_t i = 0; i < klen; i++) {
            if (!isalpha((unsigned char)p[i])) {
                snprintf(errstr, errstr_size,
                         "oauth_sasl_extensions: key '%.*s' must be letters only (RFC 7628)",
                         (int)klen, p);
                return -1;
            }
        }
        if (klen == 4 && strncmp(p, "auth", 4) == 0) {
            snprintf(errstr, errstr_size, "oauth_sasl_extensions: key 'auth' is reserved");
            return -1;
        }
        if (o->ext_count >= OAUTH_MAX_EXTENSIONS) {
            snprintf(errstr, errstr_size, "oauth_sasl_extensions: more than %d items",
                     OAUTH_MAX_EXTENSIONS);
            return -1;
        }
        o->ext_storage[2 * o->ext_count] = strndup(p, klen);
        o->ext_storage[2 * o->ext_count + 1] = strndup(eq + 1, len - klen - 1);
        o->ext_count++;
        p += len;
        if (*p == ',') {
            p++;
        }
    }
    return 0;
}

kafka_oauth_t *kafka_oauth_new(const struct kafka_oauth_config *cfg, char *errstr,
                               size_t errstr_size)
{
    struct kafka_oauth *o;

    if (cfg->token_endpoint == NULL || cfg->token_endpoint[0] == '\0') {
        snprintf(errstr, errstr_size, "OAUTHBEARER needs oauth_token_endpoint");
        return NULL;
    }
    if (strncmp(cfg->token_endpoint, "https://", 8) != 0 &&
        strncmp(cfg->token_endpoint, "http://", 7) != 0) {
        snprintf(errstr, errstr_size, "oauth_token_endpoint must be an https:// URL");
        return NULL;
    }
    if (cfg->client_id == NULL || cfg->client_id[0] == '\0' || cfg->client_secret == NULL ||
        cfg->client_secret[0] == '\0') {
        snprintf(errstr, errstr_size,
                 "OAUTHBEARER needs oauth_client_id and oauth_client_secret");
        return NULL;
    }
    pthread_once(&curl_once, curl_init_once);
    o = calloc(1, sizeof(*o));
    if (o == NULL) {
        snprintf(errstr, errstr_size, "out of memory");
        return NULL;
    }
    o->endpoint = strdup(cfg->token_endpoint);
    o->shown_endpoint = shown_url(cfg->token_endpoint);
    o->client_id = strdup(cfg->client_id);
    o->client_secret = strdup(cfg->client_secret);
    o->scopes = dup_or_null(cfg->scopes);
    o->ca_path = dup_or_null(cfg->ca_path);
    o->post = cfg->client_auth_post;
    o->attempts = cfg->attempts > 0 ? cfg->attempts : 1;
    o->backoff_ms = cfg->backoff_ms > 0 ? cfg->backoff_ms : 1;
    o->timeout_ms = cfg->timeout_ms > 0 ? cfg->timeout_ms : 10000;
    if (o->endpoint == NULL || o->shown_endpoint == NULL || o->client_id == NULL ||
        o->client_secret == NULL) {
        kafka_oauth_destroy(o);
        snprintf(errstr, errstr_size, "out of memory");
        return NULL;
    }
    if (parse_extensions(o, cfg->extensions, errstr, errstr_size) != 0) {
        kafka_oauth_destroy(o);
        return NULL;
    }
    return o;
}

void kafka_oauth_destroy(kafka_oauth_t *o)
{
    if (o == NULL) {
        return;
    }
    free(o->endpoint);
    free(o->shown_endpoint);
    free(o->client_id);
    wipe_free(o->client_secret);
    free(o->scopes);
    free(o->ca_path);
    for (size_t i = 0; i < 2 * o->ext_count; i++) {
        free(o->ext_storage[i]);
    }
    free(o);
}

const char **kafka_oauth_extensions(const kafka_oauth_t *o, size_t *count)
{
    *count = 2 * o->ext_count;
    return (const char **)o->ext_storage;
}

unsigned kafka_oauth_requests(const kafka_oauth_t *o)
{
    return atomic_load(&o->requests);
}

void kafka_oauth_token_clear(struct kafka_oauth_token *tok)
{
    wipe_free(tok->value);
    free(tok->principal);
    tok->value = tok->principal = NULL;
}

/* ------------------------------------------------------------------------ */
/* One HTTP exchange                                                        */
/* ------------------------------------------------------------------------ */

struct body {
    char *data;
    size_t len;
};

static size_t collect(char *ptr, size_t size, size_t nmemb, void *userdata)
{
    struct body *b = userdata;
    size_t n = size * nmemb;
    char *p;

    if (b->len + n > OAUTH_MAX_BODY) {
        return 0; /* aborts the transfer */
    }
    p = realloc(b->data, b->len + n + 1);
    if (p == NULL) {
        return 0;
    }
    memcpy(p + b->len, ptr, n);
    b->data = p;
    b->len += n;
    b->data[b->len] = '\0';
    return n;
}

/* application/x-www-form-urlencoded value (owned). */
static char *form_encode(CURL *c, const char *s)
{
    char *e = curl_easy_escape(c, s, 0);
    char *out = e != NULL ? strdup(e) : NULL;

    curl_free(e);
    return out;
}

/* "Authorization: Basic base64(urlenc(id):urlenc(secret))" (RFC 6749
 * 2.3.1 encodes both before base64). Owned. */
static char *basic_header(CURL *c, const struct kafka_oauth *o)
{
    char *id = form_encode(c, o->client_id), *secret = form_encode(c, o->client_secret);
    char *pair = NULL, *header = NULL;
    size_t plen;

    if (id != NULL && secret != NULL) {
        plen = strlen(id) + strlen(secret) + 2;
        pair = malloc(plen);
    }
    if (pair != NULL) {
        size_t hlen;
        snprintf(pair, plen, "%s:%s", id, secret);
        hlen = 4 * ((strlen(pair) + 2) / 3) + 32;
        header = malloc(hlen);
        if (header != NULL) {
            int n = snprintf(header, hlen, "Authorization: Basic ");
            EVP_EncodeBlock((unsigned char *)header + n, (const unsigned char *)pair,
                            (int)strlen(pair));
        }
        wipe_free(pair);
    }
    free(id);
    wipe_free(secret);
    return header;
}

static char *request_body(CURL *c, const struct kafka_oauth *o)
{
    char *scope = o->scopes != NULL ? form_encode(c, o->scopes) : NULL;
    char *id = o->post ? form_encode(c, o->client_id) : NULL;
    char *secret = o->post ? form_encode(c, o->client_secret) : NULL;
    size_t len = 64 + (scope ? strlen(scope) : 0) + (id ? strlen(id) : 0) +
                 (secret ? strlen(secret) : 0);
    char *body = malloc(len);

    if (body != NULL) {
        snprintf(body, len, "grant_type=client_credentials%s%s%s%s%s%s",
                 scope ? "&scope=" : "", scope ? scope : "", id ? "&client_id=" : "",
                 id ? id : "", secret ? "&client_secret=" : "", secret ? secret : "");
    }
    free(scope);
    free(id);
    wipe_free(secret);
    return body;
}

enum outcome { OUTCOME_OK, OUTCOME_RETRY, OUTCOME_FATAL };

/* Take curl's " after N ms" out of its message ("Failed to connect to H
 * port P after 0 ms: ..."): it changes from one try to the next and the
 * retries are counted in the message already. */
static void drop_elapsed(char *msg)
{
    char *p = strstr(msg, " after ");
    char *end = p ? p + strlen(" after ") : NULL;

    if (end == NULL || *end < '0' || *end > '9') {
        return;
    }
    end += strspn(end, "0123456789");
    if (strncmp(end, " ms", 3) == 0) {
        memmove(p, end + 3, strlen(end + 3) + 1);
    }
}

/* POST once. On OK, *http holds the status and body the answer. */
static enum outcome post_once(struct kafka_oauth *o, long *http, struct body *resp,
                              char *errstr, size_t errstr_size)
{
    CURL *c = curl_easy_init();
    struct curl_slist *headers = NULL;
    char *auth = NULL, *body = NULL;
    char curl_err[CURL_ERROR_SIZE] = "";
    CURLcode rc;

    if (c == NULL) {
        snprintf(errstr, errstr_size, "OAuth: cannot initialise libcurl");
        return OUTCOME_FATAL;
    }
    body = request_body(c, o);
    if (!o->post) {
        auth = basic_header(c, o);
        headers = curl_slist_append(headers, auth != NULL ? auth : "X-No-Auth: 1");
    }
    headers = curl_slist_append(headers, "Accept: application/json");
    curl_easy_setopt(c, CURLOPT_URL, o->endpoint);
    curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "https,http");
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L); /* called from librdkafka threads */
    curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, o->timeout_ms);
    curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, o->timeout_ms);
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, headers);
    curl_easy_setopt(c, CURLOPT_POSTFIELDS, body != NULL ? body : "");
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, collect);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, resp);
    curl_easy_setopt(c, CURLOPT_ERRORBUFFER, curl_err);
    if (o->ca_path != NULL) {
        curl_easy_setopt(c, CURLOPT_CAINFO, o->ca_path);
    }
    atomic_fetch_add(&o->requests, 1);
    rc = curl_easy_perform(c);
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, http);
    curl_slist_free_all(headers);
    wipe_free(auth);
    wipe_free(body);
    curl_easy_cleanup(c);
    if (rc != CURLE_OK) {
        drop_elapsed(curl_err);
        snprintf(errstr, errstr_size, "OAuth: cannot reach the token endpoint %s: %s",
                 o->shown_endpoint, curl_err[0] ? curl_err : curl_easy_strerror(rc));
        /* A certificate problem does not fix itself. */
        return rc == CURLE_PEER_FAILED_VERIFICATION || rc == CURLE_SSL_CACERT_BADFILE ||
                       rc == CURLE_UNSUPPORTED_PROTOCOL || rc == CURLE_URL_MALFORMAT
                   ? OUTCOME_FATAL
                   : OUTCOME_RETRY;
    }
    return OUTCOME_OK;
}

/* ------------------------------------------------------------------------ */
/* The answer                                                               */
/* ------------------------------------------------------------------------ */

/* The "sub" claim of a JWT access token, or NULL (owned). */
static char *jwt_subject(const char *token)
{
    const char *dot1 = strchr(token, '.'), *dot2 = dot1 ? strchr(dot1 + 1, '.') : NULL;
    size_t len = dot2 ? (size_t)(dot2 - dot1 - 1) : 0;
    char *b64, *json = NULL, *sub = NULL;
    json_t *claims;
    int n;

    if (len == 0 || len > 16384) {
        return NULL;
    }
    b64 = malloc(len + 4);
    json = malloc(len + 4);
    if (b64 == NULL || json == NULL) {
        free(b64);
        free(json);
        return NULL;
    }
    for (size_t i = 0; i < len; i++) {
        char ch = dot1[1 + i];
        b64[i] = ch == '-' ? '+' : ch == '_' ? '/' : ch;
    }
    while (len % 4 != 0) {
        b64[len++] = '=';
    }
    n = EVP_DecodeBlock((unsigned char *)json, (unsigned char *)b64, (int)len);
    if (n > 0) {
        json[n] = '\0';
        claims = json_loadb(json, strnlen(json, (size_t)n), 0, NULL);
        if (json_is_string(json_object_get(claims, "sub"))) {
            sub = strdup(json_string_value(json_object_get(claims, "sub")));
        }
        json_decref(claims);
    }
    free(b64);
    free(json);
    return sub;
}

/* The error fields of a refusal, for the message. */
static void refusal(const struct kafka_oauth *o, long http, json_t *doc, char *errstr,
                    size_t errstr_size)
{
    const char *error = json_string_value(json_object_get(doc, "error"));
    const char *desc = json_string_value(json_object_get(doc, "error_description"));
    const char *hint = "";

    if (error != NULL && strcmp(error, "invalid_client") == 0) {
        hint = ": check oauth_client_id and oauth_client_secret";
    } else if (http == 401) {
        hint = ": check oauth_client_id and oauth_client_secret";
    } else if (error != NULL && strcmp(error, "invalid_scope") == 0) {
        hint = ": check oauth_scopes";
    }
    snprintf(errstr, errstr_size,
             "OAuth: the token endpoint %s refused client '%s' (HTTP %ld%s%s%s%s)%s",
             o->shown_endpoint, o->client_id, http, error ? ", " : "", error ? error : "",
             desc ? ": " : "", desc ? desc : "", hint);
}

static enum outcome parse_answer(const struct kafka_oauth *o, long http, const struct body *b,
                                 struct kafka_oauth_token *tok, char *errstr,
                                 size_t errstr_size)
{
    json_t *doc = b->data != NULL ? json_loadb(b->data, b->len, 0, NULL) : NULL;
    const char *token = json_string_value(json_object_get(doc, "access_token"));
    json_t *expires = json_object_get(doc, "expires_in");
    long long lifetime_s = OAUTH_DEFAULT_LIFETIME_S;

    if (http >= 500 || http == 429 || http == 408) {
        snprintf(errstr, errstr_size, "OAuth: the token endpoint %s answered HTTP %ld%s%s",
                 o->shown_endpoint, http, json_string_value(json_object_get(doc, "error"))
                 ? " " : "", json_string_value(json_object_get(doc, "error"))
                 ? json_string_value(json_object_get(doc, "error")) : "");
        json_decref(doc);
        return OUTCOME_RETRY;
    }
    if (http != 200 || token == NULL || token[0] == '\0') {
        if (http == 200) {
            snprintf(errstr, errstr_size,
                     "OAuth: the token endpoint %s answered without an access_token",
                     o->shown_endpoint);
        } else {
            refusal(o, http, doc, errstr, errstr_size);
        }
        json_decref(doc);
        return OUTCOME_FATAL;
    }
    if (json_is_integer(expires) && json_integer_value(expires) > 0) {
        lifetime_s = json_integer_value(expires);
    } else if (json_is_string(expires)) {
        lifetime_s = strtoll(json_string_value(expires), NULL, 10);
        lifetime_s = lifetime_s > 0 ? lifetime_s : OAUTH_DEFAULT_LIFETIME_S;
    }
    tok->value = strdup(token);
    tok->principal = jwt_subject(token);
    if (tok->principal == NULL) {
        tok->principal = strdup(o->client_id);
    }
    tok->expires_ms = kafka_wall_ms() + lifetime_s * 1000;
    json_decref(doc);
    if (tok->value == NULL || tok->principal == NULL) {
        kafka_oauth_token_clear(tok);
        snprintf(errstr, errstr_size, "out of memory");
        return OUTCOME_FATAL;
    }
    return OUTCOME_OK;
}

static void pause_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};

    while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {
    }
}

int kafka_oauth_fetch(kafka_oauth_t *o, struct kafka_oauth_token *tok, char *errstr,
                      size_t errstr_size)
{
    long delay = o->backoff_ms;

    memset(tok, 0, sizeof(*tok));
    for (int attempt = 1; attempt <= o->attempts; attempt++) {
        struct body resp = {NULL, 0};
        long http = 0;
        enum outcome out = post_once(o, &http, &resp, errstr, errstr_size);
        if (out == OUTCOME_OK) {
            out = parse_answer(o, http, &resp, tok, errstr, errstr_size);
        }
        if (resp.data != NULL) {
            OPENSSL_cleanse(resp.data, resp.len);
            free(resp.data);
        }
        if (out == OUTCOME_OK) {
            return 0;
        }
        if (out == OUTCOME_FATAL) {
            return -1;
        }
        if (attempt < o->attempts) {
            /* Backoff before the next try, not after the last one. */
            pause_ms(delay);
            delay *= 2;
        } else {
            size_t n = strlen(errstr);
            snprintf(errstr + n, errstr_size - n, " (%d attempts)", o->attempts);
        }
    }
    return -1;
}
