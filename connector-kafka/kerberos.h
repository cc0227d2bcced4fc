/*
 * kerberos.h - Kerberos tickets for SASL/GSSAPI, obtained in process with
 * the MIT krb5 API (no kinit binary), in a private in-memory credential
 * cache per connection.
 *
 * librdkafka's GSSAPI (Cyrus SASL) asks GSS-API for the default credential
 * cache. MIT's gss_krb5_ccache_name() sets that per thread, so the Kafka
 * client's broker thread is pointed at this connection's cache right before
 * it connects (kafka_kerberos_prepare_thread from librdkafka's connect
 * callback): two connections with different principals in one process do
 * not see each other's tickets. A background thread gets a new ticket at
 * 80% of the old one's lifetime, into the cache not in use, and switches.
 */
#ifndef CONNRT_KAFKA_KERBEROS_H
#define CONNRT_KAFKA_KERBEROS_H

#include <stddef.h>

typedef struct kafka_kerberos kafka_kerberos_t;

/* Borrowed for the call to kafka_kerberos_new only. */
struct kafka_kerberos_config {
    const char *principal;  /* client principal, NAME@REALM */
    const char *keytab;     /* keytab file, or NULL with a password */
    const char *password;   /* or NULL with a keytab */
    const char *keytab_origin; /* how the keytab was chosen, for messages */
    /* Log sink for renewals and failures in the background thread; may be
     * NULL. `message` is borrowed for the call. */
    void (*log)(void *opaque, int is_error, const char *message);
    void *log_opaque;
};

/*
 * Check the keytab (exists, holds the principal), get a first ticket (so a
 * wrong password, unknown realm or unreachable KDC is reported now) and
 * start the renewal thread. Uses KRB5_CONFIG (or /etc/krb5.conf) for the
 * realms. Returns a new object owned by the caller (kafka_kerberos_destroy)
 * or NULL with errstr.
 */
kafka_kerberos_t *kafka_kerberos_new(const struct kafka_kerberos_config *cfg, char *errstr,
                                     size_t errstr_size);
/* Stops the renewal thread and destroys the caches. NULL is a no-op. Every
 * client using the connection must be destroyed first. */
void kafka_kerberos_destroy(kafka_kerberos_t *krb);

/*
 * Called on a Kafka client's broker thread before it connects to `host`:
 * renews a ticket that is about to expire, points this thread's GSS-API at
 * the connection's cache and, with `service` set, gets the service ticket
 * SERVICE/HOST now so a wrong kerberos_service_principal is reported
 * clearly. Returns 0, or -1 with errstr (the connection will then fail in
 * GSSAPI with a vaguer message).
 */
int kafka_kerberos_prepare_thread(kafka_kerberos_t *krb, const char *service, const char *host,
                                  char *errstr, size_t errstr_size);

/* The cache currently in use, e.g. "MEMORY:connrt-3-a". Copied into out. */
void kafka_kerberos_ccache(kafka_kerberos_t *krb, char *out, size_t out_size);
/* End time of the current ticket (seconds since the epoch). */
long long kafka_kerberos_expiry(kafka_kerberos_t *krb);
/* Tickets obtained so far (1 after new; tests watch it grow). */
unsigned kafka_kerberos_tickets(kafka_kerberos_t *krb);

#endif
