/*
** inputs.c — collects the feeds a run needs from files and generates the rest.
**
** Generated values: uniform in [lo, hi) from splitmix64 seeded with --seed, drawn input by
** input in the model's input order (float types as float32 then cast; integer types
** rounded down; bool: value >= (lo+hi)/2). A symbolic dimension is --batch if it is the
** first dimension, else 1.
**
** An explicit --batch N (o->split) cuts given arrays along the batch dimension into feeds of N
** rows, in order, so `--inputs x.npz --batch N` makes the same feeds as `--data x.npz --batch N`
** (data.c) and gives identical results; samples are still counted along dim 0.
*/
#include "ld_inputs.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

void ld_input_opts_init(ld_input_opts *o) {
    memset(o, 0, sizeof *o);
    o->lo = 0.0;
    o->hi = 1.0;
    o->seed = 1;
    o->batch = 1;
}

uint64_t ld_rng_next(ld_rng *r) {
    uint64_t z = (r->s += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

double ld_rng_uniform(ld_rng *r) { return (ld_rng_next(r) >> 11) * (1.0 / 9007199254740992.0); }

ld_status ld_parse_range(const char *s, double *lo, double *hi) {
    char *end;
    *lo = strtod(s, &end);
    if (end == s || (*end != ',' && *end != ':'))
        return ld_error(LD_ERR_USAGE, "--val-range takes LO,HI (got '%s')", s);
    const char *p = end + 1;
    *hi = strtod(p, &end);
    if (end == p || *end || !(*hi >= *lo) || !isfinite(*lo) || !isfinite(*hi))
        return ld_error(LD_ERR_USAGE, "--val-range takes LO,HI with LO <= HI (got '%s')", s);
    return LD_OK;
}

static ld_status read_one(const char *path, ld_tensor *t) {
    if (ld_str_ends_with(path, ".pb")) return ld_tensor_read_pb(path, t, NULL);
    if (ld_str_ends_with(path, ".npy")) return ld_npy_read(path, t);
    return ld_error(LD_ERR_USAGE, "%s: --input takes a .npy or ONNX TensorProto .pb file", path);
}

static ld_status generate(const ld_value *v, const ld_input_opts *o, ld_rng *rng, ld_tensor **out) {
    if (!v->has_decl || v->decl_kind != LD_KIND_TENSOR || v->decl_ndim < 0 || v->decl_dtype == LD_UNDEFINED)
        return ld_error(LD_ERR_DATA, "input '%s' has no declared tensor type to generate values for; give it with --input", v->name);
    int64_t dims[LD_MAX_DIMS];
    for (int d = 0; d < v->decl_ndim; d++)
        dims[d] = v->decl_dims[d] >= 0 ? v->decl_dims[d] : (d == 0 ? o->batch : 1);
    ld_tensor *t;
    ld_status st = ld_tensor_create(&t, v->decl_dtype, v->decl_ndim, dims);
    if (st != LD_OK) return ld_err_prefix(st, "generating input '%s'", v->name);
    if (v->decl_dtype == LD_STRING) { ld_tensor_free(t); return ld_error(LD_ERR_UNSUPPORTED, "cannot generate string input '%s'", v->name); }
    for (int64_t i = 0; i < t->numel; i++) {
        double u = o->lo + (o->hi - o->lo) * ld_rng_uniform(rng);
        if (v->decl_dtype == LD_BOOL) ld_tensor_set_f64(t, i, u >= (o->lo + o->hi) / 2);
        else if (ld_dtype_is_int(v->decl_dtype)) ld_tensor_set_f64(t, i, floor(u));
        else ld_tensor_set_f64(t, i, (float)u);
    }
    *out = t;
    return LD_OK;
}

/* Is the tensor given for input v a batch along dim 0 that --batch n may cut? */
static bool splittable(const ld_value *v, const ld_tensor *t, int64_t n) {
    if (!v->has_decl || v->decl_kind != LD_KIND_TENSOR || v->decl_ndim < 1) return false;
    if (t->kind != LD_KIND_TENSOR || t->ndim != v->decl_ndim || t->dims[0] <= n) return false;
    return v->decl_dims[0] < 0 || v->decl_dims[0] == n;
}

static const ld_value *input_value(const ld_graph *g, const char *name) {
    for (int i = 0; i < g->ninputs; i++)
        if (!strcmp(g->values[g->inputs[i]].name, name)) return &g->values[g->inputs[i]];
    return NULL;
}

/* Rows [from, from + k) of t along dim 0, as a new tensor. */
static ld_status slice_rows(const ld_tensor *t, int64_t from, int64_t k, ld_tensor **out) {
    int64_t dims[LD_MAX_DIMS];
    for (int d = 0; d < t->ndim; d++) dims[d] = t->dims[d];
    dims[0] = k;
    ld_tensor *r = ld_tensor_new(t->dtype, t->ndim, dims);
    if (!r) return ld_oom();
    if (t->dtype == LD_STRING) { ld_tensor_free(r); return ld_error(LD_ERR_UNSUPPORTED, "--batch cannot split string tensors"); }
    size_t row = t->dims[0] ? t->nbytes / (size_t)t->dims[0] : 0;
    memcpy(r->data, (const uint8_t *)t->data + (size_t)from * row, (size_t)k * row);
    *out = r;
    return LD_OK;
}

/* Cut every feed whose batch arrays exceed o->split rows into feeds of o->split rows.
 * rows[s] (out) is each new feed's row count, 0 for feeds left whole. */
static ld_status split_feeds(const ld_graph *g, const ld_input_opts *o, const char *what, ld_feed **samples,
                             int *ns, int64_t **rows_out) {
    const int64_t n = o->split;
    ld_feed *in = *samples, *out = NULL;
    int nin = *ns, nout = 0, cap = 0;
    int64_t *rows = NULL;
    ld_status st = LD_OK;
    for (int s = 0; st == LD_OK && s < nin; s++) {
        int64_t m = 0;
        const char *mname = NULL;
        bool fixed = false;
        for (int k = 0; st == LD_OK && k < in[s].n; k++) {
            const ld_value *v = input_value(g, in[s].items[k].name);
            const ld_tensor *t = in[s].items[k].t;
            if (!v || !splittable(v, t, n)) continue;
            if (m && t->dims[0] != m)
                st = ld_error(LD_ERR_DATA, "%s: --batch %lld: inputs '%s' (%lld rows) and '%s' (%lld rows) cannot be cut into the same batches",
                              what, (long long)n, mname, (long long)m, v->name, (long long)t->dims[0]);
            m = t->dims[0];
            mname = v->name;
            fixed = v->decl_dims[0] >= 0;
        }
        if (st != LD_OK) break;
        int64_t keep = m ? (fixed ? m - m % n : m) : 0;
        if (m && fixed && keep < m)
            ld_log(0, "warning: %s: dropping the last %lld of %lld rows: input '%s' has a fixed batch of %lld", what,
                   (long long)(m - keep), (long long)m, mname, (long long)n);
        int64_t pieces = m ? (keep + n - 1) / n : 1;
        if (nout + pieces > INT32_MAX / 2) { st = ld_error(LD_ERR_DATA, "%s: too many batches", what); break; }
        if (nout + pieces > cap) {
            int nc = (int)(nout + pieces) * 2;
            ld_feed *nf = realloc(out, nc * sizeof *nf);
            int64_t *nr = nf ? realloc(rows, nc * sizeof *nr) : NULL;
            if (nf) out = nf;
            if (nr) rows = nr;
            if (!nf || !nr) { st = ld_oom(); break; }
            cap = nc;
        }
        if (!m) {                                   /* nothing to cut: the feed moves over whole */
            out[nout] = in[s];
            rows[nout++] = 0;
            memset(&in[s], 0, sizeof in[s]);
            continue;
        }
        for (int64_t p = 0; st == LD_OK && p < pieces; p++) {
            int64_t from = p * n, k = LD_MIN(n, keep - from);
            ld_feed *f = &out[nout];
            memset(f, 0, sizeof *f);
            rows[nout++] = k;
            for (int j = 0; st == LD_OK && j < in[s].n; j++) {
                const ld_value *v = input_value(g, in[s].items[j].name);
                const ld_tensor *t = in[s].items[j].t;
                ld_tensor *c = NULL;
                if (v && splittable(v, t, n) && t->dims[0] == m) st = slice_rows(t, from, k, &c);
                else if (!(c = calloc(1, sizeof *c))) st = ld_oom();
                else if ((st = ld_tensor_copy(c, t)) != LD_OK) { free(c); c = NULL; }
                if (st == LD_OK) st = ld_feed_add(f, in[s].items[j].name, c);
                else if (c) ld_tensor_free(c);
            }
        }
    }
    ld_samples_free(in, nin);
    if (st != LD_OK) { ld_samples_free(out, nout); free(rows); *samples = NULL; *ns = 0; return st; }
    *samples = out;
    *ns = nout;
    *rows_out = rows;
    return LD_OK;
}

void ld_samples_free(ld_feed *samples, int n) {
    for (int i = 0; samples && i < n; i++) ld_feed_clear(&samples[i]);
    free(samples);
}

static bool is_input(const ld_graph *g, const char *name) {
    for (int i = 0; i < g->ninputs; i++)
        if (!strcmp(g->values[g->inputs[i]].name, name)) return true;
    return false;
}

ld_status ld_inputs_prepare(const ld_graph *g, const ld_input_opts *o, ld_feed **samples_out,
                            int *nsamples_out) {
    ld_feed *samples = NULL;
    int ns = 0;
    ld_status st = LD_OK;
    if (o->inputs_file) {
        if (ld_str_ends_with(o->inputs_file, ".json")) st = ld_pg_read_inputs(o->inputs_file, &samples, &ns);
        else if (ld_str_ends_with(o->inputs_file, ".npz")) {
            samples = calloc(1, sizeof *samples);
            ns = 1;
            st = samples ? ld_npz_read(o->inputs_file, &samples[0]) : ld_oom();
        } else st = ld_error(LD_ERR_USAGE, "%s: --inputs takes a .npz or a Polygraphy inputs .json", o->inputs_file);
        if (st == LD_OK && ns == 0) st = ld_error(LD_ERR_DATA, "%s: holds no samples", o->inputs_file);
    } else {
        samples = calloc(1, sizeof *samples);
        ns = 1;
        if (!samples) st = ld_oom();
    }
    for (int s = 0; st == LD_OK && s < ns; s++)
        for (int k = 0; k < samples[s].n; k++)
            if (!is_input(g, samples[s].items[k].name)) {
                st = ld_error(LD_ERR_DATA, "%s: '%s' is not an input of the model", o->inputs_file, samples[s].items[k].name);
                break;
            }
    for (int i = 0; st == LD_OK && i < o->nspecs; i++) {
        const char *eq = strchr(o->specs[i], '=');
        if (!eq || eq == o->specs[i] || !eq[1]) { st = ld_error(LD_ERR_USAGE, "--input takes NAME=FILE (got '%s')", o->specs[i]); break; }
        char *name = ld_strndup(o->specs[i], eq - o->specs[i]);
        if (!is_input(g, name)) {
            st = ld_error(LD_ERR_DATA, "--input %s: the model has no input named '%s'", o->specs[i], name);
            free(name);
            break;
        }
        ld_tensor tmp = {0};
        st = read_one(eq + 1, &tmp);
        for (int s = 0; st == LD_OK && s < ns; s++) {
            ld_tensor *t = calloc(1, sizeof *t);
            if (!t) { st = ld_oom(); break; }
            st = ld_tensor_copy(t, &tmp);
            ld_tensor *old = ld_feed_get(&samples[s], name);
            if (st == LD_OK && old) { ld_tensor_clear(old); *old = *t; free(t); }
            else if (st == LD_OK) st = ld_feed_add(&samples[s], name, t);
            else free(t);
        }
        ld_tensor_clear(&tmp);
        free(name);
    }
    int64_t *rows = NULL;
    if (st == LD_OK && o->split > 0 && (o->inputs_file || o->nspecs))
        st = split_feeds(g, o, o->inputs_file ? o->inputs_file : "--input", &samples, &ns, &rows);
    for (int s = 0; st == LD_OK && s < ns; s++) {
        ld_rng rng = {o->seed + (uint64_t)s * 7919};
        ld_input_opts os = *o;
        if (rows && rows[s]) os.batch = rows[s];   /* generated inputs match the cut batch */
        for (int i = 0; st == LD_OK && i < g->ninputs; i++) {
            const ld_value *v = &g->values[g->inputs[i]];
            if (ld_feed_get(&samples[s], v->name)) continue;
            ld_tensor *t = NULL;
            st = generate(v, &os, &rng, &t);
            if (st == LD_OK) st = ld_feed_add(&samples[s], v->name, t);
        }
    }
    free(rows);
    if (st != LD_OK) { ld_samples_free(samples, ns); return st; }
    *samples_out = samples;
    *nsamples_out = ns;
    return LD_OK;
}
