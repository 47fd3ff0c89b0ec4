/*
** test_io.c — .npy parse/serialise (dtypes, Fortran order, big-endian, truncation), .npz
** round trip through libzip, base64, Polygraphy inputs/RunResults files (the real ones in
** fixtures/polygraphy and our own written ones).
*/
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ld_io.h"

static void test_npy_roundtrip(void **st) {
    ld_dtype types[] = {LD_F32, LD_F64, LD_F16, LD_I8, LD_I16, LD_I32, LD_I64, LD_U8, LD_U16, LD_U32, LD_U64, LD_BOOL};
    for (size_t k = 0; k < sizeof types / sizeof *types; k++) {
        int64_t dims[3] = {2, 3, 4};
        ld_tensor t = {0}, back = {0};
        assert_int_equal(ld_tensor_alloc(&t, types[k], 3, dims), LD_OK);
        for (int64_t i = 0; i < t.numel; i++) ((uint8_t *)t.data)[i * ld_dtype_size(t.dtype) % t.nbytes] = (uint8_t)(i * 7 + 1);
        if (types[k] == LD_BOOL) for (int64_t i = 0; i < t.numel; i++) ((uint8_t *)t.data)[i] = i & 1;
        uint8_t *buf;
        size_t len;
        assert_int_equal(ld_npy_serialize(&t, &buf, &len), LD_OK);
        assert_int_equal((len - t.nbytes) % 64, 0);          /* header aligned to 64 */
        assert_int_equal(ld_npy_parse(buf, len, &back), LD_OK);
        assert_int_equal(back.dtype, types[k]);
        assert_true(ld_shape_equal(&t, &back));
        assert_memory_equal(t.data, back.data, t.nbytes);
        /* every truncation is an error, never a crash */
        for (size_t cut = 0; cut < len; cut += 7) {
            ld_tensor tr = {0};
            assert_int_not_equal(ld_npy_parse(buf, cut, &tr), LD_OK);
        }
        free(buf);
        ld_tensor_clear(&t);
        ld_tensor_clear(&back);
    }
}

static void test_npy_fortran_bigendian(void **st) {
    /* numpy.asfortranarray(np.arange(6, dtype='>i4').reshape(2,3)) */
    const char hdr[] = "{'descr': '>i4', 'fortran_order': True, 'shape': (2, 3), }";
    uint8_t buf[256] = "\x93NUMPY\x01\x00";
    size_t hl = strlen(hdr);
    buf[8] = (uint8_t)(hl + 1);
    buf[9] = 0;
    memcpy(buf + 10, hdr, hl);
    buf[10 + hl] = '\n';
    int32_t colmajor[6] = {0, 3, 1, 4, 2, 5};
    uint8_t *d = buf + 11 + hl;
    for (int i = 0; i < 6; i++) { d[4 * i] = 0; d[4 * i + 1] = 0; d[4 * i + 2] = 0; d[4 * i + 3] = (uint8_t)colmajor[i]; }
    ld_tensor t = {0};
    assert_int_equal(ld_npy_parse(buf, 11 + hl + 24, &t), LD_OK);
    for (int i = 0; i < 6; i++) assert_int_equal(((int32_t *)t.data)[i], i);
    ld_tensor_clear(&t);
    assert_int_not_equal(ld_npy_parse((const uint8_t *)"garbage", 7, &t), LD_OK);
}

static void test_base64(void **st) {
    const char *in[] = {"", "f", "fo", "foo", "foob", "fooba", "foobar"};
    const char *out[] = {"", "Zg==", "Zm8=", "Zm9v", "Zm9vYg==", "Zm9vYmE=", "Zm9vYmFy"};
    for (int i = 0; i < 7; i++) {
        char *e = ld_base64_encode((const uint8_t *)in[i], strlen(in[i]));
        assert_string_equal(e, out[i]);
        uint8_t *d;
        size_t n;
        assert_int_equal(ld_base64_decode(e, &d, &n), LD_OK);
        assert_int_equal(n, strlen(in[i]));
        assert_memory_equal(d, in[i], n);
        free(d);
        free(e);
    }
    uint8_t *d;
    size_t n;
    assert_int_not_equal(ld_base64_decode("ab$c", &d, &n), LD_OK);
}

static void test_npz_roundtrip(void **st) {
    char path[] = "/tmp/ld_test_XXXXXX.npz";
    int fd = mkstemps(path, 4);
    close(fd);
    unlink(path);
    ld_feed f = {0};
    int64_t d1[2] = {2, 2}, d2[1] = {3};
    ld_tensor *a = ld_tensor_new(LD_F32, 2, d1), *b = ld_tensor_new(LD_I64, 1, d2);
    for (int i = 0; i < 4; i++) LD_F32P(a)[i] = i * 0.5f;
    for (int i = 0; i < 3; i++) LD_I64P(b)[i] = -i;
    assert_int_equal(ld_feed_add(&f, "/stem/Conv_output_0", a), LD_OK);
    assert_int_equal(ld_feed_add(&f, "logits", b), LD_OK);
    assert_int_equal(ld_npz_write(path, &f, true), LD_OK);
    ld_feed g = {0};
    assert_int_equal(ld_npz_read(path, &g), LD_OK);
    assert_int_equal(g.n, 2);
    ld_tensor *ga = ld_feed_get(&g, "/stem/Conv_output_0"), *gb = ld_feed_get(&g, "logits");
    assert_non_null(ga);
    assert_non_null(gb);
    assert_memory_equal(ga->data, a->data, a->nbytes);
    assert_memory_equal(gb->data, b->data, b->nbytes);
    /* refuses to overwrite without force */
    assert_int_equal(ld_feed_save(path, &f, false), LD_ERR_CANTCREAT);
    assert_int_equal(ld_feed_save(path, &f, true), LD_OK);
    unlink(path);
    ld_feed_clear(&g);
    assert_int_equal(ld_npz_read("/nonexistent/x.npz", &g), LD_ERR_NOINPUT);
    ld_feed_clear(&f);
}

/* An empty feed saves as an empty archive (libzip alone would write no file). */
static void test_npz_empty(void **st) {
    char path[] = "/tmp/ld_test_XXXXXX.npz";
    int fd = mkstemps(path, 4);
    close(fd);
    unlink(path);
    ld_feed f = {0}, g = {0};
    assert_int_equal(ld_npz_write(path, &f, false), LD_OK);
    assert_int_equal(ld_npz_read(path, &g), LD_OK);
    assert_int_equal(g.n, 0);
    unlink(path);
}

static void test_polygraphy_files(void **st) {
    ld_feed *s;
    int n;
    assert_int_equal(ld_pg_read_inputs("fixtures/polygraphy/pg_fmnist_resnet_inputs.json", &s, &n), LD_OK);
    assert_int_equal(n, 1);
    ld_tensor *img = ld_feed_get(&s[0], "image");
    assert_non_null(img);
    assert_int_equal(img->dtype, LD_F32);
    assert_int_equal(img->ndim, 4);
    assert_int_equal(img->dims[0], 2);
    assert_int_equal(img->dims[2], 28);
    ld_feed *it;
    int ni;
    char *runner = NULL;
    assert_int_equal(ld_pg_read_results("fixtures/polygraphy/pg_fmnist_resnet_markall.json", NULL, &it, &ni, &runner), LD_OK);
    assert_int_equal(ni, 1);
    assert_true(strstr(runner, "onnxrt") != NULL);
    assert_non_null(ld_feed_get(&it[0], "logits"));
    assert_true(it[0].n > 30);
    /* write RunResults and read it back */
    char path[] = "/tmp/ld_pg_XXXXXX.json";
    close(mkstemps(path, 5));
    assert_int_equal(ld_pg_write_results(path, "layerdiff-fp32", it, 1, NULL, true), LD_OK);
    ld_feed *it2;
    int n2;
    assert_int_equal(ld_pg_read_results(path, NULL, &it2, &n2, NULL), LD_OK);
    assert_int_equal(it2[0].n, it[0].n);
    for (int k = 0; k < it[0].n; k++) {
        ld_tensor *x = ld_feed_get(&it2[0], it[0].items[k].name);
        assert_non_null(x);
        assert_memory_equal(x->data, it[0].items[k].t->data, x->nbytes);
    }
    unlink(path);
    ld_feed_clear(&it2[0]); free(it2);
    ld_feed_clear(&it[0]); free(it);
    ld_feed_clear(&s[0]); free(s);
    free(runner);
    /* malformed JSON: clean errors */
    FILE *f = fopen(path, "w");
    fputs("{\"lst\": [[\"r\", [{\"outputs\": {\"x\": {\"array\": \"!!\"}}}]]]}", f);
    fclose(f);
    assert_int_equal(ld_pg_read_results(path, NULL, &it, &ni, NULL), LD_ERR_DATA);
    f = fopen(path, "w");
    fputs("[{\"x\": ", f);
    fclose(f);
    assert_int_equal(ld_pg_read_inputs(path, &s, &n), LD_ERR_DATA);
    unlink(path);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_npy_roundtrip), cmocka_unit_test(test_npy_fortran_bigendian),
        cmocka_unit_test(test_base64),        cmocka_unit_test(test_npz_roundtrip), cmocka_unit_test(test_npz_empty),
        cmocka_unit_test(test_polygraphy_files),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
