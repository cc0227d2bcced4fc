/*
 * cmd_describe.c - `connrt describe [CONNECTOR] [--json|--markdown]
 * [--container DIR]`: the property tables of the runtime and the connectors
 * found on the search path; `connrt describe --resolved FILES...
 * --connection ID [--container DIR]`: the settings one connection's clients
 * will use, presets applied, secrets redacted.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "commands.h"
#include "connection_cmd.h"
#include "container.h"
#include "describe.h"
#include "diagnostics.h"
#include "plugin_loader.h"

#define USAGE                                                                                    \
    "usage: connrt describe [CONNECTOR] [--json|--markdown] [--container DIR]\n"                  \
    "       connrt describe --resolved FILES... --connection ID [--container DIR]\n"

struct describe_args {
    const char *connector; /* NULL: all */
    const char *container;
    connrt_describe_format_t format;
    int formats_given;
    int help;
};

static int usage_error(const char *fmt, const char *arg)
{
    fprintf(stderr, "connrt describe: ");
    fprintf(stderr, fmt, arg);
    fprintf(stderr, "\n" USAGE);
    return CONNRT_EXIT_USAGE;
}

static int parse_args(int argc, char **argv, struct describe_args *a)
{
    memset(a, 0, sizeof(*a));
    for (int i = 1; i < argc; i++) {
        const char *arg = argv[i];
        if (strcmp(arg, "--json") == 0) {
            a->format = CONNRT_DESCRIBE_JSON;
            a->formats_given++;
        } else if (strcmp(arg, "--markdown") == 0) {
            a->format = CONNRT_DESCRIBE_MARKDOWN;
            a->formats_given++;
        } else if (strcmp(arg, "--container") == 0) {
            if (i + 1 >= argc) {
                return usage_error("%s needs a directory", arg);
            }
            a->container = argv[++i];
        } else if (strncmp(arg, "--container=", 12) == 0) {
            a->container = arg + 12;
        } else if (strcmp(arg, "--help") == 0 || strcmp(arg, "-h") == 0) {
            a->help = 1;
        } else if (arg[0] == '-') {
            return usage_error("unknown option '%s'", arg);
        } else if (a->connector != NULL) {
            return usage_error("only one connector name may be given ('%s' is extra)", arg);
        } else {
            a->connector = arg;
        }
    }
    if (a->formats_given > 1) {
        return usage_error("%s", "--json and --markdown are alternatives: give one");
    }
    return CONNRT_EXIT_OK;
}

static int compare_by_name(const void *a, const void *b)
{
    const struct connrt_connector *const *x = a;
    const struct connrt_connector *const *y = b;

    return strcmp((*x)->name, (*y)->name);
}

/* Every loaded connector, sorted by name so output does not depend on the
 * search path's order. Caller frees the array. */
static const struct connrt_connector **sorted_connectors(const connrt_registry_t *reg, size_t *n)
{
    const struct connrt_connector **list;

    *n = connrt_registry_count(reg);
    list = calloc(*n + 1, sizeof(*list));
    if (list == NULL) {
        return NULL;
    }
    for (size_t i = 0; i < *n; i++) {
        list[i] = connrt_registry_at(reg, i);
    }
    qsort(list, *n, sizeof(*list), compare_by_name);
    return list;
}

static void list_known(FILE *out, const struct connrt_connector **list, size_t n)
{
    if (n == 0) {
        fprintf(out, "no connectors were found (searched the container's connectors/, "
                     "CONNRT_CONNECTOR_PATH and the install directory)\n");
        return;
    }
    fprintf(out, "known connectors:");
    for (size_t i = 0; i < n; i++) {
        fprintf(out, "%s %s", i ? "," : "", list[i]->name);
    }
    fprintf(out, "\n");
}

static int describe(const struct describe_args *a, const connrt_registry_t *reg)
{
    const struct connrt_connector **list;
    const struct connrt_connector *one[1];
    const struct connrt_connector *const *chosen;
    size_t n, nchosen;
    char errstr[256];
    int rc = CONNRT_EXIT_OK;

    list = sorted_connectors(reg, &n);
    if (list == NULL) {
        fprintf(stderr, "connrt describe: out of memory\n");
        return CONNRT_EXIT_FAILURE;
    }
    chosen = list;
    nchosen = n;
    if (a->connector != NULL) {
        one[0] = connrt_registry_find(reg, a->connector);
        if (one[0] == NULL) {
            fprintf(stderr, "connrt describe: unknown connector '%s'; ", a->connector);
            list_known(stderr, list, n);
            free(list);
            return CONNRT_EXIT_USAGE;
        }
        chosen = one;
        nchosen = 1;
    }
    /* The runtime's own table belongs to the full description only. */
    if (connrt_describe_write(stdout, a->format,
                              a->connector ? NULL : connrt_container_property_table, chosen,
                              nchosen, errstr, sizeof(errstr)) != 0) {
        fprintf(stderr, "connrt describe: %s\n", errstr);
        rc = CONNRT_EXIT_FAILURE;
    }
    free(list);
    return rc;
}

/* ------------------------------------------------------------------------ */
/* --resolved                                                               */
/* ------------------------------------------------------------------------ */

static void print_indented(void *opaque, const char *line)
{
    fprintf((FILE *)opaque, "  %s\n", line);
}

static int has_resolved(int argc, char **argv)
{
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--resolved") == 0) {
            return 1;
        }
    }
    return 0;
}

/* Opens the connection as `connrt run` would (Kerberos gets its ticket, PEM
 * files are written) but contacts no broker: the connector only reports the
 * configuration it built. */
static int describe_resolved(int argc, char **argv)
{
    char *files[argc > 0 ? argc : 1];
    size_t nfiles = 0;
    const char *id = NULL, *dir = NULL;
    struct connrt_connection_cmd cmd;
    char errstr[1024] = "";
    int status;

    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--resolved") == 0) {
            continue;
        } else if (strcmp(argv[i], "--connection") == 0 && i + 1 < argc) {
            id = argv[++i];
        } else if (strcmp(argv[i], "--container") == 0 && i + 1 < argc) {
            dir = argv[++i];
        } else if (argv[i][0] == '-') {
            return usage_error("--resolved: unknown or incomplete option '%s'", argv[i]);
        } else {
            files[nfiles++] = argv[i];
        }
    }
    if (id == NULL) {
        return usage_error("%s", "--resolved needs --connection ID");
    }
    status = connrt_connection_cmd_open(&cmd, "describe", files, nfiles, dir, id);
    if (status == CONNRT_EXIT_OK) {
        connrt_describe_fn fn = connrt_connector_describe(cmd.connector);
        if (fn == NULL) {
            fprintf(stderr, "connrt describe: connector '%s' cannot describe a connection's "
                            "resolved settings (it predates ABI 1.3)\n",
                    cmd.connector->name);
            status = CONNRT_EXIT_FAILURE;
        } else {
            printf("connection '%s' (connector %s): effective settings, client library "
                   "defaults left out, secrets [redacted]\n",
                   id, cmd.connector->name);
            if (fn(cmd.handle, print_indented, stdout, errstr, sizeof(errstr)) != 0) {
                fprintf(stderr, "connrt describe: %s: connection '%s': %s\n", cmd.where, id,
                        errstr);
                status = CONNRT_EXIT_FAILURE;
            }
        }
    }
    connrt_connection_cmd_close(&cmd);
    return status;
}

int connrt_cmd_describe(int argc, char **argv)
{
    struct describe_args a;
    connrt_registry_t *reg;
    connrt_diagnostics_t *diag;
    struct stat st;
    int rc;

    if (has_resolved(argc, argv)) {
        return describe_resolved(argc, argv);
    }
    rc = parse_args(argc, argv, &a);
    if (rc != CONNRT_EXIT_OK) {
        return rc;
    }
    if (a.help) {
        printf(USAGE "Prints the property tables of the runtime and of each connector: name, "
                     "type, default or \"required\", allowed values, bounds, flags and "
                     "description.\nWith --resolved: the settings the connection ID will give "
                     "its client library (presets and defaults applied, each preset value with "
                     "its reason, secrets shown as [redacted]); no broker is contacted.\n");
        return CONNRT_EXIT_OK;
    }
    if (a.container != NULL && (stat(a.container, &st) != 0 || !S_ISDIR(st.st_mode))) {
        fprintf(stderr, "connrt describe: %s: not a container directory\n", a.container);
        return CONNRT_EXIT_USAGE;
    }
    reg = connrt_registry_new();
    diag = connrt_diagnostics_new();
    if (reg == NULL || diag == NULL) {
        fprintf(stderr, "connrt describe: out of memory\n");
        connrt_registry_destroy(reg);
        connrt_diagnostics_destroy(diag);
        return CONNRT_EXIT_FAILURE;
    }
    connrt_registry_load_search_path(reg, a.container, diag);
    connrt_diag_print(diag, stderr);
    /* Generated documentation must be complete: a connector that failed to
     * load would silently vanish from it. */
    if (a.format == CONNRT_DESCRIBE_MARKDOWN && connrt_diag_count(diag) > 0) {
        fprintf(stderr, "connrt describe: not generating Markdown: some connectors did not "
                        "load\n");
        rc = CONNRT_EXIT_FAILURE;
    } else {
        rc = describe(&a, reg);
    }
    connrt_diagnostics_destroy(diag);
    connrt_registry_destroy(reg);
    return rc;
}
