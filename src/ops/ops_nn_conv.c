/*
** ops_nn_conv.c — Conv and ConvTranspose (1-D, 2-D, n-D; groups, dilations, strides, pads,
** auto_pad) on float32, built on OpenBLAS sgemm:
**   - pointwise (1x1, stride 1, no pad) Conv: the input image is the GEMM operand directly;
**   - general Conv: im2col into a reusable per-thread scratch, then one sgemm per (image,
**     group) unit; the weights are packed once per call for all the units and the bias is
**     added to the finished sums (ld_gemm_packed);
**   - depthwise Conv (one input channel per group): a direct loop, parallel over planes;
**   - ConvTranspose: sgemm W^T * X into a column buffer, then col2im.
** Threading: with a single unit (batch 1) ld_nn_sgemm splits each product over the threads
** and OpenMP the im2col/col2im; with many units (batches, groups) the units are spread over
** OpenMP threads, each running a single-threaded ld_gemm on its own scratch. Either way the
** numbers are the same (ops_gemm.c).
** Also the geometry helpers (attributes, auto_pad) shared with DeformConv.
*/
#include "ops_gemm.h"
#include "ops_nn.h"
#include "ld_exec.h"

#include <stdlib.h>
#include <string.h>

/* ---- attributes and geometry ---- */

static ld_status conv_ints_attr(const ld_node *node, const char *name, int want, int64_t def,
                                int64_t minv, int64_t *out) {
    int cnt;
    const int64_t *v = ld_attr_ints(node, name, &cnt);
    if (!v) {
        for (int i = 0; i < want; i++) out[i] = def;
        return LD_OK;
    }
    if (cnt != want)
        return ld_error(LD_ERR_DATA, "attribute %s has %d values, expected %d", name, cnt, want);
    for (int i = 0; i < want; i++) {
        if (v[i] < minv)
            return ld_error(LD_ERR_DATA, "attribute %s: value %lld is below %lld", name,
                            (long long)v[i], (long long)minv);
        out[i] = v[i];
    }
    return LD_OK;
}

ld_status ld_nn_conv_attrs(const ld_node *node, const int64_t *kdims, ld_nn_conv *cv) {
    int nsp = cv->nsp, cnt;
    if (nsp < 1 || nsp > LD_NN_MAX_SP)
        return ld_error(LD_ERR_UNSUPPORTED, "convolution with %d spatial dims", nsp);
    const int64_t *ks = ld_attr_ints(node, "kernel_shape", &cnt);
    if (ks && cnt != nsp)
        return ld_error(LD_ERR_DATA, "kernel_shape has %d values, expected %d", cnt, nsp);
    for (int i = 0; i < nsp; i++) {
        if (ks && ks[i] != kdims[i])
            return ld_error(LD_ERR_DATA, "kernel_shape[%d]=%lld differs from the weight's %lld",
                            i, (long long)ks[i], (long long)kdims[i]);
        if (kdims[i] < 1) return ld_error(LD_ERR_DATA, "empty convolution kernel");
        cv->k[i] = kdims[i];
    }
    int64_t pads[2 * LD_NN_MAX_SP];
    LD_TRY(conv_ints_attr(node, "strides", nsp, 1, 1, cv->s));
    LD_TRY(conv_ints_attr(node, "dilations", nsp, 1, 1, cv->d));
    LD_TRY(conv_ints_attr(node, "pads", 2 * nsp, 0, 0, pads));
    for (int i = 0; i < nsp; i++) {
        cv->pb[i] = pads[i];
        cv->pe[i] = pads[nsp + i];
    }
    cv->group = ld_attr_int(node, "group", 1);
    if (cv->group < 1)
        return ld_error(LD_ERR_DATA, "group must be >= 1, got %lld", (long long)cv->group);
    cv->k_size = ld_dims_numel(nsp, cv->k);
    cv->in_size = ld_dims_numel(nsp, cv->in);
    return LD_OK;
}

ld_status ld_nn_conv_forward_dims(const ld_node *node, ld_nn_conv *cv) {
    const char *ap = ld_attr_str(node, "auto_pad", "NOTSET");
    bool upper = !strcmp(ap, "SAME_UPPER"), lower = !strcmp(ap, "SAME_LOWER");
    bool valid = !strcmp(ap, "VALID");
    if (!upper && !lower && !valid && strcmp(ap, "NOTSET") && ap[0])
        return ld_error(LD_ERR_DATA, "unknown auto_pad '%s'", ap);
    for (int i = 0; i < cv->nsp; i++) {
        int64_t dk = (cv->k[i] - 1) * cv->d[i] + 1, in = cv->in[i], s = cv->s[i];
        if (upper || lower) {
            cv->out[i] = (in + s - 1) / s;
            int64_t total = LD_MAX(0, (cv->out[i] - 1) * s + dk - in);
            cv->pb[i] = upper ? total / 2 : total - total / 2;
            cv->pe[i] = total - cv->pb[i];
            continue;
        }
        if (valid) cv->pb[i] = cv->pe[i] = 0;
        int64_t span = in + cv->pb[i] + cv->pe[i] - dk;
        if (span < 0)
            return ld_error(LD_ERR_DATA,
                            "kernel extent %lld exceeds the padded input %lld in spatial dim %d",
                            (long long)dk, (long long)(in + cv->pb[i] + cv->pe[i]), i);
        cv->out[i] = span / s + 1;
    }
    cv->out_size = ld_dims_numel(cv->nsp, cv->out);
    return LD_OK;
}

/* Index range [lo, hi) of idx in [0, n) with 0 <= idx * stride + off < size. */
static void valid_range(int64_t off, int64_t stride, int64_t n, int64_t size, int64_t *lo,
                        int64_t *hi) {
    int64_t l = off >= 0 ? 0 : (-off + stride - 1) / stride;
    int64_t h = size - 1 - off < 0 ? 0 : (size - 1 - off) / stride + 1;
    l = LD_MIN(l, n);
    h = LD_MAX(l, LD_MIN(h, n));
    *lo = l;
    *hi = h;
}

/* A 1-D or 2-D convolution seen as 2-D (1-D: height 1). */
typedef struct conv2d {
    int64_t h, w, oh, ow, kh, kw, sh, sw, dh, dw, ph, pw;
} conv2d;

static conv2d conv_as_2d(const ld_nn_conv *cv) {
    conv2d g;
    if (cv->nsp == 1) {
        g = (conv2d){1, cv->in[0], 1, cv->out[0], 1, cv->k[0], 1, cv->s[0], 1, cv->d[0], 0, cv->pb[0]};
    } else {
        g = (conv2d){cv->in[0], cv->in[1], cv->out[0], cv->out[1], cv->k[0], cv->k[1], cv->s[0],
                     cv->s[1], cv->d[0], cv->d[1], cv->pb[0], cv->pb[1]};
    }
    return g;
}

/* ---- im2col ---- */

/* im2col row when the output width equals the input width at stride 1 (e.g. "same" 3x3):
 * the valid rows are one shifted contiguous copy, then the wrapped edge columns are zeroed. */
static void im2col_row_shift(const conv2d *g, const float *xc, int64_t kh, int64_t iw0,
                             int64_t lo, int64_t hi, float *dst) {
    int64_t ow = g->ow, rlo, rhi;
    valid_range(kh * g->dh - g->ph, 1, g->oh, g->h, &rlo, &rhi);
    int64_t delta = (kh * g->dh - g->ph) * g->w + iw0;   /* dst index + delta = src index */
    int64_t total = g->oh * ow;
    int64_t a = LD_MIN(LD_MAX(rlo * ow, -delta), total);
    int64_t b = LD_MAX(LD_MIN(rhi * ow, g->h * g->w - delta), a);
    memset(dst, 0, sizeof(float) * a);
    memcpy(dst + a, xc + a + delta, sizeof(float) * (b - a));
    memset(dst + b, 0, sizeof(float) * (total - b));
    for (int64_t oh = rlo; oh < rhi; oh++) {
        float *o = dst + oh * ow;
        for (int64_t i = 0; i < lo; i++) o[i] = 0.0f;
        for (int64_t i = hi; i < ow; i++) o[i] = 0.0f;
    }
}

/* One im2col row of a 2-D conv: plane xc (h,w), kernel tap (kh,kw) -> dst (oh*ow). */
static void im2col_row_2d(const conv2d *g, const float *xc, int64_t kh, int64_t kw, float *dst) {
    int64_t iw0 = kw * g->dw - g->pw, lo, hi;
    valid_range(iw0, g->sw, g->ow, g->w, &lo, &hi);
    if (g->sw == 1 && g->sh == 1 && g->ow == g->w) {
        im2col_row_shift(g, xc, kh, iw0, lo, hi, dst);
        return;
    }
    for (int64_t oh = 0; oh < g->oh; oh++) {
        int64_t ih = oh * g->sh - g->ph + kh * g->dh;
        float *o = dst + oh * g->ow;
        if (ih < 0 || ih >= g->h || hi == lo) {
            memset(o, 0, sizeof(float) * g->ow);
            continue;
        }
        const float *xr = xc + ih * g->w;   /* o[ow] = xr[ow * sw + iw0] */
        for (int64_t ow = 0; ow < lo; ow++) o[ow] = 0.0f;
        if (g->sw == 1) {
            memcpy(o + lo, xr + lo + iw0, sizeof(float) * (hi - lo));
        } else {
            for (int64_t ow = lo; ow < hi; ow++) o[ow] = xr[ow * g->sw + iw0];
        }
        for (int64_t ow = hi; ow < g->ow; ow++) o[ow] = 0.0f;
    }
}

/* One im2col row of an n-D conv: channel plane xc, kernel tap index kt -> dst (out_size). */
static void im2col_row_nd(const ld_nn_conv *cv, const float *xc, int64_t kt, float *dst) {
    int nsp = cv->nsp;
    int64_t kidx[LD_NN_MAX_SP], oidx[LD_NN_MAX_SP] = {0}, ist[LD_NN_MAX_SP];
    ld_strides(nsp, cv->in, ist);
    for (int i = nsp - 1; i >= 0; i--) {
        kidx[i] = kt % cv->k[i];
        kt /= cv->k[i];
    }
    for (int64_t p = 0; p < cv->out_size; p++) {
        int64_t off = 0;
        bool inside = true;
        for (int i = 0; i < nsp && inside; i++) {
            int64_t ii = oidx[i] * cv->s[i] - cv->pb[i] + kidx[i] * cv->d[i];
            inside = ii >= 0 && ii < cv->in[i];
            off += ii * ist[i];
        }
        dst[p] = inside ? xc[off] : 0.0f;
        for (int i = nsp - 1; i >= 0 && ++oidx[i] == cv->out[i]; i--) oidx[i] = 0;
    }
}

/* col (cg*k_size, out_size) <- im2col of the cg channels at x; par: use OpenMP threads. */
static void im2col(const ld_nn_conv *cv, const float *x, int64_t cg, float *col, bool par) {
    int64_t rows = cg * cv->k_size;
    conv2d g = conv_as_2d(cv);
    #pragma omp parallel for schedule(static) if (par && rows * cv->out_size > 32768)
    for (int64_t r = 0; r < rows; r++) {
        int64_t c = r / cv->k_size, kt = r % cv->k_size;
        const float *xc = x + c * cv->in_size;
        float *dst = col + r * cv->out_size;
        if (cv->nsp <= 2) im2col_row_2d(&g, xc, kt / g.kw, kt % g.kw, dst);
        else im2col_row_nd(cv, xc, kt, dst);
    }
}

/* ---- Conv ---- */

static ld_status conv_setup(ld_kctx *k, ld_nn_conv *cv) {
    const ld_tensor *x = k->in[0], *w = k->in[1];
    LD_TRY(ld_check_dtype(k, 0, LD_DT(LD_F32)));
    LD_TRY(ld_check_dtype(k, 1, LD_DT(LD_F32)));
    if (x->ndim < 3) return ld_error(LD_ERR_DATA, "Conv input must have rank >= 3, got %d", x->ndim);
    if (w->ndim != x->ndim)
        return ld_error(LD_ERR_DATA, "Conv weight rank %d differs from input rank %d", w->ndim, x->ndim);
    memset(cv, 0, sizeof *cv);
    cv->nsp = x->ndim - 2;
    cv->n = x->dims[0];
    cv->c = x->dims[1];
    cv->m = w->dims[0];
    for (int i = 0; i < cv->nsp; i++) cv->in[i] = x->dims[2 + i];
    LD_TRY(ld_nn_conv_attrs(k->node, w->dims + 2, cv));
    if (cv->c != w->dims[1] * cv->group || cv->m % cv->group)
        return ld_error(LD_ERR_DATA, "Conv channels: input %lld, weight (%lld,%lld,...), group %lld",
                        (long long)cv->c, (long long)w->dims[0], (long long)w->dims[1],
                        (long long)cv->group);
    if (LD_HAS_IN(k, 2)) {
        LD_TRY(ld_check_dtype(k, 2, LD_DT(LD_F32)));
        const ld_tensor *b = k->in[2];
        if (b->ndim != 1 || b->dims[0] != cv->m)
            return ld_error(LD_ERR_DATA, "Conv bias must have shape (%lld)", (long long)cv->m);
    }
    return ld_nn_conv_forward_dims(k->node, cv);
}

ld_status ld_nn_conv_shape(ld_kctx *k) {
    ld_nn_conv cv;
    LD_TRY(conv_setup(k, &cv));
    int64_t dims[LD_MAX_DIMS] = {cv.n, cv.m};
    for (int i = 0; i < cv.nsp; i++) dims[2 + i] = cv.out[i];
    return ld_tensor_set_shape(k->out[0], LD_F32, cv.nsp + 2, dims);
}

/* ---- depthwise Conv ---- */

/* Compiled for AVX-512 / AVX2 too, picked at load time (the build targets baseline x86-64). */
#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__)
#define NN_SIMD_CLONES __attribute__((target_clones("avx512f", "avx2", "default")))
#else
#define NN_SIMD_CLONES
#endif

/* o[j] += wv * xs[j * sx], j < n. */
NN_SIMD_CLONES
static void axpy_strided(float *restrict o, const float *restrict xs, float wv, int64_t n,
                         int64_t sx) {
    if (sx == 1) {
        #pragma omp simd
        for (int64_t j = 0; j < n; j++) o[j] += wv * xs[j];
    } else {
        for (int64_t j = 0; j < n; j++) o[j] += wv * xs[j * sx];
    }
}

/* One output plane of a depthwise conv: yp = bias + sum over taps of w * shifted xp. */
static void depthwise_plane(const conv2d *g, const float *xp, const float *wp, float bias,
                            float *yp) {
    for (int64_t i = 0; i < g->oh * g->ow; i++) yp[i] = bias;
    for (int64_t kh = 0; kh < g->kh; kh++)
        for (int64_t kw = 0; kw < g->kw; kw++) {
            float wv = wp[kh * g->kw + kw];
            int64_t iw0 = kw * g->dw - g->pw, lo, hi;
            valid_range(iw0, g->sw, g->ow, g->w, &lo, &hi);
            if (hi == lo) continue;
            for (int64_t oh = 0; oh < g->oh; oh++) {
                int64_t ih = oh * g->sh - g->ph + kh * g->dh;
                if (ih < 0 || ih >= g->h) continue;
                axpy_strided(yp + oh * g->ow + lo, xp + ih * g->w + lo * g->sw + iw0, wv,
                             hi - lo, g->sw);
            }
        }
}

/* Depthwise (one input channel per group), 1-D/2-D: direct loop over output planes. */
static void conv_depthwise(const ld_nn_conv *cv, const float *x, const float *w, const float *b,
                           float *y) {
    conv2d g = conv_as_2d(cv);
    int64_t planes = cv->n * cv->m, mg = cv->m / cv->group, ohw = cv->out_size;
    #pragma omp parallel for schedule(static) if (planes * ohw * cv->k_size > 65536)
    for (int64_t p = 0; p < planes; p++) {
        int64_t img = p / cv->m, mo = p % cv->m;
        depthwise_plane(&g, x + (img * cv->c + mo / mg) * cv->in_size, w + mo * cv->k_size,
                        b ? b[mo] : 0.0f, y + p * ohw);
    }
}

/* ---- Conv through sgemm ---- */

static bool conv_is_pointwise(const ld_nn_conv *cv) {
    for (int i = 0; i < cv->nsp; i++)
        if (cv->k[i] != 1 || cv->s[i] != 1 || cv->pb[i] || cv->pe[i]) return false;
    return true;
}

/* A Conv lowered to one sgemm per (image, group) unit, the weights of each group packed once
 * for all the images (ld_gemm_pack_a). */
typedef struct conv_job {
    const ld_nn_conv *cv;
    const float *x;
    ld_gemm_a *const *wg;      /* per group: W_g (mg, cg*k_size) packed */
    const float *b;       /* bias (m) or NULL */
    bool pw;              /* pointwise: the input image is the GEMM operand, no im2col */
    float *y;
} conv_job;

/* Unit u: y_g (mg, ohw) = W_g (mg, kc) * col (kc, ohw) [+ bias], col being the caller's
 * im2col buffer or, pointwise, the image itself. The bias is added to each finished sum, as
 * a C pre-filled with it and beta 1 would (ops_gemm.h). */
static void conv_gemm_unit(const void *job, int64_t u, bool par, float *col) {
    const conv_job *j = job;
    const ld_nn_conv *cv = j->cv;
    int64_t img = u / cv->group, gi = u % cv->group;
    int64_t cg = cv->c / cv->group, mg = cv->m / cv->group, kc = cg * cv->k_size;
    int64_t ohw = cv->out_size;
    const float *xg = j->x + (img * cv->c + gi * cg) * cv->in_size;
    float *yg = j->y + (img * cv->m + gi * mg) * ohw;
    if (!j->pw) im2col(cv, xg, cg, col, par);
    ld_nn_sgemm_packed(j->wg[gi], mg, ohw, kc, j->pw ? xg : col, ohw, j->b ? j->b + gi * mg : NULL,
                       yg, ohw);
}

/* Run units 0..units-1 of fn, each with a scratch of `scratch` floats (NULL when 0). Few
 * units: one after the other, each free to use every thread (par = true). Many units: spread
 * over the OpenMP threads, each with its own scratch and single-threaded sgemm calls. */
typedef void (*unit_fn)(const void *job, int64_t u, bool par, float *scratch);

static ld_status run_units(int64_t units, size_t scratch, unit_fn fn, const void *job) {
    if (!ld_nn_split_units(units)) {
        float *buf = scratch ? ld_nn_scratch(0, scratch) : NULL;
        if (scratch && !buf)
            return ld_error(LD_ERR_NOMEM, "out of memory for a %zu-float buffer", scratch);
        for (int64_t u = 0; u < units; u++) fn(job, u, true, buf);
        return LD_OK;
    }
    int nomem = 0;
    #pragma omp parallel
    {
        float *buf = scratch ? ld_nn_scratch(0, scratch) : NULL;
        if (scratch && !buf) {
            #pragma omp atomic write
            nomem = 1;
        }
        #pragma omp for schedule(dynamic, 1)
        for (int64_t u = 0; u < units; u++)
            if (!scratch || buf) fn(job, u, false, buf);
    }
    return nomem ? ld_error(LD_ERR_NOMEM, "out of memory for a %zu-float buffer", scratch) : LD_OK;
}

/* The weights of every group packed for ld_gemm_packed; kept with the node (ld_kstate) when
 * they are the graph's constant, so that a run packs them once, not once per call. */
typedef struct conv_packed {
    ld_kstate base;
    const float *w;       /* the packed weights' source (a constant: never changes) */
    int64_t mg, kc, group;
    ld_gemm_a *wg[];      /* per group: W_g (mg, kc) */
} conv_packed;

static void conv_packed_release(ld_kstate *s) {
    conv_packed *p = (conv_packed *)s;
    for (int64_t gi = 0; gi < p->group; gi++) ld_gemm_a_free(p->wg[gi]);
    free(p);
}

static conv_packed *conv_pack(const float *w, int64_t mg, int64_t kc, int64_t group) {
    conv_packed *p = calloc(1, sizeof *p + (size_t)group * sizeof(ld_gemm_a *));
    if (!p) return NULL;
    *p = (conv_packed){{conv_packed_release}, w, mg, kc, group};
    for (int64_t gi = 0; gi < group; gi++)
        if (!(p->wg[gi] = ld_gemm_pack_a(false, mg, kc, w + gi * mg * kc, kc))) {
            conv_packed_release(&p->base);
            return NULL;
        }
    return p;
}

/* The node's packed weights when input 1 is the graph's constant (packed on first use); NULL
 * when it is not a constant of this graph, or out of memory (the caller packs for the call). */
static conv_packed *conv_node_weights(ld_kctx *k, const float *w, int64_t mg, int64_t kc, int64_t group) {
    const ld_graph *g = k->ex ? ld_exec_graph(k->ex) : NULL;
    const ld_node *n = k->node;
    if (!g || n < g->nodes || n >= g->nodes + g->nnodes || n->in[1] < 0 ||
        g->values[n->in[1]].const_val != k->in[1])
        return NULL;
    ld_node *mn = &g->nodes[n - g->nodes];   /* the graph's own (non-const) node */
    conv_packed *p = (conv_packed *)__atomic_load_n(&mn->kstate, __ATOMIC_ACQUIRE);
    if (p && p->base.release == conv_packed_release && p->w == w && p->mg == mg && p->kc == kc && p->group == group)
        return p;
    if (p) return NULL;   /* some other state: leave it */
    conv_packed *fresh = conv_pack(w, mg, kc, group);
    if (!fresh) return NULL;
    ld_kstate *expect = NULL;
    if (__atomic_compare_exchange_n(&mn->kstate, &expect, &fresh->base, false, __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE))
        return fresh;
    conv_packed_release(&fresh->base);   /* another run installed one first */
    return conv_node_weights(k, w, mg, kc, group);
}

ld_status ld_nn_conv_compute(ld_kctx *k) {
    ld_nn_conv cv;
    LD_TRY(conv_setup(k, &cv));
    const float *x = LD_F32P(k->in[0]), *w = LD_F32P(k->in[1]);
    const float *b = LD_HAS_IN(k, 2) ? LD_F32P(k->in[2]) : NULL;
    float *y = LD_F32P(k->out[0]);
    if (k->out[0]->numel == 0) return LD_OK;
    int64_t cg = cv.c / cv.group, kc = cg * cv.k_size;
    if (cv.m / cv.group > INT32_MAX || kc >= INT32_MAX || cv.out_size > INT32_MAX / 64)
        return ld_error(LD_ERR_UNSUPPORTED, "convolution too large");
    if (cg == 1 && cv.group > 1 && cv.nsp <= 2) {
        conv_depthwise(&cv, x, w, b, y);
        return LD_OK;
    }
    int64_t mg = cv.m / cv.group;
    conv_packed *pk = conv_node_weights(k, w, mg, kc, cv.group), *tmp = NULL;
    if (!pk) {   /* weights computed at run time (or rounded by the emulation): this call only */
        tmp = pk = conv_pack(w, mg, kc, cv.group);
        if (!pk) return ld_oom();
    }
    conv_job job = {&cv, x, pk->wg, b, conv_is_pointwise(&cv), y};
    ld_status st = run_units(cv.n * cv.group, job.pw ? 0 : (size_t)kc * cv.out_size, conv_gemm_unit, &job);
    if (tmp) tmp->base.release(&tmp->base);
    return st;
}

/* ---- ConvTranspose ---- */

/* Geometry of a ConvTranspose; cv->out, pb, pe follow the ONNX reference implementation. */
static ld_status convt_setup(ld_kctx *k, ld_nn_conv *cv) {
    const ld_tensor *x = k->in[0], *w = k->in[1];
    const ld_node *node = k->node;
    LD_TRY(ld_check_dtype(k, 0, LD_DT(LD_F32)));
    LD_TRY(ld_check_dtype(k, 1, LD_DT(LD_F32)));
    if (x->ndim < 3)
        return ld_error(LD_ERR_DATA, "ConvTranspose input must have rank >= 3, got %d", x->ndim);
    if (w->ndim != x->ndim)
        return ld_error(LD_ERR_DATA, "ConvTranspose weight rank %d differs from input rank %d",
                        w->ndim, x->ndim);
    memset(cv, 0, sizeof *cv);
    cv->nsp = x->ndim - 2;
    cv->n = x->dims[0];
    cv->c = x->dims[1];
    for (int i = 0; i < cv->nsp; i++) cv->in[i] = x->dims[2 + i];
    LD_TRY(ld_nn_conv_attrs(node, w->dims + 2, cv));
    cv->m = w->dims[1] * cv->group;
    if (w->dims[0] != cv->c || cv->c % cv->group)
        return ld_error(LD_ERR_DATA, "ConvTranspose channels: input %lld, weight (%lld,...), group %lld",
                        (long long)cv->c, (long long)w->dims[0], (long long)cv->group);
    if (LD_HAS_IN(k, 2)) {
        LD_TRY(ld_check_dtype(k, 2, LD_DT(LD_F32)));
        if (k->in[2]->ndim != 1 || k->in[2]->dims[0] != cv->m)
            return ld_error(LD_ERR_DATA, "ConvTranspose bias must have shape (%lld)", (long long)cv->m);
    }
    int nsp = cv->nsp, cnt;
    int64_t opad[LD_NN_MAX_SP];
    LD_TRY(conv_ints_attr(node, "output_padding", nsp, 0, 0, opad));
    const int64_t *os = ld_attr_ints(node, "output_shape", &cnt);
    if (os && cnt != nsp && cnt != nsp + 2)
        return ld_error(LD_ERR_DATA, "output_shape has %d values, expected %d", cnt, nsp);
    if (os) os += cnt - nsp;
    const char *ap = ld_attr_str(node, "auto_pad", "NOTSET");
    bool upper = !strcmp(ap, "SAME_UPPER"), lower = !strcmp(ap, "SAME_LOWER");
    if (!upper && !lower && strcmp(ap, "VALID") && strcmp(ap, "NOTSET") && ap[0])
        return ld_error(LD_ERR_DATA, "unknown auto_pad '%s'", ap);
    bool auto_pads = (upper || lower) && !ld_node_attr(node, "pads");
    for (int i = 0; i < nsp; i++) {
        int64_t full = cv->s[i] * (cv->in[i] - 1) + opad[i] + (cv->k[i] - 1) * cv->d[i] + 1;
        if (auto_pads) {
            cv->out[i] = os ? os[i] : cv->in[i] * cv->s[i];
            int64_t total = full - cv->out[i];
            int64_t half = total >= 0 ? total / 2 : -((-total + 1) / 2);   /* floor */
            cv->pb[i] = upper ? half : total - half;
            cv->pe[i] = total - cv->pb[i];
        } else {
            cv->out[i] = os ? os[i] : full - cv->pb[i] - cv->pe[i];
        }
        if (cv->out[i] < 0)
            return ld_error(LD_ERR_DATA, "ConvTranspose output dim %d would be %lld", i,
                            (long long)cv->out[i]);
    }
    cv->out_size = ld_dims_numel(nsp, cv->out);
    return LD_OK;
}

ld_status ld_nn_convt_shape(ld_kctx *k) {
    ld_nn_conv cv;
    LD_TRY(convt_setup(k, &cv));
    int64_t dims[LD_MAX_DIMS] = {cv.n, cv.m};
    for (int i = 0; i < cv.nsp; i++) dims[2 + i] = cv.out[i];
    return ld_tensor_set_shape(k->out[0], LD_F32, cv.nsp + 2, dims);
}

/* col2im of one output channel, 2-D: col rows (k_size, in_size) accumulate into yp (oh, ow). */
static void col2im_chan_2d(const conv2d *g, const float *col, float *yp) {
    int64_t ihw = g->h * g->w;
    for (int64_t kh = 0; kh < g->kh; kh++)
        for (int64_t kw = 0; kw < g->kw; kw++) {
            const float *src = col + (kh * g->kw + kw) * ihw;
            int64_t off = kw * g->dw - g->pw, lo, hi;
            valid_range(off, g->sw, g->w, g->ow, &lo, &hi);
            for (int64_t ih = 0; ih < g->h; ih++) {
                int64_t oh = ih * g->sh - g->ph + kh * g->dh;
                if (oh < 0 || oh >= g->oh) continue;
                float *o = yp + oh * g->ow;
                const float *s = src + ih * g->w;
                for (int64_t iw = lo; iw < hi; iw++) o[iw * g->sw + off] += s[iw];
            }
        }
}

/* col2im of one output channel, n-D. */
static void col2im_chan_nd(const ld_nn_conv *cv, const float *col, float *yp) {
    int nsp = cv->nsp;
    int64_t ost[LD_NN_MAX_SP];
    ld_strides(nsp, cv->out, ost);
    for (int64_t kt = 0; kt < cv->k_size; kt++) {
        int64_t kidx[LD_NN_MAX_SP], iidx[LD_NN_MAX_SP] = {0}, t = kt;
        for (int i = nsp - 1; i >= 0; i--) {
            kidx[i] = t % cv->k[i];
            t /= cv->k[i];
        }
        const float *src = col + kt * cv->in_size;
        for (int64_t p = 0; p < cv->in_size; p++) {
            int64_t off = 0;
            bool inside = true;
            for (int i = 0; i < nsp && inside; i++) {
                int64_t o = iidx[i] * cv->s[i] - cv->pb[i] + kidx[i] * cv->d[i];
                inside = o >= 0 && o < cv->out[i];
                off += o * ost[i];
            }
            if (inside) yp[off] += src[p];
            for (int i = nsp - 1; i >= 0 && ++iidx[i] == cv->in[i]; i--) iidx[i] = 0;
        }
    }
}

/* A ConvTranspose unit (image, group): col (mg*k_size, in_size) = W_g^T * X_g, then col2im
 * into the unit's output channels and the bias. */
typedef struct convt_job {
    const ld_nn_conv *cv;
    const float *x, *w, *b;
    float *y;
} convt_job;

static void convt_unit(const void *job, int64_t u, bool par, float *col) {
    const convt_job *j = job;
    const ld_nn_conv *cv = j->cv;
    int64_t img = u / cv->group, gi = u % cv->group;
    int64_t cg = cv->c / cv->group, mg = cv->m / cv->group, rows = mg * cv->k_size;
    const float *xg = j->x + (img * cv->c + gi * cg) * cv->in_size;
    float *yg = j->y + (img * cv->m + gi * mg) * cv->out_size;
    conv2d g = conv_as_2d(cv);
    bool has_col = cg > 0 && cv->in_size > 0;   /* an empty input adds nothing (and col is NULL) */
    if (has_col)
        ld_nn_sgemm(true, false, rows, cv->in_size, cg, 1.0f, j->w + gi * cg * rows, rows, xg,
                    cv->in_size, 0.0f, col, cv->in_size);
    #pragma omp parallel for schedule(static) if (par && rows * cv->in_size > 32768)
    for (int64_t mo = 0; mo < mg; mo++) {
        float *yp = yg + mo * cv->out_size;
        if (has_col) {
            const float *cc = col + mo * cv->k_size * cv->in_size;
            if (cv->nsp <= 2) col2im_chan_2d(&g, cc, yp);
            else col2im_chan_nd(cv, cc, yp);
        } else {
            memset(yp, 0, sizeof(float) * (size_t)cv->out_size);
        }
        if (j->b)
            for (int64_t i = 0; i < cv->out_size; i++) yp[i] += j->b[gi * mg + mo];
    }
}

ld_status ld_nn_convt_compute(ld_kctx *k) {
    ld_nn_conv cv;
    LD_TRY(convt_setup(k, &cv));
    if (k->out[0]->numel == 0) return LD_OK;
    int64_t cg = cv.c / cv.group, rows = cv.m / cv.group * cv.k_size;
    if (rows > INT32_MAX || cv.in_size > INT32_MAX / 64 || cg > INT32_MAX)
        return ld_error(LD_ERR_UNSUPPORTED, "transposed convolution too large");
    convt_job job = {&cv, LD_F32P(k->in[0]), LD_F32P(k->in[1]),
                     LD_HAS_IN(k, 2) ? LD_F32P(k->in[2]) : NULL, LD_F32P(k->out[0])};
    return run_units(cv.n * cv.group, (size_t)rows * cv.in_size, convt_unit, &job);
}
