/*
 * log.c - log lines to stderr and to a container's logs/connrt.jsonl.
 *
 * Each line is written with one write() on a file opened O_APPEND, so the
 * lines of concurrent threads, and of several connrt processes sharing a
 * container, never interleave. Rotation: the file is only ever appended to,
 * so logrotate's copytruncate is safe.
 */
#include "log.h"

#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "json_memory.h"

#define LOG_MESSAGE_SIZE 1024

static pthread_mutex_t file_lock = PTHREAD_MUTEX_INITIALIZER;
static char *file_path; /* NULL: no log file */
static int file_fd = -1;
static int file_failed; /* opening failed: warned once, stderr only */
static atomic_int stderr_format = CONNRT_LOG_FORMAT_TEXT;
static atomic_int file_level = CONNRT_LOG_INFO;
static _Thread_local const char *context_process;
static _Thread_local long long context_execution;

void connrt_log_set_format(connrt_log_format_t format)
{
    atomic_store(&stderr_format, (int)format);
}

void connrt_log_set_level(connrt_log_level_t level)
{
    atomic_store(&file_level, (int)level);
}

void connrt_log_set_context(const char *process_id, long long execution_id)
{
    context_process = process_id;
    context_execution = process_id != NULL ? execution_id : 0;
}

void connrt_log_set_file(const char *path)
{
    pthread_mutex_lock(&file_lock);
    if (file_fd >= 0) {
        close(file_fd);
    }
    file_fd = -1;
    file_failed = 0;
    free(file_path);
    file_path = path != NULL ? strdup(path) : NULL;
    if (path != NULL && file_path == NULL) {
        fprintf(stderr, "connrt[WARNING] cannot write the log file %s: out of memory; logging "
                "to stderr only\n", path);
    }
    pthread_mutex_unlock(&file_lock);
}

static const char *level_name(connrt_log_level_t level, int upper)
{
    switch (level) {
    case CONNRT_LOG_ERROR:
        return upper ? "ERROR" : "error";
    case CONNRT_LOG_WARNING:
        return upper ? "WARNING" : "warning";
    case CONNRT_LOG_INFO:
        return upper ? "INFO" : "info";
    case CONNRT_LOG_DEBUG:
        return upper ? "DEBUG" : "debug";
    }
    return upper ? "LOG" : "log";
}

/* "2024-11-24T10:00:00.123Z" (UTC). */
static void time_text(char *buf, size_t size)
{
    struct timespec now;
    struct tm tm;
    clock_gettime(CLOCK_REALTIME, &now);
    gmtime_r(&now.tv_sec, &tm);
    size_t n = strftime(buf, size, "%Y-%m-%dT%H:%M:%S", &tm);
    snprintf(buf + n, size - n, ".%03ldZ", now.tv_nsec / 1000000);
}

/* A JSON string of `s`; bytes that are not valid UTF-8 become '?', so a
 * plugin's odd message still makes a valid line. */
static json_t *json_text(const char *s)
{
    json_t *j = json_string(s);
    if (j != NULL) {
        return j;
    }
    char *copy = strdup(s);
    if (copy == NULL) {
        return NULL;
    }
    for (char *p = copy; *p != '\0'; p++) {
        if ((unsigned char)*p >= 0x80) {
            *p = '?';
        }
    }
    j = json_string(copy);
    free(copy);
    return j;
}

/* The line as JSON with its newline; caller frees. NULL on no memory. */
static char *json_line(connrt_log_level_t level, const char *component_id, const char *message)
{
    char when[40];
    time_text(when, sizeof(when));
    json_t *o = json_object();
    if (o == NULL) {
        return NULL;
    }
    json_object_set_new(o, "time", json_string(when));
    json_object_set_new(o, "level", json_string(level_name(level, 0)));
    if (component_id != NULL && component_id[0] != '\0') {
        json_object_set_new(o, "component", json_text(component_id));
    }
    if (context_process != NULL) {
        json_object_set_new(o, "process", json_text(context_process));
    }
    if (context_execution > 0) {
        json_object_set_new(o, "execution", json_integer(context_execution));
    }
    json_object_set_new(o, "message", json_text(message));
    /* Not json_dumps: short of memory it may return a line that is not JSON. */
    char *text = connrt_json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER);
    json_decref(o);
    if (text == NULL) {
        return NULL;
    }
    size_t len = strlen(text);
    char *line = realloc(text, len + 2);
    if (line == NULL) {
        free(text);
        return NULL;
    }
    line[len] = '\n';
    line[len + 1] = '\0';
    return line;
}

/* mkdir of the directory holding `path` (one level), if missing. */
static int make_parent(const char *path)
{
    const char *slash = strrchr(path, '/');
    if (slash == NULL || slash == path) {
        return 0;
    }
    char *dir = strndup(path, (size_t)(slash - path));
    if (dir == NULL) {
        errno = ENOMEM;
        return -1;
    }
    int rc = mkdir(dir, 0750) == 0 || errno == EEXIST ? 0 : -1;
    int saved = errno;
    free(dir);
    errno = saved;
    return rc;
}

/* With file_lock held: the open file, or -1 (warned once). */
static int file_locked(void)
{
    if (file_fd >= 0 || file_path == NULL || file_failed) {
        return file_fd;
    }
    if (make_parent(file_path) == 0) {
        file_fd = open(file_path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0640);
    }
    if (file_fd < 0) {
        file_failed = 1;
        fprintf(stderr, "connrt[WARNING] cannot write the log file %s: %s; logging to stderr "
                "only\n", file_path, strerror(errno));
    }
    return file_fd;
}

static void write_all(int fd, const char *buf, size_t len)
{
    while (len > 0) {
        ssize_t n = write(fd, buf, len);
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n <= 0) {
            return;
        }
        buf += n;
        len -= (size_t)n;
    }
}

static void file_write(const char *line)
{
    pthread_mutex_lock(&file_lock);
    int fd = file_locked();
    if (fd >= 0) {
        write_all(fd, line, strlen(line));
    }
    pthread_mutex_unlock(&file_lock);
}

static int file_wanted(void)
{
    pthread_mutex_lock(&file_lock);
    int wanted = file_path != NULL && !file_failed;
    pthread_mutex_unlock(&file_lock);
    return wanted;
}

void connrt_log_write(connrt_log_level_t level, const char *component_id, const char *message)
{
    int json_stderr = atomic_load(&stderr_format) == CONNRT_LOG_FORMAT_JSON;
    char *line = (json_stderr || file_wanted()) ? json_line(level, component_id, message) : NULL;
    if (json_stderr && line != NULL) {
        fputs(line, stderr);
    } else if (component_id != NULL && component_id[0] != '\0') {
        fprintf(stderr, "connrt[%s] %s: %s\n", level_name(level, 1), component_id, message);
    } else {
        fprintf(stderr, "connrt[%s] %s\n", level_name(level, 1), message);
    }
    if (line != NULL) {
        file_write(line);
    }
    free(line);
}

void connrt_log_to_file(connrt_log_level_t level, const char *component_id, const char *fmt, ...)
{
    char message[LOG_MESSAGE_SIZE];
    if ((int)level > atomic_load(&file_level) || !file_wanted()) {
        return;
    }
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(message, sizeof(message), fmt, ap);
    va_end(ap);
    char *line = json_line(level, component_id, message);
    if (line != NULL) {
        file_write(line);
    }
    free(line);
}
