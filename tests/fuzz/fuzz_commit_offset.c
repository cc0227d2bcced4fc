/*
 * fuzz_commit_offset.c - what a Commit Offset input document names. Input:
 * a first byte whose bits 0-2 say which of the tracked properties
 * kafka.topic, kafka.partition, kafka.offset the document has, their
 * values (each up to a NUL byte), then the payload (the JSON body).
 */
#include <stdlib.h>
#include <string.h>

#include <connrt/connector.h>

#include "fuzz.h"
#include "operations/commit_offset_doc.h"
#include "runtime/arena.h"
#include "runtime/document.h"

/* Only what commit_offset_doc.c calls; the rest stays NULL. */
static const struct connrt_host host = {
    .doc_payload = connrt_document_payload,
    .doc_get_tracked = connrt_document_get_tracked,
    .doc_set_tracked = connrt_document_set_tracked,
};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const char *const tracked[] = {"kafka.topic", "kafka.partition", "kafka.offset"};
    connrt_arena_t *arena = connrt_arena_new();
    unsigned mask = size > 0 ? data[0] : 0;
    size_t off = size > 0 ? 1 : 0;
    char *values[3] = {NULL, NULL, NULL};

    for (size_t i = 0; i < 3; i++) {
        if (mask & (1u << i)) {
            const uint8_t *nul = memchr(data + off, '\0', size - off);
            size_t n = nul != NULL ? (size_t)(nul - (data + off)) : size - off;
            values[i] = fuzz_strndup(data + off, n);
            off += n + (nul != NULL);
        }
    }
    connrt_document_t *doc =
        arena != NULL ? connrt_document_new(arena, data + off, size - off) : NULL;
    for (size_t i = 0; doc != NULL && i < 3; i++) {
        if (values[i] != NULL && connrt_document_set_tracked(doc, tracked[i], values[i]) != 0) {
            doc = NULL;
        }
    }
    if (doc != NULL) {
        struct kafka_commit_doc d;
        char why[512];
        memset(&d, 0, sizeof(d));
        if (kafka_commit_offset_read_doc(&host, doc, &d, why, sizeof(why)) == 0 &&
            (d.topic == NULL || d.partition < 0 || d.offset < 0)) {
            abort(); /* success must name a valid position */
        }
        free(d.topic);
        free(d.metadata);
    }
    for (size_t i = 0; i < 3; i++) {
        free(values[i]);
    }
    connrt_arena_destroy(arena);
    return 0;
}
