/*
** ops_nn.h — private header of the 'nn' kernel family (Conv, ConvTranspose, DeformConv, Gemm,
** MatMul, Einsum), shared by ops_nn.c, ops_nn_conv.c, ops_nn_einsum.c and ops_nn_deform.c.
*/
#ifndef LD_OPS_NN_H
#define LD_OPS_NN_H

#include "ld_op.h"

#define LD_NN_MAX_SP (LD_MAX_DIMS - 2)   /* spatial dims of a convolution */

/* Geometry of one convolution (Conv, ConvTranspose, DeformConv). */
typedef struct ld_nn_conv {
    int nsp;                          /* spatial rank */
    int64_t n, c, m, group;           /* batch, input channels, output channels, groups */
    int64_t in[LD_NN_MAX_SP];         /* input spatial dims */
    int64_t out[LD_NN_MAX_SP];        /* output spatial dims */
    int64_t k[LD_NN_MAX_SP];          /* kernel dims */
    int64_t s[LD_NN_MAX_SP];          /* strides */
    int64_t d[LD_NN_MAX_SP];          /* dilations */
    int64_t pb[LD_NN_MAX_SP];         /* padding at the start of each spatial dim */
    int64_t pe[LD_NN_MAX_SP];         /* padding at the end */
    int64_t in_size, out_size, k_size;/* products of in / out / k */
} ld_nn_conv;

/* Read kernel_shape (checked against W's dims kdims), strides, dilations, pads and group
 * into cv (cv->nsp set by the caller). Pads are the explicit ones (auto_pad not applied). */
ld_status ld_nn_conv_attrs(const ld_node *node, const int64_t *kdims, ld_nn_conv *cv);
/* Output dims of a forward convolution with auto_pad applied (fills out, pb, pe, sizes). */
ld_status ld_nn_conv_forward_dims(const ld_node *node, ld_nn_conv *cv);

/* Scratch buffer number slot (0..LD_NN_SCRATCH_SLOTS-1) of the calling OpenMP thread, grown
 * to at least n floats and kept for the next call (freed at exit). Valid until the same
 * thread asks for the same slot again. NULL on out-of-memory. */
#define LD_NN_SCRATCH_SLOTS 4
float *ld_nn_scratch(int slot, size_t n);

/* Whether `units` independent pieces of work split evenly enough over ld_nthreads threads to
 * run them in parallel (each with a single-threaded sgemm) rather than one after the other. */
bool ld_nn_split_units(int64_t units);

/* Row-major C = alpha*op(A)*op(B) + beta*C. Outside a parallel region a large product is
 * split over the OpenMP threads along its larger dimension, each part a single-threaded
 * ld_gemm; inside one (or for small products) it is one ld_gemm call. The numbers do not
 * depend on the split (ops_gemm.h). */
void ld_nn_sgemm(bool ta, bool tb, int64_t m, int64_t n, int64_t k, float alpha, const float *a,
                 int64_t lda, const float *b, int64_t ldb, float beta, float *c, int64_t ldc);

/* C (m x n, row-major) = A B (+ bias[i] per row, when given) with A packed once
 * (ld_gemm_pack_a, m x k) and B not transposed; split over the threads as ld_nn_sgemm. */
struct ld_gemm_a;
void ld_nn_sgemm_packed(const struct ld_gemm_a *pa, int64_t m, int64_t n, int64_t k, const float *b,
                        int64_t ldb, const float *bias, float *c, int64_t ldc);

/* Batched row-major sgemm C[b] = alpha*op(A[b])*op(B[b]) + beta*C[b] over nb matrices with
 * element strides sa, sb, sc between consecutive batches (0 = shared). */
void ld_nn_sgemm_batch(bool ta, bool tb, int64_t m, int64_t n, int64_t k, float alpha,
                       const float *a, int64_t sa, const float *b, int64_t sb, float beta,
                       float *c, int64_t sc, int64_t nb);

/* Kernels defined in ops_nn_conv.c, ops_nn_deform.c and ops_nn_einsum.c. */
ld_status ld_nn_conv_shape(ld_kctx *k);
ld_status ld_nn_conv_compute(ld_kctx *k);
ld_status ld_nn_convt_shape(ld_kctx *k);
ld_status ld_nn_convt_compute(ld_kctx *k);
ld_status ld_nn_deform_shape(ld_kctx *k);
ld_status ld_nn_deform_compute(ld_kctx *k);
ld_status ld_nn_einsum_shape(ld_kctx *k);
ld_status ld_nn_einsum_compute(ld_kctx *k);

#endif
