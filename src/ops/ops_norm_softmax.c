/*
** ops_norm_softmax.c — Softmax, LogSoftmax and Hardmax.
**
** Opset < 13 coerces the input to 2-D at `axis` (default 1) and normalises each row of that
** matrix; opset >= 13 normalises along the single axis `axis` (default -1). Both views are an
** (outer, n, inner) layout: contiguous rows (inner == 1: the last axis, or any 2-D coercion)
** take a vectorised per-row path, other axes work on column blocks with contiguous inner
** loops. Float32 only (the executor widens f16/bf16/f64).
*/
#include "ops_norm.h"

#include <float.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

typedef enum { SM_SOFT, SM_LOG, SM_HARD } sm_kind;

typedef struct { int64_t outer, n, inner; } sm_layout;

enum { SM_BLOCK = 256 };   /* columns per work item on the strided path */

static ld_status sm_layout_get(ld_kctx *k, sm_layout *L) {
    const ld_tensor *x = k->in[0];
    bool legacy = k->node->op->since < 13;
    int64_t axis = ld_attr_int(k->node, "axis", legacy ? 1 : -1);
    int a;
    L->outer = L->n = L->inner = 1;
    if (x->ndim == 0) {
        if (axis != 0 && axis != -1) return ld_error(LD_ERR_DATA, "axis %lld is out of range for a scalar", (long long)axis);
        return LD_OK;
    }
    LD_TRY(ld_axis_norm(axis, x->ndim, &a));
    for (int d = 0; d < a; d++) L->outer *= x->dims[d];
    if (legacy) {
        for (int d = a; d < x->ndim; d++) L->n *= x->dims[d];
    } else {
        L->n = x->dims[a];
        for (int d = a + 1; d < x->ndim; d++) L->inner *= x->dims[d];
    }
    return LD_OK;
}

ld_status ld_norm_softmax_shape(ld_kctx *k) {
    const ld_tensor *x = k->in[0];
    LD_TRY(ld_check_dtype(k, 0, LD_DT(LD_F32)));
    sm_layout L;
    LD_TRY(sm_layout_get(k, &L));
    return ld_tensor_set_shape(k->out[0], x->dtype, x->ndim, x->dims);
}

/* ---- contiguous rows ---- */

static float sm_row_max(const float *x, int64_t n) {
    float m = -INFINITY;
#pragma omp simd reduction(max:m)
    for (int64_t i = 0; i < n; i++) m = x[i] > m ? x[i] : m;
    return m;
}

/* y = softmax(x) over n; all -Inf rows give zeros when zero_masked, else NaN like numpy. */
static void sm_row_soft(const float *x, float *y, int64_t n, bool zero_masked) {
    float m = sm_row_max(x, n);
    if (m == -INFINITY && zero_masked) {
        memset(y, 0, sizeof(float) * n);
        return;
    }
    float s = 0.0f;
#pragma omp simd reduction(+:s)
    for (int64_t i = 0; i < n; i++) {
        float e = ld_norm_expf(x[i] - m);
        y[i] = e;
        s += e;
    }
    float inv = 1.0f / s;
#pragma omp simd
    for (int64_t i = 0; i < n; i++) y[i] *= inv;
}

void ld_norm_softmax_row(float *x, int64_t n) { sm_row_soft(x, x, n, true); }

static void sm_row_log(const float *x, float *y, int64_t n) {
    float m = sm_row_max(x, n);
    float s = 0.0f;
#pragma omp simd reduction(+:s)
    for (int64_t i = 0; i < n; i++) s += ld_norm_expf(x[i] - m);
    float off = m + logf(s);
#pragma omp simd
    for (int64_t i = 0; i < n; i++) y[i] = x[i] - off;
}

static void sm_row_hard(const float *x, float *y, int64_t n) {
    int64_t best = 0;
    for (int64_t i = 1; i < n; i++)
        if (x[i] > x[best]) best = i;
    memset(y, 0, sizeof(float) * n);
    if (n > 0) y[best] = 1.0f;
}

static void sm_rows(sm_kind kind, const float *x, float *y, int64_t rows, int64_t n) {
#pragma omp parallel for schedule(static) if (rows * n > 32768 && rows > 1)
    for (int64_t r = 0; r < rows; r++) {
        const float *xr = x + r * n;
        float *yr = y + r * n;
        if (kind == SM_SOFT) sm_row_soft(xr, yr, n, false);
        else if (kind == SM_LOG) sm_row_log(xr, yr, n);
        else sm_row_hard(xr, yr, n);
    }
}

/* ---- strided axis: block of w columns of an (n, inner) slab ---- */

static void sm_block(sm_kind kind, const float *x, float *y, int64_t n, int64_t inner, int64_t w) {
    float m[SM_BLOCK], s[SM_BLOCK];
    int64_t best[SM_BLOCK];
    for (int64_t i = 0; i < w; i++) { m[i] = -INFINITY; s[i] = 0.0f; best[i] = 0; }
    for (int64_t j = 0; j < n; j++) {
        const float *xj = x + j * inner;
        for (int64_t i = 0; i < w; i++) {
            if (xj[i] > m[i]) { m[i] = xj[i]; best[i] = j; }
        }
    }
    if (kind == SM_HARD) {
        for (int64_t j = 0; j < n; j++)
            for (int64_t i = 0; i < w; i++) y[j * inner + i] = best[i] == j ? 1.0f : 0.0f;
        return;
    }
    for (int64_t j = 0; j < n; j++) {
        const float *xj = x + j * inner;
        float *yj = y + j * inner;
        if (kind == SM_SOFT) {
#pragma omp simd
            for (int64_t i = 0; i < w; i++) {
                yj[i] = ld_norm_expf(xj[i] - m[i]);
                s[i] += yj[i];
            }
        } else {
#pragma omp simd
            for (int64_t i = 0; i < w; i++) s[i] += ld_norm_expf(xj[i] - m[i]);
        }
    }
    for (int64_t i = 0; i < w; i++) s[i] = kind == SM_SOFT ? 1.0f / s[i] : m[i] + logf(s[i]);
    for (int64_t j = 0; j < n; j++) {
        const float *xj = x + j * inner;
        float *yj = y + j * inner;
        if (kind == SM_SOFT) {
#pragma omp simd
            for (int64_t i = 0; i < w; i++) yj[i] *= s[i];
        } else {
#pragma omp simd
            for (int64_t i = 0; i < w; i++) yj[i] = xj[i] - s[i];
        }
    }
}

static void sm_strided(sm_kind kind, const float *x, float *y, const sm_layout *L) {
    int64_t nb = (L->inner + SM_BLOCK - 1) / SM_BLOCK, items = L->outer * nb;
#pragma omp parallel for schedule(static) if (L->outer * L->n * L->inner > 32768 && items > 1)
    for (int64_t it = 0; it < items; it++) {
        int64_t o = it / nb, b = it % nb;
        int64_t i0 = b * SM_BLOCK, w = LD_MIN(SM_BLOCK, L->inner - i0);
        int64_t off = o * L->n * L->inner + i0;
        sm_block(kind, x + off, y + off, L->n, L->inner, w);
    }
}

static ld_status sm_run(ld_kctx *k, sm_kind kind) {
    sm_layout L;
    LD_TRY(sm_layout_get(k, &L));
    const float *x = k->in[0]->data;
    float *y = k->out[0]->data;
    if (k->in[0]->numel == 0) return LD_OK;
    if (L.inner == 1) sm_rows(kind, x, y, L.outer, L.n);
    else sm_strided(kind, x, y, &L);
    return LD_OK;
}

ld_status ld_norm_softmax_compute(ld_kctx *k) { return sm_run(k, SM_SOFT); }
ld_status ld_norm_logsoftmax_compute(ld_kctx *k) { return sm_run(k, SM_LOG); }
ld_status ld_norm_hardmax_compute(ld_kctx *k) { return sm_run(k, SM_HARD); }
