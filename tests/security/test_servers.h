/*
 * test_servers.h - start the loopback test servers of tests/security/ (fake
 * Kafka login broker, OAuth token endpoint, MIT KDC) as children of a test,
 * wait for their READY and EVENT lines with deadlines, stop them.
 *
 * Children get a parent-death signal and a stdin pipe whose end of file
 * stops the Python servers, so nothing outlives a crashed test.
 */
#ifndef CONNRT_TEST_SERVERS_H
#define CONNRT_TEST_SERVERS_H

#include <stddef.h>
#include <sys/types.h>

#define TS_SKIP 77 /* a tool is missing: the test skips */

struct test_server {
    pid_t pid;
    int out;    /* child's stdout and stderr */
    int in;     /* child's stdin */
    int port;   /* from "READY <port>" */
    char *text; /* everything read so far (owned) */
    size_t len, cursor;
};

/* Deadline multiplier: CONNRT_TEST_TIMEOUT_SCALE (default 1; sanitizers 3). */
int ts_scale(void);
/* $top_srcdir or "." */
const char *ts_srcdir(void);
/* $PYTHON3 or /usr/bin/python3 */
const char *ts_python(void);

/* Start argv (argv[0] a path) with `env` ("K=V", NULL-terminated, may be
 * NULL) added to the environment. 0 or -1. */
int ts_start(struct test_server *s, const char *const argv[], const char *const env[]);

/* Start python3 tests/security/SCRIPT ARGS... and wait for READY. 0, TS_SKIP
 * when the interpreter or a module is missing, -1. */
int ts_start_python(struct test_server *s, const char *script, const char *const args[],
                    const char *const env[]);

/* Wait until a line after the cursor contains `needle`; the cursor moves
 * past it. The line goes to `line` (may be NULL). 0, or -1 at the deadline
 * or when the child ended. */
int ts_wait(struct test_server *s, const char *needle, int timeout_ms, char *line,
            size_t line_size);

/* Lines read so far (from the start) that contain `needle`. */
int ts_count(struct test_server *s, const char *needle);

/* Whether all output so far contains `needle`. */
int ts_seen(struct test_server *s, const char *needle);

/* Stop (SIGTERM, then SIGKILL) and reap. Safe on a zeroed struct. */
void ts_stop(struct test_server *s);

/* Run a shell command; its exit status (TS_SKIP passes through). */
int ts_run(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* New private directory under $TMPDIR into buf. 0 or -1. */
int ts_tmpdir(char *buf, size_t size, const char *tag);

/* rm -rf dir. */
void ts_rmdir(const char *dir);

/* A free loopback TCP port (bind to port 0 and close). */
int ts_free_port(void);

/* Read a whole file (owned), NULL on error. */
char *ts_read_file(const char *path);

/* Whether a test PKI could be made in DIR (make-test-pki.sh): 0, TS_SKIP, -1. */
int ts_make_pki(const char *dir);

#endif
