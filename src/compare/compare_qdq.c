/*
** compare_qdq.c — the comparison pass on an explicitly quantized model (--target qdq; the
** QDQ plan is ld_qdq.h). The target side runs the model as written; on the reference side
** every activation QuantizeLinear -> DequantizeLinear pair is an identity and quantized
** weights are their float originals when known. The DequantizeLinear of a pair is measured as
** the quantizer (reference: its input; isolated: DQ(Q(reference)); target: as written) and
** its isolated output is what its consumers' isolated runs read, so a quantized node's
** isolated error is the error its own quantizers cause. A pinned DequantizeLinear is a
** disabled quantizer: the target side reads the float value.
*/
#include "compare_state.h"

#include <assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static ld_tensor *copy_of(const ld_tensor *t, ld_status *st) {
    ld_tensor *r = calloc(1, sizeof *r);
    if (!r) { *st = ld_oom(); return NULL; }
    *st = ld_tensor_copy(r, t);
    if (*st != LD_OK) { ld_tensor_free(r); return NULL; }
    return r;
}

static bool pinned(const ld_compare *c, int i) {
    return c->opts.policy.pinned && c->opts.policy.pinned[i];
}

/* DQ node i on executor ex's values (outputs: out[0] allocated here). */
static ld_status run_dq(ld_exec *ex, const ld_node *n, ld_tensor **out) {
    ld_tensor *in[3] = {NULL, NULL, NULL};
    for (int k = 0; k < n->nin && k < 3; k++) in[k] = n->in[k] >= 0 ? ld_exec_value(ex, n->in[k]) : NULL;
    if (!in[0]) return ld_error(LD_ERR_INTERNAL, "input of '%s' is not available", n->name);
    *out = calloc(1, sizeof **out);
    if (!*out) return ld_oom();
    ld_status st = ld_node_run(ex, n, in, out);
    if (st != LD_OK) { ld_tensor_free(*out); *out = NULL; }
    return st;
}

/* Target value of the pair's output: as written, or its float input when pinned off. */
static ld_status target_dq(cmp_state *s, int i, const ld_qdq_pair *p, ld_tensor **tout) {
    const ld_node *n = &s->c->model->graph->nodes[i];
    if (!pinned(s->c, i) || (p->weight && !p->float_w)) return run_dq(&s->tx, n, tout);
    const ld_tensor *x = p->weight ? p->float_w : ld_exec_value(&s->tx, p->src);
    if (!x) return ld_error(LD_ERR_INTERNAL, "input of quantizer '%s' is not available", n->name);
    ld_status st;
    *tout = copy_of(x, &st);
    return st;
}

ld_status cmp_qdq_node(cmp_state *s, int i, int pair) {
    ld_compare *c = s->c;
    const ld_graph *g = c->model->graph;
    const ld_node *n = &g->nodes[i];
    const ld_qdq_pair *p = &c->opts.qdq->pairs[pair];
    int v = n->out[0];
    assert(v >= 0 && (p->weight || p->src >= 0));
    /* a weight DequantizeLinear runs here only when too big to fold at load */
    const ld_tensor *xr = p->weight ? p->float_w : ld_exec_value(&s->rx, p->src);
    if (p->weight && !xr) {   /* no float original: dequantized on both sides */
        ld_tensor *r = NULL, *t = NULL;
        ld_status st = run_dq(&s->rx, n, &r);
        if (st == LD_OK) st = run_dq(&s->tx, n, &t);
        if (st != LD_OK) { ld_tensor_free(r); ld_tensor_free(t); return st; }
        cmp_measure(c, &c->nodes[i].outs[0], r, r, t, LD_TARGET_FP32, NULL, NULL);
        ld_exec_put(&s->rx, v, r, true);
        ld_exec_put(&s->tx, v, t, true);
        s->fmt[v] = LD_TARGET_FP32;
        ld_exec_free_dead(&s->tx, i, NULL);
        ld_exec_free_dead(&s->rx, i, &s->tx);
        return LD_OK;
    }
    if (!xr) return ld_error(LD_ERR_INTERNAL, "input '%s' of quantizer '%s' is not available", g->values[p->src].name, n->name);
    ld_status st;
    ld_tensor *rout = copy_of(xr, &st), *iout = NULL, *tout = NULL;
    if (st == LD_OK) st = run_dq(&s->rx, n, &iout);
    if (st == LD_OK) st = target_dq(s, i, p, &tout);
    if (st != LD_OK) { ld_tensor_free(rout); ld_tensor_free(iout); ld_tensor_free(tout); return st; }
    if (!p->weight) ld_qdq_measure(&c->quant[pair], xr, ld_exec_value(&s->rx, n->in[0]), iout);
    /* a disabled quantizer is an identity on the isolated side too (its statistics stay) */
    bool off = pinned(c, i);
    cmp_measure(c, &c->nodes[i].outs[0], rout, off ? rout : iout, tout, LD_TARGET_FP32, NULL, NULL);
    ld_exec_put(&s->rx, v, rout, true);
    ld_exec_put(&s->tx, v, tout, true);
    s->fmt[v] = LD_TARGET_FP32;
    ld_tensor_free(s->qiso[v]);
    s->qiso[v] = off ? NULL : iout;
    if (off) ld_tensor_free(iout);
    ld_exec_free_dead(&s->tx, i, NULL);
    ld_exec_free_dead(&s->rx, i, &s->tx);
    cmp_qdq_release(s, i);
    return LD_OK;
}

ld_status cmp_qdq_target_node(cmp_state *s, int i, int pair) {
    ld_tensor *tout = NULL;
    LD_TRY(target_dq(s, i, &s->c->opts.qdq->pairs[pair], &tout));
    int v = s->c->model->graph->nodes[i].out[0];
    ld_exec_put(&s->tx, v, tout, true);
    s->fmt[v] = LD_TARGET_FP32;
    return LD_OK;
}

void cmp_qdq_iso_inputs(cmp_state *s, int i, ld_tensor **iin) {
    const ld_qdq *q = s->c->opts.qdq;
    const ld_node *n = &s->c->model->graph->nodes[i];
    for (int k = 0; q && k < n->nin; k++) {
        int v = n->in[k];
        if (v < 0) continue;
        int p = q->of_value[v];
        if (p >= 0 && s->qiso[v] && !pinned(s->c, q->pairs[p].dq)) iin[k] = s->qiso[v];
    }
}

void cmp_qdq_const(cmp_state *s, int v, ld_tensor **use) {
    const ld_qdq *q = s->c->opts.qdq;
    int p = q ? q->of_value[v] : -1;
    if (p >= 0 && q->pairs[p].weight && q->pairs[p].float_w && pinned(s->c, q->pairs[p].dq))
        *use = q->pairs[p].float_w;
}

void cmp_qdq_open(cmp_state *s) {
    const ld_qdq *q = s->c->opts.qdq;
    for (int k = 0; q && k < q->npairs; k++)
        if (q->pairs[k].weight && q->pairs[k].float_w && s->c->model->graph->values[q->pairs[k].out].const_val)
            ld_exec_put(&s->rx, q->pairs[k].out, q->pairs[k].float_w, false);
}

void cmp_qdq_release(cmp_state *s, int i) {
    const ld_node *n = &s->c->model->graph->nodes[i];
    for (int k = 0; s->qiso && k < n->nin; k++) {
        int v = n->in[k];
        if (v >= 0 && s->qiso[v] && !ld_exec_value(&s->rx, v)) { ld_tensor_free(s->qiso[v]); s->qiso[v] = NULL; }
    }
}

/* Prefix the reason of first divergent node fd with its worst quantizer's account. */
static void reason_for(ld_compare *c, ld_first_div *fd) {
    if (fd->node < 0) return;
    const ld_graph *g = c->model->graph;
    const ld_node *n = &g->nodes[fd->node];
    const ld_qdq *q = c->opts.qdq;
    const ld_qdq_pair *worst = NULL;
    double wscore = -1;
    for (int k = 0; k < n->nin; k++) {
        int p = n->in[k] >= 0 ? q->of_value[n->in[k]] : -1;
        if (p < 0 || pinned(c, q->pairs[p].dq)) continue;
        const ld_qdq_pair *qp = &c->quant[p];
        double score = qp->total ? (double)qp->clipped / qp->total + 1e-3 * qp->zeroed / (qp->nonzero + 1) : 0;
        if (score > wscore) { wscore = score; worst = qp; }
    }
    char why[384];
    if (!worst) return;
    ld_qdq_reason(worst, g, why, sizeof why);
    if (!why[0]) return;
    char old[sizeof fd->reason];
    snprintf(old, sizeof old, "%s", fd->reason);
    snprintf(fd->reason, sizeof fd->reason, "%.300s; %.200s", why, old);
}

void cmp_qdq_reasons(ld_compare *c) {
    if (!c->opts.qdq || !c->quant) return;
    reason_for(c, &c->first_iso);
    reason_for(c, &c->first_prop);
}
