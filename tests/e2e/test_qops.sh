#!/usr/bin/env bash
# End-to-end tests of the com.microsoft quantization ops (MatMulNBits, contrib QuantizeLinear /
# DequantizeLinear) and DynamicQuantizeLinear on the models of tools/gen_qops_fixtures.py:
# layerdiff run's outputs against the numpy reference stored with each model, and against
# ONNX Runtime (onnxruntime-node) when it is installed; float outputs within 1e-5 relative
# (the accumulation order differs), integer outputs exactly. Malformed MatMulNBits nodes
# must give exit 65 with a message naming the node and the op.
. "$(dirname "$0")/lib.sh"
Q=fixtures/qops
PY=/usr/bin/python3
ORT_DIR=${ORT_DIR:-.cache/ort}
HAVE_ORT=0
[ -d "$ORT_DIR/node_modules/onnxruntime-node" ] && command -v node >/dev/null && HAVE_ORT=1
# ONNX Runtime 1.31 takes packed uint8 zero points as 8 when g_idx is given (see the generator)
NO_ORT="nbits_b32_gidx_zp"

# close A B [RTOL]: floats within RTOL (default 1e-5) relative, per element plus RTOL of the
# tensor's largest magnitude for values near zero; integers equal; prints "close" or what
# differs. Float16 models (*_f16_*) round the result to half: one half ulp is 1e-3 relative.
close() {
    $PY -c "
import sys, numpy as np
a, b = np.load(sys.argv[1]), np.load(sys.argv[2])
assert a.shape == b.shape, ('shape', a.shape, b.shape)
if b.dtype.kind in 'iu' or a.dtype.kind in 'iu':
    d = np.abs(a.astype(np.int64) - b.astype(np.int64))
    assert d.max(initial=0) == 0, ('integers differ', int(d.max()), int((d > 0).sum()))
else:
    a, b = a.astype(np.float64), b.astype(np.float64)
    r = float(sys.argv[3])
    tol = r * np.abs(b) + r * np.abs(b).max()
    bad = np.abs(a - b) > tol
    assert not bad.any(), ('max rel', float((np.abs(a - b) / np.abs(b).max()).max()), int(bad.sum()))
print('close')" "$1" "$2" "${3:-1e-5}" >"$TMP/out" 2>&1
}

nmodels=0
for m in $Q/nbits_*.onnx $Q/msq*.onnx $Q/dynquant.onnx; do
    n=$(basename "$m" .onnx)
    rtol=1e-5
    case $n in *_f16_*) rtol=1e-3 ;; esac
    nmodels=$((nmodels + 1))
    expect_rc 0 "$n: layerdiff runs it" $LD run "$m" --input x=$Q/${n}_x.npy --save-outputs $TMP/$n
    close $TMP/$n/y.npy $Q/${n}_ref.npy $rtol
    expect_out "^close" "$n: equals the numpy reference"
    # the same numbers with one thread and with two
    $LD --threads 1 run "$m" --input x=$Q/${n}_x.npy --save-outputs $TMP/${n}_t1 >/dev/null 2>&1
    if cmp -s $TMP/$n/y.npy $TMP/${n}_t1/y.npy; then ok "$n: bitwise the same with --threads 1"
    else notok "$n: bitwise the same with --threads 1"; fi
    case " $NO_ORT " in *" $n "*) continue ;; esac
    if [ $HAVE_ORT = 1 ]; then
        if ORT_DIR=$ORT_DIR node tools/ort_run.js "$m" x $Q/${n}_x.npy $TMP/${n}_ort.npy >"$TMP/out" 2>&1; then
            close $TMP/$n/y.npy $TMP/${n}_ort.npy $rtol
            expect_out "^close" "$n: equals ONNX Runtime"
        else
            notok "$n: ONNX Runtime runs it" "$(head -c 400 "$TMP/out")"
        fi
    fi
done
[ $HAVE_ORT = 1 ] || echo "# ONNX Runtime not installed (tools/ensure_ort.sh): cross-check skipped"
if [ $nmodels -ge 21 ]; then ok "all $nmodels fixture models were found"
else notok "all fixture models were found" "only $nmodels: run tools/gen_qops_fixtures.py"; fi

# malformed MatMulNBits: exit 65 naming the node and the op, never a crash
for b in "bad_bshape:input B has shape" "bad_bits3:bits must be 2, 4 or 8, got 3" \
         "bad_noscales:has 2 inputs, the operator takes 3 to 6" \
         "bad_gidx:g_idx\\[0\\] is 2, outside \\[0, k_blocks=2\\)"; do
    n=${b%%:*}
    expect_rc 65 "$n: rejected with exit 65" $LD run $Q/$n.onnx --input x=$Q/${n}_x.npy
    expect_out "node 'bad_mmnb' \\(MatMulNBits-1\\): ${b#*:}" "$n: the message names node, op and fault"
done
expect_rc 65 "rejected with generated inputs too" $LD run $Q/bad_bits3.onnx
expect_rc 0 "inspect still describes a model with a malformed MatMulNBits" $LD inspect $Q/bad_bits3.onnx
expect_out "shape inference stopped: node 'bad_mmnb' \\(MatMulNBits-1\\): bits must be" "inspect names the fault"
