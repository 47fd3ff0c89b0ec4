/*
** ops_shape_pad.c — the 'shape' family's windowing ops: Slice (a strided view for the copy
** engine), and Pad / CenterCropPad, which share a gather driven by one index map per axis
** (output index -> input index, or -1 for the constant): each output row copies its interior
** with one memcpy and maps only the border elements.
*/
#include "ops_shape.h"

#include <stdlib.h>
#include <string.h>

#define PAR_BYTES ((int64_t)1 << 18)
#define PAR_CHUNKS 64

/* ---- Slice ---- */

typedef struct slice_plan {
    int64_t start[LD_MAX_DIMS], step[LD_MAX_DIMS], len[LD_MAX_DIMS];
} slice_plan;

/* The starts/ends/axes/steps lists: attributes before opset 10, inputs 1..4 from 10. */
static ld_status slice_lists(ld_kctx *k, int64_t l[4][LD_MAX_DIMS], int n[4], bool have[4]) {
    static const char *names[4] = {"starts", "ends", "axes", "steps"};
    for (int i = 0; i < 4; i++) {
        n[i] = 0;
        have[i] = false;
        if (k->node->opset < 10) {
            if (i == 3 || !ld_node_attr(k->node, names[i])) continue;
            const int64_t *a = ld_attr_ints(k->node, names[i], &n[i]);
            if (n[i] > LD_MAX_DIMS) return ld_error(LD_ERR_DATA, "too many %s (%d)", names[i], n[i]);
            if (n[i]) memcpy(l[i], a, sizeof(int64_t) * n[i]);
            have[i] = true;
        } else if (LD_HAS_IN(k, i + 1)) {
            LD_TRY(ld_shape_read_ints(k, i + 1, l[i], LD_MAX_DIMS, &n[i]));
            have[i] = true;
        }
    }
    if (!have[0] || !have[1]) return ld_error(LD_ERR_DATA, "Slice needs starts and ends");
    for (int i = 1; i < 4; i++)
        if (have[i] && n[i] != n[0])
            return ld_error(LD_ERR_DATA, "%s has %d values but starts has %d", names[i], n[i], n[0]);
    return LD_OK;
}

/* Clamp one axis' start/end for the step the ONNX way; returns the element count. */
static int64_t slice_axis(int64_t dim, int64_t *start, int64_t end, int64_t step) {
    int64_t s = *start, e = end;
    if (s < 0) s += dim;
    if (e < 0) e += dim;
    int64_t len;
    if (step > 0) {
        s = LD_MAX(0, LD_MIN(s, dim));
        e = LD_MAX(0, LD_MIN(e, dim));
        len = e > s ? (e - s - 1) / step + 1 : 0;
    } else {
        s = LD_MAX(0, LD_MIN(s, dim - 1));
        e = LD_MAX(-1, LD_MIN(e, dim - 1));
        len = dim > 0 && s > e ? (s - e - 1) / -step + 1 : 0;
    }
    *start = s;
    return len;
}

static ld_status slice_params(ld_kctx *k, slice_plan *p) {
    const ld_tensor *x = k->in[0];
    int64_t l[4][LD_MAX_DIMS];
    int n[4];
    bool have[4], seen[LD_MAX_DIMS] = {0};
    LD_TRY(slice_lists(k, l, n, have));
    for (int a = 0; a < x->ndim; a++) {
        p->start[a] = 0;
        p->step[a] = 1;
        p->len[a] = x->dims[a];
    }
    for (int i = 0; i < n[0]; i++) {
        int a;
        LD_TRY(ld_axis_norm(have[2] ? l[2][i] : i, x->ndim, &a));
        if (x->ndim == 0) return ld_error(LD_ERR_DATA, "cannot slice a scalar");
        if (seen[a]) return ld_error(LD_ERR_DATA, "axis %d is sliced twice", a);
        seen[a] = true;
        int64_t step = have[3] ? l[3][i] : 1;
        if (step == 0) return ld_error(LD_ERR_DATA, "slice step cannot be 0");
        /* A step longer than the axis takes at most one element, as a step of the axis length
         * does: clamping keeps -step (INT64_MIN) and the stride products defined. */
        int64_t dmax = LD_MAX(x->dims[a], 1);
        if (step > dmax) step = dmax;
        if (step < -dmax) step = -dmax;
        p->step[a] = step;
        p->start[a] = l[0][i];
        p->len[a] = slice_axis(x->dims[a], &p->start[a], l[1][i], step);
    }
    return LD_OK;
}

ld_status ld_shape_slice_shape(ld_kctx *k) {
    LD_TRY(ld_shape_check_data(k, 0));
    for (int i = 1; i < k->nin && i <= 4; i++) LD_SHAPE_NEED(k, i);
    slice_plan p;
    LD_TRY(slice_params(k, &p));
    return ld_tensor_set_shape(k->out[0], k->in[0]->dtype, k->in[0]->ndim, p.len);
}

ld_status ld_shape_slice_compute(ld_kctx *k) {
    const ld_tensor *x = k->in[0];
    slice_plan p;
    LD_TRY(slice_params(k, &p));
    int64_t st[LD_MAX_DIMS], vs[LD_MAX_DIMS], off = 0;
    ld_strides(x->ndim, x->dims, st);
    for (int a = 0; a < x->ndim; a++) {
        if (p.len[a] == 0) return LD_OK;
        off += p.start[a] * st[a];
        vs[a] = st[a] * p.step[a];
    }
    const char *src = (const char *)x->data + off * (int64_t)ld_dtype_size(x->dtype);
    return ld_shape_strided_copy(k->out[0]->data, src, x->dtype, x->ndim, p.len, vs);
}

/* ---- the map-driven gather shared by Pad and CenterCropPad ---- */

/* One output axis: map[o] is the input index of output index o (-1: the constant); outputs
 * lo..hi-1 read lo-map[lo].. contiguously. */
typedef struct pad_axis {
    int64_t *map;
    int64_t lo, hi;
} pad_axis;

static void put_elem(char *dst, const char *src, size_t es) {
    switch (es) {
    case 1: *dst = *src; break;
    case 2: memcpy(dst, src, 2); break;
    case 4: memcpy(dst, src, 4); break;
    case 8: memcpy(dst, src, 8); break;
    default: memcpy(dst, src, es);
    }
}

/* Strings: element by element through the maps. */
static ld_status gather_strings(const ld_tensor *x, ld_tensor *y, const pad_axis *ax,
                                const char *cval) {
    int r = y->ndim;
    int64_t st[LD_MAX_DIMS], idx[LD_MAX_DIMS] = {0};
    ld_strides(r, x->dims, st);
    char *const *src = x->data;
    char **dst = y->data;
    for (int64_t i = 0; i < y->numel; i++) {
        int64_t off = 0;
        bool inside = true;
        for (int a = 0; a < r && inside; a++) {
            int64_t m = ax[a].map[idx[a]];
            inside = m >= 0;
            off += m * st[a];
        }
        const char *s = inside ? src[off] : cval;
        if (!(dst[i] = strdup(s ? s : ""))) return ld_oom();
        for (int a = r - 1; a >= 0 && ++idx[a] == y->dims[a]; a--) idx[a] = 0;
    }
    return LD_OK;
}

static void gather_row(char *d, const char *srow, const pad_axis *last, int64_t L, size_t es,
                       const char *cval) {
    for (int64_t o = 0; o < L; o++) {
        if (o == last->lo && last->hi > last->lo) {
            memcpy(d + o * (int64_t)es, srow + last->map[o] * (int64_t)es,
                   (size_t)(last->hi - last->lo) * es);
            o = last->hi - 1;
            continue;
        }
        int64_t m = last->map[o];
        put_elem(d + o * (int64_t)es, m >= 0 ? srow + m * (int64_t)es : cval, es);
    }
}

static ld_status pad_gather(const ld_tensor *x, ld_tensor *y, const pad_axis *ax, const void *cval) {
    int r = y->ndim;
    if (y->numel == 0) return LD_OK;
    if (x->dtype == LD_STRING) return gather_strings(x, y, ax, *(char *const *)cval);
    size_t es = ld_dtype_size(x->dtype);
    if (r == 0) {
        memcpy(y->data, x->data, es);
        return LD_OK;
    }
    int64_t st[LD_MAX_DIMS];
    ld_strides(r, x->dims, st);
    int64_t L = y->dims[r - 1], rows = y->numel / L;
    int64_t nchunk = y->numel * (int64_t)es > PAR_BYTES ? LD_MIN(rows, PAR_CHUNKS) : 1;
    #pragma omp parallel for if(nchunk > 1) schedule(static)
    for (int64_t c = 0; c < nchunk; c++) {
        int64_t r0 = rows * c / nchunk, r1 = rows * (c + 1) / nchunk, idx[LD_MAX_DIMS];
        int64_t rem = r0;
        for (int a = r - 2; a >= 0; a--) {
            idx[a] = rem % y->dims[a];
            rem /= y->dims[a];
        }
        for (int64_t row = r0; row < r1; row++) {
            char *d = (char *)y->data + row * L * (int64_t)es;
            int64_t off = 0;
            bool inside = true;
            for (int a = 0; a < r - 1 && inside; a++) {
                int64_t m = ax[a].map[idx[a]];
                inside = m >= 0;
                off += m * st[a];
            }
            if (inside) gather_row(d, (const char *)x->data + off * (int64_t)es, &ax[r - 1], L, es, cval);
            else (void)ld_shape_fill(d, cval, x->dtype, L);
            for (int a = r - 2; a >= 0 && ++idx[a] == y->dims[a]; a--) idx[a] = 0;
        }
    }
    return LD_OK;
}

/* Index maps for all axes in one allocation (caller frees ax[0].map). */
static ld_status maps_alloc(const ld_tensor *y, pad_axis *ax) {
    int64_t total = 0;
    for (int a = 0; a < y->ndim; a++) total += y->dims[a];
    int64_t *m = malloc(sizeof(int64_t) * (size_t)(total ? total : 1));
    if (!m) return ld_oom();
    for (int a = 0; a < y->ndim; a++) {
        ax[a].map = m;
        m += y->dims[a];
    }
    if (!y->ndim) ax[0].map = m;
    return LD_OK;
}

/* ---- Pad ---- */

enum { PAD_CONSTANT, PAD_REFLECT, PAD_EDGE, PAD_WRAP };

typedef struct pad_plan {
    int64_t before[LD_MAX_DIMS], after[LD_MAX_DIMS];
    int mode;
} pad_plan;

static ld_status pad_list(ld_kctx *k, int64_t *pads, int *n) {
    const ld_node *node = k->node;
    if (node->opset >= 11) {
        if (!LD_HAS_IN(k, 1)) return ld_error(LD_ERR_DATA, "Pad needs a pads input");
        return ld_shape_read_ints(k, 1, pads, 2 * LD_MAX_DIMS, n);
    }
    const char *name = node->opset < 2 ? "paddings" : "pads";
    const int64_t *p = ld_attr_ints(node, name, n);
    if (!p) return ld_error(LD_ERR_DATA, "Pad needs the '%s' attribute", name);
    if (*n > 2 * LD_MAX_DIMS) return ld_error(LD_ERR_DATA, "too many pads (%d)", *n);
    memcpy(pads, p, sizeof(int64_t) * *n);
    return LD_OK;
}

static ld_status pad_params(ld_kctx *k, pad_plan *p) {
    const ld_tensor *x = k->in[0];
    int r = x->ndim, np, na = r;
    int64_t pads[2 * LD_MAX_DIMS], axes[LD_MAX_DIMS];
    const char *mode = ld_attr_str(k->node, "mode", "constant");
    if (!strcmp(mode, "constant")) p->mode = PAD_CONSTANT;
    else if (!strcmp(mode, "reflect")) p->mode = PAD_REFLECT;
    else if (!strcmp(mode, "edge")) p->mode = PAD_EDGE;
    else if (!strcmp(mode, "wrap")) p->mode = PAD_WRAP;
    else return ld_error(LD_ERR_DATA, "unknown pad mode '%s'", mode);
    LD_TRY(pad_list(k, pads, &np));
    if (k->node->opset >= 18 && LD_HAS_IN(k, 3)) LD_TRY(ld_shape_read_ints(k, 3, axes, LD_MAX_DIMS, &na));
    else for (int i = 0; i < r; i++) axes[i] = i;
    if (np != 2 * na)
        return ld_error(LD_ERR_DATA, "pads has %d values, expected %d for %d axes", np, 2 * na, na);
    bool seen[LD_MAX_DIMS] = {0};
    for (int a = 0; a < r; a++) p->before[a] = p->after[a] = 0;
    for (int i = 0; i < na; i++) {
        int a;
        LD_TRY(ld_axis_norm(axes[i], r, &a));
        if (r == 0) return ld_error(LD_ERR_DATA, "cannot pad a scalar");
        if (seen[a]) return ld_error(LD_ERR_DATA, "axis %d is padded twice", a);
        seen[a] = true;
        p->before[a] = pads[i];
        p->after[a] = pads[i + na];
    }
    for (int a = 0; a < r; a++) {
        int64_t kept = x->dims[a] + LD_MIN(p->before[a], 0) + LD_MIN(p->after[a], 0);
        if (kept < 0)
            return ld_error(LD_ERR_DATA, "pads %lld,%lld crop more than axis %d's %lld elements",
                            (long long)p->before[a], (long long)p->after[a], a, (long long)x->dims[a]);
        if (kept == 0 && p->mode != PAD_CONSTANT && (p->before[a] > 0 || p->after[a] > 0))
            return ld_error(LD_ERR_DATA, "%s padding needs a non-empty axis %d", mode, a);
    }
    return LD_OK;
}

/* The constant as one element of the data dtype (a char* for strings). */
static ld_status pad_constant(ld_kctx *k, unsigned char *cval) {
    ld_dtype dt = k->in[0]->dtype;
    memset(cval, 0, 16);
    if (dt == LD_STRING) *(const char **)cval = "";
    if (k->node->opset < 11) {
        ld_tensor v = {0};
        float f = ld_attr_float(k->node, "value", 0.0f);
        LD_TRY(ld_tensor_set_shape(&v, LD_F32, 0, NULL));
        v.data = &f;
        return dt == LD_STRING ? LD_OK : ld_shape_scalar_as(&v, dt, cval);
    }
    if (!LD_HAS_IN(k, 2) || k->in[2]->numel == 0) return LD_OK;
    return ld_shape_scalar_as(k->in[2], dt, cval);
}

ld_status ld_shape_pad_shape(ld_kctx *k) {
    LD_TRY(ld_shape_check_data(k, 0));
    if (k->node->opset >= 11) {
        LD_SHAPE_NEED(k, 1);
        LD_SHAPE_NEED(k, 3);
    }
    const ld_tensor *x = k->in[0];
    pad_plan p;
    LD_TRY(ld_shape_soft(k, pad_params(k, &p)));
    int64_t dims[LD_MAX_DIMS];
    for (int a = 0; a < x->ndim; a++) dims[a] = x->dims[a] + p.before[a] + p.after[a];
    return ld_tensor_set_shape(k->out[0], x->dtype, x->ndim, dims);
}

/* Input index for output index o of one axis (crop first, then pad by mode). */
static int64_t pad_index(int64_t o, int64_t before, int64_t after, int64_t dim, int mode) {
    int64_t cb = LD_MAX(0, -before), n = dim - cb - LD_MAX(0, -after);
    int64_t j = o - LD_MAX(0, before);
    if (j >= 0 && j < n) return cb + j;
    switch (mode) {
    case PAD_EDGE: return cb + (j < 0 ? 0 : n - 1);
    case PAD_WRAP: return cb + ((j % n) + n) % n;
    case PAD_REFLECT: {
        if (n == 1) return cb;
        int64_t period = 2 * (n - 1), m = ((j % period) + period) % period;
        return cb + (m >= n ? period - m : m);
    }
    default: return -1;
    }
}

ld_status ld_shape_pad_compute(ld_kctx *k) {
    const ld_tensor *x = k->in[0];
    ld_tensor *y = k->out[0];
    pad_plan p;
    unsigned char cval[16];
    pad_axis ax[LD_MAX_DIMS + 1];
    LD_TRY(pad_params(k, &p));
    LD_TRY(pad_constant(k, cval));
    LD_TRY(maps_alloc(y, ax));
    for (int a = 0; a < y->ndim; a++) {
        for (int64_t o = 0; o < y->dims[a]; o++)
            ax[a].map[o] = pad_index(o, p.before[a], p.after[a], x->dims[a], p.mode);
        int64_t kept = x->dims[a] + LD_MIN(p.before[a], 0) + LD_MIN(p.after[a], 0);
        ax[a].lo = LD_MAX(0, p.before[a]);
        ax[a].hi = ax[a].lo + kept;
    }
    ld_status st = pad_gather(x, y, ax, cval);
    free(ax[0].map);
    return st;
}

/* ---- CenterCropPad ---- */

/* Target size per axis (the input's own size on axes not listed). */
static ld_status ccp_target(ld_kctx *k, int64_t *target) {
    const ld_tensor *x = k->in[0];
    int64_t shape[LD_MAX_DIMS];
    int n, na;
    LD_TRY(ld_shape_read_ints(k, 1, shape, LD_MAX_DIMS, &n));
    const int64_t *axes = ld_attr_ints(k->node, "axes", &na);
    if (!axes) na = x->ndim;
    if (n != na)
        return ld_error(LD_ERR_DATA, "shape has %d values for %d axes", n, na);
    bool seen[LD_MAX_DIMS] = {0};
    memcpy(target, x->dims, sizeof(int64_t) * x->ndim);
    for (int i = 0; i < na; i++) {
        int a;
        LD_TRY(ld_axis_norm(axes ? axes[i] : i, x->ndim, &a));
        if (seen[a]) return ld_error(LD_ERR_DATA, "axis %d is listed twice", a);
        if (shape[i] < 0) return ld_error(LD_ERR_DATA, "shape[%d] = %lld is negative", i, (long long)shape[i]);
        seen[a] = true;
        target[a] = shape[i];
    }
    return LD_OK;
}

ld_status ld_shape_ccp_shape(ld_kctx *k) {
    LD_TRY(ld_shape_check_data(k, 0));
    if (!LD_HAS_IN(k, 1)) return ld_error(LD_ERR_DATA, "CenterCropPad needs a shape input");
    LD_SHAPE_NEED(k, 1);
    int64_t target[LD_MAX_DIMS];
    LD_TRY(ccp_target(k, target));
    return ld_tensor_set_shape(k->out[0], k->in[0]->dtype, k->in[0]->ndim, target);
}

/* Crop or zero-pad each axis around its centre (the extra element goes to the end). */
ld_status ld_shape_ccp_compute(ld_kctx *k) {
    const ld_tensor *x = k->in[0];
    ld_tensor *y = k->out[0];
    unsigned char cval[16] = {0};
    if (x->dtype == LD_STRING) *(const char **)cval = "";
    pad_axis ax[LD_MAX_DIMS + 1];
    LD_TRY(maps_alloc(y, ax));
    for (int a = 0; a < y->ndim; a++) {
        int64_t dim = x->dims[a], t = y->dims[a];
        int64_t shift = t <= dim ? (dim - t) / 2 : -((t - dim) / 2);   /* input = output + shift */
        for (int64_t o = 0; o < t; o++) {
            int64_t i = o + shift;
            ax[a].map[o] = i >= 0 && i < dim ? i : -1;
        }
        ax[a].lo = LD_MAX(0, -shift);
        ax[a].hi = LD_MIN(t, dim - shift);
    }
    ld_status st = pad_gather(x, y, ax, cval);
    free(ax[0].map);
    return st;
}
