/*
** ops_quant_mm.c — integer matrix products: MatMulInteger, QLinearMatMul, ConvInteger and
** QLinearConv.
**
** Operands are first turned into int32 with their zero points subtracted, then into float32
** for cblas_sgemm. The products stay exact: K is cut into slices short enough that every
** partial sum of a slice is an integer below 2^24 (slice * max|a| * max|b| < 2^24; at least
** 258 for 8-bit operands), and the slices' results add up in int32. Convolution is im2col
** followed by one product per (image, group). The QLinear ops then requantize in double with
** the float32 combined scale, round half to even and saturate, as the reference does.
*/
#include "ops_quant.h"
#include "ld_numeric.h"

#include <cblas.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

/* The first `nreq` inputs and output 0 must be present tensors (checked once, in shape()). */
static ld_status qmm_check_io(ld_kctx *k, int nreq, bool need_out0) {
    for (int i = 0; i < nreq; i++)
        if (!LD_HAS_IN(k, i) || k->in[i]->kind != LD_KIND_TENSOR)
            return ld_error(LD_ERR_DATA, "required input %d is missing or not a tensor", i);
    if (need_out0 && !LD_HAS_OUT(k, 0)) return ld_error(LD_ERR_DATA, "output 0 is required");
    return LD_OK;
}

/* ---- int32 operands ---- */

/* x - zp as int32, zp broadcast to x's shape (numpy rules), or NULL for 0. */
static ld_status qmm_operand(const ld_tensor *x, const ld_tensor *zp, int32_t **out) {
    int64_t n = x->numel;
    int32_t *v = malloc(sizeof(int32_t) * (n ? n : 1));
    if (!v) return ld_oom();
    if (x->dtype == LD_U8) for (int64_t i = 0; i < n; i++) v[i] = ((const uint8_t *)x->data)[i];
    else if (x->dtype == LD_I8) for (int64_t i = 0; i < n; i++) v[i] = ((const int8_t *)x->data)[i];
    else for (int64_t i = 0; i < n; i++) v[i] = (int32_t)ld_tensor_get_i64(x, i);
    *out = v;
    if (!zp) return LD_OK;
    if (zp->numel == 1) {
        int32_t z = (int32_t)ld_tensor_get_i64(zp, 0);
        for (int64_t i = 0; i < n; i++) v[i] -= z;
        return LD_OK;
    }
    int nd;
    int64_t bd[LD_MAX_DIMS], st[LD_MAX_DIMS], idx[LD_MAX_DIMS] = {0};
    if (ld_broadcast_dims(x->ndim, x->dims, zp->ndim, zp->dims, &nd, bd) != LD_OK ||
        nd != x->ndim || memcmp(bd, x->dims, sizeof(int64_t) * nd)) {
        char a[128], b[128];
        free(v);
        *out = NULL;
        return ld_error(LD_ERR_DATA, "zero point %s does not fit input %s",
                        ld_shape_str(zp, a, sizeof a), ld_shape_str(x, b, sizeof b));
    }
    ld_broadcast_strides(zp, nd, x->dims, st);
    int64_t zo = 0;
    for (int64_t i = 0; i < n; i++) {
        v[i] -= (int32_t)ld_tensor_get_i64(zp, zo);
        for (int d = nd - 1; d >= 0; d--) {
            zo += st[d];
            if (++idx[d] < x->dims[d]) break;
            zo -= st[d] * x->dims[d];
            idx[d] = 0;
        }
    }
    return LD_OK;
}

/* A view of t with `shape` (same data, not owned): reshapes a 1-D per-row/per-channel
 * parameter so that numpy broadcasting applies it along the right axis. */
static const ld_tensor *qmm_view(const ld_tensor *t, ld_tensor *view, int ndim, const int64_t *dims) {
    if (!t) return NULL;
    *view = *t;
    view->owns = false;
    view->ndim = ndim;
    memcpy(view->dims, dims, sizeof(int64_t) * ndim);
    return view;
}

static int64_t qmm_maxabs(const int32_t *v, int64_t n) {
    int64_t m = 0;
    for (int64_t i = 0; i < n; i++) {
        int64_t a = v[i] < 0 ? -(int64_t)v[i] : v[i];
        m = a > m ? a : m;
    }
    return m;
}

static float *qmm_to_float(const int32_t *v, int64_t n) {
    float *r = malloc(sizeof(float) * (size_t)LD_MAX(n, 1));
    if (!r) return NULL;
    #pragma omp simd
    for (int64_t i = 0; i < n; i++) r[i] = (float)v[i];
    return r;
}

/* Longest K slice whose float32 partial sums are exact for operands bounded by maxa, maxb. */
static int64_t qmm_exact_slice(int64_t maxa, int64_t maxb) {
    int64_t p = LD_MAX(maxa * maxb, 1);
    return LD_MAX((int64_t)16777215 / p, 1);
}

/* C(M,N) = A(M,K) * B(K,N) exactly, rows strided lda/ldb, in K slices of at most kc;
 * tmp holds M*N floats. */
static void qmm_gemm(int64_t M, int64_t N, int64_t K, const float *A, int64_t lda,
                     const float *B, int64_t ldb, int64_t kc, float *tmp, int32_t *C) {
    if (K == 0) { memset(C, 0, sizeof(int32_t) * M * N); return; }
    for (int64_t k0 = 0; k0 < K; k0 += kc) {
        int64_t kw = LD_MIN(kc, K - k0);
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (int)M, (int)N, (int)kw, 1.0f,
                    A + k0, (int)lda, B + k0 * ldb, (int)ldb, 0.0f, tmp, (int)N);
        if (k0 == 0) for (int64_t i = 0; i < M * N; i++) C[i] = (int32_t)tmp[i];
        else for (int64_t i = 0; i < M * N; i++) C[i] += (int32_t)tmp[i];
    }
}

/* ---- matmul geometry (numpy rules, batch broadcasting) ---- */

typedef struct qmm_geom {
    int64_t M, N, K, batch;
    int nb;                                   /* batch rank */
    int64_t bdims[LD_MAX_DIMS], ast[LD_MAX_DIMS], bst[LD_MAX_DIMS];   /* batch strides in matrices */
    int out_ndim;
    int64_t out_dims[LD_MAX_DIMS];
} qmm_geom;

static ld_status qmm_geom_make(const ld_tensor *a, const ld_tensor *b, qmm_geom *g) {
    char s1[128], s2[128];
    if (a->ndim < 1 || b->ndim < 1)
        return ld_error(LD_ERR_DATA, "matmul inputs must have rank >= 1");
    int64_t ad[LD_MAX_DIMS + 1], bd[LD_MAX_DIMS + 1];
    int an = a->ndim, bn = b->ndim;
    memcpy(ad, a->dims, sizeof(int64_t) * an);
    memcpy(bd, b->dims, sizeof(int64_t) * bn);
    if (an == 1) { ad[1] = ad[0]; ad[0] = 1; an = 2; }
    if (bn == 1) { bd[1] = 1; bn = 2; }
    g->M = ad[an - 2];
    g->K = ad[an - 1];
    g->N = bd[bn - 1];
    if (bd[bn - 2] != g->K)
        return ld_error(LD_ERR_DATA, "matmul shapes %s and %s do not match",
                        ld_shape_str(a, s1, sizeof s1), ld_shape_str(b, s2, sizeof s2));
    LD_TRY(ld_broadcast_dims(an - 2, ad, bn - 2, bd, &g->nb, g->bdims));
    g->batch = ld_dims_numel(g->nb, g->bdims);
    /* batch strides, in whole matrices, of a and b against the broadcast batch shape */
    int64_t sa = 1, sb = 1;
    for (int i = g->nb - 1; i >= 0; i--) {
        int ia = i - (g->nb - (an - 2)), ib = i - (g->nb - (bn - 2));
        int64_t da = ia >= 0 ? ad[ia] : 1, db = ib >= 0 ? bd[ib] : 1;
        g->ast[i] = da == 1 ? 0 : sa;
        g->bst[i] = db == 1 ? 0 : sb;
        sa *= da;
        sb *= db;
    }
    g->out_ndim = g->nb;
    memcpy(g->out_dims, g->bdims, sizeof(int64_t) * g->nb);
    if (a->ndim > 1) g->out_dims[g->out_ndim++] = g->M;
    if (b->ndim > 1) g->out_dims[g->out_ndim++] = g->N;
    if (g->out_ndim > LD_MAX_DIMS) return ld_error(LD_ERR_UNSUPPORTED, "matmul output rank too large");
    return LD_OK;
}

/* C[batch] = A[batch] * B[batch] for int32 operands (already zero-point shifted). */
static ld_status qmm_batched(const qmm_geom *g, const int32_t *A, int64_t na, const int32_t *B,
                             int64_t nb, int32_t *C) {
    int64_t kc = qmm_exact_slice(qmm_maxabs(A, na), qmm_maxabs(B, nb));
    float *ar = qmm_to_float(A, na), *br = qmm_to_float(B, nb);
    float *tmp = malloc(sizeof(float) * (size_t)LD_MAX(g->M * g->N, 1));
    ld_status st = LD_OK;
    if (!ar || !br || !tmp) st = ld_oom();
    int64_t idx[LD_MAX_DIMS] = {0}, ao = 0, bo = 0;
    for (int64_t bi = 0; st == LD_OK && bi < g->batch; bi++) {
        if (g->M && g->N)
            qmm_gemm(g->M, g->N, g->K, ar + ao * g->M * g->K, g->K, br + bo * g->K * g->N, g->N,
                     kc, tmp, C + bi * g->M * g->N);
        for (int d = g->nb - 1; d >= 0; d--) {
            ao += g->ast[d];
            bo += g->bst[d];
            if (++idx[d] < g->bdims[d]) break;
            ao -= g->ast[d] * g->bdims[d];
            bo -= g->bst[d] * g->bdims[d];
            idx[d] = 0;
        }
    }
    free(ar);
    free(br);
    free(tmp);
    return st;
}

/* The per-row zero point / scale of a (1-D of M elements) applies along rows: view as (M,1). */
static const ld_tensor *qmm_row_param(const ld_tensor *p, const ld_tensor *a, ld_tensor *view) {
    if (!p || p->ndim != 1 || p->numel == 1 || a->ndim < 2) return p;
    int64_t d[2] = {p->dims[0], 1};
    return qmm_view(p, view, 2, d);
}

static ld_status qmm_products(ld_kctx *k, int ia, int iaz, int ib, int ibz, qmm_geom *g, int32_t **C) {
    const ld_tensor *a = k->in[ia], *b = k->in[ib];
    LD_TRY(qmm_geom_make(a, b, g));
    ld_tensor view;
    const ld_tensor *az = LD_HAS_IN(k, iaz) ? qmm_row_param(k->in[iaz], a, &view) : NULL;
    const ld_tensor *bz = LD_HAS_IN(k, ibz) ? k->in[ibz] : NULL;
    int32_t *A = NULL, *B = NULL;
    ld_status st = qmm_operand(a, az, &A);
    if (st == LD_OK) st = qmm_operand(b, bz, &B);
    int64_t nc = g->batch * g->M * g->N;
    *C = st == LD_OK ? malloc(sizeof(int32_t) * (nc ? nc : 1)) : NULL;
    if (st == LD_OK && !*C) st = ld_oom();
    if (st == LD_OK) st = qmm_batched(g, A, a->numel, B, b->numel, *C);
    free(A);
    free(B);
    if (st != LD_OK) { free(*C); *C = NULL; }
    return st;
}

/* ---- MatMulInteger ---- */

#define QMM_INT8 (LD_DT(LD_U8) | LD_DT(LD_I8))

ld_status ld_quant_matmulinteger_shape(ld_kctx *k) {
    LD_TRY(qmm_check_io(k, 2, true));
    LD_TRY(ld_check_dtype(k, 0, QMM_INT8));
    LD_TRY(ld_check_dtype(k, 1, QMM_INT8));
    qmm_geom g;
    LD_TRY(qmm_geom_make(k->in[0], k->in[1], &g));
    return ld_tensor_set_shape(k->out[0], LD_I32, g.out_ndim, g.out_dims);
}

ld_status ld_quant_matmulinteger_compute(ld_kctx *k) {
    qmm_geom g;
    int32_t *C;
    LD_TRY(qmm_products(k, 0, 2, 1, 3, &g, &C));
    memcpy(k->out[0]->data, C, k->out[0]->nbytes);
    free(C);
    return LD_OK;
}

/* ---- requantization shared by QLinearMatMul and QLinearConv ---- */

/* Scale as float32, rounded like the reference's numpy arithmetic in the scale dtype. */
static float qmm_round_as(float v, ld_dtype t) {
    if (t == LD_F16) return ld_round_f16(v);
    if (t == LD_BF16) return ld_round_bf16(v);
    return v;
}

/* Round half to even (default rounding mode) via 1.5 * 2^52; |v| limited to 2^50 first. */
static inline double qmm_rne(double v) {
    v = v > -1125899906842624.0 ? v : -1125899906842624.0;
    v = v < 1125899906842624.0 ? v : 1125899906842624.0;
    return (v + 6755399441055744.0) - 6755399441055744.0;
}

/* y = saturate(rint(acc * scale + zp)) into an 8-bit output. */
static void qmm_requant_row(const int32_t *acc, int64_t n, double scale, double zp,
                            ld_tensor *y, int64_t off) {
    double lo = y->dtype == LD_I8 ? -128 : 0, hi = y->dtype == LD_I8 ? 127 : 255;
    for (int64_t i = 0; i < n; i++) {
        double v = qmm_rne((double)acc[i] * scale + zp);
        v = v > lo ? v : lo;
        v = v < hi ? v : hi;
        if (y->dtype == LD_I8) ((int8_t *)y->data)[off + i] = (int8_t)v;
        else ((uint8_t *)y->data)[off + i] = (uint8_t)v;
    }
}

static ld_status qmm_check_scale(ld_kctx *k, int i, int64_t n, const char *what) {
    const ld_tensor *s = k->in[i];
    if (s->numel != 1 && !(s->ndim == 1 && s->dims[0] == n))
        return ld_error(LD_ERR_UNSUPPORTED, "%s must be a scalar or have %lld elements, got %lld",
                        what, (long long)n, (long long)s->numel);
    return LD_OK;
}

/* QLinearMatMul / QLinearConv: x, x_scale, w, w_scale, y_scale required; zero points
 * optional, y_zero_point per tensor. */
static ld_status qmm_check_qlinear_io(ld_kctx *k) {
    LD_TRY(qmm_check_io(k, 2, true));
    static const int req[] = {3, 4, 6};
    for (size_t i = 0; i < LD_ARRAY_LEN(req); i++)
        if (!LD_HAS_IN(k, req[i]) || k->in[req[i]]->kind != LD_KIND_TENSOR)
            return ld_error(LD_ERR_DATA, "required input %d is missing or not a tensor", req[i]);
    if (LD_HAS_IN(k, 7) && k->in[7]->numel != 1)
        return ld_error(LD_ERR_UNSUPPORTED, "y_zero_point must be a scalar");
    return LD_OK;
}

/* ---- QLinearMatMul ---- */

ld_status ld_quant_qlinearmatmul_shape(ld_kctx *k) {
    LD_TRY(qmm_check_qlinear_io(k));
    LD_TRY(ld_check_dtype(k, 0, QMM_INT8));
    LD_TRY(ld_check_dtype(k, 3, QMM_INT8));
    qmm_geom g;
    LD_TRY(qmm_geom_make(k->in[0], k->in[3], &g));
    ld_dtype yt = LD_HAS_IN(k, 7) ? k->in[7]->dtype : k->in[0]->dtype;
    if (yt != LD_U8 && yt != LD_I8)
        return ld_error(LD_ERR_UNSUPPORTED, "QLinearMatMul output %s is not supported", ld_dtype_name(yt));
    return ld_tensor_set_shape(k->out[0], yt, g.out_ndim, g.out_dims);
}

ld_status ld_quant_qlinearmatmul_compute(ld_kctx *k) {
    qmm_geom g;
    LD_TRY(qmm_geom_make(k->in[0], k->in[3], &g));
    LD_TRY(qmm_check_scale(k, 1, g.M, "a_scale"));
    LD_TRY(qmm_check_scale(k, 4, g.N, "b_scale"));
    if (k->in[6]->numel != 1) return ld_error(LD_ERR_UNSUPPORTED, "y_scale must be a scalar");
    int32_t *C;
    LD_TRY(qmm_products(k, 0, 2, 3, 5, &g, &C));
    const ld_tensor *as = k->in[1], *bs = k->in[4], *ys = k->in[6];
    ld_dtype sdt = as->dtype;
    float ysv = (float)ld_tensor_get_f64(ys, 0);
    double zp = LD_HAS_IN(k, 7) ? (double)ld_tensor_get_i64(k->in[7], 0) : 0.0;
    ld_tensor *y = k->out[0];
    for (int64_t bi = 0; bi < g.batch; bi++)
        for (int64_t m = 0; m < g.M; m++) {
            float asv = (float)ld_tensor_get_f64(as, as->numel == 1 ? 0 : m);
            int64_t row = (bi * g.M + m) * g.N;
            if (bs->numel == 1) {
                float s = qmm_round_as(qmm_round_as(asv * (float)ld_tensor_get_f64(bs, 0), sdt) / ysv, sdt);
                qmm_requant_row(C + row, g.N, s, zp, y, row);
                continue;
            }
            for (int64_t n = 0; n < g.N; n++) {
                float s = qmm_round_as(qmm_round_as(asv * (float)ld_tensor_get_f64(bs, n), sdt) / ysv, sdt);
                qmm_requant_row(C + row + n, 1, s, zp, y, row + n);
            }
        }
    free(C);
    return LD_OK;
}

/* ---- convolution geometry ---- */

typedef struct qconv_geom {
    int ns;                                    /* spatial rank */
    int64_t N, C, M, group, Cg, Mg;
    int64_t in[LD_MAX_DIMS], k[LD_MAX_DIMS], out[LD_MAX_DIMS];
    int64_t stride[LD_MAX_DIMS], dil[LD_MAX_DIMS], pad[LD_MAX_DIMS];   /* pad: begin */
    int64_t kk, osz, isz;                      /* kernel, output and input spatial sizes */
} qconv_geom;

static ld_status qconv_geom_make(ld_kctx *k, const ld_tensor *x, const ld_tensor *w, qconv_geom *g) {
    const ld_node *n = k->node;
    char s1[128], s2[128];
    if (x->ndim < 3 || w->ndim != x->ndim)
        return ld_error(LD_ERR_DATA, "conv input %s and weight %s must be (N,C,...) and (M,C/group,...)",
                        ld_shape_str(x, s1, sizeof s1), ld_shape_str(w, s2, sizeof s2));
    memset(g, 0, sizeof *g);
    g->ns = x->ndim - 2;
    g->N = x->dims[0];
    g->C = x->dims[1];
    g->M = w->dims[0];
    g->group = ld_attr_int(n, "group", 1);
    if (g->group < 1 || g->C % g->group || g->M % g->group || w->dims[1] * g->group != g->C)
        return ld_error(LD_ERR_DATA, "conv input %s, weight %s and group %lld do not agree",
                        ld_shape_str(x, s1, sizeof s1), ld_shape_str(w, s2, sizeof s2), (long long)g->group);
    g->Cg = g->C / g->group;
    g->Mg = g->M / g->group;
    int nk, nst, nd, np;
    const int64_t *ks = ld_attr_ints(n, "kernel_shape", &nk), *st = ld_attr_ints(n, "strides", &nst);
    const int64_t *dl = ld_attr_ints(n, "dilations", &nd), *pd = ld_attr_ints(n, "pads", &np);
    if ((nk && nk != g->ns) || (nst && nst != g->ns) || (nd && nd != g->ns) || (np && np != 2 * g->ns))
        return ld_error(LD_ERR_DATA, "conv attributes do not match %d spatial dims", g->ns);
    const char *ap = ld_attr_str(n, "auto_pad", "NOTSET");
    g->kk = g->osz = g->isz = 1;
    for (int d = 0; d < g->ns; d++) {
        g->in[d] = x->dims[2 + d];
        g->k[d] = w->dims[2 + d];
        if (nk && ks[d] != g->k[d]) return ld_error(LD_ERR_DATA, "kernel_shape does not match the weight");
        g->stride[d] = nst ? st[d] : 1;
        g->dil[d] = nd ? dl[d] : 1;
        if (g->stride[d] < 1 || g->dil[d] < 1) return ld_error(LD_ERR_DATA, "strides and dilations must be >= 1");
        int64_t ext = g->dil[d] * (g->k[d] - 1) + 1, pb = np ? pd[d] : 0, pe = np ? pd[g->ns + d] : 0;
        if (!strcmp(ap, "SAME_UPPER") || !strcmp(ap, "SAME_LOWER")) {
            int64_t o = (g->in[d] + g->stride[d] - 1) / g->stride[d];
            int64_t tot = LD_MAX(0, (o - 1) * g->stride[d] + ext - g->in[d]);
            pb = !strcmp(ap, "SAME_UPPER") ? tot / 2 : tot - tot / 2;
            pe = tot - pb;
        } else if (!strcmp(ap, "VALID")) {
            pb = pe = 0;
        } else if (strcmp(ap, "NOTSET")) {
            return ld_error(LD_ERR_DATA, "unknown auto_pad '%s'", ap);
        }
        g->pad[d] = pb;
        int64_t span = g->in[d] + pb + pe - ext;
        if (span < 0) return ld_error(LD_ERR_DATA, "conv kernel is larger than the padded input");
        g->out[d] = span / g->stride[d] + 1;
        g->kk *= g->k[d];
        g->osz *= g->out[d];
        g->isz *= g->in[d];
    }
    return LD_OK;
}

static ld_status qconv_shape_common(ld_kctx *k, int ix, int iw, ld_dtype yt) {
    qconv_geom g;
    LD_TRY(qconv_geom_make(k, k->in[ix], k->in[iw], &g));
    int64_t dims[LD_MAX_DIMS] = {g.N, g.M};
    memcpy(dims + 2, g.out, sizeof(int64_t) * g.ns);
    return ld_tensor_set_shape(k->out[0], yt, g.ns + 2, dims);
}

/* Columns (Cg*kk, osz) of one image's channel group; zero outside the input. */
static void qconv_im2col(const qconv_geom *g, const int32_t *x, float *col) {
    int ns = g->ns, last = ns - 1;
    int64_t ow = g->out[last], kidx[LD_MAX_DIMS], oidx[LD_MAX_DIMS];
    for (int64_t c = 0; c < g->Cg; c++) {
        memset(kidx, 0, sizeof kidx);
        for (int64_t kk = 0; kk < g->kk; kk++) {
            float *dst = col + (c * g->kk + kk) * g->osz;
            memset(oidx, 0, sizeof oidx);
            for (int64_t o = 0; o < g->osz; o += ow) {
                /* offset of the row start and validity of the outer spatial coordinates */
                int64_t off = c * g->isz, mul = g->isz;
                bool ok = true;
                for (int d = 0; d < last; d++) {
                    mul /= g->in[d];
                    int64_t p = oidx[d] * g->stride[d] - g->pad[d] + kidx[d] * g->dil[d];
                    ok = ok && p >= 0 && p < g->in[d];
                    off += p * mul;
                }
                int64_t base = kidx[last] * g->dil[last] - g->pad[last], s = g->stride[last];
                for (int64_t j = 0; j < ow; j++) {
                    int64_t p = base + j * s;
                    dst[o + j] = ok && p >= 0 && p < g->in[last] ? (float)x[off + p] : 0.0f;
                }
                for (int d = last - 1; d >= 0; d--) {
                    if (++oidx[d] < g->out[d]) break;
                    oidx[d] = 0;
                }
            }
            for (int d = last; d >= 0; d--) {
                if (++kidx[d] < g->k[d]) break;
                kidx[d] = 0;
            }
        }
    }
}

/* Y(N, M, osz) int32 = conv(x - x_zp, w - w_zp) (+ bias). */
static ld_status qconv_run(ld_kctx *k, int ix, int ixz, int iw, int iwz, int ib, qconv_geom *g,
                           int32_t **Y) {
    const ld_tensor *x = k->in[ix], *w = k->in[iw];
    LD_TRY(qconv_geom_make(k, x, w, g));
    if (LD_HAS_IN(k, ixz) && k->in[ixz]->numel != 1)
        return ld_error(LD_ERR_UNSUPPORTED, "x_zero_point must be a scalar");
    ld_tensor view;
    const ld_tensor *wz = LD_HAS_IN(k, iwz) ? k->in[iwz] : NULL;
    if (wz && wz->numel != 1) {
        if (wz->ndim != 1 || wz->dims[0] != g->M)
            return ld_error(LD_ERR_DATA, "w_zero_point must be a scalar or have %lld elements", (long long)g->M);
        int64_t d[LD_MAX_DIMS] = {g->M};
        for (int i = 1; i < w->ndim; i++) d[i] = 1;
        wz = qmm_view(wz, &view, w->ndim, d);
    }
    int32_t *X = NULL, *W = NULL;
    float *wr = NULL, *col = NULL, *tmp = NULL;
    int64_t ny = g->N * g->M * g->osz, kdim = g->Cg * g->kk;
    *Y = malloc(sizeof(int32_t) * (size_t)LD_MAX(ny, 1));
    ld_status st = *Y ? LD_OK : ld_oom();
    if (st == LD_OK) st = qmm_operand(x, LD_HAS_IN(k, ixz) ? k->in[ixz] : NULL, &X);
    if (st == LD_OK) st = qmm_operand(w, wz, &W);
    int64_t kc = st == LD_OK ? qmm_exact_slice(qmm_maxabs(X, x->numel), qmm_maxabs(W, w->numel)) : 1;
    if (st == LD_OK) {
        wr = qmm_to_float(W, w->numel);
        col = malloc(sizeof(float) * (size_t)LD_MAX(kdim * g->osz, 1));
        tmp = malloc(sizeof(float) * (size_t)LD_MAX(g->Mg * g->osz, 1));
        if (!wr || !col || !tmp) st = ld_oom();
    }
    for (int64_t n = 0; st == LD_OK && n < g->N; n++)
        for (int64_t gr = 0; gr < g->group; gr++) {
            qconv_im2col(g, X + (n * g->C + gr * g->Cg) * g->isz, col);
            if (g->Mg && g->osz)
                qmm_gemm(g->Mg, g->osz, kdim, wr + gr * g->Mg * kdim, kdim, col, g->osz, kc, tmp,
                         *Y + (n * g->M + gr * g->Mg) * g->osz);
        }
    if (st == LD_OK && ib >= 0 && LD_HAS_IN(k, ib)) {
        const ld_tensor *b = k->in[ib];
        if (b->numel != g->M) st = ld_error(LD_ERR_DATA, "bias must have %lld elements", (long long)g->M);
        for (int64_t n = 0; st == LD_OK && n < g->N; n++)
            for (int64_t m = 0; m < g->M; m++) {
                int32_t bv = (int32_t)ld_tensor_get_i64(b, m);
                int32_t *row = *Y + (n * g->M + m) * g->osz;
                for (int64_t i = 0; i < g->osz; i++) row[i] += bv;
            }
    }
    free(X); free(W); free(col); free(wr); free(tmp);
    if (st != LD_OK) { free(*Y); *Y = NULL; }
    return st;
}

/* ---- ConvInteger ---- */

ld_status ld_quant_convinteger_shape(ld_kctx *k) {
    LD_TRY(qmm_check_io(k, 2, true));
    LD_TRY(ld_check_dtype(k, 0, QMM_INT8));
    LD_TRY(ld_check_dtype(k, 1, QMM_INT8));
    return qconv_shape_common(k, 0, 1, LD_I32);
}

ld_status ld_quant_convinteger_compute(ld_kctx *k) {
    qconv_geom g;
    int32_t *Y;
    LD_TRY(qconv_run(k, 0, 2, 1, 3, -1, &g, &Y));
    memcpy(k->out[0]->data, Y, k->out[0]->nbytes);
    free(Y);
    return LD_OK;
}

/* ---- QLinearConv ---- */

ld_status ld_quant_qlinearconv_shape(ld_kctx *k) {
    LD_TRY(qmm_check_qlinear_io(k));
    LD_TRY(ld_check_dtype(k, 0, QMM_INT8));
    LD_TRY(ld_check_dtype(k, 3, QMM_INT8));
    ld_dtype yt = LD_HAS_IN(k, 7) ? k->in[7]->dtype : k->in[0]->dtype;
    if (yt != LD_U8 && yt != LD_I8)
        return ld_error(LD_ERR_UNSUPPORTED, "QLinearConv output %s is not supported", ld_dtype_name(yt));
    return qconv_shape_common(k, 0, 3, yt);
}

ld_status ld_quant_qlinearconv_compute(ld_kctx *k) {
    qconv_geom g;
    LD_TRY(qconv_geom_make(k, k->in[0], k->in[3], &g));
    LD_TRY(qmm_check_scale(k, 4, g.M, "w_scale"));
    if (k->in[1]->numel != 1 || k->in[6]->numel != 1)
        return ld_error(LD_ERR_UNSUPPORTED, "x_scale and y_scale must be scalars");
    int32_t *Y;
    LD_TRY(qconv_run(k, 0, 2, 3, 5, 8, &g, &Y));
    float xs = (float)ld_tensor_get_f64(k->in[1], 0), ys = (float)ld_tensor_get_f64(k->in[6], 0);
    const ld_tensor *ws = k->in[4];
    double zp = LD_HAS_IN(k, 7) ? (double)ld_tensor_get_i64(k->in[7], 0) : 0.0;
    for (int64_t n = 0; n < g.N; n++)
        for (int64_t m = 0; m < g.M; m++) {
            float s = xs * (float)ld_tensor_get_f64(ws, ws->numel == 1 ? 0 : m) / ys;
            int64_t off = (n * g.M + m) * g.osz;
            qmm_requant_row(Y + off, g.osz, s, zp, k->out[0], off);
        }
    free(Y);
    return LD_OK;
}
