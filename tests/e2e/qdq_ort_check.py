#!/usr/bin/python3
"""Cross-check a QDQ model of tools/gen_qdq_fixtures.py between layerdiff and ONNX Runtime
(tests/e2e/test_qdq.sh).

  qdq_ort_check.py prep MODEL OUT.onnx           MODEL with every activation quantizer's input
                                                 and DequantizeLinear output as graph outputs
  qdq_ort_check.py qonly MODEL ORTDIR OUTDIR     OUTDIR/qonly.onnx: the quantizers alone (input
                                                 in_K -> QuantizeLinear -> DequantizeLinear ->
                                                 dq_K), OUTDIR/in_K.npy: ONNX Runtime's inputs
                                                 of each quantizer; prints the input names
  qdq_ort_check.py check MODEL LD.npz ORTDIR     whole model: top-1 identical; every quantizer
                                                 reported (rounding flips propagate and grow
                                                 downstream, so only the first is held to one
                                                 step in <= 0.1% of elements)
  qdq_ort_check.py checkq MODEL LD.npz ORTDIR    quantizers on the same inputs: the quantized
                                                 values at most one step apart in at most 0.1%
                                                 of the elements
Quantized values are compared as steps: DequantizeLinear output / scale (integers), or FP8
E4M3FN code ordinals. LD.npz: `layerdiff run --mark-all --save-outputs`; ORTDIR:
tools/ort_run_all.js. Prints "ok<TAB>what" / "not ok<TAB>what<TAB>detail" / "#<TAB>info".
"""
import json, os, sys
import numpy as np
import onnx
from onnx import helper, numpy_helper

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', '..', 'tools'))
from gen_qdq_fixtures import E4M3   # noqa: E402  the positive E4M3FN values by code

SUF = '_DequantizeLinear_Output'


def say(good, what, detail=''):
    print('%s\t%s\t%s' % ('ok' if good else 'not ok', what, str(detail)[:300]))


def pairs(m):
    """[(tensor, Q node, DQ node)] of the activation quantizers."""
    prod = {o: n for n in m.graph.node for o in n.output}
    out = []
    for n in m.graph.node:
        if n.op_type == 'DequantizeLinear' and n.input[0] in prod and prod[n.input[0]].op_type == 'QuantizeLinear':
            q = prod[n.input[0]]
            out.append((q.input[0], q, n))
    return out


def steps(dq, scale, fp8):
    v = dq.astype(np.float64) / scale
    if not fp8:
        return np.rint(v).astype(np.int64)
    idx = np.abs(np.abs(v)[..., None] - E4M3[None, :]).argmin(axis=-1)
    return np.where(v < 0, -idx, idx).astype(np.int64)


def load_ort(d):
    names = json.load(open(os.path.join(d, 'names.json')))
    return {n: np.load(os.path.join(d, '%d.npy' % k)) for k, n in enumerate(names)}


def compare(m, ld, ort, key_of):
    """Per quantizer: (tensor, max step difference, fraction of elements that differ)."""
    inits = {t.name: t for t in m.graph.initializer}
    res = []
    for k, (t, q, dq) in enumerate(pairs(m)):
        s, z = inits[q.input[1]], inits[q.input[2]]
        scale = float(numpy_helper.to_array(s))
        fp8 = z.data_type == 17
        a, b = steps(ld[key_of(k, dq)], scale, fp8), steps(ort[key_of(k, dq)], scale, fp8)
        d = np.abs(a - b)
        res.append((t, int(d.max()), float(np.mean(d > 0))))
    return res


cmd = sys.argv[1]
m = onnx.load(sys.argv[2])
if cmd == 'prep':
    seen = set()
    for t, q, dq in pairs(m):
        for name in (t, dq.output[0]):
            if name not in seen:
                m.graph.output.append(helper.make_tensor_value_info(name, 1, None))
                seen.add(name)
    onnx.save(m, sys.argv[3])
elif cmd == 'qonly':
    ort, out = load_ort(sys.argv[3]), sys.argv[4]
    inits = {t.name: t for t in m.graph.initializer}
    nodes, ins, outs, used = [], [], [], []
    for k, (t, q, dq) in enumerate(pairs(m)):
        np.save(os.path.join(out, 'in_%d.npy' % k), ort[t].astype(np.float32))
        ins.append(helper.make_tensor_value_info('in_%d' % k, 1, list(ort[t].shape)))
        outs.append(helper.make_tensor_value_info('dq_%d' % k, 1, None))
        nodes.append(helper.make_node('QuantizeLinear', ['in_%d' % k, q.input[1], q.input[2]], ['q_%d' % k]))
        nodes.append(helper.make_node('DequantizeLinear', ['q_%d' % k, q.input[1], q.input[2]], ['dq_%d' % k]))
        used += [q.input[1], q.input[2]]
    g = helper.make_graph(nodes, 'quantizers', ins, outs, initializer=[inits[u] for u in dict.fromkeys(used)])
    qm = helper.make_model(g, opset_imports=list(m.opset_import), producer_name='qdq_ort_check')
    qm.ir_version = m.ir_version
    onnx.save(qm, os.path.join(out, 'qonly.onnx'))
    print(' '.join('in_%d' % k for k in range(len(pairs(m)))))
elif cmd == 'check':
    ld, ort = np.load(sys.argv[3]), load_ort(sys.argv[4])
    res = compare(m, ld, ort, lambda k, dq: dq.output[0])
    for t, mx, fr in res:
        print('#\t%s: max %d steps apart, %.4f%% of elements differ' % (t, mx, 100 * fr))
    if res:
        t, mx, fr = res[0]
        say(mx <= 1 and fr <= 0.001, 'first quantizer (%s) within one step in <= 0.1%% of elements' % t, '%d steps, %.4f%%' % (mx, 100 * fr))
    out0 = m.graph.output[0].name
    a, b = ld[out0].argmax(axis=1), ort[out0].argmax(axis=1)
    say(bool((a == b).all()), 'top-1 of %s identical on %d samples' % (out0, len(a)), '%d differ' % int((a != b).sum()))
elif cmd == 'checkq':
    ld, ort = np.load(sys.argv[3]), load_ort(sys.argv[4])
    res = compare(m, ld, ort, lambda k, dq: 'dq_%d' % k)
    bad = [(t, mx, fr) for t, mx, fr in res if mx > 1 or fr > 0.001]
    worst = max(res, key=lambda r: r[2]) if res else ('', 0, 0.0)
    say(res and not bad, '%d quantizers on the same inputs: at most one step apart in at most 0.1%% of elements (worst %.4f%% at %s)'
        % (len(res), 100 * worst[2], worst[0]), bad[:3])
