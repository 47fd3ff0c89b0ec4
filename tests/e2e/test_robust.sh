#!/usr/bin/env bash
# Bad input never crashes: truncated, garbage and hostile models, wrong inputs, missing files.
. "$(dirname "$0")/lib.sh"
R=fixtures/models/fmnist_resnet.onnx
PY=/usr/bin/python3

expect_rc 66 "missing model file" $LD run $TMP/nope.onnx
expect_out "nope.onnx: No such file" "missing file is named"
expect_rc 66 "a directory is not a model" $LD inspect $TMP
head -c 5000 $R > $TMP/trunc.onnx
expect_rc 65 "truncated model" $LD run $TMP/trunc.onnx
expect_out "truncated or corrupt" "truncated model message"
head -c 4096 /dev/urandom > $TMP/garbage.onnx
$LD run $TMP/garbage.onnx >"$TMP/out" 2>&1; rc=$?
if [ $rc -ge 64 ] && [ $rc -lt 128 ]; then ok "garbage model: clean error ($rc)"; else notok "garbage model" "rc=$rc"; fi
: > $TMP/empty.onnx
expect_rc 65 "empty model file" $LD run $TMP/empty.onnx
# a model whose tensor claims more bytes than the file holds, and external data that is missing
$PY - "$TMP" <<'PYEOF'
import sys, onnx, numpy as np
from onnx import helper, TensorProto, numpy_helper
t = sys.argv[1]
w = numpy_helper.from_array(np.ones((4, 4), np.float32), 'w')
w.raw_data = w.raw_data[:20]
g = helper.make_graph([helper.make_node('MatMul', ['x', 'w'], ['y'], name='mm')], 'g',
    [helper.make_tensor_value_info('x', TensorProto.FLOAT, [1, 4])],
    [helper.make_tensor_value_info('y', TensorProto.FLOAT, [1, 4])], [w])
open(t + '/short.onnx', 'wb').write(helper.make_model(g, opset_imports=[helper.make_opsetid('', 17)]).SerializeToString())
w2 = numpy_helper.from_array(np.ones((4, 4), np.float32), 'w')
w2.ClearField('raw_data'); w2.data_location = TensorProto.EXTERNAL
e = w2.external_data.add(); e.key = 'location'; e.value = 'missing_weights.bin'
g2 = helper.make_graph([helper.make_node('MatMul', ['x', 'w'], ['y'], name='mm')], 'g',
    [helper.make_tensor_value_info('x', TensorProto.FLOAT, [1, 4])],
    [helper.make_tensor_value_info('y', TensorProto.FLOAT, [1, 4])], [w2])
open(t + '/ext.onnx', 'wb').write(helper.make_model(g2, opset_imports=[helper.make_opsetid('', 17)]).SerializeToString())
# external data that exists, at an offset
np.concatenate([np.zeros(4, np.float32), np.arange(16, dtype=np.float32)]).tofile(t + '/w.bin')
e.value = 'w.bin'
for k, v in (('offset', '16'), ('length', '64')):
    x = w2.external_data.add(); x.key = k; x.value = v
g3 = helper.make_graph([helper.make_node('MatMul', ['x', 'w'], ['y'], name='mm')], 'g',
    [helper.make_tensor_value_info('x', TensorProto.FLOAT, [1, 4])],
    [helper.make_tensor_value_info('y', TensorProto.FLOAT, [1, 4])], [w2])
open(t + '/extok.onnx', 'wb').write(helper.make_model(g3, opset_imports=[helper.make_opsetid('', 17)]).SerializeToString())
np.save(t + '/x.npy', np.ones((1, 4), np.float32))
np.save(t + '/x_i64.npy', np.ones((1, 4), np.int64))
np.save(t + '/x_bad.npy', np.ones((2, 4), np.float32))
open(t + '/x_trunc.npy', 'wb').write(open(t + '/x.npy', 'rb').read()[:-3])
PYEOF
expect_rc 65 "tensor claims more bytes than it holds" $LD run $TMP/short.onnx
expect_out "initializer 'w'.*claims 64 bytes of raw data but holds 20" "names the tensor and sizes"
expect_rc 66 "missing external data" $LD run $TMP/ext.onnx
expect_out "missing_weights.bin" "names the missing external file"
expect_rc 0 "external data at an offset" $LD run $TMP/extok.onnx --input x=$TMP/x.npy --save-outputs $TMP/ext_out.npz
$PY -c "import numpy as np; y=np.load('$TMP/ext_out.npz')['y']; assert np.array_equal(y, np.arange(16,dtype=np.float32).reshape(4,4).sum(0)[None]); print('ext ok')" >"$TMP/out" 2>&1
expect_out "ext ok" "external data values are right"
expect_rc 65 "wrong input name" $LD run $TMP/extok.onnx --input nope=$TMP/x.npy
expect_out "no input named 'nope'" "wrong input name is named"
expect_rc 65 "wrong input dtype" $LD run $TMP/extok.onnx --input x=$TMP/x_i64.npy
expect_out "expected dtype float32, got int64" "wrong dtype message"
expect_rc 65 "wrong input shape" $LD run $TMP/extok.onnx --input x=$TMP/x_bad.npy
expect_out "expected shape \(1,4\), got \(2,4\)" "wrong shape message"
expect_rc 65 "truncated .npy input" $LD run $TMP/extok.onnx --input x=$TMP/x_trunc.npy
expect_rc 66 "missing input file" $LD run $TMP/extok.onnx --input x=$TMP/none.npy
expect_rc 64 "--input without =" $LD run $TMP/extok.onnx --input x
expect_rc 65 "wrong shape for a conv model" $LD run $R --input image=$TMP/x.npy
