#!/usr/bin/env bash
# End-to-end tests of explicitly quantized (QDQ) models: tools/gen_qdq_fixtures.py builds INT8,
# INT4 block-128 and FP8 QDQ versions of fmnist_resnet (calibrated here on layerdiff's own
# mark-all activations of the bundled sample) and a planted model whose input quantizer clips
# ~30% of its values. `compare` detects the quantizers, runs the model as written against the
# same graph with its activation Q->DQ pairs removed, names the planted quantizer's consumer
# first divergent with the clip as the reason, and writes the per-quantizer report section.
. "$(dirname "$0")/lib.sh"
PY=/usr/bin/python3
F=fixtures/models/fmnist_resnet.onnx
IMG=fixtures/fmnist/t10k-images-idx3-ubyte.gz
LBL=fixtures/fmnist/t10k-labels-idx1-ubyte.gz
Q=$TMP/qdq
DATA=(--data $IMG --max-samples 16 --batch 16)

expect_rc 0 "calibration activations (run --mark-all)" $LD run $F --data $IMG --max-samples 64 --batch 64 \
    --mark-all --save-outputs $TMP/acts.npz
expect_rc 0 "gen_qdq_fixtures.py builds the QDQ models" $PY tools/gen_qdq_fixtures.py $F $TMP/acts.npz $Q
expect_out "planted: /Div_output_0 /stem/stem.0/Conv" "the planted quantizer is the stem's input"
for m in int8 int8_clip; do
    expect_rc 0 "onnx.checker passes on $m" $PY -c "import onnx, sys; onnx.checker.check_model(onnx.load(sys.argv[1]), full_check=True)" $Q/fmnist_resnet_qdq_$m.onnx
done

# detected without --target; healthy INT8 model within tolerance
expect_rc 0 "INT8 QDQ model: compare without --target, within tolerance" $LD compare $Q/fmnist_resnet_qdq_int8.onnx "${DATA[@]}" --labels $LBL
expect_out "QDQ \(as written\) vs FP32 reference" "the target is the model as written"
expect_out "QDQ model: 14 activation quantizers .*, 16 weight quantizers: kept dequantized on both sides" \
    "without --float-model the text says the weights are kept dequantized"
expect_out "first divergent node \(isolated: where the error starts\): none" "no divergent node"

# the planted clip
expect_rc 1 "planted clip: divergence found" $LD compare $Q/fmnist_resnet_qdq_int8_clip.onnx "${DATA[@]}" \
    --float-model $F --report $TMP/clip.json
expect_out "first divergent node \(isolated: where the error starts\): #[0-9]+ '/stem/stem.0/Conv'" \
    "the clipping quantizer's consumer is first divergent"
expect_out "why: quantizer '/Div_output_0_QuantizeLinear' clips (2[0-9]|3[0-9])\.[0-9]% of its input" \
    "the reason is the quantizer's clip, 20-40% of its input"
expect_out "16 weight quantizers: float originals on the reference side \($F\)" "--float-model supplies every weight"

# the report: schema and the quantizer facts
$PY - schemas/layerdiff.report-1.schema.json $TMP/clip.json >$TMP/out 2>&1 <<'EOF'
import json, sys
from jsonschema import Draft202012Validator
schema, r = json.load(open(sys.argv[1])), json.load(open(sys.argv[2]))
errs = list(Draft202012Validator(schema).iter_errors(r))
assert not errs, errs[0].message
q = r["qdq"]
assert r["settings"]["target"] == "qdq", r["settings"]["target"]
assert q["activation_quantizers"] == 14 and q["weight_quantizers"] == 16 and q["float_weights"] == 16, q
byname = {x["name"]: x for x in q["quantizers"]}
p = byname["/Div_output_0_QuantizeLinear"]
assert 20 <= p["clip_pct"] <= 40, p
others = [x for x in q["quantizers"] if x["kind"] == "activation" and x is not p]
assert all(x["clip_pct"] < 1 for x in others), [(x["name"], x["clip_pct"]) for x in others if x["clip_pct"] >= 1]
w = [x for x in q["quantizers"] if x["kind"] == "weight"]
assert all(x["axis"] == 0 and x["scale"]["count"] > 1 and x["dtype"] == "int8" for x in w), w[0]
fd = r["summary"]["first_divergent"]["isolated"]
assert fd["node"] == "/stem/stem.0/Conv" and "clips" in fd["reason"], fd
print("report ok")
EOF
if grep -q "report ok" $TMP/out; then ok "report validates; qdq section: clip % of the planted quantizer, per-channel weights"
else notok "report validates; qdq section" "$(tail -c 400 $TMP/out)"; fi

# a broken report must fail the schema (the qdq section is checked)
$PY - schemas/layerdiff.report-1.schema.json $TMP/clip.json >$TMP/out 2>&1 <<'EOF'
import json, sys
from jsonschema import Draft202012Validator
schema, r = json.load(open(sys.argv[1])), json.load(open(sys.argv[2]))
r["qdq"]["quantizers"][0]["clip_pct"] = 130
print("invalid" if list(Draft202012Validator(schema).iter_errors(r)) else "accepted")
EOF
expect_out "invalid" "a quantizer with clip_pct 130 fails the schema"

# INT4 block-128 weight-only and FP8: they run; the INT4 model differs only with --float-model
expect_rc 0 "INT4 block-128 weight-only model without --float-model: exact" $LD compare $Q/fmnist_resnet_qdq_int4.onnx "${DATA[@]}" --report $TMP/int4.json
expect_out "0 activation quantizers .*16 weight quantizers: kept dequantized" "INT4: weight quantizers only"
$PY -c "import json,sys; r=json.load(open(sys.argv[1])); o=r['summary']['outputs'][0]; print('sqnr', o['sqnr_db'])" $TMP/int4.json >$TMP/out 2>&1
expect_out "sqnr None" "INT4 without float weights: both sides identical"
expect_rc 0 "INT4 with --float-model: compared" $LD compare $Q/fmnist_resnet_qdq_int4.onnx "${DATA[@]}" --float-model $F --report $TMP/int4f.json --min-sqnr 5
$PY -c "
import json,sys; r=json.load(open(sys.argv[1])); q=r['qdq']
w=[x for x in q['quantizers'] if x['block_size']==128]
print('blocks', len(w), q['float_weights'], 'sqnr', r['summary']['outputs'][0]['sqnr_db'])" $TMP/int4f.json >$TMP/out 2>&1
expect_out "blocks 16 16 sqnr [0-9]" "INT4: 16 block-128 quantizers, float weights matched, finite output SQNR"
# weight quantizers are candidates when their float originals are known
expect_rc 0 "autopin on INT4 with --float-model disables weight quantizers" $LD autopin $Q/fmnist_resnet_qdq_int4.onnx "${DATA[@]}" \
    --float-model $F --goal 'sqnr>=40' --format modelopt -o $TMP/w4.json --write-model $TMP/w4.onnx --quiet
expect_out "weight quantizer '[^']+_DequantizeLinear'" "the disabled quantizers are weights"
$PY -c "
import json, onnx, sys
m = onnx.load(sys.argv[1]); dq = sum(n.op_type == 'DequantizeLinear' for n in m.graph.node)
off = json.load(open(sys.argv[2]))['quantizers_to_disable']
fl = sum(i.data_type == 1 and i.name.endswith('_DequantizeLinear_Output') for i in m.graph.initializer)
print('dq', dq, 'disabled', len(off), 'float', fl, all(x.endswith('.weight_quantizer') for x in off))" $TMP/w4.onnx $TMP/w4.json >$TMP/out 2>&1
dq=$(sed -n 's/^dq \([0-9]*\) disabled \([0-9]*\) float \([0-9]*\) True$/\1 \2 \3/p' $TMP/out)
set -- $dq
if [ -n "$dq" ] && [ $(( $1 + $2 )) -eq 16 ] && [ "$2" -eq "$3" ] && [ "$2" -gt 0 ]; then
    ok "written model: each disabled weight quantizer replaced by a float initializer ($2 of 16)"
else notok "written model: disabled weight quantizers replaced by float initializers" "$(cat $TMP/out)"; fi
expect_rc 0 "FP8 E4M3 QDQ model: compare" $LD compare $Q/fmnist_resnet_qdq_fp8.onnx "${DATA[@]}" --float-model $F --report $TMP/fp8.json --min-sqnr 10
$PY -c "
import json,sys; r=json.load(open(sys.argv[1])); q=r['qdq']['quantizers']
print(sorted(set(x['dtype'] for x in q)))" $TMP/fp8.json >$TMP/out 2>&1
expect_out "float8e4m3fn" "FP8: quantizers in float8 e4m3fn"

# --target qdq on a model without quantizers; no --target on a float model
expect_rc 65 "--target qdq on a float model" $LD compare $F --target qdq
expect_out "has none" "says the model has no quantizers"
expect_rc 64 "no --target on a float model is still a usage error" $LD compare $F
expect_out "missing --target" "names the missing --target"

# autopin: the quantizers are the search space; the planted one is the one to disable
expect_rc 0 "autopin on the planted model meets the goal" $LD autopin $Q/fmnist_resnet_qdq_int8_clip.onnx "${DATA[@]}" \
    --float-model $F --format list --format ort --format modelopt -o $TMP/pins --write-model $TMP/fixed.onnx --quiet
expect_out "1 quantizer disabled" "exactly one quantizer disabled"
expect_out "#[0-9]+ /Div_output_0_DequantizeLinear \(activation quantizer '/Div_output_0_QuantizeLinear'\)" "the clipping quantizer"
cp $TMP/pins.txt $TMP/out
expect_out "^/Div_output_0_DequantizeLinear$" "list: the DequantizeLinear to pin (--pin @FILE)"
tr -d ' \t\n' <$TMP/pins.ort.json >$TMP/out
expect_out '^\["/stem/stem.0/Conv"\]$' "ONNX Runtime nodes_to_exclude: the clipping quantizer's consumer"
tr -d ' \t\n' <$TMP/pins.modelopt.json >$TMP/out
expect_out '"quantizers_to_disable":\["stem.0.input_quantizer"\]' "ModelOpt: the quantizer name to disable"
expect_out '"\*stem.0.input_quantizer":\{"enable":false\}' "ModelOpt: quant_cfg disabling it"
expect_rc 0 "the written model passes onnx.checker" $PY -c "import onnx, sys; onnx.checker.check_model(onnx.load(sys.argv[1]), full_check=True)" $TMP/fixed.onnx
$PY -c "
import onnx, sys; m = onnx.load(sys.argv[1]); names = [n.name for n in m.graph.node]
print('nodes', len(names), 'planted pair', any(n.startswith('/Div_output_0_') for n in names))" $TMP/fixed.onnx >$TMP/out
expect_out "nodes 83 planted pair False" "the written model lacks exactly the planted Q/DQ pair"
expect_rc 0 "layerdiff compares the written model within tolerance" $LD compare $TMP/fixed.onnx "${DATA[@]}" --float-model $F
expect_out "QDQ model: 13 activation quantizers" "13 activation quantizers left"
expect_rc 0 "--pin @FILE disables the quantizer in compare" $LD compare $Q/fmnist_resnet_qdq_int8_clip.onnx "${DATA[@]}" --pin @$TMP/pins.txt

# ONNX Runtime cross-check (when onnxruntime-node is installed: tools/ensure_ort.sh)
ORT_DIR=${ORT_DIR:-.cache/ort}
if [ -d "$ORT_DIR/node_modules/onnxruntime-node" ] && command -v node >/dev/null; then
    $PY - $TMP/x.npy <<'PYEOF' >/dev/null
import gzip, sys, numpy as np
b = gzip.open("fixtures/fmnist/t10k-images-idx3-ubyte.gz").read()
np.save(sys.argv[1], (np.frombuffer(b, np.uint8, offset=16)[:32 * 784].reshape(32, 1, 28, 28) / 255).astype(np.float32))
PYEOF
    # ONNX Runtime's CPU QDQ fusions take no float8: the FP8 model runs unoptimised there
    for m in int8:all fp8:disabled; do
        name=${m%%:*} opt=${m##*:} d=$TMP/ort_$name
        mkdir -p $d/q
        $PY tests/e2e/qdq_ort_check.py prep $Q/fmnist_resnet_qdq_$name.onnx $d/all.onnx
        if ORT_OPT=$opt ORT_DIR=$ORT_DIR node tools/ort_run_all.js $d/all.onnx $d/ort image=$TMP/x.npy >$TMP/out 2>&1 &&
           $LD run $d/all.onnx --input image=$TMP/x.npy --mark-all --save-outputs $d/ld.npz >>$TMP/out 2>&1; then
            ok "$name: ONNX Runtime ($opt) and layerdiff run the model with its quantizers as outputs"
        else notok "$name: ONNX Runtime and layerdiff run the model" "$(tail -c 300 $TMP/out)"; fi
        names=$($PY tests/e2e/qdq_ort_check.py qonly $Q/fmnist_resnet_qdq_$name.onnx $d/ort $d/q)
        ospecs=() lspecs=()
        for n in $names; do ospecs+=("$n=$d/q/$n.npy"); lspecs+=(--input "$n=$d/q/$n.npy"); done
        ORT_OPT=$opt ORT_DIR=$ORT_DIR node tools/ort_run_all.js $d/q/qonly.onnx $d/q/ort "${ospecs[@]}" >$TMP/out 2>&1 || cat $TMP/out
        $LD run $d/q/qonly.onnx "${lspecs[@]}" --save-outputs $d/q/ld.npz >$TMP/out 2>&1 || cat $TMP/out
        while IFS=$'\t' read -r status what detail; do
            case $status in
                ok) ok "$name: $what" ;;
                "not ok") notok "$name: $what" "$detail" ;;
                *) echo "# $name: $what" ;;
            esac
        done < <($PY tests/e2e/qdq_ort_check.py check $d/all.onnx $d/ld.npz $d/ort 2>&1;
                 $PY tests/e2e/qdq_ort_check.py checkq $d/q/qonly.onnx $d/q/ld.npz $d/q/ort 2>&1)
    done
    if ORT_DIR=$ORT_DIR node tools/ort_run.js $TMP/fixed.onnx image $TMP/x.npy $TMP/fixed_ort.npy >$TMP/out 2>&1; then
        ok "ONNX Runtime runs the model autopin wrote"
    else notok "ONNX Runtime runs the model autopin wrote" "$(tail -c 300 $TMP/out)"; fi
else
    echo "# ONNX Runtime not installed (tools/ensure_ort.sh): cross-check skipped"
fi

# a pin on the quantized node disables its input quantizers: the same numbers as pinning the
# quantizer's DequantizeLinear (what ONNX Runtime's nodes_to_exclude means)
$LD compare $Q/fmnist_resnet_qdq_int8_clip.onnx "${DATA[@]}" --pin /stem/stem.0/Conv --report $TMP/pc.json -q >/dev/null 2>&1
$LD compare $Q/fmnist_resnet_qdq_int8_clip.onnx "${DATA[@]}" --pin /Div_output_0_DequantizeLinear --report $TMP/pd.json -q >/dev/null 2>&1
if $PY - $TMP/pc.json $TMP/pd.json >$TMP/out 2>&1 <<'PYEOF'
import json, sys
a, b = (json.load(open(f)) for f in sys.argv[1:])
m = lambda r: [(n['name'], o['isolated'], o['propagated']) for n in r['nodes'] if n['op'] != 'Conv' or n['name'] != '/stem/stem.0/Conv' for o in n['outputs']]
conv = [n for n in a['nodes'] if n['name'] == '/stem/stem.0/Conv'][0]['outputs'][0]
assert conv['isolated']['max_abs'] == 0 and conv['propagated']['max_abs'] == 0, 'pinned conv not exact'
assert m(a) == m(b), 'pin on the Conv differs from the pin on its quantizer'
PYEOF
then ok "--pin on a quantized node = --pin on its input quantizer's DequantizeLinear"
else notok "--pin on a quantized node disables its quantizers" "$(cat $TMP/out)"; fi

# the second bundled model: QDQ versions of the ViT (Conv patch embedding, Gemm/MatMul blocks)
V=fixtures/models/fmnist_vit.onnx
VQ=$TMP/qdq_vit
expect_rc 0 "vit: calibration activations" $LD run $V --data $IMG --max-samples 32 --batch 32 --mark-all --save-outputs $TMP/vacts.npz
expect_rc 0 "vit: gen_qdq_fixtures.py builds its QDQ models" $PY tools/gen_qdq_fixtures.py $V $TMP/vacts.npz $VQ
for m in int8 int4 fp8; do
    expect_rc 0 "vit $m QDQ model: compare without --target, within tolerance" $LD compare $VQ/fmnist_vit_qdq_$m.onnx "${DATA[@]}" --labels $LBL -q
done
expect_rc 1 "vit planted clip: divergence found" $LD compare $VQ/fmnist_vit_qdq_int8_clip.onnx "${DATA[@]}" --float-model $V --rows 0
expect_out "first divergent node \(isolated: where the error starts\): #[0-9]+ '/patch/Conv'" "vit: the clipping quantizer's consumer is first divergent"
expect_out "why: quantizer '/Div_output_0_QuantizeLinear' clips" "vit: the reason is the clip"

echo "1..$N"
