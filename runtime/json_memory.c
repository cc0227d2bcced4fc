/*
 * json_memory.c - see json_memory.h.
 */
#include "json_memory.h"

#include <stdlib.h>
#include <string.h>

/* Set when an allocation for jansson failed on this thread. */
static _Thread_local int allocation_failed;

static void *json_malloc(size_t size)
{
    void *p = malloc(size);
    if (p == NULL) {
        allocation_failed = 1;
    }
    return p;
}

static void json_free(void *p)
{
    free(p);
}

void connrt_json_memory_setup(void)
{
    json_set_alloc_funcs(json_malloc, json_free);
}

json_t *connrt_json_loadb(const char *buf, size_t len, size_t flags, json_error_t *err,
                          int *no_memory)
{
    allocation_failed = 0;
    json_t *value = json_loadb(buf, len, flags, err);
    /* jansson 2.14 may even return a value then, with a key cut short. */
    if (value != NULL && allocation_failed) {
        json_decref(value);
        value = NULL;
    }
    if (no_memory != NULL) {
        /* jansson leaves the text empty when it could not even start. */
        *no_memory = value == NULL && (allocation_failed || err->text[0] == '\0' ||
                                       json_error_code(err) == json_error_out_of_memory);
    }
    return value;
}

/* The text being dumped; `failed` remembers a write that could not be
 * made, whatever jansson does with the error. */
struct dump_buffer {
    char *data;
    size_t len, cap;
    int failed;
};

static int dump_append(const char *text, size_t size, void *opaque)
{
    struct dump_buffer *b = opaque;
    if (b->failed) {
        return -1;
    }
    if (b->len + size + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 256;
        while (cap < b->len + size + 1) {
            cap *= 2;
        }
        char *grown = realloc(b->data, cap);
        if (grown == NULL) {
            b->failed = 1;
            return -1;
        }
        b->data = grown;
        b->cap = cap;
    }
    memcpy(b->data + b->len, text, size);
    b->len += size;
    b->data[b->len] = '\0';
    return 0;
}

char *connrt_json_dumps(const json_t *value, size_t flags)
{
    struct dump_buffer b = {NULL, 0, 0, 0};
    allocation_failed = 0;
    if (json_dump_callback(value, dump_append, &b, flags) != 0 || b.failed || allocation_failed ||
        b.data == NULL) {
        free(b.data);
        return NULL;
    }
    return b.data;
}
