/*
 * test_security_presets.c - the Event Hubs and MSK presets end to end
 * against the local login broker (TLS; PLAIN with "$ConnectionString";
 * MSK IAM tokens checked by the broker's own SigV4 code; SCRAM-SHA-512),
 * and what each preset sets.
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
#include "connector-kafka/msk.h"
#include "tests/security/login_helpers.h"
#include "tests/security/test_servers.h"

#define TIMEOUT_MS 8000
#define CS "Endpoint=sb://myns.servicebus.windows.net/;SharedAccessKeyName=Root;" \
           "SharedAccessKey=EhKeyCanary+0123456789abcdef="
#define AWS_SECRET "AwsSecretCanary/+0123456789"

static char pki[512], home[512], ca[600], servers[64];
static struct test_server broker;

static int setup(void **state)
{
    int rc;

    (void)state;
    if (ts_tmpdir(pki, sizeof(pki), "pki") != 0 || ts_tmpdir(home, sizeof(home), "home") != 0) {
        return -1;
    }
    rc = ts_make_pki(pki);
    if (rc == TS_SKIP) {
        exit(77);
    }
    snprintf(ca, sizeof(ca), "%s/ca.pem", pki);
    /* No credentials from the machine running the tests. */
    setenv("HOME", home, 1);
    unsetenv("AWS_PROFILE");
    unsetenv("AWS_SHARED_CREDENTIALS_FILE");
    unsetenv("AWS_CONFIG_FILE");
    unsetenv("AWS_ACCESS_KEY_ID");
    unsetenv("AWS_SECRET_ACCESS_KEY");
    unsetenv("AWS_SESSION_TOKEN");
    return rc;
}

static int teardown(void **state)
{
    (void)state;
    ts_rmdir(pki);
    ts_rmdir(home);
    return 0;
}

static int stop_broker(void **state)
{
    (void)state;
    ts_stop(&broker);
    mock_log_clear();
    unsetenv("AWS_ACCESS_KEY_ID");
    unsetenv("AWS_SECRET_ACCESS_KEY");
    unsetenv("AWS_SESSION_TOKEN");
    unsetenv("AWS_SHARED_CREDENTIALS_FILE");
    return 0;
}

static void start_tls_broker(const char *const extra[])
{
    char cert[600], key[600];
    const char *args[20] = {"--tls-cert", cert, "--tls-key", key, "--topic", "orders"};
    size_t n = 6;
    int rc;

    snprintf(cert, sizeof(cert), "%s/server.pem", pki);
    snprintf(key, sizeof(key), "%s/server.key", pki);
    for (size_t i = 0; extra[i] != NULL; i++) {
        args[n++] = extra[i];
    }
    args[n] = NULL;
    rc = ts_start_python(&broker, "fake_kafka_broker.py", args, NULL);
    if (rc == TS_SKIP) {
        skip();
    }
    assert_int_equal(rc, 0);
    snprintf(servers, sizeof(servers), "localhost:%d", broker.port);
}

static void add_line(void *opaque, const char *line)
{
    char *buf = opaque;
    size_t n = strlen(buf);

    snprintf(buf + n, 8192 - n, "%s\n", line);
}

/* Configure only; the described settings into `lines` (8192 bytes). */
static kafka_security_t *configure(connrt_settings_t *s, char *lines, char *errstr,
                                   size_t errstr_size)
{
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    kafka_security_t *sec = NULL;

    lines[0] = '\0';
    if (kafka_security_configure(conf, mock_host(), s, "preset", NULL, &sec, errstr,
                                 errstr_size) == 0) {
        kafka_security_describe(sec, add_line, lines);
    }
    rd_kafka_conf_destroy(conf);
    return sec;
}

/* ------------------------------------------------------------------------ */
/* Event Hubs                                                               */
/* ------------------------------------------------------------------------ */

static void event_hubs__connection_string__logs_in_as_ConnectionString_over_tls(void **state)
{
    const char *extra[] = {"--mechanisms", "PLAIN", "--user", "$ConnectionString:" CS, NULL};
    connrt_settings_t s;
    struct login_result r;
    char *log;

    (void)state;
    start_tls_broker(extra);
    memset(&s, 0, sizeof(s));
    mock_set(&s, "preset", "event_hubs");
    mock_set(&s, "event_hubs_connection_string", CS);
    mock_set(&s, "bootstrap_servers", servers); /* stands in for myns...:9093 */
    mock_set(&s, "ssl_ca", ca);
    login_attempt(&s, "eh-cs", NULL, TIMEOUT_MS, &r, NULL);
    if (r.probe_rc != 0) {
        fail_msg("Event Hubs login failed: %s", r.error);
    }
    assert_int_equal(ts_wait(&broker, "EVENT auth ok mechanism=PLAIN "
                                      "principal=$ConnectionString", 2000, NULL, 0), 0);
    assert_null(strstr(r.report, "EhKeyCanary"));
    log = mock_log_text();
    assert_null(strstr(log, "EhKeyCanary"));
    free(log);
}

static void event_hubs__settings__recommended_values_limit_and_bootstrap(void **state)
{
    connrt_settings_t s;
    kafka_security_t *sec;
    char lines[8192], errstr[512];

    (void)state;
    memset(&s, 0, sizeof(s));
    mock_set(&s, "preset", "event_hubs");
    mock_set(&s, "event_hubs_connection_string", CS);
    sec = configure(&s, lines, errstr, sizeof(errstr));
    assert_non_null(sec);
    assert_string_equal(kafka_security_bootstrap(sec), "myns.servicebus.windows.net:9093");
    assert_int_equal(kafka_security_max_message_bytes(sec), 1000000);
    assert_non_null(strstr(lines, "security.protocol = SASL_SSL (event_hubs)"));
    assert_non_null(strstr(lines, "sasl.mechanisms = PLAIN\n"));
    assert_non_null(strstr(lines, "sasl.username = $ConnectionString\n"));
    assert_non_null(strstr(lines, "sasl.password = [redacted]\n"));
    assert_non_null(strstr(lines, "message.max.bytes = 1000000 (Event Hubs closes"));
    assert_non_null(strstr(lines, "socket.keepalive.enable = true (Azure closes"));
    assert_non_null(strstr(lines, "metadata.max.age.ms = 180000"));
    assert_non_null(strstr(lines, "ssl.endpoint.identification.algorithm = https"));
    assert_null(strstr(lines, "EhKeyCanary"));
    kafka_security_destroy(sec);
}

static void event_hubs__malformed_connection_string__error_without_key(void **state)
{
    connrt_settings_t s;
    char lines[8192], errstr[512];

    (void)state;
    memset(&s, 0, sizeof(s));
    mock_set(&s, "preset", "event_hubs");
    mock_set(&s, "event_hubs_connection_string",
             "Endpoint=sb://myns.servicebus.windows.net/;SharedAccessKey=EhKeyCanary=");
    assert_null(configure(&s, lines, errstr, sizeof(errstr)));
    assert_non_null(strstr(errstr, "needs SharedAccessKeyName and SharedAccessKey"));
    assert_null(strstr(errstr, "EhKeyCanary"));
    assert_false(mock_log_has("EhKeyCanary"));
}

static void event_hubs__nothing_to_log_in_with__error_lists_choices(void **state)
{
    connrt_settings_t s;
    char lines[8192], errstr[512];

    (void)state;
    memset(&s, 0, sizeof(s));
    mock_set(&s, "preset", "event_hubs");
    assert_null(configure(&s, lines, errstr, sizeof(errstr)));
    assert_non_null(strstr(errstr, "preset=event_hubs needs event_hubs_connection_string, or "
                                   "event_hubs_namespace with azure_tenant_id"));
}

/* ------------------------------------------------------------------------ */
/* MSK                                                                      */
/* ------------------------------------------------------------------------ */

static void msk_iam_settings(connrt_settings_t *s)
{
    memset(s, 0, sizeof(s[0]));
    mock_set(s, "preset", "msk");
    mock_set(s, "msk_auth", "iam");
    mock_set(s, "aws_region", "eu-west-1");
    mock_set(s, "bootstrap_servers", servers); /* explicit port: kept */
    mock_set(s, "ssl_ca", ca);
}

static void start_iam_broker(void)
{
    const char *extra[] = {"--mechanisms", "OAUTHBEARER", "--msk-iam-key",
                           "AKIDTEST:" AWS_SECRET, "--msk-iam-region", "eu-west-1", NULL};

    start_tls_broker(extra);
}

static void msk__iam_with_environment_credentials__token_accepted(void **state)
{
    connrt_settings_t s;
    struct login_result r;
    char *log;

    (void)state;
    start_iam_broker();
    setenv("AWS_ACCESS_KEY_ID", "AKIDTEST", 1);
    setenv("AWS_SECRET_ACCESS_KEY", AWS_SECRET, 1);
    msk_iam_settings(&s);
    login_attempt(&s, "msk-env", NULL, TIMEOUT_MS, &r, NULL);
    if (r.probe_rc != 0) {
        fail_msg("MSK IAM login failed: %s", r.error);
    }
    assert_int_equal(ts_wait(&broker, "EVENT auth ok mechanism=OAUTHBEARER principal=AKIDTEST",
                             2000, NULL, 0), 0);
    assert_true(mock_log_has("AWS credentials from environment variables"));
    log = mock_log_text();
    assert_null(strstr(log, "AwsSecretCanary"));
    free(log);
}

/* Signing times of the tokens made so far, from the connector's log. */
static int token_times(long long *times, int max)
{
    char *log = mock_log_text();
    const char *p = log;
    int n = 0;

    while (n < max && (p = strstr(p, "MSK IAM: new token signed at ")) != NULL) {
        p += strlen("MSK IAM: new token signed at ");
        times[n++] = strtoll(p, NULL, 10);
    }
    free(log);
    return n;
}

static int metadata_ok(rd_kafka_t *rk)
{
    const struct rd_kafka_metadata *md = NULL;
    rd_kafka_resp_err_t err = rd_kafka_metadata(rk, 1, NULL, &md, TIMEOUT_MS);

    if (md != NULL) {
        rd_kafka_metadata_destroy(md);
    }
    return err == RD_KAFKA_RESP_ERR_NO_ERROR;
}

static void msk__iam_token__re_signed_before_it_expires_and_used(void **state)
{
    /* librdkafka checks token refresh on a 1 s timer, so a refresh at 80%
     * may come up to 1 s late: 8 s leaves it room before the expiry. */
    const int lifetime = 8 * ts_scale();
    struct kafka_log_target target = {.host = mock_host(), .component_id = "msk-refresh"};
    connrt_settings_t s;
    kafka_security_t *sec = NULL;
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    rd_kafka_t *rk;
    char errstr[512];
    long long t[4];
    int n;

    (void)state;
    start_iam_broker();
    setenv("AWS_ACCESS_KEY_ID", "AKIDTEST", 1);
    setenv("AWS_SECRET_ACCESS_KEY", AWS_SECRET, 1);
    msk_iam_settings(&s);
    /* The broker checks X-Amz-Date + X-Amz-Expires: once the first token
     * has expired, only a re-signed one gets a new connection in. */
    kafka_msk_set_token_lifetime(lifetime);
    /* Idle connections close after 1 s, so the last login is a new one. */
    assert_int_equal(rd_kafka_conf_set(conf, "connections.max.idle.ms", "1000", errstr,
                                       sizeof(errstr)), RD_KAFKA_CONF_OK);
    rd_kafka_conf_set_opaque(conf, &target);
    if (kafka_security_configure(conf, mock_host(), &s, "msk-refresh", NULL, &sec, errstr,
                                 sizeof(errstr)) != 0) {
        fail_msg("configure: %s", errstr);
    }
    assert_int_equal(kafka_security_bind(sec, &target), 0);
    rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, errstr, sizeof(errstr));
    assert_non_null(rk);
    assert_int_equal(kafka_security_client_started(sec, rk, errstr, sizeof(errstr)), 0);

    assert_true(metadata_ok(rk));
    assert_int_equal(ts_wait(&broker, "EVENT auth ok mechanism=OAUTHBEARER principal=AKIDTEST",
                             2000, NULL, 0), 0);
    assert_int_equal(token_times(t, 4), 1);

    /* librdkafka asks again at 80% of the lifetime: wait for that token
     * (a deadline on an event, polled), no longer than the first one lives. */
    for (long long until = (t[0] + lifetime) * 1000LL; (n = token_times(t, 4)) < 2;) {
        struct timespec ts = {0, 50 * 1000000L};
        if ((long long)time(NULL) * 1000LL > until) {
            break;
        }
        nanosleep(&ts, NULL);
    }
    assert_int_equal(n, 2);
    /* Re-signed before the first expired, and not at once (80%, whole
     * seconds: the X-Amz-Date resolution). */
    if (t[1] >= t[0] + lifetime || t[1] < t[0] + (lifetime * 8) / 10 - 1) {
        fail_msg("tokens signed at %lld and %lld, lifetime %d s", t[0], t[1], lifetime);
    }

    /* Once the first token is past its expiry, a new login still works. */
    while ((long long)time(NULL) <= t[0] + lifetime) {
        struct timespec ts = {0, 100 * 1000000L};
        nanosleep(&ts, NULL);
    }
    assert_true(metadata_ok(rk));
    assert_int_equal(ts_wait(&broker, "EVENT auth ok mechanism=OAUTHBEARER principal=AKIDTEST",
                             TIMEOUT_MS, NULL, 0), 0);
    assert_int_equal(ts_count(&broker, "EVENT auth fail"), 0);

    kafka_security_forget_client(rk);
    rd_kafka_destroy(rk);
    kafka_security_unbind(&target);
    kafka_security_destroy(sec);
    kafka_msk_set_token_lifetime(KAFKA_MSK_TOKEN_LIFETIME_S);
}

static void msk__iam_with_credentials_file_profile__token_with_session(void **state)
{
    connrt_settings_t s;
    struct login_result r;
    char path[700];
    FILE *f;

    (void)state;
    start_iam_broker();
    snprintf(path, sizeof(path), "%s/credentials", home);
    f = fopen(path, "w");
    assert_non_null(f);
    fprintf(f, "[default]\naws_access_key_id=AKIDWRONG\naws_secret_access_key=x\n"
               "[kafka]\naws_access_key_id = AKIDTEST\naws_secret_access_key = %s\n"
               "aws_session_token = FQoGZXIvYXdzE/session+token==\n",
            AWS_SECRET);
    fclose(f);
    setenv("AWS_SHARED_CREDENTIALS_FILE", path, 1);
    msk_iam_settings(&s);
    mock_set(&s, "aws_profile", "kafka");
    login_attempt(&s, "msk-file", NULL, TIMEOUT_MS, &r, NULL);
    if (r.probe_rc != 0) {
        fail_msg("MSK IAM login failed: %s", r.error);
    }
    assert_int_equal(ts_wait(&broker, "principal=AKIDTEST session", 2000, NULL, 0), 0);
}

static void msk__iam_with_properties_and_wrong_secret__credentials_stage(void **state)
{
    connrt_settings_t s;
    struct login_result r;

    (void)state;
    start_iam_broker();
    msk_iam_settings(&s);
    mock_set(&s, "aws_access_key_id", "AKIDTEST");
    mock_set(&s, "aws_secret_access_key", "WrongAwsSecretCanary");
    login_attempt(&s, "msk-props", NULL, TIMEOUT_MS, &r, NULL);
    assert_int_not_equal(r.probe_rc, 0);
    assert_non_null(strstr(r.error, "credentials failed: "));
    assert_non_null(strstr(r.error, "bad signature"));
    assert_null(strstr(r.error, "WrongAwsSecretCanary"));

    mock_set(&s, "aws_secret_access_key", AWS_SECRET);
    login_attempt(&s, "msk-props-2", NULL, TIMEOUT_MS, &r, NULL);
    assert_int_equal(r.probe_rc, 0);
}

static void msk__scram__sasl_ssl_scram_sha_512(void **state)
{
    const char *extra[] = {"--mechanisms", "SCRAM-SHA-512", "--user", "msk:scram-pass", NULL};
    connrt_settings_t s;
    struct login_result r;

    (void)state;
    start_tls_broker(extra);
    memset(&s, 0, sizeof(s));
    mock_set(&s, "preset", "msk");
    mock_set(&s, "msk_auth", "scram");
    mock_set(&s, "bootstrap_servers", servers);
    mock_set(&s, "ssl_ca", ca);
    mock_set(&s, "username", "msk");
    mock_set(&s, "password", "scram-pass");
    login_attempt(&s, "msk-scram", NULL, TIMEOUT_MS, &r, NULL);
    if (r.probe_rc != 0) {
        fail_msg("MSK SCRAM login failed: %s", r.error);
    }
    assert_int_equal(ts_wait(&broker, "EVENT auth ok mechanism=SCRAM-SHA-512 principal=msk",
                             2000, NULL, 0), 0);
}

static void msk__auth_kinds__pick_port_protocol_and_region(void **state)
{
    static const struct {
        const char *auth, *port, *protocol, *mechanism;
    } kinds[] = {
        {"iam", ":9098", "security.protocol = SASL_SSL", "sasl.mechanisms = OAUTHBEARER"},
        {"scram", ":9096", "security.protocol = SASL_SSL", "sasl.mechanisms = SCRAM-SHA-512"},
        {"tls", ":9094", "security.protocol = SSL", NULL},
        {"plaintext", ":9092", "security.protocol = PLAINTEXT", NULL},
    };
    const char *brokers = "b-1.demo.abc.c2.kafka.us-east-2.amazonaws.com,"
                          "b-2.demo.abc.c2.kafka.us-east-2.amazonaws.com";
    connrt_settings_t s;
    char lines[8192], errstr[512], expected[256];

    (void)state;
    setenv("AWS_ACCESS_KEY_ID", "AKIDX", 1);
    setenv("AWS_SECRET_ACCESS_KEY", "x", 1);
    for (size_t i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++) {
        memset(&s, 0, sizeof(s));
        mock_set(&s, "preset", "msk");
        mock_set(&s, "msk_auth", kinds[i].auth);
        mock_set(&s, "bootstrap_servers", brokers);
        mock_set(&s, "username", "u");
        mock_set(&s, "password", "p");
        kafka_security_t *sec = configure(&s, lines, errstr, sizeof(errstr));
        if (sec == NULL) {
            fail_msg("msk_auth=%s: %s", kinds[i].auth, errstr);
        }
        snprintf(expected, sizeof(expected), "b-1.demo.abc.c2.kafka.us-east-2.amazonaws.com%s,"
                 "b-2.demo.abc.c2.kafka.us-east-2.amazonaws.com%s", kinds[i].port,
                 kinds[i].port);
        assert_string_equal(kafka_security_bootstrap(sec), expected);
        assert_non_null(strstr(lines, kinds[i].protocol));
        if (kinds[i].mechanism != NULL) {
            assert_non_null(strstr(lines, kinds[i].mechanism));
        } else {
            assert_null(strstr(lines, "sasl.mechanisms"));
        }
        if (strcmp(kinds[i].auth, "iam") == 0) {
            assert_non_null(strstr(lines, "(connrt) msk iam region = us-east-2"));
        }
        kafka_security_destroy(sec);
    }
}

static void msk__iam_without_credentials__error_lists_sources(void **state)
{
    connrt_settings_t s;
    char lines[8192], errstr[1024];

    (void)state;
    snprintf(servers, sizeof(servers), "localhost:1");
    msk_iam_settings(&s);
    assert_null(configure(&s, lines, errstr, sizeof(errstr)));
    assert_non_null(strstr(errstr, "no AWS credentials found: tried the connection "
                                   "properties, the environment, profile 'default'"));
}

static void msk__without_auth_kind__refused(void **state)
{
    connrt_settings_t s;
    char lines[8192], errstr[512];

    (void)state;
    memset(&s, 0, sizeof(s));
    mock_set(&s, "preset", "msk");
    mock_set(&s, "bootstrap_servers", "b-1.x.kafka.us-east-1.amazonaws.com");
    assert_null(configure(&s, lines, errstr, sizeof(errstr)));
    assert_non_null(strstr(errstr, "preset=msk needs msk_auth (iam, scram, tls or plaintext)"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(
            event_hubs__connection_string__logs_in_as_ConnectionString_over_tls, stop_broker),
        cmocka_unit_test(event_hubs__settings__recommended_values_limit_and_bootstrap),
        cmocka_unit_test(event_hubs__malformed_connection_string__error_without_key),
        cmocka_unit_test(event_hubs__nothing_to_log_in_with__error_lists_choices),
        cmocka_unit_test_teardown(msk__iam_with_environment_credentials__token_accepted,
                                  stop_broker),
        cmocka_unit_test_teardown(msk__iam_with_credentials_file_profile__token_with_session,
                                  stop_broker),
        cmocka_unit_test_teardown(msk__iam_with_properties_and_wrong_secret__credentials_stage,
                                  stop_broker),
        cmocka_unit_test_teardown(msk__iam_token__re_signed_before_it_expires_and_used,
                                  stop_broker),
        cmocka_unit_test_teardown(msk__scram__sasl_ssl_scram_sha_512, stop_broker),
        cmocka_unit_test_teardown(msk__auth_kinds__pick_port_protocol_and_region, stop_broker),
        cmocka_unit_test(msk__iam_without_credentials__error_lists_sources),
        cmocka_unit_test(msk__without_auth_kind__refused),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
