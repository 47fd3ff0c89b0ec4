/*
** ops_attn_linear.c — LinearAttention (27) and FlexAttention (ai.onnx.preview 1).
**
** LinearAttention is a recurrence over time on a per-(batch, kv head) state S (d_k x d_v):
** optional gating S *= exp(decay_t), optional delta correction v_t <- beta_t (v_t - S^T k_t)
** (k_t masked by erase_gate_t when given), the write S += k_t v_t^T, and the read
** o_t = scale * q_t S for every query head of the kv head's group (GQA: head h uses kv head
** h / (Hq / Hkv)). Inputs are 3-D (B, T, H*D); the state is kept in float32.
**
** FlexAttention computes scores = scale * Q K^T for all heads, passes them through the
** optional score_mod / mask_mod subgraphs, softmax, the optional prob_mod subgraph, then
** Y = P V. Subgraphs run on the whole (B, Hq, L, S) tensor through the executor.
*/
#include "ops_nn.h"
#include "ops_norm.h"
#include "ld_exec.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* ---- LinearAttention ---- */

enum { LA_Q, LA_K, LA_V, LA_PAST, LA_DECAY, LA_BETA, LA_ERASE };

typedef struct {
    int64_t B, T, Hq, Hkv, dk, dv;
    bool gating, delta;
    bool decay_per_dim;              /* decay (B, T, Hkv*dk) rather than (B, T, Hkv) */
    bool beta_shared;                /* beta (B, T, 1) rather than (B, T, Hkv) */
    float scale;
} la_dims;

static ld_status la_need(ld_kctx *k, int i, bool want, const char *rule, const char *name) {
    if (want && !LD_HAS_IN(k, i)) return ld_error(LD_ERR_DATA, "LinearAttention: update_rule '%s' requires %s", rule, name);
    if (!want && LD_HAS_IN(k, i)) return ld_error(LD_ERR_DATA, "LinearAttention: update_rule '%s' forbids %s", rule, name);
    return LD_OK;
}

static ld_status la_rank3(const ld_tensor *t, int64_t B, int64_t T, const char *name) {
    char s[128];
    if (t->ndim != 3 || t->dims[0] != B || t->dims[1] != T)
        return ld_error(LD_ERR_DATA, "LinearAttention: %s must be (%lld, %lld, *), got %s", name,
                        (long long)B, (long long)T, ld_shape_str(t, s, sizeof s));
    return LD_OK;
}

static ld_status la_rule(ld_kctx *k, la_dims *D) {
    const char *rule = ld_attr_str(k->node, "update_rule", "gated_delta");
    if (!strcmp(rule, "linear")) { D->gating = false; D->delta = false; }
    else if (!strcmp(rule, "gated")) { D->gating = true; D->delta = false; }
    else if (!strcmp(rule, "delta")) { D->gating = false; D->delta = true; }
    else if (!strcmp(rule, "gated_delta")) { D->gating = true; D->delta = true; }
    else return ld_error(LD_ERR_DATA, "LinearAttention: unknown update_rule '%s'", rule);
    LD_TRY(la_need(k, LA_DECAY, D->gating, rule, "decay"));
    LD_TRY(la_need(k, LA_BETA, D->delta, rule, "beta"));
    if (!D->delta && LD_HAS_IN(k, LA_ERASE))
        return ld_error(LD_ERR_DATA, "LinearAttention: update_rule '%s' forbids erase_gate", rule);
    return LD_OK;
}

static ld_status la_dims_get(ld_kctx *k, la_dims *D) {
    memset(D, 0, sizeof *D);
    for (int i = 0; i < 3; i++)
        if (!LD_HAS_IN(k, i)) return ld_error(LD_ERR_DATA, "LinearAttention needs query, key and value");
    /* the kernel reads every input as float32 (its type table row is not checked at plan time) */
    for (int i = LA_Q; i <= LA_ERASE && i < k->nin; i++)
        if (LD_HAS_IN(k, i)) LD_TRY(ld_check_dtype(k, i, LD_DT(LD_F32)));
    const ld_tensor *q = k->in[LA_Q];
    if (q->ndim != 3) return ld_error(LD_ERR_DATA, "LinearAttention: query must be (B, T, Hq*dk)");
    D->B = q->dims[0];
    D->T = q->dims[1];
    D->Hq = ld_attr_int(k->node, "q_num_heads", 0);
    D->Hkv = ld_attr_int(k->node, "kv_num_heads", 0);
    if (D->Hq <= 0 || D->Hkv <= 0 || D->Hq % D->Hkv)
        return ld_error(LD_ERR_DATA, "LinearAttention: q_num_heads (%lld) must be a positive multiple of kv_num_heads (%lld)",
                        (long long)D->Hq, (long long)D->Hkv);
    LD_TRY(la_rank3(k->in[LA_K], D->B, D->T, "key"));
    LD_TRY(la_rank3(k->in[LA_V], D->B, D->T, "value"));
    if (q->dims[2] % D->Hq || k->in[LA_V]->dims[2] % D->Hkv)
        return ld_error(LD_ERR_DATA, "LinearAttention: hidden sizes are not divisible by the head counts");
    D->dk = q->dims[2] / D->Hq;
    D->dv = k->in[LA_V]->dims[2] / D->Hkv;
    if (k->in[LA_K]->dims[2] != D->Hkv * D->dk)
        return ld_error(LD_ERR_DATA, "LinearAttention: key last dim must be kv_num_heads * d_k = %lld", (long long)(D->Hkv * D->dk));
    LD_TRY(la_rule(k, D));
    if (D->gating) {
        const ld_tensor *g = k->in[LA_DECAY];
        LD_TRY(la_rank3(g, D->B, D->T, "decay"));
        if (g->dims[2] != D->Hkv && g->dims[2] != D->Hkv * D->dk)
            return ld_error(LD_ERR_DATA, "LinearAttention: decay last dim must be kv_num_heads or kv_num_heads * d_k");
        D->decay_per_dim = g->dims[2] != D->Hkv;
    }
    if (D->delta) {
        const ld_tensor *b = k->in[LA_BETA];
        LD_TRY(la_rank3(b, D->B, D->T, "beta"));
        if (b->dims[2] != D->Hkv && b->dims[2] != 1)
            return ld_error(LD_ERR_DATA, "LinearAttention: beta last dim must be kv_num_heads or 1");
        D->beta_shared = b->dims[2] != D->Hkv;
    }
    if (LD_HAS_IN(k, LA_ERASE)) {
        LD_TRY(la_rank3(k->in[LA_ERASE], D->B, D->T, "erase_gate"));
        if (k->in[LA_ERASE]->dims[2] != D->Hkv * D->dk)
            return ld_error(LD_ERR_DATA, "LinearAttention: erase_gate last dim must be kv_num_heads * d_k");
    }
    if (LD_HAS_IN(k, LA_PAST)) {
        const ld_tensor *p = k->in[LA_PAST];
        if (p->ndim != 4 || p->dims[0] != D->B || p->dims[1] != D->Hkv || p->dims[2] != D->dk || p->dims[3] != D->dv)
            return ld_error(LD_ERR_DATA, "LinearAttention: past_state must be (B, kv_num_heads, d_k, d_v)");
    }
    float sc = ld_attr_float(k->node, "scale", 0.0f);
    D->scale = sc != 0.0f ? sc : (float)(1.0 / sqrt((double)D->dk));
    return LD_OK;
}

ld_status ld_attn_linear_shape(ld_kctx *k) {
    la_dims D;
    LD_TRY(la_dims_get(k, &D));
    int64_t y[3] = {D.B, D.T, D.Hq * D.dv}, st[4] = {D.B, D.Hkv, D.dk, D.dv};
    LD_TRY(ld_tensor_set_shape(k->out[0], k->in[0]->dtype, 3, y));
    if (LD_HAS_OUT(k, 1)) {
        ld_dtype sd = LD_HAS_IN(k, LA_PAST) ? k->in[LA_PAST]->dtype : k->in[0]->dtype;
        LD_TRY(ld_tensor_set_shape(k->out[1], sd, 4, st));
    }
    return LD_OK;
}

/* One time step of one (batch, kv head): S (dk x dv) updated in place, outputs written. */
static void la_step(ld_kctx *k, const la_dims *D, int64_t b, int64_t h, int64_t t, float *S, float *vt) {
    int64_t bt = b * D->T + t, dk = D->dk, dv = D->dv;
    const float *kt = (const float *)k->in[LA_K]->data + bt * D->Hkv * dk + h * dk;
    const float *v0 = (const float *)k->in[LA_V]->data + bt * D->Hkv * dv + h * dv;
    memcpy(vt, v0, sizeof(float) * dv);
    if (D->gating) {
        const float *g = k->in[LA_DECAY]->data;
        for (int64_t d = 0; d < dk; d++) {
            float f = expf(D->decay_per_dim ? g[bt * D->Hkv * dk + h * dk + d] : g[bt * D->Hkv + h]);
            for (int64_t m = 0; m < dv; m++) S[d * dv + m] *= f;
        }
    }
    if (D->delta) {
        const float *er = LD_HAS_IN(k, LA_ERASE) ? (const float *)k->in[LA_ERASE]->data + bt * D->Hkv * dk + h * dk : NULL;
        const float *bp = k->in[LA_BETA]->data;
        float beta = D->beta_shared ? bp[bt] : bp[bt * D->Hkv + h];
        for (int64_t m = 0; m < dv; m++) {
            float r = 0.0f;
            for (int64_t d = 0; d < dk; d++) r += S[d * dv + m] * (er ? er[d] * kt[d] : kt[d]);
            vt[m] = beta * (vt[m] - r);
        }
    }
    for (int64_t d = 0; d < dk; d++)
        for (int64_t m = 0; m < dv; m++) S[d * dv + m] += kt[d] * vt[m];
    int64_t G = D->Hq / D->Hkv;
    for (int64_t hq = h * G; hq < (h + 1) * G; hq++) {
        const float *qt = (const float *)k->in[LA_Q]->data + bt * D->Hq * dk + hq * dk;
        float *o = (float *)k->out[0]->data + bt * D->Hq * dv + hq * dv;
        for (int64_t m = 0; m < dv; m++) {
            float acc = 0.0f;
            for (int64_t d = 0; d < dk; d++) acc += qt[d] * S[d * dv + m];
            o[m] = D->scale * acc;
        }
    }
}

ld_status ld_attn_linear_compute(ld_kctx *k) {
    la_dims D;
    LD_TRY(la_dims_get(k, &D));
    int64_t ssz = D.dk * D.dv, nbh = D.B * D.Hkv;
    float *work = malloc(sizeof(float) * (nbh * (ssz + D.dv) + 1));
    if (!work) return ld_oom();
#pragma omp parallel for schedule(static) if (nbh > 1 && D.T * ssz * nbh > 32768)
    for (int64_t bh = 0; bh < nbh; bh++) {
        float *S = work + bh * (ssz + D.dv), *vt = S + ssz;
        if (LD_HAS_IN(k, LA_PAST)) memcpy(S, (const float *)k->in[LA_PAST]->data + bh * ssz, sizeof(float) * ssz);
        else memset(S, 0, sizeof(float) * ssz);
        for (int64_t t = 0; t < D.T; t++) la_step(k, &D, bh / D.Hkv, bh % D.Hkv, t, S, vt);
        if (LD_HAS_OUT(k, 1)) memcpy((float *)k->out[1]->data + bh * ssz, S, sizeof(float) * ssz);
    }
    free(work);
    return LD_OK;
}

/* ---- FlexAttention ---- */

typedef struct { int64_t B, Hq, Hkv, L, S, E, Ev; float scale; } flex_dims;

static ld_status flex_dims_get(ld_kctx *k, flex_dims *F) {
    char s1[128], s2[128], s3[128];
    for (int i = 0; i < 3; i++) {
        if (!LD_HAS_IN(k, i)) return ld_error(LD_ERR_DATA, "FlexAttention needs Q, K and V");
        LD_TRY(ld_check_dtype(k, i, LD_DT(LD_F32)));
    }
    const ld_tensor *q = k->in[0], *kk = k->in[1], *v = k->in[2];
    if (q->ndim != 4 || kk->ndim != 4 || v->ndim != 4 || kk->dims[0] != q->dims[0] || v->dims[0] != q->dims[0] ||
        kk->dims[3] != q->dims[3] || v->dims[1] != kk->dims[1] || v->dims[2] != kk->dims[2] ||
        kk->dims[1] < 1 || q->dims[1] % kk->dims[1])
        return ld_error(LD_ERR_DATA, "FlexAttention: incompatible Q %s, K %s, V %s", ld_shape_str(q, s1, sizeof s1),
                        ld_shape_str(kk, s2, sizeof s2), ld_shape_str(v, s3, sizeof s3));
    F->B = q->dims[0]; F->Hq = q->dims[1]; F->L = q->dims[2]; F->E = q->dims[3];
    F->Hkv = kk->dims[1]; F->S = kk->dims[2]; F->Ev = v->dims[3];
    const ld_attr *sa = ld_node_attr(k->node, "scale");
    F->scale = sa ? ld_attr_float(k->node, "scale", 1.0f) : (float)(1.0 / sqrt((double)(F->E > 0 ? F->E : 1)));
    return LD_OK;
}

ld_status ld_attn_flex_shape(ld_kctx *k) {
    flex_dims F;
    LD_TRY(flex_dims_get(k, &F));
    int64_t y[4] = {F.B, F.Hq, F.L, F.Ev};
    return ld_tensor_set_shape(k->out[0], k->in[0]->dtype, 4, y);
}

/* Run a one-input, one-output modifier subgraph on t (float32) in place. The subgraph sees
 * its declared element type (the kernel itself runs widened to float32). */
static ld_status flex_mod(ld_kctx *k, const char *name, ld_tensor *t) {
    ld_graph *g = ld_attr_graph(k->node, name);
    if (!g) return LD_OK;
    if (!k->ex) return ld_error(LD_ERR_INTERNAL, "FlexAttention: no executor for subgraph %s", name);
    if (g->ninputs != 1 || g->noutputs < 1)
        return ld_error(LD_ERR_DATA, "FlexAttention: %s must take one input and give one output", name);
    const ld_value *iv = &g->values[g->inputs[0]];
    ld_dtype want = iv->has_decl && iv->decl_dtype != LD_UNDEFINED ? iv->decl_dtype : LD_F32;
    ld_tensor arg = {0}, res = {0};
    ld_tensor *argp = t, *resp = &res;
    if (want != LD_F32) {
        LD_TRY(ld_tensor_convert(&arg, t, want));
        argp = &arg;
    }
    ld_status st = ld_exec_subgraph(k->ex, g, &argp, 1, &resp, 1);
    if (st == LD_OK && (res.kind != LD_KIND_TENSOR || res.numel != t->numel))
        st = ld_error(LD_ERR_DATA, "FlexAttention: %s must return a tensor of the scores' shape", name);
    if (st == LD_OK) st = ld_tensor_convert(&arg, &res, LD_F32);
    if (st == LD_OK) memcpy(t->data, arg.data, sizeof(float) * t->numel);
    ld_tensor_clear(&arg);
    ld_tensor_clear(&res);
    return st == LD_OK ? LD_OK : ld_err_prefix(st, "FlexAttention %s", name);
}

ld_status ld_attn_flex_compute(ld_kctx *k) {
    flex_dims F;
    LD_TRY(flex_dims_get(k, &F));
    int64_t sd[4] = {F.B, F.Hq, F.L, F.S}, G = F.Hq / F.Hkv, ls = F.L * F.S;
    const float *q = k->in[0]->data, *kk = k->in[1]->data, *v = k->in[2]->data;
    float *y = k->out[0]->data;
    ld_tensor sc = {0};
    LD_TRY(ld_tensor_alloc(&sc, LD_F32, 4, sd));
    float *s = sc.data;
    if (F.E > 0 && ls > 0)
        for (int64_t bh = 0; bh < F.B * F.Hq; bh++) {
            int64_t b = bh / F.Hq, hk = (bh % F.Hq) / G;
            ld_nn_sgemm(false, true, F.L, F.S, F.E, F.scale, q + bh * F.L * F.E, F.E, kk + (b * F.Hkv + hk) * F.S * F.E, F.E, 0.0f, s + bh * ls, F.S);
        }
    ld_status st = flex_mod(k, "score_mod", &sc);
    if (st == LD_OK) st = flex_mod(k, "mask_mod", &sc);
    if (st == LD_OK) {
        for (int64_t r = 0; r < F.B * F.Hq * F.L; r++) ld_norm_softmax_row(s + r * F.S, F.S);
        st = flex_mod(k, "prob_mod", &sc);
    }
    if (st == LD_OK && F.S > 0 && F.Ev > 0)
        for (int64_t bh = 0; bh < F.B * F.Hq; bh++) {
            int64_t b = bh / F.Hq, hk = (bh % F.Hq) / G;
            ld_nn_sgemm(false, false, F.L, F.Ev, F.S, 1.0f, s + bh * ls, F.S, v + (b * F.Hkv + hk) * F.S * F.Ev, F.Ev, 0.0f, y + bh * F.L * F.Ev, F.Ev);
        }
    ld_tensor_clear(&sc);
    return st;
}
