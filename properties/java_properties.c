/*
 * java_properties.c - Java .properties syntax, following java.util.Properties
 * .load: a logical line is read first (comments, blank lines, continuations),
 * then split into key and value, then each is unescaped.
 *
 * Differences from Java, on purpose: the file is read as UTF-8 (Java's
 * load(InputStream) reads ISO-8859-1), a UTF-8 byte order mark at the start is
 * skipped, and what cannot be a C string (NUL, unpaired surrogates) is an
 * error instead of a silently mangled key.
 */
#include "java_properties.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* container.properties is a handful of lines; anything this big is a mistake. */
#define MAX_FILE_SIZE (16u * 1024 * 1024)

struct jentry {
    char *key;
    char *value;
    int line;
};

struct connrt_jprops {
    char *filename;
    struct jentry *v;
    size_t n;
    size_t cap;
};

/* One logical line: its characters and, for each, the physical line it came
 * from (a continuation spans several). */
struct logical {
    char *text;
    int *lines;
    size_t len;
    size_t cap;
};

struct reader {
    const char *text;
    size_t len;
    size_t pos;
    int line; /* physical line of text[pos] */
};

/* ------------------------------------------------------------------------ */
/* The object                                                               */
/* ------------------------------------------------------------------------ */

connrt_jprops_t *connrt_jprops_new_empty(const char *filename)
{
    connrt_jprops_t *p = calloc(1, sizeof(*p));

    if (p == NULL) {
        return NULL;
    }
    p->filename = strdup(filename ? filename : "(properties)");
    if (p->filename == NULL) {
        free(p);
        return NULL;
    }
    return p;
}

void connrt_jprops_destroy(connrt_jprops_t *props)
{
    if (props == NULL) {
        return;
    }
    for (size_t i = 0; i < props->n; i++) {
        free(props->v[i].key);
        free(props->v[i].value);
    }
    free(props->v);
    free(props->filename);
    free(props);
}

static struct jentry *find_entry(const connrt_jprops_t *props, const char *key)
{
    for (size_t i = 0; i < props->n; i++) {
        if (strcmp(props->v[i].key, key) == 0) {
            return &props->v[i];
        }
    }
    return NULL;
}

/* Takes ownership of key and value on success only. */
static int add_entry(connrt_jprops_t *props, char *key, char *value, int line)
{
    struct jentry *e = find_entry(props, key);

    if (e != NULL) {
        /* As in Java, a later duplicate wins; it keeps the first position. */
        free(e->value);
        free(key);
        e->value = value;
        e->line = line;
        return 0;
    }
    if (props->n == props->cap) {
        size_t cap = props->cap ? props->cap * 2 : 16;
        struct jentry *v = realloc(props->v, cap * sizeof(*v));
        if (v == NULL) {
            return -1;
        }
        props->v = v;
        props->cap = cap;
    }
    props->v[props->n].key = key;
    props->v[props->n].value = value;
    props->v[props->n].line = line;
    props->n++;
    return 0;
}

const char *connrt_jprops_get(const connrt_jprops_t *props, const char *key)
{
    const struct jentry *e;

    if (props == NULL || key == NULL) {
        return NULL;
    }
    e = find_entry(props, key);
    return e ? e->value : NULL;
}

size_t connrt_jprops_count(const connrt_jprops_t *props)
{
    return props ? props->n : 0;
}

void connrt_jprops_at(const connrt_jprops_t *props, size_t i, const char **key, const char **value,
                      int *line)
{
    int ok = props != NULL && i < props->n;

    if (key != NULL) {
        *key = ok ? props->v[i].key : NULL;
    }
    if (value != NULL) {
        *value = ok ? props->v[i].value : NULL;
    }
    if (line != NULL) {
        *line = ok ? props->v[i].line : 0;
    }
}

const char *connrt_jprops_filename(const connrt_jprops_t *props)
{
    return props ? props->filename : NULL;
}

/* ------------------------------------------------------------------------ */
/* Reading logical lines                                                    */
/* ------------------------------------------------------------------------ */

static int logical_push(struct logical *l, char c, int line)
{
    if (l->len == l->cap) {
        size_t cap = l->cap ? l->cap * 2 : 256;
        char *t = realloc(l->text, cap);
        if (t == NULL) {
            return -1;
        }
        l->text = t;
        int *n = realloc(l->lines, cap * sizeof(int));
        if (n == NULL) {
            return -1;
        }
        l->lines = n;
        l->cap = cap;
    }
    l->text[l->len] = c;
    l->lines[l->len] = line;
    l->len++;
    return 0;
}

static int is_blank(char c)
{
    return c == ' ' || c == '\t' || c == '\f';
}

/* Consume the line terminator at r->pos (\n, \r or \r\n). */
static void skip_newline(struct reader *r)
{
    if (r->text[r->pos] == '\r' && r->pos + 1 < r->len && r->text[r->pos + 1] == '\n') {
        r->pos++;
    }
    r->pos++;
    r->line++;
}

static void skip_to_line_end(struct reader *r)
{
    while (r->pos < r->len && r->text[r->pos] != '\n' && r->text[r->pos] != '\r') {
        r->pos++;
    }
    if (r->pos < r->len) {
        skip_newline(r);
    }
}

enum { LINE_EOF = 0, LINE_OK = 1, LINE_NOMEM = -1 };

/*
 * The next logical line into `l`, as Java's LineReader: leading blanks and
 * blank lines skipped, comment lines (# or ! first) skipped, an odd number of
 * backslashes before the end of line joins the next line, whose leading
 * blanks are dropped.
 */
static int read_logical_line(struct reader *r, struct logical *l)
{
    int skip_ws = 1;         /* dropping blanks at the start of a (continued) line */
    int appended = 0;        /* at the start of a continuation line */
    int backslash = 0;       /* the last character was an unpaired backslash */

    l->len = 0;
    while (r->pos < r->len) {
        char c = r->text[r->pos];
        if (skip_ws) {
            if (is_blank(c)) {
                r->pos++;
                continue;
            }
            if (!appended && (c == '\n' || c == '\r')) {
                skip_newline(r);
                continue;
            }
            skip_ws = 0;
            appended = 0;
        }
        if (l->len == 0 && (c == '#' || c == '!')) {
            skip_to_line_end(r);
            skip_ws = 1;
            continue;
        }
        if (c != '\n' && c != '\r') {
            if (logical_push(l, c, r->line) != 0) {
                return LINE_NOMEM;
            }
            backslash = (c == '\\') ? !backslash : 0;
            r->pos++;
            continue;
        }
        skip_newline(r);
        if (l->len == 0) {
            skip_ws = 1;
            continue;
        }
        if (!backslash) {
            return LINE_OK;
        }
        /* The backslash is not part of the line; the next line continues it. */
        l->len--;
        backslash = 0;
        skip_ws = 1;
        appended = 1;
    }
    if (l->len == 0) {
        return LINE_EOF;
    }
    if (backslash) {
        l->len--; /* a backslash at the end of the file is dropped, as in Java */
    }
    return LINE_OK;
}

/* ------------------------------------------------------------------------ */
/* Unescaping                                                               */
/* ------------------------------------------------------------------------ */

struct out {
    char *buf;
    size_t len;
};

static void put_utf8(struct out *o, unsigned long cp)
{
    if (cp < 0x80) {
        o->buf[o->len++] = (char)cp;
    } else if (cp < 0x800) {
        o->buf[o->len++] = (char)(0xC0 | (cp >> 6));
        o->buf[o->len++] = (char)(0x80 | (cp & 0x3F));
    } else if (cp < 0x10000) {
        o->buf[o->len++] = (char)(0xE0 | (cp >> 12));
        o->buf[o->len++] = (char)(0x80 | ((cp >> 6) & 0x3F));
        o->buf[o->len++] = (char)(0x80 | (cp & 0x3F));
    } else {
        o->buf[o->len++] = (char)(0xF0 | (cp >> 18));
        o->buf[o->len++] = (char)(0x80 | ((cp >> 12) & 0x3F));
        o->buf[o->len++] = (char)(0x80 | ((cp >> 6) & 0x3F));
        o->buf[o->len++] = (char)(0x80 | (cp & 0x3F));
    }
}

static int hex_value(char c)
{
    if (c >= '0' && c <= '9') {
        return c - '0';
    }
    if (c >= 'a' && c <= 'f') {
        return c - 'a' + 10;
    }
    if (c >= 'A' && c <= 'F') {
        return c - 'A' + 10;
    }
    return -1;
}

/* The 4 hex digits at s[*i]; advances *i. -1 when fewer than 4 hex digits. */
static long read_hex4(const char *s, size_t end, size_t *i)
{
    long v = 0;

    if (end - *i < 4) {
        return -1;
    }
    for (int k = 0; k < 4; k++) {
        int h = hex_value(s[*i + (size_t)k]);
        if (h < 0) {
            return -1;
        }
        v = v * 16 + h;
    }
    *i += 4;
    return v;
}

/* A \u escape whose "\u" has been read (*i at the first hex digit): one code
 * point, pairing a high surrogate with the \uDC00..\uDFFF that must follow. */
static long read_unicode(const char *s, size_t end, size_t *i)
{
    long hi = read_hex4(s, end, i);
    long lo;

    if (hi < 0 || (hi >= 0xDC00 && hi <= 0xDFFF)) {
        return -1;
    }
    if (hi < 0xD800 || hi > 0xDBFF) {
        return hi;
    }
    if (end - *i < 2 || s[*i] != '\\' || s[*i + 1] != 'u') {
        return -1;
    }
    *i += 2;
    lo = read_hex4(s, end, i);
    if (lo < 0xDC00 || lo > 0xDFFF) {
        return -1;
    }
    return 0x10000 + ((hi - 0xD800) << 10) + (lo - 0xDC00);
}

/* Unescape l->text[begin, end) into a new string (*out, owned by the caller).
 * Returns 0, -1 with errstr on a bad escape, -2 on no memory. */
static int unescape(const struct logical *l, size_t begin, size_t end, const char *filename,
                    char **out, char *errstr, size_t errstr_size)
{
    /* UTF-8 of a \uXXXX (6 input bytes) is at most 3 bytes, of a pair (12)
     * 4 bytes: the output never outgrows the input. */
    struct out o = {malloc(end - begin + 1), 0};
    size_t i = begin;

    if (o.buf == NULL) {
        return -2;
    }
    while (i < end) {
        char c = l->text[i++];
        if (c != '\\') {
            o.buf[o.len++] = c;
            continue;
        }
        if (i >= end) {
            break; /* cannot happen: the reader drops an unpaired final backslash */
        }
        size_t at = i - 1;
        c = l->text[i++];
        switch (c) {
        case 'u': {
            long cp = read_unicode(l->text, end, &i);
            if (cp <= 0) {
                snprintf(errstr, errstr_size, "%s:%d: %s", filename, l->lines[at],
                         cp == 0 ? "\\u0000 (NUL) is not allowed"
                                 : "malformed \\uXXXX escape");
                free(o.buf);
                return -1;
            }
            put_utf8(&o, (unsigned long)cp);
            break;
        }
        case 't':
            o.buf[o.len++] = '\t';
            break;
        case 'n':
            o.buf[o.len++] = '\n';
            break;
        case 'r':
            o.buf[o.len++] = '\r';
            break;
        case 'f':
            o.buf[o.len++] = '\f';
            break;
        default:
            o.buf[o.len++] = c; /* \\, \=, \:, \#, \!, \  and any other: the character */
            break;
        }
    }
    o.buf[o.len] = '\0';
    *out = o.buf;
    return 0;
}

/* ------------------------------------------------------------------------ */
/* Parsing                                                                  */
/* ------------------------------------------------------------------------ */

/* Split a logical line into key [0, *key_end) and value [*value_begin, len):
 * the key ends at an unescaped '=', ':' or blank; blanks around the separator
 * and one '=' or ':' after blanks are skipped. */
static void split_key_value(const struct logical *l, size_t *key_end, size_t *value_begin)
{
    size_t k = 0, v = l->len;
    int backslash = 0, has_sep = 0;

    while (k < l->len) {
        char c = l->text[k];
        if ((c == '=' || c == ':') && !backslash) {
            v = k + 1;
            has_sep = 1;
            break;
        }
        if (is_blank(c) && !backslash) {
            v = k + 1;
            break;
        }
        backslash = (c == '\\') ? !backslash : 0;
        k++;
    }
    while (v < l->len) {
        char c = l->text[v];
        if (!is_blank(c)) {
            if (!has_sep && (c == '=' || c == ':')) {
                has_sep = 1;
            } else {
                break;
            }
        }
        v++;
    }
    *key_end = k;
    *value_begin = v;
}

static int no_memory(char *errstr, size_t errstr_size)
{
    snprintf(errstr, errstr_size, "out of memory");
    return -1;
}

/* Unescape and store one logical line. */
static int store_line(connrt_jprops_t *props, const struct logical *l, char *errstr,
                      size_t errstr_size)
{
    size_t key_end, value_begin;
    char *key = NULL, *value = NULL;
    int rc;

    split_key_value(l, &key_end, &value_begin);
    rc = unescape(l, 0, key_end, props->filename, &key, errstr, errstr_size);
    if (rc == 0) {
        rc = unescape(l, value_begin, l->len, props->filename, &value, errstr, errstr_size);
    }
    if (rc == 0 && add_entry(props, key, value, l->lines[0]) == 0) {
        return 0;
    }
    free(key);
    free(value);
    return rc == -1 ? -1 : no_memory(errstr, errstr_size);
}

/* A NUL byte would silently cut a key or value short: refuse it. */
static int check_no_nul(const char *text, size_t len, const char *filename, char *errstr,
                        size_t errstr_size)
{
    const char *nul = memchr(text, '\0', len);
    int line = 1;

    if (nul == NULL) {
        return 0;
    }
    for (const char *p = text; p < nul; p++) {
        line += (*p == '\n');
    }
    snprintf(errstr, errstr_size, "%s:%d: NUL byte in file", filename, line);
    return -1;
}

connrt_jprops_t *connrt_jprops_parse(const char *text, size_t len, const char *filename,
                                     char *errstr, size_t errstr_size)
{
    struct reader r = {text ? text : "", text ? len : 0, 0, 1};
    struct logical l = {NULL, NULL, 0, 0};
    connrt_jprops_t *props = connrt_jprops_new_empty(filename);
    int rc = 0;

    if (props == NULL) {
        no_memory(errstr, errstr_size);
        return NULL;
    }
    text = r.text;
    if (check_no_nul(text, r.len, props->filename, errstr, errstr_size) != 0) {
        connrt_jprops_destroy(props);
        return NULL;
    }
    if (r.len >= 3 && memcmp(text, "\xEF\xBB\xBF", 3) == 0) {
        r.pos = 3; /* UTF-8 byte order mark, as some Windows editors write */
    }
    for (;;) {
        int got = read_logical_line(&r, &l);
        if (got == LINE_EOF) {
            break;
        }
        rc = got == LINE_NOMEM ? no_memory(errstr, errstr_size)
                               : store_line(props, &l, errstr, errstr_size);
        if (rc != 0) {
            break;
        }
    }
    free(l.text);
    free(l.lines);
    if (rc != 0) {
        connrt_jprops_destroy(props);
        return NULL;
    }
    return props;
}

/* Whole file into a new buffer (*out, owned by the caller). */
static int read_file(const char *path, char **out, size_t *len, char *errstr, size_t errstr_size)
{
    FILE *f = fopen(path, "rb");
    char *buf = NULL;
    size_t used = 0, cap = 0;

    if (f == NULL) {
        snprintf(errstr, errstr_size, "%s: %s", path, strerror(errno));
        return -1;
    }
    for (;;) {
        if (used == cap) {
            char *b;
            cap = cap ? cap * 2 : 4096;
            if (cap > MAX_FILE_SIZE) {
                snprintf(errstr, errstr_size, "%s: file too large (over %u bytes)", path,
                         MAX_FILE_SIZE);
                goto fail;
            }
            b = realloc(buf, cap);
            if (b == NULL) {
                no_memory(errstr, errstr_size);
                goto fail;
            }
            buf = b;
        }
        size_t n = fread(buf + used, 1, cap - used, f);
        used += n;
        if (n == 0) {
            break;
        }
    }
    if (ferror(f)) {
        snprintf(errstr, errstr_size, "%s: read error: %s", path, strerror(errno));
        goto fail;
    }
    fclose(f);
    *out = buf;
    *len = used;
    return 0;
fail:
    fclose(f);
    free(buf);
    return -1;
}

connrt_jprops_t *connrt_jprops_load_file(const char *path, char *errstr, size_t errstr_size)
{
    char *text;
    size_t len;
    connrt_jprops_t *props;

    if (path == NULL) {
        snprintf(errstr, errstr_size, "no file name given");
        return NULL;
    }
    if (read_file(path, &text, &len, errstr, errstr_size) != 0) {
        return NULL;
    }
    props = connrt_jprops_parse(text, len, path, errstr, errstr_size);
    free(text);
    return props;
}
