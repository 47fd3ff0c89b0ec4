/*
** test_qdq.c — the QDQ plan and the quantizer statistics (ld_qdq.h): which nodes of a built
** model form activation and weight quantizers (and which do not: a Q output read by a
** non-DequantizeLinear node), the parameters read from the scale, the extended last use of an
** activation quantizer's input; clip, zero and FP8 saturation counts on hand-computed values
** and the reasons they give.
*/
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ld_qdq.h"
#pragma GCC diagnostic ignored "-Wunused-function"
#include "model_builder.h"

/* x -> Q -> DQ -> MatMul(., DQ(Q(W))) -> y ; x -> Q2 -> Abs (Q2 is read by a non-DQ node) */
static ld_model *build(void) {
    mb b;
    mb_init(&b, 17);
    int64_t xd[2] = {2, 4}, wd[2] = {4, 3}, one[1] = {1};
    mb_input(&b, "x", 2, xd);
    mb_output(&b, "y", 2, (int64_t[]){2, 3});
    mb_output(&b, "a", 2, xd);
    float w[12] = {0.5f, -1, 0.25f, 2, 0, 1, -0.5f, 0.75f, 1.5f, -2, 0.125f, 1};
    mb_init_f32(&b, "W", 2, wd, w);
    mb_init_f32(&b, "s", 0, one, (float[]){0.05f});
    mb_init_f32(&b, "sw", 0, one, (float[]){0.02f});
    mb_node(&b, "QuantizeLinear", "xq", 2, (const char *[]){"x", "s"}, 1, (const char *[]){"xq_out"});
    mb_node(&b, "DequantizeLinear", "xdq", 2, (const char *[]){"xq_out", "s"}, 1, (const char *[]){"xdq_out"});
    mb_node(&b, "QuantizeLinear", "wq", 2, (const char *[]){"W", "sw"}, 1, (const char *[]){"wq_out"});
    mb_node(&b, "DequantizeLinear", "wdq", 2, (const char *[]){"wq_out", "sw"}, 1, (const char *[]){"wdq_out"});
    mb_node(&b, "MatMul", "mm", 2, (const char *[]){"xdq_out", "wdq_out"}, 1, (const char *[]){"y"});
    mb_node(&b, "QuantizeLinear", "q2", 2, (const char *[]){"x", "s"}, 1, (const char *[]){"q2_out"});
    mb_node(&b, "Cast", "cast", 1, (const char *[]){"q2_out"}, 1, (const char *[]){"a"});
    mb_attr_int(&b, b.graph.node[b.graph.n_node - 1], "to", 1);
    uint8_t *buf;
    size_t n = mb_pack(&b, &buf);
    ld_model *m = NULL;
    assert_int_equal(ld_model_load_buffer(buf, n, "qdq.onnx", &m), LD_OK);
    free(buf);
    mb_free(&b);
    return m;
}

static int node_named(const ld_graph *g, const char *name) {
    for (int i = 0; i < g->nnodes; i++) if (!strcmp(g->nodes[i].name, name)) return i;
    return -1;
}

static void test_plan(void **st) {
    (void)st;
    ld_model *m = build();
    ld_graph *g = m->graph;
    ld_qdq q;
    assert_int_equal(ld_qdq_plan(g, &q), LD_OK);
    assert_int_equal(q.npairs, 2);            /* xq/xdq and wq/wdq; q2 feeds a Cast */
    assert_int_equal(q.nweights, 1);
    assert_int_equal(q.nweights_float, 1);    /* W is a float initializer in the model */
    int xdq = node_named(g, "xdq"), wdq = node_named(g, "wdq"), mm = node_named(g, "mm");
    assert_true(xdq >= 0 && wdq >= 0 && mm >= 0);
    const ld_qdq_pair *a = &q.pairs[q.of_node[xdq]], *w = &q.pairs[q.of_node[wdq]];
    assert_false(a->weight);
    assert_true(w->weight);
    assert_int_equal(a->src, ld_graph_find_value(g, "x"));
    assert_int_equal(a->consumer, mm);
    assert_int_equal(a->qdtype, LD_U8);       /* no zero point: uint8 */
    assert_int_equal(a->axis, -1);            /* one scale */
    assert_true(fabs(a->scale_max - 0.05) < 1e-7);
    assert_true(g->values[a->src].last_use >= xdq);   /* the reference side reads x there */
    assert_ptr_equal(w->float_w, g->values[ld_graph_find_value(g, "W")].const_val);
    assert_int_equal(q.of_value[ld_graph_find_value(g, "xdq_out")], q.of_node[xdq]);
    assert_int_equal(q.of_node[node_named(g, "q2")], -1);
    assert_string_equal(ld_qdq_name(a, g), "xq");
    assert_string_equal(ld_qdq_name(w, g), "wdq");
    ld_qdq_free(&q);
    ld_model_free(m);
}

static ld_tensor *vec(ld_dtype t, int n, const double *v) {
    int64_t d[1] = {n};
    ld_tensor *x = ld_tensor_new(t, 1, d);
    for (int i = 0; i < n; i++) ld_tensor_set_f64(x, i, v[i]);
    return x;
}

static void test_measure_int8(void **st) {
    (void)st;
    /* scale 0.1, zero point 0, int8: q = clip(rint(x / 0.1), -128, 127) */
    double xs[8] = {0.0, 0.04, 0.06, 12.7, 12.76, 20.0, -13.0, -12.8};
    double qs[8] = {0, 0, 1, 127, 127, 127, -128, -128};
    double ds[8];
    for (int i = 0; i < 8; i++) ds[i] = qs[i] * 0.1;
    ld_tensor *x = vec(LD_F32, 8, xs), *qv = vec(LD_I8, 8, qs), *dq = vec(LD_F32, 8, ds);
    ld_qdq_pair p = {.qdtype = LD_I8, .qmin = -128, .qmax = 127, .axis = -1, .nscale = 1, .scale_min = 0.1,
                     .scale_max = 0.1, .xmin = INFINITY, .xmax = -INFINITY, .dq = 0, .q = -1};
    ld_qdq_measure(&p, x, qv, dq);
    assert_int_equal(p.total, 8);
    assert_int_equal(p.clipped, 3);    /* 12.76 (beyond 12.75), 20, -13; not 12.7 or -12.8 */
    assert_int_equal(p.nonzero, 7);
    assert_int_equal(p.zeroed, 1);     /* 0.04 */
    assert_true(p.xmin == (float)-13.0 && p.xmax == (float)20.0);
    ld_tensor_free(x);
    ld_tensor_free(qv);
    ld_tensor_free(dq);
}

/* per-channel asymmetric uint8 (axis -1 of a (2, 2) input): each element's clip test uses its
 * own channel's zero point, and the negative axis is counted from the input's rank */
static void test_measure_per_channel_zp(void **st) {
    (void)st;
    int64_t d[2] = {2, 2}, dz[1] = {2};
    ld_tensor *x = ld_tensor_new(LD_F32, 2, d), *qv = ld_tensor_new(LD_U8, 2, d), *dq = ld_tensor_new(LD_F32, 2, d);
    ld_tensor *zp = ld_tensor_new(LD_U8, 1, dz);
    double zps[2] = {0, 200};
    /* (x, q): channel 0 zero point 0, channel 1 zero point 200, scale 0.1 */
    double xs[4] = {1.0, 5.54, 30.0, 5.6}, qs[4] = {10, 255, 255, 255};
    for (int i = 0; i < 4; i++) {
        ld_tensor_set_f64(x, i, xs[i]);
        ld_tensor_set_f64(qv, i, qs[i]);
        ld_tensor_set_f64(dq, i, (qs[i] - zps[i % 2]) * 0.1);
    }
    for (int i = 0; i < 2; i++) ld_tensor_set_f64(zp, i, zps[i]);
    ld_qdq_pair p = {.qdtype = LD_U8, .qmin = 0, .qmax = 255, .axis = -1, .nscale = 2, .scale_min = 0.1,
                     .scale_max = 0.1, .zero_point = 0, .zp_t = zp, .xmin = INFINITY, .xmax = -INFINITY,
                     .dq = 0, .q = -1};
    ld_qdq_measure(&p, x, qv, dq);
    assert_int_equal(p.axis, 1);
    assert_int_equal(p.clipped, 2);   /* 30.0 and 5.6; 5.54 rounds to 255 inside channel 1's range */
    ld_tensor_free(x); ld_tensor_free(qv); ld_tensor_free(dq); ld_tensor_free(zp);
}

static void test_measure_fp8(void **st) {
    (void)st;
    /* FP8 E4M3FN, scale 1: 448 is the top; beyond 464 (half a step above) saturates */
    double xs[4] = {500, 460, -1000, 3};
    double ds[4] = {448, 448, -448, 3};
    ld_tensor *x = vec(LD_F32, 4, xs), *qv = vec(LD_F8E4M3FN, 4, ds), *dq = vec(LD_F32, 4, ds);
    ld_qdq_pair p = {.qdtype = LD_F8E4M3FN, .qmin = -448, .qmax = 448, .axis = -1, .nscale = 1, .scale_min = 1,
                     .scale_max = 1, .xmin = INFINITY, .xmax = -INFINITY};
    ld_qdq_measure(&p, x, qv, dq);
    assert_int_equal(p.clipped, 2);
    ld_tensor_free(x);
    ld_tensor_free(qv);
    ld_tensor_free(dq);
}

static void test_reason(void **st) {
    (void)st;
    ld_model *m = build();
    ld_qdq q;
    assert_int_equal(ld_qdq_plan(m->graph, &q), LD_OK);
    int xdq = node_named(m->graph, "xdq");
    ld_qdq_pair p = q.pairs[q.of_node[xdq]];
    char why[512];
    p.measured = true;
    p.total = 1000, p.clipped = 300, p.nonzero = 1000, p.zeroed = 0, p.xmin = 0, p.xmax = 40;
    ld_qdq_reason(&p, m->graph, why, sizeof why);
    assert_non_null(strstr(why, "quantizer 'xq' clips 30.0% of its input"));
    assert_non_null(strstr(why, "covers [0, 12.75]"));
    p.clipped = 0, p.zeroed = 400;
    ld_qdq_reason(&p, m->graph, why, sizeof why);
    assert_non_null(strstr(why, "rounds 40.0% of its nonzero inputs to zero"));
    p.zeroed = 0, p.xmax = 12;
    ld_qdq_reason(&p, m->graph, why, sizeof why);
    assert_string_equal(why, "");      /* nothing stands out */
    p.xmax = 0.5;                       /* 10 of 256 levels */
    ld_qdq_reason(&p, m->graph, why, sizeof why);
    assert_non_null(strstr(why, "is large for the input's range"));
    ld_qdq_free(&q);
    ld_model_free(m);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_plan),
        cmocka_unit_test(test_measure_int8),
        cmocka_unit_test(test_measure_per_channel_zp),
        cmocka_unit_test(test_measure_fp8),
        cmocka_unit_test(test_reason),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
