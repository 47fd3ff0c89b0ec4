/*
** test_compare.c — the comparison engine on small models built here with a planted problem:
** an FP16 overflow in one MatMul, an INT8 outlier channel feeding a Conv, FP16 accumulation
** overflow in LayerNormalization; INT8 GEMM emulation is exact (with and without the 4-bit
** weight split); pinning the culprit removes the divergence.
*/
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ld_compare.h"
#include "model_builder.h"

static ld_model *load_mb(mb *b) {
    uint8_t *buf;
    size_t n = mb_pack(b, &buf);
    ld_model *m = NULL;
    if (ld_model_load_buffer(buf, n, "planted.onnx", &m) != LD_OK) fail_msg("load: %s", ld_err_msg());
    free(buf);
    return m;
}

static int node_index(const ld_model *m, const char *name) {
    for (int i = 0; i < m->graph->nnodes; i++)
        if (!strcmp(m->graph->nodes[i].name, name)) return i;
    return -1;
}

static ld_feed feed1(const char *name, int ndim, const int64_t *dims, float lo, float hi, unsigned seed) {
    ld_feed f = {0};
    ld_tensor *t = ld_tensor_new(LD_F32, ndim, dims);
    for (int64_t i = 0; i < t->numel; i++) {
        seed = seed * 1103515245u + 12345u;
        LD_F32P(t)[i] = lo + (hi - lo) * (float)((seed >> 8) & 0xffff) / 65536.0f;
    }
    ld_feed_add(&f, name, t);
    return f;
}

static void run_compare(ld_model *m, ld_compare_opts *o, ld_feed *f, ld_compare *c) {
    assert_int_equal(ld_compare_init(c, m, o), LD_OK);
    if (ld_compare_add_sample(c, f) != LD_OK) fail_msg("compare: %s", ld_err_msg());
    assert_int_equal(ld_compare_finish(c, NULL, 0), LD_OK);
}

/* x(1,16) -> Add(0.5) -> MatMul(W1 = 1e4) -> Relu -> Mul(1e-3) -> MatMul(W2) -> y */
static ld_model *overflow_model(mb *b) {
    static float w1[256], w2[64], half[1] = {0.5f}, milli[1] = {1e-3f};
    for (int i = 0; i < 256; i++) w1[i] = 1e4f;
    for (int i = 0; i < 64; i++) w2[i] = (i % 5) * 0.01f;
    int64_t dx[2] = {1, 16}, dw1[2] = {16, 16}, dw2[2] = {16, 4}, dy[2] = {1, 4}, d1[1] = {1};
    mb_init(b, 17);
    mb_input(b, "x", 2, dx);
    mb_output(b, "y", 2, dy);
    mb_init_f32(b, "w1", 2, dw1, w1);
    mb_init_f32(b, "w2", 2, dw2, w2);
    mb_init_f32(b, "half", 1, d1, half);
    mb_init_f32(b, "milli", 1, d1, milli);
    mb_node(b, "Add", "add0", 2, (const char *[]){"x", "half"}, 1, (const char *[]){"a"});
    mb_node(b, "MatMul", "mm1", 2, (const char *[]){"a", "w1"}, 1, (const char *[]){"h"});
    mb_node(b, "Relu", "relu", 1, (const char *[]){"h"}, 1, (const char *[]){"r"});
    mb_node(b, "Mul", "scale", 2, (const char *[]){"r", "milli"}, 1, (const char *[]){"s"});
    mb_node(b, "MatMul", "mm2", 2, (const char *[]){"s", "w2"}, 1, (const char *[]){"y"});
    return load_mb(b);
}

static void test_planted_fp16_overflow(void **st) {
    mb b;
    ld_model *m = overflow_model(&b);
    int64_t dx[2] = {1, 16};
    ld_feed f = feed1("x", 2, dx, 0, 1, 7);
    ld_compare_opts o = {0};
    o.policy.target = LD_TARGET_FP16;
    o.isolated = true;
    ld_tol_default(&o.tol, LD_TARGET_FP16);
    ld_compare c;
    run_compare(m, &o, &f, &c);
    assert_false(c.passed);
    assert_int_equal(c.first_iso.node, node_index(m, "mm1"));
    assert_int_equal(c.first_prop.node, node_index(m, "mm1"));
    assert_non_null(strstr(c.first_iso.reason, "overflows FP16"));
    assert_true(c.nodes[node_index(m, "mm1")].outs[0].flags & LD_FLAG_OVERFLOW);
    assert_true(c.nodes[node_index(m, "add0")].outs[0].iso_pass);
    ld_compare_free(&c);
    /* pin the planted region: mm1's output is 1e5, so relu and scale must stay FP32 too */
    bool pins[8] = {0};
    pins[node_index(m, "mm1")] = pins[node_index(m, "relu")] = pins[node_index(m, "scale")] = true;
    o.policy.pinned = pins;
    run_compare(m, &o, &f, &c);
    assert_true(c.passed);
    assert_true(ld_err_sqnr(&c.outputs[0]->prop) > 50);
    ld_compare_free(&c);
    ld_feed_clear(&f);
    ld_model_free(m);
    mb_free(&b);
}

/* x(1,4,8,8) -> Conv1 1x1 (channel 2 scaled by 1000) -> Conv2 1x1 mixing -> y */
static void test_planted_int8_outlier_channel(void **st) {
    static float w1[16], w2[16];
    for (int o = 0; o < 4; o++)
        for (int i = 0; i < 4; i++) w1[o * 4 + i] = o == i ? (o == 2 ? 1000.f : 1.f) : 0.f;
    for (int o = 0; o < 4; o++)
        for (int i = 0; i < 4; i++) w2[o * 4 + i] = i == 2 ? 1e-4f : 0.25f + 0.1f * o;
    int64_t dx[4] = {1, 4, 8, 8}, dw[4] = {4, 4, 1, 1};
    mb b;
    mb_init(&b, 17);
    mb_input(&b, "x", 4, dx);
    mb_output(&b, "y", 4, dx);
    mb_init_f32(&b, "w1", 4, dw, w1);
    mb_init_f32(&b, "w2", 4, dw, w2);
    mb_node(&b, "Conv", "conv1", 2, (const char *[]){"x", "w1"}, 1, (const char *[]){"h"});
    mb_node(&b, "Conv", "conv2", 2, (const char *[]){"h", "w2"}, 1, (const char *[]){"y"});
    ld_model *m = load_mb(&b);
    ld_feed f = feed1("x", 4, dx, 0.5f, 1, 3);
    ld_compare_opts o = {0};
    o.policy.target = LD_TARGET_INT8;
    o.policy.fallback = LD_TARGET_FP16;
    o.isolated = true;
    ld_tol_default(&o.tol, LD_TARGET_INT8);
    ld_compare c;
    run_compare(m, &o, &f, &c);
    assert_false(c.passed);
    assert_int_equal(c.first_iso.node, node_index(m, "conv2"));
    assert_non_null(strstr(c.first_iso.reason, "SQNR"));
    const ld_tensor_result *r1 = &c.nodes[node_index(m, "conv1")].outs[0];
    assert_true(r1->iso_pass);                       /* per-channel weights: conv1 itself is fine */
    ld_compare_free(&c);
    bool pins[4] = {0};
    pins[node_index(m, "conv2")] = true;
    o.policy.pinned = pins;
    run_compare(m, &o, &f, &c);
    assert_true(c.passed);
    ld_compare_free(&c);
    ld_feed_clear(&f);
    ld_model_free(m);
    mb_free(&b);
}

/* INT8 MatMul emulation equals the exact integer sum, scaled, for small and large K. */
static void check_int8_exact(int64_t K) {
    float *w = malloc(sizeof(float) * K * 3);
    for (int64_t i = 0; i < K * 3; i++) w[i] = (float)sin((double)i * 0.37) * (1 + (i % 3));
    int64_t dx[2] = {2, K}, dw[2] = {K, 3}, dy[2] = {2, 3};
    mb b;
    mb_init(&b, 17);
    mb_input(&b, "x", 2, dx);
    mb_output(&b, "y", 2, dy);
    mb_init_f32(&b, "w", 2, dw, w);
    mb_node(&b, "MatMul", "mm", 2, (const char *[]){"x", "w"}, 1, (const char *[]){"y"});
    ld_model *m = load_mb(&b);
    ld_feed f = feed1("x", 2, dx, -1, 1, 11);
    ld_tensor *x = f.items[0].t;
    ld_policy p = {.target = LD_TARGET_INT8, .fallback = LD_TARGET_FP32};
    ld_exec ex;
    assert_int_equal(ld_exec_init(&ex, m->graph, NULL), LD_OK);
    ld_tensor *in[2] = {x, m->graph->values[m->graph->nodes[0].in[1]].const_val};
    ld_tensor y = {0}, *out[1] = {&y};
    ld_sat sat = {0};
    assert_int_equal(ld_policy_run_node(&p, &ex, &m->graph->nodes[0], in, out, &sat), LD_OK);
    /* reference: the same quantization, summed exactly in 64-bit integers */
    double ax = 0;
    for (int64_t i = 0; i < x->numel; i++) ax = fmax(ax, fabs(LD_F32P(x)[i]));
    float sx = (float)ax / 127.0f;
    for (int c = 0; c < 3; c++) {
        float aw = 0;
        for (int64_t k = 0; k < K; k++) aw = fmaxf(aw, fabsf(w[k * 3 + c]));
        float sw = aw / 127.0f;
        for (int r = 0; r < 2; r++) {
            int64_t acc = 0;
            for (int64_t k = 0; k < K; k++) {
                float qx = rintf(LD_F32P(x)[r * K + k] * (1.0f / sx)), qw = rintf(w[k * 3 + c] / sw);
                qx = fminf(fmaxf(qx, -127), 127);
                qw = fminf(fmaxf(qw, -127), 127);
                acc += (int64_t)qx * (int64_t)qw;
            }
            float want = (float)((double)acc * 1.0 * sx * sw);
            assert_float_equal(LD_F32P(&y)[r * 3 + c], want, 0);
        }
    }
    assert_int_equal(sat.clipped, 0);
    assert_int_equal(sat.total, 2 * K);
    ld_tensor_clear(&y);
    ld_exec_destroy(&ex);
    ld_feed_clear(&f);
    ld_model_free(m);
    mb_free(&b);
    free(w);
}

static void test_int8_accumulation_exact(void **st) {
    check_int8_exact(64);      /* K * 127^2 < 2^24: one float GEMM */
    check_int8_exact(3000);    /* beyond: split weights, still exact */
}

/* LayerNormalization over values +-300: the sum of squares passes 65504 only when FP16
 * accumulates. */
static void test_fp16_accumulation_overflow(void **st) {
    static float scale[64], bias[64];
    for (int i = 0; i < 64; i++) { scale[i] = 1; bias[i] = 0; }
    int64_t dx[2] = {1, 64}, d64[1] = {64};
    mb b;
    mb_init(&b, 17);
    mb_input(&b, "x", 2, dx);
    mb_output(&b, "y", 2, dx);
    mb_init_f32(&b, "scale", 1, d64, scale);
    mb_init_f32(&b, "bias", 1, d64, bias);
    mb_node(&b, "LayerNormalization", "ln", 3, (const char *[]){"x", "scale", "bias"}, 1, (const char *[]){"y"});
    ld_model *m = load_mb(&b);
    ld_feed f = {0};
    ld_tensor *x = ld_tensor_new(LD_F32, 2, dx);
    for (int i = 0; i < 64; i++) LD_F32P(x)[i] = (i % 2 ? 300.f : -300.f) + (float)i * 0.01f;
    ld_feed_add(&f, "x", x);
    ld_compare_opts o = {0};
    o.policy.target = LD_TARGET_FP16;
    o.isolated = true;
    ld_tol_default(&o.tol, LD_TARGET_FP16);
    ld_compare c;
    run_compare(m, &o, &f, &c);
    assert_true(c.passed);                            /* FP32 accumulation: fine */
    ld_compare_free(&c);
    o.policy.accum_fp16 = true;
    run_compare(m, &o, &f, &c);
    assert_false(c.passed);
    assert_int_equal(c.first_iso.node, 0);
    ld_compare_free(&c);
    ld_feed_clear(&f);
    ld_model_free(m);
    mb_free(&b);
}

/* An incremental re-run after a pin change gives what a fresh comparison with those pins gives. */
static void test_incremental_rerun(void **st) {
    mb b;
    ld_model *m = overflow_model(&b);
    int64_t dx[2] = {1, 16};
    ld_feed f[2] = {feed1("x", 2, dx, 0, 1, 7), feed1("x", 2, dx, 0, 1, 9)};
    bool pins[8] = {0};
    ld_compare_opts o = {0};
    o.policy.target = LD_TARGET_FP16;
    o.policy.pinned = pins;
    o.isolated = true;
    ld_tol_default(&o.tol, LD_TARGET_FP16);
    ld_incremental *inc;
    assert_int_equal(ld_incr_open(&inc, m, &o, f, 2, NULL, 0), LD_OK);
    assert_false(ld_incr_result(inc)->passed);
    pins[node_index(m, "mm1")] = pins[node_index(m, "relu")] = pins[node_index(m, "scale")] = true;
    int from;
    assert_int_equal(ld_incr_rerun(inc, &from), LD_OK);
    assert_int_equal(from, node_index(m, "mm1"));        /* add0 before it is reused */
    const ld_compare *a = ld_incr_result(inc);
    ld_compare fresh;
    assert_int_equal(ld_compare_init(&fresh, m, &o), LD_OK);
    for (int k = 0; k < 2; k++) assert_int_equal(ld_compare_add_sample(&fresh, &f[k]), LD_OK);
    assert_int_equal(ld_compare_finish(&fresh, NULL, 0), LD_OK);
    assert_true(a->passed && fresh.passed);
    assert_int_equal(a->samples, fresh.samples);
    for (int i = 0; i < a->nnodes; i++)
        for (int k = 0; k < a->nodes[i].nout; k++) {
            const ld_tensor_result *x = &a->nodes[i].outs[k], *y = &fresh.nodes[i].outs[k];
            assert_int_equal(x->prop.count, y->prop.count);
            assert_true(x->prop.sum_sq_err == y->prop.sum_sq_err && x->iso.sum_sq_err == y->iso.sum_sq_err);
        }
    pins[node_index(m, "relu")] = false;                  /* unpin one again: diverges again */
    assert_int_equal(ld_incr_rerun(inc, &from), LD_OK);
    assert_int_equal(from, node_index(m, "relu"));
    assert_false(ld_incr_result(inc)->passed);
    assert_int_equal(ld_incr_rerun(inc, &from), LD_OK);   /* nothing changed: nothing recomputed */
    assert_int_equal(from, -1);
    ld_compare_free(&fresh);
    ld_incr_close(inc);
    ld_feed_clear(&f[0]); ld_feed_clear(&f[1]);
    ld_model_free(m);
    mb_free(&b);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_planted_fp16_overflow), cmocka_unit_test(test_planted_int8_outlier_channel),
        cmocka_unit_test(test_int8_accumulation_exact), cmocka_unit_test(test_fp16_accumulation_overflow),
        cmocka_unit_test(test_incremental_rerun),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
