/*
** ops_reduce.c — the Reduce* family (Sum, Mean, Max, Min, Prod, L1, L2, LogSum, LogSumExp,
** SumSquare) and Det.
**
** A reduction is planned once: size-1 dims are dropped and neighbouring dims that are both
** reduced or both kept are merged, so e.g. (N,C,H,W) reduced over (2,3) becomes (K=N*C, R=H*W).
** The input is then walked row by row (its last collapsed dim) with an odometer over the outer
** dims: a reduced last dim folds a contiguous row into one accumulator, a kept last dim folds
** the row element-wise into a contiguous run of accumulators. Float data accumulates in double
** (f16/bf16/f64 arrive as float32 through LD_OPF_F32_ONLY); integer data in int64.
*/
#include "ld_op.h"

#include <math.h>
#include <omp.h>
#include <stdlib.h>
#include <string.h>

typedef enum reduce_kind {
    RK_SUM, RK_MEAN, RK_MAX, RK_MIN, RK_PROD, RK_L1, RK_L2, RK_LOGSUM, RK_LOGSUMEXP, RK_SUMSQ
} reduce_kind;

/* How one input element folds into an accumulator. */
typedef enum fold_op { FOLD_SUM, FOLD_PROD, FOLD_MAX, FOLD_MIN, FOLD_ABS, FOLD_SQ, FOLD_EXP } fold_op;

static const struct { const char *name; reduce_kind kind; } reduce_names[] = {
    {"ReduceSum", RK_SUM}, {"ReduceMean", RK_MEAN}, {"ReduceMax", RK_MAX},
    {"ReduceMin", RK_MIN}, {"ReduceProd", RK_PROD}, {"ReduceL1", RK_L1},
    {"ReduceL2", RK_L2}, {"ReduceLogSum", RK_LOGSUM}, {"ReduceLogSumExp", RK_LOGSUMEXP},
    {"ReduceSumSquare", RK_SUMSQ},
};

static reduce_kind reduce_kind_of(const ld_node *n) {
    for (size_t i = 0; i < LD_ARRAY_LEN(reduce_names); i++)
        if (!strcmp(n->op_type, reduce_names[i].name)) return reduce_names[i].kind;
    return RK_SUM;
}

/* ---- planning ---- */

typedef struct reduce_plan {
    int ndim;                          /* collapsed dims (no size-1 dims) */
    int64_t dims[LD_MAX_DIMS];
    bool red[LD_MAX_DIMS];
    int64_t ostride[LD_MAX_DIMS];      /* output stride of each collapsed dim (0 if reduced) */
    int64_t out_numel;
    int64_t count;                     /* elements folded into each output */
    bool noop;                         /* empty axes with noop_with_empty_axes: copy */
    int out_ndim;
    int64_t out_dims[LD_MAX_DIMS];
} reduce_plan;

/* The first `nreq` inputs and output 0 must be present tensors (checked once, in shape()). */
static ld_status reduce_check_io(ld_kctx *k, int nreq, bool need_out0) {
    for (int i = 0; i < nreq; i++)
        if (!LD_HAS_IN(k, i) || k->in[i]->kind != LD_KIND_TENSOR)
            return ld_error(LD_ERR_DATA, "required input %d is missing or not a tensor", i);
    if (need_out0 && !LD_HAS_OUT(k, 0)) return ld_error(LD_ERR_DATA, "output 0 is required");
    return LD_OK;
}

/* Which input dims are reduced. Axes come from the attribute (old opsets) or input 1. */
static ld_status reduce_mask(ld_kctx *k, bool *mask, bool *noop) {
    const ld_tensor *x = k->in[0];
    int rank = x->ndim, naxes = 0;
    int64_t axes[LD_MAX_DIMS];
    const ld_attr *a = ld_node_attr(k->node, "axes");
    if (a && a->type == LD_ATTR_INTS) {
        if (a->n > LD_MAX_DIMS) return ld_error(LD_ERR_DATA, "too many axes (%d)", a->n);
        naxes = a->n;
        memcpy(axes, a->ints, sizeof(int64_t) * naxes);
    } else if (LD_HAS_IN(k, 1)) {
        LD_NEED_DATA(k, 1);
        LD_TRY(ld_tensor_to_i64(k->in[1], axes, LD_MAX_DIMS, &naxes));
    }
    *noop = false;
    if (naxes == 0) {
        bool keep = ld_attr_int(k->node, "noop_with_empty_axes", 0) != 0;
        for (int d = 0; d < rank; d++) mask[d] = !keep;
        *noop = keep;
        return LD_OK;
    }
    for (int d = 0; d < rank; d++) mask[d] = false;
    for (int i = 0; i < naxes; i++) {
        int ax;
        LD_TRY(ld_axis_norm(axes[i], rank, &ax));
        if (rank == 0) continue;
        if (mask[ax]) return ld_error(LD_ERR_DATA, "axis %lld is repeated", (long long)axes[i]);
        mask[ax] = true;
    }
    return LD_OK;
}

static ld_status reduce_plan_make(ld_kctx *k, reduce_plan *p) {
    const ld_tensor *x = k->in[0];
    bool mask[LD_MAX_DIMS];
    memset(p, 0, sizeof *p);
    LD_TRY(reduce_mask(k, mask, &p->noop));
    bool keepdims = ld_attr_int(k->node, "keepdims", 1) != 0;
    p->count = 1;
    for (int d = 0; d < x->ndim; d++) {
        if (!mask[d]) p->out_dims[p->out_ndim++] = x->dims[d];
        else {
            p->count *= x->dims[d];
            if (keepdims) p->out_dims[p->out_ndim++] = 1;
        }
    }
    if (p->noop) {
        p->out_ndim = x->ndim;
        memcpy(p->out_dims, x->dims, sizeof(int64_t) * x->ndim);
        p->count = 1;
    }
    p->out_numel = ld_dims_numel(p->out_ndim, p->out_dims);
    /* collapse: drop size-1 dims, merge runs of the same kind */
    for (int d = 0; d < x->ndim; d++) {
        if (x->dims[d] == 1) continue;
        bool r = mask[d] && !p->noop;
        if (p->ndim && p->red[p->ndim - 1] == r) {
            p->dims[p->ndim - 1] *= x->dims[d];
        } else {
            p->dims[p->ndim] = x->dims[d];
            p->red[p->ndim++] = r;
        }
    }
    int64_t s = 1;
    for (int d = p->ndim - 1; d >= 0; d--) {
        p->ostride[d] = p->red[d] ? 0 : s;
        if (!p->red[d]) s *= p->dims[d];
    }
    return LD_OK;
}

static ld_status reduce_shape(ld_kctx *k) {
    LD_TRY(reduce_check_io(k, 1, true));
    reduce_plan p;
    LD_TRY(reduce_plan_make(k, &p));
    return ld_tensor_set_shape(k->out[0], k->in[0]->dtype, p.out_ndim, p.out_dims);
}

/* ---- float walk ---- */

static double fold_identity(fold_op op) {
    switch (op) {
    case FOLD_PROD: return 1.0;
    case FOLD_MAX: return -INFINITY;
    case FOLD_MIN: return INFINITY;
    default: return 0.0;
    }
}

/* Fold a contiguous row into one value; `shift` is subtracted before exp (FOLD_EXP). */
static double row_fold(const float *x, int64_t n, fold_op op, double acc, double shift) {
    switch (op) {
    case FOLD_SUM: {
        double s = 0;
        #pragma omp simd reduction(+:s)
        for (int64_t j = 0; j < n; j++) s += x[j];
        return acc + s;
    }
    case FOLD_ABS: {
        double s = 0;
        #pragma omp simd reduction(+:s)
        for (int64_t j = 0; j < n; j++) s += fabsf(x[j]);
        return acc + s;
    }
    case FOLD_SQ: {
        double s = 0;
        #pragma omp simd reduction(+:s)
        for (int64_t j = 0; j < n; j++) s += (double)x[j] * x[j];
        return acc + s;
    }
    case FOLD_EXP: {
        double s = 0;
        float sh = (float)shift;
        #pragma omp simd reduction(+:s)
        for (int64_t j = 0; j < n; j++) s += expf(x[j] - sh);
        return acc + s;
    }
    case FOLD_PROD:
        for (int64_t j = 0; j < n; j++) acc *= x[j];
        return acc;
    case FOLD_MAX: {
        float m = -INFINITY;
        int nan = 0;
        #pragma omp simd reduction(max:m) reduction(|:nan)
        for (int64_t j = 0; j < n; j++) { float v = x[j]; m = v > m ? v : m; nan |= v != v; }
        return nan || isnan(acc) ? NAN : (m > acc ? m : acc);
    }
    case FOLD_MIN: {
        float m = INFINITY;
        int nan = 0;
        #pragma omp simd reduction(min:m) reduction(|:nan)
        for (int64_t j = 0; j < n; j++) { float v = x[j]; m = v < m ? v : m; nan |= v != v; }
        return nan || isnan(acc) ? NAN : (m < acc ? m : acc);
    }
    }
    return acc;
}

/* Fold a contiguous row element-wise into acc[0..n). */
static void row_fold_into(const float *x, int64_t n, fold_op op, double *acc, const double *shift) {
    switch (op) {
    case FOLD_SUM:
        #pragma omp simd
        for (int64_t j = 0; j < n; j++) acc[j] += x[j];
        break;
    case FOLD_ABS:
        #pragma omp simd
        for (int64_t j = 0; j < n; j++) acc[j] += fabsf(x[j]);
        break;
    case FOLD_SQ:
        #pragma omp simd
        for (int64_t j = 0; j < n; j++) acc[j] += (double)x[j] * x[j];
        break;
    case FOLD_EXP:
        #pragma omp simd
        for (int64_t j = 0; j < n; j++) acc[j] += expf(x[j] - (float)shift[j]);
        break;
    case FOLD_PROD:
        #pragma omp simd
        for (int64_t j = 0; j < n; j++) acc[j] *= x[j];
        break;
    case FOLD_MAX:
        #pragma omp simd
        for (int64_t j = 0; j < n; j++) acc[j] = (x[j] > acc[j] || x[j] != x[j]) ? x[j] : acc[j];
        break;
    case FOLD_MIN:
        #pragma omp simd
        for (int64_t j = 0; j < n; j++) acc[j] = (x[j] < acc[j] || x[j] != x[j]) ? x[j] : acc[j];
        break;
    }
}

/* Walk the input rows whose first collapsed index lies in [b, e) (the whole input when the
 * plan has one dim), folding into acc. */
static void reduce_walk(const reduce_plan *p, const float *x, double *acc, fold_op op,
                        const double *shift, int64_t b, int64_t e) {
    int G = p->ndim;
    int64_t inner = p->dims[G - 1];
    bool inner_red = p->red[G - 1];
    if (G == 1) {
        if (inner_red) acc[0] = row_fold(x, inner, op, acc[0], shift ? shift[0] : 0);
        else row_fold_into(x, inner, op, acc, shift);
        return;
    }
    int64_t idx[LD_MAX_DIMS] = {0}, rows = 1;
    for (int d = 1; d < G - 1; d++) rows *= p->dims[d];
    for (int64_t i0 = b; i0 < e; i0++) {
        memset(idx, 0, sizeof idx);
        int64_t ooff = i0 * p->ostride[0];
        const float *xr = x + i0 * rows * inner;
        for (int64_t r = 0; r < rows; r++, xr += inner) {
            if (inner_red) acc[ooff] = row_fold(xr, inner, op, acc[ooff], shift ? shift[ooff] : 0);
            else row_fold_into(xr, inner, op, acc + ooff, shift ? shift + ooff : NULL);
            for (int d = G - 2; d >= 1; d--) {     /* odometer over the middle dims */
                ooff += p->ostride[d];
                if (++idx[d] < p->dims[d]) break;
                ooff -= p->ostride[d] * p->dims[d];
                idx[d] = 0;
            }
        }
    }
}

/* Fold the whole input into acc (out_numel doubles, already set to the identity). */
static void reduce_run(const reduce_plan *p, const float *x, double *acc, fold_op op,
                       const double *shift, int64_t numel) {
    if (numel == 0) return;
    if (p->ndim == 0) {                       /* every dim is 1 */
        row_fold_into(x, 1, op, acc, shift);
        return;
    }
    int64_t d0 = p->dims[0];
    if (p->ndim >= 2 && !p->red[0] && numel > 32768 && d0 > 1) {
        #pragma omp parallel for schedule(static)
        for (int64_t i = 0; i < d0; i++) reduce_walk(p, x, acc, op, shift, i, i + 1);
        return;
    }
    if (p->ndim == 1 && p->red[0] && numel > 262144 && op != FOLD_PROD) {
        int nt = 16;                          /* one long row: fold chunks, then combine */
        double part[16];
        int64_t chunk = (numel + nt - 1) / nt;
        #pragma omp parallel for schedule(static)
        for (int t = 0; t < nt; t++) {
            int64_t s = t * chunk, e = LD_MIN(numel, s + chunk);
            part[t] = row_fold(x + s, e > s ? e - s : 0, op, fold_identity(op), shift ? shift[0] : 0);
        }
        for (int t = 0; t < nt; t++) {
            if (op == FOLD_MAX) acc[0] = (part[t] > acc[0] || isnan(part[t])) ? part[t] : acc[0];
            else if (op == FOLD_MIN) acc[0] = (part[t] < acc[0] || isnan(part[t])) ? part[t] : acc[0];
            else acc[0] += part[t];
        }
        return;
    }
    if (p->ndim == 2 && p->red[0] && numel > 32768 && p->dims[1] >= 512) {
        /* (R, K): one block of kept columns per thread, each streamed over all rows */
        int64_t K = p->dims[1], nt = omp_get_max_threads();
        int64_t bw = LD_MAX(256, (K + nt - 1) / nt), nc = (K + bw - 1) / bw;
        #pragma omp parallel for schedule(static)
        for (int64_t c = 0; c < nc; c++) {
            int64_t c0 = c * bw, w = LD_MIN(bw, K - c0);
            for (int64_t r = 0; r < d0; r++)
                row_fold_into(x + r * K + c0, w, op, acc + c0, shift ? shift + c0 : NULL);
        }
        return;
    }
    reduce_walk(p, x, acc, op, shift, 0, p->ndim >= 2 ? d0 : 1);
}

static fold_op reduce_fold_op(reduce_kind rk) {
    switch (rk) {
    case RK_MAX: return FOLD_MAX;
    case RK_MIN: return FOLD_MIN;
    case RK_PROD: return FOLD_PROD;
    case RK_L1: return FOLD_ABS;
    case RK_L2: case RK_SUMSQ: return FOLD_SQ;
    default: return FOLD_SUM;
    }
}

static ld_status reduce_float(const reduce_plan *p, reduce_kind rk, const ld_tensor *x, ld_tensor *y) {
    int64_t n = p->out_numel;
    double *acc = malloc(sizeof(double) * (n ? n : 1));
    double *shift = NULL;
    if (!acc) return ld_oom();
    fold_op op = reduce_fold_op(rk);
    if (rk == RK_LOGSUMEXP) {                 /* pass 1: the max of each output group */
        shift = malloc(sizeof(double) * (n ? n : 1));
        if (!shift) { free(acc); return ld_oom(); }
        for (int64_t i = 0; i < n; i++) shift[i] = -INFINITY;
        if (p->count) reduce_run(p, x->data, shift, FOLD_MAX, NULL, x->numel);
        for (int64_t i = 0; i < n; i++) if (isinf(shift[i])) shift[i] = 0;
        op = FOLD_EXP;
    }
    double id = fold_identity(op);
    for (int64_t i = 0; i < n; i++) acc[i] = id;
    if (p->count) reduce_run(p, x->data, acc, op, shift, x->numel);
    float *out = y->data;
    for (int64_t i = 0; i < n; i++) {
        double v = acc[i];
        switch (rk) {
        case RK_MEAN: v = v / (double)p->count; break;
        case RK_L2: v = sqrt(v); break;
        case RK_LOGSUM: v = log(v); break;
        case RK_LOGSUMEXP: v = log(v) + shift[i]; break;
        default: break;
        }
        out[i] = (float)v;
    }
    free(acc);
    free(shift);
    return LD_OK;
}

/* ---- integer and bool data (exact int64 arithmetic, element by element) ---- */

static void int_store(ld_tensor *t, int64_t i, int64_t v) {
    void *d = t->data;
    switch (t->dtype) {
    case LD_I8: ((int8_t *)d)[i] = (int8_t)v; break;
    case LD_U8: ((uint8_t *)d)[i] = (uint8_t)v; break;
    case LD_BOOL: ((uint8_t *)d)[i] = v != 0; break;
    case LD_I16: ((int16_t *)d)[i] = (int16_t)v; break;
    case LD_U16: ((uint16_t *)d)[i] = (uint16_t)v; break;
    case LD_I32: ((int32_t *)d)[i] = (int32_t)v; break;
    case LD_U32: ((uint32_t *)d)[i] = (uint32_t)v; break;
    default: ((int64_t *)d)[i] = v; break;    /* int64, uint64 (same bits) */
    }
}

static int64_t int_min_of(ld_dtype t) {
    switch (t) {
    case LD_I8: return INT8_MIN;
    case LD_I16: return INT16_MIN;
    case LD_I32: return INT32_MIN;
    case LD_I64: return INT64_MIN;
    default: return 0;
    }
}

static int64_t int_max_of(ld_dtype t) {
    switch (t) {
    case LD_I8: return INT8_MAX;
    case LD_U8: return UINT8_MAX;
    case LD_BOOL: return 1;
    case LD_I16: return INT16_MAX;
    case LD_U16: return UINT16_MAX;
    case LD_I32: return INT32_MAX;
    case LD_U32: return UINT32_MAX;
    case LD_I64: return INT64_MAX;
    default: return -1;                        /* UINT64_MAX bits */
    }
}

static int64_t int_fold(reduce_kind rk, bool u64, int64_t acc, int64_t v) {
    switch (rk) {
    case RK_MAX: return u64 ? ((uint64_t)v > (uint64_t)acc ? v : acc) : (v > acc ? v : acc);
    case RK_MIN: return u64 ? ((uint64_t)v < (uint64_t)acc ? v : acc) : (v < acc ? v : acc);
    case RK_PROD: return (int64_t)((uint64_t)acc * (uint64_t)v);
    case RK_L1: return (int64_t)((uint64_t)acc + (uint64_t)(v < 0 && !u64 ? -v : v));
    case RK_L2: case RK_SUMSQ: return (int64_t)((uint64_t)acc + (uint64_t)v * (uint64_t)v);
    default: return (int64_t)((uint64_t)acc + (uint64_t)v);
    }
}

static ld_status reduce_int(const reduce_plan *p, reduce_kind rk, const ld_tensor *x, ld_tensor *y) {
    if (rk == RK_LOGSUM || rk == RK_LOGSUMEXP)
        return ld_error(LD_ERR_UNSUPPORTED, "%s of integer data is not supported",
                        rk == RK_LOGSUM ? "ReduceLogSum" : "ReduceLogSumExp");
    int64_t n = p->out_numel;
    bool u64 = x->dtype == LD_U64;
    int64_t *acc = malloc(sizeof(int64_t) * (n ? n : 1));
    if (!acc) return ld_oom();
    int64_t id = rk == RK_PROD ? 1 : rk == RK_MAX ? int_min_of(x->dtype) :
                 rk == RK_MIN ? int_max_of(x->dtype) : 0;
    for (int64_t i = 0; i < n; i++) acc[i] = id;
    int64_t idx[LD_MAX_DIMS] = {0}, ooff = 0;
    for (int64_t i = 0; i < x->numel && p->count; i++) {
        acc[ooff] = int_fold(rk, u64, acc[ooff], ld_tensor_get_i64(x, i));
        for (int d = p->ndim - 1; d >= 0; d--) {
            ooff += p->ostride[d];
            if (++idx[d] < p->dims[d]) break;
            ooff -= p->ostride[d] * p->dims[d];
            idx[d] = 0;
        }
    }
    for (int64_t i = 0; i < n; i++) {
        int64_t v = acc[i];
        if (rk == RK_MEAN && p->count) v = u64 ? (int64_t)((uint64_t)v / (uint64_t)p->count) : v / p->count;
        if (rk == RK_L2) v = (int64_t)sqrt((double)(uint64_t)v);
        int_store(y, i, v);
    }
    free(acc);
    return LD_OK;
}

static ld_status reduce_compute(ld_kctx *k) {
    const ld_tensor *x = k->in[0];
    ld_tensor *y = k->out[0];
    reduce_plan p;
    LD_TRY(reduce_plan_make(k, &p));
    reduce_kind rk = reduce_kind_of(k->node);
    if (p.noop) {
        if (y->nbytes) memcpy(y->data, x->data, y->nbytes);
        return LD_OK;
    }
    if (x->dtype == LD_F32) return reduce_float(&p, rk, x, y);
    if (ld_dtype_is_int(x->dtype) || x->dtype == LD_BOOL) {
        if (x->dtype == LD_BOOL && rk != RK_MAX && rk != RK_MIN)
            return ld_error(LD_ERR_UNSUPPORTED, "%s of bool data is not supported", k->node->op_type);
        return reduce_int(&p, rk, x, y);
    }
    return ld_error(LD_ERR_UNSUPPORTED, "unsupported dtype %s", ld_dtype_name(x->dtype));
}

/* ---- Det ---- */

static ld_status det_shape(ld_kctx *k) {
    LD_TRY(reduce_check_io(k, 1, true));
    const ld_tensor *x = k->in[0];
    if (x->ndim < 2 || x->dims[x->ndim - 1] != x->dims[x->ndim - 2]) {
        char s[128];
        return ld_error(LD_ERR_DATA, "Det needs (..., M, M) input, got %s", ld_shape_str(x, s, sizeof s));
    }
    LD_TRY(ld_check_dtype(k, 0, LD_DT(LD_F32)));
    return ld_tensor_set_shape(k->out[0], x->dtype, x->ndim - 2, x->dims);
}

/* Determinant by LU decomposition with partial pivoting (a is n*n, overwritten). */
static double det_lu(double *a, int64_t n) {
    double det = 1.0;
    for (int64_t c = 0; c < n; c++) {
        int64_t piv = c;
        for (int64_t r = c + 1; r < n; r++)
            if (fabs(a[r * n + c]) > fabs(a[piv * n + c])) piv = r;
        if (a[piv * n + c] == 0.0) return 0.0;
        if (piv != c) {
            for (int64_t j = 0; j < n; j++) {
                double t = a[c * n + j];
                a[c * n + j] = a[piv * n + j];
                a[piv * n + j] = t;
            }
            det = -det;
        }
        double d = a[c * n + c];
        det *= d;
        for (int64_t r = c + 1; r < n; r++) {
            double f = a[r * n + c] / d;
            for (int64_t j = c + 1; j < n; j++) a[r * n + j] -= f * a[c * n + j];
        }
    }
    return det;
}

static ld_status det_compute(ld_kctx *k) {
    const ld_tensor *x = k->in[0];
    int64_t n = x->dims[x->ndim - 1], batch = k->out[0]->numel;
    double *a = malloc(sizeof(double) * (size_t)(n > 0 ? n * n : 1));
    if (!a) return ld_oom();
    const float *src = x->data;
    for (int64_t b = 0; b < batch; b++) {
        for (int64_t i = 0; i < n * n; i++) a[i] = src[b * n * n + i];
        LD_F32P(k->out[0])[b] = (float)det_lu(a, n);
    }
    free(a);
    return LD_OK;
}

#define RED(name, since) {"", name, since, reduce_shape, reduce_compute, LD_OPF_F32_ONLY}

const ld_op_def ld_ops_reduce[] = {
    RED("ReduceSum", 1), RED("ReduceSum", 13),
    RED("ReduceMean", 1), RED("ReduceMean", 18),
    RED("ReduceMax", 1), RED("ReduceMax", 18), RED("ReduceMax", 20),
    RED("ReduceMin", 1), RED("ReduceMin", 18), RED("ReduceMin", 20),
    RED("ReduceProd", 1), RED("ReduceProd", 18),
    RED("ReduceL1", 1), RED("ReduceL1", 18),
    RED("ReduceL2", 1), RED("ReduceL2", 18),
    RED("ReduceLogSum", 1), RED("ReduceLogSum", 18),
    RED("ReduceLogSumExp", 1), RED("ReduceLogSumExp", 18),
    RED("ReduceSumSquare", 1), RED("ReduceSumSquare", 18),
    {"", "Det", 11, det_shape, det_compute, LD_OPF_F32_ONLY},
    {0},
};
