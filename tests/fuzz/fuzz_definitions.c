/*
 * fuzz_definitions.c - XML definitions: well-formedness, the compiled-in
 * XSD, ${env:NAME}, the model, then semantic validation against the Kafka
 * property tables.
 */
#include <stdlib.h>

#include "fuzz.h"
#include "fuzz_registry.h"
#include "runtime/definitions.h"
#include "runtime/diagnostics.h"
#include "runtime/validate.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    connrt_definitions_t *defs = connrt_definitions_new();
    connrt_diagnostics_t *diag = connrt_diagnostics_new();

    if (defs != NULL && diag != NULL) {
        connrt_definitions_load_memory(defs, "fuzz.xml", (const char *)data, size, diag);
        /* As deployment.c does: the model is validated whatever loading said. */
        connrt_validate_definitions(defs, fuzz_registry(), diag);
        for (size_t i = 0; i < connrt_diag_count(diag); i++) {
            (void)connrt_diag_message(diag, i);
        }
    }
    connrt_diagnostics_destroy(diag);
    connrt_definitions_destroy(defs);
    return 0;
}
