/*
** compare_result.c — decisions on a finished comparison: pass/fail of every measured tensor,
** the first divergent nodes, flags, and the classification summary (top-k agreement, cosine,
** labelled accuracy) of the main model output (ld_graph_main_output); and releasing the result.
*/
#include "ld_compare.h"
#include "compare_state.h"
#include "body_stats.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- decisions ---- */

void ld_topk_indices(const float *row, int64_t k, int64_t K, int64_t *idx) {
    for (int64_t j = 0; j < k; j++) idx[j] = -1;
    for (int64_t c = 0; c < K; c++) {
        for (int64_t j = 0; j < k; j++) {
            if (idx[j] < 0 || row[c] > row[idx[j]]) {
                for (int64_t m = k - 1; m > j; m--) idx[m] = idx[m - 1];
                idx[j] = c;
                break;
            }
        }
    }
}

static bool in_topk(const int64_t *idx, int64_t k, int64_t c) {
    for (int64_t j = 0; j < k; j++) if (idx[j] == c) return true;
    return false;
}

static void classify(ld_compare *c, const int64_t *labels, int64_t nlabels) {
    ld_tensor *r = c->ref_out0, *t = c->tgt_out0;
    if (!r || !t || r->numel != t->numel || r->dims[1] < 2) return;
    int64_t N = r->dims[0], K = r->dims[1], k5 = K < 5 ? K : 5;
    ld_classification *cl = &c->cls;
    cl->present = true;
    cl->samples = N;
    double a1 = 0, a5 = 0, cs = 0, l2 = 0, r1 = 0, t1 = 0, r5 = 0, t5 = 0;
    int64_t ir[5], it[5];
    for (int64_t s = 0; s < N; s++) {
        const float *a = (float *)r->data + s * K, *b = (float *)t->data + s * K;
        bool finite = true;
        for (int64_t j = 0; j < K; j++) finite &= isfinite(b[j]) != 0;
        if (!finite) {   /* a NaN/Inf row agrees with nothing and is infinitely far */
            l2 = INFINITY;
            ld_topk_indices(a, k5, K, ir);
            if (labels && s < nlabels) { r1 += ir[0] == labels[s]; r5 += in_topk(ir, k5, labels[s]); }
            continue;
        }
        ld_topk_indices(a, k5, K, ir);
        ld_topk_indices(b, k5, K, it);
        a1 += ir[0] == it[0];
        a5 += in_topk(it, k5, ir[0]);
        double ab = 0, aa = 0, bb = 0, d = 0;
        for (int64_t j = 0; j < K; j++) {
            ab += (double)a[j] * b[j]; aa += (double)a[j] * a[j]; bb += (double)b[j] * b[j];
            d += ((double)a[j] - b[j]) * ((double)a[j] - b[j]);
        }
        cs += (aa > 0 && bb > 0) ? ab / sqrt(aa * bb) : (aa == bb ? 1.0 : 0.0);
        l2 += sqrt(d);
        if (labels && s < nlabels) {
            r1 += ir[0] == labels[s]; t1 += it[0] == labels[s];
            r5 += in_topk(ir, k5, labels[s]); t5 += in_topk(it, k5, labels[s]);
        }
    }
    cl->top1_agreement = 100.0 * a1 / N;
    cl->top5_agreement = 100.0 * a5 / N;
    cl->cosine_mean = cs / N;
    cl->l2_mean = l2 / N;
    if (labels && nlabels >= N) {
        cl->labelled = true;
        cl->ref_top1 = 100.0 * r1 / N; cl->target_top1 = 100.0 * t1 / N;
        cl->ref_top5 = 100.0 * r5 / N; cl->target_top5 = 100.0 * t5 / N;
        cl->delta_top1_pp = cl->target_top1 - cl->ref_top1;
        cl->delta_top5_pp = cl->target_top5 - cl->ref_top5;
    }
}

ld_status ld_compare_finish(ld_compare *c, const int64_t *labels, int64_t nlabels) {
    c->passed = true;
    c->first_iso.node = c->first_prop.node = -1;
    ld_target tt = c->opts.policy.target;
    for (int i = 0; i < c->nnodes; i++) {
        ld_node_result *nr = &c->nodes[i];
        const ld_node *n = &c->model->graph->nodes[i];
        ld_target store = nr->pinned ? LD_TARGET_FP32 : ld_policy_storage(&c->opts.policy, n);
        for (int k = 0; k < nr->nout; k++) {
            ld_tensor_result *r = &nr->outs[k];
            r->iso_pass = r->prop_pass = true;
            r->flags = 0;
            if (!r->measured) continue;
            /* saturation is judged against the quantized format, the rest against storage */
            ld_target q = nr->quantized ? tt : store;
            r->iso_pass = ld_err_passes_q(&r->iso, &r->ref, store, q, &c->opts.tol, r->iso_why, sizeof r->iso_why);
            r->prop_pass = ld_err_passes_q(&r->prop, &r->ref, store, q, &c->opts.tol, r->prop_why, sizeof r->prop_why);
            if (!c->opts.isolated) r->iso_pass = true;
            const ld_err *e = &r->prop;
            if (e->new_nan || r->iso.new_nan) r->flags |= LD_FLAG_NAN;
            if (e->new_inf || r->iso.new_inf) r->flags |= LD_FLAG_INF;
            if (e->overflow || r->iso.overflow) r->flags |= LD_FLAG_OVERFLOW;
            if (e->underflow || r->iso.underflow) r->flags |= LD_FLAG_UNDERFLOW;
            if (e->saturated || r->iso.saturated) r->flags |= LD_FLAG_SATURATION;
            if (e->subnormal || r->iso.subnormal) r->flags |= LD_FLAG_SUBNORMAL;
            if (!r->iso_pass) r->flags |= LD_FLAG_ISO_FAIL;
            if (!r->prop_pass) r->flags |= LD_FLAG_PROP_FAIL;
            if (nr->quantizer >= 0) {   /* a quantizer: its consumer is the quantized node */
                if (!r->iso_pass || !r->prop_pass) c->passed = false;
                continue;
            }
            if (!r->iso_pass && c->first_iso.node < 0) {
                c->first_iso.node = i;
                c->first_iso.out = k;
                snprintf(c->first_iso.reason, sizeof c->first_iso.reason, "%s", r->iso_why);
                int b = body_first_iso_fail(nr);   /* a Loop/Scan row: the body node where it starts */
                if (b >= 0) {
                    size_t len = strlen(c->first_iso.reason);
                    snprintf(c->first_iso.reason + len, sizeof c->first_iso.reason - len, "; in its body from %s at %s %lld",
                             nr->body[b].path, ld_node_has(n, LD_OPT_BRANCH) ? "run" : "iteration",
                             (long long)nr->body[b].iso_first_fail);
                }
            }
            if (!r->prop_pass && c->first_prop.node < 0) {
                c->first_prop.node = i;
                c->first_prop.out = k;
                snprintf(c->first_prop.reason, sizeof c->first_prop.reason, "%s", r->prop_why);
            }
            if (!r->iso_pass || !r->prop_pass) c->passed = false;
        }
    }
    cmp_qdq_reasons(c);
    classify(c, labels, nlabels);
    return LD_OK;
}

void ld_compare_free(ld_compare *c) {
    for (int i = 0; c->nodes && i < c->nnodes; i++) {
        for (int k = 0; k < c->nodes[i].nout; k++) {
            ld_err_free(&c->nodes[i].outs[k].iso);
            ld_err_free(&c->nodes[i].outs[k].prop);
        }
        free(c->nodes[i].outs);
        body_results_free(&c->nodes[i]);
    }
    free(c->nodes);
    free(c->outputs);
    free(c->quant);
    ld_tensor_free(c->ref_out0);
    ld_tensor_free(c->tgt_out0);
    memset(c, 0, sizeof *c);
}
