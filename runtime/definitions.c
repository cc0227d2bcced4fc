/*
 * definitions.c - XML definition files parsed into the plain model of
 * definitions.h.
 *
 * A file goes through three stages, and every stage reports every problem
 * it can find, not only the first: well-formedness (libxml2, errors
 * collected through a structured handler, never printed by libxml2
 * itself), the XSD compiled into the binary, then the walk that builds the
 * model (${env:NAME} substitution, the "exactly one source" rule XSD 1.0
 * cannot express). The walk keeps whatever it can: fields it cannot
 * determine stay NULL, so that later checks do not report the same problem
 * again under another name.
 */
#include "definitions.h"

#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <libxml/parser.h>
#include <libxml/tree.h>
#include <libxml/xmlschemas.h>

#include "envsubst.h"
#include "schema.h"
#include "xml_errors.h"

/* Larger files are refused rather than read: definitions are small, and
 * this keeps `validate /dev/zero` from eating memory. */
#define MAX_FILE_SIZE (64L * 1024 * 1024)
/* Well-formedness errors after the first few are consequences of it. */
#define MAX_PARSE_ERRORS 10

struct connrt_definitions {
    char **files; /* each strdup'ed once: components borrow them */
    size_t nfiles;
    struct connrt_def_component **components; /* individually allocated: stable addresses */
    size_t ncomponents;
    size_t capacity;
};

/* State of loading one file. */
struct load {
    connrt_definitions_t *defs;
    const char *file;
    connrt_diagnostics_t *diag;
    size_t problems;
    size_t parse_errors;
    size_t tolerated; /* "--" inside comments: see parse_xml */
    int out_of_memory; /* libxml2 ran out: what it reports next follows from that */
    xmlParserCtxtPtr ctxt; /* set while parsing */
    char last[1024]; /* libxml2 sometimes reports the same error twice */
};

static void problem(struct load *ld, int line, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void problem(struct load *ld, int line, const char *fmt, ...)
{
    char msg[2048];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    connrt_diag_add(ld->diag, ld->file, line, "%s", msg);
    ld->problems++;
}

/* ------------------------------------------------------------------------ */
/* The model                                                                */
/* ------------------------------------------------------------------------ */

connrt_definitions_t *connrt_definitions_new(void)
{
    return calloc(1, sizeof(struct connrt_definitions));
}

static void free_steps(struct connrt_def_step *steps, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        free(steps[i].operation);
        for (size_t j = 0; j < steps[i].nassignments; j++) {
            free(steps[i].assignments[j].name);
            free(steps[i].assignments[j].argument);
        }
        free(steps[i].assignments);
    }
    free(steps);
}

/* Property values may be secrets (passwords): wipe before freeing. */
static void free_secret_string(char *s)
{
    if (s != NULL) {
        memset(s, 0, strlen(s));
        free(s);
    }
}

static void free_component(struct connrt_def_component *c)
{
    if (c == NULL) {
        return;
    }
    free(c->id);
    free(c->connector);
    free(c->connection);
    free(c->type);
    for (size_t i = 0; i < c->nproperties; i++) {
        free(c->properties[i].name);
        free_secret_string(c->properties[i].value);
    }
    free(c->properties);
    free_steps(c->steps, c->nsteps);
    free_steps(c->error_steps, c->nerror_steps);
    free(c);
}

void connrt_definitions_destroy(connrt_definitions_t *defs)
{
    if (defs == NULL) {
        return;
    }
    for (size_t i = 0; i < defs->ncomponents; i++) {
        free_component(defs->components[i]);
    }
    free(defs->components);
    for (size_t i = 0; i < defs->nfiles; i++) {
        free(defs->files[i]);
    }
    free(defs->files);
    free(defs);
}

size_t connrt_definitions_count(const connrt_definitions_t *defs)
{
    return defs ? defs->ncomponents : 0;
}

const struct connrt_def_component *connrt_definitions_at(const connrt_definitions_t *defs,
                                                         size_t i)
{
    return (defs != NULL && i < defs->ncomponents) ? defs->components[i] : NULL;
}

const struct connrt_def_component *connrt_definitions_find(const connrt_definitions_t *defs,
                                                           const char *id)
{
    for (size_t i = 0; defs != NULL && id != NULL && i < defs->ncomponents; i++) {
        if (defs->components[i]->id != NULL && strcmp(defs->components[i]->id, id) == 0) {
            return defs->components[i];
        }
    }
    return NULL;
}

size_t connrt_definitions_file_count(const connrt_definitions_t *defs)
{
    return defs ? defs->nfiles : 0;
}

const char *connrt_definitions_file_at(const connrt_definitions_t *defs, size_t i)
{
    return (defs != NULL && i < defs->nfiles) ? defs->files[i] : NULL;
}

static const char *add_file(connrt_definitions_t *defs, const char *path)
{
    char **files = realloc(defs->files, (defs->nfiles + 1) * sizeof(*files));
    if (files == NULL) {
        return NULL;
    }
    defs->files = files;
    files[defs->nfiles] = strdup(path);
    return files[defs->nfiles] ? files[defs->nfiles++] : NULL;
}

static int add_component(connrt_definitions_t *defs, struct connrt_def_component *c)
{
    if (defs->ncomponents == defs->capacity) {
        size_t capacity = defs->capacity ? defs->capacity * 2 : 16;
        struct connrt_def_component **components =
            realloc(defs->components, capacity * sizeof(*components));
        if (components == NULL) {
            return -1;
        }
        defs->components = components;
        defs->capacity = capacity;
    }
    defs->components[defs->ncomponents++] = c;
    return 0;
}

/* Typed "append one zeroed element" helpers; NULL on no memory. */
static struct connrt_def_property *add_property(struct connrt_def_component *c)
{
    struct connrt_def_property *grown =
        realloc(c->properties, (c->nproperties + 1) * sizeof(*grown));
    if (grown == NULL) {
        return NULL;
    }
    c->properties = grown;
    memset(&grown[c->nproperties], 0, sizeof(*grown));
    return &grown[c->nproperties++];
}

static struct connrt_def_assignment *add_assignment(struct connrt_def_step *s)
{
    struct connrt_def_assignment *grown =
        realloc(s->assignments, (s->nassignments + 1) * sizeof(*grown));
    if (grown == NULL) {
        return NULL;
    }
    s->assignments = grown;
    memset(&grown[s->nassignments], 0, sizeof(*grown));
    return &grown[s->nassignments++];
}

static struct connrt_def_step *add_step(struct connrt_def_step **steps, size_t *nsteps)
{
    struct connrt_def_step *grown = realloc(*steps, (*nsteps + 1) * sizeof(*grown));
    if (grown == NULL) {
        return NULL;
    }
    *steps = grown;
    memset(&grown[*nsteps], 0, sizeof(*grown));
    return &grown[(*nsteps)++];
}

/* ------------------------------------------------------------------------ */
/* Reading and parsing                                                      */
/* ------------------------------------------------------------------------ */

/* The whole file into a new buffer (caller frees), or NULL with a problem. */
static char *read_file(struct load *ld, size_t *len)
{
    struct stat st;
    FILE *f = fopen(ld->file, "rb");
    char *buf = NULL;
    size_t n = 0, cap = 0;
    if (f == NULL) {
        problem(ld, 0, "cannot read: %s", strerror(errno));
        return NULL;
    }
    if (fstat(fileno(f), &st) == 0 && S_ISDIR(st.st_mode)) {
        problem(ld, 0, "cannot read: %s", strerror(EISDIR));
        fclose(f);
        return NULL;
    }
    for (;;) {
        if (n + 4096 > cap) {
            cap = cap ? cap * 2 : 16384;
            if (cap > (size_t)MAX_FILE_SIZE + 4096) {
                problem(ld, 0, "cannot read: larger than %ld MiB", MAX_FILE_SIZE >> 20);
                break;
            }
            char *grown = realloc(buf, cap);
            if (grown == NULL) {
                problem(ld, 0, "cannot read: out of memory");
                break;
            }
            buf = grown;
        }
        size_t got = fread(buf + n, 1, cap - n, f);
        n += got;
        if (got == 0) {
            if (ferror(f)) {
                problem(ld, 0, "cannot read: %s", strerror(errno ? errno : EIO));
                break;
            }
            fclose(f);
            *len = n;
            return buf;
        }
    }
    fclose(f);
    free(buf);
    return NULL;
}

/* libxml2 could not allocate: one problem that says so (its own message
 * may be only the name of a function), and none of what follows from it
 * (a document cut short is "not well-formed"). Returns 1 if it was that. */
static void note_out_of_memory(struct load *ld)
{
    if (!ld->out_of_memory) {
        ld->out_of_memory = 1;
        problem(ld, 0, "out of memory");
    }
}

static int out_of_memory(struct load *ld, const xmlError *err)
{
    if (err->code != XML_ERR_NO_MEMORY) {
        return 0;
    }
    note_out_of_memory(ld);
    return 1;
}

static void record_parse_error(struct load *ld, xmlErrorPtr err)
{
    char msg[1024];
    int line;
    if (ld == NULL || err == NULL || err->level == XML_ERR_WARNING || ld->out_of_memory) {
        return;
    }
    if (out_of_memory(ld, err)) {
        ld->parse_errors++;
        return;
    }
    if (err->code == XML_ERR_HYPHEN_IN_COMMENT) {
        ld->tolerated++;
        return;
    }
    if (err->domain == XML_FROM_IO && err->code == XML_IO_ENCODER) {
        return; /* "encoder error": the conversion error before it says more */
    }
    connrt_xml_parse_error_message(err, msg, sizeof(msg), &line);
    if (err->domain == XML_FROM_I18N) {
        line = 0; /* decoding runs ahead of the parser: no trustworthy line */
    }
    if (strcmp(msg, ld->last) == 0) {
        return;
    }
    snprintf(ld->last, sizeof(ld->last), "%s", msg);
    if (++ld->parse_errors > MAX_PARSE_ERRORS) {
        if (ld->parse_errors == MAX_PARSE_ERRORS + 1) {
            problem(ld, line, "not well-formed XML: further errors not shown");
        }
        return;
    }
    problem(ld, line, "%s", msg);
}

/* Errors raised with the parser context (most of them). */
static void parse_error(void *userdata, xmlErrorPtr err)
{
    xmlParserCtxtPtr ctxt = userdata;
    record_parse_error(ctxt ? ctxt->_private : NULL, err);
}

/* Errors libxml2 raises without a context (encoding conversion, I/O): they
 * would go to its global handler, which prints them on stderr. */
static void contextless_error(void *userdata, xmlErrorPtr err)
{
    struct load *ld = userdata;
    if (ld->ctxt != NULL) {
        record_parse_error(ld, err);
    } else if (err != NULL && err->level != XML_ERR_WARNING && !ld->out_of_memory &&
               !out_of_memory(ld, err)) {
        problem(ld, err->line, "XML error: %s", err->message ? err->message : "unknown");
    }
}

static xmlDocPtr read_memory(struct load *ld, const char *buf, size_t len, int options)
{
    xmlParserCtxtPtr ctxt = xmlNewParserCtxt();
    if (ctxt == NULL) {
        note_out_of_memory(ld);
        ld->parse_errors++;
        return NULL;
    }
    /* Errors reach parse_error with the context; its _private is ours. */
    ctxt->sax->serror = parse_error;
    ctxt->_private = ld;
    ld->ctxt = ctxt;
    xmlDocPtr doc = xmlCtxtReadMemory(ctxt, buf, (int)len, ld->file, NULL, options);
    ld->ctxt = NULL;
    if (doc != NULL && !ctxt->wellFormed && !(options & XML_PARSE_RECOVER)) {
        xmlFreeDoc(doc);
        doc = NULL;
    }
    xmlFreeParserCtxt(ctxt);
    return doc;
}

/*
 * "--" inside a comment (<!-- from --input -->) breaks the letter of XML
 * 1.0, but people write it (our own design notes do) and libxml2 recovers
 * from it exactly. When it is the only error, the file is read again in
 * recovery mode; any other error still makes the file not well-formed.
 */
static xmlDocPtr parse_xml(struct load *ld, const char *buf, size_t len)
{
    int options = XML_PARSE_NONET | XML_PARSE_BIG_LINES | XML_PARSE_NOCDATA;
    xmlDocPtr doc = read_memory(ld, buf, len, options);
    if (doc == NULL && ld->parse_errors == 0 && ld->tolerated > 0) {
        doc = read_memory(ld, buf, len, options | XML_PARSE_RECOVER);
    }
    if (doc == NULL && ld->parse_errors == 0) {
        problem(ld, 0, "not well-formed XML");
    }
    if (doc != NULL && ld->parse_errors > 0) {
        xmlFreeDoc(doc);
        doc = NULL;
    }
    return doc;
}

/* ------------------------------------------------------------------------ */
/* The compiled-in schema                                                   */
/* ------------------------------------------------------------------------ */

/* Compiled once per process and kept: validation only reads it. A compile
 * that ran out of memory is tried again by the next load (a long-running
 * serve must not stay unable to validate). */
static pthread_mutex_t schema_lock = PTHREAD_MUTEX_INITIALIZER;
static xmlSchemaPtr schema;
static char schema_error[512];

static void schema_compile_error(void *userdata, xmlErrorPtr err)
{
    (void)userdata;
    if (err != NULL && err->code == XML_ERR_NO_MEMORY) {
        snprintf(schema_error, sizeof(schema_error), "out of memory");
    } else if (schema_error[0] == '\0' && err != NULL && err->message != NULL) {
        snprintf(schema_error, sizeof(schema_error), "line %d: %s", err->line, err->message);
    }
}

/* With schema_lock held. */
static void compile_schema(void)
{
    schema_error[0] = '\0';
    xmlInitParser();
    xmlSchemaParserCtxtPtr pctxt =
        xmlSchemaNewMemParserCtxt(connrt_schema_xsd, (int)connrt_schema_xsd_size);
    if (pctxt == NULL) {
        snprintf(schema_error, sizeof(schema_error), "out of memory");
        return;
    }
    xmlSchemaSetParserStructuredErrors(pctxt, schema_compile_error, NULL);
    schema = xmlSchemaParse(pctxt);
    xmlSchemaFreeParserCtxt(pctxt);
}

static void schema_validation_error(void *userdata, xmlErrorPtr err)
{
    struct load *ld = userdata;
    char msg[1024];
    int line;
    if (err == NULL || err->level == XML_ERR_WARNING || ld->out_of_memory ||
        out_of_memory(ld, err)) {
        return;
    }
    connrt_xml_schema_error_message(err, msg, sizeof(msg), &line);
    problem(ld, line, "%s", msg);
}

static void validate_schema(struct load *ld, xmlDocPtr doc)
{
    pthread_mutex_lock(&schema_lock);
    if (schema == NULL) {
        compile_schema();
    }
    xmlSchemaPtr compiled = schema;
    if (compiled == NULL && strcmp(schema_error, "out of memory") == 0) {
        problem(ld, 0, "cannot validate: out of memory compiling the built-in schema");
    } else if (compiled == NULL) {
        problem(ld, 0, "internal error: the built-in schema does not compile: %s", schema_error);
    }
    pthread_mutex_unlock(&schema_lock);
    if (compiled == NULL) {
        return;
    }
    xmlSchemaValidCtxtPtr vctxt = xmlSchemaNewValidCtxt(compiled);
    /* libxml2 2.9 hands out a context whose item list could not be
     * allocated (validating with it crashes); it reports that allocation
     * to contextless_error, which marks the load out of memory. */
    if (vctxt == NULL || ld->out_of_memory) {
        xmlSchemaFreeValidCtxt(vctxt);
        note_out_of_memory(ld);
        return;
    }
    xmlSchemaSetValidStructuredErrors(vctxt, schema_validation_error, ld);
    if (xmlSchemaValidateDoc(vctxt, doc) < 0) {
        problem(ld, 0, "cannot validate: internal error of the XSD validator");
    }
    xmlSchemaFreeValidCtxt(vctxt);
}

/* ------------------------------------------------------------------------ */
/* Building the model                                                       */
/* ------------------------------------------------------------------------ */

static int line_of(const xmlNode *node)
{
    long line = xmlGetLineNo((xmlNode *)node);
    return line > 0 ? (int)line : 0;
}

static int is_element(const xmlNode *node, const char *name)
{
    return node->type == XML_ELEMENT_NODE && node->ns != NULL && node->ns->href != NULL &&
           strcmp((const char *)node->ns->href, CONNRT_DEFINITIONS_NS) == 0 &&
           (name == NULL || strcmp((const char *)node->name, name) == 0);
}

/* `text` after ${env:NAME}, newly allocated; NULL when unset (reported). */
static char *substitute(struct load *ld, const char *text, int line)
{
    size_t before = ld->problems;
    char *out = connrt_envsubst(text, ld->file, line, ld->diag, &ld->problems);
    if (out == NULL && ld->problems == before) {
        problem(ld, line, "out of memory");
    }
    return out;
}

/* Attribute `name` of `node` after ${env:NAME}, or NULL when absent or
 * unusable (the schema or the substitution reported it). */
static char *attribute(struct load *ld, const xmlNode *node, const char *name)
{
    xmlChar *raw = xmlGetNoNsProp(node, (const xmlChar *)name);
    if (raw == NULL) {
        /* Present but not copied: no memory (never taken for absent). */
        if (xmlHasNsProp(node, (const xmlChar *)name, NULL) != NULL) {
            problem(ld, line_of(node), "out of memory");
        }
        return NULL;
    }
    char *value = substitute(ld, (const char *)raw, line_of(node));
    xmlFree(raw);
    return value;
}

/* Text content with surrounding whitespace trimmed, so that values may be
 * written on their own indented lines. */
static char *property_text(struct load *ld, const xmlNode *node)
{
    xmlChar *raw = xmlNodeGetContent(node);
    if (raw == NULL) { /* an element always has content, if only "" */
        problem(ld, line_of(node), "out of memory");
        return NULL;
    }
    const char *start = (const char *)raw;
    while (*start == ' ' || *start == '\t' || *start == '\n' || *start == '\r') {
        start++;
    }
    size_t n = strlen(start);
    while (n > 0 && (start[n - 1] == ' ' || start[n - 1] == '\t' || start[n - 1] == '\n' ||
                     start[n - 1] == '\r')) {
        n--;
    }
    char *trimmed = strndup(start, n);
    char *value = NULL;
    if (trimmed == NULL) {
        problem(ld, line_of(node), "out of memory");
    } else {
        value = substitute(ld, trimmed, line_of(node));
        memset(trimmed, 0, n);
        free(trimmed);
    }
    memset(raw, 0, strlen((char *)raw));
    xmlFree(raw);
    return value;
}

static void parse_properties(struct load *ld, const xmlNode *node, struct connrt_def_component *c)
{
    for (const xmlNode *child = node->children; child != NULL; child = child->next) {
        if (!is_element(child, "property")) {
            continue;
        }
        struct connrt_def_property *p = add_property(c);
        if (p == NULL) {
            problem(ld, line_of(child), "out of memory");
            return;
        }
        p->file = ld->file;
        p->line = line_of(child);
        p->name = attribute(ld, child, "name");
        p->value = property_text(ld, child);
    }
}

static const struct {
    const char *attribute;
    connrt_value_source_t source;
} sources[] = {
    {"value", CONNRT_SOURCE_VALUE},
    {"json-pointer", CONNRT_SOURCE_JSON_POINTER},
    {"from-property", CONNRT_SOURCE_FROM_PROPERTY},
    {"file-name", CONNRT_SOURCE_FILE_NAME},
};

#define NSOURCES (sizeof(sources) / sizeof(sources[0]))

/* One <property> of <set-properties>: exactly one source attribute. */
static void parse_assignment(struct load *ld, const xmlNode *node, struct connrt_def_assignment *a)
{
    const char *first = NULL;
    a->file = ld->file;
    a->line = line_of(node);
    a->name = attribute(ld, node, "name");
    for (size_t i = 0; i < NSOURCES; i++) {
        if (!xmlHasNsProp(node, (const xmlChar *)sources[i].attribute, NULL)) {
            continue;
        }
        if (first != NULL) {
            problem(ld, a->line, "<property> in <set-properties> has both '%s' and '%s' (give "
                    "exactly one of value, json-pointer, from-property, file-name)", first,
                    sources[i].attribute);
            free(a->argument);
            a->argument = NULL;
            return;
        }
        first = sources[i].attribute;
        a->source = sources[i].source;
        a->argument = attribute(ld, node, sources[i].attribute);
    }
    if (first == NULL) {
        problem(ld, a->line, "<property> in <set-properties> needs one of value, json-pointer, "
                "from-property, file-name");
    }
}

static void parse_set_properties(struct load *ld, const xmlNode *node, struct connrt_def_step *s)
{
    for (const xmlNode *child = node->children; child != NULL; child = child->next) {
        if (!is_element(child, "property")) {
            continue;
        }
        struct connrt_def_assignment *a = add_assignment(s);
        if (a == NULL) {
            problem(ld, line_of(child), "out of memory");
            return;
        }
        parse_assignment(ld, child, a);
    }
}

static const struct {
    const char *element;
    connrt_step_kind_t kind;
} step_kinds[] = {
    {"start", CONNRT_STEP_START},
    {"set-properties", CONNRT_STEP_SET_PROPERTIES},
    {"connector", CONNRT_STEP_CONNECTOR},
    {"output", CONNRT_STEP_OUTPUT},
};

static void parse_steps(struct load *ld, const xmlNode *node, struct connrt_def_step **steps,
                        size_t *nsteps)
{
    for (const xmlNode *child = node->children; child != NULL; child = child->next) {
        for (size_t k = 0; k < sizeof(step_kinds) / sizeof(step_kinds[0]); k++) {
            if (!is_element(child, step_kinds[k].element)) {
                continue;
            }
            struct connrt_def_step *s = add_step(steps, nsteps);
            if (s == NULL) {
                problem(ld, line_of(child), "out of memory");
                return;
            }
            s->kind = step_kinds[k].kind;
            s->file = ld->file;
            s->line = line_of(child);
            if (s->kind == CONNRT_STEP_START || s->kind == CONNRT_STEP_CONNECTOR) {
                s->operation = attribute(ld, child, "operation");
            } else if (s->kind == CONNRT_STEP_SET_PROPERTIES) {
                parse_set_properties(ld, child, s);
            }
        }
    }
}

static void parse_process(struct load *ld, const xmlNode *node, struct connrt_def_component *c)
{
    parse_steps(ld, node, &c->steps, &c->nsteps);
    for (const xmlNode *child = node->children; child != NULL; child = child->next) {
        if (is_element(child, "on-error")) {
            c->has_on_error = 1;
            parse_steps(ld, child, &c->error_steps, &c->nerror_steps);
        }
    }
}

static const struct {
    const char *element;
    connrt_component_kind_t kind;
} component_kinds[] = {
    {"connection", CONNRT_COMPONENT_CONNECTION},
    {"operation", CONNRT_COMPONENT_OPERATION},
    {"process", CONNRT_COMPONENT_PROCESS},
};

static void parse_component(struct load *ld, const xmlNode *node, connrt_component_kind_t kind)
{
    struct connrt_def_component *c = calloc(1, sizeof(*c));
    if (c == NULL || add_component(ld->defs, c) != 0) {
        free(c);
        problem(ld, line_of(node), "out of memory");
        return;
    }
    c->kind = kind;
    c->file = ld->file;
    c->line = line_of(node);
    c->id = attribute(ld, node, "id");
    switch (kind) {
    case CONNRT_COMPONENT_CONNECTION:
        c->connector = attribute(ld, node, "connector");
        parse_properties(ld, node, c);
        break;
    case CONNRT_COMPONENT_OPERATION:
        c->connection = attribute(ld, node, "connection");
        c->type = attribute(ld, node, "type");
        parse_properties(ld, node, c);
        break;
    case CONNRT_COMPONENT_PROCESS:
        parse_process(ld, node, c);
        break;
    }
}

static void build_model(struct load *ld, xmlDocPtr doc)
{
    const xmlNode *root = xmlDocGetRootElement(doc);
    if (root == NULL || !is_element(root, "connrt")) {
        return; /* the schema said why */
    }
    for (const xmlNode *child = root->children; child != NULL; child = child->next) {
        for (size_t k = 0; k < sizeof(component_kinds) / sizeof(component_kinds[0]); k++) {
            if (is_element(child, component_kinds[k].element)) {
                parse_component(ld, child, component_kinds[k].kind);
            }
        }
    }
}

/* Line of the first `needle` in buf (libxml2 keeps no line for a DTD). */
static int line_in_buffer(const char *buf, size_t len, const char *needle)
{
    const char *at = memmem(buf, len, needle, strlen(needle));
    int line = 1;
    for (const char *p = buf; at != NULL && p < at; p++) {
        line += (*p == '\n');
    }
    return line;
}

/* Parse, validate and model one file's bytes (borrowed); problems into ld. */
static void load_buffer(struct load *ld, const char *buf, size_t len)
{
    if (len > (size_t)MAX_FILE_SIZE) {
        problem(ld, 0, "cannot read: larger than %ld MiB", MAX_FILE_SIZE >> 20);
        return;
    }
    /* libxml2's handlers are per thread: ours only for this call. */
    xmlStructuredErrorFunc saved_handler = xmlStructuredError;
    void *saved_context = xmlStructuredErrorContext;
    xmlSetStructuredErrorFunc(ld, contextless_error);
    xmlDocPtr doc = parse_xml(ld, buf, len);
    int doctype_line = doc && doc->intSubset ? line_in_buffer(buf, len, "<!DOCTYPE") : 0;
    if (doc != NULL && doc->intSubset != NULL) {
        /* Entities are a needless attack surface (XXE, expansion bombs). */
        problem(ld, doctype_line, "DOCTYPE declarations are not allowed in definitions");
    } else if (doc != NULL) {
        validate_schema(ld, doc);
        build_model(ld, doc);
    }
    xmlFreeDoc(doc);
    xmlSetStructuredErrorFunc(saved_context, saved_handler);
}

size_t connrt_definitions_load_file(connrt_definitions_t *defs, const char *path,
                                    connrt_diagnostics_t *diag)
{
    struct load ld = {.defs = defs, .file = path, .diag = diag};
    size_t len = 0;
    if (defs == NULL || path == NULL) {
        return 0;
    }
    ld.file = add_file(defs, path);
    if (ld.file == NULL) {
        connrt_diag_add(diag, path, 0, "out of memory");
        return 1;
    }
    char *buf = read_file(&ld, &len);
    if (buf == NULL) {
        return ld.problems;
    }
    load_buffer(&ld, buf, len);
    free(buf);
    return ld.problems;
}

size_t connrt_definitions_load_memory(connrt_definitions_t *defs, const char *name,
                                      const char *buf, size_t len, connrt_diagnostics_t *diag)
{
    struct load ld = {.defs = defs, .file = name, .diag = diag};
    if (defs == NULL || name == NULL || (buf == NULL && len > 0)) {
        return 0;
    }
    ld.file = add_file(defs, name);
    if (ld.file == NULL) {
        connrt_diag_add(diag, name, 0, "out of memory");
        return 1;
    }
    load_buffer(&ld, buf != NULL ? buf : "", len);
    return ld.problems;
}
