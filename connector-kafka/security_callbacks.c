/*
 * security_callbacks.c - the librdkafka callbacks of connection security:
 * broker certificate checks with clear reasons, Kerberos ticket cache
 * selection before each connect, OAUTHBEARER token refresh (OAuth endpoint
 * or MSK IAM); and the registry through which they find their connection.
 */
#include "clock.h"
#include "security_internal.h"

#include <errno.h>
#include <openssl/crypto.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include "connection.h"
#include "msk.h"

/* Sent after the signed part of an MSK IAM token, as the AWS signers do. */
#define MSK_USER_AGENT "connrt"
#define TLS_RECORDS 32

/* ------------------------------------------------------------------------ */
/* Registry                                                                 */
/* ------------------------------------------------------------------------ */

static pthread_mutex_t registry_lock = PTHREAD_MUTEX_INITIALIZER;
static kafka_security_t *registry;

/* Client opaque -> connection, from kafka_security_bind. */
struct binding {
    const void *opaque;
    kafka_security_t *sec;
    struct binding *next;
};
static struct binding *bindings;

int kafka_security_bind(kafka_security_t *sec, const void *opaque)
{
    struct binding *b;
    int rc = 0;

    if (sec == NULL || opaque == NULL) {
        return 0;
    }
    pthread_mutex_lock(&registry_lock);
    for (b = bindings; b != NULL && b->opaque != opaque; b = b->next) {
    }
    if (b == NULL && (b = calloc(1, sizeof(*b))) != NULL) {
        b->opaque = opaque;
        b->next = bindings;
        bindings = b;
    }
    if (b != NULL) {
        b->sec = sec;
    } else {
        rc = -1;
    }
    pthread_mutex_unlock(&registry_lock);
    return rc;
}

void kafka_security_register(kafka_security_t *sec)
{
    pthread_mutex_lock(&registry_lock);
    sec->next = registry;
    registry = sec;
    pthread_mutex_unlock(&registry_lock);
}

void kafka_security_unbind(const void *opaque)
{
    pthread_mutex_lock(&registry_lock);
    for (struct binding **b = &bindings; *b != NULL; b = &(*b)->next) {
        if ((*b)->opaque == opaque) {
            struct binding *dead = *b;
            *b = dead->next;
            free(dead);
            break;
        }
    }
    pthread_mutex_unlock(&registry_lock);
}

void kafka_security_unregister(kafka_security_t *sec)
{
    pthread_mutex_lock(&registry_lock);
    for (kafka_security_t **p = &registry; *p != NULL; p = &(*p)->next) {
        if (*p == sec) {
            *p = sec->next;
            break;
        }
    }
    for (struct binding **b = &bindings; *b != NULL;) {
        if ((*b)->sec == sec) {
            struct binding *dead = *b;
            *b = dead->next;
            free(dead);
        } else {
            b = &(*b)->next;
        }
    }
    pthread_mutex_unlock(&registry_lock);
}

kafka_security_t *kafka_security_find(const void *opaque)
{
    const struct kafka_log_target *target = opaque;
    kafka_security_t *found = NULL;

    if (target == NULL) {
        return NULL;
    }
    pthread_mutex_lock(&registry_lock);
    for (struct binding *b = bindings; b != NULL && found == NULL; b = b->next) {
        if (b->opaque == opaque) {
            found = b->sec;
        }
    }
    for (kafka_security_t *s = registry; s != NULL && found == NULL && target->component_id;
         s = s->next) {
        if (strcmp(s->component_id, target->component_id) == 0) {
            found = s; /* the newest connection of that id */
        }
    }
    pthread_mutex_unlock(&registry_lock);
    return found;
}

/* ------------------------------------------------------------------------ */
/* Broker certificates                                                      */
/* ------------------------------------------------------------------------ */

static struct {
    const rd_kafka_t *rk;
    char message[1024];
} tls_records[TLS_RECORDS];
static unsigned tls_next;

static void tls_record(const rd_kafka_t *rk, const char *message)
{
    pthread_mutex_lock(&registry_lock);
    unsigned slot = tls_next;
    for (unsigned i = 0; i < TLS_RECORDS; i++) {
        if (tls_records[i].rk == rk) {
            slot = i;
            break;
        }
    }
    if (slot == tls_next) {
        tls_next = (tls_next + 1) % TLS_RECORDS;
    }
    tls_records[slot].rk = rk;
    snprintf(tls_records[slot].message, sizeof(tls_records[slot].message), "%s", message);
    pthread_mutex_unlock(&registry_lock);
}

int kafka_security_tls_failure(const rd_kafka_t *rk, char *out, size_t out_size)
{
    int rc = -1;

    pthread_mutex_lock(&registry_lock);
    for (unsigned i = 0; i < TLS_RECORDS; i++) {
        if (tls_records[i].rk == rk && rk != NULL) {
            snprintf(out, out_size, "%s", tls_records[i].message);
            rc = 0;
        }
    }
    pthread_mutex_unlock(&registry_lock);
    return rc;
}

void kafka_security_forget_client(const rd_kafka_t *rk)
{
    pthread_mutex_lock(&registry_lock);
    for (unsigned i = 0; i < TLS_RECORDS; i++) {
        if (tls_records[i].rk == rk) {
            tls_records[i].rk = NULL;
        }
    }
    pthread_mutex_unlock(&registry_lock);
}

static void cert_date(const ASN1_TIME *t, char *out, size_t size)
{
    struct tm tm;

    if (t == NULL || ASN1_TIME_to_tm(t, &tm) != 1 ||
        strftime(out, size, "%Y-%m-%d %H:%M:%S UTC", &tm) == 0) {
        snprintf(out, size, "(unknown date)");
    }
}

/* The DNS and IP names a certificate is for: "a, b". */
static void cert_names(X509 *x, char *out, size_t size)
{
    GENERAL_NAMES *names = X509_get_ext_d2i(x, NID_subject_alt_name, NULL, NULL);
    size_t n = 0;

    out[0] = '\0';
    for (int i = 0; names != NULL && i < sk_GENERAL_NAME_num(names); i++) {
        const GENERAL_NAME *g = sk_GENERAL_NAME_value(names, i);
        char ip[64] = "";
        if (g->type == GEN_DNS) {
            n += (size_t)snprintf(out + n, size - n, "%s%.*s", n ? ", " : "",
                                  ASN1_STRING_length(g->d.dNSName),
                                  (const char *)ASN1_STRING_get0_data(g->d.dNSName));
        } else if (g->type == GEN_IPADD && ASN1_STRING_length(g->d.iPAddress) == 4) {
            const unsigned char *a = ASN1_STRING_get0_data(g->d.iPAddress);
            snprintf(ip, sizeof(ip), "%u.%u.%u.%u", a[0], a[1], a[2], a[3]);
            n += (size_t)snprintf(out + n, size - n, "%s%s", n ? ", " : "", ip);
        }
        if (n >= size) {
            break;
        }
    }
    GENERAL_NAMES_free(names);
    if (out[0] == '\0') {
        X509_NAME_get_text_by_NID(X509_get_subject_name(x), NID_commonName, out, (int)size);
    }
}

/* "host:port/id" or "proto://host:port/id" -> host. */
static void broker_host(const char *name, char *out, size_t size)
{
    const char *p = strstr(name, "://");
    size_t len;

    p = p != NULL ? p + 3 : name;
    if (*p == '[') {
        p++;
        len = strcspn(p, "]");
    } else {
        len = strcspn(p, ":/");
    }
    snprintf(out, size, "%.*s", (int)len, p);
}

static void explain_certificate(const kafka_security_t *sec, const char *broker, int err,
                                int depth, X509 *x, char *out, size_t size)
{
    char subject[256] = "", issuer[256] = "", when[64], names[512], host[256];
    const char *whose = depth == 0 ? "the broker's certificate" : "a CA certificate of the "
                                                                  "broker's chain";

    broker_host(broker, host, sizeof(host));
    if (x != NULL) {
        X509_NAME_oneline(X509_get_subject_name(x), subject, sizeof(subject));
        X509_NAME_oneline(X509_get_issuer_name(x), issuer, sizeof(issuer));
    }
    switch (err) {
    case X509_V_ERR_CERT_HAS_EXPIRED:
        cert_date(x != NULL ? X509_get0_notAfter(x) : NULL, when, sizeof(when));
        snprintf(out, size, "TLS: %s (%.160s) at %.120s expired on %s", whose, subject, host, when);
        break;
    case X509_V_ERR_CERT_NOT_YET_VALID:
        cert_date(x != NULL ? X509_get0_notBefore(x) : NULL, when, sizeof(when));
        snprintf(out, size, "TLS: %s (%.160s) at %.120s is not valid before %s (check the clock)",
                 whose, subject, host, when);
        break;
    case X509_V_ERR_HOSTNAME_MISMATCH:
    case X509_V_ERR_IP_ADDRESS_MISMATCH:
        if (x != NULL) {
            cert_names(x, names, sizeof(names));
        } else {
            snprintf(names, sizeof(names), "other names");
        }
        snprintf(out, size,
                 "TLS: host name mismatch: the broker at '%.120s' has a certificate for "
                 "%.300s (address brokers by a name in their certificate; "
                 "ssl_endpoint_identification=none turns this check off)",
                 host, names);
        break;
    case X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY:
    case X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT:
    case X509_V_ERR_SELF_SIGNED_CERT_IN_CHAIN:
    case X509_V_ERR_DEPTH_ZERO_SELF_SIGNED_CERT:
    case X509_V_ERR_UNABLE_TO_VERIFY_LEAF_SIGNATURE:
    case X509_V_ERR_CERT_SIGNATURE_FAILURE:
        snprintf(out, size,
                 "TLS: the broker's certificate at %.120s (issued by %.160s) is not signed by "
                 "a CA %s (wrong CA?)",
                 host, issuer,
                 sec != NULL && sec->verify_ca_given ? "in ssl_ca"
                                                     : "this system trusts: set ssl_ca");
        break;
    default:
        snprintf(out, size, "TLS: cannot verify %s (%.160s) at %.120s: %s", whose, subject, host,
                 X509_verify_cert_error_string(err));
    }
}

static int cert_verify_cb(rd_kafka_t *rk, const char *broker_name, int32_t broker_id,
                          int *x509_error, int depth, const char *buf, size_t size,
                          char *errstr, size_t errstr_size, void *opaque)
{
    const unsigned char *der = (const unsigned char *)buf;
    X509 *x;
    char msg[1024];

    (void)broker_id;
    if (*x509_error == X509_V_OK) {
        return 1;
    }
    x = d2i_X509(NULL, &der, (long)size);
    explain_certificate(kafka_security_find(opaque), broker_name, *x509_error, depth, x, msg,
                        sizeof(msg));
    X509_free(x);
    tls_record(rk, msg);
    snprintf(errstr, errstr_size, "%s", msg); /* librdkafka logs it */
    return 0;
}

/* ------------------------------------------------------------------------ */
/* Kerberos: the connection's ticket cache on the broker thread             */
/* ------------------------------------------------------------------------ */

static int connect_cb(int sockfd, const struct sockaddr *addr, int addrlen, const char *id,
                      void *opaque)
{
    kafka_security_t *sec = kafka_security_find(opaque);

    if (sec != NULL && sec->krb != NULL) {
        char host[256], errstr[1024];
        broker_host(id, host, sizeof(host));
        if (kafka_kerberos_prepare_thread(sec->krb, sec->service_name, host, errstr,
                                          sizeof(errstr)) != 0) {
            kafka_security_record_error(sec, errstr);
        }
    }
    if (connect(sockfd, addr, (socklen_t)addrlen) == -1 && errno != EINPROGRESS) {
        return errno;
    }
    return 0;
}

/* ------------------------------------------------------------------------ */
/* OAUTHBEARER tokens                                                       */
/* ------------------------------------------------------------------------ */

static void refuse_token(rd_kafka_t *rk, kafka_security_t *sec, const char *msg)
{
    if (sec != NULL) {
        kafka_security_record_error(sec, msg);
    }
    rd_kafka_oauthbearer_set_token_failure(rk, msg);
}

static void refresh_oauth(rd_kafka_t *rk, kafka_security_t *sec)
{
    struct kafka_oauth_token tok;
    char errstr[1024];
    const char **ext;
    size_t next;

    if (kafka_oauth_fetch(sec->oauth, &tok, errstr, sizeof(errstr)) != 0) {
        refuse_token(rk, sec, errstr);
        return;
    }
    ext = kafka_oauth_extensions(sec->oauth, &next);
    if (rd_kafka_oauthbearer_set_token(rk, tok.value, tok.expires_ms, tok.principal, ext, next,
                                       errstr, sizeof(errstr)) != RD_KAFKA_RESP_ERR_NO_ERROR) {
        char msg[1200];
        snprintf(msg, sizeof(msg), "OAuth: librdkafka refused the token: %s", errstr);
        refuse_token(rk, sec, msg);
    } else {
        sec->host->log(CONNRT_LOG_DEBUG, sec->component_id,
                       "OAuth: new token for %s, valid %lld s", tok.principal,
                       (tok.expires_ms - kafka_wall_ms()) / 1000);
    }
    kafka_oauth_token_clear(&tok);
}

static void refresh_msk(rd_kafka_t *rk, kafka_security_t *sec)
{
    struct kafka_aws_explicit ex = {sec->msk->access_key_id, sec->msk->secret_access_key,
                                    sec->msk->session_token, sec->msk->profile};
    struct kafka_aws_credentials cred;
    char errstr[1024];
    char *token;
    time_t now = time(NULL);
    int lifetime_s = kafka_msk_token_lifetime();

    /* Read each time: rotated credentials (env, files) are picked up. */
    if (kafka_aws_credentials_load(&ex, &cred, errstr, sizeof(errstr)) != 0) {
        char msg[1100];
        snprintf(msg, sizeof(msg), "MSK IAM: %s", errstr);
        refuse_token(rk, sec, msg);
        return;
    }
    token = kafka_msk_iam_token(sec->msk->region, &cred, now, MSK_USER_AGENT, errstr,
                                sizeof(errstr));
    if (token == NULL) {
        refuse_token(rk, sec, errstr);
    } else if (rd_kafka_oauthbearer_set_token(rk, token,
                                              ((long long)now + lifetime_s) * 1000,
                                              cred.access_key_id, NULL, 0, errstr,
                                              sizeof(errstr)) != RD_KAFKA_RESP_ERR_NO_ERROR) {
        char msg[1200];
        snprintf(msg, sizeof(msg), "MSK IAM: librdkafka refused the token: %s", errstr);
        refuse_token(rk, sec, msg);
    } else {
        /* librdkafka asks again at 80% of the lifetime: each line is one
         * re-signing, with the signing time, so a refresh can be seen. */
        sec->host->log(CONNRT_LOG_DEBUG, sec->component_id,
                       "MSK IAM: new token signed at %lld, valid %d s", (long long)now,
                       lifetime_s);
    }
    if (token != NULL) {
        OPENSSL_cleanse(token, strlen(token));
        free(token);
    }
    kafka_aws_credentials_clear(&cred);
}

static void token_refresh_cb(rd_kafka_t *rk, const char *config, void *opaque)
{
    kafka_security_t *sec = kafka_security_find(opaque);

    (void)config;
    if (sec == NULL || (sec->oauth == NULL && sec->msk == NULL)) {
        refuse_token(rk, sec, "OAUTHBEARER: no token source for this client");
    } else if (sec->oauth != NULL) {
        refresh_oauth(rk, sec);
    } else {
        refresh_msk(rk, sec);
    }
}

void kafka_security_install_callbacks(rd_kafka_conf_t *conf, const kafka_security_t *sec)
{
    if (sec->protocol != NULL &&
        (strcmp(sec->protocol, "SSL") == 0 || strcmp(sec->protocol, "SASL_SSL") == 0)) {
        rd_kafka_conf_set_ssl_cert_verify_cb(conf, cert_verify_cb);
    }
    if (sec->krb != NULL) {
        rd_kafka_conf_set_connect_cb(conf, connect_cb);
    }
    if (sec->oauth != NULL || sec->msk != NULL) {
        rd_kafka_conf_set_oauthbearer_token_refresh_cb(conf, token_refresh_cb);
        /* Served by the background thread once the client is made
         * (kafka_security_client_started). */
        rd_kafka_conf_enable_sasl_queue(conf, 1);
    }
}
