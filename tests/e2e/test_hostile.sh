#!/usr/bin/env bash
# Hostile input (issue 12): each fixture of fixtures/hostile (tools/gen_hostile_fixtures.py)
# plants one finding of the fuzzing campaign; every one must end in a clear error or a defined
# answer, never a crash, hang or silent garbage. Limits: exit 65 naming the flag to raise them.
. "$(dirname "$0")/lib.sh"
H=fixtures/hostile
PY=/usr/bin/python3
T="timeout 60"

# 1. SplitToSequence with a negative split length: the message has the real number
expect_rc 65 "negative split length is a data error" $T $LD inspect $H/split_negative.onnx
expect_out "node 'split' \(SplitToSequence-11\): negative split length -1 at index 0" "names node and the length"

# 2. required inputs missing in ops newer than python3-onnx's schemas
expect_rc 65 "BitwiseNot-18 with input ''" $T $LD inspect $H/bitwisenot_empty.onnx
expect_out "node 'bnot' \(BitwiseNot-18\): required input 0 is missing" "BitwiseNot message"
expect_rc 65 "BitwiseOr-18 with one input" $T $LD inspect $H/bitwiseor_one.onnx
expect_out "node 'bor' \(BitwiseOr-18\): has 1 inputs, the operator takes 2" "BitwiseOr message"
expect_rc 65 "RMSNormalization-23 with scale ''" $T $LD inspect $H/rmsnorm_empty.onnx
expect_out "node 'rms' \(RMSNormalization-23\): required input 1 is missing" "RMSNormalization message"
expect_rc 65 "Gelu-20 with no input" $T $LD inspect $H/gelu_none.onnx
expect_out "node 'gelu' \(Gelu-20\): has 0 inputs" "Gelu message"

# 3. IDX images with a zero height or width
for f in zero_height zero_width; do
    expect_rc 65 "IDX $f is a data error" $T $LD compare $H/image_in.onnx --data $H/$f.idx --target fp16
    expect_out "$f.idx \(image 0\): image is [0-9]+x[0-9]+; images must be between 1x1" "IDX $f message"
done

# 4. Slice with step INT64_MIN from the end: exactly the last element
$PY -c "import numpy as np; np.save('$TMP/x5.npy', np.arange(5, dtype=np.float32) + 1)"
expect_rc 0 "Slice step INT64_MIN runs" $T $LD run $H/slice_step_min.onnx --input x=$TMP/x5.npy --save-outputs $TMP/slice.npz
$PY -c "import numpy as np; y = np.load('$TMP/slice.npz')['y']; assert y.tolist() == [5.0], y; print('slice ok')" >"$TMP/out" 2>&1
expect_out "slice ok" "Slice step INT64_MIN gives the last element"

# 5. external data: regular files inside the model's folder only
D=$TMP/ext; mkdir -p $D/sub
cp $H/ext_dots.onnx $H/a..b.bin $H/ext_fifo.onnx $H/ext_link.onnx $H/ext_parent.onnx $D/sub/
expect_rc 0 "a file named a..b.bin is inside the folder" $T $LD inspect $D/sub/ext_dots.onnx
mkfifo $D/sub/weights.fifo
expect_rc 65 "a FIFO as external data is refused, without blocking" $T $LD inspect $D/sub/ext_fifo.onnx
expect_out "weights.fifo' is not a regular file" "FIFO message"
$PY -c "import numpy as np; (np.arange(4, dtype=np.float32) * 10).tofile('$D/outside.bin')"
ln -s ../outside.bin $D/sub/link.bin
expect_rc 65 "a symbolic link out of the folder is refused" $T $LD inspect $D/sub/ext_link.onnx
expect_out "link.bin' resolves \(through a symbolic link\) outside the model's folder \(allow it with --allow-external-outside\)" "symlink message names the flag"
expect_rc 65 "a '..' location is refused" $T $LD inspect $D/sub/ext_parent.onnx
expect_out "'../outside.bin' leaves the model's folder" "'..' message"
$PY -c "import numpy as np; np.save('$TMP/x4.npy', np.ones(4, np.float32))"
expect_rc 0 "--allow-external-outside reads through the link" $T $LD --allow-external-outside run $D/sub/ext_link.onnx --input x=$TMP/x4.npy --save-outputs $TMP/link.npz
expect_rc 0 "--allow-external-outside reads '..'" $T $LD --allow-external-outside run $D/sub/ext_parent.onnx --input x=$TMP/x4.npy --save-outputs $TMP/parent.npz
$PY -c "
import numpy as np
for f in ('link', 'parent'): assert np.load('$TMP/%s.npz' % f)['y'].tolist() == [1, 11, 21, 31], f
print('outside ok')" >"$TMP/out" 2>&1
expect_out "outside ok" "outside external data has the right values"

# 6. Loop and Scan iteration cap
expect_rc 65 "Loop whose condition stays true stops at --max-iterations" $T $LD --max-iterations 1000 run $H/loop_forever.onnx
expect_out "node 'forever' \(Loop-1\): Loop runs more than 1000 iterations \(raise the limit with --max-iterations\)" "Loop message names node and flag"
expect_rc 65 "Loop with M = 2^62 stops" $T $LD --max-iterations 1000 run $H/loop_huge_m.onnx
expect_out "node 'huge'.*--max-iterations" "M = 2^62 message"
expect_rc 0 "a Loop of exactly the limit runs" $T $LD --max-iterations 10 run $H/loop_ten.onnx --save-outputs $TMP/loop.npz
$PY -c "import numpy as np; assert np.load('$TMP/loop.npz')['v'].tolist() == [10.0]; print('loop ok')" >"$TMP/out" 2>&1
expect_out "loop ok" "Loop result"
expect_rc 65 "Scan over more steps than the limit" $T $LD --max-iterations 9 run $H/scan_ten.onnx
expect_out "node 'scan' \(Scan-9\): Scan runs more than 9 iterations" "Scan message"
expect_rc 0 "Scan within the limit" $T $LD --max-iterations 10 run $H/scan_ten.onnx
expect_rc 64 "--max-iterations needs a positive number" $LD --max-iterations 0 run $H/loop_ten.onnx
expect_out "--max-iterations takes a positive whole number" "bad flag value message"

# 7. terabyte constants: inspect does not fold them; run meets the tensor limit
for f in onehot_huge dft_huge; do
    expect_rc 0 "inspect $f does not allocate it" $T $LD inspect $H/$f.onnx
    expect_rc 65 "run $f meets the tensor limit" $T $LD run $H/$f.onnx
    expect_out "exceeds the limit of 17179869184 bytes per tensor \(raise it with --max-tensor-bytes\)" "$f message names the flag"
done
expect_rc 65 "--max-memory caps the total" $T $LD --max-memory 1M run $H/relu_big.onnx
expect_out "node 'relu1' \(Relu-1\): allocating a tensor of 1048576 bytes .* exceeds the memory limit of 1048576 bytes \(raise it with --max-memory\)" "--max-memory message"
expect_rc 0 "enough --max-memory" $T $LD --max-memory 4M run $H/relu_big.onnx
expect_rc 65 "--max-tensor-bytes caps one tensor" $T $LD --max-tensor-bytes 1000K run $H/relu_big.onnx
expect_out "generating input 'x': a tensor of 1048576 bytes exceeds the limit of 1024000 bytes" "--max-tensor-bytes message"
expect_rc 65 "subgraphs nested 80 deep" $T $LD inspect $H/nested_80.onnx
expect_out "nested 65 deep, more than the limit of 64 \(raise it with --max-depth\)" "--max-depth message"
expect_rc 0 "--max-depth 100 allows them" $T $LD --max-depth 100 inspect $H/nested_80.onnx

# 8. integer division by zero and INT32_MIN / -1: defined values and one warning per node
expect_rc 0 "integer Div/Mod by zero runs" $T $LD run $H/div_zero.onnx --input a=$H/div_a.npy --save-outputs $TMP/div.npz
expect_out "warning: node 'div' \(Div\): integer division by zero, which ONNX leaves undefined; layerdiff gives 0" "Div warning"
expect_out "warning: node 'mod' \(Mod\): integer modulo by zero" "Mod warning"
n=$(grep -c "warning: node 'div'" "$TMP/out")
if [ "$n" -eq 1 ]; then ok "the Div warning comes once"; else notok "the Div warning comes once" "$n times"; fi
$PY -c "
import numpy as np
d = np.load('$TMP/div.npz')
assert d['q'].tolist() == [0, 8, -2**31], d['q']
assert d['r'].tolist() == [0, 0, 0], d['r']
print('div ok')" >"$TMP/out" 2>&1
expect_out "div ok" "Div/Mod values: 0 for zero divisors, INT32_MIN / -1 wraps"
expect_rc 0 "INT32_MIN / -1 runs" $T $LD run $H/div_overflow.onnx --input a=$H/div_a2.npy
expect_out "warning: node 'div' \(Div\): the most negative int32 divided by -1 overflows" "overflow warning"

# 7b. 20000 nested If bodies: protobuf-c would recurse once per message and overflow the
#     stack; the depth is measured on the wire bytes first (written without the onnx package,
#     whose own serializer recurses too)
$PY - "$TMP/deep.onnx" <<'PYEOF'
import sys
from onnx import helper, TensorProto
F, B = TensorProto.FLOAT, TensorProto.BOOL
def varint(n):
    out = b''
    while True:
        b, n = n & 0x7f, n >> 7
        if not n: return out + bytes([b])
        out += bytes([b | 0x80])
def ld(field, payload): return varint(field << 3 | 2) + varint(len(payload)) + payload
vi = lambda n, t: helper.make_tensor_value_info(n, t, [1] if t == F else []).SerializeToString()
leaf = helper.make_graph([helper.make_node('Identity', ['x'], ['y'], name='leaf')], 'leaf', [],
                         [helper.make_tensor_value_info('y', F, [1])]).SerializeToString()
g = leaf
for d in range(20000):
    then = ld(1, b'then_branch') + varint(20 << 3) + varint(5) + ld(6, g)
    other = ld(1, b'else_branch') + varint(20 << 3) + varint(5) + ld(6, leaf)
    node = ld(1, b'c') + ld(2, b'y') + ld(3, b'if%d' % d) + ld(4, b'If') + ld(5, then) + ld(5, other)
    g = ld(1, node) + ld(2, b'g%d' % d) + ld(12, vi('y', F))
m = helper.make_model(helper.make_graph([], 'x', [], []), opset_imports=[helper.make_opsetid('', 17)])
m.ClearField('graph')
open(sys.argv[1], 'wb').write(m.SerializeToString() + ld(7, g + ld(11, vi('x', F)) + ld(11, vi('c', B))))
PYEOF
expect_rc 65 "20000 nested subgraphs: refused before parsing, no stack overflow" $T $LD inspect $TMP/deep.onnx
expect_out "nests subgraphs or types more than 256 messages deep.*\(raise it with --max-depth\)" "deep nesting message"

# 9. fuzz findings (tests/fuzz/regressions/): an input of a type its op does not take is refused
#    by the shared check against the schema's type constraints, before any kernel reads it
R=tests/fuzz/regressions
for c in "roialign-rois-float8:RoiAlign-16:1 'rois' is float8e4m3fn" \
         "groupnorm-scale-int8:GroupNormalization-21:1 'scale' is int8" \
         "instancenorm-scale-int16:InstanceNormalization-6:1 'scale' is int16" \
         "layernorm-bias-int8:LayerNormalization-17:2 'B' is int8"; do
    f=${c%%:*}; rest=${c#*:}; op=${rest%%:*}; what=${rest#*:}
    for cmd in inspect run; do
        expect_rc 65 "$f: $cmd refuses the input type" $T $LD $cmd $R/fuzz_model_run/$f.onnx
    done
    expect_out "regressions/fuzz_model_run/$f.onnx: node '[^']*' \(${op}\): input $what; ${op%-*} takes float32, float16, float64, bfloat16 there" "$f: message names file, node, op, input, type and allowed types"
done
# same-letter inputs must agree: Add(float, int64) at opset 13 (both are T)
$PY - "$TMP/add_mixed.onnx" <<'PYEOF'
import sys
from onnx import helper, TensorProto as P
g = helper.make_graph([helper.make_node('Add', ['a', 'b'], ['y'], name='add')], 'g',
                      [helper.make_tensor_value_info('a', P.FLOAT, [2]), helper.make_tensor_value_info('b', P.INT64, [2])],
                      [helper.make_tensor_value_info('y', P.FLOAT, [2])])
open(sys.argv[1], 'wb').write(helper.make_model(g, opset_imports=[helper.make_opsetid('', 13)]).SerializeToString())
PYEOF
expect_rc 65 "Add of float and int64 is refused" $T $LD inspect $TMP/add_mixed.onnx
expect_out "node 'add' \(Add-13\): input 1 'B' is int64 but input 0 'A' is float32; Add requires them to have the same type" "same-letter message"
# a graph listing one input name twice (read_type leaked its first declaration)
expect_rc 65 "a subgraph input listed twice is refused" $T $LD inspect $R/fuzz_model_load/load-read-type-leak.onnx
expect_out "graph 'seq_map_body': input 'in0' is listed twice" "duplicate input message"

# 10. --max-string-bytes: one string in a model (name, attribute string, string tensor element)
$PY - "$TMP" <<'PYEOF'
import sys
import numpy as np
from onnx import helper, numpy_helper, TensorProto as P
d = sys.argv[1]
def model(nodes, inits=(), name='g'):
    g = helper.make_graph(nodes, name, [helper.make_tensor_value_info('x', P.FLOAT, [2])],
                          [helper.make_tensor_value_info('y', P.FLOAT, [2])], initializer=list(inits))
    return helper.make_model(g, opset_imports=[helper.make_opsetid('', 17)]).SerializeToString()
open(d + '/s_attr.onnx', 'wb').write(model([helper.make_node('Identity', ['x'], ['y'], name='id'),
    helper.make_node('Constant', [], ['c'], name='const', value_string='a' * 5000)]))
open(d + '/s_tensor.onnx', 'wb').write(model([helper.make_node('Identity', ['x'], ['y'], name='id')],
    [helper.make_tensor('words', P.STRING, [2], [b'short', b'w' * 3000])]))
open(d + '/s_name.onnx', 'wb').write(model([helper.make_node('Identity', ['x'], ['y'], name='n' * 4000)]))
open(d + '/s_big_raw.onnx', 'wb').write(model([helper.make_node('Identity', ['x'], ['y'], name='id')],
    [numpy_helper.from_array(np.zeros(4096, np.float32), 'w')]))
t = helper.make_tensor('t', P.STRING, [1], [b'z' * 3000])
open(d + '/s.pb', 'wb').write(t.SerializeToString())
PYEOF
S="$LD --max-string-bytes 2K"
expect_rc 65 "a 5000-byte attribute string over --max-string-bytes 2K" $T $S inspect $TMP/s_attr.onnx
expect_out "graph 'g', node 'const', attribute 'value_string' \(graph.node\[1\].attribute\[0\].s\) holds a string of 5000 bytes, more than the limit of 2048 bytes per string \(raise it with --max-string-bytes\)" "attribute string message"
expect_rc 65 "a 3000-byte string tensor element" $T $S inspect $TMP/s_tensor.onnx
expect_out "graph 'g', initializer 'words' \(graph.initializer\[0\].string_data\[1\]\) holds a string of 3000 bytes" "string tensor message"
expect_rc 65 "a 4000-byte node name" $T $S inspect $TMP/s_name.onnx
expect_out "graph 'g' \(graph.node\[0\].name\) holds a string of 4000 bytes" "name message"
expect_rc 0 "16 KB of raw tensor data is not a string" $T $S inspect $TMP/s_big_raw.onnx
expect_rc 0 "the default limit (16M) takes them" $T $LD inspect $TMP/s_attr.onnx
expect_rc 65 "a .pb input with a long string element" $T $S run $TMP/s_big_raw.onnx --input x=$TMP/s.pb
expect_out "string_data\[0\] holds a string of 3000 bytes.*--max-string-bytes" ".pb message"
expect_rc 64 "--max-string-bytes needs a size" $LD --max-string-bytes 0 inspect $TMP/s_attr.onnx
