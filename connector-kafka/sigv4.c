/*
 * sigv4.c - AWS Signature Version 4 (query-string presigning) on libcrypto.
 */
#include "sigv4.h"

#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SIGV4_MAX_PARAMS 32

static void to_hex(const unsigned char *d, size_t n, char *out)
{
    static const char digits[] = "0123456789abcdef";

    for (size_t i = 0; i < n; i++) {
        out[2 * i] = digits[d[i] >> 4];
        out[2 * i + 1] = digits[d[i] & 15];
    }
    out[2 * n] = '\0';
}

void kafka_sigv4_sha256_hex(const void *data, size_t len, char out[KAFKA_SIGV4_HEX_SIZE])
{
    unsigned char md[32];
    unsigned int mdlen = sizeof(md);

    EVP_Digest(data, len, md, &mdlen, EVP_sha256(), NULL);
    to_hex(md, sizeof(md), out);
}

static void hmac_sha256(const unsigned char *key, size_t keylen, const char *msg,
                        unsigned char out[32])
{
    unsigned int len = 32;

    HMAC(EVP_sha256(), key, (int)keylen, (const unsigned char *)msg, strlen(msg), out, &len);
}

static int unreserved(unsigned char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
           c == '-' || c == '_' || c == '.' || c == '~';
}

int kafka_sigv4_uri_encode(const char *in, char *out, size_t out_size)
{
    static const char digits[] = "0123456789ABCDEF";
    size_t n = 0;

    for (const unsigned char *p = (const unsigned char *)in; *p != '\0'; p++) {
        size_t need = unreserved(*p) ? 1 : 3;
        if (n + need >= out_size) {
            return -1;
        }
        if (need == 1) {
            out[n++] = (char)*p;
        } else {
            out[n++] = '%';
            out[n++] = digits[*p >> 4];
            out[n++] = digits[*p & 15];
        }
    }
    if (n >= out_size) {
        return -1;
    }
    out[n] = '\0';
    return 0;
}

void kafka_sigv4_signing_key(const char *secret, const char *date, const char *region,
                             const char *service, unsigned char out[32])
{
    size_t klen = strlen(secret) + 5;
    char *k = malloc(klen);
    unsigned char a[32], b[32];

    if (k == NULL) {
        memset(out, 0, 32);
        return;
    }
    snprintf(k, klen, "AWS4%s", secret);
    hmac_sha256((const unsigned char *)k, strlen(k), date, a);
    OPENSSL_cleanse(k, klen);
    free(k);
    hmac_sha256(a, 32, region, b);
    hmac_sha256(b, 32, service, a);
    hmac_sha256(a, 32, "aws4_request", out);
    OPENSSL_cleanse(a, sizeof(a));
    OPENSSL_cleanse(b, sizeof(b));
}

int kafka_sigv4_string_to_sign(const char *amz_date, const char *scope,
                               const char *canonical_request, char *out, size_t out_size)
{
    char hash[KAFKA_SIGV4_HEX_SIZE];
    int n;

    kafka_sigv4_sha256_hex(canonical_request, strlen(canonical_request), hash);
    n = snprintf(out, out_size, "AWS4-HMAC-SHA256\n%s\n%s\n%s", amz_date, scope, hash);
    return n < 0 || (size_t)n >= out_size ? -1 : 0;
}

void kafka_sigv4_signature(const char *secret, const char *date, const char *region,
                           const char *service, const char *string_to_sign,
                           char out[KAFKA_SIGV4_HEX_SIZE])
{
    unsigned char key[32], sig[32];

    kafka_sigv4_signing_key(secret, date, region, service, key);
    hmac_sha256(key, sizeof(key), string_to_sign, sig);
    OPENSSL_cleanse(key, sizeof(key));
    to_hex(sig, sizeof(sig), out);
}

/* ------------------------------------------------------------------------ */
/* Presigning                                                               */
/* ------------------------------------------------------------------------ */

/* A growing string; `data` NULL after an allocation failure. */
struct strbuf {
    char *data;
    size_t len, cap;
};

static void sb_add(struct strbuf *sb, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void sb_add(struct strbuf *sb, const char *fmt, ...)
{
    va_list ap;
    int n;

    if (sb->data == NULL && sb->cap != 0) {
        return; /* already failed */
    }
    va_start(ap, fmt);
    n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0) {
        return;
    }
    if (sb->len + (size_t)n + 1 > sb->cap) {
        size_t cap = (sb->len + (size_t)n + 1) * 2;
        char *p = realloc(sb->data, cap);
        if (p == NULL) {
            free(sb->data);
            sb->data = NULL;
            sb->cap = 1;
            return;
        }
        sb->data = p;
        sb->cap = cap;
    }
    va_start(ap, fmt);
    vsnprintf(sb->data + sb->len, sb->cap - sb->len, fmt, ap);
    va_end(ap);
    sb->len += (size_t)n;
}

/* One query parameter, both halves already URI-encoded (owned). */
struct param {
    char *name;
    char *value;
};

static char *encode_dup(const char *s)
{
    size_t size = strlen(s) * 3 + 1;
    char *out = malloc(size);

    if (out != NULL && kafka_sigv4_uri_encode(s, out, size) != 0) {
        free(out);
        out = NULL;
    }
    return out;
}

static int param_cmp(const void *a, const void *b)
{
    const struct param *x = a, *y = b;
    int c = strcmp(x->name, y->name);

    return c != 0 ? c : strcmp(x->value, y->value);
}

static int add_param(struct param *params, size_t *n, const char *name, const char *value)
{
    if (*n >= SIGV4_MAX_PARAMS) {
        return -1;
    }
    params[*n].name = encode_dup(name);
    params[*n].value = encode_dup(value);
    (*n)++;
    return params[*n - 1].name != NULL && params[*n - 1].value != NULL ? 0 : -1;
}

static void free_params(struct param *params, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        free(params[i].name);
        free(params[i].value);
    }
}

static char *join_params(const struct param *params, size_t n)
{
    struct strbuf sb = {NULL, 0, 0};

    for (size_t i = 0; i < n; i++) {
        sb_add(&sb, "%s%s=%s", i > 0 ? "&" : "", params[i].name, params[i].value);
    }
    return sb.data;
}

/*
 * The query twice: *canonical in SigV4's sorted order (what is signed) and
 * *url in botocore's order (the request's own parameters, then X-Amz-*), so
 * that the URL, not just the signature, is the one the AWS SDKs make.
 */
static int build_query(const struct kafka_sigv4_presign *req, const char *scope,
                       char **canonical, char **url)
{
    struct param params[SIGV4_MAX_PARAMS];
    size_t n = 0;
    int bad = 0;
    char credential[512], expires[32];

    snprintf(credential, sizeof(credential), "%s/%s", req->access_key_id, scope);
    snprintf(expires, sizeof(expires), "%ld", req->expires);
    for (const char *const *q = req->query; q != NULL && q[0] != NULL && !bad; q += 2) {
        bad |= add_param(params, &n, q[0], q[1]);
    }
    bad |= add_param(params, &n, "X-Amz-Algorithm", "AWS4-HMAC-SHA256");
    bad |= add_param(params, &n, "X-Amz-Credential", credential);
    bad |= add_param(params, &n, "X-Amz-Date", req->amz_date);
    bad |= add_param(params, &n, "X-Amz-Expires", expires);
    bad |= add_param(params, &n, "X-Amz-SignedHeaders", "host");
    if (req->session_token != NULL) {
        bad |= add_param(params, &n, "X-Amz-Security-Token", req->session_token);
    }
    *url = bad ? NULL : join_params(params, n);
    if (!bad) {
        qsort(params, n, sizeof(params[0]), param_cmp);
    }
    *canonical = bad ? NULL : join_params(params, n);
    free_params(params, n);
    if (*url == NULL || *canonical == NULL) {
        free(*url);
        free(*canonical);
        return -1;
    }
    return 0;
}

char *kafka_sigv4_presign_url(const struct kafka_sigv4_presign *req, char *errstr,
                              size_t errstr_size)
{
    char date[9], scope[256], sts[512], signature[KAFKA_SIGV4_HEX_SIZE];
    struct strbuf creq = {NULL, 0, 0}, url = {NULL, 0, 0};
    char *query, *url_query;

    if (strlen(req->amz_date) != 16 || req->amz_date[8] != 'T' || req->amz_date[15] != 'Z') {
        snprintf(errstr, errstr_size, "SigV4: bad time stamp '%s'", req->amz_date);
        return NULL;
    }
    memcpy(date, req->amz_date, 8);
    date[8] = '\0';
    snprintf(scope, sizeof(scope), "%s/%s/%s/aws4_request", date, req->region, req->service);
    if (build_query(req, scope, &query, &url_query) != 0) {
        snprintf(errstr, errstr_size, "SigV4: cannot build the query (too long or no memory)");
        return NULL;
    }
    /* Presigned URLs sign only the host header. */
    sb_add(&creq, "%s\n%s\n%s\nhost:%s\n\nhost\n%s", req->method, req->path, query, req->host,
           req->payload_hash);
    if (creq.data == NULL ||
        kafka_sigv4_string_to_sign(req->amz_date, scope, creq.data, sts, sizeof(sts)) != 0) {
        free(creq.data);
        free(query);
        free(url_query);
        snprintf(errstr, errstr_size, "SigV4: no memory");
        return NULL;
    }
    kafka_sigv4_signature(req->secret_access_key, date, req->region, req->service, sts,
                          signature);
    sb_add(&url, "https://%s%s?%s&X-Amz-Signature=%s", req->host, req->path, url_query,
           signature);
    free(creq.data);
    free(query);
    free(url_query);
    if (url.data == NULL) {
        snprintf(errstr, errstr_size, "SigV4: no memory");
    }
    return url.data;
}
