/*
** load_internal.h — shared between the loader files (load.c, load_tensor.c, plan.c).
*/
#ifndef LD_LOAD_INTERNAL_H
#define LD_LOAD_INTERNAL_H

#include "ld_graph.h"
#include "onnx.pb-c.h"

ld_status ld_tensor_from_proto(ld_model *m, const Onnx__TensorProto *tp, ld_tensor *t);

#endif
