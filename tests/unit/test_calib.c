/*
** test_calib.c — calibration: the methods on known histograms (long tail, uniform, hand-
** computed percentile, two-point MSE, entropy thresholds checked against NVIDIA
** pytorch-quantization's _compute_amax_entropy), the TensorRT cache format (round trip with
** bit-exact scales, headers, malformed lines, overwrite refusal), and ld_calibrate on a tiny
** built model (which tensors, minmax = the true max over the samples, pins, errors).
*/
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ld_calib.h"
#pragma GCC diagnostic ignored "-Wunused-function"
#include "model_builder.h"

#define NB LD_CALIB_BINS

/* ---- methods ---- */

static void test_method_names(void **st) {
    const char *names[] = {"entropy", "minmax", "percentile", "mse"};
    for (int i = 0; i < 4; i++) {
        ld_calib_method m;
        assert_int_equal(ld_calib_method_parse(names[i], &m), LD_OK);
        assert_string_equal(ld_calib_method_name(m), names[i]);
    }
    ld_calib_method m;
    assert_int_equal(ld_calib_method_parse("MinMax", &m), LD_OK);
    assert_int_equal(m, LD_CALIB_MINMAX);
    assert_int_equal(ld_calib_method_parse("kl", &m), LD_ERR_USAGE);
    assert_non_null(strstr(ld_err_msg(), "unknown calibration method 'kl'"));
}

/* Bulk (400 - j)^2 in bins 0..399, one outlier in the last bin. */
static uint64_t *long_tail(void) {
    uint64_t *h = calloc(NB, sizeof *h);
    for (int j = 0; j < 400; j++) h[j] = (uint64_t)(400 - j) * (400 - j);
    h[NB - 1] = 1;
    return h;
}

static void test_long_tail(void **st) {
    uint64_t *h = long_tail();
    double w = 0.25;
    /* minmax would take the outlier: the top of the range */
    double e = ld_calib_entropy(h, NB, w);
    /* pytorch-quantization's _compute_amax_entropy on this histogram: calib_bin_edges[396] */
    assert_true(e == 396 * w);
    /* percentile 99.99: total 21413401; bins 382..399 and the outlier hold 2110, so the
     * crossing is in bin 381 (361 counts) after 21410930 */
    double p = ld_calib_percentile(h, NB, w, 99.99);
    double want = (381 + (0.9999 * 21413401.0 - 21410930.0) / 361.0) * w;
    assert_true(fabs(p - want) < 1e-9);
    assert_true(fabs(ld_calib_percentile(h, NB, w, 100) - NB * w) < 1e-12);   /* the outlier */
    /* mse trades clipping one outlier against rounding 21 million values: near the bulk */
    double m = ld_calib_mse(h, NB, w, 127);
    assert_true(m >= 128 * w && m < 0.3 * NB * w);
    free(h);
}

static void test_relu_like_entropy(void **st) {
    /* a spike of exact zeros (bin 0 is replaced by bin 1, as pytorch-quantization), a linear
     * decay over bins 1..999 and five outliers */
    uint64_t *h = calloc(NB, sizeof *h);
    h[0] = 1000000;
    for (int j = 1; j < 1000; j++) h[j] = 1000 - j;
    h[1500] = 2;
    h[NB - 1] = 3;
    assert_true(ld_calib_entropy(h, NB, 1.0) == 999.0);   /* reference: calib_bin_edges[999] */
    free(h);
}

static void test_uniform(void **st) {
    uint64_t *h = calloc(NB, sizeof *h);
    for (int j = 0; j < NB; j++) h[j] = 100;
    double w = 1.0 / NB;
    /* Q equals P only when nothing is clipped: entropy keeps the whole range */
    assert_true(ld_calib_entropy(h, NB, w) == 1.0);
    assert_true(fabs(ld_calib_percentile(h, NB, w, 99.99) - 0.9999) < 1e-12);
    assert_true(fabs(ld_calib_percentile(h, NB, w, 50) - 0.5) < 1e-12);
    assert_true(ld_calib_mse(h, NB, w, 127) > 0.99);
    /* degenerate inputs */
    assert_true(ld_calib_entropy(h, 100, 1.0) == 100.0);   /* fewer bins than levels */
    uint64_t zero[NB] = {0};
    assert_true(ld_calib_entropy(zero, NB, 1.0) == NB);
    assert_true(ld_calib_percentile(zero, NB, 1.0, 99) == NB);
    assert_true(ld_calib_mse(zero, NB, 1.0, 127) == NB);
    free(h);
}

static void test_percentile_by_hand(void **st) {
    const uint64_t h[6] = {10, 20, 30, 40, 0, 0};
    /* 50%: 50 of 100 counts; bins 0-1 hold 30, so 20 of bin 2's 30 -> 2 + 2/3 bins */
    assert_true(fabs(ld_calib_percentile(h, 6, 0.5, 50) - (2 + 2.0 / 3) * 0.5) < 1e-12);
    assert_true(fabs(ld_calib_percentile(h, 6, 0.5, 10) - 0.5) < 1e-12);    /* end of bin 0 */
    assert_true(fabs(ld_calib_percentile(h, 6, 0.5, 100) - 2.0) < 1e-12);   /* end of bin 3 */
    assert_true(fabs(ld_calib_percentile(h, 6, 0.5, 0) - 0.0) < 1e-12);
    assert_true(fabs(ld_calib_percentile(h, 6, 0.5, 65) - (3 + 5.0 / 40) * 0.5) < 1e-12);
}

static void test_mse_two_points(void **st) {
    /* qmax 1 (grid {0, t}), 32 bins of width 1 (candidates t = 2..32): ten values at 5.5,
     * one at 20.5. t < 11 rounds 5.5 to t, else to 0; t <= 20 clips 20.5 to t.
     * E(t) = 10 (5.5 - t)^2 + (20.5 - t)^2 for t < 11: t = 7 gives 22.5 + 182.25 = 204.75,
     * t = 6: 2.5 + 210.25, t = 8: 62.5 + 156.25; t >= 11: >= 302.5. */
    uint64_t h[32] = {0};
    h[5] = 10;
    h[20] = 1;
    assert_true(ld_calib_mse(h, 32, 1.0, 1) == 7.0);
    /* 8-bit: a thousand values near 0 and ten at the max keep (nearly) all the range:
     * clipping the ten costs far more than rounding with a coarser step */
    uint64_t *g = calloc(NB, sizeof *g);
    g[0] = 1000;
    g[NB - 1] = 10;
    double m = ld_calib_mse(g, NB, 1.0, 127);
    assert_true(m >= NB - 1 && m <= NB);
    free(g);
}

/* ---- cache ---- */

static char tmpdir[64];

static void path_in_tmp(char *buf, size_t n, const char *name) {
    snprintf(buf, n, "%s/%s", tmpdir, name);
}

static void write_text(const char *path, const char *text) {
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
}

static char *read_text(const char *path) {
    uint8_t *buf;
    size_t len;
    assert_int_equal(ld_file_read(path, &buf, &len), LD_OK);
    return (char *)buf;
}

static uint32_t fbits(float f) { uint32_t u; memcpy(&u, &f, 4); return u; }

static void test_cache_round_trip(void **st) {
    char p1[128], p2[128];
    path_in_tmp(p1, sizeof p1, "rt1.cache");
    path_in_tmp(p2, sizeof p2, "rt2.cache");
    ld_calib c = {0};
    assert_int_equal(ld_calib_set(&c, "input", 2.5f), LD_OK);
    assert_int_equal(ld_calib_set(&c, "/layer1/Conv_output_0", 0.123456789f), LD_OK);
    assert_int_equal(ld_calib_set(&c, "odd: name:with colons", 1e-3f), LD_OK);
    assert_int_equal(ld_calib_set(&c, "(Unnamed Layer* 3) [Convolution]_output", 17.0f), LD_OK);
    assert_int_equal(ld_calib_set(&c, "zero", 0.0f), LD_OK);
    assert_int_equal(ld_calib_cache_write(p1, &c, false), LD_OK);
    char *t1 = read_text(p1);
    assert_true(!strncmp(t1, "TRT-8601-EntropyCalibration2\ninput: ", 36));
    char line[64];
    snprintf(line, sizeof line, "\ninput: %08x\n", (unsigned)fbits(2.5f / 127.0f));
    assert_non_null(strstr(t1, line));
    assert_non_null(strstr(t1, "\nzero: 00000000\n"));

    ld_calib r = {0};
    char *hdr = NULL;
    assert_int_equal(ld_calib_cache_read_ex(p1, &r, &hdr), LD_OK);
    assert_string_equal(hdr, "TRT-8601-EntropyCalibration2");
    free(hdr);
    assert_int_equal(r.n, c.n);
    for (int i = 0; i < c.n; i++) {
        assert_string_equal(r.names[i], c.names[i]);
        /* the scale is bit-exact (amax itself may be another float with the same scale) */
        assert_int_equal(fbits(ld_calib_amax_to_scale(r.amax[i])), fbits(ld_calib_amax_to_scale(c.amax[i])));
    }
    assert_int_equal(ld_calib_cache_write(p2, &r, false), LD_OK);
    char *t2 = read_text(p2);
    assert_string_equal(t1, t2);
    free(t1);
    free(t2);
    ld_calib_clear(&c);
    ld_calib_clear(&r);
    unlink(p1);
    unlink(p2);
}

static void test_scale_bits_survive(void **st) {
    /* every scale some float amax produces comes back bit for bit */
    uint32_t x = 12345;
    for (int i = 0; i < 200000; i++) {
        x = x * 1664525u + 1013904223u;
        uint32_t bits = 0x30000000u + (x >> 4);   /* amax in about [5e-10, 3e4] */
        float a;
        memcpy(&a, &bits, 4);
        float s = ld_calib_amax_to_scale(a);
        float b = ld_calib_scale_to_amax(s);
        assert_int_equal(fbits(ld_calib_amax_to_scale(b)), fbits(s));
    }
    /* a TensorRT scale */
    uint32_t trt = 0x3c010a14;
    float s;
    memcpy(&s, &trt, 4);
    assert_int_equal(fbits(ld_calib_amax_to_scale(ld_calib_scale_to_amax(s))), trt);
    assert_true(fabs(ld_calib_scale_to_amax(s) - s * 127.0) < 1e-6);
}

static void test_cache_headers(void **st) {
    char p[128];
    path_in_tmp(p, sizeof p, "hdr.cache");
    ld_calib r = {0};
    char *hdr;
    /* any header; CRLF; blank lines; hex in upper case and short */
    write_text(p, "TRT-7000-EntropyCalibration2\r\nin: 3C010A14\r\n\r\nx:y: 0\r\n");
    assert_int_equal(ld_calib_cache_read_ex(p, &r, &hdr), LD_OK);
    assert_string_equal(hdr, "TRT-7000-EntropyCalibration2");
    free(hdr);
    assert_int_equal(r.n, 2);
    assert_int_equal(fbits(ld_calib_amax_to_scale(ld_calib_get(&r, "in"))), 0x3c010a14);
    assert_true(ld_calib_get(&r, "x:y") == 0.0f);
    ld_calib_clear(&r);
    /* headerless: the first line is an entry */
    write_text(p, "a: 3f800000\nb: 40000000\n");
    assert_int_equal(ld_calib_cache_read_ex(p, &r, &hdr), LD_OK);
    assert_null(hdr);
    assert_int_equal(r.n, 2);
    assert_true(ld_calib_get(&r, "a") == 127.0f);
    assert_true(ld_calib_get(&r, "b") == 254.0f);
    ld_calib_clear(&r);
    /* a header that is no TensorRT's; a header-only file has no entries */
    write_text(p, "my own calibration table\n");
    assert_int_equal(ld_calib_cache_read_ex(p, &r, &hdr), LD_OK);
    assert_string_equal(hdr, "my own calibration table");
    free(hdr);
    assert_int_equal(r.n, 0);
    /* the header names the method */
    unlink(p);
    assert_int_equal(ld_calib_set(&r, "t", 1.0f), LD_OK);
    assert_int_equal(ld_calib_cache_write_method(p, &r, LD_CALIB_MINMAX, false), LD_OK);
    char *t = read_text(p);
    assert_true(!strncmp(t, "TRT-8601-MinMaxCalibration\n", 27));
    free(t);
    assert_string_equal(ld_calib_cache_header(LD_CALIB_PERCENTILE), "TRT-8601-PercentileCalibration");
    assert_string_equal(ld_calib_cache_header(LD_CALIB_MSE), "TRT-8601-MSECalibration");
    /* reading adds to the table, overwriting names already there */
    write_text(p, "TRT-8601-EntropyCalibration2\nt: 40000000\nu: 3f800000\n");
    assert_int_equal(ld_calib_cache_read(p, &r), LD_OK);
    assert_int_equal(r.n, 2);
    assert_true(ld_calib_get(&r, "t") == 254.0f);
    ld_calib_clear(&r);
    unlink(p);
}

static void test_cache_malformed(void **st) {
    char p[128];
    path_in_tmp(p, sizeof p, "bad.cache");
    const struct { const char *text, *msg; } bad[] = {
        {"TRT-8601-EntropyCalibration2\na: 3c010a14\nb 3c010a14\n", ":3: malformed calibration cache line 'b 3c010a14'"},
        {"TRT-8601-EntropyCalibration2\na: 3c01zz14\n", ":2: malformed"},
        {"TRT-8601-EntropyCalibration2\na: 123456789\n", "more than 8 hex digits"},
        {"TRT-8601-EntropyCalibration2\n: 3c010a14\n", "empty tensor name"},
        {"TRT-8601-EntropyCalibration2\na:\n", "expected 'name: hexscale'"},
        {"TRT-8601-EntropyCalibration2\na: bf800000\n", "not a finite non-negative float"},
        {"TRT-8601-EntropyCalibration2\na: 7fc00000\n", "not a finite non-negative float"},
        {"TRT-8601-EntropyCalibration2\n\n\nx: 3f800000\ny:3f800000\n", ":5:"},
        {"", "empty calibration cache"},
    };
    for (size_t i = 0; i < LD_ARRAY_LEN(bad); i++) {
        write_text(p, bad[i].text);
        ld_calib r = {0};
        assert_int_equal(ld_calib_set(&r, "keep", 3.0f), LD_OK);
        assert_int_equal(ld_calib_cache_read(p, &r), LD_ERR_DATA);
        if (!strstr(ld_err_msg(), bad[i].msg)) fail_msg("case %zu: '%s'", i, ld_err_msg());
        assert_int_equal(r.n, 1);   /* untouched */
        ld_calib_clear(&r);
    }
    unlink(p);
    ld_calib r = {0};
    assert_int_equal(ld_calib_cache_read(p, &r), LD_ERR_NOINPUT);
}

static void test_cache_overwrite(void **st) {
    char p[128];
    path_in_tmp(p, sizeof p, "ow.cache");
    ld_calib c = {0};
    assert_int_equal(ld_calib_set(&c, "t", 1.0f), LD_OK);
    write_text(p, "precious\n");
    assert_int_equal(ld_calib_cache_write(p, &c, false), LD_ERR_CANTCREAT);
    assert_non_null(strstr(ld_err_msg(), "already exists"));
    char *t = read_text(p);
    assert_string_equal(t, "precious\n");
    free(t);
    assert_int_equal(ld_calib_cache_write(p, &c, true), LD_OK);
    t = read_text(p);
    assert_string_equal(t, "TRT-8601-EntropyCalibration2\nt: 3c010204\n");   /* 1/127 */
    free(t);
    /* what cannot be written is refused before the file is touched */
    ld_calib_set(&c, "bad\nname", 1.0f);
    assert_int_equal(ld_calib_cache_write(p, &c, true), LD_ERR_DATA);
    ld_calib_clear(&c);
    ld_calib_set(&c, "neg", -1.0f);
    assert_int_equal(ld_calib_cache_write(p, &c, true), LD_ERR_DATA);
    ld_calib_clear(&c);
    unlink(p);
    char dir_path[160];
    snprintf(dir_path, sizeof dir_path, "%s/no/such/dir/x.cache", tmpdir);
    ld_calib_set(&c, "t", 1.0f);
    assert_int_equal(ld_calib_cache_write(dir_path, &c, false), LD_ERR_CANTCREAT);
    ld_calib_clear(&c);
}

/* ---- ld_calibrate ---- */

/* x[2,4] -> MatMul(W) -> h -> Relu -> r -> MatMul(r, b[3,2]) -> y; W constant, b an input */
static const float Wv[12] = {1, 0, -1, 0.5f, 1, 0, 0, -2, 1, 1, 1, 1};

static ld_model *tiny_model(mb *b) {
    static const int64_t dx[2] = {2, 4}, dw[2] = {4, 3}, db[2] = {3, 2}, dy[2] = {2, 2};
    mb_init(b, 17);
    mb_input(b, "x", 2, dx);
    mb_input(b, "b", 2, db);
    mb_output(b, "y", 2, dy);
    mb_init_f32(b, "W", 2, dw, Wv);
    mb_node(b, "MatMul", "mm1", 2, (const char *[]){"x", "W"}, 1, (const char *[]){"h"});
    mb_node(b, "Relu", "relu", 1, (const char *[]){"h"}, 1, (const char *[]){"r"});
    mb_node(b, "MatMul", "mm2", 2, (const char *[]){"r", "b"}, 1, (const char *[]){"y"});
    uint8_t *buf;
    size_t n = mb_pack(b, &buf);
    ld_model *m = NULL;
    assert_int_equal(ld_model_load_buffer(buf, n, "tiny.onnx", &m), LD_OK);
    free(buf);
    return m;
}

#define NS 3

/* Samples of halves and small integers, so every product and sum is exact. */
static void make_samples(ld_feed *s, float *max_x, float *max_r, float *max_b) {
    static const int64_t dx[2] = {2, 4}, db[2] = {3, 2};
    *max_x = *max_r = *max_b = 0;
    for (int k = 0; k < NS; k++) {
        memset(&s[k], 0, sizeof s[k]);
        ld_tensor *x = ld_tensor_new(LD_F32, 2, dx), *bt = ld_tensor_new(LD_F32, 2, db);
        float *xv = x->data, *bv = bt->data;
        for (int i = 0; i < 8; i++) xv[i] = (float)(((i * 7 + k * 5) % 13) - 6) * 0.5f * (k + 1);
        for (int i = 0; i < 6; i++) bv[i] = (float)(((i * 5 + k * 3) % 11) - 5) * 0.25f;
        xv[3] = k == 1 ? -9.5f : xv[3];   /* the max |x| comes from a negative value */
        for (int i = 0; i < 8; i++) *max_x = fmaxf(*max_x, fabsf(xv[i]));
        for (int i = 0; i < 6; i++) *max_b = fmaxf(*max_b, fabsf(bv[i]));
        for (int r = 0; r < 2; r++)
            for (int c = 0; c < 3; c++) {
                float acc = 0;
                for (int kk = 0; kk < 4; kk++) acc += xv[r * 4 + kk] * Wv[kk * 3 + c];
                *max_r = fmaxf(*max_r, fmaxf(acc, 0));
            }
        assert_int_equal(ld_feed_add(&s[k], "x", x), LD_OK);
        assert_int_equal(ld_feed_add(&s[k], "b", bt), LD_OK);
    }
}

static void test_calibrate_model(void **st) {
    mb b;
    ld_model *m = tiny_model(&b);
    ld_feed s[NS];
    float mx, mr, mbv;
    make_samples(s, &mx, &mr, &mbv);
    assert_true(mx == 9.5f && mr > 0 && mbv > 0);
    ld_policy p = {.target = LD_TARGET_INT8, .fallback = LD_TARGET_FP16};

    ld_calib c = {0};
    assert_int_equal(ld_calibrate(m, &p, s, NS, LD_CALIB_MINMAX, 0, &c), LD_OK);
    /* the activations of the two MatMuls, in order of use; not W (constant), h (Relu's) or y */
    assert_int_equal(c.n, 3);
    assert_string_equal(c.names[0], "x");
    assert_string_equal(c.names[1], "r");
    assert_string_equal(c.names[2], "b");
    assert_true(ld_calib_get(&c, "x") == mx);
    assert_true(ld_calib_get(&c, "r") == mr);
    assert_true(ld_calib_get(&c, "b") == mbv);
    ld_calib_clear(&c);

    /* histogram methods stay within [0, max]; percentile 100 is the max itself */
    for (int meth = LD_CALIB_ENTROPY; meth <= LD_CALIB_MSE; meth++) {
        assert_int_equal(ld_calibrate(m, &p, s, NS, (ld_calib_method)meth, 100, &c), LD_OK);
        assert_int_equal(c.n, 3);
        assert_true(ld_calib_get(&c, "x") > 0 && ld_calib_get(&c, "x") <= mx);
        assert_true(ld_calib_get(&c, "r") > 0 && ld_calib_get(&c, "r") <= mr);
        if (meth == LD_CALIB_PERCENTILE) {
            assert_true(ld_calib_get(&c, "x") == mx);
            assert_true(ld_calib_get(&c, "r") == mr);
        }
        ld_calib_clear(&c);
    }

    /* a pinned node's inputs are not calibrated; FP8 quantizes too; FP16 does not */
    bool pinned[3] = {false, false, false};
    for (int i = 0; i < m->graph->nnodes; i++)
        if (!strcmp(m->graph->nodes[i].name, "mm2")) pinned[i] = true;
    p.pinned = pinned;
    p.target = LD_TARGET_FP8E4M3;
    assert_int_equal(ld_calibrate(m, &p, s, NS, LD_CALIB_MINMAX, 0, &c), LD_OK);
    assert_int_equal(c.n, 1);
    assert_string_equal(c.names[0], "x");
    ld_calib_clear(&c);
    p.pinned = NULL;
    p.target = LD_TARGET_FP16;
    assert_int_equal(ld_calibrate(m, &p, s, NS, LD_CALIB_ENTROPY, 0, &c), LD_OK);
    assert_int_equal(c.n, 0);
    p.target = LD_TARGET_INT8;

    /* errors: no samples, bad percentile, a sample missing an input (no stale binding) */
    assert_int_equal(ld_calibrate(m, &p, s, 0, LD_CALIB_MINMAX, 0, &c), LD_ERR_USAGE);
    assert_int_equal(ld_calibrate(m, &p, s, NS, LD_CALIB_PERCENTILE, 101, &c), LD_ERR_USAGE);
    ld_feed partial = {0};
    static const int64_t dx[2] = {2, 4};
    ld_feed_add(&partial, "x", ld_tensor_new(LD_F32, 2, dx));
    ld_feed two[2] = {s[0], partial};
    assert_int_equal(ld_calib_set(&c, "keep", 1.0f), LD_OK);
    assert_int_equal(ld_calibrate(m, &p, two, 2, LD_CALIB_MINMAX, 0, &c), LD_ERR_DATA);
    assert_non_null(strstr(ld_err_msg(), "sample 1"));
    assert_non_null(strstr(ld_err_msg(), "missing input 'b'"));
    assert_int_equal(c.n, 1);   /* untouched */
    ld_calib_clear(&c);

    ld_feed_clear(&partial);
    for (int k = 0; k < NS; k++) ld_feed_clear(&s[k]);
    ld_model_free(m);
    mb_free(&b);
}

static int setup(void **st) {
    snprintf(tmpdir, sizeof tmpdir, "/tmp/ld_test_calib_XXXXXX");
    return mkdtemp(tmpdir) ? 0 : -1;
}

static int teardown(void **st) {
    return rmdir(tmpdir);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_method_names),
        cmocka_unit_test(test_long_tail),
        cmocka_unit_test(test_relu_like_entropy),
        cmocka_unit_test(test_uniform),
        cmocka_unit_test(test_percentile_by_hand),
        cmocka_unit_test(test_mse_two_points),
        cmocka_unit_test(test_cache_round_trip),
        cmocka_unit_test(test_scale_bits_survive),
        cmocka_unit_test(test_cache_headers),
        cmocka_unit_test(test_cache_malformed),
        cmocka_unit_test(test_cache_overwrite),
        cmocka_unit_test(test_calibrate_model),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
