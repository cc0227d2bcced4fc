/*
 * fuzz_properties.c - container.properties: the Java .properties parser,
 * then validation against the runtime and Kafka container tables.
 */
#include <stdlib.h>

#include "fuzz.h"
#include "fuzz_registry.h"
#include "properties/java_properties.h"
#include "runtime/diagnostics.h"
#include "runtime/validate.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char errstr[512];
    connrt_jprops_t *props =
        connrt_jprops_parse((const char *)data, size, "container.properties", errstr,
                            sizeof(errstr));
    if (props == NULL) {
        return 0;
    }
    for (size_t i = 0; i < connrt_jprops_count(props); i++) {
        const char *key, *value;
        int line;
        connrt_jprops_at(props, i, &key, &value, &line);
        /* Every key must be found again (duplicates replace in place). */
        if (connrt_jprops_get(props, key) != value) {
            abort();
        }
    }
    connrt_diagnostics_t *diag = connrt_diagnostics_new();
    if (diag != NULL) {
        connrt_validate_container_properties(props, fuzz_registry(), diag);
    }
    connrt_diagnostics_destroy(diag);
    connrt_jprops_destroy(props);
    return 0;
}
