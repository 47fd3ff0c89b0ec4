/*
** ops_nn.c — kernel family 'nn': Gemm and MatMul (OpenBLAS sgemm for float32, plain loops for
** the integer dtypes), the family's shared helpers (scratch buffers, an sgemm split over the
** OpenMP threads, batched sgemm) and the op table. Convolutions are in ops_nn_conv.c, Einsum
** in ops_nn_einsum.c, DeformConv in ops_nn_deform.c.
**
** Threading: every product is split by us over the OpenMP threads (ld_nn_sgemm: along the
** larger of m and n, or by batch / image), each part a single-threaded ld_gemm. Each element of
** C is computed the same way whatever the split (see ops_gemm.c), so the numbers do not depend
** on --threads.
*/
#include "ops_gemm.h"
#include "ops_nn.h"

#include <omp.h>
#include <stdlib.h>
#include <string.h>

/* ---- shared helpers ---- */

/* Scratch buffers, one set per OpenMP thread number: grown on demand, kept for the next call,
 * freed at exit. Kernels run one at a time (never concurrently), and inside a kernel's
 * parallel region each thread has its own number, so no two users share a buffer. */
#define SCRATCH_THREADS 1024   /* ld_threads_set allows at most this many threads */
static struct { float *buf; size_t cap; } scratch[SCRATCH_THREADS][LD_NN_SCRATCH_SLOTS];

float *ld_nn_scratch(int slot, size_t n) {
    assert(slot >= 0 && slot < LD_NN_SCRATCH_SLOTS);
    int t = omp_get_thread_num();
    if (t < 0 || t >= SCRATCH_THREADS) return NULL;
    if (n <= scratch[t][slot].cap) return scratch[t][slot].buf;
    free(scratch[t][slot].buf);
    scratch[t][slot].cap = 0;
    scratch[t][slot].buf = malloc((n ? n : 1) * sizeof(float));
    if (scratch[t][slot].buf) scratch[t][slot].cap = n;
    return scratch[t][slot].buf;
}

__attribute__((destructor)) static void scratch_free_all(void) {
    for (int t = 0; t < SCRATCH_THREADS; t++)
        for (int s = 0; s < LD_NN_SCRATCH_SLOTS; s++) {
            free(scratch[t][s].buf);
            scratch[t][s].buf = NULL;
            scratch[t][s].cap = 0;
        }
}

bool ld_nn_split_units(int64_t units) {
    int t = ld_nthreads;
    return t > 1 && units >= t && (units % t == 0 || units >= 4 * t);
}

/* Below this m*n*k a product is not worth splitting over threads. */
#define SPLIT_MIN_MNK (1 << 17)

/* Parts of a split: along m in multiples of 8 rows, along n in multiples of 16 columns. */
static int split_parts(int64_t len, int64_t align) {
    int64_t blocks = (len + align - 1) / align;
    return (int)LD_MIN((int64_t)ld_nthreads, blocks);
}

void ld_nn_sgemm(bool ta, bool tb, int64_t m, int64_t n, int64_t k, float alpha, const float *a,
                 int64_t lda, const float *b, int64_t ldb, float beta, float *c, int64_t ldc) {
    if (m <= 0 || n <= 0) return;
    if (k <= 0) {   /* empty inner dimension: C = beta*C */
        for (int64_t i = 0; i < m; i++)
            for (int64_t j = 0; j < n; j++) c[i * ldc + j] = beta == 0 ? 0 : beta * c[i * ldc + j];
        return;
    }
    bool split_m = m >= n;
    int parts = split_parts(split_m ? m : n, split_m ? 8 : 16);
    if (ld_nthreads < 2 || omp_in_parallel() || (double)m * n * k < SPLIT_MIN_MNK || parts < 2 ||
        (m == 1 && n < 256) || (n == 1 && m < 256)) {
        ld_gemm(ta, tb, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
        return;
    }
    /* Our own split beats OpenBLAS's threading on skinny products (e.g. 512 x 49 x 4608):
     * each thread packs only its share of the larger operand. */
    int64_t len = split_m ? m : n, align = split_m ? 8 : 16;
    int64_t blocks = (len + align - 1) / align;
    #pragma omp parallel for schedule(static) num_threads(parts)
    for (int p = 0; p < parts; p++) {
        int64_t s0 = LD_MIN(len, blocks * p / parts * align);
        int64_t s1 = LD_MIN(len, blocks * (p + 1) / parts * align);
        if (s1 <= s0) continue;
        if (split_m)
            ld_gemm(ta, tb, s1 - s0, n, k, alpha, a + (ta ? s0 : s0 * lda), lda, b, ldb, beta,
                    c + s0 * ldc, ldc);
        else
            ld_gemm(ta, tb, m, s1 - s0, k, alpha, a, lda, b + (tb ? s0 * ldb : s0), ldb, beta,
                    c + s0, ldc);
    }
}

void ld_nn_sgemm_packed(const ld_gemm_a *pa, int64_t m, int64_t n, int64_t k, const float *b,
                        int64_t ldb, const float *bias, float *c, int64_t ldc) {
    if (m <= 0 || n <= 0) return;
    bool split_m = m >= n;
    int64_t align = split_m ? ld_gemm_a_rows_align(pa) : 16;
    int parts = split_parts(split_m ? m : n, align);
    if (ld_nthreads < 2 || omp_in_parallel() || (double)m * n * k < SPLIT_MIN_MNK || parts < 2 ||
        (m == 1 && n < 256) || (n == 1 && m < 256)) {
        ld_gemm_packed(pa, 0, m, false, n, b, ldb, bias, c, ldc);
        return;
    }
    int64_t len = split_m ? m : n, blocks = (len + align - 1) / align;
    #pragma omp parallel for schedule(static) num_threads(parts)
    for (int p = 0; p < parts; p++) {
        int64_t s0 = LD_MIN(len, blocks * p / parts * align);
        int64_t s1 = LD_MIN(len, blocks * (p + 1) / parts * align);
        if (s1 <= s0) continue;
        if (split_m)
            ld_gemm_packed(pa, s0, s1 - s0, false, n, b, ldb, bias ? bias + s0 : NULL, c + s0 * ldc, ldc);
        else
            ld_gemm_packed(pa, 0, m, false, s1 - s0, b + s0, ldb, bias, c + s0, ldc);
    }
}

void ld_nn_sgemm_batch(bool ta, bool tb, int64_t m, int64_t n, int64_t k, float alpha,
                       const float *a, int64_t sa, const float *b, int64_t sb, float beta,
                       float *c, int64_t sc, int64_t nb) {
    if (m <= 0 || n <= 0 || nb <= 0) return;
    int64_t lda = ta ? m : k, ldb = tb ? k : n;
    if (k <= 0) {
        for (int64_t i = 0; i < nb; i++)
            ld_nn_sgemm(ta, tb, m, n, k, alpha, a, 1, b, 1, beta, c + i * sc, n);
        return;
    }
    if (!ld_nn_split_units(nb)) {   /* one by one, each product split over the threads */
        for (int64_t i = 0; i < nb; i++)
            ld_nn_sgemm(ta, tb, m, n, k, alpha, a + i * sa, lda, b + i * sb, ldb, beta, c + i * sc, n);
        return;
    }
    #pragma omp parallel for schedule(static)   /* batches over our threads */
    for (int64_t i = 0; i < nb; i++)
        ld_gemm(ta, tb, m, n, k, alpha, a + i * sa, lda, b + i * sb, ldb, beta, c + i * sc, n);
}

/* BLAS takes int sizes. */
static ld_status check_blas_dims(int64_t m, int64_t n, int64_t k) {
    if (m > INT32_MAX || n > INT32_MAX || k > INT32_MAX)
        return ld_error(LD_ERR_UNSUPPORTED, "matrix dimensions too large (%lld x %lld x %lld)",
                        (long long)m, (long long)n, (long long)k);
    return LD_OK;
}

#define INT_MM_DTYPES (LD_DT(LD_I32) | LD_DT(LD_I64) | LD_DT(LD_U32) | LD_DT(LD_U64))

/* ---- Gemm: Y = alpha * op(A) * op(B) + beta * C ---- */

typedef struct gemm_dims { int64_t m, n, k; bool ta, tb; } gemm_dims;

static ld_status gemm_get_dims(ld_kctx *k, gemm_dims *g) {
    const ld_tensor *a = k->in[0], *b = k->in[1];
    if (a->ndim != 2 || b->ndim != 2)
        return ld_error(LD_ERR_DATA, "Gemm needs 2-D A and B, got ranks %d and %d", a->ndim, b->ndim);
    g->ta = ld_attr_int(k->node, "transA", 0) != 0;
    g->tb = ld_attr_int(k->node, "transB", 0) != 0;
    g->m = g->ta ? a->dims[1] : a->dims[0];
    g->k = g->ta ? a->dims[0] : a->dims[1];
    int64_t kb = g->tb ? b->dims[1] : b->dims[0];
    g->n = g->tb ? b->dims[0] : b->dims[1];
    if (kb != g->k)
        return ld_error(LD_ERR_DATA, "Gemm inner dimensions differ: A gives %lld, B gives %lld",
                        (long long)g->k, (long long)kb);
    if (LD_HAS_IN(k, 2)) {
        const ld_tensor *c = k->in[2];
        bool ok = c->ndim <= 2;
        int64_t want[2] = {g->m, g->n};
        for (int i = 0; ok && i < c->ndim; i++) {
            int64_t d = c->dims[i], w = want[2 - c->ndim + i];
            ok = d == 1 || d == w;
        }
        if (!ok) {
            char s[128];
            return ld_error(LD_ERR_DATA, "Gemm C of shape %s does not broadcast to (%lld,%lld)",
                            ld_shape_str(c, s, sizeof s), (long long)g->m, (long long)g->n);
        }
        if (c->dtype != a->dtype) return ld_error(LD_ERR_DATA, "Gemm C dtype differs from A");
    }
    if (a->dtype != b->dtype) return ld_error(LD_ERR_DATA, "Gemm A and B dtypes differ");
    return LD_OK;
}

static ld_status gemm_shape(ld_kctx *k) {
    LD_TRY(ld_check_dtype(k, 0, LD_DT(LD_F32) | INT_MM_DTYPES));
    gemm_dims g;
    LD_TRY(gemm_get_dims(k, &g));
    int64_t dims[2] = {g.m, g.n};
    return ld_tensor_set_shape(k->out[0], k->in[0]->dtype, 2, dims);
}

/* y (m,n) = C broadcast; returns whether C contributes (present, beta != 0). */
static bool gemm_fill_c(ld_kctx *k, const gemm_dims *g, float *y) {
    float beta = ld_attr_float(k->node, "beta", 1.0f);
    if (!LD_HAS_IN(k, 2) || beta == 0) return false;
    const ld_tensor *c = k->in[2];
    int64_t od[2] = {g->m, g->n}, st[2];
    ld_broadcast_strides(c, 2, od, st);
    const float *cp = LD_F32P(c);
    #pragma omp parallel for if (g->m * g->n > 100000)
    for (int64_t i = 0; i < g->m; i++)
        for (int64_t j = 0; j < g->n; j++) y[i * g->n + j] = cp[i * st[0] + j * st[1]];
    return true;
}

#define GEMM_INT_LOOP(T)                                                                      \
    do {                                                                                      \
        const T *ap = a->data, *bp = b->data, *cp = hc ? c->data : NULL;                     \
        T *yp = y->data;                                                                      \
        for (int64_t i = 0; i < g.m; i++)                                                     \
            for (int64_t j = 0; j < g.n; j++) {                                               \
                T acc = 0;                                                                    \
                for (int64_t q = 0; q < g.k; q++)                                             \
                    acc += ap[g.ta ? q * g.m + i : i * g.k + q] *                             \
                           bp[g.tb ? j * g.k + q : q * g.n + j];                              \
                double v = (double)alpha * (double)acc;                                       \
                if (cp) v += (double)beta * (double)cp[i * st[0] + j * st[1]];                \
                yp[i * g.n + j] = (T)v;                                                       \
            }                                                                                 \
    } while (0)

static ld_status gemm_int(ld_kctx *k, const gemm_dims *gp, float alpha, float beta) {
    const ld_tensor *a = k->in[0], *b = k->in[1], *c = LD_HAS_IN(k, 2) ? k->in[2] : NULL;
    ld_tensor *y = k->out[0];
    gemm_dims g = *gp;
    bool hc = c != NULL;
    int64_t od[2] = {g.m, g.n}, st[2] = {0, 0};
    if (hc) ld_broadcast_strides(c, 2, od, st);
    switch (a->dtype) {
    case LD_I32: GEMM_INT_LOOP(int32_t); break;
    case LD_I64: GEMM_INT_LOOP(int64_t); break;
    case LD_U32: GEMM_INT_LOOP(uint32_t); break;
    case LD_U64: GEMM_INT_LOOP(uint64_t); break;
    default: return ld_error(LD_ERR_UNSUPPORTED, "Gemm: unsupported dtype %s", ld_dtype_name(a->dtype));
    }
    return LD_OK;
}

static ld_status gemm_compute(ld_kctx *k) {
    gemm_dims g;
    LD_TRY(gemm_get_dims(k, &g));
    float alpha = ld_attr_float(k->node, "alpha", 1.0f), beta = ld_attr_float(k->node, "beta", 1.0f);
    if (k->in[0]->dtype != LD_F32) return gemm_int(k, &g, alpha, beta);
    LD_TRY(check_blas_dims(g.m, g.n, g.k));
    float *y = LD_F32P(k->out[0]);
    bool hc = gemm_fill_c(k, &g, y);   /* y = C broadcast, scaled by beta inside sgemm */
    ld_nn_sgemm_batch(g.ta, g.tb, g.m, g.n, g.k, alpha, LD_F32P(k->in[0]), 0,
                      LD_F32P(k->in[1]), 0, hc ? beta : 0.0f, y, 0, 1);
    return LD_OK;
}

/* ---- MatMul: numpy matmul with batch broadcasting and 1-D operands ---- */

typedef struct mm_plan {
    int64_t m, n, k;
    int nbd;                              /* output batch rank */
    int64_t bdims[LD_MAX_DIMS];           /* output batch dims */
    int64_t sa[LD_MAX_DIMS], sb[LD_MAX_DIMS];  /* batch strides of A and B in elements (0: broadcast) */
    int64_t nb, na_b, nb_b;               /* batches of output, A, B */
} mm_plan;

static ld_status mm_get_plan(ld_kctx *k, mm_plan *p, int *ondim, int64_t *odims) {
    const ld_tensor *a = k->in[0], *b = k->in[1];
    if (a->ndim < 1 || b->ndim < 1) return ld_error(LD_ERR_DATA, "MatMul operands must have rank >= 1");
    if (a->dtype != b->dtype) return ld_error(LD_ERR_DATA, "MatMul operand dtypes differ");
    int ra = a->ndim, rb = b->ndim;
    p->m = ra >= 2 ? a->dims[ra - 2] : 1;
    p->k = a->dims[ra - 1];
    int64_t kb = rb >= 2 ? b->dims[rb - 2] : b->dims[0];
    p->n = rb >= 2 ? b->dims[rb - 1] : 1;
    if (kb != p->k) {
        char s1[128], s2[128];
        return ld_error(LD_ERR_DATA, "MatMul shapes %s and %s: inner dimensions differ",
                        ld_shape_str(a, s1, sizeof s1), ld_shape_str(b, s2, sizeof s2));
    }
    int bra = ra > 2 ? ra - 2 : 0, brb = rb > 2 ? rb - 2 : 0;
    ld_status st = ld_broadcast_dims(bra, a->dims, brb, b->dims, &p->nbd, p->bdims);
    if (st != LD_OK) return ld_err_prefix(st, "MatMul batch dimensions");
    /* batch strides: right-aligned, 0 where an operand has size 1 or lacks the dim */
    int64_t ma = p->m * p->k, mb = p->k * p->n, acc_a = ma, acc_b = mb;
    p->na_b = p->nb_b = p->nb = 1;
    for (int i = p->nbd - 1; i >= 0; i--) {
        int ia = i - (p->nbd - bra), ib = i - (p->nbd - brb);
        int64_t da = ia >= 0 ? a->dims[ia] : 1, db = ib >= 0 ? b->dims[ib] : 1;
        p->sa[i] = da == 1 ? 0 : acc_a;
        p->sb[i] = db == 1 ? 0 : acc_b;
        acc_a *= da;
        acc_b *= db;
        p->na_b *= da;
        p->nb_b *= db;
        p->nb *= p->bdims[i];
    }
    int nd = 0;
    for (int i = 0; i < p->nbd; i++) odims[nd++] = p->bdims[i];
    if (ra >= 2) odims[nd++] = p->m;
    if (rb >= 2) odims[nd++] = p->n;
    *ondim = nd;
    return LD_OK;
}

static ld_status matmul_shape(ld_kctx *k) {
    LD_TRY(ld_check_dtype(k, 0, LD_DT(LD_F32) | INT_MM_DTYPES));
    mm_plan p;
    int nd;
    int64_t od[LD_MAX_DIMS + 2];
    LD_TRY(mm_get_plan(k, &p, &nd, od));
    return ld_tensor_set_shape(k->out[0], k->in[0]->dtype, nd, od);
}

/* Element offsets of batch i into A and B. */
static void mm_batch_offsets(const mm_plan *p, int64_t i, int64_t *oa, int64_t *ob) {
    int64_t a = 0, b = 0;
    for (int d = p->nbd - 1; d >= 0; d--) {
        int64_t idx = i % p->bdims[d];
        i /= p->bdims[d];
        a += idx * p->sa[d];
        b += idx * p->sb[d];
    }
    *oa = a;
    *ob = b;
}

static void matmul_f32(const mm_plan *p, const float *a, const float *b, float *y) {
    int64_t mk = p->m * p->k, kn = p->k * p->n, mn = p->m * p->n;
    if (p->nb_b == 1 && p->na_b == p->nb) {
        /* B shared: stack every A batch into one tall matrix */
        ld_nn_sgemm_batch(false, false, p->nb * p->m, p->n, p->k, 1, a, 0, b, 0, 0, y, 0, 1);
    } else if ((p->na_b == p->nb || p->na_b == 1) && (p->nb_b == p->nb || p->nb_b == 1)) {
        ld_nn_sgemm_batch(false, false, p->m, p->n, p->k, 1, a, p->na_b == 1 ? 0 : mk, b,
                          p->nb_b == 1 ? 0 : kn, 0, y, mn, p->nb);
    } else {   /* mixed broadcasting, e.g. (2,1,m,k) x (1,3,k,n) */
        for (int64_t i = 0; i < p->nb; i++) {
            int64_t oa, ob;
            mm_batch_offsets(p, i, &oa, &ob);
            ld_nn_sgemm_batch(false, false, p->m, p->n, p->k, 1, a + oa, 0, b + ob, 0, 0,
                              y + i * mn, 0, 1);
        }
    }
}

#define MM_INT_LOOP(T)                                                                        \
    do {                                                                                      \
        const T *ap = a->data, *bp = b->data;                                                 \
        T *yp = y->data;                                                                      \
        for (int64_t bi = 0; bi < p->nb; bi++) {                                              \
            int64_t oa, ob;                                                                   \
            mm_batch_offsets(p, bi, &oa, &ob);                                                \
            const T *x = ap + oa, *w = bp + ob;                                               \
            T *o = yp + bi * p->m * p->n;                                                     \
            for (int64_t i = 0; i < p->m; i++)                                                \
                for (int64_t q = 0; q < p->k; q++) {                                          \
                    T av = x[i * p->k + q];                                                   \
                    for (int64_t j = 0; j < p->n; j++) o[i * p->n + j] += av * w[q * p->n + j]; \
                }                                                                             \
        }                                                                                     \
    } while (0)

static ld_status matmul_int(const mm_plan *p, const ld_tensor *a, const ld_tensor *b, ld_tensor *y) {
    switch (a->dtype) {   /* y is zero-initialised by the executor */
    case LD_I32: MM_INT_LOOP(int32_t); break;
    case LD_I64: MM_INT_LOOP(int64_t); break;
    case LD_U32: MM_INT_LOOP(uint32_t); break;
    case LD_U64: MM_INT_LOOP(uint64_t); break;
    default:
        return ld_error(LD_ERR_UNSUPPORTED, "MatMul: unsupported dtype %s", ld_dtype_name(a->dtype));
    }
    return LD_OK;
}

static ld_status matmul_compute(ld_kctx *k) {
    mm_plan p;
    int nd;
    int64_t od[LD_MAX_DIMS + 2];
    LD_TRY(mm_get_plan(k, &p, &nd, od));
    if (k->out[0]->numel == 0) return LD_OK;
    if (k->in[0]->dtype != LD_F32) return matmul_int(&p, k->in[0], k->in[1], k->out[0]);
    LD_TRY(check_blas_dims(p.nb * p.m, p.n, p.k));
    matmul_f32(&p, LD_F32P(k->in[0]), LD_F32P(k->in[1]), LD_F32P(k->out[0]));
    return LD_OK;
}

/* ---- op table (the other kernels are declared in ops_nn.h) ---- */

#define F32O LD_OPF_F32_ONLY

const ld_op_def ld_ops_nn[] = {
    {"", "Conv", 1, ld_nn_conv_shape, ld_nn_conv_compute, F32O | LD_OPF_NOZERO_F32},
    {"", "Conv", 11, ld_nn_conv_shape, ld_nn_conv_compute, F32O | LD_OPF_NOZERO_F32},
    {"", "Conv", 22, ld_nn_conv_shape, ld_nn_conv_compute, F32O | LD_OPF_NOZERO_F32},
    {"", "ConvTranspose", 1, ld_nn_convt_shape, ld_nn_convt_compute, F32O},
    {"", "ConvTranspose", 11, ld_nn_convt_shape, ld_nn_convt_compute, F32O},
    {"", "ConvTranspose", 22, ld_nn_convt_shape, ld_nn_convt_compute, F32O},
    {"", "DeformConv", 19, ld_nn_deform_shape, ld_nn_deform_compute, F32O},
    {"", "DeformConv", 22, ld_nn_deform_shape, ld_nn_deform_compute, F32O},
    {"", "Gemm", 1, gemm_shape, gemm_compute, F32O | LD_OPF_NOZERO_F32},
    {"", "Gemm", 6, gemm_shape, gemm_compute, F32O | LD_OPF_NOZERO_F32},
    {"", "Gemm", 7, gemm_shape, gemm_compute, F32O | LD_OPF_NOZERO_F32},
    {"", "Gemm", 9, gemm_shape, gemm_compute, F32O | LD_OPF_NOZERO_F32},
    {"", "Gemm", 11, gemm_shape, gemm_compute, F32O | LD_OPF_NOZERO_F32},
    {"", "Gemm", 13, gemm_shape, gemm_compute, F32O | LD_OPF_NOZERO_F32},
    {"", "MatMul", 1, matmul_shape, matmul_compute, F32O | LD_OPF_NOZERO_F32},
    {"", "MatMul", 9, matmul_shape, matmul_compute, F32O | LD_OPF_NOZERO_F32},
    {"", "MatMul", 13, matmul_shape, matmul_compute, F32O | LD_OPF_NOZERO_F32},
    {"", "Einsum", 12, ld_nn_einsum_shape, ld_nn_einsum_compute, F32O},
    {0},
};
