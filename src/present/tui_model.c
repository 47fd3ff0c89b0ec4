/*
** tui_model.c — loading a "layerdiff.report/1" report into the browser's structs. Every field
** is type-checked; the first problem becomes one LD_ERR_DATA message naming the JSON path
** ("r.json: not a layerdiff report: nodes[3].outputs[0].shape: expected an array"). Optional
** fields may be absent; null numbers are NAN (an SQNR of null means exact: +inf).
*/
#include "tui_model.h"

#include <cJSON.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct jctx {
    const char *source;
    ld_status st;         /* first error */
} jctx;

static void bad(jctx *c, const char *path, const char *key, const char *what) {
    if (c->st != LD_OK) return;
    c->st = ld_error(LD_ERR_DATA, "%s: not a valid layerdiff report: %s%s%s: %s", c->source, path,
                     path[0] && key ? "." : "", key ? key : "", what);
}

static void oom(jctx *c) {
    if (c->st == LD_OK) c->st = ld_oom();
}

static char *dup_str(jctx *c, const char *s) {
    char *p = ld_strdup(s ? s : "");
    if (!p) oom(c);
    return p;
}

/* A member of the wrong type is an error; an absent one is an error only when required. */
static const cJSON *member(jctx *c, const cJSON *o, const char *path, const char *key, bool required) {
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    if (!v && required) bad(c, path, key, "missing");
    return v;
}

static char *get_str(jctx *c, const cJSON *o, const char *path, const char *key, bool required) {
    const cJSON *v = member(c, o, path, key, required);
    if (!v) return NULL;
    if (!cJSON_IsString(v)) {
        if (required || !cJSON_IsNull(v)) bad(c, path, key, "expected a string");
        return NULL;
    }
    return dup_str(c, v->valuestring);
}

static double get_num(jctx *c, const cJSON *o, const char *path, const char *key, bool required) {
    const cJSON *v = member(c, o, path, key, required);
    if (!v || cJSON_IsNull(v)) return NAN;
    if (!cJSON_IsNumber(v)) { bad(c, path, key, "expected a number or null"); return NAN; }
    return v->valuedouble;
}

/* A schema "count" (integer >= 0) that must fit in max: a huge, fractional or negative number
 * is an error, not a conversion with an undefined result. Absent or null gives 0. */
static int64_t get_count(jctx *c, const cJSON *o, const char *path, const char *key, double max) {
    double v = get_num(c, o, path, key, false);
    if (isnan(v)) return 0;
    if (!(v >= 0 && v <= max) || v != floor(v)) { bad(c, path, key, "expected a whole number >= 0"); return 0; }
    return (int64_t)v;
}

static bool get_bool(jctx *c, const cJSON *o, const char *path, const char *key, bool required) {
    const cJSON *v = member(c, o, path, key, required);
    if (!v) return false;
    if (!cJSON_IsBool(v)) { bad(c, path, key, "expected true or false"); return false; }
    return cJSON_IsTrue(v);
}

static const cJSON *get_kind(jctx *c, const cJSON *o, const char *path, const char *key, bool required,
                             bool array) {
    const cJSON *v = member(c, o, path, key, required);
    if (!v || (cJSON_IsNull(v) && !required)) return NULL;
    if (array ? !cJSON_IsArray(v) : !cJSON_IsObject(v)) {
        bad(c, path, key, array ? "expected an array" : "expected an object");
        return NULL;
    }
    return v;
}

static void load_stats(jctx *c, const cJSON *o, const char *path, tui_stats *s) {
    char p[320];
    if (!o) return;
    s->present = true;
    s->min = get_num(c, o, path, "min", false);
    s->max = get_num(c, o, path, "max", false);
    s->mean = get_num(c, o, path, "mean", false);
    s->std = get_num(c, o, path, "std", false);
    s->absmax = get_num(c, o, path, "absmax", false);
    s->count = get_num(c, o, path, "count", false);
    s->nan = get_num(c, o, path, "nan", false);
    s->inf = get_num(c, o, path, "inf", false);
    const cJSON *h = get_kind(c, o, path, "histogram", false, false);
    if (!h) return;
    snprintf(p, sizeof p, "%.300s.histogram", path);
    s->hlo = get_num(c, h, p, "lo", false);
    s->hhi = get_num(c, h, p, "hi", false);
    const cJSON *b = get_kind(c, h, p, "counts", false, true), *x;
    cJSON_ArrayForEach(x, b) {
        if (!cJSON_IsNumber(x)) { bad(c, p, "counts", "expected numbers"); return; }
        if (s->nhist < TUI_HIST_BINS) s->hist[s->nhist++] = x->valuedouble;
    }
}

static double *num_array(jctx *c, const cJSON *a, const char *path, const char *key, int *n) {
    *n = 0;
    int len = cJSON_GetArraySize(a);
    if (!len) return NULL;
    double *v = ld_calloc((size_t)len, sizeof *v);
    if (!v) { oom(c); return NULL; }
    const cJSON *x;
    cJSON_ArrayForEach(x, a) {
        if (!cJSON_IsNumber(x)) { bad(c, path, key, "expected numbers"); break; }
        v[(*n)++] = x->valuedouble;
    }
    return v;
}

static void load_err(jctx *c, const cJSON *o, const char *path, tui_err *e) {
    if (!o) return;
    e->present = true;
    e->pass = get_bool(c, o, path, "pass", true);
    e->reason = get_str(c, o, path, "reason", false);
    static const struct { const char *k; size_t off; } f[] = {
#define F(k) {#k, offsetof(tui_err, k)}
        F(count), F(max_abs), F(mean_abs), F(median_abs), F(p99_abs), F(max_rel), F(mean_rel), F(median_rel),
        F(p99_rel), F(rmse), F(nmse), F(sqnr_db), F(cosine), F(max_ulp), F(new_nan), F(new_inf), F(overflow),
        F(underflow), F(subnormal), F(saturated), F(elem_fail), F(zero_abs),
#undef F
    };
    for (size_t i = 0; i < LD_ARRAY_LEN(f); i++)
        *(double *)((char *)e + f[i].off) = get_num(c, o, path, f[i].k, false);
    /* null SQNR = no error at all (JSON has no infinity) */
    const cJSON *sq = cJSON_GetObjectItemCaseSensitive(o, "sqnr_db");
    if (sq && cJSON_IsNull(sq)) e->sqnr_db = INFINITY;
    const cJSON *h = get_kind(c, o, path, "abs_histogram", false, true), *pair;
    int len = cJSON_GetArraySize(h);
    if (len > 0) {
        e->hist_edge = ld_calloc((size_t)len, sizeof(double));
        e->hist_count = ld_calloc((size_t)len, sizeof(double));
        if (!e->hist_edge || !e->hist_count) { oom(c); return; }
        cJSON_ArrayForEach(pair, h) {
            const cJSON *a = cJSON_GetArrayItem(pair, 0), *b = cJSON_GetArrayItem(pair, 1);
            if (!cJSON_IsArray(pair) || !cJSON_IsNumber(a) || !cJSON_IsNumber(b)) {
                bad(c, path, "abs_histogram", "expected [log2 edge, count] pairs");
                return;
            }
            e->hist_edge[e->nhist] = a->valuedouble;
            e->hist_count[e->nhist++] = b->valuedouble;
        }
    }
    const cJSON *ch = get_kind(c, o, path, "channel_max_abs", false, true);
    if (ch) e->ch_max = num_array(c, ch, path, "channel_max_abs", &e->nch);
}

static unsigned flag_bits(jctx *c, const cJSON *a, const char *path) {
    static const char *const names[] = {"nan", "inf", "overflow", "underflow", "saturation",
                                        "subnormal", "isolated_fail", "propagated_fail"};
    unsigned f = 0;
    const cJSON *x;
    cJSON_ArrayForEach(x, a) {
        if (!cJSON_IsString(x)) { bad(c, path, "flags", "expected strings"); return f; }
        for (int b = 0; b < 8; b++) if (!strcmp(x->valuestring, names[b])) f |= 1u << b;
    }
    return f;
}

static void load_tensor(jctx *c, const cJSON *o, const char *path, tui_tensor *t) {
    char p[320];
    if (!cJSON_IsObject(o)) { bad(c, path, NULL, "expected an object"); return; }
    t->name = get_str(c, o, path, "name", true);
    t->dtype = get_str(c, o, path, "dtype", false);
    const cJSON *sh = get_kind(c, o, path, "shape", false, true), *d;
    cJSON_ArrayForEach(d, sh) {
        double v = cJSON_IsNumber(d) ? d->valuedouble : -1;
        if (!(v >= 0 && v < 0x1p62) || v != floor(v)) { bad(c, path, "shape", "expected whole numbers >= 0"); return; }
        if (t->ndim >= TUI_MAX_DIMS) { bad(c, path, "shape", "too many dimensions"); return; }
        t->dims[t->ndim++] = (int64_t)v;
    }
    t->measured = get_bool(c, o, path, "measured", false);
    snprintf(p, sizeof p, "%.300s.ref_stats", path);
    load_stats(c, get_kind(c, o, path, "ref_stats", false, false), p, &t->ref);
    snprintf(p, sizeof p, "%.300s.target_stats", path);
    load_stats(c, get_kind(c, o, path, "target_stats", false, false), p, &t->tgt);
    snprintf(p, sizeof p, "%.300s.isolated", path);
    load_err(c, get_kind(c, o, path, "isolated", false, false), p, &t->iso);
    snprintf(p, sizeof p, "%.300s.propagated", path);
    load_err(c, get_kind(c, o, path, "propagated", false, false), p, &t->prop);
    const cJSON *fl = get_kind(c, o, path, "flags", false, true);
    if (fl) t->flags = flag_bits(c, fl, path);
}

/* The worst output: failing isolated, then failing propagated, then lowest SQNR. */
static int pick_main(const tui_node *n) {
    int best = 0;
    double bs = -INFINITY;
    for (int k = 0; k < n->nout; k++) {
        const tui_tensor *t = &n->outs[k];
        if (!t->measured) continue;
        double s = (t->iso.present && !t->iso.pass ? 2e6 : 0) + (t->prop.present && !t->prop.pass ? 1e6 : 0);
        double b = tui_metric_badness(TUI_M_SQNR, t->prop.sqnr_db);
        s += isfinite(b) ? b : 0;
        if (s > bs) { bs = s; best = k; }
    }
    return best;
}

static void load_node(jctx *c, const cJSON *o, int i, tui_node *n) {
    char path[64], p[320];
    snprintf(path, sizeof path, "nodes[%d]", i);
    if (!cJSON_IsObject(o)) { bad(c, path, NULL, "expected an object"); return; }
    double idx = get_num(c, o, path, "index", true);
    if (c->st == LD_OK && !(idx >= 0 && idx < 1e9)) bad(c, path, "index", "expected a node index");
    n->index = c->st == LD_OK ? (int)idx : 0;
    n->name = get_str(c, o, path, "name", true);
    n->op = get_str(c, o, path, "op", true);
    n->domain = get_str(c, o, path, "domain", false);
    n->pinned = get_bool(c, o, path, "pinned", false);
    n->quantized = get_bool(c, o, path, "quantized", false);
    n->quant = -1;
    const cJSON *ins = get_kind(c, o, path, "inputs", false, true), *x;
    int nin = cJSON_GetArraySize(ins), nout;
    if (nin > 0) {
        n->inputs = ld_calloc((size_t)nin, sizeof(char *));
        n->producer = ld_calloc((size_t)nin, sizeof(int));
        if (!n->inputs || !n->producer) { oom(c); return; }
        cJSON_ArrayForEach(x, ins) {
            if (!cJSON_IsString(x)) { bad(c, path, "inputs", "expected strings"); return; }
            n->producer[n->nin] = -1;
            n->inputs[n->nin++] = dup_str(c, x->valuestring);
        }
    }
    const cJSON *outs = get_kind(c, o, path, "outputs", true, true);
    nout = cJSON_GetArraySize(outs);
    if (nout > 0) {
        n->outs = ld_calloc((size_t)nout, sizeof(tui_tensor));
        if (!n->outs) { oom(c); return; }
        cJSON_ArrayForEach(x, outs) {
            snprintf(p, sizeof p, "%s.outputs[%d]", path, n->nout);
            load_tensor(c, x, p, &n->outs[n->nout++]);
            if (c->st != LD_OK) return;
        }
    }
    n->main_out = pick_main(n);
}

/* ---- producers and consumers: tensor name -> producing node, by open addressing ---- */

static uint32_t str_hash(const char *s) {
    uint32_t h = 2166136261u;
    for (; *s; s++) h = (h ^ (uint8_t)*s) * 16777619u;
    return h;
}

static ld_status link_nodes(tui_report *r) {
    int ntens = 0;
    for (int i = 0; i < r->nnodes; i++) ntens += r->nodes[i].nout;
    size_t cap = 16;
    while (cap < (size_t)ntens * 2) cap *= 2;
    struct slot { const char *name; int node; } *tab = ld_calloc(cap, sizeof *tab);
    int *ncons = ld_calloc((size_t)r->nnodes + 1, sizeof(int));
    if (!tab || !ncons) { free(tab); free(ncons); return ld_oom(); }
    for (int i = 0; i < r->nnodes; i++)
        for (int k = 0; k < r->nodes[i].nout; k++) {
            const char *nm = r->nodes[i].outs[k].name;
            size_t h = str_hash(nm) & (cap - 1);
            while (tab[h].name && strcmp(tab[h].name, nm)) h = (h + 1) & (cap - 1);
            if (!tab[h].name) tab[h] = (struct slot){nm, i};
        }
    for (int i = 0; i < r->nnodes; i++) {
        tui_node *n = &r->nodes[i];
        for (int k = 0; k < n->nin; k++) {
            if (!n->inputs[k][0]) continue;
            size_t h = str_hash(n->inputs[k]) & (cap - 1);
            while (tab[h].name && strcmp(tab[h].name, n->inputs[k])) h = (h + 1) & (cap - 1);
            n->producer[k] = tab[h].name ? tab[h].node : -1;
            bool dup = false;   /* a node reading a tensor twice is one consumer */
            for (int q = 0; q < k; q++) dup |= n->producer[q] == n->producer[k];
            if (n->producer[k] >= 0 && n->producer[k] != i && !dup) ncons[n->producer[k]]++;
        }
    }
    ld_status st = LD_OK;
    for (int i = 0; i < r->nnodes && st == LD_OK; i++)
        if (ncons[i] && !(r->nodes[i].consumers = ld_calloc((size_t)ncons[i], sizeof(int))))
            st = ld_oom();
    for (int i = 0; i < r->nnodes && st == LD_OK; i++) {
        tui_node *n = &r->nodes[i];
        for (int k = 0; k < n->nin; k++) {
            int p = n->producer[k];
            bool dup = false;
            for (int q = 0; q < k; q++) dup |= n->producer[q] == p;
            if (p >= 0 && p != i && !dup) r->nodes[p].consumers[r->nodes[p].ncons++] = i;
        }
    }
    free(tab);
    free(ncons);
    return st;
}

static int first_pos(jctx *c, const tui_report *r, const cJSON *fd, const char *key, char **reason) {
    char path[64];
    snprintf(path, sizeof path, "summary.first_divergent.%s", key);
    const cJSON *o = get_kind(c, fd, "summary.first_divergent", key, false, false);
    if (!o) return -1;
    double idx = get_num(c, o, path, "index", true);
    char *name = get_str(c, o, path, "node", false);
    *reason = get_str(c, o, path, "reason", false);
    int pos = -1;
    for (int i = 0; i < r->nnodes && pos < 0; i++)
        if (r->nodes[i].index == idx && (!name || !strcmp(name, r->nodes[i].name))) pos = i;
    if (pos < 0 && c->st == LD_OK) bad(c, path, "index", "names no node of the report");
    free(name);
    return pos;
}

/* The "qdq" section: per quantizer its facts, tied to the listed nodes by name. */
static void load_qdq(jctx *c, const cJSON *root, tui_report *r) {
    const cJSON *q = get_kind(c, root, "", "qdq", false, false);
    if (!q || c->st != LD_OK) return;
    r->qdq_weights = get_str(c, q, "qdq", "weights", false);
    const cJSON *arr = get_kind(c, q, "qdq", "quantizers", true, true), *x;
    int n = cJSON_GetArraySize(arr);
    if (c->st != LD_OK || n <= 0) return;
    if (!(r->quant = ld_calloc((size_t)n, sizeof(tui_quant)))) { oom(c); return; }
    cJSON_ArrayForEach(x, arr) {
        char path[64];
        snprintf(path, sizeof path, "qdq.quantizers[%d]", r->nquant);
        if (!cJSON_IsObject(x)) { bad(c, path, NULL, "expected an object"); return; }
        tui_quant *u = &r->quant[r->nquant++];
        u->name = get_str(c, x, path, "name", true);
        u->kind = get_str(c, x, path, "kind", true);
        u->dq_node = get_str(c, x, path, "dequantize_node", true);
        const cJSON *cons = cJSON_GetObjectItemCaseSensitive(x, "consumer");
        u->consumer = cons && !cJSON_IsNull(cons) ? get_str(c, x, path, "consumer", false) : NULL;
        u->dtype = get_str(c, x, path, "dtype", false);
        const cJSON *sc = get_kind(c, x, path, "scale", false, false);
        u->scale_count = u->scale_min = u->scale_max = u->scale_zeros = NAN;
        if (sc) {
            char sp[96];
            snprintf(sp, sizeof sp, "%s.scale", path);
            u->scale_count = get_num(c, sc, sp, "count", false);
            u->scale_min = get_num(c, sc, sp, "min", false);
            u->scale_max = get_num(c, sc, sp, "max", false);
            u->scale_zeros = get_num(c, sc, sp, "zeros", false);
        }
        u->zero_point = get_num(c, x, path, "zero_point", false);
        u->axis = get_num(c, x, path, "axis", false);
        u->block_size = get_num(c, x, path, "block_size", false);
        u->clip_pct = get_num(c, x, path, "clip_pct", false);
        u->zero_pct = get_num(c, x, path, "zero_pct", false);
        u->in_min = get_num(c, x, path, "input_min", false);
        u->in_max = get_num(c, x, path, "input_max", false);
        u->disabled = get_bool(c, x, path, "disabled", false);
        if (c->st != LD_OK) return;
        u->dq_pos = tui_report_find(r, u->dq_node);
        u->consumer_pos = u->consumer ? tui_report_find(r, u->consumer) : -1;
        if (u->dq_pos >= 0) r->nodes[u->dq_pos].quant = r->nquant - 1;
    }
}

bool tui_quant_feeds(const tui_report *r, int q, int i) {
    const tui_quant *u = &r->quant[q];
    if (u->consumer_pos == i) return true;
    for (int k = 0; u->dq_pos >= 0 && k < r->nodes[i].nin; k++)
        if (r->nodes[i].producer[k] == u->dq_pos) return true;
    return false;
}

static void load_settings(jctx *c, const cJSON *root, tui_report *r) {
    const cJSON *m = get_kind(c, root, "", "model", false, false);
    if (m) {
        r->model_path = get_str(c, m, "model", "path", false);
        r->producer = get_str(c, m, "model", "producer", false);
    }
    const cJSON *s = get_kind(c, root, "", "settings", false, false);
    r->min_sqnr = r->min_cosine = r->max_sat = r->atol = r->rtol = NAN;
    r->isolated = true;
    if (!s) return;
    r->mode = get_str(c, s, "settings", "mode", false);
    r->target = get_str(c, s, "settings", "target", false);
    r->fallback = get_str(c, s, "settings", "fallback", false);
    r->accumulation = get_str(c, s, "settings", "accumulation", false);
    r->against = get_str(c, s, "settings", "against", false);
    r->data = get_str(c, s, "settings", "data", false);
    r->calibration = get_str(c, s, "settings", "calibration", false);
    r->samples = get_num(c, s, "settings", "samples", false);
    if (cJSON_GetObjectItemCaseSensitive(s, "isolated")) r->isolated = get_bool(c, s, "settings", "isolated", false);
    const cJSON *pins = get_kind(c, s, "settings", "pins", false, true), *x;
    int np = cJSON_GetArraySize(pins);
    if (np > 0 && !(r->pins = ld_calloc((size_t)np, sizeof(char *)))) { oom(c); return; }
    cJSON_ArrayForEach(x, pins) {
        if (!cJSON_IsString(x)) { bad(c, "settings", "pins", "expected strings"); return; }
        r->pins[r->npins++] = dup_str(c, x->valuestring);
    }
    const cJSON *t = get_kind(c, s, "settings", "tolerance", false, false);
    if (!t) return;
    r->min_sqnr = get_num(c, t, "settings.tolerance", "min_sqnr_db", false);
    r->min_cosine = get_num(c, t, "settings.tolerance", "min_cosine", false);
    r->max_sat = get_num(c, t, "settings.tolerance", "max_saturation_fraction", false);
    r->atol = get_num(c, t, "settings.tolerance", "atol", false);
    r->rtol = get_num(c, t, "settings.tolerance", "rtol", false);
}

ld_status tui_report_from_json(const cJSON *root, const char *source, tui_report **out) {
    jctx c = {source, LD_OK};
    *out = NULL;
    if (!cJSON_IsObject(root)) return ld_error(LD_ERR_DATA, "%s: not a layerdiff report (the JSON is not an object)", source);
    const cJSON *sc = cJSON_GetObjectItemCaseSensitive(root, "schema");
    if (!cJSON_IsString(sc))
        return ld_error(LD_ERR_DATA, "%s: not a layerdiff report (no \"schema\": \"%s\")", source, LD_REPORT_SCHEMA);
    if (strcmp(sc->valuestring, LD_REPORT_SCHEMA))
        return ld_error(LD_ERR_DATA, "%s: report schema '%.64s' is not supported (this layerdiff reads %s)", source,
                        sc->valuestring, LD_REPORT_SCHEMA);
    tui_report *r = ld_calloc(1, sizeof *r);
    if (!r) return ld_oom();
    r->source = dup_str(&c, source);
    r->first_iso = r->first_prop = -1;
    r->version = get_str(&c, root, "", "layerdiff_version", false);
    load_settings(&c, root, r);
    const cJSON *nodes = get_kind(&c, root, "", "nodes", true, true), *x;
    int nn = cJSON_GetArraySize(nodes);
    if (c.st == LD_OK && nn > 0 && !(r->nodes = ld_calloc((size_t)nn, sizeof(tui_node)))) oom(&c);
    cJSON_ArrayForEach(x, nodes) {
        if (c.st != LD_OK) break;
        load_node(&c, x, r->nnodes, &r->nodes[r->nnodes]);
        r->nnodes++;
    }
    const cJSON *sum = get_kind(&c, root, "", "summary", false, false);
    if (sum && c.st == LD_OK) {
        r->passed = get_bool(&c, sum, "summary", "passed", false);
        r->failing = (int)get_count(&c, sum, "summary", "failing_tensors", INT_MAX);
        const cJSON *fd = get_kind(&c, sum, "summary", "first_divergent", false, false);
        if (fd) {
            r->first_iso = first_pos(&c, r, fd, "isolated", &r->first_iso_reason);
            r->first_prop = first_pos(&c, r, fd, "propagated", &r->first_prop_reason);
        }
    }
    if (c.st == LD_OK) c.st = link_nodes(r);
    if (c.st == LD_OK) load_qdq(&c, root, r);
    if (c.st != LD_OK) { tui_report_free(r); return c.st; }
    *out = r;
    return LD_OK;
}

ld_status tui_report_load(const char *path, tui_report **out) {
    uint8_t *buf;
    size_t len;
    *out = NULL;
    ld_status st = ld_file_read(path, &buf, &len);
    if (st != LD_OK) return ld_err_prefix_path(st, path);
    size_t sp = 0;
    while (sp < len && strchr(" \t\r\n", buf[sp])) sp++;
    if (sp == len) { free(buf); return ld_error(LD_ERR_DATA, "%s: empty file (expected a layerdiff JSON report)", path); }
    if (memchr(buf, 0, len)) { free(buf); return ld_error(LD_ERR_DATA, "%s: binary data, not a JSON report", path); }
    const char *end = NULL;
    cJSON *root = cJSON_ParseWithLengthOpts((const char *)buf, len, &end, false);
    if (!root) {
        size_t at = end ? (size_t)(end - (const char *)buf) : len;
        while (at < len && strchr(" \t\r\n", buf[at])) at++;
        if (at >= len) {
            free(buf);
            return ld_error(LD_ERR_DATA, "%s: not valid JSON: it ends too early (a truncated file?)", path);
        }
        int line = 1, col = 1;
        for (const char *p = (const char *)buf; end && p < end && p < (const char *)buf + len; p++) {
            if (*p == '\n') { line++; col = 1; } else col++;
        }
        free(buf);
        return ld_error(LD_ERR_DATA, "%s: not valid JSON (error near line %d, column %d)", path, line, col);
    }
    free(buf);
    st = tui_report_from_json(root, path, out);
    cJSON_Delete(root);
    return st;
}

ld_status tui_report_from_compare(const ld_compare *c, const ld_report_meta *meta, tui_report **out) {
    cJSON *j = ld_report_json(c, meta);
    if (!j) return ld_oom();
    ld_status st = tui_report_from_json(j, "live", out);
    cJSON_Delete(j);
    return st;
}

static void err_free(tui_err *e) {
    free(e->reason);
    free(e->hist_edge);
    free(e->hist_count);
    free(e->ch_max);
}

void tui_report_free(tui_report *r) {
    if (!r) return;
    for (int i = 0; i < r->nnodes; i++) {
        tui_node *n = &r->nodes[i];
        free(n->name);
        free(n->op);
        free(n->domain);
        for (int k = 0; k < n->nin; k++) free(n->inputs[k]);
        free(n->inputs);
        free(n->producer);
        for (int k = 0; k < n->nout; k++) {
            free(n->outs[k].name);
            free(n->outs[k].dtype);
            err_free(&n->outs[k].iso);
            err_free(&n->outs[k].prop);
        }
        free(n->outs);
        free(n->consumers);
    }
    free(r->nodes);
    for (int i = 0; i < r->nquant; i++) {
        tui_quant *u = &r->quant[i];
        free(u->name); free(u->kind); free(u->dq_node); free(u->consumer); free(u->dtype);
    }
    free(r->quant);
    free(r->qdq_weights);
    for (int i = 0; i < r->npins; i++) free(r->pins[i]);
    free(r->pins);
    char *strs[] = {r->source, r->version, r->model_path, r->producer, r->mode, r->target, r->fallback,
                    r->accumulation, r->data, r->calibration, r->against, r->first_iso_reason, r->first_prop_reason};
    for (size_t i = 0; i < LD_ARRAY_LEN(strs); i++) free(strs[i]);
    free(r);
}

int tui_report_find(const tui_report *r, const char *name) {
    for (int i = 0; i < r->nnodes; i++)
        if (!strcmp(r->nodes[i].name, name)) return i;
    return -1;
}
