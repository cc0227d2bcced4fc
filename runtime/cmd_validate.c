/*
 * cmd_validate.c - `connrt validate FILES... [--container DIR]`: schema,
 * references and property tables, every problem in every file, one
 * "file:line: message" per line on stderr. Exit 0 when valid, 2 otherwise.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "commands.h"
#include "container.h"
#include "deployment.h"

#define VALIDATE_USAGE "usage: connrt validate FILES... [--container DIR]\n"

struct validate_args {
    char **files;
    size_t nfiles;
    const char *container;
};

/* Returns 0, 1 for --help, or -1 after printing a usage error. */
static int parse_args(int argc, char **argv, struct validate_args *a)
{
    int options_done = 0;
    for (int i = 1; i < argc; i++) {
        const char *arg = argv[i];
        if (!options_done && strcmp(arg, "--") == 0) {
            options_done = 1;
        } else if (!options_done && (strcmp(arg, "--help") == 0 || strcmp(arg, "-h") == 0)) {
            return 1;
        } else if (!options_done && strcmp(arg, "--container") == 0) {
            if (i + 1 >= argc) {
                fprintf(stderr, "connrt validate: --container needs a directory\n" VALIDATE_USAGE);
                return -1;
            }
            a->container = argv[++i];
        } else if (!options_done && strncmp(arg, "--container=", 12) == 0) {
            a->container = arg + 12;
        } else if (!options_done && arg[0] == '-' && arg[1] != '\0') {
            fprintf(stderr, "connrt validate: unknown option '%s'\n" VALIDATE_USAGE, arg);
            return -1;
        } else {
            a->files[a->nfiles++] = argv[i];
        }
    }
    if (a->nfiles == 0 && a->container == NULL) {
        fprintf(stderr, "connrt validate: no files to validate\n" VALIDATE_USAGE);
        return -1;
    }
    return 0;
}

static int report(const connrt_definitions_t *defs, const connrt_diagnostics_t *diag)
{
    if (connrt_diag_count(diag) > 0) {
        connrt_diag_print(diag, stderr);
        return CONNRT_EXIT_USAGE;
    }
    size_t nfiles = connrt_definitions_file_count(defs);
    size_t ncomponents = connrt_definitions_count(defs);
    printf("%zu file%s, %zu component%s: valid\n", nfiles, nfiles == 1 ? "" : "s", ncomponents,
           ncomponents == 1 ? "" : "s");
    return CONNRT_EXIT_OK;
}

int connrt_cmd_validate(int argc, char **argv)
{
    struct validate_args a = {NULL, 0, NULL};
    int status = CONNRT_EXIT_FAILURE;
    a.files = calloc((size_t)(argc > 0 ? argc : 1), sizeof(*a.files));
    if (a.files == NULL) {
        fprintf(stderr, "connrt validate: out of memory\n");
        return CONNRT_EXIT_FAILURE;
    }
    int rc = parse_args(argc, argv, &a);
    if (rc != 0) {
        if (rc > 0) {
            fputs(VALIDATE_USAGE, stdout);
        }
        free(a.files);
        return rc > 0 ? CONNRT_EXIT_OK : CONNRT_EXIT_USAGE;
    }
    connrt_diagnostics_t *diag = connrt_diagnostics_new();
    connrt_container_t *container = diag ? connrt_container_open(a.container, diag) : NULL;
    connrt_definitions_t *defs =
        container ? connrt_deployment_load(a.files, a.nfiles, container, diag) : NULL;
    if (defs != NULL) {
        status = report(defs, diag);
    } else if (connrt_diag_count(diag) > 0) {
        connrt_diag_print(diag, stderr);
        status = CONNRT_EXIT_USAGE;
    } else {
        fprintf(stderr, "connrt validate: out of memory\n");
    }
    /* The container borrows components from defs: it goes first. */
    connrt_container_destroy(container);
    connrt_definitions_destroy(defs);
    connrt_diagnostics_destroy(diag);
    free(a.files);
    return status;
}
