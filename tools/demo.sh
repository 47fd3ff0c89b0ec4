#!/usr/bin/env bash
# make demo: what layerdiff is for, on the bundled trained Fashion-MNIST ResNet and 512 labelled
# test images: inspect the model, run it in FP32, then compare it in INT8 (entropy calibration
# on the same images, TensorRT-style implicit quantization) and print the report's summary.
set -euo pipefail
cd "$(dirname "$0")/.."
LD=./layerdiff
M=fixtures/models/fmnist_resnet.onnx
IMG=fixtures/fmnist/t10k-images-idx3-ubyte.gz
LBL=fixtures/fmnist/t10k-labels-idx1-ubyte.gz
OUT=demo
mkdir -p "$OUT"

step() { printf '\n\033[1m$ %s\033[0m\n' "$*"; }

step "$LD inspect $M --no-nodes"
$LD inspect "$M" --no-nodes

step "$LD run $M --inputs fixtures/polygraphy/pg_fmnist_resnet_inputs.json --repeat 20"
$LD run "$M" --inputs fixtures/polygraphy/pg_fmnist_resnet_inputs.json --repeat 20

step "$LD compare $M --target int8 --data $IMG --labels $LBL --class-names fixtures/fmnist/classes.txt --batch 64 --calib-method entropy --inspect 3 --report $OUT/report_int8.json --force"
set +e
$LD compare "$M" --target int8 --data "$IMG" --labels "$LBL" --class-names fixtures/fmnist/classes.txt \
    --batch 64 --calib-method entropy --write-calib-cache "$OUT/calib.cache" --inspect 3 \
    --report "$OUT/report_int8.json" --force
rc=$?
set -e
echo "(exit status $rc: 0 = within tolerance, 1 = divergence found)"

step "summary of $OUT/report_int8.json"
/usr/bin/python3 - "$OUT/report_int8.json" <<'PYEOF'
import json, sys
r = json.load(open(sys.argv[1]))
s = r['summary']
print('schema           ', r['schema'])
print('target           ', r['settings']['target'], '| calibration:', r['settings'].get('calibration'))
print('samples          ', r['settings']['samples'])
for k in ('isolated', 'propagated'):
    d = s['first_divergent'][k]
    print(f'first divergent ({k}):', 'none' if d is None else f"#{d['index']} {d['node']} ({d['op']}): {d['reason']}")
c = s.get('classification') or {}
if c:
    print(f"top-1 agreement   {c['top1_agreement']:.2f}%   top-5 agreement {c['top5_agreement']:.2f}%")
    if c.get('ref_top1') is not None:
        print(f"accuracy          FP32 {c['ref_top1']:.2f}%  INT8 {c['target_top1']:.2f}%  (delta {c['delta_top1_pp']:+.2f} pp)")
worst = sorted((o['propagated']['sqnr_db'] if o['propagated']['sqnr_db'] is not None else 1e9, n['name'])
               for n in r['nodes'] for o in n['outputs'] if o['measured'])[:3]
print('lowest propagated SQNR:', ', '.join(f'{n} {v:.1f} dB' for v, n in worst))
PYEOF

step "$LD autopin $M --target int8 --data $IMG --max-samples 256 --batch 64 --goal 'sqnr>=30' --format trtexec"
$LD autopin "$M" --target int8 --data "$IMG" --max-samples 256 --batch 64 --calib-cache "$OUT/calib.cache" \
    --goal 'sqnr>=30' --format trtexec -q || true
echo
echo "Report: $OUT/report_int8.json (browse it: $LD browse $OUT/report_int8.json)"
