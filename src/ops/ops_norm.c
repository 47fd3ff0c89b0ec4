/*
** ops_norm.c — kernel family 'norm': BatchNormalization, InstanceNormalization, LRN,
** LpNormalization, MeanVarianceNormalization, and the family's op table (Softmax & co. live
** in ops_norm_softmax.c, Layer/RMS/GroupNormalization in ops_norm_layer.c).
**
** All kernels are float32 only (LD_OPF_F32_ONLY: the executor widens f16/bf16/f64). Layouts
** are viewed as (N, C, S) with S the flattened spatial size, so inner loops are contiguous.
*/
#include "ops_norm.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define PAR_MIN 32768   /* elements below which a kernel stays single-threaded */

/* ---- shared statistics ---- */

void ld_norm_moments(const float *x, int64_t n, double *mean, double *var) {
    /* Blocks of float partial sums (vectorised), accumulated in double. */
    double s = 0.0;
    for (int64_t b = 0; b < n; b += 4096) {
        int64_t e = LD_MIN(n, b + 4096);
        float bs = 0.0f;
#pragma omp simd reduction(+:bs)
        for (int64_t i = b; i < e; i++) bs += x[i];
        s += bs;
    }
    double m = n > 0 ? s / (double)n : 0.0;
    float mf = (float)m;
    double q = 0.0;
    for (int64_t b = 0; b < n; b += 4096) {
        int64_t e = LD_MIN(n, b + 4096);
        float bq = 0.0f;
#pragma omp simd reduction(+:bq)
        for (int64_t i = b; i < e; i++) bq += (x[i] - mf) * (x[i] - mf);
        q += bq;
    }
    *mean = m;
    *var = n > 0 ? q / (double)n : 0.0;
}

/* y[i] = x[i] * a + b over n contiguous floats. */
static void norm_affine(const float *x, float *y, int64_t n, float a, float b) {
#pragma omp simd
    for (int64_t i = 0; i < n; i++) y[i] = x[i] * a + b;
}

/* (N, C, S) view of a tensor of rank >= 2. */
static ld_status norm_ncs(const ld_tensor *x, const char *op, int64_t *N, int64_t *C, int64_t *S) {
    *N = *C = *S = 1;
    if (x->ndim < 2)
        return ld_error(LD_ERR_DATA, "%s needs an input of rank >= 2 (N, C, ...), got rank %d", op, x->ndim);
    *N = x->dims[0];
    *C = x->dims[1];
    *S = 1;
    for (int d = 2; d < x->ndim; d++) *S *= x->dims[d];
    return LD_OK;
}

static ld_status norm_same_shape(ld_kctx *k) {
    LD_TRY(ld_check_dtype(k, 0, LD_DT(LD_F32)));
    return ld_tensor_set_shape(k->out[0], k->in[0]->dtype, k->in[0]->ndim, k->in[0]->dims);
}

/* ---- BatchNormalization ---- */

/* Training mode: opset >= 14 says so with training_mode; older opsets train when the extra
 * outputs (running / saved statistics) are requested and is_test is not set. */
static bool bn_training(ld_kctx *k) {
    int since = k->node->op->since;
    if (since >= 14) return ld_attr_int(k->node, "training_mode", 0) != 0;
    if (since < 7 && ld_attr_int(k->node, "is_test", 0)) return false;
    for (int o = 1; o < k->nout; o++)
        if (LD_HAS_OUT(k, o)) return true;
    return false;
}

static ld_status bn_check(ld_kctx *k, int64_t C, int64_t S, int64_t *P) {
    for (int i = 1; i < 5; i++)
        if (!LD_HAS_IN(k, i)) return ld_error(LD_ERR_DATA, "BatchNormalization needs 5 inputs");
    int64_t p = k->in[1]->numel;
    if (p != C && p != C * S)
        return ld_error(LD_ERR_DATA, "BatchNormalization: scale has %lld elements, expected C=%lld",
                        (long long)p, (long long)C);
    for (int i = 2; i < 5; i++)
        if (k->in[i]->numel != p)
            return ld_error(LD_ERR_DATA, "BatchNormalization: input %d has %lld elements, expected %lld",
                            i, (long long)k->in[i]->numel, (long long)p);
    *P = p;
    return LD_OK;
}

static ld_status bn_shape(ld_kctx *k) {
    const ld_tensor *x = k->in[0];
    int64_t N, C, S, P;
    LD_TRY(ld_check_dtype(k, 0, LD_DT(LD_F32)));
    LD_TRY(norm_ncs(x, "BatchNormalization", &N, &C, &S));
    LD_TRY(bn_check(k, C, S, &P));
    LD_TRY(ld_tensor_set_shape(k->out[0], x->dtype, x->ndim, x->dims));
    bool train = bn_training(k);
    if (train && P != C)
        return ld_error(LD_ERR_UNSUPPORTED, "BatchNormalization training mode needs per-channel statistics");
    for (int o = 1; o < k->nout && o < 5; o++) {
        if (!LD_HAS_OUT(k, o)) continue;
        if (!train)
            return ld_error(LD_ERR_DATA, "BatchNormalization output %d is only defined in training mode", o);
        const ld_tensor *ref = k->in[o <= 2 ? o + 2 : 3];
        LD_TRY(ld_tensor_set_shape(k->out[o], ref->dtype, 1, &C));
    }
    return LD_OK;
}

/* y = x * a[p] + b[p], with p the channel (P == C) or the channel-position (P == C*S). */
static void bn_apply(const float *x, float *y, int64_t N, int64_t C, int64_t S, int64_t P,
                     const float *a, const float *b) {
#pragma omp parallel for schedule(static) if (N * C * S > PAR_MIN && N * C > 1)
    for (int64_t nc = 0; nc < N * C; nc++) {
        int64_t c = nc % C;
        const float *xp = x + nc * S;
        float *yp = y + nc * S;
        if (P == C) {
            norm_affine(xp, yp, S, a[c], b[c]);
        } else {
            const float *ap = a + c * S, *bp = b + c * S;
#pragma omp simd
            for (int64_t i = 0; i < S; i++) yp[i] = xp[i] * ap[i] + bp[i];
        }
    }
}

/* Per-channel batch mean and (population) variance over N and S. */
static void bn_batch_stats(const float *x, int64_t N, int64_t C, int64_t S, double *mean, double *var) {
#pragma omp parallel for schedule(static) if (N * C * S > PAR_MIN && C > 1)
    for (int64_t c = 0; c < C; c++) {
        double s = 0.0, q = 0.0;
        for (int64_t n = 0; n < N; n++) {
            double m, v;
            ld_norm_moments(x + (n * C + c) * S, S, &m, &v);
            s += m;
            q += v + m * m;
        }
        double cnt = (double)N;
        mean[c] = cnt > 0 ? s / cnt : 0.0;
        var[c] = cnt > 0 ? q / cnt - mean[c] * mean[c] : 0.0;
        if (var[c] < 0) var[c] = 0;
    }
}

static ld_status bn_compute(ld_kctx *k) {
    const ld_tensor *x = k->in[0];
    int64_t N, C, S, P;
    LD_TRY(norm_ncs(x, "BatchNormalization", &N, &C, &S));
    LD_TRY(bn_check(k, C, S, &P));
    const float *scale = k->in[1]->data, *bias = k->in[2]->data;
    const float *rmean = k->in[3]->data, *rvar = k->in[4]->data;
    float eps = ld_attr_float(k->node, "epsilon", 1e-5f);
    bool train = bn_training(k);
    float *a = malloc(sizeof(float) * P), *b = malloc(sizeof(float) * P);
    double *bm = train ? malloc(sizeof(double) * 2 * C) : NULL;
    if (!a || !b || (train && !bm)) {
        free(a); free(b); free(bm);
        return ld_oom();
    }
    if (train) bn_batch_stats(x->data, N, C, S, bm, bm + C);
    for (int64_t p = 0; p < P; p++) {
        double m = train ? bm[p] : rmean[p], v = train ? bm[C + p] : rvar[p];
        double inv = 1.0 / sqrt(v + eps);
        a[p] = (float)(scale[p] * inv);
        b[p] = (float)(bias[p] - m * scale[p] * inv);
    }
    bn_apply(x->data, k->out[0]->data, N, C, S, P, a, b);
    if (train) {
        float mom = ld_attr_float(k->node, "momentum", 0.9f);
        for (int64_t c = 0; c < C; c++) {
            double st[4] = {rmean[c] * mom + bm[c] * (1 - mom), rvar[c] * mom + bm[C + c] * (1 - mom),
                            bm[c], bm[C + c]};
            for (int o = 1; o < k->nout && o < 5; o++)
                if (LD_HAS_OUT(k, o)) LD_F32P(k->out[o])[c] = (float)st[o - 1];
        }
    }
    free(a); free(b); free(bm);
    return LD_OK;
}

/* ---- InstanceNormalization ---- */

static ld_status in_check(ld_kctx *k, int64_t *N, int64_t *C, int64_t *S) {
    LD_TRY(norm_ncs(k->in[0], "InstanceNormalization", N, C, S));
    if (!LD_HAS_IN(k, 1) || !LD_HAS_IN(k, 2))
        return ld_error(LD_ERR_DATA, "InstanceNormalization needs inputs input, scale, B");
    if (k->in[1]->numel != *C || k->in[2]->numel != *C)
        return ld_error(LD_ERR_DATA, "InstanceNormalization: scale and B need C=%lld elements", (long long)*C);
    return LD_OK;
}

static ld_status in_shape(ld_kctx *k) {
    int64_t N, C, S;
    LD_TRY(in_check(k, &N, &C, &S));
    return norm_same_shape(k);
}

static ld_status in_compute(ld_kctx *k) {
    int64_t N, C, S;
    LD_TRY(in_check(k, &N, &C, &S));
    const float *x = k->in[0]->data, *scale = k->in[1]->data, *bias = k->in[2]->data;
    float *y = k->out[0]->data;
    double eps = ld_attr_float(k->node, "epsilon", 1e-5f);
#pragma omp parallel for schedule(static) if (N * C * S > PAR_MIN && N * C > 1)
    for (int64_t nc = 0; nc < N * C; nc++) {
        int64_t c = nc % C;
        double m, v;
        ld_norm_moments(x + nc * S, S, &m, &v);
        double a = scale[c] / sqrt(v + eps);
        norm_affine(x + nc * S, y + nc * S, S, (float)a, (float)(bias[c] - m * a));
    }
    return LD_OK;
}

/* ---- LRN (across channels) ---- */

static ld_status lrn_check(ld_kctx *k, int64_t *N, int64_t *C, int64_t *S, int64_t *size) {
    LD_TRY(norm_ncs(k->in[0], "LRN", N, C, S));
    *size = ld_attr_int(k->node, "size", 0);
    if (*size <= 0) return ld_error(LD_ERR_DATA, "LRN: attribute size must be positive");
    return LD_OK;
}

static ld_status lrn_shape(ld_kctx *k) {
    int64_t N, C, S, size;
    LD_TRY(lrn_check(k, &N, &C, &S, &size));
    return norm_same_shape(k);
}

static ld_status lrn_compute(ld_kctx *k) {
    int64_t N, C, S, size;
    LD_TRY(lrn_check(k, &N, &C, &S, &size));
    float alpha = ld_attr_float(k->node, "alpha", 1e-4f), beta = ld_attr_float(k->node, "beta", 0.75f);
    float bias = ld_attr_float(k->node, "bias", 1.0f);
    int64_t lo = (size - 1) / 2, hi = size - 1 - lo;   /* floor / ceil of (size-1)/2 */
    const float *x = k->in[0]->data;
    float *y = k->out[0]->data;
    float coef = alpha / (float)size;
#pragma omp parallel for schedule(static) if (N * C * S > PAR_MIN && N * C > 1)
    for (int64_t nc = 0; nc < N * C; nc++) {
        int64_t n = nc / C, c = nc % C;
        float *sq = y + nc * S;   /* the output plane holds the window's sum of squares first */
        for (int64_t i = 0; i < S; i++) sq[i] = 0.0f;
        for (int64_t cc = LD_MAX(0, c - lo); cc <= LD_MIN(C - 1, c + hi); cc++) {
            const float *xc = x + (n * C + cc) * S;
#pragma omp simd
            for (int64_t i = 0; i < S; i++) sq[i] += xc[i] * xc[i];
        }
        const float *xp = x + nc * S;
        for (int64_t i = 0; i < S; i++) sq[i] = xp[i] / powf(bias + coef * sq[i], beta);
    }
    return LD_OK;
}

/* ---- LpNormalization ---- */

static ld_status lp_layout(ld_kctx *k, int64_t *outer, int64_t *n, int64_t *inner, int *p) {
    const ld_tensor *x = k->in[0];
    int a;
    *p = (int)ld_attr_int(k->node, "p", 2);
    if (*p != 1 && *p != 2) return ld_error(LD_ERR_UNSUPPORTED, "LpNormalization: p must be 1 or 2, got %d", *p);
    if (x->ndim == 0) return ld_error(LD_ERR_DATA, "LpNormalization needs an input of rank >= 1");
    LD_TRY(ld_axis_norm(ld_attr_int(k->node, "axis", -1), x->ndim, &a));
    *outer = *inner = 1;
    for (int d = 0; d < a; d++) *outer *= x->dims[d];
    for (int d = a + 1; d < x->ndim; d++) *inner *= x->dims[d];
    *n = x->dims[a];
    return LD_OK;
}

static ld_status lp_shape(ld_kctx *k) {
    int64_t o, n, i;
    int p;
    LD_TRY(lp_layout(k, &o, &n, &i, &p));
    return norm_same_shape(k);
}

/* y = x / ||x||_p along the axis; a zero vector stays zero (as in ONNX Runtime). */
static ld_status lp_compute(ld_kctx *k) {
    int64_t outer, n, inner;
    int p;
    LD_TRY(lp_layout(k, &outer, &n, &inner, &p));
    const float *x = k->in[0]->data;
    float *y = k->out[0]->data;
#pragma omp parallel for schedule(static) if (outer * n * inner > PAR_MIN && outer * inner > 1)
    for (int64_t oi = 0; oi < outer * inner; oi++) {
        int64_t o = oi / inner, i = oi % inner;
        const float *xv = x + o * n * inner + i;
        float *yv = y + o * n * inner + i;
        double s = 0.0;
        for (int64_t j = 0; j < n; j++) {
            float v = xv[j * inner];
            s += p == 1 ? fabsf(v) : (double)v * v;
        }
        double norm = p == 1 ? s : sqrt(s);
        float inv = norm > 0 ? (float)(1.0 / norm) : 0.0f;
        for (int64_t j = 0; j < n; j++) yv[j * inner] = xv[j * inner] * inv;
    }
    return LD_OK;
}

/* ---- MeanVarianceNormalization ---- */

static ld_status mvn_axes(ld_kctx *k, bool *red) {
    const ld_tensor *x = k->in[0];
    int na;
    const int64_t *axes = ld_attr_ints(k->node, "axes", &na);
    static const int64_t def_axes[] = {0, 2, 3};
    if (!axes) { axes = def_axes; na = 3; }
    memset(red, 0, sizeof(bool) * LD_MAX_DIMS);
    for (int i = 0; i < na; i++) {
        int a;
        LD_TRY(ld_axis_norm(axes[i], x->ndim, &a));
        red[a] = true;
    }
    return LD_OK;
}

static ld_status mvn_shape(ld_kctx *k) {
    bool red[LD_MAX_DIMS];
    LD_TRY(mvn_axes(k, red));
    return norm_same_shape(k);
}

/* Mean and variance over the reduced axes, kept per "kept index" (reduced dims collapsed);
 * y = (x - mean) / (sqrt(E[x^2] - E[x]^2) + 1e-9) as in the ONNX function body. */
static ld_status mvn_compute(ld_kctx *k) {
    const ld_tensor *x = k->in[0];
    bool red[LD_MAX_DIMS];
    LD_TRY(mvn_axes(k, red));
    int r = x->ndim;
    int64_t kdims[LD_MAX_DIMS], kstr[LD_MAX_DIMS], nk = 1;
    for (int d = 0; d < r; d++) kdims[d] = red[d] ? 1 : x->dims[d];
    ld_strides(r, kdims, kstr);
    for (int d = 0; d < r; d++) { nk *= kdims[d]; if (red[d]) kstr[d] = 0; }
    double *acc = calloc((size_t)(2 * nk + 1), sizeof(double));
    if (!acc) return ld_oom();
    const float *xp = x->data;
    float *yp = k->out[0]->data;
    int64_t idx[LD_MAX_DIMS] = {0}, kpos = 0;
    for (int pass = 0; pass < 2; pass++) {
        memset(idx, 0, sizeof idx);
        kpos = 0;
        for (int64_t e = 0; e < x->numel; e++) {
            if (pass == 0) {
                acc[2 * kpos] += xp[e];
                acc[2 * kpos + 1] += (double)xp[e] * xp[e];
            } else {
                yp[e] = (float)((xp[e] - acc[2 * kpos]) / (acc[2 * kpos + 1] + 1e-9));
            }
            for (int d = r - 1; d >= 0; d--) {   /* advance the multi-index */
                kpos += kstr[d];
                if (++idx[d] < x->dims[d]) break;
                kpos -= kstr[d] * idx[d];
                idx[d] = 0;
            }
        }
        if (pass == 0) {
            double cnt = nk > 0 ? (double)x->numel / (double)nk : 1.0;
            for (int64_t i = 0; i < nk; i++) {
                double m = acc[2 * i] / cnt, v = acc[2 * i + 1] / cnt - m * m;
                acc[2 * i] = m;
                acc[2 * i + 1] = sqrt(v > 0 ? v : 0);
            }
        }
    }
    free(acc);
    return LD_OK;
}

/* ---- table ---- */

#define F32 LD_OPF_F32_ONLY
const ld_op_def ld_ops_norm[] = {
    {"", "BatchNormalization", 1, bn_shape, bn_compute, F32 | LD_OPF_NOZERO_F32},
    {"", "BatchNormalization", 6, bn_shape, bn_compute, F32 | LD_OPF_NOZERO_F32},
    {"", "BatchNormalization", 7, bn_shape, bn_compute, F32 | LD_OPF_NOZERO_F32},
    {"", "BatchNormalization", 9, bn_shape, bn_compute, F32 | LD_OPF_NOZERO_F32},
    {"", "BatchNormalization", 14, bn_shape, bn_compute, F32 | LD_OPF_NOZERO_F32},
    {"", "BatchNormalization", 15, bn_shape, bn_compute, F32 | LD_OPF_NOZERO_F32},
    {"", "InstanceNormalization", 1, in_shape, in_compute, F32},
    {"", "InstanceNormalization", 6, in_shape, in_compute, F32},
    {"", "LRN", 1, lrn_shape, lrn_compute, F32},
    {"", "LRN", 13, lrn_shape, lrn_compute, F32},
    {"", "LpNormalization", 1, lp_shape, lp_compute, F32},
    {"", "LpNormalization", 22, lp_shape, lp_compute, F32},
    {"", "MeanVarianceNormalization", 9, mvn_shape, mvn_compute, F32},
    {"", "MeanVarianceNormalization", 13, mvn_shape, mvn_compute, F32},
    {"", "LayerNormalization", 17, ld_norm_layernorm_shape, ld_norm_layernorm_compute, F32 | LD_OPF_NOZERO_F32},
    {"", "RMSNormalization", 23, ld_norm_layernorm_shape, ld_norm_rmsnorm_compute, F32},
    {"", "GroupNormalization", 18, ld_norm_groupnorm_shape, ld_norm_groupnorm_compute, F32},
    {"", "GroupNormalization", 21, ld_norm_groupnorm_shape, ld_norm_groupnorm_compute, F32},
    {"", "Softmax", 1, ld_norm_softmax_shape, ld_norm_softmax_compute, F32 | LD_OPF_NOZERO_F32},
    {"", "Softmax", 11, ld_norm_softmax_shape, ld_norm_softmax_compute, F32 | LD_OPF_NOZERO_F32},
    {"", "Softmax", 13, ld_norm_softmax_shape, ld_norm_softmax_compute, F32 | LD_OPF_NOZERO_F32},
    {"", "LogSoftmax", 1, ld_norm_softmax_shape, ld_norm_logsoftmax_compute, F32 | LD_OPF_NOZERO_F32},
    {"", "LogSoftmax", 11, ld_norm_softmax_shape, ld_norm_logsoftmax_compute, F32 | LD_OPF_NOZERO_F32},
    {"", "LogSoftmax", 13, ld_norm_softmax_shape, ld_norm_logsoftmax_compute, F32 | LD_OPF_NOZERO_F32},
    {"", "Hardmax", 1, ld_norm_softmax_shape, ld_norm_hardmax_compute, F32},
    {"", "Hardmax", 11, ld_norm_softmax_shape, ld_norm_hardmax_compute, F32},
    {"", "Hardmax", 13, ld_norm_softmax_shape, ld_norm_hardmax_compute, F32},
    {0},
};
