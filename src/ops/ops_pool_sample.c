/*
** ops_pool_sample.c — sampling ops of the 'pool' family: GridSample (opset 16 and 20, N-D),
** AffineGrid, RoiAlign (opset 10 and 16) and MaxRoiPool.
**
** GridSample follows the ONNX reference implementation (PyTorch semantics): coordinates are
** denormalised in float32, nearest rounds half to even (in 3-D too, as the ONNX test data
** expects), and the padding mode is applied to the coordinate first and then to every tap
** index. The taps of one output position are shared by all channels.
*/
#include "ops_pool.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define GS_MAX_DIMS 4             /* spatial dims of GridSample: up to 4^4 taps per position */
#define SAMPLE_PAR_MIN 32768

/* ---- GridSample ---- */

enum { GS_LINEAR, GS_NEAREST, GS_CUBIC };
enum { GP_ZEROS, GP_BORDER, GP_REFLECTION };

typedef struct gs_params {
    int mode, pad, nsp;
    bool align;
    int64_t dims[GS_MAX_DIMS];    /* input spatial dims */
} gs_params;

static ld_status gs_params_init(ld_kctx *k, gs_params *g) {
    const ld_node *n = k->node;
    const ld_tensor *x = k->in[0], *grid = k->in[1];
    const char *m = ld_attr_str(n, "mode", n->opset >= 20 ? "linear" : "bilinear");
    const char *p = ld_attr_str(n, "padding_mode", "zeros");
    if (!strcmp(m, "linear") || !strcmp(m, "bilinear")) g->mode = GS_LINEAR;
    else if (!strcmp(m, "nearest")) g->mode = GS_NEAREST;
    else if (!strcmp(m, "cubic") || !strcmp(m, "bicubic")) g->mode = GS_CUBIC;
    else return ld_error(LD_ERR_DATA, "unknown GridSample mode '%s'", m);
    if (!strcmp(p, "zeros")) g->pad = GP_ZEROS;
    else if (!strcmp(p, "border")) g->pad = GP_BORDER;
    else if (!strcmp(p, "reflection")) g->pad = GP_REFLECTION;
    else return ld_error(LD_ERR_DATA, "unknown GridSample padding_mode '%s'", p);
    g->align = ld_attr_int(n, "align_corners", 0) != 0;
    g->nsp = x->ndim - 2;
    if (g->nsp < 1 || g->nsp > GS_MAX_DIMS)
        return ld_error(LD_ERR_UNSUPPORTED, "GridSample on rank %d input (supported: 3 to %d)", x->ndim,
                        GS_MAX_DIMS + 2);
    if (g->mode == GS_CUBIC && g->nsp > 3)
        return ld_error(LD_ERR_UNSUPPORTED, "cubic GridSample over more than 3 spatial dims");
    if (grid->ndim != x->ndim || grid->dims[0] != x->dims[0] || grid->dims[grid->ndim - 1] != g->nsp)
        return ld_error(LD_ERR_DATA, "grid must have shape (N, out spatial..., %d) for this input", g->nsp);
    if (!ld_dtype_is_float(grid->dtype)) return ld_error(LD_ERR_DATA, "grid must be a float tensor");
    if (!ld_dtype_is_float(x->dtype) && !ld_dtype_is_int(x->dtype))
        return ld_error(LD_ERR_UNSUPPORTED, "GridSample on %s", ld_dtype_name(x->dtype));
    for (int i = 0; i < g->nsp; i++) g->dims[i] = x->dims[2 + i];
    return LD_OK;
}

ld_status ld_pool_gridsample_shape(ld_kctx *k) {
    gs_params g;
    LD_TRY(gs_params_init(k, &g));
    const ld_tensor *x = k->in[0], *grid = k->in[1];
    int64_t dims[LD_MAX_DIMS] = {x->dims[0], x->dims[1]};
    for (int i = 0; i < g.nsp; i++) dims[2 + i] = grid->dims[1 + i];
    return ld_tensor_set_shape(k->out[0], x->dtype, x->ndim, dims);
}

/* Reflect x into [lo, hi] by bouncing off the borders. */
static double gs_reflect(double x, double lo, double hi) {
    double rng = hi - lo;
    if (rng <= 0 || !isfinite(x)) return lo;
    if (x < lo) {
        double dx = lo - x, n = floor(dx / rng), r = dx - n * rng;
        return fmod(n, 2) == 0 ? lo + r : hi - r;
    }
    if (x > hi) {
        double dx = x - hi, n = floor(dx / rng), r = dx - n * rng;
        return fmod(n, 2) == 0 ? hi - r : lo + r;
    }
    return x;
}

static void gs_cubic_coeffs(float t, float *c) {
    const double A = -0.75;
    double x = fabs((double)t);
    c[0] = (float)(((A * (x + 1) - 5 * A) * (x + 1) + 8 * A) * (x + 1) - 4 * A);
    c[1] = (float)(((A + 2) * x - (A + 3)) * x * x + 1);
    c[2] = (float)(((A + 2) * (1 - x) - (A + 3)) * (1 - x) * (1 - x) + 1);
    c[3] = (float)(((A * (2 - x) - 5 * A) * (2 - x) + 8 * A) * (2 - x) - 4 * A);
}

/* Taps along one spatial dim for normalised coordinate v: indices (-1 = zero padding) and
 * weights; returns the tap count. */
static int gs_dim_taps(const gs_params *g, int j, float v, int64_t *idx, float *w) {
    int64_t D = g->dims[j];
    double lo = g->align ? 0 : -0.5, hi = g->align ? (double)D - 1 : (double)D - 0.5;
    float x = g->align ? (float)((v + 1.0) / 2.0 * (double)(D - 1)) : (float)(((v + 1.0) * (double)D - 1) / 2.0);
    if (g->mode == GS_NEAREST) x = rintf(x);       /* half to even, as the test data has */
    if (x < lo || x > hi) {
        if (g->pad == GP_BORDER) x = x < 0 ? 0 : x > D - 1 ? (float)(D - 1) : x;
        else if (g->pad == GP_REFLECTION) x = (float)gs_reflect(x, lo, hi);
    }
    x = fminf(fmaxf(x, (float)(-D - 8)), (float)(D + 8));     /* also maps NaN out of range */
    int n;
    if (g->mode == GS_NEAREST) {
        n = 1;
        idx[0] = (int64_t)x;
        w[0] = 1;
    } else {
        float x0 = floorf(x), t = x - x0;
        int first = g->mode == GS_LINEAR ? 0 : -1;
        n = g->mode == GS_LINEAR ? 2 : 4;
        if (g->mode == GS_LINEAR) { w[0] = 1 - t; w[1] = t; }
        else gs_cubic_coeffs(t, w);
        for (int i = 0; i < n; i++) idx[i] = (int64_t)x0 + first + i;
    }
    for (int i = 0; i < n; i++) {
        int64_t c = idx[i];
        if (c >= 0 && c < D) continue;
        if (g->pad == GP_ZEROS) c = -1;
        else if (g->pad == GP_BORDER) c = c < 0 ? 0 : D - 1;
        else c = (int64_t)gs_reflect((double)c, lo, hi);
        idx[i] = c < -1 ? 0 : c >= D ? D - 1 : c;
    }
    return n;
}

/* Flat plane offsets and weights of every tap of one output position; returns the count. */
static int gs_point_taps(const gs_params *g, const float *gv, int64_t *off, float *wt) {
    int64_t idx[GS_MAX_DIMS][4];
    float w[GS_MAX_DIMS][4];
    int cnt[GS_MAX_DIMS], total = 1;
    for (int j = 0; j < g->nsp; j++) {
        cnt[j] = gs_dim_taps(g, j, gv[g->nsp - 1 - j], idx[j], w[j]);
        total *= cnt[j];
    }
    int n = 0;
    for (int t = 0; t < total; t++) {
        int rem = t;
        int64_t o = 0;
        float ww = 1;
        bool zero = false;
        for (int j = g->nsp - 1; j >= 0; j--) {
            int c = rem % cnt[j];
            rem /= cnt[j];
            if (idx[j][c] < 0) zero = true;
            ww *= w[j][c];
        }
        if (zero) continue;
        int64_t mul = 1;
        rem = t;
        for (int j = g->nsp - 1; j >= 0; j--) {
            int c = rem % cnt[j];
            rem /= cnt[j];
            o += idx[j][c] * mul;
            mul *= g->dims[j];
        }
        off[n] = o;
        wt[n++] = ww;
    }
    return n;
}

ld_status ld_pool_gridsample_compute(ld_kctx *k) {
    gs_params g;
    LD_TRY(gs_params_init(k, &g));
    ld_tensor *y = k->out[0];
    if (y->numel == 0) return LD_OK;
    const ld_tensor *x = k->in[0];
    int64_t N = x->dims[0], C = x->dims[1], NC = N * C, S = NC > 0 ? x->numel / NC : 0;
    int64_t P = y->numel / (N * C);
    if (S == 0) return ld_error(LD_ERR_DATA, "GridSample on an empty input");
    ld_tensor xt = {0}, gt = {0}, yt = {0};
    const float *xf, *gf;
    float *yf;
    ld_status st = ld_pool_f32_in(x, &xt, &xf);
    if (st == LD_OK) st = ld_pool_f32_in(k->in[1], &gt, &gf);
    if (st == LD_OK) st = ld_pool_f32_begin(y, &yt, &yf);
    if (st == LD_OK) {
        #pragma omp parallel for if (y->numel > SAMPLE_PAR_MIN)
        for (int64_t q = 0; q < N * P; q++) {
            int64_t n = q / P, p = q % P;
            int64_t off[256];
            float wt[256];
            int nt = gs_point_taps(&g, gf + q * g.nsp, off, wt);
            for (int64_t c = 0; c < C; c++) {
                const float *xp = xf + (n * C + c) * S;
                float acc = 0;
                for (int t = 0; t < nt; t++) acc += wt[t] * xp[off[t]];
                yf[(n * C + c) * P + p] = acc;
            }
        }
        st = ld_pool_f32_end(y, &yt);
    }
    ld_tensor_clear(&xt);
    ld_tensor_clear(&gt);
    ld_tensor_clear(&yt);
    return st;
}

/* ---- AffineGrid ---- */

ld_status ld_pool_affinegrid_shape(ld_kctx *k) {
    const ld_tensor *theta = k->in[0];
    LD_TRY(ld_check_dtype(k, 0, LD_DT(LD_F32)));
    LD_NEED_DATA(k, 1);
    int64_t sz[6];
    int cnt;
    LD_TRY(ld_tensor_to_i64(k->in[1], sz, 6, &cnt));
    if (cnt != 4 && cnt != 5) return ld_error(LD_ERR_DATA, "AffineGrid size must have 4 or 5 values, got %d", cnt);
    int nsp = cnt - 2;
    if (theta->ndim != 3 || theta->dims[0] != sz[0] || theta->dims[1] != nsp || theta->dims[2] != nsp + 1)
        return ld_error(LD_ERR_DATA, "AffineGrid theta must have shape (%lld,%d,%d)", (long long)sz[0], nsp, nsp + 1);
    int64_t dims[5] = {sz[0]};
    for (int i = 0; i < nsp; i++) {
        if (sz[2 + i] < 0) return ld_error(LD_ERR_DATA, "AffineGrid size has a negative value");
        dims[1 + i] = sz[2 + i];
    }
    dims[nsp + 1] = nsp;
    return ld_tensor_set_shape(k->out[0], theta->dtype, nsp + 2, dims);
}

/* Normalised coordinate of pixel i of n along one axis. */
static double ag_base(int64_t i, int64_t n, bool align) {
    if (n <= 1) return 0;
    if (align) return -1 + (double)i * (2.0 / (double)(n - 1));
    double step = 2.0 / (double)n;
    return -1 + step / 2 + (double)i * step;
}

ld_status ld_pool_affinegrid_compute(ld_kctx *k) {
    ld_tensor *y = k->out[0];
    int nsp = y->ndim - 2;
    bool align = ld_attr_int(k->node, "align_corners", 0) != 0;
    int64_t N = y->dims[0], D = nsp == 3 ? y->dims[1] : 1, H = y->dims[nsp - 1], W = y->dims[nsp];
    const float *th = k->in[0]->data;
    float *o = y->data;
    for (int64_t n = 0; n < N; n++) {
        const float *t = th + n * nsp * (nsp + 1);
        for (int64_t d = 0; d < D; d++)
        for (int64_t h = 0; h < H; h++)
        for (int64_t w = 0; w < W; w++) {
            double v[4] = {ag_base(w, W, align), ag_base(h, H, align), nsp == 3 ? ag_base(d, D, align) : 1, 1};
            for (int r = 0; r < nsp; r++) {
                double s = 0;
                for (int c = 0; c <= nsp; c++) s += (double)t[r * (nsp + 1) + c] * v[c];
                *o++ = (float)s;
            }
        }
    }
    return LD_OK;
}

/* ---- RoiAlign ---- */

ld_status ld_pool_roialign_shape(ld_kctx *k) {
    const ld_tensor *x = k->in[0], *rois = k->in[1], *bi = k->in[2];
    LD_TRY(ld_check_dtype(k, 0, LD_DT(LD_F32)));
    if (x->ndim != 4) return ld_error(LD_ERR_DATA, "RoiAlign expects an (N,C,H,W) input, got rank %d", x->ndim);
    if (rois->ndim != 2 || rois->dims[1] != 4) return ld_error(LD_ERR_DATA, "rois must have shape (num_rois, 4)");
    if (bi->ndim != 1 || bi->dims[0] != rois->dims[0] || !ld_dtype_is_int(bi->dtype))
        return ld_error(LD_ERR_DATA, "batch_indices must be an integer tensor of shape (num_rois)");
    int64_t oh = ld_attr_int(k->node, "output_height", 1), ow = ld_attr_int(k->node, "output_width", 1);
    if (oh < 1 || ow < 1) return ld_error(LD_ERR_DATA, "output_height and output_width must be positive");
    int64_t dims[4] = {rois->dims[0], x->dims[1], oh, ow};
    return ld_tensor_set_shape(k->out[0], x->dtype, 4, dims);
}

/* One bilinear sample: four plane offsets and weights (all zero outside the map). */
typedef struct ra_sample { int64_t pos[4]; double w[4]; } ra_sample;

static void ra_sample_at(double y, double x, int64_t H, int64_t W, ra_sample *s) {
    memset(s, 0, sizeof *s);
    if (y < -1.0 || y > (double)H || x < -1.0 || x > (double)W) return;
    y = fmax(y, 0);
    x = fmax(x, 0);
    int64_t yl = (int64_t)y, xl = (int64_t)x, yh, xh;
    if (yl >= H - 1) { yh = yl = H - 1; y = (double)yl; } else yh = yl + 1;
    if (xl >= W - 1) { xh = xl = W - 1; x = (double)xl; } else xh = xl + 1;
    double ly = y - (double)yl, lx = x - (double)xl, hy = 1 - ly, hx = 1 - lx;
    s->pos[0] = yl * W + xl; s->pos[1] = yl * W + xh;
    s->pos[2] = yh * W + xl; s->pos[3] = yh * W + xh;
    s->w[0] = hy * hx; s->w[1] = hy * lx; s->w[2] = ly * hx; s->w[3] = ly * lx;
}

ld_status ld_pool_roialign_compute(ld_kctx *k) {
    const ld_tensor *x = k->in[0], *rois = k->in[1], *bi = k->in[2];
    ld_tensor *y = k->out[0];
    const ld_node *n = k->node;
    const char *mode = ld_attr_str(n, "mode", "avg");
    bool is_max = !strcmp(mode, "max");
    if (!is_max && strcmp(mode, "avg")) return ld_error(LD_ERR_DATA, "unknown RoiAlign mode '%s'", mode);
    /* opset 10 had no attribute and behaved as output_half_pixel; 16 defaults to half_pixel */
    const char *ctm = ld_attr_str(n, "coordinate_transformation_mode",
                                  n->opset >= 16 ? "half_pixel" : "output_half_pixel");
    bool half = !strcmp(ctm, "half_pixel");
    if (!half && strcmp(ctm, "output_half_pixel"))
        return ld_error(LD_ERR_DATA, "unknown coordinate_transformation_mode '%s'", ctm);
    int64_t sr = ld_attr_int(n, "sampling_ratio", 0);
    double scale = ld_attr_float(n, "spatial_scale", 1.0f);
    int64_t N = x->dims[0], C = x->dims[1], H = x->dims[2], W = x->dims[3];
    int64_t R = y->dims[0], PH = y->dims[2], PW = y->dims[3];
    const float *xd = x->data, *rd = rois->data;
    float *yd = y->data;
    for (int64_t r = 0; r < R; r++) {
        int64_t b = ld_tensor_get_i64(bi, r);
        if (b < 0 || b >= N)
            return ld_error(LD_ERR_DATA, "batch index %lld out of range [0, %lld)", (long long)b, (long long)N);
        double off = half ? 0.5 : 0.0;
        double x0 = rd[r * 4] * scale - off, y0 = rd[r * 4 + 1] * scale - off;
        double rw = rd[r * 4 + 2] * scale - off - x0, rh = rd[r * 4 + 3] * scale - off - y0;
        if (!isfinite(rw) || !isfinite(rh)) return ld_error(LD_ERR_DATA, "ROI %lld is not finite", (long long)r);
        if (!half) { rw = fmax(rw, 1.0); rh = fmax(rh, 1.0); }
        double bh = rh / (double)PH, bw = rw / (double)PW;
        int64_t gh = sr > 0 ? sr : (int64_t)ceil(rh / (double)PH), gw = sr > 0 ? sr : (int64_t)ceil(rw / (double)PW);
        gh = LD_MAX(gh, 0);
        gw = LD_MAX(gw, 0);
        int64_t cnt = LD_MAX(gh * gw, 1), ns = PH * PW * gh * gw;
        ra_sample *smp = ld_malloc(sizeof(ra_sample) * (size_t)(ns + 1));
        if (!smp) return ld_oom();
        ra_sample *sp = smp;
        for (int64_t ph = 0; ph < PH; ph++)
        for (int64_t pw = 0; pw < PW; pw++)
        for (int64_t iy = 0; iy < gh; iy++) {
            double yy = y0 + (double)ph * bh + ((double)iy + 0.5) * bh / (double)gh;
            for (int64_t ix = 0; ix < gw; ix++)
                ra_sample_at(yy, x0 + (double)pw * bw + ((double)ix + 0.5) * bw / (double)gw, H, W, sp++);
        }
        #pragma omp parallel for if (C * ns > SAMPLE_PAR_MIN)
        for (int64_t c = 0; c < C; c++) {
            const float *xp = xd + (b * C + c) * H * W;
            float *yp = yd + (r * C + c) * PH * PW;
            const ra_sample *s = smp;
            for (int64_t q = 0; q < PH * PW; q++) {
                double acc = 0;
                for (int64_t t = 0; t < gh * gw; t++, s++) {
                    if (is_max) {
                        double v = s->w[0] * xp[s->pos[0]];
                        for (int i = 1; i < 4; i++) v = fmax(v, s->w[i] * xp[s->pos[i]]);
                        acc = t == 0 ? v : fmax(acc, v);
                    } else {
                        for (int i = 0; i < 4; i++) acc += s->w[i] * xp[s->pos[i]];
                    }
                }
                yp[q] = (float)(is_max ? acc : acc / (double)cnt);
            }
        }
        free(smp);
    }
    return LD_OK;
}

/* ---- MaxRoiPool ---- */

static ld_status mrp_pooled(const ld_node *n, int64_t *ph, int64_t *pw) {
    int cnt;
    const int64_t *ps = ld_attr_ints(n, "pooled_shape", &cnt);
    if (cnt != 2 || ps[0] < 1 || ps[1] < 1)
        return ld_error(LD_ERR_DATA, "MaxRoiPool needs pooled_shape with 2 positive values");
    *ph = ps[0];
    *pw = ps[1];
    return LD_OK;
}

ld_status ld_pool_maxroipool_shape(ld_kctx *k) {
    const ld_tensor *x = k->in[0], *rois = k->in[1];
    LD_TRY(ld_check_dtype(k, 0, LD_DT(LD_F32)));
    if (x->ndim != 4) return ld_error(LD_ERR_DATA, "MaxRoiPool expects an (N,C,H,W) input, got rank %d", x->ndim);
    if (rois->ndim != 2 || rois->dims[1] != 5) return ld_error(LD_ERR_DATA, "rois must have shape (num_rois, 5)");
    int64_t dims[4] = {rois->dims[0], x->dims[1]};
    LD_TRY(mrp_pooled(k->node, &dims[2], &dims[3]));
    return ld_tensor_set_shape(k->out[0], x->dtype, 4, dims);
}

/* Caffe2 / ONNX Runtime semantics: rounded ROI corners, bins floor/ceil-split, empty bins 0. */
ld_status ld_pool_maxroipool_compute(ld_kctx *k) {
    const ld_tensor *x = k->in[0], *rois = k->in[1];
    ld_tensor *y = k->out[0];
    int64_t PH, PW;
    LD_TRY(mrp_pooled(k->node, &PH, &PW));
    float scale = ld_attr_float(k->node, "spatial_scale", 1.0f);
    int64_t N = x->dims[0], C = x->dims[1], H = x->dims[2], W = x->dims[3], R = rois->dims[0];
    const float *rd = rois->data, *xd = x->data;
    float *yd = y->data;
    for (int64_t r = 0; r < R; r++) {
        const float *ro = rd + r * 5;
        if (!(ro[0] >= 0 && ro[0] < (float)N))
            return ld_error(LD_ERR_DATA, "ROI batch index %g out of range [0, %lld)", ro[0], (long long)N);
        for (int i = 1; i < 5; i++)
            if (!(fabsf(ro[i] * scale) < 1e15f)) return ld_error(LD_ERR_DATA, "ROI %lld is not finite", (long long)r);
        int64_t b = (int64_t)ro[0];
        int64_t sw = (int64_t)roundf(ro[1] * scale), sh = (int64_t)roundf(ro[2] * scale);
        int64_t ew = (int64_t)roundf(ro[3] * scale), eh = (int64_t)roundf(ro[4] * scale);
        float bh = (float)LD_MAX(eh - sh + 1, 1) / (float)PH, bw = (float)LD_MAX(ew - sw + 1, 1) / (float)PW;
        #pragma omp parallel for if (C * H * W > SAMPLE_PAR_MIN)
        for (int64_t c = 0; c < C; c++) {
            const float *xp = xd + (b * C + c) * H * W;
            float *yp = yd + (r * C + c) * PH * PW;
            for (int64_t ph = 0; ph < PH; ph++)
            for (int64_t pw = 0; pw < PW; pw++) {
                int64_t hs = LD_MIN(LD_MAX((int64_t)floorf((float)ph * bh) + sh, 0), H);
                int64_t he = LD_MIN(LD_MAX((int64_t)ceilf((float)(ph + 1) * bh) + sh, 0), H);
                int64_t ws = LD_MIN(LD_MAX((int64_t)floorf((float)pw * bw) + sw, 0), W);
                int64_t we = LD_MIN(LD_MAX((int64_t)ceilf((float)(pw + 1) * bw) + sw, 0), W);
                float m = (he <= hs || we <= ws) ? 0 : -INFINITY;
                for (int64_t h = hs; h < he; h++)
                    for (int64_t w = ws; w < we; w++) m = xp[h * W + w] > m ? xp[h * W + w] : m;
                yp[ph * PW + pw] = m;
            }
        }
    }
    return LD_OK;
}
