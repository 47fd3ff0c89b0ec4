#!/usr/bin/python3
"""Generate fixtures/hostile/: small models and data files that each plant one hostile input
(issue 12) for tests/e2e/test_hostile.sh.  Run: /usr/bin/python3 tools/gen_hostile_fixtures.py"""
import os, struct
import numpy as np
from onnx import helper, TensorProto, numpy_helper

OUT = os.path.join(os.path.dirname(__file__), '..', 'fixtures', 'hostile')
os.makedirs(OUT, exist_ok=True)
I64_MIN = -2**63


def save(name, nodes, inputs, outputs, inits=(), opset=17, extra_opsets=()):
    g = helper.make_graph(nodes, name, inputs, outputs, list(inits))
    ops = [helper.make_opsetid('', opset)] + [helper.make_opsetid(d, v) for d, v in extra_opsets]
    m = helper.make_model(g, opset_imports=ops, producer_name='gen_hostile_fixtures')
    m.ir_version = 8
    with open(os.path.join(OUT, name + '.onnx'), 'wb') as f:
        f.write(m.SerializeToString())


def vi(name, dt, shape):
    return helper.make_tensor_value_info(name, dt, shape)


def const(name, arr):
    return numpy_helper.from_array(np.asarray(arr), name)


F, I64, I32, B = TensorProto.FLOAT, TensorProto.INT64, TensorProto.INT32, TensorProto.BOOL

# 1. SplitToSequence with a negative split length (constant: folded at load)
save('split_negative', [helper.make_node('SplitToSequence', ['x', 'split'], ['s'], name='split'),
                        helper.make_node('SequenceAt', ['s', 'zero'], ['y'], name='at')],
     [], [vi('y', F, None)],
     [const('x', np.arange(4, dtype=np.float32)), const('split', np.array([-1, 5], np.int64)),
      const('zero', np.array(0, np.int64))], opset=17)

# 2. required inputs missing, in ops newer than the schemas of python3-onnx 1.12
save('bitwisenot_empty', [helper.make_node('BitwiseNot', [''], ['y'], name='bnot')],
     [], [vi('y', I32, [2])], opset=18)
save('bitwiseor_one', [helper.make_node('BitwiseOr', ['a'], ['y'], name='bor')],
     [], [vi('y', I32, [2])], [const('a', np.array([1, 2], np.int32))], opset=18)
save('rmsnorm_empty', [helper.make_node('RMSNormalization', ['x', ''], ['y'], name='rms')],
     [vi('x', F, [2, 4])], [vi('y', F, [2, 4])], opset=23)
save('gelu_none', [helper.make_node('Gelu', [], ['y'], name='gelu')],
     [], [vi('y', F, [2])], opset=20)

# 4. Slice with step INT64_MIN (and an end of INT64_MIN): one element, the last
save('slice_step_min', [helper.make_node('Slice', ['x', 'starts', 'ends', 'axes', 'steps'], ['y'], name='slice')],
     [vi('x', F, [5])], [vi('y', F, None)],
     [const('starts', np.array([-1], np.int64)), const('ends', np.array([I64_MIN], np.int64)),
      const('axes', np.array([0], np.int64)), const('steps', np.array([I64_MIN], np.int64))])

# 5. external data: a harmless name with two dots, and locations the tests point at a FIFO,
#    a symlink out of the folder and a parent folder
def ext_model(name, location):
    w = numpy_helper.from_array(np.arange(4, dtype=np.float32), 'w')
    w.ClearField('raw_data')
    w.data_location = TensorProto.EXTERNAL
    e = w.external_data.add(); e.key = 'location'; e.value = location
    save(name, [helper.make_node('Add', ['x', 'w'], ['y'], name='add')],
         [vi('x', F, [4])], [vi('y', F, [4])], [w])

ext_model('ext_dots', 'a..b.bin')
np.arange(4, dtype=np.float32).tofile(os.path.join(OUT, 'a..b.bin'))
ext_model('ext_fifo', 'weights.fifo')
ext_model('ext_link', 'link.bin')
ext_model('ext_parent', '../outside.bin')

# 6. Loop without a trip count whose condition stays true; Loop with M = 2^62; a 10-step Scan
body = helper.make_graph([helper.make_node('Identity', ['cond_in'], ['cond_out'], name='keep'),
                          helper.make_node('Add', ['v_in', 'one'], ['v_out'], name='inc')],
                         'body', [vi('i', I64, []), vi('cond_in', B, []), vi('v_in', F, [1])],
                         [vi('cond_out', B, []), vi('v_out', F, [1])],
                         [const('one', np.array([1], np.float32))])
save('loop_forever', [helper.make_node('Loop', ['', 'cond', 'v0'], ['v'], name='forever', body=body)],
     [], [vi('v', F, [1])], [const('cond', np.array(True)), const('v0', np.array([0], np.float32))])
save('loop_huge_m', [helper.make_node('Loop', ['m', '', 'v0'], ['v'], name='huge', body=body)],
     [], [vi('v', F, [1])], [const('m', np.array(2**62, np.int64)), const('v0', np.array([0], np.float32))])
save('loop_ten', [helper.make_node('Loop', ['m', '', 'v0'], ['v'], name='ten', body=body)],
     [], [vi('v', F, [1])], [const('m', np.array(10, np.int64)), const('v0', np.array([0], np.float32))])
sbody = helper.make_graph([helper.make_node('Add', ['s_in', 'x_t'], ['s_out'], name='acc'),
                           helper.make_node('Identity', ['s_out'], ['y_t'], name='emit')],
                          'sbody', [vi('s_in', F, [1]), vi('x_t', F, [1])], [vi('s_out', F, [1]), vi('y_t', F, [1])])
save('scan_ten', [helper.make_node('Scan', ['s0', 'xs'], ['s', 'ys'], name='scan', body=sbody, num_scan_inputs=1)],
     [vi('xs', F, [10, 1])], [vi('s', F, [1]), vi('ys', F, [10, 1])], [const('s0', np.zeros(1, np.float32))])

# 7. constants that would be terabytes: OneHot depth 2^40, DFT length 2^40; nested subgraphs
save('onehot_huge', [helper.make_node('OneHot', ['idx', 'depth', 'vals'], ['y'], name='onehot')],
     [], [vi('y', F, None)],
     [const('idx', np.array([1, 2], np.int64)), const('depth', np.array(2**40, np.int64)),
      const('vals', np.array([0, 1], np.float32))])
save('dft_huge', [helper.make_node('DFT', ['x', 'len'], ['y'], name='dft', axis=1)],
     [], [vi('y', F, None)],
     [const('x', np.ones((1, 4, 1), np.float32)), const('len', np.array(2**40, np.int64))])

def nested_if(depth):
    g = helper.make_graph([helper.make_node('Identity', ['x'], ['y%d' % depth], name='leaf')], 'leaf', [],
                          [vi('y%d' % depth, F, [1])])
    for d in range(depth - 1, -1, -1):
        other = helper.make_graph([helper.make_node('Identity', ['x'], ['e%d' % d], name='else%d' % d)],
                                  'else%d' % d, [], [vi('e%d' % d, F, [1])])
        n = helper.make_node('If', ['c'], ['y%d' % d], name='if%d' % d, then_branch=g, else_branch=other)
        g = helper.make_graph([n], 'level%d' % d, [], [vi('y%d' % d, F, [1])])
    return g

deep = nested_if(80)
save('nested_80', list(deep.node), [vi('x', F, [1]), vi('c', B, [])], [vi('y0', F, [1])])

# a plain 1 MiB tensor, for --max-memory and --max-tensor-bytes
save('relu_big', [helper.make_node('Relu', ['x'], ['r'], name='relu1'),
                  helper.make_node('Relu', ['r'], ['y'], name='relu2')],
     [vi('x', F, [256, 1024])], [vi('y', F, [256, 1024])])

# 8. integer Div/Mod by zero and INT32_MIN / -1, at run time (from an input)
save('div_zero', [helper.make_node('Div', ['a', 'b'], ['q'], name='div'),
                  helper.make_node('Mod', ['a', 'b'], ['r'], name='mod')],
     [vi('a', I32, [3])], [vi('q', I32, [3]), vi('r', I32, [3])],
     [const('b', np.array([0, 1, -1], np.int32))])
save('div_overflow', [helper.make_node('Div', ['a', 'b'], ['q'], name='div')],
     [vi('a', I32, [2])], [vi('q', I32, [2])], [const('b', np.array([-1, 2], np.int32))])
np.save(os.path.join(OUT, 'div_a.npy'), np.array([7, 8, -2**31], np.int32))
np.save(os.path.join(OUT, 'div_a2.npy'), np.array([-2**31, 8], np.int32))

# 3. IDX image files with a zero height / width (N x H x W uint8)
for name, (n, h, w) in (('zero_height', (2, 0, 4)), ('zero_width', (2, 4, 0))):
    with open(os.path.join(OUT, name + '.idx'), 'wb') as f:
        f.write(struct.pack('>BBBB3I', 0, 0, 8, 3, n, h, w))
save('image_in', [helper.make_node('Relu', ['x'], ['y'], name='relu')],
     [vi('x', F, [1, 1, 4, 4])], [vi('y', F, [1, 1, 4, 4])])
print('fixtures written to', os.path.normpath(OUT))
