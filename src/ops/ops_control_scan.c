/*
** ops_control_scan.c — Scan: opset 8 (batched inputs, optional sequence_lens, per-input
** directions) and opset 9+ (unbatched, per-input and per-output axes and directions).
**
** Both run the same core: T iterations of the body over state values and per-iteration
** slices of the scan inputs, writing each iteration's scan outputs straight into the stacked
** output tensors. Opset 8 runs the core once per batch entry and gathers the results.
*/
#include "ops_control.h"
#include "ops_seq.h"
#include "ld_limits.h"

#include <stdlib.h>
#include <string.h>

typedef struct scan_cfg {
    int nstate, nin, nout;   /* state variables, scan inputs, scan outputs */
    int in_axis[64], in_dir[64];
    int64_t out_axis[64];    /* as given: normalised against each output's rank */
    int out_dir[64];
    int64_t T;               /* iterations */
} scan_cfg;

/* The per-iteration work space of the core. */
typedef struct scan_ws {
    ld_tensor **cur;         /* current states (borrowed initial values, then into own) */
    ld_tensor *own, *slices, *res;
    ld_tensor **ins;
} scan_ws;

static void ws_free(scan_ws *w, const scan_cfg *c) {
    for (int j = 0; w->own && j < c->nstate; j++) ld_tensor_clear(&w->own[j]);
    for (int j = 0; w->slices && j < c->nin; j++) ld_tensor_clear(&w->slices[j]);
    for (int j = 0; w->res && j < c->nstate + c->nout; j++) ld_tensor_clear(&w->res[j]);
    free(w->cur);
    free(w->own);
    free(w->slices);
    free(w->res);
    free(w->ins);
}

static ld_status ws_init(scan_ws *w, const scan_cfg *c, ld_tensor **states) {
    w->cur = calloc(c->nstate + 1, sizeof *w->cur);
    w->own = calloc(c->nstate + 1, sizeof *w->own);
    w->slices = calloc(c->nin + 1, sizeof *w->slices);
    w->res = calloc(c->nstate + c->nout + 1, sizeof *w->res);
    w->ins = calloc(c->nstate + c->nin + 1, sizeof *w->ins);
    if (!w->cur || !w->own || !w->slices || !w->res || !w->ins) return ld_oom();
    for (int j = 0; j < c->nstate; j++) w->cur[j] = states[j];
    return LD_OK;
}

/* Whether y has out's shape with the scan axis removed. */
static bool scan_out_matches(const ld_tensor *out, const ld_tensor *y, int axis) {
    if (y->dtype != out->dtype || y->ndim + 1 != out->ndim) return false;
    for (int d = 0; d < y->ndim; d++)
        if (y->dims[d] != out->dims[d < axis ? d : d + 1]) return false;
    return true;
}

/* Write iteration t's scan output y into out (stacked along axis, reversed if dir). */
static ld_status scan_place(ld_graph *body, const scan_cfg *c, int j, const ld_tensor *y, int64_t t,
                            ld_tensor *out) {
    const char *name = body->values[body->outputs[c->nstate + j]].name;
    if (y->kind != LD_KIND_TENSOR) return ld_error(LD_ERR_DATA, "Scan output '%s' is not a tensor", name);
    if (y->ndim + 1 > LD_MAX_DIMS) return ld_error(LD_ERR_UNSUPPORTED, "Scan output '%s' has too many dims", name);
    int axis;
    LD_TRY(ld_axis_norm(c->out_axis[j], y->ndim + 1, &axis));
    if (t == 0) {   // (S[:axis], T, S[axis:])
        int64_t dims[LD_MAX_DIMS];
        for (int d = 0, s = 0; d <= y->ndim; d++) dims[d] = d == axis ? c->T : y->dims[s++];
        LD_TRY(ld_tensor_alloc(out, y->dtype, y->ndim + 1, dims));
    } else if (!scan_out_matches(out, y, axis)) {
        char a[128];
        return ld_error(LD_ERR_DATA, "Scan output '%s' changes to %s %s at iteration %lld", name,
                        ld_dtype_name(y->dtype), ld_shape_str(y, a, sizeof a), (long long)t);
    }
    int64_t outer = ld_dims_numel(axis, y->dims), inner = ld_dims_numel(y->ndim - axis, y->dims + axis);
    int64_t tt = c->out_dir[j] ? c->T - 1 - t : t;
    for (int64_t o = 0; o < outer; o++)   // y (outer, inner) -> out (outer, T, inner)
        LD_TRY(ld_seq_copy_elems(out, (o * c->T + tt) * inner, y, o * inner, inner));
    return LD_OK;
}

/* Scan outputs of zero iterations: declared per-iteration shape with T = 0 inserted. */
static ld_status scan_empty_output(ld_graph *body, const scan_cfg *c, int j, ld_tensor *out) {
    ld_dtype dt;
    int nd;
    int64_t s[LD_MAX_DIMS], dims[LD_MAX_DIMS];
    ld_control_decl_shape(body, c->nstate + j, &dt, &nd, s);
    if (nd < 0 || nd + 1 > LD_MAX_DIMS) nd = 0;
    int axis;
    LD_TRY(ld_axis_norm(c->out_axis[j], nd + 1, &axis));
    for (int d = 0, k = 0; d <= nd; d++) dims[d] = d == axis ? 0 : s[k++];
    return ld_tensor_alloc(out, dt, nd + 1, dims);
}

/* v = x[at] along axis 0 as a borrowed view (no copy). */
static ld_status slice_view(const ld_tensor *x, int64_t at, ld_tensor *v) {
    memset(v, 0, sizeof *v);
    LD_TRY(ld_tensor_set_shape(v, x->dtype, x->ndim - 1, x->dims + 1));
    v->nbytes = (size_t)v->numel * ld_dtype_size(x->dtype);
    v->data = (char *)x->data + at * v->nbytes;
    v->owns = false;
    return LD_OK;
}

/* One iteration t of the core. */
static ld_status scan_step(ld_kctx *k, ld_graph *body, const scan_cfg *c, scan_ws *w, ld_tensor **xs,
                           int64_t t, ld_tensor **ys) {
    for (int i = 0; i < c->nin; i++) {
        int64_t at = c->in_dir[i] ? c->T - 1 - t : t;
        ld_tensor_clear(&w->slices[i]);
        if (c->in_axis[i] == 0) LD_TRY(slice_view(xs[i], at, &w->slices[i]));
        else LD_TRY(ld_seq_slice_axis(xs[i], c->in_axis[i], at, 1, true, &w->slices[i]));
        w->ins[c->nstate + i] = &w->slices[i];
    }
    for (int j = 0; j < c->nstate; j++) w->ins[j] = w->cur[j];
    ld_status st = ld_control_run_body(k, body, w->ins, c->nstate + c->nin, w->res, c->nstate + c->nout);
    for (int j = 0; st == LD_OK && j < c->nstate; j++) {
        ld_control_move(&w->own[j], &w->res[j]);
        w->cur[j] = &w->own[j];
    }
    for (int j = 0; st == LD_OK && j < c->nout; j++)
        if (ys[j]) st = scan_place(body, c, j, &w->res[c->nstate + j], t, ys[j]);
    for (int j = 0; j < c->nstate + c->nout; j++) ld_tensor_clear(&w->res[j]);
    return st;
}

/* Run c->T iterations from the given states over the scan inputs xs; fin receives the final
 * states (nstate empty tensors), ys[j] (NULL = unused) the stacked scan outputs. */
static ld_status scan_run(ld_kctx *k, ld_graph *body, const scan_cfg *c, ld_tensor **states,
                          ld_tensor **xs, ld_tensor *fin, ld_tensor **ys) {
    if (c->T > 0) LD_TRY(ld_limit_iteration("Scan", c->T - 1));
    scan_ws w = {0};
    ld_status st = ws_init(&w, c, states);
    for (int64_t t = 0; st == LD_OK && t < c->T; t++) st = scan_step(k, body, c, &w, xs, t, ys);
    for (int j = 0; st == LD_OK && j < c->nstate; j++) {
        if (w.cur[j] == &w.own[j]) ld_control_move(&fin[j], &w.own[j]);
        else st = ld_tensor_copy(&fin[j], w.cur[j]);
    }
    for (int j = 0; st == LD_OK && c->T == 0 && j < c->nout; j++)
        if (ys[j]) st = scan_empty_output(body, c, j, ys[j]);
    ws_free(&w, c);
    return st;
}

/* Read an ints attribute of 0 or n entries into out (default def). */
static ld_status scan_attr_ints(ld_kctx *k, const char *name, int n, int64_t def, int64_t *out) {
    int cnt;
    const int64_t *v = ld_attr_ints(k->node, name, &cnt);
    if (cnt && cnt != n)
        return ld_error(LD_ERR_DATA, "Scan attribute '%s' has %d entries, expected %d", name, cnt, n);
    for (int i = 0; i < n; i++) out[i] = cnt ? v[i] : def;
    return LD_OK;
}

/* Common checks: counts of states, scan inputs and scan outputs from the body and node. */
static ld_status scan_counts(ld_kctx *k, ld_graph *body, int first, scan_cfg *c) {
    int64_t m = ld_attr_int(k->node, "num_scan_inputs", -1);
    int avail = k->nin - first;
    if (m < 1 || m > avail)
        return ld_error(LD_ERR_DATA, "num_scan_inputs %lld is invalid for %d inputs", (long long)m, avail);
    c->nin = (int)m;
    c->nstate = avail - c->nin;
    c->nout = body->noutputs - c->nstate;
    if (body->ninputs != c->nstate + c->nin || c->nout < 0)
        return ld_error(LD_ERR_DATA, "Scan body takes %d inputs and gives %d outputs; %d states and %d scan inputs need %d inputs",
                        body->ninputs, body->noutputs, c->nstate, c->nin, c->nstate + c->nin);
    if (k->nout > c->nstate + c->nout)
        return ld_error(LD_ERR_DATA, "Scan has %d outputs, its body gives only %d", k->nout, c->nstate + c->nout);
    if (c->nin > 64 || c->nout > 64) return ld_error(LD_ERR_UNSUPPORTED, "Scan with more than 64 scan inputs or outputs");
    for (int i = 0; i < k->nin; i++)
        if (i >= first && (!k->in[i] || k->in[i]->kind != LD_KIND_TENSOR))
            return ld_error(LD_ERR_DATA, "Scan input %d is not a tensor", i);
    return LD_OK;
}

/* ---- opset 9+ ---- */

ld_status ld_control_scan9(ld_kctx *k) {
    ld_graph *body;
    LD_TRY(ld_control_body(k, "body", &body));
    scan_cfg c = {0};
    LD_TRY(scan_counts(k, body, 0, &c));
    int64_t v[64];
    LD_TRY(scan_attr_ints(k, "scan_input_directions", c.nin, 0, v));
    for (int i = 0; i < c.nin; i++) c.in_dir[i] = v[i] != 0;
    LD_TRY(scan_attr_ints(k, "scan_output_directions", c.nout, 0, v));
    for (int j = 0; j < c.nout; j++) c.out_dir[j] = v[j] != 0;
    LD_TRY(scan_attr_ints(k, "scan_output_axes", c.nout, 0, c.out_axis));
    LD_TRY(scan_attr_ints(k, "scan_input_axes", c.nin, 0, v));
    ld_tensor **xs = k->in + c.nstate;
    for (int i = 0; i < c.nin; i++) {
        if (xs[i]->ndim < 1) return ld_error(LD_ERR_DATA, "Scan input %d is a scalar", c.nstate + i);
        LD_TRY(ld_axis_norm(v[i], xs[i]->ndim, &c.in_axis[i]));
        int64_t len = xs[i]->dims[c.in_axis[i]];
        if (i && len != c.T)
            return ld_error(LD_ERR_DATA, "Scan inputs have different sequence lengths (%lld and %lld)",
                            (long long)c.T, (long long)len);
        c.T = len;
    }
    ld_tensor *fin = calloc(c.nstate + 1, sizeof *fin);
    if (!fin) return ld_oom();
    ld_tensor *ys[64] = {0};
    for (int j = 0; j < c.nout && c.nstate + j < k->nout; j++) ys[j] = k->out[c.nstate + j];
    ld_status st = scan_run(k, body, &c, k->in, xs, fin, ys);
    for (int j = 0; j < c.nstate; j++) ld_control_move(j < k->nout ? k->out[j] : NULL, &fin[j]);
    free(fin);
    return st;
}

/* ---- opset 8 ---- */

/* Batch entry b of t: t[b] (a new tensor). */
static ld_status batch_slice(const ld_tensor *t, int64_t b, ld_tensor *out) {
    return ld_seq_slice_axis(t, 0, b, 1, true, out);
}

/* Put batch entry b's result r into out (allocated as (B, pad, r dims...) on first use; rows of r
 * beyond its first dimension, up to pad, stay zero). pad = 0: r is not padded. */
static ld_status batch_put(const ld_tensor *r, int64_t b, int64_t nb, int64_t pad, ld_tensor *out) {
    int64_t dims[LD_MAX_DIMS];
    if (r->kind != LD_KIND_TENSOR || r->ndim + 1 > LD_MAX_DIMS)
        return ld_error(LD_ERR_DATA, "Scan result is not a tensor of supported rank");
    dims[0] = nb;
    memcpy(dims + 1, r->dims, sizeof(int64_t) * r->ndim);
    if (pad) dims[1] = pad;
    if (!out->data) LD_TRY(ld_tensor_alloc(out, r->dtype, r->ndim + 1, dims));
    bool same = out->dtype == r->dtype && out->ndim == r->ndim + 1;
    for (int d = pad ? 1 : 0; same && d < r->ndim; d++) same = out->dims[d + 1] == r->dims[d];
    if (!same) {
        char a[128];
        return ld_error(LD_ERR_DATA, "Scan result for batch entry %lld has a different shape %s",
                        (long long)b, ld_shape_str(r, a, sizeof a));
    }
    int64_t row = out->numel / (nb ? nb : 1);
    return ld_seq_copy_elems(out, b * row, r, 0, r->numel);
}

typedef struct scan8_batch {
    ld_tensor *states, *xs, *fin, *ys;
    ld_tensor **sp, **xp, **yp;
} scan8_batch;

static void batch_free(scan8_batch *bt, const scan_cfg *c) {
    for (int j = 0; bt->states && j < c->nstate; j++) ld_tensor_clear(&bt->states[j]);
    for (int j = 0; bt->fin && j < c->nstate; j++) ld_tensor_clear(&bt->fin[j]);
    for (int j = 0; bt->xs && j < c->nin; j++) ld_tensor_clear(&bt->xs[j]);
    for (int j = 0; bt->ys && j < c->nout; j++) ld_tensor_clear(&bt->ys[j]);
    free(bt->states); free(bt->fin); free(bt->xs); free(bt->ys);
    free(bt->sp); free(bt->xp); free(bt->yp);
}

/* Run batch entry b with len iterations and gather its results into the node outputs. */
static ld_status scan8_entry(ld_kctx *k, ld_graph *body, scan_cfg *c, scan8_batch *bt, int64_t b,
                             int64_t nb, int64_t maxlen) {
    for (int j = 0; j < c->nstate; j++) {
        ld_tensor_clear(&bt->states[j]);
        LD_TRY(batch_slice(k->in[1 + j], b, &bt->states[j]));
        bt->sp[j] = &bt->states[j];
    }
    for (int i = 0; i < c->nin; i++) {
        ld_tensor_clear(&bt->xs[i]);
        LD_TRY(batch_slice(k->in[1 + c->nstate + i], b, &bt->xs[i]));
        bt->xp[i] = &bt->xs[i];
    }
    for (int j = 0; j < c->nstate; j++) ld_tensor_clear(&bt->fin[j]);
    for (int j = 0; j < c->nout; j++) {
        ld_tensor_clear(&bt->ys[j]);
        bt->yp[j] = c->nstate + j < k->nout && k->out[c->nstate + j] ? &bt->ys[j] : NULL;
    }
    LD_TRY(scan_run(k, body, c, bt->sp, bt->xp, bt->fin, bt->yp));
    for (int j = 0; j < c->nstate && j < k->nout; j++)
        if (k->out[j]) LD_TRY(batch_put(&bt->fin[j], b, nb, 0, k->out[j]));
    for (int j = 0; j < c->nout; j++)
        if (bt->yp[j] && (c->T > 0 || !k->out[c->nstate + j]->data))
            LD_TRY(batch_put(&bt->ys[j], b, nb, maxlen, k->out[c->nstate + j]));
    return LD_OK;
}

/* Outputs of an empty batch: the (empty) initial states, and (0, maxlen, declared dims). */
static ld_status scan8_empty_batch(ld_kctx *k, ld_graph *body, const scan_cfg *c, int64_t maxlen) {
    for (int j = 0; j < k->nout; j++) {
        if (!k->out[j]) continue;
        if (j < c->nstate) {
            LD_TRY(ld_tensor_copy(k->out[j], k->in[1 + j]));
            continue;
        }
        ld_dtype dt;
        int nd;
        int64_t dims[LD_MAX_DIMS];
        ld_control_decl_shape(body, j, &dt, &nd, dims + 2);
        if (nd < 0 || nd + 2 > LD_MAX_DIMS) nd = 0;
        dims[0] = 0;
        dims[1] = maxlen;
        LD_TRY(ld_tensor_alloc(k->out[j], dt, nd + 2, dims));
    }
    return LD_OK;
}

ld_status ld_control_scan8(ld_kctx *k) {
    ld_graph *body;
    LD_TRY(ld_control_body(k, "body", &body));
    scan_cfg c = {0};
    LD_TRY(scan_counts(k, body, 1, &c));
    int64_t v[64];
    LD_TRY(scan_attr_ints(k, "directions", c.nin, 0, v));
    for (int i = 0; i < c.nin; i++) c.in_dir[i] = v[i] != 0;
    const ld_tensor *x0 = k->in[1 + c.nstate];
    for (int i = 0; i < c.nstate + c.nin; i++) {
        const ld_tensor *x = k->in[1 + i];
        if (x->ndim < (i < c.nstate ? 1 : 2) || x->dims[0] != x0->dims[0] || (i >= c.nstate && x->dims[1] != x0->dims[1]))
            return ld_error(LD_ERR_DATA, "Scan-8 input %d does not have the batch (and sequence) dims of the others", 1 + i);
    }
    int64_t nb = x0->dims[0], maxlen = x0->dims[1];
    const ld_tensor *lens = LD_HAS_IN(k, 0) ? k->in[0] : NULL;
    if (lens && (!ld_dtype_is_int(lens->dtype) || lens->numel != nb))
        return ld_error(LD_ERR_DATA, "Scan-8 sequence_lens must be %lld integers", (long long)nb);
    scan8_batch bt = {0};
    bt.states = calloc(c.nstate + 1, sizeof(ld_tensor));
    bt.fin = calloc(c.nstate + 1, sizeof(ld_tensor));
    bt.xs = calloc(c.nin + 1, sizeof(ld_tensor));
    bt.ys = calloc(c.nout + 1, sizeof(ld_tensor));
    bt.sp = calloc(c.nstate + 1, sizeof(ld_tensor *));
    bt.xp = calloc(c.nin + 1, sizeof(ld_tensor *));
    bt.yp = calloc(c.nout + 1, sizeof(ld_tensor *));
    ld_status st = bt.states && bt.fin && bt.xs && bt.ys && bt.sp && bt.xp && bt.yp ? LD_OK
                                                                                     : ld_oom();
    for (int64_t b = 0; st == LD_OK && b < nb; b++) {
        c.T = lens ? ld_tensor_get_i64(lens, b) : maxlen;
        if (c.T < 0 || c.T > maxlen)
            st = ld_error(LD_ERR_DATA, "Scan-8 sequence length %lld is outside [0, %lld]", (long long)c.T, (long long)maxlen);
        else
            st = scan8_entry(k, body, &c, &bt, b, nb, maxlen);
    }
    batch_free(&bt, &c);
    if (st == LD_OK && nb == 0) st = scan8_empty_batch(k, body, &c, maxlen);
    return st;
}
