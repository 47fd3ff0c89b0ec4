#!/usr/bin/python3
"""Write a model that is one long chain of N nodes alternating Relu and Add (x -> Relu -> Add c ->
Relu -> ...), to time load/plan/inspect on very long graphs (tools/bench.sh) and keep them
linear.  Run: /usr/bin/python3 tools/gen_chain.py N out.onnx"""
import sys
import numpy as np
from onnx import helper, TensorProto, numpy_helper

n, out = int(sys.argv[1]), sys.argv[2]
nodes, prev = [], 'x'
for i in range(n):
    cur = 'v%d' % i
    if i % 2 == 0:
        nodes.append(helper.make_node('Relu', [prev], [cur], name='relu%d' % i))
    else:
        nodes.append(helper.make_node('Add', [prev, 'c'], [cur], name='add%d' % i))
    prev = cur
g = helper.make_graph(nodes, 'chain%d' % n, [helper.make_tensor_value_info('x', TensorProto.FLOAT, [1, 8])],
                      [helper.make_tensor_value_info(prev, TensorProto.FLOAT, [1, 8])],
                      [numpy_helper.from_array(np.full(8, 0.5, np.float32), 'c')])
m = helper.make_model(g, opset_imports=[helper.make_opsetid('', 17)], producer_name='gen_chain')
m.ir_version = 8
with open(out, 'wb') as f:
    f.write(m.SerializeToString())
