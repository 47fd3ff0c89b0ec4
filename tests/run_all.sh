#!/usr/bin/env bash
# Runs layerdiff's test suites and prints one closing line "N passed, N failed".
#   tests/run_all.sh [layers|unit|conformance|e2e|docs|asan|fuzz]...   (default: all)
# Each suite ends with its own "N passed, N failed" line; this script adds them up and exits
# non-zero when anything failed.
set -u
cd "$(dirname "$0")/.."
BUILD=${BUILD:-build}
suites=("$@")
[ ${#suites[@]} -eq 0 ] && suites=(layers unit conformance e2e docs asan fuzz)
log=$(mktemp -d)
trap 'rm -rf "$log"' EXIT
conf_dirs="fixtures/onnx-tests/node fixtures/onnx-tests/pytorch-converted fixtures/onnx-tests/pytorch-operator fixtures/onnx-tests/simple"

run_unit() {   # $1 = folder of cmocka binaries
    local p=0 q=0
    for t in "$1"/test_*; do
        [ -x "$t" ] || continue
        out=$("$t" 2>&1); rc=$?
        np=$(printf '%s\n' "$out" | grep -E '^\[  PASSED  \] [0-9]+ test' | grep -oE '[0-9]+' | head -1)
        nf=$(printf '%s\n' "$out" | grep -E '^\[  FAILED  \] [0-9]+ test' | grep -oE '[0-9]+' | head -1)
        np=${np:-0}; nf=${nf:-0}
        if [ "$rc" -ne 0 ] && [ "$nf" -eq 0 ]; then nf=1; printf '%s\n' "$out" | tail -20; fi
        [ "$nf" -gt 0 ] && printf '%s\n' "$out" | grep -E 'FAILED|ERROR|error|Failure' | head -20
        echo "  $(basename "$t"): $np passed, $nf failed"
        p=$((p + np)); q=$((q + nf))
    done
    echo "$p passed, $q failed"
}

run_conformance() {   # $1 = runner binary
    "$1" --strict --expect tests/conformance/expected_failures.txt --tol tests/conformance/tolerances.txt \
        $conf_dirs --light fixtures/onnx-tests/light
}

run_e2e() {   # $1 = binary (default ./layerdiff)
    local p=0 q=0 bin=${1:-./layerdiff}
    tools/ensure_ort.sh || echo "  (onnxruntime-node unavailable: ORT cross-checks are skipped)"
    for t in tests/e2e/test_*.sh; do
        out=$(LAYERDIFF=$bin bash "$t" 2>&1)
        np=$(printf '%s\n' "$out" | grep -cE '^ok ')
        nf=$(printf '%s\n' "$out" | grep -cE '^not ok ')
        echo "  $(basename "$t"): $np passed, $nf failed"
        [ "$nf" -gt 0 ] && printf '%s\n' "$out" | grep -A40 -E '^not ok' | head -120
        p=$((p + np)); q=$((q + nf))
    done
    echo "$p passed, $q failed"
}

run_docs() {
    local out
    out=$(mandoc -T lint -W warning man/*.[1-9] 2>&1)
    if [ -z "$out" ]; then echo "  mandoc -T lint -W warning: clean"; echo "1 passed, 0 failed"
    else printf '%s\n' "$out"; echo "0 passed, 1 failed"; fi
}

run_asan() {   # unit tests, conformance and the CLI tests again under ASan + UBSan (+ LSan for the CLI)
    export ASAN_OPTIONS=detect_leaks=0:abort_on_error=0 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
    local a b c
    a=$(run_unit "$BUILD/tests-asan" | tee /dev/stderr | tail -1)
    b=$(run_conformance "$BUILD/conformance-asan" | tee /dev/stderr | tail -1)
    c=$(ASAN_OPTIONS=detect_leaks=1:abort_on_error=0 run_e2e ./layerdiff-asan | tee /dev/stderr | tail -1)
    printf '%s\n%s\n%s\n' "$a" "$b" "$c" | awk '{p += $1; f += $3} END {print p " passed, " f " failed"}'
}

total_pass=0
total_fail=0
for s in "${suites[@]}"; do
    echo "== $s"
    case $s in
    layers) bash tests/tools/check_layers.sh ;;
    unit) run_unit "$BUILD/tests" ;;
    conformance) run_conformance "$BUILD/conformance" ;;
    e2e) run_e2e ;;
    docs) run_docs ;;
    asan) run_asan ;;
    fuzz) bash tests/fuzz/run.sh check "${FUZZ_CHECK_SECONDS:-60}" ;;   # corpus + regressions replay, short runs
    *) echo "unknown suite $s"; exit 2 ;;
    esac 2>&1 | tee "$log/$s"
    line=$(grep -E '^[0-9]+ passed, [0-9]+ failed' "$log/$s" | tail -1)
    if [ -z "$line" ]; then line="0 passed, 1 failed"; echo "  (suite $s printed no result line: counted as a failure)"; fi
    total_pass=$((total_pass + $(echo "$line" | cut -d' ' -f1)))
    total_fail=$((total_fail + $(echo "$line" | cut -d' ' -f3)))
done
echo "== total"
echo "$total_pass passed, $total_fail failed"
[ "$total_fail" -eq 0 ]
