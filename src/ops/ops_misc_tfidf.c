/*
** ops_misc_tfidf.c — TfIdfVectorizer (opset 9): counts the n-grams of a pool (pool_int64s or
** pool_strings) in each row of an int32/int64/string input and weights the counts (TF, IDF,
** TFIDF).
**
** The pool is loaded into a trie exactly as onnxruntime does: n-grams of size
** min_gram_length..max_gram_length are inserted, every pool n-gram (inserted or not) takes the
** next id, and a trie node's id (0 = none) maps through ngram_indexes to an output column.
** Each row is scanned for every skip distance 1..max_skip_count+1; unigrams are counted on
** the first pass only since skipping does not change them.
*/
#include "ops_misc.h"

#include <stdlib.h>
#include <string.h>

typedef struct tf_node {
    int64_t ival;          // token (int pools)
    const char *sval;      // token (string pools)
    int64_t id;            // 1-based n-gram id ending here; 0 = none
    int first, next;       // first child, next sibling (-1 = none)
} tf_node;

typedef struct tf_model {
    tf_node *nodes;        // nodes[0] is the root
    int nnodes, cap;
    bool strings;
    int64_t min_n, max_n, max_skip, out_size;
    const int64_t *idx;    // ngram_indexes
    int nidx;
    const float *w;        // weights (NULL/0: none)
    int nw;
    int mode;              // 1 TF, 2 IDF, 3 TFIDF
} tf_model;

static bool tf_tok_eq(const tf_model *m, const tf_node *n, int64_t iv, const char *sv) {
    return m->strings ? !strcmp(n->sval, sv) : n->ival == iv;
}

static int tf_find(const tf_model *m, int parent, int64_t iv, const char *sv) {
    for (int c = m->nodes[parent].first; c >= 0; c = m->nodes[c].next)
        if (tf_tok_eq(m, &m->nodes[c], iv, sv)) return c;
    return -1;
}

/* Child of parent with token (iv/sv), created if missing; -1 on out of memory. */
static int tf_child(tf_model *m, int parent, int64_t iv, const char *sv) {
    int c = tf_find(m, parent, iv, sv);
    if (c >= 0) return c;
    if (m->nnodes == m->cap) {
        int cap = m->cap * 2 + 16;
        tf_node *p = realloc(m->nodes, sizeof(tf_node) * cap);
        if (!p) return -1;
        m->nodes = p;
        m->cap = cap;
    }
    c = m->nnodes++;
    m->nodes[c] = (tf_node){iv, sv, 0, -1, m->nodes[parent].first};
    m->nodes[parent].first = c;
    return c;
}

static ld_status tf_build(ld_kctx *k, tf_model *m) {
    const ld_node *nd = k->node;
    const ld_attr *pi = ld_node_attr(nd, "pool_int64s"), *ps = ld_node_attr(nd, "pool_strings");
    m->strings = ps && ps->type == LD_ATTR_STRINGS && ps->n > 0;
    int total = m->strings ? ps->n : pi && pi->type == LD_ATTR_INTS ? pi->n : 0;
    int ncounts;
    const int64_t *counts = ld_attr_ints(nd, "ngram_counts", &ncounts);
    m->nodes = calloc(1, sizeof(tf_node));
    if (!m->nodes) return ld_oom();
    m->nodes[0] = (tf_node){0, "", 0, -1, -1};
    m->nnodes = m->cap = 1;
    int64_t id = 1;
    for (int lvl = 0; lvl < ncounts; lvl++) {
        int64_t size = lvl + 1, start = counts[lvl], end = lvl + 1 < ncounts ? counts[lvl + 1] : total;
        if (start < 0 || end > total || end < start)
            return ld_error(LD_ERR_DATA, "TfIdfVectorizer: ngram_counts do not fit the pool");
        int64_t ngrams = (end - start) / size;
        if (size < m->min_n || size > m->max_n) { id += ngrams; continue; }
        for (int64_t g = 0; g < ngrams; g++, id++) {
            int node = 0;
            for (int64_t t = 0; t < size && node >= 0; t++) {
                int64_t p = start + g * size + t;
                node = tf_child(m, node, m->strings ? 0 : pi->ints[p], m->strings ? ps->strings[p] : NULL);
            }
            if (node < 0) return ld_oom();
            m->nodes[node].id = id;
        }
    }
    for (int i = 1; i < m->nnodes; i++)
        if (m->nodes[i].id > m->nidx)
            return ld_error(LD_ERR_DATA, "TfIdfVectorizer: ngram_indexes has %d entries for %lld n-grams",
                            m->nidx, (long long)m->nodes[i].id);
    return LD_OK;
}

static ld_status tf_model_read(ld_kctx *k, tf_model *m) {
    const ld_node *nd = k->node;
    memset(m, 0, sizeof *m);
    m->min_n = ld_attr_int(nd, "min_gram_length", 1);
    m->max_n = ld_attr_int(nd, "max_gram_length", 1);
    m->max_skip = ld_attr_int(nd, "max_skip_count", 0);
    if (m->min_n < 1 || m->max_n < m->min_n || m->max_skip < 0)
        return ld_error(LD_ERR_DATA, "TfIdfVectorizer: need 1 <= min_gram_length <= max_gram_length "
                                     "and max_skip_count >= 0");
    const char *mode = ld_attr_str(nd, "mode", "");
    m->mode = !strcmp(mode, "TF") ? 1 : !strcmp(mode, "IDF") ? 2 : !strcmp(mode, "TFIDF") ? 3 : 0;
    if (!m->mode) return ld_error(LD_ERR_DATA, "TfIdfVectorizer: mode must be TF, IDF or TFIDF, got '%s'", mode);
    m->idx = ld_attr_ints(nd, "ngram_indexes", &m->nidx);
    m->w = ld_attr_floats(nd, "weights", &m->nw);
    m->out_size = 0;
    for (int i = 0; i < m->nidx; i++) {
        if (m->idx[i] < 0) return ld_error(LD_ERR_DATA, "TfIdfVectorizer: negative ngram_indexes entry");
        m->out_size = LD_MAX(m->out_size, m->idx[i] + 1);
    }
    if (m->nw && m->nw < m->out_size)
        return ld_error(LD_ERR_DATA, "TfIdfVectorizer: %d weights for %lld outputs", m->nw, (long long)m->out_size);
    return LD_OK;
}

/* Count the n-grams of one row (n tokens starting at element off) into freq[out_size]. */
static void tf_count_row(const tf_model *m, const ld_tensor *x, int64_t off, int64_t n, int64_t *freq) {
    int64_t start_n = m->min_n;
    for (int64_t skip = 1; skip <= m->max_skip + 1; skip++) {
        for (int64_t s = 0; s < n; s++) {
            if (s + skip * (start_n - 1) >= n) break;
            int node = 0;
            for (int64_t sz = 1, it = s; sz <= m->max_n && it < n; sz++, it += skip) {
                int64_t iv = m->strings ? 0 : ld_tensor_get_i64(x, off + it);
                const char *sv = m->strings ? ld_misc_str_at(x, off + it) : NULL;
                node = tf_find(m, node, iv, sv);
                if (node < 0) break;
                if (sz >= start_n && m->nodes[node].id) freq[m->idx[m->nodes[node].id - 1]]++;
                if (m->nodes[node].first < 0) break;
            }
        }
        if (start_n == 1) {   // unigrams do not depend on the skip distance
            start_n = 2;
            if (start_n > m->max_n) break;
        }
    }
}

static float tf_weight(const tf_model *m, int64_t col, int64_t f) {
    bool w = m->w && m->nw;
    switch (m->mode) {
    case 1: return (float)f;
    case 2: return f > 0 ? (w ? m->w[col] : 1.0f) : 0.0f;
    default: return w ? m->w[col] * (float)f : (float)f;
    }
}

static ld_status tf_dims(ld_kctx *k, const tf_model *m, int *nd, int64_t *od, int64_t *rows, int64_t *cols) {
    const ld_tensor *x = k->in[0];
    if (x->ndim > 2) return ld_error(LD_ERR_DATA, "TfIdfVectorizer: input must be (C) or (B, C)");
    *rows = x->ndim == 2 ? x->dims[0] : 1;
    *cols = x->ndim == 0 ? 1 : x->dims[x->ndim - 1];
    *nd = x->ndim == 2 ? 2 : 1;
    od[0] = x->ndim == 2 ? *rows : m->out_size;
    od[1] = m->out_size;
    return LD_OK;
}

ld_status ld_misc_tfidf_shape(ld_kctx *k) {
    LD_TRY(ld_misc_need(k, 1));
    LD_TRY(ld_check_dtype(k, 0, LD_DT(LD_I32) | LD_DT(LD_I64) | LD_DT(LD_STRING)));
    tf_model m;
    int nd;
    int64_t od[2], rows, cols;
    LD_TRY(tf_model_read(k, &m));
    LD_TRY(tf_dims(k, &m, &nd, od, &rows, &cols));
    return ld_tensor_set_shape(k->out[0], LD_F32, nd, od);
}

ld_status ld_misc_tfidf_compute(ld_kctx *k) {
    tf_model m;
    int nd;
    int64_t od[2], rows, cols;
    LD_TRY(tf_model_read(k, &m));
    LD_TRY(tf_dims(k, &m, &nd, od, &rows, &cols));
    ld_status st = tf_build(k, &m);
    if (st == LD_OK && m.strings != (k->in[0]->dtype == LD_STRING))
        st = ld_error(LD_ERR_DATA, "TfIdfVectorizer: a %s pool needs a %s input", m.strings ? "string" : "int64",
                      m.strings ? "string" : "integer");
    int64_t *freq = calloc((size_t)(m.out_size ? m.out_size : 1), sizeof(int64_t));
    if (st == LD_OK && !freq) st = ld_oom();
    float *y = LD_F32P(k->out[0]);
    for (int64_t r = 0; st == LD_OK && r < rows; r++) {
        memset(freq, 0, sizeof(int64_t) * m.out_size);
        if (m.nnodes > 1) tf_count_row(&m, k->in[0], r * cols, cols, freq);
        for (int64_t c = 0; c < m.out_size; c++) y[r * m.out_size + c] = tf_weight(&m, c, freq[c]);
    }
    free(freq);
    free(m.nodes);
    return st;
}
