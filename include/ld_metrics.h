/*
** ld_metrics.h — error metrics between a reference tensor and a target tensor, accumulated
** over samples (sums and counts add up; maxima take the max; nothing is averaged away).
**
** Relative error is Polygraphy's: |a - b| / (|ref| + LD_REL_EPS). Quantiles (median, p99)
** come from histograms of LD_ERR_BINS bins over [2^-64, 2^64): 8 bins per octave, linear
** within the octave (bins 6% to 12% wide), of every element of tensors up to LD_HIST_FULL
** elements and of every LD_HIST_STEP-th element of larger ones (at least 8192 samples).
** Maxima, sums, counts and everything else use every element.
**
** Layer: compare (see tests/tools/check_layers.sh).
*/
#ifndef LD_METRICS_H
#define LD_METRICS_H

#include "ld_precision.h"

#define LD_REL_EPS 1e-12
#define LD_ERR_BINS 1024
#define LD_VAL_BINS 64
#define LD_HIST_FULL 65536
#define LD_HIST_STEP 8

/* Statistics of one tensor (over all samples). */
typedef struct ld_tstats {
    int64_t count, nan, inf;
    double min, max, sum, sumsq, absmax;
    /* histogram of values: LD_VAL_BINS linear bins over [lo, hi] fixed by the first sample
     * (kept for reference tensors only: see ld_tstats_add) */
    double hlo, hhi;
    uint32_t hist[LD_VAL_BINS];
    bool no_hist;
} ld_tstats;

void ld_tstats_init(ld_tstats *s);
void ld_tstats_add(ld_tstats *s, const float *x, int64_t n);
double ld_tstats_mean(const ld_tstats *s);
double ld_tstats_std(const ld_tstats *s);

/* Error accumulator of one comparison (reference vs target) of one tensor. */
typedef struct ld_err {
    int64_t count;            /* elements compared */
    double max_abs, sum_abs, max_rel, sum_rel;
    double sum_sq_err, sum_sq_ref, sum_sq_tgt, sum_ref_tgt;
    double max_ulp;
    int64_t argmax_abs;       /* flat index (in its sample) of the max abs error */
    int64_t new_nan, new_inf;     /* target NaN/Inf where the reference is finite */
    int64_t overflow;             /* |ref| above the format's max */
    int64_t underflow;            /* ref != 0 but target == 0 */
    int64_t subnormal;            /* target value in the format's subnormal range */
    int64_t saturated;            /* INT8/FP8: quantized input elements beyond the range */
    int64_t sat_total;            /* quantized input elements */
    double sat_absmax;            /* largest |input| that was quantized */
    int64_t elem_fail;            /* elements with abs > atol and rel > rtol */
    /* Histograms for the quantiles, two copies each (alternate elements: independent
     * increments pipeline). Slot LD_ERR_BINS counts exact zeros, LD_ERR_BINS + 1 is a sink for
     * skipped elements. Tensors above LD_HIST_FULL elements sample every LD_HIST_STEP-th. */
    uint32_t hist_abs[LD_ERR_BINS + 2], hist_rel[LD_ERR_BINS + 2];
    uint32_t hist_abs2[LD_ERR_BINS + 2], hist_rel2[LD_ERR_BINS + 2];
    int64_t zero_abs, zero_rel;   /* exact zeros (below the histogram) */
    /* per channel (axis 1) worst absolute error, when the tensor has channels */
    int nch;
    float *ch_max;
} ld_err;

typedef struct ld_tol {
    double atol, rtol;        /* Polygraphy --atol/--rtol */
    enum { LD_STAT_ELEMWISE, LD_STAT_MAX, LD_STAT_MEAN, LD_STAT_MEDIAN, LD_STAT_QUANTILE } stat;
    double quantile;          /* for LD_STAT_QUANTILE (default 0.99) */
    double min_sqnr;          /* dB; -inf = off */
    double min_cosine;        /* -2 = off */
    bool check_tol;           /* apply atol/rtol (set by --atol/--rtol/--check-error-stat) */
    double max_sat_frac;      /* saturation fraction that fails (INT8/FP8) */
    double sqnr_floor_abs;    /* ignore SQNR when max abs error is below this */
} ld_tol;

void ld_err_init(ld_err *e, int nch);
void ld_err_free(ld_err *e);
/* Add one sample: ref and tgt float arrays of n elements, laid out with `nch` channels of
 * `inner` elements each per outer block (nch=0: no channel tracking). */
void ld_err_add(ld_err *e, ld_target t, const ld_tol *tol, const float *ref, const float *tgt,
                int64_t n, int64_t inner);
double ld_err_sqnr(const ld_err *e);         /* dB; +inf if no error */
double ld_err_nmse(const ld_err *e);
double ld_err_rmse(const ld_err *e);
double ld_err_cosine(const ld_err *e);       /* 1 when both are zero */
double ld_err_mean_abs(const ld_err *e);
double ld_err_mean_rel(const ld_err *e);
double ld_err_quantile_abs(const ld_err *e, double q);
double ld_err_quantile_rel(const ld_err *e, double q);

/* Pass/fail of one comparison; writes the reason ("output overflows FP16: ...") when it fails.
 * t is the storage format of the output; quantized outputs name the quantization format in
 * the clipping message (INT8, FP8) through ld_err_passes_q. */
bool ld_err_passes_q(const ld_err *e, const ld_tstats *ref, ld_target t, ld_target quant, const ld_tol *tol,
                     char *why, size_t n);
bool ld_err_passes(const ld_err *e, const ld_tstats *ref, ld_target t, const ld_tol *tol,
                   char *why, size_t n);
/* The defaults for a target (see man/layerdiff-compare.1). */
void ld_tol_default(ld_tol *tol, ld_target t);

#endif
