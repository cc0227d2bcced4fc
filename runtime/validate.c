/*
 * validate.c - semantic checks of definitions (ids, references, connector
 * property tables) and of container.properties. Every problem is reported,
 * each once: a field the loader left NULL was already reported there and is
 * skipped here, and a component whose connector is unknown is not checked
 * further against tables it does not have.
 */
#include "validate.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "container.h"
#include "host.h"
#include "../properties/property.h"

static const char *kind_name(connrt_component_kind_t kind)
{
    switch (kind) {
    case CONNRT_COMPONENT_CONNECTION:
        return "connection";
    case CONNRT_COMPONENT_OPERATION:
        return "operation";
    case CONNRT_COMPONENT_PROCESS:
        return "process";
    }
    return "component";
}

/*
 * Problems found in definitions are collected first and reported sorted by
 * file (in load order) and line, so that the output reads file by file
 * whatever order the checks ran in.
 */
struct finding {
    size_t file_rank;
    const char *file;
    int line;
    size_t seq; /* keeps the sort stable */
    char *text;
};

struct findings {
    const connrt_definitions_t *defs;
    struct finding *items;
    size_t count, capacity;
    size_t lost; /* findings that could not be recorded (no memory) */
};

static size_t file_rank(const connrt_definitions_t *defs, const char *file)
{
    size_t n = connrt_definitions_file_count(defs);
    for (size_t i = 0; file != NULL && i < n; i++) {
        if (connrt_definitions_file_at(defs, i) == file) {
            return i;
        }
    }
    return n;
}

static void add_finding(struct findings *f, const char *file, int line, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static void add_finding(struct findings *f, const char *file, int line, const char *fmt, ...)
{
    char *text = NULL;
    va_list ap;
    if (f->count == f->capacity) {
        size_t capacity = f->capacity ? f->capacity * 2 : 16;
        struct finding *items = realloc(f->items, capacity * sizeof(*items));
        if (items == NULL) {
            f->lost++;
            return;
        }
        f->items = items;
        f->capacity = capacity;
    }
    va_start(ap, fmt);
    int rc = vasprintf(&text, fmt, ap);
    va_end(ap);
    if (rc < 0) {
        f->lost++;
        return;
    }
    f->items[f->count] = (struct finding){file_rank(f->defs, file), file, line, f->count, text};
    f->count++;
}

static int compare_findings(const void *a, const void *b)
{
    const struct finding *x = a, *y = b;
    if (x->file_rank != y->file_rank) {
        return x->file_rank < y->file_rank ? -1 : 1;
    }
    if (x->line != y->line) {
        return x->line < y->line ? -1 : 1;
    }
    return x->seq < y->seq ? -1 : (x->seq > y->seq);
}

/* Sorted into diag; returns their number. Frees the findings. */
static size_t flush_findings(struct findings *f, connrt_diagnostics_t *diag)
{
    size_t n = f->count;
    if (n > 0) {
        qsort(f->items, n, sizeof(*f->items), compare_findings);
    }
    for (size_t i = 0; i < n; i++) {
        connrt_diag_add(diag, f->items[i].file, f->items[i].line, "%s", f->items[i].text);
        free(f->items[i].text);
    }
    free(f->items);
    f->items = NULL;
    f->count = f->capacity = 0;
    connrt_diag_add_lost(diag, f->lost);
    n += f->lost;
    f->lost = 0;
    return n;
}

/* A component problem: "file:line: connection 'id': message". */
static void component_problem(struct findings *f, const struct connrt_def_component *c,
                              const char *file, int line, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));

static void component_problem(struct findings *f, const struct connrt_def_component *c,
                              const char *file, int line, const char *fmt, ...)
{
    char msg[2048];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    if (c->id != NULL) {
        add_finding(f, file, line, "%s '%s': %s", kind_name(c->kind), c->id, msg);
    } else {
        add_finding(f, file, line, "%s: %s", kind_name(c->kind), msg);
    }
}

/* "a, b, c" into buf. */
static void join(char *buf, size_t size, const char *const *names, size_t n)
{
    size_t used = 0;
    buf[0] = '\0';
    for (size_t i = 0; i < n && used < size; i++) {
        int w = snprintf(buf + used, size - used, "%s%s", i ? ", " : "", names[i]);
        used += (w > 0) ? (size_t)w : 0;
    }
}

/* ------------------------------------------------------------------------ */
/* Did you mean, for ids and names outside property tables                  */
/* ------------------------------------------------------------------------ */

/* connrt_property_suggest over a list of names (a throwaway table, so that
 * every "did you mean" uses the same distance rule). NULL when none. */
static const char *suggest_name(const char *const *names, size_t n, const char *name)
{
    struct connrt_property_def *table = calloc(n + 1, sizeof(*table));
    const char *best = NULL;
    if (table == NULL) {
        return NULL;
    }
    for (size_t i = 0; i < n; i++) {
        table[i].name = names[i];
    }
    best = connrt_property_suggest(table, name);
    free(table);
    return best;
}

/* Ids of the components of `kind`; caller frees the array (strings borrowed). */
static const char **ids_of_kind(const connrt_definitions_t *defs, connrt_component_kind_t kind,
                                size_t *n)
{
    size_t count = connrt_definitions_count(defs);
    const char **ids = calloc(count + 1, sizeof(*ids));
    *n = 0;
    for (size_t i = 0; ids != NULL && i < count; i++) {
        const struct connrt_def_component *c = connrt_definitions_at(defs, i);
        if (c->kind == kind && c->id != NULL) {
            ids[(*n)++] = c->id;
        }
    }
    return ids;
}

/* " (did you mean 'x'?)" for an unknown id of `kind`, or "". */
static void id_suggestion(const connrt_definitions_t *defs, connrt_component_kind_t kind,
                          const char *id, char *buf, size_t size)
{
    size_t n;
    const char **ids = ids_of_kind(defs, kind, &n);
    const char *best = ids ? suggest_name(ids, n, id) : NULL;
    if (best != NULL) {
        snprintf(buf, size, " (did you mean '%s'?)", best);
    } else {
        buf[0] = '\0';
    }
    free(ids);
}

/* ------------------------------------------------------------------------ */
/* Ids                                                                      */
/* ------------------------------------------------------------------------ */

static void check_duplicate_ids(const connrt_definitions_t *defs, struct findings *f)
{
    size_t n = connrt_definitions_count(defs);
    for (size_t i = 0; i < n; i++) {
        const struct connrt_def_component *c = connrt_definitions_at(defs, i);
        const struct connrt_def_component *first = connrt_definitions_find(defs, c->id);
        if (c->id != NULL && first != NULL && first != c) {
            add_finding(f, c->file, c->line, "duplicate id '%s' (first defined at %s:%d)", c->id,
                        first->file, first->line);
        }
    }
}

/* The component `id` refers to, when it exists and is of `kind`; otherwise
 * reports the problem and returns NULL. `step` names the referring step
 * ("<connector>"), or is NULL for a component's own attribute. */
static const struct connrt_def_component *
resolve_reference(const connrt_definitions_t *defs, const struct connrt_def_component *from,
                  const char *file, int line, const char *step, const char *id,
                  connrt_component_kind_t kind, struct findings *f)
{
    const struct connrt_def_component *target = connrt_definitions_find(defs, id);
    char hint[256];
    char prefix[64] = "";
    if (step != NULL) {
        snprintf(prefix, sizeof(prefix), "%s: ", step);
    }
    if (target == NULL) {
        id_suggestion(defs, kind, id, hint, sizeof(hint));
        component_problem(f, from, file, line, "%sunknown %s '%s'%s", prefix,
                          kind_name(kind), id, hint);
        return NULL;
    }
    if (target->kind != kind) {
        component_problem(f, from, file, line, "%s'%s' is a %s (%s:%d), not %s %s",
                          prefix, id, kind_name(target->kind), target->file, target->line,
                          kind == CONNRT_COMPONENT_OPERATION ? "an" : "a", kind_name(kind));
        return NULL;
    }
    return target;
}

/* ------------------------------------------------------------------------ */
/* Properties against a table                                               */
/* ------------------------------------------------------------------------ */

/* Whether `name` is among c's properties, or an unknown property of c is a
 * misspelling of it: then "did you mean" already said so, and "missing
 * required" would be the same mistake reported twice. */
static int given_or_misspelled(const struct connrt_def_component *c,
                               const struct connrt_property_def *table, const char *name)
{
    for (size_t i = 0; i < c->nproperties; i++) {
        const char *given = c->properties[i].name;
        if (given == NULL) {
            continue;
        }
        if (strcmp(given, name) == 0) {
            return 1;
        }
        const char *best = connrt_property_find(table, given) == NULL
                               ? connrt_property_suggest(table, given)
                               : NULL;
        if (best != NULL && strcmp(best, name) == 0) {
            return 1;
        }
    }
    return 0;
}

static void check_properties(const struct connrt_def_component *c,
                             const struct connrt_property_def *table, const char *table_name,
                             const char *connector, struct findings *f)
{
    char err[1024];
    for (size_t i = 0; i < c->nproperties; i++) {
        const struct connrt_def_property *p = &c->properties[i];
        if (p->name == NULL) {
            continue;
        }
        for (size_t j = 0; j < i; j++) {
            if (c->properties[j].name != NULL && strcmp(c->properties[j].name, p->name) == 0) {
                component_problem(f, c, p->file, p->line,
                                  "property '%s' is set twice (first at line %d)", p->name,
                                  c->properties[j].line);
                break;
            }
        }
        const struct connrt_property_def *def = connrt_property_find(table, p->name);
        if (def == NULL) {
            const char *best = connrt_property_suggest(table, p->name);
            if (best != NULL) {
                component_problem(f, c, p->file, p->line,
                                  "unknown property '%s' for %s (did you mean '%s'?)", p->name,
                                  table_name, best);
            } else {
                component_problem(f, c, p->file, p->line,
                                  "unknown property '%s' for %s (see `connrt describe %s`)",
                                  p->name, table_name, connector);
            }
            continue;
        }
        if (p->value == NULL && !(def->flags & CONNRT_PROP_F_INVALID)) {
            continue; /* ${env:} problem, already reported */
        }
        if (connrt_property_check_named(def, p->name, p->value ? p->value : "", err,
                                        sizeof(err)) != 0) {
            component_problem(f, c, p->file, p->line, "%s", err);
        }
    }
    for (const struct connrt_property_def *def = table; def && def->name != NULL; def++) {
        if ((def->flags & CONNRT_PROP_F_REQUIRED) && def->type != CONNRT_PROP_PREFIX &&
            !given_or_misspelled(c, table, def->name)) {
            component_problem(f, c, c->file, c->line, "missing required property '%s'",
                              def->name);
        }
    }
}

/* ------------------------------------------------------------------------ */
/* Components                                                               */
/* ------------------------------------------------------------------------ */

static void known_connectors(const connrt_registry_t *reg, char *buf, size_t size)
{
    size_t n = reg ? connrt_registry_count(reg) : 0;
    const char **names = calloc(n + 1, sizeof(*names));
    if (n == 0 || names == NULL) {
        snprintf(buf, size, "no connectors are loaded: check CONNRT_CONNECTOR_PATH and the "
                 "container's connectors/ directory");
        free(names);
        return;
    }
    for (size_t i = 0; i < n; i++) {
        names[i] = connrt_registry_at(reg, i)->name;
    }
    int w = snprintf(buf, size, "known: ");
    join(buf + w, size - (size_t)w, names, n);
    free(names);
}

static const struct connrt_connector *find_connector(const connrt_registry_t *reg,
                                                     const char *name)
{
    return (reg != NULL && name != NULL) ? connrt_registry_find(reg, name) : NULL;
}

/* The connector named by the `len` bytes at `name` (no copy: a copy that
 * cannot be made must not read as an unknown connector). */
static const struct connrt_connector *find_connector_n(const connrt_registry_t *reg,
                                                       const char *name, size_t len)
{
    for (size_t i = 0; reg != NULL && i < connrt_registry_count(reg); i++) {
        const struct connrt_connector *cn = connrt_registry_at(reg, i);
        if (strncmp(cn->name, name, len) == 0 && cn->name[len] == '\0') {
            return cn;
        }
    }
    return NULL;
}

/* No value is missing for an ${env:} reference (reported on its own). */
static int all_values_known(const struct connrt_def_component *c)
{
    for (size_t i = 0; i < c->nproperties; i++) {
        if (c->properties[i].value == NULL) {
            return 0;
        }
    }
    return 1;
}

/* Properties valid one by one may still not fit together (SCRAM without a
 * password): the connector says so now rather than when a run opens it. */
static void check_connection_settings(const struct connrt_def_component *c,
                                      const struct connrt_connector *connector,
                                      struct findings *f)
{
    char why[1024] = "";
    connrt_check_fn check = connrt_connector_check(connector);
    if (check == NULL) {
        return;
    }
    connrt_settings_t *settings = connrt_component_settings(
        c, connector->connection_properties, connector, NULL, why, sizeof(why));
    if (settings == NULL || check(connrt_host_services(), settings, why, sizeof(why)) != 0) {
        component_problem(f, c, c->file, c->line, "%s", why[0] ? why : "out of memory");
    }
    connrt_settings_destroy(settings);
}

static void check_connection(const struct connrt_def_component *c, const connrt_registry_t *reg,
                             struct findings *f)
{
    char known[1024], table_name[256];
    if (c->connector == NULL) {
        return;
    }
    const struct connrt_connector *connector = find_connector(reg, c->connector);
    if (connector == NULL) {
        known_connectors(reg, known, sizeof(known));
        component_problem(f, c, c->file, c->line, "unknown connector '%s' (%s)",
                          c->connector, known);
        return;
    }
    snprintf(table_name, sizeof(table_name), "a %s connection", connector->name);
    size_t before = f->count + f->lost;
    check_properties(c, connector->connection_properties, table_name, connector->name, f);
    if (f->count + f->lost == before && all_values_known(c)) {
        check_connection_settings(c, connector, f);
    }
}

/* Types of `connector`'s operations, "a, b, c"; only those that can start a
 * process when `starters`. */
static void operation_types(const struct connrt_connector *connector, int starters, char *buf,
                            size_t size)
{
    const char *names[64] = {NULL};
    size_t n = 0;
    for (const struct connrt_operation *op = connector->operations;
         op != NULL && op->type != NULL && n < 64; op++) {
        if (!starters || op->can_start) {
            names[n++] = op->type;
        }
    }
    join(buf, size, names, n);
    if (n == 0) {
        snprintf(buf, size, "none");
    }
}

/* The connector and operation table entry of operation component `c`, or
 * NULL when either is unknown (reported by its own check). */
static const struct connrt_operation *operation_of(const connrt_definitions_t *defs,
                                                   const struct connrt_def_component *c,
                                                   const connrt_registry_t *reg,
                                                   const struct connrt_connector **connector)
{
    const struct connrt_def_component *conn = connrt_definitions_find(defs, c->connection);
    *connector = NULL;
    if (conn == NULL || conn->kind != CONNRT_COMPONENT_CONNECTION || c->type == NULL) {
        return NULL;
    }
    *connector = find_connector(reg, conn->connector);
    return *connector ? connrt_connector_operation(*connector, c->type) : NULL;
}

static void check_operation(const connrt_definitions_t *defs,
                            const struct connrt_def_component *c, const connrt_registry_t *reg,
                            struct findings *f)
{
    char types[512], table_name[256];
    const struct connrt_connector *connector;
    if (c->connection == NULL ||
        resolve_reference(defs, c, c->file, c->line, NULL, c->connection,
                          CONNRT_COMPONENT_CONNECTION, f) == NULL) {
        return;
    }
    const struct connrt_operation *op = operation_of(defs, c, reg, &connector);
    if (connector == NULL || c->type == NULL) {
        return;
    }
    if (op == NULL) {
        operation_types(connector, 0, types, sizeof(types));
        component_problem(f, c, c->file, c->line,
                          "connector '%s' has no operation type '%s' (it has: %s)",
                          connector->name, c->type, types);
        return;
    }
    snprintf(table_name, sizeof(table_name), "%s %s", connector->name, op->type);
    check_properties(c, op->properties, table_name, connector->name, f);
}

/* A json-pointer is "" (the whole document) or "/a/b" with ~0 and ~1 the
 * only escapes (RFC 6901). */
static int json_pointer_ok(const char *p)
{
    if (p[0] != '\0' && p[0] != '/') {
        return 0;
    }
    for (const char *t = strchr(p, '~'); t != NULL; t = strchr(t + 1, '~')) {
        if (t[1] != '0' && t[1] != '1') {
            return 0;
        }
    }
    return 1;
}

static void check_assignments(const struct connrt_def_component *c,
                              const struct connrt_def_step *s, struct findings *f)
{
    for (size_t i = 0; i < s->nassignments; i++) {
        const struct connrt_def_assignment *a = &s->assignments[i];
        if (a->source == CONNRT_SOURCE_JSON_POINTER && a->argument != NULL &&
            !json_pointer_ok(a->argument)) {
            component_problem(f, c, a->file, a->line,
                              "json-pointer '%s' of property '%s' is not a JSON pointer (write "
                              "'' for the whole document or '/field/0/name', escaping '~' as "
                              "'~0' and '/' as '~1')", a->argument, a->name ? a->name : "");
        }
    }
}

static void check_step(const connrt_definitions_t *defs, const struct connrt_def_component *c,
                       const struct connrt_def_step *s, const connrt_registry_t *reg,
                       struct findings *f)
{
    char what[64], types[512];
    const struct connrt_connector *connector;
    if (s->kind == CONNRT_STEP_SET_PROPERTIES) {
        check_assignments(c, s, f);
        return;
    }
    if ((s->kind != CONNRT_STEP_START && s->kind != CONNRT_STEP_CONNECTOR) ||
        s->operation == NULL) {
        return;
    }
    snprintf(what, sizeof(what), "<%s>", s->kind == CONNRT_STEP_START ? "start" : "connector");
    const struct connrt_def_component *target =
        resolve_reference(defs, c, s->file, s->line, what, s->operation,
                          CONNRT_COMPONENT_OPERATION, f);
    const struct connrt_operation *op = target ? operation_of(defs, target, reg, &connector)
                                               : NULL;
    if (op == NULL) {
        return; /* the operation's own check says why */
    }
    if (s->kind == CONNRT_STEP_START && !op->can_start) {
        operation_types(connector, 1, types, sizeof(types));
        component_problem(f, c, s->file, s->line,
                          "operation '%s' (%s %s) cannot start a process (%s operations that "
                          "can: %s)", s->operation, connector->name, op->type, connector->name,
                          types);
    } else if (s->kind == CONNRT_STEP_CONNECTOR && op->kind == CONNRT_OP_LISTEN) {
        component_problem(f, c, s->file, s->line,
                          "operation '%s' (%s %s) listens: it can only be used in <start>",
                          s->operation, connector->name, op->type);
    }
}

static void check_process(const connrt_definitions_t *defs, const struct connrt_def_component *c,
                          const connrt_registry_t *reg, struct findings *f)
{
    for (size_t i = 0; i < c->nsteps; i++) {
        check_step(defs, c, &c->steps[i], reg, f);
    }
    for (size_t i = 0; i < c->nerror_steps; i++) {
        check_step(defs, c, &c->error_steps[i], reg, f);
    }
}

size_t connrt_validate_definitions(const connrt_definitions_t *defs, const connrt_registry_t *reg,
                                   connrt_diagnostics_t *diag)
{
    struct findings f = {.defs = defs};
    check_duplicate_ids(defs, &f);
    for (size_t i = 0; i < connrt_definitions_count(defs); i++) {
        const struct connrt_def_component *c = connrt_definitions_at(defs, i);
        switch (c->kind) {
        case CONNRT_COMPONENT_CONNECTION:
            check_connection(c, reg, &f);
            break;
        case CONNRT_COMPONENT_OPERATION:
            check_operation(defs, c, reg, &f);
            break;
        case CONNRT_COMPONENT_PROCESS:
            check_process(defs, c, reg, &f);
            break;
        }
    }
    return flush_findings(&f, diag);
}

/* ------------------------------------------------------------------------ */
/* container.properties                                                     */
/* ------------------------------------------------------------------------ */

/* The closest "connector.NAME.ROW" to `key` over every loaded connector,
 * written into buf; 0 when one was found. */
static int suggest_connector_key(const connrt_registry_t *reg, const char *key, char *buf,
                                 size_t size)
{
    for (size_t i = 0; reg != NULL && i < connrt_registry_count(reg); i++) {
        const struct connrt_connector *cn = connrt_registry_at(reg, i);
        char prefix[256];
        snprintf(prefix, sizeof(prefix), "connector.%s.", cn->name);
        const char *row = strncmp(key, prefix, strlen(prefix)) == 0 ? key + strlen(prefix) : key;
        const char *best = connrt_property_suggest(cn->container_properties, row);
        if (best != NULL) {
            snprintf(buf, size, "%s%s", prefix, best);
            return 0;
        }
    }
    return -1;
}

/* The table row governing container property `key`, or NULL after
 * reporting why there is none. */
static const struct connrt_property_def *container_row(const char *key,
                                                       const connrt_registry_t *reg,
                                                       const char *file, int line,
                                                       connrt_diagnostics_t *diag)
{
    char known[1024], better[512];
    const struct connrt_property_def *def = NULL;
    const char *best = NULL;
    if (strncmp(key, "connector.", 10) == 0) {
        const char *name = key + 10;
        const char *dot = strchr(name, '.');
        size_t len = dot ? (size_t)(dot - name) : strlen(name);
        const struct connrt_connector *cn = find_connector_n(reg, name, len);
        if (cn == NULL) {
            known_connectors(reg, known, sizeof(known));
            connrt_diag_add(diag, file, line, "unknown connector '%.*s' in container property "
                            "'%s' (%s)", (int)len, name, key, known);
            return NULL;
        }
        def = dot ? connrt_property_find(cn->container_properties, dot + 1) : NULL;
    } else {
        def = connrt_property_find(connrt_container_property_table, key);
        best = connrt_property_suggest(connrt_container_property_table, key);
    }
    if (def != NULL) {
        return def;
    }
    if (best == NULL && suggest_connector_key(reg, key, better, sizeof(better)) == 0) {
        best = better;
    }
    if (best != NULL) {
        connrt_diag_add(diag, file, line, "unknown container property '%s' (did you mean '%s'?)",
                        key, best);
    } else {
        connrt_diag_add(diag, file, line, "unknown container property '%s' (see `connrt "
                        "describe`)", key);
    }
    return NULL;
}

size_t connrt_validate_container_properties(const connrt_jprops_t *props,
                                            const connrt_registry_t *reg,
                                            connrt_diagnostics_t *diag)
{
    size_t count = 0;
    const char *file = props ? connrt_jprops_filename(props) : NULL;
    char err[1024];
    for (size_t i = 0; props != NULL && i < connrt_jprops_count(props); i++) {
        const char *key, *value;
        int line;
        connrt_jprops_at(props, i, &key, &value, &line);
        const struct connrt_property_def *def = container_row(key, reg, file, line, diag);
        if (def == NULL) {
            count++;
            continue;
        }
        if (connrt_property_check_named(def, key, value, err, sizeof(err)) != 0) {
            connrt_diag_add(diag, file, line, "container %s", err);
            count++;
        }
    }
    return count;
}
