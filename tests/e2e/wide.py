#!/usr/bin/python3
"""A model whose nodes have 100 operands, for test_wide.sh: Sum and Concat of 100 inputs, a
Split into 100 outputs, and an If whose body sums the 100 outer-scope values. Values are small
integers (exact in FP16) except for m0 = x * -0.9, which gives autopin something to pin.
Writes wide.onnx, x_wide.npy and the expected outputs want.npz.
Usage: wide.py OUTDIR"""
import sys, numpy as np
from onnx import helper, TensorProto, numpy_helper as nh

out, W = sys.argv[1], 100
F = TensorProto.FLOAT
names = [f'm{i}' for i in range(W)]
nodes = [helper.make_node('Mul', ['x', f'c{i}'], [names[i]], name=f'mul{i}') for i in range(W)]
coef = [np.float32(-0.9)] + [np.float32(i % 4 - 1) for i in range(1, W)]
inits = [nh.from_array(np.array([coef[i]], np.float32), f'c{i}') for i in range(W)]
inits.append(nh.from_array(np.full(W, 4, np.int64), 'sizes'))
inits.append(nh.from_array(np.array(-1e9, np.float32), 'floor'))
nodes += [helper.make_node('Sum', names, ['s'], name='sum100'),
          helper.make_node('Concat', names, ['cat'], axis=1, name='concat100'),
          helper.make_node('Split', ['cat', 'sizes'], [f'p{i}' for i in range(W)], axis=1, name='split100'),
          helper.make_node('Max', [f'p{i}' for i in range(W)], ['mx'], name='max100'),
          helper.make_node('ReduceSum', ['x'], ['tot'], keepdims=0, name='tot'),
          helper.make_node('Greater', ['tot', 'floor'], ['cond'], name='cond')]
body = lambda tag: helper.make_graph([helper.make_node('Sum', names, [f'b_{tag}'], name=f'body_sum_{tag}')],
                                     f'body_{tag}', [], [helper.make_tensor_value_info(f'b_{tag}', F, None)])
nodes.append(helper.make_node('If', ['cond'], ['y_if'], then_branch=body('then'), else_branch=body('else'), name='if100'))
outs = [helper.make_tensor_value_info(n, F, None) for n in ('s', 'cat', 'mx', 'y_if')]
g = helper.make_graph(nodes, 'wide', [helper.make_tensor_value_info('x', F, ['N', 4])], outs, inits)
m = helper.make_model(g, opset_imports=[helper.make_opsetid('', 17)], producer_name='layerdiff-tests')
m.ir_version = 8
open(f'{out}/wide.onnx', 'wb').write(m.SerializeToString())

x = (np.arange(12, dtype=np.float32).reshape(3, 4) % 5) - 2
np.save(f'{out}/x_wide.npy', x)
ms = [x * coef[i] for i in range(W)]
np.savez(f'{out}/want.npz', s=sum(ms), cat=np.concatenate(ms, axis=1), mx=np.max(ms, axis=0), y_if=sum(ms))
