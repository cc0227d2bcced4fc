/*
 * output.c - JSON Lines writer for `connrt run`.
 *
 * The writer appends each line straight into one reused buffer instead of
 * building a jansson tree per document: output throughput is benchmarked.
 * Strings are escaped per RFC 8259 and always come out as valid UTF-8
 * (invalid bytes in names or properties become U+FFFD; an invalid value is
 * written base64 instead, so no byte of a payload is lost). The unit tests
 * check every line by parsing it back with jansson.
 */
#include "output.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "document.h"

#define OUTPUT_FLUSH_THRESHOLD ((size_t)64 * 1024)

/* The one mapping from tracked properties to output fields. */
enum field_kind {
    FIELD_STRING,  /* JSON string */
    FIELD_NUMBER,  /* JSON number when the value is an integer, else a string */
    FIELD_HEADERS  /* object of every tracked "<prefix>NAME": value */
};

static const struct kafka_field {
    const char *field;
    const char *tracked; /* name, or prefix for FIELD_HEADERS */
    enum field_kind kind;
} kafka_fields[] = {
    {"key", "kafka.key", FIELD_STRING},
    {"topic", "kafka.topic", FIELD_STRING},
    {"partition", "kafka.partition", FIELD_NUMBER},
    {"offset", "kafka.offset", FIELD_NUMBER},
    {"timestamp", "kafka.timestamp", FIELD_NUMBER},
    {"headers", "kafka.header.", FIELD_HEADERS},
};

struct buffer {
    char *data;
    size_t len, cap;
    int failed; /* no memory: the line is dropped and reported */
};

struct connrt_output {
    FILE *fp;
    int owns_fp;
    char *name;
    struct buffer buf;
    size_t count;
};

static void buf_reserve(struct buffer *b, size_t more)
{
    if (b->failed || b->len + more <= b->cap) {
        return;
    }
    size_t cap = b->cap ? b->cap : 4096;
    while (cap < b->len + more) {
        cap *= 2;
    }
    char *grown = realloc(b->data, cap);
    if (grown == NULL) {
        b->failed = 1;
        return;
    }
    b->data = grown;
    b->cap = cap;
}

static void buf_put(struct buffer *b, const void *s, size_t n)
{
    buf_reserve(b, n);
    if (!b->failed) {
        memcpy(b->data + b->len, s, n);
        b->len += n;
    }
}

static void buf_puts(struct buffer *b, const char *s)
{
    buf_put(b, s, strlen(s));
}

/* Length of the valid UTF-8 sequence at s (RFC 3629: no overlongs, no
 * surrogates, at most U+10FFFF), or 0 when it is not valid. */
static size_t utf8_sequence(const unsigned char *s, size_t n)
{
    unsigned char c = s[0];
    if (c < 0x80) {
        return 1;
    }
    size_t len;
    unsigned char lo = 0x80, hi = 0xbf;
    if (c >= 0xc2 && c <= 0xdf) {
        len = 2;
    } else if (c >= 0xe0 && c <= 0xef) {
        len = 3;
        lo = (c == 0xe0) ? 0xa0 : 0x80;
        hi = (c == 0xed) ? 0x9f : 0xbf;
    } else if (c >= 0xf0 && c <= 0xf4) {
        len = 4;
        lo = (c == 0xf0) ? 0x90 : 0x80;
        hi = (c == 0xf4) ? 0x8f : 0xbf;
    } else {
        return 0;
    }
    if (n < len || s[1] < lo || s[1] > hi) {
        return 0;
    }
    for (size_t i = 2; i < len; i++) {
        if (s[i] < 0x80 || s[i] > 0xbf) {
            return 0;
        }
    }
    return len;
}

static int utf8_valid(const unsigned char *s, size_t n)
{
    size_t i = 0;
    while (i < n) {
        if (s[i] < 0x80) {
            i++;
            continue;
        }
        size_t len = utf8_sequence(s + i, n - i);
        if (len == 0) {
            return 0;
        }
        i += len;
    }
    return 1;
}

static int needs_escape(unsigned char c)
{
    return c < 0x20 || c == '"' || c == '\\' || c >= 0x80;
}

static void put_escape(struct buffer *b, unsigned char c)
{
    static const char hex[] = "0123456789abcdef";
    char esc[7] = {'\\', 0, 0, 0, 0, 0, 0};
    size_t n = 2;
    switch (c) {
    case '"':
        esc[1] = '"';
        break;
    case '\\':
        esc[1] = '\\';
        break;
    case '\n':
        esc[1] = 'n';
        break;
    case '\r':
        esc[1] = 'r';
        break;
    case '\t':
        esc[1] = 't';
        break;
    case '\b':
        esc[1] = 'b';
        break;
    case '\f':
        esc[1] = 'f';
        break;
    default:
        memcpy(esc + 1, "u00", 3);
        esc[4] = hex[c >> 4];
        esc[5] = hex[c & 0xf];
        n = 6;
    }
    buf_put(b, esc, n);
}

/* A JSON string literal of `n` bytes of `s`. */
static void put_string(struct buffer *b, const char *str, size_t n)
{
    const unsigned char *s = (const unsigned char *)str;
    buf_put(b, "\"", 1);
    size_t i = 0;
    while (i < n) {
        size_t run = i;
        while (run < n && !needs_escape(s[run])) {
            run++;
        }
        buf_put(b, s + i, run - i);
        i = run;
        if (i == n) {
            break;
        }
        if (s[i] < 0x80) {
            put_escape(b, s[i]);
            i++;
            continue;
        }
        size_t len = utf8_sequence(s + i, n - i);
        if (len == 0) {
            buf_puts(b, "\\ufffd");
            i++;
        } else {
            buf_put(b, s + i, len);
            i += len;
        }
    }
    buf_put(b, "\"", 1);
}

static void put_cstring(struct buffer *b, const char *s)
{
    put_string(b, s, strlen(s));
}

/* "name": (with a leading comma unless first) */
static void put_key(struct buffer *b, const char *name, int *first)
{
    if (!*first) {
        buf_put(b, ",", 1);
    }
    *first = 0;
    put_cstring(b, name);
    buf_put(b, ":", 1);
}

static void put_base64(struct buffer *b, const unsigned char *s, size_t n)
{
    static const char alphabet[] =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    buf_reserve(b, (n + 2) / 3 * 4 + 2);
    if (b->failed) {
        return;
    }
    char *o = b->data + b->len;
    *o++ = '"';
    size_t i = 0;
    for (; i + 2 < n; i += 3) {
        unsigned v = ((unsigned)s[i] << 16) | ((unsigned)s[i + 1] << 8) | s[i + 2];
        *o++ = alphabet[(v >> 18) & 63];
        *o++ = alphabet[(v >> 12) & 63];
        *o++ = alphabet[(v >> 6) & 63];
        *o++ = alphabet[v & 63];
    }
    if (i < n) {
        unsigned v = (unsigned)s[i] << 16;
        if (i + 1 < n) {
            v |= (unsigned)s[i + 1] << 8;
        }
        *o++ = alphabet[(v >> 18) & 63];
        *o++ = alphabet[(v >> 12) & 63];
        *o++ = (i + 1 < n) ? alphabet[(v >> 6) & 63] : '=';
        *o++ = '=';
    }
    *o++ = '"';
    b->len = (size_t)(o - b->data);
}

/* A JSON integer: -?(0|[1-9][0-9]*), short enough for any reader. */
static int is_json_integer(const char *s)
{
    if (*s == '-') {
        s++;
    }
    size_t n = strlen(s);
    if (n == 0 || n > 19 || (s[0] == '0' && n > 1)) {
        return 0;
    }
    for (size_t i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9') {
            return 0;
        }
    }
    return 1;
}

static void put_headers(struct buffer *b, const connrt_document_t *doc, const char *prefix,
                        const char *field, int *first)
{
    size_t plen = strlen(prefix);
    int opened = 0, hfirst = 1;
    size_t count = connrt_document_tracked_count(doc);
    for (size_t i = 0; i < count; i++) {
        const char *name, *value;
        connrt_document_tracked_at(doc, i, &name, &value);
        if (strncmp(name, prefix, plen) != 0) {
            continue;
        }
        if (!opened) {
            put_key(b, field, first);
            buf_put(b, "{", 1);
            opened = 1;
        }
        put_key(b, name + plen, &hfirst);
        put_cstring(b, value);
    }
    if (opened) {
        buf_put(b, "}", 1);
    }
}

static void put_kafka_fields(struct buffer *b, const connrt_document_t *doc, int *first)
{
    for (size_t i = 0; i < sizeof(kafka_fields) / sizeof(kafka_fields[0]); i++) {
        const struct kafka_field *f = &kafka_fields[i];
        if (f->kind == FIELD_HEADERS) {
            put_headers(b, doc, f->tracked, f->field, first);
            continue;
        }
        const char *value = connrt_document_get_tracked(doc, f->tracked);
        if (value == NULL) {
            continue;
        }
        put_key(b, f->field, first);
        if (f->kind == FIELD_NUMBER && is_json_integer(value)) {
            buf_puts(b, value);
        } else {
            put_cstring(b, value);
        }
    }
}

typedef void (*pair_at_fn)(const connrt_document_t *doc, size_t i, const char **name,
                           const char **value);

static void put_object(struct buffer *b, const connrt_document_t *doc, size_t count,
                       pair_at_fn at)
{
    int first = 1;
    buf_put(b, "{", 1);
    for (size_t i = 0; i < count; i++) {
        const char *name, *value;
        at(doc, i, &name, &value);
        put_key(b, name, &first);
        put_cstring(b, value);
    }
    buf_put(b, "}", 1);
}

static void put_document(struct buffer *b, const connrt_document_t *doc, const char *error)
{
    int first = 1;
    size_t len;
    const unsigned char *payload = connrt_document_payload(doc, &len);
    buf_put(b, "{", 1);
    put_key(b, "value", &first);
    if (utf8_valid(payload, len)) {
        put_string(b, (const char *)payload, len);
    } else {
        put_base64(b, payload, len);
        put_key(b, "value_encoding", &first);
        buf_puts(b, "\"base64\"");
    }
    put_kafka_fields(b, doc, &first);
    put_key(b, "properties", &first);
    put_object(b, doc, connrt_document_property_count(doc), connrt_document_property_at);
    put_key(b, "tracked", &first);
    put_object(b, doc, connrt_document_tracked_count(doc), connrt_document_tracked_at);
    put_key(b, "outcome", &first);
    buf_puts(b, error ? "\"application_error\"" : "\"success\"");
    if (error != NULL) {
        put_key(b, "error", &first);
        put_cstring(b, error);
    }
    buf_put(b, "}\n", 2);
}

static connrt_output_t *output_new(FILE *fp, int owns_fp, const char *name)
{
    connrt_output_t *out = calloc(1, sizeof(*out));
    if (out == NULL) {
        return NULL;
    }
    out->fp = fp;
    out->owns_fp = owns_fp;
    out->name = strdup(name);
    if (out->name == NULL) {
        free(out);
        return NULL;
    }
    return out;
}

connrt_output_t *connrt_output_open(const char *path, char *errstr, size_t errstr_size)
{
    if (path == NULL || strcmp(path, "-") == 0) {
        connrt_output_t *out = output_new(stdout, 0, "stdout");
        if (out == NULL) {
            snprintf(errstr, errstr_size, "out of memory");
        }
        return out;
    }
    FILE *fp = fopen(path, "wb");
    if (fp == NULL) {
        snprintf(errstr, errstr_size, "%s: %s", path, strerror(errno));
        return NULL;
    }
    connrt_output_t *out = output_new(fp, 1, path);
    if (out == NULL) {
        fclose(fp);
        snprintf(errstr, errstr_size, "out of memory");
    }
    return out;
}

connrt_output_t *connrt_output_open_stream(FILE *fp, const char *name)
{
    return output_new(fp, 0, name ? name : "output");
}

/* Hand the buffered lines to stdio. Returns 0 or -1 (errno set). */
static int write_buffer(connrt_output_t *out)
{
    size_t len = out->buf.len;
    out->buf.len = 0;
    if (len > 0 && fwrite(out->buf.data, 1, len, out->fp) != len) {
        return -1;
    }
    return 0;
}

int connrt_output_flush(connrt_output_t *out, char *errstr, size_t errstr_size)
{
    errno = 0;
    if (write_buffer(out) != 0 || fflush(out->fp) != 0 || ferror(out->fp)) {
        snprintf(errstr, errstr_size, "%s: %s", out->name, strerror(errno ? errno : EIO));
        return -1;
    }
    return 0;
}

int connrt_output_write(connrt_output_t *out, const connrt_document_t *doc, const char *error,
                        char *errstr, size_t errstr_size)
{
    size_t start = out->buf.len;
    put_document(&out->buf, doc, error);
    if (out->buf.failed) {
        out->buf.failed = 0;
        out->buf.len = start;
        snprintf(errstr, errstr_size, "%s: out of memory formatting a document", out->name);
        return -1;
    }
    out->count++;
    errno = 0;
    if (out->buf.len >= OUTPUT_FLUSH_THRESHOLD && write_buffer(out) != 0) {
        snprintf(errstr, errstr_size, "%s: %s", out->name, strerror(errno ? errno : EIO));
        return -1;
    }
    return 0;
}

int connrt_output_close(connrt_output_t *out, char *errstr, size_t errstr_size)
{
    if (out == NULL) {
        return 0;
    }
    int rc = connrt_output_flush(out, errstr, errstr_size);
    if (out->owns_fp && fclose(out->fp) != 0 && rc == 0) {
        snprintf(errstr, errstr_size, "%s: %s", out->name, strerror(errno));
        rc = -1;
    }
    free(out->buf.data);
    free(out->name);
    free(out);
    return rc;
}

size_t connrt_output_count(const connrt_output_t *out)
{
    return out->count;
}
