/* table.c - aligned tables and records for nvoctl's human output. */
#include "nvoctl/table.h"

#include <stdlib.h>
#include <string.h>

static char *
xstrdup_or_dash(const char *s)
{
    char *copy = strdup(s ? s : "-");
    if (!copy) {
        abort();
    }
    return copy;
}

static void *
xcalloc_or_die(size_t n, size_t size)
{
    void *p = calloc(n ? n : 1, size);
    if (!p) {
        abort();
    }
    return p;
}

size_t
nvoctl_text_width(const char *s)
{
    size_t w = 0;
    for (; *s; s++) {
        /* Count every byte that does not continue a UTF-8 sequence. */
        if (((unsigned char) *s & 0xc0) != 0x80) {
            w++;
        }
    }
    return w;
}

void
nvoctl_table_init(struct nvoctl_table *t, size_t n,
                  const char *const headers[], const bool right[])
{
    memset(t, 0, sizeof *t);
    t->n_cols = n;
    t->headers = xcalloc_or_die(n, sizeof *t->headers);
    t->right = xcalloc_or_die(n, sizeof *t->right);
    for (size_t i = 0; i < n; i++) {
        t->headers[i] = xstrdup_or_dash(headers[i]);
        t->right[i] = right ? right[i] : false;
    }
}

void
nvoctl_table_destroy(struct nvoctl_table *t)
{
    if (!t) {
        return;
    }
    for (size_t i = 0; i < t->n_cols; i++) {
        free(t->headers[i]);
    }
    for (size_t i = 0; i < t->n_rows * t->n_cols; i++) {
        free(t->cells[i]);
    }
    free(t->headers);
    free(t->right);
    free(t->cells);
    memset(t, 0, sizeof *t);
}

void
nvoctl_table_add_row(struct nvoctl_table *t, const char *const cells[])
{
    if (t->n_rows >= t->cap_rows) {
        size_t cap = t->cap_rows ? 2 * t->cap_rows : 16;
        char **c = realloc(t->cells, cap * t->n_cols * sizeof *c + 1);
        if (!c) {
            abort();
        }
        t->cells = c;
        t->cap_rows = cap;
    }
    for (size_t i = 0; i < t->n_cols; i++) {
        t->cells[t->n_rows * t->n_cols + i] = xstrdup_or_dash(cells[i]);
    }
    t->n_rows++;
}

static void
pad(FILE *out, size_t n)
{
    while (n--) {
        fputc(' ', out);
    }
}

/* Writes one line of 'cells' padded to 'widths'. */
static void
render_line(const struct nvoctl_table *t, const size_t widths[],
            char *const cells[], FILE *out)
{
    /* The last column is not padded on the right (no trailing blanks). */
    for (size_t i = 0; i < t->n_cols; i++) {
        size_t w = nvoctl_text_width(cells[i]);
        bool last = i + 1 == t->n_cols;
        if (i) {
            fputs("  ", out);
        }
        if (t->right[i]) {
            pad(out, widths[i] - w);
            fputs(cells[i], out);
        } else {
            fputs(cells[i], out);
            if (!last) {
                pad(out, widths[i] - w);
            }
        }
    }
    fputc('\n', out);
}

void
nvoctl_table_render(const struct nvoctl_table *t, FILE *out)
{
    size_t *widths = xcalloc_or_die(t->n_cols, sizeof *widths);
    for (size_t i = 0; i < t->n_cols; i++) {
        widths[i] = nvoctl_text_width(t->headers[i]);
        for (size_t r = 0; r < t->n_rows; r++) {
            size_t w = nvoctl_text_width(t->cells[r * t->n_cols + i]);
            if (w > widths[i]) {
                widths[i] = w;
            }
        }
    }
    render_line(t, widths, t->headers, out);
    for (size_t r = 0; r < t->n_rows; r++) {
        render_line(t, widths, &t->cells[r * t->n_cols], out);
    }
    free(widths);
}

/* The cells of the elements of array 'v' joined with 'sep'.  Caller frees. */
static char *
join_array(const json_t *v, const char *sep)
{
    size_t len = 1, i;
    const json_t *e;
    char **parts = xcalloc_or_die(json_array_size(v), sizeof *parts);
    json_array_foreach (v, i, e) {
        parts[i] = nvoctl_cell_text(e);
        len += strlen(parts[i]) + strlen(sep);
    }
    char *s = xcalloc_or_die(len, 1);
    json_array_foreach (v, i, e) {
        if (i) {
            strcat(s, sep);
        }
        strcat(s, parts[i]);
        free(parts[i]);
    }
    free(parts);
    return s;
}

char *
nvoctl_cell_text(const json_t *v)
{
    char buf[64];
    if (!v || json_is_null(v)) {
        return xstrdup_or_dash("-");
    }
    switch (json_typeof(v)) {
    case JSON_STRING:
        return xstrdup_or_dash(json_string_value(v));
    case JSON_INTEGER:
        snprintf(buf, sizeof buf, "%" JSON_INTEGER_FORMAT,
                 json_integer_value(v));
        return xstrdup_or_dash(buf);
    case JSON_REAL:
        snprintf(buf, sizeof buf, "%g", json_real_value(v));
        return xstrdup_or_dash(buf);
    case JSON_TRUE:
        return xstrdup_or_dash("true");
    case JSON_FALSE:
        return xstrdup_or_dash("false");
    case JSON_ARRAY:
        return json_array_size(v) ? join_array(v, ",")
                                  : xstrdup_or_dash("-");
    case JSON_OBJECT:
    default: {
        char *s = json_dumps(v, JSON_COMPACT | JSON_SORT_KEYS);
        return s ? s : xstrdup_or_dash("?");
    }
    }
}

void
nvoctl_table_print_json(FILE *out, const struct nvoctl_column *cols,
                        size_t n_cols, const json_t *array)
{
    const char **headers = xcalloc_or_die(n_cols, sizeof *headers);
    bool *right = xcalloc_or_die(n_cols, sizeof *right);
    for (size_t i = 0; i < n_cols; i++) {
        headers[i] = cols[i].header;
        right[i] = cols[i].right;
    }
    struct nvoctl_table t;
    nvoctl_table_init(&t, n_cols, headers, right);

    char **cells = xcalloc_or_die(n_cols, sizeof *cells);
    size_t r;
    const json_t *row;
    json_array_foreach (array, r, row) {
        if (!json_is_object(row)) {
            continue;
        }
        for (size_t i = 0; i < n_cols; i++) {
            cells[i] = nvoctl_cell_text(json_object_get(row, cols[i].key));
        }
        nvoctl_table_add_row(&t, (const char *const *) cells);
        for (size_t i = 0; i < n_cols; i++) {
            free(cells[i]);
        }
    }
    nvoctl_table_render(&t, out);
    nvoctl_table_destroy(&t);
    free(cells);
    free(headers);
    free(right);
}

/* Record values: arrays of scalars read better with ", ". */
static char *
record_value(const json_t *v)
{
    if (json_is_array(v)) {
        size_t i;
        const json_t *e;
        json_array_foreach (v, i, e) {
            if (json_is_object(e) || json_is_array(e)) {
                return nvoctl_cell_text(v);
            }
        }
        return json_array_size(v) ? join_array(v, ", ")
                                  : xstrdup_or_dash("[]");
    }
    return nvoctl_cell_text(v);
}

static bool
in_list(const char *key, const char *const list[], size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (!strcmp(key, list[i])) {
            return true;
        }
    }
    return false;
}

void
nvoctl_record_print(FILE *out, const json_t *obj, const char *const first[],
                    size_t n_first)
{
    size_t kw = 0;
    const char *key;
    const json_t *v;
    json_object_foreach ((json_t *) obj, key, v) {
        size_t w = nvoctl_text_width(key);
        if (w > kw) {
            kw = w;
        }
    }
    for (size_t i = 0; i < n_first; i++) {
        v = json_object_get(obj, first[i]);
        if (v) {
            char *s = record_value(v);
            fprintf(out, "%s", first[i]);
            pad(out, kw - nvoctl_text_width(first[i]));
            fprintf(out, " : %s\n", s);
            free(s);
        }
    }
    json_object_foreach ((json_t *) obj, key, v) {
        if (in_list(key, first, n_first)) {
            continue;
        }
        char *s = record_value(v);
        fprintf(out, "%s", key);
        pad(out, kw - nvoctl_text_width(key));
        fprintf(out, " : %s\n", s);
        free(s);
    }
}
