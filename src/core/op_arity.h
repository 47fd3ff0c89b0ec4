/*
** op_arity.h — what the ONNX schema of an op version says about its inputs and outputs
** (table generated into op_arity.c by tools/gen_op_arity.py): count bounds, optional inputs,
** and per formal input its name, allowed tensor element types and type-constraint group.
*/
#ifndef LD_OP_ARITY_H
#define LD_OP_ARITY_H

typedef struct ld_op_input {
    const char *name;
    unsigned types;          /* bit t: a tensor of ONNX element type t is allowed; 0 = unchecked */
    int group;               /* inputs with the same group >= 0 share a type letter: equal dtypes */
} ld_op_input;

typedef struct ld_op_arity {
    const char *domain, *name;
    int since, min_in, max_in, min_out, max_out;   /* max -1 = unbounded */
    unsigned optional;                             /* bit i: formal input i is optional */
    int last_variadic;                             /* the last formal input repeats */
    int nformal;                                   /* formal inputs described (0: types unknown) */
    const ld_op_input *formal;
} ld_op_arity;

extern const ld_op_arity ld_op_arity_table[];
extern const int ld_op_arity_count;

/* Highest opsets the generating python3-onnx 1.12 knows: ai.onnx 17, ai.onnx.ml 3. A node of a
 * newer opset may run a newer op version than the table's row, which may allow more types. */
#define LD_ARITY_MAX_OPSET 17
#define LD_ARITY_MAX_ML_OPSET 3

#endif
