#!/usr/bin/env bash
# End-to-end tests of output files (never replaced without --force, FIFOs/devices/folders
# refused even with it, no temporary files left behind), of --batch N cutting --input/--inputs
# arrays into feeds of N (identical to --data on the same arrays, samples still counted), and
# of run --data.
. "$(dirname "$0")/lib.sh"
R=fixtures/models/fmnist_resnet.onnx
IMG=fixtures/fmnist/t10k-images-idx3-ubyte.gz
PY=/usr/bin/python3

# 10 Fashion-MNIST test images as one array, the way a user saves a batch with NumPy
$PY -c "
import gzip, numpy as np
b = gzip.open('$IMG').read()
x = np.frombuffer(b, dtype=np.uint8, offset=16).reshape(-1, 1, 28, 28)[:10].astype(np.float32) / 255
np.savez('$TMP/x.npz', image=x); np.save('$TMP/x.npy', x)
" || { notok "numpy writes the test arrays"; exit 0; }

# hidden entries of a folder (temporaries are ".NAME.*.tmp")
hidden() { ls -A "$1" | grep -c '^\.' ; }

# ---- output files ----
mkdir -p $TMP/o
echo precious >$TMP/o/r.json
expect_rc 73 "--report refuses an existing file" $LD compare $R --target fp16 --report $TMP/o/r.json -q
expect_out "r.json already exists \(use --force to replace it\)" "the refusal names the file and --force"
if [ "$(cat $TMP/o/r.json)" = precious ] && [ "$(hidden $TMP/o)" = 0 ]; then ok "refused: content kept, no temporary left"
else notok "refused: content kept, no temporary left" "$(ls -A $TMP/o; cat $TMP/o/r.json)"; fi
expect_rc 0 "--report --force replaces it" $LD compare $R --target fp16 --report $TMP/o/r.json --force -q
if $PY -c "import json; assert json.load(open('$TMP/o/r.json'))['schema']" 2>/dev/null && [ "$(hidden $TMP/o)" = 0 ]; then
    ok "replaced by a whole report, no temporary left"; else notok "replaced by a whole report, no temporary left" "$(ls -A $TMP/o)"; fi
mkfifo $TMP/o/fifo.json
expect_rc 73 "a FIFO is refused even with --force (no hang)" timeout 60 $LD compare $R --target fp16 --report $TMP/o/fifo.json --force -q
expect_out "fifo.json is a FIFO" "the refusal says it is a FIFO"
[ -p $TMP/o/fifo.json ] && ok "the FIFO is still there" || notok "the FIFO is still there"
mkdir $TMP/o/dir.svg
expect_rc 73 "plot -o a directory is refused even with --force" $LD plot $TMP/o/r.json -o $TMP/o/dir.svg --force
expect_out "is a directory" "the refusal says it is a directory"
expect_rc 73 "a device is refused even with --force" $LD compare $R --target fp16 --report /dev/null --force -q
expect_out "/dev/null is a device" "the refusal says it is a device"
expect_rc 73 "run --save-outputs into a missing folder" $LD run $R --save-outputs $TMP/o/none/out.npz
echo old >$TMP/o/out.npz
expect_rc 73 "run --save-outputs .npz refuses an existing file" $LD run $R --save-outputs $TMP/o/out.npz
[ "$(cat $TMP/o/out.npz)" = old ] && ok "the .npz is untouched" || notok "the .npz is untouched"
expect_rc 0 "run --save-outputs .npz --force replaces it" $LD run $R --save-outputs $TMP/o/out.npz --force
$PY -c "import numpy as np; assert np.load('$TMP/o/out.npz')['logits'].shape == (1, 10)" 2>"$TMP/out" && ok "the replacement is a valid .npz" \
    || notok "the replacement is a valid .npz" "$(cat $TMP/out)"
echo old >$TMP/o/cal.cache
expect_rc 73 "--write-calib-cache refuses an existing file" $LD compare $R --target int8 --inputs $TMP/x.npz --calib-method minmax --write-calib-cache $TMP/o/cal.cache -q
[ "$(cat $TMP/o/cal.cache)" = old ] && ok "the cache is untouched" || notok "the cache is untouched"
if [ "$(hidden $TMP/o)" = 0 ]; then ok "no temporary files left after refusals and failures"
else notok "no temporary files left after refusals and failures" "$(ls -A $TMP/o)"; fi

# ---- --batch cuts --inputs / --input arrays ----
expect_rc 0 "run --inputs (10 rows) without --batch" $LD run $R --inputs $TMP/x.npz
expect_out "1 feed, 10 samples" "without --batch the array is one feed"
expect_rc 0 "run --inputs --batch 4" $LD run $R --inputs $TMP/x.npz --batch 4
expect_out "^ran 3 feeds, 10 samples" "--batch 4 cuts 10 rows into 3 feeds (4, 4, 2) and counts 10 samples"
expect_rc 0 "run --input NAME=x.npy --batch 4" $LD run $R --input image=$TMP/x.npy --batch 4
expect_out "^ran 3 feeds, 10 samples" "--input arrays are cut too"
$LD run $R --inputs $TMP/x.npz --batch 4 --save-outputs $TMP/cut.json >/dev/null 2>&1
$LD run $R --data $TMP/x.npz --batch 4 --save-outputs $TMP/data.json >/dev/null 2>&1
$PY -c "
import json
def outs(p): return [[(k, v['values']['array']) for k, v in sorted(it['outputs'].items())] for it in json.load(open(p))['lst'][0][1]]
a, b = outs('$TMP/cut.json'), outs('$TMP/data.json')
assert len(a) == 3 and a == b, (len(a), len(b))
print('same outputs')" >"$TMP/out" 2>&1
expect_out "same outputs" "run: --inputs --batch 4 gives bit-identical outputs to --data --batch 4"

expect_rc 0 "compare --inputs --batch 4" $LD compare $R --target fp16 --inputs $TMP/x.npz --batch 4 --report $TMP/cut_r.json -q
expect_rc 0 "compare --data --batch 4" $LD compare $R --target fp16 --data $TMP/x.npz --batch 4 --report $TMP/data_r.json -q
expect_rc 0 "compare --inputs without --batch" $LD compare $R --target fp16 --inputs $TMP/x.npz --report $TMP/whole_r.json -q
$PY -c "
import json
a, b, w = (json.load(open('$TMP/' + n)) for n in ('cut_r.json', 'data_r.json', 'whole_r.json'))
for r in (a, b, w): r['summary'].pop('seconds')
assert a['settings']['samples'] == 10 and a['summary']['classification']['samples'] == 10, a['settings']
assert a['nodes'] == b['nodes'] and a['summary'] == b['summary'], 'cut != data'
print('same report')" >"$TMP/out" 2>&1
expect_out "same report" "compare: --inputs --batch 4 reports exactly what --data --batch 4 does, over 10 samples"
expect_rc 0 "autopin --inputs --batch 4" $LD autopin $R --target fp16 --inputs $TMP/x.npz --batch 4 --goal 'top1>=90' -q \
    --report $TMP/ap.json
$PY -c "
import json; a = json.load(open('$TMP/ap.json')); b = json.load(open('$TMP/data_r.json'))
assert a['settings']['samples'] == 10, a['settings']
assert a['nodes'] == b['nodes'], 'autopin report differs from compare --data'
print('autopin cut')" >"$TMP/out" 2>&1
expect_out "autopin cut" "autopin cuts the same feeds (its report matches compare --data --batch 4, 10 samples)"
expect_rc 64 "--data excludes --inputs (run)" $LD run $R --data $TMP/x.npz --inputs $TMP/x.npz
expect_rc 64 "--data excludes --input (compare)" $LD compare $R --target fp16 --data $TMP/x.npz --input image=$TMP/x.npy

# ---- run --data ----
expect_rc 0 "run --data IDX --max-samples 10 --batch 4" $LD run $R --data $IMG --max-samples 10 --batch 4
expect_out "^model .*: 41 nodes, 3 feeds, 10 samples" "run announces feeds and samples"
expect_out "^ran 3 feeds, 10 samples" "run says how many feeds and samples ran"
expect_rc 0 "run --data --json" $LD run $R --data $IMG --max-samples 6 --batch 3 --json
$PY -c "import json; d = json.load(open('$TMP/out')); assert (d['feeds'], d['samples']) == (2, 6), d; print('json counts')" >"$TMP/out2" 2>&1 \
    && ok "--json has feeds 2 and samples 6" || notok "--json has feeds 2 and samples 6" "$(cat $TMP/out2)"
expect_rc 66 "run --data of a missing path" $LD run $R --data $TMP/none
expect_rc 0 "run --data with preprocessing flags" $LD run $R --data fixtures/data/png --resize 28x28 --batch 2
expect_out "^ran [0-9]+ feeds?, [0-9]+ samples?" "images are run too"
