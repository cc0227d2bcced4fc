/*
 * aws_credentials.c - AWS credentials from properties, environment and the
 * shared credentials/config files.
 */
#include "aws_credentials.h"

#include <ctype.h>
#include <openssl/crypto.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void wipe_free(char *s)
{
    if (s != NULL) {
        OPENSSL_cleanse(s, strlen(s));
        free(s);
    }
}

void kafka_aws_credentials_clear(struct kafka_aws_credentials *c)
{
    wipe_free(c->access_key_id);
    wipe_free(c->secret_access_key);
    wipe_free(c->session_token);
    c->access_key_id = c->secret_access_key = c->session_token = NULL;
}

static int nonempty(const char *s)
{
    return s != NULL && s[0] != '\0';
}

static int take(struct kafka_aws_credentials *out, const char *akid, const char *secret,
                const char *token, char *errstr, size_t errstr_size)
{
    out->access_key_id = strdup(akid);
    out->secret_access_key = strdup(secret);
    out->session_token = nonempty(token) ? strdup(token) : NULL;
    if (out->access_key_id == NULL || out->secret_access_key == NULL ||
        (nonempty(token) && out->session_token == NULL)) {
        kafka_aws_credentials_clear(out);
        snprintf(errstr, errstr_size, "out of memory");
        return -1;
    }
    return 0;
}

/* 1 taken, 0 not there, -1 error (half given). */
static int from_pair(struct kafka_aws_credentials *out, const char *akid, const char *secret,
                     const char *token, const char *akid_name, const char *secret_name,
                     char *errstr, size_t errstr_size)
{
    if (!nonempty(akid) && !nonempty(secret)) {
        return 0;
    }
    if (!nonempty(akid) || !nonempty(secret)) {
        snprintf(errstr, errstr_size, "%s is set but %s is not", nonempty(akid) ? akid_name :
                 secret_name, nonempty(akid) ? secret_name : akid_name);
        return -1;
    }
    return take(out, akid, secret, token, errstr, errstr_size) == 0 ? 1 : -1;
}

/* ------------------------------------------------------------------------ */
/* INI files                                                                */
/* ------------------------------------------------------------------------ */

static char *trim(char *s)
{
    char *e;

    while (isspace((unsigned char)*s)) {
        s++;
    }
    e = s + strlen(s);
    while (e > s && isspace((unsigned char)e[-1])) {
        *--e = '\0';
    }
    return s;
}

struct profile_values {
    char *akid, *secret, *token; /* owned */
    int found;                   /* the section exists */
};

static void set_value(char **slot, const char *v)
{
    wipe_free(*slot);
    *slot = strdup(v);
}

/* Read the keys of section `section` of INI file `path`. 0, or -1 when the
 * file cannot be opened. */
static int read_profile(const char *path, const char *section, struct profile_values *pv)
{
    FILE *f = fopen(path, "r");
    char line[4096];
    int in = 0;

    if (f == NULL) {
        return -1;
    }
    while (fgets(line, sizeof(line), f) != NULL) {
        char *s = trim(line), *eq;
        if (*s == '#' || *s == ';' || *s == '\0') {
            continue;
        }
        if (*s == '[') {
            char *end = strchr(s, ']');
            if (end != NULL) {
                *end = '\0';
                in = strcmp(trim(s + 1), section) == 0;
                pv->found |= in;
            }
            continue;
        }
        if (!in || (eq = strchr(s, '=')) == NULL) {
            continue;
        }
        *eq = '\0';
        char *key = trim(s), *value = trim(eq + 1);
        if (strcmp(key, "aws_access_key_id") == 0) {
            set_value(&pv->akid, value);
        } else if (strcmp(key, "aws_secret_access_key") == 0) {
            set_value(&pv->secret, value);
        } else if (strcmp(key, "aws_session_token") == 0) {
            set_value(&pv->token, value);
        }
    }
    OPENSSL_cleanse(line, sizeof(line));
    fclose(f);
    return 0;
}

static void profile_values_clear(struct profile_values *pv)
{
    wipe_free(pv->akid);
    wipe_free(pv->secret);
    wipe_free(pv->token);
    memset(pv, 0, sizeof(*pv));
}

static void default_path(const char *env, const char *file, char *out, size_t size)
{
    const char *v = getenv(env), *home = getenv("HOME");

    if (nonempty(v)) {
        snprintf(out, size, "%s", v);
    } else {
        snprintf(out, size, "%s/.aws/%s", nonempty(home) ? home : "", file);
    }
}

/* 1 taken, 0 not found, -1 error. */
static int from_files(struct kafka_aws_credentials *out, const char *profile, char *tried,
                      size_t tried_size, char *errstr, size_t errstr_size)
{
    char creds[4096], config[4096], section[600];
    struct profile_values pv = {NULL, NULL, NULL, 0};
    int rc = 0;

    default_path("AWS_SHARED_CREDENTIALS_FILE", "credentials", creds, sizeof(creds));
    default_path("AWS_CONFIG_FILE", "config", config, sizeof(config));
    read_profile(creds, profile, &pv);
    snprintf(out->source, sizeof(out->source), "shared credentials file %.400s (profile %.64s)",
             creds, profile);
    if (pv.akid == NULL && pv.secret == NULL) {
        /* The config file names profiles "[profile NAME]", except default. */
        profile_values_clear(&pv);
        snprintf(section, sizeof(section), "%s%s", strcmp(profile, "default") == 0 ? "" :
                 "profile ", profile);
        read_profile(config, section, &pv);
        snprintf(out->source, sizeof(out->source), "config file %.400s (profile %.64s)", config,
                 profile);
    }
    if (pv.akid != NULL || pv.secret != NULL) {
        rc = from_pair(out, pv.akid, pv.secret, pv.token, "aws_access_key_id",
                       "aws_secret_access_key", errstr, errstr_size);
        if (rc < 0) {
            size_t n = strlen(errstr);
            snprintf(errstr + n, errstr_size - n, " in profile '%s' of %s", profile,
                     out->source);
        }
    }
    snprintf(tried, tried_size, "profile '%s' in %s and %s", profile, creds, config);
    profile_values_clear(&pv);
    return rc;
}

int kafka_aws_credentials_load(const struct kafka_aws_explicit *ex,
                               struct kafka_aws_credentials *out, char *errstr,
                               size_t errstr_size)
{
    const char *profile = nonempty(ex->profile) ? ex->profile : getenv("AWS_PROFILE");
    char tried[9000];
    int rc;

    memset(out, 0, sizeof(*out));
    rc = from_pair(out, ex->access_key_id, ex->secret_access_key, ex->session_token,
                   "aws_access_key_id", "aws_secret_access_key", errstr, errstr_size);
    if (rc != 0) {
        snprintf(out->source, sizeof(out->source), "connection properties");
        return rc > 0 ? 0 : -1;
    }
    if (!nonempty(ex->profile)) {
        rc = from_pair(out, getenv("AWS_ACCESS_KEY_ID"), getenv("AWS_SECRET_ACCESS_KEY"),
                       getenv("AWS_SESSION_TOKEN"), "environment variable AWS_ACCESS_KEY_ID",
                       "environment variable AWS_SECRET_ACCESS_KEY", errstr, errstr_size);
        if (rc != 0) {
            snprintf(out->source, sizeof(out->source), "environment variables");
            return rc > 0 ? 0 : -1;
        }
    }
    rc = from_files(out, nonempty(profile) ? profile : "default", tried, sizeof(tried), errstr,
                    errstr_size);
    if (rc != 0) {
        return rc > 0 ? 0 : -1;
    }
    snprintf(errstr, errstr_size,
             "no AWS credentials found: tried %s%s (set aws_access_key_id and "
             "aws_secret_access_key, the AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY "
             "environment variables, or a profile)",
             nonempty(ex->profile) ? "" : "the connection properties, the environment, ",
             tried);
    return -1;
}
