/*
** ops_shape_move.c — the 'shape' family's reordering ops: Transpose, Concat, Split,
** DepthToSpace and SpaceToDepth. All but Concat are strided views of the input handed to the
** copy engine (ops_shape_copy.c); Concat copies one block per input per outer index.
*/
#include "ops_shape.h"

#include <stdlib.h>
#include <string.h>

#define PAR_BYTES ((int64_t)1 << 18)

/* ---- Transpose ---- */

static ld_status transpose_perm(ld_kctx *k, int *perm) {
    const ld_tensor *x = k->in[0];
    int n;
    const int64_t *p = ld_attr_ints(k->node, "perm", &n);
    if (!p) {
        for (int i = 0; i < x->ndim; i++) perm[i] = x->ndim - 1 - i;
        return LD_OK;
    }
    if (n != x->ndim)
        return ld_error(LD_ERR_DATA, "perm has %d entries for an input of rank %d", n, x->ndim);
    bool seen[LD_MAX_DIMS] = {0};
    for (int i = 0; i < n; i++) {
        int64_t a = p[i] < 0 ? p[i] + n : p[i];
        if (a < 0 || a >= n || seen[a])
            return ld_error(LD_ERR_DATA, "perm is not a permutation of 0..%d", n - 1);
        seen[a] = true;
        perm[i] = (int)a;
    }
    return LD_OK;
}

ld_status ld_shape_transpose_shape(ld_kctx *k) {
    LD_TRY(ld_shape_check_data(k, 0));
    const ld_tensor *x = k->in[0];
    int perm[LD_MAX_DIMS];
    int64_t dims[LD_MAX_DIMS];
    LD_TRY(transpose_perm(k, perm));
    for (int i = 0; i < x->ndim; i++) dims[i] = x->dims[perm[i]];
    return ld_tensor_set_shape(k->out[0], x->dtype, x->ndim, dims);
}

ld_status ld_shape_transpose_compute(ld_kctx *k) {
    const ld_tensor *x = k->in[0];
    ld_tensor *y = k->out[0];
    int perm[LD_MAX_DIMS];
    int64_t st[LD_MAX_DIMS], vs[LD_MAX_DIMS];
    LD_TRY(transpose_perm(k, perm));
    ld_strides(x->ndim, x->dims, st);
    for (int i = 0; i < x->ndim; i++) vs[i] = st[perm[i]];
    return ld_shape_strided_copy(y->data, x->data, x->dtype, y->ndim, y->dims, vs);
}

/* ---- Concat ---- */

static ld_status concat_axis(ld_kctx *k, int rank, int *axis) {
    const ld_attr *a = ld_node_attr(k->node, "axis");
    if (!a && k->node->opset >= 4) return ld_error(LD_ERR_DATA, "Concat needs the 'axis' attribute");
    return ld_axis_norm(a ? a->i : 1, rank, axis);
}

ld_status ld_shape_concat_shape(ld_kctx *k) {
    if (k->nin < 1) return ld_error(LD_ERR_DATA, "Concat needs at least one input");
    for (int i = 0; i < k->nin; i++) LD_TRY(ld_shape_check_data(k, i));
    const ld_tensor *x0 = k->in[0];
    int axis;
    LD_TRY(concat_axis(k, x0->ndim, &axis));
    int64_t dims[LD_MAX_DIMS];
    memcpy(dims, x0->dims, sizeof(int64_t) * x0->ndim);
    dims[axis] = 0;
    for (int i = 0; i < k->nin; i++) {
        const ld_tensor *x = k->in[i];
        char a[256], b[256];
        bool ok = x->ndim == x0->ndim && x->dtype == x0->dtype;
        for (int d = 0; ok && d < x->ndim; d++) ok = d == axis || x->dims[d] == x0->dims[d];
        if (!ok)
            return ld_shape_soft(k, ld_error(LD_ERR_DATA, "input %d %s %s does not match input 0 %s %s "
                                             "on axis %d", i, ld_dtype_name(x->dtype),
                                             ld_shape_str(x, a, sizeof a), ld_dtype_name(x0->dtype),
                                             ld_shape_str(x0, b, sizeof b), axis));
        dims[axis] += x->dims[axis];
    }
    return ld_tensor_set_shape(k->out[0], x0->dtype, x0->ndim, dims);
}

ld_status ld_shape_concat_compute(ld_kctx *k) {
    ld_tensor *y = k->out[0];
    int axis;
    LD_TRY(concat_axis(k, y->ndim, &axis));
    int64_t outer = ld_dims_numel(axis, y->dims);
    if (outer == 0 || y->numel == 0) return LD_OK;
    int64_t row = y->numel / outer;     /* output elements per outer index */
    ld_dtype dt = y->dtype;
    size_t es = ld_dtype_size(dt);
    char *dst = y->data;
    if (dt == LD_STRING || outer == 1) {   /* strings, or one big block per input */
        for (int64_t o = 0; o < outer; o++) {
            int64_t off = o * row;
            for (int i = 0; i < k->nin; i++) {
                const ld_tensor *x = k->in[i];
                int64_t inner = x->numel / outer;
                LD_TRY(ld_shape_copy_elems(dst + off * (int64_t)es,
                                           (const char *)x->data + o * inner * (int64_t)es, dt, inner));
                off += inner;
            }
        }
        return LD_OK;
    }
    #pragma omp parallel for if(y->numel * (int64_t)es > PAR_BYTES) schedule(static)
    for (int64_t o = 0; o < outer; o++) {
        char *d = dst + o * row * (int64_t)es;
        for (int i = 0; i < k->nin; i++) {
            const ld_tensor *x = k->in[i];
            size_t bytes = (size_t)(x->numel / outer) * es;
            memcpy(d, (const char *)x->data + o * bytes, bytes);
            d += bytes;
        }
    }
    return LD_OK;
}

/* ---- Split ---- */

/* Explicit sizes (input 1 from opset 13 and in Split-1, else the 'split' attribute); *given
 * says whether there were any. */
static ld_status split_given(ld_kctx *k, int64_t len, int64_t *sizes, bool *given) {
    int nout = k->nout, n = 0;
    *given = false;
    if (LD_HAS_IN(k, 1) && (k->node->opset >= 13 || k->node->opset < 2)) {
        LD_TRY(ld_shape_read_ints(k, 1, sizes, nout, &n));
    } else if (k->node->opset < 13 && ld_node_attr(k->node, "split")) {
        const int64_t *a = ld_attr_ints(k->node, "split", &n);
        if (n > nout) return ld_error(LD_ERR_DATA, "split has %d values for %d outputs", n, nout);
        if (n) memcpy(sizes, a, sizeof(int64_t) * n);
    } else {
        return LD_OK;
    }
    *given = true;
    if (n != nout) return ld_error(LD_ERR_DATA, "split has %d values for %d outputs", n, nout);
    int64_t total = 0;
    for (int i = 0; i < n; i++) {
        if (sizes[i] < 0)
            return ld_error(LD_ERR_DATA, "split[%d] = %lld is negative", i, (long long)sizes[i]);
        total += sizes[i];
    }
    if (total != len)
        return ld_error(LD_ERR_DATA, "split sizes add up to %lld, the axis has %lld",
                        (long long)total, (long long)len);
    return LD_OK;
}

/* Equal parts, one per output; from opset 18 the last part may be smaller. */
static ld_status split_even(ld_kctx *k, int64_t len, int64_t *sizes) {
    int nout = k->nout;
    int64_t parts = ld_attr_int(k->node, "num_outputs", nout);
    if (parts != nout)
        return ld_error(LD_ERR_DATA, "num_outputs is %lld but the node has %d outputs",
                        (long long)parts, nout);
    if (nout < 1) return ld_error(LD_ERR_DATA, "Split has no outputs");
    if (k->node->opset < 18 && len % nout)
        return ld_error(LD_ERR_DATA, "axis of size %lld does not split into %d equal parts",
                        (long long)len, nout);
    int64_t chunk = (len + nout - 1) / nout;
    for (int i = 0; i < nout; i++) sizes[i] = LD_MAX(0, LD_MIN(chunk, len - i * chunk));
    return LD_OK;
}

/* Part sizes along the axis for the node's nout outputs (caller frees *sizes_out). */
static ld_status split_sizes(ld_kctx *k, int64_t len, int64_t **sizes_out) {
    int64_t *sizes = calloc(k->nout ? k->nout : 1, sizeof *sizes);
    if (!sizes) return ld_oom();
    bool given;
    ld_status st = split_given(k, len, sizes, &given);
    if (st == LD_OK && !given) st = split_even(k, len, sizes);
    if (st != LD_OK) {
        free(sizes);
        return st;
    }
    *sizes_out = sizes;
    return LD_OK;
}

ld_status ld_shape_split_shape(ld_kctx *k) {
    LD_TRY(ld_shape_check_data(k, 0));
    LD_SHAPE_NEED(k, 1);
    const ld_tensor *x = k->in[0];
    int axis;
    LD_TRY(ld_axis_norm(ld_attr_int(k->node, "axis", 0), x->ndim, &axis));
    int64_t *sizes;
    LD_TRY(ld_shape_soft(k, split_sizes(k, x->dims[axis], &sizes)));
    ld_status st = LD_OK;
    int64_t dims[LD_MAX_DIMS];
    memcpy(dims, x->dims, sizeof(int64_t) * x->ndim);
    for (int o = 0; st == LD_OK && o < k->nout; o++) {
        if (!LD_HAS_OUT(k, o)) continue;
        dims[axis] = sizes[o];
        st = ld_tensor_set_shape(k->out[o], x->dtype, x->ndim, dims);
    }
    free(sizes);
    return st;
}

ld_status ld_shape_split_compute(ld_kctx *k) {
    const ld_tensor *x = k->in[0];
    int axis;
    LD_TRY(ld_axis_norm(ld_attr_int(k->node, "axis", 0), x->ndim, &axis));
    int64_t *sizes;
    LD_TRY(split_sizes(k, x->dims[axis], &sizes));
    int64_t st[LD_MAX_DIMS], start = 0;
    ld_strides(x->ndim, x->dims, st);
    size_t es = ld_dtype_size(x->dtype);
    ld_status s = LD_OK;
    for (int o = 0; s == LD_OK && o < k->nout; o++) {
        if (LD_HAS_OUT(k, o)) {
            ld_tensor *y = k->out[o];
            const char *src = (const char *)x->data + start * st[axis] * (int64_t)es;
            s = ld_shape_strided_copy(y->data, src, x->dtype, y->ndim, y->dims, st);
        }
        start += sizes[o];
    }
    free(sizes);
    return s;
}

/* ---- DepthToSpace / SpaceToDepth ---- */

static ld_status block_size(ld_kctx *k, int64_t *b) {
    const ld_tensor *x = k->in[0];
    if (x->ndim != 4) return ld_error(LD_ERR_DATA, "input must be 4-D (N,C,H,W), has rank %d", x->ndim);
    *b = ld_attr_int(k->node, "blocksize", 0);
    if (*b <= 0) return ld_error(LD_ERR_DATA, "blocksize must be positive, got %lld", (long long)*b);
    return LD_OK;
}

ld_status ld_shape_d2s_shape(ld_kctx *k) {
    LD_TRY(ld_shape_check_data(k, 0));
    const ld_tensor *x = k->in[0];
    int64_t b;
    LD_TRY(block_size(k, &b));
    const char *mode = ld_attr_str(k->node, "mode", "DCR");
    if (strcmp(mode, "DCR") && strcmp(mode, "CRD"))
        return ld_error(LD_ERR_DATA, "unknown mode '%s' (DCR or CRD)", mode);
    if (x->dims[1] % (b * b))
        return ld_shape_soft(k, ld_error(LD_ERR_DATA, "channels %lld are not a multiple of "
                                         "blocksize^2 = %lld", (long long)x->dims[1], (long long)(b * b)));
    int64_t dims[4] = {x->dims[0], x->dims[1] / (b * b), x->dims[2] * b, x->dims[3] * b};
    return ld_tensor_set_shape(k->out[0], x->dtype, 4, dims);
}

/* (N,C,H,W) -> view (N, C', H, b, W, b) of the input's channels split into (b, b, C') for
 * DCR or (C', b, b) for CRD. */
ld_status ld_shape_d2s_compute(ld_kctx *k) {
    const ld_tensor *x = k->in[0];
    int64_t b;
    LD_TRY(block_size(k, &b));
    int64_t N = x->dims[0], C = x->dims[1], H = x->dims[2], W = x->dims[3], c = C / (b * b);
    int64_t HW = H * W;
    bool crd = !strcmp(ld_attr_str(k->node, "mode", "DCR"), "CRD");
    int64_t vd[6] = {N, c, H, b, W, b};
    int64_t dcr[6] = {C * HW, HW, W, b * c * HW, 1, c * HW};
    int64_t crdst[6] = {C * HW, b * b * HW, W, b * HW, 1, HW};
    return ld_shape_strided_copy(k->out[0]->data, x->data, x->dtype, 6, vd, crd ? crdst : dcr);
}

ld_status ld_shape_s2d_shape(ld_kctx *k) {
    LD_TRY(ld_shape_check_data(k, 0));
    const ld_tensor *x = k->in[0];
    int64_t b;
    LD_TRY(block_size(k, &b));
    if (x->dims[2] % b || x->dims[3] % b)
        return ld_shape_soft(k, ld_error(LD_ERR_DATA, "spatial size %lldx%lld is not a multiple of "
                                         "blocksize %lld", (long long)x->dims[2], (long long)x->dims[3],
                                         (long long)b));
    int64_t dims[4] = {x->dims[0], x->dims[1] * b * b, x->dims[2] / b, x->dims[3] / b};
    return ld_tensor_set_shape(k->out[0], x->dtype, 4, dims);
}

/* (N,C,H,W) -> view (N, b, b, C, H/b, W/b): output channel (bh*b + bw)*C + c. */
ld_status ld_shape_s2d_compute(ld_kctx *k) {
    const ld_tensor *x = k->in[0];
    int64_t b;
    LD_TRY(block_size(k, &b));
    int64_t N = x->dims[0], C = x->dims[1], H = x->dims[2], W = x->dims[3];
    int64_t vd[6] = {N, b, b, C, H / b, W / b};
    int64_t vs[6] = {C * H * W, W, 1, H * W, b * W, b};
    return ld_shape_strided_copy(k->out[0]->data, x->data, x->dtype, 6, vd, vs);
}
