/*
 * mock_host.c - see mock_host.h.
 */
#include "mock_host.h"

#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static pthread_mutex_t log_lock = PTHREAD_MUTEX_INITIALIZER;
static char *log_buf;
static size_t log_len;

static void mock_log(connrt_log_level_t level, const char *component_id, const char *fmt, ...)
{
    char line[4096];
    va_list ap;
    int n = snprintf(line, sizeof(line), "%d %s: ", (int)level, component_id);

    va_start(ap, fmt);
    vsnprintf(line + n, sizeof(line) - (size_t)n, fmt, ap);
    va_end(ap);
    if (getenv("MOCK_HOST_VERBOSE") != NULL) {
        fprintf(stderr, "log: %s\n", line);
    }
    pthread_mutex_lock(&log_lock);
    size_t add = strlen(line) + 1;
    char *p = realloc(log_buf, log_len + add + 1);
    if (p != NULL) {
        log_buf = p;
        memcpy(log_buf + log_len, line, add - 1);
        log_buf[log_len + add - 1] = '\n';
        log_len += add;
        log_buf[log_len] = '\0';
    }
    pthread_mutex_unlock(&log_lock);
}

char *mock_log_text(void)
{
    char *copy;

    pthread_mutex_lock(&log_lock);
    copy = strdup(log_buf != NULL ? log_buf : "");
    pthread_mutex_unlock(&log_lock);
    return copy;
}

void mock_log_clear(void)
{
    pthread_mutex_lock(&log_lock);
    free(log_buf);
    log_buf = NULL;
    log_len = 0;
    pthread_mutex_unlock(&log_lock);
}

int mock_log_has(const char *needle)
{
    int has;

    pthread_mutex_lock(&log_lock);
    has = log_buf != NULL && strstr(log_buf, needle) != NULL;
    pthread_mutex_unlock(&log_lock);
    return has;
}

void mock_set(connrt_settings_t *s, const char *name, const char *value)
{
    for (int i = 0; i < s->count; i++) {
        if (strcmp(s->names[i], name) == 0) {
            s->values[i] = value;
            return;
        }
    }
    if (s->count < MOCK_MAX_SETTINGS) {
        s->names[s->count] = name;
        s->values[s->count++] = value;
    }
}

static const char *settings_get(const connrt_settings_t *s, const char *name)
{
    for (int i = 0; i < s->count; i++) {
        if (strcmp(s->names[i], name) == 0) {
            return s->values[i];
        }
    }
    return NULL;
}

static int settings_get_int(const connrt_settings_t *s, const char *name, long long *out)
{
    const char *v = settings_get(s, name);
    char *end;

    if (v == NULL) {
        return -1;
    }
    *out = strtoll(v, &end, 10);
    return *end == '\0' ? 0 : -1;
}

static size_t settings_count(const connrt_settings_t *s)
{
    return (size_t)s->count;
}

static void settings_at(const connrt_settings_t *s, size_t i, const char **name,
                        const char **value)
{
    *name = s->names[i];
    *value = s->values[i];
}

static void wipe(void *buf, size_t len)
{
    memset(buf, 0, len);
}

const struct connrt_host *mock_host(void)
{
    static const struct connrt_host host = {
        .abi_version = CONNRT_ABI_VERSION,
        .struct_size = sizeof(struct connrt_host),
        .log = mock_log,
        .settings_get = settings_get,
        .settings_get_int = settings_get_int,
        .settings_count = settings_count,
        .settings_at = settings_at,
        .wipe = wipe,
    };
    return &host;
}
