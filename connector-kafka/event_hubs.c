/*
 * event_hubs.c - Azure Event Hubs connection strings and recommended
 * client settings.
 */
#include "event_hubs.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

/*
 * From Microsoft's "Recommended configurations for Apache Kafka clients"
 * (learn.microsoft.com/azure/event-hubs/apache-kafka-configurations). Not
 * applied: partitioner (connrt keeps Java's murmur2_random so keys land
 * where Java clients put them) and compression.codec (the produce operation
 * decides; Microsoft recommends none).
 */
const struct kafka_preset_setting kafka_event_hubs_settings[] = {
    {"socket.keepalive.enable", "true",
     "Azure closes inbound TCP connections idle for more than 240 s"},
    {"connections.max.idle.ms", "180000",
     "close idle connections before Azure's 240 s idle timeout does, instead of sending on a "
     "dead one"},
    {"metadata.max.age.ms", "180000",
     "below the 240 s idle timeout (Microsoft: about 180000, < 240000)"},
    {"request.timeout.ms", "60000",
     "Event Hubs takes at least 20 s to time a request out internally; Microsoft recommends "
     "30000..60000 and at least 60000 with session.timeout.ms 30000"},
    {"session.timeout.ms", "30000",
     "Microsoft's starting value (6000..300000): lower values cause timeouts and rebalances"},
    {"heartbeat.interval.ms", "3000", "Microsoft: keep the default 3000"},
    {"message.max.bytes", "1000000",
     "Event Hubs closes the connection on requests over 1,046,528 bytes; events are at most "
     "1 MB"},
    {NULL, NULL, NULL},
};

static const char *const known_fields[] = {
    "Endpoint", "SharedAccessKeyName", "SharedAccessKey", "SharedAccessSignature",
    "EntityPath", "TransportType", "UseDevelopmentEmulator", NULL,
};

static int known_field(const char *name, size_t len)
{
    for (size_t i = 0; known_fields[i] != NULL; i++) {
        if (strlen(known_fields[i]) == len && strncasecmp(known_fields[i], name, len) == 0) {
            return 1;
        }
    }
    return 0;
}

/* A field name that is safe to quote: a short word (never key material). */
static int quotable(const char *name, size_t len)
{
    if (len == 0 || len > 32) {
        return 0;
    }
    for (size_t i = 0; i < len; i++) {
        if (!isalpha((unsigned char)name[i])) {
            return 0;
        }
    }
    return 1;
}

struct cs_fields {
    const char *endpoint;
    size_t endpoint_len;
    int key_name, key, signature;
};

static int parse_field(const char *field, size_t len, int index, struct cs_fields *f,
                       char *errstr, size_t errstr_size)
{
    const char *eq = memchr(field, '=', len);
    const char *end = field + len; /* before the name's blanks are skipped */
    size_t nlen;

    if (eq == NULL) {
        snprintf(errstr, errstr_size,
                 "event_hubs_connection_string: part %d is not NAME=VALUE (value not shown: "
                 "it holds a key)",
                 index);
        return -1;
    }
    nlen = (size_t)(eq - field);
    while (nlen > 0 && isspace((unsigned char)*field)) {
        field++;
        nlen--;
    }
    if (!known_field(field, nlen)) {
        if (quotable(field, nlen)) {
            snprintf(errstr, errstr_size,
                     "event_hubs_connection_string: unknown part '%.*s' (expected Endpoint, "
                     "SharedAccessKeyName, SharedAccessKey, EntityPath)",
                     (int)nlen, field);
        } else {
            snprintf(errstr, errstr_size,
                     "event_hubs_connection_string: part %d has an unknown name (expected "
                     "Endpoint, SharedAccessKeyName, SharedAccessKey, EntityPath)",
                     index);
        }
        return -1;
    }
    if (nlen == 8 && strncasecmp(field, "Endpoint", 8) == 0) {
        f->endpoint = eq + 1;
        f->endpoint_len = (size_t)(end - (eq + 1));
    } else if (nlen == 19 && strncasecmp(field, "SharedAccessKeyName", 19) == 0) {
        f->key_name = eq + 1 < end;
    } else if (nlen == 15 && strncasecmp(field, "SharedAccessKey", 15) == 0) {
        f->key = eq + 1 < end;
    } else if (nlen == 21 && strncasecmp(field, "SharedAccessSignature", 21) == 0) {
        f->signature = eq + 1 < end;
    }
    return 0;
}

/* "sb://HOST/" -> HOST. */
static int endpoint_host(const struct cs_fields *f, char *host, size_t host_size, char *errstr,
                         size_t errstr_size)
{
    const char *p = f->endpoint;
    size_t len = f->endpoint_len, hlen;

    while (len > 0 && isspace((unsigned char)p[len - 1])) {
        len--;
    }
    if (len < 5 || strncasecmp(p, "sb://", 5) != 0) {
        snprintf(errstr, errstr_size,
                 "event_hubs_connection_string: Endpoint must be "
                 "sb://NAMESPACE.servicebus.windows.net/");
        return -1;
    }
    p += 5;
    len -= 5;
    hlen = strcspn(p, "/:");
    if (hlen > len) {
        hlen = len;
    }
    if (hlen == 0 || hlen >= host_size) {
        snprintf(errstr, errstr_size,
                 "event_hubs_connection_string: Endpoint has no namespace host");
        return -1;
    }
    for (size_t i = 0; i < hlen; i++) {
        if (!isalnum((unsigned char)p[i]) && p[i] != '-' && p[i] != '.') {
            snprintf(errstr, errstr_size,
                     "event_hubs_connection_string: Endpoint host has a character a host name "
                     "cannot have");
            return -1;
        }
    }
    snprintf(host, host_size, "%.*s", (int)hlen, p);
    return 0;
}

int kafka_event_hubs_parse(const char *cs, char *host, size_t host_size, char *errstr,
                           size_t errstr_size)
{
    struct cs_fields f = {NULL, 0, 0, 0, 0};
    const char *p = cs;
    int index = 0;

    if (cs == NULL || cs[strspn(cs, " \t\r\n")] == '\0') {
        snprintf(errstr, errstr_size, "event_hubs_connection_string is empty");
        return -1;
    }
    while (*p != '\0') {
        size_t len = strcspn(p, ";");
        index++;
        size_t blank = strspn(p, " \t\r\n");
        if (blank < len && parse_field(p, len, index, &f, errstr, errstr_size) != 0) {
            return -1;
        }
        p += len;
        if (*p == ';') {
            p++;
        }
    }
    if (f.endpoint == NULL) {
        snprintf(errstr, errstr_size,
                 "event_hubs_connection_string has no Endpoint=sb://NAMESPACE.servicebus."
                 "windows.net/ part (copy the namespace's connection string from the Azure "
                 "portal, Shared access policies)");
        return -1;
    }
    if (!f.signature && (!f.key_name || !f.key)) {
        snprintf(errstr, errstr_size,
                 "event_hubs_connection_string needs SharedAccessKeyName and SharedAccessKey "
                 "(or SharedAccessSignature)");
        return -1;
    }
    return endpoint_host(&f, host, host_size, errstr, errstr_size);
}

int kafka_event_hubs_namespace_host(const char *ns, char *out, size_t out_size, char *errstr,
                                    size_t errstr_size)
{
    size_t len = ns != NULL ? strlen(ns) : 0;

    if (len == 0 || strspn(ns, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-.")
                        != len) {
        snprintf(errstr, errstr_size,
                 "event_hubs_namespace '%s' is not a namespace name or host", ns ? ns : "");
        return -1;
    }
    if (strchr(ns, '.') != NULL) {
        snprintf(out, out_size, "%s", ns);
    } else {
        snprintf(out, out_size, "%s.servicebus.windows.net", ns);
    }
    return 0;
}
