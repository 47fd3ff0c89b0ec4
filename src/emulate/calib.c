/*
** calib.c — calibration methods: the activation threshold (amax) of one tensor from a
** histogram of |x| (nbins bins of equal width from 0), the way TensorRT and NVIDIA's
** pytorch-quantization compute it. The collection passes live in calib_collect.c, the
** TensorRT cache format in calib_cache.c.
**
** entropy (EntropyCalibrator2, "8-bit Inference with TensorRT", GTC 2017), as
**   pytorch-quantization's _compute_amax_entropy with num_bits 8, signed, stride 1, start 128:
**   the count of bin 0 is replaced by that of bin 1 (so a spike of exact zeros, e.g. after
**   ReLU, does not dominate); for every i in 128..nbins, P = bins[0:i] with the outliers
**   bins[i:] added to P[i-1]; Q = bins[0:i] merged into 128 groups (bin j in group
**   floor(128 j / i)), each group's sum spread evenly over its nonzero bins (zero bins stay
**   zero); KL(P||Q) of the normalised P and Q, with 0 log 0 = 0 and +inf when P > 0 where
**   Q = 0 (only possible in the last bin, when it is empty but receives outliers; such a
**   candidate is never chosen — no smoothing, as pytorch-quantization / scipy.stats.entropy).
**   The last i with the smallest divergence wins, and amax = i * width: the upper edge of
**   the bins P keeps (pytorch-quantization's calib_bin_edges[i]; the GTC slides write
**   (i + 0.5) * width, half a bin more).
** percentile: the pct-th percentile of |x|, linearly interpolated inside the bin where the
**   cumulative count reaches pct% of the total (pytorch-quantization returns that bin's
**   lower edge instead).
** mse: the threshold t among the bin edges i * width, i from nbins/16 (128 of 2048) to nbins,
**   minimising sum_j hist[j] * (c_j - q_t(c_j))^2 with c_j = (j + 0.5) * width the bin
**   centres and q_t symmetric uniform quantization with qmax steps of t/qmax, clamped to t
**   (values past t contribute (c_j - t)^2). pytorch-quantization's _compute_amax_mse uses
**   the same error but the bin centres as candidates, and stops before the last bin; the
**   first smallest error wins in both.
*/
#include "ld_calib.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static const char *const method_names[] = {
    [LD_CALIB_ENTROPY] = "entropy",
    [LD_CALIB_MINMAX] = "minmax",
    [LD_CALIB_PERCENTILE] = "percentile",
    [LD_CALIB_MSE] = "mse",
};

ld_status ld_calib_method_parse(const char *s, ld_calib_method *out) {
    for (int i = 0; s && i < (int)LD_ARRAY_LEN(method_names); i++)
        if (!strcasecmp(s, method_names[i])) { *out = (ld_calib_method)i; return LD_OK; }
    return ld_error(LD_ERR_USAGE, "unknown calibration method '%s' (entropy, minmax, percentile, mse)",
                    s ? s : "");
}

const char *ld_calib_method_name(ld_calib_method m) {
    if ((int)m < 0 || (int)m >= (int)LD_ARRAY_LEN(method_names)) return "?";
    return method_names[m];
}

/* ---- entropy ---- */

#define ENTROPY_LEVELS 128   /* 8-bit signed: 127 steps + zero, as TensorRT */

double ld_calib_entropy(const uint64_t *hist, int nbins, double width) {
    if (nbins <= 0 || !hist) return 0.0;
    if (nbins <= ENTROPY_LEVELS) return nbins * width;
    /* Prefix sums over the bins (with bins[0] := bins[1]): counts, nonzero bins, b log b. */
    double *cum = malloc(sizeof(double) * (nbins + 1) * 3);
    if (!cum) return nbins * width;
    double *cnz = cum + (nbins + 1), *cblogb = cnz + (nbins + 1);
    cum[0] = cnz[0] = cblogb[0] = 0;
    for (int j = 0; j < nbins; j++) {
        double b = (double)hist[j == 0 ? 1 : j];
        cum[j + 1] = cum[j] + b;
        cnz[j + 1] = cnz[j] + (b > 0);
        cblogb[j + 1] = cblogb[j] + (b > 0 ? b * log(b) : 0);
    }
    double total = cum[nbins];
    int best_i = nbins;
    if (total > 0) {
        double best = INFINITY;
        const int L = ENTROPY_LEVELS;
        for (int i = L; i <= nbins; i++) {
            double last = cum[i] - cum[i - 1];          /* bins[i-1] */
            double outliers = total - cum[i];
            if (last == 0 && outliers > 0) continue;     /* P > 0 where Q = 0: KL = +inf */
            double Qsum = cum[i];
            if (Qsum <= 0) continue;
            /* sum p log p over P (the last bin holds last + outliers) */
            double plogp = cblogb[i - 1] + (last + outliers > 0 ? (last + outliers) * log(last + outliers) : 0);
            /* sum p log q: q is constant (the group mean) over a group's nonzero bins */
            double plogq = 0;
            for (int g = 0; g < L; g++) {
                int lo = (int)(((int64_t)g * i + L - 1) / L), hi = (int)(((int64_t)(g + 1) * i + L - 1) / L);
                double s = cum[hi] - cum[lo], c = cnz[hi] - cnz[lo];
                if (c <= 0) continue;
                double lq = log(s / c);
                plogq += s * lq;
                if (hi == i) plogq += outliers * lq;      /* the group holding bin i-1 */
            }
            /* KL = sum (p/P) log((p/P) / (q/Q)), P = total, Q = Qsum */
            double kl = (plogp - plogq) / total - log(total) + log(Qsum);
            if (kl <= best) { best = kl; best_i = i; }
        }
    }
    free(cum);
    return best_i * width;
}

/* ---- percentile ---- */

double ld_calib_percentile(const uint64_t *hist, int nbins, double width, double pct) {
    if (nbins <= 0 || !hist) return 0.0;
    if (!(pct >= 0)) pct = 0;
    if (pct > 100) pct = 100;
    double total = 0;
    for (int j = 0; j < nbins; j++) total += (double)hist[j];
    if (total <= 0) return nbins * width;
    double target = pct / 100.0 * total, cum = 0;
    for (int j = 0; j < nbins; j++) {
        double b = (double)hist[j];
        if (b <= 0) continue;
        if (cum + b >= target) {
            double frac = (target - cum) / b;
            if (frac < 0) frac = 0;
            if (frac > 1) frac = 1;
            return (j + frac) * width;
        }
        cum += b;
    }
    /* rounding left target above the total: the top of the last nonzero bin */
    for (int j = nbins - 1; j >= 0; j--)
        if (hist[j]) return (j + 1) * width;
    return nbins * width;
}

/* ---- mse ---- */

/* Squared error of quantizing c >= 0 to the grid k * s, k = 0..qmax (clamped at qmax * s). */
static double quant_err2(double c, double s, int qmax) {
    double k = nearbyint(c / s);
    if (k > qmax) k = qmax;
    double d = c - k * s;
    return d * d;
}

double ld_calib_mse(const uint64_t *hist, int nbins, double width, int qmax) {
    if (nbins <= 0 || !hist) return 0.0;
    if (qmax < 1) qmax = 1;
    int start = nbins * 128 / LD_CALIB_BINS;
    if (start < 1) start = 1;
    if (start > nbins) start = nbins;
    int first = 0, lastnz = -1;
    while (first < nbins && !hist[first]) first++;
    for (int j = nbins - 1; j >= 0; j--)
        if (hist[j]) { lastnz = j; break; }
    if (lastnz < 0) return nbins * width;
    double best = INFINITY;
    int best_i = nbins;
    for (int i = start; i <= nbins; i++) {
        double t = i * width, s = t / qmax, err = 0;
        for (int j = first; j <= lastnz; j++)
            if (hist[j]) err += (double)hist[j] * quant_err2((j + 0.5) * width, s, qmax);
        if (err < best) { best = err; best_i = i; }
    }
    return best_i * width;
}
