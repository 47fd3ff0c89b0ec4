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
#ifdef _OPENMP
#include <omp.h>
#endif

#define CHUNK 256   /* elements per vectorised block */

/* ---- tensor statistics ---- */

void ld_tstats_init(ld_tstats *s) {
    memset(s, 0, sizeof *s);
    s->min = INFINITY;
    s->max = -INFINITY;
    s->hlo = s->hhi = NAN;
}

/* clang 14 names the ifunc of an external target_clones function wrongly ("f.ifunc"), so
 * other files cannot link to it; clang only builds the fuzz harnesses, which need no clones. */
#if defined(__clang__) && __clang_major__ < 15
#define METRICS_CLONES
#else
#define METRICS_CLONES __attribute__((target_clones("avx2", "default")))
#endif

METRICS_CLONES
void ld_tstats_add(ld_tstats *s, const float *x, int64_t n) {
    float mn = (float)s->min, mx = (float)s->max, am = (float)s->absmax;
    double sum = 0, sq = 0;
    int64_t nan = 0, inf = 0;
    for (int64_t c0 = 0; c0 < n; c0 += CHUNK) {
        int64_t m = n - c0 < CHUNK ? n - c0 : CHUNK;
        const float *X = x + c0;
        int bad = 0;
        for (int64_t j = 0; j < m; j++) bad |= !isfinite(X[j]);
        float cmn = mn, cmx = mx, cam = am;
        double cs = 0, cq = 0;
        if (!bad) {
            /* order-preserving integer keys make min/max vectorisable */
            int32_t kmn = INT32_MAX, kmx = INT32_MIN;
            uint32_t kam = 0;
            for (int64_t j = 0; j < m; j++) {
                float v = X[j];
                uint32_t b = ld_f32_bits(v);
                int32_t k = (int32_t)(b ^ ((uint32_t)((int32_t)b >> 31) & 0x7fffffffu));
                kmn = k < kmn ? k : kmn;
                kmx = k > kmx ? k : kmx;
                uint32_t a = b & 0x7fffffffu;
                kam = a > kam ? a : kam;
                cs += v;
                cq += (double)v * v;
            }
            if (m > 0) {
                float fmn = ld_bits_f32((uint32_t)kmn ^ ((uint32_t)(kmn >> 31) & 0x7fffffffu));
                float fmx = ld_bits_f32((uint32_t)kmx ^ ((uint32_t)(kmx >> 31) & 0x7fffffffu));
                cmn = fmn < cmn ? fmn : cmn;
                cmx = fmx > cmx ? fmx : cmx;
                float fam = ld_bits_f32(kam);
                cam = fam > cam ? fam : cam;
            }
        } else {
            for (int64_t j = 0; j < m; j++) {
                float v = X[j];
                if (!isfinite(v)) { if (isnan(v)) nan++; else inf++; continue; }
                cmn = v < cmn ? v : cmn;
                cmx = v > cmx ? v : cmx;
                cam = fabsf(v) > cam ? fabsf(v) : cam;
                cs += v;
                cq += (double)v * v;
            }
        }
        mn = cmn; mx = cmx; am = cam; sum += cs; sq += cq;
    }
    s->min = mn; s->max = mx; s->absmax = am;
    s->sum += sum; s->sumsq += sq; s->nan += nan; s->inf += inf; s->count += n;
    if (isnan(s->hlo) && mn <= mx) {   /* histogram range fixed by the first sample */
        s->hlo = mn;
        s->hhi = mx > mn ? mx : mn + 1;
    }
    if (!isnan(s->hlo) && !s->no_hist) {
        float lo = (float)s->hlo, scale = (float)(LD_VAL_BINS / (s->hhi - s->hlo));
        uint8_t idx[CHUNK];
        for (int64_t c0 = 0; c0 < n; c0 += CHUNK) {
            int64_t m = n - c0 < CHUNK ? n - c0 : CHUNK;
            for (int64_t j = 0; j < m; j++) {
                float f = (x[c0 + j] - lo) * scale;
                f = f < 0 ? 0 : f > LD_VAL_BINS - 1 ? LD_VAL_BINS - 1 : f;   /* NaN: not clamped */
                int b = (int)f;
                idx[j] = (uint8_t)(b >= 0 && b < LD_VAL_BINS ? b : LD_VAL_BINS);
            }
            for (int64_t j = 0; j < m; j++) s->hist[idx[j] < LD_VAL_BINS ? idx[j] : 0] += idx[j] < LD_VAL_BINS;
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

typedef struct err_part {
    double max_abs, max_rel, max_ulp, sum_abs, sum_rel, see, srr, stt, srt;
    int64_t amax_i, nn, ni, ov, un, sub, fail, zero_abs, zero_rel;
} err_part;

/* Slow path for one element: some value is not finite, or the format checks apply. */
static inline bool elem_special(err_part *p, float r, float g, double fmax) {
    if (isfinite(r)) {
        if (isnan(g)) p->nn++;
        else { p->ni++; if (fabsf(r) > fmax) p->ov++; }
        return true;
    }
    return isnan(r) || g == r;   /* NaN reference, or the same infinity: nothing to compare */
}

/* One contiguous run of elements [i0, i1); chmax (may be NULL) gets the run's worst error.
 * Works in chunks: an all-finite chunk takes the branch-free, vectorisable path. */
METRICS_CLONES
static void err_run(err_part *p, uint32_t *ha, uint32_t *hr, uint32_t *ha2, uint32_t *hr2, int hstep, int ulp_emin, int ulp_emax, int ulp_mant, ld_target t,
                    double fmax, double fminn, double atol, double rtol, const float *ref, const float *tgt,
                    int64_t i0, int64_t i1, float *chmax) {
    const ld_format *tf = ld_target_format(t);
    bool check_sub = !tf->integer && !tf->reference, check_ov = !tf->integer;
    float cm = chmax ? *chmax : 0;
    float fmaxf_ = (float)fmax, fminf_ = (float)fminn, atolf = (float)atol, rtolf = (float)rtol;
    union { float f[CHUNK]; uint32_t u[CHUNK]; } dvu, rvu;   /* GNU C: punning through a union */
    float *dv = dvu.f, *rv = rvu.f;
    for (int64_t c0 = i0; c0 < i1; c0 += CHUNK) {
        int64_t m = i1 - c0 < CHUNK ? i1 - c0 : CHUNK;
        const float *R = ref + c0, *G = tgt + c0;
        int bad = 0;
        for (int64_t j = 0; j < m; j++) bad |= !isfinite(R[j]) | !isfinite(G[j]);
        if (bad) {   /* rare: element by element */
            for (int64_t j = 0; j < m; j++) {
                float r = R[j], g = G[j];
                if ((!isfinite(r) || !isfinite(g)) && elem_special(p, r, g, fmax)) { dv[j] = rv[j] = -1; continue; }
                dv[j] = fabsf(r - g);
                rv[j] = dv[j] / (fabsf(r) + (float)LD_REL_EPS);
            }
        } else {
            for (int64_t j = 0; j < m; j++) {
                float d = fabsf(R[j] - G[j]);
                dv[j] = d;
                rv[j] = d / (fabsf(R[j]) + (float)LD_REL_EPS);
            }
        }
        /* sums (vectorisable); elements marked -1 by the slow path count as zero */
        double see = 0, srr = 0, stt = 0, srt = 0, sa = 0, sr = 0;
        float mx = 0, mr = 0;
        if (!bad) {
            for (int64_t j = 0; j < m; j++) {
                float r = R[j], g = G[j], d = dv[j], q = rv[j];
                see += (double)d * d; srr += (double)r * r; stt += (double)g * g; srt += (double)r * g;
                sa += d; sr += q;
            }
            /* maxima of non-negative floats compare like their bit patterns */
            uint32_t bx = 0, br = 0;
            for (int64_t j = 0; j < m; j++) {
                bx = dvu.u[j] > bx ? dvu.u[j] : bx;
                br = rvu.u[j] > br ? rvu.u[j] : br;
            }
            mx = ld_bits_f32(bx);
            mr = ld_bits_f32(br);
        } else {
            for (int64_t j = 0; j < m; j++) {
                if (dv[j] < 0) continue;
                float r = R[j], g = G[j], d = dv[j], q = rv[j];
                see += (double)d * d; srr += (double)r * r; stt += (double)g * g; srt += (double)r * g;
                sa += d; sr += q;
                mx = d > mx ? d : mx;
                mr = q > mr ? q : mr;
            }
        }
        /* counts (vectorisable) */
        int32_t ov = 0, un = 0, sub = 0, fail = 0, za = 0;
        for (int64_t j = 0; j < m; j++) {
            float r = R[j], g = G[j], d = dv[j], q = rv[j];
            int32_t use = d >= 0;
            ov += use & check_ov & (fabsf(r) > fmaxf_) & (fabsf(r) < INFINITY);
            un += use & (g == 0.0f) & (r != 0.0f);
            sub += use & check_sub & (g != 0.0f) & (fabsf(g) < fminf_);
            fail += use & (d > atolf) & (q > rtolf);
            za += use & (d == 0.0f);
        }
        p->see += see; p->srr += srr; p->stt += stt; p->srt += srt; p->sum_abs += sa; p->sum_rel += sr;
        p->ov += ov; p->un += un; p->sub += sub; p->fail += fail;
        p->zero_abs += za; p->zero_rel += za;
        if (mr > p->max_rel) p->max_rel = mr;
        if (mx > cm) cm = mx;
        if (mx > p->max_abs) {
            p->max_abs = mx;
            for (int64_t j = 0; j < m; j++) if (dv[j] == mx) { p->amax_i = c0 + j; break; }
        }
        /* histogram bins and ulps: indices and ratios vectorised, then the increments */
        uint16_t ia[CHUNK], ir[CHUNK];
        union { float f[CHUNK]; uint32_t u[CHUNK]; } uu;
        for (int64_t j = 0; j < m; j++) {
            uint32_t bd = dvu.u[j], br2 = rvu.u[j];
            int32_t xa = (int32_t)(bd >> 20) - (63 << 3), xr = (int32_t)(br2 >> 20) - (63 << 3);
            xa = xa < 0 ? 0 : xa > LD_ERR_BINS - 1 ? LD_ERR_BINS - 1 : xa;
            xr = xr < 0 ? 0 : xr > LD_ERR_BINS - 1 ? LD_ERR_BINS - 1 : xr;
            bool pos = (int32_t)bd > 0;                  /* d > 0 (and not the -1 marker) */
            uint16_t other = bd == 0 ? LD_ERR_BINS : LD_ERR_BINS + 1;   /* exact zero, or skipped */
            ia[j] = (uint16_t)(pos ? xa : other);
            ir[j] = (uint16_t)(pos ? xr : other);
            /* 1/ulp of the format at |ref|: 2^(mant - max(e, emin)) from the exponent bits */
            int32_t ex = (int32_t)((ld_f32_bits(R[j]) >> 23) & 0xff);
            ex = ex < ulp_emin ? ulp_emin : ex > ulp_emax ? ulp_emax : ex;
            uint32_t inv = (uint32_t)(254 - ex + ulp_mant) << 23;
            uu.f[j] = pos ? dvu.f[j] * ld_bits_f32(inv) : 0.0f;
        }
        uint32_t mub = 0;
        for (int64_t j = 0; j < m; j++) mub = uu.u[j] > mub ? uu.u[j] : mub;
        int64_t j2 = 0;
        for (; j2 + hstep < m; j2 += 2 * hstep) {
            ha[ia[j2]]++; hr[ir[j2]]++;
            ha2[ia[j2 + hstep]]++; hr2[ir[j2 + hstep]]++;
        }
        if (j2 < m) { ha[ia[j2]]++; hr[ir[j2]]++; }
        float mu = ld_bits_f32(mub);
        if (mu > p->max_ulp) p->max_ulp = mu;
    }
    if (chmax) *chmax = cm;
}

void ld_err_add(ld_err *e, ld_target t, const ld_tol *tol, const float *ref, const float *tgt,
                int64_t n, int64_t inner) {
    const ld_format *f = ld_target_format(t);
    /* ulp = 2^(max(e, emin) - mant) in float32 exponent terms (e = biased exponent of |ref|) */
    const ld_format *ff = ld_target_format(t);
    int ulp_mant = ff->integer ? 0 : ff->mant_bits;
    int ulp_emin = ff->integer ? 127 : ff->reference ? 1 + 23 : (int)(127 + ilogb(ff->min_normal));
    int ulp_emax = ff->integer ? 127 : 254;   /* integer formats: one quantization step = 1 */
    double atol = tol ? tol->atol : 0, rtol = tol ? tol->rtol : 0;
    bool chan = e->nch && inner > 0 && n % inner == 0;
    int64_t nblk = chan ? n / inner : 1, blen = chan ? inner : n;
    /* Runs of fixed length (whole channel blocks when there are channels), each summed into its
     * own part, the parts added in run order: the sums do not depend on the thread count.
     * Up to RUN_SPLIT elements are one run (the serial order). Histogram counts and maxima
     * do not depend on the order; a tie on the maximum keeps the earliest index. */
    enum { RUN_SPLIT = 262144, RUN_LEN = 65536 };
    int64_t per = n <= RUN_SPLIT ? nblk : chan ? (blen >= RUN_LEN ? 1 : RUN_LEN / blen) : 0;
    int64_t rlen = n <= RUN_SPLIT ? n : chan ? per * blen : RUN_LEN;
    int64_t nrun = (n + rlen - 1) / rlen;
    if (nrun < 1) nrun = 1;
    int nt = nrun > 1 ? ld_nthreads : 1;
    int hstep = n > LD_HIST_FULL ? LD_HIST_STEP : 1;
    if (nt > 16) nt = 16;
    err_part one, *parts = nrun > 1 ? calloc((size_t)nrun, sizeof *parts) : &one;
    uint32_t *hists = nt > 1 ? calloc((size_t)nt * 4 * (LD_ERR_BINS + 2), sizeof(uint32_t)) : NULL;
    float *chm = chan && nt > 1 ? calloc((size_t)nt * e->nch, sizeof(float)) : NULL;
    if (!parts || (nt > 1 && (!hists || (chan && !chm)))) {   /* out of memory: one run, serially */
        if (parts != &one) free(parts);
        parts = &one;
        nrun = 1;
        rlen = n;
        nt = 1;
    }
    memset(&one, 0, sizeof one);
    int64_t step = chan ? blen : rlen;   /* one err_run call per channel block, or per run */
    if (nt == 1) {
        for (int64_t r = 0; r < nrun; r++)
            for (int64_t i0 = r * rlen, end = LD_MIN(n, (r + 1) * rlen); i0 < end; i0 += step)
                err_run(&parts[r], e->hist_abs, e->hist_rel, e->hist_abs2, e->hist_rel2, hstep, ulp_emin, ulp_emax, ulp_mant, t, f->max, f->min_normal, atol, rtol, ref, tgt,
                        i0, LD_MIN(end, i0 + step), chan ? &e->ch_max[(i0 / blen) % e->nch] : NULL);
    } else {
#pragma omp parallel for num_threads(nt) schedule(static)
        for (int64_t r = 0; r < nrun; r++) {
            int tid = 0;
#ifdef _OPENMP
            tid = omp_get_thread_num();
#endif
            uint32_t *hb = hists + (size_t)tid * 4 * (LD_ERR_BINS + 2);
            for (int64_t i0 = r * rlen, end = LD_MIN(n, (r + 1) * rlen); i0 < end; i0 += step)
                err_run(&parts[r], hb, hb + (LD_ERR_BINS + 2), hb + 2 * (LD_ERR_BINS + 2), hb + 3 * (LD_ERR_BINS + 2), hstep,
                        ulp_emin, ulp_emax, ulp_mant, t, f->max, f->min_normal, atol, rtol, ref, tgt, i0, LD_MIN(end, i0 + step),
                        chan ? &chm[(size_t)tid * e->nch + (i0 / blen) % e->nch] : NULL);
        }
        for (int k = 0; k < nt; k++) {
            for (int i = 0; i < LD_ERR_BINS + 2; i++) {
                const uint32_t *hb = hists + (size_t)k * 4 * (LD_ERR_BINS + 2);
                e->hist_abs[i] += hb[i] + hb[2 * (LD_ERR_BINS + 2) + i];
                e->hist_rel[i] += hb[(LD_ERR_BINS + 2) + i] + hb[3 * (LD_ERR_BINS + 2) + i];
            }
            for (int c = 0; chan && c < e->nch; c++)
                if (chm[(size_t)k * e->nch + c] > e->ch_max[c]) e->ch_max[c] = chm[(size_t)k * e->nch + c];
        }
    }
    free(hists);
    free(chm);
    for (int64_t k = 0; k < nrun; k++) {
        err_part *p = &parts[k];
        if (p->max_abs > e->max_abs) { e->max_abs = p->max_abs; e->argmax_abs = p->amax_i; }
        if (p->max_rel > e->max_rel) e->max_rel = p->max_rel;
        if (p->max_ulp > e->max_ulp) e->max_ulp = p->max_ulp;
        e->sum_abs += p->sum_abs; e->sum_rel += p->sum_rel;
        e->sum_sq_err += p->see; e->sum_sq_ref += p->srr; e->sum_sq_tgt += p->stt; e->sum_ref_tgt += p->srt;
        e->new_nan += p->nn; e->new_inf += p->ni; e->overflow += p->ov; e->underflow += p->un;
        e->subnormal += p->sub; e->elem_fail += p->fail; e->zero_abs += p->zero_abs; e->zero_rel += p->zero_rel;
    }
    if (parts != &one) free(parts);
    e->count += n;
}

double ld_err_sqnr(const ld_err *e) {
    if (e->new_nan || e->new_inf) return -INFINITY;   /* the finite part must not look perfect */
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
    if (e->new_nan || e->new_inf) return 0.0;
    if (e->sum_sq_ref == 0 && e->sum_sq_tgt == 0) return 1.0;
    if (e->sum_sq_ref == 0 || e->sum_sq_tgt == 0) return 0.0;
    return e->sum_ref_tgt / sqrt(e->sum_sq_ref * e->sum_sq_tgt);
}

static int64_t compared(const ld_err *e) { return e->count - e->new_nan - e->new_inf; }

double ld_err_mean_abs(const ld_err *e) { int64_t n = compared(e); return n > 0 ? e->sum_abs / n : 0; }
double ld_err_mean_rel(const ld_err *e) { int64_t n = compared(e); return n > 0 ? e->sum_rel / n : 0; }

/* Nearest-rank quantile: the value of rank ceil(q * n) (1-based). */
static double hist_quantile(const uint32_t *h, const uint32_t *h2, double q) {
    int64_t zeros = (int64_t)h[LD_ERR_BINS] + h2[LD_ERR_BINS];
    int64_t total = zeros;
    for (int i = 0; i < LD_ERR_BINS; i++) total += h[i] + h2[i];
    if (!total) return 0;
    int64_t rank = (int64_t)ceil(q * (double)total);
    if (rank < 1) rank = 1;
    int64_t acc = zeros;
    if (acc >= rank) return 0;
    for (int i = 0; i < LD_ERR_BINS; i++) {
        acc += h[i] + h2[i];
        if (acc >= rank) return bin_value(i);
    }
    return bin_value(LD_ERR_BINS - 1);
}

double ld_err_quantile_abs(const ld_err *e, double q) { return hist_quantile(e->hist_abs, e->hist_abs2, q); }
double ld_err_quantile_rel(const ld_err *e, double q) { return hist_quantile(e->hist_rel, e->hist_rel2, q); }

/* ---- pass / fail ---- */

void ld_tol_default(ld_tol *tol, ld_target t) {
    memset(tol, 0, sizeof *tol);
    tol->atol = 1e-5;
    tol->rtol = 1e-5;
    tol->stat = LD_STAT_ELEMWISE;
    tol->quantile = 0.99;
    tol->min_cosine = -2;
    tol->check_tol = false;
    tol->max_sat_frac = ld_target_format(t)->max_sat > 0 ? ld_target_format(t)->max_sat
                                                         : 1e-3;   /* INT8/FP8: 0.1% clipped */
    tol->sqnr_floor_abs = 1e-6;
    tol->min_sqnr = ld_target_format(t)->min_sqnr;   /* SQNR a healthy network keeps */
}

bool ld_err_passes(const ld_err *e, const ld_tstats *ref, ld_target t, const ld_tol *tol,
                   char *why, size_t n) {
    return ld_err_passes_q(e, ref, t, t, tol, why, n);
}

bool ld_err_passes_q(const ld_err *e, const ld_tstats *ref, ld_target t, ld_target quant, const ld_tol *tol,
                     char *why, size_t n) {
    const ld_format *f = ld_target_format(t), *qf = ld_target_format(quant);
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
    if (e->saturated && e->sat_total && (double)e->saturated / (double)e->sat_total > tol->max_sat_frac) {
        snprintf(why, n, "%s quantization clips %.3g%% of the input values (%lld of %lld; max |input| %.3g)",
                 qf->long_name, 100.0 * e->saturated / e->sat_total, (long long)e->saturated,
                 (long long)e->sat_total, e->sat_absmax);
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
