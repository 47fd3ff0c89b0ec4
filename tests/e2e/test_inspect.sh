#!/usr/bin/env bash
# End-to-end tests of `layerdiff inspect`.
. "$(dirname "$0")/lib.sh"
V=fixtures/models/fmnist_vit.onnx
expect_rc 0 "inspect fmnist_vit" $LD inspect $V
expect_out 'producer +pytorch' "producer"
expect_out 'opsets +ai.onnx-17' "opsets"
expect_out 'image +float32 \(N,1,28,28\)' "symbolic input shape"
expect_out 'parameters +306826' "parameter count"
expect_out 'LayerNormalization:9' "op histogram"
expect_out 'layerdiff can run every node' "pre-flight passes"
expect_out '/enc/enc.0/m/m.1/Erf +Erf +float32 \(1,50,192\)' "node list with inferred shapes"
expect_rc 0 "inspect --json --batch 8" $LD inspect $V --json --batch 8
cp "$TMP/out" "$TMP/j.json"
/usr/bin/python3 -c "
import json; d=json.load(open('$TMP/j.json'))
assert d['inputs'][0]['shape']==['N',1,28,28] and d['parameters']['initializer_elements']==306826
assert d['unsupported']==[] and d['opsets']['ai.onnx']==17
last=[n for n in d['nodes'] if n['op']=='Gemm'][0]
assert last['outputs'][0]['shape']==[8,10], last
print('inspect json ok')" >"$TMP/out" 2>&1
expect_out 'inspect json ok' "JSON fields and batch-resolved shapes"
/usr/bin/python3 - "$TMP" <<'PYEOF'
import sys
from onnx import helper, TensorProto
g = helper.make_graph([helper.make_node('Relu', ['x'], ['r'], name='ok'),
                       helper.make_node('FancyOp', ['r'], ['y'], name='mystery', domain='com.example')], 'g',
    [helper.make_tensor_value_info('x', TensorProto.FLOAT, [2])], [helper.make_tensor_value_info('y', TensorProto.FLOAT, [2])])
m = helper.make_model(g, opset_imports=[helper.make_opsetid('', 17), helper.make_opsetid('com.example', 1)])
open(sys.argv[1] + '/unsup.onnx', 'wb').write(m.SerializeToString())
PYEOF
expect_rc 0 "inspect a model with an unsupported op" $LD inspect $TMP/unsup.onnx
expect_out "pre-flight: 1 node cannot run" "pre-flight count"
expect_out "mystery \(com.example.FancyOp-1\): unsupported operator" "names the unsupported node"
expect_rc 69 "run refuses it with a clear error" $LD run $TMP/unsup.onnx
expect_out "node 'mystery' \(com.example.FancyOp-1\): unsupported operator" "run error names node and op"
