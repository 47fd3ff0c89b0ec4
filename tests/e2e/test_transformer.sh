#!/usr/bin/env bash
# Transformer realism, fixtures from tools/gen_transformer.py (random weights, generated here):
# 1. a GPT-2-small decoder (124M parameters, sequence 128, causal mask, LayerNorm, external
#    data): run and compare's reference agree with ONNX Runtime within 1e-4; peak RSS of `run`
#    at most weights + 2x the largest live set, of `compare --target fp16` at most weights +
#    4x the live set + one rounded copy of the largest weight (the tied 154 MB embedding) + the
#    logits of both sides it keeps for the classification summary;
# 2. a decoder step with KV-cache inputs/outputs and an attention mask: every output matches ORT;
# 3. a planted FP16 overflow of the attention scores (QK^T before the 1/sqrt(d) scale): compare
#    names the MatMul with an overflow reason, autopin's pins fix it and stay in that attention.
# LD_SKIP_BIG=1 leaves out part 1 (about a minute on 2 cores); so does an ASan binary (the asan
# suite), whose shadow memory and speed make the memory bounds and the time meaningless.
. "$(dirname "$0")/lib.sh"
PY=/usr/bin/python3
ORT_DIR=${ORT_DIR:-.cache/ort}
HAVE_ORT=0
[ -d "$ORT_DIR/node_modules/onnxruntime-node" ] && command -v node >/dev/null && HAVE_ORT=1
TIME=/usr/bin/time

npz_to_npy() {   # $1 = .npz, $2 = folder: one NAME.npy per entry (what tools/ort_feeds.js reads)
    $PY -c "
import numpy as np, sys; d=np.load('$1')
for k in d.files: np.save('$2/' + k + '.npy', d[k])"
}

# ---- 1. GPT-2 small
case $LD in *asan*) LD_SKIP_BIG=1 ;; esac
if [ "${LD_SKIP_BIG:-0}" = 1 ] || [ ! -x $TIME ]; then
    ok "GPT-2-small checks skipped (LD_SKIP_BIG=1, an ASan binary, or no /usr/bin/time)"
else
    G=$TMP/gpt2
    mkdir -p $G
    expect_rc 0 "generate a GPT-2-small decoder" $PY tools/gen_transformer.py full $G
    expect_out "full: 124.4M parameters, 498 MB of weights" "124M parameters in external data"
    expect_rc 0 "run GPT-2 small" $TIME -v $LD run $G/decoder.onnx --inputs $G/inputs.npz
    cp "$TMP/out" $G/run.log
    expect_rc 0 "run GPT-2 small, saving the logits" $LD run $G/decoder.onnx --inputs $G/inputs.npz --save-outputs $G/ld.npz
    expect_rc 0 "compare --target fp16 on GPT-2 small" $TIME -v $LD compare $G/decoder.onnx --inputs $G/inputs.npz --target fp16 --report $G/fp16.json
    cp "$TMP/out" $G/cmp.log
    $PY - $G >"$TMP/out" 2>&1 <<'PYEOF'
import json, re, sys
g = sys.argv[1]
meta = json.load(open(g + '/meta.json'))
rss = lambda f: int(re.search(r'Maximum resident set size \(kbytes\): (\d+)', open(f).read()).group(1)) * 1024
W, live, emb = meta['weight_bytes'], meta['live_bytes'], meta['vocab'] * meta['d'] * 4
base = 16 << 20            # the process itself: binary, libraries, thread stacks
logits = meta['seq'] * meta['vocab'] * 4
run_cap = W + 2 * live + base
# compare: also one rounded copy of the largest weight while its node runs, and output 0's rows
# of both sides kept for the classification summary
cmp_cap = W + 4 * live + emb + 2 * logits + base
r, c = rss(g + '/run.log'), rss(g + '/cmp.log')
print(f'run peak RSS {r / 1e6:.0f} MB (bound {run_cap / 1e6:.0f}), compare {c / 1e6:.0f} MB (bound {cmp_cap / 1e6:.0f})')
assert r <= run_cap, 'run RSS over bound'
assert c <= cmp_cap, 'compare RSS over bound'
rep = json.load(open(g + '/fp16.json'))
assert len(rep['nodes']) > 300 and rep['summary']['outputs'][0]['name'] == 'logits'
print('gpt2 memory ok')
PYEOF
    expect_out "gpt2 memory ok" "peak RSS within the bounds"
    grep -E "^run peak" "$TMP/out" | sed 's/^/# /'
    if [ $HAVE_ORT = 1 ]; then
        npz_to_npy $G/inputs.npz $G
        expect_rc 0 "ONNX Runtime runs GPT-2 small" env ORT_DIR=$ORT_DIR node tools/ort_feeds.js $G/decoder.onnx $G $G
        $PY - $G >"$TMP/out" 2>&1 <<'PYEOF'
import numpy as np, io, base64, json, sys
g = sys.argv[1]
o, l = np.load(g + '/logits.npy'), np.load(g + '/ld.npz')['logits']
assert np.max(np.abs(o - l)) <= 1e-4, np.max(np.abs(o - l))
b = io.BytesIO(); np.save(b, o)
json.dump({'lst': [['onnxrt-runner', [{'outputs': {'logits': {'array': base64.b64encode(b.getvalue()).decode(),
                                                               'polygraphy_class': 'ndarray'}}}]]]}, open(g + '/ort.json', 'w'))
print('run matches ort')
PYEOF
        expect_out "run matches ort" "run's logits within 1e-4 of ONNX Runtime's"
        expect_rc 0 "compare against ORT's outputs" $LD compare $G/decoder.onnx --inputs $G/inputs.npz --against-outputs $G/ort.json --report $G/ort_rep.json
        $PY -c "
import json; r=json.load(open('$G/ort_rep.json'))['summary']['outputs'][0]
assert r['name']=='logits' and r['max_abs'] <= 1e-4, r; print('compare matches ort')" >"$TMP/out" 2>&1
        expect_out "compare matches ort" "compare's FP32 reference within 1e-4 of ONNX Runtime's"
    else
        ok "ONNX Runtime cross-check skipped: onnxruntime-node not installed (tools/ensure_ort.sh)"
    fi
    rm -rf $G
fi

# ---- 2. one decoding step with a KV cache and an attention mask
S=$TMP/step
mkdir -p $S
expect_rc 0 "generate a KV-cache decoder step" $PY tools/gen_transformer.py step $S --layers 2 --d 128 --heads 4 --vocab 1000 --ctx 64 --past 16
expect_rc 0 "run the step" $LD run $S/decoder.onnx --inputs $S/inputs.npz --save-outputs $S/ld.npz
expect_out "present_key_1 +float32 \(1,4,17,32\)" "the cache grows by one position"
expect_rc 0 "compare --target fp16 on the step" $LD compare $S/decoder.onnx --inputs $S/inputs.npz --target fp16
expect_out "output present_value_1: SQNR" "every cache output measured"
if [ $HAVE_ORT = 1 ]; then
    npz_to_npy $S/inputs.npz $S
    expect_rc 0 "ONNX Runtime runs the step" env ORT_DIR=$ORT_DIR node tools/ort_feeds.js $S/decoder.onnx $S $S
    $PY -c "
import numpy as np; l=np.load('$S/ld.npz')
assert len(l.files) == 5
for k in l.files: d=np.max(np.abs(np.load('$S/'+k+'.npy')-l[k])); assert d <= 1e-4, (k, d)
print('step matches ort')" >"$TMP/out" 2>&1
    expect_out "step matches ort" "logits and present key/values within 1e-4 of ONNX Runtime's"
else
    ok "ONNX Runtime cross-check skipped: onnxruntime-node not installed (tools/ensure_ort.sh)"
fi
$PY - $S >"$TMP/out" 2>&1 <<'PYEOF'
import numpy as np, sys
s = sys.argv[1]
f, l = np.load(s + '/inputs.npz'), np.load(s + '/ld.npz')
assert (l['present_key_0'][:, :, :16] == f['past_key_0']).all(), 'past keys carried over'
print('cache carried')
PYEOF
expect_out "cache carried" "present keys start with the past keys"

# ---- 3. planted FP16 overflow of QK^T
P=$TMP/plant
mkdir -p $P
expect_rc 0 "generate a decoder with a planted score overflow" $PY tools/gen_transformer.py full $P --layers 2 --d 256 --heads 4 --seq 16 --vocab 500 --ctx 32 --plant-overflow 1
expect_rc 1 "compare finds it" $LD compare $P/decoder.onnx --inputs $P/inputs.npz --target fp16
expect_out "first divergent node \(isolated: where the error starts\): #[0-9]+ 'h1/attn/qk' \(MatMul\)" "named at the QK^T MatMul"
expect_out "why: output overflows FP16: 100% of values above 65504" "with an overflow reason"
expect_rc 0 "autopin fixes it" $LD autopin $P/decoder.onnx --inputs $P/inputs.npz --target fp16 -q
expect_out "goal sqnr>=[0-9.]+: met" "goal met"
grep -vE '^#|^ |^autopin|^$' "$TMP/out" > $P/pins
$PY -c "
pins=open('$P/pins').read().split()
assert 'h1/attn/qk' in pins and all(p.startswith('h1/attn/') for p in pins) and len(pins) <= 2, pins
print('pins', pins)" >"$TMP/out" 2>&1
expect_out "pins \[" "pins: the MatMul (and the scale that reads its FP32 output), nothing else"
