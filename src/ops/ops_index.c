/*
** ops_index.c — kernel family 'index': the op table (Gather*, Scatter*, TensorScatter, OneHot,
** NonZero, Compress, Unique, ReverseSequence, TopK, ArgMax/ArgMin, CumSum/CumProd) and the
** generic element movers the kernels in ops_index_*.c share (see ops_index.h).
*/
#include "ops_index.h"
#include "ld_numeric.h"

#include <stdlib.h>
#include <string.h>

/* ---- small helpers ---- */

int64_t ld_index_prod(const int64_t *dims, int from, int to) {
    int64_t p = 1;
    for (int i = from; i < to; i++) p *= dims[i];
    return p;
}

int64_t *ld_index_alloc_i64(int64_t n) {
    return malloc(sizeof(int64_t) * (size_t)(n > 0 ? n : 1));
}

ld_status ld_index_red_parse(const char *s, ld_index_red *out) {
    static const char *names[] = {"none", "add", "mul", "max", "min"};
    for (int i = 0; i < (int)LD_ARRAY_LEN(names); i++)
        if (!strcmp(s, names[i])) { *out = (ld_index_red)i; return LD_OK; }
    return ld_error(LD_ERR_DATA, "unknown reduction '%s' (expected none, add, mul, max or min)", s);
}

ld_status ld_index_check_int(const ld_tensor *t, const char *what) {
    if (t->kind != LD_KIND_TENSOR || !ld_dtype_is_int(t->dtype))
        return ld_error(LD_ERR_DATA, "%s must be an integer tensor, got %s", what,
                        t->kind == LD_KIND_TENSOR ? ld_dtype_name(t->dtype) : "a non-tensor value");
    return LD_OK;
}

ld_status ld_index_fix(int64_t v, int64_t dim, const char *what, int64_t *out) {
    int64_t x = v < 0 ? v + dim : v;
    if (x < 0 || x >= dim)
        return ld_error(LD_ERR_DATA, "%s: index %lld is out of range for a dimension of size %lld",
                        what, (long long)v, (long long)dim);
    *out = x;
    return LD_OK;
}

ld_status ld_index_load(const ld_tensor *t, int64_t dim, const char *what, int64_t **out) {
    LD_TRY(ld_index_check_int(t, what));
    int64_t n = t->numel;
    int64_t *v = ld_index_alloc_i64(n);
    if (!v) return ld_error(LD_ERR_NOMEM, "out of memory loading %lld indices", (long long)n);
    if (t->dtype == LD_I64) {
        if (n) memcpy(v, t->data, sizeof(int64_t) * (size_t)n);
    } else if (t->dtype == LD_I32) {
        const int32_t *s = t->data;
        for (int64_t i = 0; i < n; i++) v[i] = s[i];
    } else {
        for (int64_t i = 0; i < n; i++) v[i] = ld_tensor_get_i64(t, i);
    }
    if (dim >= 0) {
        for (int64_t i = 0; i < n; i++) {
            int64_t x = v[i] < 0 ? v[i] + dim : v[i];
            if (x < 0 || x >= dim) {
                ld_status st = ld_index_fix(v[i], dim, what, &x);
                free(v);
                return st;
            }
            v[i] = x;
        }
    }
    *out = v;
    return LD_OK;
}

ld_status ld_index_elem_offsets(const ld_tensor *data, int axis, const ld_tensor *ind,
                                const char *what, int64_t **out) {
    int r = data->ndim;
    if (ind->ndim != r || r < 1)
        return ld_error(LD_ERR_DATA, "%s: indices rank %d differs from data rank %d", what, ind->ndim, r);
    for (int d = 0; d < r; d++)
        if (d != axis && ind->dims[d] > data->dims[d])
            return ld_error(LD_ERR_DATA, "%s: indices dim %d (%lld) exceeds data dim (%lld)", what, d,
                            (long long)ind->dims[d], (long long)data->dims[d]);
    int64_t *v;
    LD_TRY(ld_index_load(ind, data->dims[axis], what, &v));
    int64_t ds[LD_MAX_DIMS];
    ld_strides(r, data->dims, ds);
    int64_t L = ind->dims[r - 1], rows = L ? ind->numel / L : 0, sa = ds[axis];
    #pragma omp parallel for if (ind->numel > (1 << 16))
    for (int64_t row = 0; row < rows; row++) {   // rows of the indices' last dim
        int64_t rem = row, base = 0;
        for (int d = r - 2; d >= 0; d--) {
            int64_t c = rem % ind->dims[d];
            rem /= ind->dims[d];
            if (d != axis) base += c * ds[d];
        }
        int64_t *p = v + row * L;
        if (axis == r - 1) {
            for (int64_t j = 0; j < L; j++) p[j] += base;
        } else {
            for (int64_t j = 0; j < L; j++) p[j] = base + j + p[j] * sa;
        }
    }
    *out = v;
    return LD_OK;
}

/* ---- element movers ---- */

static ld_status string_set(char **d, const char *s) {
    char *c = strdup(s ? s : "");
    if (!c) return ld_error(LD_ERR_NOMEM, "out of memory copying a string");
    free(*d);
    *d = c;
    return LD_OK;
}

#define TAKE_ELEMS(T)                                                                  \
    do {                                                                               \
        const T *sp = (const T *)src->data;                                            \
        T *dp = (T *)dst->data;                                                        \
        _Pragma("omp parallel for if (nblk > (1 << 16))")                              \
        for (int64_t i = 0; i < nblk; i++) dp[i] = sp[soff[i]];                        \
    } while (0)

ld_status ld_index_take_blocks(ld_tensor *dst, const ld_tensor *src, const int64_t *soff,
                               int64_t nblk, int64_t blk) {
    if (src->dtype == LD_STRING) {
        char **d = dst->data;
        char *const *s = src->data;
        for (int64_t i = 0; i < nblk; i++)
            for (int64_t j = 0; j < blk; j++) LD_TRY(string_set(&d[i * blk + j], s[soff[i] + j]));
        return LD_OK;
    }
    size_t es = ld_dtype_size(src->dtype);
    if (blk == 1) {
        switch (es) {
        case 1: TAKE_ELEMS(uint8_t); return LD_OK;
        case 2: TAKE_ELEMS(uint16_t); return LD_OK;
        case 4: TAKE_ELEMS(uint32_t); return LD_OK;
        case 8: TAKE_ELEMS(uint64_t); return LD_OK;
        default: break;
        }
    }
    const char *s = src->data;
    char *d = dst->data;
    size_t bb = (size_t)blk * es;
    #pragma omp parallel for if (nblk > 1 && (int64_t)bb * nblk > (1 << 20))
    for (int64_t i = 0; i < nblk; i++) memcpy(d + i * bb, s + soff[i] * es, bb);
    return LD_OK;
}

#define TAKE_AXIS_ELEMS(T)                                                             \
    do {                                                                               \
        const T *sp = (const T *)src->data;                                            \
        T *dp = (T *)dst->data;                                                        \
        if (outer == 1) {                                                              \
            _Pragma("omp parallel for if (nidx > (1 << 16))")                          \
            for (int64_t j = 0; j < nidx; j++) dp[j] = sp[idx[j]];                     \
        } else {                                                                       \
            _Pragma("omp parallel for if (outer * nidx > (1 << 16))")                  \
            for (int64_t o = 0; o < outer; o++) {                                      \
                const T *so = sp + o * n;                                              \
                T *dq = dp + o * nidx;                                                 \
                for (int64_t j = 0; j < nidx; j++) dq[j] = so[idx[j]];                 \
            }                                                                          \
        }                                                                              \
    } while (0)

ld_status ld_index_take_axis(ld_tensor *dst, const ld_tensor *src, int64_t outer, int64_t n,
                             int64_t inner, const int64_t *idx, int64_t nidx) {
    if (src->dtype == LD_STRING) {
        char **d = dst->data;
        char *const *s = src->data;
        for (int64_t o = 0; o < outer; o++)
            for (int64_t j = 0; j < nidx; j++)
                for (int64_t i = 0; i < inner; i++)
                    LD_TRY(string_set(&d[(o * nidx + j) * inner + i], s[(o * n + idx[j]) * inner + i]));
        return LD_OK;
    }
    size_t es = ld_dtype_size(src->dtype);
    if (inner == 1) {
        switch (es) {
        case 1: TAKE_AXIS_ELEMS(uint8_t); return LD_OK;
        case 2: TAKE_AXIS_ELEMS(uint16_t); return LD_OK;
        case 4: TAKE_AXIS_ELEMS(uint32_t); return LD_OK;
        case 8: TAKE_AXIS_ELEMS(uint64_t); return LD_OK;
        default: break;
        }
    }
    const char *s = src->data;
    char *d = dst->data;
    size_t bb = (size_t)inner * es;
    int64_t nblk = outer * nidx;
    #pragma omp parallel for if (nblk > 1 && (int64_t)bb * nblk > (1 << 20))
    for (int64_t b = 0; b < nblk; b++) {
        int64_t o = b / nidx, j = b % nidx;
        memcpy(d + b * bb, s + (o * n + idx[j]) * bb, bb);
    }
    return LD_OK;
}

/* Reductions: NaN propagates through max/min like numpy's maximum/minimum. */
#define RED_MAXV(a, b) (((a) != (a) || (a) > (b)) ? (a) : (b))
#define RED_MINV(a, b) (((a) != (a) || (a) < (b)) ? (a) : (b))

/* Arithmetic in UT (unsigned for signed integers: wraps instead of overflowing). */
#define RED_LOOP(T, UT)                                                                \
    do {                                                                               \
        T *d = dv;                                                                     \
        const T *s = sv;                                                               \
        for (int64_t i = 0; i < n; i++) {                                              \
            T a = d[i], b = s[i];                                                      \
            switch (red) {                                                             \
            case LD_RED_ADD: d[i] = (T)((UT)a + (UT)b); break;                         \
            case LD_RED_MUL: d[i] = (T)((UT)a * (UT)b); break;                         \
            case LD_RED_MAX: d[i] = RED_MAXV(a, b); break;                             \
            case LD_RED_MIN: d[i] = RED_MINV(a, b); break;                             \
            default: d[i] = b; break;                                                  \
            }                                                                          \
        }                                                                              \
    } while (0)

static float red_f(ld_index_red red, float a, float b) {
    switch (red) {
    case LD_RED_ADD: return a + b;
    case LD_RED_MUL: return a * b;
    case LD_RED_MAX: return RED_MAXV(a, b);
    case LD_RED_MIN: return RED_MINV(a, b);
    default: return b;
    }
}

static ld_status red_apply(ld_dtype dt, ld_index_red red, void *dv, const void *sv, int64_t n) {
    switch (dt) {
    case LD_F32: RED_LOOP(float, float); break;
    case LD_F64: RED_LOOP(double, double); break;
    case LD_I8: RED_LOOP(int8_t, uint32_t); break;
    case LD_U8: RED_LOOP(uint8_t, uint32_t); break;
    case LD_I16: RED_LOOP(int16_t, uint32_t); break;
    case LD_U16: RED_LOOP(uint16_t, uint32_t); break;
    case LD_I32: RED_LOOP(int32_t, uint32_t); break;
    case LD_U32: RED_LOOP(uint32_t, uint32_t); break;
    case LD_I64: RED_LOOP(int64_t, uint64_t); break;
    case LD_U64: RED_LOOP(uint64_t, uint64_t); break;
    case LD_F16: {
        uint16_t *d = dv;
        const uint16_t *s = sv;
        for (int64_t i = 0; i < n; i++)
            d[i] = ld_f32_to_f16(red_f(red, ld_f16_to_f32(d[i]), ld_f16_to_f32(s[i])));
        break;
    }
    case LD_BF16: {
        uint16_t *d = dv;
        const uint16_t *s = sv;
        for (int64_t i = 0; i < n; i++)
            d[i] = ld_f32_to_bf16(red_f(red, ld_bf16_to_f32(d[i]), ld_bf16_to_f32(s[i])));
        break;
    }
    case LD_BOOL: {   /* numpy: add/max = or, mul/min = and */
        uint8_t *d = dv;
        const uint8_t *s = sv;
        bool is_or = red == LD_RED_ADD || red == LD_RED_MAX;
        for (int64_t i = 0; i < n; i++) d[i] = is_or ? (d[i] || s[i]) : (d[i] && s[i]);
        break;
    }
    default:
        return ld_error(LD_ERR_UNSUPPORTED, "reduction is not supported for dtype %s",
                        ld_dtype_name(dt));
    }
    return LD_OK;
}

ld_status ld_index_put_blocks(ld_tensor *dst, const int64_t *doff, const ld_tensor *src,
                              int64_t nblk, int64_t blk, ld_index_red red) {
    if (src->dtype != dst->dtype)
        return ld_error(LD_ERR_DATA, "updates dtype %s differs from data dtype %s",
                        ld_dtype_name(src->dtype), ld_dtype_name(dst->dtype));
    if (dst->dtype == LD_STRING) {
        if (red != LD_RED_NONE)
            return ld_error(LD_ERR_UNSUPPORTED, "reduction is not supported for string tensors");
        char **d = dst->data;
        char *const *s = src->data;
        for (int64_t i = 0; i < nblk; i++)
            for (int64_t j = 0; j < blk; j++) LD_TRY(string_set(&d[doff[i] + j], s[i * blk + j]));
        return LD_OK;
    }
    size_t es = ld_dtype_size(dst->dtype);
    char *d = dst->data;
    const char *s = src->data;
    if (red != LD_RED_NONE) {
        for (int64_t i = 0; i < nblk; i++)
            LD_TRY(red_apply(dst->dtype, red, d + doff[i] * es, s + i * blk * es, blk));
        return LD_OK;
    }
    size_t bb = (size_t)blk * es;
    for (int64_t i = 0; i < nblk; i++) memcpy(d + doff[i] * es, s + i * bb, bb);
    return LD_OK;
}

ld_status ld_index_copy_all(ld_tensor *dst, const ld_tensor *src) {
    if (src->dtype == LD_STRING) {
        char **d = dst->data;
        char *const *s = src->data;
        for (int64_t i = 0; i < src->numel; i++) LD_TRY(string_set(&d[i], s[i]));
        return LD_OK;
    }
    size_t nb = (size_t)src->numel * ld_dtype_size(src->dtype);
    if (nb) memcpy(dst->data, src->data, nb);
    return LD_OK;
}

/* ---- op table ---- */

const ld_op_def ld_ops_index[] = {
    {"", "Gather", 1, ld_index_gather_shape, ld_index_gather_compute, 0},
    {"", "GatherElements", 11, ld_index_gather_elements_shape, ld_index_gather_elements_compute, 0},
    {"", "GatherND", 11, ld_index_gathernd_shape, ld_index_gathernd_compute, 0},
    {"", "Scatter", 9, ld_index_same_shape, ld_index_scatter_elements_compute, 0},
    {"", "ScatterElements", 11, ld_index_same_shape, ld_index_scatter_elements_compute, 0},
    {"", "ScatterND", 11, ld_index_same_shape, ld_index_scatternd_compute, 0},
    {"", "TensorScatter", 24, ld_index_same_shape, ld_index_tensor_scatter_compute, 0},
    {"", "OneHot", 9, ld_index_onehot_shape, ld_index_onehot_compute, 0},
    {"", "OneHot", 11, ld_index_onehot_shape, ld_index_onehot_compute, 0},
    {"", "NonZero", 9, ld_index_nonzero_shape, ld_index_nonzero_compute, LD_OPF_ALLOCS},
    {"", "Compress", 9, ld_index_compress_shape, ld_index_compress_compute, LD_OPF_ALLOCS},
    {"", "Unique", 11, ld_index_unique_shape, ld_index_unique_compute, LD_OPF_ALLOCS},
    {"", "ReverseSequence", 10, ld_index_revseq_shape, ld_index_revseq_compute, 0},
    {"", "TopK", 1, ld_index_topk_shape, ld_index_topk_compute, 0},
    {"", "TopK", 10, ld_index_topk_shape, ld_index_topk_compute, 0},
    {"", "ArgMax", 1, ld_index_arg_shape, ld_index_argmax_compute, 0},
    {"", "ArgMin", 1, ld_index_arg_shape, ld_index_argmin_compute, 0},
    {"", "CumSum", 11, ld_index_same_shape, ld_index_cumsum_compute, 0},
    {"", "CumProd", 26, ld_index_same_shape, ld_index_cumprod_compute, 0},
    {0},
};
