#!/usr/bin/env bash
# End-to-end tests of control flow: `inspect` prints If/Loop bodies as a tree, and an If whose
# condition is a constant is inlined at plan time so the layers of its taken branch are rows of
# the comparison (hierarchical names), pinnable by name and glob, and found by autopin; the
# inlined model computes what the If computes (layerdiff's own If kernel and, where installed,
# ONNX Runtime). Fixtures come from tests/e2e/ctrl.py.
. "$(dirname "$0")/lib.sh"
PY=/usr/bin/python3
$PY tests/e2e/ctrl.py "$TMP"
C="$TMP/if_const.onnx --input x=$TMP/x.npy"

# ---- inspect: the bodies as an indented tree with node counts
expect_rc 0 "inspect a model with nested bodies" $LD inspect $TMP/if_const.onnx
expect_out 'nodes +2 \(0 folded at load\), 13 more inside the subgraphs of 1 node' "node counts include the bodies"
expect_out "^        then_branch 'then_0': 7 nodes \(4 more in nested bodies\)" "a body line with its node counts"
expect_out "^            body 'loop_body': 2 nodes" "a nested Loop body one level deeper"
expect_out "^                 1  acc +Add" "nested body nodes listed under it"
expect_out "condition is constant true: run and compare inline then_branch" "says the branch will be inlined"
expect_rc 0 "inspect --no-nodes keeps the subgraph tree" $LD inspect $TMP/if_input.onnx --no-nodes
expect_out "^subgraphs" "subgraphs section"
expect_out "^        else_branch 'else_0': 2 nodes" "tree without node lists"
expect_rc 0 "inspect --json" $LD inspect $TMP/if_const.onnx --json
cp "$TMP/out" "$TMP/i.json"
$PY - "$TMP/i.json" >"$TMP/out" 2>&1 <<'PYEOF'
import json, sys
d = json.load(open(sys.argv[1]))
assert d['nodes_in_subgraphs'] == 13, d['nodes_in_subgraphs']
ifn = d['nodes'][0]
sub = {s['attribute']: s for s in ifn['subgraphs']}
t = sub['then_branch']
assert t['nodes_total'] == 7 and t['nodes_nested'] == 4, t
loop = [n for n in t['nodes'] if n['op'] == 'Loop'][0]
assert [n['name'] for n in loop['subgraphs'][0]['nodes']] == ['keep', 'acc']
print('inspect tree json ok')
PYEOF
expect_out "inspect tree json ok" "JSON nests the bodies"

# ---- run: the inlined branch computes what the If computes
expect_rc 0 "run the constant-condition model" $LD run $C --mark-all --save-outputs $TMP/const.npz
expect_rc 0 "run the same body behind a data-dependent If" $LD run $TMP/if_input.onnx --input x=$TMP/x.npy --save-outputs $TMP/input.npz
$PY - "$TMP" >"$TMP/out" 2>&1 <<'PYEOF'
import sys, numpy as np
a, b = np.load(sys.argv[1] + '/const.npz'), np.load(sys.argv[1] + '/input.npz')
assert 'If_0/then_branch/r' in a.files and 'If_0/then_branch/If_1/else_branch/m1' not in a.files, a.files
assert np.array_equal(a['y'], b['y']) and np.array_equal(a['aux'], b['aux'])
print('inlined equals If')
PYEOF
expect_out "inlined equals If" "inlined branch output is bitwise the If kernel's"
ORT_DIR=${ORT_DIR:-.cache/ort}
if [ -d "$ORT_DIR/node_modules/onnxruntime-node" ] && command -v node >/dev/null; then
    ORT_DIR=$ORT_DIR node tools/ort_run.js $TMP/if_const.onnx x $TMP/x.npy $TMP/ort.npy >"$TMP/out" 2>&1
    $PY -c "
import numpy as np; a=np.load('$TMP/ort.npy'); b=np.load('$TMP/const.npz')['y']
assert np.max(np.abs(a-b)) <= 1e-5, np.max(np.abs(a-b)); print('ort ok')" >>"$TMP/out" 2>&1
    expect_out "ort ok" "ONNX Runtime agrees with the inlined model"
else
    ok "ONNX Runtime check skipped: onnxruntime-node not installed (tools/ensure_ort.sh)"
fi

# ---- compare: body nodes are rows, in execution order, with hierarchical names
expect_rc 1 "compare finds the planted overflow inside the branch" $LD compare $C --target fp16 --report $TMP/r.json
expect_out "If_0/then_branch/Conv_3 +Conv" "body node row with its path"
expect_out "first divergent node \(isolated: where the error starts\): #5 'If_0/then_branch/Big_6' \(Mul\)" "first divergent node is the body's Mul"
expect_out "why: output overflows FP16" "with the overflow reason"
$PY - "$TMP/r.json" >"$TMP/out" 2>&1 <<'PYEOF'
import json, sys
r = json.load(open(sys.argv[1]))
names = [n['name'] for n in r['nodes']]
want = ['If_0/then_branch/Conv_3', 'If_0/then_branch/Relu_4', 'If_0/then_branch/If_1/else_branch/Mul_s2',
        'If_0/then_branch/Loop_2', 'If_0/then_branch/Mul_5', 'If_0/then_branch/Big_6', 'If_0/then_branch/Div_7']
assert [n for n in names if n in want] == want, names
assert not any('If_1/then_branch' in n or n == 'If_0' for n in names), names
print('report rows ok')
PYEOF
expect_out "report rows ok" "report rows in execution order, untaken branches absent"
expect_rc 0 "plot the report" $LD plot $TMP/r.json -o $TMP/r.svg
grep -q "If_0/then_branch/Big_6" $TMP/r.svg && ok "the plot names the body node" || notok "the plot names the body node"

# ---- pins and autopin reach body nodes
expect_rc 0 "--pin with a glob over body nodes fixes it" $LD compare $C --target fp16 --pin 'If_0/then_branch/[BD]*'
expect_out "5\* If_0/then_branch/Big_6" "pinned body node marked"
expect_rc 0 "--pin by full body-node name" $LD compare $C --target fp16 --pin If_0/then_branch/Big_6 --pin If_0/then_branch/Div_7
expect_rc 0 "autopin finds the body nodes" $LD autopin $C --target fp16 -q
expect_out "^If_0/then_branch/Big_6$" "autopin pins the overflowing body Mul"

# ---- an If on a data-dependent condition: inlined when every run takes the same branch
expect_rc 1 "compare: all runs take then_branch" $LD compare $TMP/if_input.onnx --target fp16 --data $TMP/x_same.npz --report $TMP/same.json
expect_out "If 'If_0': then_branch in all 4 runs: its nodes are the rows 'If_0/then_branch/...'" "says the branch was inlined and over how many runs"
expect_out "If_0/then_branch/Conv_3 +Conv" "the branch's nodes are rows"
expect_out "first divergent node \(isolated: where the error starts\): #7 'If_0/then_branch/Big_6'" "first divergent body node"
expect_rc 0 "pins reach the inlined branch" $LD compare $TMP/if_input.onnx --target fp16 --data $TMP/x_same.npz --pin 'If_0/then_branch/[BD]*'
expect_rc 1 "compare: runs take different branches" $LD compare $TMP/if_input.onnx --target fp16 --data $TMP/x_mixed.npz --report $TMP/mixed.json
expect_out "If 'If_0': then_branch in 2 runs, else_branch in 2: measured as one row" "counts per branch when runs disagree"
$PY - "$TMP" >"$TMP/out" 2>&1 <<'PYEOF'
import json, sys
t = sys.argv[1]
s, m = json.load(open(t + '/same.json')), json.load(open(t + '/mixed.json'))
assert s['settings']['branches'] == [{'node': 'If_0', 'then_runs': 4, 'else_runs': 0, 'inlined': True}], s['settings']
assert m['settings']['branches'] == [{'node': 'If_0', 'then_runs': 2, 'else_runs': 2, 'inlined': False}], m['settings']
assert 'If_0' in [n['name'] for n in m['nodes']] and 'If_0' not in [n['name'] for n in s['nodes']]
try:
    import jsonschema
    sch = json.load(open('schemas/layerdiff.report-1.schema.json'))
    for r in (s, m): jsonschema.Draft202012Validator(sch).validate(r)
except ImportError:
    pass
print('branch counts ok')
PYEOF
expect_out "branch counts ok" "report settings.branches, valid against the schema"

# ---- --write-model: the inlined If is inlined in the written model, pins inside the branch
expect_rc 0 "autopin --write-model with pins inside a constant-condition branch" $LD autopin $TMP/if_write.onnx --input x=$TMP/x.npy --target fp16 -q --write-model $TMP/w16.onnx
expect_out "^If_0/then_branch/body_mul$" "the pin is a body node"
$PY - "$TMP" >"$TMP/out" 2>&1 <<'PYEOF'
import sys, onnx
t = sys.argv[1]
m = onnx.load(t + '/w16.onnx')
onnx.checker.check_model(m)
nodes = {n.name: n for n in m.graph.node}
assert not any(n.op_type == 'If' for n in m.graph.node), [n.op_type for n in m.graph.node]
assert 'If_0/then_branch/If_1/else_branch/Mul_s2' in nodes and 'If_0/then_branch/body_scale' in nodes, list(nodes)
inits = {i.name: i.data_type for i in m.graph.initializer}
prod = {o: n for n in m.graph.node for o in n.output}
mul = nodes['If_0/then_branch/body_mul']
a, w = mul.input
assert prod[a].op_type == 'Cast' and prod[a].attribute[0].i == onnx.TensorProto.FLOAT, 'pinned node reads FP32'
assert inits[w] == onnx.TensorProto.FLOAT and inits['If_0/then_branch/If_1/else_branch/s2'] == onnx.TensorProto.FLOAT16, inits
print('written model ok')
PYEOF
expect_out "written model ok" "flat written model: body nodes by path, the pin in FP32, the rest FP16"
expect_rc 0 "layerdiff runs the written model" $LD run $TMP/w16.onnx --input x=$TMP/x.npy
if [ -d "$ORT_DIR/node_modules/onnxruntime-node" ] && command -v node >/dev/null; then
    expect_rc 0 "ONNX Runtime runs the written model" env ORT_DIR=$ORT_DIR node tools/ort_run.js $TMP/w16.onnx x $TMP/x.npy $TMP/w16_ort.npy
fi
expect_rc 69 "--write-model refuses a branch inlined because every run took it" $LD autopin $TMP/if_input.onnx --data $TMP/x_same.npz --target fp16 -q --write-model $TMP/w2.onnx
expect_out "would lose the other branch" "says why"

# ---- Loop and Scan bodies: every body node over every iteration
expect_rc 1 "compare measures the Loop body inside the branch" $LD compare $C --target fp16 --report $TMP/loop.json
expect_out "^ +2 iterations; body nodes over every run" "says how many iterations ran"
expect_out "If_0/then_branch/Loop_2/body/acc +Add +2 runs" "body node row with its path and runs"
expect_rc 0 "compare a Scan" $LD compare fixtures/hostile/scan_ten.onnx --target fp16 --report $TMP/scan.json
expect_out "^ +10 iterations" "10 Scan iterations"
$PY - "$TMP" >"$TMP/out" 2>&1 <<'PYEOF'
import json, sys
t = sys.argv[1]
loop = [n for n in json.load(open(t + '/loop.json'))['nodes'] if n['op'] == 'Loop'][0]
assert loop['iterations'] == 2, loop
acc = [b for b in loop['body'] if b['name'] == 'If_0/then_branch/Loop_2/body/acc'][0]
assert acc['runs'] == 2 and acc['first_failing_run'] is None and 40 < acc['worst_sqnr_db'] <= acc['mean_sqnr_db'], acc
scan = json.load(open(t + '/scan.json'))['nodes'][0]
assert scan['iterations'] == 10 and {b['name'] for b in scan['body']} == {'scan/body/acc', 'scan/body/emit'}, scan
try:
    import jsonschema
    sch = json.load(open('schemas/layerdiff.report-1.schema.json'))
    for f in ('loop', 'scan'): jsonschema.Draft202012Validator(sch).validate(json.load(open(t + '/' + f + '.json')))
except ImportError:
    pass
print('body stats ok')
PYEOF
expect_out "body stats ok" "report: iterations, per-body-node runs and SQNR, valid against the schema"
expect_rc 1 "compare a Loop that overflows after some iterations" $LD compare $TMP/loop_grow.onnx --input x=$TMP/x.npy --target fp16 --report $TMP/grow.json
expect_out "grow/body/times10 +Mul +8 runs +-inf +[0-9.]+ +FAIL from run 4" "names the first failing iteration of the body node"
$PY -c "
import json; b=json.load(open('$TMP/grow.json'))['nodes'][0]['body']
m=[x for x in b if x['name']=='grow/body/times10'][0]
assert m['first_failing_run']==4 and m['worst_sqnr_db']=='-inf', m; print('grow ok')" >"$TMP/out" 2>&1
expect_out "grow ok" "report: first_failing_run 4"
expect_rc 1 "--pin reaches a Loop body node" $LD compare $TMP/loop_grow.onnx --input x=$TMP/x.npy --target fp16 --pin 'grow/body/times*' --report $TMP/growpin.json
expect_out "\*grow/body/times10 +Mul +8 runs +[0-9.]+ +[0-9.]+  isolated exact exact$" "the pinned body node runs in FP32 in every iteration"
$PY -c "
import json; b=json.load(open('$TMP/growpin.json'))['nodes'][0]['body']
m=[x for x in b if x['name']=='grow/body/times10'][0]
assert m['pinned'] is True and m['first_failing_run'] is None and m['worst_sqnr_db'] > 60, m; print('body pin ok')" >"$TMP/out" 2>&1
expect_out "body pin ok" "report: the body node pinned, no failing run"

# ---- isolated errors of body nodes: only the planted overflow fails on reference inputs
expect_rc 1 "compare a Loop whose body node 'boom' overflows FP16" $LD compare $TMP/loop_boom.onnx --input x=$TMP/x.npy --target fp16 --report $TMP/boom.json
expect_out "dbl/body/boom +Mul +8 runs .* isolated -inf [0-9.]+ FAIL from run [0-9]+$" "the body row shows the isolated error and its first failing run"
expect_out "dbl/body/double +Mul +8 runs +[0-9.]+ +[0-9.]+  isolated [0-9.]+ [0-9.]+$" "the other body node passes isolated"
$PY - "$TMP" >"$TMP/out" 2>&1 <<'PYEOF'
import json, sys, numpy as np
t = sys.argv[1]
x = np.load(t + '/x.npy')
# first iteration k where 1000 * v_k (v_k = x * 2^(k+1), as stored in FP16) overflows FP16
k = next(k for k in range(8) if np.isinf(np.float16(np.float32(np.float16(x * 2.0 ** (k + 1))) * 1000)).any())
r = json.load(open(t + '/boom.json'))
body = {b['name']: b for b in r['nodes'][0]['body']}
boom, dbl = body['dbl/body/boom'], body['dbl/body/double']
assert boom['iso_runs'] == 8 and boom['iso_first_failing_run'] == k and boom['iso_worst_sqnr_db'] == '-inf', (k, boom)
assert dbl['iso_runs'] == 8 and dbl['iso_first_failing_run'] is None and dbl['iso_worst_sqnr_db'] > 40, dbl
assert 'iso_runs' not in body['dbl/body/keep'], body['dbl/body/keep']
why = r['summary']['first_divergent']['isolated']['reason']
assert why.endswith('in its body from dbl/body/boom at iteration %d' % k), why
try:
    import jsonschema
    jsonschema.Draft202012Validator(json.load(open('schemas/layerdiff.report-1.schema.json'))).validate(r)
except ImportError:
    pass
print('body isolated ok', k)
PYEOF
expect_out "body isolated ok [1-9]" "report: boom fails isolated at the computed iteration, double does not; the Loop row's reason names boom"
expect_rc 1 "compare names the body node in the first divergent explanation" $LD compare $TMP/loop_boom.onnx --input x=$TMP/x.npy --target fp16
expect_out "why: .*; in its body from dbl/body/boom at iteration [1-9]" "the text says where in the body the isolated error starts"
$LD compare $TMP/loop_boom.onnx --input x=$TMP/x.npy --target fp16 --pin dbl/body/boom --report $TMP/boompin.json >"$TMP/out" 2>&1
expect_out "\*dbl/body/boom +Mul +8 runs .* isolated exact exact$" "--pin on the body node: its isolated failure goes away"
grep -q "in its body from" "$TMP/out" && notok "the pinned body node is no longer named" || ok "the pinned body node is no longer named"
expect_rc 0 "a pinned Loop passes (its body runs in FP32)" $LD compare $TMP/loop_boom.onnx --input x=$TMP/x.npy --target fp16 --pin dbl
grep -qE "runs .*  isolated " "$TMP/out" && notok "the pinned Loop's body: no isolated columns (FP32)" || ok "the pinned Loop's body: no isolated columns (FP32)"
expect_rc 64 "a pin matching nothing is still an error" $LD compare $TMP/loop_grow.onnx --input x=$TMP/x.npy --target fp16 --pin 'grow/body/nope'

# ---- body measurements are bitwise the same for any --threads
for th in 1 3; do
    $LD --threads $th compare $TMP/if_const.onnx --input x=$TMP/x.npy --target fp16 --report $TMP/th$th.json >/dev/null 2>&1
done
$PY -c "
import json
a, b = (json.load(open('$TMP/th%d.json' % t)) for t in (1, 3))
for r in (a, b): r['summary'].pop('seconds', None)
assert a == b; print('threads ok')" >"$TMP/out" 2>&1
expect_out "threads ok" "the report with inlined branches and body rows is the same for --threads 1 and 3"

# ---- runs that take different branches: each branch's nodes over the runs that took it
expect_rc 1 "compare with runs taking both branches" $LD compare $TMP/if_input.onnx --target fp16 --data $TMP/x_mixed.npz --report $TMP/mixed2.json
expect_out "^ +4 runs; branch nodes over the runs that took their branch" "the If row says how many runs"
expect_out "If_0/then_branch/Conv_3 +Conv +2 runs" "then_branch nodes over the 2 runs that took it"
expect_out "If_0/else_branch/Other +Identity +2 runs" "else_branch nodes over the other 2"

# a constant-condition If whose branch returns a Constant (folded): the inlined value reaches Add
$PY tests/e2e/if_const_out.py $TMP/if_constout.onnx
$PY -c "import numpy as np; np.save('$TMP/x2.npy', np.array([1, 2], np.float32))"
expect_rc 0 "run: an inlined branch returning a Constant" $LD run $TMP/if_constout.onnx --input x=$TMP/x2.npy --save-outputs $TMP/ico.npz
if $PY -c "import numpy as np,sys; y=np.load(sys.argv[1])['y']; sys.exit(0 if list(y)==[2.5,0.0] else 1)" $TMP/ico.npz 2>/dev/null
then ok "the branch's constant is the If's value (x + [1.5, -2])"; else notok "the branch's constant is the If's value"; fi
expect_rc 0 "compare --target fp16 on it" $LD compare $TMP/if_constout.onnx --input x=$TMP/x2.npy --target fp16 -q
