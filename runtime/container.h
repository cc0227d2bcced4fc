/*
 * container.h - one runtime instance: container directory, container
 * properties, loaded connectors, definitions, and the connections and
 * operations opened from them (each opened once and shared).
 */
#ifndef CONNRT_CONTAINER_H
#define CONNRT_CONTAINER_H

#include <connrt/connector.h>
#include "definitions.h"
#include "diagnostics.h"
#include "history.h"
#include "plugin_loader.h"
#include "../properties/java_properties.h"
#include "../properties/settings.h"

typedef struct connrt_container connrt_container_t;

/* Runtime-wide container properties (not connector ones), NULL-terminated. */
extern const struct connrt_property_def connrt_container_property_table[];

/*
 * Open a container. `dir` may be NULL: no container directory (defaults,
 * connectors from CONNRT_CONNECTOR_PATH and pkglibdir). Reads
 * DIR/container.properties when present and loads connectors. Problems go to
 * diag. Returns a new container owned by the caller, or NULL if it cannot
 * be used at all.
 */
connrt_container_t *connrt_container_open(const char *dir, connrt_diagnostics_t *diag);
/* The same without touching the process-wide logging (level, format, log
 * file): for a set that may be refused (serve's reload). Apply it with
 * connrt_container_log_setup once it is in force. */
connrt_container_t *connrt_container_open_unapplied(const char *dir, connrt_diagnostics_t *diag);
/* Closes operations, then connections, then unloads connectors; closes the
 * log file only when its logging is the one in force. NULL no-op. */
void connrt_container_destroy(connrt_container_t *c);

const char *connrt_container_dir(const connrt_container_t *c); /* borrowed; may be NULL */
/* Put this container's logging in force: log.level, log.format and
 * logs/connrt.jsonl. Done by connrt_container_open. */
void connrt_container_log_setup(const connrt_container_t *c);
connrt_registry_t *connrt_container_registry(connrt_container_t *c);
const connrt_jprops_t *connrt_container_properties(const connrt_container_t *c);
/* Integer (or size) container property `name` (one of the table's): its value, else
 * the table's default (also for a NULL container). */
long long connrt_container_int(const connrt_container_t *c, const char *name);

/* The container's execution history, DIR/data/history.db, opened (data/
 * created) at the first call with the history.* container properties.
 * Borrowed until the container is destroyed. NULL when the container has
 * no directory or the history cannot be opened (then a warning was logged
 * once, and executions run without history). */
connrt_history_t *connrt_container_history(connrt_container_t *c);

/* An operation component opened for execution. */
struct connrt_open_operation {
    const struct connrt_def_component *component; /* borrowed from defs */
    const struct connrt_operation *op;            /* borrowed from the connector */
    const struct connrt_connector *connector;     /* that connector */
    void *ctx;                                    /* host-allocated context */
};

/*
 * The settings of component `comp` (described by `table` of `connector`),
 * resolved with connrt_settings_resolve; `container` (may be NULL) holds
 * container.properties. All borrowed, and must outlive the result, which
 * the caller owns (connrt_settings_destroy). NULL with errstr on failure.
 */
connrt_settings_t *connrt_component_settings(const struct connrt_def_component *comp,
                                             const struct connrt_property_def *table,
                                             const struct connrt_connector *connector,
                                             const connrt_jprops_t *container, char *errstr,
                                             size_t errstr_size);

/*
 * The operation component `operation_id` of `defs` opened for execution,
 * opening its connection first (each once per container). Settings are
 * resolved with connrt_settings_resolve. Returns 0 and *out (borrowed until
 * the container is destroyed), or -1 with errstr, which begins with the
 * FILE:LINE of the component that could not be opened (operation or its
 * connection).
 */
int connrt_container_operation(connrt_container_t *c, const connrt_definitions_t *defs,
                               const char *operation_id, struct connrt_open_operation **out,
                               char *errstr, size_t errstr_size);

/* The operation `operation_id` if it is open already, else NULL; never
 * opens one (for /metrics). Borrowed until the container is destroyed. */
const struct connrt_open_operation *connrt_container_find_operation(connrt_container_t *c,
                                                                   const char *operation_id);

/* The connection component `connection_id` opened (once). Returns 0 and the
 * connector's handle, or -1 with errstr (beginning with the connection's
 * FILE:LINE). */
int connrt_container_connection(connrt_container_t *c, const connrt_definitions_t *defs,
                                const char *connection_id, const struct connrt_connector **conn,
                                void **handle, char *errstr, size_t errstr_size);

#endif
