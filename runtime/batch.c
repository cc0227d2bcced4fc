/*
 * batch.c - one call of an operation: inputs with one result each, and
 * emitted documents. The vectors grow geometrically (amortised, not one
 * malloc per document); documents and messages live in the arena.
 */
#include "batch.h"
#include "vector.h"

#include <stdlib.h>

#include "document.h"

#define BATCH_INITIAL_CAPACITY 16

struct batch_input {
    connrt_document_t *doc;
    connrt_result_state_t state;
    const char *message; /* arena; APPLICATION_ERROR only */
};

struct batch_emitted {
    connrt_document_t *doc;
    const char *message; /* arena; NULL: success */
};

struct connrt_batch {
    connrt_arena_t *arena;
    struct batch_input *inputs;
    size_t ninputs, inputs_capacity;
    struct batch_emitted *emitted;
    size_t nemitted, emitted_capacity;
    connrt_batch_emit_hook_fn hook;
    void *hook_opaque;
    size_t hook_limit, hook_max_bytes;
    int hook_stopped; /* the hook reported that the process stopped */
    int tracked_unread; /* host->batch_wants_tracked answers 0 */
};

connrt_batch_t *connrt_batch_new(connrt_arena_t *arena)
{
    connrt_batch_t *batch = calloc(1, sizeof(*batch));
    if (batch == NULL) {
        return NULL;
    }
    batch->arena = arena;
    return batch;
}

void connrt_batch_destroy(connrt_batch_t *batch)
{
    if (batch == NULL) {
        return;
    }
    free(batch->inputs);
    free(batch->emitted);
    free(batch);
}

/* Make room for one more element of `size` bytes in *items. */
static int vector_reserve(void **items, size_t count, size_t *capacity, size_t size)
{
    return connrt_vector_reserve(items, count, capacity, size, BATCH_INITIAL_CAPACITY);
}

int connrt_batch_add_input(connrt_batch_t *batch, connrt_document_t *doc)
{
    if (doc == NULL || vector_reserve((void **)&batch->inputs, batch->ninputs,
                                      &batch->inputs_capacity, sizeof(*batch->inputs)) != 0) {
        return -1;
    }
    batch->inputs[batch->ninputs++] = (struct batch_input){doc, CONNRT_RESULT_NONE, NULL};
    return 0;
}

size_t connrt_batch_input_count(const connrt_batch_t *batch)
{
    return batch->ninputs;
}

connrt_document_t *connrt_batch_input_at(connrt_batch_t *batch, size_t i)
{
    return i < batch->ninputs ? batch->inputs[i].doc : NULL;
}

int connrt_batch_set_success(connrt_batch_t *batch, size_t i)
{
    if (i >= batch->ninputs || batch->inputs[i].state != CONNRT_RESULT_NONE) {
        return -1;
    }
    batch->inputs[i].state = CONNRT_RESULT_SUCCESS;
    return 0;
}

int connrt_batch_set_error(connrt_batch_t *batch, size_t i, const char *message)
{
    if (i >= batch->ninputs || batch->inputs[i].state != CONNRT_RESULT_NONE) {
        return -1;
    }
    const char *copy = connrt_arena_strdup(batch->arena, message ? message : "unknown error");
    if (copy == NULL) {
        return -1;
    }
    batch->inputs[i].state = CONNRT_RESULT_APPLICATION_ERROR;
    batch->inputs[i].message = copy;
    return 0;
}

connrt_result_state_t connrt_batch_result(const connrt_batch_t *batch, size_t i,
                                          const char **message)
{
    if (message != NULL) {
        *message = NULL;
    }
    if (i >= batch->ninputs) {
        return CONNRT_RESULT_NONE;
    }
    if (message != NULL) {
        *message = batch->inputs[i].message;
    }
    return batch->inputs[i].state;
}

void connrt_batch_set_emit_hook(connrt_batch_t *batch, size_t limit, size_t max_bytes,
                                connrt_batch_emit_hook_fn hook, void *opaque)
{
    batch->hook = hook;
    batch->hook_opaque = opaque;
    batch->hook_limit = limit;
    batch->hook_max_bytes = max_bytes;
    batch->hook_stopped = 0;
}

int connrt_batch_flush(connrt_batch_t *batch)
{
    /* Even with nothing waiting: earlier documents may still be on their way. */
    if (batch->hook != NULL) {
        batch->hook_stopped |= batch->hook(batch->hook_opaque, batch, 1) != 0;
        batch->nemitted = 0;
    }
    return batch->hook_stopped ? -1 : 0;
}

connrt_document_t *connrt_batch_emit(connrt_batch_t *batch, const void *payload, size_t len,
                                     const char *message)
{
    if (batch->hook != NULL && batch->nemitted > 0 &&
        (batch->nemitted >= batch->hook_limit ||
         connrt_arena_used(batch->arena) >= batch->hook_max_bytes)) {
        batch->hook_stopped |= batch->hook(batch->hook_opaque, batch, 0) != 0;
        batch->nemitted = 0;
    }
    if (vector_reserve((void **)&batch->emitted, batch->nemitted, &batch->emitted_capacity,
                       sizeof(*batch->emitted)) != 0) {
        return NULL;
    }
    connrt_document_t *doc = connrt_document_new(batch->arena, payload, len);
    if (doc == NULL) {
        return NULL;
    }
    const char *copy = NULL;
    if (message != NULL) {
        copy = connrt_arena_strdup(batch->arena, message);
        if (copy == NULL) {
            return NULL;
        }
    }
    batch->emitted[batch->nemitted++] = (struct batch_emitted){doc, copy};
    return doc;
}

size_t connrt_batch_emitted_count(const connrt_batch_t *batch)
{
    return batch->nemitted;
}

connrt_document_t *connrt_batch_emitted_at(connrt_batch_t *batch, size_t i,
                                           const char **message)
{
    if (i >= batch->nemitted) {
        if (message != NULL) {
            *message = NULL;
        }
        return NULL;
    }
    if (message != NULL) {
        *message = batch->emitted[i].message;
    }
    return batch->emitted[i].doc;
}

connrt_arena_t *connrt_batch_arena(connrt_batch_t *batch)
{
    return batch->arena;
}

void connrt_batch_set_arena(connrt_batch_t *batch, connrt_arena_t *arena)
{
    batch->arena = arena;
}

void connrt_batch_swap_emitted(connrt_batch_t *a, connrt_batch_t *b)
{
    struct batch_emitted *emitted = a->emitted;
    size_t n = a->nemitted, capacity = a->emitted_capacity;
    a->emitted = b->emitted;
    a->nemitted = b->nemitted;
    a->emitted_capacity = b->emitted_capacity;
    b->emitted = emitted;
    b->nemitted = n;
    b->emitted_capacity = capacity;
}

void connrt_batch_clear(connrt_batch_t *batch)
{
    batch->ninputs = 0;
    batch->nemitted = 0;
    batch->tracked_unread = 0;
}

void connrt_batch_set_tracked_unread(connrt_batch_t *batch, int unread)
{
    batch->tracked_unread = unread;
}

int connrt_batch_wants_tracked(const connrt_batch_t *batch)
{
    return !batch->tracked_unread;
}
