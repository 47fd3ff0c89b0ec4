/*
** ops_seq.h — private helpers of the sequence/optional family (ops_seq.c), shared with the
** control-flow kernels (ops_control*.c), which build sequences and stack per-iteration tensors.
*/
#ifndef LD_OPS_SEQ_H
#define LD_OPS_SEQ_H

#include "ld_op.h"

/* Make t an empty sequence of element dtype elem (t is cleared first). */
void ld_seq_init(ld_tensor *t, ld_dtype elem);
/* Append a deep copy of src to the sequence s. */
ld_status ld_seq_push_copy(ld_tensor *s, const ld_tensor *src);
/* Append src to the sequence s by moving its contents; src is left zeroed. */
ld_status ld_seq_push_move(ld_tensor *s, ld_tensor *src);
/* Error unless t is a sequence; what names the input in the message. */
ld_status ld_seq_check(const ld_tensor *t, const char *what);
/* Copy count elements from src[soff..] to dst[doff..] (same dtype; strings are duplicated). */
ld_status ld_seq_copy_elems(ld_tensor *dst, int64_t doff, const ld_tensor *src, int64_t soff,
                            int64_t count);
/* out = x[..., start:start+len, ...] along axis (a new tensor); squeeze drops that axis
 * (len must then be 1). */
ld_status ld_seq_slice_axis(const ld_tensor *x, int axis, int64_t start, int64_t len, bool squeeze,
                            ld_tensor *out);

#endif
