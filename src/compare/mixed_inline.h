/*
** mixed_inline.h — private to the mixed-model writer (mixed_model.c, mixed_inline.c): inline
** on the protobuf the Ifs the planner inlined, and match protobuf nodes with planned nodes.
*/
#ifndef LD_MIXED_INLINE_H
#define LD_MIXED_INLINE_H

#include "load_internal.h"

/* Inline in gp (the file's main graph) every If the planner inlined because its condition is
 * a constant, then match: *byfile (gp->n_node entries) gets each protobuf node's planned node
 * (NULL if none), *plan_index its index. Refuses branches inlined because every compared run
 * took them. The caller frees both arrays. */
/* Refuse a graph holding branches inlined because every compared run took them. */
ld_status ld_mixed_check_chosen(const ld_graph *g);
ld_status ld_mixed_flatten(Onnx__GraphProto *gp, const ld_graph *g, const ld_node ***byfile, int **plan_index);

#endif
