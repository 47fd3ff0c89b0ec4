/*
** inline_if.c — see through If nodes whose condition is a constant: the planner replaces such
** an If by the nodes of the branch it takes, so every layer of the branch is a node of the
** enclosing graph — a row of the comparison, a pin target, a line in the browser — instead of
** one opaque If. Exported models often hold their whole network in such a branch (a branch
** chosen by a constant flag, or by a shape the planner folds).
**
** The loader's caller may also name Ifs whose branch it knows for every run (ld_branch_choice:
** the comparison checks the condition of each sample first, src/compare/branches.c).
**
** Names keep the path: a body node "Conv_3" of If "If_0"'s then_branch becomes
** "If_0/then_branch/Conv_3", and body values get the same prefix (so they never collide with
** the enclosing graph's names). The branch's outputs become the If's outputs (same value ids and
** names), through an Identity when the branch returns a value it does not compute itself
** (an outer-scope value, a constant, the same value twice). Nested bodies inside the branch
** move with their nodes and now capture from the enclosing graph.
*/
#include "ld_op.h"
#include "load_internal.h"

#include <assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static char *path_name(const char *prefix, const char *name) {
    size_t lp = strlen(prefix), ln = strlen(name);
    char *s = malloc(lp + ln + 1);
    if (s) { memcpy(s, prefix, lp); memcpy(s + lp, name, ln + 1); }
    return s;
}

/* Append a value to g, whose values array the caller made long enough (values_reserve). */
static void value_append(ld_graph *g, char *name, int *id) {
    ld_value *v = &g->values[g->nvalues];
    memset(v, 0, sizeof *v);
    v->name = name;
    v->producer = -1;
    v->outer = -1;
    v->last_use = -1;
    v->decl_ndim = -1;
    *id = g->nvalues++;
}

/* Point the captured values of every subgraph of node n (one level: deeper graphs capture
 * from these) at g's value ids through map, and make g their parent. */
static void recapture(ld_node *n, ld_graph *g, const int *map) {
    for (int a = 0; a < n->nattr; a++) {
        int ng = n->attrs[a].g ? 1 : n->attrs[a].type == LD_ATTR_GRAPHS ? n->attrs[a].n : 0;
        for (int k = 0; k < ng; k++) {
            ld_graph *sg = n->attrs[a].g ? n->attrs[a].g : n->attrs[a].graphs[k];
            sg->parent = g;
            for (int v = 0; v < sg->nvalues; v++)
                if (sg->values[v].outer >= 0) sg->values[v].outer = map[sg->values[v].outer];
        }
    }
}

/* The branch an If takes when the caller said so (main graph only), else -1. */
static int chosen(const ld_graph *g, const ld_node *n) {
    if (g->parent || !g->model) return -1;
    for (int c = 0; c < g->model->nchoices; c++)
        if (!strcmp(g->model->choices[c].node, n->name)) return g->model->choices[c].then;
    return -1;
}

/* Replace node i of g (an If with a constant or chosen condition) by the nodes of its taken
 * branch. */
static ld_status inline_one(ld_graph *g, int i) {
    ld_node *ifn = &g->nodes[i];
    const ld_tensor *c = g->values[ifn->in[0]].const_val;
    int pick = chosen(g, ifn);
    if (pick < 0 && (c->kind != LD_KIND_TENSOR || c->numel != 1 || !c->data))
        return ld_error(LD_ERR_DATA, "node '%s' (If): the condition must be a single-element tensor", ifn->name);
    bool cond = pick >= 0 ? pick == 1
              : ld_dtype_is_float(c->dtype) ? ld_tensor_get_f64(c, 0) != 0.0 : ld_tensor_get_i64(c, 0) != 0;
    const char *branch = cond ? "then_branch" : "else_branch";
    ld_graph *body = ld_attr_graph(ifn, branch);
    if (!body) return ld_error(LD_ERR_DATA, "node '%s' (If): no '%s' subgraph", ifn->name, branch);
    if (body->ninputs)
        return ld_error(LD_ERR_DATA, "node '%s' (If): %s '%s' declares inputs (If branches take none)",
                        ifn->name, branch, body->name);
    if (body->noutputs != ifn->nout)
        return ld_error(LD_ERR_DATA, "node '%s' (If): %s '%s' has %d outputs, the node %d", ifn->name,
                        branch, body->name, body->noutputs, ifn->nout);
    char prefix[1024];
    snprintf(prefix, sizeof prefix, "%s/%s/", ifn->name, branch);
    int depth = ifn->inlined + 1;

    int *map = malloc(sizeof(int) * (body->nvalues + 1));
    bool *direct = calloc(body->noutputs + 1, sizeof(bool));   /* output o needs no Identity */
    if (!map || !direct) { free(map); free(direct); return ld_oom(); }
    for (int v = 0; v < body->nvalues; v++) map[v] = -1;
    /* branch outputs computed by a branch node become the If's output values */
    for (int o = 0; o < body->noutputs; o++) {
        int bv = body->outputs[o];
        /* (not a value folded to a constant: its producer never runs, the value would be
         * left behind with the body; such an output goes through an Identity) */
        if (ifn->out[o] >= 0 && body->values[bv].producer >= 0 && !body->values[bv].const_val && map[bv] < 0) {
            map[bv] = ifn->out[o];
            direct[o] = true;
        }
    }
    /* room for every branch value at once (one realloc per value would copy n^2 bytes) */
    ld_value *grown = realloc(g->values, sizeof *grown * (g->nvalues + body->nvalues + 1));
    ld_status st = grown ? LD_OK : ld_oom();
    if (grown) g->values = grown;
    for (int v = 0; v < body->nvalues && st == LD_OK; v++) {
        ld_value *bvl = &body->values[v];
        if (map[v] >= 0) continue;
        if (bvl->outer >= 0) { map[v] = bvl->outer; continue; }
        char *nm = path_name(prefix, bvl->name);
        if (!nm) { st = ld_oom(); break; }
        int id = -1;
        value_append(g, nm, &id);
        ld_value *nv = &g->values[id];
        nv->is_init = bvl->is_init;
        nv->const_val = bvl->const_val;        /* moves: the branch graph is freed below */
        bvl->const_val = NULL;
        nv->has_decl = bvl->has_decl;
        nv->decl_kind = bvl->decl_kind;
        nv->decl_dtype = bvl->decl_dtype;
        nv->decl_ndim = bvl->decl_ndim;
        memcpy(nv->decl_dims, bvl->decl_dims, sizeof nv->decl_dims);
        memcpy(nv->decl_sym, bvl->decl_sym, sizeof nv->decl_sym);
        memset(bvl->decl_sym, 0, sizeof bvl->decl_sym);
        map[v] = id;
    }
    int nextra = 0;
    for (int o = 0; o < body->noutputs; o++) nextra += !direct[o] && ifn->out[o] >= 0;
    int nnew = g->nnodes - 1 + body->nnodes + nextra;
    ld_node *nodes = st == LD_OK ? calloc(nnew + 1, sizeof *nodes) : NULL;
    if (st == LD_OK && !nodes) st = ld_oom();
    /* Identity nodes for outputs the branch does not compute itself */
    ld_node *extra = nodes ? nodes + i + body->nnodes : NULL;
    for (int o = 0, e = 0; o < body->noutputs && st == LD_OK; o++) {
        if (direct[o] || ifn->out[o] < 0) continue;
        ld_node *n = &extra[e++];
        char nm[64];
        snprintf(nm, sizeof nm, "Identity_out%d", o);
        n->name = path_name(prefix, nm);
        n->op_type = ld_strdup("Identity");
        n->domain = ld_strdup("");
        n->nin = n->nout = 1;
        n->in = malloc(sizeof(int));
        n->out = malloc(sizeof(int));
        if (!n->name || !n->op_type || !n->domain || !n->in || !n->out) { st = ld_oom(); break; }
        n->in[0] = map[body->outputs[o]];
        n->out[0] = ifn->out[o];
        n->orig_index = ifn->orig_index;
        n->inlined = depth;
        n->chosen = pick >= 0 || ifn->chosen;
    }
    if (st != LD_OK) {
        for (int e = 0; nodes && e < nextra; e++) ld_node_free_fields(&extra[e]);
        free(nodes); free(map); free(direct);
        return st;   /* values appended so far stay in g unused; g is freed by the caller */
    }
    /* body nodes move in at the If's place, renamed and remapped */
    for (int b = 0; b < body->nnodes; b++) {
        ld_node *n = &nodes[i + b];
        *n = body->nodes[b];
        memset(&body->nodes[b], 0, sizeof body->nodes[b]);
        char *nm = path_name(prefix, n->name);
        if (!nm) st = ld_oom();
        else { free(n->name); n->name = nm; }
        for (int k = 0; k < n->nin; k++) if (n->in[k] >= 0) n->in[k] = map[n->in[k]];
        for (int k = 0; k < n->nout; k++) if (n->out[k] >= 0) n->out[k] = map[n->out[k]];
        for (int k = 0; k < n->nimplicit; k++) n->implicit[k] = map[n->implicit[k]];
        recapture(n, g, map);
        n->orig_index = ifn->orig_index;
        n->inlined = depth;
        n->chosen = n->chosen || pick >= 0 || ifn->chosen;
    }
    int nb = body->nnodes;
    body->nnodes = 0;
    memcpy(nodes, g->nodes, sizeof *nodes * i);
    memcpy(nodes + i + nb + nextra, g->nodes + i + 1, sizeof *nodes * (g->nnodes - i - 1));
    ld_node_free_fields(ifn);   /* frees both branch graphs (the taken one is now empty) */
    free(g->nodes);
    g->nodes = nodes;
    g->nnodes = nnew;
    free(map);
    free(direct);
    return st;
}

static ld_status inline_graph(ld_graph *g, int *count) {
    for (int i = 0; i < g->nnodes; i++) {
        ld_node *n = &g->nodes[i];
        if (!n->op || !ld_node_has(n, LD_OPT_BRANCH) || n->nin < 1 || n->in[0] < 0) continue;
        if (!g->values[n->in[0]].const_val && chosen(g, n) < 0) continue;
        LD_TRY(inline_one(g, i));
        (*count)++;
        i--;   /* the branch's first node now sits at i; it is looked at after this loop */
    }
    for (int i = 0; i < g->nnodes; i++) {
        ld_node *n = &g->nodes[i];
        for (int a = 0; a < n->nattr; a++) {
            int ng = n->attrs[a].g ? 1 : n->attrs[a].type == LD_ATTR_GRAPHS ? n->attrs[a].n : 0;
            for (int k = 0; k < ng; k++)
                LD_TRY(inline_graph(n->attrs[a].g ? n->attrs[a].g : n->attrs[a].graphs[k], count));
        }
    }
    return LD_OK;
}

ld_status ld_graph_inline_branches(ld_graph *g, int *count) {
    *count = 0;
    return inline_graph(g, count);
}
