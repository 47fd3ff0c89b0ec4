/*
** inputs.c — collects the feeds a run needs from files and generates the rest.
**
** Generated values: uniform in [lo, hi) from splitmix64 seeded with --seed, drawn input by
** input in the model's input order (float types as float32 then cast; integer types
** rounded down; bool: value >= (lo+hi)/2). A symbolic dimension is --batch if it is the
** first dimension, else 1.
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
            st = samples ? ld_npz_read(o->inputs_file, &samples[0]) : ld_error(LD_ERR_NOMEM, "out of memory");
        } else st = ld_error(LD_ERR_USAGE, "%s: --inputs takes a .npz or a Polygraphy inputs .json", o->inputs_file);
        if (st == LD_OK && ns == 0) st = ld_error(LD_ERR_DATA, "%s: holds no samples", o->inputs_file);
    } else {
        samples = calloc(1, sizeof *samples);
        ns = 1;
        if (!samples) st = ld_error(LD_ERR_NOMEM, "out of memory");
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
            if (!t) { st = ld_error(LD_ERR_NOMEM, "out of memory"); break; }
            st = ld_tensor_copy(t, &tmp);
            ld_tensor *old = ld_feed_get(&samples[s], name);
            if (st == LD_OK && old) { ld_tensor_clear(old); *old = *t; free(t); }
            else if (st == LD_OK) st = ld_feed_add(&samples[s], name, t);
            else free(t);
        }
        ld_tensor_clear(&tmp);
        free(name);
    }
    for (int s = 0; st == LD_OK && s < ns; s++) {
        ld_rng rng = {o->seed + (uint64_t)s * 7919};
        for (int i = 0; st == LD_OK && i < g->ninputs; i++) {
            const ld_value *v = &g->values[g->inputs[i]];
            if (ld_feed_get(&samples[s], v->name)) continue;
            ld_tensor *t = NULL;
            st = generate(v, o, &rng, &t);
            if (st == LD_OK) st = ld_feed_add(&samples[s], v->name, t);
        }
    }
    if (st != LD_OK) { ld_samples_free(samples, ns); return st; }
    *samples_out = samples;
    *nsamples_out = ns;
    return LD_OK;
}
