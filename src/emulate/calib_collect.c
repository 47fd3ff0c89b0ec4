/*
** calib_collect.c — ld_calibrate: the activation ranges of the tensors the policy quantizes,
** from FP32 runs of the main graph over the calibration samples.
**
** The tensors: for every node the policy quantizes (ld_policy_quantizes) and that is not
** pinned, its input 0 and its input 1, each unless it is a constant (initializer or folded):
** the activations TensorRT would quantize. Graph inputs are read right after binding; node
** outputs in the executor's after_node hook, before they are freed. Only float tensors are
** collected (float16/bfloat16/float64 through their values); NaN and +-inf are skipped and
** counted (reported at -v).
**
** Pass 1 takes max |x| per tensor over all samples (minmax stops there). Pass 2 (the other
** methods) runs the samples again and fills a histogram of |x| with LD_CALIB_BINS bins over
** [0, max] per tensor, TensorRT's two-pass scheme, so memory is one histogram per tensor and
** no tensor is copied. A tensor whose max is 0 gets amax 0. Split over processes
** (ld_calibrate_dist), each runs its share of the samples and the maxima, counts and
** histograms are combined after each pass: the same figures whatever the split.
*/
#include "ld_calib.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

typedef struct target {
    int value;            /* value id in the main graph */
    double amax;          /* pass 1: max |x| (finite values) */
    bool seen;            /* a float tensor was observed */
    int64_t nonfinite;    /* NaN / inf elements skipped (pass 1) */
    uint64_t *hist;       /* pass 2 */
    double inv_width;     /* LD_CALIB_BINS / amax */
} target;

typedef struct collector {
    ld_graph *g;
    target *t;
    int nt;
    int *tidx;            /* value id -> index in t, or -1 */
    int pass;             /* 1 or 2 */
} collector;

static double elem_abs(const ld_tensor *x, int64_t i) {
    return fabs(ld_tensor_get_f64(x, i));
}

static void observe_max(target *t, const ld_tensor *x) {
    double m = 0;
    int64_t bad = 0;
    if (x->dtype == LD_F32) {
        const float *p = x->data;
        float mf = 0;
        for (int64_t i = 0; i < x->numel; i++) {
            float a = fabsf(p[i]);
            if (!isfinite(a)) { bad++; continue; }
            if (a > mf) mf = a;
        }
        m = mf;
    } else {
        for (int64_t i = 0; i < x->numel; i++) {
            double a = elem_abs(x, i);
            if (!isfinite(a)) { bad++; continue; }
            if (a > m) m = a;
        }
    }
    if (m > t->amax) t->amax = m;
    t->nonfinite += bad;
    t->seen = true;
}

static inline int bin_of(double a, double inv_width) {
    double b = a * inv_width;
    if (!(b < LD_CALIB_BINS)) return LD_CALIB_BINS - 1;   /* a == max (or rounding above) */
    return (int)b;
}

static void observe_hist(target *t, const ld_tensor *x) {
    if (!t->hist) return;
    uint64_t *h = t->hist;
    double inv = t->inv_width;
    if (x->dtype == LD_F32) {
        const float *p = x->data;
        for (int64_t i = 0; i < x->numel; i++) {
            float a = fabsf(p[i]);
            if (isfinite(a)) h[bin_of(a, inv)]++;
        }
    } else {
        for (int64_t i = 0; i < x->numel; i++) {
            double a = elem_abs(x, i);
            if (isfinite(a)) h[bin_of(a, inv)]++;
        }
    }
}

static void observe(collector *c, int v, const ld_tensor *x) {
    if (v < 0 || c->tidx[v] < 0 || !x || x->kind != LD_KIND_TENSOR || !ld_dtype_is_float(x->dtype) ||
        !x->data)
        return;
    target *t = &c->t[c->tidx[v]];
    if (c->pass == 1) observe_max(t, x);
    else observe_hist(t, x);
}

static ld_status after_node(ld_exec *ex, int node_index, void *user) {
    collector *c = user;
    const ld_node *n = &c->g->nodes[node_index];
    for (int k = 0; k < n->nout; k++)
        if (n->out[k] >= 0) observe(c, n->out[k], ld_exec_value(ex, n->out[k]));
    return LD_OK;
}

/* The values to calibrate, in order of first use. */
static ld_status pick_targets(collector *c, const ld_policy *p) {
    ld_graph *g = c->g;
    c->tidx = malloc(sizeof(int) * (g->nvalues + 1));
    c->t = calloc(g->nvalues + 1, sizeof(target));
    if (!c->tidx || !c->t) return ld_oom();
    for (int v = 0; v < g->nvalues; v++) c->tidx[v] = -1;
    for (int i = 0; i < g->nnodes; i++) {
        const ld_node *n = &g->nodes[i];
        if (n->folded || !ld_policy_quantizes(p, n) || (p->pinned && p->pinned[i])) continue;
        for (int k = 0; k < n->nin && k < 8; k++) {
            int v = n->in[k];
            if (!(ld_node_traits(n)->qgemm_inputs & (1u << k))) continue;
            if (v < 0 || g->values[v].const_val || c->tidx[v] >= 0) continue;
            c->tidx[v] = c->nt;
            c->t[c->nt++].value = v;
        }
    }
    return LD_OK;
}

/* Bind one sample (clearing the previous sample's bindings) and observe the graph inputs. */
static ld_status bind_sample(collector *c, ld_exec *ex, const ld_feed *f) {
    ld_graph *g = c->g;
    ld_exec_reset(ex);
    for (int i = 0; i < g->ninputs; i++)
        if (!ld_exec_owns(ex, g->inputs[i])) ld_exec_put(ex, g->inputs[i], NULL, false);
    for (int i = 0; i < f->n; i++)
        LD_TRY(ld_exec_set_input(ex, f->items[i].name, f->items[i].t));
    for (int i = 0; i < g->ninputs; i++) observe(c, g->inputs[i], ld_exec_value(ex, g->inputs[i]));
    return LD_OK;
}

static ld_status run_pass(collector *c, ld_exec *ex, const ld_feed *samples, int nsamples, const ld_calib_dist *d) {
    for (int s = d ? d->rank : 0; s < nsamples; s += d ? d->nranks : 1) {
        ld_status st = bind_sample(c, ex, &samples[s]);
        if (st == LD_OK) st = ld_exec_run(ex);
        if (st != LD_OK)
            return ld_err_prefix(st, "calibration pass %d, sample %d", c->pass, s);
    }
    ld_exec_reset(ex);
    return LD_OK;
}

static double threshold(const target *t, ld_calib_method method, double pct) {
    if (method == LD_CALIB_MINMAX || !t->hist || t->amax <= 0) return t->amax;
    double width = t->amax / LD_CALIB_BINS;
    double a;
    switch (method) {
    case LD_CALIB_ENTROPY: a = ld_calib_entropy(t->hist, LD_CALIB_BINS, width); break;
    case LD_CALIB_PERCENTILE: a = ld_calib_percentile(t->hist, LD_CALIB_BINS, width, pct); break;
    case LD_CALIB_MSE: a = ld_calib_mse(t->hist, LD_CALIB_BINS, width, 127); break;
    default: a = t->amax; break;
    }
    return a > t->amax ? t->amax : a;
}

/* Every process's status: the worst one on all of them (the failing one keeps its message). */
static ld_status sync_status(const ld_calib_dist *d, ld_status st) {
    if (!d) return st;
    int64_t w = st;
    ld_status rs = d->allreduce(d->user, &w, 1, LD_RED_MAX_I64);
    if (st != LD_OK) return st;
    if (rs != LD_OK) return rs;
    return w ? ld_error((ld_status)w, "calibration failed in another process") : LD_OK;
}

/* Pass 1's figures of all processes: max |x|, seen, non-finite counts. */
static ld_status reduce_pass1(collector *c, const ld_calib_dist *d) {
    double *amax = calloc(c->nt + 1, sizeof *amax);
    int64_t *seen = calloc(c->nt + 1, sizeof *seen), *bad = calloc(c->nt + 1, sizeof *bad);
    ld_status st = amax && seen && bad ? LD_OK : ld_oom();
    st = sync_status(d, st);
    for (int i = 0; st == LD_OK && i < c->nt; i++) { amax[i] = c->t[i].amax; seen[i] = c->t[i].seen; bad[i] = c->t[i].nonfinite; }
    if (st == LD_OK) st = d->allreduce(d->user, amax, c->nt, LD_RED_MAX_F64);
    if (st == LD_OK) st = d->allreduce(d->user, seen, c->nt, LD_RED_MAX_I64);
    if (st == LD_OK) st = d->allreduce(d->user, bad, c->nt, LD_RED_SUM_I64);
    for (int i = 0; st == LD_OK && i < c->nt; i++) { c->t[i].amax = amax[i]; c->t[i].seen = seen[i]; c->t[i].nonfinite = bad[i]; }
    free(amax); free(seen); free(bad);
    return st;
}

ld_status ld_calibrate(ld_model *m, const ld_policy *p, const ld_feed *samples, int nsamples,
                       ld_calib_method method, double percentile, ld_calib *out) {
    return ld_calibrate_dist(m, p, samples, nsamples, method, percentile, NULL, out);
}

ld_status ld_calibrate_dist(ld_model *m, const ld_policy *p, const ld_feed *samples, int nsamples,
                            ld_calib_method method, double percentile, const ld_calib_dist *d, ld_calib *out) {
    if (!m || !m->graph || !p || !out) return ld_error(LD_ERR_INTERNAL, "ld_calibrate: missing argument");
    if (nsamples <= 0 || !samples) return ld_error(LD_ERR_USAGE, "calibration needs at least one input sample");
    if ((int)method < 0 || method > LD_CALIB_MSE) return ld_error(LD_ERR_USAGE, "unknown calibration method");
    if (method == LD_CALIB_PERCENTILE) {
        if (percentile <= 0) percentile = 99.99;
        if (!(percentile <= 100))
            return ld_error(LD_ERR_USAGE, "calibration percentile %g is not in (0, 100]", percentile);
    }
    collector c = {.g = m->graph, .pass = 1};
    ld_exec ex = {0};
    ld_status st = pick_targets(&c, p);
    if (st == LD_OK && c.nt == 0) ld_log(1, "calibration: the policy quantizes no activation");
    if (st == LD_OK && c.nt > 0) st = ld_exec_init(&ex, m->graph, NULL);
    if (st == LD_OK && c.nt > 0) {
        ld_exec_set_hook(&ex, after_node, &c);
        double t0 = ld_now_sec();
        st = run_pass(&c, &ex, samples, nsamples, d);
        if (d) st = st != LD_OK ? sync_status(d, st) : reduce_pass1(&c, d);
        ld_log(1, "calibration: %d tensors, pass 1 (max |x|) over %d samples in %.2f s", c.nt, nsamples,
               ld_now_sec() - t0);
        bool need_hist = false;
        for (int i = 0; st == LD_OK && i < c.nt; i++) {
            target *t = &c.t[i];
            if (method == LD_CALIB_MINMAX || !t->seen || t->amax <= 0) continue;
            t->hist = calloc(LD_CALIB_BINS, sizeof(uint64_t));
            if (!t->hist) st = ld_oom();
            t->inv_width = LD_CALIB_BINS / t->amax;
            need_hist = true;
        }
        if (d && need_hist) st = sync_status(d, st);   /* every process decided the same need_hist */
        if (st == LD_OK && need_hist) {
            c.pass = 2;
            t0 = ld_now_sec();
            st = run_pass(&c, &ex, samples, nsamples, d);
            if (d) st = sync_status(d, st);
            for (int i = 0; d && st == LD_OK && i < c.nt; i++)
                if (c.t[i].hist) st = d->allreduce(d->user, c.t[i].hist, LD_CALIB_BINS, LD_RED_SUM_U64);
            ld_log(1, "calibration: pass 2 (histograms) in %.2f s", ld_now_sec() - t0);
        }
    }
    /* Results go to a scratch table first, so that *out is untouched on error. */
    ld_calib res = {0};
    for (int i = 0; st == LD_OK && i < c.nt; i++) {
        const target *t = &c.t[i];
        const char *name = m->graph->values[t->value].name;
        if (!t->seen) {
            ld_log(1, "calibration: '%s' is not a float tensor; not calibrated", name);
            continue;
        }
        if (t->nonfinite)
            ld_log(1, "calibration: '%s': %lld NaN/inf values ignored", name, (long long)t->nonfinite);
        double a = threshold(t, method, percentile);
        ld_log(2, "calibration: %s amax %.8g (max %.8g)", name, a, t->amax);
        st = ld_calib_set(&res, name, (float)a);
    }
    for (int i = 0; st == LD_OK && i < res.n; i++) st = ld_calib_set(out, res.names[i], res.amax[i]);
    ld_calib_clear(&res);
    ld_exec_destroy(&ex);
    for (int i = 0; c.t && i < c.nt; i++) free(c.t[i].hist);
    free(c.t);
    free(c.tidx);
    return st;
}
