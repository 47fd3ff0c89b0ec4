/*
** cmd_plot.c — `layerdiff plot REPORT.json -o FILE.svg [--metric M] [--force]`: the report's
** error per node as a standalone SVG (plot_svg.c). Never overwrites a file without --force.
*/
#include "cmd.h"
#include "ld_outfile.h"
#include "plot_svg.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char plot_usage[] =
    "usage: layerdiff plot REPORT.json -o FILE.svg [options]\n"
    "  -o FILE.svg           where to write the plot ('-' for stdout)\n"
    "  --metric M            sqnr (default), maxrel, maxabs, cosine (plotted as 1 - cosine),\n"
    "                        meanabs, maxulp, nmse\n"
    "  --size WxH            picture size in pixels (default 1200x560)\n"
    "  --force               overwrite FILE.svg\n";

static ld_status parse_size(const char *v, plot_opts *o) {
    char *end;
    long w = strtol(v, &end, 10), h = 0;
    if (*end == 'x' || *end == 'X') h = strtol(end + 1, &end, 10);
    if (*end || w < 320 || h < 240 || w > 20000 || h > 20000)
        return ld_usage_error("plot", "--size takes WxH from 320x240 to 20000x20000 (got '%s')", v);
    o->width = (int)w;
    o->height = (int)h;
    return LD_OK;
}

int cmd_plot(int argc, char **argv) {
    const char *report = NULL, *out = NULL;
    bool force = false;
    plot_opts o = {TUI_M_SQNR, 0, 0};
    ld_status st = LD_OK;
    for (int i = 1; i < argc && st == LD_OK; i++) {
        const char *v;
        if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) { fputs(plot_usage, stdout); return 0; }
        else if (ld_arg_value(argc, argv, &i, "-o", &v, &st) || ld_arg_value(argc, argv, &i, "--output", &v, &st)) out = v;
        else if (ld_arg_value(argc, argv, &i, "--metric", &v, &st)) { if (st == LD_OK) st = tui_metric_parse(v, &o.metric); }
        else if (ld_arg_value(argc, argv, &i, "--size", &v, &st)) { if (st == LD_OK) st = parse_size(v, &o); }
        else if (ld_arg_flag(argv, i, "--force")) force = true;
        else if (argv[i][0] == '-' && argv[i][1]) st = ld_usage_error("plot", "unknown option '%s'", argv[i]);
        else if (!report) report = argv[i];
        else st = ld_usage_error("plot", "unexpected argument '%s'", argv[i]);
    }
    if (st == LD_OK && !report) st = ld_usage_error("plot", "missing REPORT.json");
    if (st == LD_OK && !out) st = ld_usage_error("plot", "missing -o FILE.svg");
    if (st != LD_OK) return ld_report_error(st, NULL);
    tui_report *r;
    st = tui_report_load(report, &r);
    if (st != LD_OK) return ld_report_error(st, NULL);
    bool to_stdout = !strcmp(out, "-");
    ld_outfile of;
    st = ld_out_open(out, LD_OUT_STDOUT | (force ? LD_OUT_FORCE : 0), &of);
    if (st == LD_OK) {
        st = plot_svg_write(of.f, r, &o);
        if (st == LD_OK) st = ld_out_commit(&of);
        else { ld_err_prefix(st, "%s", out); ld_out_abort(&of); }
    }
    tui_report_free(r);
    if (st == LD_OK && !to_stdout) printf("wrote %s\n", out);
    return st != LD_OK ? ld_report_error(st, NULL) : 0;
}
