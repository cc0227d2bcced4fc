/*
 * validate.h - semantic validation of definitions against the loaded
 * connectors' property tables and each other: unknown connector, unknown or
 * duplicate id, dangling reference, unknown property (did you mean),
 * wrong type or out of range, missing required, operation type the
 * connector lacks. Also container.properties against the runtime and
 * connector container tables.
 */
#ifndef CONNRT_VALIDATE_H
#define CONNRT_VALIDATE_H

#include "definitions.h"
#include "diagnostics.h"
#include "plugin_loader.h"
#include "../properties/java_properties.h"

/* Adds one "file:line: message" per problem; returns their number. */
size_t connrt_validate_definitions(const connrt_definitions_t *defs, const connrt_registry_t *reg,
                                   connrt_diagnostics_t *diag);

/* container.properties: runtime table + "connector.NAME.*" rows of each
 * loaded connector. Returns the number of problems added. */
size_t connrt_validate_container_properties(const connrt_jprops_t *props,
                                            const connrt_registry_t *reg,
                                            connrt_diagnostics_t *diag);

#endif
