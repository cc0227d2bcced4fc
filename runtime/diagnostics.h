/*
 * diagnostics.h - a list of "file:line: message" problems, so that every
 * problem in every file is reported, not only the first.
 */
#ifndef CONNRT_DIAGNOSTICS_H
#define CONNRT_DIAGNOSTICS_H

#include <stddef.h>
#include <stdio.h>

typedef struct connrt_diagnostics connrt_diagnostics_t;

/* Owned by the caller; free with connrt_diagnostics_destroy (NULL no-op). */
connrt_diagnostics_t *connrt_diagnostics_new(void);
void connrt_diagnostics_destroy(connrt_diagnostics_t *diag);

/* Record a problem. `file` may be NULL (no location), `line` 0 (file only).
 * Strings are copied. */
void connrt_diag_add(connrt_diagnostics_t *diag, const char *file, int line, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* Count `n` problems that could not be recorded (no memory): they show as
 * one last message, "out of memory: N problems could not be recorded".
 * connrt_diag_add does this itself when it cannot copy a message. */
void connrt_diag_add_lost(connrt_diagnostics_t *diag, size_t n);

/* Problems recorded, plus one for those that could not be. */
size_t connrt_diag_count(const connrt_diagnostics_t *diag);
/* i-th message, already formatted "file:line: message"; borrowed until destroy. */
const char *connrt_diag_message(const connrt_diagnostics_t *diag, size_t i);
/* Write every message, one per line, in the order recorded. */
void connrt_diag_print(const connrt_diagnostics_t *diag, FILE *out);

#endif
