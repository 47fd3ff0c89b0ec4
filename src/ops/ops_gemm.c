/*
** ops_gemm.c — layerdiff's own float32 matrix product, deterministic by construction.
**
** Every element of C is one chain of fused multiply-adds over k in ascending order, started
** from +0:  acc = fma(A[i][0], B[0][j], +0); acc = fma(A[i][1], B[1][j], acc); ...  and then
** C = alpha*acc + beta*C (a term is skipped when alpha == 1, beta == 0 or beta == 1). Blocking,
** packing, vector width and the split of C over threads decide only where and when an element
** is computed, never how: an element's partial sum leaves the registers only as a float and
** comes back unchanged, so the bits are the same for any --threads, any machine and any run.
** OpenBLAS cannot promise that: its kernels and edge handling change with the split, so the
** FP32 reference changed with the core count (issue 8).
**
** Layout follows BLIS: for each block of KC rows of op(B) and NC columns, B is packed into
** panels of NR columns (KC x NR, row after row); for each block of MC rows of op(A), A is
** packed into panels of MR rows (KC x MR, column after column); a micro-kernel multiplies one
** A panel by one B panel into an MR x NR tile of C held in registers. The partial sums
** between K blocks live in C itself; when beta != 0 the old C is kept aside first.
**
** Three micro-kernels: AVX-512 (MR 12, NR 32), AVX2+FMA (6 x 16) and portable C with fmaf
** (4 x 16). The instruction set is chosen once (LAYERDIFF_ISA=generic|avx2|avx512 forces
** one; the numbers do not change). This file is compiled with -ffp-contract=off so that the
** compiler adds no fusing of its own.
*/
#include "ops_gemm.h"

#include <assert.h>
#include <immintrin.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

enum { ISA_GENERIC, ISA_AVX2, ISA_AVX512 };
#define MR_MAX 12
#define NR_MAX 32
#define KC 384
#define MC_ROWS 144   /* a multiple of every MR */
#define NC_COLS 2048  /* a multiple of every NR */

static const struct { const char *name; int mr, nr; } isa_info[] = {
    [ISA_GENERIC] = {"generic", 4, 16},
    [ISA_AVX2] = {"avx2", 6, 16},
    [ISA_AVX512] = {"avx512", 12, 32},
};
_Static_assert(MC_ROWS % 4 == 0 && MC_ROWS % 6 == 0 && MC_ROWS % 12 == 0, "MC must be a multiple of MR");
_Static_assert(NC_COLS % 16 == 0 && NC_COLS % 32 == 0, "NC must be a multiple of NR");

/* The instruction set called name, if this CPU has it; else -1. */
static int isa_named(const char *name) {
    __builtin_cpu_init();
    if (!strcmp(name, "generic")) return ISA_GENERIC;
    if (!strcmp(name, "avx2") && __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) return ISA_AVX2;
    if (!strcmp(name, "avx512") && __builtin_cpu_supports("avx512f")) return ISA_AVX512;
    return -1;
}

static int isa_detect(void) {
    const char *e = getenv("LAYERDIFF_ISA");
    int v = e ? isa_named(e) : -1;
    if (v < 0) v = isa_named("avx512");
    if (v < 0) v = isa_named("avx2");
    return v < 0 ? ISA_GENERIC : v;
}

static int isa = -1;   /* chosen on first use; a benign race: every thread finds the same */

static int isa_get(void) {
    int v = __atomic_load_n(&isa, __ATOMIC_RELAXED);
    if (v < 0) { v = isa_detect(); __atomic_store_n(&isa, v, __ATOMIC_RELAXED); }
    return v;
}

const char *ld_gemm_isa(void) { return isa_info[isa_get()].name; }

bool ld_gemm_use_isa(const char *name) {
    int v = isa_named(name);
    if (v >= 0) __atomic_store_n(&isa, v, __ATOMIC_RELAXED);
    return v >= 0;
}

/* ---- micro-kernels: C tile (MR x NR, row stride ldc) = (first ? 0 : C) + Ap * Bp ---- */

/* Ap: kc columns of MR values; Bp: kc rows of NR values. */
static void kern_generic(int64_t kc, const float *ap, const float *bp, float *c, int64_t ldc, bool first) {
    float acc[4][16];
    for (int r = 0; r < 4; r++)
        for (int j = 0; j < 16; j++) acc[r][j] = first ? 0.0f : c[r * ldc + j];
    for (int64_t p = 0; p < kc; p++, ap += 4, bp += 16)
        for (int r = 0; r < 4; r++)
            for (int j = 0; j < 16; j++) acc[r][j] = fmaf(ap[r], bp[j], acc[r][j]);
    for (int r = 0; r < 4; r++)
        for (int j = 0; j < 16; j++) c[r * ldc + j] = acc[r][j];
}

__attribute__((target("avx2,fma")))
static void kern_avx2(int64_t kc, const float *ap, const float *bp, float *c, int64_t ldc, bool first) {
    __m256 acc[6][2];
#pragma GCC unroll 6
    for (int r = 0; r < 6; r++) {
        acc[r][0] = first ? _mm256_setzero_ps() : _mm256_loadu_ps(c + r * ldc);
        acc[r][1] = first ? _mm256_setzero_ps() : _mm256_loadu_ps(c + r * ldc + 8);
    }
    for (int64_t p = 0; p < kc; p++, ap += 6, bp += 16) {
        __m256 b0 = _mm256_loadu_ps(bp), b1 = _mm256_loadu_ps(bp + 8);
#pragma GCC unroll 6
        for (int r = 0; r < 6; r++) {
            __m256 a = _mm256_broadcast_ss(ap + r);
            acc[r][0] = _mm256_fmadd_ps(a, b0, acc[r][0]);
            acc[r][1] = _mm256_fmadd_ps(a, b1, acc[r][1]);
        }
    }
#pragma GCC unroll 6
    for (int r = 0; r < 6; r++) {
        _mm256_storeu_ps(c + r * ldc, acc[r][0]);
        _mm256_storeu_ps(c + r * ldc + 8, acc[r][1]);
    }
}

__attribute__((target("avx512f")))
static void kern_avx512(int64_t kc, const float *ap, const float *bp, float *c, int64_t ldc, bool first) {
    __m512 acc[12][2];
#pragma GCC unroll 12
    for (int r = 0; r < 12; r++) {
        acc[r][0] = first ? _mm512_setzero_ps() : _mm512_loadu_ps(c + r * ldc);
        acc[r][1] = first ? _mm512_setzero_ps() : _mm512_loadu_ps(c + r * ldc + 16);
    }
    for (int64_t p = 0; p < kc; p++, ap += 12, bp += 32) {
        __m512 b0 = _mm512_loadu_ps(bp), b1 = _mm512_loadu_ps(bp + 16);
#pragma GCC unroll 12
        for (int r = 0; r < 12; r++) {
            __m512 a = _mm512_set1_ps(ap[r]);
            acc[r][0] = _mm512_fmadd_ps(a, b0, acc[r][0]);
            acc[r][1] = _mm512_fmadd_ps(a, b1, acc[r][1]);
        }
    }
#pragma GCC unroll 12
    for (int r = 0; r < 12; r++) {
        _mm512_storeu_ps(c + r * ldc, acc[r][0]);
        _mm512_storeu_ps(c + r * ldc + 16, acc[r][1]);
    }
}

typedef void (*kern_fn)(int64_t kc, const float *ap, const float *bp, float *c, int64_t ldc, bool first);
static const kern_fn kernels[] = {[ISA_GENERIC] = kern_generic, [ISA_AVX2] = kern_avx2, [ISA_AVX512] = kern_avx512};

/* ---- packing ---- */

typedef struct gemm_op {
    bool ta, tb;
    const float *a, *b;
    int64_t lda, ldb;
} gemm_op;

/* op(A)[i0 .. i0+mc) x [p0 .. p0+kc) into panels of mr rows (zero rows past mc). Not
 * transposed, each row of A is read in order (contiguous) and scattered into its lane. */
static void pack_a(const gemm_op *g, int mr, int64_t i0, int64_t mc, int64_t p0, int64_t kc, float *out) {
    for (int64_t ir = 0; ir < mc; ir += mr) {
        int64_t rows = mc - ir < mr ? mc - ir : mr;
        if (!g->ta) {
            for (int64_t r = 0; r < rows; r++) {
                const float *src = g->a + (i0 + ir + r) * g->lda + p0;
                for (int64_t p = 0; p < kc; p++) out[p * mr + r] = src[p];
            }
            if (rows < mr)
                for (int64_t p = 0; p < kc; p++)
                    for (int64_t r = rows; r < mr; r++) out[p * mr + r] = 0.0f;
        } else {
            for (int64_t p = 0; p < kc; p++) {
                float *o = out + p * mr;
                const float *src = g->a + (p0 + p) * g->lda + i0 + ir;
                for (int64_t r = 0; r < rows; r++) o[r] = src[r];
                for (int64_t r = rows; r < mr; r++) o[r] = 0.0f;
            }
        }
        out += kc * mr;
    }
}

/* op(B)[p0 .. p0+kc) x [j0 .. j0+nc) into panels of nr columns (zero columns past nc). */
static void pack_b(const gemm_op *g, int nr, int64_t p0, int64_t kc, int64_t j0, int64_t nc, float *out) {
    for (int64_t jr = 0; jr < nc; jr += nr) {
        int64_t cols = nc - jr < nr ? nc - jr : nr;
        for (int64_t p = 0; p < kc; p++) {
            float *o = out + p * nr;
            int64_t q = p0 + p;
            if (!g->tb) {
                const float *src = g->b + q * g->ldb + j0 + jr;
                if (cols == 32) memcpy(o, src, 32 * sizeof(float));        /* inlined: no call */
                else if (cols == 16) memcpy(o, src, 16 * sizeof(float));
                else memcpy(o, src, (size_t)cols * sizeof(float));
            } else {
                for (int64_t j = 0; j < cols; j++) o[j] = g->b[(j0 + jr + j) * g->ldb + q];
            }
            for (int64_t j = cols; j < nr; j++) o[j] = 0.0f;
        }
        out += kc * nr;
    }
}

/* ---- the product ---- */

/* One tile; edge tiles go through a full-size buffer so the kernel never reads or writes
 * outside C. */
static void tile(kern_fn kern, int mr, int nr, int64_t kc, const float *ap, const float *bp, float *c,
                 int64_t ldc, int64_t rows, int64_t cols, bool first) {
    if (rows == mr && cols == nr) { kern(kc, ap, bp, c, ldc, first); return; }
    float buf[MR_MAX * NR_MAX];
    if (!first)
        for (int64_t r = 0; r < rows; r++) memcpy(buf + r * nr, c + r * ldc, (size_t)cols * sizeof(float));
    kern(kc, ap, bp, buf, nr, first);
    for (int64_t r = 0; r < rows; r++) memcpy(c + r * ldc, buf + r * nr, (size_t)cols * sizeof(float));
}

/* op(A) packed once for many products (ld_gemm_pack_a): for the K block starting at p0, all
 * mpad rows (m rounded up to mr) in panels of mr rows at data + p0 * mpad, the panel of row i
 * (a multiple of mr) at + i * kc: exactly what pack_a writes for that block. */
struct ld_gemm_a {
    int isa;
    int64_t m, k, mpad;
    gemm_op g;            /* the unpacked A, for the out-of-memory path */
    float *data;
};

/* C (m x n) = op(A) op(B) as plain sums (alpha and beta applied by the caller); with pa, rows
 * row0 .. row0+m of the packed A (row0 a multiple of its mr) and g is not read for A. */
static int product(const gemm_op *g, const struct ld_gemm_a *pa, int64_t row0, int64_t m, int64_t n,
                   int64_t k, float *c, int64_t ldc) {
    int v = pa ? pa->isa : isa_get(), mr = isa_info[v].mr, nr = isa_info[v].nr;
    kern_fn kern = kernels[v];
    int64_t nc_max = n < NC_COLS ? (n + nr - 1) / nr * nr : NC_COLS;
    int64_t mc_max = m < MC_ROWS ? (m + mr - 1) / mr * mr : MC_ROWS;
    int64_t kc_max = k < KC ? k : KC;
    assert(!pa || row0 % mr == 0);
    float *bp = aligned_alloc(64, (size_t)(nc_max * kc_max * sizeof(float) + 63) / 64 * 64);
    float *ap = pa ? NULL : aligned_alloc(64, (size_t)(mc_max * kc_max * sizeof(float) + 63) / 64 * 64);
    if (!bp || (!pa && !ap)) { free(bp); free(ap); return -1; }
    for (int64_t j0 = 0; j0 < n; j0 += NC_COLS) {
        int64_t nc = n - j0 < NC_COLS ? n - j0 : NC_COLS;
        for (int64_t p0 = 0; p0 < k; p0 += KC) {
            int64_t kc = k - p0 < KC ? k - p0 : KC;
            pack_b(g, nr, p0, kc, j0, nc, bp);
            for (int64_t i0 = 0; i0 < m; i0 += MC_ROWS) {
                int64_t mc = m - i0 < MC_ROWS ? m - i0 : MC_ROWS;
                const float *apb = ap;
                if (pa) apb = pa->data + p0 * pa->mpad + (row0 + i0) * kc;
                else pack_a(g, mr, i0, mc, p0, kc, ap);
                for (int64_t jr = 0; jr < nc; jr += nr)
                    for (int64_t ir = 0; ir < mc; ir += mr)
                        tile(kern, mr, nr, kc, apb + ir * kc, bp + jr * kc, c + (i0 + ir) * ldc + j0 + jr, ldc,
                             mc - ir < mr ? mc - ir : mr, nc - jr < nr ? nc - jr : nr, p0 == 0);
            }
        }
    }
    free(bp);
    free(ap);
    return 0;
}

/* Element (i, j) of the final C from its sum s and the old value old. */
static inline float finish(float s, float alpha, float beta, float old) {
    float v = alpha == 1.0f ? s : alpha * s;
    if (beta == 0.0f) return v;
    return v + (beta == 1.0f ? old : beta * old);
}

void ld_gemm(bool ta, bool tb, int64_t m, int64_t n, int64_t k, float alpha, const float *a,
             int64_t lda, const float *b, int64_t ldb, float beta, float *c, int64_t ldc) {
    assert(m >= 0 && n >= 0 && k >= 0);
    if (m == 0 || n == 0) return;
    if (k == 0 || alpha == 0.0f) {   /* no products: C = beta*C (alpha*0 terms are +0) */
        for (int64_t i = 0; i < m; i++)
            for (int64_t j = 0; j < n; j++) c[i * ldc + j] = finish(0.0f, 1.0f, beta, c[i * ldc + j]);
        return;
    }
    gemm_op g = {ta, tb, a, b, lda, ldb};
    float *old = NULL;
    if (beta != 0.0f) {   /* C holds the partial sums: keep the old C aside */
        old = malloc((size_t)m * n * sizeof(float));
        if (old)
            for (int64_t i = 0; i < m; i++) memcpy(old + i * n, c + i * ldc, (size_t)n * sizeof(float));
    }
    if ((beta != 0.0f && !old) || product(&g, NULL, 0, m, n, k, c, ldc) != 0) {
        /* out of memory for the packed blocks: the same chains without packing */
        for (int64_t i = 0; i < m; i++)
            for (int64_t j = 0; j < n; j++) {
                float s = 0.0f;
                for (int64_t p = 0; p < k; p++)
                    s = fmaf(ta ? a[p * lda + i] : a[i * lda + p], tb ? b[j * ldb + p] : b[p * ldb + j], s);
                c[i * ldc + j] = finish(s, alpha, beta, old ? old[i * n + j] : c[i * ldc + j]);
            }
        free(old);
        return;
    }
    if (alpha != 1.0f || beta != 0.0f)
        for (int64_t i = 0; i < m; i++)
            for (int64_t j = 0; j < n; j++) c[i * ldc + j] = finish(c[i * ldc + j], alpha, beta, old ? old[i * n + j] : 0.0f);
    free(old);
}

/* ---- op(A) packed once ---- */

ld_gemm_a *ld_gemm_pack_a(bool ta, int64_t m, int64_t k, const float *a, int64_t lda) {
    assert(m >= 0 && k >= 0);
    ld_gemm_a *pa = calloc(1, sizeof *pa);
    if (!pa) return NULL;
    pa->isa = isa_get();
    int mr = isa_info[pa->isa].mr;
    pa->m = m;
    pa->k = k;
    pa->mpad = (m + mr - 1) / mr * mr;
    pa->g = (gemm_op){ta, false, a, NULL, lda, 0};
    if (m == 0 || k == 0) return pa;
    pa->data = aligned_alloc(64, (size_t)(pa->mpad * k * sizeof(float) + 63) / 64 * 64);
    if (!pa->data) { free(pa); return NULL; }
    for (int64_t p0 = 0; p0 < k; p0 += KC)
        pack_a(&pa->g, mr, 0, m, p0, k - p0 < KC ? k - p0 : KC, pa->data + p0 * pa->mpad);
    return pa;
}

void ld_gemm_a_free(ld_gemm_a *pa) {
    if (!pa) return;
    free(pa->data);
    free(pa);
}

int ld_gemm_a_rows_align(const ld_gemm_a *pa) { return isa_info[pa->isa].mr; }

void ld_gemm_packed(const ld_gemm_a *pa, int64_t i0, int64_t m, bool tb, int64_t n, const float *b,
                    int64_t ldb, const float *bias, float *c, int64_t ldc) {
    assert(i0 >= 0 && m >= 0 && i0 + m <= pa->m && n >= 0);
    if (m == 0 || n == 0) return;
    int64_t k = pa->k;
    gemm_op g = pa->g;
    g.tb = tb;
    g.b = b;
    g.ldb = ldb;
    g.a = g.ta ? pa->g.a + i0 : pa->g.a + i0 * g.lda;   /* for the unpacked paths */
    if (k == 0 || product(&g, pa->data ? pa : NULL, i0, m, n, k, c, ldc) != 0) {
        /* nothing to multiply, or out of memory for the packed B block: the same chains */
        for (int64_t i = 0; i < m; i++)
            for (int64_t j = 0; j < n; j++) {
                float s = 0.0f;
                for (int64_t p = 0; p < k; p++)
                    s = fmaf(g.ta ? g.a[p * g.lda + i] : g.a[i * g.lda + p], tb ? b[j * ldb + p] : b[p * ldb + j], s);
                c[i * ldc + j] = bias ? finish(s, 1.0f, 1.0f, bias[i]) : s;
            }
        return;
    }
    if (bias)
        for (int64_t i = 0; i < m; i++)
            for (int64_t j = 0; j < n; j++) c[i * ldc + j] = finish(c[i * ldc + j], 1.0f, 1.0f, bias[i]);
}
