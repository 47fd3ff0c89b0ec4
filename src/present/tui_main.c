/*
** tui_main.c — the browser's main view: one row per node (index, pin and severity markers,
** abbreviated name, op, output shape, isolated and propagated value of the chosen metric,
** max rel error, flags), coloured by severity; above it a sparkline of the metric across all
** layers for isolated and propagated error; below it the selection's full name and the keys.
** Sorting, op filter, search, jumps to the first divergent and failing nodes.
*/
#define _GNU_SOURCE   /* strcasestr, FNM_CASEFOLD */
#include "tui.h"

#include <curses.h>
#include <fnmatch.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define TOP_ROWS 5         /* title, first divergent, two strips, header */
#define BOTTOM_ROWS 2      /* status bar, footer */

static int list_rows(const tui_app *a) { return LD_MAX(1, a->height - TOP_ROWS - BOTTOM_ROWS); }

static const char *const sort_names[TUI_SORT_COUNT] = {"topological", "isolated error", "propagated error"};

/* ---- rows ---- */

static const tui_app *sort_app;   /* qsort context (the screen thread only) */

static double sort_key(const tui_app *a, int pos, bool iso) {
    const tui_tensor *t = tui_node_main(a->rep, pos);
    if (!t || !t->measured) return NAN;
    return tui_metric_badness(a->metric, tui_metric_value(iso ? &t->iso : &t->prop, a->metric));
}

/* Does the comparison of the sort fail for node pos (failing nodes sort first)? */
static bool sort_fails(const tui_app *a, int pos, bool iso) {
    const tui_node *n = &a->rep->nodes[pos];
    for (int k = 0; k < n->nout; k++) {
        const tui_err *e = iso ? &n->outs[k].iso : &n->outs[k].prop;
        if (e->present && !e->pass) return true;
    }
    return false;
}

static int cmp_rows(const void *x, const void *y) {
    int p = *(const int *)x, q = *(const int *)y;
    bool iso = sort_app->sort == TUI_SORT_ISO;
    bool fp = sort_fails(sort_app, p, iso), fq = sort_fails(sort_app, q, iso);
    if (fp != fq) return fp ? -1 : 1;
    double u = sort_key(sort_app, p, iso);
    double v = sort_key(sort_app, q, iso);
    if (isnan(u) != isnan(v)) return isnan(u) ? 1 : -1;   /* unmeasured last */
    if (!isnan(u) && u != v) return u > v ? -1 : 1;        /* worst first */
    return p - q;
}

static bool row_visible(const tui_app *a, int pos) {
    const tui_node *n = &a->rep->nodes[pos];
    if (a->op_filter && strcmp(n->op, a->op_filter)) return false;
    if (a->failing_only && tui_node_severity(a->rep, n) < TUI_SEV_WARN) return false;
    return true;
}

static int cur_pos(const tui_app *a) { return a->nrows > 0 && a->cur >= 0 && a->cur < a->nrows ? a->rows[a->cur] : -1; }

static void keep_visible(tui_app *a, bool center) {
    int h = list_rows(a);
    if (a->cur >= a->nrows) a->cur = a->nrows - 1;
    if (a->cur < 0) a->cur = 0;
    if (center && (a->cur < a->top || a->cur >= a->top + h)) a->top = a->cur - h / 2;
    if (a->cur < a->top) a->top = a->cur;
    if (a->cur >= a->top + h) a->top = a->cur - h + 1;
    if (a->top > a->nrows - h) a->top = a->nrows - h;
    if (a->top < 0) a->top = 0;
}

void tui_list_rebuild(tui_app *a) {
    int keep = cur_pos(a);
    free(a->rows);
    a->rows = ld_calloc((size_t)a->rep->nnodes + 1, sizeof(int));
    a->nrows = 0;
    if (!a->rows) return;
    for (int i = 0; i < a->rep->nnodes; i++)
        if (row_visible(a, i)) a->rows[a->nrows++] = i;
    if (a->sort != TUI_SORT_TOPO) {
        sort_app = a;
        qsort(a->rows, (size_t)a->nrows, sizeof(int), cmp_rows);
    }
    a->cur = 0;
    for (int r = 0; r < a->nrows; r++) {
        if (a->rows[r] == keep) { a->cur = r; break; }
        if (a->sort == TUI_SORT_TOPO && a->rows[r] < keep) a->cur = r + 1 < a->nrows ? r + 1 : r;
    }
    keep_visible(a, true);
}

void tui_list_goto(tui_app *a, int pos) {
    if (pos < 0 || pos >= a->rep->nnodes) return;
    if (!row_visible(a, pos)) {
        free(a->op_filter);
        a->op_filter = NULL;
        a->failing_only = false;
        tui_list_rebuild(a);
    }
    for (int r = 0; r < a->nrows; r++)
        if (a->rows[r] == pos) { a->cur = r; break; }
    keep_visible(a, true);
}

void tui_list_start(tui_app *a) {
    tui_list_rebuild(a);
    int f = a->rep->first_iso >= 0 ? a->rep->first_iso : a->rep->first_prop;
    if (f >= 0) tui_list_goto(a, f);
}

char tui_pin_mark(const tui_app *a, int i) {
    char qm;
    if (a->rep->nquant && tui_quant_mark(a, i, &qm)) return qm;
    bool was = a->rep->nodes[i].pinned, want = a->pins ? a->pins[i] : was;
    return was && want ? '*' : want ? '+' : was ? '-' : ' ';
}

void tui_app_set_report(tui_app *a, tui_report *r) {
    tui_report *old = a->rep;
    bool same = old && old->nnodes == r->nnodes;
    for (int i = 0; same && i < r->nnodes; i++) same = !strcmp(old->nodes[i].name, r->nodes[i].name);
    a->rep = r;
    if (a->pins && !same) {
        free(a->pins);
        a->pins = ld_calloc((size_t)r->nnodes + 1, sizeof(bool));
        for (int i = 0; a->pins && i < r->nnodes; i++) a->pins[i] = r->nodes[i].pinned;
    }
    if (!same) { a->cur = 0; a->det_node = 0; a->nhistory = 0; }
    if (!same || !old || old->nquant != r->nquant) tui_qpins_reset(a);
    tui_report_free(old);
    tui_list_rebuild(a);
}

void tui_app_free(tui_app *a) {
    tui_report_free(a->rep);
    free(a->rows);
    free(a->op_filter);
    free(a->pins);
    free(a->qpins);
    a->qpins = NULL;
    a->rep = NULL;
    a->rows = NULL;
    a->op_filter = NULL;
    a->pins = NULL;
}

/* ---- drawing ---- */

typedef struct layout { int idx, name, op, shape, met; bool show_op, show_shape, show_third; } layout;

static void compute_layout(const tui_app *a, layout *L) {
    int maxi = 0;
    for (int i = 0; i < a->rep->nnodes; i++) maxi = LD_MAX(maxi, a->rep->nodes[i].index);
    L->idx = maxi >= 10000 ? 5 : maxi >= 1000 ? 4 : 3;
    L->met = 7;
    L->show_op = L->show_shape = L->show_third = true;
    L->op = 10;
    L->shape = 12;
    int fixed = L->idx + 3 + 2 * (1 + L->met) + 5 + (a->rep->nquant ? 1 : 0);   /* markers (Q: QDQ), iso, prop, flags */
    if (a->width < 72) { L->show_shape = false; L->shape = 0; }
    if (a->width < 58) { L->show_third = false; L->show_op = false; L->op = 0; }
    int rem = a->width - fixed - (L->show_third ? 1 + L->met : 0) - (L->show_op ? 1 + L->op : 0) -
              (L->show_shape ? 1 + L->shape : 0);
    L->name = rem;
    if (L->name > 32) {   /* wide terminal: room for longer op names and shapes first */
        int extra = L->name - 32, add = LD_MIN(extra, 8);
        if (L->show_op) { L->op += add; extra -= add; }
        add = LD_MIN(extra, 8);
        if (L->show_shape) { L->shape += add; extra -= add; }
        L->name = 32 + extra;
    }
    if (L->name < 4) L->name = 4;
}

static tui_role sev_role(tui_sev s) {
    static const tui_role r[] = {TUI_R_NONE, TUI_R_NORMAL, TUI_R_WARN, TUI_R_PROP, TUI_R_ISO};
    return r[s];
}

static bool is_first(const tui_app *a, int pos) { return pos == a->rep->first_iso || pos == a->rep->first_prop; }

static void draw_row(tui_app *a, const layout *L, int y, int pos, bool sel) {
    const tui_node *n = &a->rep->nodes[pos];
    const tui_tensor *t = tui_node_main(a->rep, pos);
    tui_sev sev = tui_node_severity(a->rep, n);
    char name[512], shape[128], iso[32], prop[32], third[32], fl[16], line[1024];
    static const char sevc[] = {' ', ' ', '!', 'x', 'X'};
    tui_abbrev(a, n->name, L->name, name, sizeof name);
    int pad = L->name - tui_strcols(name);   /* printf pads bytes, not columns */
    shape[0] = iso[0] = prop[0] = third[0] = fl[0] = 0;
    if (t) {
        tui_shape_str(t, shape, sizeof shape);
        if ((int)strlen(shape) > L->shape && L->shape > 1) strcpy(shape + L->shape - 2, "~]");
        bool m = t->measured;
        tui_metric_format(a->metric, m ? tui_metric_value(&t->iso, a->metric) : NAN, iso, L->met);
        tui_metric_format(a->metric, m ? tui_metric_value(&t->prop, a->metric) : NAN, prop, L->met);
        tui_metric m3 = a->metric == TUI_M_MAXREL ? TUI_M_SQNR : TUI_M_MAXREL;
        tui_metric_format(m3, m ? tui_metric_value(&t->prop, m3) : NAN, third, L->met);
        tui_flags_str(t->flags, fl, sizeof fl);
        if (strlen(fl) > 4) strcpy(fl + 3, "+");
    }
    int w = snprintf(line, sizeof line, "%*d%c%c", L->idx, n->index, tui_pin_mark(a, pos), is_first(a, pos) ? '>' : sevc[sev]);
    if (a->rep->nquant) line[w++] = tui_quant_col(a, pos);
    w += snprintf(line + w, sizeof line - w, " %s%*s", name, pad, "");
    if (L->show_op) w += snprintf(line + w, sizeof line - w, " %-*.*s", L->op, L->op, n->op);
    if (L->show_shape) w += snprintf(line + w, sizeof line - w, " %-*.*s", L->shape, L->shape, shape);
    w += snprintf(line + w, sizeof line - w, " %*s %*s", L->met, iso, L->met, prop);
    if (L->show_third) w += snprintf(line + w, sizeof line - w, " %*s", L->met, third);
    snprintf(line + w, sizeof line - w, " %-4s", fl);
    int attr = tui_attr(a, sev_role(sev)) | (is_first(a, pos) ? tui_attr(a, TUI_R_FIRST) : 0);
    if (sel) attr |= tui_attr(a, TUI_R_SEL);
    attrset(attr);
    tui_put(a, y, 0, a->width, line, true);
    attrset(A_NORMAL);
}

static void draw_header(tui_app *a, const layout *L, int y) {
    char line[1024];
    int w = snprintf(line, sizeof line, "%*s  %s %-*s", L->idx, "#", a->rep->nquant ? " Q" : "", L->name, "node");
    if (L->show_op) w += snprintf(line + w, sizeof line - w, " %-*s", L->op, "op");
    if (L->show_shape) w += snprintf(line + w, sizeof line - w, " %-*s", L->shape, "shape");
    w += snprintf(line + w, sizeof line - w, " %*s %*s", L->met, "iso", L->met, "prop");
    if (L->show_third) w += snprintf(line + w, sizeof line - w, " %*s", L->met, a->metric == TUI_M_MAXREL ? "SQNR" : "max rel");
    snprintf(line + w, sizeof line - w, " flag");
    attrset(tui_attr(a, TUI_R_HEAD));
    tui_put(a, y, 0, a->width, line, true);
    attrset(A_NORMAL);
}

/* One strip: the metric of every node in topological order, squeezed into w cells (a cell
 * shows the worst of its nodes); height = how bad, on one scale for both strips. */
static void draw_strip(tui_app *a, int y, const char *label, bool iso, double lo, double hi) {
    int N = a->rep->nnodes, w = a->width - 5, sel = cur_pos(a);
    attrset(tui_attr(a, TUI_R_HEAD));
    tui_put(a, y, 0, 5, label, true);
    int per = N <= w ? LD_MAX(1, w / LD_MAX(N, 1)) : 1;   /* cells per node when nodes are few */
    int cells = N <= w ? N * per : w;
    for (int c = 0; c < cells; c++) {
        int b0 = N <= w ? c / per : (int)((long long)c * N / w), b1 = N <= w ? b0 + 1 : (int)((long long)(c + 1) * N / w);
        double worst = NAN;
        tui_sev sev = TUI_SEV_NONE;
        bool has_sel = false, has_first = false;
        for (int i = b0; i < b1 && i < N; i++) {
            double b = sort_key(a, i, iso);
            if (!isnan(b) && (isnan(worst) || b > worst)) worst = b;
            const tui_tensor *t = tui_node_main(a->rep, i);
            if (t && t->measured) {
                const tui_err *e = iso ? &t->iso : &t->prop;
                tui_sev s = e->present && !e->pass ? (iso ? TUI_SEV_ISO : TUI_SEV_PROP) : TUI_SEV_OK;
                if (s > sev) sev = s;
            }
            has_sel |= i == sel;
            has_first |= is_first(a, i);
        }
        int level = 0;
        if (!isnan(worst) && worst > -INFINITY)
            level = hi > lo ? 1 + (int)(7.999 * LD_MIN(1.0, LD_MAX(0.0, (worst - lo) / (hi - lo)))) : 4;
        int attr = tui_attr(a, sev == TUI_SEV_OK ? TUI_R_OK : sev_role(sev));
        if (has_first) attr |= tui_attr(a, TUI_R_FIRST);
        if (has_sel) attr |= tui_attr(a, TUI_R_SEL);
        attrset(attr);
        const char *g = tui_glyph(a, has_sel && level == 0 ? 1 : level);
        mvaddstr(y, 5 + c, g);
    }
    attrset(A_NORMAL);
}

static void strip_scale(const tui_app *a, double *lo, double *hi) {
    *lo = INFINITY;
    *hi = -INFINITY;
    for (int i = 0; i < a->rep->nnodes; i++)
        for (int s = 0; s < 2; s++) {
            double b = sort_key(a, i, s == 0);
            if (isfinite(b)) { *lo = LD_MIN(*lo, b); *hi = LD_MAX(*hi, b); }
        }
    /* the tolerance is the top of the scale unless something is worse */
    double tol = a->metric == TUI_M_SQNR ? -a->rep->min_sqnr
               : a->metric == TUI_M_COSINE ? tui_metric_badness(TUI_M_COSINE, a->rep->min_cosine) : NAN;
    if (isfinite(tol) && isfinite(*lo) && tol > *hi) *hi = tol;
}

static void draw_title(tui_app *a) {
    const tui_report *r = a->rep;
    char left[1024], right[256];
    const char *model = r->model_path ? r->model_path : r->source;
    char facts[4][64];
    snprintf(facts[0], sizeof facts[0], "  %s vs FP32", r->target ? r->target : "?");
    snprintf(facts[1], sizeof facts[1], "  %d failing", r->failing);
    snprintf(facts[2], sizeof facts[2], "  %d nodes", r->nnodes);
    snprintf(facts[3], sizeof facts[3], "  %.0f sample%s", isnan(r->samples) ? 0 : r->samples, r->samples == 1 ? "" : "s");
    snprintf(right, sizeof right, "  %s ", a->ops ? "live" : "report");
    int rw = tui_strcols(right), room = a->width - rw - 1;
    const char *base = strrchr(model, '/');
    int need = tui_strcols(model);
    for (int k = 0; k < 4; k++) need += tui_strcols(facts[k]);
    if (need > room && base) model = base + 1;   /* the file name when the path is too long */
    /* the model name gets at least half the room; the facts that do not fit after it go */
    int mw = LD_MIN(tui_strcols(model), LD_MAX(room / 2, room - (need - tui_strcols(model))));
    char name[512];
    tui_abbrev(a, model, LD_MAX(mw, 4), name, sizeof name);
    int w = snprintf(left, sizeof left, " %s", name), used = 1 + tui_strcols(name);
    /* facts[] is in priority order (target, failing, nodes, samples); shown in reading order */
    static const int order[] = {0, 3, 2, 1};
    bool fits[4] = {false};
    for (int k = 0; k < 4; k++)
        if (used + tui_strcols(facts[k]) <= room) { fits[k] = true; used += tui_strcols(facts[k]); }
    for (int k = 0; k < 4; k++)
        if (fits[order[k]]) w += snprintf(left + w, sizeof left - w, "%s", facts[order[k]]);
    attrset(tui_attr(a, TUI_R_TITLE));
    tui_put(a, 0, 0, a->width - rw, left, true);
    tui_put(a, 0, a->width - rw, rw, right, false);
    char line[1024];
    int f = r->first_iso >= 0 ? r->first_iso : r->first_prop;
    if (f >= 0) {
        const tui_node *n = &r->nodes[f];
        const char *why = f == r->first_iso ? r->first_iso_reason : r->first_prop_reason;
        snprintf(line, sizeof line, "first divergent%s: #%d %s (%s): %s", f == r->first_iso ? "" : " (propagated)", n->index,
                 n->name, n->op, why ? why : "");
        attrset(tui_attr(a, TUI_R_ISO));
    } else {
        snprintf(line, sizeof line, "%s", r->passed ? "within tolerance: no divergent node" : "no divergent node found");
        attrset(tui_attr(a, TUI_R_OK));
    }
    tui_put(a, 1, 0, a->width, line, true);
    attrset(A_NORMAL);
}

typedef struct hint { const char *key, *what; } hint;

static void draw_footer(tui_app *a, const hint *h, int nh) {
    int y = a->height - 1, x = 0;
    if (a->msg[0]) {
        attrset(tui_attr(a, a->msg_role));
        tui_put(a, y, 0, a->width, a->msg, true);
        attrset(A_NORMAL);
        return;
    }
    for (int i = 0; i < nh; i++) {
        int need = tui_strcols(h[i].key) + 1 + tui_strcols(h[i].what) + (i ? 2 : 0);
        if (x + need > a->width) break;
        if (i) x += 2;
        attrset(tui_attr(a, TUI_R_KEY));
        tui_put(a, y, x, a->width - x, h[i].key, false);
        x += tui_strcols(h[i].key) + 1;
        attrset(A_NORMAL);
        tui_put(a, y, x, a->width - x, h[i].what, false);
        x += tui_strcols(h[i].what);
    }
}

static void list_draw(tui_app *a) {
    layout L;
    compute_layout(a, &L);
    keep_visible(a, false);
    draw_title(a);
    double lo, hi;
    strip_scale(a, &lo, &hi);
    draw_strip(a, 2, "iso", true, lo, hi);
    draw_strip(a, 3, "prop", false, lo, hi);
    draw_header(a, &L, 4);
    int h = list_rows(a);
    for (int r = 0; r < h && a->top + r < a->nrows; r++) draw_row(a, &L, TOP_ROWS + r, a->rows[a->top + r], a->top + r == a->cur);
    if (!a->nrows)
        tui_put(a, TOP_ROWS, 2, a->width - 2, a->rep->nnodes ? "(no node matches the filter; Esc clears it)" : "(the report has no nodes)", false);
    /* status bar: the selection in full, the view settings, the position */
    char st[1024], right[512];
    int pos = cur_pos(a);
    snprintf(right, sizeof right, " %s | %s%s%s%s | %d/%d ", tui_metric_label(a->metric), sort_names[a->sort],
             a->op_filter ? " | op " : "", a->op_filter ? a->op_filter : "", a->failing_only ? " | failing" : "",
             a->nrows ? a->cur + 1 : 0, a->nrows);
    if (pos >= 0) snprintf(st, sizeof st, " #%d %s", a->rep->nodes[pos].index, a->rep->nodes[pos].name);
    else st[0] = 0;
    int rw = LD_MIN(tui_strcols(right), a->width);
    attrset(tui_attr(a, TUI_R_TITLE));
    tui_put(a, a->height - 2, 0, a->width - rw, st, true);
    tui_put(a, a->height - 2, a->width - rw, rw, right, false);
    attrset(A_NORMAL);
    static const hint off[] = {{"?", "help"}, {"q", "quit"}, {"f", "first"}, {"n/N", "fail"}, {"/", "find"},
                               {"o", "op"}, {"s", "sort"}, {"m", "metric"}, {"Enter", "detail"}};
    static const hint live[] = {{"?", "help"}, {"q", "quit"}, {"Spc", "pin"}, {"r", "rerun"}, {"a", "autopin"},
                                {"w", "write"}, {"f", "first"}, {"n/N", "fail"}, {"/", "find"}, {"Enter", "detail"}};
    if (a->ops) draw_footer(a, live, (int)LD_ARRAY_LEN(live));
    else draw_footer(a, off, (int)LD_ARRAY_LEN(off));
}

/* ---- keys ---- */

static bool node_matches(const tui_node *n, const char *pat) {
    if (!pat[0]) return false;
    bool glob = strpbrk(pat, "*?[") != NULL;
    const char *cands[3] = {n->name, n->op, n->nout ? n->outs[0].name : NULL};
    for (int k = 0; k < 3 + (n->nout > 1 ? n->nout - 1 : 0); k++) {
        const char *s = k < 3 ? cands[k] : n->outs[k - 2].name;
        if (!s) continue;
        if (glob ? fnmatch(pat, s, FNM_CASEFOLD) == 0 : strcasestr(s, pat) != NULL) return true;
    }
    return false;
}

static int search_from;   /* cursor row when the search started */

/* First row matching from row `from` (inclusive), wrapping; -1 if none. */
static int find_row(const tui_app *a, const char *pat, int from) {
    for (int k = 0; k < a->nrows; k++) {
        int r = (from + k) % a->nrows;
        if (node_matches(&a->rep->nodes[a->rows[r]], pat)) return r;
    }
    return -1;
}

static void search_changed(tui_app *a, const char *text) {
    int r = find_row(a, text, search_from);
    if (r >= 0) { a->cur = r; keep_visible(a, true); }
    else a->cur = search_from;
}

static void do_search(tui_app *a) {
    char buf[256] = "";
    search_from = a->cur;
    if (!tui_prompt(a, "/", buf, sizeof buf, search_changed)) {
        a->cur = search_from;
        keep_visible(a, false);
        return;
    }
    if (!buf[0]) {   /* repeat the last search from the next row */
        if (!a->search[0]) return;
        snprintf(buf, sizeof buf, "%s", a->search);
        search_from = a->nrows ? (a->cur + 1) % a->nrows : 0;
    }
    snprintf(a->search, sizeof a->search, "%s", buf);
    int r = find_row(a, buf, search_from);
    if (r >= 0) {
        if (r < search_from && search_from != a->cur) tui_message(a, TUI_R_NORMAL, "search wrapped: %s", buf);
        a->cur = r;
        keep_visible(a, true);
        return;
    }
    a->cur = search_from < a->nrows ? search_from : a->cur;
    bool hidden = false;
    for (int i = 0; i < a->rep->nnodes && !hidden; i++) hidden = node_matches(&a->rep->nodes[i], buf);
    tui_message(a, TUI_R_ERR, hidden ? "'%s' matches only nodes hidden by the filter (Esc clears it)" : "not found: %s", buf);
}

static void do_goto_index(tui_app *a) {
    char buf[32] = "";
    if (!tui_prompt(a, "node index: ", buf, sizeof buf, NULL) || !buf[0]) return;
    char *end;
    long v = strtol(buf, &end, 10);
    for (int i = 0; !*end && i < a->rep->nnodes; i++)
        if (a->rep->nodes[i].index == v) { tui_list_goto(a, i); return; }
    tui_message(a, TUI_R_ERR, "no node #%s in the report", buf);
}

static int cmp_str(const void *x, const void *y) { return strcmp(*(char *const *)x, *(char *const *)y); }

static void do_op_filter(tui_app *a) {
    const tui_report *r = a->rep;
    char **ops = ld_calloc((size_t)r->nnodes + 1, sizeof(char *));
    char **items = ld_calloc((size_t)r->nnodes + 2, sizeof(char *));
    int nops = 0, sel = 0;
    if (!ops || !items) { free(ops); free(items); return; }
    for (int i = 0; i < r->nnodes; i++) ops[nops++] = r->nodes[i].op;
    qsort(ops, (size_t)nops, sizeof(char *), cmp_str);
    int nitems = 0;
    char buf[256];
    snprintf(buf, sizeof buf, "(all ops: %d nodes)", r->nnodes);
    items[nitems++] = ld_strdup(buf);
    for (int i = 0; i < nops;) {
        int j = i;
        while (j < nops && !strcmp(ops[j], ops[i])) j++;
        snprintf(buf, sizeof buf, "%s (%d)", ops[i], j - i);
        if (a->op_filter && !strcmp(a->op_filter, ops[i])) sel = nitems;
        items[nitems++] = ld_strdup(buf);
        i = j;
    }
    int k = tui_menu(a, "filter by op type", (const char *const *)items, nitems, sel);
    if (k >= 0) {
        free(a->op_filter);
        a->op_filter = NULL;
        if (k > 0 && items[k]) {
            char *sp = strrchr(items[k], ' ');
            a->op_filter = ld_strndup(items[k], sp ? (size_t)(sp - items[k]) : strlen(items[k]));
        }
        tui_list_rebuild(a);
    }
    for (int i = 0; i < nitems; i++) free(items[i]);
    free(items);
    free(ops);
}

static void jump_failing(tui_app *a, int dir) {
    for (int k = 1; k <= a->nrows; k++) {
        int r = ((a->cur + dir * k) % a->nrows + a->nrows) % a->nrows;
        if (tui_node_severity(a->rep, &a->rep->nodes[a->rows[r]]) >= TUI_SEV_PROP) {
            bool wrapped = dir > 0 ? r <= a->cur : r >= a->cur;
            a->cur = r;
            keep_visible(a, true);
            if (wrapped) tui_message(a, TUI_R_NORMAL, "wrapped to the %s failing node", dir > 0 ? "first" : "last");
            return;
        }
    }
    tui_message(a, TUI_R_OK, "no failing node%s", a->op_filter || a->failing_only ? " in this view" : "");
}

static void jump_first(tui_app *a) {
    const tui_report *r = a->rep;
    int pos = cur_pos(a), f = r->first_iso >= 0 ? r->first_iso : r->first_prop;
    if (f < 0) { tui_message(a, TUI_R_OK, "no divergent node: everything is within tolerance"); return; }
    if (pos == r->first_iso && r->first_prop >= 0 && r->first_prop != r->first_iso) f = r->first_prop;
    tui_list_goto(a, f);
    tui_message(a, TUI_R_NORMAL, "first divergent node (%s)%s", f == r->first_iso ? "isolated" : "propagated",
                r->first_prop >= 0 && r->first_prop != r->first_iso ? "; f again for the other" : "");
}

static void toggle_pin(tui_app *a) {
    int pos = cur_pos(a);
    if (!a->ops) { tui_message(a, TUI_R_ERR, "read-only: pins need live mode (layerdiff browse MODEL --target T)"); return; }
    if (pos < 0 || !a->pins) return;
    if (tui_quant_toggle(a, pos)) return;   /* QDQ: a quantized row toggles its quantizers */
    a->pins[pos] = !a->pins[pos];
    tui_message(a, TUI_R_NORMAL, "%s #%d %s; r re-runs the comparison", a->pins[pos] ? "pin" : "unpin",
                a->rep->nodes[pos].index, a->rep->nodes[pos].name);
}

static void live_action(tui_app *a, void (*fn)(tui_app *)) {
    if (!a->ops || !fn) { tui_message(a, TUI_R_ERR, "read-only report: live mode is layerdiff browse MODEL --target T"); return; }
    fn(a);
}

static void list_key(tui_app *a, int ch) {
    int h = list_rows(a), pos;
    switch (ch) {
    case 'j': case KEY_DOWN: a->cur++; break;
    case 'k': case KEY_UP: a->cur--; break;
    case KEY_NPAGE: case 6: a->cur += h; a->top += h; break;
    case KEY_PPAGE: case 2: a->cur -= h; a->top -= h; break;
    case 'g': case KEY_HOME: a->cur = 0; break;
    case 'G': case KEY_END: a->cur = a->nrows - 1; break;
    case 'f': jump_first(a); return;
    case 'n': jump_failing(a, 1); return;
    case 'N': jump_failing(a, -1); return;
    case '/': do_search(a); return;
    case ':': case '#': do_goto_index(a); return;
    case 'o': do_op_filter(a); return;
    case 'F': a->failing_only = !a->failing_only; tui_list_rebuild(a); return;
    case 27:
        if (a->op_filter || a->failing_only) { free(a->op_filter); a->op_filter = NULL; a->failing_only = false; tui_list_rebuild(a); }
        return;
    case 's':
        a->sort = (tui_sort)((a->sort + 1) % TUI_SORT_COUNT);
        tui_list_rebuild(a);
        if (a->sort) tui_message(a, TUI_R_NORMAL, "sort: %s (failing nodes first, then worst %s first)", sort_names[a->sort], tui_metric_label(a->metric));
        else tui_message(a, TUI_R_NORMAL, "sort: topological");
        return;
    case 'm': case 'M':
        a->metric = (tui_metric)((a->metric + (ch == 'm' ? 1 : TUI_M_COUNT - 1)) % TUI_M_COUNT);
        if (a->sort != TUI_SORT_TOPO) tui_list_rebuild(a);
        return;
    case '\n': case '\r': case KEY_ENTER: case 'l': case KEY_RIGHT:
        pos = cur_pos(a);
        if (pos >= 0) tui_detail_open(a, pos);
        return;
    case ' ': toggle_pin(a); return;
    case 'r': live_action(a, a->ops ? a->ops->rerun : NULL); return;
    case 'a': live_action(a, a->ops ? a->ops->autopin : NULL); return;
    case 'w': live_action(a, a->ops ? a->ops->write : NULL); return;
    case '?': case KEY_F(1): tui_push(a, &tui_view_help); return;
    case 'q': a->quit = true; return;
    default: return;
    }
    keep_visible(a, false);
}

const tui_view tui_view_list = {"list", list_draw, list_key};
