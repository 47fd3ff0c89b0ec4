/*
** ops_attn_misc.c — the small transformer building blocks of the 'attn' family:
** RotaryEmbedding (23), SwiGLU (28: two inputs, y = a * sigmoid(alpha * a) * b) and
** CausalConvWithState (27: depthwise causal 1-D convolution carrying its left context).
** Float32 only (the executor widens f16/bf16/f64).
*/
#include "ops_norm.h"

#include <stdlib.h>
#include <string.h>

/* ---- RotaryEmbedding ---- */

typedef struct {
    int64_t B, H, S, hd, rot, half;
    bool in3d, interleaved;
    const int64_t *pos;      /* (B, S) position ids or NULL: caches are then (B, S, rot/2) */
    int64_t max_pos;
} rope_dims;

static ld_status rope_dims_get(ld_kctx *k, rope_dims *R) {
    const ld_tensor *x = k->in[0], *cc = k->in[1], *sc = k->in[2];
    char s1[128], s2[128];
    memset(R, 0, sizeof *R);
    if (!LD_HAS_IN(k, 1) || !LD_HAS_IN(k, 2))
        return ld_error(LD_ERR_DATA, "RotaryEmbedding needs cos_cache and sin_cache");
    LD_TRY(ld_check_dtype(k, 0, LD_DT(LD_F32)));
    if (x->ndim == 4) {          /* (B, H, S, head) */
        R->B = x->dims[0]; R->H = x->dims[1]; R->S = x->dims[2]; R->hd = x->dims[3];
    } else if (x->ndim == 3) {   /* (B, S, H*head) */
        R->in3d = true;
        R->H = ld_attr_int(k->node, "num_heads", 0);
        if (R->H <= 0 || x->dims[2] % R->H)
            return ld_error(LD_ERR_DATA, "RotaryEmbedding with a 3-D input needs num_heads dividing %lld",
                            (long long)x->dims[2]);
        R->B = x->dims[0]; R->S = x->dims[1]; R->hd = x->dims[2] / R->H;
    } else {
        return ld_error(LD_ERR_DATA, "RotaryEmbedding input must be 3-D or 4-D, got %s", ld_shape_str(x, s1, sizeof s1));
    }
    R->rot = ld_attr_int(k->node, "rotary_embedding_dim", 0);
    if (R->rot == 0) R->rot = R->hd;
    if (R->rot < 0 || R->rot > R->hd || R->rot % 2)
        return ld_error(LD_ERR_DATA, "RotaryEmbedding: rotary_embedding_dim %lld must be even and at most the head size %lld",
                        (long long)R->rot, (long long)R->hd);
    R->half = R->rot / 2;
    R->interleaved = ld_attr_int(k->node, "interleaved", 0) != 0;
    if (!ld_shape_equal(cc, sc) || cc->ndim < 1 || cc->dims[cc->ndim - 1] != R->half)
        return ld_error(LD_ERR_DATA, "RotaryEmbedding: caches %s and %s must both end in rotary_dim/2 = %lld",
                        ld_shape_str(cc, s1, sizeof s1), ld_shape_str(sc, s2, sizeof s2), (long long)R->half);
    if (LD_HAS_IN(k, 3)) {
        const ld_tensor *p = k->in[3];
        if (p->dtype != LD_I64 || p->ndim != 2 || p->dims[0] != R->B || p->dims[1] != R->S)
            return ld_error(LD_ERR_DATA, "RotaryEmbedding: position_ids must be int64 (B, S), got %s", ld_shape_str(p, s1, sizeof s1));
        if (cc->ndim != 2) return ld_error(LD_ERR_DATA, "RotaryEmbedding: with position_ids the caches must be 2-D");
        R->pos = p->data;
        R->max_pos = cc->dims[0];
    } else if (cc->ndim != 3 || cc->dims[0] != R->B || cc->dims[1] != R->S) {
        return ld_error(LD_ERR_DATA, "RotaryEmbedding: without position_ids the caches must be (B, S, rotary_dim/2), got %s",
                        ld_shape_str(cc, s1, sizeof s1));
    }
    return LD_OK;
}

ld_status ld_attn_rotary_shape(ld_kctx *k) {
    rope_dims R;
    LD_TRY(rope_dims_get(k, &R));
    return ld_tensor_set_shape(k->out[0], k->in[0]->dtype, k->in[0]->ndim, k->in[0]->dims);
}

/* Rotate one head vector x (hd values) into y with the cos/sin rows (rot/2 values). */
static void rope_vec(const rope_dims *R, const float *x, float *y, const float *c, const float *s) {
    int64_t h = R->half;
    if (R->interleaved) {
        for (int64_t i = 0; i < h; i++) {
            float a = x[2 * i], b = x[2 * i + 1];
            y[2 * i] = c[i] * a - s[i] * b;
            y[2 * i + 1] = s[i] * a + c[i] * b;
        }
    } else {
        for (int64_t i = 0; i < h; i++) {
            float a = x[i], b = x[h + i];
            y[i] = c[i] * a - s[i] * b;
            y[h + i] = s[i] * a + c[i] * b;
        }
    }
    if (R->rot < R->hd) memcpy(y + R->rot, x + R->rot, sizeof(float) * (R->hd - R->rot));
}

ld_status ld_attn_rotary_compute(ld_kctx *k) {
    rope_dims R;
    LD_TRY(rope_dims_get(k, &R));
    const float *x = k->in[0]->data, *cc = k->in[1]->data, *sc = k->in[2]->data;
    float *y = k->out[0]->data;
    if (R.pos)
        for (int64_t i = 0; i < R.B * R.S; i++)
            if (R.pos[i] < 0 || R.pos[i] >= R.max_pos)
                return ld_error(LD_ERR_DATA, "RotaryEmbedding: position id %lld outside the cache (%lld rows)",
                                (long long)R.pos[i], (long long)R.max_pos);
#pragma omp parallel for schedule(static) if (k->in[0]->numel > 32768)
    for (int64_t bs = 0; bs < R.B * R.S; bs++) {
        int64_t b = bs / R.S, s = bs % R.S;
        int64_t row = R.pos ? R.pos[bs] : bs;
        const float *c = cc + row * R.half, *sn = sc + row * R.half;
        for (int64_t h = 0; h < R.H; h++) {
            int64_t off = R.in3d ? (bs * R.H + h) * R.hd : ((b * R.H + h) * R.S + s) * R.hd;
            rope_vec(&R, x + off, y + off, c, sn);
        }
    }
    return LD_OK;
}

/* ---- SwiGLU ---- */

ld_status ld_attn_swiglu_shape(ld_kctx *k) {
    const ld_tensor *a = k->in[0];
    char s1[128], s2[128];
    LD_TRY(ld_check_dtype(k, 0, LD_DT(LD_F32)));
    if (!LD_HAS_IN(k, 1)) return ld_error(LD_ERR_DATA, "SwiGLU needs inputs A and B");
    if (!ld_shape_equal(a, k->in[1]) || a->dtype != k->in[1]->dtype)
        return ld_error(LD_ERR_DATA, "SwiGLU needs A and B of the same shape and dtype, got %s and %s",
                        ld_shape_str(a, s1, sizeof s1), ld_shape_str(k->in[1], s2, sizeof s2));
    return ld_tensor_set_shape(k->out[0], a->dtype, a->ndim, a->dims);
}

ld_status ld_attn_swiglu_compute(ld_kctx *k) {
    const float *a = k->in[0]->data, *b = k->in[1]->data;
    float *y = k->out[0]->data;
    float alpha = ld_attr_float(k->node, "alpha", 1.0f);
    int64_t n = k->in[0]->numel;
#pragma omp parallel for simd schedule(static) if (n > 32768)
    for (int64_t i = 0; i < n; i++) y[i] = a[i] / (1.0f + ld_norm_expf(-alpha * a[i])) * b[i];
    return LD_OK;
}

/* ---- CausalConvWithState ---- */

typedef struct { int64_t B, C, L, K; bool silu; } ccs_dims;

static ld_status ccs_dims_get(ld_kctx *k, ccs_dims *D) {
    const ld_tensor *x = k->in[0], *w = k->in[1];
    char s1[128], s2[128];
    memset(D, 0, sizeof *D);
    if (!LD_HAS_IN(k, 1)) return ld_error(LD_ERR_DATA, "CausalConvWithState needs input and weight");
    /* the kernel reads input, weight, bias and past_state as float32 (no type row checks them) */
    for (int i = 0; i < 4 && i < k->nin; i++)
        if (LD_HAS_IN(k, i)) LD_TRY(ld_check_dtype(k, i, LD_DT(LD_F32)));
    if (x->ndim != 3) return ld_error(LD_ERR_DATA, "CausalConvWithState: input must be (B, C, L), got %s", ld_shape_str(x, s1, sizeof s1));
    D->B = x->dims[0]; D->C = x->dims[1]; D->L = x->dims[2];
    if (w->ndim != 3 || w->dims[0] != D->C || w->dims[1] != 1 || w->dims[2] < 1)
        return ld_error(LD_ERR_DATA, "CausalConvWithState: weight must be (C, 1, k) with C=%lld, got %s",
                        (long long)D->C, ld_shape_str(w, s1, sizeof s1));
    D->K = w->dims[2];
    if (LD_HAS_IN(k, 2) && k->in[2]->numel != D->C)
        return ld_error(LD_ERR_DATA, "CausalConvWithState: bias must have C=%lld elements", (long long)D->C);
    if (LD_HAS_IN(k, 3)) {
        const ld_tensor *p = k->in[3];
        if (p->ndim != 3 || p->dims[0] != D->B || p->dims[1] != D->C || p->dims[2] != D->K - 1)
            return ld_error(LD_ERR_DATA, "CausalConvWithState: past_state %s must be (B, C, k-1) for input %s",
                            ld_shape_str(p, s1, sizeof s1), ld_shape_str(x, s2, sizeof s2));
    }
    const char *act = ld_attr_str(k->node, "activation", "none");
    D->silu = !strcmp(act, "silu") || !strcmp(act, "swish");
    if (!D->silu && strcmp(act, "none"))
        return ld_error(LD_ERR_DATA, "CausalConvWithState: unknown activation '%s' (none, silu, swish)", act);
    return LD_OK;
}

ld_status ld_attn_causalconv_shape(ld_kctx *k) {
    ccs_dims D;
    LD_TRY(ccs_dims_get(k, &D));
    int64_t st[3] = {D.B, D.C, D.K - 1};
    LD_TRY(ld_tensor_set_shape(k->out[0], k->in[0]->dtype, 3, k->in[0]->dims));
    if (LD_HAS_OUT(k, 1)) LD_TRY(ld_tensor_set_shape(k->out[1], k->in[0]->dtype, 3, st));
    return LD_OK;
}

/* One (batch, channel): pad = [past | x] (L + k - 1), y[t] = bias + sum_j w[j] pad[t + j]. */
static void ccs_channel(const ccs_dims *D, const float *x, const float *past, const float *w, float bias,
                        float *pad, float *y, float *present) {
    int64_t P = D->K - 1;
    if (past) memcpy(pad, past, sizeof(float) * P);
    else memset(pad, 0, sizeof(float) * P);
    memcpy(pad + P, x, sizeof(float) * D->L);
    for (int64_t t = 0; t < D->L; t++) {
        float acc = bias;
        for (int64_t j = 0; j < D->K; j++) acc += w[j] * pad[t + j];
        y[t] = D->silu ? acc / (1.0f + ld_norm_expf(-acc)) : acc;
    }
    if (present) memcpy(present, pad + D->L, sizeof(float) * P);
}

ld_status ld_attn_causalconv_compute(ld_kctx *k) {
    ccs_dims D;
    LD_TRY(ccs_dims_get(k, &D));
    const float *x = k->in[0]->data, *w = k->in[1]->data;
    const float *bias = LD_HAS_IN(k, 2) ? k->in[2]->data : NULL;
    const float *past = LD_HAS_IN(k, 3) ? k->in[3]->data : NULL;
    float *y = k->out[0]->data, *present = LD_HAS_OUT(k, 1) ? k->out[1]->data : NULL;
    int64_t P = D.K - 1, plen = D.L + P;
    float *pad = malloc(sizeof(float) * (plen * D.B * D.C + 1));
    if (!pad) return ld_oom();
#pragma omp parallel for schedule(static) if (D.B * D.C * D.L * D.K > 32768)
    for (int64_t bc = 0; bc < D.B * D.C; bc++) {
        int64_t c = bc % D.C;
        ccs_channel(&D, x + bc * D.L, past ? past + bc * P : NULL, w + c * D.K, bias ? bias[c] : 0.0f,
                    pad + bc * plen, y + bc * D.L, present ? present + bc * P : NULL);
    }
    free(pad);
    return LD_OK;
}
