#!/usr/bin/python3
"""Generate src/core/op_arity.c: for every ONNX operator version known to the installed
python3-onnx, the min/max input and output counts, which inputs are optional, and each formal
input's name, allowed tensor element types (its type constraint as a bitmask of ONNX
TensorProto.DataType numbers) and constraint group (inputs bound to the same type letter must
have equal dtypes).  The planner rejects a node with a wrong number of inputs or outputs, and
the executor rejects an input of a type the op does not take, before any kernel sees it.
Run: /usr/bin/python3 tools/gen_op_arity.py"""
import onnx.defs, os

# ONNX TensorProto.DataType numbers (include/ld_tensor.h uses the same)
ELEM = {'float': 1, 'uint8': 2, 'int8': 3, 'uint16': 4, 'int16': 5, 'int32': 6, 'int64': 7,
        'string': 8, 'bool': 9, 'float16': 10, 'double': 11, 'uint32': 12, 'uint64': 13,
        'complex64': 14, 'complex128': 15, 'bfloat16': 16, 'float8e4m3fn': 17,
        'float8e4m3fnuz': 18, 'float8e5m2': 19, 'float8e5m2fnuz': 20, 'uint4': 21, 'int4': 22,
        'float4e2m1': 23, 'float8e8m0': 24, 'uint2': 25, 'int2': 26}


def tensor_mask(type_strs):
    """Bitmask of the tensor element types among ONNX type strings ('tensor(float)',
    'optional(tensor(int8))'); sequences and maps are not tensors and add nothing."""
    m = 0
    for t in type_strs:
        if t.startswith('optional(') and t.endswith(')'):
            t = t[len('optional('):-1]
        if t.startswith('tensor(') and t.endswith(')'):
            m |= 1 << ELEM[t[len('tensor('):-1]]
    return m


def formal_inputs(s):
    """[(name, mask, group)] per formal input; group -1 = no equality with other inputs."""
    cons = {c.type_param_str: tensor_mask(c.allowed_type_strs) for c in s.type_constraints}
    letters = sorted({p.typeStr for p in s.inputs if p.typeStr in cons})
    out = []
    for p in s.inputs:
        hetero = (p.option == onnx.defs.OpSchema.FormalParameterOption.Variadic and
                  not p.isHomogeneous)
        if p.typeStr in cons:
            out.append((p.name, cons[p.typeStr], -1 if hetero else letters.index(p.typeStr)))
        else:
            out.append((p.name, tensor_mask([p.typeStr]), -1))
    return out


def last_variadic(s):
    return bool(s.inputs) and s.inputs[-1].option == onnx.defs.OpSchema.FormalParameterOption.Variadic


rows = []
for s in onnx.defs.get_all_schemas_with_history():
    max_in = s.max_input if s.max_input < 2**31 - 1 else -1
    max_out = s.max_output if s.max_output < 2**31 - 1 else -1
    # bit i set: formal input i may be left out (Optional, or Variadic with nothing required)
    opt = 0
    for i, p in enumerate(s.inputs[:31]):
        if p.option == onnx.defs.OpSchema.FormalParameterOption.Optional:
            opt |= 1 << i
    rows.append((s.domain, s.name, s.since_version, s.min_input, max_in, s.min_output, max_out, opt,
                 last_variadic(s), formal_inputs(s)))

# Schemas newer than the installed python3-onnx (opset 18 and later, ai.onnx.ml 4 and 5,
# preview ops) that have kernels here, written from the ONNX operator documentation. Every
# registered kernel needs a row (tests/unit/test_hostile.c checks it): without one the planner
# cannot tell a missing required input, and a kernel would dereference it.
# Input types: a list of (input name, set of type names, constraint letter); None = the types
# are not checked (unknown here: an unchecked input never rejects a valid model).
FLOAT3 = {'float16', 'float', 'double'}
FLOATS = FLOAT3 | {'bfloat16'}
F8 = {'float8e4m3fn', 'float8e4m3fnuz', 'float8e5m2', 'float8e5m2fnuz'}
INTS = {'int8', 'int16', 'int32', 'int64', 'uint8', 'uint16', 'uint32', 'uint64'}
ALL = FLOATS | INTS | {'bool', 'string', 'complex64', 'complex128'}
ALL_NEW = ALL | F8 | {'uint4', 'int4', 'float4e2m1', 'float8e8m0', 'uint2', 'int2'}
I64 = {'int64'}
IND = {'int32', 'int64'}
QX = {'int8', 'uint8', 'int16', 'uint16', 'int32', 'uint4', 'int4', 'float4e2m1', 'float8e8m0', 'uint2', 'int2'} | F8
QSCALE = FLOATS | {'int32', 'float8e8m0'}
T = [('X', FLOAT3, 'T')]
EXTRA = [
    # domain, name, since, min_in, max_in, min_out, max_out, optional-input bits, input types
    ('', 'ThresholdedRelu', 1, 1, 1, 1, 1, 0, T),
    ('', 'BitwiseNot', 18, 1, 1, 1, 1, 0, [('X', INTS, 'T')]),
    ('', 'BitwiseAnd', 18, 2, 2, 1, 1, 0, [('A', INTS, 'T'), ('B', INTS, 'T')]),
    ('', 'BitwiseOr', 18, 2, 2, 1, 1, 0, [('A', INTS, 'T'), ('B', INTS, 'T')]),
    ('', 'BitwiseXor', 18, 2, 2, 1, 1, 0, [('A', INTS, 'T'), ('B', INTS, 'T')]),
    ('', 'CenterCropPad', 18, 2, 2, 1, 1, 0, [('input_data', ALL, 'T'), ('shape', IND, 'Tind')]),
    ('', 'Col2Im', 18, 3, 3, 1, 1, 0, [('input', ALL, 'T'), ('image_shape', I64, ''),
                                        ('block_shape', I64, '')]),
    ('', 'GroupNormalization', 18, 3, 3, 1, 1, 0,
     [('X', FLOATS, 'T'), ('scale', FLOATS, 'T'), ('bias', FLOATS, 'T')]),
    ('', 'GroupNormalization', 21, 3, 3, 1, 1, 0,
     [('X', FLOATS, 'T'), ('scale', FLOATS, 'T'), ('bias', FLOATS, 'T')]),
    ('', 'Mish', 18, 1, 1, 1, 1, 0, T),
    ('', 'DeformConv', 19, 3, 5, 1, 1, 0x18,
     [('X', FLOAT3, 'T'), ('W', FLOAT3, 'T'), ('offset', FLOAT3, 'T'), ('B', FLOAT3, 'T'), ('mask', FLOAT3, 'T')]),
    ('', 'DeformConv', 22, 3, 5, 1, 1, 0x18,
     [('X', FLOATS, 'T'), ('W', FLOATS, 'T'), ('offset', FLOATS, 'T'), ('B', FLOATS, 'T'), ('mask', FLOATS, 'T')]),
    ('', 'AffineGrid', 20, 2, 2, 1, 1, 0, [('theta', FLOATS, 'T1'), ('size', I64, 'T2')]),
    ('', 'Gelu', 20, 1, 1, 1, 1, 0, [('X', FLOATS, 'T')]),
    ('', 'DFT', 20, 1, 3, 1, 1, 0x6, [('input', FLOATS, 'T1'), ('dft_length', IND, 'T2'), ('axis', I64, '')]),
    ('', 'ImageDecoder', 20, 1, 1, 1, 1, 0, [('encoded_stream', {'uint8'}, 'T1')]),
    ('', 'RegexFullMatch', 20, 1, 1, 1, 1, 0, [('X', {'string'}, 'T1')]),
    ('', 'StringConcat', 20, 2, 2, 1, 1, 0, [('X', {'string'}, 'T'), ('Y', {'string'}, 'T')]),
    ('', 'StringSplit', 20, 1, 1, 2, 2, 0, [('X', {'string'}, 'T1')]),
    ('', 'Attention', 23, 3, 6, 1, 4, 0x38,
     [('Q', FLOATS, 'T1'), ('K', FLOATS, 'T1'), ('V', FLOATS, 'T2'), ('attn_mask', ALL - {'string'} - {'complex64', 'complex128'}, 'U'),
      ('past_key', FLOATS, 'T1'), ('past_value', FLOATS, 'T2')]),
    ('', 'Attention', 24, 3, 7, 1, 4, 0x78,
     [('Q', FLOATS, 'T1'), ('K', FLOATS, 'T1'), ('V', FLOATS, 'T2'), ('attn_mask', ALL - {'string'} - {'complex64', 'complex128'}, 'U'),
      ('past_key', FLOATS, 'T1'), ('past_value', FLOATS, 'T2'), ('nonpad_kv_seqlen', I64, '')]),
    ('', 'RMSNormalization', 23, 2, 2, 1, 1, 0, [('X', FLOATS, 'T'), ('scale', FLOATS, 'V')]),
    ('', 'RotaryEmbedding', 23, 3, 4, 1, 1, 0x8,
     [('X', FLOATS, 'T'), ('cos_cache', FLOATS, 'T'), ('sin_cache', FLOATS, 'T'), ('position_ids', I64, 'M')]),
    ('', 'Swish', 24, 1, 1, 1, 1, 0, [('X', FLOATS, 'T')]),
    ('', 'TensorScatter', 24, 2, 3, 1, 1, 0x4,
     [('past_cache', ALL_NEW, 'T'), ('update', ALL_NEW, 'T'), ('write_indices', I64, '')]),
    # Newer versions of ops the 1.12 schemas know, where the types changed in ways the
    # executor's general widening for newer opsets (plan.c) does not cover
    ('', 'Equal', 19, 2, 2, 1, 1, 0, [('A', ALL - {'complex64', 'complex128'}, 'T'), ('B', ALL - {'complex64', 'complex128'}, 'T')]),
    ('', 'IsInf', 20, 1, 1, 1, 1, 0, [('X', FLOATS | F8, 'T1')]),
    ('', 'IsNaN', 20, 1, 1, 1, 1, 0, [('X', FLOATS | F8, 'T1')]),
    ('', 'ReduceMax', 20, 1, 2, 1, 1, 0x2, [('data', FLOATS | INTS | {'bool'}, 'T'), ('axes', I64, '')]),
    ('', 'ReduceMin', 20, 1, 2, 1, 1, 0x2, [('data', FLOATS | INTS | {'bool'}, 'T'), ('axes', I64, '')]),
    ('', 'QuantizeLinear', 19, 2, 3, 1, 1, 0x4,
     [('x', FLOATS | {'int32'}, 'T1'), ('y_scale', FLOATS | {'int32'}, 'T1'), ('y_zero_point', {'int8', 'uint8'} | F8, 'T2')]),
    ('', 'QuantizeLinear', 21, 2, 3, 1, 1, 0x4,
     [('x', FLOATS | {'int32'}, 'T1'), ('y_scale', QSCALE, 'T2'), ('y_zero_point', QX, 'T3')]),
    ('', 'DequantizeLinear', 19, 2, 3, 1, 1, 0x4,
     [('x', {'int8', 'uint8', 'int32'} | F8, 'T1'), ('x_scale', FLOATS, 'T2'), ('x_zero_point', {'int8', 'uint8', 'int32'} | F8, 'T1')]),
    ('', 'DequantizeLinear', 21, 2, 3, 1, 1, 0x4,
     [('x', QX, 'T1'), ('x_scale', QSCALE, 'T2'), ('x_zero_point', QX, 'T1')]),
    ('', 'QLinearMatMul', 21, 8, 8, 1, 1, 0,
     [('a', {'int8', 'uint8'} | F8, 'T1'), ('a_scale', FLOATS, 'TS'), ('a_zero_point', {'int8', 'uint8'} | F8, 'T1'),
      ('b', {'int8', 'uint8'} | F8, 'T2'), ('b_scale', FLOATS, 'TS'), ('b_zero_point', {'int8', 'uint8'} | F8, 'T2'),
      ('y_scale', FLOATS, 'TS'), ('y_zero_point', {'int8', 'uint8'} | F8, 'T3')]),
    ('', 'BitCast', 26, 1, 1, 1, 1, 0, None),
    ('', 'CumProd', 26, 2, 2, 1, 1, 0, [('x', FLOATS | INTS, 'T'), ('axis', IND, 'T2')]),
    ('', 'CausalConvWithState', 27, 2, 4, 1, 2, 0xc, None),
    ('', 'LinearAttention', 27, 3, -1, 1, -1, 0, None),
    ('', 'SwiGLU', 28, 2, 2, 1, 1, 0, None),
    ('ai.onnx.ml', 'LabelEncoder', 4, 1, 1, 1, 1, 0,
     [('X', {'string', 'int64', 'float', 'int32', 'int16', 'double'}, 'T1')]),
    ('ai.onnx.ml', 'TreeEnsemble', 5, 1, 1, 1, 1, 0, None),
    ('ai.onnx.preview', 'FlexAttention', 1, 3, -1, 1, -1, 0, None),
    # ONNX Runtime contrib ops (docs/ContribOperators.md)
    ('com.microsoft', 'MatMulNBits', 1, 3, 6, 1, 1, 0x38, None),
    ('com.microsoft', 'QuantizeLinear', 1, 2, 3, 1, 1, 0x4, None),
    ('com.microsoft', 'DequantizeLinear', 1, 2, 3, 1, 1, 0x4, None),
]


def extra_formals(spec):
    if spec is None:
        return []
    letters = sorted({l for _, _, l in spec if l})
    return [(name, tensor_mask('tensor(%s)' % t for t in types), letters.index(l) if l else -1)
            for name, types, l in spec]


known = {(r[0], r[1], r[2]) for r in rows}
for r in EXTRA:
    if (r[0], r[1], r[2]) not in known:
        rows.append(r[:8] + (False, extra_formals(r[8])))
rows.sort(key=lambda r: r[:3])


def c_row(r):
    formal = ', '.join('{"%s", 0x%xu, %d}' % f for f in r[9])
    lst = '(const ld_op_input[]){%s}' % formal if r[9] else 'NULL'
    return ('    {"%s", "%s", %d, %d, %d, %d, %d, 0x%xu, %d, %d, %s},\n'
            % (r[:8] + (int(r[8]), len(r[9]), lst)))


out = os.path.join(os.path.dirname(__file__), '..', 'src', 'core', 'op_arity.c')
with open(out, 'w') as f:
    f.write('/*\n** op_arity.c — GENERATED by tools/gen_op_arity.py from the ONNX operator schemas\n'
            f'** (python3-onnx {onnx.__version__}) plus the newer schemas listed in the script; do not edit.\n'
            '** Per op version: input/output counts (-1 = unbounded), optional-input bits, whether the\n'
            '** last formal input is variadic, and each formal input {name, allowed ONNX element types as\n'
            '** a bitmask (0 = unchecked), type-constraint group (-1 = none)}.\n'
            '*/\n#include "op_arity.h"\n\n#include <stddef.h>\n\n'
            'const ld_op_arity ld_op_arity_table[] = {\n')
    for r in rows:
        f.write(c_row(r))
    f.write('};\nconst int ld_op_arity_count = (int)(sizeof ld_op_arity_table / sizeof ld_op_arity_table[0]);\n')
print(len(rows), 'schemas')
