/*
** ops_shape.h — private interface of the 'shape' kernel family (ops_shape*.c): the strided
** copy engine every data-movement op is built on, small shared helpers, and the kernels the
** op table in ops_shape.c lists from the other files of the family.
*/
#ifndef LD_OPS_SHAPE_H
#define LD_OPS_SHAPE_H

#include "ld_op.h"

/* Views may interleave two axes per tensor axis (Tile), so allow twice the tensor rank. */
#define LD_SHAPE_MAXV (2 * LD_MAX_DIMS)

/* ---- copy engine (ops_shape_copy.c) ---- */

/* Fill the contiguous dst (element type dt, shape dims[nd]) from src, where output index
 * (i0..i{nd-1}) reads element src[sum(ik * istr[k])] (strides in elements; may be 0 or
 * negative, src pointing at the element of index 0). Strings are strdup'ed. */
ld_status ld_shape_strided_copy(void *dst, const void *src, ld_dtype dt, int nd,
                                const int64_t *dims, const int64_t *istr);
/* Copy n elements (strdup for strings); src and dst must not overlap. */
ld_status ld_shape_copy_elems(void *dst, const void *src, ld_dtype dt, int64_t n);
/* Copy the whole of src into dst (same dtype and numel; reshape-like ops). */
ld_status ld_shape_copy_all(ld_tensor *dst, const ld_tensor *src);
/* Fill n elements with the one element at val (strdup for strings). */
ld_status ld_shape_fill(void *dst, const void *val, ld_dtype dt, int64_t n);
/* Set string elements still NULL in t to "" (outputs left partly unset). */
ld_status ld_shape_strings_fill_empty(ld_tensor *t);

/* ---- helpers (ops_shape.c) ---- */

/* In a shape function: return "dynamic" while present input i has no data (plan time). */
#define LD_SHAPE_NEED(k, i) \
    do { if (LD_HAS_IN(k, i) && !(k)->in[i]->data) return LD_DYNAMIC; } while (0)

/* At plan time input dims may be guesses for symbolic dims: a shape inconsistency then means
 * "dynamic" and the error is left to run time, where the real shapes are known. */
static inline ld_status ld_shape_soft(const ld_kctx *k, ld_status st) {
    return k->plan && st == LD_ERR_DATA ? LD_DYNAMIC : st;
}

/* Error unless input i is a tensor with an element size (not a sequence / packed type). */
ld_status ld_shape_check_data(ld_kctx *k, int i);
/* Read input i (an integer tensor, whose data must be present) as int64 values. */
ld_status ld_shape_read_ints(ld_kctx *k, int i, int64_t *out, int max, int *count);
/* Convert the one element of v to dtype dt into out (ld_dtype_size(dt) bytes; for strings a
 * borrowed char*). */
ld_status ld_shape_scalar_as(const ld_tensor *v, ld_dtype dt, void *out);

/* ---- kernels defined in the other files of the family ---- */

/* ops_shape_move.c */
ld_status ld_shape_transpose_shape(ld_kctx *k);
ld_status ld_shape_transpose_compute(ld_kctx *k);
ld_status ld_shape_concat_shape(ld_kctx *k);
ld_status ld_shape_concat_compute(ld_kctx *k);
ld_status ld_shape_split_shape(ld_kctx *k);
ld_status ld_shape_split_compute(ld_kctx *k);
ld_status ld_shape_d2s_shape(ld_kctx *k);
ld_status ld_shape_d2s_compute(ld_kctx *k);
ld_status ld_shape_s2d_shape(ld_kctx *k);
ld_status ld_shape_s2d_compute(ld_kctx *k);

/* ops_shape_pad.c */
ld_status ld_shape_slice_shape(ld_kctx *k);
ld_status ld_shape_slice_compute(ld_kctx *k);
ld_status ld_shape_pad_shape(ld_kctx *k);
ld_status ld_shape_pad_compute(ld_kctx *k);
ld_status ld_shape_ccp_shape(ld_kctx *k);
ld_status ld_shape_ccp_compute(ld_kctx *k);

/* ops_shape_gen.c */
ld_status ld_shape_cos_shape(ld_kctx *k);
ld_status ld_shape_cos_compute(ld_kctx *k);
ld_status ld_shape_range_shape(ld_kctx *k);
ld_status ld_shape_range_compute(ld_kctx *k);
ld_status ld_shape_eyelike_shape(ld_kctx *k);
ld_status ld_shape_eyelike_compute(ld_kctx *k);
ld_status ld_shape_trilu_shape(ld_kctx *k);
ld_status ld_shape_trilu_compute(ld_kctx *k);
ld_status ld_shape_col2im_shape(ld_kctx *k);
ld_status ld_shape_col2im_compute(ld_kctx *k);

#endif
