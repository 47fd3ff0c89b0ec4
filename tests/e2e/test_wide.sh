#!/usr/bin/env bash
# End-to-end tests of nodes with 100 operands (Sum, Concat and Max of 100 inputs, a Split into
# 100 outputs, an If body summing 100 outer-scope values): run, compare and autopin's re-runs
# all go through the one executor, which has no operand limit.
. "$(dirname "$0")/lib.sh"
PY=/usr/bin/python3
$PY tests/e2e/wide.py "$TMP"
W="$TMP/wide.onnx --input x=$TMP/x_wide.npy"

expect_rc 0 "run: 100-operand nodes" $LD run $W --save-outputs $TMP/out.npz
$PY -c "
import numpy as np; a=np.load('$TMP/out.npz'); b=np.load('$TMP/want.npz')
for k in b.files: assert np.array_equal(a[k], b[k]), k
print('outputs ok', len(b.files))" >"$TMP/out" 2>&1
expect_out "outputs ok 4" "run: every output equals numpy's"

check_report() {   # $1 = report: the wide nodes are measured, close, and their reference is numpy's
    $PY -c "
import json, numpy as np; d=json.load(open('$1')); want=np.load('$TMP/want.npz')
nodes={n['name']: n for n in d['nodes']}
for name in ('sum100', 'concat100', 'split100', 'max100', 'if100/then_branch/body_sum_then'):
    outs=nodes[name]['outputs']
    assert len(outs) == (100 if name == 'split100' else 1), (name, len(outs))
    for o in outs:
        assert o['measured'] and o['propagated']['max_abs'] <= 1, (name, o['name'])
        assert o['target_stats']['count'] == o['ref_stats']['count'] > 0, (name, o['name'])
        if o['name'] in want.files:
            w=want[o['name']]; assert (o['ref_stats']['min'], o['ref_stats']['max']) == (w.min(), w.max()), o['name']
print('report ok')" >"$TMP/out" 2>&1
}
for t in fp16 bf16 int8; do
    expect_rc 0 "compare --target $t: 100-operand nodes" $LD compare $W --target $t --report $TMP/r_$t.json -q
    check_report $TMP/r_$t.json
    expect_out "report ok" "compare --target $t: the wide nodes are measured"
done
expect_rc 0 "compare with the 100-input Sum pinned" $LD compare $W --target fp16 --pin sum100 --no-isolated --report $TMP/r_pin.json -q
check_report $TMP/r_pin.json
expect_out "report ok" "compare with a pin: the wide nodes are measured"
# an unreachable goal makes autopin try pins, re-running the target side from each pinned node
expect_rc 1 "autopin re-runs the 100-operand nodes" $LD autopin $W --target fp16 --goal 'top1>=101' --max-tries 12 -q
expect_out "goal top1>=101: NOT met" "autopin reports the unreachable goal"
expect_out "[1-9][0-9]* candidates, [1-9][0-9]* tries" "autopin tried pins"
echo "$N tests"
