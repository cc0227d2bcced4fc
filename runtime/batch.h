/*
 * batch.h - one call of an operation: input documents, one result each
 * (success or application error), and emitted output documents.
 */
#ifndef CONNRT_BATCH_H
#define CONNRT_BATCH_H

#include <connrt/connector.h>
#include "arena.h"

typedef enum connrt_result_state {
    CONNRT_RESULT_NONE = 0,
    CONNRT_RESULT_SUCCESS,
    CONNRT_RESULT_APPLICATION_ERROR
} connrt_result_state_t;

/* New batch whose documents live in `arena` (borrowed; must outlive the
 * batch). Owned by the caller; free with connrt_batch_destroy (NULL no-op).
 * Destroying a batch does not free documents (the arena does). */
connrt_batch_t *connrt_batch_new(connrt_arena_t *arena);
void connrt_batch_destroy(connrt_batch_t *batch);

/* Append an input document (borrowed, arena). Returns 0 or -1. */
int connrt_batch_add_input(connrt_batch_t *batch, connrt_document_t *doc);

size_t connrt_batch_input_count(const connrt_batch_t *batch);
connrt_document_t *connrt_batch_input_at(connrt_batch_t *batch, size_t i);
int connrt_batch_set_success(connrt_batch_t *batch, size_t i);
int connrt_batch_set_error(connrt_batch_t *batch, size_t i, const char *message);
connrt_result_state_t connrt_batch_result(const connrt_batch_t *batch, size_t i,
                                          const char **message);

/* Emitted documents (source operations). `message` NULL: success. */
connrt_document_t *connrt_batch_emit(connrt_batch_t *batch, const void *payload, size_t len,
                                     const char *message);
size_t connrt_batch_emitted_count(const connrt_batch_t *batch);
connrt_document_t *connrt_batch_emitted_at(connrt_batch_t *batch, size_t i,
                                           const char **message);

connrt_arena_t *connrt_batch_arena(connrt_batch_t *batch);
/* Documents and messages from now on go to `arena` (borrowed); for a hook
 * that hands the emitted documents, with their arena, to another thread. */
void connrt_batch_set_arena(connrt_batch_t *batch, connrt_arena_t *arena);

/*
 * Streaming for source operations: once `limit` emitted documents are
 * waiting, or the batch's arena holds `max_bytes`, connrt_batch_emit first
 * calls `hook` (borrowed, with `opaque`), which passes the emitted documents
 * on and may reset the arena; the batch then forgets them. So a Consume of
 * any size runs in bounded memory, and a document returned by batch_emit is
 * valid until the next batch_emit on the same batch (or the end of
 * execute). `hook` NULL turns streaming off.
 */
/* The hook returns 0 while the process goes on, -1 once it has stopped (a
 * later step failed). `final` is 1 when called by connrt_batch_flush: the
 * documents must then have been taken through the process on return (0 lets
 * the hook pass them on in the background and report later). */
typedef int (*connrt_batch_emit_hook_fn)(void *opaque, connrt_batch_t *batch, int final);
void connrt_batch_set_emit_hook(connrt_batch_t *batch, size_t limit, size_t max_bytes,
                                connrt_batch_emit_hook_fn hook, void *opaque);

/* host->batch_flush: pass what is waiting through the hook now, and wait
 * for what it passed on before. Returns 0 when the process took every
 * document emitted so far, -1 when it stopped (the source must then not
 * acknowledge them). Without a hook: 0. */
int connrt_batch_flush(connrt_batch_t *batch);

/* Exchange the emitted documents of a and b: a hook hands them to another
 * thread in `b` while the operation emits on into `a`. */
void connrt_batch_swap_emitted(connrt_batch_t *a, connrt_batch_t *b);

/* Forget all inputs, results and emitted documents (keeps the vectors'
 * memory) so the batch can be reused for the next call; the tracked
 * properties are wanted again. */
void connrt_batch_clear(connrt_batch_t *batch);

/* `unread` 1: nothing will read the tracked properties of the batch's
 * successful inputs (host->batch_wants_tracked then answers 0). */
void connrt_batch_set_tracked_unread(connrt_batch_t *batch, int unread);
int connrt_batch_wants_tracked(const connrt_batch_t *batch);

#endif
