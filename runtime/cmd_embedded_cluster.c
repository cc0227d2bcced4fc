/*
 * cmd_embedded_cluster.c - `connrt embedded-cluster [--brokers N]
 * [--topic NAME:PARTITIONS]...`: run the embedded (mock) Kafka cluster alone.
 *
 * Prints the bootstrap servers as the first line of stdout, then reads fault
 * commands on stdin, one per line, answering "ok" or "error: ..." on stdout
 * (see kafka_embedded_cluster_command). End of stdin does not stop it;
 * SIGINT and SIGTERM do, with exit status 0.
 */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../connector-kafka/embedded_cluster.h"
#include "commands.h"

#define EC_MAX_TOPICS 256
#define EC_LINE_MAX 4096

static const char ec_usage[] =
    "usage: connrt embedded-cluster [--brokers N] [--topic NAME:PARTITIONS]...\n"
    "Runs an in-process Kafka test cluster (librdkafka's mock: in memory, about 5 MiB kept\n"
    "per partition, no SASL or TLS). Prints its bootstrap servers on the first line, then\n"
    "reads commands on stdin, one per line, answering 'ok' or 'error: ...':\n"
    "  broker down ID|all     broker up ID|all     rtt ID|all MS\n"
    "  error API COUNT ERROR_NAME   (e.g. error Produce 3 NOT_ENOUGH_REPLICAS)\n"
    "  error clear API|all          (drop pushed errors that no request has taken)\n"
    "  topic NAME PARTITIONS        topic-error NAME ERROR_NAME   (NO_ERROR clears it)\n"
    "Stops on SIGINT or SIGTERM.\n";

struct ec_options {
    long brokers;
    const char *topics[EC_MAX_TOPICS];
    int ntopics;
};

static int ec_usage_error(const char *fmt, const char *arg)
{
    fprintf(stderr, "connrt embedded-cluster: ");
    fprintf(stderr, fmt, arg);
    fprintf(stderr, "\n%s", ec_usage);
    return CONNRT_EXIT_USAGE;
}

/* "--name VALUE" or "--name=VALUE"; advances *i past what it used. */
static const char *ec_option_value(int argc, char **argv, int *i, const char *name)
{
    size_t len = strlen(name);
    const char *arg = argv[*i];

    if (strncmp(arg, name, len) != 0) {
        return NULL;
    }
    if (arg[len] == '=') {
        return arg + len + 1;
    }
    if (arg[len] == '\0' && *i + 1 < argc) {
        *i += 1;
        return argv[*i];
    }
    return NULL;
}

static int ec_parse_args(int argc, char **argv, struct ec_options *o)
{
    o->brokers = 1;
    o->ntopics = 0;
    for (int i = 1; i < argc; i++) {
        const char *v;
        char *end;
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            fputs(ec_usage, stdout);
            return 1;
        }
        if ((v = ec_option_value(argc, argv, &i, "--brokers")) != NULL) {
            errno = 0;
            o->brokers = strtol(v, &end, 10);
            if (errno != 0 || end == v || *end != '\0' || o->brokers < 1 || o->brokers > 64) {
                return ec_usage_error("--brokers: expected 1..64, got '%s'", v);
            }
        } else if ((v = ec_option_value(argc, argv, &i, "--topic")) != NULL) {
            if (o->ntopics == EC_MAX_TOPICS) {
                return ec_usage_error("too many --topic options (at most %s)", "256");
            }
            o->topics[o->ntopics++] = v;
        } else {
            return ec_usage_error("unknown or incomplete argument '%s'", argv[i]);
        }
    }
    return 0;
}

/* "NAME:PARTITIONS" (or "NAME": one partition). */
static int ec_create_topic(kafka_embedded_cluster_t *cluster, const char *spec)
{
    char name[512], errstr[512];
    const char *colon = strrchr(spec, ':');
    size_t len = colon ? (size_t)(colon - spec) : strlen(spec);
    long parts = 1;

    if (len == 0 || len >= sizeof(name)) {
        return ec_usage_error("--topic '%s': expected NAME:PARTITIONS", spec);
    }
    if (colon != NULL) {
        char *end;
        errno = 0;
        parts = strtol(colon + 1, &end, 10);
        if (errno != 0 || end == colon + 1 || *end != '\0' || parts < 1 || parts > 10000) {
            return ec_usage_error("--topic '%s': PARTITIONS must be 1..10000", spec);
        }
    }
    memcpy(name, spec, len);
    name[len] = '\0';
    if (kafka_embedded_cluster_create_topic(cluster, name, (int)parts, errstr,
                                            sizeof(errstr)) != 0) {
        fprintf(stderr, "connrt embedded-cluster: %s\n", errstr);
        return CONNRT_EXIT_FAILURE;
    }
    return 0;
}

static void ec_log(void *opaque, int level, const char *message)
{
    (void)opaque;
    (void)level;
    fprintf(stderr, "connrt embedded-cluster: %s\n", message);
}

/* ------------------------------------------------------------------------ */
/* Signals and the command loop                                             */
/* ------------------------------------------------------------------------ */

static int ec_signal_pipe[2] = {-1, -1};

static void ec_on_signal(int sig)
{
    int saved = errno;
    char c = (char)sig;

    if (write(ec_signal_pipe[1], &c, 1) < 0) {
        /* Nothing to do: the pipe is full, a stop is already pending. */
    }
    errno = saved;
}

static void ec_answer(kafka_embedded_cluster_t *cluster, const char *line)
{
    char errstr[512];

    if (kafka_embedded_cluster_command(cluster, line, errstr, sizeof(errstr)) == 0) {
        fputs("ok\n", stdout);
    } else {
        fprintf(stdout, "error: %s\n", errstr);
    }
    fflush(stdout);
}

/* Answer every complete line of buf[0..*len); keep the rest. A line longer
 * than the buffer is answered with an error and skipped. */
static void ec_lines(kafka_embedded_cluster_t *cluster, char *buf, size_t *len, int at_eof,
                     int *skipping)
{
    size_t start = 0;

    for (size_t i = 0; i < *len; i++) {
        if (buf[i] != '\n') {
            continue;
        }
        buf[i] = '\0';
        if (i > start && buf[i - 1] == '\r') {
            buf[i - 1] = '\0';
        }
        if (!*skipping && buf[start] != '\0') {
            ec_answer(cluster, buf + start);
        }
        *skipping = 0;
        start = i + 1;
    }
    memmove(buf, buf + start, *len - start);
    *len -= start;
    if (*len == EC_LINE_MAX - 1 || (at_eof && *len > 0)) {
        buf[*len] = '\0';
        if (at_eof && !*skipping) {
            ec_answer(cluster, buf);
        } else if (!*skipping) {
            fprintf(stdout, "error: line longer than %d bytes\n", EC_LINE_MAX - 1);
            fflush(stdout);
            *skipping = 1;
        }
        *len = 0;
    }
}

static void ec_serve(kafka_embedded_cluster_t *cluster)
{
    char buf[EC_LINE_MAX];
    size_t len = 0;
    int stdin_open = 1, skipping = 0;

    for (;;) {
        struct pollfd fds[2] = {{ec_signal_pipe[0], POLLIN, 0}, {STDIN_FILENO, POLLIN, 0}};
        ssize_t n;
        if (poll(fds, stdin_open ? 2 : 1, -1) < 0) {
            if (errno == EINTR) {
                continue;
            }
            return;
        }
        if (fds[0].revents != 0) {
            return; /* SIGINT or SIGTERM */
        }
        if (!stdin_open || fds[1].revents == 0) {
            continue;
        }
        n = read(STDIN_FILENO, buf + len, EC_LINE_MAX - 1 - len);
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n <= 0) {
            ec_lines(cluster, buf, &len, 1, &skipping);
            stdin_open = 0; /* end of stdin does not stop the cluster */
            continue;
        }
        len += (size_t)n;
        ec_lines(cluster, buf, &len, 0, &skipping);
    }
}

static int ec_run(const struct ec_options *o)
{
    char errstr[512];
    kafka_embedded_cluster_t *cluster =
        kafka_embedded_cluster_new((int)o->brokers, ec_log, NULL, errstr, sizeof(errstr));

    if (cluster == NULL) {
        fprintf(stderr, "connrt embedded-cluster: %s\n", errstr);
        return CONNRT_EXIT_FAILURE;
    }
    for (int i = 0; i < o->ntopics; i++) {
        int rc = ec_create_topic(cluster, o->topics[i]);
        if (rc != 0) {
            kafka_embedded_cluster_destroy(cluster);
            return rc;
        }
    }
    printf("%s\n", kafka_embedded_cluster_bootstraps(cluster));
    fflush(stdout);
    ec_serve(cluster);
    kafka_embedded_cluster_destroy(cluster);
    return CONNRT_EXIT_OK;
}

int connrt_cmd_embedded_cluster(int argc, char **argv)
{
    struct ec_options o;
    struct sigaction sa, old_int, old_term, old_pipe;
    int rc = ec_parse_args(argc, argv, &o);

    if (rc != 0) {
        return rc == 1 ? CONNRT_EXIT_OK : rc;
    }
    if (pipe(ec_signal_pipe) != 0) {
        perror("connrt embedded-cluster: pipe");
        return CONNRT_EXIT_FAILURE;
    }
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = ec_on_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, &old_int);
    sigaction(SIGTERM, &sa, &old_term);
    /* A reader that went away must not kill the cluster with SIGPIPE. */
    sa.sa_handler = SIG_IGN;
    sigaction(SIGPIPE, &sa, &old_pipe);

    rc = ec_run(&o);

    sigaction(SIGINT, &old_int, NULL);
    sigaction(SIGTERM, &old_term, NULL);
    sigaction(SIGPIPE, &old_pipe, NULL);
    close(ec_signal_pipe[0]);
    close(ec_signal_pipe[1]);
    ec_signal_pipe[0] = ec_signal_pipe[1] = -1;
    return rc;
}
