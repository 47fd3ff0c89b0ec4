/*
** ld_exec.h — the executor: one loop over the planned nodes.
**
** ld_exec holds the runtime value of every value id of one graph. Inputs are borrowed from
** the caller; constants are borrowed from the graph; node outputs are owned and freed after
** their last use unless keep_all is set. after_node (if set) sees each node's outputs before
** anything is freed — the hook used by --mark-all and by the comparison layer.
**
** Layer: core (see tests/tools/check_layers.sh).
*/
#ifndef LD_EXEC_H
#define LD_EXEC_H

#include "ld_op.h"

typedef struct ld_exec ld_exec;
typedef ld_status (*ld_node_hook)(ld_exec *ex, int node_index, void *user);
/* Replaces ld_node_run for every node this executor runs; inherited by subgraph executors
 * (the comparison uses it to run If/Loop/Scan bodies in the target precision). */
typedef ld_status (*ld_node_runner)(ld_exec *ex, const ld_node *node, ld_tensor **in,
                                    ld_tensor **out, void *user);

struct ld_exec {
    ld_graph *g;
    ld_tensor **vals;        /* current value per value id (NULL = not available) */
    bool *owned;             /* vals[i] allocated by the executor */
    bool keep_all;           /* keep every intermediate (mark all) */
    ld_node_hook after_node;
    void *hook_user;
    struct ld_exec *parent;  /* outer scope, for subgraphs */
    double *node_seconds;    /* optional per-node time accumulation (nnodes entries) */
    ld_node_runner runner;   /* optional: runs each node instead of ld_node_run */
    void *runner_user;
};

ld_status ld_exec_init(ld_exec *ex, ld_graph *g, ld_exec *parent);
/* Bind a runtime input by name (borrowed; must outlive the run). Checks dtype and rank
 * against the declaration and reports wrong names, dtypes and shapes. */
ld_status ld_exec_set_input(ld_exec *ex, const char *name, ld_tensor *t);
ld_status ld_exec_run(ld_exec *ex);
/* Value of value id v (NULL if not available). */
ld_tensor *ld_exec_value(ld_exec *ex, int v);
/* Free the computed values (keeps inputs bindings). */
void ld_exec_reset(ld_exec *ex);
void ld_exec_destroy(ld_exec *ex);

/* Run one node: shape, allocate, compute (with f32 widening when the op asks for it). The
 * inputs/outputs are given explicitly so the comparison layer can run a node on other data.
 * outputs[i] must be empty tensors (or NULL for unused outputs). */
ld_status ld_node_run(ld_exec *ex, const ld_node *node, ld_tensor **inputs, ld_tensor **outputs);
/* Plan-time shape inference for one node: shape() with k->plan set, inputs' data may be NULL
** (plan.c; LD_DYNAMIC when a value it needs is unknown). */
ld_status ld_node_infer(const ld_node *node, ld_tensor **inputs, ld_tensor **outputs);

/* Run a subgraph (If/Loop/Scan bodies) with positional inputs; outputs are filled (owned by
 * the caller, who clears them). Outer-scope names resolve through ex. */
ld_status ld_exec_subgraph(ld_exec *ex, ld_graph *sub, ld_tensor **inputs, int nin,
                           ld_tensor **outputs, int nout);

#endif
