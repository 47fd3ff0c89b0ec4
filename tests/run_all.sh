#!/usr/bin/env bash
# Runs layerdiff's test suites and prints one closing line "N passed, N failed".
#   tests/run_all.sh [unit|conformance|e2e|asan|docs]...   (default: all)
# Each suite prints its own "N passed, N failed" line; this script adds them up.
set -u
cd "$(dirname "$0")/.."
BUILD=${BUILD:-build}
suites=("$@")
[ ${#suites[@]} -eq 0 ] && suites=(unit conformance e2e docs asan)
total_pass=0
total_fail=0
log=$(mktemp -d)
trap 'rm -rf "$log"' EXIT

count() {   # add the counts of a suite's output file
    local f=$1 p=0 q=0
    if grep -qE '^[0-9]+ passed, [0-9]+ failed' "$f"; then
        p=$(grep -E '^[0-9]+ passed, [0-9]+ failed' "$f" | tail -1 | sed -E 's/^([0-9]+) passed, ([0-9]+) failed.*/\1/')
        q=$(grep -E '^[0-9]+ passed, [0-9]+ failed' "$f" | tail -1 | sed -E 's/^([0-9]+) passed, ([0-9]+) failed.*/\2/')
    fi
    total_pass=$((total_pass + p))
    total_fail=$((total_fail + q))
}

run_unit() {   # $1 = dir of cmocka binaries
    local dir=$1 p=0 q=0
    for t in "$dir"/test_*; do
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

conf_dirs="fixtures/onnx-tests/node fixtures/onnx-tests/pytorch-converted fixtures/onnx-tests/pytorch-operator fixtures/onnx-tests/simple"

for s in "${suites[@]}"; do
    echo "== $s"
    case $s in
    unit) run_unit "$BUILD/tests" | tee "$log/$s" ;;
    conformance)
        "$BUILD/conformance" --strict --expect tests/conformance/expected_failures.txt \
            --tol tests/conformance/tolerances.txt $conf_dirs --light fixtures/onnx-tests/light 2>&1 | tee "$log/$s" ;;
    e2e)
        p=0; q=0
        for t in tests/e2e/test_*.sh; do
            out=$(LAYERDIFF=./layerdiff bash "$t" 2>&1)
            printf '%s\n' "$out" | grep -E '^(not ok|ok)' | grep -E '^not ok' || true
            np=$(printf '%s\n' "$out" | grep -cE '^ok ')
            nf=$(printf '%s\n' "$out" | grep -cE '^not ok ')
            echo "  $(basename "$t"): $np passed, $nf failed"
            [ "$nf" -gt 0 ] && printf '%s\n' "$out" | grep -A3 -E '^not ok' | head -40
            p=$((p + np)); q=$((q + nf))
        done
        echo "$p passed, $q failed" ;;
    docs)
        out=$(mandoc -T lint -W warning man/*.[1-9] 2>&1)
        if [ -z "$out" ]; then echo "  mandoc lint clean"; echo "1 passed, 0 failed"
        else printf '%s\n' "$out"; echo "0 passed, 1 failed"; fi ;;
    asan)
        export ASAN_OPTIONS=detect_leaks=0:abort_on_error=0 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
        { run_unit "$BUILD/tests-asan"
          "$BUILD/conformance-asan" --strict --expect tests/conformance/expected_failures.txt \
              --tol tests/conformance/tolerances.txt $conf_dirs --light fixtures/onnx-tests/light; } 2>&1 | tee "$log/$s.raw" | grep -vE '^  test_'
        grep -E '^[0-9]+ passed, [0-9]+ failed' "$log/$s.raw" | awk '{p+=$1; f+=$3} END {print p " passed, " f " failed"}' > "$log/$s" ;;
    *) echo "unknown suite $s"; exit 2 ;;
    esac
    count "$log/$s"
done
echo "== total"
echo "$total_pass passed, $total_fail failed"
[ "$total_fail" -eq 0 ]
