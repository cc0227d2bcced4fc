/*
 * test_security_oauth.c - SASL/OAUTHBEARER with OAuth 2.0 client
 * credentials fetched by libcurl from a local token endpoint
 * (tests/security/oauth_token_server.py) and checked by the local login
 * broker; and the Event Hubs preset's Azure AD service principal login.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "connector-kafka/connection.h"
#include "connector-kafka/oauth.h"
#include "tests/security/login_helpers.h"
#include "tests/security/test_servers.h"

#define TIMEOUT_MS 8000
#define SECRET "s3cr3t-Canary-0a11"
#define JWT_KEY "jwt-test-key"

static char pki[512], container[512], servers[64], endpoint[128], ca_path[600];
static struct test_server broker, tokens;

static int setup(void **state)
{
    int rc;

    (void)state;
    if (ts_tmpdir(pki, sizeof(pki), "pki") != 0 ||
        ts_tmpdir(container, sizeof(container), "container") != 0) {
        return -1;
    }
    rc = ts_make_pki(pki);
    if (rc == TS_SKIP) {
        exit(77);
    }
    snprintf(ca_path, sizeof(ca_path), "%s/ca.pem", pki);
    return rc;
}

static int teardown(void **state)
{
    (void)state;
    ts_rmdir(pki);
    ts_rmdir(container);
    return 0;
}

static int stop_servers(void **state)
{
    (void)state;
    ts_stop(&broker);
    ts_stop(&tokens);
    mock_log_clear();
    return 0;
}

/* Token endpoint; extra args (NULL-terminated, up to 6). https with TLS. */
static void start_tokens(const char *scopes, const char *const extra[], int https)
{
    char cert[600], key[600];
    const char *args[20] = {"--client-id", "connrt-test", "--client-secret", SECRET,
                            "--jwt-key", JWT_KEY, "--scopes", scopes};
    size_t n = 8;
    int rc;

    for (size_t i = 0; extra != NULL && extra[i] != NULL; i++) {
        args[n++] = extra[i];
    }
    if (https) {
        snprintf(cert, sizeof(cert), "%s/server.pem", pki);
        snprintf(key, sizeof(key), "%s/server.key", pki);
        args[n++] = "--tls-cert";
        args[n++] = cert;
        args[n++] = "--tls-key";
        args[n++] = key;
    }
    args[n] = NULL;
    rc = ts_start_python(&tokens, "oauth_token_server.py", args, NULL);
    if (rc == TS_SKIP) {
        skip();
    }
    assert_int_equal(rc, 0);
    snprintf(endpoint, sizeof(endpoint), "%s://localhost:%d/token", https ? "https" : "http",
             tokens.port);
}

static void start_broker(const char *scope, int tls)
{
    char cert[600], key[600];
    const char *args[16] = {"--mechanisms", "OAUTHBEARER", "--jwt-key", JWT_KEY,
                            "--jwt-scope", scope, "--topic", "orders"};
    size_t n = 8;
    int rc;

    if (tls) {
        snprintf(cert, sizeof(cert), "%s/server.pem", pki);
        snprintf(key, sizeof(key), "%s/server.key", pki);
        args[n++] = "--tls-cert";
        args[n++] = cert;
        args[n++] = "--tls-key";
        args[n++] = key;
    }
    args[n] = NULL;
    rc = ts_start_python(&broker, "fake_kafka_broker.py", args, NULL);
    if (rc == TS_SKIP) {
        skip();
    }
    assert_int_equal(rc, 0);
    snprintf(servers, sizeof(servers), "localhost:%d", broker.port);
}

static void oauth_settings(connrt_settings_t *s, const char *secret)
{
    memset(s, 0, sizeof(*s));
    mock_set(s, "bootstrap_servers", servers);
    mock_set(s, "security_protocol", "SASL_PLAINTEXT");
    mock_set(s, "sasl_mechanism", "OAUTHBEARER");
    mock_set(s, "oauth_token_endpoint", endpoint);
    mock_set(s, "oauth_client_id", "connrt-test");
    mock_set(s, "oauth_client_secret", secret);
    mock_set(s, "oauth_scopes", "kafka");
}

static void oauth__client_credentials__logs_in_with_scope_and_extensions(void **state)
{
    connrt_settings_t s;
    struct login_result r;

    (void)state;
    start_tokens("kafka", NULL, 0);
    start_broker("kafka", 0);
    oauth_settings(&s, SECRET);
    mock_set(&s, "oauth_sasl_extensions", "traceId=abc123,logicalCluster=lkc-1");
    login_attempt(&s, "oauth-ok", NULL, TIMEOUT_MS, &r, NULL);
    if (r.probe_rc != 0) {
        fail_msg("OAuth login failed: %s", r.error);
    }
    assert_int_equal(ts_wait(&tokens, "EVENT token ok n=1 client=connrt-test auth=basic "
                                      "scope=kafka", 2000, NULL, 0), 0);
    assert_int_equal(ts_wait(&broker, "EVENT auth ok mechanism=OAUTHBEARER principal="
                                      "connrt-test extensions=logicalCluster=lkc-1;"
                                      "traceId=abc123", 2000, NULL, 0), 0);
}

/* A client that stays up: the refresh is librdkafka's, at 80% of life. */
static void oauth__short_lived_token__refreshed_before_it_expires(void **state)
{
    /* librdkafka checks its refresh timer once a second, at 80% of the
     * lifetime: 6 s leaves the second token 1.2 s of margin at least. */
    const char *extra[] = {"--expires-in", "6", NULL};
    /* Like an operation's client: its log target names the operation. */
    struct kafka_log_target target = {.host = mock_host(), .component_id = "produce-operation"};
    connrt_settings_t s;
    kafka_security_t *sec = NULL;
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    char errstr[512];
    rd_kafka_t *rk;
    struct timespec t1, t2;
    double gap;

    (void)state;
    start_tokens("kafka", extra, 0);
    start_broker("kafka", 0);
    oauth_settings(&s, SECRET);
    rd_kafka_conf_set(conf, "bootstrap.servers", servers, errstr, sizeof(errstr));
    assert_int_equal(kafka_security_configure(conf, mock_host(), &s, "oauth-refresh", NULL,
                                              &sec, errstr, sizeof(errstr)), 0);
    rd_kafka_conf_set_opaque(conf, &target);
    assert_int_equal(kafka_security_bind(sec, &target), 0);
    rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, errstr, sizeof(errstr));
    assert_non_null(rk);
    assert_int_equal(kafka_security_client_started(sec, rk, errstr, sizeof(errstr)), 0);
    assert_int_equal(ts_wait(&tokens, "EVENT token ok n=1", 5000, NULL, 0), 0);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    assert_int_equal(ts_wait(&tokens, "EVENT token ok n=2", 9000, NULL, 0), 0);
    clock_gettime(CLOCK_MONOTONIC, &t2);
    gap = (double)(t2.tv_sec - t1.tv_sec) + (double)(t2.tv_nsec - t1.tv_nsec) / 1e9;
    /* Asked again at about 80% of 6 s: before the first token expired, and
     * not merely at once. */
    assert_true(gap < 6.0);
    assert_true(gap > 3.0);
    rd_kafka_destroy(rk);
    kafka_security_destroy(sec);
}

static void oauth__endpoint_fails_twice__retried_with_backoff(void **state)
{
    const char *extra[] = {"--fail-first", "2", NULL};
    struct kafka_oauth_config cfg = {0};
    struct kafka_oauth_token tok;
    kafka_oauth_t *o;
    char errstr[512];
    struct timespec t1, t2;
    double took;

    (void)state;
    start_tokens("kafka", extra, 0);
    cfg.token_endpoint = endpoint;
    cfg.client_id = "connrt-test";
    cfg.client_secret = SECRET;
    cfg.attempts = 4;
    cfg.backoff_ms = 200;
    o = kafka_oauth_new(&cfg, errstr, sizeof(errstr));
    assert_non_null(o);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    assert_int_equal(kafka_oauth_fetch(o, &tok, errstr, sizeof(errstr)), 0);
    clock_gettime(CLOCK_MONOTONIC, &t2);
    took = (double)(t2.tv_sec - t1.tv_sec) + (double)(t2.tv_nsec - t1.tv_nsec) / 1e9;
    assert_int_equal(kafka_oauth_requests(o), 3);
    assert_true(took >= 0.6); /* 200 ms, then 400 ms */
    assert_string_equal(tok.principal, "connrt-test");
    assert_int_equal(ts_wait(&tokens, "EVENT token fail n=1 status=503", 2000, NULL, 0), 0);
    assert_int_equal(ts_wait(&tokens, "EVENT token fail n=2 status=503", 2000, NULL, 0), 0);
    assert_int_equal(ts_wait(&tokens, "EVENT token ok n=3", 2000, NULL, 0), 0);
    kafka_oauth_token_clear(&tok);

    /* Through the connection too: the login succeeds after the failures. */
    ts_stop(&tokens);
    start_tokens("kafka", extra, 0);
    start_broker("kafka", 0);
    connrt_settings_t s;
    struct login_result r;
    oauth_settings(&s, SECRET);
    login_attempt(&s, "oauth-retry", NULL, TIMEOUT_MS, &r, NULL);
    assert_int_equal(r.probe_rc, 0);
    kafka_oauth_destroy(o);
}

static void oauth__bad_secret__credentials_stage_without_retry_or_secret(void **state)
{
    connrt_settings_t s;
    struct login_result r;
    char *log;

    (void)state;
    start_tokens("kafka", NULL, 0);
    start_broker("kafka", 0);
    oauth_settings(&s, "Wrong-Canary-Secret-99");
    login_attempt(&s, "oauth-bad", NULL, TIMEOUT_MS, &r, NULL);
    assert_int_not_equal(r.probe_rc, 0);
    assert_non_null(strstr(r.error, "credentials failed: OAuth: the token endpoint "));
    assert_non_null(strstr(r.error, "refused client 'connrt-test' (HTTP 401, invalid_client)"));
    assert_non_null(strstr(r.error, "check oauth_client_id and oauth_client_secret"));
    assert_null(strstr(r.error, "Wrong-Canary"));
    log = mock_log_text();
    assert_null(strstr(log, "Wrong-Canary"));
    free(log);
    assert_int_equal(ts_count(&tokens, "EVENT token fail"), 1);
}

static void oauth__https_endpoint__needs_oauth_ssl_ca(void **state)
{
    connrt_settings_t s;
    struct login_result r;
    char *ca = login_slurp(pki, "ca.pem");

    (void)state;
    start_tokens("kafka", NULL, 1);
    start_broker("kafka", 0);
    oauth_settings(&s, SECRET);
    login_attempt(&s, "oauth-https-noca", container, TIMEOUT_MS, &r, NULL);
    assert_int_not_equal(r.probe_rc, 0);
    assert_non_null(strstr(r.error, "credentials failed: OAuth: cannot reach the token "
                                    "endpoint https://localhost:"));
    assert_non_null(strstr(r.error, "certificate"));

    mock_set(&s, "oauth_ssl_ca", ca);
    login_attempt(&s, "oauth-https", container, TIMEOUT_MS, &r, NULL);
    if (r.probe_rc != 0) {
        fail_msg("https token endpoint: %s", r.error);
    }
    free(ca);
}

static void event_hubs__azure_ad_principal__oauthbearer_with_namespace_scope(void **state)
{
    const char *scope = "https://myns.servicebus.windows.net/.default";
    connrt_settings_t s;
    struct login_result r;

    (void)state;
    start_tokens(scope, NULL, 0);
    start_broker(scope, 1);
    memset(&s, 0, sizeof(s));
    mock_set(&s, "preset", "event_hubs");
    mock_set(&s, "event_hubs_namespace", "myns");
    mock_set(&s, "azure_tenant_id", "00000000-0000-0000-0000-000000000001");
    mock_set(&s, "oauth_client_id", "connrt-test");
    mock_set(&s, "oauth_client_secret", SECRET);
    /* Stand-ins for login.microsoftonline.com and the namespace. */
    mock_set(&s, "oauth_token_endpoint", endpoint);
    mock_set(&s, "bootstrap_servers", servers);
    mock_set(&s, "ssl_ca", ca_path);
    login_attempt(&s, "eh-aad", NULL, TIMEOUT_MS, &r, NULL);
    if (r.probe_rc != 0) {
        fail_msg("Event Hubs AAD login failed: %s", r.error);
    }
    assert_int_equal(ts_wait(&tokens, "auth=post scope=https://myns.servicebus.windows.net/"
                                      ".default", 2000, NULL, 0), 0);
    assert_int_equal(ts_wait(&broker, "EVENT auth ok mechanism=OAUTHBEARER", 2000, NULL, 0),
                     0);
}

static void add_line(void *opaque, const char *line)
{
    char *buf = opaque;
    size_t n = strlen(buf);

    snprintf(buf + n, 8192 - n, "%s\n", line);
}

static void event_hubs__azure_ad_without_endpoint__uses_tenant_endpoint(void **state)
{
    connrt_settings_t s;
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    kafka_security_t *sec = NULL;
    char errstr[512], lines[8192] = "";

    (void)state;
    memset(&s, 0, sizeof(s));
    mock_set(&s, "preset", "event_hubs");
    mock_set(&s, "event_hubs_namespace", "myns");
    mock_set(&s, "azure_tenant_id", "tenant-1");
    mock_set(&s, "oauth_client_id", "app");
    mock_set(&s, "oauth_client_secret", SECRET);
    assert_int_equal(kafka_security_configure(conf, mock_host(), &s, "eh-aad-describe", NULL,
                                              &sec, errstr, sizeof(errstr)), 0);
    kafka_security_describe(sec, add_line, lines);
    assert_non_null(strstr(lines, "(connrt) oauth token endpoint = https://login."
                                  "microsoftonline.com/tenant-1/oauth2/v2.0/token"));
    assert_non_null(strstr(lines, "(connrt) oauth scope = https://myns.servicebus.windows.net/"
                                  ".default"));
    assert_non_null(strstr(lines, "bootstrap.servers = myns.servicebus.windows.net:9093"));
    assert_non_null(strstr(lines, "sasl.mechanisms = OAUTHBEARER"));
    assert_null(strstr(lines, SECRET));
    kafka_security_destroy(sec);
    rd_kafka_conf_destroy(conf);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(oauth__client_credentials__logs_in_with_scope_and_extensions,
                                  stop_servers),
        cmocka_unit_test_teardown(oauth__short_lived_token__refreshed_before_it_expires,
                                  stop_servers),
        cmocka_unit_test_teardown(oauth__endpoint_fails_twice__retried_with_backoff,
                                  stop_servers),
        cmocka_unit_test_teardown(oauth__bad_secret__credentials_stage_without_retry_or_secret,
                                  stop_servers),
        cmocka_unit_test_teardown(oauth__https_endpoint__needs_oauth_ssl_ca, stop_servers),
        cmocka_unit_test_teardown(
            event_hubs__azure_ad_principal__oauthbearer_with_namespace_scope, stop_servers),
        cmocka_unit_test(event_hubs__azure_ad_without_endpoint__uses_tenant_endpoint),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
