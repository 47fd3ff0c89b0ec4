/*
** test_numeric.c — FP16/BF16 conversions exhaustively against numpy tables, FP8 formats
** against the ONNX float8 spec's defining properties (every code round-trips, max values,
** saturation and NaN rules), float4 and e8m0 tables.
*/
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "ld_numeric.h"
#include "ld_common.h"

static uint32_t *load(const char *name, size_t *n) {
    char path[512];
    snprintf(path, sizeof path, "fixtures/numeric/%s", name);
    uint8_t *buf;
    size_t len;
    assert_int_equal(ld_file_read(path, &buf, &len), LD_OK);
    *n = len / 4;
    return (uint32_t *)buf;
}

static void test_f16_to_f32_all(void **st) {
    size_t n;
    uint32_t *ref = load("f16_to_f32.bin", &n);
    assert_int_equal(n, 65536);
    for (uint32_t h = 0; h < 65536; h++) {
        float f = ld_f16_to_f32((uint16_t)h);
        uint32_t got = ld_f32_bits(f);
        if (isnan(f)) assert_true(isnan(ld_bits_f32(ref[h])));
        else if (got != ref[h]) fail_msg("half 0x%04x: got 0x%08x, numpy 0x%08x", h, got, ref[h]);
    }
    free(ref);
}

static void test_f32_to_f16_ties(void **st) {
    size_t n;
    uint32_t *ref = load("f32_to_f16.bin", &n);
    size_t bad = 0;
    for (size_t i = 0; i + 1 < n; i += 2) {
        float x = ld_bits_f32(ref[i]);
        uint16_t got = ld_f32_to_f16(x), want = (uint16_t)ref[i + 1];
        if (isnan(x)) { assert_true((got & 0x7c00) == 0x7c00 && (got & 0x3ff)); continue; }
        if (got != want && bad++ < 5) print_error("f32 0x%08x: got 0x%04x numpy 0x%04x\n", ref[i], got, want);
    }
    assert_int_equal(bad, 0);
    free(ref);
}

static void test_f16_roundtrip_all(void **st) {
    for (uint32_t h = 0; h < 65536; h++) {
        float f = ld_f16_to_f32((uint16_t)h);
        if (isnan(f)) continue;
        assert_int_equal(ld_f32_to_f16(f), h);
    }
}

static void test_f32_to_bf16(void **st) {
    size_t n;
    uint32_t *ref = load("f32_to_bf16.bin", &n);
    size_t bad = 0;
    for (size_t i = 0; i + 1 < n; i += 2) {
        float x = ld_bits_f32(ref[i]);
        uint16_t got = ld_f32_to_bf16(x);
        if (got != (uint16_t)ref[i + 1] && bad++ < 5)
            print_error("f32 0x%08x: got 0x%04x ref 0x%04x\n", ref[i], got, (uint16_t)ref[i + 1]);
    }
    assert_int_equal(bad, 0);
    free(ref);
    for (uint32_t b = 0; b < 65536; b++) {   /* every bf16 round-trips */
        float f = ld_bf16_to_f32((uint16_t)b);
        if (!isnan(f)) assert_int_equal(ld_f32_to_bf16(f), b);
    }
}

/* the F16C fast path rounds exactly like the software conversion */
static void test_f16_fast_path(void **st) {
    size_t n;
    uint32_t *ref = load("f32_to_f16.bin", &n);
    size_t m = n / 2;
    float *a = malloc(sizeof(float) * m), *b = malloc(sizeof(float) * m);
    for (size_t i = 0; i < m; i++) a[i] = b[i] = ld_bits_f32(ref[2 * i]);
    ld_f32_round_f16_n(a, (int64_t)m);
    ld_f32_round_f16_n_soft(b, (int64_t)m);
    for (size_t i = 0; i < m; i++) {
        if (isnan(b[i])) { assert_true(isnan(a[i])); continue; }
        if (ld_f32_bits(a[i]) != ld_f32_bits(b[i])) fail_msg("0x%08x: fast %g, soft %g", ref[2 * i], a[i], b[i]);
    }
    print_message("F16C %s\n", ld_f16c_available() ? "available and checked" : "not available (software path)");
    free(a); free(b); free(ref);
}

static void test_f16_specials(void **st) {
    assert_int_equal(ld_f32_to_f16(65504.0f), 0x7bff);
    assert_int_equal(ld_f32_to_f16(65519.0f), 0x7bff);      /* below the midpoint */
    assert_int_equal(ld_f32_to_f16(65520.0f), 0x7c00);      /* midpoint rounds to even = Inf */
    assert_int_equal(ld_f32_to_f16(-1e10f), 0xfc00);
    assert_int_equal(ld_f32_to_f16(5.960464477539063e-08f), 0x0001);   /* smallest subnormal */
    assert_int_equal(ld_f32_to_f16(2.98023223876953125e-08f), 0x0000); /* tie -> even (0) */
    assert_int_equal(ld_f32_to_f16(-0.0f), 0x8000);
}

/* FP8: every code decodes to a value that encodes back to the same code (NaN aside), the
 * largest finite values are the spec's, and saturation/NaN follow the ONNX table. */
typedef float (*dec_fn)(uint8_t);
typedef uint8_t (*enc_fn)(float, bool);

static void check_fp8(dec_fn dec, enc_fn enc, float maxv, uint8_t maxcode, bool fnuz, bool has_inf) {
    for (int c = 0; c < 256; c++) {
        float v = dec((uint8_t)c);
        if (isnan(v) || isinf(v)) continue;
        if (fnuz && c == 0x80) continue;
        uint8_t back = enc(v, true);
        if (v == 0.0f && fnuz) { assert_int_equal(back, 0); continue; }
        if (back != c) fail_msg("code 0x%02x -> %g -> 0x%02x", c, v, back);
    }
    assert_true(dec(maxcode) == maxv);
    assert_int_equal(enc(maxv * 4, true), maxcode);                 /* saturate */
    assert_int_equal(enc(-maxv * 4, true), fnuz ? (maxcode | 0x80) : (maxcode | 0x80));
    assert_true(isnan(dec(enc(NAN, true))));
    uint8_t ov = enc(maxv * 4, false);
    if (has_inf) assert_true(isinf(dec(ov)));
    else assert_true(isnan(dec(ov)));
}

static uint8_t e4m3fn(float f, bool s) { return ld_f32_to_f8e4m3fn(f, s); }
static uint8_t e4m3fnuz(float f, bool s) { return ld_f32_to_f8e4m3fnuz(f, s); }
static uint8_t e5m2(float f, bool s) { return ld_f32_to_f8e5m2(f, s); }
static uint8_t e5m2fnuz(float f, bool s) { return ld_f32_to_f8e5m2fnuz(f, s); }

static void test_fp8_formats(void **st) {
    check_fp8(ld_f8e4m3fn_to_f32, e4m3fn, 448.0f, 0x7e, false, false);
    check_fp8(ld_f8e4m3fnuz_to_f32, e4m3fnuz, 240.0f, 0x7f, true, false);
    check_fp8(ld_f8e5m2_to_f32, e5m2, 57344.0f, 0x7b, false, true);
    check_fp8(ld_f8e5m2fnuz_to_f32, e5m2fnuz, 57344.0f, 0x7f, true, false);
    /* spec examples: smallest subnormals, round half to even */
    assert_true(ld_f8e4m3fn_to_f32(0x01) == ldexpf(1, -9));
    assert_true(ld_f8e5m2_to_f32(0x01) == ldexpf(1, -16));
    assert_int_equal(ld_f32_to_f8e4m3fn(1.0625f, true), 0x38);   /* 1 + 1/16: tie -> even (1.0) */
    assert_int_equal(ld_f32_to_f8e4m3fn(1.1875f, true), 0x3a);   /* 1 + 3/16: tie -> even (1.25) */
    assert_int_equal(ld_f32_to_f8e4m3fn(INFINITY, true), 0x7e);
    assert_int_equal(ld_f32_to_f8e5m2(INFINITY, false), 0x7c);
    assert_int_equal(ld_f32_to_f8e5m2(INFINITY, true), 0x7b);
}

static void test_fp4_e8m0(void **st) {
    static const float tab[8] = {0, 0.5f, 1, 1.5f, 2, 3, 4, 6};
    for (int c = 0; c < 16; c++) {
        float v = ld_f4e2m1_to_f32((uint8_t)c);
        assert_true(v == ((c & 8) ? -tab[c & 7] : tab[c & 7]));
        if (c != 8) assert_int_equal(ld_f32_to_f4e2m1(v), c);
        else assert_int_equal(ld_f32_to_f4e2m1(NAN), 8);    /* NaN -> -0, as the ONNX reference */
    }
    assert_int_equal(ld_f32_to_f4e2m1(100.0f), 0x7);
    assert_int_equal(ld_f32_to_f4e2m1(0.25f), 0x0);     /* tie -> even (0) */
    assert_int_equal(ld_f32_to_f4e2m1(0.75f), 0x2);     /* tie -> even (1.0) */
    assert_true(ld_f8e8m0_to_f32(127) == 1.0f);
    assert_int_equal(ld_f32_to_f8e8m0(1.5f, true, 0), 128);
    assert_int_equal(ld_f32_to_f8e8m0(1.5f, true, 1), 127);
    assert_int_equal(ld_f32_to_f8e8m0(0.0f, true, 0), 0);       /* zero: code 0 (2^-127) */
    assert_int_equal(ld_f32_to_f8e8m0(0.124f, true, 0), 124);   /* rounds up to 2^-3 */
    assert_int_equal(ld_f32_to_f8e8m0(INFINITY, false, 0), 0xff);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_f16_to_f32_all),   cmocka_unit_test(test_f32_to_f16_ties),
        cmocka_unit_test(test_f16_roundtrip_all), cmocka_unit_test(test_f32_to_bf16),
        cmocka_unit_test(test_f16_specials),     cmocka_unit_test(test_fp8_formats),
        cmocka_unit_test(test_f16_fast_path),
        cmocka_unit_test(test_fp4_e8m0),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
