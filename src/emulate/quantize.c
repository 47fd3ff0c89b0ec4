/*
** quantize.c — INT8 and FP8 emulation of Conv, ConvTranspose, Gemm and MatMul.
**
** INT8 (TensorRT-style implicit quantization): symmetric, zero point 0, values clamped to
** [-127, 127]. Activations use one scale per tensor (amax from calibration, or the tensor's
** own max |x| when uncalibrated); constant weights one scale per output channel. The GEMM
** runs on the integer values held in float32, which is exact while every partial sum stays
** below 2^24: when K * 127 * 127 could exceed that, the weights are split into two 4-bit
** halves (q = 16 h + l, |h|,|l| <= 8) whose products are summed exactly and combined in
** double, exact for K < 16513. The result is scaled by s_x * s_w[c] and the bias added.
** ConvTranspose (rare in the models this targets) runs on dequantized values instead.
**
** FP8 (E4M3FN / E5M2): per-tensor scale s = amax / format max for activations and weights;
** x -> fp8(x / s) * s with saturation, then an FP32-accumulating GEMM, as FP8 tensor cores.
*/
#include "accum.h"
#include "ld_numeric.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define INT8_QMAX 127.0f

static void sat_add(ld_sat *sat, const float *x, int64_t n, int64_t clipped) {
    if (!sat) return;
    sat->total += n;
    sat->clipped += clipped;
    for (int64_t i = 0; i < n; i++)
        if (fabsf(x[i]) > sat->absmax) sat->absmax = fabsf(x[i]);
}

static float tensor_absmax(const ld_tensor *t) {
    const float *x = t->data;
    float m = 0;
    for (int64_t i = 0; i < t->numel; i++) {
        float a = fabsf(x[i]);
        if (a > m) m = a;       /* NaN never compares greater */
    }
    return m;
}

/* Activation range: calibration by tensor name, else the tensor's own max |x|. */
static float act_amax(const ld_policy *p, ld_exec *ex, const ld_node *n, int k, const ld_tensor *t) {
    if (p->calib && ex && n->in[k] >= 0) {
        float a = ld_calib_get(p->calib, ld_exec_graph(ex)->values[n->in[k]].name);
        if (a > 0) return a;
    }
    return tensor_absmax(t);
}

/* INT8: q = clamp(rint(x / s), -127, 127) as float; counts |x / s| > 127.5 as clipped. */
static void quant_int8(const float *x, float *q, int64_t n, float s, ld_sat *sat) {
    float inv = s > 0 ? 1.0f / s : 0.0f;
    int64_t ns = 0;
    for (int64_t i = 0; i < n; i++) {
        float v = x[i] * inv;
        if (v > INT8_QMAX + 0.5f) { v = INT8_QMAX; ns++; }
        else if (v < -INT8_QMAX - 0.5f) { v = -INT8_QMAX; ns++; }
        else if (isnan(v)) v = 0;
        q[i] = rintf(v);
        if (q[i] > INT8_QMAX) q[i] = INT8_QMAX;
        if (q[i] < -INT8_QMAX) q[i] = -INT8_QMAX;
    }
    sat_add(sat, x, n, ns);
}

/* FP8 fake quantization in place: x -> fp8(x / s) * s. */
static void quant_fp8(ld_target t, float *x, int64_t n, float s, ld_sat *sat) {
    const ld_format *f = ld_target_format(t);
    float inv = s > 0 ? 1.0f / s : 0.0f;
    int64_t ns = 0;
    for (int64_t i = 0; i < n; i++) {
        x[i] *= inv;
        if (fabsf(x[i]) > f->max) ns++;
    }
    f->round(x, n);   /* saturating conversion to the format */
    for (int64_t i = 0; i < n; i++) x[i] *= s;
    if (sat) sat->clipped += ns, sat->total += n;   /* x was overwritten: absmax taken before */
}

typedef struct wlayout {
    int64_t nch;      /* output channels */
    int64_t stride;   /* distance between consecutive elements of one channel */
    int64_t block;    /* elements per channel block (contiguous run) */
} wlayout;

/* Where the output channels live in the weight tensor. */
static void weight_layout(const ld_node *n, const ld_tensor *w, wlayout *L) {
    ld_op_kind op = ld_node_traits(n)->kind;
    L->nch = 1; L->stride = 1; L->block = w->numel;
    if (op == LD_OPK_CONV && w->ndim >= 2) {            /* (M, C/g, k...) */
        L->nch = w->dims[0]; L->block = w->numel / w->dims[0]; L->stride = 0;
    } else if (op == LD_OPK_GEMM && w->ndim == 2) {
        if (ld_attr_int(n, "transB", 0)) { L->nch = w->dims[0]; L->block = w->dims[1]; L->stride = 0; }
        else { L->nch = w->dims[1]; L->block = 1; L->stride = w->dims[1]; }
    } else if (op == LD_OPK_MATMUL && w->ndim >= 2) {   /* (..., K, N) */
        L->nch = w->dims[w->ndim - 1]; L->block = 1; L->stride = L->nch;
    }
}

/* channel of flat weight index i */
static int64_t weight_channel(const wlayout *L, int64_t i) {
    if (L->nch == 1) return 0;
    if (L->stride == 0) return i / L->block;
    return i % L->stride;
}

/* Reduction length K of the op for weight w. */
static int64_t reduction_len(const ld_node *n, const ld_tensor *x, const ld_tensor *w) {
    ld_op_kind op = ld_node_traits(n)->kind;
    if (op == LD_OPK_CONV) return w->numel / w->dims[0];
    if (op == LD_OPK_GEMM) return ld_attr_int(n, "transA", 0) ? x->dims[0] : x->dims[x->ndim - 1];
    return x->dims[x->ndim - 1];
}

/* Channel index of flat output index i (output channels on axis 1 for Conv, last for GEMMs). */
static int64_t out_channel(const ld_node *n, const ld_tensor *y, int64_t i) {
    if (ld_node_traits(n)->kind == LD_OPK_CONV) {
        int64_t inner = y->numel / (y->dims[0] * y->dims[1]);
        return (i / inner) % y->dims[1];
    }
    return i % y->dims[y->ndim - 1];
}

static ld_status run_with(ld_exec *ex, const ld_node *n, ld_tensor **in, ld_tensor *y) {
    ld_tensor *outs[8] = {0};
    outs[0] = y;
    for (int k = 1; k < n->nout && k < 8; k++) outs[k] = NULL;
    return ld_node_run(ex, n, in, outs);
}

static ld_status int8_gemm_like(const ld_policy *p, ld_exec *ex, const ld_node *n, ld_tensor **in,
                                ld_tensor **out, ld_sat *saturated) {
    ld_tensor xq = {0}, wq = {0}, wh = {0}, acc = {0}, acc2 = {0};
    float *sw = NULL;
    const ld_tensor *x = in[0], *w = in[1];
    bool wconst = ex && n->in[1] >= 0 && ld_exec_graph(ex)->values[n->in[1]].const_val;
    ld_status st = ld_tensor_copy(&xq, x);
    if (st == LD_OK) st = ld_tensor_copy(&wq, w);
    if (st != LD_OK) goto out;
    float sx = act_amax(p, ex, n, 0, x) / INT8_QMAX;
    quant_int8(x->data, xq.data, x->numel, sx, saturated);
    wlayout L = {1, 1, w->numel};
    if (wconst) weight_layout(n, w, &L);
    sw = calloc(L.nch, sizeof(float));
    if (!sw) { st = ld_oom(); goto out; }
    if (wconst) {
        const float *wd = w->data;
        for (int64_t i = 0; i < w->numel; i++) {
            int64_t c = weight_channel(&L, i);
            if (fabsf(wd[i]) > sw[c]) sw[c] = fabsf(wd[i]);
        }
        for (int64_t c = 0; c < L.nch; c++) sw[c] /= INT8_QMAX;
        float *q = wq.data;
        for (int64_t i = 0; i < w->numel; i++) {
            float s = sw[weight_channel(&L, i)];
            float v = s > 0 ? rintf(((const float *)w->data)[i] / s) : 0;
            q[i] = v > INT8_QMAX ? INT8_QMAX : v < -INT8_QMAX ? -INT8_QMAX : v;
        }
    } else {
        sw[0] = act_amax(p, ex, n, 1, w) / INT8_QMAX;
        quant_int8(w->data, wq.data, w->numel, sw[0], saturated);
    }
    int64_t K = reduction_len(n, x, w);
    bool split = (double)K * INT8_QMAX * INT8_QMAX >= 16777216.0;
    ld_tensor *kin[3] = {&xq, &wq, NULL};
    if (!split) {
        st = run_with(ex, n, kin, &acc);
    } else {
        /* q = 16 h + l with l in [-8, 7]: two exact GEMMs */
        st = ld_tensor_copy(&wh, &wq);
        float *h = wh.data, *l = wq.data;
        for (int64_t i = 0; st == LD_OK && i < wq.numel; i++) {
            int q = (int)l[i];
            int lo = ((q + 8) & 15) - 8;
            h[i] = (float)((q - lo) / 16);
            l[i] = (float)lo;
        }
        if (st == LD_OK) st = run_with(ex, n, kin, &acc);          /* low halves */
        ld_tensor *kin2[3] = {&xq, &wh, NULL};
        if (st == LD_OK) st = run_with(ex, n, kin2, &acc2);        /* high halves */
    }
    if (st != LD_OK) goto out;
    /* y = acc * sx * sw[c] (+ bias) */
    ld_tensor *y = out[0];
    *y = acc;
    memset(&acc, 0, sizeof acc);
    if (y->numel == 0) goto out;
    float *yd = y->data;
    const float *hi = split ? acc2.data : NULL;
    double alpha = 1.0;
    for (int64_t i = 0; i < y->numel; i++) {
        double a = split ? 16.0 * hi[i] + yd[i] : yd[i];
        int64_t c = L.nch > 1 ? out_channel(n, y, i) : 0;
        yd[i] = (float)(a * alpha * sx * sw[c < L.nch ? c : 0]);
    }
    if (n->nin > 2 && in[2] && in[2]->kind == LD_KIND_TENSOR) {
        const ld_tensor *b = in[2];
        const float *bd = b->data;
        if (ld_node_traits(n)->kind == LD_OPK_CONV) {
            int64_t inner = y->numel / (y->dims[0] * y->dims[1]);
            for (int64_t i = 0; i < y->numel; i++) yd[i] += bd[(i / inner) % y->dims[1]];
        } else {   /* Gemm: + beta * C, C broadcast to (M, N) */
            float beta = ld_attr_float(n, "beta", 1.0f);
            int64_t bs[LD_MAX_DIMS];
            ld_broadcast_strides(b, y->ndim, y->dims, bs);
            int64_t M = y->dims[0], N = y->dims[1];
            for (int64_t r = 0; r < M; r++)
                for (int64_t c = 0; c < N; c++) yd[r * N + c] += beta * bd[r * bs[0] + c * bs[1]];
        }
    }
out:
    free(sw);
    ld_tensor_clear(&xq); ld_tensor_clear(&wq); ld_tensor_clear(&wh);
    ld_tensor_clear(&acc); ld_tensor_clear(&acc2);
    return st;
}

static ld_status dequant_run(const ld_policy *p, ld_exec *ex, const ld_node *n, ld_tensor **in,
                             ld_tensor **out, ld_sat *saturated) {
    ld_tensor xq = {0}, wq = {0};
    ld_status st = ld_tensor_copy(&xq, in[0]);
    if (st == LD_OK) st = ld_tensor_copy(&wq, in[1]);
    bool wconst = ex && n->in[1] >= 0 && ld_exec_graph(ex)->values[n->in[1]].const_val;
    if (st == LD_OK) {
        float ax = act_amax(p, ex, n, 0, in[0]);
        float aw = wconst ? tensor_absmax(in[1]) : act_amax(p, ex, n, 1, in[1]);
        if (ld_target_format(p->target)->integer) {
            quant_int8(in[0]->data, xq.data, xq.numel, ax / INT8_QMAX, saturated);
            quant_int8(in[1]->data, wq.data, wq.numel, aw / INT8_QMAX, wconst ? NULL : saturated);
            for (int64_t i = 0; i < xq.numel; i++) LD_F32P(&xq)[i] *= ax / INT8_QMAX;
            for (int64_t i = 0; i < wq.numel; i++) LD_F32P(&wq)[i] *= aw / INT8_QMAX;
        } else {
            double fmax = ld_target_format(p->target)->max;
            if (saturated) {
                for (int64_t i = 0; i < xq.numel; i++)
                    if (fabsf(LD_F32P(&xq)[i]) > saturated->absmax) saturated->absmax = fabsf(LD_F32P(&xq)[i]);
            }
            quant_fp8(p->target, xq.data, xq.numel, (float)(ax / fmax), saturated);
            quant_fp8(p->target, wq.data, wq.numel, (float)(aw / fmax), wconst ? NULL : saturated);
        }
    }
    ld_tensor *kin[8] = {&xq, &wq, n->nin > 2 ? in[2] : NULL, n->nin > 3 ? in[3] : NULL};
    if (st == LD_OK) st = ld_node_run(ex, n, kin, out);
    ld_tensor_clear(&xq);
    ld_tensor_clear(&wq);
    return st;
}

ld_status ld_prec_quant_run_node(const ld_policy *p, ld_exec *ex, const ld_node *n, ld_tensor **in,
                            ld_tensor **out, ld_sat *saturated) {
    if (n->nin < 2 || !in[0] || !in[1] || in[0]->dtype != LD_F32 || in[1]->dtype != LD_F32)
        return ld_node_run(ex, n, in, out);     /* not a float GEMM: nothing to quantize */
    ld_op_kind kind = ld_node_traits(n)->kind;
    if (ld_target_format(p->target)->integer && kind != LD_OPK_CONV_TRANSPOSE &&
        !(kind == LD_OPK_GEMM && ld_attr_float(n, "alpha", 1.0f) != 1.0f))
        return int8_gemm_like(p, ex, n, in, out, saturated);
    return dequant_run(p, ex, n, in, out, saturated);
}
