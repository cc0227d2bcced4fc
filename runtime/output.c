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
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "document.h"
#include "json_bytes.h"
#include "known_names.h"
#include "write_behind.h"

#define OUTPUT_FLUSH_THRESHOLD ((size_t)64 * 1024)

/* The one mapping from tracked properties to output fields. */
enum field_kind {
    FIELD_STRING, /* JSON string */
    FIELD_NUMBER  /* JSON number when the value is an integer, else a string */
};

static const struct kafka_field {
    const char *key; /* ,"field": as written */
    size_t key_len;
    enum connrt_known_name tracked;
    enum field_kind kind;
} kafka_fields[] = {
#define FIELD(key, tracked, kind) {key, sizeof(key) - 1, tracked, kind}
    FIELD(",\"key\":", CONNRT_KN_KAFKA_KEY, FIELD_STRING),
    FIELD(",\"topic\":", CONNRT_KN_KAFKA_TOPIC, FIELD_STRING),
    FIELD(",\"partition\":", CONNRT_KN_KAFKA_PARTITION, FIELD_NUMBER),
    FIELD(",\"offset\":", CONNRT_KN_KAFKA_OFFSET, FIELD_NUMBER),
    FIELD(",\"timestamp\":", CONNRT_KN_KAFKA_TIMESTAMP, FIELD_NUMBER),
#undef FIELD
};
/* Every tracked "kafka.header.NAME" is NAME in the headers object. */
#define HEADERS_KEY ",\"headers\":"
#define HEADER_PREFIX "kafka.header."

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
    connrt_write_behind_t *write_behind; /* NULL: the kernel keeps every page */
    /* A listener's executions share one writer; each line is whole. */
    pthread_mutex_t lock;
};

/* Grow the buffer for `more` bytes. Returns 0, or -1 (b->failed). */
static int buf_grow(struct buffer *b, size_t more)
{
    if (b->failed) {
        return -1;
    }
    size_t cap = b->cap ? b->cap : 4096;
    while (cap < b->len + more) {
        cap *= 2;
    }
    char *grown = realloc(b->data, cap);
    if (grown == NULL) {
        b->failed = 1;
        return -1;
    }
    b->data = grown;
    b->cap = cap;
    return 0;
}

/* Room for `more` bytes. Returns 0, or -1 (and b->failed) on no memory.
 * Inline: it runs for every piece of every line. */
static inline int buf_reserve(struct buffer *b, size_t more)
{
    if (b->len + more <= b->cap && !b->failed) {
        return 0;
    }
    return buf_grow(b, more);
}

/* memcpy of n bytes, short ones as two overlapping fixed-size moves (the
 * compiler inlines those): a line is some twenty-five short pieces, and a
 * call per piece was a sixth of its cost. */
static inline void copy_bytes(char *o, const void *src, size_t n)
{
    const char *s = src;
    if (n >= 8 && n <= 16) {
        memcpy(o, s, 8);
        memcpy(o + n - 8, s + n - 8, 8);
    } else if (n >= 4 && n < 8) {
        memcpy(o, s, 4);
        memcpy(o + n - 4, s + n - 4, 4);
    } else if (n > 16 && n <= 32) {
        memcpy(o, s, 16);
        memcpy(o + n - 16, s + n - 16, 16);
    } else if (n < 4) {
        for (size_t i = 0; i < n; i++) {
            o[i] = s[i];
        }
    } else {
        memcpy(o, s, n);
    }
}

static inline void buf_put(struct buffer *b, const void *s, size_t n)
{
    if (buf_reserve(b, n) == 0) {
        copy_bytes(b->data + b->len, s, n);
        b->len += n;
    }
}

/* A string literal: its length is known at compile time. */
#define BUF_LIT(b, lit) buf_put((b), (lit), sizeof(lit) - 1)

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

/* Where the run of bytes that need no escape, from s[i], ends. */
static size_t plain_run(const unsigned char *s, size_t i, size_t n)
{
    return (size_t)(connrt_json_plain_end(s + i, s + n) - s);
}

/* Writes the escape of ASCII byte c (one that needs it: below 0x20, '"'
 * or '\\') at o; returns its length. A table, not a switch: the jump
 * through a switch's table was a tenth of a line's escaping. */
static size_t escape_ascii(char *o, unsigned char c)
{
    static const char hex[] = "0123456789abcdef";
    static const char short_escape[0x60] = {
        ['"'] = '"', ['\\'] = '\\', ['\n'] = 'n', ['\r'] = 'r',
        ['\t'] = 't', ['\b'] = 'b',   ['\f'] = 'f',
    };
    o[0] = '\\';
    if (c < sizeof(short_escape) && short_escape[c] != 0) {
        o[1] = short_escape[c];
        return 2;
    }
    memcpy(o + 1, "u00", 3);
    o[4] = hex[c >> 4];
    o[5] = hex[c & 0xf];
    return 6;
}

/* Input bytes escaped per reserve: the worst case (6 output bytes per
 * input byte) of a slice is reserved at once, then written unchecked. */
#define ESCAPE_SLICE ((size_t)64 * 1024)

/*
 * The JSON string literal of the `n` bytes at `str`. Invalid UTF-8 becomes
 * U+FFFD, or, with `strict`, makes it return 1 with what was written so far
 * left for the caller to rewind. Returns 0, 1, or -1 on no memory.
 */
static int put_string(struct buffer *b, const char *str, size_t n, int strict)
{
    const unsigned char *s = (const unsigned char *)str;
    size_t i = plain_run(s, 0, n);
    if (i == n) {
        /* Nothing to escape (names, numbers, most keys): one reservation,
         * one copy; a line holds some twenty of these. */
        if (buf_reserve(b, n + 2) != 0) {
            return -1;
        }
        char *o = b->data + b->len;
        o[0] = '"';
        copy_bytes(o + 1, s, n);
        o[n + 1] = '"';
        b->len += n + 2;
        return 0;
    }
    /* The plain start is copied again below: simpler than resuming. */
    i = 0;
    BUF_LIT(b, "\"");
    while (i < n) {
        size_t slice_end = n - i > ESCAPE_SLICE ? i + ESCAPE_SLICE : n;
        /* +4: a UTF-8 sequence may start just before slice_end. */
        if (buf_reserve(b, 6 * (slice_end - i) + 4 * 6) != 0) {
            return -1;
        }
        char *o = b->data + b->len;
        while (i < slice_end) {
#if defined(CONNRT_JSON_MASK16)
            /* Copy 16 bytes while looking at them: the plain ones stay,
             * the rest is overwritten. The reservation above leaves room
             * (at most 6 output bytes per input byte, and 16 <= 6 * 16). */
            if (slice_end - i >= 16) {
                unsigned mask = connrt_json_mask16(s + i);
                memcpy(o, s + i, 16);
                if (mask == 0) {
                    o += 16;
                    i += 16;
                    continue;
                }
                size_t plain = (size_t)__builtin_ctz(mask);
                o += plain;
                i += plain;
            } else {
                size_t run = plain_run(s, i, slice_end);
                copy_bytes(o, s + i, run - i);
                o += run - i;
                i = run;
            }
#else
            size_t run = plain_run(s, i, slice_end);
            copy_bytes(o, s + i, run - i);
            o += run - i;
            i = run;
#endif
            if (i == slice_end) {
                break;
            }
            if (s[i] < 0x80) {
                o += escape_ascii(o, s[i]);
                i++;
                continue;
            }
            size_t len = utf8_sequence(s + i, n - i);
            if (len == 0 && strict) {
                b->len = (size_t)(o - b->data);
                return 1;
            }
            if (len == 0) {
                memcpy(o, "\\ufffd", 6);
                o += 6;
                i++;
            } else {
                memcpy(o, s + i, len);
                o += len;
                i += len;
            }
        }
        b->len = (size_t)(o - b->data);
    }
    BUF_LIT(b, "\"");
    return b->failed ? -1 : 0;
}

static void put_cstring(struct buffer *b, const char *s)
{
    put_string(b, s, strlen(s), 0);
}

/* "name": (with a leading comma unless first); `known` is the name's id
 * when it is one of the well-known names. */
static void put_key(struct buffer *b, const char *name, size_t len, enum connrt_known_name known,
                    int *first)
{
    int skip = *first; /* no comma */
    *first = 0;
    if (known != CONNRT_KN_NONE) {
        buf_put(b, connrt_known_names[known].json + skip, len + 4 - (size_t)skip);
        return;
    }
    if (!skip) {
        BUF_LIT(b, ",");
    }
    put_string(b, name, len, 0);
    BUF_LIT(b, ":");
}

static void put_base64(struct buffer *b, const unsigned char *s, size_t n)
{
    static const char alphabet[] =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    if (buf_reserve(b, (n + 2) / 3 * 4 + 2) != 0) {
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
static int is_json_integer(const char *s, size_t n)
{
    int negative = n > 0 && *s == '-';
    if (negative) {
        s++;
        n--;
    }
    if (n == 0 || n > 19 || (s[0] == '0' && (n > 1 || negative)) ||
        (n == 19 && memcmp(s, "9223372036854775807", 19) > 0)) {
        return 0; /* "-0" and values past int64 stay strings: no reader changes them */
    }
    for (size_t i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9') {
            return 0;
        }
    }
    return 1;
}

static int is_header(const struct connrt_property_view *v)
{
    return connrt_property_name_len(v) > sizeof(HEADER_PREFIX) - 1 &&
           memcmp(v->name, HEADER_PREFIX, sizeof(HEADER_PREFIX) - 1) == 0;
}

static void put_headers(struct buffer *b, const struct connrt_property_view *tracked,
                        size_t count)
{
    int first = 1;
    BUF_LIT(b, HEADERS_KEY "{");
    for (size_t i = 0; i < count; i++) {
        const struct connrt_property_view *v = &tracked[i];
        if (is_header(v)) {
            size_t skip = sizeof(HEADER_PREFIX) - 1;
            const char *name = v->name + skip;
            size_t len = connrt_property_name_len(v) - skip;
            put_key(b, name, len, connrt_known_name(name, len), &first);
            put_string(b, v->value, v->value_len, 0);
        }
    }
    BUF_LIT(b, "}");
}

/*
 * A line writes the topic and the key twice (as a field and as a document
 * property): the string fields' values are remembered, by their (arena)
 * address, with where their JSON string went in the line, so that the
 * properties copy it instead of escaping them again.
 */
#define LINE_MEMO_MAX 8

struct memo_item {
    const char *value;
    size_t len;
    size_t at;       /* offset in the buffer of the JSON string */
    size_t json_len; /* its length */
};

struct line_memo {
    size_t count;
    struct memo_item items[LINE_MEMO_MAX];
};

static void memo_add(struct line_memo *m, const struct connrt_property_view *v, size_t at,
                     size_t json_len)
{
    if (m->count < LINE_MEMO_MAX) {
        m->items[m->count++] = (struct memo_item){v->value, v->value_len, at, json_len};
    }
}

/* The JSON string of the value of `v`. */
static void put_value(struct buffer *b, const struct line_memo *m,
                      const struct connrt_property_view *v)
{
    for (size_t i = 0; i < m->count; i++) {
        if (m->items[i].value != v->value || m->items[i].len != v->value_len) {
            continue;
        }
        if (buf_reserve(b, m->items[i].json_len) == 0) {
            /* After the reserve: it may move the buffer. */
            copy_bytes(b->data + b->len, b->data + m->items[i].at, m->items[i].json_len);
            b->len += m->items[i].json_len;
        }
        return;
    }
    put_string(b, v->value, v->value_len, 0);
}

/* The kafka.* fields, found in one pass over the tracked properties.
 * values[k]: the tracked property a field shows (the first of its name). */
static void put_kafka_fields(struct buffer *b, const struct connrt_property_view *tracked,
                             size_t count, struct line_memo *memo,
                             const struct connrt_property_view *shown[CONNRT_KN_COUNT])
{
    const struct connrt_property_view *values[CONNRT_KN_COUNT] = {0};
    int headers = 0;
    for (size_t i = 0; i < count; i++) {
        const struct connrt_property_view *v = &tracked[i];
        enum connrt_known_name k = connrt_property_known(v);
        if (k != CONNRT_KN_NONE && values[k] == NULL) {
            values[k] = v;
        } else if (k == CONNRT_KN_NONE && !headers) {
            headers = is_header(v);
        }
    }
    /* Every field of design §7 is always present: null (headers: {}) when
     * the document has no such value, e.g. a message without a key. */
    for (size_t f = 0; f < sizeof(kafka_fields) / sizeof(kafka_fields[0]); f++) {
        const struct kafka_field *field = &kafka_fields[f];
        const struct connrt_property_view *v = values[field->tracked];
        shown[field->tracked] = v;
        buf_put(b, field->key, field->key_len);
        if (v == NULL) {
            BUF_LIT(b, "null");
        } else if (field->kind == FIELD_NUMBER && is_json_integer(v->value, v->value_len)) {
            buf_put(b, v->value, v->value_len);
        } else {
            size_t at = b->len;
            put_string(b, v->value, v->value_len, 0);
            memo_add(memo, v, at, b->len - at);
        }
    }
    if (headers) {
        put_headers(b, tracked, count);
    } else {
        BUF_LIT(b, HEADERS_KEY "{}");
    }
}

/* Whether the kafka.* fields or headers of the line already show `v`. */
static int shown_above(const struct connrt_property_view *v,
                       const struct connrt_property_view *const *shown)
{
    enum connrt_known_name k = connrt_property_known(v);
    return k != CONNRT_KN_NONE ? shown[k] == v : is_header(v);
}

/* `shown` NULL: every property; else those shown_above() leaves out. */
static void put_object(struct buffer *b, const struct connrt_property_view *props, size_t count,
                       const struct line_memo *memo,
                       const struct connrt_property_view *const *shown)
{
    int first = 1;
    BUF_LIT(b, "{");
    for (size_t i = 0; i < count; i++) {
        const struct connrt_property_view *v = &props[i];
        if (shown != NULL && shown_above(v, shown)) {
            continue;
        }
        put_key(b, v->name, connrt_property_name_len(v), connrt_property_known(v), &first);
        put_value(b, memo, v);
    }
    BUF_LIT(b, "}");
}

static void put_document(struct buffer *b, const connrt_document_t *doc, const char *error)
{
    size_t len;
    const unsigned char *payload = connrt_document_payload(doc, &len);
    BUF_LIT(b, "{\"value\":");
    size_t start = b->len;
    if (put_string(b, (const char *)payload, len, 1) == 1) {
        /* Not UTF-8: rewrite the value as base64, so no byte is lost. */
        b->len = start;
        put_base64(b, payload, len);
        BUF_LIT(b, ",\"value_encoding\":\"base64\"");
    }
    struct line_memo memo;
    memo.count = 0;
    size_t nprops, ntracked;
    const struct connrt_property_view *props = connrt_document_properties(doc, &nprops);
    const struct connrt_property_view *tracked = connrt_document_tracked_all(doc, &ntracked);
    const struct connrt_property_view *shown[CONNRT_KN_COUNT] = {0};
    put_kafka_fields(b, tracked, ntracked, &memo, shown);
    BUF_LIT(b, ",\"properties\":");
    put_object(b, props, nprops, &memo, NULL);
    /* The other tracked properties: the fields above are the kafka.* ones. */
    BUF_LIT(b, ",\"tracked\":");
    put_object(b, tracked, ntracked, &memo, shown);
    if (error != NULL) {
        BUF_LIT(b, ",\"outcome\":\"application_error\",\"error\":");
        put_cstring(b, error);
        BUF_LIT(b, "}\n");
    } else {
        BUF_LIT(b, ",\"outcome\":\"success\"}\n");
    }
}

static connrt_output_t *output_new(FILE *fp, int owns_fp, const char *name)
{
    connrt_output_t *out = calloc(1, sizeof(*out));
    if (out == NULL) {
        return NULL;
    }
    out->fp = fp;
    out->owns_fp = owns_fp;
    pthread_mutex_init(&out->lock, NULL);
    out->name = strdup(name);
    if (out->name == NULL) {
        free(out);
        return NULL;
    }
    return out;
}

/* An appended file whose last line was cut short (an older writer killed
 * mid-line) gets a newline first, so the damage stays on that one line. */
static int end_with_newline(FILE *fp)
{
    struct stat st;
    char last;
    if (fstat(fileno(fp), &st) != 0 || st.st_size == 0) {
        return 0;
    }
    if (pread(fileno(fp), &last, 1, st.st_size - 1) != 1) {
        return -1;
    }
    return last == '\n' || fwrite("\n", 1, 1, fp) == 1 ? 0 : -1;
}

static connrt_output_t *open_path(const char *path, const char *mode, char *errstr,
                                  size_t errstr_size)
{
    if (path == NULL || strcmp(path, "-") == 0) {
        connrt_output_t *out = output_new(stdout, 0, "stdout");
        if (out == NULL) {
            snprintf(errstr, errstr_size, "out of memory");
        }
        return out;
    }
    FILE *fp = fopen(path, mode);
    if (fp == NULL) {
        snprintf(errstr, errstr_size, "%s: %s", path, strerror(errno));
        return NULL;
    }
    /* Our buffer holds whole lines and goes out in one write(): a process
     * killed at any moment leaves no half line for the next one to append to
     * (stdio's own buffer would split lines at its block size). */
    if (setvbuf(fp, NULL, _IONBF, 0) != 0 || end_with_newline(fp) != 0) {
        snprintf(errstr, errstr_size, "%s: %s", path, strerror(errno ? errno : EIO));
        fclose(fp);
        return NULL;
    }
    connrt_output_t *out = output_new(fp, 1, path);
    if (out == NULL) {
        fclose(fp);
        snprintf(errstr, errstr_size, "out of memory");
    }
    return out;
}

connrt_output_t *connrt_output_open(const char *path, char *errstr, size_t errstr_size)
{
    return open_path(path, "wb", errstr, errstr_size);
}

connrt_output_t *connrt_output_open_append(const char *path, char *errstr, size_t errstr_size)
{
    return open_path(path, "a+b", errstr, errstr_size); /* + : to read its last byte */
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
    connrt_write_behind_wrote(out->write_behind, len);
    return 0;
}

static int flush_locked(connrt_output_t *out, char *errstr, size_t errstr_size)
{
    errno = 0;
    if (write_buffer(out) != 0 || fflush(out->fp) != 0 || ferror(out->fp)) {
        snprintf(errstr, errstr_size, "%s: %s", out->name, strerror(errno ? errno : EIO));
        return -1;
    }
    return 0;
}

int connrt_output_flush(connrt_output_t *out, char *errstr, size_t errstr_size)
{
    pthread_mutex_lock(&out->lock);
    int rc = flush_locked(out, errstr, errstr_size);
    pthread_mutex_unlock(&out->lock);
    return rc;
}

static int write_locked(connrt_output_t *out, const connrt_document_t *doc, const char *error,
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

int connrt_output_write(connrt_output_t *out, const connrt_document_t *doc, const char *error,
                        char *errstr, size_t errstr_size)
{
    pthread_mutex_lock(&out->lock);
    int rc = write_locked(out, doc, error, errstr, errstr_size);
    pthread_mutex_unlock(&out->lock);
    return rc;
}

int connrt_output_close(connrt_output_t *out, char *errstr, size_t errstr_size)
{
    if (out == NULL) {
        return 0;
    }
    int rc = connrt_output_flush(out, errstr, errstr_size);
    connrt_write_behind_stop(out->write_behind);
    if (out->owns_fp && fclose(out->fp) != 0 && rc == 0) {
        snprintf(errstr, errstr_size, "%s: %s", out->name, strerror(errno));
        rc = -1;
    }
    pthread_mutex_destroy(&out->lock);
    free(out->buf.data);
    free(out->name);
    free(out);
    return rc;
}

void connrt_output_limit_cache(connrt_output_t *out, long long window)
{
    if (window <= 0 || (unsigned long long)window > SIZE_MAX) {
        return; /* off, or more than this build can address: nothing to limit */
    }
    pthread_mutex_lock(&out->lock);
    /* Flushed first: the file's end is where our next line goes. */
    if (out->write_behind == NULL && write_buffer(out) == 0 && fflush(out->fp) == 0) {
        out->write_behind = connrt_write_behind_start(fileno(out->fp), (size_t)window);
    }
    pthread_mutex_unlock(&out->lock);
}

size_t connrt_output_count(const connrt_output_t *out)
{
    return out->count;
}
