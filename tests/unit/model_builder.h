/*
** model_builder.h — build small ONNX models in memory for unit tests (protobuf-c), so tests
** can plant exactly the graph they need: cycles, dangling names, truncated bytes, overflows.
** Header-only; every allocation lives until mb_free().
*/
#ifndef LD_MODEL_BUILDER_H
#define LD_MODEL_BUILDER_H

#include <stdlib.h>
#include <string.h>
#include "onnx.pb-c.h"

typedef struct mb {
    Onnx__ModelProto model;
    Onnx__GraphProto graph;
    Onnx__OperatorSetIdProto opset, *opsets[1];
    void *allocs[4096];
    int nallocs;
} mb;

static inline void *mb_alloc(mb *b, size_t n) {
    void *p = calloc(1, n);
    b->allocs[b->nallocs++] = p;
    return p;
}

static inline char *mb_str(mb *b, const char *s) {
    char *p = mb_alloc(b, strlen(s) + 1);
    strcpy(p, s);
    return p;
}

static inline void mb_init(mb *b, int opset) {
    memset(b, 0, sizeof *b);
    onnx__model_proto__init(&b->model);
    onnx__graph_proto__init(&b->graph);
    onnx__operator_set_id_proto__init(&b->opset);
    b->opset.domain = mb_str(b, "");
    b->opset.has_version = 1;
    b->opset.version = opset;
    b->opsets[0] = &b->opset;
    b->model.has_ir_version = 1;
    b->model.ir_version = 8;
    b->model.n_opset_import = 1;
    b->model.opset_import = b->opsets;
    b->model.producer_name = mb_str(b, "layerdiff-tests");
    b->model.graph = &b->graph;
    b->graph.name = mb_str(b, "g");
}

#define MB_PUSH(b, arr, n, item) do { \
    void **na = mb_alloc(b, sizeof(void *) * ((n) + 1)); \
    if (n) memcpy(na, arr, sizeof(void *) * (n)); \
    na[n] = (item); (arr) = (void *)na; (n)++; } while (0)

/* Value info with a float tensor type of the given dims (-1 = symbolic "N"). */
static inline Onnx__ValueInfoProto *mb_vi(mb *b, const char *name, int dtype, int ndim, const int64_t *dims) {
    Onnx__ValueInfoProto *v = mb_alloc(b, sizeof *v);
    onnx__value_info_proto__init(v);
    v->name = mb_str(b, name);
    Onnx__TypeProto *t = mb_alloc(b, sizeof *t);
    onnx__type_proto__init(t);
    Onnx__TypeProto__Tensor *tt = mb_alloc(b, sizeof *tt);
    onnx__type_proto__tensor__init(tt);
    tt->has_elem_type = 1;
    tt->elem_type = dtype;
    Onnx__TensorShapeProto *sh = mb_alloc(b, sizeof *sh);
    onnx__tensor_shape_proto__init(sh);
    for (int i = 0; i < ndim; i++) {
        Onnx__TensorShapeProto__Dimension *d = mb_alloc(b, sizeof *d);
        onnx__tensor_shape_proto__dimension__init(d);
        if (dims[i] >= 0) { d->value_case = ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_VALUE; d->dim_value = dims[i]; }
        else { d->value_case = ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_PARAM; d->dim_param = mb_str(b, "N"); }
        MB_PUSH(b, sh->dim, sh->n_dim, d);
    }
    tt->shape = sh;
    t->value_case = ONNX__TYPE_PROTO__VALUE_TENSOR_TYPE;
    t->tensor_type = tt;
    v->type = t;
    return v;
}

static inline void mb_input(mb *b, const char *name, int ndim, const int64_t *dims) {
    MB_PUSH(b, b->graph.input, b->graph.n_input, mb_vi(b, name, 1, ndim, dims));
}

static inline void mb_output(mb *b, const char *name, int ndim, const int64_t *dims) {
    MB_PUSH(b, b->graph.output, b->graph.n_output, mb_vi(b, name, 1, ndim, dims));
}

/* float32 initializer with raw_data */
static inline Onnx__TensorProto *mb_init_f32(mb *b, const char *name, int ndim, const int64_t *dims, const float *vals) {
    Onnx__TensorProto *t = mb_alloc(b, sizeof *t);
    onnx__tensor_proto__init(t);
    t->name = mb_str(b, name);
    t->has_data_type = 1;
    t->data_type = 1;
    int64_t n = 1;
    t->dims = mb_alloc(b, sizeof(int64_t) * (ndim + 1));
    for (int i = 0; i < ndim; i++) { t->dims[i] = dims[i]; n *= dims[i]; }
    t->n_dims = ndim;
    t->has_raw_data = 1;
    t->raw_data.len = n * 4;
    t->raw_data.data = mb_alloc(b, n * 4 + 1);
    memcpy(t->raw_data.data, vals, n * 4);
    MB_PUSH(b, b->graph.initializer, b->graph.n_initializer, t);
    return t;
}

static inline Onnx__NodeProto *mb_node(mb *b, const char *op, const char *name, int nin, const char **ins,
                                int nout, const char **outs) {
    Onnx__NodeProto *n = mb_alloc(b, sizeof *n);
    onnx__node_proto__init(n);
    n->op_type = mb_str(b, op);
    n->name = mb_str(b, name);
    n->input = mb_alloc(b, sizeof(char *) * (nin + 1));
    for (int i = 0; i < nin; i++) n->input[i] = mb_str(b, ins[i]);
    n->n_input = nin;
    n->output = mb_alloc(b, sizeof(char *) * (nout + 1));
    for (int i = 0; i < nout; i++) n->output[i] = mb_str(b, outs[i]);
    n->n_output = nout;
    MB_PUSH(b, b->graph.node, b->graph.n_node, n);
    return n;
}

static inline void mb_attr_int(mb *b, Onnx__NodeProto *n, const char *name, int64_t v) {
    Onnx__AttributeProto *a = mb_alloc(b, sizeof *a);
    onnx__attribute_proto__init(a);
    a->name = mb_str(b, name);
    a->has_type = 1;
    a->type = ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__INT;
    a->has_i = 1;
    a->i = v;
    MB_PUSH(b, n->attribute, n->n_attribute, a);
}

static inline void mb_attr_float(mb *b, Onnx__NodeProto *n, const char *name, float v) {
    Onnx__AttributeProto *a = mb_alloc(b, sizeof *a);
    onnx__attribute_proto__init(a);
    a->name = mb_str(b, name);
    a->has_type = 1;
    a->type = ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__FLOAT;
    a->has_f = 1;
    a->f = v;
    MB_PUSH(b, n->attribute, n->n_attribute, a);
}

/* Serialise; caller frees *buf. */
static inline size_t mb_pack(mb *b, uint8_t **buf) {
    size_t n = onnx__model_proto__get_packed_size(&b->model);
    *buf = malloc(n + 1);
    onnx__model_proto__pack(&b->model, *buf);
    return n;
}

static inline void mb_free(mb *b) {
    for (int i = 0; i < b->nallocs; i++) free(b->allocs[i]);
    b->nallocs = 0;
}

#endif
