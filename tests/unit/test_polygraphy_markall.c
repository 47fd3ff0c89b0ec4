/*
** test_polygraphy_markall.c — every intermediate tensor of fmnist_resnet, run by layerdiff
** on the inputs Polygraphy saved, matches what ONNX Runtime produced for Polygraphy's
** `run --onnx-outputs mark all` (fixtures/polygraphy/pg_fmnist_resnet_markall.json).
** Criterion per element: |ours - ort| <= 1e-4 * |ort| + 1e-4 * max|ort| over the tensor
** (relative error 1e-4, with the tensor's scale as the floor near zero).
*/
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ld_exec.h"
#include "ld_io.h"

static void test_markall_matches_onnxruntime(void **st) {
    ld_model *m;
    assert_int_equal(ld_model_load("fixtures/models/fmnist_resnet.onnx", &m), LD_OK);
    ld_feed *in;
    int nin;
    assert_int_equal(ld_pg_read_inputs("fixtures/polygraphy/pg_fmnist_resnet_inputs.json", &in, &nin), LD_OK);
    ld_feed *ref;
    int nref;
    assert_int_equal(ld_pg_read_results("fixtures/polygraphy/pg_fmnist_resnet_markall.json", NULL, &ref, &nref, NULL), LD_OK);
    ld_exec ex;
    assert_int_equal(ld_exec_init(&ex, m->graph, NULL), LD_OK);
    ex.keep_all = true;
    for (int i = 0; i < in[0].n; i++) assert_int_equal(ld_exec_set_input(&ex, in[0].items[i].name, in[0].items[i].t), LD_OK);
    if (ld_exec_run(&ex) != LD_OK) fail_msg("run: %s", ld_err_msg());
    int compared = 0;
    for (int k = 0; k < ref[0].n; k++) {
        const char *name = ref[0].items[k].name;
        const ld_tensor *want = ref[0].items[k].t;
        int v = ld_graph_find_value(m->graph, name);
        if (v < 0) fail_msg("tensor '%s' from Polygraphy is not in the model", name);
        const ld_tensor *got = ld_exec_value(&ex, v);
        if (!got) fail_msg("tensor '%s' was not kept", name);
        assert_int_equal(got->dtype, want->dtype);
        assert_true(ld_shape_equal(got, want));
        double amax = 0, worst = 0;
        for (int64_t i = 0; i < want->numel; i++) amax = fmax(amax, fabs(ld_tensor_get_f64(want, i)));
        for (int64_t i = 0; i < want->numel; i++) {
            double a = ld_tensor_get_f64(got, i), b = ld_tensor_get_f64(want, i);
            double err = fabs(a - b) / (fabs(b) + amax);
            if (err > worst) worst = err;
            if (fabs(a - b) > 1e-4 * fabs(b) + 1e-4 * amax)
                fail_msg("'%s' element %lld: layerdiff %.9g, ONNX Runtime %.9g", name, (long long)i, a, b);
        }
        compared++;
    }
    assert_true(compared >= 30);
    print_message("compared %d tensors with ONNX Runtime\n", compared);
    ld_exec_destroy(&ex);
    ld_feed_clear(&ref[0]); free(ref);
    ld_feed_clear(&in[0]); free(in);
    ld_model_free(m);
}

int main(void) {
    const struct CMUnitTest tests[] = {cmocka_unit_test(test_markall_matches_onnxruntime)};
    return cmocka_run_group_tests(tests, NULL, NULL);
}
