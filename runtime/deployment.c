/*
 * deployment.c - the definitions a command works on: the files named on the
 * command line, or else the container's deploy/ XML files (sorted by name, so
 * that messages come in a stable order), validated together with
 * container.properties. Every problem lands in the diagnostics; the caller
 * decides what they mean for its command.
 */
#include "deployment.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "validate.h"

static int has_xml_suffix(const char *name)
{
    size_t len = strlen(name);
    return len > 4 && strcmp(name + len - 4, ".xml") == 0;
}

static int compare_strings(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static void free_names(char **names, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        free(names[i]);
    }
    free(names);
}

/* Names of DIR's *.xml entries (hidden files skipped), sorted; caller frees
 * each and the array. NULL with errno set when DIR cannot be read (ENOMEM:
 * the list could not be held; never a part of it, which would deploy some
 * files silently without the others). */
static char **list_xml(const char *dir, size_t *count)
{
    DIR *d = opendir(dir);
    char **names = NULL;
    size_t n = 0;
    struct dirent *e;
    int failed = 0;
    *count = 0;
    if (d == NULL) {
        return NULL;
    }
    while (!failed && (e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.' || !has_xml_suffix(e->d_name)) {
            continue;
        }
        char **grown = realloc(names, (n + 1) * sizeof(*names));
        if (grown != NULL) {
            names = grown;
        }
        if (grown == NULL || (names[n] = strdup(e->d_name)) == NULL) {
            failed = 1;
        } else {
            n++;
        }
    }
    closedir(d);
    if (!failed && names == NULL) {
        names = calloc(1, sizeof(*names));
        failed = names == NULL;
    }
    if (failed) {
        free_names(names, n);
        errno = ENOMEM;
        return NULL;
    }
    qsort(names, n, sizeof(*names), compare_strings);
    *count = n;
    return names;
}

static void load_deploy_dir(connrt_definitions_t *defs, const char *container_dir,
                            connrt_diagnostics_t *diag)
{
    char deploy[4096], path[4096 + 256];
    size_t n;
    snprintf(deploy, sizeof(deploy), "%s/deploy", container_dir);
    char **names = list_xml(deploy, &n);
    if (names == NULL) {
        connrt_diag_add(diag, deploy, 0, "cannot read: %s", strerror(errno));
        return;
    }
    if (n == 0) {
        connrt_diag_add(diag, deploy, 0, "no definitions to deploy (no *.xml files)");
    }
    for (size_t i = 0; i < n; i++) {
        snprintf(path, sizeof(path), "%s/%s", deploy, names[i]);
        connrt_definitions_load_file(defs, path, diag);
        free(names[i]);
    }
    free(names);
}

connrt_definitions_t *connrt_deployment_load(char *const *files, size_t nfiles,
                                             connrt_container_t *container,
                                             connrt_diagnostics_t *diag)
{
    connrt_registry_t *reg = container ? connrt_container_registry(container) : NULL;
    const char *dir = container ? connrt_container_dir(container) : NULL;
    connrt_definitions_t *defs = connrt_definitions_new();
    if (defs == NULL) {
        return NULL;
    }
    if (container != NULL) {
        connrt_validate_container_properties(connrt_container_properties(container), reg, diag);
    }
    if (nfiles > 0) {
        for (size_t i = 0; i < nfiles; i++) {
            connrt_definitions_load_file(defs, files[i], diag);
        }
    } else if (dir != NULL) {
        load_deploy_dir(defs, dir, diag);
    } else {
        connrt_diag_add(diag, NULL, 0, "no definition files given (name XML files, or a "
                        "container whose deploy/ holds them)");
    }
    connrt_validate_definitions(defs, reg, diag);
    return defs;
}
