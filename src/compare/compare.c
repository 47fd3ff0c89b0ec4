/*
** compare.c — the side-by-side pass (see ld_compare.h). Per node: reference FP32 output,
** isolated target output (target op on reference inputs cast to the target), propagated
** target output; both measured against the reference, then everything no later node needs
** is freed. Non-float nodes (shape arithmetic) run once and share their result.
** The values of both sides live in two executors (ld_exec.h), which own every buffer and
** free by last use; the run state is in compare_state.h. Decisions on the finished result
** are in compare_result.c, re-runs (autopin, the live browser) in incremental.c.
*/
#include "ld_compare.h"
#include "compare_state.h"
#include "body_stats.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Operand arrays live on the stack up to this many operands, on the heap beyond. */
#define ARGS_INLINE 64

/* ---- control-flow bodies in the target precision ---- */

/* Runner for the nodes of If/Loop/Scan bodies on the target side: float inputs cast to the
 * node's storage format (body initializers included), then the policy's run. A pinned body
 * node runs in FP32 on its inputs as stored; a pinned control-flow node runs its whole body in
 * FP32. */
static ld_status body_node_run(ld_exec *ex, const ld_node *n, ld_tensor **in, ld_tensor **out, void *user) {
    const ld_policy *p = user;
    if (ld_policy_body_pinned(p, n)) return ld_node_run(ex, n, in, out);   /* --pin on a body node: FP32 */
    ld_policy bp = *p;
    bp.pinned = NULL;
    ld_target f = ld_policy_storage(&bp, n);
    const ld_graph *g = ld_exec_graph(ex);
    ld_tensor tmp_buf[ARGS_INLINE], *win_buf[ARGS_INLINE];   /* on the heap beyond */
    ld_tensor *tmp = n->nin <= ARGS_INLINE ? tmp_buf : calloc(n->nin + 1, sizeof *tmp);
    ld_tensor **win = n->nin <= ARGS_INLINE ? win_buf : calloc(n->nin + 1, sizeof *win);
    if (tmp == tmp_buf) memset(tmp_buf, 0, sizeof(ld_tensor) * n->nin);
    ld_status st = (!tmp || !win) ? ld_oom() : LD_OK;
    for (int k = 0; st == LD_OK && k < n->nin; k++) {
        win[k] = in[k];
        bool q_const = ld_policy_quantizes(&bp, n) && n->in[k] >= 0 && g->values[n->in[k]].const_val;
        if (st == LD_OK && in[k] && in[k]->kind == LD_KIND_TENSOR && in[k]->dtype == LD_F32 && !q_const) {
            st = ld_policy_round_tensor(f, in[k], &tmp[k]);
            win[k] = &tmp[k];
        }
    }
    if (st == LD_OK) st = ld_policy_run_node(&bp, ex, n, win, out, NULL);
    for (int k = 0; tmp && k < n->nin; k++) ld_tensor_clear(&tmp[k]);
    if (tmp != tmp_buf) free(tmp);
    if (win != win_buf) free(win);
    return st;
}

/* ---- one node on both sides ---- */

/* Run a main-graph node with the policy; a control-flow node's body follows the target
 * precision through the executor's runner unless the node is pinned. */
static ld_status policy_node(struct cmp_state *s, ld_exec *ex, int i, ld_tensor **in, ld_tensor **out, ld_sat *sat,
                             body_run *measure) {
    const ld_compare *c = s->c;
    const ld_node *n = &c->model->graph->nodes[i];
    const ld_policy *p = &c->opts.policy;
    bool body = n->op && (n->op->flags & LD_OPF_SUBGRAPH) && p->target != LD_TARGET_FP32 &&
                !(p->pinned && p->pinned[i]);
    if (body) ld_exec_set_runner(ex, body_node_run, (void *)p);
    if (measure) {   /* the body nodes measured against the reference side's recording */
        body_run_set_target(measure, body ? body_node_run : NULL, (void *)p);
        ld_exec_set_runner(ex, body_tgt_runner, measure);
    }
    ld_status st = ld_policy_run_node(p, ex, n, in, out, sat);
    ld_exec_set_runner(ex, NULL, NULL);
    return st;
}


static bool is_f32(const ld_tensor *t) { return t && t->kind == LD_KIND_TENSOR && t->dtype == LD_F32; }

/* The node computes on floats (so target and reference can differ). */
static bool node_is_float(const ld_node *n, ld_tensor **ref_in, ld_tensor **ref_out) {
    for (int k = 0; k < n->nin; k++) if (is_f32(ref_in[k])) return true;
    for (int k = 0; k < n->nout; k++) if (is_f32(ref_out[k])) return true;
    return false;
}

/* Format the node wants its float inputs in: FP32 for pinned nodes and for the constant
 * weights of quantized nodes (quantized from FP32), else the node's storage format. */
static ld_target input_format(const ld_compare *c, const ld_node *n, int index, bool is_const) {
    const ld_policy *p = &c->opts.policy;
    if (p->target == LD_TARGET_FP32 || (p->pinned && p->pinned[index])) return LD_TARGET_FP32;
    if (is_const && ld_policy_quantizes(p, n)) return LD_TARGET_FP32;
    return ld_policy_storage(p, n);
}

/* t cast to format f: t itself when nothing changes, else a rounded copy in *tmp. */
static ld_status cast_input(ld_tensor *t, ld_target f, ld_tensor *tmp, ld_tensor **use) {
    *use = t;
    if (!is_f32(t) || f == LD_TARGET_FP32) return LD_OK;
    LD_TRY(ld_policy_round_tensor(f, t, tmp));
    *use = tmp;
    return LD_OK;
}

static ld_status const_target(cmp_state *s, int v, ld_target f, ld_tensor **use) {
    ld_tensor *cv = s->c->model->graph->values[v].const_val;
    *use = cv;
    if (!is_f32(cv) || f == LD_TARGET_FP32) return LD_OK;
    if (!s->cconst[v]) {
        ld_tensor *r = calloc(1, sizeof *r);
        if (!r) return ld_oom();
        ld_status st = ld_policy_round_tensor(f, cv, r);
        if (st != LD_OK) { ld_tensor_free(r); return st; }
        s->cconst[v] = r;
    }
    *use = s->cconst[v];
    return LD_OK;
}

/* Argument arrays of one node: three input arrays (reference, isolated, target), two arrays
 * of cast copies, three output arrays; all zeroed (no operand limit). */
typedef struct node_args {
    ld_tensor **in[3], *tmp[2], **out[3];
    ld_tensor **heap_p, *heap_t;
    ld_tensor *pbuf[6 * ARGS_INLINE], tbuf[2 * ARGS_INLINE];
} node_args;

static void args_close(node_args *a) {
    free(a->heap_p);
    free(a->heap_t);
}

static ld_status args_open(node_args *a, int nin, int nout) {
    a->heap_p = NULL;
    a->heap_t = NULL;
    ld_tensor **p = a->pbuf, *t = a->tbuf;
    int ni = ARGS_INLINE, no = ARGS_INLINE;
    if (nin > ARGS_INLINE || nout > ARGS_INLINE) {
        ni = nin + 1;
        no = nout + 1;
        p = a->heap_p = calloc(3 * (size_t)ni + 3 * (size_t)no, sizeof *p);
        t = a->heap_t = calloc(2 * (size_t)ni, sizeof *t);
        if (!p || !t) { args_close(a); return ld_oom(); }
    } else {
        memset(a->pbuf, 0, sizeof a->pbuf);
        memset(a->tbuf, 0, sizeof(ld_tensor) * nin);
        memset(a->tbuf + ARGS_INLINE, 0, sizeof(ld_tensor) * nin);
    }
    for (int k = 0; k < 3; k++) a->in[k] = p + k * ni;
    for (int k = 0; k < 3; k++) a->out[k] = p + 3 * ni + k * no;
    for (int k = 0; k < 2; k++) a->tmp[k] = t + k * ni;
    return LD_OK;
}

static void free_outs(ld_tensor **o, int n) {
    for (int k = 0; k < n; k++) { ld_tensor_free(o[k]); o[k] = NULL; }
}

static ld_status alloc_outs(const ld_node *n, ld_tensor **o) {
    for (int k = 0; k < n->nout; k++) {
        o[k] = NULL;
        if (n->out[k] < 0) continue;
        o[k] = calloc(1, sizeof(ld_tensor));
        if (!o[k]) return ld_oom();
    }
    return LD_OK;
}

/* Channel layout of a tensor for per-channel errors: (N, C, ...) with C = dims[1]. */
static void channel_layout(const ld_tensor *t, int *nch, int64_t *inner) {
    *nch = 0;
    *inner = 0;
    if (t->numel == 0) return;
    if (t->ndim >= 3 && t->dims[1] > 1 && t->dims[1] <= 65536) {
        *nch = (int)t->dims[1];
        *inner = t->numel / (t->dims[0] * t->dims[1]);
    } else if (t->ndim == 2 && t->dims[1] > 1 && t->dims[1] <= 65536) {
        *nch = (int)t->dims[1];
        *inner = 1;
    }
}

void cmp_measure(ld_compare *c, ld_tensor_result *r, const ld_tensor *ref, const ld_tensor *iso,
                    const ld_tensor *tgt, ld_target store, const ld_sat *sat_iso, const ld_sat *sat_prop) {
    if (!r->measured && !r->ref.count) {   /* first sample fixes the layout */
        r->dtype = ref->dtype;
        r->ndim = ref->ndim;
        memcpy(r->dims, ref->dims, sizeof r->dims);
        r->measured = is_f32(ref) && is_f32(tgt);
        int nch;
        int64_t inner;
        channel_layout(ref, &nch, &inner);
        ld_err_init(&r->iso, r->measured ? nch : 0);
        ld_err_init(&r->prop, r->measured ? nch : 0);
    }
    if (!r->measured || !is_f32(ref) || !is_f32(tgt) || tgt->numel != ref->numel) return;
    int nch;
    int64_t inner;
    channel_layout(ref, &nch, &inner);
    if (nch != r->iso.nch) inner = 0;
    ld_tstats_add(&r->ref, ref->data, ref->numel);
    ld_tstats_add(&r->tgt, tgt->data, tgt->numel);
    ld_err_add(&r->prop, store, &c->opts.tol, ref->data, tgt->data, ref->numel, inner);
    if (sat_prop) {
        r->prop.saturated += sat_prop->clipped;
        r->prop.sat_total += sat_prop->total;
        if (sat_prop->absmax > r->prop.sat_absmax) r->prop.sat_absmax = sat_prop->absmax;
    }
    if (iso && is_f32(iso) && iso->numel == ref->numel) {
        ld_err_add(&r->iso, store, &c->opts.tol, ref->data, iso->data, ref->numel, inner);
        if (sat_iso) {
            r->iso.saturated += sat_iso->clipped;
            r->iso.sat_total += sat_iso->total;
            if (sat_iso->absmax > r->iso.sat_absmax) r->iso.sat_absmax = sat_iso->absmax;
        }
    }
}

/* Inputs of node i on the target side: the kept target values, cast where their stored
 * format differs from the node's input format, constants from the target-constant cache.
 * Copies made go to ttmp (nin entries, zeroed by the caller, cleared by the caller). */
static ld_status target_inputs(cmp_state *s, int i, ld_tensor **tin, ld_tensor *ttmp) {
    const ld_graph *g = s->c->model->graph;
    const ld_node *n = &g->nodes[i];
    for (int k = 0; k < n->nin; k++) {
        int v = n->in[k];
        tin[k] = v >= 0 ? ld_exec_value(&s->tx, v) : NULL;
        if (v < 0) continue;
        if (!tin[k]) return ld_error(LD_ERR_INTERNAL, "target input '%s' is not available", g->values[v].name);
        bool cst = g->values[v].const_val != NULL;
        ld_target f = input_format(s->c, n, i, cst);
        if (cst) {
            LD_TRY(const_target(s, v, f, &tin[k]));
            cmp_qdq_const(s, v, &tin[k]);
        } else if (s->fmt[v] != f) LD_TRY(cast_input(tin[k], f, &ttmp[k], &tin[k]));
    }
    return LD_OK;
}

ld_status cmp_run_node(cmp_state *s, int i) {
    ld_compare *c = s->c;
    ld_graph *g = c->model->graph;
    const ld_node *n = &g->nodes[i];
    ld_node_result *nr = &c->nodes[i];
    if (nr->quantizer >= 0) return cmp_qdq_node(s, i, nr->quantizer);   /* folded weights never run */
    int nin = n->nin, nout = n->nout;
    node_args a;
    LD_TRY(args_open(&a, nin, nout));
    ld_tensor **rin = a.in[0], **iin = a.in[1], **tin = a.in[2], *itmp = a.tmp[0], *ttmp = a.tmp[1];
    ld_tensor **rout = a.out[0], **iout = a.out[1], **tout = a.out[2];
    ld_status st = LD_OK;
    for (int k = 0; st == LD_OK && k < nin; k++) {
        int v = n->in[k];
        rin[k] = v >= 0 ? ld_exec_value(&s->rx, v) : NULL;
        if (v >= 0 && !rin[k]) st = ld_error(LD_ERR_INTERNAL, "input '%s' is not available", g->values[v].name);
    }
    if (st == LD_OK) st = alloc_outs(n, rout);
    /* control flow: the body nodes are measured run by run (body_stats.c) */
    body_run *bm = NULL;
    if (st == LD_OK && n->op && (n->op->flags & LD_OPF_SUBGRAPH) && c->opts.policy.target != LD_TARGET_FP32)
        st = body_run_open(&bm, nr, g, n, c->opts.tol.min_sqnr, &c->opts.policy);
    /* isolated body errors: each body node also runs through the target side's runner on the
     * reference values of its inputs (not when the control-flow node is pinned: FP32) */
    if (bm && !(c->opts.policy.pinned && c->opts.policy.pinned[i]) && c->opts.isolated)
        body_run_set_isolated(bm, body_node_run, (void *)&c->opts.policy);
    if (bm) ld_exec_set_runner(&s->rx, body_ref_runner, bm);
    if (st == LD_OK) st = ld_node_run(&s->rx, n, rin, rout);
    ld_exec_set_runner(&s->rx, NULL, NULL);
    if (st != LD_OK) { body_run_close(bm); free_outs(rout, nout); args_close(&a); return st; }
    /* a node whose inputs differ between the two runs (an int or bool node after float
     * divergence) needs its own target run even if it computes on no floats */
    bool fl = node_is_float(n, rin, rout);
    for (int k = 0; !fl && k < nin; k++) {
        int v = n->in[k];
        fl = v >= 0 && !g->values[v].const_val && ld_exec_value(&s->tx, v) != ld_exec_value(&s->rx, v);
    }
    const ld_policy *p = &c->opts.policy;
    ld_target store = ld_policy_storage(p, n);
    if (p->pinned && p->pinned[i]) store = LD_TARGET_FP32;
    ld_sat sat_iso = {0}, sat_prop = {0};
    /* ops that commute with rounding: the isolated result is the reference output rounded */
    bool iso_short = c->opts.isolated && !ld_policy_quantizes(p, n) && ld_node_has(n, LD_OPT_ROUND_COMMUTES);
    if (fl && p->target != LD_TARGET_FP32) {
        /* isolated: reference inputs cast to the node's input format */
        for (int k = 0; k < nin && st == LD_OK; k++) {
            int v = n->in[k];
            bool cst = v >= 0 && g->values[v].const_val;
            ld_target f = input_format(c, n, i, cst);
            if (cst) st = const_target(s, v, f, &iin[k]);
            else if (c->opts.isolated && !iso_short) st = cast_input(rin[k], f, &itmp[k], &iin[k]);
            else iin[k] = rin[k];
        }
        if (c->opts.qdq) cmp_qdq_iso_inputs(s, i, iin);
        if (st == LD_OK && c->opts.isolated) st = alloc_outs(n, iout);
        if (st == LD_OK && iso_short) {
            for (int k = 0; st == LD_OK && k < nout; k++)
                if (iout[k]) st = ld_policy_round_tensor(store, rout[k], iout[k]);
        } else if (st == LD_OK && c->opts.isolated) {
            st = policy_node(s, &s->rx, i, iin, iout, &sat_iso, NULL);
        }
        /* propagated: target inputs, cast where their stored format differs */
        if (st == LD_OK) st = target_inputs(s, i, tin, ttmp);
        if (st == LD_OK) st = alloc_outs(n, tout);
        if (st == LD_OK) st = policy_node(s, &s->tx, i, tin, tout, &sat_prop, bm);
    }
    body_run_close(bm);
    for (int k = 0; k < nin; k++) { ld_tensor_clear(&itmp[k]); ld_tensor_clear(&ttmp[k]); }
    if (st != LD_OK) {
        free_outs(rout, nout); free_outs(iout, nout); free_outs(tout, nout);
        args_close(&a);
        return st;
    }
    for (int k = 0; k < nout; k++) {
        int v = n->out[k];
        if (v < 0) continue;
        ld_tensor *tv = (fl && p->target != LD_TARGET_FP32) ? tout[k] : rout[k];
        cmp_measure(c, &nr->outs[k], rout[k], fl ? (c->opts.isolated ? iout[k] : NULL) : tv, tv, store, k == 0 ? &sat_iso : NULL, k == 0 ? &sat_prop : NULL);
        ld_exec_put(&s->rx, v, rout[k], true);
        ld_exec_put(&s->tx, v, tv, tv != rout[k]);   /* non-float results are shared */
        s->fmt[v] = fl ? store : LD_TARGET_FP32;
        rout[k] = NULL;
        tout[k] = NULL;
    }
    free_outs(iout, nout);
    args_close(&a);
    /* free what no later node reads (a side in keep-all mode keeps everything): the target
     * side first; a shared value the kept target side still borrows is handed over to it */
    ld_exec_free_dead(&s->tx, i, NULL);
    ld_exec_free_dead(&s->rx, i, &s->tx);
    if (s->qiso) cmp_qdq_release(s, i);
    return LD_OK;
}

/* Target side only (autopin's re-runs): node i on the kept target values, current pins. */
ld_status cmp_run_target_node(cmp_state *s, int i) {
    ld_compare *c = s->c;
    ld_graph *g = c->model->graph;
    const ld_node *n = &g->nodes[i];
    const ld_policy *p = &c->opts.policy;
    if (c->nodes[i].quantizer >= 0) return cmp_qdq_target_node(s, i, c->nodes[i].quantizer);
    int nin = n->nin, nout = n->nout;
    node_args a;
    LD_TRY(args_open(&a, nin, nout));
    ld_tensor **tin = a.in[2], *ttmp = a.tmp[1], **tout = a.out[2];
    bool fl = false;
    ld_status st = target_inputs(s, i, tin, ttmp);
    for (int k = 0; st == LD_OK && k < nin; k++) fl |= is_f32(tin[k]);
    if (st == LD_OK) st = alloc_outs(n, tout);
    if (st == LD_OK) st = policy_node(s, &s->tx, i, tin, tout, NULL, NULL);
    for (int k = 0; k < nin; k++) ld_tensor_clear(&ttmp[k]);
    if (st != LD_OK) { free_outs(tout, nout); args_close(&a); return st; }
    for (int k = 0; k < nout; k++) fl |= is_f32(tout[k]);
    ld_target store = (p->pinned && p->pinned[i]) ? LD_TARGET_FP32 : ld_policy_storage(p, n);
    for (int k = 0; k < nout; k++) {
        int v = n->out[k];
        if (v < 0) continue;
        ld_exec_put(&s->tx, v, tout[k], true);
        s->fmt[v] = fl ? store : LD_TARGET_FP32;
    }
    args_close(&a);
    return LD_OK;
}

/* Samples in one feed: the first runtime input's leading dimension (a batch of images
 * counts as that many samples), 1 for scalars. */
int64_t ld_feed_batch(const ld_graph *g, const ld_exec *ex) {
    if (!g->ninputs) return 1;
    const ld_tensor *t = ld_exec_value(ex, g->inputs[0]);
    return t && t->kind == LD_KIND_TENSOR && t->ndim > 0 ? t->dims[0] : 1;
}

/* ---- public ---- */

ld_status ld_compare_init(ld_compare *c, ld_model *m, const ld_compare_opts *o) {
    memset(c, 0, sizeof *c);
    c->model = m;
    c->opts = *o;
    ld_graph *g = m->graph;
    c->nnodes = g->nnodes;
    c->nodes = calloc(g->nnodes + 1, sizeof *c->nodes);
    c->outputs = calloc(g->noutputs + 1, sizeof *c->outputs);
    if (!c->nodes || !c->outputs) return ld_oom();
    c->first_iso.node = c->first_prop.node = -1;
    for (int i = 0; i < g->nnodes; i++) {
        ld_node_result *nr = &c->nodes[i];
        const ld_node *n = &g->nodes[i];
        nr->index = i;
        nr->folded = n->folded;
        nr->pinned = o->policy.pinned && o->policy.pinned[i];
        nr->quantized = !nr->pinned && ld_policy_quantizes(&o->policy, n);
        nr->quantizer = o->qdq ? o->qdq->of_node[i] : -1;
        for (int k = 0; o->qdq && k < n->nin; k++)
            if (n->in[k] >= 0 && o->qdq->of_value[n->in[k]] >= 0) nr->quantized = true;
        nr->nout = n->nout;
        nr->outs = calloc(n->nout + 1, sizeof *nr->outs);
        if (!nr->outs) return ld_oom();
        for (int k = 0; k < n->nout; k++) {
            ld_tensor_result *r = &nr->outs[k];
            r->value = n->out[k];
            r->name = n->out[k] >= 0 ? g->values[n->out[k]].name : "";
            ld_tstats_init(&r->ref);
            ld_tstats_init(&r->tgt);
            r->tgt.no_hist = true;     /* only the reference's value histogram is shown */
            for (int q = 0; q < g->noutputs; q++)
                if (g->outputs[q] == n->out[k]) c->outputs[q] = r;
        }
    }
    c->noutputs = g->noutputs;
    if (o->qdq && o->qdq->npairs) {   /* per-comparison copy: statistics accumulate here */
        c->quant = malloc(sizeof *c->quant * o->qdq->npairs);
        if (!c->quant) return ld_oom();
        memcpy(c->quant, o->qdq->pairs, sizeof *c->quant * o->qdq->npairs);
        c->nquant = o->qdq->npairs;
    }
    return LD_OK;
}

ld_status cmp_append_rows(ld_tensor **acc, const ld_tensor *t) {
    if (!is_f32(t) || t->ndim != 2) return LD_OK;
    if (!*acc) {
        *acc = calloc(1, sizeof **acc);
        if (!*acc) return ld_oom();
        return ld_tensor_copy(*acc, t);
    }
    ld_tensor *a = *acc;
    if (a->dims[1] != t->dims[1]) return LD_OK;
    float *nd = realloc(a->data, (size_t)(a->numel + t->numel) * sizeof(float));
    if (!nd) return ld_oom();
    memcpy(nd + a->numel, t->data, t->numel * sizeof(float));
    a->data = nd;
    a->dims[0] += t->dims[0];
    a->numel += t->numel;
    a->nbytes = a->numel * sizeof(float);
    return LD_OK;
}

void cmp_state_free(cmp_state *s) {
    ld_graph *g = s->c->model->graph;
    if (ld_exec_graph(&s->tx) && ld_exec_graph(&s->rx)) {   /* let go of values both sides own */
        for (int v = 0; v < g->nvalues; v++)
            if (ld_exec_owns(&s->tx, v) && ld_exec_owns(&s->rx, v) && ld_exec_value(&s->tx, v) == ld_exec_value(&s->rx, v))
                (void)ld_exec_take(&s->tx, v);   /* the reference side frees it */
    }
    ld_exec_destroy(&s->tx);
    ld_exec_destroy(&s->rx);
    for (int v = 0; s->cconst && v < g->nvalues; v++) ld_tensor_free(s->cconst[v]);
    free(s->cconst);
    for (int v = 0; s->qiso && v < g->nvalues; v++) ld_tensor_free(s->qiso[v]);
    free(s->qiso);
    free(s->fmt);
    free(s);
}

ld_status cmp_state_open(ld_compare *c, const ld_feed *in, cmp_state **out) {
    ld_graph *g = c->model->graph;
    cmp_state *s = calloc(1, sizeof *s);
    if (!s) return ld_oom();
    s->c = c;
    ld_status st = ld_exec_init(&s->rx, g, NULL);
    if (st == LD_OK) st = ld_exec_init(&s->tx, g, NULL);
    if (st == LD_OK) {
        ld_exec_set_keep_all(&s->rx, c->opts.keep_ref);
        ld_exec_set_keep_all(&s->tx, c->opts.keep_tgt);
    }
    s->fmt = calloc(g->nvalues + 1, sizeof *s->fmt);
    s->cconst = calloc(g->nvalues + 1, sizeof *s->cconst);
    if (c->opts.qdq) s->qiso = calloc(g->nvalues + 1, sizeof *s->qiso);
    if (st == LD_OK && (!s->fmt || !s->cconst || (c->opts.qdq && !s->qiso))) st = ld_oom();
    if (st == LD_OK) cmp_qdq_open(s);
    for (int k = 0; st == LD_OK && k < in->n; k++) {
        st = ld_exec_set_input(&s->rx, in->items[k].name, in->items[k].t);
        if (st == LD_OK) st = ld_exec_set_input(&s->tx, in->items[k].name, in->items[k].t);
    }
    for (int k = 0; st == LD_OK && k < g->ninputs; k++)
        if (!ld_exec_value(&s->rx, g->inputs[k])) st = ld_error(LD_ERR_DATA, "missing input '%s'", g->values[g->inputs[k]].name);
    if (st != LD_OK) { cmp_state_free(s); return st; }
    *out = s;
    return LD_OK;
}

ld_status cmp_node_error(ld_status st, const ld_node *n) {
    return ld_err_prefix(st, "node '%s' (%s-%d)", n->name, n->op_type, n->op ? n->op->since : n->opset);
}

/* Full side-by-side pass over one sample, measuring into c; the state stays open. */
ld_status cmp_state_run(cmp_state *s) {
    ld_compare *c = s->c;
    ld_graph *g = c->model->graph;
    double t0 = ld_now_sec();
    ld_status st = LD_OK;
    for (int i = 0; st == LD_OK && i < g->nnodes; i++) {
        if (i % 50 == 0) {   /* before the folded check: a model whose node 0 is folded still
                              * reports; throughput of the samples finished so far */
            double secs = c->seconds + (ld_now_sec() - t0);
            char rate[48] = "";
            if (c->samples > 0 && secs > 0) snprintf(rate, sizeof rate, ", %.1f images/s", (double)c->samples / secs);
            ld_progress_step(&c->opts.progress, i, g->nnodes, "layerdiff: sample %lld: node %d/%d%s",
                             (long long)c->samples + 1, i, g->nnodes, rate);
        }
        if (g->nodes[i].folded) continue;
        st = cmp_run_node(s, i);
        if (st != LD_OK) cmp_node_error(st, &g->nodes[i]);
        /* a rounded copy of a constant goes after its last reader, a big one (an embedding
         * table tied to the output projection) after each reader: keeping every weight's copy
         * would double a large model's memory (re-runs from a later node round again) */
        for (int k = 0; k < g->nodes[i].nin; k++) {
            int v = g->nodes[i].in[k];
            if (v >= 0 && s->cconst[v] && (g->values[v].last_use == i || s->cconst[v]->nbytes > (16u << 20))) {
                ld_tensor_free(s->cconst[v]);
                s->cconst[v] = NULL;
            }
        }
    }
    ld_progress_end(&c->opts.progress);
    if (st == LD_OK && g->noutputs) {
        st = cmp_append_rows(&c->ref_out0, ld_exec_value(&s->rx, g->outputs[ld_graph_main_output(g)]));
        if (st == LD_OK) st = cmp_append_rows(&c->tgt_out0, ld_exec_value(&s->tx, g->outputs[ld_graph_main_output(g)]));
    }
    if (st == LD_OK) c->samples += ld_feed_batch(c->model->graph, &s->rx);
    c->seconds += ld_now_sec() - t0;
    return st;
}

ld_status ld_compare_add_sample(ld_compare *c, const ld_feed *in) {
    cmp_state *s;
    LD_TRY(cmp_state_open(c, in, &s));
    ld_status st = cmp_state_run(s);
    cmp_state_free(s);
    return st;
}

ld_status ld_compare_add_pair(ld_compare *c, int node, int out, const ld_tensor *ref,
                              const ld_tensor *other) {
    ld_tensor r32 = {0}, o32 = {0};
    const ld_tensor *r = ref, *o = other;
    if (ref->kind != LD_KIND_TENSOR || other->kind != LD_KIND_TENSOR) return LD_OK;
    if (!ld_dtype_is_float(ref->dtype) || !ld_dtype_is_float(other->dtype)) return LD_OK;
    if (ref->numel != other->numel)
        return ld_error(LD_ERR_DATA, "tensor '%s': %lld elements in the reference, %lld in the other result",
                        c->nodes[node].outs[out].name, (long long)ref->numel, (long long)other->numel);
    if (ref->dtype != LD_F32) { LD_TRY(ld_tensor_convert(&r32, ref, LD_F32)); r = &r32; }
    if (other->dtype != LD_F32) {
        ld_status st = ld_tensor_convert(&o32, other, LD_F32);
        if (st != LD_OK) { ld_tensor_clear(&r32); return st; }
        o = &o32;
    }
    ld_tensor_result *tr = &c->nodes[node].outs[out];
    ld_target store = c->opts.policy.target;
    cmp_measure(c, tr, r, NULL, o, store, NULL, NULL);
    ld_tensor_clear(&r32);
    ld_tensor_clear(&o32);
    return LD_OK;
}

ld_status ld_compare_add_rows(ld_compare *c, const ld_tensor *ref, const ld_tensor *other) {
    ld_tensor o32 = {0};
    if (other->kind == LD_KIND_TENSOR && other->dtype != LD_F32 && ld_dtype_is_float(other->dtype)) {
        LD_TRY(ld_tensor_convert(&o32, other, LD_F32));
        other = &o32;
    }
    ld_status st = cmp_append_rows(&c->ref_out0, ref);
    if (st == LD_OK) st = cmp_append_rows(&c->tgt_out0, other);
    ld_tensor_clear(&o32);
    return st;
}

void ld_compare_note_shape(ld_compare *c, int node, int out, const ld_tensor *ref) {
    ld_tensor_result *r = &c->nodes[node].outs[out];
    if (r->measured || r->dtype != LD_UNDEFINED || ref->kind != LD_KIND_TENSOR) return;
    r->dtype = ref->dtype;
    r->ndim = ref->ndim;
    memcpy(r->dims, ref->dims, sizeof r->dims);
}
