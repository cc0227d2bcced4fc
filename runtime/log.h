/*
 * log.h - where log lines go: stderr (text for people, or JSON) and, in a
 * container, the JSON Lines file logs/connrt.jsonl. Every line carries its
 * time, level, component id, and the process and execution that the
 * calling thread is running, when known.
 *
 * The runtime never logs setting values; connectors must not pass secrets
 * to host->log either (the host cannot tell a secret from other text).
 */
#ifndef CONNRT_LOG_H
#define CONNRT_LOG_H

#include <connrt/connector.h>

typedef enum { CONNRT_LOG_FORMAT_TEXT = 0, CONNRT_LOG_FORMAT_JSON } connrt_log_format_t;

/* Format of the lines on stderr (default text: "connrt[LEVEL] COMPONENT: MESSAGE"). */
void connrt_log_set_format(connrt_log_format_t format);

/* Least severe level of the lines written by connrt_log_to_file (host->log
 * filters with connrt_host_set_log_level). Default CONNRT_LOG_INFO. */
void connrt_log_set_level(connrt_log_level_t level);

/*
 * Also append every line, as JSON, to the file at `path` (copied). The file
 * and its directory are created at the first line, mode 0640 / 0750; when
 * that fails, one warning goes to stderr and lines go to stderr only. NULL
 * closes the file and stops. Not thread-safe against concurrent logging:
 * call it while no other thread logs (container open and destroy).
 */
void connrt_log_set_file(const char *path);

/* Tags the calling thread's lines with a process id (borrowed until the
 * next call) and an execution id (0: none). NULL clears both. */
void connrt_log_set_context(const char *process_id, long long execution_id);

/* One line, already formatted, to stderr and the log file. Thread-safe;
 * no level filtering (the caller filters). */
void connrt_log_write(connrt_log_level_t level, const char *component_id, const char *message);

/* One line to the log file only (stderr has the run's own report), if
 * `level` passes the level of connrt_log_set_level. */
void connrt_log_to_file(connrt_log_level_t level, const char *component_id, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

#endif
