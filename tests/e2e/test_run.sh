#!/usr/bin/env bash
# End-to-end tests of `layerdiff run` on the trained models: outputs, inputs from every
# supported format, saving in every format (read back by numpy), timing, JSON.
. "$(dirname "$0")/lib.sh"
R=fixtures/models/fmnist_resnet.onnx
V=fixtures/models/fmnist_vit.onnx
PG=fixtures/polygraphy/pg_fmnist_resnet_inputs.json
PY=/usr/bin/python3

expect_rc 0 "run fmnist_resnet with generated input" $LD run $R
expect_out 'logits  float32 \(1,10\)' "prints the output summary"
expect_rc 0 "run fmnist_vit batch 3" $LD run $V --batch 3
expect_out 'logits  float32 \(3,10\)' "vit output has batch 3"
expect_rc 0 "run with Polygraphy inputs" $LD run $R --inputs $PG
expect_out 'argmax per row: [0-9] [0-9]' "classifies both saved images"

# same inputs through .npy, .npz and .pb give the same logits
$PY - "$TMP" <<'PYEOF'
import json, base64, io, sys, numpy as np, onnx, onnx.numpy_helper as nh
d = json.load(open('fixtures/polygraphy/pg_fmnist_resnet_inputs.json'))
a = np.load(io.BytesIO(base64.b64decode(d[0]['image']['array'])))
np.save(sys.argv[1] + '/img.npy', a)
np.savez(sys.argv[1] + '/img.npz', image=a)
open(sys.argv[1] + '/img.pb', 'wb').write(nh.from_array(a, 'image').SerializeToString())
PYEOF
for f in npy pb; do
    expect_rc 0 "--input image=.$f" $LD run $R --input image=$TMP/img.$f --save-outputs $TMP/out_$f.npz
done
expect_rc 0 "--inputs .npz" $LD run $R --inputs $TMP/img.npz --save-outputs $TMP/out_npz.npz
expect_rc 0 "--save-outputs Polygraphy json" $LD run $R --inputs $PG --save-outputs $TMP/out.json
expect_rc 0 "--save-outputs directory + --mark-all" $LD run $R --inputs $PG --mark-all --save-outputs $TMP/dir
$PY - "$TMP" >"$TMP/out" 2>&1 <<'PYEOF'
import sys, json, base64, io, numpy as np
t = sys.argv[1]
a, b, c = (np.load(f'{t}/out_{k}.npz')['logits'] for k in ('npy', 'pb', 'npz'))
assert a.shape == (2, 10) and np.array_equal(a, b) and np.array_equal(a, c), 'formats disagree'
r = json.load(open(f'{t}/out.json'))
assert r['polygraphy_class'] == 'RunResults'
it = r['lst'][0][1][0]
arr = np.load(io.BytesIO(base64.b64decode(it['outputs']['logits']['values']['array'])))
assert np.array_equal(arr, a), 'json logits differ'
idx = json.load(open(f'{t}/dir/index.json'))
names = set(idx.values())
assert 'logits' in names and '/stem/stem.0/Conv_output_0' in names and len(names) >= 38, names
for f, n in idx.items():
    x = np.load(f'{t}/dir/{f}')
print('formats agree')
PYEOF
expect_out 'formats agree' "npy/pb/npz inputs agree; json and npy-dir outputs readable by numpy"
expect_rc 73 "refuses to overwrite --save-outputs" $LD run $R --save-outputs $TMP/out.json
expect_out 'already exists' "overwrite refusal says why"
expect_rc 0 "--force overwrites" $LD run $R --save-outputs $TMP/out.json --force

expect_rc 0 "--repeat/--warmup timing" $LD run $R --repeat 5 --warmup 2 --batch 4
expect_out 'mean [0-9.]+ ms, median [0-9.]+ ms, min [0-9.]+ ms, max [0-9.]+ ms' "latency statistics"
expect_out 'throughput: [0-9.]+ samples/s \(batch 4' "throughput in samples/s"
expect_rc 0 "--json with timing" $LD run $R --json --repeat 3
cp "$TMP/out" "$TMP/j.json"
$PY -c "
import json,sys; d=json.load(open('$TMP/j.json'))
l=d['latency_ms']; assert set(l)=={'mean','median','min','max'} and l['min']<=l['median']<=l['max']
assert d['throughput']>0 and d['outputs'][0]['shape']==[1,10]
print('json ok')" >"$TMP/out" 2>&1
expect_out 'json ok' "run --json has latency_ms and throughput"
expect_rc 0 "--val-range and --seed are deterministic" $LD run $R --val-range -1,1 --seed 7 --save-outputs $TMP/s1.npz
$LD run $R --val-range -1,1 --seed 7 --save-outputs $TMP/s2.npz >/dev/null 2>&1
$LD run $R --val-range -1,1 --seed 8 --save-outputs $TMP/s3.npz >/dev/null 2>&1
$PY -c "
import numpy as np; a,b,c=(np.load('$TMP/s%d.npz'%i)['logits'] for i in (1,2,3))
assert np.array_equal(a,b) and not np.array_equal(a,c); print('seed ok')" >"$TMP/out" 2>&1
expect_out 'seed ok' "same seed same outputs, other seed other outputs"
expect_rc 64 "bad --val-range" $LD run $R --val-range 2,1

expect_rc 0 "--repeat --profile" $LD run $R --repeat 3 --profile
expect_out "time per op type \\(mean over 3 runs\\)" "profile header"
expect_out "^  Conv +15 +[0-9.]+ +[0-9.]+%" "Conv row with its node count"
expect_rc 64 "--profile needs --repeat" $LD run $R --profile
