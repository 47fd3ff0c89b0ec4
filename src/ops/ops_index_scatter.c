/*
** ops_index_scatter.c — the 'index' family's update kernels: Scatter (deprecated alias of
** ScatterElements), ScatterElements and ScatterND with their reductions, and TensorScatter
** (opset 24 KV-cache update). Each copies data to the output, computes the destination
** offset of every update block and lets ld_index_put_blocks apply them in order.
*/
#include "ops_index.h"

#include <stdlib.h>
#include <string.h>

ld_status ld_index_same_shape(ld_kctx *k) {
    const ld_tensor *x = k->in[0];
    if (x->kind != LD_KIND_TENSOR) return ld_error(LD_ERR_DATA, "input 0 must be a tensor");
    return ld_tensor_set_shape(k->out[0], x->dtype, x->ndim, x->dims);
}

static ld_status scatter_reduction(ld_kctx *k, ld_index_red *red) {
    *red = LD_RED_NONE;
    const char *s = ld_attr_str(k->node, "reduction", "none");
    return ld_index_red_parse(s, red);
}

static ld_status check_updates_dtype(const ld_tensor *x, const ld_tensor *upd) {
    if (x->dtype != upd->dtype)
        return ld_error(LD_ERR_DATA, "updates dtype %s differs from data dtype %s",
                        ld_dtype_name(upd->dtype), ld_dtype_name(x->dtype));
    return LD_OK;
}

/* ---- Scatter / ScatterElements ---- */

ld_status ld_index_scatter_elements_compute(ld_kctx *k) {
    const ld_tensor *x = k->in[0], *ind = k->in[1], *upd = k->in[2];
    if (x->ndim < 1) return ld_error(LD_ERR_DATA, "data must have rank >= 1");
    if (!ld_shape_equal(ind, upd)) {
        char a[128], b[128];
        return ld_error(LD_ERR_DATA, "indices shape %s differs from updates shape %s",
                        ld_shape_str(ind, a, sizeof a), ld_shape_str(upd, b, sizeof b));
    }
    LD_TRY(check_updates_dtype(x, upd));
    int axis;
    LD_TRY(ld_axis_norm(ld_attr_int(k->node, "axis", 0), x->ndim, &axis));
    ld_index_red red;
    LD_TRY(scatter_reduction(k, &red));
    LD_TRY(ld_index_copy_all(k->out[0], x));
    int64_t *off;
    LD_TRY(ld_index_elem_offsets(x, axis, ind, "scatter indices", &off));
    ld_status st = ld_index_put_blocks(k->out[0], off, upd, ind->numel, 1, red);
    free(off);
    return st;
}

/* ---- ScatterND ---- */

static ld_status scatternd_check(const ld_tensor *x, const ld_tensor *ind, const ld_tensor *upd) {
    int q = ind->ndim, r = x->ndim;
    if (q < 1) return ld_error(LD_ERR_DATA, "ScatterND indices must have rank >= 1");
    int64_t m = ind->dims[q - 1];
    if (m > r) return ld_error(LD_ERR_DATA, "ScatterND indices last dim %lld exceeds data rank %d", (long long)m, r);
    int64_t want[2 * LD_MAX_DIMS];   // ind[:q-1] + x[m:]
    int n = 0;
    for (int i = 0; i < q - 1; i++) want[n++] = ind->dims[i];
    for (int i = (int)m; i < r; i++) want[n++] = x->dims[i];
    bool ok = upd->ndim == n;
    for (int i = 0; ok && i < n; i++) ok = upd->dims[i] == want[i];
    if (!ok) {
        char a[128], b[128];
        return ld_error(LD_ERR_DATA, "ScatterND updates shape %s, expected %s",
                        ld_shape_str(upd, a, sizeof a), ld_dims_str(n, want, b, sizeof b));
    }
    return check_updates_dtype(x, upd);
}

ld_status ld_index_scatternd_compute(ld_kctx *k) {
    const ld_tensor *x = k->in[0], *ind = k->in[1], *upd = k->in[2];
    LD_TRY(ld_index_check_int(ind, "ScatterND indices"));
    LD_TRY(scatternd_check(x, ind, upd));
    ld_index_red red;
    LD_TRY(scatter_reduction(k, &red));
    int m = (int)ind->dims[ind->ndim - 1];
    int64_t ntup = ld_index_prod(ind->dims, 0, ind->ndim - 1), blk = ld_index_prod(x->dims, m, x->ndim);
    int64_t xs[LD_MAX_DIMS];
    ld_strides(x->ndim, x->dims, xs);
    int64_t *v;
    LD_TRY(ld_index_load(ind, -1, "ScatterND indices", &v));
    ld_status st = LD_OK;
    for (int64_t t = 0; t < ntup && st == LD_OK; t++) {
        int64_t off = 0;
        for (int j = 0; j < m && st == LD_OK; j++) {
            int64_t ix = 0;
            st = ld_index_fix(v[t * m + j], x->dims[j], "ScatterND indices", &ix);
            off += ix * xs[j];
        }
        v[t] = off;   /* t <= t*m: this tuple's values are already read */
    }
    if (st == LD_OK) st = ld_index_copy_all(k->out[0], x);
    if (st == LD_OK) st = ld_index_put_blocks(k->out[0], v, upd, ntup, blk, red);
    free(v);
    return st;
}

/* ---- TensorScatter ---- */

typedef struct { int axis; bool circular; } tscatter_attrs;

static ld_status tscatter_check(ld_kctx *k, tscatter_attrs *a) {
    const ld_tensor *c = k->in[0], *u = k->in[1];
    const char *mode = ld_attr_str(k->node, "mode", "linear");
    if (strcmp(mode, "linear") && strcmp(mode, "circular"))
        return ld_error(LD_ERR_DATA, "TensorScatter mode '%s' is not linear or circular", mode);
    a->circular = !strcmp(mode, "circular");
    if (c->ndim < 2) return ld_error(LD_ERR_DATA, "TensorScatter past_cache must have rank >= 2");
    LD_TRY(ld_axis_norm(ld_attr_int(k->node, "axis", -2), c->ndim, &a->axis));
    if (a->axis == 0) return ld_error(LD_ERR_DATA, "TensorScatter axis cannot be the batch axis 0");
    bool ok = u->ndim == c->ndim;
    for (int i = 0; ok && i < c->ndim; i++)
        ok = i == a->axis ? u->dims[i] <= c->dims[i] : u->dims[i] == c->dims[i];
    if (!ok) {
        char s1[128], s2[128];
        return ld_error(LD_ERR_DATA, "TensorScatter update shape %s does not fit past_cache shape %s on axis %d",
                        ld_shape_str(u, s1, sizeof s1), ld_shape_str(c, s2, sizeof s2), a->axis);
    }
    if (LD_HAS_IN(k, 2)) {
        LD_TRY(ld_index_check_int(k->in[2], "TensorScatter write_indices"));
        if (k->in[2]->numel != c->dims[0])
            return ld_error(LD_ERR_DATA, "TensorScatter write_indices must have %lld elements (batch size)",
                            (long long)c->dims[0]);
    }
    return check_updates_dtype(c, u);
}

ld_status ld_index_tensor_scatter_compute(ld_kctx *k) {
    const ld_tensor *c = k->in[0], *u = k->in[1];
    const ld_tensor *wi = LD_HAS_IN(k, 2) ? k->in[2] : NULL;
    tscatter_attrs a;
    LD_TRY(tscatter_check(k, &a));
    LD_TRY(ld_index_copy_all(k->out[0], c));
    int64_t P = ld_index_prod(c->dims, 0, a.axis), per_batch = ld_index_prod(c->dims, 1, a.axis);
    int64_t M = c->dims[a.axis], S = u->dims[a.axis], inner = ld_index_prod(c->dims, a.axis + 1, c->ndim);
    if (P * S == 0 || inner == 0) return LD_OK;
    int64_t *doff = malloc(sizeof(int64_t) * (size_t)(P * S));   // (prefix, S) update blocks
    if (!doff) return ld_oom();
    ld_status st = LD_OK;
    for (int64_t p = 0; p < P && st == LD_OK; p++) {
        int64_t b = p / per_batch, w = wi ? ld_tensor_get_i64(wi, b) : 0;
        for (int64_t s = 0; s < S; s++) {
            int64_t ci = w + s;
            if (a.circular) {
                ci = ((ci % M) + M) % M;
            } else if (ci < 0 || ci >= M) {
                st = ld_error(LD_ERR_DATA, "TensorScatter: write index %lld + %lld updates exceeds the cache length %lld (batch %lld)",
                              (long long)w, (long long)S, (long long)M, (long long)b);
                break;
            }
            doff[p * S + s] = (p * M + ci) * inner;
        }
    }
    if (st == LD_OK) st = ld_index_put_blocks(k->out[0], doff, u, P * S, inner, LD_RED_NONE);
    free(doff);
    return st;
}
