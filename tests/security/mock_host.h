/*
 * mock_host.h - a struct connrt_host for security tests: settings from a
 * name/value list, log lines kept in memory (tests assert on them, and that
 * no secret appears in them). No runtime code is linked.
 */
#ifndef CONNRT_TEST_MOCK_HOST_H
#define CONNRT_TEST_MOCK_HOST_H

#include <connrt/connector.h>

#define MOCK_MAX_SETTINGS 48

/* Settings of one component; the struct is what connrt_settings_t points to. */
struct connrt_settings {
    const char *names[MOCK_MAX_SETTINGS];
    const char *values[MOCK_MAX_SETTINGS];
    int count;
};

/* The host table (static). */
const struct connrt_host *mock_host(void);

/* Add name=value (both borrowed; keep them alive). */
void mock_set(connrt_settings_t *s, const char *name, const char *value);

/* Everything logged so far, one line each ("LEVEL component: message").
 * Returns a copy owned by the caller (free()). */
char *mock_log_text(void);
/* Forget the log. */
void mock_log_clear(void);
/* Whether the log holds `needle` (thread-safe). */
int mock_log_has(const char *needle);

#endif
