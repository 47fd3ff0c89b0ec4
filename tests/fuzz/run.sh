#!/usr/bin/env bash
# tests/fuzz/run.sh — runs the libFuzzer harnesses built by `make fuzz-build` (build/fuzz/fuzz_*).
#   run.sh check [SECONDS]      what `make check` runs (suite "fuzz"): every harness replays its
#                               seed corpus and tests/fuzz/regressions/<harness>/, then fuzzes for
#                               a share of SECONDS (default 60 in all) with new inputs kept in a
#                               scratch folder; one line per harness, then "N passed, N failed".
#   run.sh campaign SECONDS     `make fuzz`: each harness for SECONDS, one job, new inputs kept in
#                               build/fuzz/work/<harness>/, crashes in build/fuzz/artifacts/<harness>/;
#                               prints the executions per harness (also in build/fuzz/campaign.txt).
# Only the harnesses named in FUZZ_ONLY (space-separated, e.g. "fuzz_npy fuzz_pb") when set.
set -u
cd "$(dirname "$0")/../.."
BUILD=${BUILD:-build}
mode=${1:-check}
secs=${2:-}
dir=tests/fuzz
# Parsers must fail cleanly when an allocation fails: ASan returns NULL above 1 GB instead of
# aborting, and libFuzzer's own RSS limit stays above that.
export ASAN_OPTIONS=allocator_may_return_null=1:max_allocation_size_mb=1024:detect_leaks=1:handle_abort=1
export UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1
export LSAN_OPTIONS=suppressions=$PWD/tests/fuzz/lsan.supp:print_suppressions=0
export OMP_NUM_THREADS=1
FLAGS=(-rss_limit_mb=2560 -malloc_limit_mb=2048 -timeout=20 -print_final_stats=1)

harnesses=()
for src in $dir/fuzz_*.c; do
    h=$(basename "$src" .c)
    if [ -n "${FUZZ_ONLY:-}" ] && ! [[ " $FUZZ_ONLY " == *" $h "* ]]; then continue; fi
    harnesses+=("$h")
done

if ! command -v "${FUZZ_CC:-clang}" >/dev/null 2>&1; then
    echo "  clang is not installed: the fuzz harnesses cannot be built (run make deps)"
    echo "0 passed, 1 failed"
    exit 1
fi

dict_args() {   # $1 = harness
    local d=$dir/dict/${1#fuzz_}.dict
    [ -f "$d" ] && echo "-dict=$d"
}

execs_of() {    # libFuzzer log -> executions done
    grep -oE 'stat::number_of_executed_units: *[0-9]+' "$1" | grep -oE '[0-9]+$' | tail -1
}

case $mode in
check)
    total=${secs:-60}
    share=$(( total / ${#harnesses[@]} ))
    [ "$share" -lt 1 ] && share=1
    runs=${FUZZ_CHECK_RUNS:-20000}
    scratch=$(mktemp -d)
    trap 'rm -rf "$scratch"' EXIT
    pass=0; fail=0
    for h in "${harnesses[@]}"; do
        bin=$BUILD/fuzz/$h
        if [ ! -x "$bin" ]; then
            echo "  $h: not built ($bin missing; make fuzz-build)"; fail=$((fail + 2)); continue
        fi
        # 1. replay: every seed and every regression, one by one (a file per run, so each is
        #    reported by name when it fails)
        inputs=()
        for d in $dir/corpus/$h $dir/regressions/$h; do
            [ -d "$d" ] && while IFS= read -r f; do inputs+=("$f"); done < <(find "$d" -type f | sort)
        done
        log=$scratch/$h.replay.log
        if [ ${#inputs[@]} -eq 0 ]; then
            echo "  $h replay: no inputs"; fail=$((fail + 1))
        elif "$bin" "${FLAGS[@]}" "${inputs[@]}" >"$log" 2>&1; then
            echo "  $h replay: ${#inputs[@]} inputs ok"; pass=$((pass + 1))
        else
            echo "  $h replay: FAILED"; grep -E 'Running:|ERROR|SUMMARY|runtime error|#[0-9] ' "$log" | tail -25
            fail=$((fail + 1))
        fi
        # 2. a short run from the corpus; new inputs go to scratch, never into the repository.
        #    A fixed seed and number of runs make it the same run on every machine, so make check
        #    does not turn red at random; the time limit only guards against a slow machine.
        mkdir -p "$scratch/$h.new" "$scratch/$h.art"
        log=$scratch/$h.run.log
        seeds=()
        for d in $dir/corpus/$h $dir/regressions/$h; do [ -d "$d" ] && seeds+=("$d"); done
        if "$bin" "${FLAGS[@]}" $(dict_args "$h") -seed=1 -runs="$runs" -max_total_time=$((share * 4)) \
                -artifact_prefix="$scratch/$h.art/" "$scratch/$h.new" "${seeds[@]}" >"$log" 2>&1; then
            echo "  $h fuzz (seed 1, up to $runs runs): $(execs_of "$log") executions, no crash"; pass=$((pass + 1))
        else
            echo "  $h fuzz (seed 1, up to $runs runs): FAILED"; grep -E 'ERROR|SUMMARY|runtime error|#[0-9] |Test unit written' "$log" | tail -25
            for a in "$scratch/$h.art"/*; do
                [ -f "$a" ] && echo "    reproducer (base64): $(head -c 3000 "$a" | base64 -w0)"
            done
            fail=$((fail + 1))
        fi
    done
    echo "$pass passed, $fail failed"
    [ "$fail" -eq 0 ]
    ;;
campaign)
    secs=${secs:-60}
    mkdir -p "$BUILD/fuzz"
    summary=$BUILD/fuzz/campaign.txt
    : >"$summary"
    rc=0
    for h in "${harnesses[@]}"; do
        bin=$BUILD/fuzz/$h
        [ -x "$bin" ] || { echo "  $h: not built"; rc=1; continue; }
        work=$BUILD/fuzz/work/$h; art=$BUILD/fuzz/artifacts/$h
        mkdir -p "$work" "$art"
        seeds=()
        for d in $dir/corpus/$h $dir/regressions/$h; do [ -d "$d" ] && seeds+=("$d"); done
        log=$BUILD/fuzz/$h.log
        "$bin" "${FLAGS[@]}" $(dict_args "$h") -max_total_time="$secs" -artifact_prefix="$art/" \
            "$work" "${seeds[@]}" >"$log" 2>&1
        r=$?
        line="$h: $(execs_of "$log") executions in ${secs}s, $(ls "$work" | wc -l) new corpus inputs"
        [ $r -ne 0 ] && { line="$line, CRASH (see $log, $art)"; rc=1; }
        echo "  $line" | tee -a "$summary"
    done
    exit $rc
    ;;
*) echo "usage: $0 check [SECONDS] | campaign SECONDS" >&2; exit 64 ;;
esac
