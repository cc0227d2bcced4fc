/*
 * plugin_loader.h - finds and loads connector shared objects and keeps the
 * registry of loaded connectors by name.
 *
 * Search order: the container's connectors/ directory, then each directory
 * of CONNRT_CONNECTOR_PATH (colon separated), then the install's pkglibdir.
 * A connector name found in an earlier directory wins; the same name twice
 * in one directory is refused.
 */
#ifndef CONNRT_PLUGIN_LOADER_H
#define CONNRT_PLUGIN_LOADER_H

#include <connrt/connector.h>
#include "diagnostics.h"

typedef struct connrt_registry connrt_registry_t;

/* Owned by the caller; destroy unloads every connector. */
connrt_registry_t *connrt_registry_new(void);
void connrt_registry_destroy(connrt_registry_t *reg); /* NULL no-op */

/* Load one file. Returns 0, or -1 with "FILE: reason" in errstr (not a
 * shared object, no entry symbol, ABI major differs, descriptor too small,
 * a connector of that name already loaded from FILE2). */
int connrt_registry_load_file(connrt_registry_t *reg, const char *path, char *errstr,
                              size_t errstr_size);

/* Register a descriptor linked into the program (tests, built-ins) as if
 * loaded from `origin` (borrowed, copied). Same checks as load_file. */
int connrt_registry_add_static(connrt_registry_t *reg, const struct connrt_connector *connector,
                               const char *origin, char *errstr, size_t errstr_size);

/* Load every *.so of the search path (container_dir may be NULL). Problems
 * go to diag; returns their number. */
size_t connrt_registry_load_search_path(connrt_registry_t *reg, const char *container_dir,
                                        connrt_diagnostics_t *diag);

/* Borrowed until destroy. */
const struct connrt_connector *connrt_registry_find(const connrt_registry_t *reg,
                                                   const char *name);
size_t connrt_registry_count(const connrt_registry_t *reg);
const struct connrt_connector *connrt_registry_at(const connrt_registry_t *reg, size_t i);
/* Path the connector was loaded from; borrowed until destroy. */
const char *connrt_registry_path(const connrt_registry_t *reg, size_t i);

/* Operation `type` of `connector`, or NULL; borrowed from the descriptor. */
const struct connrt_operation *connrt_connector_operation(const struct connrt_connector *connector,
                                                          const char *type);

/* The connector's connection_browse callback, or NULL when it has none: a
 * connector built for ABI 1.0/1.1 has no such member (its slot was
 * reserved), so only a minor version >= 2 is read. */
typedef int (*connrt_browse_fn)(void *connection, const struct connrt_browse_request *request,
                                const struct connrt_browse_report *report, char *errstr,
                                size_t errstr_size);
connrt_browse_fn connrt_connector_browse(const struct connrt_connector *connector);

/* The operation's metrics callback, or NULL (none, or a connector older
 * than ABI 1.3, whose slot was reserved). */
typedef void (*connrt_metrics_fn)(void *ctx,
                                  void (*sample)(void *opaque, const char *name,
                                                 const char *labels, double value),
                                  void *opaque);
connrt_metrics_fn connrt_operation_metrics(const struct connrt_connector *connector,
                                           const struct connrt_operation *op);

/* 1 when the operation runs in two halves (execute_begin, execute_end):
 * both set, in a connector of minor version >= 5 (older ones reserved the
 * slots). */
int connrt_operation_split(const struct connrt_connector *connector,
                           const struct connrt_operation *op);

/* The connector's connection_describe callback, or NULL when it has none
 * (read only from a connector of minor version >= 3, like browse). */
typedef int (*connrt_describe_fn)(void *connection, void (*report)(void *opaque, const char *line),
                                  void *opaque, char *errstr, size_t errstr_size);
connrt_describe_fn connrt_connector_describe(const struct connrt_connector *connector);

/* The connector's connection_check (ABI 1.4), or NULL when it has none. */
typedef int (*connrt_check_fn)(const struct connrt_host *host, const connrt_settings_t *settings,
                               char *errstr, size_t errstr_size);
connrt_check_fn connrt_connector_check(const struct connrt_connector *connector);

#endif
