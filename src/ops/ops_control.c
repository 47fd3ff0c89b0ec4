/*
** ops_control.c — control flow: If, Loop and SequenceMap (Scan is in ops_control_scan.c), and
** the helpers they share for running body graphs.
**
** Bodies run through ld_exec_subgraph with positional inputs; names a body reads from the
** enclosing graph resolve through the running executor k->ex. Output shapes depend on the
** data (the branch taken, the iteration count), so every kernel allocates its own outputs.
*/
#include "ops_control.h"
#include "ops_seq.h"
#include "ld_limits.h"

#include <stdlib.h>
#include <string.h>

/* ---- shared helpers ---- */

static ld_tensor ctl_none = {.kind = LD_KIND_NONE};

ld_status ld_control_run_body(ld_kctx *k, ld_graph *body, ld_tensor **ins, int nin, ld_tensor *res,
                              int nres) {
    ld_tensor **in = calloc(nin + 1, sizeof *in), **out = calloc(nres + 1, sizeof *out);
    if (!in || !out) {
        free(in);
        free(out);
        return ld_oom();
    }
    for (int i = 0; i < nin; i++) in[i] = ins[i] ? ins[i] : &ctl_none;
    for (int o = 0; o < nres; o++) out[o] = &res[o];
    ld_status st = ld_exec_subgraph(k->ex, body, in, nin, out, nres);
    free(in);
    free(out);
    if (st != LD_OK) return ld_err_prefix(st, "in subgraph '%s'", body->name);
    return LD_OK;
}

void ld_control_decl_shape(const ld_graph *body, int o, ld_dtype *dt, int *ndim, int64_t *dims) {
    const ld_value *v = &body->values[body->outputs[o]];
    *dt = v->has_decl && v->decl_dtype != LD_UNDEFINED ? v->decl_dtype : LD_F32;
    *ndim = v->has_decl && v->decl_kind == LD_KIND_TENSOR ? v->decl_ndim : -1;
    for (int d = 0; d < *ndim; d++) dims[d] = v->decl_dims[d] > 0 ? v->decl_dims[d] : 0;
}

ld_status ld_control_body(ld_kctx *k, const char *name, ld_graph **body) {
    *body = ld_attr_graph(k->node, name);
    if (!*body) return ld_error(LD_ERR_DATA, "%s has no '%s' subgraph", k->node->op_type, name);
    return LD_OK;
}

void ld_control_move(ld_tensor *dst, ld_tensor *src) {
    if (dst) {
        ld_tensor_clear(dst);
        *dst = *src;
        memset(src, 0, sizeof *src);
    } else {
        ld_tensor_clear(src);
    }
}

static ld_status shape_dynamic(ld_kctx *k) { return LD_DYNAMIC; }

/* A single-element tensor as a truth value or an integer. */
static ld_status read_scalar(const ld_tensor *t, const char *what, int64_t *v) {
    if (!t || t->kind != LD_KIND_TENSOR || t->numel != 1 || !t->data ||
        !(ld_dtype_is_int(t->dtype) || t->dtype == LD_BOOL || ld_dtype_is_float(t->dtype)))
        return ld_error(LD_ERR_DATA, "%s must be a single-element numeric or bool tensor", what);
    *v = ld_dtype_is_float(t->dtype) ? ld_tensor_get_f64(t, 0) != 0.0 : ld_tensor_get_i64(t, 0);
    return LD_OK;
}

/* Clear n tensors of an array and free it. */
static void tensors_free(ld_tensor *t, int n) {
    for (int i = 0; t && i < n; i++) ld_tensor_clear(&t[i]);
    free(t);
}

/* ---- If ---- */

static ld_status if_compute(ld_kctx *k) {
    int64_t cond;
    LD_TRY(read_scalar(k->in[0], "If condition", &cond));
    ld_graph *g;
    LD_TRY(ld_control_body(k, cond ? "then_branch" : "else_branch", &g));
    if (g->noutputs != k->nout)
        return ld_error(LD_ERR_DATA, "If has %d outputs but its %s branch has %d", k->nout,
                        cond ? "then" : "else", g->noutputs);
    ld_tensor *res = calloc(k->nout + 1, sizeof *res);
    if (!res) return ld_oom();
    ld_status st = ld_control_run_body(k, g, NULL, 0, res, k->nout);
    for (int o = 0; st == LD_OK && o < k->nout; o++) ld_control_move(k->out[o], &res[o]);
    tensors_free(res, k->nout);
    return st;
}

/* ---- Loop ---- */

/* Loop state: n carried values (borrowed inputs until the first iteration replaces them). */
typedef struct loop_state {
    int n, nscan;
    ld_tensor **cur;        /* current carried values (into `own` or the node's inputs) */
    ld_tensor *own;         /* carried values owned by the loop */
    ld_tensor *scans;       /* per scan output: a sequence of the per-iteration values */
    ld_tensor *res;         /* body outputs of one iteration: cond, n carried, nscan scans */
} loop_state;

static void loop_state_free(loop_state *s) {
    free(s->cur);
    tensors_free(s->own, s->n);
    tensors_free(s->scans, s->nscan);
    tensors_free(s->res, 1 + s->n + s->nscan);
}

static ld_status loop_state_init(ld_kctx *k, int n, int nscan, loop_state *s) {
    s->n = n;
    s->nscan = nscan;
    s->cur = calloc(n + 1, sizeof *s->cur);
    s->own = calloc(n + 1, sizeof *s->own);
    s->scans = calloc(nscan + 1, sizeof *s->scans);
    s->res = calloc(1 + n + nscan, sizeof *s->res);
    if (!s->cur || !s->own || !s->scans || !s->res) return ld_oom();
    for (int j = 0; j < n; j++) s->cur[j] = k->in[2 + j];
    for (int j = 0; j < nscan; j++) ld_seq_init(&s->scans[j], LD_UNDEFINED);
    return LD_OK;
}

/* One iteration: run the body, take its condition, carried values and scan values. */
static ld_status loop_iterate(ld_kctx *k, ld_graph *body, loop_state *s, int64_t it, bool *cond) {
    int64_t zero = 0;
    ld_tensor it_t = {0}, cond_t = {0};
    ld_tensor **ins = calloc(2 + s->n, sizeof *ins);
    ld_status st = ins ? LD_OK : ld_oom();
    if (st == LD_OK) st = ld_tensor_alloc(&it_t, LD_I64, 0, &zero);
    if (st == LD_OK) st = ld_tensor_alloc(&cond_t, LD_BOOL, 0, &zero);
    if (st == LD_OK) {
        LD_I64P(&it_t)[0] = it;
        ((uint8_t *)cond_t.data)[0] = *cond;
        ins[0] = &it_t;
        ins[1] = &cond_t;
        for (int j = 0; j < s->n; j++) ins[2 + j] = s->cur[j];
        st = ld_control_run_body(k, body, ins, 2 + s->n, s->res, 1 + s->n + s->nscan);
    }
    int64_t c = 0;
    if (st == LD_OK) st = read_scalar(&s->res[0], "Loop body condition output", &c);
    *cond = c != 0;
    for (int j = 0; st == LD_OK && j < s->n; j++) {
        ld_control_move(&s->own[j], &s->res[1 + j]);
        s->cur[j] = &s->own[j];
    }
    for (int j = 0; st == LD_OK && j < s->nscan; j++) {
        ld_tensor *y = &s->res[1 + s->n + j];
        if (y->kind != LD_KIND_TENSOR)
            st = ld_error(LD_ERR_DATA, "Loop scan output %d is not a tensor", j);
        else
            st = ld_seq_push_move(&s->scans[j], y);
    }
    for (int j = 0; j < 1 + s->n + s->nscan; j++) ld_tensor_clear(&s->res[j]);
    ld_tensor_clear(&it_t);
    ld_tensor_clear(&cond_t);
    free(ins);
    return st;
}

/* Stack the per-iteration values of scan output j along a new axis 0 into out. */
static ld_status loop_stack(ld_graph *body, int o, const ld_tensor *vals, ld_tensor *out) {
    int64_t dims[LD_MAX_DIMS];
    if (!vals->seq_len) {   /* no iteration: (0, declared dims) */
        ld_dtype dt;
        int nd;
        ld_control_decl_shape(body, o, &dt, &nd, dims + 1);
        dims[0] = 0;
        return ld_tensor_alloc(out, dt, nd < 0 ? 1 : nd + 1, dims);
    }
    const ld_tensor *y0 = vals->seq[0];
    if (y0->ndim + 1 > LD_MAX_DIMS)
        return ld_error(LD_ERR_UNSUPPORTED, "Loop scan output of rank %d is too large", y0->ndim);
    dims[0] = vals->seq_len;
    memcpy(dims + 1, y0->dims, sizeof(int64_t) * y0->ndim);
    LD_TRY(ld_tensor_alloc(out, y0->dtype, y0->ndim + 1, dims));
    for (int i = 0; i < vals->seq_len; i++) {
        const ld_tensor *y = vals->seq[i];
        if (y->dtype != y0->dtype || !ld_shape_equal(y, y0)) {
            char a[128], b[128];
            return ld_error(LD_ERR_DATA, "Loop scan output '%s' is %s %s at iteration %d but %s %s at iteration 0",
                            body->values[body->outputs[o]].name, ld_dtype_name(y->dtype),
                            ld_shape_str(y, a, sizeof a), i, ld_dtype_name(y0->dtype), ld_shape_str(y0, b, sizeof b));
        }
        LD_TRY(ld_seq_copy_elems(out, i * y0->numel, y, 0, y0->numel));
    }
    return LD_OK;
}

static ld_status loop_finish(ld_kctx *k, ld_graph *body, loop_state *s) {
    for (int j = 0; j < s->n && j < k->nout; j++) {
        if (!k->out[j]) continue;
        if (s->cur[j] == &s->own[j]) ld_control_move(k->out[j], &s->own[j]);
        else LD_TRY(ld_tensor_copy(k->out[j], s->cur[j] ? s->cur[j] : &ctl_none));
    }
    for (int j = 0; j < s->nscan && s->n + j < k->nout; j++)
        if (k->out[s->n + j]) LD_TRY(loop_stack(body, 1 + s->n + j, &s->scans[j], k->out[s->n + j]));
    return LD_OK;
}

static ld_status loop_compute(ld_kctx *k) {
    ld_graph *body;
    LD_TRY(ld_control_body(k, "body", &body));
    if (k->nin < 2) return ld_error(LD_ERR_DATA, "Loop needs at least the inputs M and cond");
    int n = k->nin - 2, nscan = body->noutputs - 1 - n;
    if (body->ninputs != 2 + n || nscan < 0)
        return ld_error(LD_ERR_DATA, "Loop with %d carried values needs a body of %d inputs and at least %d outputs, got %d and %d",
                        n, 2 + n, 1 + n, body->ninputs, body->noutputs);
    if (k->nout > n + nscan)
        return ld_error(LD_ERR_DATA, "Loop has %d outputs, its body gives only %d", k->nout, n + nscan);
    bool has_m = LD_HAS_IN(k, 0), has_cond = LD_HAS_IN(k, 1);
    int64_t m = INT64_MAX, c = 1;
    if (has_m) LD_TRY(read_scalar(k->in[0], "Loop trip count M", &m));
    if (has_cond) LD_TRY(read_scalar(k->in[1], "Loop condition", &c));
    if (!has_m && !has_cond)
        return ld_error(LD_ERR_UNSUPPORTED, "Loop without a trip count or a condition never ends");
    loop_state s = {0};
    ld_status st = loop_state_init(k, n, nscan, &s);
    bool cond = c != 0;
    for (int64_t it = 0; st == LD_OK && it < m && cond; it++) {
        st = ld_limit_iteration("Loop", it);   /* M = 2^62 or cond stuck true */
        if (st == LD_OK) st = loop_iterate(k, body, &s, it, &cond);
        if (!has_cond) cond = true;   /* a for-loop ignores the body's condition */
    }
    if (st == LD_OK) st = loop_finish(k, body, &s);
    loop_state_free(&s);
    return st;
}

/* ---- SequenceMap ---- */

static ld_status seqmap_compute(ld_kctx *k) {
    ld_graph *body;
    LD_TRY(ld_control_body(k, "body", &body));
    const ld_tensor *s0 = k->in[0];
    LD_TRY(ld_seq_check(s0, "SequenceMap input 0"));
    if (body->ninputs != k->nin)
        return ld_error(LD_ERR_DATA, "SequenceMap has %d inputs but its body takes %d", k->nin, body->ninputs);
    if (body->noutputs < k->nout)
        return ld_error(LD_ERR_DATA, "SequenceMap has %d outputs but its body gives %d", k->nout, body->noutputs);
    for (int i = 1; i < k->nin; i++)
        if (k->in[i] && k->in[i]->kind == LD_KIND_SEQUENCE && k->in[i]->seq_len != s0->seq_len)
            return ld_error(LD_ERR_DATA, "SequenceMap input %d has %d elements, input 0 has %d", i,
                            k->in[i]->seq_len, s0->seq_len);
    int nres = body->noutputs;
    for (int o = 0; o < k->nout; o++) {
        if (!k->out[o]) continue;
        ld_dtype dt;
        int nd;
        int64_t dims[LD_MAX_DIMS];
        ld_control_decl_shape(body, o, &dt, &nd, dims);
        ld_seq_init(k->out[o], dt);
    }
    ld_tensor **ins = calloc(k->nin + 1, sizeof *ins);
    ld_tensor *res = calloc(nres + 1, sizeof *res);
    ld_status st = ins && res ? LD_OK : ld_oom();
    for (int t = 0; st == LD_OK && t < s0->seq_len; t++) {
        for (int i = 0; i < k->nin; i++) {
            ld_tensor *x = k->in[i];
            ins[i] = x && x->kind == LD_KIND_SEQUENCE ? x->seq[t] : x;
        }
        st = ld_control_run_body(k, body, ins, k->nin, res, nres);
        for (int o = 0; st == LD_OK && o < k->nout; o++)
            if (k->out[o]) st = ld_seq_push_move(k->out[o], &res[o]);
        for (int o = 0; o < nres; o++) ld_tensor_clear(&res[o]);
    }
    free(ins);
    tensors_free(res, nres);
    return st;
}

/* ---- Scan (ops_control_scan.c) ---- */

static ld_status scan8_compute(ld_kctx *k) { return ld_control_scan8(k); }
static ld_status scan9_compute(ld_kctx *k) { return ld_control_scan9(k); }

const ld_op_def ld_ops_control[] = {
    {"", "If", 1, shape_dynamic, if_compute, LD_OPF_ALLOCS | LD_OPF_SUBGRAPH},
    {"", "Loop", 1, shape_dynamic, loop_compute, LD_OPF_ALLOCS | LD_OPF_SUBGRAPH},
    {"", "Scan", 8, shape_dynamic, scan8_compute, LD_OPF_ALLOCS | LD_OPF_SUBGRAPH},
    {"", "Scan", 9, shape_dynamic, scan9_compute, LD_OPF_ALLOCS | LD_OPF_SUBGRAPH},
    {"", "SequenceMap", 17, shape_dynamic, seqmap_compute, LD_OPF_ALLOCS | LD_OPF_SUBGRAPH},
    {0},
};
