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
