#!/usr/bin/env bash
# End-to-end tests of `layerdiff browse`: the real binary in a shell inside a private tmux
# server at 80x24; keys go in with send-keys, screens come out with capture-pane and are
# compared with the golden text in tests/golden/tui/ (UPDATE_GOLDEN=1 rewrites them).
# Covers: start on the first divergent node, search, op filter, sort, metric column, detail
# view and link following, help, resize and a too-small terminal, ASCII glyphs in the C
# locale, live mode (pin toggle, re-run, write without overwriting, autopin), a malformed or
# other-version report (message, exit 65) and Ctrl-C, each followed by a terminal sanity check;
# a QDQ model (Q column, quantizer facts, toggling quantizers equals compare --pin).
. "$(dirname "$0")/lib.sh"
ROOT=$(pwd)
G=$ROOT/tests/golden/tui
REPORT=tests/golden/tui/planted_fp16.json

if ! command -v tmux >/dev/null; then echo "ok 1 - # SKIP tmux is not installed"; exit 0; fi

# the binary as `layerdiff` on PATH, so typed command lines (on screen) have no varying paths
mkdir -p "$TMP/bin" "$TMP/home"
ln -s "$(cd "$(dirname "$LD")" && pwd)/$(basename "$LD")" "$TMP/bin/layerdiff"
NSOCK=0
SOCK=$TMP/tmux0.sock
tm() { tmux -S "$SOCK" -f /dev/null "$@"; }
trap 'tm kill-server 2>/dev/null; rm -rf "$TMP"' EXIT

# open_shell DIR LOCALE [COLS ROWS]: a fresh server (own socket) with one interactive shell in DIR
open_shell() {
    tm kill-server 2>/dev/null
    NSOCK=$((NSOCK + 1))
    SOCK=$TMP/tmux$NSOCK.sock
    tm -u new-session -d -s ld -x "${3:-80}" -y "${4:-24}" -c "$1" \
        env -i HOME="$TMP/home" PATH="$TMP/bin:/usr/bin:/bin" TERM=tmux-256color LC_ALL="$2" \
        LAYERDIFF_THREADS=1 PS1='$ ' HISTFILE=/dev/null bash --norc --noprofile -i
    tm set-option -g window-size manual >/dev/null
    wait_for '^\$$' || echo "# the shell did not start"
}
type_line() { tm send-keys -t ld -l "$1"; tm send-keys -t ld Enter; }
keys() { tm send-keys -t ld "$@"; }
screen() { tm capture-pane -p -t ld | sed -e 's/[[:space:]]*$//'; }

# wait_for REGEX [SECONDS]: until the screen shows it
wait_for() {
    local i
    for ((i = 0; i < ${2:-15} * 10; i++)); do
        screen | grep -qE -- "$1" && return 0
        sleep 0.1
    done
    return 1
}

# check_screen NAME "description": compare with $G/NAME.txt. The screen may lag behind the keys
# (a loaded machine, a resize signal): retry for a few seconds before calling it different.
check_screen() {
    local i
    sleep 0.3
    if [ -n "${UPDATE_GOLDEN:-}" ]; then   # wait until the screen stops changing
        screen > "$TMP/screen.txt"
        for ((i = 0; i < 20; i++)); do
            sleep 0.2
            screen > "$TMP/screen2.txt"
            cmp -s "$TMP/screen.txt" "$TMP/screen2.txt" && break
            mv "$TMP/screen2.txt" "$TMP/screen.txt"
        done
        cp "$TMP/screen.txt" "$G/$1.txt"
        ok "$2 (golden $1.txt written)"
        return
    fi
    for ((i = 0; i < 80; i++)); do
        screen > "$TMP/screen.txt"
        if diff -u "$G/$1.txt" "$TMP/screen.txt" > "$TMP/diff.txt" 2>&1; then ok "$2"; return; fi
        sleep 0.1
    done
    notok "$2" "screen differs from $1.txt:
$(head -40 "$TMP/diff.txt")"
}

# sane_terminal "description": after the program, the shell's terminal is back in cooked mode
sane_terminal() {
    type_line "stty -a | tr ' ;' '\n\n' | grep -xE -- '-?(icanon|echo|isig|icrnl|opost)' | sort | tr '\n' ' '; echo ."
    if wait_for '^echo icanon icrnl isig opost \.$' 5; then ok "$1"
    else notok "$1" "$(screen | tail -5)"; fi
}

# start_browse "ARGS" READY_REGEX "description": type the command, wait for the screen
start_browse() {
    type_line "layerdiff browse $1; echo rc=\$?"
    if wait_for "$2" 30; then return 0; fi
    notok "$3" "$(screen)"
    keys C-c
    return 1
}

offline_views() {
    open_shell "$ROOT" C.UTF-8
    start_browse "$REPORT" 'SQNR dB \| topological' "browse starts" || return
    check_screen start "starts with the cursor on the first divergent node"
    keys /
    keys -l Tanh
    keys Enter
    check_screen search "/ finds a node by name"
    keys o
    wait_for 'filter by op type'
    keys D Enter
    check_screen filter "o filters by op type (menu, type-ahead)"
    keys Escape
    sleep 0.2
    keys s
    check_screen sort "s sorts by isolated error, failing nodes first"
    keys s
    wait_for 'propagated error'
    keys g m
    check_screen metric "s again sorts by propagated error; m switches the metric column"
    keys s M f
    wait_for 'first divergent node \(isolated\)'
    keys Enter
    check_screen detail "Enter opens the detail view of the first divergent node"
    keys G
    check_screen detail_end "the detail view scrolls to the error histograms and per-channel errors"
    keys g Tab Tab Enter
    wait_for '^ #12 /blocks.0/mlp/Sqrt'
    check_screen detail_follow "Tab selects a consumer and Enter follows it"
    keys BSpace
    if wait_for '^ #11 /blocks.0/mlp/Pow' 5; then ok "Backspace goes back to the previous node"; else notok "Backspace goes back" "$(screen | head -3)"; fi
    keys q '?'
    check_screen help "? shows the keys"
    keys q
    tm resize-window -t ld -x 100 -y 30
    sleep 0.5
    check_screen resize_100x30 "the list follows a resize to 100x30"
    tm resize-window -t ld -x 30 -y 8
    sleep 0.5
    check_screen too_small "a 30x8 terminal gets a clear message instead of a broken layout"
    tm resize-window -t ld -x 80 -y 24
    sleep 0.8
    keys n
    check_screen resize_back "back at 80x24, n goes to the next failing node"
    keys q
    if wait_for '^rc=0$' 5; then ok "q quits with status 0"; else notok "q quits with status 0" "$(screen | tail -5)"; fi
    check_screen after_quit "the screen is given back (alternate screen left)"
    sane_terminal "terminal is sane after quitting"
    # Ctrl-C
    start_browse "$REPORT" 'SQNR dB \| topological' "browse starts again" || return
    keys C-c
    sleep 0.5
    # the shell drops the rest of the line ("; echo rc") of a job killed by SIGINT: ask again
    type_line 'echo rc=$?'
    if wait_for '^rc=130$' 5; then ok "Ctrl-C ends browse (status 130)"; else notok "Ctrl-C ends browse" "$(screen | tail -5)"; fi
    sane_terminal "terminal is sane after Ctrl-C"
}

ascii_mono() {
    open_shell "$ROOT" C
    start_browse "--no-color $REPORT" 'SQNR dB \| topological' "browse starts in the C locale" || return
    check_screen start_ascii "C locale: ASCII sparkline and ellipsis"
    if tm capture-pane -e -p -t ld | grep -qE $'\e\\[[0-9;]*3[0-7]m'; then notok "--no-color draws without colours"
    else ok "--no-color draws without colours"; fi
    keys q
    wait_for '^rc=0$' 5
}

malformed() {
    mkdir -p "$TMP/bad"
    printf '{"schema": "layerdiff.report/1", "nodes": [\n  {"index": 0,\n' > "$TMP/bad/truncated.json"
    printf '{"schema": "layerdiff.report/2", "nodes": []}\n' > "$TMP/bad/v2.json"
    printf '{"schema": "layerdiff.report/1", "nodes": [{"index": 0, "name": "a", "op": "Relu", "outputs": [{"name": "y", "shape": "4x4"}]}]}\n' > "$TMP/bad/types.json"
    printf '[1, 2, 3]\n' > "$TMP/bad/array.json"
    : > "$TMP/bad/empty.json"
    open_shell "$TMP/bad" C.UTF-8
    local f
    for f in truncated v2 types array empty missing; do
        type_line "layerdiff browse $f.json; echo rc=\$?"
        wait_for "^\\\$ layerdiff browse $f.json" 5
        sleep 0.3
    done
    check_screen malformed "malformed, other-version, mistyped, empty and missing reports: clear messages, exit 65/66"
    sane_terminal "terminal is sane after the malformed reports"
}

live_mode() {
    mkdir -p "$TMP/live"
    cp tests/golden/tui/planted.onnx "$TMP/live/"
    open_shell "$TMP/live" C.UTF-8
    start_browse "planted.onnx --target fp16" ' live$' "live browse starts" || return
    check_screen live_start "live mode starts on the first divergent node"
    keys Space j Space
    check_screen live_pins "Space marks pins to add (+)"
    keys r
    wait_for '^re-run with 2 pins' 30 || notok "r re-runs" "$(screen | tail -3)"
    check_screen live_rerun "r re-runs with Pow and Sqrt pinned (*): within tolerance"
    keys w
    wait_for '^wrote ' 10
    check_screen live_write "w writes the pin list and the report"
    keys w
    if wait_for 'layerdiff-pins-2.txt' 10; then ok "a second w picks new names instead of overwriting"
    else notok "a second w picks new names" "$(screen | tail -2)"; fi
    keys k Space a
    if wait_for '^autopin: .*(met|already)' 60; then ok "a runs autopin and reports its pins"; else notok "a runs autopin" "$(screen | tail -2)"; fi
    keys q
    if wait_for '^rc=0$' 10; then ok "live browse quits with status 0"; else notok "live browse quits" "$(screen | tail -3)"; fi
    sane_terminal "terminal is sane after live mode"
    if [ "$(grep -v '^#' "$TMP/live/layerdiff-pins.txt" | tr '\n' ' ')" = "/blocks.0/mlp/Pow /blocks.0/mlp/Sqrt " ] &&
       head -1 "$TMP/live/layerdiff-pins.txt" | grep -q '^# layerdiff browse'; then ok "pin list: '#' header and one node per line"
    else notok "pin list format" "$(cat "$TMP/live/layerdiff-pins.txt")"; fi
    expect_rc 0 "the written pin list works as --pin @FILE" $LD --threads 1 compare "$TMP/live/planted.onnx" --target fp16 --pin @"$TMP/live/layerdiff-pins.txt" -q
    expect_rc 0 "the written report loads again (plot)" $LD plot "$TMP/live/layerdiff-report.json" -o "$TMP/live/r.svg"
    if grep -qE '"pinned_nodes":[[:space:]]*2' "$TMP/live/layerdiff-report.json"; then ok "the written report is of the re-run with 2 pins"
    else notok "the written report has the pins"; fi
    if [ -e "$TMP/live/layerdiff-pins-2.txt" ] && [ -e "$TMP/live/layerdiff-report-2.json" ]; then ok "second write: layerdiff-pins-2.txt and layerdiff-report-2.json"
    else notok "second write files" "$(ls "$TMP/live")"; fi
    # a model that cannot be read: the screen is given back with the message
    type_line "layerdiff browse nope.onnx --target fp16; echo rc=\$?"
    if wait_for '^rc=66$' 10 && screen | grep -q '^layerdiff: nope.onnx: '; then ok "live mode on a missing model: message and exit 66"
    else notok "live mode on a missing model" "$(screen | tail -4)"; fi
    # --write-pins naming an existing file without --force: refused on w, not overwritten
    echo "keep me" > "$TMP/live/mine.txt"
    start_browse "planted.onnx --target fp16 --write-pins mine.txt" ' live$' "live browse with --write-pins starts" || return
    keys w
    if wait_for 'mine.txt already exists' 10 && [ "$(cat "$TMP/live/mine.txt")" = "keep me" ]; then ok "--write-pins never overwrites an existing file without --force"
    else notok "--write-pins refuses to overwrite" "$(screen | tail -2)"; fi
    keys q
    wait_for '^rc=0$' 10
}

# QDQ model (--target qdq): the Q column, the quantizer facts in the detail view, Space on a
# quantized row disables its quantizers and r re-runs; the written report must equal a fresh
# `compare --pin` of the written pins (the quantizers' DequantizeLinear nodes).
qdq_mode() {
    local D=$TMP/qdq PY=/usr/bin/python3
    mkdir -p "$D"
    if ! { $LD run fixtures/models/fmnist_resnet.onnx --data fixtures/fmnist/t10k-images-idx3-ubyte.gz --max-samples 64 \
             --batch 64 --mark-all --save-outputs "$D/acts.npz" &&
           $PY tools/gen_qdq_fixtures.py fixtures/models/fmnist_resnet.onnx "$D/acts.npz" "$D/gen"; } >"$D/gen.log" 2>&1; then
        notok "QDQ fixture (tools/gen_qdq_fixtures.py)" "$(tail -3 "$D/gen.log")"; return
    fi
    cp "$D/gen/fmnist_resnet_qdq_int8_clip.onnx" "$D/clip.onnx"
    cp fixtures/models/fmnist_resnet.onnx "$D/float.onnx"
    cp fixtures/fmnist/t10k-images-idx3-ubyte.gz "$D/img.gz"
    local ARGS="clip.onnx --data img.gz --max-samples 16 --batch 16 --float-model float.onnx"
    open_shell "$D" C.UTF-8 100 30
    # no --target: the quantizers are detected (as compare does); the check below uses --target qdq
    start_browse "$ARGS" ' live$' "live browse starts on a QDQ model" || return
    if screen | grep -qE '^ clip.onnx +qdq vs FP32 '; then ok "without --target a QDQ model is browsed as written (qdq)"
    else notok "QDQ detected without --target" "$(screen | head -2)"; fi
    if screen | grep -qE '^ +# +Q node' && screen | grep -qE '^ +4  Q Div_output_0_QuantizeLinear' &&
       screen | grep -qE '^ +5 XQ Div_output_0_DequantizeLinear' && screen | grep -qE '^ +7 >Q stem.0/Conv' &&
       screen | grep -qE '^ +8 x  stem.2/Relu'; then ok "Q column: quantizers and the nodes they quantize; the planted one's consumer first"
    else notok "Q column" "$(screen | head -14)"; fi
    keys Enter
    if wait_for '^Q activation quantizer /Div_output_0_QuantizeLinear \((u?int8)\): enabled' 5 &&
       screen | grep -qE '^    clip (2[0-9]|3[0-9])\.[0-9]+%, zero [0-9.]+%, input range' &&
       screen | grep -qE '^    scale [0-9.e-]+\.\.[0-9.e-]+ \(1, 0 zero\), zero point [0-9-]+, per tensor' &&
       screen | grep -qE '^Q weight quantizer onnx::Conv_150_DequantizeLinear .*enabled' &&
       screen | grep -qE '^    scale .*\(32, 0 zero\), zero point 0, per channel, axis 0'; then
        ok "detail view: the node's quantizers with scale, zero point, axis, clip % and zero %"
    else notok "detail view: quantizer facts" "$(screen | head -16)"; fi
    keys Space
    if wait_for '^\. activation quantizer /Div_output_0_QuantizeLinear .*: disabled at the next re-run' 5; then
        ok "Space in the detail view marks the node's quantizers to disable"
    else notok "Space in the detail view" "$(screen | head -12)"; fi
    keys q r
    if wait_for '^re-run with 2 pins' 60 && screen | grep -qE '^ +7\* \. stem.0/Conv' &&
       screen | grep -qE '^ +5\* \. Div_output_0_DequantizeLinear +DequantizeLinear .* exact +exact'; then
        ok "r re-runs with the stem's two quantizers disabled (row marks * and .)"
    else notok "re-run with the quantizers disabled" "$(screen | head -12; screen | tail -2)"; fi
    keys w
    wait_for '^wrote ' 10 || notok "w writes" "$(screen | tail -2)"
    # the other way round: re-enable them from the list, disable one quantizer by its DQ row
    keys Space
    wait_for '^enable quantizer /Div_output_0_QuantizeLinear and 1 more' 5 || notok "Space enables" "$(screen | tail -2)"
    keys : 1 0 Enter
    wait_for '^ #10 ' 5
    keys Space
    if wait_for '^disable quantizer /stem/stem.2/Relu_output_0_QuantizeLinear;' 5; then ok "Space on a DequantizeLinear row toggles its quantizer"
    else notok "Space on a DQ row" "$(screen | tail -3)"; fi
    keys r
    if wait_for '^re-run with 1 pin: .*first divergent #7 ' 60; then ok "r re-runs: the stem quantizers enabled again, the planted one's consumer first divergent"
    else notok "re-run with one quantizer disabled" "$(screen | tail -2)"; fi
    keys w
    wait_for '^wrote layerdiff-pins-2.txt' 10 || notok "second w" "$(screen | tail -2)"
    keys a
    if wait_for '^autopin: .* met with [0-9]+ pins? ' 120 && screen | grep -qE '^ +5~X\. Div_output_0_DequantizeLinear'; then
        ok "a runs autopin on the quantizers: the planted clipping quantizer is marked to disable (~ .)"
    else notok "autopin in the QDQ browser" "$(screen | sed -n 5,12p; screen | tail -1)"; fi
    keys q
    if wait_for '^rc=0$' 10; then ok "QDQ live browse quits with status 0"; else notok "QDQ live browse quits" "$(screen | tail -3)"; fi
    sane_terminal "terminal is sane after the QDQ browser"
    local k pins
    for k in "" -2; do
        pins=$(grep -v '^#' "$D/layerdiff-pins$k.txt" | sort | tr '\n' ' ')
        case $k in
            "") want="/Div_output_0_DequantizeLinear onnx::Conv_150_DequantizeLinear " ;;
            *) want="/stem/stem.2/Relu_output_0_DequantizeLinear " ;;
        esac
        if [ "$pins" = "$want" ]; then ok "pin list$k: the disabled quantizers' DequantizeLinear nodes"
        else notok "pin list$k" "got '$pins', want '$want'"; fi
        (cd "$D" && LAYERDIFF_THREADS=1 "$TMP/bin/layerdiff" compare $ARGS --target qdq --pin @"layerdiff-pins$k.txt" --report "fresh$k.json" -q) >"$D/fresh.log" 2>&1
        $PY - "$D/layerdiff-report$k.json" "$D/fresh$k.json" >"$D/cmp.txt" 2>&1 <<'PYEOF'
import json, sys
a, b = (json.load(open(p)) for p in sys.argv[1:3])
bad = []
for na, nb in zip(a["nodes"], b["nodes"]):
    for oa, ob in zip(na["outputs"], nb["outputs"]):
        for key in ("isolated", "propagated", "ref_stats", "target_stats", "flags"):
            if oa.get(key) != ob.get(key): bad.append("%s %s %s" % (na["name"], oa["name"], key))
    if na["pinned"] != nb["pinned"]: bad.append(na["name"] + " pinned")
if len(a["nodes"]) != len(b["nodes"]): bad.append("node count")
if a["qdq"]["quantizers"] != b["qdq"]["quantizers"]: bad.append("qdq.quantizers")
if a["summary"]["first_divergent"] != b["summary"]["first_divergent"]: bad.append("first_divergent")
if sum(q["disabled"] for q in a["qdq"]["quantizers"]) == 0: bad.append("no quantizer disabled")
print("same" if not bad else "differ: " + "; ".join(bad[:8]))
PYEOF
        if grep -qx same "$D/cmp.txt"; then ok "browser's report$k equals a fresh compare --target qdq --pin @pins$k (every metric, quantizer facts)"
        else notok "browser's report$k equals a fresh compare --pin" "$(cat "$D/cmp.txt")"; fi
    done
    # the written report browsed offline shows the quantizers too
    start_browse "layerdiff-report.json" 'SQNR dB \| topological' "browse the QDQ report" || return
    if screen | grep -qE '^ +7\* \. stem.0/Conv'; then ok "offline: the report's disabled quantizers in the Q column"
    else notok "offline Q column" "$(screen | head -12)"; fi
    keys Space
    if wait_for '^read-only: pins need live mode' 5; then ok "offline: Space explains that toggling needs live mode"
    else notok "offline Space" "$(screen | tail -2)"; fi
    keys q
    wait_for '^rc=0$' 10
}

offline_views
ascii_mono
malformed
live_mode
qdq_mode
tm kill-server 2>/dev/null

# ---- usage errors outside the terminal ----
expect_rc 64 "browse without a terminal is a usage error" $LD browse "$REPORT"
expect_out 'needs a terminal' "browse without a terminal says so"
expect_rc 64 "--target with a report is a usage error" $LD browse "$REPORT" --target fp16
expect_rc 64 "unknown --metric" $LD browse "$REPORT" --metric bogus
expect_rc 65 "malformed report is reported before touching the terminal" $LD browse "$TMP/bad/truncated.json"
expect_out 'not valid JSON: it ends too early' "the message says the JSON is truncated"
expect_rc 0 "help browse" $LD help browse

tm kill-server 2>/dev/null
