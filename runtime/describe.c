/*
 * describe.c - one row model (struct row_view) built from a property table
 * row, rendered three ways: a text table, JSON (jansson) and Markdown.
 */
#include "describe.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "properties/property.h"

/* What a reader sees of one row. Built only by row_view_init. */
struct row_view {
    char name[512];             /* full name: "connector.kafka." + row name for container rows */
    int prefix;                 /* PREFIX row: "name" is a prefix */
    const char *type;           /* connrt_property_type_name */
    const char *default_value;  /* NULL: none, or hidden because secret */
    int required, secret, deprecated, invalid;
    const char *const *allowed; /* ENUM values or NULL */
    int has_bounds;
    long long min, max;
    const char *description;
    const char *hint;
};

static int is_numeric(connrt_property_type_t t)
{
    return t == CONNRT_PROP_INT || t == CONNRT_PROP_SIZE || t == CONNRT_PROP_DURATION_MS;
}

static void row_view_init(struct row_view *v, const struct connrt_property_def *d,
                          const char *name_prefix)
{
    memset(v, 0, sizeof(*v));
    snprintf(v->name, sizeof(v->name), "%s%s", name_prefix, d->name);
    v->prefix = d->type == CONNRT_PROP_PREFIX;
    v->type = connrt_property_type_name(d->type);
    v->required = (d->flags & CONNRT_PROP_F_REQUIRED) != 0;
    v->secret = (d->flags & CONNRT_PROP_F_SECRET) != 0;
    v->deprecated = (d->flags & CONNRT_PROP_F_DEPRECATED) != 0;
    v->invalid = (d->flags & CONNRT_PROP_F_INVALID) != 0;
    /* A secret's default is as secret as its value. */
    v->default_value = v->secret ? NULL : d->default_value;
    v->allowed = d->type == CONNRT_PROP_ENUM ? d->allowed : NULL;
    v->has_bounds = is_numeric(d->type) && d->min < d->max;
    v->min = d->min;
    v->max = d->max;
    v->description = d->description ? d->description : "";
    v->hint = d->hint;
}

/* ------------------------------------------------------------------------ */
/* Cells shared by the text and Markdown tables                             */
/* ------------------------------------------------------------------------ */

static void name_cell(const struct row_view *v, char *buf, size_t size)
{
    snprintf(buf, size, "%s%s", v->name, v->prefix ? "*" : "");
}

static void default_cell(const struct row_view *v, char *buf, size_t size)
{
    if (v->required) {
        snprintf(buf, size, "required");
    } else if (v->secret) {
        snprintf(buf, size, "(secret)");
    } else if (v->default_value == NULL) {
        snprintf(buf, size, "-");
    } else if (v->default_value[0] == '\0') {
        snprintf(buf, size, "\"\"");
    } else {
        snprintf(buf, size, "%s", v->default_value);
    }
}

/* Allowed values joined by `sep`, or the bounds "MIN..MAX", or "-". */
static void values_cell(const struct row_view *v, const char *sep, char *buf, size_t size)
{
    size_t used = 0;

    buf[0] = '\0';
    if (v->allowed != NULL) {
        for (size_t i = 0; v->allowed[i] != NULL && used < size; i++) {
            int n = snprintf(buf + used, size - used, "%s%s", i ? sep : "", v->allowed[i]);
            used += n > 0 ? (size_t)n : 0;
        }
    } else if (v->has_bounds) {
        snprintf(buf, size, "%lld..%lld", v->min, v->max);
    }
    if (buf[0] == '\0') {
        snprintf(buf, size, "-");
    }
}

static void flags_cell(const struct row_view *v, char *buf, size_t size)
{
    snprintf(buf, size, "%s%s%s%s", v->secret ? "secret," : "",
             v->deprecated ? "deprecated," : "", v->invalid ? "invalid," : "",
             v->secret || v->deprecated || v->invalid ? "" : "-");
    size_t len = strlen(buf);
    if (len > 0 && buf[len - 1] == ',') {
        buf[len - 1] = '\0';
    }
}

/* The description, then for INVALID/DEPRECATED rows what to use instead. */
static void description_cell(const struct row_view *v, char *buf, size_t size)
{
    const char *d = v->description;
    size_t len = strlen(d);
    const char *sep = len == 0 ? "" : (d[len - 1] == '.' ? " " : ". ");

    if (v->invalid || v->deprecated) {
        snprintf(buf, size, "%s%s%s%s%s", d, sep, v->invalid ? "Not supported" : "Deprecated",
                 v->hint ? ": " : ".", v->hint ? v->hint : "");
    } else {
        snprintf(buf, size, "%s", d);
    }
    /* Tables are one line per row. */
    for (char *p = buf; *p != '\0'; p++) {
        if (*p == '\n' || *p == '\r' || *p == '\t') {
            *p = ' ';
        }
    }
}

enum { COL_NAME, COL_TYPE, COL_DEFAULT, COL_VALUES, COL_FLAGS, COL_DESCRIPTION, NCOLS };

static const char *const col_titles[NCOLS] = {"NAME",   "TYPE",  "DEFAULT",
                                              "VALUES", "FLAGS", "DESCRIPTION"};

struct cells {
    char c[NCOLS][1024];
};

static void row_cells(const struct row_view *v, const char *values_sep, struct cells *out)
{
    name_cell(v, out->c[COL_NAME], sizeof(out->c[COL_NAME]));
    snprintf(out->c[COL_TYPE], sizeof(out->c[COL_TYPE]), "%s", v->type);
    default_cell(v, out->c[COL_DEFAULT], sizeof(out->c[COL_DEFAULT]));
    values_cell(v, values_sep, out->c[COL_VALUES], sizeof(out->c[COL_VALUES]));
    flags_cell(v, out->c[COL_FLAGS], sizeof(out->c[COL_FLAGS]));
    description_cell(v, out->c[COL_DESCRIPTION], sizeof(out->c[COL_DESCRIPTION]));
}

static size_t table_rows(const struct connrt_property_def *table)
{
    size_t n = 0;

    while (table != NULL && table[n].name != NULL) {
        n++;
    }
    return n;
}

static const char *kind_name(connrt_operation_kind_t kind)
{
    return kind == CONNRT_OP_LISTEN ? "listen" : "batch";
}

/* ------------------------------------------------------------------------ */
/* Text                                                                     */
/* ------------------------------------------------------------------------ */

/* Columns wider than this do not widen the others' alignment. */
#define TEXT_MAX_WIDTH 40

static int text_table(FILE *out, const char *indent, const struct connrt_property_def *table,
                      const char *name_prefix)
{
    size_t n = table_rows(table);
    size_t width[NCOLS];
    struct cells *rows;

    if (n == 0) {
        fprintf(out, "%s(none)\n", indent);
        return 0;
    }
    rows = calloc(n, sizeof(*rows));
    if (rows == NULL) {
        return -1;
    }
    for (int c = 0; c < NCOLS; c++) {
        width[c] = strlen(col_titles[c]);
    }
    for (size_t i = 0; i < n; i++) {
        struct row_view v;
        row_view_init(&v, &table[i], name_prefix);
        row_cells(&v, "|", &rows[i]);
        for (int c = 0; c < NCOLS; c++) {
            size_t len = strlen(rows[i].c[c]);
            if (len > width[c] && len <= TEXT_MAX_WIDTH) {
                width[c] = len;
            }
        }
    }
    fprintf(out, "%s", indent);
    for (int c = 0; c < NCOLS - 1; c++) {
        fprintf(out, "%-*s  ", (int)width[c], col_titles[c]);
    }
    fprintf(out, "%s\n", col_titles[NCOLS - 1]);
    for (size_t i = 0; i < n; i++) {
        fprintf(out, "%s", indent);
        for (int c = 0; c < NCOLS - 1; c++) {
            fprintf(out, "%-*s  ", (int)width[c], rows[i].c[c]);
        }
        fprintf(out, "%s\n", rows[i].c[NCOLS - 1]);
    }
    free(rows);
    return 0;
}

static int text_connector(FILE *out, const struct connrt_connector *c)
{
    char prefix[256];
    int rc = 0;

    fprintf(out, "Connector %s %s: %s\n\n", c->name, c->version ? c->version : "",
            c->description ? c->description : "");
    fprintf(out, "  Connection properties (<connection connector=\"%s\">)\n", c->name);
    rc |= text_table(out, "    ", c->connection_properties, "");
    fprintf(out, "\n  Container properties (container.properties)\n");
    snprintf(prefix, sizeof(prefix), "connector.%s.", c->name);
    rc |= text_table(out, "    ", c->container_properties, prefix);
    for (const struct connrt_operation *op = c->operations; op && op->type; op++) {
        fprintf(out, "\n  Operation %s (%s%s): %s\n", op->type, kind_name(op->kind),
                op->can_start ? ", can start a process" : "",
                op->description ? op->description : "");
        rc |= text_table(out, "    ", op->properties, "");
    }
    return rc;
}

static int write_text(FILE *out, const struct connrt_property_def *runtime_table,
                      const struct connrt_connector *const *connectors, size_t n)
{
    int rc = 0;

    if (runtime_table != NULL) {
        fprintf(out, "Runtime container properties (container.properties)\n");
        rc |= text_table(out, "  ", runtime_table, "");
    }
    for (size_t i = 0; i < n; i++) {
        if (i > 0 || runtime_table != NULL) {
            fprintf(out, "\n");
        }
        rc |= text_connector(out, connectors[i]);
    }
    return rc;
}

/* ------------------------------------------------------------------------ */
/* JSON                                                                     */
/* ------------------------------------------------------------------------ */

static json_t *json_string_or_null(const char *s)
{
    return s ? json_string(s) : json_null();
}

static json_t *json_row(const struct row_view *v)
{
    json_t *allowed = json_null();

    if (v->allowed != NULL) {
        allowed = json_array();
        for (size_t i = 0; allowed && v->allowed[i] != NULL; i++) {
            json_array_append_new(allowed, json_string(v->allowed[i]));
        }
    }
    return json_pack("{s:s, s:s, s:o, s:b, s:b, s:b, s:b, s:b, s:o, s:o, s:o, s:s, s:o}",
                     "name", v->name, "type", v->type, "default",
                     json_string_or_null(v->default_value), "required", v->required, "secret",
                     v->secret, "deprecated", v->deprecated, "invalid", v->invalid, "prefix",
                     v->prefix, "allowed", allowed, "min",
                     v->has_bounds ? json_integer(v->min) : json_null(), "max",
                     v->has_bounds ? json_integer(v->max) : json_null(), "description",
                     v->description, "hint", json_string_or_null(v->hint));
}

/* JSON array of a table's rows; NULL on no memory. */
static json_t *json_table(const struct connrt_property_def *table, const char *name_prefix)
{
    json_t *rows = json_array();

    for (size_t i = 0; rows != NULL && table != NULL && table[i].name != NULL; i++) {
        struct row_view v;
        row_view_init(&v, &table[i], name_prefix);
        if (json_array_append_new(rows, json_row(&v)) != 0) {
            json_decref(rows);
            return NULL;
        }
    }
    return rows;
}

static json_t *json_connector(const struct connrt_connector *c)
{
    char prefix[256];
    json_t *ops = json_array();

    for (const struct connrt_operation *op = c->operations; ops && op && op->type; op++) {
        json_t *o = json_pack("{s:s, s:s, s:b, s:s, s:o}", "type", op->type, "kind",
                              kind_name(op->kind), "can_start", op->can_start != 0,
                              "description", op->description ? op->description : "",
                              "properties", json_table(op->properties, ""));
        if (json_array_append_new(ops, o) != 0) {
            json_decref(ops);
            return NULL;
        }
    }
    snprintf(prefix, sizeof(prefix), "connector.%s.", c->name);
    return json_pack("{s:s, s:s, s:s, s:o, s:o, s:o}", "name", c->name, "version",
                     c->version ? c->version : "", "description",
                     c->description ? c->description : "", "connection_properties",
                     json_table(c->connection_properties, ""), "container_properties",
                     json_table(c->container_properties, prefix), "operations", ops);
}

static int write_json(FILE *out, const struct connrt_property_def *runtime_table,
                      const struct connrt_connector *const *connectors, size_t n)
{
    json_t *doc = json_object();
    json_t *list = json_array();
    int rc = doc && list ? 0 : -1;

    for (size_t i = 0; rc == 0 && i < n; i++) {
        rc = json_array_append_new(list, json_connector(connectors[i]));
    }
    if (rc == 0 && runtime_table != NULL) {
        rc = json_object_set_new(doc, "runtime",
                                 json_pack("{s:o}", "container_properties",
                                           json_table(runtime_table, "")));
    }
    if (rc == 0) {
        rc = json_object_set(doc, "connectors", list);
    }
    if (rc == 0) {
        rc = json_dumpf(doc, out, JSON_INDENT(2) | JSON_PRESERVE_ORDER) == 0 ? 0 : -1;
        fputc('\n', out);
    }
    json_decref(list);
    json_decref(doc);
    return rc;
}

/* ------------------------------------------------------------------------ */
/* Markdown                                                                 */
/* ------------------------------------------------------------------------ */

/* A table cell: '|' escaped so it does not end the cell. */
static void md_text(FILE *out, const char *s)
{
    for (; *s != '\0'; s++) {
        if (*s == '|') {
            fputs("\\|", out);
        } else {
            fputc(*s, out);
        }
    }
}

/* Code span, unless the text holds a backtick or is a placeholder ("-"). */
static void md_code(FILE *out, const char *s)
{
    if (strcmp(s, "-") == 0 || strchr(s, '`') != NULL) {
        md_text(out, s);
        return;
    }
    fputc('`', out);
    md_text(out, s);
    fputc('`', out);
}

static void md_table(FILE *out, const struct connrt_property_def *table, const char *name_prefix)
{
    if (table_rows(table) == 0) {
        fprintf(out, "None.\n");
        return;
    }
    fprintf(out, "| Name | Type | Default | Values | Flags | Description |\n");
    fprintf(out, "|---|---|---|---|---|---|\n");
    for (size_t i = 0; table[i].name != NULL; i++) {
        struct row_view v;
        struct cells cells;
        struct cells *c = &cells;
        row_view_init(&v, &table[i], name_prefix);
        row_cells(&v, ", ", c);
        fputs("| ", out);
        md_code(out, c->c[COL_NAME]);
        fprintf(out, " | %s | ", c->c[COL_TYPE]);
        if (v.required || v.secret) {
            md_text(out, c->c[COL_DEFAULT]); /* "required", "(secret)": words, not values */
        } else {
            md_code(out, c->c[COL_DEFAULT]);
        }
        fputs(" | ", out);
        if (v.allowed != NULL) {
            for (size_t k = 0; v.allowed[k] != NULL; k++) {
                fputs(k ? ", " : "", out);
                md_code(out, v.allowed[k]);
            }
        } else {
            md_text(out, c->c[COL_VALUES]);
        }
        fputs(" | ", out);
        md_text(out, c->c[COL_FLAGS]);
        fputs(" | ", out);
        md_text(out, c->c[COL_DESCRIPTION]);
        fputs(" |\n", out);
    }
}

static const char *const md_type_help[][2] = {
    {"string", "Any text."},
    {"integer", "A decimal integer, within the bounds shown as MIN..MAX."},
    {"boolean", "`true`/`false`, `yes`/`no`, `on`/`off` or `1`/`0` (any case)."},
    {"size", "Bytes; a `KB`, `MB` or `GB` suffix multiplies by 1024, 1024² or 1024³."},
    {"duration", "Milliseconds; a `ms`, `s`, `m` or `h` suffix gives the unit."},
    {"enum", "One of the values listed (case-sensitive)."},
    {"list", "Items separated by commas or newlines; no item may be empty."},
    {"pem", "A file path, or inline PEM text (`-----BEGIN ...`)."},
    {"prefix", "A family of properties: any name starting with the prefix shown before `*`."},
};

static void md_header(FILE *out)
{
    fprintf(out, "<!-- Generated by `connrt describe --markdown`: do not edit. "
                 "Run `make docs-properties` after changing a property table. -->\n\n");
    fprintf(out, "# connrt properties\n\n");
    fprintf(out, "This file is generated by `connrt describe --markdown` from the property "
                 "tables compiled into the runtime and its connectors; do not edit it by hand. "
                 "`make check` fails when it is out of date. `connrt describe [CONNECTOR] "
                 "[--json]` prints the same information.\n\n");
    fprintf(out, "A property marked *required* has no default and must be given. A *secret* "
                 "property's value never appears in logs, errors or `describe` output; use "
                 "`${env:NAME}` to keep it out of definition files.\n\n");
    fprintf(out, "| Type | Accepted values |\n|---|---|\n");
    for (size_t i = 0; i < sizeof(md_type_help) / sizeof(md_type_help[0]); i++) {
        fprintf(out, "| %s | %s |\n", md_type_help[i][0], md_type_help[i][1]);
    }
}

static void md_connector(FILE *out, const struct connrt_connector *c)
{
    char prefix[256];

    fprintf(out, "\n## Connector `%s`\n\n", c->name);
    fprintf(out, "%s Version %s.\n\n", c->description ? c->description : "",
            c->version ? c->version : "");
    fprintf(out, "### Connection properties (%s)\n\n", c->name);
    fprintf(out, "Given as `<property>` elements of a `<connection connector=\"%s\">` "
                 "component.\n\n",
            c->name);
    md_table(out, c->connection_properties, "");
    fprintf(out, "\n### Container properties (%s)\n\n", c->name);
    fprintf(out, "Set in the container's `container.properties`; they apply to every "
                 "operation of this connector and take precedence over operation "
                 "properties.\n\n");
    snprintf(prefix, sizeof(prefix), "connector.%s.", c->name);
    md_table(out, c->container_properties, prefix);
    for (const struct connrt_operation *op = c->operations; op && op->type; op++) {
        fprintf(out, "\n### Operation `%s` (%s)\n\n", op->type, c->name);
        fprintf(out, "%s Kind: %s%s. Given as `<property>` elements of an "
                     "`<operation type=\"%s\">` component.\n\n",
                op->description ? op->description : "", kind_name(op->kind),
                op->can_start ? "; can start a process" : "", op->type);
        md_table(out, op->properties, "");
    }
}

static int write_markdown(FILE *out, const struct connrt_property_def *runtime_table,
                          const struct connrt_connector *const *connectors, size_t n)
{
    md_header(out);
    if (runtime_table != NULL) {
        fprintf(out, "\n## Runtime container properties\n\n");
        fprintf(out, "Set in the container's `container.properties` (Java .properties "
                     "syntax).\n\n");
        md_table(out, runtime_table, "");
    }
    for (size_t i = 0; i < n; i++) {
        md_connector(out, connectors[i]);
    }
    return 0;
}

/* ------------------------------------------------------------------------ */

int connrt_describe_write(FILE *out, connrt_describe_format_t format,
                          const struct connrt_property_def *runtime_table,
                          const struct connrt_connector *const *connectors, size_t nconnectors,
                          char *errstr, size_t errstr_size)
{
    int rc;

    switch (format) {
    case CONNRT_DESCRIBE_TEXT:
        rc = write_text(out, runtime_table, connectors, nconnectors);
        break;
    case CONNRT_DESCRIBE_JSON:
        rc = write_json(out, runtime_table, connectors, nconnectors);
        break;
    case CONNRT_DESCRIBE_MARKDOWN:
        rc = write_markdown(out, runtime_table, connectors, nconnectors);
        break;
    default:
        snprintf(errstr, errstr_size, "unknown output format %d", (int)format);
        return -1;
    }
    if (rc != 0) {
        snprintf(errstr, errstr_size, "out of memory");
        return -1;
    }
    if (fflush(out) != 0 || ferror(out)) {
        snprintf(errstr, errstr_size, "cannot write the description");
        return -1;
    }
    return 0;
}
