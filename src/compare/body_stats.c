/*
** body_stats.c — the layers inside Loop/Scan bodies (and Ifs that stay Ifs): while the
** comparison runs a control-flow node, the reference side runs its body through a recording
** runner (every body node's float output 0, per run, in order) and the propagated target side
** through a measuring runner (the target-precision runner, then the SQNR of the same body
** node's same run against the recording). The recording runner also runs each body node once
** more through the isolated runner (the comparison's target-precision runner, which rounds
** the reference inputs to the node's input format) and measures that against the reference
** output: the body node's isolated error. Each body node gets its number of runs (every
** iteration of every sample), worst and mean SQNR and the first run below the tolerance;
** nested bodies recurse through the same runners (an executor's runner is inherited by the
** executors of its bodies), so there is still one executor.
*/
#include "body_stats.h"

#include <cJSON.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct rec {
    const ld_node *node;
    ld_tensor **ref;         /* output 0 of each reference run (NULL: not a float tensor) */
    int64_t nref, cap, ntgt;
    int slot;                /* index in the node result's body[] */
} rec;

struct body_run {
    ld_node_result *nr;
    const ld_graph *top;
    const ld_node *owner;
    ld_node_runner target;   /* the target-precision runner and its user */
    void *target_user;
    ld_node_runner iso;      /* the same on reference inputs (NULL: no isolated errors) */
    void *iso_user;
    const ld_policy *policy; /* for the body pins */
    double min_sqnr;
    rec *recs;
    int nrecs;
};

/* "<owner>/<attribute>/<node>" for a node of a body graph, walking up to the main graph. */
static void body_path(const ld_graph *top, const ld_graph *g, const char *leaf, char *buf, size_t n) {
    if (g == top || !g->parent) { snprintf(buf, n, "%s", leaf); return; }
    const ld_graph *p = g->parent;
    for (int i = 0; i < p->nnodes; i++) {
        const ld_node *o = &p->nodes[i];
        for (int a = 0; a < o->nattr; a++) {
            int ng = o->attrs[a].g ? 1 : o->attrs[a].type == LD_ATTR_GRAPHS ? o->attrs[a].n : 0;
            for (int k = 0; k < ng; k++)
                if ((o->attrs[a].g ? o->attrs[a].g : o->attrs[a].graphs[k]) == g) {
                    char up[1024];
                    snprintf(up, sizeof up, "%s/%s", o->name, o->attrs[a].name);
                    char full[1536];
                    snprintf(full, sizeof full, "%s/%s", up, leaf);
                    body_path(top, p, full, buf, n);
                    return;
                }
        }
    }
    snprintf(buf, n, "%s", leaf);
}

static ld_status find_rec(body_run *b, ld_exec *ex, const ld_node *node, rec **out) {
    for (int i = 0; i < b->nrecs; i++) if (b->recs[i].node == node) { *out = &b->recs[i]; return LD_OK; }
    rec *nr = realloc(b->recs, sizeof *nr * (b->nrecs + 1));
    if (!nr) return ld_oom();
    b->recs = nr;
    rec *r = &b->recs[b->nrecs++];
    memset(r, 0, sizeof *r);
    r->node = node;
    char path[2048];
    body_path(b->top, ld_exec_graph(ex), node->name, path, sizeof path);
    ld_node_result *res = b->nr;
    r->slot = -1;
    for (int i = 0; i < res->nbody; i++) if (!strcmp(res->body[i].path, path)) r->slot = i;
    if (r->slot < 0) {
        ld_body_result *nb = realloc(res->body, sizeof *nb * (res->nbody + 1));
        if (!nb) return ld_oom();
        res->body = nb;
        ld_body_result *e = &res->body[res->nbody];
        memset(e, 0, sizeof *e);
        e->path = ld_strdup(path);
        if (!e->path) return ld_oom();
        e->op = node->op_type;
        e->worst_sqnr = INFINITY;
        e->first_fail = -1;
        e->iso_worst_sqnr = INFINITY;
        e->iso_first_fail = -1;
        e->pinned = ld_policy_body_pinned(b->policy, node);
        r->slot = res->nbody++;
    }
    *out = r;
    return LD_OK;
}

ld_status body_run_open(body_run **out, ld_node_result *nr, const ld_graph *top, const ld_node *owner, double min_sqnr,
                        const ld_policy *policy) {
    body_run *b = calloc(1, sizeof *b);
    if (!b) return ld_oom();
    b->nr = nr;
    b->top = top;
    b->owner = owner;
    b->min_sqnr = min_sqnr;
    b->policy = policy;
    *out = b;
    return LD_OK;
}

void body_run_set_target(body_run *b, ld_node_runner fn, void *user) {
    b->target = fn;
    b->target_user = user;
}

void body_run_set_isolated(body_run *b, ld_node_runner fn, void *user) {
    b->iso = fn;
    b->iso_user = user;
}

void body_run_close(body_run *b) {
    if (!b) return;
    /* iterations: runs of the first node of the owner's own bodies */
    int64_t it = 0;
    for (int i = 0; i < b->nrecs; i++) {
        const rec *r = &b->recs[i];
        bool direct = false;
        for (int a = 0; a < b->owner->nattr; a++) {
            const ld_graph *g = b->owner->attrs[a].g;
            if (g && g->nnodes && &g->nodes[0] == r->node) direct = true;
        }
        if (direct && r->ntgt > it) it = r->ntgt;
    }
    b->nr->iterations += it;
    for (int i = 0; i < b->nrecs; i++) {
        for (int64_t k = 0; k < b->recs[i].nref; k++) ld_tensor_free(b->recs[i].ref[k]);
        free(b->recs[i].ref);
    }
    free(b->recs);
    free(b);
}

static bool f32(const ld_tensor *t) { return t && t->kind == LD_KIND_TENSOR && t->dtype == LD_F32 && t->data; }

/* SQNR of y against x in dB, in a fixed order (bitwise the same for any --threads): -inf
 * when y has a non-finite value where x has none or x is all zero, +inf when exact. */
static double run_sqnr(const ld_tensor *ref, const ld_tensor *t) {
    const float *x = ref->data, *y = t->data;
    double sig = 0, err = 0;
    bool nonfinite = false;
    for (int64_t i = 0; i < ref->numel; i++) {
        if (isfinite(x[i]) && !isfinite(y[i])) nonfinite = true;
        double d = (double)y[i] - (double)x[i];
        sig += (double)x[i] * x[i];
        err += d * d;
    }
    return nonfinite ? -INFINITY : err == 0 ? INFINITY : sig == 0 ? -INFINITY : 10.0 * log10(sig / err);
}

/* Node run on the reference inputs `in` in the target precision, against the reference
 * output ref: the isolated error of this run. Control-flow body nodes are left out (their
 * own bodies would be recorded again). */
static ld_status isolated_run(body_run *b, ld_exec *ex, const ld_node *node, ld_tensor **in, const ld_tensor *ref,
                              ld_body_result *e) {
    if (!b->iso || !ref || (node->op && (node->op->flags & LD_OPF_SUBGRAPH))) return LD_OK;
    ld_tensor **out = calloc(node->nout + 1, sizeof *out);
    ld_status st = out ? LD_OK : ld_oom();
    for (int k = 0; st == LD_OK && k < node->nout; k++)
        if (node->out[k] >= 0 && !(out[k] = calloc(1, sizeof **out))) st = ld_oom();
    if (st == LD_OK) st = b->iso(ex, node, in, out, b->iso_user);
    if (st == LD_OK && f32(out[0]) && out[0]->numel == ref->numel) {
        double q = run_sqnr(ref, out[0]);
        int64_t run = e->iso_runs++;
        if (q < e->iso_worst_sqnr) e->iso_worst_sqnr = q;
        if (isfinite(q)) { e->iso_sqnr_sum += q; e->iso_finite_runs++; }
        else if (q > 0) e->iso_exact_runs++;
        if (q < b->min_sqnr && e->iso_first_fail < 0) e->iso_first_fail = run;
    }
    for (int k = 0; out && k < node->nout; k++) ld_tensor_free(out[k]);
    free(out);
    return st;
}

ld_status body_ref_runner(ld_exec *ex, const ld_node *node, ld_tensor **in, ld_tensor **out, void *user) {
    body_run *b = user;
    LD_TRY(ld_node_run(ex, node, in, out));
    rec *r;
    LD_TRY(find_rec(b, ex, node, &r));
    if (r->nref == r->cap) {
        int64_t cap = r->cap ? 2 * r->cap : 8;
        ld_tensor **nr = realloc(r->ref, sizeof *nr * cap);
        if (!nr) return ld_oom();
        r->ref = nr;
        r->cap = cap;
    }
    ld_tensor *copy = NULL;
    if (node->nout && f32(out[0])) {
        copy = calloc(1, sizeof *copy);
        if (!copy) return ld_oom();
        ld_status st = ld_tensor_copy(copy, out[0]);
        if (st != LD_OK) { ld_tensor_free(copy); return st; }
    }
    r->ref[r->nref++] = copy;
    return isolated_run(b, ex, node, in, copy, &b->nr->body[r->slot]);
}

ld_status body_tgt_runner(ld_exec *ex, const ld_node *node, ld_tensor **in, ld_tensor **out, void *user) {
    body_run *b = user;
    LD_TRY(b->target ? b->target(ex, node, in, out, b->target_user) : ld_node_run(ex, node, in, out));
    rec *r;
    LD_TRY(find_rec(b, ex, node, &r));
    int64_t k = r->ntgt++;
    const ld_tensor *ref = k < r->nref ? r->ref[k] : NULL;
    if (!ref || !node->nout || !f32(out[0]) || out[0]->numel != ref->numel) return LD_OK;
    ld_body_result *e = &b->nr->body[r->slot];
    double q = run_sqnr(ref, out[0]);
    int64_t run = e->runs++;
    if (q < e->worst_sqnr) e->worst_sqnr = q;
    if (isfinite(q)) { e->sqnr_sum += q; e->finite_runs++; }
    else if (q > 0) e->exact_runs++;
    if (q < b->min_sqnr && e->first_fail < 0) e->first_fail = run;
    return LD_OK;
}

void body_results_free(ld_node_result *nr) {
    for (int i = 0; i < nr->nbody; i++) free(nr->body[i].path);
    free(nr->body);
    nr->body = NULL;
    nr->nbody = 0;
    nr->iterations = 0;
}

/* ---- in the report ---- */

static double mean_of(double sum, int64_t finite, int64_t exact, double worst) {
    if (finite) return sum / (double)finite;
    return exact ? INFINITY : worst;
}
static double mean_sqnr(const ld_body_result *e) {
    return mean_of(e->sqnr_sum, e->finite_runs, e->exact_runs, e->worst_sqnr);
}
static double iso_mean_sqnr(const ld_body_result *e) {
    return mean_of(e->iso_sqnr_sum, e->iso_finite_runs, e->iso_exact_runs, e->iso_worst_sqnr);
}

static void sqnr_num(cJSON *o, const char *k, double v) {
    if (isfinite(v)) cJSON_AddNumberToObject(o, k, v);
    else cJSON_AddStringToObject(o, k, v > 0 ? "inf" : "-inf");
}

void body_results_json(struct cJSON *nj, const ld_node_result *nr) {
    if (!nr->nbody) return;
    cJSON_AddNumberToObject(nj, "iterations", (double)nr->iterations);
    cJSON *a = cJSON_AddArrayToObject(nj, "body");
    for (int i = 0; i < nr->nbody; i++) {
        const ld_body_result *e = &nr->body[i];
        cJSON *o = cJSON_CreateObject();
        cJSON_AddStringToObject(o, "name", e->path);
        cJSON_AddStringToObject(o, "op", e->op);
        cJSON_AddBoolToObject(o, "pinned", e->pinned);
        cJSON_AddNumberToObject(o, "runs", (double)e->runs);
        if (e->runs) {
            sqnr_num(o, "worst_sqnr_db", e->worst_sqnr);
            sqnr_num(o, "mean_sqnr_db", mean_sqnr(e));
        }
        if (e->first_fail >= 0) cJSON_AddNumberToObject(o, "first_failing_run", (double)e->first_fail);
        else cJSON_AddNullToObject(o, "first_failing_run");
        if (e->iso_runs) {   /* isolated errors (absent: not measured, e.g. a pinned Loop) */
            cJSON_AddNumberToObject(o, "iso_runs", (double)e->iso_runs);
            sqnr_num(o, "iso_worst_sqnr_db", e->iso_worst_sqnr);
            sqnr_num(o, "iso_mean_sqnr_db", iso_mean_sqnr(e));
            if (e->iso_first_fail >= 0) cJSON_AddNumberToObject(o, "iso_first_failing_run", (double)e->iso_first_fail);
            else cJSON_AddNullToObject(o, "iso_first_failing_run");
        }
        cJSON_AddItemToArray(a, o);
    }
}

static void db_text(char *buf, size_t n, double v) {
    if (isfinite(v)) snprintf(buf, n, "%.1f", v);
    else snprintf(buf, n, "%s", v > 0 ? "exact" : "-inf");
}

void body_results_print(FILE *f, const ld_node_result *nr, const ld_node *owner) {
    if (!nr->nbody) return;
    if (ld_node_has(owner, LD_OPT_BRANCH))   /* an If that stayed one row: each branch over the runs that took it */
        fprintf(f, "%7s%lld run%s; branch nodes over the runs that took their branch (worst / mean SQNR, first failing run;\n",
                "", (long long)nr->iterations, nr->iterations == 1 ? "" : "s");
    else
        fprintf(f, "%7s%lld iteration%s; body nodes over every run (worst / mean SQNR, first failing run;\n", "",
                (long long)nr->iterations, nr->iterations == 1 ? "" : "s");
    fprintf(f, "%7sthen isolated: the node alone on the reference inputs):\n", "");
    for (int i = 0; i < nr->nbody; i++) {
        const ld_body_result *e = &nr->body[i];
        char w[32], m[32], ff[48], iw[32], im[32], iff[160];
        if (!e->runs) { fprintf(f, "%8s%c%-40s %-12s not compared\n", "", e->pinned ? '*' : ' ', e->path, e->op); continue; }
        db_text(w, sizeof w, e->worst_sqnr);
        db_text(m, sizeof m, mean_sqnr(e));
        if (e->first_fail >= 0) snprintf(ff, sizeof ff, "  FAIL from run %lld", (long long)e->first_fail);
        else ff[0] = 0;
        iff[0] = 0;
        if (e->iso_runs) {
            db_text(iw, sizeof iw, e->iso_worst_sqnr);
            db_text(im, sizeof im, iso_mean_sqnr(e));
            snprintf(iff, sizeof iff, "  isolated %s %s", iw, im);
            if (e->iso_first_fail >= 0)
                snprintf(iff + strlen(iff), sizeof iff - strlen(iff), " FAIL from run %lld", (long long)e->iso_first_fail);
        }
        fprintf(f, "%8s%c%-40s %-12s %6lld runs  %9s %9s%s%s\n", "", e->pinned ? '*' : ' ', e->path, e->op, (long long)e->runs, w,
                m, ff, iff);
    }
}

/* The body node whose isolated error fails first (earliest run; the earlier body node on a
 * tie), -1 if none. */
int body_first_iso_fail(const ld_node_result *nr) {
    int best = -1;
    for (int i = 0; i < nr->nbody; i++) {
        const ld_body_result *e = &nr->body[i];
        if (e->iso_first_fail >= 0 && (best < 0 || e->iso_first_fail < nr->body[best].iso_first_fail)) best = i;
    }
    return best;
}
