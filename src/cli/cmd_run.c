/*
** cmd_run.c — `layerdiff run`: run a model in FP32 on given, generated or dataset (--data)
** inputs, print a summary of each output and how many feeds and samples ran, optionally save
** outputs (every tensor with --mark-all) and time repeated inferences.
*/
#include "cmd.h"

#include <cJSON.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char run_usage[] =
    "usage: layerdiff run MODEL [options]\n"
    "  --input NAME=FILE     input tensor from .npy or ONNX TensorProto .pb (repeatable)\n"
    "  --inputs FILE         inputs from .npz or a Polygraphy inputs .json (one run per feed)\n"
    "  --data PATH           dataset as in compare: images folder, IDX file, .npy folder, .npz,\n"
    "                        Polygraphy inputs .json (with --max-samples, --resize, --center-crop,\n"
    "                        --mean, --std, --imagenet-norm)\n"
    "  --val-range LO,HI     range of generated inputs (default 0,1)\n"
    "  --seed N              seed of generated inputs (default 1)\n"
    "  --batch B             samples per feed: symbolic batch dimension of generated inputs and\n"
    "                        of --data (default 1); --input/--inputs arrays are cut into batches of B\n"
    "  --mark-all            keep and save every intermediate tensor\n"
    "  --save-outputs FILE   write outputs: .npz, Polygraphy RunResults .json, or a directory of .npy\n"
    "  --force               overwrite an existing --save-outputs file\n"
    "  --repeat N            time N inferences (after --warmup K, default 1)\n"
    "  --warmup K            untimed inferences before timing\n"
    "  --json                print the summary as JSON\n"
    "  --profile             with --repeat: time per op type over the timed runs\n";

typedef struct run_opts {
    const char *model, *save;
    ld_input_opts in;
    const char *specs[LD_MAX_INPUT_SPECS];
    ld_data_opts data;
    bool mark_all, json, force, profile;
    int64_t repeat, warmup;
} run_opts;

static ld_status run_parse(int argc, char **argv, run_opts *o, bool *help) {
    memset(o, 0, sizeof *o);
    ld_input_opts_init(&o->in);
    o->in.specs = o->specs;
    ld_data_opts_init(&o->data);
    o->warmup = 1;
    for (int i = 1; i < argc; i++) {
        const char *v = NULL;
        ld_status st = LD_OK;
        if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) { *help = true; return LD_OK; }
        else if (ld_arg_data(argc, argv, &i, "run", &o->in, &o->data, &st)) { if (st) return st; }
        else if (ld_arg_value(argc, argv, &i, "--save-outputs", &v, &st)) { if (st) return st; o->save = v; }
        else if (ld_arg_value(argc, argv, &i, "--repeat", &v, &st)) { if (st) return st; LD_TRY(ld_arg_int("--repeat", v, 1, 1000000, &o->repeat)); }
        else if (ld_arg_value(argc, argv, &i, "--warmup", &v, &st)) { if (st) return st; LD_TRY(ld_arg_int("--warmup", v, 0, 1000000, &o->warmup)); }
        else if (ld_arg_flag(argv, i, "--mark-all")) o->mark_all = true;
        else if (ld_arg_flag(argv, i, "--json")) o->json = true;
        else if (ld_arg_flag(argv, i, "--force")) o->force = true;
        else if (ld_arg_flag(argv, i, "--profile")) o->profile = true;
        else if (argv[i][0] == '-' && argv[i][1]) return ld_usage_error("run", "unknown option '%s'", argv[i]);
        else if (!o->model) o->model = argv[i];
        else return ld_usage_error("run", "unexpected argument '%s'", argv[i]);
    }
    if (!o->model) return ld_usage_error("run", "missing MODEL");
    LD_TRY(ld_arg_data_check("run", &o->in, &o->data));
    if (o->profile && !o->repeat) return ld_usage_error("run", "--profile needs --repeat N");
    return LD_OK;
}

static int cmp_double(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

/* Collect the outputs (or every tensor with mark_all) of a finished run into a feed. */
static ld_status collect(ld_exec *ex, bool mark_all, ld_feed *out) {
    ld_graph *g = ld_exec_graph(ex);
    if (mark_all) {
        for (int i = 0; i < g->nnodes; i++) {
            const ld_node *n = &g->nodes[i];
            if (n->folded) continue;
            for (int k = 0; k < n->nout; k++) {
                int v = n->out[k];
                ld_tensor *t = v >= 0 ? ld_exec_value(ex, v) : NULL;
                if (!t || t->kind != LD_KIND_TENSOR || g->values[v].is_output) continue;
                ld_tensor *c = calloc(1, sizeof *c);
                if (!c) return ld_oom();
                LD_TRY(ld_tensor_copy(c, t));
                LD_TRY(ld_feed_add(out, g->values[v].name, c));
            }
        }
    }
    for (int i = 0; i < g->noutputs; i++) {
        ld_tensor *t = ld_exec_value(ex, g->outputs[i]);
        if (!t) return ld_error(LD_ERR_INTERNAL, "output '%s' was not computed", g->values[g->outputs[i]].name);
        ld_tensor *c = calloc(1, sizeof *c);
        if (!c) return ld_oom();
        LD_TRY(ld_tensor_copy(c, t));
        LD_TRY(ld_feed_add(out, g->values[g->outputs[i]].name, c));
    }
    return LD_OK;
}

static ld_status run_sample(ld_graph *g, ld_feed *in, bool keep, ld_exec *ex, double *node_seconds) {
    LD_TRY(ld_exec_init(ex, g, NULL));
    ld_exec_set_keep_all(ex, keep);
    ld_exec_set_timing(ex, node_seconds);
    for (int k = 0; k < in->n; k++) LD_TRY(ld_exec_set_input(ex, in->items[k].name, in->items[k].t));
    return ld_exec_run(ex);
}

static void print_tensor_line(const char *name, const ld_tensor *t) {
    char sh[128];
    ld_stats s;
    ld_tensor_stats(t, &s);
    printf("  %s  %s %s  min %.6g  max %.6g  mean %.6g  std %.6g", name, ld_dtype_name(t->dtype),
           ld_shape_str(t, sh, sizeof sh), s.min, s.max, s.mean, s.std);
    if (s.nan || s.inf) printf("  NaN %lld  Inf %lld", (long long)s.nan, (long long)s.inf);
    printf("\n");
    if (t->ndim == 2 && t->dims[1] > 1 && t->dims[1] <= 100000 && t->dtype != LD_STRING) {
        printf("    argmax per row:");
        for (int64_t r = 0; r < t->dims[0] && r < 16; r++) {
            int64_t best = 0;
            for (int64_t c = 1; c < t->dims[1]; c++)
                if (ld_tensor_get_f64(t, r * t->dims[1] + c) > ld_tensor_get_f64(t, r * t->dims[1] + best)) best = c;
            printf(" %lld", (long long)best);
        }
        printf("%s\n", t->dims[0] > 16 ? " ..." : "");
    }
}

static cJSON *tensor_json(const char *name, const ld_tensor *t) {
    cJSON *o = cJSON_CreateObject(), *sh = cJSON_CreateArray();
    ld_stats s;
    ld_tensor_stats(t, &s);
    cJSON_AddStringToObject(o, "name", name);
    cJSON_AddStringToObject(o, "dtype", ld_dtype_name(t->dtype));
    for (int d = 0; d < t->ndim; d++) cJSON_AddItemToArray(sh, cJSON_CreateNumber((double)t->dims[d]));
    cJSON_AddItemToObject(o, "shape", sh);
    cJSON_AddNumberToObject(o, "min", isfinite(s.min) ? s.min : 0);
    cJSON_AddNumberToObject(o, "max", isfinite(s.max) ? s.max : 0);
    cJSON_AddNumberToObject(o, "mean", s.mean);
    cJSON_AddNumberToObject(o, "std", s.std);
    cJSON_AddNumberToObject(o, "nan", (double)s.nan);
    cJSON_AddNumberToObject(o, "inf", (double)s.inf);
    return o;
}

/* Time per op type over the timed runs, slowest first. */
static void print_profile(const ld_graph *g, const double *sec, int64_t runs, FILE *f) {
    typedef struct { const char *op; int n; double s; } row;
    row *rows = calloc(g->nnodes + 1, sizeof *rows);
    if (!rows) return;
    int nr = 0;
    double total = 0;
    for (int i = 0; i < g->nnodes; i++) {
        if (g->nodes[i].folded) continue;
        int k = 0;
        while (k < nr && strcmp(rows[k].op, g->nodes[i].op_type)) k++;
        if (k == nr) rows[nr++].op = g->nodes[i].op_type;
        rows[k].n++;
        rows[k].s += sec[i];
        total += sec[i];
    }
    for (int a = 1; a < nr; a++)     /* insertion sort, slowest first */
        for (int b = a; b > 0 && rows[b].s > rows[b - 1].s; b--) { row t = rows[b]; rows[b] = rows[b - 1]; rows[b - 1] = t; }
    fprintf(f, "time per op type (mean over %lld runs):\n  %-24s %6s %10s %7s\n", (long long)runs, "op", "nodes", "ms", "share");
    for (int k = 0; k < nr; k++)
        fprintf(f, "  %-24s %6d %10.3f %6.1f%%\n", rows[k].op, rows[k].n, 1e3 * rows[k].s / runs,
                total > 0 ? 100 * rows[k].s / total : 0);
    free(rows);
}

static ld_status run_main(run_opts *o) {
    ld_model *m = NULL;
    ld_feed *samples = NULL, *results = NULL;
    int ns = 0;
    double *times = NULL, *node_sec = NULL;
    ld_status st = ld_model_load(o->model, &m);
    if (st != LD_OK) return ld_err_prefix_path(st, o->model);
    ld_graph *g = m->graph;
    if (o->data.path) {
        char **names = NULL;
        int64_t nnames = 0;
        st = ld_data_load(g, &o->data, &samples, &ns, &names, &nnames);
        ld_strings_free(names, nnames);
    } else {
        st = ld_inputs_prepare(g, &o->in, &samples, &ns);
    }
    /* samples: the first input's leading dimension per feed (a batch of images counts as that many) */
    int64_t total = 0;
    for (int s = 0; st == LD_OK && s < ns; s++) {
        const ld_tensor *t = g->ninputs ? ld_feed_get(&samples[s], g->values[g->inputs[0]].name) : NULL;
        total += t && t->kind == LD_KIND_TENSOR && t->ndim > 0 ? t->dims[0] : 1;
    }
    if (st == LD_OK && o->save && ns > 1 && !strstr(o->save, ".json"))
        st = ld_error(LD_ERR_USAGE, "--save-outputs: %d feeds need a Polygraphy .json file", ns);
    results = calloc(ns + 1, sizeof *results);
    double *sample_sec = calloc(ns + 1, sizeof(double));
    cJSON *js = o->json ? cJSON_CreateObject() : NULL, *jouts = o->json ? cJSON_CreateArray() : NULL;
    if (st == LD_OK && (!results || !sample_sec)) st = ld_oom();
    if (st == LD_OK && !o->json)
        printf("model %s: %d nodes, %d feed%s, %lld sample%s\n", o->model, g->nnodes, ns, ns == 1 ? "" : "s",
               (long long)total, total == 1 ? "" : "s");
    for (int s = 0; st == LD_OK && s < ns; s++) {
        ld_exec ex;
        double t0 = ld_now_sec();
        st = run_sample(g, &samples[s], o->mark_all, &ex, NULL);
        sample_sec[s] = ld_now_sec() - t0;
        if (st == LD_OK && (o->save || o->mark_all)) st = collect(&ex, o->mark_all, &results[s]);
        for (int i = 0; st == LD_OK && i < g->noutputs; i++) {
            const char *name = g->values[g->outputs[i]].name;
            const ld_tensor *t = ld_exec_value(&ex, g->outputs[i]);
            if (o->json) {
                cJSON *tj = tensor_json(name, t);
                cJSON_AddNumberToObject(tj, "sample", s);
                cJSON_AddItemToArray(jouts, tj);
            } else {
                if (ns > 1) printf("feed %d:\n", s);
                print_tensor_line(name, t);
            }
        }
        if (st == LD_OK && o->mark_all && !o->json)
            printf("  (%d tensors kept with --mark-all)\n", results[s].n);
        ld_exec_destroy(&ex);
    }
    if (st == LD_OK && !o->json)
        printf("ran %d feed%s, %lld sample%s\n", ns, ns == 1 ? "" : "s", (long long)total, total == 1 ? "" : "s");
    /* timing */
    if (st == LD_OK && o->repeat > 0) {
        times = calloc(o->repeat, sizeof(double));
        node_sec = o->profile ? calloc(g->nnodes + 1, sizeof(double)) : NULL;
        if (!times || (o->profile && !node_sec)) st = ld_oom();
        for (int64_t r = 0; st == LD_OK && r < o->warmup + o->repeat; r++) {
            ld_exec ex;
            double t0 = ld_now_sec();
            st = run_sample(g, &samples[0], false, &ex, r >= o->warmup ? node_sec : NULL);
            double dt = ld_now_sec() - t0;
            ld_exec_destroy(&ex);
            if (r >= o->warmup) times[r - o->warmup] = dt * 1e3;
        }
        if (st == LD_OK) {
            double sum = 0;
            for (int64_t r = 0; r < o->repeat; r++) sum += times[r];
            qsort(times, o->repeat, sizeof(double), cmp_double);
            double mean = sum / o->repeat, med = o->repeat % 2 ? times[o->repeat / 2]
                                                   : 0.5 * (times[o->repeat / 2 - 1] + times[o->repeat / 2]);
            int64_t batch = samples[0].n && samples[0].items[0].t->ndim ? samples[0].items[0].t->dims[0] : 1;
            double thr = mean > 0 ? batch * 1000.0 / mean : 0;
            if (o->json) {
                cJSON *lat = cJSON_CreateObject();
                cJSON_AddNumberToObject(lat, "mean", mean);
                cJSON_AddNumberToObject(lat, "median", med);
                cJSON_AddNumberToObject(lat, "min", times[0]);
                cJSON_AddNumberToObject(lat, "max", times[o->repeat - 1]);
                cJSON_AddItemToObject(js, "latency_ms", lat);
                cJSON_AddNumberToObject(js, "throughput", thr);
                cJSON_AddNumberToObject(js, "repeat", (double)o->repeat);
                cJSON_AddNumberToObject(js, "warmup", (double)o->warmup);
                cJSON_AddNumberToObject(js, "batch", (double)batch);
            } else {
                printf("latency over %lld runs (after %lld warm-up): mean %.3f ms, median %.3f ms, min %.3f ms, max %.3f ms\n",
                       (long long)o->repeat, (long long)o->warmup, mean, med, times[0], times[o->repeat - 1]);
                printf("throughput: %.1f samples/s (batch %lld, %d thread%s)\n", thr, (long long)batch,
                       ld_nthreads, ld_nthreads == 1 ? "" : "s");
            }
        }
    }
    if (st == LD_OK && node_sec) print_profile(g, node_sec, o->repeat, o->json ? stderr : stdout);
    if (st == LD_OK && o->save) {
        if (strstr(o->save, ".json") && ns >= 1) {
            st = ld_pg_write_results(o->save, "layerdiff-fp32", results, ns, sample_sec, o->force);
        } else {
            st = ld_feed_save(o->save, &results[0], o->force);
        }
        if (st == LD_OK && !o->json) printf("saved %d tensor%s to %s\n", results[0].n, results[0].n == 1 ? "" : "s", o->save);
    }
    if (st == LD_OK && o->json) {
        cJSON_AddStringToObject(js, "model", o->model);
        cJSON_AddNumberToObject(js, "feeds", ns);
        cJSON_AddNumberToObject(js, "samples", (double)total);
        cJSON_AddNumberToObject(js, "threads", ld_nthreads);
        cJSON_AddItemToObject(js, "outputs", jouts);
        jouts = NULL;
        char *txt = cJSON_Print(js);
        if (txt) { puts(txt); free(txt); }
    }
    cJSON_Delete(js);
    cJSON_Delete(jouts);
    free(times);
    free(node_sec);
    free(sample_sec);
    ld_samples_free(results, ns);
    ld_samples_free(samples, ns);
    ld_model_free(m);
    return st;
}

int cmd_run(int argc, char **argv) {
    run_opts o;
    bool help = false;
    ld_status st = run_parse(argc, argv, &o, &help);
    if (help) { fputs(run_usage, stdout); return 0; }
    if (st != LD_OK) return ld_report_error(st, NULL);
    st = run_main(&o);
    if (st != LD_OK) return ld_report_error(st, NULL);
    return 0;
}
