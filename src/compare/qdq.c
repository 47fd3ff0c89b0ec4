/*
** qdq.c — the QDQ plan of an explicitly quantized model (see ld_qdq.h): which
** QuantizeLinear/DequantizeLinear nodes form quantizers, their parameters (scales, zero point,
** axis, block size, quantized type), float originals of quantized weights from
** --float-model, and the quantizer statistics and reasons the comparison reports.
*/
#include "ld_qdq.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static ld_op_kind kind_of(const ld_node *n) { return ld_node_traits(n)->kind; }

/* Range of a quantized type; half_step: half the spacing at the top of a float type. */
static bool qrange(ld_dtype t, double *lo, double *hi, double *half_step) {
    static const struct { ld_dtype t; double lo, hi, half; } tab[] = {
        {LD_U8, 0, 255, 0.5}, {LD_I8, -128, 127, 0.5}, {LD_U16, 0, 65535, 0.5},
        {LD_I16, -32768, 32767, 0.5}, {LD_I32, -2147483648.0, 2147483647.0, 0.5},
        {LD_U4, 0, 15, 0.5}, {LD_I4, -8, 7, 0.5}, {LD_U2, 0, 3, 0.5}, {LD_I2, -2, 1, 0.5},
        {LD_F8E4M3FN, -448, 448, 16}, {LD_F8E4M3FNUZ, -240, 240, 8},
        {LD_F8E5M2, -57344, 57344, 4096}, {LD_F8E5M2FNUZ, -57344, 57344, 4096},
        {LD_F4E2M1, -6, 6, 1},
    };
    for (size_t i = 0; i < LD_ARRAY_LEN(tab); i++)
        if (tab[i].t == t) { *lo = tab[i].lo; *hi = tab[i].hi; *half_step = tab[i].half; return true; }
    return false;
}

static const ld_tensor *const_of(const ld_graph *g, const ld_node *n, int k) {
    return k < n->nin && n->in[k] >= 0 ? g->values[n->in[k]].const_val : NULL;
}

/* Scales, zero point, axis, block size and quantized type of the pair whose DQ is node dq. */
static void pair_params(const ld_graph *g, ld_qdq_pair *p) {
    const ld_node *n = &g->nodes[p->dq];
    const ld_tensor *s = const_of(g, n, 1), *zp = const_of(g, n, 2), *x = const_of(g, n, 0);
    p->qdtype = x ? x->dtype : zp ? zp->dtype : LD_U8;
    const ld_value *xin = &g->values[n->in[0]];
    if (!x && xin->info_known) p->qdtype = xin->info.dtype;
    double half;
    if (!qrange(p->qdtype, &p->qmin, &p->qmax, &half)) p->qmin = p->qmax = 0;
    p->axis = (int)ld_attr_int(n, "axis", 1);
    p->block_size = (int)ld_attr_int(n, "block_size", 0);
    p->scale_min = INFINITY;
    p->scale_max = -INFINITY;
    if (s && s->kind == LD_KIND_TENSOR) {
        p->nscale = s->numel;
        for (int64_t i = 0; i < s->numel; i++) {
            double v = fabs(ld_tensor_get_f64(s, i));
            if (v < p->scale_min) p->scale_min = v;
            if (v > p->scale_max) p->scale_max = v;
            p->scale_zero += v == 0;
        }
    }
    if (p->nscale <= 1) p->axis = -1;
    else if (p->axis < 0) {   /* ONNX allows a negative axis: counted from the input's rank */
        int nd = x ? x->ndim : xin->info_known ? xin->info.ndim : xin->has_decl ? xin->decl_ndim : -1;
        if (nd > 0 && p->axis >= -nd) p->axis += nd;
    }
    p->zero_point = zp && zp->numel ? ld_tensor_get_f64(zp, 0) : 0;
    p->zp_t = zp && zp->kind == LD_KIND_TENSOR && zp->numel > 1 ? zp : NULL;
    p->xmin = INFINITY;
    p->xmax = -INFINITY;
}

ld_status ld_qdq_plan(ld_graph *g, ld_qdq *q) {
    memset(q, 0, sizeof *q);
    q->of_node = malloc(sizeof(int) * (g->nnodes + 1));
    q->of_value = malloc(sizeof(int) * (g->nvalues + 1));
    q->pairs = calloc(g->nnodes + 1, sizeof *q->pairs);
    if (!q->of_node || !q->of_value || !q->pairs) return ld_oom();
    for (int i = 0; i < g->nnodes; i++) q->of_node[i] = -1;
    for (int v = 0; v < g->nvalues; v++) q->of_value[v] = -1;
    /* per value: readers that are not DequantizeLinear, and the first reader */
    int *other = calloc(g->nvalues + 1, sizeof(int)), *first = malloc(sizeof(int) * (g->nvalues + 1));
    if (!other || !first) { free(other); free(first); return ld_oom(); }
    for (int v = 0; v < g->nvalues; v++) first[v] = -1;
    for (int j = 0; j < g->nnodes; j++)
        for (int k = 0; k < g->nodes[j].nin; k++) {
            int v = g->nodes[j].in[k];
            if (v < 0) continue;
            if (kind_of(&g->nodes[j]) != LD_OPK_DEQUANTIZE) other[v]++;
            if (first[v] < 0) first[v] = j;
        }
    for (int i = 0; i < g->nnodes; i++) {
        const ld_node *n = &g->nodes[i];
        if (kind_of(n) != LD_OPK_DEQUANTIZE || n->nin < 2 || n->in[0] < 0 || n->nout < 1 || n->out[0] < 0) continue;
        int in0 = n->in[0], prod = g->values[in0].producer;
        ld_qdq_pair p = {.dq = i, .q = -1, .src = -1, .out = n->out[0], .consumer = -1};
        if (prod >= 0 && kind_of(&g->nodes[prod]) == LD_OPK_QUANTIZE && g->nodes[prod].in[0] >= 0) {
            /* the Q's output feeds DequantizeLinear nodes only */
            if (other[in0] || g->values[in0].is_output) continue;
            p.q = prod;
            p.src = g->nodes[prod].in[0];
            const ld_tensor *c = g->values[p.src].const_val;
            p.weight = c != NULL;
            if (c && c->kind == LD_KIND_TENSOR && c->dtype == LD_F32) p.float_w = (ld_tensor *)c;
        } else if (g->values[in0].const_val) {
            p.weight = true;
        } else {
            continue;
        }
        p.consumer = first[p.out];
        pair_params(g, &p);
        if (!p.weight && g->values[p.src].last_use < i) g->values[p.src].last_use = i;
        if (p.weight) { q->nweights++; q->nweights_float += p.float_w != NULL; }
        q->of_node[i] = q->npairs;
        q->of_value[p.out] = q->npairs;
        q->pairs[q->npairs++] = p;
    }
    free(other);
    free(first);
    return LD_OK;
}

static const ld_tensor *float_named(const ld_graph *fm, const char *name, const ld_tensor *like) {
    int v = ld_graph_find_value(fm, name);
    const ld_tensor *t = v >= 0 ? fm->values[v].const_val : NULL;
    if (!t || t->kind != LD_KIND_TENSOR || t->dtype != LD_F32 || !ld_shape_equal(t, like)) return NULL;
    return t;
}

/* name without the suffix (buf), or NULL if it does not end so */
static const char *strip(const char *name, const char *suffix, char *buf, size_t n) {
    size_t a = strlen(name), b = strlen(suffix);
    if (a <= b || strcmp(name + a - b, suffix) || a - b >= n) return NULL;
    memcpy(buf, name, a - b);
    buf[a - b] = 0;
    return buf;
}

ld_status ld_qdq_float_model(ld_qdq *q, const ld_graph *g, const ld_graph *fm, const char *path) {
    q->float_model = path;
    for (int i = 0; i < q->npairs; i++) {
        ld_qdq_pair *p = &q->pairs[i];
        const ld_node *n = &g->nodes[p->dq];
        const ld_tensor *dq = g->values[p->out].const_val;   /* NULL: too big to fold at load */
        const ld_tensor *like = dq ? dq : g->values[n->in[0]].const_val;
        if (!p->weight || p->float_w || !like) continue;
        char buf[1024];
        const char *names[4] = {g->values[n->in[0]].name, g->values[p->out].name,
                                strip(g->values[n->in[0]].name, "_quantized", buf, sizeof buf), NULL};
        char buf2[1024];
        names[3] = strip(g->values[p->out].name, "_DequantizeLinear_Output", buf2, sizeof buf2);
        const ld_tensor *t = NULL;
        for (int k = 0; k < 4 && !t; k++) if (names[k]) t = float_named(fm, names[k], like);
        if (!t && p->consumer >= 0) {   /* by consumer node name and input position */
            const ld_node *c = &g->nodes[p->consumer];
            for (int j = 0; j < fm->nnodes && !t; j++) {
                const ld_node *f = &fm->nodes[j];
                if (strcmp(f->name, c->name) || f->nin != c->nin) continue;
                for (int k = 0; k < c->nin && !t; k++)
                    if (c->in[k] == p->out && f->in[k] >= 0) t = float_named(fm, fm->values[f->in[k]].name, like);
            }
        }
        if (!t) continue;
        p->float_w = (ld_tensor *)t;
        q->nweights_float++;
        if (dq) ld_qdq_measure(p, t, g->values[n->in[0]].const_val, dq);
    }
    return LD_OK;
}

void ld_qdq_free(ld_qdq *q) {
    free(q->of_node);
    free(q->of_value);
    free(q->pairs);
    memset(q, 0, sizeof *q);
}

/* Zero point of element e of x (ndim axes) under p's per-axis or blocked zero points. */
static double zero_point_at(const ld_qdq_pair *p, const ld_tensor *x, int64_t e) {
    const ld_tensor *z = p->zp_t;
    if (!z || p->axis < 0 || p->axis >= x->ndim) return p->zero_point;
    int64_t inner = 1, D = x->dims[p->axis];
    for (int k = p->axis + 1; k < x->ndim; k++) inner *= x->dims[k];
    int64_t a = (e / inner) % D;
    if (p->block_size <= 0) return a < z->numel ? ld_tensor_get_f64(z, a) : p->zero_point;   /* (D) */
    if (z->ndim != x->ndim) return p->zero_point;
    int64_t Dz = z->dims[p->axis], o = e / (inner * D), i = e % inner;   /* blocked: x's shape, axis / block */
    int64_t zi = (o * Dz + a / p->block_size) * inner + i;
    return zi < z->numel ? ld_tensor_get_f64(z, zi) : p->zero_point;
}

void ld_qdq_measure(ld_qdq_pair *p, const ld_tensor *x, const ld_tensor *qv, const ld_tensor *dq) {
    if (p->nscale > 1 && p->axis < 0 && p->axis >= -x->ndim) p->axis += x->ndim;   /* ONNX allows -1 */
    if (!x || !dq || x->dtype != LD_F32 || dq->dtype != LD_F32 || x->numel != dq->numel) return;
    bool have_q = qv && qv->kind == LD_KIND_TENSOR && qv->numel == x->numel;
    double lo, hi, half;
    bool is_float = ld_dtype_is_float(p->qdtype);
    if (!qrange(p->qdtype, &lo, &hi, &half)) have_q = false;
    const float *xs = x->data, *ds = dq->data;
    p->measured = true;
    for (int64_t e = 0; e < x->numel; e++) {
        double xv = xs[e], d = ds[e];
        p->total++;
        if (xv < p->xmin) p->xmin = xv;
        if (xv > p->xmax) p->xmax = xv;
        if (xv != 0) { p->nonzero++; p->zeroed += d == 0; }
        if (!have_q) continue;
        double qq = ld_tensor_get_f64(qv, e);
        if (is_float) {   /* saturated at the top of the float format */
            if (fabs(qq) >= hi && fabs(xv) > fabs(d) * (hi + half) / hi) p->clipped++;
        } else if ((qq >= hi && xv > d) || (qq <= lo && xv < d)) {
            double steps = fabs(qq - zero_point_at(p, x, e));
            double s = steps > 0 ? fabs(d) / steps : p->scale_max;
            if (fabs(xv - d) > 0.5 * s * (1 + 1e-6)) p->clipped++;
        }
    }
}

const char *ld_qdq_name(const ld_qdq_pair *p, const ld_graph *g) {
    return g->nodes[p->q >= 0 && !p->weight ? p->q : p->dq].name;
}

void ld_qdq_reason(const ld_qdq_pair *p, const ld_graph *g, char *buf, size_t n) {
    buf[0] = 0;
    if (!p->measured || !p->total) return;
    const char *name = ld_qdq_name(p, g);
    double clip = 100.0 * p->clipped / p->total;
    double zero = p->nonzero ? 100.0 * p->zeroed / p->nonzero : 0;
    double s = p->scale_max;
    double rlo = (p->qmin - p->zero_point) * s, rhi = (p->qmax - p->zero_point) * s;
    bool fl = ld_dtype_is_float(p->qdtype);
    if (fl) { rlo = p->qmin * s; rhi = p->qmax * s; }
    if (clip >= 0.1) {
        snprintf(buf, n, "quantizer '%s' %s %.1f%% of its input: scale %.4g (%s) covers [%.4g, %.4g], the input spans [%.4g, %.4g]",
                 name, fl ? "saturates" : "clips", clip, s, ld_dtype_name(p->qdtype), rlo, rhi, p->xmin, p->xmax);
    } else if (p->scale_zero) {
        snprintf(buf, n, "quantizer '%s': block scale underflow, %lld of %lld scales are 0", name,
                 (long long)p->scale_zero, (long long)p->nscale);
    } else if (zero >= 10.0) {
        snprintf(buf, n, "quantizer '%s' rounds %.1f%% of its nonzero inputs to zero (scale %.4g, input spans [%.4g, %.4g])",
                 name, zero, p->scale_min, p->xmin, p->xmax);
    } else if (!fl && s > 0 && p->qmax > p->qmin) {
        double used = (fmax(p->xmax, 0) - fmin(p->xmin, 0)) / s, avail = p->qmax - p->qmin;
        if (used < avail / 16)
            snprintf(buf, n, "quantizer '%s': scale %.4g is large for the input's range [%.4g, %.4g] (%.0f of %.0f levels used)",
                     name, s, p->xmin, p->xmax, used, avail + 1);
    }
}
