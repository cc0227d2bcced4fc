/*
 * msk.c - Amazon MSK listeners and the IAM OAUTHBEARER token.
 */
#include "msk.h"

#include <ctype.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sigv4.h"

/* Ports of MSK's private listeners (AWS MSK developer guide, "Port
 * information"). Public access uses 9194/9196/9198: give them explicitly. */
static const struct kafka_msk_listener listeners[] = {
    {"iam", 9098, "SASL_SSL", "OAUTHBEARER"},
    {"scram", 9096, "SASL_SSL", "SCRAM-SHA-512"}, /* MSK supports SHA-512 only */
    {"tls", 9094, "SSL", NULL},
    {"plaintext", 9092, "PLAINTEXT", NULL},
};

const struct kafka_msk_listener *kafka_msk_listener(const char *auth)
{
    for (size_t i = 0; auth != NULL && i < sizeof(listeners) / sizeof(listeners[0]); i++) {
        if (strcmp(listeners[i].name, auth) == 0) {
            return &listeners[i];
        }
    }
    return NULL;
}

static int is_sep(char c)
{
    return c == ',' || c == '\n' || c == '\r' || c == ' ' || c == '\t';
}

char *kafka_msk_bootstrap(const char *servers, int port, char *errstr, size_t errstr_size)
{
    size_t cap = strlen(servers) * 2 + 64, n = 0;
    char *out = malloc(cap);
    const char *p = servers;

    if (out == NULL) {
        snprintf(errstr, errstr_size, "out of memory");
        return NULL;
    }
    out[0] = '\0';
    while (*p != '\0') {
        size_t span;
        const char *colon;
        while (is_sep(*p)) {
            p++;
        }
        for (span = 0; p[span] != '\0' && !is_sep(p[span]); span++) {
        }
        if (span == 0) {
            break;
        }
        colon = memchr(p, ':', span);
        n += (size_t)snprintf(out + n, cap - n, "%s%.*s", n > 0 ? "," : "", (int)span, p);
        if (colon == NULL) {
            n += (size_t)snprintf(out + n, cap - n, ":%d", port);
        }
        p += span;
    }
    if (n == 0) {
        free(out);
        snprintf(errstr, errstr_size, "bootstrap_servers is empty");
        return NULL;
    }
    return out;
}

int kafka_msk_region_from_bootstrap(const char *servers, char *out, size_t out_size)
{
    /* b-1.name.abc123.c2.kafka.us-east-1.amazonaws.com:9098 (serverless:
     * boot-x.c1.kafka-serverless.us-east-1.amazonaws.com) */
    static const char *const markers[] = {".kafka-serverless.", ".kafka.", NULL};

    for (size_t i = 0; markers[i] != NULL; i++) {
        const char *m = strstr(servers, markers[i]);
        const char *r, *end;
        if (m == NULL) {
            continue;
        }
        r = m + strlen(markers[i]);
        end = strstr(r, ".amazonaws.com");
        if (end == NULL || end == r || (size_t)(end - r) >= out_size ||
            memchr(r, ',', (size_t)(end - r)) != NULL) {
            continue;
        }
        snprintf(out, out_size, "%.*s", (int)(end - r), r);
        return 0;
    }
    return -1;
}

/* base64url without padding (owned). */
static char *base64url(const char *in)
{
    size_t len = strlen(in);
    char *out = malloc((len + 2) / 3 * 4 + 1);
    int n;

    if (out == NULL) {
        return NULL;
    }
    n = EVP_EncodeBlock((unsigned char *)out, (const unsigned char *)in, (int)len);
    for (int i = 0; i < n; i++) {
        if (out[i] == '+') {
            out[i] = '-';
        } else if (out[i] == '/') {
            out[i] = '_';
        }
    }
    while (n > 0 && out[n - 1] == '=') {
        out[--n] = '\0';
    }
    return out;
}

static int valid_region(const char *region)
{
    if (region == NULL || region[0] == '\0' || strlen(region) > 64) {
        return 0;
    }
    for (const char *p = region; *p != '\0'; p++) {
        if (!islower((unsigned char)*p) && !isdigit((unsigned char)*p) && *p != '-') {
            return 0;
        }
    }
    return 1;
}

static _Atomic int token_lifetime_s = KAFKA_MSK_TOKEN_LIFETIME_S;

void kafka_msk_set_token_lifetime(int seconds)
{
    token_lifetime_s = seconds > 0 ? seconds : KAFKA_MSK_TOKEN_LIFETIME_S;
}

int kafka_msk_token_lifetime(void)
{
    return token_lifetime_s;
}

char *kafka_msk_iam_token(const char *region, const struct kafka_aws_credentials *cred,
                          time_t now, const char *user_agent, char *errstr, size_t errstr_size)
{
    static const char *const query[] = {"Action", "kafka-cluster:Connect", NULL};
    char host[128], amz_date[32], empty_hash[KAFKA_SIGV4_HEX_SIZE], ua[256];
    struct kafka_sigv4_presign req;
    struct tm tm;
    char *url, *full, *token;
    size_t len;

    if (!valid_region(region)) {
        snprintf(errstr, errstr_size, "aws_region '%s' is not an AWS region name",
                 region ? region : "");
        return NULL;
    }
    gmtime_r(&now, &tm);
    strftime(amz_date, sizeof(amz_date), "%Y%m%dT%H%M%SZ", &tm);
    snprintf(host, sizeof(host), "kafka.%s.amazonaws.com", region);
    kafka_sigv4_sha256_hex("", 0, empty_hash);
    req = (struct kafka_sigv4_presign){
        .method = "GET", .host = host, .path = "/", .query = query,
        .service = "kafka-cluster", .region = region, .amz_date = amz_date,
        .expires = token_lifetime_s, .payload_hash = empty_hash,
        .access_key_id = cred->access_key_id, .secret_access_key = cred->secret_access_key,
        .session_token = cred->session_token,
    };
    url = kafka_sigv4_presign_url(&req, errstr, errstr_size);
    if (url == NULL) {
        return NULL;
    }
    /* Appended after signing (not signed), unencoded, as the AWS signers
     * do ("aws-msk-iam-sasl-signer-python/1.0.1"); only safe characters. */
    snprintf(ua, sizeof(ua), "%s", user_agent);
    if (ua[0] == '\0' || strspn(ua, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
                                 "0123456789._-/") != strlen(ua)) {
        snprintf(ua, sizeof(ua), "connrt");
    }
    len = strlen(url) + strlen(ua) + 16;
    full = malloc(len);
    if (full == NULL) {
        free(url);
        snprintf(errstr, errstr_size, "out of memory");
        return NULL;
    }
    snprintf(full, len, "%s&User-Agent=%s", url, ua);
    free(url);
    token = base64url(full);
    OPENSSL_cleanse(full, strlen(full));
    free(full);
    if (token == NULL) {
        snprintf(errstr, errstr_size, "out of memory");
    }
    return token;
}
