/*
** ops_elem.h — private header of the elementwise kernel family (ops_unary.c, ops_binary.c,
** ops_elem_*.c): the broadcast loop engine, the per-dtype load/store helpers, and fast
** vectorisable float32 versions of exp, tanh, erf/erfc used by the activation kernels.
**
** The engine splits an elementwise op into "rows": runs of output elements along which every
** input either advances by one element (inc 1) or stays on one element (inc 0, broadcast).
** A kernel only writes a row function; the engine handles shapes, broadcasting and threads.
**
** The row loops select between float results (x < 0 ? a*x : x ...); GCC vectorises those only
** when it may assume float operations do not trap, which the Makefile's -fno-trapping-math
** grants.
*/
#ifndef LD_OPS_ELEM_H
#define LD_OPS_ELEM_H

#include "ld_op.h"
#include "ld_numeric.h"

#include <math.h>

/* Elements above which a loop is split across OpenMP threads. */
#define LD_ELEM_PAR_MIN 65536

/* Attribute values and bounds a row function may need. */
typedef struct ld_elem_par {
    float alpha, beta, gamma;
    int mode;                     /* op-specific switch (Mod fmod, IsInf, Clip bounds, Pow dtypes) */
    double lo, hi;                /* float bounds (Clip) */
    int64_t ilo, ihi;             /* integer bounds, raw 64-bit (Clip on integer types) */
    int64_t count;                /* number of inputs (Mean) */
} ld_elem_par;

/* out[i] = f(in[0][i*inc[0]], in[1][i*inc[1]], ...) for i < n, with every inc 0 or 1. */
typedef void (*ld_elem_row_fn)(void *out, const void *const *in, const int *inc, int64_t n,
                               const ld_elem_par *p);
/* out[i] = f(in[i]) for i < n, both contiguous. */
typedef void (*ld_elem_map_fn)(void *out, const void *in, int64_t n, const ld_elem_par *p);

/* Apply fn over out's shape, broadcasting each of the nin (<= 3) inputs to it (numpy rules;
 * out's dims must already be the broadcast of all inputs). */
ld_status ld_elem_bcast(ld_tensor *out, const ld_tensor *const *in, int nin, ld_elem_row_fn fn,
                        const ld_elem_par *p);
/* Apply fn over same-shaped contiguous out and in, splitting big tensors across threads. */
void ld_elem_map(ld_tensor *out, const ld_tensor *in, ld_elem_map_fn fn, const ld_elem_par *p);

/* Broadcast shape of inputs [first, first+count) (absent ones skipped) into out dims. */
ld_status ld_elem_bcast_shape(ld_kctx *k, int first, int count, int *ndim, int64_t *dims);
/* Opset < 7 Add/Sub/...: with attribute broadcast=1 and an axis, B's dims align at axis of A.
 * Fills *view (borrowing B's data) and returns the tensor to use for B. */
const ld_tensor *ld_elem_legacy_b(ld_kctx *k, ld_tensor *view);
/* Check every input in [first, nin) has the same dtype as input `first`. */
ld_status ld_elem_same_dtype(ld_kctx *k, int first);
/* LD_ERR_NOMEM if a string tensor has a NULL entry (a strdup that failed). */
ld_status ld_elem_check_strings(const ld_tensor *t);

/* ---- dtype lists for code generation ----
 * X(suffix, storage type, compute type, load, store, dtype). Float16/bfloat16 compute in
 * float32 and round once per result. */
#define LD_ELEM_ID(x) (x)
#define LD_ELEM_FLOATS(X, ...) \
    X(f32, float, float, LD_ELEM_ID, LD_ELEM_ID, LD_F32, __VA_ARGS__) \
    X(f64, double, double, LD_ELEM_ID, LD_ELEM_ID, LD_F64, __VA_ARGS__) \
    X(f16, uint16_t, float, ld_f16_to_f32, ld_f32_to_f16, LD_F16, __VA_ARGS__) \
    X(bf16, uint16_t, float, ld_bf16_to_f32, ld_f32_to_bf16, LD_BF16, __VA_ARGS__)
#define LD_ELEM_SINTS(X, ...) \
    X(i8, int8_t, int8_t, LD_ELEM_ID, LD_ELEM_ID, LD_I8, __VA_ARGS__) \
    X(i16, int16_t, int16_t, LD_ELEM_ID, LD_ELEM_ID, LD_I16, __VA_ARGS__) \
    X(i32, int32_t, int32_t, LD_ELEM_ID, LD_ELEM_ID, LD_I32, __VA_ARGS__) \
    X(i64, int64_t, int64_t, LD_ELEM_ID, LD_ELEM_ID, LD_I64, __VA_ARGS__)
#define LD_ELEM_UINTS(X, ...) \
    X(u8, uint8_t, uint8_t, LD_ELEM_ID, LD_ELEM_ID, LD_U8, __VA_ARGS__) \
    X(u16, uint16_t, uint16_t, LD_ELEM_ID, LD_ELEM_ID, LD_U16, __VA_ARGS__) \
    X(u32, uint32_t, uint32_t, LD_ELEM_ID, LD_ELEM_ID, LD_U32, __VA_ARGS__) \
    X(u64, uint64_t, uint64_t, LD_ELEM_ID, LD_ELEM_ID, LD_U64, __VA_ARGS__)
#define LD_ELEM_INTS(X, ...) LD_ELEM_SINTS(X, __VA_ARGS__) LD_ELEM_UINTS(X, __VA_ARGS__)
#define LD_ELEM_NUMERIC(X, ...) LD_ELEM_FLOATS(X, __VA_ARGS__) LD_ELEM_INTS(X, __VA_ARGS__)

/* Table entry [dtype] = name_suffix, for building per-dtype function tables. */
#define LD_ELEM_TAB(sfx, T, C, LD, ST, DT, name) [DT] = name##_##sfx,
/* The function of a per-dtype table for dtype t, or NULL. */
#define LD_ELEM_PICK(tab, t) ((unsigned)(t) < LD_DTYPE_COUNT ? (tab)[t] : NULL)

/* Hot loops: ask for vectorisation regardless of the -O2 cost model. */
#define LD_ELEM_SIMD _Pragma("omp simd")

/* ---- row function generators ----
 * EXPR(C, x, y, p) is an expression macro on values of compute type C. */

/* Binary row name_sfx: o[i] = ST(EXPR(LD(a), LD(b))) for the four stride patterns. */
#define LD_ELEM_BIN_ROW(name, sfx, T, TO, C, LD, ST, EXPR) \
    static void name##_##sfx(void *o_, const void *const *in, const int *inc, int64_t n, \
                             const ld_elem_par *p_) { \
        TO *o = o_; \
        const T *a = in[0], *b = in[1]; \
        const ld_elem_par pv = p_ ? *p_ : (ld_elem_par){0};   /* params in registers */ \
        const ld_elem_par *p = &pv; \
        (void)p; \
        if (inc[0] && inc[1]) { \
            LD_ELEM_SIMD for (int64_t i = 0; i < n; i++) o[i] = ST(EXPR(C, LD(a[i]), LD(b[i]), p)); \
        } else if (inc[1]) { \
            C xs = LD(a[0]); \
            (void)xs; \
            LD_ELEM_SIMD for (int64_t i = 0; i < n; i++) o[i] = ST(EXPR(C, xs, LD(b[i]), p)); \
        } else if (inc[0]) { \
            C ys = LD(b[0]); \
            (void)ys; \
            LD_ELEM_SIMD for (int64_t i = 0; i < n; i++) o[i] = ST(EXPR(C, LD(a[i]), ys, p)); \
        } else { \
            TO r = ST(EXPR(C, LD(a[0]), LD(b[0]), p)); \
            for (int64_t i = 0; i < n; i++) o[i] = r; \
        } \
    }

/* Unary contiguous map name_sfx: o[i] = ST(EXPR(C, LD(x[i]), p)). */
#define LD_ELEM_MAP_ROW(name, sfx, T, TO, C, LD, ST, EXPR) \
    LD_ELEM_MAP_ROW_A(, name, sfx, T, TO, C, LD, ST, EXPR)
/* The same with function attributes ATTR (e.g. LD_ELEM_CLONES). */
#define LD_ELEM_MAP_ROW_A(ATTR, name, sfx, T, TO, C, LD, ST, EXPR) \
    ATTR static void name##_##sfx(void *o_, const void *x_, int64_t n, const ld_elem_par *p_) { \
        TO *o = o_; \
        const T *xv = x_; \
        const ld_elem_par pv = p_ ? *p_ : (ld_elem_par){0}; \
        const ld_elem_par *p = &pv; \
        (void)p; \
        LD_ELEM_SIMD for (int64_t i = 0; i < n; i++) o[i] = ST(EXPR(C, LD(xv[i]), p)); \
    }

/* Same-dtype binary op with one expression per category (float, signed, unsigned), and its
 * per-dtype table name_tab. */
#define LD_ELEM_GEN_F(sfx, T, C, LD, ST, DT, name, F, S, U) LD_ELEM_BIN_ROW(name, sfx, T, T, C, LD, ST, F)
#define LD_ELEM_GEN_S(sfx, T, C, LD, ST, DT, name, F, S, U) LD_ELEM_BIN_ROW(name, sfx, T, T, C, LD, ST, S)
#define LD_ELEM_GEN_U(sfx, T, C, LD, ST, DT, name, F, S, U) LD_ELEM_BIN_ROW(name, sfx, T, T, C, LD, ST, U)
#define LD_ELEM_GEN_BIN(name, F, S, U) \
    LD_ELEM_FLOATS(LD_ELEM_GEN_F, name, F, S, U) \
    LD_ELEM_SINTS(LD_ELEM_GEN_S, name, F, S, U) \
    LD_ELEM_UINTS(LD_ELEM_GEN_U, name, F, S, U) \
    static const ld_elem_row_fn name##_tab[LD_DTYPE_COUNT] = {LD_ELEM_NUMERIC(LD_ELEM_TAB, name)};

/* Same-dtype unary op (maps), per category, and its table name_tab (ld_elem_map_fn). */
#define LD_ELEM_GENU_F(sfx, T, C, LD, ST, DT, name, F, S, U) LD_ELEM_MAP_ROW(name, sfx, T, T, C, LD, ST, F)
#define LD_ELEM_GENU_S(sfx, T, C, LD, ST, DT, name, F, S, U) LD_ELEM_MAP_ROW(name, sfx, T, T, C, LD, ST, S)
#define LD_ELEM_GENU_U(sfx, T, C, LD, ST, DT, name, F, S, U) LD_ELEM_MAP_ROW(name, sfx, T, T, C, LD, ST, U)
#define LD_ELEM_GEN_UN(name, F, S, U) \
    LD_ELEM_FLOATS(LD_ELEM_GENU_F, name, F, S, U) \
    LD_ELEM_SINTS(LD_ELEM_GENU_S, name, F, S, U) \
    LD_ELEM_UINTS(LD_ELEM_GENU_U, name, F, S, U) \
    static const ld_elem_map_fn name##_tab[LD_DTYPE_COUNT] = {LD_ELEM_NUMERIC(LD_ELEM_TAB, name)};

/* ---- kernels of ops_elem_logic.c (listed in ld_ops_binary) ---- */
ld_status ld_elem_cmp_shape(ld_kctx *k);
ld_status ld_elem_equal_compute(ld_kctx *k);
ld_status ld_elem_less_compute(ld_kctx *k);
ld_status ld_elem_greater_compute(ld_kctx *k);
ld_status ld_elem_less_equal_compute(ld_kctx *k);
ld_status ld_elem_greater_equal_compute(ld_kctx *k);
ld_status ld_elem_logic_shape(ld_kctx *k);
ld_status ld_elem_and_compute(ld_kctx *k);
ld_status ld_elem_or_compute(ld_kctx *k);
ld_status ld_elem_xor_compute(ld_kctx *k);
ld_status ld_elem_bitwise_shape(ld_kctx *k);
ld_status ld_elem_bitwise_and_compute(ld_kctx *k);
ld_status ld_elem_bitwise_or_compute(ld_kctx *k);
ld_status ld_elem_bitwise_xor_compute(ld_kctx *k);
ld_status ld_elem_bitshift_compute(ld_kctx *k);
ld_status ld_elem_where_shape(ld_kctx *k);
ld_status ld_elem_where_compute(ld_kctx *k);

/* ---- fast float32 math (branch-free, vectorisable; within ~3 ulp) ---- */

/* The helpers are always inlined so they also inline into LD_ELEM_CLONES functions, whose
 * target differs. LD_ELEM_CLONES compiles a function for AVX-512, AVX2 and plain x86-64, picked
 * at load time by CPU features ("arch=haswell" would match Haswell CPUs only); the math-heavy
 * loops run ~3x faster that way. */
#define LD_ELEM_INLINE __attribute__((always_inline))
#if defined(__GNUC__) && !defined(__clang__) && defined(__x86_64__) && defined(__GLIBC__)
#define LD_ELEM_CLONES __attribute__((target_clones("avx512f", "avx2", "default")))
#else
#define LD_ELEM_CLONES
#endif

/* exp(x): Cody-Waite reduction and a degree-6 polynomial (Cephes); exact 0/Inf/NaN limits.
 * Adding 1.5*2^23 rounds x*log2(e) to an integer n held in the low mantissa bits, so the
 * scale 2^n is built with integer ops and no float-to-int conversion. */
static inline LD_ELEM_INLINE float ld_elem_expf(float x) {
    float xc = x < 88.3762626647949f ? x : 88.3762626647949f;      /* NaN -> finite here */
    xc = xc > -87.3365447505531f ? xc : -87.3365447505531f;
    float k = xc * 1.44269504088896341f + 12582912.0f;
    float fn = k - 12582912.0f;
    float r = xc - fn * 0.693359375f + fn * 2.12194440e-4f;
    float y = 1.9875691500e-4f;
    y = y * r + 1.3981999507e-3f;
    y = y * r + 8.3334519073e-3f;
    y = y * r + 4.1665795894e-2f;
    y = y * r + 1.6666665459e-1f;
    y = y * r + 5.0000001201e-1f;
    y = y * r * r + r + 1.0f;
    y *= ld_bits_f32((ld_f32_bits(k) + 127u) << 23);               /* 2^n */
    y = x > 88.7228391f ? INFINITY : y;
    y = x < -87.3365447505531f ? 0.0f : y;             /* denormal results flush to 0 */
    return x != x ? x : y;
}

/* 1 / (1 + exp(-x)). */
static inline LD_ELEM_INLINE float ld_elem_sigmoidf(float x) {
    return 1.0f / (1.0f + ld_elem_expf(-x));
}

/* tanh(x): odd polynomial for |x| < 0.625, 1 - 2/(exp(2|x|)+1) beyond. */
static inline LD_ELEM_INLINE float ld_elem_tanhf(float x) {
    float ax = fabsf(x);
    float t = x * x;
    float p = -0.005697462646338695f;
    p = p * t + 0.020630257728307757f;
    p = p * t - 0.053735851656722754f;
    p = p * t + 0.1333136545594628f;
    p = p * t - 0.333332753458482f;
    p = p * t + 0.9999999982368605f;
    float e = ld_elem_expf(2.0f * (ax < 9.0f ? ax : 9.0f));
    float big = 1.0f - 2.0f / (e + 1.0f);
    big = copysignf(big, x);
    big = ax < 0.625f ? x * p : big;
    return x != x ? x : big;
}

/* erf(a) / a for |a| < 1: polynomial in a*a. */
static inline LD_ELEM_INLINE float ld_elem_erf_small(float a) {
    float t = a * a;
    float p = 7.898139194924061e-05f;
    p = p * t - 0.0008024335332196766f;
    p = p * t + 0.00519005176623495f;
    p = p * t - 0.02685480777452148f;
    p = p * t + 0.11283612415472861f;
    p = p * t - 0.3761262884290041f;
    p = p * t + 1.1283791665102911f;
    return p;
}

/* erfc(a) for a >= 1: exp(-a*a) * Q(1/a) / a, Q a polynomial; a is clamped to [1, 10]
 * (erfc(10) ~ 2e-45 is 0 in float). */
static inline LD_ELEM_INLINE float ld_elem_erfc_tail(float a) {
    a = a > 1.0f ? a : 1.0f;
    a = a < 10.0f ? a : 10.0f;
    float u = 1.0f / a;
    float q = -0.03102477113673638f;
    q = q * u + 0.23488257535194157f;
    q = q * u - 0.7688215616148772f;
    q = q * u + 1.4180679235146518f;
    q = q * u - 1.5754382771487607f;
    q = q * u + 0.9699029589919165f;
    q = q * u - 0.11592004647326107f;
    q = q * u - 0.2672375192657634f;
    q = q * u - 0.00104821597017081f;
    q = q * u + 0.5642205242088166f;
    return ld_elem_expf(-a * a) * q * u;
}

static inline LD_ELEM_INLINE float ld_elem_erff(float x) {
    float ax = fabsf(x);
    float small = x * ld_elem_erf_small(ax < 1.0f ? ax : 0.0f);
    float big = copysignf(1.0f - ld_elem_erfc_tail(ax), x);
    big = ax < 1.0f ? small : big;
    return x != x ? x : big;
}

/* Gelu 0.5 x (1 + erf(x / sqrt 2)); for x < 0 as 0.5 x erfc(|x| / sqrt 2), so the small
 * negative tail keeps its relative accuracy. */
static inline LD_ELEM_INLINE float ld_elem_gelu_erff(float x) {
    float a = fabsf(x) * 0.70710678118654752f;
    float s = a * ld_elem_erf_small(a < 1.0f ? a : 0.0f);     /* erf(a), a < 1 */
    float t = ld_elem_erfc_tail(a);                            /* erfc(a), a >= 1 */
    float erf_a = a < 1.0f ? s : 1.0f - t;
    float erfc_a = a < 1.0f ? 1.0f - s : t;
    float g = 0.5f * x * (x >= 0.0f ? 1.0f + erf_a : erfc_a);
    return x != x ? x : g;
}

#endif
