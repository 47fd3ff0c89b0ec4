/*
** test_blockfmt.c — the block-scaled formats bit-exactly against numpy tables written from the
** specs (tools/gen_blockfmt_fixtures.py): FP4 E2M1 rounding of every float16 value at several
** block scales, and the per-block scale choice and values of W4A16, NVFP4, MXFP8 and MXFP4
** on random and edge-case blocks (zeros, Inf/NaN, subnormals, amax at powers of two, short
** last blocks), contiguous and strided along the reduction axis; a GEMM-like node blocks each
** input along its own reduction axis (MatMul, Gemm with transA/transB, grouped Conv).
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
#include "ld_compare.h"
#include "ld_numeric.h"
#include "model_builder.h"

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

/* ---- nodes: which axis gets blocked ---- */

static float *rnd(int64_t n, unsigned seed) {
    float *v = malloc(sizeof(float) * n);
    for (int64_t i = 0; i < n; i++) {
        seed = seed * 1103515245u + 12345u;
        v[i] = ((float)((seed >> 8) & 0xffff) / 32768.0f - 1.0f) * (1 + (float)(i % 7));
    }
    return v;
}

/* One node y = op(x, w) with constant w; ld_block_run_node on target t must equal the plain
 * kernel on inputs block-quantized by hand with the given (outer, K, inner) views (view
 * outer 0: the input is not quantized). Bit for bit: the same kernel runs on the same values. */
typedef struct node_case {
    const char *op;
    int xnd, wnd;
    int64_t xd[4], wd[4];
    const char *attr[2];
    int64_t attr_val[2];
    int64_t xv[3], wv[3];
} node_case;

static void check_node(const node_case *nc, ld_target t, int block_size, bool expect_xq) {
    int64_t nx = 1, nw = 1;
    for (int i = 0; i < nc->xnd; i++) nx *= nc->xd[i];
    for (int i = 0; i < nc->wnd; i++) nw *= nc->wd[i];
    float *x = rnd(nx, 7), *w = rnd(nw, 11);
    mb b;
    mb_init(&b, 17);
    mb_input(&b, "x", nc->xnd, nc->xd);
    int64_t yd[1] = {-1};
    mb_output(&b, "y", 1, yd);
    mb_init_f32(&b, "w", nc->wnd, nc->wd, w);
    Onnx__NodeProto *np = mb_node(&b, nc->op, "n", 2, (const char *[]){"x", "w"}, 1, (const char *[]){"y"});
    for (int a = 0; a < 2 && nc->attr[a]; a++) mb_attr_int(&b, np, nc->attr[a], nc->attr_val[a]);
    uint8_t *buf;
    size_t len = mb_pack(&b, &buf);
    ld_model *m = NULL;
    if (ld_model_load_buffer(buf, len, "axis.onnx", &m) != LD_OK) fail_msg("load: %s", ld_err_msg());
    free(buf);
    const ld_node *n = &m->graph->nodes[0];
    ld_tensor *xt = ld_tensor_new(LD_F32, nc->xnd, nc->xd);
    memcpy(xt->data, x, sizeof(float) * nx);
    ld_tensor *wt = m->graph->values[n->in[1]].const_val;
    ld_exec ex;
    assert_int_equal(ld_exec_init(&ex, m->graph, NULL), LD_OK);
    ld_policy p = {.target = t, .fallback = LD_TARGET_FP32, .block_size = block_size};
    ld_tensor y = {0}, yr = {0}, xq = {0}, wq = {0}, *out[1] = {&y}, *outr[1] = {&yr};
    ld_tensor *in[2] = {xt, wt};
    ld_sat sat = {0};
    assert_int_equal(ld_block_run_node(&p, &ex, n, in, out, &sat), LD_OK);
    /* by hand */
    ld_block_kind k = ld_target_format(t)->block;
    int64_t bs = ld_policy_block_size(&p);
    assert_int_equal(ld_tensor_copy(&xq, xt), LD_OK);
    assert_int_equal(ld_tensor_copy(&wq, wt), LD_OK);
    if (expect_xq) ld_block_quant_tensor(k, xq.data, nc->xv[0], nc->xv[1], nc->xv[2], bs, NULL, NULL);
    ld_block_quant_tensor(k, wq.data, nc->wv[0], nc->wv[1], nc->wv[2], bs, NULL, NULL);
    ld_tensor *inr[2] = {&xq, &wq};
    assert_int_equal(ld_node_run(&ex, n, inr, outr), LD_OK);
    assert_int_equal(y.numel, yr.numel);
    for (int64_t i = 0; i < y.numel; i++)
        if (!same(LD_F32P(&y)[i], LD_F32P(&yr)[i]))
            fail_msg("%s on %s: element %lld is %g, blocked by hand %g", nc->op, ld_target_format(t)->name,
                     (long long)i, LD_F32P(&y)[i], LD_F32P(&yr)[i]);
    /* activations are counted as quantized inputs unless weights-only */
    assert_int_equal(sat.total, expect_xq ? nx : 0);
    ld_tensor_clear(&y); ld_tensor_clear(&yr); ld_tensor_clear(&xq); ld_tensor_clear(&wq);
    ld_tensor_free(xt);
    ld_exec_destroy(&ex);
    ld_model_free(m);
    mb_free(&b);
    free(x); free(w);
}

static void test_node_axes(void **st) {
    (void)st;
    const node_case cases[] = {
        /* MatMul (2, 40) x (40, 3): K last of x, first of w (columns strided) */
        {"MatMul", 2, 2, {2, 40}, {40, 3}, {NULL}, {0}, {2, 40, 1}, {1, 40, 3}},
        /* batched MatMul (2, 3, 40) x (40, 5) */
        {"MatMul", 3, 2, {2, 3, 40}, {40, 5}, {NULL}, {0}, {6, 40, 1}, {1, 40, 5}},
        /* Gemm transB: w (4, 40) rows along K */
        {"Gemm", 2, 2, {3, 40}, {4, 40}, {"transB"}, {1}, {3, 40, 1}, {4, 40, 1}},
        /* Gemm transA: x (40, 3) columns along K */
        {"Gemm", 2, 2, {40, 3}, {40, 4}, {"transA"}, {1}, {1, 40, 3}, {1, 40, 4}},
        /* grouped Conv: x (2, 36, 3, 3) group 2 blocks along each group's 18 channels;
         * w (4, 18, 1, 1) along its C/g run */
        {"Conv", 4, 4, {2, 36, 3, 3}, {4, 18, 1, 1}, {"group"}, {2}, {4, 18, 9}, {4, 18, 1}},
        /* Conv 3x3 kernel: w (5, 4, 3, 3) blocks along C at each of the 9 kernel positions, as
         * the activation blocks do (the same K indices on both operands) */
        {"Conv", 4, 4, {1, 4, 5, 5}, {5, 4, 3, 3}, {NULL}, {0}, {1, 4, 25}, {5, 4, 9}},
        /* wide 3x3 Conv: C = 40 spans two blocks of 32 and a short one of 16 (w4a16) */
        {"Conv", 4, 4, {1, 40, 4, 4}, {3, 40, 3, 3}, {NULL}, {0}, {1, 40, 16}, {3, 40, 9}},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        check_node(&cases[i], LD_TARGET_MXFP4, 0, true);
        check_node(&cases[i], LD_TARGET_NVFP4, 0, true);
        check_node(&cases[i], LD_TARGET_MXFP8, 0, true);
        check_node(&cases[i], LD_TARGET_W4A16, 16, false);   /* weights only; 40 = 16 + 16 + 8 */
    }
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_e2m1_every_half),
        cmocka_unit_test(test_blocks_contiguous),
        cmocka_unit_test(test_blocks_strided),
        cmocka_unit_test(test_block_rows),
        cmocka_unit_test(test_node_axes),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
