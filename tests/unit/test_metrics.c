/*
** test_metrics.c — every metric on hand-computed cases, the pass/fail rules and reasons,
** ulps of each format, histogram quantiles, and target rounding.
*/
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <math.h>
#include <string.h>

#include "ld_metrics.h"

static ld_tol tol0(ld_target t) { ld_tol tol; ld_tol_default(&tol, t); return tol; }

static void test_basic_metrics(void **st) {
    const float ref[4] = {1, 2, 3, 4}, tgt[4] = {1, 2, 3, 5};
    ld_err e;
    ld_tol tol = tol0(LD_TARGET_FP16);
    ld_err_init(&e, 0);
    ld_err_add(&e, LD_TARGET_FP16, &tol, ref, tgt, 4, 0);
    assert_int_equal(e.count, 4);
    assert_float_equal(e.max_abs, 1.0, 1e-12);
    assert_float_equal(ld_err_mean_abs(&e), 0.25, 1e-12);
    assert_float_equal(e.max_rel, 0.25, 1e-9);
    assert_float_equal(ld_err_mean_rel(&e), 0.0625, 1e-9);
    assert_float_equal(ld_err_rmse(&e), 0.5, 1e-12);
    assert_float_equal(ld_err_nmse(&e), 1.0 / 30.0, 1e-12);
    assert_float_equal(ld_err_sqnr(&e), 10 * log10(30.0), 1e-9);
    assert_float_equal(ld_err_cosine(&e), 34.0 / sqrt(30.0 * 39.0), 1e-12);
    assert_int_equal(e.argmax_abs, 3);
    /* 1 ulp of FP16 at 4 is 2^-8: an error of 1 is 256 ulps */
    assert_float_equal(e.max_ulp, 256.0, 1e-9);
    /* median abs error is 0 (three exact elements), p99 is the bin holding 1.0 */
    assert_float_equal(ld_err_quantile_abs(&e, 0.5), 0.0, 0);
    double p99 = ld_err_quantile_abs(&e, 0.99);
    assert_true(p99 >= 1.0 && p99 < 1.1);
    /* accumulation over a second sample adds sums and keeps maxima */
    const float r2[2] = {10, 10}, t2[2] = {10, 10};
    ld_err_add(&e, LD_TARGET_FP16, &tol, r2, t2, 2, 0);
    assert_int_equal(e.count, 6);
    assert_float_equal(ld_err_sqnr(&e), 10 * log10(230.0), 1e-9);
    assert_float_equal(e.max_abs, 1.0, 0);
    ld_err_free(&e);
}

static void test_exact_and_zero(void **st) {
    const float z[3] = {0, 0, 0};
    ld_err e;
    ld_tol tol = tol0(LD_TARGET_BF16);
    ld_err_init(&e, 0);
    ld_err_add(&e, LD_TARGET_BF16, &tol, z, z, 3, 0);
    assert_true(isinf(ld_err_sqnr(&e)) && ld_err_sqnr(&e) > 0);
    assert_float_equal(ld_err_cosine(&e), 1.0, 0);
    char why[256];
    assert_true(ld_err_passes(&e, NULL, LD_TARGET_BF16, &tol, why, sizeof why));
    ld_err_free(&e);
}

static void test_nonfinite_overflow_underflow(void **st) {
    const float ref[5] = {70000.f, 1.f, 1e-9f, NAN, 2.f};
    const float tgt[5] = {INFINITY, NAN, 0.f, NAN, 3e-6f};
    ld_err e;
    ld_tol tol = tol0(LD_TARGET_FP16);
    ld_err_init(&e, 0);
    ld_err_add(&e, LD_TARGET_FP16, &tol, ref, tgt, 5, 0);
    assert_int_equal(e.new_inf, 1);
    assert_int_equal(e.new_nan, 1);
    assert_int_equal(e.overflow, 1);
    assert_int_equal(e.underflow, 1);
    assert_int_equal(e.subnormal, 1);      /* 3e-6 is below FP16's smallest normal 6.1e-5 */
    char why[256];
    assert_false(ld_err_passes(&e, NULL, LD_TARGET_FP16, &tol, why, sizeof why));
    assert_non_null(strstr(why, "overflows FP16"));
    assert_non_null(strstr(why, "65504"));
    ld_err_free(&e);
}

static void test_sqnr_rule_and_polygraphy_tolerances(void **st) {
    float ref[100], tgt[100];
    for (int i = 0; i < 100; i++) { ref[i] = 1.0f + i; tgt[i] = ref[i] * 1.01f; }   /* SQNR 40 dB */
    ld_err e;
    ld_tol tol = tol0(LD_TARGET_FP16);
    ld_err_init(&e, 0);
    ld_err_add(&e, LD_TARGET_FP16, &tol, ref, tgt, 100, 0);
    assert_float_equal(ld_err_sqnr(&e), 40.0, 1e-3);
    char why[256];
    assert_true(ld_err_passes(&e, NULL, LD_TARGET_FP16, &tol, why, sizeof why));
    tol.min_sqnr = 45;
    assert_false(ld_err_passes(&e, NULL, LD_TARGET_FP16, &tol, why, sizeof why));
    assert_non_null(strstr(why, "SQNR 40.0 dB below 45.0 dB"));
    /* Polygraphy: elementwise fails where abs > atol AND rel > rtol */
    tol = tol0(LD_TARGET_FP16);
    tol.check_tol = true;
    tol.atol = 0.5;
    tol.rtol = 0.02;
    ld_err e2;
    ld_err_init(&e2, 0);
    ld_err_add(&e2, LD_TARGET_FP16, &tol, ref, tgt, 100, 0);
    assert_int_equal(e2.elem_fail, 0);             /* rel 0.01 <= 0.02 everywhere */
    assert_true(ld_err_passes(&e2, NULL, LD_TARGET_FP16, &tol, why, sizeof why));
    tol.rtol = 0.005;
    ld_err e3;
    ld_err_init(&e3, 0);
    ld_err_add(&e3, LD_TARGET_FP16, &tol, ref, tgt, 100, 0);
    assert_int_equal(e3.elem_fail, 50);            /* abs = 0.01*ref > 0.5 for ref > 50 */
    assert_false(ld_err_passes(&e3, NULL, LD_TARGET_FP16, &tol, why, sizeof why));
    tol.stat = LD_STAT_MEAN;                        /* mean abs 0.505 > 0.5 and mean rel 0.01 > 0.005 */
    assert_false(ld_err_passes(&e3, NULL, LD_TARGET_FP16, &tol, why, sizeof why));
    tol.atol = 0.6;
    assert_true(ld_err_passes(&e3, NULL, LD_TARGET_FP16, &tol, why, sizeof why));
    ld_err_free(&e); ld_err_free(&e2); ld_err_free(&e3);
}

static void test_saturation_and_channels(void **st) {
    /* (N=1, C=2, 2) layout: channel 1 holds the big error */
    const float ref[4] = {1, 1, 10, 10}, tgt[4] = {1, 1.1f, 10, 5};
    ld_err e;
    ld_tol tol = tol0(LD_TARGET_INT8);
    ld_err_init(&e, 2);
    ld_err_add(&e, LD_TARGET_INT8, &tol, ref, tgt, 4, 2);
    assert_float_equal(e.ch_max[0], 0.1f, 1e-6);
    assert_float_equal(e.ch_max[1], 5.0f, 0);
    e.saturated = 1;                                /* 1 of 4 inputs clipped: 25% > 0.1% */
    e.sat_total = 4;
    e.sat_absmax = 300;
    char why[256];
    assert_false(ld_err_passes(&e, NULL, LD_TARGET_INT8, &tol, why, sizeof why));
    assert_non_null(strstr(why, "clips 25% of the input values (1 of 4; max |input| 300)"));
    e.sat_total = 10000;                            /* 1 in 10000: below the 0.1% default */
    assert_true(ld_err_passes(&e, NULL, LD_TARGET_INT8, &tol, why, sizeof why));
    ld_err_free(&e);
}

static void test_ulp_and_rounding(void **st) {
    assert_float_equal(ld_format_ulp(LD_TARGET_FP16, 1.0), ldexp(1, -10), 0);
    assert_float_equal(ld_format_ulp(LD_TARGET_FP16, 1e-6), ldexp(1, -24), 0);
    assert_float_equal(ld_format_ulp(LD_TARGET_BF16, 1.0), ldexp(1, -7), 0);
    assert_float_equal(ld_format_ulp(LD_TARGET_FP8E4M3, 448.0), 32.0, 0);
    assert_float_equal(ld_format_ulp(LD_TARGET_FP8E5M2, 1.0), 0.25, 0);
    float x[4] = {1.0009765625f + 1e-4f, 70000.f, 448.f * 1.1f, 1e-8f};
    float y[4];
    memcpy(y, x, sizeof x);
    ld_round_to(LD_TARGET_FP16, y, 4);
    assert_float_equal(y[0], 1.0009765625f, 0);
    assert_true(isinf(y[1]));
    assert_float_equal(y[3], 0.0f, 0);
    memcpy(y, x, sizeof x);
    ld_round_to(LD_TARGET_FP8E4M3, y, 4);
    assert_float_equal(y[2], 448.0f, 0);            /* saturates to max */
    ld_target t;
    assert_int_equal(ld_target_parse("bf16", &t), LD_OK);
    assert_int_equal(t, LD_TARGET_BF16);
    assert_int_equal(ld_target_parse("fp12", &t), LD_ERR_USAGE);
}

static void test_tstats(void **st) {
    ld_tstats s;
    ld_tstats_init(&s);
    const float a[5] = {1, 2, 3, NAN, -4};
    ld_tstats_add(&s, a, 5);
    assert_float_equal(s.min, -4, 0);
    assert_float_equal(s.max, 3, 0);
    assert_float_equal(s.absmax, 4, 0);
    assert_int_equal(s.nan, 1);
    assert_float_equal(ld_tstats_mean(&s), 0.5, 1e-12);
    assert_float_equal(ld_tstats_std(&s), sqrt(30.0 / 4 - 0.25), 1e-12);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_basic_metrics), cmocka_unit_test(test_exact_and_zero),
        cmocka_unit_test(test_nonfinite_overflow_underflow), cmocka_unit_test(test_sqnr_rule_and_polygraphy_tolerances),
        cmocka_unit_test(test_saturation_and_channels), cmocka_unit_test(test_ulp_and_rounding),
        cmocka_unit_test(test_tstats),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
