#!/usr/bin/env bash
# End-to-end tests of `layerdiff compare`: exit codes, first divergent node on planted
# models, the trained models staying quiet in fp16/bf16, reports, other-engine comparisons.
. "$(dirname "$0")/lib.sh"
R=fixtures/models/fmnist_resnet.onnx
V=fixtures/models/fmnist_vit.onnx
PG=fixtures/polygraphy/pg_fmnist_resnet_inputs.json
PY=/usr/bin/python3
$PY tests/e2e/planted.py "$TMP"

expect_rc 64 "missing --target" $LD compare $R
expect_rc 64 "unknown target" $LD compare $R --target fp12
expect_out "unknown target 'fp12'" "names the bad target"
expect_rc 64 "--accum fp16 needs --target fp16" $LD compare $R --target bf16 --accum fp16
expect_rc 64 "a --pin that matches nothing" $LD compare $R --target fp16 --pin nosuchnode
expect_out "'nosuchnode' matches no node" "pin typo is reported"

expect_rc 0 "fp16 on fmnist_resnet (Polygraphy inputs) is within tolerance" $LD compare $R --target fp16 --inputs $PG
expect_out "first divergent node \(isolated: where the error starts\): none" "no divergent node on a healthy model"
expect_rc 0 "bf16 on fmnist_vit is within tolerance" $LD compare $V --target bf16 --batch 4
expect_rc 0 "fp16 on fmnist_vit is within tolerance" $LD compare $V --target fp16 --batch 4

expect_rc 1 "planted FP16 overflow: divergence, exit 1" $LD compare $TMP/overflow.onnx --target fp16 --input x=$TMP/x_overflow.npy
expect_out "first divergent node \(isolated: where the error starts\): #[0-9]+ 'mm1' \(MatMul\)" "names the overflowing MatMul"
expect_out "why: output overflows FP16: 100% of values above 65504" "says why"
expect_out "input a +ref min" "prints the input statistics"
expect_rc 0 "pinning the planted region fixes it" $LD compare $TMP/overflow.onnx --target fp16 --input x=$TMP/x_overflow.npy --pin mm1 --pin relu --pin scale
printf 'mm1\n# a comment\nrelu\nscale\n' > $TMP/pins.txt
expect_rc 0 "--pin @file" $LD compare $TMP/overflow.onnx --target fp16 --input x=$TMP/x_overflow.npy --pin @$TMP/pins.txt
expect_rc 0 "--pin op:TYPE and globs" $LD compare $TMP/overflow.onnx --target fp16 --input x=$TMP/x_overflow.npy --pin 'op:MatMul' --pin 're*' --pin scale
expect_rc 1 "planted INT8 outlier channel: divergence" $LD compare $TMP/outlier.onnx --target int8 --calib-method minmax --input x=$TMP/x_outlier.npy
expect_out "first divergent node \(isolated: where the error starts\): #[0-9]+ 'conv2' \(Conv\)" "names the conv fed by the outlier channel"
expect_rc 0 "--fallback fp32 --pin conv2" $LD compare $TMP/outlier.onnx --target int8 --calib-method minmax --fallback fp32 --input x=$TMP/x_outlier.npy --pin conv2

expect_rc 1 "--report on a divergent run" $LD compare $TMP/overflow.onnx --target fp16 --input x=$TMP/x_overflow.npy --report $TMP/r.json -q
$PY - "$TMP/r.json" >"$TMP/out" 2>&1 <<'PYEOF'
import json, sys
r = json.load(open(sys.argv[1]))
assert r['schema'] == 'layerdiff.report/1'
fd = r['summary']['first_divergent']
assert fd['isolated']['node'] == 'mm1' and 'overflows FP16' in fd['isolated']['reason'], fd
assert r['summary']['passed'] is False
mm1 = [n for n in r['nodes'] if n['name'] == 'mm1'][0]
o = mm1['outputs'][0]
assert 'overflow' in o['flags'] and o['isolated']['overflow'] > 0 and o['propagated']['new_inf'] > 0
assert [n['index'] for n in r['nodes']] == sorted(n['index'] for n in r['nodes'])
print('report ok')
PYEOF
expect_out "report ok" "the report names the node, the reason and the flags"
expect_rc 73 "--report refuses to overwrite" $LD compare $TMP/overflow.onnx --target fp16 --input x=$TMP/x_overflow.npy --report $TMP/r.json -q
expect_rc 1 "--report --force overwrites" $LD compare $TMP/overflow.onnx --target fp16 --input x=$TMP/x_overflow.npy --report $TMP/r.json --force -q

expect_rc 1 "Polygraphy tolerances: tight elementwise rtol fails" $LD compare $R --target fp16 --inputs $PG --atol 0 --rtol 1e-6
expect_rc 0 "Polygraphy tolerances: loose max passes" $LD compare $R --target fp16 --inputs $PG --atol 1 --rtol 1 --check-error-stat max
expect_rc 1 "--min-cosine 1.0 fails somewhere" $LD compare $R --target bf16 --inputs $PG --min-cosine 0.9999999

# against saved outputs of another engine (ONNX Runtime through Polygraphy, every tensor)
expect_rc 0 "--against-outputs Polygraphy RunResults" $LD compare $R --against-outputs fixtures/polygraphy/pg_fmnist_resnet_markall.json --load-inputs $PG --rows all
expect_out "matched 39 tensors by name" "matches every marked tensor by name"
expect_out "/layers/layers.5/Relu_1 " "lists intermediate tensors"
expect_rc 65 "--against-outputs with mismatched inputs" $LD compare $R --against-outputs fixtures/polygraphy/pg_fmnist_resnet_markall.json --batch 3
$LD autopin $V --target fp16 --goal 'sqnr>=1000' --max-tries 1 --write-model $TMP/vit16.onnx -q >/dev/null 2>&1
expect_rc 0 "--against an FP16-converted model" $LD compare $V --against $TMP/vit16.onnx --target fp16 --batch 2
expect_out "matched [0-9]+ tensors by name" "tensors matched by name"
expect_out "classification over 2 samples: top-1 agreement 100.00%" "classification summary"

# control flow: an If with a constant condition is inlined, its body overflows FP16 in the target
# precision and is named node by node (tests/e2e/test_ctrl.sh has the rest)
$PY - "$TMP" <<'PYEOF'
import sys, numpy as np
from onnx import helper, TensorProto, numpy_helper as nh
t = sys.argv[1]
big = nh.from_array(np.array([1e5], np.float32), 'big')
small = nh.from_array(np.array([1e-5], np.float32), 'small')
then_g = helper.make_graph([helper.make_node('Mul', ['x', 'big'], ['m'], name='body_mul'),
                            helper.make_node('Mul', ['m', 'small'], ['o'], name='body_scale')], 'then', [],
                           [helper.make_tensor_value_info('o', TensorProto.FLOAT, [4])], [big, small])
else_g = helper.make_graph([helper.make_node('Identity', ['x'], ['o2'], name='body_id')], 'else', [],
                           [helper.make_tensor_value_info('o2', TensorProto.FLOAT, [4])])
cond = nh.from_array(np.array(True), 'cond')
g = helper.make_graph([helper.make_node('If', ['cond'], ['y'], name='branch', then_branch=then_g, else_branch=else_g)],
                      'g', [helper.make_tensor_value_info('x', TensorProto.FLOAT, [4])],
                      [helper.make_tensor_value_info('y', TensorProto.FLOAT, [4])], [cond])
m = helper.make_model(g, opset_imports=[helper.make_opsetid('', 17)]); m.ir_version = 8
open(t + '/if.onnx', 'wb').write(m.SerializeToString())
np.save(t + '/x4.npy', np.array([1, 2, 3, 4], np.float32))
PYEOF
expect_rc 1 "an If body runs in the target precision" $LD compare $TMP/if.onnx --target fp16 --input x=$TMP/x4.npy
expect_out "first divergent node \(isolated: where the error starts\): #[0-9]+ 'branch/then_branch/body_mul' \(Mul\)" "names the body node"
expect_rc 0 "pinned body nodes run in FP32" $LD compare $TMP/if.onnx --target fp16 --input x=$TMP/x4.npy --pin 'branch/*'
