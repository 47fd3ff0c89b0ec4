/*
** ops_quant.h — private interface between the quantization kernel files: ops_quant.c
** (QuantizeLinear, DequantizeLinear, DynamicQuantizeLinear and the op table) and
** ops_quant_mm.c (MatMulInteger, QLinearMatMul, ConvInteger, QLinearConv) and ops_quant_nbits.c
** (com.microsoft MatMulNBits, and the contrib QuantizeLinear/DequantizeLinear, which reuse
** the standard Q/DQ kernels).
*/
#ifndef LD_OPS_QUANT_H
#define LD_OPS_QUANT_H

#include "ld_op.h"

/* Standard QuantizeLinear/DequantizeLinear kernels (ops_quant.c). */
ld_status ld_quant_quantize_shape(ld_kctx *k);
ld_status ld_quant_quantize_compute(ld_kctx *k);
ld_status ld_quant_dequantize_shape(ld_kctx *k);
ld_status ld_quant_dequantize_compute(ld_kctx *k);

ld_status ld_quant_matmulinteger_shape(ld_kctx *k);
ld_status ld_quant_matmulinteger_compute(ld_kctx *k);
ld_status ld_quant_qlinearmatmul_shape(ld_kctx *k);
ld_status ld_quant_qlinearmatmul_compute(ld_kctx *k);
ld_status ld_quant_convinteger_shape(ld_kctx *k);
ld_status ld_quant_convinteger_compute(ld_kctx *k);
ld_status ld_quant_qlinearconv_shape(ld_kctx *k);
ld_status ld_quant_qlinearconv_compute(ld_kctx *k);

#endif
