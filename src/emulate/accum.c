/*
** accum.c — FP16 accumulation (--accum fp16): the ops whose sums a half-precision engine may
** keep in FP16 rerun with every partial sum rounded to FP16, so accumulation overflow (a sum
** of squares above 65504 becomes Inf) and swamping show up in the node where they happen.
** Products are exact in FP32 for FP16 operands; each add is rounded: acc = fp16(acc + a*b).
** The FP32 kernel runs first to give the output shape and the non-accumulating parts.
*/
#include "accum.h"
#include "ld_numeric.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

bool ld_accum_handles(const ld_node *n) { return ld_node_has(n, LD_OPT_ACCUM); }

static inline float h(float x) { return ld_round_f16(x); }

/* ---- MatMul / Gemm ---- */

/* C(M,N) = sum_k A[i,k] B[k,j] with FP16 accumulation, arbitrary element strides. */
static void gemm16(int64_t M, int64_t N, int64_t K, const float *A, int64_t sam, int64_t sak,
                   const float *B, int64_t sbk, int64_t sbn, float *C) {
#pragma omp parallel for schedule(static) if (M * N * K > 200000)
    for (int64_t i = 0; i < M; i++)
        for (int64_t j = 0; j < N; j++) {
            float acc = 0;
            for (int64_t k = 0; k < K; k++) acc = h(acc + A[i * sam + k * sak] * B[k * sbk + j * sbn]);
            C[i * N + j] = acc;
        }
}

static ld_status matmul16(const ld_tensor *a, const ld_tensor *b, ld_tensor *y) {
    if (a->ndim < 2 || b->ndim < 2 || y->numel == 0) return LD_OK;   /* 1-D operands: FP32 result */
    int64_t M = a->dims[a->ndim - 2], K = a->dims[a->ndim - 1], N = b->dims[b->ndim - 1];
    int64_t batch = y->numel / (M * N);
    int64_t sa[LD_MAX_DIMS], sb[LD_MAX_DIMS];
    int yb = y->ndim - 2;
    /* batch strides of a and b broadcast to y's batch dims */
    ld_tensor ab = *a, bb = *b;
    ab.ndim = a->ndim - 2;
    bb.ndim = b->ndim - 2;
    ab.numel = ld_dims_numel(ab.ndim, ab.dims);
    bb.numel = ld_dims_numel(bb.ndim, bb.dims);
    ld_broadcast_strides(&ab, yb, y->dims, sa);
    ld_broadcast_strides(&bb, yb, y->dims, sb);
    for (int64_t t = 0; t < batch; t++) {
        int64_t r = t, oa = 0, ob = 0;
        for (int d = yb - 1; d >= 0; d--) {
            int64_t i = r % y->dims[d];
            r /= y->dims[d];
            oa += i * sa[d];
            ob += i * sb[d];
        }
        gemm16(M, N, K, (const float *)a->data + oa * M * K, K, 1, (const float *)b->data + ob * K * N, N, 1,
               (float *)y->data + t * M * N);
    }
    return LD_OK;
}

static ld_status gemm_node(const ld_node *n, ld_tensor **in, ld_tensor *y) {
    const ld_tensor *a = in[0], *b = in[1];
    bool ta = ld_attr_int(n, "transA", 0), tb = ld_attr_int(n, "transB", 0);
    float alpha = ld_attr_float(n, "alpha", 1.0f), beta = ld_attr_float(n, "beta", 1.0f);
    int64_t M = y->dims[0], N = y->dims[1], K = ta ? a->dims[0] : a->dims[1];
    float *acc = malloc(sizeof(float) * (M * N + 1));
    if (!acc) return ld_oom();
    gemm16(M, N, K, a->data, ta ? 1 : K, ta ? M : 1, b->data, tb ? 1 : N, tb ? K : 1, acc);
    float *yd = y->data;
    const ld_tensor *c = n->nin > 2 ? in[2] : NULL;
    int64_t cs[LD_MAX_DIMS] = {0};
    if (c && c->kind == LD_KIND_TENSOR) ld_broadcast_strides(c, 2, y->dims, cs);
    for (int64_t i = 0; i < M; i++)
        for (int64_t j = 0; j < N; j++) {
            float v = h(alpha * acc[i * N + j]);
            if (c && c->kind == LD_KIND_TENSOR) v = h(v + beta * ((const float *)c->data)[i * cs[0] + j * cs[1]]);
            yd[i * N + j] = v;
        }
    free(acc);
    return LD_OK;
}

/* ---- Conv (any rank, groups, pads, strides, dilations) ---- */

static ld_status conv16(const ld_node *n, ld_tensor **in, ld_tensor *y) {
    const ld_tensor *x = in[0], *w = in[1], *b = n->nin > 2 ? in[2] : NULL;
    int sp = x->ndim - 2;
    if (sp < 1 || sp > 3) return LD_OK;
    int64_t N = x->dims[0], C = x->dims[1], M = w->dims[0], G = ld_attr_int(n, "group", 1);
    int64_t cg = C / G, mg = M / G;
    int64_t pads[6] = {0}, strides[3] = {1, 1, 1}, dil[3] = {1, 1, 1};
    int cnt;
    const int64_t *a;
    if ((a = ld_attr_ints(n, "strides", &cnt)) && cnt == sp) memcpy(strides, a, sizeof(int64_t) * sp);
    if ((a = ld_attr_ints(n, "dilations", &cnt)) && cnt == sp) memcpy(dil, a, sizeof(int64_t) * sp);
    if ((a = ld_attr_ints(n, "pads", &cnt)) && cnt == 2 * sp) memcpy(pads, a, sizeof(int64_t) * 2 * sp);
    const char *ap = ld_attr_str(n, "auto_pad", "NOTSET");
    int64_t id[3] = {1, 1, 1}, od[3] = {1, 1, 1}, kd[3] = {1, 1, 1};
    for (int d = 0; d < sp; d++) { id[d] = x->dims[2 + d]; od[d] = y->dims[2 + d]; kd[d] = w->dims[2 + d]; }
    if (strcmp(ap, "NOTSET") && strcmp(ap, "VALID")) {   /* SAME_*: derive the begin pads */
        for (int d = 0; d < sp; d++) {
            int64_t total = (od[d] - 1) * strides[d] + (kd[d] - 1) * dil[d] + 1 - id[d];
            if (total < 0) total = 0;
            pads[d] = !strcmp(ap, "SAME_LOWER") ? (total + 1) / 2 : total / 2;
        }
    } else if (!strcmp(ap, "VALID")) {
        memset(pads, 0, sizeof pads);
    }
    int64_t osz = od[0] * od[1] * od[2], isz = id[0] * id[1] * id[2], ksz = kd[0] * kd[1] * kd[2];
    const float *xd = x->data, *wd = w->data, *bd = b && b->kind == LD_KIND_TENSOR ? b->data : NULL;
    float *yd = y->data;
#pragma omp parallel for collapse(2) schedule(static)
    for (int64_t nn = 0; nn < N; nn++)
        for (int64_t m = 0; m < M; m++) {
            int64_t g = m / mg;
            for (int64_t o = 0; o < osz; o++) {
                int64_t o0 = o / (od[1] * od[2]), o1 = (o / od[2]) % od[1], o2 = o % od[2];
                float acc = 0;
                for (int64_t c = 0; c < cg; c++) {
                    const float *xp = xd + (nn * C + g * cg + c) * isz;
                    const float *wp = wd + (m * cg + c) * ksz;
                    for (int64_t k = 0; k < ksz; k++) {
                        int64_t k0 = k / (kd[1] * kd[2]), k1 = (k / kd[2]) % kd[1], k2 = k % kd[2];
                        int64_t i0 = o0 * strides[0] - pads[0] + k0 * dil[0];
                        int64_t i1 = sp > 1 ? o1 * strides[1] - pads[1] + k1 * dil[1] : 0;
                        int64_t i2 = sp > 2 ? o2 * strides[2] - pads[2] + k2 * dil[2] : 0;
                        if (i0 < 0 || i0 >= id[0] || i1 < 0 || i1 >= id[1] || i2 < 0 || i2 >= id[2]) continue;
                        acc = h(acc + xp[(i0 * id[1] + i1) * id[2] + i2] * wp[k]);
                    }
                }
                if (bd) acc = h(acc + bd[m]);
                yd[(nn * M + m) * osz + o] = acc;
            }
        }
    return LD_OK;
}

/* ---- reductions ---- */

/* Reduced-axis mask of a Reduce* node (axes attribute or input, noop_with_empty_axes). */
static bool reduce_mask(const ld_node *n, ld_tensor **in, int rank, bool *mask) {
    int64_t axes[LD_MAX_DIMS];
    int na = 0;
    const int64_t *a = ld_attr_ints(n, "axes", &na);
    if (a) memcpy(axes, a, sizeof(int64_t) * (na <= LD_MAX_DIMS ? na : LD_MAX_DIMS));
    else if (n->nin > 1 && in[1] && in[1]->kind == LD_KIND_TENSOR && in[1]->numel <= LD_MAX_DIMS) {
        na = (int)in[1]->numel;
        for (int i = 0; i < na; i++) axes[i] = ld_tensor_get_i64(in[1], i);
    }
    for (int d = 0; d < rank; d++) mask[d] = na == 0;
    if (na == 0 && ld_attr_int(n, "noop_with_empty_axes", 0)) return false;
    for (int i = 0; i < na && i < LD_MAX_DIMS; i++) {
        int64_t ax = axes[i] < 0 ? axes[i] + rank : axes[i];
        if (ax >= 0 && ax < rank) mask[ax] = true;
    }
    return true;
}

static ld_status reduce16(const ld_node *n, ld_tensor **in, ld_tensor *y) {
    const ld_tensor *x = in[0];
    bool mask[LD_MAX_DIMS];
    if (!reduce_mask(n, in, x->ndim, mask)) return LD_OK;
    const char *op = n->op_type;
    bool sq = !strcmp(op, "ReduceSumSquare") || !strcmp(op, "ReduceL2");
    float *acc = calloc(y->numel + 1, sizeof(float));
    if (!acc) return ld_oom();
    int64_t ostride[LD_MAX_DIMS], s = 1;
    for (int d = x->ndim - 1; d >= 0; d--) { ostride[d] = mask[d] ? 0 : s; s *= mask[d] ? 1 : x->dims[d]; }
    const float *xd = x->data;
    int64_t idx[LD_MAX_DIMS] = {0}, o = 0;
    for (int64_t i = 0; i < x->numel; i++) {
        float v = sq ? xd[i] * xd[i] : xd[i];
        acc[o] = h(acc[o] + v);
        for (int d = x->ndim - 1; d >= 0; d--) {
            o += ostride[d];
            if (++idx[d] < x->dims[d]) break;
            o -= ostride[d] * x->dims[d];
            idx[d] = 0;
        }
    }
    int64_t count = y->numel ? x->numel / y->numel : 1;
    float *yd = y->data;
    for (int64_t i = 0; i < y->numel; i++) {
        float v = acc[i];
        if (!strcmp(op, "ReduceMean")) v = h(v / (float)count);
        else if (!strcmp(op, "ReduceL2")) v = h(sqrtf(v));
        yd[i] = v;
    }
    free(acc);
    return LD_OK;
}

static ld_status gap16(ld_tensor **in, ld_tensor *y) {
    const ld_tensor *x = in[0];
    if (x->numel == 0) return LD_OK;
    int64_t planes = x->dims[0] * x->dims[1], sz = x->numel / (planes ? planes : 1);
    const float *xd = x->data;
    float *yd = y->data;
    for (int64_t p = 0; p < planes; p++) {
        float acc = 0;
        for (int64_t i = 0; i < sz; i++) acc = h(acc + xd[p * sz + i]);
        yd[p] = h(acc / (float)sz);
    }
    return LD_OK;
}

static ld_status layernorm16(const ld_node *n, ld_tensor **in, ld_tensor **out) {
    const ld_tensor *x = in[0], *sc = in[1], *bi = n->nin > 2 ? in[2] : NULL;
    int axis;
    LD_TRY(ld_axis_norm(ld_attr_int(n, "axis", -1), x->ndim, &axis));
    float eps = ld_attr_float(n, "epsilon", 1e-5f);
    int64_t rows = ld_dims_numel(axis, x->dims), cols = x->numel / (rows ? rows : 1);
    const float *xd = x->data, *sd = sc->data, *bd = bi && bi->kind == LD_KIND_TENSOR ? bi->data : NULL;
    int64_t sn = sc->numel, bn = bd ? bi->numel : 1;
    float *yd = out[0]->data;
    float *md = n->nout > 1 && out[1] ? out[1]->data : NULL, *vd = n->nout > 2 && out[2] ? out[2]->data : NULL;
    for (int64_t r = 0; r < rows; r++) {
        const float *xr = xd + r * cols;
        float s = 0, v = 0;
        for (int64_t c = 0; c < cols; c++) s = h(s + xr[c]);
        float mean = h(s / (float)cols);
        for (int64_t c = 0; c < cols; c++) { float d = h(xr[c] - mean); v = h(v + h(d * d)); }
        float var = h(v / (float)cols);
        float inv = h(1.0f / sqrtf(h(var + eps)));
        for (int64_t c = 0; c < cols; c++) {
            float t = h(h(xr[c] - mean) * inv);
            t = h(t * sd[c % sn]);
            if (bd) t = h(t + bd[c % bn]);
            yd[r * cols + c] = t;
        }
        if (md) md[r] = mean;
        if (vd) vd[r] = inv;
    }
    return LD_OK;
}

ld_status ld_accum_run_node(ld_exec *ex, const ld_node *n, ld_tensor **in, ld_tensor **out) {
    LD_TRY(ld_node_run(ex, n, in, out));      /* shapes, validation, non-float cases */
    for (int k = 0; k < n->nin; k++)
        if (in[k] && in[k]->kind == LD_KIND_TENSOR && k < 2 && in[k]->dtype != LD_F32) return LD_OK;
    if (!out[0] || out[0]->dtype != LD_F32) return LD_OK;
    switch (ld_node_traits(n)->kind) {
    case LD_OPK_MATMUL: return matmul16(in[0], in[1], out[0]);
    case LD_OPK_GEMM: return gemm_node(n, in, out[0]);
    case LD_OPK_CONV: return conv16(n, in, out[0]);
    case LD_OPK_GLOBAL_AVG_POOL: return gap16(in, out[0]);
    case LD_OPK_LAYER_NORM: return layernorm16(n, in, out);
    default: return reduce16(n, in, out[0]);
    }
}
