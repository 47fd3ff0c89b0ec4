/*
** ops_core.c — Constant, Identity, Cast, CastLike, Shape, Size: the ops every graph leans on.
** Also the reference example of the kernel protocol (see ld_op.h).
*/
#include "ld_op.h"
#include "ld_numeric.h"

#include <stdlib.h>
#include <string.h>

/* ---- Constant ---- */

static ld_status constant_value(ld_kctx *k, ld_tensor *out) {
    const ld_node *n = k->node;
    const ld_attr *a;
    if ((a = ld_node_attr(n, "value"))) return ld_tensor_copy(out, a->t);
    int64_t one = 1;
    if ((a = ld_node_attr(n, "value_float"))) {
        LD_TRY(ld_tensor_alloc(out, LD_F32, 0, NULL));
        LD_F32P(out)[0] = a->f;
    } else if ((a = ld_node_attr(n, "value_int"))) {
        LD_TRY(ld_tensor_alloc(out, LD_I64, 0, NULL));
        LD_I64P(out)[0] = a->i;
    } else if ((a = ld_node_attr(n, "value_floats"))) {
        one = a->n;
        LD_TRY(ld_tensor_alloc(out, LD_F32, 1, &one));
        if (a->n) memcpy(out->data, a->floats, sizeof(float) * a->n);
    } else if ((a = ld_node_attr(n, "value_ints"))) {
        one = a->n;
        LD_TRY(ld_tensor_alloc(out, LD_I64, 1, &one));
        if (a->n) memcpy(out->data, a->ints, sizeof(int64_t) * a->n);
    } else if ((a = ld_node_attr(n, "value_string"))) {
        LD_TRY(ld_tensor_alloc(out, LD_STRING, 0, NULL));
        ((char **)out->data)[0] = ld_strdup(a->s);
    } else if ((a = ld_node_attr(n, "value_strings"))) {
        one = a->n;
        LD_TRY(ld_tensor_alloc(out, LD_STRING, 1, &one));
        for (int i = 0; i < a->n; i++) ((char **)out->data)[i] = ld_strdup(a->strings[i]);
    } else if (ld_node_attr(n, "sparse_value")) {
        return ld_error(LD_ERR_UNSUPPORTED, "sparse_value is not supported");
    } else {
        return ld_error(LD_ERR_DATA, "Constant has no value attribute");
    }
    return LD_OK;
}

static ld_status constant_compute(ld_kctx *k) {
    ld_tensor_clear(k->out[0]);
    return constant_value(k, k->out[0]);
}

static ld_status constant_shape(ld_kctx *k) {
    if (!k->out[0]) return LD_OK;
    return constant_compute(k);    /* small and known: the value is its own shape */
}

/* ---- Identity ---- */

static ld_status identity_compute(ld_kctx *k) {
    return ld_tensor_copy(k->out[0], k->in[0]);
}

/* ---- Cast / CastLike ---- */

static ld_dtype cast_target(ld_kctx *k) {
    if (!strcmp(k->node->op_type, "CastLike")) return k->in[1]->dtype;
    return (ld_dtype)ld_attr_int(k->node, "to", 0);
}

static ld_status cast_shape(ld_kctx *k) {
    ld_dtype to = cast_target(k);
    if ((unsigned)to >= LD_DTYPE_COUNT || to == LD_UNDEFINED || to == LD_C64 || to == LD_C128)
        return ld_error(LD_ERR_UNSUPPORTED, "cannot cast to dtype %d", (int)to);
    return ld_tensor_set_shape(k->out[0], to, k->in[0]->ndim, k->in[0]->dims);
}

static ld_status cast_compute(ld_kctx *k) {
    ld_dtype to = cast_target(k);
    bool saturate = ld_attr_int(k->node, "saturate", 1) != 0;
    const ld_tensor *x = k->in[0];
    ld_tensor *y = k->out[0];
    if (!saturate && ld_dtype_is_float(to) && ld_dtype_size(to) == 1 && to != LD_F4E2M1 && to != LD_F8E8M0) {
        /* non-saturating float8: overflow becomes NaN / Inf */
        ld_tensor tmp = {0};
        LD_TRY(ld_tensor_convert(&tmp, x, LD_F32));
        const float *s = tmp.data;
        uint8_t *d = y->data;
        for (int64_t i = 0; i < x->numel; i++) {
            switch (to) {
            case LD_F8E4M3FN: d[i] = ld_f32_to_f8e4m3fn(s[i], false); break;
            case LD_F8E4M3FNUZ: d[i] = ld_f32_to_f8e4m3fnuz(s[i], false); break;
            case LD_F8E5M2: d[i] = ld_f32_to_f8e5m2(s[i], false); break;
            default: d[i] = ld_f32_to_f8e5m2fnuz(s[i], false); break;
            }
        }
        ld_tensor_clear(&tmp);
        return LD_OK;
    }
    if (to == LD_F8E8M0) {
        int rm = !strcmp(ld_attr_str(k->node, "round_mode", "up"), "up") ? 0 :
                 !strcmp(ld_attr_str(k->node, "round_mode", "up"), "down") ? 1 : 2;
        for (int64_t i = 0; i < x->numel; i++)
            ((uint8_t *)y->data)[i] = ld_f32_to_f8e8m0((float)ld_tensor_get_f64(x, i), saturate, rm);
        return LD_OK;
    }
    ld_tensor tmp = {0};
    LD_TRY(ld_tensor_convert(&tmp, x, to));
    ld_tensor_clear(y);
    *y = tmp;
    return LD_OK;
}

/* ---- Shape / Size ---- */

static ld_status shape_range(ld_kctx *k, int *start, int *end) {
    int r = k->in[0]->ndim;
    int64_t s = ld_attr_int(k->node, "start", 0), e = ld_attr_int(k->node, "end", r);
    if (s < 0) s += r;
    if (e < 0) e += r;
    s = s < 0 ? 0 : s > r ? r : s;
    e = e < 0 ? 0 : e > r ? r : e;
    *start = (int)s;
    *end = (int)(e < s ? s : e);
    return LD_OK;
}

static ld_status shape_shape(ld_kctx *k) {
    int s, e;
    shape_range(k, &s, &e);
    int64_t n = e - s;
    return ld_tensor_set_shape(k->out[0], LD_I64, 1, &n);
}

static ld_status shape_compute(ld_kctx *k) {
    int s, e;
    shape_range(k, &s, &e);
    for (int i = s; i < e; i++) LD_I64P(k->out[0])[i - s] = k->in[0]->dims[i];
    return LD_OK;
}

static ld_status size_shape(ld_kctx *k) { return ld_tensor_set_shape(k->out[0], LD_I64, 0, NULL); }

static ld_status size_compute(ld_kctx *k) {
    LD_I64P(k->out[0])[0] = k->in[0]->numel;
    return LD_OK;
}

static ld_status same_shape(ld_kctx *k) {
    const ld_tensor *x = k->in[0];
    if (x->kind != LD_KIND_TENSOR) return LD_DYNAMIC;
    return ld_tensor_set_shape(k->out[0], x->dtype, x->ndim, x->dims);
}

static ld_status identity_any(ld_kctx *k) {
    if (k->in[0]->kind != LD_KIND_TENSOR) return ld_tensor_copy(k->out[0], k->in[0]);
    LD_TRY(same_shape(k));
    return identity_compute(k);
}

const ld_op_def ld_ops_core[] = {
    {"", "Constant", 1, constant_shape, constant_compute, LD_OPF_ALLOCS},
    {"", "Identity", 1, same_shape, identity_any, LD_OPF_ALLOCS},
    {"", "Cast", 1, cast_shape, cast_compute, 0},
    {"", "CastLike", 15, cast_shape, cast_compute, 0},
    {"", "Shape", 1, shape_shape, shape_compute, LD_OPF_SHAPE_ONLY},
    {"", "Size", 1, size_shape, size_compute, LD_OPF_SHAPE_ONLY},
    {0},
};
