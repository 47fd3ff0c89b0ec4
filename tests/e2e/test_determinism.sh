#!/usr/bin/env bash
# Every number layerdiff prints or writes is bitwise the same for any --threads (issue 8):
# run (every intermediate tensor, --mark-all) and compare (fp16, int8: the whole JSON report
# but its "seconds") on both Fashion-MNIST models and light ONNX zoo models, for --threads
# 1, 2, 3, 5 and 8, each compared byte for byte with --threads 1. Also two runs in a row.
. "$(dirname "$0")/lib.sh"
R=fixtures/models/fmnist_resnet.onnx
V=fixtures/models/fmnist_vit.onnx
L=fixtures/onnx-tests/light
D=fixtures/fmnist/t10k-images-idx3-ubyte.gz
# Under the sanitizers (make check runs every CLI test again with layerdiff-asan) the point is
# memory errors on the threaded paths, not the whole matrix: --threads 1 and 3, small models.
THREADS="1 2 3 5 8" RUNS="squeezenet resnet50 inception_v1"
case $LD in *asan*) THREADS="1 3" RUNS="squeezenet" ;; esac
strip_time() { sed -E 's/"seconds":[[:space:]]*[-0-9.eE+]+/"seconds": 0/' "$1" > "$1.s"; }

outputs() {   # threads name model [run args...]: every tensor as .npy files in $TMP/t$1/name
    local t=$1 name=$2 model=$3
    shift 3
    $LD --threads "$t" run "$model" --mark-all --save-outputs "$TMP/t$t/$name" "$@" >"$TMP/out" 2>&1 \
        || notok "threads $t: run $name" "$(head -c 400 "$TMP/out")"
}
report() {    # threads name model target [compare args...]
    local t=$1 name=$2 model=$3 target=$4
    shift 4
    $LD --threads "$t" compare "$model" --target "$target" --report "$TMP/t$t/$name.json" -q "$@" >"$TMP/out" 2>&1
    local rc=$?
    [ $rc -le 1 ] || notok "threads $t: compare $name" "exit $rc: $(head -c 400 "$TMP/out")"
    [ -f "$TMP/t$t/$name.json" ] && strip_time "$TMP/t$t/$name.json"
}

for t in $THREADS; do
    mkdir -p "$TMP/t$t"
    outputs $t resnet $R --batch 8
    outputs $t vit $V --batch 8
    for m in $RUNS; do outputs $t $m $L/light_$m.onnx; done
    for tg in fp16 int8; do
        report $t resnet_$tg $R $tg --data $D --batch 64 --max-samples 192
        report $t vit_$tg $V $tg --data $D --batch 64 --max-samples 128
        report $t squeezenet_$tg $L/light_squeezenet.onnx $tg
    done
done
# a second run with the same thread count
mkdir -p "$TMP/again"
t_again=$(echo $THREADS | cut -d' ' -f2)
$LD --threads $t_again compare $R --target fp16 --data $D --batch 64 --max-samples 192 --report "$TMP/again/r.json" -q >/dev/null 2>&1
strip_time "$TMP/again/r.json"
if cmp -s "$TMP/again/r.json.s" "$TMP/t$t_again/resnet_fp16.json.s"; then ok "two runs in a row: the same report"
else notok "two runs in a row: the same report"; fi

for t in ${THREADS#1 }; do
    for name in resnet vit $RUNS; do
        n=$(ls "$TMP/t1/$name" 2>/dev/null | wc -l)
        if [ "$n" -gt 0 ] && diff -rq "$TMP/t1/$name" "$TMP/t$t/$name" >"$TMP/diff" 2>&1; then
            ok "run $name: $n tensors identical with --threads $t and 1"
        else notok "run $name: tensors identical with --threads $t and 1" "$(head -5 "$TMP/diff")"; fi
    done
    for tg in fp16 int8; do
        for name in resnet vit squeezenet; do
            a="$TMP/t1/${name}_$tg.json.s" b="$TMP/t$t/${name}_$tg.json.s"
            if [ -s "$a" ] && cmp -s "$a" "$b"; then ok "compare $name $tg: report identical with --threads $t and 1"
            else notok "compare $name $tg: report identical with --threads $t and 1" "$(diff "$a" "$b" 2>&1 | head -6)"; fi
        done
    done
done
