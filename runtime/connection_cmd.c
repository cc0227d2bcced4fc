/*
 * connection_cmd.c - load definitions and open one connection for a
 * command (see connection_cmd.h).
 */
#include "connection_cmd.h"

#include <stdio.h>
#include <string.h>

#include "commands.h"
#include "deployment.h"

/* A usage error when `id` names no connection, listing the ones there are. */
static int check_connection_id(const connrt_definitions_t *defs, const char *command,
                               const char *id)
{
    const struct connrt_def_component *comp = connrt_definitions_find(defs, id);
    if (comp != NULL && comp->kind == CONNRT_COMPONENT_CONNECTION) {
        return 0;
    }
    fprintf(stderr, "connrt %s: no connection '%s' (connections:", command, id);
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

int connrt_connection_cmd_open(struct connrt_connection_cmd *cmd, const char *command,
                               char **files, size_t nfiles, const char *dir, const char *id)
{
    char errstr[1024] = "";

    memset(cmd, 0, sizeof(*cmd));
    cmd->diag = connrt_diagnostics_new();
    cmd->container = cmd->diag ? connrt_container_open(dir, cmd->diag) : NULL;
    cmd->defs = cmd->container ? connrt_deployment_load(files, nfiles, cmd->container, cmd->diag)
                               : NULL;
    if (cmd->defs == NULL || connrt_diag_count(cmd->diag) > 0) {
        if (cmd->diag != NULL) {
            connrt_diag_print(cmd->diag, stderr);
        }
        return CONNRT_EXIT_USAGE;
    }
    if (check_connection_id(cmd->defs, command, id) != 0) {
        return CONNRT_EXIT_USAGE;
    }
    const struct connrt_def_component *comp = connrt_definitions_find(cmd->defs, id);
    snprintf(cmd->where, sizeof(cmd->where), "%s:%d", comp->file ? comp->file : "?", comp->line);
    if (connrt_container_connection(cmd->container, cmd->defs, id, &cmd->connector, &cmd->handle,
                                    errstr, sizeof(errstr)) != 0) {
        fprintf(stderr, "connrt: %s\n", errstr);
        return CONNRT_EXIT_FAILURE;
    }
    return CONNRT_EXIT_OK;
}

void connrt_connection_cmd_close(struct connrt_connection_cmd *cmd)
{
    /* The container borrows components from defs: it goes first. */
    connrt_container_destroy(cmd->container);
    connrt_definitions_destroy(cmd->defs);
    connrt_diagnostics_destroy(cmd->diag);
    memset(cmd, 0, sizeof(*cmd));
}
