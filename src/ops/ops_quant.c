/*
** ops_quant.c — linear quantization: QuantizeLinear, DequantizeLinear (per-tensor, per-axis
** and blocked; integer, int4/int2, float8 and float4 quantized types), DynamicQuantizeLinear,
** and the family's op table. The integer matmul/conv ops live in ops_quant_mm.c; the
** com.microsoft contrib ops (MatMulNBits, contrib Q/DQ) in ops_quant_nbits.c.
**
** The input is viewed as (outer, A, inner) around the quantization axis and processed in
** chunks of one row of `inner` elements, so the per-axis scale is constant over a chunk and
** the inner loops stay simple. Rounding is round-half-to-even (quant_rne, which vectorises
** unlike nearbyintf), and integer results saturate to the quantized type's range.
*/
#include "ops_quant.h"
#include "ld_numeric.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define QCHUNK 1024

/* Round half to even in the default rounding mode: adding and removing 1.5 * 2^23 leaves
 * the nearest integer. |v| is first limited to 2^22, far outside every quantized range;
 * NaN goes to the low end (numpy's int cast of NaN is INT_MIN, which then saturates low). */
static inline float quant_rne(float v) {
    v = v > -4194304.0f ? v : -4194304.0f;
    v = v < 4194304.0f ? v : 4194304.0f;
    return (v + 12582912.0f) - 12582912.0f;
}

/* Saturation range of an integer quantized type; false for float8/float4. */
static bool quant_int_range(ld_dtype t, float *lo, float *hi) {
    switch (t) {
    case LD_U8: *lo = 0; *hi = 255; return true;
    case LD_I8: *lo = -128; *hi = 127; return true;
    case LD_U16: *lo = 0; *hi = 65535; return true;
    case LD_I16: *lo = -32768; *hi = 32767; return true;
    case LD_U4: *lo = 0; *hi = 15; return true;
    case LD_I4: *lo = -8; *hi = 7; return true;
    case LD_U2: *lo = 0; *hi = 3; return true;
    case LD_I2: *lo = -2; *hi = 1; return true;
    default: return false;
    }
}

static bool quant_is_f8(ld_dtype t) {
    return t == LD_F8E4M3FN || t == LD_F8E4M3FNUZ || t == LD_F8E5M2 || t == LD_F8E5M2FNUZ;
}

/* The first `nreq` inputs and output 0 must be present tensors (checked once, in shape()). */
static ld_status quant_check_io(ld_kctx *k, int nreq, bool need_out0) {
    for (int i = 0; i < nreq; i++)
        if (!LD_HAS_IN(k, i) || k->in[i]->kind != LD_KIND_TENSOR)
            return ld_error(LD_ERR_DATA, "required input %d is missing or not a tensor", i);
    if (need_out0 && !LD_HAS_OUT(k, 0)) return ld_error(LD_ERR_DATA, "output 0 is required");
    return LD_OK;
}

/* ---- granularity: x as (outer, A, inner) around the axis ---- */

typedef enum { QG_TENSOR, QG_AXIS, QG_BLOCK } quant_gran;

typedef struct quant_layout {
    quant_gran gran;
    int64_t outer, A, inner;
    int64_t block, sa;            /* QG_BLOCK: block size, scale's dim along the axis */
} quant_layout;

static ld_status quant_layout_make(ld_kctx *k, const ld_tensor *x, const ld_tensor *s,
                                   const ld_tensor *z, quant_layout *L) {
    memset(L, 0, sizeof *L);
    char b1[128], b2[128];
    if (z && !ld_shape_equal(s, z) && !(s->numel == 1 && z->numel == 1))
        return ld_error(LD_ERR_DATA, "scale %s and zero point %s differ in shape",
                        ld_shape_str(s, b1, sizeof b1), ld_shape_str(z, b2, sizeof b2));
    int64_t block = ld_attr_int(k->node, "block_size", 0);
    L->outer = L->A = 1;
    L->inner = x->numel;
    if (s->numel == 1 && s->ndim <= 1 && block <= 0) { L->gran = QG_TENSOR; return LD_OK; }
    int axis;
    LD_TRY(ld_axis_norm(ld_attr_int(k->node, "axis", 1), x->ndim, &axis));
    if (x->ndim == 0) return ld_error(LD_ERR_DATA, "per-axis scale needs a tensor input");
    L->outer = ld_dims_numel(axis, x->dims);
    L->A = x->dims[axis];
    L->inner = ld_dims_numel(x->ndim - axis - 1, x->dims + axis + 1);
    if (block <= 0) {
        if (s->ndim != 1 || s->dims[0] != L->A)
            return ld_error(LD_ERR_DATA, "per-axis scale %s does not match axis %d of input %s",
                            ld_shape_str(s, b1, sizeof b1), axis, ld_shape_str(x, b2, sizeof b2));
        L->gran = QG_AXIS;
        return LD_OK;
    }
    bool ok = s->ndim == x->ndim;
    for (int d = 0; ok && d < x->ndim; d++)
        ok = d == axis ? s->dims[d] == (x->dims[d] + block - 1) / block : s->dims[d] == x->dims[d];
    if (!ok)
        return ld_error(LD_ERR_DATA, "blocked scale %s does not fit input %s with block_size %lld on axis %d",
                        ld_shape_str(s, b1, sizeof b1), ld_shape_str(x, b2, sizeof b2),
                        (long long)block, axis);
    L->gran = QG_BLOCK;
    L->block = block;
    L->sa = s->dims[axis];
    return LD_OK;
}

/* Offset into the scale for row (o, a), and whether it varies along the row. */
static int64_t quant_param_off(const quant_layout *L, int64_t o, int64_t a, int *stride) {
    switch (L->gran) {
    case QG_TENSOR: *stride = 0; return 0;
    case QG_AXIS: *stride = 0; return a;
    default: *stride = 1; return (o * L->sa + a / L->block) * L->inner;
    }
}

/* A small tensor's values as float32 (scales, zero points); caller frees. */
static float *quant_params_f32(const ld_tensor *t) {
    float *v = malloc(sizeof(float) * (t->numel ? t->numel : 1));
    if (!v) return NULL;
    for (int64_t i = 0; i < t->numel; i++) v[i] = (float)ld_tensor_get_f64(t, i);
    return v;
}

/* Decode n elements of x from offset off into float32. */
static void quant_decode(const ld_tensor *x, int64_t off, int64_t n, float *buf) {
    const uint8_t *u8 = (const uint8_t *)x->data + off;
    switch (x->dtype) {
    case LD_F32: memcpy(buf, (const float *)x->data + off, sizeof(float) * n); break;
    case LD_U8: case LD_U4: case LD_U2:
        #pragma omp simd
        for (int64_t i = 0; i < n; i++) buf[i] = u8[i];
        break;
    case LD_I8: case LD_I4: case LD_I2:
        #pragma omp simd
        for (int64_t i = 0; i < n; i++) buf[i] = (int8_t)u8[i];
        break;
    case LD_F8E4M3FN: for (int64_t i = 0; i < n; i++) buf[i] = ld_f8e4m3fn_to_f32(u8[i]); break;
    case LD_F8E4M3FNUZ: for (int64_t i = 0; i < n; i++) buf[i] = ld_f8e4m3fnuz_to_f32(u8[i]); break;
    case LD_F8E5M2: for (int64_t i = 0; i < n; i++) buf[i] = ld_f8e5m2_to_f32(u8[i]); break;
    case LD_F8E5M2FNUZ: for (int64_t i = 0; i < n; i++) buf[i] = ld_f8e5m2fnuz_to_f32(u8[i]); break;
    case LD_F4E2M1: for (int64_t i = 0; i < n; i++) buf[i] = ld_f4e2m1_to_f32(u8[i]); break;
    default: for (int64_t i = 0; i < n; i++) buf[i] = (float)ld_tensor_get_f64(x, off + i); break;
    }
}

/* Run fn(row o*A+a, chunk offset, chunk length) over all chunks, in parallel when big. */
typedef void (*quant_chunk_fn)(void *ctx, int64_t o, int64_t a, int64_t i0, int64_t n);

static void quant_for_chunks(const quant_layout *L, void *ctx, quant_chunk_fn fn) {
    int64_t per_row = (L->inner + QCHUNK - 1) / QCHUNK, rows = L->outer * L->A;
    int64_t total = rows * per_row;
    #pragma omp parallel for schedule(static) if (rows * L->inner > 65536)
    for (int64_t t = 0; t < total; t++) {
        int64_t r = t / per_row, c = t % per_row;
        int64_t i0 = c * QCHUNK;
        fn(ctx, r / L->A, r % L->A, i0, LD_MIN(QCHUNK, L->inner - i0));
    }
}

/* ---- QuantizeLinear ---- */

typedef struct quant_ctx {
    const quant_layout *L;
    const ld_tensor *x;
    const float *scale, *zp;      /* zp NULL: 0 */
    ld_dtype prec;                /* precision of the division: F16/BF16 round the quotient */
    bool saturate;
    ld_tensor *y;
} quant_ctx;

/* q = saturate(rne(q) + zp); zp varies along the row when st is 1. */
static void quant_round_clamp(float *q, int64_t n, const float *zp, int st, float lo, float hi) {
    if (!zp || st == 0) {
        float z = zp ? zp[0] : 0.0f;
        #pragma omp simd
        for (int64_t i = 0; i < n; i++) {
            float v = quant_rne(q[i]) + z;
            v = v > lo ? v : lo;
            q[i] = v < hi ? v : hi;
        }
        return;
    }
    #pragma omp simd
    for (int64_t i = 0; i < n; i++) {
        float v = quant_rne(q[i]) + zp[i];
        v = v > lo ? v : lo;
        q[i] = v < hi ? v : hi;
    }
}

static void quant_chunk(void *ctx, int64_t o, int64_t a, int64_t i0, int64_t n) {
    const quant_ctx *c = ctx;
    int st;
    int64_t poff = quant_param_off(c->L, o, a, &st) + i0 * st;
    int64_t base = (o * c->L->A + a) * c->L->inner + i0;
    const float *s = c->scale + poff, *zp = c->zp ? c->zp + poff : NULL;
    float q[QCHUNK];
    quant_decode(c->x, base, n, q);
    if (st == 0) {
        float sv = s[0];
        #pragma omp simd
        for (int64_t i = 0; i < n; i++) q[i] = q[i] / sv;
    } else {
        #pragma omp simd
        for (int64_t i = 0; i < n; i++) q[i] = q[i] / s[i];
    }
    if (c->prec == LD_F16) for (int64_t i = 0; i < n; i++) q[i] = ld_round_f16(q[i]);
    if (c->prec == LD_BF16) for (int64_t i = 0; i < n; i++) q[i] = ld_round_bf16(q[i]);
    float lo, hi;
    ld_dtype yt = c->y->dtype;
    void *y = (uint8_t *)c->y->data + base * (ld_dtype_size(yt));
    if (quant_int_range(yt, &lo, &hi)) {
        quant_round_clamp(q, n, zp, st, lo, hi);
        switch (yt) {     /* q holds in-range integers: the casts are exact */
        case LD_U16:
            #pragma omp simd
            for (int64_t i = 0; i < n; i++) ((uint16_t *)y)[i] = (uint16_t)q[i];
            break;
        case LD_I16:
            #pragma omp simd
            for (int64_t i = 0; i < n; i++) ((int16_t *)y)[i] = (int16_t)q[i];
            break;
        case LD_I8: case LD_I4: case LD_I2:
            #pragma omp simd
            for (int64_t i = 0; i < n; i++) ((int8_t *)y)[i] = (int8_t)q[i];
            break;
        default:
            #pragma omp simd
            for (int64_t i = 0; i < n; i++) ((uint8_t *)y)[i] = (uint8_t)q[i];
            break;
        }
        return;
    }
    uint8_t *y8 = y;
    for (int64_t i = 0; i < n; i++) {
        switch (yt) {
        case LD_F8E4M3FN: y8[i] = ld_f32_to_f8e4m3fn(q[i], c->saturate); break;
        case LD_F8E4M3FNUZ: y8[i] = ld_f32_to_f8e4m3fnuz(q[i], c->saturate); break;
        case LD_F8E5M2: y8[i] = ld_f32_to_f8e5m2(q[i], c->saturate); break;
        case LD_F8E5M2FNUZ: y8[i] = ld_f32_to_f8e5m2fnuz(q[i], c->saturate); break;
        default: y8[i] = ld_f32_to_f4e2m1(q[i] + (zp ? zp[i * st] : 0.0f)); break;
        }
    }
}

static ld_dtype quant_out_dtype(ld_kctx *k) {
    if (LD_HAS_IN(k, 2)) return k->in[2]->dtype;
    int64_t od = ld_attr_int(k->node, "output_dtype", 0);
    return od ? (ld_dtype)od : LD_U8;
}

ld_status ld_quant_quantize_shape(ld_kctx *k) {
    LD_TRY(quant_check_io(k, 2, true));
    ld_dtype yt = quant_out_dtype(k);
    float lo, hi;
    if (!quant_int_range(yt, &lo, &hi) && !quant_is_f8(yt) && yt != LD_F4E2M1)
        return ld_error(LD_ERR_UNSUPPORTED, "QuantizeLinear to %s is not supported",
                        ld_dtype_name((unsigned)yt < LD_DTYPE_COUNT ? yt : LD_UNDEFINED));
    int64_t od = ld_attr_int(k->node, "output_dtype", 0);
    if (od && LD_HAS_IN(k, 2) && od != k->in[2]->dtype)
        return ld_error(LD_ERR_DATA, "output_dtype %s differs from the zero point's type %s",
                        ld_dtype_name((ld_dtype)od), ld_dtype_name(k->in[2]->dtype));
    LD_TRY(ld_check_dtype(k, 0, LD_DT_FLOATS | LD_DT(LD_I32)));
    LD_TRY(ld_check_dtype(k, 1, LD_DT_FLOATS | LD_DT(LD_I32)));
    return ld_tensor_set_shape(k->out[0], yt, k->in[0]->ndim, k->in[0]->dims);
}

ld_status ld_quant_quantize_compute(ld_kctx *k) {
    const ld_tensor *x = k->in[0], *s = k->in[1], *z = LD_HAS_IN(k, 2) ? k->in[2] : NULL;
    quant_layout L;
    LD_TRY(quant_layout_make(k, x, s, z, &L));
    int64_t prec = ld_attr_int(k->node, "precision", 0);
    quant_ctx c = {.L = &L, .x = x, .prec = prec ? (ld_dtype)prec : s->dtype,
                   .saturate = ld_attr_int(k->node, "saturate", 1) != 0, .y = k->out[0]};
    float *sc = quant_params_f32(s), *zp = z ? quant_params_f32(z) : NULL;
    ld_status st = LD_OK;
    if (!sc || (z && !zp)) st = ld_oom();
    if (st == LD_OK) {
        c.scale = sc;
        c.zp = zp;
        if (quant_is_f8(k->out[0]->dtype)) c.zp = NULL;      /* float8 ignores the zero point */
        quant_for_chunks(&L, &c, quant_chunk);
    }
    free(sc);
    free(zp);
    return st;
}

/* ---- DequantizeLinear ---- */

typedef struct dequant_ctx {
    const quant_layout *L;
    const ld_tensor *x;
    const float *scale, *zp;
    ld_tensor *y;
} dequant_ctx;

static void dequant_chunk(void *ctx, int64_t o, int64_t a, int64_t i0, int64_t n) {
    const dequant_ctx *c = ctx;
    int st;
    int64_t poff = quant_param_off(c->L, o, a, &st) + i0 * st;
    int64_t base = (o * c->L->A + a) * c->L->inner + i0;
    const float *s = c->scale + poff, *zp = c->zp ? c->zp + poff : NULL;
    float v[QCHUNK];
    quant_decode(c->x, base, n, v);
    if (st == 0) {
        float sv = s[0], z = zp ? zp[0] : 0.0f;
        #pragma omp simd
        for (int64_t i = 0; i < n; i++) v[i] = (v[i] - z) * sv;
    } else {
        #pragma omp simd
        for (int64_t i = 0; i < n; i++) v[i] = (v[i] - (zp ? zp[i] : 0.0f)) * s[i];
    }
    switch (c->y->dtype) {
    case LD_F32: memcpy((float *)c->y->data + base, v, sizeof(float) * n); break;
    case LD_F16: ld_f32_to_f16_n(v, (uint16_t *)c->y->data + base, n); break;
    case LD_BF16:
        for (int64_t i = 0; i < n; i++) ((uint16_t *)c->y->data)[base + i] = ld_f32_to_bf16(v[i]);
        break;
    default: for (int64_t i = 0; i < n; i++) ld_tensor_set_f64(c->y, base + i, v[i]); break;
    }
}

ld_status ld_quant_dequantize_shape(ld_kctx *k) {
    LD_TRY(quant_check_io(k, 2, true));
    int64_t od = ld_attr_int(k->node, "output_dtype", 0);
    ld_dtype yt = od ? (ld_dtype)od : k->in[1]->dtype;
    if (yt != LD_F32 && yt != LD_F16 && yt != LD_BF16 && yt != LD_F64)
        return ld_error(LD_ERR_UNSUPPORTED, "DequantizeLinear to %s is not supported",
                        ld_dtype_name((unsigned)yt < LD_DTYPE_COUNT ? yt : LD_UNDEFINED));
    const ld_tensor *x = k->in[0];
    if (!ld_dtype_is_int(x->dtype) && !quant_is_f8(x->dtype) && x->dtype != LD_F4E2M1)
        return ld_error(LD_ERR_UNSUPPORTED, "DequantizeLinear of %s is not supported",
                        ld_dtype_name(x->dtype));
    return ld_tensor_set_shape(k->out[0], yt, x->ndim, x->dims);
}

ld_status ld_quant_dequantize_compute(ld_kctx *k) {
    const ld_tensor *x = k->in[0], *s = k->in[1], *z = LD_HAS_IN(k, 2) ? k->in[2] : NULL;
    quant_layout L;
    LD_TRY(quant_layout_make(k, x, s, z, &L));
    /* float8 and float4 carry no zero point (it must be 0) */
    if (z && (quant_is_f8(x->dtype) || x->dtype == LD_F4E2M1)) z = NULL;
    if (z && z->dtype != x->dtype)
        return ld_error(LD_ERR_DATA, "zero point type %s differs from input type %s",
                        ld_dtype_name(z->dtype), ld_dtype_name(x->dtype));
    dequant_ctx c = {.L = &L, .x = x, .y = k->out[0]};
    float *sc = quant_params_f32(s), *zp = z ? quant_params_f32(z) : NULL;
    ld_status st = LD_OK;
    if (!sc || (z && !zp)) st = ld_oom();
    if (st == LD_OK) {
        c.scale = sc;
        c.zp = zp;
        quant_for_chunks(&L, &c, dequant_chunk);
    }
    free(sc);
    free(zp);
    return st;
}

/* ---- DynamicQuantizeLinear (float32 -> uint8, scale and zero point from the data) ---- */

static ld_status dynquant_shape(ld_kctx *k) {
    LD_TRY(quant_check_io(k, 1, true));
    const ld_tensor *x = k->in[0];
    LD_TRY(ld_check_dtype(k, 0, LD_DT(LD_F32)));
    LD_TRY(ld_tensor_set_shape(k->out[0], LD_U8, x->ndim, x->dims));
    if (LD_HAS_OUT(k, 1)) LD_TRY(ld_tensor_set_shape(k->out[1], LD_F32, 0, NULL));
    if (LD_HAS_OUT(k, 2)) LD_TRY(ld_tensor_set_shape(k->out[2], LD_U8, 0, NULL));
    return LD_OK;
}

static ld_status dynquant_compute(ld_kctx *k) {
    const ld_tensor *x = k->in[0];
    const float *xv = x->data;
    float mx = 0.0f, mn = 0.0f;          /* the range always includes 0 */
    for (int64_t i = 0; i < x->numel; i++) {
        mx = xv[i] > mx ? xv[i] : mx;
        mn = xv[i] < mn ? xv[i] : mn;
    }
    float scale = mx == mn ? 1.0f : (mx - mn) / 255.0f;
    float zpf = 0.0f - mn / scale;
    zpf = zpf < 0 ? 0 : zpf > 255 ? 255 : zpf;
    float zp = quant_rne(zpf);
    uint8_t *y = k->out[0]->data;
    #pragma omp parallel for schedule(static) if (x->numel > 65536)
    for (int64_t i = 0; i < x->numel; i++) {
        float v = quant_rne(xv[i] / scale) + zp;
        v = v > 0.0f ? v : 0.0f;
        y[i] = (uint8_t)(v < 255.0f ? v : 255.0f);
    }
    if (LD_HAS_OUT(k, 1)) LD_F32P(k->out[1])[0] = scale;
    if (LD_HAS_OUT(k, 2)) ((uint8_t *)k->out[2]->data)[0] = (uint8_t)zp;
    return LD_OK;
}

#define QL(v) {"", "QuantizeLinear", v, ld_quant_quantize_shape, ld_quant_quantize_compute, 0}
#define DQL(v) {"", "DequantizeLinear", v, ld_quant_dequantize_shape, ld_quant_dequantize_compute, 0}

const ld_op_def ld_ops_quant[] = {
    QL(10), QL(13), QL(19), QL(21), QL(23), QL(24), QL(25),
    DQL(10), DQL(13), DQL(19), DQL(21), DQL(23), DQL(24), DQL(25),
    {"", "DynamicQuantizeLinear", 11, dynquant_shape, dynquant_compute, LD_OPF_F32_ONLY},
    {"", "MatMulInteger", 10, ld_quant_matmulinteger_shape, ld_quant_matmulinteger_compute, 0},
    {"", "QLinearMatMul", 10, ld_quant_qlinearmatmul_shape, ld_quant_qlinearmatmul_compute, 0},
    {"", "QLinearMatMul", 21, ld_quant_qlinearmatmul_shape, ld_quant_qlinearmatmul_compute, 0},
    {"", "ConvInteger", 10, ld_quant_convinteger_shape, ld_quant_convinteger_compute, 0},
    {"", "QLinearConv", 10, ld_quant_qlinearconv_shape, ld_quant_qlinearconv_compute, 0},
    {0},
};
