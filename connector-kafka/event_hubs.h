/*
 * event_hubs.h - the Azure Event Hubs preset: the namespace connection
 * string (SASL PLAIN, user "$ConnectionString") or an Azure AD service
 * principal (OAUTHBEARER), and Microsoft's recommended client settings.
 */
#ifndef CONNRT_KAFKA_EVENT_HUBS_H
#define CONNRT_KAFKA_EVENT_HUBS_H

#include <stddef.h>

/* Event Hubs' Kafka endpoint port. */
#define KAFKA_EVENT_HUBS_PORT 9093
/* Microsoft: "max.request.size 1000000 (< 1046528): the service closes
 * connections if requests larger than 1,046,528 bytes are sent". */
#define KAFKA_EVENT_HUBS_MAX_MESSAGE_BYTES 1000000

/* One recommended librdkafka setting and why (docs/security.md lists them). */
struct kafka_preset_setting {
    const char *name;
    const char *value;
    const char *why;
};

/* Microsoft's recommended settings, NULL-name terminated. Static. */
extern const struct kafka_preset_setting kafka_event_hubs_settings[];

/*
 * Check a namespace connection string
 * "Endpoint=sb://NS.servicebus.windows.net/;SharedAccessKeyName=N;
 * SharedAccessKey=K[;EntityPath=E]" (or SharedAccessSignature=...) and
 * write its host ("NS.servicebus.windows.net") into `host`. Errors name the
 * problem and never quote the string or any part of a value. Returns 0 or -1.
 */
int kafka_event_hubs_parse(const char *connection_string, char *host, size_t host_size,
                           char *errstr, size_t errstr_size);

/* "NS" or "NS.servicebus.windows.net" -> the full host, in `out`. 0 or -1. */
int kafka_event_hubs_namespace_host(const char *ns, char *out, size_t out_size, char *errstr,
                                    size_t errstr_size);

#endif
