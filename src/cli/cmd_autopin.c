/*
** cmd_autopin.c — `layerdiff autopin`: search the nodes to keep in FP32, print the result,
** write it in the requested formats and optionally as a mixed-precision ONNX model.
** Exit 0 when the goals hold, 1 when they do not (the best set found is still written).
*/
#include "cmd.h"
#include "ld_outfile.h"
#include "cmd_compare.h"
#include "ld_autopin.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static const char autopin_usage[] =
    "usage: layerdiff autopin MODEL --target T [--goal EXPR]... [options]\n"
    "  --goal EXPR           sqnr>=DB, cosine>=X, top1>=PCT, acc_delta>=-PP, maxrel<=X (repeatable;\n"
    "                        default per target, see layerdiff-autopin(1)); outputs must stay finite\n"
    "  --strategy S          greedy (default), bisect, linear\n"
    "  --direction D         forward (pin a prefix, default) or reverse (a suffix): bisect/linear\n"
    "  --no-prune            keep every pin the strategy chose\n"
    "  --max-tries N         stop after N tries\n"
    "  --time-limit SEC      stop after SEC seconds\n"
    "  --format F            list, json, polygraphy, trtexec, ort, modelopt (repeatable; default list)\n"
    "  -o FILE               write there (several formats: FILE.<format extension>)\n"
    "  --write-model OUT     FP16/BF16 ONNX model with the pins in FP32 and Casts at the boundaries;\n"
    "                        on a QDQ model: the model without the disabled quantizers\n"
    "  --report FILE.json    the comparison report with the pins found\n"
    "  --force               overwrite existing output files\n"
    "  --quiet               no progress on stderr\n"
    "and the data, calibration and precision options of compare (layerdiff help compare).\n";

typedef struct autopin_extra {
    ld_autopin_opts o;
    ld_pin_format fmts[LD_FMT_COUNT];
    int nfmts;
    const char *out, *write_model;
    bool quiet_progress;
} autopin_extra;

static bool extra_flags(int argc, char **argv, int *i, void *user, ld_status *st) {
    autopin_extra *x = user;
    const char *v;
    if (ld_arg_value(argc, argv, i, "--goal", &v, st)) {
        if (*st == LD_OK && x->o.ngoals >= 16) *st = ld_usage_error("autopin", "too many --goal options");
        if (*st == LD_OK) *st = ld_goal_parse(v, &x->o.goals[x->o.ngoals++]);
    } else if (ld_arg_value(argc, argv, i, "--strategy", &v, st)) {
        if (*st) return true;
        if (!strcmp(v, "greedy")) x->o.strategy = LD_STRAT_GREEDY;
        else if (!strcmp(v, "bisect")) x->o.strategy = LD_STRAT_BISECT;
        else if (!strcmp(v, "linear")) x->o.strategy = LD_STRAT_LINEAR;
        else *st = ld_usage_error("autopin", "--strategy takes greedy, bisect or linear");
    } else if (ld_arg_value(argc, argv, i, "--direction", &v, st)) {
        if (*st) return true;
        if (!strcmp(v, "forward")) x->o.reverse = false;
        else if (!strcmp(v, "reverse")) x->o.reverse = true;
        else *st = ld_usage_error("autopin", "--direction takes forward or reverse");
    } else if (ld_arg_value(argc, argv, i, "--max-tries", &v, st)) {
        int64_t n = 0;
        if (*st == LD_OK) *st = ld_arg_int("--max-tries", v, 1, 1000000, &n);
        x->o.max_tries = (int)n;
    } else if (ld_arg_value(argc, argv, i, "--time-limit", &v, st)) {
        char *end;
        double d = v ? strtod(v, &end) : 0;
        if (*st == LD_OK && (!v || *end || !(d > 0))) *st = ld_usage_error("autopin", "--time-limit takes seconds > 0");
        x->o.time_limit = d;
    } else if (ld_arg_value(argc, argv, i, "--format", &v, st)) {
        if (*st == LD_OK && x->nfmts >= LD_FMT_COUNT) *st = ld_usage_error("autopin", "too many --format options");
        if (*st == LD_OK) *st = ld_pin_format_parse(v, &x->fmts[x->nfmts++]);
    } else if (ld_arg_value(argc, argv, i, "-o", &v, st)) {
        x->out = v;
    } else if (ld_arg_value(argc, argv, i, "--write-model", &v, st)) {
        x->write_model = v;
    } else if (ld_arg_flag(argv, *i, "--no-prune")) {
        x->o.prune = false;
    } else {
        return false;
    }
    return true;
}

static ld_status write_text(const char *path, const char *text, bool force) {
    return ld_out_write_all(path, force ? LD_OUT_FORCE : 0, text, strlen(text));
}

static void print_eval(const char *what, const ld_goal_eval *e) {
    printf("  %-7s sqnr %.2f dB  cosine %.6f  top-1 agreement %.2f%%", what, e->sqnr, e->cosine, e->top1);
    if (e->labelled) printf("  accuracy delta %+.2f pp", e->acc_delta);
    printf("  max rel %.3g%s%s\n", e->maxrel, e->finite ? "" : "  NON-FINITE", e->met ? "  (goal met)" : "");
}

int cmd_autopin(int argc, char **argv) { return ld_autopin_main(argc, argv, NULL, NULL, NULL, NULL, true); }

int ld_autopin_main(int argc, char **argv, const ld_autopin_dist *dist, const ld_calib_dist *cdist,
                    ld_status (*final_compare)(ld_session *s, ld_compare *c, void *user), void *user, bool writer) {
    compare_args a;
    autopin_extra x;
    memset(&x, 0, sizeof x);
    x.o.prune = true;
    bool help = false;
    /* compare's parser, with autopin's own flags */
    ld_status st = ld_compare_parse(argc, argv, "autopin", &a, &help, extra_flags, &x);
    if (help) { fputs(autopin_usage, stdout); return 0; }
    if (st == LD_OK && (a.against || a.against_outputs)) st = ld_usage_error("autopin", "--against does not apply to autopin");
    if (st == LD_OK && (a.inspect || !a.isolated || a.rows != LD_ROWS_ALL || a.max_rows != 0))
        st = ld_usage_error("autopin", "--inspect, --rows and --no-isolated are compare options (autopin needs the isolated comparison)");
    if (st != LD_OK) return ld_report_error(st, NULL);
    if (!x.nfmts) x.fmts[x.nfmts++] = LD_FMT_LIST;
    if (!a.quiet && writer) x.o.progress.fn = ld_progress_stderr;
    x.o.dist = dist;
    ld_session s;
    ld_autopin_result r;
    memset(&r, 0, sizeof r);
    ld_workload w;
    ld_compare_args_workload(&a, &w);
    if (!writer) w.write_calib_cache = NULL;   /* one process writes files */
    w.calib_dist = cdist;
    st = ld_session_open(&s, &w);
    if (st == LD_OK && !x.o.ngoals) {
        const ld_graph *g = s.model->graph;
        const ld_value *o0 = g->noutputs ? &g->values[g->outputs[ld_graph_main_output(g)]] : NULL;
        bool cls = o0 && o0->has_decl && o0->decl_ndim == 2;
        x.o.ngoals = ld_goal_defaults(a.target, cls, x.o.goals, 16);
    }
    if (st == LD_OK) st = ld_autopin_run(&s, &x.o, &r);
    if (st == LD_OK) {
        const ld_graph *g = s.model->graph;
        char gb[64];
        printf("autopin %s, target %s, goal", a.model, ld_target_format(a.target)->name);
        for (int i = 0; i < x.o.ngoals; i++) printf(" %s", ld_goal_str(&x.o.goals[i], gb, sizeof gb));
        printf(": %s\n", r.met ? "met" : "NOT met (best set found below)");
        print_eval("before", &r.before);
        print_eval("after", &r.after);
        if (r.qdq)   /* QDQ: a pin is a disabled quantizer */
            printf("  %d quantizer%s disabled; %d candidates, %d tries, %.2f s%s%s\n", r.npinned, r.npinned == 1 ? "" : "s",
                   r.candidates, r.tries, r.seconds, r.stopped ? ", stopped by " : "", r.stopped ? r.stopped : "");
        else
            printf("  %d node%s in FP32 (%.2f%% of FLOPs, %.2f%% of parameters); %d candidates, %d tries, %.2f s%s%s\n",
                   r.npinned, r.npinned == 1 ? "" : "s", 100 * r.fp32_flops_share, 100 * r.fp32_params_share, r.candidates,
                   r.tries, r.seconds, r.stopped ? ", stopped by " : "", r.stopped ? r.stopped : "");
        for (int i = 0; i < g->nnodes; i++) {
            int qi = r.qdq ? r.qdq->of_node[i] : -1;
            if (r.pinned[i] && qi >= 0)
                printf("    #%d %s (%s quantizer '%s')\n", i, g->nodes[i].name, r.qdq->pairs[qi].weight ? "weight" : "activation",
                       ld_qdq_name(&r.qdq->pairs[qi], g));
            else if (r.pinned[i]) printf("    #%d %s (%s)\n", i, g->nodes[i].name, g->nodes[i].op_type);
        }
        for (int k = 0; st == LD_OK && k < x.nfmts; k++) {
            char *text = ld_pins_export(x.fmts[k], s.model, &r, &x.o, a.target);
            if (!text) { st = ld_oom(); break; }
            if (x.out && !writer) {
                /* another process writes the files */
            } else if (x.out) {
                char path[4096];
                if (x.nfmts == 1) snprintf(path, sizeof path, "%s", x.out);
                else snprintf(path, sizeof path, "%s.%s", x.out, ld_pin_format_ext(x.fmts[k]));
                st = write_text(path, text, a.force);
                if (st == LD_OK) printf("wrote %s\n", path);
            } else {
                fputs(text, stdout);
            }
            free(text);
        }
        if (st == LD_OK && a.report) {   /* the comparison with the pins found */
            ld_compare c;
            memcpy(s.pinned, r.pinned, sizeof(bool) * g->nnodes);
            st = final_compare ? final_compare(&s, &c, user) : ld_session_compare(&s, &c);
            ld_report_meta meta;
            ld_session_meta(&s, &meta);
            if (st == LD_OK && writer) st = ld_report_write(a.report, &c, &meta, a.force);
            if (st == LD_OK && strcmp(a.report, "-")) printf("wrote %s (comparison with these pins)\n", a.report);
            ld_compare_free(&c);
        }
        if (st == LD_OK && x.write_model && writer) {
            if (s.opts.qdq) st = ld_write_qdq_model(a.model, s.model, s.opts.qdq, r.pinned, x.write_model, a.force);
            else st = ld_write_mixed_model(a.model, s.model, r.pinned, a.target, x.write_model, a.force);
            if (st == LD_OK) printf("wrote %s\n", x.write_model);
        }
    }
    int rc = st != LD_OK ? ld_report_error(st, NULL) : r.met ? 0 : 1;
    ld_autopin_result_free(&r);
    ld_session_close(&s);
    return rc;
}
