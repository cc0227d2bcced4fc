/*
 * arena.h - an execution arena (nginx pool style): many small allocations,
 * one free. Documents, their properties and messages live here.
 */
#ifndef CONNRT_ARENA_H
#define CONNRT_ARENA_H

#include <stddef.h>

typedef struct connrt_arena connrt_arena_t;

/* Owned by the caller; free with connrt_arena_destroy (NULL no-op). */
connrt_arena_t *connrt_arena_new(void);
void connrt_arena_destroy(connrt_arena_t *arena);
/* Memory owned by the arena, aligned for any type; NULL on no memory. */
void *connrt_arena_alloc(connrt_arena_t *arena, size_t size);
char *connrt_arena_strdup(connrt_arena_t *arena, const char *s); /* NULL -> NULL */
/* Copy of the first `len` bytes of `s`, NUL-terminated. */
char *connrt_arena_strndup(connrt_arena_t *arena, const char *s, size_t len);
void *connrt_arena_memdup(connrt_arena_t *arena, const void *p, size_t len);
/* Bytes handed out so far (for in-flight limits). */
size_t connrt_arena_used(const connrt_arena_t *arena);
/* Free everything allocated so far at once (all earlier pointers become
 * invalid) and keep the chunks for reuse, so that a loop over execution
 * chunks does not go back to malloc. */
void connrt_arena_reset(connrt_arena_t *arena);
/* A number unique in the process for the arena's current contents (it
 * changes with every reset, and no two arenas share one): a pointer into
 * the arena obtained at generation G is valid while this still returns G. */
size_t connrt_arena_generation(const connrt_arena_t *arena);

#endif
