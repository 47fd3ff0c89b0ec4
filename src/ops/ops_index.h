/*
** ops_index.h — private interface of the 'index' kernel family (ops_index*.c): the element
** movers every gather/scatter-like kernel is built on, index loading, and the kernels that
** ops_index.c lists in the ld_ops_index table.
**
** Elements are moved generically by element size, so every dtype works (LD_STRING elements
** are char* and are strdup'ed; a string overwritten in a destination is freed first).
*/
#ifndef LD_OPS_INDEX_H
#define LD_OPS_INDEX_H

#include "ld_op.h"

/* Scatter reductions (ScatterElements / ScatterND "reduction" attribute). */
typedef enum ld_index_red {
    LD_RED_NONE = 0, LD_RED_ADD, LD_RED_MUL, LD_RED_MAX, LD_RED_MIN
} ld_index_red;

/* Parse a reduction name; error for an unknown one. */
ld_status ld_index_red_parse(const char *s, ld_index_red *out);

/* Product of dims[from..to). */
int64_t ld_index_prod(const int64_t *dims, int from, int to);

/* malloc of n int64 (at least one, so n == 0 is not a failure); NULL on out of memory. */
int64_t *ld_index_alloc_i64(int64_t n);

/* Check that t is an integer tensor (indices). */
ld_status ld_index_check_int(const ld_tensor *t, const char *what);

/* Read integer tensor t into a new int64 array (*out, caller frees). With dim >= 0 each value
 * is normalised (negative += dim) and must fall in [0, dim), else a clear LD_ERR_DATA error
 * naming `what`. With dim < 0 the values are copied unchanged. */
ld_status ld_index_load(const ld_tensor *t, int64_t dim, const char *what, int64_t **out);

/* Normalise one index value against dim, with the same error as ld_index_load. */
ld_status ld_index_fix(int64_t v, int64_t dim, const char *what, int64_t *out);

/* GatherElements/ScatterElements: load indices (same rank as data, dims <= data's off the
 * axis), normalise them against data's axis dim and turn each into data's element offset. */
ld_status ld_index_elem_offsets(const ld_tensor *data, int axis, const ld_tensor *ind,
                                const char *what, int64_t **out);

/* dst (outer, nidx, inner) = src (outer, n, inner) at positions idx[0..nidx) of the middle
 * dim (normalised, in range): Gather, Compress, Unique. */
ld_status ld_index_take_axis(ld_tensor *dst, const ld_tensor *src, int64_t outer, int64_t n,
                             int64_t inner, const int64_t *idx, int64_t nidx);

/* dst block i (blk elements at i*blk) = src elements soff[i] .. soff[i]+blk-1, i < nblk. */
ld_status ld_index_take_blocks(ld_tensor *dst, const ld_tensor *src, const int64_t *soff,
                               int64_t nblk, int64_t blk);

/* dst elements doff[i] .. doff[i]+blk-1 (op)= src block i, in order (last write wins for
 * LD_RED_NONE). dst must already hold its initial values. */
ld_status ld_index_put_blocks(ld_tensor *dst, const int64_t *doff, const ld_tensor *src,
                              int64_t nblk, int64_t blk, ld_index_red red);

/* dst (allocated, same numel and dtype) = copy of src's elements. */
ld_status ld_index_copy_all(ld_tensor *dst, const ld_tensor *src);

/* Gather family (ops_index_gather.c). */
ld_status ld_index_gather_shape(ld_kctx *k);
ld_status ld_index_gather_compute(ld_kctx *k);
ld_status ld_index_gather_elements_shape(ld_kctx *k);
ld_status ld_index_gather_elements_compute(ld_kctx *k);
ld_status ld_index_gathernd_shape(ld_kctx *k);
ld_status ld_index_gathernd_compute(ld_kctx *k);
ld_status ld_index_compress_shape(ld_kctx *k);
ld_status ld_index_compress_compute(ld_kctx *k);
ld_status ld_index_nonzero_shape(ld_kctx *k);
ld_status ld_index_nonzero_compute(ld_kctx *k);
ld_status ld_index_onehot_shape(ld_kctx *k);
ld_status ld_index_onehot_compute(ld_kctx *k);
ld_status ld_index_revseq_shape(ld_kctx *k);
ld_status ld_index_revseq_compute(ld_kctx *k);

/* Scatter family (ops_index_scatter.c). */
ld_status ld_index_same_shape(ld_kctx *k);
ld_status ld_index_scatter_elements_compute(ld_kctx *k);
ld_status ld_index_scatternd_compute(ld_kctx *k);
ld_status ld_index_tensor_scatter_compute(ld_kctx *k);

/* Ordering (ops_index_sort.c). */
ld_status ld_index_topk_shape(ld_kctx *k);
ld_status ld_index_topk_compute(ld_kctx *k);
ld_status ld_index_arg_shape(ld_kctx *k);
ld_status ld_index_argmax_compute(ld_kctx *k);
ld_status ld_index_argmin_compute(ld_kctx *k);
ld_status ld_index_unique_shape(ld_kctx *k);
ld_status ld_index_unique_compute(ld_kctx *k);

/* Scans (ops_index_scan.c). */
ld_status ld_index_cumsum_compute(ld_kctx *k);
ld_status ld_index_cumprod_compute(ld_kctx *k);

#endif
