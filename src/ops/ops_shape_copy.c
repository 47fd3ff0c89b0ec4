/*
** ops_shape_copy.c — the copy engine of the 'shape' family. Transpose, Slice, Split, Expand,
** Tile, DepthToSpace and SpaceToDepth are all "fill a contiguous output from a strided view
** of the input"; this file does that fast for any element size: the view is simplified
** (unit dims dropped, source-contiguous neighbours merged), then copied row by row (memcpy
** when the rows are contiguous), or tile by tile when the source is contiguous along another
** output axis (a batched 2-D transpose, e.g. NCHW <-> NHWC). Strings are strdup'ed.
*/
#include "ops_shape.h"

#include <stdlib.h>
#include <string.h>
#ifdef __SSE2__
#include <xmmintrin.h>
#endif

#define PAR_BYTES ((int64_t)1 << 18)   /* parallelise copies moving more than 256 KiB */
#define PAR_CHUNKS 64                   /* row chunks handed to the threads */
#define TILE_X 8        /* transpose strip width along the source-contiguous axis */
#define TILE_Y 256      /* transpose strip length along the output-contiguous axis */

/* Drop unit dims and merge neighbours whose source strides are contiguous; returns rank. */
static int view_simplify(int nd, const int64_t *dims, const int64_t *istr, int64_t *d,
                         int64_t *s) {
    int n = 0;
    for (int i = 0; i < nd; i++) {
        if (dims[i] == 1) continue;
        if (n > 0 && s[n - 1] == istr[i] * dims[i]) {
            d[n - 1] *= dims[i];
            s[n - 1] = istr[i];
            continue;
        }
        d[n] = dims[i];
        s[n] = istr[i];
        n++;
    }
    return n;
}

/* Offset (in elements) of flat index r of the dims d[0..n-1] in a view of strides s; also
 * leaves the multi-index in idx. */
static int64_t view_offset(int64_t r, int n, const int64_t *d, const int64_t *s, int64_t *idx) {
    int64_t off = 0;
    for (int i = n - 1; i >= 0; i--) {
        idx[i] = r % d[i];
        r /= d[i];
        off += idx[i] * s[i];
    }
    return off;
}

/* Advance the multi-index idx over dims d[0..n-1] by one, updating the offset. */
static inline int64_t view_next(int n, const int64_t *d, const int64_t *s, int64_t *idx,
                                int64_t off) {
    for (int i = n - 1; i >= 0; i--) {
        off += s[i];
        if (++idx[i] < d[i]) return off;
        off -= s[i] * d[i];
        idx[i] = 0;
    }
    return off;
}

/* One output row of L elements read from src with stride st. */
static inline void row_gather(char *dst, const char *src, int64_t L, int64_t st, size_t es) {
    if (st == 1) {
        memcpy(dst, src, (size_t)L * es);
        return;
    }
#define GATHER(T) do { \
        T *o = (T *)dst; const T *p = (const T *)src; \
        for (int64_t i = 0; i < L; i++) o[i] = p[i * st]; \
    } while (0)
    switch (es) {
    case 1: GATHER(uint8_t); break;
    case 2: GATHER(uint16_t); break;
    case 4: GATHER(uint32_t); break;
    case 8: GATHER(uint64_t); break;
    default:
        for (int64_t i = 0; i < L; i++) memcpy(dst + i * es, src + i * st * (int64_t)es, es);
    }
#undef GATHER
}

/* Rows: dims d[0..n-2] are outer, d[n-1] is the row (source stride s[n-1]). */
static void copy_rows(char *dst, const char *src, size_t es, int n, const int64_t *d,
                      const int64_t *s) {
    int64_t L = d[n - 1], st = s[n - 1], rows = 1;
    for (int i = 0; i < n - 1; i++) rows *= d[i];
    size_t rb = (size_t)L * es;
    int64_t nchunk = rows * (int64_t)rb > PAR_BYTES ? LD_MIN(rows, PAR_CHUNKS) : 1;
    #pragma omp parallel for if(nchunk > 1) schedule(static)
    for (int64_t c = 0; c < nchunk; c++) {
        int64_t r0 = rows * c / nchunk, r1 = rows * (c + 1) / nchunk;
        int64_t idx[LD_SHAPE_MAXV];
        int64_t off = view_offset(r0, n - 1, d, s, idx);
        for (int64_t r = r0; r < r1; r++) {
            row_gather(dst + r * rb, src + off * (int64_t)es, L, st, es);
            off = view_next(n - 1, d, s, idx, off);
        }
    }
}

/* One block: dst[x * oa + y] = src[x + y * sb] for x0 <= x < x1, y0 <= y < y1. */
#define BLOCK_SCALAR(T, dst, src, x0, x1, y0, y1, oa, sb) do { \
        T *o_ = (T *)(dst); const T *p_ = (const T *)(src); \
        for (int64_t y_ = (y0); y_ < (y1); y_++) \
            for (int64_t x_ = (x0); x_ < (x1); x_++) o_[x_ * (oa) + y_] = p_[x_ + y_ * (sb)]; \
    } while (0)

#ifdef __SSE2__
/* 32-bit elements in 4x4 register transposes (pure moves, so bit-exact). */
static void block_transpose32(uint32_t *o, const uint32_t *p, int64_t x0, int64_t x1, int64_t y0,
                              int64_t y1, int64_t oa, int64_t sb) {
    int64_t y = y0;
    for (; y + 4 <= y1; y += 4) {
        int64_t x = x0;
        for (; x + 4 <= x1; x += 4) {
            const float *q = (const float *)(p + x + y * sb);
            __m128 r0 = _mm_loadu_ps(q), r1 = _mm_loadu_ps(q + sb);
            __m128 r2 = _mm_loadu_ps(q + 2 * sb), r3 = _mm_loadu_ps(q + 3 * sb);
            _MM_TRANSPOSE4_PS(r0, r1, r2, r3);
            float *w = (float *)(o + x * oa + y);
            _mm_storeu_ps(w, r0);
            _mm_storeu_ps(w + oa, r1);
            _mm_storeu_ps(w + 2 * oa, r2);
            _mm_storeu_ps(w + 3 * oa, r3);
        }
        BLOCK_SCALAR(uint32_t, o, p, x, x1, y, y + 4, oa, sb);
    }
    BLOCK_SCALAR(uint32_t, o, p, x0, x1, y, y1, oa, sb);
}
#endif

/* Rows y0..y1 of a transpose: dst[x * oa + y] = src[x + y * sb] for all x < nx, swept in
 * narrow column strips so source lines are reused while the destination is written in runs. */
static void strip_transpose(char *dst, const char *src, size_t es, int64_t nx, int64_t y0,
                            int64_t y1, int64_t oa, int64_t sb) {
    for (int64_t x0 = 0; x0 < nx; x0 += TILE_X) {
        int64_t x1 = LD_MIN(x0 + TILE_X, nx);
        switch (es) {
        case 1: BLOCK_SCALAR(uint8_t, dst, src, x0, x1, y0, y1, oa, sb); break;
        case 2: BLOCK_SCALAR(uint16_t, dst, src, x0, x1, y0, y1, oa, sb); break;
#ifdef __SSE2__
        case 4: block_transpose32((uint32_t *)dst, (const uint32_t *)src, x0, x1, y0, y1, oa, sb); break;
#else
        case 4: BLOCK_SCALAR(uint32_t, dst, src, x0, x1, y0, y1, oa, sb); break;
#endif
        case 8: BLOCK_SCALAR(uint64_t, dst, src, x0, x1, y0, y1, oa, sb); break;
        default:
            for (int64_t y = y0; y < y1; y++)
                for (int64_t x = x0; x < x1; x++)
                    memcpy(dst + (x * oa + y) * (int64_t)es, src + (x + y * sb) * (int64_t)es, es);
        }
    }
}

/* Output axis b = n-1 is contiguous in dst, axis a is contiguous in src: a batched 2-D
 * transpose, split into (outer index, strip of TILE_Y output columns) work items. */
static void copy_transposed(char *dst, const char *src, size_t es, int n, const int64_t *d,
                            const int64_t *s, int a) {
    int b = n - 1;
    int64_t ostr[LD_SHAPE_MAXV];
    ld_strides(n, d, ostr);
    int64_t od[LD_SHAPE_MAXV], ois[LD_SHAPE_MAXV], oos[LD_SHAPE_MAXV];
    int no = 0;
    int64_t outer = 1;
    for (int i = 0; i < n; i++) {
        if (i == a || i == b) continue;
        od[no] = d[i];
        ois[no] = s[i];
        oos[no] = ostr[i];
        outer *= d[i];
        no++;
    }
    int64_t nb = (d[b] + TILE_Y - 1) / TILE_Y, items = outer * nb;
    bool par = outer * d[a] * d[b] * (int64_t)es > PAR_BYTES;
    #pragma omp parallel for if(par) schedule(static)
    for (int64_t it = 0; it < items; it++) {
        int64_t o = it / nb, y0 = (it % nb) * TILE_Y;
        int64_t idx[LD_SHAPE_MAXV], ioff = 0, ooff = 0;
        for (int i = no - 1; i >= 0; i--) {
            idx[i] = o % od[i];
            o /= od[i];
            ioff += idx[i] * ois[i];
            ooff += idx[i] * oos[i];
        }
        strip_transpose(dst + ooff * (int64_t)es, src + ioff * (int64_t)es, es, d[a], y0,
                        LD_MIN(y0 + TILE_Y, d[b]), ostr[a], s[b]);
    }
}

static ld_status copy_strings(char **dst, char *const *src, int n, const int64_t *d,
                              const int64_t *s) {
    int64_t total = ld_dims_numel(n, d), idx[LD_SHAPE_MAXV] = {0}, off = 0;
    for (int64_t i = 0; i < total; i++) {
        dst[i] = strdup(src[off] ? src[off] : "");
        if (!dst[i]) return ld_error(LD_ERR_NOMEM, "out of memory copying strings");
        off = view_next(n, d, s, idx, off);
    }
    return LD_OK;
}

ld_status ld_shape_strided_copy(void *dst, const void *src, ld_dtype dt, int nd,
                                const int64_t *dims, const int64_t *istr) {
    assert(nd <= LD_SHAPE_MAXV);
    size_t es = ld_dtype_size(dt);
    if (!es) return ld_error(LD_ERR_UNSUPPORTED, "unsupported dtype %s", ld_dtype_name(dt));
    for (int i = 0; i < nd; i++)
        if (dims[i] == 0) return LD_OK;
    int64_t d[LD_SHAPE_MAXV], s[LD_SHAPE_MAXV];
    int n = view_simplify(nd, dims, istr, d, s);
    if (dt == LD_STRING) return copy_strings(dst, src, n, d, s);
    if (n == 0) {
        memcpy(dst, src, es);
        return LD_OK;
    }
    int a = -1;
    if (s[n - 1] != 1 && d[n - 1] >= 4)
        for (int i = 0; i < n - 1; i++)
            if (s[i] == 1 && d[i] >= 4) a = i;
    if (a >= 0) copy_transposed(dst, src, es, n, d, s, a);
    else copy_rows(dst, src, es, n, d, s);
    return LD_OK;
}

ld_status ld_shape_copy_elems(void *dst, const void *src, ld_dtype dt, int64_t n) {
    if (dt == LD_STRING) {
        char **o = dst;
        char *const *p = src;
        for (int64_t i = 0; i < n; i++) {
            o[i] = strdup(p[i] ? p[i] : "");
            if (!o[i]) return ld_error(LD_ERR_NOMEM, "out of memory copying strings");
        }
        return LD_OK;
    }
    size_t es = ld_dtype_size(dt);
    if (!es) return ld_error(LD_ERR_UNSUPPORTED, "unsupported dtype %s", ld_dtype_name(dt));
    int64_t bytes = n * (int64_t)es;
    int64_t nchunk = bytes > 16 * PAR_BYTES ? 8 : 1;
    #pragma omp parallel for if(nchunk > 1) schedule(static)
    for (int64_t c = 0; c < nchunk; c++) {
        int64_t b0 = bytes * c / nchunk, b1 = bytes * (c + 1) / nchunk;
        memcpy((char *)dst + b0, (const char *)src + b0, (size_t)(b1 - b0));
    }
    return LD_OK;
}

ld_status ld_shape_copy_all(ld_tensor *dst, const ld_tensor *src) {
    assert(dst->numel == src->numel && dst->dtype == src->dtype);
    if (dst->data == src->data) return LD_OK;
    return ld_shape_copy_elems(dst->data, src->data, src->dtype, src->numel);
}

ld_status ld_shape_fill(void *dst, const void *val, ld_dtype dt, int64_t n) {
    if (n <= 0) return LD_OK;
    if (dt == LD_STRING) {
        char **o = dst;
        const char *v = *(char *const *)val;
        for (int64_t i = 0; i < n; i++) {
            o[i] = strdup(v ? v : "");
            if (!o[i]) return ld_error(LD_ERR_NOMEM, "out of memory filling strings");
        }
        return LD_OK;
    }
    size_t es = ld_dtype_size(dt);
    if (!es) return ld_error(LD_ERR_UNSUPPORTED, "unsupported dtype %s", ld_dtype_name(dt));
    char *o = dst;
    memcpy(o, val, es);
    int64_t done = 1;    /* doubling copies */
    while (done < n) {
        int64_t m = LD_MIN(done, n - done);
        memcpy(o + done * (int64_t)es, o, (size_t)(m * (int64_t)es));
        done += m;
    }
    return LD_OK;
}

ld_status ld_shape_strings_fill_empty(ld_tensor *t) {
    if (t->dtype != LD_STRING) return LD_OK;
    char **s = t->data;
    for (int64_t i = 0; i < t->numel; i++)
        if (!s[i] && !(s[i] = strdup("")))
            return ld_error(LD_ERR_NOMEM, "out of memory filling strings");
    return LD_OK;
}
