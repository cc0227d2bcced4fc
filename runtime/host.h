/* host.h - the struct connrt_host table the runtime hands to connectors. */
#ifndef CONNRT_HOST_H
#define CONNRT_HOST_H

#include <connrt/connector.h>

/* Static table, valid for the life of the process. */
const struct connrt_host *connrt_host_services(void);

/* Minimum level logged by host->log (default CONNRT_LOG_INFO). */
void connrt_host_set_log_level(connrt_log_level_t level);

/* Listener services. Until hooks are installed, host->listener_submit and
 * listener_submit_fill fail with "no listener is running in this process"
 * and listener_batch_new returns NULL. The listen runtime installs its
 * implementation here (NULL uninstalls). */
typedef int (*connrt_listener_submit_fn)(connrt_listener_t *listener, connrt_batch_t *batch,
                                         void (*done)(void *opaque,
                                                      connrt_execution_outcome_t outcome),
                                         void *opaque, char *errstr, size_t errstr_size);
typedef int (*connrt_listener_submit_fill_fn)(
    connrt_listener_t *listener, int (*fill)(void *opaque, connrt_batch_t *batch),
    void (*done)(void *opaque, connrt_execution_outcome_t outcome), void *opaque, char *errstr,
    size_t errstr_size);
typedef connrt_batch_t *(*connrt_listener_batch_new_fn)(connrt_listener_t *listener);
void connrt_host_set_listener_hooks(connrt_listener_submit_fn submit,
                                    connrt_listener_submit_fill_fn submit_fill,
                                    connrt_listener_batch_new_fn batch_new);

#endif
