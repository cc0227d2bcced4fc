/*
 * diagnostics.c - a growing list of "file:line: message" problems. Messages
 * are kept on one line each (control characters become spaces) so that the
 * output stays one problem per line even when a message quotes user input.
 */
#include "diagnostics.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

struct connrt_diagnostics {
    char **messages;
    size_t count;
    size_t capacity;
};

connrt_diagnostics_t *connrt_diagnostics_new(void)
{
    return calloc(1, sizeof(struct connrt_diagnostics));
}

void connrt_diagnostics_destroy(connrt_diagnostics_t *diag)
{
    if (diag == NULL) {
        return;
    }
    for (size_t i = 0; i < diag->count; i++) {
        free(diag->messages[i]);
    }
    free(diag->messages);
    free(diag);
}

/* One problem per line: newlines, tabs and other control bytes become spaces,
 * runs of spaces collapse and trailing spaces go. */
static void flatten(char *s)
{
    char *out = s;
    int last_space = 0;
    for (const char *in = s; *in != '\0'; in++) {
        unsigned char ch = (unsigned char)*in;
        if (ch < 0x20 || ch == 0x7f) {
            ch = ' ';
        }
        if (ch == ' ' && last_space) {
            continue;
        }
        last_space = (ch == ' ');
        *out++ = (char)ch;
    }
    while (out > s && out[-1] == ' ') {
        out--;
    }
    *out = '\0';
}

static int grow(connrt_diagnostics_t *diag)
{
    if (diag->count < diag->capacity) {
        return 0;
    }
    size_t capacity = diag->capacity ? diag->capacity * 2 : 16;
    char **messages = realloc(diag->messages, capacity * sizeof(*messages));
    if (messages == NULL) {
        return -1;
    }
    diag->messages = messages;
    diag->capacity = capacity;
    return 0;
}

void connrt_diag_add(connrt_diagnostics_t *diag, const char *file, int line, const char *fmt, ...)
{
    char *text = NULL, *message = NULL;
    va_list ap;
    if (diag == NULL || grow(diag) != 0) {
        return;
    }
    va_start(ap, fmt);
    int rc = vasprintf(&text, fmt, ap);
    va_end(ap);
    if (rc < 0) {
        return;
    }
    flatten(text);
    if (file != NULL && line > 0) {
        rc = asprintf(&message, "%s:%d: %s", file, line, text);
    } else if (file != NULL) {
        rc = asprintf(&message, "%s: %s", file, text);
    } else {
        rc = asprintf(&message, "%s", text);
    }
    free(text);
    if (rc < 0) {
        return;
    }
    flatten(message);
    diag->messages[diag->count++] = message;
}

size_t connrt_diag_count(const connrt_diagnostics_t *diag)
{
    return diag ? diag->count : 0;
}

const char *connrt_diag_message(const connrt_diagnostics_t *diag, size_t i)
{
    if (diag == NULL || i >= diag->count) {
        return NULL;
    }
    return diag->messages[i];
}

void connrt_diag_print(const connrt_diagnostics_t *diag, FILE *out)
{
    for (size_t i = 0; diag != NULL && i < diag->count; i++) {
        fprintf(out, "%s\n", diag->messages[i]);
    }
}
