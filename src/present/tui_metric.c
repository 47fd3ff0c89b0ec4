/*
** tui_metric.c — the metrics the browser and the plot can show per node (SQNR, max rel, ...),
** how "worse" compares across nodes, compact number formatting for narrow columns, and the
** severity of a node (what colours its row).
*/
#include "tui_model.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

static const struct { const char *label, *key; } metrics[TUI_M_COUNT] = {
    [TUI_M_SQNR] = {"SQNR dB", "sqnr"},     [TUI_M_MAXREL] = {"max rel", "maxrel"},
    [TUI_M_MAXABS] = {"max abs", "maxabs"}, [TUI_M_MEANABS] = {"mean abs", "meanabs"},
    [TUI_M_COSINE] = {"cosine", "cosine"},  [TUI_M_MAXULP] = {"max ulp", "maxulp"},
    [TUI_M_NMSE] = {"NMSE", "nmse"},
};

const char *tui_metric_label(tui_metric m) { return metrics[m].label; }
const char *tui_metric_key(tui_metric m) { return metrics[m].key; }

ld_status tui_metric_parse(const char *s, tui_metric *out) {
    for (int i = 0; i < TUI_M_COUNT; i++)
        if (!strcmp(s, metrics[i].key)) { *out = (tui_metric)i; return LD_OK; }
    return ld_error(LD_ERR_USAGE, "unknown metric '%s' (sqnr, maxrel, maxabs, meanabs, cosine, maxulp, nmse)", s);
}

double tui_metric_value(const tui_err *e, tui_metric m) {
    if (!e || !e->present) return NAN;
    switch (m) {
    case TUI_M_SQNR: return e->sqnr_db;
    case TUI_M_MAXREL: return e->max_rel;
    case TUI_M_MAXABS: return e->max_abs;
    case TUI_M_MEANABS: return e->mean_abs;
    case TUI_M_COSINE: return e->cosine;
    case TUI_M_MAXULP: return e->max_ulp;
    case TUI_M_NMSE: return e->nmse;
    default: return NAN;
    }
}

double tui_metric_badness(tui_metric m, double v) {
    if (isnan(v)) return NAN;
    switch (m) {
    case TUI_M_SQNR: return -v;
    case TUI_M_COSINE: return 1 - v <= 0 ? -INFINITY : log10(1 - v);
    default: return v <= 0 ? -INFINITY : log10(v);
    }
}

/* "1.5e-05" -> "1.5e-5", "2e+07" -> "2e7" */
static void compact_exp(char *s) {
    char *e = strchr(s, 'e');
    if (!e) return;
    char *d = e + 1, *src = e + 1;
    if (*src == '+') src++;
    else if (*src == '-') { *d++ = '-'; src++; }
    while (*src == '0' && src[1]) src++;
    memmove(d, src, strlen(src) + 1);
}

/* Copy at most width characters of s. */
static void put_clipped(char *buf, int width, const char *s) {
    size_t l = strlen(s);
    if (width < 0) width = 0;
    if (l > (size_t)width) l = (size_t)width;
    memcpy(buf, s, l);
    buf[l] = 0;
}

void tui_num_format(double v, char *buf, int width) {
    char t[64];
    if (isnan(v)) { put_clipped(buf, width, "-"); return; }
    if (isinf(v)) { put_clipped(buf, width, v > 0 ? "inf" : "-inf"); return; }
    for (int p = 3; p >= 1; p--) {
        snprintf(t, sizeof t, "%.*g", p, v);
        compact_exp(t);
        if ((int)strlen(t) <= width) break;
    }
    put_clipped(buf, width, t);
}

void tui_metric_format(tui_metric m, double v, char *buf, int width) {
    char t[64];
    if (isnan(v)) snprintf(t, sizeof t, "-");
    else if (m == TUI_M_SQNR) {
        if (isinf(v) && v > 0) snprintf(t, sizeof t, "exact");
        else {
            snprintf(t, sizeof t, "%.1f", v);
            if ((int)strlen(t) > width) snprintf(t, sizeof t, "%.0f", v);
        }
    } else if (m == TUI_M_COSINE) {
        if (v == 1) snprintf(t, sizeof t, "1");
        else snprintf(t, sizeof t, "%.*f", width > 3 ? width - 2 : 1, v);
    } else {
        tui_num_format(v, t, width < 63 ? width : 63);
    }
    put_clipped(buf, width, t);
}

const char *tui_flags_str(unsigned f, char *buf, size_t n) {
    snprintf(buf, n, "%s%s%s%s%s%s", f & LD_FLAG_NAN ? "N" : "", f & LD_FLAG_INF ? "I" : "",
             f & LD_FLAG_OVERFLOW ? "O" : "", f & LD_FLAG_UNDERFLOW ? "U" : "",
             f & LD_FLAG_SATURATION ? "S" : "", f & LD_FLAG_SUBNORMAL ? "s" : "");
    return buf;
}

tui_sev tui_node_severity(const tui_report *r, const tui_node *n) {
    tui_sev s = TUI_SEV_NONE;
    for (int k = 0; k < n->nout; k++) {
        const tui_tensor *t = &n->outs[k];
        if (!t->measured) continue;
        tui_sev v = TUI_SEV_OK;
        unsigned warn = LD_FLAG_NAN | LD_FLAG_INF | LD_FLAG_OVERFLOW | LD_FLAG_UNDERFLOW | LD_FLAG_SATURATION;
        double near = isnan(r->min_sqnr) ? -INFINITY : r->min_sqnr + 6;
        if ((t->flags & warn) || (t->iso.present && t->iso.sqnr_db < near) || (t->prop.present && t->prop.sqnr_db < near))
            v = TUI_SEV_WARN;
        if (t->prop.present && !t->prop.pass) v = TUI_SEV_PROP;
        if (t->iso.present && !t->iso.pass) v = TUI_SEV_ISO;
        if (v > s) s = v;
    }
    return s;
}

const tui_tensor *tui_node_main(const tui_report *r, int i) {
    if (i < 0 || i >= r->nnodes || !r->nodes[i].nout) return NULL;
    return &r->nodes[i].outs[r->nodes[i].main_out];
}

const char *tui_shape_str(const tui_tensor *t, char *buf, size_t n) {
    size_t w = 0;
    if (n < 3) { if (n) buf[0] = 0; return buf; }
    buf[w++] = '[';
    for (int d = 0; d < t->ndim && w + 1 < n; d++) {
        int k = snprintf(buf + w, n - w, "%s%lld", d ? "," : "", (long long)t->dims[d]);
        if (k < 0 || (size_t)k >= n - w) { w = n - 1; break; }
        w += (size_t)k;
    }
    if (w + 1 < n) buf[w++] = ']';
    buf[w] = 0;
    return buf;
}
