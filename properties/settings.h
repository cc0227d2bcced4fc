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
 * PREFIX rows copy every matching value. `container_table`, `container` may
 * be NULL. Returns a new object owned by the caller, or NULL with errstr.
 */
connrt_settings_t *connrt_settings_resolve(const struct connrt_property_def *table,
                                           const struct connrt_setting_value *values,
                                           size_t nvalues,
                                           const struct connrt_property_def *container_table,
                                           const connrt_jprops_t *container,
                                           const char *container_prefix, char *errstr,
                                           size_t errstr_size);

#endif
