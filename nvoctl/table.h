/* table.h - nvoctl's human output: aligned tables (like `ovn-nbctl list`)
 * and key/value records (like `ovs-vsctl list`), built from jansson values.
 *
 * Pure: no I/O but the FILE given to the render functions.  Cells hold
 * UTF-8 text; widths count code points, so "✓" and "→" align. */
#ifndef NVOCTL_TABLE_H
#define NVOCTL_TABLE_H 1

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

/* One column of a table made from an array of JSON objects. */
struct nvoctl_column {
    const char *header;         /* "NAME" */
    const char *key;            /* JSON member shown ("name"). */
    bool right;                 /* Right-align (numbers). */
};

struct nvoctl_table {
    size_t n_cols;
    char **headers;             /* Owned, 'n_cols' entries. */
    bool *right;                /* Owned, 'n_cols' entries. */
    char **cells;               /* Owned, n_rows * n_cols entries. */
    size_t n_rows, cap_rows;
};

/* Initializes 'table' with 'n' columns named by 'headers' (copied).
 * 'right' may be NULL (all left-aligned).  Free with
 * nvoctl_table_destroy(). */
void nvoctl_table_init(struct nvoctl_table *table, size_t n,
                       const char *const headers[], const bool right[]);

/* Frees what 'table' holds (not 'table' itself).  Accepts NULL. */
void nvoctl_table_destroy(struct nvoctl_table *table);

/* Appends a row of 'table->n_cols' cells (copied; NULL shows "-"). */
void nvoctl_table_add_row(struct nvoctl_table *table,
                          const char *const cells[]);

/* Writes 'table' to 'out': a header line, then one line per row, columns
 * separated by two spaces and padded to the widest cell, no trailing
 * blanks.  An empty table prints only its header. */
void nvoctl_table_render(const struct nvoctl_table *table, FILE *out);

/* Text of 'v' as a cell: strings as they are, integers in decimal, reals
 * with %g, true/false, null or absent as "-", arrays joined with ",",
 * objects as compact JSON.  Caller frees the result. */
char *nvoctl_cell_text(const json_t *v);

/* Builds a table with 'cols' from 'array' (of objects; non-objects are
 * skipped) and renders it to 'out'. */
void nvoctl_table_print_json(FILE *out, const struct nvoctl_column *cols,
                             size_t n_cols, const json_t *array);

/* Writes 'obj' as a record: one "key : value" line per member in the
 * object's order, keys padded to the longest, as `ovs-vsctl list` does.
 * Members named in 'first' ('n_first' of them) come first, in that order.
 * Arrays of scalars are joined with ", "; nested values are compact JSON. */
void nvoctl_record_print(FILE *out, const json_t *obj,
                         const char *const first[], size_t n_first);

/* Display width of the UTF-8 string 's' (code points). */
size_t nvoctl_text_width(const char *s);

#endif /* nvoctl/table.h */
