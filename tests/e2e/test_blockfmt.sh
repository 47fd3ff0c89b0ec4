#!/usr/bin/env bash
# End-to-end tests of the block-scaled targets (w4a16, nvfp4, mxfp8, mxfp4) on the bundled
# models: they run and report per-node errors, the JSON report carries target and block size,
# the error ordering makes sense (4-bit formats worse than MXFP8, smaller W4A16 blocks
# better), W4A16 quantizes weights only and non-GEMM ops are exactly the FP16 target's,
# --block-size is checked, results do not depend on --threads, and autopin pins in FP32.
. "$(dirname "$0")/lib.sh"
R=fixtures/models/fmnist_resnet.onnx
V=fixtures/models/fmnist_vit.onnx
IMG=fixtures/fmnist/t10k-images-idx3-ubyte.gz
PY=/usr/bin/python3
NS=32
# under the sanitizers (make check runs every CLI test again with layerdiff-asan) the same
# checks on fewer samples: the point there is memory safety, not the statistics
case $LD in *asan*) NS=8 ;; esac
D="--data $IMG --max-samples $NS --batch $NS"

# exit 0 (within tolerance) or 1 (divergence found) are both results; anything else is not
run_ok() {   # run_ok "description" cmd...
    local what=$1; shift
    "$@" >"$TMP/out" 2>&1
    local rc=$?
    if [ "$rc" -le 1 ]; then ok "$what"; else notok "$what" "exit $rc: $(head -c 400 "$TMP/out")"; fi
}

run_ok "fp16 baseline" $LD compare $R --target fp16 $D --report $TMP/fp16.json -q
for t in w4a16 nvfp4 mxfp8 mxfp4; do
    run_ok "resnet --target $t runs" $LD compare $R --target $t $D --report $TMP/$t.json
    expect_out "vs FP32 reference, $NS samples" "$t: prints the per-node table"
    run_ok "vit --target $t runs (MatMul/Gemm, activation x activation MatMul)" \
        $LD compare $V --target $t $D --report $TMP/vit_$t.json -q
done
run_ok "w4a16 --block-size 32" $LD compare $R --target w4a16 --block-size 32 $D --report $TMP/w4a16_32.json -q
run_ok "w4a16 --block-size 7 (blocks that do not divide K: short last block)" \
    $LD compare $R --target w4a16 --block-size 7 $D -q
expect_rc 64 "--block-size with a fixed-block format is refused" $LD compare $R --target mxfp8 --block-size 64 $D
expect_out "mxfp8 fixes its block at 32 elements" "says the format fixes its block"
expect_rc 64 "--block-size with a plain format is refused" $LD compare $R --target fp16 --block-size 64 $D
expect_rc 64 "--block-size 0 is refused" $LD compare $R --target w4a16 --block-size 0 $D
expect_rc 64 "unknown target lists the block targets" $LD compare $R --target fp4 $D
expect_out "w4a16, nvfp4, mxfp8, mxfp4" "the message names the new targets"

$PY - "$TMP" >"$TMP/out" 2>&1 <<'PYEOF'
import json, sys, math
t = sys.argv[1]
ld = lambda name: json.load(open('%s/%s.json' % (t, name)))
def say(good, what, detail=''):
    print('%s - %s%s' % ('ok' if good else 'not ok', what, '' if good else '  [%s]' % str(detail)[:300]))
fp16 = ld('fp16')
reps = {k: ld(k) for k in ('w4a16', 'nvfp4', 'mxfp8', 'mxfp4', 'w4a16_32')}
want_bs = {'w4a16': 128, 'nvfp4': 16, 'mxfp8': 32, 'mxfp4': 32, 'w4a16_32': 32}
for k, r in reps.items():
    s = r['settings']
    say(s['target'] == k.split('_')[0] and s.get('block_size') == want_bs[k] and s.get('fallback') == 'fp16'
        and 'calibration' not in s, '%s: report settings name target, block_size %d, fallback, no calibration' % (k, want_bs[k]), s)
say('block_size' not in fp16['settings'], 'fp16 report has no block_size')
def iso(r, pred):
    v = [o['isolated']['sqnr_db'] for n in r['nodes'] if pred(n) for o in n['outputs'] if o['measured'] and o['isolated']]
    return v
q = lambda n: n['quantized']
for k, r in reps.items():
    v = iso(r, q)
    say(len(v) >= 10 and all(isinstance(x, (int, float)) and x > 0 for x in v), '%s: per-node isolated errors of the quantized convs' % k, v[:5])
mean = {k: sum(iso(r, q)) / len(iso(r, q)) for k, r in reps.items()}
say(mean['mxfp4'] < mean['mxfp8'] and mean['nvfp4'] < mean['mxfp8'], 'mxfp4 and nvfp4 are worse than mxfp8 (mean isolated SQNR of the convs)', mean)
say(mean['nvfp4'] > mean['mxfp4'], 'nvfp4 (16-element blocks, E4M3 scales) beats mxfp4', mean)
say(mean['w4a16_32'] > mean['w4a16'], 'w4a16 blocks of 32 beat blocks of 128', mean)
# non-GEMM ops run as the fp16 target: identical isolated errors
ref = {n['name']: n for n in fp16['nodes']}
for k in ('w4a16', 'nvfp4', 'mxfp4'):
    bad = []
    for n in reps[k]['nodes']:
        if n['quantized'] or not n['outputs'][0]['measured'] or not n['outputs'][0]['isolated']:
            continue
        a, b = n['outputs'][0]['isolated'], ref[n['name']]['outputs'][0]['isolated']
        if (a['max_abs'], a['sqnr_db'], a['rmse']) != (b['max_abs'], b['sqnr_db'], b['rmse']):
            bad.append(n['name'])
    nq = sum(1 for n in reps[k]['nodes'] if not n['quantized'] and n['outputs'][0]['measured'])
    say(not bad and nq >= 10, '%s: isolated error of every non-GEMM node is exactly the fp16 one (%d nodes)' % (k, nq), bad[:5])
# w4a16 quantizes weights only: no activation goes through a quantizer
acts = [o['isolated']['quantized_inputs'] for n in reps['w4a16']['nodes'] if n['quantized'] for o in n['outputs'] if o['isolated']]
say(acts and all(a == 0 for a in acts), 'w4a16 quantizes no activation (quantized_inputs 0)', acts[:5])
acts = [o['isolated']['quantized_inputs'] for n in reps['nvfp4']['nodes'] if n['quantized'] for o in n['outputs'] if o['isolated']]
say(acts and all(a > 0 for a in acts), 'nvfp4 quantizes the activations of GEMM-like ops', acts[:5])
for k in ('w4a16', 'nvfp4', 'mxfp8', 'mxfp4'):
    v = ld('vit_' + k)
    qn = [n for n in v['nodes'] if n['quantized']]
    say(qn and all(o['isolated'] is None or o['isolated']['sqnr_db'] is None or o['isolated']['sqnr_db'] > 0
                   for n in qn for o in n['outputs'] if o['measured']),
        'vit %s: %d quantized MatMul/Gemm nodes with finite errors' % (k, len(qn)))
PYEOF
while IFS= read -r line; do
    case "$line" in
        "ok - "*) ok "${line#ok - }" ;;
        "not ok - "*) notok "${line#not ok - }" ;;
        *) notok "report checks ran" "$line" ;;
    esac
done <"$TMP/out"

# determinism: any --threads gives the same numbers
$LD --threads 1 compare $R --target nvfp4 $D --report $TMP/t1.json -q >/dev/null 2>&1
$LD --threads 2 compare $R --target nvfp4 $D --report $TMP/t2.json -q >/dev/null 2>&1
if $PY -c "
import json,sys; a,b=[json.load(open(f)) for f in sys.argv[1:]]
x=lambda r:[(o['isolated'],o['propagated'],o['target_stats']) for n in r['nodes'] for o in n['outputs']]
sys.exit(0 if x(a)==x(b) else 1)" $TMP/t1.json $TMP/t2.json; then ok "nvfp4: --threads 1 and 2 give identical reports"
else notok "nvfp4: --threads 1 and 2 give identical reports"; fi

# MX scales clip a block's largest elements by design: the default saturation tolerance of the
# MX targets is 0.1 (format table), others keep 0.001; an explicit --max-saturation still wins
$LD compare $R --target mxfp8 $D -q --report $TMP/mx.json >/dev/null 2>&1; rc=$?
$LD compare $R --target mxfp8 $D -q --max-saturation 0.001 --report $TMP/mx2.json >/dev/null 2>&1; rc2=$?
if [ $rc -eq 0 ] && [ $rc2 -eq 1 ] && $PY -c "
import json,sys; a,b=[json.load(open(f))['settings']['tolerance']['max_saturation_fraction'] for f in sys.argv[1:]]
sys.exit(0 if (a,b)==(0.1,0.001) else 1)" $TMP/mx.json $TMP/mx2.json
then ok "mxfp8: default --max-saturation 0.1 passes, 0.001 flags the by-design clipping"
else notok "mxfp8 default saturation tolerance" "rc=$rc rc2=$rc2"; fi

# autopin with a block target: the pinned nodes run in FP32 (isolated error 0)
run_ok "autopin --target mxfp4" $LD autopin $R --target mxfp4 $D --goal 'sqnr>=12' -q --report $TMP/ap.json
expect_out "goal sqnr>=12: met" "autopin meets the goal on mxfp4"
if $PY -c "
import json,sys; r=json.load(open(sys.argv[1]))
p=[n for n in r['nodes'] if n['pinned']]
assert p, 'no pins'
assert all(not n['quantized'] and o['isolated']['max_abs']==0 for n in p for o in n['outputs'] if o['measured']), 'pinned not exact'
assert any(n['quantized'] for n in r['nodes']), 'nothing quantized'
" $TMP/ap.json 2>$TMP/err; then ok "autopin's pinned nodes are exact FP32, the others stay quantized"
else notok "autopin's pinned nodes are exact FP32" "$(cat $TMP/err)"; fi
