/*
 * arena.c - chunked bump allocator (nginx pool style).
 *
 * Small allocations are carved from fixed-size chunks; an allocation larger
 * than a quarter of a chunk gets its own block so that it wastes no chunk
 * space. Everything is released at once by connrt_arena_destroy (or reused
 * by connrt_arena_reset).
 */
#include "arena.h"

#include <stdalign.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define ARENA_CHUNK_SIZE ((size_t)64 * 1024)
#define ARENA_LARGE_LIMIT (ARENA_CHUNK_SIZE / 4)
#define ARENA_ALIGN (alignof(max_align_t))

struct arena_block {
    struct arena_block *next;
    size_t size; /* usable bytes after the header */
    size_t used;
};

static atomic_size_t last_generation;

struct connrt_arena {
    struct arena_block *chunks;  /* chunks->used grows; head is the current chunk */
    struct arena_block *spare;   /* reset chunks ready for reuse */
    struct arena_block *large;   /* one block per large allocation */
    size_t used;                 /* bytes handed out */
    size_t generation;           /* see connrt_arena_generation */
};

static size_t align_up(size_t n)
{
    return (n + ARENA_ALIGN - 1) & ~(ARENA_ALIGN - 1);
}

/* The block header is padded so that the data after it is aligned. */
static size_t header_size(void)
{
    return align_up(sizeof(struct arena_block));
}

static unsigned char *block_data(struct arena_block *b)
{
    return (unsigned char *)b + header_size();
}

static struct arena_block *block_new(size_t size)
{
    if (size > SIZE_MAX - header_size()) {
        return NULL;
    }
    struct arena_block *b = malloc(header_size() + size);
    if (b == NULL) {
        return NULL;
    }
    b->next = NULL;
    b->size = size;
    b->used = 0;
    return b;
}

static void block_list_free(struct arena_block *b)
{
    while (b != NULL) {
        struct arena_block *next = b->next;
        free(b);
        b = next;
    }
}

connrt_arena_t *connrt_arena_new(void)
{
    connrt_arena_t *arena = calloc(1, sizeof(*arena));
    if (arena != NULL) {
        arena->generation = atomic_fetch_add(&last_generation, 1) + 1;
    }
    return arena;
}

void connrt_arena_destroy(connrt_arena_t *arena)
{
    if (arena == NULL) {
        return;
    }
    block_list_free(arena->chunks);
    block_list_free(arena->spare);
    block_list_free(arena->large);
    free(arena);
}

void connrt_arena_reset(connrt_arena_t *arena)
{
    /* Keep the chunks for the next round; large blocks are exceptional. */
    while (arena->chunks != NULL) {
        struct arena_block *b = arena->chunks;
        arena->chunks = b->next;
        b->used = 0;
        b->next = arena->spare;
        arena->spare = b;
    }
    block_list_free(arena->large);
    arena->large = NULL;
    arena->used = 0;
    arena->generation = atomic_fetch_add(&last_generation, 1) + 1;
}

size_t connrt_arena_generation(const connrt_arena_t *arena)
{
    return arena->generation;
}

static void *alloc_large(connrt_arena_t *arena, size_t size)
{
    struct arena_block *b = block_new(size);
    if (b == NULL) {
        return NULL;
    }
    b->used = size;
    b->next = arena->large;
    arena->large = b;
    return block_data(b);
}

static struct arena_block *next_chunk(connrt_arena_t *arena)
{
    struct arena_block *b = arena->spare;
    if (b != NULL) {
        arena->spare = b->next;
    } else {
        b = block_new(ARENA_CHUNK_SIZE);
        if (b == NULL) {
            return NULL;
        }
    }
    b->next = arena->chunks;
    arena->chunks = b;
    return b;
}

void *connrt_arena_alloc(connrt_arena_t *arena, size_t size)
{
    if (size == 0) {
        size = 1;
    }
    if (size > ARENA_LARGE_LIMIT) {
        void *p = alloc_large(arena, size);
        if (p != NULL) {
            arena->used += size;
        }
        return p;
    }
    size_t need = align_up(size);
    struct arena_block *b = arena->chunks;
    if (b == NULL || b->size - b->used < need) {
        b = next_chunk(arena);
        if (b == NULL) {
            return NULL;
        }
    }
    void *p = block_data(b) + b->used;
    b->used += need;
    arena->used += size;
    return p;
}

void *connrt_arena_memdup(connrt_arena_t *arena, const void *p, size_t len)
{
    void *copy = connrt_arena_alloc(arena, len);
    if (copy != NULL && len > 0) {
        memcpy(copy, p, len);
    }
    return copy;
}

char *connrt_arena_strndup(connrt_arena_t *arena, const char *s, size_t len)
{
    char *copy = connrt_arena_alloc(arena, len + 1);
    if (copy == NULL) {
        return NULL;
    }
    memcpy(copy, s, len);
    copy[len] = '\0';
    return copy;
}

char *connrt_arena_strdup(connrt_arena_t *arena, const char *s)
{
    if (s == NULL) {
        return NULL;
    }
    return connrt_arena_strndup(arena, s, strlen(s));
}

size_t connrt_arena_used(const connrt_arena_t *arena)
{
    return arena->used;
}
