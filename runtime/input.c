/*
 * input.c - documents from a directory, a file or stdin for `connrt run`.
 *
 * Lines are read in large blocks into one reused buffer, split with memchr
 * (no stdio call per line) and copied once into
 * the arena, so reading costs no malloc per document.
 */
#include "input.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "document.h"
#include "json_memory.h"
#include "vector.h"

#define FILE_NAME_PROPERTY "file.name"
/* Bytes read at once from a file or stdin. */
#define INPUT_BLOCK_SIZE ((size_t)256 * 1024)
/* A read that stops at the limit: the document is larger. */
#define TOO_LARGE (-2)

struct connrt_input {
    connrt_input_format_t format;
    char *path;          /* as given; "stdin" for stdin */
    /* file / stdin */
    FILE *fp;
    int owns_fp;
    size_t line_no;
    size_t max_document;  /* bytes; a larger line or file is refused, unread */
    size_t skipped;       /* bytes of the too-large line being skipped */
    size_t scanned;       /* bytes of the partial line searched for its newline */
    char *block;         /* lines read ahead: block[start, end) not yet taken */
    size_t block_cap, block_start, block_end;
    int at_eof;
    /* A copy of path in the arena documents are read into, shared by
     * their origins (one copy per arena generation, not per document). */
    const connrt_arena_t *origin_arena;
    size_t origin_generation;
    const char *origin_path;
    /* directory */
    int is_dir;
    char **names;        /* regular files, sorted by name */
    size_t nnames, next_name;
    unsigned char *file_buf; /* reused for each file */
    size_t file_cap;
};

int connrt_input_format_parse(const char *name, connrt_input_format_t *out)
{
    static const struct {
        const char *name;
        connrt_input_format_t format;
    } formats[] = {{"lines", CONNRT_INPUT_LINES}, {"jsonl", CONNRT_INPUT_JSONL}};
    for (size_t i = 0; name != NULL && i < sizeof(formats) / sizeof(formats[0]); i++) {
        if (strcmp(name, formats[i].name) == 0) {
            *out = formats[i].format;
            return 0;
        }
    }
    return -1;
}

static int compare_names(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Regular files of `in->path` (symbolic links followed), sorted by name. */
static int list_directory(connrt_input_t *in, DIR *dir, char *errstr, size_t errstr_size)
{
    size_t cap = 0;
    struct dirent *de;
    errno = 0;
    while ((de = readdir(dir)) != NULL) {
        struct stat st;
        if (fstatat(dirfd(dir), de->d_name, &st, 0) != 0 || !S_ISREG(st.st_mode)) {
            continue;
        }
        if (in->nnames == cap) {
            cap = cap ? cap * 2 : 64;
            char **grown = connrt_realloc_array(in->names, cap, sizeof(*grown));
            if (grown == NULL) {
                snprintf(errstr, errstr_size, "%s: out of memory", in->path);
                return -1;
            }
            in->names = grown;
        }
        in->names[in->nnames] = strdup(de->d_name);
        if (in->names[in->nnames] == NULL) {
            snprintf(errstr, errstr_size, "%s: out of memory", in->path);
            return -1;
        }
        in->nnames++;
        errno = 0;
    }
    if (errno != 0) {
        snprintf(errstr, errstr_size, "%s: %s", in->path, strerror(errno));
        return -1;
    }
    if (in->nnames > 1) {
        qsort(in->names, in->nnames, sizeof(*in->names), compare_names);
    }
    return 0;
}

static int open_path(connrt_input_t *in, const char *path, char *errstr, size_t errstr_size)
{
    struct stat st;
    if (stat(path, &st) != 0) {
        snprintf(errstr, errstr_size, "%s: %s", path, strerror(errno));
        return -1;
    }
    if (S_ISDIR(st.st_mode) && in->format == CONNRT_INPUT_JSONL) {
        /* Not silently one document per file: the user asked for jsonl. */
        snprintf(errstr, errstr_size,
                 "%s: is a directory (one document per file); --input-format jsonl needs a "
                 "file or -",
                 path);
        return -1;
    }
    if (S_ISDIR(st.st_mode)) {
        DIR *dir = opendir(path);
        if (dir == NULL) {
            snprintf(errstr, errstr_size, "%s: %s", path, strerror(errno));
            return -1;
        }
        in->is_dir = 1;
        int rc = list_directory(in, dir, errstr, errstr_size);
        closedir(dir);
        return rc;
    }
    in->fp = fopen(path, "rb");
    if (in->fp == NULL) {
        snprintf(errstr, errstr_size, "%s: %s", path, strerror(errno));
        return -1;
    }
    in->owns_fp = 1;
    return 0;
}

connrt_input_t *connrt_input_open(const char *path, connrt_input_format_t format, char *errstr,
                                  size_t errstr_size)
{
    connrt_input_t *in = calloc(1, sizeof(*in));
    if (in == NULL) {
        snprintf(errstr, errstr_size, "out of memory");
        return NULL;
    }
    in->format = format;
    in->max_document = CONNRT_INPUT_DEFAULT_MAX_DOCUMENT;
    int use_stdin = (path == NULL || strcmp(path, "-") == 0);
    in->path = strdup(use_stdin ? "stdin" : path);
    if (in->path == NULL) {
        snprintf(errstr, errstr_size, "out of memory");
        connrt_input_close(in);
        return NULL;
    }
    if (use_stdin) {
        in->fp = stdin;
    } else if (open_path(in, path, errstr, errstr_size) != 0) {
        connrt_input_close(in);
        return NULL;
    }
    return in;
}

void connrt_input_close(connrt_input_t *in)
{
    if (in == NULL) {
        return;
    }
    if (in->owns_fp && in->fp != NULL) {
        fclose(in->fp);
    }
    for (size_t i = 0; i < in->nnames; i++) {
        free(in->names[i]);
    }
    free(in->names);
    free(in->block);
    free(in->file_buf);
    free(in->path);
    free(in);
}

/* Read the whole of `fd` into in->file_buf. Returns the length, or -1. */
static ssize_t read_all(connrt_input_t *in, int fd)
{
    size_t len = 0;
    for (;;) {
        if (len > in->max_document) {
            return TOO_LARGE;
        }
        if (len == in->file_cap) {
            size_t cap = in->file_cap ? in->file_cap * 2 : 65536;
            unsigned char *grown = realloc(in->file_buf, cap);
            if (grown == NULL) {
                errno = ENOMEM;
                return -1;
            }
            in->file_buf = grown;
            in->file_cap = cap;
        }
        ssize_t n = read(fd, in->file_buf + len, in->file_cap - len);
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n < 0) {
            return -1;
        }
        if (n == 0) {
            return (ssize_t)len;
        }
        len += (size_t)n;
    }
}

/* Why a document is refused: it is larger than the limit. */
static const char *too_large(char *buf, size_t size, size_t limit)
{
    snprintf(buf, size, "larger than %zu bytes (execution.max.document.bytes); not read", limit);
    return buf;
}

/* One document per file. A file that cannot be read is still a document
 * (empty payload) with an error, so that it gets an outcome. */
static int next_file(connrt_input_t *in, connrt_arena_t *arena, connrt_document_t **doc,
                     const char **error, char *errstr, size_t errstr_size)
{
    if (in->next_name == in->nnames) {
        return 0;
    }
    const char *name = in->names[in->next_name++];
    size_t plen = strlen(in->path) + strlen(name) + 2;
    char *origin = connrt_arena_alloc(arena, plen);
    if (origin == NULL) {
        snprintf(errstr, errstr_size, "out of memory");
        return -1;
    }
    snprintf(origin, plen, "%s%s%s", in->path,
             in->path[strlen(in->path) - 1] == '/' ? "" : "/", name);
    ssize_t len = -1;
    char limit[96];
    int fd = open(origin, O_RDONLY | O_CLOEXEC);
    if (fd >= 0) {
        len = read_all(in, fd);
        close(fd);
    }
    const char *why = (len == TOO_LARGE) ? too_large(limit, sizeof(limit), in->max_document)
                      : (len < 0)        ? strerror(errno)
                                         : NULL;
    *doc = connrt_document_new(arena, in->file_buf, len < 0 ? 0 : (size_t)len);
    if (*doc == NULL || connrt_document_set_property(*doc, FILE_NAME_PROPERTY, name) != 0) {
        snprintf(errstr, errstr_size, "out of memory");
        return -1;
    }
    connrt_document_set_origin(*doc, origin);
    *error = NULL;
    if (why != NULL) {
        size_t elen = plen + strlen(why) + 3;
        char *msg = connrt_arena_alloc(arena, elen);
        if (msg != NULL) {
            snprintf(msg, elen, "%s: %s", origin, why);
        }
        *error = msg != NULL ? msg : "cannot read the file";
    }
    return 1;
}

/* An arena string "PATH:LINE: why". */
static const char *line_error(connrt_arena_t *arena, const char *path, size_t line_no,
                              const char *why)
{
    int n = snprintf(NULL, 0, "%s:%zu: %s", path, line_no, why);
    char *msg = n > 0 ? connrt_arena_alloc(arena, (size_t)n + 1) : NULL;
    if (msg == NULL) {
        return "out of memory recording why the line was refused";
    }
    snprintf(msg, (size_t)n + 1, "%s:%zu: %s", path, line_no, why);
    return msg;
}

static const char b64_alphabet[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/* Decode standard base64 (with padding) into `out` (>= 3 * len / 4 bytes).
 * Returns the decoded length, or -1 when the text is not base64. */
static ssize_t base64_decode(const char *text, size_t len, unsigned char *out)
{
    if (len % 4 != 0) {
        return -1;
    }
    size_t n = 0;
    for (size_t i = 0; i < len; i += 4) {
        unsigned v = 0;
        int pad = 0;
        for (size_t j = 0; j < 4; j++) {
            char c = text[i + j];
            const char *pos = c ? strchr(b64_alphabet, c) : NULL;
            if (c == '=' && i + 4 == len && j >= 2 && (j == 3 || text[i + 3] == '=')) {
                pad++;
                v <<= 6;
            } else if (pos != NULL && pad == 0) {
                v = (v << 6) | (unsigned)(pos - b64_alphabet);
            } else {
                return -1;
            }
        }
        out[n++] = (unsigned char)(v >> 16);
        if (pad < 2) {
            out[n++] = (unsigned char)(v >> 8);
        }
        if (pad < 1) {
            out[n++] = (unsigned char)v;
        }
    }
    return (ssize_t)n;
}

/* The payload of a jsonl object's "value". Returns 0, or -1 with *why. */
static int jsonl_payload(connrt_document_t *doc, const json_t *obj, const char **why)
{
    json_t *value = json_object_get(obj, "value");
    json_t *encoding = json_object_get(obj, "value_encoding");
    if (value == NULL) {
        *why = "missing member \"value\"";
        return -1;
    }
    if (encoding != NULL) {
        if (!json_is_string(encoding) || strcmp(json_string_value(encoding), "base64") != 0) {
            *why = "\"value_encoding\" must be \"base64\" when given";
            return -1;
        }
        if (!json_is_string(value)) {
            *why = "\"value\" must be a string when \"value_encoding\" is \"base64\"";
            return -1;
        }
        size_t len = json_string_length(value);
        unsigned char *bytes = connrt_arena_alloc(connrt_document_arena(doc), len / 4 * 3 + 1);
        if (bytes == NULL) {
            *why = "out of memory";
            return -1;
        }
        ssize_t n = base64_decode(json_string_value(value), len, bytes);
        if (n < 0) {
            *why = "\"value\" is not valid base64";
            return -1;
        }
        return connrt_document_set_payload(doc, bytes, (size_t)n);
    }
    if (json_is_string(value)) {
        return connrt_document_set_payload(doc, json_string_value(value),
                                           json_string_length(value));
    }
    char *text = connrt_json_dumps(value, JSON_COMPACT | JSON_ENCODE_ANY);
    if (text == NULL) {
        *why = "out of memory";
        return -1;
    }
    int rc = connrt_document_set_payload(doc, text, strlen(text));
    free(text);
    return rc;
}

/* Document properties from a jsonl object's "properties"; strings as is,
 * other values as compact JSON (the rule of set-properties). */
static int jsonl_properties(connrt_document_t *doc, const json_t *obj, const char **why)
{
    json_t *props = json_object_get(obj, "properties");
    if (props == NULL) {
        return 0;
    }
    if (!json_is_object(props)) {
        *why = "\"properties\" must be an object of name: string";
        return -1;
    }
    const char *name;
    json_t *value;
    json_object_foreach(props, name, value)
    {
        char *text = json_is_string(value) ? NULL
                                           : connrt_json_dumps(value, JSON_COMPACT | JSON_ENCODE_ANY);
        int rc = -1;
        if (text != NULL || json_is_string(value)) {
            rc = connrt_document_set_property(doc, name, text ? text : json_string_value(value));
        }
        free(text);
        if (rc != 0) {
            *why = "out of memory";
            return -1;
        }
    }
    return 0;
}

/* Fill `doc` (payload = raw line) from a jsonl line. Returns NULL or why
 * the line is malformed (arena string). */
static const char *parse_jsonl(const connrt_input_t *in, connrt_arena_t *arena,
                               connrt_document_t *doc, const char *line, size_t len)
{
    json_error_t jerr;
    /* Any JSON value loads, so that a line holding an array or a string is
     * told what is expected rather than jansson's "'[' or '{' expected". */
    int no_memory;
    json_t *obj =
        connrt_json_loadb(line, len, JSON_ALLOW_NUL | JSON_DECODE_ANY, &jerr, &no_memory);
    if (obj == NULL) {
        char why[256 + JSON_ERROR_TEXT_LENGTH];
        if (no_memory) {
            return line_error(arena, in->path, in->line_no, "out of memory");
        }
        snprintf(why, sizeof(why), "%s (column %d)", jerr.text, jerr.column);
        return line_error(arena, in->path, in->line_no, why);
    }
    const char *why = NULL;
    if (!json_is_object(obj)) {
        why = "expected a JSON object {\"value\": ..., \"properties\": {...}}";
    } else if (jsonl_payload(doc, obj, &why) == 0) {
        jsonl_properties(doc, obj, &why);
    } else if (why == NULL) {
        why = "out of memory";
    }
    json_decref(obj);
    return why ? line_error(arena, in->path, in->line_no, why) : NULL;
}

/* Read more into the block after what is left of it (moved to the front),
 * growing it when one line fills it. read(2) returns what a pipe holds
 * without waiting for a full block. Returns 0, or -1 with errno. */
static int fill_block(connrt_input_t *in)
{
    size_t left = in->block_end - in->block_start;
    if (in->block_start > 0) {
        memmove(in->block, in->block + in->block_start, left);
        in->block_start = 0;
        in->block_end = left;
    }
    if (in->block_end == in->block_cap) {
        size_t cap = in->block_cap ? in->block_cap * 2 : INPUT_BLOCK_SIZE;
        char *grown = realloc(in->block, cap);
        if (grown == NULL) {
            errno = ENOMEM;
            return -1;
        }
        in->block = grown;
        in->block_cap = cap;
    }
    for (;;) {
        ssize_t n = read(fileno(in->fp), in->block + in->block_end,
                         in->block_cap - in->block_end);
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n < 0) {
            return -1;
        }
        in->at_eof = (n == 0);
        in->block_end += (size_t)n;
        return 0;
    }
}

/* The rest of a line longer than max_document is read and thrown away.
 * Returns 1 once its end is reached (*len: the line's length), -1 on a
 * read error. */
static int skip_line(connrt_input_t *in, size_t *len)
{
    for (;;) {
        size_t avail = in->block_end - in->block_start;
        const char *start = avail > 0 ? in->block + in->block_start : NULL;
        const char *nl = avail > 0 ? memchr(start, '\n', avail) : NULL;
        if (nl != NULL) {
            in->skipped += (size_t)(nl - start);
            in->block_start += (size_t)(nl - start) + 1;
            break;
        }
        in->skipped += avail;
        in->block_start = in->block_end = 0;
        if (in->at_eof) {
            break;
        }
        if (fill_block(in) != 0) {
            return -1;
        }
    }
    *len = in->skipped;
    in->skipped = 0;
    return 1;
}

/* The next line, its "\n" or "\r\n" excluded: 1 with *line and *len
 * (borrowed from the block until the next call), 0 at the end, -1 with
 * errno on a read error, TOO_LARGE (*len: its length) for a line longer
 * than max_document, which is skipped. Bytes already searched for the
 * newline are not searched again after the next read (in->scanned). */
static int take_line(connrt_input_t *in, const char **line, size_t *len)
{
    for (;;) {
        size_t avail = in->block_end - in->block_start;
        /* No block before the first read: NULL + 0 is undefined behaviour. */
        const char *start = avail > 0 ? in->block + in->block_start : NULL;
        const char *nl = avail > in->scanned
                             ? memchr(start + in->scanned, '\n', avail - in->scanned)
                             : NULL;
        size_t n = nl != NULL ? (size_t)(nl - start) : avail;
        in->scanned = nl != NULL ? 0 : avail;
        if (n > in->max_document) {
            /* Never held whole: what is read so far goes, the rest is read past. */
            in->scanned = 0;
            return skip_line(in, len) < 0 ? -1 : TOO_LARGE;
        }
        if (nl != NULL || (in->at_eof && avail > 0)) {
            in->scanned = 0;
            *line = start;
            *len = n;
            in->block_start += *len + (nl != NULL);
            if (nl != NULL && *len > 0 && start[*len - 1] == '\r') {
                (*len)--;
            }
            return 1;
        }
        if (in->at_eof) {
            return 0;
        }
        if (fill_block(in) != 0) {
            return -1;
        }
    }
}

static int next_line(connrt_input_t *in, connrt_arena_t *arena, connrt_document_t **doc,
                     const char **error, char *errstr, size_t errstr_size)
{
    const char *line = "";
    size_t len;
    int rc = take_line(in, &line, &len);
    if (rc == 0 || rc == -1) {
        if (rc < 0) {
            snprintf(errstr, errstr_size, "%s: %s", in->path, strerror(errno));
        }
        return rc;
    }
    in->line_no++;
    *doc = connrt_document_new(arena, line, rc == TOO_LARGE ? 0 : len);
    if (*doc == NULL) {
        snprintf(errstr, errstr_size, "out of memory");
        return -1;
    }
    if (in->origin_path == NULL || in->origin_arena != arena ||
        in->origin_generation != connrt_arena_generation(arena)) {
        in->origin_path = connrt_arena_strdup(arena, in->path);
        in->origin_arena = arena;
        in->origin_generation = connrt_arena_generation(arena);
    }
    if (in->origin_path != NULL) {
        connrt_document_set_origin_ref(*doc, in->origin_path, in->line_no);
    }
    *error = NULL;
    if (rc == TOO_LARGE) {
        char why[160];
        snprintf(why, sizeof(why), "line of %zu bytes, larger than %zu "
                 "(execution.max.document.bytes); not read", len, in->max_document);
        *error = line_error(arena, in->path, in->line_no, why);
    } else if (in->format == CONNRT_INPUT_JSONL) {
        *error = parse_jsonl(in, arena, *doc, line, len);
    }
    return 1;
}

void connrt_input_set_max_document(connrt_input_t *in, size_t bytes)
{
    in->max_document = bytes;
}

int connrt_input_next(connrt_input_t *in, connrt_arena_t *arena, connrt_document_t **doc,
                      const char **error, char *errstr, size_t errstr_size)
{
    *doc = NULL;
    *error = NULL;
    if (in->is_dir) {
        return next_file(in, arena, doc, error, errstr, errstr_size);
    }
    return next_line(in, arena, doc, error, errstr, errstr_size);
}
