/*
** ld_exec.h — the executor: one loop over the planned nodes.
**
** ld_exec holds the runtime value of every value id of one graph. Inputs are borrowed from
** the caller; constants are borrowed from the graph; node outputs are owned and freed after
** their last use unless keep-all is set. The after-node hook (if set) sees each node's outputs
** before anything is freed — the hook used by --mark-all and by calibration.
**
** The executor is the only owner of values and buffers: run, the comparison's reference and
** target sides, autopin's re-runs and the live browser all go through the functions below
** (step a node, put/take/borrow/drop a value, last-use freeing, run from node k). The struct
** is visible only so callers can keep one on the stack: its fields are private to exec.c.
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

struct ld_exec {             /* private: use the functions below */
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
/* Check that every runtime input is bound, then run every node (ld_exec_run_from(ex, 0)). */
ld_status ld_exec_run(ld_exec *ex);
/* Run nodes k.. in order (folded nodes skipped) on the values the executor holds. */
ld_status ld_exec_run_from(ld_exec *ex, int k);
/* Run node i on the executor's own values: gather inputs, run (view move, runner or
 * ld_node_run), store the outputs as owned values, call the hook, then free what no later
 * node reads (unless keep-all). Errors name the node. Any number of inputs and outputs. */
ld_status ld_exec_step(ld_exec *ex, int i);
/* Free the values no node after node i reads: inputs of node i read last there and outputs
 * nobody reads (graph inputs and outputs stay). Nothing happens in keep-all mode. A value
 * that heir (if given) borrows from ex is handed over to heir instead of being freed. */
void ld_exec_free_dead(ld_exec *ex, int i, ld_exec *heir);

/* ---- settings ---- */
ld_graph *ld_exec_graph(const ld_exec *ex);
void ld_exec_set_keep_all(ld_exec *ex, bool keep);   /* keep every value (no last-use freeing) */
void ld_exec_set_hook(ld_exec *ex, ld_node_hook fn, void *user);
void ld_exec_set_runner(ld_exec *ex, ld_node_runner fn, void *user);
void ld_exec_set_timing(ld_exec *ex, double *node_seconds);   /* nnodes entries, accumulated */

/* ---- values by value id ---- */
/* Borrow the value of v (NULL if not available); the executor keeps ownership. */
ld_tensor *ld_exec_value(const ld_exec *ex, int v);
bool ld_exec_owns(const ld_exec *ex, int v);
/* Make t the value of v, freeing the previous value if owned; own: the executor frees t. */
void ld_exec_put(ld_exec *ex, int v, ld_tensor *t, bool own);
/* Take v's value with its ownership (NULL if the executor does not own it): the slot goes
 * back to the graph's constant (or NULL) and the caller frees the tensor. */
ld_tensor *ld_exec_take(ld_exec *ex, int v);
/* Free v's value if owned; the slot goes back to the graph's constant (or NULL). */
void ld_exec_drop(ld_exec *ex, int v);
/* Free the computed values (keeps inputs bindings). */
void ld_exec_reset(ld_exec *ex);
/* Release everything; also safe on a zeroed ld_exec that was never initialised. */
void ld_exec_destroy(ld_exec *ex);

/* Run one node: shape, allocate, compute (with f32 widening when the op asks for it). The
 * inputs/outputs are given explicitly so the comparison layer can run a node on other data.
 * outputs[i] must be empty tensors (or NULL for unused outputs). */
ld_status ld_node_run(ld_exec *ex, const ld_node *node, ld_tensor **inputs, ld_tensor **outputs);
/* Plan-time shape inference for one node: shape() with k->plan set, inputs' data may be NULL
** (plan.c; LD_DYNAMIC when a value it needs is unknown). */
ld_status ld_node_infer(const ld_node *node, ld_tensor **inputs, ld_tensor **outputs);
/* Each tensor input against the type constraints of the node's op version (the schema row
 * planning bound); LD_ERR_DATA naming node, op, input, the type found and the types allowed.
 * ld_node_run and ld_node_infer call it before any kernel sees the inputs. */
ld_status ld_node_check_types(const ld_node *node, ld_tensor *const *inputs);

/* Run a subgraph (If/Loop/Scan bodies) with positional inputs; outputs are filled (owned by
 * the caller, who clears them). Outer-scope names resolve through ex. */
ld_status ld_exec_subgraph(ld_exec *ex, ld_graph *sub, ld_tensor **inputs, int nin,
                           ld_tensor **outputs, int nout);

#endif
