/*
** numeric.c — float32 <-> FP16 / BF16 / FP8 / FP4 / E8M0 conversions (see ld_numeric.h).
**
** All conversions are bit manipulations, round to nearest even, with no dependence on the
** FPU's rounding mode. Tested exhaustively against numpy/ml_dtypes tables in tests/unit.
*/
#include "ld_numeric.h"

#include <math.h>

uint16_t ld_f32_to_f16(float f) {
    uint32_t x = ld_f32_bits(f);
    uint32_t sign = (x >> 16) & 0x8000u;
    uint32_t ax = x & 0x7fffffffu;
    if (ax >= 0x7f800000u) {                       /* Inf or NaN */
        if (ax == 0x7f800000u) return (uint16_t)(sign | 0x7c00u);
        return (uint16_t)(sign | 0x7e00u | ((ax >> 13) & 0x3ffu));   /* quiet NaN, keep payload */
    }
    if (ax >= 0x477ff000u) return (uint16_t)(sign | 0x7c00u);         /* rounds to >= 65520: Inf */
    if (ax < 0x38800000u) {                        /* result subnormal or zero (|f| < 2^-14) */
        if (ax < 0x33000000u) return (uint16_t)sign;                   /* < 2^-25: rounds to 0 */
        uint32_t e = ax >> 23;                     /* 102..112 */
        uint32_t m = (ax & 0x7fffffu) | 0x800000u;
        uint32_t shift = 126 - e;                  /* value = m * 2^(e-150); unit = 2^-24 */
        uint32_t q = m >> shift;
        uint32_t rem = m & ((1u << shift) - 1);
        uint32_t half = 1u << (shift - 1);
        if (rem > half || (rem == half && (q & 1))) q++;
        return (uint16_t)(sign | q);
    }
    uint32_t r = ax + 0xfffu + ((ax >> 13) & 1u);  /* round to nearest even on bit 13 */
    r -= 0x38000000u;                              /* rebias 127 -> 15 */
    return (uint16_t)(sign | (r >> 13));
}

float ld_f16_to_f32(uint16_t h) {
    uint32_t sign = (uint32_t)(h & 0x8000u) << 16;
    uint32_t e = (h >> 10) & 0x1fu, m = h & 0x3ffu;
    if (e == 0x1f) return ld_bits_f32(sign | 0x7f800000u | (m << 13));
    if (e == 0) {
        if (m == 0) return ld_bits_f32(sign);
        float v = (float)m * 5.9604644775390625e-08f;   /* m * 2^-24 */
        return sign ? -v : v;
    }
    return ld_bits_f32(sign | ((e + 112) << 23) | (m << 13));
}

uint16_t ld_f32_to_bf16(float f) {
    uint32_t x = ld_f32_bits(f);
    if ((x & 0x7fffffffu) > 0x7f800000u) return (uint16_t)((x >> 16) | 0x40u);   /* quiet NaN */
    x += 0x7fffu + ((x >> 16) & 1u);
    return (uint16_t)(x >> 16);
}

/* Generic narrow-float encoder: value -> (sign, exponent bits, mantissa bits) with RNE.
 * ebits/mbits: field widths; bias; maxcode magnitude (largest finite code without sign).
 * Returns the magnitude code, or -1 when the value overflows past maxcode after rounding. */
static int narrow_encode(float a, int ebits, int mbits, int bias, int maxcode) {
    /* a is finite, >= 0 */
    if (a == 0.0f) return 0;
    int e2;
    (void)frexpf(a, &e2);                 /* a = fr * 2^e2, fr in [0.5, 1) */
    int exp = e2 - 1;                     /* a = (2*fr) * 2^exp, 2*fr in [1,2) */
    int emin = 1 - bias;                  /* smallest normal exponent */
    double scaled;
    int code;
    if (exp < emin) {                     /* subnormal range: units of 2^(emin - mbits) */
        scaled = ldexp((double)a, mbits - emin);
    } else {
        scaled = ldexp((double)a, mbits - exp);   /* in [2^mbits, 2^(mbits+1)) */
    }
    double q = floor(scaled);
    double rem = scaled - q;
    if (rem > 0.5 || (rem == 0.5 && fmod(q, 2.0) != 0.0)) q += 1.0;
    if (exp < emin) {
        code = (int)q;                    /* may become the smallest normal: fine, same encoding */
    } else {
        int64_t qi = (int64_t)q;
        if (qi >= (1 << (mbits + 1))) { qi >>= 1; exp++; }
        int ebiased = exp + bias;
        if (ebiased >= (1 << ebits)) return -1;
        code = (ebiased << mbits) | (int)(qi & ((1 << mbits) - 1));
    }
    if (code > maxcode) return -1;
    return code;
}

uint8_t ld_f32_to_f8e4m3fn(float f, bool saturate) {
    uint8_t sign = signbit(f) ? 0x80 : 0;
    if (isnan(f)) return 0x7f | sign;
    float a = fabsf(f);
    if (isinf(a)) return saturate ? (uint8_t)(sign | 0x7e) : (uint8_t)(sign | 0x7f);
    int c = narrow_encode(a, 4, 3, 7, 0x7e);
    if (c < 0) return saturate ? (uint8_t)(sign | 0x7e) : (uint8_t)(sign | 0x7f);
    return (uint8_t)(sign | c);
}

float ld_f8e4m3fn_to_f32(uint8_t v) {
    int s = v >> 7, e = (v >> 3) & 0xf, m = v & 7;
    if (e == 0xf && m == 7) return s ? -NAN : NAN;
    float r = e == 0 ? ldexpf((float)m, -9) : ldexpf((float)(8 + m), e - 10);
    return s ? -r : r;
}

uint8_t ld_f32_to_f8e4m3fnuz(float f, bool saturate) {
    if (isnan(f)) return 0x80;
    uint8_t sign = signbit(f) ? 0x80 : 0;
    float a = fabsf(f);
    if (isinf(a)) return saturate ? (uint8_t)(sign | 0x7f) : 0x80;
    int c = narrow_encode(a, 4, 3, 8, 0x7f);
    if (c < 0) return saturate ? (uint8_t)(sign | 0x7f) : 0x80;
    if (c == 0) return 0;                 /* no negative zero */
    return (uint8_t)(sign | c);
}

float ld_f8e4m3fnuz_to_f32(uint8_t v) {
    if (v == 0x80) return NAN;
    int s = v >> 7, e = (v >> 3) & 0xf, m = v & 7;
    float r = e == 0 ? ldexpf((float)m, -10) : ldexpf((float)(8 + m), e - 11);
    return s ? -r : r;
}

uint8_t ld_f32_to_f8e5m2(float f, bool saturate) {
    uint8_t sign = signbit(f) ? 0x80 : 0;
    if (isnan(f)) return 0x7f | sign;
    float a = fabsf(f);
    if (isinf(a)) return saturate ? (uint8_t)(sign | 0x7b) : (uint8_t)(sign | 0x7c);
    int c = narrow_encode(a, 5, 2, 15, 0x7b);
    if (c < 0) return saturate ? (uint8_t)(sign | 0x7b) : (uint8_t)(sign | 0x7c);
    return (uint8_t)(sign | c);
}

float ld_f8e5m2_to_f32(uint8_t v) {
    int s = v >> 7, e = (v >> 2) & 0x1f, m = v & 3;
    float r;
    if (e == 0x1f) r = m ? NAN : INFINITY;
    else r = e == 0 ? ldexpf((float)m, -16) : ldexpf((float)(4 + m), e - 17);
    return s ? -r : r;
}

uint8_t ld_f32_to_f8e5m2fnuz(float f, bool saturate) {
    if (isnan(f)) return 0x80;
    uint8_t sign = signbit(f) ? 0x80 : 0;
    float a = fabsf(f);
    if (isinf(a)) return saturate ? (uint8_t)(sign | 0x7f) : 0x80;
    int c = narrow_encode(a, 5, 2, 16, 0x7f);
    if (c < 0) return saturate ? (uint8_t)(sign | 0x7f) : 0x80;
    if (c == 0) return 0;
    return (uint8_t)(sign | c);
}

float ld_f8e5m2fnuz_to_f32(uint8_t v) {
    if (v == 0x80) return NAN;
    int s = v >> 7, e = (v >> 2) & 0x1f, m = v & 3;
    float r = e == 0 ? ldexpf((float)m, -17) : ldexpf((float)(4 + m), e - 18);
    return s ? -r : r;
}

uint8_t ld_f32_to_f4e2m1(float f) {
    uint8_t sign = signbit(f) ? 0x8 : 0;
    if (isnan(f)) return 0x8;             /* no NaN code: ONNX maps NaN to -0 */
    float a = fabsf(f);
    if (isinf(a)) return (uint8_t)(sign | 0x7);
    int c = narrow_encode(a, 2, 1, 1, 0x7);
    if (c < 0) c = 0x7;
    return (uint8_t)(sign | c);
}

float ld_f4e2m1_to_f32(uint8_t v) {
    static const float tab[8] = {0.0f, 0.5f, 1.0f, 1.5f, 2.0f, 3.0f, 4.0f, 6.0f};
    float r = tab[v & 7];
    return (v & 8) ? -r : r;
}

uint8_t ld_f32_to_f8e8m0(float f, bool saturate, int round_mode) {
    /* the exponent of |f| (the sign is dropped), rounded by the mantissa as asked */
    if (isnan(f)) return 0xff;
    if (isinf(f)) return saturate ? 0xfe : 0xff;
    uint32_t x = ld_f32_bits(f);
    uint32_t e = (x >> 23) & 0xff, m = x & 0x7fffff;
    if (round_mode == 0 && m) e++;        /* up */
    else if (round_mode == 2 && (m > 0x400000 || (m == 0x400000 && (e & 1)))) e++;
    if (e >= 0xff) return saturate ? 0xfe : 0xff;
    return (uint8_t)e;
}

float ld_f8e8m0_to_f32(uint8_t v) {
    if (v == 0xff) return NAN;
    if (v == 0) return ldexpf(1.0f, -127);
    return ld_bits_f32((uint32_t)v << 23);
}

void ld_f32_to_f16_n(const float *src, uint16_t *dst, int64_t n) {
    for (int64_t i = 0; i < n; i++) dst[i] = ld_f32_to_f16(src[i]);
}
void ld_f16_to_f32_n(const uint16_t *src, float *dst, int64_t n) {
    for (int64_t i = 0; i < n; i++) dst[i] = ld_f16_to_f32(src[i]);
}
#if defined(__x86_64__) || defined(__i386__)
#include <cpuid.h>
#include <immintrin.h>
/* F16C converts 8 values at once with round-to-nearest-even, Inf/NaN/subnormals kept; the
 * unit tests check it agrees with the bit-exact software conversion above. */
__attribute__((target("f16c,avx"))) static void round_f16_f16c(float *x, int64_t n) {
    int64_t i = 0;
    for (; i + 8 <= n; i += 8) {
        __m256 v = _mm256_loadu_ps(x + i);
        __m128i h = _mm256_cvtps_ph(v, _MM_FROUND_TO_NEAREST_INT);
        _mm256_storeu_ps(x + i, _mm256_cvtph_ps(h));
    }
    for (; i < n; i++) x[i] = ld_round_f16(x[i]);
}

static int have_f16c = -1;

bool ld_f16c_available(void) {
    /* F16C from CPUID leaf 1 (ECX bit 29): clang 14's __builtin_cpu_supports does not know
     * "f16c", and the fuzz harnesses are built with clang. "avx" also checks the OS saves
     * the YMM registers. */
    if (have_f16c < 0) {
        unsigned a, b, c = 0, d;
        have_f16c = __get_cpuid(1, &a, &b, &c, &d) && (c >> 29 & 1) && __builtin_cpu_supports("avx");
    }
    return have_f16c;
}
#else
bool ld_f16c_available(void) { return false; }
#endif

void ld_f32_round_f16_n_soft(float *x, int64_t n) {
    for (int64_t i = 0; i < n; i++) x[i] = ld_round_f16(x[i]);
}

void ld_f32_round_f16_n(float *x, int64_t n) {
#if defined(__x86_64__) || defined(__i386__)
    if (ld_f16c_available()) { round_f16_f16c(x, n); return; }
#endif
    ld_f32_round_f16_n_soft(x, n);
}

void ld_f32_round_bf16_n(float *x, int64_t n) {
    for (int64_t i = 0; i < n; i++) x[i] = ld_round_bf16(x[i]);
}
