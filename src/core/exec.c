/*
** exec.c — the executor: binds inputs, runs the planned nodes in order, frees each
** intermediate after its last reader, and runs one node (shape, allocate, compute) with the
** float16/bfloat16/float64 -> float32 widening that LD_OPF_F32_ONLY kernels ask for.
*/
#include "ld_exec.h"

#include <assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- one node ---- */

static bool widen_dtype(ld_dtype t) { return t == LD_F16 || t == LD_BF16 || t == LD_F64; }

/* Pick the narrow/wide float dtype to emulate through float32, or LD_UNDEFINED. */
static ld_dtype pick_widen(const ld_node *node, ld_tensor **in) {
    if (!node->op || !(node->op->flags & LD_OPF_F32_ONLY)) return LD_UNDEFINED;
    for (int i = 0; i < node->nin; i++)
        if (in[i] && in[i]->kind == LD_KIND_TENSOR && widen_dtype(in[i]->dtype)) return in[i]->dtype;
    return LD_UNDEFINED;
}

static ld_status widen_inputs(const ld_node *node, ld_tensor **in, ld_dtype wd, bool plan,
                              ld_tensor *tmp, ld_tensor **win) {
    for (int i = 0; i < node->nin; i++) {
        win[i] = in[i];
        if (!in[i] || in[i]->kind != LD_KIND_TENSOR || in[i]->dtype != wd) continue;
        if (plan && !in[i]->data) {
            tmp[i] = *in[i];
            tmp[i].dtype = LD_F32;
            tmp[i].owns = false;
            tmp[i].data = NULL;
        } else {
            LD_TRY(ld_tensor_convert(&tmp[i], in[i], LD_F32));
        }
        win[i] = &tmp[i];
    }
    return LD_OK;
}

static void narrow_outputs(const ld_node *node, ld_tensor **out, ld_dtype wd, bool plan,
                           ld_status *st) {
    for (int o = 0; o < node->nout; o++) {
        ld_tensor *t = out[o];
        if (!t || t->kind != LD_KIND_TENSOR || t->dtype != LD_F32) continue;
        if (plan && !t->data) { t->dtype = wd; continue; }
        if (*st == LD_OK) *st = ld_tensor_convert(t, t, wd);
    }
}

static ld_status node_call(ld_exec *ex, const ld_node *node, ld_tensor **in, ld_tensor **out,
                           bool plan) {
    const ld_op_def *op = node->op;
    ld_kctx k = {.node = node, .in = in, .nin = node->nin, .out = out, .nout = node->nout,
                 .ex = ex, .plan = plan};
    if (plan) return op->shape ? op->shape(&k) : LD_DYNAMIC;
    if (!(op->flags & LD_OPF_ALLOCS)) {
        if (!op->shape) return ld_error(LD_ERR_INTERNAL, "kernel has no shape function");
        ld_status st = op->shape(&k);
        if (st == LD_DYNAMIC)
            return ld_error(LD_ERR_INTERNAL, "shape function asked for data at run time");
        LD_TRY(st);
        for (int o = 0; o < node->nout; o++) {
            if (!out[o] || out[o]->kind != LD_KIND_TENSOR || out[o]->data) continue;
            if ((op->flags & LD_OPF_NOZERO_F32) && out[o]->dtype == LD_F32) LD_TRY(ld_tensor_alloc_data_uninit(out[o]));
            else LD_TRY(ld_tensor_alloc_data(out[o]));
        }
    }
    return op->compute(&k);
}

static ld_status node_run_impl(ld_exec *ex, const ld_node *node, ld_tensor **in, ld_tensor **out,
                               bool plan) {
    if (!node->op)
        return ld_error(LD_ERR_UNSUPPORTED, "no kernel for this operator");
    LD_TRY(ld_node_check_types(node, in));
    ld_dtype wd = pick_widen(node, in);
    if (wd == LD_UNDEFINED) return node_call(ex, node, in, out, plan);
    ld_tensor *tmp = calloc(node->nin + 1, sizeof(ld_tensor));
    ld_tensor **win = calloc(node->nin + 1, sizeof(ld_tensor *));
    ld_status st = (!tmp || !win) ? ld_oom() : LD_OK;
    if (st == LD_OK) st = widen_inputs(node, in, wd, plan, tmp, win);
    if (st == LD_OK) st = node_call(ex, node, win, out, plan);
    if (st == LD_OK || (plan && st == LD_DYNAMIC)) {
        ld_status s2 = LD_OK;
        narrow_outputs(node, out, wd, plan, &s2);
        if (s2 != LD_OK) st = s2;
    }
    for (int i = 0; tmp && i < node->nin; i++)
        if (win[i] == &tmp[i]) ld_tensor_clear(&tmp[i]);
    free(tmp);
    free(win);
    return st;
}

ld_status ld_node_run(ld_exec *ex, const ld_node *node, ld_tensor **inputs, ld_tensor **outputs) {
    return node_run_impl(ex, node, inputs, outputs, false);
}

/* Plan-time shape inference for one node (used by plan.c). */
ld_status ld_node_infer(const ld_node *node, ld_tensor **inputs, ld_tensor **outputs) {
    return node_run_impl(NULL, node, inputs, outputs, true);
}

/* ---- buffer moves for view ops ---- */

/* A view op whose input this node is the last to read, owned by this executor, can take the
 * input's buffer instead of copying it. */
static bool view_move_ok(const ld_exec *ex, const ld_node *node, int i, ld_tensor **ins, ld_tensor **outs) {
    if (!node->op || !(node->op->flags & LD_OPF_VIEW) || ex->keep_all || ex->after_node) return false;
    int v = node->nin > 0 ? node->in[0] : -1;
    if (v < 0 || !ex->owned[v] || node->nout < 1 || !outs[0]) return false;
    const ld_value *val = &ex->g->values[v];
    if (val->last_use != i || val->is_output || val->is_input || val->const_val) return false;
    for (int k = 1; k < node->nin; k++) if (node->in[k] == v) return false;   /* read twice */
    const ld_tensor *t = ins[0];
    return t->kind == LD_KIND_TENSOR && t->owns && t->dtype != LD_STRING;
}

static ld_status view_move(ld_exec *ex, const ld_node *node, ld_tensor **ins, ld_tensor **outs) {
    ld_kctx k = {.node = node, .in = ins, .nin = node->nin, .out = outs, .nout = node->nout, .ex = ex};
    LD_TRY(node->op->shape(&k));
    ld_tensor *in = ins[0], *out = outs[0];
    if (out->dtype != in->dtype || out->numel != in->numel)
        return ld_error(LD_ERR_INTERNAL, "view op changed the element count");
    out->data = in->data;
    out->nbytes = in->nbytes;
    out->owns = true;
    in->owns = false;          /* the input tensor stays until its (now) last use is dropped */
    return LD_OK;
}

/* ---- whole graph ---- */

ld_status ld_exec_init(ld_exec *ex, ld_graph *g, ld_exec *parent) {
    memset(ex, 0, sizeof *ex);
    ex->g = g;
    ex->parent = parent;
    ex->vals = calloc(g->nvalues + 1, sizeof(ld_tensor *));
    ex->owned = calloc(g->nvalues + 1, sizeof(bool));
    if (!ex->vals || !ex->owned) {
        free(ex->vals);
        free(ex->owned);
        memset(ex, 0, sizeof *ex);
        return ld_oom();
    }
    for (int v = 0; v < g->nvalues; v++) ex->vals[v] = g->values[v].const_val;
    return LD_OK;
}

ld_status ld_exec_set_input(ld_exec *ex, const char *name, ld_tensor *t) {
    ld_graph *g = ex->g;
    int v = -1;
    for (int i = 0; i < g->ninputs; i++)
        if (!strcmp(g->values[g->inputs[i]].name, name)) v = g->inputs[i];
    if (v < 0) {
        int iv = ld_graph_find_value(g, name);
        if (iv >= 0 && g->values[iv].is_init)
            return ld_error(LD_ERR_DATA, "input '%s' is an initializer of the model, not a runtime input", name);
        char list[512] = "";
        size_t o = 0;
        for (int i = 0; i < g->ninputs && o < sizeof list; i++)
            o += snprintf(list + o, sizeof list - o, "%s'%s'", i ? ", " : "", g->values[g->inputs[i]].name);
        return ld_error(LD_ERR_DATA, "model has no input named '%s' (inputs: %s)", name, list);
    }
    const ld_value *val = &g->values[v];
    if (val->has_decl && val->decl_kind == LD_KIND_TENSOR && t->kind == LD_KIND_TENSOR) {
        if (val->decl_dtype != LD_UNDEFINED && val->decl_dtype != t->dtype)
            return ld_error(LD_ERR_DATA, "input '%s': expected dtype %s, got %s", name,
                            ld_dtype_name(val->decl_dtype), ld_dtype_name(t->dtype));
        bool bad = val->decl_ndim >= 0 && val->decl_ndim != t->ndim;
        for (int d = 0; !bad && val->decl_ndim >= 0 && d < t->ndim; d++)
            bad = val->decl_dims[d] >= 0 && val->decl_dims[d] != t->dims[d];
        if (bad) {
            char want[256], got[256];
            size_t o = 0;
            o += snprintf(want + o, sizeof want - o, "(");
            for (int d = 0; d < val->decl_ndim && o < sizeof want; d++) {
                if (val->decl_dims[d] >= 0) o += snprintf(want + o, sizeof want - o, "%s%lld", d ? "," : "", (long long)val->decl_dims[d]);
                else o += snprintf(want + o, sizeof want - o, "%s%s", d ? "," : "", val->decl_sym[d] ? val->decl_sym[d] : "?");
            }
            if (o < sizeof want) snprintf(want + o, sizeof want - o, ")");
            return ld_error(LD_ERR_DATA, "input '%s': expected shape %s, got %s", name, want,
                            ld_shape_str(t, got, sizeof got));
        }
    }
    if (ex->owned[v]) ld_tensor_free(ex->vals[v]);
    ex->vals[v] = t;
    ex->owned[v] = false;
    return LD_OK;
}

/* ---- settings ---- */

ld_graph *ld_exec_graph(const ld_exec *ex) { return ex->g; }
void ld_exec_set_keep_all(ld_exec *ex, bool keep) { ex->keep_all = keep; }
void ld_exec_set_timing(ld_exec *ex, double *node_seconds) { ex->node_seconds = node_seconds; }

void ld_exec_set_hook(ld_exec *ex, ld_node_hook fn, void *user) {
    ex->after_node = fn;
    ex->hook_user = user;
}

void ld_exec_set_runner(ld_exec *ex, ld_node_runner fn, void *user) {
    ex->runner = fn;
    ex->runner_user = user;
}

/* ---- values ---- */

ld_tensor *ld_exec_value(const ld_exec *ex, int v) {
    if (v < 0 || v >= ex->g->nvalues) return NULL;
    return ex->vals[v];
}

bool ld_exec_owns(const ld_exec *ex, int v) {
    return v >= 0 && v < ex->g->nvalues && ex->owned[v];
}

void ld_exec_put(ld_exec *ex, int v, ld_tensor *t, bool own) {
    assert(v >= 0 && v < ex->g->nvalues);
    if (ex->owned[v] && ex->vals[v] != t) ld_tensor_free(ex->vals[v]);
    ex->vals[v] = t;
    ex->owned[v] = own;
}

ld_tensor *ld_exec_take(ld_exec *ex, int v) {
    if (!ld_exec_owns(ex, v)) return NULL;
    ld_tensor *t = ex->vals[v];
    ex->owned[v] = false;
    ex->vals[v] = ex->g->values[v].const_val;
    return t;
}

void ld_exec_drop(ld_exec *ex, int v) {
    if (ex->owned[v]) ld_tensor_free(ex->vals[v]);
    ex->owned[v] = false;
    ex->vals[v] = ex->g->values[v].const_val;
}

void ld_exec_reset(ld_exec *ex) {
    for (int v = 0; v < ex->g->nvalues; v++)
        if (ex->owned[v]) ld_exec_drop(ex, v);
}

void ld_exec_destroy(ld_exec *ex) {
    if (!ex->vals) return;
    ld_exec_reset(ex);
    free(ex->vals);
    free(ex->owned);
    memset(ex, 0, sizeof *ex);
}

/* v dies in ex: hand it to heir if heir borrows it, else free it. */
static void release(ld_exec *ex, int v, ld_exec *heir) {
    if (heir && ex->owned[v] && !heir->owned[v] && heir->vals[v] == ex->vals[v]) {
        heir->owned[v] = true;
        ex->owned[v] = false;
        ex->vals[v] = ex->g->values[v].const_val;
    } else {
        ld_exec_drop(ex, v);
    }
}

void ld_exec_free_dead(ld_exec *ex, int i, ld_exec *heir) {
    if (ex->keep_all) return;
    const ld_graph *g = ex->g;
    const ld_node *node = &g->nodes[i];
    assert(!heir || heir->g == g);
    for (int k = 0; k < node->nin; k++) {
        int v = node->in[k];
        if (v >= 0 && g->values[v].last_use == i && !g->values[v].is_output && !g->values[v].is_input)
            release(ex, v, heir);
    }
    /* (implicit inputs are outer-scope values: the parent executor owns and frees them) */
    for (int k = 0; k < node->nout; k++) {   /* outputs nobody reads */
        int v = node->out[k];
        if (v >= 0 && g->values[v].last_use < 0 && !g->values[v].is_output) release(ex, v, heir);
    }
}

/* ---- running ---- */

ld_status ld_exec_step(ld_exec *ex, int i) {
    ld_graph *g = ex->g;
    ld_node *node = &g->nodes[i];
    ld_tensor *in_buf[64], *out_buf[64];
    ld_tensor **ins = node->nin <= 64 ? in_buf : calloc(node->nin, sizeof *ins);
    if (ins == in_buf) memset(in_buf, 0, sizeof in_buf);   /* reads past nin see NULL */
    ld_tensor **outs = node->nout <= 64 ? out_buf : calloc(node->nout, sizeof *outs);
    if (outs == out_buf) memset(out_buf, 0, sizeof(ld_tensor *) * node->nout);   /* freed on error */
    ld_status st = (!ins || !outs) ? ld_oom() : LD_OK;
    for (int k = 0; st == LD_OK && k < node->nin; k++) {
        int v = node->in[k];
        ins[k] = v >= 0 ? ex->vals[v] : NULL;
        if (v >= 0 && !ins[k])
            st = ld_error(LD_ERR_INTERNAL, "input '%s' is not available", g->values[v].name);
    }
    for (int k = 0; st == LD_OK && k < node->nout; k++) {
        outs[k] = NULL;
        if (node->out[k] < 0) continue;
        outs[k] = calloc(1, sizeof(ld_tensor));
        if (!outs[k]) st = ld_oom();
    }
    double t0 = ex->node_seconds ? ld_now_sec() : 0;
    if (st == LD_OK && view_move_ok(ex, node, i, ins, outs)) st = view_move(ex, node, ins, outs);
    else if (st == LD_OK && ex->runner) st = ex->runner(ex, node, ins, outs, ex->runner_user);
    else if (st == LD_OK) st = ld_node_run(ex, node, ins, outs);
    if (ex->node_seconds) ex->node_seconds[i] += ld_now_sec() - t0;
    for (int k = 0; outs && k < node->nout; k++) {
        if (!outs[k]) continue;
        if (st == LD_OK) ld_exec_put(ex, node->out[k], outs[k], true);
        else ld_tensor_free(outs[k]);
    }
    if (ins != in_buf) free(ins);
    if (outs != out_buf) free(outs);
    if (st != LD_OK)
        return ld_err_prefix(st, "node '%s' (%s-%d)", node->name, node->op_type,
                             node->op ? node->op->since : node->opset);
    if (ex->after_node) LD_TRY(ex->after_node(ex, i, ex->hook_user));
    ld_exec_free_dead(ex, i, NULL);
    return LD_OK;
}

ld_status ld_exec_run_from(ld_exec *ex, int from) {
    ld_graph *g = ex->g;
    for (int v = 0; v < g->nvalues; v++) {
        if (g->values[v].outer < 0) continue;
        ex->vals[v] = ex->parent ? ld_exec_value(ex->parent, g->values[v].outer) : NULL;
        if (!ex->vals[v])
            return ld_error(LD_ERR_INTERNAL, "outer-scope value '%s' is not available", g->values[v].name);
    }
    for (int i = from < 0 ? 0 : from; i < g->nnodes; i++)
        if (!g->nodes[i].folded) LD_TRY(ld_exec_step(ex, i));
    return LD_OK;
}

ld_status ld_exec_run(ld_exec *ex) {
    ld_graph *g = ex->g;
    for (int i = 0; i < g->ninputs; i++) {
        int v = g->inputs[i];
        if (!ex->vals[v])
            return ld_error(LD_ERR_DATA, "missing input '%s'", g->values[v].name);
    }
    return ld_exec_run_from(ex, 0);
}

ld_status ld_exec_subgraph(ld_exec *ex, ld_graph *sub, ld_tensor **inputs, int nin,
                           ld_tensor **outputs, int nout) {
    if (nin > sub->ninputs)
        return ld_error(LD_ERR_DATA, "subgraph '%s' takes %d inputs, got %d", sub->name, sub->ninputs, nin);
    if (nout > sub->noutputs)
        return ld_error(LD_ERR_DATA, "subgraph '%s' has %d outputs, %d requested", sub->name, sub->noutputs, nout);
    ld_exec se;
    LD_TRY(ld_exec_init(&se, sub, ex));
    se.runner = ex->runner;          /* bodies run the way their parent graph runs */
    se.runner_user = ex->runner_user;
    ld_status st = LD_OK;
    for (int i = 0; i < nin; i++) {
        se.vals[sub->inputs[i]] = inputs[i];
        se.owned[sub->inputs[i]] = false;
    }
    /* optional trailing inputs not given: leave NULL -> run fails cleanly if used */
    for (int i = nin; i < sub->ninputs; i++) {
        static ld_tensor none = {.kind = LD_KIND_NONE};
        se.vals[sub->inputs[i]] = &none;
    }
    if (st == LD_OK) st = ld_exec_run(&se);
    for (int o = 0; st == LD_OK && o < nout; o++) {
        int v = sub->outputs[o];
        ld_tensor *t = se.vals[v];
        if (!t) { st = ld_error(LD_ERR_INTERNAL, "subgraph output '%s' missing", sub->values[v].name); break; }
        bool again = false;    /* the same value listed again later: copy, don't move */
        for (int q = o + 1; q < nout; q++) again |= sub->outputs[q] == v;
        if (se.owned[v] && !again) {     /* move */
            *outputs[o] = *t;
            free(t);
            se.vals[v] = NULL;
            se.owned[v] = false;
        } else {
            st = ld_tensor_copy(outputs[o], t);
        }
    }
    ld_exec_destroy(&se);
    return st;
}
