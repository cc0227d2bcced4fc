/*
 * plugin_loader.c - dlopen()s connectors and checks their descriptor before
 * anything else touches it (unlike a blind memcpy of a plugin struct, every
 * refusal names the file and the reason).
 */
#include "plugin_loader.h"

#include <dirent.h>
#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Smallest descriptor this runtime can use: up to connection_close. */
#define CONNRT_CONNECTOR_MIN_SIZE \
    (offsetof(struct connrt_connector, connection_close) + sizeof(void (*)(void *)))

struct connrt_loaded_connector {
    const struct connrt_connector *connector;
    void *handle; /* NULL for static registrations */
    char *path;
};

struct connrt_registry {
    struct connrt_loaded_connector *items;
    size_t count, capacity;
};

connrt_registry_t *connrt_registry_new(void)
{
    return calloc(1, sizeof(connrt_registry_t));
}

void connrt_registry_destroy(connrt_registry_t *reg)
{
    if (reg == NULL) {
        return;
    }
    for (size_t i = 0; i < reg->count; i++) {
        if (reg->items[i].handle != NULL) {
            dlclose(reg->items[i].handle);
        }
        free(reg->items[i].path);
    }
    free(reg->items);
    free(reg);
}

static ssize_t registry_index(const connrt_registry_t *reg, const char *name)
{
    for (size_t i = 0; i < reg->count; i++) {
        if (strcmp(reg->items[i].connector->name, name) == 0) {
            return (ssize_t)i;
        }
    }
    return -1;
}

static int has_kind_callbacks(const struct connrt_operation *op)
{
    switch (op->kind) {
    case CONNRT_OP_BATCH:
        return op->execute != NULL;
    case CONNRT_OP_LISTEN:
        return op->listen_start != NULL && op->listen_stop != NULL;
    }
    return 0;
}

/* Every operation entry must be callable as its kind says, so the runtime
 * never calls a NULL callback of a plugin. */
static int check_operations(const struct connrt_connector *c, const char *origin, char *errstr,
                            size_t errstr_size)
{
    for (const struct connrt_operation *op = c->operations; op->type != NULL; op++) {
        const char *why = NULL;
        if (op->properties == NULL || op->open == NULL) {
            why = "has no property table or open callback";
        } else if (!has_kind_callbacks(op)) {
            why = "lacks the callbacks of its kind";
        } else {
            for (const struct connrt_operation *prev = c->operations; prev != op; prev++) {
                if (strcmp(prev->type, op->type) == 0) {
                    why = "is declared twice";
                }
            }
        }
        if (why != NULL) {
            snprintf(errstr, errstr_size, "%s: operation '%s' %s", origin, op->type, why);
            return -1;
        }
    }
    return 0;
}

/* The checks every descriptor passes before it is registered. */
static int check_descriptor(const struct connrt_connector *c, const char *origin, char *errstr,
                            size_t errstr_size)
{
    if (c == NULL) {
        snprintf(errstr, errstr_size, "%s: %s() returned NULL", origin,
                 CONNRT_CONNECTOR_ENTRY_SYMBOL);
        return -1;
    }
    if (CONNRT_ABI_MAJOR(c->abi_version) != CONNRT_ABI_VERSION_MAJOR) {
        snprintf(errstr, errstr_size,
                 "%s: connector ABI version %u.%u is not compatible with this runtime's %u.%u "
                 "(major versions differ); rebuild the connector against connrt/connector.h",
                 origin, CONNRT_ABI_MAJOR(c->abi_version), CONNRT_ABI_MINOR(c->abi_version),
                 CONNRT_ABI_VERSION_MAJOR, CONNRT_ABI_VERSION_MINOR);
        return -1;
    }
    if (c->struct_size < CONNRT_CONNECTOR_MIN_SIZE) {
        snprintf(errstr, errstr_size,
                 "%s: connector descriptor is too small (struct_size %zu, this runtime needs at "
                 "least %zu)",
                 origin, c->struct_size, (size_t)CONNRT_CONNECTOR_MIN_SIZE);
        return -1;
    }
    if (c->name == NULL || c->name[0] == '\0' || c->connection_properties == NULL ||
        c->operations == NULL || c->connection_open == NULL || c->connection_close == NULL) {
        snprintf(errstr, errstr_size,
                 "%s: connector descriptor lacks a name, property table, operation table or "
                 "connection callbacks",
                 origin);
        return -1;
    }
    return check_operations(c, origin, errstr, errstr_size);
}

static int registry_append(connrt_registry_t *reg, const struct connrt_connector *c, void *handle,
                           const char *origin, char *errstr, size_t errstr_size)
{
    ssize_t existing = registry_index(reg, c->name);
    if (existing >= 0) {
        snprintf(errstr, errstr_size, "%s: a connector named '%s' is already loaded from %s",
                 origin, c->name, reg->items[existing].path);
        return -1;
    }
    if (reg->count == reg->capacity) {
        size_t capacity = reg->capacity ? reg->capacity * 2 : 4;
        struct connrt_loaded_connector *items = realloc(reg->items, capacity * sizeof(*items));
        if (items == NULL) {
            snprintf(errstr, errstr_size, "%s: out of memory", origin);
            return -1;
        }
        reg->items = items;
        reg->capacity = capacity;
    }
    char *path = strdup(origin);
    if (path == NULL) {
        snprintf(errstr, errstr_size, "%s: out of memory", origin);
        return -1;
    }
    reg->items[reg->count++] = (struct connrt_loaded_connector){c, handle, path};
    return 0;
}

int connrt_registry_add_static(connrt_registry_t *reg, const struct connrt_connector *connector,
                               const char *origin, char *errstr, size_t errstr_size)
{
    if (check_descriptor(connector, origin, errstr, errstr_size) != 0) {
        return -1;
    }
    return registry_append(reg, connector, NULL, origin, errstr, errstr_size);
}

/* dlopen + entry symbol + descriptor checks. On success the caller owns *handle. */
static int open_connector(const char *path, void **handle, const struct connrt_connector **out,
                          char *errstr, size_t errstr_size)
{
    *handle = dlopen(path, RTLD_NOW | RTLD_LOCAL);
    if (*handle == NULL) {
        snprintf(errstr, errstr_size, "%s: not a loadable connector: %s", path, dlerror());
        return -1;
    }
    void *sym = dlsym(*handle, CONNRT_CONNECTOR_ENTRY_SYMBOL);
    if (sym == NULL) {
        snprintf(errstr, errstr_size, "%s: not a connrt connector: it does not export %s()", path,
                 CONNRT_CONNECTOR_ENTRY_SYMBOL);
        dlclose(*handle);
        return -1;
    }
    const struct connrt_connector *(*entry)(void);
    /* POSIX guarantees this conversion for dlsym results. */
    memcpy(&entry, &sym, sizeof(entry));
    *out = entry();
    if (check_descriptor(*out, path, errstr, errstr_size) != 0) {
        dlclose(*handle);
        return -1;
    }
    return 0;
}

int connrt_registry_load_file(connrt_registry_t *reg, const char *path, char *errstr,
                              size_t errstr_size)
{
    void *handle;
    const struct connrt_connector *c;
    if (open_connector(path, &handle, &c, errstr, errstr_size) != 0) {
        return -1;
    }
    if (registry_append(reg, c, handle, path, errstr, errstr_size) != 0) {
        dlclose(handle);
        return -1;
    }
    return 0;
}

static int compare_names(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static int has_so_suffix(const char *name)
{
    size_t len = strlen(name);
    return len > 3 && strcmp(name + len - 3, ".so") == 0;
}

/* Names of the *.so files in dir, sorted so loading order is stable. */
static char **list_shared_objects(const char *dir, size_t *count)
{
    *count = 0;
    DIR *d = opendir(dir);
    if (d == NULL) {
        return NULL;
    }
    char **names = NULL;
    size_t capacity = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (!has_so_suffix(e->d_name)) {
            continue;
        }
        if (*count == capacity) {
            capacity = capacity ? capacity * 2 : 8;
            char **grown = realloc(names, capacity * sizeof(*names));
            if (grown == NULL) {
                break;
            }
            names = grown;
        }
        names[*count] = strdup(e->d_name);
        if (names[*count] != NULL) {
            (*count)++;
        }
    }
    closedir(d);
    if (*count > 1) {
        qsort(names, *count, sizeof(*names), compare_names);
    }
    return names;
}

/*
 * Load a directory. A name already registered from an EARLIER directory is
 * shadowed (search-path precedence); the same name twice in THIS directory is
 * an error.
 */
static size_t load_directory(connrt_registry_t *reg, const char *dir, connrt_diagnostics_t *diag)
{
    size_t problems = 0, count = 0, first_of_dir = reg->count;
    char **names = list_shared_objects(dir, &count);
    for (size_t i = 0; i < count; i++) {
        char path[4096], errstr[1024];
        void *handle;
        const struct connrt_connector *c;
        snprintf(path, sizeof(path), "%s/%s", dir, names[i]);
        free(names[i]);
        if (open_connector(path, &handle, &c, errstr, sizeof(errstr)) != 0) {
            connrt_diag_add(diag, NULL, 0, "%s", errstr);
            problems++;
            continue;
        }
        ssize_t existing = registry_index(reg, c->name);
        if (existing >= 0 && (size_t)existing < first_of_dir) {
            dlclose(handle); /* shadowed by an earlier directory of the search path */
        } else if (registry_append(reg, c, handle, path, errstr, sizeof(errstr)) != 0) {
            connrt_diag_add(diag, NULL, 0, "%s", errstr);
            problems++;
            dlclose(handle);
        }
    }
    free(names);
    return problems;
}

size_t connrt_registry_load_search_path(connrt_registry_t *reg, const char *container_dir,
                                        connrt_diagnostics_t *diag)
{
    size_t problems = 0;
    if (container_dir != NULL) {
        char dir[4096];
        snprintf(dir, sizeof(dir), "%s/connectors", container_dir);
        problems += load_directory(reg, dir, diag);
    }
    const char *env = getenv("CONNRT_CONNECTOR_PATH");
    if (env != NULL) {
        char *copy = strdup(env), *save = NULL;
        if (copy == NULL) {
            connrt_diag_add(diag, NULL, 0, "CONNRT_CONNECTOR_PATH: out of memory");
            problems++;
        }
        for (char *dir = copy ? strtok_r(copy, ":", &save) : NULL; dir != NULL;
             dir = strtok_r(NULL, ":", &save)) {
            problems += load_directory(reg, dir, diag);
        }
        free(copy);
    }
    problems += load_directory(reg, CONNRT_PKGLIBDIR, diag);
    return problems;
}

const struct connrt_connector *connrt_registry_find(const connrt_registry_t *reg,
                                                   const char *name)
{
    ssize_t i = registry_index(reg, name);
    return i < 0 ? NULL : reg->items[i].connector;
}

size_t connrt_registry_count(const connrt_registry_t *reg)
{
    return reg->count;
}

const struct connrt_connector *connrt_registry_at(const connrt_registry_t *reg, size_t i)
{
    return i < reg->count ? reg->items[i].connector : NULL;
}

const char *connrt_registry_path(const connrt_registry_t *reg, size_t i)
{
    return i < reg->count ? reg->items[i].path : NULL;
}

const struct connrt_operation *connrt_connector_operation(const struct connrt_connector *connector,
                                                          const char *type)
{
    for (const struct connrt_operation *op = connector->operations; op->type != NULL; op++) {
        if (strcmp(op->type, type) == 0) {
            return op;
        }
    }
    return NULL;
}

connrt_browse_fn connrt_connector_browse(const struct connrt_connector *connector)
{
    size_t end = offsetof(struct connrt_connector, connection_browse) + sizeof(connrt_browse_fn);
    if (CONNRT_ABI_MINOR(connector->abi_version) < 2 || connector->struct_size < end) {
        return NULL;
    }
    return connector->connection_browse;
}

connrt_metrics_fn connrt_operation_metrics(const struct connrt_connector *connector,
                                           const struct connrt_operation *op)
{
    if (CONNRT_ABI_MINOR(connector->abi_version) < 3) {
        return NULL;
    }
    return op->metrics;
}

int connrt_operation_split(const struct connrt_connector *connector,
                           const struct connrt_operation *op)
{
    return CONNRT_ABI_MINOR(connector->abi_version) >= 5 && op->execute_begin != NULL &&
           op->execute_end != NULL;
}

connrt_describe_fn connrt_connector_describe(const struct connrt_connector *connector)
{
    size_t end =
        offsetof(struct connrt_connector, connection_describe) + sizeof(connrt_describe_fn);
    if (CONNRT_ABI_MINOR(connector->abi_version) < 3 || connector->struct_size < end) {
        return NULL;
    }
    return connector->connection_describe;
}

connrt_check_fn connrt_connector_check(const struct connrt_connector *connector)
{
    size_t end = offsetof(struct connrt_connector, connection_check) + sizeof(connrt_check_fn);
    if (CONNRT_ABI_MINOR(connector->abi_version) < 4 || connector->struct_size < end) {
        return NULL;
    }
    return connector->connection_check;
}
