/*
** mixed_inline.c — the mixed-model writer's view of Ifs the loader inlined: the planner replaced
** every If with a constant condition by the nodes of its taken branch (src/core/inline_if.c),
** so pins may name body nodes ('If_0/then_branch/Conv_3'). Before the writer places its Casts,
** the same inlining is done on the protobuf — the If node becomes its branch's nodes with the
** same hierarchical node and value names, its body initializers move to the main graph, and
** outputs the branch does not compute itself get an Identity — and every protobuf node is
** matched with its planned node. The written model is then flat where the If's condition was
** a constant (which changes nothing it computes). Ifs inlined because every compared run took
** one branch (not a constant) cannot be written this way: the model would lose the other
** branch; the writer refuses them.
*/
#include "mixed_inline.h"
#include "ld_op.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct flat {
    Onnx__GraphProto *gp;
    char **lname;            /* per protobuf node: its name in the planned graph */
    int *origin;             /* per protobuf node: index in the file's main graph, -1 = from a body */
} flat;

static char *cat3(const char *a, const char *b, const char *c) {
    size_t la = strlen(a), lb = strlen(b), lc = strlen(c);
    char *s = malloc(la + lb + lc + 1);
    if (s) { memcpy(s, a, la); memcpy(s + la, b, lb); memcpy(s + la + lb, c, lc + 1); }
    return s;
}

static bool has_prefix(const ld_graph *g, const char *prefix) {
    size_t n = strlen(prefix);
    for (int i = 0; i < g->nnodes; i++) if (!strncmp(g->nodes[i].name, prefix, n)) return true;
    return false;
}

/* Replace the string *s by the renamed value if it names a branch-local value. */
static ld_status rename_ref(char **s, char **from, char **to, int n) {
    for (int i = 0; i < n; i++)
        if (!strcmp(*s, from[i])) {
            char *r = strdup(to[i]);
            if (!r) return ld_oom();
            free(*s);
            *s = r;
            return LD_OK;
        }
    return LD_OK;
}

/* Rename captured branch-local values inside a nested graph (recursively). */
static ld_status rename_graph(Onnx__GraphProto *sg, char **from, char **to, int n) {
    for (size_t i = 0; i < sg->n_node; i++) {
        Onnx__NodeProto *np = sg->node[i];
        for (size_t k = 0; k < np->n_input; k++) LD_TRY(rename_ref(&np->input[k], from, to, n));
        for (size_t a = 0; a < np->n_attribute; a++) {
            if (np->attribute[a]->g) LD_TRY(rename_graph(np->attribute[a]->g, from, to, n));
            for (size_t k = 0; k < np->attribute[a]->n_graphs; k++) LD_TRY(rename_graph(np->attribute[a]->graphs[k], from, to, n));
        }
    }
    for (size_t o = 0; o < sg->n_output; o++) LD_TRY(rename_ref(&sg->output[o]->name, from, to, n));
    return LD_OK;
}

static Onnx__GraphProto *branch_of(Onnx__NodeProto *np, const char *branch) {
    for (size_t a = 0; a < np->n_attribute; a++)
        if (!strcmp(np->attribute[a]->name, branch)) return np->attribute[a]->g;
    return NULL;
}

/* Inline protobuf node f (an If the planner inlined, taking `branch`). */
static ld_status flatten_one(flat *F, size_t f, const char *branch) {
    Onnx__GraphProto *gp = F->gp;
    Onnx__NodeProto *ifn = gp->node[f];
    Onnx__GraphProto *b = branch_of(ifn, branch);
    if (!b || b->n_output != ifn->n_output) return ld_error(LD_ERR_INTERNAL, "--write-model: If '%s' changed", F->lname[f]);
    char *prefix = cat3(F->lname[f], "/", branch);
    char *pre = prefix ? cat3(prefix, "/", "") : NULL;
    free(prefix);
    /* branch-local names: node outputs and initializers */
    size_t nloc = b->n_initializer;
    for (size_t i = 0; i < b->n_node; i++) nloc += b->node[i]->n_output;
    char **from = calloc(nloc + 1, sizeof *from), **to = calloc(nloc + 1, sizeof *to);
    bool *direct = calloc(b->n_output + 1, sizeof *direct);
    size_t nn = gp->n_node - 1 + b->n_node + b->n_output;
    Onnx__NodeProto **nodes = calloc(nn + 1, sizeof *nodes);
    char **lname = calloc(nn + 1, sizeof *lname);
    int *origin = calloc(nn + 1, sizeof *origin);
    Onnx__TensorProto **ni = realloc(gp->initializer, sizeof *ni * (gp->n_initializer + b->n_initializer + 1));
    if (ni) gp->initializer = ni;
    ld_status st = (!pre || !from || !to || !direct || !nodes || !lname || !origin || !ni) ? ld_oom() : LD_OK;
    int n = 0;
    for (size_t i = 0; st == LD_OK && i < b->n_node; i++)
        for (size_t o = 0; st == LD_OK && o < b->node[i]->n_output; o++) {
            const char *nm = b->node[i]->output[o];
            if (!nm[0]) continue;
            from[n] = strdup(nm);
            to[n] = NULL;
            for (size_t q = 0; q < b->n_output; q++)   /* the first If output it feeds takes its name */
                if (ifn->output[q][0] && !strcmp(b->output[q]->name, nm)) {
                    to[n] = strdup(ifn->output[q]);
                    direct[q] = true;
                    break;
                }
            if (!to[n]) to[n] = cat3(pre, nm, "");
            if (!to[n] || !from[n]) st = ld_oom();
            n++;
        }
    for (size_t t = 0; st == LD_OK && t < b->n_initializer; t++) {
        from[n] = strdup(b->initializer[t]->name);
        to[n] = cat3(pre, b->initializer[t]->name, "");
        n++;
        if (!from[n - 1] || !to[n - 1]) { st = ld_oom(); break; }
    }
    /* the new node list: before f, the branch's nodes, Identities, after f */
    size_t k = 0;
    for (size_t i = 0; st == LD_OK && i < f; i++) { nodes[k] = gp->node[i]; lname[k] = F->lname[i]; origin[k++] = F->origin[i]; }
    for (size_t i = 0; st == LD_OK && i < b->n_node; i++) {
        Onnx__NodeProto *np = b->node[i];
        char own[64];
        snprintf(own, sizeof own, "%s_%zu", np->op_type, i);   /* the loader's name for an unnamed node */
        lname[k] = cat3(pre, np->name && np->name[0] ? np->name : own, "");
        if (!lname[k]) { st = ld_oom(); break; }
        free(np->name);
        np->name = strdup(lname[k]);
        if (!np->name) { st = ld_oom(); break; }
        for (size_t q = 0; st == LD_OK && q < np->n_input; q++) if (np->input[q][0]) st = rename_ref(&np->input[q], from, to, n);
        for (size_t q = 0; st == LD_OK && q < np->n_output; q++) if (np->output[q][0]) st = rename_ref(&np->output[q], from, to, n);
        for (size_t a = 0; st == LD_OK && a < np->n_attribute; a++) {
            if (np->attribute[a]->g) st = rename_graph(np->attribute[a]->g, from, to, n);
            for (size_t q = 0; st == LD_OK && q < np->attribute[a]->n_graphs; q++)
                st = rename_graph(np->attribute[a]->graphs[q], from, to, n);
        }
        origin[k] = -1;
        nodes[k++] = np;
        b->node[i] = NULL;
    }
    for (size_t q = 0; st == LD_OK && q < b->n_output; q++) {
        if (direct[q] || !ifn->output[q][0]) continue;
        Onnx__NodeProto *id = malloc(sizeof *id);
        if (!id) { st = ld_oom(); break; }
        onnx__node_proto__init(id);
        char nm[64];
        snprintf(nm, sizeof nm, "Identity_out%zu", q);
        char *src = strdup(b->output[q]->name);
        if (src) st = rename_ref(&src, from, to, n);
        id->name = cat3(pre, nm, "");
        id->op_type = strdup("Identity");
        id->n_input = id->n_output = 1;
        id->input = malloc(sizeof(char *));
        id->output = malloc(sizeof(char *));
        lname[k] = id->name ? strdup(id->name) : NULL;
        if (!src || !id->name || !id->op_type || !id->input || !id->output || !lname[k]) {
            free(src);
            onnx__node_proto__free_unpacked(id, NULL);
            st = ld_oom();
            break;
        }
        id->input[0] = src;
        id->output[0] = strdup(ifn->output[q]);
        origin[k] = -1;
        nodes[k++] = id;
    }
    for (size_t t = 0; st == LD_OK && t < b->n_initializer; t++) {
        Onnx__TensorProto *tp = b->initializer[t];
        st = rename_ref(&tp->name, from, to, n);
        gp->initializer[gp->n_initializer++] = tp;
        b->initializer[t] = NULL;
    }
    if (st == LD_OK) b->n_initializer = 0;
    for (size_t i = f + 1; st == LD_OK && i < gp->n_node; i++) { nodes[k] = gp->node[i]; lname[k] = F->lname[i]; origin[k++] = F->origin[i]; }
    for (int i = 0; i < n; i++) { free(from[i]); free(to[i]); }
    free(from); free(to); free(direct); free(pre);
    if (st != LD_OK) {   /* nodes moved so far stay referenced from nodes[]: leak them rather than double-free */
        free(nodes); free(lname); free(origin);
        return st;
    }
    b->n_node = 0;
    free(F->lname[f]);
    onnx__node_proto__free_unpacked(ifn, NULL);
    free(gp->node); free(F->lname); free(F->origin);
    gp->node = nodes;
    gp->n_node = k;
    F->lname = lname;
    F->origin = origin;
    return LD_OK;
}

ld_status ld_mixed_check_chosen(const ld_graph *g) {
    for (int i = 0; i < g->nnodes; i++)
        if (g->nodes[i].chosen)
            return ld_error(LD_ERR_UNSUPPORTED, "--write-model: node '%s' (%s) comes from an If whose condition depends on "
                            "the input (every compared run took this branch); the written model would lose the other branch",
                            g->nodes[i].name, g->nodes[i].op_type);
    return LD_OK;
}

ld_status ld_mixed_flatten(Onnx__GraphProto *gp, const ld_graph *g, const ld_node ***byfile_out, int **plan_index_out) {
    LD_TRY(ld_mixed_check_chosen(g));
    flat F = {.gp = gp, .lname = calloc(gp->n_node + 1, sizeof(char *)), .origin = calloc(gp->n_node + 1, sizeof(int))};
    ld_status st = F.lname && F.origin ? LD_OK : ld_oom();
    for (size_t f = 0; st == LD_OK && f < gp->n_node; f++) {
        char own[64];
        snprintf(own, sizeof own, "%s_%zu", gp->node[f]->op_type, f);
        F.lname[f] = strdup(gp->node[f]->name && gp->node[f]->name[0] ? gp->node[f]->name : own);
        F.origin[f] = (int)f;
        if (!F.lname[f]) st = ld_oom();
    }
    for (size_t f = 0; st == LD_OK && f < gp->n_node; f++) {
        Onnx__NodeProto *np = gp->node[f];
        if (!(ld_op_traits_find(np->domain, np->op_type)->flags & LD_OPT_BRANCH)) continue;
        char *pt = cat3(F.lname[f], "/then_branch/", ""), *pe = cat3(F.lname[f], "/else_branch/", "");
        if (!pt || !pe) st = ld_oom();
        else if (has_prefix(g, pt)) st = flatten_one(&F, f--, "then_branch");
        else if (has_prefix(g, pe)) st = flatten_one(&F, f--, "else_branch");
        free(pt);
        free(pe);
    }
    /* match: nodes of the file's main graph by position, inlined ones by their path name */
    const ld_node **byfile = calloc(gp->n_node + 1, sizeof *byfile);
    int *plan_index = calloc(gp->n_node + 1, sizeof(int));
    if (st == LD_OK && (!byfile || !plan_index)) st = ld_oom();
    for (size_t f = 0; st == LD_OK && f < gp->n_node; f++)
        for (int i = 0; i < g->nnodes; i++) {
            const ld_node *n = &g->nodes[i];
            if (F.origin[f] >= 0 ? (!n->inlined && n->orig_index == F.origin[f]) : (n->inlined && !strcmp(n->name, F.lname[f]))) {
                byfile[f] = n;
                plan_index[f] = i;
                break;
            }
        }
    for (size_t f = 0; F.lname && f < gp->n_node; f++) free(F.lname[f]);
    free(F.lname);
    free(F.origin);
    if (st != LD_OK) { free(byfile); free(plan_index); return st; }
    *byfile_out = byfile;
    *plan_index_out = plan_index;
    return LD_OK;
}
