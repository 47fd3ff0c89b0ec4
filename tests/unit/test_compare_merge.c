/*
** test_compare_merge.c — a comparison split by samples and merged back (compare_merge.c, the
** basis of layerdiff-mpi) gives the same report as the comparison over all samples, for FP16
** and calibrated INT8 on the trained ResNet with random images and labels; merging packed
** results of another model, or truncated ones, is an error. autopin through its distributed
** path (ld_autopin_dist, here one rank exchanging with itself) finds what it finds without.
*/
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <cJSON.h>
#include <stdlib.h>
#include <string.h>

#include "ld_autopin.h"
#include "ld_session.h"

#define RESNET "fixtures/models/fmnist_resnet.onnx"
#define NS 5

/* The report without wall time. */
static char *report_text(ld_session *s, ld_compare *c) {
    ld_report_meta meta;
    ld_session_meta(s, &meta);
    cJSON *j = ld_report_json(c, &meta);
    cJSON_DeleteItemFromObject(cJSON_GetObjectItem(j, "summary"), "seconds");
    char *t = cJSON_Print(j);
    cJSON_Delete(j);
    return t;
}

static void open_session(ld_session *s, ld_target t, ld_workload *w, int64_t *labels) {
    memset(w, 0, sizeof *w);
    w->model = RESNET;
    w->target = t;
    w->fallback = LD_TARGET_FP16;
    ld_input_opts_init(&w->in);
    ld_data_opts_init(&w->data);
    w->in.batch = 1;
    w->calib_method = LD_CALIB_MINMAX;
    w->isolated = true;
    ld_tol_default(&w->tol, t);
    for (int i = 0; i < NS; i++) labels[i] = (i * 7) % 10;
    w->label_values = labels;
    w->nlabel_values = NS;
    assert_int_equal(ld_session_open(s, w), LD_OK);
    /* NS different generated samples: the session made one; make more with other seeds */
    ld_samples_free(s->samples, s->nsamples);
    s->samples = calloc(NS, sizeof *s->samples);
    s->nsamples = NS;
    for (int i = 0; i < NS; i++) {
        ld_input_opts o = w->in;
        o.seed = 100 + i;
        o.lo = -0.5;
        o.hi = 1.5;
        ld_feed *f;
        int n;
        assert_int_equal(ld_inputs_prepare(s->model->graph, &o, &f, &n), LD_OK);
        s->samples[i] = f[0];
        free(f);
    }
}

static void check_split(ld_target t) {
    ld_session s;
    ld_workload w;
    int64_t labels[NS];
    open_session(&s, t, &w, labels);
    ld_compare whole, merged, first;
    assert_int_equal(ld_session_compare(&s, &whole), LD_OK);
    assert_int_equal(ld_compare_init(&merged, s.model, &s.opts), LD_OK);
    for (int i = 0; i < NS; i++) {
        ld_compare one;
        assert_int_equal(ld_compare_init(&one, s.model, &s.opts), LD_OK);
        if (i) ld_compare_preset_ranges(&one, &first);
        assert_int_equal(ld_compare_add_sample(&one, &s.samples[i]), LD_OK);
        uint8_t *buf;
        size_t len;
        assert_int_equal(ld_compare_pack(&one, &buf, &len), LD_OK);
        assert_int_equal(ld_compare_merge_packed(&merged, buf, len), LD_OK);
        if (i == 0) {
            assert_int_equal(ld_compare_merge_packed(&merged, buf, len - 1), LD_ERR_DATA);   /* truncated */
            first = one;
        } else {
            ld_compare_free(&one);
        }
        free(buf);
    }
    assert_int_equal(ld_compare_finish(&merged, s.labels, s.nlabels), LD_OK);
    char *a = report_text(&s, &whole), *b = report_text(&s, &merged);
    assert_non_null(strstr(a, "\"delta_top1_pp\""));
    assert_string_equal(a, b);
    free(a);
    free(b);
    ld_compare_free(&first);
    ld_compare_free(&merged);
    ld_compare_free(&whole);
    ld_session_close(&s);
}

static void test_split_fp16(void **st) { check_split(LD_TARGET_FP16); }
static void test_split_int8(void **st) { check_split(LD_TARGET_INT8); }

static void test_other_model(void **st) {
    ld_session s;
    ld_workload w;
    int64_t labels[NS];
    open_session(&s, LD_TARGET_FP16, &w, labels);
    ld_model *vit;
    assert_int_equal(ld_model_load("fixtures/models/fmnist_vit.onnx", &vit), LD_OK);
    ld_compare a, b;
    assert_int_equal(ld_compare_init(&a, s.model, &s.opts), LD_OK);
    ld_compare_opts o = s.opts;
    o.policy.pinned = NULL;
    assert_int_equal(ld_compare_init(&b, vit, &o), LD_OK);
    uint8_t *buf;
    size_t len;
    assert_int_equal(ld_compare_pack(&b, &buf, &len), LD_OK);
    assert_int_equal(ld_compare_merge_packed(&a, buf, len), LD_ERR_DATA);
    free(buf);
    ld_compare_free(&a);
    ld_compare_free(&b);
    ld_model_free(vit);
    ld_session_close(&s);
}

/* One rank: every blob is its own; a failure comes back as the error. */
static ld_status self_gather(void *user, uint8_t *const *mine, const size_t *mine_len, int nmine, int nsamples,
                             uint8_t **all, size_t *lens) {
    int *calls = user;
    ++*calls;
    if (nmine < 0) return (ld_status)-nmine;
    assert_int_equal(nmine, nsamples);
    for (int k = 0; k < nsamples; k++) {
        all[k] = malloc(mine_len[k] + 1);
        memcpy(all[k], mine[k], mine_len[k]);
        lens[k] = mine_len[k];
    }
    return LD_OK;
}

static void test_autopin_dist_path(void **st) {
    ld_session s;
    ld_workload w;
    int64_t labels[NS];
    open_session(&s, LD_TARGET_INT8, &w, labels);
    ld_autopin_opts o = {.ngoals = 1, .goals = {{LD_GOAL_SQNR, 45}}, .prune = true, .max_tries = 4};
    ld_autopin_result a, b;
    assert_int_equal(ld_autopin_run(&s, &o, &a), LD_OK);
    int calls = 0;
    ld_autopin_dist d = {0, 1, self_gather, &calls};
    o.dist = &d;
    assert_int_equal(ld_autopin_run(&s, &o, &b), LD_OK);
    assert_true(calls >= 3 + a.tries - 1);        /* measured pass, both sides' outputs, every recompute */
    assert_true(a.npinned > 0);
    assert_int_equal(a.npinned, b.npinned);
    assert_memory_equal(a.pinned, b.pinned, s.model->graph->nnodes);
    assert_int_equal(a.tries, b.tries);
    const ld_goal_eval *e[4] = {&a.before, &b.before, &a.after, &b.after};
    for (int i = 0; i < 4; i += 2) {   /* field by field: the struct has padding */
        assert_true(e[i]->sqnr == e[i + 1]->sqnr && e[i]->cosine == e[i + 1]->cosine && e[i]->top1 == e[i + 1]->top1);
        assert_true(e[i]->acc_delta == e[i + 1]->acc_delta && e[i]->maxrel == e[i + 1]->maxrel);
        assert_true(e[i]->finite == e[i + 1]->finite && e[i]->labelled == e[i + 1]->labelled && e[i]->met == e[i + 1]->met);
    }
    assert_true(a.fp32_flops_share == b.fp32_flops_share);
    ld_autopin_result_free(&a);
    ld_autopin_result_free(&b);
    ld_session_close(&s);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_split_fp16),
        cmocka_unit_test(test_split_int8),
        cmocka_unit_test(test_other_model),
        cmocka_unit_test(test_autopin_dist_path),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
