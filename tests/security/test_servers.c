/*
 * test_servers.c - see test_servers.h.
 */
#include "test_servers.h"

#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

int ts_scale(void)
{
    const char *v = getenv("CONNRT_TEST_TIMEOUT_SCALE");
    long n = v != NULL ? strtol(v, NULL, 10) : 1;

    return n >= 1 && n <= 20 ? (int)n : 1;
}

const char *ts_srcdir(void)
{
    const char *v = getenv("top_srcdir");

    return v != NULL && v[0] != '\0' ? v : ".";
}

const char *ts_python(void)
{
    const char *v = getenv("PYTHON3");

    return v != NULL && v[0] != '\0' ? v : "/usr/bin/python3";
}

static long long now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int ts_start(struct test_server *s, const char *const argv[], const char *const env[])
{
    int in[2], out[2];
    pid_t parent = getpid();

    memset(s, 0, sizeof(*s));
    s->pid = -1;
    s->in = s->out = -1;
    if (pipe2(in, O_CLOEXEC) != 0 || pipe2(out, O_CLOEXEC) != 0) {
        return -1;
    }
    s->pid = fork();
    if (s->pid == 0) {
        /* Die with the test, even if it crashes. */
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        if (getppid() != parent) {
            _exit(1);
        }
        dup2(in[0], 0);
        dup2(out[1], 1);
        dup2(out[1], 2);
        for (const char *const *e = env; e != NULL && *e != NULL; e++) {
            putenv((char *)*e);
        }
        execv(argv[0], (char *const *)argv);
        fprintf(stderr, "cannot run %s: %s\n", argv[0], strerror(errno));
        _exit(127);
    }
    close(in[0]);
    close(out[1]);
    if (s->pid < 0) {
        close(in[1]);
        close(out[0]);
        return -1;
    }
    s->in = in[1];
    s->out = out[0];
    fcntl(s->out, F_SETFL, fcntl(s->out, F_GETFL) | O_NONBLOCK);
    return 0;
}

/* Read what is there, waiting at most `ms`. -1 when the child closed. */
static int pump(struct test_server *s, int ms)
{
    struct pollfd pfd = {s->out, POLLIN, 0};
    char buf[4096];
    ssize_t n;

    if (s->out < 0) {
        return -1;
    }
    if (poll(&pfd, 1, ms) <= 0) {
        return 0;
    }
    n = read(s->out, buf, sizeof(buf));
    if (n <= 0) {
        return n == 0 || (errno != EAGAIN && errno != EINTR) ? -1 : 0;
    }
    char *p = realloc(s->text, s->len + (size_t)n + 1);
    if (p == NULL) {
        return -1;
    }
    s->text = p;
    memcpy(s->text + s->len, buf, (size_t)n);
    s->len += (size_t)n;
    s->text[s->len] = '\0';
    if (getenv("TEST_SERVERS_VERBOSE") != NULL) {
        fprintf(stderr, "%.*s", (int)n, buf);
    }
    return 0;
}

/* Next complete line after the cursor containing needle: its bounds. */
static int find_line(struct test_server *s, const char *needle, size_t *b, size_t *e)
{
    size_t pos = s->cursor;

    while (s->text != NULL && pos < s->len) {
        char *nl = memchr(s->text + pos, '\n', s->len - pos);
        size_t end;
        if (nl == NULL) {
            return -1;
        }
        end = (size_t)(nl - s->text);
        *nl = '\0';
        int hit = strstr(s->text + pos, needle) != NULL;
        *nl = '\n';
        if (hit) {
            *b = pos;
            *e = end;
            return 0;
        }
        pos = end + 1;
    }
    return -1;
}

int ts_wait(struct test_server *s, const char *needle, int timeout_ms, char *line,
            size_t line_size)
{
    long long deadline = now_ms() + (long long)timeout_ms * ts_scale();
    size_t b, e;

    for (;;) {
        if (find_line(s, needle, &b, &e) == 0) {
            if (line != NULL) {
                snprintf(line, line_size, "%.*s", (int)(e - b), s->text + b);
            }
            s->cursor = e + 1;
            return 0;
        }
        long long left = deadline - now_ms();
        if (left <= 0 || pump(s, (int)(left > 100 ? 100 : left)) != 0) {
            /* one last look at what arrived */
            if (find_line(s, needle, &b, &e) == 0) {
                continue;
            }
            return -1;
        }
    }
}

int ts_count(struct test_server *s, const char *needle)
{
    int n = 0;
    size_t saved = s->cursor, b, e;

    while (pump(s, 0) == 0 && s->out >= 0) {
        struct pollfd pfd = {s->out, POLLIN, 0};
        if (poll(&pfd, 1, 0) <= 0) {
            break;
        }
    }
    s->cursor = 0;
    while (find_line(s, needle, &b, &e) == 0) {
        n++;
        s->cursor = e + 1;
    }
    s->cursor = saved;
    return n;
}

int ts_seen(struct test_server *s, const char *needle)
{
    pump(s, 0);
    return s->text != NULL && strstr(s->text, needle) != NULL;
}

int ts_start_python(struct test_server *s, const char *script, const char *const args[],
                    const char *const env[])
{
    const char *argv[64];
    char path[4096], line[256];
    size_t n = 0;

    if (access(ts_python(), X_OK) != 0) {
        return TS_SKIP;
    }
    snprintf(path, sizeof(path), "%s/tests/security/%s", ts_srcdir(), script);
    argv[n++] = ts_python();
    argv[n++] = path;
    for (size_t i = 0; args != NULL && args[i] != NULL && n < 63; i++) {
        argv[n++] = args[i];
    }
    argv[n] = NULL;
    if (ts_start(s, argv, env) != 0) {
        return -1;
    }
    if (ts_wait(s, "READY ", 10000, line, sizeof(line)) != 0) {
        int missing = ts_seen(s, "ModuleNotFoundError") || ts_seen(s, "ImportError");
        fprintf(stderr, "%s did not start: %s\n", script, s->text ? s->text : "");
        ts_stop(s);
        return missing ? TS_SKIP : -1;
    }
    s->port = (int)strtol(strstr(line, "READY ") + 6, NULL, 10);
    return 0;
}

void ts_stop(struct test_server *s)
{
    if (s->in >= 0) {
        close(s->in);
    }
    if (s->pid > 0) {
        int status;
        long long deadline = now_ms() + 3000;
        kill(s->pid, SIGTERM);
        while (waitpid(s->pid, &status, WNOHANG) == 0) {
            if (now_ms() > deadline) {
                kill(s->pid, SIGKILL);
                waitpid(s->pid, &status, 0);
                break;
            }
            pump(s, 20);
        }
    }
    if (s->out >= 0) {
        close(s->out);
    }
    free(s->text);
    memset(s, 0, sizeof(*s));
    s->pid = -1;
    s->in = s->out = -1;
}

int ts_run(const char *fmt, ...)
{
    char cmd[8192];
    va_list ap;
    int status;

    va_start(ap, fmt);
    vsnprintf(cmd, sizeof(cmd), fmt, ap);
    va_end(ap);
    status = system(cmd);
    return status == -1 ? -1 : WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

int ts_tmpdir(char *buf, size_t size, const char *tag)
{
    const char *tmp = getenv("TMPDIR");

    snprintf(buf, size, "%s/connrt-%s-XXXXXX", tmp != NULL && *tmp ? tmp : "/tmp", tag);
    return mkdtemp(buf) != NULL ? 0 : -1;
}

void ts_rmdir(const char *dir)
{
    if (dir != NULL && dir[0] != '\0' && strstr(dir, "connrt-") != NULL) {
        ts_run("rm -rf '%s'", dir);
    }
}

int ts_free_port(void)
{
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t len = sizeof(a);
    int fd = socket(AF_INET, SOCK_STREAM, 0), port = -1;

    if (fd >= 0 && bind(fd, (struct sockaddr *)&a, sizeof(a)) == 0 &&
        getsockname(fd, (struct sockaddr *)&a, &len) == 0) {
        port = ntohs(a.sin_port);
    }
    if (fd >= 0) {
        close(fd);
    }
    return port;
}

char *ts_read_file(const char *path)
{
    FILE *f = fopen(path, "rb");
    char *buf = NULL;
    long n;

    if (f == NULL) {
        return NULL;
    }
    if (fseek(f, 0, SEEK_END) == 0 && (n = ftell(f)) >= 0 && fseek(f, 0, SEEK_SET) == 0 &&
        (buf = malloc((size_t)n + 1)) != NULL) {
        if (fread(buf, 1, (size_t)n, f) != (size_t)n) {
            free(buf);
            buf = NULL;
        } else {
            buf[n] = '\0';
        }
    }
    fclose(f);
    return buf;
}

int ts_make_pki(const char *dir)
{
    if (ts_run("command -v openssl >/dev/null 2>&1") != 0) {
        return TS_SKIP;
    }
    return ts_run("sh '%s/tests/security/make-test-pki.sh' '%s'", ts_srcdir(), dir) == 0 ? 0
                                                                                          : -1;
}
