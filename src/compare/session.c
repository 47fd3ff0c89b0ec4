/*
** session.c — everything a comparison needs before it runs: the model, the samples (data
** folder, IDX, arrays, Polygraphy inputs, or generated), labels and class names, the pinned
** nodes, and INT8/FP8 calibration (from data, or a TensorRT cache). Shared by compare,
** autopin and the live browser. Also the comparison against another model or saved outputs
** (ld_session_against).
*/
#include "ld_pins.h"
#include "ld_session.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Feeds that borrow the data of src's tensors (a library caller's arrays: no copy). */
static ld_status borrow_feeds(const ld_feed *src, int n, ld_feed **out, int *nout) {
    ld_feed *f = calloc(n + 1, sizeof *f);
    if (!f) return ld_oom();
    *out = f;
    *nout = n;
    for (int i = 0; i < n; i++)
        for (int k = 0; k < src[i].n; k++) {
            ld_tensor *t = malloc(sizeof *t);
            if (!t) return ld_oom();
            *t = *src[i].items[k].t;
            t->owns = false;
            assert(t->kind == LD_KIND_TENSOR && !t->seq);
            LD_TRY(ld_feed_add(&f[i], src[i].items[k].name, t));
        }
    return LD_OK;
}

static ld_status load_samples(ld_session *s, const char *data_path, ld_feed **feeds, int *n,
                              char ***names, int64_t *nnames) {
    const ld_workload *a = &s->w;
    *names = NULL;
    *nnames = 0;
    if (a->feeds && feeds == &s->samples) return borrow_feeds(a->feeds, a->nfeeds, feeds, n);
    if (data_path) {
        ld_data_opts d = a->data;
        d.path = data_path;
        return ld_data_load(s->model->graph, &d, feeds, n, names, nnames);
    }
    return ld_inputs_prepare(s->model->graph, &a->in, feeds, n);
}

/* --target qdq (or no target on a model with quantizers): the QDQ plan, float weights. */
static ld_status open_qdq(ld_session *s) {
    const ld_workload *a = &s->w;
    LD_TRY(ld_qdq_plan(s->model->graph, &s->qdq));
    if (!s->qdq.npairs) {
        char names[128];
        if (a->target_auto)
            return ld_error(LD_ERR_USAGE, "compare: missing --target (%s); %s has no QuantizeLinear/DequantizeLinear quantizers to compare as written",
                            ld_target_names(names, sizeof names, ", ", false), a->model);
        return ld_error(LD_ERR_DATA, "%s: --target qdq needs QuantizeLinear/DequantizeLinear quantizers and the model has none", a->model);
    }
    if (a->float_model) {
        ld_status st = ld_model_load(a->float_model, &s->float_model);
        if (st != LD_OK) return ld_err_prefix_path(st, a->float_model);
        LD_TRY(ld_qdq_float_model(&s->qdq, s->model->graph, s->float_model->graph, a->float_model));
    }
    s->opts.qdq = &s->qdq;
    /* a pinned quantized node (one that reads quantizer outputs) runs unquantized: its input
     * quantizers are off, as ONNX Runtime's nodes_to_exclude and the browser's toggle mean */
    const ld_graph *g = s->model->graph;
    for (int i = 0; i < g->nnodes; i++) {
        ld_op_kind k = ld_node_traits(&g->nodes[i])->kind;
        if (!s->pinned[i] || k == LD_OPK_QUANTIZE || k == LD_OPK_DEQUANTIZE) continue;
        for (int j = 0; j < g->nodes[i].nin; j++) {
            int v = g->nodes[i].in[j], p = v >= 0 ? s->qdq.of_value[v] : -1;
            if (p >= 0) s->pinned[s->qdq.pairs[p].dq] = true;
        }
    }
    return LD_OK;
}

ld_status ld_session_open(ld_session *s, const ld_workload *w) {
    memset(s, 0, sizeof *s);
    s->w = *w;
    const ld_workload *a = &s->w;
    ld_status st = ld_model_load(a->model, &s->model);
    if (st != LD_OK) return ld_err_prefix_path(st, a->model);
    LD_TRY(load_samples(s, a->data.path, &s->samples, &s->nsamples, &s->names, &s->nnames));
    /* the branch every feed takes becomes rows (other data would need the other branch:
     * not with a second model, saved outputs or separate calibration data) */
    if (!a->against && !a->against_outputs && !a->calib && !a->calib_feeds)
        LD_TRY(ld_branches_resolve(a->model, &s->model, s->samples, s->nsamples, &s->branches));
    ld_graph *g = s->model->graph;
    s->pinned = calloc(g->nnodes + 1, sizeof(bool));
    if (!s->pinned) return ld_oom();
    LD_TRY(ld_pins_apply_bodies(g, a->pins, a->npins, s->pinned, &s->body_pins, &s->nbody_pins));
    if (a->feeds) snprintf(s->data_desc, sizeof s->data_desc, "%d samples given in memory", a->nfeeds);
    else if (a->data.path) snprintf(s->data_desc, sizeof s->data_desc, "%s", a->data.path);
    else if (a->in.inputs_file) snprintf(s->data_desc, sizeof s->data_desc, "%s", a->in.inputs_file);
    else if (a->in.nspecs) snprintf(s->data_desc, sizeof s->data_desc, "--input files");
    else snprintf(s->data_desc, sizeof s->data_desc, "generated: uniform [%g, %g), seed %llu", a->in.lo, a->in.hi,
                  (unsigned long long)a->in.seed);
    if (a->label_values) {
        s->labels = malloc((a->nlabel_values + 1) * sizeof(int64_t));
        if (!s->labels) return ld_oom();
        memcpy(s->labels, a->label_values, a->nlabel_values * sizeof(int64_t));
        s->nlabels = a->nlabel_values;
    } else if (a->labels) {
        int64_t total = 0;
        for (int i = 0; i < s->nsamples; i++)
            total += s->samples[i].n && s->samples[i].items[0].t->ndim ? s->samples[i].items[0].t->dims[0] : 1;
        LD_TRY(ld_labels_load(a->labels, s->names, total, &s->labels, &s->nlabels));
    }
    if (a->class_names) LD_TRY(ld_class_names_load(a->class_names, &s->class_names, &s->nclass_names));

    if (ld_target_format(a->target)->as_written) LD_TRY(open_qdq(s));
    s->opts.policy.target = a->target;
    s->opts.policy.fallback = a->fallback;
    s->opts.policy.accum_fp16 = a->accum_fp16;
    s->opts.policy.pinned = s->pinned;
    s->opts.policy.body_pins = s->body_pins;
    s->opts.policy.nbody_pins = s->nbody_pins;
    s->opts.policy.calib = &s->calib;
    s->opts.isolated = a->isolated;
    s->opts.tol = a->tol;
    s->opts.policy.block_size = a->block_size;
    /* calibrated scales; block-scaled targets take theirs from each block */
    if (ld_target_format(a->target)->quantized && !ld_target_format(a->target)->block) {
        if (a->calib_cache) {
            LD_TRY(ld_calib_cache_read(a->calib_cache, &s->calib));
            snprintf(s->calib_desc, sizeof s->calib_desc, "TensorRT cache %s (%d tensors)", a->calib_cache, s->calib.n);
        } else {
            ld_feed *cf = s->samples;
            int cn = s->nsamples;
            char **cnames = NULL;
            int64_t cnn = 0;
            if (a->calib_feeds) LD_TRY(borrow_feeds(a->calib_feeds, a->ncalib_feeds, &cf, &cn));
            else if (a->calib) LD_TRY(load_samples(s, a->calib, &cf, &cn, &cnames, &cnn));
            st = ld_calibrate_dist(s->model, &s->opts.policy, cf, cn, a->calib_method, a->percentile, a->calib_dist, &s->calib);
            int64_t nsamp = 0;
            for (int i = 0; i < cn; i++) nsamp += cf[i].n && cf[i].items[0].t->ndim ? cf[i].items[0].t->dims[0] : 1;
            snprintf(s->calib_desc, sizeof s->calib_desc, "%s over %lld samples of %s", ld_calib_method_name(a->calib_method),
                     (long long)nsamp, a->calib_feeds ? "samples given in memory" : a->calib ? a->calib : "the compared data");
            if (a->calib || a->calib_feeds) { ld_samples_free(cf, cn); ld_strings_free(cnames, cnn); }
            LD_TRY(st);
        }
        if (a->write_calib_cache) {
            if (a->calib_cache) LD_TRY(ld_calib_cache_write(a->write_calib_cache, &s->calib, a->force));
            else LD_TRY(ld_calib_cache_write_method(a->write_calib_cache, &s->calib, a->calib_method, a->force));
        }
    }
    return LD_OK;
}

void ld_session_close(ld_session *s) {
    ld_samples_free(s->samples, s->nsamples);
    ld_strings_free(s->names, s->nnames);
    ld_strings_free(s->class_names, s->nclass_names);
    free(s->labels);
    free(s->pinned);
    free(s->body_pins);
    ld_calib_clear(&s->calib);
    ld_qdq_free(&s->qdq);
    ld_model_free(s->float_model);
    ld_branch_counts_clear(&s->branches);
    ld_model_free(s->model);
    memset(s, 0, sizeof *s);
}

ld_status ld_session_compare(ld_session *s, ld_compare *c) {
    LD_TRY(ld_compare_init(c, s->model, &s->opts));
    for (int i = 0; i < s->nsamples; i++) {
        ld_status st = ld_compare_add_sample(c, &s->samples[i]);
        if (st != LD_OK) return s->nsamples > 1 ? ld_err_prefix(st, "sample %d", i) : st;
    }
    return ld_compare_finish(c, s->labels, s->nlabels);
}

void ld_session_meta(const ld_session *s, ld_report_meta *m) {
    memset(m, 0, sizeof *m);
    m->model_path = s->w.model;
    m->mode = s->w.against ? "against-model" : s->w.against_outputs ? "against-outputs" : "emulate";
    m->against = s->w.against ? s->w.against : s->w.against_outputs;
    m->data = s->data_desc;
    m->calib_desc = s->calib_desc[0] ? s->calib_desc : NULL;
    m->pins = s->w.pins;
    m->npins = s->w.npins;
    m->class_names = (const char *const *)s->class_names;
    m->nclass_names = s->nclass_names;
    m->branches = &s->branches;
}

ld_status ld_session_against(ld_session *s, ld_compare *c, int *matched_per_sample) {
    const ld_workload *a = &s->w;
    ld_compare_opts o = s->opts;
    o.isolated = false;
    LD_TRY(ld_compare_init(c, s->model, &o));
    int matched = 0, total = 0;
    if (a->against) {
        ld_model *other;
        ld_status st = ld_model_load(a->against, &other);
        if (st != LD_OK) return ld_err_prefix_path(st, a->against);
        for (int i = 0; st == LD_OK && i < s->nsamples; i++) {
            st = ld_against_model(c, other, &s->samples[i], &matched);
            total += matched;
        }
        ld_model_free(other);
        LD_TRY(st);
    } else {
        ld_feed *saved;
        int nsaved;
        char *runner = NULL;
        LD_TRY(ld_pg_read_results(a->against_outputs, NULL, &saved, &nsaved, &runner));
        ld_status st = LD_OK;
        if (nsaved != s->nsamples)
            st = ld_error(LD_ERR_DATA, "%s holds %d iterations but there are %d input samples (give the matching --load-inputs)",
                          a->against_outputs, nsaved, s->nsamples);
        for (int i = 0; st == LD_OK && i < s->nsamples; i++) {
            st = ld_against_saved(c, &s->samples[i], &saved[i], &matched);
            total += matched;
        }
        for (int i = 0; i < nsaved; i++) ld_feed_clear(&saved[i]);
        free(saved);
        free(runner);
        LD_TRY(st);
    }
    if (!total) return ld_error(LD_ERR_DATA, "no tensor names in common with %s", a->against ? a->against : a->against_outputs);
    *matched_per_sample = total / (s->nsamples ? s->nsamples : 1);
    return ld_compare_finish(c, s->labels, s->nlabels);
}
