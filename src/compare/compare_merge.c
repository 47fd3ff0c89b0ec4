/*
** compare_merge.c — a comparison split by samples and put back together: the accumulators of
** one sample's comparison packed into bytes (to send them to another process), and merged
** into a running comparison as ld_compare_add_sample would have added the sample itself.
** The MPI front end (src/cli/main_mpi.c) runs each sample in its own ld_compare on some rank
** and merges them on rank 0 in sample order, so the report equals the single-process one.
**
** Why the merge is exact: ld_tstats_add adds one partial sum per sample; ld_err_add adds one
** partial per run of at most 262144 elements (one run per sample for tensors up to that
** size: larger ones differ in the last bits of their sums); counts and histograms are
** integers; maxima keep the earliest on ties, as the merge in sample order does. The value
** histograms take their range from the first sample: ld_compare_preset_ranges gives every
** later sample's comparison that range before it runs.
*/
#include "compare_state.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

typedef struct wbuf { uint8_t *p; size_t n, cap; bool oom; } wbuf;

static void put(wbuf *b, const void *src, size_t len) {
    if (b->oom) return;
    if (b->n + len > b->cap) {
        size_t cap = (b->cap + len) * 2;
        uint8_t *np = realloc(b->p, cap);
        if (!np) { b->oom = true; return; }
        b->p = np;
        b->cap = cap;
    }
    memcpy(b->p + b->n, src, len);
    b->n += len;
}

typedef struct rbuf { const uint8_t *p; size_t n, at; bool bad; } rbuf;

static void get(rbuf *b, void *dst, size_t len) {
    if (b->bad || b->at + len > b->n) { b->bad = true; memset(dst, 0, len); return; }
    memcpy(dst, b->p + b->at, len);
    b->at += len;
}

#define MAGIC 0x4c44434du   /* "LDCM" */

ld_status ld_compare_pack(const ld_compare *c, uint8_t **buf, size_t *len) {
    wbuf b = {0};
    uint32_t magic = MAGIC;
    put(&b, &magic, sizeof magic);
    put(&b, &c->nnodes, sizeof c->nnodes);
    put(&b, &c->samples, sizeof c->samples);
    put(&b, &c->seconds, sizeof c->seconds);
    for (int i = 0; i < c->nnodes; i++) {
        const ld_node_result *nr = &c->nodes[i];
        put(&b, &nr->nout, sizeof nr->nout);
        for (int k = 0; k < nr->nout; k++) {
            const ld_tensor_result *r = &nr->outs[k];
            put(&b, r, sizeof *r);   /* pointers in it are replaced on unpacking */
            if (r->iso.nch) put(&b, r->iso.ch_max, r->iso.nch * sizeof(float));
            if (r->prop.nch) put(&b, r->prop.ch_max, r->prop.nch * sizeof(float));
        }
    }
    for (int side = 0; side < 2; side++) {
        const ld_tensor *t = side ? c->tgt_out0 : c->ref_out0;
        int64_t dims[2] = {t ? t->dims[0] : -1, t ? t->dims[1] : 0};
        put(&b, dims, sizeof dims);
        if (t) put(&b, t->data, t->numel * sizeof(float));
    }
    if (b.oom) { free(b.p); return ld_oom(); }
    *buf = b.p;
    *len = b.n;
    return LD_OK;
}

static void tstats_merge(ld_tstats *t, const ld_tstats *o) {
    t->count += o->count;
    t->nan += o->nan;
    t->inf += o->inf;
    t->sum += o->sum;
    t->sumsq += o->sumsq;
    if (o->min < t->min) t->min = o->min;
    if (o->max > t->max) t->max = o->max;
    if (o->absmax > t->absmax) t->absmax = o->absmax;
    if (isnan(t->hlo) && !isnan(o->hlo)) { t->hlo = o->hlo; t->hhi = o->hhi; }
    if (t->no_hist || isnan(o->hlo)) return;
    /* preset from the first sample with finite values; a sample that fixed its own range
     * (the first had none) has bins that mean something else: no histogram then */
    if (t->hlo != o->hlo || t->hhi != o->hhi) { t->no_hist = true; return; }
    for (int i = 0; i < LD_VAL_BINS; i++) t->hist[i] += o->hist[i];
}

static void err_merge(ld_err *e, const ld_err *o, const float *o_ch) {
    if (o->max_abs > e->max_abs) { e->max_abs = o->max_abs; e->argmax_abs = o->argmax_abs; }
    if (o->max_rel > e->max_rel) e->max_rel = o->max_rel;
    if (o->max_ulp > e->max_ulp) e->max_ulp = o->max_ulp;
    e->sum_abs += o->sum_abs; e->sum_rel += o->sum_rel;
    e->sum_sq_err += o->sum_sq_err; e->sum_sq_ref += o->sum_sq_ref; e->sum_sq_tgt += o->sum_sq_tgt;
    e->sum_ref_tgt += o->sum_ref_tgt;
    e->new_nan += o->new_nan; e->new_inf += o->new_inf; e->overflow += o->overflow; e->underflow += o->underflow;
    e->subnormal += o->subnormal; e->elem_fail += o->elem_fail; e->zero_abs += o->zero_abs; e->zero_rel += o->zero_rel;
    e->saturated += o->saturated; e->sat_total += o->sat_total;
    if (o->sat_absmax > e->sat_absmax) e->sat_absmax = o->sat_absmax;
    for (int i = 0; i < LD_ERR_BINS + 2; i++) {
        e->hist_abs[i] += o->hist_abs[i]; e->hist_rel[i] += o->hist_rel[i];
        e->hist_abs2[i] += o->hist_abs2[i]; e->hist_rel2[i] += o->hist_rel2[i];
    }
    for (int c = 0; o_ch && c < e->nch && c < o->nch; c++)
        if (o_ch[c] > e->ch_max[c]) e->ch_max[c] = o_ch[c];
    e->count += o->count;
}

/* One tensor of one sample (o, its channel maxima in iso_ch/prop_ch) into r, as measure()
** in compare.c would have measured the sample into r. */
static void result_merge(ld_tensor_result *r, const ld_tensor_result *o, const float *iso_ch, const float *prop_ch) {
    if (!r->measured && !r->ref.count) {   /* layout of the first sample (unmeasured: the latest) */
        r->dtype = o->dtype;
        r->ndim = o->ndim;
        memcpy(r->dims, o->dims, sizeof r->dims);
        r->measured = o->measured;
        if (r->measured && !r->iso.count && !r->prop.count) {
            ld_err_free(&r->iso);
            ld_err_free(&r->prop);
            ld_err_init(&r->iso, o->iso.nch);
            ld_err_init(&r->prop, o->prop.nch);
        }
    }
    if (!r->measured || !o->measured) return;
    tstats_merge(&r->ref, &o->ref);
    tstats_merge(&r->tgt, &o->tgt);
    err_merge(&r->prop, &o->prop, o->prop.nch == r->prop.nch ? prop_ch : NULL);
    err_merge(&r->iso, &o->iso, o->iso.nch == r->iso.nch ? iso_ch : NULL);
}

/* Walk the packed results; merge only with apply (a first walk checks them whole, so a
** malformed buffer changes nothing). */
static ld_status walk(ld_compare *c, const uint8_t *buf, size_t len, bool apply) {
    rbuf b = {buf, len, 0, false};
    uint32_t magic;
    int nnodes;
    int64_t samples;
    double seconds;
    get(&b, &magic, sizeof magic);
    get(&b, &nnodes, sizeof nnodes);
    get(&b, &samples, sizeof samples);
    get(&b, &seconds, sizeof seconds);
    if (b.bad || magic != MAGIC || nnodes != c->nnodes)
        return ld_error(LD_ERR_DATA, "merging comparisons: the packed results do not belong to this model (%d nodes, %d expected)",
                        nnodes, c->nnodes);
    ld_tensor_result o;
    float *ch = NULL;
    for (int i = 0; i < c->nnodes && !b.bad; i++) {
        ld_node_result *nr = &c->nodes[i];
        int nout;
        get(&b, &nout, sizeof nout);
        if (nout != nr->nout) { b.bad = true; break; }
        for (int k = 0; k < nout && !b.bad; k++) {
            get(&b, &o, sizeof o);
            int ni = o.iso.nch, np = o.prop.nch;
            if (ni < 0 || np < 0 || ni > 65536 || np > 65536) { b.bad = true; break; }
            float *nc = realloc(ch, (size_t)(ni + np + 1) * sizeof(float));
            if (!nc) { free(ch); return ld_oom(); }
            ch = nc;
            get(&b, ch, (size_t)(ni + np) * sizeof(float));
            if (apply && !b.bad) result_merge(&nr->outs[k], &o, ch, ch + ni);
        }
    }
    free(ch);
    for (int side = 0; side < 2 && !b.bad; side++) {
        int64_t dims[2];
        get(&b, dims, sizeof dims);
        if (dims[0] < 0 || b.bad) continue;
        if (dims[1] < 0 || (dims[1] && (size_t)dims[0] > (len - b.at) / sizeof(float) / (size_t)dims[1])) { b.bad = true; break; }
        if (!apply) { b.at += (size_t)(dims[0] * dims[1]) * sizeof(float); continue; }
        ld_tensor t = {0};
        ld_status st = ld_tensor_alloc(&t, LD_F32, 2, dims);
        if (st != LD_OK) return st;
        get(&b, t.data, t.numel * sizeof(float));
        st = cmp_append_rows(side ? &c->tgt_out0 : &c->ref_out0, &t);
        ld_tensor_clear(&t);
        LD_TRY(st);
    }
    if (b.bad || b.at != len) return ld_error(LD_ERR_DATA, "merging comparisons: packed results truncated or malformed");
    if (apply) {
        c->samples += samples;
        c->seconds += seconds;
    }
    return LD_OK;
}

ld_status ld_compare_merge_packed(ld_compare *c, const uint8_t *buf, size_t len) {
    LD_TRY(walk(c, buf, len, false));
    return walk(c, buf, len, true);
}

void ld_compare_preset_ranges(ld_compare *c, const ld_compare *first) {
    assert(c->nnodes == first->nnodes);
    for (int i = 0; i < c->nnodes; i++)
        for (int k = 0; k < c->nodes[i].nout; k++) {
            ld_tensor_result *r = &c->nodes[i].outs[k];
            const ld_tensor_result *f = &first->nodes[i].outs[k];
            r->ref.hlo = f->ref.hlo; r->ref.hhi = f->ref.hhi;
            r->tgt.hlo = f->tgt.hlo; r->tgt.hhi = f->tgt.hhi;
        }
}
