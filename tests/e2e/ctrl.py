#!/usr/bin/python3
"""Control-flow fixtures for test_ctrl.sh (random weights, written to OUTDIR, never committed).

if_const.onnx: the network lives in the then_branch of If 'If_0' whose condition is a constant
  initializer: Conv_3 -> Relu_4 -> nested If 'If_1' (constant false: else_branch Mul_s2, reading
  the then_branch's own initializer) -> Loop 'Loop_2' (2 iterations, its body reads Relu_4's
  output from the branch) -> Mul_5 -> Big_6 (x 1e5: overflows FP16) -> Div_7 (back down).
  The branch's second output is its own initializer 's' (the inliner adds an Identity).
  The untaken else_branch has different nodes. Outputs y = Sigmoid(If out 0), aux.
if_input.onnx: same body, but the condition is sum(x) > 0, computed from the input.
loop_grow.onnx: a Loop whose body overflows FP16 from its fifth iteration on.
if_write.onnx: a constant-condition If without a Loop in the branch, for --write-model.
x.npy: the input; x_same.npz: 4 runs that all take then_branch; x_mixed.npz: runs 1 and 2 of 4
  take else_branch.
Usage: ctrl.py OUTDIR"""
import sys, numpy as np
from onnx import helper, TensorProto as TP, numpy_helper as nh

out = sys.argv[1]
rng = np.random.default_rng(7)
F = TP.FLOAT
vi = lambda n, s=None: helper.make_tensor_value_info(n, F, s)


def then_branch():
    nested = helper.make_node('If', ['flag'], ['i1'], name='If_1',
        then_branch=helper.make_graph([helper.make_node('Neg', ['r'], ['n1'], name='Neg_0')], 'then_1', [], [vi('n1')]),
        else_branch=helper.make_graph([helper.make_node('Mul', ['r', 's2'], ['m1'], name='Mul_s2')], 'else_1', [], [vi('m1')]))
    loop_body = helper.make_graph(
        [helper.make_node('Identity', ['c_in'], ['c_out'], name='keep'),
         helper.make_node('Add', ['v', 'r'], ['v_out'], name='acc')], 'loop_body',
        [helper.make_tensor_value_info('it', TP.INT64, []), helper.make_tensor_value_info('c_in', TP.BOOL, []), vi('v')],
        [helper.make_tensor_value_info('c_out', TP.BOOL, []), vi('v_out')])
    nodes = [helper.make_node('Conv', ['x', 'W'], ['c'], name='Conv_3', pads=[1, 1, 1, 1]),
             helper.make_node('Relu', ['c'], ['r'], name='Relu_4'), nested,
             helper.make_node('Loop', ['trips', '', 'i1'], ['lp'], name='Loop_2', body=loop_body),
             helper.make_node('Mul', ['lp', 's'], ['o5'], name='Mul_5'),
             helper.make_node('Mul', ['o5', 'big'], ['o6'], name='Big_6'),
             helper.make_node('Div', ['o6', 'big'], ['o'], name='Div_7')]
    inits = [nh.from_array(np.array([0.5], np.float32), 's'), nh.from_array(np.array([1.5], np.float32), 's2'),
             nh.from_array(np.array(2, np.int64), 'trips'), nh.from_array(np.array([1e5], np.float32), 'big')]
    return helper.make_graph(nodes, 'then_0', [], [vi('o'), vi('s')], inits)


def else_branch():
    return helper.make_graph([helper.make_node('Identity', ['x'], ['e0'], name='Other'),
                              helper.make_node('ReduceMax', ['x'], ['e1'], keepdims=0, axes=[0, 1, 2, 3], name='Other_max')], 'else_0', [], [vi('e0'), vi('e1')])


W = (rng.standard_normal((3, 3, 3, 3)) * 0.3).astype(np.float32)


def model(const_cond):
    inits = [nh.from_array(W, 'W'),
             nh.from_array(np.array(False), 'flag')]
    nodes = []
    if const_cond:
        inits.append(nh.from_array(np.array(True), 'cond'))
    else:
        inits.append(nh.from_array(np.array(0, np.float32), 'floor'))
        nodes += [helper.make_node('ReduceSum', ['x'], ['tot'], keepdims=0, name='tot'),
                  helper.make_node('Greater', ['tot', 'floor'], ['cond'], name='cond')]
    nodes += [helper.make_node('If', ['cond'], ['y_if', 'aux'], name='If_0', then_branch=then_branch(),
                               else_branch=else_branch()),
              helper.make_node('Sigmoid', ['y_if'], ['y'], name='Sig')]
    g = helper.make_graph(nodes, 'ctrl', [vi('x', [1, 3, 8, 8])], [vi('y', [1, 3, 8, 8]), vi('aux')], inits)
    m = helper.make_model(g, opset_imports=[helper.make_opsetid('', 17)], producer_name='layerdiff-tests')
    m.ir_version = 8
    return m


def writable():
    """No Loop (--write-model refuses other subgraphs): If_0 (constant true) -> Relu_4, nested
    If_1 (constant false) -> Mul by the branch's s2, body_mul (x 1e5: overflows FP16), body_scale
    (x 1e-5)."""
    v4 = lambda n: vi(n, [1, 3, 8, 8])
    nested = helper.make_node('If', ['flag'], ['i1'], name='If_1',
        then_branch=helper.make_graph([helper.make_node('Neg', ['r'], ['n1'], name='Neg_0')], 'then_1', [], [v4('n1')]),
        else_branch=helper.make_graph([helper.make_node('Mul', ['r', 's2'], ['m1'], name='Mul_s2')], 'else_1', [], [v4('m1')],
                                      [nh.from_array(np.array([1.5], np.float32), 's2')]))
    tb = helper.make_graph([helper.make_node('Relu', ['x'], ['r'], name='Relu_4'), nested,
                            helper.make_node('Mul', ['i1', 'big'], ['m'], name='body_mul'),
                            helper.make_node('Mul', ['m', 'small'], ['o'], name='body_scale')], 'then_0', [],
                           [v4('o')], [nh.from_array(np.array([1e5], np.float32), 'big'),
                                                        nh.from_array(np.array([1e-5], np.float32), 'small')])
    eb = helper.make_graph([helper.make_node('Identity', ['x'], ['e'], name='Other')], 'else_0', [], [v4('e')])
    g = helper.make_graph([helper.make_node('If', ['cond'], ['y_if'], name='If_0', then_branch=tb, else_branch=eb),
                           helper.make_node('Sigmoid', ['y_if'], ['y'], name='Sig')], 'writable', [v4('x')],
                          [v4('y')], [nh.from_array(np.array(True), 'cond'), nh.from_array(np.array(False), 'flag')])
    m = helper.make_model(g, opset_imports=[helper.make_opsetid('', 17)], producer_name='layerdiff-tests')
    m.ir_version = 8
    return m


def loop_grow():
    """Loop 'grow' (8 iterations) multiplying by 10 each time: FP16 overflows from iteration 4
    (0-based) on, for x in (0.66, 1)."""
    body = helper.make_graph([helper.make_node('Identity', ['c_in'], ['c_out'], name='keep'),
                              helper.make_node('Mul', ['v', 'ten'], ['v_out'], name='times10')], 'grow_body',
                             [helper.make_tensor_value_info('it', TP.INT64, []), helper.make_tensor_value_info('c_in', TP.BOOL, []),
                              vi('v')], [helper.make_tensor_value_info('c_out', TP.BOOL, []), vi('v_out')],
                             [nh.from_array(np.array([10], np.float32), 'ten')])
    g = helper.make_graph([helper.make_node('Loop', ['trips', '', 'x'], ['y'], name='grow', body=body)], 'loop_grow',
                          [vi('x', [1, 3, 8, 8])], [vi('y', [1, 3, 8, 8])], [nh.from_array(np.array(8, np.int64), 'trips')])
    m = helper.make_model(g, opset_imports=[helper.make_opsetid('', 17)], producer_name='layerdiff-tests')
    m.ir_version = 8
    return m


def loop_boom():
    """Loop 'dbl' (8 iterations): body node 'double' doubles the carried v (x * 2^8 at most: fine
    in FP16), body node 'boom' emits 1000 * v as a scan output: FP16 overflows once max(x) *
    2^(k+1) * 1000 passes 65504 (planted; only 'boom' fails, also on reference inputs)."""
    body = helper.make_graph([helper.make_node('Identity', ['c_in'], ['c_out'], name='keep'),
                              helper.make_node('Mul', ['v', 'two'], ['v_out'], name='double'),
                              helper.make_node('Mul', ['v_out', 'thousand'], ['big'], name='boom')], 'dbl_body',
                             [helper.make_tensor_value_info('it', TP.INT64, []), helper.make_tensor_value_info('c_in', TP.BOOL, []),
                              vi('v')], [helper.make_tensor_value_info('c_out', TP.BOOL, []), vi('v_out'), vi('big')],
                             [nh.from_array(np.array([2], np.float32), 'two'), nh.from_array(np.array([1000], np.float32), 'thousand')])
    g = helper.make_graph([helper.make_node('Loop', ['trips', '', 'x'], ['y', 'ys'], name='dbl', body=body)], 'loop_boom',
                          [vi('x', [1, 3, 8, 8])], [vi('y', [1, 3, 8, 8]), vi('ys', [8, 1, 3, 8, 8])],
                          [nh.from_array(np.array(8, np.int64), 'trips')])
    m = helper.make_model(g, opset_imports=[helper.make_opsetid('', 17)], producer_name='layerdiff-tests')
    m.ir_version = 8
    return m


open(out + '/loop_boom.onnx', 'wb').write(loop_boom().SerializeToString())
open(out + '/loop_grow.onnx', 'wb').write(loop_grow().SerializeToString())
open(out + '/if_write.onnx', 'wb').write(writable().SerializeToString())
open(out + '/if_const.onnx', 'wb').write(model(True).SerializeToString())
open(out + '/if_input.onnx', 'wb').write(model(False).SerializeToString())
np.save(out + '/x.npy', rng.uniform(0, 1, (1, 3, 8, 8)).astype(np.float32))
xs = rng.uniform(0, 1, (4, 3, 8, 8)).astype(np.float32)
np.savez(out + '/x_same.npz', x=xs)                        # 4 runs, all take then_branch
xs[1:3] *= -1
np.savez(out + '/x_mixed.npz', x=xs)                       # runs 1 and 2 take else_branch
