/*
** test_exec.c — the executor's API as the comparison uses it: stepping single nodes, last-use
** freeing and keep-all mode, running from node k on a value put in by the caller, put/take/
** drop, and the hand-over of a value a second executor borrows (the target side of compare
** borrowing the reference's non-float results).
*/
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <stdio.h>
#include <string.h>

#include "ld_exec.h"
#include "model_builder.h"

static const int64_t d4[1] = {4};

/* x -> Relu (r) -> Neg (n) -> Abs (y) */
static ld_model *chain(mb *b) {
    mb_init(b, 17);
    mb_input(b, "x", 1, d4);
    mb_output(b, "y", 1, d4);
    mb_node(b, "Relu", "relu", 1, (const char *[]){"x"}, 1, (const char *[]){"r"});
    mb_node(b, "Neg", "neg", 1, (const char *[]){"r"}, 1, (const char *[]){"n"});
    mb_node(b, "Abs", "abs", 1, (const char *[]){"n"}, 1, (const char *[]){"y"});
    uint8_t *buf;
    size_t len = mb_pack(b, &buf);
    ld_model *m = NULL;
    assert_int_equal(ld_model_load_buffer(buf, len, "chain.onnx", &m), LD_OK);
    free(buf);
    return m;
}

static ld_tensor *vec(float a, float b, float c, float d) {
    ld_tensor *t = ld_tensor_new(LD_F32, 1, d4);
    float v[4] = {a, b, c, d};
    memcpy(t->data, v, sizeof v);
    return t;
}

static void test_step_and_last_use(void **st) {
    mb b;
    ld_model *m = chain(&b);
    ld_graph *g = m->graph;
    int r = ld_graph_find_value(g, "r"), n = ld_graph_find_value(g, "n"), y = g->outputs[0];
    ld_tensor *x = vec(-1, 2, -3, 4);
    for (int keep = 0; keep < 2; keep++) {
        ld_exec ex;
        assert_int_equal(ld_exec_init(&ex, g, NULL), LD_OK);
        assert_ptr_equal(ld_exec_graph(&ex), g);
        ld_exec_set_keep_all(&ex, keep);
        assert_int_equal(ld_exec_set_input(&ex, "x", x), LD_OK);
        assert_false(ld_exec_owns(&ex, g->inputs[0]));          /* inputs are borrowed */
        assert_int_equal(ld_exec_step(&ex, 0), LD_OK);
        assert_true(ld_exec_owns(&ex, r));
        assert_float_equal(((float *)ld_exec_value(&ex, r)->data)[1], 2.0f, 0);
        assert_int_equal(ld_exec_step(&ex, 1), LD_OK);
        /* r was read last by node 1: freed unless keep-all */
        if (keep) assert_non_null(ld_exec_value(&ex, r));
        else assert_null(ld_exec_value(&ex, r));
        assert_int_equal(ld_exec_owns(&ex, r), keep);
        assert_int_equal(ld_exec_step(&ex, 2), LD_OK);
        assert_int_equal(ld_exec_value(&ex, n) != NULL, keep);
        const float *yv = ld_exec_value(&ex, y)->data;     /* graph outputs always stay */
        assert_float_equal(yv[0], 0.0f, 0);
        assert_float_equal(yv[3], 4.0f, 0);
        ld_exec_destroy(&ex);
    }
    ld_tensor_free(x);
    ld_model_free(m);
    mb_free(&b);
}

static void test_run_from_put_take_drop(void **st) {
    mb b;
    ld_model *m = chain(&b);
    ld_graph *g = m->graph;
    int r = ld_graph_find_value(g, "r"), y = g->outputs[0];
    ld_tensor *x = vec(1, 2, 3, 4);
    ld_exec ex;
    assert_int_equal(ld_exec_init(&ex, g, NULL), LD_OK);
    ld_exec_set_keep_all(&ex, true);
    assert_int_equal(ld_exec_set_input(&ex, "x", x), LD_OK);
    assert_int_equal(ld_exec_run(&ex), LD_OK);
    assert_float_equal(((float *)ld_exec_value(&ex, y)->data)[2], 3.0f, 0);
    /* replace r (owned, the old one is freed) and run from node 1 only */
    ld_exec_put(&ex, r, vec(-7, 0, 5, -1), true);
    assert_int_equal(ld_exec_run_from(&ex, 1), LD_OK);
    const float *yv = ld_exec_value(&ex, y)->data;
    assert_float_equal(yv[0], 7.0f, 0);
    assert_float_equal(yv[2], 5.0f, 0);
    /* take hands over ownership and empties the slot; a borrowed value cannot be taken */
    ld_tensor *t = ld_exec_take(&ex, r);
    assert_non_null(t);
    assert_null(ld_exec_value(&ex, r));
    assert_false(ld_exec_owns(&ex, r));
    ld_exec_put(&ex, r, t, false);
    assert_null(ld_exec_take(&ex, r));
    ld_exec_drop(&ex, r);                                      /* borrowed: only forgotten */
    assert_null(ld_exec_value(&ex, r));
    ld_tensor_free(t);
    ld_exec_drop(&ex, y);                                      /* owned: freed */
    assert_null(ld_exec_value(&ex, y));
    ld_exec_destroy(&ex);
    ld_exec_destroy(&ex);                                      /* twice is harmless */
    ld_tensor_free(x);
    ld_model_free(m);
    mb_free(&b);
}

/* The reference side owns r, the target side borrows it; when r dies on the reference side
 * the kept target side receives it instead of a dangling pointer. */
static void test_hand_over_to_heir(void **st) {
    mb b;
    ld_model *m = chain(&b);
    ld_graph *g = m->graph;
    int r = ld_graph_find_value(g, "r");
    ld_tensor *x = vec(1, -2, 3, -4);
    ld_exec ref, tgt;
    assert_int_equal(ld_exec_init(&ref, g, NULL), LD_OK);
    assert_int_equal(ld_exec_init(&tgt, g, NULL), LD_OK);
    ld_exec_set_keep_all(&tgt, true);
    assert_int_equal(ld_exec_set_input(&ref, "x", x), LD_OK);
    assert_int_equal(ld_exec_step(&ref, 0), LD_OK);
    ld_tensor *rv = ld_exec_value(&ref, r);
    ld_exec_put(&tgt, r, rv, false);
    ld_exec_free_dead(&tgt, 1, NULL);                          /* keep-all: nothing happens */
    assert_ptr_equal(ld_exec_value(&tgt, r), rv);
    ld_exec_free_dead(&ref, 1, &tgt);                          /* r's last reader is node 1 */
    assert_null(ld_exec_value(&ref, r));
    assert_ptr_equal(ld_exec_value(&tgt, r), rv);
    assert_true(ld_exec_owns(&tgt, r));
    assert_float_equal(((float *)rv->data)[2], 3.0f, 0);
    ld_exec_destroy(&ref);
    ld_exec_destroy(&tgt);                                     /* frees rv once (ASan) */
    ld_tensor_free(x);
    ld_model_free(m);
    mb_free(&b);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_step_and_last_use), cmocka_unit_test(test_run_from_put_take_drop),
        cmocka_unit_test(test_hand_over_to_heir),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
