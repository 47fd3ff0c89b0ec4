/*
** test_op_traits.c — the two fact tables: the op traits table (src/core/op_traits.c) names
** only ops the op table has (a misspelt name would otherwise never match), its flags agree
** with each other, planning resolves them per node; the target format table
** (src/emulate/precision.c) has a complete row per target whose CLI names and aliases parse
** back to it and whose facts the rest of layerdiff reads.
*/
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ld_graph.h"
#include "ld_op.h"
#include "ld_precision.h"
#include "model_builder.h"

static void test_every_traits_op_exists(void **st) {
    (void)st;
    int n;
    const ld_op_traits *t = ld_op_traits_table(&n);
    assert_true(n > 0);
    for (int i = 0; i < n; i++) {
        assert_non_null(t[i].name);
        if (!ld_op_known(t[i].domain, t[i].name))
            fail_msg("op traits row %d names '%s%s%s', which the op table does not have", i, t[i].domain,
                     t[i].domain[0] ? "." : "", t[i].name);
        assert_ptr_equal(ld_op_traits_find(t[i].domain, t[i].name), &t[i]);   /* no duplicate rows */
        assert_true(t[i].flags != 0 || t[i].flops != NULL || t[i].kind != LD_OPK_OTHER);   /* a row says something */
    }
}

static void test_traits_flags_consistent(void **st) {
    (void)st;
    int n;
    const ld_op_traits *t = ld_op_traits_table(&n);
    for (int i = 0; i < n; i++) {
        bool qg = t[i].flags & LD_OPT_QGEMM, acc = t[i].flags & LD_OPT_ACCUM;
        ld_op_kind k = t[i].kind;
        if (qg) {
            /* quantize.c reads input 0 as activations and input 1 as weights */
            assert_int_equal(t[i].qgemm_inputs, 0x3);
            assert_true(k == LD_OPK_CONV || k == LD_OPK_CONV_TRANSPOSE || k == LD_OPK_GEMM || k == LD_OPK_MATMUL);
        } else {
            assert_int_equal(t[i].qgemm_inputs, 0);
        }
        /* accum.c dispatches on the kind: every ACCUM op has an FP16-accumulating kernel */
        if (acc) assert_true(k != LD_OPK_OTHER && k != LD_OPK_CONV_TRANSPOSE);
        /* only the Q/DQ rows have a kind without quantizing or accumulating */
        if (!qg && !acc) assert_true(k == LD_OPK_OTHER || k == LD_OPK_QUANTIZE || k == LD_OPK_DEQUANTIZE);
        /* an op that quantizes or accumulates differently does not commute with rounding */
        if (qg || acc) assert_false(t[i].flags & LD_OPT_ROUND_COMMUTES);
        assert_string_not_equal(ld_op_kind_name(k), "?");
    }
    assert_string_equal(ld_op_kind_name(LD_OPK_COUNT), "?");
}

static void test_traits_lookup(void **st) {
    (void)st;
    const ld_op_traits *none = ld_op_traits_find("", "Add");
    assert_null(none->name);
    assert_int_equal(none->flags, 0);
    assert_true(ld_op_traits_find("", "MatMul")->flags & LD_OPT_QGEMM);
    assert_ptr_equal(ld_op_traits_find("ai.onnx", "Relu"), ld_op_traits_find("", "Relu"));
    assert_true(ld_op_traits_find("ai.onnx", "Relu")->flags & LD_OPT_ROUND_COMMUTES);
    assert_int_equal(ld_op_traits_find("com.microsoft", "MatMul")->flags, 0);   /* other domain */
    assert_int_equal(ld_op_traits_find("", "matmul")->flags, 0);                /* case matters */
    assert_true(ld_op_traits_find("", "Resize")->flags & LD_OPT_KEEP_FP32);
    assert_true(ld_op_traits_find("", "LayerNormalization")->flags & LD_OPT_ACCUM);
    assert_false(ld_op_traits_find("", "ConvTranspose")->flags & LD_OPT_ACCUM);
}

static void test_flops(void **st) {
    (void)st;
    ld_node conv = {.name = "c", .op_type = "Conv", .domain = ""};
    ld_node mm = {.name = "m", .op_type = "MatMul", .domain = ""};
    ld_node add = {.name = "a", .op_type = "Add", .domain = ""};
    ld_tensor *y = ld_tensor_new(LD_F32, 4, (int64_t[]){1, 8, 5, 5});            /* 200 outputs */
    ld_tensor *w = ld_tensor_new(LD_F32, 4, (int64_t[]){8, 3, 3, 3});            /* 27 per channel */
    ld_tensor *x = ld_tensor_new(LD_F32, 2, (int64_t[]){4, 16});
    ld_tensor *ym = ld_tensor_new(LD_F32, 2, (int64_t[]){4, 10});
    assert_true(ld_op_flops(&conv, NULL, w, y) == 2.0 * 200 * 27);
    assert_true(ld_op_flops(&conv, NULL, NULL, y) == 200);                       /* weight unknown */
    assert_true(ld_op_flops(&mm, x, NULL, ym) == 2.0 * 40 * 16);
    assert_true(ld_op_flops(&mm, NULL, NULL, ym) == 40);
    assert_true(ld_op_flops(&add, x, x, ym) == 40);
    ld_tensor_free(y); ld_tensor_free(w); ld_tensor_free(x); ld_tensor_free(ym);
}

/* Planning resolves each node's traits once, also for ops without a row. */
static void test_plan_sets_traits(void **st) {
    (void)st;
    mb b;
    static float w[16];
    int64_t dx[2] = {1, 4}, dw[2] = {4, 4};
    mb_init(&b, 17);
    mb_input(&b, "x", 2, dx);
    mb_output(&b, "y", 2, dx);
    mb_init_f32(&b, "w", 2, dw, w);
    mb_node(&b, "MatMul", "mm", 2, (const char *[]){"x", "w"}, 1, (const char *[]){"h"});
    mb_node(&b, "Relu", "relu", 1, (const char *[]){"h"}, 1, (const char *[]){"r"});
    mb_node(&b, "Sigmoid", "sig", 1, (const char *[]){"r"}, 1, (const char *[]){"y"});
    uint8_t *buf;
    size_t len = mb_pack(&b, &buf);
    ld_model *m = NULL;
    if (ld_model_load_buffer(buf, len, "traits.onnx", &m) != LD_OK) fail_msg("load: %s", ld_err_msg());
    free(buf);
    int seen = 0;
    for (int i = 0; i < m->graph->nnodes; i++) {
        const ld_node *n = &m->graph->nodes[i];
        assert_non_null(n->traits);
        assert_ptr_equal(n->traits, ld_op_traits_find(n->domain, n->op_type));
        if (!strcmp(n->op_type, "MatMul")) { assert_true(ld_node_has(n, LD_OPT_QGEMM)); seen++; }
        if (!strcmp(n->op_type, "Relu")) { assert_true(ld_node_has(n, LD_OPT_ROUND_COMMUTES)); seen++; }
        if (!strcmp(n->op_type, "Sigmoid")) { assert_int_equal(n->traits->flags, 0); seen++; }
    }
    assert_int_equal(seen, 3);
    ld_model_free(m);
    mb_free(&b);
}

/* ---- target formats ---- */

static void test_format_rows_complete(void **st) {
    (void)st;
    int nref = 0;
    for (int i = 0; i < LD_TARGET_COUNT; i++) {
        const ld_format *f = ld_target_format((ld_target)i);
        if (!f->name || !f->long_name || !f->round) fail_msg("target %d has an incomplete format row", i);
        ld_target t = LD_TARGET_COUNT;
        assert_int_equal(ld_target_parse(f->name, &t), LD_OK);
        assert_int_equal(t, i);
        for (int a = 0; a < (int)LD_ARRAY_LEN(f->aliases) && f->aliases[a]; a++) {
            t = LD_TARGET_COUNT;
            assert_int_equal(ld_target_parse(f->aliases[a], &t), LD_OK);
            assert_int_equal(t, i);
        }
        for (int j = 0; j < i; j++) {
            const ld_format *g = ld_target_format((ld_target)j);
            assert_string_not_equal(f->name, g->name);
            /* a block-scaled format's dtype is its element type, shared with a plain format;
             * qdq runs the model as written (FP32 between its quantizers) */
            if (!f->block && !g->block && !f->as_written && !g->as_written)
                assert_int_not_equal(f->onnx_dtype, g->onnx_dtype);
        }
        assert_true(f->onnx_dtype > 0);
        assert_true(f->max > 0 && f->min_subnormal > 0);
        assert_true(isfinite(f->min_sqnr) && isfinite(f->goal_sqnr));
        nref += f->reference;
        if (f->reference) assert_false(f->quantized || f->integer || f->mixed_model);
        if (f->integer) assert_true(f->quantized);        /* integer GEMM inputs need scales */
        if (f->mixed_model) assert_false(f->quantized);   /* --write-model writes casts, not Q/DQ */
    }
    assert_int_equal(nref, 1);
}

static void test_format_facts(void **st) {
    (void)st;
    ld_target t;
    assert_int_equal(ld_target_parse("fp8", &t), LD_OK);
    assert_int_equal(t, LD_TARGET_FP8E4M3);
    assert_int_equal(ld_target_parse("fp8e4m3fn", &t), LD_OK);
    assert_int_equal(t, LD_TARGET_FP8E4M3);
    assert_int_equal(ld_target_parse("FP16", &t), LD_ERR_USAGE);
    assert_non_null(strstr(ld_err_msg(), "fp32, fp16, bf16, fp8e4m3, fp8e5m2, int8"));
    char buf[128];
    assert_string_equal(ld_target_names(buf, sizeof buf, ", ", false), "fp16, bf16, fp8e4m3, fp8e5m2, int8, w4a16, nvfp4, mxfp8, mxfp4, qdq");
    assert_string_equal(ld_target_names(buf, 8, " ", true), "fp32 fp");   /* truncates, terminated */
    assert_int_equal(ld_target_format(LD_TARGET_FP16)->onnx_dtype, 10);
    assert_int_equal(ld_target_format(LD_TARGET_BF16)->onnx_dtype, 16);
    assert_true(ld_target_format(LD_TARGET_INT8)->quantized && ld_target_format(LD_TARGET_FP8E5M2)->quantized);
    assert_false(ld_target_format(LD_TARGET_BF16)->quantized);
    /* round functions: FP16 rounds 1 + 2^-11 to 1 (tie to even), E4M3 saturates at 448, INT8
     * and FP32 leave values alone */
    float v[3] = {1.0f + 0x1p-11f, 1e6f, 0.3f};
    ld_round_to(LD_TARGET_FP16, v, 1);
    assert_true(v[0] == 1.0f);
    ld_round_to(LD_TARGET_FP8E4M3, v + 1, 1);
    assert_true(v[1] == 448.0f);
    float w[1] = {0.3f};
    ld_round_to(LD_TARGET_INT8, w, 1);
    assert_true(w[0] == 0.3f);
    ld_round_to(LD_TARGET_FP32, w, 1);
    assert_true(w[0] == 0.3f);
    assert_true(ld_format_ulp(LD_TARGET_INT8, 1000.0) == 1.0);
}

/* The report schema's target enum lists exactly the format table's names (tests run from the
 * repository root). */
static void test_schema_lists_targets(void **st) {
    (void)st;
    uint8_t *buf;
    size_t len;
    assert_int_equal(ld_file_read("schemas/layerdiff.report-1.schema.json", &buf, &len), LD_OK);
    const char *defs = strstr((const char *)buf, "\"$defs\"");
    assert_non_null(defs);
    const char *enm = strstr(strstr(defs, "\"target\""), "\"enum\"");
    assert_non_null(enm);
    const char *end = strchr(enm, ']');
    assert_non_null(end);
    int quoted = 0;
    for (const char *q = strchr(enm + 6, '"'); q && q < end; q = strchr(strchr(q + 1, '"') + 1, '"')) quoted++;
    assert_int_equal(quoted, LD_TARGET_COUNT);
    for (int i = 0; i < LD_TARGET_COUNT; i++) {
        char want[64];
        snprintf(want, sizeof want, "\"%s\"", ld_target_format((ld_target)i)->name);
        const char *hit = strstr(enm, want);
        if (!hit || hit > end) fail_msg("the schema's target enum lacks %s", want);
    }
    free(buf);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_every_traits_op_exists),
        cmocka_unit_test(test_traits_flags_consistent),
        cmocka_unit_test(test_traits_lookup),
        cmocka_unit_test(test_flops),
        cmocka_unit_test(test_plan_sets_traits),
        cmocka_unit_test(test_format_rows_complete),
        cmocka_unit_test(test_format_facts),
        cmocka_unit_test(test_schema_lists_targets),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
