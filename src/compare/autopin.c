/*
** autopin.c — the pin search. One measured pass ranks the nodes by the error they cause
** (isolated comparison); every try then changes the pin set and recomputes only the target
** values downstream of the earliest changed node, reusing the kept values upstream.
**   greedy: pin the k worst (k = 1, 2, 4, ... then bisection on k) until the goals hold,
**           then try to unpin each chosen node, least harmful first;
**   bisect / linear: pin a prefix (or, reversed, a suffix) of the topological order, as
**           Polygraphy's `debug precision`, then prune the same way.
*/
#include "ld_autopin.h"
#include "ld_session.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* ---- goals ---- */

ld_status ld_goal_parse(const char *s, ld_goal *g) {
    static const struct { const char *name; ld_goal_kind k; const char *op; } tab[] = {
        {"sqnr", LD_GOAL_SQNR, ">="}, {"cosine", LD_GOAL_COSINE, ">="}, {"top1", LD_GOAL_TOP1, ">="},
        {"acc_delta", LD_GOAL_ACC_DELTA, ">="}, {"maxrel", LD_GOAL_MAXREL, "<="},
    };
    for (size_t i = 0; i < LD_ARRAY_LEN(tab); i++) {
        size_t n = strlen(tab[i].name);
        if (strncmp(s, tab[i].name, n) || strncmp(s + n, tab[i].op, 2)) continue;
        char *end;
        const char *v = s + n + 2;
        g->kind = tab[i].k;
        g->value = strtod(v, &end);
        if (end == v || *end || !isfinite(g->value)) break;
        return LD_OK;
    }
    return ld_error(LD_ERR_USAGE, "--goal '%s': expected sqnr>=DB, cosine>=X, top1>=PCT, acc_delta>=-PP or maxrel<=X", s);
}

const char *ld_goal_str(const ld_goal *g, char *buf, size_t n) {
    static const char *const names[] = {"sqnr>=", "cosine>=", "top1>=", "acc_delta>=", "maxrel<="};
    snprintf(buf, n, "%s%g", names[g->kind], g->value);
    return buf;
}

int ld_goal_defaults(ld_target t, bool classifier, ld_goal *out, int max) {
    int n = 0;
    double sqnr = ld_target_format(t)->goal_sqnr;
    if (n < max) out[n++] = (ld_goal){LD_GOAL_SQNR, sqnr};
    if (classifier && n < max) out[n++] = (ld_goal){LD_GOAL_TOP1, 99.0};
    return n;
}

static bool goal_holds(const ld_goal *g, const ld_goal_eval *e) {
    switch (g->kind) {
    case LD_GOAL_SQNR: return e->sqnr >= g->value;
    case LD_GOAL_COSINE: return e->cosine >= g->value;
    case LD_GOAL_TOP1: return e->top1 >= g->value;
    case LD_GOAL_ACC_DELTA: return e->labelled && e->acc_delta >= g->value;
    case LD_GOAL_MAXREL: return e->maxrel <= g->value;
    }
    return false;
}

/* ---- search state ---- */

typedef struct search {
    ld_session *s;
    ld_compare c;
    ld_sample_run **runs;    /* this process's samples (all of them without o->dist) */
    int nruns;
    /* with o->dist: a comparison per local sample (its run measures into it), and every
    ** sample's outputs gathered from all processes: ref/tgt[k * noutputs + q] */
    ld_compare *cs;
    ld_tensor **gref, **gtgt;
    int nall;
    bool *cur;               /* pins the kept target values were computed with */
    const ld_autopin_opts *o;
    ld_autopin_result *r;
    ld_goal_eval best_eval;
    int best_npinned;
    double t0;
    int tries;
    const char *stopped;
} search;

/* Output q of sample k (reference or target side). */
static const ld_tensor *out_of(const search *S, int k, int q, bool tgt) {
    const ld_graph *g = S->s->model->graph;
    if (S->o->dist) return (tgt ? S->gtgt : S->gref)[(size_t)k * g->noutputs + q];
    return tgt ? ld_sample_run_tgt(S->runs[k], g->outputs[q]) : ld_sample_run_ref(S->runs[k], g->outputs[q]);
}

/* Goal figures for the current target values. Each output that compare lists (measured: a
** float output computed at run time; not a constant, which is exact on both sides and, pooled
** with the others, would drown their error) is measured on its own over every sample with
** ld_err_sqnr's sums; the goals hold for the worst one. Top-1 reads ld_graph_main_output. */
static void evaluate(search *S, ld_goal_eval *e) {
    ld_graph *g = S->s->model->graph;
    int nk = S->o->dist ? S->nall : S->nruns, qc = ld_graph_main_output(g);
    double sqnr = INFINITY, cosine = 1.0, maxrel = 0;
    int64_t agree = 0, rows = 0, rc = 0, tc = 0;
    bool finite = true;
    for (int q = 0; q < g->noutputs; q++) {
        bool measure = S->c.outputs[q] && S->c.outputs[q]->measured;
        double see = 0, srr = 0, stt = 0, srt = 0;
        bool fin = true;
        for (int k = 0; k < nk; k++) {
            const ld_tensor *rt = out_of(S, k, q, false);
            const ld_tensor *tt = out_of(S, k, q, true);
            if (!rt || !tt || rt->dtype != LD_F32 || tt->dtype != LD_F32 || rt->numel != tt->numel) continue;
            const float *a = rt->data, *b = tt->data;
            for (int64_t i = 0; measure && i < rt->numel; i++) {
                if (!isfinite(a[i])) continue;
                if (!isfinite(b[i])) { fin = false; continue; }
                double d = (double)a[i] - b[i];
                see += d * d; srr += (double)a[i] * a[i]; stt += (double)b[i] * b[i]; srt += (double)a[i] * b[i];
                double rel = fabs(d) / (fabs(a[i]) + LD_REL_EPS);
                if (rel > maxrel) maxrel = rel;
            }
            if (q == qc && rt->ndim == 2 && rt->dims[1] > 1) {
                int64_t K = rt->dims[1];
                for (int64_t n = 0; n < rt->dims[0]; n++, rows++) {
                    int64_t ia = 0, ib = 0;
                    for (int64_t j = 1; j < K; j++) {
                        if (a[n * K + j] > a[n * K + ia]) ia = j;
                        if (b[n * K + j] > b[n * K + ib]) ib = j;
                    }
                    agree += ia == ib;
                    if (S->s->labels && rows < S->s->nlabels) {
                        rc += ia == S->s->labels[rows];
                        tc += ib == S->s->labels[rows];
                    }
                }
            }
        }
        if (!measure) continue;
        finite &= fin;
        double sq = see == 0 ? INFINITY : srr == 0 ? -INFINITY : 10 * log10(srr / see);
        double cs = (srr == 0 && stt == 0) ? 1.0 : (srr == 0 || stt == 0) ? 0.0 : srt / sqrt(srr * stt);
        if (sq < sqnr) sqnr = sq;
        if (cs < cosine) cosine = cs;
    }
    /* non-finite outputs are the worst case whatever the finite elements say */
    e->sqnr = !finite ? -INFINITY : sqnr;
    e->cosine = !finite ? 0.0 : cosine;
    e->top1 = rows ? 100.0 * agree / rows : 100.0;
    e->labelled = S->s->labels && S->s->nlabels >= rows && rows > 0;
    e->acc_delta = e->labelled ? 100.0 * (tc - rc) / rows : 0;
    e->maxrel = maxrel;
    e->finite = finite;
    e->met = finite;
    for (int i = 0; i < S->o->ngoals; i++) e->met &= goal_holds(&S->o->goals[i], e);
}

static double primary(const search *S, const ld_goal_eval *e) {
    if (!e->finite) return -INFINITY;
    const ld_goal *g = &S->o->goals[0];
    switch (g->kind) {
    case LD_GOAL_SQNR: return e->sqnr;
    case LD_GOAL_COSINE: return e->cosine;
    case LD_GOAL_TOP1: return e->top1;
    case LD_GOAL_ACC_DELTA: return e->acc_delta;
    default: return -e->maxrel;
    }
}

static int count(const bool *p, int n) { int c = 0; for (int i = 0; i < n; i++) c += p[i]; return c; }

static bool out_of_budget(search *S) {
    if (S->o->max_tries && S->tries >= S->o->max_tries) { S->stopped = "max-tries"; return true; }
    if (S->o->time_limit > 0 && ld_now_sec() - S->t0 >= S->o->time_limit) { S->stopped = "time-limit"; return true; }
    return false;
}

/* ---- samples split over processes (o->dist) ---- */

static void put(uint8_t **p, size_t *n, size_t *cap, const void *src, size_t len, bool *oom) {
    if (*oom) return;
    if (*n + len > *cap) {
        size_t c = (*cap + len) * 2;
        uint8_t *np = realloc(*p, c);
        if (!np) { *oom = true; return; }
        *p = np;
        *cap = c;
    }
    memcpy(*p + *n, src, len);
    *n += len;
}

/* The model outputs of one run (one side) as bytes: per output, present flag, dtype, ndim,
** dims, data (float32 only: the goals read nothing else). */
static ld_status pack_outputs(const search *S, ld_sample_run *run, bool tgt, uint8_t **buf, size_t *len) {
    const ld_graph *g = S->s->model->graph;
    size_t n = 0, cap = 0;
    bool oom = false;
    *buf = NULL;
    for (int q = 0; q < g->noutputs; q++) {
        const ld_tensor *t = tgt ? ld_sample_run_tgt(run, g->outputs[q]) : ld_sample_run_ref(run, g->outputs[q]);
        int32_t hdr[2] = {t && t->kind == LD_KIND_TENSOR && t->dtype == LD_F32, t ? t->ndim : 0};
        put(buf, &n, &cap, hdr, sizeof hdr, &oom);
        if (!hdr[0]) continue;
        put(buf, &n, &cap, t->dims, sizeof(int64_t) * t->ndim, &oom);
        put(buf, &n, &cap, t->data, t->numel * sizeof(float), &oom);
    }
    if (oom) { free(*buf); return ld_oom(); }
    *len = n;
    return LD_OK;
}

static ld_status unpack_outputs(const search *S, const uint8_t *p, size_t len, ld_tensor **out) {
    const ld_graph *g = S->s->model->graph;
    size_t at = 0;
    for (int q = 0; q < g->noutputs; q++) {
        ld_tensor_free(out[q]);
        out[q] = NULL;
        int32_t hdr[2];
        if (at + sizeof hdr > len) return ld_error(LD_ERR_INTERNAL, "autopin: gathered outputs truncated");
        memcpy(hdr, p + at, sizeof hdr);
        at += sizeof hdr;
        if (!hdr[0]) continue;
        int64_t dims[LD_MAX_DIMS];
        if (hdr[1] < 0 || hdr[1] > LD_MAX_DIMS || at + sizeof(int64_t) * hdr[1] > len)
            return ld_error(LD_ERR_INTERNAL, "autopin: gathered outputs malformed");
        memcpy(dims, p + at, sizeof(int64_t) * hdr[1]);
        at += sizeof(int64_t) * hdr[1];
        LD_TRY(ld_tensor_create(&out[q], LD_F32, hdr[1], dims));
        if (at + out[q]->nbytes > len) return ld_error(LD_ERR_INTERNAL, "autopin: gathered outputs truncated");
        memcpy(out[q]->data, p + at, out[q]->nbytes);
        at += out[q]->nbytes;
    }
    return LD_OK;
}

/* Every process's outputs of one side to every process (gref or gtgt). A process that
** failed (st) still takes part, so that all of them learn it (nmine < 0 in allgather). */
static ld_status dist_outputs(search *S, bool tgt, ld_status st) {
    const ld_autopin_dist *d = S->o->dist;
    int no = S->s->model->graph->noutputs;
    uint8_t **mine = calloc(S->nruns + 1, sizeof *mine), **all = calloc(S->nall + 1, sizeof *all);
    size_t *mlen = calloc(S->nruns + 1, sizeof *mlen), *alen = calloc(S->nall + 1, sizeof *alen);
    if (st == LD_OK && !(mine && all && mlen && alen)) st = ld_oom();
    for (int j = 0; st == LD_OK && j < S->nruns; j++) st = pack_outputs(S, S->runs[j], tgt, &mine[j], &mlen[j]);
    ld_status g = d->allgather(d->user, mine, mlen, st == LD_OK ? S->nruns : -(int)st, S->nall, all, alen);
    if (st == LD_OK) st = g;
    for (int k = 0; st == LD_OK && k < S->nall; k++)
        st = unpack_outputs(S, all[k], alen[k], (tgt ? S->gtgt : S->gref) + (size_t)k * no);
    for (int j = 0; mine && j < S->nruns; j++) free(mine[j]);
    for (int k = 0; all && k < S->nall; k++) free(all[k]);
    free(mine); free(all); free(mlen); free(alen);
    return st;
}

/* The measured pass over this process's samples, each in its own comparison (histogram
** ranges from sample 0, which every process runs), merged in sample order into S->c. */
static ld_status dist_open(search *S, const ld_compare_opts *co) {
    const ld_autopin_dist *d = S->o->dist;
    ld_session *s = S->s;
    int nlocal = 0;
    for (int k = d->rank; k < s->nsamples; k += d->nranks) nlocal++;
    S->nall = s->nsamples;
    size_t no = (size_t)s->model->graph->noutputs;
    S->cs = calloc(nlocal + 1, sizeof *S->cs);
    S->gref = calloc(S->nall * no + 1, sizeof *S->gref);
    S->gtgt = calloc(S->nall * no + 1, sizeof *S->gtgt);
    uint8_t **mine = calloc(nlocal + 1, sizeof *mine), **all = calloc(S->nall + 1, sizeof *all);
    size_t *mlen = calloc(nlocal + 1, sizeof *mlen), *alen = calloc(S->nall + 1, sizeof *alen);
    ld_compare c0;
    ld_sample_run *run0 = NULL;
    ld_status st = S->cs && S->gref && S->gtgt && mine && all && mlen && alen ? LD_OK : ld_oom();
    if (st == LD_OK && (st = ld_compare_init(&c0, s->model, co)) == LD_OK && s->nsamples)
        st = ld_sample_run_open(&c0, &s->samples[0], &run0);
    for (int k = d->rank; st == LD_OK && k < s->nsamples; k += d->nranks) {
        ld_compare *c = &S->cs[S->nruns];
        if ((st = ld_compare_init(c, s->model, co)) != LD_OK) break;
        ld_compare_preset_ranges(c, &c0);
        st = ld_sample_run_open(c, &s->samples[k], &S->runs[S->nruns]);
        if (st == LD_OK) st = ld_compare_pack(c, &mine[S->nruns], &mlen[S->nruns]);
        S->nruns++;
    }
    if (run0) ld_sample_run_close(run0);
    if (s->nsamples) ld_compare_free(&c0);
    ld_status g = d->allgather(d->user, mine, mlen, st == LD_OK ? nlocal : -(int)st, S->nall, all, alen);
    if (st == LD_OK) st = g;
    for (int k = 0; st == LD_OK && k < S->nall; k++) st = ld_compare_merge_packed(&S->c, all[k], alen[k]);
    for (int j = 0; mine && j < nlocal; j++) free(mine[j]);
    for (int k = 0; all && k < S->nall; k++) free(all[k]);
    free(mine); free(all); free(mlen); free(alen);
    st = dist_outputs(S, false, st);
    return dist_outputs(S, true, st);
}

/* Evaluate a pin set: recompute from the earliest change, remember the best result. */
static ld_status try_pins(search *S, const bool *want, ld_goal_eval *e) {
    int n = S->s->model->graph->nnodes, from = -1;
    for (int i = 0; i < n; i++)
        if (want[i] != S->cur[i]) { from = i; break; }
    if (from >= 0) {
        memcpy(S->cur, want, sizeof(bool) * n);   /* the policy reads the pins through cur */
        ld_status st = LD_OK;
        for (int k = 0; st == LD_OK && k < S->nruns; k++) st = ld_sample_run_target_from(S->runs[k], from);
        if (S->o->dist) st = dist_outputs(S, true, st);   /* every process takes part, also after an error */
        LD_TRY(st);
    }
    evaluate(S, e);
    S->tries++;
    int np = count(want, n);
    bool better = (e->met && (!S->r->met || np < S->best_npinned)) ||
                  (!e->met && !S->r->met && primary(S, e) > primary(S, &S->best_eval));
    if (better) {
        memcpy(S->r->pinned, want, sizeof(bool) * n);
        S->best_eval = *e;
        S->best_npinned = np;
        S->r->met = e->met;
    }
    ld_progress_event(&S->o->progress, "autopin: try %d: %d pin%s, from node %d: sqnr %.2f dB, top1 %.2f%%%s", S->tries, np,
                np == 1 ? "" : "s", from, e->sqnr, e->top1, e->met ? "  goal met" : "");
    return LD_OK;
}

/* Nodes worth pinning, ranked worst first by the isolated comparison. */
typedef struct cand { int node; double score; bool fail; } cand;

static int cmp_cand(const void *a, const void *b) {
    const cand *x = a, *y = b;
    if (x->fail != y->fail) return x->fail ? -1 : 1;
    if (x->score != y->score) return x->score < y->score ? -1 : 1;
    return x->node - y->node;
}

/* QDQ: the quantizers are the candidates (a pin on a DequantizeLinear disables it), ranked
 * by the error each causes: an activation quantizer's isolated SQNR, a weight's float
 * original against its dequantized values (without a float original it cannot be undone). */
static int rank_quantizers(search *S, cand *out) {
    const ld_qdq *q = S->c.opts.qdq;
    const ld_graph *g = S->s->model->graph;
    int n = 0;
    for (int p = 0; p < q->npairs; p++) {
        const ld_qdq_pair *qp = &q->pairs[p];
        double sq = INFINITY;
        if (!qp->weight) {
            sq = ld_err_sqnr(&S->c.nodes[qp->dq].outs[0].iso);
        } else if (qp->float_w && g->values[qp->out].const_val) {
            const float *a = qp->float_w->data, *b = g->values[qp->out].const_val->data;
            double see = 0, srr = 0;
            for (int64_t e = 0; e < qp->float_w->numel; e++) {
                double d = (double)a[e] - b[e];
                see += d * d;
                srr += (double)a[e] * a[e];
            }
            sq = see == 0 ? INFINITY : srr == 0 ? -INFINITY : 10 * log10(srr / see);
        } else {
            continue;
        }
        if (isinf(sq) && sq > 0) continue;
        out[n++] = (cand){qp->dq, sq, sq < S->c.opts.tol.min_sqnr};
    }
    qsort(out, n, sizeof *out, cmp_cand);
    return n;
}

static int rank_nodes(search *S, cand *out) {
    if (S->c.opts.qdq) return rank_quantizers(S, out);
    int n = 0;
    for (int i = 0; i < S->c.nnodes; i++) {
        const ld_node_result *nr = &S->c.nodes[i];
        if (nr->folded) continue;
        double worst = INFINITY;
        bool fail = false, any = false;
        for (int k = 0; k < nr->nout; k++) {
            const ld_tensor_result *t = &nr->outs[k];
            if (!t->measured) continue;
            double q = ld_err_sqnr(&t->iso);
            if (t->iso.new_nan || t->iso.new_inf || t->iso.overflow) q = -INFINITY;
            any = true;
            if (q < worst) worst = q;
            fail |= !t->iso_pass;
        }
        if (!any || (isinf(worst) && worst > 0)) continue;   /* exact in the target: pinning cannot help */
        out[n++] = (cand){i, worst, fail};
    }
    qsort(out, n, sizeof *out, cmp_cand);
    return n;
}

static ld_status prune(search *S, bool *set, const cand *order, int norder) {
    ld_goal_eval e;
    for (int j = norder - 1; j >= 0; j--) {   /* least harmful first */
        int i = order[j].node;
        if (!set[i]) continue;
        if (out_of_budget(S)) break;
        set[i] = false;
        LD_TRY(try_pins(S, set, &e));
        if (!e.met) set[i] = true;
    }
    return LD_OK;
}

static ld_status greedy(search *S, cand *cs, int nc) {
    int n = S->s->model->graph->nnodes;
    bool *set = calloc(n + 1, sizeof(bool));
    if (!set) return ld_oom();
    ld_goal_eval e;
    int lo = 0, hi = -1;
    ld_status st = LD_OK;
    for (int k = 1; st == LD_OK && !out_of_budget(S); k = k * 2 > nc ? nc : k * 2) {
        memcpy(set, S->s->pinned, sizeof(bool) * n);
        for (int j = 0; j < k; j++) set[cs[j].node] = true;
        st = try_pins(S, set, &e);
        if (e.met) { hi = k; break; }
        lo = k;
        if (k == nc) break;
    }
    while (st == LD_OK && hi > 0 && hi - lo > 1 && !out_of_budget(S)) {
        int mid = (lo + hi) / 2;
        memcpy(set, S->s->pinned, sizeof(bool) * n);
        for (int j = 0; j < mid; j++) set[cs[j].node] = true;
        st = try_pins(S, set, &e);
        if (e.met) hi = mid; else lo = mid;
    }
    if (st == LD_OK && hi > 0) {
        memcpy(set, S->s->pinned, sizeof(bool) * n);
        for (int j = 0; j < hi; j++) set[cs[j].node] = true;
        if (S->o->prune) st = prune(S, set, cs, hi);
    }
    free(set);
    return st;
}

/* bisect / linear over a prefix (forward) or suffix (reverse) of the candidates in order */
static ld_status ordered(search *S, cand *cs, int nc) {
    int n = S->s->model->graph->nnodes;
    int *topo = malloc(sizeof(int) * (nc + 1));
    bool *set = calloc(n + 1, sizeof(bool));
    if (!topo || !set) { free(topo); free(set); return ld_oom(); }
    for (int j = 0; j < nc; j++) topo[j] = cs[j].node;
    for (int a = 1; a < nc; a++)     /* insertion sort by node index */
        for (int b = a; b > 0 && topo[b - 1] > topo[b]; b--) { int t = topo[b]; topo[b] = topo[b - 1]; topo[b - 1] = t; }
    ld_goal_eval e;
    ld_status st = LD_OK;
#define SET_K(k) do { memcpy(set, S->s->pinned, sizeof(bool) * n); \
        for (int j = 0; j < (k); j++) set[topo[S->o->reverse ? nc - 1 - j : j]] = true; } while (0)
    int found = -1;
    if (S->o->strategy == LD_STRAT_LINEAR) {
        for (int k = 1; st == LD_OK && k <= nc && !out_of_budget(S); k++) {
            SET_K(k);
            st = try_pins(S, set, &e);
            if (e.met) { found = k; break; }
        }
    } else {
        int lo = 0, hi = nc;
        SET_K(nc);
        st = try_pins(S, set, &e);
        if (st == LD_OK && e.met) {
            while (hi - lo > 1 && st == LD_OK && !out_of_budget(S)) {
                int mid = (lo + hi) / 2;
                SET_K(mid);
                st = try_pins(S, set, &e);
                if (e.met) hi = mid; else lo = mid;
            }
            found = hi;
        }
    }
    if (st == LD_OK && found > 0 && S->o->prune) {
        SET_K(found);
        cand *ord = malloc(sizeof(cand) * (nc + 1));   /* prune in ranking order */
        if (!ord) st = ld_oom();
        else {
            memcpy(ord, cs, sizeof(cand) * nc);
            st = prune(S, set, ord, nc);
            free(ord);
        }
    }
#undef SET_K
    free(topo);
    free(set);
    return st;
}

/* ---- cost of the pinned part ---- */

static double node_flops(const ld_node *n, ld_sample_run *run) {
    const ld_tensor *y = n->nout && n->out[0] >= 0 ? ld_sample_run_tgt(run, n->out[0]) : NULL;
    const ld_tensor *w = n->nin > 1 && n->in[1] >= 0 ? ld_sample_run_tgt(run, n->in[1]) : NULL;
    const ld_tensor *x = n->nin > 0 && n->in[0] >= 0 ? ld_sample_run_tgt(run, n->in[0]) : NULL;
    if (!y || y->kind != LD_KIND_TENSOR) return 0;
    return ld_op_flops(n, x, w, y);
}

static void cost_share(search *S) {
    ld_graph *g = S->s->model->graph;
    double ft = 0, fp = 0, pt = 0, pp = 0;
    for (int i = 0; i < g->nnodes; i++) {
        const ld_node *n = &g->nodes[i];
        if (n->folded) continue;
        double f = S->nruns ? node_flops(n, S->runs[0]) : 0, p = 0;
        for (int k = 0; k < n->nin; k++)
            if (n->in[k] >= 0 && g->values[n->in[k]].const_val) p += (double)g->values[n->in[k]].const_val->numel;
        ft += f; pt += p;
        if (S->r->pinned[i]) { fp += f; pp += p; }
    }
    S->r->fp32_flops_share = ft > 0 ? fp / ft : 0;
    S->r->fp32_params_share = pt > 0 ? pp / pt : 0;
}

ld_status ld_autopin_run(ld_session *s, const ld_autopin_opts *o, ld_autopin_result *r) {
    memset(r, 0, sizeof *r);
    ld_graph *g = s->model->graph;
    search S = {.s = s, .o = o, .r = r, .t0 = ld_now_sec()};
    r->pinned = calloc(g->nnodes + 1, sizeof(bool));
    S.cur = calloc(g->nnodes + 1, sizeof(bool));
    cand *cs = calloc(g->nnodes + 1, sizeof(cand));
    S.runs = calloc(s->nsamples + 1, sizeof *S.runs);
    if (!r->pinned || !S.cur || !cs || !S.runs) { free(cs); free(S.cur); free(S.runs); return ld_oom(); }
    /* the user's own pins are the starting point and stay pinned */
    memcpy(S.cur, s->pinned, sizeof(bool) * g->nnodes);
    ld_compare_opts co = s->opts;
    co.policy.pinned = S.cur;
    co.keep_tgt = true;
    co.isolated = true;
    ld_status st = ld_compare_init(&S.c, s->model, &co);
    if (st == LD_OK && o->dist) st = dist_open(&S, &co);
    for (int k = 0; st == LD_OK && !o->dist && k < s->nsamples; k++) {
        st = ld_sample_run_open(&S.c, &s->samples[k], &S.runs[k]);
        if (st == LD_OK) S.nruns++;
        if (st == LD_OK && k == 0) {
            /* every kept tensor of every sample stays in memory: refuse what cannot fit */
            double per = (double)ld_sample_run_bytes(S.runs[0]), need = per * s->nsamples;
            double phys = (double)sysconf(_SC_PHYS_PAGES) * (double)sysconf(_SC_PAGESIZE);
            if (phys > 0 && need > 0.6 * phys)
                st = ld_error(LD_ERR_USAGE, "autopin keeps every tensor of every sample: about %.1f GB for these %d feeds, "
                              "more than this machine's memory allows; use fewer samples (--max-samples)", need / 1e9, s->nsamples);
            else if (need > 2e9)
                ld_progress_event(&o->progress, "autopin: keeping about %.1f GB of tensors for incremental re-runs", need / 1e9);
        }
    }
    if (st == LD_OK) st = ld_compare_finish(&S.c, s->labels, s->nlabels);
    bool any_float = false;
    for (int q = 0; st == LD_OK && q < g->noutputs && (o->dist ? S.nall : S.nruns); q++) {
        const ld_tensor *t = out_of(&S, 0, q, false);
        any_float |= t && t->kind == LD_KIND_TENSOR && t->dtype == LD_F32;
    }
    if (st == LD_OK && !any_float)
        st = ld_error(LD_ERR_UNSUPPORTED, "the model has no float32 output to evaluate the goals on");
    for (int i = 0; st == LD_OK && i < o->ngoals; i++)
        if (o->goals[i].kind == LD_GOAL_ACC_DELTA && !s->labels)
            st = ld_error(LD_ERR_USAGE, "goal acc_delta needs --labels");
    if (st == LD_OK) {
        evaluate(&S, &r->before);
        memcpy(r->pinned, S.cur, sizeof(bool) * g->nnodes);
        S.best_eval = r->before;
        S.best_npinned = count(S.cur, g->nnodes);
        r->met = r->before.met;
        int nc = rank_nodes(&S, cs);
        /* user pins are not candidates */
        int w = 0;
        for (int j = 0; j < nc; j++) if (!s->pinned[cs[j].node]) cs[w++] = cs[j];
        r->candidates = nc = w;
        ld_progress_event(&o->progress, "autopin: %d candidate nodes; without new pins: sqnr %.2f dB, top1 %.2f%%%s", nc,
                    r->before.sqnr, r->before.top1, r->before.met ? " (goal already met)" : "");
        if (!r->before.met && nc > 0) {
            /* the user's pins stay: strategies work on top of them */
            st = o->strategy == LD_STRAT_GREEDY ? greedy(&S, cs, nc) : ordered(&S, cs, nc);
            for (int i = 0; i < g->nnodes; i++) if (s->pinned[i]) r->pinned[i] = true;
        }
    }
    if (st == LD_OK) {
        /* final figures of the best set (recomputed, cheap when it is the current one) */
        ld_goal_eval e;
        st = try_pins(&S, r->pinned, &e);
        S.tries--;
        r->after = e;
        r->met = e.met;
        r->npinned = count(r->pinned, g->nnodes);
        cost_share(&S);
    }
    r->tries = S.tries;
    r->seconds = ld_now_sec() - S.t0;
    r->stopped = S.stopped;
    r->qdq = s->opts.qdq;
    for (int k = 0; k < S.nruns; k++) ld_sample_run_close(S.runs[k]);
    for (int k = 0; o->dist && S.cs && k < S.nruns; k++) ld_compare_free(&S.cs[k]);
    for (size_t k = 0; o->dist && k < (size_t)S.nall * g->noutputs; k++) {
        if (S.gref) ld_tensor_free(S.gref[k]);
        if (S.gtgt) ld_tensor_free(S.gtgt[k]);
    }
    free(S.cs); free(S.gref); free(S.gtgt);
    free(S.runs);
    free(S.cur);
    free(cs);
    ld_compare_free(&S.c);
    return st;
}

void ld_autopin_result_free(ld_autopin_result *r) {
    free(r->pinned);
    memset(r, 0, sizeof *r);
}
