/*
** main.c — entry point: global flags, the command table, and the only place that exits.
*/
#include "cmd.h"
#include "ld_limits.h"

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
    fprintf(f, "usage: layerdiff [--threads N] [-v] [--version] [limits] <command> [args]\n"
               "limits: [--max-iterations N] [--max-tensor-bytes B] [--max-memory B] [--max-depth N]\n"
               "        [--max-string-bytes B] [--allow-external-outside]\n\ncommands:\n");
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

/* A resource limit flag of ld_limits.h (--max-iterations N, --max-memory 8G, ...) at argv[*i],
 * value as the next argument or after '='; *rc is set to 64 for a bad value. */
static bool limit_flag(const char *a, int argc, char **argv, int *i, int *rc) {
    char flag[64];
    const char *eq = strchr(a, '=');
    size_t n = eq ? (size_t)(eq - a) : strlen(a);
    if (n >= sizeof flag) return false;
    memcpy(flag, a, n);
    flag[n] = 0;
    bool takes;
    if (!ld_limit_is_flag(flag, &takes)) return false;
    const char *v = NULL;
    if (takes) v = eq ? eq + 1 : (*i + 1 < argc ? argv[++*i] : NULL);
    else if (eq) v = "";
    if ((takes && !v) || (!takes && eq) || ld_limit_set(flag, v) != LD_OK) {
        if (takes && !v) ld_error(LD_ERR_USAGE, "%s needs a value", flag);
        else if (!takes && eq) ld_error(LD_ERR_USAGE, "%s takes no value", flag);
        fprintf(stderr, "layerdiff: %s\n", ld_err_msg());
        *rc = LD_ERR_USAGE;
    }
    return true;
}

int main(int argc, char **argv) {
    /* keep freed tensor buffers in the heap: large outputs would otherwise be mmap'ed and
     * page-faulted in again on every node of every run */
    mallopt(M_MMAP_THRESHOLD, 1 << 30);
    mallopt(M_TRIM_THRESHOLD, 1 << 30);
    int threads = 0, i = 1, rc = 0;
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
        } else if (limit_flag(a, argc, argv, &i, &rc)) {
            if (rc) return rc;
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
    rc = c->fn(argc - i, argv + i);
    fflush(stdout);
    if (ferror(stdout)) { fprintf(stderr, "layerdiff: error writing output\n"); return LD_ERR_IO; }
    return rc;
}
