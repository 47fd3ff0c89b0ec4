/*
** ops_grad.c — Gradient (ai.onnx.preview.training 1): reverse-mode differentiation at run time.
**
** The node names tensors of its own graph: xs (differentiated), zs (held constant) and y. Its
** inputs are the values of xs followed by zs at which to differentiate. The kernel finds the
** nodes between those tensors and y, recomputes them forward from the Gradient inputs (the
** executor may already have freed the intermediates), then backpropagates a seed of ones from
** y. Only float32 values are differentiated; integer/bool values carry no gradient.
** Backward rules: Add Sub Mul Div (with broadcasting summed back), Neg Identity Relu Sigmoid
** Tanh Exp Log Sqrt, Reshape/Flatten/Squeeze/Unsqueeze, and 2-D MatMul.
*/
#include "ops_nn.h"
#include "ld_exec.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define GRAD_DOMAIN "ai.onnx.preview.training"

/* One differentiation run over the graph of the executor. */
typedef struct grad_run {
    ld_exec *ex;
    const ld_graph *g;
    bool *cut;           /* value is an x or z: taken from the Gradient inputs */
    bool *needed;        /* value is an ancestor of y (below the cut) */
    bool *active;        /* value depends on an x */
    bool *node_needed;
    ld_tensor **fwd;     /* forward value per value id */
    bool *fwd_owned;
    ld_tensor **grad;    /* accumulated gradient per value id (owned, float32) */
} grad_run;

/* ---- shape ---- */

static ld_status grad_shape(ld_kctx *k) {
    int nxs = 0;
    const ld_attr *xs = ld_node_attr(k->node, "xs");
    if (xs && xs->type == LD_ATTR_STRINGS) nxs = xs->n;
    if (!nxs) return ld_error(LD_ERR_DATA, "Gradient: attribute 'xs' is missing or empty");
    if (!ld_attr_str(k->node, "y", NULL))
        return ld_error(LD_ERR_DATA, "Gradient: attribute 'y' is missing");
    if (k->nout > nxs)
        return ld_error(LD_ERR_DATA, "Gradient: %d outputs but only %d xs", k->nout, nxs);
    if (k->nin < nxs)
        return ld_error(LD_ERR_DATA, "Gradient: %d inputs but %d xs (inputs are xs then zs)",
                        k->nin, nxs);
    for (int o = 0; o < k->nout; o++) {
        if (!LD_HAS_OUT(k, o)) continue;
        const ld_tensor *x = k->in[o];
        if (!LD_HAS_IN(k, o) || x->kind != LD_KIND_TENSOR || x->dtype != LD_F32)
            return ld_error(LD_ERR_UNSUPPORTED, "Gradient: x '%s' must be a float32 tensor",
                            xs->strings[o]);
        LD_TRY(ld_tensor_set_shape(k->out[o], LD_F32, x->ndim, x->dims));
    }
    return LD_OK;
}

/* ---- helpers ---- */

static bool is_f32(const ld_tensor *t) { return t && t->kind == LD_KIND_TENSOR && t->dtype == LD_F32; }

/* For each element of the broadcast shape odims, the offset into t (t broadcast to odims).
 * NULL with *ident set when t already has shape odims. */
static ld_status bcast_index(const ld_tensor *t, int ndim, const int64_t *odims, int64_t n,
                             int64_t **out, bool *ident) {
    *out = NULL;
    *ident = t->ndim == ndim && !memcmp(t->dims, odims, sizeof(int64_t) * ndim);
    if (*ident) return LD_OK;
    int64_t st[LD_MAX_DIMS], idx[LD_MAX_DIMS] = {0};
    ld_broadcast_strides(t, ndim, odims, st);
    int64_t *map = malloc(sizeof(int64_t) * (size_t)(n ? n : 1));
    if (!map) return ld_oom();
    int64_t off = 0;
    for (int64_t i = 0; i < n; i++) {
        map[i] = off;
        for (int d = ndim - 1; d >= 0; d--) {     /* odometer step */
            off += st[d];
            if (++idx[d] < odims[d]) break;
            off -= st[d] * odims[d];
            idx[d] = 0;
        }
    }
    *out = map;
    return LD_OK;
}

/* grad[v] += src summed down to the shape of value v (src has broadcast shape odims). */
static ld_status grad_accum(grad_run *r, int v, const float *src, int ndim, const int64_t *odims) {
    const ld_tensor *x = r->fwd[v];
    if (!r->grad[v]) {
        r->grad[v] = ld_tensor_new(LD_F32, x->ndim, x->dims);
        if (!r->grad[v]) return ld_oom();
    }
    float *dst = LD_F32P(r->grad[v]);
    int64_t n = ld_dims_numel(ndim, odims);
    int64_t *map;
    bool ident;
    if (x->numel == n) ident = true, map = NULL;     /* same element order (also reshapes) */
    else LD_TRY(bcast_index(x, ndim, odims, n, &map, &ident));
    if (ident) {
        for (int64_t i = 0; i < n; i++) dst[i] += src[i];
    } else {
        for (int64_t i = 0; i < n; i++) dst[map[i]] += src[i];
    }
    free(map);
    return LD_OK;
}

static float *buf_new(int64_t n) { return malloc(sizeof(float) * (size_t)(n ? n : 1)); }

/* ---- backward rules ---- */

typedef enum { BIN_ADD, BIN_SUB, BIN_MUL, BIN_DIV } bin_kind;

/* d/da and d/db of a binary broadcasting op, each in the output shape, then summed back. */
static ld_status back_binary(grad_run *r, const ld_node *n, bin_kind kind, const ld_tensor *gy) {
    const ld_tensor *a = r->fwd[n->in[0]], *b = r->fwd[n->in[1]], *y = r->fwd[n->out[0]];
    if (!is_f32(a) || !is_f32(b)) return LD_OK;
    int64_t cnt = gy->numel;
    int64_t *ma = NULL, *mb = NULL;
    bool ia, ib;
    float *da = buf_new(cnt), *db = buf_new(cnt);
    ld_status st = (!da || !db) ? ld_oom() : LD_OK;
    if (st == LD_OK) st = bcast_index(a, gy->ndim, gy->dims, cnt, &ma, &ia);
    if (st == LD_OK) st = bcast_index(b, gy->ndim, gy->dims, cnt, &mb, &ib);
    if (st == LD_OK) {
        const float *g = LD_F32P(gy), *pa = LD_F32P(a), *pb = LD_F32P(b), *py = LD_F32P(y);
        for (int64_t i = 0; i < cnt; i++) {
            float av = pa[ia ? i : ma[i]], bv = pb[ib ? i : mb[i]];
            switch (kind) {
            case BIN_ADD: da[i] = g[i]; db[i] = g[i]; break;
            case BIN_SUB: da[i] = g[i]; db[i] = -g[i]; break;
            case BIN_MUL: da[i] = g[i] * bv; db[i] = g[i] * av; break;
            case BIN_DIV: da[i] = g[i] / bv; db[i] = -g[i] * py[i] / bv; break;
            }
        }
    }
    if (st == LD_OK && r->active[n->in[0]]) st = grad_accum(r, n->in[0], da, gy->ndim, gy->dims);
    if (st == LD_OK && r->active[n->in[1]]) st = grad_accum(r, n->in[1], db, gy->ndim, gy->dims);
    free(ma);
    free(mb);
    free(da);
    free(db);
    return st;
}

typedef enum { UN_COPY, UN_NEG, UN_RELU, UN_SIGMOID, UN_TANH, UN_EXP, UN_LOG, UN_SQRT } un_kind;

/* dx = gy * f'(x), with f' written from x or the forward output y. Copy also serves reshapes. */
static ld_status back_unary(grad_run *r, const ld_node *n, un_kind kind, const ld_tensor *gy) {
    const ld_tensor *x = r->fwd[n->in[0]], *y = r->fwd[n->out[0]];
    if (!is_f32(x) || !r->active[n->in[0]]) return LD_OK;
    int64_t cnt = gy->numel;
    if (x->numel != cnt) return ld_error(LD_ERR_INTERNAL, "Gradient: element count mismatch");
    float *dx = buf_new(cnt);
    if (!dx) return ld_oom();
    const float *g = LD_F32P(gy), *px = LD_F32P(x), *py = LD_F32P(y);
    for (int64_t i = 0; i < cnt; i++) {
        switch (kind) {
        case UN_COPY: dx[i] = g[i]; break;
        case UN_NEG: dx[i] = -g[i]; break;
        case UN_RELU: dx[i] = px[i] > 0 ? g[i] : 0.0f; break;
        case UN_SIGMOID: dx[i] = g[i] * py[i] * (1.0f - py[i]); break;
        case UN_TANH: dx[i] = g[i] * (1.0f - py[i] * py[i]); break;
        case UN_EXP: dx[i] = g[i] * py[i]; break;
        case UN_LOG: dx[i] = g[i] / px[i]; break;
        case UN_SQRT: dx[i] = g[i] * 0.5f / py[i]; break;
        }
    }
    ld_status st = grad_accum(r, n->in[0], dx, x->ndim, x->dims);
    free(dx);
    return st;
}

/* Y(M,N) = A(M,K) B(K,N): dA = dY B^T, dB = A^T dY. */
static ld_status back_matmul(grad_run *r, const ld_node *n, const ld_tensor *gy) {
    const ld_tensor *a = r->fwd[n->in[0]], *b = r->fwd[n->in[1]];
    if (!is_f32(a) || !is_f32(b)) return LD_OK;
    if (a->ndim != 2 || b->ndim != 2)
        return ld_error(LD_ERR_UNSUPPORTED, "Gradient: cannot differentiate through '%s' (MatMul) "
                        "with inputs of rank %d and %d (only 2-D)", n->name, a->ndim, b->ndim);
    int m = (int)a->dims[0], kk = (int)a->dims[1], nn = (int)b->dims[1];
    ld_status st = LD_OK;
    if (r->active[n->in[0]]) {
        float *da = buf_new(a->numel);
        if (!da) return ld_oom();
        if (a->numel) memset(da, 0, sizeof(float) * (size_t)a->numel);
        if (m && kk && nn)
            ld_nn_sgemm(false, true, m, kk, nn, 1.0f, LD_F32P(gy), nn, LD_F32P(b), nn, 0.0f, da, kk);
        st = grad_accum(r, n->in[0], da, a->ndim, a->dims);
        free(da);
    }
    if (st == LD_OK && r->active[n->in[1]]) {
        float *db = buf_new(b->numel);
        if (!db) return ld_oom();
        if (b->numel) memset(db, 0, sizeof(float) * (size_t)b->numel);
        if (m && kk && nn)
            ld_nn_sgemm(true, false, kk, nn, m, 1.0f, LD_F32P(a), kk, LD_F32P(gy), nn, 0.0f, db, nn);
        st = grad_accum(r, n->in[1], db, b->ndim, b->dims);
        free(db);
    }
    return st;
}

typedef struct back_rule { const char *op; int kind; } back_rule;

static const back_rule unary_rules[] = {
    {"Identity", UN_COPY}, {"Neg", UN_NEG}, {"Relu", UN_RELU}, {"Sigmoid", UN_SIGMOID},
    {"Tanh", UN_TANH}, {"Exp", UN_EXP}, {"Log", UN_LOG}, {"Sqrt", UN_SQRT},
    {"Reshape", UN_COPY}, {"Flatten", UN_COPY}, {"Squeeze", UN_COPY}, {"Unsqueeze", UN_COPY},
};
static const back_rule binary_rules[] = {
    {"Add", BIN_ADD}, {"Sub", BIN_SUB}, {"Mul", BIN_MUL}, {"Div", BIN_DIV},
};

static int rule_find(const back_rule *rules, size_t n, const char *op) {
    for (size_t i = 0; i < n; i++)
        if (!strcmp(rules[i].op, op)) return rules[i].kind;
    return -1;
}

/* Propagate the gradient of node n's output to its active inputs. */
static ld_status node_backward(grad_run *r, const ld_node *n) {
    int yv = n->nout == 1 ? n->out[0] : -1;
    bool ai_domain = !n->domain || !n->domain[0];
    if (!ai_domain || yv < 0)
        return ld_error(LD_ERR_UNSUPPORTED, "Gradient: cannot differentiate through '%s' (%s)",
                        n->name, n->op_type);
    const ld_tensor *gy = r->grad[yv];
    if (!gy) return LD_OK;           /* y does not depend on this output */
    int kind;
    if ((kind = rule_find(unary_rules, LD_ARRAY_LEN(unary_rules), n->op_type)) >= 0)
        return back_unary(r, n, (un_kind)kind, gy);
    if (n->nin == 2 && (kind = rule_find(binary_rules, LD_ARRAY_LEN(binary_rules), n->op_type)) >= 0)
        return back_binary(r, n, (bin_kind)kind, gy);
    if (!strcmp(n->op_type, "MatMul") && n->nin == 2) return back_matmul(r, n, gy);
    return ld_error(LD_ERR_UNSUPPORTED, "Gradient: cannot differentiate through '%s' (%s)",
                    n->name, n->op_type);
}

/* ---- graph analysis and forward recomputation ---- */

static ld_status value_lookup(const ld_graph *g, const char *name, const char *what, int *v) {
    *v = ld_graph_find_value(g, name);
    if (*v < 0) return ld_error(LD_ERR_DATA, "Gradient: %s '%s' is not a tensor of the graph", what, name);
    return LD_OK;
}

/* Mark the ancestors of y down to the cut values, and the values that depend on an x. */
static void grad_mark(grad_run *r, int y, const int *xv, int nxs) {
    const ld_graph *g = r->g;
    r->needed[y] = true;
    for (int i = g->nnodes - 1; i >= 0; i--) {
        const ld_node *n = &g->nodes[i];
        if (n->folded) continue;
        bool need = false;
        for (int o = 0; o < n->nout; o++)
            need |= n->out[o] >= 0 && r->needed[n->out[o]] && !r->cut[n->out[o]];
        if (!need) continue;
        r->node_needed[i] = true;
        for (int k = 0; k < n->nin; k++) if (n->in[k] >= 0) r->needed[n->in[k]] = true;
        for (int k = 0; k < n->nimplicit; k++) r->needed[n->implicit[k]] = true;
    }
    for (int i = 0; i < nxs; i++) r->active[xv[i]] = true;
    for (int i = 0; i < g->nnodes; i++) {
        const ld_node *n = &g->nodes[i];
        if (!r->node_needed[i]) continue;
        bool act = false;
        for (int k = 0; k < n->nin; k++) act |= n->in[k] >= 0 && r->active[n->in[k]];
        for (int o = 0; act && o < n->nout; o++)
            if (n->out[o] >= 0 && !r->cut[n->out[o]]) r->active[n->out[o]] = true;
    }
}

/* Run node n forward on the recomputed values; its outputs become owned forward values. */
static ld_status node_forward(grad_run *r, const ld_node *n) {
    ld_tensor **ins = calloc(n->nin + 1, sizeof *ins), **outs = calloc(n->nout + 1, sizeof *outs);
    ld_status st = (!ins || !outs) ? ld_oom() : LD_OK;
    for (int k = 0; st == LD_OK && k < n->nin; k++) {
        int v = n->in[k];
        if (v < 0) continue;
        ins[k] = r->fwd[v] ? r->fwd[v] : ld_exec_value(r->ex, v);
        if (!ins[k])
            st = ld_error(LD_ERR_INTERNAL, "Gradient: value '%s' is not available", r->g->values[v].name);
        else
            r->fwd[v] = ins[k];
    }
    for (int o = 0; st == LD_OK && o < n->nout; o++) {
        if (n->out[o] < 0) continue;
        outs[o] = calloc(1, sizeof(ld_tensor));
        if (!outs[o]) st = ld_oom();
    }
    if (st == LD_OK) st = ld_node_run(r->ex, n, ins, outs);
    for (int o = 0; outs && o < n->nout; o++) {
        if (!outs[o]) continue;
        int v = n->out[o];
        if (st != LD_OK || r->fwd[v]) { ld_tensor_free(outs[o]); continue; }
        r->fwd[v] = outs[o];
        r->fwd_owned[v] = true;
    }
    free(ins);
    free(outs);
    if (st != LD_OK) return ld_err_prefix(st, "Gradient: recomputing '%s' (%s)", n->name, n->op_type);
    return LD_OK;
}

static ld_status grad_check_active(grad_run *r, const ld_node *n) {
    for (int o = 0; o < n->nout; o++) {
        int v = n->out[o];
        if (v < 0 || !r->active[v]) continue;
        if (r->fwd[v]->kind != LD_KIND_TENSOR) { r->active[v] = false; continue; }
        if (r->fwd[v]->dtype != LD_F32) {
            if (ld_dtype_is_float(r->fwd[v]->dtype))
                return ld_error(LD_ERR_UNSUPPORTED, "Gradient: only float32 is supported, '%s' is %s",
                                r->g->values[v].name, ld_dtype_name(r->fwd[v]->dtype));
            r->active[v] = false;    /* integer/bool results carry no gradient */
        }
    }
    return LD_OK;
}

static ld_status grad_forward(grad_run *r) {
    for (int i = 0; i < r->g->nnodes; i++) {
        if (!r->node_needed[i]) continue;
        LD_TRY(node_forward(r, &r->g->nodes[i]));
        LD_TRY(grad_check_active(r, &r->g->nodes[i]));
    }
    return LD_OK;
}

static ld_status grad_backward(grad_run *r, int y) {
    const ld_tensor *ty = r->fwd[y];
    if (!ty) ty = r->fwd[y] = ld_exec_value(r->ex, y);
    if (!is_f32(ty))
        return ld_error(LD_ERR_UNSUPPORTED, "Gradient: y '%s' must be a float32 tensor", r->g->values[y].name);
    if (!r->active[y]) return LD_OK;           /* y does not depend on any x: all zero */
    r->grad[y] = ld_tensor_new(LD_F32, ty->ndim, ty->dims);
    if (!r->grad[y]) return ld_oom();
    for (int64_t i = 0; i < ty->numel; i++) LD_F32P(r->grad[y])[i] = 1.0f;   /* seed */
    for (int i = r->g->nnodes - 1; i >= 0; i--) {
        const ld_node *n = &r->g->nodes[i];
        if (!r->node_needed[i]) continue;
        bool any_in = false, any_out = false;
        for (int k = 0; k < n->nin; k++) any_in |= n->in[k] >= 0 && r->active[n->in[k]];
        for (int o = 0; o < n->nout; o++) any_out |= n->out[o] >= 0 && r->grad[n->out[o]];
        if (any_in && any_out) LD_TRY(node_backward(r, n));
    }
    return LD_OK;
}

static void grad_run_free(grad_run *r) {
    for (int v = 0; r->fwd && r->fwd_owned && r->grad && v < r->g->nvalues; v++) {
        if (r->fwd_owned[v]) ld_tensor_free(r->fwd[v]);
        if (r->grad[v]) ld_tensor_free(r->grad[v]);
    }
    free(r->cut);
    free(r->needed);
    free(r->active);
    free(r->node_needed);
    free(r->fwd);
    free(r->fwd_owned);
    free(r->grad);
}

static ld_status grad_run_init(grad_run *r, ld_exec *ex) {
    memset(r, 0, sizeof *r);
    r->ex = ex;
    r->g = ld_exec_graph(ex);
    size_t nv = (size_t)r->g->nvalues + 1, nn = (size_t)r->g->nnodes + 1;
    r->cut = calloc(nv, sizeof(bool));
    r->needed = calloc(nv, sizeof(bool));
    r->active = calloc(nv, sizeof(bool));
    r->node_needed = calloc(nn, sizeof(bool));
    r->fwd = calloc(nv, sizeof(ld_tensor *));
    r->fwd_owned = calloc(nv, sizeof(bool));
    r->grad = calloc(nv, sizeof(ld_tensor *));
    if (!r->cut || !r->needed || !r->active || !r->node_needed || !r->fwd || !r->fwd_owned || !r->grad)
        return ld_oom();
    return LD_OK;
}

/* Bind xs then zs (attribute names) to the Gradient node's inputs. */
static ld_status grad_bind_cut(grad_run *r, ld_kctx *k, int *xv, int nxs) {
    const ld_attr *xs = ld_node_attr(k->node, "xs"), *zs = ld_node_attr(k->node, "zs");
    int nzs = zs && zs->type == LD_ATTR_STRINGS ? zs->n : 0;
    if (k->nin != nxs + nzs)
        return ld_error(LD_ERR_DATA, "Gradient: %d inputs, expected %d (xs then zs)", k->nin, nxs + nzs);
    for (int i = 0; i < nxs + nzs; i++) {
        const char *name = i < nxs ? xs->strings[i] : zs->strings[i - nxs];
        int v;
        LD_TRY(value_lookup(r->g, name, i < nxs ? "x" : "z", &v));
        if (!LD_HAS_IN(k, i)) return ld_error(LD_ERR_DATA, "Gradient: input %d ('%s') is absent", i, name);
        r->cut[v] = true;
        r->fwd[v] = k->in[i];
        if (i < nxs) xv[i] = v;
    }
    return LD_OK;
}

static ld_status grad_compute(ld_kctx *k) {
    if (!k->ex) return ld_error(LD_ERR_INTERNAL, "Gradient: no executor");
    const ld_attr *xs = ld_node_attr(k->node, "xs");
    int nxs = xs->n, y;
    grad_run r;
    int *xv = calloc((size_t)nxs, sizeof(int));
    ld_status st = xv ? grad_run_init(&r, k->ex) : ld_oom();
    if (!xv) return st;
    if (st == LD_OK) st = value_lookup(r.g, ld_attr_str(k->node, "y", ""), "y", &y);
    if (st == LD_OK) st = grad_bind_cut(&r, k, xv, nxs);
    if (st == LD_OK) {
        grad_mark(&r, y, xv, nxs);
        st = grad_forward(&r);
    }
    if (st == LD_OK) st = grad_backward(&r, y);
    for (int o = 0; st == LD_OK && o < k->nout; o++) {
        if (!LD_HAS_OUT(k, o)) continue;
        const ld_tensor *gx = r.grad[xv[o]];
        if (gx && gx->numel == k->out[o]->numel)
            memcpy(k->out[o]->data, gx->data, sizeof(float) * (size_t)gx->numel);
        else if (gx)
            st = ld_error(LD_ERR_INTERNAL, "Gradient: gradient of '%s' has the wrong size", xs->strings[o]);
    }
    grad_run_free(&r);
    free(xv);
    return st;
}

const ld_op_def ld_ops_grad[] = {
    {GRAD_DOMAIN, "Gradient", 1, grad_shape, grad_compute, LD_OPF_NOFOLD},
    {0},
};
