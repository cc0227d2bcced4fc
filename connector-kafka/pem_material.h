/*
 * pem_material.h - TLS material of a connection (ssl_ca, ssl_certificate,
 * ssl_key, oauth_ssl_ca) given as a file path or as inline PEM.
 *
 * librdkafka accepts several certificates (a chain, a CA bundle) only from
 * files, so inline PEM is written to a file once: named by the SHA-256 of
 * its content, mode 0600, in a directory of mode 0700 (the container's
 * data/pem/). Either way the material is parsed here first, so a malformed
 * value, a wrong key password or a key that does not match its certificate
 * is reported with the property name before any connection is tried.
 */
#ifndef CONNRT_KAFKA_PEM_MATERIAL_H
#define CONNRT_KAFKA_PEM_MATERIAL_H

#include <stddef.h>

typedef enum kafka_pem_kind {
    KAFKA_PEM_CERTIFICATES, /* one or more X.509 certificates */
    KAFKA_PEM_PRIVATE_KEY   /* one private key, maybe encrypted */
} kafka_pem_kind_t;

/*
 * Directory for inline PEM: CONTAINER/data/pem, or without a container
 * ${TMPDIR:-/tmp}/connrt-UID/pem. Created with mode 0700 (a looser existing
 * one is tightened; one owned by another user is refused). Returns a new
 * string owned by the caller (free()), or NULL with errstr.
 */
char *kafka_pem_dir(const char *container_dir, char *errstr, size_t errstr_size);

/*
 * The file librdkafka should read property `name` from. `value` is a path
 * (relative paths are taken from `container_dir` when it is not NULL) or
 * inline PEM, which is written to `dir` (from kafka_pem_dir) unless a file
 * of that content is already there. The material is checked: certificates
 * must parse (and a client certificate must not have expired: set
 * `check_expiry`), a key must parse and, when encrypted, open with
 * `key_password` (may be NULL). Returns a new path owned by the caller
 * (free()), or NULL with errstr naming `name` (never quoting the value).
 */
char *kafka_pem_location(const char *name, const char *value, kafka_pem_kind_t kind,
                         int check_expiry, const char *key_password, const char *container_dir,
                         const char *dir, char *errstr, size_t errstr_size);

/*
 * Check that the key in `key_path` belongs to the first certificate in
 * `cert_path` (both as returned by kafka_pem_location). Returns 0, or -1 with
 * errstr.
 */
int kafka_pem_check_pair(const char *cert_path, const char *key_path, const char *key_password,
                         char *errstr, size_t errstr_size);

#endif
