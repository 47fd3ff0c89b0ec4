/*
** ops_pool_resize.c — Resize (opset 10 and 11+) and the deprecated Upsample (opset 7, 9).
**
** Every output coordinate along every axis maps to an input coordinate (the
** coordinate_transformation_mode), from which a small set of (input index, weight) taps is
** derived: 1 for nearest, 2 for linear, 4 for cubic, more for antialiased downsampling. The
** taps follow the ONNX reference implementation exactly (edge-clamped neighbours, ratio in
** (0, 1], exclude_outside renormalisation). Interpolation is separable, so the float path runs
** one 1-D pass per resized axis; nearest without cropping is a pure index gather of any dtype.
*/
#include "ops_pool.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define RS_PAR_MIN 32768

enum { RS_NEAREST, RS_LINEAR, RS_CUBIC };
enum { CT_HALF_PIXEL, CT_HALF_PIXEL_SYM, CT_PYTORCH_HALF_PIXEL, CT_ALIGN_CORNERS, CT_ASYMMETRIC,
       CT_TF_CROP };
enum { NM_ROUND_FLOOR, NM_ROUND_CEIL, NM_FLOOR, NM_CEIL, NM_SIMPLE };

typedef struct rs_params {
    int mode, ctm, nearest;
    double cubic_a;
    bool exclude_outside, antialias;
    float extrap;
    int rank;
    int64_t in[LD_MAX_DIMS], out[LD_MAX_DIMS];
    double scale[LD_MAX_DIMS], roi0[LD_MAX_DIMS], roi1[LD_MAX_DIMS];
} rs_params;

/* Index of s in names (n entries), or -1. */
static int rs_lookup(const char *s, const char *const *names, int n) {
    for (int i = 0; i < n; i++)
        if (!strcmp(s, names[i])) return i;
    return -1;
}

static ld_status rs_attrs(const ld_node *n, bool legacy, rs_params *p) {
    static const char *const modes[] = {"nearest", "linear", "cubic", "bilinear", "trilinear", "bicubic"};
    static const int mode_ids[] = {RS_NEAREST, RS_LINEAR, RS_CUBIC, RS_LINEAR, RS_LINEAR, RS_CUBIC};
    static const char *const ctms[] = {"half_pixel", "half_pixel_symmetric", "pytorch_half_pixel",
                                       "align_corners", "asymmetric", "tf_crop_and_resize"};
    static const char *const nms[] = {"round_prefer_floor", "round_prefer_ceil", "floor", "ceil"};
    const char *m = ld_attr_str(n, "mode", "nearest");
    int i = rs_lookup(m, modes, 6);
    if (i < 0) return ld_error(LD_ERR_DATA, "unknown mode '%s'", m);
    p->mode = mode_ids[i];
    if (legacy) {        /* Upsample, Resize-10: asymmetric coordinates, no other attributes */
        p->ctm = CT_ASYMMETRIC;
        p->nearest = NM_SIMPLE;
        p->cubic_a = -0.75;
        return LD_OK;
    }
    const char *c = ld_attr_str(n, "coordinate_transformation_mode", "half_pixel");
    if ((p->ctm = rs_lookup(c, ctms, 6)) < 0)
        return ld_error(LD_ERR_DATA, "unknown coordinate_transformation_mode '%s'", c);
    const char *nm = ld_attr_str(n, "nearest_mode", "round_prefer_floor");
    if ((p->nearest = rs_lookup(nm, nms, 4)) < 0) return ld_error(LD_ERR_DATA, "unknown nearest_mode '%s'", nm);
    p->cubic_a = ld_attr_float(n, "cubic_coeff_a", -0.75f);
    p->exclude_outside = ld_attr_int(n, "exclude_outside", 0) != 0;
    p->extrap = ld_attr_float(n, "extrapolation_value", 0.0f);
    p->antialias = ld_attr_int(n, "antialias", 0) != 0 && p->mode != RS_NEAREST;
    return LD_OK;
}

/* The axes the scales/sizes/roi inputs refer to (attribute `axes`, default all). */
static ld_status rs_axes(const ld_node *n, int rank, int *axes, int *naxes) {
    int cnt;
    const int64_t *a = ld_attr_ints(n, "axes", &cnt);
    if (!a) {
        for (int i = 0; i < rank; i++) axes[i] = i;
        *naxes = rank;
        return LD_OK;
    }
    if (cnt > rank) return ld_error(LD_ERR_DATA, "axes has %d values for rank %d", cnt, rank);
    for (int i = 0; i < cnt; i++) {
        LD_TRY(ld_axis_norm(a[i], rank, &axes[i]));
        for (int j = 0; j < i; j++)
            if (axes[j] == axes[i]) return ld_error(LD_ERR_DATA, "axes has a repeated axis %d", axes[i]);
    }
    *naxes = cnt;
    return LD_OK;
}

/* Output sizes from `sizes`, with keep_aspect_ratio_policy. */
static ld_status rs_from_sizes(const ld_node *n, const ld_tensor *t, const int *axes, int naxes, rs_params *p) {
    int64_t sz[LD_MAX_DIMS];
    int cnt;
    LD_TRY(ld_tensor_to_i64(t, sz, LD_MAX_DIMS, &cnt));
    if (cnt != naxes) return ld_error(LD_ERR_DATA, "sizes has %d values for %d axes", cnt, naxes);
    const char *pol = ld_attr_str(n, "keep_aspect_ratio_policy", "stretch");
    bool larger = !strcmp(pol, "not_larger"), smaller = !strcmp(pol, "not_smaller");
    if (!larger && !smaller && strcmp(pol, "stretch"))
        return ld_error(LD_ERR_DATA, "unknown keep_aspect_ratio_policy '%s'", pol);
    double keep = larger ? INFINITY : 0;
    for (int i = 0; i < naxes; i++) {
        int a = axes[i];
        if (sz[i] < 0) return ld_error(LD_ERR_DATA, "sizes[%d] is negative", i);
        if (p->in[a] == 0 && sz[i] > 0) return ld_error(LD_ERR_DATA, "cannot resize an empty axis %d", a);
        p->scale[a] = p->in[a] ? (double)sz[i] / (double)p->in[a] : 1;
        p->out[a] = sz[i];
        keep = larger ? fmin(keep, p->scale[a]) : fmax(keep, p->scale[a]);
    }
    if (!larger && !smaller) return LD_OK;
    for (int i = 0; i < naxes; i++) {
        int a = axes[i];
        p->scale[a] = keep;
        p->out[a] = (int64_t)(keep * (double)p->in[a] + 0.5);
    }
    return LD_OK;
}

static ld_status rs_from_scales(const ld_tensor *t, const int *axes, int naxes, rs_params *p) {
    if (t->numel != naxes)
        return ld_error(LD_ERR_DATA, "scales has %lld values for %d axes", (long long)t->numel, naxes);
    if (!ld_dtype_is_float(t->dtype)) return ld_error(LD_ERR_DATA, "scales must be a float tensor");
    for (int i = 0; i < naxes; i++) {
        int a = axes[i];
        double s = (float)ld_tensor_get_f64(t, i);
        if (!(s > 0) || isinf(s)) return ld_error(LD_ERR_DATA, "scales[%d] = %g is not a positive number", i, s);
        double span = p->ctm == CT_TF_CROP ? p->roi1[a] - p->roi0[a] : 1;
        p->scale[a] = s;
        p->out[a] = (int64_t)floor((double)p->in[a] * span * s);
    }
    return LD_OK;
}

static ld_status rs_roi(const ld_tensor *t, const int *axes, int naxes, rs_params *p) {
    if (t->numel != 2 * naxes)
        return ld_error(LD_ERR_DATA, "roi has %lld values, expected %d", (long long)t->numel, 2 * naxes);
    for (int i = 0; i < naxes; i++) {
        p->roi0[axes[i]] = ld_tensor_get_f64(t, i);
        p->roi1[axes[i]] = ld_tensor_get_f64(t, naxes + i);
    }
    return LD_OK;
}

/* Read attributes and the roi/scales/sizes inputs; LD_DYNAMIC at plan time without values. */
static ld_status rs_params_init(ld_kctx *k, rs_params *p) {
    const ld_node *n = k->node;
    const ld_tensor *x = k->in[0];
    bool upsample = !strcmp(n->op_type, "Upsample");
    memset(p, 0, sizeof *p);
    if (x->ndim < 1) return ld_error(LD_ERR_DATA, "%s needs an input of rank >= 1", n->op_type);
    if (x->dtype == LD_STRING || !ld_dtype_size(x->dtype))
        return ld_error(LD_ERR_UNSUPPORTED, "%s on %s", n->op_type, ld_dtype_name(x->dtype));
    LD_TRY(rs_attrs(n, upsample || n->opset < 11, p));
    p->rank = x->ndim;
    for (int i = 0; i < x->ndim; i++) {
        p->in[i] = p->out[i] = x->dims[i];
        p->scale[i] = 1;
        p->roi0[i] = 0;
        p->roi1[i] = 1;
    }
    int axes[LD_MAX_DIMS], naxes = x->ndim;
    for (int i = 0; i < naxes; i++) axes[i] = i;
    if (upsample && n->opset < 9) {
        int cnt;
        const float *s = ld_attr_floats(n, "scales", &cnt);
        ld_tensor t = {.kind = LD_KIND_TENSOR, .dtype = LD_F32, .ndim = 1, .dims = {cnt}, .numel = cnt,
                       .data = (void *)s};
        return rs_from_scales(&t, axes, naxes, p);
    }
    if (upsample || n->opset < 11) {
        if (!LD_HAS_IN(k, 1)) return ld_error(LD_ERR_DATA, "%s needs the scales input", n->op_type);
        LD_NEED_DATA(k, 1);
        return rs_from_scales(k->in[1], axes, naxes, p);
    }
    LD_TRY(rs_axes(n, x->ndim, axes, &naxes));
    if (p->ctm == CT_TF_CROP && LD_HAS_IN(k, 1) && k->in[1]->numel > 0) {
        LD_NEED_DATA(k, 1);
        LD_TRY(rs_roi(k->in[1], axes, naxes, p));
    }
    if (LD_HAS_IN(k, 2) && k->in[2]->numel > 0) {
        if (LD_HAS_IN(k, 3) && k->in[3]->numel > 0)
            return ld_error(LD_ERR_DATA, "Resize takes scales or sizes, not both");
        LD_NEED_DATA(k, 2);
        return rs_from_scales(k->in[2], axes, naxes, p);
    }
    if (LD_HAS_IN(k, 3) && k->in[3]->numel > 0) {
        LD_NEED_DATA(k, 3);
        return rs_from_sizes(n, k->in[3], axes, naxes, p);
    }
    return ld_error(LD_ERR_DATA, "Resize needs a non-empty scales or sizes input");
}

ld_status ld_pool_resize_shape(ld_kctx *k) {
    rs_params p;
    LD_TRY(rs_params_init(k, &p));
    return ld_tensor_set_shape(k->out[0], k->in[0]->dtype, p.rank, p.out);
}

/* ---- per-axis taps ---- */

typedef struct rs_axis {
    int64_t in, out;
    int ntap;
    int64_t *idx;            /* (out, ntap) input indices, clamped into [0, in) */
    float *w;                /* (out, ntap) weights */
    uint8_t *ext;            /* (out) outside the crop: extrapolation_value; NULL if never */
    bool identity;
} rs_axis;

/* Input coordinate of output coordinate x along axis a (reference formulas, in double). */
static double rs_coord(const rs_params *p, int a, int64_t x) {
    double in = (double)p->in[a], s = p->scale[a], outf = s * in, xd = (double)x;
    switch (p->ctm) {
    case CT_HALF_PIXEL: return (xd + 0.5) / s - 0.5;
    case CT_HALF_PIXEL_SYM: {
        double adj = (double)p->out[a] / outf, off = in / 2 * (1 - adj);
        return off + (xd + 0.5) / s - 0.5;
    }
    case CT_PYTORCH_HALF_PIXEL: return p->out[a] > 1 ? (xd + 0.5) / s - 0.5 : 0;
    case CT_ALIGN_CORNERS: return outf == 1 ? 0 : xd * (in - 1) / (outf - 1);
    case CT_ASYMMETRIC: return xd / s;
    default: {
        double r0 = p->roi0[a], r1 = p->roi1[a];
        double xo = outf == 1 ? (r1 - r0) * (in - 1) / 2 : xd * (r1 - r0) * (in - 1) / (outf - 1);
        return xo + r0 * (in - 1);
    }
    }
}

static int64_t rs_nearest_index(const rs_params *p, int a, double xo) {
    double fl = floor(xo), r = xo - fl;
    switch (p->nearest) {
    case NM_ROUND_FLOOR: return (int64_t)(r <= 0.5 ? fl : fl + 1);
    case NM_ROUND_CEIL: return (int64_t)(r < 0.5 ? fl : fl + 1);
    case NM_FLOOR: return (int64_t)fl;
    case NM_CEIL: return (int64_t)ceil(xo);
    default: return (int64_t)(p->scale[a] < 1 ? ceil(xo) : fl);    /* Upsample / Resize-10 */
    }
}

static double rs_cubic_kernel(double x, double A) {
    x = fabs(x);
    if (x <= 1) return ((A + 2) * x - (A + 3)) * x * x + 1;
    if (x < 2) return ((A * x - 5 * A) * x + 8 * A) * x - 4 * A;
    return 0;
}

/* Tap count of the mode; tap t sits at floor + first + t. */
static void rs_tap_span(const rs_params *p, double scale, int *ntap, int *first) {
    double s = fmin(scale, 1.0);
    if (p->mode == RS_NEAREST) { *ntap = 1; *first = 0; }
    else if (p->mode == RS_LINEAR && !p->antialias) { *ntap = 2; *first = 0; }
    else if (p->mode == RS_CUBIC && !p->antialias) { *ntap = 4; *first = -1; }
    else if (p->mode == RS_LINEAR) { *first = (int)floor(-1 / s) + 1; *ntap = 2 - 2 * *first; }
    else { *first = (int)floor(-2 / s) + 1; *ntap = 2 - 2 * *first; }
}

/* Weights of the taps around xo = fl + r, r in (0, 1]. */
static void rs_weights(const rs_params *p, double scale, double r, int ntap, int first, double *w) {
    double A = p->cubic_a, s = fmin(scale, 1.0);
    if (p->mode == RS_LINEAR && !p->antialias) {
        w[0] = 1 - r;
        w[1] = r;
    } else if (p->mode == RS_CUBIC && !p->antialias) {
        w[0] = ((A * (r + 1) - 5 * A) * (r + 1) + 8 * A) * (r + 1) - 4 * A;
        w[1] = ((A + 2) * r - (A + 3)) * r * r + 1;
        w[2] = ((A + 2) * (1 - r) - (A + 3)) * (1 - r) * (1 - r) + 1;
        w[3] = ((A * ((1 - r) + 1) - 5 * A) * ((1 - r) + 1) + 8 * A) * ((1 - r) + 1) - 4 * A;
    } else {
        double sum = 0;
        for (int t = 0; t < ntap; t++) {
            double d = ((first + t) - r) * s;
            w[t] = p->mode == RS_LINEAR ? fmin(fmax(1 - fabs(d), 0), 1) : rs_cubic_kernel(d, A);
            sum += w[t];
        }
        for (int t = 0; t < ntap; t++) w[t] /= sum;
    }
}

static ld_status rs_axis_init(const rs_params *p, int a, rs_axis *ax) {
    int ntap, first;
    rs_tap_span(p, p->scale[a], &ntap, &first);
    ax->in = p->in[a];
    ax->out = p->out[a];
    ax->ntap = ntap;
    ax->idx = ld_malloc(sizeof(int64_t) * ntap * (size_t)ax->out + 1);
    ax->w = ld_malloc(sizeof(float) * ntap * (size_t)ax->out + 1);
    ax->ext = p->ctm == CT_TF_CROP ? ld_calloc((size_t)ax->out + 1, 1) : NULL;
    double *w = ld_malloc(sizeof(double) * ntap);
    if (!ax->idx || !ax->w || !w || (p->ctm == CT_TF_CROP && !ax->ext)) {
        free(w);
        return ld_oom();
    }
    bool ident = ax->in == ax->out;
    for (int64_t o = 0; o < ax->out; o++) {
        int64_t *ix = ax->idx + o * ntap;
        float *wf = ax->w + o * ntap;
        double xo = rs_coord(p, a, o);
        if (ax->ext && (xo < 0 || xo > (double)(ax->in - 1))) {
            ax->ext[o] = 1;
            ident = false;
            for (int t = 0; t < ntap; t++) { ix[t] = 0; wf[t] = 0; }
            continue;
        }
        xo = fmin(fmax(xo, -2.0 - ntap), (double)ax->in + 1 + ntap);   /* NaN/huge roi: no UB */
        if (p->mode == RS_NEAREST) {
            w[0] = 1;
            ix[0] = rs_nearest_index(p, a, xo);
        } else {
            double fl = floor(xo), r = xo - fl;
            if (r == 0) { fl -= 1; r = 1; }
            rs_weights(p, p->scale[a], r, ntap, first, w);
            for (int t = 0; t < ntap; t++) ix[t] = (int64_t)fl + first + t;
        }
        if (p->exclude_outside) {
            double sum = 0;
            for (int t = 0; t < ntap; t++) {
                if (ix[t] < 0 || ix[t] >= ax->in) w[t] = 0;
                sum += w[t];
            }
            if (sum != 0) for (int t = 0; t < ntap; t++) w[t] /= sum;
        }
        for (int t = 0; t < ntap; t++) {
            ix[t] = ix[t] < 0 ? 0 : ix[t] >= ax->in ? ax->in - 1 : ix[t];
            wf[t] = (float)w[t];
            if (wf[t] != 0 && ix[t] != o) ident = false;
        }
        double sum = 0;
        for (int t = 0; t < ntap; t++) sum += ix[t] == o ? wf[t] : 0;
        if (sum != 1) ident = false;
    }
    free(w);
    ax->identity = ident;
    return LD_OK;
}

static void rs_axis_free(rs_axis *ax) {
    free(ax->idx);
    free(ax->w);
    free(ax->ext);
}

/* ---- nearest: index gather of any fixed-size dtype ---- */

static void rs_gather_row(const char *src, char *dst, const int64_t *lx, int64_t wout, size_t es) {
    switch (es) {
    case 1: for (int64_t o = 0; o < wout; o++) ((uint8_t *)dst)[o] = ((const uint8_t *)src)[lx[o]]; break;
    case 2: for (int64_t o = 0; o < wout; o++) ((uint16_t *)dst)[o] = ((const uint16_t *)src)[lx[o]]; break;
    case 4: for (int64_t o = 0; o < wout; o++) ((uint32_t *)dst)[o] = ((const uint32_t *)src)[lx[o]]; break;
    case 8: for (int64_t o = 0; o < wout; o++) ((uint64_t *)dst)[o] = ((const uint64_t *)src)[lx[o]]; break;
    default: for (int64_t o = 0; o < wout; o++) memcpy(dst + o * es, src + lx[o] * es, es);
    }
}

static void rs_gather(const ld_tensor *x, ld_tensor *y, const rs_axis *ax) {
    int r = x->ndim;
    int64_t is[LD_MAX_DIMS];
    ld_strides(r, x->dims, is);
    int64_t wout = y->dims[r - 1], rows = y->numel / wout;
    size_t es = ld_dtype_size(x->dtype);
    const int64_t *lx = ax[r - 1].idx;
    #pragma omp parallel if (y->numel > RS_PAR_MIN)
    {
        int64_t prev = -1;            /* source offset of this thread's previous row */
        #pragma omp for schedule(static)
        for (int64_t row = 0; row < rows; row++) {
            int64_t off = 0, rem = row;
            for (int d = r - 2; d >= 0; d--) {
                int64_t c = rem % y->dims[d];
                rem /= y->dims[d];
                off += ax[d].idx[c] * is[d];
            }
            char *dst = (char *)y->data + row * wout * es;
            if (off == prev) {        /* repeated source row (upsampling): copy the last one */
                memcpy(dst, dst - wout * es, wout * es);
                continue;
            }
            prev = off;
            rs_gather_row((const char *)x->data + off * es, dst, lx, wout, es);
        }
    }
}

/* ---- float: one separable 1-D pass per resized axis ---- */

/* Resample the middle dim of src (outer, in, inner) into dst (outer, out, inner). */
static void rs_pass(const rs_axis *ax, const float *src, float *dst, int64_t outer, int64_t inner, float extrap) {
    int64_t n = ax->in, m = ax->out;
    int T = ax->ntap;
    if (inner == 1) {
        #pragma omp parallel for if (outer * m * T > RS_PAR_MIN)
        for (int64_t ob = 0; ob < outer; ob++) {
            const float *s = src + ob * n;
            float *d = dst + ob * m;
            if (T == 2) {
                for (int64_t o = 0; o < m; o++)
                    d[o] = ax->w[2 * o] * s[ax->idx[2 * o]] + ax->w[2 * o + 1] * s[ax->idx[2 * o + 1]];
            } else {
                for (int64_t o = 0; o < m; o++) {
                    const int64_t *ix = ax->idx + o * T;
                    const float *w = ax->w + o * T;
                    float acc = 0;
                    for (int t = 0; t < T; t++) acc += w[t] * s[ix[t]];
                    d[o] = acc;
                }
            }
            if (ax->ext)
                for (int64_t o = 0; o < m; o++)
                    if (ax->ext[o]) d[o] = extrap;
        }
        return;
    }
    #pragma omp parallel for if (outer * m * inner * T > RS_PAR_MIN)
    for (int64_t q = 0; q < outer * m; q++) {
        int64_t ob = q / m, o = q % m;
        float *d = dst + q * inner;
        if (ax->ext && ax->ext[o]) {
            for (int64_t i = 0; i < inner; i++) d[i] = extrap;
            continue;
        }
        const int64_t *ix = ax->idx + o * T;
        const float *w = ax->w + o * T;
        const float *s0 = src + (ob * n + ix[0]) * inner;
        float w0 = w[0];
        #pragma omp simd
        for (int64_t i = 0; i < inner; i++) d[i] = w0 * s0[i];
        for (int t = 1; t < T; t++) {
            const float *st = src + (ob * n + ix[t]) * inner;
            float wt = w[t];
            #pragma omp simd
            for (int64_t i = 0; i < inner; i++) d[i] += wt * st[i];
        }
    }
}

static ld_status rs_float(const rs_params *p, const rs_axis *ax, const float *x, float *y) {
    int order[LD_MAX_DIMS], np = 0;
    for (int a = 0; a < p->rank; a++)
        if (!ax[a].identity) order[np++] = a;
    /* Shrinking axes first (less work later); among equal ratios the inner axes first, so
     * the strided gather pass runs on the smaller data when upsampling. */
    for (int i = 1; i < np; i++)
        for (int j = i; j > 0; j--) {
            int a = order[j - 1], b = order[j];
            double ra = (double)p->out[a] / p->in[a], rb = (double)p->out[b] / p->in[b];
            if (rb > ra || (rb == ra && b < a)) break;
            order[j - 1] = b;
            order[j] = a;
        }
    int64_t cur[LD_MAX_DIMS], big = 0;
    memcpy(cur, p->in, sizeof(int64_t) * p->rank);
    for (int i = 0; i + 1 < np; i++) {
        cur[order[i]] = p->out[order[i]];
        big = LD_MAX(big, ld_dims_numel(p->rank, cur));
    }
    if (np == 0) {
        memcpy(y, x, sizeof(float) * (size_t)ld_dims_numel(p->rank, p->in));
        return LD_OK;
    }
    float *buf[2] = {NULL, NULL};
    if (np > 1) {
        buf[0] = ld_malloc(sizeof(float) * (size_t)big);
        buf[1] = np > 2 ? ld_malloc(sizeof(float) * (size_t)big) : NULL;
        if (!buf[0] || (np > 2 && !buf[1])) {
            free(buf[0]);
            free(buf[1]);
            return ld_oom();
        }
    }
    memcpy(cur, p->in, sizeof(int64_t) * p->rank);
    const float *src = x;
    for (int i = 0; i < np; i++) {
        int a = order[i];
        int64_t outer = ld_dims_numel(a, cur), inner = ld_dims_numel(p->rank - a - 1, cur + a + 1);
        float *dst = i == np - 1 ? y : buf[i % 2];
        rs_pass(&ax[a], src, dst, outer, inner, p->extrap);
        cur[a] = p->out[a];
        src = dst;
    }
    free(buf[0]);
    free(buf[1]);
    return LD_OK;
}

static ld_status rs_run_float(ld_kctx *k, const rs_params *p, const rs_axis *ax) {
    const ld_tensor *x = k->in[0];
    if (!ld_dtype_is_float(x->dtype) && !ld_dtype_is_int(x->dtype))
        return ld_error(LD_ERR_UNSUPPORTED, "%s mode on %s", p->mode == RS_LINEAR ? "linear" : "cubic/cropping",
                        ld_dtype_name(x->dtype));
    ld_tensor xt = {0}, yt = {0};
    const float *xf;
    float *yf;
    ld_status st = ld_pool_f32_in(x, &xt, &xf);
    if (st == LD_OK) st = ld_pool_f32_begin(k->out[0], &yt, &yf);
    if (st == LD_OK) st = rs_float(p, ax, xf, yf);
    if (st == LD_OK) st = ld_pool_f32_end(k->out[0], &yt);
    ld_tensor_clear(&xt);
    ld_tensor_clear(&yt);
    return st;
}

ld_status ld_pool_resize_compute(ld_kctx *k) {
    rs_params p;
    LD_TRY(rs_params_init(k, &p));
    const ld_tensor *x = k->in[0];
    if (k->out[0]->numel == 0) return LD_OK;
    if (x->numel == 0) return ld_error(LD_ERR_DATA, "cannot resize an empty tensor to a non-empty one");
    rs_axis ax[LD_MAX_DIMS];
    memset(ax, 0, sizeof ax);
    ld_status st = LD_OK;
    for (int a = 0; a < p.rank && st == LD_OK; a++) st = rs_axis_init(&p, a, &ax[a]);
    if (st == LD_OK) {
        if (p.mode == RS_NEAREST && p.ctm != CT_TF_CROP) rs_gather(x, k->out[0], ax);
        else st = rs_run_float(k, &p, ax);
    }
    for (int a = 0; a < p.rank; a++) rs_axis_free(&ax[a]);
    return st;
}
