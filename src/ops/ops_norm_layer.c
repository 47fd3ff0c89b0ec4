/*
** ops_norm_layer.c — LayerNormalization (17), RMSNormalization (23) and GroupNormalization
** (18: scale/bias per group, 21: per channel).
**
** Layer/RMS normalisation views X as (rows, cols) with cols = prod(X.shape[axis:]); every row
** is normalised on its own (OpenMP over rows, contiguous vectorised inner loops). Scale and
** bias broadcast unidirectionally to X; the usual shape X.shape[axis:] is used in place, any
** other broadcastable shape is expanded once per call. Float32 only (executor widens).
*/
#include "ops_norm.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define PAR_MIN 32768

/* ---- parameter broadcasting ---- */

typedef struct {
    const float *p;      /* cols values (per_row) or rows*cols values; NULL when absent */
    float *owned;        /* expansion buffer to free */
    bool per_row;        /* same values for every row */
} ln_param;

/* Make parameter tensor t (broadcastable to x) usable as ln_param for rows of cols. */
static ld_status ln_param_get(const ld_tensor *t, const ld_tensor *x, int axis, int64_t cols,
                              const char *what, ln_param *out) {
    memset(out, 0, sizeof *out);
    if (!t) return LD_OK;
    int nd;
    int64_t bd[LD_MAX_DIMS];
    LD_TRY(ld_broadcast_dims(t->ndim, t->dims, x->ndim, x->dims, &nd, bd));
    bool same = nd == x->ndim;
    for (int d = 0; same && d < nd; d++) same = bd[d] == x->dims[d];
    if (!same) {
        char a[128], b[128];
        return ld_error(LD_ERR_DATA, "%s of shape %s does not broadcast to the input shape %s", what,
                        ld_shape_str(t, a, sizeof a), ld_shape_str(x, b, sizeof b));
    }
    int64_t st[LD_MAX_DIMS];
    ld_broadcast_strides(t, x->ndim, x->dims, st);
    bool per_row = true;
    for (int d = 0; d < axis; d++) per_row = per_row && st[d] == 0;
    out->per_row = per_row;
    if (per_row && t->numel == cols) {   /* common case: exactly X.shape[axis:] */
        out->p = t->data;
        return LD_OK;
    }
    int first = per_row ? axis : 0;
    int64_t n = per_row ? cols : x->numel;
    out->owned = malloc(sizeof(float) * (n > 0 ? n : 1));
    if (!out->owned) return ld_oom();
    const float *src = t->data;
    int64_t idx[LD_MAX_DIMS] = {0}, pos = 0;
    for (int64_t e = 0; e < n; e++) {
        out->owned[e] = src[pos];
        for (int d = x->ndim - 1; d >= first; d--) {
            pos += st[d];
            if (++idx[d] < x->dims[d]) break;
            pos -= st[d] * idx[d];
            idx[d] = 0;
        }
    }
    out->p = out->owned;
    return LD_OK;
}

static const float *ln_param_row(const ln_param *p, int64_t r, int64_t cols) {
    if (!p->p) return NULL;
    return p->per_row ? p->p : p->p + r * cols;
}

/* ---- LayerNormalization / RMSNormalization ---- */

typedef struct {
    int axis;
    int64_t rows, cols;
    float eps;
} ln_layout;

static ld_status ln_layout_get(ld_kctx *k, ln_layout *L) {
    const ld_tensor *x = k->in[0];
    if (x->ndim == 0) return ld_error(LD_ERR_DATA, "%s needs an input of rank >= 1", k->node->op_type);
    if (!LD_HAS_IN(k, 1)) return ld_error(LD_ERR_DATA, "%s needs a Scale input", k->node->op_type);
    LD_TRY(ld_axis_norm(ld_attr_int(k->node, "axis", -1), x->ndim, &L->axis));
    L->rows = L->cols = 1;
    for (int d = 0; d < L->axis; d++) L->rows *= x->dims[d];
    for (int d = L->axis; d < x->ndim; d++) L->cols *= x->dims[d];
    L->eps = ld_attr_float(k->node, "epsilon", 1e-5f);
    return LD_OK;
}

/* Shared by LayerNormalization (Y, Mean, InvStdDev) and RMSNormalization (Y). */
ld_status ld_norm_layernorm_shape(ld_kctx *k) {
    const ld_tensor *x = k->in[0];
    ln_layout L;
    LD_TRY(ld_check_dtype(k, 0, LD_DT(LD_F32)));
    LD_TRY(ln_layout_get(k, &L));
    for (int i = 1; i < 3 && i < k->nin; i++) {
        if (!LD_HAS_IN(k, i)) continue;
        int nd;
        int64_t bd[LD_MAX_DIMS];
        LD_TRY(ld_broadcast_dims(k->in[i]->ndim, k->in[i]->dims, x->ndim, x->dims, &nd, bd));
    }
    LD_TRY(ld_tensor_set_shape(k->out[0], x->dtype, x->ndim, x->dims));
    int64_t sd[LD_MAX_DIMS];
    for (int d = 0; d < x->ndim; d++) sd[d] = d < L.axis ? x->dims[d] : 1;
    for (int o = 1; o < 3 && o < k->nout; o++)
        if (LD_HAS_OUT(k, o)) LD_TRY(ld_tensor_set_shape(k->out[o], x->dtype, x->ndim, sd));
    return LD_OK;
}

static void ln_row(const float *x, float *y, int64_t n, float eps, const float *s, const float *b,
                   float *mean_out, float *inv_out) {
    double m, v;
    ld_norm_moments(x, n, &m, &v);
    float mf = (float)m, inv = (float)(1.0 / sqrt(v + eps));
    if (b) {
#pragma omp simd
        for (int64_t i = 0; i < n; i++) y[i] = (x[i] - mf) * inv * s[i] + b[i];
    } else {
#pragma omp simd
        for (int64_t i = 0; i < n; i++) y[i] = (x[i] - mf) * inv * s[i];
    }
    if (mean_out) *mean_out = mf;
    if (inv_out) *inv_out = inv;
}

ld_status ld_norm_layernorm_compute(ld_kctx *k) {
    const ld_tensor *x = k->in[0];
    ln_layout L;
    LD_TRY(ln_layout_get(k, &L));
    ln_param sc, bi;
    LD_TRY(ln_param_get(k->in[1], x, L.axis, L.cols, "Scale", &sc));
    ld_status st = ln_param_get(LD_HAS_IN(k, 2) ? k->in[2] : NULL, x, L.axis, L.cols, "B", &bi);
    if (st != LD_OK) { free(sc.owned); return st; }
    const float *xp = x->data;
    float *yp = k->out[0]->data;
    float *mo = LD_HAS_OUT(k, 1) ? k->out[1]->data : NULL;
    float *io = LD_HAS_OUT(k, 2) ? k->out[2]->data : NULL;
#pragma omp parallel for schedule(static) if (L.rows * L.cols > PAR_MIN && L.rows > 1)
    for (int64_t r = 0; r < L.rows; r++)
        ln_row(xp + r * L.cols, yp + r * L.cols, L.cols, L.eps, ln_param_row(&sc, r, L.cols),
               ln_param_row(&bi, r, L.cols), mo ? mo + r : NULL, io ? io + r : NULL);
    free(sc.owned);
    free(bi.owned);
    return LD_OK;
}

static void rms_row(const float *x, float *y, int64_t n, float eps, const float *s) {
    double q = 0.0;
    for (int64_t b = 0; b < n; b += 4096) {
        int64_t e = LD_MIN(n, b + 4096);
        float bq = 0.0f;
#pragma omp simd reduction(+:bq)
        for (int64_t i = b; i < e; i++) bq += x[i] * x[i];
        q += bq;
    }
    float inv = (float)(1.0 / sqrt(q / (double)(n > 0 ? n : 1) + eps));
#pragma omp simd
    for (int64_t i = 0; i < n; i++) y[i] = x[i] * inv * s[i];
}

ld_status ld_norm_rmsnorm_compute(ld_kctx *k) {
    const ld_tensor *x = k->in[0];
    ln_layout L;
    LD_TRY(ln_layout_get(k, &L));
    ln_param sc;
    LD_TRY(ln_param_get(k->in[1], x, L.axis, L.cols, "scale", &sc));
    const float *xp = x->data;
    float *yp = k->out[0]->data;
#pragma omp parallel for schedule(static) if (L.rows * L.cols > PAR_MIN && L.rows > 1)
    for (int64_t r = 0; r < L.rows; r++)
        rms_row(xp + r * L.cols, yp + r * L.cols, L.cols, L.eps, ln_param_row(&sc, r, L.cols));
    free(sc.owned);
    return LD_OK;
}

/* ---- GroupNormalization ---- */

typedef struct { int64_t N, C, S, G; bool per_channel; } gn_layout;

static ld_status gn_layout_get(ld_kctx *k, gn_layout *L) {
    const ld_tensor *x = k->in[0];
    if (x->ndim < 2) return ld_error(LD_ERR_DATA, "GroupNormalization needs an input of rank >= 2 (N, C, ...)");
    if (!LD_HAS_IN(k, 1) || !LD_HAS_IN(k, 2))
        return ld_error(LD_ERR_DATA, "GroupNormalization needs inputs X, scale, bias");
    L->N = x->dims[0];
    L->C = x->dims[1];
    L->S = 1;
    for (int d = 2; d < x->ndim; d++) L->S *= x->dims[d];
    L->G = ld_attr_int(k->node, "num_groups", 0);
    if (L->G <= 0 || L->C % L->G != 0)
        return ld_error(LD_ERR_DATA, "GroupNormalization: num_groups=%lld must be positive and divide C=%lld",
                        (long long)L->G, (long long)L->C);
    L->per_channel = k->node->op->since >= 21;
    int64_t want = L->per_channel ? L->C : L->G;
    if (k->in[1]->numel != want || k->in[2]->numel != want)
        return ld_error(LD_ERR_DATA, "GroupNormalization-%d: scale and bias need %lld elements (%s), got %lld and %lld",
                        k->node->op->since, (long long)want, L->per_channel ? "C" : "num_groups",
                        (long long)k->in[1]->numel, (long long)k->in[2]->numel);
    return LD_OK;
}

ld_status ld_norm_groupnorm_shape(ld_kctx *k) {
    gn_layout L;
    LD_TRY(ld_check_dtype(k, 0, LD_DT(LD_F32)));
    LD_TRY(gn_layout_get(k, &L));
    return ld_tensor_set_shape(k->out[0], k->in[0]->dtype, k->in[0]->ndim, k->in[0]->dims);
}

ld_status ld_norm_groupnorm_compute(ld_kctx *k) {
    gn_layout L;
    LD_TRY(gn_layout_get(k, &L));
    const float *x = k->in[0]->data, *scale = k->in[1]->data, *bias = k->in[2]->data;
    float *y = k->out[0]->data;
    double eps = ld_attr_float(k->node, "epsilon", 1e-5f);
    int64_t cpg = L.C / L.G, gsz = cpg * L.S;
#pragma omp parallel for schedule(static) if (L.N * L.C * L.S > PAR_MIN && L.N * L.G > 1)
    for (int64_t ng = 0; ng < L.N * L.G; ng++) {
        int64_t g = ng % L.G;
        double m, v;
        ld_norm_moments(x + ng * gsz, gsz, &m, &v);
        double inv = 1.0 / sqrt(v + eps);
        for (int64_t j = 0; j < cpg; j++) {
            int64_t c = g * cpg + j, p = L.per_channel ? c : g;
            float a = (float)(scale[p] * inv), b = (float)(bias[p] - m * scale[p] * inv);
            const float *xp = x + ng * gsz + j * L.S;
            float *yp = y + ng * gsz + j * L.S;
#pragma omp simd
            for (int64_t i = 0; i < L.S; i++) yp[i] = xp[i] * a + b;
        }
    }
    return LD_OK;
}
