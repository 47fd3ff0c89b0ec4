/*
** ops_pool.c — kernel family 'pool': windowed pooling (MaxPool with Indices, AveragePool,
** LpPool), global pooling (GlobalAveragePool, GlobalMaxPool, GlobalLpPool), MaxUnpool and
** Dropout, plus the family's op table. Resize/Upsample live in ops_pool_resize.c and
** GridSample/AffineGrid/RoiAlign/MaxRoiPool in ops_pool_sample.c.
**
** Windowed pooling works on (N*C) independent planes of 1, 2 or 3 spatial dims; a plane is
** handled as 3-D with leading dims of size 1, and the valid tap range of every output position
** along every dim is precomputed once, so the inner loops are plain contiguous scans.
*/
#include "ops_pool.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define POOL_PAR_MIN 32768    /* work (taps) below which loops stay single-threaded */

/* ---- float32 views ---- */

ld_status ld_pool_f32_in(const ld_tensor *t, ld_tensor *tmp, const float **p) {
    if (t->dtype == LD_F32) {
        *p = t->data;
        return LD_OK;
    }
    LD_TRY(ld_tensor_convert(tmp, t, LD_F32));
    *p = tmp->data;
    return LD_OK;
}

ld_status ld_pool_f32_begin(ld_tensor *out, ld_tensor *tmp, float **p) {
    if (out->dtype == LD_F32) {
        *p = out->data;
        return LD_OK;
    }
    LD_TRY(ld_tensor_alloc(tmp, LD_F32, out->ndim, out->dims));
    *p = tmp->data;
    return LD_OK;
}

ld_status ld_pool_f32_end(ld_tensor *out, ld_tensor *tmp) {
    if (!tmp->data) return LD_OK;
    ld_status st = ld_tensor_convert(out, tmp, out->dtype);
    ld_tensor_clear(tmp);
    return st;
}

/* ---- pooling geometry ---- */

/* One pooling op's geometry, canonicalised to 3 spatial dims (missing leading dims are 1). */
typedef struct pool_geom {
    int nsp;                       /* spatial rank of the input (1..3) */
    int64_t planes;                /* N*C */
    int64_t in[3], out[3], k[3], s[3], d[3], pb[3], pe[3];
} pool_geom;

/* Output length and the begin/end pads actually used along one spatial dim. */
static ld_status pool_dim_out(const char *auto_pad, bool ceil_mode, int64_t in, int64_t k,
                              int64_t s, int64_t d, int64_t *pb, int64_t *pe, int64_t *out) {
    int64_t eff = (k - 1) * d + 1;
    bool upper = !strcmp(auto_pad, "SAME_UPPER"), lower = !strcmp(auto_pad, "SAME_LOWER");
    if (upper || lower) {
        *out = (in + s - 1) / s;
        int64_t total = LD_MAX(0, (*out - 1) * s + eff - in);
        *pb = upper ? total / 2 : total - total / 2;
        *pe = total - *pb;
        return LD_OK;
    }
    if (!strcmp(auto_pad, "VALID")) *pb = *pe = 0;
    else if (strcmp(auto_pad, "NOTSET") && auto_pad[0])
        return ld_error(LD_ERR_DATA, "unknown auto_pad '%s'", auto_pad);
    int64_t span = in + *pb + *pe - eff;
    if (span < 0)
        return ld_error(LD_ERR_DATA, "pooling window (effective size %lld) is larger than the "
                        "padded input (%lld)", (long long)eff, (long long)(in + *pb + *pe));
    *out = (ceil_mode ? (span + s - 1) / s : span / s) + 1;
    if (ceil_mode && (*out - 1) * s >= in + *pb) (*out)--;   /* last window must start inside */
    return LD_OK;
}

/* Read an ints attribute of `want` values (or none: all `def`), each at least `min`. */
static ld_status pool_attr_ints(const ld_node *n, const char *name, int want, int64_t def,
                                int64_t min, int64_t *out) {
    int cnt;
    const int64_t *v = ld_attr_ints(n, name, &cnt);
    if (cnt == 0) {
        for (int i = 0; i < want; i++) out[i] = def;
        return LD_OK;
    }
    if (cnt != want)
        return ld_error(LD_ERR_DATA, "attribute %s has %d values, expected %d", name, cnt, want);
    for (int i = 0; i < want; i++) {
        if (v[i] < min)
            return ld_error(LD_ERR_DATA, "attribute %s has invalid value %lld", name, (long long)v[i]);
        out[i] = v[i];
    }
    return LD_OK;
}

static ld_status pool_geom_init(ld_kctx *k, pool_geom *g) {
    const ld_node *n = k->node;
    const ld_tensor *x = k->in[0];
    if (x->ndim < 3)
        return ld_error(LD_ERR_DATA, "%s expects an (N,C,D1,...) input, got rank %d", n->op_type, x->ndim);
    int nsp = x->ndim - 2;
    if (nsp > 3)
        return ld_error(LD_ERR_UNSUPPORTED, "%s over %d spatial dims (at most 3 supported)", n->op_type, nsp);
    int nk;
    ld_attr_ints(n, "kernel_shape", &nk);
    if (nk != nsp)
        return ld_error(LD_ERR_DATA, "kernel_shape has %d values for %d spatial dims", nk, nsp);
    int64_t ks[3], st[3], dl[3], pads[6];
    LD_TRY(pool_attr_ints(n, "kernel_shape", nsp, 1, 1, ks));
    LD_TRY(pool_attr_ints(n, "strides", nsp, 1, 1, st));
    LD_TRY(pool_attr_ints(n, "dilations", nsp, 1, 1, dl));
    LD_TRY(pool_attr_ints(n, "pads", 2 * nsp, 0, 0, pads));
    const char *auto_pad = ld_attr_str(n, "auto_pad", "NOTSET");
    bool ceil_mode = ld_attr_int(n, "ceil_mode", 0) != 0;
    g->nsp = nsp;
    g->planes = x->dims[0] * x->dims[1];
    int off = 3 - nsp;
    for (int j = 0; j < 3; j++) {
        g->in[j] = g->out[j] = g->k[j] = g->s[j] = g->d[j] = 1;
        g->pb[j] = g->pe[j] = 0;
    }
    for (int i = 0; i < nsp; i++) {
        int j = off + i;
        g->in[j] = x->dims[2 + i];
        g->k[j] = ks[i];
        g->s[j] = st[i];
        g->d[j] = dl[i];
        g->pb[j] = pads[i];
        g->pe[j] = pads[nsp + i];
        LD_TRY(pool_dim_out(auto_pad, ceil_mode, g->in[j], g->k[j], g->s[j], g->d[j], &g->pb[j],
                            &g->pe[j], &g->out[j]));
    }
    return LD_OK;
}

static ld_status pool_set_out(ld_kctx *k, const pool_geom *g, int o, ld_dtype dt) {
    if (!LD_HAS_OUT(k, o)) return LD_OK;
    const ld_tensor *x = k->in[0];
    int64_t dims[5] = {x->dims[0], x->dims[1]};
    for (int i = 0; i < g->nsp; i++) dims[2 + i] = g->out[3 - g->nsp + i];
    return ld_tensor_set_shape(k->out[o], dt, x->ndim, dims);
}

/* Per output position along each dim: window start, first/last+1 tap inside the input, and
 * the number of taps inside the padded extent (count_include_pad divisor). Per tap kw of the
 * innermost dim: the output columns [ka, kb) for which that tap falls inside the input. */
typedef struct pool_win {
    int64_t *st[3], *lo[3], *hi[3], *cp[3];
    int64_t *ka, *kb;
    int64_t *buf;
} pool_win;

static ld_status pool_win_init(const pool_geom *g, pool_win *w) {
    int64_t total = g->out[0] + g->out[1] + g->out[2];
    w->buf = ld_malloc(sizeof(int64_t) * (4 * (size_t)total + 2 * (size_t)g->k[2]));
    if (!w->buf) return ld_oom();
    int64_t *p = w->buf;
    for (int j = 0; j < 3; j++) {
        int64_t m = g->out[j];
        w->st[j] = p; w->lo[j] = p + m; w->hi[j] = p + 2 * m; w->cp[j] = p + 3 * m;
        p += 4 * m;
        for (int64_t o = 0; o < m; o++) {
            int64_t s = o * g->s[j] - g->pb[j], d = g->d[j];
            int64_t last = g->in[j] - 1 - s, lastp = g->in[j] + g->pe[j] - 1 - s;
            int64_t lo = s >= 0 ? 0 : (-s + d - 1) / d;
            int64_t hi = last < 0 ? 0 : LD_MIN(g->k[j], last / d + 1);
            w->st[j][o] = s;
            w->lo[j][o] = LD_MIN(lo, hi);
            w->hi[j][o] = hi;
            w->cp[j][o] = lastp < 0 ? 0 : LD_MIN(g->k[j], lastp / d + 1);
        }
    }
    w->ka = p;
    w->kb = p + g->k[2];
    for (int64_t kw = 0; kw < g->k[2]; kw++) {      /* 0 <= ow * s + off < in */
        int64_t off = kw * g->d[2] - g->pb[2], s = g->s[2], last = g->in[2] - 1 - off;
        int64_t a = off >= 0 ? 0 : (-off + s - 1) / s, b = last < 0 ? 0 : LD_MIN(g->out[2], last / s + 1);
        w->ka[kw] = a;
        w->kb[kw] = LD_MAX(a, b);
    }
    return LD_OK;
}

/* ---- plane kernels: x is one (D,H,W) input plane, y the matching output plane ---- */

/* Max over each window; with ind, also the flat index of the first maximum (plus base), in
 * row-major or (colmajor) column-major order of the plane. */
#define POOL_MAX_PLANE(NAME, T, LOWEST)                                                        \
    static void NAME(const pool_geom *g, const pool_win *w, const T *x, T *y, int64_t *ind,   \
                     int64_t base, bool colmajor) {                                             \
        const int64_t D = g->in[0], H = g->in[1], W = g->in[2];                                \
        for (int64_t od = 0; od < g->out[0]; od++)                                             \
        for (int64_t oh = 0; oh < g->out[1]; oh++)                                             \
        for (int64_t ow = 0; ow < g->out[2]; ow++) {                                           \
            T m = LOWEST;                                                                       \
            int64_t ad = -1, ah = 0, aw = 0;                                                   \
            for (int64_t kd = w->lo[0][od]; kd < w->hi[0][od]; kd++) {                         \
                int64_t id = w->st[0][od] + kd * g->d[0];                                      \
                for (int64_t kh = w->lo[1][oh]; kh < w->hi[1][oh]; kh++) {                     \
                    int64_t ih = w->st[1][oh] + kh * g->d[1];                                  \
                    const T *row = x + (id * H + ih) * W + w->st[2][ow];                       \
                    for (int64_t kw = w->lo[2][ow]; kw < w->hi[2][ow]; kw++) {                 \
                        T v = row[kw * g->d[2]];                                                \
                        if (v > m) m = v;             /* first maximum wins; the first tap */ \
                        else if (ad >= 0) continue;   /* is the fallback (all NaN/lowest)  */ \
                        ad = id; ah = ih; aw = w->st[2][ow] + kw * g->d[2];                   \
                    }                                                                           \
                }                                                                               \
            }                                                                                   \
            *y++ = m;                                                                           \
            if (ind) {                                                                          \
                if (ad < 0) ad = 0;                                                             \
                *ind++ = base + (colmajor ? ad + D * (ah + H * aw) : (ad * H + ah) * W + aw);  \
            }                                                                                   \
        }                                                                                       \
    }

POOL_MAX_PLANE(pool_max_plane_f32, float, -INFINITY)
POOL_MAX_PLANE(pool_max_plane_i8, int8_t, INT8_MIN)
POOL_MAX_PLANE(pool_max_plane_u8, uint8_t, 0)

enum { POOL_MAX, POOL_AVG, POOL_LP };

/* Apply STMT (reading v = input of column ow) to output columns [a, b) of one row, with
 * unit and 2 strides specialised so the loads stay contiguous. */
#define POOL_ROW(STMT)                                                                          \
    do {                                                                                        \
        if (s == 1) {                                                                           \
            _Pragma("omp simd")                                                                 \
            for (int64_t ow = a; ow < b; ow++) { float v = row[ow + off]; STMT; }              \
        } else if (s == 2) {                                                                    \
            _Pragma("omp simd")                                                                 \
            for (int64_t ow = a; ow < b; ow++) { float v = row[2 * ow + off]; STMT; }          \
        } else {                                                                                \
            _Pragma("omp simd")                                                                 \
            for (int64_t ow = a; ow < b; ow++) { float v = row[ow * s + off]; STMT; }          \
        }                                                                                       \
    } while (0)

/* Float pooling without indices, the CNN hot path: row-wise, each valid (kd, kh, kw) tap
 * updates a whole output row, so the inner loops run over output columns and vectorise.
 * Average divides by the taps inside the input (or, with include_pad, the padded extent). */
static void pool_rows_plane(const pool_geom *g, const pool_win *w, const float *x, float *y,
                            int kind, bool include_pad, float p) {
    const int64_t H = g->in[1], W = g->in[2], OW = g->out[2], s = g->s[2];
    for (int64_t od = 0; od < g->out[0]; od++)
    for (int64_t oh = 0; oh < g->out[1]; oh++, y += OW) {
        float init = kind == POOL_MAX ? -INFINITY : 0;
        for (int64_t ow = 0; ow < OW; ow++) y[ow] = init;
        for (int64_t kd = w->lo[0][od]; kd < w->hi[0][od]; kd++)
        for (int64_t kh = w->lo[1][oh]; kh < w->hi[1][oh]; kh++) {
            int64_t id = w->st[0][od] + kd * g->d[0], ih = w->st[1][oh] + kh * g->d[1];
            const float *row = x + (id * H + ih) * W;
            for (int64_t kw = 0; kw < g->k[2]; kw++) {
                int64_t off = kw * g->d[2] - g->pb[2], a = w->ka[kw], b = w->kb[kw];
                if (kind == POOL_MAX) POOL_ROW(y[ow] = v > y[ow] ? v : y[ow]);
                else if (kind == POOL_AVG) POOL_ROW(y[ow] += v);
                else if (p == 2) POOL_ROW(y[ow] += v * v);
                else if (p == 1) POOL_ROW(y[ow] += fabsf(v));
                else for (int64_t ow = a; ow < b; ow++) y[ow] += powf(fabsf(row[ow * s + off]), p);
            }
        }
        if (kind == POOL_AVG) {
            int64_t hc = include_pad ? w->cp[0][od] * w->cp[1][oh]
                                     : (w->hi[0][od] - w->lo[0][od]) * (w->hi[1][oh] - w->lo[1][oh]);
            for (int64_t ow = 0; ow < OW; ow++) {
                int64_t wc = include_pad ? w->cp[2][ow] : w->hi[2][ow] - w->lo[2][ow];
                y[ow] /= (float)(hc * wc);
            }
        } else if (kind == POOL_LP && p != 1) {
            for (int64_t ow = 0; ow < OW; ow++) y[ow] = p == 2 ? sqrtf(y[ow]) : powf(y[ow], 1.0f / p);
        }
    }
}

/* ---- MaxPool / AveragePool / LpPool ---- */

static ld_status pool_shape(ld_kctx *k) {
    pool_geom g;
    LD_TRY(pool_geom_init(k, &g));
    LD_TRY(pool_set_out(k, &g, 0, k->in[0]->dtype));
    return pool_set_out(k, &g, 1, LD_I64);     /* MaxPool Indices */
}

static ld_status maxpool_shape(ld_kctx *k) {
    LD_TRY(ld_check_dtype(k, 0, LD_DT(LD_F32) | LD_DT(LD_I8) | LD_DT(LD_U8)));
    int64_t so = ld_attr_int(k->node, "storage_order", 0);
    if (so != 0 && so != 1) return ld_error(LD_ERR_DATA, "storage_order must be 0 or 1, got %lld", (long long)so);
    return pool_shape(k);
}

static ld_status float_pool_shape(ld_kctx *k) {
    LD_TRY(ld_check_dtype(k, 0, LD_DT(LD_F32)));
    return pool_shape(k);
}

static int64_t pool_taps(const pool_geom *g) {
    return g->planes * g->out[0] * g->out[1] * g->out[2] * g->k[0] * g->k[1] * g->k[2];
}

static ld_status maxpool_compute(ld_kctx *k) {
    pool_geom g;
    pool_win w;
    LD_TRY(pool_geom_init(k, &g));
    LD_TRY(pool_win_init(&g, &w));
    const ld_tensor *x = k->in[0];
    ld_tensor *y = k->out[0];
    int64_t *ind = LD_HAS_OUT(k, 1) ? LD_I64P(k->out[1]) : NULL;
    bool colmajor = ld_attr_int(k->node, "storage_order", 0) == 1;
    int64_t isz = g.in[0] * g.in[1] * g.in[2], osz = g.out[0] * g.out[1] * g.out[2];
    ld_dtype dt = x->dtype;
    #pragma omp parallel for if (pool_taps(&g) > POOL_PAR_MIN)
    for (int64_t p = 0; p < g.planes; p++) {
        int64_t *ip = ind ? ind + p * osz : NULL;
        if (dt == LD_F32 && !ip)
            pool_rows_plane(&g, &w, (const float *)x->data + p * isz, (float *)y->data + p * osz,
                            POOL_MAX, false, 0);
        else if (dt == LD_F32)
            pool_max_plane_f32(&g, &w, (const float *)x->data + p * isz, (float *)y->data + p * osz,
                               ip, p * isz, colmajor);
        else if (dt == LD_I8)
            pool_max_plane_i8(&g, &w, (const int8_t *)x->data + p * isz, (int8_t *)y->data + p * osz,
                              ip, p * isz, colmajor);
        else
            pool_max_plane_u8(&g, &w, (const uint8_t *)x->data + p * isz, (uint8_t *)y->data + p * osz,
                              ip, p * isz, colmajor);
    }
    free(w.buf);
    return LD_OK;
}

static ld_status sumpool_run(ld_kctx *k, int kind, bool include_pad, float p) {
    pool_geom g;
    pool_win w;
    LD_TRY(pool_geom_init(k, &g));
    LD_TRY(pool_win_init(&g, &w));
    const float *x = k->in[0]->data;
    float *y = k->out[0]->data;
    int64_t isz = g.in[0] * g.in[1] * g.in[2], osz = g.out[0] * g.out[1] * g.out[2];
    #pragma omp parallel for if (pool_taps(&g) > POOL_PAR_MIN)
    for (int64_t q = 0; q < g.planes; q++)
        pool_rows_plane(&g, &w, x + q * isz, y + q * osz, kind, include_pad, p);
    free(w.buf);
    return LD_OK;
}

static ld_status avgpool_compute(ld_kctx *k) {
    return sumpool_run(k, POOL_AVG, ld_attr_int(k->node, "count_include_pad", 0) != 0, 0);
}

static ld_status lp_order(ld_kctx *k, float *p) {
    *p = ld_attr_float(k->node, "p", 2.0f);
    if (!(*p > 0) || isinf(*p)) return ld_error(LD_ERR_DATA, "p must be a positive number, got %g", *p);
    return LD_OK;
}

static ld_status lppool_compute(ld_kctx *k) {
    float p;
    LD_TRY(lp_order(k, &p));
    return sumpool_run(k, POOL_LP, false, p);
}

/* ---- GlobalAveragePool / GlobalMaxPool / GlobalLpPool ---- */

static ld_status global_shape(ld_kctx *k) {
    LD_TRY(ld_check_dtype(k, 0, LD_DT(LD_F32)));
    const ld_tensor *x = k->in[0];
    if (x->ndim < 2)
        return ld_error(LD_ERR_DATA, "%s expects an (N,C,...) input, got rank %d", k->node->op_type, x->ndim);
    int64_t dims[LD_MAX_DIMS];
    for (int i = 0; i < x->ndim; i++) dims[i] = i < 2 ? x->dims[i] : 1;
    return ld_tensor_set_shape(k->out[0], x->dtype, x->ndim, dims);
}

enum { GLOBAL_AVG, GLOBAL_MAX, GLOBAL_LP };

static ld_status global_run(ld_kctx *k, int kind) {
    const ld_tensor *x = k->in[0];
    int64_t planes = x->dims[0] * x->dims[1];
    int64_t n = planes ? x->numel / planes : 0;
    const float *xd = x->data;
    float *y = k->out[0]->data;
    float p = 2;
    if (kind == GLOBAL_LP) LD_TRY(lp_order(k, &p));
    #pragma omp parallel for if (x->numel > POOL_PAR_MIN)
    for (int64_t q = 0; q < planes; q++) {
        const float *xp = xd + q * n;
        float s = 0;
        if (kind == GLOBAL_AVG) {
            #pragma omp simd reduction(+:s)
            for (int64_t i = 0; i < n; i++) s += xp[i];
            y[q] = s / (float)n;
        } else if (kind == GLOBAL_MAX) {
            float m = -INFINITY;
            for (int64_t i = 0; i < n; i++) m = xp[i] > m ? xp[i] : m;
            y[q] = m;
        } else if (p == 2) {
            #pragma omp simd reduction(+:s)
            for (int64_t i = 0; i < n; i++) s += xp[i] * xp[i];
            y[q] = sqrtf(s);
        } else {
            for (int64_t i = 0; i < n; i++) s += powf(fabsf(xp[i]), p);
            y[q] = powf(s, 1.0f / p);
        }
    }
    return LD_OK;
}

static ld_status gavg_compute(ld_kctx *k) { return global_run(k, GLOBAL_AVG); }
static ld_status gmax_compute(ld_kctx *k) { return global_run(k, GLOBAL_MAX); }
static ld_status glp_compute(ld_kctx *k) { return global_run(k, GLOBAL_LP); }

/* ---- MaxUnpool ---- */

/* Output shape implied by the pooling attributes: (in - 1) * stride - pads + kernel. */
static ld_status unpool_inferred(ld_kctx *k, int64_t *dims) {
    const ld_tensor *x = k->in[0];
    int nsp = x->ndim - 2;
    if (nsp < 1) return ld_error(LD_ERR_DATA, "MaxUnpool expects an (N,C,D1,...) input, got rank %d", x->ndim);
    int nk;
    ld_attr_ints(k->node, "kernel_shape", &nk);
    if (nk != nsp) return ld_error(LD_ERR_DATA, "kernel_shape has %d values for %d spatial dims", nk, nsp);
    int64_t ks[LD_MAX_DIMS], st[LD_MAX_DIMS], pads[2 * LD_MAX_DIMS];
    LD_TRY(pool_attr_ints(k->node, "kernel_shape", nsp, 1, 1, ks));
    LD_TRY(pool_attr_ints(k->node, "strides", nsp, 1, 1, st));
    LD_TRY(pool_attr_ints(k->node, "pads", 2 * nsp, 0, 0, pads));
    dims[0] = x->dims[0];
    dims[1] = x->dims[1];
    for (int i = 0; i < nsp; i++) {
        dims[2 + i] = (x->dims[2 + i] - 1) * st[i] - pads[i] - pads[nsp + i] + ks[i];
        if (dims[2 + i] < 0) return ld_error(LD_ERR_DATA, "MaxUnpool output dim %d is negative", 2 + i);
    }
    return LD_OK;
}

static ld_status unpool_shape(ld_kctx *k) {
    const ld_tensor *x = k->in[0], *ind = k->in[1];
    if (ind->dtype != LD_I64 || !ld_shape_equal(x, ind))
        return ld_error(LD_ERR_DATA, "MaxUnpool indices must be int64 with the shape of X");
    int64_t dims[LD_MAX_DIMS];
    LD_TRY(unpool_inferred(k, dims));
    if (LD_HAS_IN(k, 2)) {
        LD_NEED_DATA(k, 2);
        int64_t os[LD_MAX_DIMS];
        int cnt;
        LD_TRY(ld_tensor_to_i64(k->in[2], os, LD_MAX_DIMS, &cnt));
        if (cnt != x->ndim) return ld_error(LD_ERR_DATA, "output_shape has %d values for rank %d", cnt, x->ndim);
        for (int i = 0; i < cnt; i++) {
            if (os[i] < dims[i])
                return ld_error(LD_ERR_DATA, "output_shape[%d]=%lld is smaller than the unpooled size %lld",
                                i, (long long)os[i], (long long)dims[i]);
            dims[i] = os[i];
        }
    }
    return ld_tensor_set_shape(k->out[0], x->dtype, x->ndim, dims);
}

/* Indices address the tensor of the inferred shape; with a larger output_shape that tensor
 * sits in the output's leading corner (as the ONNX reference does). */
static ld_status unpool_compute(ld_kctx *k) {
    const ld_tensor *x = k->in[0];
    ld_tensor *y = k->out[0];
    int64_t inf[LD_MAX_DIMS], is[LD_MAX_DIMS], os[LD_MAX_DIMS];
    LD_TRY(unpool_inferred(k, inf));
    ld_strides(x->ndim, inf, is);
    ld_strides(y->ndim, y->dims, os);
    int64_t lim = ld_dims_numel(x->ndim, inf);
    size_t es = ld_dtype_size(x->dtype);
    if (!es) return ld_error(LD_ERR_UNSUPPORTED, "MaxUnpool on %s", ld_dtype_name(x->dtype));
    const int64_t *ind = LD_I64P(k->in[1]);
    for (int64_t i = 0; i < x->numel; i++) {
        int64_t f = ind[i], o = 0;
        if (f < 0 || f >= lim)
            return ld_error(LD_ERR_DATA, "MaxUnpool index %lld out of range [0, %lld)", (long long)f, (long long)lim);
        for (int d = 0; d < x->ndim; d++) {
            o += f / is[d] * os[d];
            f %= is[d];
        }
        memcpy((char *)y->data + o * es, (const char *)x->data + i * es, es);
    }
    return LD_OK;
}

/* ---- Dropout ---- */

/* MT19937 seeded like numpy's legacy np.random.seed(int), so a seeded training-mode Dropout
 * draws the same mask as numpy's `uniform(0, 1, shape) >= ratio`. */
typedef struct mt19937 { uint32_t mt[624]; int i; } mt19937;

static void mt_seed(mt19937 *r, uint32_t s) {
    r->mt[0] = s;
    for (int i = 1; i < 624; i++) r->mt[i] = 1812433253u * (r->mt[i - 1] ^ (r->mt[i - 1] >> 30)) + (uint32_t)i;
    r->i = 624;
}

static uint32_t mt_next(mt19937 *r) {
    if (r->i >= 624) {
        for (int i = 0; i < 624; i++) {
            uint32_t y = (r->mt[i] & 0x80000000u) | (r->mt[(i + 1) % 624] & 0x7fffffffu);
            r->mt[i] = r->mt[(i + 397) % 624] ^ (y >> 1) ^ ((y & 1) ? 0x9908b0dfu : 0);
        }
        r->i = 0;
    }
    uint32_t y = r->mt[r->i++];
    y ^= y >> 11;
    y ^= (y << 7) & 0x9d2c5680u;
    y ^= (y << 15) & 0xefc60000u;
    return y ^ (y >> 18);
}

static double mt_double(mt19937 *r) {
    uint32_t a = mt_next(r) >> 5, b = mt_next(r) >> 6;
    return (a * 67108864.0 + b) / 9007199254740992.0;
}

static ld_status dropout_shape(ld_kctx *k) {
    const ld_tensor *x = k->in[0];
    LD_TRY(ld_tensor_set_shape(k->out[0], x->dtype, x->ndim, x->dims));
    if (!LD_HAS_OUT(k, 1)) return LD_OK;
    ld_dtype mt = k->node->opset >= 10 ? LD_BOOL : x->dtype;   /* mask was T before opset 10 */
    return ld_tensor_set_shape(k->out[1], mt, x->ndim, x->dims);
}

/* Inference mode unless opset >= 12 and training_mode is true (older is_test is ignored:
 * layerdiff runs models for inference). */
static ld_status dropout_params(ld_kctx *k, bool *train, double *ratio) {
    *ratio = ld_attr_float(k->node, "ratio", 0.5f);
    *train = false;
    if (k->node->opset < 12) return LD_OK;
    if (LD_HAS_IN(k, 1)) {
        if (k->in[1]->numel != 1 || !ld_dtype_is_float(k->in[1]->dtype))
            return ld_error(LD_ERR_DATA, "Dropout ratio must be a float scalar");
        *ratio = (float)ld_tensor_get_f64(k->in[1], 0);
    }
    if (LD_HAS_IN(k, 2)) {
        if (k->in[2]->numel != 1) return ld_error(LD_ERR_DATA, "Dropout training_mode must be a scalar");
        *train = ld_tensor_get_i64(k->in[2], 0) != 0;
    }
    if (*train && !(*ratio >= 0 && *ratio < 1))
        return ld_error(LD_ERR_DATA, "Dropout ratio must be in [0, 1), got %g", *ratio);
    return LD_OK;
}

static ld_status dropout_compute(ld_kctx *k) {
    const ld_tensor *x = k->in[0];
    ld_tensor *y = k->out[0], *mask = LD_HAS_OUT(k, 1) ? k->out[1] : NULL;
    bool train;
    double ratio;
    LD_TRY(dropout_params(k, &train, &ratio));
    if (!train || ratio == 0) {
        memcpy(y->data, x->data, x->nbytes);
        if (mask && mask->dtype == LD_BOOL) memset(mask->data, 1, mask->nbytes);
        else if (mask) for (int64_t i = 0; i < x->numel; i++) ld_tensor_set_f64(mask, i, 1);
        return LD_OK;
    }
    mt19937 rng;
    mt_seed(&rng, (uint32_t)ld_attr_int(k->node, "seed", 0));
    float scale = 1.0f / (1.0f - (float)ratio);
    for (int64_t i = 0; i < x->numel; i++) {
        bool keep = mt_double(&rng) >= ratio;
        ld_tensor_set_f64(y, i, keep ? (double)((float)ld_tensor_get_f64(x, i) * scale) : 0.0);
        if (mask) ld_tensor_set_f64(mask, i, keep);
    }
    return LD_OK;
}

/* ---- table ---- */

const ld_op_def ld_ops_pool[] = {
    {"", "MaxPool", 1, maxpool_shape, maxpool_compute, LD_OPF_F32_ONLY},
    {"", "AveragePool", 1, float_pool_shape, avgpool_compute, LD_OPF_F32_ONLY},
    {"", "LpPool", 1, float_pool_shape, lppool_compute, LD_OPF_F32_ONLY},
    {"", "GlobalAveragePool", 1, global_shape, gavg_compute, LD_OPF_F32_ONLY},
    {"", "GlobalMaxPool", 1, global_shape, gmax_compute, LD_OPF_F32_ONLY},
    {"", "GlobalLpPool", 1, global_shape, glp_compute, LD_OPF_F32_ONLY},
    {"", "MaxUnpool", 9, unpool_shape, unpool_compute, 0},
    {"", "Dropout", 1, dropout_shape, dropout_compute, 0},
    {"", "Resize", 10, ld_pool_resize_shape, ld_pool_resize_compute, 0},
    {"", "Resize", 11, ld_pool_resize_shape, ld_pool_resize_compute, 0},
    {"", "Upsample", 7, ld_pool_resize_shape, ld_pool_resize_compute, 0},
    {"", "Upsample", 9, ld_pool_resize_shape, ld_pool_resize_compute, 0},
    {"", "GridSample", 16, ld_pool_gridsample_shape, ld_pool_gridsample_compute, 0},
    {"", "AffineGrid", 20, ld_pool_affinegrid_shape, ld_pool_affinegrid_compute, LD_OPF_F32_ONLY},
    {"", "RoiAlign", 10, ld_pool_roialign_shape, ld_pool_roialign_compute, LD_OPF_F32_ONLY},
    {"", "RoiAlign", 16, ld_pool_roialign_shape, ld_pool_roialign_compute, LD_OPF_F32_ONLY},
    {"", "MaxRoiPool", 1, ld_pool_maxroipool_shape, ld_pool_maxroipool_compute, LD_OPF_F32_ONLY},
    {0},
};
