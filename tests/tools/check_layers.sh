#!/usr/bin/env bash
# Checks that dependencies point down the pipeline: every #include "..." in src/<stage>/ and
# include/ must name a header of the same stage or of an earlier one. The stages, lowest first:
#   core(0) < io, ops(1) < emulate(2) < compare(3) < present(4) < api(5) < cli(6)
# A public header in include/ declares its stage in a "** Layer: NAME" line of its header
# comment; a header in src/<stage>/ belongs to that stage. Prints one line per include checked
# wrongly and "N passed, N failed" (N = files).
set -u
cd "$(dirname "$0")/../.."
declare -A rank=([core]=0 [io]=1 [ops]=1 [emulate]=2 [compare]=3 [present]=4 [api]=5 [cli]=6)
declare -A hdr   # header basename -> stage
for h in include/*.h; do
    l=$(sed -n 's/^\*\* Layer: *\([a-z]*\).*/\1/p' "$h" | head -1)
    if [ -z "$l" ] || [ -z "${rank[$l]+x}" ]; then echo "$h: no valid '** Layer:' line"; hdr[$(basename "$h")]=unknown
    else hdr[$(basename "$h")]=$l; fi
done
for d in src/*/; do
    s=$(basename "$d")
    [ -z "${rank[$s]+x}" ] && { echo "src/$s: not a known stage"; continue; }
    for h in "$d"*.h; do [ -e "$h" ] && hdr[$(basename "$h")]=$s; done
done
hdr[onnx.pb-c.h]=core
pass=0 fail=0
files=(include/*.h src/*/*.c src/*/*.h)
for f in "${files[@]}"; do
    case $f in include/*) s=${hdr[$(basename "$f")]} ;; *) s=$(basename "$(dirname "$f")") ;; esac
    ok=1
    while read -r inc; do
        t=${hdr[$inc]:-}
        if [ -z "$t" ]; then echo "$f: includes \"$inc\", which is no project header"; ok=0; continue; fi
        [ "$t" = unknown ] || [ "$s" = unknown ] && { ok=0; continue; }
        if [ "${rank[$t]}" -gt "${rank[$s]}" ] || { [ "${rank[$t]}" -eq "${rank[$s]}" ] && [ "$t" != "$s" ]; }; then
            echo "$f ($s) includes \"$inc\" ($t): an upward or sideways dependency"; ok=0
        fi
    done < <(sed -n 's/^[[:space:]]*#[[:space:]]*include[[:space:]]*"\([^"]*\)".*/\1/p' "$f")
    if [ $ok = 1 ]; then pass=$((pass + 1)); else fail=$((fail + 1)); fi
done
echo "$pass passed, $fail failed"
[ $fail -eq 0 ]
