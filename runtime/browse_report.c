/*
 * browse_report.c - collects a connector's browse report and prints it as
 * aligned tables or JSON Lines. Tables are kept whole before printing, since
 * a column is as wide as its widest value.
 */
#include "browse_report.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "arena.h"
#include "vector.h"

struct report_row {
    const char **values; /* arena; one per column known when it came, NULL: unknown */
    size_t nvalues;
};

struct report_table {
    const char *name;     /* arena */
    const char **columns; /* arena strings; the array is malloc'd */
    unsigned *flags;      /* CONNRT_BROWSE_F_* per column */
    size_t ncolumns, column_capacity, flag_capacity;
    struct report_row *rows;
    size_t nrows, row_capacity;
    const char **notes;
    size_t nnotes, note_capacity;
};

struct connrt_browse_output {
    connrt_arena_t *arena; /* every string and row */
    struct report_table *tables;
    size_t ntables, table_capacity;
    struct connrt_browse_report report;
};

/* Room for one more of `size` bytes at items[count]. Returns 0 or -1. */
static int reserve(void **items, size_t count, size_t *capacity, size_t size)
{
    return connrt_vector_reserve(items, count, capacity, size, 8);
}

static struct report_table *table_named(connrt_browse_output_t *out, const char *name)
{
    for (size_t i = 0; i < out->ntables; i++) {
        if (strcmp(out->tables[i].name, name) == 0) {
            return &out->tables[i];
        }
    }
    if (reserve((void **)&out->tables, out->ntables, &out->table_capacity,
                sizeof(*out->tables)) != 0) {
        return NULL;
    }
    struct report_table *t = &out->tables[out->ntables];
    memset(t, 0, sizeof(*t));
    t->name = connrt_arena_strdup(out->arena, name);
    if (t->name == NULL) {
        return NULL;
    }
    out->ntables++;
    return t;
}

/* Index of column `name`, added when new. (size_t)-1 on no memory. */
static size_t column_of(connrt_browse_output_t *out, struct report_table *t, const char *name,
                        unsigned flags)
{
    for (size_t i = 0; i < t->ncolumns; i++) {
        if (strcmp(t->columns[i], name) == 0) {
            return i;
        }
    }
    if (reserve((void **)&t->columns, t->ncolumns, &t->column_capacity, sizeof(*t->columns)) !=
            0 ||
        reserve((void **)&t->flags, t->ncolumns, &t->flag_capacity, sizeof(*t->flags)) != 0) {
        return (size_t)-1;
    }
    t->columns[t->ncolumns] = connrt_arena_strdup(out->arena, name);
    t->flags[t->ncolumns] = flags;
    return t->columns[t->ncolumns] == NULL ? (size_t)-1 : t->ncolumns++;
}

static int report_row(void *opaque, const char *table, const struct connrt_browse_cell *cells,
                      size_t ncells)
{
    connrt_browse_output_t *out = opaque;
    struct report_table *t = table_named(out, table);
    if (t == NULL) {
        return -1;
    }
    size_t index[ncells > 0 ? ncells : 1];
    for (size_t i = 0; i < ncells; i++) {
        index[i] = column_of(out, t, cells[i].name, cells[i].flags);
        if (index[i] == (size_t)-1) {
            return -1;
        }
    }
    if (reserve((void **)&t->rows, t->nrows, &t->row_capacity, sizeof(*t->rows)) != 0) {
        return -1;
    }
    struct report_row *row = &t->rows[t->nrows];
    row->nvalues = t->ncolumns;
    row->values = connrt_arena_alloc(out->arena, sizeof(*row->values) * (t->ncolumns + 1));
    if (row->values == NULL) {
        return -1;
    }
    memset(row->values, 0, sizeof(*row->values) * t->ncolumns);
    for (size_t i = 0; i < ncells; i++) {
        if (cells[i].value != NULL &&
            (row->values[index[i]] = connrt_arena_strdup(out->arena, cells[i].value)) == NULL) {
            return -1;
        }
    }
    t->nrows++;
    return 0;
}

static void report_note(void *opaque, const char *table, const char *text)
{
    connrt_browse_output_t *out = opaque;
    struct report_table *t = table_named(out, table);
    /* A note lost to no memory is only a remark lost. */
    if (t != NULL &&
        reserve((void **)&t->notes, t->nnotes, &t->note_capacity, sizeof(*t->notes)) == 0 &&
        (t->notes[t->nnotes] = connrt_arena_strdup(out->arena, text)) != NULL) {
        t->nnotes++;
    }
}

connrt_browse_output_t *connrt_browse_output_new(void)
{
    connrt_browse_output_t *out = calloc(1, sizeof(*out));
    if (out == NULL || (out->arena = connrt_arena_new()) == NULL) {
        free(out);
        return NULL;
    }
    out->report = (struct connrt_browse_report){
        .struct_size = sizeof(struct connrt_browse_report),
        .opaque = out,
        .row = report_row,
        .note = report_note,
    };
    return out;
}

void connrt_browse_output_destroy(connrt_browse_output_t *out)
{
    if (out == NULL) {
        return;
    }
    for (size_t i = 0; i < out->ntables; i++) {
        free(out->tables[i].columns);
        free(out->tables[i].flags);
        free(out->tables[i].rows);
        free(out->tables[i].notes);
    }
    free(out->tables);
    connrt_arena_destroy(out->arena);
    free(out);
}

const struct connrt_browse_report *connrt_browse_output_report(connrt_browse_output_t *out)
{
    return &out->report;
}

/* ------------------------------------------------------------------------ */
/* Text                                                                     */
/* ------------------------------------------------------------------------ */

static const char *cell_text(const struct report_row *row, size_t column)
{
    return column < row->nvalues && row->values[column] != NULL ? row->values[column] : "-";
}

/* One cell: numbers to the right; the last column is not padded, so no
 * line ends in blanks. */
static void print_cell(FILE *fp, const char *text, size_t width, int right, int last)
{
    int pad = (int)(width - strlen(text));
    fprintf(fp, "%*s%s%*s%s", right ? pad : 0, "", text, right || last ? 0 : pad, "",
            last ? "\n" : "  ");
}

static void print_table(const struct report_table *t, FILE *fp)
{
    size_t width[t->ncolumns > 0 ? t->ncolumns : 1];
    fprintf(fp, "%s:\n", t->name);
    for (size_t c = 0; c < t->ncolumns; c++) {
        width[c] = strlen(t->columns[c]);
        for (size_t r = 0; r < t->nrows; r++) {
            size_t len = strlen(cell_text(&t->rows[r], c));
            width[c] = len > width[c] ? len : width[c];
        }
    }
    for (size_t r = 0; t->nrows > 0 && r <= t->nrows; r++) {
        fputs("  ", fp);
        for (size_t c = 0; c < t->ncolumns; c++) {
            char upper[256];
            const char *text = r > 0 ? cell_text(&t->rows[r - 1], c) : upper;
            if (r == 0) { /* the header: column names in capitals */
                size_t i = 0;
                for (; t->columns[c][i] != '\0' && i + 1 < sizeof(upper); i++) {
                    char ch = t->columns[c][i];
                    upper[i] = ch >= 'a' && ch <= 'z' ? (char)(ch - 'a' + 'A') : ch;
                }
                upper[i] = '\0';
            }
            print_cell(fp, text, width[c], (t->flags[c] & CONNRT_BROWSE_F_NUMBER) != 0,
                       c + 1 == t->ncolumns);
        }
    }
    for (size_t n = 0; n < t->nnotes; n++) {
        fprintf(fp, "  note: %s\n", t->notes[n]);
    }
}

int connrt_browse_output_print_text(const connrt_browse_output_t *out, FILE *fp)
{
    for (size_t i = 0; i < out->ntables; i++) {
        if (i > 0) {
            fputc('\n', fp);
        }
        print_table(&out->tables[i], fp);
    }
    return fflush(fp) != 0 || ferror(fp) ? -1 : 0;
}

/* ------------------------------------------------------------------------ */
/* JSON Lines                                                               */
/* ------------------------------------------------------------------------ */

/* A string, or null when it is not UTF-8 (jansson refuses those). */
static json_t *text_value(const char *s)
{
    json_t *v = json_string(s);
    return v != NULL ? v : json_null();
}

static json_t *cell_value(const char *value, unsigned flags)
{
    if (value == NULL) {
        return json_null();
    }
    if (flags & CONNRT_BROWSE_F_NUMBER) {
        char *end;
        long long n = strtoll(value, &end, 10);
        if (*value != '\0' && *end == '\0') {
            return json_integer(n);
        }
    }
    return text_value(value);
}

/* One line; takes `o`. Returns 0 or -1. */
static int put_line(json_t *o, FILE *fp)
{
    int rc = o == NULL || json_dumpf(o, fp, JSON_COMPACT | JSON_PRESERVE_ORDER) != 0 ||
                     fputc('\n', fp) == EOF
                 ? -1
                 : 0;
    json_decref(o);
    return rc;
}

int connrt_browse_output_print_jsonl(const connrt_browse_output_t *out, FILE *fp)
{
    int rc = 0;
    for (size_t i = 0; i < out->ntables && rc == 0; i++) {
        const struct report_table *t = &out->tables[i];
        for (size_t r = 0; r < t->nrows && rc == 0; r++) {
            json_t *o = json_object();
            json_object_set_new(o, "row", text_value(t->name));
            for (size_t c = 0; c < t->ncolumns; c++) {
                const char *v = c < t->rows[r].nvalues ? t->rows[r].values[c] : NULL;
                json_object_set_new(o, t->columns[c], cell_value(v, t->flags[c]));
            }
            rc = put_line(o, fp);
        }
        for (size_t n = 0; n < t->nnotes && rc == 0; n++) {
            rc = put_line(json_pack("{s:s, s:o, s:o}", "row", "note", "table", text_value(t->name),
                                    "note", text_value(t->notes[n])),
                          fp);
        }
    }
    return rc != 0 || fflush(fp) != 0 || ferror(fp) ? -1 : 0;
}
