/*
** data_labels.c — `--labels` and `--class-names`.
**
** Labels come out in sample order from: a CSV "filename,label" (header line optional, fields
** may be double-quoted, extra columns ignored; rows are matched to the samples' names by base
** name, so row order does not matter), a .npy of integers (shape (N) or (N,1)), an IDX labels
** file (magic 0x00000801, .gz too), or a text file with one integer per line. A label file
** shorter than the data, a blank line between labels, or a sample without a CSV row is an
** error: a silently shifted label list would make every accuracy number wrong.
*/
#include "data_internal.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

typedef struct lab_list {
    int64_t *v;
    int64_t n, cap;
} lab_list;

static ld_status lab_push(lab_list *l, int64_t v) {
    if (l->n == l->cap) {
        int64_t cap = l->cap ? 2 * l->cap : 256;
        int64_t *nv = realloc(l->v, sizeof *nv * cap);
        if (!nv) return ld_oom();
        l->v = nv;
        l->cap = cap;
    }
    l->v[l->n++] = v;
    return LD_OK;
}

/* [s, e) trimmed of white space. */
static void span_trim(const char **s, const char **e) {
    while (*s < *e && isspace((unsigned char)**s)) (*s)++;
    while (*e > *s && isspace((unsigned char)(*e)[-1])) (*e)--;
}

static bool span_int(const char *s, const char *e, int64_t *out) {
    span_trim(&s, &e);
    if (s == e || e - s > 30) return false;
    char tmp[32], *end;
    memcpy(tmp, s, e - s);
    tmp[e - s] = 0;
    errno = 0;
    long long v = strtoll(tmp, &end, 10);
    if (*end || errno) return false;
    *out = v;
    return true;
}

static const char *line_end(const char *p, const char *end) {
    const char *nl = memchr(p, '\n', end - p);
    return nl ? nl : end;
}

/* ---- text: one integer per line ---- */

static ld_status labels_text(const char *path, const char *buf, size_t len, lab_list *l) {
    const char *p = buf, *end = buf + len;
    int line = 0, blank = 0;
    while (p < end) {
        const char *e = line_end(p, end), *s = p;
        line++;
        span_trim(&s, &e);
        if (s == e) {
            if (!blank) blank = line;
        } else {
            int64_t v;
            if (blank) return ld_error(LD_ERR_DATA, "%s:%d: blank line between labels", path, blank);
            if (!span_int(s, e, &v))
                return ld_error(LD_ERR_DATA, "%s:%d: '%.*s' is not an integer label", path, line, (int)LD_MIN(e - s, 40), s);
            LD_TRY(lab_push(l, v));
        }
        p = line_end(p, end) + 1;
    }
    return LD_OK;
}

/* ---- CSV ---- */

typedef struct csv_row {
    char *key;                  /* base name of the file field */
    int64_t label;
    int line;
} csv_row;

/* One field starting at p (quoted or not); *out = malloc'ed text; returns the end. */
static const char *csv_field(const char *p, const char *end, char **out) {
    char *o = malloc(end - p + 1);
    size_t n = 0;
    if (!o) { *out = NULL; return end; }
    while (p < end && (*p == ' ' || *p == '\t')) p++;
    if (p < end && *p == '"') {
        for (p++; p < end; p++) {
            if (*p == '"' && p + 1 < end && p[1] == '"') o[n++] = *p++;
            else if (*p == '"') { p++; break; }
            else o[n++] = *p;
        }
        while (p < end && *p != ',') p++;
    } else {
        while (p < end && *p != ',') o[n++] = *p++;
        while (n && isspace((unsigned char)o[n - 1])) n--;
    }
    o[n] = 0;
    *out = o;
    return p;
}

static int csv_row_cmp(const void *a, const void *b) {
    return strcmp(((const csv_row *)a)->key, ((const csv_row *)b)->key);
}

static ld_status csv_line(const char *path, int line, const char *p, const char *e, csv_row *row, bool *header) {
    char *file = NULL, *lab = NULL;
    const char *q = csv_field(p, e, &file);
    if (file && q < e) csv_field(q + 1, e, &lab);
    ld_status st = file && (q >= e || lab) ? LD_OK : ld_oom();
    *header = false;
    if (st == LD_OK && (!lab || !span_int(lab, lab + strlen(lab), &row->label))) {
        if (line == 1) *header = true;
        else st = ld_error(LD_ERR_DATA, "%s:%d: expected \"filename,label\" with an integer label", path, line);
    }
    if (st == LD_OK && !*header) {
        const char *slash = strrchr(file, '/');
        row->key = ld_strdup(slash ? slash + 1 : file);
        row->line = line;
        if (!row->key) st = ld_oom();
    }
    free(file);
    free(lab);
    return st;
}

static ld_status csv_parse(const char *path, const char *buf, size_t len, csv_row **rows_out, int64_t *n_out) {
    const char *p = buf, *end = buf + len;
    csv_row *rows = NULL;
    int64_t n = 0, cap = 0;
    int line = 0;
    ld_status st = LD_OK;
    for (; p < end && st == LD_OK; p = line_end(p, end) + 1) {
        const char *e = line_end(p, end), *s = p;
        line++;
        span_trim(&s, &e);
        if (s == e) continue;
        if (n == cap) {
            csv_row *nr = realloc(rows, sizeof *nr * (cap = cap ? 2 * cap : 256));
            if (!nr) { st = ld_oom(); break; }
            rows = nr;
        }
        bool header;
        st = csv_line(path, line, s, e, &rows[n], &header);
        if (st == LD_OK && !header) n++;
    }
    *rows_out = rows;
    *n_out = n;
    return st;
}

static void csv_rows_free(csv_row *rows, int64_t n) {
    for (int64_t i = 0; i < n; i++) free(rows[i].key);
    free(rows);
}

/* Labels of the named samples; without names (nsamples <= 0), all rows in file order. */
static ld_status csv_match(const char *path, csv_row *rows, int64_t n, char *const *names, int64_t nsamples,
                           lab_list *l) {
    if (nsamples <= 0) {
        for (int64_t i = 0; i < n; i++) LD_TRY(lab_push(l, rows[i].label));
        return LD_OK;
    }
    /* (qsort and bsearch must not see the NULL array of a file holding only a header) */
    if (n == 0) return ld_error(LD_ERR_DATA, "%s: no \"filename,label\" rows, but %lld samples need labels", path,
                                (long long)nsamples);
    qsort(rows, n, sizeof *rows, csv_row_cmp);
    for (int64_t i = 1; i < n; i++)
        if (!strcmp(rows[i].key, rows[i - 1].key) && rows[i].label != rows[i - 1].label)
            return ld_error(LD_ERR_DATA, "%s: '%s' has two labels (lines %d and %d)", path, rows[i].key,
                            LD_MIN(rows[i].line, rows[i - 1].line), LD_MAX(rows[i].line, rows[i - 1].line));
    for (int64_t i = 0; i < nsamples; i++) {
        if (!names || !names[i] || !names[i][0])
            return ld_error(LD_ERR_DATA, "%s: CSV labels are matched by file name, but the data's samples have no names "
                            "(use an IDX, .npy or text labels file)", path);
        csv_row key = {.key = names[i]};
        const csv_row *r = bsearch(&key, rows, n, sizeof *rows, csv_row_cmp);
        if (!r) return ld_error(LD_ERR_DATA, "%s: no label for sample '%s'", path, names[i]);
        LD_TRY(lab_push(l, r->label));
    }
    return LD_OK;
}

static ld_status labels_csv(const char *path, const char *buf, size_t len, char *const *names, int64_t nsamples,
                            lab_list *l) {
    csv_row *rows;
    int64_t n;
    ld_status st = csv_parse(path, buf, len, &rows, &n);
    if (st == LD_OK) st = csv_match(path, rows, n, names, nsamples, l);
    csv_rows_free(rows, n);
    return st;
}

/* ---- binary formats ---- */

static ld_status labels_npy(const char *path, lab_list *l) {
    ld_tensor t = {0};
    ld_status st = ld_npy_read(path, &t);
    if (st != LD_OK) return ld_err_prefix_path(st, path);
    if (!(t.ndim == 1 || (t.ndim == 2 && t.dims[1] == 1)))
        st = ld_error(LD_ERR_DATA, "%s: labels need shape (N) or (N,1)", path);
    else if (!ld_dtype_is_int(t.dtype) && !ld_dtype_is_float(t.dtype) && t.dtype != LD_BOOL)
        st = ld_error(LD_ERR_DATA, "%s: labels must be integers (found %s)", path, ld_dtype_name(t.dtype));
    for (int64_t i = 0; st == LD_OK && i < t.numel; i++) {
        double d = ld_tensor_get_f64(&t, i);
        if (ld_dtype_is_float(t.dtype) && (d != floor(d) || !isfinite(d) || fabs(d) > 9e15))
            st = ld_error(LD_ERR_DATA, "%s: label %lld is %g, not an integer", path, (long long)i, d);
        else st = lab_push(l, ld_dtype_is_float(t.dtype) ? (int64_t)d : ld_tensor_get_i64(&t, i));
    }
    ld_tensor_clear(&t);
    return st;
}

static ld_status labels_idx(const char *path, lab_list *l) {
    data_idx x;
    LD_TRY(data_idx_read(path, &x));
    ld_status st = LD_OK;
    if (x.ndim != 1)
        st = ld_error(LD_ERR_DATA, "%s: IDX labels need magic 0x00000801 (uint8, N); this file has rank %d", path, x.ndim);
    for (int64_t i = 0; st == LD_OK && i < x.count; i++) st = lab_push(l, x.data[i]);
    data_idx_free(&x);
    return st;
}

/* CSV when named so, or when the first non-blank line has a comma. */
static bool text_is_csv(const char *path, const char *buf, size_t len) {
    if (ld_str_ends_with_ci(path, ".csv")) return true;
    const char *p = buf, *end = buf + len;
    while (p < end && isspace((unsigned char)*p)) p++;
    const char *e = line_end(p, end);
    return memchr(p, ',', e - p) != NULL;
}

static ld_status labels_read(const char *path, char *const *names, int64_t nsamples, lab_list *l) {
    if (ld_str_ends_with_ci(path, ".npy")) return labels_npy(path, l);
    if (data_is_idx(path)) return labels_idx(path, l);
    uint8_t *buf;
    size_t len;
    ld_status st = ld_file_read(path, &buf, &len);
    if (st != LD_OK) return ld_err_prefix_path(st, path);
    const char *text = (const char *)buf;
    if (len >= 3 && !memcmp(text, "\xef\xbb\xbf", 3)) { text += 3; len -= 3; }
    if (memchr(text, 0, len)) st = ld_error(LD_ERR_DATA, "%s: not a text, CSV, .npy or IDX labels file", path);
    else if (text_is_csv(path, text, len)) st = labels_csv(path, text, len, names, nsamples, l);
    else st = labels_text(path, text, len, l);
    free(buf);
    return st;
}

ld_status ld_labels_load(const char *path, char *const *names, int64_t nsamples, int64_t **labels,
                         int64_t *nlabels) {
    *labels = NULL;
    *nlabels = 0;
    lab_list l = {0};
    ld_status st = labels_read(path, names, nsamples, &l);
    if (st == LD_OK && l.n == 0) st = ld_error(LD_ERR_DATA, "%s: holds no labels", path);
    if (st == LD_OK && nsamples > 0 && l.n < nsamples)
        st = ld_error(LD_ERR_DATA, "%s: holds %lld labels but the data has %lld samples", path, (long long)l.n,
                      (long long)nsamples);
    if (st != LD_OK) { free(l.v); return st; }
    if (nsamples > 0 && l.n > nsamples) {
        ld_log(1, "%s: using the first %lld of %lld labels", path, (long long)nsamples, (long long)l.n);
        l.n = nsamples;
    }
    *labels = l.v;
    *nlabels = l.n;
    return LD_OK;
}

/* ---- class names ---- */

ld_status ld_class_names_load(const char *path, char ***names_out, int *n_out) {
    *names_out = NULL;
    *n_out = 0;
    uint8_t *buf;
    size_t len;
    ld_status st = ld_file_read(path, &buf, &len);
    if (st != LD_OK) return ld_err_prefix_path(st, path);
    const char *p = (const char *)buf, *end = p + len;
    if (len >= 3 && !memcmp(p, "\xef\xbb\xbf", 3)) p += 3;
    char **names = NULL;
    int n = 0, line = 0, blank = 0;
    for (; p < end && st == LD_OK; p = line_end(p, end) + 1) {
        const char *s = p, *e = line_end(p, end);
        line++;
        span_trim(&s, &e);
        if (s == e) { if (!blank) blank = line; continue; }
        if (blank) { st = ld_error(LD_ERR_DATA, "%s:%d: blank line between class names", path, blank); break; }
        char **nn = realloc(names, sizeof *nn * (n + 1));
        if (nn) names = nn;
        if (!nn || !(names[n] = ld_strndup(s, e - s))) st = ld_oom();
        else n++;
    }
    free(buf);
    if (st == LD_OK && n == 0) st = ld_error(LD_ERR_DATA, "%s: holds no class names", path);
    if (st != LD_OK) { ld_strings_free(names, n); return st; }
    *names_out = names;
    *n_out = n;
    return LD_OK;
}
