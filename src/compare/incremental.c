/*
** incremental.c — comparisons that stay in memory and run again: autopin's kept samples
** (ld_sample_run: the target side re-runs from the first node whose pin changed) and the live
** browser's incremental comparison (ld_incremental: both sides re-run from the first changed
** pin). Values stay in the executors in keep-all mode; see compare_state.h.
*/
#include "ld_compare.h"
#include "compare_state.h"
#include "body_stats.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- kept runs (autopin) ---- */

ld_status ld_sample_run_open(ld_compare *c, const ld_feed *in, ld_sample_run **out) {
    cmp_state *s;
    LD_TRY(cmp_state_open(c, in, &s));
    ld_status st = cmp_state_run(s);
    if (st != LD_OK) { cmp_state_free(s); return st; }
    *out = (ld_sample_run *)s;
    return LD_OK;
}

ld_status ld_sample_run_target_from(ld_sample_run *r, int from) {
    cmp_state *s = (cmp_state *)r;
    ld_graph *g = s->c->model->graph;
    for (int i = from < 0 ? 0 : from; i < g->nnodes; i++) {
        if (g->nodes[i].folded) continue;
        ld_status st = cmp_run_target_node(s, i);
        if (st != LD_OK) return cmp_node_error(st, &g->nodes[i]);
    }
    return LD_OK;
}

size_t ld_sample_run_bytes(const ld_sample_run *r) {
    const cmp_state *s = (const cmp_state *)r;
    size_t n = 0;
    for (int v = 0; v < s->c->model->graph->nvalues; v++) {
        const ld_tensor *tv = ld_exec_value(&s->tx, v), *rv = ld_exec_value(&s->rx, v);
        if (ld_exec_owns(&s->tx, v) && tv) n += tv->nbytes;
        if (ld_exec_owns(&s->rx, v) && rv && rv != tv) n += rv->nbytes;
    }
    return n;
}

const ld_tensor *ld_sample_run_ref(const ld_sample_run *r, int v) { return ld_exec_value(&((const cmp_state *)r)->rx, v); }
const ld_tensor *ld_sample_run_tgt(const ld_sample_run *r, int v) { return ld_exec_value(&((const cmp_state *)r)->tx, v); }
void ld_sample_run_close(ld_sample_run *r) { if (r) cmp_state_free((cmp_state *)r); }

/* ---- incremental comparison (live browser) ---- */

struct ld_incremental {
    ld_compare c;
    cmp_state **runs;
    int nruns;
    const int64_t *labels;
    int64_t nlabels;
    bool *last;              /* the pins of the last run */
};

const ld_compare *ld_incr_result(const ld_incremental *inc) { return &inc->c; }

void ld_incr_close(ld_incremental *inc) {
    if (!inc) return;
    for (int k = 0; k < inc->nruns; k++) cmp_state_free(inc->runs[k]);
    free(inc->runs);
    free(inc->last);
    ld_compare_free(&inc->c);
    free(inc);
}

ld_status ld_incr_open(ld_incremental **out, ld_model *m, const ld_compare_opts *o,
                       const ld_feed *samples, int nsamples, const int64_t *labels, int64_t nlabels) {
    ld_incremental *inc = calloc(1, sizeof *inc);
    if (!inc) return ld_oom();
    ld_compare_opts oo = *o;
    oo.keep_ref = oo.keep_tgt = true;
    int n = m->graph->nnodes;
    inc->labels = labels;
    inc->nlabels = nlabels;
    inc->runs = calloc(nsamples + 1, sizeof *inc->runs);
    inc->last = calloc(n + 1, sizeof(bool));
    ld_status st = (!inc->runs || !inc->last) ? ld_oom() : LD_OK;
    if (st == LD_OK) st = ld_compare_init(&inc->c, m, &oo);
    for (int k = 0; st == LD_OK && k < nsamples; k++) {
        st = cmp_state_open(&inc->c, &samples[k], &inc->runs[k]);
        if (st == LD_OK) {
            inc->nruns++;
            st = cmp_state_run(inc->runs[k]);
        }
    }
    if (st == LD_OK && o->policy.pinned) memcpy(inc->last, o->policy.pinned, sizeof(bool) * n);
    if (st == LD_OK) st = ld_compare_finish(&inc->c, labels, nlabels);
    if (st != LD_OK) { ld_incr_close(inc); return st; }
    *out = inc;
    return LD_OK;
}

static void reset_result(ld_tensor_result *r) {
    int nch = r->prop.nch;
    ld_err_free(&r->iso);
    ld_err_free(&r->prop);
    ld_err_init(&r->iso, nch);
    ld_err_init(&r->prop, nch);
    ld_tstats_init(&r->ref);
    ld_tstats_init(&r->tgt);
    r->tgt.no_hist = true;
}

ld_status ld_incr_rerun(ld_incremental *inc, int *from_out) {
    ld_compare *c = &inc->c;
    ld_graph *g = c->model->graph;
    const bool *pins = c->opts.policy.pinned;
    int from = -1;
    for (int i = 0; i < g->nnodes && from < 0; i++)
        if ((pins && pins[i]) != inc->last[i]) from = i;
    if (from_out) *from_out = from;
    if (from < 0) return LD_OK;
    for (int i = from; i < g->nnodes; i++) {
        ld_node_result *nr = &c->nodes[i];
        nr->pinned = pins && pins[i];
        nr->quantized = !nr->pinned && ld_policy_quantizes(&c->opts.policy, &g->nodes[i]);
        for (int k = 0; k < nr->nout; k++) reset_result(&nr->outs[k]);
        body_results_free(nr);   /* target-only re-runs do not measure bodies */
    }
    for (int q = 0; c->quant && q < c->nquant; q++)   /* QDQ: quantizers re-measured from scratch */
        if (c->opts.qdq->pairs[q].dq >= from) c->quant[q] = c->opts.qdq->pairs[q];
    double t0 = ld_now_sec();
    ld_tensor_free(c->ref_out0);
    ld_tensor_free(c->tgt_out0);
    c->ref_out0 = c->tgt_out0 = NULL;
    ld_status st = LD_OK;
    for (int k = 0; st == LD_OK && k < inc->nruns; k++) {
        cmp_state *s = inc->runs[k];
        for (int i = from; st == LD_OK && i < g->nnodes; i++) {
            if (g->nodes[i].folded) continue;
            st = cmp_run_node(s, i);
            if (st != LD_OK) cmp_node_error(st, &g->nodes[i]);
        }
        ld_progress_step(&c->opts.progress, k + 1, inc->nruns, "re-running from node %d: sample %d/%d", from, k + 1,
                         inc->nruns);
        if (st == LD_OK && g->noutputs) {
            st = cmp_append_rows(&c->ref_out0, ld_exec_value(&s->rx, g->outputs[ld_graph_main_output(g)]));
            if (st == LD_OK) st = cmp_append_rows(&c->tgt_out0, ld_exec_value(&s->tx, g->outputs[ld_graph_main_output(g)]));
        }
    }
    ld_progress_end(&c->opts.progress);
    c->seconds += ld_now_sec() - t0;
    if (st != LD_OK) return st;
    memcpy(inc->last, pins ? pins : inc->last, sizeof(bool) * g->nnodes);
    if (!pins) memset(inc->last, 0, sizeof(bool) * g->nnodes);
    return ld_compare_finish(c, inc->labels, inc->nlabels);
}
