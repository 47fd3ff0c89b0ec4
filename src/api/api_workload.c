/*
** api_workload.c — liblayerdiff's workloads (layerdiff.h): options by their CLI long names,
** samples and labels given in memory, and the compare and autopin entry points that open a
** session from the workload and turn the result into a report tree.
*/
#include "api_internal.h"
#include "ld_pins.h"

#include <cJSON.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

enum { API_MAX_SPECS = 4096 };

struct layerdiff_workload {
    ld_workload w;
    char **strings;                  /* every string the workload points to (owned) */
    int nstrings;
    const char *pins[API_MAX_SPECS], *specs[API_MAX_SPECS];
    ld_feed *feeds, *calib;          /* shallow copies of the callers' feeds (tensors borrowed) */
    int nfeeds, ncalib;
    int64_t *labels;
    double atol, rtol, quantile, min_sqnr, min_cosine, max_sat;
    int stat;
    ld_autopin_opts ap;
};

static const char *keep(layerdiff_workload *w, const char *s, ld_status *st) {
    char **n = realloc(w->strings, (w->nstrings + 1) * sizeof *n);
    char *c = n ? ld_strdup(s) : NULL;
    if (n) w->strings = n;
    if (!c) { *st = ld_oom(); return NULL; }
    return w->strings[w->nstrings++] = c;
}

LAYERDIFF_API int layerdiff_workload_new(const char *model_path, const char *target, layerdiff_workload **out) {
    *out = NULL;
    if (!model_path || !target) return ld_api_status(ld_error(LD_ERR_USAGE, "layerdiff_workload_new: model and target are required"));
    layerdiff_workload *w = calloc(1, sizeof *w);
    if (!w) return ld_api_status(ld_oom());
    ld_status st = LD_OK;
    /* the defaults of `layerdiff compare` (ld_compare_parse in src/cli/cmd_compare.c) */
    ld_input_opts_init(&w->w.in);
    w->w.in.specs = w->specs;
    ld_data_opts_init(&w->w.data);
    w->w.fallback = LD_TARGET_FP16;
    w->w.calib_method = LD_CALIB_ENTROPY;
    w->w.percentile = 99.99;
    w->w.isolated = true;
    w->w.pins = w->pins;
    w->atol = w->rtol = -1;
    w->min_sqnr = w->min_cosine = w->max_sat = NAN;
    w->quantile = 0.99;
    w->stat = -1;
    w->ap.prune = true;
    w->w.model = keep(w, model_path, &st);
    if (st == LD_OK) st = ld_target_parse(target, &w->w.target);
    if (st != LD_OK) { layerdiff_workload_free(w); return ld_api_status(st); }
    *out = w;
    return ld_api_status(LD_OK);
}

LAYERDIFF_API void layerdiff_workload_free(layerdiff_workload *w) {
    if (!w) return;
    for (int i = 0; i < w->nstrings; i++) free(w->strings[i]);
    free(w->strings);
    free(w->feeds);
    free(w->calib);
    free(w->labels);
    free(w);
}

static ld_status num(const char *opt, const char *v, double lo, double hi, double *out) {
    char *end;
    double d = v ? strtod(v, &end) : NAN;
    if (!v || !*v || *end || !(d >= lo && d <= hi))
        return ld_error(LD_ERR_USAGE, "option '%s' takes a number from %g to %g (got '%s')", opt, lo, hi, v ? v : "");
    *out = d;
    return LD_OK;
}

static ld_status int_num(const char *opt, const char *v, double lo, double hi, int64_t *out) {
    double d;
    LD_TRY(num(opt, v, lo, hi, &d));
    if (d != floor(d)) return ld_error(LD_ERR_USAGE, "option '%s' takes an integer (got '%s')", opt, v);
    *out = (int64_t)d;
    return LD_OK;
}

static ld_status hw(const char *opt, const char *v, int *h, int *wd) {
    if (!v || sscanf(v, "%dx%d", h, wd) != 2 || *h <= 0 || *wd <= 0)
        return ld_error(LD_ERR_USAGE, "option '%s' takes HxW (got '%s')", opt, v ? v : "");
    return LD_OK;
}

static ld_status floats(const char *opt, const char *v, float *out, int *n) {
    *n = 0;
    for (const char *p = v; p && *p && *n < 4;) {
        char *end;
        out[(*n)++] = strtof(p, &end);
        if (end == p) break;
        p = *end == ',' ? end + 1 : end;
        if (!*end) return LD_OK;
    }
    return ld_error(LD_ERR_USAGE, "option '%s' takes 1 to 4 comma-separated numbers (got '%s')", opt, v ? v : "");
}

static ld_status set_option(layerdiff_workload *w, const char *k, const char *v) {
    ld_status st = LD_OK;
    ld_workload *a = &w->w;
    int64_t iv = 0;
    bool flag = !v || !strcmp(v, "1") || !strcmp(v, "true");
#define IS(name) (!strcmp(k, name))
#define NEED() do { if (!v) return ld_error(LD_ERR_USAGE, "option '%s' needs a value", k); v = keep(w, v, &st); LD_TRY(st); } while (0)
    if (IS("fallback")) {
        NEED();
        if (strcmp(v, "fp16") && strcmp(v, "fp32")) return ld_error(LD_ERR_USAGE, "fallback takes fp16 or fp32");
        a->fallback = !strcmp(v, "fp32") ? LD_TARGET_FP32 : LD_TARGET_FP16;
    } else if (IS("accum")) {
        NEED();
        if (strcmp(v, "fp16") && strcmp(v, "fp32")) return ld_error(LD_ERR_USAGE, "accum takes fp16 or fp32");
        a->accum_fp16 = !strcmp(v, "fp16");
    } else if (IS("pin")) {
        NEED();
        if (a->npins >= API_MAX_SPECS) return ld_error(LD_ERR_USAGE, "too many pin options");
        w->pins[a->npins++] = v;
    } else if (IS("input")) {
        NEED();
        if (a->in.nspecs >= API_MAX_SPECS) return ld_error(LD_ERR_USAGE, "too many input options");
        w->specs[a->in.nspecs++] = v;
    } else if (IS("inputs")) { NEED(); a->in.inputs_file = v; }
    else if (IS("data")) { NEED(); a->data.path = v; }
    else if (IS("val-range")) { NEED(); st = ld_parse_range(v, &a->in.lo, &a->in.hi); }
    else if (IS("seed")) { NEED(); st = int_num(k, v, 0, 9.2e18, &iv); a->in.seed = (uint64_t)iv; }
    else if (IS("batch")) { NEED(); st = int_num(k, v, 1, 1 << 20, &a->in.batch); a->data.batch = a->in.split = a->in.batch; }
    else if (IS("max-samples")) { NEED(); st = int_num(k, v, 1, 9.2e18, &a->data.max_samples); }
    else if (IS("resize")) { NEED(); st = hw(k, v, &a->data.resize_h, &a->data.resize_w); }
    else if (IS("center-crop")) { NEED(); st = hw(k, v, &a->data.crop_h, &a->data.crop_w); }
    else if (IS("mean")) { NEED(); st = floats(k, v, a->data.mean, &a->data.nmean); }
    else if (IS("std")) { NEED(); st = floats(k, v, a->data.std, &a->data.nstd); }
    else if (IS("imagenet-norm")) a->data.imagenet_norm = flag;
    else if (IS("labels")) { NEED(); a->labels = v; }
    else if (IS("class-names")) { NEED(); a->class_names = v; }
    else if (IS("calib")) { NEED(); a->calib = v; }
    else if (IS("calib-method")) { NEED(); st = ld_calib_method_parse(v, &a->calib_method); }
    else if (IS("percentile")) { NEED(); st = num(k, v, 50, 100, &a->percentile); }
    else if (IS("calib-cache")) { NEED(); a->calib_cache = v; }
    else if (IS("write-calib-cache")) { NEED(); a->write_calib_cache = v; }
    else if (IS("atol")) { NEED(); st = num(k, v, 0, INFINITY, &w->atol); }
    else if (IS("rtol")) { NEED(); st = num(k, v, 0, INFINITY, &w->rtol); }
    else if (IS("check-error-stat")) {
        static const char *const names[] = {"elemwise", "max", "mean", "median", "quantile"};
        NEED();
        w->stat = -2;
        for (int i = 0; i < 5; i++) if (!strcmp(v, names[i])) w->stat = i;
        if (w->stat == -2) return ld_error(LD_ERR_USAGE, "check-error-stat takes elemwise, max, mean, median or quantile");
    } else if (IS("error-quantile")) { NEED(); st = num(k, v, 0, 1, &w->quantile); }
    else if (IS("min-sqnr")) { NEED(); st = num(k, v, -1000, 1000, &w->min_sqnr); }
    else if (IS("min-cosine")) { NEED(); st = num(k, v, -1, 1, &w->min_cosine); }
    else if (IS("max-saturation")) { NEED(); st = num(k, v, 0, 1, &w->max_sat); }
    else if (IS("no-isolated")) a->isolated = !flag;
    else if (IS("force")) a->force = flag;
    else if (IS("against")) { NEED(); a->against = v; }
    else if (IS("against-outputs")) { NEED(); a->against_outputs = v; }
    else if (IS("goal")) {
        NEED();
        if (w->ap.ngoals >= (int)LD_ARRAY_LEN(w->ap.goals)) return ld_error(LD_ERR_USAGE, "too many goal options");
        st = ld_goal_parse(v, &w->ap.goals[w->ap.ngoals]);
        if (st == LD_OK) w->ap.ngoals++;
    } else if (IS("strategy")) {
        NEED();
        if (!strcmp(v, "greedy")) w->ap.strategy = LD_STRAT_GREEDY;
        else if (!strcmp(v, "bisect")) w->ap.strategy = LD_STRAT_BISECT;
        else if (!strcmp(v, "linear")) w->ap.strategy = LD_STRAT_LINEAR;
        else return ld_error(LD_ERR_USAGE, "strategy takes greedy, bisect or linear");
    } else if (IS("direction")) {
        NEED();
        if (strcmp(v, "forward") && strcmp(v, "reverse")) return ld_error(LD_ERR_USAGE, "direction takes forward or reverse");
        w->ap.reverse = !strcmp(v, "reverse");
    } else if (IS("no-prune")) w->ap.prune = !flag;
    else if (IS("max-tries")) { NEED(); st = int_num(k, v, 1, 1000000, &iv); w->ap.max_tries = (int)iv; }
    else if (IS("time-limit")) { NEED(); st = num(k, v, 1e-9, INFINITY, &w->ap.time_limit); }
    else return ld_error(LD_ERR_USAGE, "unknown option '%s'", k);
#undef IS
#undef NEED
    return st;
}

LAYERDIFF_API int layerdiff_workload_set(layerdiff_workload *w, const char *option, const char *value) {
    if (!w || !option) return ld_api_status(ld_error(LD_ERR_USAGE, "layerdiff_workload_set: no workload or no option"));
    while (*option == '-') option++;
    return ld_api_status(set_option(w, option, value));
}

static ld_status add_feed(ld_feed **list, int *n, const layerdiff_feeds *f) {
    if (!f) return ld_error(LD_ERR_USAGE, "no feeds");
    ld_feed *l = realloc(*list, (*n + 1) * sizeof *l);
    if (!l) return ld_oom();
    l[(*n)++] = f->f;     /* borrowed: the session borrows the tensors' data in turn */
    *list = l;
    return LD_OK;
}

LAYERDIFF_API int layerdiff_workload_add_sample(layerdiff_workload *w, const layerdiff_feeds *f) {
    return ld_api_status(add_feed(&w->feeds, &w->nfeeds, f));
}

LAYERDIFF_API int layerdiff_workload_add_calib_sample(layerdiff_workload *w, const layerdiff_feeds *f) {
    return ld_api_status(add_feed(&w->calib, &w->ncalib, f));
}

LAYERDIFF_API int layerdiff_workload_set_labels(layerdiff_workload *w, const int64_t *labels, int64_t n) {
    if (n < 0 || (n && !labels)) return ld_api_status(ld_error(LD_ERR_USAGE, "layerdiff_workload_set_labels: no labels"));
    int64_t *c = malloc((n + 1) * sizeof *c);
    if (!c) return ld_api_status(ld_oom());
    if (n) memcpy(c, labels, n * sizeof *c);
    free(w->labels);
    w->labels = c;
    w->w.label_values = c;
    w->w.nlabel_values = n;
    return ld_api_status(LD_OK);
}

LAYERDIFF_API void layerdiff_workload_set_progress(layerdiff_workload *w, layerdiff_progress_fn fn, void *user) {
    w->ap.progress.fn = fn;
    w->ap.progress.user = user;
}

/* The workload as the session wants it: tolerances resolved as ld_compare_args_tol does for
** the CLI, in-memory samples attached; checks the CLI's parser makes. */
static ld_status finish(layerdiff_workload *w, ld_workload *out) {
    *out = w->w;
    if (w->nfeeds && (out->data.path || out->in.inputs_file || out->in.nspecs))
        return ld_error(LD_ERR_USAGE, "samples given in memory exclude the data, inputs and input options");
    if (out->data.path && (out->in.inputs_file || out->in.nspecs)) return ld_error(LD_ERR_USAGE, "data excludes input/inputs");
    if (out->accum_fp16 && out->target != LD_TARGET_FP16) return ld_error(LD_ERR_USAGE, "accum fp16 goes with target fp16");
    if (out->calib_cache && (out->calib || w->ncalib)) return ld_error(LD_ERR_USAGE, "calib and calib-cache exclude each other");
    if (out->against && out->against_outputs) return ld_error(LD_ERR_USAGE, "against and against-outputs exclude each other");
    out->feeds = w->nfeeds ? w->feeds : NULL;
    out->nfeeds = w->nfeeds;
    out->calib_feeds = w->ncalib ? w->calib : NULL;
    out->ncalib_feeds = w->ncalib;
    ld_tol *tol = &out->tol;
    ld_tol_default(tol, out->target);
    if (w->atol >= 0 || w->rtol >= 0 || w->stat >= 0) {
        tol->check_tol = true;
        if (w->atol >= 0) tol->atol = w->atol;
        if (w->rtol >= 0) tol->rtol = w->rtol;
        if (w->stat >= 0) tol->stat = w->stat;
        tol->quantile = w->quantile;
    }
    if (!isnan(w->min_sqnr)) tol->min_sqnr = w->min_sqnr;
    if (!isnan(w->min_cosine)) tol->min_cosine = w->min_cosine;
    if (!isnan(w->max_sat)) tol->max_sat_frac = w->max_sat;
    return LD_OK;
}

static ld_status report_new(ld_session *s, const ld_compare *c, layerdiff_report **out) {
    ld_report_meta meta;
    ld_session_meta(s, &meta);
    layerdiff_report *r = calloc(1, sizeof *r);
    if (!r) return ld_oom();
    r->json = ld_report_json(c, &meta);
    if (!r->json) { free(r); return ld_oom(); }
    r->passed = c->passed;
    *out = r;
    return LD_OK;
}

LAYERDIFF_API int layerdiff_compare(layerdiff_workload *w, layerdiff_report **out) {
    *out = NULL;
    ld_workload wl;
    ld_status st = finish(w, &wl);
    if (st != LD_OK) return ld_api_status(st);
    ld_session s;
    ld_compare c;
    memset(&c, 0, sizeof c);
    st = ld_session_open(&s, &wl);
    if (st == LD_OK) {
        s.opts.progress = w->ap.progress;
        if (wl.against || wl.against_outputs) {
            int matched = 0;
            st = ld_session_against(&s, &c, &matched);
        } else {
            st = ld_session_compare(&s, &c);
        }
    }
    if (st == LD_OK) st = report_new(&s, &c, out);
    ld_compare_free(&c);
    ld_session_close(&s);
    return ld_api_status(st);
}

static cJSON *eval_json(const ld_goal_eval *e) {
    cJSON *o = cJSON_CreateObject();
    cJSON_AddNumberToObject(o, "sqnr_db", isfinite(e->sqnr) ? e->sqnr : (e->sqnr > 0 ? 1e308 : -1e308));
    cJSON_AddNumberToObject(o, "cosine", e->cosine);
    cJSON_AddNumberToObject(o, "top1_agreement", e->top1);
    if (e->labelled) cJSON_AddNumberToObject(o, "acc_delta_pp", e->acc_delta);
    else cJSON_AddNullToObject(o, "acc_delta_pp");
    cJSON_AddNumberToObject(o, "max_rel", e->maxrel);
    cJSON_AddBoolToObject(o, "finite", e->finite);
    cJSON_AddBoolToObject(o, "met", e->met);
    return o;
}

static cJSON *autopin_json(const ld_graph *g, const ld_autopin_opts *o, const ld_autopin_result *r) {
    cJSON *a = cJSON_CreateObject(), *goals = cJSON_AddArrayToObject(a, "goals");
    char gb[64];
    for (int i = 0; i < o->ngoals; i++) cJSON_AddItemToArray(goals, cJSON_CreateString(ld_goal_str(&o->goals[i], gb, sizeof gb)));
    cJSON_AddBoolToObject(a, "met", r->met);
    cJSON *p = cJSON_AddArrayToObject(a, "pinned");
    for (int i = 0; i < g->nnodes; i++)
        if (r->pinned[i]) cJSON_AddItemToArray(p, cJSON_CreateString(g->nodes[i].name));
    cJSON_AddItemToObject(a, "before", eval_json(&r->before));
    cJSON_AddItemToObject(a, "after", eval_json(&r->after));
    cJSON_AddNumberToObject(a, "fp32_flops_share", r->fp32_flops_share);
    cJSON_AddNumberToObject(a, "fp32_params_share", r->fp32_params_share);
    cJSON_AddNumberToObject(a, "candidates", r->candidates);
    cJSON_AddNumberToObject(a, "tries", r->tries);
    cJSON_AddNumberToObject(a, "seconds", r->seconds);
    if (r->stopped) cJSON_AddStringToObject(a, "stopped", r->stopped);
    else cJSON_AddNullToObject(a, "stopped");
    return a;
}

LAYERDIFF_API int layerdiff_autopin(layerdiff_workload *w, layerdiff_report **out) {
    *out = NULL;
    ld_workload wl;
    ld_status st = finish(w, &wl);
    if (st == LD_OK && (wl.against || wl.against_outputs)) st = ld_error(LD_ERR_USAGE, "against does not apply to autopin");
    if (st == LD_OK && !wl.isolated) st = ld_error(LD_ERR_USAGE, "autopin needs the isolated comparison (no-isolated is a compare option)");
    if (st != LD_OK) return ld_api_status(st);
    ld_autopin_opts o = w->ap;
    ld_session s;
    ld_autopin_result r;
    memset(&r, 0, sizeof r);
    st = ld_session_open(&s, &wl);
    if (st == LD_OK && !o.ngoals) {   /* the defaults of `layerdiff autopin` */
        const ld_graph *g = s.model->graph;
        const ld_value *o0 = g->noutputs ? &g->values[g->outputs[ld_graph_main_output(g)]] : NULL;
        bool cls = o0 && o0->has_decl && o0->decl_ndim == 2;
        o.ngoals = ld_goal_defaults(wl.target, cls, o.goals, (int)LD_ARRAY_LEN(o.goals));
    }
    if (st == LD_OK) st = ld_autopin_run(&s, &o, &r);
    if (st == LD_OK) {   /* the comparison with the pins found, as autopin --report writes it */
        ld_compare c;
        memset(&c, 0, sizeof c);
        memcpy(s.pinned, r.pinned, sizeof(bool) * s.model->graph->nnodes);
        s.opts.progress = o.progress;
        st = ld_session_compare(&s, &c);
        if (st == LD_OK) st = report_new(&s, &c, out);
        if (st == LD_OK) {
            (*out)->autopin = autopin_json(s.model->graph, &o, &r);
            (*out)->passed = r.met;
        }
        ld_compare_free(&c);
    }
    ld_autopin_result_free(&r);
    ld_session_close(&s);
    return ld_api_status(st);
}
