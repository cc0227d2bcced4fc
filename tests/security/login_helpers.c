/*
 * login_helpers.c - see login_helpers.h.
 */
#include "login_helpers.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "connector-kafka/connection_probe.h"
#include "test_servers.h"

static void log_to_host(const rd_kafka_t *rk, int level, const char *fac, const char *buf)
{
    (void)rk;
    mock_host()->log(level <= 3 ? CONNRT_LOG_ERROR : CONNRT_LOG_DEBUG, "librdkafka",
                     "%s: %s", fac, buf);
}

static void collect(void *opaque, const char *line)
{
    struct login_result *r = opaque;
    size_t n = strlen(r->report);

    snprintf(r->report + n, sizeof(r->report) - n, "%s\n", line);
}

void login_attempt(connrt_settings_t *s, const char *component, const char *container_dir,
                   int timeout_ms, struct login_result *r, kafka_security_t **keep)
{
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    const char *servers = mock_host()->settings_get(s, "bootstrap_servers");
    kafka_security_t *sec = NULL;
    char why[256];
    const char *bootstrap;

    memset(r, 0, sizeof(*r));
    r->probe_rc = -1;
    rd_kafka_conf_set_log_cb(conf, log_to_host);
    rd_kafka_conf_set(conf, "bootstrap.servers", servers ? servers : "", why, sizeof(why));
    /* Fail fast in tests: a broker that refused us is retried soon. */
    rd_kafka_conf_set(conf, "reconnect.backoff.ms", "50", why, sizeof(why));
    r->configure_rc = kafka_security_configure(conf, mock_host(), s, component, container_dir,
                                               &sec, r->error, sizeof(r->error));
    if (r->configure_rc != 0) {
        rd_kafka_conf_destroy(conf);
        return;
    }
    bootstrap = kafka_security_bootstrap(sec) != NULL ? kafka_security_bootstrap(sec) : servers;
    r->probe_rc = kafka_probe_connection(sec, conf, bootstrap, mock_host(), component,
                                         timeout_ms * ts_scale(), collect, r, r->error,
                                         sizeof(r->error));
    if (keep != NULL) {
        *keep = sec;
    } else {
        kafka_security_destroy(sec);
    }
}

char *login_slurp(const char *dir, const char *name)
{
    char path[4096];

    snprintf(path, sizeof(path), "%s/%s", dir, name);
    return ts_read_file(path);
}
