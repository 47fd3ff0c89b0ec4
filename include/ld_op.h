/*
** ld_op.h — the kernel interface and the op table.
**
** Each family file (ops_*.c) exports a table `const ld_op_def ld_ops_<family>[]` ending in a
** zero entry; op_table.c lists the families. A node's kernel is the entry with the same domain
** and op name and the highest `since` not above the model's opset for that domain.
**
** Calling protocol (exec.c): for every node, shape() first sets each output's dtype and dims
** (ld_tensor_set_shape); the executor allocates the outputs; then compute() fills them. With
** LD_OPF_ALLOCS, compute() allocates its outputs itself (data-dependent output shapes) and
** shape() may return LD_DYNAMIC. At plan time shape() runs with k->plan set and inputs whose
** data may be NULL: if a value it needs is missing it returns LD_DYNAMIC (LD_NEED_DATA).
** Errors: return ld_error(LD_ERR_..., "message") — the executor prefixes the node name.
**
** Layer: core (see tests/tools/check_layers.sh).
*/
#ifndef LD_OP_H
#define LD_OP_H

#include "ld_graph.h"

struct ld_exec;

typedef struct ld_kctx {
    const ld_node *node;
    ld_tensor **in;          /* in[i] NULL for an absent optional input */
    int nin;
    ld_tensor **out;         /* out[i] NULL when that output is not used */
    int nout;
    struct ld_exec *ex;      /* running executor (NULL at plan time) */
    bool plan;               /* shape() called for static inference */
} ld_kctx;

typedef ld_status (*ld_kernel_fn)(ld_kctx *k);

enum {
    LD_OPF_ALLOCS = 1u << 0,      /* compute() allocates outputs itself */
    LD_OPF_F32_ONLY = 1u << 1,    /* only float32 among floats: executor widens f16/bf16/f64
                                     inputs to f32 and narrows the f32 outputs back */
    LD_OPF_NOFOLD = 1u << 2,      /* never constant-fold (random ops) */
    LD_OPF_SHAPE_ONLY = 1u << 3,  /* compute reads only input dims (Shape, Size) */
    LD_OPF_SUBGRAPH = 1u << 4,    /* runs subgraphs (If/Loop/Scan/SequenceMap) */
    LD_OPF_NOZERO_F32 = 1u << 5,  /* compute writes every element of its float32 outputs: the
                                     executor need not zero them first */
    LD_OPF_VIEW = 1u << 6,        /* output 0 holds input 0's elements unchanged, in order
                                     (Reshape, Flatten, Squeeze, Unsqueeze): when input 0 is
                                     not read again, the executor moves its buffer instead */
};

typedef struct ld_op_def {
    const char *domain;      /* "" = ai.onnx, "ai.onnx.ml", "com.microsoft", ... */
    const char *name;
    int since;               /* since_version */
    ld_kernel_fn shape;
    ld_kernel_fn compute;
    uint32_t flags;
} ld_op_def;

/* Find the kernel for (domain, name) at opset; NULL if none. */
const ld_op_def *ld_op_find(const char *domain, const char *name, int64_t opset);
/* Whether any version of the op exists (to tell "unknown op" from "unsupported version"). */
bool ld_op_known(const char *domain, const char *name);
/* For `inspect`: iterate all registered defs. */
const ld_op_def *const *ld_op_families(int *count);

/* ---- op traits (op_traits.c) ----
** What the emulation, the compare pass, autopin and the mixed-model writer know about an op,
** in one table keyed by (domain, op name) instead of name lists in each of them. The planner
** resolves a node's traits once (ld_graph_bind_kernels sets node->traits); code asks
** ld_node_traits(n). An op absent from the table has no flags and the default FLOPs. */

enum {
    LD_OPT_ROUND_COMMUTES = 1u << 0,  /* moves, selects or compares values: rounding the inputs
                                         to the storage format and running it equals rounding
                                         its FP32 output (the isolated run can be skipped) */
    LD_OPT_QGEMM = 1u << 1,           /* INT8/FP8 targets quantize the inputs in qgemm_inputs
                                         (activations per tensor, weights per channel) */
    LD_OPT_ACCUM = 1u << 2,           /* --accum fp16 reruns it with FP16 partial sums */
    LD_OPT_KEEP_FP32 = 1u << 3,       /* --write-model keeps it in FP32 (patchy FP16 support
                                         across engines) */
    LD_OPT_BRANCH = 1u << 4,          /* If: input 0 picks attribute then_branch (true) or
                                         else_branch; the planner inlines the taken branch when
                                         input 0 is a constant (src/core/inline_if.c) */
};

/* Which emulation a QGEMM / ACCUM op gets: weight layout, reduction length and output channel
 * axis (quantize.c), FP16-accumulating kernel (accum.c). */
typedef enum ld_op_kind {
    LD_OPK_OTHER = 0,
    LD_OPK_CONV,             /* Conv: weight (M, C/g, k...), channels on output axis 1 */
    LD_OPK_CONV_TRANSPOSE,   /* ConvTranspose: per-tensor scales only */
    LD_OPK_GEMM,             /* Gemm: transA/transB, alpha, beta * C */
    LD_OPK_MATMUL,           /* MatMul: weight (..., K, N), channels on the last axis */
    LD_OPK_REDUCE,           /* ReduceSum/Mean/SumSquare/L2 */
    LD_OPK_GLOBAL_AVG_POOL,
    LD_OPK_LAYER_NORM,
    LD_OPK_QUANTIZE,         /* QuantizeLinear (ONNX, com.microsoft): x, scale, zero point */
    LD_OPK_DEQUANTIZE,       /* DequantizeLinear: q, scale, zero point */
    LD_OPK_COUNT
} ld_op_kind;

/* FLOPs of one run of node n given input 0 (x), input 1 (w) and output 0 (y), any of them NULL
 * when unknown; y is a tensor. */
typedef double (*ld_flops_fn)(const ld_node *n, const ld_tensor *x, const ld_tensor *w, const ld_tensor *y);

typedef struct ld_op_traits {
    const char *domain;      /* "" = ai.onnx */
    const char *name;        /* NULL only in the "no traits" entry */
    uint32_t flags;          /* LD_OPT_* */
    ld_op_kind kind;
    uint8_t qgemm_inputs;    /* LD_OPT_QGEMM: bit i = input i is quantized and calibrated
                                (quantize.c: input 0 activations, input 1 weights, per output
                                channel when constant) */
    ld_flops_fn flops;       /* NULL: one FLOP per output element */
} ld_op_traits;

/* Traits of (domain, name); never NULL (an op without traits gets an entry with no flags). */
const ld_op_traits *ld_op_traits_find(const char *domain, const char *name);
/* n->traits, or the lookup when the node was never planned. */
const ld_op_traits *ld_node_traits(const ld_node *n);
static inline bool ld_node_has(const ld_node *n, uint32_t opt) { return (ld_node_traits(n)->flags & opt) != 0; }
/* FLOPs of node n (see ld_flops_fn); y must be a tensor. */
double ld_op_flops(const ld_node *n, const ld_tensor *x, const ld_tensor *w, const ld_tensor *y);
/* The table, for tests and `inspect`-like listings. */
const ld_op_traits *ld_op_traits_table(int *count);
/* Name of an ld_op_kind ("Conv", "Gemm", ...). */
const char *ld_op_kind_name(ld_op_kind k);

/* ---- helpers for kernels (op_util.c) ---- */

/* Return LD_DYNAMIC from shape() when input i's data is not available yet. */
#define LD_NEED_DATA(k, i) do { if ((i) < (k)->nin && (k)->in[i] && !(k)->in[i]->data) return LD_DYNAMIC; } while (0)
/* Input i present (optional inputs may be absent). */
#define LD_HAS_IN(k, i) ((i) < (k)->nin && (k)->in[i] != NULL && (k)->in[i]->kind != LD_KIND_NONE)
#define LD_HAS_OUT(k, i) ((i) < (k)->nout && (k)->out[i] != NULL)

/* Numpy broadcast of two shapes; error if incompatible. */
ld_status ld_broadcast_dims(int na, const int64_t *a, int nb, const int64_t *b,
                            int *nout, int64_t *out);
/* Normalise a possibly negative axis for the given rank; error if out of range. */
ld_status ld_axis_norm(int64_t axis, int rank, int *out);
/* Strides (in elements) of a row-major shape. */
void ld_strides(int ndim, const int64_t *dims, int64_t *strides);
/* Strides of `in` broadcast to an output shape of rank ndim (0 for broadcast dims). */
void ld_broadcast_strides(const ld_tensor *in, int ndim, const int64_t *odims, int64_t *strides);
/* Check input i's dtype is in mask, else an LD_ERR_UNSUPPORTED error naming it. */
ld_status ld_check_dtype(ld_kctx *k, int i, uint32_t mask);
/* Read an int64/int32 tensor into a small array (count elements). */
ld_status ld_tensor_to_i64(const ld_tensor *t, int64_t *out, int max, int *count);

#endif
