/*
** precision.c — target formats and the precision policy: which format each node stores its
** outputs in, and running one node in the target precision (see ld_precision.h).
*/
#include "ld_precision.h"
#include "ld_blockfmt.h"
#include "ld_numeric.h"
#include "accum.h"

#include <float.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- rounding to each format (ld_format.round) ---- */

static void round_none(float *x, int64_t n) { (void)x; (void)n; }

static void round_fp16(float *x, int64_t n) {
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
}

static void round_bf16(float *x, int64_t n) {
#pragma omp parallel for if (n > 65536) schedule(static)
    for (int64_t i = 0; i < n; i++) x[i] = ld_round_bf16(x[i]);
}

static void round_fp8e4m3(float *x, int64_t n) {
    for (int64_t i = 0; i < n; i++) x[i] = ld_f8e4m3fn_to_f32(ld_f32_to_f8e4m3fn(x[i], true));
}

static void round_fp8e5m2(float *x, int64_t n) {
    for (int64_t i = 0; i < n; i++) x[i] = ld_f8e5m2_to_f32(ld_f32_to_f8e5m2(x[i], true));
}

static void round_fp4e2m1(float *x, int64_t n) {
    for (int64_t i = 0; i < n; i++) x[i] = ld_round_e2m1(x[i]);
}

/* One row per target. min_sqnr: the SQNR a healthy network keeps (layerdiff-compare(1); FP32:
 * two FP32 engines under --against agree to ~100 dB); goal_sqnr: autopin's default goal
 * (layerdiff-autopin(1)). onnx_dtype: TensorProto FLOAT 1, INT8 3, FLOAT16 10, BFLOAT16 16,
 * FLOAT8E4M3FN 17, FLOAT8E5M2 19, INT4 22, FLOAT4E2M1 23. The block-scaled rows describe
 * their element format (range, ulp); the scales are in ld_blockfmt.h. */
static const ld_format formats[] = {
    [LD_TARGET_FP32] = {.name = "fp32", .long_name = "FP32", .max = FLT_MAX, .min_normal = FLT_MIN,
                        .min_subnormal = 1.401298464324817e-45, .mant_bits = 23, .reference = true,
                        .onnx_dtype = 1, .min_sqnr = 60, .goal_sqnr = 20, .round = round_none},
    [LD_TARGET_FP16] = {.name = "fp16", .long_name = "FP16", .max = 65504.0, .min_normal = 6.103515625e-05,
                        .min_subnormal = 5.960464477539063e-08, .mant_bits = 10, .mixed_model = true,
                        .onnx_dtype = 10, .min_sqnr = 30, .goal_sqnr = 40, .round = round_fp16},
    [LD_TARGET_BF16] = {.name = "bf16", .long_name = "BF16", .max = 3.3895313892515355e38,
                        .min_normal = 1.1754943508222875e-38, .min_subnormal = 9.183549615799121e-41,
                        .mant_bits = 7, .mixed_model = true, .onnx_dtype = 16, .min_sqnr = 15,
                        .goal_sqnr = 30, .round = round_bf16},
    [LD_TARGET_FP8E4M3] = {.name = "fp8e4m3", .aliases = {"fp8", "fp8e4m3fn"}, .long_name = "FP8 E4M3FN",
                           .max = 448.0, .min_normal = 0.015625, .min_subnormal = 0.001953125,
                           .mant_bits = 3, .quantized = true, .onnx_dtype = 17, .min_sqnr = 8,
                           .goal_sqnr = 20, .round = round_fp8e4m3},
    [LD_TARGET_FP8E5M2] = {.name = "fp8e5m2", .long_name = "FP8 E5M2", .max = 57344.0,
                           .min_normal = 6.103515625e-05, .min_subnormal = 1.52587890625e-05,
                           .mant_bits = 2, .quantized = true, .onnx_dtype = 19, .min_sqnr = 5,
                           .goal_sqnr = 20, .round = round_fp8e5m2},
    [LD_TARGET_INT8] = {.name = "int8", .long_name = "INT8", .max = 127.0, .min_normal = 0.0,
                        .min_subnormal = 1.0, .mant_bits = 0, .integer = true, .quantized = true,
                        .onnx_dtype = 3, .min_sqnr = 8, .goal_sqnr = 20, .round = round_none},
    [LD_TARGET_W4A16] = {.name = "w4a16", .aliases = {"int4"}, .long_name = "W4A16 (INT4 weights)", .max = 7.0,
                         .min_normal = 0.0, .min_subnormal = 1.0, .mant_bits = 0, .integer = true,
                         .quantized = true, .onnx_dtype = 22, .min_sqnr = 10, .goal_sqnr = 20,
                         .round = round_none, .block = LD_BLOCK_INT4, .block_size = 128,
                         .block_size_flag = true, .weights_only = true},
    [LD_TARGET_NVFP4] = {.name = "nvfp4", .long_name = "NVFP4", .max = 6.0, .min_normal = 1.0,
                         .min_subnormal = 0.5, .mant_bits = 1, .quantized = true, .onnx_dtype = 23,
                         .min_sqnr = 5, .goal_sqnr = 20, .round = round_fp4e2m1, .block = LD_BLOCK_NVFP4,
                         .block_size = 16},
    [LD_TARGET_MXFP8] = {.name = "mxfp8", .long_name = "MXFP8 (E4M3)", .max = 448.0, .min_normal = 0.015625,
                         .min_subnormal = 0.001953125, .mant_bits = 3, .quantized = true, .onnx_dtype = 17,
                         .min_sqnr = 8, .goal_sqnr = 20, .round = round_fp8e4m3, .block = LD_BLOCK_MXFP8,
                         .max_sat = 0.1,
                         .block_size = 32},
    [LD_TARGET_MXFP4] = {.name = "mxfp4", .long_name = "MXFP4 (E2M1)", .max = 6.0, .min_normal = 1.0,
                         .min_subnormal = 0.5, .mant_bits = 1, .quantized = true, .onnx_dtype = 23,
                         .min_sqnr = 5, .goal_sqnr = 20, .round = round_fp4e2m1, .block = LD_BLOCK_MXFP4,
                         .max_sat = 0.1,
                         .block_size = 32},
    [LD_TARGET_QDQ] = {.name = "qdq", .long_name = "QDQ (as written)", .max = FLT_MAX,
                       .min_normal = FLT_MIN, .min_subnormal = 1.401298464324817e-45,
                       .mant_bits = 23, .as_written = true, .onnx_dtype = 1, .min_sqnr = 20,
                       .goal_sqnr = 25, .round = round_none},
};
/* unsized on purpose: a row missing at the end fails here, one missing in between fails
 * test_precision's check that every row has a name and a round function */
static_assert(LD_ARRAY_LEN(formats) == LD_TARGET_COUNT, "a format per target");

const ld_format *ld_target_format(ld_target t) { return &formats[t]; }

const char *ld_target_names(char *buf, size_t n, const char *sep, bool with_reference) {
    size_t len = 0;
    if (n) buf[0] = 0;
    for (int i = 0; i < LD_TARGET_COUNT; i++) {
        if (formats[i].reference && !with_reference) continue;
        int k = snprintf(buf + len, len < n ? n - len : 0, "%s%s", len ? sep : "", formats[i].name);
        if (k > 0) len += (size_t)k;
    }
    return buf;
}

ld_status ld_target_parse(const char *s, ld_target *out) {
    for (int i = 0; i < LD_TARGET_COUNT; i++) {
        bool hit = !strcmp(s, formats[i].name);
        for (int a = 0; !hit && a < (int)LD_ARRAY_LEN(formats[i].aliases) && formats[i].aliases[a]; a++)
            hit = !strcmp(s, formats[i].aliases[a]);
        if (hit) { *out = (ld_target)i; return LD_OK; }
    }
    char names[128];
    return ld_error(LD_ERR_USAGE, "unknown target '%s' (%s)", s, ld_target_names(names, sizeof names, ", ", true));
}

void ld_round_to(ld_target t, float *x, int64_t n) { formats[t].round(x, n); }

double ld_format_ulp(ld_target t, double v) {
    const ld_format *f = &formats[t];
    if (f->integer) return 1.0;
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
    if (!nn) return ld_oom();
    c->names = nn;
    float *na = realloc(c->amax, sizeof(float) * (c->n + 1));
    if (!na) return ld_oom();
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

static bool node_pinned(const ld_policy *p, const ld_node *n, int index) {
    (void)n;
    return p->pinned && index >= 0 && p->pinned[index];
}

bool ld_policy_quantizes(const ld_policy *p, const ld_node *n) {
    return formats[p->target].quantized && ld_node_has(n, LD_OPT_QGEMM);
}

ld_target ld_policy_storage(const ld_policy *p, const ld_node *n) {
    (void)n;
    if (formats[p->target].as_written) return LD_TARGET_FP32;
    return formats[p->target].quantized ? p->fallback : p->target;
}

bool ld_policy_body_pinned(const ld_policy *p, const ld_node *n) {
    for (int i = 0; p && i < p->nbody_pins; i++) if (p->body_pins[i] == n) return true;
    return false;
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
    if (node_pinned(p, n, index) || formats[p->target].reference || formats[p->target].as_written) return ld_node_run(ex, n, in, out);
    ld_target store = ld_policy_storage(p, n);
    if (ld_policy_quantizes(p, n) && formats[p->target].block) {
        LD_TRY(ld_block_run_node(p, ex, n, in, out, sat));
    } else if (ld_policy_quantizes(p, n)) {
        LD_TRY(ld_prec_quant_run_node(p, ex, n, in, out, sat));
    } else if (p->accum_fp16 && ld_accum_handles(n)) {
        LD_TRY(ld_accum_run_node(ex, n, in, out));
    } else {
        LD_TRY(ld_node_run(ex, n, in, out));
    }
    round_outputs(store, n, out);
    return LD_OK;
}
