/*
** compare_state.h — private to the comparison pass (compare.c) and its re-runs
** (incremental.c): the run state of one sample and the steps over it. Values, buffers and
** lifetimes belong to the two executors (ld_exec.h); this state adds the storage format of
** each target value and the target copies of float constants.
*/
#ifndef LD_COMPARE_STATE_H
#define LD_COMPARE_STATE_H

#include "ld_compare.h"

typedef struct cmp_state {
    ld_compare *c;
    ld_exec rx, tx;          /* reference and target values (main graph) */
    ld_target *fmt;          /* format the target value of each value id is stored in */
    ld_tensor **cconst;      /* target (storage-format) copies of float constants */
    ld_tensor **qiso;        /* QDQ: per quantizer output value, the quantized reference (the
                                isolated input of its consumers) until the reference drops it */
} cmp_state;

/* Open the state of one sample: both executors with the sample's inputs bound; keep-all per
 * c->opts.keep_ref / keep_tgt. cmp_state_free releases it (also a half-open one). */
ld_status cmp_state_open(ld_compare *c, const ld_feed *in, cmp_state **out);
void cmp_state_free(cmp_state *s);
/* Full side-by-side pass over the sample, measuring into s->c; the state stays open. */
ld_status cmp_state_run(cmp_state *s);
/* Node i on both sides (reference, isolated, propagated target), measured; then the last-use
 * freeing of both executors. */
ld_status cmp_run_node(cmp_state *s, int i);
/* Node i on the target side only (on the kept target values, with the current pins). */
ld_status cmp_run_target_node(cmp_state *s, int i);
/* st prefixed with the node's name and op. */
ld_status cmp_node_error(ld_status st, const ld_node *n);
/* Append the rows of a 2-D float tensor to *acc (the first model output of every sample). */
ld_status cmp_append_rows(ld_tensor **acc, const ld_tensor *t);

/* Measure ref/iso/tgt of one output into r (compare.c). */
void cmp_measure(ld_compare *c, ld_tensor_result *r, const ld_tensor *ref, const ld_tensor *iso,
                 const ld_tensor *tgt, ld_target store, const ld_sat *sat_iso, const ld_sat *sat_prop);

/* ---- QDQ models (compare_qdq.c) ---- */
/* The DequantizeLinear of a quantizer on both sides: reference = its float input (the pair is
 * an identity; a weight too big to fold at load: its float original, if known), isolated =
 * DQ(Q(reference)), target = as written (the float value when the quantizer is pinned off);
 * quantizer statistics measured. */
ld_status cmp_qdq_node(cmp_state *s, int i, int pair);
ld_status cmp_qdq_target_node(cmp_state *s, int i, int pair);
/* Isolated inputs of node i: quantizer outputs replaced by their quantized reference. */
void cmp_qdq_iso_inputs(cmp_state *s, int i, ld_tensor **iin);
/* Target value of constant v: a disabled (pinned) weight quantizer's float original. */
void cmp_qdq_const(cmp_state *s, int v, ld_tensor **use);
/* At state open: the reference side reads the float originals of quantized weights. */
void cmp_qdq_open(cmp_state *s);
/* After node i: drop quantized references the reference side no longer holds. */
void cmp_qdq_release(cmp_state *s, int i);
/* The first divergent nodes' reasons in their quantizers' terms (compare_result.c). */
void cmp_qdq_reasons(ld_compare *c);

#endif
