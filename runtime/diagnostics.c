/*
 * diagnostics.c - a growing list of "file:line: message" problems. Messages
 * are kept on one line each (control characters become spaces) so that the
 * output stays one problem per line even when a message quotes user input.
 */
#include "diagnostics.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct connrt_diagnostics {
    char **messages;
    size_t count;
    size_t capacity;
    /* Problems that could not be recorded (no memory): they still count, as
     * one last message saying so, so that a problem is never lost. */
    size_t lost;
    char lost_message[96];
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

void connrt_diag_add_lost(connrt_diagnostics_t *diag, size_t n)
{
    if (diag == NULL || n == 0) {
        return;
    }
    diag->lost += n;
    snprintf(diag->lost_message, sizeof(diag->lost_message),
             "out of memory: %zu problem%s could not be recorded", diag->lost,
             diag->lost == 1 ? "" : "s");
}

void connrt_diag_add(connrt_diagnostics_t *diag, const char *file, int line, const char *fmt, ...)
{
    char *text = NULL, *message = NULL;
    va_list ap;
    if (diag == NULL) {
        return;
    }
    if (grow(diag) != 0) {
        connrt_diag_add_lost(diag, 1);
        return;
    }
    va_start(ap, fmt);
    int rc = vasprintf(&text, fmt, ap);
    va_end(ap);
    if (rc < 0) {
        connrt_diag_add_lost(diag, 1);
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
        connrt_diag_add_lost(diag, 1);
        return;
    }
    flatten(message);
    diag->messages[diag->count++] = message;
}

size_t connrt_diag_count(const connrt_diagnostics_t *diag)
{
    return diag ? diag->count + (diag->lost > 0) : 0;
}

const char *connrt_diag_message(const connrt_diagnostics_t *diag, size_t i)
{
    if (diag == NULL || i >= connrt_diag_count(diag)) {
        return NULL;
    }
    return i < diag->count ? diag->messages[i] : diag->lost_message;
}

void connrt_diag_print(const connrt_diagnostics_t *diag, FILE *out)
{
    for (size_t i = 0; i < connrt_diag_count(diag); i++) {
        fprintf(out, "%s\n", connrt_diag_message(diag, i));
    }
}
