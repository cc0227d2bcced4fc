/*
 * cmd_browse.c - `connrt browse FILES... --connection ID [--container DIR]
 * [--topic T [--group G]... [--peek N]] [--json]`: explore a connection
 * through its connector's connection_browse (ABI 1.2) without changing
 * anything in it.
 *
 * Output: the connector's report (browse_report.h) as aligned tables, or
 * with --json as JSON Lines, on stdout. With --peek, stdout holds only the
 * peeked messages, as JSON Lines shaped like `connrt run` output, and the
 * report goes to stderr as text, so that the messages can be piped on.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "arena.h"
#include "batch.h"
#include "browse_report.h"
#include "commands.h"
#include "connection_cmd.h"
#include "output.h"

#define USAGE                                                                                  \
    "usage: connrt browse FILES... --connection ID [--container DIR]\n"                        \
    "           [--topic T [--group G]... [--peek N]] [--json]\n"
/* Peeked messages written per emit hook call, and the arena they may fill. */
#define PEEK_CHUNK_DOCUMENTS 64
#define PEEK_CHUNK_BYTES ((size_t)4 * 1024 * 1024)

struct browse_args {
    char **files;
    size_t nfiles;
    const char *id, *dir, *topic;
    const char **groups;
    size_t ngroups;
    long long peek;
    int json;
};

static int usage_error(const char *fmt, const char *arg)
{
    fprintf(stderr, "connrt browse: ");
    fprintf(stderr, fmt, arg);
    fprintf(stderr, "\n" USAGE);
    return -1;
}

static int parse_peek(const char *text, long long *out)
{
    char *end;
    long long n = strtoll(text, &end, 10);
    if (*text == '\0' || *end != '\0' || n < 1) {
        return usage_error("--peek needs a number of messages >= 1, not '%s'", text);
    }
    *out = n;
    return 0;
}

/* argv[i] is `name` and has a value: *value, i advanced. */
static int option(int argc, char **argv, int *i, const char *name, const char **value)
{
    if (strcmp(argv[*i], name) != 0 || *i + 1 >= argc) {
        return 0;
    }
    *value = argv[++*i];
    return 1;
}

static int parse_args(int argc, char **argv, struct browse_args *a)
{
    const char *value;
    for (int i = 1; i < argc; i++) {
        if (option(argc, argv, &i, "--connection", &a->id) ||
            option(argc, argv, &i, "--container", &a->dir) ||
            option(argc, argv, &i, "--topic", &a->topic)) {
            continue;
        }
        if (option(argc, argv, &i, "--group", &value)) {
            a->groups[a->ngroups++] = value;
        } else if (option(argc, argv, &i, "--peek", &value)) {
            if (parse_peek(value, &a->peek) != 0) {
                return -1;
            }
        } else if (strcmp(argv[i], "--json") == 0) {
            a->json = 1;
        } else if (argv[i][0] == '-' && argv[i][1] == '-') {
            return usage_error("unknown or incomplete option '%s'", argv[i]);
        } else {
            a->files[a->nfiles++] = argv[i];
        }
    }
    if (a->id == NULL) {
        return usage_error("%s", "--connection ID is required");
    }
    if (a->topic == NULL && (a->ngroups > 0 || a->peek > 0)) {
        return usage_error("%s", "--group and --peek need --topic T");
    }
    return 0;
}

/* ------------------------------------------------------------------------ */
/* Peek                                                                     */
/* ------------------------------------------------------------------------ */

struct peek_output {
    connrt_output_t *out;
    connrt_arena_t *arena;
    int failed;
    char errstr[512];
};

/* Emit hook: write the emitted documents, then free them. */
static int write_peeked(void *opaque, connrt_batch_t *batch, int final)
{
    struct peek_output *p = opaque;
    (void)final; /* written at once either way */
    size_t n = connrt_batch_emitted_count(batch);
    for (size_t i = 0; i < n && !p->failed; i++) {
        const char *message;
        const connrt_document_t *doc = connrt_batch_emitted_at(batch, i, &message);
        p->failed = connrt_output_write(p->out, doc, message, p->errstr, sizeof(p->errstr)) != 0;
    }
    if (!p->failed) {
        p->failed = connrt_output_flush(p->out, p->errstr, sizeof(p->errstr)) != 0;
    }
    /* The batch forgets its documents when this returns. */
    connrt_arena_reset(p->arena);
    return p->failed ? -1 : 0;
}

/* ------------------------------------------------------------------------ */
/* The command                                                              */
/* ------------------------------------------------------------------------ */

static int print_report(const struct browse_args *a, const connrt_browse_output_t *report)
{
    if (a->peek > 0) {
        return connrt_browse_output_print_text(report, stderr);
    }
    return a->json ? connrt_browse_output_print_jsonl(report, stdout)
                   : connrt_browse_output_print_text(report, stdout);
}

static int browse(const struct browse_args *a, const struct connrt_connection_cmd *cmd,
                  connrt_browse_output_t *report, struct peek_output *peek,
                  connrt_batch_t *batch)
{
    connrt_browse_fn fn = connrt_connector_browse(cmd->connector);
    char errstr[1024] = "";

    if (fn == NULL) {
        fprintf(stderr,
                "connrt: connector '%s' cannot browse connections (it is built for ABI %u.%u; "
                "browse came with 1.2)\n",
                cmd->connector->name, CONNRT_ABI_MAJOR(cmd->connector->abi_version),
                CONNRT_ABI_MINOR(cmd->connector->abi_version));
        return CONNRT_EXIT_FAILURE;
    }
    const struct connrt_browse_request request = {
        .struct_size = sizeof(request),
        .topic = a->topic,
        .groups = a->groups,
        .ngroups = a->ngroups,
        .peek = a->peek,
        .peek_batch = batch,
    };
    int rc = fn(cmd->handle, &request, connrt_browse_output_report(report), errstr,
                sizeof(errstr));
    if (batch != NULL && connrt_batch_flush(batch) != 0 && rc == 0) {
        snprintf(errstr, sizeof(errstr), "%s", peek->errstr);
        rc = -1;
    }
    /* What was found before a failure is still worth showing. */
    if (print_report(a, report) != 0) {
        fprintf(stderr, "connrt browse: cannot write the report\n");
        return CONNRT_EXIT_FAILURE;
    }
    if (rc == CONNRT_BROWSE_NOT_FOUND) {
        fprintf(stderr, "connrt browse: %s\n", errstr);
        return CONNRT_EXIT_USAGE;
    }
    if (rc != 0) {
        fprintf(stderr, "connrt: %s: connection '%s': browse failed: %s\n", cmd->where, a->id,
                peek->failed ? peek->errstr : errstr);
        return CONNRT_EXIT_FAILURE;
    }
    if (peek->out != NULL) {
        fprintf(stderr, "peeked %zu message(s) of topic '%s'; no offsets committed\n",
                connrt_output_count(peek->out), a->topic);
    }
    return CONNRT_EXIT_OK;
}

int connrt_cmd_browse(int argc, char **argv)
{
    char *files[argc > 0 ? argc : 1];
    const char *groups[argc > 0 ? argc : 1];
    struct browse_args a = {.files = files, .groups = groups};
    if (parse_args(argc, argv, &a) != 0) {
        return CONNRT_EXIT_USAGE;
    }
    struct connrt_connection_cmd cmd;
    int status = connrt_connection_cmd_open(&cmd, "browse", a.files, a.nfiles, a.dir, a.id);
    connrt_browse_output_t *report = status == CONNRT_EXIT_OK ? connrt_browse_output_new() : NULL;
    struct peek_output peek = {0};
    connrt_batch_t *batch = NULL;
    if (status == CONNRT_EXIT_OK && a.peek > 0) {
        peek.arena = connrt_arena_new();
        peek.out = connrt_output_open_stream(stdout, "stdout");
        batch = peek.arena ? connrt_batch_new(peek.arena) : NULL;
        if (batch != NULL) {
            connrt_batch_set_emit_hook(batch, PEEK_CHUNK_DOCUMENTS, PEEK_CHUNK_BYTES,
                                       write_peeked, &peek);
        }
    }
    if (status == CONNRT_EXIT_OK && (report == NULL || (a.peek > 0 && (batch == NULL ||
                                                                       peek.out == NULL)))) {
        fprintf(stderr, "connrt browse: out of memory\n");
        status = CONNRT_EXIT_FAILURE;
    } else if (status == CONNRT_EXIT_OK) {
        status = browse(&a, &cmd, report, &peek, batch);
    }
    char errstr[512];
    if (connrt_output_close(peek.out, errstr, sizeof(errstr)) != 0 && status == CONNRT_EXIT_OK) {
        fprintf(stderr, "connrt browse: %s\n", errstr);
        status = CONNRT_EXIT_FAILURE;
    }
    connrt_batch_destroy(batch);
    connrt_arena_destroy(peek.arena);
    connrt_browse_output_destroy(report);
    connrt_connection_cmd_close(&cmd);
    return status;
}
