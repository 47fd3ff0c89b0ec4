/*
** ld_blockfmt.h — block-scaled number formats: W4A16 (INT4 weights), NVFP4, MXFP8 and MXFP4.
**
** A block is a run of elements along the reduction axis of a GEMM-like op (K of a Gemm/MatMul,
** the input channels of a Conv); it shares one scale computed from the block itself. The
** recipes (src/emulate/blockfmt.c, man/layerdiff-compare.1 "Block-scaled targets"):
**
**   INT4 (w4a16)  s = amax / 7 (FP32); q = clamp(rint(x / s), -8, 7); x' = q * s.
**   MXFP8/MXFP4   OCP MX v1.0: X = 2^(floor(log2(amax)) - emax_elem) as E8M0 (exponent clamped
**                 to -127; emax_elem 8 for E4M3, 2 for E2M1); x' = elem(x / X) * X, elements
**                 round to nearest even and saturate to ±448 / ±6.
**   NVFP4         g = amax_tensor / (6 * 448) (FP32, finite elements of the whole tensor);
**                 s_b = e4m3((amax_block / 6) / g) (nearest even, saturating); scale = s_b * g;
**                 x' = e2m1(x / scale) * scale; scale 0 (block scale underflow) gives zeros.
**
** Inf or NaN in a block makes the whole block NaN (its scale is NaN), as an E8M0 NaN scale.
** Rounded values stay in float32 ("fake quantization").
**
** Layer: emulate (see tests/tools/check_layers.sh).
*/
#ifndef LD_BLOCKFMT_H
#define LD_BLOCKFMT_H

#include "ld_precision.h"

/* NVFP4 per-tensor decode scale: max finite |x| / (6 * 448) (0 for an all-zero tensor). */
float ld_nvfp4_global_scale(const float *x, int64_t n);

/* Quantize one contiguous block of n elements in place; g is the NVFP4 per-tensor scale
 * (ignored by the others). Returns the block's decode scale (NaN for a NaN block). Adds to
 * *clipped (may be NULL) the elements that saturate: scaled, they lie beyond the rounding
 * range of the element format's largest value (E4M3 > 464, E2M1 >= 7, INT4 beyond [-8, 7]). */
float ld_block_quant(ld_block_kind k, float *x, int64_t n, float g, int64_t *clipped);

/* Quantize a tensor viewed as (outer, K, inner) in blocks of `block` elements along K (the
 * last block of each row is short when block does not divide K). scales (may be NULL) gets
 * the decode scale of every block, ordered (outer, inner, block index); *clipped (may be NULL)
 * gets the saturated elements added. LD_ERR_NOMEM when the gather buffer cannot be had. */
ld_status ld_block_quant_tensor(ld_block_kind k, float *x, int64_t outer, int64_t K, int64_t inner,
                                int64_t block, float *scales, int64_t *clipped);

/* Run a GEMM-like node (LD_OPT_QGEMM) with block-quantized inputs: constant weights always,
 * activations unless the target is weights-only; FP32 arithmetic on the rounded values.
 * Adds the clipping of the quantized inputs to *sat (may be NULL). */
ld_status ld_block_run_node(const ld_policy *p, ld_exec *ex, const ld_node *n, ld_tensor **in,
                            ld_tensor **out, ld_sat *sat);

#endif
