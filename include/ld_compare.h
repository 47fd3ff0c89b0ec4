/*
** ld_compare.h — the layerwise comparison: one pass over the nodes computes, for every node,
** the FP32 reference, the isolated target output (target op on reference inputs cast to the
** target) and the propagated target output (the whole model in the target precision), and
** measures both against the reference. Tensors are freed after their last use unless kept.
**
** Layer: compare (see tests/tools/check_layers.sh).
*/
#ifndef LD_COMPARE_H
#define LD_COMPARE_H

#include "ld_io.h"
#include "ld_metrics.h"
#include "ld_qdq.h"

enum {   /* per-tensor flags */
    LD_FLAG_NAN = 1u << 0,        /* new NaN in the target */
    LD_FLAG_INF = 1u << 1,        /* new Inf in the target */
    LD_FLAG_OVERFLOW = 1u << 2,   /* reference beyond the format's max */
    LD_FLAG_UNDERFLOW = 1u << 3,  /* nonzero reference flushed to zero */
    LD_FLAG_SATURATION = 1u << 4, /* INT8/FP8 quantization range exceeded */
    LD_FLAG_SUBNORMAL = 1u << 5,  /* results in the subnormal range */
    LD_FLAG_ISO_FAIL = 1u << 6,   /* isolated comparison fails */
    LD_FLAG_PROP_FAIL = 1u << 7,  /* propagated comparison fails */
};

typedef struct ld_tensor_result {
    int value;                    /* value id in the main graph */
    const char *name;             /* borrowed from the graph */
    ld_dtype dtype;
    int ndim;
    int64_t dims[LD_MAX_DIMS];    /* of the first sample */
    bool measured;                /* float tensor compared (else ints/shapes: identical by construction) */
    ld_tstats ref, tgt;           /* statistics of the reference and the propagated target */
    ld_err iso, prop;
    bool iso_pass, prop_pass;
    char iso_why[256], prop_why[256];
    uint32_t flags;
} ld_tensor_result;

/* A node inside the body of a Loop/Scan (or an If not inlined), over every time it ran on the
 * target side (every iteration of every sample): its propagated and isolated error per run
 * (output 0, float outputs only), worst and mean SQNR over the runs, and the first failing run. */
typedef struct ld_body_result {
    char *path;                   /* "<node>/<attribute>/<body node>", nested bodies continue it */
    const char *op;               /* borrowed from the graph */
    int64_t runs;                 /* target-side runs compared with a reference run */
    double worst_sqnr, sqnr_sum;  /* dB; mean = sqnr_sum / finite runs */
    int64_t finite_runs;          /* runs with a finite SQNR (exact ones count as +inf: left out) */
    int64_t exact_runs;
    int64_t first_fail;           /* 0-based run below the tolerance, -1 = none */
    bool pinned;                  /* --pin named it: it ran in FP32 */
    /* isolated: the node in the target precision on the reference values of its inputs
     * (rounded to its input format), against the reference output; same accounting */
    int64_t iso_runs, iso_finite_runs, iso_exact_runs, iso_first_fail;
    double iso_worst_sqnr, iso_sqnr_sum;
} ld_body_result;

typedef struct ld_node_result {
    int index;                    /* topological index in the main graph */
    bool pinned, folded, quantized;   /* quantized: a GEMM input quantized by the target, or
                                         (QDQ) the node reads a quantizer's output */
    int quantizer;                /* QDQ: the quantizer whose DequantizeLinear this is, else -1 */
    int nout;
    ld_tensor_result *outs;
    int nbody;                    /* control flow: nodes of its bodies (body_stats.c) */
    ld_body_result *body;
    int64_t iterations;           /* body runs of its own bodies' first node, over all samples */
} ld_node_result;

typedef struct ld_first_div {
    int node;                     /* -1 = none */
    int out;                      /* which output */
    char reason[512];
} ld_first_div;

typedef struct ld_classification {
    bool present;
    int64_t samples;
    double top1_agreement, top5_agreement, cosine_mean, l2_mean;   /* percentages; means */
    bool labelled;
    double ref_top1, target_top1, ref_top5, target_top5, delta_top1_pp, delta_top5_pp;
} ld_classification;

typedef struct ld_compare_opts {
    ld_policy policy;
    ld_tol tol;
    bool isolated;                /* compute isolated comparisons (default true) */
    bool keep_ref, keep_tgt;      /* keep every value (autopin's incremental re-runs) */
    ld_progress progress;         /* steps: sample and node */
    const ld_qdq *qdq;            /* --target qdq: the model's quantizers (NULL otherwise) */
} ld_compare_opts;

typedef struct ld_compare {
    ld_model *model;
    ld_compare_opts opts;
    int nnodes;
    ld_node_result *nodes;
    ld_first_div first_iso, first_prop;
    int64_t samples;              /* rows of the first input over all feeds (images, not batches) */
    ld_classification cls;
    bool passed;                  /* no node failed */
    /* model outputs: per output, the propagated comparison (also in nodes[]) */
    int noutputs;
    ld_tensor_result **outputs;
    /* optional: the reference and target logits of every sample, for classification */
    ld_tensor *ref_out0, *tgt_out0;   /* concatenated along axis 0 (first model output) */
    double seconds;
    /* QDQ: per quantizer of opts.qdq, its parameters and the statistics measured at its Q */
    int nquant;
    ld_qdq_pair *quant;
} ld_compare;

/* Prepare results for model m (no running yet). */
ld_status ld_compare_init(ld_compare *c, ld_model *m, const ld_compare_opts *o);
/* Run one sample (a feed covering every input) and accumulate. */
ld_status ld_compare_add_sample(ld_compare *c, const ld_feed *in);
/* Decide pass/fail, first divergent nodes, classification summary (labels may be NULL). */
ld_status ld_compare_finish(ld_compare *c, const int64_t *labels, int64_t nlabels);
void ld_compare_free(ld_compare *c);

/* Splitting a comparison by samples (compare_merge.c; the MPI front end): pack the
** accumulators of a comparison of one sample, and merge such a packed sample into c as
** ld_compare_add_sample would have added it (merge in sample order, then ld_compare_finish).
** Before a later sample runs in its own comparison, ld_compare_preset_ranges gives it the
** value-histogram ranges of the first sample's comparison. */
ld_status ld_compare_pack(const ld_compare *c, uint8_t **buf, size_t *len);
ld_status ld_compare_merge_packed(ld_compare *c, const uint8_t *buf, size_t len);
void ld_compare_preset_ranges(ld_compare *c, const ld_compare *first);


/* A sample whose values stay in memory (opts.keep_tgt; reference values are kept for the
 * graph outputs) so the target side can be recomputed from any node after the pins change:
 * autopin's incremental re-execution. Opening runs the full measured pass once. */
typedef struct ld_sample_run ld_sample_run;
ld_status ld_sample_run_open(ld_compare *c, const ld_feed *in, ld_sample_run **out);
/* Recompute the target values of nodes from..end with the current c->opts.policy.pinned. */
ld_status ld_sample_run_target_from(ld_sample_run *r, int from);
const ld_tensor *ld_sample_run_ref(const ld_sample_run *r, int value);
size_t ld_sample_run_bytes(const ld_sample_run *r);   /* memory the kept values take */
const ld_tensor *ld_sample_run_tgt(const ld_sample_run *r, int value);
void ld_sample_run_close(ld_sample_run *r);

/* An incremental comparison (the live browser): every value of every sample stays in memory,
 * and after the pins (the array opts.policy.pinned points to) change, only the nodes from the
 * earliest changed pin on are recomputed and measured again. */
typedef struct ld_incremental ld_incremental;
ld_status ld_incr_open(ld_incremental **out, ld_model *m, const ld_compare_opts *o,
                       const ld_feed *samples, int nsamples, const int64_t *labels, int64_t nlabels);
/* Re-run after the pins changed; *from (may be NULL) gets the first recomputed node (-1: none). */
ld_status ld_incr_rerun(ld_incremental *inc, int *from);
const ld_compare *ld_incr_result(const ld_incremental *inc);
void ld_incr_close(ld_incremental *inc);

/* Other-engine comparisons: measure `other` (any float dtype, converted to float32) against
 * the reference `ref` for output k of node i, as the propagated comparison. */
ld_status ld_compare_add_pair(ld_compare *c, int node, int out, const ld_tensor *ref,
                              const ld_tensor *other);
/* --against MODEL2: run both models in FP32 on the feed and match tensors by name.
 * --against-outputs: compare the FP32 run with saved tensors (one feed of saved tensors per
 * sample). Return the number of matched tensors in *matched. */
/* Indices of the k largest of row[0..K), largest first (ties: lower index first). */
void ld_topk_indices(const float *row, int64_t k, int64_t K, int64_t *idx);
/* Samples in one feed (the first input's leading dimension). */
int64_t ld_feed_batch(const ld_graph *g, const ld_exec *ex);
/* Record dtype and shape of a tensor that had no counterpart (against modes). */
void ld_compare_note_shape(ld_compare *c, int node, int out, const ld_tensor *ref);
/* Add the first model output of a sample from both sides (classification summary). */
ld_status ld_compare_add_rows(ld_compare *c, const ld_tensor *ref, const ld_tensor *other);
ld_status ld_against_model(ld_compare *c, ld_model *other, const ld_feed *in, int *matched);
ld_status ld_against_saved(ld_compare *c, const ld_feed *in, const ld_feed *saved, int *matched);
#endif
