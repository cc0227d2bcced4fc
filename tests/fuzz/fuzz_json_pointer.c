/*
 * fuzz_json_pointer.c - a json-pointer of <set-properties> evaluated on a
 * payload, as the engine does. Input: the pointer, a newline, the payload.
 */
#include <stdlib.h>
#include <string.h>
#include <jansson.h>

#include "fuzz.h"
#include "runtime/json_pointer.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const uint8_t *nl = memchr(data, '\n', size);
    size_t plen = nl != NULL ? (size_t)(nl - data) : size;
    char *pointer = fuzz_strndup(data, plen);
    const char *payload = nl != NULL ? (const char *)nl + 1 : "";
    size_t len = nl != NULL ? size - plen - 1 : 0;
    char errstr[512];
    json_t *found;
    json_error_t jerr;

    if (pointer == NULL) {
        return 0;
    }
    /* The engine's flags (engine.c, assignment_value). */
    json_t *root = json_loadb(payload, len, JSON_DECODE_ANY | JSON_ALLOW_NUL, &jerr);
    if (root == NULL) {
        root = json_null(); /* the pointer is still parsed up to the first step */
    }
    if (connrt_json_pointer_get(root, pointer, &found, errstr, sizeof(errstr)) == 0) {
        free(connrt_json_value_text(found));
    }
    json_decref(root);
    free(pointer);
    return 0;
}
