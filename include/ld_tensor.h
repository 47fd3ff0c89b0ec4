/*
** ld_tensor.h — the tensor value every layer passes around.
**
** A tensor owns (or borrows) one contiguous row-major buffer. The dtype numbers are the ONNX
** TensorProto.DataType numbers, so a model's dtype can be stored unchanged. A value may also
** be a sequence of tensors or an absent optional (kind field), which only the sequence and
** optional kernels look at.
**
** Layer: core (see tests/tools/check_layers.sh).
*/
#ifndef LD_TENSOR_H
#define LD_TENSOR_H

#include "ld_common.h"

typedef enum ld_dtype {
    LD_UNDEFINED = 0,
    LD_F32 = 1, LD_U8 = 2, LD_I8 = 3, LD_U16 = 4, LD_I16 = 5, LD_I32 = 6, LD_I64 = 7,
    LD_STRING = 8, LD_BOOL = 9, LD_F16 = 10, LD_F64 = 11, LD_U32 = 12, LD_U64 = 13,
    LD_C64 = 14, LD_C128 = 15, LD_BF16 = 16,
    LD_F8E4M3FN = 17, LD_F8E4M3FNUZ = 18, LD_F8E5M2 = 19, LD_F8E5M2FNUZ = 20,
    LD_U4 = 21, LD_I4 = 22, LD_F4E2M1 = 23, LD_F8E8M0 = 24, LD_U2 = 25, LD_I2 = 26,
    LD_DTYPE_COUNT
} ld_dtype;

/* Bitmask helpers for "which dtypes does this kernel accept". */
#define LD_DT(t) (1u << (t))
#define LD_DT_FLOATS (LD_DT(LD_F32) | LD_DT(LD_F16) | LD_DT(LD_BF16) | LD_DT(LD_F64))
#define LD_DT_SINTS (LD_DT(LD_I8) | LD_DT(LD_I16) | LD_DT(LD_I32) | LD_DT(LD_I64))
#define LD_DT_UINTS (LD_DT(LD_U8) | LD_DT(LD_U16) | LD_DT(LD_U32) | LD_DT(LD_U64))
#define LD_DT_INTS (LD_DT_SINTS | LD_DT_UINTS)
#define LD_DT_NUMERIC (LD_DT_FLOATS | LD_DT_INTS)

typedef enum ld_kind { LD_KIND_TENSOR = 0, LD_KIND_SEQUENCE = 1, LD_KIND_NONE = 2 } ld_kind;

#define LD_MAX_DIMS 12

typedef struct ld_tensor {
    ld_kind kind;
    ld_dtype dtype;
    int ndim;
    int64_t dims[LD_MAX_DIMS];   /* (d0, d1, ...) row-major */
    int64_t numel;               /* product of dims; 1 for a scalar */
    void *data;                  /* numel elements; for LD_STRING an array of char* (owned) */
    size_t nbytes;               /* bytes of data */
    bool owns;                   /* data was malloc'ed by this tensor (else borrowed: mmap, proto) */
    /* LD_KIND_SEQUENCE: elements (each owned by the sequence). */
    struct ld_tensor **seq;
    int seq_len;
    ld_dtype seq_dtype;          /* element dtype of an empty sequence */
} ld_tensor;

size_t ld_dtype_size(ld_dtype t);            /* bytes per element; 0 for packed sub-byte/unknown */
const char *ld_dtype_name(ld_dtype t);        /* "float32", "float16", "bfloat16", ... */
ld_dtype ld_dtype_from_name(const char *s);   /* inverse; LD_UNDEFINED if unknown */
bool ld_dtype_is_float(ld_dtype t);           /* f16/bf16/f32/f64/float8 */
bool ld_dtype_is_int(ld_dtype t);             /* signed or unsigned integer (not bool) */
bool ld_dtype_is_signed(ld_dtype t);

int64_t ld_dims_numel(int ndim, const int64_t *dims);

/* Fill metadata only (no allocation). */
ld_status ld_tensor_set_shape(ld_tensor *t, ld_dtype dtype, int ndim, const int64_t *dims);
/* Allocate (zeroed) storage for the current shape/dtype; frees previous owned data. */
ld_status ld_tensor_alloc_data(ld_tensor *t);
/* The same without zeroing (numeric dtypes only), for outputs a kernel fully overwrites. */
ld_status ld_tensor_alloc_data_uninit(ld_tensor *t);
/* set_shape + alloc_data. */
ld_status ld_tensor_alloc(ld_tensor *t, ld_dtype dtype, int ndim, const int64_t *dims);
/* Heap-allocate a new tensor with storage (NULL on any error: use ld_tensor_create to learn
 * which, e.g. a resource limit). */
ld_tensor *ld_tensor_new(ld_dtype dtype, int ndim, const int64_t *dims);
ld_status ld_tensor_create(ld_tensor **out, ld_dtype dtype, int ndim, const int64_t *dims);
/* Free data (if owned) and sequence elements; leaves *t zeroed. */
void ld_tensor_clear(ld_tensor *t);
void ld_tensor_free(ld_tensor *t);           /* clear + free(t) */
/* Deep copy into dst (dst cleared first). */
ld_status ld_tensor_copy(ld_tensor *dst, const ld_tensor *src);
/* Convert any numeric/bool dtype into a new dtype (saturating casts follow ONNX Cast). */
ld_status ld_tensor_convert(ld_tensor *dst, const ld_tensor *src, ld_dtype to);
/* Element i as double / as int64 (any numeric or bool dtype). */
double ld_tensor_get_f64(const ld_tensor *t, int64_t i);
int64_t ld_tensor_get_i64(const ld_tensor *t, int64_t i);
void ld_tensor_set_f64(ld_tensor *t, int64_t i, double v);
/* "(2,3,224,224)" into buf. */
const char *ld_shape_str(const ld_tensor *t, char *buf, size_t n);
const char *ld_dims_str(int ndim, const int64_t *dims, char *buf, size_t n);
bool ld_shape_equal(const ld_tensor *a, const ld_tensor *b);

/* Typed data access. */
#define LD_F32P(t) ((float *)(t)->data)
#define LD_I64P(t) ((int64_t *)(t)->data)

#endif
