/*
** tui_qdq.c — the browser on a QDQ model (--target qdq): which rows are quantized by which
** quantizer (the Q column), the quantizer facts of the detail view, and toggling quantizers.
** A quantizer is disabled by pinning its DequantizeLinear node (as compare --pin does), so the
** wanted state per quantizer (tui_app.qpins) becomes pins at the next re-run; the DQ nodes of
** folded weights are not rows of the list and are reached through their consumer's row.
*/
#include "tui.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void tui_qpins_reset(tui_app *a) {
    free(a->qpins);
    a->qpins = NULL;
    if (!a->rep || !a->rep->nquant) return;
    a->qpins = ld_calloc((size_t)a->rep->nquant, sizeof(bool));
    for (int q = 0; a->qpins && q < a->rep->nquant; q++) a->qpins[q] = a->rep->quant[q].disabled;
}

int tui_row_quants(const tui_report *r, int pos, int *out, int max) {
    const tui_node *n = &r->nodes[pos];
    int cnt = 0;
    if (n->quant >= 0) { out[0] = n->quant; return 1; }
    for (int q = 0; q < r->nquant; q++)   /* a QuantizeLinear row: its activation quantizer */
        if (!strcmp(r->quant[q].name, n->name) && r->quant[q].dq_pos >= 0) { out[0] = q; return 1; }
    for (int q = 0; q < r->nquant && cnt < max; q++)
        if (tui_quant_feeds(r, q, pos)) out[cnt++] = q;
    return cnt;
}

/* Q column: Q every quantizer of the row enabled, q some disabled, . all disabled (wanted state). */
char tui_quant_col(const tui_app *a, int pos) {
    int qs[64], nq = a->rep->nquant ? tui_row_quants(a->rep, pos, qs, 64) : 0, off = 0;
    if (!nq) return ' ';
    for (int k = 0; k < nq; k++) off += a->qpins ? a->qpins[qs[k]] : a->rep->quant[qs[k]].disabled;
    return off == 0 ? 'Q' : off == nq ? '.' : 'q';
}

/* The pin mark of a quantized row: '*' a quantizer of it is disabled, '~' a change is wanted. */
bool tui_quant_mark(const tui_app *a, int pos, char *mark) {
    int qs[64], nq = a->rep->nquant ? tui_row_quants(a->rep, pos, qs, 64) : 0;
    if (!nq) return false;
    bool was = false, changed = false;
    for (int k = 0; k < nq; k++) {
        bool d = a->rep->quant[qs[k]].disabled;
        was |= d;
        changed |= a->qpins && a->qpins[qs[k]] != d;
    }
    *mark = changed ? '~' : was ? '*' : ' ';
    return true;
}

bool tui_quant_toggle(tui_app *a, int pos) {
    const tui_report *r = a->rep;
    int qs[64], nq = r->nquant && a->qpins ? tui_row_quants(r, pos, qs, 64) : 0;
    if (!nq) return false;
    bool any_on = false;
    for (int k = 0; k < nq; k++) any_on |= !a->qpins[qs[k]];
    for (int k = 0; k < nq; k++) {
        a->qpins[qs[k]] = any_on;
        int dp = r->quant[qs[k]].dq_pos;
        if (dp >= 0 && a->pins) a->pins[dp] = any_on;   /* the DQ row's pin is the quantizer's */
    }
    tui_message(a, TUI_R_NORMAL, "%s quantizer %s%s; r re-runs the comparison", any_on ? "disable" : "enable",
                r->quant[qs[0]].name, nq > 1 ? nq == 2 ? " and 1 more" : " and more" : "");
    return true;
}

static const char *qnum(double v, char *buf) {
    if (isnan(v)) return strcpy(buf, "-");
    snprintf(buf, 32, "%.4g", v);
    return buf;
}

int tui_quant_lines(const tui_app *a, int q, char lines[][256], int max) {
    const tui_quant *u = &a->rep->quant[q];
    char b[8][32];
    int n = 0;
    bool want = a->qpins ? a->qpins[q] : u->disabled;
    if (n < max)
        snprintf(lines[n++], 256, "%s %s quantizer %s (%s)%s", want ? "." : "Q", u->kind, u->name, u->dtype ? u->dtype : "?",
                 u->disabled == want ? (u->disabled ? ": disabled" : ": enabled")
                                     : (want ? ": disabled at the next re-run" : ": enabled at the next re-run"));
    if (n < max) {
        char ax[64];
        if (!isnan(u->block_size)) snprintf(ax, sizeof ax, "axis %s, block size %s", qnum(u->axis, b[6]), qnum(u->block_size, b[7]));
        else if (!isnan(u->axis)) snprintf(ax, sizeof ax, "per channel, axis %s", qnum(u->axis, b[6]));
        else snprintf(ax, sizeof ax, "per tensor");
        snprintf(lines[n++], 256, "    scale %s..%s (%s, %s zero), zero point %s, %s", qnum(u->scale_min, b[0]),
                 qnum(u->scale_max, b[1]), qnum(u->scale_count, b[2]), qnum(u->scale_zeros, b[3]), qnum(u->zero_point, b[4]), ax);
    }
    if (n < max) {
        if (isnan(u->clip_pct)) snprintf(lines[n++], 256, "    clip %% -, zero %% - (not measured: a weight without its float original)");
        else snprintf(lines[n++], 256, "    clip %s%%, zero %s%%, input range [%s, %s]", qnum(u->clip_pct, b[0]), qnum(u->zero_pct, b[1]),
                      qnum(u->in_min, b[2]), qnum(u->in_max, b[3]));
    }
    return n;
}
