#!/usr/bin/python3
"""The small model behind the browse/plot tests: 21 nodes, elementwise and reduction ops only
(no GEMM, so every machine computes the same bits), with an FP16 overflow planted in the
middle: /blocks.0/mlp/Pow squares values near 900 (> 65504 in FP16), the Inf propagates
through Sqrt and Div and is squashed by Tanh. /head/Split has two outputs.
Usage: make_planted.py OUT.onnx     (the committed planted.onnx was made with onnx 1.12)"""
import sys
import numpy as np
from onnx import helper, TensorProto, numpy_helper as nh

N = helper.make_node
nodes = [
    N('Mul', ['x', 'chscale'], ['s0'], name='/stem/Mul'),
    N('Add', ['s0', 'bias'], ['s1'], name='/stem/Add'),
    N('Relu', ['s1'], ['s2'], name='/stem/act/Relu'),
    N('ReduceMean', ['s2'], ['m0'], name='/blocks.0/norm/ReduceMean', axes=[1], keepdims=1),
    N('Sub', ['s2', 'm0'], ['d0'], name='/blocks.0/norm/Sub'),
    N('Mul', ['d0', 'd0'], ['q0'], name='/blocks.0/norm/Mul'),
    N('ReduceMean', ['q0'], ['v0'], name='/blocks.0/norm/ReduceMean_1', axes=[1], keepdims=1),
    N('Add', ['v0', 'eps'], ['v1'], name='/blocks.0/norm/Add'),
    N('Sqrt', ['v1'], ['v2'], name='/blocks.0/norm/Sqrt'),
    N('Div', ['d0', 'v2'], ['n0'], name='/blocks.0/norm/Div'),
    N('Mul', ['n0', 'gain'], ['u0'], name='/blocks.0/mlp/up_projection_with_a_long_descriptive_name/Mul'),
    N('Pow', ['u0', 'two'], ['u1'], name='/blocks.0/mlp/Pow'),
    N('Sqrt', ['u1'], ['u2'], name='/blocks.0/mlp/Sqrt'),
    N('Div', ['u2', 'gain'], ['u3'], name='/blocks.0/mlp/Div'),
    N('Tanh', ['u3'], ['u4'], name='/blocks.0/mlp/act/Tanh'),
    N('Add', ['n0', 'u4'], ['r0'], name='/blocks.0/Add_residual'),
    N('Split', ['r0'], ['h0', 'h1'], name='/head/Split', axis=1),
    N('Mul', ['h0', 'h1'], ['h2'], name='/head/Mul'),
    N('ReduceMean', ['h2'], ['h3'], name='/head/pool/ReduceMean', axes=[2, 3], keepdims=0),
    N('Sigmoid', ['h3'], ['h4'], name='/head/Sigmoid'),
    N('Softmax', ['h4'], ['y'], name='/head/Softmax', axis=1),
]
inits = {
    'chscale': np.array([1, 2, 0.5, 40], dtype=np.float32).reshape(1, 4, 1, 1),
    'bias': np.array([0.1, -0.2, 0.3, -0.4], dtype=np.float32).reshape(1, 4, 1, 1),
    'eps': np.array([1e-5], dtype=np.float32),
    'gain': np.array([180], dtype=np.float32),
    'two': np.array([2], dtype=np.float32),
}
g = helper.make_graph(nodes, 'planted',
                      [helper.make_tensor_value_info('x', TensorProto.FLOAT, [2, 4, 6, 6])],
                      [helper.make_tensor_value_info('y', TensorProto.FLOAT, [2, 2])],
                      [nh.from_array(v, k) for k, v in inits.items()])
m = helper.make_model(g, opset_imports=[helper.make_opsetid('', 13)], producer_name='layerdiff-tests')
m.ir_version = 7
open(sys.argv[1], 'wb').write(m.SerializeToString())
