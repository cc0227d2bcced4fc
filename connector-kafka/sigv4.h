/*
 * sigv4.h - AWS Signature Version 4 with libcrypto: the pieces of the
 * algorithm (URI encoding, signing key, signature) and a presigned URL.
 *
 * libcurl's CURLOPT_AWS_SIGV4 signs a request it sends (Authorization
 * header); an MSK IAM token is a presigned query string that is never sent
 * over HTTP, so it is computed here. Checked against AWS's published
 * examples and against botocore (tests/unit/test_sigv4.c).
 */
#ifndef CONNRT_KAFKA_SIGV4_H
#define CONNRT_KAFKA_SIGV4_H

#include <stddef.h>

#define KAFKA_SIGV4_HEX_SIZE 65 /* 64 hex digits and a NUL */

/* Hex SHA-256 of `len` bytes of `data` into `out`. */
void kafka_sigv4_sha256_hex(const void *data, size_t len, char out[KAFKA_SIGV4_HEX_SIZE]);

/*
 * RFC 3986 encoding as SigV4 wants it: only A-Z a-z 0-9 - _ . ~ stay as they
 * are, every other byte becomes %XX (upper case). Returns 0, or -1 when
 * `out_size` is too small.
 */
int kafka_sigv4_uri_encode(const char *in, char *out, size_t out_size);

/* kSigning = HMAC chain of "AWS4"+secret over date (YYYYMMDD), region,
 * service and "aws4_request". */
void kafka_sigv4_signing_key(const char *secret, const char *date, const char *region,
                             const char *service, unsigned char out[32]);

/* "AWS4-HMAC-SHA256\n<amz_date>\n<scope>\n<hex sha256 of canonical_request>"
 * into `out`. Returns 0, or -1 when `out_size` is too small. */
int kafka_sigv4_string_to_sign(const char *amz_date, const char *scope,
                               const char *canonical_request, char *out, size_t out_size);

/* Hex HMAC-SHA256 of `string_to_sign` with the signing key of
 * (secret, date, region, service). */
void kafka_sigv4_signature(const char *secret, const char *date, const char *region,
                           const char *service, const char *string_to_sign,
                           char out[KAFKA_SIGV4_HEX_SIZE]);

/* What to presign. All strings borrowed. */
struct kafka_sigv4_presign {
    const char *method;       /* "GET" */
    const char *host;         /* "kafka.us-east-1.amazonaws.com" */
    const char *path;         /* "/" (already URI-encoded) */
    const char *const *query; /* NULL-terminated name, value pairs (not encoded); may be NULL */
    const char *service;      /* "kafka-cluster" */
    const char *region;
    const char *amz_date;     /* "YYYYMMDDTHHMMSSZ", UTC */
    long expires;             /* seconds, X-Amz-Expires */
    const char *payload_hash; /* hex SHA-256 of the body, or "UNSIGNED-PAYLOAD" */
    const char *access_key_id;
    const char *secret_access_key;
    const char *session_token; /* NULL: none */
};

/*
 * The presigned URL "https://HOST PATH?QUERY&X-Amz-Signature=..." with the
 * query in SigV4 canonical order. Returns a new string owned by the caller
 * (free()), or NULL with errstr (never holding the secret).
 */
char *kafka_sigv4_presign_url(const struct kafka_sigv4_presign *req, char *errstr,
                              size_t errstr_size);

#endif
