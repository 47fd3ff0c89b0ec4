/*
** ops_binary.c — broadcasting binary and variadic arithmetic: Add Sub Mul Div Pow Mod PRelu,
** Max Min Sum Mean; the table ld_ops_binary also lists the comparison / logic / bitwise /
** Where kernels of ops_elem_logic.c.
**
** Every kernel is a row function per dtype (generated below for float32, float64, float16,
** bfloat16 and the eight integer types) run by the broadcast engine of ops_elem_bcast.c.
** Integer arithmetic wraps like two's complement; integer Div truncates toward zero and both
** Div and Mod give 0 for a zero divisor instead of trapping.
*/
#include "ops_elem.h"
#include "ld_limits.h"

#include <string.h>

/* ---- per-category element expressions: x, y of compute type C ---- */

#define ADD_F(C, x, y, p) ((x) + (y))
#define ADD_I(C, x, y, p) ((C)((uint64_t)(x) + (uint64_t)(y)))
#define SUB_F(C, x, y, p) ((x) - (y))
#define SUB_I(C, x, y, p) ((C)((uint64_t)(x) - (uint64_t)(y)))
#define MUL_F(C, x, y, p) ((x) * (y))
#define MUL_I(C, x, y, p) ((C)((uint64_t)(x) * (uint64_t)(y)))
#define DIV_F(C, x, y, p) ((x) / (y))
#define DIV_S(C, x, y, p) ((y) == 0 ? (C)0 : (y) == -1 ? (C)(0 - (uint64_t)(x)) : (C)((x) / (y)))
#define DIV_U(C, x, y, p) ((y) == 0 ? (C)0 : (C)((x) / (y)))
#define MAX_F(C, x, y, p) (((x) > (y) || (x) != (x)) ? (x) : (y))    /* NaN propagates */
#define MAX_I(C, x, y, p) ((x) > (y) ? (x) : (y))
#define MIN_F(C, x, y, p) (((x) < (y) || (x) != (x)) ? (x) : (y))
#define MIN_I(C, x, y, p) ((x) < (y) ? (x) : (y))
#define MOD_F(C, x, y, p) ((C)mod_float((x), (y), (p)->mode))
#define MOD_S(C, x, y, p) ((C)mod_signed((x), (y), (p)->mode))
#define MOD_U(C, x, y, p) ((y) == 0 ? (C)0 : (C)((x) % (y)))
#define PRELU_F(C, x, s, p) ((x) < 0 ? (x) * (s) : (x))
#define PRELU_S(C, x, s, p) ((x) < 0 ? (C)((uint64_t)(x) * (uint64_t)(s)) : (x))
#define PRELU_U(C, x, s, p) (x)

/* fmod=1: C fmod (sign of x); fmod=0: Python/numpy mod (sign of y). */
static inline double mod_float(double x, double y, int c_fmod) {
    double r = fmod(x, y);
    if (!c_fmod && r != 0 && ((r < 0) != (y < 0))) r += y;
    return r;
}

static inline int64_t mod_signed(int64_t x, int64_t y, int c_fmod) {
    if (y == 0 || y == -1) return 0;
    int64_t r = x % y;
    if (!c_fmod && r != 0 && ((r < 0) != (y < 0))) r += y;
    return r;
}

LD_ELEM_GEN_BIN(add, ADD_F, ADD_I, ADD_I)
LD_ELEM_GEN_BIN(sub, SUB_F, SUB_I, SUB_I)
LD_ELEM_GEN_BIN(mul, MUL_F, MUL_I, MUL_I)
LD_ELEM_GEN_BIN(div, DIV_F, DIV_S, DIV_U)
LD_ELEM_GEN_BIN(max, MAX_F, MAX_I, MAX_I)
LD_ELEM_GEN_BIN(min, MIN_F, MIN_I, MIN_I)
LD_ELEM_GEN_BIN(mod, MOD_F, MOD_S, MOD_U)
LD_ELEM_GEN_BIN(prelu, PRELU_F, PRELU_S, PRELU_U)

/* ---- two-input arithmetic ---- */

static ld_status binary_shape(ld_kctx *k) {
    ld_tensor view;
    const ld_tensor *a = k->in[0], *b = ld_elem_legacy_b(k, &view);
    if (a->kind != LD_KIND_TENSOR || b->kind != LD_KIND_TENSOR)
        return ld_error(LD_ERR_DATA, "inputs must be tensors");
    if (strcmp(k->node->op_type, "Pow") && a->dtype != b->dtype)
        return ld_error(LD_ERR_DATA, "input dtypes differ: %s and %s", ld_dtype_name(a->dtype),
                        ld_dtype_name(b->dtype));
    int nd;
    int64_t dims[LD_MAX_DIMS];
    LD_TRY(ld_broadcast_dims(a->ndim, a->dims, b->ndim, b->dims, &nd, dims));
    return ld_tensor_set_shape(k->out[0], a->dtype, nd, dims);
}

static ld_status binary_run(ld_kctx *k, const ld_elem_row_fn *tab, const ld_elem_par *p) {
    ld_tensor view;
    const ld_tensor *in[2] = {k->in[0], ld_elem_legacy_b(k, &view)};
    ld_elem_row_fn fn = LD_ELEM_PICK(tab, k->in[0]->dtype);
    if (!fn)
        return ld_error(LD_ERR_UNSUPPORTED, "%s does not support dtype %s", k->node->op_type,
                        ld_dtype_name(k->in[0]->dtype));
    return ld_elem_bcast(k->out[0], in, 2, fn, p);
}

static ld_status add_compute(ld_kctx *k) { return binary_run(k, add_tab, NULL); }
static ld_status sub_compute(ld_kctx *k) { return binary_run(k, sub_tab, NULL); }
static ld_status mul_compute(ld_kctx *k) { return binary_run(k, mul_tab, NULL); }
/* Integer Div and Mod by zero, and the signed minimum divided by -1, are undefined in ONNX
 * (and trap or are undefined behaviour in C). The kernels above define them (0, and the
 * wrapped minimum for Div); say so once per node, since another runtime may differ. */
static void warn_int_division(ld_kctx *k) {
    const ld_tensor *a = k->in[0], *b = k->in[1];
    if (!b || !ld_dtype_is_int(b->dtype) || !b->data) return;
    bool zero = false, minus1 = false;
    for (int64_t i = 0; i < b->numel && !zero; i++) {
        int64_t v = ld_tensor_get_i64(b, i);
        zero |= v == 0;
        minus1 |= v == -1;
    }
    bool overflow = false;
    bool div = !strcmp(k->node->op_type, "Div");   /* (Mod of the minimum by -1 is just 0) */
    if (!zero && minus1 && div && ld_dtype_is_signed(a->dtype) && a->data) {
        int bits = 8 * (int)ld_dtype_size(a->dtype);
        int64_t min = bits >= 64 ? INT64_MIN : -((int64_t)1 << (bits - 1));
        for (int64_t i = 0; i < a->numel && !overflow; i++) overflow = ld_tensor_get_i64(a, i) == min;
    }
    if (zero)
        ld_warn_once(k->node, "node '%s' (%s): integer %s by zero, which ONNX leaves undefined; "
                     "layerdiff gives 0", k->node->name, k->node->op_type,
                     div ? "division" : "modulo");
    else if (overflow)
        ld_warn_once(k->node, "node '%s' (%s): the most negative %s divided by -1 overflows, which ONNX "
                     "leaves undefined; layerdiff gives the most negative value", k->node->name,
                     k->node->op_type, ld_dtype_name(a->dtype));
}

static ld_status div_compute(ld_kctx *k) {
    if (ld_dtype_is_int(k->in[0]->dtype)) warn_int_division(k);
    return binary_run(k, div_tab, NULL);
}

static ld_status mod_compute(ld_kctx *k) {
    ld_elem_par p = {.mode = ld_attr_int(k->node, "fmod", 0) != 0};
    if (ld_dtype_is_int(k->in[0]->dtype)) warn_int_division(k);
    return binary_run(k, mod_tab, &p);
}

/* PRelu: slope broadcasts to X (unidirectionally). Before opset 7 a 1-D slope of C values
 * applies per channel (axis 1) of (N,C,...): viewed here as (C,1,...,1). */
static const ld_tensor *prelu_slope(ld_kctx *k, ld_tensor *view) {
    const ld_tensor *x = k->in[0], *s = k->in[1];
    if (k->node->opset >= 7 || s->ndim != 1 || x->ndim < 3 || s->dims[0] != x->dims[1] ||
        s->dims[0] == 1)
        return s;
    *view = *s;
    view->owns = false;
    view->ndim = x->ndim - 1;
    for (int i = 1; i < view->ndim; i++) view->dims[i] = 1;
    return view;
}

static ld_status prelu_shape(ld_kctx *k) {
    ld_tensor view;
    const ld_tensor *x = k->in[0], *s = prelu_slope(k, &view);
    if (x->kind != LD_KIND_TENSOR || s->kind != LD_KIND_TENSOR)
        return ld_error(LD_ERR_DATA, "inputs must be tensors");
    if (x->dtype != s->dtype)
        return ld_error(LD_ERR_DATA, "input dtypes differ: %s and %s", ld_dtype_name(x->dtype),
                        ld_dtype_name(s->dtype));
    int nd;
    int64_t dims[LD_MAX_DIMS];
    LD_TRY(ld_broadcast_dims(x->ndim, x->dims, s->ndim, s->dims, &nd, dims));
    if (nd != x->ndim || memcmp(dims, x->dims, sizeof(int64_t) * nd)) {
        char sx[128], ss[128];
        return ld_error(LD_ERR_DATA, "slope %s does not broadcast to X %s",
                        ld_shape_str(s, ss, sizeof ss), ld_shape_str(x, sx, sizeof sx));
    }
    return ld_tensor_set_shape(k->out[0], x->dtype, x->ndim, x->dims);
}

static ld_status prelu_compute(ld_kctx *k) {
    ld_tensor view;
    const ld_tensor *in[2] = {k->in[0], prelu_slope(k, &view)};
    ld_elem_row_fn fn = LD_ELEM_PICK(prelu_tab, in[0]->dtype);
    if (!fn)
        return ld_error(LD_ERR_UNSUPPORTED, "PRelu does not support dtype %s",
                        ld_dtype_name(in[0]->dtype));
    return ld_elem_bcast(k->out[0], in, 2, fn, NULL);
}

/* ---- Pow: base and exponent dtypes may differ; the output has the base's dtype ---- */

/* float32 ** float32, with the common constant exponents done without powf. */
static void pow_f32(void *o_, const void *const *in, const int *inc, int64_t n,
                    const ld_elem_par *p) {
    float *o = o_;
    const float *a = in[0], *b = in[1];
    if (inc[1]) {
        for (int64_t i = 0; i < n; i++) o[i] = powf(a[i * inc[0]], b[i]);
        return;
    }
    float e = b[0];
    if (!inc[0]) {
        for (int64_t i = 0; i < n; i++) o[i] = powf(a[0], e);
    } else if (e == 2.0f) {
        LD_ELEM_SIMD for (int64_t i = 0; i < n; i++) o[i] = a[i] * a[i];
    } else if (e == 3.0f) {
        LD_ELEM_SIMD for (int64_t i = 0; i < n; i++) o[i] = a[i] * a[i] * a[i];
    } else if (e == 1.0f) {
        memcpy(o, a, sizeof(float) * n);
    } else if (e == 0.5f) {
        LD_ELEM_SIMD for (int64_t i = 0; i < n; i++) o[i] = sqrtf(a[i]);
    } else {
        for (int64_t i = 0; i < n; i++) o[i] = powf(a[i], e);
    }
}

/* Integer power by squaring, wrapping like numpy; negative exponents truncate to 0 / ±1. */
static int64_t pow_int(int64_t b, int64_t e) {
    if (e < 0) return b == 1 ? 1 : b == -1 ? ((e & 1) ? -1 : 1) : 0;
    uint64_t r = 1, x = (uint64_t)b;
    while (e) {
        if (e & 1) r *= x;
        x *= x;
        e >>= 1;
    }
    return (int64_t)r;
}

static inline ld_tensor elem_view(const void *data, ld_dtype t) {
    return (ld_tensor){.kind = LD_KIND_TENSOR, .dtype = t, .data = (void *)data};
}

/* Store v into element i of an integer array of dtype t, wrapping. */
static void store_int(void *o, ld_dtype t, int64_t i, int64_t v) {
    switch (t) {
    case LD_I8: ((int8_t *)o)[i] = (int8_t)v; break;
    case LD_U8: ((uint8_t *)o)[i] = (uint8_t)v; break;
    case LD_I16: ((int16_t *)o)[i] = (int16_t)v; break;
    case LD_U16: ((uint16_t *)o)[i] = (uint16_t)v; break;
    case LD_I32: ((int32_t *)o)[i] = (int32_t)v; break;
    case LD_U32: ((uint32_t *)o)[i] = (uint32_t)v; break;
    case LD_I64: ((int64_t *)o)[i] = v; break;
    case LD_U64: ((uint64_t *)o)[i] = (uint64_t)v; break;
    default: assert(!"store_int: not an integer dtype");
    }
}

/* Any dtype pair (p->mode = base dtype | exponent dtype << 8), element by element: integer **
 * integer exactly, anything else in double and cast to the base dtype. */
static void pow_any(void *o_, const void *const *in, const int *inc, int64_t n,
                    const ld_elem_par *p) {
    ld_dtype bt = (ld_dtype)(p->mode & 0xff), et = (ld_dtype)(p->mode >> 8);
    ld_tensor a = elem_view(in[0], bt), b = elem_view(in[1], et), o = elem_view(o_, bt);
    bool ints = ld_dtype_is_int(bt) && ld_dtype_is_int(et);
    for (int64_t i = 0; i < n; i++) {
        if (ints) {
            int64_t x = ld_tensor_get_i64(&a, i * inc[0]), e = ld_tensor_get_i64(&b, i * inc[1]);
            store_int(o_, bt, i, pow_int(x, e));
        } else {
            double r = pow(ld_tensor_get_f64(&a, i * inc[0]), ld_tensor_get_f64(&b, i * inc[1]));
            if (ld_dtype_is_int(bt) && !isfinite(r)) r = 0;
            ld_tensor_set_f64(&o, i, r);
        }
    }
}

static ld_status pow_compute(ld_kctx *k) {
    ld_tensor view;
    const ld_tensor *in[2] = {k->in[0], ld_elem_legacy_b(k, &view)};
    ld_dtype bt = in[0]->dtype, et = in[1]->dtype;
    uint32_t ok = LD_DT_NUMERIC;
    if (!(ok & LD_DT(bt)) || !(ok & LD_DT(et)))
        return ld_error(LD_ERR_UNSUPPORTED, "Pow does not support dtypes %s ** %s",
                        ld_dtype_name(bt), ld_dtype_name(et));
    if (bt == LD_F32 && et == LD_F32) return ld_elem_bcast(k->out[0], in, 2, pow_f32, NULL);
    if (bt == LD_F32 && in[1]->numel == 1) {        /* x ** scalar of another dtype */
        float e = (float)ld_tensor_get_f64(in[1], 0);
        ld_tensor ef = *in[1];
        ef.dtype = LD_F32;
        ef.data = &e;
        ef.owns = false;
        const ld_tensor *in2[2] = {in[0], &ef};
        return ld_elem_bcast(k->out[0], in2, 2, pow_f32, NULL);
    }
    ld_elem_par p = {.mode = (int)bt | (int)et << 8};
    return ld_elem_bcast(k->out[0], in, 2, pow_any, &p);
}

/* ---- variadic Max / Min / Sum / Mean ---- */

static ld_status variadic_shape(ld_kctx *k) {
    if (k->nin < 1 || !LD_HAS_IN(k, 0)) return ld_error(LD_ERR_DATA, "needs at least one input");
    LD_TRY(ld_elem_same_dtype(k, 0));
    int nd;
    int64_t dims[LD_MAX_DIMS];
    LD_TRY(ld_elem_bcast_shape(k, 0, k->nin, &nd, dims));
    return ld_tensor_set_shape(k->out[0], k->in[0]->dtype, nd, dims);
}

/* out = in0 (broadcast); then out = op(out, in_i) for each further input. */
static ld_status variadic_run(ld_kctx *k, const ld_elem_row_fn *tab) {
    ld_tensor *out = k->out[0];
    ld_elem_row_fn fn = LD_ELEM_PICK(tab, out->dtype);
    if (!fn)
        return ld_error(LD_ERR_UNSUPPORTED, "%s does not support dtype %s", k->node->op_type,
                        ld_dtype_name(out->dtype));
    const ld_tensor *acc = NULL;
    int steps = 0;
    for (int i = 0; i < k->nin; i++) {
        if (!LD_HAS_IN(k, i)) continue;
        if (!acc) {
            acc = k->in[i];
            continue;
        }
        const ld_tensor *in[2] = {acc, k->in[i]};
        LD_TRY(ld_elem_bcast(out, in, 2, fn, NULL));
        acc = out;
        steps++;
    }
    if (!steps) {                         /* a single input: max(x, x) is a broadcast copy */
        const ld_tensor *in[2] = {acc, acc};
        return ld_elem_bcast(out, in, 2, LD_ELEM_PICK(max_tab, out->dtype), NULL);
    }
    return LD_OK;
}

static ld_status max_compute(ld_kctx *k) { return variadic_run(k, max_tab); }
static ld_status min_compute(ld_kctx *k) { return variadic_run(k, min_tab); }

static ld_status sum_compute(ld_kctx *k) { return variadic_run(k, add_tab); }

/* Mean's final out = out / count (p->mode = float dtype); in[0] is out itself. */
static void mean_scale(void *o_, const void *const *in, const int *inc, int64_t n,
                       const ld_elem_par *p) {
    if (p->mode == LD_F32) {
        float *o = o_, c = (float)p->count;
        LD_ELEM_SIMD for (int64_t i = 0; i < n; i++) o[i] /= c;
        return;
    }
    ld_tensor o = elem_view(o_, (ld_dtype)p->mode);
    for (int64_t i = 0; i < n; i++)
        ld_tensor_set_f64(&o, i, ld_tensor_get_f64(&o, i) / (double)p->count);
}

static ld_status mean_compute(ld_kctx *k) {
    ld_dtype t = k->in[0]->dtype;
    if (t != LD_F32 && t != LD_F64 && t != LD_F16 && t != LD_BF16)
        return ld_error(LD_ERR_UNSUPPORTED, "Mean does not support dtype %s", ld_dtype_name(t));
    LD_TRY(variadic_run(k, add_tab));
    ld_elem_par p = {.mode = (int)t, .count = 0};
    for (int i = 0; i < k->nin; i++) p.count += LD_HAS_IN(k, i);
    const ld_tensor *in[1] = {k->out[0]};
    return ld_elem_bcast(k->out[0], in, 1, mean_scale, &p);
}

const ld_op_def ld_ops_binary[] = {
    {"", "Add", 1, binary_shape, add_compute, 0 | LD_OPF_NOZERO_F32},
    {"", "Sub", 1, binary_shape, sub_compute, 0 | LD_OPF_NOZERO_F32},
    {"", "Mul", 1, binary_shape, mul_compute, 0 | LD_OPF_NOZERO_F32},
    {"", "Div", 1, binary_shape, div_compute, 0 | LD_OPF_NOZERO_F32},
    {"", "Pow", 1, binary_shape, pow_compute, 0 | LD_OPF_NOZERO_F32},
    {"", "Mod", 10, binary_shape, mod_compute, 0},
    {"", "PRelu", 1, prelu_shape, prelu_compute, 0 | LD_OPF_NOZERO_F32},
    {"", "Max", 1, variadic_shape, max_compute, 0 | LD_OPF_NOZERO_F32},
    {"", "Min", 1, variadic_shape, min_compute, 0 | LD_OPF_NOZERO_F32},
    {"", "Sum", 1, variadic_shape, sum_compute, 0},
    {"", "Mean", 1, variadic_shape, mean_compute, 0},
    {"", "Equal", 1, ld_elem_cmp_shape, ld_elem_equal_compute, 0},
    {"", "Less", 1, ld_elem_cmp_shape, ld_elem_less_compute, 0},
    {"", "Greater", 1, ld_elem_cmp_shape, ld_elem_greater_compute, 0},
    {"", "LessOrEqual", 12, ld_elem_cmp_shape, ld_elem_less_equal_compute, 0},
    {"", "GreaterOrEqual", 12, ld_elem_cmp_shape, ld_elem_greater_equal_compute, 0},
    {"", "And", 1, ld_elem_logic_shape, ld_elem_and_compute, 0},
    {"", "Or", 1, ld_elem_logic_shape, ld_elem_or_compute, 0},
    {"", "Xor", 1, ld_elem_logic_shape, ld_elem_xor_compute, 0},
    {"", "BitwiseAnd", 18, ld_elem_bitwise_shape, ld_elem_bitwise_and_compute, 0},
    {"", "BitwiseOr", 18, ld_elem_bitwise_shape, ld_elem_bitwise_or_compute, 0},
    {"", "BitwiseXor", 18, ld_elem_bitwise_shape, ld_elem_bitwise_xor_compute, 0},
    {"", "BitShift", 11, ld_elem_bitwise_shape, ld_elem_bitshift_compute, 0},
    {"", "Where", 9, ld_elem_where_shape, ld_elem_where_compute, 0 | LD_OPF_NOZERO_F32},
    {0},
};
