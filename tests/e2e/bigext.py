#!/usr/bin/python3
"""A model whose external-data initializers add up to more than 2 GB, in a sparse file (the
holes cost no disk and read as zeros), for test_bigext.sh: three float32 vectors of 0.75 GiB
(A, B, C at offsets 0, 0.75 and 1.5 GiB: C starts past 2^31 bytes), a few
known values written at the indices the test gathers. y = Gather(A, i) + Gather(B, i) +
Gather(C, i). Writes big.onnx, big.bin, i.npy and want.npy.
Usage: bigext.py OUTDIR"""
import sys, numpy as np
from onnx import helper, TensorProto as TP

out = sys.argv[1]
N = 3 * 2 ** 26                                   # elements per vector: 0.75 GiB of float32
idx = np.array([0, 12345, N // 2 + 3, N - 1], np.int64)
inits, want = [], np.zeros(len(idx), np.float32)
with open(out + '/big.bin', 'wb') as f:
    f.truncate(3 * N * 4)                         # sparse: no blocks written yet
    for k, name in enumerate('ABC'):
        base = k * N * 4
        vals = (np.arange(len(idx), dtype=np.float32) + 1) * (10.0 ** k)
        for j, i in enumerate(idx):
            f.seek(base + int(i) * 4)
            f.write(vals[j:j + 1].tobytes())
        want += vals
        t = TP()
        t.name, t.data_type = name, TP.FLOAT
        t.dims.append(N)
        t.data_location = TP.EXTERNAL
        for key, v in (('location', 'big.bin'), ('offset', str(base)), ('length', str(N * 4))):
            e = t.external_data.add()
            e.key, e.value = key, v
        inits.append(t)
nodes = [helper.make_node('Gather', [n, 'i'], ['g' + n], name='gather_' + n) for n in 'ABC']
nodes.append(helper.make_node('Sum', ['gA', 'gB', 'gC'], ['y'], name='sum'))
g = helper.make_graph(nodes, 'bigext', [helper.make_tensor_value_info('i', TP.INT64, [len(idx)])],
                      [helper.make_tensor_value_info('y', TP.FLOAT, [len(idx)])], inits)
m = helper.make_model(g, opset_imports=[helper.make_opsetid('', 17)], producer_name='layerdiff-tests')
m.ir_version = 8
open(out + '/big.onnx', 'wb').write(m.SerializeToString())
np.save(out + '/i.npy', idx)
np.save(out + '/want.npy', want)
