/*
** autopin_export.c — the pin set in the formats engines take: a plain list (layerdiff's own
** --pin @file), JSON with the goal figures, Polygraphy and trtexec flags, ONNX Runtime's
** nodes_to_exclude list and ModelOpt AutoCast's nodes_to_exclude.
*/
#include "ld_autopin.h"

#include <cJSON.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const struct { const char *name, *ext; } fmts[LD_FMT_COUNT] = {
    [LD_FMT_LIST] = {"list", "txt"},          [LD_FMT_JSON] = {"json", "json"},
    [LD_FMT_POLYGRAPHY] = {"polygraphy", "polygraphy.txt"}, [LD_FMT_TRTEXEC] = {"trtexec", "trtexec.txt"},
    [LD_FMT_ORT] = {"ort", "ort.json"},       [LD_FMT_MODELOPT] = {"modelopt", "modelopt.json"},
};

ld_status ld_pin_format_parse(const char *s, ld_pin_format *out) {
    for (int i = 0; i < LD_FMT_COUNT; i++)
        if (!strcmp(s, fmts[i].name)) { *out = (ld_pin_format)i; return LD_OK; }
    return ld_error(LD_ERR_USAGE, "unknown --format '%s' (list, json, polygraphy, trtexec, ort, modelopt)", s);
}

const char *ld_pin_format_ext(ld_pin_format f) { return fmts[f].ext; }

/* growable string */
typedef struct sbuf { char *p; size_t n, cap; } sbuf;

static void sb_add(sbuf *b, const char *s) {
    size_t l = strlen(s);
    if (b->n + l + 1 > b->cap) {
        size_t cap = (b->cap + l + 1) * 2;
        char *np = realloc(b->p, cap);
        if (!np) return;
        b->p = np;
        b->cap = cap;
    }
    memcpy(b->p + b->n, s, l + 1);
    b->n += l;
}

/* POSIX shell single quoting */
static void sb_shq(sbuf *b, const char *s) {
    sb_add(b, "'");
    for (const char *p = s; *p; p++) {
        if (*p == '\'') sb_add(b, "'\\''");
        else { char c[2] = {*p, 0}; sb_add(b, c); }
    }
    sb_add(b, "'");
}

static void eval_json(cJSON *o, const char *key, const ld_goal_eval *e) {
    cJSON *j = cJSON_AddObjectToObject(o, key);
    if (isfinite(e->sqnr)) cJSON_AddNumberToObject(j, "sqnr_db", e->sqnr); else cJSON_AddNullToObject(j, "sqnr_db");
    cJSON_AddNumberToObject(j, "cosine", e->cosine);
    cJSON_AddNumberToObject(j, "top1_agreement", e->top1);
    if (e->labelled) cJSON_AddNumberToObject(j, "acc_delta_pp", e->acc_delta); else cJSON_AddNullToObject(j, "acc_delta_pp");
    cJSON_AddNumberToObject(j, "max_rel", e->maxrel);
    cJSON_AddBoolToObject(j, "finite", e->finite);
    cJSON_AddBoolToObject(j, "met", e->met);
}

static char *regex_escape(const char *s) {
    sbuf b = {0};
    sb_add(&b, "^");
    for (const char *p = s; *p; p++) {
        if (strchr(".^$*+?()[]{}|\\", *p)) sb_add(&b, "\\");
        char c[2] = {*p, 0};
        sb_add(&b, c);
    }
    sb_add(&b, "$");
    return b.p;
}

/* ModelOpt's name of the quantizer at input k of node n: the module path the exporter wrote
 * into the node name ("/layers/layers.0/c1/Conv" -> "layers.0.c1") and input_quantizer or,
 * for a constant weight, weight_quantizer. */
static void modelopt_name(const ld_node *n, bool weight, char *buf, size_t len) {
    /* scope components but the last (the op), each a child's name prefixed by its parent's own
     * name: "layers", "layers.0", "c1" -> layers.0.c1; "sc", "sc.0" -> sc.0 */
    char path[512] = "";
    size_t last = 0;   /* where the last component starts in path */
    const char *p = n->name, *end = strrchr(n->name, '/');
    while (end && p < end) {
        if (*p == '/') { p++; continue; }
        const char *q = p;
        while (q < end && *q != '/') q++;
        size_t pl = strlen(path), cl = (size_t)(q - p), ll = pl - last;
        if (pl && cl > ll && !strncmp(p, path + last, ll) && p[ll] == '.') pl = last;   /* extends it */
        else if (pl && pl + 1 < sizeof path) path[pl++] = '.';
        if (pl + cl < sizeof path) { memcpy(path + pl, p, cl); path[pl + cl] = 0; last = pl; }
        p = q;
    }
    snprintf(buf, len, "%s.%s", path[0] ? path : n->name, weight ? "weight_quantizer" : "input_quantizer");
}

/* QDQ: the disabled quantizers as ONNX Runtime nodes_to_exclude (the nodes reading them) or
 * ModelOpt quantizer names with a quant_cfg disabling them. */
static char *qdq_export(ld_pin_format f, const ld_graph *g, const ld_autopin_result *r) {
    cJSON *a = cJSON_CreateArray(), *cfg = cJSON_CreateObject();
    bool *seen = calloc(g->nnodes + 1, sizeof(bool));
    for (int p = 0; seen && p < r->qdq->npairs; p++) {
        const ld_qdq_pair *qp = &r->qdq->pairs[p];
        if (!r->pinned[qp->dq]) continue;
        for (int i = 0; i < g->nnodes; i++)
            for (int k = 0; k < g->nodes[i].nin; k++) {
                if (g->nodes[i].in[k] != qp->out) continue;
                if (f == LD_FMT_ORT) {
                    if (!seen[i]) cJSON_AddItemToArray(a, cJSON_CreateString(g->nodes[i].name));
                    seen[i] = true;
                } else {
                    char name[512], pat[520];
                    modelopt_name(&g->nodes[i], qp->weight, name, sizeof name);
                    cJSON_AddItemToArray(a, cJSON_CreateString(name));
                    snprintf(pat, sizeof pat, "*%s", name);
                    cJSON *off = cJSON_CreateObject();
                    cJSON_AddBoolToObject(off, "enable", false);
                    cJSON_AddItemToObject(cfg, pat, off);
                }
            }
    }
    free(seen);
    cJSON *root = a;
    if (f == LD_FMT_MODELOPT) {
        root = cJSON_CreateObject();
        cJSON_AddItemToObject(root, "quantizers_to_disable", a);
        cJSON_AddItemToObject(root, "quant_cfg", cfg);
    } else {
        cJSON_Delete(cfg);
    }
    char *t = cJSON_Print(root);
    cJSON_Delete(root);
    sbuf b = {0};
    sb_add(&b, t ? t : "");
    sb_add(&b, "\n");
    free(t);
    return b.p;
}

char *ld_pins_export(ld_pin_format f, const ld_model *m, const ld_autopin_result *r,
                     const ld_autopin_opts *o, ld_target target) {
    const ld_graph *g = m->graph;
    if (r->qdq && (f == LD_FMT_ORT || f == LD_FMT_MODELOPT)) return qdq_export(f, g, r);
    sbuf b = {0};
    sb_add(&b, "");
    int first = 1;
    /* engines know only the names in the file: a node the file leaves unnamed cannot be named */
    bool engine = f != LD_FMT_LIST && f != LD_FMT_JSON;
    for (int i = 0; engine && i < g->nnodes; i++)
        if (r->pinned[i] && g->nodes[i].unnamed)
            fprintf(stderr, "layerdiff: warning: pinned node #%d (%s) has no name in the model file; the %s "
                    "format cannot refer to it and leaves it out\n", i, g->nodes[i].op_type, fmts[f].name);
#define PINNED(i) (r->pinned[i] && !(engine && g->nodes[i].unnamed))
    switch (f) {
    case LD_FMT_LIST:
        sb_add(&b, "# layerdiff autopin: nodes to keep in FP32 (use as --pin @FILE)\n");
        for (int i = 0; i < g->nnodes; i++)
            if (r->pinned[i]) { sb_add(&b, g->nodes[i].name); sb_add(&b, "\n"); }
        break;
    case LD_FMT_POLYGRAPHY:
        /* polygraphy convert/run: --layer-precisions takes name:dtype pairs */
        sb_add(&b, "--precision-constraints obey --layer-precisions");
        for (int i = 0; i < g->nnodes; i++)
            if (PINNED(i)) { sb_add(&b, " "); sb_shq(&b, g->nodes[i].name); b.n--; b.p[b.n] = 0; sb_add(&b, ":float32'"); }
        sb_add(&b, "\n");
        break;
    case LD_FMT_TRTEXEC: {
        sbuf names = {0};
        sb_add(&names, "");
        for (int i = 0; i < g->nnodes; i++)
            if (PINNED(i)) {
                if (!first) sb_add(&names, ",");
                sb_add(&names, g->nodes[i].name);
                sb_add(&names, ":fp32");
                first = 0;
            }
        sb_add(&b, "--precisionConstraints=obey --layerPrecisions=");
        sb_shq(&b, names.p);
        sb_add(&b, " --layerOutputTypes=");
        sb_shq(&b, names.p);
        sb_add(&b, "\n");
        free(names.p);
        break;
    }
    case LD_FMT_ORT:
    case LD_FMT_MODELOPT: {
        cJSON *a = cJSON_CreateArray();
        for (int i = 0; i < g->nnodes; i++) {
            if (!PINNED(i)) continue;
            if (f == LD_FMT_ORT) cJSON_AddItemToArray(a, cJSON_CreateString(g->nodes[i].name));
            else {
                char *re = regex_escape(g->nodes[i].name);
                cJSON_AddItemToArray(a, cJSON_CreateString(re ? re : ""));
                free(re);
            }
        }
        cJSON *root = a;
        if (f == LD_FMT_MODELOPT) {
            root = cJSON_CreateObject();
            cJSON_AddItemToObject(root, "nodes_to_exclude", a);
        }
        char *t = cJSON_Print(root);
        sb_add(&b, t ? t : "");
        sb_add(&b, "\n");
        free(t);
        cJSON_Delete(root);
        break;
    }
    case LD_FMT_JSON: {
        cJSON *j = cJSON_CreateObject(), *gl, *p;
        cJSON_AddStringToObject(j, "schema", "layerdiff.autopin/1");
        cJSON_AddStringToObject(j, "target", ld_target_format(target)->name);
        static const char *const sn[] = {"greedy", "bisect", "linear"};
        cJSON_AddStringToObject(j, "strategy", sn[o->strategy]);
        gl = cJSON_AddArrayToObject(j, "goals");
        for (int i = 0; i < o->ngoals; i++) {
            char buf[64];
            cJSON_AddItemToArray(gl, cJSON_CreateString(ld_goal_str(&o->goals[i], buf, sizeof buf)));
        }
        cJSON_AddBoolToObject(j, "met", r->met);
        p = cJSON_AddArrayToObject(j, "pins");
        for (int i = 0; i < g->nnodes; i++)
            if (r->pinned[i]) cJSON_AddItemToArray(p, cJSON_CreateString(g->nodes[i].name));
        eval_json(j, "before", &r->before);
        eval_json(j, "after", &r->after);
        cJSON_AddNumberToObject(j, "fp32_flops_share", r->fp32_flops_share);
        cJSON_AddNumberToObject(j, "fp32_params_share", r->fp32_params_share);
        cJSON_AddNumberToObject(j, "candidates", r->candidates);
        cJSON_AddNumberToObject(j, "tries", r->tries);
        cJSON_AddNumberToObject(j, "seconds", r->seconds);
        if (r->stopped) cJSON_AddStringToObject(j, "stopped", r->stopped); else cJSON_AddNullToObject(j, "stopped");
        char *t = cJSON_Print(j);
        sb_add(&b, t ? t : "");
        sb_add(&b, "\n");
        free(t);
        cJSON_Delete(j);
        break;
    }
    default: break;
    }
#undef PINNED
    return b.p;
}
