/*
** cmd_inspect.c — `layerdiff inspect`: what a model is and whether layerdiff can run it:
** producer, IR version, opsets, inputs/outputs, parameters, op histogram, node list with
** inferred output shapes, the bodies of If/Loop/Scan nodes as an indented tree with node
** counts, and a pre-flight list of nodes without a kernel (bodies included).
*/
#include "cmd.h"

#include <cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char inspect_usage[] =
    "usage: layerdiff inspect MODEL [--json] [--batch B] [--no-nodes]\n"
    "  --json       print everything as JSON\n"
    "  --batch B    value of symbolic first dimensions for shape inference (default 1)\n"
    "  --no-nodes   leave out the node list\n";

typedef struct op_count { const char *name; int n; } op_count;

static int cmp_count(const void *a, const void *b) {
    const op_count *x = a, *y = b;
    return x->n != y->n ? y->n - x->n : strcmp(x->name, y->name);
}

static void decl_str(const ld_value *v, char *buf, size_t n) {
    if (!v->has_decl) { snprintf(buf, n, "?"); return; }
    if (v->decl_kind == LD_KIND_SEQUENCE) { snprintf(buf, n, "sequence"); return; }
    size_t o = snprintf(buf, n, "%s ", ld_dtype_name(v->decl_dtype));
    if (v->decl_ndim < 0) { snprintf(buf + o, n - o, "(?)"); return; }
    o += snprintf(buf + o, n - o, "(");
    for (int d = 0; d < v->decl_ndim && o < n; d++) {
        if (v->decl_dims[d] >= 0) o += snprintf(buf + o, n - o, "%s%lld", d ? "," : "", (long long)v->decl_dims[d]);
        else o += snprintf(buf + o, n - o, "%s%s", d ? "," : "", v->decl_sym[d] ? v->decl_sym[d] : "?");
    }
    if (o < n) snprintf(buf + o, n - o, ")");
}

static cJSON *decl_json(const ld_value *v) {
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "name", v->name);
    if (v->has_decl && v->decl_kind == LD_KIND_TENSOR) {
        cJSON_AddStringToObject(o, "dtype", ld_dtype_name(v->decl_dtype));
        if (v->decl_ndim >= 0) {
            cJSON *sh = cJSON_CreateArray();
            for (int d = 0; d < v->decl_ndim; d++)
                cJSON_AddItemToArray(sh, v->decl_dims[d] >= 0 ? cJSON_CreateNumber((double)v->decl_dims[d])
                                                               : cJSON_CreateString(v->decl_sym[d] ? v->decl_sym[d] : "?"));
            cJSON_AddItemToObject(o, "shape", sh);
        }
    } else if (v->has_decl) {
        cJSON_AddStringToObject(o, "kind", "sequence");
    }
    return o;
}

static const char *node_problem(const ld_node *n, char *buf, size_t len) {
    if (n->op) return NULL;
    if (!n->opset) snprintf(buf, len, "no opset imported for domain '%s'", n->domain[0] ? n->domain : "ai.onnx");
    else if (ld_op_known(n->domain, n->op_type)) snprintf(buf, len, "unsupported operator version %d", n->opset);
    else snprintf(buf, len, "unsupported operator");
    return buf;
}

/* ---- subgraph bodies (If/Loop/Scan/SequenceMap attributes), recursively ---- */

/* Call fn for every subgraph held in node n's attributes. */
#define EACH_BODY(nd, a, k, sg)                                                                 \
    for (int a = 0; a < (nd)->nattr; a++)                                                       \
        for (int k = 0; k < ((nd)->attrs[a].g ? 1 : (nd)->attrs[a].type == LD_ATTR_GRAPHS ? (nd)->attrs[a].n : 0); k++) \
            for (const ld_graph *sg = (nd)->attrs[a].g ? (nd)->attrs[a].g : (nd)->attrs[a].graphs[k]; sg; sg = NULL)

/* Nodes in g and in every body below it. */
static int nodes_deep(const ld_graph *g) {
    int c = g->nnodes;
    for (int i = 0; i < g->nnodes; i++) EACH_BODY(&g->nodes[i], a, k, sg) c += nodes_deep(sg);
    return c;
}

/* Nodes of g (and below) without a kernel. */
static int unsupported_deep(const ld_graph *g) {
    int c = 0;
    for (int i = 0; i < g->nnodes; i++) {
        c += !g->nodes[i].op;
        EACH_BODY(&g->nodes[i], a, k, sg) c += unsupported_deep(sg);
    }
    return c;
}

static bool has_bodies(const ld_node *n) {
    EACH_BODY(n, a, k, sg) return true;
    return false;
}

/* One line per body of node n: "attr 'graph name': N nodes (M inside nested bodies)", then,
 * with list_nodes, its nodes one level deeper, recursing into their bodies. */
static void print_bodies(const ld_graph *g, const ld_node *n, int depth, bool list_nodes) {
    if (ld_node_has(n, LD_OPT_BRANCH) && n->nin && n->in[0] >= 0 && g->values[n->in[0]].const_val &&
        g->values[n->in[0]].const_val->numel == 1) {
        const ld_tensor *c = g->values[n->in[0]].const_val;
        bool t = ld_dtype_is_float(c->dtype) ? ld_tensor_get_f64(c, 0) != 0.0 : ld_tensor_get_i64(c, 0) != 0;
        printf("%*scondition is constant %s: run and compare inline %s as nodes '%s/%s/...'\n", 8 + 2 * depth, "",
               t ? "true" : "false", t ? "then_branch" : "else_branch", n->name, t ? "then_branch" : "else_branch");
    }
    EACH_BODY(n, a, k, sg) {
        int deep = nodes_deep(sg);
        printf("%*s%s", 8 + 2 * depth, "", n->attrs[a].name);
        if (n->attrs[a].type == LD_ATTR_GRAPHS) printf("[%d]", k);
        printf(" '%s': %d node%s", sg->name, sg->nnodes, sg->nnodes == 1 ? "" : "s");
        if (deep > sg->nnodes) printf(" (%d more in nested bodies)", deep - sg->nnodes);
        printf("\n");
        for (int i = 0; i < sg->nnodes; i++) {
            const ld_node *b = &sg->nodes[i];
            if (!list_nodes && !has_bodies(b)) continue;
            printf("%*s%4d  %-*s %s%s\n", 10 + 2 * depth, "", i, 36 - 2 * depth > 8 ? 36 - 2 * depth : 8, b->name,
                   b->op_type, b->op ? "" : "  (cannot run)");
            print_bodies(sg, b, depth + 2, list_nodes);
        }
    }
}

static void print_unsupported(const ld_graph *g, const char *path) {
    for (int i = 0; i < g->nnodes; i++) {
        char why[256], sub[512];
        const ld_node *n = &g->nodes[i];
        if (!n->op) printf("  %4d  %s%s (%s%s%s-%d): %s\n", i, path, n->name, n->domain, n->domain[0] ? "." : "",
                           n->op_type, n->opset, node_problem(n, why, sizeof why));
        EACH_BODY(n, a, k, sg) {
            snprintf(sub, sizeof sub, "%s%s/%s/", path, n->name, n->attrs[a].name);
            print_unsupported(sg, sub);
        }
    }
}

static cJSON *node_json(const ld_graph *g, int i, bool with_nodes);

/* A body as JSON: attribute, graph name, node counts and (with_nodes) its node list. */
static cJSON *bodies_json(const ld_node *n, bool with_nodes) {
    cJSON *arr = cJSON_CreateArray();
    EACH_BODY(n, a, k, sg) {
        cJSON *b = cJSON_CreateObject();
        cJSON_AddStringToObject(b, "attribute", n->attrs[a].name);
        if (n->attrs[a].type == LD_ATTR_GRAPHS) cJSON_AddNumberToObject(b, "index", k);
        cJSON_AddStringToObject(b, "graph", sg->name);
        cJSON_AddNumberToObject(b, "nodes_total", sg->nnodes);
        cJSON_AddNumberToObject(b, "nodes_nested", nodes_deep(sg) - sg->nnodes);
        if (with_nodes) {
            cJSON *nl = cJSON_AddArrayToObject(b, "nodes");
            for (int i = 0; i < sg->nnodes; i++) cJSON_AddItemToArray(nl, node_json(sg, i, true));
        }
        cJSON_AddItemToArray(arr, b);
    }
    return arr;
}

static cJSON *node_json(const ld_graph *g, int i, bool with_nodes) {
    const ld_node *n = &g->nodes[i];
    cJSON *nj = cJSON_CreateObject(), *outs = cJSON_CreateArray(), *ins = cJSON_CreateArray();
    cJSON_AddNumberToObject(nj, "index", i);
    cJSON_AddStringToObject(nj, "name", n->name);
    cJSON_AddStringToObject(nj, "op", n->op_type);
    if (n->domain[0]) cJSON_AddStringToObject(nj, "domain", n->domain);
    cJSON_AddNumberToObject(nj, "since_version", n->op ? n->op->since : 0);
    cJSON_AddBoolToObject(nj, "folded", n->folded);
    for (int k = 0; k < n->nin; k++) cJSON_AddItemToArray(ins, cJSON_CreateString(n->in[k] >= 0 ? g->values[n->in[k]].name : ""));
    for (int k = 0; k < n->nout; k++) {
        if (n->out[k] < 0) continue;
        const ld_value *v = &g->values[n->out[k]];
        cJSON *oj = cJSON_CreateObject();
        cJSON_AddStringToObject(oj, "name", v->name);
        if (v->info_known) {
            cJSON_AddStringToObject(oj, "dtype", ld_dtype_name(v->info.dtype));
            cJSON *sh = cJSON_CreateArray();
            for (int d = 0; d < v->info.ndim; d++) cJSON_AddItemToArray(sh, cJSON_CreateNumber((double)v->info.dims[d]));
            cJSON_AddItemToObject(oj, "shape", sh);
        }
        cJSON_AddItemToArray(outs, oj);
    }
    cJSON_AddItemToObject(nj, "inputs", ins);
    cJSON_AddItemToObject(nj, "outputs", outs);
    if (has_bodies(n)) cJSON_AddItemToObject(nj, "subgraphs", bodies_json(n, with_nodes));
    return nj;
}

static ld_status inspect_main(const char *path, bool json, int64_t batch, bool nodes) {
    ld_model *m;
    ld_status st = ld_model_load_ex(path, LD_LOAD_LENIENT | LD_LOAD_KEEP_BRANCHES, &m);
    if (st != LD_OK) return ld_err_prefix_path(st, path);
    ld_graph *g = m->graph;
    ld_status ist = ld_graph_infer_shapes(g, NULL, batch);
    char infer_err[1024] = "";
    if (ist != LD_OK) snprintf(infer_err, sizeof infer_err, "%s", ld_err_msg());

    /* parameters: initializers, and folded constants that feed running nodes */
    int64_t init_n = 0, init_elems = 0, init_bytes = 0, fold_n = 0, fold_elems = 0, fold_bytes = 0;
    for (int v = 0; v < g->nvalues; v++) {
        const ld_value *val = &g->values[v];
        if (!val->const_val || val->const_val->kind != LD_KIND_TENSOR) continue;
        if (val->is_init) { init_n++; init_elems += val->const_val->numel; init_bytes += val->const_val->nbytes; }
        else if (val->last_use >= 0) { fold_n++; fold_elems += val->const_val->numel; fold_bytes += val->const_val->nbytes; }
    }
    op_count *hist = calloc(g->nnodes + 1, sizeof *hist);
    int nh = 0, unsupported = 0, folded = 0;
    for (int i = 0; i < g->nnodes; i++) {
        const ld_node *n = &g->nodes[i];
        if (!n->op) unsupported++;
        if (n->folded) folded++;
        int k = 0;
        while (k < nh && strcmp(hist[k].name, n->op_type)) k++;
        if (k == nh) hist[nh++].name = n->op_type;
        hist[k].n++;
    }
    qsort(hist, nh, sizeof *hist, cmp_count);
    int nodes_all = nodes_deep(g), with_bodies = 0;
    for (int i = 0; i < g->nnodes; i++) with_bodies += has_bodies(&g->nodes[i]);
    unsupported = unsupported_deep(g);

    if (json) {
        cJSON *o = cJSON_CreateObject(), *a;
        cJSON_AddStringToObject(o, "model", path);
        cJSON_AddStringToObject(o, "producer", m->producer_name);
        cJSON_AddStringToObject(o, "producer_version", m->producer_version);
        cJSON_AddNumberToObject(o, "ir_version", (double)m->ir_version);
        a = cJSON_AddObjectToObject(o, "opsets");
        for (int i = 0; i < m->nopsets; i++)
            cJSON_AddNumberToObject(a, m->opsets[i].domain[0] ? m->opsets[i].domain : "ai.onnx", (double)m->opsets[i].version);
        a = cJSON_AddArrayToObject(o, "inputs");
        for (int i = 0; i < g->ninputs; i++) cJSON_AddItemToArray(a, decl_json(&g->values[g->inputs[i]]));
        a = cJSON_AddArrayToObject(o, "outputs");
        for (int i = 0; i < g->noutputs; i++) cJSON_AddItemToArray(a, decl_json(&g->values[g->outputs[i]]));
        cJSON *p = cJSON_AddObjectToObject(o, "parameters");
        cJSON_AddNumberToObject(p, "initializers", (double)init_n);
        cJSON_AddNumberToObject(p, "initializer_elements", (double)init_elems);
        cJSON_AddNumberToObject(p, "initializer_bytes", (double)init_bytes);
        cJSON_AddNumberToObject(p, "folded_constants", (double)fold_n);
        cJSON_AddNumberToObject(p, "folded_elements", (double)fold_elems);
        cJSON_AddNumberToObject(p, "folded_bytes", (double)fold_bytes);
        cJSON_AddNumberToObject(o, "nodes_total", g->nnodes);
        cJSON_AddNumberToObject(o, "nodes_folded", folded);
        a = cJSON_AddObjectToObject(o, "op_histogram");
        for (int k = 0; k < nh; k++) cJSON_AddNumberToObject(a, hist[k].name, hist[k].n);
        cJSON_AddNumberToObject(o, "shape_batch", (double)batch);
        if (infer_err[0]) cJSON_AddStringToObject(o, "shape_inference_error", infer_err);
        cJSON_AddNumberToObject(o, "nodes_in_subgraphs", nodes_all - g->nnodes);
        cJSON *un = cJSON_AddArrayToObject(o, "unsupported");
        cJSON *nl = nodes ? cJSON_AddArrayToObject(o, "nodes") : NULL;
        for (int i = 0; i < g->nnodes; i++) {
            const ld_node *n = &g->nodes[i];
            char why[256];
            if (!n->op) {
                cJSON *u = cJSON_CreateObject();
                cJSON_AddNumberToObject(u, "index", i);
                cJSON_AddStringToObject(u, "name", n->name);
                cJSON_AddStringToObject(u, "op", n->op_type);
                cJSON_AddStringToObject(u, "domain", n->domain);
                cJSON_AddNumberToObject(u, "opset", n->opset);
                cJSON_AddStringToObject(u, "reason", node_problem(n, why, sizeof why));
                cJSON_AddItemToArray(un, u);
            }
            if (nl) cJSON_AddItemToArray(nl, node_json(g, i, true));
        }
        char *txt = cJSON_Print(o);
        if (txt) puts(txt);
        free(txt);
        cJSON_Delete(o);
    } else {
        char buf[512];
        printf("model        %s\n", path);
        printf("producer     %s %s\n", m->producer_name[0] ? m->producer_name : "(none)", m->producer_version);
        printf("ir_version   %lld\n", (long long)m->ir_version);
        printf("opsets      ");
        for (int i = 0; i < m->nopsets; i++)
            printf(" %s-%lld", m->opsets[i].domain[0] ? m->opsets[i].domain : "ai.onnx", (long long)m->opsets[i].version);
        printf("\ninputs\n");
        for (int i = 0; i < g->ninputs; i++) {
            decl_str(&g->values[g->inputs[i]], buf, sizeof buf);
            printf("  %-30s %s\n", g->values[g->inputs[i]].name, buf);
        }
        printf("outputs\n");
        for (int i = 0; i < g->noutputs; i++) {
            decl_str(&g->values[g->outputs[i]], buf, sizeof buf);
            printf("  %-30s %s\n", g->values[g->outputs[i]].name, buf);
        }
        printf("parameters   %lld in %lld initializers (%.2f MB)", (long long)init_elems, (long long)init_n, init_bytes / 1e6);
        if (fold_n) printf(", %lld in %lld folded constants (%.2f MB)", (long long)fold_elems, (long long)fold_n, fold_bytes / 1e6);
        printf("\nnodes        %d (%d folded at load)", g->nnodes, folded);
        if (with_bodies) printf(", %d more inside the subgraphs of %d node%s", nodes_all - g->nnodes, with_bodies, with_bodies == 1 ? "" : "s");
        printf("\nops         ");
        for (int k = 0; k < nh; k++) printf(" %s:%d", hist[k].name, hist[k].n);
        printf("\n");
        if (infer_err[0]) printf("shape inference stopped: %s\n", infer_err);
        if (nodes) {
            printf("\nnodes (shapes for symbolic dims = %lld; '?' = known only at run time)\n", (long long)batch);
            for (int i = 0; i < g->nnodes; i++) {
                const ld_node *n = &g->nodes[i];
                if (n->folded) continue;
                printf("  %4d  %-40s %-20s", i, n->name, n->op_type);
                for (int k = 0; k < n->nout; k++) {
                    if (n->out[k] < 0) continue;
                    const ld_value *v = &g->values[n->out[k]];
                    if (v->info_known) printf(" %s %s", ld_dtype_name(v->info.dtype), ld_shape_str(&v->info, buf, sizeof buf));
                    else printf(" ?");
                }
                printf("\n");
                print_bodies(g, n, 0, true);
            }
        } else if (with_bodies) {
            printf("\nsubgraphs\n");
            for (int i = 0; i < g->nnodes; i++) {
                const ld_node *n = &g->nodes[i];
                if (!has_bodies(n)) continue;
                printf("  %4d  %-40s %s\n", i, n->name, n->op_type);
                print_bodies(g, n, 0, false);
            }
        }
        if (unsupported) {
            printf("\npre-flight: %d node%s cannot run:\n", unsupported, unsupported == 1 ? "" : "s");
            print_unsupported(g, "");
        } else {
            printf("\npre-flight: layerdiff can run every node\n");
        }
    }
    free(hist);
    ld_model_free(m);
    return LD_OK;
}

int cmd_inspect(int argc, char **argv) {
    const char *model = NULL;
    bool json = false, nodes = true;
    int64_t batch = 1;
    ld_status st = LD_OK;
    for (int i = 1; i < argc && st == LD_OK; i++) {
        const char *v;
        if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) { fputs(inspect_usage, stdout); return 0; }
        else if (ld_arg_flag(argv, i, "--json")) json = true;
        else if (ld_arg_flag(argv, i, "--no-nodes")) nodes = false;
        else if (ld_arg_value(argc, argv, &i, "--batch", &v, &st)) { if (st == LD_OK) st = ld_arg_int("--batch", v, 1, 1 << 20, &batch); }
        else if (argv[i][0] == '-' && argv[i][1]) st = ld_usage_error("inspect", "unknown option '%s'", argv[i]);
        else if (!model) model = argv[i];
        else st = ld_usage_error("inspect", "unexpected argument '%s'", argv[i]);
    }
    if (st == LD_OK && !model) st = ld_usage_error("inspect", "missing MODEL");
    if (st == LD_OK) st = inspect_main(model, json, batch, nodes);
    if (st != LD_OK) return ld_report_error(st, NULL);
    return 0;
}
