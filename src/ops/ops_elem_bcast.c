/*
** ops_elem_bcast.c — the loop engine of the elementwise family (see ops_elem.h): numpy
** broadcasting of up to three inputs to an output shape, folded into rows that the kernels'
** row functions process, and the split of big tensors across OpenMP threads.
**
** Broadcasting is planned once per call: output dims of size 1 are dropped and neighbouring
** dims are merged whenever every input walks them as one (e.g. (N,C,H,W) + (1,C,1,1) becomes
** (N, C, H*W) with the bias on stride (0,1,0)), so a same-shape or scalar op is one long row
** and the per-row bookkeeping is an odometer, never a div/mod per element.
*/
#include "ops_elem.h"

#include <string.h>
#ifdef _OPENMP
#include <omp.h>
#endif

#define ELEM_MAX_IN 3

typedef struct bcast_plan {
    int ndim;                                  /* merged rank (>= 1) */
    int64_t dims[LD_MAX_DIMS];                 /* merged output dims */
    int64_t st[ELEM_MAX_IN][LD_MAX_DIMS];      /* element stride of each input per dim */
    int nin;
    const char *base[ELEM_MAX_IN];
    size_t esz[ELEM_MAX_IN];
    char *out;
    size_t osz;
} bcast_plan;

static void plan_build(bcast_plan *pl, ld_tensor *out, const ld_tensor *const *in, int nin) {
    int64_t st[ELEM_MAX_IN][LD_MAX_DIMS];
    pl->nin = nin;
    pl->out = out->data;
    pl->osz = ld_dtype_size(out->dtype);
    for (int j = 0; j < nin; j++) {
        ld_broadcast_strides(in[j], out->ndim, out->dims, st[j]);
        pl->base[j] = in[j]->data;
        pl->esz[j] = ld_dtype_size(in[j]->dtype);
    }
    int nd = 0;
    for (int d = 0; d < out->ndim; d++) {
        if (out->dims[d] == 1) continue;
        bool merge = nd > 0;
        for (int j = 0; j < nin && merge; j++)
            merge = pl->st[j][nd - 1] == st[j][d] * out->dims[d];
        if (merge) {
            pl->dims[nd - 1] *= out->dims[d];
            for (int j = 0; j < nin; j++) pl->st[j][nd - 1] = st[j][d];
        } else {
            pl->dims[nd] = out->dims[d];
            for (int j = 0; j < nin; j++) pl->st[j][nd] = st[j][d];
            nd++;
        }
    }
    if (nd == 0) {                              /* every dim is 1: a single element */
        pl->dims[0] = 1;
        for (int j = 0; j < nin; j++) pl->st[j][0] = 0;
        nd = 1;
    }
    pl->ndim = nd;
    for (int j = 0; j < nin; j++) assert(pl->st[j][nd - 1] == 0 || pl->st[j][nd - 1] == 1);
}

/* Process output elements [e0, e1) row by row. */
static void plan_run(const bcast_plan *pl, int64_t e0, int64_t e1, ld_elem_row_fn fn,
                     const ld_elem_par *p) {
    int nd = pl->ndim, last = nd - 1, nin = pl->nin;
    int64_t idx[LD_MAX_DIMS], off[ELEM_MAX_IN] = {0};
    int inc[ELEM_MAX_IN] = {0};
    const void *ptr[ELEM_MAX_IN] = {0};
    int64_t rem = e0;
    for (int d = last; d >= 0; d--) {
        idx[d] = rem % pl->dims[d];
        rem /= pl->dims[d];
    }
    for (int j = 0; j < nin; j++) {
        for (int d = 0; d < nd; d++) off[j] += idx[d] * pl->st[j][d];
        inc[j] = (int)pl->st[j][last];
    }
    int64_t row = pl->dims[last];
    for (int64_t e = e0; e < e1;) {
        int64_t cnt = LD_MIN(row - idx[last], e1 - e);
        for (int j = 0; j < nin; j++) ptr[j] = pl->base[j] + off[j] * (int64_t)pl->esz[j];
        fn(pl->out + e * (int64_t)pl->osz, ptr, inc, cnt, p);
        e += cnt;
        if (e >= e1) break;
        for (int j = 0; j < nin; j++) off[j] -= idx[last] * inc[j];   /* back to row start */
        idx[last] = 0;
        for (int d = last - 1; d >= 0; d--) {                          /* odometer carry */
            idx[d]++;
            for (int j = 0; j < nin; j++) off[j] += pl->st[j][d];
            if (idx[d] < pl->dims[d]) break;
            idx[d] = 0;
            for (int j = 0; j < nin; j++) off[j] -= pl->st[j][d] * pl->dims[d];
        }
    }
}

/* Number of threads for n elements of elementwise work. */
static int elem_threads(int64_t n) {
#ifdef _OPENMP
    if (n > LD_ELEM_PAR_MIN && !omp_in_parallel()) return omp_get_max_threads();
#endif
    (void)n;
    return 1;
}

/* Thread t's share [*b, *e) of n elements, cut at multiples of 64 elements. */
static void elem_share(int64_t n, int t, int nt, int64_t *b, int64_t *e) {
    int64_t per = (n + nt - 1) / nt;
    per = (per + 63) & ~(int64_t)63;
    *b = LD_MIN(n, per * t);
    *e = LD_MIN(n, *b + per);
}

ld_status ld_elem_bcast(ld_tensor *out, const ld_tensor *const *in, int nin, ld_elem_row_fn fn,
                        const ld_elem_par *p) {
    assert(nin >= 1 && nin <= ELEM_MAX_IN);
    if (out->numel == 0) return LD_OK;
    bcast_plan pl;
    plan_build(&pl, out, in, nin);
    int nt = elem_threads(out->numel);
    if (nt <= 1) {
        plan_run(&pl, 0, out->numel, fn, p);
        return LD_OK;
    }
#ifdef _OPENMP
#pragma omp parallel num_threads(nt)
    {
        int64_t b, e;
        elem_share(out->numel, omp_get_thread_num(), omp_get_num_threads(), &b, &e);
        if (b < e) plan_run(&pl, b, e, fn, p);
    }
#endif
    return LD_OK;
}

void ld_elem_map(ld_tensor *out, const ld_tensor *in, ld_elem_map_fn fn, const ld_elem_par *p) {
    int64_t n = out->numel;
    size_t osz = ld_dtype_size(out->dtype), isz = ld_dtype_size(in->dtype);
    char *o = out->data;
    const char *x = in->data;
    int nt = elem_threads(n);
    if (nt <= 1) {
        if (n > 0) fn(o, x, n, p);
        return;
    }
#ifdef _OPENMP
#pragma omp parallel num_threads(nt)
    {
        int64_t b, e;
        elem_share(n, omp_get_thread_num(), omp_get_num_threads(), &b, &e);
        if (b < e) fn(o + b * (int64_t)osz, x + b * (int64_t)isz, e - b, p);
    }
#endif
}

ld_status ld_elem_bcast_shape(ld_kctx *k, int first, int count, int *ndim, int64_t *dims) {
    int nd = 0;
    int64_t d[LD_MAX_DIMS];
    bool any = false;
    for (int i = first; i < first + count && i < k->nin; i++) {
        if (!LD_HAS_IN(k, i)) continue;
        const ld_tensor *t = k->in[i];
        if (t->kind != LD_KIND_TENSOR)
            return ld_error(LD_ERR_DATA, "input %d is not a tensor", i);
        if (!any) {
            nd = t->ndim;
            memcpy(d, t->dims, sizeof(int64_t) * nd);
            any = true;
        } else {
            LD_TRY(ld_broadcast_dims(nd, d, t->ndim, t->dims, &nd, d));
        }
    }
    if (!any) return ld_error(LD_ERR_DATA, "no input tensor");
    *ndim = nd;
    memcpy(dims, d, sizeof(int64_t) * nd);
    return LD_OK;
}

const ld_tensor *ld_elem_legacy_b(ld_kctx *k, ld_tensor *view) {
    const ld_tensor *a = k->in[0], *b = k->in[1];
    const ld_node *n = k->node;
    if (n->opset >= 7 || ld_attr_int(n, "broadcast", 0) == 0 || !ld_node_attr(n, "axis"))
        return b;
    int64_t axis = ld_attr_int(n, "axis", 0);
    if (axis < 0) axis += a->ndim;
    int trail = (int)(a->ndim - axis - b->ndim);
    if (axis < 0 || trail <= 0 || b->ndim + trail > LD_MAX_DIMS) return b;
    *view = *b;
    view->owns = false;
    for (int i = 0; i < trail; i++) view->dims[b->ndim + i] = 1;
    view->ndim = b->ndim + trail;
    return view;
}

ld_status ld_elem_same_dtype(ld_kctx *k, int first) {
    const ld_tensor *t0 = k->in[first];
    for (int i = first + 1; i < k->nin; i++) {
        if (!LD_HAS_IN(k, i) || k->in[i]->dtype == t0->dtype) continue;
        return ld_error(LD_ERR_DATA, "input %d has dtype %s but input %d has %s", i,
                        ld_dtype_name(k->in[i]->dtype), first, ld_dtype_name(t0->dtype));
    }
    return LD_OK;
}

ld_status ld_elem_check_strings(const ld_tensor *t) {
    char *const *s = t->data;
    for (int64_t i = 0; i < t->numel; i++)
        if (!s[i]) return ld_error(LD_ERR_NOMEM, "out of memory copying strings");
    return LD_OK;
}
