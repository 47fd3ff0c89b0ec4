/*
** main.c — entry point: global flags, the command table, and the only place that exits.
*/
#include "cmd.h"

#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const ld_command commands[] = {
    {"inspect", cmd_inspect, "show a model's inputs, outputs, ops, shapes and unsupported nodes"},
    {"run", cmd_run, "run a model in FP32, print or save its outputs, time it"},
    {"compare", cmd_compare, "run FP32 and an emulated precision side by side, find where error starts"},
    {"autopin", cmd_autopin, "find the nodes to keep in FP32 so the outputs meet a goal"},
    {"browse", cmd_browse, "browse a comparison layer by layer in the terminal (a report, or live)"},
    {"plot", cmd_plot, "draw a report's error per layer as an SVG plot"},
    {"help", cmd_help, "show help for a command"},
};

static void usage(FILE *f) {
    fprintf(f, "usage: layerdiff [--threads N] [-v] [--version] <command> [args]\n\ncommands:\n");
    for (size_t i = 0; i < LD_ARRAY_LEN(commands); i++)
        fprintf(f, "  %-10s %s\n", commands[i].name, commands[i].summary);
    fprintf(f, "\n'layerdiff help <command>' shows a command's options; 'man layerdiff-<command>' the details.\n");
}

const ld_command *ld_command_find(const char *name) {
    for (size_t i = 0; i < LD_ARRAY_LEN(commands); i++)
        if (!strcmp(commands[i].name, name)) return &commands[i];
    return NULL;
}

int cmd_help(int argc, char **argv) {
    if (argc < 2) { usage(stdout); return 0; }
    const ld_command *c = ld_command_find(argv[1]);
    if (!c) {
        fprintf(stderr, "layerdiff: unknown command '%s'\n", argv[1]);
        return LD_ERR_USAGE;
    }
    char *hargv[] = {argv[1], "--help", NULL};
    return c->fn(2, hargv);
}

int main(int argc, char **argv) {
    /* keep freed tensor buffers in the heap: large outputs would otherwise be mmap'ed and
     * page-faulted in again on every node of every run */
    mallopt(M_MMAP_THRESHOLD, 1 << 30);
    mallopt(M_TRIM_THRESHOLD, 1 << 30);
    int threads = 0, i = 1;
    for (; i < argc && argv[i][0] == '-'; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "--version")) { printf("layerdiff %s\n", LD_VERSION); return 0; }
        else if (!strcmp(a, "-h") || !strcmp(a, "--help")) { usage(stdout); return 0; }
        else if (!strcmp(a, "-v") || !strcmp(a, "--verbose")) ld_verbose++;
        else if (!strcmp(a, "--threads") || !strncmp(a, "--threads=", 10)) {
            const char *v = a[9] == '=' ? a + 10 : (i + 1 < argc ? argv[++i] : NULL);
            char *end;
            long n = v ? strtol(v, &end, 10) : 0;
            if (!v || *end || n < 1 || n > 1024) {
                fprintf(stderr, "layerdiff: --threads takes a number from 1 to 1024\n");
                return LD_ERR_USAGE;
            }
            threads = (int)n;
        } else {
            fprintf(stderr, "layerdiff: unknown option '%s'\n", a);
            usage(stderr);
            return LD_ERR_USAGE;
        }
    }
    if (i >= argc) { usage(stderr); return LD_ERR_USAGE; }
    if (!threads) {
        const char *e = getenv("LAYERDIFF_THREADS");
        threads = e ? atoi(e) : 0;
        if (threads < 1) threads = ld_cpu_count();
        if (threads > 1024) threads = 1024;
    }
    ld_threads_set(threads);
    const ld_command *c = ld_command_find(argv[i]);
    if (!c) {
        fprintf(stderr, "layerdiff: unknown command '%s'\n", argv[i]);
        usage(stderr);
        return LD_ERR_USAGE;
    }
    int rc = c->fn(argc - i, argv + i);
    fflush(stdout);
    if (ferror(stdout)) { fprintf(stderr, "layerdiff: error writing output\n"); return LD_ERR_IO; }
    return rc;
}
