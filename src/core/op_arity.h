/*
** op_arity.h — input/output count bounds per ONNX op version (table in op_arity.c).
*/
#ifndef LD_OP_ARITY_H
#define LD_OP_ARITY_H

typedef struct ld_op_arity {
    const char *domain, *name;
    int since, min_in, max_in, min_out, max_out;   /* max -1 = unbounded */
    unsigned optional;                             /* bit i: formal input i is optional */
} ld_op_arity;

extern const ld_op_arity ld_op_arity_table[];
extern const int ld_op_arity_count;

/* Highest ai.onnx opset the table knows (python3-onnx 1.12 -> 17). */
#define LD_ARITY_MAX_OPSET 17

#endif
