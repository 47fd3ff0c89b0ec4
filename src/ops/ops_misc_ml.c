/*
** ops_misc_ml.c — ai.onnx.ml kernels: Binarizer, ArrayFeatureExtractor, LabelEncoder
** (opset 1: classes_strings; opsets 2-4: keys_xxx / values_xxx lists or tensors) and TreeEnsemble
** (opset 5).
**
** TreeEnsemble walks each tree from its root (the nodes_xxx attributes describe interior nodes,
** the leaf_xxx ones the leaves), aggregates the leaf weights per target (SUM, AVERAGE, MIN, MAX) in double precision
** and applies post_transform (NONE, SOFTMAX, LOGISTIC, SOFTMAX_ZERO, PROBIT). Set membership
** nodes (mode 6) take their members from membership_values, one NaN-terminated run per such
** node in nodes_modes order. MIN/MAX targets no leaf reaches keep the dtype's largest/lowest
** value, as in the onnx reference.
*/
#include "ops_misc.h"
#include "ld_numeric.h"

#include <float.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- Binarizer ---- */

#define ML_NUM (LD_DT(LD_F32) | LD_DT(LD_F64) | LD_DT(LD_I64) | LD_DT(LD_I32))

ld_status ld_misc_binarizer_shape(ld_kctx *k) {
    LD_TRY(ld_misc_need(k, 1));
    LD_TRY(ld_check_dtype(k, 0, ML_NUM));
    return ld_tensor_set_shape(k->out[0], k->in[0]->dtype, k->in[0]->ndim, k->in[0]->dims);
}

ld_status ld_misc_binarizer_compute(ld_kctx *k) {
    const ld_tensor *x = k->in[0];
    double thr = ld_attr_float(k->node, "threshold", 0.0f);
    if (x->dtype == LD_F32) {
        const float *s = x->data;
        float *d = k->out[0]->data, t = (float)thr;
        for (int64_t i = 0; i < x->numel; i++) d[i] = s[i] > t ? 1.0f : 0.0f;
        return LD_OK;
    }
    for (int64_t i = 0; i < x->numel; i++) ld_tensor_set_f64(k->out[0], i, ld_tensor_get_f64(x, i) > thr);
    return LD_OK;
}

/* ---- ArrayFeatureExtractor ---- */

ld_status ld_misc_afe_shape(ld_kctx *k) {
    LD_TRY(ld_misc_need(k, 2));
    const ld_tensor *x = k->in[0];
    LD_TRY(ld_check_dtype(k, 1, LD_DT(LD_I64) | LD_DT(LD_I32)));
    if (x->ndim < 1) return ld_error(LD_ERR_DATA, "ArrayFeatureExtractor: input must have rank >= 1");
    int64_t od[LD_MAX_DIMS];
    int nd = x->ndim == 1 ? 2 : x->ndim;   // a vector is treated as one row
    if (x->ndim == 1) od[0] = 1;
    else memcpy(od, x->dims, sizeof(int64_t) * (x->ndim - 1));
    od[nd - 1] = k->in[1]->numel;
    return ld_tensor_set_shape(k->out[0], x->dtype, nd, od);
}

ld_status ld_misc_afe_compute(ld_kctx *k) {
    const ld_tensor *x = k->in[0], *ix = k->in[1];
    int64_t f = x->dims[x->ndim - 1], m = ix->numel, rows = f ? x->numel / f : 0;
    size_t es = ld_dtype_size(x->dtype);
    for (int64_t j = 0; j < m; j++) {
        int64_t v = ld_tensor_get_i64(ix, j);
        if (v < 0 || v >= f)
            return ld_error(LD_ERR_DATA, "ArrayFeatureExtractor: index %lld is out of range [0, %lld)",
                            (long long)v, (long long)f);
    }
    for (int64_t r = 0; r < rows; r++) {
        for (int64_t j = 0; j < m; j++) {
            int64_t s = r * f + ld_tensor_get_i64(ix, j), d = r * m + j;
            if (x->dtype == LD_STRING) {
                const char *str = ld_misc_str_at(x, s);
                LD_TRY(ld_misc_str_set(k->out[0], d, str, strlen(str)));
            } else {
                memcpy((char *)k->out[0]->data + d * es, (const char *)x->data + s * es, es);
            }
        }
    }
    return LD_OK;
}

/* ---- LabelEncoder ---- */

typedef enum { LE_STR, LE_INT, LE_FLT } le_kind;

typedef struct le_list {
    le_kind kind;
    int64_t n;
    char **s;          // LE_STR (borrowed)
    int64_t *i;        // LE_INT
    double *f;         // LE_FLT and LE_INT (as double)
} le_list;

static void le_list_free(le_list *l) { free(l->s); free(l->i); free(l->f); }

static ld_status le_list_alloc(le_list *l, le_kind kind, int64_t n) {
    l->kind = kind;
    l->n = n;
    l->s = calloc(n + 1, sizeof(char *));
    l->i = calloc(n + 1, sizeof(int64_t));
    l->f = calloc(n + 1, sizeof(double));
    return l->s && l->i && l->f ? LD_OK : ld_oom();
}

static void le_list_set_num(le_list *l, int64_t j, int64_t iv, double fv) { l->i[j] = iv; l->f[j] = fv; }

/* Read "<prefix>_strings|_int64s|_floats|_tensor" into l; *dt gets the element dtype. */
static ld_status le_list_read(const ld_node *nd, const char *prefix, le_list *l, ld_dtype *dt) {
    char name[32];
    const ld_attr *a;
    snprintf(name, sizeof name, "%s_strings", prefix);
    if ((a = ld_node_attr(nd, name)) && a->type == LD_ATTR_STRINGS) {
        LD_TRY(le_list_alloc(l, LE_STR, a->n));
        for (int j = 0; j < a->n; j++) l->s[j] = a->strings[j];
        *dt = LD_STRING;
        return LD_OK;
    }
    snprintf(name, sizeof name, "%s_int64s", prefix);
    if ((a = ld_node_attr(nd, name)) && a->type == LD_ATTR_INTS) {
        LD_TRY(le_list_alloc(l, LE_INT, a->n));
        for (int j = 0; j < a->n; j++) le_list_set_num(l, j, a->ints[j], (double)a->ints[j]);
        *dt = LD_I64;
        return LD_OK;
    }
    snprintf(name, sizeof name, "%s_floats", prefix);
    if ((a = ld_node_attr(nd, name)) && a->type == LD_ATTR_FLOATS) {
        LD_TRY(le_list_alloc(l, LE_FLT, a->n));
        for (int j = 0; j < a->n; j++) le_list_set_num(l, j, (int64_t)a->floats[j], a->floats[j]);
        *dt = LD_F32;
        return LD_OK;
    }
    snprintf(name, sizeof name, "%s_tensor", prefix);
    const ld_tensor *t = ld_attr_tensor(nd, name);
    if (!t) return ld_error(LD_ERR_DATA, "LabelEncoder: no %s_* attribute", prefix);
    *dt = t->dtype;
    le_kind kind = t->dtype == LD_STRING ? LE_STR : ld_dtype_is_int(t->dtype) ? LE_INT : LE_FLT;
    LD_TRY(le_list_alloc(l, kind, t->numel));
    for (int64_t j = 0; j < t->numel; j++) {
        if (kind == LE_STR) l->s[j] = ((char **)t->data)[j] ? ((char **)t->data)[j] : "";
        else le_list_set_num(l, j, ld_tensor_get_i64(t, j), ld_tensor_get_f64(t, j));
    }
    return LD_OK;
}

typedef struct le_model {
    le_list keys, vals;
    ld_dtype out_dt;
    const char *def_s;
    int64_t def_i;
    double def_f;
} le_model;

static ld_status le_default(const ld_node *nd, le_model *m) {
    const ld_tensor *dt = ld_attr_tensor(nd, "default_tensor");
    m->def_s = ld_attr_str(nd, "default_string", "_Unused");
    m->def_i = ld_attr_int(nd, "default_int64", -1);
    m->def_f = ld_attr_float(nd, "default_float", -0.0f);
    if (!dt || !ld_attr_tensor(nd, "values_tensor")) return LD_OK;
    if (dt->numel != 1 || dt->dtype != m->out_dt)
        return ld_error(LD_ERR_DATA, "LabelEncoder: default_tensor must be one %s value", ld_dtype_name(m->out_dt));
    if (dt->dtype == LD_STRING) m->def_s = ld_misc_str_at(dt, 0);
    else { m->def_i = ld_tensor_get_i64(dt, 0); m->def_f = ld_tensor_get_f64(dt, 0); }
    return LD_OK;
}

static ld_status le_model_read(const ld_node *nd, le_model *m) {
    ld_dtype kdt;
    memset(m, 0, sizeof *m);
    LD_TRY(le_list_read(nd, "keys", &m->keys, &kdt));
    LD_TRY(le_list_read(nd, "values", &m->vals, &m->out_dt));
    if (m->keys.n != m->vals.n)
        return ld_error(LD_ERR_DATA, "LabelEncoder: %lld keys but %lld values", (long long)m->keys.n,
                        (long long)m->vals.n);
    return le_default(nd, m);
}

/* Index of the last key equal to element i of x, or -1. NaN keys match NaN. */
static int64_t le_find(const le_list *keys, const ld_tensor *x, int64_t i) {
    const char *s = keys->kind == LE_STR ? ld_misc_str_at(x, i) : NULL;
    bool int_cmp = keys->kind == LE_INT && ld_dtype_is_int(x->dtype);
    int64_t iv = int_cmp ? ld_tensor_get_i64(x, i) : 0;
    double fv = s || int_cmp ? 0 : ld_tensor_get_f64(x, i);
    for (int64_t j = keys->n - 1; j >= 0; j--) {
        if (s ? !strcmp(s, keys->s[j]) : int_cmp ? keys->i[j] == iv
                : (keys->f[j] == fv || (isnan(fv) && isnan(keys->f[j]))))
            return j;
    }
    return -1;
}

ld_status ld_misc_labelenc_shape(ld_kctx *k) {
    LD_TRY(ld_misc_need(k, 1));
    le_model m;
    ld_status st = le_model_read(k->node, &m);
    bool in_str = k->in[0]->dtype == LD_STRING;
    if (st == LD_OK && in_str != (m.keys.kind == LE_STR))
        st = ld_error(LD_ERR_DATA, "LabelEncoder: %s input with %s keys", ld_dtype_name(k->in[0]->dtype),
                      m.keys.kind == LE_STR ? "string" : "numeric");
    if (st == LD_OK) st = ld_tensor_set_shape(k->out[0], m.out_dt, k->in[0]->ndim, k->in[0]->dims);
    le_list_free(&m.keys);
    le_list_free(&m.vals);
    return st;
}

ld_status ld_misc_labelenc_compute(ld_kctx *k) {
    le_model m;
    ld_status st = le_model_read(k->node, &m);
    ld_tensor *y = k->out[0];
    for (int64_t i = 0; st == LD_OK && i < k->in[0]->numel; i++) {
        int64_t j = le_find(&m.keys, k->in[0], i);
        if (y->dtype == LD_STRING) {
            const char *v = j >= 0 ? m.vals.s[j] : m.def_s;
            st = ld_misc_str_set(y, i, v, strlen(v));
        } else if (y->dtype == LD_I64) {
            LD_I64P(y)[i] = j >= 0 ? m.vals.i[j] : m.def_i;
        } else if (ld_dtype_is_int(y->dtype)) {
            ld_tensor_set_f64(y, i, (double)(j >= 0 ? m.vals.i[j] : m.def_i));
        } else {
            ld_tensor_set_f64(y, i, j >= 0 ? m.vals.f[j] : m.def_f);
        }
    }
    le_list_free(&m.keys);
    le_list_free(&m.vals);
    return st;
}

/* Opset 1: string -> index in classes_strings, or int64 -> class name. */
ld_status ld_misc_labelenc1_shape(ld_kctx *k) {
    LD_TRY(ld_misc_need(k, 1));
    LD_TRY(ld_check_dtype(k, 0, LD_DT(LD_STRING) | LD_DT(LD_I64)));
    ld_dtype out = k->in[0]->dtype == LD_STRING ? LD_I64 : LD_STRING;
    return ld_tensor_set_shape(k->out[0], out, k->in[0]->ndim, k->in[0]->dims);
}

ld_status ld_misc_labelenc1_compute(ld_kctx *k) {
    const ld_attr *cl = ld_node_attr(k->node, "classes_strings");
    int n = cl && cl->type == LD_ATTR_STRINGS ? cl->n : 0;
    const ld_tensor *x = k->in[0];
    int64_t def_i = ld_attr_int(k->node, "default_int64", -1);
    const char *def_s = ld_attr_str(k->node, "default_string", "_Unused");
    for (int64_t i = 0; i < x->numel; i++) {
        if (x->dtype == LD_STRING) {
            int64_t v = def_i;
            for (int j = 0; j < n && v == def_i; j++)
                if (!strcmp(ld_misc_str_at(x, i), cl->strings[j])) v = j;
            LD_I64P(k->out[0])[i] = v;
        } else {
            int64_t v = LD_I64P(x)[i];
            const char *s = v >= 0 && v < n ? cl->strings[v] : def_s;
            LD_TRY(ld_misc_str_set(k->out[0], i, s, strlen(s)));
        }
    }
    return LD_OK;
}

/* ---- TreeEnsemble ---- */

enum { TE_LEQ, TE_LT, TE_GTE, TE_GT, TE_EQ, TE_NEQ, TE_MEMBER };
enum { AGG_AVG, AGG_SUM, AGG_MIN, AGG_MAX };
enum { POST_NONE, POST_SOFTMAX, POST_LOGISTIC, POST_SOFTMAX_ZERO, POST_PROBIT };

typedef struct te_model {
    int nn, nl, ntrees;
    int64_t ntargets, nfeat;
    const int64_t *feat, *tid, *fid, *tleaf, *fleaf, *miss, *roots, *ltarget;
    const ld_tensor *splits, *modes, *lw, *members;
    int64_t *mstart;       // per node: first member index in `members` (MEMBER nodes)
    int agg, post;
} te_model;

/* An ints attribute that must have n entries (n < 0: any, returned in *n). */
static ld_status te_ints(const ld_node *nd, const char *name, int *n, bool optional, const int64_t **out) {
    int c;
    *out = ld_attr_ints(nd, name, &c);
    if (!*out && optional) return LD_OK;
    if (!*out) return ld_error(LD_ERR_DATA, "TreeEnsemble: attribute %s is required", name);
    if (*n >= 0 && c != *n)
        return ld_error(LD_ERR_DATA, "TreeEnsemble: attribute %s has %d entries, expected %d", name, c, *n);
    *n = c;
    return LD_OK;
}

static ld_status te_check_range(const int64_t *v, int n, int64_t hi, const char *what) {
    for (int i = 0; i < n; i++)
        if (v[i] < 0 || v[i] >= hi)
            return ld_error(LD_ERR_DATA, "TreeEnsemble: %s[%d] = %lld is out of range [0, %lld)", what, i,
                            (long long)v[i], (long long)hi);
    return LD_OK;
}

static ld_status te_members(te_model *m) {
    m->mstart = calloc(m->nn + 1, sizeof(int64_t));
    if (!m->mstart) return ld_oom();
    int64_t pos = 0, nm = m->members ? m->members->numel : 0;
    for (int i = 0; i < m->nn; i++) {
        if (ld_tensor_get_i64(m->modes, i) != TE_MEMBER) continue;
        m->mstart[i] = pos;
        while (pos < nm && !isnan(ld_tensor_get_f64(m->members, pos))) pos++;
        if (pos >= nm) return ld_error(LD_ERR_DATA, "TreeEnsemble: membership_values has too few NaN-terminated sets");
        pos++;
    }
    return LD_OK;
}

static ld_status te_model_read(const ld_node *nd, int64_t nfeat, te_model *m) {
    memset(m, 0, sizeof *m);
    m->splits = ld_attr_tensor(nd, "nodes_splits");
    m->modes = ld_attr_tensor(nd, "nodes_modes");
    m->lw = ld_attr_tensor(nd, "leaf_weights");
    m->members = ld_attr_tensor(nd, "membership_values");
    if (!m->splits || !m->modes || !m->lw)
        return ld_error(LD_ERR_DATA, "TreeEnsemble: nodes_splits, nodes_modes and leaf_weights are required");
    m->nn = (int)m->splits->numel;
    m->nl = (int)m->lw->numel;
    m->ntrees = -1;
    int nn = m->nn, nl = m->nl;
    LD_TRY(te_ints(nd, "nodes_featureids", &nn, false, &m->feat));
    LD_TRY(te_ints(nd, "nodes_truenodeids", &nn, false, &m->tid));
    LD_TRY(te_ints(nd, "nodes_falsenodeids", &nn, false, &m->fid));
    LD_TRY(te_ints(nd, "nodes_trueleafs", &nn, false, &m->tleaf));
    LD_TRY(te_ints(nd, "nodes_falseleafs", &nn, false, &m->fleaf));
    LD_TRY(te_ints(nd, "nodes_missing_value_tracks_true", &nn, true, &m->miss));
    LD_TRY(te_ints(nd, "leaf_targetids", &nl, false, &m->ltarget));
    LD_TRY(te_ints(nd, "tree_roots", &m->ntrees, false, &m->roots));
    if (m->modes->numel != m->nn) return ld_error(LD_ERR_DATA, "TreeEnsemble: nodes_modes needs %d entries", m->nn);
    m->ntargets = ld_attr_int(nd, "n_targets", 1);
    m->nfeat = nfeat;
    m->agg = (int)ld_attr_int(nd, "aggregate_function", AGG_SUM);
    m->post = (int)ld_attr_int(nd, "post_transform", POST_NONE);
    if (m->agg < AGG_AVG || m->agg > AGG_MAX || m->post < POST_NONE || m->post > POST_PROBIT)
        return ld_error(LD_ERR_DATA, "TreeEnsemble: bad aggregate_function or post_transform");
    LD_TRY(te_check_range(m->feat, m->nn, nfeat, "nodes_featureids"));
    LD_TRY(te_check_range(m->roots, m->ntrees, m->nn, "tree_roots"));
    LD_TRY(te_check_range(m->ltarget, m->nl, m->ntargets, "leaf_targetids"));
    for (int i = 0; i < m->nn; i++) {
        if (m->tid[i] < 0 || m->tid[i] >= (m->tleaf[i] ? m->nl : m->nn) ||
            m->fid[i] < 0 || m->fid[i] >= (m->fleaf[i] ? m->nl : m->nn))
            return ld_error(LD_ERR_DATA, "TreeEnsemble: node %d's children are out of range", i);
        int64_t mode = ld_tensor_get_i64(m->modes, i);
        if (mode < TE_LEQ || mode > TE_MEMBER)
            return ld_error(LD_ERR_DATA, "TreeEnsemble: node %d has bad mode %lld", i, (long long)mode);
    }
    return te_members(m);
}

static bool te_member(const te_model *m, int node, double v) {
    for (int64_t p = m->mstart[node];; p++) {
        double s = ld_tensor_get_f64(m->members, p);
        if (isnan(s)) return false;
        if (s == v) return true;
    }
}

static bool te_cond(const te_model *m, int node, double v) {
    if (isnan(v) && m->miss && m->miss[node]) return true;
    double s = ld_tensor_get_f64(m->splits, node);
    switch (ld_tensor_get_i64(m->modes, node)) {
    case TE_LEQ: return v <= s;
    case TE_LT: return v < s;
    case TE_GTE: return v >= s;
    case TE_GT: return v > s;
    case TE_EQ: return v == s;
    case TE_NEQ: return v != s;
    default: return te_member(m, node, v);
    }
}

/* Leaf reached from root for row x; -1 if the walk loops (malformed trees). */
static int64_t te_walk(const te_model *m, int64_t root, const double *x) {
    int64_t node = root;
    for (int steps = 0; steps <= m->nn; steps++) {
        bool c = te_cond(m, (int)node, x[m->feat[node]]);
        int64_t next = c ? m->tid[node] : m->fid[node];
        if (c ? m->tleaf[node] : m->fleaf[node]) return next;
        node = next;
    }
    return -1;
}

static double te_erfinv(double y) {
    if (y <= -1) return -INFINITY;
    if (y >= 1) return INFINITY;
    double w = -log((1 - y) * (1 + y)), x;   // Giles' approximation, refined by Newton steps
    if (w < 5) {
        w -= 2.5;
        x = 2.81022636e-08;
        x = 3.43273939e-07 + x * w; x = -3.5233877e-06 + x * w; x = -4.39150654e-06 + x * w;
        x = 0.00021858087 + x * w; x = -0.00125372503 + x * w; x = -0.00417768164 + x * w;
        x = 0.246640727 + x * w; x = 1.50140941 + x * w;
    } else {
        w = sqrt(w) - 3;
        x = -0.000200214257;
        x = 0.000100950558 + x * w; x = 0.00134934322 + x * w; x = -0.00367342844 + x * w;
        x = 0.00573950773 + x * w; x = -0.0076224613 + x * w; x = 0.00943887047 + x * w;
        x = 1.00167406 + x * w; x = 2.83297682 + x * w;
    }
    x *= y;
    for (int i = 0; i < 2; i++) x -= (erf(x) - y) / (2 / sqrt(M_PI) * exp(-x * x));
    return x;
}

static void te_post(int post, double *v, int64_t n) {
    if (post == POST_LOGISTIC) for (int64_t t = 0; t < n; t++) v[t] = 1 / (1 + exp(-v[t]));
    if (post == POST_PROBIT) for (int64_t t = 0; t < n; t++) v[t] = M_SQRT2 * te_erfinv(2 * v[t] - 1);
    if (post != POST_SOFTMAX && post != POST_SOFTMAX_ZERO) return;
    double mx = -INFINITY, sum = 0;
    for (int64_t t = 0; t < n; t++) mx = fmax(mx, v[t]);
    for (int64_t t = 0; t < n; t++) {
        v[t] = post == POST_SOFTMAX_ZERO && v[t] == 0 ? 0 : exp(v[t] - mx);
        sum += v[t];
    }
    for (int64_t t = 0; t < n && sum > 0; t++) v[t] /= sum;
}

static double te_dtype_max(ld_dtype t) { return t == LD_F64 ? DBL_MAX : t == LD_F16 ? 65504.0 : FLT_MAX; }

static ld_status te_row(const te_model *m, const double *x, double *acc, ld_dtype dt) {
    double init = m->agg == AGG_MIN ? te_dtype_max(dt) : m->agg == AGG_MAX ? -te_dtype_max(dt) : 0;
    for (int64_t t = 0; t < m->ntargets; t++) acc[t] = init;
    for (int tr = 0; tr < m->ntrees; tr++) {
        int64_t leaf = te_walk(m, m->roots[tr], x);
        if (leaf < 0) return ld_error(LD_ERR_DATA, "TreeEnsemble: tree %d contains a cycle", tr);
        double w = ld_tensor_get_f64(m->lw, leaf);
        double *a = &acc[m->ltarget[leaf]];
        switch (m->agg) {
        case AGG_SUM: *a += w; break;
        case AGG_AVG: *a += w / m->ntrees; break;
        case AGG_MIN: *a = fmin(*a, w); break;
        default: *a = fmax(*a, w); break;
        }
    }
    te_post(m->post, acc, m->ntargets);
    return LD_OK;
}

ld_status ld_misc_tree_shape(ld_kctx *k) {
    LD_TRY(ld_misc_need(k, 1));
    LD_TRY(ld_check_dtype(k, 0, LD_DT(LD_F32) | LD_DT(LD_F64) | LD_DT(LD_F16)));
    const ld_tensor *x = k->in[0];
    if (x->ndim != 2) return ld_error(LD_ERR_DATA, "TreeEnsemble: X must be (N, F)");
    int64_t od[2] = {x->dims[0], ld_attr_int(k->node, "n_targets", 1)};   // (N, n_targets)
    if (od[1] < 1) return ld_error(LD_ERR_DATA, "TreeEnsemble: n_targets must be positive");
    return ld_tensor_set_shape(k->out[0], x->dtype, 2, od);
}

ld_status ld_misc_tree_compute(ld_kctx *k) {
    const ld_tensor *x = k->in[0];
    int64_t n = x->dims[0], f = x->dims[1];
    te_model m;
    ld_status st = te_model_read(k->node, f, &m);
    double *row = malloc(sizeof(double) * (f + 1)), *acc = malloc(sizeof(double) * (m.ntargets + 1));
    if (st == LD_OK && (!row || !acc)) st = ld_oom();
    for (int64_t i = 0; st == LD_OK && i < n; i++) {
        for (int64_t j = 0; j < f; j++) row[j] = ld_tensor_get_f64(x, i * f + j);
        st = te_row(&m, row, acc, x->dtype);
        for (int64_t t = 0; st == LD_OK && t < m.ntargets; t++)
            ld_tensor_set_f64(k->out[0], i * m.ntargets + t, acc[t]);
    }
    free(row);
    free(acc);
    free(m.mstart);
    return st;
}
