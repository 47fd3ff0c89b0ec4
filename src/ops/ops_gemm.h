/*
** ops_gemm.h — layerdiff's own float32 matrix product (ops_gemm.c), private to the kernels.
**
** ld_gemm computes row-major C = alpha*op(A)*op(B) + beta*C like cblas_sgemm, but every
** element of C is one fused multiply-add chain over k in ascending order started from +0,
** then scaled: the result is bitwise the same for any thread count, blocking, split, vector
** width and machine. beta == 0 overwrites C without reading it (NaN in C does not propagate),
** as BLAS does.
*/
#ifndef LD_OPS_GEMM_H
#define LD_OPS_GEMM_H

#include <stdbool.h>
#include <stdint.h>

/* Single-threaded product (the caller may run several at once on disjoint parts of C). */
void ld_gemm(bool ta, bool tb, int64_t m, int64_t n, int64_t k, float alpha, const float *a,
             int64_t lda, const float *b, int64_t ldb, float beta, float *c, int64_t ldc);

/* Instruction set ld_gemm uses: "avx512", "avx2" or "generic" (LAYERDIFF_ISA overrides the
 * detection; the numbers are the same for all three). */
const char *ld_gemm_isa(void);
/* Use instruction set name from now on; false (nothing changes) when this CPU lacks it. */
bool ld_gemm_use_isa(const char *name);

/* op(A) (m x k) packed once for many products with different B (a Conv's weights over the
 * images of a batch): NULL when out of memory. A must stay alive and unchanged while the
 * packed copy is used. */
typedef struct ld_gemm_a ld_gemm_a;
ld_gemm_a *ld_gemm_pack_a(bool ta, int64_t m, int64_t k, const float *a, int64_t lda);
void ld_gemm_a_free(ld_gemm_a *pa);
/* Row splits of a packed product must start at multiples of this. */
int ld_gemm_a_rows_align(const ld_gemm_a *pa);
/* Rows i0 .. i0+m of C = op(A) op(B), plus bias[i] per row when bias is given (c and bias point
 * at row i0). Each element: the same fma chain as ld_gemm, then + bias (as ld_gemm with beta 1
 * on a C pre-filled with the bias), so the numbers equal the unpacked path's bit for bit. */
void ld_gemm_packed(const ld_gemm_a *pa, int64_t i0, int64_t m, bool tb, int64_t n, const float *b,
                    int64_t ldb, const float *bias, float *c, int64_t ldc);

#endif
