/*
** ld_graph.h — layerdiff's own in-memory model, built from the ONNX protobuf by load.c.
**
** A graph is a list of nodes (in topological order once planned) over a table of values.
** Nodes refer to values by index; -1 marks an absent optional input or unused output.
** Constants (initializers, Constant nodes, and subgraphs depending only on them) live in
** value.const_val; folded nodes are skipped at run time.
**
** Layer: core (see tests/tools/check_layers.sh).
*/
#ifndef LD_GRAPH_H
#define LD_GRAPH_H

#include "ld_tensor.h"

struct ld_graph;
struct ld_op_def;

/* ONNX AttributeProto.AttributeType numbers. */
typedef enum ld_attr_type {
    LD_ATTR_UNDEFINED = 0, LD_ATTR_FLOAT = 1, LD_ATTR_INT = 2, LD_ATTR_STRING = 3,
    LD_ATTR_TENSOR = 4, LD_ATTR_GRAPH = 5, LD_ATTR_FLOATS = 6, LD_ATTR_INTS = 7,
    LD_ATTR_STRINGS = 8, LD_ATTR_TENSORS = 9, LD_ATTR_GRAPHS = 10,
    LD_ATTR_SPARSE_TENSOR = 11, LD_ATTR_SPARSE_TENSORS = 12, LD_ATTR_TYPE_PROTO = 13,
    LD_ATTR_TYPE_PROTOS = 14
} ld_attr_type;

typedef struct ld_attr {
    char *name;
    ld_attr_type type;
    float f;
    int64_t i;
    char *s;                 /* NUL-terminated copy; s_len bytes (may contain NUL) */
    size_t s_len;
    ld_tensor *t;
    struct ld_graph *g;
    int n;                   /* element count of the list kinds below */
    float *floats;
    int64_t *ints;
    char **strings;
    ld_tensor **tensors;
    struct ld_graph **graphs;
    ld_dtype tp_elem;        /* TYPE_PROTO: tensor elem type (for e.g. SequenceEmpty dtype) */
} ld_attr;

/* What a kernel keeps with its node between runs (Conv: its constant weights packed for the
 * GEMM), set by the kernel on first use (with an atomic compare-and-swap) and released with the
 * graph through its own release function. It only caches: it never changes any number. */
typedef struct ld_kstate {
    void (*release)(struct ld_kstate *s);
} ld_kstate;

typedef struct ld_node {
    char *name;              /* never NULL: "" in the model becomes "<op_type>_<index>" */
    char *op_type;
    char *domain;            /* "" for ai.onnx ("ai.onnx" is normalised to "") */
    int nin, nout;
    int *in, *out;           /* value ids; -1 = absent */
    int nimplicit;           /* outer-scope values read by this node's subgraphs */
    int *implicit;
    int nattr;
    ld_attr *attrs;
    int opset;               /* model's opset version for this node's domain */
    const struct ld_op_def *op;
    const struct ld_op_traits *traits;  /* set with op at plan time (ld_node_traits) */
    const struct ld_op_arity *schema;   /* schema row of its op version (plan time), or NULL */
    bool folded;             /* computed at load; skipped at run */
    struct ld_kstate *kstate;   /* kernel-private state kept between runs, or NULL */
    int orig_index;          /* position in the file */
    bool unnamed;            /* the file gives no name: `name` is layerdiff's "<op_type>_<index>" */
    int inlined;             /* > 0: moved here from the taken branch of an If with a constant
                                condition, this many If levels deep; `name` is then the path
                                "<If name>/<branch>/<node name>" (inline_if.c) */
    bool chosen;             /* inlined because the caller knew the branch (ld_branch_choice), not
                                because the condition is a constant */
} ld_node;

typedef struct ld_value {
    char *name;
    int producer;            /* node index (after planning) or -1 */
    int outer;               /* captured from the parent graph: parent's value id, else -1 */
    bool is_input, is_output, is_init;
    ld_tensor *const_val;    /* initializer or folded constant (owned) */
    /* Declared type from graph input/output/value_info (has_decl). Symbolic dims have
     * decl_dims[i] = -1 and decl_sym[i] = name (or NULL if unnamed). */
    bool has_decl;
    ld_kind decl_kind;
    ld_dtype decl_dtype;
    int decl_ndim;           /* -1 = rank unknown */
    int64_t decl_dims[LD_MAX_DIMS];
    char *decl_sym[LD_MAX_DIMS];
    /* Plan-time inferred dtype/shape (info.data NULL unless known small constant). */
    ld_tensor info;
    bool info_known;
    int last_use;            /* index of the last node reading this value; -1 if none */
} ld_value;

typedef struct ld_graph {
    char *name;
    ld_node *nodes;
    int nnodes;
    ld_value *values;
    int nvalues;
    int *inputs;             /* runtime inputs (graph inputs that are not initializers) */
    int ninputs;
    int *outputs;
    int noutputs;
    struct ld_graph *parent;
    struct ld_model *model;
} ld_graph;

typedef struct ld_opset { char *domain; int64_t version; } ld_opset;

typedef struct ld_mapping { void *addr; size_t len; uint64_t dev, ino; } ld_mapping;   /* dev/ino: the file */

typedef struct ld_model {
    char *path;              /* as given */
    char *dir;               /* folder for external data */
    int64_t ir_version;
    char *producer_name, *producer_version, *domain, *doc;
    int64_t model_version;
    ld_opset *opsets;
    int nopsets;
    ld_graph *graph;
    ld_mapping *maps;        /* mmap'ed external data files */
    int nmaps;
    bool lenient;            /* loaded with LD_LOAD_LENIENT: nodes without a kernel have op NULL */
    /* while loading only (ld_model_load_opts): Ifs of the main graph to inline whatever their
     * condition, because the caller knows the branch every run takes; NULL afterwards */
    const struct ld_branch_choice *choices;
    int nchoices;
} ld_model;

/* "Node `node` of the main graph (an If) takes then_branch (then = true) or else_branch on
 * every run": the loader inlines that branch like one with a constant condition. */
typedef struct ld_branch_choice { const char *node; bool then; } ld_branch_choice;

enum {
    LD_LOAD_LENIENT = 1u << 0,   /* keep going past unsupported nodes (for inspect) */
    LD_LOAD_KEEP_BRANCHES = 1u << 1,   /* keep Ifs with a constant condition as they are */
};

/* Load and plan a model: parse, build the graph, resolve outer names, topologically sort,
 * pick a kernel per node, fold constant subgraphs. On error the message names the node. */
ld_status ld_model_load(const char *path, ld_model **out);
ld_status ld_model_load_ex(const char *path, unsigned flags, ld_model **out);
/* Same, inlining the Ifs named in choices[] (see ld_branch_choice). */
ld_status ld_model_load_choices(const char *path, unsigned flags, const ld_branch_choice *choices, int nchoices,
                                ld_model **out);
/* Same, from memory (path is used for messages and external data). */
ld_status ld_model_load_buffer(const uint8_t *buf, size_t len, const char *path, ld_model **out);
void ld_model_free(ld_model *m);

int64_t ld_model_opset(const ld_model *m, const char *domain);   /* 0 if not imported */
int ld_graph_find_value(const ld_graph *g, const char *name);    /* -1 if absent */
/* The model's main output: the first graph output computed at run time (not an initializer, a
 * graph input or a value folded at load), else output 0; -1 without outputs. The classification
 * summary, autopin's top-1 goal and the classifier default goals all read this one. */
int ld_graph_main_output(const ld_graph *g);

/* Read an ONNX TensorProto file (.pb) into a tensor. */
ld_status ld_tensor_read_pb(const char *path, ld_tensor *out, char **name_out);
/* Decode a serialized TensorProto from memory. */
ld_status ld_tensor_from_pb_buffer(const uint8_t *buf, size_t len, ld_tensor *out, char **name_out);

/* Attribute access (NULL / default when absent). */
const ld_attr *ld_node_attr(const ld_node *n, const char *name);
int64_t ld_attr_int(const ld_node *n, const char *name, int64_t def);
float ld_attr_float(const ld_node *n, const char *name, float def);
const char *ld_attr_str(const ld_node *n, const char *name, const char *def);
const int64_t *ld_attr_ints(const ld_node *n, const char *name, int *count);
const float *ld_attr_floats(const ld_node *n, const char *name, int *count);
const ld_tensor *ld_attr_tensor(const ld_node *n, const char *name);
struct ld_graph *ld_attr_graph(const ld_node *n, const char *name);

/* Planning pieces (plan.c). */
ld_status ld_graph_toposort(ld_graph *g);
ld_status ld_graph_bind_kernels(ld_graph *g);
ld_status ld_graph_fold_constants(ld_graph *g);
void ld_graph_compute_last_use(ld_graph *g);
/* Replace every If whose condition is a constant by the nodes of the branch it takes (names
 * prefixed "<If name>/<branch>/", values likewise), in g and its subgraphs; *count gets the
 * number of Ifs replaced (inline_if.c). The caller re-plans (toposort, kernels, folding). */
ld_status ld_graph_inline_branches(ld_graph *g, int *count);
/* Infer dtype/shape of every value (value.info) from the given input shapes (tensors whose
 * data may be NULL; NULL entry = use declared shape with symbolic dims = default_dim). */
ld_status ld_graph_infer_shapes(ld_graph *g, ld_tensor **inputs, int64_t default_dim);

#endif
