/*
 * container.c - one runtime instance: its directory, container properties,
 * connectors, and the connections and operations opened from definitions.
 * Each component is opened once and shared by every execution.
 */
#include "container.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "../properties/property.h"
#include "host.h"
#include "log.h"

static const char *const log_levels[] = {"error", "warning", "info", "debug", NULL};
static const char *const log_formats[] = {"text", "json", NULL};
static const char *const history_documents[] = {"all", "errors", "none", NULL};
static const char *const history_synchronous[] = {"normal", "full", NULL};

const struct connrt_property_def connrt_container_property_table[] = {
    {"log.level", CONNRT_PROP_ENUM, 0, "info", log_levels, 0, 0,
     "Least severe level written to the log (stderr and logs/connrt.jsonl).", NULL},
    {"log.format", CONNRT_PROP_ENUM, 0, "text", log_formats, 0, 0,
     "Format of log lines on stderr: text, or json (the objects of logs/connrt.jsonl).", NULL},
    {"history.retention.days", CONNRT_PROP_INT, 0, "30", NULL, 0, 36500,
     "Executions that started more days ago are deleted from data/history.db when an "
     "execution begins; 0 keeps them forever.", NULL},
    {"history.documents", CONNRT_PROP_ENUM, 0, "all", history_documents, 0, 0,
     "Documents recorded in the history: all, errors (those that did not succeed) or none "
     "(executions and counts only).", NULL},
    {"history.payloads", CONNRT_PROP_BOOL, 0, "false", NULL, 0, 0,
     "Also keep each recorded document's payload in the history (it may hold personal data).",
     NULL},
    {"history.synchronous", CONNRT_PROP_ENUM, 0, "normal", history_synchronous, 0, 0,
     "normal: a killed connrt loses no committed history, a power cut may lose the last chunks; "
     "full: sync each chunk to disk.", NULL},
    {"execution.max.documents.in.flight", CONNRT_PROP_INT, 0, "100000", NULL, 1, 10000000,
     "Documents an execution holds in memory at once; larger inputs run in chunks of this size.",
     NULL},
    {"execution.max.document.bytes", CONNRT_PROP_INT, 0, "104857600", NULL, 1, 2147483647,
     "connrt run: largest input document (a line, or a file of --input DIR); a larger one is "
     "not read: it is an application error naming its line or file.", NULL},
    {"output.cached.bytes", CONNRT_PROP_SIZE, 0, "268435456", NULL, 0, 1099511627776LL,
     "How much of an output file (--output, or stdout redirected to a file) stays in the page "
     "cache while it is written: older parts are written out and dropped from the cache by a "
     "thread of their own. 0: every page stays until the kernel reclaims it.", NULL},
    {"execution.max.concurrent", CONNRT_PROP_INT, 0, "16", NULL, 1, 1024,
     "Executions running at once in the container (all listeners together); caps the listen "
     "operations' max_concurrent_executions.", NULL},
    {"metrics.port", CONNRT_PROP_INT, 0, "0", NULL, 0, 65535,
     "connrt serve: TCP port on 127.0.0.1 for /health and Prometheus /metrics; 0: off.", NULL},
    {"shutdown.timeout.ms", CONNRT_PROP_DURATION_MS, 0, "60000", NULL, 1, 86400000,
     "connrt serve: longest drain on SIGTERM (running executions finish, offsets commit) before "
     "it exits with status 3.", NULL},
    {NULL, 0, 0, NULL, NULL, 0, 0, NULL, NULL},
};

struct opened_connection {
    const struct connrt_def_component *component;
    const struct connrt_connector *connector;
    connrt_settings_t *settings;
    void *handle;
};

struct opened_operation {
    struct connrt_open_operation open; /* handed out; address stable (own allocation) */
    connrt_settings_t *settings;
};

struct connrt_container {
    char *dir;
    connrt_jprops_t *properties;
    connrt_registry_t *registry;
    pthread_mutex_t lock;
    struct opened_connection *connections;
    size_t nconnections;
    struct opened_operation **operations;
    size_t noperations;
    connrt_history_t *history; /* opened at the first execution */
    int history_tried;
};

static connrt_log_level_t log_level_from_name(const char *name)
{
    static const connrt_log_level_t levels[] = {CONNRT_LOG_ERROR, CONNRT_LOG_WARNING,
                                                CONNRT_LOG_INFO, CONNRT_LOG_DEBUG};
    for (size_t i = 0; name != NULL && log_levels[i] != NULL; i++) {
        if (strcmp(log_levels[i], name) == 0) {
            return levels[i];
        }
    }
    return CONNRT_LOG_INFO;
}

/* The container property `name` (trimmed into buf), else the table's default. */
static const char *property_value(const connrt_container_t *c, const char *name, char *buf,
                                  size_t size)
{
    const char *v = c != NULL ? connrt_jprops_get(c->properties, name) : NULL;
    if (v == NULL) {
        const struct connrt_property_def *d =
            connrt_property_find(connrt_container_property_table, name);
        return d != NULL && d->default_value != NULL ? d->default_value : "";
    }
    while (*v == ' ' || *v == '\t') {
        v++;
    }
    snprintf(buf, size, "%s", v);
    for (size_t n = strlen(buf); n > 0 && (buf[n - 1] == ' ' || buf[n - 1] == '\t'); n--) {
        buf[n - 1] = '\0';
    }
    return buf;
}

/* Index of the property's value in `allowed`; 0 (the default) if absent. */
static int property_choice(const connrt_container_t *c, const char *name,
                           const char *const *allowed)
{
    char buf[64];
    const char *v = property_value(c, name, buf, sizeof(buf));
    for (int i = 0; allowed[i] != NULL; i++) {
        if (strcmp(allowed[i], v) == 0) {
            return i;
        }
    }
    return 0;
}

static long long property_number(const connrt_container_t *c, const char *name,
                                 connrt_property_type_t type, long long fallback)
{
    char buf[64];
    long long n;
    const char *v = property_value(c, name, buf, sizeof(buf));
    return connrt_property_parse_int(type, v, &n) == 0 ? n : fallback;
}

long long connrt_container_int(const connrt_container_t *c, const char *name)
{
    const struct connrt_property_def *d =
        connrt_property_find(connrt_container_property_table, name);
    return property_number(c, name, d != NULL ? d->type : CONNRT_PROP_INT, 0);
}

/* The container whose logging is in force: only it may close the log file
 * (serve holds several containers while it reloads). */
static const connrt_container_t *log_owner;

/* Log lines also go to DIR/logs/connrt.jsonl, at the container's level. */
void connrt_container_log_setup(const connrt_container_t *c)
{
    connrt_log_level_t level = log_level_from_name(connrt_jprops_get(c->properties, "log.level"));
    connrt_host_set_log_level(level);
    connrt_log_set_level(level);
    log_owner = c;
    char path[4096];
    connrt_log_set_format(property_choice(c, "log.format", log_formats) == 1
                              ? CONNRT_LOG_FORMAT_JSON
                              : CONNRT_LOG_FORMAT_TEXT);
    if (c->dir != NULL) {
        snprintf(path, sizeof(path), "%s/logs/connrt.jsonl", c->dir);
        connrt_log_set_file(path);
    }
}

static connrt_jprops_t *load_container_properties(const char *dir, connrt_diagnostics_t *diag)
{
    char path[4096], errstr[1024];
    struct stat st;
    if (dir == NULL) {
        return connrt_jprops_new_empty("container.properties");
    }
    snprintf(path, sizeof(path), "%s/container.properties", dir);
    if (stat(path, &st) != 0) {
        return connrt_jprops_new_empty(path);
    }
    connrt_jprops_t *props = connrt_jprops_load_file(path, errstr, sizeof(errstr));
    if (props == NULL) {
        connrt_diag_add(diag, NULL, 0, "%s", errstr);
        return connrt_jprops_new_empty(path);
    }
    return props;
}

connrt_container_t *connrt_container_open(const char *dir, connrt_diagnostics_t *diag)
{
    connrt_container_t *c = connrt_container_open_unapplied(dir, diag);
    if (c != NULL) {
        connrt_container_log_setup(c);
    }
    return c;
}

connrt_container_t *connrt_container_open_unapplied(const char *dir, connrt_diagnostics_t *diag)
{
    struct stat st;
    if (dir != NULL && (stat(dir, &st) != 0 || !S_ISDIR(st.st_mode))) {
        connrt_diag_add(diag, dir, 0, "not a container directory");
        return NULL;
    }
    connrt_container_t *c = calloc(1, sizeof(*c));
    if (c == NULL) {
        return NULL;
    }
    pthread_mutex_init(&c->lock, NULL);
    c->dir = dir ? strdup(dir) : NULL;
    c->properties = load_container_properties(dir, diag);
    c->registry = connrt_registry_new();
    if ((dir != NULL && c->dir == NULL) || c->properties == NULL || c->registry == NULL) {
        connrt_container_destroy(c);
        return NULL;
    }
    connrt_registry_load_search_path(c->registry, dir, diag);
    return c;
}

void connrt_container_destroy(connrt_container_t *c)
{
    if (c == NULL) {
        return;
    }
    for (size_t i = c->noperations; i-- > 0;) {
        struct opened_operation *o = c->operations[i];
        if (o->open.op->close != NULL) {
            o->open.op->close(o->open.ctx);
        }
        free(o->open.ctx);
        connrt_settings_destroy(o->settings);
        free(o);
    }
    free(c->operations);
    for (size_t i = c->nconnections; i-- > 0;) {
        c->connections[i].connector->connection_close(c->connections[i].handle);
        connrt_settings_destroy(c->connections[i].settings);
    }
    free(c->connections);
    /* Last, so that what connections log while closing still reaches the files. */
    connrt_history_close(c->history);
    if (c == log_owner) {
        if (c->dir != NULL) {
            connrt_log_set_file(NULL);
        }
        log_owner = NULL;
    }
    connrt_registry_destroy(c->registry);
    connrt_jprops_destroy(c->properties);
    pthread_mutex_destroy(&c->lock);
    free(c->dir);
    free(c);
}

const char *connrt_container_dir(const connrt_container_t *c)
{
    return c->dir;
}

connrt_registry_t *connrt_container_registry(connrt_container_t *c)
{
    return c->registry;
}

const connrt_jprops_t *connrt_container_properties(const connrt_container_t *c)
{
    return c->properties;
}

static connrt_history_t *open_history(const connrt_container_t *c)
{
    char dir[4096], path[4096 + 16], errstr[1024];
    struct connrt_history_options o = {
        .retention_days = property_number(c, "history.retention.days", CONNRT_PROP_INT, 30),
        .payloads = property_number(c, "history.payloads", CONNRT_PROP_BOOL, 0) != 0,
        .documents = (connrt_history_documents_t)property_choice(c, "history.documents",
                                                                  history_documents),
        .synchronous_full = property_choice(c, "history.synchronous", history_synchronous) == 1,
    };
    snprintf(dir, sizeof(dir), "%s/data", c->dir);
    snprintf(path, sizeof(path), "%s/history.db", dir);
    if (mkdir(dir, 0750) != 0 && errno != EEXIST) {
        connrt_host_services()->log(CONNRT_LOG_WARNING, NULL, "history: cannot create %s: %s; "
                                    "executions are not recorded", dir, strerror(errno));
        return NULL;
    }
    connrt_history_t *h = connrt_history_open(path, &o, errstr, sizeof(errstr));
    if (h == NULL) {
        connrt_host_services()->log(CONNRT_LOG_WARNING, NULL,
                                    "history: %s; executions are not recorded", errstr);
    }
    return h;
}

connrt_history_t *connrt_container_history(connrt_container_t *c)
{
    pthread_mutex_lock(&c->lock);
    if (!c->history_tried && c->dir != NULL) {
        c->history_tried = 1;
        c->history = open_history(c);
    }
    connrt_history_t *h = c->history;
    pthread_mutex_unlock(&c->lock);
    return h;
}

/* The component's <property> values as the settings resolver takes them;
 * caller frees the array (strings stay borrowed from the definitions). */
static struct connrt_setting_value *component_values(const struct connrt_def_component *comp)
{
    struct connrt_setting_value *values = calloc(comp->nproperties + 1, sizeof(*values));
    for (size_t i = 0; values != NULL && i < comp->nproperties; i++) {
        values[i].name = comp->properties[i].name;
        values[i].value = comp->properties[i].value;
    }
    return values;
}

connrt_settings_t *connrt_component_settings(const struct connrt_def_component *comp,
                                             const struct connrt_property_def *table,
                                             const struct connrt_connector *connector,
                                             const connrt_jprops_t *container, char *errstr,
                                             size_t errstr_size)
{
    char prefix[256];
    struct connrt_setting_value *values = component_values(comp);
    if (values == NULL) {
        snprintf(errstr, errstr_size, "%s: out of memory", comp->id);
        return NULL;
    }
    snprintf(prefix, sizeof(prefix), "connector.%s.", connector->name);
    connrt_settings_t *settings =
        connrt_settings_resolve(table, values, comp->nproperties,
                                container ? connector->container_properties : NULL, container,
                                prefix, errstr, errstr_size);
    free(values);
    return settings;
}

/* Where a component is defined, for messages about opening it. */
static const char *component_file(const struct connrt_def_component *comp)
{
    return comp->file != NULL ? comp->file : "?";
}

static const struct connrt_def_component *find_component(const connrt_definitions_t *defs,
                                                         const char *id,
                                                         connrt_component_kind_t kind,
                                                         const char *what, char *errstr,
                                                         size_t errstr_size)
{
    const struct connrt_def_component *comp = connrt_definitions_find(defs, id);
    if (comp == NULL || comp->kind != kind) {
        snprintf(errstr, errstr_size, "no %s component with id '%s'", what, id);
        return NULL;
    }
    return comp;
}

static int open_connection_locked(connrt_container_t *c, const connrt_definitions_t *defs,
                                  const char *id, struct opened_connection **out, char *errstr,
                                  size_t errstr_size)
{
    for (size_t i = 0; i < c->nconnections; i++) {
        if (strcmp(c->connections[i].component->id, id) == 0) {
            *out = &c->connections[i];
            return 0;
        }
    }
    const struct connrt_def_component *comp =
        find_component(defs, id, CONNRT_COMPONENT_CONNECTION, "connection", errstr, errstr_size);
    if (comp == NULL) {
        return -1;
    }
    const struct connrt_connector *connector = connrt_registry_find(c->registry, comp->connector);
    if (connector == NULL) {
        snprintf(errstr, errstr_size, "%s:%d: connection '%s': connector '%s' is not loaded",
                 component_file(comp), comp->line, id, comp->connector);
        return -1;
    }
    struct opened_connection *grown =
        realloc(c->connections, (c->nconnections + 1) * sizeof(*grown));
    if (grown == NULL) {
        snprintf(errstr, errstr_size, "connection '%s': out of memory", id);
        return -1;
    }
    c->connections = grown;
    struct opened_connection *oc = &c->connections[c->nconnections];
    *oc = (struct opened_connection){comp, connector, NULL, NULL};
    oc->settings = connrt_component_settings(comp, connector->connection_properties, connector,
                                             NULL, errstr, errstr_size);
    if (oc->settings == NULL) {
        return -1;
    }
    char why[1024] = "";
    if (connector->connection_open(connrt_host_services(), oc->settings, id, c->dir, &oc->handle,
                                   why, sizeof(why)) != 0) {
        snprintf(errstr, errstr_size, "%s:%d: connection '%s': %s", component_file(comp),
                 comp->line, id, why);
        connrt_settings_destroy(oc->settings);
        return -1;
    }
    c->nconnections++;
    *out = oc;
    return 0;
}

int connrt_container_connection(connrt_container_t *c, const connrt_definitions_t *defs,
                                const char *connection_id, const struct connrt_connector **conn,
                                void **handle, char *errstr, size_t errstr_size)
{
    struct opened_connection *oc;
    pthread_mutex_lock(&c->lock);
    int rc = open_connection_locked(c, defs, connection_id, &oc, errstr, errstr_size);
    if (rc == 0) {
        /* Copied under the lock: the array moves when another connection opens. */
        *conn = oc->connector;
        *handle = oc->handle;
    }
    pthread_mutex_unlock(&c->lock);
    return rc;
}

static int open_operation_locked(connrt_container_t *c, const connrt_definitions_t *defs,
                                 const struct connrt_def_component *comp,
                                 struct opened_operation *o, char *errstr, size_t errstr_size)
{
    struct opened_connection *oc;
    if (open_connection_locked(c, defs, comp->connection, &oc, errstr, errstr_size) != 0) {
        return -1;
    }
    o->open.connector = oc->connector;
    o->open.op = connrt_connector_operation(oc->connector, comp->type);
    if (o->open.op == NULL) {
        snprintf(errstr, errstr_size,
                 "%s:%d: operation '%s': connector '%s' has no operation type '%s'",
                 component_file(comp), comp->line, comp->id, oc->connector->name, comp->type);
        return -1;
    }
    o->settings = connrt_component_settings(comp, o->open.op->properties, oc->connector,
                                            c->properties, errstr, errstr_size);
    if (o->settings == NULL) {
        return -1;
    }
    o->open.ctx = calloc(1, o->open.op->context_size ? o->open.op->context_size : 1);
    char why[1024] = "";
    if (o->open.ctx == NULL ||
        o->open.op->open(o->open.ctx, connrt_host_services(), oc->handle, o->settings, comp->id,
                         why, sizeof(why)) != 0) {
        snprintf(errstr, errstr_size, "%s:%d: operation '%s': %s", component_file(comp),
                 comp->line, comp->id, o->open.ctx ? why : "out of memory");
        free(o->open.ctx);
        connrt_settings_destroy(o->settings);
        return -1;
    }
    return 0;
}

const struct connrt_open_operation *connrt_container_find_operation(connrt_container_t *c,
                                                                   const char *operation_id)
{
    const struct connrt_open_operation *found = NULL;
    pthread_mutex_lock(&c->lock);
    for (size_t i = 0; i < c->noperations && found == NULL; i++) {
        if (strcmp(c->operations[i]->open.component->id, operation_id) == 0) {
            found = &c->operations[i]->open;
        }
    }
    pthread_mutex_unlock(&c->lock);
    return found;
}

int connrt_container_operation(connrt_container_t *c, const connrt_definitions_t *defs,
                               const char *operation_id, struct connrt_open_operation **out,
                               char *errstr, size_t errstr_size)
{
    int rc = -1;
    pthread_mutex_lock(&c->lock);
    for (size_t i = 0; i < c->noperations; i++) {
        if (strcmp(c->operations[i]->open.component->id, operation_id) == 0) {
            *out = &c->operations[i]->open;
            pthread_mutex_unlock(&c->lock);
            return 0;
        }
    }
    const struct connrt_def_component *comp = find_component(
        defs, operation_id, CONNRT_COMPONENT_OPERATION, "operation", errstr, errstr_size);
    struct opened_operation *o = comp ? calloc(1, sizeof(*o)) : NULL;
    struct opened_operation **grown =
        o ? realloc(c->operations, (c->noperations + 1) * sizeof(*grown)) : NULL;
    if (grown != NULL) {
        c->operations = grown;
        o->open.component = comp;
        if (open_operation_locked(c, defs, comp, o, errstr, errstr_size) == 0) {
            c->operations[c->noperations++] = o;
            *out = &o->open;
            o = NULL;
            rc = 0;
        }
    } else if (comp != NULL) {
        snprintf(errstr, errstr_size, "operation '%s': out of memory", operation_id);
    }
    free(o);
    pthread_mutex_unlock(&c->lock);
    return rc;
}
