/*
 * security.c - a connection's security settings to librdkafka: protocol,
 * TLS material, SASL mechanisms, Kerberos, OAuth and the cloud presets.
 */
#include "security_internal.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "event_hubs.h"
#include "msk.h"
#include "pem_material.h"

#define DEFAULT_SERVICE_NAME "kafka"
#define OAUTH_ATTEMPTS 4
#define OAUTH_BACKOFF_MS 250
#define OAUTH_TIMEOUT_MS 10000

/* What the settings (and a preset) ask for, before it is applied. */
struct plan {
    const char *preset;
    const char *protocol, *mechanism;
    const char *username, *password; /* borrowed from settings or static */
    char *bootstrap;                 /* owned; NULL: as given */
    int oauth;                       /* OAUTHBEARER through a token endpoint */
    char oauth_endpoint[512], oauth_scope[512];
    int oauth_post;
    int msk_iam;
    char region[64];
    const struct kafka_preset_setting *preset_settings;
    long long max_message_bytes;
};

/* ------------------------------------------------------------------------ */
/* Small helpers                                                            */
/* ------------------------------------------------------------------------ */

static const char *get(const kafka_security_t *sec, const char *name)
{
    const char *v = sec->host->settings_get(sec->settings, name);

    return v != NULL && v[0] != '\0' ? v : NULL;
}

static int fail(char *errstr, size_t errstr_size, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int fail(char *errstr, size_t errstr_size, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(errstr, errstr_size, fmt, ap);
    va_end(ap);
    return -1;
}

/* Remember name = value (NULL: a secret) for describe, replacing an earlier
 * line of that name. Returns -1 when there is no memory for it; then no
 * line has a NULL name (the lookups compare names). */
static int remember(kafka_security_t *sec, const char *name, const char *value, const char *why)
{
    char *copy = value != NULL ? strdup(value) : NULL;

    if (value != NULL && copy == NULL) {
        return -1;
    }
    for (size_t i = 0; i < sec->napplied; i++) {
        if (strcmp(sec->applied[i].name, name) == 0) {
            free(sec->applied[i].value);
            sec->applied[i].value = copy;
            sec->applied[i].why = why;
            return 0;
        }
    }
    if (sec->napplied < KAFKA_SECURITY_MAX_APPLIED) {
        char *name_copy = strdup(name);
        if (name_copy == NULL) {
            free(copy);
            return -1;
        }
        sec->applied[sec->napplied++] = (struct kafka_applied){name_copy, copy, why};
        return 0;
    }
    free(copy);
    return 0;
}

/* rd_kafka_conf_set, remembered for describe. A secret value is neither
 * remembered nor echoed in errors. */
static int apply(kafka_security_t *sec, rd_kafka_conf_t *conf, const char *name,
                 const char *value, int secret, const char *why, char *errstr,
                 size_t errstr_size)
{
    char msg[512];

    if (rd_kafka_conf_set(conf, name, value, msg, sizeof(msg)) != RD_KAFKA_CONF_OK) {
        return fail(errstr, errstr_size, "librdkafka property '%s'%s%s%s: %s", name,
                    secret ? "" : "='", secret ? "" : value, secret ? "" : "'",
                    secret ? "invalid value" : msg);
    }
    if (remember(sec, name, secret ? NULL : value, why) != 0) {
        return fail(errstr, errstr_size, "out of memory");
    }
    return 0;
}

/* Something connrt does itself (no librdkafka property), for describe: a
 * line describe leaves out when there is no memory for it. */
static void note(kafka_security_t *sec, const char *what, const char *value, const char *why)
{
    (void)remember(sec, what, value, why);
}

static int is_tls(const char *protocol)
{
    return strcmp(protocol, "SSL") == 0 || strcmp(protocol, "SASL_SSL") == 0;
}

static int is_sasl(const char *protocol)
{
    return strncmp(protocol, "SASL_", 5) == 0;
}

/* ------------------------------------------------------------------------ */
/* Presets                                                                  */
/* ------------------------------------------------------------------------ */

/* bootstrap_servers as given, unless absent; then HOST:PORT. Owned. */
static char *preset_bootstrap(const kafka_security_t *sec, const char *host, int port)
{
    const char *given = get(sec, "bootstrap_servers");
    char buf[600];

    if (given != NULL) {
        return kafka_msk_bootstrap(given, port, buf, sizeof(buf));
    }
    snprintf(buf, sizeof(buf), "%s:%d", host, port);
    return strdup(buf);
}

static int plan_event_hubs(const kafka_security_t *sec, struct plan *p, char *errstr,
                           size_t errstr_size)
{
    const char *cs = get(sec, "event_hubs_connection_string");
    char host[256];

    p->protocol = "SASL_SSL";
    p->preset_settings = kafka_event_hubs_settings;
    p->max_message_bytes = KAFKA_EVENT_HUBS_MAX_MESSAGE_BYTES;
    if (cs != NULL) {
        if (kafka_event_hubs_parse(cs, host, sizeof(host), errstr, errstr_size) != 0) {
            return -1;
        }
        p->mechanism = "PLAIN";
        p->username = "$ConnectionString"; /* Event Hubs' fixed user name */
        p->password = cs;
    } else {
        const char *ns = get(sec, "event_hubs_namespace"), *tenant = get(sec, "azure_tenant_id");
        const char *endpoint = get(sec, "oauth_token_endpoint");
        if (ns == NULL || (tenant == NULL && endpoint == NULL)) {
            return fail(errstr, errstr_size,
                        "preset=event_hubs needs event_hubs_connection_string, or "
                        "event_hubs_namespace with azure_tenant_id, oauth_client_id and "
                        "oauth_client_secret (Azure AD service principal)");
        }
        if (kafka_event_hubs_namespace_host(ns, host, sizeof(host), errstr, errstr_size) != 0) {
            return -1;
        }
        p->mechanism = "OAUTHBEARER";
        p->oauth = 1;
        p->oauth_post = 1; /* what Azure AD's own libraries send */
        if (endpoint != NULL) {
            snprintf(p->oauth_endpoint, sizeof(p->oauth_endpoint), "%s", endpoint);
        } else {
            snprintf(p->oauth_endpoint, sizeof(p->oauth_endpoint),
                     "https://login.microsoftonline.com/%s/oauth2/v2.0/token", tenant);
        }
        snprintf(p->oauth_scope, sizeof(p->oauth_scope), "https://%s/.default", host);
        if (get(sec, "oauth_scopes") != NULL) {
            snprintf(p->oauth_scope, sizeof(p->oauth_scope), "%s", get(sec, "oauth_scopes"));
        }
    }
    p->bootstrap = preset_bootstrap(sec, host, KAFKA_EVENT_HUBS_PORT);
    return p->bootstrap != NULL ? 0 : fail(errstr, errstr_size, "out of memory");
}

static int plan_msk(const kafka_security_t *sec, struct plan *p, char *errstr,
                    size_t errstr_size)
{
    const char *auth = get(sec, "msk_auth"), *servers = get(sec, "bootstrap_servers");
    const struct kafka_msk_listener *l = kafka_msk_listener(auth);

    if (l == NULL) {
        return fail(errstr, errstr_size,
                    "preset=msk needs msk_auth (iam, scram, tls or plaintext)");
    }
    if (servers == NULL) {
        return fail(errstr, errstr_size,
                    "preset=msk needs bootstrap_servers (the cluster's broker host names)");
    }
    p->protocol = l->protocol;
    p->mechanism = l->mechanism;
    p->bootstrap = kafka_msk_bootstrap(servers, l->port, errstr, errstr_size);
    if (p->bootstrap == NULL) {
        return -1;
    }
    if (strcmp(l->name, "scram") == 0) {
        p->username = get(sec, "username");
        p->password = get(sec, "password");
    } else if (strcmp(l->name, "iam") == 0) {
        p->msk_iam = 1;
        if (get(sec, "aws_region") != NULL) {
            snprintf(p->region, sizeof(p->region), "%s", get(sec, "aws_region"));
        } else if (kafka_msk_region_from_bootstrap(servers, p->region, sizeof(p->region)) != 0) {
            return fail(errstr, errstr_size,
                        "preset=msk with msk_auth=iam needs aws_region (it is not in the "
                        "broker names)");
        }
    }
    return 0;
}

static int plan_plain(const kafka_security_t *sec, struct plan *p, char *errstr,
                      size_t errstr_size)
{
    p->protocol = get(sec, "security_protocol");
    p->mechanism = get(sec, "sasl_mechanism");
    p->username = get(sec, "username");
    p->password = get(sec, "password");
    if (p->protocol == NULL) {
        p->protocol = "PLAINTEXT";
    }
    if (p->mechanism != NULL && strcmp(p->mechanism, "OAUTHBEARER") == 0) {
        p->oauth = 1;
        p->oauth_post = get(sec, "oauth_client_auth") != NULL &&
                        strcmp(get(sec, "oauth_client_auth"), "post") == 0;
        if (get(sec, "oauth_token_endpoint") == NULL) {
            return fail(errstr, errstr_size,
                        "sasl_mechanism=OAUTHBEARER needs oauth_token_endpoint, "
                        "oauth_client_id and oauth_client_secret");
        }
        snprintf(p->oauth_endpoint, sizeof(p->oauth_endpoint), "%s",
                 get(sec, "oauth_token_endpoint"));
        if (get(sec, "oauth_scopes") != NULL) {
            snprintf(p->oauth_scope, sizeof(p->oauth_scope), "%s", get(sec, "oauth_scopes"));
        }
    }
    return 0;
}

/* Settings that only make sense with another protocol are refused: a
 * silently ignored ssl_ca or password is how secure setups end up not. */
static int check_plan(const kafka_security_t *sec, const struct plan *p, char *errstr,
                      size_t errstr_size)
{
    static const char *const tls_props[] = {"ssl_ca", "ssl_certificate", "ssl_key",
                                            "ssl_key_password", NULL};
    const char *servers = get(sec, "bootstrap_servers");

    if (servers != NULL && strcmp(servers, "embedded") == 0 &&
        strcmp(p->protocol, "PLAINTEXT") != 0) {
        return fail(errstr, errstr_size,
                    "bootstrap_servers=embedded: the embedded cluster has no TLS or SASL; use "
                    "security_protocol=PLAINTEXT and no preset");
    }
    if (is_sasl(p->protocol) && p->mechanism == NULL) {
        return fail(errstr, errstr_size,
                    "security_protocol=%s needs sasl_mechanism (PLAIN, SCRAM-SHA-256, "
                    "SCRAM-SHA-512, GSSAPI or OAUTHBEARER)",
                    p->protocol);
    }
    if (!is_sasl(p->protocol) && p->mechanism != NULL) {
        return fail(errstr, errstr_size,
                    "sasl_mechanism=%s is set but security_protocol=%s does not use SASL (use "
                    "SASL_SSL or SASL_PLAINTEXT)",
                    p->mechanism, p->protocol);
    }
    for (size_t i = 0; !is_tls(p->protocol) && tls_props[i] != NULL; i++) {
        if (get(sec, tls_props[i]) != NULL) {
            return fail(errstr, errstr_size,
                        "property '%s' is set but security_protocol=%s does not use TLS (use "
                        "SSL or SASL_SSL)",
                        tls_props[i], p->protocol);
        }
    }
    if ((get(sec, "ssl_certificate") == NULL) != (get(sec, "ssl_key") == NULL)) {
        return fail(errstr, errstr_size,
                    "mutual TLS needs both ssl_certificate and ssl_key (only %s is set)",
                    get(sec, "ssl_key") == NULL ? "ssl_certificate" : "ssl_key");
    }
    if (p->mechanism != NULL &&
        (strcmp(p->mechanism, "PLAIN") == 0 || strncmp(p->mechanism, "SCRAM", 5) == 0) &&
        (p->username == NULL || p->password == NULL)) {
        return fail(errstr, errstr_size, "sasl_mechanism=%s needs username and password",
                    p->mechanism);
    }
    return 0;
}

/* ------------------------------------------------------------------------ */
/* Applying                                                                 */
/* ------------------------------------------------------------------------ */

/* A PEM property to an ssl.*.location; `dir` made on first inline use. */
static int apply_pem(kafka_security_t *sec, rd_kafka_conf_t *conf, const char *prop,
                     const char *rdkafka_name, kafka_pem_kind_t kind, const char *container_dir,
                     char **dir, char *errstr, size_t errstr_size)
{
    const char *value = get(sec, prop);
    char *path;
    int rc;

    if (value == NULL) {
        return 0;
    }
    if (strstr(value, "-----BEGIN") != NULL && *dir == NULL &&
        (*dir = kafka_pem_dir(container_dir, errstr, errstr_size)) == NULL) {
        return -1;
    }
    path = kafka_pem_location(prop, value, kind, strcmp(prop, "ssl_certificate") == 0,
                              get(sec, "ssl_key_password"), container_dir, *dir, errstr,
                              errstr_size);
    if (path == NULL) {
        return -1;
    }
    rc = apply(sec, conf, rdkafka_name, path, 0, NULL, errstr, errstr_size);
    free(path);
    return rc;
}

static int apply_tls(kafka_security_t *sec, rd_kafka_conf_t *conf, const char *container_dir,
                     char *errstr, size_t errstr_size)
{
    const char *ident = get(sec, "ssl_endpoint_identification");
    char *dir = NULL;
    int rc = 0;

    rc |= apply_pem(sec, conf, "ssl_ca", "ssl.ca.location", KAFKA_PEM_CERTIFICATES,
                    container_dir, &dir, errstr, errstr_size);
    rc = rc != 0 ? rc : apply_pem(sec, conf, "ssl_certificate", "ssl.certificate.location",
                                  KAFKA_PEM_CERTIFICATES, container_dir, &dir, errstr,
                                  errstr_size);
    rc = rc != 0 ? rc : apply_pem(sec, conf, "ssl_key", "ssl.key.location",
                                  KAFKA_PEM_PRIVATE_KEY, container_dir, &dir, errstr,
                                  errstr_size);
    free(dir);
    if (rc != 0) {
        return -1;
    }
    if (get(sec, "ssl_certificate") != NULL) {
        char cert[4200], key[4200];
        size_t n = sizeof(cert);
        if (rd_kafka_conf_get(conf, "ssl.certificate.location", cert, &n) != RD_KAFKA_CONF_OK ||
            (n = sizeof(key), rd_kafka_conf_get(conf, "ssl.key.location", key, &n)) !=
                RD_KAFKA_CONF_OK ||
            kafka_pem_check_pair(cert, key, get(sec, "ssl_key_password"), errstr,
                                 errstr_size) != 0) {
            return -1;
        }
    }
    if (get(sec, "ssl_key_password") != NULL &&
        apply(sec, conf, "ssl.key.password", get(sec, "ssl_key_password"), 1, NULL, errstr,
              errstr_size) != 0) {
        return -1;
    }
    sec->verify_ca_given = get(sec, "ssl_ca") != NULL;
    return apply(sec, conf, "ssl.endpoint.identification.algorithm",
                 ident != NULL && strcmp(ident, "none") == 0 ? "none" : "https", 0,
                 ident != NULL && strcmp(ident, "none") == 0
                     ? "broker host names are NOT checked against their certificates"
                     : "broker host names are checked against their certificates",
                 errstr, errstr_size);
}

static void kerberos_log(void *opaque, int is_error, const char *message)
{
    kafka_security_t *sec = opaque;

    if (is_error) {
        kafka_security_record_error(sec, message);
    } else {
        sec->host->log(CONNRT_LOG_INFO, sec->component_id, "%s", message);
    }
}

/* resources/krb5.conf of the container, when there is one. */
static void use_container_krb5_conf(kafka_security_t *sec, const char *container_dir)
{
    char path[4200];
    struct stat st;
    const char *current = getenv("KRB5_CONFIG");

    if (container_dir == NULL) {
        return;
    }
    snprintf(path, sizeof(path), "%s/resources/krb5.conf", container_dir);
    if (stat(path, &st) != 0 || (current != NULL && strcmp(current, path) == 0)) {
        return;
    }
    /* Process-wide: GSS-API reads it on librdkafka's threads too. One
     * container per process, so one krb5.conf. */
    setenv("KRB5_CONFIG", path, 1);
    sec->host->log(CONNRT_LOG_INFO, sec->component_id, "Kerberos configuration: %s", path);
}

static int apply_kerberos(kafka_security_t *sec, rd_kafka_conf_t *conf,
                          const char *container_dir, char *errstr, size_t errstr_size)
{
    const char *principal = get(sec, "client_principal");
    const char *keytab = get(sec, "keytab"), *password = get(sec, "password");
    const char *service = get(sec, "kerberos_service_principal");
    struct kafka_kerberos_config kc = {principal, NULL, NULL, "", kerberos_log, sec};
    char path[4200];

    if (principal == NULL) {
        return fail(errstr, errstr_size, "sasl_mechanism=GSSAPI needs client_principal");
    }
    if (strchr(principal, '@') == NULL) {
        return fail(errstr, errstr_size,
                    "client_principal '%s' has no realm: write NAME@REALM", principal);
    }
    if (keytab != NULL) {
        if (keytab[0] != '/' && container_dir != NULL) {
            snprintf(path, sizeof(path), "%s/%s", container_dir, keytab);
        } else {
            snprintf(path, sizeof(path), "%s", keytab);
        }
        kc.keytab = path;
        kc.keytab_origin = " (property keytab)";
    } else if (password != NULL) {
        kc.password = password;
    } else if (container_dir != NULL) {
        snprintf(path, sizeof(path), "%s/resources/%s.keytab", container_dir,
                 strrchr(principal, '@') + 1);
        kc.keytab = path;
        kc.keytab_origin = " (the container's resources/REALM.keytab)";
    } else {
        return fail(errstr, errstr_size,
                    "sasl_mechanism=GSSAPI needs a keytab: the property keytab, a password, or "
                    "resources/%s.keytab in the container", strrchr(principal, '@') + 1);
    }
    use_container_krb5_conf(sec, container_dir);
    sec->service_name = strdup(service != NULL ? service : DEFAULT_SERVICE_NAME);
    if (sec->service_name == NULL) {
        return fail(errstr, errstr_size, "out of memory");
    }
    sec->krb = kafka_kerberos_new(&kc, errstr, errstr_size);
    if (sec->krb == NULL) {
        return -1;
    }
    note(sec, "(connrt) kerberos keytab", kc.keytab != NULL ? kc.keytab : "(password)",
         "tickets from the krb5 API into a private memory cache, renewed at 80%");
    if (apply(sec, conf, "sasl.kerberos.service.name", sec->service_name, 0, NULL, errstr,
              errstr_size) != 0 ||
        apply(sec, conf, "sasl.kerberos.principal", principal, 0, NULL, errstr,
              errstr_size) != 0) {
        return -1;
    }
    return apply(sec, conf, "sasl.kerberos.min.time.before.relogin", "0", 0,
                 "connrt gets and renews tickets itself (krb5 API): kinit is never run",
                 errstr, errstr_size);
}

static int apply_oauth(kafka_security_t *sec, const struct plan *p, const char *container_dir,
                       char *errstr, size_t errstr_size)
{
    struct kafka_oauth_config oc = {
        .token_endpoint = p->oauth_endpoint,
        .client_id = get(sec, "oauth_client_id"),
        .client_secret = get(sec, "oauth_client_secret"),
        .scopes = p->oauth_scope[0] ? p->oauth_scope : NULL,
        .extensions = get(sec, "oauth_sasl_extensions"),
        .client_auth_post = p->oauth_post,
        .attempts = OAUTH_ATTEMPTS,
        .backoff_ms = OAUTH_BACKOFF_MS,
        .timeout_ms = OAUTH_TIMEOUT_MS,
    };
    char *ca = NULL, *dir = NULL;
    const char *ca_value = get(sec, "oauth_ssl_ca");

    if (ca_value != NULL) {
        if (strstr(ca_value, "-----BEGIN") != NULL &&
            (dir = kafka_pem_dir(container_dir, errstr, errstr_size)) == NULL) {
            return -1;
        }
        ca = kafka_pem_location("oauth_ssl_ca", ca_value, KAFKA_PEM_CERTIFICATES, 0, NULL,
                                container_dir, dir, errstr, errstr_size);
        free(dir);
        if (ca == NULL) {
            return -1;
        }
        oc.ca_path = ca;
    }
    sec->oauth = kafka_oauth_new(&oc, errstr, errstr_size);
    free(ca);
    if (sec->oauth == NULL) {
        return -1;
    }
    note(sec, "(connrt) oauth token endpoint", p->oauth_endpoint,
         "client credentials grant, fetched with libcurl; refreshed at 80% of the lifetime");
    note(sec, "(connrt) oauth client id", oc.client_id, p->oauth_post ? "client_secret_post"
                                                                       : "client_secret_basic");
    if (oc.scopes != NULL) {
        note(sec, "(connrt) oauth scope", oc.scopes, NULL);
    }
    return 0;
}

static int apply_msk_iam(kafka_security_t *sec, const struct plan *p, char *errstr,
                         size_t errstr_size)
{
    struct kafka_aws_credentials cred;
    struct kafka_aws_explicit ex;

    sec->msk = calloc(1, sizeof(*sec->msk));
    if (sec->msk == NULL) {
        return fail(errstr, errstr_size, "out of memory");
    }
    snprintf(sec->msk->region, sizeof(sec->msk->region), "%s", p->region);
    sec->msk->access_key_id = get(sec, "aws_access_key_id");
    sec->msk->secret_access_key = get(sec, "aws_secret_access_key");
    sec->msk->session_token = get(sec, "aws_session_token");
    sec->msk->profile = get(sec, "aws_profile");
    ex = (struct kafka_aws_explicit){sec->msk->access_key_id, sec->msk->secret_access_key,
                                     sec->msk->session_token, sec->msk->profile};
    /* Now, so that missing credentials are reported when the connection
     * opens; they are read again at each token refresh (rotation). */
    if (kafka_aws_credentials_load(&ex, &cred, errstr, errstr_size) != 0) {
        return -1;
    }
    sec->host->log(CONNRT_LOG_INFO, sec->component_id,
                   "MSK IAM: AWS credentials from %s, region %s", cred.source, p->region);
    note(sec, "(connrt) msk iam region", p->region,
         "SigV4-presigned kafka-cluster:Connect token, 900 s, re-signed at 80%");
    note(sec, "(connrt) aws credentials", cred.source, "read again at each token refresh");
    kafka_aws_credentials_clear(&cred);
    return 0;
}

static int apply_sasl(kafka_security_t *sec, rd_kafka_conf_t *conf, const struct plan *p,
                      const char *container_dir, char *errstr, size_t errstr_size)
{
    if (apply(sec, conf, "sasl.mechanisms", p->mechanism, 0, NULL, errstr, errstr_size) != 0) {
        return -1;
    }
    if (strcmp(p->mechanism, "GSSAPI") == 0) {
        return apply_kerberos(sec, conf, container_dir, errstr, errstr_size);
    }
    if (strcmp(p->mechanism, "OAUTHBEARER") == 0) {
        return p->msk_iam ? apply_msk_iam(sec, p, errstr, errstr_size)
                          : apply_oauth(sec, p, container_dir, errstr, errstr_size);
    }
    if (strcmp(p->protocol, "SASL_PLAINTEXT") == 0 && strcmp(p->mechanism, "PLAIN") == 0) {
        sec->host->log(CONNRT_LOG_WARNING, sec->component_id,
                       "SASL PLAIN over SASL_PLAINTEXT sends the password unencrypted; use "
                       "SASL_SSL");
    }
    if (apply(sec, conf, "sasl.username", p->username, 0, NULL, errstr, errstr_size) != 0) {
        return -1;
    }
    return apply(sec, conf, "sasl.password", p->password, 1, NULL, errstr, errstr_size);
}

static int apply_preset(kafka_security_t *sec, rd_kafka_conf_t *conf, const struct plan *p,
                        char *errstr, size_t errstr_size)
{
    for (const struct kafka_preset_setting *s = p->preset_settings; s != NULL && s->name != NULL;
         s++) {
        if (apply(sec, conf, s->name, s->value, 0, s->why, errstr, errstr_size) != 0) {
            return -1;
        }
    }
    sec->max_message_bytes = p->max_message_bytes;
    if (p->bootstrap != NULL) {
        sec->bootstrap = strdup(p->bootstrap);
        if (sec->bootstrap == NULL ||
            apply(sec, conf, "bootstrap.servers", p->bootstrap, 0, p->preset, errstr,
                  errstr_size) != 0) {
            return -1;
        }
    }
    return 0;
}

/* What the settings ask for, checked; touches nothing outside `p`. */
static int make_plan(const kafka_security_t *sec, struct plan *p, char *errstr,
                     size_t errstr_size)
{
    const char *preset = get(sec, "preset");
    int rc;

    p->preset = preset != NULL && strcmp(preset, "none") != 0 ? preset : NULL;
    if (p->preset == NULL) {
        rc = plan_plain(sec, p, errstr, errstr_size);
    } else if (strcmp(p->preset, "event_hubs") == 0) {
        rc = plan_event_hubs(sec, p, errstr, errstr_size);
    } else if (strcmp(p->preset, "msk") == 0) {
        rc = plan_msk(sec, p, errstr, errstr_size);
    } else {
        rc = fail(errstr, errstr_size, "preset '%s' is unknown (none, event_hubs, msk)", preset);
    }
    return rc != 0 ? -1 : check_plan(sec, p, errstr, errstr_size);
}

static int configure(kafka_security_t *sec, rd_kafka_conf_t *conf, const char *container_dir,
                     struct plan *p, char *errstr, size_t errstr_size)
{
    if (make_plan(sec, p, errstr, errstr_size) != 0) {
        return -1;
    }
    sec->protocol = strdup(p->protocol);
    sec->mechanism = p->mechanism != NULL ? strdup(p->mechanism) : NULL;
    if (sec->protocol == NULL || (p->mechanism != NULL && sec->mechanism == NULL)) {
        return fail(errstr, errstr_size, "out of memory");
    }
    if (apply(sec, conf, "security.protocol", p->protocol, 0, p->preset, errstr, errstr_size) !=
            0 ||
        (is_tls(p->protocol) && apply_tls(sec, conf, container_dir, errstr, errstr_size) != 0) ||
        (p->mechanism != NULL &&
         apply_sasl(sec, conf, p, container_dir, errstr, errstr_size) != 0)) {
        return -1;
    }
    return apply_preset(sec, conf, p, errstr, errstr_size);
}

int kafka_security_configure(rd_kafka_conf_t *conf, const struct connrt_host *host,
                             const connrt_settings_t *settings, const char *component_id,
                             const char *container_dir, kafka_security_t **out, char *errstr,
                             size_t errstr_size)
{
    kafka_security_t *sec = calloc(1, sizeof(*sec));
    struct plan p;
    int rc;

    memset(&p, 0, sizeof(p));
    if (sec == NULL ||
        (sec->component_id = strdup(component_id != NULL ? component_id : "kafka")) == NULL) {
        free(sec);
        return fail(errstr, errstr_size, "out of memory");
    }
    pthread_mutex_init(&sec->lock, NULL);
    sec->host = host;
    sec->settings = settings;
    rc = configure(sec, conf, container_dir, &p, errstr, errstr_size);
    free(p.bootstrap);
    if (rc != 0) {
        kafka_security_destroy(sec);
        return -1;
    }
    kafka_security_install_callbacks(conf, sec);
    kafka_security_register(sec);
    *out = sec;
    return 0;
}

int kafka_security_check(const struct connrt_host *host, const connrt_settings_t *settings,
                         char *errstr, size_t errstr_size)
{
    kafka_security_t sec;
    struct plan p;
    int rc;

    memset(&sec, 0, sizeof(sec));
    memset(&p, 0, sizeof(p));
    sec.host = host;
    sec.settings = settings;
    rc = make_plan(&sec, &p, errstr, errstr_size);
    free(p.bootstrap);
    return rc;
}

void kafka_security_destroy(kafka_security_t *sec)
{
    if (sec == NULL) {
        return;
    }
    kafka_security_unregister(sec);
    kafka_kerberos_destroy(sec->krb);
    kafka_oauth_destroy(sec->oauth);
    free(sec->msk);
    for (size_t i = 0; i < sec->napplied; i++) {
        free(sec->applied[i].name);
        free(sec->applied[i].value);
    }
    free(sec->protocol);
    free(sec->mechanism);
    free(sec->service_name);
    free(sec->bootstrap);
    free(sec->component_id);
    pthread_mutex_destroy(&sec->lock);
    free(sec);
}

/* ------------------------------------------------------------------------ */
/* Accessors                                                                */
/* ------------------------------------------------------------------------ */

int kafka_security_client_started(const kafka_security_t *sec, rd_kafka_t *rk, char *errstr,
                                  size_t errstr_size)
{
    rd_kafka_error_t *err;

    if (sec == NULL || (sec->oauth == NULL && sec->msk == NULL)) {
        return 0;
    }
    err = rd_kafka_sasl_background_callbacks_enable(rk);
    if (err != NULL) {
        fail(errstr, errstr_size, "cannot start OAUTHBEARER token refresh: %s",
             rd_kafka_error_string(err));
        rd_kafka_error_destroy(err);
        return -1;
    }
    return 0;
}

const char *kafka_security_bootstrap(const kafka_security_t *sec)
{
    return sec != NULL ? sec->bootstrap : NULL;
}

long long kafka_security_max_message_bytes(const kafka_security_t *sec)
{
    return sec != NULL ? sec->max_message_bytes : 0;
}

const char *kafka_security_protocol(const kafka_security_t *sec)
{
    return sec != NULL ? sec->protocol : "PLAINTEXT";
}

const char *kafka_security_mechanism(const kafka_security_t *sec)
{
    return sec != NULL ? sec->mechanism : NULL;
}

void kafka_security_describe(const kafka_security_t *sec,
                             void (*report)(void *opaque, const char *line), void *opaque)
{
    char line[1024];

    for (size_t i = 0; sec != NULL && i < sec->napplied; i++) {
        const struct kafka_applied *a = &sec->applied[i];
        snprintf(line, sizeof(line), "%s = %s%s%s%s", a->name,
                 a->value != NULL ? a->value : "[redacted]", a->why ? " (" : "",
                 a->why ? a->why : "", a->why ? ")" : "");
        report(opaque, line);
    }
}

/* Values never shown: by name, whatever set them. */
static int secret_name(const char *name)
{
    return strstr(name, "password") != NULL || strstr(name, "secret") != NULL ||
           strcmp(name, "ssl.key.pem") == 0 || strcmp(name, "ssl_key") == 0 ||
           strcmp(name, "sasl.oauthbearer.config") == 0;
}

static const char *default_of(const char **defaults, size_t n, const char *name)
{
    for (size_t i = 0; i + 1 < n; i += 2) {
        if (strcmp(defaults[i], name) == 0) {
            return defaults[i + 1];
        }
    }
    return NULL;
}

static const char *why_of(const kafka_security_t *sec, const char *name)
{
    for (size_t i = 0; sec != NULL && i < sec->napplied; i++) {
        if (strcmp(sec->applied[i].name, name) == 0) {
            return sec->applied[i].why;
        }
    }
    return NULL;
}

/* Lines for one dump against its defaults. */
static void describe_dump(const kafka_security_t *sec, const char **dump, size_t n,
                          const char **defaults, size_t nd,
                          void (*report)(void *opaque, const char *line), void *opaque)
{
    char line[2048];

    for (size_t i = 0; i + 1 < n; i += 2) {
        const char *name = dump[i], *value = dump[i + 1], *def = default_of(defaults, nd, name);
        const char *why = why_of(sec, name);
        size_t len = strlen(name);
        /* Callbacks and pointers say nothing to a reader. */
        if ((len > 3 && strcmp(name + len - 3, "_cb") == 0) || strcmp(name, "opaque") == 0 ||
            strcmp(name, "default_topic_conf") == 0) {
            continue;
        }
        /* Defaults are left out, unless a preset chose them on purpose. */
        if (def != NULL && strcmp(def, value) == 0 && why == NULL) {
            continue;
        }
        /* librdkafka dumps the brokers under their old name; users set
         * (and Kafka documents) bootstrap.servers. */
        snprintf(line, sizeof(line), "%s = %s%s%s%s",
                 strcmp(name, "metadata.broker.list") == 0 ? "bootstrap.servers" : name,
                 secret_name(name) ? "[redacted]" : value, why ? " (" : "", why ? why : "",
                 why ? ")" : "");
        report(opaque, line);
    }
}

void kafka_security_describe_conf(const kafka_security_t *sec, const rd_kafka_conf_t *conf,
                                  void (*report)(void *opaque, const char *line),
                                  void *opaque)
{
    rd_kafka_conf_t *fresh = rd_kafka_conf_new();
    rd_kafka_topic_conf_t *fresh_topic = rd_kafka_topic_conf_new();
    const rd_kafka_topic_conf_t *topic = rd_kafka_conf_get_default_topic_conf(
        (rd_kafka_conf_t *)conf);
    size_t n = 0, nd = 0;
    const char **dump = rd_kafka_conf_dump((rd_kafka_conf_t *)conf, &n);
    const char **defaults = rd_kafka_conf_dump(fresh, &nd);
    char line[2048];

    describe_dump(sec, dump, n, defaults, nd, report, opaque);
    rd_kafka_conf_dump_free(dump, n);
    rd_kafka_conf_dump_free(defaults, nd);
    if (topic != NULL) {
        dump = rd_kafka_topic_conf_dump((rd_kafka_topic_conf_t *)topic, &n);
        defaults = rd_kafka_topic_conf_dump(fresh_topic, &nd);
        describe_dump(sec, dump, n, defaults, nd, report, opaque);
        rd_kafka_conf_dump_free(dump, n);
        rd_kafka_conf_dump_free(defaults, nd);
    }
    /* What connrt does itself (tokens, tickets). */
    for (size_t i = 0; sec != NULL && i < sec->napplied; i++) {
        const struct kafka_applied *a = &sec->applied[i];
        if (strncmp(a->name, "(connrt)", 8) == 0) {
            snprintf(line, sizeof(line), "%s = %s%s%s%s", a->name, a->value ? a->value : "",
                     a->why ? " (" : "", a->why ? a->why : "", a->why ? ")" : "");
            report(opaque, line);
        }
    }
    rd_kafka_topic_conf_destroy(fresh_topic);
    rd_kafka_conf_destroy(fresh);
}

int kafka_security_last_error(const kafka_security_t *sec, char *out, size_t out_size)
{
    int rc;

    pthread_mutex_lock((pthread_mutex_t *)&sec->lock);
    rc = sec->last_error[0] != '\0' ? 0 : -1;
    snprintf(out, out_size, "%s", sec->last_error);
    pthread_mutex_unlock((pthread_mutex_t *)&sec->lock);
    return rc;
}

void kafka_security_clear_error(kafka_security_t *sec)
{
    if (sec != NULL) {
        pthread_mutex_lock(&sec->lock);
        sec->last_error[0] = '\0';
        pthread_mutex_unlock(&sec->lock);
    }
}

void kafka_security_record_error(kafka_security_t *sec, const char *message)
{
    pthread_mutex_lock(&sec->lock);
    snprintf(sec->last_error, sizeof(sec->last_error), "%s", message);
    pthread_mutex_unlock(&sec->lock);
    sec->host->log(CONNRT_LOG_ERROR, sec->component_id, "%s", message);
}
