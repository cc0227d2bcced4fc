/*
 * host.c - the struct connrt_host table handed to connectors: each entry is
 * a thin adapter onto the runtime's own modules (settings, documents,
 * batches), so that the plugin links no runtime symbol.
 */
#include "host.h"

#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../properties/settings.h"
#include "batch.h"
#include "document.h"
#include "log.h"

#define LOG_LINE_SIZE 1024

static atomic_int log_level = CONNRT_LOG_INFO;

static _Atomic(connrt_listener_submit_fn) listener_submit_hook;
static _Atomic(connrt_listener_submit_fill_fn) listener_submit_fill_hook;
static _Atomic(connrt_listener_batch_new_fn) listener_batch_new_hook;

void connrt_host_set_log_level(connrt_log_level_t level)
{
    atomic_store(&log_level, (int)level);
}

/* Formats the whole message first; log.c writes each line with one call,
 * so lines of concurrent threads do not interleave. */
static void host_log_v(connrt_log_level_t level, const char *component_id, const char *fmt,
                       va_list ap)
{
    char stack[LOG_LINE_SIZE];
    char *msg = stack;
    va_list copy;
    va_copy(copy, ap);
    int n = vsnprintf(stack, sizeof(stack), fmt, ap);
    if (n >= (int)sizeof(stack)) {
        char *heap = malloc((size_t)n + 1);
        if (heap != NULL) {
            vsnprintf(heap, (size_t)n + 1, fmt, copy);
            msg = heap;
        }
    }
    va_end(copy);
    if (n < 0) {
        msg = "(unprintable log message)";
    }
    connrt_log_write(level, component_id, msg);
    if (msg != stack && n >= 0) {
        free(msg);
    }
}

static void host_log(connrt_log_level_t level, const char *component_id, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void host_log(connrt_log_level_t level, const char *component_id, const char *fmt, ...)
{
    if ((int)level > atomic_load(&log_level)) {
        return;
    }
    va_list ap;
    va_start(ap, fmt);
    host_log_v(level, component_id, fmt, ap);
    va_end(ap);
}

static const char *host_settings_get(const connrt_settings_t *settings, const char *name)
{
    return connrt_settings_lookup(settings, name);
}

static int host_settings_get_int(const connrt_settings_t *settings, const char *name,
                                 long long *out)
{
    return connrt_settings_lookup_int(settings, name, out);
}

static size_t host_settings_count(const connrt_settings_t *settings)
{
    return connrt_settings_size(settings);
}

static void host_settings_at(const connrt_settings_t *settings, size_t i, const char **name,
                             const char **value)
{
    connrt_settings_entry(settings, i, name, value);
}

static void host_wipe(void *buf, size_t len)
{
    if (buf != NULL) {
        explicit_bzero(buf, len);
    }
}

static int host_batch_succeed(connrt_batch_t *batch, size_t i)
{
    return connrt_batch_set_success(batch, i);
}

static int host_batch_fail(connrt_batch_t *batch, size_t i, const char *message)
{
    return connrt_batch_set_error(batch, i, message);
}

static int host_listener_submit(connrt_listener_t *listener, connrt_batch_t *batch,
                                void (*done)(void *opaque, connrt_execution_outcome_t outcome),
                                void *opaque, char *errstr, size_t errstr_size)
{
    connrt_listener_submit_fn hook = atomic_load(&listener_submit_hook);
    if (hook == NULL) {
        snprintf(errstr, errstr_size, "no listener is running in this process");
        return -1;
    }
    return hook(listener, batch, done, opaque, errstr, errstr_size);
}

static int host_listener_submit_fill(connrt_listener_t *listener,
                                     int (*fill)(void *opaque, connrt_batch_t *batch),
                                     void (*done)(void *opaque, connrt_execution_outcome_t outcome),
                                     void *opaque, char *errstr, size_t errstr_size)
{
    connrt_listener_submit_fill_fn hook = atomic_load(&listener_submit_fill_hook);
    if (hook == NULL) {
        snprintf(errstr, errstr_size, "no listener is running in this process");
        return -1;
    }
    return hook(listener, fill, done, opaque, errstr, errstr_size);
}

static connrt_batch_t *host_listener_batch_new(connrt_listener_t *listener)
{
    connrt_listener_batch_new_fn hook = atomic_load(&listener_batch_new_hook);
    return hook != NULL ? hook(listener) : NULL;
}

void connrt_host_set_listener_hooks(connrt_listener_submit_fn submit,
                                    connrt_listener_submit_fill_fn submit_fill,
                                    connrt_listener_batch_new_fn batch_new)
{
    atomic_store(&listener_submit_hook, submit);
    atomic_store(&listener_submit_fill_hook, submit_fill);
    atomic_store(&listener_batch_new_hook, batch_new);
}

static const struct connrt_host host_services = {
    .abi_version = CONNRT_ABI_VERSION,
    .struct_size = sizeof(struct connrt_host),
    .log = host_log,
    .settings_get = host_settings_get,
    .settings_get_int = host_settings_get_int,
    .settings_count = host_settings_count,
    .settings_at = host_settings_at,
    .wipe = host_wipe,
    .doc_payload = connrt_document_payload,
    .doc_get_property = connrt_document_get_property,
    .doc_set_property = connrt_document_set_property,
    .doc_property_count = connrt_document_property_count,
    .doc_property_at = connrt_document_property_at,
    .doc_get_tracked = connrt_document_get_tracked,
    .doc_set_tracked = connrt_document_set_tracked,
    .doc_tracked_count = connrt_document_tracked_count,
    .doc_tracked_at = connrt_document_tracked_at,
    .batch_count = connrt_batch_input_count,
    .batch_input = connrt_batch_input_at,
    .batch_succeed = host_batch_succeed,
    .batch_fail = host_batch_fail,
    .batch_emit = connrt_batch_emit,
    .batch_flush = connrt_batch_flush,
    .listener_submit = host_listener_submit,
    .listener_batch_new = host_listener_batch_new,
    .listener_submit_fill = host_listener_submit_fill,
    .batch_wants_tracked = connrt_batch_wants_tracked,
    .doc_set_fields = connrt_document_set_fields,
};

const struct connrt_host *connrt_host_services(void)
{
    return &host_services;
}
