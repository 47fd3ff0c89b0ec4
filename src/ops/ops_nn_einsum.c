/*
** ops_nn_einsum.c — Einsum: equation parsing (explicit and implicit output, ellipsis with
** broadcasting, repeated labels = diagonals), a generic strided loop that evaluates any
** equation, and for float32 a fast path contracting operands pairwise with batched sgemm
** (batch labels x kept labels x contracted labels), e.g. "bij,bjk->bik" is one sgemm batch.
*/
#include "ops_nn.h"

#include <stdlib.h>
#include <string.h>

#define ES_LETTERS 52                       /* A-Z -> 0..25, a-z -> 26..51 (ASCII order) */
#define ES_MAXL (ES_LETTERS + LD_MAX_DIMS)  /* plus one label per ellipsis dim */
#define ES_MAXOPS 64

/* An operand or intermediate: dims labelled (labels may repeat in inputs). */
typedef struct es_op {
    const float *data;
    float *owned;          /* data allocated here (intermediates), else NULL */
    int nd;
    int lab[ES_MAXL];
    int64_t dim[ES_MAXL];
} es_op;

typedef struct es_plan {
    int nops;
    int nlab[ES_MAXOPS];            /* labels per input term (ellipsis expanded) */
    int lab[ES_MAXOPS][LD_MAX_DIMS];
    int nout;
    int out[LD_MAX_DIMS];
    int64_t size[ES_MAXL];          /* size of every label (max over operands; 1 broadcasts) */
    bool used[ES_MAXL];
} es_plan;

static int es_letter(char ch) {
    if (ch >= 'A' && ch <= 'Z') return ch - 'A';
    if (ch >= 'a' && ch <= 'z') return 26 + ch - 'a';
    return -1;
}

/* Parse one term (spaces removed) into labels; ellipsis dims get labels filled in later
 * (marked -1 - position). Returns the number of letters and whether it has an ellipsis. */
static ld_status es_parse_term(const char *s, size_t len, int *lab, int *nletters, int *ell_at) {
    int n = 0;
    *ell_at = -1;
    for (size_t i = 0; i < len; i++) {
        if (s[i] == '.') {
            if (i + 2 >= len || s[i + 1] != '.' || s[i + 2] != '.' || *ell_at >= 0)
                return ld_error(LD_ERR_DATA, "Einsum: bad ellipsis in equation");
            *ell_at = n;
            i += 2;
            continue;
        }
        int l = es_letter(s[i]);
        if (l < 0) return ld_error(LD_ERR_DATA, "Einsum: invalid character '%c' in equation", s[i]);
        if (n >= LD_MAX_DIMS) return ld_error(LD_ERR_DATA, "Einsum: term has too many labels");
        lab[n++] = l;
    }
    *nletters = n;
    return LD_OK;
}

/* Expand a term's ellipsis into labels ES_LETTERS + (ell_rank - er) + t. */
static ld_status es_expand(const int *letters, int nl, int ell_at, int er, int ell_rank, int *lab,
                           int *nlab) {
    int n = 0;
    if (nl + er > LD_MAX_DIMS) return ld_error(LD_ERR_DATA, "Einsum: term rank too large");
    for (int i = 0; i <= nl; i++) {
        if (i == ell_at)
            for (int t = 0; t < er; t++) lab[n++] = ES_LETTERS + (ell_rank - er) + t;
        if (i < nl) lab[n++] = letters[i];
    }
    *nlab = n;
    return LD_OK;
}

static ld_status es_parse(ld_kctx *k, es_plan *p) {
    const char *eq0 = ld_attr_str(k->node, "equation", NULL);
    if (!eq0) return ld_error(LD_ERR_DATA, "Einsum needs an equation attribute");
    char eq[1024];
    size_t n = 0;
    for (const char *c = eq0; *c; c++) {
        if (*c == ' ' || *c == '\t') continue;
        if (n + 1 >= sizeof eq) return ld_error(LD_ERR_DATA, "Einsum: equation too long");
        eq[n++] = *c;
    }
    eq[n] = 0;
    memset(p, 0, sizeof *p);
    p->nops = k->nin;
    if (p->nops < 1 || p->nops > ES_MAXOPS) return ld_error(LD_ERR_DATA, "Einsum: bad input count");
    char *arrow = strstr(eq, "->");
    size_t lhs_len = arrow ? (size_t)(arrow - eq) : n;
    int letters[ES_MAXOPS][LD_MAX_DIMS], nl[ES_MAXOPS], ell[ES_MAXOPS], ell_rank = 0;
    size_t start = 0;
    for (int i = 0; i < p->nops; i++) {
        size_t end = start;
        while (end < lhs_len && eq[end] != ',') end++;
        if (i < p->nops - 1 ? end >= lhs_len : end != lhs_len)
            return ld_error(LD_ERR_DATA, "Einsum: equation '%s' does not have %d input terms", eq0,
                            p->nops);
        LD_TRY(es_parse_term(eq + start, end - start, letters[i], &nl[i], &ell[i]));
        const ld_tensor *t = k->in[i];
        if (!t || t->kind != LD_KIND_TENSOR) return ld_error(LD_ERR_DATA, "Einsum: missing input %d", i);
        if (ell[i] < 0 ? t->ndim != nl[i] : t->ndim < nl[i])
            return ld_error(LD_ERR_DATA, "Einsum: input %d has rank %d, term has %d labels", i,
                            t->ndim, nl[i]);
        if (ell[i] >= 0) ell_rank = LD_MAX(ell_rank, t->ndim - nl[i]);
        start = end + 1;
    }
    int count[ES_MAXL] = {0};
    for (int i = 0; i < p->nops; i++) {
        const ld_tensor *t = k->in[i];
        LD_TRY(es_expand(letters[i], nl[i], ell[i], ell[i] >= 0 ? t->ndim - nl[i] : 0, ell_rank,
                         p->lab[i], &p->nlab[i]));
        for (int d = 0; d < p->nlab[i]; d++) {
            int l = p->lab[i][d];
            int64_t sz = t->dims[d];
            if (p->used[l] && sz != p->size[l] && sz != 1 && p->size[l] != 1)
                return ld_error(LD_ERR_DATA, "Einsum: label '%c' has sizes %lld and %lld",
                                l < 26 ? 'A' + l : l < 52 ? 'a' + l - 26 : '.',
                                (long long)p->size[l], (long long)sz);
            p->size[l] = p->used[l] ? LD_MAX(p->size[l], sz) : sz;
            if (p->used[l] && (sz == 0 || p->size[l] == 0)) p->size[l] = 0;
            p->used[l] = true;
            count[l]++;
        }
    }
    if (arrow) {
        int ol[LD_MAX_DIMS], onl, oell;
        LD_TRY(es_parse_term(arrow + 2, strlen(arrow + 2), ol, &onl, &oell));
        LD_TRY(es_expand(ol, onl, oell, oell >= 0 ? ell_rank : 0, ell_rank, p->out, &p->nout));
        bool seen[ES_MAXL] = {false};
        for (int d = 0; d < p->nout; d++) {
            int l = p->out[d];
            if (!p->used[l] || seen[l])
                return ld_error(LD_ERR_DATA,
                                "Einsum: output label %d of '%s' is repeated or not in any input",
                                d, eq0);
            seen[l] = true;
        }
    } else {   /* implicit: ellipsis dims, then letters used once, in ASCII order */
        for (int t = 0; t < ell_rank; t++) p->out[p->nout++] = ES_LETTERS + t;
        for (int l = 0; l < ES_LETTERS; l++)
            if (count[l] == 1) {
                if (p->nout >= LD_MAX_DIMS)
                    return ld_error(LD_ERR_DATA, "Einsum: output rank too large");
                p->out[p->nout++] = l;
            }
    }
    return LD_OK;
}

ld_status ld_nn_einsum_shape(ld_kctx *k) {
    LD_TRY(ld_check_dtype(k, 0, LD_DT(LD_F32) | LD_DT_INTS));
    for (int i = 1; i < k->nin; i++)
        if (k->in[i] && k->in[i]->dtype != k->in[0]->dtype)
            return ld_error(LD_ERR_DATA, "Einsum: inputs have different dtypes");
    es_plan p;
    LD_TRY(es_parse(k, &p));
    int64_t dims[LD_MAX_DIMS];
    for (int d = 0; d < p.nout; d++) dims[d] = p.size[p.out[d]];
    return ld_tensor_set_shape(k->out[0], k->in[0]->dtype, p.nout, dims);
}

/* ---- generic loop: out[labels of out] += prod_k op_k[...] over all labels ---- */

typedef struct es_loop {
    int nl;                          /* labels iterated */
    int64_t size[ES_MAXL];
    int64_t st[ES_MAXOPS + 1][ES_MAXL];   /* per operand (last: output) stride per label */
} es_loop;

/* Strides of op per label slot (slot[label] = index in the loop, -1 if not iterated). */
static void es_loop_strides(const es_op *op, const int *slot, const int64_t *lsize, int64_t *st) {
    int64_t s = 1;
    for (int d = op->nd - 1; d >= 0; d--) {
        int l = op->lab[d];
        if (op->dim[d] != 1 || lsize[l] == 1) st[slot[l]] += s;
        s *= op->dim[d];
    }
}

static void es_loop_init(es_loop *lp, const es_op *ops, int nops, const es_op *out,
                         const int64_t *lsize) {
    int slot[ES_MAXL];
    memset(lp, 0, sizeof *lp);
    for (int l = 0; l < ES_MAXL; l++) slot[l] = -1;
    /* output labels outermost (in output order), summed labels innermost */
    for (int d = 0; d < out->nd; d++) slot[out->lab[d]] = lp->nl++;
    for (int i = 0; i < nops; i++)
        for (int d = 0; d < ops[i].nd; d++)
            if (slot[ops[i].lab[d]] < 0) slot[ops[i].lab[d]] = lp->nl++;
    for (int l = 0; l < ES_MAXL; l++)
        if (slot[l] >= 0) lp->size[slot[l]] = lsize[l];
    for (int i = 0; i < nops; i++) es_loop_strides(&ops[i], slot, lsize, lp->st[i]);
    es_loop_strides(out, slot, lsize, lp->st[nops]);
}

#define ES_GENERIC_LOOP(T, ptrs, outp)                                                        \
    do {                                                                                      \
        int64_t total = 1, idx[ES_MAXL] = {0}, off[ES_MAXOPS + 1] = {0};                      \
        for (int d = 0; d < lp->nl; d++) total *= lp->size[d];                                \
        for (int64_t t = 0; t < total; t++) {                                                 \
            T v = ptrs[0][off[0]];                                                            \
            for (int i = 1; i < nops; i++) v *= ptrs[i][off[i]];                              \
            outp[off[nops]] += v;                                                             \
            for (int d = lp->nl - 1; d >= 0; d--) {                                           \
                for (int i = 0; i <= nops; i++) off[i] += lp->st[i][d];                       \
                if (++idx[d] < lp->size[d]) break;                                            \
                for (int i = 0; i <= nops; i++) off[i] -= lp->st[i][d] * lp->size[d];         \
                idx[d] = 0;                                                                   \
            }                                                                                 \
        }                                                                                     \
    } while (0)

/* out (zeroed, unique labels) += contraction of ops, float32. */
static void es_generic_f32(const es_op *ops, int nops, es_op *out, const int64_t *lsize) {
    es_loop lpv, *lp = &lpv;
    es_loop_init(lp, ops, nops, out, lsize);
    const float *ptrs[ES_MAXOPS];
    for (int i = 0; i < nops; i++) ptrs[i] = ops[i].data;
    float *o = out->owned;
    ES_GENERIC_LOOP(float, ptrs, o);
}

/* Same over int64 copies of the inputs. */
static void es_generic_i64(const es_op *ops, const int64_t **ptrs, int nops, es_op *out,
                           int64_t *o, const int64_t *lsize) {
    es_loop lpv, *lp = &lpv;
    es_loop_init(lp, ops, nops, out, lsize);
    ES_GENERIC_LOOP(int64_t, ptrs, o);
}

/* ---- float32 pairwise contraction ---- */

static ld_status es_alloc(es_op *op, int nd, const int *lab, const int64_t *lsize) {
    op->nd = nd;
    int64_t n = 1;
    for (int d = 0; d < nd; d++) {
        op->lab[d] = lab[d];
        op->dim[d] = lsize[lab[d]];
        n *= op->dim[d];
    }
    op->owned = calloc(n ? n : 1, sizeof(float));
    op->data = op->owned;
    return op->owned ? LD_OK : ld_error(LD_ERR_NOMEM, "Einsum: out of memory");
}

static void es_free(es_op *op) {
    free(op->owned);
    op->owned = NULL;
    op->data = NULL;
}

static bool es_has(const es_op *op, int l) {
    for (int d = 0; d < op->nd; d++)
        if (op->lab[d] == l) return true;
    return false;
}

/* Whether op's dims are labels list[0..n) in order, each at its full size, no repeats. */
static bool es_is_layout(const es_op *op, const int *list, int n, const int64_t *lsize) {
    if (op->nd != n) return false;
    for (int d = 0; d < n; d++)
        if (op->lab[d] != list[d] || op->dim[d] != lsize[list[d]]) return false;
    return true;
}

/* Make *op a contiguous tensor with labels list (a transpose / diagonal / sum as needed). */
static ld_status es_to_layout(es_op *op, const int *list, int n, const int64_t *lsize) {
    if (es_is_layout(op, list, n, lsize)) return LD_OK;
    es_op r = {0};
    LD_TRY(es_alloc(&r, n, list, lsize));
    es_generic_f32(op, 1, &r, lsize);
    es_free(op);
    *op = r;
    return LD_OK;
}

static void es_concat(int *dst, int *n, const int *src, int ns) {
    for (int i = 0; i < ns; i++) dst[(*n)++] = src[i];
}

/* *a <- contraction of *a and *b keeping only labels in keep[] (b is consumed). */
static ld_status es_pair(es_op *a, es_op *b, const bool *keep, const int64_t *lsize) {
    int bat[ES_MAXL], am[ES_MAXL], con[ES_MAXL], bn[ES_MAXL];
    int nbat = 0, nam = 0, ncon = 0, nbn = 0;
    bool seen[ES_MAXL] = {false};
    for (int d = 0; d < a->nd; d++) {
        int l = a->lab[d];
        if (seen[l]) continue;
        seen[l] = true;
        bool inb = es_has(b, l);
        if (inb && keep[l]) bat[nbat++] = l;
        else if (inb) con[ncon++] = l;
        else if (keep[l]) am[nam++] = l;     /* labels only in a and not kept: summed away */
    }
    for (int d = 0; d < b->nd; d++) {
        int l = b->lab[d];
        if (!seen[l] && keep[l]) { bn[nbn++] = l; seen[l] = true; }
    }
    /* A as (bat, am, con) or (bat, con, am); B as (bat, con, bn) or (bat, bn, con) */
    int la1[ES_MAXL], la2[ES_MAXL], lb1[ES_MAXL], lb2[ES_MAXL], n1 = 0, n2 = 0, n3 = 0, n4 = 0;
    es_concat(la1, &n1, bat, nbat); es_concat(la1, &n1, am, nam); es_concat(la1, &n1, con, ncon);
    es_concat(la2, &n2, bat, nbat); es_concat(la2, &n2, con, ncon); es_concat(la2, &n2, am, nam);
    es_concat(lb1, &n3, bat, nbat); es_concat(lb1, &n3, con, ncon); es_concat(lb1, &n3, bn, nbn);
    es_concat(lb2, &n4, bat, nbat); es_concat(lb2, &n4, bn, nbn); es_concat(lb2, &n4, con, ncon);
    bool ta = !es_is_layout(a, la1, n1, lsize) && es_is_layout(a, la2, n2, lsize);
    bool tb = !es_is_layout(b, lb1, n3, lsize) && es_is_layout(b, lb2, n4, lsize);
    if (!ta) LD_TRY(es_to_layout(a, la1, n1, lsize));
    if (!tb) LD_TRY(es_to_layout(b, lb1, n3, lsize));
    int64_t nb = 1, m = 1, n = 1, kk = 1;
    for (int i = 0; i < nbat; i++) nb *= lsize[bat[i]];
    for (int i = 0; i < nam; i++) m *= lsize[am[i]];
    for (int i = 0; i < nbn; i++) n *= lsize[bn[i]];
    for (int i = 0; i < ncon; i++) kk *= lsize[con[i]];
    if (m > INT32_MAX || n > INT32_MAX || kk > INT32_MAX)
        return ld_error(LD_ERR_UNSUPPORTED, "Einsum: contraction too large");
    int lr[ES_MAXL], nr = 0;
    es_concat(lr, &nr, bat, nbat); es_concat(lr, &nr, am, nam); es_concat(lr, &nr, bn, nbn);
    es_op r = {0};
    LD_TRY(es_alloc(&r, nr, lr, lsize));
    ld_nn_sgemm_batch(ta, tb, m, n, kk, 1.0f, a->data, m * kk, b->data, kk * n, 0.0f, r.owned,
                      m * n, nb);
    es_free(a);
    es_free(b);
    *a = r;
    return LD_OK;
}

static void es_from_input(es_op *op, const ld_tensor *t, const int *lab, int nlab) {
    memset(op, 0, sizeof *op);
    op->data = t->data;
    op->nd = nlab;
    for (int d = 0; d < nlab; d++) {
        op->lab[d] = lab[d];
        op->dim[d] = t->dims[d];
    }
}

static ld_status es_compute_f32(ld_kctx *k, const es_plan *p) {
    es_op out = {0};
    out.nd = p->nout;
    for (int d = 0; d < p->nout; d++) {
        out.lab[d] = p->out[d];
        out.dim[d] = p->size[p->out[d]];
    }
    out.owned = LD_F32P(k->out[0]);
    es_op cur;
    es_from_input(&cur, k->in[0], p->lab[0], p->nlab[0]);
    ld_status st = LD_OK;
    for (int i = 1; i < p->nops && st == LD_OK; i++) {
        bool keep[ES_MAXL] = {false};   /* labels needed by the output or later operands */
        for (int d = 0; d < p->nout; d++) keep[p->out[d]] = true;
        for (int j = i + 1; j < p->nops; j++)
            for (int d = 0; d < p->nlab[j]; d++) keep[p->lab[j][d]] = true;
        es_op b;
        es_from_input(&b, k->in[i], p->lab[i], p->nlab[i]);
        st = es_pair(&cur, &b, keep, p->size);
        if (st != LD_OK) es_free(&b);
    }
    if (st == LD_OK && es_is_layout(&cur, out.lab, out.nd, p->size))
        memcpy(out.owned, cur.data, sizeof(float) * k->out[0]->numel);
    else if (st == LD_OK)
        es_generic_f32(&cur, 1, &out, p->size);   /* final order / sums */
    es_free(&cur);
    return st;
}

/* Integer dtypes: everything in int64 through the generic loop. */
static ld_status es_compute_int(ld_kctx *k, const es_plan *p) {
    ld_tensor tmp[ES_MAXOPS], acc = {0};
    es_op ops[ES_MAXOPS], out = {0};
    const int64_t *ptrs[ES_MAXOPS];
    memset(tmp, 0, sizeof tmp);
    ld_status st = ld_tensor_convert(&acc, k->out[0], LD_I64);
    for (int i = 0; i < p->nops && st == LD_OK; i++) {
        st = ld_tensor_convert(&tmp[i], k->in[i], LD_I64);
        es_from_input(&ops[i], k->in[i], p->lab[i], p->nlab[i]);
        ptrs[i] = tmp[i].data;
    }
    if (st == LD_OK) {
        out.nd = p->nout;
        for (int d = 0; d < p->nout; d++) {
            out.lab[d] = p->out[d];
            out.dim[d] = p->size[p->out[d]];
        }
        es_generic_i64(ops, ptrs, p->nops, &out, acc.data, p->size);
        st = ld_tensor_convert(k->out[0], &acc, k->out[0]->dtype);
    }
    for (int i = 0; i < p->nops; i++) ld_tensor_clear(&tmp[i]);
    ld_tensor_clear(&acc);
    return st;
}

ld_status ld_nn_einsum_compute(ld_kctx *k) {
    es_plan p;
    LD_TRY(es_parse(k, &p));
    if (k->out[0]->numel == 0) return LD_OK;
    if (k->in[0]->dtype == LD_F32) return es_compute_f32(k, &p);
    return es_compute_int(k, &p);
}
