#!/usr/bin/python3
"""Generate the com.microsoft quantization fixtures that tests/e2e/test_qops.sh runs.

fixtures/qops/NAME.onnx      a small model with one float32 input x and one output y
fixtures/qops/NAME_x.npy     its input
fixtures/qops/NAME_ref.npy   y computed here with numpy from the spec (ONNX Runtime's
                             docs/ContribOperators.md and its CPU kernels), so the test checks
                             layerdiff even where ONNX Runtime is not installed
fixtures/qops/bad_*.onnx     malformed MatMulNBits nodes layerdiff must reject (exit 65)

MatMulNBits: Y = A @ dequant(B)^T + bias, B [N, K] quantized in blocks of block_size along K,
codes packed low bits first into uint8 [N, k_blocks, block_size * bits / 8]; a block's value
is (code - zp) * scale with zp packed the same way per row (ceil(k_blocks * bits / 8) bytes),
or float, or 2^(bits-1) when absent. The weights are quantized here as ONNX Runtime's
quantizer does (asymmetric with zero points, symmetric around 8 without); K not a multiple of
block_size pads the last block. Run: /usr/bin/python3 tools/gen_qops_fixtures.py
"""
import os
import numpy as np
import onnx
from onnx import helper, numpy_helper, TensorProto as TP

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'fixtures', 'qops')
rng = np.random.default_rng(20261206)


def save(name, nodes, inits, x, ref, ydtype=TP.FLOAT, ms_version=1):
    xi = helper.make_tensor_value_info('x', TP.FLOAT, list(x.shape))
    yo = helper.make_tensor_value_info('y', ydtype, None)
    g = helper.make_graph(nodes, name, [xi], [yo], initializer=inits)
    m = helper.make_model(g, opset_imports=[helper.make_opsetid('', 17),
                                            helper.make_opsetid('com.microsoft', ms_version)],
                          producer_name='gen_qops_fixtures')
    m.ir_version = 8
    onnx.save(m, os.path.join(OUT, name + '.onnx'))
    if x is not None:
        np.save(os.path.join(OUT, name + '_x.npy'), x.astype(np.float32))
    if ref is not None:
        np.save(os.path.join(OUT, name + '_ref.npy'), ref)


def pack(codes, bits):
    """codes [..., L] (ints < 2^bits) -> uint8 [..., ceil(L * bits / 8)], low bits first."""
    L = codes.shape[-1]
    nbytes = (L * bits + 7) // 8
    out = np.zeros(codes.shape[:-1] + (nbytes,), np.uint8)
    for j in range(L):
        bit = j * bits
        out[..., bit // 8] |= (codes[..., j].astype(np.uint8) << (bit % 8)).astype(np.uint8)
    return out


def quantize_weight(w, bits, bs, zp_kind):
    """w [N, K] float32 -> (B [N, kb, blob], scales [N, kb], zp or None, dequantized W [N, K])."""
    N, K = w.shape
    kb = (K + bs - 1) // bs
    qmax = 2 ** bits - 1
    wp = np.zeros((N, kb * bs), np.float32)
    wp[:, :K] = w
    blocks = wp.reshape(N, kb, bs)
    valid = (np.arange(kb * bs) < K).reshape(kb, bs)
    if zp_kind is None:                           # symmetric around 2^(bits-1)
        amax = np.where(valid, np.abs(blocks), 0).max(-1)
        scale = (amax / (2 ** (bits - 1) - 1)).astype(np.float32)
        scale[scale == 0] = 1
        zpv = np.full((N, kb), 2 ** (bits - 1), np.float32)
    else:                                         # asymmetric, range including 0
        lo = np.minimum(np.where(valid, blocks, np.inf).min(-1), 0)
        hi = np.maximum(np.where(valid, blocks, -np.inf).max(-1), 0)
        scale = ((hi - lo) / qmax).astype(np.float32)
        scale[scale == 0] = 1
        zpv = np.clip(np.round(-lo / scale), 0, qmax).astype(np.float32)
        if zp_kind == 'float':                    # float zero points need not be integers
            zpv = (zpv + rng.uniform(-0.4, 0.4, zpv.shape)).astype(np.float32)
    codes = np.clip(np.round(blocks / scale[..., None]) + np.round(zpv)[..., None], 0, qmax)
    codes = np.where(valid, codes, 0).astype(np.uint8)
    B = pack(codes.reshape(N * kb, bs), bits).reshape(N, kb, bs * bits // 8)
    deq = ((codes.astype(np.float32) - zpv[..., None]) * scale[..., None]).reshape(N, kb * bs)[:, :K]
    zp = None
    if zp_kind == 'uint8':
        zp = pack(zpv.astype(np.uint8), bits)
    elif zp_kind == 'float':
        zp = zpv
    return B, scale, zp, deq.astype(np.float32)


def matmul_nbits(name, xshape, N, bs, bits=4, zp_kind=None, bias=False, scales_1d=False,
                 g_idx=False):
    K = xshape[-1]
    w = rng.normal(0, 0.5, (N, K)).astype(np.float32)
    B, scale, zp, deq = quantize_weight(w, bits, bs, zp_kind)
    kb = B.shape[1]
    inits = [numpy_helper.from_array(B, 'B'),
             numpy_helper.from_array(scale.reshape(-1) if scales_1d else scale, 'scales')]
    ins = ['x', 'B', 'scales']
    if zp is not None:
        inits.append(numpy_helper.from_array(zp, 'zp'))
        ins.append('zp')
    gidx = None
    if g_idx:
        # act-order: element k uses the scale and zero point of group gidx[k]; the codes were
        # quantized with block k // bs, so the model's result is recomputed from the codes
        gidx = rng.integers(0, kb, K).astype(np.int32)
        if len(ins) == 3:
            ins.append('')
        inits.append(numpy_helper.from_array(gidx, 'g_idx'))
        ins.append('g_idx')
    b = None
    if bias:
        b = rng.normal(0, 1, N).astype(np.float32)
        inits.append(numpy_helper.from_array(b, 'bias'))
        ins += [''] * (5 - len(ins)) + ['bias']
    if gidx is not None:                          # dequantize again with the regrouped params
        codes = unpack_codes(B, bits, K)
        zpf = (unpack_codes(zp[:, None, :], bits, kb) if zp_kind == 'uint8' else
               zp if zp_kind == 'float' else np.full((N, kb), 2 ** (bits - 1), np.float32))
        deq = ((codes.astype(np.float32) - zpf[:, gidx].astype(np.float32)) * scale[:, gidx]).astype(np.float32)
    node = helper.make_node('MatMulNBits', ins, ['y'], name='mmnb', domain='com.microsoft',
                            K=K, N=N, bits=bits, block_size=bs, accuracy_level=0)
    x = rng.normal(0, 1, xshape).astype(np.float32)
    ref = x.astype(np.float64) @ deq.astype(np.float64).T
    if b is not None:
        ref = ref + b
    save(name, [node], inits, x, ref.astype(np.float32))


def matmul_nbits_f16(name, xshape, N, bs):
    """float16 A, scales and bias (ONNX Runtime's T1 = float16), between two Casts."""
    K = xshape[-1]
    w = rng.normal(0, 0.5, (N, K)).astype(np.float32)
    B, scale, zp, _ = quantize_weight(w, 4, bs, 'uint8')
    s16 = scale.astype(np.float16)
    b16 = rng.normal(0, 1, N).astype(np.float16)
    codes = unpack_codes(B, 4, K).astype(np.float32)
    zpf = unpack_codes(zp[:, None, :], 4, B.shape[1]).astype(np.float32)
    blk = np.arange(K) // bs
    deq = ((codes - zpf[:, blk]) * s16.astype(np.float32)[:, blk]).astype(np.float32)
    x = rng.normal(0, 1, xshape).astype(np.float32)
    ref = x.astype(np.float16).astype(np.float64) @ deq.astype(np.float64).T + b16.astype(np.float64)
    inits = [numpy_helper.from_array(B, 'B'), numpy_helper.from_array(s16, 'scales'),
             numpy_helper.from_array(zp, 'zp'), numpy_helper.from_array(b16, 'bias')]
    nodes = [helper.make_node('Cast', ['x'], ['x16'], name='to16', to=TP.FLOAT16),
             helper.make_node('MatMulNBits', ['x16', 'B', 'scales', 'zp', '', 'bias'], ['y16'],
                              name='mmnb', domain='com.microsoft', K=K, N=N, bits=4,
                              block_size=bs, accuracy_level=0),
             helper.make_node('Cast', ['y16'], ['y'], name='to32', to=TP.FLOAT)]
    save(name, nodes, inits, x, ref.astype(np.float16).astype(np.float32))


def unpack_codes(B, bits, K):
    """uint8 [N, kb, blob] -> codes [N, K] (inverse of pack, blocks concatenated)."""
    N = B.shape[0]
    flat = B.reshape(N, -1)
    k = np.arange(K)
    bs_elems = B.shape[2] * 8 // bits
    blk, j = k // bs_elems, k % bs_elems
    bit = j * bits
    byte = flat[:, blk * B.shape[2] + bit // 8]
    return (byte >> (bit % 8)) & (2 ** bits - 1)


def quant_ref(x, scale, zp, axis, lo, hi):
    if np.ndim(scale) == 1 and x.ndim > 1:
        shp = [1] * x.ndim
        shp[axis] = -1
        scale, zp = scale.reshape(shp), zp.reshape(shp)
    q = np.rint(x / scale) + zp                 # numpy rint: round half to even
    return np.clip(q, lo, hi), scale


UINT4, INT4 = 21, 22            # TensorProto numbers (this python3-onnx predates them)


def int4_tensor(v, dtype, name):
    """A 4-bit initializer: two values a byte, the first in the low nibble."""
    flat = (v.reshape(-1).astype(np.int64) & 15).astype(np.uint8)
    if flat.size % 2:
        flat = np.append(flat, np.uint8(0))
    t = onnx.TensorProto()
    t.name, t.data_type = name, dtype
    t.dims.extend(v.shape)
    t.raw_data = (flat[0::2] | (flat[1::2] << 4)).astype(np.uint8).tobytes()
    return t


def ms_qdq(name, xshape, qtype, lo, hi, per_axis=False, axis=1, dq=True):
    x = rng.normal(0, 2, xshape).astype(np.float32)
    npt = {TP.UINT8: np.uint8, TP.INT8: np.int8, TP.UINT16: np.uint16, TP.INT16: np.int16,
           UINT4: np.uint8, INT4: np.int8}[qtype]
    if per_axis:
        c = xshape[axis]
        scale = (rng.uniform(0.5, 2, c) * 8 / (hi - lo)).astype(np.float32)
        zp = rng.integers(lo // 4 + hi // 4, hi // 2 + 1, c).astype(npt) if lo == 0 else np.zeros(c, npt)
    else:
        scale = np.float32(4.0 * 2 / (hi - lo))
        zp = npt((lo + hi + 1) // 2)
    q, sb = quant_ref(x, scale.astype(np.float32), np.asarray(zp).astype(np.float32), axis, lo, hi)
    inits = [numpy_helper.from_array(np.asarray(scale, np.float32), 's'),
             int4_tensor(np.asarray(zp, npt), qtype, 'zp') if qtype in (UINT4, INT4) else
             numpy_helper.from_array(np.asarray(zp, npt), 'zp')]
    kw = {'axis': axis} if per_axis else {}
    nodes = [helper.make_node('QuantizeLinear', ['x', 's', 'zp'], ['q' if dq else 'y'],
                              name='q', domain='com.microsoft', **kw)]
    if dq:
        nodes.append(helper.make_node('DequantizeLinear', ['q', 's', 'zp'], ['y'], name='dq',
                                      domain='com.microsoft', **kw))
        zb = np.asarray(zp).astype(np.float32)
        if per_axis:
            shp = [1] * len(xshape)
            shp[axis] = -1
            zb = zb.reshape(shp)
        ref = ((q - zb) * sb).astype(np.float32)
        save(name, nodes, inits, x, ref)
    else:
        save(name, nodes, inits, x, q.astype(npt), ydtype=qtype)


def dynquant(name, xshape):
    x = rng.normal(0.3, 1.5, xshape).astype(np.float32)
    mn, mx = min(x.min(), 0), max(x.max(), 0)
    scale = np.float32((mx - mn) / np.float32(255))
    zp = np.clip(np.rint(np.float32(0) - mn / scale), 0, 255)
    ref = np.clip(np.rint(x / scale) + zp, 0, 255).astype(np.uint8)
    node = helper.make_node('DynamicQuantizeLinear', ['x'], ['y', 'ys', 'yz'], name='dql')
    save(name, [node], [], x, ref, ydtype=TP.UINT8)


def bad(name, xshape, N, bs, bits=4, bshape=None, drop_scales=False, gidx_max=None):
    K = xshape[-1]
    kb = (K + bs - 1) // bs
    B = np.zeros(bshape or (N, kb, bs * 4 // 8), np.uint8)
    inits = [numpy_helper.from_array(B, 'B'),
             numpy_helper.from_array(np.ones((N, kb), np.float32), 'scales')]
    ins = ['x', 'B'] if drop_scales else ['x', 'B', 'scales']
    if gidx_max is not None:                      # a group index past the last block
        inits.append(numpy_helper.from_array(np.full(K, gidx_max, np.int32), 'g_idx'))
        ins += ['', 'g_idx']
    node = helper.make_node('MatMulNBits', ins, ['y'], name='bad_mmnb', domain='com.microsoft',
                            K=K, N=N, bits=bits, block_size=bs)
    save(name, [node], [t for t in inits if t.name in ins], np.zeros(xshape, np.float32), None)


os.makedirs(OUT, exist_ok=True)
matmul_nbits('nbits_b32_zp', (3, 64), 24, 32, zp_kind='uint8')
matmul_nbits('nbits_b16_sym_bias', (2, 3, 48), 20, 16, bias=True)
matmul_nbits('nbits_b128_kpad_zp_bias', (4, 200), 17, 128, zp_kind='uint8', bias=True)
matmul_nbits('nbits_b32_k80_zp', (5, 80), 9, 32, zp_kind='uint8', scales_1d=True)
matmul_nbits('nbits_b16_floatzp', (3, 40), 12, 16, zp_kind='float')
matmul_nbits('nbits_b32_gidx_sym', (2, 96), 8, 32, g_idx=True, bias=True)
matmul_nbits('nbits_b16_gidx_floatzp', (3, 64), 7, 16, zp_kind='float', g_idx=True)
# ONNX Runtime 1.31 reads packed uint8 zero points as 8 when g_idx is given (its CPU reorder
# path drops the value it reads): test_qops.sh checks this one against numpy only
matmul_nbits('nbits_b32_gidx_zp', (2, 96), 8, 32, zp_kind='uint8', g_idx=True)
matmul_nbits('nbits_b32_8bit_zp', (3, 64), 10, 32, bits=8, zp_kind='uint8')
# N above the kernel's 256-row panel, big enough to run on several threads
matmul_nbits('nbits_b64_panels_zp_bias', (70, 256), 300, 64, zp_kind='uint8', bias=True)
matmul_nbits_f16('nbits_b32_f16_zp_bias', (3, 96), 16, 32)
matmul_nbits('nbits_b64_2bit', (2, 128), 6, 64, bits=2)
ms_qdq('msqdq_u8_tensor', (2, 3, 5), TP.UINT8, 0, 255)
ms_qdq('msqdq_i8_axis', (2, 4, 5), TP.INT8, -128, 127, per_axis=True)
ms_qdq('msqdq_u16_axis', (3, 6), TP.UINT16, 0, 65535, per_axis=True)
ms_qdq('msqdq_i16_tensor', (4, 7), TP.INT16, -32768, 32767)
ms_qdq('msqdq_i4_tensor', (3, 5), INT4, -8, 7)
ms_qdq('msqdq_u4_axis', (2, 3, 4), UINT4, 0, 15, per_axis=True)
ms_qdq('msq_i8_axis', (2, 4, 5), TP.INT8, -128, 127, per_axis=True, dq=False)
ms_qdq('msq_u8_tensor', (6, 5), TP.UINT8, 0, 255, dq=False)
dynquant('dynquant', (4, 9))
bad('bad_bshape', (2, 64), 8, 32, bshape=(8, 2, 8))
bad('bad_bits3', (2, 64), 8, 32, bits=3)
bad('bad_noscales', (2, 64), 8, 32, drop_scales=True)
bad('bad_gidx', (2, 64), 8, 32, gidx_max=2)
print('wrote', len(os.listdir(OUT)), 'files to fixtures/qops')
