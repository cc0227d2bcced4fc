/*
 * commands.h - the `connrt` subcommands. Each takes the arguments after the
 * subcommand name (argv[0] is the subcommand) and returns the process exit
 * status of DESIGN §7: 0 all documents succeeded, 1 some application errors,
 * 2 invalid usage or definitions, 3 the operation could not run.
 */
#ifndef CONNRT_COMMANDS_H
#define CONNRT_COMMANDS_H

enum {
    CONNRT_EXIT_OK = 0,
    CONNRT_EXIT_APPLICATION_ERRORS = 1,
    CONNRT_EXIT_USAGE = 2,
    CONNRT_EXIT_FAILURE = 3
};

int connrt_cmd_run(int argc, char **argv);
int connrt_cmd_validate(int argc, char **argv);
int connrt_cmd_describe(int argc, char **argv);
int connrt_cmd_embedded_cluster(int argc, char **argv);
int connrt_cmd_test_connection(int argc, char **argv);
int connrt_cmd_executions(int argc, char **argv);
int connrt_cmd_browse(int argc, char **argv);
int connrt_cmd_serve(int argc, char **argv);

#endif
