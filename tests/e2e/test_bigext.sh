#!/usr/bin/env bash
# A model with more than 2 GB of external-data initializers (tests/e2e/bigext.py writes them
# to a sparse file, so the test costs no disk): loading maps the file instead of copying the
# weights, so inspect and run stay small in memory, and offsets past 2^31 bytes read right.
. "$(dirname "$0")/lib.sh"
PY=/usr/bin/python3
$PY tests/e2e/bigext.py "$TMP"
size=$(stat -c %s "$TMP/big.bin")
[ "$size" -gt 2147483648 ] && ok "external data file is $size bytes (> 2 GB)" || notok "external data is only $size bytes"
expect_rc 0 "inspect counts the parameters" /usr/bin/time -v $LD inspect $TMP/big.onnx --no-nodes
expect_out "parameters +603979776 in 3 initializers \(2415.92 MB\)" "2.4 GB of parameters"
rss() { sed -n 's/.*Maximum resident set size (kbytes): //p' "$TMP/out"; }
CAP=131072   # kB; an ASan binary (the asan suite) carries shadow memory: a looser bound, still < 2.4 GB
case $LD in *asan*) CAP=1048576 ;; esac
r=$(rss)
[ -n "$r" ] && [ "$r" -lt $CAP ] && ok "inspect peak RSS ${r} kB: nothing copied" || notok "inspect peak RSS ${r} kB (over $CAP kB: weights copied?)"
expect_rc 0 "run gathers from the three tensors" /usr/bin/time -v $LD run $TMP/big.onnx --input i=$TMP/i.npy --save-outputs $TMP/y.npz
r=$(rss)
[ -n "$r" ] && [ "$r" -lt $CAP ] && ok "run peak RSS ${r} kB: the weights are mapped, not read" || notok "run peak RSS ${r} kB (over $CAP kB)"
$PY -c "
import numpy as np; y=np.load('$TMP/y.npz')['y']; w=np.load('$TMP/want.npy')
assert np.array_equal(y, w), (y, w); print('values ok')" >"$TMP/out" 2>&1
expect_out "values ok" "values at offsets beyond 2^31 bytes are right"
