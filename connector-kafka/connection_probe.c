/*
 * connection_probe.c - test a Kafka connection stage by stage and say
 * which stage failed.
 */
#include "clock.h"
#include "connection_probe.h"

#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "connection.h"
#include "security_internal.h"

#define PROBE_MAX_BROKERS 16
#define PROBE_STEP_MS 250

/* The client's opaque: a log target first (connection.h's contract). */
struct probe {
    struct kafka_log_target log;
    pthread_mutex_t lock;
    rd_kafka_resp_err_t err; /* first login-related error seen */
    char reason[1024];
};

static void say(void (*report)(void *, const char *), void *opaque, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void say(void (*report)(void *, const char *), void *opaque, const char *fmt, ...)
{
    char line[1024];
    va_list ap;

    if (report == NULL) {
        return;
    }
    va_start(ap, fmt);
    vsnprintf(line, sizeof(line), fmt, ap);
    va_end(ap);
    report(opaque, line);
}

static int stage_fail(char *errstr, size_t errstr_size, const char *stage, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static int stage_fail(char *errstr, size_t errstr_size, const char *stage, const char *fmt, ...)
{
    int n = snprintf(errstr, errstr_size, "%s failed: ", stage);
    va_list ap;

    if (n > 0 && (size_t)n < errstr_size) {
        va_start(ap, fmt);
        vsnprintf(errstr + n, errstr_size - (size_t)n, fmt, ap);
        va_end(ap);
    }
    return -1;
}

/* report() with two leading spaces. */
struct indented {
    void (*report)(void *, const char *);
    void *opaque;
};

static void indent(void *opaque, const char *line)
{
    struct indented *in = opaque;

    say(in->report, in->opaque, "  %s", line);
}

/* ------------------------------------------------------------------------ */
/* Resolve and TCP                                                          */
/* ------------------------------------------------------------------------ */

struct broker {
    char host[300];
    char port[300];
};

static size_t split_bootstrap(const char *bootstrap, struct broker *out, size_t max)
{
    size_t n = 0;
    const char *p = bootstrap;

    while (*p != '\0' && n < max) {
        size_t len = strcspn(p, ", \n\t");
        if (len > 0) {
            char item[300];
            const char *host = item, *port = "9092";
            char *colon;
            snprintf(item, sizeof(item), "%.*s", (int)len, p);
            if (item[0] == '[' && (colon = strchr(item, ']')) != NULL) {
                *colon = '\0';
                host = item + 1;
                port = colon[1] == ':' ? colon + 2 : port;
            } else if ((colon = strrchr(item, ':')) != NULL) {
                *colon = '\0';
                port = colon + 1;
            }
            snprintf(out[n].host, sizeof(out[n].host), "%s", host);
            snprintf(out[n].port, sizeof(out[n].port), "%s", port);
            n++;
        }
        p += len;
        p += strspn(p, ", \n\t");
    }
    return n;
}

/* Non-blocking connect with a deadline. 0, or an errno. */
static int tcp_connect(const struct addrinfo *ai, int timeout_ms)
{
    int fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC, ai->ai_protocol);
    int rc = 0;
    socklen_t len = sizeof(rc);
    struct pollfd pfd;

    if (fd < 0) {
        return errno;
    }
    fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
    if (connect(fd, ai->ai_addr, ai->ai_addrlen) != 0) {
        rc = errno;
        if (rc == EINPROGRESS) {
            pfd.fd = fd;
            pfd.events = POLLOUT;
            if (poll(&pfd, 1, timeout_ms) <= 0) {
                rc = ETIMEDOUT;
            } else if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &rc, &len) != 0) {
                rc = errno;
            }
        }
    }
    close(fd);
    return rc;
}

static int probe_network(const struct broker *brokers, size_t n, int timeout_ms,
                         void (*report)(void *, const char *), void *opaque, char *errstr,
                         size_t errstr_size)
{
    int resolved = 0, connected = 0;
    char why[1024] = "", last[800] = "";

    for (size_t i = 0; i < n; i++) {
        struct addrinfo hints = {.ai_socktype = SOCK_STREAM}, *res = NULL;
        int rc = getaddrinfo(brokers[i].host, brokers[i].port, &hints, &res);
        if (rc != 0) {
            snprintf(why, sizeof(why), "cannot resolve broker host '%.255s' (%s)", brokers[i].host,
                     gai_strerror(rc));
            say(report, opaque, "resolve %s: %s", brokers[i].host, gai_strerror(rc));
            continue;
        }
        resolved++;
        for (struct addrinfo *ai = res; ai != NULL; ai = ai->ai_next) {
            char addr[128] = "?";
            getnameinfo(ai->ai_addr, ai->ai_addrlen, addr, sizeof(addr), NULL, 0,
                        NI_NUMERICHOST);
            rc = tcp_connect(ai, timeout_ms);
            snprintf(last, sizeof(last), "%s:%.16s (%.255s)", addr, brokers[i].port,
                     brokers[i].host);
            if (rc == 0) {
                say(report, opaque, "TCP connect %s: ok", last);
                connected++;
                break;
            }
            say(report, opaque, "TCP connect %s: %s", last, strerror(rc));
            snprintf(why, sizeof(why), "nothing accepts connections at %.500s: %s", last,
                     strerror(rc));
        }
        freeaddrinfo(res);
    }
    if (resolved == 0) {
        return stage_fail(errstr, errstr_size, KAFKA_STAGE_RESOLVE, "%s", why);
    }
    if (connected == 0) {
        return stage_fail(errstr, errstr_size, KAFKA_STAGE_CONNECT, "%s", why);
    }
    return 0;
}

/* ------------------------------------------------------------------------ */
/* Login                                                                    */
/* ------------------------------------------------------------------------ */

void kafka_reason_trim(const char *reason, char *out, size_t out_size)
{
    const char *suffix = strstr(reason, " (after ");
    size_t len = strlen(reason);

    if (suffix != NULL && len > 0 && reason[len - 1] == ')' &&
        strstr(suffix, " in state ") != NULL) {
        len = (size_t)(suffix - reason);
    }
    snprintf(out, out_size, "%.*s", (int)len, reason);
}

static int login_error(rd_kafka_resp_err_t err)
{
    return err == RD_KAFKA_RESP_ERR__SSL || err == RD_KAFKA_RESP_ERR__AUTHENTICATION ||
           err == RD_KAFKA_RESP_ERR_SASL_AUTHENTICATION_FAILED ||
           err == RD_KAFKA_RESP_ERR_UNSUPPORTED_SASL_MECHANISM ||
           err == RD_KAFKA_RESP_ERR__TRANSPORT;
}

static void error_cb(rd_kafka_t *rk, int err, const char *reason, void *opaque)
{
    struct probe *p = opaque;

    (void)rk;
    pthread_mutex_lock(&p->lock);
    /* A transport error may come before the real one: let a TLS or SASL
     * error replace it. */
    if (login_error((rd_kafka_resp_err_t)err) &&
        (p->err == RD_KAFKA_RESP_ERR_NO_ERROR || p->err == RD_KAFKA_RESP_ERR__TRANSPORT)) {
        p->err = (rd_kafka_resp_err_t)err;
        kafka_reason_trim(reason, p->reason, sizeof(p->reason));
    }
    pthread_mutex_unlock(&p->lock);
}

/* The error is final (not a transient transport hiccup). */
static int decisive(const struct probe *p, const char *protocol)
{
    if (p->err == RD_KAFKA_RESP_ERR_NO_ERROR) {
        return 0;
    }
    if (p->err != RD_KAFKA_RESP_ERR__TRANSPORT) {
        return 1;
    }
    /* A broker that hangs up during TLS or before SASL: a protocol mismatch. */
    return strstr(p->reason, "SSL") != NULL || strstr(p->reason, "security.protocol") != NULL ||
           (strncmp(protocol, "SASL", 4) == 0 && strstr(p->reason, "SASL") != NULL);
}

static int has_client_certificate(const kafka_security_t *sec)
{
    return sec != NULL && sec->host != NULL &&
           sec->host->settings_get(sec->settings, "ssl_certificate") != NULL;
}

static int classify(const kafka_security_t *sec, rd_kafka_t *rk, const struct probe *p,
                    char *errstr, size_t errstr_size)
{
    char detail[1024];
    const char *r = p->reason;
    const char *protocol = kafka_security_protocol(sec);

    if (kafka_security_tls_failure(rk, detail, sizeof(detail)) == 0) {
        return stage_fail(errstr, errstr_size, KAFKA_STAGE_TLS, "%s", detail + 5);
    }
    /* With TLS 1.3 the broker's verdict on our certificate arrives as an
     * alert after the handshake, on the first read. */
    if (strstr(r, "certificate required") != NULL ||
        strstr(r, "client SSL authentication might be required") != NULL ||
        (!has_client_certificate(sec) && strstr(r, "alert handshake failure") != NULL)) {
        return stage_fail(errstr, errstr_size, KAFKA_STAGE_TLS,
                          "the broker requires a client certificate: set ssl_certificate and "
                          "ssl_key (%s)", r);
    }
    if (strstr(r, "alert unknown ca") != NULL || strstr(r, "alert bad certificate") != NULL ||
        strstr(r, "alert certificate expired") != NULL ||
        (has_client_certificate(sec) && strstr(r, "alert handshake failure") != NULL)) {
        return stage_fail(errstr, errstr_size, KAFKA_STAGE_TLS,
                          "the broker refused our client certificate (is ssl_certificate "
                          "signed by a CA the broker trusts, and still valid?) (%s)", r);
    }
    if (p->err == RD_KAFKA_RESP_ERR__SSL || strstr(r, "SSL handshake failed") != NULL) {
        return stage_fail(errstr, errstr_size, KAFKA_STAGE_TLS, "%s", r);
    }
    if (p->err == RD_KAFKA_RESP_ERR__TRANSPORT) {
        if (strstr(r, "connecting to a PLAINTEXT") != NULL ||
            strstr(r, "SSL_HANDSHAKE") != NULL) {
            return stage_fail(errstr, errstr_size, KAFKA_STAGE_TLS,
                              "the broker hung up during the TLS handshake: is it a PLAINTEXT "
                              "listener? (security_protocol=%s) (%s)", protocol, r);
        }
        return stage_fail(errstr, errstr_size, KAFKA_STAGE_TLS,
                          "the broker hung up before answering: security_protocol=%s may not "
                          "match the listener (%s)", protocol, r);
    }
    if (strstr(r, "Unsupported SASL mechanism") != NULL ||
        strstr(r, "mechanism handshake failed") != NULL ||
        p->err == RD_KAFKA_RESP_ERR_UNSUPPORTED_SASL_MECHANISM) {
        const char *offered = strstr(r, "supported mechanisms: ");
        int len = 0;
        if (offered != NULL) {
            offered += strlen("supported mechanisms: ");
            len = (int)strcspn(offered, " (");
        }
        return stage_fail(errstr, errstr_size, KAFKA_STAGE_MECHANISM,
                          "the broker does not offer %s%s%.*s%s (set sasl_mechanism to one it "
                          "offers)",
                          kafka_security_mechanism(sec), offered ? "; it offers " : "", len,
                          offered ? offered : "", "");
    }
    if (sec != NULL && kafka_security_last_error(sec, detail, sizeof(detail)) == 0) {
        return stage_fail(errstr, errstr_size, KAFKA_STAGE_CREDENTIALS, "%s", detail);
    }
    return stage_fail(errstr, errstr_size, KAFKA_STAGE_CREDENTIALS,
                      "the broker refused the %s login: %s", kafka_security_mechanism(sec)
                      ? kafka_security_mechanism(sec) : "SASL", r);
}

static void report_metadata(const rd_kafka_metadata_t *md, void (*report)(void *, const char *),
                            void *opaque)
{
    say(report, opaque, "%d broker(s):", md->broker_cnt);
    for (int i = 0; i < md->broker_cnt; i++) {
        say(report, opaque, "  broker %d at %s:%d", (int)md->brokers[i].id,
            md->brokers[i].host, md->brokers[i].port);
    }
    say(report, opaque, "%d topic(s):", md->topic_cnt);
    for (int i = 0; i < md->topic_cnt; i++) {
        const rd_kafka_metadata_topic_t *t = &md->topics[i];
        if (t->err != RD_KAFKA_RESP_ERR_NO_ERROR) {
            say(report, opaque, "  topic %s: %s", t->topic, rd_kafka_err2str(t->err));
        } else {
            say(report, opaque, "  topic %s: %d partition(s)", t->topic, t->partition_cnt);
        }
    }
}

static int check_authorization(const rd_kafka_metadata_t *md, char *errstr, size_t errstr_size)
{
    for (int i = 0; i < md->topic_cnt; i++) {
        rd_kafka_resp_err_t e = md->topics[i].err;
        if (e == RD_KAFKA_RESP_ERR_TOPIC_AUTHORIZATION_FAILED ||
            e == RD_KAFKA_RESP_ERR_CLUSTER_AUTHORIZATION_FAILED) {
            return stage_fail(errstr, errstr_size, KAFKA_STAGE_AUTHORIZATION,
                              "logged in, but not allowed to describe topic '%s' (%s): ask "
                              "for Describe rights (ACLs) for this principal",
                              md->topics[i].topic, rd_kafka_err2str(e));
        }
    }
    return 0;
}

static int probe_login(const kafka_security_t *sec, rd_kafka_t *rk, struct probe *p,
                       int timeout_ms, void (*report)(void *, const char *), void *opaque,
                       char *errstr, size_t errstr_size)
{
    long long deadline = kafka_monotonic_ms() + timeout_ms;
    const rd_kafka_metadata_t *md = NULL;
    rd_kafka_resp_err_t err = RD_KAFKA_RESP_ERR__TIMED_OUT;
    const char *protocol = kafka_security_protocol(sec);
    int rc, done = 0;

    while (!done && kafka_monotonic_ms() < deadline) {
        err = rd_kafka_metadata(rk, 1, NULL, &md, PROBE_STEP_MS);
        rd_kafka_poll(rk, 0); /* serves error_cb */
        pthread_mutex_lock(&p->lock);
        done = err == RD_KAFKA_RESP_ERR_NO_ERROR || decisive(p, protocol);
        pthread_mutex_unlock(&p->lock);
    }
    if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
        pthread_mutex_lock(&p->lock);
        if (p->err != RD_KAFKA_RESP_ERR_NO_ERROR) {
            rc = classify(sec, rk, p, errstr, errstr_size);
        } else {
            rc = stage_fail(errstr, errstr_size, KAFKA_STAGE_CONNECT,
                            "no answer from the brokers within %d ms (%s)", timeout_ms,
                            rd_kafka_err2str(err));
        }
        pthread_mutex_unlock(&p->lock);
        return rc;
    }
    say(report, opaque, "TLS: %s", strstr(protocol, "SSL") != NULL ? "ok" : "not used");
    say(report, opaque, "SASL: %s%s", kafka_security_mechanism(sec) != NULL
        ? kafka_security_mechanism(sec) : "not used",
        kafka_security_mechanism(sec) != NULL ? " login ok" : "");
    report_metadata(md, report, opaque);
    rc = check_authorization(md, errstr, errstr_size);
    rd_kafka_metadata_destroy(md);
    return rc;
}

int kafka_probe_connection(kafka_security_t *sec, rd_kafka_conf_t *conf,
                           const char *bootstrap, const struct connrt_host *host,
                           const char *component_id, int timeout_ms,
                           void (*report)(void *opaque, const char *line), void *opaque,
                           char *errstr, size_t errstr_size)
{
    struct broker brokers[PROBE_MAX_BROKERS];
    size_t n = split_bootstrap(bootstrap, brokers, PROBE_MAX_BROKERS);
    struct probe p;
    char why[512];
    rd_kafka_t *rk;
    int rc;

    say(report, opaque, "bootstrap servers: %s", bootstrap);
    say(report, opaque, "security: %s%s%s", kafka_security_protocol(sec),
        kafka_security_mechanism(sec) ? " " : "",
        kafka_security_mechanism(sec) ? kafka_security_mechanism(sec) : "");
    if (report != NULL) {
        say(report, opaque, "effective settings (librdkafka defaults left out):");
        kafka_security_describe_conf(sec, conf, indent, &(struct indented){report, opaque});
    }
    if (probe_network(brokers, n, timeout_ms, report, opaque, errstr, errstr_size) != 0) {
        rd_kafka_conf_destroy(conf);
        return -1;
    }
    kafka_security_clear_error(sec);
    memset(&p, 0, sizeof(p));
    p.log.host = host;
    p.log.component_id = component_id;
    pthread_mutex_init(&p.lock, NULL);
    rd_kafka_conf_set_opaque(conf, &p);
    kafka_security_bind(sec, &p);
    rd_kafka_conf_set_error_cb(conf, error_cb);
    rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, why, sizeof(why));
    if (rk == NULL) {
        rd_kafka_conf_destroy(conf);
        kafka_security_unbind(&p);
        pthread_mutex_destroy(&p.lock);
        snprintf(errstr, errstr_size, "cannot create a Kafka client: %s", why);
        return -1;
    }
    if (kafka_security_client_started(sec, rk, errstr, errstr_size) != 0) {
        rc = -1;
    } else {
        rc = probe_login(sec, rk, &p, timeout_ms, report, opaque, errstr, errstr_size);
    }
    kafka_security_forget_client(rk);
    rd_kafka_destroy(rk);
    kafka_security_unbind(&p);
    pthread_mutex_destroy(&p.lock);
    return rc;
}
