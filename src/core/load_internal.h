/*
** load_internal.h — shared between the loader files (load.c, load_tensor.c, plan.c).
*/
#ifndef LD_LOAD_INTERNAL_H
#define LD_LOAD_INTERNAL_H

#include "ld_graph.h"
#include "onnx.pb-c.h"

/* Refuse a ModelProto whose messages nest deeper than --max-depth allows, before protobuf-c
 * recurses into them (load_depth.c). */
ld_status ld_proto_check_depth(const uint8_t *buf, size_t len);
/* Refuse an unpacked message (ModelProto, TensorProto) holding a single string longer than
 * --max-string-bytes: names, attribute strings, string tensor elements... (load_strings.c). */
ld_status ld_proto_check_strings(const ProtobufCMessage *m);
ld_status ld_tensor_from_proto(ld_model *m, const Onnx__TensorProto *tp, ld_tensor *t);

/* Free what a node owns (names, value lists, attributes and their subgraphs) and zero it. */
void ld_node_free_fields(ld_node *n);

#endif
