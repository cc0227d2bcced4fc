/*
 * settings.h - resolved settings of one component (the opaque
 * connrt_settings_t of the ABI), and the one function that resolves
 * precedence: container -> component value -> default.
 */
#ifndef CONNRT_SETTINGS_H
#define CONNRT_SETTINGS_H

#include <connrt/connector.h>
#include "java_properties.h"

/* A name/value given in a definition (borrowed strings). */
struct connrt_setting_value {
    const char *name;
    const char *value;
};

/* New empty settings; owned by the caller, free with connrt_settings_destroy. */
connrt_settings_t *connrt_settings_new(void);
void connrt_settings_destroy(connrt_settings_t *settings); /* NULL is a no-op; wipes secrets */

/* Set (copy) name=value, replacing an earlier value. Returns 0 or -1 (no memory). */
int connrt_settings_put(connrt_settings_t *settings, const char *name, const char *value,
                        int secret);
/* Borrowed until destroy or the next put of the same name. */
const char *connrt_settings_lookup(const connrt_settings_t *settings, const char *name);
int connrt_settings_lookup_int(const connrt_settings_t *settings, const char *name,
                               long long *out);
int connrt_settings_is_secret(const connrt_settings_t *settings, const char *name);
size_t connrt_settings_size(const connrt_settings_t *settings);
/* i-th setting in name order; borrowed until destroy. */
void connrt_settings_entry(const connrt_settings_t *settings, size_t i, const char **name,
                           const char **value);

/*
 * The one precedence function. Fills a new settings object for a component
 * described by `table` from, highest first:
 *   1. container properties "<container_prefix><row>" for rows of
 *      `container_table` (e.g. connector.kafka.max.poll.records), stored
 *      under the row name;
 *   2. the component's own `values` (already validated);
 *   3. each row's default.
 * PREFIX rows copy every matching value. Special rule: max.poll.records
 * rounds min_messages up to a whole number of poll steps (3 and 5 give 6).
 * `container_table`, `container` may
 * be NULL. Returns a new object owned by the caller, or NULL with errstr.
 */
connrt_settings_t *connrt_settings_resolve(const struct connrt_property_def *table,
                                           const struct connrt_setting_value *values,
                                           size_t nvalues,
                                           const struct connrt_property_def *container_table,
                                           const connrt_jprops_t *container,
                                           const char *container_prefix, char *errstr,
                                           size_t errstr_size);

/* One family of container.properties keys: those starting with `prefix`
 * ("" for the runtime's own, "connector.kafka." for a connector's), checked
 * against `table` with the prefix removed. Both borrowed. */
struct connrt_container_scope {
    const char *prefix;
    const struct connrt_property_def *table;
};

/*
 * Check every key of `container`: each belongs to the scope with the longest
 * matching prefix; a key with no row there is reported as unknown (with a
 * "did you mean"), a bad value with the reason. Each problem goes to
 * `report` (message borrowed for the call) with the file and line of the key.
 * Secret values are never quoted. Returns the number of problems.
 */
size_t connrt_settings_check_container(const connrt_jprops_t *container,
                                       const struct connrt_container_scope *scopes,
                                       size_t nscopes,
                                       void (*report)(void *opaque, const char *file, int line,
                                                      const char *message),
                                       void *opaque);

#endif
