/*
** ld_branches.h — Ifs whose branch is known for the whole run: the comparison evaluates every
** data-dependent If condition on each feed before it starts, inlines the branch all feeds take
** (its layers become rows), and keeps the counts for the report (src/compare/branches.c).
**
** Layer: compare (see tests/tools/check_layers.sh).
*/
#ifndef LD_BRANCHES_H
#define LD_BRANCHES_H

#include "ld_graph.h"
#include "ld_io.h"

#include <stdio.h>

typedef struct ld_branch_count {
    char *node;              /* the If's name in the graph it was found in */
    int then_runs, else_runs;   /* feeds whose condition was true / false */
    bool inlined;            /* every feed agreed: the branch's nodes are rows */
} ld_branch_count;

typedef struct ld_branch_counts { ld_branch_count *items; int n; } ld_branch_counts;

/* Evaluate the condition of every If of (*model)'s main graph whose condition is not a constant
 * on each of the nfeeds feeds; when all agree, reload the model from path with that branch
 * inlined (*model is replaced), and repeat for Ifs the inlined branches bring up. out gets
 * one entry per If looked at. */
ld_status ld_branches_resolve(const char *path, ld_model **model, const ld_feed *feeds, int nfeeds,
                              ld_branch_counts *out);
void ld_branch_counts_clear(ld_branch_counts *bc);

/* The report's settings.branches array (nothing when bc is NULL or empty) and its text lines. */
struct cJSON;
void ld_branches_json(struct cJSON *settings, const ld_branch_counts *bc);
void ld_branches_print(FILE *f, const ld_branch_counts *bc);

#endif
