/*
 * oauth.h - OAuth 2.0 client credentials (RFC 6749 section 4.4) with
 * libcurl, for SASL/OAUTHBEARER. librdkafka 2.0.2 has no built-in OIDC, so
 * its token refresh callback calls kafka_oauth_fetch and hands the token to
 * rd_kafka_oauthbearer_set_token; librdkafka calls it again at 80% of the
 * token's lifetime, so a token is replaced before it expires.
 */
#ifndef CONNRT_KAFKA_OAUTH_H
#define CONNRT_KAFKA_OAUTH_H

#include <stddef.h>

/* Settings, borrowed for the call to kafka_oauth_new only. */
struct kafka_oauth_config {
    const char *token_endpoint; /* https://... (http:// allowed, for tests) */
    const char *client_id;
    const char *client_secret;
    const char *scopes;         /* space separated; may be NULL */
    const char *extensions;     /* "k=v,k=v"; may be NULL */
    const char *ca_path;        /* CA file for the endpoint; NULL: system CAs */
    int client_auth_post;       /* 1: id and secret in the body; 0: HTTP Basic */
    int attempts;               /* tries per fetch, >= 1 */
    long backoff_ms;            /* first retry delay; doubles each retry */
    long timeout_ms;            /* per HTTP request */
};

typedef struct kafka_oauth kafka_oauth_t;

/* A token as librdkafka wants it. */
struct kafka_oauth_token {
    char *value;              /* owned (secret) */
    char *principal;          /* owned: JWT "sub", else the client id */
    long long expires_ms;     /* absolute, ms since the epoch */
};

/*
 * Check and copy `cfg` (extensions parsed here). Returns a new object owned
 * by the caller (kafka_oauth_destroy), or NULL with errstr.
 */
kafka_oauth_t *kafka_oauth_new(const struct kafka_oauth_config *cfg, char *errstr,
                               size_t errstr_size);
void kafka_oauth_destroy(kafka_oauth_t *oauth); /* NULL is a no-op; wipes the secret */

/*
 * Get a token from the endpoint, retrying transport errors, 5xx and 429
 * with exponential backoff (cfg->attempts tries in all). A refusal (bad
 * secret, bad scope) is not retried. Thread-safe. Returns 0 and fills *tok
 * (free with kafka_oauth_token_clear), or -1 with errstr (never the secret).
 */
int kafka_oauth_fetch(kafka_oauth_t *oauth, struct kafka_oauth_token *tok, char *errstr,
                      size_t errstr_size);
void kafka_oauth_token_clear(struct kafka_oauth_token *tok);

/* SASL extensions as librdkafka's set_token wants them: key, value, key,
 * value...; *count is the number of strings. Borrowed until destroy. */
const char **kafka_oauth_extensions(const kafka_oauth_t *oauth, size_t *count);

/* HTTP requests made so far (tests observe retries and refreshes). */
unsigned kafka_oauth_requests(const kafka_oauth_t *oauth);

#endif
