/*
** ops_misc_random.c — random generators: RandomNormal, RandomUniform, RandomNormalLike,
** RandomUniformLike, Multinomial, Bernoulli. Registered with LD_OPF_NOFOLD.
**
** The generator is deterministic so that runs are reproducible (layerdiff compares runs):
** xoshiro256** seeded through splitmix64 from a 64-bit seed, restarted on every call. The
** seed is the bit pattern of the float `seed` attribute when present, else the FNV-1a hash of
** the node name (distinct nodes draw distinct streams). Uniform doubles are the top 53 bits
** scaled to [0, 1); normals use the Box-Muller transform. The values therefore never match
** onnxruntime's or numpy's generators, only their distributions.
*/
#include "ops_misc.h"
#include "ld_numeric.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

typedef struct rng { uint64_t s[4]; double spare; bool has_spare; } rng;

static uint64_t splitmix64(uint64_t *x) {
    uint64_t z = (*x += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

static uint64_t rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }

static uint64_t rng_next(rng *r) {
    uint64_t *s = r->s, res = rotl(s[1] * 5, 7) * 9, t = s[1] << 17;
    s[2] ^= s[0]; s[3] ^= s[1]; s[1] ^= s[2]; s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotl(s[3], 45);
    return res;
}

static void rng_init(rng *r, const ld_node *n) {
    const ld_attr *a = ld_node_attr(n, "seed");
    uint64_t seed;
    if (a) {
        seed = ld_f32_bits(a->type == LD_ATTR_INT ? (float)a->i : a->f);
    } else {
        seed = 0xcbf29ce484222325ull;   // FNV-1a of the node name
        for (const char *p = n->name; *p; p++) seed = (seed ^ (uint8_t)*p) * 0x100000001b3ull;
    }
    for (int i = 0; i < 4; i++) r->s[i] = splitmix64(&seed);
    r->has_spare = false;
}

static double rng_uniform(rng *r) { return (double)(rng_next(r) >> 11) * 0x1.0p-53; }

static double rng_normal(rng *r) {
    if (r->has_spare) { r->has_spare = false; return r->spare; }
    double u1 = 1.0 - rng_uniform(r), u2 = rng_uniform(r);   // u1 in (0, 1]
    double rad = sqrt(-2.0 * log(u1));
    r->spare = rad * sin(2 * M_PI * u2);
    r->has_spare = true;
    return rad * cos(2 * M_PI * u2);
}

/* ---- RandomNormal / RandomUniform (+Like) ---- */

static ld_status rand_float_dtype(ld_dtype t) {
    if (t == LD_F32 || t == LD_F64 || t == LD_F16 || t == LD_BF16) return LD_OK;
    return ld_error(LD_ERR_DATA, "random ops produce float16/bfloat16/float/double, not %s", ld_dtype_name(t));
}

ld_status ld_misc_rand_shape(ld_kctx *k) {
    LD_TRY(ld_misc_need(k, 0));
    int n;
    const int64_t *shape = ld_attr_ints(k->node, "shape", &n);
    if (!shape && !ld_node_attr(k->node, "shape"))
        return ld_error(LD_ERR_DATA, "%s: missing 'shape' attribute", k->node->op_type);
    ld_dtype dt = (ld_dtype)ld_attr_int(k->node, "dtype", LD_F32);
    LD_TRY(rand_float_dtype(dt));
    return ld_tensor_set_shape(k->out[0], dt, n, shape);
}

ld_status ld_misc_rand_like_shape(ld_kctx *k) {
    LD_TRY(ld_misc_need(k, 1));
    const ld_tensor *x = k->in[0];
    ld_dtype dt = (ld_dtype)ld_attr_int(k->node, "dtype", x->dtype);
    LD_TRY(rand_float_dtype(dt));
    return ld_tensor_set_shape(k->out[0], dt, x->ndim, x->dims);
}

ld_status ld_misc_rand_normal_compute(ld_kctx *k) {
    rng r;
    rng_init(&r, k->node);
    double mean = ld_attr_float(k->node, "mean", 0.0f), scale = ld_attr_float(k->node, "scale", 1.0f);
    for (int64_t i = 0; i < k->out[0]->numel; i++) ld_tensor_set_f64(k->out[0], i, mean + scale * rng_normal(&r));
    return LD_OK;
}

ld_status ld_misc_rand_uniform_compute(ld_kctx *k) {
    rng r;
    rng_init(&r, k->node);
    double lo = ld_attr_float(k->node, "low", 0.0f), hi = ld_attr_float(k->node, "high", 1.0f);
    for (int64_t i = 0; i < k->out[0]->numel; i++) ld_tensor_set_f64(k->out[0], i, lo + (hi - lo) * rng_uniform(&r));
    return LD_OK;
}

/* ---- Multinomial ---- */

ld_status ld_misc_multinomial_shape(ld_kctx *k) {
    LD_TRY(ld_misc_need(k, 1));
    const ld_tensor *x = k->in[0];
    LD_TRY(ld_check_dtype(k, 0, LD_DT_FLOATS));
    if (x->ndim != 2) return ld_error(LD_ERR_DATA, "Multinomial: input must be (batch, classes)");
    ld_dtype dt = (ld_dtype)ld_attr_int(k->node, "dtype", LD_I32);
    if (dt != LD_I32 && dt != LD_I64) return ld_error(LD_ERR_DATA, "Multinomial: dtype must be int32 or int64");
    int64_t od[2] = {x->dims[0], ld_attr_int(k->node, "sample_size", 1)};   // (batch, samples)
    if (od[1] < 0) return ld_error(LD_ERR_DATA, "Multinomial: sample_size must be non-negative");
    return ld_tensor_set_shape(k->out[0], dt, 2, od);
}

/* Each row of the input holds unnormalised log-probabilities. */
ld_status ld_misc_multinomial_compute(ld_kctx *k) {
    const ld_tensor *x = k->in[0];
    int64_t b = x->dims[0], c = x->dims[1], ns = k->out[0]->dims[1];
    double *cdf = malloc(sizeof(double) * (c + 1));
    if (!cdf) return ld_oom();
    rng r;
    rng_init(&r, k->node);
    for (int64_t i = 0; i < b; i++) {
        double mx = -INFINITY, sum = 0;
        for (int64_t j = 0; j < c; j++) mx = fmax(mx, ld_tensor_get_f64(x, i * c + j));
        for (int64_t j = 0; j < c; j++) cdf[j] = (sum += exp(ld_tensor_get_f64(x, i * c + j) - mx));
        for (int64_t s = 0; s < ns; s++) {
            double u = rng_uniform(&r) * sum;
            int64_t j = 0;
            while (j < c - 1 && cdf[j] <= u) j++;
            ld_tensor_set_f64(k->out[0], i * ns + s, (double)j);
        }
    }
    free(cdf);
    return LD_OK;
}

/* ---- Bernoulli ---- */

ld_status ld_misc_bernoulli_shape(ld_kctx *k) {
    LD_TRY(ld_misc_need(k, 1));
    const ld_tensor *x = k->in[0];
    LD_TRY(ld_check_dtype(k, 0, LD_DT_FLOATS));
    ld_dtype dt = (ld_dtype)ld_attr_int(k->node, "dtype", x->dtype);
    if ((unsigned)dt >= LD_DTYPE_COUNT || !(ld_dtype_is_float(dt) || ld_dtype_is_int(dt) || dt == LD_BOOL))
        return ld_error(LD_ERR_DATA, "Bernoulli: dtype %d is not numeric or bool", (int)dt);
    return ld_tensor_set_shape(k->out[0], dt, x->ndim, x->dims);
}

/* 1 with probability p (the input element), else 0. */
ld_status ld_misc_bernoulli_compute(ld_kctx *k) {
    rng r;
    rng_init(&r, k->node);
    for (int64_t i = 0; i < k->in[0]->numel; i++)
        ld_tensor_set_f64(k->out[0], i, rng_uniform(&r) < ld_tensor_get_f64(k->in[0], i) ? 1.0 : 0.0);
    return LD_OK;
}
