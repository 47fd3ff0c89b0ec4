/*
** ld_numeric.h — bit-exact conversions between float32 and the narrow float formats.
**
** FP16 (IEEE binary16) and BF16 round to nearest even, overflow to ±Inf, keep subnormals,
** Inf and NaN. FP8 E4M3FN / E5M2 (and the FNUZ variants) follow the ONNX float8 spec:
** with saturate=true values beyond the format's max clamp to ±max (Inf too, for E4M3FN), and
** with saturate=false they become NaN (E4M3FN) or ±Inf (E5M2).
**
** Layer: core (see tests/tools/check_layers.sh).
*/
#ifndef LD_NUMERIC_H
#define LD_NUMERIC_H

#include <stdint.h>
#include <stdbool.h>
#include <string.h>

static inline uint32_t ld_f32_bits(float f) { uint32_t u; memcpy(&u, &f, 4); return u; }
static inline float ld_bits_f32(uint32_t u) { float f; memcpy(&f, &u, 4); return f; }

uint16_t ld_f32_to_f16(float f);
float ld_f16_to_f32(uint16_t h);
uint16_t ld_f32_to_bf16(float f);
static inline float ld_bf16_to_f32(uint16_t b) { return ld_bits_f32((uint32_t)b << 16); }

uint8_t ld_f32_to_f8e4m3fn(float f, bool saturate);
float ld_f8e4m3fn_to_f32(uint8_t v);
uint8_t ld_f32_to_f8e4m3fnuz(float f, bool saturate);
float ld_f8e4m3fnuz_to_f32(uint8_t v);
uint8_t ld_f32_to_f8e5m2(float f, bool saturate);
float ld_f8e5m2_to_f32(uint8_t v);
uint8_t ld_f32_to_f8e5m2fnuz(float f, bool saturate);
float ld_f8e5m2fnuz_to_f32(uint8_t v);
uint8_t ld_f32_to_f4e2m1(float f);          /* 4-bit code in the low nibble */
float ld_f4e2m1_to_f32(uint8_t v);
uint8_t ld_f32_to_f8e8m0(float f, bool saturate, int round_mode); /* 0 up, 1 down, 2 nearest */
float ld_f8e8m0_to_f32(uint8_t v);

/* Round a float32 to the nearest representable value of the narrow format, in float32. */
static inline float ld_round_f16(float f) { return ld_f16_to_f32(ld_f32_to_f16(f)); }
static inline float ld_round_bf16(float f) { return ld_bf16_to_f32(ld_f32_to_bf16(f)); }
/* FP8 E4M3FN and FP4 E2M1, round to nearest even, saturating to ±448 / ±6 (Inf too); E2M1
 * has no NaN: NaN becomes -0 (as the ONNX reference). */
static inline float ld_round_e4m3(float f) { return ld_f8e4m3fn_to_f32(ld_f32_to_f8e4m3fn(f, true)); }
static inline float ld_round_e2m1(float f) { return ld_f4e2m1_to_f32(ld_f32_to_f4e2m1(f)); }

/* Bulk conversions. */
void ld_f32_to_f16_n(const float *src, uint16_t *dst, int64_t n);
void ld_f16_to_f32_n(const uint16_t *src, float *dst, int64_t n);
void ld_f32_round_f16_n(float *x, int64_t n);    /* in place (F16C when the CPU has it) */
void ld_f32_round_f16_n_soft(float *x, int64_t n);   /* in place, software only */
bool ld_f16c_available(void);
void ld_f32_round_bf16_n(float *x, int64_t n);   /* in place */

#endif
