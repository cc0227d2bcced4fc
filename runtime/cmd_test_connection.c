/*
 * cmd_test_connection.c - `connrt test-connection FILES... --connection ID`:
 * open one connection and ask its connector to check it end to end.
 */
#include <stdio.h>
#include <string.h>

#include "commands.h"
#include "container.h"
#include "deployment.h"

static void print_line(void *opaque, const char *line)
{
    fprintf((FILE *)opaque, "%s\n", line);
}

/* A usage error (exit 2) when `id` names no connection, listing the ones there are. */
static int check_connection_id(const connrt_definitions_t *defs, const char *id)
{
    const struct connrt_def_component *comp = connrt_definitions_find(defs, id);
    if (comp != NULL && comp->kind == CONNRT_COMPONENT_CONNECTION) {
        return 0;
    }
    fprintf(stderr, "connrt test-connection: no connection '%s' (connections:", id);
    const char *sep = " ";
    for (size_t i = 0; i < connrt_definitions_count(defs); i++) {
        const struct connrt_def_component *c = connrt_definitions_at(defs, i);
        if (c->kind == CONNRT_COMPONENT_CONNECTION) {
            fprintf(stderr, "%s%s", sep, c->id);
            sep = ", ";
        }
    }
    fprintf(stderr, ")\n");
    return -1;
}

static int parse_args(int argc, char **argv, char **files, size_t *nfiles, const char **id,
                      const char **dir)
{
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--connection") == 0 && i + 1 < argc) {
            *id = argv[++i];
        } else if (strcmp(argv[i], "--container") == 0 && i + 1 < argc) {
            *dir = argv[++i];
        } else if (argv[i][0] == '-' && argv[i][1] == '-') {
            fprintf(stderr, "connrt test-connection: unknown or incomplete option '%s'\n", argv[i]);
            return -1;
        } else {
            files[(*nfiles)++] = argv[i];
        }
    }
    if (*id == NULL) {
        fprintf(stderr, "connrt test-connection: --connection ID is required\n");
        return -1;
    }
    return 0;
}

int connrt_cmd_test_connection(int argc, char **argv)
{
    char *files[argc > 0 ? argc : 1];
    size_t nfiles = 0;
    const char *id = NULL, *dir = NULL;
    if (parse_args(argc, argv, files, &nfiles, &id, &dir) != 0) {
        return CONNRT_EXIT_USAGE;
    }
    int status = CONNRT_EXIT_USAGE;
    connrt_diagnostics_t *diag = connrt_diagnostics_new();
    connrt_container_t *container = connrt_container_open(dir, diag);
    connrt_definitions_t *defs =
        container ? connrt_deployment_load(files, nfiles, container, diag) : NULL;
    if (defs == NULL || connrt_diag_count(diag) > 0) {
        connrt_diag_print(diag, stderr);
    } else if (check_connection_id(defs, id) == 0) {
        const struct connrt_connector *connector;
        void *handle;
        char errstr[1024] = "";
        status = CONNRT_EXIT_FAILURE;
        if (connrt_container_connection(container, defs, id, &connector, &handle, errstr,
                                        sizeof(errstr)) != 0) {
            fprintf(stderr, "connrt: %s\n", errstr);
        } else if (connector->connection_test == NULL) {
            fprintf(stderr, "connrt: connector '%s' cannot test connections\n", connector->name);
        } else if (connector->connection_test(handle, print_line, stdout, errstr,
                                              sizeof(errstr)) != 0) {
            fprintf(stderr, "connrt: connection '%s' failed: %s\n", id, errstr);
        } else {
            printf("connection '%s': OK\n", id);
            status = CONNRT_EXIT_OK;
        }
    }
    /* The container borrows components from defs: it goes first. */
    connrt_container_destroy(container);
    connrt_definitions_destroy(defs);
    connrt_diagnostics_destroy(diag);
    return status;
}
