/* vector.h - growing a malloc'd array one element at a time. */
#ifndef CONNRT_VECTOR_H
#define CONNRT_VECTOR_H

#include <stdlib.h>

/* Make room for element `count` of `size` bytes in *items (malloc'd or
 * NULL, *capacity elements), doubling from `initial`. Returns 0, or -1 on
 * no memory with *items unchanged. */
static inline int connrt_vector_reserve(void **items, size_t count, size_t *capacity,
                                        size_t size, size_t initial)
{
    if (count < *capacity) {
        return 0;
    }
    size_t want = *capacity ? *capacity * 2 : initial;
    void *grown = reallocarray(*items, want, size);
    if (grown == NULL) {
        return -1;
    }
    *items = grown;
    *capacity = want;
    return 0;
}

#endif
