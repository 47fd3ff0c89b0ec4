/*
** cmd_browse.c — `layerdiff browse`: the interactive layer browser over a JSON report
** (read-only) or over a model compared live (`browse MODEL --target T [compare options]`),
** where pins can be toggled, the comparison re-run, autopin run and the pins and report
** written. The comparison work runs on a worker thread so the screen shows progress.
*/
#include "cmd.h"
#include "ld_outfile.h"
#include "cmd_compare.h"
#include "ld_autopin.h"
#include "tui.h"

#include <curses.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

static const char browse_usage[] =
    "usage: layerdiff browse REPORT.json [options]\n"
    "       layerdiff browse MODEL [--target T] [compare options] [options]\n"
    "  --metric M            first metric column: sqnr (default), maxrel, maxabs, meanabs, cosine,\n"
    "                        maxulp, nmse\n"
    "  --ascii               ASCII glyphs even in a UTF-8 locale\n"
    "  --no-color            no colours (also when NO_COLOR is set)\n"
    "live mode (a model): keys Space pin, r re-run, a autopin, w write; on a QDQ model\n"
    "                        (--target qdq) Space disables or enables the row's quantizers\n"
    "  --write-pins FILE     where w writes the pin list (default layerdiff-pins.txt, never\n"
    "                        overwriting: a new name is picked)\n"
    "  --report FILE         where w writes the JSON report (default layerdiff-report.json)\n"
    "  --force               let w overwrite the files named by --write-pins and --report\n"
    "and the data, calibration, precision and tolerance options of compare (layerdiff help compare).\n"
    "Press ? in the browser for the keys.\n";

typedef struct browse_extra {
    const char *write_pins;
    tui_metric metric;
    tui_opts topts;
} browse_extra;

static bool extra_flags(int argc, char **argv, int *i, void *user, ld_status *st) {
    browse_extra *x = user;
    const char *v;
    if (ld_arg_value(argc, argv, i, "--write-pins", &v, st)) x->write_pins = v;
    else if (ld_arg_value(argc, argv, i, "--metric", &v, st)) { if (*st == LD_OK) *st = tui_metric_parse(v, &x->metric); }
    else if (ld_arg_flag(argv, *i, "--ascii")) x->topts.ascii = true;
    else if (ld_arg_flag(argv, *i, "--no-color") || ld_arg_flag(argv, *i, "--no-colour")) x->topts.mono = true;
    else return false;
    return true;
}

/* A JSON report rather than a model: named *.json, or starting with '{'. */
static bool looks_like_report(const char *path) {
    size_t l = strlen(path);
    if (l >= 5 && !strcmp(path + l - 5, ".json")) return true;
    FILE *f = fopen(path, "rb");
    if (!f) return false;
    int c;
    while ((c = fgetc(f)) == ' ' || c == '\n' || c == '\r' || c == '\t') {}
    fclose(f);
    return c == '{';
}

/* ---- live mode ---- */

typedef struct live {
    compare_args *args;
    tui_app *app;               /* the screen showing the jobs' progress */
    ld_session s;
    bool open;
    ld_incremental *inc;        /* the comparison, kept for incremental re-runs */
    const char **pin_names;     /* the pins of the last run, for the report */
    int npin_names;
    ld_autopin_opts ao;
    ld_autopin_result ar;
    const char *pins_path;
    bool wrote_pins, wrote_report;
} live;

/* The first run compares everything and keeps every value; a re-run recomputes only the
 * nodes from the earliest changed pin on (ld_incr_rerun). */
static ld_status job_compare(void *arg) {
    live *L = arg;
    ld_session *s = &L->s;
    s->opts.progress = tui_progress(L->app);
    if (L->inc) return ld_incr_rerun(L->inc, NULL);
    return ld_incr_open(&L->inc, s->model, &s->opts, s->samples, s->nsamples, s->labels, s->nlabels);
}

static ld_status job_open(void *arg) {
    live *L = arg;
    ld_progress p = tui_progress(L->app);
    ld_progress_event(&p, "loading %s", L->args->model);
    ld_workload w;
    ld_compare_args_workload(L->args, &w);
    ld_status st = ld_session_open(&L->s, &w);
    if (st != LD_OK) return st;
    L->open = true;
    return job_compare(arg);
}

static void meta_of(live *L, ld_report_meta *m) {
    ld_session_meta(&L->s, m);
    m->pins = L->pin_names;
    m->npins = L->npin_names;
}

/* Show the current comparison. */
static ld_status adopt_next(tui_app *a, live *L) {
    const ld_graph *g = L->s.model->graph;
    free(L->pin_names);
    L->npin_names = 0;
    L->pin_names = ld_calloc((size_t)g->nnodes + 1, sizeof(char *));
    if (!L->pin_names) return ld_oom();
    for (int i = 0; i < g->nnodes; i++)
        if (L->s.pinned[i]) L->pin_names[L->npin_names++] = g->nodes[i].name;
    ld_report_meta m;
    meta_of(L, &m);
    tui_report *r;
    LD_TRY(tui_report_from_compare(ld_incr_result(L->inc), &m, &r));
    bool first = !a->rep;
    if (first) {
        a->rep = r;
        a->pins = ld_calloc((size_t)r->nnodes + 1, sizeof(bool));
        if (!a->pins) return ld_oom();
        for (int i = 0; i < r->nnodes; i++) a->pins[i] = r->nodes[i].pinned;
        tui_qpins_reset(a);
        tui_list_start(a);
    } else {
        tui_app_set_report(a, r);
    }
    return LD_OK;
}

/* Graph index of the node named name, or -1 (a quantizer's DequantizeLinear, folded or not). */
static int graph_node(const ld_graph *g, const char *name) {
    for (int i = 0; i < g->nnodes; i++)
        if (!strcmp(g->nodes[i].name, name)) return i;
    return -1;
}

/* The wanted pins, and on a QDQ model the wanted disabled quantizers (their DQ nodes pinned). */
static void sync_pins(tui_app *a, live *L) {
    const ld_graph *g = L->s.model->graph;
    for (int i = 0; i < a->rep->nnodes; i++)
        if (a->rep->nodes[i].index < g->nnodes) L->s.pinned[a->rep->nodes[i].index] = a->pins[i];
    for (int q = 0; a->qpins && q < a->rep->nquant; q++) {
        int gi = graph_node(g, a->rep->quant[q].dq_node);
        if (gi >= 0) L->s.pinned[gi] = a->qpins[q];
    }
}

static void live_rerun(tui_app *a) {
    live *L = a->live;
    sync_pins(a, L);
    ld_status st = tui_job(a, "re-running", job_compare, L);
    if (st == LD_OK) st = adopt_next(a, L);
    if (st != LD_OK) { tui_message(a, TUI_R_ERR, "re-run failed: %s", ld_err_msg()); return; }
    const tui_report *r = a->rep;
    int f = r->first_iso >= 0 ? r->first_iso : r->first_prop;
    if (f >= 0)
        tui_message(a, TUI_R_NORMAL, "re-run with %d pin%s: %d failing; first divergent #%d %s", L->npin_names,
                    L->npin_names == 1 ? "" : "s", r->failing, r->nodes[f].index, r->nodes[f].name);
    else
        tui_message(a, TUI_R_OK, "re-run with %d pin%s: within tolerance", L->npin_names, L->npin_names == 1 ? "" : "s");
}

/* autopin with the default goals of the target (as `layerdiff autopin` without --goal) */
static ld_status job_autopin(void *arg) {
    live *L = arg;
    ld_autopin_opts *o = &L->ao;
    memset(o, 0, sizeof *o);
    o->prune = true;
    o->progress = tui_progress(L->app);
    const ld_graph *g = L->s.model->graph;
    const ld_value *o0 = g->noutputs ? &g->values[g->outputs[ld_graph_main_output(g)]] : NULL;
    bool cls = o0 && o0->has_decl && o0->decl_ndim == 2;
    o->ngoals = ld_goal_defaults(L->args->target, cls, o->goals, 16);
    ld_autopin_result_free(&L->ar);
    return ld_autopin_run(&L->s, o, &L->ar);
}

static void live_autopin(tui_app *a) {
    live *L = a->live;
    sync_pins(a, L);
    ld_status st = tui_job(a, "autopin", job_autopin, L);
    if (st != LD_OK) { tui_message(a, TUI_R_ERR, "autopin failed: %s", ld_err_msg()); return; }
    int added = 0, n = L->s.model->graph->nnodes;
    for (int i = 0; i < a->rep->nnodes; i++) {
        int gi = a->rep->nodes[i].index;
        if (gi < n && L->ar.pinned[gi] && !a->pins[i] && a->rep->nodes[i].quant < 0) { a->pins[i] = true; added++; }
    }
    for (int q = 0; a->qpins && q < a->rep->nquant; q++) {   /* QDQ: the quantizers it disables */
        int gi = graph_node(L->s.model->graph, a->rep->quant[q].dq_node), dp = a->rep->quant[q].dq_pos;
        if (gi >= 0 && L->ar.pinned[gi] && !a->qpins[q]) { a->qpins[q] = true; added++; if (dp >= 0) a->pins[dp] = true; }
    }
    char goal[256] = "", gb[64];
    for (int i = 0; i < L->ao.ngoals; i++)
        snprintf(goal + strlen(goal), sizeof goal - strlen(goal), "%s%s", i ? " " : "", ld_goal_str(&L->ao.goals[i], gb, sizeof gb));
    if (L->ar.before.met)
        tui_message(a, TUI_R_OK, "autopin: %s already met with the current pins (SQNR %.1f dB)", goal, L->ar.before.sqnr);
    else
        tui_message(a, L->ar.met ? TUI_R_OK : TUI_R_WARN, "autopin: %s %s with %d pin%s (SQNR %.1f dB); %d new +, r re-runs",
                    goal, L->ar.met ? "met" : "NOT met", L->ar.npinned, L->ar.npinned == 1 ? "" : "s", L->ar.after.sqnr, added);
}

/* A name in the current directory that does not exist yet: base.ext, base-2.ext, ... */
static bool fresh_name(const char *base, const char *ext, char *out, size_t n) {
    struct stat st;
    for (int k = 1; k < 1000; k++) {
        if (k == 1) snprintf(out, n, "%s.%s", base, ext);
        else snprintf(out, n, "%s-%d.%s", base, k, ext);
        if (stat(out, &st) != 0 && errno == ENOENT) return true;
    }
    return false;
}

/* Where w writes: the file named on the command line (overwritten only with --force or when
 * this session wrote it), else a fresh default name. */
static ld_status out_path(const char *named, bool wrote, bool force, const char *base, const char *ext,
                          char *out, size_t n, bool *overwrite) {
    *overwrite = false;
    if (named) {
        snprintf(out, n, "%s", named);
        *overwrite = wrote || force;
        ld_status st = ld_out_check(named, *overwrite ? LD_OUT_FORCE : 0);
        if (st != LD_OK && !*overwrite && strstr(ld_err_msg(), "already exists")) ld_error(st, "%s already exists (start browse with --force to replace it)", named);
        return st;
    }
    if (!fresh_name(base, ext, out, n)) return ld_error(LD_ERR_CANTCREAT, "no free file name for %s.%s", base, ext);
    return LD_OK;
}

static ld_status write_pins(tui_app *a, live *L, const char *path, bool overwrite, int *count) {
    ld_outfile o;
    LD_TRY(ld_out_open(path, overwrite ? LD_OUT_FORCE : 0, &o));
    FILE *f = o.f;
    fprintf(f, "# layerdiff browse: nodes to keep in FP32 (use as --pin @FILE)\n# model %s, target %s\n", L->args->model,
            ld_target_format(L->args->target)->name);
    *count = 0;
    for (int i = 0; i < a->rep->nnodes; i++)
        if (a->pins[i] && a->rep->nodes[i].quant < 0) { fprintf(f, "%s\n", a->rep->nodes[i].name); (*count)++; }
    for (int q = 0; a->qpins && q < a->rep->nquant; q++)   /* QDQ: disabled quantizers, as compare --pin */
        if (a->qpins[q]) { fprintf(f, "%s\n", a->rep->quant[q].dq_node); (*count)++; }
    return ld_out_commit(&o);
}

static void live_write(tui_app *a) {
    live *L = a->live;
    char pp[4096], rp[4096];
    bool ow_p, ow_r;
    int npins = 0;
    ld_status st = out_path(L->pins_path, L->wrote_pins, L->args->force, "layerdiff-pins", "txt", pp, sizeof pp, &ow_p);
    if (st == LD_OK) st = write_pins(a, L, pp, ow_p, &npins);
    if (st == LD_OK) L->wrote_pins = true;
    if (st == LD_OK) st = out_path(L->args->report, L->wrote_report, L->args->force, "layerdiff-report", "json", rp, sizeof rp, &ow_r);
    if (st == LD_OK) {
        ld_report_meta m;
        meta_of(L, &m);
        st = ld_report_write(rp, ld_incr_result(L->inc), &m, ow_r);
    }
    if (st != LD_OK) { tui_message(a, TUI_R_ERR, "write failed: %s", ld_err_msg()); return; }
    L->wrote_report = true;
    bool changed = false;
    for (int i = 0; i < a->rep->nnodes; i++) changed |= a->pins[i] != a->rep->nodes[i].pinned;
    for (int q = 0; a->qpins && q < a->rep->nquant; q++) changed |= a->qpins[q] != a->rep->quant[q].disabled;
    tui_message(a, TUI_R_OK, "wrote %s (%d pin%s) and %s%s", pp, npins, npins == 1 ? "" : "s", rp,
                changed ? " (the report is of the last run: r re-runs with the new pins)" : "");
}

static const tui_live_ops live_ops = {live_rerun, live_autopin, live_write};

static void loading_draw(tui_app *a) {
    char line[1024];
    live *L = a->live;
    snprintf(line, sizeof line, " %s  %s vs FP32", L->args->model, ld_target_format(L->args->target)->name);
    attrset(tui_attr(a, TUI_R_TITLE));
    tui_put(a, 0, 0, a->width, line, true);
    attrset(A_NORMAL);
    tui_put(a, 2, 2, a->width - 2, "loading the model and data, calibrating, comparing...", false);
}
static void loading_key(tui_app *a, int ch) { (void)a; (void)ch; }
static const tui_view loading_view = {"loading", loading_draw, loading_key};

static ld_status run_live(tui_app *a, compare_args *args, const browse_extra *x) {
    live L;
    memset(&L, 0, sizeof L);
    L.args = args;
    L.app = a;
    L.pins_path = x->write_pins;
    a->live = &L;
    a->ops = &live_ops;
    ld_status st = tui_start(a, &x->topts);
    if (st == LD_OK) {
        tui_push(a, &loading_view);
        st = tui_job(a, "comparing", job_open, &L);
        if (st == LD_OK) st = adopt_next(a, &L);
        if (st == LD_OK) {
            a->depth = 0;
            tui_push(a, &tui_view_list);
            tui_loop(a);
        }
        tui_stop();
    }
    ld_incr_close(L.inc);
    ld_autopin_result_free(&L.ar);
    free(L.pin_names);
    if (L.open) ld_session_close(&L.s);
    a->live = NULL;
    return st;
}

int cmd_browse(int argc, char **argv) {
    compare_args *args = calloc(1, sizeof *args);
    browse_extra x;
    memset(&x, 0, sizeof x);
    x.metric = TUI_M_SQNR;
    bool help = false;
    if (!args) return ld_report_error(ld_oom(), NULL);
    ld_status st = ld_compare_parse(argc, argv, "browse", args, &help, extra_flags, &x);
    if (help) { fputs(browse_usage, stdout); free(args); return 0; }
    if (st == LD_ERR_USAGE && !args->model) st = ld_usage_error("browse", "missing REPORT.json or MODEL");
    tui_app a;
    memset(&a, 0, sizeof a);
    a.metric = x.metric;
    bool offline = args->model && looks_like_report(args->model);
    if (offline && st == LD_OK && args->target_auto) args->target = LD_TARGET_COUNT;   /* a report needs no --target */
    if (offline && st == LD_OK && args->target != LD_TARGET_COUNT) st = ld_usage_error("browse", "%s is a report: --target and compare options apply to a model", args->model);
    if (st == LD_OK && !offline && args->report && !strcmp(args->report, "-"))
        st = ld_usage_error("browse", "--report - (standard output) would write over the screen; name a file");
    if (st == LD_OK && !offline && (args->against || args->against_outputs))
        st = ld_usage_error("browse", "--against is not available in live mode (compare --report, then browse the report)");
    if (st == LD_OK && offline) {
        st = tui_report_load(args->model, &a.rep);
        if (st == LD_OK) st = tui_start(&a, &x.topts);
        if (st == LD_OK) {
            tui_list_start(&a);
            tui_push(&a, &tui_view_list);
            tui_loop(&a);
            tui_stop();
        }
    } else if (st == LD_OK) {
        st = run_live(&a, args, &x);
    }
    tui_app_free(&a);
    tui_detail_reset();
    free(args);
    return st != LD_OK ? ld_report_error(st, NULL) : 0;
}
