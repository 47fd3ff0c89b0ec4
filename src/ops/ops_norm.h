/*
** ops_norm.h — private header of the 'norm' and 'attn' kernel families (ops_norm*.c,
** ops_attn*.c): the kernels defined outside the file holding the table, and the float32 math
** shared by softmax and attention (a vectorisable exp, row softmax).
*/
#ifndef LD_OPS_NORM_H
#define LD_OPS_NORM_H

#include "ld_op.h"

#include <math.h>
#include <string.h>

/* The float selects in ld_norm_expf and the row loops only vectorise when GCC may assume
 * comparisons do not trap; results are unchanged (no FP exception is ever inspected). */
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC optimize("no-trapping-math")
#endif

/* exp(x) for float32, accurate to ~2 ulp, written so that `#pragma omp simd` loops vectorise
 * it (no libm call). Inputs below -87.34 give 0, above 88.72 give +Inf (between 88 and
 * 88.72 it saturates at exp(88)), NaN stays NaN. */
static inline float ld_norm_expf(float x) {
    float xc = x > 88.0f ? 88.0f : x;
    xc = xc < -87.3365f ? -87.3365f : xc;
    /* n = round(x / ln2) via the 1.5*2^23 trick; r = x - n*ln2 in two parts. */
    float t = xc * 1.44269504088896341f + 12582912.0f;
    float n = t - 12582912.0f;
    int32_t ti;
    memcpy(&ti, &t, 4);
    int32_t ni = ti - 0x4B400000;
    float r = xc - n * 0.693359375f;
    r = r + n * 2.12194440e-4f;
    float p = 1.9875691500e-4f;
    p = p * r + 1.3981999507e-3f;
    p = p * r + 8.3334519073e-3f;
    p = p * r + 4.1665795894e-2f;
    p = p * r + 1.6666665459e-1f;
    p = p * r + 5.0000001201e-1f;
    p = p * r * r + r + 1.0f;
    int32_t eb = (int32_t)((uint32_t)(ni + 127) << 23);   /* ni + 127 >= 1 after the clamp */
    float scale;
    memcpy(&scale, &eb, 4);
    float y = p * scale;
    y = x < -87.3365f ? 0.0f : y;
    y = x > 88.7228f ? INFINITY : y;
    return x != x ? x : y;
}

/* In-place softmax of one contiguous row of n floats. A row whose entries are all -Inf
 * (fully masked) becomes all zeros. */
void ld_norm_softmax_row(float *x, int64_t n);

/* Mean and population variance of n contiguous floats (vectorised, double accumulation). */
void ld_norm_moments(const float *x, int64_t n, double *mean, double *var);

/* ---- kernels defined in ops_norm_*.c, registered in ops_norm.c ---- */

/* ops_norm_softmax.c: Softmax, LogSoftmax, Hardmax (opset < 13: 2-D coercion; >= 13: axis). */
ld_status ld_norm_softmax_shape(ld_kctx *k);
ld_status ld_norm_softmax_compute(ld_kctx *k);
ld_status ld_norm_logsoftmax_compute(ld_kctx *k);
ld_status ld_norm_hardmax_compute(ld_kctx *k);

/* ops_norm_layer.c: LayerNormalization, RMSNormalization, GroupNormalization. */
ld_status ld_norm_layernorm_shape(ld_kctx *k);
ld_status ld_norm_layernorm_compute(ld_kctx *k);
ld_status ld_norm_rmsnorm_compute(ld_kctx *k);
ld_status ld_norm_groupnorm_shape(ld_kctx *k);
ld_status ld_norm_groupnorm_compute(ld_kctx *k);

/* ---- attention family helpers (ops_attn_*.c), registered in ops_attn.c ---- */

/* ops_attn_misc.c: RotaryEmbedding, SwiGLU, CausalConvWithState. */
ld_status ld_attn_rotary_shape(ld_kctx *k);
ld_status ld_attn_rotary_compute(ld_kctx *k);
ld_status ld_attn_swiglu_shape(ld_kctx *k);
ld_status ld_attn_swiglu_compute(ld_kctx *k);
ld_status ld_attn_causalconv_shape(ld_kctx *k);
ld_status ld_attn_causalconv_compute(ld_kctx *k);

/* ops_attn_linear.c: LinearAttention, FlexAttention (ai.onnx.preview). */
ld_status ld_attn_linear_shape(ld_kctx *k);
ld_status ld_attn_linear_compute(ld_kctx *k);
ld_status ld_attn_flex_shape(ld_kctx *k);
ld_status ld_attn_flex_compute(ld_kctx *k);

#endif
