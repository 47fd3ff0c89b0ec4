/*
** ops_pool.h — private interface of the 'pool' kernel family, shared by ops_pool.c (pooling,
** Dropout and the op table), ops_pool_resize.c (Resize, Upsample) and ops_pool_sample.c
** (GridSample, AffineGrid, RoiAlign, MaxRoiPool).
*/
#ifndef LD_OPS_POOL_H
#define LD_OPS_POOL_H

#include "ld_op.h"

/* ---- float32 views for kernels that take mixed float dtypes themselves ---- */

/* Point *p at t's values as float32, converting into tmp when t is not float32 (tmp is
 * cleared by the caller with ld_tensor_clear). */
ld_status ld_pool_f32_in(const ld_tensor *t, ld_tensor *tmp, const float **p);
/* Float32 buffer to write out's values into: out's own data when it is float32, else tmp. */
ld_status ld_pool_f32_begin(ld_tensor *out, ld_tensor *tmp, float **p);
/* Finish ld_pool_f32_begin: convert tmp into out's dtype if it was used; clears tmp. */
ld_status ld_pool_f32_end(ld_tensor *out, ld_tensor *tmp);

/* ---- ops_pool_resize.c ---- */

ld_status ld_pool_resize_shape(ld_kctx *k);
ld_status ld_pool_resize_compute(ld_kctx *k);

/* ---- ops_pool_sample.c ---- */

ld_status ld_pool_gridsample_shape(ld_kctx *k);
ld_status ld_pool_gridsample_compute(ld_kctx *k);
ld_status ld_pool_affinegrid_shape(ld_kctx *k);
ld_status ld_pool_affinegrid_compute(ld_kctx *k);
ld_status ld_pool_roialign_shape(ld_kctx *k);
ld_status ld_pool_roialign_compute(ld_kctx *k);
ld_status ld_pool_maxroipool_shape(ld_kctx *k);
ld_status ld_pool_maxroipool_compute(ld_kctx *k);

#endif
