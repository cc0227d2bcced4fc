/*
 * envsubst.c - ${env:NAME} substitution in definition values. Every bad
 * reference in a value is reported, not only the first.
 */
#include "envsubst.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define ENV_OPEN "${env:"

struct buffer {
    char *data;
    size_t len, cap;
    int failed; /* out of memory */
};

static void append(struct buffer *b, const char *s, size_t n)
{
    if (b->failed) {
        return;
    }
    if (b->len + n + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 64;
        while (cap < b->len + n + 1) {
            cap *= 2;
        }
        char *data = realloc(b->data, cap);
        if (data == NULL) {
            b->failed = 1;
            return;
        }
        b->data = data;
        b->cap = cap;
    }
    memcpy(b->data + b->len, s, n);
    b->len += n;
    b->data[b->len] = '\0';
}

static int valid_name(const char *name, size_t n)
{
    if (n == 0 || (name[0] >= '0' && name[0] <= '9')) {
        return 0;
    }
    for (size_t i = 0; i < n; i++) {
        char c = name[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '_')) {
            return 0;
        }
    }
    return 1;
}

/* One ${env:...} reference at `ref` (which starts with ENV_OPEN). Returns the
 * number of bytes it spans; appends its value or reports why it has none. */
static size_t substitute_one(struct buffer *b, const char *ref, const char *file, int line,
                             connrt_diagnostics_t *diag, size_t *problems)
{
    const char *name = ref + strlen(ENV_OPEN);
    const char *end = strchr(name, '}');
    if (end == NULL) {
        connrt_diag_add(diag, file, line, "unterminated ${env:...} reference (missing '}')");
        (*problems)++;
        return strlen(ref);
    }
    size_t n = (size_t)(end - name);
    if (!valid_name(name, n)) {
        /* The text is not echoed: it may be part of a secret. */
        connrt_diag_add(diag, file, line,
                        "invalid environment variable name in ${env:...} (use letters, digits "
                        "and '_', not starting with a digit)");
        (*problems)++;
        return (size_t)(end - ref) + 1;
    }
    char *var = strndup(name, n);
    const char *value = var ? getenv(var) : NULL;
    if (var == NULL) {
        b->failed = 1;
    } else if (value == NULL) {
        connrt_diag_add(diag, file, line, "environment variable %s is not set", var);
        (*problems)++;
    } else {
        append(b, value, strlen(value));
    }
    free(var);
    return (size_t)(end - ref) + 1;
}

char *connrt_envsubst(const char *text, const char *file, int line, connrt_diagnostics_t *diag,
                      size_t *problems)
{
    struct buffer b = {NULL, 0, 0, 0};
    size_t before = *problems;
    const char *p = text;
    append(&b, "", 0);
    while (*p != '\0') {
        const char *ref = strstr(p, ENV_OPEN);
        if (ref == NULL) {
            append(&b, p, strlen(p));
            break;
        }
        append(&b, p, (size_t)(ref - p));
        p = ref + substitute_one(&b, ref, file, line, diag, problems);
    }
    if (b.failed || *problems != before) {
        if (b.data != NULL) {
            /* May hold part of a secret: do not leave it in freed memory. */
            memset(b.data, 0, b.cap);
        }
        free(b.data);
        return NULL;
    }
    return b.data;
}
