/*
 * slots.h - a cap on the executions running at once in a whole `connrt
 * serve` (container property execution.max.concurrent), shared by every
 * listener, across reloads.
 */
#ifndef CONNRT_SLOTS_H
#define CONNRT_SLOTS_H

#include <stddef.h>

typedef struct connrt_slots connrt_slots_t;

/* A cap of `limit` (>= 1). Owned by the caller; free with
 * connrt_slots_destroy (NULL no-op) once no thread uses it. NULL on no
 * memory. */
connrt_slots_t *connrt_slots_new(size_t limit);
void connrt_slots_destroy(connrt_slots_t *s);

/* Take a slot, waiting while `limit` are taken; give it back. Thread-safe. */
void connrt_slots_acquire(connrt_slots_t *s);
void connrt_slots_release(connrt_slots_t *s);

/* A new cap (a reload); running executions keep their slots. */
void connrt_slots_set_limit(connrt_slots_t *s, size_t limit);

/* The most slots that were taken at the same moment. */
size_t connrt_slots_max_taken(connrt_slots_t *s);

#endif
