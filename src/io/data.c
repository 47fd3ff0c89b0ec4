/*
** data.c — `--data PATH`: finds what kind of dataset PATH is, collects its samples checked
** against the model's input (shape, dtype, no NaN/Inf), and stacks them into batches.
**
** Sources: a folder of images (data_image.c) or of .npy files, one image or .npy file, a
** .npz, an IDX file (data_idx.c), or a Polygraphy inputs .json (any number of inputs; its
** feeds are kept as they are). An array with the input's rank is a batch along axis 0; one
** with a rank less is a single sample. Batches hold o->batch samples (the last one may be
** smaller); an input whose batch dimension is fixed to B gets batches of exactly B and the
** samples left over are dropped with a warning.
*/
#include "data_internal.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

void ld_data_opts_init(ld_data_opts *o) {
    memset(o, 0, sizeof *o);
    o->batch = 1;
}

void ld_strings_free(char **s, int64_t n) {
    for (int64_t i = 0; s && i < n; i++) free(s[i]);
    free(s);
}

void ld_data_free(ld_feed *feeds, int nfeeds, char **names, int64_t nsamples) {
    for (int i = 0; feeds && i < nfeeds; i++) ld_feed_clear(&feeds[i]);
    free(feeds);
    ld_strings_free(names, nsamples);
}

static const char *base_name(const char *path) {
    const char *s = strrchr(path, '/');
    return s ? s + 1 : path;
}

/* ---- checks ---- */

ld_status data_check_finite(const ld_tensor *t, const char *what) {
    if (!ld_dtype_is_float(t->dtype)) return LD_OK;
    for (int64_t i = 0; i < t->numel; i++) {
        double v = t->dtype == LD_F32 ? LD_F32P(t)[i] : ld_tensor_get_f64(t, i);
        if (!isfinite(v))
            return ld_error(LD_ERR_DATA, "%s: holds %s at element %lld; input data must be finite", what,
                            isnan(v) ? "NaN" : "Inf", (long long)i);
    }
    return LD_OK;
}

const char *data_decl_str(const data_target *tg, char *buf, size_t n) {
    if (tg->rank < 0) { snprintf(buf, n, "(rank unknown)"); return buf; }
    size_t o = (size_t)snprintf(buf, n, "(");
    for (int i = 0; i < tg->rank && o < n; i++) {
        const char *sep = i ? "," : "";
        if (tg->dims[i] >= 0) o += (size_t)snprintf(buf + o, n - o, "%s%lld", sep, (long long)tg->dims[i]);
        else o += (size_t)snprintf(buf + o, n - o, "%s%s", sep, tg->v->decl_sym[i] ? tg->v->decl_sym[i] : "?");
    }
    if (o < n) snprintf(buf + o, n - o, ")");
    return buf;
}

static void target_of(const ld_value *v, data_target *tg) {
    bool decl = v->has_decl && v->decl_kind == LD_KIND_TENSOR;
    tg->v = v;
    tg->rank = decl ? v->decl_ndim : -1;
    tg->dims = v->decl_dims;
    tg->dtype = decl && v->decl_dtype != LD_UNDEFINED ? v->decl_dtype : LD_F32;
}

static ld_status sample_dtype_fit(const data_target *tg, ld_tensor *t, const char *what) {
    if (t->dtype == tg->dtype) return LD_OK;
    if (ld_dtype_is_float(t->dtype) && ld_dtype_is_float(tg->dtype)) {
        LD_TRY(data_check_finite(t, what));
        return ld_tensor_convert(t, t, tg->dtype);
    }
    return ld_error(LD_ERR_DATA, "%s: %s data for input '%s', which is %s", what, ld_dtype_name(t->dtype),
                    tg->v->name, ld_dtype_name(tg->dtype));
}

/* Fixed dims of the declaration must match; raw tensors include the batch axis. */
static ld_status sample_shape_fit(const data_target *tg, bool raw, const ld_tensor *t, const char *what) {
    if (tg->rank < 0) return LD_OK;
    int off = raw ? 0 : 1;
    bool ok = t->ndim == tg->rank - off;
    for (int d = 0; ok && d < t->ndim; d++)
        if (tg->dims[d + off] >= 0 && tg->dims[d + off] != t->dims[d]) ok = false;
    if (ok) return LD_OK;
    char a[256], b[256];
    return ld_error(LD_ERR_DATA, "%s: %s shape %s does not match input '%s' declared %s", what,
                    raw ? "tensor" : "sample", ld_shape_str(t, a, sizeof a), tg->v->name,
                    data_decl_str(tg, b, sizeof b));
}

/* ---- the sample set ---- */

bool data_set_full(const data_set *s) { return s->max > 0 && s->n >= s->max; }

ld_status data_set_add(data_set *s, ld_tensor *t, const char *name, const char *what) {
    ld_status st = sample_dtype_fit(s->tg, t, what);
    if (st == LD_OK) st = data_check_finite(t, what);
    if (st == LD_OK) st = sample_shape_fit(s->tg, s->raw, t, what);
    if (st == LD_OK && s->n == s->cap) {
        int64_t cap = s->cap ? 2 * s->cap : 64;
        ld_tensor **nt = realloc(s->t, sizeof *nt * cap);
        if (nt) s->t = nt;
        char **nn = nt ? realloc(s->names, sizeof *nn * cap) : NULL;
        if (nn) { s->names = nn; s->cap = cap; }
        else st = ld_oom();
    }
    char *dup = st == LD_OK ? ld_strdup(name ? name : "") : NULL;
    if (st == LD_OK && !dup) st = ld_oom();
    if (st != LD_OK) { ld_tensor_free(t); return st; }
    s->t[s->n] = t;
    s->names[s->n++] = dup;
    return LD_OK;
}

void data_set_clear(data_set *s) {
    for (int64_t i = 0; i < s->n; i++) ld_tensor_free(s->t[i]);
    ld_strings_free(s->names, s->n);
    free(s->t);
    s->t = NULL;
    s->names = NULL;
    s->n = s->cap = 0;
}

/* ---- arrays: .npy files and .npz members ---- */

/* One array (taken): a sample, a batch along axis 0, or (raw) a whole feed tensor. */
static ld_status array_add(data_set *s, ld_tensor *arr, const char *name, const char *what) {
    const data_target *tg = s->tg;
    if (arr->kind != LD_KIND_TENSOR || arr->dtype == LD_STRING || !ld_dtype_size(arr->dtype)) {
        ld_tensor_free(arr);
        return ld_error(LD_ERR_UNSUPPORTED, "%s: only numeric arrays can be data", what);
    }
    if (s->raw || arr->ndim == tg->rank - 1) return data_set_add(s, arr, name, what);
    if (arr->ndim != tg->rank) {
        char a[256], b[256];
        ld_status st = ld_error(LD_ERR_DATA, "%s: shape %s fits input '%s' declared %s neither as one sample (rank %d) nor as a batch (rank %d)",
                                what, ld_shape_str(arr, a, sizeof a), tg->v->name, data_decl_str(tg, b, sizeof b),
                                tg->rank - 1, tg->rank);
        ld_tensor_free(arr);
        return st;
    }
    int64_t n = arr->dims[0];
    size_t per = n ? arr->nbytes / (size_t)n : 0;
    ld_status st = LD_OK;
    for (int64_t k = 0; k < n && st == LD_OK && !data_set_full(s); k++) {
        ld_tensor *t;
        if ((st = ld_tensor_create(&t, arr->dtype, arr->ndim - 1, arr->dims + 1)) != LD_OK) break;
        memcpy(t->data, (const uint8_t *)arr->data + per * k, per);
        char label[4200], w[4300];
        snprintf(label, sizeof label, n == 1 ? "%s" : "%s[%lld]", name, (long long)k);
        snprintf(w, sizeof w, n == 1 ? "%s" : "%s[%lld]", what, (long long)k);
        st = data_set_add(s, t, label, w);
    }
    ld_tensor_free(arr);
    return st;
}

static ld_status npy_file_add(data_set *s, const char *path) {
    ld_tensor *t = calloc(1, sizeof *t);
    if (!t) return ld_oom();
    ld_status st = ld_npy_read(path, t);
    if (st != LD_OK) { free(t); return ld_err_prefix_path(st, path); }
    return array_add(s, t, base_name(path), path);
}

static ld_status npz_load(data_set *s, const char *path) {
    ld_feed f;
    LD_TRY(ld_npz_read(path, &f));
    ld_status st = f.n ? LD_OK : ld_error(LD_ERR_DATA, "%s: holds no arrays", path);
    for (int i = 0; i < f.n && st == LD_OK && !data_set_full(s); i++) {
        char what[4400];
        snprintf(what, sizeof what, "%s: member '%s'", path, f.items[i].name);
        ld_tensor *t = f.items[i].t;
        f.items[i].t = NULL;
        st = array_add(s, t, f.items[i].name, what);
    }
    ld_feed_clear(&f);
    return st;
}

/* ---- folders ---- */

static int name_cmp(const struct dirent **a, const struct dirent **b) { return strcmp((*a)->d_name, (*b)->d_name); }
static int name_visible(const struct dirent *e) { return e->d_name[0] != '.'; }

/* Sorted paths and base names of the images, or else the .npy files, in dir. */
static ld_status dir_list(const char *dir, char ***paths, char ***names, int *n, bool *images) {
    struct dirent **ents;
    int ne = scandir(dir, &ents, name_visible, name_cmp);
    if (ne < 0) return ld_error(LD_ERR_NOINPUT, "%s: %s", dir, strerror(errno));
    int nimg = 0, nnpy = 0;
    for (int i = 0; i < ne; i++) {
        nimg += data_image_name_is(ents[i]->d_name);
        nnpy += ld_str_ends_with_ci(ents[i]->d_name, ".npy");
    }
    ld_status st = LD_OK;
    if (nimg && nnpy) st = ld_error(LD_ERR_DATA, "%s: holds both images and .npy files; keep one kind per folder", dir);
    else if (!nimg && !nnpy) st = ld_error(LD_ERR_DATA, "%s: holds no .png/.jpg/.jpeg images or .npy files", dir);
    *images = nimg > 0;
    int cnt = nimg + nnpy, k = 0;
    *paths = st == LD_OK ? calloc(cnt, sizeof **paths) : NULL;
    *names = st == LD_OK ? calloc(cnt, sizeof **names) : NULL;
    if (st == LD_OK && (!*paths || !*names)) st = ld_oom();
    for (int i = 0; i < ne; i++) {
        const char *nm = ents[i]->d_name;
        if (st == LD_OK && (*images ? data_image_name_is(nm) : ld_str_ends_with_ci(nm, ".npy"))) {
            size_t len = strlen(dir) + strlen(nm) + 2;
            (*paths)[k] = malloc(len);
            (*names)[k] = ld_strdup(nm);
            if ((*paths)[k]) snprintf((*paths)[k], len, "%s/%s", dir, nm);
            if (!(*paths)[k++] || !(*names)[k - 1]) st = ld_oom();
        }
        free(ents[i]);
    }
    free(ents);
    *n = k;
    return st;
}

/* ---- batching ---- */

static ld_status batch_plan(const data_target *tg, const ld_data_opts *o, bool raw, int64_t n,
                            int64_t *batch, int64_t *keep) {
    *batch = raw ? 1 : o->batch;
    *keep = n;
    if (raw || tg->rank < 1 || tg->dims[0] < 1) return LD_OK;
    int64_t b = tg->dims[0];
    if (o->batch != 1 && o->batch != b)
        return ld_error(LD_ERR_USAGE, "--batch %lld conflicts with input '%s', whose batch dimension is fixed to %lld",
                        (long long)o->batch, tg->v->name, (long long)b);
    *batch = b;
    *keep = n - n % b;
    if (*keep == 0)
        return ld_error(LD_ERR_DATA, "%s: only %lld samples, but input '%s' has a fixed batch of %lld", o->path,
                        (long long)n, tg->v->name, (long long)b);
    if (n % b)
        ld_log(0, "warning: %s: dropping the last %lld of %lld samples: input '%s' has a fixed batch of %lld",
               o->path, (long long)(n % b), (long long)n, tg->v->name, (long long)b);
    return LD_OK;
}

/* Stack samples [from, from+k) into one tensor (freeing them). */
static ld_status batch_stack(data_set *s, int64_t from, int64_t k, ld_tensor **out) {
    const ld_tensor *first = s->t[from];
    if (first->ndim + 1 > LD_MAX_DIMS) return ld_error(LD_ERR_UNSUPPORTED, "sample rank %d is too large", first->ndim);
    for (int64_t j = 1; j < k; j++)
        if (!ld_shape_equal(s->t[from + j], first) || s->t[from + j]->dtype != first->dtype) {
            char a[256], b[256];
            return ld_error(LD_ERR_DATA, "sample '%s' has shape %s but '%s' in the same batch has %s (use --resize or --batch 1)",
                            s->names[from + j], ld_shape_str(s->t[from + j], a, sizeof a), s->names[from],
                            ld_shape_str(first, b, sizeof b));
        }
    int64_t dims[LD_MAX_DIMS] = {k};
    memcpy(dims + 1, first->dims, sizeof(int64_t) * first->ndim);
    ld_tensor *t;
    ld_status st = ld_tensor_create(&t, first->dtype, first->ndim + 1, dims);
    if (st != LD_OK) return ld_err_prefix(st, "stacking a batch of %lld", (long long)k);
    for (int64_t j = 0; j < k; j++) {
        memcpy((uint8_t *)t->data + first->nbytes * j, s->t[from + j]->data, first->nbytes);
        if (j) { ld_tensor_free(s->t[from + j]); s->t[from + j] = NULL; }
    }
    ld_tensor_free(s->t[from]);
    s->t[from] = NULL;
    *out = t;
    return LD_OK;
}

static ld_status data_finish(data_set *s, const ld_data_opts *o, ld_feed **feeds_out, int *nfeeds_out,
                             char ***names_out, int64_t *nsamples_out) {
    if (s->n == 0) return ld_error(LD_ERR_DATA, "%s: holds no samples", o->path);
    int64_t batch, keep;
    LD_TRY(batch_plan(s->tg, o, s->raw, s->n, &batch, &keep));
    int64_t nf = (keep + batch - 1) / batch;
    if (nf > INT32_MAX) return ld_error(LD_ERR_DATA, "%s: too many batches", o->path);
    ld_feed *feeds = calloc(nf, sizeof *feeds);
    if (!feeds) return ld_oom();
    ld_status st = LD_OK;
    for (int64_t i = 0; i < nf && st == LD_OK; i++) {
        int64_t from = i * batch, k = LD_MIN(batch, keep - from);
        ld_tensor *t = NULL;
        if (s->raw) { t = s->t[from]; s->t[from] = NULL; }
        else st = batch_stack(s, from, k, &t);
        if (st == LD_OK && (st = ld_feed_add(&feeds[i], s->tg->v->name, t)) != LD_OK) ld_tensor_free(t);
    }
    if (st != LD_OK) { ld_data_free(feeds, (int)nf, NULL, 0); return st; }
    for (int64_t i = keep; i < s->n; i++) {      /* dropped by a fixed batch */
        ld_tensor_free(s->t[i]);
        s->t[i] = NULL;
        free(s->names[i]);
        s->names[i] = NULL;
    }
    *feeds_out = feeds;
    *nfeeds_out = (int)nf;
    *nsamples_out = keep;
    if (names_out) *names_out = s->names;
    else ld_strings_free(s->names, keep);
    s->names = NULL;
    s->n = 0;
    return LD_OK;
}

/* ---- Polygraphy inputs JSON: feeds as they are, any number of inputs ---- */

/* Samples in one feed: the batch dim of the first input when it has one. */
static int64_t pg_feed_count(const ld_graph *g, const ld_feed *f) {
    const ld_value *v = &g->values[g->inputs[0]];
    const ld_tensor *t = ld_feed_get(f, v->name);
    if (t && v->has_decl && v->decl_ndim >= 2 && t->ndim == v->decl_ndim) return t->dims[0];
    return 1;
}

static ld_status pg_feed_check(const ld_graph *g, ld_feed *f, const char *path, int k) {
    char what[4300];
    for (int i = 0; i < f->n; i++) {
        bool known = false;
        for (int j = 0; j < g->ninputs && !known; j++) known = !strcmp(g->values[g->inputs[j]].name, f->items[i].name);
        if (!known) return ld_error(LD_ERR_DATA, "%s: feed %d: '%s' is not an input of the model", path, k, f->items[i].name);
    }
    for (int i = 0; i < g->ninputs; i++) {
        data_target tg;
        target_of(&g->values[g->inputs[i]], &tg);
        ld_tensor *t = ld_feed_get(f, tg.v->name);
        snprintf(what, sizeof what, "%s: feed %d, input '%s'", path, k, tg.v->name);
        if (!t) return ld_error(LD_ERR_DATA, "%s: feed %d lacks input '%s'", path, k, tg.v->name);
        LD_TRY(sample_dtype_fit(&tg, t, what));
        LD_TRY(data_check_finite(t, what));
        LD_TRY(sample_shape_fit(&tg, true, t, what));
    }
    return LD_OK;
}

static ld_status pg_load(const ld_graph *g, const ld_data_opts *o, ld_feed **feeds_out, int *nfeeds_out,
                         char ***names_out, int64_t *nsamples_out) {
    ld_feed *feeds;
    int nf;
    LD_TRY(ld_pg_read_inputs(o->path, &feeds, &nf));
    ld_status st = nf ? LD_OK : ld_error(LD_ERR_DATA, "%s: holds no samples", o->path);
    if (st == LD_OK && g->ninputs == 0) st = ld_error(LD_ERR_DATA, "the model has no runtime inputs to feed");
    int64_t total = 0;
    int keep = 0;
    for (; keep < nf && st == LD_OK && (o->max_samples <= 0 || total < o->max_samples); keep++) {
        st = pg_feed_check(g, &feeds[keep], o->path, keep);
        total += pg_feed_count(g, &feeds[keep]);
    }
    char **names = st == LD_OK ? calloc(total ? total : 1, sizeof *names) : NULL;
    if (st == LD_OK && !names) st = ld_oom();
    for (int64_t i = 0; st == LD_OK && i < total; i++)
        if (!(names[i] = ld_strdup(""))) st = ld_oom();
    for (int i = keep; i < nf; i++) ld_feed_clear(&feeds[i]);
    if (st != LD_OK) { ld_data_free(feeds, keep, names, total); return st; }
    *feeds_out = feeds;
    *nfeeds_out = keep;
    *nsamples_out = total;
    if (names_out) *names_out = names;
    else ld_strings_free(names, total);
    return LD_OK;
}

/* ---- entry ---- */

static bool opts_have_image_prep(const ld_data_opts *o) {
    return o->resize_h || o->resize_w || o->crop_h || o->crop_w || o->nmean || o->nstd || o->imagenet_norm;
}

static ld_status target_single(const ld_graph *g, data_target *tg) {
    if (g->ninputs != 1) {
        char list[512] = "";
        for (int i = 0, o = 0; i < g->ninputs && o < (int)sizeof list - 1; i++)
            o += snprintf(list + o, sizeof list - o, "%s'%s'", i ? ", " : "", g->values[g->inputs[i]].name);
        return ld_error(LD_ERR_USAGE, "--data needs a model with exactly one runtime input, but this one has %d%s%s%s "
                        "(give several inputs with a Polygraphy inputs .json)", g->ninputs,
                        g->ninputs ? " (" : "", list, g->ninputs ? ")" : "");
    }
    target_of(&g->values[g->inputs[0]], tg);
    return LD_OK;
}

/* Images and IDX: the input must be NCHW (or (N,H,W) / (N,H*W) for IDX). */
static ld_status image_prep(const data_target *tg, const ld_data_opts *o, bool idx, data_prep *p) {
    if (!(tg->rank == 4 || tg->rank == -1 || (idx && (tg->rank == 3 || tg->rank == 2)))) {
        char d[256];
        return ld_error(LD_ERR_DATA, "%s: image data is NCHW, but input '%s' is declared %s", o->path, tg->v->name,
                        data_decl_str(tg, d, sizeof d));
    }
    return data_prep_init(tg, o, idx ? 1 : 3, p);
}

static ld_status dir_load(data_set *s, const ld_data_opts *o) {
    char **paths = NULL, **names = NULL;
    int n = 0;
    bool images = false;
    data_prep p;
    ld_status st = dir_list(o->path, &paths, &names, &n, &images);
    if (st == LD_OK && images && (st = image_prep(s->tg, o, false, &p)) == LD_OK)
        st = data_images_load(paths, names, n, &p, s);
    if (st == LD_OK && !images && opts_have_image_prep(o))
        st = ld_error(LD_ERR_USAGE, "--resize, --center-crop, --mean, --std and --imagenet-norm apply to image and IDX data only");
    s->raw = !images && s->tg->rank <= 0;
    for (int i = 0; st == LD_OK && !images && i < n && !data_set_full(s); i++) st = npy_file_add(s, paths[i]);
    ld_strings_free(paths, n);
    ld_strings_free(names, n);
    return st;
}

/* One image file, or an IDX file of images. */
static ld_status image_file_load(data_set *s, const ld_data_opts *o, bool idx) {
    data_prep p;
    LD_TRY(image_prep(s->tg, o, idx, &p));
    if (idx) return data_idx_images_load(o->path, s->tg, &p, s);
    char *path = (char *)o->path, *name = (char *)base_name(o->path);
    return data_images_load(&path, &name, 1, &p, s);
}

ld_status ld_data_load(const ld_graph *g, const ld_data_opts *o, ld_feed **feeds, int *nfeeds,
                       char ***names, int64_t *nsamples) {
    *feeds = NULL;
    *nfeeds = 0;
    *nsamples = 0;
    if (names) *names = NULL;
    if (!o->path || !*o->path) return ld_error(LD_ERR_USAGE, "--data needs a path");
    if (o->batch < 1) return ld_error(LD_ERR_USAGE, "--batch must be at least 1 (got %lld)", (long long)o->batch);
    if (o->max_samples < 0) return ld_error(LD_ERR_USAGE, "--max-samples must not be negative");
    struct stat sb;
    if (stat(o->path, &sb) != 0) return ld_error(LD_ERR_NOINPUT, "%s: %s", o->path, strerror(errno));
    bool dir = S_ISDIR(sb.st_mode);
    bool json = !dir && ld_str_ends_with_ci(o->path, ".json"), npz = !dir && ld_str_ends_with_ci(o->path, ".npz");
    bool npy = !dir && ld_str_ends_with_ci(o->path, ".npy"), image = !dir && data_image_name_is(o->path);
    bool idx = !dir && !json && !npz && !npy && !image && data_is_idx(o->path);
    if (!dir && !json && !npz && !npy && !image && !idx)
        return ld_error(LD_ERR_USAGE, "%s: --data takes a folder of images or .npy files, an image, a .npy, a .npz, "
                        "a Polygraphy inputs .json or an IDX file (.gz too)", o->path);
    if ((json || npz || npy) && opts_have_image_prep(o))
        return ld_error(LD_ERR_USAGE, "--resize, --center-crop, --mean, --std and --imagenet-norm apply to image and IDX data only");
    if (json) return pg_load(g, o, feeds, nfeeds, names, nsamples);
    data_target tg;
    LD_TRY(target_single(g, &tg));
    data_set s = {.tg = &tg, .max = o->max_samples, .raw = (npz || npy) && tg.rank <= 0};
    ld_status st;
    if (npz) st = npz_load(&s, o->path);
    else if (npy) st = npy_file_add(&s, o->path);
    else if (idx || image) st = image_file_load(&s, o, idx);
    else st = dir_load(&s, o);
    if (st == LD_OK) st = data_finish(&s, o, feeds, nfeeds, names, nsamples);
    data_set_clear(&s);
    return st;
}
