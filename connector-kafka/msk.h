/*
 * msk.h - the Amazon MSK preset: the auth kind (iam, scram, tls, plaintext)
 * picks the listener port and the security settings; IAM logs in with an
 * AWS SigV4-presigned OAUTHBEARER token (what aws-msk-iam-sasl-signer and
 * the Java aws-msk-iam-auth library send).
 */
#ifndef CONNRT_KAFKA_MSK_H
#define CONNRT_KAFKA_MSK_H

#include <stddef.h>
#include <time.h>

#include "aws_credentials.h"

/* Token lifetime the signers use (X-Amz-Expires). */
#define KAFKA_MSK_TOKEN_LIFETIME_S 900

/* Lifetime of the tokens kafka_msk_iam_token signs from now on (both
 * X-Amz-Expires and the expiry given to librdkafka), KAFKA_MSK_TOKEN_
 * LIFETIME_S unless changed: tests shorten it to watch the refresh. */
void kafka_msk_set_token_lifetime(int seconds);
int kafka_msk_token_lifetime(void);

typedef enum kafka_msk_auth {
    KAFKA_MSK_IAM = 0,
    KAFKA_MSK_SCRAM,
    KAFKA_MSK_TLS,
    KAFKA_MSK_PLAINTEXT
} kafka_msk_auth_t;

/* One auth kind: its name, the brokers' port for it, librdkafka settings. */
struct kafka_msk_listener {
    const char *name;      /* "iam" */
    int port;              /* 9098 */
    const char *protocol;  /* "SASL_SSL" */
    const char *mechanism; /* "OAUTHBEARER"; NULL for none */
};

/* Listener of `auth`, or NULL when `auth` is not a known name. Static. */
const struct kafka_msk_listener *kafka_msk_listener(const char *auth);

/*
 * Brokers "b-1.x.kafka.us-east-1.amazonaws.com, b-2..." with `port` added to
 * each host that has none. Returns a new comma-separated list owned by the
 * caller (free()), or NULL with errstr.
 */
char *kafka_msk_bootstrap(const char *servers, int port, char *errstr, size_t errstr_size);

/* The region in an MSK broker name (...kafka.REGION.amazonaws.com[:port])
 * of the first broker of `servers` into `out`. Returns 0, or -1 when none. */
int kafka_msk_region_from_bootstrap(const char *servers, char *out, size_t out_size);

/*
 * The MSK IAM token for `region` signed with `cred` at `now`:
 * base64url (no padding) of the presigned URL of
 * GET https://kafka.REGION.amazonaws.com/?Action=kafka-cluster:Connect,
 * valid kafka_msk_token_lifetime() seconds, followed by "&User-Agent=" and
 * `user_agent`. Returns a new string owned by the caller (free()), or NULL
 * with errstr.
 */
char *kafka_msk_iam_token(const char *region, const struct kafka_aws_credentials *cred,
                          time_t now, const char *user_agent, char *errstr, size_t errstr_size);

#endif
