/*
 * connection_properties.c - the Kafka connection and container property
 * tables: the single source of validation, defaults, `connrt describe` and
 * docs/properties.md for them.
 */
#include "connection.h"

static const char *const security_protocols[] = {"PLAINTEXT", "SSL", "SASL_PLAINTEXT",
                                                 "SASL_SSL", NULL};
static const char *const sasl_mechanisms[] = {"PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512",
                                              "GSSAPI", "OAUTHBEARER", NULL};
static const char *const endpoint_identifications[] = {"https", "none", NULL};
static const char *const presets[] = {"none", "event_hubs", "msk", NULL};
static const char *const msk_auths[] = {"iam", "scram", "tls", "plaintext", NULL};
static const char *const oauth_client_auths[] = {"basic", "post", NULL};

#define ROW(name, type, flags, def, allowed, description)                                     \
    {(name), (type), (flags), (def), (allowed), 0, 0, (description), NULL}
#define INVALID(name, hint)                                                                    \
    {(name), CONNRT_PROP_STRING, CONNRT_PROP_F_INVALID, NULL, NULL, 0, 0,                      \
     "Java/librdkafka property name; not a connrt connection property", (hint)}

const struct connrt_property_def kafka_connection_properties[] = {
    ROW("bootstrap_servers", CONNRT_PROP_LIST, 0, NULL, NULL,
        "Kafka brokers as HOST:PORT, comma or newline separated; 'embedded' starts an "
        "in-process test cluster. Required, except with preset=event_hubs (then the "
        "namespace's NAMESPACE.servicebus.windows.net:9093)"),
    ROW("embedded_topics", CONNRT_PROP_LIST, 0, NULL, NULL,
        "With bootstrap_servers=embedded: topics to create, NAME:PARTITIONS (1 partition "
        "without :PARTITIONS), comma or newline separated"),
    ROW("client_id", CONNRT_PROP_STRING, 0, "connrt", NULL,
        "Client id the brokers see in their logs and quotas"),
    ROW("security_protocol", CONNRT_PROP_ENUM, 0, "PLAINTEXT", security_protocols,
        "How to talk to the brokers: PLAINTEXT, SSL (TLS), SASL_PLAINTEXT or SASL_SSL"),
    ROW("sasl_mechanism", CONNRT_PROP_ENUM, 0, NULL, sasl_mechanisms,
        "SASL mechanism for SASL_PLAINTEXT and SASL_SSL"),
    ROW("username", CONNRT_PROP_STRING, 0, NULL, NULL,
        "SASL user name (PLAIN, SCRAM)"),
    ROW("password", CONNRT_PROP_STRING, CONNRT_PROP_F_SECRET, NULL, NULL,
        "SASL password (PLAIN, SCRAM, or GSSAPI without a keytab)"),
    ROW("kerberos_service_principal", CONNRT_PROP_STRING, 0, NULL, NULL,
        "Kerberos service name of the brokers, e.g. kafka"),
    ROW("client_principal", CONNRT_PROP_STRING, 0, NULL, NULL,
        "Kerberos client principal, e.g. svc@EXAMPLE.COM (realm: the part after @)"),
    ROW("oauth_token_endpoint", CONNRT_PROP_STRING, 0, NULL, NULL,
        "OAuth 2.0 token endpoint URL (client credentials grant)"),
    ROW("oauth_client_id", CONNRT_PROP_STRING, 0, NULL, NULL, "OAuth 2.0 client id"),
    ROW("oauth_client_secret", CONNRT_PROP_STRING, CONNRT_PROP_F_SECRET, NULL, NULL,
        "OAuth 2.0 client secret"),
    ROW("oauth_scopes", CONNRT_PROP_STRING, 0, NULL, NULL,
        "OAuth 2.0 scopes, space separated"),
    ROW("oauth_sasl_extensions", CONNRT_PROP_STRING, 0, NULL, NULL,
        "SASL/OAUTHBEARER extensions as KEY=VALUE,..."),
    ROW("ssl_ca", CONNRT_PROP_PEM, 0, NULL, NULL,
        "CA certificate(s) to trust: a file or inline PEM"),
    ROW("ssl_certificate", CONNRT_PROP_PEM, 0, NULL, NULL,
        "Client certificate for mutual TLS: a file or inline PEM"),
    ROW("ssl_key", CONNRT_PROP_PEM, CONNRT_PROP_F_SECRET, NULL, NULL,
        "Client private key for mutual TLS: a file or inline PEM"),
    ROW("ssl_key_password", CONNRT_PROP_STRING, CONNRT_PROP_F_SECRET, NULL, NULL,
        "Password of an encrypted ssl_key"),
    ROW("ssl_endpoint_identification", CONNRT_PROP_ENUM, 0, "https", endpoint_identifications,
        "Check the broker's host name against its certificate (https) or not (none)"),
    ROW("preset", CONNRT_PROP_ENUM, 0, "none", presets,
        "Settings for a managed service: none, event_hubs (Azure) or msk (AWS)"),
    ROW("event_hubs_connection_string", CONNRT_PROP_STRING, CONNRT_PROP_F_SECRET, NULL, NULL,
        "preset=event_hubs: the namespace connection string"),
    ROW("event_hubs_namespace", CONNRT_PROP_STRING, 0, NULL, NULL,
        "preset=event_hubs: namespace name, for Azure AD (OAuth) login"),
    ROW("azure_tenant_id", CONNRT_PROP_STRING, 0, NULL, NULL,
        "preset=event_hubs: Azure AD tenant of the service principal"),
    ROW("msk_auth", CONNRT_PROP_ENUM, 0, NULL, msk_auths,
        "preset=msk: how to log in (iam, scram, tls, plaintext); picks the port"),
    ROW("aws_region", CONNRT_PROP_STRING, 0, NULL, NULL,
        "preset=msk: AWS region (default: from the broker names)"),
    ROW("keytab", CONNRT_PROP_STRING, 0, NULL, NULL,
        "GSSAPI: keytab file of client_principal (default: the container's "
        "resources/REALM.keytab)"),
    ROW("oauth_ssl_ca", CONNRT_PROP_PEM, 0, NULL, NULL,
        "OAUTHBEARER: CA certificate(s) of the token endpoint, a file or inline PEM (default: "
        "the system's)"),
    ROW("oauth_client_auth", CONNRT_PROP_ENUM, 0, "basic", oauth_client_auths,
        "OAUTHBEARER: send the client id and secret as HTTP Basic (basic) or in the form "
        "body (post)"),
    ROW("aws_access_key_id", CONNRT_PROP_STRING, 0, NULL, NULL,
        "preset=msk, msk_auth=iam: AWS access key id (default: environment, then shared "
        "credentials file)"),
    ROW("aws_secret_access_key", CONNRT_PROP_STRING, CONNRT_PROP_F_SECRET, NULL, NULL,
        "preset=msk, msk_auth=iam: AWS secret access key"),
    ROW("aws_session_token", CONNRT_PROP_STRING, CONNRT_PROP_F_SECRET, NULL, NULL,
        "preset=msk, msk_auth=iam: AWS session token of temporary credentials"),
    ROW("aws_profile", CONNRT_PROP_STRING, 0, NULL, NULL,
        "preset=msk, msk_auth=iam: profile of ~/.aws/credentials and ~/.aws/config (default: "
        "AWS_PROFILE, else default)"),
    ROW("schema_registry_url", CONNRT_PROP_STRING, 0, NULL, NULL,
        "Schema registry for avro and json_schema formats (http:// or https:// URL)"),
    ROW("schema_registry_user", CONNRT_PROP_STRING, 0, NULL, NULL,
        "Schema registry basic-auth user"),
    ROW("schema_registry_password", CONNRT_PROP_STRING, CONNRT_PROP_F_SECRET, NULL, NULL,
        "Schema registry basic-auth password"),
    ROW("schema_registry_ca", CONNRT_PROP_PEM, 0, NULL, NULL,
        "CA certificate(s) for an https schema registry: file path or inline PEM"),
    ROW(KAFKA_PASSTHROUGH_PREFIX, CONNRT_PROP_PREFIX, 0, NULL, NULL,
        "Any other librdkafka property, e.g. librdkafka.socket.timeout.ms (not those connrt "
        "manages)"),

    INVALID("bootstrap.servers", "use bootstrap_servers"),
    INVALID("metadata.broker.list", "use bootstrap_servers"),
    INVALID("security.protocol", "use security_protocol"),
    INVALID("sasl.mechanism", "use sasl_mechanism"),
    INVALID("sasl.mechanisms", "use sasl_mechanism"),
    INVALID("sasl.jaas.config",
            "connrt does not read JAAS; use sasl_mechanism with username and password "
            "(or client_principal for GSSAPI)"),
    INVALID("sasl.username", "use username"),
    INVALID("sasl.password", "use password"),
    INVALID("sasl.kerberos.service.name", "use kerberos_service_principal"),
    INVALID("sasl.kerberos.principal", "use client_principal"),
    INVALID("client.id", "use client_id"),
    INVALID("ssl.truststore.location", "Java keystores are not read; use ssl_ca with PEM"),
    INVALID("ssl.keystore.location",
            "Java keystores are not read; use ssl_certificate and ssl_key with PEM"),
    INVALID("ssl.ca.location", "use ssl_ca"),
    INVALID("ssl.certificate.location", "use ssl_certificate"),
    INVALID("ssl.key.location", "use ssl_key"),
    INVALID("ssl.key.password", "use ssl_key_password"),
    INVALID("group.id", "the consumer group belongs to the operation: use consumer_group"),
    {NULL, CONNRT_PROP_STRING, 0, NULL, NULL, 0, 0, NULL, NULL},
};

const struct connrt_property_def kafka_container_properties[] = {
    {KAFKA_MAX_REQUEST_SIZE, CONNRT_PROP_SIZE, 0, "10485760", NULL, 1, 999000000,
     "Largest message: Produce refuses larger documents, Consume reports larger messages "
     "as application errors",
     NULL},
    {KAFKA_MAX_POLL_RECORDS, CONNRT_PROP_INT, 0, "1", NULL, 1, 1000000,
     "Records per poll step of Consume, which polls until it holds at least min_messages",
     NULL},
    {NULL, CONNRT_PROP_STRING, 0, NULL, NULL, 0, 0, NULL, NULL},
};
