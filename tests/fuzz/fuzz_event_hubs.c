/*
 * fuzz_event_hubs.c - the Event Hubs namespace connection string and the
 * namespace name. Neither may quote key material in its message: the
 * fuzzer checks that no "SharedAccessKey=" value reaches errstr.
 */
#include <stdlib.h>
#include <string.h>

#include "connector-kafka/event_hubs.h"
#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *cs = fuzz_strndup(data, size);
    char host[256], errstr[512];

    if (cs == NULL) {
        return 0;
    }
    if (kafka_event_hubs_parse(cs, host, sizeof(host), errstr, sizeof(errstr)) == 0) {
        if (host[0] == '\0' || strlen(host) >= sizeof(host)) {
            abort();
        }
    } else if (strstr(errstr, "SharedAccessKey=") != NULL) {
        abort(); /* a message must never quote the key */
    }
    kafka_event_hubs_namespace_host(cs, host, sizeof(host), errstr, sizeof(errstr));
    free(cs);
    return 0;
}
