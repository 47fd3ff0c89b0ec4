#!/usr/bin/env bash
# End-to-end tests of the JSON report "layerdiff.report/1": real reports of `compare` (fp16,
# bf16, int8 on fmnist_resnet with the Polygraphy inputs, and the Polygraphy mark-all results)
# validate against schemas/layerdiff.report-1.schema.json with Python's jsonschema, agree with
# the exit code and hold a few facts the schema cannot express; deliberately broken reports
# must fail validation, so the schema really checks something.
. "$(dirname "$0")/lib.sh"
M=fixtures/models/fmnist_resnet.onnx
PG=fixtures/polygraphy/pg_fmnist_resnet_inputs.json
MARKALL=fixtures/polygraphy/pg_fmnist_resnet_markall.json
SCHEMA=schemas/layerdiff.report-1.schema.json
PY=/usr/bin/python3

# check_report NAME REPORT RC TARGET MODE: schema validation and semantic checks of one report,
# one TAP line each (the Python part prints "ok|not ok<TAB>description<TAB>detail").
check_report() {
    local name=$1 report=$2 rc=$3 target=$4 mode=$5 status what detail
    while IFS=$'\t' read -r status what detail; do
        if [ "$status" = ok ]; then ok "$name: $what"; else notok "$name: $what" "$detail"; fi
    done < <("$PY" - "$SCHEMA" "$report" "$rc" "$target" "$mode" 2>&1 <<'PYEOF'
import json, sys

def say(good, what, detail=""):
    print("%s\t%s\t%s" % ("ok" if good else "not ok", what, str(detail).replace("\n", " ")[:400]))

schema_path, report_path, rc, target, mode = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4], sys.argv[5]
try:
    import jsonschema
    from jsonschema import Draft202012Validator
except ImportError as e:
    say(False, "python3-jsonschema is installed", e)
    sys.exit(0)
try:
    schema = json.load(open(schema_path))
    Draft202012Validator.check_schema(schema)
    say(True, "the schema file is a valid draft 2020-12 schema")
except Exception as e:
    say(False, "the schema file is a valid draft 2020-12 schema", e)
    sys.exit(0)
try:
    r = json.load(open(report_path))
except Exception as e:
    say(False, "the report is valid JSON", e)
    sys.exit(0)
say(True, "the report is valid JSON")

errors = sorted(Draft202012Validator(schema).iter_errors(r), key=lambda e: list(e.absolute_path))
say(not errors, "validates against the schema",
    "; ".join("%s: %s" % ("/".join(map(str, e.absolute_path)), e.message) for e in errors[:3]))

say(r.get("schema") == "layerdiff.report/1", "schema is layerdiff.report/1", r.get("schema"))
st = r.get("settings", {})
say(st.get("target") == target and st.get("mode") == mode, "settings name target %s, mode %s" % (target, mode),
    (st.get("target"), st.get("mode")))

nodes = r.get("nodes", [])
idx = [n.get("index") for n in nodes]
say(len(idx) > 0 and all(a < b for a, b in zip(idx, idx[1:])) and idx[-1] < r["model"]["nodes"],
    "nodes in topological order (strictly increasing index below model.nodes)", idx[:10])

summ = r.get("summary", {})
fd = summ.get("first_divergent", {})
by_index = {n["index"]: n for n in nodes}
good, detail = True, ""
for side in ("isolated", "propagated"):
    d = fd.get(side, "missing")
    if d is None:
        continue
    if not isinstance(d, dict) or not isinstance(d.get("node"), str) or not isinstance(d.get("index"), int) \
            or not d.get("reason"):
        good, detail = False, "%s: %r" % (side, d)
        continue
    n = by_index.get(d["index"])
    outs = {o["name"]: o for o in n["outputs"]} if n else {}
    o = outs.get(d.get("output"))
    if not n or n["name"] != d["node"] or o is None or o.get(side) is None or o[side].get("pass") is not False \
            or o[side].get("reason") != d["reason"]:
        good, detail = False, "%s: %r does not match its node and failing output" % (side, d)
say(good, "first_divergent entries are null or {node, index, reason} naming a failing output", detail)

# the first divergent node is the first failing one in topological order
good, detail = True, ""
for side, flag in (("isolated", "isolated_fail"), ("propagated", "propagated_fail")):
    first = next((n["index"] for n in nodes for o in n["outputs"] if flag in o["flags"]), None)
    d = fd.get(side)
    if (d["index"] if d else None) != first:
        good, detail = False, "%s: first_divergent %r, first %s at %r" % (side, d, flag, first)
say(good, "first_divergent is the first node with a failing comparison", detail)

failing = sum(1 for n in nodes for o in n["outputs"] if {"isolated_fail", "propagated_fail"} & set(o["flags"]))
say(summ.get("failing_tensors") == failing, "failing_tensors counts the failing outputs",
    (summ.get("failing_tensors"), failing))

passed = summ.get("passed")
say((rc == 0 and passed is True) or (rc == 1 and passed is False),
    "exit code %d agrees with summary.passed" % rc, passed)
say(any(o.get("name") == "logits" for o in summ.get("outputs", [])), "summary.outputs has the model output logits",
    summ.get("outputs"))
PYEOF
)
}

for t in fp16 bf16 int8 nvfp4 w4a16; do
    "$LD" compare $M --target $t --inputs $PG --report "$TMP/r_$t.json" --force >"$TMP/out_$t" 2>&1
    rc=$?
    if [ "$rc" -eq 0 ] || [ "$rc" -eq 1 ]; then ok "compare --target $t exits 0 or 1 (got $rc)"
    else notok "compare --target $t exits 0 or 1" "exit $rc: $(head -c 400 "$TMP/out_$t")"; fi
    check_report "$t" "$TMP/r_$t.json" "$rc" $t emulate
done

# the healthy trained model passes in fp16 and bf16: the report says so
for t in fp16 bf16; do
    if "$PY" -c "import json,sys; r=json.load(open(sys.argv[1])); sys.exit(0 if r['summary']['passed'] and r['summary']['first_divergent'] == {'isolated': None, 'propagated': None} else 1)" "$TMP/r_$t.json" 2>/dev/null
    then ok "$t report: passed, no divergent node"; else notok "$t report: passed, no divergent node"; fi
done

# int8 carries its calibration and fallback; the quantized nodes are marked
if "$PY" -c "
import json,sys; r=json.load(open(sys.argv[1])); s=r['settings']
q=[n for n in r['nodes'] if n['quantized']]
sys.exit(0 if s['fallback']=='fp16' and s['calibration'] and q and all(n['op'] in ('Conv','ConvTranspose','Gemm','MatMul') for n in q) else 1)" "$TMP/r_int8.json" 2>/dev/null
then ok "int8 report: fallback, calibration, quantized Conv/Gemm nodes"; else notok "int8 report: fallback, calibration, quantized Conv/Gemm nodes"; fi

# block-scaled targets carry their block size and fallback but no calibration; the schema
# rejects a block report without block_size, with calibration, and an int8 one with block_size
if "$PY" - "$SCHEMA" "$TMP/r_nvfp4.json" "$TMP/r_w4a16.json" "$TMP/r_int8.json" 2>"$TMP/err" <<'PYEOF'
import copy, json, sys
from jsonschema import Draft202012Validator
v = Draft202012Validator(json.load(open(sys.argv[1])))
nv, w4, i8 = (json.load(open(f)) for f in sys.argv[2:5])
assert nv["settings"]["block_size"] == 16 and w4["settings"]["block_size"] == 128, "block sizes"
assert "calibration" not in nv["settings"] and nv["settings"]["fallback"] == "fp16", "nvfp4 settings"
def broken(r, f):
    r = copy.deepcopy(r); f(r["settings"]); return bool(list(v.iter_errors(r)))
assert broken(nv, lambda s: s.pop("block_size")), "nvfp4 without block_size accepted"
assert broken(nv, lambda s: s.update(calibration="minmax")), "nvfp4 with calibration accepted"
assert broken(i8, lambda s: s.update(block_size=32)), "int8 with block_size accepted"
assert broken(nv, lambda s: s.update(block_size=0)), "block_size 0 accepted"
PYEOF
then ok "block reports: block_size, fallback, no calibration; the schema enforces them"
else notok "block reports: block_size, fallback, no calibration; the schema enforces them" "$(tail -3 "$TMP/err")"; fi

# another mode: the FP32 reference against Polygraphy's ONNX Runtime results
"$LD" compare $M --against-outputs $MARKALL --load-inputs $PG --report "$TMP/r_pg.json" --force -q >"$TMP/out_pg" 2>&1
rc=$?
if [ "$rc" -eq 0 ]; then ok "compare --against-outputs exits 0"; else notok "compare --against-outputs exits 0" "exit $rc: $(head -c 400 "$TMP/out_pg")"; fi
check_report "against-outputs" "$TMP/r_pg.json" "$rc" fp32 against-outputs

# '--report -' writes the same kind of report to standard output
"$LD" compare $M --target fp16 --inputs $PG --no-isolated -q --report - >"$TMP/r_stdout.json" 2>"$TMP/err_stdout"
rc=$?
check_report "stdout --no-isolated" "$TMP/r_stdout.json" "$rc" fp16 emulate

# deliberately broken reports must be rejected, or the schema checks nothing
"$PY" - "$SCHEMA" "$TMP/r_int8.json" >"$TMP/broken" 2>&1 <<'PYEOF'
import copy, json, sys
from jsonschema import Draft202012Validator
v = Draft202012Validator(json.load(open(sys.argv[1])))
base = json.load(open(sys.argv[2]))
def first_measured(r):
    return next(o for n in r["nodes"] for o in n["outputs"] if o["measured"])
def b_schema(r): r["schema"] = "layerdiff.report/2"
def b_missing(r): del r["summary"]["passed"]
def b_flag(r): first_measured(r)["flags"].append("bogus")
def b_target(r): r["settings"]["target"] = "fp64"
def b_mode(r): r["settings"]["mode"] = "simulate"
def b_extra(r): r["nodes"][0]["colour"] = "red"
def b_type(r): first_measured(r)["propagated"]["count"] = "1568"
def b_inf(r): first_measured(r)["propagated"]["sqnr_db"] = "Infinity"
def b_passed(r): r["summary"]["passed"] = True          # int8 fails: failing_tensors > 0
def b_reason(r): first_measured(r)["propagated"]["pass"] = False   # a failing comparison needs a reason
def b_hist(r): first_measured(r)["ref_stats"]["histogram"]["counts"].pop()
def b_fd(r): r["summary"]["first_divergent"]["isolated"] = {"node": "x", "index": 1}
breakers = [b_schema, b_missing, b_flag, b_target, b_mode, b_extra, b_type, b_inf, b_passed, b_reason, b_hist, b_fd]
assert not list(v.iter_errors(base)), "the unbroken int8 report must validate"
for b in breakers:
    r = copy.deepcopy(base)
    b(r)
    print("%s %s" % ("rejected" if list(v.iter_errors(r)) else "ACCEPTED", b.__name__))
PYEOF
if [ -s "$TMP/broken" ] && ! grep -qv '^rejected ' "$TMP/broken"; then
    ok "12 deliberately broken reports fail validation"
else
    notok "deliberately broken reports fail validation" "$(grep -v '^rejected ' "$TMP/broken" | head -5)"
fi

# ...and the test itself notices: a broken report gives a "not ok" line
"$PY" -c "import json,sys; r=json.load(open(sys.argv[1])); r['schema']='nope'; r['nodes'].reverse(); json.dump(r, open(sys.argv[2],'w'))" \
    "$TMP/r_fp16.json" "$TMP/bad.json"
bad=$(check_report "bad" "$TMP/bad.json" 0 fp16 emulate | grep -c '^not ok')   # a subshell: N is unchanged
if [ "$bad" -ge 3 ]; then ok "check_report fails a broken report ($bad checks fail)"; else notok "check_report fails a broken report" "only $bad failing checks"; fi
