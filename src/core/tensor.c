/*
** tensor.c — tensor allocation, dtype table, element access and dtype conversion.
**
** Sub-byte dtypes (int4, uint4, float4e2m1, int2, uint2) are held unpacked, one byte per
** element; the loader and writers pack and unpack them at the file boundary.
*/
#include "ld_tensor.h"
#include "ld_numeric.h"
#include "ld_limits.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const struct { const char *name; size_t size; } dtype_tab[LD_DTYPE_COUNT] = {
    [LD_UNDEFINED] = {"undefined", 0}, [LD_F32] = {"float32", 4}, [LD_U8] = {"uint8", 1},
    [LD_I8] = {"int8", 1}, [LD_U16] = {"uint16", 2}, [LD_I16] = {"int16", 2},
    [LD_I32] = {"int32", 4}, [LD_I64] = {"int64", 8}, [LD_STRING] = {"string", sizeof(char *)},
    [LD_BOOL] = {"bool", 1}, [LD_F16] = {"float16", 2}, [LD_F64] = {"float64", 8},
    [LD_U32] = {"uint32", 4}, [LD_U64] = {"uint64", 8}, [LD_C64] = {"complex64", 8},
    [LD_C128] = {"complex128", 16}, [LD_BF16] = {"bfloat16", 2},
    [LD_F8E4M3FN] = {"float8e4m3fn", 1}, [LD_F8E4M3FNUZ] = {"float8e4m3fnuz", 1},
    [LD_F8E5M2] = {"float8e5m2", 1}, [LD_F8E5M2FNUZ] = {"float8e5m2fnuz", 1},
    [LD_U4] = {"uint4", 1}, [LD_I4] = {"int4", 1}, [LD_F4E2M1] = {"float4e2m1", 1},
    [LD_F8E8M0] = {"float8e8m0", 1}, [LD_U2] = {"uint2", 1}, [LD_I2] = {"int2", 1},
};
static_assert(LD_ARRAY_LEN(dtype_tab) == LD_DTYPE_COUNT, "dtype table covers every dtype");

size_t ld_dtype_size(ld_dtype t) { return (unsigned)t < LD_DTYPE_COUNT ? dtype_tab[t].size : 0; }

const char *ld_dtype_name(ld_dtype t) {
    return (unsigned)t < LD_DTYPE_COUNT && dtype_tab[t].name ? dtype_tab[t].name : "unknown";
}

ld_dtype ld_dtype_from_name(const char *s) {
    for (int i = 1; i < LD_DTYPE_COUNT; i++)
        if (dtype_tab[i].name && strcmp(s, dtype_tab[i].name) == 0) return (ld_dtype)i;
    if (!strcmp(s, "float")) return LD_F32;
    if (!strcmp(s, "half")) return LD_F16;
    if (!strcmp(s, "double")) return LD_F64;
    return LD_UNDEFINED;
}

bool ld_dtype_is_float(ld_dtype t) {
    switch (t) {
    case LD_F32: case LD_F16: case LD_BF16: case LD_F64: case LD_F8E4M3FN: case LD_F8E4M3FNUZ:
    case LD_F8E5M2: case LD_F8E5M2FNUZ: case LD_F4E2M1: case LD_F8E8M0: return true;
    default: return false;
    }
}

bool ld_dtype_is_int(ld_dtype t) {
    switch (t) {
    case LD_U8: case LD_I8: case LD_U16: case LD_I16: case LD_I32: case LD_I64: case LD_U32:
    case LD_U64: case LD_U4: case LD_I4: case LD_U2: case LD_I2: return true;
    default: return false;
    }
}

bool ld_dtype_is_signed(ld_dtype t) {
    return t == LD_I8 || t == LD_I16 || t == LD_I32 || t == LD_I64 || t == LD_I4 || t == LD_I2 ||
           ld_dtype_is_float(t);
}

int64_t ld_dims_numel(int ndim, const int64_t *dims) {
    int64_t n = 1;
    for (int i = 0; i < ndim; i++) n *= dims[i];
    return n;
}

ld_status ld_tensor_set_shape(ld_tensor *t, ld_dtype dtype, int ndim, const int64_t *dims) {
    if (ndim < 0 || ndim > LD_MAX_DIMS)
        return ld_error(LD_ERR_UNSUPPORTED, "rank %d exceeds the supported maximum of %d", ndim,
                        LD_MAX_DIMS);
    int64_t n = 1;
    for (int i = 0; i < ndim; i++) {
        if (dims[i] < 0) return ld_error(LD_ERR_DATA, "negative dimension %lld", (long long)dims[i]);
        if (dims[i] && n > INT64_MAX / 4 / dims[i])
            return ld_error(LD_ERR_DATA, "tensor of %d dims is too large", ndim);
        n *= dims[i];
        t->dims[i] = dims[i];
    }
    t->kind = LD_KIND_TENSOR;
    t->dtype = dtype;
    t->ndim = ndim;
    t->numel = n;
    return LD_OK;
}

static void free_strings(ld_tensor *t) {
    if (t->dtype == LD_STRING && t->data && t->owns) {
        char **s = t->data;
        for (int64_t i = 0; i < t->numel; i++) free(s[i]);
    }
}

/* Free an owned buffer and return its bytes to the live count of ld_limits. */
static void release_data(ld_tensor *t) {
    if (!t->owns) return;
    free_strings(t);
    free(t->data);
    ld_limit_release(t->nbytes);
    t->owns = false;
}

/* Allocate t's data for its dtype and shape (zeroed or not), within the memory limits. */
static ld_status data_alloc(ld_tensor *t, bool zero) {
    release_data(t);
    t->data = NULL;
    t->owns = false;
    size_t es = ld_dtype_size(t->dtype);
    if (!es) return ld_error(LD_ERR_UNSUPPORTED, "unsupported dtype %s", ld_dtype_name(t->dtype));
    if ((uint64_t)t->numel > (uint64_t)(SIZE_MAX / 2) / es)
        return ld_error(LD_ERR_NOMEM, "tensor of %lld elements is too large", (long long)t->numel);
    t->nbytes = (size_t)t->numel * es;
    LD_TRY(ld_limit_acquire(t->nbytes));
    t->data = zero ? calloc(t->nbytes ? t->nbytes : 1, 1) : malloc(t->nbytes ? t->nbytes : 1);
    if (!t->data) {
        ld_limit_release(t->nbytes);
        return ld_error(LD_ERR_NOMEM, "out of memory allocating %zu bytes", t->nbytes);
    }
    t->owns = true;
    return LD_OK;
}

ld_status ld_tensor_alloc_data(ld_tensor *t) { return data_alloc(t, true); }

ld_status ld_tensor_alloc_data_uninit(ld_tensor *t) {
    return data_alloc(t, t->dtype == LD_STRING);   /* string pointers must start NULL */
}

ld_status ld_tensor_alloc(ld_tensor *t, ld_dtype dtype, int ndim, const int64_t *dims) {
    LD_TRY(ld_tensor_set_shape(t, dtype, ndim, dims));
    return ld_tensor_alloc_data(t);
}

ld_status ld_tensor_create(ld_tensor **out, ld_dtype dtype, int ndim, const int64_t *dims) {
    *out = calloc(1, sizeof **out);
    if (!*out) return ld_oom();
    ld_status st = ld_tensor_alloc(*out, dtype, ndim, dims);
    if (st != LD_OK) { free(*out); *out = NULL; }
    return st;
}

ld_tensor *ld_tensor_new(ld_dtype dtype, int ndim, const int64_t *dims) {
    ld_tensor *t = calloc(1, sizeof *t);
    if (!t) return NULL;
    if (ld_tensor_alloc(t, dtype, ndim, dims) != LD_OK) { free(t); return NULL; }
    return t;
}

void ld_tensor_clear(ld_tensor *t) {
    if (!t) return;
    release_data(t);
    for (int i = 0; i < t->seq_len; i++) ld_tensor_free(t->seq[i]);
    free(t->seq);
    memset(t, 0, sizeof *t);
}

void ld_tensor_free(ld_tensor *t) {
    if (!t) return;
    ld_tensor_clear(t);
    free(t);
}

ld_status ld_tensor_copy(ld_tensor *dst, const ld_tensor *src) {
    if (dst == src) return LD_OK;
    ld_tensor_clear(dst);
    dst->kind = src->kind;
    dst->seq_dtype = src->seq_dtype;
    if (src->kind == LD_KIND_SEQUENCE) {
        dst->seq = calloc(src->seq_len ? src->seq_len : 1, sizeof *dst->seq);
        if (!dst->seq) return ld_oom();
        for (int i = 0; i < src->seq_len; i++) {
            dst->seq[i] = calloc(1, sizeof(ld_tensor));
            if (!dst->seq[i]) return ld_oom();
            dst->seq_len = i + 1;
            LD_TRY(ld_tensor_copy(dst->seq[i], src->seq[i]));
        }
        return LD_OK;
    }
    if (src->kind == LD_KIND_NONE) return LD_OK;
    LD_TRY(ld_tensor_set_shape(dst, src->dtype, src->ndim, src->dims));
    LD_TRY(ld_tensor_alloc_data_uninit(dst));   /* every byte is copied below (strings start NULL) */
    if (src->dtype == LD_STRING) {
        char **d = dst->data, *const *s = src->data;
        for (int64_t i = 0; i < src->numel; i++) {
            d[i] = strdup(s[i] ? s[i] : "");
            if (!d[i]) return ld_oom();
        }
    } else if (dst->nbytes) {
        memcpy(dst->data, src->data, dst->nbytes);
    }
    return LD_OK;
}

double ld_tensor_get_f64(const ld_tensor *t, int64_t i) {
    const void *d = t->data;
    switch (t->dtype) {
    case LD_F32: return ((const float *)d)[i];
    case LD_F64: return ((const double *)d)[i];
    case LD_F16: return ld_f16_to_f32(((const uint16_t *)d)[i]);
    case LD_BF16: return ld_bf16_to_f32(((const uint16_t *)d)[i]);
    case LD_I8: case LD_I4: case LD_I2: return ((const int8_t *)d)[i];
    case LD_U8: case LD_U4: case LD_U2: case LD_BOOL: return ((const uint8_t *)d)[i];
    case LD_I16: return ((const int16_t *)d)[i];
    case LD_U16: return ((const uint16_t *)d)[i];
    case LD_I32: return ((const int32_t *)d)[i];
    case LD_U32: return ((const uint32_t *)d)[i];
    case LD_I64: return (double)((const int64_t *)d)[i];
    case LD_U64: return (double)((const uint64_t *)d)[i];
    case LD_F8E4M3FN: return ld_f8e4m3fn_to_f32(((const uint8_t *)d)[i]);
    case LD_F8E4M3FNUZ: return ld_f8e4m3fnuz_to_f32(((const uint8_t *)d)[i]);
    case LD_F8E5M2: return ld_f8e5m2_to_f32(((const uint8_t *)d)[i]);
    case LD_F8E5M2FNUZ: return ld_f8e5m2fnuz_to_f32(((const uint8_t *)d)[i]);
    case LD_F4E2M1: return ld_f4e2m1_to_f32(((const uint8_t *)d)[i]);
    case LD_F8E8M0: return ld_f8e8m0_to_f32(((const uint8_t *)d)[i]);
    case LD_STRING: return strtod(((char *const *)d)[i], NULL);
    default: return NAN;
    }
}

int64_t ld_tensor_get_i64(const ld_tensor *t, int64_t i) {
    const void *d = t->data;
    switch (t->dtype) {
    case LD_I8: case LD_I4: case LD_I2: return ((const int8_t *)d)[i];
    case LD_U8: case LD_U4: case LD_U2: case LD_BOOL: return ((const uint8_t *)d)[i];
    case LD_I16: return ((const int16_t *)d)[i];
    case LD_U16: return ((const uint16_t *)d)[i];
    case LD_I32: return ((const int32_t *)d)[i];
    case LD_U32: return ((const uint32_t *)d)[i];
    case LD_I64: return ((const int64_t *)d)[i];
    case LD_U64: return (int64_t)((const uint64_t *)d)[i];
    case LD_STRING: return strtoll(((char *const *)d)[i], NULL, 10);
    default: {
        double v = ld_tensor_get_f64(t, i);
        if (isnan(v)) return INT64_MIN;
        if (v >= 9.2233720368547758e18) return INT64_MAX;
        if (v <= -9.2233720368547758e18) return INT64_MIN;
        return (int64_t)v;
    }
    }
}


/* Store v (already an integer value) into an integer/bool dtype. Wraps like C for
 * in-range-of-int64 values except the 4/2-bit types, which follow ONNX (wrap for int4). */
static void set_int(ld_tensor *t, int64_t i, int64_t v) {
    void *d = t->data;
    switch (t->dtype) {
    case LD_I8: ((int8_t *)d)[i] = (int8_t)v; break;
    case LD_U8: ((uint8_t *)d)[i] = (uint8_t)v; break;
    case LD_I16: ((int16_t *)d)[i] = (int16_t)v; break;
    case LD_U16: ((uint16_t *)d)[i] = (uint16_t)v; break;
    case LD_I32: ((int32_t *)d)[i] = (int32_t)v; break;
    case LD_U32: ((uint32_t *)d)[i] = (uint32_t)v; break;
    case LD_I64: ((int64_t *)d)[i] = v; break;
    case LD_U64: ((uint64_t *)d)[i] = (uint64_t)v; break;
    case LD_BOOL: ((uint8_t *)d)[i] = v != 0; break;
    case LD_I4: { int8_t x = (int8_t)((uint8_t)((uint64_t)v << 4)) >> 4; ((int8_t *)d)[i] = x; break; }
    case LD_U4: ((uint8_t *)d)[i] = (uint8_t)(v & 0xf); break;
    case LD_I2: { int8_t x = (int8_t)((uint8_t)((uint64_t)v << 6)) >> 6; ((int8_t *)d)[i] = x; break; }
    case LD_U2: ((uint8_t *)d)[i] = (uint8_t)(v & 0x3); break;
    default: break;
    }
}

void ld_tensor_set_f64(ld_tensor *t, int64_t i, double v) {
    void *d = t->data;
    switch (t->dtype) {
    case LD_F32: ((float *)d)[i] = (float)v; return;
    case LD_F64: ((double *)d)[i] = v; return;
    case LD_F16: ((uint16_t *)d)[i] = ld_f32_to_f16((float)v); return;
    case LD_BF16: ((uint16_t *)d)[i] = ld_f32_to_bf16((float)v); return;
    case LD_F8E4M3FN: ((uint8_t *)d)[i] = ld_f32_to_f8e4m3fn((float)v, true); return;
    case LD_F8E4M3FNUZ: ((uint8_t *)d)[i] = ld_f32_to_f8e4m3fnuz((float)v, true); return;
    case LD_F8E5M2: ((uint8_t *)d)[i] = ld_f32_to_f8e5m2((float)v, true); return;
    case LD_F8E5M2FNUZ: ((uint8_t *)d)[i] = ld_f32_to_f8e5m2fnuz((float)v, true); return;
    case LD_F4E2M1: ((uint8_t *)d)[i] = ld_f32_to_f4e2m1((float)v); return;
    case LD_F8E8M0: ((uint8_t *)d)[i] = ld_f32_to_f8e8m0((float)v, true, 0); return;
    case LD_BOOL: ((uint8_t *)d)[i] = v != 0.0; return;
    default: break;
    }
    if (isnan(v)) { set_int(t, i, 0); return; }
    if (t->dtype == LD_U64) {
        ((uint64_t *)d)[i] = v <= 0 ? 0 : v >= 1.8446744073709552e19 ? UINT64_MAX : (uint64_t)v;
        return;
    }
    set_int(t, i, (int64_t)fmax(fmin(v, 9.2233720368547748e18), -9.2233720368547758e18));
}

/* Shortest decimal that reads back as the same float32 (numpy's str() of a float32). */
static char *float_to_string(double v, bool is_f32) {
    char buf[64];
    if (isnan(v)) return strdup("NaN");
    if (isinf(v)) return strdup(v > 0 ? "INF" : "-INF");
    for (int p = 1; p <= 17; p++) {
        snprintf(buf, sizeof buf, "%.*g", p, v);
        if (is_f32 ? (float)strtod(buf, NULL) == (float)v : strtod(buf, NULL) == v) break;
    }
    return strdup(buf);
}

ld_status ld_tensor_convert(ld_tensor *dst, const ld_tensor *src, ld_dtype to) {
    ld_tensor tmp = {0};
    LD_TRY(ld_tensor_alloc(&tmp, to, src->ndim, src->dims));
    int64_t n = src->numel;
    ld_dtype from = src->dtype;
    if (from == to && to != LD_STRING) {
        memcpy(tmp.data, src->data, tmp.nbytes);
    } else if (to == LD_STRING) {
        char **o = tmp.data;
        for (int64_t i = 0; i < n; i++) {
            char buf[32];
            if (from == LD_STRING) o[i] = strdup(((char *const *)src->data)[i]);
            else if (ld_dtype_is_float(from)) o[i] = float_to_string(ld_tensor_get_f64(src, i), from != LD_F64);
            else if (from == LD_U64) { snprintf(buf, sizeof buf, "%llu", (unsigned long long)((const uint64_t *)src->data)[i]); o[i] = strdup(buf); }
            else if (from == LD_BOOL) o[i] = strdup(((const uint8_t *)src->data)[i] ? "True" : "False");
            else { snprintf(buf, sizeof buf, "%lld", (long long)ld_tensor_get_i64(src, i)); o[i] = strdup(buf); }
            if (!o[i]) { ld_tensor_clear(&tmp); return ld_oom(); }
        }
    } else if (from == LD_F32 && to == LD_F16) {
        ld_f32_to_f16_n(src->data, tmp.data, n);
    } else if (from == LD_F16 && to == LD_F32) {
        ld_f16_to_f32_n(src->data, tmp.data, n);
    } else if ((ld_dtype_is_int(from) || from == LD_BOOL) && (ld_dtype_is_int(to) || to == LD_BOOL)) {
        for (int64_t i = 0; i < n; i++) set_int(&tmp, i, ld_tensor_get_i64(src, i));
    } else if (from == LD_STRING && !ld_dtype_is_float(to)) {
        for (int64_t i = 0; i < n; i++) {
            const char *s = ((char *const *)src->data)[i];
            if (to == LD_BOOL) set_int(&tmp, i, strtod(s, NULL) != 0);
            else set_int(&tmp, i, strtoll(s, NULL, 10));
        }
    } else {
        for (int64_t i = 0; i < n; i++) ld_tensor_set_f64(&tmp, i, ld_tensor_get_f64(src, i));
    }
    ld_tensor_clear(dst);
    *dst = tmp;
    return LD_OK;
}

const char *ld_dims_str(int ndim, const int64_t *dims, char *buf, size_t n) {
    size_t o = 0;
    o += snprintf(buf + o, n - o, "(");
    for (int i = 0; i < ndim && o < n; i++)
        o += snprintf(buf + o, n - o, i ? ",%lld" : "%lld", (long long)dims[i]);
    if (o < n) snprintf(buf + o, n - o, ")");
    return buf;
}

const char *ld_shape_str(const ld_tensor *t, char *buf, size_t n) {
    if (t->kind == LD_KIND_SEQUENCE) { snprintf(buf, n, "seq[%d]", t->seq_len); return buf; }
    if (t->kind == LD_KIND_NONE) { snprintf(buf, n, "none"); return buf; }
    return ld_dims_str(t->ndim, t->dims, buf, n);
}

bool ld_shape_equal(const ld_tensor *a, const ld_tensor *b) {
    if (a->ndim != b->ndim) return false;
    for (int i = 0; i < a->ndim; i++) if (a->dims[i] != b->dims[i]) return false;
    return true;
}
