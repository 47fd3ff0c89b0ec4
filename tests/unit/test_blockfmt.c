/*
** test_blockfmt.c — the block-scaled formats bit-exactly against numpy tables written from the
** specs (tools/gen_blockfmt_fixtures.py): FP4 E2M1 rounding of every float16 value at several
** block scales, and the per-block scale choice and values of W4A16, NVFP4, MXFP8 and MXFP4
** on random and edge-case blocks (zeros, Inf/NaN, subnormals, amax at powers of two, short
** last blocks), contiguous and strided along the reduction axis.
*/
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ld_blockfmt.h"
#include "ld_numeric.h"

static uint8_t *load(const char *name, size_t *n) {
    char path[512];
    snprintf(path, sizeof path, "fixtures/numeric/%s", name);
    uint8_t *buf;
    assert_int_equal(ld_file_read(path, &buf, n), LD_OK);
    return buf;
}

static uint32_t rd_u32(const uint8_t *p) { uint32_t v; memcpy(&v, p, 4); return v; }
static float rd_f32(const uint8_t *p) { float v; memcpy(&v, p, 4); return v; }

/* same value, bit for bit (any NaN matches any NaN) */
static bool same(float a, float b) { return (isnan(a) && isnan(b)) || ld_f32_bits(a) == ld_f32_bits(b); }

static void test_e2m1_every_half(void **st) {
    (void)st;
    size_t n;
    uint8_t *buf = load("e2m1_f16.bin", &n);
    uint32_t ns = rd_u32(buf);
    assert_true(ns > 0 && n == 4 + 4 * (size_t)ns + 65536 * (size_t)ns);
    int64_t bad = 0;
    for (uint32_t k = 0; k < ns; k++) {
        float s = rd_f32(buf + 4 + 4 * k);
        const uint8_t *want = buf + 4 + 4 * ns + 65536 * (size_t)k;
        for (uint32_t h = 0; h < 65536; h++) {
            float v = ld_f16_to_f32((uint16_t)h) / s;
            uint8_t got = ld_f32_to_f4e2m1(v);
            if (got != want[h] && bad++ < 5)
                print_error("half 0x%04x / %g = %g: code 0x%x, numpy 0x%x\n", h, s, v, got, want[h]);
            /* the rounded value is the code's value */
            if (!isnan(v) && !same(ld_round_e2m1(v), ld_f4e2m1_to_f32(want[h])) && bad++ < 5)
                print_error("half 0x%04x: ld_round_e2m1 disagrees with the code\n", h);
        }
    }
    assert_int_equal(bad, 0);
    free(buf);
}

typedef struct bcase {
    uint32_t kind, len, block;
    float g;
    const uint8_t *in, *out, *scale;
} bcase;

/* Iterate the cases of blockfmt.bin: *off advances; false at the end. */
static bool next_case(const uint8_t *buf, size_t n, size_t *off, bcase *c) {
    if (*off + 16 > n) return false;
    const uint8_t *p = buf + *off;
    c->kind = rd_u32(p); c->len = rd_u32(p + 4); c->block = rd_u32(p + 8); c->g = rd_f32(p + 12);
    uint32_t nb = (c->len + c->block - 1) / c->block;
    c->in = p + 16; c->out = c->in + 4 * c->len; c->scale = c->out + 4 * c->len;
    *off += 16 + 8 * (size_t)c->len + 4 * (size_t)nb;
    assert_true(*off <= n);
    assert_true(c->kind > LD_BLOCK_NONE && c->kind < LD_BLOCK_KIND_COUNT && c->block > 0);
    return true;
}

static void test_blocks_contiguous(void **st) {
    (void)st;
    size_t n, off = 0;
    uint8_t *buf = load("blockfmt.bin", &n);
    bcase c;
    int ncases = 0, kinds = 0;
    int64_t bad = 0;
    while (next_case(buf, n, &off, &c)) {
        uint32_t nb = (c.len + c.block - 1) / c.block;
        float *x = malloc(4 * c.len), *x0 = malloc(4 * c.len), *sc = malloc(4 * nb);
        assert_non_null(x); assert_non_null(x0); assert_non_null(sc);
        memcpy(x, c.in, 4 * c.len);
        memcpy(x0, c.in, 4 * c.len);
        if (c.kind == LD_BLOCK_NVFP4 && !same(ld_nvfp4_global_scale(x, c.len), c.g) && bad++ < 5)
            print_error("case %d: nvfp4 global scale %g, numpy %g\n", ncases, ld_nvfp4_global_scale(x, c.len), c.g);
        int64_t clipped = 0;
        assert_int_equal(ld_block_quant_tensor((ld_block_kind)c.kind, x, 1, c.len, 1, c.block, sc, &clipped), LD_OK);
        for (uint32_t b = 0; b < nb; b++)
            if (!same(sc[b], rd_f32(c.scale + 4 * b)) && bad++ < 5)
                print_error("case %d kind %u block %u: scale %a, numpy %a\n", ncases, c.kind, b, sc[b], rd_f32(c.scale + 4 * b));
        int64_t want_clip = 0;
        for (uint32_t i = 0; i < c.len; i++) {
            float want = rd_f32(c.out + 4 * i);
            if (!same(x[i], want) && bad++ < 5)
                print_error("case %d kind %u len %u block %u elem %u: in %a got %a numpy %a\n", ncases, c.kind, c.len,
                            c.block, i, x0[i], x[i], want);
            /* clipping: beyond the rounding range of the largest element value */
            float s = sc[i / c.block], v = x0[i] / s;
            if (isfinite(s) && s > 0) {
                float a = fabsf(v);
                if (c.kind == LD_BLOCK_MXFP8 ? a > 464.0f : c.kind == LD_BLOCK_INT4 ? rintf(v) > 7 || rintf(v) < -8 : a >= 7.0f)
                    want_clip++;
            }
        }
        assert_int_equal(clipped, want_clip);
        kinds |= 1 << c.kind;
        ncases++;
        free(x); free(x0); free(sc);
    }
    assert_int_equal(off, n);
    assert_int_equal(kinds, 0x1e);      /* all four formats */
    assert_true(ncases > 100);
    assert_int_equal(bad, 0);
    free(buf);
}

/* The same cases laid out as (outer 2, K, inner 3): every (outer, inner) line is blocked
 * along K exactly as the contiguous run (NVFP4's tensor scale is unchanged by repetition). */
static void test_blocks_strided(void **st) {
    (void)st;
    size_t n, off = 0;
    uint8_t *buf = load("blockfmt.bin", &n);
    bcase c;
    int64_t bad = 0;
    const int O = 2, I = 3;
    while (next_case(buf, n, &off, &c)) {
        float *x = malloc(4 * (size_t)c.len * O * I);
        assert_non_null(x);
        for (int o = 0; o < O; o++)
            for (uint32_t k = 0; k < c.len; k++)
                for (int i = 0; i < I; i++) x[((size_t)o * c.len + k) * I + i] = rd_f32(c.in + 4 * k);
        assert_int_equal(ld_block_quant_tensor((ld_block_kind)c.kind, x, O, c.len, I, c.block, NULL, NULL), LD_OK);
        for (int o = 0; o < O; o++)
            for (uint32_t k = 0; k < c.len; k++)
                for (int i = 0; i < I; i++)
                    if (!same(x[((size_t)o * c.len + k) * I + i], rd_f32(c.out + 4 * k)) && bad++ < 5)
                        print_error("strided kind %u len %u: (%d, %u, %d) differs\n", c.kind, c.len, o, k, i);
        free(x);
    }
    assert_int_equal(bad, 0);
    free(buf);
}

/* The format table rows of the block targets agree with their block kinds. */
static void test_block_rows(void **st) {
    (void)st;
    int nblock = 0;
    for (int t = 0; t < LD_TARGET_COUNT; t++) {
        const ld_format *f = ld_target_format((ld_target)t);
        if (!f->block) { assert_false(f->block_size_flag || f->weights_only); continue; }
        nblock++;
        assert_true(f->quantized && f->block_size > 0 && !f->mixed_model);
        ld_policy p = {.target = (ld_target)t, .block_size = 64};
        assert_int_equal(ld_policy_block_size(&p), f->block_size_flag ? 64 : f->block_size);
        p.block_size = 0;
        assert_int_equal(ld_policy_block_size(&p), f->block_size);
        /* the element format's range is the rounding function's */
        float big[2] = {1e30f, -1e30f};
        f->round(big, 2);
        if (!f->integer) { assert_true(big[0] == (float)f->max && big[1] == -(float)f->max); }
    }
    assert_int_equal(nblock, 4);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_e2m1_every_half),
        cmocka_unit_test(test_blocks_contiguous),
        cmocka_unit_test(test_blocks_strided),
        cmocka_unit_test(test_block_rows),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
