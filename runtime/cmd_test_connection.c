/*
 * cmd_test_connection.c - `connrt test-connection FILES... --connection ID`:
 * open one connection and ask its connector to check it end to end.
 */
#include <stdio.h>
#include <string.h>

#include "commands.h"
#include "connection_cmd.h"

static void print_line(void *opaque, const char *line)
{
    fprintf((FILE *)opaque, "%s\n", line);
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
    struct connrt_connection_cmd cmd;
    int status = connrt_connection_cmd_open(&cmd, "test-connection", files, nfiles, dir, id);
    if (status == CONNRT_EXIT_OK) {
        char errstr[1024] = "";
        status = CONNRT_EXIT_FAILURE;
        if (cmd.connector->connection_test == NULL) {
            fprintf(stderr, "connrt: connector '%s' cannot test connections\n",
                    cmd.connector->name);
        } else if (cmd.connector->connection_test(cmd.handle, print_line, stdout, errstr,
                                                  sizeof(errstr)) != 0) {
            fprintf(stderr, "connrt: %s: connection '%s' failed: %s\n", cmd.where, id, errstr);
        } else {
            printf("connection '%s': OK\n", id);
            status = CONNRT_EXIT_OK;
        }
    }
    connrt_connection_cmd_close(&cmd);
    return status;
}
