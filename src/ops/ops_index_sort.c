/*
** ops_index_sort.c — the 'index' family's ordering kernels: TopK and ArgMax/ArgMin.
**
** Both are instantiated per native element type (float, double, the 8 integer types); the
** narrow float types (float16, bfloat16, float8, float4) are widened to float32 first, which
** is exact. NaN orders above every number, as in numpy's sort and argmax/argmin. Ties are
** broken by the lower index (TopK, like the reference's lexsort; ArgMax/ArgMin unless
** select_last_index).
*/
#include "ops_index.h"

#include <stdlib.h>
#include <string.h>

/* Work on a float32 copy for dtypes without a native C type. */
static bool needs_widen(ld_dtype t) {
    return ld_dtype_is_float(t) && t != LD_F32 && t != LD_F64;
}

/* a orders above b (NaN is the largest value). */
#define KEY_GT(a, b) ((a) > (b) || ((a) != (a) && (b) == (b)))

/* ---- TopK ---- */

typedef struct topk_job {
    const void *x;
    int64_t outer, n, inner, k;
    bool largest;
    int64_t *idx;   // (outer, k, inner) chosen positions along the axis
} topk_job;

#define DEF_TOPK(SUF, T)                                                                   \
    typedef struct { T v; int64_t i; } pair_##SUF;                                          \
    static inline bool better_##SUF(pair_##SUF a, pair_##SUF b, bool largest) {             \
        if (KEY_GT(a.v, b.v)) return largest;                                               \
        if (KEY_GT(b.v, a.v)) return !largest;                                              \
        return a.i < b.i;                                                                   \
    }                                                                                       \
    /* Heap with the worst kept element at the root. */                                     \
    static void sift_##SUF(pair_##SUF *h, int64_t n, int64_t i, bool largest) {            \
        for (;;) {                                                                          \
            int64_t l = 2 * i + 1, w = l;                                                   \
            if (l >= n) return;                                                             \
            if (l + 1 < n && better_##SUF(h[l], h[l + 1], largest)) w = l + 1;              \
            if (!better_##SUF(h[i], h[w], largest)) return;                                 \
            pair_##SUF t = h[i];                                                            \
            h[i] = h[w];                                                                    \
            h[w] = t;                                                                       \
            i = w;                                                                          \
        }                                                                                   \
    }                                                                                       \
    /* Sort best-first: insertion-sorted runs of 16, then merge passes (tmp: n pairs). */    \
    static void msort_##SUF(pair_##SUF *a, pair_##SUF *tmp, int64_t n, bool largest) {      \
        for (int64_t s = 0; s < n; s += 16) {                                               \
            int64_t e = s + 16 < n ? s + 16 : n;                                            \
            for (int64_t i = s + 1; i < e; i++) {                                           \
                pair_##SUF v = a[i];                                                        \
                int64_t j = i;                                                              \
                for (; j > s && better_##SUF(v, a[j - 1], largest); j--) a[j] = a[j - 1];   \
                a[j] = v;                                                                   \
            }                                                                               \
        }                                                                                   \
        pair_##SUF *src = a, *dst = tmp;                                                    \
        for (int64_t w = 16; w < n; w *= 2) {                                               \
            for (int64_t lo = 0; lo < n; lo += 2 * w) {                                     \
                int64_t mid = lo + w < n ? lo + w : n, hi = lo + 2 * w < n ? lo + 2 * w : n; \
                int64_t i = lo, j = mid, o = lo;                                            \
                while (i < mid && j < hi)                                                   \
                    dst[o++] = better_##SUF(src[j], src[i], largest) ? src[j++] : src[i++]; \
                while (i < mid) dst[o++] = src[i++];                                        \
                while (j < hi) dst[o++] = src[j++];                                         \
            }                                                                               \
            pair_##SUF *t = src;                                                            \
            src = dst;                                                                      \
            dst = t;                                                                        \
        }                                                                                   \
        if (src != a) memcpy(a, src, sizeof *a * (size_t)n);                                \
    }                                                                                       \
    /* buf: 2n pairs; the best k end up sorted in buf[0..k). */                             \
    static void topk_line_##SUF(const T *x, int64_t n, int64_t stride, int64_t k,           \
                                bool largest, pair_##SUF *buf) {                            \
        if (k >= n / 4) {                                                                   \
            for (int64_t j = 0; j < n; j++) buf[j] = (pair_##SUF){x[j * stride], j};       \
            msort_##SUF(buf, buf + n, n, largest);                                          \
            return;                                                                         \
        }                                                                                   \
        for (int64_t j = 0; j < k; j++) buf[j] = (pair_##SUF){x[j * stride], j};           \
        for (int64_t i = k / 2 - 1; i >= 0; i--) sift_##SUF(buf, k, i, largest);            \
        for (int64_t j = k; j < n; j++) {                                                   \
            pair_##SUF c = {x[j * stride], j};                                              \
            if (better_##SUF(c, buf[0], largest)) {                                         \
                buf[0] = c;                                                                 \
                sift_##SUF(buf, k, 0, largest);                                             \
            }                                                                               \
        }                                                                                   \
        msort_##SUF(buf, buf + n, k, largest);                                              \
    }                                                                                       \
    static ld_status topk_run_##SUF(const topk_job *jb) {                                   \
        const T *x = jb->x;                                                                 \
        int64_t n = jb->n, k = jb->k, inner = jb->inner, lines = jb->outer * inner;         \
        bool fail = false;                                                                  \
        _Pragma("omp parallel if (lines > 1 && lines * n > (1 << 15))")                     \
        {                                                                                   \
            pair_##SUF *buf = malloc(sizeof *buf * (size_t)(2 * n));                              \
            if (!buf) {                                                                     \
                _Pragma("omp atomic write")                                                 \
                fail = true;                                                                \
            }                                                                               \
            _Pragma("omp for")                                                              \
            for (int64_t l = 0; l < lines; l++) {                                           \
                if (!buf) continue;                                                         \
                int64_t o = l / inner, in = l % inner;                                      \
                topk_line_##SUF(x + o * n * inner + in, n, inner, k, jb->largest, buf);     \
                for (int64_t i = 0; i < k; i++) jb->idx[(o * k + i) * inner + in] = buf[i].i; \
            }                                                                               \
            free(buf);                                                                      \
        }                                                                                   \
        return fail ? ld_error(LD_ERR_NOMEM, "out of memory in TopK") : LD_OK;              \
    }

DEF_TOPK(f32, float)
DEF_TOPK(f64, double)
DEF_TOPK(i8, int8_t)
DEF_TOPK(u8, uint8_t)
DEF_TOPK(i16, int16_t)
DEF_TOPK(u16, uint16_t)
DEF_TOPK(i32, int32_t)
DEF_TOPK(u32, uint32_t)
DEF_TOPK(i64, int64_t)
DEF_TOPK(u64, uint64_t)

static ld_status topk_run(ld_dtype dt, const topk_job *jb) {
    switch (dt) {
    case LD_F32: return topk_run_f32(jb);
    case LD_F64: return topk_run_f64(jb);
    case LD_I8: return topk_run_i8(jb);
    case LD_U8: case LD_BOOL: return topk_run_u8(jb);
    case LD_I16: return topk_run_i16(jb);
    case LD_U16: return topk_run_u16(jb);
    case LD_I32: return topk_run_i32(jb);
    case LD_U32: return topk_run_u32(jb);
    case LD_I64: return topk_run_i64(jb);
    case LD_U64: return topk_run_u64(jb);
    default: return ld_error(LD_ERR_UNSUPPORTED, "TopK does not support dtype %s", ld_dtype_name(dt));
    }
}

static ld_status topk_params(ld_kctx *k, int *axis, int64_t *kk) {
    const ld_tensor *x = k->in[0];
    if (x->ndim < 1) return ld_error(LD_ERR_DATA, "TopK input must have rank >= 1");
    LD_TRY(ld_axis_norm(ld_attr_int(k->node, "axis", -1), x->ndim, axis));
    if (k->node->op && k->node->op->since < 10) {
        *kk = ld_attr_int(k->node, "k", -1);
    } else {
        if (!LD_HAS_IN(k, 1)) return ld_error(LD_ERR_DATA, "TopK needs the k input");
        const ld_tensor *kt = k->in[1];
        if (kt->numel != 1 || !ld_dtype_is_int(kt->dtype))
            return ld_error(LD_ERR_DATA, "TopK k must be a single integer");
        *kk = ld_tensor_get_i64(kt, 0);
    }
    if (*kk < 0 || *kk > x->dims[*axis])
        return ld_error(LD_ERR_DATA, "TopK k = %lld is outside [0, %lld] (axis %d)", (long long)*kk,
                        (long long)x->dims[*axis], *axis);
    return LD_OK;
}

ld_status ld_index_topk_shape(ld_kctx *k) {
    LD_NEED_DATA(k, 1);
    const ld_tensor *x = k->in[0];
    int axis;
    int64_t kk, dims[LD_MAX_DIMS];
    LD_TRY(topk_params(k, &axis, &kk));
    memcpy(dims, x->dims, sizeof(int64_t) * x->ndim);
    dims[axis] = kk;
    if (LD_HAS_OUT(k, 0)) LD_TRY(ld_tensor_set_shape(k->out[0], x->dtype, x->ndim, dims));
    if (LD_HAS_OUT(k, 1)) LD_TRY(ld_tensor_set_shape(k->out[1], LD_I64, x->ndim, dims));
    return LD_OK;
}

ld_status ld_index_topk_compute(ld_kctx *k) {
    const ld_tensor *x = k->in[0];
    int axis;
    int64_t kk;
    LD_TRY(topk_params(k, &axis, &kk));
    topk_job jb = {.outer = ld_index_prod(x->dims, 0, axis), .n = x->dims[axis],
                   .inner = ld_index_prod(x->dims, axis + 1, x->ndim), .k = kk,
                   .largest = ld_attr_int(k->node, "largest", 1) != 0};
    int64_t total = jb.outer * kk * jb.inner;
    if (total == 0) return LD_OK;
    jb.idx = LD_HAS_OUT(k, 1) ? k->out[1]->data : malloc(sizeof(int64_t) * (size_t)total);
    if (!jb.idx) return ld_oom();
    ld_tensor wide = {0};
    ld_status st = LD_OK;
    if (needs_widen(x->dtype)) st = ld_tensor_convert(&wide, x, LD_F32);
    jb.x = wide.data ? wide.data : x->data;
    if (st == LD_OK) st = topk_run(wide.data ? LD_F32 : x->dtype, &jb);
    ld_tensor_clear(&wide);
    int64_t *soff = NULL;
    if (st == LD_OK && LD_HAS_OUT(k, 0)) {   /* values: the chosen elements of x, any dtype */
        soff = malloc(sizeof(int64_t) * (size_t)total);
        if (!soff) st = ld_oom();
        for (int64_t p = 0; st == LD_OK && p < total; p++) {
            int64_t in = p % jb.inner, o = p / (jb.inner * kk);
            soff[p] = (o * jb.n + jb.idx[p]) * jb.inner + in;
        }
        if (st == LD_OK) st = ld_index_take_blocks(k->out[0], x, soff, total, 1);
    }
    free(soff);
    if (!LD_HAS_OUT(k, 1)) free(jb.idx);
    return st;
}

/* ---- ArgMax / ArgMin ---- */

/* Whether v replaces the current best b (NaN wins and, first-index mode, stays). */
#define ARG_TAKE(v, b, is_max, last)                                                       \
    ((last) ? (((v) != (v)) | (((b) == (b)) & ((is_max) ? (v) >= (b) : (v) <= (b))))        \
            : (((b) == (b)) & (((v) != (v)) | ((is_max) ? (v) > (b) : (v) < (b)))))

#define ARG_CHUNK 256

/* Contiguous rows: find the extreme value (vectorised), then its first/last position;
 * a NaN anywhere is the answer instead. Strided case: chunks of ARG_CHUNK columns keep a
 * running best per column. Both run in parallel over independent rows/chunks. */
#define DEF_ARG(SUF, T)                                                                    \
    static inline int64_t argrow_##SUF(const T *r, int64_t n, bool is_max, bool last) {    \
        T m = r[0];                                                                         \
        int nan = 0;                                                                        \
        if (is_max) {                                                                       \
            _Pragma("omp simd reduction(max:m) reduction(|:nan)")                           \
            for (int64_t j = 0; j < n; j++) { nan |= r[j] != r[j]; m = r[j] > m ? r[j] : m; } \
        } else {                                                                            \
            _Pragma("omp simd reduction(min:m) reduction(|:nan)")                           \
            for (int64_t j = 0; j < n; j++) { nan |= r[j] != r[j]; m = r[j] < m ? r[j] : m; } \
        }                                                                                   \
        if (last) {                                                                         \
            for (int64_t j = n - 1; j > 0; j--) if (nan ? r[j] != r[j] : r[j] == m) return j; \
            return 0;                                                                       \
        }                                                                                   \
        for (int64_t j = 0; j < n; j++) if (nan ? r[j] != r[j] : r[j] == m) return j;       \
        return 0;                                                                           \
    }                                                                                       \
    static inline __attribute__((always_inline)) ld_status arg_##SUF(                       \
        const T *x, int64_t outer, int64_t n, int64_t inner, bool is_max, bool last,        \
        int64_t *out) {                                                                     \
        if (inner == 1) {                                                                   \
            _Pragma("omp parallel for if (outer > 1 && outer * n > (1 << 16))")             \
            for (int64_t o = 0; o < outer; o++) out[o] = argrow_##SUF(x + o * n, n, is_max, last); \
            return LD_OK;                                                                   \
        }                                                                                   \
        int64_t nch = (inner + ARG_CHUNK - 1) / ARG_CHUNK;                                  \
        _Pragma("omp parallel for if (outer * nch > 1 && outer * n * inner > (1 << 16))")   \
        for (int64_t t = 0; t < outer * nch; t++) {                                         \
            int64_t o = t / nch, c0 = (t % nch) * ARG_CHUNK;                                \
            int64_t len = inner - c0 < ARG_CHUNK ? inner - c0 : ARG_CHUNK;                  \
            const T *xo = x + o * n * inner + c0;                                           \
            int64_t *oo = out + o * inner + c0;                                             \
            T best[ARG_CHUNK];                                                              \
            for (int64_t i = 0; i < len; i++) { best[i] = xo[i]; oo[i] = 0; }               \
            for (int64_t j = 1; j < n; j++) {                                               \
                const T *r = xo + j * inner;                                                \
                _Pragma("omp simd")                                                         \
                for (int64_t i = 0; i < len; i++) {                                         \
                    bool tk = ARG_TAKE(r[i], best[i], is_max, last);                        \
                    best[i] = tk ? r[i] : best[i];                                          \
                    oo[i] = tk ? j : oo[i];                                                 \
                }                                                                           \
            }                                                                               \
        }                                                                                   \
        return LD_OK;                                                                       \
    }

DEF_ARG(f32, float)
DEF_ARG(f64, double)
DEF_ARG(i8, int8_t)
DEF_ARG(u8, uint8_t)
DEF_ARG(i16, int16_t)
DEF_ARG(u16, uint16_t)
DEF_ARG(i32, int32_t)
DEF_ARG(u32, uint32_t)
DEF_ARG(i64, int64_t)
DEF_ARG(u64, uint64_t)

ld_status ld_index_arg_shape(ld_kctx *k) {
    const ld_tensor *x = k->in[0];
    if (x->ndim < 1) return ld_error(LD_ERR_DATA, "%s input must have rank >= 1", k->node->op_type);
    int axis;
    LD_TRY(ld_axis_norm(ld_attr_int(k->node, "axis", 0), x->ndim, &axis));
    bool keep = ld_attr_int(k->node, "keepdims", 1) != 0;
    int64_t dims[LD_MAX_DIMS];
    int r = 0;
    for (int i = 0; i < x->ndim; i++) {
        if (i != axis) dims[r++] = x->dims[i];
        else if (keep) dims[r++] = 1;
    }
    return ld_tensor_set_shape(k->out[0], LD_I64, r, dims);
}

static ld_status arg_compute(ld_kctx *k, bool is_max) {
    const ld_tensor *x = k->in[0];
    int axis;
    LD_TRY(ld_axis_norm(ld_attr_int(k->node, "axis", 0), x->ndim, &axis));
    bool last = ld_attr_int(k->node, "select_last_index", 0) != 0;
    int64_t outer = ld_index_prod(x->dims, 0, axis), n = x->dims[axis];
    int64_t inner = ld_index_prod(x->dims, axis + 1, x->ndim);
    if (k->out[0]->numel == 0) return LD_OK;
    if (n == 0) return ld_error(LD_ERR_DATA, "%s over an empty axis", k->node->op_type);
    ld_tensor wide = {0};
    if (needs_widen(x->dtype)) LD_TRY(ld_tensor_convert(&wide, x, LD_F32));
    const void *d = wide.data ? wide.data : x->data;
    int64_t *y = k->out[0]->data;
    ld_status st;
/* Constant mode flags, so each of the four loops is compiled without the mode tests. */
#define ARG_CALL(fn)                                                                       \
    (is_max ? (last ? fn(d, outer, n, inner, true, true, y) : fn(d, outer, n, inner, true, false, y)) \
            : (last ? fn(d, outer, n, inner, false, true, y) : fn(d, outer, n, inner, false, false, y)))
    switch (wide.data ? LD_F32 : x->dtype) {
    case LD_F32: st = ARG_CALL(arg_f32); break;
    case LD_F64: st = ARG_CALL(arg_f64); break;
    case LD_I8: st = ARG_CALL(arg_i8); break;
    case LD_U8: case LD_BOOL: st = ARG_CALL(arg_u8); break;
    case LD_I16: st = ARG_CALL(arg_i16); break;
    case LD_U16: st = ARG_CALL(arg_u16); break;
    case LD_I32: st = ARG_CALL(arg_i32); break;
    case LD_U32: st = ARG_CALL(arg_u32); break;
    case LD_I64: st = ARG_CALL(arg_i64); break;
    case LD_U64: st = ARG_CALL(arg_u64); break;
    default:
        st = ld_error(LD_ERR_UNSUPPORTED, "%s does not support dtype %s", k->node->op_type,
                      ld_dtype_name(x->dtype));
    }
#undef ARG_CALL
    ld_tensor_clear(&wide);
    return st;
}

ld_status ld_index_argmax_compute(ld_kctx *k) { return arg_compute(k, true); }
ld_status ld_index_argmin_compute(ld_kctx *k) { return arg_compute(k, false); }
