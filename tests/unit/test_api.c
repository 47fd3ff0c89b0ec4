/*
** test_api.c — liblayerdiff's public API (include/layerdiff.h) on its error paths and
** bookkeeping: error codes and messages, feeds (borrowed data, bad types and shapes, index
** checks), every workload option by name (good and bad values), in-memory samples that
** exclude file inputs, and a run and a compare on the trained model whose FP32 outputs must
** equal the executor's.
*/
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <cJSON.h>
#include <string.h>

#include "layerdiff.h"

#define RESNET "fixtures/models/fmnist_resnet.onnx"

static float image[28 * 28];
static const int64_t dims[4] = {1, 1, 28, 28};

static void test_errors(void **st) {
    layerdiff_model *m = (layerdiff_model *)1;
    assert_int_equal(layerdiff_model_open("/nonexistent/x.onnx", &m), LAYERDIFF_ERR_NOINPUT);
    assert_null(m);
    assert_int_equal(layerdiff_errcode(), LAYERDIFF_ERR_NOINPUT);
    assert_non_null(strstr(layerdiff_errmsg(), "x.onnx"));
    assert_int_equal(layerdiff_model_open(RESNET, &m), LAYERDIFF_OK);
    assert_int_equal(layerdiff_errcode(), 0);
    assert_string_equal(layerdiff_errmsg(), "");
    assert_int_equal(layerdiff_model_ninputs(m), 1);
    assert_string_equal(layerdiff_model_input(m, 0), "image");
    assert_null(layerdiff_model_input(m, 1));
    assert_string_equal(layerdiff_model_output(m, 0), "logits");
    layerdiff_model_close(m);
    layerdiff_model_close(NULL);
}

static void test_feeds(void **st) {
    layerdiff_feeds *f = layerdiff_feeds_new();
    assert_int_equal(layerdiff_feeds_add(f, "x", 8 /* string */, 1, dims, image), LAYERDIFF_ERR_UNSUPPORTED);
    assert_int_equal(layerdiff_feeds_add(f, "x", 999, 1, dims, image), LAYERDIFF_ERR_UNSUPPORTED);
    int64_t neg[1] = {-1};
    assert_int_equal(layerdiff_feeds_add(f, "x", LAYERDIFF_FLOAT, 1, neg, image), LAYERDIFF_ERR_DATA);
    assert_int_equal(layerdiff_feeds_add(f, "x", LAYERDIFF_FLOAT, 13, dims, image), LAYERDIFF_ERR_DATA);
    assert_int_equal(layerdiff_feeds_add(f, "x", LAYERDIFF_FLOAT, 4, dims, NULL), LAYERDIFF_ERR_USAGE);
    assert_int_equal(layerdiff_feeds_count(f), 0);
    assert_int_equal(layerdiff_feeds_add(f, "image", LAYERDIFF_FLOAT, 4, dims, image), LAYERDIFF_OK);
    layerdiff_tensor t;
    assert_int_equal(layerdiff_feeds_get(f, 0, &t), LAYERDIFF_OK);
    assert_ptr_equal(t.data, image);            /* borrowed, not copied */
    assert_int_equal(t.nbytes, sizeof image);
    assert_int_equal(t.ndim, 4);
    assert_int_equal(t.dims[3], 28);
    assert_int_equal(layerdiff_feeds_get(f, 1, &t), LAYERDIFF_ERR_USAGE);
    assert_int_equal(layerdiff_feeds_get(f, -1, &t), LAYERDIFF_ERR_USAGE);
    layerdiff_feeds_free(f);
}

static void test_workload_options(void **st) {
    layerdiff_workload *w = NULL;
    assert_int_equal(layerdiff_workload_new(RESNET, "fp7", &w), LAYERDIFF_ERR_USAGE);
    assert_null(w);
    assert_int_equal(layerdiff_workload_new(RESNET, "int8", &w), LAYERDIFF_OK);
    static const char *const good[][2] = {
        {"fallback", "fp32"}, {"pin", "op:Gemm"}, {"--pin", "op:Conv"}, {"seed", "3"}, {"val-range", "0,2"},
        {"batch", "2"}, {"max-samples", "4"}, {"resize", "28x28"}, {"center-crop", "28x28"}, {"mean", "0.5"},
        {"std", "0.2,0.2,0.2"}, {"imagenet-norm", NULL}, {"calib-method", "minmax"}, {"percentile", "99.9"},
        {"atol", "0.1"}, {"rtol", "0.01"}, {"check-error-stat", "median"}, {"error-quantile", "0.5"},
        {"min-sqnr", "20"}, {"min-cosine", "0.99"}, {"max-saturation", "0.01"}, {"no-isolated", "0"},
        {"force", NULL}, {"goal", "sqnr>=30"}, {"strategy", "bisect"}, {"direction", "reverse"},
        {"no-prune", NULL}, {"max-tries", "5"}, {"time-limit", "2.5"}};
    for (size_t i = 0; i < sizeof good / sizeof good[0]; i++)
        if (layerdiff_workload_set(w, good[i][0], good[i][1]) != LAYERDIFF_OK) fail_msg("%s %s: %s", good[i][0], good[i][1], layerdiff_errmsg());
    static const char *const bad[][2] = {
        {"nonsense", "1"}, {"fallback", "int8"}, {"accum", "fp8"}, {"seed", "x"}, {"batch", "0"}, {"resize", "28"},
        {"mean", ""}, {"calib-method", "magic"}, {"percentile", "10"}, {"atol", "-1"}, {"check-error-stat", "p99"},
        {"min-cosine", "2"}, {"goal", "speed>=1"}, {"strategy", "random"}, {"direction", "up"}, {"max-tries", "1.5"},
        {"time-limit", "0"}, {"pin", NULL}, {"data", NULL}};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        if (layerdiff_workload_set(w, bad[i][0], bad[i][1]) != LAYERDIFF_ERR_USAGE) fail_msg("%s %s accepted", bad[i][0], bad[i][1] ? bad[i][1] : "(null)");
    layerdiff_workload_free(w);
}

static void test_memory_samples_exclude_files(void **st) {
    layerdiff_workload *w;
    layerdiff_feeds *f = layerdiff_feeds_new();
    assert_int_equal(layerdiff_feeds_add(f, "image", LAYERDIFF_FLOAT, 4, dims, image), LAYERDIFF_OK);
    assert_int_equal(layerdiff_workload_new(RESNET, "fp16", &w), LAYERDIFF_OK);
    assert_int_equal(layerdiff_workload_add_sample(w, f), LAYERDIFF_OK);
    assert_int_equal(layerdiff_workload_set(w, "data", "fixtures/data/npy"), LAYERDIFF_OK);
    layerdiff_report *r = (layerdiff_report *)1;
    assert_int_equal(layerdiff_compare(w, &r), LAYERDIFF_ERR_USAGE);
    assert_null(r);
    assert_non_null(strstr(layerdiff_errmsg(), "in memory"));
    layerdiff_workload_free(w);
    assert_int_equal(layerdiff_workload_new(RESNET, "fp16", &w), LAYERDIFF_OK);
    assert_int_equal(layerdiff_workload_set(w, "accum", "fp16"), LAYERDIFF_OK);
    assert_int_equal(layerdiff_workload_set(w, "against", RESNET), LAYERDIFF_OK);
    assert_int_equal(layerdiff_autopin(w, &r), LAYERDIFF_ERR_USAGE);
    layerdiff_workload_free(w);
    layerdiff_feeds_free(f);
}

static void test_run_and_compare(void **st) {
    for (int i = 0; i < 28 * 28; i++) image[i] = (float)((i * 37) % 256) / 255.0f;
    layerdiff_model *m;
    assert_int_equal(layerdiff_model_open(RESNET, &m), LAYERDIFF_OK);
    layerdiff_feeds *in = layerdiff_feeds_new(), *out, *all;
    assert_int_equal(layerdiff_feeds_add(in, "image", LAYERDIFF_FLOAT, 4, dims, image), LAYERDIFF_OK);
    assert_int_equal(layerdiff_run(m, in, 0, &out), LAYERDIFF_OK);
    assert_int_equal(layerdiff_feeds_count(out), 1);
    assert_int_equal(layerdiff_run(m, in, 1, &all), LAYERDIFF_OK);
    assert_true(layerdiff_feeds_count(all) > 10);
    layerdiff_tensor a, b;
    assert_int_equal(layerdiff_feeds_get(out, 0, &a), LAYERDIFF_OK);
    assert_int_equal(layerdiff_feeds_get(all, layerdiff_feeds_count(all) - 1, &b), LAYERDIFF_OK);
    assert_string_equal(a.name, "logits");
    assert_string_equal(b.name, "logits");              /* outputs come last */
    assert_memory_equal(a.data, b.data, a.nbytes);

    layerdiff_workload *w;
    assert_int_equal(layerdiff_workload_new(RESNET, "fp16", &w), LAYERDIFF_OK);
    assert_int_equal(layerdiff_workload_add_sample(w, in), LAYERDIFF_OK);
    assert_int_equal(layerdiff_workload_add_sample(w, in), LAYERDIFF_OK);
    int64_t labels[2] = {4, 4};
    assert_int_equal(layerdiff_workload_set_labels(w, labels, 2), LAYERDIFF_OK);
    layerdiff_report *r;
    assert_int_equal(layerdiff_compare(w, &r), LAYERDIFF_OK);
    const cJSON *j = layerdiff_report_json(r);
    assert_non_null(j);
    const cJSON *s = cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(j, "settings"), "samples");
    assert_int_equal((int)s->valuedouble, 2);
    const cJSON *cls = cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(j, "summary"), "classification");
    assert_true(cJSON_IsNumber(cJSON_GetObjectItemCaseSensitive(cls, "ref_top1")));   /* labelled */
    assert_null(layerdiff_report_autopin(r));
    assert_int_equal(layerdiff_report_passed(r), cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(j, "summary"), "passed")));
    char *txt = layerdiff_report_string(r);
    assert_non_null(strstr(txt, "layerdiff.report/1"));
    layerdiff_free(txt);
    layerdiff_report_free(r);
    layerdiff_workload_free(w);
    layerdiff_feeds_free(all);
    layerdiff_feeds_free(out);
    layerdiff_feeds_free(in);
    layerdiff_model_close(m);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_errors),
        cmocka_unit_test(test_feeds),
        cmocka_unit_test(test_workload_options),
        cmocka_unit_test(test_memory_samples_exclude_files),
        cmocka_unit_test(test_run_and_compare),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
