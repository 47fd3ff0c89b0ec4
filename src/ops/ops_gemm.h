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

#endif
