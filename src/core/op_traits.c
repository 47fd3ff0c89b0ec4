/*
** op_traits.c — the op traits table: which ops quantize as GEMMs, accumulate in FP16 under
** --accum fp16, commute with rounding, stay FP32 in a written mixed model, and how many FLOPs
** a run costs (see ld_op.h). One row per op; the unit test test_op_traits checks that every op
** named here exists in the op table, so a misspelt name fails the build's tests instead of
** silently never matching.
*/
#include "ld_op.h"

#include <string.h>

/* Conv: 2 * outputs * (C/g * kernel size) multiply-adds. */
static double flops_conv(const ld_node *n, const ld_tensor *x, const ld_tensor *w, const ld_tensor *y) {
    (void)n; (void)x;
    if (w && w->ndim >= 2) return 2.0 * (double)y->numel * (double)(w->numel / w->dims[0]);
    return (double)y->numel;
}

/* Gemm / MatMul: 2 * outputs * K, K the last axis of input 0. */
static double flops_gemm(const ld_node *n, const ld_tensor *x, const ld_tensor *w, const ld_tensor *y) {
    (void)n; (void)w;
    if (x && x->kind == LD_KIND_TENSOR && x->ndim) return 2.0 * (double)y->numel * (double)x->dims[x->ndim - 1];
    return (double)y->numel;
}

#define QG (LD_OPT_QGEMM)
#define ACC (LD_OPT_ACCUM)
#define RC (LD_OPT_ROUND_COMMUTES)
#define KEEP (LD_OPT_KEEP_FP32)
#define OTHER LD_OPK_OTHER
/* quantized inputs of a GEMM: 0 (activations) and 1 (weights) */
#define XW 0x3
#define NOQ 0

static const ld_op_traits traits[] = {
    /* GEMM-like ops: INT8/FP8 quantize their inputs; most accumulate in FP16 on request */
    {"", "Conv", QG | ACC, LD_OPK_CONV, XW, flops_conv},
    {"", "ConvTranspose", QG, LD_OPK_CONV_TRANSPOSE, XW, NULL},
    {"", "Gemm", QG | ACC, LD_OPK_GEMM, XW, flops_gemm},
    {"", "MatMul", QG | ACC, LD_OPK_MATMUL, XW, flops_gemm},
    /* other sums an FP16 engine may keep in FP16 */
    {"", "ReduceSum", ACC, LD_OPK_REDUCE, NOQ, NULL},
    {"", "ReduceMean", ACC, LD_OPK_REDUCE, NOQ, NULL},
    {"", "ReduceSumSquare", ACC, LD_OPK_REDUCE, NOQ, NULL},
    {"", "ReduceL2", ACC, LD_OPK_REDUCE, NOQ, NULL},
    {"", "GlobalAveragePool", ACC, LD_OPK_GLOBAL_AVG_POOL, NOQ, NULL},
    {"", "LayerNormalization", ACC, LD_OPK_LAYER_NORM, NOQ, NULL},
    /* ops that move, select or compare values (rounding to nearest is monotonic) */
    {"", "Reshape", RC, OTHER, NOQ, NULL},
    {"", "Flatten", RC, OTHER, NOQ, NULL},
    {"", "Squeeze", RC, OTHER, NOQ, NULL},
    {"", "Unsqueeze", RC, OTHER, NOQ, NULL},
    {"", "Identity", RC, OTHER, NOQ, NULL},
    {"", "Transpose", RC, OTHER, NOQ, NULL},
    {"", "Concat", RC, OTHER, NOQ, NULL},
    {"", "Split", RC, OTHER, NOQ, NULL},
    {"", "Slice", RC, OTHER, NOQ, NULL},
    {"", "Gather", RC, OTHER, NOQ, NULL},
    {"", "GatherElements", RC, OTHER, NOQ, NULL},
    {"", "GatherND", RC, OTHER, NOQ, NULL},
    {"", "Expand", RC, OTHER, NOQ, NULL},
    {"", "Tile", RC, OTHER, NOQ, NULL},
    {"", "DepthToSpace", RC, OTHER, NOQ, NULL},
    {"", "SpaceToDepth", RC, OTHER, NOQ, NULL},
    {"", "Relu", RC, OTHER, NOQ, NULL},
    {"", "MaxPool", RC, OTHER, NOQ, NULL},
    {"", "GlobalMaxPool", RC, OTHER, NOQ, NULL},
    {"", "Max", RC, OTHER, NOQ, NULL},
    {"", "Min", RC, OTHER, NOQ, NULL},
    {"", "ReduceMax", RC, OTHER, NOQ, NULL},
    {"", "ReduceMin", RC, OTHER, NOQ, NULL},
    /* FP16 support patchy across engines: a written mixed model keeps them in FP32 */
    {"", "Resize", KEEP, OTHER, NOQ, NULL},
    {"", "Upsample", KEEP, OTHER, NOQ, NULL},
    {"", "Range", KEEP, OTHER, NOQ, NULL},
    {"", "TopK", KEEP, OTHER, NOQ, NULL},
    {"", "NonMaxSuppression", KEEP, OTHER, NOQ, NULL},
    {"", "RoiAlign", KEEP, OTHER, NOQ, NULL},
    {"", "CumSum", KEEP, OTHER, NOQ, NULL},
    {"", "RandomUniformLike", KEEP, OTHER, NOQ, NULL},
    {"", "RandomNormalLike", KEEP, OTHER, NOQ, NULL},
    {"", "Multinomial", KEEP, OTHER, NOQ, NULL},
    {"", "Einsum", KEEP, OTHER, NOQ, NULL},
    {"", "DFT", KEEP, OTHER, NOQ, NULL},
    {"", "STFT", KEEP, OTHER, NOQ, NULL},
    /* explicit quantization (QDQ models): compare --target qdq pairs them up */
    {"", "QuantizeLinear", 0, LD_OPK_QUANTIZE, NOQ, NULL},
    {"", "DequantizeLinear", 0, LD_OPK_DEQUANTIZE, NOQ, NULL},
    {"com.microsoft", "QuantizeLinear", 0, LD_OPK_QUANTIZE, NOQ, NULL},
    {"com.microsoft", "DequantizeLinear", 0, LD_OPK_DEQUANTIZE, NOQ, NULL},
    /* control flow the planner can see through */
    {"", "If", LD_OPT_BRANCH, OTHER, NOQ, NULL},
};
/* 51 rows: a row added or lost on purpose updates this (and test_op_traits checks each). */
static_assert(LD_ARRAY_LEN(traits) == 51, "op traits table size");

static const ld_op_traits no_traits = {"", NULL, 0, LD_OPK_OTHER, NOQ, NULL};

static const char *const kind_names[] = {
    [LD_OPK_OTHER] = "other", [LD_OPK_CONV] = "Conv", [LD_OPK_CONV_TRANSPOSE] = "ConvTranspose",
    [LD_OPK_GEMM] = "Gemm", [LD_OPK_MATMUL] = "MatMul", [LD_OPK_REDUCE] = "Reduce",
    [LD_OPK_GLOBAL_AVG_POOL] = "GlobalAveragePool", [LD_OPK_LAYER_NORM] = "LayerNormalization",
    [LD_OPK_QUANTIZE] = "QuantizeLinear", [LD_OPK_DEQUANTIZE] = "DequantizeLinear",
};
static_assert(LD_ARRAY_LEN(kind_names) == LD_OPK_COUNT, "a name per op kind");

#undef QG
#undef ACC
#undef RC
#undef KEEP
#undef OTHER
#undef XW
#undef NOQ

static bool same_domain(const char *a, const char *b) {
    if (!a || !strcmp(a, "ai.onnx")) a = "";
    if (!b || !strcmp(b, "ai.onnx")) b = "";
    return strcmp(a, b) == 0;
}

const ld_op_traits *ld_op_traits_find(const char *domain, const char *name) {
    for (size_t i = 0; name && i < LD_ARRAY_LEN(traits); i++)
        if (!strcmp(traits[i].name, name) && same_domain(traits[i].domain, domain)) return &traits[i];
    return &no_traits;
}

const ld_op_traits *ld_node_traits(const ld_node *n) {
    return n->traits ? n->traits : ld_op_traits_find(n->domain, n->op_type);
}

double ld_op_flops(const ld_node *n, const ld_tensor *x, const ld_tensor *w, const ld_tensor *y) {
    const ld_op_traits *t = ld_node_traits(n);
    return t->flops ? t->flops(n, x, w, y) : (double)y->numel;
}

const ld_op_traits *ld_op_traits_table(int *count) {
    *count = (int)LD_ARRAY_LEN(traits);
    return traits;
}

const char *ld_op_kind_name(ld_op_kind k) {
    return k >= 0 && k < LD_OPK_COUNT ? kind_names[k] : "?";
}
