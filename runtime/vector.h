/* vector.h - growing a malloc'd array one element at a time. */
#ifndef CONNRT_VECTOR_H
#define CONNRT_VECTOR_H

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>

/* reallocarray's overflow check in front of realloc. Not reallocarray
 * itself: memcheck (valgrind 3.19) does not replace it, so under valgrind
 * mimalloc's would allocate what memcheck's free then calls invalid. */
static inline void *connrt_realloc_array(void *items, size_t count, size_t size)
{
    if (size != 0 && count > SIZE_MAX / size) {
        errno = ENOMEM;
        return NULL;
    }
    return realloc(items, count * size);
}

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
    void *grown = connrt_realloc_array(*items, want, size);
    if (grown == NULL) {
        return -1;
    }
    *items = grown;
    *capacity = want;
    return 0;
}

#endif
