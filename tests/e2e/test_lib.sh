#!/usr/bin/env bash
# End-to-end tests of liblayerdiff (layerdiff.h, layerdiff(3)): the shared library exports
# only the public API under its versioned soname, examples/compare_example.c runs and its
# report equals the CLI's for the same input, `make install` into a temporary prefix gives a
# working pkg-config file (shared and static links), `make uninstall` removes it all.
. "$(dirname "$0")/lib.sh"
BUILD=${BUILD:-build}
R=fixtures/models/fmnist_resnet.onnx
PY=/usr/bin/python3
VERSION=$(cat VERSION)
SO=$BUILD/lib/liblayerdiff.so.$VERSION
EX=$BUILD/examples/compare_example

# make check builds these; a single run of this script builds them when missing
[ -e "$SO" ] && [ -e "$EX" ] || make --no-print-directory -s -j2 lib examples >/dev/null 2>&1

if [ -e "$SO" ]; then ok "make lib builds $SO"; else notok "make lib builds $SO"; fi
[ -e "$BUILD/lib/liblayerdiff.a" ] && ok "make lib builds liblayerdiff.a" || notok "make lib builds liblayerdiff.a"
soname=$(readelf -d "$SO" 2>/dev/null | sed -n 's/.*Library soname: \[\(.*\)\]/\1/p')
[ "$soname" = "liblayerdiff.so.${VERSION%%.*}" ] && ok "soname is $soname" || notok "soname" "got '$soname'"

nm -D --defined-only "$SO" 2>&1 | sed 's/@@*LAYERDIFF_[0-9]*$//' >"$TMP/syms"
others=$(grep -vE ' layerdiff_[a-z_]+$' "$TMP/syms" | grep -v ' A LAYERDIFF_')
[ -z "$others" ] && ok "only layerdiff_* symbols are exported" || notok "only layerdiff_* symbols are exported" "$(echo "$others" | head -5)"
# every function declared in the header is exported, and nothing more
grep -oE 'layerdiff_[a-z_]+\(' include/layerdiff.h | tr -d '(' | sort -u >"$TMP/decl"
grep -oE 'layerdiff_[a-z_]+$' "$TMP/syms" | sort -u >"$TMP/exp"
if [ -s "$TMP/decl" ] && cmp -s "$TMP/decl" "$TMP/exp"; then ok "exports = the functions of layerdiff.h ($(wc -l <"$TMP/decl"))"
else notok "exports = the functions of layerdiff.h" "$(diff "$TMP/decl" "$TMP/exp" | head -5)"; fi

# the example: run, compare, report; same numbers as the CLI on the same input
$PY -c "
import numpy as np
x = (np.arange(784) * 37 % 256).astype(np.float32) / 255
np.save('$TMP/x.npy', x.reshape(1, 1, 28, 28))"
expect_rc 0 "compare_example fp16 passes" "$EX" $R fp16 "$TMP/ex16.json"
expect_out 'run: output logits has 10 values' "the example ran the model in FP32"
expect_rc 1 "compare_example int8 diverges (exit 1)" "$EX" $R int8 "$TMP/ex8.json"
expect_out 'first divergent \(isolated\): /' "names the first divergent node"
# against the release CLI, built with the same flags as the library: the sanitizer build
# (-O1) leaves the omp-simd sums of Softmax and the pools unvectorised, so its last bits differ
./layerdiff compare $R --target int8 --input image="$TMP/x.npy" --report "$TMP/cli8.json" -q >/dev/null 2>&1
$PY - "$TMP/ex8.json" "$TMP/cli8.json" >"$TMP/out" 2>&1 <<'PYEOF'
import json, sys
a, b = (json.load(open(p)) for p in sys.argv[1:3])
for r in (a, b): r['summary'].pop('seconds'); r['settings'].pop('data')
assert a['nodes'] and a == b, 'library and CLI reports differ'
print('same')
PYEOF
expect_out '^same$' "library report (int8, calibrated) equals the CLI's, node by node"
expect_rc 66 "a missing model: exit code 66 from layerdiff_errcode" "$EX" "$TMP/none.onnx"
expect_out 'none.onnx' "the message names the file"
expect_rc 64 "an unknown target: usage error 64" "$EX" $R fp7

# install into a temporary prefix, build the example with pkg-config, uninstall
P=$TMP/prefix
make --no-print-directory -s install PREFIX="$P" >"$TMP/out" 2>&1 && ok "make install PREFIX=..." || notok "make install" "$(tail -5 "$TMP/out")"
for f in lib/liblayerdiff.so.$VERSION lib/liblayerdiff.so.${VERSION%%.*} lib/liblayerdiff.so lib/liblayerdiff.a \
         include/layerdiff.h lib/pkgconfig/layerdiff.pc share/man/man3/layerdiff.3; do
    [ -e "$P/$f" ] && ok "installed $f" || notok "installed $f"
done
export PKG_CONFIG_PATH=$P/lib/pkgconfig
[ "$(pkg-config --modversion layerdiff 2>&1)" = "$VERSION" ] && ok "pkg-config --modversion layerdiff" || notok "pkg-config --modversion"
# shellcheck disable=SC2046
if cc -std=gnu11 -o "$TMP/ex_pc" examples/compare_example.c $(pkg-config --cflags --libs layerdiff) -Wl,-rpath,"$P/lib" >"$TMP/out" 2>&1; then
    ok "example builds against the installed pkg-config file"
    ldd "$TMP/ex_pc" | grep -q "$P/lib/liblayerdiff.so.${VERSION%%.*}" && ok "it links the installed shared library" || notok "links the installed library" "$(ldd "$TMP/ex_pc" | grep layerdiff)"
    expect_rc 0 "the installed build runs" "$TMP/ex_pc" $R fp16
else notok "example builds against the installed pkg-config file" "$(head -c 400 "$TMP/out")"; fi
# shellcheck disable=SC2046
if cc -std=gnu11 -o "$TMP/ex_static" examples/compare_example.c $(pkg-config --cflags layerdiff) "$P/lib/liblayerdiff.a" \
      $(pkg-config --static --libs layerdiff | sed 's/-llayerdiff//') >"$TMP/out" 2>&1; then
    ok "example links the static library (pkg-config --static)"
    ldd "$TMP/ex_static" | grep -q liblayerdiff && notok "static build needs no liblayerdiff.so" || ok "static build needs no liblayerdiff.so"
    expect_rc 1 "the static build runs (int8 diverges)" "$TMP/ex_static" $R int8
else notok "example links the static library" "$(head -c 400 "$TMP/out")"; fi
make --no-print-directory -s uninstall PREFIX="$P" >"$TMP/out" 2>&1 && ok "make uninstall" || notok "make uninstall" "$(tail -5 "$TMP/out")"
left=$(find "$P" \( -type f -o -type l \) 2>/dev/null)
[ -z "$left" ] && ok "uninstall removes every installed file" || notok "uninstall removes every installed file" "$(echo "$left" | head -5)"
