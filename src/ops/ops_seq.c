/*
** ops_seq.c — sequences and optionals: SequenceConstruct, SequenceEmpty, SequenceAt,
** SequenceInsert, SequenceErase, SequenceLength, SplitToSequence, ConcatFromSequence, Optional,
** OptionalHasElement, OptionalGetElement. (SequenceMap runs a subgraph: ops_control.c.)
**
** A sequence is an ld_tensor of kind LD_KIND_SEQUENCE owning its elements; an empty optional
** is kind LD_KIND_NONE and a present optional is simply its value. Kernels never modify their
** inputs: every sequence output is a fresh deep copy.
*/
#include "ops_seq.h"

#include <stdlib.h>
#include <string.h>

/* ---- shared helpers (ops_seq.h) ---- */

void ld_seq_init(ld_tensor *t, ld_dtype elem) {
    ld_tensor_clear(t);
    t->kind = LD_KIND_SEQUENCE;
    t->seq_dtype = elem;
}

static ld_status seq_push(ld_tensor *s, ld_tensor *heap_elem) {
    ld_tensor **v = realloc(s->seq, sizeof *v * (s->seq_len + 1));
    if (!v) return ld_oom();
    s->seq = v;
    v[s->seq_len++] = heap_elem;
    if (heap_elem->kind == LD_KIND_TENSOR) s->seq_dtype = heap_elem->dtype;
    return LD_OK;
}

ld_status ld_seq_push_copy(ld_tensor *s, const ld_tensor *src) {
    ld_tensor *e = calloc(1, sizeof *e);
    if (!e) return ld_oom();
    ld_status st = ld_tensor_copy(e, src);
    if (st == LD_OK) st = seq_push(s, e);
    if (st != LD_OK) ld_tensor_free(e);
    return st;
}

ld_status ld_seq_push_move(ld_tensor *s, ld_tensor *src) {
    ld_tensor *e = malloc(sizeof *e);
    if (!e) return ld_oom();
    *e = *src;
    memset(src, 0, sizeof *src);
    ld_status st = seq_push(s, e);
    if (st != LD_OK) ld_tensor_free(e);
    return st;
}

ld_status ld_seq_check(const ld_tensor *t, const char *what) {
    if (t && t->kind == LD_KIND_SEQUENCE) return LD_OK;
    return ld_error(LD_ERR_DATA, "%s must be a sequence, got %s", what,
                    !t || t->kind == LD_KIND_NONE ? "an empty optional" : "a tensor");
}

ld_status ld_seq_copy_elems(ld_tensor *dst, int64_t doff, const ld_tensor *src, int64_t soff,
                            int64_t count) {
    if (count <= 0) return LD_OK;
    if (src->dtype != LD_STRING) {
        size_t es = ld_dtype_size(src->dtype);
        memcpy((char *)dst->data + doff * es, (const char *)src->data + soff * es, count * es);
        return LD_OK;
    }
    char **d = (char **)dst->data + doff;
    char *const *s = (char *const *)src->data + soff;
    for (int64_t i = 0; i < count; i++) {
        free(d[i]);
        if (!(d[i] = ld_strdup(s[i] ? s[i] : ""))) return ld_oom();
    }
    return LD_OK;
}

ld_status ld_seq_slice_axis(const ld_tensor *x, int axis, int64_t start, int64_t len, bool squeeze,
                            ld_tensor *out) {
    int64_t dims[LD_MAX_DIMS];
    int nd = 0;
    for (int d = 0; d < x->ndim; d++) {
        if (d == axis && squeeze) continue;
        dims[nd++] = d == axis ? len : x->dims[d];
    }
    LD_TRY(ld_tensor_alloc(out, x->dtype, nd, dims));
    int64_t outer = ld_dims_numel(axis, x->dims);
    int64_t inner = ld_dims_numel(x->ndim - axis - 1, x->dims + axis + 1);
    int64_t n = x->dims[axis];
    for (int64_t o = 0; o < outer; o++)   // (outer, n, inner) -> (outer, len, inner)
        LD_TRY(ld_seq_copy_elems(out, o * len * inner, x, (o * n + start) * inner, len * inner));
    return LD_OK;
}

/* ---- small local helpers ---- */

static ld_status out_bool_scalar(ld_kctx *k) { return ld_tensor_set_shape(k->out[0], LD_BOOL, 0, NULL); }
static ld_status out_i64_scalar(ld_kctx *k) { return ld_tensor_set_shape(k->out[0], LD_I64, 0, NULL); }
static ld_status shape_dynamic(ld_kctx *k) { return LD_DYNAMIC; }

/* A position input: one int32/int64 value. */
static ld_status read_position(const ld_tensor *t, int64_t *pos) {
    if (t->kind != LD_KIND_TENSOR || (t->dtype != LD_I32 && t->dtype != LD_I64))
        return ld_error(LD_ERR_DATA, "position must be an int32 or int64 tensor");
    if (t->numel != 1)
        return ld_error(LD_ERR_DATA, "position must be a scalar, got %lld values", (long long)t->numel);
    if (!t->data) return ld_error(LD_ERR_INTERNAL, "position data not available");
    *pos = ld_tensor_get_i64(t, 0);
    return LD_OK;
}

/* Normalise pos into [0, n) (or [0, n] when allow_end); error if out of range. */
static ld_status norm_position(int64_t pos, int64_t n, bool allow_end, int64_t *out) {
    int64_t hi = allow_end ? n : n - 1;
    if (pos < -n || pos > hi)
        return ld_error(LD_ERR_DATA, "position %lld is out of range for a sequence of %lld elements",
                        (long long)pos, (long long)n);
    *out = pos < 0 ? pos + n : pos;
    return LD_OK;
}

/* Element dtype of a sequence (of its first tensor element when it has any). */
static ld_dtype seq_elem_dtype(const ld_tensor *s) {
    for (int i = 0; i < s->seq_len; i++)
        if (s->seq[i]->kind == LD_KIND_TENSOR) return s->seq[i]->dtype;
    return s->seq_dtype;
}

/* Deep copy of the sequence s with element `skip` left out (skip < 0: keep all). */
static ld_status seq_copy_except(ld_tensor *out, const ld_tensor *s, int64_t skip) {
    ld_seq_init(out, s->seq_dtype);
    for (int i = 0; i < s->seq_len; i++)
        if (i != skip) LD_TRY(ld_seq_push_copy(out, s->seq[i]));
    out->seq_dtype = s->seq_dtype;
    return LD_OK;
}

/* ---- SequenceConstruct / SequenceEmpty / SequenceLength ---- */

static ld_status construct_compute(ld_kctx *k) {
    if (k->nin < 1) return ld_error(LD_ERR_DATA, "SequenceConstruct needs at least one input");
    ld_tensor *out = k->out[0];
    ld_seq_init(out, LD_UNDEFINED);
    for (int i = 0; i < k->nin; i++) {
        const ld_tensor *x = k->in[i];
        if (!x || x->kind != LD_KIND_TENSOR)
            return ld_error(LD_ERR_DATA, "SequenceConstruct input %d is not a tensor", i);
        if (x->dtype != k->in[0]->dtype)
            return ld_error(LD_ERR_DATA, "SequenceConstruct inputs mix dtypes %s and %s",
                            ld_dtype_name(k->in[0]->dtype), ld_dtype_name(x->dtype));
        LD_TRY(ld_seq_push_copy(out, x));
    }
    return LD_OK;
}

static ld_status empty_compute(ld_kctx *k) {
    int64_t dt = ld_attr_int(k->node, "dtype", LD_F32);
    if (dt <= LD_UNDEFINED || dt >= LD_DTYPE_COUNT)
        return ld_error(LD_ERR_DATA, "invalid dtype %lld", (long long)dt);
    ld_seq_init(k->out[0], (ld_dtype)dt);
    return LD_OK;
}

static ld_status length_compute(ld_kctx *k) {
    LD_TRY(ld_seq_check(k->in[0], "SequenceLength input"));
    LD_I64P(k->out[0])[0] = k->in[0]->seq_len;
    return LD_OK;
}

/* ---- SequenceAt / SequenceInsert / SequenceErase ---- */

static ld_status at_compute(ld_kctx *k) {
    const ld_tensor *s = k->in[0];
    LD_TRY(ld_seq_check(s, "SequenceAt input"));
    int64_t pos;
    LD_TRY(read_position(k->in[1], &pos));
    LD_TRY(norm_position(pos, s->seq_len, false, &pos));
    return ld_tensor_copy(k->out[0], s->seq[pos]);
}

static ld_status insert_compute(ld_kctx *k) {
    const ld_tensor *s = k->in[0], *x = k->in[1];
    LD_TRY(ld_seq_check(s, "SequenceInsert input"));
    if (!x || x->kind != LD_KIND_TENSOR) return ld_error(LD_ERR_DATA, "the inserted value is not a tensor");
    ld_dtype et = seq_elem_dtype(s);
    if (et != LD_UNDEFINED && et != x->dtype)
        return ld_error(LD_ERR_DATA, "cannot insert a %s tensor into a sequence of %s",
                        ld_dtype_name(x->dtype), ld_dtype_name(et));
    int64_t pos = s->seq_len;
    if (LD_HAS_IN(k, 2)) {
        LD_TRY(read_position(k->in[2], &pos));
        LD_TRY(norm_position(pos, s->seq_len, true, &pos));
    }
    ld_tensor *out = k->out[0];
    ld_seq_init(out, x->dtype);
    for (int i = 0; i <= s->seq_len; i++) {
        if (i == pos) LD_TRY(ld_seq_push_copy(out, x));
        if (i < s->seq_len) LD_TRY(ld_seq_push_copy(out, s->seq[i]));
    }
    return LD_OK;
}

static ld_status erase_compute(ld_kctx *k) {
    const ld_tensor *s = k->in[0];
    LD_TRY(ld_seq_check(s, "SequenceErase input"));
    if (!s->seq_len) return ld_error(LD_ERR_DATA, "the sequence is empty");
    int64_t pos = -1;
    if (LD_HAS_IN(k, 1)) LD_TRY(read_position(k->in[1], &pos));
    LD_TRY(norm_position(pos, s->seq_len, false, &pos));
    return seq_copy_except(k->out[0], s, pos);
}

/* ---- SplitToSequence ---- */

/* Piece lengths along an axis of size n: from `split` (absent: all 1; scalar: chunks). */
static ld_status split_lengths(const ld_tensor *split, int64_t n, int64_t **lens, int64_t *count) {
    int64_t c;
    if (!split) c = n;
    else if (split->ndim == 0) {
        int64_t s = ld_tensor_get_i64(split, 0);
        if (s <= 0) return ld_error(LD_ERR_DATA, "split %lld must be positive", (long long)s);
        c = (n + s - 1) / s;
    } else if (split->ndim == 1) c = split->numel;
    else return ld_error(LD_ERR_DATA, "split must be a scalar or 1-D, got rank %d", split->ndim);
    *lens = malloc(sizeof(int64_t) * (c + 1));
    if (!*lens) return ld_oom();
    *count = c;
    int64_t total = 0;
    for (int64_t i = 0; i < c; i++) {
        if (!split) (*lens)[i] = 1;
        else if (split->ndim == 0) (*lens)[i] = LD_MIN(ld_tensor_get_i64(split, 0), n - total);
        else (*lens)[i] = ld_tensor_get_i64(split, i);
        if ((*lens)[i] < 0) {
            long long bad = (long long)(*lens)[i];
            free(*lens);
            *lens = NULL;
            return ld_error(LD_ERR_DATA, "negative split length %lld at index %lld", bad, (long long)i);
        }
        if ((*lens)[i] > n - total) {   /* also keeps total from overflowing */
            long long bad = (long long)(*lens)[i];
            free(*lens);
            *lens = NULL;
            return ld_error(LD_ERR_DATA, "split length %lld at index %lld runs past the axis of %lld",
                            bad, (long long)i, (long long)n);
        }
        total += (*lens)[i];
    }
    if (total != n) {
        free(*lens);
        *lens = NULL;
        return ld_error(LD_ERR_DATA, "split lengths sum to %lld, but the axis has %lld",
                        (long long)total, (long long)n);
    }
    return LD_OK;
}

static ld_status split_compute(ld_kctx *k) {
    const ld_tensor *x = k->in[0];
    if (x->kind != LD_KIND_TENSOR) return ld_error(LD_ERR_DATA, "SplitToSequence input is not a tensor");
    const ld_tensor *split = LD_HAS_IN(k, 1) ? k->in[1] : NULL;
    if (split && !ld_dtype_is_int(split->dtype))
        return ld_error(LD_ERR_DATA, "split must be int32 or int64");
    int axis;
    if (x->ndim == 0) return ld_error(LD_ERR_DATA, "cannot split a scalar");
    LD_TRY(ld_axis_norm(ld_attr_int(k->node, "axis", 0), x->ndim, &axis));
    bool squeeze = !split && !ld_attr_int(k->node, "keepdims", 1);
    int64_t *lens = NULL, count = 0;
    LD_TRY(split_lengths(split, x->dims[axis], &lens, &count));
    ld_tensor *out = k->out[0];
    ld_seq_init(out, x->dtype);
    ld_status st = LD_OK;
    for (int64_t i = 0, start = 0; st == LD_OK && i < count; start += lens[i++]) {
        ld_tensor piece = {0};
        st = ld_seq_slice_axis(x, axis, start, lens[i], squeeze, &piece);
        if (st == LD_OK) st = ld_seq_push_move(out, &piece);
        ld_tensor_clear(&piece);
    }
    free(lens);
    out->seq_dtype = x->dtype;
    return st;
}

/* ---- ConcatFromSequence ---- */

/* Output dims of concatenating (or, with new_axis, stacking) the elements along axis. */
static ld_status concat_dims(const ld_tensor *s, bool new_axis, int axis, int *nd, int64_t *dims) {
    const ld_tensor *e0 = s->seq[0];
    *nd = e0->ndim + new_axis;
    for (int d = 0, j = 0; d < *nd; d++) dims[d] = (new_axis && d == axis) ? 0 : e0->dims[j++];
    dims[axis] = 0;   // summed below
    for (int i = 0; i < s->seq_len; i++) {
        const ld_tensor *e = s->seq[i];
        if (e->kind != LD_KIND_TENSOR || e->dtype != e0->dtype || e->ndim != e0->ndim)
            return ld_error(LD_ERR_DATA, "element %d differs in dtype or rank from element 0", i);
        for (int d = 0; d < e->ndim; d++) {
            if ((!new_axis && d == axis) || e->dims[d] == e0->dims[d]) continue;
            char a[128], b[128];
            return ld_error(LD_ERR_DATA, "element %d has shape %s, element 0 has %s", i,
                            ld_shape_str(e, a, sizeof a), ld_shape_str(e0, b, sizeof b));
        }
        dims[axis] += new_axis ? 1 : e->dims[axis];
    }
    return LD_OK;
}

static ld_status concat_compute(ld_kctx *k) {
    const ld_tensor *s = k->in[0];
    LD_TRY(ld_seq_check(s, "ConcatFromSequence input"));
    if (!ld_node_attr(k->node, "axis")) return ld_error(LD_ERR_DATA, "attribute 'axis' is required");
    if (!s->seq_len) return ld_error(LD_ERR_DATA, "the sequence is empty");
    bool new_axis = ld_attr_int(k->node, "new_axis", 0) != 0;
    int rank = s->seq[0]->ndim + new_axis, axis, nd;
    if (!new_axis && rank == 0) return ld_error(LD_ERR_DATA, "cannot concatenate scalars");
    LD_TRY(ld_axis_norm(ld_attr_int(k->node, "axis", 0), rank, &axis));
    int64_t dims[LD_MAX_DIMS];
    LD_TRY(concat_dims(s, new_axis, axis, &nd, dims));
    ld_tensor *out = k->out[0];
    LD_TRY(ld_tensor_alloc(out, s->seq[0]->dtype, nd, dims));
    int64_t outer = ld_dims_numel(axis, dims);
    int64_t inner = ld_dims_numel(nd - axis - 1, dims + axis + 1);
    int64_t at = 0;   // running position along axis
    for (int i = 0; i < s->seq_len; i++) {
        const ld_tensor *e = s->seq[i];
        int64_t len = new_axis ? 1 : e->dims[axis];
        for (int64_t o = 0; o < outer; o++)   // element (outer, len, inner) into (outer, dims[axis], inner)
            LD_TRY(ld_seq_copy_elems(out, (o * dims[axis] + at) * inner, e, o * len * inner, len * inner));
        at += len;
    }
    return LD_OK;
}

/* ---- Optional / OptionalHasElement / OptionalGetElement ---- */

static ld_status tensor_passthrough_shape(ld_kctx *k) {
    const ld_tensor *x = k->nin > 0 ? k->in[0] : NULL;
    if (!x || x->kind != LD_KIND_TENSOR) return LD_DYNAMIC;
    return ld_tensor_set_shape(k->out[0], x->dtype, x->ndim, x->dims);
}

static ld_status optional_compute(ld_kctx *k) {
    ld_tensor_clear(k->out[0]);
    if (!LD_HAS_IN(k, 0)) {
        k->out[0]->kind = LD_KIND_NONE;
        return LD_OK;
    }
    return ld_tensor_copy(k->out[0], k->in[0]);
}

static ld_status has_element_compute(ld_kctx *k) {
    ((uint8_t *)k->out[0]->data)[0] = LD_HAS_IN(k, 0);
    return LD_OK;
}

static ld_status get_element_compute(ld_kctx *k) {
    if (!LD_HAS_IN(k, 0)) return ld_error(LD_ERR_DATA, "the optional is empty");
    return ld_tensor_copy(k->out[0], k->in[0]);
}

const ld_op_def ld_ops_seq[] = {
    {"", "SequenceConstruct", 11, shape_dynamic, construct_compute, LD_OPF_ALLOCS},
    {"", "SequenceEmpty", 11, shape_dynamic, empty_compute, LD_OPF_ALLOCS},
    {"", "SequenceLength", 11, out_i64_scalar, length_compute, 0},
    {"", "SequenceAt", 11, shape_dynamic, at_compute, LD_OPF_ALLOCS},
    {"", "SequenceInsert", 11, shape_dynamic, insert_compute, LD_OPF_ALLOCS},
    {"", "SequenceErase", 11, shape_dynamic, erase_compute, LD_OPF_ALLOCS},
    {"", "SplitToSequence", 11, shape_dynamic, split_compute, LD_OPF_ALLOCS},
    {"", "ConcatFromSequence", 11, shape_dynamic, concat_compute, LD_OPF_ALLOCS},
    {"", "Optional", 15, tensor_passthrough_shape, optional_compute, LD_OPF_ALLOCS},
    {"", "OptionalHasElement", 15, out_bool_scalar, has_element_compute, 0},
    {"", "OptionalGetElement", 15, tensor_passthrough_shape, get_element_compute, LD_OPF_ALLOCS},
    {0},
};
