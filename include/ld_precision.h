/*
** ld_precision.h — emulated target precisions and the per-node precision policy.
**
** Target tensors are float32 arrays whose values are representable in the target format
** ("fake quantization"): a node that is not pinned gets its float inputs in the target
** format, computes in FP32 (or with FP16 accumulation under --accum fp16) and has its float
** outputs rounded to the storage format. INT8/FP8 quantize the inputs of Conv,
** ConvTranspose, Gemm and MatMul (LD_OPT_QGEMM in the op traits, src/core/op_traits.c;
** activations per tensor from calibration, weights per output channel for INT8 / per tensor
** for FP8); other ops run in the fallback format. The block-scaled targets (W4A16, NVFP4, MXFP8,
** MXFP4) quantize the same ops' inputs with one scale per block along the reduction axis
** (ld_blockfmt.h). What each target is (range, flags, defaults,
** rounding) is one row of the format table in precision.c.
** Pinned nodes run in FP32 on their inputs widened to FP32 and keep FP32 outputs.
**
** Layer: emulate (see tests/tools/check_layers.sh).
*/
#ifndef LD_PRECISION_H
#define LD_PRECISION_H

#include "ld_exec.h"

typedef enum ld_target {
    LD_TARGET_FP32 = 0,
    LD_TARGET_FP16,
    LD_TARGET_BF16,
    LD_TARGET_FP8E4M3,
    LD_TARGET_FP8E5M2,
    LD_TARGET_INT8,
    LD_TARGET_W4A16,
    LD_TARGET_NVFP4,
    LD_TARGET_MXFP8,
    LD_TARGET_MXFP4,
    LD_TARGET_QDQ,           /* the model's own Q/DQ nodes (explicit quantization) */
    LD_TARGET_COUNT
} ld_target;

/* Block-scaled formats: how one block of elements along the reduction axis gets its scale and
 * its elements (the recipes are in src/emulate/blockfmt.c, ld_blockfmt.h). */
typedef enum ld_block_kind {
    LD_BLOCK_NONE = 0,
    LD_BLOCK_INT4,      /* symmetric INT4, scale amax / 7 in FP32, codes clamp to [-8, 7] */
    LD_BLOCK_NVFP4,     /* FP4 E2M1 elements, FP8 E4M3 block scale, FP32 per-tensor scale */
    LD_BLOCK_MXFP8,     /* OCP MX: FP8 E4M3 elements, E8M0 shared scale */
    LD_BLOCK_MXFP4,     /* OCP MX: FP4 E2M1 elements, E8M0 shared scale */
    LD_BLOCK_KIND_COUNT
} ld_block_kind;

/* Everything layerdiff knows about a target format, in one row per target (precision.c):
 * adding a target is adding an enum value and a row (see HACKING.md). */
typedef struct ld_format {
    const char *name;        /* "fp16", ... (CLI spelling, report "target") */
    const char *aliases[3];  /* other accepted CLI spellings (NULL-terminated) */
    const char *long_name;   /* "FP16" */
    double max;              /* largest finite magnitude (INT8: 127 quantization steps) */
    double min_normal;       /* smallest normal magnitude (0 for INT8) */
    double min_subnormal;    /* smallest nonzero magnitude */
    int mant_bits;           /* explicit mantissa bits (ulp = 2^(e - mant_bits)) */
    bool reference;          /* FP32: the reference itself (--against, self-check) */
    bool integer;            /* values are integer steps: no subnormals, no overflow to Inf,
                                ulp = one step */
    bool quantized;          /* GEMM inputs quantized with calibrated scales; other ops run in
                                the --fallback format */
    bool mixed_model;        /* --write-model can write a model in it */
    bool as_written;         /* the model's own QuantizeLinear/DequantizeLinear nodes are the
                                target: it runs as written in FP32, the reference side has its
                                activation Q->DQ pairs made identities (compare's QDQ plan) */
    int onnx_dtype;          /* TensorProto.DataType of the format */
    double min_sqnr;         /* default --min-sqnr in dB (ld_tol_default) */
    double goal_sqnr;        /* default autopin goal sqnr>=DB (ld_goal_defaults) */
    double max_sat;          /* default --max-saturation (0: 0.001); the MX rows clip a block's
                                largest elements by design, so they allow more */
    void (*round)(float *x, int64_t n);  /* round float32 values to the format, in place
                                            (FP8, FP4: saturating, unscaled; INT: unchanged) */
    ld_block_kind block;     /* block-scaled (a quantized format whose GEMM inputs get one scale
                                per block along the reduction axis, computed from the block
                                itself: no calibration); LD_BLOCK_NONE otherwise */
    int block_size;          /* elements per block (default of --block-size when block_size_flag) */
    bool block_size_flag;    /* --block-size may change block_size (fixed by the format otherwise) */
    bool weights_only;       /* only constant weights are quantized; activations stay in the
                                --fallback format (W4A16) */
} ld_format;

const ld_format *ld_target_format(ld_target t);
/* Target by CLI name or alias; LD_ERR_USAGE naming the targets otherwise. */
ld_status ld_target_parse(const char *s, ld_target *out);
/* The CLI names joined by sep ("fp16, bf16, ..."), without the reference format unless
 * with_reference; for usage messages. */
const char *ld_target_names(char *buf, size_t n, const char *sep, bool with_reference);

/* Round every element of x (float32) to format t, in place. FP8 here means the plain value
 * conversion (saturating); scaling is the caller's business. INT8 and FP32: no-op. */
void ld_round_to(ld_target t, float *x, int64_t n);
/* ulp of the format at magnitude |v| (used for "max error in ulps"). */
double ld_format_ulp(ld_target t, double v);

/* Activation ranges from calibration, by tensor name. */
typedef struct ld_calib {
    int n;
    char **names;
    float *amax;             /* |x| threshold; INT8 scale = amax / 127 */
} ld_calib;

ld_status ld_calib_set(ld_calib *c, const char *name, float amax);
float ld_calib_get(const ld_calib *c, const char *name);   /* <0 if unknown */
void ld_calib_clear(ld_calib *c);

typedef struct ld_policy {
    ld_target target;
    ld_target fallback;      /* INT8/FP8: format of the other ops (FP16 default, or FP32) */
    bool accum_fp16;         /* --accum fp16: Conv/Gemm/MatMul/reductions accumulate in FP16 */
    bool *pinned;            /* per node index of the main graph (NULL = none) */
    const ld_calib *calib;   /* INT8/FP8 activation ranges */
    int block_size;          /* block-scaled targets: elements per block (0: the format's) */
    const ld_node *const *body_pins;   /* pinned nodes of Loop/Scan/If bodies (ld_pins_apply_bodies) */
    int nbody_pins;
} ld_policy;

/* Elements per block of the policy's block-scaled target (0 for other targets). */
int ld_policy_block_size(const ld_policy *p);

/* Is body node n pinned (one of p->body_pins)? */
bool ld_policy_body_pinned(const ld_policy *p, const ld_node *n);

/* Does the policy quantize this node's inputs (INT8/FP8 and a GEMM-like op)? */
bool ld_policy_quantizes(const ld_policy *p, const ld_node *n);
/* Storage format of the float outputs of a non-pinned node. */
ld_target ld_policy_storage(const ld_policy *p, const ld_node *n);

/* Quantization clipping of one node's inputs: elements quantized, elements beyond the range,
 * and the largest |input| seen. */
typedef struct ld_sat {
    int64_t total, clipped;
    double absmax;
} ld_sat;

/* Run node n in the target precision on inputs that are already target values (the caller
 * rounds reference inputs for the isolated comparison). Pinned nodes run in FP32. Outputs as
 * ld_node_run. Adds the quantized inputs' clipping to *sat (may be NULL). */
ld_status ld_policy_run_node(const ld_policy *p, ld_exec *ex, const ld_node *n, ld_tensor **in,
                             ld_tensor **out, ld_sat *sat);

/* Target value of a constant (initializer / folded) consumed by non-pinned nodes. */
ld_status ld_policy_round_tensor(ld_target t, const ld_tensor *src, ld_tensor *dst);

#endif
