#!/usr/bin/env bash
# layerdiff-mpi (make MPI=1): `mpirun -n K layerdiff-mpi compare ...` on 2 and 3 ranks of this
# machine (--oversubscribe) gives the report of `layerdiff compare` on the same samples, byte
# for byte but the wall time: FP16, calibrated INT8 with labels, more ranks than samples; the
# table and the exit codes (divergence, errors) are the CLI's; calibration split over the
# ranks gives the same scales. `layerdiff-mpi autopin` finds
# the same pins with the same figures and report as `layerdiff autopin`.
. "$(dirname "$0")/lib.sh"
PY=/usr/bin/python3
R=fixtures/models/fmnist_resnet.onnx
MPIBIN=./layerdiff-mpi
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 OMPI_MCA_rmaps_base_oversubscribe=1
if ! command -v mpicc >/dev/null || ! command -v mpirun >/dev/null; then
    notok "Open MPI (libopenmpi-dev, openmpi-bin: make deps) is installed"; exit 0
fi
make --no-print-directory -s -j2 MPI=1 layerdiff-mpi >"$TMP/out" 2>&1 && ok "make MPI=1 builds layerdiff-mpi" || { notok "make MPI=1" "$(tail -5 "$TMP/out")"; exit 0; }
case $LD in *asan*) LD=./layerdiff ;; esac   # the single-process reference is the release CLI

$PY -c "
import numpy as np
np.save('$TMP/x.npy', np.random.RandomState(3).rand(7, 1, 28, 28).astype(np.float32))
np.save('$TMP/x2.npy', np.random.RandomState(4).rand(2, 1, 28, 28).astype(np.float32))
np.save('$TMP/y.npy', np.array([1, 2, 3, 4, 5, 6, 7]))"

same() {   # same REPORT1 REPORT2 "what": equal but for summary.seconds
    if $PY - "$1" "$2" >"$TMP/cmp" 2>&1 <<'PYEOF'
import json, sys
a, b = (json.load(open(p)) for p in sys.argv[1:3])
for r in (a, b): r['summary'].pop('seconds')
assert a['nodes'] and a == b, [k for k in a if a[k] != b[k]]
PYEOF
    then ok "$3"; else notok "$3" "$(tail -3 "$TMP/cmp")"; fi
}

mpi() { mpirun -n "$1" --oversubscribe $MPIBIN "${@:2}"; }

$LD compare $R --target fp16 --input image=$TMP/x.npy --batch 1 --report $TMP/fp16.json >$TMP/fp16.txt 2>/dev/null
for k in 2 3; do
    expect_rc 0 "fp16 on $k ranks" mpi $k compare $R --target fp16 --input image=$TMP/x.npy --batch 1 --report $TMP/fp16_$k.json
    grep -v '^layerdiff-mpi:' "$TMP/out" | grep -v '^report written' >"$TMP/t_$k.txt"
    same $TMP/fp16.json $TMP/fp16_$k.json "fp16 report of $k ranks = single process"
    if diff <(grep -v '^report written' $TMP/fp16.txt) "$TMP/t_$k.txt" >/dev/null; then ok "fp16 table of $k ranks = single process"
    else notok "fp16 table of $k ranks = single process" "$(diff <(grep -v '^report written' $TMP/fp16.txt) "$TMP/t_$k.txt" | head -5)"; fi
done

$LD compare $R --target int8 --input image=$TMP/x.npy --batch 1 --labels $TMP/y.npy --report $TMP/int8.json -q >/dev/null 2>&1
for k in 2 3; do
    expect_rc 0 "int8 (entropy calibration, labels) on $k ranks" mpi $k compare $R --target int8 --input image=$TMP/x.npy --batch 1 \
        --labels $TMP/y.npy --report $TMP/int8_$k.json -q
    same $TMP/int8.json $TMP/int8_$k.json "int8 report of $k ranks = single process (classification, first divergent, sums)"
done

# calibration split over the ranks: the scales (written as a TensorRT cache) are the same bytes
$LD compare $R --target int8 --input image=$TMP/x.npy --batch 1 --calib $TMP/x2.npy --calib-method percentile \
    --write-calib-cache $TMP/c1.cache --report $TMP/pc.json -q >/dev/null 2>&1
expect_rc 0 "int8, percentile calibration on 2 samples over 3 ranks" mpi 3 compare $R --target int8 --input image=$TMP/x.npy \
    --batch 1 --calib $TMP/x2.npy --calib-method percentile --write-calib-cache $TMP/c3.cache --report $TMP/pc_3.json -q
cmp -s $TMP/c1.cache $TMP/c3.cache && [ -s $TMP/c1.cache ] && ok "calibration cache of 3 ranks = single process" \
    || notok "calibration cache of 3 ranks = single process" "$(diff $TMP/c1.cache $TMP/c3.cache | head -4)"
same $TMP/pc.json $TMP/pc_3.json "percentile-calibrated report of 3 ranks = single process"

$LD compare $R --target bf16 --input image=$TMP/x2.npy --batch 1 --report $TMP/bf16.json -q >/dev/null 2>&1
expect_rc 0 "3 ranks, 2 samples (an idle rank)" mpi 3 compare $R --target bf16 --input image=$TMP/x2.npy --batch 1 --report $TMP/bf16_3.json -q
same $TMP/bf16.json $TMP/bf16_3.json "bf16 report with an idle rank = single process"

$LD compare $R --target int8 --input image=$TMP/x.npy --batch 1 --min-sqnr 40 -q >/dev/null 2>&1
cli_rc=$?
expect_rc $cli_rc "divergence: exit $cli_rc as the CLI" mpi 2 compare $R --target int8 --input image=$TMP/x.npy --batch 1 --min-sqnr 40 -q
expect_rc 66 "missing model: exit 66" mpi 2 compare $TMP/none.onnx --target fp16
expect_out 'none.onnx: No such file' "names the missing file"
expect_rc 64 "--against is refused (not distributed)" mpi 2 compare $R --against $R
expect_out 'not distributed' "says so"
# what the per-sample packets do not carry yet is refused, not reported without it
/usr/bin/python3 tests/e2e/if_const_out.py $TMP/ifc.onnx
/usr/bin/python3 - $TMP <<'PYEOF'
import sys, numpy as np, onnx, onnx.numpy_helper as nh
from onnx import helper as h, TensorProto as T
d = sys.argv[1]
np.save(d + '/x2f.npy', np.ones((2,), np.float32))
inits = [nh.from_array(np.array(0.01, np.float32), 's'), nh.from_array(np.array(0, np.int8), 'z')]
nodes = [h.make_node('QuantizeLinear', ['x', 's', 'z'], ['q']), h.make_node('DequantizeLinear', ['q', 's', 'z'], ['dq']),
         h.make_node('Relu', ['dq'], ['y'])]
g = h.make_graph(nodes, 'g', [h.make_tensor_value_info('x', T.FLOAT, [2])], [h.make_tensor_value_info('y', T.FLOAT, [2])], inits)
m = h.make_model(g, opset_imports=[h.make_opsetid('', 13)]); m.ir_version = 8
onnx.save(m, d + '/qdq.onnx')
c = h.make_node('Relu', ['x'], ['r'])
body = h.make_graph([h.make_node('Identity', ['x'], ['o'])], 'b', [], [h.make_tensor_value_info('o', T.FLOAT, [2])])
g = h.make_graph([h.make_node('Greater', ['x', 'x'], ['c']), h.make_node('If', ['c'], ['y'], then_branch=body, else_branch=body, name='If_0')],
                 'g', [h.make_tensor_value_info('x', T.FLOAT, [2])], [h.make_tensor_value_info('y', T.FLOAT, [2])])
m = h.make_model(g, opset_imports=[h.make_opsetid('', 13)]); m.ir_version = 8
onnx.save(m, d + '/ifdyn.onnx')
PYEOF
expect_rc 0 "a model whose constant If is inlined runs distributed" mpi 2 compare $TMP/ifc.onnx --target fp16 --input x=$TMP/x2f.npy -q
expect_rc 64 "a QDQ model is refused (quantizer statistics not distributed yet)" mpi 2 compare $TMP/qdq.onnx --input x=$TMP/x2f.npy -q
expect_out 'QDQ models .* not distributed' "says so"
expect_rc 64 "a model with a subgraph left is refused" mpi 2 compare $TMP/ifdyn.onnx --target fp16 --input x=$TMP/x2f.npy --calib $TMP/x2f.npy -q
expect_out "node 'If_0' \\(If\\) has a subgraph" "names the node"

# autopin: the same pins, figures and report as one process (the search path must not depend
# on how the samples are split)
ap() {   # ap TAG ARGS...: one process, then 2 and 3 ranks
    local tag=$1; shift
    $LD autopin $R --input image=$TMP/x.npy --batch 1 --quiet --report $TMP/ap_$tag.json -o $TMP/ap_$tag.txt "$@" \
        2>/dev/null | grep -vE '^wrote' | sed 's/, [0-9.]* s/, S s/' >$TMP/ap_$tag.out
    for k in 2 3; do
        mpi $k autopin $R --input image=$TMP/x.npy --batch 1 --quiet --report $TMP/ap_${tag}_$k.json -o $TMP/ap_${tag}_$k.txt "$@" \
            2>/dev/null | grep -vE '^wrote' | sed 's/, [0-9.]* s/, S s/' >$TMP/ap_${tag}_$k.out
        if cmp -s $TMP/ap_$tag.txt $TMP/ap_${tag}_$k.txt && [ -s $TMP/ap_$tag.txt ]; then ok "autopin $tag: pins of $k ranks = one process"
        else notok "autopin $tag: pins of $k ranks = one process" "$(diff $TMP/ap_$tag.txt $TMP/ap_${tag}_$k.txt | head -5)"; fi
        if cmp -s $TMP/ap_$tag.out $TMP/ap_${tag}_$k.out; then ok "autopin $tag: printed figures of $k ranks = one process"
        else notok "autopin $tag: printed figures of $k ranks = one process" "$(diff $TMP/ap_$tag.out $TMP/ap_${tag}_$k.out | head -6)"; fi
        same $TMP/ap_$tag.json $TMP/ap_${tag}_$k.json "autopin $tag: report of $k ranks = one process"
    done
}
ap int8-greedy --target int8 --labels $TMP/y.npy --goal 'sqnr>=38' --max-tries 5
ap fp8-bisect --target fp8e4m3 --calib-method minmax --strategy bisect --goal 'sqnr>=40' --max-tries 4
grep -q 'nodes* in FP32' $TMP/ap_int8-greedy.out && ok "autopin printed its summary" || notok "autopin printed its summary" "$(head -3 $TMP/ap_int8-greedy.out)"
