/* host.h - the struct connrt_host table the runtime hands to connectors. */
#ifndef CONNRT_HOST_H
#define CONNRT_HOST_H

#include <connrt/connector.h>

/* Static table, valid for the life of the process. */
const struct connrt_host *connrt_host_services(void);

/* Minimum level logged by host->log (default CONNRT_LOG_INFO). */
void connrt_host_set_log_level(connrt_log_level_t level);

#endif
