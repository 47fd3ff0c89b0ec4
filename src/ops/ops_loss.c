/*
** ops_loss.c — training losses: NegativeLogLikelihoodLoss and SoftmaxCrossEntropyLoss
** (class weights, ignore_index, reductions none/sum/mean, SCE's optional log_prob output).
**
** Inputs are (N, C, d1..dk) viewed as (N, C, D) with D = d1*..*dk, targets (N, D). Both ops
** share one NLL pass over log-probabilities; "mean" divides by the summed weights of the
** targets that are not ignored. Sums accumulate in double.
*/
#include "ld_op.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

typedef enum { RED_NONE, RED_SUM, RED_MEAN } loss_red;

typedef struct loss_geom {
    int64_t N, C, D;
    loss_red red;
    bool has_ii;
    int64_t ii;                   /* ignore_index */
} loss_geom;

/* The first `nreq` inputs and output 0 must be present tensors (checked once, in shape()). */
static ld_status loss_check_io(ld_kctx *k, int nreq, bool need_out0) {
    for (int i = 0; i < nreq; i++)
        if (!LD_HAS_IN(k, i) || k->in[i]->kind != LD_KIND_TENSOR)
            return ld_error(LD_ERR_DATA, "required input %d is missing or not a tensor", i);
    if (need_out0 && !LD_HAS_OUT(k, 0)) return ld_error(LD_ERR_DATA, "output 0 is required");
    return LD_OK;
}

static ld_status loss_geom_make(ld_kctx *k, loss_geom *g) {
    const ld_tensor *x = k->in[0], *t = k->in[1];
    char s1[128], s2[128];
    if (x->ndim < 2 || t->ndim != x->ndim - 1 || t->dims[0] != x->dims[0] ||
        memcmp(t->dims + 1, x->dims + 2, sizeof(int64_t) * (x->ndim - 2)))
        return ld_error(LD_ERR_DATA, "input %s and target %s must be (N,C,d...) and (N,d...)",
                        ld_shape_str(x, s1, sizeof s1), ld_shape_str(t, s2, sizeof s2));
    LD_TRY(ld_check_dtype(k, 0, LD_DT(LD_F32)));
    LD_TRY(ld_check_dtype(k, 1, LD_DT(LD_I32) | LD_DT(LD_I64)));
    g->N = x->dims[0];
    g->C = x->dims[1];
    g->D = ld_dims_numel(x->ndim - 2, x->dims + 2);
    if (LD_HAS_IN(k, 2)) LD_TRY(ld_check_dtype(k, 2, LD_DT(LD_F32)));
    if (LD_HAS_IN(k, 2) && (k->in[2]->ndim != 1 || k->in[2]->dims[0] != g->C))
        return ld_error(LD_ERR_DATA, "weight must have C=%lld elements, got %s", (long long)g->C,
                        ld_shape_str(k->in[2], s1, sizeof s1));
    const char *r = ld_attr_str(k->node, "reduction", "mean");
    if (!strcmp(r, "none")) g->red = RED_NONE;
    else if (!strcmp(r, "sum")) g->red = RED_SUM;
    else if (!strcmp(r, "mean")) g->red = RED_MEAN;
    else return ld_error(LD_ERR_DATA, "unknown reduction '%s'", r);
    g->has_ii = ld_node_attr(k->node, "ignore_index") != NULL;
    g->ii = ld_attr_int(k->node, "ignore_index", 0);
    return LD_OK;
}

static ld_status loss_shape(ld_kctx *k) {
    LD_TRY(loss_check_io(k, 2, true));
    loss_geom g;
    LD_TRY(loss_geom_make(k, &g));
    const ld_tensor *t = k->in[1];
    if (g.red == RED_NONE) LD_TRY(ld_tensor_set_shape(k->out[0], LD_F32, t->ndim, t->dims));
    else LD_TRY(ld_tensor_set_shape(k->out[0], LD_F32, 0, NULL));
    if (LD_HAS_OUT(k, 1))
        LD_TRY(ld_tensor_set_shape(k->out[1], LD_F32, k->in[0]->ndim, k->in[0]->dims));
    return LD_OK;
}

/* loss = -w[t] * lp[n, t, d] per element, then the reduction, into out. */
static ld_status loss_nll(ld_kctx *k, const loss_geom *g, const float *lp, ld_tensor *out) {
    const ld_tensor *t = k->in[1];
    const float *w = LD_HAS_IN(k, 2) ? LD_F32P(k->in[2]) : NULL;
    float *o = out->data;
    double sum = 0.0, wsum = 0.0;
    for (int64_t n = 0; n < g->N; n++)
        for (int64_t d = 0; d < g->D; d++) {
            int64_t i = n * g->D + d;
            int64_t c = t->dtype == LD_I64 ? LD_I64P(t)[i] : ((const int32_t *)t->data)[i];
            float l = 0.0f;
            if (!(g->has_ii && c == g->ii)) {
                if (c < 0 || c >= g->C)
                    return ld_error(LD_ERR_DATA, "target %lld is outside [0, %lld)", (long long)c, (long long)g->C);
                float wc = w ? w[c] : 1.0f;
                l = -lp[(n * g->C + c) * g->D + d] * wc;
                wsum += wc;
            }
            if (g->red == RED_NONE) o[i] = l;
            sum += l;
        }
    if (g->red == RED_SUM) o[0] = (float)sum;
    if (g->red == RED_MEAN) o[0] = (float)(sum / wsum);
    return LD_OK;
}

static ld_status nll_compute(ld_kctx *k) {
    loss_geom g;
    LD_TRY(loss_geom_make(k, &g));
    return loss_nll(k, &g, k->in[0]->data, k->out[0]);
}

/* log_softmax over C of x(N, C, D) into lp. */
static void loss_log_softmax(const float *x, float *lp, int64_t N, int64_t C, int64_t D) {
    #pragma omp parallel for schedule(static) if (N * C * D > 65536)
    for (int64_t n = 0; n < N; n++)
        for (int64_t d = 0; d < D; d++) {
            const float *xs = x + n * C * D + d;
            float *ls = lp + n * C * D + d;
            float m = -INFINITY;
            for (int64_t c = 0; c < C; c++) m = xs[c * D] > m ? xs[c * D] : m;
            double s = 0.0;
            for (int64_t c = 0; c < C; c++) s += exp((double)xs[c * D] - m);
            float lse = (float)(m + log(s));
            for (int64_t c = 0; c < C; c++) ls[c * D] = xs[c * D] - lse;
        }
}

static ld_status sce_compute(ld_kctx *k) {
    loss_geom g;
    LD_TRY(loss_geom_make(k, &g));
    int64_t n = k->in[0]->numel;
    float *lp = LD_HAS_OUT(k, 1) ? k->out[1]->data : malloc(sizeof(float) * (size_t)LD_MAX(n, 1));
    if (!lp) return ld_oom();
    loss_log_softmax(k->in[0]->data, lp, g.N, g.C, g.D);
    ld_status st = loss_nll(k, &g, lp, k->out[0]);
    if (!LD_HAS_OUT(k, 1)) free(lp);
    return st;
}

const ld_op_def ld_ops_loss[] = {
    {"", "NegativeLogLikelihoodLoss", 12, loss_shape, nll_compute, LD_OPF_F32_ONLY},
    {"", "NegativeLogLikelihoodLoss", 13, loss_shape, nll_compute, LD_OPF_F32_ONLY},
    {"", "NegativeLogLikelihoodLoss", 22, loss_shape, nll_compute, LD_OPF_F32_ONLY},
    {"", "SoftmaxCrossEntropyLoss", 12, loss_shape, sce_compute, LD_OPF_F32_ONLY},
    {"", "SoftmaxCrossEntropyLoss", 13, loss_shape, sce_compute, LD_OPF_F32_ONLY},
    {0},
};
