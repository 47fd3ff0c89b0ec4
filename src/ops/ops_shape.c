/*
** ops_shape.c — kernel family 'shape': ops that only move data. This file holds the
** family's op table, its shared helpers, and the view ops (Reshape, Flatten, Squeeze,
** Unsqueeze) plus the broadcasting copies (Expand, Tile). Transpose/Concat/Split and the
** depth-space ops are in ops_shape_move.c, Slice/Pad/CenterCropPad in ops_shape_pad.c, and
** the generators (ConstantOfShape, Range, EyeLike, Trilu, Col2Im) in ops_shape_gen.c.
**
** Output shapes are worked out in the shape functions (reading shape-valued inputs with
** LD_SHAPE_NEED so planning can say "dynamic"); compute functions only move bytes.
*/
#include "ops_shape.h"

#include <string.h>

/* ---- shared helpers ---- */

ld_status ld_shape_check_data(ld_kctx *k, int i) {
    const ld_tensor *t = i < k->nin ? k->in[i] : NULL;
    if (!t || t->kind != LD_KIND_TENSOR)
        return ld_error(LD_ERR_DATA, "input %d must be a tensor", i);
    if (!ld_dtype_size(t->dtype))
        return ld_error(LD_ERR_UNSUPPORTED, "unsupported dtype %s for input %d",
                        ld_dtype_name(t->dtype), i);
    return LD_OK;
}

ld_status ld_shape_read_ints(ld_kctx *k, int i, int64_t *out, int max, int *count) {
    const ld_tensor *t = k->in[i];
    if (t->kind != LD_KIND_TENSOR || t->ndim > 1)
        return ld_error(LD_ERR_DATA, "input %d must be a 1-D integer tensor", i);
    ld_status st = ld_tensor_to_i64(t, out, max, count);
    return st == LD_OK ? st : ld_err_prefix(st, "input %d", i);
}

ld_status ld_shape_scalar_as(const ld_tensor *v, ld_dtype dt, void *out) {
    if (v->kind != LD_KIND_TENSOR || v->numel != 1)
        return ld_error(LD_ERR_DATA, "expected a single value, got %lld elements",
                        (long long)v->numel);
    size_t es = ld_dtype_size(dt);
    if (v->dtype == dt) {
        memcpy(out, v->data, es);
        return LD_OK;
    }
    if (dt == LD_STRING || v->dtype == LD_STRING)
        return ld_error(LD_ERR_DATA, "value of dtype %s cannot fill a %s tensor",
                        ld_dtype_name(v->dtype), ld_dtype_name(dt));
    ld_tensor tmp = {0};
    LD_TRY(ld_tensor_convert(&tmp, v, dt));
    memcpy(out, tmp.data, es);
    ld_tensor_clear(&tmp);
    return LD_OK;
}

/* The shape of in[0] with the dtype and data kept, for the view ops. */
static ld_status view_set(ld_kctx *k, int n, const int64_t *dims) {
    return ld_tensor_set_shape(k->out[0], k->in[0]->dtype, n, dims);
}

static ld_status view_compute(ld_kctx *k) {
    return ld_shape_copy_all(k->out[0], k->in[0]);
}

/* ---- Reshape ---- */

/* Resolve 0 (copy, unless allowzero) and -1 (inferred) in the requested shape. */
static ld_status reshape_dims(const ld_tensor *x, const int64_t *want, int n, bool allowzero,
                              int64_t *out) {
    int infer = -1;
    int64_t known = 1;
    for (int i = 0; i < n; i++) {
        int64_t v = want[i];
        if (v == 0 && !allowzero) {
            if (i >= x->ndim)
                return ld_error(LD_ERR_DATA, "shape[%d] = 0 copies a dimension the rank-%d input "
                                "does not have", i, x->ndim);
            v = x->dims[i];
        }
        if (v == -1) {
            if (infer >= 0) return ld_error(LD_ERR_DATA, "shape has more than one -1");
            infer = i;
            continue;
        }
        if (v < 0) return ld_error(LD_ERR_DATA, "shape[%d] = %lld is invalid", i, (long long)v);
        if (v > 0 && known > INT64_MAX / v) return ld_error(LD_ERR_DATA, "shape is too large");
        out[i] = v;
        known *= v;
    }
    char a[256], b[256];
    if (infer >= 0) {
        if (known == 0 || x->numel % known)
            return ld_error(LD_ERR_DATA, "cannot reshape %s to %s", ld_shape_str(x, a, sizeof a),
                            ld_dims_str(n, want, b, sizeof b));
        out[infer] = x->numel / known;
    } else if (known != x->numel) {
        return ld_error(LD_ERR_DATA, "cannot reshape %s (%lld elements) to %s",
                        ld_shape_str(x, a, sizeof a), (long long)x->numel,
                        ld_dims_str(n, want, b, sizeof b));
    }
    return LD_OK;
}

static ld_status reshape_shape(ld_kctx *k) {
    LD_TRY(ld_shape_check_data(k, 0));
    int64_t want[LD_MAX_DIMS], dims[LD_MAX_DIMS];
    int n;
    if (k->node->opset < 5) {
        const int64_t *s = ld_attr_ints(k->node, "shape", &n);
        if (!s && !ld_node_attr(k->node, "shape"))
            return ld_error(LD_ERR_DATA, "Reshape-1 needs the 'shape' attribute");
        if (n > LD_MAX_DIMS) return ld_error(LD_ERR_UNSUPPORTED, "shape has rank %d (max %d)", n, LD_MAX_DIMS);
        if (n) memcpy(want, s, sizeof(int64_t) * n);
    } else {
        if (!LD_HAS_IN(k, 1)) return ld_error(LD_ERR_DATA, "Reshape needs a shape input");
        LD_SHAPE_NEED(k, 1);
        LD_TRY(ld_shape_read_ints(k, 1, want, LD_MAX_DIMS, &n));
    }
    bool allowzero = ld_attr_int(k->node, "allowzero", 0) != 0;
    LD_TRY(ld_shape_soft(k, reshape_dims(k->in[0], want, n, allowzero, dims)));
    return view_set(k, n, dims);
}

/* ---- Flatten ---- */

static ld_status flatten_shape(ld_kctx *k) {
    LD_TRY(ld_shape_check_data(k, 0));
    const ld_tensor *x = k->in[0];
    int64_t axis = ld_attr_int(k->node, "axis", 1);
    if (axis < -x->ndim || axis > x->ndim)
        return ld_error(LD_ERR_DATA, "axis %lld is out of range for rank %d", (long long)axis, x->ndim);
    if (axis < 0) axis += x->ndim;
    int64_t dims[2] = {ld_dims_numel((int)axis, x->dims),
                       ld_dims_numel(x->ndim - (int)axis, x->dims + axis)};
    return view_set(k, 2, dims);
}

/* ---- Squeeze / Unsqueeze ---- */

/* The axes of (Un)squeeze: attribute before opset 13, optional input 1 from 13. */
static ld_status axes_get(ld_kctx *k, int64_t *axes, int *n, bool *given) {
    *n = 0;
    *given = false;
    if (k->node->opset < 13) {
        const int64_t *a = ld_attr_ints(k->node, "axes", n);
        if (*n > LD_MAX_DIMS) return ld_error(LD_ERR_DATA, "too many axes (%d)", *n);
        if (*n) memcpy(axes, a, sizeof(int64_t) * *n);
        *given = ld_node_attr(k->node, "axes") != NULL;
        return LD_OK;
    }
    if (!LD_HAS_IN(k, 1)) return LD_OK;
    if (!k->in[1]->data) return LD_DYNAMIC;
    *given = true;
    return ld_shape_read_ints(k, 1, axes, LD_MAX_DIMS, n);
}

static ld_status squeeze_shape(ld_kctx *k) {
    LD_TRY(ld_shape_check_data(k, 0));
    const ld_tensor *x = k->in[0];
    int64_t axes[LD_MAX_DIMS], dims[LD_MAX_DIMS];
    int na, n = 0;
    bool given, drop[LD_MAX_DIMS] = {0};
    ld_status st = axes_get(k, axes, &na, &given);
    if (st != LD_OK) return st;
    for (int i = 0; i < na; i++) {
        int a;
        LD_TRY(ld_axis_norm(axes[i], x->ndim, &a));
        if (x->ndim == 0) return ld_error(LD_ERR_DATA, "cannot squeeze a scalar");
        if (x->dims[a] != 1)
            return ld_shape_soft(k, ld_error(LD_ERR_DATA, "cannot squeeze axis %d of size %lld", a,
                                             (long long)x->dims[a]));
        drop[a] = true;
    }
    for (int i = 0; i < x->ndim; i++) {
        if (given ? drop[i] : x->dims[i] == 1) continue;
        dims[n++] = x->dims[i];
    }
    return view_set(k, n, dims);
}

static ld_status unsqueeze_shape(ld_kctx *k) {
    LD_TRY(ld_shape_check_data(k, 0));
    const ld_tensor *x = k->in[0];
    int64_t axes[LD_MAX_DIMS], dims[LD_MAX_DIMS];
    int na;
    bool given, ins[LD_MAX_DIMS] = {0};
    ld_status st = axes_get(k, axes, &na, &given);
    if (st != LD_OK) return st;
    if (!given) return ld_error(LD_ERR_DATA, "Unsqueeze needs axes");
    int r = x->ndim + na;
    if (r > LD_MAX_DIMS)
        return ld_error(LD_ERR_UNSUPPORTED, "output rank %d exceeds the maximum of %d", r, LD_MAX_DIMS);
    for (int i = 0; i < na; i++) {
        int a;
        LD_TRY(ld_axis_norm(axes[i], r, &a));
        if (ins[a]) return ld_error(LD_ERR_DATA, "axis %lld is repeated", (long long)axes[i]);
        ins[a] = true;
    }
    for (int i = 0, j = 0; i < r; i++) dims[i] = ins[i] ? 1 : x->dims[j++];
    return view_set(k, r, dims);
}

/* ---- Expand ---- */

static ld_status expand_shape(ld_kctx *k) {
    LD_TRY(ld_shape_check_data(k, 0));
    LD_SHAPE_NEED(k, 1);
    const ld_tensor *x = k->in[0];
    int64_t want[LD_MAX_DIMS], dims[LD_MAX_DIMS];
    int n, r;
    LD_TRY(ld_shape_read_ints(k, 1, want, LD_MAX_DIMS, &n));
    for (int i = 0; i < n; i++)
        if (want[i] < 0) return ld_error(LD_ERR_DATA, "shape[%d] = %lld is negative", i, (long long)want[i]);
    LD_TRY(ld_shape_soft(k, ld_broadcast_dims(x->ndim, x->dims, n, want, &r, dims)));
    return ld_tensor_set_shape(k->out[0], x->dtype, r, dims);
}

static ld_status expand_compute(ld_kctx *k) {
    const ld_tensor *x = k->in[0];
    ld_tensor *y = k->out[0];
    int64_t st[LD_MAX_DIMS];
    ld_broadcast_strides(x, y->ndim, y->dims, st);
    return ld_shape_strided_copy(y->data, x->data, x->dtype, y->ndim, y->dims, st);
}

/* ---- Tile ---- */

/* Repeats per axis: input 1 (opset 6+), or Tile-1's (tiles, axis) scalar pair. */
static ld_status tile_repeats(ld_kctx *k, int64_t *rep) {
    const ld_tensor *x = k->in[0];
    if (!LD_HAS_IN(k, 1)) return ld_error(LD_ERR_DATA, "Tile needs a repeats input");
    int n;
    if (k->node->opset < 6) {
        int64_t tiles, axis;
        if (!LD_HAS_IN(k, 2)) return ld_error(LD_ERR_DATA, "Tile-1 needs tiles and axis inputs");
        LD_TRY(ld_shape_read_ints(k, 1, &tiles, 1, &n));
        LD_TRY(ld_shape_read_ints(k, 2, &axis, 1, &n));
        int a;
        LD_TRY(ld_axis_norm(axis, x->ndim, &a));
        for (int i = 0; i < x->ndim; i++) rep[i] = i == a ? tiles : 1;
    } else {
        LD_TRY(ld_shape_read_ints(k, 1, rep, LD_MAX_DIMS, &n));
        if (n != x->ndim)
            return ld_error(LD_ERR_DATA, "repeats has %d values for an input of rank %d", n, x->ndim);
    }
    for (int i = 0; i < x->ndim; i++)
        if (rep[i] < 0) return ld_error(LD_ERR_DATA, "repeats[%d] = %lld is negative", i, (long long)rep[i]);
    return LD_OK;
}

static ld_status tile_shape(ld_kctx *k) {
    LD_TRY(ld_shape_check_data(k, 0));
    LD_SHAPE_NEED(k, 1);
    LD_SHAPE_NEED(k, 2);
    const ld_tensor *x = k->in[0];
    int64_t rep[LD_MAX_DIMS], dims[LD_MAX_DIMS];
    LD_TRY(tile_repeats(k, rep));
    for (int i = 0; i < x->ndim; i++) {
        if (rep[i] && x->dims[i] > INT64_MAX / rep[i])
            return ld_error(LD_ERR_DATA, "tiled axis %d is too large", i);
        dims[i] = x->dims[i] * rep[i];
    }
    return ld_tensor_set_shape(k->out[0], x->dtype, x->ndim, dims);
}

/* View the output as (r0, d0, r1, d1, ...) reading the input with stride 0 on each r. */
static ld_status tile_compute(ld_kctx *k) {
    const ld_tensor *x = k->in[0];
    int64_t rep[LD_MAX_DIMS], st[LD_MAX_DIMS], vd[LD_SHAPE_MAXV], vs[LD_SHAPE_MAXV];
    LD_TRY(tile_repeats(k, rep));
    ld_strides(x->ndim, x->dims, st);
    for (int i = 0; i < x->ndim; i++) {
        vd[2 * i] = rep[i];
        vs[2 * i] = 0;
        vd[2 * i + 1] = x->dims[i];
        vs[2 * i + 1] = st[i];
    }
    return ld_shape_strided_copy(k->out[0]->data, x->data, x->dtype, 2 * x->ndim, vd, vs);
}

/* ---- table ---- */

const ld_op_def ld_ops_shape[] = {
    {"", "Reshape", 1, reshape_shape, view_compute, 0 | LD_OPF_NOZERO_F32 | LD_OPF_VIEW},
    {"", "Reshape", 5, reshape_shape, view_compute, 0 | LD_OPF_NOZERO_F32 | LD_OPF_VIEW},
    {"", "Reshape", 14, reshape_shape, view_compute, 0 | LD_OPF_NOZERO_F32 | LD_OPF_VIEW},
    {"", "Flatten", 1, flatten_shape, view_compute, 0 | LD_OPF_NOZERO_F32 | LD_OPF_VIEW},
    {"", "Squeeze", 1, squeeze_shape, view_compute, 0 | LD_OPF_NOZERO_F32 | LD_OPF_VIEW},
    {"", "Squeeze", 13, squeeze_shape, view_compute, 0 | LD_OPF_NOZERO_F32 | LD_OPF_VIEW},
    {"", "Unsqueeze", 1, unsqueeze_shape, view_compute, 0 | LD_OPF_NOZERO_F32 | LD_OPF_VIEW},
    {"", "Unsqueeze", 13, unsqueeze_shape, view_compute, 0 | LD_OPF_NOZERO_F32 | LD_OPF_VIEW},
    {"", "Expand", 8, expand_shape, expand_compute, 0},
    {"", "Tile", 1, tile_shape, tile_compute, 0},
    {"", "Tile", 6, tile_shape, tile_compute, 0},
    {"", "Transpose", 1, ld_shape_transpose_shape, ld_shape_transpose_compute, 0 | LD_OPF_NOZERO_F32},
    {"", "Concat", 1, ld_shape_concat_shape, ld_shape_concat_compute, 0 | LD_OPF_NOZERO_F32},
    {"", "Concat", 4, ld_shape_concat_shape, ld_shape_concat_compute, 0 | LD_OPF_NOZERO_F32},
    {"", "Split", 1, ld_shape_split_shape, ld_shape_split_compute, 0},
    {"", "Split", 2, ld_shape_split_shape, ld_shape_split_compute, 0},
    {"", "Split", 13, ld_shape_split_shape, ld_shape_split_compute, 0},
    {"", "Split", 18, ld_shape_split_shape, ld_shape_split_compute, 0},
    {"", "DepthToSpace", 1, ld_shape_d2s_shape, ld_shape_d2s_compute, 0},
    {"", "DepthToSpace", 11, ld_shape_d2s_shape, ld_shape_d2s_compute, 0},
    {"", "SpaceToDepth", 1, ld_shape_s2d_shape, ld_shape_s2d_compute, 0},
    {"", "Slice", 1, ld_shape_slice_shape, ld_shape_slice_compute, 0},
    {"", "Slice", 10, ld_shape_slice_shape, ld_shape_slice_compute, 0},
    {"", "Pad", 1, ld_shape_pad_shape, ld_shape_pad_compute, 0},
    {"", "Pad", 2, ld_shape_pad_shape, ld_shape_pad_compute, 0},
    {"", "Pad", 11, ld_shape_pad_shape, ld_shape_pad_compute, 0},
    {"", "Pad", 18, ld_shape_pad_shape, ld_shape_pad_compute, 0},
    {"", "Pad", 19, ld_shape_pad_shape, ld_shape_pad_compute, 0},
    {"", "CenterCropPad", 18, ld_shape_ccp_shape, ld_shape_ccp_compute, 0},
    {"", "ConstantOfShape", 9, ld_shape_cos_shape, ld_shape_cos_compute, 0},
    {"", "Range", 11, ld_shape_range_shape, ld_shape_range_compute, 0},
    {"", "EyeLike", 9, ld_shape_eyelike_shape, ld_shape_eyelike_compute, 0},
    {"", "Trilu", 14, ld_shape_trilu_shape, ld_shape_trilu_compute, 0},
    {"", "Col2Im", 18, ld_shape_col2im_shape, ld_shape_col2im_compute, LD_OPF_F32_ONLY},
    {0},
};
