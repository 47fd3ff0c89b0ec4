#!/usr/bin/env bash
# End-to-end tests of `layerdiff plot`: the SVG of a report parses as XML (xmllint) and renders
# with a real SVG renderer (rsvg-convert from librsvg2-bin) into a non-trivial PNG; the marks
# (first divergent, tolerance, pins, failing points) are there; names are XML-escaped; a file
# is never overwritten without --force; bad input fails cleanly without leaving a file.
. "$(dirname "$0")/lib.sh"
REPORT=tests/golden/tui/planted_fp16.json
MODEL=tests/golden/tui/planted.onnx

# check_svg FILE "description": well-formed XML and rendered by rsvg-convert to a PNG of the
# expected size with more than a blank page in it
check_svg() {
    if command -v xmllint >/dev/null; then
        if xmllint --noout "$1" 2>"$TMP/xml.err"; then ok "$2: well-formed XML"; else notok "$2: well-formed XML" "$(head -5 "$TMP/xml.err")"; fi
    fi
    if ! command -v rsvg-convert >/dev/null; then ok "$2: # SKIP rsvg-convert not installed"; return; fi
    rm -f "$TMP/out.png"
    if ! rsvg-convert "$1" -o "$TMP/out.png" 2>"$TMP/rsvg.err"; then notok "$2: renders" "$(head -5 "$TMP/rsvg.err")"; return; fi
    local sig w h size
    sig=$(head -c 8 "$TMP/out.png" | od -An -tx1 | tr -d ' \n')
    w=$(od -An -tu1 -j16 -N4 "$TMP/out.png" | awk '{print $1*16777216 + $2*65536 + $3*256 + $4}')
    h=$(od -An -tu1 -j20 -N4 "$TMP/out.png" | awk '{print $1*16777216 + $2*65536 + $3*256 + $4}')
    size=$(wc -c < "$TMP/out.png")
    if [ "$sig" = 89504e470d0a1a0a ] && [ "$w" -eq "${3:-1200}" ] && [ "$h" -eq "${4:-560}" ] && [ "$size" -gt 15000 ]; then
        ok "$2: renders to a ${w}x${h} PNG ($size bytes)"
    else notok "$2: renders to a non-trivial PNG" "signature $sig, ${w}x${h}, $size bytes"; fi
}

expect_rc 0 "plot the planted FP16 overflow report" $LD plot $REPORT -o "$TMP/p.svg"
expect_out "wrote $TMP/p.svg" "says where it wrote"
check_svg "$TMP/p.svg" "planted report"
grep -q 'first divergent: #11 /blocks.0/mlp/Pow (Pow)' "$TMP/p.svg" && ok "the first divergent node is marked and labelled" || notok "first divergent label"
grep -q 'tolerance: SQNR &gt;= 30 dB' "$TMP/p.svg" && ok "the tolerance line is in the legend" || notok "tolerance legend"
grep -q 'stroke="#2ca02c"[^>]*stroke-dasharray' "$TMP/p.svg" && ok "the tolerance is drawn as a dashed line" || notok "tolerance line"
n=$(grep -c '<circle cx=' "$TMP/p.svg")
[ "$n" -ge 42 ] && ok "a point per node for isolated and propagated ($n)" || notok "points per node" "$n circles"
grep -q 'r="4.0" fill="#d62728"' "$TMP/p.svg" && ok "failing points are red" || notok "failing points"
grep -q '<title>#11 /blocks.0/mlp/Pow (Pow)' "$TMP/p.svg" && ok "points carry tooltips" || notok "tooltips"

# never overwrite without --force
cksum < "$TMP/p.svg" > "$TMP/before"
expect_rc 73 "an existing output file is refused" $LD plot $REPORT -o "$TMP/p.svg" --metric maxrel
expect_out 'already exists \(use --force to replace it\)' "the refusal says how to overwrite"
cksum < "$TMP/p.svg" | cmp -s - "$TMP/before" && ok "the existing file is untouched" || notok "the existing file is untouched"
expect_rc 0 "--force overwrites" $LD plot $REPORT -o "$TMP/p.svg" --metric maxrel --force
cksum < "$TMP/p.svg" | cmp -s - "$TMP/before" && notok "--force wrote a new picture" || ok "--force wrote a new picture"
check_svg "$TMP/p.svg" "--metric maxrel"
grep -q 'max rel error (log, lower is better)' "$TMP/p.svg" && ok "maxrel has a log axis label" || notok "maxrel axis label"

for m in cosine maxabs meanabs maxulp nmse; do
    expect_rc 0 "--metric $m" $LD plot $REPORT -o "$TMP/$m.svg" --metric $m
done
check_svg "$TMP/cosine.svg" "--metric cosine"
expect_rc 0 "--size 800x400" $LD plot $REPORT -o "$TMP/small.svg" --size 800x400
check_svg "$TMP/small.svg" "--size 800x400" 800 400
expect_rc 0 "-o - writes to standard output" $LD plot $REPORT -o -
head -c 200 "$TMP/out" | grep -q '<svg' && ok "standard output holds the SVG" || notok "SVG on standard output"

# pinned nodes: shaded bands
expect_rc 1 "compare with a pin writes a report" $LD --threads 1 compare $MODEL --target fp16 --pin /blocks.0/mlp/Pow --report "$TMP/pinned.json" -q
expect_rc 0 "plot a report with a pinned node" $LD plot "$TMP/pinned.json" -o "$TMP/pinned.svg"
grep -q '<title>#11 pinned to FP32</title>' "$TMP/pinned.svg" && ok "pinned nodes are shaded" || notok "pinned band"
grep -q 'pinned to FP32</text>' "$TMP/pinned.svg" && ok "the legend explains the shading" || notok "pinned legend"
check_svg "$TMP/pinned.svg" "pinned report"

# a real model: the ViT in INT8, more nodes than names fit (index ticks)
expect_rc 1 "compare fmnist_vit in INT8" $LD compare fixtures/models/fmnist_vit.onnx --target int8 --batch 8 --report "$TMP/vit.json" -q
expect_rc 0 "plot the ViT INT8 report" $LD plot "$TMP/vit.json" -o "$TMP/vit.svg"
check_svg "$TMP/vit.svg" "ViT INT8 report"
grep -q 'node (topological index)' "$TMP/vit.svg" && ok "many nodes: index ticks and axis label" || notok "index axis"

# names that need XML escaping, a minimal report (optional fields absent)
cat > "$TMP/esc.json" <<'EOF'
{"schema": "layerdiff.report/1", "settings": {"target": "fp16", "tolerance": {"min_sqnr_db": 30}},
 "summary": {"first_divergent": {"isolated": {"node": "a<b&c\"d>", "index": 1, "op": "Mul", "output": "y", "reason": "r <&>"},
             "propagated": null}, "passed": false, "failing_tensors": 1},
 "nodes": [
  {"index": 0, "name": "x", "op": "Relu", "inputs": ["in"], "outputs": [{"name": "x0", "shape": [2], "dtype": "float32",
   "measured": true, "isolated": {"pass": true, "sqnr_db": 50}, "propagated": {"pass": true, "sqnr_db": null}, "flags": []}]},
  {"index": 1, "name": "a<b&c\"d>", "op": "Mul", "pinned": true, "inputs": ["x0"], "outputs": [{"name": "y", "shape": [2],
   "dtype": "float32", "measured": true, "isolated": {"pass": false, "reason": "r <&>", "sqnr_db": 10},
   "propagated": {"pass": false, "reason": "bad", "sqnr_db": 9}, "flags": ["inf"]}]}]}
EOF
expect_rc 0 "plot a minimal report with markup characters in names" $LD plot "$TMP/esc.json" -o "$TMP/esc.svg"
check_svg "$TMP/esc.svg" "escaped names"
grep -q 'a&lt;b&amp;c&quot;d&gt;' "$TMP/esc.svg" && ok "names are XML-escaped" || notok "XML escaping"

# bad input: clear errors, no file left behind
printf '{"schema": "layerdiff.report/2", "nodes": []}\n' > "$TMP/v2.json"
expect_rc 65 "another schema version" $LD plot "$TMP/v2.json" -o "$TMP/v2.svg"
expect_out "schema 'layerdiff.report/2' is not supported" "the message names the schema"
[ ! -e "$TMP/v2.svg" ] && ok "no file is left on error" || notok "no file is left on error"
printf '{"schema": "layerdiff.report/1", "nodes": []}\n' > "$TMP/empty.json"
expect_rc 65 "a report without nodes" $LD plot "$TMP/empty.json" -o "$TMP/empty.svg"
[ ! -e "$TMP/empty.svg" ] && ok "no file is left for an empty report" || notok "no file for an empty report"
printf 'not json' > "$TMP/bad.json"
expect_rc 65 "not JSON" $LD plot "$TMP/bad.json" -o "$TMP/bad.svg"
expect_rc 66 "a missing report" $LD plot "$TMP/missing.json" -o "$TMP/m.svg"
expect_rc 64 "missing -o" $LD plot $REPORT
expect_rc 64 "unknown --metric" $LD plot $REPORT -o "$TMP/x.svg" --metric bogus
expect_rc 64 "bad --size" $LD plot $REPORT -o "$TMP/x.svg" --size 10x10
expect_rc 64 "unknown option" $LD plot $REPORT -o "$TMP/x.svg" --bogus
expect_rc 73 "an output folder that does not exist" $LD plot $REPORT -o "$TMP/no/such/dir/x.svg"
expect_rc 0 "help plot" $LD help plot
