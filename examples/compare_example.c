/*
** compare_example.c — liblayerdiff in a dozen calls: load a model, run it in FP32 on an input
** made here, compare it with an emulated target precision on that sample, print the verdict
** and the first divergent node from the report tree, and write the report.
**
**   cc compare_example.c $(pkg-config --cflags --libs layerdiff) -o compare_example
**   ./compare_example MODEL.onnx [TARGET [REPORT.json]]
**
** The model's first input must be float32 with fixed dimensions (batch 1 where symbolic).
** Exit 0 within tolerance, 1 divergence, else the library's error code.
*/
#include <layerdiff.h>
#include <cJSON.h>

#include <stdio.h>
#include <stdlib.h>

static void progress(void *user, const char *msg, int64_t done, int64_t total) {
    (void)user;
    if (msg && total > 0 && done == total) fprintf(stderr, "  %s\n", msg);
}

static int fail(const char *what) {
    fprintf(stderr, "compare_example: %s: %s\n", what, layerdiff_errmsg());
    return layerdiff_errcode();
}

int main(int argc, char **argv) {
    if (argc < 2) { fprintf(stderr, "usage: compare_example MODEL.onnx [TARGET [REPORT.json]]\n"); return 64; }
    const char *target = argc > 2 ? argv[2] : "fp16";
    printf("liblayerdiff %s\n", layerdiff_version());

    layerdiff_model *m;
    if (layerdiff_model_open(argv[1], &m)) return fail("open");
    /* one 1x1x28x28 image of a smooth pattern (the Fashion-MNIST models' input) */
    int64_t dims[4] = {1, 1, 28, 28};
    static float image[28 * 28];
    for (int i = 0; i < 28 * 28; i++) image[i] = (float)((i * 37) % 256) / 255.0f;
    layerdiff_feeds *in = layerdiff_feeds_new(), *out = NULL;
    if (!in || layerdiff_feeds_add(in, layerdiff_model_input(m, 0), LAYERDIFF_FLOAT, 4, dims, image)) return fail("feeds");

    if (layerdiff_run(m, in, 0, &out)) return fail("run");
    layerdiff_tensor t;
    layerdiff_feeds_get(out, 0, &t);
    const float *y = t.data;
    int64_t n = t.nbytes / sizeof(float), best = 0;
    for (int64_t i = 1; i < n; i++) if (y[i] > y[best]) best = i;
    printf("run: output %s has %lld values, argmax %lld\n", t.name, (long long)n, (long long)best);

    layerdiff_workload *w;
    if (layerdiff_workload_new(argv[1], target, &w)) return fail("workload");
    layerdiff_workload_add_sample(w, in);
    layerdiff_workload_set_progress(w, progress, NULL);
    layerdiff_report *r;
    if (layerdiff_compare(w, &r)) return fail("compare");

    const cJSON *sum = cJSON_GetObjectItemCaseSensitive(layerdiff_report_json(r), "summary");
    const cJSON *fd = cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(sum, "first_divergent"), "isolated");
    const cJSON *node = cJSON_GetObjectItemCaseSensitive(fd, "node");
    printf("compare %s: %s; first divergent (isolated): %s\n", target, layerdiff_report_passed(r) ? "passed" : "DIVERGED",
           cJSON_IsString(node) ? node->valuestring : "none");
    int rc = layerdiff_report_passed(r) ? 0 : 1;
    if (argc > 3 && layerdiff_report_write(r, argv[3], 1)) rc = fail("write");

    layerdiff_report_free(r);
    layerdiff_workload_free(w);
    layerdiff_feeds_free(out);
    layerdiff_feeds_free(in);
    layerdiff_model_close(m);
    return rc;
}
