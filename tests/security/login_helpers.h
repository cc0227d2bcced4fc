/*
 * login_helpers.h - shared steps of the security connector tests: build a
 * librdkafka configuration through kafka_security_configure from mock
 * settings and run the connection probe against a local server.
 */
#ifndef CONNRT_TEST_LOGIN_HELPERS_H
#define CONNRT_TEST_LOGIN_HELPERS_H

#include <stddef.h>

#include "connector-kafka/security.h"
#include "mock_host.h"

/* Result of one login attempt. */
struct login_result {
    int configure_rc; /* kafka_security_configure */
    int probe_rc;     /* kafka_probe_connection (not run when configure failed) */
    char error[2048]; /* the error of whichever failed */
    char report[8192]; /* probe report lines */
};

/*
 * Configure from `s` (component `component`, container `container_dir`),
 * then probe `bootstrap` (NULL: the setting bootstrap_servers) for at most
 * `timeout_ms`. With keep != NULL the security object is handed back (the
 * caller destroys it) instead of destroyed.
 */
void login_attempt(connrt_settings_t *s, const char *component, const char *container_dir,
                   int timeout_ms, struct login_result *r, kafka_security_t **keep);

/* Read a file into a static-lifetime string for inline PEM (owned; free). */
char *login_slurp(const char *dir, const char *name);

#endif
