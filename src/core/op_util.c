/*
** op_util.c — small helpers shared by the kernels: broadcasting, axes, strides, dtype checks,
** and attribute access.
*/
#include "ld_op.h"

#include <string.h>

ld_status ld_broadcast_dims(int na, const int64_t *a, int nb, const int64_t *b, int *nout,
                            int64_t *out) {
    int n = LD_MAX(na, nb);
    int64_t tmp[LD_MAX_DIMS];
    for (int i = 0; i < n; i++) {
        int ia = i - (n - na), ib = i - (n - nb);
        int64_t da = ia >= 0 ? a[ia] : 1, db = ib >= 0 ? b[ib] : 1;
        if (da == db || db == 1) tmp[i] = da;
        else if (da == 1) tmp[i] = db;
        else {
            char sa[128], sb[128];
            return ld_error(LD_ERR_DATA, "shapes %s and %s cannot be broadcast",
                            ld_dims_str(na, a, sa, sizeof sa), ld_dims_str(nb, b, sb, sizeof sb));
        }
    }
    memcpy(out, tmp, sizeof(int64_t) * n);
    *nout = n;
    return LD_OK;
}

ld_status ld_axis_norm(int64_t axis, int rank, int *out) {
    if (axis < -(int64_t)rank || axis >= (rank ? rank : 1))
        return ld_error(LD_ERR_DATA, "axis %lld is out of range for rank %d", (long long)axis, rank);
    *out = (int)(axis < 0 ? axis + rank : axis);
    return LD_OK;
}

void ld_strides(int ndim, const int64_t *dims, int64_t *strides) {
    int64_t s = 1;
    for (int i = ndim - 1; i >= 0; i--) {
        strides[i] = s;
        s *= dims[i];
    }
}

void ld_broadcast_strides(const ld_tensor *in, int ndim, const int64_t *odims, int64_t *strides) {
    int64_t st[LD_MAX_DIMS];
    ld_strides(in->ndim, in->dims, st);
    for (int i = 0; i < ndim; i++) {
        int j = i - (ndim - in->ndim);
        strides[i] = (j < 0 || in->dims[j] == 1 || odims[i] == 1) ? 0 : st[j];
    }
}

ld_status ld_check_dtype(ld_kctx *k, int i, uint32_t mask) {
    const ld_tensor *t = k->in[i];
    if (!t || t->kind != LD_KIND_TENSOR) return LD_OK;
    if ((unsigned)t->dtype < 32 && (mask & LD_DT(t->dtype))) return LD_OK;
    return ld_error(LD_ERR_UNSUPPORTED, "unsupported dtype %s for input %d",
                    ld_dtype_name(t->dtype), i);
}

ld_status ld_tensor_to_i64(const ld_tensor *t, int64_t *out, int max, int *count) {
    if (!t->data) return ld_error(LD_ERR_INTERNAL, "tensor data not available");
    if (!ld_dtype_is_int(t->dtype))
        return ld_error(LD_ERR_DATA, "expected an integer tensor, got %s", ld_dtype_name(t->dtype));
    if (t->numel > max)
        return ld_error(LD_ERR_DATA, "too many values (%lld, at most %d)", (long long)t->numel, max);
    for (int64_t i = 0; i < t->numel; i++) out[i] = ld_tensor_get_i64(t, i);
    *count = (int)t->numel;
    return LD_OK;
}

const ld_attr *ld_node_attr(const ld_node *n, const char *name) {
    for (int i = 0; i < n->nattr; i++)
        if (!strcmp(n->attrs[i].name, name)) return &n->attrs[i];
    return NULL;
}

int64_t ld_attr_int(const ld_node *n, const char *name, int64_t def) {
    const ld_attr *a = ld_node_attr(n, name);
    if (!a) return def;
    if (a->type == LD_ATTR_FLOAT) return (int64_t)a->f;
    return a->i;
}

float ld_attr_float(const ld_node *n, const char *name, float def) {
    const ld_attr *a = ld_node_attr(n, name);
    if (!a) return def;
    if (a->type == LD_ATTR_INT) return (float)a->i;
    return a->f;
}

const char *ld_attr_str(const ld_node *n, const char *name, const char *def) {
    const ld_attr *a = ld_node_attr(n, name);
    return a && a->s ? a->s : def;
}

const int64_t *ld_attr_ints(const ld_node *n, const char *name, int *count) {
    const ld_attr *a = ld_node_attr(n, name);
    if (!a || a->type != LD_ATTR_INTS) { *count = 0; return NULL; }
    *count = a->n;
    return a->ints;
}

const float *ld_attr_floats(const ld_node *n, const char *name, int *count) {
    const ld_attr *a = ld_node_attr(n, name);
    if (!a || a->type != LD_ATTR_FLOATS) { *count = 0; return NULL; }
    *count = a->n;
    return a->floats;
}

const ld_tensor *ld_attr_tensor(const ld_node *n, const char *name) {
    const ld_attr *a = ld_node_attr(n, name);
    return a ? a->t : NULL;
}

ld_graph *ld_attr_graph(const ld_node *n, const char *name) {
    const ld_attr *a = ld_node_attr(n, name);
    return a ? a->g : NULL;
}
