/*
** op_table.c — the op table: every kernel family's definitions, and kernel lookup by
** (domain, op_type, opset): the entry with the highest since_version not above the opset.
*/
#include "ld_op.h"

#include <string.h>

#define LD_FAMILIES(X) \
    X(core) X(unary) X(binary) X(shape) X(index) X(nn) X(pool) X(norm) X(attn) X(reduce) \
    X(quant) X(quant_nbits) X(rnn) X(loss) X(control) X(seq) X(misc) X(grad)

#define X(f) extern const ld_op_def ld_ops_##f[];
LD_FAMILIES(X)
#undef X

static const ld_op_def *const families[] = {
#define X(f) ld_ops_##f,
    LD_FAMILIES(X)
#undef X
};

const ld_op_def *const *ld_op_families(int *count) {
    *count = (int)LD_ARRAY_LEN(families);
    return families;
}

static bool same_domain(const char *a, const char *b) {
    if (!a || !strcmp(a, "ai.onnx")) a = "";
    if (!b || !strcmp(b, "ai.onnx")) b = "";
    return strcmp(a, b) == 0;
}

const ld_op_def *ld_op_find(const char *domain, const char *name, int64_t opset) {
    const ld_op_def *best = NULL;
    for (size_t f = 0; f < LD_ARRAY_LEN(families); f++) {
        for (const ld_op_def *d = families[f]; d->name; d++) {
            if (strcmp(d->name, name) || !same_domain(d->domain, domain)) continue;
            if (d->since > opset) continue;
            if (!best || d->since > best->since) best = d;
        }
    }
    return best;
}

bool ld_op_known(const char *domain, const char *name) {
    for (size_t f = 0; f < LD_ARRAY_LEN(families); f++)
        for (const ld_op_def *d = families[f]; d->name; d++)
            if (!strcmp(d->name, name) && same_domain(d->domain, domain)) return true;
    return false;
}
