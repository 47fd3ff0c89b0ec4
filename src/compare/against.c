/*
** against.c — comparing the FP32 reference with results of other engines: a second ONNX
** model (an FP16-converted or QDQ-quantized version, run here in FP32, as ONNX Runtime's
** qdq_loss_debug does) or tensors another engine saved (Polygraphy RunResults, e.g. TensorRT
** with --trt-outputs mark all). Tensors are matched by name.
*/
#include "ld_compare.h"

#include <stdlib.h>
#include <string.h>

/* Run m in FP32 keeping every value; float inputs are converted to the dtype the model
 * declares (an FP16-converted model takes float16 inputs). conv holds the converted copies. */
static ld_status run_keep(ld_model *m, const ld_feed *in, ld_exec *ex, ld_feed *conv) {
    LD_TRY(ld_exec_init(ex, m->graph, NULL));
    ld_exec_set_keep_all(ex, true);
    for (int k = 0; k < in->n; k++) {
        int v = ld_graph_find_value(m->graph, in->items[k].name);
        if (v < 0) continue;
        const ld_value *val = &m->graph->values[v];
        ld_tensor *t = in->items[k].t;
        if (val->has_decl && val->decl_dtype != LD_UNDEFINED && val->decl_dtype != t->dtype &&
            ld_dtype_is_float(val->decl_dtype) && ld_dtype_is_float(t->dtype)) {
            ld_tensor *c = calloc(1, sizeof *c);
            if (!c) return ld_oom();
            ld_status st = ld_tensor_convert(c, t, val->decl_dtype);
            if (st == LD_OK) st = ld_feed_add(conv, in->items[k].name, c);
            if (st != LD_OK) { ld_tensor_free(c); return st; }
            t = c;
        }
        LD_TRY(ld_exec_set_input(ex, in->items[k].name, t));
    }
    return ld_exec_run(ex);
}

typedef const ld_tensor *(*lookup_fn)(void *user, const char *name);

static ld_status match_all(ld_compare *c, ld_exec *ref, lookup_fn find, void *user, int *matched) {
    ld_graph *g = c->model->graph;
    *matched = 0;
    for (int i = 0; i < g->nnodes; i++) {
        const ld_node *n = &g->nodes[i];
        if (n->folded) continue;
        for (int k = 0; k < n->nout; k++) {
            if (n->out[k] < 0) continue;
            const ld_tensor *r = ld_exec_value(ref, n->out[k]);
            const ld_tensor *o = find(user, g->values[n->out[k]].name);
            if (r && !o) ld_compare_note_shape(c, i, k, r);
            if (!r || !o) continue;
            LD_TRY(ld_compare_add_pair(c, i, k, r, o));
            (*matched)++;
        }
    }
    return LD_OK;
}

static const ld_tensor *find_in_exec(void *user, const char *name) {
    ld_exec *ex = user;
    int v = ld_graph_find_value(ld_exec_graph(ex), name);
    return v >= 0 ? ld_exec_value(ex, v) : NULL;
}

static const ld_tensor *find_in_feed(void *user, const char *name) {
    return ld_feed_get((const ld_feed *)user, name);
}

/* The main model output (ld_graph_main_output) of both sides, for the classification summary;
** counts the sample. */
static ld_status finish_sample(ld_compare *c, ld_exec *ref, lookup_fn find, void *user) {
    ld_graph *g = c->model->graph;
    if (g->noutputs) {
        int v = g->outputs[ld_graph_main_output(g)];
        const ld_tensor *r = ld_exec_value(ref, v);
        const ld_tensor *o = find(user, g->values[v].name);
        if (r && o) LD_TRY(ld_compare_add_rows(c, r, o));
    }
    c->samples += ld_feed_batch(c->model->graph, ref);
    return LD_OK;
}

ld_status ld_against_model(ld_compare *c, ld_model *other, const ld_feed *in, int *matched) {
    ld_exec rx, ox;
    ld_feed conv = {0};
    memset(&rx, 0, sizeof rx);
    memset(&ox, 0, sizeof ox);
    double t0 = ld_now_sec();
    ld_status st = run_keep(c->model, in, &rx, &conv);
    if (st == LD_OK) {
        st = run_keep(other, in, &ox, &conv);
        if (st != LD_OK) ld_err_prefix(st, "second model");
    }
    if (st == LD_OK) st = match_all(c, &rx, find_in_exec, &ox, matched);
    if (st == LD_OK) st = finish_sample(c, &rx, find_in_exec, &ox);
    ld_exec_destroy(&ox);
    ld_exec_destroy(&rx);
    ld_feed_clear(&conv);
    c->seconds += ld_now_sec() - t0;
    return st;
}

ld_status ld_against_saved(ld_compare *c, const ld_feed *in, const ld_feed *saved, int *matched) {
    ld_exec rx;
    ld_feed conv = {0};
    memset(&rx, 0, sizeof rx);
    double t0 = ld_now_sec();
    ld_status st = run_keep(c->model, in, &rx, &conv);
    if (st == LD_OK) st = match_all(c, &rx, find_in_feed, (void *)saved, matched);
    if (st == LD_OK) st = finish_sample(c, &rx, find_in_feed, (void *)saved);
    ld_exec_destroy(&rx);
    ld_feed_clear(&conv);
    c->seconds += ld_now_sec() - t0;
    return st;
}
