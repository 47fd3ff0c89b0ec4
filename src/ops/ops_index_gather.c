/*
** ops_index_gather.c — the 'index' family's selection kernels: Gather, GatherElements,
** GatherND, Compress, NonZero, OneHot and ReverseSequence. Each works out which source
** elements or blocks land where and lets ld_index_take_axis / ld_index_take_blocks move them
** (any dtype, strings included).
*/
#include "ops_index.h"

#include <stdlib.h>
#include <string.h>

static ld_status nomem(void) { return ld_oom(); }

/* ---- Gather ---- */

ld_status ld_index_gather_shape(ld_kctx *k) {
    const ld_tensor *x = k->in[0], *ind = k->in[1];
    if (x->ndim < 1) return ld_error(LD_ERR_DATA, "Gather data must have rank >= 1");
    LD_TRY(ld_index_check_int(ind, "Gather indices"));
    int axis;
    LD_TRY(ld_axis_norm(ld_attr_int(k->node, "axis", 0), x->ndim, &axis));
    int r = x->ndim - 1 + ind->ndim;
    if (r > LD_MAX_DIMS) return ld_error(LD_ERR_UNSUPPORTED, "Gather output rank %d is too large", r);
    int64_t dims[LD_MAX_DIMS];   // x[:axis] + ind + x[axis+1:]
    int n = 0;
    for (int i = 0; i < axis; i++) dims[n++] = x->dims[i];
    for (int i = 0; i < ind->ndim; i++) dims[n++] = ind->dims[i];
    for (int i = axis + 1; i < x->ndim; i++) dims[n++] = x->dims[i];
    return ld_tensor_set_shape(k->out[0], x->dtype, n, dims);
}

ld_status ld_index_gather_compute(ld_kctx *k) {
    const ld_tensor *x = k->in[0], *ind = k->in[1];
    int axis;
    LD_TRY(ld_axis_norm(ld_attr_int(k->node, "axis", 0), x->ndim, &axis));
    int64_t outer = ld_index_prod(x->dims, 0, axis), n = x->dims[axis];
    int64_t inner = ld_index_prod(x->dims, axis + 1, x->ndim), nidx = ind->numel;
    int64_t *idx;
    LD_TRY(ld_index_load(ind, n, "Gather indices", &idx));
    ld_status st = ld_index_take_axis(k->out[0], x, outer, n, inner, idx, nidx);
    free(idx);
    return st;
}

/* ---- GatherElements ---- */

ld_status ld_index_gather_elements_shape(ld_kctx *k) {
    const ld_tensor *x = k->in[0], *ind = k->in[1];
    LD_TRY(ld_index_check_int(ind, "GatherElements indices"));
    if (x->ndim < 1 || ind->ndim != x->ndim)
        return ld_error(LD_ERR_DATA, "GatherElements: data rank %d and indices rank %d must be equal and >= 1",
                        x->ndim, ind->ndim);
    int axis;
    LD_TRY(ld_axis_norm(ld_attr_int(k->node, "axis", 0), x->ndim, &axis));
    return ld_tensor_set_shape(k->out[0], x->dtype, ind->ndim, ind->dims);
}

ld_status ld_index_gather_elements_compute(ld_kctx *k) {
    const ld_tensor *x = k->in[0], *ind = k->in[1];
    int axis;
    LD_TRY(ld_axis_norm(ld_attr_int(k->node, "axis", 0), x->ndim, &axis));
    int64_t *off;
    LD_TRY(ld_index_elem_offsets(x, axis, ind, "GatherElements indices", &off));
    ld_status st = ld_index_take_blocks(k->out[0], x, off, ind->numel, 1);
    free(off);
    return st;
}

/* ---- GatherND ---- */

typedef struct { int b, m; } gathernd_geom;

static ld_status gathernd_geometry(ld_kctx *k, gathernd_geom *g) {
    const ld_tensor *x = k->in[0], *ind = k->in[1];
    LD_TRY(ld_index_check_int(ind, "GatherND indices"));
    int64_t b = ld_attr_int(k->node, "batch_dims", 0);
    int q = ind->ndim, r = x->ndim;
    if (q < 1 || r < 1) return ld_error(LD_ERR_DATA, "GatherND data and indices must have rank >= 1");
    if (b < 0 || b >= q || b >= r)
        return ld_error(LD_ERR_DATA, "GatherND batch_dims %lld must be in [0, min(rank(data), rank(indices)))",
                        (long long)b);
    int64_t m = ind->dims[q - 1];
    if (m < 1 || m > r - b)
        return ld_error(LD_ERR_DATA, "GatherND indices last dim %lld must be in [1, %lld]", (long long)m,
                        (long long)(r - b));
    for (int i = 0; i < b; i++)
        if (x->dims[i] != ind->dims[i])
            return ld_error(LD_ERR_DATA, "GatherND batch dim %d differs: data %lld, indices %lld", i,
                            (long long)x->dims[i], (long long)ind->dims[i]);
    g->b = (int)b;
    g->m = (int)m;
    return LD_OK;
}

ld_status ld_index_gathernd_shape(ld_kctx *k) {
    const ld_tensor *x = k->in[0], *ind = k->in[1];
    gathernd_geom g;
    LD_TRY(gathernd_geometry(k, &g));
    int64_t dims[2 * LD_MAX_DIMS];   // ind[:q-1] + x[b+m:]
    int n = 0;
    for (int i = 0; i < ind->ndim - 1; i++) dims[n++] = ind->dims[i];
    for (int i = g.b + g.m; i < x->ndim; i++) dims[n++] = x->dims[i];
    return ld_tensor_set_shape(k->out[0], x->dtype, n, dims);
}

ld_status ld_index_gathernd_compute(ld_kctx *k) {
    const ld_tensor *x = k->in[0], *ind = k->in[1];
    gathernd_geom g;
    LD_TRY(gathernd_geometry(k, &g));
    int b = g.b, m = g.m;
    int64_t nbatch = ld_index_prod(x->dims, 0, b), bsize = ld_index_prod(x->dims, b, x->ndim);
    int64_t ntup = ld_index_prod(ind->dims, b, ind->ndim - 1);   // index tuples per batch
    int64_t blk = ld_index_prod(x->dims, b + m, x->ndim);
    int64_t st_[LD_MAX_DIMS];
    for (int j = 0; j < m; j++) st_[j] = ld_index_prod(x->dims, b + j + 1, x->ndim);
    int64_t *v;
    LD_TRY(ld_index_load(ind, -1, "GatherND indices", &v));
    ld_status st = LD_OK;
    for (int64_t bi = 0; bi < nbatch && st == LD_OK; bi++) {
        for (int64_t t = 0; t < ntup && st == LD_OK; t++) {
            int64_t p = bi * ntup + t, off = bi * bsize;
            for (int j = 0; j < m && st == LD_OK; j++) {
                int64_t ix = 0;
                st = ld_index_fix(v[p * m + j], x->dims[b + j], "GatherND indices", &ix);
                off += ix * st_[j];
            }
            v[p] = off;   /* p <= p*m: the tuple's slot is already read */
        }
    }
    if (st == LD_OK) st = ld_index_take_blocks(k->out[0], x, v, nbatch * ntup, blk);
    free(v);
    return st;
}

/* ---- Compress ---- */

ld_status ld_index_compress_shape(ld_kctx *k) { return LD_DYNAMIC; }

ld_status ld_index_compress_compute(ld_kctx *k) {
    const ld_tensor *x = k->in[0], *cond = k->in[1];
    if (cond->ndim != 1) return ld_error(LD_ERR_DATA, "Compress condition must be 1-D");
    bool has_axis = ld_node_attr(k->node, "axis") != NULL;
    int axis = 0;
    if (has_axis) LD_TRY(ld_axis_norm(ld_attr_int(k->node, "axis", 0), x->ndim, &axis));
    int64_t outer = has_axis ? ld_index_prod(x->dims, 0, axis) : 1;
    int64_t n = has_axis ? x->dims[axis] : x->numel;
    int64_t inner = has_axis ? ld_index_prod(x->dims, axis + 1, x->ndim) : 1;
    int64_t *sel = ld_index_alloc_i64(n), cnt = 0;
    if (!sel) return nomem();
    for (int64_t j = 0; j < cond->numel; j++) {
        if (ld_tensor_get_f64(cond, j) == 0) continue;
        if (j >= n) {
            free(sel);
            return ld_error(LD_ERR_DATA, "Compress condition is true at %lld, beyond the size %lld",
                            (long long)j, (long long)n);
        }
        sel[cnt++] = j;
    }
    int64_t dims[LD_MAX_DIMS];
    int r = 1;
    dims[0] = cnt;
    if (has_axis) {
        r = x->ndim;
        memcpy(dims, x->dims, sizeof(int64_t) * r);
        dims[axis] = cnt;
    }
    ld_status st = LD_OK;
    if (LD_HAS_OUT(k, 0)) {
        st = ld_tensor_alloc(k->out[0], x->dtype, r, dims);
        if (st == LD_OK) st = ld_index_take_axis(k->out[0], x, outer, n, inner, sel, cnt);
    }
    free(sel);
    return st;
}

/* ---- NonZero ---- */

ld_status ld_index_nonzero_shape(ld_kctx *k) { return LD_DYNAMIC; }

/* Whether element i is nonzero (floats: -0 is zero, NaN is not; strings: non-empty). */
static bool elem_nonzero(const ld_tensor *t, int64_t i) {
    const uint8_t *b = t->data;
    switch (t->dtype) {
    case LD_F32: { uint32_t u; memcpy(&u, b + 4 * i, 4); return (u & 0x7fffffffu) != 0; }
    case LD_F64: { uint64_t u; memcpy(&u, b + 8 * i, 8); return (u & 0x7fffffffffffffffull) != 0; }
    case LD_F16: case LD_BF16: { uint16_t u; memcpy(&u, b + 2 * i, 2); return (u & 0x7fff) != 0; }
    case LD_F8E4M3FN: case LD_F8E5M2: return (b[i] & 0x7f) != 0;
    case LD_F4E2M1: return (b[i] & 0x7) != 0;
    case LD_F8E8M0: return true;   /* no zero encoding */
    case LD_STRING: { const char *s = ((char *const *)t->data)[i]; return s && *s; }
    default: {
        size_t es = ld_dtype_size(t->dtype);
        for (size_t j = 0; j < es; j++) if (b[i * es + j]) return true;
        return false;
    }
    }
}

ld_status ld_index_nonzero_compute(ld_kctx *k) {
    const ld_tensor *x = k->in[0];
    int r = x->ndim ? x->ndim : 1;   /* a scalar acts as shape (1,) like numpy */
    int64_t xd[LD_MAX_DIMS];
    if (x->ndim) memcpy(xd, x->dims, sizeof(int64_t) * r);
    else xd[0] = 1;
    int64_t nnz = 0;
    for (int64_t i = 0; i < x->numel; i++) nnz += elem_nonzero(x, i);
    int64_t dims[2] = {r, nnz};
    if (!LD_HAS_OUT(k, 0)) return LD_OK;
    LD_TRY(ld_tensor_alloc(k->out[0], LD_I64, 2, dims));
    int64_t *y = k->out[0]->data, c[LD_MAX_DIMS] = {0}, p = 0;
    for (int64_t i = 0; i < x->numel; i++) {
        if (elem_nonzero(x, i)) {
            for (int d = 0; d < r; d++) y[d * nnz + p] = c[d];
            p++;
        }
        for (int d = r - 1; d >= 0; d--) {
            if (++c[d] < xd[d]) break;
            c[d] = 0;
        }
    }
    return LD_OK;
}

/* ---- OneHot ---- */

static ld_status onehot_depth(ld_kctx *k, int64_t *depth) {
    const ld_tensor *d = k->in[1];
    if (d->numel != 1) return ld_error(LD_ERR_DATA, "OneHot depth must have one element");
    double v = ld_tensor_get_f64(d, 0);
    if (!(v >= 0) || v > 9e18) return ld_error(LD_ERR_DATA, "OneHot depth %g is invalid", v);
    *depth = ld_dtype_is_int(d->dtype) ? ld_tensor_get_i64(d, 0) : (int64_t)v;
    return LD_OK;
}

ld_status ld_index_onehot_shape(ld_kctx *k) {
    LD_NEED_DATA(k, 1);
    const ld_tensor *ind = k->in[0], *vals = k->in[2];
    if (vals->numel != 2) return ld_error(LD_ERR_DATA, "OneHot values must have 2 elements (off, on)");
    int64_t depth;
    LD_TRY(onehot_depth(k, &depth));
    int r = ind->ndim + 1, axis;
    LD_TRY(ld_axis_norm(ld_attr_int(k->node, "axis", -1), r, &axis));
    int64_t dims[LD_MAX_DIMS + 1];   // ind[:axis] + depth + ind[axis:]
    for (int i = 0, n = 0; i < r; i++) dims[i] = i == axis ? depth : ind->dims[n++];
    return ld_tensor_set_shape(k->out[0], vals->dtype, r, dims);
}

ld_status ld_index_onehot_compute(ld_kctx *k) {
    const ld_tensor *ind = k->in[0], *vals = k->in[2];
    ld_tensor *y = k->out[0];
    int64_t depth;
    LD_TRY(onehot_depth(k, &depth));
    int axis;
    LD_TRY(ld_axis_norm(ld_attr_int(k->node, "axis", -1), ind->ndim + 1, &axis));
    bool negative_ok = k->node->op && k->node->op->since >= 11;
    int64_t outer = ld_index_prod(ind->dims, 0, axis), inner = ld_index_prod(ind->dims, axis, ind->ndim);
    int64_t *soff = ld_index_alloc_i64(y->numel);   /* 0 off, 1 on */
    if (!soff) return nomem();
    memset(soff, 0, sizeof(int64_t) * (size_t)y->numel);
    bool int_ind = ld_dtype_is_int(ind->dtype);
    for (int64_t o = 0; o < outer; o++) {
        for (int64_t i = 0; i < inner; i++) {
            int64_t p = o * inner + i;
            int64_t v = int_ind ? ld_tensor_get_i64(ind, p) : (int64_t)ld_tensor_get_f64(ind, p);
            if (v < 0 && negative_ok) v += depth;
            if (v >= 0 && v < depth) soff[(o * depth + v) * inner + i] = 1;
        }
    }
    ld_status st = ld_index_take_blocks(y, vals, soff, y->numel, 1);
    free(soff);
    return st;
}

/* ---- ReverseSequence ---- */

static ld_status revseq_axes(ld_kctx *k, int *batch, int *time) {
    int64_t b = ld_attr_int(k->node, "batch_axis", 1), t = ld_attr_int(k->node, "time_axis", 0);
    if (!((b == 0 && t == 1) || (b == 1 && t == 0)))
        return ld_error(LD_ERR_DATA, "ReverseSequence batch_axis/time_axis must be 0/1 or 1/0, got %lld/%lld",
                        (long long)b, (long long)t);
    if (k->in[0]->ndim < 2) return ld_error(LD_ERR_DATA, "ReverseSequence input must have rank >= 2");
    *batch = (int)b;
    *time = (int)t;
    return LD_OK;
}

ld_status ld_index_revseq_shape(ld_kctx *k) {
    int b, t;
    LD_TRY(revseq_axes(k, &b, &t));
    const ld_tensor *x = k->in[0], *lens = k->in[1];
    if (lens->ndim != 1 || lens->dims[0] != x->dims[b])
        return ld_error(LD_ERR_DATA, "ReverseSequence sequence_lens must have shape (%lld)", (long long)x->dims[b]);
    return ld_tensor_set_shape(k->out[0], x->dtype, x->ndim, x->dims);
}

ld_status ld_index_revseq_compute(ld_kctx *k) {
    int ba, ta;
    LD_TRY(revseq_axes(k, &ba, &ta));
    const ld_tensor *x = k->in[0];
    int64_t *lens;
    LD_TRY(ld_index_load(k->in[1], -1, "ReverseSequence sequence_lens", &lens));
    int64_t B = x->dims[ba], T = x->dims[ta], inner = ld_index_prod(x->dims, 2, x->ndim);
    for (int64_t b = 0; b < B; b++)
        if (lens[b] < 0 || lens[b] > T) {
            ld_status st = ld_error(LD_ERR_DATA, "ReverseSequence sequence_lens[%lld] = %lld is outside [0, %lld]",
                                    (long long)b, (long long)lens[b], (long long)T);
            free(lens);
            return st;
        }
    int64_t *soff = ld_index_alloc_i64(B * T);
    if (!soff) { free(lens); return nomem(); }
    for (int64_t b = 0; b < B; b++)
        for (int64_t t = 0; t < T; t++) {
            int64_t s = t < lens[b] ? lens[b] - 1 - t : t;
            int64_t dpos = ta == 0 ? t * B + b : b * T + t, spos = ta == 0 ? s * B + b : b * T + s;
            soff[dpos] = spos * inner;
        }
    ld_status st = ld_index_take_blocks(k->out[0], x, soff, B * T, inner);
    free(soff);
    free(lens);
    return st;
}
