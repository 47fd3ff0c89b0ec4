/*
** accum.h — target-precision arithmetic that differs from "FP32 compute, round the output":
** FP16 accumulation (--accum fp16) and INT8/FP8 quantized GEMM-like ops. Used only by
** precision.c.
*/
#ifndef LD_ACCUM_H
#define LD_ACCUM_H

#include "ld_precision.h"

/* Ops with an FP16-accumulating emulation: LD_OPT_ACCUM in the op traits table
 * (src/core/op_traits.c); ld_accum_run_node dispatches on their ld_op_kind. */
bool ld_accum_handles(const ld_node *n);
/* Run n accumulating in FP16: every partial sum is rounded to FP16 (overflow -> Inf). */
ld_status ld_accum_run_node(ld_exec *ex, const ld_node *n, ld_tensor **in, ld_tensor **out);

/* Run a Conv/ConvTranspose/Gemm/MatMul with INT8 (symmetric, zero point 0; activations per
 * tensor from p->calib or the tensor's own range, constant weights per output channel) or FP8
 * (per-tensor scale amax / format max, saturating) inputs. Adds the clipping of the quantized
 * activations to *sat (may be NULL). */
ld_status ld_prec_quant_run_node(const ld_policy *p, ld_exec *ex, const ld_node *n, ld_tensor **in,
                            ld_tensor **out, ld_sat *sat);

#endif
