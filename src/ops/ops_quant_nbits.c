/*
** ops_quant_nbits.c — ONNX Runtime's com.microsoft contrib quantization ops that weight-only
** quantized LLM and QDQ models carry: MatMulNBits, and the contrib QuantizeLinear and
** DequantizeLinear (which run the standard kernels of ops_quant.c). Exports ld_ops_quant_nbits.
**
** MatMulNBits computes Y = A @ dequant(B)^T (+ bias), A float [..., K], Y [..., N]. B is the
** [N, K] weight block-quantized along K: uint8 [N, k_blocks, blob_size] with
** k_blocks = ceil(K / block_size) and blob_size = block_size * bits / 8, codes packed low bits
** first. Element (n, k) lies in block g = g_idx ? g_idx[k] : k / block_size and dequantizes as
** (code - zp) * scales[n, g], where zp is the uint8 zero point packed like the codes (row n
** holds ceil(k_blocks * bits / 8) bytes), or a float zero point of the scales' type, or
** 2^(bits - 1) (8 for 4-bit) when absent. Shapes and bits (2, 4 or 8) are checked as ONNX
** Runtime checks them (matmul_nbits_helper.h).
**
** B is dequantized to float32 in panels of NB_PANEL rows of N and multiplied with the float
** GEMM (ld_nn_sgemm), so the numbers do not depend on the thread count. accuracy_level is
** ignored: everything is float32 (ONNX Runtime's level 4 quantizes A to int8 and can differ).
*/
#include "ops_quant.h"
#include "ops_nn.h"

#include <stdlib.h>
#include <string.h>

#define NB_PANEL 256

typedef struct nbits_geom {
    int64_t K, N, bits, bs;        /* attributes */
    int64_t kb, blob, zpb;         /* k_blocks, bytes per block, packed zero point bytes per row */
    int64_t M;                     /* rows of A */
} nbits_geom;

/* Dims match want[0..nwant) exactly. */
static bool dims_are(const ld_tensor *t, int nwant, const int64_t *want) {
    if (t->ndim != nwant) return false;
    for (int d = 0; d < nwant; d++)
        if (t->dims[d] != want[d]) return false;
    return true;
}

/* A per-(n, block) parameter: [N * kb] (the older 1-D form) or [N, kb]. */
static ld_status nbits_check_2d(const ld_tensor *t, const char *what, int64_t n, int64_t c) {
    int64_t flat = n * c, two[2] = {n, c};
    if (dims_are(t, 1, &flat) || dims_are(t, 2, two)) return LD_OK;
    char b[128];
    return ld_error(LD_ERR_DATA, "%s has shape %s, expected [%lld] or [%lld, %lld]", what,
                    ld_shape_str(t, b, sizeof b), (long long)flat, (long long)n, (long long)c);
}

/* Attributes and input shapes (everything shape() can check without data). */
static ld_status nbits_geometry(ld_kctx *k, nbits_geom *g) {
    const ld_node *nd = k->node;
    if (k->nin > 6) return ld_error(LD_ERR_DATA, "has %d inputs, MatMulNBits takes 3 to 6", k->nin);
    static const char *const req[] = {"A", "B", "scales"};
    for (int i = 0; i < 3; i++)
        if (!LD_HAS_IN(k, i) || k->in[i]->kind != LD_KIND_TENSOR)
            return ld_error(LD_ERR_DATA, "required input %d (%s) is missing", i, req[i]);
    for (int i = 3; i < k->nin; i++)
        if (LD_HAS_IN(k, i) && k->in[i]->kind != LD_KIND_TENSOR)
            return ld_error(LD_ERR_DATA, "input %d is not a tensor", i);
    if (!LD_HAS_OUT(k, 0)) return ld_error(LD_ERR_DATA, "output 0 is required");
    g->K = ld_attr_int(nd, "K", -1);
    g->N = ld_attr_int(nd, "N", -1);
    g->bits = ld_attr_int(nd, "bits", 4);
    g->bs = ld_attr_int(nd, "block_size", -1);
    if (g->K <= 0 || g->N <= 0)
        return ld_error(LD_ERR_DATA, "attributes K and N must be given and positive (K=%lld, N=%lld)",
                        (long long)g->K, (long long)g->N);
    if (g->bits != 2 && g->bits != 4 && g->bits != 8)
        return ld_error(LD_ERR_DATA, "bits must be 2, 4 or 8, got %lld", (long long)g->bits);
    if (g->bs < 16 || (g->bs & (g->bs - 1)) || g->bs > (1 << 20))
        return ld_error(LD_ERR_DATA, "block_size must be a power of 2, at least 16, got %lld",
                        (long long)g->bs);
    if (g->K > ((int64_t)1 << 32) || g->N > ((int64_t)1 << 32))
        return ld_error(LD_ERR_DATA, "K=%lld or N=%lld is too large", (long long)g->K, (long long)g->N);
    g->kb = (g->K + g->bs - 1) / g->bs;
    g->blob = g->bs * g->bits / 8;
    g->zpb = (g->kb * g->bits + 7) / 8;

    char b1[128];
    const ld_tensor *a = k->in[0], *bq = k->in[1], *s = k->in[2];
    LD_TRY(ld_check_dtype(k, 0, LD_DT(LD_F32)));
    LD_TRY(ld_check_dtype(k, 2, LD_DT(LD_F32)));
    if (a->ndim < 1 || a->dims[a->ndim - 1] != g->K)
        return ld_error(LD_ERR_DATA, "input A %s does not end in K=%lld", ld_shape_str(a, b1, sizeof b1),
                        (long long)g->K);
    g->M = a->numel / g->K;
    int64_t bdims[3] = {g->N, g->kb, g->blob};
    if (bq->dtype != LD_U8)
        return ld_error(LD_ERR_DATA, "input B is %s, expected uint8", ld_dtype_name(bq->dtype));
    if (!dims_are(bq, 3, bdims))
        return ld_error(LD_ERR_DATA, "input B has shape %s, expected [N=%lld, k_blocks=%lld, blob_size=%lld]"
                        " for K=%lld, bits=%lld, block_size=%lld", ld_shape_str(bq, b1, sizeof b1),
                        (long long)g->N, (long long)g->kb, (long long)g->blob, (long long)g->K,
                        (long long)g->bits, (long long)g->bs);
    LD_TRY(nbits_check_2d(s, "input scales", g->N, g->kb));
    if (LD_HAS_IN(k, 3)) {
        const ld_tensor *z = k->in[3];
        if (z->dtype == LD_U8) LD_TRY(nbits_check_2d(z, "input zero_points (packed uint8)", g->N, g->zpb));
        else if (z->dtype != s->dtype)
            return ld_error(LD_ERR_DATA, "input zero_points is %s: it must be uint8 or the scales' type %s",
                            ld_dtype_name(z->dtype), ld_dtype_name(s->dtype));
        else LD_TRY(nbits_check_2d(z, "input zero_points", g->N, g->kb));
    }
    if (LD_HAS_IN(k, 4)) {
        const ld_tensor *gi = k->in[4];
        int64_t padded = g->kb * g->bs;
        if (gi->dtype != LD_I32)
            return ld_error(LD_ERR_DATA, "input g_idx is %s, expected int32", ld_dtype_name(gi->dtype));
        if (!dims_are(gi, 1, &g->K) && !dims_are(gi, 1, &padded))
            return ld_error(LD_ERR_DATA, "input g_idx has shape %s, expected [%lld] or [%lld]",
                            ld_shape_str(gi, b1, sizeof b1), (long long)g->K, (long long)padded);
    }
    if (LD_HAS_IN(k, 5)) {
        LD_TRY(ld_check_dtype(k, 5, LD_DT(LD_F32)));
        if (!dims_are(k->in[5], 1, &g->N))
            return ld_error(LD_ERR_DATA, "input bias has shape %s, expected [N=%lld]",
                            ld_shape_str(k->in[5], b1, sizeof b1), (long long)g->N);
    }
    return LD_OK;
}

static ld_status nbits_shape(ld_kctx *k) {
    nbits_geom g;
    LD_TRY(nbits_geometry(k, &g));
    const ld_tensor *a = k->in[0];
    int64_t dims[LD_MAX_DIMS];
    memcpy(dims, a->dims, sizeof(int64_t) * (size_t)a->ndim);
    dims[a->ndim - 1] = g.N;
    return ld_tensor_set_shape(k->out[0], LD_F32, a->ndim, dims);
}

/* Dequantize rows [n0, n0 + nr) of B into w ([nr, K] row-major). */
static void nbits_dequant_rows(const nbits_geom *g, const uint8_t *bq, const float *sc,
                               const uint8_t *zq, const float *zf, const int32_t *gidx,
                               int64_t n0, int64_t nr, float *w) {
    const unsigned mask = (1u << g->bits) - 1u;
    const float zdef = (float)(1 << (g->bits - 1));
    #pragma omp parallel for schedule(static) if (nr * g->K > 65536)
    for (int64_t r = 0; r < nr; r++) {
        int64_t n = n0 + r;
        const uint8_t *row = bq + n * g->kb * g->blob;
        float *wr = w + r * g->K;
        for (int64_t kk = 0; kk < g->K; kk++) {
            int64_t blk = kk / g->bs, j = kk % g->bs;
            int64_t bit = j * g->bits;
            unsigned q = (row[blk * g->blob + bit / 8] >> (bit % 8)) & mask;
            int64_t gb = gidx ? gidx[kk] : blk;
            float zp = zdef;
            if (zq) {
                int64_t zbit = gb * g->bits;
                zp = (float)((zq[n * g->zpb + zbit / 8] >> (zbit % 8)) & mask);
            } else if (zf) {
                zp = zf[n * g->kb + gb];
            }
            wr[kk] = ((float)q - zp) * sc[n * g->kb + gb];
        }
    }
}

static ld_status nbits_compute(ld_kctx *k) {
    nbits_geom g;
    LD_TRY(nbits_geometry(k, &g));
    const ld_tensor *zt = LD_HAS_IN(k, 3) ? k->in[3] : NULL;
    const int32_t *gidx = LD_HAS_IN(k, 4) ? k->in[4]->data : NULL;
    if (gidx)
        for (int64_t i = 0; i < k->in[4]->numel; i++)
            if (gidx[i] < 0 || gidx[i] >= g.kb)
                return ld_error(LD_ERR_DATA, "g_idx[%lld] is %d, outside [0, k_blocks=%lld)",
                                (long long)i, gidx[i], (long long)g.kb);
    const float *a = k->in[0]->data, *sc = k->in[2]->data;
    const uint8_t *bq = k->in[1]->data;
    const uint8_t *zq = zt && zt->dtype == LD_U8 ? zt->data : NULL;
    const float *zf = zt && zt->dtype != LD_U8 ? zt->data : NULL;
    const float *bias = LD_HAS_IN(k, 5) ? k->in[5]->data : NULL;
    float *y = LD_F32P(k->out[0]);
    if (g.M == 0) return LD_OK;
    int64_t panel = LD_MIN(NB_PANEL, g.N);
    float *w = malloc(sizeof(float) * (size_t)(panel * g.K));
    if (!w) return ld_error(LD_ERR_NOMEM, "out of memory for a %lld x %lld dequantized weight panel",
                            (long long)panel, (long long)g.K);
    for (int64_t n0 = 0; n0 < g.N; n0 += panel) {
        int64_t nr = LD_MIN(panel, g.N - n0);
        nbits_dequant_rows(&g, bq, sc, zq, zf, gidx, n0, nr, w);
        /* Y[:, n0:n0+nr] = A[M, K] @ W[nr, K]^T */
        ld_nn_sgemm(false, true, g.M, nr, g.K, 1.0f, a, g.K, w, g.K, 0.0f, y + n0, g.N);
    }
    free(w);
    if (bias) {
        #pragma omp parallel for schedule(static) if (g.M * g.N > 65536)
        for (int64_t m = 0; m < g.M; m++)
            for (int64_t n = 0; n < g.N; n++) y[m * g.N + n] += bias[n];
    }
    return LD_OK;
}

const ld_op_def ld_ops_quant_nbits[] = {
    {"com.microsoft", "MatMulNBits", 1, nbits_shape, nbits_compute, LD_OPF_F32_ONLY | LD_OPF_NOZERO_F32},
    {"com.microsoft", "QuantizeLinear", 1, ld_quant_quantize_shape, ld_quant_quantize_compute, 0},
    {"com.microsoft", "DequantizeLinear", 1, ld_quant_dequantize_shape, ld_quant_dequantize_compute, 0},
    {0},
};
