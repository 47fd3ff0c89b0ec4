/*
** fuzz_model.h — for the model harnesses (fuzz_model_load.c, fuzz_model_run.c): recognise the
** models that hit one of the already-known findings of issue 12 (tests/fuzz/known.txt), which
** are fixed on another branch, so a campaign on this branch keeps looking for new ones
** instead of stopping at the same crash again and again. Set FUZZ_NO_KNOWN_FILTER=1 to fuzz
** without the filter (once those fixes are merged the filter should go). New findings in code
** this branch does not own (tests/fuzz/findings.md) are filtered the same way until fixed.
**
** The filter reads the ModelProto with the same generated protobuf-c code the loader uses
** and walks every graph, subgraphs included. (Item 5, the external-data FIFO, needs a FIFO
** next to the model; the harnesses' private folders hold none.)
*/
#ifndef FUZZ_MODEL_H
#define FUZZ_MODEL_H

#include "fuzz_util.h"
#include "onnx.pb-c.h"
#include "op_arity.h"

static inline int64_t fuzz_opset(const Onnx__ModelProto *m, const char *domain) {
    for (size_t i = 0; i < m->n_opset_import; i++) {
        const char *d = m->opset_import[i]->domain ? m->opset_import[i]->domain : "";
        if (!strcmp(d, "ai.onnx")) d = "";
        if (!strcmp(d, domain)) return m->opset_import[i]->version;
    }
    return 0;
}

/* Known item 2: a required input that is missing or ''. */
static inline bool fuzz_missing_required(const Onnx__ModelProto *m, const Onnx__NodeProto *n) {
    const char *dom = n->domain && strcmp(n->domain, "ai.onnx") ? n->domain : "";
    int64_t ver = fuzz_opset(m, dom);
    const ld_op_arity *best = NULL;
    for (int i = 0; i < ld_op_arity_count; i++) {
        const ld_op_arity *a = &ld_op_arity_table[i];
        if (strcmp(a->domain, dom) || !n->op_type || strcmp(a->name, n->op_type)) continue;
        if (!best || (a->since <= ver && a->since > best->since) || (best->since > ver && a->since < best->since))
            best = a;
    }
    for (size_t i = 0; i < n->n_input; i++)
        if ((!n->input[i] || !n->input[i][0]) && (!best || i >= 32 || !(best->optional >> i & 1))) return true;
    /* Ops newer than the table (Mish-18, Gelu-20, RMSNormalization-23...): those without an
     * input at all are the same class (every such op needs one). */
    if (!best) {
        static const struct { const char *op; int min_in; } newer[] = {
            {"BitwiseAnd", 2}, {"BitwiseOr", 2}, {"BitwiseXor", 2}, {"BitwiseNot", 1}, {"Gelu", 1},
            {"Mish", 1}, {"RMSNormalization", 2}, {"GroupNormalization", 3}, {"CenterCropPad", 2},
            {"Col2Im", 3}, {"AffineGrid", 2}, {"ImageDecoder", 1}, {"RegexFullMatch", 1},
            {"StringConcat", 2}, {"StringSplit", 1}, {"DFT", 1}, {"RotaryEmbedding", 3}, {"Attention", 3},
        };
        for (size_t i = 0; i < sizeof newer / sizeof *newer; i++)
            if (n->op_type && !strcmp(n->op_type, newer[i].op)) return (int)n->n_input < newer[i].min_in;
        return n->n_input == 0;
    }
    return (int)n->n_input < best->min_in;
}

/* Known item 4: an INT64_MIN anywhere in a tensor (Slice steps). */
static inline bool fuzz_tensor_has_i64min(const Onnx__TensorProto *t) {
    if (!t) return false;
    for (size_t i = 0; i < t->n_int64_data; i++) if (t->int64_data[i] == INT64_MIN) return true;
    static const uint8_t pat[8] = {0, 0, 0, 0, 0, 0, 0, 0x80};
    for (size_t i = 0; t->has_raw_data && i + 8 <= t->raw_data.len; i++)
        if (!memcmp(t->raw_data.data + i, pat, 8)) return true;
    return false;
}

static inline bool fuzz_graph_known(const Onnx__ModelProto *m, const Onnx__GraphProto *g, int depth);

static inline bool fuzz_attr_known(const Onnx__ModelProto *m, const Onnx__AttributeProto *a, int depth) {
    if (fuzz_tensor_has_i64min(a->t)) return true;
    for (size_t i = 0; i < a->n_tensors; i++) if (fuzz_tensor_has_i64min(a->tensors[i])) return true;
    for (size_t i = 0; i < a->n_ints; i++) if (a->ints[i] == INT64_MIN) return true;
    if (a->has_i && a->i == INT64_MIN) return true;
    if (a->g && fuzz_graph_known(m, a->g, depth + 1)) return true;
    for (size_t i = 0; i < a->n_graphs; i++) if (fuzz_graph_known(m, a->graphs[i], depth + 1)) return true;
    return false;
}

static inline bool fuzz_graph_known(const Onnx__ModelProto *m, const Onnx__GraphProto *g, int depth) {
    if (!g) return false;
    if (depth > 64) return true;                                  /* nesting depth: item "recursion" */
    if (g->n_node > 2000) return true;                            /* quadratic plan under ASan */
    for (size_t i = 0; i < g->n_initializer; i++) {
        const Onnx__TensorProto *t = g->initializer[i];
        if (fuzz_tensor_has_i64min(t)) return true;                          /* item 4 */
    }
    for (size_t i = 0; i < g->n_node; i++) {
        const Onnx__NodeProto *n = g->node[i];
        const char *op = n->op_type ? n->op_type : "";
        if (!strcmp(op, "SplitToSequence")) return true;                     /* item 1 */
        if (!strcmp(op, "Loop")) return true;                                /* item 6 */
        if (!strcmp(op, "RoiAlign")) return true;                            /* findings.md #2 */
        if (strstr(op, "Normalization")) return true;                        /* findings.md #3-#5 */
        if (fuzz_missing_required(m, n)) return true;                        /* item 2 */
        for (size_t k = 0; k < n->n_attribute; k++)
            if (fuzz_attr_known(m, n->attribute[k], depth)) return true;
    }
    return false;
}

/* True when the model would only reproduce a known finding. */
static inline bool fuzz_model_known(const uint8_t *data, size_t size) {
    const char *off = getenv("FUZZ_NO_KNOWN_FILTER");
    if (off && *off && strcmp(off, "0")) return false;
    Onnx__ModelProto *m = onnx__model_proto__unpack(NULL, size, data);
    if (!m) return false;
    bool known = fuzz_graph_known(m, m->graph, 0);
    onnx__model_proto__free_unpacked(m, NULL);
    return known;
}

#endif
