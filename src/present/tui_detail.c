/*
** tui_detail.c — the detail view of one node: inputs with their producers and consumers (links
** to follow with Tab and Enter), outputs with shapes, FP32 and target statistics side by side,
** every metric isolated vs propagated, text histograms of the reference values and of the
** errors, and the worst error per channel. The text is laid out for the terminal width on
** every draw and scrolls.
*/
#include "tui.h"

#include <curses.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct dline { char *text; tui_role role; int link; } dline;

static dline *lines;
static int nlines, cap_lines;
static int links[1024], nlinks;

static void clear_lines(void) {
    for (int i = 0; i < nlines; i++) free(lines[i].text);
    nlines = 0;
    nlinks = 0;
}

static void addl(tui_role role, int link, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void addl(tui_role role, int link, const char *fmt, ...) {
    if (nlines == cap_lines) {
        int nc = cap_lines ? cap_lines * 2 : 256;
        dline *nl = realloc(lines, (size_t)nc * sizeof *nl);
        if (!nl) return;
        lines = nl;
        cap_lines = nc;
    }
    char buf[2048];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    char *t = ld_strdup(buf);
    if (!t) return;
    if (link >= 0 && nlinks < (int)LD_ARRAY_LEN(links)) links[nlinks++] = nlines;
    lines[nlines++] = (dline){t, role, link};
}

/* Up to 7 significant digits: the statistics and metrics columns compare close values. */
static const char *num(double v, char *buf) {
    if (isnan(v)) return strcpy(buf, "-");
    snprintf(buf, 32, "%.7g", v);
    return buf;
}

/* A long text (a failure reason) wrapped at the terminal width, continuation lines indented. */
static void add_wrapped(const tui_app *a, tui_role role, const char *prefix, const char *text) {
    char buf[4096];
    snprintf(buf, sizeof buf, "%s%s", prefix, text ? text : "");
    int w = LD_MAX(20, a->width - 1), indent = 0;
    const char *p = buf;
    while (*p) {
        int room = w - indent, len = (int)strlen(p);
        if (len <= room) { addl(role, -1, "%*s%s", indent, "", p); break; }
        int cut = room;
        while (cut > room / 2 && p[cut] != ' ') cut--;
        if (p[cut] != ' ') cut = room;
        addl(role, -1, "%*s%.*s", indent, "", cut, p);
        p += cut;
        while (*p == ' ') p++;
        indent = 4;
    }
}

static const tui_tensor *find_output(const tui_report *r, int pos, const char *name) {
    if (pos < 0) return NULL;
    for (int k = 0; k < r->nodes[pos].nout; k++)
        if (!strcmp(r->nodes[pos].outs[k].name, name)) return &r->nodes[pos].outs[k];
    return NULL;
}

static void add_links(tui_app *a, const tui_node *n) {
    const tui_report *r = a->rep;
    char sh[128], nm[512];
    addl(TUI_R_HEAD, -1, "inputs");
    if (!n->nin) addl(TUI_R_NORMAL, -1, "  (none)");
    for (int k = 0; k < n->nin; k++) {
        int p = n->producer[k];
        const tui_tensor *t = find_output(r, p, n->inputs[k]);
        sh[0] = 0;
        if (t) tui_shape_str(t, sh, sizeof sh);
        if (!n->inputs[k][0]) addl(TUI_R_NONE, -1, "  (absent optional input)");
        else if (p >= 0) {
            addl(TUI_R_NORMAL, -1, "  %s %s", n->inputs[k], sh);
            tui_abbrev(a, r->nodes[p].name, LD_MAX(12, a->width - 30), nm, sizeof nm);
            addl(TUI_R_LINK, p, "      <- #%d %s (%s)", r->nodes[p].index, nm, r->nodes[p].op);
        } else addl(TUI_R_NONE, -1, "  %s  (graph input or weight)", n->inputs[k]);
    }
    addl(TUI_R_HEAD, -1, "outputs");
    for (int k = 0; k < n->nout; k++) {
        char fl[16];
        const tui_tensor *t = &n->outs[k];
        addl(TUI_R_NORMAL, -1, "  %s %s %s%s%s%s", t->name, tui_shape_str(t, sh, sizeof sh), t->dtype ? t->dtype : "",
             t->measured ? "" : "  (not measured: not a float tensor)", t->flags & 0x3f ? "  flags " : "",
             tui_flags_str(t->flags, fl, sizeof fl));
    }
    addl(TUI_R_HEAD, -1, "consumers");
    if (!n->ncons) addl(TUI_R_NONE, -1, "  (none: a graph output)");
    for (int k = 0; k < n->ncons; k++) {
        const tui_node *c = &r->nodes[n->consumers[k]];
        tui_abbrev(a, c->name, LD_MAX(12, a->width - 24), nm, sizeof nm);
        addl(TUI_R_LINK, n->consumers[k], "  -> #%d %s (%s)", c->index, nm, c->op);
    }
}

static void add_stats(const tui_report *r, const tui_tensor *t) {
    char a[32], b[32];
    const tui_stats *x = &t->ref, *y = &t->tgt;
    addl(TUI_R_HEAD, -1, "%-18s %16s %16s", "statistics", "FP32 reference", r->target ? r->target : "target");
    static const struct { const char *name; size_t off; } f[] = {
        {"min", offsetof(tui_stats, min)}, {"max", offsetof(tui_stats, max)}, {"mean", offsetof(tui_stats, mean)},
        {"std", offsetof(tui_stats, std)}, {"absmax", offsetof(tui_stats, absmax)}, {"count", offsetof(tui_stats, count)},
        {"NaN", offsetof(tui_stats, nan)}, {"Inf", offsetof(tui_stats, inf)},
    };
    for (size_t i = 0; i < LD_ARRAY_LEN(f); i++) {
        double u = x->present ? *(const double *)((const char *)x + f[i].off) : NAN;
        double v = y->present ? *(const double *)((const char *)y + f[i].off) : NAN;
        bool worse = (i >= 6 && v > u) || (i == 4 && isfinite(u) && !isfinite(v));
        addl(worse ? TUI_R_ISO : TUI_R_NORMAL, -1, "  %-16s %16s %16s", f[i].name, num(u, a), num(v, b));
    }
}

static void add_metrics(const tui_report *r, const tui_tensor *t) {
    char a[32], b[32];
    const tui_err *I = &t->iso, *P = &t->prop;
    addl(TUI_R_HEAD, -1, "%-18s %16s %16s", "metric", "isolated", "propagated");
    addl(I->present && !I->pass ? TUI_R_ISO : P->present && !P->pass ? TUI_R_PROP : TUI_R_OK, -1, "  %-16s %16s %16s",
         "result", !I->present ? "-" : I->pass ? "pass" : "FAIL", !P->present ? "-" : P->pass ? "pass" : "FAIL");
    tui_metric_format(TUI_M_SQNR, I->present ? I->sqnr_db : NAN, a, 16);
    tui_metric_format(TUI_M_SQNR, P->present ? P->sqnr_db : NAN, b, 16);
    addl(TUI_R_NORMAL, -1, "  %-16s %16s %16s", "SQNR dB", a, b);
    snprintf(a, sizeof a, "%.8f", I->cosine);
    snprintf(b, sizeof b, "%.8f", P->cosine);
    addl(TUI_R_NORMAL, -1, "  %-16s %16s %16s", "cosine", I->present && !isnan(I->cosine) ? a : "-",
         P->present && !isnan(P->cosine) ? b : "-");
    static const struct { const char *name; size_t off; } f[] = {
        {"max abs", offsetof(tui_err, max_abs)},   {"mean abs", offsetof(tui_err, mean_abs)},
        {"median abs", offsetof(tui_err, median_abs)}, {"p99 abs", offsetof(tui_err, p99_abs)},
        {"max rel", offsetof(tui_err, max_rel)},   {"mean rel", offsetof(tui_err, mean_rel)},
        {"median rel", offsetof(tui_err, median_rel)}, {"p99 rel", offsetof(tui_err, p99_rel)},
        {"RMSE", offsetof(tui_err, rmse)},         {"NMSE", offsetof(tui_err, nmse)},
        {"max ulp", offsetof(tui_err, max_ulp)},   {"elements", offsetof(tui_err, count)},
        {"new NaN", offsetof(tui_err, new_nan)},   {"new Inf", offsetof(tui_err, new_inf)},
        {"overflow", offsetof(tui_err, overflow)}, {"underflow", offsetof(tui_err, underflow)},
        {"subnormal", offsetof(tui_err, subnormal)}, {"saturated", offsetof(tui_err, saturated)},
        {"atol/rtol fails", offsetof(tui_err, elem_fail)}, {"exact (0 error)", offsetof(tui_err, zero_abs)},
    };
    for (size_t i = 0; i < LD_ARRAY_LEN(f); i++) {
        double u = I->present ? *(const double *)((const char *)I + f[i].off) : NAN;
        double v = P->present ? *(const double *)((const char *)P + f[i].off) : NAN;
        bool alarm = i >= 12 && i <= 15 && ((u > 0) || (v > 0));
        addl(alarm ? TUI_R_WARN : TUI_R_NORMAL, -1, "  %-16s %16s %16s", f[i].name, num(u, a), num(v, b));
    }
    (void)r;
}

/* One bar of `w` columns for count c of max m. */
static void bar(const tui_app *a, char *out, size_t n, double c, double m, int w) {
    int k = m > 0 && c > 0 ? LD_MAX(1, (int)(c / m * w + 0.5)) : 0;
    size_t o = 0;
    const char *g = tui_glyph(a, 8);
    for (int i = 0; i < w; i++) {
        const char *s = i < k ? g : " ";
        size_t l = strlen(s);
        if (o + l + 1 >= n) break;
        memcpy(out + o, s, l);
        o += l;
    }
    out[o] = 0;
}

static void add_value_hist(const tui_app *a, const tui_tensor *t) {
    const tui_stats *s = &t->ref;
    if (!s->present || s->nhist < 4 || !isfinite(s->hlo) || !isfinite(s->hhi)) return;
    int rows = 16, per = (s->nhist + rows - 1) / rows;
    double m = 0, cnt[TUI_HIST_BINS] = {0};
    for (int i = 0; i < s->nhist; i++) cnt[i / per] += s->hist[i];
    rows = (s->nhist + per - 1) / per;
    for (int i = 0; i < rows; i++) m = LD_MAX(m, cnt[i]);
    addl(TUI_R_HEAD, -1, "reference values (FP32), histogram");
    int bw = LD_MAX(8, a->width - 34);
    char b[4096], lo[32], hi[32], c[32];
    for (int i = 0; i < rows; i++) {
        double x0 = s->hlo + (s->hhi - s->hlo) * i * per / s->nhist, x1 = s->hlo + (s->hhi - s->hlo) * (i + 1) * per / s->nhist;
        bar(a, b, sizeof b, cnt[i], m, bw);
        tui_num_format(x0, lo, 9);
        tui_num_format(x1, hi, 9);
        tui_num_format(cnt[i], c, 8);
        addl(TUI_R_NORMAL, -1, "  %9s..%-9s %8s %s", lo, hi, c, b);
    }
}

static void add_err_hist(const tui_app *a, const tui_tensor *t) {
    const tui_err *e[2] = {&t->iso, &t->prop};
    int lo = 1000, hi = -1000;
    for (int s = 0; s < 2; s++)
        for (int i = 0; e[s]->present && i < e[s]->nhist; i++) {
            int o = (int)floor(e[s]->hist_edge[i]);
            lo = LD_MIN(lo, o);
            hi = LD_MAX(hi, o);
        }
    if (hi < lo) return;
    int per = 1;
    while ((hi - lo) / per + 1 > 20) per++;
    int rows = (hi - lo) / per + 1;
    double cnt[2][64] = {{0}}, m = 0;
    for (int s = 0; s < 2; s++) {
        for (int i = 0; e[s]->present && i < e[s]->nhist; i++)
            cnt[s][((int)floor(e[s]->hist_edge[i]) - lo) / per] += e[s]->hist_count[i];
        for (int r = 0; r < rows; r++) m = LD_MAX(m, cnt[s][r]);
        if (e[s]->present && e[s]->zero_abs > m) m = e[s]->zero_abs;
    }
    int bw = LD_MAX(4, (a->width - 30) / 2);
    addl(TUI_R_HEAD, -1, "|error| histogram   %-*s %-*s", bw + 9, "isolated", bw, "propagated");
    char b0[4096], b1[4096], c0[32], c1[32], edge[48];
    for (int r = rows - 1; r >= -1; r--) {
        double u = r >= 0 ? cnt[0][r] : e[0]->present ? e[0]->zero_abs : 0;
        double v = r >= 0 ? cnt[1][r] : e[1]->present ? e[1]->zero_abs : 0;
        if (r < 0 && !(u > 0) && !(v > 0)) break;
        bar(a, b0, sizeof b0, u, m, bw);
        bar(a, b1, sizeof b1, v, m, bw);
        tui_num_format(u, c0, 7);
        tui_num_format(v, c1, 7);
        if (r >= 0) {
            char x[32];
            tui_num_format(ldexp(1.0, lo + r * per), x, 8);
            snprintf(edge, sizeof edge, ">=%s", x);
        } else snprintf(edge, sizeof edge, "0 (exact)");
        addl(TUI_R_NORMAL, -1, "  %-10s %7s %s %7s %s", edge, c0, b0, c1, b1);
    }
}

static void add_channels(const tui_app *a, const tui_tensor *t) {
    const tui_err *e[2] = {&t->iso, &t->prop};
    int nch = LD_MAX(t->iso.present ? t->iso.nch : 0, t->prop.present ? t->prop.nch : 0);
    if (nch < 2) return;
    addl(TUI_R_HEAD, -1, "worst |error| per channel (axis 1, %d channels)", nch);
    for (int s = 0; s < 2; s++) {
        if (!e[s]->present || !e[s]->nch) continue;
        /* sparkline over the channels, log scale */
        double lo = INFINITY, hi = -INFINITY;
        for (int c = 0; c < e[s]->nch; c++)
            if (e[s]->ch_max[c] > 0) { lo = LD_MIN(lo, log10(e[s]->ch_max[c])); hi = LD_MAX(hi, log10(e[s]->ch_max[c])); }
        int w = LD_MIN(e[s]->nch, a->width - 14);
        char sp[4096] = "";
        size_t o = 0;
        for (int c = 0; c < w; c++) {
            int b0 = (int)((long long)c * e[s]->nch / w), b1 = (int)((long long)(c + 1) * e[s]->nch / w);
            double v = 0;
            for (int k = b0; k < b1; k++) v = LD_MAX(v, e[s]->ch_max[k]);
            int lev = v > 0 ? (hi > lo ? 1 + (int)(7.999 * (log10(v) - lo) / (hi - lo)) : 8) : 0;
            const char *g = tui_glyph(a, lev);
            if (o + strlen(g) + 1 < sizeof sp) { strcpy(sp + o, g); o += strlen(g); }
        }
        addl(TUI_R_NORMAL, -1, "  %-10s %s", s ? "propagated" : "isolated", sp);
        /* the five worst */
        int top[5], ntop = 0;
        for (int c = 0; c < e[s]->nch; c++) {
            bool full = ntop == 5;   /* top[4] is set only once five channels are in */
            int k = full ? 4 : ntop++;
            if (full && e[s]->ch_max[c] <= e[s]->ch_max[top[4]]) continue;
            top[k] = c;
            for (; k > 0 && e[s]->ch_max[top[k]] > e[s]->ch_max[top[k - 1]]; k--) { int x = top[k]; top[k] = top[k - 1]; top[k - 1] = x; }
        }
        char line[512], v[32];
        int w2 = snprintf(line, sizeof line, "  %-10s worst:", "");
        for (int k = 0; k < ntop && w2 < (int)sizeof line - 40; k++) {
            char item[64];
            tui_num_format(e[s]->ch_max[top[k]], v, 8);
            int l = snprintf(item, sizeof item, "%s ch %d %s", k ? "," : "", top[k], v);
            if (w2 + l >= a->width) break;
            w2 += snprintf(line + w2, sizeof line - w2, "%s", item);
        }
        addl(TUI_R_NORMAL, -1, "%s", line);
    }
}

/* QDQ: the quantizers of the node (its own, or those feeding it) with their facts. */
static void add_quant(tui_app *a) {
    int qs[64], nq = a->rep->nquant ? tui_row_quants(a->rep, a->det_node, qs, 64) : 0;
    if (!nq) return;
    addl(TUI_R_TITLE, -1, " quantizers (Space disables/enables them, r re-runs)");
    for (int k = 0; k < nq; k++) {
        char ql[4][256];
        int nl = tui_quant_lines(a, qs[k], ql, 4);
        for (int j = 0; j < nl; j++) addl(j ? TUI_R_NORMAL : a->rep->quant[qs[k]].disabled ? TUI_R_OK : TUI_R_HEAD, -1, "%s", ql[j]);
    }
    addl(TUI_R_NORMAL, -1, "%s", "");
}

static void build(tui_app *a) {
    clear_lines();
    const tui_report *r = a->rep;
    const tui_node *n = &r->nodes[a->det_node];
    char mark = tui_pin_mark(a, a->det_node);
    int qs[64], nq = r->nquant ? tui_row_quants(r, a->det_node, qs, 64) : 0, off = 0;
    for (int k = 0; k < nq; k++) off += r->quant[qs[k]].disabled;
    if (nq)   /* QDQ: the row's pin is its quantizers' state */
        addl(TUI_R_NORMAL, -1, "op %s   quantizers %d, disabled %d%s", n->op, nq, off, mark == '~' ? " (changing at the next re-run)" : "");
    else
        addl(TUI_R_NORMAL, -1, "op %s%s%s   quantized %s   pinned %s", n->op, n->domain ? "  domain " : "", n->domain ? n->domain : "",
             n->quantized ? "yes" : "no",
             mark == '*' ? "yes (FP32)" : mark == '+' ? "no (pinned at the next re-run)" : mark == '-' ? "yes (unpinned at the next re-run)" : "no");
    if (a->det_node == r->first_iso) addl(TUI_R_ISO, -1, "first divergent node (isolated): the error starts here");
    else if (a->det_node == r->first_prop) addl(TUI_R_PROP, -1, "first divergent node (propagated)");
    for (int k = 0; k < n->nout; k++) {
        const tui_tensor *t = &n->outs[k];
        if (t->iso.present && !t->iso.pass) add_wrapped(a, TUI_R_ISO, "FAIL isolated: ", t->iso.reason);
        if (t->prop.present && !t->prop.pass) add_wrapped(a, TUI_R_PROP, "FAIL propagated: ", t->prop.reason);
    }
    addl(TUI_R_NORMAL, -1, "%s", "");
    add_quant(a);
    add_links(a, n);
    for (int k = 0; k < n->nout; k++) {
        const tui_tensor *t = &n->outs[k];
        if (!t->measured) continue;
        char sh[128];
        addl(TUI_R_NORMAL, -1, "%s", "");
        if (n->nout > 1) addl(TUI_R_TITLE, -1, " output %d: %s %s", k, t->name, tui_shape_str(t, sh, sizeof sh));
        add_stats(r, t);
        add_metrics(r, t);
        add_value_hist(a, t);
        add_err_hist(a, t);
        add_channels(a, t);
    }
}

void tui_detail_reset(void) {
    clear_lines();
    free(lines);
    lines = NULL;
    cap_lines = 0;
}

void tui_detail_open(tui_app *a, int pos) {
    if (pos < 0 || pos >= a->rep->nnodes) return;
    a->det_node = pos;
    a->det_scroll = 0;
    a->det_link = -1;
    a->nhistory = 0;
    if (a->stack[a->depth - 1] != &tui_view_detail) tui_push(a, &tui_view_detail);
}

static void detail_draw(tui_app *a) {
    if (a->det_node >= a->rep->nnodes) a->det_node = 0;
    build(a);
    const tui_node *n = &a->rep->nodes[a->det_node];
    tui_sev sev = tui_node_severity(a->rep, n);
    char title[1024];
    snprintf(title, sizeof title, " #%d %s (%s)%s", n->index, n->name, n->op,
             sev == TUI_SEV_ISO ? "  FAIL isolated" : sev == TUI_SEV_PROP ? "  FAIL propagated" : "");
    attrset(tui_attr(a, TUI_R_TITLE));
    tui_put(a, 0, 0, a->width, title, true);
    int body = a->height - 2;
    if (a->det_scroll > nlines - body) a->det_scroll = nlines - body;
    if (a->det_scroll < 0) a->det_scroll = 0;
    int sel_line = a->det_link >= 0 && a->det_link < nlinks ? links[a->det_link] : -1;
    for (int i = 0; i < body && a->det_scroll + i < nlines; i++) {
        const dline *l = &lines[a->det_scroll + i];
        int attr = tui_attr(a, l->role);
        if (a->det_scroll + i == sel_line) attr |= tui_attr(a, TUI_R_SEL);
        attrset(attr);
        tui_put(a, 1 + i, 0, a->width, l->text, a->det_scroll + i == sel_line);
    }
    attrset(A_NORMAL);
    char foot[256];
    if (a->msg[0]) {
        attrset(tui_attr(a, a->msg_role));
        tui_put(a, a->height - 1, 0, a->width, a->msg, true);
    } else {
        snprintf(foot, sizeof foot, " q back  Tab link  Enter follow  Bksp previous  [ ] prev/next node%s  %d%%",
                 a->ops ? "  Spc pin" : "", nlines > body ? (a->det_scroll + body) * 100 / nlines : 100);
        attrset(tui_attr(a, TUI_R_TITLE));
        tui_put(a, a->height - 1, 0, a->width, foot, true);
    }
    attrset(A_NORMAL);
}

static void show_node(tui_app *a, int pos, bool remember) {
    if (pos < 0 || pos >= a->rep->nnodes) return;
    if (remember) {
        if (a->nhistory == TUI_HISTORY) { memmove(a->history, a->history + 1, sizeof(int) * (TUI_HISTORY - 1)); a->nhistory--; }
        a->history[a->nhistory++] = a->det_node;
    }
    a->det_node = pos;
    a->det_scroll = 0;
    a->det_link = -1;
    for (int r = 0; r < a->nrows; r++)   /* keep the list's cursor in step */
        if (a->rows[r] == pos) { a->cur = r; break; }
}

static void detail_key(tui_app *a, int ch) {
    int body = a->height - 2;
    switch (ch) {
    case 'j': case KEY_DOWN: a->det_scroll++; break;
    case 'k': case KEY_UP: a->det_scroll--; break;
    case KEY_NPAGE: case 6: a->det_scroll += body - 1; break;
    case KEY_PPAGE: case 2: a->det_scroll -= body - 1; break;
    case 'g': case KEY_HOME: a->det_scroll = 0; break;
    case 'G': case KEY_END: a->det_scroll = nlines; break;
    case '\t': case KEY_BTAB:
        if (!nlinks) { tui_message(a, TUI_R_NORMAL, "no producer or consumer to go to"); break; }
        a->det_link = ch == '\t' ? (a->det_link + 1) % nlinks : (a->det_link <= 0 ? nlinks - 1 : a->det_link - 1);
        if (links[a->det_link] < a->det_scroll || links[a->det_link] >= a->det_scroll + body)
            a->det_scroll = links[a->det_link] - body / 2;
        break;
    case '\n': case '\r': case KEY_ENTER:
        if (a->det_link >= 0 && a->det_link < nlinks) show_node(a, lines[links[a->det_link]].link, true);
        else tui_message(a, TUI_R_NORMAL, "Tab selects an input producer or a consumer, Enter goes there");
        break;
    case KEY_BACKSPACE: case 127: case 8: case 'h': case KEY_LEFT:
        if (a->nhistory > 0) show_node(a, a->history[--a->nhistory], false);
        else tui_pop(a);
        break;
    case '[': case ']':
        for (int r = 0; r < a->nrows; r++)
            if (a->rows[r] == a->det_node) {
                int to = r + (ch == ']' ? 1 : -1);
                if (to >= 0 && to < a->nrows) show_node(a, a->rows[to], true);
                break;
            }
        break;
    case 'f': {
        int f = a->rep->first_iso >= 0 ? a->rep->first_iso : a->rep->first_prop;
        if (f >= 0) show_node(a, f, true);
        else tui_message(a, TUI_R_OK, "no divergent node");
        break;
    }
    case ' ':
        if (!a->ops || !a->pins) { tui_message(a, TUI_R_ERR, "read-only: pins need live mode (layerdiff browse MODEL --target T)"); break; }
        if (tui_quant_toggle(a, a->det_node)) { build(a); break; }
        a->pins[a->det_node] = !a->pins[a->det_node];
        tui_message(a, TUI_R_NORMAL, "%s #%d; r re-runs the comparison", a->pins[a->det_node] ? "pin" : "unpin", a->rep->nodes[a->det_node].index);
        break;
    case 'r': case 'a': case 'w':
        if (!a->ops) { tui_message(a, TUI_R_ERR, "read-only report: live mode is layerdiff browse MODEL --target T"); break; }
        (ch == 'r' ? a->ops->rerun : ch == 'a' ? a->ops->autopin : a->ops->write)(a);
        break;
    case '?': case KEY_F(1): tui_push(a, &tui_view_help); break;
    case 'q': case 27: a->nhistory = 0; tui_pop(a); break;
    default: break;
    }
}

const tui_view tui_view_detail = {"detail", detail_draw, detail_key};
