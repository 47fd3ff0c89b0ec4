#!/usr/bin/env bash
# End-to-end tests of compare's data, labels, calibration and tolerance flags on the bundled
# Fashion-MNIST sample and the image fixtures.
. "$(dirname "$0")/lib.sh"
R=fixtures/models/fmnist_resnet.onnx
IMG=fixtures/fmnist/t10k-images-idx3-ubyte.gz
LBL=fixtures/fmnist/t10k-labels-idx1-ubyte.gz
PY=/usr/bin/python3

expect_rc 0 "--data IDX --labels --class-names --inspect --max-samples --batch" \
    $LD compare $R --target fp16 --data $IMG --labels $LBL --class-names fixtures/fmnist/classes.txt \
    --max-samples 96 --batch 32 --inspect 2 --rows failing
expect_out "FP16 vs FP32 reference, 96 samples" "96 samples in batches of 32"
expect_out "accuracy: FP32 top-1 [0-9.]+% top-5 [0-9.]+%, FP16 top-1" "labelled accuracy of both"
expect_out "sample 0 label Ankle boot" "--inspect names the label with --class-names"
expect_out "^  fp16 +Ankle boot" "--inspect prints the target's top-5"
expect_rc 65 "labels shorter than the data" $LD compare $R --target fp16 --data $IMG --labels fixtures/data/labels/labels.txt --max-samples 64
expect_rc 66 "missing --data" $LD compare $R --target fp16 --data $TMP/none

# calibration: methods, a TensorRT cache written and read back
for m in minmax percentile mse entropy; do
    expect_rc 0 "int8 --calib-method $m runs" $LD compare $R --target int8 --data $IMG --max-samples 64 --batch 64 \
        --calib-method $m --max-saturation 1 --min-sqnr -100 -q
done
expect_rc 0 "--percentile" $LD compare $R --target int8 --data $IMG --max-samples 64 --batch 64 --calib-method percentile --percentile 99.9 --max-saturation 1 --min-sqnr -100 -q
expect_rc 64 "--percentile out of range" $LD compare $R --target int8 --percentile 10
expect_rc 0 "--calib DATA --write-calib-cache" $LD compare $R --target int8 --inputs fixtures/polygraphy/pg_fmnist_resnet_inputs.json \
    --calib $IMG --calib-method minmax --write-calib-cache $TMP/cache.txt -q
if head -1 $TMP/cache.txt | grep -q "^TRT-8601-MinMaxCalibration" && grep -qE "^/Div_output_0: [0-9a-f]{8}$" $TMP/cache.txt; then
    ok "the cache is TensorRT's text format"; else notok "the cache is TensorRT's text format" "$(head -3 $TMP/cache.txt)"; fi
$LD compare $R --target int8 --inputs fixtures/polygraphy/pg_fmnist_resnet_inputs.json --calib $IMG --calib-method minmax --report $TMP/a.json -q >/dev/null 2>&1
$LD compare $R --target int8 --inputs fixtures/polygraphy/pg_fmnist_resnet_inputs.json --calib-cache $TMP/cache.txt --report $TMP/b.json -q >/dev/null 2>&1
$PY -c "
import json; a=json.load(open('$TMP/a.json')); b=json.load(open('$TMP/b.json'))
sa=[o['propagated']['sqnr_db'] for n in a['nodes'] for o in n['outputs'] if o['measured']]
sb=[o['propagated']['sqnr_db'] for n in b['nodes'] for o in n['outputs'] if o['measured']]
assert sa==sb, (sa[:3], sb[:3]); assert 'cache' in b['settings']['calibration']; print('cache ok')" >"$TMP/out" 2>&1
expect_out "cache ok" "--calib-cache reproduces the calibrated run exactly"
expect_rc 73 "--write-calib-cache refuses to overwrite" $LD compare $R --target int8 --inputs fixtures/polygraphy/pg_fmnist_resnet_inputs.json --calib-method minmax --write-calib-cache $TMP/cache.txt -q
expect_rc 64 "--calib with --calib-cache" $LD compare $R --target int8 --calib $IMG --calib-cache $TMP/cache.txt

# tolerances and options
expect_rc 1 "--min-sqnr above what FP16 reaches fails" $LD compare $R --target fp16 --data $IMG --max-samples 32 --batch 32 --min-sqnr 80 -q
expect_rc 0 "--check-error-stat quantile --error-quantile" $LD compare $R --target fp16 --data $IMG --max-samples 32 --batch 32 \
    --atol 1e-2 --rtol 1e-2 --check-error-stat quantile --error-quantile 0.5 -q
expect_rc 0 "--no-isolated" $LD compare $R --target fp16 --data $IMG --max-samples 32 --batch 32 --no-isolated --report $TMP/noiso.json -q
$PY -c "import json; r=json.load(open('$TMP/noiso.json')); assert all(o['isolated'] is None for n in r['nodes'] for o in n['outputs']); print('noiso ok')" >"$TMP/out" 2>&1
expect_out "noiso ok" "--no-isolated leaves the isolated fields null"
expect_rc 0 "--accum fp16 on a healthy model" $LD compare $R --target fp16 --accum fp16 --data $IMG --max-samples 32 --batch 32 -q
expect_rc 0 "--fallback fp32 with fp8e4m3" $LD compare $R --target fp8e4m3 --fallback fp32 --data $IMG --max-samples 32 --batch 32 --min-sqnr -100 --max-saturation 1 -q
expect_rc 0 "nvfp4 --fallback fp32 runs" $LD compare $R --target nvfp4 --fallback fp32 --data $IMG --max-samples 32 --batch 32 --min-sqnr -100 --max-saturation 1 -q
expect_rc 0 "w4a16 --block-size 64 runs" $LD compare $R --target w4a16 --block-size 64 --data $IMG --max-samples 32 --batch 32 --min-sqnr -100 --max-saturation 1 -q
expect_rc 0 "fp8e5m2 runs" $LD compare $R --target fp8e5m2 --data $IMG --max-samples 32 --batch 32 --min-sqnr -100 --max-saturation 1 -q

# image folders: resize, crop, normalisation, CSV labels (a tiny RGB classifier built here)
$PY - "$TMP" <<'PYEOF'
import sys, numpy as np
from onnx import helper, TensorProto, numpy_helper as nh
t = sys.argv[1]
w = nh.from_array(np.full((3, 3, 2, 2), 0.1, np.float32), 'w')
g = helper.make_graph([helper.make_node('Conv', ['x', 'w'], ['c'], name='conv', strides=[2, 2]),
                       helper.make_node('GlobalAveragePool', ['c'], ['p'], name='gap'),
                       helper.make_node('Flatten', ['p'], ['y'], name='flat')], 'g',
    [helper.make_tensor_value_info('x', TensorProto.FLOAT, ['N', 3, 4, 4])],
    [helper.make_tensor_value_info('y', TensorProto.FLOAT, ['N', 3])], [w])
m = helper.make_model(g, opset_imports=[helper.make_opsetid('', 17)]); m.ir_version = 8
open(t + '/rgb.onnx', 'wb').write(m.SerializeToString())
PYEOF
expect_rc 0 "PNG folder with --resize --center-crop --imagenet-norm" $LD compare $TMP/rgb.onnx --target fp16 \
    --data fixtures/data/png --resize 6x6 --center-crop 4x4 --imagenet-norm -q
expect_rc 0 "--mean/--std and CSV labels" $LD compare $TMP/rgb.onnx --target bf16 --data fixtures/data/png \
    --resize 4x4 --mean 0.5 --std 0.25 --labels fixtures/data/labels/png.csv
expect_out "accuracy: FP32 top-1" "CSV labels matched by file name"
expect_rc 64 "a malformed --resize" $LD compare $TMP/rgb.onnx --target fp16 --data fixtures/data/png --resize 4by4
expect_rc 0 "JPEG folder" $LD compare $TMP/rgb.onnx --target fp16 --data fixtures/data/jpeg --resize 4x4 -q

# autopin budget flags
expect_rc 1 "autopin --time-limit stops the search" $LD autopin $R --target int8 --data $IMG --max-samples 64 --batch 64 \
    --calib-method entropy --goal 'sqnr>=200' --time-limit 0.01 -q
expect_out "stopped by time-limit" "says it stopped on the time limit"
