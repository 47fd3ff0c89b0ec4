/*
** test_gemm.c — ld_gemm (src/ops/ops_gemm.c) against its definition: every element of C is
** one fused multiply-add chain over k in ascending order from +0, then alpha and beta.
** Checked bitwise for every instruction set this CPU has, for shapes around every blocking
** edge (MR, NR, KC, MC, NC), all four transpositions, alpha/beta cases, strided C, special
** values (NaN, Inf, -0, subnormals), and with a NaN in C when beta = 0; and the packed-A
** product (ld_gemm_packed) with its row bias, whole and split.
*/
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "ops_gemm.h"

static uint64_t rng = 88172645463325252ull;
static float frand(void) {
    rng ^= rng << 13; rng ^= rng >> 7; rng ^= rng << 17;
    return (float)((int64_t)(rng % 2000001) - 1000000) / 131072.0f;   /* many mantissa bits */
}

/* The definition, element by element. */
static void ref_gemm(bool ta, bool tb, int64_t m, int64_t n, int64_t k, float alpha, const float *a, int64_t lda,
                     const float *b, int64_t ldb, float beta, float *c, int64_t ldc) {
    for (int64_t i = 0; i < m; i++)
        for (int64_t j = 0; j < n; j++) {
            float s = 0.0f;
            for (int64_t p = 0; p < k; p++) s = fmaf(ta ? a[p * lda + i] : a[i * lda + p], tb ? b[j * ldb + p] : b[p * ldb + j], s);
            float v = alpha == 1.0f ? s : alpha * s;
            if (beta != 0.0f) v = v + (beta == 1.0f ? c[i * ldc + j] : beta * c[i * ldc + j]);
            c[i * ldc + j] = v;
        }
}

static int check(bool ta, bool tb, int64_t m, int64_t n, int64_t k, float alpha, float beta, int special) {
    int64_t lda = (ta ? m : k) + 3, ldb = (tb ? k : n) + 1, ldc = n + 5;
    int64_t asz = (ta ? k : m) * lda, bsz = (tb ? n : k) * ldb, csz = m * ldc;
    float *a = malloc(sizeof(float) * (asz + 1)), *b = malloc(sizeof(float) * (bsz + 1));
    float *c1 = malloc(sizeof(float) * (csz + 1)), *c2 = malloc(sizeof(float) * (csz + 1));
    for (int64_t i = 0; i < asz; i++) a[i] = frand();
    for (int64_t i = 0; i < bsz; i++) b[i] = frand();
    for (int64_t i = 0; i < csz; i++) c1[i] = c2[i] = beta == 0.0f && i % 7 == 0 ? NAN : frand();
    if (special) {
        const float sp[] = {NAN, INFINITY, -INFINITY, -0.0f, 1e-40f, -3e-39f, 3.0e38f, -3.0e38f};
        for (int i = 0; i < 8 && i < asz; i++) a[(i * 7919) % asz] = sp[i];
        for (int i = 0; i < 8 && i < bsz; i++) b[(i * 104729) % bsz] = sp[7 - i];
    }
    ld_gemm(ta, tb, m, n, k, alpha, a, lda, b, ldb, beta, c1, ldc);
    ref_gemm(ta, tb, m, n, k, alpha, a, lda, b, ldb, beta, c2, ldc);
    int bad = 0;
    for (int64_t i = 0; i < m; i++)
        for (int64_t j = 0; j < n; j++) {
            float x = c1[i * ldc + j], y = c2[i * ldc + j];
            if (memcmp(&x, &y, sizeof x) && !(isnan(x) && isnan(y))) {
                if (!bad) print_error("%s ta=%d tb=%d m=%lld n=%lld k=%lld: C[%lld][%lld] = %a, want %a\n", ld_gemm_isa(), ta, tb,
                                      (long long)m, (long long)n, (long long)k, (long long)i, (long long)j, x, y);
                bad++;
            }
        }
    for (int64_t i = 0; i < m; i++)   /* the padding of C is untouched */
        for (int64_t j = n; j < ldc && i * ldc + j < csz; j++)
            if (memcmp(&c1[i * ldc + j], &c2[i * ldc + j], sizeof(float))) { bad++; print_error("padding of C written\n"); }
    free(a); free(b); free(c1); free(c2);
    return bad;
}

static void sweep(const char *isa) {
    if (!ld_gemm_use_isa(isa)) { print_message("(CPU lacks %s: skipped)\n", isa); return; }
    assert_string_equal(ld_gemm_isa(), isa);
    static const int64_t ms[] = {1, 5, 6, 7, 12, 13, 145}, ns[] = {1, 15, 16, 17, 33, 64}, ks[] = {0, 1, 3, 383, 385, 800};
    int bad = 0;
    for (int t = 0; t < 4; t++)
        for (size_t i = 0; i < sizeof ms / sizeof *ms; i++)
            for (size_t j = 0; j < sizeof ns / sizeof *ns; j++)
                for (size_t q = 0; q < sizeof ks / sizeof *ks; q++) {
                    if (ms[i] * ns[j] * ks[q] > 3000000) continue;
                    bad += check(t & 1, t & 2, ms[i], ns[j], ks[q], 1.0f, 0.0f, (int)(i + j + q) % 3 == 0);
                }
    bad += check(false, false, 50, 70, 90, 0.5f, 0.0f, 0);
    bad += check(false, true, 50, 70, 90, 1.0f, 1.0f, 0);
    bad += check(true, false, 50, 70, 90, -2.0f, 0.25f, 1);
    bad += check(true, true, 20, 2100, 40, 1.0f, 0.0f, 0);      /* past NC */
    bad += check(false, false, 300, 20, 30, 1.0f, 0.0f, 0);      /* past MC */
    bad += check(false, false, 4, 4, 5, 0.0f, 2.0f, 0);          /* alpha 0: C = beta*C */
    assert_int_equal(bad, 0);
}

static void test_generic(void **st) { (void)st; sweep("generic"); }
static void test_avx2(void **st) { (void)st; sweep("avx2"); }
static void test_avx512(void **st) { (void)st; sweep("avx512"); }

/* The same product split in different ways gives the same bits (what --threads does). */
static void test_splits(void **st) {
    (void)st;
    int64_t m = 70, n = 90, k = 500;
    float *a = malloc(sizeof(float) * m * k), *b = malloc(sizeof(float) * k * n);
    float *c1 = calloc(m * n, sizeof(float)), *c2 = calloc(m * n, sizeof(float));
    for (int64_t i = 0; i < m * k; i++) a[i] = frand();
    for (int64_t i = 0; i < k * n; i++) b[i] = frand();
    ld_gemm(false, false, m, n, k, 1.0f, a, k, b, n, 0.0f, c1, n);
    for (int64_t r0 = 0; r0 < m; r0 += 9)          /* rows in pieces of 9 */
        for (int64_t c0 = 0; c0 < n; c0 += 23)     /* columns in pieces of 23 */
            ld_gemm(false, false, ((9) < (m - r0) ? (9) : (m - r0)), ((23) < (n - c0) ? (23) : (n - c0)), k, 1.0f, a + r0 * k, k, b + c0, n, 0.0f,
                    c2 + r0 * n + c0, n);
    assert_memory_equal(c1, c2, sizeof(float) * m * n);
    free(a); free(b); free(c1); free(c2);
}

/* op(A) packed once (ld_gemm_pack_a) then multiplied by B whole and in row / column pieces,
 * with and without a per-row bias: the same bits as the definition with C pre-filled with the
 * bias and beta 1 (how Conv used to add its bias), for every instruction set. */
static int check_packed(bool ta, int64_t m, int64_t n, int64_t k, bool bias, int special) {
    int64_t lda = (ta ? m : k) + 2, asz = (ta ? k : m) * lda, ldc = n + 3;
    float *a = malloc(sizeof(float) * (asz + 1)), *b = malloc(sizeof(float) * (k * n + 1));
    float *bv = malloc(sizeof(float) * (m + 1));
    float *c1 = malloc(sizeof(float) * (m * ldc + 1)), *c2 = malloc(sizeof(float) * (m * ldc + 1));
    for (int64_t i = 0; i < asz; i++) a[i] = frand();
    for (int64_t i = 0; i < k * n; i++) b[i] = frand();
    for (int64_t i = 0; i < m; i++) bv[i] = frand();
    if (special && asz > 8 && k * n > 8) {
        const float sp[] = {NAN, INFINITY, -INFINITY, -0.0f, 1e-40f, -3e-39f, 3.0e38f, -3.0e38f};
        for (int i = 0; i < 8; i++) { a[(i * 7919) % asz] = sp[i]; b[(i * 104729) % (k * n)] = sp[7 - i]; }
        if (bias) bv[0] = -0.0f;
    }
    for (int64_t i = 0; i < m; i++)
        for (int64_t j = 0; j < ldc; j++) c1[i * ldc + j] = c2[i * ldc + j] = j < n ? (bias ? bv[i] : NAN) : 7.0f;
    ref_gemm(ta, false, m, n, k, 1.0f, a, lda, b, n, bias ? 1.0f : 0.0f, c2, ldc);
    ld_gemm_a *pa = ld_gemm_pack_a(ta, m, k, a, lda);
    assert_non_null(pa);
    int al = ld_gemm_a_rows_align(pa), bad = 0;
    for (int split = 0; split < 3; split++) {
        for (int64_t i = 0; i < m * ldc; i++) c1[i] = (i % ldc) < n ? 12345.0f : 7.0f;
        if (split == 0) ld_gemm_packed(pa, 0, m, false, n, b, n, bias ? bv : NULL, c1, ldc);
        for (int64_t r0 = 0; split == 1 && r0 < m; r0 += 2 * al) {   /* rows in pieces */
            int64_t r = m - r0 < 2 * al ? m - r0 : 2 * al;
            ld_gemm_packed(pa, r0, r, false, n, b, n, bias ? bv + r0 : NULL, c1 + r0 * ldc, ldc);
        }
        for (int64_t j0 = 0; split == 2 && j0 < n; j0 += 23)   /* columns in pieces */
            ld_gemm_packed(pa, 0, m, false, n - j0 < 23 ? n - j0 : 23, b + j0, n, bias ? bv : NULL, c1 + j0, ldc);
        for (int64_t i = 0; i < m * ldc; i++)
            if (memcmp(&c1[i], &c2[i], sizeof(float)) && !(isnan(c1[i]) && isnan(c2[i]))) {
                if (!bad) print_error("%s packed ta=%d m=%lld n=%lld k=%lld split %d: C[%lld] = %a, want %a\n", ld_gemm_isa(),
                                      ta, (long long)m, (long long)n, (long long)k, split, (long long)i, c1[i], c2[i]);
                bad++;
            }
    }
    ld_gemm_a_free(pa);
    free(a); free(b); free(bv); free(c1); free(c2);
    return bad;
}

static void test_packed(void **st) {
    (void)st;
    static const char *isas[] = {"generic", "avx2", "avx512"};
    static const int64_t ms[] = {1, 7, 13, 145}, ns[] = {1, 17, 64}, ks[] = {0, 1, 385, 800};
    int bad = 0;
    for (int v = 0; v < 3; v++) {
        if (!ld_gemm_use_isa(isas[v])) continue;
        for (int t = 0; t < 4; t++)
            for (size_t i = 0; i < 4; i++)
                for (size_t j = 0; j < 3; j++)
                    for (size_t q = 0; q < 4; q++)
                        bad += check_packed(t & 1, ms[i], ns[j], ks[q], t & 2, (int)(i + j + q) % 3 == 0);
        bad += check_packed(false, 300, 2100, 20, true, 0);   /* past MC and NC */
    }
    assert_int_equal(bad, 0);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_generic),
        cmocka_unit_test(test_avx2),
        cmocka_unit_test(test_avx512),
        cmocka_unit_test(test_splits),
        cmocka_unit_test(test_packed),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
