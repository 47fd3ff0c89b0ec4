/*
** branches.c — Ifs whose condition depends on the input but is the same for every compared run
** (a model that picks its network by a sample-rate input, a flag fed as an input): before the
** comparison, evaluate each If's condition on every feed (only the nodes the condition
** depends on run, through the one executor), and when all feeds agree, reload the model with
** that branch inlined (ld_model_load_choices), so the branch's layers become rows like any
** main-graph node. Inlined branches may hold Ifs of their own: repeat until nothing changes.
** When the feeds disagree the If stays one row and the counts say how many runs took which
** branch.
*/
#include "ld_branches.h"
#include "ld_exec.h"

#include <cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Ifs of the main graph whose condition is not a constant (constant ones are inlined at load). */
static bool open_if(const ld_graph *g, const ld_node *n) {
    return n->op && ld_node_has(n, LD_OPT_BRANCH) && n->nin >= 1 && n->in[0] >= 0 && !g->values[n->in[0]].const_val;
}

/* Mark the nodes the value v depends on (backwards through producers and subgraph captures). */
static void mark_cone(const ld_graph *g, int v, bool *need) {
    int p = g->values[v].producer;
    if (p < 0 || need[p] || g->nodes[p].folded) return;
    need[p] = true;
    const ld_node *n = &g->nodes[p];
    for (int k = 0; k < n->nin; k++) if (n->in[k] >= 0) mark_cone(g, n->in[k], need);
    for (int k = 0; k < n->nimplicit; k++) mark_cone(g, n->implicit[k], need);
}

/* The condition of every open If for one feed: cond[j] for the j-th open If (ifs[j]). */
static ld_status eval_conds(ld_graph *g, const ld_feed *f, const int *ifs, int nifs, const bool *need, int *cond) {
    ld_exec ex;
    ld_status st = ld_exec_init(&ex, g, NULL);
    for (int k = 0; st == LD_OK && k < f->n; k++) st = ld_exec_set_input(&ex, f->items[k].name, f->items[k].t);
    for (int i = 0; st == LD_OK && i < g->nnodes; i++)
        if (need[i] && !g->nodes[i].folded) st = ld_exec_step(&ex, i);
    for (int j = 0; st == LD_OK && j < nifs; j++) {
        const ld_node *n = &g->nodes[ifs[j]];
        const ld_tensor *t = ld_exec_value(&ex, n->in[0]);
        if (!t || t->kind != LD_KIND_TENSOR || t->numel != 1 || !t->data) {
            st = ld_error(LD_ERR_DATA, "node '%s' (If): the condition '%s' is not a single-element tensor", n->name,
                          g->values[n->in[0]].name);
            break;
        }
        cond[j] = ld_dtype_is_float(t->dtype) ? ld_tensor_get_f64(t, 0) != 0.0 : ld_tensor_get_i64(t, 0) != 0;
    }
    ld_exec_destroy(&ex);
    return st;
}

static ld_status count_add(ld_branch_counts *bc, const char *node, int then_runs, int else_runs, bool inlined) {
    ld_branch_count *nc = realloc(bc->items, sizeof *nc * (bc->n + 1));
    if (!nc) return ld_oom();
    bc->items = nc;
    ld_branch_count *c = &bc->items[bc->n];
    c->node = ld_strdup(node);
    if (!c->node) return ld_oom();
    c->then_runs = then_runs;
    c->else_runs = else_runs;
    c->inlined = inlined;
    bc->n++;
    return LD_OK;
}

void ld_branch_counts_clear(ld_branch_counts *bc) {
    for (int i = 0; i < bc->n; i++) free(bc->items[i].node);
    free(bc->items);
    memset(bc, 0, sizeof *bc);
}

ld_status ld_branches_resolve(const char *path, ld_model **model, const ld_feed *feeds, int nfeeds,
                              ld_branch_counts *out) {
    memset(out, 0, sizeof *out);
    ld_branch_choice *ch = NULL;
    int nch = 0;
    ld_status st = LD_OK;
    for (int round = 0; st == LD_OK && nfeeds > 0; round++) {
        ld_graph *g = (*model)->graph;
        int nifs = 0;
        for (int i = 0; i < g->nnodes; i++) nifs += open_if(g, &g->nodes[i]);
        /* Ifs counted in an earlier round and left as they are still show up: skip them */
        int *ifs = calloc(nifs + 1, sizeof(int)), *cond = calloc(nifs + 1, sizeof(int));
        int *thn = calloc(nifs + 1, sizeof(int));
        bool *need = calloc(g->nnodes + 1, sizeof(bool));
        if (!ifs || !cond || !thn || !need) st = ld_oom();
        int m = 0;
        for (int i = 0; st == LD_OK && i < g->nnodes; i++) {
            if (!open_if(g, &g->nodes[i])) continue;
            bool seen = false;
            for (int c = 0; c < out->n; c++) seen |= !strcmp(out->items[c].node, g->nodes[i].name);
            if (seen) continue;
            ifs[m++] = i;
            mark_cone(g, g->nodes[i].in[0], need);
        }
        for (int f = 0; st == LD_OK && m && f < nfeeds; f++) {
            st = eval_conds(g, &feeds[f], ifs, m, need, cond);
            if (st != LD_OK && nfeeds > 1) st = ld_err_prefix(st, "feed %d", f);
            for (int j = 0; st == LD_OK && j < m; j++) thn[j] += cond[j];
        }
        int added = 0;
        for (int j = 0; st == LD_OK && j < m; j++) {
            const char *name = g->nodes[ifs[j]].name;
            bool agree = thn[j] == 0 || thn[j] == nfeeds;
            st = count_add(out, name, thn[j], nfeeds - thn[j], agree);
            if (st != LD_OK || !agree) continue;
            ld_branch_choice *nc = realloc(ch, sizeof *nc * (nch + 1));
            if (!nc) { st = ld_oom(); break; }
            ch = nc;
            ch[nch].node = out->items[out->n - 1].node;
            ch[nch].then = thn[j] == nfeeds;
            nch++;
            added++;
        }
        free(ifs); free(cond); free(thn); free(need);
        if (st != LD_OK || !added) break;
        ld_model *nm = NULL;
        st = ld_model_load_choices(path, 0, ch, nch, &nm);
        if (st != LD_OK) break;
        ld_model_free(*model);
        *model = nm;
        (void)round;
    }
    free(ch);
    return st;
}

/* ---- in the report ---- */

void ld_branches_json(struct cJSON *settings, const ld_branch_counts *bc) {
    if (!bc || !bc->n) return;
    cJSON *a = cJSON_AddArrayToObject(settings, "branches");
    for (int i = 0; i < bc->n; i++) {
        cJSON *o = cJSON_CreateObject();
        cJSON_AddStringToObject(o, "node", bc->items[i].node);
        cJSON_AddNumberToObject(o, "then_runs", bc->items[i].then_runs);
        cJSON_AddNumberToObject(o, "else_runs", bc->items[i].else_runs);
        cJSON_AddBoolToObject(o, "inlined", bc->items[i].inlined);
        cJSON_AddItemToArray(a, o);
    }
}

void ld_branches_print(FILE *f, const ld_branch_counts *bc) {
    for (int i = 0; bc && i < bc->n; i++) {
        const ld_branch_count *b = &bc->items[i];
        int runs = b->then_runs + b->else_runs;
        if (b->inlined)
            fprintf(f, "If '%s': %s in all %d run%s: its nodes are the rows '%s/%s/...'\n", b->node,
                    b->then_runs ? "then_branch" : "else_branch", runs, runs == 1 ? "" : "s", b->node,
                    b->then_runs ? "then_branch" : "else_branch");
        else
            fprintf(f, "If '%s': then_branch in %d run%s, else_branch in %d: measured as one row\n", b->node,
                    b->then_runs, b->then_runs == 1 ? "" : "s", b->else_runs);
    }
}
