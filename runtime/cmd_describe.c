/*
 * cmd_describe.c - `connrt describe [CONNECTOR] [--json|--markdown]
 * [--container DIR]`: the property tables of the runtime and the connectors
 * found on the search path.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "commands.h"
#include "container.h"
#include "describe.h"
#include "diagnostics.h"
#include "plugin_loader.h"

#define USAGE "usage: connrt describe [CONNECTOR] [--json|--markdown] [--container DIR]\n"

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

int connrt_cmd_describe(int argc, char **argv)
{
    struct describe_args a;
    connrt_registry_t *reg;
    connrt_diagnostics_t *diag;
    struct stat st;
    int rc = parse_args(argc, argv, &a);

    if (rc != CONNRT_EXIT_OK) {
        return rc;
    }
    if (a.help) {
        printf(USAGE "Prints the property tables of the runtime and of each connector: name, "
                     "type, default or \"required\", allowed values, bounds, flags and "
                     "description.\n");
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
