#!/usr/bin/python3
"""Generate the numpy reference tables the numeric unit tests compare against.

fixtures/numeric/f16_to_f32.bin   all 65536 half bit patterns -> float32 bits (numpy astype)
fixtures/numeric/f32_to_f16.bin   pairs (float32 bits, half bits) for every half value, the
                                  midpoints between neighbours (ties) and one float32 ulp either
                                  side of each midpoint, plus overflow/underflow edges
fixtures/numeric/f32_to_bf16.bin  the same for bfloat16 (numpy has no bfloat16: reference is
                                  round-to-nearest-even on the upper 16 bits, done in integer
                                  numpy arithmetic, NaN kept quiet)
Run: /usr/bin/python3 tools/gen_numeric_fixtures.py
"""
import numpy as np, os

out = os.path.join(os.path.dirname(__file__), '..', 'fixtures', 'numeric')
os.makedirs(out, exist_ok=True)

h = np.arange(65536, dtype=np.uint32).astype(np.uint16)
f = h.view(np.float16).astype(np.float32)
f.view(np.uint32).astype('<u4').tofile(os.path.join(out, 'f16_to_f32.bin'))

def probes(vals32):
    v = np.unique(vals32[np.isfinite(vals32)].astype(np.float64))
    mids = ((v[:-1] + v[1:]) / 2).astype(np.float32)
    bits = mids.view(np.uint32)
    near = np.concatenate([bits, bits + 1, bits - 1]).view(np.float32)
    extra = np.array([0.0, -0.0, np.inf, -np.inf, np.nan, 65504, 65519.99, 65520, 1e10, 3e-8, 2.98e-8,
                      5.96e-8, 1e-45, -1e-45, 3.4e38], dtype=np.float32)
    allv = np.concatenate([vals32, near, -near, extra]).astype(np.float32)
    return allv

fin = f[np.isfinite(f)]
x = probes(fin)
with np.errstate(over='ignore'):
    y = x.astype(np.float16)
np.stack([x.view(np.uint32), y.view(np.uint16).astype(np.uint32)], axis=1).astype('<u4').tofile(
    os.path.join(out, 'f32_to_f16.bin'))

b = (np.arange(65536, dtype=np.uint32) << 16).view(np.float32)
xb = probes(b[np.isfinite(b)])
# independent reference: the nearer of the two bf16 neighbours, measured in float64; ties to
# the even code; beyond the largest finite value the result is Inf (as IEEE rounding gives)
u = xb.view(np.uint32)
lo = (u >> 16).astype(np.uint32)
hi = lo + 1
vlo = (lo << 16).view(np.float32).astype(np.float64)
with np.errstate(invalid='ignore', over='ignore'):
    vhi = ((hi & 0xffff) << 16).astype(np.uint32).view(np.float32).astype(np.float64)
    # past the largest finite bf16 the next step is 2^128 (IEEE: round to Inf from there)
    top = (hi & 0x7fff) == 0x7f80
    vhi = np.where(top, np.copysign(2.0 ** 128, xb.astype(np.float64)), vhi)
    dlo = np.abs(xb.astype(np.float64) - vlo)
    dhi = np.abs(vhi - xb.astype(np.float64))
r = np.where(dlo < dhi, lo, np.where(dhi < dlo, hi, np.where(lo % 2 == 0, lo, hi))).astype(np.uint32)
nan = np.isnan(xb)
r[nan] = lo[nan] | 0x40
inf = np.isinf(xb)
r[inf] = lo[inf]
np.stack([xb.view(np.uint32), r], axis=1).astype('<u4').tofile(os.path.join(out, 'f32_to_bf16.bin'))
print('f32_to_f16 pairs', len(x), 'f32_to_bf16 pairs', len(xb))
