/*
 * test_security_tls.c - TLS and mutual TLS against the local login broker
 * (tests/security/fake_kafka_broker.py): inline PEM files, and one distinct
 * clear error for each way the handshake can go wrong.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "connector-kafka/sigv4.h"
#include "tests/security/login_helpers.h"
#include "tests/security/test_servers.h"

#define TIMEOUT_MS 8000

static char pki[512], container[512], port_str[64];
static struct test_server broker;

static int setup_pki(void **state)
{
    int rc;

    (void)state;
    if (ts_tmpdir(pki, sizeof(pki), "pki") != 0 || ts_tmpdir(container, sizeof(container),
                                                             "container") != 0) {
        return -1;
    }
    rc = ts_make_pki(pki);
    if (rc == TS_SKIP) {
        fprintf(stderr, "openssl missing: TLS tests skipped\n");
        exit(77);
    }
    return rc;
}

static int teardown_pki(void **state)
{
    (void)state;
    ts_rmdir(pki);
    ts_rmdir(container);
    return 0;
}

/* Start a TLS broker with server certificate NAME (.pem/.key). */
static void start_broker(const char *name, int require_client_cert)
{
    char cert[600], key[600], ca[600];
    const char *args[12] = {"--tls-cert", cert, "--tls-key", key, "--topic", "orders", NULL};
    int rc;

    snprintf(cert, sizeof(cert), "%s/%s.pem", pki, name);
    snprintf(key, sizeof(key), "%s/%s.key", pki, name);
    snprintf(ca, sizeof(ca), "%s/ca.pem", pki);
    if (require_client_cert) {
        args[6] = "--tls-ca";
        args[7] = ca;
        args[8] = "--require-client-cert";
        args[9] = NULL;
    }
    rc = ts_start_python(&broker, "fake_kafka_broker.py", args, NULL);
    if (rc == TS_SKIP) {
        skip();
    }
    assert_int_equal(rc, 0);
    snprintf(port_str, sizeof(port_str), "localhost:%d", broker.port);
}

static int stop_broker(void **state)
{
    (void)state;
    ts_stop(&broker);
    mock_log_clear();
    return 0;
}

static void path_of(char *out, size_t size, const char *name)
{
    snprintf(out, size, "%s/%s", pki, name);
}

static void base_settings(connrt_settings_t *s)
{
    memset(s, 0, sizeof(*s));
    mock_set(s, "bootstrap_servers", port_str);
    mock_set(s, "security_protocol", "SSL");
}

/* ------------------------------------------------------------------------ */

static void tls__inline_ca_pem__logs_in_and_writes_0600_file_named_by_sha256(void **state)
{
    connrt_settings_t s;
    struct login_result r;
    char *ca = login_slurp(pki, "ca.pem");
    char hash[KAFKA_SIGV4_HEX_SIZE], path[1200], dir[1024];
    struct stat st;
    char *written;

    (void)state;
    start_broker("server", 0);
    base_settings(&s);
    mock_set(&s, "ssl_ca", ca);
    login_attempt(&s, "tls-inline", container, TIMEOUT_MS, &r, NULL);
    assert_int_equal(r.configure_rc, 0);
    if (r.probe_rc != 0) {
        fail_msg("login failed: %s", r.error);
    }
    assert_non_null(strstr(r.report, "TLS: ok"));
    assert_non_null(strstr(r.report, "topic orders"));

    kafka_sigv4_sha256_hex(ca, strlen(ca), hash);
    snprintf(dir, sizeof(dir), "%s/data/pem", container);
    snprintf(path, sizeof(path), "%s/%s.pem", dir, hash);
    assert_int_equal(stat(dir, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0700);
    assert_int_equal(stat(path, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0600);
    written = ts_read_file(path);
    assert_non_null(written);
    assert_string_equal(written, ca);
    free(written);

    /* Written once: a second connection with the same PEM reuses the file. */
    struct stat before = st;
    login_attempt(&s, "tls-inline-2", container, TIMEOUT_MS, &r, NULL);
    assert_int_equal(r.probe_rc, 0);
    assert_int_equal(stat(path, &st), 0);
    assert_int_equal(st.st_ino, before.st_ino);
    assert_int_equal(st.st_mtim.tv_nsec, before.st_mtim.tv_nsec);
    free(ca);
}

static void tls__wrong_ca__error_says_not_signed_by_ssl_ca(void **state)
{
    connrt_settings_t s;
    struct login_result r;
    char ca[600];

    (void)state;
    start_broker("server", 0);
    base_settings(&s);
    path_of(ca, sizeof(ca), "other-ca.pem");
    mock_set(&s, "ssl_ca", ca);
    login_attempt(&s, "tls-wrong-ca", container, TIMEOUT_MS, &r, NULL);
    assert_int_equal(r.configure_rc, 0);
    assert_int_not_equal(r.probe_rc, 0);
    assert_non_null(strstr(r.error, "TLS failed: "));
    assert_non_null(strstr(r.error, "not signed by a CA in ssl_ca"));
    assert_null(strstr(r.error, "expired"));
}

static void tls__expired_broker_certificate__error_says_expired(void **state)
{
    connrt_settings_t s;
    struct login_result r;
    char ca[600];

    (void)state;
    start_broker("expired", 0);
    base_settings(&s);
    path_of(ca, sizeof(ca), "ca.pem");
    mock_set(&s, "ssl_ca", ca);
    login_attempt(&s, "tls-expired", container, TIMEOUT_MS, &r, NULL);
    assert_int_not_equal(r.probe_rc, 0);
    assert_non_null(strstr(r.error, "TLS failed: "));
    assert_non_null(strstr(r.error, "expired on"));
    assert_null(strstr(r.error, "not signed"));
}

static void tls__hostname_mismatch__error_names_certificate_host(void **state)
{
    connrt_settings_t s;
    struct login_result r;
    char ca[600];

    (void)state;
    start_broker("wronghost", 0);
    base_settings(&s);
    path_of(ca, sizeof(ca), "ca.pem");
    mock_set(&s, "ssl_ca", ca);
    login_attempt(&s, "tls-host", container, TIMEOUT_MS, &r, NULL);
    assert_int_not_equal(r.probe_rc, 0);
    assert_non_null(strstr(r.error, "TLS failed: host name mismatch"));
    assert_non_null(strstr(r.error, "wrong.example"));
    assert_non_null(strstr(r.error, "'localhost'"));

    /* Turning the check off (for tests) lets it through. */
    mock_set(&s, "ssl_endpoint_identification", "none");
    login_attempt(&s, "tls-host-off", container, TIMEOUT_MS, &r, NULL);
    assert_int_equal(r.probe_rc, 0);
}

static void mtls__inline_client_certificate_and_encrypted_key__logs_in(void **state)
{
    connrt_settings_t s;
    struct login_result r;
    char ca[600];
    char *cert = login_slurp(pki, "client.pem"), *key = login_slurp(pki, "client-enc.key");

    (void)state;
    start_broker("server", 1);
    base_settings(&s);
    path_of(ca, sizeof(ca), "ca.pem");
    mock_set(&s, "ssl_ca", ca);
    mock_set(&s, "ssl_certificate", cert);
    mock_set(&s, "ssl_key", key);
    mock_set(&s, "ssl_key_password", "keypass");
    login_attempt(&s, "mtls", container, TIMEOUT_MS, &r, NULL);
    if (r.probe_rc != 0) {
        fail_msg("mTLS login failed: %s", r.error);
    }
    assert_int_equal(ts_wait(&broker, "EVENT tls peer=commonName=connrt-client", 2000, NULL, 0),
                     0);
    free(cert);
    free(key);
}

static void mtls__no_client_certificate__error_says_one_is_required(void **state)
{
    connrt_settings_t s;
    struct login_result r;
    char ca[600];

    (void)state;
    start_broker("server", 1);
    base_settings(&s);
    path_of(ca, sizeof(ca), "ca.pem");
    mock_set(&s, "ssl_ca", ca);
    login_attempt(&s, "mtls-none", container, TIMEOUT_MS, &r, NULL);
    assert_int_not_equal(r.probe_rc, 0);
    assert_non_null(strstr(r.error, "TLS failed: the broker requires a client certificate"));
}

static void mtls__client_certificate_of_other_ca__error_says_refused(void **state)
{
    connrt_settings_t s;
    struct login_result r;
    char ca[600], cert[600], key[600];

    (void)state;
    start_broker("server", 1);
    base_settings(&s);
    path_of(ca, sizeof(ca), "ca.pem");
    path_of(cert, sizeof(cert), "other-client.pem");
    path_of(key, sizeof(key), "other-client.key");
    mock_set(&s, "ssl_ca", ca);
    mock_set(&s, "ssl_certificate", cert);
    mock_set(&s, "ssl_key", key);
    login_attempt(&s, "mtls-other", container, TIMEOUT_MS, &r, NULL);
    assert_int_not_equal(r.probe_rc, 0);
    assert_non_null(strstr(r.error, "TLS failed: the broker refused our client certificate"));
}

static void tls__plaintext_listener__error_says_tls_handshake_hung_up(void **state)
{
    connrt_settings_t s;
    struct login_result r;
    int rc = ts_start_python(&broker, "fake_kafka_broker.py", NULL, NULL);

    (void)state;
    if (rc == TS_SKIP) {
        skip();
    }
    assert_int_equal(rc, 0);
    snprintf(port_str, sizeof(port_str), "localhost:%d", broker.port);
    base_settings(&s);
    login_attempt(&s, "tls-on-plain", container, TIMEOUT_MS, &r, NULL);
    assert_int_not_equal(r.probe_rc, 0);
    assert_non_null(strstr(r.error, "TLS failed: "));
    assert_non_null(strstr(r.error, "PLAINTEXT"));
}

/* ------------------------------------------------------------------------ */
/* Material checked before connecting                                       */
/* ------------------------------------------------------------------------ */

static void configure_only(connrt_settings_t *s, struct login_result *r)
{
    login_attempt(s, "pem-check", container, 1000, r, NULL);
    assert_int_not_equal(r->configure_rc, 0);
}

static void pem__malformed_inline_ca__error_names_property(void **state)
{
    connrt_settings_t s;
    struct login_result r;

    (void)state;
    snprintf(port_str, sizeof(port_str), "localhost:1");
    base_settings(&s);
    mock_set(&s, "ssl_ca", "-----BEGIN CERTIFICATE-----\nnot*base64*at*all\n"
                           "-----END CERTIFICATE-----\n");
    configure_only(&s, &r);
    assert_non_null(strstr(r.error, "property 'ssl_ca': malformed PEM"));
}

static void pem__missing_file__error_names_path(void **state)
{
    connrt_settings_t s;
    struct login_result r;

    (void)state;
    snprintf(port_str, sizeof(port_str), "localhost:1");
    base_settings(&s);
    mock_set(&s, "ssl_ca", "/nonexistent/ca.pem");
    configure_only(&s, &r);
    assert_non_null(strstr(r.error, "property 'ssl_ca': cannot read /nonexistent/ca.pem"));
}

static void pem__encrypted_key_without_or_with_wrong_password__clear_errors(void **state)
{
    connrt_settings_t s;
    struct login_result r;
    char cert[600], key[600];

    (void)state;
    snprintf(port_str, sizeof(port_str), "localhost:1");
    base_settings(&s);
    path_of(cert, sizeof(cert), "client.pem");
    path_of(key, sizeof(key), "client-enc.key");
    mock_set(&s, "ssl_certificate", cert);
    mock_set(&s, "ssl_key", key);
    configure_only(&s, &r);
    assert_non_null(strstr(r.error, "encrypted: set ssl_key_password"));
    mock_set(&s, "ssl_key_password", "not-the-password");
    configure_only(&s, &r);
    assert_non_null(strstr(r.error, "ssl_key_password does not decrypt"));
    assert_null(strstr(r.error, "not-the-password"));
}

static void pem__key_of_another_certificate__error_says_mismatch(void **state)
{
    connrt_settings_t s;
    struct login_result r;
    char cert[600], key[600];

    (void)state;
    snprintf(port_str, sizeof(port_str), "localhost:1");
    base_settings(&s);
    path_of(cert, sizeof(cert), "client.pem");
    path_of(key, sizeof(key), "other-client.key");
    mock_set(&s, "ssl_certificate", cert);
    mock_set(&s, "ssl_key", key);
    configure_only(&s, &r);
    assert_non_null(strstr(r.error, "does not belong to ssl_certificate"));
}

static void pem__expired_client_certificate__error_says_expired(void **state)
{
    connrt_settings_t s;
    struct login_result r;
    char cert[600], key[600];

    (void)state;
    snprintf(port_str, sizeof(port_str), "localhost:1");
    base_settings(&s);
    path_of(cert, sizeof(cert), "expired.pem");
    path_of(key, sizeof(key), "expired.key");
    mock_set(&s, "ssl_certificate", cert);
    mock_set(&s, "ssl_key", key);
    configure_only(&s, &r);
    char expected[700];
    snprintf(expected, sizeof(expected),
             "property 'ssl_certificate': file %s: the certificate expired on", cert);
    assert_non_null(strstr(r.error, expected));
}

static void tls__ssl_property_with_plaintext__refused(void **state)
{
    connrt_settings_t s;
    struct login_result r;
    char ca[600];

    (void)state;
    snprintf(port_str, sizeof(port_str), "localhost:1");
    base_settings(&s);
    mock_set(&s, "security_protocol", "PLAINTEXT");
    path_of(ca, sizeof(ca), "ca.pem");
    mock_set(&s, "ssl_ca", ca);
    configure_only(&s, &r);
    assert_non_null(strstr(r.error, "'ssl_ca' is set but security_protocol=PLAINTEXT"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(tls__inline_ca_pem__logs_in_and_writes_0600_file_named_by_sha256,
                                  stop_broker),
        cmocka_unit_test_teardown(tls__wrong_ca__error_says_not_signed_by_ssl_ca, stop_broker),
        cmocka_unit_test_teardown(tls__expired_broker_certificate__error_says_expired,
                                  stop_broker),
        cmocka_unit_test_teardown(tls__hostname_mismatch__error_names_certificate_host,
                                  stop_broker),
        cmocka_unit_test_teardown(mtls__inline_client_certificate_and_encrypted_key__logs_in,
                                  stop_broker),
        cmocka_unit_test_teardown(mtls__no_client_certificate__error_says_one_is_required,
                                  stop_broker),
        cmocka_unit_test_teardown(mtls__client_certificate_of_other_ca__error_says_refused,
                                  stop_broker),
        cmocka_unit_test_teardown(tls__plaintext_listener__error_says_tls_handshake_hung_up,
                                  stop_broker),
        cmocka_unit_test(pem__malformed_inline_ca__error_names_property),
        cmocka_unit_test(pem__missing_file__error_names_path),
        cmocka_unit_test(pem__encrypted_key_without_or_with_wrong_password__clear_errors),
        cmocka_unit_test(pem__key_of_another_certificate__error_says_mismatch),
        cmocka_unit_test(pem__expired_client_certificate__error_says_expired),
        cmocka_unit_test(tls__ssl_property_with_plaintext__refused),
    };
    return cmocka_run_group_tests(tests, setup_pki, teardown_pki);
}
