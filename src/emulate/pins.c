/*
** pins.c — node selection by glob, op type, or a list file (see ld_pins.h).
*/
#include "ld_pins.h"

#include <fnmatch.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static ld_status apply_one(const ld_graph *g, const char *spec, bool *pinned, const char *where) {
    int hits = 0;
    if (!strncmp(spec, "op:", 3)) {
        for (int i = 0; i < g->nnodes; i++)
            if (!strcmp(g->nodes[i].op_type, spec + 3)) { pinned[i] = true; hits++; }
    } else {
        for (int i = 0; i < g->nnodes; i++)
            if (!strcmp(g->nodes[i].name, spec) || fnmatch(spec, g->nodes[i].name, 0) == 0) {
                pinned[i] = true;
                hits++;
            }
    }
    if (!hits)
        return ld_error(LD_ERR_USAGE, "%s'%s' matches no node of the model", where, spec);
    return LD_OK;
}

static ld_status apply_file(const ld_graph *g, const char *path, bool *pinned) {
    FILE *f = fopen(path, "r");
    if (!f) return ld_error(LD_ERR_NOINPUT, "--pin @%s: cannot open the file", path);
    char line[4096], where[600];
    int ln = 0;
    ld_status st = LD_OK;
    while (st == LD_OK && fgets(line, sizeof line, f)) {
        ln++;
        char *p = line, *e;
        while (*p == ' ' || *p == '\t') p++;
        e = p + strlen(p);
        while (e > p && (e[-1] == '\n' || e[-1] == '\r' || e[-1] == ' ' || e[-1] == '\t')) *--e = 0;
        if (!*p || *p == '#') continue;
        snprintf(where, sizeof where, "%.500s:%d: ", path, ln);
        st = apply_one(g, p, pinned, where);
    }
    fclose(f);
    return st;
}

ld_status ld_pins_apply(const ld_graph *g, const char *const *specs, int nspecs, bool *pinned) {
    for (int i = 0; i < nspecs; i++) {
        if (specs[i][0] == '@') LD_TRY(apply_file(g, specs[i] + 1, pinned));
        else LD_TRY(apply_one(g, specs[i], pinned, "--pin "));
    }
    return LD_OK;
}

int ld_pins_count(const bool *pinned, int n) {
    int c = 0;
    for (int i = 0; pinned && i < n; i++) c += pinned[i];
    return c;
}
