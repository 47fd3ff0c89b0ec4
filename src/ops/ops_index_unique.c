/*
** ops_index_unique.c — Unique (opset 11): the distinct elements, or distinct slices along an
** axis, of a tensor of any dtype, sorted or in order of first occurrence, with the indices
** of first occurrences, the inverse mapping and the counts. Output sizes depend on the data,
** so the kernel allocates its outputs (LD_OPF_ALLOCS).
**
** Slices are ordered lexicographically (numpy.unique); NaNs compare equal to each other and
** above every number. A stable merge sort keeps equal slices in index order, so the first of
** each run is the first occurrence.
*/
#include "ops_index.h"

#include <stdlib.h>
#include <string.h>

typedef struct uq_view {
    const ld_tensor *x;
    int64_t outer, n, inner;   // slices j = x[o, j, i] over (outer, inner)
} uq_view;

#define CMP_NUM(va, vb)                                                                    \
    ((va) != (va) ? ((vb) != (vb) ? 0 : 1) : (vb) != (vb) ? -1 : ((va) > (vb)) - ((va) < (vb)))

#define CMP_AS(T)                                                                          \
    do {                                                                                   \
        T va = ((const T *)t->data)[a], vb = ((const T *)t->data)[b];                      \
        return CMP_NUM(va, vb);                                                            \
    } while (0)

static int elem_cmp(const ld_tensor *t, int64_t a, int64_t b) {
    switch (t->dtype) {
    case LD_F32: CMP_AS(float);
    case LD_F64: CMP_AS(double);
    case LD_I8: CMP_AS(int8_t);
    case LD_U8: case LD_BOOL: CMP_AS(uint8_t);
    case LD_I16: CMP_AS(int16_t);
    case LD_U16: CMP_AS(uint16_t);
    case LD_I32: CMP_AS(int32_t);
    case LD_U32: CMP_AS(uint32_t);
    case LD_I64: CMP_AS(int64_t);
    case LD_U64: CMP_AS(uint64_t);
    case LD_STRING: {
        const char *sa = ((char *const *)t->data)[a], *sb = ((char *const *)t->data)[b];
        return strcmp(sa ? sa : "", sb ? sb : "");
    }
    default: {
        double va = ld_tensor_get_f64(t, a), vb = ld_tensor_get_f64(t, b);
        return CMP_NUM(va, vb);
    }
    }
}

static int slice_cmp(const uq_view *v, int64_t a, int64_t b) {
    for (int64_t o = 0; o < v->outer; o++) {
        int64_t pa = (o * v->n + a) * v->inner, pb = (o * v->n + b) * v->inner;
        for (int64_t i = 0; i < v->inner; i++) {
            int r = elem_cmp(v->x, pa + i, pb + i);
            if (r) return r;
        }
    }
    return 0;
}

/* Stable merge sort of slice numbers a[0..n) (tmp: scratch of n). */
static void slice_sort(const uq_view *v, int64_t *a, int64_t *tmp, int64_t n) {
    if (n < 2) return;
    int64_t h = n / 2;
    slice_sort(v, a, tmp, h);
    slice_sort(v, a + h, tmp, n - h);
    int64_t i = 0, j = h, o = 0;
    while (i < h && j < n) tmp[o++] = slice_cmp(v, a[j], a[i]) < 0 ? a[j++] : a[i++];
    while (i < h) tmp[o++] = a[i++];
    while (j < n) tmp[o++] = a[j++];
    memcpy(a, tmp, sizeof(int64_t) * (size_t)n);
}

ld_status ld_index_unique_shape(ld_kctx *k) { return LD_DYNAMIC; }

typedef struct uq_result {
    int64_t nuniq;
    int64_t *first;     // (nuniq) first occurrence of each output group
    int64_t *count;     // (nuniq)
    int64_t *inverse;   // (n) output group of each slice
} uq_result;

static ld_status unique_find(const uq_view *v, bool sorted, uq_result *r) {
    int64_t n = v->n, sz = n ? n : 1;
    int64_t *order = malloc(sizeof(int64_t) * sz), *tmp = malloc(sizeof(int64_t) * sz);
    r->first = malloc(sizeof(int64_t) * sz);
    r->count = calloc((size_t)sz, sizeof(int64_t));
    r->inverse = malloc(sizeof(int64_t) * sz);
    if (!order || !tmp || !r->first || !r->count || !r->inverse) {
        free(order);
        free(tmp);
        return ld_error(LD_ERR_NOMEM, "out of memory in Unique");
    }
    for (int64_t j = 0; j < n; j++) order[j] = j;
    slice_sort(v, order, tmp, n);
    int64_t g = -1;
    for (int64_t p = 0; p < n; p++) {   /* runs of equal slices = groups in sorted order */
        if (p == 0 || slice_cmp(v, order[p - 1], order[p]) != 0) r->first[++g] = order[p];
        r->count[g]++;
        r->inverse[order[p]] = g;
    }
    r->nuniq = g + 1;
    if (!sorted) {   /* renumber groups by first occurrence: tmp[j] = group first seen at j */
        int64_t *newid = order, *cnt = malloc(sizeof(int64_t) * sz);
        if (!cnt) { free(order); free(tmp); return ld_error(LD_ERR_NOMEM, "out of memory in Unique"); }
        for (int64_t j = 0; j < n; j++) tmp[j] = -1;
        for (int64_t q = 0; q < r->nuniq; q++) tmp[r->first[q]] = q;
        int64_t next = 0;
        for (int64_t j = 0; j < n; j++)
            if (tmp[j] >= 0) newid[tmp[j]] = next++;
        for (int64_t q = 0; q < r->nuniq; q++) {
            tmp[newid[q]] = r->first[q];
            cnt[newid[q]] = r->count[q];
        }
        memcpy(r->first, tmp, sizeof(int64_t) * (size_t)r->nuniq);
        memcpy(r->count, cnt, sizeof(int64_t) * (size_t)r->nuniq);
        for (int64_t j = 0; j < n; j++) r->inverse[j] = newid[r->inverse[j]];
        free(cnt);
    }
    free(order);
    free(tmp);
    return LD_OK;
}

static ld_status unique_outputs(ld_kctx *k, const uq_view *v, const uq_result *r, int axis) {
    const ld_tensor *x = v->x;
    int64_t dims[LD_MAX_DIMS];
    int rank = 1;
    dims[0] = r->nuniq;
    if (axis >= 0) {
        rank = x->ndim;
        memcpy(dims, x->dims, sizeof(int64_t) * rank);
        dims[axis] = r->nuniq;
    }
    if (LD_HAS_OUT(k, 0)) {
        LD_TRY(ld_tensor_alloc(k->out[0], x->dtype, rank, dims));
        LD_TRY(ld_index_take_axis(k->out[0], x, v->outer, v->n, v->inner, r->first, r->nuniq));
    }
    const int64_t *src[3] = {r->first, r->inverse, r->count};
    int64_t len[3] = {r->nuniq, v->n, r->nuniq};
    for (int o = 1; o < 4; o++) {
        if (!LD_HAS_OUT(k, o)) continue;
        LD_TRY(ld_tensor_alloc(k->out[o], LD_I64, 1, &len[o - 1]));
        if (len[o - 1]) memcpy(k->out[o]->data, src[o - 1], sizeof(int64_t) * (size_t)len[o - 1]);
    }
    return LD_OK;
}

ld_status ld_index_unique_compute(ld_kctx *k) {
    const ld_tensor *x = k->in[0];
    uq_view v = {.x = x, .outer = 1, .n = x->numel, .inner = 1};
    int axis = -1;
    if (ld_node_attr(k->node, "axis")) {
        LD_TRY(ld_axis_norm(ld_attr_int(k->node, "axis", 0), x->ndim, &axis));
        if (x->ndim < 1) return ld_error(LD_ERR_DATA, "Unique with an axis needs rank >= 1");
        v.outer = ld_index_prod(x->dims, 0, axis);
        v.n = x->dims[axis];
        v.inner = ld_index_prod(x->dims, axis + 1, x->ndim);
    }
    uq_result r = {0};
    ld_status st = unique_find(&v, ld_attr_int(k->node, "sorted", 1) != 0, &r);
    if (st == LD_OK) st = unique_outputs(k, &v, &r, axis);
    free(r.first);
    free(r.count);
    free(r.inverse);
    return st;
}
