#!/usr/bin/python3
"""Reference tables for the block-scaled formats (tests/unit/test_blockfmt.c), written from
the specs with numpy, independently of the C code:

- FP4 E2M1 (OCP MX v1.0 section 5.3.3; ONNX FLOAT4E2M1): values 0, 0.5, 1, 1.5, 2, 3, 4, 6;
  round to nearest, ties to the even code; beyond 6 (and Inf) saturate to +-6; NaN -> -0
  (code 0x8, as the ONNX reference).
- FP8 E4M3FN (OCP MX v1.0 / OFP8): bias 7, subnormals 2^-9 steps, max 448 (no Inf; S.1111.111
  is NaN); round to nearest, ties to even, saturating.
- OCP MX v1.0 section 6.3: X = 2^(floor(log2(max|V|)) - emax_elem) with emax_elem 8 (E4M3)
  or 2 (E2M1); the exponent is clamped to E8M0's minimum -127 (an all-zero block too);
  P_i = elem(V_i / X), X * P_i is the value. A block with Inf/NaN has a NaN scale: all NaN.
- NVFP4 (NVIDIA, as ModelOpt/TensorRT quantize it): g = amax_tensor / (6 * 448) over the
  finite values (FP32); per block of 16: s_b = e4m3((amax_block / 6) / g); scale = s_b * g
  (FP32); values e2m1(x / scale) * scale; scale 0 -> zeros (signed).
- W4A16: s = amax_block / 7 (FP32); q = clip(rint(x / s), -8, 7); value q * s; s = 0 -> zeros.
All arithmetic is float32 in the order written above (C does the same float32 operations).

Files (little-endian), in fixtures/numeric/:
  e2m1_f16.bin   u32 nscales, f32 scales[nscales], then per scale 65536 u8 codes: the E2M1
                 code of (x / scale) in float32 for x = every float16 bit pattern as float32.
  blockfmt.bin   cases: u32 kind (1 int4, 2 nvfp4, 3 mxfp8, 4 mxfp4), u32 len, u32 block,
                 f32 g (nvfp4's per-tensor scale, else 0), f32 in[len], f32 out[len],
                 f32 scale[ceil(len / block)] (decode scale of each block).
Run: /usr/bin/python3 tools/gen_blockfmt_fixtures.py
"""
import os, struct
import numpy as np

F = np.float32
out = os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'fixtures', 'numeric')

E2M1 = np.array([0, 0.5, 1, 1.5, 2, 3, 4, 6], np.float64)
E4M3 = np.array([m * 2.0 ** -9 for m in range(8)] +
                [(8 + m) * 2.0 ** (e - 10) for e in range(1, 16) for m in range(8) if not (e == 15 and m == 7)])


def grid_code(v, grid):
    """Code (index into the ascending positive grid, sign bit separate) of each float32 v:
    nearest, ties to the even index, saturating at the top; returns (sign, index)."""
    v = np.asarray(v, np.float32).astype(np.float64)
    sign = np.signbit(v)
    a = np.abs(v)
    a = np.where(np.isnan(a), 0.0, a)
    hi = np.clip(np.searchsorted(grid, a, side='left'), 0, len(grid) - 1)   # grid[hi] >= a
    lo = np.clip(hi - 1, 0, len(grid) - 1)
    dlo, dhi = a - grid[lo], grid[hi] - a
    pick = np.where(dlo < dhi, lo, np.where(dhi < dlo, hi, np.where(lo % 2 == 0, lo, hi)))
    pick = np.where(a >= grid[-1], len(grid) - 1, pick)                      # saturate
    return sign, pick


def round_grid(v, grid):
    sign, idx = grid_code(v, grid)
    r = grid[idx].astype(np.float32)
    return np.where(sign, -r, r).astype(np.float32)


def e2m1_codes(v):
    v = np.asarray(v, np.float32)
    sign, idx = grid_code(v, E2M1)
    c = (idx + np.where(sign, 8, 0)).astype(np.uint8)
    return np.where(np.isnan(v), np.uint8(8), c).astype(np.uint8)


def e4m3(v):
    return round_grid(v, E4M3)


def e2m1(v):
    return round_grid(v, E2M1)


def floor_log2(a):
    """floor(log2(a)) of a positive finite float32, exactly (frexp: a = m 2^e, m in [0.5, 1))."""
    return int(np.frexp(np.float64(a))[1]) - 1


def block_quant(kind, x, g):
    x = np.asarray(x, np.float32)
    if not np.all(np.isfinite(x)):
        return np.full(x.shape, np.nan, np.float32), F(np.nan)
    amax = F(np.max(np.abs(x))) if x.size else F(0)
    with np.errstate(divide='ignore', invalid='ignore', over='ignore'):
        if kind == 1:
            s = F(amax / F(7))
            if s == 0:
                return np.copysign(np.zeros_like(x), x), s
            q = np.clip(np.rint(x / s), -8, 7).astype(np.float32)
            return (q * s).astype(np.float32), s
        if kind == 2:
            s = F(0)
            if g > 0 and np.isfinite(g):
                s = F(e4m3(F(F(amax / F(6)) / g))[()] * g)
            if s == 0:
                return np.copysign(np.zeros_like(x), x), s
            return (e2m1(x / s) * s).astype(np.float32), s
        emax = 8 if kind == 3 else 2
        e = -127 if amax == 0 else max(floor_log2(amax) - emax, -127)
        s = F(2.0 ** e)
        p = e4m3(x / s) if kind == 3 else e2m1(x / s)
        return (p * s).astype(np.float32), s


def nvfp4_global(x):
    x = np.asarray(x, np.float32)
    f = np.abs(x[np.isfinite(x)])
    m = F(f.max()) if f.size else F(0)
    return F(m / F(6 * 448))


def tensor_quant(kind, x, block):
    g = nvfp4_global(x) if kind == 2 else F(0)
    y = np.empty_like(x)
    scales = []
    for b0 in range(0, len(x), block):
        yb, s = block_quant(kind, x[b0:b0 + block], g)
        y[b0:b0 + block] = yb
        scales.append(s)
    return g, y, np.array(scales, np.float32)


def edge_blocks(rng, n):
    """Random and edge-case blocks of length n."""
    f16 = np.arange(65536, dtype=np.uint16).view(np.float16).astype(np.float32)
    fin16 = f16[np.isfinite(f16)]
    sub = np.array([1e-45, 1.4e-45, 1e-40, 1.17e-38, 5.9e-39], np.float32)
    cases = [np.zeros(n, F), -np.zeros(n, F)]
    for p in (-140, -127, -126, -20, -1, 0, 1, 5, 8, 20, 100, 127):
        b = rng.uniform(-1, 1, n).astype(F) * F(2.0 ** p)
        b[rng.integers(n)] = F(2.0 ** p)                      # amax exactly a power of two
        cases.append(b)
        c = b.copy(); c[rng.integers(n)] = F(np.nextafter(F(2.0 ** p), F(0)))
        cases.append(c)
    for special in (np.inf, -np.inf, np.nan):
        b = rng.normal(0, 1, n).astype(F); b[rng.integers(n)] = special
        cases.append(b)
    cases.append(rng.choice(sub, n).astype(F) * rng.choice([-1, 1], n).astype(F))
    cases.append(rng.choice(fin16, n).astype(F))
    b = rng.normal(0, 1, n).astype(F); b[0] = F(3.4e38); cases.append(b)      # huge amax
    for _ in range(4):
        cases.append((rng.standard_t(3, n) * 10.0 ** rng.uniform(-6, 6)).astype(F))
        cases.append(rng.choice(fin16, n).astype(F) * F(2.0 ** rng.integers(-30, 30)))
    # ties: values exactly halfway between element codes at the block's scale
    b = rng.choice(E2M1, n).astype(F) + F(0.25); b[0] = F(6); cases.append(b)
    return cases


def main():
    os.makedirs(out, exist_ok=True)
    rng = np.random.default_rng(20261206)
    x = np.arange(65536, dtype=np.uint16).view(np.float16).astype(np.float32)
    scales = np.array([1.0, 2.0 ** -24, 0.375, 1.7], np.float32)
    with open(os.path.join(out, 'e2m1_f16.bin'), 'wb') as f:
        f.write(struct.pack('<I', len(scales)))
        f.write(scales.astype('<f4').tobytes())
        with np.errstate(divide='ignore', invalid='ignore', over='ignore'):
            for s in scales:
                f.write(e2m1_codes((x / s).astype(np.float32)).tobytes())
    ncase = 0
    with open(os.path.join(out, 'blockfmt.bin'), 'wb') as f:
        for kind, blocks in ((1, (128, 32, 7)), (2, (16,)), (3, (32,)), (4, (32,))):
            for block in blocks:
                for length in (block, 2 * block + block // 2 + 1):
                    for b in edge_blocks(rng, length):
                        g, y, s = tensor_quant(kind, b, block)
                        f.write(struct.pack('<IIIf', kind, length, block, g))
                        f.write(b.astype('<f4').tobytes() + y.astype('<f4').tobytes() + s.astype('<f4').tobytes())
                        ncase += 1
    print('wrote e2m1_f16.bin (%d scales) and blockfmt.bin (%d cases)' % (len(scales), ncase))


if __name__ == '__main__':
    main()
