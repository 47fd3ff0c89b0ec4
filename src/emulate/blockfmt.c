/*
** blockfmt.c — block-scaled emulation (W4A16, NVFP4, MXFP8, MXFP4): the per-block scale
** recipes, blocking a tensor along its reduction axis, and running a GEMM-like node on
** block-quantized inputs (see ld_blockfmt.h for the recipes). The element conversions are
** the shared ones of src/core/numeric.c (E2M1, E4M3, E8M0).
*/
#include "ld_blockfmt.h"
#include "ld_numeric.h"

#include <assert.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#define NVFP4_ELEM_MAX 6.0f
#define NVFP4_SCALE_MAX 448.0f
#define INT4_QMAX 7.0f

/* A scaled element saturates (counts as clipped) when it lies beyond the rounding range of
 * the largest element value, i.e. it would overflow without saturation: E4M3 above 464
 * (halfway 448..480, a tie rounds to 448), E2M1 from 7 (halfway 6..8, a tie rounds to 8). */
static bool e4m3_overflows(float v) { return fabsf(v) > 464.0f; }
static bool e2m1_overflows(float v) { return fabsf(v) >= 7.0f; }

float ld_nvfp4_global_scale(const float *x, int64_t n) {
    float m = 0;
    for (int64_t i = 0; i < n; i++) {
        float a = fabsf(x[i]);
        if (isfinite(a) && a > m) m = a;
    }
    return m / (NVFP4_ELEM_MAX * NVFP4_SCALE_MAX);
}

/* OCP MX: E8M0 code of the shared scale, 2^(floor(log2(amax)) - emax_elem), exponent
 * clamped to the E8M0 minimum (code 0 = 2^-127); 0xff (NaN) for a non-finite amax. */
static uint8_t mx_scale_code(float amax, int emax_elem) {
    uint8_t c = ld_f32_to_f8e8m0(amax, false, 1);   /* biased floor(log2(amax)); NaN/Inf -> 0xff */
    if (c == 0xff) return c;
    return c > emax_elem ? (uint8_t)(c - emax_elem) : 0;
}

float ld_block_quant(ld_block_kind k, float *x, int64_t n, float g, int64_t *clipped) {
    assert(k > LD_BLOCK_NONE && k < LD_BLOCK_KIND_COUNT);
    float amax = 0;
    bool bad = false;
    for (int64_t i = 0; i < n; i++) {
        float a = fabsf(x[i]);
        if (!isfinite(a)) bad = true;
        else if (a > amax) amax = a;
    }
    if (bad) {                       /* NaN scale: the whole block is NaN */
        for (int64_t i = 0; i < n; i++) x[i] = NAN;
        return NAN;
    }
    int64_t nc = 0;
    float s;
    switch (k) {
    case LD_BLOCK_INT4:
        s = amax / INT4_QMAX;
        if (s == 0) break;
        for (int64_t i = 0; i < n; i++) {
            float q = rintf(x[i] / s);
            if (q > INT4_QMAX) { q = INT4_QMAX; nc++; }
            else if (q < -INT4_QMAX - 1) { q = -INT4_QMAX - 1; nc++; }
            x[i] = q * s;
        }
        break;
    case LD_BLOCK_NVFP4:
        s = 0;
        if (g > 0 && isfinite(g)) s = ld_round_e4m3((amax / NVFP4_ELEM_MAX) / g) * g;
        if (s == 0) break;
        for (int64_t i = 0; i < n; i++) {
            float v = x[i] / s;
            if (e2m1_overflows(v)) nc++;
            x[i] = ld_round_e2m1(v) * s;
        }
        break;
    case LD_BLOCK_MXFP8:
    case LD_BLOCK_MXFP4: {
        bool fp8 = k == LD_BLOCK_MXFP8;
        s = ld_f8e8m0_to_f32(mx_scale_code(amax, fp8 ? 8 : 2));
        for (int64_t i = 0; i < n; i++) {
            float v = x[i] / s;      /* exact: s is a power of two >= 2^-127 */
            if (fp8 ? e4m3_overflows(v) : e2m1_overflows(v)) nc++;
            x[i] = (fp8 ? ld_round_e4m3(v) : ld_round_e2m1(v)) * s;
        }
        break;
    }
    default:
        return NAN;
    }
    if (s == 0)                      /* all-zero block, or a block scale that underflows */
        for (int64_t i = 0; i < n; i++) x[i] = copysignf(0.0f, x[i]);
    if (clipped) *clipped += nc;
    return s;
}

ld_status ld_block_quant_tensor(ld_block_kind k, float *x, int64_t outer, int64_t K, int64_t inner,
                                int64_t block, float *scales, int64_t *clipped) {
    assert(block > 0 && outer >= 0 && K >= 0 && inner >= 0);
    int64_t numel = outer * K * inner, nblk = (K + block - 1) / block;
    float g = k == LD_BLOCK_NVFP4 ? ld_nvfp4_global_scale(x, numel) : 0;
    float *buf = NULL;
    if (inner > 1 && !(buf = malloc(sizeof(float) * (size_t)(block < K ? block : K)))) return ld_oom();
    for (int64_t o = 0; o < outer; o++)
        for (int64_t in = 0; in < inner; in++)
            for (int64_t b = 0; b < nblk; b++) {
                int64_t k0 = b * block, len = K - k0 < block ? K - k0 : block;
                float *base = x + (o * K + k0) * inner + in, s;
                if (inner == 1) {
                    s = ld_block_quant(k, base, len, g, clipped);
                } else {
                    for (int64_t j = 0; j < len; j++) buf[j] = base[j * inner];
                    s = ld_block_quant(k, buf, len, g, clipped);
                    for (int64_t j = 0; j < len; j++) base[j * inner] = buf[j];
                }
                if (scales) scales[(o * inner + in) * nblk + b] = s;
            }
    free(buf);
    return LD_OK;
}

/* (outer, K, inner) view of input k of a GEMM-like node with K its reduction axis; false when
 * the op or rank has none (the input then stays as it is). */
static bool reduction_view(const ld_node *n, int k, const ld_tensor *t, int64_t v[3]) {
    ld_op_kind op = ld_node_traits(n)->kind;
    int nd = t->ndim;
    const int64_t *d = t->dims;
    int64_t grp = ld_attr_int(n, "group", 1);
    if (nd < 1 || t->numel == 0) return false;
    v[0] = 1; v[1] = d[0]; v[2] = 1;
    if (op == LD_OPK_CONV && nd >= 2) {
        if (grp < 1 || d[k == 0 ? 1 : 0] % (k == 0 ? grp : 1)) return false;
        if (k == 0) { v[0] = d[0] * grp; v[1] = d[1] / grp; v[2] = t->numel / (d[0] * d[1]); }
        else { v[0] = d[0]; v[1] = d[1]; v[2] = t->numel / (d[0] * d[1]); }   /* (M, C/g, k...):
                 * along C/g at each kernel position, the K indices the activation blocks cover */
    } else if (op == LD_OPK_CONV_TRANSPOSE && nd >= 2) {
        if (grp < 1 || d[k == 0 ? 1 : 0] % grp) return false;
        if (k == 0) { v[0] = d[0] * grp; v[1] = d[1] / grp; v[2] = t->numel / (d[0] * d[1]); }
        else { v[0] = grp; v[1] = d[0] / grp; v[2] = t->numel / d[0]; }    /* (C, M/g, k...) */
    } else if (op == LD_OPK_GEMM && nd == 2) {
        bool tr = ld_attr_int(n, k == 0 ? "transA" : "transB", 0) != 0;
        bool k_first = k == 0 ? tr : !tr;                                  /* K on axis 0 */
        if (k_first) { v[0] = 1; v[1] = d[0]; v[2] = d[1]; }
        else { v[0] = d[0]; v[1] = d[1]; v[2] = 1; }
    } else if (op == LD_OPK_MATMUL) {
        if (nd == 1) return true;                                          /* (K) */
        if (k == 0) { v[1] = d[nd - 1]; v[0] = t->numel / v[1]; v[2] = 1; }  /* (..., M, K) */
        else { v[1] = d[nd - 2]; v[2] = d[nd - 1]; v[0] = t->numel / (v[1] * v[2]); }   /* (..., K, N) */
    } else {
        return false;
    }
    assert(v[0] * v[1] * v[2] == t->numel);
    return v[1] > 0;
}

int ld_policy_block_size(const ld_policy *p) {
    const ld_format *f = ld_target_format(p->target);
    if (!f->block) return 0;
    return f->block_size_flag && p->block_size > 0 ? p->block_size : f->block_size;
}

ld_status ld_block_run_node(const ld_policy *p, ld_exec *ex, const ld_node *n, ld_tensor **in,
                            ld_tensor **out, ld_sat *sat) {
    const ld_format *f = ld_target_format(p->target);
    assert(f->block != LD_BLOCK_NONE);
    if (n->nin < 2 || !in[0] || !in[1] || in[0]->dtype != LD_F32 || in[1]->dtype != LD_F32)
        return ld_node_run(ex, n, in, out);     /* not a float GEMM: nothing to quantize */
    const ld_graph *g = ex ? ld_exec_graph(ex) : NULL;
    int64_t block = ld_policy_block_size(p);
    ld_tensor q[2] = {{0}};
    ld_tensor *kin[8] = {0};
    ld_status st = LD_OK;
    for (int k = 0; k < n->nin && k < 8; k++) kin[k] = in[k];
    for (int k = 0; k < 2 && st == LD_OK; k++) {
        bool is_const = g && n->in[k] >= 0 && g->values[n->in[k]].const_val;
        int64_t v[3];
        if (!(ld_node_traits(n)->qgemm_inputs >> k & 1) || (f->weights_only && !(k == 1 && is_const)) ||
            !reduction_view(n, k, in[k], v))
            continue;
        st = ld_tensor_copy(&q[k], in[k]);
        if (st != LD_OK) break;
        float *x = q[k].data;
        int64_t clipped = 0;
        if (sat && !is_const) {
            for (int64_t i = 0; i < q[k].numel; i++)
                if (fabsf(x[i]) > sat->absmax) sat->absmax = fabsf(x[i]);
        }
        st = ld_block_quant_tensor(f->block, x, v[0], v[1], v[2], block, NULL, &clipped);
        if (sat && !is_const) sat->total += q[k].numel, sat->clipped += clipped;
        kin[k] = &q[k];
    }
    if (st == LD_OK) st = ld_node_run(ex, n, kin, out);
    ld_tensor_clear(&q[0]);
    ld_tensor_clear(&q[1]);
    return st;
}
