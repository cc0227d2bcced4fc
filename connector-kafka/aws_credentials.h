/*
 * aws_credentials.h - AWS credentials from the standard sources, in the
 * order the AWS SDKs use: connection properties, environment variables
 * (AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN), then the
 * shared credentials file (AWS_SHARED_CREDENTIALS_FILE, default
 * ~/.aws/credentials) and config file (AWS_CONFIG_FILE, default
 * ~/.aws/config) for the profile (aws_profile, else AWS_PROFILE, else
 * "default"). An explicit aws_profile skips the environment, as botocore
 * does. Instance metadata and SSO are not consulted.
 */
#ifndef CONNRT_KAFKA_AWS_CREDENTIALS_H
#define CONNRT_KAFKA_AWS_CREDENTIALS_H

#include <stddef.h>

struct kafka_aws_credentials {
    char *access_key_id;     /* owned */
    char *secret_access_key; /* owned, secret */
    char *session_token;     /* owned, secret; NULL when none */
    char source[512];        /* where they came from, for messages (no secret) */
};

/* Explicit values from connection properties; any may be NULL. Borrowed. */
struct kafka_aws_explicit {
    const char *access_key_id;
    const char *secret_access_key;
    const char *session_token;
    const char *profile;
};

/*
 * Fill *out from the first source that has credentials. Returns 0, or -1
 * with errstr saying which sources were tried (never a secret). On success
 * the caller owns the strings: kafka_aws_credentials_clear.
 */
int kafka_aws_credentials_load(const struct kafka_aws_explicit *explicit_values,
                               struct kafka_aws_credentials *out, char *errstr,
                               size_t errstr_size);

/* Wipe and free the strings; *c may be zeroed or already cleared. */
void kafka_aws_credentials_clear(struct kafka_aws_credentials *c);

#endif
