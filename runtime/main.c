/*
 * main.c - the `connrt` command line: dispatches to one subcommand.
 */
#include <stdio.h>
#include <string.h>

#include "commands.h"
#include "config.h"
#include "json_memory.h"

#ifdef HAVE_MIMALLOC
#include <mimalloc.h>
#endif

struct command {
    const char *name;
    int (*run)(int argc, char **argv);
    const char *usage;
};

static const struct command commands[] = {
    {"run", connrt_cmd_run,
     "run FILES... [--process ID] [--container DIR] [--input PATH|-] "
     "[--input-format lines|jsonl] [--output PATH|-]"},
    {"serve", connrt_cmd_serve, "serve CONTAINER_DIR"},
    {"validate", connrt_cmd_validate, "validate FILES... [--container DIR]"},
    {"test-connection", connrt_cmd_test_connection,
     "test-connection FILES... --connection ID [--container DIR]"},
    {"browse", connrt_cmd_browse,
     "browse FILES... --connection ID [--container DIR] [--topic T [--group G]... [--peek N]] "
     "[--json]"},
    {"describe", connrt_cmd_describe,
     "describe [CONNECTOR] [--json|--markdown] [--container DIR]\n"
     "  connrt describe --resolved FILES... --connection ID [--container DIR]"},
    {"executions", connrt_cmd_executions,
     "executions [DIR | --container DIR] [--process ID] [--status STATUS] "
     "[--since TIME|DURATION] [--tracked NAME=VALUE] [--documents EXECUTION_ID] [--limit N] "
     "[--json]"},
    {"embedded-cluster", connrt_cmd_embedded_cluster,
     "embedded-cluster [--brokers N] [--topic NAME:PARTITIONS]..."},
    {NULL, NULL, NULL},
};

static void usage(FILE *out)
{
    fprintf(out, "connrt %s - integration runtime for connectors (Kafka)\n\nusage:\n",
            PACKAGE_VERSION);
    for (const struct command *c = commands; c->name != NULL; c++) {
        fprintf(out, "  connrt %s\n", c->usage);
    }
    fprintf(out, "\nExit status: 0 success, 1 some documents were application errors, "
                 "2 invalid usage or definitions, 3 the operation could not run.\n");
}

int main(int argc, char **argv)
{
    connrt_json_memory_setup();
    if (argc < 2) {
        usage(stderr);
        return CONNRT_EXIT_USAGE;
    }
    if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 ||
        strcmp(argv[1], "help") == 0) {
        usage(stdout);
        return CONNRT_EXIT_OK;
    }
    if (strcmp(argv[1], "--version") == 0) {
#ifdef HAVE_MIMALLOC
        /* Also keeps the library linked (--as-needed): its malloc is the process's. */
        int v = mi_version();
        printf("connrt %s (mimalloc %d.%d.%d)\n", PACKAGE_VERSION, v / 100, v / 10 % 10, v % 10);
#else
        printf("connrt %s\n", PACKAGE_VERSION);
#endif
        return CONNRT_EXIT_OK;
    }
    for (const struct command *c = commands; c->name != NULL; c++) {
        if (strcmp(argv[1], c->name) == 0) {
            return c->run(argc - 1, argv + 1);
        }
    }
    fprintf(stderr, "connrt: unknown command '%s'\n", argv[1]);
    usage(stderr);
    return CONNRT_EXIT_USAGE;
}
