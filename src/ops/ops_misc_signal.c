/*
** ops_misc_signal.c — signal-processing kernels: HannWindow, HammingWindow, BlackmanWindow,
** DFT (opset 17: axis attribute; opset 20: axis input), STFT and MelWeightMatrix.
**
** Transforms run in double precision: a radix-2 FFT when the length is a power of two, and
** Bluestein's chirp-z algorithm on top of it for any other length, so every dft_length costs
** O(n log n). A signal tensor's last dim is 1 (real) or 2 (real, imaginary).
**
** DFT semantics (numpy.fft): forward transforms are unscaled, inverse ones are scaled by 1/n.
** onesided forward keeps bins 0..n/2 (rfft); onesided inverse treats the input as the bins
** 0..n/2 of a Hermitian spectrum and returns a real signal with last dim 1 (irfft, default
** n = 2 * (bins - 1)). dft_length zero-pads or truncates the input along the axis.
*/
#include "ops_misc.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define PI 3.14159265358979323846

/* ---- FFT ---- */

typedef struct fft_plan {
    int64_t n, m;     // transform length; power-of-two working length (m == n for powers of two)
    double *tw;       // m/2 complex twiddles exp(-2 pi i k / m)
    double *chirp;    // Bluestein only: n complex exp(-pi i k^2 / n)
    double *bhat;     // Bluestein only: FFT of the conjugated chirp, m complex
} fft_plan;

static bool is_pow2(int64_t n) { return n > 0 && (n & (n - 1)) == 0; }

/* In-place iterative radix-2 FFT of m complex values (interleaved re, im). */
static void fft_pow2(double *z, int64_t m, const double *tw) {
    for (int64_t i = 1, j = 0; i < m; i++) {   // bit-reversal permutation
        int64_t bit = m >> 1;
        for (; j & bit; bit >>= 1) j ^= bit;
        j ^= bit;
        if (i < j) {
            double r = z[2 * i], im = z[2 * i + 1];
            z[2 * i] = z[2 * j]; z[2 * i + 1] = z[2 * j + 1];
            z[2 * j] = r; z[2 * j + 1] = im;
        }
    }
    for (int64_t len = 2; len <= m; len <<= 1) {
        int64_t half = len / 2, step = m / len;
        for (int64_t i = 0; i < m; i += len) {
            for (int64_t j = 0; j < half; j++) {
                double wr = tw[2 * j * step], wi = tw[2 * j * step + 1];
                double *a = z + 2 * (i + j), *b = z + 2 * (i + j + half);
                double br = b[0] * wr - b[1] * wi, bi = b[0] * wi + b[1] * wr;
                b[0] = a[0] - br; b[1] = a[1] - bi;
                a[0] += br; a[1] += bi;
            }
        }
    }
}

static void fft_plan_free(fft_plan *p) {
    free(p->tw);
    free(p->chirp);
    free(p->bhat);
    memset(p, 0, sizeof *p);
}

static ld_status fft_plan_init(fft_plan *p, int64_t n) {
    memset(p, 0, sizeof *p);
    if (n < 1) return ld_error(LD_ERR_DATA, "transform length must be positive, got %lld", (long long)n);
    if (n > ((int64_t)1 << 28)) return ld_error(LD_ERR_DATA, "transform length %lld is too large", (long long)n);
    p->n = n;
    p->m = 1;
    while (p->m < (is_pow2(n) ? n : 2 * n - 1)) p->m <<= 1;
    p->tw = malloc(sizeof(double) * (size_t)(p->m < 2 ? 2 : p->m));
    if (!p->tw) return ld_oom();
    for (int64_t k = 0; k < p->m / 2; k++) {
        p->tw[2 * k] = cos(-2 * PI * (double)k / (double)p->m);
        p->tw[2 * k + 1] = sin(-2 * PI * (double)k / (double)p->m);
    }
    if (is_pow2(n)) return LD_OK;
    p->chirp = malloc(sizeof(double) * 2 * n);
    p->bhat = calloc(2 * p->m, sizeof(double));
    if (!p->chirp || !p->bhat) { fft_plan_free(p); return ld_oom(); }
    for (int64_t k = 0; k < n; k++) {
        double a = -PI * (double)((k * k) % (2 * n)) / (double)n;   // k^2 mod 2n keeps precision
        p->chirp[2 * k] = cos(a);
        p->chirp[2 * k + 1] = sin(a);
        p->bhat[2 * k] = cos(a);
        p->bhat[2 * k + 1] = -sin(a);
        if (k) { p->bhat[2 * (p->m - k)] = cos(a); p->bhat[2 * (p->m - k) + 1] = -sin(a); }
    }
    fft_pow2(p->bhat, p->m, p->tw);
    return LD_OK;
}

/* Forward DFT of z (n complex) in place; scratch holds m complex (Bluestein only). */
static void fft_forward(const fft_plan *p, double *z, double *scratch) {
    if (!p->chirp) { fft_pow2(z, p->n, p->tw); return; }
    int64_t n = p->n, m = p->m;
    const double *w = p->chirp, *bh = p->bhat;
    for (int64_t k = 0; k < n; k++) {
        scratch[2 * k] = z[2 * k] * w[2 * k] - z[2 * k + 1] * w[2 * k + 1];
        scratch[2 * k + 1] = z[2 * k] * w[2 * k + 1] + z[2 * k + 1] * w[2 * k];
    }
    memset(scratch + 2 * n, 0, sizeof(double) * 2 * (m - n));
    fft_pow2(scratch, m, p->tw);
    for (int64_t k = 0; k < m; k++) {   // multiply by bhat, conjugate (inverse via forward)
        double r = scratch[2 * k] * bh[2 * k] - scratch[2 * k + 1] * bh[2 * k + 1];
        double i = scratch[2 * k] * bh[2 * k + 1] + scratch[2 * k + 1] * bh[2 * k];
        scratch[2 * k] = r;
        scratch[2 * k + 1] = -i;
    }
    fft_pow2(scratch, m, p->tw);
    for (int64_t k = 0; k < n; k++) {
        double r = scratch[2 * k] / (double)m, i = -scratch[2 * k + 1] / (double)m;
        z[2 * k] = r * w[2 * k] - i * w[2 * k + 1];
        z[2 * k + 1] = r * w[2 * k + 1] + i * w[2 * k];
    }
}

/* Unscaled inverse DFT (sum with exp(+2 pi i jk/n)). */
static void fft_inverse(const fft_plan *p, double *z, double *scratch) {
    for (int64_t k = 0; k < p->n; k++) z[2 * k + 1] = -z[2 * k + 1];
    fft_forward(p, z, scratch);
    for (int64_t k = 0; k < p->n; k++) z[2 * k + 1] = -z[2 * k + 1];
}

/* ---- DFT ---- */

typedef struct dft_job {
    int64_t outer, inner;      // lines (outer, len, inner): the axis is the middle dim
    int64_t in_len, in_c;      // input length along the axis; last dim (1 real, 2 complex)
    int64_t n;                 // transform length
    int64_t out_len, out_c;    // output length along the axis; last dim
    bool inverse, c2r;         // inverse transform; onesided inverse (real output)
} dft_job;

/* Gather line (o, i) of x into z (n complex), zero-padded or truncated. */
static void dft_load(const dft_job *j, const float *x, int64_t o, int64_t i, double *z) {
    memset(z, 0, sizeof(double) * 2 * j->n);
    if (!j->c2r) {
        for (int64_t t = 0; t < LD_MIN(j->in_len, j->n); t++) {
            const float *e = x + ((o * j->in_len + t) * j->inner + i) * j->in_c;
            z[2 * t] = e[0];
            z[2 * t + 1] = j->in_c == 2 ? e[1] : 0;
        }
        return;
    }
    int64_t bins = LD_MIN(j->in_len, j->n / 2 + 1);   // Hermitian spectrum from bins 0..n/2
    for (int64_t t = 0; t < bins; t++) {
        const float *e = x + ((o * j->in_len + t) * j->inner + i) * j->in_c;
        double re = e[0], im = j->in_c == 2 ? e[1] : 0;
        if (t == 0 || 2 * t == j->n) im = 0;
        z[2 * t] = re;
        z[2 * t + 1] = im;
        if (t > 0 && 2 * t != j->n) { z[2 * (j->n - t)] = re; z[2 * (j->n - t) + 1] = -im; }
    }
}

static void dft_store(const dft_job *j, float *y, int64_t o, int64_t i, const double *z) {
    double s = j->inverse ? 1.0 / (double)j->n : 1.0;
    for (int64_t t = 0; t < j->out_len; t++) {
        float *e = y + ((o * j->out_len + t) * j->inner + i) * j->out_c;
        e[0] = (float)(z[2 * t] * s);
        if (j->out_c == 2) e[1] = (float)(z[2 * t + 1] * s);
    }
}

static ld_status dft_run(const dft_job *j, const float *x, float *y) {
    fft_plan p;
    LD_TRY(fft_plan_init(&p, j->n));
    int64_t lines = j->outer * j->inner;
    bool oom = false;
    #pragma omp parallel if (lines > 1 && lines * j->n > 32768)
    {
        double *z = malloc(sizeof(double) * 2 * p.n), *scr = malloc(sizeof(double) * 2 * p.m);
        if (!z || !scr) {
            #pragma omp atomic write
            oom = true;
        }
        #pragma omp for schedule(static)
        for (int64_t l = 0; l < lines; l++) {
            if (!z || !scr) continue;
            int64_t o = l / j->inner, i = l % j->inner;
            dft_load(j, x, o, i, z);
            if (j->inverse) fft_inverse(&p, z, scr);
            else fft_forward(&p, z, scr);
            dft_store(j, y, o, i, z);
        }
        free(z);
        free(scr);
    }
    fft_plan_free(&p);
    return oom ? ld_oom() : LD_OK;
}

/* Plan a DFT from x, the axis (unnormalised), dft_length (<= 0: default) and the attributes. */
static ld_status dft_plan(ld_kctx *k, int64_t axis, int64_t dft_len, dft_job *j, int *ndim,
                          int64_t *odims) {
    const ld_tensor *x = k->in[0];
    int r = x->ndim;
    if (r < 2 || (x->dims[r - 1] != 1 && x->dims[r - 1] != 2))
        return ld_error(LD_ERR_DATA, "DFT: input must have rank >= 2 and a last dim of 1 or 2");
    if (axis < 0) axis += r;
    if (axis < 0 || axis > r - 2)
        return ld_error(LD_ERR_DATA, "DFT: axis %lld is out of range for rank %d (the last dim "
                        "holds real/imaginary parts)", (long long)axis, r);
    memset(j, 0, sizeof *j);
    j->inverse = ld_attr_int(k->node, "inverse", 0) != 0;
    bool onesided = ld_attr_int(k->node, "onesided", 0) != 0;
    j->c2r = j->inverse && onesided;
    j->in_len = x->dims[axis];
    j->in_c = x->dims[r - 1];
    j->n = dft_len > 0 ? dft_len : j->c2r ? 2 * (j->in_len - 1) : j->in_len;
    if (j->n < 1)
        return ld_error(LD_ERR_DATA, "DFT: transform length %lld must be positive", (long long)j->n);
    j->out_len = onesided && !j->inverse ? j->n / 2 + 1 : j->n;
    j->out_c = j->c2r ? 1 : 2;
    j->outer = ld_dims_numel((int)axis, x->dims);
    j->inner = ld_dims_numel(r - 2 - (int)axis, x->dims + axis + 1);
    memcpy(odims, x->dims, sizeof(int64_t) * r);
    odims[axis] = j->out_len;
    odims[r - 1] = j->out_c;
    *ndim = r;
    return LD_OK;
}

/* dft_length from input i (absent: 0 = default). */
static ld_status dft_len_input(ld_kctx *k, int i, int64_t *len) {
    *len = 0;
    if (!LD_HAS_IN(k, i)) return LD_OK;
    LD_TRY(ld_misc_scalar_i64(k, i, "dft_length", len));
    if (*len < 1) return ld_error(LD_ERR_DATA, "DFT: dft_length must be positive, got %lld", (long long)*len);
    return LD_OK;
}

/* Opset 17: axis attribute (default 1); opset 20: optional axis input (default -2). */
static ld_status dft_setup(ld_kctx *k, bool v20, dft_job *j, int *ndim, int64_t *odims) {
    int64_t len, axis = v20 ? -2 : ld_attr_int(k->node, "axis", 1);
    LD_TRY(dft_len_input(k, 1, &len));
    if (v20 && LD_HAS_IN(k, 2)) LD_TRY(ld_misc_scalar_i64(k, 2, "axis", &axis));
    return dft_plan(k, axis, len, j, ndim, odims);
}

static ld_status dft_shape_common(ld_kctx *k, bool v20) {
    LD_TRY(ld_misc_need(k, 1));
    if (k->nin > 1) LD_NEED_DATA(k, 1);
    if (v20 && k->nin > 2) LD_NEED_DATA(k, 2);
    LD_TRY(ld_check_dtype(k, 0, LD_DT(LD_F32)));
    dft_job j;
    int nd;
    int64_t od[LD_MAX_DIMS];
    LD_TRY(dft_setup(k, v20, &j, &nd, od));
    return ld_tensor_set_shape(k->out[0], LD_F32, nd, od);
}

static ld_status dft_compute_common(ld_kctx *k, bool v20) {
    dft_job j;
    int nd;
    int64_t od[LD_MAX_DIMS];
    LD_TRY(dft_setup(k, v20, &j, &nd, od));
    return dft_run(&j, LD_F32P(k->in[0]), LD_F32P(k->out[0]));
}

ld_status ld_misc_dft17_shape(ld_kctx *k) { return dft_shape_common(k, false); }
ld_status ld_misc_dft17_compute(ld_kctx *k) { return dft_compute_common(k, false); }
ld_status ld_misc_dft20_shape(ld_kctx *k) { return dft_shape_common(k, true); }
ld_status ld_misc_dft20_compute(ld_kctx *k) { return dft_compute_common(k, true); }

/* ---- STFT ---- */

typedef struct stft_args {
    int64_t batch, len, c, step, flen, frames, bins;
    const float *window;   // NULL: rectangular
} stft_args;

static ld_status stft_args_read(ld_kctx *k, stft_args *a) {
    const ld_tensor *x = k->in[0];
    if (x->ndim != 3 || (x->dims[2] != 1 && x->dims[2] != 2))
        return ld_error(LD_ERR_DATA, "STFT: signal must be (batch, length, 1 or 2)");
    memset(a, 0, sizeof *a);
    a->batch = x->dims[0];
    a->len = x->dims[1];
    a->c = x->dims[2];
    LD_TRY(ld_misc_scalar_i64(k, 1, "frame_step", &a->step));
    if (a->step < 1) return ld_error(LD_ERR_DATA, "STFT: frame_step must be positive");
    int64_t wlen = -1;
    if (LD_HAS_IN(k, 2)) {
        LD_TRY(ld_check_dtype(k, 2, LD_DT(LD_F32)));
        if (k->in[2]->ndim != 1) return ld_error(LD_ERR_DATA, "STFT: window must be 1-D");
        wlen = k->in[2]->dims[0];
        a->window = LD_F32P(k->in[2]);
    }
    a->flen = wlen >= 0 ? wlen : a->len;
    if (LD_HAS_IN(k, 3)) LD_TRY(ld_misc_scalar_i64(k, 3, "frame_length", &a->flen));
    if (wlen >= 0 && wlen != a->flen)
        return ld_error(LD_ERR_DATA, "STFT: window length %lld differs from frame_length %lld",
                        (long long)wlen, (long long)a->flen);
    if (a->flen < 1 || a->flen > a->len)
        return ld_error(LD_ERR_DATA, "STFT: frame_length %lld must be in [1, %lld]",
                        (long long)a->flen, (long long)a->len);
    a->frames = 1 + (a->len - a->flen) / a->step;
    a->bins = ld_attr_int(k->node, "onesided", 1) ? a->flen / 2 + 1 : a->flen;
    return LD_OK;
}

ld_status ld_misc_stft_shape(ld_kctx *k) {
    LD_TRY(ld_misc_need(k, 2));
    LD_NEED_DATA(k, 1);
    if (k->nin > 3) LD_NEED_DATA(k, 3);
    LD_TRY(ld_check_dtype(k, 0, LD_DT(LD_F32)));
    stft_args a;
    LD_TRY(stft_args_read(k, &a));
    int64_t od[4] = {a.batch, a.frames, a.bins, 2};   // (batch, frames, bins, 2)
    return ld_tensor_set_shape(k->out[0], LD_F32, 4, od);
}

ld_status ld_misc_stft_compute(ld_kctx *k) {
    stft_args a;
    LD_TRY(stft_args_read(k, &a));
    fft_plan p;
    LD_TRY(fft_plan_init(&p, a.flen));
    const float *x = LD_F32P(k->in[0]);
    float *y = LD_F32P(k->out[0]);
    int64_t jobs = a.batch * a.frames;
    bool oom = false;
    #pragma omp parallel if (jobs > 1 && jobs * a.flen > 32768)
    {
        double *z = malloc(sizeof(double) * 2 * p.n), *scr = malloc(sizeof(double) * 2 * p.m);
        if (!z || !scr) {
            #pragma omp atomic write
            oom = true;
        }
        #pragma omp for schedule(static)
        for (int64_t jb = 0; jb < jobs; jb++) {
            if (!z || !scr) continue;
            int64_t b = jb / a.frames, f = jb % a.frames;
            const float *s = x + (b * a.len + f * a.step) * a.c;
            for (int64_t t = 0; t < a.flen; t++) {
                double w = a.window ? a.window[t] : 1.0;
                z[2 * t] = s[t * a.c] * w;
                z[2 * t + 1] = a.c == 2 ? s[t * a.c + 1] * w : 0;
            }
            fft_forward(&p, z, scr);
            float *o = y + jb * a.bins * 2;
            for (int64_t t = 0; t < a.bins; t++) {
                o[2 * t] = (float)z[2 * t];
                o[2 * t + 1] = (float)z[2 * t + 1];
            }
        }
        free(z);
        free(scr);
    }
    fft_plan_free(&p);
    return oom ? ld_oom() : LD_OK;
}

/* ---- windows ---- */

static ld_status window_dtype(ld_kctx *k, ld_dtype *dt) {
    *dt = (ld_dtype)ld_attr_int(k->node, "output_datatype", LD_F32);
    if ((unsigned)*dt >= LD_DTYPE_COUNT || !(ld_dtype_is_float(*dt) || ld_dtype_is_int(*dt)))
        return ld_error(LD_ERR_DATA, "output_datatype %d is not a numeric dtype", (int)*dt);
    return LD_OK;
}

ld_status ld_misc_window_shape(ld_kctx *k) {
    LD_TRY(ld_misc_need(k, 1));
    LD_NEED_DATA(k, 0);
    ld_dtype dt;
    int64_t n;
    LD_TRY(window_dtype(k, &dt));
    LD_TRY(ld_misc_scalar_i64(k, 0, "size", &n));
    if (n < 0) return ld_error(LD_ERR_DATA, "window size must be non-negative, got %lld", (long long)n);
    return ld_tensor_set_shape(k->out[0], dt, 1, &n);
}

typedef double (*window_fn)(double n, double N);

static double hann_at(double n, double N) { double s = sin(PI * n / N); return s * s; }
static double hamming_at(double n, double N) { return 25.0 / 46.0 - 21.0 / 46.0 * cos(2 * PI * n / N); }
static double blackman_at(double n, double N) {
    return 0.42 - 0.5 * cos(2 * PI * n / N) + 0.08 * cos(4 * PI * n / N);
}

/* periodic (default): N = size; symmetric: N = size - 1. */
static ld_status window_fill(ld_kctx *k, window_fn fn) {
    ld_tensor *y = k->out[0];
    int64_t size = y->numel;
    double N = ld_attr_int(k->node, "periodic", 1) ? (double)size : (double)(size - 1);
    for (int64_t i = 0; i < size; i++) ld_tensor_set_f64(y, i, N > 0 ? fn((double)i, N) : 1.0);
    return LD_OK;
}

ld_status ld_misc_hann_compute(ld_kctx *k) { return window_fill(k, hann_at); }
ld_status ld_misc_hamming_compute(ld_kctx *k) { return window_fill(k, hamming_at); }
ld_status ld_misc_blackman_compute(ld_kctx *k) { return window_fill(k, blackman_at); }

/* ---- MelWeightMatrix ---- */

ld_status ld_misc_mel_shape(ld_kctx *k) {
    LD_TRY(ld_misc_need(k, 5));
    LD_NEED_DATA(k, 0);
    LD_NEED_DATA(k, 1);
    ld_dtype dt;
    int64_t mels, dft;
    LD_TRY(window_dtype(k, &dt));
    LD_TRY(ld_misc_scalar_i64(k, 0, "num_mel_bins", &mels));
    LD_TRY(ld_misc_scalar_i64(k, 1, "dft_length", &dft));
    if (mels < 1 || dft < 1)
        return ld_error(LD_ERR_DATA, "MelWeightMatrix: num_mel_bins and dft_length must be positive");
    int64_t od[2] = {dft / 2 + 1, mels};   // (spectrogram bins, mel bins)
    return ld_tensor_set_shape(k->out[0], dt, 2, od);
}

static double hz_to_mel(double hz) { return 2595.0 * log10(1.0 + hz / 700.0); }
static double mel_to_hz(double mel) { return 700.0 * (pow(10.0, mel / 2595.0) - 1.0); }

/* Triangular filters between consecutive mel-spaced bin indices (onnx reference algorithm). */
ld_status ld_misc_mel_compute(ld_kctx *k) {
    int64_t mels, dft, rate;
    double lo, hi;
    LD_TRY(ld_misc_scalar_i64(k, 0, "num_mel_bins", &mels));
    LD_TRY(ld_misc_scalar_i64(k, 1, "dft_length", &dft));
    LD_TRY(ld_misc_scalar_i64(k, 2, "sample_rate", &rate));
    LD_TRY(ld_misc_scalar_f64(k, 3, "lower_edge_hertz", &lo));
    LD_TRY(ld_misc_scalar_f64(k, 4, "upper_edge_hertz", &hi));
    if (rate < 1) return ld_error(LD_ERR_DATA, "MelWeightMatrix: sample_rate must be positive");
    int64_t nspec = dft / 2 + 1;
    int64_t *fb = malloc(sizeof(int64_t) * (mels + 2));
    if (!fb) return ld_oom();
    double mlo = hz_to_mel(lo), step = (hz_to_mel(hi) - mlo) / (double)(mels + 2);
    for (int64_t i = 0; i < mels + 2; i++) {
        fb[i] = (int64_t)floor((double)(dft + 1) * mel_to_hz((double)i * step + mlo) / (double)rate);
        if (fb[i] < 0 || fb[i] >= nspec) {
            free(fb);
            return ld_error(LD_ERR_DATA, "MelWeightMatrix: the mel band edges fall outside the %lld "
                            "spectrogram bins (check the edge frequencies and sample_rate)", (long long)nspec);
        }
    }
    ld_tensor *y = k->out[0];   // (nspec, mels), zero-initialised
    for (int64_t i = 0; i < mels; i++) {
        int64_t l = fb[i], c = fb[i + 1], h = fb[i + 2];
        if (c == l) ld_tensor_set_f64(y, c * mels + i, 1.0);
        else for (int64_t j = l; j <= c; j++) ld_tensor_set_f64(y, j * mels + i, (double)(j - l) / (double)(c - l));
        for (int64_t j = c; j < h; j++) ld_tensor_set_f64(y, j * mels + i, (double)(h - j) / (double)(h - c));
    }
    free(fb);
    return LD_OK;
}
