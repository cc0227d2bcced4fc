/*
 * test_security_kerberos.c - SASL/GSSAPI with tickets obtained in process
 * (krb5 API, no kinit) from a throwaway MIT KDC (krb5-test-kdc.sh), checked
 * by the local login broker (python3-gssapi acceptor).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <glob.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "connector-kafka/connection.h"
#include "connector-kafka/kerberos.h"
#include "connector-kafka/security_internal.h"
#include "tests/security/login_helpers.h"
#include "tests/security/test_servers.h"

#define TIMEOUT_MS 8000
#define CANARY "Canary-Krb-Pass-5e1"

static char kdcdir[512], container[512], empty_container[512], servers[64];
static char krb5_conf[700], acceptor_env[800], saved_path[4096];
static struct test_server kdc, broker;

/* ------------------------------------------------------------------------ */
/* KDC and broker for the whole group                                       */
/* ------------------------------------------------------------------------ */

static int have_gssapi_plugin(void)
{
    glob_t g;
    int found = glob("/usr/lib/*/sasl2/libgssapiv2.so*", 0, NULL, &g) == 0 && g.gl_pathc > 0;

    globfree(&g);
    return found;
}

static int setup(void **state)
{
    char script[600];
    const char *run[] = {"/bin/sh", script, "run", kdcdir, NULL};
    const char *env[] = {acceptor_env, NULL};
    const char *args[] = {"--mechanisms", "GSSAPI", "--keytab", NULL, "--topic", "orders",
                          NULL};
    char keytab[700];
    int port = ts_free_port(), rc;

    (void)state;
    if (!have_gssapi_plugin()) {
        fprintf(stderr, "libsasl2-modules-gssapi-mit missing: Kerberos tests skipped\n");
        exit(77);
    }
    if (ts_tmpdir(kdcdir, sizeof(kdcdir), "kdc") != 0 ||
        ts_tmpdir(container, sizeof(container), "krb-container") != 0 ||
        ts_tmpdir(empty_container, sizeof(empty_container), "krb-empty") != 0) {
        return -1;
    }
    snprintf(script, sizeof(script), "%s/tests/security/krb5-test-kdc.sh", ts_srcdir());
    rc = ts_run("sh '%s' init '%s' %d", script, kdcdir, port);
    if (rc == TS_SKIP) {
        fprintf(stderr, "MIT KDC missing (krb5-kdc, krb5-admin-server): Kerberos tests "
                        "skipped\n");
        exit(77);
    }
    if (rc != 0 || ts_start(&kdc, run, NULL) != 0 ||
        ts_wait(&kdc, "commencing operation", 10000, NULL, 0) != 0) {
        fprintf(stderr, "KDC did not start: %s\n", kdc.text ? kdc.text : "");
        return -1;
    }
    /* The container: resources/TEST.LOCAL.keytab and resources/krb5.conf. */
    snprintf(krb5_conf, sizeof(krb5_conf), "%s/krb5.conf", kdcdir);
    if (ts_run("mkdir -p '%s/resources' && cp '%s/TEST.LOCAL.keytab' '%s/krb5.conf' "
               "'%s/resources/'", container, kdcdir, kdcdir, container) != 0 ||
        ts_run("mkdir -p '%s/resources' && cp '%s/krb5.conf' '%s/resources/'", empty_container,
               kdcdir, empty_container) != 0) {
        return -1;
    }
    snprintf(acceptor_env, sizeof(acceptor_env), "KRB5_CONFIG=%s", krb5_conf);
    snprintf(keytab, sizeof(keytab), "%s/kafka.keytab", kdcdir);
    args[3] = keytab;
    rc = ts_start_python(&broker, "fake_kafka_broker.py", args, env);
    if (rc == TS_SKIP) {
        fprintf(stderr, "python3-gssapi missing: Kerberos tests skipped\n");
        ts_stop(&kdc);
        exit(77);
    }
    if (rc != 0) {
        return -1;
    }
    snprintf(servers, sizeof(servers), "localhost:%d", broker.port);
    /* Nothing here may need the kinit binary or a krb5.conf from outside
     * the container. */
    unsetenv("KRB5_CONFIG");
    unsetenv("KRB5CCNAME");
    snprintf(saved_path, sizeof(saved_path), "%s", getenv("PATH") ? getenv("PATH") : "/bin");
    setenv("PATH", "/nonexistent", 1);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    setenv("PATH", saved_path, 1);
    ts_stop(&broker);
    ts_stop(&kdc);
    ts_rmdir(kdcdir);
    ts_rmdir(container);
    ts_rmdir(empty_container);
    return 0;
}

static void gssapi_settings(connrt_settings_t *s, const char *principal)
{
    memset(s, 0, sizeof(*s));
    mock_set(s, "bootstrap_servers", servers);
    mock_set(s, "security_protocol", "SASL_PLAINTEXT");
    mock_set(s, "sasl_mechanism", "GSSAPI");
    mock_set(s, "kerberos_service_principal", "kafka");
    mock_set(s, "client_principal", principal);
}

static void expect_login(connrt_settings_t *s, const char *component, const char *principal)
{
    struct login_result r;
    char event[256];

    login_attempt(s, component, container, TIMEOUT_MS, &r, NULL);
    if (r.configure_rc != 0 || r.probe_rc != 0) {
        fail_msg("GSSAPI login as %s failed: %s", principal, r.error);
    }
    snprintf(event, sizeof(event), "EVENT auth ok mechanism=GSSAPI principal=%s", principal);
    assert_int_equal(ts_wait(&broker, event, 3000, NULL, 0), 0);
}

/* ------------------------------------------------------------------------ */

static void gssapi__keytab_from_container_resources__logs_in_without_kinit(void **state)
{
    connrt_settings_t s;

    (void)state;
    assert_int_not_equal(ts_run("command -v kinit >/dev/null 2>&1"), 0);
    gssapi_settings(&s, "client@TEST.LOCAL");
    expect_login(&s, "krb-resources", "client@TEST.LOCAL");
    assert_true(mock_log_has("Kerberos configuration: "));
}

static void gssapi__password_instead_of_keytab__logs_in(void **state)
{
    connrt_settings_t s;

    (void)state;
    gssapi_settings(&s, "pwuser@TEST.LOCAL");
    mock_set(&s, "password", "pw-secret");
    expect_login(&s, "krb-password", "pwuser@TEST.LOCAL");
}

static void quiet_log(const rd_kafka_t *rk, int level, const char *fac, const char *buf)
{
    (void)rk;
    (void)level;
    mock_host()->log(CONNRT_LOG_DEBUG, "librdkafka", "%s: %s", fac, buf);
}

/* Two clients alive at once, each with its own principal and cache. */
static void gssapi__two_connections_two_principals__each_logs_in_as_itself(void **state)
{
    /* Operation-like log targets: the clients find their connection by binding. */
    struct kafka_log_target ta = {.host = mock_host(), .component_id = "op-a"};
    struct kafka_log_target tb = {.host = mock_host(), .component_id = "op-b"};
    connrt_settings_t sa, sb;
    kafka_security_t *seca = NULL, *secb = NULL;
    rd_kafka_t *rka, *rkb;
    const rd_kafka_metadata_t *md;
    char errstr[512], keytab[700];

    (void)state;
    gssapi_settings(&sa, "client@TEST.LOCAL");
    gssapi_settings(&sb, "client2@TEST.LOCAL");
    snprintf(keytab, sizeof(keytab), "%s/client2.keytab", kdcdir);
    mock_set(&sb, "keytab", keytab);
    rd_kafka_conf_t *ca = rd_kafka_conf_new(), *cb = rd_kafka_conf_new();
    rd_kafka_conf_set(ca, "bootstrap.servers", servers, errstr, sizeof(errstr));
    rd_kafka_conf_set(cb, "bootstrap.servers", servers, errstr, sizeof(errstr));
    assert_int_equal(kafka_security_configure(ca, mock_host(), &sa, "krb-a", container, &seca,
                                              errstr, sizeof(errstr)), 0);
    assert_int_equal(kafka_security_configure(cb, mock_host(), &sb, "krb-b", container, &secb,
                                              errstr, sizeof(errstr)), 0);
    rd_kafka_conf_set_opaque(ca, &ta);
    rd_kafka_conf_set_opaque(cb, &tb);
    assert_int_equal(kafka_security_bind(seca, &ta), 0);
    assert_int_equal(kafka_security_bind(secb, &tb), 0);
    rd_kafka_conf_set_log_cb(ca, quiet_log);
    rd_kafka_conf_set_log_cb(cb, quiet_log);
    rka = rd_kafka_new(RD_KAFKA_PRODUCER, ca, errstr, sizeof(errstr));
    rkb = rd_kafka_new(RD_KAFKA_PRODUCER, cb, errstr, sizeof(errstr));
    assert_non_null(rka);
    assert_non_null(rkb);
    /* Both clients log in at the same time, on their own broker threads. */
    assert_int_equal(rd_kafka_metadata(rka, 1, NULL, &md, TIMEOUT_MS * ts_scale()), 0);
    rd_kafka_metadata_destroy(md);
    assert_int_equal(rd_kafka_metadata(rkb, 1, NULL, &md, TIMEOUT_MS * ts_scale()), 0);
    rd_kafka_metadata_destroy(md);
    /* The broker prints its verdict before it answers, so it is there. */
    assert_true(ts_count(&broker, "mechanism=GSSAPI principal=client@TEST.LOCAL") >= 1);
    assert_true(ts_count(&broker, "mechanism=GSSAPI principal=client2@TEST.LOCAL") >= 1);
    assert_int_equal(ts_count(&broker, "EVENT auth fail"), 0);
    rd_kafka_destroy(rka);
    rd_kafka_destroy(rkb);
    kafka_security_destroy(seca);
    kafka_security_destroy(secb);
}

static long long now_s(void)
{
    return (long long)time(NULL);
}

/* shortlife@TEST.LOCAL gets 4 s tickets: the next one comes at ~3.2 s. */
static void gssapi__short_ticket__renewed_before_it_expires(void **state)
{
    connrt_settings_t s;
    struct login_result r;
    kafka_security_t *sec = NULL;
    long long first_expiry, deadline;
    char cache1[64], cache2[64];

    (void)state;
    gssapi_settings(&s, "shortlife@TEST.LOCAL");
    login_attempt(&s, "krb-short", container, TIMEOUT_MS, &r, &sec);
    if (r.probe_rc != 0) {
        fail_msg("%s", r.error);
    }
    assert_int_equal(kafka_kerberos_tickets(sec->krb), 1);
    first_expiry = kafka_kerberos_expiry(sec->krb);
    assert_true(first_expiry - now_s() <= 4);
    kafka_kerberos_ccache(sec->krb, cache1, sizeof(cache1));
    deadline = now_s() + 10 * ts_scale();
    while (kafka_kerberos_tickets(sec->krb) < 2 && now_s() < deadline) {
        struct timespec ts = {0, 20 * 1000000L}; /* polling a counter, with a deadline */
        nanosleep(&ts, NULL);
    }
    assert_int_equal(kafka_kerberos_tickets(sec->krb), 2);
    assert_true(now_s() <= first_expiry);
    assert_true(kafka_kerberos_expiry(sec->krb) > first_expiry);
    kafka_kerberos_ccache(sec->krb, cache2, sizeof(cache2));
    assert_string_not_equal(cache1, cache2);
    kafka_security_destroy(sec);
    /* A new connection logs in with the new ticket. */
    expect_login(&s, "krb-short-2", "shortlife@TEST.LOCAL");
}

/* ------------------------------------------------------------------------ */
/* Clear errors                                                             */
/* ------------------------------------------------------------------------ */

static void refused(connrt_settings_t *s, const char *dir, const char *expected)
{
    struct login_result r;

    login_attempt(s, "krb-refused", dir, 2000, &r, NULL);
    assert_int_not_equal(r.configure_rc, 0);
    if (strstr(r.error, expected) == NULL) {
        fail_msg("expected '%s' in '%s'", expected, r.error);
    }
    assert_null(strstr(r.error, CANARY));
}

static void gssapi__keytab_missing__error_names_resources_path(void **state)
{
    connrt_settings_t s;

    (void)state;
    gssapi_settings(&s, "client@TEST.LOCAL");
    refused(&s, empty_container, "/resources/TEST.LOCAL.keytab (the container's "
                                 "resources/REALM.keytab) not found");
}

static void gssapi__keytab_without_principal__error_lists_what_it_holds(void **state)
{
    connrt_settings_t s;
    char keytab[700];

    (void)state;
    gssapi_settings(&s, "client@TEST.LOCAL");
    snprintf(keytab, sizeof(keytab), "%s/other.keytab", kdcdir);
    mock_set(&s, "keytab", keytab);
    refused(&s, container, "holds no key for client@TEST.LOCAL (it holds: client2@TEST.LOCAL)");
}

static void gssapi__unknown_realm__error_names_realm(void **state)
{
    connrt_settings_t s;

    (void)state;
    gssapi_settings(&s, "pwuser@UNKNOWN.REALM");
    mock_set(&s, "password", CANARY);
    refused(&s, container, "realm 'UNKNOWN.REALM' (from client_principal) is unknown");
}

static void gssapi__kdc_unreachable__error_says_cannot_reach(void **state)
{
    connrt_settings_t s;

    (void)state;
    gssapi_settings(&s, "pwuser@NOKDC.LOCAL");
    mock_set(&s, "password", CANARY);
    refused(&s, container, "cannot reach a KDC of realm 'NOKDC.LOCAL'");
}

static void gssapi__wrong_password__error_without_password(void **state)
{
    connrt_settings_t s;
    char *log;

    (void)state;
    gssapi_settings(&s, "pwuser@TEST.LOCAL");
    mock_set(&s, "password", CANARY);
    refused(&s, container, "the KDC refused the password for 'pwuser@TEST.LOCAL'");
    log = mock_log_text();
    assert_null(strstr(log, CANARY));
    free(log);
}

static void gssapi__wrong_service_principal__credentials_stage_names_it(void **state)
{
    connrt_settings_t s;
    struct login_result r;

    (void)state;
    gssapi_settings(&s, "client@TEST.LOCAL");
    mock_set(&s, "kerberos_service_principal", "kfk");
    login_attempt(&s, "krb-service", container, TIMEOUT_MS, &r, NULL);
    assert_int_equal(r.configure_rc, 0);
    assert_int_not_equal(r.probe_rc, 0);
    assert_non_null(strstr(r.error, "credentials failed: Kerberos: the KDC does not know the "
                                    "service principal kfk/localhost"));
}

static void gssapi__principal_without_realm__refused(void **state)
{
    connrt_settings_t s;

    (void)state;
    gssapi_settings(&s, "client");
    refused(&s, container, "client_principal 'client' has no realm: write NAME@REALM");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(gssapi__keytab_from_container_resources__logs_in_without_kinit),
        cmocka_unit_test(gssapi__password_instead_of_keytab__logs_in),
        cmocka_unit_test(gssapi__two_connections_two_principals__each_logs_in_as_itself),
        cmocka_unit_test(gssapi__short_ticket__renewed_before_it_expires),
        cmocka_unit_test(gssapi__keytab_missing__error_names_resources_path),
        cmocka_unit_test(gssapi__keytab_without_principal__error_lists_what_it_holds),
        cmocka_unit_test(gssapi__unknown_realm__error_names_realm),
        cmocka_unit_test(gssapi__kdc_unreachable__error_says_cannot_reach),
        cmocka_unit_test(gssapi__wrong_password__error_without_password),
        cmocka_unit_test(gssapi__wrong_service_principal__credentials_stage_names_it),
        cmocka_unit_test(gssapi__principal_without_realm__refused),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
