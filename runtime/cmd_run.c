/*
 * cmd_run.c - `connrt run FILES... [--process ID] [--container DIR]
 * [--input PATH|-] [--input-format lines|jsonl] [--output PATH|-]`:
 * one execution of one process (DESIGN §7).
 */
#include <pthread.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "commands.h"
#include "container.h"
#include "deployment.h"
#include "engine.h"
#include "listener.h"

#define RUN_USAGE                                                                              \
    "usage: connrt run FILES... [--process ID] [--container DIR] [--input PATH|-]\n"           \
    "                  [--input-format lines|jsonl] [--output PATH|-]\n"

struct run_args {
    char **files;
    size_t nfiles;
    const char *process;
    const char *container;
    const char *input;
    const char *input_format;
    const char *output;
};

/* "--name VALUE" or "--name=VALUE". Returns 1 when argv[*i] is that
 * option (advancing *i), 0 when not, -1 when the value is missing. */
static int option_value(int argc, char **argv, int *i, const char *name, const char **out)
{
    size_t n = strlen(name);
    if (strncmp(argv[*i], name, n) != 0) {
        return 0;
    }
    if (argv[*i][n] == '=') {
        *out = argv[*i] + n + 1;
        return 1;
    }
    if (argv[*i][n] != '\0') {
        return 0;
    }
    if (*i + 1 >= argc) {
        return -1;
    }
    *out = argv[++*i];
    return 1;
}

static int parse_args(int argc, char **argv, struct run_args *a)
{
    static const struct {
        const char *name;
        size_t offset;
    } options[] = {
        {"--process", offsetof(struct run_args, process)},
        {"--container", offsetof(struct run_args, container)},
        {"--input-format", offsetof(struct run_args, input_format)},
        {"--input", offsetof(struct run_args, input)},
        {"--output", offsetof(struct run_args, output)},
    };
    for (int i = 1; i < argc; i++) {
        int matched = 0;
        for (size_t k = 0; k < sizeof(options) / sizeof(options[0]) && !matched; k++) {
            const char **slot = (const char **)((char *)a + options[k].offset);
            matched = option_value(argc, argv, &i, options[k].name, slot);
            if (matched < 0) {
                fprintf(stderr, "connrt run: %s needs a value\n" RUN_USAGE, options[k].name);
                return -1;
            }
        }
        if (matched) {
            continue;
        }
        if (argv[i][0] == '-' && argv[i][1] != '\0') {
            fprintf(stderr, "connrt run: unknown option '%s'\n" RUN_USAGE, argv[i]);
            return -1;
        }
        a->files[a->nfiles++] = argv[i];
    }
    return 0;
}

/* Comma-separated ids of every process, for messages. */
static void list_processes(const connrt_definitions_t *defs, char *buf, size_t size)
{
    size_t used = 0;
    buf[0] = '\0';
    for (size_t i = 0; i < connrt_definitions_count(defs); i++) {
        const struct connrt_def_component *c = connrt_definitions_at(defs, i);
        if (c->kind != CONNRT_COMPONENT_PROCESS || used >= size) {
            continue;
        }
        int n = snprintf(buf + used, size - used, "%s%s", used ? ", " : "", c->id);
        used += n > 0 ? (size_t)n : 0;
    }
}

/* The process to run. Returns NULL after printing why. */
static const struct connrt_def_component *select_process(const connrt_definitions_t *defs,
                                                         const char *id)
{
    char ids[2048];
    const struct connrt_def_component *found = NULL;
    size_t nprocesses = 0;
    for (size_t i = 0; i < connrt_definitions_count(defs); i++) {
        const struct connrt_def_component *c = connrt_definitions_at(defs, i);
        if (c->kind != CONNRT_COMPONENT_PROCESS) {
            continue;
        }
        nprocesses++;
        if (id == NULL || strcmp(c->id, id) == 0) {
            found = found ? found : c;
        }
    }
    list_processes(defs, ids, sizeof(ids));
    if (nprocesses == 0) {
        fprintf(stderr, "connrt run: the definitions hold no process\n");
        return NULL;
    }
    if (id == NULL && nprocesses > 1) {
        fprintf(stderr, "connrt run: the definitions hold %zu processes; choose one with "
                "--process ID (%s)\n", nprocesses, ids);
        return NULL;
    }
    if (found == NULL) {
        fprintf(stderr, "connrt run: no process '%s' (processes: %s)\n", id, ids);
    }
    return found;
}

static void print_listener_summary(const char *process_id,
                                   const struct connrt_listener_counts *c, double seconds)
{
    fprintf(stderr,
            "connrt: listener %s: %zu executions (%zu failed and retried), %zu documents: "
            "%zu success, %zu application errors, %zu failures; at most %zu at once (%.2f s)\n",
            process_id, c->executions, c->failed_executions, c->documents, c->success,
            c->application_errors, c->failures, c->max_running, seconds);
}

/* A listen process runs until SIGINT or SIGTERM, then drains: running
 * executions finish and commit, the group is left, exit 0. The signals are
 * blocked before any thread starts, so only sigwait here receives them. */
static int run_listener(connrt_container_t *container, const connrt_definitions_t *defs,
                        const struct connrt_def_component *process,
                        const struct connrt_engine_options *opts)
{
    char errstr[2048] = "";
    sigset_t stop_signals;
    struct timespec start, end;
    struct connrt_listener_counts counts = {0};
    int sig = 0;
    sigemptyset(&stop_signals);
    sigaddset(&stop_signals, SIGINT);
    sigaddset(&stop_signals, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &stop_signals, NULL);
    clock_gettime(CLOCK_MONOTONIC, &start);
    connrt_listener_t *l =
        connrt_listener_start(container, defs, process, opts, errstr, sizeof(errstr));
    if (l == NULL) {
        fprintf(stderr, "connrt: %s\n", errstr);
        return CONNRT_EXIT_FAILURE;
    }
    fprintf(stderr, "connrt: listener %s started; SIGINT or SIGTERM stops it\n", process->id);
    sigwait(&stop_signals, &sig);
    fprintf(stderr, "connrt: listener %s: %s received, draining (a second one stops at once)\n",
            process->id, sig == SIGINT ? "SIGINT" : "SIGTERM");
    /* A drain stuck on a hung execution must still be stoppable. */
    pthread_sigmask(SIG_UNBLOCK, &stop_signals, NULL);
    int rc = connrt_listener_stop(l, &counts, errstr, sizeof(errstr));
    connrt_listener_destroy(l);
    clock_gettime(CLOCK_MONOTONIC, &end);
    print_listener_summary(process->id, &counts,
                           (double)(end.tv_sec - start.tv_sec) +
                               (double)(end.tv_nsec - start.tv_nsec) / 1e9);
    if (rc != 0) {
        fprintf(stderr, "connrt: output: %s\n", errstr);
        return CONNRT_EXIT_FAILURE;
    }
    return CONNRT_EXIT_OK;
}

static int run_process(connrt_container_t *container, const connrt_definitions_t *defs,
                       const struct run_args *a)
{
    struct connrt_engine_options opts = {0};
    const struct connrt_def_component *process = select_process(defs, a->process);
    if (process == NULL) {
        return CONNRT_EXIT_USAGE;
    }
    if (a->input_format != NULL &&
        connrt_input_format_parse(a->input_format, &opts.input_format) != 0) {
        fprintf(stderr, "connrt run: --input-format must be lines or jsonl, not '%s'\n",
                a->input_format);
        return CONNRT_EXIT_USAGE;
    }
    if (a->input != NULL && !connrt_engine_reads_input(process)) {
        fprintf(stderr, "connrt run: --input is not used: process '%s' starts with operation "
                "'%s'\n", process->id,
                process->nsteps > 0 && process->steps[0].operation ? process->steps[0].operation
                                                                   : "?");
        return CONNRT_EXIT_USAGE;
    }
    opts.input = a->input;
    opts.output = a->output;
    if (connrt_listener_starts(container, defs, process)) {
        return run_listener(container, defs, process, &opts);
    }
    return connrt_engine_run(container, defs, process, &opts, NULL);
}

int connrt_cmd_run(int argc, char **argv)
{
    char *files[argc > 0 ? argc : 1];
    struct run_args a = {.files = files};
    if (argc > 1 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)) {
        printf(RUN_USAGE);
        return CONNRT_EXIT_OK;
    }
    if (parse_args(argc, argv, &a) != 0) {
        return CONNRT_EXIT_USAGE;
    }
    int status = CONNRT_EXIT_USAGE;
    connrt_diagnostics_t *diag = connrt_diagnostics_new();
    connrt_container_t *container = diag ? connrt_container_open(a.container, diag) : NULL;
    connrt_definitions_t *defs =
        container ? connrt_deployment_load(a.files, a.nfiles, container, diag) : NULL;
    if (diag == NULL) {
        fprintf(stderr, "connrt run: out of memory\n");
    } else if (defs == NULL || connrt_diag_count(diag) > 0) {
        connrt_diag_print(diag, stderr);
        if (connrt_diag_count(diag) == 0) {
            fprintf(stderr, "connrt run: cannot load the definitions (out of memory?)\n");
        }
    } else {
        status = run_process(container, defs, &a);
    }
    /* The container borrows components from defs: it goes first. */
    connrt_container_destroy(container);
    connrt_definitions_destroy(defs);
    connrt_diagnostics_destroy(diag);
    return status;
}
