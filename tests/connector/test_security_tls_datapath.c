/*
 * test_security_tls_datapath.c - produce and consume over TLS: a TLS
 * terminator (socat OPENSSL-LISTEN) in front of a mock Kafka broker, and a
 * client configured by kafka_security_configure with inline PEM. The
 * client's resolve callback sends the broker's advertised address to the
 * terminator, so every byte the client exchanges goes through TLS.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "connector-kafka/connection.h"
#include "tests/security/login_helpers.h"
#include "tests/security/test_servers.h"

#define MESSAGES 50

static char pki[512], container[512], broker_port[16], tls_port[16];
static struct test_server socat;

static int setup(void **state)
{
    int rc;

    (void)state;
    if (ts_run("command -v socat >/dev/null 2>&1") != 0) {
        fprintf(stderr, "socat missing: TLS data path test skipped\n");
        exit(77);
    }
    if (ts_tmpdir(pki, sizeof(pki), "pki") != 0 ||
        ts_tmpdir(container, sizeof(container), "container") != 0) {
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
    ts_stop(&socat);
    ts_rmdir(pki);
    ts_rmdir(container);
    return 0;
}

/* The advertised broker port resolves to the TLS terminator's. */
static int resolve_cb(const char *node, const char *service, const struct addrinfo *hints,
                      struct addrinfo **res, void *opaque)
{
    (void)opaque;
    if (node == NULL) {
        freeaddrinfo(*res);
        return 0;
    }
    if (service != NULL && strcmp(service, broker_port) == 0) {
        service = tls_port;
    }
    return getaddrinfo(node, service, hints, res);
}

static void quiet_log(const rd_kafka_t *rk, int level, const char *fac, const char *buf)
{
    (void)rk;
    mock_host()->log(level <= 3 ? CONNRT_LOG_ERROR : CONNRT_LOG_DEBUG, "librdkafka", "%s: %s",
                     fac, buf);
}

static rd_kafka_conf_t *tls_conf(connrt_settings_t *s, struct kafka_log_target *target,
                                 kafka_security_t **sec)
{
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    char errstr[512], bootstrap[64];

    snprintf(bootstrap, sizeof(bootstrap), "127.0.0.1:%s", broker_port);
    rd_kafka_conf_set(conf, "bootstrap.servers", bootstrap, errstr, sizeof(errstr));
    rd_kafka_conf_set_resolve_cb(conf, resolve_cb);
    rd_kafka_conf_set_log_cb(conf, quiet_log);
    if (kafka_security_configure(conf, mock_host(), s, target->component_id, container, sec,
                                 errstr, sizeof(errstr)) != 0) {
        fail_msg("%s", errstr);
    }
    rd_kafka_conf_set_opaque(conf, target);
    return conf;
}

static void datapath__produce_and_consume_over_tls__all_messages_back(void **state)
{
    struct kafka_log_target target = {.host = mock_host(), .component_id = "tls-datapath"};
    const char *argv[] = {"/usr/bin/socat", "-d", "-d", NULL, NULL, NULL};
    char listen[1200], forward[64], errstr[512];
    char *ca = login_slurp(pki, "ca.pem");
    rd_kafka_t *mock_rk, *producer, *consumer;
    rd_kafka_mock_cluster_t *mc;
    kafka_security_t *psec = NULL, *csec = NULL;
    connrt_settings_t s;
    int got = 0, port = ts_free_port();
    const char *bootstraps;

    (void)state;
    /* A mock cluster on its own handle (test.mock.* would force PLAINTEXT). */
    rd_kafka_conf_t *mconf = rd_kafka_conf_new();
    rd_kafka_conf_set_log_cb(mconf, quiet_log);
    mock_rk = rd_kafka_new(RD_KAFKA_PRODUCER, mconf, errstr, sizeof(errstr));
    assert_non_null(mock_rk);
    mc = rd_kafka_mock_cluster_new(mock_rk, 1);
    assert_non_null(mc);
    assert_int_equal(rd_kafka_mock_topic_create(mc, "secure", 1, 1), 0);
    bootstraps = rd_kafka_mock_cluster_bootstraps(mc);
    snprintf(broker_port, sizeof(broker_port), "%s", strrchr(bootstraps, ':') + 1);
    snprintf(tls_port, sizeof(tls_port), "%d", port);

    snprintf(listen, sizeof(listen), "OPENSSL-LISTEN:%d,bind=127.0.0.1,reuseaddr,fork,"
             "cert=%s/server.pem,key=%s/server.key,verify=0", port, pki, pki);
    snprintf(forward, sizeof(forward), "TCP:127.0.0.1:%s", broker_port);
    argv[3] = listen;
    argv[4] = forward;
    assert_int_equal(ts_start(&socat, argv, NULL), 0);
    assert_int_equal(ts_wait(&socat, "listening on", 5000, NULL, 0), 0);

    memset(&s, 0, sizeof(s));
    mock_set(&s, "security_protocol", "SSL");
    mock_set(&s, "ssl_ca", ca);
    producer = rd_kafka_new(RD_KAFKA_PRODUCER, tls_conf(&s, &target, &psec), errstr,
                            sizeof(errstr));
    assert_non_null(producer);
    for (int i = 0; i < MESSAGES; i++) {
        char value[32];
        snprintf(value, sizeof(value), "secure-%d", i);
        assert_int_equal(rd_kafka_producev(producer, RD_KAFKA_V_TOPIC("secure"),
                                           RD_KAFKA_V_VALUE(value, strlen(value)),
                                           RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
                                           RD_KAFKA_V_END),
                         0);
    }
    assert_int_equal(rd_kafka_flush(producer, 10000 * ts_scale()), 0);
    /* The terminator saw the TLS connection. */
    assert_true(ts_seen(&socat, "accepting connection from"));

    rd_kafka_conf_t *cconf = tls_conf(&s, &target, &csec);
    rd_kafka_conf_set(cconf, "group.id", "tls-test", errstr, sizeof(errstr));
    rd_kafka_conf_set(cconf, "fetch.wait.max.ms", "10", errstr, sizeof(errstr));
    consumer = rd_kafka_new(RD_KAFKA_CONSUMER, cconf, errstr, sizeof(errstr));
    assert_non_null(consumer);
    rd_kafka_topic_partition_list_t *parts = rd_kafka_topic_partition_list_new(1);
    rd_kafka_topic_partition_list_add(parts, "secure", 0)->offset = RD_KAFKA_OFFSET_BEGINNING;
    assert_int_equal(rd_kafka_assign(consumer, parts), 0);
    rd_kafka_topic_partition_list_destroy(parts);
    for (int polls = 0; got < MESSAGES && polls < 200 * ts_scale(); polls++) {
        rd_kafka_message_t *m = rd_kafka_consumer_poll(consumer, 50);
        if (m != NULL) {
            if (m->err == RD_KAFKA_RESP_ERR_NO_ERROR) {
                char expected[32];
                snprintf(expected, sizeof(expected), "secure-%d", got);
                assert_int_equal(m->len, strlen(expected));
                assert_memory_equal(m->payload, expected, m->len);
                got++;
            }
            rd_kafka_message_destroy(m);
        }
    }
    assert_int_equal(got, MESSAGES);
    rd_kafka_consumer_close(consumer);
    rd_kafka_destroy(consumer);
    rd_kafka_destroy(producer);
    kafka_security_destroy(csec);
    kafka_security_destroy(psec);
    rd_kafka_mock_cluster_destroy(mc);
    rd_kafka_destroy(mock_rk);
    free(ca);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(datapath__produce_and_consume_over_tls__all_messages_back),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
