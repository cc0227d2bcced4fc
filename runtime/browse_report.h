/*
 * browse_report.h - what a connector reports to `connrt browse` (rows of
 * named tables and notes, struct connrt_browse_report), kept so that the
 * runtime prints it one of two ways:
 *  - text: each table under its name, columns aligned (numbers to the
 *    right, "-" where the cluster could not tell), its notes under it;
 *  - JSON Lines: one object per row, {"row": TABLE, COLUMN: value...}, with
 *    numbers as JSON numbers and unknown values as null; a note is
 *    {"row": "note", "table": TABLE, "note": TEXT}. Rows keep the order the
 *    connector reported them in, notes come after the rows of their table.
 */
#ifndef CONNRT_BROWSE_REPORT_H
#define CONNRT_BROWSE_REPORT_H

#include <stdio.h>

#include <connrt/connector.h>

typedef struct connrt_browse_output connrt_browse_output_t;

/* Owned by the caller; NULL on no memory. Destroy with
 * connrt_browse_output_destroy (NULL no-op). */
connrt_browse_output_t *connrt_browse_output_new(void);
void connrt_browse_output_destroy(connrt_browse_output_t *out);

/* The callbacks a connector reports through; borrowed until destroy. Rows
 * and notes are copied. */
const struct connrt_browse_report *connrt_browse_output_report(connrt_browse_output_t *out);

/* Print everything reported so far to `fp` (borrowed). Returns 0, or -1
 * when writing failed. */
int connrt_browse_output_print_text(const connrt_browse_output_t *out, FILE *fp);
int connrt_browse_output_print_jsonl(const connrt_browse_output_t *out, FILE *fp);

#endif
