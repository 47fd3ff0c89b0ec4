/*
** test_hostile.c — hostile models against the shared checks (issue 12): every kernel has a
** schema arity row, so a missing required input is refused before any kernel runs (ops newer
** than the schemas python3-onnx knows included); split lengths; the resource limits of
** ld_limits.h (flag parsing, the per-tensor and total byte caps, constant folding that leaves
** huge results to run time); every input's type against its op's schema.
*/
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <stdio.h>
#include <string.h>

#include "ld_exec.h"
#include "ld_limits.h"
#include "ld_op.h"
#include "op_arity.h"
#include "model_builder.h"

static const int64_t d2[1] = {2}, d1[1] = {1};

static ld_status load_mb(mb *b, ld_model **m) {
    uint8_t *buf;
    size_t n = mb_pack(b, &buf);
    ld_status st = ld_model_load_buffer(buf, n, "test.onnx", m);
    free(buf);
    if (st == LD_OK) ld_model_free(*m);
    return st;
}

/* int64 initializer with raw_data */
static void mb_init_i64(mb *b, const char *name, int ndim, const int64_t *dims, const int64_t *vals) {
    Onnx__TensorProto *t = mb_init_f32(b, name, 0, NULL, (const float[]){0});
    t->data_type = 7;
    int64_t n = 1;
    t->dims = mb_alloc(b, sizeof(int64_t) * (ndim + 1));
    for (int i = 0; i < ndim; i++) { t->dims[i] = dims[i]; n *= dims[i]; }
    t->n_dims = ndim;
    t->raw_data.len = n * 8;
    t->raw_data.data = mb_alloc(b, n * 8 + 1);
    memcpy(t->raw_data.data, vals, n * 8);
}

static bool arity_row(const char *domain, const char *name, int since) {
    for (int i = 0; i < ld_op_arity_count; i++) {
        const ld_op_arity *a = &ld_op_arity_table[i];
        if (!strcmp(a->domain, domain) && !strcmp(a->name, name) && a->since <= since) return true;
    }
    return false;
}

/* The planner's required-input check only knows the ops of the arity table: a kernel without
 * a row would be handed NULL inputs (BitwiseNot-18, RMSNormalization-23, Gelu-20 were). */
static void test_arity_covers_every_kernel(void **st) {
    int nf;
    const ld_op_def *const *fam = ld_op_families(&nf);
    int missing = 0;
    for (int f = 0; f < nf; f++)
        for (const ld_op_def *d = fam[f]; d->name; d++) {
            const char *dom = d->domain && strcmp(d->domain, "ai.onnx") ? d->domain : "";
            if (!arity_row(dom, d->name, d->since)) {
                fprintf(stderr, "no arity row for %s%s%s-%d (add it to tools/gen_op_arity.py)\n", dom,
                        dom[0] ? "." : "", d->name, d->since);
                missing++;
            }
        }
    assert_int_equal(missing, 0);
    /* the planner binary-searches the table: it must stay sorted by (domain, name, since) */
    for (int i = 1; i < ld_op_arity_count; i++) {
        const ld_op_arity *a = &ld_op_arity_table[i - 1], *b = &ld_op_arity_table[i];
        int c = strcmp(a->domain, b->domain);
        if (!c) c = strcmp(a->name, b->name);
        assert_true(c < 0 || (c == 0 && a->since < b->since));
    }
}

static void expect_refused(int opset, const char *op, int nin, const char **ins, const char *msg) {
    mb b;
    mb_init(&b, opset);
    mb_init_f32(&b, "x", 1, d2, (const float[]){1, 2});
    mb_output(&b, "y", 1, d2);
    mb_node(&b, op, "n", nin, ins, 1, (const char *[]){"y"});
    ld_model *m;
    assert_int_equal(load_mb(&b, &m), LD_ERR_DATA);
    if (!strstr(ld_err_msg(), msg)) fail_msg("%s: '%s' lacks '%s'", op, ld_err_msg(), msg);
    mb_free(&b);
}

static void test_missing_required_inputs(void **st) {
    expect_refused(18, "BitwiseNot", 1, (const char *[]){""}, "required input 0 is missing");
    expect_refused(18, "BitwiseOr", 1, (const char *[]){"x"}, "has 1 inputs, the operator takes 2");
    expect_refused(23, "RMSNormalization", 2, (const char *[]){"x", ""}, "required input 1 is missing");
    expect_refused(20, "Gelu", 0, NULL, "has 0 inputs, the operator takes 1");
    expect_refused(24, "Swish", 1, (const char *[]){""}, "required input 0 is missing");
    expect_refused(17, "Relu", 1, (const char *[]){""}, "required input 0 is missing");
}

static void test_split_negative_length(void **st) {
    mb b;
    mb_init(&b, 17);
    mb_init_f32(&b, "x", 1, (const int64_t[]){4}, (const float[]){1, 2, 3, 4});
    mb_init_i64(&b, "split", 1, d2, (const int64_t[]){-1, 5});
    mb_init_i64(&b, "zero", 0, NULL, (const int64_t[]){0});
    mb_output(&b, "y", 1, d1);
    mb_node(&b, "SplitToSequence", "split", 2, (const char *[]){"x", "split"}, 1, (const char *[]){"s"});
    mb_node(&b, "SequenceAt", "at", 2, (const char *[]){"s", "zero"}, 1, (const char *[]){"y"});
    ld_model *m;
    assert_int_equal(load_mb(&b, &m), LD_ERR_DATA);
    assert_non_null(strstr(ld_err_msg(), "negative split length -1 at index 0"));
    /* lengths past the axis: refused before the sum could overflow */
    int64_t big[2] = {INT64_MAX, 2};
    memcpy(b.graph.initializer[1]->raw_data.data, big, sizeof big);
    assert_int_equal(load_mb(&b, &m), LD_ERR_DATA);
    assert_non_null(strstr(ld_err_msg(), "runs past the axis of 4"));
    mb_free(&b);
}

static void test_limit_flags(void **st) {
    bool takes;
    assert_true(ld_limit_is_flag("--max-memory", &takes) && takes);
    assert_true(ld_limit_is_flag("--allow-external-outside", &takes) && !takes);
    assert_false(ld_limit_is_flag("--max-nothing", &takes));
    assert_int_equal(ld_limit_set("--max-memory", "8G"), LD_OK);
    assert_int_equal(ld_limit.max_memory, (int64_t)8 << 30);
    assert_int_equal(ld_limit_set("--max-tensor-bytes", "64KiB"), LD_ERR_USAGE);
    assert_int_equal(ld_limit_set("--max-tensor-bytes", "64KB"), LD_OK);
    assert_int_equal(ld_limit.max_tensor_bytes, 65536);
    assert_int_equal(ld_limit_set("--max-iterations", "1K"), LD_ERR_USAGE);   /* counts: no suffix */
    assert_int_equal(ld_limit_set("--max-iterations", "0"), LD_ERR_USAGE);
    assert_int_equal(ld_limit_set("--max-iterations", "-5"), LD_ERR_USAGE);
    assert_int_equal(ld_limit_set("--max-memory", "99999999999T"), LD_ERR_USAGE);   /* overflows */
    assert_non_null(strstr(ld_err_msg(), "--max-memory"));
    assert_true(ld_limit_is_flag("--max-string-bytes", &takes) && takes);
    assert_int_equal(ld_limit_set("--max-string-bytes", "1K"), LD_OK);
    assert_int_equal(ld_limit.max_string_bytes, 1024);
    assert_int_equal(ld_limit_set("--max-iterations", "25"), LD_OK);
    assert_int_equal(ld_limit.max_iterations, 25);
    assert_int_equal(ld_limit_iteration("Loop", 24), LD_OK);
    assert_int_equal(ld_limit_iteration("Loop", 25), LD_ERR_DATA);
    assert_non_null(strstr(ld_err_msg(), "--max-iterations"));
    ld_limits_reset();
    assert_int_equal(ld_limit.max_iterations, 1000000);
}

static void test_tensor_byte_caps(void **st) {
    size_t base = ld_limit_live_bytes();
    ld_limit.max_tensor_bytes = 4000;
    ld_limit.max_memory = (int64_t)base + 6000;
    ld_tensor a = {0}, b = {0};
    int64_t n1001[1] = {1001}, n750[1] = {750};
    assert_int_equal(ld_tensor_alloc(&a, LD_F32, 1, n1001), LD_ERR_DATA);   /* 4004 bytes */
    assert_non_null(strstr(ld_err_msg(), "--max-tensor-bytes"));
    assert_null(a.data);
    assert_int_equal(ld_tensor_alloc(&a, LD_F32, 1, n750), LD_OK);          /* 3000 */
    assert_int_equal(ld_limit_live_bytes(), base + 3000);
    assert_int_equal(ld_tensor_alloc(&b, LD_F32, 1, n750), LD_OK);          /* 6000 in all */
    ld_tensor c = {0};
    assert_int_equal(ld_tensor_alloc(&c, LD_F32, 1, n750), LD_ERR_DATA);    /* 9000 > 6000 */
    assert_non_null(strstr(ld_err_msg(), "--max-memory"));
    ld_tensor_clear(&a);
    assert_int_equal(ld_limit_live_bytes(), base + 3000);
    assert_int_equal(ld_tensor_alloc(&c, LD_F32, 1, n750), LD_OK);          /* room again */
    assert_int_equal(ld_tensor_alloc_data_uninit(&c), LD_OK);               /* again: no double count */
    assert_int_equal(ld_limit_live_bytes(), base + 6000);
    ld_tensor_clear(&b);
    ld_tensor_clear(&c);
    assert_int_equal(ld_limit_live_bytes(), base);
    ld_limits_reset();
}

/* A constant whose result would be 4 GiB is not folded at load (inspect stays cheap); running
 * it meets the per-tensor limit, a data error naming the flag. */
static void test_fold_leaves_huge_constants(void **st) {
    mb b;
    mb_init(&b, 17);
    mb_input(&b, "x", 1, d1);
    mb_output(&b, "y", 1, d1);
    mb_init_i64(&b, "shape", 1, d1, (const int64_t[]){(int64_t)1 << 30});
    mb_node(&b, "ConstantOfShape", "huge", 1, (const char *[]){"shape"}, 1, (const char *[]){"big"});
    mb_node(&b, "ReduceSum", "sum", 1, (const char *[]){"big"}, 1, (const char *[]){"s"});
    mb_node(&b, "Add", "add", 2, (const char *[]){"x", "s"}, 1, (const char *[]){"y"});
    uint8_t *buf;
    size_t n = mb_pack(&b, &buf);
    ld_model *m;
    assert_int_equal(ld_model_load_buffer(buf, n, "test.onnx", &m), LD_OK);
    free(buf);
    int huge = -1;
    for (int i = 0; i < m->graph->nnodes; i++)
        if (!strcmp(m->graph->nodes[i].name, "huge")) huge = i;
    assert_true(huge >= 0);
    assert_false(m->graph->nodes[huge].folded);
    ld_limit.max_tensor_bytes = 1 << 20;
    ld_exec ex;
    assert_int_equal(ld_exec_init(&ex, m->graph, NULL), LD_OK);
    ld_tensor *x = ld_tensor_new(LD_F32, 1, d1);
    assert_int_equal(ld_exec_set_input(&ex, "x", x), LD_OK);
    assert_int_equal(ld_exec_run(&ex), LD_ERR_DATA);
    assert_non_null(strstr(ld_err_msg(), "node 'huge'"));
    assert_non_null(strstr(ld_err_msg(), "--max-tensor-bytes"));
    ld_exec_destroy(&ex);
    ld_tensor_free(x);
    ld_model_free(m);
    ld_limits_reset();
    mb_free(&b);
}

/* Input types against the schema (fuzz findings #2-#5): a value whose type is only known when
 * it is computed (a Cast's output) is checked before the kernel runs, with the same message. */
static void test_input_types_at_run_time(void **st) {
    mb b;
    mb_init(&b, 17);
    mb_input(&b, "x", 2, (const int64_t[]){1, 2});
    mb_output(&b, "y", 2, (const int64_t[]){1, 2});
    mb_init_f32(&b, "scale", 1, d2, (const float[]){1, 1});
    Onnx__NodeProto *c = mb_node(&b, "Cast", "cast", 1, (const char *[]){"x"}, 1, (const char *[]){"b8"});
    mb_attr_int(&b, c, "to", 3);   /* int8 */
    mb_node(&b, "LayerNormalization", "ln", 3, (const char *[]){"x", "scale", "b8"}, 1, (const char *[]){"y"});
    uint8_t *buf;
    size_t n = mb_pack(&b, &buf);
    ld_model *m;
    assert_int_equal(ld_model_load_buffer(buf, n, "test.onnx", &m), LD_OK);   /* not known at load */
    free(buf);
    ld_exec ex;
    assert_int_equal(ld_exec_init(&ex, m->graph, NULL), LD_OK);
    ld_tensor *x = ld_tensor_new(LD_F32, 2, (const int64_t[]){1, 2});
    assert_int_equal(ld_exec_set_input(&ex, "x", x), LD_OK);
    assert_int_equal(ld_exec_run(&ex), LD_ERR_DATA);
    if (!strstr(ld_err_msg(), "node 'ln' (LayerNormalization-17): input 2 'B' is int8; LayerNormalization takes"))
        fail_msg("message: %s", ld_err_msg());
    ld_exec_destroy(&ex);
    /* plan-time inference meets it too (inspect's shape column) */
    assert_int_equal(ld_graph_infer_shapes(m->graph, NULL, 1), LD_ERR_DATA);
    assert_non_null(strstr(ld_err_msg(), "input 2 'B' is int8"));
    ld_tensor_free(x);
    ld_model_free(m);
    mb_free(&b);
}

/* Static types: an initializer of the wrong type is refused at load; same-letter inputs must
 * agree; a node of an opset newer than the schema table keeps the types newer versions added
 * (float16 for Celu in opset 28) but not float8 or integers where floats are meant. */
static ld_status load_typed(int opset, const char *op, int dtype_x, int dtype_w) {
    mb b;
    mb_init(&b, opset);
    MB_PUSH(&b, b.graph.input, b.graph.n_input, mb_vi(&b, "x", dtype_x, 1, d2));
    mb_output(&b, "y", 1, d2);
    const char *ins[2] = {"x", "w"};
    if (dtype_w) {
        Onnx__TensorProto *w = mb_init_f32(&b, "w", 1, d1, (const float[]){1});
        w->data_type = dtype_w;
        w->raw_data.len = ld_dtype_size((ld_dtype)dtype_w);
        w->raw_data.data = mb_alloc(&b, w->raw_data.len + 1);   /* int64: 8 bytes, not the float's 4 */
        memset(w->raw_data.data, 0, w->raw_data.len);
    }
    mb_node(&b, op, "n", dtype_w ? 2 : 1, ins, 1, (const char *[]){"y"});
    ld_model *m;
    ld_status s = load_mb(&b, &m);
    mb_free(&b);
    return s;
}

static void test_input_types_static(void **st) {
    assert_int_equal(load_typed(17, "Add", LD_F32, LD_F32), LD_OK);
    assert_int_equal(load_typed(17, "Add", LD_F32, LD_I64), LD_ERR_DATA);
    assert_non_null(strstr(ld_err_msg(), "input 1 'B' is int64 but input 0 'A' is float32"));
    assert_int_equal(load_typed(17, "Sigmoid", LD_I8, 0), LD_ERR_DATA);
    assert_non_null(strstr(ld_err_msg(), "node 'n' (Sigmoid-13): input 0 'X' is int8; Sigmoid takes"));
    assert_int_equal(load_typed(12, "Celu", LD_F16, 0), LD_ERR_DATA);
    assert_int_equal(load_typed(28, "Celu", LD_F16, 0), LD_OK);       /* newer than the table */
    assert_int_equal(load_typed(28, "Celu", LD_F8E4M3FN, 0), LD_ERR_DATA);
    assert_int_equal(load_typed(22, "PRelu", LD_F32, LD_I8), LD_ERR_DATA);
    assert_int_equal(load_typed(23, "Identity", LD_F8E4M3FN, 0), LD_OK);   /* any-type op widened */
    assert_int_equal(load_typed(23, "Gelu", LD_I32, 0), LD_ERR_DATA);      /* a row from the script */
    assert_int_equal(load_typed(20, "Gelu", LD_BF16, 0), LD_OK);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_arity_covers_every_kernel), cmocka_unit_test(test_missing_required_inputs),
        cmocka_unit_test(test_split_negative_length),     cmocka_unit_test(test_limit_flags),
        cmocka_unit_test(test_tensor_byte_caps),          cmocka_unit_test(test_fold_leaves_huge_constants),
        cmocka_unit_test(test_input_types_at_run_time),   cmocka_unit_test(test_input_types_static),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
