/*
** ops_rnn.c — recurrent layers: RNN, GRU and LSTM (forward, reverse and bidirectional,
** sequence_lens, initial states, custom activations, clip, layout 0/1, GRU's
** linear_before_reset, LSTM peepholes and input_forget, every optional output).
**
** Per direction, the input projection of every time step is one ld_nn_sgemm
** (S*B, I) x W^T -> (S*B, G*H) with both biases folded in; each step then multiplies the
** previous hidden state by R^T (another sgemm over the batch) and applies the gate math
** element-wise. With sequence_lens, batch b runs only its first len[b] steps (the reverse
** direction starts at len[b]-1); its Y rows past len[b] stay zero and Y_h keeps its last state.
*/
#include "ops_nn.h"
#include "ld_op.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

typedef enum cell_kind { CELL_RNN, CELL_GRU, CELL_LSTM } cell_kind;

typedef enum act_kind {
    ACT_RELU, ACT_TANH, ACT_SIGMOID, ACT_AFFINE, ACT_LEAKYRELU, ACT_THRESHOLDEDRELU,
    ACT_SCALEDTANH, ACT_HARDSIGMOID, ACT_ELU, ACT_SOFTSIGN, ACT_SOFTPLUS
} act_kind;

typedef struct act_fn { act_kind kind; float alpha, beta; } act_fn;

static const struct {
    const char *name;
    act_kind kind;
    bool alpha, beta;            /* consumes activation_alpha / activation_beta */
    float da, db;                /* defaults */
} act_table[] = {
    {"Relu", ACT_RELU, false, false, 0, 0},
    {"Tanh", ACT_TANH, false, false, 0, 0},
    {"Sigmoid", ACT_SIGMOID, false, false, 0, 0},
    {"Affine", ACT_AFFINE, true, true, 1.0f, 0.0f},
    {"LeakyRelu", ACT_LEAKYRELU, true, false, 0.01f, 0},
    {"ThresholdedRelu", ACT_THRESHOLDEDRELU, true, false, 1.0f, 0},
    {"ScaledTanh", ACT_SCALEDTANH, true, true, 1.0f, 1.0f},
    {"HardSigmoid", ACT_HARDSIGMOID, true, true, 0.2f, 0.5f},
    {"Elu", ACT_ELU, true, false, 1.0f, 0},
    {"Softsign", ACT_SOFTSIGN, false, false, 0, 0},
    {"Softplus", ACT_SOFTPLUS, false, false, 0, 0},
};

typedef struct rnn_cfg {
    cell_kind cell;
    int G;                        /* gates: 1 RNN, 3 GRU (z r h), 4 LSTM (i o f c) */
    int D;                        /* directions */
    bool reverse_only;
    int64_t S, B, In, H;   /* steps, batch, input size, hidden size */
    int layout;
    float clip;                   /* <= 0: none */
    bool lbr, input_forget;
    int nact;                     /* activations per direction */
    act_fn act[2][3];
} rnn_cfg;

/* ---- configuration ---- */

static ld_status rnn_acts(const ld_node *n, rnn_cfg *c) {
    static const act_kind defaults[3][3] = {
        {ACT_TANH}, {ACT_SIGMOID, ACT_TANH}, {ACT_SIGMOID, ACT_TANH, ACT_TANH}};
    c->nact = c->cell == CELL_RNN ? 1 : c->cell == CELL_GRU ? 2 : 3;
    const ld_attr *a = ld_node_attr(n, "activations");
    int na = a && a->type == LD_ATTR_STRINGS ? a->n : 0;
    if (na && na != c->nact && na != c->nact * c->D)
        return ld_error(LD_ERR_DATA, "expected %d activations, got %d", c->nact * c->D, na);
    int nal, nbe, ia = 0, ib = 0;
    const float *al = ld_attr_floats(n, "activation_alpha", &nal);
    const float *be = ld_attr_floats(n, "activation_beta", &nbe);
    for (int d = 0; d < c->D; d++)
        for (int i = 0; i < c->nact; i++) {
            act_fn *f = &c->act[d][i];
            if (!na) { *f = (act_fn){defaults[c->cell][i], 0, 0}; continue; }
            const char *name = a->strings[(na == c->nact ? 0 : d * c->nact) + i];
            size_t t = 0;
            while (t < LD_ARRAY_LEN(act_table) && strcasecmp(name, act_table[t].name)) t++;
            if (t == LD_ARRAY_LEN(act_table))
                return ld_error(LD_ERR_UNSUPPORTED, "unsupported activation '%s'", name);
            f->kind = act_table[t].kind;
            f->alpha = act_table[t].alpha && ia < nal ? al[ia++] : act_table[t].da;
            f->beta = act_table[t].beta && ib < nbe ? be[ib++] : act_table[t].db;
        }
    return LD_OK;
}

/* The first `nreq` inputs and output 0 must be present tensors (checked once, in shape()). */
static ld_status rnn_check_io(ld_kctx *k, int nreq, bool need_out0) {
    for (int i = 0; i < nreq; i++)
        if (!LD_HAS_IN(k, i) || k->in[i]->kind != LD_KIND_TENSOR)
            return ld_error(LD_ERR_DATA, "required input %d is missing or not a tensor", i);
    if (need_out0 && !LD_HAS_OUT(k, 0)) return ld_error(LD_ERR_DATA, "output 0 is required");
    return LD_OK;
}

static ld_status rnn_config(ld_kctx *k, cell_kind cell, rnn_cfg *c) {
    const ld_node *n = k->node;
    memset(c, 0, sizeof *c);
    c->cell = cell;
    c->G = cell == CELL_RNN ? 1 : cell == CELL_GRU ? 3 : 4;
    const char *dir = ld_attr_str(n, "direction", "forward");
    if (!strcmp(dir, "bidirectional")) c->D = 2;
    else if (!strcmp(dir, "forward") || !strcmp(dir, "reverse")) c->D = 1;
    else return ld_error(LD_ERR_DATA, "unknown direction '%s'", dir);
    c->reverse_only = !strcmp(dir, "reverse");
    c->layout = (int)ld_attr_int(n, "layout", 0);
    c->clip = ld_attr_float(n, "clip", 0.0f);
    c->lbr = ld_attr_int(n, "linear_before_reset", 0) != 0;
    c->input_forget = ld_attr_int(n, "input_forget", 0) != 0;
    if (c->layout != 0 && c->layout != 1) return ld_error(LD_ERR_DATA, "layout must be 0 or 1");
    const ld_tensor *x = k->in[0], *w = k->in[1], *r = k->in[2];
    char s1[128], s2[128], s3[128];
    if (x->ndim != 3 || w->ndim != 3 || r->ndim != 3)
        return ld_error(LD_ERR_DATA, "X, W, R must be 3-D, got %s, %s, %s", ld_shape_str(x, s1, sizeof s1),
                        ld_shape_str(w, s2, sizeof s2), ld_shape_str(r, s3, sizeof s3));
    c->S = x->dims[c->layout ? 1 : 0];
    c->B = x->dims[c->layout ? 0 : 1];
    c->In = x->dims[2];
    c->H = ld_attr_int(n, "hidden_size", r->dims[2]);
    int64_t GH = c->G * c->H;
    if (w->dims[0] != c->D || w->dims[1] != GH || w->dims[2] != c->In ||
        r->dims[0] != c->D || r->dims[1] != GH || r->dims[2] != c->H)
        return ld_error(LD_ERR_DATA, "W %s / R %s do not match %d direction(s), hidden size %lld, input size %lld",
                        ld_shape_str(w, s1, sizeof s1), ld_shape_str(r, s2, sizeof s2), c->D,
                        (long long)c->H, (long long)c->In);
    if (LD_HAS_IN(k, 3) && (k->in[3]->ndim != 2 || k->in[3]->dims[0] != c->D || k->in[3]->dims[1] != 2 * GH))
        return ld_error(LD_ERR_DATA, "B must be (%d, %lld), got %s", c->D, (long long)(2 * GH),
                        ld_shape_str(k->in[3], s1, sizeof s1));
    if (LD_HAS_IN(k, 4) && k->in[4]->numel != c->B)
        return ld_error(LD_ERR_DATA, "sequence_lens must have %lld elements", (long long)c->B);
    for (int i = 5; i <= (cell == CELL_LSTM ? 6 : 5); i++)
        if (LD_HAS_IN(k, i) && k->in[i]->numel != c->D * c->B * c->H)
            return ld_error(LD_ERR_DATA, "initial state %s does not match (%d, %lld, %lld)",
                            ld_shape_str(k->in[i], s1, sizeof s1), c->D, (long long)c->B, (long long)c->H);
    if (cell == CELL_LSTM && LD_HAS_IN(k, 7) && k->in[7]->numel != c->D * 3 * c->H)
        return ld_error(LD_ERR_DATA, "P must be (%d, %lld)", c->D, (long long)(3 * c->H));
    LD_TRY(ld_check_dtype(k, 0, LD_DT(LD_F32)));
    return rnn_acts(n, c);
}

static ld_status rnn_shape_common(ld_kctx *k, cell_kind cell) {
    rnn_cfg c;
    LD_TRY(rnn_check_io(k, 3, false));
    LD_TRY(rnn_config(k, cell, &c));
    int64_t y[4], yh[3];
    if (c.layout) {
        y[0] = c.B; y[1] = c.S; y[2] = c.D; y[3] = c.H;
        yh[0] = c.B; yh[1] = c.D; yh[2] = c.H;
    } else {
        y[0] = c.S; y[1] = c.D; y[2] = c.B; y[3] = c.H;
        yh[0] = c.D; yh[1] = c.B; yh[2] = c.H;
    }
    if (LD_HAS_OUT(k, 0)) LD_TRY(ld_tensor_set_shape(k->out[0], LD_F32, 4, y));
    if (LD_HAS_OUT(k, 1)) LD_TRY(ld_tensor_set_shape(k->out[1], LD_F32, 3, yh));
    if (cell == CELL_LSTM && LD_HAS_OUT(k, 2)) LD_TRY(ld_tensor_set_shape(k->out[2], LD_F32, 3, yh));
    return LD_OK;
}

static ld_status rnn_shape(ld_kctx *k) { return rnn_shape_common(k, CELL_RNN); }
static ld_status gru_shape(ld_kctx *k) { return rnn_shape_common(k, CELL_GRU); }
static ld_status lstm_shape(ld_kctx *k) { return rnn_shape_common(k, CELL_LSTM); }

/* ---- activations ---- */

static void act_apply(const act_fn *f, float clip, float *v, int64_t n) {
    if (clip > 0)
        for (int64_t i = 0; i < n; i++) v[i] = v[i] < -clip ? -clip : v[i] > clip ? clip : v[i];
    float a = f->alpha, b = f->beta;
    switch (f->kind) {
    case ACT_RELU: for (int64_t i = 0; i < n; i++) v[i] = v[i] > 0 ? v[i] : 0; break;
    case ACT_TANH: for (int64_t i = 0; i < n; i++) v[i] = tanhf(v[i]); break;
    case ACT_SIGMOID: for (int64_t i = 0; i < n; i++) v[i] = 1.0f / (1.0f + expf(-v[i])); break;
    case ACT_AFFINE: for (int64_t i = 0; i < n; i++) v[i] = a * v[i] + b; break;
    case ACT_LEAKYRELU: for (int64_t i = 0; i < n; i++) v[i] = v[i] >= 0 ? v[i] : a * v[i]; break;
    case ACT_THRESHOLDEDRELU: for (int64_t i = 0; i < n; i++) v[i] = v[i] > a ? v[i] : 0; break;
    case ACT_SCALEDTANH: for (int64_t i = 0; i < n; i++) v[i] = a * tanhf(b * v[i]); break;
    case ACT_HARDSIGMOID:
        for (int64_t i = 0; i < n; i++) v[i] = fmaxf(0.0f, fminf(1.0f, a * v[i] + b));
        break;
    case ACT_ELU: for (int64_t i = 0; i < n; i++) v[i] = v[i] >= 0 ? v[i] : a * (expf(v[i]) - 1); break;
    case ACT_SOFTSIGN: for (int64_t i = 0; i < n; i++) v[i] = v[i] / (1 + fabsf(v[i])); break;
    case ACT_SOFTPLUS: for (int64_t i = 0; i < n; i++) v[i] = log1pf(expf(v[i])); break;
    }
}

/* ---- one direction ---- */

typedef struct rnn_dir {
    const rnn_cfg *c;
    int d;                        /* direction index into W/R/B/outputs */
    bool reverse;
    const act_fn *act;
    const float *x, *w, *r, *wb, *rb, *p;   /* this direction's slices; biases/p may be NULL */
    const int64_t *len;           /* per batch */
    float *h, *cst;               /* state (B, H) */
    float *xp, *hr, *tmp;         /* (S*B, GH), (B, GH), (B, H) */
    ld_tensor *y, *yh, *yc;
} rnn_dir;

static int64_t x_row(const rnn_cfg *c, int64_t t, int64_t b) { return c->layout ? b * c->S + t : t * c->B + b; }

static int64_t y_off(const rnn_cfg *c, int d, int64_t t, int64_t b) {
    return (c->layout ? (b * c->S + t) * c->D + d : (t * c->D + d) * c->B + b) * c->H;
}

static int64_t yh_off(const rnn_cfg *c, int d, int64_t b) {
    return (c->layout ? b * c->D + d : d * c->B + b) * c->H;
}

/* xp = X W^T + biases (GRU with linear_before_reset keeps Rb_h for the step). */
static void rnn_project(rnn_dir *rd) {
    const rnn_cfg *c = rd->c;
    int64_t rows = c->S * c->B, GH = c->G * c->H;
    if (rows && GH)
        ld_nn_sgemm(false, true, rows, GH, c->In, 1.0f, rd->x, c->In, rd->w, c->In, 0.0f, rd->xp, GH);
    if (!rd->wb) return;
    int64_t nrb = c->cell == CELL_GRU && c->lbr ? 2 * c->H : GH;
    for (int64_t i = 0; i < rows; i++) {
        float *row = rd->xp + i * GH;
        for (int64_t j = 0; j < GH; j++) row[j] += rd->wb[j];
        for (int64_t j = 0; j < nrb; j++) row[j] += rd->rb[j];
    }
}

/* hr(B, n) = h(B, H) R[r0 : r0+n]^T */
static void rnn_recur(rnn_dir *rd, const float *h, int64_t r0, int64_t n, float *out, int64_t ldo) {
    const rnn_cfg *c = rd->c;
    if (c->B && n && c->H)
        ld_nn_sgemm(false, true, c->B, n, c->H, 1.0f, h, c->H, rd->r + r0 * c->H, c->H, 0.0f, out, ldo);
    else if (c->B && n)
        for (int64_t b = 0; b < c->B; b++) memset(out + b * ldo, 0, sizeof(float) * n);
}

static void rnn_cell_rnn(rnn_dir *rd, int64_t b, const float *xrow) {
    int64_t H = rd->c->H;
    float *g = rd->hr + b * H, *h = rd->h + b * H;
    for (int64_t j = 0; j < H; j++) g[j] += xrow[j];
    act_apply(&rd->act[0], rd->c->clip, g, H);
    memcpy(h, g, sizeof(float) * H);
}

static void rnn_cell_lstm(rnn_dir *rd, int64_t b, const float *xrow) {
    const rnn_cfg *c = rd->c;
    int64_t H = c->H;
    float *g = rd->hr + b * 4 * H, *h = rd->h + b * H, *cs = rd->cst + b * H;
    float *gi = g, *go = g + H, *gf = g + 2 * H, *gc = g + 3 * H;
    for (int64_t j = 0; j < 4 * H; j++) g[j] += xrow[j];
    if (rd->p)
        for (int64_t j = 0; j < H; j++) {
            gi[j] += rd->p[j] * cs[j];
            gf[j] += rd->p[2 * H + j] * cs[j];
        }
    act_apply(&rd->act[0], c->clip, gi, H);
    if (c->input_forget) for (int64_t j = 0; j < H; j++) gf[j] = 1.0f - gi[j];
    else act_apply(&rd->act[0], c->clip, gf, H);
    act_apply(&rd->act[1], c->clip, gc, H);
    for (int64_t j = 0; j < H; j++) cs[j] = gf[j] * cs[j] + gi[j] * gc[j];
    if (rd->p) for (int64_t j = 0; j < H; j++) go[j] += rd->p[H + j] * cs[j];
    act_apply(&rd->act[0], c->clip, go, H);
    memcpy(gc, cs, sizeof(float) * H);
    act_apply(&rd->act[2], 0.0f, gc, H);
    for (int64_t j = 0; j < H; j++) h[j] = go[j] * gc[j];
}

/* GRU phase 1: z and r gates; for linear_before_reset also the finished h gate. Without
 * it, tmp[b] = r (.) h_prev for the second product. */
static void rnn_cell_gru_zr(rnn_dir *rd, int64_t b, const float *xrow) {
    const rnn_cfg *c = rd->c;
    int64_t H = c->H;
    float *g = rd->hr + b * 3 * H, *h = rd->h + b * H;
    for (int64_t j = 0; j < 2 * H; j++) g[j] += xrow[j];
    act_apply(&rd->act[0], c->clip, g, 2 * H);
    float *r = g + H, *gh = g + 2 * H;
    if (c->lbr) {
        for (int64_t j = 0; j < H; j++) gh[j] = xrow[2 * H + j] + r[j] * (gh[j] + (rd->rb ? rd->rb[2 * H + j] : 0));
    } else {
        for (int64_t j = 0; j < H; j++) rd->tmp[b * H + j] = r[j] * h[j];
    }
}

static void rnn_cell_gru_h(rnn_dir *rd, int64_t b, const float *xrow) {
    const rnn_cfg *c = rd->c;
    int64_t H = c->H;
    float *g = rd->hr + b * 3 * H, *h = rd->h + b * H, *z = g, *gh = g + 2 * H;
    if (!c->lbr) for (int64_t j = 0; j < H; j++) gh[j] += xrow[2 * H + j];
    act_apply(&rd->act[1], c->clip, gh, H);
    for (int64_t j = 0; j < H; j++) h[j] = (1.0f - z[j]) * gh[j] + z[j] * h[j];
}

/* Time index of batch b at step s, or -1 when its sequence is over. */
static int64_t rnn_time(const rnn_dir *rd, int64_t s, int64_t b) {
    int64_t len = rd->len[b];
    if (s >= len) return -1;
    return rd->reverse ? len - 1 - s : s;
}

static void rnn_run_dir(rnn_dir *rd) {
    const rnn_cfg *c = rd->c;
    int64_t H = c->H, GH = c->G * H;
    rnn_project(rd);
    for (int64_t s = 0; s < c->S; s++) {
        if (c->cell == CELL_GRU && !c->lbr) {
            rnn_recur(rd, rd->h, 0, 2 * H, rd->hr, GH);
            for (int64_t b = 0; b < c->B; b++) {
                int64_t t = rnn_time(rd, s, b);
                if (t >= 0) rnn_cell_gru_zr(rd, b, rd->xp + x_row(c, t, b) * GH);
                else memset(rd->tmp + b * H, 0, sizeof(float) * H);
            }
            rnn_recur(rd, rd->tmp, 2 * H, H, rd->hr + 2 * H, GH);
        } else {
            rnn_recur(rd, rd->h, 0, GH, rd->hr, GH);
            if (c->cell == CELL_GRU)
                for (int64_t b = 0; b < c->B; b++) {
                    int64_t t = rnn_time(rd, s, b);
                    if (t >= 0) rnn_cell_gru_zr(rd, b, rd->xp + x_row(c, t, b) * GH);
                }
        }
        for (int64_t b = 0; b < c->B; b++) {
            int64_t t = rnn_time(rd, s, b);
            if (t < 0) continue;
            const float *xrow = rd->xp + x_row(c, t, b) * GH;
            switch (c->cell) {
            case CELL_RNN: rnn_cell_rnn(rd, b, xrow); break;
            case CELL_GRU: rnn_cell_gru_h(rd, b, xrow); break;
            case CELL_LSTM: rnn_cell_lstm(rd, b, xrow); break;
            }
            if (rd->y) memcpy(LD_F32P(rd->y) + y_off(c, rd->d, t, b), rd->h + b * H, sizeof(float) * H);
        }
    }
    for (int64_t b = 0; b < c->B; b++) {
        if (rd->yh) memcpy(LD_F32P(rd->yh) + yh_off(c, rd->d, b), rd->h + b * H, sizeof(float) * H);
        if (rd->yc) memcpy(LD_F32P(rd->yc) + yh_off(c, rd->d, b), rd->cst + b * H, sizeof(float) * H);
    }
}

/* Copy direction d of an initial state (layout-dependent) into st(B, H). */
static void rnn_init_state(const rnn_cfg *c, const ld_tensor *t, int d, float *st) {
    if (!t) { memset(st, 0, sizeof(float) * c->B * c->H); return; }
    for (int64_t b = 0; b < c->B; b++)
        memcpy(st + b * c->H, LD_F32P(t) + yh_off(c, d, b), sizeof(float) * c->H);
}

static ld_status rnn_compute_common(ld_kctx *k, cell_kind cell) {
    rnn_cfg c;
    LD_TRY(rnn_config(k, cell, &c));
    for (int i = 1; i < k->nin; i++)
        if (i != 4 && LD_HAS_IN(k, i) && k->in[i]->dtype != LD_F32)
            return ld_error(LD_ERR_DATA, "input %d must be float32 like X, got %s", i, ld_dtype_name(k->in[i]->dtype));
    int64_t H = c.H, GH = c.G * H, B = c.B;
    int64_t *len = malloc(sizeof(int64_t) * (size_t)LD_MAX(B, 1));
    if (!len) return ld_oom();
    for (int64_t b = 0; b < B; b++) {
        len[b] = LD_HAS_IN(k, 4) ? ld_tensor_get_i64(k->in[4], b) : c.S;
        if (len[b] < 0 || len[b] > c.S) {
            int64_t bad = len[b];
            free(len);
            return ld_error(LD_ERR_DATA, "sequence_lens[%lld] = %lld is outside [0, %lld]",
                            (long long)b, (long long)bad, (long long)c.S);
        }
    }
    size_t nf = (size_t)(c.S * B * GH + B * GH + 3 * B * H) + 1;
    float *buf = malloc(sizeof(float) * nf);
    ld_status st = buf ? LD_OK : ld_oom();
    for (int d = 0; st == LD_OK && d < c.D; d++) {
        rnn_dir rd = {
            .c = &c, .d = d, .reverse = d == 1 || c.reverse_only, .act = c.act[d],
            .x = k->in[0]->data, .w = LD_F32P(k->in[1]) + d * GH * c.In,
            .r = LD_F32P(k->in[2]) + d * GH * H, .len = len,
            .xp = buf, .hr = buf + c.S * B * GH, .h = buf + c.S * B * GH + B * GH,
            .y = LD_HAS_OUT(k, 0) ? k->out[0] : NULL, .yh = LD_HAS_OUT(k, 1) ? k->out[1] : NULL,
            .yc = cell == CELL_LSTM && LD_HAS_OUT(k, 2) ? k->out[2] : NULL,
        };
        rd.cst = rd.h + B * H;
        rd.tmp = rd.cst + B * H;
        if (LD_HAS_IN(k, 3)) {
            rd.wb = LD_F32P(k->in[3]) + d * 2 * GH;
            rd.rb = rd.wb + GH;
        }
        if (cell == CELL_LSTM && LD_HAS_IN(k, 7)) rd.p = LD_F32P(k->in[7]) + d * 3 * H;
        rnn_init_state(&c, LD_HAS_IN(k, 5) ? k->in[5] : NULL, d, rd.h);
        rnn_init_state(&c, cell == CELL_LSTM && LD_HAS_IN(k, 6) ? k->in[6] : NULL, d, rd.cst);
        rnn_run_dir(&rd);
    }
    free(buf);
    free(len);
    return st;
}

static ld_status rnn_compute(ld_kctx *k) { return rnn_compute_common(k, CELL_RNN); }
static ld_status gru_compute(ld_kctx *k) { return rnn_compute_common(k, CELL_GRU); }
static ld_status lstm_compute(ld_kctx *k) { return rnn_compute_common(k, CELL_LSTM); }

#define RNN_DEF(name, v, s, c) {"", name, v, s, c, LD_OPF_F32_ONLY}

const ld_op_def ld_ops_rnn[] = {
    RNN_DEF("RNN", 1, rnn_shape, rnn_compute), RNN_DEF("RNN", 7, rnn_shape, rnn_compute),
    RNN_DEF("RNN", 14, rnn_shape, rnn_compute), RNN_DEF("RNN", 22, rnn_shape, rnn_compute),
    RNN_DEF("GRU", 1, gru_shape, gru_compute), RNN_DEF("GRU", 3, gru_shape, gru_compute),
    RNN_DEF("GRU", 7, gru_shape, gru_compute), RNN_DEF("GRU", 14, gru_shape, gru_compute),
    RNN_DEF("GRU", 22, gru_shape, gru_compute),
    RNN_DEF("LSTM", 1, lstm_shape, lstm_compute), RNN_DEF("LSTM", 7, lstm_shape, lstm_compute),
    RNN_DEF("LSTM", 14, lstm_shape, lstm_compute), RNN_DEF("LSTM", 22, lstm_shape, lstm_compute),
    {0},
};
