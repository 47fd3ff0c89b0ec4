/*
** ops_nn_deform.c — DeformConv (opset 19/22), float32, any spatial rank: a deformable im2col
** (each kernel tap samples the input at its offset position with n-linear interpolation,
** zero outside, times the optional mask) followed by one sgemm per group. Written for
** correctness; the sampling loop is plain.
*/
#include "ops_nn.h"

#include <math.h>
#include <string.h>

typedef struct deform {
    ld_nn_conv cv;
    int64_t og;          /* offset groups */
} deform;

static ld_status deform_setup(ld_kctx *k, deform *df) {
    const ld_tensor *x = k->in[0], *w = k->in[1], *off = k->in[2];
    ld_nn_conv *cv = &df->cv;
    for (int i = 0; i < 5; i++)
        if (LD_HAS_IN(k, i)) LD_TRY(ld_check_dtype(k, i, LD_DT(LD_F32)));
    if (!LD_HAS_IN(k, 2)) return ld_error(LD_ERR_DATA, "DeformConv needs an offset input");
    if (x->ndim < 3 || w->ndim != x->ndim || off->ndim != x->ndim)
        return ld_error(LD_ERR_DATA, "DeformConv: X, W and offset must have the same rank >= 3");
    memset(df, 0, sizeof *df);
    cv->nsp = x->ndim - 2;
    cv->n = x->dims[0];
    cv->c = x->dims[1];
    cv->m = w->dims[0];
    for (int i = 0; i < cv->nsp; i++) cv->in[i] = x->dims[2 + i];
    LD_TRY(ld_nn_conv_attrs(k->node, w->dims + 2, cv));
    if (cv->c != w->dims[1] * cv->group || cv->m % cv->group)
        return ld_error(LD_ERR_DATA,
                        "DeformConv channels: input %lld, weight (%lld,%lld,...), group %lld",
                        (long long)cv->c, (long long)w->dims[0], (long long)w->dims[1],
                        (long long)cv->group);
    LD_TRY(ld_nn_conv_forward_dims(k->node, cv));
    df->og = ld_attr_int(k->node, "offset_group", 1);
    if (df->og < 1 || cv->c % df->og)
        return ld_error(LD_ERR_DATA, "DeformConv: offset_group %lld does not divide %lld channels",
                        (long long)df->og, (long long)cv->c);
    bool ok = off->dims[0] == cv->n && off->dims[1] == df->og * cv->k_size * cv->nsp;
    for (int i = 0; i < cv->nsp; i++) ok = ok && off->dims[2 + i] == cv->out[i];
    if (!ok) {
        char s[128];
        return ld_error(LD_ERR_DATA, "DeformConv: offset shape %s does not match the output geometry",
                        ld_shape_str(off, s, sizeof s));
    }
    if (LD_HAS_IN(k, 3) && (k->in[3]->ndim != 1 || k->in[3]->dims[0] != cv->m))
        return ld_error(LD_ERR_DATA, "DeformConv bias must have shape (%lld)", (long long)cv->m);
    if (LD_HAS_IN(k, 4)) {
        const ld_tensor *mk = k->in[4];
        ok = mk->ndim == x->ndim && mk->dims[0] == cv->n && mk->dims[1] == df->og * cv->k_size;
        for (int i = 0; ok && i < cv->nsp; i++) ok = mk->dims[2 + i] == cv->out[i];
        if (!ok) return ld_error(LD_ERR_DATA, "DeformConv: mask shape does not match the offsets");
    }
    return LD_OK;
}

ld_status ld_nn_deform_shape(ld_kctx *k) {
    deform df;
    LD_TRY(deform_setup(k, &df));
    int64_t dims[LD_MAX_DIMS] = {df.cv.n, df.cv.m};
    for (int i = 0; i < df.cv.nsp; i++) dims[2 + i] = df.cv.out[i];
    return ld_tensor_set_shape(k->out[0], LD_F32, df.cv.nsp + 2, dims);
}

/* n-linear sample of plane xc at fractional position pos (zero outside). */
static float deform_sample(const ld_nn_conv *cv, const float *xc, const double *pos) {
    int nsp = cv->nsp;
    int64_t base[LD_NN_MAX_SP], ist[LD_NN_MAX_SP];
    double frac[LD_NN_MAX_SP];
    ld_strides(nsp, cv->in, ist);
    for (int i = 0; i < nsp; i++) {
        double f = floor(pos[i]);
        if (!(f >= -2.0 && f <= (double)cv->in[i] + 1.0)) return 0.0f;   /* outside (or NaN) */
        base[i] = (int64_t)f;
        frac[i] = pos[i] - f;
    }
    double acc = 0;
    for (int corner = 0; corner < (1 << nsp); corner++) {
        double wgt = 1;
        int64_t off = 0;
        bool inside = true;
        for (int i = 0; i < nsp && inside; i++) {
            int hi = (corner >> (nsp - 1 - i)) & 1;
            int64_t ii = base[i] + hi;
            inside = ii >= 0 && ii < cv->in[i];
            wgt *= hi ? frac[i] : 1.0 - frac[i];
            off += ii * ist[i];
        }
        if (inside && wgt != 0) acc += wgt * xc[off];
    }
    return (float)acc;
}

/* col (c*k_size, out_size) for image img. */
static void deform_im2col(const deform *df, const float *x, const float *offset,
                          const float *mask, float *col) {
    const ld_nn_conv *cv = &df->cv;
    int nsp = cv->nsp;
    int64_t rows = cv->c * cv->k_size, cpg = cv->c / df->og;
    #pragma omp parallel for schedule(static) if (rows * cv->out_size > 16384)
    for (int64_t r = 0; r < rows; r++) {
        int64_t c = r / cv->k_size, kt = r % cv->k_size, g = c / cpg, kidx[LD_NN_MAX_SP], t = kt;
        for (int i = nsp - 1; i >= 0; i--) {
            kidx[i] = t % cv->k[i];
            t /= cv->k[i];
        }
        const float *xc = x + c * cv->in_size;
        const float *offp = offset + (g * cv->k_size + kt) * nsp * cv->out_size;
        const float *mp = mask ? mask + (g * cv->k_size + kt) * cv->out_size : NULL;
        int64_t oidx[LD_NN_MAX_SP] = {0};
        for (int64_t p = 0; p < cv->out_size; p++) {
            double pos[LD_NN_MAX_SP];
            for (int i = 0; i < nsp; i++)
                pos[i] = (double)(oidx[i] * cv->s[i] - cv->pb[i] + kidx[i] * cv->d[i]) +
                         offp[i * cv->out_size + p];
            float v = deform_sample(cv, xc, pos);
            col[r * cv->out_size + p] = mp ? v * mp[p] : v;
            for (int i = nsp - 1; i >= 0 && ++oidx[i] == cv->out[i]; i--) oidx[i] = 0;
        }
    }
}

ld_status ld_nn_deform_compute(ld_kctx *k) {
    deform df;
    LD_TRY(deform_setup(k, &df));
    const ld_nn_conv *cv = &df.cv;
    if (k->out[0]->numel == 0) return LD_OK;
    const float *x = LD_F32P(k->in[0]), *w = LD_F32P(k->in[1]), *off = LD_F32P(k->in[2]);
    const float *b = LD_HAS_IN(k, 3) ? LD_F32P(k->in[3]) : NULL;
    const float *mask = LD_HAS_IN(k, 4) ? LD_F32P(k->in[4]) : NULL;
    float *y = LD_F32P(k->out[0]);
    int64_t cg = cv->c / cv->group, mg = cv->m / cv->group, kc = cg * cv->k_size;
    int64_t ohw = cv->out_size;
    if (kc > INT32_MAX || ohw > INT32_MAX || mg > INT32_MAX)
        return ld_error(LD_ERR_UNSUPPORTED, "DeformConv too large");
    float *col = ld_nn_scratch(0, (size_t)cv->c * cv->k_size * ohw);
    if (!col) return ld_error(LD_ERR_NOMEM, "out of memory for the DeformConv buffer");
    for (int64_t img = 0; img < cv->n; img++) {
        deform_im2col(&df, x + img * cv->c * cv->in_size,
                      off + img * df.og * cv->k_size * cv->nsp * ohw,
                      mask ? mask + img * df.og * cv->k_size * ohw : NULL, col);
        for (int64_t gi = 0; gi < cv->group; gi++) {
            float *yg = y + (img * cv->m + gi * mg) * ohw;
            for (int64_t mo = 0; b && mo < mg; mo++)
                for (int64_t p = 0; p < ohw; p++) yg[mo * ohw + p] = b[gi * mg + mo];
            ld_nn_sgemm(false, false, mg, ohw, kc, 1.0f, w + gi * mg * kc, kc, col + gi * kc * ohw,
                        ohw, b ? 1.0f : 0.0f, yg, ohw);
        }
    }
    return LD_OK;
}
