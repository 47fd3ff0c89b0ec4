#!/usr/bin/python3
"""Small models with a planted precision problem, for the compare/autopin CLI tests.
  overflow.onnx  x -> Add -> MatMul(1e4 weights: output ~1e5 > 65504) -> Relu -> Mul(1e-3) -> MatMul -> y
  outlier.onnx   x -> Conv1 1x1 (channel 2 scaled by 1000) -> Relu -> Conv2 1x1 -> y (INT8 outlier channel)
  x_*.npy        inputs
Usage: planted.py OUTDIR"""
import sys, numpy as np
from onnx import helper, TensorProto, numpy_helper as nh

out = sys.argv[1]
rng = np.random.default_rng(0)

def save(nodes, inits, xshape, yshape, name):
    g = helper.make_graph(nodes, name, [helper.make_tensor_value_info('x', TensorProto.FLOAT, xshape)],
                          [helper.make_tensor_value_info('y', TensorProto.FLOAT, yshape)],
                          [nh.from_array(v.astype(np.float32), k) for k, v in inits.items()])
    m = helper.make_model(g, opset_imports=[helper.make_opsetid('', 17)], producer_name='layerdiff-tests')
    m.ir_version = 8
    open(f'{out}/{name}.onnx', 'wb').write(m.SerializeToString())

save([helper.make_node('Add', ['x', 'half'], ['a'], name='add0'),
      helper.make_node('MatMul', ['a', 'w1'], ['h'], name='mm1'),
      helper.make_node('Relu', ['h'], ['r'], name='relu'),
      helper.make_node('Mul', ['r', 'milli'], ['s'], name='scale'),
      helper.make_node('MatMul', ['s', 'w2'], ['y'], name='mm2')],
     {'half': np.array([0.5]), 'w1': np.full((16, 16), 1e4), 'milli': np.array([1e-3]),
      'w2': (np.arange(64).reshape(16, 4) % 5) * 0.01}, ['N', 16], ['N', 4], 'overflow')
np.save(f'{out}/x_overflow.npy', rng.random((4, 16), dtype=np.float32))

w1 = np.zeros((4, 4, 1, 1)); w2 = np.zeros((4, 4, 1, 1))
for o in range(4):
    w1[o, o] = 1000 if o == 2 else 1
    for i in range(4):
        w2[o, i] = 1e-4 if i == 2 else 0.25 + 0.1 * o
save([helper.make_node('Conv', ['x', 'w1'], ['h'], name='conv1'),
      helper.make_node('Relu', ['h'], ['r'], name='relu'),
      helper.make_node('Conv', ['r', 'w2'], ['y'], name='conv2')],
     {'w1': w1, 'w2': w2}, ['N', 4, 8, 8], ['N', 4, 8, 8], 'outlier')
np.save(f'{out}/x_outlier.npy', (0.5 + 0.5 * rng.random((2, 4, 8, 8))).astype(np.float32))
