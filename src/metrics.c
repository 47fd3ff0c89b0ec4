/*
** metrics.c — per-tensor error accumulation and the pass/fail decision (see ld_metrics.h).
** The per-element loop is the hot path of `compare`: one pass, no transcendental functions
** (histogram bins come from the float's exponent and top mantissa bits).
*/
#include "ld_metrics.h"
#include "ld_numeric.h"

#include <float.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- tensor statistics ---- */

void ld_tstats_init(ld_tstats *s) {
    memset(s, 0, sizeof *s);
    s->min = INFINITY;
    s->max = -INFINITY;
    s->hlo = s->hhi = NAN;
}

void ld_tstats_add(ld_tstats *s, const float *x, int64_t n) {
    double mn = s->min, mx = s->max, sum = 0, sq = 0, am = s->absmax;
    int64_t nan = 0, inf = 0;
    for (int64_t i = 0; i < n; i++) {
        float v = x[i];
        if (!isfinite(v)) { if (isnan(v)) nan++; else inf++; continue; }
        if (v < mn) mn = v;
        if (v > mx) mx = v;
        if (fabsf(v) > am) am = fabsf(v);
        sum += v;
        sq += (double)v * v;
    }
    s->min = mn; s->max = mx; s->absmax = am;
    s->sum += sum; s->sumsq += sq; s->nan += nan; s->inf += inf; s->count += n;
    if (isnan(s->hlo) && mn <= mx) {   /* histogram range fixed by the first sample */
        s->hlo = mn;
        s->hhi = mx > mn ? mx : mn + 1;
    }
    if (!isnan(s->hlo)) {
        double scale = LD_VAL_BINS / (s->hhi - s->hlo);
        for (int64_t i = 0; i < n; i++) {
            if (!isfinite(x[i])) continue;
            int b = (int)((x[i] - s->hlo) * scale);
            s->hist[b < 0 ? 0 : b >= LD_VAL_BINS ? LD_VAL_BINS - 1 : b]++;
        }
    }
}

double ld_tstats_mean(const ld_tstats *s) {
    int64_t n = s->count - s->nan - s->inf;
    return n ? s->sum / n : 0.0;
}

double ld_tstats_std(const ld_tstats *s) {
    int64_t n = s->count - s->nan - s->inf;
    if (!n) return 0.0;
    double m = s->sum / n, v = s->sumsq / n - m * m;
    return v > 0 ? sqrt(v) : 0.0;
}

/* ---- error accumulator ---- */

void ld_err_init(ld_err *e, int nch) {
    memset(e, 0, sizeof *e);
    if (nch > 0 && nch <= 65536) {
        e->ch_max = calloc(nch, sizeof(float));
        if (e->ch_max) e->nch = nch;
    }
}

void ld_err_free(ld_err *e) {
    free(e->ch_max);
    e->ch_max = NULL;
    e->nch = 0;
}

/* log2-spaced bin: 8 bins per octave from 2^-64 to 2^64 */
static inline int err_bin(float v) {
    uint32_t b = ld_f32_bits(v) >> 20;        /* 8 exponent bits + 3 mantissa bits */
    int i = (int)b - (63 << 3);
    return i < 0 ? 0 : i >= LD_ERR_BINS ? LD_ERR_BINS - 1 : i;
}

static double bin_value(int i) {   /* geometric middle of bin i */
    uint32_t b = (uint32_t)(i + (63 << 3)) << 20;
    return ld_bits_f32(b | 0x80000u);
}

void ld_err_add(ld_err *e, ld_target t, const ld_tol *tol, const float *ref, const float *tgt,
                int64_t n, int64_t inner) {
    const ld_format *f = ld_target_format(t);
    double fmax = f->max, fminn = f->min_normal;
    bool check_sub = t != LD_TARGET_INT8 && t != LD_TARGET_FP32;
    double max_abs = e->max_abs, max_rel = e->max_rel, max_ulp = e->max_ulp;
    double sum_abs = 0, sum_rel = 0, see = 0, srr = 0, stt = 0, srt = 0;
    int64_t nn = 0, ni = 0, ov = 0, un = 0, sub = 0, fail = 0, amax_i = e->argmax_abs;
    double atol = tol ? tol->atol : 0, rtol = tol ? tol->rtol : 0;
    for (int64_t i = 0; i < n; i++) {
        float r = ref[i], g = tgt[i];
        if (isfinite(r)) {
            if (isnan(g)) { nn++; continue; }
            if (isinf(g)) { ni++; if (fabsf(r) > fmax) ov++; continue; }
            if (fabsf(r) > fmax && t != LD_TARGET_INT8) ov++;
            if (r != 0.0f && g == 0.0f) un++;
            if (check_sub && g != 0.0f && fabsf(g) < fminn) sub++;
        } else if (isnan(r)) {
            continue;       /* NaN in the reference too: nothing to compare */
        } else if (g == r) {
            continue;       /* same infinity */
        }
        double d = fabs((double)r - (double)g);
        double rel = d / (fabs((double)r) + LD_REL_EPS);
        if (d > max_abs) { max_abs = d; amax_i = i; }
        if (rel > max_rel) max_rel = rel;
        sum_abs += d;
        sum_rel += rel;
        see += d * d;
        srr += (double)r * r;
        stt += (double)g * g;
        srt += (double)r * g;
        if (d > atol && rel > rtol) fail++;
        if (d == 0) e->zero_abs++; else e->hist_abs[err_bin((float)d)]++;
        if (rel == 0) e->zero_rel++; else e->hist_rel[err_bin((float)rel)]++;
        if (d > 0) {
            double u = d / ld_format_ulp(t, r);
            if (u > max_ulp) max_ulp = u;
        }
        if (e->nch && inner > 0) {
            int64_t c = (i / inner) % e->nch;
            if (d > e->ch_max[c]) e->ch_max[c] = (float)d;
        }
    }
    e->count += n;
    e->max_abs = max_abs; e->max_rel = max_rel; e->max_ulp = max_ulp; e->argmax_abs = amax_i;
    e->sum_abs += sum_abs; e->sum_rel += sum_rel;
    e->sum_sq_err += see; e->sum_sq_ref += srr; e->sum_sq_tgt += stt; e->sum_ref_tgt += srt;
    e->new_nan += nn; e->new_inf += ni; e->overflow += ov; e->underflow += un; e->subnormal += sub;
    e->elem_fail += fail;
}

double ld_err_sqnr(const ld_err *e) {
    if (e->sum_sq_err == 0) return INFINITY;
    if (e->sum_sq_ref == 0) return -INFINITY;
    return 10.0 * log10(e->sum_sq_ref / e->sum_sq_err);
}

double ld_err_nmse(const ld_err *e) {
    if (e->sum_sq_err == 0) return 0;
    return e->sum_sq_ref > 0 ? e->sum_sq_err / e->sum_sq_ref : INFINITY;
}

double ld_err_rmse(const ld_err *e) { return e->count ? sqrt(e->sum_sq_err / e->count) : 0; }

double ld_err_cosine(const ld_err *e) {
    if (e->sum_sq_ref == 0 && e->sum_sq_tgt == 0) return 1.0;
    if (e->sum_sq_ref == 0 || e->sum_sq_tgt == 0) return 0.0;
    return e->sum_ref_tgt / sqrt(e->sum_sq_ref * e->sum_sq_tgt);
}

static int64_t compared(const ld_err *e) { return e->count - e->new_nan - e->new_inf; }

double ld_err_mean_abs(const ld_err *e) { int64_t n = compared(e); return n > 0 ? e->sum_abs / n : 0; }
double ld_err_mean_rel(const ld_err *e) { int64_t n = compared(e); return n > 0 ? e->sum_rel / n : 0; }

/* Nearest-rank quantile: the value of rank ceil(q * n) (1-based). */
static double hist_quantile(const uint32_t *h, int64_t zeros, double q) {
    int64_t total = zeros;
    for (int i = 0; i < LD_ERR_BINS; i++) total += h[i];
    if (!total) return 0;
    int64_t rank = (int64_t)ceil(q * (double)total);
    if (rank < 1) rank = 1;
    int64_t acc = zeros;
    if (acc >= rank) return 0;
    for (int i = 0; i < LD_ERR_BINS; i++) {
        acc += h[i];
        if (acc >= rank) return bin_value(i);
    }
    return bin_value(LD_ERR_BINS - 1);
}

double ld_err_quantile_abs(const ld_err *e, double q) { return hist_quantile(e->hist_abs, e->zero_abs, q); }
double ld_err_quantile_rel(const ld_err *e, double q) { return hist_quantile(e->hist_rel, e->zero_rel, q); }

/* ---- pass / fail ---- */

void ld_tol_default(ld_tol *tol, ld_target t) {
    memset(tol, 0, sizeof *tol);
    tol->atol = 1e-5;
    tol->rtol = 1e-5;
    tol->stat = LD_STAT_ELEMWISE;
    tol->quantile = 0.99;
    tol->min_cosine = -2;
    tol->check_tol = false;
    tol->max_sat_frac = 1e-3;       /* INT8/FP8: more than 0.1% of values clipped */
    tol->sqnr_floor_abs = 1e-6;
    switch (t) {                    /* SQNR a healthy network keeps (see layerdiff-compare(1)) */
    case LD_TARGET_FP16: tol->min_sqnr = 30; break;
    case LD_TARGET_BF16: tol->min_sqnr = 15; break;
    case LD_TARGET_FP8E4M3: tol->min_sqnr = 8; break;
    case LD_TARGET_FP8E5M2: tol->min_sqnr = 5; break;
    case LD_TARGET_INT8: tol->min_sqnr = 8; break;
    default: tol->min_sqnr = -INFINITY; break;
    }
}

bool ld_err_passes(const ld_err *e, const ld_tstats *ref, ld_target t, const ld_tol *tol,
                   char *why, size_t n) {
    const ld_format *f = ld_target_format(t);
    double total = e->count ? (double)e->count : 1;
    why[0] = 0;
    if (e->overflow) {
        snprintf(why, n, "output overflows %s: %.3g%% of values above %g, max |ref| %.3g", f->long_name,
                 100.0 * e->overflow / total, f->max, ref ? ref->absmax : 0);
        return false;
    }
    if (e->new_nan || e->new_inf) {
        snprintf(why, n, "%lld new NaN and %lld new Inf values (%.3g%%) where the reference is finite",
                 (long long)e->new_nan, (long long)e->new_inf, 100.0 * (e->new_nan + e->new_inf) / total);
        return false;
    }
    if (e->saturated && e->saturated / total > tol->max_sat_frac) {
        snprintf(why, n, "%s quantization saturates %.3g%% of input values (max |ref| %.3g)", f->long_name,
                 100.0 * e->saturated / total, ref ? ref->absmax : 0);
        return false;
    }
    double sqnr = ld_err_sqnr(e);
    if (e->max_abs > tol->sqnr_floor_abs && sqnr < tol->min_sqnr) {
        snprintf(why, n, "SQNR %.1f dB below %.1f dB (max abs error %.3g, max rel error %.3g)", sqnr,
                 tol->min_sqnr, e->max_abs, e->max_rel);
        return false;
    }
    if (tol->min_cosine > -2 && ld_err_cosine(e) < tol->min_cosine) {
        snprintf(why, n, "cosine similarity %.6f below %.6f", ld_err_cosine(e), tol->min_cosine);
        return false;
    }
    if (tol->check_tol) {
        double a, r;
        const char *what;
        switch (tol->stat) {
        case LD_STAT_MAX: a = e->max_abs; r = e->max_rel; what = "max"; break;
        case LD_STAT_MEAN: a = ld_err_mean_abs(e); r = ld_err_mean_rel(e); what = "mean"; break;
        case LD_STAT_MEDIAN: a = ld_err_quantile_abs(e, 0.5); r = ld_err_quantile_rel(e, 0.5); what = "median"; break;
        case LD_STAT_QUANTILE: a = ld_err_quantile_abs(e, tol->quantile); r = ld_err_quantile_rel(e, tol->quantile); what = "quantile"; break;
        default:
            if (e->elem_fail) {
                snprintf(why, n, "%lld elements (%.3g%%) exceed atol %g and rtol %g (max abs %.3g, max rel %.3g)",
                         (long long)e->elem_fail, 100.0 * e->elem_fail / total, tol->atol, tol->rtol, e->max_abs, e->max_rel);
                return false;
            }
            return true;
        }
        if (a > tol->atol && r > tol->rtol) {
            snprintf(why, n, "%s abs error %.3g > atol %g and %s rel error %.3g > rtol %g", what, a, tol->atol, what, r, tol->rtol);
            return false;
        }
    }
    return true;
}
