/*
** test_load.c — the loader and planner on hand-built models: topological order of shuffled
** nodes, cycles, dangling names, duplicate outputs, truncated and garbage bytes, tensors
** claiming more data than they hold, missing external data, unsupported ops, constant
** folding, and input checks (wrong name, dtype, shape).
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

/* y = Relu(x) + c, nodes written in reverse order */
static void build_small(mb *b) {
    mb_init(b, 17);
    mb_input(b, "x", 1, d4);
    mb_output(b, "y", 1, d4);
    const float c[4] = {1, 2, 3, 4};
    mb_init_f32(b, "c", 1, d4, c);
    mb_node(b, "Add", "add", 2, (const char *[]){"r", "c"}, 1, (const char *[]){"y"});
    mb_node(b, "Relu", "relu", 1, (const char *[]){"x"}, 1, (const char *[]){"r"});
}

static ld_status load_mb(mb *b, ld_model **m) {
    uint8_t *buf;
    size_t n = mb_pack(b, &buf);
    ld_status st = ld_model_load_buffer(buf, n, "test.onnx", m);
    free(buf);
    return st;
}

static void test_toposort_and_run(void **st) {
    mb b;
    build_small(&b);
    ld_model *m;
    assert_int_equal(load_mb(&b, &m), LD_OK);
    assert_string_equal(m->graph->nodes[0].name, "relu");
    assert_string_equal(m->graph->nodes[1].name, "add");
    ld_exec ex;
    assert_int_equal(ld_exec_init(&ex, m->graph, NULL), LD_OK);
    ld_tensor *x = ld_tensor_new(LD_F32, 1, d4);
    float xv[4] = {-1, 0.5f, -3, 2};
    memcpy(x->data, xv, sizeof xv);
    assert_int_equal(ld_exec_set_input(&ex, "x", x), LD_OK);
    assert_int_equal(ld_exec_run(&ex), LD_OK);
    const float *y = ld_exec_value(&ex, m->graph->outputs[0])->data;
    assert_float_equal(y[0], 1.0f, 0);
    assert_float_equal(y[1], 2.5f, 0);
    assert_float_equal(y[2], 3.0f, 0);
    assert_float_equal(y[3], 6.0f, 0);
    /* wrong name, dtype, shape are clear data errors */
    assert_int_equal(ld_exec_set_input(&ex, "nope", x), LD_ERR_DATA);
    assert_non_null(strstr(ld_err_msg(), "no input named 'nope'"));
    int64_t d5[1] = {5};
    ld_tensor *x5 = ld_tensor_new(LD_F32, 1, d5), *xi = ld_tensor_new(LD_I64, 1, d4);
    assert_int_equal(ld_exec_set_input(&ex, "x", x5), LD_ERR_DATA);
    assert_non_null(strstr(ld_err_msg(), "expected shape (4)"));
    assert_int_equal(ld_exec_set_input(&ex, "x", xi), LD_ERR_DATA);
    assert_non_null(strstr(ld_err_msg(), "expected dtype float32"));
    assert_int_equal(ld_exec_set_input(&ex, "c", x), LD_ERR_DATA);   /* an initializer */
    ld_exec_destroy(&ex);
    ld_tensor_free(x); ld_tensor_free(x5); ld_tensor_free(xi);
    ld_model_free(m);
    mb_free(&b);
}

static void test_cycle_dangling_duplicate(void **st) {
    mb b;
    mb_init(&b, 17);
    mb_input(&b, "x", 1, d4);
    mb_output(&b, "y", 1, d4);
    mb_node(&b, "Add", "a", 2, (const char *[]){"x", "z"}, 1, (const char *[]){"y"});
    mb_node(&b, "Relu", "b", 1, (const char *[]){"y"}, 1, (const char *[]){"z"});
    ld_model *m;
    assert_int_equal(load_mb(&b, &m), LD_ERR_DATA);
    assert_non_null(strstr(ld_err_msg(), "cycle"));
    mb_free(&b);

    mb_init(&b, 17);
    mb_input(&b, "x", 1, d4);
    mb_output(&b, "y", 1, d4);
    mb_node(&b, "Add", "a", 2, (const char *[]){"x", "ghost"}, 1, (const char *[]){"y"});
    assert_int_equal(load_mb(&b, &m), LD_ERR_DATA);
    assert_non_null(strstr(ld_err_msg(), "node 'a' (Add): input 'ghost'"));
    mb_free(&b);

    mb_init(&b, 17);
    mb_input(&b, "x", 1, d4);
    mb_output(&b, "y", 1, d4);
    mb_node(&b, "Relu", "a", 1, (const char *[]){"x"}, 1, (const char *[]){"y"});
    mb_node(&b, "Relu", "b", 1, (const char *[]){"x"}, 1, (const char *[]){"y"});
    assert_int_equal(load_mb(&b, &m), LD_ERR_DATA);
    assert_non_null(strstr(ld_err_msg(), "already defined"));
    mb_free(&b);

    mb_init(&b, 17);
    mb_input(&b, "x", 1, d4);
    mb_output(&b, "y", 1, d4);
    mb_node(&b, "NoSuchOp", "weird", 1, (const char *[]){"x"}, 1, (const char *[]){"y"});
    assert_int_equal(load_mb(&b, &m), LD_ERR_UNSUPPORTED);
    assert_non_null(strstr(ld_err_msg(), "node 'weird' (NoSuchOp-17): unsupported operator"));
    mb_free(&b);
}

static void test_truncated_and_garbage(void **st) {
    mb b;
    build_small(&b);
    uint8_t *buf;
    size_t n = mb_pack(&b, &buf);
    ld_model *m;
    for (size_t cut = 0; cut < n; cut++) {     /* every prefix: an error or a valid model */
        ld_status s = ld_model_load_buffer(buf, cut, "t.onnx", &m);
        if (s == LD_OK) ld_model_free(m);
        else assert_true(s == LD_ERR_DATA || s == LD_ERR_UNSUPPORTED);
    }
    uint32_t seed = 12345;
    for (int trial = 0; trial < 2000; trial++) {   /* random byte flips */
        uint8_t *c = malloc(n);
        memcpy(c, buf, n);
        for (int k = 0; k < 3; k++) {
            seed = seed * 1103515245u + 12345u;
            c[(seed >> 8) % n] ^= (uint8_t)(seed >> 3);
        }
        ld_status s = ld_model_load_buffer(c, n, "t.onnx", &m);
        if (s == LD_OK) ld_model_free(m);
        free(c);
    }
    free(buf);
    assert_int_equal(ld_model_load_buffer((const uint8_t *)"hello world", 11, "g.onnx", &m), LD_ERR_DATA);
    assert_int_equal(ld_model_load("/nonexistent/model.onnx", &m), LD_ERR_NOINPUT);
    mb_free(&b);
}

static void test_tensor_claims_too_much(void **st) {
    mb b;
    build_small(&b);
    b.graph.initializer[0]->raw_data.len = 8;   /* 4 floats claimed, 2 present */
    ld_model *m;
    assert_int_equal(load_mb(&b, &m), LD_ERR_DATA);
    assert_non_null(strstr(ld_err_msg(), "claims 16 bytes of raw data but holds 8"));
    mb_free(&b);

    build_small(&b);     /* external data that is missing */
    Onnx__TensorProto *t = b.graph.initializer[0];
    t->has_raw_data = 0;
    t->has_data_location = 1;
    t->data_location = ONNX__TENSOR_PROTO__DATA_LOCATION__EXTERNAL;
    Onnx__StringStringEntryProto *kv = mb_alloc(&b, sizeof *kv);
    onnx__string_string_entry_proto__init(kv);
    kv->key = mb_str(&b, "location");
    kv->value = mb_str(&b, "weights.bin");
    MB_PUSH(&b, t->external_data, t->n_external_data, kv);
    assert_int_equal(load_mb(&b, &m), LD_ERR_NOINPUT);
    assert_non_null(strstr(ld_err_msg(), "weights.bin"));
    kv->value = mb_str(&b, "../../etc/passwd");
    assert_int_equal(load_mb(&b, &m), LD_ERR_DATA);
    mb_free(&b);
}

static void test_external_data_mapped(void **st) {
    mb b;
    build_small(&b);
    Onnx__TensorProto *t = b.graph.initializer[0];
    t->has_raw_data = 0;
    t->has_data_location = 1;
    t->data_location = ONNX__TENSOR_PROTO__DATA_LOCATION__EXTERNAL;
    const char *keys[3] = {"location", "offset", "length"}, *vals[3] = {"ext.bin", "16", "16"};
    for (int i = 0; i < 3; i++) {
        Onnx__StringStringEntryProto *kv = mb_alloc(&b, sizeof *kv);
        onnx__string_string_entry_proto__init(kv);
        kv->key = mb_str(&b, keys[i]);
        kv->value = mb_str(&b, vals[i]);
        MB_PUSH(&b, t->external_data, t->n_external_data, kv);
    }
    FILE *f = fopen("/tmp/ext.bin", "wb");
    float data[8] = {0, 0, 0, 0, 10, 20, 30, 40};
    fwrite(data, 4, 8, f);
    fclose(f);
    uint8_t *buf;
    size_t n = mb_pack(&b, &buf);
    ld_model *m;
    assert_int_equal(ld_model_load_buffer(buf, n, "/tmp/model.onnx", &m), LD_OK);
    const ld_tensor *c = m->graph->values[ld_graph_find_value(m->graph, "c")].const_val;
    assert_float_equal(LD_F32P(c)[3], 40.0f, 0);
    assert_false(c->owns);      /* mapped, not copied */
    ld_model_free(m);
    /* offset + length beyond the file */
    vals[1] = "24";
    t->external_data[1]->value = mb_str(&b, "24");
    free(buf);
    n = mb_pack(&b, &buf);
    assert_int_equal(ld_model_load_buffer(buf, n, "/tmp/model.onnx", &m), LD_ERR_DATA);
    free(buf);
    remove("/tmp/ext.bin");
    mb_free(&b);
}

static void test_constant_folding(void **st) {
    mb b;
    mb_init(&b, 17);
    mb_input(&b, "x", 1, d4);
    mb_output(&b, "y", 1, d4);
    const float c[4] = {-1, 2, -3, 4};
    mb_init_f32(&b, "c", 1, d4, c);
    mb_node(&b, "Relu", "fold_me", 1, (const char *[]){"c"}, 1, (const char *[]){"rc"});
    mb_node(&b, "Add", "add", 2, (const char *[]){"x", "rc"}, 1, (const char *[]){"y"});
    ld_model *m;
    assert_int_equal(load_mb(&b, &m), LD_OK);
    assert_true(m->graph->nodes[0].folded);
    assert_false(m->graph->nodes[1].folded);
    const ld_tensor *rc = m->graph->values[ld_graph_find_value(m->graph, "rc")].const_val;
    assert_non_null(rc);
    assert_float_equal(LD_F32P(rc)[0], 0.0f, 0);
    assert_float_equal(LD_F32P(rc)[3], 4.0f, 0);
    ld_model_free(m);
    mb_free(&b);
}

static void test_shape_inference_symbolic(void **st) {
    mb b;
    mb_init(&b, 17);
    int64_t dn[2] = {-1, 4};
    mb_input(&b, "x", 2, dn);
    mb_output(&b, "y", 2, dn);
    mb_node(&b, "Relu", "r", 1, (const char *[]){"x"}, 1, (const char *[]){"y"});
    ld_model *m;
    assert_int_equal(load_mb(&b, &m), LD_OK);
    assert_int_equal(ld_graph_infer_shapes(m->graph, NULL, 7), LD_OK);
    const ld_value *y = &m->graph->values[m->graph->outputs[0]];
    assert_true(y->info_known);
    assert_int_equal(y->info.dims[0], 7);
    assert_int_equal(y->info.dims[1], 4);
    ld_model_free(m);
    mb_free(&b);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_toposort_and_run),    cmocka_unit_test(test_cycle_dangling_duplicate),
        cmocka_unit_test(test_truncated_and_garbage), cmocka_unit_test(test_tensor_claims_too_much),
        cmocka_unit_test(test_external_data_mapped), cmocka_unit_test(test_constant_folding),
        cmocka_unit_test(test_shape_inference_symbolic),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
