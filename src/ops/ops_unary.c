/*
** ops_unary.c — unary elementwise ops: math (Abs Neg Exp Log Sqrt Reciprocal Sigmoid Tanh Erf,
** trigonometric and hyperbolic functions, Floor Ceil Round Sign IsNaN IsInf Not BitwiseNot) and
** activations (Relu LeakyRelu Elu Selu Celu HardSigmoid HardSwish Softplus Softsign
** ThresholdedRelu Shrink Mish Gelu Swish Clip).
**
** Ops defined on integers too (Abs Neg Sign Relu Clip Shrink BitwiseNot) have a row function
** per dtype; the transcendental ones are float32-only (LD_OPF_F32_ONLY: the executor widens
** float16/bfloat16/float64). Exp, Sigmoid, Tanh, Erf, Gelu and the exp-based activations use
** the vectorisable approximations of ops_elem.h (within ~3 ulp), with an AVX2 build of their
** loops picked at load time where the CPU has it.
*/
#include "ops_elem.h"

#include <float.h>
#include <string.h>

/* ---- shapes and runners ---- */

static ld_status unary_shape(ld_kctx *k) {
    const ld_tensor *x = k->in[0];
    if (x->kind != LD_KIND_TENSOR) return ld_error(LD_ERR_DATA, "input must be a tensor");
    return ld_tensor_set_shape(k->out[0], x->dtype, x->ndim, x->dims);
}

static ld_status bool_shape(ld_kctx *k) {
    const ld_tensor *x = k->in[0];
    if (x->kind != LD_KIND_TENSOR) return ld_error(LD_ERR_DATA, "input must be a tensor");
    return ld_tensor_set_shape(k->out[0], LD_BOOL, x->ndim, x->dims);
}

static ld_status unary_run(ld_kctx *k, ld_elem_map_fn fn, const ld_elem_par *p) {
    if (!fn)
        return ld_error(LD_ERR_UNSUPPORTED, "%s does not support dtype %s", k->node->op_type,
                        ld_dtype_name(k->in[0]->dtype));
    ld_elem_map(k->out[0], k->in[0], fn, p);
    return LD_OK;
}

static ld_status f32_run(ld_kctx *k, ld_elem_map_fn fn, const ld_elem_par *p) {
    return unary_run(k, k->in[0]->dtype == LD_F32 ? fn : NULL, p);
}

/* A float32-only op: row name_f32 computing EXPR(float, x, p), and name_compute. F32_OPX
 * also builds an AVX2 version of the row (math-heavy ops). */
#define F32_OP(name, EXPR) F32_OP_A(, name, EXPR)
#define F32_OPX(name, EXPR) F32_OP_A(LD_ELEM_CLONES, name, EXPR)
#define F32_OP_A(ATTR, name, EXPR) \
    LD_ELEM_MAP_ROW_A(ATTR, name, f32, float, float, float, LD_ELEM_ID, LD_ELEM_ID, EXPR) \
    static ld_status name##_compute(ld_kctx *k) { return f32_run(k, name##_f32, NULL); }
/* A float32 row only (the op's compute function is written out). */
#define F32_ROW(name, EXPR) \
    LD_ELEM_MAP_ROW(name, f32, float, float, float, LD_ELEM_ID, LD_ELEM_ID, EXPR)
#define F32_ROWX(name, EXPR) \
    LD_ELEM_MAP_ROW_A(LD_ELEM_CLONES, name, f32, float, float, float, LD_ELEM_ID, LD_ELEM_ID, EXPR)

/* An op over every numeric dtype (float / signed / unsigned expressions) and name_compute. */
#define NUM_OP(name, F, S, U) \
    LD_ELEM_GEN_UN(name, F, S, U) \
    static ld_status name##_compute(ld_kctx *k) { \
        return unary_run(k, LD_ELEM_PICK(name##_tab, k->in[0]->dtype), NULL); \
    }

/* ---- integer-capable ops ---- */

#define ABS_F(C, x, p) ((x) < 0 ? -(x) : (x))
#define ABS_S(C, x, p) ((C)((x) < 0 ? 0 - (uint64_t)(x) : (uint64_t)(x)))
#define ABS_U(C, x, p) (x)
#define NEG_F(C, x, p) (-(x))
#define NEG_I(C, x, p) ((C)(0 - (uint64_t)(x)))
#define SIGN_F(C, x, p) ((x) > 0 ? (C)1 : (x) < 0 ? (C)-1 : (x))     /* keeps 0 and NaN */
#define SIGN_S(C, x, p) ((C)(((x) > 0) - ((x) < 0)))
#define SIGN_U(C, x, p) ((C)((x) > 0))
#define RELU_F(C, x, p) ((x) < 0 ? (C)0 : (x))                       /* keeps NaN */
#define RELU_U(C, x, p) (x)
#define BITNOT_I(C, x, p) ((C)~(x))

NUM_OP(abs, ABS_F, ABS_S, ABS_U)
NUM_OP(neg, NEG_F, NEG_I, NEG_I)
NUM_OP(sign, SIGN_F, SIGN_S, SIGN_U)
NUM_OP(relu, RELU_F, RELU_F, RELU_U)

#define BITNOT_ROW(sfx, T, C, LD, ST, DT, name) \
    LD_ELEM_MAP_ROW(name, sfx, T, T, C, LD, ST, BITNOT_I)
LD_ELEM_INTS(BITNOT_ROW, bitnot)
static const ld_elem_map_fn bitnot_tab[LD_DTYPE_COUNT] = {LD_ELEM_INTS(LD_ELEM_TAB, bitnot)};
static ld_status bitnot_compute(ld_kctx *k) {
    return unary_run(k, LD_ELEM_PICK(bitnot_tab, k->in[0]->dtype), NULL);
}

#define NOT_E(C, x, p) ((uint8_t)!(x))
LD_ELEM_MAP_ROW(not, b, uint8_t, uint8_t, uint8_t, LD_ELEM_ID, LD_ELEM_ID, NOT_E)
static ld_status not_compute(ld_kctx *k) {
    return unary_run(k, k->in[0]->dtype == LD_BOOL ? not_b : NULL, NULL);
}

/* Shrink: lambd in p->alpha, bias in p->beta; integers go through double. */
#define SHRINK_F(C, x, p) ((x) < -(C)(p)->alpha ? (x) + (C)(p)->beta : \
                           (x) > (C)(p)->alpha ? (x) - (C)(p)->beta : (C)0)
#define SHRINK_I(C, x, p) ((C)SHRINK_F(double, (double)(x), p))
LD_ELEM_GEN_UN(shrink, SHRINK_F, SHRINK_I, SHRINK_I)
static ld_status shrink_compute(ld_kctx *k) {
    ld_elem_par p = {.alpha = ld_attr_float(k->node, "lambd", 0.5f),
                     .beta = ld_attr_float(k->node, "bias", 0.0f)};
    return unary_run(k, LD_ELEM_PICK(shrink_tab, k->in[0]->dtype), &p);
}

/* ---- Clip: bounds from attributes (opset < 11) or optional inputs 1, 2 ---- */

/* Floats: p->lo / p->hi (±inf when absent). Integers: raw p->ilo / p->ihi, p->mode bit 0/1 set
 * when min/max is given. min > max gives max, like numpy. */
#define CLIP_F(C, x, p) ({ C v_ = (x); v_ = v_ < (C)(p)->lo ? (C)(p)->lo : v_; \
                           v_ > (C)(p)->hi ? (C)(p)->hi : v_; })
#define CLIP_I(C, x, p) ({ C v_ = (x); \
                           if (((p)->mode & 1) && v_ < (C)(p)->ilo) v_ = (C)(p)->ilo; \
                           if (((p)->mode & 2) && v_ > (C)(p)->ihi) v_ = (C)(p)->ihi; v_; })
LD_ELEM_GEN_UN(clip, CLIP_F, CLIP_I, CLIP_I)

static ld_status clip_bound(ld_kctx *k, int i, double *f, int64_t *n) {
    if (!LD_HAS_IN(k, i)) return LD_OK;
    const ld_tensor *b = k->in[i];
    if (b->numel != 1)
        return ld_error(LD_ERR_DATA, "Clip %s must be a scalar, got %lld elements",
                        i == 1 ? "min" : "max", (long long)b->numel);
    if (b->dtype != k->in[0]->dtype)
        return ld_error(LD_ERR_DATA, "Clip bound dtype %s differs from input dtype %s",
                        ld_dtype_name(b->dtype), ld_dtype_name(k->in[0]->dtype));
    *f = ld_tensor_get_f64(b, 0);
    *n = ld_tensor_get_i64(b, 0);
    return LD_OK;
}

static ld_status clip_compute(ld_kctx *k) {
    ld_elem_par p = {.lo = -INFINITY, .hi = INFINITY};
    if (k->node->opset < 11) {
        p.lo = ld_attr_float(k->node, "min", -FLT_MAX);
        p.hi = ld_attr_float(k->node, "max", FLT_MAX);
    } else {
        LD_TRY(clip_bound(k, 1, &p.lo, &p.ilo));
        LD_TRY(clip_bound(k, 2, &p.hi, &p.ihi));
        p.mode = LD_HAS_IN(k, 1) | LD_HAS_IN(k, 2) << 1;
    }
    return unary_run(k, LD_ELEM_PICK(clip_tab, k->in[0]->dtype), &p);
}

/* ---- float math ---- */

#define EXP_E(C, x, p) ld_elem_expf(x)
#define LOG_E(C, x, p) logf(x)
#define SQRT_E(C, x, p) sqrtf(x)
#define RECIP_E(C, x, p) (1.0f / (x))
#define SIGMOID_E(C, x, p) ld_elem_sigmoidf(x)
#define TANH_E(C, x, p) ld_elem_tanhf(x)
#define ERF_E(C, x, p) ld_elem_erff(x)
#define SIN_E(C, x, p) sinf(x)
#define COS_E(C, x, p) cosf(x)
#define TAN_E(C, x, p) tanf(x)
#define ASIN_E(C, x, p) asinf(x)
#define ACOS_E(C, x, p) acosf(x)
#define ATAN_E(C, x, p) atanf(x)
#define SINH_E(C, x, p) sinhf(x)
#define COSH_E(C, x, p) coshf(x)
#define ASINH_E(C, x, p) asinhf(x)
#define ACOSH_E(C, x, p) acoshf(x)
#define ATANH_E(C, x, p) atanhf(x)
#define FLOOR_E(C, x, p) floorf(x)
#define CEIL_E(C, x, p) ceilf(x)
#define ROUND_E(C, x, p) nearbyintf(x)           /* half to even */
#define SOFTSIGN_E(C, x, p) ((x) / (1.0f + fabsf(x)))
#define HARDSWISH_E(C, x, p) ({ float h_ = (x) * (1.0f / 6.0f) + 0.5f; \
                                h_ = h_ < 1.0f ? h_ : 1.0f; (x) * (h_ > 0.0f ? h_ : 0.0f); })
/* log(1 + exp(x)) without overflow. */
#define SOFTPLUS_E(C, x, p) (fmaxf((x), 0.0f) + log1pf(expf(-fabsf(x))))
/* x * tanh(softplus(x)) = x * t / (t + 2) with t = e^x (e^x + 2). */
#define MISH_E(C, x, p) ({ float e_ = ld_elem_expf((x) < 20.0f ? (x) : 20.0f); \
                           float t_ = e_ * (e_ + 2.0f); (x) >= 20.0f ? (x) : (x) * t_ / (t_ + 2.0f); })

F32_OPX(exp, EXP_E)
F32_OP(log, LOG_E)
F32_OP(sqrt, SQRT_E)
F32_OP(recip, RECIP_E)
F32_OPX(sigmoid, SIGMOID_E)
F32_OPX(tanh, TANH_E)
F32_OPX(erf, ERF_E)
F32_OP(sin, SIN_E)
F32_OP(cos, COS_E)
F32_OP(tan, TAN_E)
F32_OP(asin, ASIN_E)
F32_OP(acos, ACOS_E)
F32_OP(atan, ATAN_E)
F32_OP(sinh, SINH_E)
F32_OP(cosh, COSH_E)
F32_OP(asinh, ASINH_E)
F32_OP(acosh, ACOSH_E)
F32_OP(atanh, ATANH_E)
F32_OP(floor, FLOOR_E)
F32_OP(ceil, CEIL_E)
F32_OP(round, ROUND_E)
F32_OP(softsign, SOFTSIGN_E)
F32_OP(hardswish, HARDSWISH_E)
F32_OP(softplus, SOFTPLUS_E)
F32_OPX(mish, MISH_E)

/* IsNaN / IsInf: bool output; IsInf's p->mode bit 0 detects -inf, bit 1 +inf. */
#define ISNAN_E(C, x, p) ((uint8_t)((x) != (x)))
#define ISINF_E(C, x, p) ((uint8_t)((((p)->mode & 1) & ((x) == -INFINITY)) | \
                                    ((((p)->mode >> 1) & 1) & ((x) == INFINITY))))
LD_ELEM_MAP_ROW(isnan, f32, float, uint8_t, float, LD_ELEM_ID, LD_ELEM_ID, ISNAN_E)
LD_ELEM_MAP_ROW(isinf, f32, float, uint8_t, float, LD_ELEM_ID, LD_ELEM_ID, ISINF_E)

static ld_status isnan_compute(ld_kctx *k) { return f32_run(k, isnan_f32, NULL); }

static ld_status isinf_compute(ld_kctx *k) {
    ld_elem_par p = {.mode = (ld_attr_int(k->node, "detect_negative", 1) != 0) |
                             (ld_attr_int(k->node, "detect_positive", 1) != 0) << 1};
    return f32_run(k, isinf_f32, &p);
}

/* ---- activations with attributes (alpha, beta, gamma in p) ---- */

#define LEAKY_E(C, x, p) ((x) < 0 ? (p)->alpha * (x) : (x))
#define ELU_E(C, x, p) ((x) < 0 ? (p)->alpha * expm1f(x) : (x))
#define SELU_E(C, x, p) ((p)->gamma * ((x) <= 0 ? (p)->alpha * expm1f(x) : (x)))
#define CELU_E(C, x, p) ((x) > 0 ? (x) : (p)->alpha * expm1f((x) / (p)->alpha))
#define HARDSIG_E(C, x, p) ({ float h_ = (p)->alpha * (x) + (p)->beta; \
                              h_ = h_ < 1.0f ? h_ : 1.0f; h_ > 0.0f ? h_ : 0.0f; })
#define THRELU_E(C, x, p) ((x) > (p)->alpha ? (x) : 0.0f)
#define SWISH_E(C, x, p) ((x) * ld_elem_sigmoidf((p)->alpha * (x)))
#define GELU_E(C, x, p) ld_elem_gelu_erff(x)
#define GELU_TANH_E(C, x, p) (0.5f * (x) * (1.0f + ld_elem_tanhf(0.79788456080286536f * \
                                                 ((x) + 0.044715f * (x) * (x) * (x)))))

F32_ROW(leaky, LEAKY_E)
F32_ROW(elu, ELU_E)
F32_ROW(selu, SELU_E)
F32_ROW(celu, CELU_E)
F32_ROW(hardsig, HARDSIG_E)
F32_ROW(threlu, THRELU_E)
F32_ROWX(swish, SWISH_E)
F32_ROWX(gelu, GELU_E)
F32_ROWX(gelu_tanh, GELU_TANH_E)

/* Run a float32 activation whose attributes are alpha / beta / gamma with these defaults. */
static ld_status act_run(ld_kctx *k, ld_elem_map_fn fn, float alpha, float beta, float gamma) {
    ld_elem_par p = {.alpha = ld_attr_float(k->node, "alpha", alpha),
                     .beta = ld_attr_float(k->node, "beta", beta),
                     .gamma = ld_attr_float(k->node, "gamma", gamma)};
    return f32_run(k, fn, &p);
}

static ld_status leaky_compute(ld_kctx *k) { return act_run(k, leaky_f32, 0.01f, 0, 0); }
static ld_status elu_compute(ld_kctx *k) { return act_run(k, elu_f32, 1.0f, 0, 0); }
static ld_status selu_compute(ld_kctx *k) {
    return act_run(k, selu_f32, 1.67326319217681884765625f, 0, 1.05070102214813232421875f);
}
static ld_status hardsig_compute(ld_kctx *k) { return act_run(k, hardsig_f32, 0.2f, 0.5f, 0); }
static ld_status threlu_compute(ld_kctx *k) { return act_run(k, threlu_f32, 1.0f, 0, 0); }
static ld_status swish_compute(ld_kctx *k) { return act_run(k, swish_f32, 1.0f, 0, 0); }

static ld_status celu_compute(ld_kctx *k) {
    if (ld_attr_float(k->node, "alpha", 1.0f) == 0.0f)
        return ld_error(LD_ERR_DATA, "Celu alpha must not be 0");
    return act_run(k, celu_f32, 1.0f, 0, 0);
}

static ld_status gelu_compute(ld_kctx *k) {
    const char *ap = ld_attr_str(k->node, "approximate", "none");
    if (!strcmp(ap, "none")) return f32_run(k, gelu_f32, NULL);
    if (!strcmp(ap, "tanh")) return f32_run(k, gelu_tanh_f32, NULL);
    return ld_error(LD_ERR_DATA, "Gelu approximate must be 'none' or 'tanh', got '%s'", ap);
}

#define F32F LD_OPF_F32_ONLY

const ld_op_def ld_ops_unary[] = {
    {"", "Abs", 1, unary_shape, abs_compute, 0 | LD_OPF_NOZERO_F32},
    {"", "Neg", 1, unary_shape, neg_compute, 0 | LD_OPF_NOZERO_F32},
    {"", "Sign", 9, unary_shape, sign_compute, 0 | LD_OPF_NOZERO_F32},
    {"", "Relu", 1, unary_shape, relu_compute, 0 | LD_OPF_NOZERO_F32},
    {"", "Clip", 1, unary_shape, clip_compute, 0 | LD_OPF_NOZERO_F32},
    {"", "Clip", 11, unary_shape, clip_compute, 0 | LD_OPF_NOZERO_F32},
    {"", "Shrink", 9, unary_shape, shrink_compute, 0 | LD_OPF_NOZERO_F32},
    {"", "Not", 1, unary_shape, not_compute, 0 | LD_OPF_NOZERO_F32},
    {"", "BitwiseNot", 18, unary_shape, bitnot_compute, 0 | LD_OPF_NOZERO_F32},
    {"", "Exp", 1, unary_shape, exp_compute, F32F | LD_OPF_NOZERO_F32},
    {"", "Log", 1, unary_shape, log_compute, F32F | LD_OPF_NOZERO_F32},
    {"", "Sqrt", 1, unary_shape, sqrt_compute, F32F | LD_OPF_NOZERO_F32},
    {"", "Reciprocal", 1, unary_shape, recip_compute, F32F | LD_OPF_NOZERO_F32},
    {"", "Sigmoid", 1, unary_shape, sigmoid_compute, F32F | LD_OPF_NOZERO_F32},
    {"", "Tanh", 1, unary_shape, tanh_compute, F32F | LD_OPF_NOZERO_F32},
    {"", "Erf", 9, unary_shape, erf_compute, F32F | LD_OPF_NOZERO_F32},
    {"", "Sin", 7, unary_shape, sin_compute, F32F | LD_OPF_NOZERO_F32},
    {"", "Cos", 7, unary_shape, cos_compute, F32F | LD_OPF_NOZERO_F32},
    {"", "Tan", 7, unary_shape, tan_compute, F32F | LD_OPF_NOZERO_F32},
    {"", "Asin", 7, unary_shape, asin_compute, F32F | LD_OPF_NOZERO_F32},
    {"", "Acos", 7, unary_shape, acos_compute, F32F | LD_OPF_NOZERO_F32},
    {"", "Atan", 7, unary_shape, atan_compute, F32F | LD_OPF_NOZERO_F32},
    {"", "Sinh", 9, unary_shape, sinh_compute, F32F | LD_OPF_NOZERO_F32},
    {"", "Cosh", 9, unary_shape, cosh_compute, F32F | LD_OPF_NOZERO_F32},
    {"", "Asinh", 9, unary_shape, asinh_compute, F32F | LD_OPF_NOZERO_F32},
    {"", "Acosh", 9, unary_shape, acosh_compute, F32F | LD_OPF_NOZERO_F32},
    {"", "Atanh", 9, unary_shape, atanh_compute, F32F | LD_OPF_NOZERO_F32},
    {"", "Floor", 1, unary_shape, floor_compute, F32F | LD_OPF_NOZERO_F32},
    {"", "Ceil", 1, unary_shape, ceil_compute, F32F | LD_OPF_NOZERO_F32},
    {"", "Round", 11, unary_shape, round_compute, F32F | LD_OPF_NOZERO_F32},
    {"", "IsNaN", 9, bool_shape, isnan_compute, F32F | LD_OPF_NOZERO_F32},
    {"", "IsInf", 10, bool_shape, isinf_compute, F32F | LD_OPF_NOZERO_F32},
    {"", "LeakyRelu", 1, unary_shape, leaky_compute, F32F | LD_OPF_NOZERO_F32},
    {"", "Elu", 1, unary_shape, elu_compute, F32F | LD_OPF_NOZERO_F32},
    {"", "Selu", 1, unary_shape, selu_compute, F32F | LD_OPF_NOZERO_F32},
    {"", "Celu", 12, unary_shape, celu_compute, F32F | LD_OPF_NOZERO_F32},
    {"", "HardSigmoid", 1, unary_shape, hardsig_compute, F32F | LD_OPF_NOZERO_F32},
    {"", "HardSwish", 14, unary_shape, hardswish_compute, F32F | LD_OPF_NOZERO_F32},
    {"", "Softplus", 1, unary_shape, softplus_compute, F32F | LD_OPF_NOZERO_F32},
    {"", "Softsign", 1, unary_shape, softsign_compute, F32F | LD_OPF_NOZERO_F32},
    {"", "ThresholdedRelu", 1, unary_shape, threlu_compute, F32F | LD_OPF_NOZERO_F32},
    {"", "Mish", 18, unary_shape, mish_compute, F32F | LD_OPF_NOZERO_F32},
    {"", "Gelu", 20, unary_shape, gelu_compute, F32F | LD_OPF_NOZERO_F32},
    {"", "Swish", 24, unary_shape, swish_compute, F32F | LD_OPF_NOZERO_F32},
    {0},
};
