/*
** precision.c — target formats and the precision policy: which format each node stores its
** outputs in, and running one node in the target precision (see ld_precision.h).
*/
#include "ld_precision.h"
#include "ld_numeric.h"
#include "accum.h"

#include <float.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

static const ld_format formats[LD_TARGET_COUNT] = {
    [LD_TARGET_FP32] = {"fp32", "FP32", FLT_MAX, FLT_MIN, 1.401298464324817e-45, 23},
    [LD_TARGET_FP16] = {"fp16", "FP16", 65504.0, 6.103515625e-05, 5.960464477539063e-08, 10},
    [LD_TARGET_BF16] = {"bf16", "BF16", 3.3895313892515355e38, 1.1754943508222875e-38, 9.183549615799121e-41, 7},
    [LD_TARGET_FP8E4M3] = {"fp8e4m3", "FP8 E4M3FN", 448.0, 0.015625, 0.001953125, 3},
    [LD_TARGET_FP8E5M2] = {"fp8e5m2", "FP8 E5M2", 57344.0, 6.103515625e-05, 1.52587890625e-05, 2},
    [LD_TARGET_INT8] = {"int8", "INT8", 127.0, 0.0, 1.0, 0},
};
static_assert(LD_ARRAY_LEN(formats) == LD_TARGET_COUNT, "a format per target");

const ld_format *ld_target_format(ld_target t) { return &formats[t]; }

ld_status ld_target_parse(const char *s, ld_target *out) {
    for (int i = 0; i < LD_TARGET_COUNT; i++)
        if (!strcmp(s, formats[i].name)) { *out = (ld_target)i; return LD_OK; }
    if (!strcmp(s, "fp8") || !strcmp(s, "fp8e4m3fn")) { *out = LD_TARGET_FP8E4M3; return LD_OK; }
    return ld_error(LD_ERR_USAGE, "unknown target '%s' (fp32, fp16, bf16, fp8e4m3, fp8e5m2, int8)", s);
}

void ld_round_to(ld_target t, float *x, int64_t n) {
    switch (t) {
    case LD_TARGET_FP16:
        if (n > 262144 && ld_nthreads > 1) {
            int64_t chunk = (n + ld_nthreads - 1) / ld_nthreads;
#pragma omp parallel for schedule(static)
            for (int th = 0; th < ld_nthreads; th++) {
                int64_t a = th * chunk, b = a + chunk > n ? n : a + chunk;
                if (a < b) ld_f32_round_f16_n(x + a, b - a);
            }
        } else {
            ld_f32_round_f16_n(x, n);
        }
        break;
    case LD_TARGET_BF16:
#pragma omp parallel for if (n > 65536) schedule(static)
        for (int64_t i = 0; i < n; i++) x[i] = ld_round_bf16(x[i]);
        break;
    case LD_TARGET_FP8E4M3:
        for (int64_t i = 0; i < n; i++) x[i] = ld_f8e4m3fn_to_f32(ld_f32_to_f8e4m3fn(x[i], true));
        break;
    case LD_TARGET_FP8E5M2:
        for (int64_t i = 0; i < n; i++) x[i] = ld_f8e5m2_to_f32(ld_f32_to_f8e5m2(x[i], true));
        break;
    default: break;
    }
}

double ld_format_ulp(ld_target t, double v) {
    const ld_format *f = &formats[t];
    if (t == LD_TARGET_INT8) return 1.0;
    double a = fabs(v);
    if (!(a >= f->min_normal)) return f->min_subnormal;
    int e;
    frexp(a, &e);          /* a = m * 2^e, m in [0.5, 1) */
    return ldexp(1.0, e - 1 - f->mant_bits);
}

/* ---- calibration table ---- */

ld_status ld_calib_set(ld_calib *c, const char *name, float amax) {
    for (int i = 0; i < c->n; i++)
        if (!strcmp(c->names[i], name)) { c->amax[i] = amax; return LD_OK; }
    char **nn = realloc(c->names, sizeof(char *) * (c->n + 1));
    if (!nn) return ld_error(LD_ERR_NOMEM, "out of memory");
    c->names = nn;
    float *na = realloc(c->amax, sizeof(float) * (c->n + 1));
    if (!na) return ld_error(LD_ERR_NOMEM, "out of memory");
    c->amax = na;
    c->names[c->n] = ld_strdup(name);
    c->amax[c->n] = amax;
    c->n++;
    return LD_OK;
}

float ld_calib_get(const ld_calib *c, const char *name) {
    for (int i = 0; c && i < c->n; i++)
        if (!strcmp(c->names[i], name)) return c->amax[i];
    return -1.0f;
}

void ld_calib_clear(ld_calib *c) {
    for (int i = 0; i < c->n; i++) free(c->names[i]);
    free(c->names);
    free(c->amax);
    memset(c, 0, sizeof *c);
}

/* ---- policy ---- */

static bool is_gemm_like(const ld_node *n) {
    return !n->domain[0] && (!strcmp(n->op_type, "Conv") || !strcmp(n->op_type, "ConvTranspose") ||
                             !strcmp(n->op_type, "Gemm") || !strcmp(n->op_type, "MatMul"));
}

static bool node_pinned(const ld_policy *p, const ld_node *n, int index) {
    (void)n;
    return p->pinned && index >= 0 && p->pinned[index];
}

bool ld_policy_quantizes(const ld_policy *p, const ld_node *n) {
    return (p->target == LD_TARGET_INT8 || p->target == LD_TARGET_FP8E4M3 ||
            p->target == LD_TARGET_FP8E5M2) && is_gemm_like(n);
}

ld_target ld_policy_storage(const ld_policy *p, const ld_node *n) {
    (void)n;
    if (p->target == LD_TARGET_FP16 || p->target == LD_TARGET_BF16 || p->target == LD_TARGET_FP32)
        return p->target;
    return p->fallback;
}

ld_status ld_policy_round_tensor(ld_target t, const ld_tensor *src, ld_tensor *dst) {
    LD_TRY(ld_tensor_copy(dst, src));
    if (dst->kind == LD_KIND_TENSOR && dst->dtype == LD_F32) ld_round_to(t, dst->data, dst->numel);
    return LD_OK;
}

static void round_outputs(ld_target t, const ld_node *n, ld_tensor **out) {
    for (int k = 0; k < n->nout; k++)
        if (out[k] && out[k]->kind == LD_KIND_TENSOR && out[k]->dtype == LD_F32)
            ld_round_to(t, out[k]->data, out[k]->numel);
}

ld_status ld_policy_run_node(const ld_policy *p, ld_exec *ex, const ld_node *n, ld_tensor **in,
                             ld_tensor **out, ld_sat *sat) {
    int index = ex && ld_exec_graph(ex) ? (int)(n - ld_exec_graph(ex)->nodes) : -1;
    if (node_pinned(p, n, index) || p->target == LD_TARGET_FP32) return ld_node_run(ex, n, in, out);
    ld_target store = ld_policy_storage(p, n);
    if (ld_policy_quantizes(p, n)) {
        LD_TRY(ld_prec_quant_run_node(p, ex, n, in, out, sat));
    } else if (p->accum_fp16 && ld_accum_handles(n)) {
        LD_TRY(ld_accum_run_node(ex, n, in, out));
    } else {
        LD_TRY(ld_node_run(ex, n, in, out));
    }
    round_outputs(store, n, out);
    return LD_OK;
}
