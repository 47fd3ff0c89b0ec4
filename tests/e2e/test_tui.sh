#!/usr/bin/env bash
# End-to-end tests of `layerdiff browse`: the real binary in a shell inside a private tmux
# server at 80x24; keys go in with send-keys, screens come out with capture-pane and are
# compared with the golden text in tests/golden/tui/ (UPDATE_GOLDEN=1 rewrites them).
# Covers: start on the first divergent node, search, op filter, sort, metric column, detail
# view and link following, help, resize and a too-small terminal, ASCII glyphs in the C
# locale, live mode (pin toggle, re-run, write without overwriting, autopin), a malformed or
# other-version report (message, exit 65) and Ctrl-C, each followed by a terminal sanity check.
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

offline_views
ascii_mono
malformed
live_mode
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
