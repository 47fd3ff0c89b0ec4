/*
** ops_shape_gen.c — the 'shape' family's generators and masks: ConstantOfShape, Range,
** EyeLike, Trilu, and Col2Im (the scatter-add inverse of im2col).
*/
#include "ops_shape.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* ---- ConstantOfShape ---- */

ld_status ld_shape_cos_shape(ld_kctx *k) {
    if (!LD_HAS_IN(k, 0)) return ld_error(LD_ERR_DATA, "ConstantOfShape needs a shape input");
    LD_SHAPE_NEED(k, 0);
    int64_t dims[LD_MAX_DIMS];
    int n;
    LD_TRY(ld_shape_read_ints(k, 0, dims, LD_MAX_DIMS, &n));
    for (int i = 0; i < n; i++)
        if (dims[i] < 0) return ld_error(LD_ERR_DATA, "shape[%d] = %lld is negative", i, (long long)dims[i]);
    const ld_tensor *v = ld_attr_tensor(k->node, "value");
    if (v && v->numel != 1)
        return ld_error(LD_ERR_DATA, "value must hold one element, has %lld", (long long)v->numel);
    return ld_tensor_set_shape(k->out[0], v ? v->dtype : LD_F32, n, dims);
}

ld_status ld_shape_cos_compute(ld_kctx *k) {
    const ld_tensor *v = ld_attr_tensor(k->node, "value");
    ld_tensor *y = k->out[0];
    if (!v) return LD_OK;   /* float32 zeros, already */
    return ld_shape_fill(y->data, v->data, y->dtype, y->numel);
}

/* ---- Range ---- */

static ld_status range_count(ld_kctx *k, int64_t *count) {
    const ld_tensor *s = k->in[0], *l = k->in[1], *d = k->in[2];
    for (int i = 0; i < 3; i++) {
        if (!LD_HAS_IN(k, i) || k->in[i]->numel != 1)
            return ld_error(LD_ERR_DATA, "Range input %d must be a single value", i);
        if (k->in[i]->dtype != s->dtype)
            return ld_error(LD_ERR_DATA, "Range inputs have different dtypes (%s, %s)",
                            ld_dtype_name(s->dtype), ld_dtype_name(k->in[i]->dtype));
    }
    if (ld_dtype_is_int(s->dtype)) {
        __int128 a = ld_tensor_get_i64(s, 0), b = ld_tensor_get_i64(l, 0), c = ld_tensor_get_i64(d, 0);
        if (c == 0) return ld_error(LD_ERR_DATA, "Range delta cannot be 0");
        __int128 n = c > 0 ? (b > a ? (b - a - 1) / c + 1 : 0) : (a > b ? (a - b - 1) / -c + 1 : 0);
        *count = (int64_t)n;
        return LD_OK;
    }
    if (!ld_dtype_is_float(s->dtype))
        return ld_error(LD_ERR_UNSUPPORTED, "Range does not support dtype %s", ld_dtype_name(s->dtype));
    double a = ld_tensor_get_f64(s, 0), b = ld_tensor_get_f64(l, 0), c = ld_tensor_get_f64(d, 0);
    if (c == 0) return ld_error(LD_ERR_DATA, "Range delta cannot be 0");
    double n = ceil((b - a) / c);
    if (!(n < 1e15)) return ld_error(LD_ERR_DATA, "Range has %g elements", n);
    *count = n > 0 ? (int64_t)n : 0;
    return LD_OK;
}

ld_status ld_shape_range_shape(ld_kctx *k) {
    for (int i = 0; i < 3; i++) LD_SHAPE_NEED(k, i);
    int64_t n;
    LD_TRY(range_count(k, &n));
    return ld_tensor_set_shape(k->out[0], k->in[0]->dtype, 1, &n);
}

ld_status ld_shape_range_compute(ld_kctx *k) {
    ld_tensor *y = k->out[0];
    const ld_tensor *s = k->in[0], *d = k->in[2];
    if (y->dtype == LD_I64) {
        int64_t a = LD_I64P(s)[0], c = LD_I64P(d)[0];
        for (int64_t i = 0; i < y->numel; i++) LD_I64P(y)[i] = a + i * c;
    } else if (ld_dtype_is_int(y->dtype)) {
        int64_t a = ld_tensor_get_i64(s, 0), c = ld_tensor_get_i64(d, 0);
        for (int64_t i = 0; i < y->numel; i++) ld_tensor_set_f64(y, i, (double)(a + i * c));
    } else {
        double a = ld_tensor_get_f64(s, 0), c = ld_tensor_get_f64(d, 0);
        for (int64_t i = 0; i < y->numel; i++) ld_tensor_set_f64(y, i, a + (double)i * c);
    }
    return LD_OK;
}

/* ---- EyeLike ---- */

ld_status ld_shape_eyelike_shape(ld_kctx *k) {
    LD_TRY(ld_shape_check_data(k, 0));
    const ld_tensor *x = k->in[0];
    if (x->ndim != 2) return ld_error(LD_ERR_DATA, "EyeLike input must be 2-D, has rank %d", x->ndim);
    ld_dtype dt = (ld_dtype)ld_attr_int(k->node, "dtype", x->dtype);
    if ((unsigned)dt >= LD_DTYPE_COUNT || !ld_dtype_size(dt) || dt == LD_STRING ||
        dt == LD_C64 || dt == LD_C128)
        return ld_error(LD_ERR_UNSUPPORTED, "EyeLike cannot produce dtype %d", (int)dt);
    return ld_tensor_set_shape(k->out[0], dt, 2, x->dims);
}

ld_status ld_shape_eyelike_compute(ld_kctx *k) {
    ld_tensor *y = k->out[0];
    int64_t off = ld_attr_int(k->node, "k", 0), R = y->dims[0], C = y->dims[1];
    for (int64_t i = LD_MAX(0, -off); i < R && i + off < C; i++)
        ld_tensor_set_f64(y, i * C + i + off, 1.0);
    return LD_OK;
}

/* ---- Trilu ---- */

ld_status ld_shape_trilu_shape(ld_kctx *k) {
    LD_TRY(ld_shape_check_data(k, 0));
    const ld_tensor *x = k->in[0];
    if (x->ndim < 2) return ld_error(LD_ERR_DATA, "Trilu input must have rank >= 2, has %d", x->ndim);
    return ld_tensor_set_shape(k->out[0], x->dtype, x->ndim, x->dims);
}

/* Keep, in each row i of each (R, C) matrix, columns j >= i + k (upper) or j <= i + k. */
ld_status ld_shape_trilu_compute(ld_kctx *k) {
    const ld_tensor *x = k->in[0];
    ld_tensor *y = k->out[0];
    int64_t off = 0;
    if (LD_HAS_IN(k, 1)) {
        int n;
        LD_TRY(ld_shape_read_ints(k, 1, &off, 1, &n));
        if (n != 1) return ld_error(LD_ERR_DATA, "k must be a single value");
    }
    bool upper = ld_attr_int(k->node, "upper", 1) != 0;
    int64_t R = x->dims[x->ndim - 2], C = x->dims[x->ndim - 1];
    off = LD_MAX(-(R + C), LD_MIN(off, R + C));
    int64_t rows = R ? x->numel / C : 0;
    size_t es = ld_dtype_size(x->dtype);
    for (int64_t r = 0; C && r < rows; r++) {
        int64_t i = r % R;
        int64_t j0 = upper ? LD_MAX(0, LD_MIN(i + off, C)) : 0;
        int64_t j1 = upper ? C : LD_MAX(0, LD_MIN(i + off + 1, C));
        if (j1 <= j0) continue;
        int64_t e = r * C + j0;
        LD_TRY(ld_shape_copy_elems((char *)y->data + e * (int64_t)es,
                                   (const char *)x->data + e * (int64_t)es, x->dtype, j1 - j0));
    }
    return ld_shape_strings_fill_empty(y);
}

/* ---- Col2Im ---- */

typedef struct col2im_plan {
    int nd;                                    /* spatial dims */
    int64_t image[LD_MAX_DIMS], block[LD_MAX_DIMS], nblk[LD_MAX_DIMS];
    int64_t dil[LD_MAX_DIMS], stride[LD_MAX_DIMS], pad0[LD_MAX_DIMS];
    int64_t C, ksize, L;                       /* channels, prod(block), prod(nblk) */
} col2im_plan;

static ld_status col2im_attr(ld_kctx *k, const char *name, int want, int64_t def, int64_t *out) {
    int n;
    const int64_t *a = ld_attr_ints(k->node, name, &n);
    if (!a) {
        for (int i = 0; i < want; i++) out[i] = def;
        return LD_OK;
    }
    if (n != want) return ld_error(LD_ERR_DATA, "%s has %d values, expected %d", name, n, want);
    memcpy(out, a, sizeof(int64_t) * n);
    return LD_OK;
}

static ld_status col2im_params(ld_kctx *k, col2im_plan *p) {
    const ld_tensor *x = k->in[0];
    int n1, n2;
    if (!LD_HAS_IN(k, 1) || !LD_HAS_IN(k, 2))
        return ld_error(LD_ERR_DATA, "Col2Im needs image_shape and block_shape");
    LD_TRY(ld_shape_read_ints(k, 1, p->image, LD_MAX_DIMS - 2, &n1));
    LD_TRY(ld_shape_read_ints(k, 2, p->block, LD_MAX_DIMS - 2, &n2));
    if (n1 != n2 || n1 < 1)
        return ld_error(LD_ERR_DATA, "image_shape (%d) and block_shape (%d) differ in length", n1, n2);
    if (x->ndim != 3) return ld_error(LD_ERR_DATA, "Col2Im input must be (N, C*prod(block), L)");
    int nd = p->nd = n1;
    int64_t pads[2 * LD_MAX_DIMS];
    LD_TRY(col2im_attr(k, "dilations", nd, 1, p->dil));
    LD_TRY(col2im_attr(k, "strides", nd, 1, p->stride));
    LD_TRY(col2im_attr(k, "pads", 2 * nd, 0, pads));
    p->ksize = 1;
    p->L = 1;
    for (int d = 0; d < nd; d++) {
        if (p->block[d] <= 0 || p->image[d] <= 0 || p->dil[d] <= 0 || p->stride[d] <= 0)
            return ld_error(LD_ERR_DATA, "Col2Im sizes, dilations and strides must be positive");
        p->pad0[d] = pads[d];
        int64_t span = p->dil[d] * (p->block[d] - 1) + 1;
        p->nblk[d] = (p->image[d] + pads[d] + pads[d + nd] - span) / p->stride[d] + 1;
        if (p->nblk[d] < 1) return ld_error(LD_ERR_DATA, "Col2Im block does not fit the image on axis %d", d);
        p->ksize *= p->block[d];
        p->L *= p->nblk[d];
    }
    if (x->dims[1] % p->ksize)
        return ld_error(LD_ERR_DATA, "input channels %lld are not a multiple of the block size %lld",
                        (long long)x->dims[1], (long long)p->ksize);
    if (x->dims[2] != p->L)
        return ld_error(LD_ERR_DATA, "input has %lld blocks, the image and block shapes give %lld",
                        (long long)x->dims[2], (long long)p->L);
    p->C = x->dims[1] / p->ksize;
    return LD_OK;
}

ld_status ld_shape_col2im_shape(ld_kctx *k) {
    LD_TRY(ld_shape_check_data(k, 0));
    LD_SHAPE_NEED(k, 1);
    LD_SHAPE_NEED(k, 2);
    col2im_plan p;
    LD_TRY(ld_shape_soft(k, col2im_params(k, &p)));
    const ld_tensor *x = k->in[0];
    if (x->dtype == LD_STRING || x->dtype == LD_BOOL)
        return ld_error(LD_ERR_UNSUPPORTED, "Col2Im does not support dtype %s", ld_dtype_name(x->dtype));
    int64_t dims[LD_MAX_DIMS] = {x->dims[0], p.C};
    memcpy(dims + 2, p.image, sizeof(int64_t) * p.nd);
    return ld_tensor_set_shape(k->out[0], x->dtype, p.nd + 2, dims);
}

/* Add one (L) column plane of kernel offset kk into the image plane im. */
static void col2im_plane(const col2im_plan *p, int64_t kk, const double *col, double *im) {
    int nd = p->nd;
    int64_t kidx[LD_MAX_DIMS], cidx[LD_MAX_DIMS] = {0}, imst[LD_MAX_DIMS];
    ld_strides(nd, p->image, imst);
    for (int d = nd - 1; d >= 0; d--) {
        kidx[d] = kk % p->block[d];
        kk /= p->block[d];
    }
    for (int64_t l = 0; l < p->L; l++) {
        int64_t off = 0;
        bool inside = true;
        for (int d = 0; d < nd && inside; d++) {
            int64_t pos = cidx[d] * p->stride[d] - p->pad0[d] + kidx[d] * p->dil[d];
            inside = pos >= 0 && pos < p->image[d];
            off += pos * imst[d];
        }
        if (inside) im[off] += col[l];
        for (int d = nd - 1; d >= 0 && ++cidx[d] == p->nblk[d]; d--) cidx[d] = 0;
    }
}

ld_status ld_shape_col2im_compute(ld_kctx *k) {
    const ld_tensor *x = k->in[0];
    ld_tensor *y = k->out[0];
    col2im_plan p;
    LD_TRY(col2im_params(k, &p));
    int64_t planes = x->dims[0] * p.C, imsize = ld_dims_numel(p.nd, p.image);
    ld_status st = LD_OK;
    #pragma omp parallel for if(x->numel > 65536) schedule(static)
    for (int64_t pl = 0; pl < planes; pl++) {
        double *col = malloc(sizeof(double) * (size_t)p.L), *im = calloc((size_t)imsize, sizeof(double));
        if (!col || !im) {
            #pragma omp critical
            st = ld_oom();
        } else {
            for (int64_t kk = 0; kk < p.ksize; kk++) {
                int64_t base = (pl * p.ksize + kk) * p.L;
                for (int64_t l = 0; l < p.L; l++) col[l] = ld_tensor_get_f64(x, base + l);
                col2im_plane(&p, kk, col, im);
            }
            for (int64_t i = 0; i < imsize; i++) ld_tensor_set_f64(y, pl * imsize + i, im[i]);
        }
        free(col);
        free(im);
    }
    return st;
}
