/*
 * security_internal.h - the connection security object shared by
 * security.c (configuration), security_callbacks.c (librdkafka callbacks)
 * and connection_probe.c (test-connection). Not for other files.
 */
#ifndef CONNRT_KAFKA_SECURITY_INTERNAL_H
#define CONNRT_KAFKA_SECURITY_INTERNAL_H

#include <pthread.h>

#include "aws_credentials.h"
#include "kerberos.h"
#include "oauth.h"
#include "security.h"

#define KAFKA_SECURITY_MAX_APPLIED 48

/* One librdkafka setting applied, for describe. */
struct kafka_applied {
    char *name;     /* owned */
    char *value;    /* owned; NULL when secret */
    const char *why; /* static; may be NULL */
};

/* Where MSK IAM gets its credentials at each token refresh. */
struct kafka_msk_iam {
    char region[64];
    const char *access_key_id, *secret_access_key, *session_token, *profile; /* settings */
};

struct kafka_security {
    struct kafka_security *next; /* registry */
    const struct connrt_host *host;
    const connrt_settings_t *settings;
    char *component_id;
    char *protocol, *mechanism, *service_name, *bootstrap;
    long long max_message_bytes;
    int verify_ca_given; /* ssl_ca set (else the system's CAs) */
    kafka_kerberos_t *krb;
    kafka_oauth_t *oauth;
    struct kafka_msk_iam *msk;
    struct kafka_applied applied[KAFKA_SECURITY_MAX_APPLIED];
    size_t napplied;
    pthread_mutex_t lock; /* last_error */
    char last_error[1024];
};

/* Install the librdkafka callbacks `sec` needs on `conf`. */
void kafka_security_install_callbacks(rd_kafka_conf_t *conf, const kafka_security_t *sec);

/* Registry: callbacks find the connection by the client's component id. */
void kafka_security_register(kafka_security_t *sec);
void kafka_security_unregister(kafka_security_t *sec);
/* The connection of a client whose opaque is `opaque`: the one bound to
 * that opaque, else the one named by the component id of its log target
 * (its first member). NULL when none. Valid while the client lives. */
kafka_security_t *kafka_security_find(const void *opaque);

/* Forget the last login problem (a new test starts). */
void kafka_security_clear_error(kafka_security_t *sec);

/* Remember (and log) a login problem met in a callback. */
void kafka_security_record_error(kafka_security_t *sec, const char *message);

#endif
