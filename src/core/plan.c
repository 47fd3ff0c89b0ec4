/*
** plan.c — from a loaded graph to a runnable one: topological order, a kernel per node,
** constant folding, last-use indices for freeing, and static dtype/shape inference.
*/
#include "ld_exec.h"
#include "ld_limits.h"
#include "op_arity.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>


typedef ld_status (*graph_fn)(ld_graph *g);

/* Apply fn to every subgraph held in node attributes. */
static ld_status each_subgraph(ld_graph *g, graph_fn fn) {
    for (int i = 0; i < g->nnodes; i++) {
        ld_node *n = &g->nodes[i];
        for (int a = 0; a < n->nattr; a++) {
            if (n->attrs[a].g) LD_TRY(fn(n->attrs[a].g));
            for (int k = 0; n->attrs[a].type == LD_ATTR_GRAPHS && k < n->attrs[a].n; k++)
                LD_TRY(fn(n->attrs[a].graphs[k]));
        }
    }
    return LD_OK;
}

/* ---- topological order (Kahn, stable: ready nodes in file order) ---- */

ld_status ld_graph_toposort(ld_graph *g) {
    int n = g->nnodes;
    int *indeg = calloc(n + 1, sizeof(int)), *order = calloc(n + 1, sizeof(int));
    int *cons_start = calloc(n + 2, sizeof(int)), *cons = NULL, *heap = calloc(n + 1, sizeof(int));
    bool *done = calloc(n + 1, sizeof(bool));
    ld_status st = LD_OK;
    if (!indeg || !order || !cons_start || !heap || !done) { st = ld_oom(); goto out; }
    /* edges producer -> consumer, counted per input occurrence */
    int nedges = 0;
    for (int i = 0; i < n; i++) {
        ld_node *nd = &g->nodes[i];
        for (int k = 0; k < nd->nin + nd->nimplicit; k++) {
            int v = k < nd->nin ? nd->in[k] : nd->implicit[k - nd->nin];
            if (v < 0 || g->values[v].producer < 0) continue;
            cons_start[g->values[v].producer + 1]++;
            indeg[i]++;
            nedges++;
        }
    }
    for (int i = 0; i < n; i++) cons_start[i + 1] += cons_start[i];
    cons = calloc(nedges + 1, sizeof(int));
    int *fill = calloc(n + 1, sizeof(int));
    if (!cons || !fill) { free(fill); st = ld_oom(); goto out; }
    for (int i = 0; i < n; i++) {
        ld_node *nd = &g->nodes[i];
        for (int k = 0; k < nd->nin + nd->nimplicit; k++) {
            int v = k < nd->nin ? nd->in[k] : nd->implicit[k - nd->nin];
            if (v < 0 || g->values[v].producer < 0) continue;
            int p = g->values[v].producer;
            cons[cons_start[p] + fill[p]++] = i;
        }
    }
    free(fill);
    /* min-heap of ready node indices keeps file order among ready nodes */
    int hn = 0, no = 0;
#define HPUSH(x) do { int c = hn++; heap[c] = (x); \
        while (c && heap[(c - 1) / 2] > heap[c]) { int t = heap[c]; heap[c] = heap[(c-1)/2]; heap[(c-1)/2] = t; c = (c-1)/2; } } while (0)
    for (int i = 0; i < n; i++) if (!indeg[i]) HPUSH(i);
    while (hn) {
        int x = heap[0];
        heap[0] = heap[--hn];
        for (int c = 0;;) {
            int l = 2 * c + 1, r = l + 1, m = c;
            if (l < hn && heap[l] < heap[m]) m = l;
            if (r < hn && heap[r] < heap[m]) m = r;
            if (m == c) break;
            int t = heap[c]; heap[c] = heap[m]; heap[m] = t; c = m;
        }
        order[no++] = x;
        done[x] = true;
        for (int e = cons_start[x]; e < cons_start[x + 1]; e++)
            if (--indeg[cons[e]] == 0) HPUSH(cons[e]);
    }
#undef HPUSH
    if (no < n) {
        for (int i = 0; i < n; i++)
            if (!done[i]) {
                st = ld_error(LD_ERR_DATA, "graph has a cycle through node '%s' (%s)",
                              g->nodes[i].name, g->nodes[i].op_type);
                break;
            }
        goto out;
    }
    ld_node *sorted = malloc(sizeof(ld_node) * (n + 1));
    if (!sorted) { st = ld_oom(); goto out; }
    for (int i = 0; i < n; i++) sorted[i] = g->nodes[order[i]];
    free(g->nodes);
    g->nodes = sorted;
    for (int i = 0; i < n; i++)
        for (int k = 0; k < g->nodes[i].nout; k++)
            if (g->nodes[i].out[k] >= 0) g->values[g->nodes[i].out[k]].producer = i;
    st = each_subgraph(g, ld_graph_toposort);
out:
    free(indeg); free(order); free(cons_start); free(cons); free(heap); free(done);
    return st;
}

/* ---- kernels ---- */

/* Check the node's input/output counts against the schema of its op version (when the
 * schema table knows the op), so kernels never index past the inputs they were given. */
static int arity_cmp(const ld_op_arity *a, const char *domain, const char *name) {
    int c = strcmp(a->domain, domain);
    return c ? c : strcmp(a->name, name);
}

/* The table is sorted by (domain, name, since): binary search for the first row of the op,
 * then the rows of its versions follow (a linear scan per node made planning a long graph
 * cost nodes x table size string compares). */
static const ld_op_arity *arity_find(const char *domain, const char *name, int opset) {
    int lo = 0, hi = ld_op_arity_count;
    while (lo < hi) {
        int mid = lo + (hi - lo) / 2;
        if (arity_cmp(&ld_op_arity_table[mid], domain, name) < 0) lo = mid + 1;
        else hi = mid;
    }
    const ld_op_arity *best = NULL;
    for (int i = lo; i < ld_op_arity_count && !arity_cmp(&ld_op_arity_table[i], domain, name); i++)
        if (ld_op_arity_table[i].since <= opset) best = &ld_op_arity_table[i];
    return best;
}

static ld_status check_arity(const ld_node *n) {
    const ld_op_arity *best = n->schema;
    /* the table stops at the schemas python3-onnx knows (opset 17): an op of a newer opset may
     * have gained or loosened inputs, so its kernel checks them itself */
    if (!best) return LD_OK;
    /* Above opset 17 an op may have gained inputs (no maximum check then); the minimum and
     * the required inputs still hold, except for the Optional ops, whose input became
     * optional in opset 18. */
    bool newer = n->opset > LD_ARITY_MAX_OPSET;
    if (newer && !strncmp(n->op_type, "Optional", 8)) return LD_OK;
    /* trailing absent optional inputs may be omitted or written as "" */
    int nin = n->nin;
    while (nin > best->min_in && n->in[nin - 1] < 0) nin--;
    if (nin < best->min_in || (!newer && best->max_in >= 0 && nin > best->max_in))
        return ld_error(LD_ERR_DATA, "node '%s' (%s-%d): has %d inputs, the operator takes %d to %d",
                        n->name, n->op_type, best->since, n->nin, best->min_in, best->max_in);
    for (int i = 0; i < best->min_in && i < 31; i++)
        if (n->in[i] < 0 && !(best->optional & (1u << i)))
            return ld_error(LD_ERR_DATA, "node '%s' (%s-%d): required input %d is missing", n->name,
                            n->op_type, best->since, i);
    if (n->nout < best->min_out || (!newer && best->max_out >= 0 && n->nout > best->max_out))
        return ld_error(LD_ERR_DATA, "node '%s' (%s-%d): has %d outputs, the operator gives %d to %d",
                        n->name, n->op_type, best->since, n->nout, best->min_out, best->max_out);
    return LD_OK;
}

/* ---- input types against the schema's type constraints ---- */

/* A node whose opset is newer than the schema table may run a newer op version than its row,
 * and the newer versions of ONNX widened the types: float16 and bfloat16 joined many float ops
 * (bfloat16 in opset 22; Celu and Range as late as opsets 27-28), and the ops that take any
 * type (Cast, Reshape, Identity, If, Loop, Pad...) took float8, int4/uint4, float4, float8e8m0
 * and int2/uint2 (opsets 19-25). So for such a node a constraint with a float type takes all
 * four plain float types, and an any-type constraint every new type; float8 and the narrow
 * integers otherwise only where a row of tools/gen_op_arity.py says so. Never narrower than
 * the row: the widening only keeps valid newer models from being refused. */
static unsigned widen_newer(unsigned m) {
    const unsigned any = LD_DT_NUMERIC | LD_DT(LD_BOOL);
    if (m & LD_DT_FLOATS) m |= LD_DT_FLOATS;
    if ((m & any) == any)
        m |= LD_DT(LD_F8E4M3FN) | LD_DT(LD_F8E4M3FNUZ) | LD_DT(LD_F8E5M2) | LD_DT(LD_F8E5M2FNUZ) |
             LD_DT(LD_U4) | LD_DT(LD_I4) | LD_DT(LD_F4E2M1) | LD_DT(LD_F8E8M0) | LD_DT(LD_U2) | LD_DT(LD_I2);
    return m;
}

static bool schema_newer(const ld_node *n) {
    if (!n->domain[0]) return n->opset > LD_ARITY_MAX_OPSET;
    if (!strcmp(n->domain, "ai.onnx.ml")) return n->opset > LD_ARITY_MAX_ML_OPSET;
    return false;
}

static const char *dtype_str(int t) {
    return t > 0 && t < LD_DTYPE_COUNT ? ld_dtype_name((ld_dtype)t) : "an undefined type";
}

/* Every tensor input against its formal parameter's allowed types, and the inputs bound to one
 * type letter (A and B of Add) against each other, so no kernel reads an int8 scale or a
 * float8 rois as float. in[i] NULL or not a tensor: not checked (absent or unknown yet). */
ld_status ld_node_check_types(const ld_node *n, ld_tensor *const *in) {
    const ld_op_arity *s = n->schema;
    if (!s || !s->nformal) return LD_OK;
    bool newer = schema_newer(n);
    int first[32];
    for (int g = 0; g < 32; g++) first[g] = -1;
    for (int i = 0; i < n->nin; i++) {
        const ld_tensor *t = in[i];
        if (!t || t->kind != LD_KIND_TENSOR) continue;
        int f = i < s->nformal ? i : s->last_variadic ? s->nformal - 1 : -1;
        if (f < 0) continue;                     /* an input newer than the row: unknown */
        const ld_op_input *p = &s->formal[f];
        unsigned m = newer ? widen_newer(p->types) : p->types;
        if (!m) continue;
        if ((unsigned)t->dtype >= 32 || !(m >> t->dtype & 1u)) {
            char allowed[400] = "";
            size_t len = 0;
            for (int d = 1; d < LD_DTYPE_COUNT && len < sizeof allowed - 40; d++)
                if (m >> d & 1u)
                    len += (size_t)snprintf(allowed + len, sizeof allowed - len, "%s%s", len ? ", " : "",
                                            ld_dtype_name((ld_dtype)d));
            return ld_error(LD_ERR_DATA, "node '%s' (%s-%d): input %d '%s' is %s; %s takes %s there",
                            n->name, n->op_type, s->since, i, p->name, dtype_str(t->dtype), n->op_type,
                            allowed);
        }
        if (p->group < 0 || p->group >= 32) continue;
        int j = first[p->group];
        if (j < 0) { first[p->group] = i; continue; }
        if (in[j]->dtype != t->dtype) {
            const ld_op_input *q = &s->formal[j < s->nformal ? j : s->nformal - 1];
            return ld_error(LD_ERR_DATA, "node '%s' (%s-%d): input %d '%s' is %s but input %d '%s' is %s; "
                            "%s requires them to have the same type", n->name, n->op_type, s->since, i,
                            p->name, dtype_str(t->dtype), j, q->name, dtype_str(in[j]->dtype), n->op_type);
        }
    }
    return LD_OK;
}

/* The input types known before any data flows: initializers and the declared graph inputs
 * (the rest is checked when the values exist, by ld_node_infer and ld_node_run). */
static ld_status check_static_types(const ld_graph *g, const ld_node *n) {
    if (!n->schema || !n->nin || n->nin > 64) return LD_OK;
    ld_tensor decl[64], *ins[64];
    for (int k = 0; k < n->nin; k++) {
        int v = n->in[k];
        ins[k] = NULL;
        if (v < 0) continue;
        const ld_value *val = &g->values[v];
        if (val->const_val) ins[k] = val->const_val;
        else if (val->is_input && val->has_decl && val->decl_kind == LD_KIND_TENSOR && val->decl_dtype) {
            memset(&decl[k], 0, sizeof decl[k]);
            decl[k].dtype = val->decl_dtype;
            ins[k] = &decl[k];
        }
    }
    return ld_node_check_types(n, ins);
}

ld_status ld_graph_bind_kernels(ld_graph *g) {
    for (int i = 0; i < g->nnodes; i++) {
        ld_node *n = &g->nodes[i];
        int64_t opset = ld_model_opset(g->model, n->domain);
        n->opset = (int)opset;
        n->op = NULL;
        n->traits = ld_op_traits_find(n->domain, n->op_type);
        if (!opset) {
            if (g->model->lenient) continue;
            return ld_error(LD_ERR_UNSUPPORTED, "node '%s' (%s): the model imports no opset for domain '%s'",
                            n->name, n->op_type, n->domain[0] ? n->domain : "ai.onnx");
        }
        n->op = ld_op_find(n->domain, n->op_type, opset);
        n->schema = arity_find(n->domain, n->op_type, n->opset);
        if (n->op) LD_TRY(check_arity(n));
        if (n->op) LD_TRY(check_static_types(g, n));
        if (!n->op && !g->model->lenient) {
            if (ld_op_known(n->domain, n->op_type))
                return ld_error(LD_ERR_UNSUPPORTED, "node '%s' (%s-%d): unsupported operator version",
                                n->name, n->op_type, n->opset);
            return ld_error(LD_ERR_UNSUPPORTED, "node '%s' (%s%s%s-%d): unsupported operator", n->name,
                            n->domain, n->domain[0] ? "." : "", n->op_type, n->opset);
        }
    }
    return each_subgraph(g, ld_graph_bind_kernels);
}


/* ---- constant folding ---- */

static bool node_is_constant(const ld_graph *g, const ld_node *n) {
    if (!n->op || (n->op->flags & (LD_OPF_NOFOLD | LD_OPF_SUBGRAPH)) || n->nimplicit) return false;
    for (int k = 0; k < n->nin; k++) {
        int v = n->in[k];
        if (v >= 0 && !g->values[v].const_val) return false;
    }
    return true;
}

/* Whether a constant node's outputs would be larger than ld_limit.fold_max_bytes (by its
 * shape function; a data-dependent shape counts as small). Such a node is not folded at load:
 * a read-only `inspect` must not allocate, say, a OneHot of depth 2^40; running the model
 * meets the node again and the tensor limits judge it there. */
static bool fold_too_big(const ld_node *n, ld_tensor **ins) {
    ld_tensor outs_t[64], *outs[64];
    memset(outs_t, 0, sizeof(ld_tensor) * (n->nout ? n->nout : 1));
    for (int k = 0; k < n->nout; k++) outs[k] = n->out[k] >= 0 ? &outs_t[k] : NULL;
    bool big = false;
    if (ld_node_infer(n, ins, outs) == LD_OK)
        for (int k = 0; k < n->nout; k++) {
            if (!outs[k] || outs[k]->kind != LD_KIND_TENSOR) continue;
            size_t es = ld_dtype_size(outs[k]->dtype);
            if ((uint64_t)outs[k]->numel > (uint64_t)ld_limit.fold_max_bytes / (es ? es : 1)) big = true;
        }
    for (int k = 0; k < n->nout; k++) ld_tensor_clear(&outs_t[k]);
    return big;
}

ld_status ld_graph_fold_constants(ld_graph *g) {
    for (int i = 0; i < g->nnodes; i++) {
        ld_node *n = &g->nodes[i];
        if (n->folded || !node_is_constant(g, n)) continue;   /* planning may run twice (inlining) */
        ld_tensor *ins[64], *outs[64];
        if (n->nin > 64 || n->nout > 64) continue;
        for (int k = 0; k < n->nin; k++) ins[k] = n->in[k] >= 0 ? g->values[n->in[k]].const_val : NULL;
        if (fold_too_big(n, ins)) continue;   /* left to run time */
        ld_status st = LD_OK;
        for (int k = 0; k < n->nout; k++) {
            outs[k] = n->out[k] >= 0 ? calloc(1, sizeof(ld_tensor)) : NULL;
            if (n->out[k] >= 0 && !outs[k]) st = ld_oom();
        }
        if (st == LD_OK) st = ld_node_run(NULL, n, ins, outs);
        if (st != LD_OK) {
            for (int k = 0; k < n->nout; k++) ld_tensor_free(outs[k]);
            return ld_err_prefix(st, "node '%s' (%s-%d)", n->name, n->op_type, n->op->since);
        }
        for (int k = 0; k < n->nout; k++)
            if (outs[k]) g->values[n->out[k]].const_val = outs[k];
        n->folded = true;
    }
    return each_subgraph(g, ld_graph_fold_constants);
}

/* ---- last use ---- */

static ld_status last_use_graph(ld_graph *g) {
    for (int v = 0; v < g->nvalues; v++) g->values[v].last_use = -1;
    for (int i = 0; i < g->nnodes; i++) {
        ld_node *n = &g->nodes[i];
        if (n->folded) continue;
        for (int k = 0; k < n->nin; k++) if (n->in[k] >= 0) g->values[n->in[k]].last_use = i;
        for (int k = 0; k < n->nimplicit; k++) g->values[n->implicit[k]].last_use = i;
    }
    return each_subgraph(g, last_use_graph);
}

void ld_graph_compute_last_use(ld_graph *g) { (void)last_use_graph(g); }

/* ---- static shape inference ---- */

#define INFER_FOLD_MAX 65536   /* run kernels on known data up to this many output elements */

ld_status ld_graph_infer_shapes(ld_graph *g, ld_tensor **inputs, int64_t default_dim) {
    for (int v = 0; v < g->nvalues; v++) {
        ld_value *val = &g->values[v];
        ld_tensor_clear(&val->info);
        val->info_known = false;
        if (val->const_val) {
            val->info = *val->const_val;
            val->info.owns = false;
            val->info.seq = NULL;
            val->info.seq_len = 0;
            val->info_known = true;
        }
    }
    for (int i = 0; i < g->ninputs; i++) {
        ld_value *val = &g->values[g->inputs[i]];
        if (inputs && inputs[i]) {
            val->info = *inputs[i];
            val->info.owns = false;
            val->info.seq = NULL;
            val->info.seq_len = 0;
            val->info_known = true;
        } else if (val->has_decl && val->decl_kind == LD_KIND_TENSOR && val->decl_ndim >= 0) {
            int64_t dims[LD_MAX_DIMS];
            for (int d = 0; d < val->decl_ndim; d++)
                dims[d] = val->decl_dims[d] >= 0 ? val->decl_dims[d] : default_dim;
            ld_tensor_set_shape(&val->info, val->decl_dtype, val->decl_ndim, dims);
            val->info.data = NULL;
            val->info_known = true;
        }
    }
    for (int i = 0; i < g->nnodes; i++) {
        ld_node *n = &g->nodes[i];
        if (n->folded || !n->op || n->nin > 64 || n->nout > 64) continue;
        ld_tensor *ins[64], outs_t[64], *outs[64];
        bool known = true, all_data = true;
        int64_t in_elems = 0;
        for (int k = 0; k < n->nin; k++) {
            int v = n->in[k];
            ins[k] = NULL;
            if (v < 0) continue;
            if (!g->values[v].info_known || g->values[v].info.kind != LD_KIND_TENSOR) { known = false; break; }
            ins[k] = &g->values[v].info;
            if (!ins[k]->data) all_data = false;
            in_elems += ins[k]->numel;
        }
        if (!known || n->nimplicit) continue;
        memset(outs_t, 0, sizeof outs_t);
        for (int k = 0; k < n->nout; k++) outs[k] = n->out[k] >= 0 ? &outs_t[k] : NULL;
        ld_status st;
        bool cheap = in_elems <= INFER_FOLD_MAX && !(n->op->flags & (LD_OPF_NOFOLD | LD_OPF_SUBGRAPH));
        if (cheap && (all_data || (n->op->flags & LD_OPF_SHAPE_ONLY)) && !(n->op->flags & LD_OPF_ALLOCS)) {
            /* small inputs can still make a huge output (ConstantOfShape, Expand, Tile) */
            st = ld_node_infer(n, ins, outs);
            for (int k = 0; st == LD_OK && k < n->nout; k++)
                if (outs[k] && outs[k]->numel > INFER_FOLD_MAX) cheap = false;
            for (int k = 0; k < n->nout; k++) ld_tensor_clear(&outs_t[k]);
        }
        if (cheap && (all_data || (n->op->flags & LD_OPF_SHAPE_ONLY))) {
            st = ld_node_run(NULL, n, ins, outs);
            for (int k = 0; st == LD_OK && k < n->nout; k++)   /* keep only small results' data */
                if (outs[k] && outs[k]->numel > INFER_FOLD_MAX && outs[k]->owns) {
                    free(outs[k]->data);
                    ld_limit_release(outs[k]->nbytes);
                    outs[k]->data = NULL;
                    outs[k]->owns = false;
                }
        } else {
            st = ld_node_infer(n, ins, outs);
        }
        if (st == LD_DYNAMIC) { for (int k = 0; k < n->nout; k++) ld_tensor_clear(&outs_t[k]); continue; }
        if (st != LD_OK) {
            for (int k = 0; k < n->nout; k++) ld_tensor_clear(&outs_t[k]);
            return ld_err_prefix(st, "node '%s' (%s-%d)", n->name, n->op_type, n->op->since);
        }
        for (int k = 0; k < n->nout; k++) {
            if (!outs[k]) continue;
            ld_value *val = &g->values[n->out[k]];
            val->info = outs_t[k];
            val->info_known = outs_t[k].kind == LD_KIND_TENSOR;
        }
    }
    return LD_OK;
}
