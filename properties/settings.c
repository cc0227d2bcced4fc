/*
 * settings.c - resolved settings of one component, kept sorted by name so
 * that lookups are binary searches and settings_at walks in name order, and
 * connrt_settings_resolve, the one place where precedence is decided.
 */
#include "settings.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "property.h"

struct setting {
    char *name;
    char *value;
    int secret;
};

struct connrt_settings {
    struct setting *v;
    size_t n;
    size_t cap;
};

connrt_settings_t *connrt_settings_new(void)
{
    return calloc(1, sizeof(struct connrt_settings));
}

/* Overwrite secret material before it goes back to the allocator. The
 * volatile pointer keeps the compiler from dropping the stores. */
static void wipe_string(char *s)
{
    volatile char *p = s;

    while (p != NULL && *p != '\0') {
        *p++ = '\0';
    }
}

static void free_value(struct setting *e)
{
    if (e->secret) {
        wipe_string(e->value);
    }
    free(e->value);
    e->value = NULL;
}

void connrt_settings_destroy(connrt_settings_t *settings)
{
    if (settings == NULL) {
        return;
    }
    for (size_t i = 0; i < settings->n; i++) {
        free_value(&settings->v[i]);
        free(settings->v[i].name);
    }
    free(settings->v);
    free(settings);
}

/* Index of `name`, or where it would be inserted (with *found = 0). */
static size_t search(const connrt_settings_t *s, const char *name, int *found)
{
    size_t lo = 0, hi = s->n;

    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int c = strcmp(s->v[mid].name, name);
        if (c == 0) {
            *found = 1;
            return mid;
        }
        if (c < 0) {
            lo = mid + 1;
        } else {
            hi = mid;
        }
    }
    *found = 0;
    return lo;
}

static int insert_at(connrt_settings_t *s, size_t at, char *name, char *value, int secret)
{
    if (s->n == s->cap) {
        size_t cap = s->cap ? s->cap * 2 : 16;
        struct setting *v = realloc(s->v, cap * sizeof(*v));
        if (v == NULL) {
            return -1;
        }
        s->v = v;
        s->cap = cap;
    }
    memmove(&s->v[at + 1], &s->v[at], (s->n - at) * sizeof(*s->v));
    s->v[at].name = name;
    s->v[at].value = value;
    s->v[at].secret = secret;
    s->n++;
    return 0;
}

int connrt_settings_put(connrt_settings_t *settings, const char *name, const char *value,
                        int secret)
{
    int found;
    size_t at;
    char *copy;

    if (settings == NULL || name == NULL || value == NULL) {
        return -1;
    }
    copy = strdup(value);
    if (copy == NULL) {
        return -1;
    }
    at = search(settings, name, &found);
    if (found) {
        free_value(&settings->v[at]);
        settings->v[at].value = copy;
        /* Once secret, always secret: a name never loses its redaction. */
        settings->v[at].secret = settings->v[at].secret || secret;
        return 0;
    }
    char *name_copy = strdup(name);
    if (name_copy == NULL || insert_at(settings, at, name_copy, copy, secret != 0) != 0) {
        free(name_copy);
        if (secret) {
            wipe_string(copy);
        }
        free(copy);
        return -1;
    }
    return 0;
}

const char *connrt_settings_lookup(const connrt_settings_t *settings, const char *name)
{
    int found;
    size_t at;

    if (settings == NULL || name == NULL) {
        return NULL;
    }
    at = search(settings, name, &found);
    return found ? settings->v[at].value : NULL;
}

int connrt_settings_lookup_int(const connrt_settings_t *settings, const char *name,
                               long long *out)
{
    /* Resolved values are already plain decimals or true/false; values put
     * by hand may still carry units. */
    static const connrt_property_type_t types[] = {CONNRT_PROP_INT, CONNRT_PROP_BOOL,
                                                   CONNRT_PROP_SIZE, CONNRT_PROP_DURATION_MS};
    const char *value = connrt_settings_lookup(settings, name);

    if (value == NULL || out == NULL) {
        return -1;
    }
    for (size_t i = 0; i < sizeof(types) / sizeof(types[0]); i++) {
        if (connrt_property_parse_int(types[i], value, out) == 0) {
            return 0;
        }
    }
    return -1;
}

int connrt_settings_is_secret(const connrt_settings_t *settings, const char *name)
{
    int found;
    size_t at;

    if (settings == NULL || name == NULL) {
        return 0;
    }
    at = search(settings, name, &found);
    return found && settings->v[at].secret;
}

size_t connrt_settings_size(const connrt_settings_t *settings)
{
    return settings ? settings->n : 0;
}

void connrt_settings_entry(const connrt_settings_t *settings, size_t i, const char **name,
                           const char **value)
{
    int ok = settings != NULL && i < settings->n;

    if (name != NULL) {
        *name = ok ? settings->v[i].name : NULL;
    }
    if (value != NULL) {
        *value = ok ? settings->v[i].value : NULL;
    }
}

/* ------------------------------------------------------------------------ */
/* Resolution                                                               */
/* ------------------------------------------------------------------------ */

/* Store `value` for `def` under `name` in canonical form: numbers as plain
 * decimals (units applied), booleans as "true"/"false", so that connectors
 * can pass them on without parsing units again. */
static int put_canonical(connrt_settings_t *s, const struct connrt_property_def *def,
                         const char *name, const char *value)
{
    int secret = (def->flags & CONNRT_PROP_F_SECRET) != 0;
    char buf[32];
    long long n;

    switch (def->type) {
    case CONNRT_PROP_INT:
    case CONNRT_PROP_SIZE:
    case CONNRT_PROP_DURATION_MS:
        if (connrt_property_parse_int(def->type, value, &n) == 0) {
            snprintf(buf, sizeof(buf), "%lld", n);
            value = buf;
        }
        break;
    case CONNRT_PROP_BOOL:
        if (connrt_property_parse_int(def->type, value, &n) == 0) {
            value = n ? "true" : "false";
        }
        break;
    default:
        break;
    }
    return connrt_settings_put(s, name, value, secret);
}

static int no_memory(char *errstr, size_t errstr_size)
{
    snprintf(errstr, errstr_size, "out of memory");
    return -1;
}

/* The last of `values` named `name` (a later value replaces an earlier). */
static const char *find_value(const struct connrt_setting_value *values, size_t n,
                              const char *name)
{
    for (size_t i = n; i > 0; i--) {
        if (values[i - 1].name != NULL && strcmp(values[i - 1].name, name) == 0) {
            return values[i - 1].value;
        }
    }
    return NULL;
}

/* Check every given value against its row. */
static int check_values(const struct connrt_property_def *table,
                        const struct connrt_setting_value *values, size_t nvalues, char *errstr,
                        size_t errstr_size)
{
    for (size_t i = 0; i < nvalues; i++) {
        const struct connrt_property_def *def;
        if (values[i].name == NULL) {
            continue;
        }
        def = connrt_property_find(table, values[i].name);
        if (def == NULL) {
            snprintf(errstr, errstr_size, "property '%s': unknown property", values[i].name);
            return -1;
        }
        if (connrt_property_check_named(def, values[i].name, values[i].value, errstr,
                                        errstr_size) != 0) {
            return -1;
        }
    }
    return 0;
}

/* Levels 2 and 3: the component's values, else the row defaults. */
static int resolve_component(connrt_settings_t *s, const struct connrt_property_def *table,
                             const struct connrt_setting_value *values, size_t nvalues,
                             char *errstr, size_t errstr_size)
{
    if (check_values(table, values, nvalues, errstr, errstr_size) != 0) {
        return -1;
    }
    for (const struct connrt_property_def *d = table; d != NULL && d->name != NULL; d++) {
        const char *value;
        if (d->flags & CONNRT_PROP_F_INVALID) {
            continue;
        }
        if (d->type == CONNRT_PROP_PREFIX) {
            for (size_t i = 0; i < nvalues; i++) {
                if (values[i].name != NULL &&
                    connrt_property_find(table, values[i].name) == d &&
                    put_canonical(s, d, values[i].name, values[i].value) != 0) {
                    return no_memory(errstr, errstr_size);
                }
            }
            continue;
        }
        value = find_value(values, nvalues, d->name);
        if (value == NULL) {
            value = d->default_value;
        }
        if (value == NULL) {
            if (d->flags & CONNRT_PROP_F_REQUIRED) {
                snprintf(errstr, errstr_size, "property '%s' is required", d->name);
                return -1;
            }
            continue;
        }
        if (put_canonical(s, d, d->name, value) != 0) {
            return no_memory(errstr, errstr_size);
        }
    }
    return 0;
}

/* Check one container.properties value, naming its file and line. */
static int check_container_value(const struct connrt_property_def *def, const char *key,
                                 const char *value, const connrt_jprops_t *container, int line,
                                 char *errstr, size_t errstr_size)
{
    char why[512];

    if (connrt_property_check_named(def, key, value, why, sizeof(why)) == 0) {
        return 0;
    }
    snprintf(errstr, errstr_size, "%s:%d: %s", connrt_jprops_filename(container), line, why);
    return -1;
}

/* Level 1: container.properties "<prefix><row>" stored as "<row>", else the
 * container row's default. */
static int resolve_container(connrt_settings_t *s, const struct connrt_property_def *ctable,
                             const connrt_jprops_t *container, const char *prefix, char *errstr,
                             size_t errstr_size)
{
    size_t plen = strlen(prefix);
    size_t count = connrt_jprops_count(container);

    for (const struct connrt_property_def *d = ctable; d->name != NULL; d++) {
        const char *value = NULL;
        int line = 0;
        if (d->flags & CONNRT_PROP_F_INVALID) {
            continue;
        }
        for (size_t i = 0; i < count; i++) {
            const char *key, *v;
            int l;
            connrt_jprops_at(container, i, &key, &v, &l);
            if (strncmp(key, prefix, plen) != 0) {
                continue;
            }
            const char *row = key + plen;
            if (d->type == CONNRT_PROP_PREFIX) {
                if (connrt_property_find(ctable, row) != d) {
                    continue;
                }
                if (check_container_value(d, key, v, container, l, errstr, errstr_size) != 0) {
                    return -1;
                }
                if (put_canonical(s, d, row, v) != 0) {
                    return no_memory(errstr, errstr_size);
                }
            } else if (strcmp(row, d->name) == 0) {
                value = v;
                line = l;
            }
        }
        if (d->type == CONNRT_PROP_PREFIX) {
            continue;
        }
        if (value != NULL) {
            char key[512];
            snprintf(key, sizeof(key), "%s%s", prefix, d->name);
            if (check_container_value(d, key, value, container, line, errstr, errstr_size) !=
                0) {
                return -1;
            }
        } else {
            value = d->default_value;
        }
        if (value != NULL && put_canonical(s, d, d->name, value) != 0) {
            return no_memory(errstr, errstr_size);
        }
    }
    return 0;
}

/*
 * The special rule of DESIGN §5: the container's max.poll.records takes
 * precedence over an operation's min_messages. Consume reads in steps of
 * max.poll.records until it holds min_messages, so what it waits for is
 * min_messages rounded up to whole steps (max.poll.records=3 with
 * min_messages=5 gives 6). Applied to any component that has both rows.
 */
static int poll_steps_over_min_messages(connrt_settings_t *s)
{
    long long min, step, rounded;
    char buf[32];

    if (connrt_settings_lookup_int(s, "min_messages", &min) != 0 ||
        connrt_settings_lookup_int(s, "max.poll.records", &step) != 0 || min < 1 || step <= 1) {
        return 0;
    }
    /* Both are bounded by their tables (at most 10^7 and 10^6): no overflow. */
    rounded = (min + step - 1) / step * step;
    if (rounded == min) {
        return 0;
    }
    snprintf(buf, sizeof(buf), "%lld", rounded);
    return connrt_settings_put(s, "min_messages", buf, 0);
}

connrt_settings_t *connrt_settings_resolve(const struct connrt_property_def *table,
                                           const struct connrt_setting_value *values,
                                           size_t nvalues,
                                           const struct connrt_property_def *container_table,
                                           const connrt_jprops_t *container,
                                           const char *container_prefix, char *errstr,
                                           size_t errstr_size)
{
    connrt_settings_t *s = connrt_settings_new();
    connrt_jprops_t *empty = NULL;
    int rc;

    if (s == NULL) {
        no_memory(errstr, errstr_size);
        return NULL;
    }
    if (values == NULL) {
        nvalues = 0;
    }
    rc = resolve_component(s, table, values, nvalues, errstr, errstr_size);
    /* Container values are put last so that they replace component values. */
    if (rc == 0 && container_table != NULL) {
        if (container == NULL) {
            container = empty = connrt_jprops_new_empty("container.properties");
        }
        rc = container == NULL ? no_memory(errstr, errstr_size)
                               : resolve_container(s, container_table, container,
                                                   container_prefix ? container_prefix : "",
                                                   errstr, errstr_size);
    }
    connrt_jprops_destroy(empty);
    if (rc == 0 && poll_steps_over_min_messages(s) != 0) {
        rc = no_memory(errstr, errstr_size);
    }
    if (rc != 0) {
        connrt_settings_destroy(s);
        return NULL;
    }
    return s;
}

/* ------------------------------------------------------------------------ */
/* Checking container.properties                                            */
/* ------------------------------------------------------------------------ */

/* The scope with the longest prefix that `key` starts with, or NULL. */
static const struct connrt_container_scope *scope_of(const struct connrt_container_scope *scopes,
                                                     size_t n, const char *key)
{
    const struct connrt_container_scope *best = NULL;
    size_t best_len = 0;

    for (size_t i = 0; i < n; i++) {
        const char *prefix = scopes[i].prefix ? scopes[i].prefix : "";
        size_t len = strlen(prefix);
        if (strncmp(key, prefix, len) == 0 && (best == NULL || len > best_len)) {
            best = &scopes[i];
            best_len = len;
        }
    }
    return best;
}

static void unknown_key_message(const struct connrt_container_scope *scope, const char *key,
                                char *buf, size_t size)
{
    const char *prefix = scope && scope->prefix ? scope->prefix : "";
    const char *near = scope ? connrt_property_suggest(scope->table, key + strlen(prefix)) : NULL;

    if (near != NULL) {
        snprintf(buf, size, "unknown container property '%s' (did you mean '%s%s'?)", key,
                 prefix, near);
    } else {
        snprintf(buf, size, "unknown container property '%s'", key);
    }
}

size_t connrt_settings_check_container(const connrt_jprops_t *container,
                                       const struct connrt_container_scope *scopes,
                                       size_t nscopes,
                                       void (*report)(void *opaque, const char *file, int line,
                                                      const char *message),
                                       void *opaque)
{
    size_t problems = 0;

    for (size_t i = 0; i < connrt_jprops_count(container); i++) {
        const char *key, *value;
        const struct connrt_container_scope *scope;
        const struct connrt_property_def *def = NULL;
        char message[512];
        int line;

        connrt_jprops_at(container, i, &key, &value, &line);
        scope = scope_of(scopes, nscopes, key);
        if (scope != NULL) {
            def = connrt_property_find(scope->table, key + strlen(scope->prefix ? scope->prefix
                                                                                : ""));
        }
        if (def == NULL) {
            unknown_key_message(scope, key, message, sizeof(message));
        } else if (connrt_property_check_named(def, key, value, message, sizeof(message)) == 0) {
            continue;
        }
        problems++;
        if (report != NULL) {
            report(opaque, connrt_jprops_filename(container), line, message);
        }
    }
    return problems;
}
