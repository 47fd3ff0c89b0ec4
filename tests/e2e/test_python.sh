#!/usr/bin/env bash
# The layerdiff Python module (python/, layerdiff(3)): `pip install ./python` offline with
# Debian's setuptools, the installed copy finds its bundled shared library, and the pytest
# suite (python/tests: results equal the CLI's reports for the same inputs) passes against
# the installed copy; each pytest test is one ok/not ok line.
. "$(dirname "$0")/lib.sh"
BUILD=${BUILD:-build}
PY=/usr/bin/python3
SO=$BUILD/lib/liblayerdiff.so.$(cut -d. -f1 VERSION)
[ -e "$SO" ] || make --no-print-directory -s -j2 lib >/dev/null 2>&1
[ -e "$SO" ] && ok "shared library built" || notok "shared library built" "$SO missing"

SITE=$TMP/site
if $PY -m pip install --quiet --no-build-isolation --no-index --no-deps --target "$SITE" ./python >"$TMP/out" 2>&1; then
    ok "pip install --no-build-isolation --no-index ./python (offline)"
else notok "pip install ./python offline" "$(tail -5 "$TMP/out")"; fi
[ -e "$SITE/layerdiff/$(basename "$SO")" ] && ok "the package carries the shared library" || notok "the package carries the shared library"
(cd "$TMP" && env -u LAYERDIFF_LIB PYTHONPATH="$SITE" $PY -c 'import layerdiff, layerdiff._lib as l; print(layerdiff.version(), l.lib._name)') >"$TMP/out" 2>&1
expect_out "^$(cat VERSION) $SITE/layerdiff/" "the installed module loads its own copy, outside the source tree"
(cd "$TMP" && LAYERDIFF_LIB=$TMP/nonexistent.so PYTHONPATH="$SITE" $PY -c 'import layerdiff') >"$TMP/out" 2>&1
expect_out "cannot load liblayerdiff.*LAYERDIFF_LIB" "a wrong LAYERDIFF_LIB is an ImportError that says what to do"

case $LD in
*asan*) ok "pytest suite: runs against the release CLI only (skipped under ASan)"; exit 0 ;;
esac
CLI=$(cd "$(dirname "$LD")" && pwd)/$(basename "$LD")
env -u LAYERDIFF_LIB PYTHONPATH="$SITE" LAYERDIFF="$CLI" $PY -m pytest -v -p no:cacheprovider python/tests >"$TMP/pytest" 2>&1
prc=$?
grep -E '::.* (PASSED|FAILED|ERROR|SKIPPED)' "$TMP/pytest" | while read -r line; do
    name=$(echo "$line" | sed 's/ \(PASSED\|FAILED\|ERROR\|SKIPPED\).*//; s/^python\/tests\///')
    case $line in
    *PASSED*) echo "ok - pytest $name" ;;
    *SKIPPED*) echo "ok - pytest $name # SKIP" ;;
    *) echo "not ok - pytest $name" ;;
    esac
done
if [ $prc -ne 0 ]; then notok "pytest exit status" "$(grep -E '^(E |FAILED|ERROR)' "$TMP/pytest" | head -20)"; else ok "pytest exit status 0"; fi
