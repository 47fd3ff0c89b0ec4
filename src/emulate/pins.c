/*
** pins.c — node selection by glob, op type, or a list file (see ld_pins.h).
*/
#include "ld_pins.h"

#include <fnmatch.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct body_list { const ld_node **v; int n; } body_list;

/* Match spec against the body nodes below node n (paths "<prefix>/<attribute>/<node>"). */
static ld_status match_bodies(const ld_node *n, const char *prefix, const char *spec, body_list *bl, int *hits) {
    for (int a = 0; a < n->nattr; a++) {
        int ng = n->attrs[a].g ? 1 : n->attrs[a].type == LD_ATTR_GRAPHS ? n->attrs[a].n : 0;
        for (int k = 0; k < ng; k++) {
            const ld_graph *sg = n->attrs[a].g ? n->attrs[a].g : n->attrs[a].graphs[k];
            for (int i = 0; i < sg->nnodes; i++) {
                char path[2048];
                snprintf(path, sizeof path, "%s/%s/%s", prefix, n->attrs[a].name, sg->nodes[i].name);
                if (!strcmp(path, spec) || fnmatch(spec, path, 0) == 0) {
                    const ld_node **nv = realloc(bl->v, sizeof *nv * (bl->n + 1));
                    if (!nv) return ld_oom();
                    bl->v = nv;
                    bl->v[bl->n++] = &sg->nodes[i];
                    (*hits)++;
                }
                LD_TRY(match_bodies(&sg->nodes[i], path, spec, bl, hits));
            }
        }
    }
    return LD_OK;
}

static ld_status apply_one(const ld_graph *g, const char *spec, bool *pinned, const char *where, body_list *bl) {
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
        for (int i = 0; bl && i < g->nnodes; i++) LD_TRY(match_bodies(&g->nodes[i], g->nodes[i].name, spec, bl, &hits));
    }
    if (!hits)
        return ld_error(LD_ERR_USAGE, "%s'%s' matches no node of the model", where, spec);
    return LD_OK;
}

static ld_status apply_file(const ld_graph *g, const char *path, bool *pinned, body_list *bl) {
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
        st = apply_one(g, p, pinned, where, bl);
    }
    fclose(f);
    return st;
}

static ld_status apply_all(const ld_graph *g, const char *const *specs, int nspecs, bool *pinned, body_list *bl) {
    for (int i = 0; i < nspecs; i++) {
        if (specs[i][0] == '@') LD_TRY(apply_file(g, specs[i] + 1, pinned, bl));
        else LD_TRY(apply_one(g, specs[i], pinned, "--pin ", bl));
    }
    return LD_OK;
}

ld_status ld_pins_apply(const ld_graph *g, const char *const *specs, int nspecs, bool *pinned) {
    return apply_all(g, specs, nspecs, pinned, NULL);
}

ld_status ld_pins_apply_bodies(const ld_graph *g, const char *const *specs, int nspecs, bool *pinned,
                               const ld_node ***body, int *nbody) {
    body_list bl = {0};
    ld_status st = apply_all(g, specs, nspecs, pinned, &bl);
    if (st != LD_OK) { free(bl.v); return st; }
    *body = bl.v;
    *nbody = bl.n;
    return LD_OK;
}

int ld_pins_count(const bool *pinned, int n) {
    int c = 0;
    for (int i = 0; pinned && i < n; i++) c += pinned[i];
    return c;
}
