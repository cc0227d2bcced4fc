/*
 * fuzz_pem.c - inline PEM of ssl_ca / ssl_certificate / ssl_key: detection
 * ("-----BEGIN" anywhere) and the parse of every block. Input: one byte of
 * options (bit 0: a private key, else certificates; bit 1: check expiry;
 * bit 2: a key password follows, up to a NUL byte), then the value. No
 * directory is given, so nothing is ever written: a value that passes ends
 * at "no directory for inline PEM"; a value that is not inline PEM would
 * be a path to read, and is skipped.
 */
#include <stdlib.h>
#include <string.h>

#include "connector-kafka/pem_material.h"
#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    unsigned opts = size > 0 ? data[0] : 0;
    size_t off = size > 0 ? 1 : 0;
    char *password = NULL, *value, errstr[1024];

    if (opts & 4u) {
        const uint8_t *nul = memchr(data + off, '\0', size - off);
        size_t n = nul != NULL ? (size_t)(nul - (data + off)) : size - off;
        password = fuzz_strndup(data + off, n);
        off += n + (nul != NULL);
    }
    value = fuzz_strndup(data + off, size - off);
    if (value != NULL && strstr(value, "-----BEGIN") != NULL) {
        char *path = kafka_pem_location(
            (opts & 1u) ? "ssl_key" : "ssl_certificate", value,
            (opts & 1u) ? KAFKA_PEM_PRIVATE_KEY : KAFKA_PEM_CERTIFICATES, (opts & 2u) != 0,
            password, NULL, NULL, errstr, sizeof(errstr));
        if (path != NULL) {
            abort(); /* without a directory there is no file to name */
        }
    }
    free(value);
    free(password);
    return 0;
}
