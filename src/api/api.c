/*
** api.c — liblayerdiff's public entry points for models, feeds, FP32 runs and reports
** (layerdiff.h). Thin wrappers over the core and compare stages: they translate the opaque
** handles, keep the thread's last error code, and never exit.
*/
#include "api_internal.h"
#include "ld_outfile.h"

#include <cJSON.h>
#include <stdlib.h>
#include <string.h>

static _Thread_local int last_code;

int ld_api_status(ld_status st) {
    last_code = (int)st;
    return (int)st;
}

LAYERDIFF_API const char *layerdiff_version(void) { return LD_VERSION; }
LAYERDIFF_API int layerdiff_errcode(void) { return last_code; }
LAYERDIFF_API const char *layerdiff_errmsg(void) { return last_code ? ld_err_msg() : ""; }
LAYERDIFF_API void layerdiff_set_threads(int n) { ld_threads_set(n); }
LAYERDIFF_API void layerdiff_free(void *p) { free(p); }

/* ---- models ---- */

LAYERDIFF_API int layerdiff_model_open(const char *path, layerdiff_model **out) {
    *out = NULL;
    if (!path) return ld_api_status(ld_error(LD_ERR_USAGE, "layerdiff_model_open: no path"));
    layerdiff_model *m = calloc(1, sizeof *m);
    if (!m || !(m->path = ld_strdup(path))) { free(m); return ld_api_status(ld_oom()); }
    ld_status st = ld_model_load(path, &m->m);
    if (st != LD_OK) {
        free(m->path);
        free(m);
        return ld_api_status(ld_err_prefix_path(st, path));
    }
    *out = m;
    return ld_api_status(LD_OK);
}

LAYERDIFF_API void layerdiff_model_close(layerdiff_model *m) {
    if (!m) return;
    ld_model_free(m->m);
    free(m->path);
    free(m);
}

LAYERDIFF_API int layerdiff_model_ninputs(const layerdiff_model *m) { return m->m->graph->ninputs; }
LAYERDIFF_API int layerdiff_model_noutputs(const layerdiff_model *m) { return m->m->graph->noutputs; }
LAYERDIFF_API const char *layerdiff_model_path(const layerdiff_model *m) { return m->path; }

LAYERDIFF_API const char *layerdiff_model_input(const layerdiff_model *m, int i) {
    const ld_graph *g = m->m->graph;
    return i >= 0 && i < g->ninputs ? g->values[g->inputs[i]].name : NULL;
}

LAYERDIFF_API const char *layerdiff_model_output(const layerdiff_model *m, int i) {
    const ld_graph *g = m->m->graph;
    return i >= 0 && i < g->noutputs ? g->values[g->outputs[i]].name : NULL;
}

/* ---- feeds ---- */

LAYERDIFF_API layerdiff_feeds *layerdiff_feeds_new(void) {
    layerdiff_feeds *f = calloc(1, sizeof *f);
    if (!f) ld_api_status(ld_oom());
    return f;
}

LAYERDIFF_API int layerdiff_feeds_add(layerdiff_feeds *f, const char *name, int dtype, int ndim,
                                      const int64_t *dims, void *data) {
    if (!f || !name) return ld_api_status(ld_error(LD_ERR_USAGE, "layerdiff_feeds_add: no feeds or no name"));
    if (dtype <= 0 || dtype >= LD_DTYPE_COUNT || dtype == LD_STRING || !ld_dtype_size((ld_dtype)dtype))
        return ld_api_status(ld_error(LD_ERR_UNSUPPORTED, "input '%s': element type %d is not supported by the library", name, dtype));
    if (ndim < 0 || ndim > LD_MAX_DIMS)
        return ld_api_status(ld_error(LD_ERR_DATA, "input '%s': %d dimensions (at most %d)", name, ndim, LD_MAX_DIMS));
    for (int d = 0; d < ndim; d++)
        if (dims[d] < 0) return ld_api_status(ld_error(LD_ERR_DATA, "input '%s': negative dimension %lld", name, (long long)dims[d]));
    ld_tensor *t = calloc(1, sizeof *t);
    if (!t) return ld_api_status(ld_oom());
    ld_status st = ld_tensor_set_shape(t, (ld_dtype)dtype, ndim, dims);
    if (st != LD_OK) { free(t); return ld_api_status(ld_err_prefix(st, "input '%s'", name)); }
    if (t->numel && !data) { free(t); return ld_api_status(ld_error(LD_ERR_USAGE, "input '%s': no data", name)); }
    t->data = data;                 /* borrowed: the caller's array */
    t->nbytes = (size_t)t->numel * ld_dtype_size(t->dtype);
    t->owns = false;
    st = ld_feed_add(&f->f, name, t);
    if (st != LD_OK) free(t);
    return ld_api_status(st);
}

LAYERDIFF_API int layerdiff_feeds_count(const layerdiff_feeds *f) { return f ? f->f.n : 0; }

LAYERDIFF_API int layerdiff_feeds_get(const layerdiff_feeds *f, int i, layerdiff_tensor *out) {
    memset(out, 0, sizeof *out);
    if (!f || i < 0 || i >= f->f.n)
        return ld_api_status(ld_error(LD_ERR_USAGE, "layerdiff_feeds_get: index %d out of range", i));
    const ld_tensor *t = f->f.items[i].t;
    out->name = f->f.items[i].name;
    if (t->kind != LD_KIND_TENSOR)
        return ld_api_status(ld_error(LD_ERR_UNSUPPORTED, "'%s' is a sequence or an absent optional, not a tensor", out->name));
    out->dtype = t->dtype;
    out->ndim = t->ndim;
    out->dims = t->dims;
    out->data = t->data;
    out->nbytes = t->nbytes;
    return ld_api_status(LD_OK);
}

LAYERDIFF_API void layerdiff_feeds_free(layerdiff_feeds *f) {
    if (!f) return;
    ld_feed_clear(&f->f);
    free(f);
}

/* ---- FP32 run ---- */

static ld_status add_copy(ld_feed *out, const char *name, const ld_tensor *t) {
    ld_tensor *c = calloc(1, sizeof *c);
    if (!c) return ld_oom();
    ld_status st = ld_tensor_copy(c, t);
    if (st == LD_OK) st = ld_feed_add(out, name, c);
    if (st != LD_OK) ld_tensor_free(c);
    return st;
}

/* The outputs (every tensor with mark_all) of a finished run, copied out of the executor. */
static ld_status collect(ld_exec *ex, bool mark_all, ld_feed *out) {
    const ld_graph *g = ld_exec_graph(ex);
    for (int i = 0; mark_all && i < g->nnodes; i++) {
        const ld_node *n = &g->nodes[i];
        if (n->folded) continue;
        for (int k = 0; k < n->nout; k++) {
            int v = n->out[k];
            const ld_tensor *t = v >= 0 ? ld_exec_value(ex, v) : NULL;
            if (!t || t->kind != LD_KIND_TENSOR || g->values[v].is_output) continue;
            LD_TRY(add_copy(out, g->values[v].name, t));
        }
    }
    for (int i = 0; i < g->noutputs; i++) {
        const ld_tensor *t = ld_exec_value(ex, g->outputs[i]);
        if (!t) return ld_error(LD_ERR_INTERNAL, "output '%s' was not computed", g->values[g->outputs[i]].name);
        LD_TRY(add_copy(out, g->values[g->outputs[i]].name, t));
    }
    return LD_OK;
}

LAYERDIFF_API int layerdiff_run(layerdiff_model *m, const layerdiff_feeds *in, int mark_all, layerdiff_feeds **out) {
    *out = NULL;
    if (!m || !in) return ld_api_status(ld_error(LD_ERR_USAGE, "layerdiff_run: no model or no feeds"));
    layerdiff_feeds *r = calloc(1, sizeof *r);
    if (!r) return ld_api_status(ld_oom());
    ld_exec ex;
    memset(&ex, 0, sizeof ex);
    ld_status st = ld_exec_init(&ex, m->m->graph, NULL);
    if (st == LD_OK) ld_exec_set_keep_all(&ex, mark_all != 0);
    for (int k = 0; st == LD_OK && k < in->f.n; k++) st = ld_exec_set_input(&ex, in->f.items[k].name, in->f.items[k].t);
    if (st == LD_OK) st = ld_exec_run(&ex);
    if (st == LD_OK) st = collect(&ex, mark_all != 0, &r->f);
    ld_exec_destroy(&ex);
    if (st != LD_OK) {
        layerdiff_feeds_free(r);
        return ld_api_status(ld_err_prefix_path(st, m->path));
    }
    *out = r;
    return ld_api_status(LD_OK);
}

/* ---- reports ---- */

LAYERDIFF_API int layerdiff_report_passed(const layerdiff_report *r) { return r ? r->passed : 0; }
LAYERDIFF_API const struct cJSON *layerdiff_report_json(const layerdiff_report *r) { return r ? r->json : NULL; }
LAYERDIFF_API const struct cJSON *layerdiff_report_autopin(const layerdiff_report *r) { return r ? r->autopin : NULL; }

LAYERDIFF_API char *layerdiff_report_string(const layerdiff_report *r) {
    char *s = r ? cJSON_Print(r->json) : NULL;
    if (!s) ld_api_status(ld_oom());
    return s;
}

/* The same bytes as `layerdiff compare --report` (cJSON_Print and a final newline). */
LAYERDIFF_API int layerdiff_report_write(const layerdiff_report *r, const char *path, int force) {
    if (!r || !path) return ld_api_status(ld_error(LD_ERR_USAGE, "layerdiff_report_write: no report or no path"));
    unsigned flags = LD_OUT_STDOUT | (force ? LD_OUT_FORCE : 0);
    ld_status st = ld_out_check(path, flags);
    if (st != LD_OK) return ld_api_status(st);
    char *txt = cJSON_Print(r->json);
    if (!txt) return ld_api_status(ld_oom());
    size_t n = strlen(txt);
    txt[n] = '\n';
    st = ld_out_write_all(path, flags, txt, n + 1);
    free(txt);
    return ld_api_status(st);
}

LAYERDIFF_API void layerdiff_report_free(layerdiff_report *r) {
    if (!r) return;
    cJSON_Delete(r->json);
    cJSON_Delete(r->autopin);
    free(r);
}
