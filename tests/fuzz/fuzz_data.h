/*
** fuzz_data.h — for the dataset harnesses (fuzz_idx.c, fuzz_image.c): a one-input graph whose
** input declaration is picked from a few shapes `--data` supports, and the dataset loader
** options (resize, crop, normalisation) to go with it, both chosen from the input's length so
** the same input always takes the same path.
*/
#ifndef FUZZ_DATA_H
#define FUZZ_DATA_H

#include "fuzz_util.h"
#include "ld_data.h"

typedef struct fuzz_graph {
    ld_value v;
    int in;
    ld_graph g;
} fuzz_graph;

/* variant: 0 (N,1,28,28), 1 undeclared rank, 2 (N,28,28), 3 (N,784), 4 (N,3,H,W). */
static inline void fuzz_graph_init(fuzz_graph *fg, int variant) {
    memset(fg, 0, sizeof *fg);
    ld_value *v = &fg->v;
    v->name = (char *)"x";
    v->producer = -1;
    v->outer = -1;
    v->is_input = true;
    v->has_decl = variant != 1;
    v->decl_kind = LD_KIND_TENSOR;
    v->decl_dtype = LD_F32;
    v->decl_ndim = -1;
    static const int64_t d0[] = {-1, 1, 28, 28}, d2[] = {-1, 28, 28}, d3[] = {-1, 784}, d4[] = {-1, 3, -1, -1};
    const int64_t *d = NULL;
    int nd = -1;
    switch (variant) {
    case 0: d = d0; nd = 4; break;
    case 2: d = d2; nd = 3; break;
    case 3: d = d3; nd = 2; break;
    case 4: d = d4; nd = 4; break;
    default: break;
    }
    if (d) {
        v->decl_ndim = nd;
        memcpy(v->decl_dims, d, sizeof *d * nd);
    }
    fg->in = 0;
    fg->g.name = (char *)"g";
    fg->g.values = v;
    fg->g.nvalues = 1;
    fg->g.inputs = &fg->in;
    fg->g.ninputs = 1;
}

/* Loader options for variant (see fuzz_graph_init) and a second choice k. */
static inline void fuzz_data_opts(ld_data_opts *o, const char *path, int variant, int k) {
    ld_data_opts_init(o);
    o->path = path;
    o->max_samples = 4;
    if (k & 1) o->batch = 2;
    if (variant == 1 || variant == 4) {
        if (k & 2) { o->resize_h = 12; o->resize_w = 10; }
        if (k & 4) { o->crop_h = 8; o->crop_w = 8; }
        if (variant == 4 && (k & 8)) o->imagenet_norm = true;
    }
}

#endif
