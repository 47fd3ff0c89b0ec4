/*
** mixed_model.c — write the autopin result as an ONNX model for engines that take a typed
** graph: every float32 tensor becomes FP16 (or BF16) except around the pinned nodes, which
** keep FP32; Cast nodes convert at every boundary, and the graph's inputs and outputs stay
** float32 so callers feed the same data. Works on the original protobuf (protobuf-c), so
** everything layerdiff does not touch is written back unchanged. Ops whose FP16 support is
** patchy across engines (LD_OPT_KEEP_FP32 in src/core/op_traits.c: Resize, Range, TopK, ...) stay
** in FP32 like pinned nodes. An If the planner inlined (constant condition) is inlined in the
** written model too (mixed_inline.c), so pins inside its branch are written; other graphs with
** subgraphs (If/Loop/Scan) are refused.
*/
#include "ld_autopin.h"
#include "ld_numeric.h"
#include "ld_outfile.h"
#include "load_internal.h"
#include "mixed_inline.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

static bool stays_fp32(const ld_node *n, const bool *pinned, int i) {
    if (pinned[i]) return true;
    /* ConstantOfShape without a value attribute makes float32 zeros whatever its readers want */
    if (!strcmp(n->op_type, "ConstantOfShape") && !ld_node_attr(n, "value")) return true;
    return ld_node_has(n, LD_OPT_KEEP_FP32);
}

static char *dupcat(const char *a, const char *b) {
    size_t la = strlen(a), lb = strlen(b);
    char *s = malloc(la + lb + 1);
    if (s) { memcpy(s, a, la); memcpy(s + la, b, lb + 1); }
    return s;
}

typedef struct writer {
    Onnx__GraphProto *gp;
    const ld_graph *g;
    int lp;                  /* low precision dtype: 10 (FP16) or 16 (BF16) */
    char **cast_name[2];     /* per value: name of its Cast to [0] low precision, [1] float32 */
    Onnx__NodeProto **extra; /* Cast nodes to add */
    int nextra;
    int ncast;
} writer;

static ld_status add_node(writer *w, Onnx__NodeProto *n) {
    Onnx__NodeProto **ne = realloc(w->extra, sizeof *ne * (w->nextra + 1));
    if (!ne) return ld_oom();
    w->extra = ne;
    w->extra[w->nextra++] = n;
    return LD_OK;
}

static Onnx__NodeProto *make_cast(const char *in, const char *out, int to, int id) {
    Onnx__NodeProto *n = calloc(1, sizeof *n);
    Onnx__AttributeProto *a = calloc(1, sizeof *a);
    if (!n || !a) { free(n); free(a); return NULL; }
    onnx__node_proto__init(n);
    onnx__attribute_proto__init(a);
    char nm[64];
    snprintf(nm, sizeof nm, "layerdiff_cast_%d", id);
    n->name = strdup(nm);
    n->op_type = strdup("Cast");
    n->n_input = n->n_output = 1;
    n->input = malloc(sizeof(char *));
    n->output = malloc(sizeof(char *));
    n->input[0] = strdup(in);
    n->output[0] = strdup(out);
    a->name = strdup("to");
    a->has_type = 1;
    a->type = ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__INT;
    a->has_i = 1;
    a->i = to;
    n->n_attribute = 1;
    n->attribute = malloc(sizeof *n->attribute);
    n->attribute[0] = a;
    return n;
}

/* Name of value v converted to dtype `to` (1 = float32, lp), creating the Cast once. */
static ld_status cast_of(writer *w, int v, const char *src, int to, const char **out) {
    int side = to == 1 ? 1 : 0;
    if (!w->cast_name[side][v]) {
        char *nm = dupcat(src, to == 1 ? "__layerdiff_fp32" : "__layerdiff_lowp");
        if (!nm) return ld_oom();
        Onnx__NodeProto *c = make_cast(src, nm, to, w->ncast++);
        if (!c) { free(nm); return ld_oom(); }
        LD_TRY(add_node(w, c));
        w->cast_name[side][v] = nm;
    }
    *out = w->cast_name[side][v];
    return LD_OK;
}

/* float32 TensorProto -> low precision, raw_data. */
static ld_status tensor_to_lowp(Onnx__TensorProto *tp, int lp, const ld_tensor *val) {
    size_t n = (size_t)val->numel;
    uint16_t *d = malloc(n * 2 + 1);
    if (!d) return ld_oom();
    const float *f = val->data;
    for (size_t i = 0; i < n; i++) d[i] = lp == 10 ? ld_f32_to_f16(f[i]) : ld_f32_to_bf16(f[i]);
    free(tp->float_data);
    tp->float_data = NULL;
    tp->n_float_data = 0;
    if (tp->has_raw_data) free(tp->raw_data.data);
    for (size_t i = 0; i < tp->n_external_data; i++) onnx__string_string_entry_proto__free_unpacked(tp->external_data[i], NULL);
    free(tp->external_data);
    tp->external_data = NULL;
    tp->n_external_data = 0;
    tp->has_data_location = 0;
    tp->has_raw_data = 1;
    tp->raw_data.data = (uint8_t *)d;
    tp->raw_data.len = n * 2;
    tp->data_type = lp;
    return LD_OK;
}

typedef struct name_ref { const char *name; int node; } name_ref;

static int cmp_name(const void *a, const void *b) {
    return strcmp(((const name_ref *)a)->name, ((const name_ref *)b)->name);
}

/* Kahn's order over the protobuf nodes (stable: file order among ready nodes), so the Casts
 * appended at the end land right after their producers, as onnx.checker requires. */
static ld_status sort_nodes(Onnx__GraphProto *gp) {
    size_t n = gp->n_node, nout = 0;
    for (size_t i = 0; i < n; i++) nout += gp->node[i]->n_output;
    name_ref *prod = malloc(sizeof *prod * (nout + 1));
    int *indeg = calloc(n + 1, sizeof(int)), *order = malloc(sizeof(int) * (n + 1));
    bool *done = calloc(n + 1, sizeof(bool));
    ld_status st = LD_OK;
    if (!prod || !indeg || !order || !done) { st = ld_oom(); goto out; }
    size_t k = 0;
    for (size_t i = 0; i < n; i++)
        for (size_t o = 0; o < gp->node[i]->n_output; o++)
            if (gp->node[i]->output[o][0]) prod[k++] = (name_ref){gp->node[i]->output[o], (int)i};
    qsort(prod, k, sizeof *prod, cmp_name);
    for (size_t i = 0; i < n; i++)
        for (size_t q = 0; q < gp->node[i]->n_input; q++) {
            name_ref key = {gp->node[i]->input[q], 0};
            if (key.name[0] && bsearch(&key, prod, k, sizeof *prod, cmp_name)) indeg[i]++;
        }
    size_t no = 0;
    while (no < n) {   /* O(n^2) in the worst case; graphs here are small enough */
        size_t pick = n;
        for (size_t i = 0; i < n; i++) if (!done[i] && indeg[i] == 0) { pick = i; break; }
        if (pick == n) { st = ld_error(LD_ERR_INTERNAL, "--write-model: the written graph has a cycle"); goto out; }
        done[pick] = true;
        order[no++] = (int)pick;
        for (size_t o = 0; o < gp->node[pick]->n_output; o++) {
            const char *nm = gp->node[pick]->output[o];
            if (!nm[0]) continue;
            for (size_t i = 0; i < n; i++)
                for (size_t q = 0; q < gp->node[i]->n_input; q++)
                    if (!done[i] && !strcmp(gp->node[i]->input[q], nm)) indeg[i]--;
        }
    }
    Onnx__NodeProto **sorted = malloc(sizeof *sorted * (n + 1));
    if (!sorted) { st = ld_oom(); goto out; }
    for (size_t i = 0; i < n; i++) sorted[i] = gp->node[order[i]];
    free(gp->node);
    gp->node = sorted;
out:
    free(prod); free(indeg); free(order); free(done);
    return st;
}

static bool is_f32(const ld_graph *g, int v) {
    return v >= 0 && g->values[v].info_known && g->values[v].info.kind == LD_KIND_TENSOR && g->values[v].info.dtype == LD_F32;
}

ld_status ld_write_mixed_model(const char *in_path, const ld_model *m, const bool *pinned,
                               ld_target target, const char *out_path, bool force) {
    if (!ld_target_format(target)->mixed_model) {
        char can[128] = "";   /* "FP16 or BF16": the formats marked mixed_model */
        for (int t = 0, k = 0; t < LD_TARGET_COUNT; t++)
            if (ld_target_format((ld_target)t)->mixed_model)
                snprintf(can + strlen(can), sizeof can - strlen(can), "%s%s", k++ ? " or " : "", ld_target_format((ld_target)t)->long_name);
        return ld_error(LD_ERR_USAGE, "--write-model writes %s models (target is %s)", can, ld_target_format(target)->name);
    }
    LD_TRY(ld_out_check(out_path, force ? LD_OUT_FORCE : 0));
    const ld_graph *g = m->graph;
    LD_TRY(ld_mixed_check_chosen(g));
    for (int i = 0; i < g->nnodes; i++)
        if (g->nodes[i].nimplicit || (g->nodes[i].op && (g->nodes[i].op->flags & LD_OPF_SUBGRAPH)))
            return ld_error(LD_ERR_UNSUPPORTED, "--write-model: node '%s' (%s) has subgraphs, which are not supported", g->nodes[i].name, g->nodes[i].op_type);
    LD_TRY(ld_graph_infer_shapes((ld_graph *)g, NULL, 1));
    /* every value's dtype must be known to place the Casts */
    for (int i = 0; i < g->nnodes; i++) {
        const ld_node *n = &g->nodes[i];
        if (n->folded) continue;
        for (int k = 0; k < n->nout; k++)
            if (n->out[k] >= 0 && !g->values[n->out[k]].info_known)
                return ld_error(LD_ERR_UNSUPPORTED, "--write-model: the dtype of '%s' (node '%s', %s) is known only at run time",
                                g->values[n->out[k]].name, n->name, n->op_type);
    }
    uint8_t *buf;
    size_t len;
    LD_TRY(ld_file_read(in_path, &buf, &len));
    Onnx__ModelProto *mp = onnx__model_proto__unpack(NULL, len, buf);
    free(buf);
    if (!mp || !mp->graph) { if (mp) onnx__model_proto__free_unpacked(mp, NULL); return ld_error(LD_ERR_DATA, "%s: cannot re-read the model", in_path); }
    Onnx__GraphProto *gp = mp->graph;
    writer w = {.gp = gp, .g = g, .lp = ld_target_format(target)->onnx_dtype};
    w.cast_name[0] = calloc(g->nvalues + 1, sizeof(char *));
    w.cast_name[1] = calloc(g->nvalues + 1, sizeof(char *));
    int *vtype = calloc(g->nvalues + 1, sizeof(int));   /* 0 not float, 1 fp32, lp */
    ld_status st = (!w.cast_name[0] || !w.cast_name[1] || !vtype) ? ld_oom() : LD_OK;
    /* protobuf node -> planned node (Ifs the planner inlined are inlined in gp first) */
    const ld_node **byfile = NULL;
    int *plan_index = NULL;
    if (st == LD_OK) st = ld_mixed_flatten(gp, g, &byfile, &plan_index);
    /* types of values: node outputs by producer; initializers by consumers */
    for (int v = 0; st == LD_OK && v < g->nvalues; v++) {
        if (!is_f32(g, v)) continue;
        const ld_value *val = &g->values[v];
        if (val->is_input && !val->is_init) vtype[v] = 1;
        else if (val->producer >= 0) vtype[v] = stays_fp32(&g->nodes[val->producer], pinned, val->producer) ? 1 : w.lp;
        else vtype[v] = 1;
    }
    /* initializers: low precision when only low-precision nodes read them; read by both
     * kinds, they keep their FP32 data for the FP32 nodes and get a low-precision twin */
    char *lowuse = calloc(g->nvalues + 1, 1), *hiuse = calloc(g->nvalues + 1, 1);
    if (st == LD_OK && (!lowuse || !hiuse)) st = ld_oom();
    for (int i = 0; st == LD_OK && i < g->nnodes; i++) {
        const ld_node *n = &g->nodes[i];
        bool hi = stays_fp32(n, pinned, i);
        for (int k = 0; k < n->nin; k++) {
            int v = n->in[k];
            if (v >= 0 && g->values[v].is_init && is_f32(g, v)) { if (hi) hiuse[v] = 1; else lowuse[v] = 1; }
        }
    }
    for (int v = 0; st == LD_OK && v < g->nvalues; v++)   /* an initializer that is also an input stays float */
        if (g->values[v].is_init && g->values[v].is_input) hiuse[v] = 1;
    size_t ninit = gp->n_initializer;
    for (size_t t = 0; st == LD_OK && t < ninit; t++) {
        int v = ld_graph_find_value(g, gp->initializer[t]->name);
        if (v < 0 || !lowuse[v] || !g->values[v].const_val) continue;
        if (!hiuse[v]) {
            vtype[v] = w.lp;
            st = tensor_to_lowp(gp->initializer[t], w.lp, g->values[v].const_val);
            continue;
        }
        /* twin: a packed copy of the initializer, renamed, converted */
        const Onnx__TensorProto *src = gp->initializer[t];
        size_t plen = onnx__tensor_proto__get_packed_size(src);
        uint8_t *pbuf = malloc(plen + 1);
        Onnx__TensorProto *twin = NULL;
        if (pbuf) {
            onnx__tensor_proto__pack(src, pbuf);
            twin = onnx__tensor_proto__unpack(NULL, plen, pbuf);
        }
        free(pbuf);
        char *nm = dupcat(src->name, "__layerdiff_lowp");
        Onnx__TensorProto **ni = twin && nm ? realloc(gp->initializer, sizeof *ni * (gp->n_initializer + 1)) : NULL;
        if (!ni) { free(nm); if (twin) onnx__tensor_proto__free_unpacked(twin, NULL); st = ld_oom(); break; }
        gp->initializer = ni;
        free(twin->name);
        twin->name = nm;
        st = tensor_to_lowp(twin, w.lp, g->values[v].const_val);
        gp->initializer[gp->n_initializer++] = twin;
        w.cast_name[0][v] = strdup(nm);      /* low-precision readers use the twin */
    }
    free(lowuse);
    free(hiuse);
    /* rewrite node inputs and the type-bearing attributes */
    for (size_t f = 0; st == LD_OK && f < gp->n_node; f++) {
        Onnx__NodeProto *np = gp->node[f];
        const ld_node *n = byfile[f];
        if (!n) continue;
        int i = plan_index[f];
        int want = stays_fp32(n, pinned, i) ? 1 : w.lp;
        for (size_t k = 0; st == LD_OK && k < np->n_input; k++) {
            int v = n->in[k];
            if (v < 0 || !vtype[v] || vtype[v] == want) continue;
            const char *nm = NULL;
            st = cast_of(&w, v, np->input[k], want, &nm);
            if (st == LD_OK) { free(np->input[k]); np->input[k] = strdup(nm); }
        }
        if (want == 1) continue;
        for (size_t a = 0; a < np->n_attribute; a++) {
            Onnx__AttributeProto *at = np->attribute[a];
            if (!strcmp(n->op_type, "Cast") && !strcmp(at->name, "to") && at->i == 1) at->i = w.lp;
            if ((!strcmp(n->op_type, "RandomNormal") || !strcmp(n->op_type, "RandomUniform") || !strcmp(n->op_type, "EyeLike")) &&
                !strcmp(at->name, "dtype") && at->i == 1) at->i = w.lp;
            if (at->t && at->t->data_type == 1 && (!strcmp(n->op_type, "Constant") || !strcmp(n->op_type, "ConstantOfShape"))) {
                ld_tensor tv = {0};
                st = ld_tensor_from_proto((ld_model *)m, at->t, &tv);
                if (st == LD_OK) st = tensor_to_lowp(at->t, w.lp, &tv);
                ld_tensor_clear(&tv);
            }
            if (!strcmp(n->op_type, "Constant") && !strcmp(at->name, "value_float")) {
                st = ld_error(LD_ERR_UNSUPPORTED, "--write-model: Constant '%s' uses value_float", n->name);
            }
        }
    }
    /* graph outputs stay float32: rename the low-precision producer, cast back to the name */
    for (int q = 0; st == LD_OK && q < g->noutputs; q++) {
        int v = g->outputs[q];
        if (vtype[v] != w.lp) continue;
        const char *name = g->values[v].name;
        char *low = dupcat(name, "__layerdiff_lowp_out");
        if (!low) { st = ld_oom(); break; }
        for (size_t f = 0; f < gp->n_node; f++) {
            Onnx__NodeProto *np = gp->node[f];
            for (size_t k = 0; k < np->n_output; k++)
                if (!strcmp(np->output[k], name)) { free(np->output[k]); np->output[k] = strdup(low); }
            for (size_t k = 0; k < np->n_input; k++)
                if (!strcmp(np->input[k], name)) { free(np->input[k]); np->input[k] = strdup(low); }
        }
        for (int e = 0; e < w.nextra; e++)
            if (!strcmp(w.extra[e]->input[0], name)) { free(w.extra[e]->input[0]); w.extra[e]->input[0] = strdup(low); }
        Onnx__NodeProto *c = make_cast(low, name, 1, w.ncast++);
        free(low);
        st = c ? add_node(&w, c) : ld_oom();
    }
    if (st == LD_OK) {   /* append the Casts; types changed, so drop value_info for re-inference */
        Onnx__NodeProto **nn = realloc(gp->node, sizeof *nn * (gp->n_node + w.nextra + 1));
        if (!nn) st = ld_oom();
        else {
            gp->node = nn;
            for (int e = 0; e < w.nextra; e++) gp->node[gp->n_node++] = w.extra[e];
            w.nextra = 0;
        }
        for (size_t i = 0; i < gp->n_value_info; i++) onnx__value_info_proto__free_unpacked(gp->value_info[i], NULL);
        free(gp->value_info);
        gp->value_info = NULL;
        gp->n_value_info = 0;
    }
    if (st == LD_OK) st = sort_nodes(gp);
    if (st == LD_OK) {
        size_t n = onnx__model_proto__get_packed_size(mp);
        uint8_t *out = malloc(n + 1);
        if (!out) st = ld_oom();
        else {
            onnx__model_proto__pack(mp, out);
            st = ld_out_write_all(out_path, force ? LD_OUT_FORCE : 0, out, n);
        }
        free(out);
    }
    for (int e = 0; e < w.nextra; e++) onnx__node_proto__free_unpacked(w.extra[e], NULL);
    free(w.extra);
    for (int v = 0; v < g->nvalues; v++) {
        if (w.cast_name[0]) free(w.cast_name[0][v]);
        if (w.cast_name[1]) free(w.cast_name[1][v]);
    }
    free(w.cast_name[0]);
    free(w.cast_name[1]);
    free(vtype);
    free(byfile);
    free(plan_index);
    onnx__model_proto__free_unpacked(mp, NULL);
    return st;
}
