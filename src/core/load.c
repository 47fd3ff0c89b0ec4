/*
** load.c — ONNX ModelProto (protobuf-c) -> ld_model / ld_graph.
**
** Copies everything it keeps out of the protobuf message (except external data, which stays
** mmap'ed), resolves every input name to a value of this graph or, for subgraphs, of an
** enclosing graph (a captured value), then hands the graph to plan.c.
*/
#include "load_internal.h"
#include "ld_op.h"
#include "ld_limits.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

/* ---- value name table: open addressing over value ids ---- */

typedef struct name_map { int *slot; int cap; } name_map;

static uint64_t hash_str(const char *s) {
    uint64_t h = 1469598103934665603ull;
    while (*s) h = (h ^ (uint8_t)*s++) * 1099511628211ull;
    return h;
}

typedef struct build_ctx {
    ld_model *m;
    ld_graph *g;
    name_map map;
    int values_cap;          /* allocated length of g->values */
    struct build_ctx *parent;
} build_ctx;

static int map_find(const build_ctx *b, const char *name) {
    if (!b->map.cap) return -1;
    for (uint64_t i = hash_str(name) & (b->map.cap - 1);; i = (i + 1) & (b->map.cap - 1)) {
        int v = b->map.slot[i];
        if (v < 0) return -1;
        if (!strcmp(b->g->values[v].name, name)) return v;
    }
}

static ld_status map_grow(build_ctx *b) {
    int cap = b->map.cap ? b->map.cap * 2 : 64;
    int *slot = malloc(sizeof(int) * cap);
    if (!slot) return ld_oom();
    for (int i = 0; i < cap; i++) slot[i] = -1;
    free(b->map.slot);
    b->map.slot = slot;
    b->map.cap = cap;
    for (int v = 0; v < b->g->nvalues; v++) {
        uint64_t i = hash_str(b->g->values[v].name) & (cap - 1);
        while (slot[i] >= 0) i = (i + 1) & (cap - 1);
        slot[i] = v;
    }
    return LD_OK;
}

/* Add a value named `name`; returns its id in *id. */
static ld_status value_add(build_ctx *b, const char *name, int *id) {
    ld_graph *g = b->g;
    if ((g->nvalues + 1) * 2 > b->map.cap) LD_TRY(map_grow(b));
    if (g->nvalues + 1 > b->values_cap) {   /* doubling: growing one by one copies n^2 bytes */
        int cap = b->values_cap ? 2 * b->values_cap : 64;
        ld_value *nv = realloc(g->values, sizeof *nv * cap);
        if (!nv) return ld_oom();
        g->values = nv;
        b->values_cap = cap;
    }
    ld_value *v = &g->values[g->nvalues];
    memset(v, 0, sizeof *v);
    v->name = ld_strdup(name);
    if (!v->name) return ld_oom();
    v->producer = -1;
    v->outer = -1;
    v->last_use = -1;
    v->decl_ndim = -1;
    *id = g->nvalues++;
    uint64_t i = hash_str(name) & (b->map.cap - 1);
    while (b->map.slot[i] >= 0) i = (i + 1) & (b->map.cap - 1);
    b->map.slot[i] = *id;
    return LD_OK;
}

/* Resolve a name in this graph, or capture it from an enclosing one. -1 if nowhere. */
static ld_status resolve_name(build_ctx *b, const char *name, int *id) {
    int v = map_find(b, name);
    if (v >= 0) { *id = v; return LD_OK; }
    if (!b->parent) { *id = -1; return LD_OK; }
    int pv;
    LD_TRY(resolve_name(b->parent, name, &pv));
    if (pv < 0) { *id = -1; return LD_OK; }
    LD_TRY(value_add(b, name, id));
    b->g->values[*id].outer = pv;
    return LD_OK;
}

/* ---- types ---- */

static void read_type(ld_value *v, const Onnx__TypeProto *tp) {
    if (!tp) return;
    const Onnx__TypeProto *t = tp;
    /* a value may be declared twice (a graph output that is a graph input): the last wins */
    for (int i = 0; i < LD_MAX_DIMS; i++) { free(v->decl_sym[i]); v->decl_sym[i] = NULL; }
    v->decl_kind = LD_KIND_TENSOR;
    if (t->value_case == ONNX__TYPE_PROTO__VALUE_OPTIONAL_TYPE && t->optional_type)
        t = t->optional_type->elem_type;
    if (t && t->value_case == ONNX__TYPE_PROTO__VALUE_SEQUENCE_TYPE) {
        v->has_decl = true;
        v->decl_kind = LD_KIND_SEQUENCE;
        return;
    }
    if (!t || t->value_case != ONNX__TYPE_PROTO__VALUE_TENSOR_TYPE || !t->tensor_type) return;
    const Onnx__TypeProto__Tensor *tt = t->tensor_type;
    v->has_decl = true;
    v->decl_dtype = tt->has_elem_type && (unsigned)tt->elem_type < LD_DTYPE_COUNT
                        ? (ld_dtype)tt->elem_type : LD_UNDEFINED;
    v->decl_ndim = -1;
    if (tt->shape && tt->shape->n_dim <= LD_MAX_DIMS) {
        v->decl_ndim = (int)tt->shape->n_dim;
        for (size_t i = 0; i < tt->shape->n_dim; i++) {
            const Onnx__TensorShapeProto__Dimension *d = tt->shape->dim[i];
            v->decl_dims[i] = -1;
            if (d->value_case == ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_VALUE && d->dim_value >= 0)
                v->decl_dims[i] = d->dim_value;
            else if (d->value_case == ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_PARAM && d->dim_param)
                v->decl_sym[i] = ld_strdup(d->dim_param);
        }
    }
}

/* ---- attributes ---- */

static ld_status build_graph(build_ctx *parent, ld_model *m, const Onnx__GraphProto *gp,
                             ld_graph **out);

static ld_status copy_attr(build_ctx *b, const Onnx__AttributeProto *ap, ld_attr *a) {
    memset(a, 0, sizeof *a);
    a->name = ld_strdup(ap->name ? ap->name : "");
    if (ap->ref_attr_name && ap->ref_attr_name[0])
        return ld_error(LD_ERR_UNSUPPORTED, "attribute '%s' refers to a function attribute", a->name);
    a->type = ap->has_type ? (ld_attr_type)ap->type : LD_ATTR_UNDEFINED;
    if (a->type == LD_ATTR_UNDEFINED) {   /* IR < 3: infer from the field that is set */
        if (ap->g) a->type = LD_ATTR_GRAPH;
        else if (ap->t) a->type = LD_ATTR_TENSOR;
        else if (ap->has_s) a->type = LD_ATTR_STRING;
        else if (ap->n_ints) a->type = LD_ATTR_INTS;
        else if (ap->n_floats) a->type = LD_ATTR_FLOATS;
        else if (ap->has_f) a->type = LD_ATTR_FLOAT;
        else a->type = LD_ATTR_INT;
    }
    if ((a->type == LD_ATTR_TENSOR && !ap->t) || (a->type == LD_ATTR_GRAPH && !ap->g))
        return ld_error(LD_ERR_DATA, "attribute '%s' has no %s", a->name, a->type == LD_ATTR_TENSOR ? "tensor" : "graph");
    a->f = ap->f;
    a->i = ap->i;
    if (ap->has_s || a->type == LD_ATTR_STRING) {
        a->s = ld_strndup((const char *)ap->s.data, ap->s.len);
        a->s_len = ap->s.len;
    }
    if (ap->t) {
        a->t = calloc(1, sizeof *a->t);
        if (!a->t) return ld_oom();
        LD_TRY(ld_tensor_from_proto(b->m, ap->t, a->t));
    }
    if (ap->g) LD_TRY(build_graph(b, b->m, ap->g, &a->g));
    switch (a->type) {
    case LD_ATTR_FLOATS:
        a->n = (int)ap->n_floats;
        a->floats = malloc(sizeof(float) * (a->n + 1));
        if (a->n) memcpy(a->floats, ap->floats, sizeof(float) * a->n);
        break;
    case LD_ATTR_INTS:
        a->n = (int)ap->n_ints;
        a->ints = malloc(sizeof(int64_t) * (a->n + 1));
        if (a->n) memcpy(a->ints, ap->ints, sizeof(int64_t) * a->n);
        break;
    case LD_ATTR_STRINGS:
        a->n = (int)ap->n_strings;
        a->strings = calloc(a->n + 1, sizeof(char *));
        for (int i = 0; i < a->n; i++)
            a->strings[i] = ld_strndup((const char *)ap->strings[i].data, ap->strings[i].len);
        break;
    case LD_ATTR_TENSORS:
        a->n = (int)ap->n_tensors;
        a->tensors = calloc(a->n + 1, sizeof(ld_tensor *));
        for (int i = 0; i < a->n; i++) {
            a->tensors[i] = calloc(1, sizeof(ld_tensor));
            if (!a->tensors[i]) return ld_oom();
            LD_TRY(ld_tensor_from_proto(b->m, ap->tensors[i], a->tensors[i]));
        }
        break;
    case LD_ATTR_GRAPHS:
        a->n = (int)ap->n_graphs;
        a->graphs = calloc(a->n + 1, sizeof(ld_graph *));
        for (int i = 0; i < a->n; i++) LD_TRY(build_graph(b, b->m, ap->graphs[i], &a->graphs[i]));
        break;
    case LD_ATTR_TYPE_PROTO:
        if (ap->tp && ap->tp->value_case == ONNX__TYPE_PROTO__VALUE_TENSOR_TYPE && ap->tp->tensor_type)
            a->tp_elem = (ld_dtype)ap->tp->tensor_type->elem_type;
        else if (ap->tp && ap->tp->value_case == ONNX__TYPE_PROTO__VALUE_SEQUENCE_TYPE &&
                 ap->tp->sequence_type && ap->tp->sequence_type->elem_type &&
                 ap->tp->sequence_type->elem_type->tensor_type)
            a->tp_elem = (ld_dtype)ap->tp->sequence_type->elem_type->tensor_type->elem_type;
        break;
    case LD_ATTR_SPARSE_TENSOR: case LD_ATTR_SPARSE_TENSORS:
        return ld_error(LD_ERR_UNSUPPORTED, "sparse tensor attribute '%s' is not supported", a->name);
    default: break;
    }
    if ((a->type == LD_ATTR_FLOATS && !a->floats) || (a->type == LD_ATTR_INTS && !a->ints) ||
        !a->name)
        return ld_oom();
    return LD_OK;
}

/* ---- graph ---- */

static const char *norm_domain(const char *d) {
    return (!d || !strcmp(d, "ai.onnx")) ? "" : d;
}

static ld_status build_graph(build_ctx *parent, ld_model *m, const Onnx__GraphProto *gp,
                             ld_graph **out) {
    int depth = 0;
    for (const build_ctx *p = parent; p; p = p->parent) depth++;
    if (depth > ld_limit.max_depth)
        return ld_error(LD_ERR_DATA, "subgraph '%s' is nested %d deep, more than the limit of %lld "
                        "(raise it with --max-depth)", gp->name ? gp->name : "", depth,
                        (long long)ld_limit.max_depth);
    ld_graph *g = calloc(1, sizeof *g);
    if (!g) return ld_oom();
    *out = g;
    g->model = m;
    g->parent = parent ? parent->g : NULL;
    g->name = ld_strdup(gp->name ? gp->name : "");
    build_ctx b = {.m = m, .g = g, .parent = parent};
    ld_status st = LD_OK;
    int id;

    /* 1. initializers */
    for (size_t i = 0; i < gp->n_initializer && st == LD_OK; i++) {
        const Onnx__TensorProto *tp = gp->initializer[i];
        const char *name = tp->name ? tp->name : "";
        if (map_find(&b, name) >= 0) { st = ld_error(LD_ERR_DATA, "initializer '%s' appears twice", name); break; }
        if ((st = value_add(&b, name, &id)) != LD_OK) break;
        ld_value *v = &g->values[id];
        v->is_init = true;
        v->const_val = calloc(1, sizeof(ld_tensor));
        if (!v->const_val) { st = ld_oom(); break; }
        st = ld_tensor_from_proto(m, tp, v->const_val);
        if (st != LD_OK) ld_err_prefix(st, "initializer '%s'", name);
    }
    if (st == LD_OK && gp->n_sparse_initializer)
        st = ld_error(LD_ERR_UNSUPPORTED, "sparse initializers are not supported");
    /* 2. inputs (an input that is also an initializer keeps the initializer as its value) */
    g->inputs = calloc(gp->n_input + 1, sizeof(int));
    for (size_t i = 0; i < gp->n_input && st == LD_OK; i++) {
        const char *name = gp->input[i]->name ? gp->input[i]->name : "";
        id = map_find(&b, name);
        if (id >= 0 && g->values[id].is_input) {
            st = ld_error(LD_ERR_DATA, "graph '%s': input '%s' is listed twice", g->name ? g->name : "", name);
            break;
        }
        if (id < 0) {
            if ((st = value_add(&b, name, &id)) != LD_OK) break;
            g->inputs[g->ninputs++] = id;
        }
        g->values[id].is_input = true;
        read_type(&g->values[id], gp->input[i]->type);
    }
    /* 3. node outputs */
    g->nnodes = (int)gp->n_node;
    g->nodes = calloc(gp->n_node + 1, sizeof(ld_node));
    if (!g->nodes || !g->inputs) st = ld_oom();
    for (int ni = 0; ni < g->nnodes && st == LD_OK; ni++) {
        const Onnx__NodeProto *np = gp->node[ni];
        ld_node *n = &g->nodes[ni];
        n->orig_index = ni;
        n->op_type = ld_strdup(np->op_type ? np->op_type : "");
        n->domain = ld_strdup(norm_domain(np->domain));
        if (np->name && np->name[0]) n->name = ld_strdup(np->name);
        else {
            char buf[128];
            snprintf(buf, sizeof buf, "%s_%d", n->op_type, ni);
            n->name = ld_strdup(buf);
            n->unnamed = true;
        }
        n->nout = (int)np->n_output;
        n->out = calloc(n->nout + 1, sizeof(int));
        if (!n->out || !n->name || !n->op_type) { st = ld_oom(); break; }
        for (int o = 0; o < n->nout; o++) {
            const char *name = np->output[o] ? np->output[o] : "";
            n->out[o] = -1;
            if (!name[0]) continue;
            if (map_find(&b, name) >= 0) {
                st = ld_error(LD_ERR_DATA, "node '%s' (%s): output '%s' is already defined",
                              n->name, n->op_type, name);
                break;
            }
            if ((st = value_add(&b, name, &id)) != LD_OK) break;
            g->values[id].producer = ni;
            n->out[o] = id;
        }
    }
    /* 4. node inputs, attributes (subgraphs capture names from this graph) */
    for (int ni = 0; ni < g->nnodes && st == LD_OK; ni++) {
        const Onnx__NodeProto *np = gp->node[ni];
        ld_node *n = &g->nodes[ni];
        n->nin = (int)np->n_input;
        n->in = calloc(n->nin + 1, sizeof(int));
        if (!n->in) { st = ld_oom(); break; }
        for (int i = 0; i < n->nin && st == LD_OK; i++) {
            const char *name = np->input[i] ? np->input[i] : "";
            n->in[i] = -1;
            if (!name[0]) continue;
            if ((st = resolve_name(&b, name, &n->in[i])) != LD_OK) break;
            if (n->in[i] < 0)
                st = ld_error(LD_ERR_DATA,
                              "node '%s' (%s): input '%s' is not produced by any node, nor a graph input or initializer",
                              n->name, n->op_type, name);
        }
        n->nattr = (int)np->n_attribute;
        n->attrs = calloc(n->nattr + 1, sizeof(ld_attr));
        if (!n->attrs) { st = ld_oom(); break; }
        for (int a = 0; a < n->nattr && st == LD_OK; a++) {
            st = copy_attr(&b, np->attribute[a], &n->attrs[a]);
            if (st != LD_OK) { ld_err_prefix(st, "node '%s' (%s)", n->name, n->op_type); break; }
            /* the subgraphs' captured values of this graph become implicit inputs */
            const ld_attr *at = &n->attrs[a];
            int ng = at->g ? 1 : (at->type == LD_ATTR_GRAPHS ? at->n : 0);
            for (int k = 0; k < ng; k++) {
                const ld_graph *sg = at->g ? at->g : at->graphs[k];
                for (int v = 0; v < sg->nvalues; v++) {
                    int ov = sg->values[v].outer;
                    if (ov < 0) continue;
                    bool seen = false;
                    for (int q = 0; q < n->nimplicit; q++) seen |= n->implicit[q] == ov;
                    if (seen) continue;
                    int *ni2 = realloc(n->implicit, sizeof(int) * (n->nimplicit + 1));
                    if (!ni2) { st = ld_oom(); break; }
                    n->implicit = ni2;
                    n->implicit[n->nimplicit++] = ov;
                }
            }
        }
    }
    /* 5. outputs and value_info */
    g->outputs = calloc(gp->n_output + 1, sizeof(int));
    if (!g->outputs && st == LD_OK) st = ld_oom();
    for (size_t i = 0; i < gp->n_output && st == LD_OK; i++) {
        const char *name = gp->output[i]->name ? gp->output[i]->name : "";
        if ((st = resolve_name(&b, name, &id)) != LD_OK) break;
        if (id < 0) { st = ld_error(LD_ERR_DATA, "graph output '%s' is not produced by any node", name); break; }
        g->values[id].is_output = true;
        read_type(&g->values[id], gp->output[i]->type);
        g->outputs[g->noutputs++] = id;
    }
    for (size_t i = 0; i < gp->n_value_info && st == LD_OK; i++) {
        id = gp->value_info[i]->name ? map_find(&b, gp->value_info[i]->name) : -1;
        if (id >= 0 && !g->values[id].has_decl) read_type(&g->values[id], gp->value_info[i]->type);
    }
    free(b.map.slot);
    return st;
}

int ld_graph_find_value(const ld_graph *g, const char *name) {
    for (int i = 0; i < g->nvalues; i++)
        if (!strcmp(g->values[i].name, name)) return i;
    return -1;
}

int ld_graph_main_output(const ld_graph *g) {
    for (int q = 0; q < g->noutputs; q++) {
        const ld_value *v = &g->values[g->outputs[q]];
        if (v->producer >= 0 && !v->const_val) return q;
    }
    return g->noutputs ? 0 : -1;
}

int64_t ld_model_opset(const ld_model *m, const char *domain) {
    domain = norm_domain(domain);
    for (int i = 0; i < m->nopsets; i++)
        if (!strcmp(m->opsets[i].domain, domain)) return m->opsets[i].version;
    return 0;
}

static ld_status plan_graph(ld_graph *g, unsigned flags) {
    LD_TRY(ld_graph_toposort(g));
    LD_TRY(ld_graph_bind_kernels(g));
    LD_TRY(ld_graph_fold_constants(g));
    /* an If whose condition folded to a constant becomes the nodes of its taken branch; their
     * own Ifs may become constant in turn (nested bodies), so repeat until nothing changes */
    for (int count = 1; count && !(flags & LD_LOAD_KEEP_BRANCHES);) {
        LD_TRY(ld_graph_inline_branches(g, &count));
        if (!count) break;
        LD_TRY(ld_graph_toposort(g));
        LD_TRY(ld_graph_bind_kernels(g));
        LD_TRY(ld_graph_fold_constants(g));
    }
    ld_graph_compute_last_use(g);
    return LD_OK;
}

static ld_status load_buffer(const uint8_t *buf, size_t len, const char *path, unsigned flags,
                             const ld_branch_choice *choices, int nchoices, ld_model **out) {
    *out = NULL;
    LD_TRY(ld_proto_check_depth(buf, len));
    Onnx__ModelProto *mp = onnx__model_proto__unpack(NULL, len, buf);
    if (!mp) return ld_error(LD_ERR_DATA, "not a valid ONNX model (protobuf parse failed: truncated or corrupt)");
    ld_status sst = ld_proto_check_strings(&mp->base);
    if (sst != LD_OK) { onnx__model_proto__free_unpacked(mp, NULL); return sst; }
    ld_status st = LD_OK;
    ld_model *m = calloc(1, sizeof *m);
    if (!m) { onnx__model_proto__free_unpacked(mp, NULL); return ld_oom(); }
    m->path = ld_strdup(path);
    m->lenient = (flags & LD_LOAD_LENIENT) != 0;
    m->choices = choices;
    m->nchoices = nchoices;
    const char *slash = strrchr(path, '/');
    m->dir = slash ? ld_strndup(path, slash - path) : ld_strdup(".");
    m->ir_version = mp->has_ir_version ? mp->ir_version : 0;
    m->producer_name = ld_strdup(mp->producer_name ? mp->producer_name : "");
    m->producer_version = ld_strdup(mp->producer_version ? mp->producer_version : "");
    m->domain = ld_strdup(mp->domain ? mp->domain : "");
    m->doc = ld_strdup(mp->doc_string ? mp->doc_string : "");
    m->model_version = mp->model_version;
    m->opsets = calloc(mp->n_opset_import + 1, sizeof(ld_opset));
    for (size_t i = 0; i < mp->n_opset_import && m->opsets; i++) {
        m->opsets[m->nopsets].domain = ld_strdup(norm_domain(mp->opset_import[i]->domain));
        m->opsets[m->nopsets].version = mp->opset_import[i]->version;
        m->nopsets++;
    }
    if (!mp->graph) st = ld_error(LD_ERR_DATA, "not a valid ONNX model (no graph)");
    else if (!m->nopsets && m->ir_version >= 3)
        st = ld_error(LD_ERR_DATA, "not a valid ONNX model (no opset_import)");
    if (st == LD_OK && !m->nopsets) {   /* IR < 3 models imply opset 1 */
        m->opsets[0].domain = ld_strdup("");
        m->opsets[0].version = 1;
        m->nopsets = 1;
    }
    if (st == LD_OK) st = build_graph(NULL, m, mp->graph, &m->graph);
    onnx__model_proto__free_unpacked(mp, NULL);
    if (st == LD_OK) st = plan_graph(m->graph, flags);
    m->choices = NULL;
    m->nchoices = 0;
    if (st != LD_OK) { ld_model_free(m); return st; }
    *out = m;
    return LD_OK;
}

ld_status ld_model_load_buffer(const uint8_t *buf, size_t len, const char *path, ld_model **out) {
    return load_buffer(buf, len, path, 0, NULL, 0, out);
}

ld_status ld_model_load_choices(const char *path, unsigned flags, const ld_branch_choice *choices, int nchoices,
                                ld_model **out) {
    uint8_t *buf;
    size_t len;
    LD_TRY(ld_file_read(path, &buf, &len));
    ld_status st = load_buffer(buf, len, path, flags, choices, nchoices, out);
    free(buf);
    return st;
}

ld_status ld_model_load_ex(const char *path, unsigned flags, ld_model **out) {
    return ld_model_load_choices(path, flags, NULL, 0, out);
}

ld_status ld_model_load(const char *path, ld_model **out) { return ld_model_load_ex(path, 0, out); }

/* ---- freeing ---- */

static void graph_free(ld_graph *g);

static void attr_free(ld_attr *a) {
    free(a->name);
    free(a->s);
    ld_tensor_free(a->t);
    if (a->g) graph_free(a->g);
    free(a->floats);
    free(a->ints);
    if (a->strings) for (int i = 0; i < a->n; i++) free(a->strings[i]);
    free(a->strings);
    if (a->tensors) for (int i = 0; i < a->n; i++) ld_tensor_free(a->tensors[i]);
    free(a->tensors);
    if (a->graphs) for (int i = 0; i < a->n; i++) if (a->graphs[i]) graph_free(a->graphs[i]);
    free(a->graphs);
}

void ld_node_free_fields(ld_node *n) {
    free(n->name); free(n->op_type); free(n->domain); free(n->in); free(n->out);
    free(n->implicit);
    for (int a = 0; a < n->nattr && n->attrs; a++) attr_free(&n->attrs[a]);
    free(n->attrs);
    if (n->kstate) n->kstate->release(n->kstate);
    memset(n, 0, sizeof *n);
}

static void graph_free(ld_graph *g) {
    if (!g) return;
    for (int i = 0; i < g->nnodes; i++) ld_node_free_fields(&g->nodes[i]);
    for (int i = 0; i < g->nvalues; i++) {
        ld_value *v = &g->values[i];
        free(v->name);
        ld_tensor_free(v->const_val);
        ld_tensor_clear(&v->info);
        for (int d = 0; d < LD_MAX_DIMS; d++) free(v->decl_sym[d]);
    }
    free(g->nodes); free(g->values); free(g->inputs); free(g->outputs); free(g->name);
    free(g);
}

void ld_model_free(ld_model *m) {
    if (!m) return;
    graph_free(m->graph);
    for (int i = 0; i < m->nmaps; i++) if (m->maps[i].addr) munmap(m->maps[i].addr, m->maps[i].len);
    free(m->maps);
    for (int i = 0; i < m->nopsets; i++) free(m->opsets[i].domain);
    free(m->opsets);
    free(m->path); free(m->dir); free(m->producer_name); free(m->producer_version);
    free(m->domain); free(m->doc);
    free(m);
}
