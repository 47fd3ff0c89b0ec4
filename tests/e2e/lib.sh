# Shared helpers for the end-to-end CLI tests: TAP-style "ok N - what" / "not ok N - what".
LD=${LAYERDIFF:-./layerdiff}
N=0
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT

ok() { N=$((N + 1)); echo "ok $N - $1"; }
notok() { N=$((N + 1)); echo "not ok $N - $1"; [ -n "${2:-}" ] && printf '  %s\n' "$2"; }

# expect_rc CODE "description" cmd args...   (stdout+stderr in $TMP/out)
expect_rc() {
    local want=$1 what=$2
    shift 2
    "$@" >"$TMP/out" 2>&1
    local rc=$?
    if [ "$rc" -eq "$want" ]; then ok "$what"; else notok "$what" "exit $rc, wanted $want: $(head -c 400 "$TMP/out")"; fi
}

# expect_out PATTERN "description"   (grep -E on the last command's output)
expect_out() {
    if grep -qE -- "$1" "$TMP/out"; then ok "$2"; else notok "$2" "no /$1/ in: $(head -c 400 "$TMP/out")"; fi
}
