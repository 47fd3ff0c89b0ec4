/*
** ops_attn.c — kernel family 'attn': Attention (opset 23/24) and the family's op table
** (RotaryEmbedding, SwiGLU, CausalConvWithState in ops_attn_misc.c; LinearAttention and
** FlexAttention in ops_attn_linear.c).
**
** Attention works per (batch, query head) on strided views, so 3-D inputs (B, S, H*D) are
** never transposed: scores = scale * Q_bh K_bh^T (ld_nn_sgemm), then per row softcap, the
** additive bias (attn_mask, causal frontier, nonpad_kv_seqlen padding), softmax (a fully
** masked row gives zeros), and Y_bh = P V_bh (ld_nn_sgemm). Grouped-query attention maps
** query head h to kv head h / (Hq / Hkv). past_key/past_value are concatenated into the
** present_* outputs (or a scratch buffer when those are not requested).
*/
#include "ops_nn.h"
#include "ops_norm.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#ifdef _OPENMP
#include <omp.h>
#endif

/* A (B, H, rows, cols) tensor seen through strides: batch, head, row (cols contiguous). */
typedef struct { float *p; int64_t bs, hs, ld; } attn_view;

typedef struct {
    int64_t B, Hq, Hkv, Sq, Skv, P, T, D, Dv;
    bool in3d, causal;
    float scale, softcap;
    int mode;                        /* qk_matmul_output_mode */
    /* attn_mask seen as (B, Hq, Sq, Tm): strides 0 where broadcast; NULL when absent */
    const void *mask;
    bool mask_bool;
    int64_t mbs, mhs, mis, Tm;
    const int64_t *nonpad;           /* (B,) valid key counts or NULL */
} attn_dims;

static ld_status attn_bad(const char *what, const ld_tensor *t) {
    char s[128];
    return ld_error(LD_ERR_DATA, "Attention: %s has unexpected shape %s", what, ld_shape_str(t, s, sizeof s));
}

static ld_status attn_heads_3d(ld_kctx *k, attn_dims *A) {
    const ld_tensor *q = k->in[0], *kk = k->in[1], *v = k->in[2];
    A->Hq = ld_attr_int(k->node, "q_num_heads", 0);
    A->Hkv = ld_attr_int(k->node, "kv_num_heads", 0);
    if (A->Hq <= 0 || A->Hkv <= 0)
        return ld_error(LD_ERR_DATA, "Attention with 3-D inputs needs q_num_heads and kv_num_heads");
    if (q->dims[2] % A->Hq || kk->dims[2] % A->Hkv || v->dims[2] % A->Hkv)
        return ld_error(LD_ERR_DATA, "Attention: hidden sizes (%lld, %lld, %lld) are not divisible by the head counts (%lld, %lld)",
                        (long long)q->dims[2], (long long)kk->dims[2], (long long)v->dims[2],
                        (long long)A->Hq, (long long)A->Hkv);
    A->B = q->dims[0];
    A->Sq = q->dims[1];
    A->D = q->dims[2] / A->Hq;
    A->Skv = kk->dims[1];
    A->Dv = v->dims[2] / A->Hkv;
    if (kk->dims[0] != A->B || kk->dims[2] / A->Hkv != A->D) return attn_bad("K", kk);
    if (v->dims[0] != A->B || v->dims[1] != A->Skv) return attn_bad("V", v);
    return LD_OK;
}

static ld_status attn_heads_4d(ld_kctx *k, attn_dims *A) {
    const ld_tensor *q = k->in[0], *kk = k->in[1], *v = k->in[2];
    A->B = q->dims[0];
    A->Hq = q->dims[1];
    A->Sq = q->dims[2];
    A->D = q->dims[3];
    A->Hkv = kk->dims[1];
    A->Skv = kk->dims[2];
    A->Dv = v->dims[3];
    if (kk->dims[0] != A->B || kk->dims[3] != A->D) return attn_bad("K", kk);
    if (v->dims[0] != A->B || v->dims[1] != A->Hkv || v->dims[2] != A->Skv) return attn_bad("V", v);
    return LD_OK;
}

static ld_status attn_past(ld_kctx *k, attn_dims *A) {
    bool pk = LD_HAS_IN(k, 4), pv = LD_HAS_IN(k, 5);
    A->P = 0;
    if (pk != pv) return ld_error(LD_ERR_DATA, "Attention: past_key and past_value must be given together");
    if (pk) {
        const ld_tensor *a = k->in[4], *b = k->in[5];
        if (a->ndim != 4 || a->dims[0] != A->B || a->dims[1] != A->Hkv || a->dims[3] != A->D)
            return attn_bad("past_key", a);
        if (b->ndim != 4 || b->dims[0] != A->B || b->dims[1] != A->Hkv || b->dims[2] != a->dims[2] ||
            b->dims[3] != A->Dv)
            return attn_bad("past_value", b);
        A->P = a->dims[2];
    }
    A->T = A->P + A->Skv;
    return LD_OK;
}

/* attn_mask: broadcastable to (B, Hq, Sq, T); a shorter last axis is padded with masked keys. */
static ld_status attn_mask_view(ld_kctx *k, attn_dims *A) {
    A->mask = NULL;
    if (!LD_HAS_IN(k, 3)) return LD_OK;
    const ld_tensor *m = k->in[3];
    if (m->dtype != LD_BOOL && m->dtype != LD_F32)
        return ld_error(LD_ERR_UNSUPPORTED, "Attention: attn_mask of dtype %s", ld_dtype_name(m->dtype));
    if (m->ndim < 1 || m->ndim > 4) return attn_bad("attn_mask", m);
    int64_t want[3] = {A->B, A->Hq, A->Sq}, st[LD_MAX_DIMS], *out[3] = {&A->mbs, &A->mhs, &A->mis};
    ld_strides(m->ndim, m->dims, st);
    for (int d = 0; d < 3; d++) {
        int md = m->ndim - 4 + d;   /* mask axis aligned with (B, Hq, Sq) axis d */
        *out[d] = 0;
        if (md < 0) continue;
        if (m->dims[md] != 1 && m->dims[md] != want[d]) return attn_bad("attn_mask", m);
        if (m->dims[md] != 1) *out[d] = st[md];
    }
    A->Tm = m->dims[m->ndim - 1];
    if (A->Tm > A->T) return attn_bad("attn_mask", m);
    A->mask = m->data;
    A->mask_bool = m->dtype == LD_BOOL;
    return LD_OK;
}

static ld_status attn_dims_get(ld_kctx *k, attn_dims *A) {
    memset(A, 0, sizeof *A);
    for (int i = 0; i < 3; i++)
        if (!LD_HAS_IN(k, i)) return ld_error(LD_ERR_DATA, "Attention needs Q, K and V");
    const ld_tensor *q = k->in[0];
    int r = q->ndim;
    if ((r != 3 && r != 4) || k->in[1]->ndim != r || k->in[2]->ndim != r)
        return ld_error(LD_ERR_DATA, "Attention: Q, K, V must all be 3-D or all 4-D (got ranks %d, %d, %d)",
                        r, k->in[1]->ndim, k->in[2]->ndim);
    for (int i = 0; i < 3; i++) LD_TRY(ld_check_dtype(k, i, LD_DT(LD_F32)));
    A->in3d = r == 3;
    LD_TRY(A->in3d ? attn_heads_3d(k, A) : attn_heads_4d(k, A));
    if (A->Hq % A->Hkv)
        return ld_error(LD_ERR_DATA, "Attention: q_num_heads %lld is not a multiple of kv_num_heads %lld",
                        (long long)A->Hq, (long long)A->Hkv);
    LD_TRY(attn_past(k, A));
    LD_TRY(attn_mask_view(k, A));
    if (LD_HAS_IN(k, 6)) {
        const ld_tensor *np = k->in[6];
        if (np->dtype != LD_I64 || np->numel != A->B) return attn_bad("nonpad_kv_seqlen", np);
        A->nonpad = np->data;
    }
    const ld_attr *sa = ld_node_attr(k->node, "scale");
    A->scale = sa ? ld_attr_float(k->node, "scale", 1.0f) : (float)(1.0 / sqrt((double)(A->D > 0 ? A->D : 1)));
    A->softcap = ld_attr_float(k->node, "softcap", 0.0f);
    A->causal = ld_attr_int(k->node, "is_causal", 0) != 0;
    A->mode = (int)ld_attr_int(k->node, "qk_matmul_output_mode", 0);
    if (A->mode < 0 || A->mode > 3)
        return ld_error(LD_ERR_DATA, "Attention: qk_matmul_output_mode %d is not 0..3", A->mode);
    return LD_OK;
}

static ld_status attn_shape(ld_kctx *k) {
    attn_dims A;
    LD_TRY(attn_dims_get(k, &A));
    ld_dtype dt = k->in[0]->dtype;
    int64_t y3[3] = {A.B, A.Sq, A.Hq * A.Dv}, y4[4] = {A.B, A.Hq, A.Sq, A.Dv};
    LD_TRY(A.in3d ? ld_tensor_set_shape(k->out[0], dt, 3, y3) : ld_tensor_set_shape(k->out[0], dt, 4, y4));
    int64_t pk[4] = {A.B, A.Hkv, A.T, A.D}, pv[4] = {A.B, A.Hkv, A.T, A.Dv}, qk[4] = {A.B, A.Hq, A.Sq, A.T};
    if (LD_HAS_OUT(k, 1)) LD_TRY(ld_tensor_set_shape(k->out[1], dt, 4, pk));
    if (LD_HAS_OUT(k, 2)) LD_TRY(ld_tensor_set_shape(k->out[2], dt, 4, pv));
    if (LD_HAS_OUT(k, 3)) LD_TRY(ld_tensor_set_shape(k->out[3], dt, 4, qk));
    return LD_OK;
}

/* ---- views and the KV cache ---- */

/* View of a 3-D (B, S, H*W) or 4-D (B, H, S, W) tensor as (B, H, S, W). */
static attn_view attn_view_of(float *p, bool in3d, int64_t H, int64_t S, int64_t W) {
    attn_view v = {p, H * S * W, 0, 0};
    if (in3d) { v.hs = W; v.ld = H * W; }
    else { v.hs = S * W; v.ld = W; }
    return v;
}

/* dst (B, Hkv, T, W) = concat(past (B, Hkv, P, W), new rows of view src) along T. */
static void attn_cache_fill(float *dst, const float *past, attn_view src, const attn_dims *A, int64_t W) {
    for (int64_t b = 0; b < A->B; b++)
        for (int64_t h = 0; h < A->Hkv; h++) {
            float *d = dst + (b * A->Hkv + h) * A->T * W;
            if (A->P) memcpy(d, past + (b * A->Hkv + h) * A->P * W, sizeof(float) * A->P * W);
            for (int64_t t = 0; t < A->Skv; t++)
                memcpy(d + (A->P + t) * W, src.p + b * src.bs + h * src.hs + t * src.ld, sizeof(float) * W);
        }
}

/* The (B, Hkv, T, W) keys or values: the present output, a scratch concat, or the input. */
static ld_status attn_kv(ld_kctx *k, const attn_dims *A, int in, int past, int out, int64_t W,
                         attn_view *v, float **scratch) {
    attn_view src = attn_view_of(k->in[in]->data, A->in3d, A->Hkv, A->Skv, W);
    *scratch = NULL;
    if (!LD_HAS_OUT(k, out) && !A->P) { *v = src; return LD_OK; }
    float *dst = LD_HAS_OUT(k, out) ? k->out[out]->data : NULL;
    if (!dst) {
        dst = *scratch = malloc(sizeof(float) * (A->B * A->Hkv * A->T * W + 1));
        if (!dst) return ld_oom();
    }
    attn_cache_fill(dst, A->P ? k->in[past]->data : NULL, src, A, W);
    *v = (attn_view){dst, A->Hkv * A->T * W, A->T * W, W};
    return LD_OK;
}

/* ---- one row of scores ---- */

static void attn_copy_qk(float *qk, const float *s, int64_t n) { if (qk) memcpy(qk, s, sizeof(float) * n); }

/* s: the T scores of query i of batch b / head h; qk: where qk_matmul_output goes or NULL. */
static void attn_row(const attn_dims *A, float *s, int64_t b, int64_t h, int64_t i, float *qk) {
    int64_t T = A->T;
    if (A->mode == 0) attn_copy_qk(qk, s, T);
    if (A->softcap > 0) {
        float c = A->softcap, ic = 1.0f / c;
        for (int64_t j = 0; j < T; j++) s[j] = c * tanhf(s[j] * ic);
    }
    if (A->mode == 1) attn_copy_qk(qk, s, T);
    if (A->mask) {
        int64_t off = b * A->mbs + h * A->mhs + i * A->mis;
        if (A->mask_bool) {
            const bool *m = (const bool *)A->mask + off;
            for (int64_t j = 0; j < A->Tm; j++) if (!m[j]) s[j] = -INFINITY;
        } else {
            const float *m = (const float *)A->mask + off;
            for (int64_t j = 0; j < A->Tm; j++) s[j] += m[j];
        }
        for (int64_t j = A->Tm; j < T; j++) s[j] = -INFINITY;
    }
    if (A->causal) {   /* key j visible iff j <= i + offset (bottom-right aligned) */
        int64_t offset = A->P ? A->P : A->nonpad ? A->nonpad[b] - A->Sq : 0;
        for (int64_t j = LD_MAX(0, i + offset + 1); j < T; j++) s[j] = -INFINITY;
    }
    if (A->nonpad)
        for (int64_t j = LD_MAX(0, A->nonpad[b]); j < T; j++) s[j] = -INFINITY;
    if (A->mode == 2) attn_copy_qk(qk, s, T);
    ld_norm_softmax_row(s, T);
    if (A->mode == 3) attn_copy_qk(qk, s, T);
}

/* ---- one (batch, query head) ---- */

typedef struct {
    attn_dims A;
    attn_view q, k, v, y;
    float *qk;                       /* (B, Hq, Sq, T) or NULL */
} attn_ctx;

static void attn_head(const attn_ctx *c, int64_t b, int64_t h, float *s, bool par_rows) {
    const attn_dims *A = &c->A;
    int64_t hk = h / (A->Hq / A->Hkv);
    const float *q = c->q.p + b * c->q.bs + h * c->q.hs;
    const float *kk = c->k.p + b * c->k.bs + hk * c->k.hs;
    const float *v = c->v.p + b * c->v.bs + hk * c->v.hs;
    float *y = c->y.p + b * c->y.bs + h * c->y.hs;
    if (A->D > 0)
        ld_nn_sgemm(false, true, A->Sq, A->T, A->D, A->scale, q, c->q.ld, kk, c->k.ld, 0.0f, s, A->T);
    else
        memset(s, 0, sizeof(float) * A->Sq * A->T);
    float *qk = c->qk ? c->qk + (b * A->Hq + h) * A->Sq * A->T : NULL;
#pragma omp parallel for schedule(static) if (par_rows && A->Sq * A->T > 32768 && A->Sq > 1)
    for (int64_t i = 0; i < A->Sq; i++)
        attn_row(A, s + i * A->T, b, h, i, qk ? qk + i * A->T : NULL);
    if (A->Dv > 0)
        ld_nn_sgemm(false, false, A->Sq, A->Dv, A->T, 1.0f, s, A->T, v, c->v.ld, 0.0f, y, c->y.ld);
}

/* Small heads: spread heads over threads (each sgemm single-threaded); large heads: one at a
 * time, OpenBLAS and the row loop use the threads. */
static ld_status attn_heads_run(const attn_ctx *c) {
    const attn_dims *A = &c->A;
    int64_t nh = A->B * A->Hq, ss = A->Sq * A->T;
    bool small = (double)A->Sq * A->T * (A->D + A->Dv) < 200000;
    int nt = small && nh > 1 ? ld_nthreads : 1;
    if (nt < 1) nt = 1;
    float *s = malloc(sizeof(float) * (ss * nt + 1));
    if (!s) return ld_oom();
    if (nt > 1) {
#pragma omp parallel for schedule(static) num_threads(nt)
        for (int64_t bh = 0; bh < nh; bh++) {
            int t = 0;
#ifdef _OPENMP
            t = omp_get_thread_num();
#endif
            attn_head(c, bh / A->Hq, bh % A->Hq, s + ss * t, false);
        }
    } else {
        for (int64_t bh = 0; bh < nh; bh++) attn_head(c, bh / A->Hq, bh % A->Hq, s, true);
    }
    free(s);
    return LD_OK;
}

static ld_status attn_compute(ld_kctx *k) {
    attn_ctx c;
    LD_TRY(attn_dims_get(k, &c.A));
    const attn_dims *A = &c.A;
    if (A->Sq * A->T > INT32_MAX || A->D > INT32_MAX || A->Dv > INT32_MAX)
        return ld_error(LD_ERR_UNSUPPORTED, "Attention: sizes too large for BLAS");
    c.q = attn_view_of(k->in[0]->data, A->in3d, A->Hq, A->Sq, A->D);
    c.y = attn_view_of(k->out[0]->data, A->in3d, A->Hq, A->Sq, A->Dv);
    c.qk = LD_HAS_OUT(k, 3) ? k->out[3]->data : NULL;
    float *ks = NULL, *vs = NULL;
    ld_status st = attn_kv(k, A, 1, 4, 1, A->D, &c.k, &ks);
    if (st == LD_OK) st = attn_kv(k, A, 2, 5, 2, A->Dv, &c.v, &vs);
    if (st == LD_OK && A->T > 0 && A->Sq > 0) st = attn_heads_run(&c);
    free(ks);
    free(vs);
    return st;
}

/* ---- table ---- */

#define F32 LD_OPF_F32_ONLY
const ld_op_def ld_ops_attn[] = {
    {"", "Attention", 23, attn_shape, attn_compute, F32},
    {"", "Attention", 24, attn_shape, attn_compute, F32},
    {"", "RotaryEmbedding", 23, ld_attn_rotary_shape, ld_attn_rotary_compute, F32},
    {"", "LinearAttention", 27, ld_attn_linear_shape, ld_attn_linear_compute, F32},
    {"", "CausalConvWithState", 27, ld_attn_causalconv_shape, ld_attn_causalconv_compute, F32},
    {"", "SwiGLU", 28, ld_attn_swiglu_shape, ld_attn_swiglu_compute, F32},
    {"ai.onnx.preview", "FlexAttention", 1, ld_attn_flex_shape, ld_attn_flex_compute, F32 | LD_OPF_SUBGRAPH},
    {0},
};
