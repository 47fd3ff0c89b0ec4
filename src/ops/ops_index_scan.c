/*
** ops_index_scan.c — CumSum (opset 11/14) and CumProd (opset 26): running sum / product along
** an axis given as an input tensor, with the exclusive and reverse attributes.
**
** The scan walks rows of `inner` contiguous elements, so every step is a vector operation.
** Signed integers wrap (computed in unsigned arithmetic). float16/bfloat16 accumulate in
** float32 rounded back to the narrow format after every step, as numpy does.
*/
#include "ops_index.h"
#include "ld_numeric.h"

#include <stdlib.h>
#include <string.h>

typedef struct scan_geom {
    int64_t outer, n, inner;   // (outer, n, inner): scanning the middle dim
    bool exclusive, reverse, prod;
} scan_geom;

/* y[j] = x[j] (+|*) y[prev]; exclusive: y[first] = identity, y[j] = x[prev] (+|*) y[prev]. */
#define DEF_SCAN(SUF, T, UT)                                                               \
    static void scan_##SUF(const T *x, T *y, const scan_geom *g) {                         \
        int64_t n = g->n, in = g->inner;                                                    \
        for (int64_t o = 0; o < g->outer; o++) {                                            \
            const T *xo = x + o * n * in;                                                   \
            T *yo = y + o * n * in;                                                         \
            for (int64_t s = 0; s < n; s++) {                                               \
                int64_t j = g->reverse ? n - 1 - s : s;                                     \
                int64_t p = s == 0 ? j : g->reverse ? j + 1 : j - 1;                        \
                T *yr = yo + j * in;                                                        \
                const T *xr = xo + (g->exclusive ? p : j) * in, *yp = yo + p * in;          \
                if (s == 0) {                                                               \
                    T id = (T)(g->prod ? 1 : 0);                                            \
                    for (int64_t i = 0; i < in; i++) yr[i] = g->exclusive ? id : xr[i];     \
                } else if (g->prod) {                                                       \
                    for (int64_t i = 0; i < in; i++) yr[i] = (T)((UT)yp[i] * (UT)xr[i]);    \
                } else {                                                                    \
                    for (int64_t i = 0; i < in; i++) yr[i] = (T)((UT)yp[i] + (UT)xr[i]);    \
                }                                                                           \
            }                                                                               \
        }                                                                                   \
    }

DEF_SCAN(f32, float, float)
DEF_SCAN(f64, double, double)
DEF_SCAN(i8, int8_t, uint32_t)
DEF_SCAN(u8, uint8_t, uint32_t)
DEF_SCAN(i16, int16_t, uint32_t)
DEF_SCAN(u16, uint16_t, uint32_t)
DEF_SCAN(i32, int32_t, uint32_t)
DEF_SCAN(u32, uint32_t, uint32_t)
DEF_SCAN(i64, int64_t, uint64_t)
DEF_SCAN(u64, uint64_t, uint64_t)

/* float16/bfloat16: scan each outer slab in float32, rounding every row to the narrow type. */
static ld_status scan_narrow(const ld_tensor *x, ld_tensor *y, const scan_geom *g) {
    bool bf = x->dtype == LD_BF16;
    int64_t slab = g->n * g->inner;
    float *xf = malloc(sizeof(float) * (size_t)(slab ? slab : 1));
    float *yf = malloc(sizeof(float) * (size_t)(slab ? slab : 1));
    if (!xf || !yf) { free(xf); free(yf); return ld_oom(); }
    for (int64_t o = 0; o < g->outer; o++) {
        const uint16_t *xs = (const uint16_t *)x->data + o * slab;
        uint16_t *ys = (uint16_t *)y->data + o * slab;
        for (int64_t i = 0; i < slab; i++) xf[i] = bf ? ld_bf16_to_f32(xs[i]) : ld_f16_to_f32(xs[i]);
        for (int64_t s = 0; s < g->n; s++) {   /* one step at a time so each row is rounded */
            int64_t j = g->reverse ? g->n - 1 - s : s, p = s == 0 ? j : g->reverse ? j + 1 : j - 1;
            float *yr = yf + j * g->inner;
            const float *xr = xf + (g->exclusive ? p : j) * g->inner, *yp = yf + p * g->inner;
            for (int64_t i = 0; i < g->inner; i++) {
                float v = s == 0 ? (g->exclusive ? (g->prod ? 1.0f : 0.0f) : xr[i])
                                 : g->prod ? yp[i] * xr[i] : yp[i] + xr[i];
                yr[i] = bf ? ld_round_bf16(v) : ld_round_f16(v);
            }
        }
        if (bf) for (int64_t i = 0; i < slab; i++) ys[i] = ld_f32_to_bf16(yf[i]);
        else ld_f32_to_f16_n(yf, ys, slab);
    }
    free(xf);
    free(yf);
    return LD_OK;
}

static ld_status scan_compute(ld_kctx *k, bool prod) {
    const ld_tensor *x = k->in[0], *at = k->in[1];
    ld_tensor *y = k->out[0];
    if (!at || at->numel != 1 || at->ndim > 1 || !ld_dtype_is_int(at->dtype))
        return ld_error(LD_ERR_DATA, "%s axis must be a single integer", k->node->op_type);
    if (x->ndim < 1) return ld_error(LD_ERR_DATA, "%s input must have rank >= 1", k->node->op_type);
    int axis;
    LD_TRY(ld_axis_norm(ld_tensor_get_i64(at, 0), x->ndim, &axis));
    scan_geom g = {.outer = ld_index_prod(x->dims, 0, axis), .n = x->dims[axis],
                   .inner = ld_index_prod(x->dims, axis + 1, x->ndim),
                   .exclusive = ld_attr_int(k->node, "exclusive", 0) != 0,
                   .reverse = ld_attr_int(k->node, "reverse", 0) != 0, .prod = prod};
    if (x->numel == 0) return LD_OK;
    const void *s = x->data;
    void *d = y->data;
    switch (x->dtype) {
    case LD_F32: scan_f32(s, d, &g); break;
    case LD_F64: scan_f64(s, d, &g); break;
    case LD_I8: scan_i8(s, d, &g); break;
    case LD_U8: scan_u8(s, d, &g); break;
    case LD_I16: scan_i16(s, d, &g); break;
    case LD_U16: scan_u16(s, d, &g); break;
    case LD_I32: scan_i32(s, d, &g); break;
    case LD_U32: scan_u32(s, d, &g); break;
    case LD_I64: scan_i64(s, d, &g); break;
    case LD_U64: scan_u64(s, d, &g); break;
    case LD_F16: case LD_BF16: return scan_narrow(x, y, &g);
    default:
        return ld_error(LD_ERR_UNSUPPORTED, "%s does not support dtype %s", k->node->op_type,
                        ld_dtype_name(x->dtype));
    }
    return LD_OK;
}

ld_status ld_index_cumsum_compute(ld_kctx *k) { return scan_compute(k, false); }
ld_status ld_index_cumprod_compute(ld_kctx *k) { return scan_compute(k, true); }
