/*
** plot_svg.c — the SVG plot of a report: one x position per node in topological order, the
** chosen metric of its headline output for the isolated and the propagated comparison (SQNR
** on a linear dB axis, the other metrics on a log axis: max rel, max abs, 1 - cosine, ...),
** the tolerance as a dashed line, the first divergent node(s) as a labelled vertical line,
** pinned nodes as shaded bands and failing points in red. Plain SVG 1.1 with no scripts or
** external resources; every point carries a <title> tooltip for browsers.
*/
#include "plot_svg.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define C_ISO "#1f77b4"
#define C_PROP "#ff7f0e"
#define C_FAIL "#d62728"
#define C_FIRST "#b2182b"
#define C_TOL "#2ca02c"
#define C_PIN "#e3e3e3"
#define C_GRID "#ececec"

/* XML text: escaped, control characters and bytes that are not UTF-8 become '?'. */
static void xml(FILE *f, const char *s) {
    const unsigned char *p = (const unsigned char *)(s ? s : "");
    while (*p) {
        if (*p == '&') fputs("&amp;", f);
        else if (*p == '<') fputs("&lt;", f);
        else if (*p == '>') fputs("&gt;", f);
        else if (*p == '"') fputs("&quot;", f);
        else if (*p < 0x20) fputc(*p == '\n' || *p == '\t' ? *p : '?', f);
        else if (*p < 0x80) fputc(*p, f);
        else {
            int len = *p >= 0xF0 && *p < 0xF8 ? 4 : *p >= 0xE0 ? 3 : *p >= 0xC2 && *p < 0xE0 ? 2 : 0;
            bool ok = len > 0;
            for (int k = 1; ok && k < len; k++) ok = (p[k] & 0xC0) == 0x80;
            if (ok) { fwrite(p, 1, (size_t)len, f); p += len; continue; }
            fputc('?', f);
        }
        p++;
    }
}

typedef struct axis {
    bool log;              /* values are log10 of the metric */
    bool up_is_bad;        /* log error metrics: higher is worse */
    double lo, hi;         /* in axis units */
} axis;

/* The plotted value: SQNR in dB; log10 of the error (1 - cosine for cosine). +-INFINITY:
 * no error (drawn on the edge); NAN: not measured. */
static double plot_value(tui_metric m, double v) {
    if (isnan(v)) return NAN;
    if (m == TUI_M_SQNR) return v;
    if (m == TUI_M_COSINE) v = 1 - v;
    return v > 0 ? log10(v) : -INFINITY;
}

static double tolerance(const tui_report *r, tui_metric m) {
    switch (m) {
    case TUI_M_SQNR: return r->min_sqnr;
    case TUI_M_COSINE: return plot_value(m, r->min_cosine);
    case TUI_M_MAXREL: return plot_value(m, r->rtol);
    case TUI_M_MAXABS: return plot_value(m, r->atol);
    default: return NAN;
    }
}

static double value_at(const tui_report *r, int i, bool iso, tui_metric m) {
    const tui_tensor *t = tui_node_main(r, i);
    if (!t || !t->measured) return NAN;
    return plot_value(m, tui_metric_value(iso ? &t->iso : &t->prop, m));
}

static void nice_ticks(double lo, double hi, double *step) {
    double span = hi - lo, raw = span / 6, mag = pow(10, floor(log10(raw))), r = raw / mag;
    *step = (r < 1.5 ? 1 : r < 3 ? 2 : r < 7 ? 5 : 10) * mag;
}

static void axis_range(const tui_report *r, tui_metric m, axis *ax) {
    double lo = INFINITY, hi = -INFINITY;
    for (int i = 0; i < r->nnodes; i++)
        for (int s = 0; s < 2; s++) {
            double v = value_at(r, i, s == 0, m);
            if (isfinite(v)) { lo = LD_MIN(lo, v); hi = LD_MAX(hi, v); }
        }
    double tol = tolerance(r, m);
    if (isfinite(tol)) { lo = LD_MIN(lo, tol); hi = LD_MAX(hi, tol); }
    ax->log = m != TUI_M_SQNR;
    ax->up_is_bad = ax->log;
    if (!isfinite(lo)) { lo = ax->log ? -8 : 0; hi = ax->log ? 0 : 100; }
    if (ax->log) { lo = floor(lo); hi = ceil(hi); if (hi - lo < 1) hi = lo + 1; }
    else {
        double pad = LD_MAX(1.0, (hi - lo) * 0.06), step;
        lo -= pad;
        hi += pad;
        nice_ticks(lo, hi, &step);
        lo = floor(lo / step) * step;
        hi = ceil(hi / step) * step;
    }
    ax->lo = lo;
    ax->hi = hi;
}

/* x: the node's graph index (folded constants leave gaps), so ticks fall on round indices */
typedef struct frame { double x0, y0, w, h; int n, imin, imax; axis ax; const tui_report *r; } frame;

static double px_index(const frame *F, double idx) { return F->x0 + (idx - F->imin + 0.5) * F->w / (F->imax - F->imin + 1); }
static double px(const frame *F, int pos) { return px_index(F, F->r->nodes[pos].index); }
static double slot(const frame *F) { return F->w / (F->imax - F->imin + 1); }
static double py(const frame *F, double v) {
    if (v == INFINITY) v = F->ax.hi;
    if (v == -INFINITY) v = F->ax.lo;
    v = LD_MAX(F->ax.lo, LD_MIN(F->ax.hi, v));
    return F->y0 + F->h - (v - F->ax.lo) / (F->ax.hi - F->ax.lo) * F->h;
}

static void fmt_tick(const axis *ax, double v, char *buf, size_t n) {
    if (!ax->log) snprintf(buf, n, "%g", fabs(v) < 1e-9 ? 0 : v);
    else if (v >= -3 && v <= 3) snprintf(buf, n, "%g", pow(10, v));
    else snprintf(buf, n, "1e%d", (int)v);
}

static void draw_axes(FILE *f, const frame *F, const tui_report *r, const char *ylabel) {
    const axis *ax = &F->ax;
    char b[64];
    double step = 1;
    if (!ax->log) nice_ticks(ax->lo, ax->hi, &step);
    else step = ax->hi - ax->lo > 12 ? 2 : 1;
    fprintf(f, "<g font-size=\"11\" fill=\"#333\">\n");
    for (double v = ax->lo; v <= ax->hi + step * 1e-6; v += step) {
        double y = py(F, v);
        fprintf(f, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"%s\"/>\n", F->x0, y, F->x0 + F->w, y, C_GRID);
        fmt_tick(ax, v, b, sizeof b);
        fprintf(f, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"end\">%s</text>\n", F->x0 - 6, y + 4, b);
    }
    /* x ticks: node names when there are few nodes, else round node indices */
    int n = F->n;
    bool names = n <= 48;
    double xstep = 1;
    if (!names) {
        nice_ticks(F->imin, F->imax, &xstep);
        xstep = LD_MAX(1.0, round(xstep));
    }
    int nt = names ? n : (int)((F->imax - F->imin) / xstep) + 1;
    for (int t = 0; t < nt; t++) {
        int i = t;
        double idx = names ? r->nodes[t].index : ceil(F->imin / xstep) * xstep + t * xstep;
        if (!names && idx > F->imax) break;
        double x = px_index(F, idx), y = F->y0 + F->h;
        fprintf(f, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#333\"/>\n", x, y, x, y + 4);
        if (names) {
            char nm[40];
            const char *s = r->nodes[i].name;
            size_t l = strlen(s);
            snprintf(nm, sizeof nm, "%s%s", l > 28 ? "..." : "", l > 28 ? s + l - 25 : s);
            fprintf(f, "<text transform=\"translate(%.1f,%.1f) rotate(-40)\" text-anchor=\"end\" font-size=\"9\">", x + 3, y + 12);
            xml(f, nm);
            fprintf(f, "</text>\n");
        } else {
            fprintf(f, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\">%.0f</text>\n", x, y + 16, idx);
        }
    }
    fprintf(f, "</g>\n<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" fill=\"none\" stroke=\"#333\"/>\n", F->x0, F->y0, F->w, F->h);
    fprintf(f, "<text transform=\"translate(%.1f,%.1f) rotate(-90)\" text-anchor=\"middle\" font-size=\"13\">", F->x0 - 52, F->y0 + F->h / 2);
    xml(f, ylabel);
    fprintf(f, "</text>\n");
    if (!names)
        fprintf(f, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\" font-size=\"13\">node (topological index)</text>\n",
                F->x0 + F->w / 2, F->y0 + F->h + 36);
}

static void draw_series(FILE *f, const frame *F, const tui_report *r, bool iso, tui_metric m) {
    const char *color = iso ? C_ISO : C_PROP;
    fprintf(f, "<path fill=\"none\" stroke=\"%s\" stroke-width=\"1.6\" stroke-linejoin=\"round\" d=\"", color);
    bool pen = false;
    for (int i = 0; i < r->nnodes; i++) {
        double v = value_at(r, i, iso, m);
        if (!isfinite(v)) { pen = false; continue; }   /* gaps: not measured, or exact (marked on the edge) */
        fprintf(f, "%c%.1f %.1f ", pen ? 'L' : 'M', px(F, i), py(F, v));
        pen = true;
    }
    fprintf(f, "\"/>\n");
    double rad = r->nnodes > 400 ? 1.2 : r->nnodes > 100 ? 2 : 3;
    for (int i = 0; i < r->nnodes; i++) {
        double v = value_at(r, i, iso, m);
        if (isnan(v)) continue;
        const tui_tensor *t = tui_node_main(r, i);
        const tui_err *e = iso ? &t->iso : &t->prop;
        bool fail = e->present && !e->pass;
        char val[64];
        tui_metric_format(m, tui_metric_value(e, m), val, 20);
        if (isinf(v)) {   /* no error: a small triangle on the edge of the plot */
            double x = px(F, i), y = py(F, v), d = rad + 1.5, dir = y <= F->y0 + 1 ? 1 : -1;
            fprintf(f, "<path d=\"M%.1f %.1fL%.1f %.1fL%.1f %.1fZ\" fill=\"white\" stroke=\"%s\"><title>#%d ", x - d,
                    y + dir * 2 * d, x + d, y + dir * 2 * d, x, y, color, r->nodes[i].index);
        } else
        fprintf(f, "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"%.1f\" fill=\"%s\" stroke=\"%s\"><title>#%d ", px(F, i), py(F, v),
                fail ? rad + 1 : rad, fail ? (iso ? C_FAIL : "white") : color, fail ? C_FAIL : color, r->nodes[i].index);
        xml(f, r->nodes[i].name);
        fprintf(f, " (");
        xml(f, r->nodes[i].op);
        fprintf(f, ")\n%s %s: %s%s", iso ? "isolated" : "propagated", tui_metric_label(m), val, fail ? " FAIL: " : "");
        if (fail) xml(f, e->reason);
        fprintf(f, isinf(v) ? "</title></path>\n" : "</title></circle>\n");
    }
}

static void draw_first(FILE *f, const frame *F, const tui_report *r, int pos, const char *what, int row) {
    const tui_node *n = &r->nodes[pos];
    double x = px(F, pos);
    fprintf(f, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"%s\" stroke-width=\"1.5\" stroke-dasharray=\"6 3\"/>\n",
            x, F->y0, x, F->y0 + F->h, C_FIRST);
    bool right = x < F->x0 + F->w * 0.6;
    fprintf(f, "<text x=\"%.1f\" y=\"%.1f\" font-size=\"12\" font-weight=\"bold\" fill=\"%s\" text-anchor=\"%s\" "
               "stroke=\"white\" stroke-width=\"3\" paint-order=\"stroke\">%s: #%d ",
            x + (right ? 5 : -5), F->y0 + 14 + 15 * row, C_FIRST, right ? "start" : "end", what, n->index);
    xml(f, n->name);
    fprintf(f, " (");
    xml(f, n->op);
    fprintf(f, ")</text>\n");
}

typedef struct litem { const char *kind, *color, *text; } litem;

/* One row above the plot, so it never hides data. */
static void legend(FILE *f, const frame *F, bool tol, bool pins, const char *tol_text, bool up, bool exact) {
    litem items[7];
    int n = 0;
    items[n++] = (litem){"line", C_ISO, "isolated (node alone, FP32 inputs)"};
    items[n++] = (litem){"line", C_PROP, "propagated (whole model)"};
    items[n++] = (litem){"dot", C_FAIL, "failing"};
    if (exact) items[n++] = (litem){"tri", "#555", "exact (no error)"};
    if (tol) items[n++] = (litem){"dash", C_TOL, tol_text};
    if (pins) items[n++] = (litem){"band", C_PIN, "pinned to FP32"};
    items[n++] = (litem){"vdash", C_FIRST, "first divergent"};
    double x = F->x0, yy = F->y0 - 12;
    fprintf(f, "<g font-size=\"11\">\n");
    for (int i = 0; i < n; i++) {
        const char *k = items[i].kind;
        if (!strcmp(k, "line")) fprintf(f, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"%s\" stroke-width=\"2\"/>\n", x, yy - 4, x + 22, yy - 4, items[i].color);
        else if (!strcmp(k, "dot")) fprintf(f, "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"4\" fill=\"%s\"/><circle cx=\"%.1f\" cy=\"%.1f\" r=\"4\" fill=\"white\" stroke=\"%s\"/>\n", x + 5, yy - 4, items[i].color, x + 17, yy - 4, items[i].color);
        else if (!strcmp(k, "tri")) fprintf(f, "<path d=\"M%.1f %.1fL%.1f %.1fL%.1f %.1fZ\" fill=\"white\" stroke=\"%s\"/>\n", x + 6,
                                            up ? yy + 1 : yy - 9, x + 16, up ? yy + 1 : yy - 9, x + 11, up ? yy - 9 : yy + 1, items[i].color);
        else if (!strcmp(k, "dash")) fprintf(f, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"%s\" stroke-width=\"1.5\" stroke-dasharray=\"5 3\"/>\n", x, yy - 4, x + 22, yy - 4, items[i].color);
        else if (!strcmp(k, "band")) fprintf(f, "<rect x=\"%.1f\" y=\"%.1f\" width=\"22\" height=\"11\" fill=\"%s\" stroke=\"#bbb\"/>\n", x, yy - 10, items[i].color);
        else fprintf(f, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"%s\" stroke-width=\"1.5\" stroke-dasharray=\"4 2\"/>\n", x + 11, yy - 11, x + 11, yy + 2, items[i].color);
        fprintf(f, "<text x=\"%.1f\" y=\"%.1f\">", x + 27, yy);
        xml(f, items[i].text);
        fprintf(f, "</text>\n");
        x += 27 + 6.3 * strlen(items[i].text) + 18;   /* about 6.3 px per character at 11 px */
    }
    fprintf(f, "</g>\n");
}

ld_status plot_svg_write(FILE *f, const tui_report *r, const plot_opts *o) {
    if (r->nnodes == 0) return ld_error(LD_ERR_DATA, "%s: the report has no nodes to plot", r->source);
    tui_metric m = o->metric;
    int W = o->width > 0 ? o->width : 1200, H = o->height > 0 ? o->height : 560;
    bool names = r->nnodes <= 48;
    frame F = {.x0 = 84, .y0 = 92, .w = W - 84 - 24, .h = H - 92 - (names ? 150 : 60), .n = r->nnodes, .r = r};
    F.imin = F.imax = r->nodes[0].index;
    for (int i = 0; i < r->nnodes; i++) { F.imin = LD_MIN(F.imin, r->nodes[i].index); F.imax = LD_MAX(F.imax, r->nodes[i].index); }
    axis_range(r, m, &F.ax);
    char ylabel[128];
    if (m == TUI_M_SQNR) snprintf(ylabel, sizeof ylabel, "SQNR (dB, higher is better)");
    else if (m == TUI_M_COSINE) snprintf(ylabel, sizeof ylabel, "1 - cosine similarity (log, lower is better)");
    else snprintf(ylabel, sizeof ylabel, "%s error (log, lower is better)", tui_metric_label(m));

    fprintf(f, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    fprintf(f, "<svg xmlns=\"http://www.w3.org/2000/svg\" version=\"1.1\" width=\"%d\" height=\"%d\" viewBox=\"0 0 %d %d\" "
               "font-family=\"DejaVu Sans, Helvetica, Arial, sans-serif\">\n", W, H, W, H);
    fprintf(f, "<title>layerdiff: ");
    xml(f, r->model_path ? r->model_path : r->source);
    fprintf(f, " (%s)</title>\n<rect width=\"%d\" height=\"%d\" fill=\"white\"/>\n", r->target ? r->target : "?", W, H);
    /* title and summary */
    fprintf(f, "<text x=\"%.1f\" y=\"28\" font-size=\"17\" font-weight=\"bold\">", F.x0);
    xml(f, r->model_path ? r->model_path : r->source);
    fprintf(f, ": %s vs FP32, %s per node</text>\n", r->target ? r->target : "?", tui_metric_label(m));
    int npinned = 0;
    for (int i = 0; i < r->nnodes; i++) npinned += r->nodes[i].pinned;
    char tol_text[96] = "";
    double tol = tolerance(r, m);
    if (isfinite(tol)) {
        if (m == TUI_M_SQNR) snprintf(tol_text, sizeof tol_text, "tolerance: SQNR >= %g dB", r->min_sqnr);
        else if (m == TUI_M_COSINE) snprintf(tol_text, sizeof tol_text, "tolerance: cosine >= %g", r->min_cosine);
        else snprintf(tol_text, sizeof tol_text, "tolerance: %s <= %g", tui_metric_label(m), pow(10, tol));
    }
    fprintf(f, "<text x=\"%.1f\" y=\"50\" font-size=\"12\" fill=\"#444\">%d nodes, %.0f sample%s, %d failing tensor%s, %d pinned%s%s%s</text>\n",
            F.x0, r->nnodes, isnan(r->samples) ? 0 : r->samples, r->samples == 1 ? "" : "s", r->failing,
            r->failing == 1 ? "" : "s", npinned, tol_text[0] ? "; " : "", tol_text, r->passed ? "; within tolerance" : "");
    /* pinned bands under everything */
    for (int i = 0; i < r->nnodes; i++)
        if (r->nodes[i].pinned)
            fprintf(f, "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.2f\" height=\"%.1f\" fill=\"%s\"><title>#%d pinned to FP32</title></rect>\n",
                    px(&F, i) - slot(&F) / 2, F.y0, LD_MAX(1.0, slot(&F)), F.h, C_PIN, r->nodes[i].index);
    draw_axes(f, &F, r, ylabel);
    if (isfinite(tol))
        fprintf(f, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"%s\" stroke-width=\"1.5\" stroke-dasharray=\"7 4\"/>\n",
                F.x0, py(&F, tol), F.x0 + F.w, py(&F, tol), C_TOL);
    if (r->first_iso >= 0) draw_first(f, &F, r, r->first_iso, "first divergent", 0);
    if (r->first_prop >= 0 && r->first_prop != r->first_iso)
        draw_first(f, &F, r, r->first_prop, "first divergent (propagated)", r->first_iso >= 0 ? 1 : 0);
    if (r->isolated) draw_series(f, &F, r, true, m);
    draw_series(f, &F, r, false, m);
    bool exact = false;
    for (int i = 0; i < r->nnodes && !exact; i++) exact = isinf(value_at(r, i, true, m)) || isinf(value_at(r, i, false, m));
    legend(f, &F, isfinite(tol), npinned > 0, tol_text, m == TUI_M_SQNR, exact);
    fprintf(f, "<text x=\"%d\" y=\"%d\" font-size=\"10\" fill=\"#777\" text-anchor=\"end\">triangles on the %s edge: no error at all; "
               "gaps: not measured (integer and shape tensors); hover a point for its node and value</text>\n",
            W - 24, H - 8, m == TUI_M_SQNR ? "top" : "bottom");
    fprintf(f, "</svg>\n");
    return ferror(f) ? ld_error(LD_ERR_IO, "write failed") : LD_OK;
}
