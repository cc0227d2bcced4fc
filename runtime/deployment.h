/*
 * deployment.h - load definition files (or a container's deploy/ XML files when
 * none are given) and validate them together with container.properties.
 * Shared by run, validate, test-connection and serve.
 */
#ifndef CONNRT_DEPLOYMENT_H
#define CONNRT_DEPLOYMENT_H

#include <stddef.h>
#include "container.h"
#include "definitions.h"
#include "diagnostics.h"

/* Returns the definitions (owned by the caller) even when problems were
 * found; the caller checks connrt_diag_count(diag). NULL only on no memory. */
connrt_definitions_t *connrt_deployment_load(char *const *files, size_t nfiles,
                                             connrt_container_t *container,
                                             connrt_diagnostics_t *diag);

#endif
