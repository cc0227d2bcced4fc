/*
 * alloc_hook.c - see alloc_hook.h. The __wrap_ functions replace the C
 * library's allocation functions for the objects linked into the test
 * program (ld --wrap); __real_ reaches the real ones.
 */
#include "alloc_hook.h"

#include <errno.h>
#include <execinfo.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libxml/parser.h>
#include <libxml/xmlmemory.h>
#include <libxml/xmlschemas.h>

void *__real_malloc(size_t size);
void *__real_calloc(size_t n, size_t size);
void *__real_realloc(void *p, size_t size);
void *__real_reallocarray(void *p, size_t n, size_t size);
void __real_free(void *p);
char *__real_strdup(const char *s);
char *__real_strndup(const char *s, size_t n);
int __real_vasprintf(char **out, const char *fmt, va_list ap);

void *__wrap_malloc(size_t size);
void *__wrap_calloc(size_t n, size_t size);
void *__wrap_realloc(void *p, size_t size);
void *__wrap_reallocarray(void *p, size_t n, size_t size);
void __wrap_free(void *p);
char *__wrap_strdup(const char *s);
char *__wrap_strndup(const char *s, size_t n);
int __wrap_vasprintf(char **out, const char *fmt, va_list ap);
int __wrap_asprintf(char **out, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Live blocks: a chained hash table keyed by address. Its nodes come from
 * the real allocator, so the table never counts itself. */
#define BUCKETS (1u << 16)

struct block {
    void *ptr;
    unsigned long serial; /* its number in the run that allocated it */
    unsigned long epoch;  /* that run */
    struct block *next;
};

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static struct block *buckets[BUCKETS];
static struct block *spare; /* freed nodes, reused */
static unsigned long epoch;
static unsigned long counted;
static unsigned long fail_at;
static int failed;
/* Debugging: ALLOC_BACKTRACE prints where the failing allocation is made,
 * ALLOC_SHOW=N where allocation N of each run is made. */
static int show_failure;
static unsigned long show_at;

static size_t bucket_of(const void *p)
{
    uintptr_t x = (uintptr_t)p >> 4;
    return (size_t)((x ^ (x >> 16)) & (BUCKETS - 1));
}

/* Takes the next number; returns 1 when this allocation must fail. Locked. */
static int next_fails(unsigned long *serial)
{
    *serial = ++counted;
    int fail = fail_at != 0 && counted == fail_at;
    if ((fail && show_failure) || (show_at != 0 && counted == show_at)) {
        void *frames[32];
        int n = backtrace(frames, 32);
        fprintf(stderr, "alloc_hook: %s allocation %lu at:\n", fail ? "failing" : "making",
                counted);
        backtrace_symbols_fd(frames, n, 2);
    }
    failed |= fail;
    return fail;
}

/* Locked. A node that cannot be had is dropped: the block is then simply
 * not tracked (the test's leak check can only miss, never invent one). */
static void track(void *p, unsigned long serial)
{
    struct block *b = spare;
    size_t i = bucket_of(p);

    if (b != NULL) {
        spare = b->next;
    } else if ((b = __real_malloc(sizeof(*b))) == NULL) {
        return;
    }
    b->ptr = p;
    b->serial = serial;
    b->epoch = epoch;
    b->next = buckets[i];
    buckets[i] = b;
}

/* Locked. Forgets `p` if it is tracked. */
static void untrack(void *p)
{
    for (struct block **link = &buckets[bucket_of(p)]; *link != NULL; link = &(*link)->next) {
        if ((*link)->ptr == p) {
            struct block *b = *link;
            *link = b->next;
            b->next = spare;
            spare = b;
            return;
        }
    }
}

/* Inside a call whose allocations are not counted (see below). */
static _Thread_local int suspended;

/* Numbers an allocation about to happen: 0 when it must fail. */
static int begin(unsigned long *serial)
{
    if (suspended) {
        *serial = 0;
        return 1;
    }
    pthread_mutex_lock(&lock);
    int fail = next_fails(serial);
    pthread_mutex_unlock(&lock);
    return !fail;
}

static void *finish(void *p, unsigned long serial)
{
    if (p != NULL) {
        pthread_mutex_lock(&lock);
        untrack(p); /* an address freed behind our back (by another library) */
        track(p, serial);
        pthread_mutex_unlock(&lock);
    }
    return p;
}

static void *fail_null(void)
{
    errno = ENOMEM;
    return NULL;
}

void *__wrap_malloc(size_t size)
{
    unsigned long serial;
    return begin(&serial) ? finish(__real_malloc(size), serial) : fail_null();
}

void *__wrap_calloc(size_t n, size_t size)
{
    unsigned long serial;
    return begin(&serial) ? finish(__real_calloc(n, size), serial) : fail_null();
}

/* realloc(p, 0) frees p: not an allocation. A failed realloc leaves p as
 * it was (tracked). */
static void *resize(void *p, void *q, unsigned long serial)
{
    if (q != NULL && p != NULL) {
        pthread_mutex_lock(&lock);
        untrack(p);
        pthread_mutex_unlock(&lock);
    }
    return finish(q, serial);
}

void *__wrap_realloc(void *p, size_t size)
{
    unsigned long serial;
    if (p != NULL && size == 0) {
        __wrap_free(p);
        return NULL;
    }
    return begin(&serial) ? resize(p, __real_realloc(p, size), serial) : fail_null();
}

void *__wrap_reallocarray(void *p, size_t n, size_t size)
{
    unsigned long serial;
    return begin(&serial) ? resize(p, __real_reallocarray(p, n, size), serial) : fail_null();
}

void __wrap_free(void *p)
{
    if (p == NULL) {
        return;
    }
    pthread_mutex_lock(&lock);
    untrack(p);
    pthread_mutex_unlock(&lock);
    __real_free(p);
}

char *__wrap_strdup(const char *s)
{
    unsigned long serial;
    return begin(&serial) ? finish(__real_strdup(s), serial) : fail_null();
}

char *__wrap_strndup(const char *s, size_t n)
{
    unsigned long serial;
    return begin(&serial) ? finish(__real_strndup(s, n), serial) : fail_null();
}

/* On failure *out is left as it was: the C library says its content is
 * then undefined, so no caller may use it. */
int __wrap_vasprintf(char **out, const char *fmt, va_list ap)
{
    unsigned long serial;
    if (!begin(&serial)) {
        errno = ENOMEM;
        return -1;
    }
    int rc = __real_vasprintf(out, fmt, ap);
    if (rc >= 0) {
        finish(*out, serial);
    }
    return rc;
}

int __wrap_asprintf(char **out, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int rc = __wrap_vasprintf(out, fmt, ap);
    va_end(ap);
    return rc;
}

/*
 * libxml2 2.9's XSD validator is not safe when an allocation fails: it
 * leaks, and frees a pointer it never allocated in xmlSchemaFreeValidCtxt
 * (found by this test; upstream fixed such paths from 2.11 on). Nothing
 * connrt can do about that, so allocations inside xmlSchemaValidateDoc
 * (wrapped as well) are not counted and never fail.
 */
int __real_xmlSchemaValidateDoc(xmlSchemaValidCtxtPtr ctxt, xmlDocPtr doc);
int __wrap_xmlSchemaValidateDoc(xmlSchemaValidCtxtPtr ctxt, xmlDocPtr doc);

int __wrap_xmlSchemaValidateDoc(xmlSchemaValidCtxtPtr ctxt, xmlDocPtr doc)
{
    suspended++;
    int rc = __real_xmlSchemaValidateDoc(ctxt, doc);
    suspended--;
    return rc;
}

static char *xml_strdup(const char *s)
{
    return __wrap_strdup(s);
}

void alloc_hook_install(void)
{
    /* libxml2's own start-up state comes from the real allocator (freed
     * blocks it did not get from the hook go to the real free anyway). */
    show_failure = getenv("ALLOC_BACKTRACE") != NULL;
    show_at = getenv("ALLOC_SHOW") ? strtoul(getenv("ALLOC_SHOW"), NULL, 10) : 0;
    /* backtrace() loads libgcc on its first call: not while armed. */
    void *frame[1];
    backtrace(frame, 1);
    xmlInitParser();
    xmlMemSetup(__wrap_free, __wrap_malloc, __wrap_realloc, xml_strdup);
}

void alloc_hook_arm(unsigned long n)
{
    pthread_mutex_lock(&lock);
    epoch++;
    counted = 0;
    fail_at = n;
    failed = 0;
    pthread_mutex_unlock(&lock);
}

void alloc_hook_disarm(void)
{
    pthread_mutex_lock(&lock);
    fail_at = 0;
    pthread_mutex_unlock(&lock);
}

unsigned long alloc_hook_count(void)
{
    pthread_mutex_lock(&lock);
    unsigned long n = counted;
    pthread_mutex_unlock(&lock);
    return n;
}

int alloc_hook_failed(void)
{
    pthread_mutex_lock(&lock);
    int f = failed;
    pthread_mutex_unlock(&lock);
    return f;
}

size_t alloc_hook_live(unsigned long *serials, size_t max)
{
    size_t n = 0;
    pthread_mutex_lock(&lock);
    for (size_t i = 0; i < BUCKETS; i++) {
        for (const struct block *b = buckets[i]; b != NULL; b = b->next) {
            if (b->epoch == epoch) {
                if (serials != NULL && n < max) {
                    serials[n] = b->serial;
                }
                n++;
            }
        }
    }
    pthread_mutex_unlock(&lock);
    return n;
}
