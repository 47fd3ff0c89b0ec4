/*
** test_data.c — the dataset loader (ld_data.h): PNG/JPEG decoding to exact (PNG) or nearly
** exact (JPEG) pixel values, channel conversion, resize/crop/normalisation on hand-computed
** cases, batching (symbolic and fixed batch, --max-samples), IDX (.gz and plain, the bundled
** Fashion-MNIST sample), .npy folders, .npz, Polygraphy JSON, labels in every format, class
** names, and clean errors for truncated/corrupt files, NaN data and mismatched shapes.
** Fixtures: fixtures/data (tools/gen_data_fixtures.py) and fixtures/fmnist; run from the
** repository root.
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

#include "ld_data.h"
#include "ld_inputs.h"
#include "data_internal.h"
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wunused-function"   /* builder helpers this file does not need */
#include "model_builder.h"
#pragma GCC diagnostic pop

#define FX "fixtures/data/"

/* ---- helpers ---- */

/* A model with one input "x" (dtype, dims; -1 = symbolic) and y = Identity(x). */
static ld_model *model_make(int dtype, int ndim, const int64_t *dims) {
    mb b;
    mb_init(&b, 17);
    MB_PUSH(&b, b.graph.input, b.graph.n_input, mb_vi(&b, "x", dtype, ndim, dims));
    MB_PUSH(&b, b.graph.output, b.graph.n_output, mb_vi(&b, "y", dtype, ndim, dims));
    mb_node(&b, "Identity", "id", 1, (const char *[]){"x"}, 1, (const char *[]){"y"});
    uint8_t *buf;
    size_t n = mb_pack(&b, &buf);
    ld_model *m = NULL;
    ld_status st = ld_model_load_buffer(buf, n, "test.onnx", &m);
    if (st != LD_OK) fprintf(stderr, "%s\n", ld_err_msg());
    assert_int_equal(st, LD_OK);
    free(buf);
    mb_free(&b);
    return m;
}

static ld_model *model_nchw(int64_t n, int64_t c, int64_t h, int64_t w) {
    return model_make(1, 4, (int64_t[]){n, c, h, w});
}

typedef struct loaded {
    ld_feed *feeds;
    int nfeeds;
    char **names;
    int64_t n;
} loaded;

static ld_status load(ld_model *m, const ld_data_opts *o, loaded *l) {
    memset(l, 0, sizeof *l);
    return ld_data_load(m->graph, o, &l->feeds, &l->nfeeds, &l->names, &l->n);
}

static void loaded_free(loaded *l) { ld_data_free(l->feeds, l->nfeeds, l->names, l->n); }

/* Load path into m with default options except batch; must succeed. */
static void load_ok(ld_model *m, const char *path, int64_t batch, loaded *l) {
    ld_data_opts o;
    ld_data_opts_init(&o);
    o.path = path;
    o.batch = batch;
    ld_status st = load(m, &o, l);
    if (st != LD_OK) fprintf(stderr, "%s\n", ld_err_msg());
    assert_int_equal(st, LD_OK);
}

/* Expect a failure with status st and a message containing want. */
static void expect_err(ld_status got, ld_status st, const char *want) {
    if (got != st || (want && !strstr(ld_err_msg(), want)))
        fprintf(stderr, "got %d '%s', wanted %d with '%s'\n", got, ld_err_msg(), st, want ? want : "");
    assert_int_equal(got, st);
    if (want) assert_non_null(strstr(ld_err_msg(), want));
}

static void expect_load_err(ld_model *m, const ld_data_opts *o, ld_status st, const char *want) {
    loaded l;
    expect_err(load(m, o, &l), st, want);
    assert_null(l.feeds);
}

static const ld_tensor *batch_of(const loaded *l, int i) {
    assert_true(i < l->nfeeds);
    assert_int_equal(l->feeds[i].n, 1);
    assert_string_equal(l->feeds[i].items[0].name, "x");
    return l->feeds[i].items[0].t;
}

static void assert_dims(const ld_tensor *t, int ndim, const int64_t *dims) {
    assert_int_equal(t->ndim, ndim);
    for (int i = 0; i < ndim; i++) assert_int_equal(t->dims[i], dims[i]);
}

static void assert_near(double got, double want, double tol) {
    if (fabs(got - want) > tol) fprintf(stderr, "got %.9g, want %.9g (tol %g)\n", got, want, tol);
    assert_true(fabs(got - want) <= tol);
}

/* The generator's tables (tools/gen_data_fixtures.py). */
static const uint8_t gray4[16] = {0, 10, 20, 30, 40, 50, 60, 70, 80, 90, 100, 110, 120, 130, 140, 255};

static void rgb4(int i, uint8_t *px) {
    px[0] = (uint8_t)(10 * i);
    px[1] = (uint8_t)(255 - 10 * i);
    px[2] = (uint8_t)(60 * (i % 4) + 7 * (i / 4));
}

static void pal4(int i, uint8_t *px) {     /* D_PAL.PNG: rows of palette indices in reverse order */
    int k = (3 - i / 4) * 4 + i % 4;
    px[0] = (uint8_t)(17 * k);
    px[1] = (uint8_t)(255 - 17 * k);
    px[2] = (uint8_t)((53 * k) % 256);
}

static float luma(const uint8_t *px) { return 0.299f * px[0] + 0.587f * px[1] + 0.114f * px[2]; }

static const float *sample_at(const ld_tensor *t, int64_t k) { return LD_F32P(t) + (t->numel / t->dims[0]) * k; }

/* ---- PNG ---- */

static void test_png_gray_exact(void **st) {
    ld_model *m = model_nchw(-1, 1, 4, 4);
    loaded l;
    load_ok(m, FX "png", 8, &l);
    assert_int_equal(l.n, 5);
    assert_int_equal(l.nfeeds, 1);
    const char *order[5] = {"D_PAL.PNG", "a_gray.png", "b_rgb.png", "c_rgba.png", "e_gray16.png"};
    for (int i = 0; i < 5; i++) assert_string_equal(l.names[i], order[i]);
    const ld_tensor *t = batch_of(&l, 0);
    assert_int_equal(t->dtype, LD_F32);
    assert_dims(t, 4, (int64_t[]){5, 1, 4, 4});
    uint8_t px[3];
    for (int i = 0; i < 16; i++) {
        pal4(i, px);
        assert_near(sample_at(t, 0)[i], luma(px) / 255.0f, 1e-6);
        assert_true(sample_at(t, 1)[i] == gray4[i] / 255.0f);          /* exact */
        rgb4(i, px);
        assert_near(sample_at(t, 2)[i], luma(px) / 255.0f, 1e-6);
        assert_true(sample_at(t, 3)[i] == sample_at(t, 2)[i]);         /* alpha dropped */
        assert_true(sample_at(t, 4)[i] == (17 * i) / 255.0f);          /* 16-bit scaled */
    }
    loaded_free(&l);
    ld_model_free(m);
}

static void test_png_rgb_exact(void **st) {
    ld_model *m = model_nchw(-1, 3, 4, 4);
    loaded l;
    load_ok(m, FX "png", 8, &l);
    const ld_tensor *t = batch_of(&l, 0);
    assert_dims(t, 4, (int64_t[]){5, 3, 4, 4});
    uint8_t px[3];
    for (int c = 0; c < 3; c++)
        for (int i = 0; i < 16; i++) {
            pal4(i, px);
            assert_true(sample_at(t, 0)[c * 16 + i] == px[c] / 255.0f);
            assert_true(sample_at(t, 1)[c * 16 + i] == gray4[i] / 255.0f);   /* gray replicated */
            rgb4(i, px);
            assert_true(sample_at(t, 2)[c * 16 + i] == px[c] / 255.0f);
            assert_true(sample_at(t, 3)[c * 16 + i] == px[c] / 255.0f);
        }
    loaded_free(&l);
    ld_model_free(m);
}

/* ---- JPEG ---- */

static void test_jpeg_decode(void **st) {
    static const uint8_t gq[4] = {30, 100, 200, 250};
    static const uint8_t cq[4][3] = {{200, 40, 90}, {10, 220, 30}, {128, 128, 128}, {250, 250, 5}};
    ld_model *m = model_nchw(-1, 3, 16, 16);
    loaded l;
    load_ok(m, FX "jpeg", 2, &l);
    assert_string_equal(l.names[0], "g_gray.jpg");
    assert_string_equal(l.names[1], "h_rgb.jpeg");
    const ld_tensor *t = batch_of(&l, 0);
    assert_dims(t, 4, (int64_t[]){2, 3, 16, 16});
    for (int y = 0; y < 16; y++)
        for (int x = 0; x < 16; x++) {
            int q = (y >= 8) * 2 + (x >= 8);
            for (int c = 0; c < 3; c++) {
                assert_near(sample_at(t, 0)[c * 256 + y * 16 + x], gq[q] / 255.0, 1.01 / 255);
                assert_near(sample_at(t, 1)[c * 256 + y * 16 + x], cq[q][c] / 255.0, 3.01 / 255);
            }
        }
    loaded_free(&l);
    ld_model_free(m);
    m = model_nchw(-1, 1, 16, 16);                       /* RGB JPEG to luma */
    load_ok(m, FX "jpeg", 2, &l);
    t = batch_of(&l, 0);
    for (int q = 0; q < 4; q++) {
        int y = (q / 2) * 8 + 3, x = (q % 2) * 8 + 4;
        assert_near(sample_at(t, 1)[y * 16 + x], luma(cq[q]) / 255.0, 3.01 / 255);
    }
    loaded_free(&l);
    ld_model_free(m);
    /* content decides the decoder, not the extension */
    m = model_nchw(1, 1, 16, 16);
    load_ok(m, FX "misc/really_jpeg.png", 1, &l);
    assert_int_equal(l.n, 1);
    assert_string_equal(l.names[0], "really_jpeg.png");
    assert_near(LD_F32P(batch_of(&l, 0))[255], 250 / 255.0, 1.01 / 255);
    loaded_free(&l);
    ld_model_free(m);
}

/* ---- preprocessing ---- */

static ld_status load_gray(ld_model *m, ld_data_opts *o, loaded *l) {
    o->path = FX "png/a_gray.png";
    return load(m, o, l);
}

static void test_resize(void **st) {
    /* 4x4 -> 2x2 with half-pixel centres: each output is the mean of a 2x2 block */
    const float down[4] = {25, 45, 105, 151.25f};
    ld_model *m = model_nchw(-1, 1, 2, 2);           /* default: resize to the model's H,W */
    ld_data_opts o;
    ld_data_opts_init(&o);
    loaded l;
    assert_int_equal(load_gray(m, &o, &l), LD_OK);
    for (int i = 0; i < 4; i++) assert_near(LD_F32P(batch_of(&l, 0))[i], down[i] / 255.0, 1e-6);
    loaded_free(&l);
    ld_model_free(m);
    m = model_nchw(-1, 1, -1, -1);                   /* explicit --resize, symbolic H,W */
    o.resize_h = o.resize_w = 2;
    assert_int_equal(load_gray(m, &o, &l), LD_OK);
    assert_dims(batch_of(&l, 0), 4, (int64_t[]){1, 1, 2, 2});
    for (int i = 0; i < 4; i++) assert_near(LD_F32P(batch_of(&l, 0))[i], down[i] / 255.0, 1e-6);
    loaded_free(&l);
    /* 4x4 -> 8x8: source x = (x + 0.5) / 2 - 0.5, clamped at the borders */
    o.resize_h = o.resize_w = 8;
    assert_int_equal(load_gray(m, &o, &l), LD_OK);
    const float *v = LD_F32P(batch_of(&l, 0));
    assert_near(v[0], 0, 1e-7);
    assert_near(v[1], 2.5 / 255, 1e-6);              /* 0.75*0 + 0.25*10 */
    assert_near(v[7], 30 / 255.0, 1e-6);             /* clamped to the last column */
    assert_near(v[8 + 1], 12.5 / 255, 1e-6);          /* rows 0/1 at 0.25: 2.5 + 0.25*(42.5-2.5) */
    assert_near(v[63], 255 / 255.0, 1e-6);
    loaded_free(&l);
    /* non-square: 4x4 -> 2x4 keeps the columns, averages row pairs */
    o.resize_h = 2;
    o.resize_w = 4;
    assert_int_equal(load_gray(m, &o, &l), LD_OK);
    v = LD_F32P(batch_of(&l, 0));
    assert_dims(batch_of(&l, 0), 4, (int64_t[]){1, 1, 2, 4});
    assert_near(v[1], 30 / 255.0, 1e-6);
    assert_near(v[7], 182.5 / 255, 1e-6);
    loaded_free(&l);
    ld_model_free(m);
}

static void test_center_crop(void **st) {
    ld_model *m = model_nchw(-1, 1, -1, -1);
    ld_data_opts o;
    ld_data_opts_init(&o);
    loaded l;
    o.crop_h = o.crop_w = 2;                         /* offset 1: rows/cols 1..2 */
    assert_int_equal(load_gray(m, &o, &l), LD_OK);
    const float c2[4] = {50, 60, 90, 100};
    for (int i = 0; i < 4; i++) assert_true(LD_F32P(batch_of(&l, 0))[i] == c2[i] / 255.0f);
    loaded_free(&l);
    o.crop_h = o.crop_w = 3;                         /* offset round(0.5) = 0 (ties to even) */
    assert_int_equal(load_gray(m, &o, &l), LD_OK);
    assert_true(LD_F32P(batch_of(&l, 0))[0] == 0.0f);
    assert_true(LD_F32P(batch_of(&l, 0))[8] == 100 / 255.0f);
    loaded_free(&l);
    o.crop_h = o.crop_w = 1;                         /* offset round(1.5) = 2 */
    assert_int_equal(load_gray(m, &o, &l), LD_OK);
    assert_true(LD_F32P(batch_of(&l, 0))[0] == 100 / 255.0f);
    loaded_free(&l);
    o.crop_h = 1;                                    /* 1x4: offset 2, whole row */
    o.crop_w = 4;
    assert_int_equal(load_gray(m, &o, &l), LD_OK);
    assert_true(LD_F32P(batch_of(&l, 0))[3] == 110 / 255.0f);
    loaded_free(&l);
    o.resize_h = o.resize_w = 8;                     /* resize first, then crop 4x4 at offset 2 */
    o.crop_h = o.crop_w = 4;
    assert_int_equal(load_gray(m, &o, &l), LD_OK);
    assert_near(LD_F32P(batch_of(&l, 0))[0], 37.5 / 255, 1e-6);   /* source (0.75, 0.75) */
    loaded_free(&l);
    o.resize_h = o.resize_w = 0;
    o.crop_h = o.crop_w = 5;
    expect_err(load_gray(m, &o, &l), LD_ERR_DATA, "a_gray.png: image is 4x4, smaller than the --center-crop 5x5");
    ld_model_free(m);
    m = model_nchw(-1, 1, 2, 2);                     /* crop leaves the wrong size for the model */
    o.crop_h = o.crop_w = 3;
    expect_err(load_gray(m, &o, &l), LD_ERR_DATA, "after preprocessing");
    ld_model_free(m);
}

static void test_normalise(void **st) {
    ld_model *m = model_nchw(-1, 3, 4, 4);
    ld_data_opts o;
    ld_data_opts_init(&o);
    o.path = FX "png/b_rgb.png";
    o.mean[0] = 0.5f;
    o.nmean = 1;                                     /* one value for every channel */
    o.std[0] = 0.25f;
    o.std[1] = 0.5f;
    o.std[2] = 2.0f;
    o.nstd = 3;
    loaded l;
    assert_int_equal(load(m, &o, &l), LD_OK);
    uint8_t px[3];
    for (int c = 0; c < 3; c++)
        for (int i = 0; i < 16; i++) {
            rgb4(i, px);
            assert_near(LD_F32P(batch_of(&l, 0))[c * 16 + i], (px[c] / 255.0 - 0.5) / o.std[c], 1e-6);
        }
    loaded_free(&l);
    ld_data_opts_init(&o);
    o.path = FX "png/b_rgb.png";
    o.imagenet_norm = true;
    assert_int_equal(load(m, &o, &l), LD_OK);
    const double mean[3] = {0.485, 0.456, 0.406}, sd[3] = {0.229, 0.224, 0.225};
    for (int c = 0; c < 3; c++) {
        rgb4(5, px);
        assert_near(LD_F32P(batch_of(&l, 0))[c * 16 + 5], (px[c] / 255.0 - mean[c]) / sd[c], 1e-5);
    }
    loaded_free(&l);
    o.nmean = 1;                                     /* both kinds at once */
    expect_load_err(m, &o, LD_ERR_USAGE, "--imagenet-norm");
    ld_data_opts_init(&o);
    o.path = FX "png/b_rgb.png";
    o.nmean = 2;
    expect_load_err(m, &o, LD_ERR_USAGE, "--mean takes 1 or 3 values");
    o.nmean = 0;
    o.nstd = 1;                                      /* std[0] = 0 */
    expect_load_err(m, &o, LD_ERR_USAGE, "--std");
    o.nstd = 0;
    o.resize_h = 3;                                  /* half a size */
    expect_load_err(m, &o, LD_ERR_USAGE, "--resize");
    ld_model_free(m);
    m = model_nchw(-1, 1, 4, 4);
    ld_data_opts_init(&o);
    o.path = FX "png/b_rgb.png";
    o.imagenet_norm = true;
    expect_load_err(m, &o, LD_ERR_USAGE, "3-channel");
    ld_model_free(m);
}

/* ---- batching ---- */

static void test_batching(void **st) {
    ld_model *m = model_nchw(-1, 1, 4, 4);
    loaded l;
    load_ok(m, FX "png", 2, &l);                     /* symbolic batch: 2 + 2 + 1 */
    assert_int_equal(l.n, 5);
    assert_int_equal(l.nfeeds, 3);
    assert_dims(batch_of(&l, 0), 4, (int64_t[]){2, 1, 4, 4});
    assert_dims(batch_of(&l, 2), 4, (int64_t[]){1, 1, 4, 4});
    assert_true(LD_F32P(batch_of(&l, 0))[16 + 15] == 1.0f);      /* a_gray's last pixel, 255 */
    assert_true(LD_F32P(batch_of(&l, 2))[1] == 17 / 255.0f);     /* e_gray16 */
    loaded_free(&l);
    ld_data_opts o;
    ld_data_opts_init(&o);
    o.path = FX "png";
    o.batch = 2;
    o.max_samples = 3;
    assert_int_equal(load(m, &o, &l), LD_OK);
    assert_int_equal(l.n, 3);
    assert_int_equal(l.nfeeds, 2);
    assert_string_equal(l.names[2], "b_rgb.png");
    assert_dims(batch_of(&l, 1), 4, (int64_t[]){1, 1, 4, 4});
    loaded_free(&l);
    assert_int_equal(ld_data_load(m->graph, &o, &l.feeds, &l.nfeeds, NULL, &l.n), LD_OK);   /* names optional */
    ld_data_free(l.feeds, l.nfeeds, NULL, 0);
    o.batch = 0;
    expect_load_err(m, &o, LD_ERR_USAGE, "--batch");
    ld_model_free(m);

    m = model_nchw(2, 1, 4, 4);                      /* fixed batch 2: 5 samples -> 2 batches */
    load_ok(m, FX "png", 1, &l);
    assert_int_equal(l.n, 4);
    assert_int_equal(l.nfeeds, 2);
    assert_dims(batch_of(&l, 1), 4, (int64_t[]){2, 1, 4, 4});
    assert_string_equal(l.names[3], "c_rgba.png");
    loaded_free(&l);
    ld_data_opts_init(&o);
    o.path = FX "png";
    o.batch = 3;
    expect_load_err(m, &o, LD_ERR_USAGE, "fixed to 2");
    ld_model_free(m);
    m = model_nchw(8, 1, 4, 4);
    o.batch = 1;
    expect_load_err(m, &o, LD_ERR_DATA, "only 5 samples");
    ld_model_free(m);
}

static void test_mixed_sizes(void **st) {
    char dir[] = "/tmp/ld_test_data_XXXXXX", cwd[4096], a[4200], b[4200], la[4300], lb[4300];
    assert_non_null(mkdtemp(dir));
    assert_non_null(getcwd(cwd, sizeof cwd));
    snprintf(a, sizeof a, "%s/" FX "png/a_gray.png", cwd);
    snprintf(b, sizeof b, "%s/" FX "jpeg/g_gray.jpg", cwd);
    snprintf(la, sizeof la, "%s/1.png", dir);
    snprintf(lb, sizeof lb, "%s/2.jpg", dir);
    assert_int_equal(symlink(a, la), 0);
    assert_int_equal(symlink(b, lb), 0);
    ld_model *m = model_nchw(-1, 1, -1, -1);
    ld_data_opts o;
    ld_data_opts_init(&o);
    o.path = dir;
    o.batch = 2;
    expect_load_err(m, &o, LD_ERR_DATA, "use --resize");
    loaded l;
    o.batch = 1;                                     /* one per batch: any sizes */
    assert_int_equal(load(m, &o, &l), LD_OK);
    assert_dims(batch_of(&l, 0), 4, (int64_t[]){1, 1, 4, 4});
    assert_dims(batch_of(&l, 1), 4, (int64_t[]){1, 1, 16, 16});
    loaded_free(&l);
    o.batch = 2;
    o.resize_h = o.resize_w = 6;
    assert_int_equal(load(m, &o, &l), LD_OK);
    assert_dims(batch_of(&l, 0), 4, (int64_t[]){2, 1, 6, 6});
    loaded_free(&l);
    ld_model_free(m);
    unlink(la);
    unlink(lb);
    rmdir(dir);
}

/* ---- IDX ---- */

static void check_tiny_idx(const ld_tensor *t) {
    for (int k = 0; k < 5; k++)
        for (int i = 0; i < 12; i++) assert_true(sample_at(t, k)[i] == (50 * k + 4 * (i / 4) + i % 4) / 255.0f);
}

static void test_idx_images(void **st) {
    ld_model *m = model_nchw(-1, 1, 3, 4);
    loaded l;
    load_ok(m, FX "idx/tiny-images-idx3-ubyte.gz", 5, &l);
    assert_int_equal(l.n, 5);
    assert_string_equal(l.names[4], "");
    assert_dims(batch_of(&l, 0), 4, (int64_t[]){5, 1, 3, 4});
    check_tiny_idx(batch_of(&l, 0));
    loaded_free(&l);
    load_ok(m, FX "idx/tiny-images-idx3-ubyte", 5, &l);   /* not compressed */
    check_tiny_idx(batch_of(&l, 0));
    loaded_free(&l);
    ld_model_free(m);
    m = model_make(1, 2, (int64_t[]){-1, 12});             /* flattened (N, H*W) */
    load_ok(m, FX "idx/tiny-images-idx3-ubyte.gz", 4, &l);
    assert_int_equal(l.nfeeds, 2);
    assert_dims(batch_of(&l, 0), 2, (int64_t[]){4, 12});
    assert_true(LD_F32P(batch_of(&l, 1))[11] == (200 + 11) / 255.0f);
    loaded_free(&l);
    ld_model_free(m);
    m = model_make(1, 3, (int64_t[]){-1, 3, 4});           /* (N, H, W) */
    load_ok(m, FX "idx/tiny-images-idx3-ubyte.gz", 5, &l);
    assert_dims(batch_of(&l, 0), 3, (int64_t[]){5, 3, 4});
    check_tiny_idx(batch_of(&l, 0));
    loaded_free(&l);
    ld_model_free(m);
    m = model_make(1, 2, (int64_t[]){-1, 13});
    ld_data_opts o;
    ld_data_opts_init(&o);
    o.path = FX "idx/tiny-images-idx3-ubyte.gz";
    expect_load_err(m, &o, LD_ERR_DATA, "does not match input 'x' declared (N,13)");
    ld_model_free(m);
    m = model_nchw(-1, 1, 3, 4);
    o.path = FX "idx/short-images-idx3-ubyte.gz";
    expect_load_err(m, &o, LD_ERR_DATA, "truncated");
    o.path = FX "idx/cut-images-idx3-ubyte.gz";
    expect_load_err(m, &o, LD_ERR_DATA, "cut-images-idx3-ubyte.gz");
    o.path = FX "idx/tiny-labels-idx1-ubyte.gz";
    expect_load_err(m, &o, LD_ERR_DATA, "0x00000803");
    ld_model_free(m);
}

static void test_fmnist(void **st) {
    ld_model *m;
    assert_int_equal(ld_model_load("fixtures/models/fmnist_resnet.onnx", &m), LD_OK);
    ld_data_opts o;
    ld_data_opts_init(&o);
    o.path = "fixtures/fmnist/t10k-images-idx3-ubyte.gz";
    o.batch = 32;
    o.max_samples = 100;
    loaded l;
    assert_int_equal(load(m, &o, &l), LD_OK);
    assert_int_equal(l.n, 100);
    assert_int_equal(l.nfeeds, 4);
    assert_string_equal(l.feeds[0].items[0].name, "image");
    assert_dims(l.feeds[0].items[0].t, 4, (int64_t[]){32, 1, 28, 28});
    assert_dims(l.feeds[3].items[0].t, 4, (int64_t[]){4, 1, 28, 28});
    {   /* the same pixels as the file's bytes / 255 */
        uint8_t *raw;
        size_t len;
        FILE *p = popen("gzip -dc fixtures/fmnist/t10k-images-idx3-ubyte.gz", "r");
        assert_non_null(p);
        raw = malloc(16 + 512 * 784);
        len = fread(raw, 1, 16 + 512 * 784, p);
        pclose(p);
        assert_int_equal(len, 16 + 512 * 784);
        for (int i = 0; i < 32 * 784; i++) assert_true(LD_F32P(l.feeds[0].items[0].t)[i] == raw[16 + i] / 255.0f);
        free(raw);
    }
    loaded_free(&l);
    int64_t *labels, nl;
    assert_int_equal(ld_labels_load("fixtures/fmnist/t10k-labels-idx1-ubyte.gz", NULL, 100, &labels, &nl), LD_OK);
    assert_int_equal(nl, 100);
    const int64_t first[12] = {9, 2, 1, 1, 6, 1, 4, 6, 5, 7, 4, 5};
    for (int i = 0; i < 12; i++) assert_int_equal(labels[i], first[i]);
    free(labels);
    /* the Debian package's full test set, when installed */
    const char *full = "/usr/share/datasets/fashion-mnist/t10k-images-idx3-ubyte.gz";
    if (access(full, R_OK) == 0) {
        o.path = full;
        o.max_samples = 0;
        o.batch = 1000;
        assert_int_equal(load(m, &o, &l), LD_OK);
        assert_int_equal(l.n, 10000);
        assert_int_equal(l.nfeeds, 10);
        loaded_free(&l);
        assert_int_equal(ld_labels_load("/usr/share/datasets/fashion-mnist/t10k-labels-idx1-ubyte.gz", NULL, 10000,
                                        &labels, &nl), LD_OK);
        assert_int_equal(nl, 10000);
        assert_int_equal(labels[0], 9);
        free(labels);
    }
    ld_model_free(m);
}

/* ---- arrays ---- */

static float sample_val(int k, int i) { return i * 0.25f + k; }

static void test_npy_dir(void **st) {
    ld_model *m = model_nchw(-1, 1, 4, 4);
    loaded l;
    load_ok(m, FX "npy", 3, &l);
    assert_int_equal(l.n, 4);
    const char *names[4] = {"s0.npy", "s1.npy[0]", "s1.npy[1]", "s2.npy"};
    for (int i = 0; i < 4; i++) assert_string_equal(l.names[i], names[i]);
    assert_int_equal(l.nfeeds, 2);
    const ld_tensor *t = batch_of(&l, 0);
    assert_int_equal(t->dtype, LD_F32);
    assert_dims(t, 4, (int64_t[]){3, 1, 4, 4});
    for (int k = 0; k < 3; k++)
        for (int i = 0; i < 16; i++) assert_true(sample_at(t, k)[i] == sample_val(k, i));
    assert_true(LD_F32P(batch_of(&l, 1))[7] == sample_val(3, 7));   /* float64 file, converted */
    loaded_free(&l);
    load_ok(m, FX "npy/s1.npy", 1, &l);                             /* one file */
    assert_int_equal(l.n, 2);
    assert_int_equal(l.nfeeds, 2);
    loaded_free(&l);
    ld_data_opts o;
    ld_data_opts_init(&o);
    o.path = FX "npy";
    o.resize_h = o.resize_w = 2;
    expect_load_err(m, &o, LD_ERR_USAGE, "image and IDX data only");
    o.resize_h = o.resize_w = 0;
    o.path = FX "npy_nan";
    expect_load_err(m, &o, LD_ERR_DATA, "x.npy: holds NaN at element 9");
    o.path = FX "npy_shape";
    expect_load_err(m, &o, LD_ERR_DATA, "x.npy: sample shape (1,5,4) does not match input 'x' declared (N,1,4,4)");
    ld_model_free(m);
    m = model_make(1, 2, (int64_t[]){4, 4});        /* rank 2: a (1,4,4) array fits neither way */
    o.path = FX "npy/s0.npy";
    expect_load_err(m, &o, LD_ERR_DATA, "neither as one sample");
    ld_model_free(m);
    m = model_make(6, 4, (int64_t[]){-1, 1, 4, 4});  /* int32 input: float data refused */
    expect_load_err(m, &o, LD_ERR_DATA, "float32 data for input 'x', which is int32");
    ld_model_free(m);
    m = model_make(10, 4, (int64_t[]){-1, 1, 4, 4}); /* float16 input: converted */
    load_ok(m, FX "npy/s0.npy", 1, &l);
    assert_int_equal(batch_of(&l, 0)->dtype, LD_F16);
    loaded_free(&l);
    ld_model_free(m);
}

static void test_npz(void **st) {
    ld_model *m = model_nchw(-1, 1, 4, 4);
    loaded l;
    load_ok(m, FX "arrays.npz", 4, &l);
    assert_int_equal(l.n, 4);
    assert_int_equal(l.nfeeds, 1);
    const char *names[4] = {"first", "second[0]", "second[1]", "second[2]"};
    for (int i = 0; i < 4; i++) assert_string_equal(l.names[i], names[i]);
    for (int k = 0; k < 4; k++) assert_true(sample_at(batch_of(&l, 0), k)[5] == sample_val(4 + k, 5));
    loaded_free(&l);
    ld_data_opts o;
    ld_data_opts_init(&o);
    o.path = FX "arrays.npz";
    o.max_samples = 2;
    assert_int_equal(load(m, &o, &l), LD_OK);
    assert_int_equal(l.n, 2);
    assert_int_equal(l.nfeeds, 2);
    loaded_free(&l);
    ld_model_free(m);
}

static void test_polygraphy_json(void **st) {
    ld_model *m;
    assert_int_equal(ld_model_load("fixtures/models/fmnist_resnet.onnx", &m), LD_OK);
    loaded l;
    load_ok(m, "fixtures/polygraphy/pg_fmnist_resnet_inputs.json", 1, &l);
    assert_int_equal(l.nfeeds, 1);
    assert_int_equal(l.n, 2);                        /* one feed of batch 2 */
    assert_dims(l.feeds[0].items[0].t, 4, (int64_t[]){2, 1, 28, 28});
    loaded_free(&l);
    ld_model_free(m);

    /* two inputs, written with our own writer */
    mb b;
    mb_init(&b, 17);
    mb_input(&b, "a", 2, (int64_t[]){-1, 3});
    mb_input(&b, "b", 2, (int64_t[]){-1, 3});
    mb_output(&b, "y", 2, (int64_t[]){-1, 3});
    mb_node(&b, "Add", "add", 2, (const char *[]){"a", "b"}, 1, (const char *[]){"y"});
    uint8_t *buf;
    size_t n = mb_pack(&b, &buf);
    assert_int_equal(ld_model_load_buffer(buf, n, "two.onnx", &m), LD_OK);
    free(buf);
    mb_free(&b);
    ld_feed feeds[2] = {{0}};
    for (int k = 0; k < 2; k++) {
        ld_feed_add(&feeds[k], "a", ld_tensor_new(LD_F32, 2, (int64_t[]){1, 3}));
        ld_feed_add(&feeds[k], "b", ld_tensor_new(LD_F32, 2, (int64_t[]){1, 3}));
    }
    char path[] = "/tmp/ld_test_pg_XXXXXX.json";
    int fd = mkstemps(path, 5);
    assert_true(fd >= 0);
    close(fd);
    assert_int_equal(ld_pg_write_inputs(path, feeds, 2, true), LD_OK);
    load_ok(m, path, 1, &l);
    assert_int_equal(l.nfeeds, 2);
    assert_int_equal(l.n, 2);
    assert_int_equal(l.feeds[1].n, 2);
    loaded_free(&l);
    LD_F32P(feeds[1].items[1].t)[2] = INFINITY;      /* non-finite data is refused */
    assert_int_equal(ld_pg_write_inputs(path, feeds, 2, true), LD_OK);
    ld_data_opts o;
    ld_data_opts_init(&o);
    o.path = path;
    expect_load_err(m, &o, LD_ERR_DATA, "feed 1, input 'b': holds Inf at element 2");
    ld_tensor_free(feeds[1].items[1].t);             /* a feed without "b" */
    feeds[1].n = 1;
    free(feeds[1].items[1].name);
    assert_int_equal(ld_pg_write_inputs(path, feeds, 2, true), LD_OK);
    expect_load_err(m, &o, LD_ERR_DATA, "feed 1 lacks input 'b'");
    o.path = FX "png";                               /* images need a single input */
    expect_load_err(m, &o, LD_ERR_USAGE, "exactly one runtime input, but this one has 2 ('a', 'b')");
    unlink(path);
    ld_feed_clear(&feeds[0]);
    ld_feed_clear(&feeds[1]);
    ld_model_free(m);
}

/* ---- errors ---- */

static void test_corrupt_images(void **st) {
    const char *bad[] = {"truncated.png", "badcrc.png", "truncated.jpg", "header_only.jpg", "notimage.png", "empty.jpg"};
    ld_model *m = model_nchw(-1, 1, 4, 4);
    ld_data_opts o;
    ld_data_opts_init(&o);
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        char path[256];
        snprintf(path, sizeof path, FX "bad/%s", bad[i]);
        o.path = path;
        expect_load_err(m, &o, LD_ERR_DATA, path);
    }
    o.path = FX "bad/truncated.jpg";
    expect_load_err(m, &o, LD_ERR_DATA, "Premature end of JPEG file");
    o.path = FX "bad";                               /* the folder stops at its first file */
    expect_load_err(m, &o, LD_ERR_DATA, "badcrc.png");
    o.path = "fixtures/data/no/such/folder";
    expect_load_err(m, &o, LD_ERR_NOINPUT, "no/such/folder");
    o.path = FX "labels/labels.txt";
    expect_load_err(m, &o, LD_ERR_USAGE, "--data takes");
    o.path = FX "idx";                               /* a folder without images or .npy files */
    expect_load_err(m, &o, LD_ERR_DATA, "no .png");
    ld_model_free(m);
    m = model_make(1, 2, (int64_t[]){-1, 16});       /* images are NCHW */
    o.path = FX "png";
    expect_load_err(m, &o, LD_ERR_DATA, "declared (N,16)");
    ld_model_free(m);
    m = model_make(2, 4, (int64_t[]){-1, 1, 4, 4});  /* uint8 input */
    expect_load_err(m, &o, LD_ERR_DATA, "which is uint8");
    ld_model_free(m);
    m = model_nchw(-1, 4, 4, 4);
    expect_load_err(m, &o, LD_ERR_UNSUPPORTED, "4 channels");
    ld_model_free(m);
}

/* Every prefix of a good PNG/JPEG is an error, never a crash; so are flipped bytes (either way). */
static void test_truncation_sweep(void **st) {
    const char *files[] = {FX "png/b_rgb.png", FX "png/D_PAL.PNG", FX "png/e_gray16.png", FX "jpeg/h_rgb.jpeg",
                           FX "jpeg/g_gray.jpg"};
    for (size_t f = 0; f < sizeof files / sizeof *files; f++) {
        uint8_t *buf;
        size_t len;
        assert_int_equal(ld_file_read(files[f], &buf, &len), LD_OK);
        data_image img;
        assert_int_equal(data_image_decode(buf, len, files[f], &img), LD_OK);
        data_image_free(&img);
        for (size_t cut = 0; cut < len; cut++) {
            ld_status s = data_image_decode(buf, cut, files[f], &img);
            if (s == LD_OK) fprintf(stderr, "%s cut at %zu of %zu decoded\n", files[f], cut, len);
            assert_int_equal(s, LD_ERR_DATA);
            assert_non_null(strstr(ld_err_msg(), files[f]));
        }
        uint32_t r = 12345;
        for (int k = 0; k < 300; k++) {
            uint8_t *c = malloc(len);
            memcpy(c, buf, len);
            for (int j = 0; j < 1 + k % 3; j++) {
                r = r * 1103515245u + 12345u;
                c[(r >> 8) % len] ^= (uint8_t)(1u << (r >> 28 & 7));
            }
            ld_status s = data_image_decode(c, len, files[f], &img);
            assert_true(s == LD_OK || s == LD_ERR_DATA);
            if (s == LD_OK) data_image_free(&img);
            free(c);
        }
        free(buf);
    }
}

/* ---- labels ---- */

static void labels_ok(const char *path, char *const *names, int64_t n, int64_t want_n, const int64_t *want) {
    int64_t *lab, nl;
    ld_status s = ld_labels_load(path, names, n, &lab, &nl);
    if (s != LD_OK) fprintf(stderr, "%s\n", ld_err_msg());
    assert_int_equal(s, LD_OK);
    assert_int_equal(nl, want_n);
    for (int64_t i = 0; i < want_n; i++) assert_int_equal(lab[i], want[i]);
    free(lab);
}

static void labels_err(const char *path, char *const *names, int64_t n, const char *want) {
    int64_t *lab = (int64_t *)1, nl = 7;
    expect_err(ld_labels_load(path, names, n, &lab, &nl), want && strstr(want, "No such") ? LD_ERR_NOINPUT : LD_ERR_DATA, want);
    assert_null(lab);
    assert_int_equal(nl, 0);
}

static void test_labels(void **st) {
    ld_model *m = model_nchw(-1, 1, 4, 4);
    loaded l;
    load_ok(m, FX "png", 1, &l);
    const int64_t csv[5] = {9, 0, 7, 2, 4};
    labels_ok(FX "labels/png.csv", l.names, l.n, 5, csv);          /* header, quotes, CRLF, dirs */
    labels_ok(FX "labels/png_noheader.csv", l.names, l.n, 5, csv);
    labels_err(FX "labels/png_missing.csv", l.names, l.n, "no label for sample 'c_rgba.png'");
    labels_err(FX "labels/png_conflict.csv", l.names, l.n, "'a_gray.png' has two labels (lines 1 and 6)");
    labels_err(FX "labels/png.csv", NULL, 5, "have no names");
    const int64_t file_order[6] = {2, 7, 0, 9, 4, 1};
    labels_ok(FX "labels/png.csv", NULL, 0, 6, file_order);
    loaded_free(&l);
    ld_model_free(m);

    const int64_t seq[5] = {3, 1, 4, 1, 5};
    labels_ok(FX "labels/labels.txt", NULL, 5, 5, seq);
    labels_ok(FX "labels/labels.txt", NULL, 3, 3, seq);           /* more labels than samples */
    labels_ok(FX "labels/labels.txt", NULL, 0, 5, seq);
    labels_err(FX "labels/labels.txt", NULL, 6, "holds 5 labels but the data has 6 samples");
    labels_err(FX "labels/labels_short.txt", NULL, 5, "holds 3 labels");
    labels_err(FX "labels/labels_blank.txt", NULL, 5, "labels_blank.txt:3: blank line");
    labels_err(FX "labels/labels_bad.txt", NULL, 5, "labels_bad.txt:3: 'four' is not an integer");
    labels_ok(FX "labels/labels.npy", NULL, 5, 5, seq);
    labels_err(FX "labels/labels_frac.npy", NULL, 5, "label 2 is 4.5");
    labels_ok(FX "idx/tiny-labels-idx1-ubyte.gz", NULL, 5, 5, seq);
    labels_ok(FX "idx/tiny-labels-idx1-ubyte", NULL, 4, 4, seq);
    labels_err(FX "idx/tiny-images-idx3-ubyte.gz", NULL, 5, "0x00000801");
    labels_err(FX "idx/cut-images-idx3-ubyte.gz", NULL, 5, "gzip");
    labels_err(FX "labels/nothing.txt", NULL, 5, "No such");
}

static void test_class_names(void **st) {
    char **names;
    int n;
    assert_int_equal(ld_class_names_load(FX "labels/classes.txt", &names, &n), LD_OK);
    assert_int_equal(n, 4);
    assert_string_equal(names[0], "T-shirt/top");
    assert_string_equal(names[1], "Trouser");
    assert_string_equal(names[3], "Ankle boot");
    ld_strings_free(names, n);
    assert_int_equal(ld_class_names_load(FX "labels/labels_blank.txt", &names, &n), LD_ERR_DATA);
    assert_int_equal(ld_class_names_load(FX "labels/missing.txt", &names, &n), LD_ERR_NOINPUT);
    assert_null(names);
    ld_strings_free(NULL, 3);
}

/* --batch N given explicitly cuts --input arrays along the batch dimension: rows in order,
 * the last piece smaller, a fixed batch of N keeps whole pieces only, and a dimension that
 * is not the batch one (fixed to something else) is left alone. */
static void test_input_split(void **st) {
    char path[] = "/tmp/ld_split_XXXXXX.npy";
    close(mkstemps(path, 4));
    ld_tensor *x = ld_tensor_new(LD_F32, 4, (int64_t[]){10, 1, 2, 2});
    for (int64_t i = 0; i < x->numel; i++) LD_F32P(x)[i] = (float)i;
    assert_int_equal(ld_npy_write(path, x, true), LD_OK);
    char spec[64];
    snprintf(spec, sizeof spec, "x=%s", path);
    const char *specs[1] = {spec};
    ld_input_opts o;
    ld_input_opts_init(&o);
    o.specs = specs;
    o.nspecs = 1;
    ld_feed *f;
    int n;
    ld_model *m = model_nchw(-1, 1, 2, 2);
    assert_int_equal(ld_inputs_prepare(m->graph, &o, &f, &n), LD_OK);      /* no --batch: one feed */
    assert_int_equal(n, 1);
    assert_int_equal(ld_feed_get(&f[0], "x")->dims[0], 10);
    ld_samples_free(f, n);
    o.batch = o.split = 4;
    assert_int_equal(ld_inputs_prepare(m->graph, &o, &f, &n), LD_OK);
    assert_int_equal(n, 3);
    int64_t want[3] = {4, 4, 2};
    for (int k = 0; k < 3; k++) {
        const ld_tensor *t = ld_feed_get(&f[k], "x");
        assert_dims(t, 4, (int64_t[]){want[k], 1, 2, 2});
        assert_true(LD_F32P(t)[0] == (float)(k * 4 * 4));                  /* rows in order */
        assert_true(LD_F32P(t)[t->numel - 1] == (float)((k * 4 + want[k]) * 4 - 1));
    }
    ld_samples_free(f, n);
    o.batch = o.split = 10;                                                    /* not more than N rows: whole */
    assert_int_equal(ld_inputs_prepare(m->graph, &o, &f, &n), LD_OK);
    assert_int_equal(n, 1);
    ld_samples_free(f, n);
    ld_model_free(m);
    m = model_nchw(4, 1, 2, 2);                                                /* fixed to N: whole pieces only */
    o.batch = o.split = 4;
    assert_int_equal(ld_inputs_prepare(m->graph, &o, &f, &n), LD_OK);
    assert_int_equal(n, 2);
    assert_dims(ld_feed_get(&f[1], "x"), 4, (int64_t[]){4, 1, 2, 2});
    ld_samples_free(f, n);
    ld_model_free(m);
    m = model_nchw(10, 1, 2, 2);                                               /* fixed to 10, not N: not cut */
    assert_int_equal(ld_inputs_prepare(m->graph, &o, &f, &n), LD_OK);
    assert_int_equal(n, 1);
    ld_samples_free(f, n);
    ld_model_free(m);

    /* two inputs y = x + z: z of 1 row is copied into each piece; z of 6 rows cannot follow x's 10 */
    mb b;
    mb_init(&b, 17);
    const int64_t d[4] = {-1, 1, 2, 2};
    MB_PUSH(&b, b.graph.input, b.graph.n_input, mb_vi(&b, "x", 1, 4, d));
    MB_PUSH(&b, b.graph.input, b.graph.n_input, mb_vi(&b, "z", 1, 4, d));
    MB_PUSH(&b, b.graph.output, b.graph.n_output, mb_vi(&b, "y", 1, 4, d));
    mb_node(&b, "Add", "add", 2, (const char *[]){"x", "z"}, 1, (const char *[]){"y"});
    uint8_t *buf;
    size_t len = mb_pack(&b, &buf);
    assert_int_equal(ld_model_load_buffer(buf, len, "two.onnx", &m), LD_OK);
    free(buf);
    mb_free(&b);
    char zpath[] = "/tmp/ld_split_z_XXXXXX.npy";
    close(mkstemps(zpath, 4));
    ld_tensor *z = ld_tensor_new(LD_F32, 4, (int64_t[]){1, 1, 2, 2});
    assert_int_equal(ld_npy_write(zpath, z, true), LD_OK);
    char zspec[64];
    snprintf(zspec, sizeof zspec, "z=%s", zpath);
    const char *two[2] = {spec, zspec};
    o.specs = two;
    o.nspecs = 2;
    assert_int_equal(ld_inputs_prepare(m->graph, &o, &f, &n), LD_OK);
    assert_int_equal(n, 3);
    for (int k = 0; k < 3; k++) assert_dims(ld_feed_get(&f[k], "z"), 4, (int64_t[]){1, 1, 2, 2});
    assert_dims(ld_feed_get(&f[2], "x"), 4, (int64_t[]){2, 1, 2, 2});
    ld_samples_free(f, n);
    /* z not given: generated with each piece's batch */
    o.nspecs = 1;
    assert_int_equal(ld_inputs_prepare(m->graph, &o, &f, &n), LD_OK);
    assert_int_equal(n, 3);
    assert_dims(ld_feed_get(&f[2], "z"), 4, (int64_t[]){2, 1, 2, 2});
    ld_samples_free(f, n);
    ld_tensor_free(z);
    z = ld_tensor_new(LD_F32, 4, (int64_t[]){6, 1, 2, 2});
    assert_int_equal(ld_npy_write(zpath, z, true), LD_OK);
    o.nspecs = 2;
    expect_err(ld_inputs_prepare(m->graph, &o, &f, &n), LD_ERR_DATA, "cannot be cut into the same batches");
    ld_model_free(m);
    ld_tensor_free(z);
    unlink(zpath);
    ld_tensor_free(x);
    unlink(path);
}

static void test_opts_init(void **st) {
    ld_data_opts o;
    memset(&o, 0xff, sizeof o);
    ld_data_opts_init(&o);
    assert_int_equal(o.batch, 1);
    assert_int_equal(o.max_samples, 0);
    assert_int_equal(o.resize_h, 0);
    assert_int_equal(o.crop_w, 0);
    assert_int_equal(o.nmean, 0);
    assert_false(o.imagenet_norm);
    assert_null(o.path);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_opts_init),
        cmocka_unit_test(test_png_gray_exact),
        cmocka_unit_test(test_png_rgb_exact),
        cmocka_unit_test(test_jpeg_decode),
        cmocka_unit_test(test_resize),
        cmocka_unit_test(test_center_crop),
        cmocka_unit_test(test_normalise),
        cmocka_unit_test(test_batching),
        cmocka_unit_test(test_input_split),
        cmocka_unit_test(test_mixed_sizes),
        cmocka_unit_test(test_idx_images),
        cmocka_unit_test(test_fmnist),
        cmocka_unit_test(test_npy_dir),
        cmocka_unit_test(test_npz),
        cmocka_unit_test(test_polygraphy_json),
        cmocka_unit_test(test_corrupt_images),
        cmocka_unit_test(test_truncation_sweep),
        cmocka_unit_test(test_labels),
        cmocka_unit_test(test_class_names),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
