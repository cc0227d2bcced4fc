/*
 * pem_material.c - check TLS material and write inline PEM to owner-only
 * files named by their SHA-256.
 */
#include "pem_material.h"

#include <errno.h>
#include <fcntl.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "sigv4.h"

/* ------------------------------------------------------------------------ */
/* Directories and files                                                    */
/* ------------------------------------------------------------------------ */

/* mkdir DIR with `mode`, or check an existing one: a directory of ours,
 * tightened to `mode` when looser. */
static int ensure_dir(const char *path, mode_t mode, char *errstr, size_t errstr_size)
{
    struct stat st;

    if (mkdir(path, mode) != 0 && errno != EEXIST) {
        snprintf(errstr, errstr_size, "cannot create directory %s: %s", path, strerror(errno));
        return -1;
    }
    if (lstat(path, &st) != 0 || !S_ISDIR(st.st_mode)) {
        snprintf(errstr, errstr_size, "%s is not a directory", path);
        return -1;
    }
    if (st.st_uid != geteuid()) {
        snprintf(errstr, errstr_size,
                 "%s belongs to another user (uid %u): refusing to keep key material there",
                 path, (unsigned)st.st_uid);
        return -1;
    }
    if ((st.st_mode & 07777) != mode && chmod(path, mode) != 0) {
        snprintf(errstr, errstr_size, "cannot set mode %o on %s: %s", (unsigned)mode, path,
                 strerror(errno));
        return -1;
    }
    return 0;
}

char *kafka_pem_dir(const char *container_dir, char *errstr, size_t errstr_size)
{
    char base[4096], path[4200];

    if (container_dir != NULL) {
        snprintf(base, sizeof(base), "%s/data", container_dir);
        if (mkdir(base, 0750) != 0 && errno != EEXIST) {
            snprintf(errstr, errstr_size, "cannot create directory %s: %s", base,
                     strerror(errno));
            return NULL;
        }
    } else {
        const char *tmp = getenv("TMPDIR");
        snprintf(base, sizeof(base), "%s/connrt-%u", tmp != NULL && *tmp ? tmp : "/tmp",
                 (unsigned)geteuid());
        if (ensure_dir(base, 0700, errstr, errstr_size) != 0) {
            return NULL;
        }
    }
    snprintf(path, sizeof(path), "%s/pem", base);
    if (ensure_dir(path, 0700, errstr, errstr_size) != 0) {
        return NULL;
    }
    return strdup(path);
}

/* Whether `path` holds exactly `len` bytes equal to `data`. */
static int same_content(const char *path, const char *data, size_t len)
{
    FILE *f = fopen(path, "rb");
    char buf[4096];
    size_t off = 0, n;
    int same = 1;

    if (f == NULL) {
        return 0;
    }
    while (same && (n = fread(buf, 1, sizeof(buf), f)) > 0) {
        same = off + n <= len && memcmp(buf, data + off, n) == 0;
        off += n;
    }
    fclose(f);
    return same && off == len;
}

/* Write `data` to DIR/<sha256>.pem unless it is there already. Owned path. */
static char *write_once(const char *name, const char *data, const char *dir, char *errstr,
                        size_t errstr_size)
{
    char hash[KAFKA_SIGV4_HEX_SIZE], path[4200], tmp[4300];
    size_t len = strlen(data);
    int fd;

    kafka_sigv4_sha256_hex(data, len, hash);
    snprintf(path, sizeof(path), "%s/%s.pem", dir, hash);
    if (same_content(path, data, len)) {
        return strdup(path);
    }
    snprintf(tmp, sizeof(tmp), "%s/.%s.XXXXXX", dir, hash);
    fd = mkstemp(tmp); /* mode 0600 */
    if (fd < 0) {
        snprintf(errstr, errstr_size, "property '%s': cannot write %s: %s", name, tmp,
                 strerror(errno));
        return NULL;
    }
    if (fchmod(fd, 0600) != 0 || write(fd, data, len) != (ssize_t)len || fsync(fd) != 0) {
        snprintf(errstr, errstr_size, "property '%s': cannot write %s: %s", name, tmp,
                 strerror(errno));
        close(fd);
        unlink(tmp);
        return NULL;
    }
    close(fd);
    /* rename: a concurrent reader sees the old file or the whole new one. */
    if (rename(tmp, path) != 0) {
        snprintf(errstr, errstr_size, "property '%s': cannot write %s: %s", name, path,
                 strerror(errno));
        unlink(tmp);
        return NULL;
    }
    return strdup(path);
}

/* ------------------------------------------------------------------------ */
/* Checking the material                                                    */
/* ------------------------------------------------------------------------ */

/* The reason of OpenSSL's last error, or `fallback`. Clears the queue. */
static const char *openssl_reason(const char *fallback)
{
    unsigned long e = ERR_peek_last_error();
    const char *r = e != 0 ? ERR_reason_error_string(e) : NULL;

    ERR_clear_error();
    return r != NULL ? r : fallback;
}

struct password {
    const char *value;
    int asked;
};

static int password_cb(char *buf, int size, int rwflag, void *u)
{
    struct password *pw = u;
    int len;

    (void)rwflag;
    pw->asked = 1;
    if (pw->value == NULL) {
        return -1;
    }
    len = (int)strlen(pw->value);
    if (len > size) {
        return -1;
    }
    memcpy(buf, pw->value, (size_t)len);
    return len;
}

static void format_time(const ASN1_TIME *t, char *out, size_t size)
{
    struct tm tm;

    if (t == NULL || ASN1_TIME_to_tm(t, &tm) != 1 ||
        strftime(out, size, "%Y-%m-%d %H:%M:%S UTC", &tm) == 0) {
        snprintf(out, size, "(unknown date)");
    }
}

static int check_certificates(const char *name, BIO *bio, int check_expiry, char *errstr,
                              size_t errstr_size)
{
    int count = 0;
    X509 *x;

    ERR_clear_error();
    while ((x = PEM_read_bio_X509(bio, NULL, NULL, NULL)) != NULL) {
        if (check_expiry && count == 0 && X509_cmp_current_time(X509_get0_notAfter(x)) < 0) {
            char when[64];
            format_time(X509_get0_notAfter(x), when, sizeof(when));
            snprintf(errstr, errstr_size, "property '%s': the certificate expired on %s", name,
                     when);
            X509_free(x);
            return -1;
        }
        X509_free(x);
        count++;
    }
    /* End of input after at least one certificate is the normal way out. */
    if (count > 0 && ERR_GET_REASON(ERR_peek_last_error()) == PEM_R_NO_START_LINE) {
        ERR_clear_error();
        return 0;
    }
    snprintf(errstr, errstr_size,
             "property '%s': malformed PEM: %s (expected one or more "
             "-----BEGIN CERTIFICATE----- blocks)",
             name, openssl_reason("no certificate found"));
    return -1;
}

static int check_key(const char *name, BIO *bio, const char *key_password, char *errstr,
                     size_t errstr_size)
{
    struct password pw = {key_password, 0};
    EVP_PKEY *key;

    ERR_clear_error();
    key = PEM_read_bio_PrivateKey(bio, NULL, password_cb, &pw);
    if (key != NULL) {
        EVP_PKEY_free(key);
        return 0;
    }
    if (pw.asked && key_password == NULL) {
        snprintf(errstr, errstr_size,
                 "property '%s': the private key is encrypted: set ssl_key_password", name);
    } else if (pw.asked) {
        snprintf(errstr, errstr_size,
                 "property '%s': ssl_key_password does not decrypt the private key (%s)", name,
                 openssl_reason("bad decrypt"));
    } else {
        snprintf(errstr, errstr_size,
                 "property '%s': malformed PEM: %s (expected a -----BEGIN ... PRIVATE KEY----- "
                 "block)",
                 name, openssl_reason("no private key found"));
    }
    ERR_clear_error();
    return -1;
}

/* "property 'NAME': why" becomes "property 'NAME': file PATH: why", so that
 * the file is named where it belongs in the sentence. */
static void name_file(const char *name, const char *path, char *errstr, size_t errstr_size)
{
    char prefix[300], why[1024];
    int n = snprintf(prefix, sizeof(prefix), "property '%s': ", name);

    if (n <= 0 || (size_t)n >= sizeof(prefix) || strncmp(errstr, prefix, (size_t)n) != 0) {
        return;
    }
    snprintf(why, sizeof(why), "%s", errstr + n);
    snprintf(errstr, errstr_size, "%sfile %s: %s", prefix, path, why);
}

static int check_material(const char *name, const char *data, size_t len, kafka_pem_kind_t kind,
                          int check_expiry, const char *key_password, char *errstr,
                          size_t errstr_size)
{
    BIO *bio = BIO_new_mem_buf(data, (int)len);
    int rc;

    if (bio == NULL) {
        snprintf(errstr, errstr_size, "property '%s': out of memory", name);
        return -1;
    }
    rc = kind == KAFKA_PEM_CERTIFICATES
             ? check_certificates(name, bio, check_expiry, errstr, errstr_size)
             : check_key(name, bio, key_password, errstr, errstr_size);
    BIO_free(bio);
    return rc;
}

/* Whole file into a NUL-terminated buffer (owned). */
static char *read_file(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    char *buf = NULL;
    size_t cap = 0, n = 0, r;

    if (f == NULL) {
        return NULL;
    }
    do {
        if (n + 4096 + 1 > cap) {
            char *p = realloc(buf, cap = (n + 4096 + 1) * 2);
            if (p == NULL) {
                free(buf);
                fclose(f);
                return NULL;
            }
            buf = p;
        }
        r = fread(buf + n, 1, cap - n - 1, f);
        n += r;
    } while (r > 0);
    fclose(f);
    buf[n] = '\0';
    *len = n;
    return buf;
}

static void wipe_free(char *p, size_t len)
{
    if (p != NULL) {
        OPENSSL_cleanse(p, len);
        free(p);
    }
}

static char *file_location(const char *name, const char *value, kafka_pem_kind_t kind,
                           int check_expiry, const char *key_password,
                           const char *container_dir, char *errstr, size_t errstr_size)
{
    char path[4200];
    size_t len = 0;
    char *data;
    int rc;

    if (value[0] != '/' && container_dir != NULL) {
        snprintf(path, sizeof(path), "%s/%s", container_dir, value);
    } else {
        snprintf(path, sizeof(path), "%s", value);
    }
    data = read_file(path, &len);
    if (data == NULL) {
        snprintf(errstr, errstr_size, "property '%s': cannot read %s: %s", name, path,
                 strerror(errno != 0 ? errno : EIO));
        return NULL;
    }
    rc = check_material(name, data, len, kind, check_expiry, key_password, errstr,
                        errstr_size);
    if (rc != 0) {
        name_file(name, path, errstr, errstr_size);
    }
    wipe_free(data, len);
    return rc == 0 ? strdup(path) : NULL;
}

char *kafka_pem_location(const char *name, const char *value, kafka_pem_kind_t kind,
                         int check_expiry, const char *key_password, const char *container_dir,
                         const char *dir, char *errstr, size_t errstr_size)
{
    if (value == NULL || value[0] == '\0') {
        snprintf(errstr, errstr_size, "property '%s' is empty", name);
        return NULL;
    }
    if (strstr(value, "-----BEGIN") == NULL) {
        return file_location(name, value, kind, check_expiry, key_password, container_dir,
                             errstr, errstr_size);
    }
    if (check_material(name, value, strlen(value), kind, check_expiry, key_password, errstr,
                       errstr_size) != 0) {
        return NULL;
    }
    if (dir == NULL) {
        snprintf(errstr, errstr_size, "property '%s': no directory for inline PEM", name);
        return NULL;
    }
    return write_once(name, value, dir, errstr, errstr_size);
}

int kafka_pem_check_pair(const char *cert_path, const char *key_path, const char *key_password,
                         char *errstr, size_t errstr_size)
{
    struct password pw = {key_password, 0};
    FILE *cf = fopen(cert_path, "r"), *kf = fopen(key_path, "r");
    X509 *cert = cf != NULL ? PEM_read_X509(cf, NULL, NULL, NULL) : NULL;
    EVP_PKEY *key = kf != NULL ? PEM_read_PrivateKey(kf, NULL, password_cb, &pw) : NULL;
    int rc = -1;

    if (cert == NULL || key == NULL) {
        snprintf(errstr, errstr_size, "cannot read back ssl_certificate or ssl_key");
    } else if (X509_check_private_key(cert, key) != 1) {
        snprintf(errstr, errstr_size,
                 "property 'ssl_key': the private key does not belong to ssl_certificate");
    } else {
        rc = 0;
    }
    ERR_clear_error();
    X509_free(cert);
    EVP_PKEY_free(key);
    if (cf != NULL) {
        fclose(cf);
    }
    if (kf != NULL) {
        fclose(kf);
    }
    return rc;
}
