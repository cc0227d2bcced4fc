/*
 * connection_cmd.h - the common start of the commands that work on one
 * connection component (test-connection, browse): load the definitions
 * (or the container's deploy/), check that the id names a connection, and
 * open it through the container, as `connrt run` would.
 */
#ifndef CONNRT_CONNECTION_CMD_H
#define CONNRT_CONNECTION_CMD_H

#include <stddef.h>

#include <connrt/connector.h>
#include "container.h"
#include "definitions.h"
#include "diagnostics.h"

struct connrt_connection_cmd {
    connrt_diagnostics_t *diag;
    connrt_container_t *container;
    connrt_definitions_t *defs;
    const struct connrt_connector *connector; /* borrowed from the container */
    void *handle;                             /* the open connection, owned by the container */
    /* Where the connection is defined ("FILE:LINE"), for messages. */
    char where[512];
};

/*
 * Open connection `id` of `files` (borrowed; none: DIR/deploy) in container
 * `dir` (may be NULL). Returns 0 (CONNRT_EXIT_OK) with every member set, or
 * the exit status with the reason printed to stderr, prefixed by "connrt
 * COMMAND: " for usage problems: 2 for bad definitions or an unknown id, 3
 * when the connection cannot be opened. Call connrt_connection_cmd_close
 * afterwards in either case.
 */
int connrt_connection_cmd_open(struct connrt_connection_cmd *cmd, const char *command,
                               char **files, size_t nfiles, const char *dir, const char *id);
void connrt_connection_cmd_close(struct connrt_connection_cmd *cmd);

#endif
