/*
 * kerberos.c - in-process Kerberos tickets (MIT krb5) in private memory
 * caches, renewed before they expire.
 */
#include "clock.h"
#include "kerberos.h"

#include <errno.h>
#include <gssapi/gssapi_krb5.h>
#include <krb5.h>
#include <openssl/crypto.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

/* Renew at this share of a ticket's lifetime. */
#define RENEW_AT_PERCENT 80
/* Retry a failed renewal after this long at most. */
#define RETRY_MAX_MS 30000

struct kafka_kerberos {
    pthread_mutex_t lock; /* ctx, active, start, end */
    pthread_cond_t wake;
    pthread_t thread;
    int thread_started, stop;
    krb5_context ctx;
    char *principal, *keytab, *password, *keytab_origin;
    char names[2][64]; /* two caches: the one in use and the next one */
    int active;
    long long start, end; /* of the ticket in names[active], seconds */
    long long renew_at_ms;
    atomic_uint tickets;
    void (*log)(void *opaque, int is_error, const char *message);
    void *log_opaque;
};

static atomic_uint cache_counter;

static void logf_krb(kafka_kerberos_t *k, int is_error, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void logf_krb(kafka_kerberos_t *k, int is_error, const char *fmt, ...)
{
    char msg[1024];
    va_list ap;

    if (k->log == NULL) {
        return;
    }
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    k->log(k->log_opaque, is_error, msg);
}

/* ------------------------------------------------------------------------ */
/* Messages                                                                 */
/* ------------------------------------------------------------------------ */

static void krb_message(krb5_context ctx, krb5_error_code rc, char *out, size_t size)
{
    const char *m = krb5_get_error_message(ctx, rc);

    snprintf(out, size, "%s", m != NULL ? m : "unknown error");
    krb5_free_error_message(ctx, m);
}

static const char *realm_of(const char *principal)
{
    const char *at = strrchr(principal, '@');

    return at != NULL ? at + 1 : "";
}

/* A clear message for a failed AS exchange. */
static void explain_init_creds(const kafka_kerberos_t *k, krb5_context ctx, krb5_error_code rc,
                               char *errstr, size_t errstr_size)
{
    char why[512];
    const char *realm = realm_of(k->principal);

    krb_message(ctx, rc, why, sizeof(why));
    switch (rc) {
    case KRB5_REALM_UNKNOWN:
    case KRB5_REALM_CANT_RESOLVE:
        snprintf(errstr, errstr_size,
                 "Kerberos: realm '%s' (from client_principal) is unknown: no KDC for it in "
                 "krb5.conf (the container's resources/krb5.conf, KRB5_CONFIG or "
                 "/etc/krb5.conf) (%s)",
                 realm, why);
        break;
    case KRB5_KDC_UNREACH:
        snprintf(errstr, errstr_size,
                 "Kerberos: cannot reach a KDC of realm '%s' (check its kdc lines in krb5.conf "
                 "and the network) (%s)",
                 realm, why);
        break;
    case KRB5KDC_ERR_C_PRINCIPAL_UNKNOWN:
        snprintf(errstr, errstr_size,
                 "Kerberos: the KDC of realm '%s' does not know client_principal '%s'", realm,
                 k->principal);
        break;
    case KRB5KDC_ERR_PREAUTH_FAILED:
    case KRB5KRB_AP_ERR_BAD_INTEGRITY:
        snprintf(errstr, errstr_size,
                 "Kerberos: the KDC refused the %s for '%s' (wrong password, or a keytab "
                 "from an older key version) (%s)",
                 k->keytab != NULL ? "keytab key" : "password", k->principal, why);
        break;
    case KRB5KDC_ERR_CLIENT_REVOKED:
        snprintf(errstr, errstr_size, "Kerberos: principal '%s' is locked or disabled (%s)",
                 k->principal, why);
        break;
    default:
        snprintf(errstr, errstr_size, "Kerberos: cannot get a ticket for '%s': %s",
                 k->principal, why);
    }
}

/* ------------------------------------------------------------------------ */
/* Getting tickets                                                          */
/* ------------------------------------------------------------------------ */

/* A TGT for the principal into cache `name`, using `ctx` (owned by the
 * calling thread). *start, *end of the ticket. */
static int get_ticket(kafka_kerberos_t *k, krb5_context ctx, const char *name,
                      long long *start, long long *end, char *errstr, size_t errstr_size)
{
    krb5_principal client = NULL;
    krb5_get_init_creds_opt *opt = NULL;
    krb5_keytab kt = NULL;
    krb5_ccache cc = NULL;
    krb5_creds creds;
    krb5_error_code rc;
    char ktname[4200];

    memset(&creds, 0, sizeof(creds));
    rc = krb5_parse_name(ctx, k->principal, &client);
    if (rc == 0) {
        rc = krb5_get_init_creds_opt_alloc(ctx, &opt);
    }
    if (rc == 0 && k->keytab != NULL) {
        snprintf(ktname, sizeof(ktname), "FILE:%s", k->keytab);
        rc = krb5_kt_resolve(ctx, ktname, &kt);
        if (rc == 0) {
            rc = krb5_get_init_creds_keytab(ctx, &creds, client, kt, 0, NULL, opt);
        }
    } else if (rc == 0) {
        rc = krb5_get_init_creds_password(ctx, &creds, client, k->password, NULL, NULL, 0,
                                          NULL, opt);
    }
    if (rc != 0) {
        explain_init_creds(k, ctx, rc, errstr, errstr_size);
    } else if ((rc = krb5_cc_resolve(ctx, name, &cc)) != 0 ||
               (rc = krb5_cc_initialize(ctx, cc, client)) != 0 ||
               (rc = krb5_cc_store_cred(ctx, cc, &creds)) != 0) {
        char why[512];
        krb_message(ctx, rc, why, sizeof(why));
        snprintf(errstr, errstr_size, "Kerberos: cannot store the ticket in %s: %s", name, why);
    } else {
        *start = creds.times.starttime != 0 ? creds.times.starttime : creds.times.authtime;
        *end = creds.times.endtime;
    }
    if (cc != NULL) {
        krb5_cc_close(ctx, cc);
    }
    krb5_free_cred_contents(ctx, &creds);
    if (kt != NULL) {
        krb5_kt_close(ctx, kt);
    }
    if (opt != NULL) {
        krb5_get_init_creds_opt_free(ctx, opt);
    }
    krb5_free_principal(ctx, client);
    return rc == 0 ? 0 : -1;
}

/* When to get the next ticket: at 80% of this one's lifetime. */
static long long renew_time_ms(long long start, long long end)
{
    long long life_ms = (end - start) * 1000;

    return kafka_wall_ms() + (life_ms > 0 ? life_ms * RENEW_AT_PERCENT / 100 : 1000);
}

/* Caller holds the lock (or is alone). New ticket into the idle cache and
 * switch to it. */
static int renew_locked(kafka_kerberos_t *k, krb5_context ctx, char *errstr,
                        size_t errstr_size)
{
    long long start = 0, end = 0;
    int next = 1 - k->active;

    if (get_ticket(k, ctx, k->names[next], &start, &end, errstr, errstr_size) != 0) {
        return -1;
    }
    k->active = next;
    k->start = start;
    k->end = end;
    k->renew_at_ms = renew_time_ms(start, end);
    atomic_fetch_add(&k->tickets, 1);
    return 0;
}

/* ------------------------------------------------------------------------ */
/* The renewal thread                                                       */
/* ------------------------------------------------------------------------ */

static void *renewal_thread(void *arg)
{
    kafka_kerberos_t *k = arg;
    krb5_context ctx = NULL;

    /* A context of its own: the KDC exchange runs without the lock. */
    if (krb5_init_context(&ctx) != 0) {
        logf_krb(k, 1, "Kerberos: renewal thread cannot create a krb5 context");
        return NULL;
    }
    pthread_mutex_lock(&k->lock);
    while (!k->stop) {
        long long wait_until = k->renew_at_ms;
        if (kafka_wall_ms() < wait_until) {
            struct timespec ts = {(time_t)(wait_until / 1000), (long)(wait_until % 1000) *
                                                                   1000000L};
            pthread_cond_timedwait(&k->wake, &k->lock, &ts);
            continue;
        }
        int next = 1 - k->active;
        long long start = 0, end = 0, left;
        char errstr[1024], name[64];
        memcpy(name, k->names[next], sizeof(name));
        pthread_mutex_unlock(&k->lock);
        int rc = get_ticket(k, ctx, name, &start, &end, errstr, sizeof(errstr));
        pthread_mutex_lock(&k->lock);
        if (rc == 0 && !k->stop) {
            k->active = next;
            k->start = start;
            k->end = end;
            k->renew_at_ms = renew_time_ms(start, end);
            atomic_fetch_add(&k->tickets, 1);
            logf_krb(k, 0, "Kerberos: new ticket for %s, valid until %lld", k->principal, end);
        } else if (rc != 0) {
            left = (k->end * 1000 - kafka_wall_ms()) / 2;
            k->renew_at_ms = kafka_wall_ms() + (left > RETRY_MAX_MS ? RETRY_MAX_MS :
                                         left < 1000 ? 1000 : left);
            logf_krb(k, 1, "%s (will retry)", errstr);
        }
    }
    pthread_mutex_unlock(&k->lock);
    krb5_free_context(ctx);
    return NULL;
}

/* ------------------------------------------------------------------------ */
/* Checks before the first ticket                                           */
/* ------------------------------------------------------------------------ */

/* The principals a keytab holds, "a, b" (for the message). */
static void keytab_principals(krb5_context ctx, krb5_keytab kt, char *out, size_t size)
{
    krb5_kt_cursor cur;
    krb5_keytab_entry e;
    size_t n = 0;

    out[0] = '\0';
    if (krb5_kt_start_seq_get(ctx, kt, &cur) != 0) {
        return;
    }
    while (krb5_kt_next_entry(ctx, kt, &e, &cur) == 0) {
        char *name = NULL;
        if (krb5_unparse_name(ctx, e.principal, &name) == 0 && strstr(out, name) == NULL &&
            n + strlen(name) + 3 < size) {
            n += (size_t)snprintf(out + n, size - n, "%s%s", n > 0 ? ", " : "", name);
        }
        krb5_free_unparsed_name(ctx, name);
        krb5_free_keytab_entry_contents(ctx, &e);
    }
    krb5_kt_end_seq_get(ctx, kt, &cur);
}

static int check_keytab(kafka_kerberos_t *k, char *errstr, size_t errstr_size)
{
    krb5_principal client = NULL;
    krb5_keytab kt = NULL;
    krb5_keytab_entry entry;
    krb5_error_code rc;
    char ktname[4200], held[1024];
    struct stat st;

    if (stat(k->keytab, &st) != 0) {
        snprintf(errstr, errstr_size, "Kerberos: keytab %s%s not found (%s): put the keytab of "
                 "%s there, or set keytab or password",
                 k->keytab, k->keytab_origin, strerror(errno), k->principal);
        return -1;
    }
    snprintf(ktname, sizeof(ktname), "FILE:%s", k->keytab);
    rc = krb5_parse_name(k->ctx, k->principal, &client);
    if (rc == 0) {
        rc = krb5_kt_resolve(k->ctx, ktname, &kt);
    }
    if (rc == 0) {
        rc = krb5_kt_get_entry(k->ctx, kt, client, 0, 0, &entry);
        if (rc == 0) {
            krb5_free_keytab_entry_contents(k->ctx, &entry);
        }
    }
    if (rc == KRB5_KT_NOTFOUND) {
        keytab_principals(k->ctx, kt, held, sizeof(held));
        snprintf(errstr, errstr_size, "Kerberos: keytab %s holds no key for %s (it holds: %s)",
                 k->keytab, k->principal, held[0] ? held : "nothing");
    } else if (rc != 0) {
        char why[512];
        krb_message(k->ctx, rc, why, sizeof(why));
        snprintf(errstr, errstr_size, "Kerberos: cannot read keytab %s: %s", k->keytab, why);
    }
    if (kt != NULL) {
        krb5_kt_close(k->ctx, kt);
    }
    krb5_free_principal(k->ctx, client);
    return rc == 0 ? 0 : -1;
}

static char *dup_or_null(const char *s)
{
    return s != NULL ? strdup(s) : NULL;
}

kafka_kerberos_t *kafka_kerberos_new(const struct kafka_kerberos_config *cfg, char *errstr,
                                     size_t errstr_size)
{
    kafka_kerberos_t *k;
    unsigned id;

    if (cfg->principal == NULL || strchr(cfg->principal, '@') == NULL ||
        realm_of(cfg->principal)[0] == '\0') {
        snprintf(errstr, errstr_size,
                 "Kerberos: client_principal '%s' has no realm: write NAME@REALM",
                 cfg->principal ? cfg->principal : "");
        return NULL;
    }
    k = calloc(1, sizeof(*k));
    if (k == NULL) {
        snprintf(errstr, errstr_size, "out of memory");
        return NULL;
    }
    pthread_mutex_init(&k->lock, NULL);
    pthread_cond_init(&k->wake, NULL);
    k->principal = strdup(cfg->principal);
    k->keytab = dup_or_null(cfg->keytab);
    k->password = cfg->keytab == NULL ? dup_or_null(cfg->password) : NULL;
    k->keytab_origin = strdup(cfg->keytab_origin != NULL ? cfg->keytab_origin : "");
    k->log = cfg->log;
    k->log_opaque = cfg->log_opaque;
    id = atomic_fetch_add(&cache_counter, 1);
    snprintf(k->names[0], sizeof(k->names[0]), "MEMORY:connrt-%u-a", id);
    snprintf(k->names[1], sizeof(k->names[1]), "MEMORY:connrt-%u-b", id);
    k->active = 1; /* the first ticket goes to names[0] */
    if (k->principal == NULL || k->keytab_origin == NULL ||
        (k->keytab == NULL && k->password == NULL)) {
        snprintf(errstr, errstr_size, k->principal == NULL ? "out of memory" :
                 "Kerberos: no keytab and no password for the client principal");
        kafka_kerberos_destroy(k);
        return NULL;
    }
    if (krb5_init_context(&k->ctx) != 0) {
        snprintf(errstr, errstr_size, "Kerberos: cannot read the Kerberos configuration "
                 "(krb5.conf)");
        kafka_kerberos_destroy(k);
        return NULL;
    }
    if ((k->keytab != NULL && check_keytab(k, errstr, errstr_size) != 0) ||
        renew_locked(k, k->ctx, errstr, errstr_size) != 0) {
        kafka_kerberos_destroy(k);
        return NULL;
    }
    if (pthread_create(&k->thread, NULL, renewal_thread, k) != 0) {
        snprintf(errstr, errstr_size, "Kerberos: cannot start the renewal thread");
        kafka_kerberos_destroy(k);
        return NULL;
    }
    k->thread_started = 1;
    return k;
}

void kafka_kerberos_destroy(kafka_kerberos_t *k)
{
    if (k == NULL) {
        return;
    }
    if (k->thread_started) {
        pthread_mutex_lock(&k->lock);
        k->stop = 1;
        pthread_cond_signal(&k->wake);
        pthread_mutex_unlock(&k->lock);
        pthread_join(k->thread, NULL);
    }
    if (k->ctx != NULL) {
        /* Without a ticket no cache was ever made, and resolving a MEMORY:
         * name would create libkrb5's process-wide table of memory caches
         * just to destroy nothing (reported as a leak once the plugin, and
         * libkrb5 with it, is unloaded). */
        for (int i = 0; i < 2 && atomic_load(&k->tickets) > 0; i++) {
            krb5_ccache cc;
            if (krb5_cc_resolve(k->ctx, k->names[i], &cc) == 0) {
                krb5_cc_destroy(k->ctx, cc); /* fails when never used: fine */
            }
        }
        krb5_free_context(k->ctx);
    }
    if (k->password != NULL) {
        OPENSSL_cleanse(k->password, strlen(k->password));
        free(k->password);
    }
    free(k->principal);
    free(k->keytab);
    free(k->keytab_origin);
    pthread_cond_destroy(&k->wake);
    pthread_mutex_destroy(&k->lock);
    free(k);
}

/* ------------------------------------------------------------------------ */
/* On the broker thread                                                     */
/* ------------------------------------------------------------------------ */

static int check_service(kafka_kerberos_t *k, const char *service, const char *host,
                         char *errstr, size_t errstr_size)
{
    krb5_principal server = NULL, client = NULL;
    krb5_ccache cc = NULL;
    krb5_creds in, *out = NULL;
    krb5_error_code rc;

    memset(&in, 0, sizeof(in));
    rc = krb5_sname_to_principal(k->ctx, host, service, KRB5_NT_SRV_HST, &server);
    if (rc == 0) {
        rc = krb5_cc_resolve(k->ctx, k->names[k->active], &cc);
    }
    if (rc == 0) {
        rc = krb5_cc_get_principal(k->ctx, cc, &client);
    }
    if (rc == 0) {
        in.client = client;
        in.server = server;
        rc = krb5_get_credentials(k->ctx, 0, cc, &in, &out);
    }
    if (rc == KRB5KDC_ERR_S_PRINCIPAL_UNKNOWN) {
        snprintf(errstr, errstr_size,
                 "Kerberos: the KDC does not know the service principal %s/%s: check "
                 "kerberos_service_principal (the brokers' service name, usually 'kafka') and "
                 "that brokers are addressed by the host name in their principal",
                 service, host);
    } else if (rc != 0) {
        char why[512];
        krb_message(k->ctx, rc, why, sizeof(why));
        snprintf(errstr, errstr_size, "Kerberos: cannot get a ticket for service %s/%s: %s",
                 service, host, why);
    }
    krb5_free_creds(k->ctx, out);
    if (cc != NULL) {
        krb5_cc_close(k->ctx, cc);
    }
    krb5_free_principal(k->ctx, client);
    krb5_free_principal(k->ctx, server);
    return rc == 0 ? 0 : -1;
}

int kafka_kerberos_prepare_thread(kafka_kerberos_t *k, const char *service, const char *host,
                                  char *errstr, size_t errstr_size)
{
    OM_uint32 minor;
    int rc = 0;

    pthread_mutex_lock(&k->lock);
    /* The renewal thread is late (KDC down?): try now, the ticket is due. */
    if (kafka_wall_ms() / 1000 + 2 >= k->end) {
        rc = renew_locked(k, k->ctx, errstr, errstr_size);
    }
    if (gss_krb5_ccache_name(&minor, k->names[k->active], NULL) != GSS_S_COMPLETE && rc == 0) {
        snprintf(errstr, errstr_size, "Kerberos: cannot select the connection's ticket cache");
        rc = -1;
    }
    if (rc == 0 && service != NULL && host != NULL && host[0] != '\0') {
        rc = check_service(k, service, host, errstr, errstr_size);
    }
    pthread_mutex_unlock(&k->lock);
    return rc;
}

void kafka_kerberos_ccache(kafka_kerberos_t *k, char *out, size_t out_size)
{
    pthread_mutex_lock(&k->lock);
    snprintf(out, out_size, "%s", k->names[k->active]);
    pthread_mutex_unlock(&k->lock);
}

long long kafka_kerberos_expiry(kafka_kerberos_t *k)
{
    long long end;

    pthread_mutex_lock(&k->lock);
    end = k->end;
    pthread_mutex_unlock(&k->lock);
    return end;
}

unsigned kafka_kerberos_tickets(kafka_kerberos_t *k)
{
    return atomic_load(&k->tickets);
}
