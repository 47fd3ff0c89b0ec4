/*
** ops_control.h — private helpers of the control-flow family (ops_control.c), shared with
** ops_control_scan.c.
*/
#ifndef LD_OPS_CONTROL_H
#define LD_OPS_CONTROL_H

#include "ld_exec.h"

/* Run body with positional inputs (NULL entries are passed as empty optionals); res[0..nres)
 * receive its first nres outputs, moved into the given (empty) tensors, which the caller clears. */
ld_status ld_control_run_body(ld_kctx *k, ld_graph *body, ld_tensor **ins, int nin, ld_tensor *res,
                              int nres);
/* Declared dtype and dims of body output o, unknown dims as 0 (for outputs of zero iterations).
 * Rank -1 when undeclared. */
void ld_control_decl_shape(const ld_graph *body, int o, ld_dtype *dt, int *ndim, int64_t *dims);
/* Subgraph attribute name of node, or a clear error. */
ld_status ld_control_body(ld_kctx *k, const char *name, ld_graph **body);
/* Move src into *dst when dst is non-NULL (dst must be empty); src is left zeroed either way. */
void ld_control_move(ld_tensor *dst, ld_tensor *src);

ld_status ld_control_scan8(ld_kctx *k);
ld_status ld_control_scan9(ld_kctx *k);

#endif
