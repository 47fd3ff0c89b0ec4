/*
** op_table.c — the op table: every kernel family's definitions, and kernel lookup by
** (domain, op_type, opset): the entry with the highest since_version not above the opset.
*/
#include "ld_op.h"

#include <pthread.h>
#include <stdlib.h>
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

static const char *norm_domain(const char *d) { return !d || !strcmp(d, "ai.onnx") ? "" : d; }

static int def_cmp(const ld_op_def *d, const char *domain, const char *name) {
    int c = strcmp(norm_domain(d->domain), domain);
    return c ? c : strcmp(d->name, name);
}

/* All defs sorted by (domain, name), built once: lookups are a binary search instead of a
 * scan of every family for every node of a model. */
static const ld_op_def **sorted;
static int nsorted;
static pthread_once_t sorted_once = PTHREAD_ONCE_INIT;

static int sort_cmp(const void *a, const void *b) {
    const ld_op_def *x = *(const ld_op_def *const *)a, *y = *(const ld_op_def *const *)b;
    int c = def_cmp(x, norm_domain(y->domain), y->name);
    return c ? c : (x->since > y->since) - (x->since < y->since);
}

static void build_sorted(void) {
    int n = 0;
    for (size_t f = 0; f < LD_ARRAY_LEN(families); f++)
        for (const ld_op_def *d = families[f]; d->name; d++) n++;
    sorted = malloc(sizeof *sorted * (n + 1));
    if (!sorted) return;   /* lookups then fall back to scanning */
    for (size_t f = 0; f < LD_ARRAY_LEN(families); f++)
        for (const ld_op_def *d = families[f]; d->name; d++) sorted[nsorted++] = d;
    qsort(sorted, nsorted, sizeof *sorted, sort_cmp);
}

/* Index of the first def of (domain, name) in sorted[], or -1. */
static int first_def(const char *domain, const char *name) {
    pthread_once(&sorted_once, build_sorted);
    if (!sorted) return -1;
    int lo = 0, hi = nsorted;
    while (lo < hi) {
        int mid = lo + (hi - lo) / 2;
        if (def_cmp(sorted[mid], domain, name) < 0) lo = mid + 1;
        else hi = mid;
    }
    return lo < nsorted && !def_cmp(sorted[lo], domain, name) ? lo : -1;
}

const ld_op_def *ld_op_find(const char *domain, const char *name, int64_t opset) {
    domain = norm_domain(domain);
    const ld_op_def *best = NULL;
    int i = first_def(domain, name);
    if (i < 0 && sorted) return NULL;
    if (i >= 0) {
        for (; i < nsorted && !def_cmp(sorted[i], domain, name); i++)
            if (sorted[i]->since <= opset && (!best || sorted[i]->since > best->since)) best = sorted[i];
        return best;
    }
    for (size_t f = 0; f < LD_ARRAY_LEN(families); f++)   /* no index (out of memory) */
        for (const ld_op_def *d = families[f]; d->name; d++)
            if (!def_cmp(d, domain, name) && d->since <= opset && (!best || d->since > best->since)) best = d;
    return best;
}

bool ld_op_known(const char *domain, const char *name) {
    domain = norm_domain(domain);
    if (first_def(domain, name) >= 0) return true;
    if (sorted) return false;
    for (size_t f = 0; f < LD_ARRAY_LEN(families); f++)
        for (const ld_op_def *d = families[f]; d->name; d++)
            if (!def_cmp(d, domain, name)) return true;
    return false;
}
