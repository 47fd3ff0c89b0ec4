/*
** ops_elem_logic.c — broadcasting comparisons (Equal Less Greater LessOrEqual GreaterOrEqual,
** bool output; Equal also on bool and strings), logic (And Or Xor on bool), bitwise
** (BitwiseAnd/Or/Xor on integers, BitShift on unsigned integers) and Where (any dtype,
** strings included). The kernels are listed in ld_ops_binary (ops_binary.c).
*/
#include "ops_elem.h"

#include <stdlib.h>
#include <string.h>

/* ---- comparisons: numeric and bool inputs, bool output ---- */

#define EQ_E(C, x, y, p) ((x) == (y))
#define LT_E(C, x, y, p) ((x) < (y))
#define GT_E(C, x, y, p) ((x) > (y))
#define LE_E(C, x, y, p) ((x) <= (y))
#define GE_E(C, x, y, p) ((x) >= (y))

#define CMP_ROW(sfx, T, C, LD, ST, DT, name, E) \
    LD_ELEM_BIN_ROW(name, sfx, T, uint8_t, C, LD, LD_ELEM_ID, E)
#define CMP_GEN(name, E) \
    LD_ELEM_NUMERIC(CMP_ROW, name, E) \
    static const ld_elem_row_fn name##_tab[LD_DTYPE_COUNT] = { \
        LD_ELEM_NUMERIC(LD_ELEM_TAB, name) [LD_BOOL] = name##_u8};

CMP_GEN(cmp_eq, EQ_E)
CMP_GEN(cmp_lt, LT_E)
CMP_GEN(cmp_gt, GT_E)
CMP_GEN(cmp_le, LE_E)
CMP_GEN(cmp_ge, GE_E)

static void cmp_eq_str(void *o_, const void *const *in, const int *inc, int64_t n,
                       const ld_elem_par *p) {
    uint8_t *o = o_;
    char *const *a = in[0], *const *b = in[1];
    for (int64_t i = 0; i < n; i++) {
        const char *x = a[i * inc[0]], *y = b[i * inc[1]];
        o[i] = strcmp(x ? x : "", y ? y : "") == 0;
    }
}

/* Broadcast shape of inputs 0 and 1 (same dtype) with the given output dtype. */
static ld_status pair_shape(ld_kctx *k, ld_dtype out_dtype) {
    ld_tensor view;
    const ld_tensor *a = k->in[0], *b = ld_elem_legacy_b(k, &view);
    if (a->kind != LD_KIND_TENSOR || b->kind != LD_KIND_TENSOR)
        return ld_error(LD_ERR_DATA, "inputs must be tensors");
    if (a->dtype != b->dtype)
        return ld_error(LD_ERR_DATA, "input dtypes differ: %s and %s", ld_dtype_name(a->dtype),
                        ld_dtype_name(b->dtype));
    int nd;
    int64_t dims[LD_MAX_DIMS];
    LD_TRY(ld_broadcast_dims(a->ndim, a->dims, b->ndim, b->dims, &nd, dims));
    ld_dtype t = out_dtype == LD_UNDEFINED ? a->dtype : out_dtype;
    return ld_tensor_set_shape(k->out[0], t, nd, dims);
}

static ld_status pair_run(ld_kctx *k, ld_elem_row_fn fn, const ld_elem_par *p) {
    ld_tensor view;
    const ld_tensor *in[2] = {k->in[0], ld_elem_legacy_b(k, &view)};
    if (!fn)
        return ld_error(LD_ERR_UNSUPPORTED, "%s does not support dtype %s", k->node->op_type,
                        ld_dtype_name(k->in[0]->dtype));
    return ld_elem_bcast(k->out[0], in, 2, fn, p);
}

ld_status ld_elem_cmp_shape(ld_kctx *k) { return pair_shape(k, LD_BOOL); }

ld_status ld_elem_equal_compute(ld_kctx *k) {
    ld_dtype t = k->in[0]->dtype;
    return pair_run(k, t == LD_STRING ? cmp_eq_str : LD_ELEM_PICK(cmp_eq_tab, t), NULL);
}
/* A kernel running the row function of table tab for input 0's dtype. */
#define PAIR_KERNEL(fname, tab) \
    ld_status fname(ld_kctx *k) { return pair_run(k, LD_ELEM_PICK(tab, k->in[0]->dtype), NULL); }

PAIR_KERNEL(ld_elem_less_compute, cmp_lt_tab)
PAIR_KERNEL(ld_elem_greater_compute, cmp_gt_tab)
PAIR_KERNEL(ld_elem_less_equal_compute, cmp_le_tab)
PAIR_KERNEL(ld_elem_greater_equal_compute, cmp_ge_tab)

/* ---- logic on bool ---- */

#define AND_E(C, x, y, p) ((uint8_t)((x) && (y)))
#define OR_E(C, x, y, p) ((uint8_t)((x) || (y)))
#define XOR_E(C, x, y, p) ((uint8_t)(((x) != 0) != ((y) != 0)))

LD_ELEM_BIN_ROW(logic_and, b, uint8_t, uint8_t, uint8_t, LD_ELEM_ID, LD_ELEM_ID, AND_E)
LD_ELEM_BIN_ROW(logic_or, b, uint8_t, uint8_t, uint8_t, LD_ELEM_ID, LD_ELEM_ID, OR_E)
LD_ELEM_BIN_ROW(logic_xor, b, uint8_t, uint8_t, uint8_t, LD_ELEM_ID, LD_ELEM_ID, XOR_E)

ld_status ld_elem_logic_shape(ld_kctx *k) {
    LD_TRY(pair_shape(k, LD_BOOL));
    if (k->in[0]->dtype != LD_BOOL)
        return ld_error(LD_ERR_UNSUPPORTED, "%s needs bool inputs, got %s", k->node->op_type,
                        ld_dtype_name(k->in[0]->dtype));
    return LD_OK;
}

ld_status ld_elem_and_compute(ld_kctx *k) { return pair_run(k, logic_and_b, NULL); }
ld_status ld_elem_or_compute(ld_kctx *k) { return pair_run(k, logic_or_b, NULL); }
ld_status ld_elem_xor_compute(ld_kctx *k) { return pair_run(k, logic_xor_b, NULL); }

/* ---- bitwise on integers ---- */

#define BAND_E(C, x, y, p) ((C)((x) & (y)))
#define BOR_E(C, x, y, p) ((C)((x) | (y)))
#define BXOR_E(C, x, y, p) ((C)((x) ^ (y)))
/* Shifting by the type's width or more gives 0. */
#define SHL_E(C, x, y, p) ((y) >= 8 * sizeof(C) ? (C)0 : (C)((uint64_t)(x) << (y)))
#define SHR_E(C, x, y, p) ((y) >= 8 * sizeof(C) ? (C)0 : (C)((x) >> (y)))

#define BIT_ROW(sfx, T, C, LD, ST, DT, name, E) LD_ELEM_BIN_ROW(name, sfx, T, T, C, LD, ST, E)
#define BIT_GEN(name, E) \
    LD_ELEM_INTS(BIT_ROW, name, E) \
    static const ld_elem_row_fn name##_tab[LD_DTYPE_COUNT] = {LD_ELEM_INTS(LD_ELEM_TAB, name)};
#define SHIFT_GEN(name, E) \
    LD_ELEM_UINTS(BIT_ROW, name, E) \
    static const ld_elem_row_fn name##_tab[LD_DTYPE_COUNT] = {LD_ELEM_UINTS(LD_ELEM_TAB, name)};

BIT_GEN(bit_and, BAND_E)
BIT_GEN(bit_or, BOR_E)
BIT_GEN(bit_xor, BXOR_E)
SHIFT_GEN(bit_shl, SHL_E)
SHIFT_GEN(bit_shr, SHR_E)

ld_status ld_elem_bitwise_shape(ld_kctx *k) { return pair_shape(k, LD_UNDEFINED); }

PAIR_KERNEL(ld_elem_bitwise_and_compute, bit_and_tab)
PAIR_KERNEL(ld_elem_bitwise_or_compute, bit_or_tab)
PAIR_KERNEL(ld_elem_bitwise_xor_compute, bit_xor_tab)

ld_status ld_elem_bitshift_compute(ld_kctx *k) {
    const char *dir = ld_attr_str(k->node, "direction", "");
    ld_dtype t = k->in[0]->dtype;
    if (!strcmp(dir, "LEFT")) return pair_run(k, LD_ELEM_PICK(bit_shl_tab, t), NULL);
    if (!strcmp(dir, "RIGHT")) return pair_run(k, LD_ELEM_PICK(bit_shr_tab, t), NULL);
    return ld_error(LD_ERR_DATA, "BitShift direction must be LEFT or RIGHT, got '%s'", dir);
}

/* ---- Where(condition, X, Y): three-way broadcast, any element dtype ---- */

#define WHERE_ROW(bits) \
    static void where_##bits(void *o_, const void *const *in, const int *inc, int64_t n, \
                             const ld_elem_par *p) { \
        uint##bits##_t *o = o_; \
        const uint8_t *c = in[0]; \
        const uint##bits##_t *x = in[1], *y = in[2]; \
        if (inc[0] && inc[1] && inc[2]) { \
            LD_ELEM_SIMD for (int64_t i = 0; i < n; i++) {    /* branch-free select */ \
                uint##bits##_t m = (uint##bits##_t)0 - (uint##bits##_t)(c[i] != 0); \
                o[i] = (x[i] & m) | (y[i] & (uint##bits##_t)~m); \
            } \
        } else { \
            for (int64_t i = 0; i < n; i++) o[i] = c[i * inc[0]] ? x[i * inc[1]] : y[i * inc[2]]; \
        } \
    }

WHERE_ROW(8)
WHERE_ROW(16)
WHERE_ROW(32)
WHERE_ROW(64)

/* 16-byte elements (complex128). */
static void where_128(void *o_, const void *const *in, const int *inc, int64_t n,
                      const ld_elem_par *p) {
    char *o = o_;
    const uint8_t *c = in[0];
    const char *x = in[1], *y = in[2];
    for (int64_t i = 0; i < n; i++)
        memcpy(o + 16 * i, c[i * inc[0]] ? x + 16 * i * inc[1] : y + 16 * i * inc[2], 16);
}

static void where_str(void *o_, const void *const *in, const int *inc, int64_t n,
                      const ld_elem_par *p) {
    char **o = o_;
    const uint8_t *c = in[0];
    char *const *x = in[1], *const *y = in[2];
    for (int64_t i = 0; i < n; i++) {
        const char *s = c[i * inc[0]] ? x[i * inc[1]] : y[i * inc[2]];
        o[i] = strdup(s ? s : "");
    }
}

ld_status ld_elem_where_shape(ld_kctx *k) {
    if (k->nin != 3) return ld_error(LD_ERR_DATA, "Where takes 3 inputs, got %d", k->nin);
    for (int i = 0; i < 3; i++)
        if (!LD_HAS_IN(k, i) || k->in[i]->kind != LD_KIND_TENSOR)
            return ld_error(LD_ERR_DATA, "input %d must be a tensor", i);
    if (k->in[0]->dtype != LD_BOOL)
        return ld_error(LD_ERR_DATA, "condition must be bool, got %s", ld_dtype_name(k->in[0]->dtype));
    LD_TRY(ld_elem_same_dtype(k, 1));
    int nd;
    int64_t dims[LD_MAX_DIMS];
    LD_TRY(ld_elem_bcast_shape(k, 0, 3, &nd, dims));
    return ld_tensor_set_shape(k->out[0], k->in[1]->dtype, nd, dims);
}

ld_status ld_elem_where_compute(ld_kctx *k) {
    const ld_tensor *in[3] = {k->in[0], k->in[1], k->in[2]};
    ld_dtype t = k->in[1]->dtype;
    if (t == LD_STRING) {
        LD_TRY(ld_elem_bcast(k->out[0], in, 3, where_str, NULL));
        return ld_elem_check_strings(k->out[0]);
    }
    switch (ld_dtype_size(t)) {
    case 1: return ld_elem_bcast(k->out[0], in, 3, where_8, NULL);
    case 2: return ld_elem_bcast(k->out[0], in, 3, where_16, NULL);
    case 4: return ld_elem_bcast(k->out[0], in, 3, where_32, NULL);
    case 8: return ld_elem_bcast(k->out[0], in, 3, where_64, NULL);
    case 16: return ld_elem_bcast(k->out[0], in, 3, where_128, NULL);
    default: return ld_error(LD_ERR_UNSUPPORTED, "Where does not support dtype %s", ld_dtype_name(t));
    }
}
