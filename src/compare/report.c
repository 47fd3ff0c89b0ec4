/*
** report.c — JSON report "layerdiff.report/1" (see man/layerdiff-report.5) and the terminal
** table of a comparison. Non-finite numbers (an SQNR of +inf when there is no error) are
** written as JSON null, as JSON has no infinities.
*/
#include "body_stats.h"
#include "ld_branches.h"
#include "ld_report.h"
#include "ld_numeric.h"
#include "ld_outfile.h"

#include <cJSON.h>
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

static void num(cJSON *o, const char *k, double v) {
    if (isfinite(v)) cJSON_AddNumberToObject(o, k, v);
    else cJSON_AddNullToObject(o, k);
}

/* SQNR: +inf (no error at all) is null; -inf (new NaN/Inf, or error on an all-zero
 * reference) is written as -1000 dB, which no finite measurement reaches. */
#define LD_SQNR_FLOOR -1000.0
static void sqnr_num(cJSON *o, const char *k, double v) {
    if (isinf(v) && v < 0) cJSON_AddNumberToObject(o, k, LD_SQNR_FLOOR);
    else num(o, k, v);
}

static cJSON *stats_json(const ld_tstats *s) {
    cJSON *o = cJSON_CreateObject();
    bool any = s->count - s->nan - s->inf > 0;
    num(o, "min", any ? s->min : NAN);
    num(o, "max", any ? s->max : NAN);
    num(o, "mean", ld_tstats_mean(s));
    num(o, "std", ld_tstats_std(s));
    num(o, "absmax", s->absmax);
    cJSON_AddNumberToObject(o, "count", (double)s->count);
    cJSON_AddNumberToObject(o, "nan", (double)s->nan);
    cJSON_AddNumberToObject(o, "inf", (double)s->inf);
    if (s->no_hist) {
        cJSON_AddNullToObject(o, "histogram");
        return o;
    }
    cJSON *h = cJSON_AddObjectToObject(o, "histogram");
    num(h, "lo", s->hlo);
    num(h, "hi", s->hhi);
    cJSON *b = cJSON_AddArrayToObject(h, "counts");
    for (int i = 0; i < LD_VAL_BINS; i++) cJSON_AddItemToArray(b, cJSON_CreateNumber(s->hist[i]));
    return o;
}

static cJSON *err_json(const ld_err *e, bool pass, const char *why) {
    cJSON *o = cJSON_CreateObject();
    cJSON_AddBoolToObject(o, "pass", pass);
    if (!pass) cJSON_AddStringToObject(o, "reason", why);
    cJSON_AddNumberToObject(o, "count", (double)e->count);
    num(o, "max_abs", e->max_abs);
    num(o, "mean_abs", ld_err_mean_abs(e));
    num(o, "median_abs", ld_err_quantile_abs(e, 0.5));
    num(o, "p99_abs", ld_err_quantile_abs(e, 0.99));
    num(o, "max_rel", e->max_rel);
    num(o, "mean_rel", ld_err_mean_rel(e));
    num(o, "median_rel", ld_err_quantile_rel(e, 0.5));
    num(o, "p99_rel", ld_err_quantile_rel(e, 0.99));
    num(o, "rmse", ld_err_rmse(e));
    num(o, "nmse", ld_err_nmse(e));
    sqnr_num(o, "sqnr_db", ld_err_sqnr(e));
    num(o, "cosine", ld_err_cosine(e));
    num(o, "max_ulp", e->max_ulp);
    cJSON_AddNumberToObject(o, "argmax_abs", (double)e->argmax_abs);
    cJSON_AddNumberToObject(o, "new_nan", (double)e->new_nan);
    cJSON_AddNumberToObject(o, "new_inf", (double)e->new_inf);
    cJSON_AddNumberToObject(o, "overflow", (double)e->overflow);
    cJSON_AddNumberToObject(o, "underflow", (double)e->underflow);
    cJSON_AddNumberToObject(o, "subnormal", (double)e->subnormal);
    cJSON_AddNumberToObject(o, "saturated", (double)e->saturated);
    cJSON_AddNumberToObject(o, "quantized_inputs", (double)e->sat_total);
    num(o, "quantized_absmax", e->sat_absmax);
    cJSON_AddNumberToObject(o, "elem_fail", (double)e->elem_fail);
    cJSON *hist = cJSON_AddArrayToObject(o, "abs_histogram");   /* [log2 lower edge, count] */
    for (int i = 0; i < LD_ERR_BINS; i++) {
        uint32_t cnt = e->hist_abs[i] + e->hist_abs2[i];
        if (!cnt) continue;
        cJSON *pair = cJSON_CreateArray();
        cJSON_AddItemToArray(pair, cJSON_CreateNumber(log2((double)ld_bits_f32((uint32_t)(i + (63 << 3)) << 20))));
        cJSON_AddItemToArray(pair, cJSON_CreateNumber(cnt));
        cJSON_AddItemToArray(hist, pair);
    }
    cJSON_AddNumberToObject(o, "zero_abs", (double)e->zero_abs);
    if (e->nch) {
        cJSON *ch = cJSON_AddArrayToObject(o, "channel_max_abs");
        for (int i = 0; i < e->nch; i++) cJSON_AddItemToArray(ch, cJSON_CreateNumber(e->ch_max[i]));
    }
    return o;
}

static const char *const flag_names[] = {"nan", "inf", "overflow", "underflow", "saturation",
                                         "subnormal", "isolated_fail", "propagated_fail"};

static cJSON *first_json(const ld_compare *c, const ld_first_div *f) {
    if (f->node < 0) return cJSON_CreateNull();
    const ld_node *n = &c->model->graph->nodes[f->node];
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "node", n->name);
    cJSON_AddNumberToObject(o, "index", f->node);
    cJSON_AddStringToObject(o, "op", n->op_type);
    cJSON_AddStringToObject(o, "output", c->nodes[f->node].outs[f->out].name);
    cJSON_AddStringToObject(o, "reason", f->reason);
    return o;
}

static const char *stat_name(int s) {
    static const char *const n[] = {"elemwise", "max", "mean", "median", "quantile"};
    return s >= 0 && s < 5 ? n[s] : "elemwise";
}

cJSON *ld_report_json(const ld_compare *c, const ld_report_meta *meta) {
    const ld_graph *g = c->model->graph;
    const ld_compare_opts *o = &c->opts;
    cJSON *r = cJSON_CreateObject();
    cJSON_AddStringToObject(r, "schema", LD_REPORT_SCHEMA);
    cJSON_AddStringToObject(r, "layerdiff_version", LD_VERSION);
    cJSON *m = cJSON_AddObjectToObject(r, "model");
    cJSON_AddStringToObject(m, "path", meta->model_path);
    cJSON_AddStringToObject(m, "producer", c->model->producer_name);
    cJSON_AddNumberToObject(m, "ir_version", (double)c->model->ir_version);
    cJSON_AddNumberToObject(m, "opset", (double)ld_model_opset(c->model, ""));
    cJSON_AddNumberToObject(m, "nodes", g->nnodes);
    cJSON *s = cJSON_AddObjectToObject(r, "settings");
    cJSON_AddStringToObject(s, "mode", meta->mode ? meta->mode : "emulate");
    cJSON_AddStringToObject(s, "target", ld_target_format(o->policy.target)->name);
    if (ld_target_format(o->policy.target)->quantized)
        cJSON_AddStringToObject(s, "fallback", ld_target_format(o->policy.fallback)->name);
    if (ld_policy_block_size(&o->policy))
        cJSON_AddNumberToObject(s, "block_size", ld_policy_block_size(&o->policy));
    cJSON_AddStringToObject(s, "accumulation", o->policy.accum_fp16 ? "fp16" : "fp32");
    if (meta->against) cJSON_AddStringToObject(s, "against", meta->against);
    if (meta->data) cJSON_AddStringToObject(s, "data", meta->data);
    if (meta->calib_desc) cJSON_AddStringToObject(s, "calibration", meta->calib_desc);
    cJSON_AddNumberToObject(s, "samples", (double)c->samples);
    cJSON *pins = cJSON_AddArrayToObject(s, "pins");
    for (int i = 0; i < meta->npins; i++) cJSON_AddItemToArray(pins, cJSON_CreateString(meta->pins[i]));
    cJSON *t = cJSON_AddObjectToObject(s, "tolerance");
    num(t, "min_sqnr_db", o->tol.min_sqnr);
    if (o->tol.min_cosine > -2) num(t, "min_cosine", o->tol.min_cosine);
    num(t, "max_saturation_fraction", o->tol.max_sat_frac);
    if (o->tol.check_tol) {
        num(t, "atol", o->tol.atol);
        num(t, "rtol", o->tol.rtol);
        cJSON_AddStringToObject(t, "check_error_stat", stat_name(o->tol.stat));
        if (o->tol.stat == LD_STAT_QUANTILE) num(t, "error_quantile", o->tol.quantile);
    }
    cJSON_AddBoolToObject(s, "isolated", o->isolated);
    ld_branches_json(s, meta->branches);

    cJSON *sum = cJSON_AddObjectToObject(r, "summary");
    cJSON *fd = cJSON_AddObjectToObject(sum, "first_divergent");
    cJSON_AddItemToObject(fd, "isolated", first_json(c, &c->first_iso));
    cJSON_AddItemToObject(fd, "propagated", first_json(c, &c->first_prop));
    cJSON_AddBoolToObject(sum, "passed", c->passed);
    int nfail = 0, nflag = 0;
    for (int i = 0; i < c->nnodes; i++)
        for (int k = 0; k < c->nodes[i].nout; k++) {
            uint32_t f = c->nodes[i].outs[k].flags;
            nfail += (f & (LD_FLAG_ISO_FAIL | LD_FLAG_PROP_FAIL)) != 0;
            nflag += f != 0;
        }
    cJSON_AddNumberToObject(sum, "failing_tensors", nfail);
    int npinned = 0;
    for (int i = 0; i < c->nnodes; i++) npinned += c->nodes[i].pinned;
    cJSON_AddNumberToObject(sum, "pinned_nodes", npinned);
    cJSON *outs = cJSON_AddArrayToObject(sum, "outputs");
    for (int q = 0; q < c->noutputs; q++) {
        const ld_tensor_result *tr = c->outputs[q];
        if (!tr) continue;
        cJSON *oj = cJSON_CreateObject();
        cJSON_AddStringToObject(oj, "name", tr->name);
        cJSON_AddBoolToObject(oj, "pass", tr->prop_pass);
        sqnr_num(oj, "sqnr_db", ld_err_sqnr(&tr->prop));
        num(oj, "cosine", ld_err_cosine(&tr->prop));
        num(oj, "max_abs", tr->prop.max_abs);
        num(oj, "max_rel", tr->prop.max_rel);
        cJSON_AddItemToArray(outs, oj);
    }
    if (c->cls.present) {
        const ld_classification *cl = &c->cls;
        cJSON *cj = cJSON_AddObjectToObject(sum, "classification");
        cJSON_AddNumberToObject(cj, "samples", (double)cl->samples);
        num(cj, "top1_agreement", cl->top1_agreement);
        num(cj, "top5_agreement", cl->top5_agreement);
        num(cj, "cosine_mean", cl->cosine_mean);
        num(cj, "l2_mean", cl->l2_mean);
        if (cl->labelled) {
            num(cj, "ref_top1", cl->ref_top1);
            num(cj, "target_top1", cl->target_top1);
            num(cj, "ref_top5", cl->ref_top5);
            num(cj, "target_top5", cl->target_top5);
            num(cj, "delta_top1_pp", cl->delta_top1_pp);
            num(cj, "delta_top5_pp", cl->delta_top5_pp);
        } else {
            const char *k[] = {"ref_top1", "target_top1", "ref_top5", "target_top5", "delta_top1_pp", "delta_top5_pp"};
            for (int i = 0; i < 6; i++) cJSON_AddNullToObject(cj, k[i]);
        }
    }
    cJSON_AddNumberToObject(sum, "seconds", c->seconds);

    if (c->opts.qdq) cJSON_AddItemToObject(r, "qdq", ld_report_qdq_json(c));

    cJSON *nodes = cJSON_AddArrayToObject(r, "nodes");
    for (int i = 0; i < c->nnodes; i++) {
        const ld_node *n = &g->nodes[i];
        const ld_node_result *nr = &c->nodes[i];
        if (n->folded) continue;
        cJSON *nj = cJSON_CreateObject();
        cJSON_AddNumberToObject(nj, "index", i);
        cJSON_AddStringToObject(nj, "name", n->name);
        cJSON_AddStringToObject(nj, "op", n->op_type);
        if (n->domain[0]) cJSON_AddStringToObject(nj, "domain", n->domain);
        cJSON_AddBoolToObject(nj, "pinned", nr->pinned);
        cJSON_AddBoolToObject(nj, "quantized", nr->quantized);
        cJSON *ins = cJSON_AddArrayToObject(nj, "inputs");
        for (int k = 0; k < n->nin; k++) cJSON_AddItemToArray(ins, cJSON_CreateString(n->in[k] >= 0 ? g->values[n->in[k]].name : ""));
        cJSON *oa = cJSON_AddArrayToObject(nj, "outputs");
        for (int k = 0; k < nr->nout; k++) {
            const ld_tensor_result *tr = &nr->outs[k];
            if (n->out[k] < 0) continue;
            cJSON *tj = cJSON_CreateObject();
            cJSON_AddStringToObject(tj, "name", tr->name);
            cJSON *sh = cJSON_AddArrayToObject(tj, "shape");
            for (int d = 0; d < tr->ndim; d++) cJSON_AddItemToArray(sh, cJSON_CreateNumber((double)tr->dims[d]));
            cJSON_AddStringToObject(tj, "dtype", ld_dtype_name(tr->dtype));
            cJSON_AddBoolToObject(tj, "measured", tr->measured);
            if (tr->measured) {
                cJSON_AddItemToObject(tj, "ref_stats", stats_json(&tr->ref));
                cJSON_AddItemToObject(tj, "target_stats", stats_json(&tr->tgt));
                if (c->opts.isolated) cJSON_AddItemToObject(tj, "isolated", err_json(&tr->iso, tr->iso_pass, tr->iso_why));
                else cJSON_AddNullToObject(tj, "isolated");
                cJSON_AddItemToObject(tj, "propagated", err_json(&tr->prop, tr->prop_pass, tr->prop_why));
            } else {
                cJSON_AddNullToObject(tj, "ref_stats");
                cJSON_AddNullToObject(tj, "target_stats");
                cJSON_AddNullToObject(tj, "isolated");
                cJSON_AddNullToObject(tj, "propagated");
            }
            cJSON *fl = cJSON_AddArrayToObject(tj, "flags");
            for (int b = 0; b < 8; b++) if (tr->flags & (1u << b)) cJSON_AddItemToArray(fl, cJSON_CreateString(flag_names[b]));
            cJSON_AddItemToArray(oa, tj);
        }
        body_results_json(nj, nr);
        cJSON_AddItemToArray(nodes, nj);
    }
    return r;
}

ld_status ld_report_write(const char *path, const ld_compare *c, const ld_report_meta *meta, bool force) {
    unsigned flags = LD_OUT_STDOUT | (force ? LD_OUT_FORCE : 0);
    LD_TRY(ld_out_check(path, flags));
    cJSON *r = ld_report_json(c, meta);
    char *txt = cJSON_Print(r);
    cJSON_Delete(r);
    if (!txt) return ld_oom();
    size_t n = strlen(txt);
    txt[n] = '\n';   /* replaces the NUL: the file ends with a newline */
    ld_status st = ld_out_write_all(path, flags, txt, n + 1);
    free(txt);
    return st;
}

/* ---- terminal ---- */

static const char *flag_str(uint32_t f, char *buf, size_t n) {
    snprintf(buf, n, "%s%s%s%s%s%s", f & LD_FLAG_NAN ? "N" : "", f & LD_FLAG_INF ? "I" : "",
             f & LD_FLAG_OVERFLOW ? "O" : "", f & LD_FLAG_UNDERFLOW ? "U" : "",
             f & LD_FLAG_SATURATION ? "S" : "", f & LD_FLAG_SUBNORMAL ? "s" : "");
    return buf;
}

static void sqnr_str(double v, char *buf, size_t n) {
    if (isinf(v) && v > 0) snprintf(buf, n, "exact");
    else if (isnan(v)) snprintf(buf, n, "-");
    else snprintf(buf, n, "%.1f", v);
}

static void print_first(FILE *f, const ld_compare *c, const char *what, const ld_first_div *fd) {
    if (fd->node < 0) { fprintf(f, "first divergent node (%s): none\n", what); return; }
    const ld_graph *g = c->model->graph;
    const ld_node *n = &g->nodes[fd->node];
    fprintf(f, "first divergent node (%s): #%d '%s' (%s)\n  why: %s\n", what, fd->node, n->name, n->op_type, fd->reason);
    for (int k = 0; k < n->nin; k++) {
        int v = n->in[k];
        if (v < 0) continue;
        const ld_value *val = &g->values[v];
        if (val->const_val) {
            ld_tensor *t = val->const_val;
            if (t->dtype == LD_F32) {
                ld_tstats s;
                ld_tstats_init(&s);
                ld_tstats_add(&s, t->data, t->numel);
                fprintf(f, "  input %-30s constant  min %.4g max %.4g absmax %.4g\n", val->name, s.min, s.max, s.absmax);
            }
            continue;
        }
        const ld_tensor_result *src = NULL;
        if (val->producer >= 0)
            for (int q = 0; q < c->nodes[val->producer].nout; q++)
                if (c->nodes[val->producer].outs[q].value == v) src = &c->nodes[val->producer].outs[q];
        if (src && src->measured)
            fprintf(f, "  input %-30s ref min %.4g max %.4g mean %.4g std %.4g absmax %.4g\n", val->name, src->ref.min,
                    src->ref.max, ld_tstats_mean(&src->ref), ld_tstats_std(&src->ref), src->ref.absmax);
        else
            fprintf(f, "  input %s\n", val->name);
    }
    const ld_tensor_result *o = &c->nodes[fd->node].outs[fd->out];
    fprintf(f, "  output %-29s ref min %.4g max %.4g absmax %.4g | target min %.4g max %.4g NaN %lld Inf %lld\n", o->name,
            o->ref.min, o->ref.max, o->ref.absmax, o->tgt.min, o->tgt.max, (long long)o->tgt.nan, (long long)o->tgt.inf);
}

void ld_report_print(FILE *f, const ld_compare *c, const ld_report_meta *meta, ld_rows rows, int max_rows) {
    const ld_graph *g = c->model->graph;
    char blk[48] = "";
    if (ld_policy_block_size(&c->opts.policy))
        snprintf(blk, sizeof blk, ", blocks of %d", ld_policy_block_size(&c->opts.policy));
    fprintf(f, "%s: %s%s vs FP32 reference, %lld sample%s, %d nodes\n", meta->model_path,
            ld_target_format(c->opts.policy.target)->long_name, blk, (long long)c->samples, c->samples == 1 ? "" : "s",
            g->nnodes);
    if (c->opts.qdq) ld_report_qdq_print(f, c);
    ld_branches_print(f, meta->branches);
    fprintf(f, "%5s  %-36s %-18s %-16s %9s %9s %10s %s\n", "#", "node", "op", "shape", "iso SQNR", "prop SQNR", "max rel", "flags");
    int shown = 0, hidden = 0;
    for (int i = 0; i < c->nnodes; i++) {
        const ld_node *n = &g->nodes[i];
        const ld_node_result *nr = &c->nodes[i];
        if (n->folded) continue;
        for (int k = 0; k < nr->nout; k++) {
            const ld_tensor_result *tr = &nr->outs[k];
            if (n->out[k] < 0) continue;
            bool fail = tr->flags & (LD_FLAG_ISO_FAIL | LD_FLAG_PROP_FAIL);
            if ((rows == LD_ROWS_FAILING && !fail) || (rows == LD_ROWS_FLAGGED && !tr->flags) || (max_rows > 0 && shown >= max_rows)) {
                hidden++;
                continue;
            }
            char name[64], shape[64], a[32], b[32], fl[32];
            size_t L = strlen(n->name);
            if (L > 36) snprintf(name, sizeof name, "...%s", n->name + L - 33);
            else snprintf(name, sizeof name, "%s", n->name);
            ld_dims_str(tr->ndim, tr->dims, shape, sizeof shape);
            if (tr->measured) {
                sqnr_str(c->opts.isolated ? ld_err_sqnr(&tr->iso) : NAN, a, sizeof a);
                sqnr_str(ld_err_sqnr(&tr->prop), b, sizeof b);
            } else {
                snprintf(a, sizeof a, "-");
                snprintf(b, sizeof b, "-");
            }
            char mrel[32];
            if (tr->measured) snprintf(mrel, sizeof mrel, "%.3g", tr->prop.max_rel); else snprintf(mrel, sizeof mrel, "-");
            fprintf(f, "%5d%c %-36s %-18.18s %-16.16s %9s %9s %10s %s%s%s%s\n", i, nr->pinned ? '*' : ' ', name, n->op_type, shape,
                    a, b, mrel, flag_str(tr->flags, fl, sizeof fl),
                    tr->flags & LD_FLAG_ISO_FAIL ? " FAIL(iso)" : "", tr->flags & LD_FLAG_PROP_FAIL ? " FAIL(prop)" : "",
                    i == c->first_iso.node ? " <- first divergent" : "");
            shown++;
        }
        if (!hidden || rows == LD_ROWS_ALL) body_results_print(f, nr, n);
    }
    if (hidden) fprintf(f, "(%d rows not shown; --rows all shows every tensor)\n", hidden);
    fprintf(f, "flags: N new NaN, I new Inf, O overflow, U underflow, S saturation, s subnormal; * pinned to FP32\n\n");
    print_first(f, c, "isolated: where the error starts", &c->first_iso);
    print_first(f, c, "propagated", &c->first_prop);
    for (int q = 0; q < c->noutputs; q++) {
        const ld_tensor_result *tr = c->outputs[q];
        if (!tr || !tr->measured) continue;
        char b[32];
        sqnr_str(ld_err_sqnr(&tr->prop), b, sizeof b);
        fprintf(f, "output %s: SQNR %s dB, cosine %.6f, max abs %.4g, max rel %.4g%s\n", tr->name, b,
                ld_err_cosine(&tr->prop), tr->prop.max_abs, tr->prop.max_rel, tr->prop_pass ? "" : "  FAIL");
    }
    if (c->cls.present) {
        const ld_classification *cl = &c->cls;
        fprintf(f, "classification over %lld samples: top-1 agreement %.2f%%, top-5 agreement %.2f%%, cosine %.6f, L2 %.4g\n",
                (long long)cl->samples, cl->top1_agreement, cl->top5_agreement, cl->cosine_mean, cl->l2_mean);
        if (cl->labelled)
            fprintf(f, "accuracy: FP32 top-1 %.2f%% top-5 %.2f%%, %s top-1 %.2f%% top-5 %.2f%% (delta %+.2f / %+.2f pp)\n",
                    cl->ref_top1, cl->ref_top5, ld_target_format(c->opts.policy.target)->long_name, cl->target_top1,
                    cl->target_top5, cl->delta_top1_pp, cl->delta_top5_pp);
    }
    fprintf(f, "%s\n", c->passed ? "result: within tolerance" : "result: divergence found");
}
