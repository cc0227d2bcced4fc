/*
 * test_security_sasl.c - SASL PLAIN and SCRAM-SHA-256/512 logins against
 * the local login broker, the stage test-connection names for each kind of
 * failure, and the settings refused before connecting.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tests/security/login_helpers.h"
#include "tests/security/test_servers.h"

#define TIMEOUT_MS 8000
#define CANARY "Canary-S3cret-7f3a"

static char pki[512], servers[64];
static struct test_server broker;

static int setup(void **state)
{
    int rc;

    (void)state;
    if (ts_tmpdir(pki, sizeof(pki), "pki") != 0) {
        return -1;
    }
    rc = ts_make_pki(pki);
    if (rc == TS_SKIP) {
        exit(77);
    }
    return rc;
}

static int teardown(void **state)
{
    (void)state;
    ts_rmdir(pki);
    return 0;
}

static int stop_broker(void **state)
{
    (void)state;
    ts_stop(&broker);
    mock_log_clear();
    return 0;
}

/* A broker offering `mechanisms` for alice/wonderland, optionally TLS. */
static void start_broker(const char *mechanisms, int tls, const char *extra)
{
    char cert[600], key[600];
    const char *args[16] = {"--mechanisms", mechanisms, "--user", "alice:wonderland",
                            "--topic", "orders"};
    size_t n = 6;
    int rc;

    if (tls) {
        snprintf(cert, sizeof(cert), "%s/server.pem", pki);
        snprintf(key, sizeof(key), "%s/server.key", pki);
        args[n++] = "--tls-cert";
        args[n++] = cert;
        args[n++] = "--tls-key";
        args[n++] = key;
    }
    if (extra != NULL) {
        args[n++] = "--deny-topic";
        args[n++] = extra;
    }
    args[n] = NULL;
    rc = ts_start_python(&broker, "fake_kafka_broker.py", args, NULL);
    if (rc == TS_SKIP) {
        skip();
    }
    assert_int_equal(rc, 0);
    snprintf(servers, sizeof(servers), "localhost:%d", broker.port);
}

static void sasl_settings(connrt_settings_t *s, const char *protocol, const char *mechanism,
                          const char *password)
{
    static char ca[600];

    memset(s, 0, sizeof(*s));
    snprintf(ca, sizeof(ca), "%s/ca.pem", pki);
    mock_set(s, "bootstrap_servers", servers);
    mock_set(s, "security_protocol", protocol);
    mock_set(s, "sasl_mechanism", mechanism);
    mock_set(s, "username", "alice");
    mock_set(s, "password", password);
    if (strcmp(protocol, "SASL_SSL") == 0) {
        mock_set(s, "ssl_ca", ca);
    }
}

static void check_mechanism(const char *mechanism, const char *protocol)
{
    connrt_settings_t s;
    struct login_result r;
    char *log;
    char event[128];

    start_broker(mechanism, strcmp(protocol, "SASL_SSL") == 0, NULL);
    sasl_settings(&s, protocol, mechanism, "wonderland");
    login_attempt(&s, "sasl-good", NULL, TIMEOUT_MS, &r, NULL);
    if (r.probe_rc != 0) {
        fail_msg("%s over %s: %s", mechanism, protocol, r.error);
    }
    snprintf(event, sizeof(event), "EVENT auth ok mechanism=%s principal=alice", mechanism);
    assert_int_equal(ts_wait(&broker, event, 2000, NULL, 0), 0);

    sasl_settings(&s, protocol, mechanism, CANARY);
    login_attempt(&s, "sasl-bad", NULL, TIMEOUT_MS, &r, NULL);
    assert_int_not_equal(r.probe_rc, 0);
    assert_non_null(strstr(r.error, "credentials failed: the broker refused the "));
    assert_non_null(strstr(r.error, mechanism));
    assert_null(strstr(r.error, CANARY));
    log = mock_log_text();
    assert_null(strstr(log, CANARY));
    free(log);
}

static void plain__sasl_plaintext__good_logs_in_bad_refused(void **state)
{
    (void)state;
    check_mechanism("PLAIN", "SASL_PLAINTEXT");
    assert_true(mock_log_has("sends the password unencrypted"));
}

static void plain__sasl_ssl__good_logs_in_bad_refused(void **state)
{
    (void)state;
    check_mechanism("PLAIN", "SASL_SSL");
}

static void scram_sha_256__good_logs_in_bad_refused(void **state)
{
    (void)state;
    check_mechanism("SCRAM-SHA-256", "SASL_PLAINTEXT");
}

static void scram_sha_512__sasl_ssl__good_logs_in_bad_refused(void **state)
{
    (void)state;
    check_mechanism("SCRAM-SHA-512", "SASL_SSL");
}

/* ------------------------------------------------------------------------ */
/* test-connection stages                                                   */
/* ------------------------------------------------------------------------ */

static void probe__unknown_host__resolve_stage(void **state)
{
    connrt_settings_t s;
    struct login_result r;

    (void)state;
    snprintf(servers, sizeof(servers), "no-such-host.invalid:9092");
    sasl_settings(&s, "SASL_PLAINTEXT", "PLAIN", "x");
    login_attempt(&s, "probe-resolve", NULL, TIMEOUT_MS, &r, NULL);
    assert_non_null(strstr(r.error, "resolve failed: cannot resolve broker host "
                                    "'no-such-host.invalid'"));
}

static void probe__nothing_listening__tcp_connect_stage(void **state)
{
    connrt_settings_t s;
    struct login_result r;

    (void)state;
    snprintf(servers, sizeof(servers), "127.0.0.1:%d", ts_free_port());
    sasl_settings(&s, "SASL_PLAINTEXT", "PLAIN", "x");
    login_attempt(&s, "probe-tcp", NULL, TIMEOUT_MS, &r, NULL);
    assert_non_null(strstr(r.error, "TCP connect failed: nothing accepts connections at "
                                    "127.0.0.1:"));
    assert_non_null(strstr(r.error, "Connection refused"));
}

static void probe__mechanism_not_offered__sasl_mechanism_stage(void **state)
{
    connrt_settings_t s;
    struct login_result r;

    (void)state;
    start_broker("PLAIN", 0, NULL);
    sasl_settings(&s, "SASL_PLAINTEXT", "SCRAM-SHA-512", "wonderland");
    login_attempt(&s, "probe-mech", NULL, TIMEOUT_MS, &r, NULL);
    assert_non_null(strstr(r.error, "SASL mechanism failed: the broker does not offer "
                                    "SCRAM-SHA-512"));
    assert_non_null(strstr(r.error, "PLAIN"));
}

static void probe__wrong_password__credentials_stage(void **state)
{
    connrt_settings_t s;
    struct login_result r;

    (void)state;
    start_broker("PLAIN", 0, NULL);
    sasl_settings(&s, "SASL_PLAINTEXT", "PLAIN", "wrong");
    login_attempt(&s, "probe-cred", NULL, TIMEOUT_MS, &r, NULL);
    assert_non_null(strstr(r.error, "credentials failed: "));
    assert_non_null(strstr(r.error, "invalid username or password"));
}

static void probe__topic_not_allowed__authorization_stage(void **state)
{
    connrt_settings_t s;
    struct login_result r;

    (void)state;
    start_broker("PLAIN", 0, "payroll");
    sasl_settings(&s, "SASL_PLAINTEXT", "PLAIN", "wonderland");
    login_attempt(&s, "probe-authz", NULL, TIMEOUT_MS, &r, NULL);
    assert_non_null(strstr(r.error, "authorization failed: logged in, but not allowed to "
                                    "describe topic 'payroll'"));
    assert_non_null(strstr(r.report, "SASL: PLAIN login ok"));
    assert_non_null(strstr(r.report, "topic orders: 1 partition(s)"));
}

static void probe__good_login__reports_brokers_and_topics(void **state)
{
    connrt_settings_t s;
    struct login_result r;

    (void)state;
    start_broker("PLAIN", 0, NULL);
    sasl_settings(&s, "SASL_PLAINTEXT", "PLAIN", "wonderland");
    login_attempt(&s, "probe-ok", NULL, TIMEOUT_MS, &r, NULL);
    assert_int_equal(r.probe_rc, 0);
    assert_non_null(strstr(r.report, "effective settings"));
    assert_non_null(strstr(r.report, "  sasl.username = alice\n"));
    assert_non_null(strstr(r.report, "  sasl.password = [redacted]\n"));
    assert_null(strstr(r.report, "wonderland"));
    assert_non_null(strstr(r.report, "TCP connect 127.0.0.1:"));
    assert_non_null(strstr(r.report, "1 broker(s):"));
    assert_non_null(strstr(r.report, "  broker 1 at localhost:"));
    assert_non_null(strstr(r.report, "topic orders: 1 partition(s)"));
}

/* ------------------------------------------------------------------------ */
/* Refused before connecting                                                */
/* ------------------------------------------------------------------------ */

static void refused(connrt_settings_t *s, const char *expected)
{
    struct login_result r;

    login_attempt(s, "refused", NULL, 1000, &r, NULL);
    assert_int_not_equal(r.configure_rc, 0);
    if (strstr(r.error, expected) == NULL) {
        fail_msg("expected '%s' in '%s'", expected, r.error);
    }
    assert_null(strstr(r.error, CANARY));
}

static void config__sasl_protocol_without_mechanism__refused(void **state)
{
    connrt_settings_t s;

    (void)state;
    snprintf(servers, sizeof(servers), "localhost:1");
    sasl_settings(&s, "SASL_SSL", "PLAIN", CANARY);
    s.count = 0;
    mock_set(&s, "bootstrap_servers", servers);
    mock_set(&s, "security_protocol", "SASL_SSL");
    refused(&s, "security_protocol=SASL_SSL needs sasl_mechanism");
}

static void config__mechanism_without_sasl_protocol__refused(void **state)
{
    connrt_settings_t s;

    (void)state;
    sasl_settings(&s, "SSL", "PLAIN", CANARY);
    refused(&s, "sasl_mechanism=PLAIN is set but security_protocol=SSL does not use SASL");
}

static void config__plain_without_password__refused(void **state)
{
    connrt_settings_t s;

    (void)state;
    sasl_settings(&s, "SASL_PLAINTEXT", "SCRAM-SHA-256", NULL);
    refused(&s, "sasl_mechanism=SCRAM-SHA-256 needs username and password");
}

static void config__embedded_with_sasl__refused(void **state)
{
    connrt_settings_t s;

    (void)state;
    sasl_settings(&s, "SASL_PLAINTEXT", "PLAIN", CANARY);
    mock_set(&s, "bootstrap_servers", "embedded");
    refused(&s, "the embedded cluster has no TLS or SASL");
}

static void add_line(void *opaque, const char *line)
{
    char *buf = opaque;
    size_t n = strlen(buf);

    snprintf(buf + n, 4096 - n, "%s\n", line);
}

static void describe__password__redacted(void **state)
{
    connrt_settings_t s;
    struct login_result r;
    kafka_security_t *sec = NULL;
    char lines[4096] = "";

    (void)state;
    snprintf(servers, sizeof(servers), "127.0.0.1:%d", ts_free_port());
    sasl_settings(&s, "SASL_PLAINTEXT", "SCRAM-SHA-512", CANARY);
    login_attempt(&s, "describe", NULL, 300, &r, &sec);
    assert_int_equal(r.configure_rc, 0);
    kafka_security_describe(sec, add_line, lines);
    kafka_security_destroy(sec);
    assert_non_null(strstr(lines, "security.protocol = SASL_PLAINTEXT\n"));
    assert_non_null(strstr(lines, "sasl.mechanisms = SCRAM-SHA-512\n"));
    assert_non_null(strstr(lines, "sasl.username = alice\n"));
    assert_non_null(strstr(lines, "sasl.password = [redacted]\n"));
    assert_null(strstr(lines, CANARY));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(plain__sasl_plaintext__good_logs_in_bad_refused, stop_broker),
        cmocka_unit_test_teardown(plain__sasl_ssl__good_logs_in_bad_refused, stop_broker),
        cmocka_unit_test_teardown(scram_sha_256__good_logs_in_bad_refused, stop_broker),
        cmocka_unit_test_teardown(scram_sha_512__sasl_ssl__good_logs_in_bad_refused,
                                  stop_broker),
        cmocka_unit_test_teardown(probe__unknown_host__resolve_stage, stop_broker),
        cmocka_unit_test_teardown(probe__nothing_listening__tcp_connect_stage, stop_broker),
        cmocka_unit_test_teardown(probe__mechanism_not_offered__sasl_mechanism_stage,
                                  stop_broker),
        cmocka_unit_test_teardown(probe__wrong_password__credentials_stage, stop_broker),
        cmocka_unit_test_teardown(probe__topic_not_allowed__authorization_stage, stop_broker),
        cmocka_unit_test_teardown(probe__good_login__reports_brokers_and_topics, stop_broker),
        cmocka_unit_test(config__sasl_protocol_without_mechanism__refused),
        cmocka_unit_test(config__mechanism_without_sasl_protocol__refused),
        cmocka_unit_test(config__plain_without_password__refused),
        cmocka_unit_test(config__embedded_with_sasl__refused),
        cmocka_unit_test(describe__password__redacted),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
