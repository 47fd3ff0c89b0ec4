#!/usr/bin/python3
"""Generate explicitly quantized (QDQ) versions of the bundled Fashion-MNIST models.

usage: gen_qdq_fixtures.py FLOAT.onnx ACTS.npz OUTDIR

FLOAT.onnx  fixtures/models/fmnist_resnet.onnx or fmnist_vit.onnx
ACTS.npz    every intermediate tensor of FLOAT.onnx on the calibration data, as written by
            `layerdiff run FLOAT.onnx --data ... --mark-all --save-outputs ACTS.npz`
OUTDIR      where STEM_qdq_int8.onnx, STEM_qdq_int4.onnx, STEM_qdq_fp8.onnx and
            STEM_qdq_int8_clip.onnx are written (STEM = FLOAT's file name without .onnx)

The models, each deterministic for given inputs:
  int8       per-channel symmetric INT8 weights stored as int8 initializers behind
             DequantizeLinear(axis = output channel); a QuantizeLinear -> DequantizeLinear pair
             on every activation input of Conv/Gemm/MatMul, per tensor, scale from the maximum
             over ACTS (uint8 with zero point 0 for non-negative tensors, symmetric int8
             otherwise); opset 17. Named the way ONNX Runtime's quantizer names them:
             T_QuantizeLinear / T_DequantizeLinear, outputs T_QuantizeLinear_Output ...
  int4       weight-only INT4: symmetric int4 blocks of 128 along the reduction axis behind
             DequantizeLinear(axis, block_size=128), activations left in float; opset 21.
  fp8        FP8 E4M3FN: weights per channel (scale amax/448) behind DequantizeLinear(axis),
             activations per tensor through QuantizeLinear with an FP8 zero point; opset 19.
  int8_clip  the int8 model with one planted fault: the activation quantizer of the tensor
             named in PLANTED (the first whose consumer is a single GEMM-like node with at least
             40% nonzero values) gets the scale that clips 30% of its values on ACTS. Its name
             is printed on stdout as "planted: TENSOR CONSUMER".

onnx 1.12 has no INT4 or FLOAT8 element types: those tensors are written with their
TensorProto data type numbers (FLOAT8E4M3FN = 17, INT4 = 22) and raw_data.
"""
import os
import sys
import numpy as np
import onnx
from onnx import helper, numpy_helper, TensorProto as TP

FLOAT8E4M3FN, INT4 = 17, 22
GEMMS = ('Conv', 'Gemm', 'MatMul')


# ---- FP8 E4M3FN (no infinities, 0x7f/0xff NaN, max 448), round to nearest even, saturating ----
def _e4m3_table():
    vals = []
    for code in range(0x7f):
        e, m = code >> 3, code & 7
        vals.append((m / 8.0) * 2.0 ** -6 if e == 0 else (1 + m / 8.0) * 2.0 ** (e - 7))
    return np.array(vals, dtype=np.float64)


E4M3 = _e4m3_table()


def f32_to_e4m3(x):
    x = np.asarray(x, dtype=np.float64)
    a = np.minimum(np.abs(x), 448.0)
    hi = np.clip(np.searchsorted(E4M3, a), 1, len(E4M3) - 1)
    lo = hi - 1
    dlo, dhi = a - E4M3[lo], E4M3[hi] - a
    code = np.where(dlo < dhi, lo, np.where(dhi < dlo, hi, np.where(lo % 2 == 0, lo, hi)))
    code = np.where(a <= E4M3[0], 0, code)
    return (code | np.where(np.signbit(x), 0x80, 0)).astype(np.uint8)


def e4m3_to_f32(c):
    c = np.asarray(c, dtype=np.uint8)
    v = E4M3[np.minimum(c & 0x7f, 0x7e)]
    return np.where(c & 0x80, -v, v).astype(np.float32)


def raw_tensor(name, dtype, dims, raw):
    t = onnx.TensorProto()
    t.name, t.data_type = name, dtype
    t.dims.extend(dims)
    t.raw_data = raw
    return t


def pack_int4(q):
    q = (q.astype(np.int16).ravel() & 0xf).astype(np.uint8)
    if q.size % 2:
        q = np.append(q, 0).astype(np.uint8)
    return (q[0::2] | (q[1::2] << 4)).astype(np.uint8).tobytes()


# ---- the float model's GEMM-like inputs ----
def weight_axes(node, w):
    """(output-channel axis, reduction axis) of the weight input of a GEMM-like node."""
    if node.op_type == 'Conv':
        return 0, 1
    if node.op_type == 'Gemm':
        tb = next((a.i for a in node.attribute if a.name == 'transB'), 0)
        return (0, 1) if tb else (1, 0)
    return w.ndim - 1, w.ndim - 2             # MatMul: [..., K, N]


def quant_inputs(model):
    """[(node, input index, is_weight)] of every float input of Conv/Gemm/MatMul but biases."""
    inits = {i.name for i in model.graph.initializer}
    out = []
    for n in model.graph.node:
        if n.op_type in GEMMS:
            for k in range(min(2, len(n.input))):
                out.append((n, k, n.input[k] in inits))
    return out


class Builder:
    def __init__(self, model):
        self.m = onnx.ModelProto()
        self.m.CopyFrom(model)
        self.g = self.m.graph
        self.inits = {i.name: i for i in self.g.initializer}
        self.new_nodes = {}        # tensor -> [nodes inserted before its first consumer]
        self.renamed = {}          # tensor -> dequantized name

    def add_init(self, t):
        self.g.initializer.append(t)

    def drop_init(self, name):
        t = self.inits.pop(name)
        self.g.initializer.remove(t)

    def pair(self, tensor, scale, zp, attrs=None):
        """Activation Q->DQ pair on tensor (one pair per tensor, shared by its consumers)."""
        if tensor in self.renamed:
            return
        s = tensor + '_scale'
        z = tensor + '_zero_point'
        self.add_init(numpy_helper.from_array(np.array(scale, dtype=np.float32), s))
        self.add_init(zp if isinstance(zp, onnx.TensorProto) else numpy_helper.from_array(zp, z))
        q = helper.make_node('QuantizeLinear', [tensor, s, z], [tensor + '_QuantizeLinear_Output'],
                             name=tensor + '_QuantizeLinear', **(attrs or {}))
        dq = helper.make_node('DequantizeLinear', [tensor + '_QuantizeLinear_Output', s, z],
                              [tensor + '_DequantizeLinear_Output'], name=tensor + '_DequantizeLinear')
        self.new_nodes[tensor] = [q, dq]
        self.renamed[tensor] = tensor + '_DequantizeLinear_Output'

    def weight(self, name, qtensor, scale, zp, axis, block_size=0):
        """Quantized weight initializer behind a DequantizeLinear."""
        if name in self.renamed:
            return
        self.drop_init(name)
        self.add_init(qtensor)
        s = name + '_scale'
        self.add_init(numpy_helper.from_array(scale.astype(np.float32), s))
        ins = [qtensor.name, s]
        if zp is not None:
            self.add_init(zp)
            ins.append(zp.name)
        attrs = {'axis': axis}
        if block_size:
            attrs['block_size'] = block_size
        dq = helper.make_node('DequantizeLinear', ins, [name + '_DequantizeLinear_Output'],
                              name=name + '_DequantizeLinear', **attrs)
        self.new_nodes[name] = [dq]
        self.renamed[name] = name + '_DequantizeLinear_Output'

    def finish(self, opset, producer):
        """Consumers read the dequantized names; inserted nodes go right before their first
        consumer (topological order kept)."""
        nodes, placed = [], set()
        for n in self.g.node:
            if n.op_type in GEMMS:
                for k in range(min(2, len(n.input))):
                    t = n.input[k]
                    if t in self.renamed:
                        if t not in placed:
                            nodes.extend(self.new_nodes[t])
                            placed.add(t)
                        n.input[k] = self.renamed[t]
            nodes.append(n)
        del self.g.node[:]
        self.g.node.extend(nodes)
        del self.m.opset_import[:]
        self.m.opset_import.extend([helper.make_opsetid('', opset)])
        self.m.producer_name = producer
        self.m.ir_version = 8 if opset <= 17 else (9 if opset <= 20 else 10)
        return self.m


def act_scale_int8(x):
    lo, hi = float(x.min()), float(x.max())
    if lo >= 0:
        return max(hi, 1e-8) / 255.0, np.array(0, dtype=np.uint8)
    return max(hi, -lo, 1e-8) / 127.0, np.array(0, dtype=np.int8)


def per_channel(w, axis, qmax):
    red = tuple(i for i in range(w.ndim) if i != axis)
    amax = np.abs(w).max(axis=red)
    scale = np.where(amax > 0, amax / qmax, 1.0).astype(np.float32)
    shape = [1] * w.ndim
    shape[axis] = -1
    return scale, scale.reshape(shape)


def make_int8(model, acts, clip=None):
    b = Builder(model)
    for n, k, is_w in quant_inputs(model):
        t = n.input[k]
        if is_w:
            w = numpy_helper.to_array(b.inits[t]).astype(np.float32)
            oc, _ = weight_axes(n, w)
            scale, sb = per_channel(w, oc, 127.0)
            q = np.clip(np.rint(w / sb), -127, 127).astype(np.int8)
            zp = numpy_helper.from_array(np.zeros(scale.shape, dtype=np.int8), t + '_zero_point')
            b.weight(t, numpy_helper.from_array(q, t + '_quantized'), scale, zp, oc)
        else:
            x = acts[t]
            scale, zp = act_scale_int8(x)
            if t == clip:
                thr = float(np.quantile(np.abs(x), 0.70))
                scale = thr / (255.0 if zp.dtype == np.uint8 else 127.0)
            b.pair(t, scale, zp)
    return b.finish(17, 'gen_qdq_fixtures int8' + (' clip' if clip else ''))


def make_int4(model, block=128):
    b = Builder(model)
    for n, k, is_w in quant_inputs(model):
        if not is_w:
            continue
        t = n.input[k]
        w = numpy_helper.to_array(b.inits[t]).astype(np.float32)
        _, red = weight_axes(n, w)
        d = w.shape[red]
        nb = (d + block - 1) // block
        pad = [(0, 0)] * w.ndim
        pad[red] = (0, nb * block - d)
        wp = np.pad(w, pad)
        shp = list(w.shape)
        shp[red:red + 1] = [nb, block]
        amax = np.abs(wp.reshape(shp)).max(axis=red + 1)
        scale = np.where(amax > 0, amax / 7.0, 1.0).astype(np.float32)
        full = np.repeat(scale, block, axis=red).take(range(d), axis=red)
        q = np.clip(np.rint(w / full), -8, 7).astype(np.int8)
        b.weight(t, raw_tensor(t + '_quantized', INT4, list(w.shape), pack_int4(q)), scale, None,
                 red, block_size=block)
    return b.finish(21, 'gen_qdq_fixtures int4 block %d' % block)


def make_fp8(model, acts):
    b = Builder(model)
    for n, k, is_w in quant_inputs(model):
        t = n.input[k]
        if is_w:
            w = numpy_helper.to_array(b.inits[t]).astype(np.float32)
            oc, _ = weight_axes(n, w)
            scale, sb = per_channel(w, oc, 448.0)
            q = f32_to_e4m3(w / sb)
            zp = raw_tensor(t + '_zero_point', FLOAT8E4M3FN, list(scale.shape), bytes(scale.size))
            b.weight(t, raw_tensor(t + '_quantized', FLOAT8E4M3FN, list(w.shape), q.tobytes()),
                     scale, zp, oc)
        else:
            amax = max(float(np.abs(acts[t]).max()), 1e-8)
            b.pair(t, amax / 448.0, raw_tensor(t + '_zero_point', FLOAT8E4M3FN, [], b'\0'))
    return b.finish(19, 'gen_qdq_fixtures fp8 e4m3fn')


def planted_tensor(model, acts):
    """First activation feeding exactly one GEMM-like node, with >= 40% nonzero values."""
    uses = {}
    for n in model.graph.node:
        for t in n.input:
            uses.setdefault(t, []).append(n)
    for n, k, is_w in quant_inputs(model):
        t = n.input[k]
        if not is_w and len(uses[t]) == 1 and np.mean(acts[t] != 0) >= 0.4:
            return t, n.name
    raise SystemExit('gen_qdq_fixtures: no activation fits the planted quantizer')


def main():
    if len(sys.argv) != 4:
        raise SystemExit(__doc__)
    src, npz, out = sys.argv[1:]
    model = onnx.load(src)
    acts = dict(np.load(npz))
    stem = os.path.splitext(os.path.basename(src))[0]
    os.makedirs(out, exist_ok=True)
    clip, consumer = planted_tensor(model, acts)
    for suffix, m in (('int8', make_int8(model, acts)), ('int4', make_int4(model)),
                      ('fp8', make_fp8(model, acts)), ('int8_clip', make_int8(model, acts, clip))):
        onnx.save(m, os.path.join(out, '%s_qdq_%s.onnx' % (stem, suffix)))
    print('planted: %s %s' % (clip, consumer))


if __name__ == '__main__':
    main()
