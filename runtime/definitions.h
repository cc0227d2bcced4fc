/*
 * definitions.h - the plain model of XML definitions (connections,
 * operations, processes) with file:line on every value. Plugins never see
 * XML; they see settings resolved from this model.
 */
#ifndef CONNRT_DEFINITIONS_H
#define CONNRT_DEFINITIONS_H

#include <stddef.h>
#include "diagnostics.h"

typedef enum connrt_component_kind {
    CONNRT_COMPONENT_CONNECTION,
    CONNRT_COMPONENT_OPERATION,
    CONNRT_COMPONENT_PROCESS
} connrt_component_kind_t;

typedef enum connrt_step_kind {
    CONNRT_STEP_START,          /* operation NULL: documents from --input */
    CONNRT_STEP_SET_PROPERTIES,
    CONNRT_STEP_CONNECTOR,
    CONNRT_STEP_OUTPUT
} connrt_step_kind_t;

typedef enum connrt_value_source {
    CONNRT_SOURCE_VALUE,         /* value="..." (literal, ${env:} already applied) */
    CONNRT_SOURCE_JSON_POINTER,  /* json-pointer="/a/b" into the payload */
    CONNRT_SOURCE_FROM_PROPERTY, /* from-property="name": another document property */
    CONNRT_SOURCE_FILE_NAME      /* file-name="": the document's file.name */
} connrt_value_source_t;

/*
 * A string field the loader could not determine (a required attribute
 * missing, a ${env:NAME} that is not set) is NULL: its problem is already in
 * the diagnostics, and nothing runs while there are any.
 */
struct connrt_def_property {  /* <property name="...">value</property> */
    char *name;
    char *value;              /* after ${env:NAME} substitution */
    const char *file;         /* borrowed from the definitions' file list */
    int line;
};

struct connrt_def_assignment { /* one <property> of <set-properties> */
    char *name;
    connrt_value_source_t source;
    char *argument;           /* the value, pointer, or property name */
    const char *file;
    int line;
};

struct connrt_def_step {
    connrt_step_kind_t kind;
    char *operation;          /* START (may be NULL) and CONNECTOR */
    struct connrt_def_assignment *assignments; /* SET_PROPERTIES */
    size_t nassignments;
    const char *file;
    int line;
};

struct connrt_def_component {
    connrt_component_kind_t kind;
    char *id;
    char *connector;          /* CONNECTION: connector="kafka" */
    char *connection;         /* OPERATION: connection="id" */
    char *type;               /* OPERATION: type="produce" */
    struct connrt_def_property *properties;
    size_t nproperties;
    struct connrt_def_step *steps;       /* PROCESS */
    size_t nsteps;
    struct connrt_def_step *error_steps; /* PROCESS <on-error> */
    size_t nerror_steps;
    int has_on_error;
    const char *file;
    int line;
};

typedef struct connrt_definitions connrt_definitions_t;

/* Empty set; owned by the caller; free with connrt_definitions_destroy. */
connrt_definitions_t *connrt_definitions_new(void);
void connrt_definitions_destroy(connrt_definitions_t *defs); /* NULL no-op */

/*
 * Parse one XML file (well-formedness, the shipped XSD compiled in from
 * schema/connrt.xsd, ${env:NAME}) and add its components. Every problem goes to `diag` as
 * "file:line: message"; components that parsed are kept. Returns the number
 * of problems added.
 */
size_t connrt_definitions_load_file(connrt_definitions_t *defs, const char *path,
                                    connrt_diagnostics_t *diag);

/*
 * The same for `len` bytes at `buf` (borrowed; need not be NUL-terminated),
 * named `name` (copied) in messages and in the file list, as if read from a
 * file of that name. For callers that hold the text already (the fuzzers).
 */
size_t connrt_definitions_load_memory(connrt_definitions_t *defs, const char *name,
                                      const char *buf, size_t len, connrt_diagnostics_t *diag);

size_t connrt_definitions_count(const connrt_definitions_t *defs);
/* Borrowed until destroy. */
const struct connrt_def_component *connrt_definitions_at(const connrt_definitions_t *defs,
                                                         size_t i);
/* First component with this id (any kind), or NULL; borrowed. */
const struct connrt_def_component *connrt_definitions_find(const connrt_definitions_t *defs,
                                                           const char *id);

/* Files given to load_file (also those that failed to load), in order;
 * borrowed until destroy. */
size_t connrt_definitions_file_count(const connrt_definitions_t *defs);
const char *connrt_definitions_file_at(const connrt_definitions_t *defs, size_t i);

#endif
