/*
** compare.c — the side-by-side pass (see ld_compare.h). Per node: reference FP32 output,
** isolated target output (target op on reference inputs cast to the target), propagated
** target output; both measured against the reference, then everything no later node needs
** is freed. Non-float nodes (shape arithmetic) run once and share their result.
*/
#include "ld_compare.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- control-flow bodies in the target precision ---- */

/* Runner for the nodes of If/Loop/Scan bodies on the target side: float inputs cast to the
 * node's storage format (body initializers included), then the policy's run. Body nodes
 * cannot be pinned by themselves: a pinned control-flow node runs its body in FP32. */
static ld_status body_node_run(ld_exec *ex, const ld_node *n, ld_tensor **in, ld_tensor **out, void *user) {
    const ld_policy *p = user;
    ld_policy bp = *p;
    bp.pinned = NULL;
    ld_target f = ld_policy_storage(&bp, n);
    ld_tensor tmp[64], *win[64];
    if (n->nin > 64) return ld_error(LD_ERR_UNSUPPORTED, "node has more than 64 inputs");
    memset(tmp, 0, sizeof(ld_tensor) * n->nin);
    ld_status st = LD_OK;
    for (int k = 0; k < n->nin; k++) {
        win[k] = in[k];
        bool q_const = ld_policy_quantizes(&bp, n) && n->in[k] >= 0 && ex->g->values[n->in[k]].const_val;
        if (st == LD_OK && in[k] && in[k]->kind == LD_KIND_TENSOR && in[k]->dtype == LD_F32 && !q_const) {
            st = ld_policy_round_tensor(f, in[k], &tmp[k]);
            win[k] = &tmp[k];
        }
    }
    if (st == LD_OK) st = ld_policy_run_node(&bp, ex, n, win, out, NULL);
    for (int k = 0; k < n->nin; k++) ld_tensor_clear(&tmp[k]);
    return st;
}

/* ---- run state for one sample ---- */

typedef struct cmp_state {
    ld_compare *c;
    ld_exec rx, tx;          /* reference and target values (main graph) */
    ld_target *fmt;          /* format the target value of each value id is stored in */
    ld_tensor **cconst;      /* target (storage-format) copies of float constants */
} cmp_state;

/* Run a main-graph node with the policy; a control-flow node's body follows the target
 * precision through the executor's runner unless the node is pinned. */
static ld_status policy_node(struct cmp_state *s, ld_exec *ex, int i, ld_tensor **in, ld_tensor **out, ld_sat *sat) {
    const ld_compare *c = s->c;
    const ld_node *n = &c->model->graph->nodes[i];
    const ld_policy *p = &c->opts.policy;
    bool body = n->op && (n->op->flags & LD_OPF_SUBGRAPH) && p->target != LD_TARGET_FP32 &&
                !(p->pinned && p->pinned[i]);
    if (body) {
        ex->runner = body_node_run;
        ex->runner_user = (void *)p;
    }
    ld_status st = ld_policy_run_node(p, ex, n, in, out, sat);
    ex->runner = NULL;
    ex->runner_user = NULL;
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

static void measure(ld_compare *c, ld_tensor_result *r, const ld_tensor *ref, const ld_tensor *iso,
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

static void drop(ld_exec *ex, int v) {
    if (ex->owned[v]) ld_tensor_free(ex->vals[v]);
    ex->owned[v] = false;
    ex->vals[v] = ex->g->values[v].const_val;
}

/* Inputs of node i on the target side: the kept target values, cast where their stored
 * format differs from the node's input format, constants from the target-constant cache.
 * Copies made go to ttmp (nin entries, zeroed by the caller, cleared by the caller). */
static ld_status target_inputs(cmp_state *s, int i, ld_tensor **tin, ld_tensor *ttmp) {
    const ld_graph *g = s->c->model->graph;
    const ld_node *n = &g->nodes[i];
    for (int k = 0; k < n->nin; k++) {
        int v = n->in[k];
        tin[k] = v >= 0 ? s->tx.vals[v] : NULL;
        if (v < 0) continue;
        if (!tin[k]) return ld_error(LD_ERR_INTERNAL, "target input '%s' is not available", g->values[v].name);
        bool cst = g->values[v].const_val != NULL;
        ld_target f = input_format(s->c, n, i, cst);
        if (cst) LD_TRY(const_target(s, v, f, &tin[k]));
        else if (s->fmt[v] != f) LD_TRY(cast_input(tin[k], f, &ttmp[k], &tin[k]));
    }
    return LD_OK;
}

static ld_status run_node(cmp_state *s, int i) {
    ld_compare *c = s->c;
    ld_graph *g = c->model->graph;
    const ld_node *n = &g->nodes[i];
    ld_node_result *nr = &c->nodes[i];
    int nin = n->nin, nout = n->nout;
    ld_tensor *rin[64], *iin[64], *tin[64], itmp[64], ttmp[64];
    ld_tensor *rout[64], *iout[64], *tout[64];
    if (nin > 64 || nout > 64) return ld_error(LD_ERR_UNSUPPORTED, "node has more than 64 inputs or outputs");
    memset(itmp, 0, sizeof(ld_tensor) * nin);
    memset(ttmp, 0, sizeof(ld_tensor) * nin);
    memset(iout, 0, sizeof(ld_tensor *) * nout);
    memset(tout, 0, sizeof(ld_tensor *) * nout);
    for (int k = 0; k < nin; k++) {
        int v = n->in[k];
        rin[k] = v >= 0 ? s->rx.vals[v] : NULL;
        if (v >= 0 && !rin[k]) return ld_error(LD_ERR_INTERNAL, "input '%s' is not available", g->values[v].name);
    }
    LD_TRY(alloc_outs(n, rout));
    ld_status st = ld_node_run(&s->rx, n, rin, rout);
    if (st != LD_OK) { free_outs(rout, nout); return st; }
    /* a node whose inputs differ between the two runs (an int or bool node after float
     * divergence) needs its own target run even if it computes on no floats */
    bool fl = node_is_float(n, rin, rout);
    for (int k = 0; !fl && k < nin; k++) {
        int v = n->in[k];
        fl = v >= 0 && !g->values[v].const_val && s->tx.vals[v] != s->rx.vals[v];
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
        if (st == LD_OK && c->opts.isolated) st = alloc_outs(n, iout);
        if (st == LD_OK && iso_short) {
            for (int k = 0; st == LD_OK && k < nout; k++)
                if (iout[k]) st = ld_policy_round_tensor(store, rout[k], iout[k]);
        } else if (st == LD_OK && c->opts.isolated) {
            st = policy_node(s, &s->rx, i, iin, iout, &sat_iso);
        }
        /* propagated: target inputs, cast where their stored format differs */
        if (st == LD_OK) st = target_inputs(s, i, tin, ttmp);
        if (st == LD_OK) st = alloc_outs(n, tout);
        if (st == LD_OK) st = policy_node(s, &s->tx, i, tin, tout, &sat_prop);
    }
    for (int k = 0; k < nin; k++) { ld_tensor_clear(&itmp[k]); ld_tensor_clear(&ttmp[k]); }
    if (st != LD_OK) {
        free_outs(rout, nout); free_outs(iout, nout); free_outs(tout, nout);
        return st;
    }
    for (int k = 0; k < nout; k++) {
        int v = n->out[k];
        if (v < 0) continue;
        ld_tensor *tv = (fl && p->target != LD_TARGET_FP32) ? tout[k] : rout[k];
        measure(c, &nr->outs[k], rout[k], fl ? (c->opts.isolated ? iout[k] : NULL) : tv, tv, store, k == 0 ? &sat_iso : NULL, k == 0 ? &sat_prop : NULL);
        if (s->rx.owned[v]) ld_tensor_free(s->rx.vals[v]);
        s->rx.vals[v] = rout[k];
        s->rx.owned[v] = true;
        if (s->tx.owned[v]) ld_tensor_free(s->tx.vals[v]);
        s->tx.vals[v] = tv;
        s->tx.owned[v] = tv != rout[k];
        s->fmt[v] = fl ? store : LD_TARGET_FP32;
        rout[k] = NULL;
        tout[k] = NULL;
    }
    free_outs(iout, nout);
    /* free what no later node reads (the target side first: it may alias the reference) */
    for (int k = 0; k < nin + nout; k++) {
        int v = k < nin ? n->in[k] : n->out[k - nin];
        if (v < 0 || g->values[v].is_output || g->values[v].is_input) continue;
        bool dead = k < nin ? g->values[v].last_use == i : g->values[v].last_use < 0;
        if (!dead) continue;
        if (c->opts.keep_tgt && c->opts.keep_ref) {
            continue;                             /* everything stays (live browser) */
        } else if (c->opts.keep_tgt) {
            if (s->tx.vals[v] == s->rx.vals[v] && s->rx.owned[v] && !s->tx.owned[v]) {
                s->tx.owned[v] = true;            /* the target side keeps the shared value */
                s->rx.owned[v] = false;
                s->rx.vals[v] = g->values[v].const_val;
            } else if (!c->opts.keep_ref) {
                drop(&s->rx, v);
            }
        } else {
            drop(&s->tx, v);
            if (!c->opts.keep_ref) drop(&s->rx, v);
        }
    }
    return LD_OK;
}

/* Target side only (autopin's re-runs): node i on the kept target values, current pins. */
static ld_status run_target_node(cmp_state *s, int i) {
    ld_compare *c = s->c;
    ld_graph *g = c->model->graph;
    const ld_node *n = &g->nodes[i];
    const ld_policy *p = &c->opts.policy;
    int nin = n->nin, nout = n->nout;
    ld_tensor *tin[64], ttmp[64], *tout[64];
    if (nin > 64 || nout > 64) return ld_error(LD_ERR_UNSUPPORTED, "node has more than 64 inputs or outputs");
    memset(ttmp, 0, sizeof(ld_tensor) * nin);
    bool fl = false;
    ld_status st = target_inputs(s, i, tin, ttmp);
    for (int k = 0; st == LD_OK && k < nin; k++) fl |= is_f32(tin[k]);
    if (st == LD_OK) st = alloc_outs(n, tout);
    if (st == LD_OK) st = policy_node(s, &s->tx, i, tin, tout, NULL);
    for (int k = 0; k < nin; k++) ld_tensor_clear(&ttmp[k]);
    if (st != LD_OK) { free_outs(tout, nout); return st; }
    for (int k = 0; k < nout; k++) fl |= is_f32(tout[k]);
    ld_target store = (p->pinned && p->pinned[i]) ? LD_TARGET_FP32 : ld_policy_storage(p, n);
    for (int k = 0; k < nout; k++) {
        int v = n->out[k];
        if (v < 0) continue;
        if (s->tx.owned[v]) ld_tensor_free(s->tx.vals[v]);
        s->tx.vals[v] = tout[k];
        s->tx.owned[v] = true;
        s->fmt[v] = fl ? store : LD_TARGET_FP32;
    }
    return LD_OK;
}

/* Samples in one feed: the first runtime input's leading dimension (a batch of images
 * counts as that many samples), 1 for scalars. */
int64_t ld_feed_batch(const ld_graph *g, ld_exec *ex) {
    if (!g->ninputs) return 1;
    const ld_tensor *t = ex->vals[g->inputs[0]];
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
    return LD_OK;
}

static ld_status append_rows(ld_tensor **acc, const ld_tensor *t) {
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

static void state_free(cmp_state *s) {
    ld_graph *g = s->c->model->graph;
    if (s->tx.vals) {   /* the target side may alias reference values: let go of those first */
        for (int v = 0; v < g->nvalues; v++)
            if (s->tx.owned[v] && s->rx.owned[v] && s->tx.vals[v] == s->rx.vals[v]) s->tx.owned[v] = false;
        ld_exec_destroy(&s->tx);
    }
    if (s->rx.vals) ld_exec_destroy(&s->rx);
    for (int v = 0; s->cconst && v < g->nvalues; v++) ld_tensor_free(s->cconst[v]);
    free(s->cconst);
    free(s->fmt);
    free(s);
}

static ld_status state_open(ld_compare *c, const ld_feed *in, cmp_state **out) {
    ld_graph *g = c->model->graph;
    cmp_state *s = calloc(1, sizeof *s);
    if (!s) return ld_oom();
    s->c = c;
    ld_status st = ld_exec_init(&s->rx, g, NULL);
    if (st == LD_OK) st = ld_exec_init(&s->tx, g, NULL);
    s->fmt = calloc(g->nvalues + 1, sizeof *s->fmt);
    s->cconst = calloc(g->nvalues + 1, sizeof *s->cconst);
    if (st == LD_OK && (!s->fmt || !s->cconst)) st = ld_oom();
    for (int k = 0; st == LD_OK && k < in->n; k++) {
        st = ld_exec_set_input(&s->rx, in->items[k].name, in->items[k].t);
        if (st == LD_OK) st = ld_exec_set_input(&s->tx, in->items[k].name, in->items[k].t);
    }
    for (int k = 0; st == LD_OK && k < g->ninputs; k++)
        if (!s->rx.vals[g->inputs[k]]) st = ld_error(LD_ERR_DATA, "missing input '%s'", g->values[g->inputs[k]].name);
    if (st != LD_OK) { state_free(s); return st; }
    *out = s;
    return LD_OK;
}

static ld_status node_error(ld_status st, const ld_node *n) {
    return ld_err_prefix(st, "node '%s' (%s-%d)", n->name, n->op_type, n->op ? n->op->since : n->opset);
}

/* Full side-by-side pass over one sample, measuring into c; the state stays open. */
static ld_status state_run(cmp_state *s) {
    ld_compare *c = s->c;
    ld_graph *g = c->model->graph;
    double t0 = ld_now_sec();
    ld_status st = LD_OK;
    for (int i = 0; st == LD_OK && i < g->nnodes; i++) {
        if (g->nodes[i].folded) continue;
        st = run_node(s, i);
        if (st != LD_OK) node_error(st, &g->nodes[i]);
        if (i % 50 == 0)
            ld_progress_step(&c->opts.progress, i, g->nnodes, "layerdiff: sample %lld: node %d/%d",
                             (long long)c->samples + 1, i, g->nnodes);
    }
    ld_progress_end(&c->opts.progress);
    if (st == LD_OK && g->noutputs) {
        st = append_rows(&c->ref_out0, s->rx.vals[g->outputs[0]]);
        if (st == LD_OK) st = append_rows(&c->tgt_out0, s->tx.vals[g->outputs[0]]);
    }
    if (st == LD_OK) c->samples += ld_feed_batch(c->model->graph, &s->rx);
    c->seconds += ld_now_sec() - t0;
    return st;
}

ld_status ld_compare_add_sample(ld_compare *c, const ld_feed *in) {
    cmp_state *s;
    LD_TRY(state_open(c, in, &s));
    ld_status st = state_run(s);
    state_free(s);
    return st;
}

/* ---- kept runs (autopin) ---- */

ld_status ld_sample_run_open(ld_compare *c, const ld_feed *in, ld_sample_run **out) {
    cmp_state *s;
    LD_TRY(state_open(c, in, &s));
    ld_status st = state_run(s);
    if (st != LD_OK) { state_free(s); return st; }
    *out = (ld_sample_run *)s;
    return LD_OK;
}

ld_status ld_sample_run_target_from(ld_sample_run *r, int from) {
    cmp_state *s = (cmp_state *)r;
    ld_graph *g = s->c->model->graph;
    for (int i = from < 0 ? 0 : from; i < g->nnodes; i++) {
        if (g->nodes[i].folded) continue;
        ld_status st = run_target_node(s, i);
        if (st != LD_OK) return node_error(st, &g->nodes[i]);
    }
    return LD_OK;
}

size_t ld_sample_run_bytes(const ld_sample_run *r) {
    const cmp_state *s = (const cmp_state *)r;
    size_t n = 0;
    for (int v = 0; v < s->c->model->graph->nvalues; v++) {
        if (s->tx.owned[v] && s->tx.vals[v]) n += s->tx.vals[v]->nbytes;
        if (s->rx.owned[v] && s->rx.vals[v] && s->rx.vals[v] != s->tx.vals[v]) n += s->rx.vals[v]->nbytes;
    }
    return n;
}

const ld_tensor *ld_sample_run_ref(const ld_sample_run *r, int v) { return ((const cmp_state *)r)->rx.vals[v]; }
const ld_tensor *ld_sample_run_tgt(const ld_sample_run *r, int v) { return ((const cmp_state *)r)->tx.vals[v]; }
void ld_sample_run_close(ld_sample_run *r) { if (r) state_free((cmp_state *)r); }

/* ---- decisions ---- */

void ld_topk_indices(const float *row, int64_t k, int64_t K, int64_t *idx) {
    for (int64_t j = 0; j < k; j++) idx[j] = -1;
    for (int64_t c = 0; c < K; c++) {
        for (int64_t j = 0; j < k; j++) {
            if (idx[j] < 0 || row[c] > row[idx[j]]) {
                for (int64_t m = k - 1; m > j; m--) idx[m] = idx[m - 1];
                idx[j] = c;
                break;
            }
        }
    }
}

static bool in_topk(const int64_t *idx, int64_t k, int64_t c) {
    for (int64_t j = 0; j < k; j++) if (idx[j] == c) return true;
    return false;
}

static void classify(ld_compare *c, const int64_t *labels, int64_t nlabels) {
    ld_tensor *r = c->ref_out0, *t = c->tgt_out0;
    if (!r || !t || r->numel != t->numel || r->dims[1] < 2) return;
    int64_t N = r->dims[0], K = r->dims[1], k5 = K < 5 ? K : 5;
    ld_classification *cl = &c->cls;
    cl->present = true;
    cl->samples = N;
    double a1 = 0, a5 = 0, cs = 0, l2 = 0, r1 = 0, t1 = 0, r5 = 0, t5 = 0;
    int64_t ir[5], it[5];
    for (int64_t s = 0; s < N; s++) {
        const float *a = (float *)r->data + s * K, *b = (float *)t->data + s * K;
        bool finite = true;
        for (int64_t j = 0; j < K; j++) finite &= isfinite(b[j]) != 0;
        if (!finite) {   /* a NaN/Inf row agrees with nothing and is infinitely far */
            l2 = INFINITY;
            ld_topk_indices(a, k5, K, ir);
            if (labels && s < nlabels) { r1 += ir[0] == labels[s]; r5 += in_topk(ir, k5, labels[s]); }
            continue;
        }
        ld_topk_indices(a, k5, K, ir);
        ld_topk_indices(b, k5, K, it);
        a1 += ir[0] == it[0];
        a5 += in_topk(it, k5, ir[0]);
        double ab = 0, aa = 0, bb = 0, d = 0;
        for (int64_t j = 0; j < K; j++) {
            ab += (double)a[j] * b[j]; aa += (double)a[j] * a[j]; bb += (double)b[j] * b[j];
            d += ((double)a[j] - b[j]) * ((double)a[j] - b[j]);
        }
        cs += (aa > 0 && bb > 0) ? ab / sqrt(aa * bb) : (aa == bb ? 1.0 : 0.0);
        l2 += sqrt(d);
        if (labels && s < nlabels) {
            r1 += ir[0] == labels[s]; t1 += it[0] == labels[s];
            r5 += in_topk(ir, k5, labels[s]); t5 += in_topk(it, k5, labels[s]);
        }
    }
    cl->top1_agreement = 100.0 * a1 / N;
    cl->top5_agreement = 100.0 * a5 / N;
    cl->cosine_mean = cs / N;
    cl->l2_mean = l2 / N;
    if (labels && nlabels >= N) {
        cl->labelled = true;
        cl->ref_top1 = 100.0 * r1 / N; cl->target_top1 = 100.0 * t1 / N;
        cl->ref_top5 = 100.0 * r5 / N; cl->target_top5 = 100.0 * t5 / N;
        cl->delta_top1_pp = cl->target_top1 - cl->ref_top1;
        cl->delta_top5_pp = cl->target_top5 - cl->ref_top5;
    }
}

ld_status ld_compare_finish(ld_compare *c, const int64_t *labels, int64_t nlabels) {
    c->passed = true;
    c->first_iso.node = c->first_prop.node = -1;
    ld_target tt = c->opts.policy.target;
    for (int i = 0; i < c->nnodes; i++) {
        ld_node_result *nr = &c->nodes[i];
        const ld_node *n = &c->model->graph->nodes[i];
        ld_target store = nr->pinned ? LD_TARGET_FP32 : ld_policy_storage(&c->opts.policy, n);
        for (int k = 0; k < nr->nout; k++) {
            ld_tensor_result *r = &nr->outs[k];
            r->iso_pass = r->prop_pass = true;
            r->flags = 0;
            if (!r->measured) continue;
            /* saturation is judged against the quantized format, the rest against storage */
            ld_target q = nr->quantized ? tt : store;
            r->iso_pass = ld_err_passes_q(&r->iso, &r->ref, store, q, &c->opts.tol, r->iso_why, sizeof r->iso_why);
            r->prop_pass = ld_err_passes_q(&r->prop, &r->ref, store, q, &c->opts.tol, r->prop_why, sizeof r->prop_why);
            if (!c->opts.isolated) r->iso_pass = true;
            const ld_err *e = &r->prop;
            if (e->new_nan || r->iso.new_nan) r->flags |= LD_FLAG_NAN;
            if (e->new_inf || r->iso.new_inf) r->flags |= LD_FLAG_INF;
            if (e->overflow || r->iso.overflow) r->flags |= LD_FLAG_OVERFLOW;
            if (e->underflow || r->iso.underflow) r->flags |= LD_FLAG_UNDERFLOW;
            if (e->saturated || r->iso.saturated) r->flags |= LD_FLAG_SATURATION;
            if (e->subnormal || r->iso.subnormal) r->flags |= LD_FLAG_SUBNORMAL;
            if (!r->iso_pass) r->flags |= LD_FLAG_ISO_FAIL;
            if (!r->prop_pass) r->flags |= LD_FLAG_PROP_FAIL;
            if (!r->iso_pass && c->first_iso.node < 0) {
                c->first_iso.node = i;
                c->first_iso.out = k;
                snprintf(c->first_iso.reason, sizeof c->first_iso.reason, "%s", r->iso_why);
            }
            if (!r->prop_pass && c->first_prop.node < 0) {
                c->first_prop.node = i;
                c->first_prop.out = k;
                snprintf(c->first_prop.reason, sizeof c->first_prop.reason, "%s", r->prop_why);
            }
            if (!r->iso_pass || !r->prop_pass) c->passed = false;
        }
    }
    classify(c, labels, nlabels);
    return LD_OK;
}

void ld_compare_free(ld_compare *c) {
    for (int i = 0; c->nodes && i < c->nnodes; i++) {
        for (int k = 0; k < c->nodes[i].nout; k++) {
            ld_err_free(&c->nodes[i].outs[k].iso);
            ld_err_free(&c->nodes[i].outs[k].prop);
        }
        free(c->nodes[i].outs);
    }
    free(c->nodes);
    free(c->outputs);
    ld_tensor_free(c->ref_out0);
    ld_tensor_free(c->tgt_out0);
    memset(c, 0, sizeof *c);
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
    measure(c, tr, r, NULL, o, store, NULL, NULL);
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
    ld_status st = append_rows(&c->ref_out0, ref);
    if (st == LD_OK) st = append_rows(&c->tgt_out0, other);
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

/* ---- incremental comparison (live browser) ---- */

struct ld_incremental {
    ld_compare c;
    cmp_state **runs;
    int nruns;
    const int64_t *labels;
    int64_t nlabels;
    bool *last;              /* the pins of the last run */
};

const ld_compare *ld_incr_result(const ld_incremental *inc) { return &inc->c; }

void ld_incr_close(ld_incremental *inc) {
    if (!inc) return;
    for (int k = 0; k < inc->nruns; k++) state_free(inc->runs[k]);
    free(inc->runs);
    free(inc->last);
    ld_compare_free(&inc->c);
    free(inc);
}

ld_status ld_incr_open(ld_incremental **out, ld_model *m, const ld_compare_opts *o,
                       const ld_feed *samples, int nsamples, const int64_t *labels, int64_t nlabels) {
    ld_incremental *inc = calloc(1, sizeof *inc);
    if (!inc) return ld_oom();
    ld_compare_opts oo = *o;
    oo.keep_ref = oo.keep_tgt = true;
    int n = m->graph->nnodes;
    inc->labels = labels;
    inc->nlabels = nlabels;
    inc->runs = calloc(nsamples + 1, sizeof *inc->runs);
    inc->last = calloc(n + 1, sizeof(bool));
    ld_status st = (!inc->runs || !inc->last) ? ld_oom() : LD_OK;
    if (st == LD_OK) st = ld_compare_init(&inc->c, m, &oo);
    for (int k = 0; st == LD_OK && k < nsamples; k++) {
        st = state_open(&inc->c, &samples[k], &inc->runs[k]);
        if (st == LD_OK) {
            inc->nruns++;
            st = state_run(inc->runs[k]);
        }
    }
    if (st == LD_OK && o->policy.pinned) memcpy(inc->last, o->policy.pinned, sizeof(bool) * n);
    if (st == LD_OK) st = ld_compare_finish(&inc->c, labels, nlabels);
    if (st != LD_OK) { ld_incr_close(inc); return st; }
    *out = inc;
    return LD_OK;
}

static void reset_result(ld_tensor_result *r) {
    int nch = r->prop.nch;
    ld_err_free(&r->iso);
    ld_err_free(&r->prop);
    ld_err_init(&r->iso, nch);
    ld_err_init(&r->prop, nch);
    ld_tstats_init(&r->ref);
    ld_tstats_init(&r->tgt);
    r->tgt.no_hist = true;
}

ld_status ld_incr_rerun(ld_incremental *inc, int *from_out) {
    ld_compare *c = &inc->c;
    ld_graph *g = c->model->graph;
    const bool *pins = c->opts.policy.pinned;
    int from = -1;
    for (int i = 0; i < g->nnodes && from < 0; i++)
        if ((pins && pins[i]) != inc->last[i]) from = i;
    if (from_out) *from_out = from;
    if (from < 0) return LD_OK;
    for (int i = from; i < g->nnodes; i++) {
        ld_node_result *nr = &c->nodes[i];
        nr->pinned = pins && pins[i];
        nr->quantized = !nr->pinned && ld_policy_quantizes(&c->opts.policy, &g->nodes[i]);
        for (int k = 0; k < nr->nout; k++) reset_result(&nr->outs[k]);
    }
    double t0 = ld_now_sec();
    ld_tensor_free(c->ref_out0);
    ld_tensor_free(c->tgt_out0);
    c->ref_out0 = c->tgt_out0 = NULL;
    ld_status st = LD_OK;
    for (int k = 0; st == LD_OK && k < inc->nruns; k++) {
        cmp_state *s = inc->runs[k];
        for (int i = from; st == LD_OK && i < g->nnodes; i++) {
            if (g->nodes[i].folded) continue;
            st = run_node(s, i);
            if (st != LD_OK) node_error(st, &g->nodes[i]);
        }
        ld_progress_step(&c->opts.progress, k + 1, inc->nruns, "re-running from node %d: sample %d/%d", from, k + 1,
                         inc->nruns);
        if (st == LD_OK && g->noutputs) {
            st = append_rows(&c->ref_out0, s->rx.vals[g->outputs[0]]);
            if (st == LD_OK) st = append_rows(&c->tgt_out0, s->tx.vals[g->outputs[0]]);
        }
    }
    ld_progress_end(&c->opts.progress);
    c->seconds += ld_now_sec() - t0;
    if (st != LD_OK) return st;
    memcpy(inc->last, pins ? pins : inc->last, sizeof(bool) * g->nnodes);
    if (!pins) memset(inc->last, 0, sizeof(bool) * g->nnodes);
    return ld_compare_finish(c, inc->labels, inc->nlabels);
}
