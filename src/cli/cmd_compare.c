/*
** cmd_compare.c — `layerdiff compare`: flags -> comparison options, data, calibration;
** runs the side-by-side comparison and prints the table / writes the JSON report.
** Exit 0 within tolerance, 1 divergence found, 64+ errors.
*/
#include "cmd.h"
#include "ld_calib.h"
#include "ld_data.h"
#include "ld_inputs.h"
#include "ld_pins.h"
#include "ld_report.h"
#include "cmd_compare.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

const char ld_compare_usage[] =
    "usage: layerdiff compare MODEL --target T [options]\n"
    "targets: fp16 bf16 fp8e4m3 fp8e5m2 int8 w4a16 nvfp4 mxfp8 mxfp4 (fp32: reference against itself)\n"
    "  qdq: a QDQ model as written against the same model with its activation Q->DQ pairs\n"
    "       removed (the default when MODEL has QuantizeLinear/DequantizeLinear pairs)\n"
    "  --float-model F.onnx    qdq: float weights from the model before quantization\n"
    "precision:\n"
    "  --block-size N          w4a16: INT4 weights per block of N along the reduction axis (default 128)\n"
    "  --accum fp16            Conv/Gemm/MatMul/reductions accumulate in FP16\n"
    "  --fallback fp16|fp32    format of non-quantized ops for int8/fp8/w4a16/nvfp4/mx (default fp16)\n"
    "  --pin SPEC              run nodes in FP32: name glob, op:TYPE, or @FILE (repeatable)\n"
    "data (one sample per feed; default: one generated sample):\n"
    "  --input NAME=FILE, --inputs FILE, --val-range LO,HI, --seed N   as in run\n"
    "  --batch B               samples per feed: of --data, of generated inputs, and given\n"
    "                          explicitly, --input/--inputs arrays are cut into batches of B\n"
    "  --data PATH             images folder, IDX file, .npy folder, .npz, Polygraphy inputs .json\n"
    "  --max-samples N         use at most N samples\n"
    "  --resize HxW --center-crop HxW --mean a,b,c --std a,b,c --imagenet-norm\n"
    "  --labels FILE           labels (CSV filename,label / .npy / IDX / one per line)\n"
    "  --class-names FILE      one class name per line\n"
    "  --inspect N             print top-5 of FP32 and target for the first N samples\n"
    "calibration (int8, fp8):\n"
    "  --calib DATA            calibration data (same forms as --data; default: the compared data)\n"
    "  --calib-method M        entropy (default), minmax, percentile, mse\n"
    "  --percentile P          for --calib-method percentile (default 99.99)\n"
    "  --calib-cache FILE      read activation scales from a TensorRT calibration cache\n"
    "  --write-calib-cache FILE  write the scales used as a TensorRT calibration cache\n"
    "pass/fail (default: see layerdiff-compare(1)):\n"
    "  --atol X --rtol X       Polygraphy tolerances\n"
    "  --check-error-stat S    elemwise (default), max, mean, median, quantile\n"
    "  --error-quantile Q      for quantile (default 0.99)\n"
    "  --min-sqnr DB --min-cosine X --max-saturation FRAC\n"
    "other engines:\n"
    "  --against MODEL2        compare FP32 with a second model run in FP32, tensors matched by name\n"
    "  --against-outputs FILE  compare FP32 with tensors saved by another engine (Polygraphy RunResults)\n"
    "  --load-inputs FILE      Polygraphy inputs matching --against-outputs\n"
    "output:\n"
    "  --report FILE.json      write the JSON report (--force to overwrite; '-' for stdout)\n"
    "  --rows all|failing|flagged|N   table rows (default all; N = the first N)\n"
    "  --no-isolated           skip isolated comparisons (faster)\n"
    "  -q, --quiet             no table\n";

static ld_status parse_double(const char *flag, const char *v, double lo, double hi, double *out) {
    char *end;
    double d = strtod(v, &end);
    if (!*v || *end || !(d >= lo && d <= hi)) return ld_error(LD_ERR_USAGE, "%s takes a number from %g to %g (got '%s')", flag, lo, hi, v);
    *out = d;
    return LD_OK;
}

ld_status ld_compare_parse(int argc, char **argv, const char *cmd, compare_args *a, bool *help,
                           compare_extra_fn extra, void *extra_user) {
    memset(a, 0, sizeof *a);
    a->extra = extra;
    a->extra_user = extra_user;
    ld_input_opts_init(&a->in);
    a->in.specs = a->specs;
    ld_data_opts_init(&a->data);
    a->fallback = LD_TARGET_FP16;
    a->calib_method = LD_CALIB_ENTROPY;
    a->percentile = 99.99;
    a->rows = LD_ROWS_ALL;          /* one row per node, as the table is meant */
    a->max_rows = 0;
    a->isolated = true;
    a->target = LD_TARGET_COUNT;
    a->atol = a->rtol = -1;
    a->min_sqnr = NAN;
    a->min_cosine = NAN;
    a->max_sat = NAN;
    a->quantile = 0.99;
    a->stat = -1;
    for (int i = 1; i < argc; i++) {
        const char *v = NULL;
        ld_status st = LD_OK;
        int64_t iv;
#define VAL(name) ld_arg_value(argc, argv, &i, name, &v, &st)
        if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) { *help = true; return LD_OK; }
        else if (VAL("--target")) { if (!st) st = ld_target_parse(v, &a->target); }
        else if (VAL("--accum")) {
            if (!st && strcmp(v, "fp16") && strcmp(v, "fp32")) st = ld_usage_error(cmd, "--accum takes fp16 or fp32");
            a->accum_fp16 = v && !strcmp(v, "fp16");
        } else if (VAL("--fallback")) {
            if (!st && strcmp(v, "fp16") && strcmp(v, "fp32")) st = ld_usage_error(cmd, "--fallback takes fp16 or fp32");
            a->fallback = v && !strcmp(v, "fp32") ? LD_TARGET_FP32 : LD_TARGET_FP16;
        } else if (VAL("--block-size")) {
            if (!st) st = ld_arg_int("--block-size", v, 1, 1 << 20, &iv);
            a->block_size = (int)iv;
        } else if (VAL("--pin")) {
            if (!st && a->npins >= LD_MAX_PIN_SPECS) st = ld_usage_error(cmd, "too many --pin options");
            if (!st) a->pins[a->npins++] = v;
        } else if (ld_arg_data(argc, argv, &i, cmd, &a->in, &a->data, &st)) { /* data flags */ }
        else if (VAL("--labels")) a->labels = v;
        else if (VAL("--class-names")) a->class_names = v;
        else if (VAL("--inspect")) { if (!st) st = ld_arg_int("--inspect", v, 0, 1000000, &a->inspect); }
        else if (VAL("--calib")) a->calib = v;
        else if (VAL("--calib-method")) { if (!st) st = ld_calib_method_parse(v, &a->calib_method); }
        else if (VAL("--percentile")) { if (!st) st = parse_double("--percentile", v, 50, 100, &a->percentile); }
        else if (VAL("--calib-cache")) a->calib_cache = v;
        else if (VAL("--write-calib-cache")) a->write_calib_cache = v;
        else if (VAL("--atol")) { if (!st) st = parse_double("--atol", v, 0, INFINITY, &a->atol); }
        else if (VAL("--rtol")) { if (!st) st = parse_double("--rtol", v, 0, INFINITY, &a->rtol); }
        else if (VAL("--check-error-stat")) {
            static const char *const names[] = {"elemwise", "max", "mean", "median", "quantile"};
            a->stat = -2;
            for (int k = 0; v && k < 5; k++) if (!strcmp(v, names[k])) a->stat = k;
            if (!st && a->stat == -2) st = ld_usage_error(cmd, "--check-error-stat takes elemwise, max, mean, median or quantile");
        } else if (VAL("--error-quantile")) { if (!st) st = parse_double("--error-quantile", v, 0, 1, &a->quantile); }
        else if (VAL("--min-sqnr")) { if (!st) st = parse_double("--min-sqnr", v, -1000, 1000, &a->min_sqnr); }
        else if (VAL("--min-cosine")) { if (!st) st = parse_double("--min-cosine", v, -1, 1, &a->min_cosine); }
        else if (VAL("--max-saturation")) { if (!st) st = parse_double("--max-saturation", v, 0, 1, &a->max_sat); }
        else if (VAL("--against")) a->against = v;
        else if (VAL("--float-model")) a->float_model = v;
        else if (VAL("--against-outputs")) a->against_outputs = v;
        else if (VAL("--load-inputs")) a->in.inputs_file = v;
        else if (VAL("--report")) a->report = v;
        else if (VAL("--rows")) {
            if (!st) {
                if (!strcmp(v, "all")) a->rows = LD_ROWS_ALL, a->max_rows = 0;
                else if (!strcmp(v, "failing")) a->rows = LD_ROWS_FAILING;
                else if (!strcmp(v, "flagged")) a->rows = LD_ROWS_FLAGGED;
                else { st = ld_arg_int("--rows", v, 0, INT32_MAX, &iv); a->rows = LD_ROWS_ALL; a->max_rows = (int)iv; }
            }
        } else if (ld_arg_flag(argv, i, "--no-isolated")) a->isolated = false;
        else if (ld_arg_flag(argv, i, "--force")) a->force = true;
        else if (ld_arg_flag(argv, i, "-q") || ld_arg_flag(argv, i, "--quiet")) a->quiet = true;
        else if (a->extra && a->extra(argc, argv, &i, a->extra_user, &st)) { /* command-specific */ }
        else if (argv[i][0] == '-' && argv[i][1]) st = ld_usage_error(cmd, "unknown option '%s'", argv[i]);
        else if (!a->model) a->model = argv[i];
        else st = ld_usage_error(cmd, "unexpected argument '%s'", argv[i]);
#undef VAL
        if (st != LD_OK) return st;
    }
    if (!a->model) return ld_usage_error(cmd, "missing MODEL");
    if (a->against || a->against_outputs) {
        if (a->target == LD_TARGET_COUNT) a->target = LD_TARGET_FP32;
        if (a->against && a->against_outputs) return ld_usage_error(cmd, "--against and --against-outputs exclude each other");
    } else if (a->target == LD_TARGET_COUNT) {
        a->target = LD_TARGET_QDQ;   /* the session checks the model has quantizers */
        a->target_auto = true;       /* (browse REPORT.json: cmd_browse undoes it) */
    }
    LD_TRY(ld_arg_data_check(cmd, &a->in, &a->data));
    if (a->accum_fp16 && a->target != LD_TARGET_FP16) return ld_usage_error(cmd, "--accum fp16 goes with --target fp16");
    if (a->block_size && !ld_target_format(a->target)->block_size_flag) {
        const ld_format *f = ld_target_format(a->target);
        if (f->block)
            return ld_usage_error(cmd, "--block-size: %s fixes its block at %d elements (--block-size goes with w4a16)",
                                  f->name, f->block_size);
        return ld_usage_error(cmd, "--block-size goes with a block-scaled target with a free block size (w4a16), not %s",
                              f->name);
    }
    if (a->calib_cache && a->calib) return ld_usage_error(cmd, "--calib and --calib-cache exclude each other");
    return LD_OK;
}

void ld_compare_args_tol(const compare_args *a, ld_tol *tol) {
    ld_tol_default(tol, a->target);
    if (a->atol >= 0 || a->rtol >= 0 || a->stat >= 0) {
        tol->check_tol = true;
        if (a->atol >= 0) tol->atol = a->atol;
        if (a->rtol >= 0) tol->rtol = a->rtol;
        if (a->stat >= 0) tol->stat = a->stat;
        tol->quantile = a->quantile;
    }
    if (!isnan(a->min_sqnr)) tol->min_sqnr = a->min_sqnr;
    if (!isnan(a->min_cosine)) tol->min_cosine = a->min_cosine;
    if (!isnan(a->max_sat)) tol->max_sat_frac = a->max_sat;
}

void ld_compare_args_workload(const compare_args *a, ld_workload *w) {
    memset(w, 0, sizeof *w);
    w->model = a->model;
    w->target = a->target;
    w->fallback = a->fallback;
    w->accum_fp16 = a->accum_fp16;
    w->block_size = a->block_size;
    w->pins = a->pins;
    w->npins = a->npins;
    w->in = a->in;
    w->data = a->data;
    w->labels = a->labels;
    w->class_names = a->class_names;
    w->calib = a->calib;
    w->calib_cache = a->calib_cache;
    w->write_calib_cache = a->write_calib_cache;
    w->calib_method = a->calib_method;
    w->percentile = a->percentile;
    ld_compare_args_tol(a, &w->tol);
    w->isolated = a->isolated;
    w->force = a->force;
    w->against = a->against;
    w->against_outputs = a->against_outputs;
    w->float_model = a->float_model;
    w->target_auto = a->target_auto;
}

/* ---- the command ---- */

static void print_inspect(FILE *f, const ld_session *s, const ld_compare *c, int64_t n) {
    const ld_tensor *r = c->ref_out0, *t = c->tgt_out0;
    if (!r || !t || r->ndim != 2) return;
    int64_t K = r->dims[1], k5 = K < 5 ? K : 5;
    for (int64_t i = 0; i < n && i < r->dims[0]; i++) {
        bool named = s->names && i < s->nnames && s->names[i] && s->names[i][0];
        fprintf(f, "sample %lld%s%s%s", (long long)i, named ? " (" : "", named ? s->names[i] : "", named ? ")" : "");
        if (s->labels && i < s->nlabels) {
            int64_t l = s->labels[i];
            if (l >= 0 && l < s->nclass_names) fprintf(f, " label %s", s->class_names[l]);
            else fprintf(f, " label %lld", (long long)l);
        }
        fprintf(f, "\n");
        for (int side = 0; side < 2; side++) {
            const float *row = (const float *)(side ? t : r)->data + i * K;
            int64_t idx[5];
            ld_topk_indices(row, k5, K, idx);
            fprintf(f, "  %-6s", side ? ld_target_format(c->opts.policy.target)->name : "fp32");
            for (int64_t j = 0; j < k5; j++) {
                if (idx[j] < s->nclass_names) fprintf(f, "  %s %.4g", s->class_names[idx[j]], row[idx[j]]);
                else fprintf(f, "  %lld %.4g", (long long)idx[j], row[idx[j]]);
            }
            fprintf(f, "\n");
        }
    }
}

int cmd_compare(int argc, char **argv) {
    compare_args a;
    bool help = false;
    ld_status st = ld_compare_parse(argc, argv, "compare", &a, &help, NULL, NULL);
    if (help) { fputs(ld_compare_usage, stdout); return 0; }
    if (st != LD_OK) return ld_report_error(st, NULL);
    ld_session s;
    ld_compare c;
    memset(&c, 0, sizeof c);
    ld_workload w;
    ld_compare_args_workload(&a, &w);
    st = ld_session_open(&s, &w);
    if (st == LD_OK) {
        if (a.against || a.against_outputs) {
            int matched = 0;
            st = ld_session_against(&s, &c, &matched);
            if (st == LD_OK && !a.quiet) printf("matched %d tensors by name\n", matched);
        }
        else {
            if (isatty(2) && !a.quiet) s.opts.progress.fn = ld_progress_stderr;
            st = ld_session_compare(&s, &c);
        }
    }
    ld_report_meta meta;
    if (st == LD_OK) {
        ld_session_meta(&s, &meta);
        /* with --report - the JSON owns stdout: the table goes to stderr */
        bool to_stdout = a.report && !strcmp(a.report, "-");
        if (!a.quiet) ld_report_print(to_stdout ? stderr : stdout, &c, &meta, a.rows, a.max_rows);
        if (a.inspect) print_inspect(to_stdout ? stderr : stdout, &s, &c, a.inspect);
        if (a.report) st = ld_report_write(a.report, &c, &meta, a.force);
        if (st == LD_OK && a.report && strcmp(a.report, "-") && !a.quiet) printf("report written to %s\n", a.report);
    }
    int rc = st != LD_OK ? ld_report_error(st, NULL) : c.passed ? 0 : 1;
    ld_compare_free(&c);
    ld_session_close(&s);
    return rc;
}
