/*
** ops_misc.c — kernel family 'misc': the op table for the ops that fit no other family, the
** helpers the ops_misc_*.c files share, and three small groups of kernels:
**
**   BitCast (opset 26)             reinterpret each element's bits as another same-width type
**   NonMaxSuppression (opset 10)   greedy per-class box selection by IoU
**   Adagrad, Adam, Momentum        ai.onnx.preview.training optimizer steps (pure math)
**
** The other kernels live in ops_misc_signal.c, ops_misc_str.c, ops_misc_tfidf.c,
** ops_misc_ml.c, ops_misc_image.c and ops_misc_random.c (see ops_misc.h).
*/
#include "ops_misc.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* ---- shared helpers ---- */

ld_status ld_misc_need(const ld_kctx *k, int nreq) {
    for (int i = 0; i < nreq; i++)
        if (!LD_HAS_IN(k, i))
            return ld_error(LD_ERR_DATA, "%s: required input %d is missing", k->node->op_type, i);
    if (!LD_HAS_OUT(k, 0)) return ld_error(LD_ERR_DATA, "%s: output 0 has no name", k->node->op_type);
    return LD_OK;
}

ld_status ld_misc_scalar_i64(const ld_kctx *k, int i, const char *what, int64_t *out) {
    const ld_tensor *t = k->in[i];
    if (!t->data || t->numel < 1)
        return ld_error(LD_ERR_DATA, "%s must be a scalar, got an empty tensor", what);
    if (!ld_dtype_is_int(t->dtype))
        return ld_error(LD_ERR_DATA, "%s must be an integer, got %s", what, ld_dtype_name(t->dtype));
    *out = ld_tensor_get_i64(t, 0);
    return LD_OK;
}

ld_status ld_misc_scalar_f64(const ld_kctx *k, int i, const char *what, double *out) {
    const ld_tensor *t = k->in[i];
    if (!t->data || t->numel < 1)
        return ld_error(LD_ERR_DATA, "%s must be a scalar, got an empty tensor", what);
    if (t->dtype == LD_STRING)
        return ld_error(LD_ERR_DATA, "%s must be numeric, got a string", what);
    *out = ld_tensor_get_f64(t, 0);
    return LD_OK;
}

const char *ld_misc_str_at(const ld_tensor *t, int64_t i) {
    const char *s = ((char *const *)t->data)[i];
    return s ? s : "";
}

ld_status ld_misc_str_set(ld_tensor *t, int64_t i, const char *s, size_t n) {
    char **d = t->data;
    free(d[i]);
    d[i] = ld_strndup(s, n);
    return d[i] ? LD_OK : ld_oom();
}

/* ---- BitCast ---- */

/* Width in bits of one element (0: not bit-castable). */
static int dtype_bits(ld_dtype t) {
    switch (t) {
    case LD_U4: case LD_I4: case LD_F4E2M1: return 4;
    case LD_U2: case LD_I2: return 2;
    case LD_STRING: case LD_UNDEFINED: return 0;
    default: return (int)ld_dtype_size(t) * 8;
    }
}

static ld_status bitcast_shape(ld_kctx *k) {
    LD_TRY(ld_misc_need(k, 1));
    const ld_tensor *x = k->in[0];
    ld_dtype to = (ld_dtype)ld_attr_int(k->node, "to", 0);
    if ((unsigned)to >= LD_DTYPE_COUNT || dtype_bits(to) == 0)
        return ld_error(LD_ERR_DATA, "BitCast: 'to' = %d is not a bit-castable dtype", (int)to);
    if (dtype_bits(x->dtype) == 0)
        return ld_error(LD_ERR_DATA, "BitCast: input dtype %s cannot be bit-cast", ld_dtype_name(x->dtype));
    if (dtype_bits(x->dtype) != dtype_bits(to))
        return ld_error(LD_ERR_DATA, "BitCast: %s (%d bits) and %s (%d bits) differ in width",
                        ld_dtype_name(x->dtype), dtype_bits(x->dtype), ld_dtype_name(to), dtype_bits(to));
    return ld_tensor_set_shape(k->out[0], to, x->ndim, x->dims);
}

/* Sub-byte values are held unpacked (one byte each): keep the low bits, sign-extend signed. */
static uint8_t subbyte_recode(uint8_t v, int bits, bool to_signed) {
    uint8_t mask = (uint8_t)((1u << bits) - 1);
    v &= mask;
    if (to_signed && (v >> (bits - 1))) v |= (uint8_t)~mask;
    return v;
}

static ld_status bitcast_compute(ld_kctx *k) {
    const ld_tensor *x = k->in[0];
    ld_tensor *y = k->out[0];
    int bits = dtype_bits(x->dtype);
    if (bits >= 8) {
        if (y->nbytes) memcpy(y->data, x->data, y->nbytes);
        return LD_OK;
    }
    bool to_signed = y->dtype == LD_I4 || y->dtype == LD_I2;
    const uint8_t *s = x->data;
    uint8_t *d = y->data;
    for (int64_t i = 0; i < x->numel; i++) d[i] = subbyte_recode(s[i], bits, to_signed);
    return LD_OK;
}

/* ---- NonMaxSuppression ---- */

typedef struct nms_cand { float score; int64_t idx; } nms_cand;

/* Higher score first; equal scores by lower box index (a stable order). */
static int nms_cand_cmp(const void *a, const void *b) {
    const nms_cand *x = a, *y = b;
    if (x->score != y->score) return x->score < y->score ? 1 : -1;
    return (x->idx > y->idx) - (x->idx < y->idx);
}

/* Box b (4 floats) as (ymin, xmin, ymax, xmax). */
static void nms_corners(const float *b, bool center, float *c) {
    if (center) {   // (x_center, y_center, width, height)
        c[0] = b[1] - b[3] / 2; c[2] = b[1] + b[3] / 2;
        c[1] = b[0] - b[2] / 2; c[3] = b[0] + b[2] / 2;
    } else {        // (y1, x1, y2, x2) corners in any order
        c[0] = fminf(b[0], b[2]); c[2] = fmaxf(b[0], b[2]);
        c[1] = fminf(b[1], b[3]); c[3] = fmaxf(b[1], b[3]);
    }
}

static bool nms_suppress(const float *a, const float *b, float iou_thr) {
    float ih = fminf(a[2], b[2]) - fmaxf(a[0], b[0]);
    float iw = fminf(a[3], b[3]) - fmaxf(a[1], b[1]);
    if (ih <= 0 || iw <= 0) return false;
    float inter = ih * iw;
    float area_a = (a[2] - a[0]) * (a[3] - a[1]), area_b = (b[2] - b[0]) * (b[3] - b[1]);
    float uni = area_a + area_b - inter;
    if (area_a <= 0 || area_b <= 0 || uni <= 0) return false;
    return inter / uni > iou_thr;
}

typedef struct nms_args {
    int64_t batches, classes, boxes, max_out;
    float iou, score_thr;
    bool has_score_thr, center;
} nms_args;

static ld_status nms_args_read(ld_kctx *k, nms_args *a) {
    const ld_tensor *bx = k->in[0], *sc = k->in[1];
    if (bx->ndim != 3 || bx->dims[2] != 4)
        return ld_error(LD_ERR_DATA, "NonMaxSuppression: boxes must be (batches, boxes, 4)");
    if (sc->ndim != 3 || sc->dims[0] != bx->dims[0] || sc->dims[2] != bx->dims[1])
        return ld_error(LD_ERR_DATA, "NonMaxSuppression: scores must be (batches, classes, boxes) "
                                     "matching boxes");
    a->batches = bx->dims[0];
    a->classes = sc->dims[1];
    a->boxes = bx->dims[1];
    a->max_out = 0;
    a->iou = 0;
    a->score_thr = 0;
    a->has_score_thr = false;
    if (LD_HAS_IN(k, 2) && k->in[2]->numel > 0)
        LD_TRY(ld_misc_scalar_i64(k, 2, "max_output_boxes_per_class", &a->max_out));
    if (a->max_out < 0) a->max_out = 0;
    double v;
    if (LD_HAS_IN(k, 3) && k->in[3]->numel > 0) {
        LD_TRY(ld_misc_scalar_f64(k, 3, "iou_threshold", &v));
        a->iou = (float)v;
    }
    if (LD_HAS_IN(k, 4) && k->in[4]->numel > 0) {
        LD_TRY(ld_misc_scalar_f64(k, 4, "score_threshold", &v));
        a->score_thr = (float)v;
        a->has_score_thr = true;
    }
    int64_t cpb = ld_attr_int(k->node, "center_point_box", 0);
    if (cpb != 0 && cpb != 1)
        return ld_error(LD_ERR_DATA, "NonMaxSuppression: center_point_box must be 0 or 1");
    a->center = cpb == 1;
    return LD_OK;
}

/* Select boxes of one (batch, class); appends box indices to sel, returns the count. */
static int64_t nms_one_class(const nms_args *a, const float *corners, const float *scores,
                             nms_cand *cand, int64_t *sel) {
    int64_t nc = 0, ns = 0;
    for (int64_t i = 0; i < a->boxes; i++)
        if (!a->has_score_thr || scores[i] > a->score_thr) cand[nc++] = (nms_cand){scores[i], i};
    qsort(cand, nc, sizeof *cand, nms_cand_cmp);
    for (int64_t c = 0; c < nc && ns < a->max_out; c++) {
        const float *bc = corners + 4 * cand[c].idx;
        bool keep = true;
        for (int64_t s = 0; s < ns && keep; s++)
            keep = !nms_suppress(bc, corners + 4 * sel[s], a->iou);
        if (keep) sel[ns++] = cand[c].idx;
    }
    return ns;
}

static ld_status nms_shape(ld_kctx *k) { return LD_DYNAMIC; }

static ld_status nms_compute(ld_kctx *k) {
    LD_TRY(ld_misc_need(k, 2));
    LD_TRY(ld_check_dtype(k, 0, LD_DT(LD_F32)));
    LD_TRY(ld_check_dtype(k, 1, LD_DT(LD_F32)));
    nms_args a;
    LD_TRY(nms_args_read(k, &a));
    int64_t per = LD_MIN(a.max_out, a.boxes), cap = a.batches * a.classes * per;
    float *corners = ld_malloc(sizeof(float) * 4 * (a.boxes ? a.boxes : 1));
    nms_cand *cand = ld_malloc(sizeof(nms_cand) * (a.boxes ? a.boxes : 1));
    int64_t *sel = ld_malloc(sizeof(int64_t) * (per ? per : 1));
    int64_t *res = ld_malloc(sizeof(int64_t) * 3 * (cap ? cap : 1));
    ld_status st = (!corners || !cand || !sel || !res) ? ld_oom() : LD_OK;
    int64_t nres = 0;
    for (int64_t b = 0; st == LD_OK && b < a.batches; b++) {
        const float *bx = LD_F32P(k->in[0]) + b * a.boxes * 4;
        for (int64_t i = 0; i < a.boxes; i++) nms_corners(bx + 4 * i, a.center, corners + 4 * i);
        for (int64_t c = 0; c < a.classes; c++) {
            const float *sc = LD_F32P(k->in[1]) + (b * a.classes + c) * a.boxes;
            int64_t ns = nms_one_class(&a, corners, sc, cand, sel);
            for (int64_t s = 0; s < ns; s++, nres++) {
                res[3 * nres] = b;
                res[3 * nres + 1] = c;
                res[3 * nres + 2] = sel[s];
            }
        }
    }
    int64_t dims[2] = {nres, 3};
    if (st == LD_OK) st = ld_tensor_alloc(k->out[0], LD_I64, 2, dims);
    if (st == LD_OK && nres) memcpy(k->out[0]->data, res, sizeof(int64_t) * 3 * nres);
    free(corners);
    free(cand);
    free(sel);
    free(res);
    return st;
}

/* ---- training optimizers (ai.onnx.preview.training) ---- */

/* Inputs (R, T, then `groups` lists of n tensors each); outputs `outs` lists of n. */
static ld_status optim_count(ld_kctx *k, int groups, int outs, int *n) {
    if (k->nin < 2 + groups || (k->nin - 2) % groups)
        return ld_error(LD_ERR_DATA, "%s: expected R, T and %d lists of equal length, got %d inputs",
                        k->node->op_type, groups, k->nin);
    *n = (k->nin - 2) / groups;
    if (k->nout > outs * *n)
        return ld_error(LD_ERR_DATA, "%s: %d outputs for %d tensors", k->node->op_type, k->nout, *n);
    for (int g = 1; g < groups; g++)
        for (int i = 0; i < *n; i++)
            if (!ld_shape_equal(k->in[2 + i], k->in[2 + g * *n + i]))
                return ld_error(LD_ERR_DATA, "%s: input %d's shape differs from input %d's",
                                k->node->op_type, 2 + g * *n + i, 2 + i);
    return LD_OK;
}

static ld_status optim_shape(ld_kctx *k, int groups, int outs) {
    LD_TRY(ld_misc_need(k, k->nin));
    int n;
    LD_TRY(optim_count(k, groups, outs, &n));
    for (int i = 2; i < k->nin; i++) LD_TRY(ld_check_dtype(k, i, LD_DT(LD_F32)));
    for (int o = 0; o < k->nout; o++) {
        if (!k->out[o]) continue;
        const ld_tensor *x = k->in[2 + o % n];   // every list has X's shapes
        LD_TRY(ld_tensor_set_shape(k->out[o], x->dtype, x->ndim, x->dims));
    }
    return LD_OK;
}

static ld_status adagrad_shape(ld_kctx *k) { return optim_shape(k, 3, 2); }
static ld_status adam_shape(ld_kctx *k) { return optim_shape(k, 4, 3); }
static ld_status momentum_shape(ld_kctx *k) { return optim_shape(k, 3, 2); }

static ld_status optim_rt(ld_kctx *k, double *r, int64_t *t) {
    LD_TRY(ld_misc_scalar_f64(k, 0, "R", r));
    return ld_misc_scalar_i64(k, 1, "T", t);
}

/* float pointer of output o, or NULL when unused. */
static float *optim_out(ld_kctx *k, int o) { return LD_HAS_OUT(k, o) ? LD_F32P(k->out[o]) : NULL; }

static ld_status adagrad_compute(ld_kctx *k) {
    int n;
    LD_TRY(optim_count(k, 3, 2, &n));
    double r, eps = ld_attr_float(k->node, "epsilon", 0), decay = ld_attr_float(k->node, "decay_factor", 0);
    double lam = ld_attr_float(k->node, "norm_coefficient", 0);
    int64_t t;
    LD_TRY(optim_rt(k, &r, &t));
    double ra = r / (1 + (double)t * decay);
    for (int i = 0; i < n; i++) {
        const float *x = LD_F32P(k->in[2 + i]), *g = LD_F32P(k->in[2 + n + i]), *h = LD_F32P(k->in[2 + 2 * n + i]);
        float *xo = optim_out(k, i), *ho = optim_out(k, n + i);
        for (int64_t e = 0; e < k->in[2 + i]->numel; e++) {
            double gr = lam * x[e] + g[e], hn = h[e] + gr * gr;
            if (xo) xo[e] = (float)(x[e] - ra * gr / (sqrt(hn) + eps));
            if (ho) ho[e] = (float)hn;
        }
    }
    return LD_OK;
}

static ld_status adam_compute(ld_kctx *k) {
    int n;
    LD_TRY(optim_count(k, 4, 3, &n));
    double r, alpha = ld_attr_float(k->node, "alpha", 0.9f), beta = ld_attr_float(k->node, "beta", 0.999f);
    double eps = ld_attr_float(k->node, "epsilon", 0), lam = ld_attr_float(k->node, "norm_coefficient", 0);
    double lam_post = ld_attr_float(k->node, "norm_coefficient_post", 0);
    int64_t t;
    LD_TRY(optim_rt(k, &r, &t));
    double ra = t > 0 ? r * sqrt(1 - pow(beta, (double)t)) / (1 - pow(alpha, (double)t)) : r;
    for (int i = 0; i < n; i++) {
        const float *x = LD_F32P(k->in[2 + i]), *g = LD_F32P(k->in[2 + n + i]);
        const float *v = LD_F32P(k->in[2 + 2 * n + i]), *h = LD_F32P(k->in[2 + 3 * n + i]);
        float *xo = optim_out(k, i), *vo = optim_out(k, n + i), *ho = optim_out(k, 2 * n + i);
        for (int64_t e = 0; e < k->in[2 + i]->numel; e++) {
            double gr = lam * x[e] + g[e];
            double vn = alpha * v[e] + (1 - alpha) * gr, hn = beta * h[e] + (1 - beta) * gr * gr;
            if (xo) xo[e] = (float)((1 - lam_post) * (x[e] - ra * vn / (sqrt(hn) + eps)));
            if (vo) vo[e] = (float)vn;
            if (ho) ho[e] = (float)hn;
        }
    }
    return LD_OK;
}

static ld_status momentum_compute(ld_kctx *k) {
    int n;
    LD_TRY(optim_count(k, 3, 2, &n));
    const char *mode = ld_attr_str(k->node, "mode", "standard");
    bool nesterov = !strcmp(mode, "nesterov");
    if (!nesterov && strcmp(mode, "standard"))
        return ld_error(LD_ERR_DATA, "Momentum: mode must be 'standard' or 'nesterov', got '%s'", mode);
    double r, alpha = ld_attr_float(k->node, "alpha", 0), beta = ld_attr_float(k->node, "beta", 0);
    double lam = ld_attr_float(k->node, "norm_coefficient", 0);
    int64_t t;
    LD_TRY(optim_rt(k, &r, &t));
    double ba = t > 0 ? beta : 1;   // the gradient's coefficient is 1 on the first step
    for (int i = 0; i < n; i++) {
        const float *x = LD_F32P(k->in[2 + i]), *g = LD_F32P(k->in[2 + n + i]), *v = LD_F32P(k->in[2 + 2 * n + i]);
        float *xo = optim_out(k, i), *vo = optim_out(k, n + i);
        for (int64_t e = 0; e < k->in[2 + i]->numel; e++) {
            double gr = lam * x[e] + g[e], vn = alpha * v[e] + ba * gr;
            if (xo) xo[e] = (float)(nesterov ? x[e] - r * (gr + alpha * vn) : x[e] - r * vn);
            if (vo) vo[e] = (float)vn;
        }
    }
    return LD_OK;
}

/* ---- the table ---- */

#define TRAIN "ai.onnx.preview.training"
#define ML "ai.onnx.ml"

const ld_op_def ld_ops_misc[] = {
    {"", "BitCast", 26, bitcast_shape, bitcast_compute, 0},
    {"", "NonMaxSuppression", 10, nms_shape, nms_compute, LD_OPF_ALLOCS},
    {TRAIN, "Adagrad", 1, adagrad_shape, adagrad_compute, LD_OPF_F32_ONLY},
    {TRAIN, "Adam", 1, adam_shape, adam_compute, LD_OPF_F32_ONLY},
    {TRAIN, "Momentum", 1, momentum_shape, momentum_compute, LD_OPF_F32_ONLY},
    /* signal processing */
    {"", "HannWindow", 17, ld_misc_window_shape, ld_misc_hann_compute, 0},
    {"", "HammingWindow", 17, ld_misc_window_shape, ld_misc_hamming_compute, 0},
    {"", "BlackmanWindow", 17, ld_misc_window_shape, ld_misc_blackman_compute, 0},
    {"", "DFT", 17, ld_misc_dft17_shape, ld_misc_dft17_compute, LD_OPF_F32_ONLY},
    {"", "DFT", 20, ld_misc_dft20_shape, ld_misc_dft20_compute, LD_OPF_F32_ONLY},
    {"", "STFT", 17, ld_misc_stft_shape, ld_misc_stft_compute, LD_OPF_F32_ONLY},
    {"", "MelWeightMatrix", 17, ld_misc_mel_shape, ld_misc_mel_compute, 0},
    /* strings */
    {"", "StringNormalizer", 10, ld_misc_strnorm_shape, ld_misc_strnorm_compute, LD_OPF_ALLOCS},
    {"", "StringConcat", 20, ld_misc_strconcat_shape, ld_misc_strconcat_compute, 0},
    {"", "StringSplit", 20, ld_misc_strsplit_shape, ld_misc_strsplit_compute, LD_OPF_ALLOCS},
    {"", "RegexFullMatch", 20, ld_misc_regex_shape, ld_misc_regex_compute, 0},
    {"", "TfIdfVectorizer", 9, ld_misc_tfidf_shape, ld_misc_tfidf_compute, 0},
    /* ai.onnx.ml */
    {ML, "Binarizer", 1, ld_misc_binarizer_shape, ld_misc_binarizer_compute, 0},
    {ML, "ArrayFeatureExtractor", 1, ld_misc_afe_shape, ld_misc_afe_compute, 0},
    {ML, "LabelEncoder", 1, ld_misc_labelenc1_shape, ld_misc_labelenc1_compute, 0},
    {ML, "LabelEncoder", 2, ld_misc_labelenc_shape, ld_misc_labelenc_compute, 0},
    {ML, "TreeEnsemble", 5, ld_misc_tree_shape, ld_misc_tree_compute, 0},
    /* images */
    {"", "ImageDecoder", 20, ld_misc_imgdec_shape, ld_misc_imgdec_compute, LD_OPF_ALLOCS},
    /* random: deterministic generator, never folded (ops_misc_random.c) */
    {"", "RandomNormal", 1, ld_misc_rand_shape, ld_misc_rand_normal_compute, LD_OPF_NOFOLD},
    {"", "RandomUniform", 1, ld_misc_rand_shape, ld_misc_rand_uniform_compute, LD_OPF_NOFOLD},
    {"", "RandomNormalLike", 1, ld_misc_rand_like_shape, ld_misc_rand_normal_compute, LD_OPF_NOFOLD},
    {"", "RandomUniformLike", 1, ld_misc_rand_like_shape, ld_misc_rand_uniform_compute, LD_OPF_NOFOLD},
    {"", "Multinomial", 7, ld_misc_multinomial_shape, ld_misc_multinomial_compute, LD_OPF_NOFOLD},
    {"", "Bernoulli", 15, ld_misc_bernoulli_shape, ld_misc_bernoulli_compute, LD_OPF_NOFOLD},
    {0},
};
