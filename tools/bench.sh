#!/usr/bin/env bash
# make bench: layerdiff FP32 vs ONNX Runtime (npm onnxruntime-node, CPU) on the same inputs
# and thread count. Prints median latency of each, their ratio, peak RSS (/usr/bin/time -v)
# and the max relative difference of the outputs. ONNX Runtime is installed into
# .cache/ort on first use (npm, --ignore-scripts: the CPU binaries ship in the package).
#   THREADS=2 REPEAT=20 ROUNDS=3 tools/bench.sh
# PARTS picks the tables (default all): fp32 compare full autopin chain.
set -euo pipefail
cd "$(dirname "$0")/.."
THREADS=${THREADS:-$(nproc)}
REPEAT=${REPEAT:-20}
WARMUP=${WARMUP:-3}
ROUNDS=${ROUNDS:-3}
ISAS=${ISAS-avx2}   # extra LAYERDIFF_ISA rows for the FP32 table ("" for none)
ORT_DIR=${ORT_DIR:-$PWD/.cache/ort}
PARTS=${PARTS:-fp32 compare full autopin chain}
want() { [[ " $PARTS " == *" $1 "* ]]; }
IMG=fixtures/fmnist/t10k-images-idx3-ubyte.gz   # the bundled 512-image sample
export ORT_DIR
LD=./layerdiff
W=$(mktemp -d)
trap 'rm -rf "$W"' EXIT

ORT_DIR=$ORT_DIR tools/ensure_ort.sh || { echo "bench: cannot install onnxruntime-node (node/npm missing or no registry)"; exit 1; }
ORT_VERSION=$(node -e "console.log(require('$ORT_DIR/node_modules/onnxruntime-node/package.json').version)")

# name model input batch
CASES="light_resnet50 fixtures/onnx-tests/light/light_resnet50.onnx gpu_0/data_0 1
fmnist_resnet fixtures/models/fmnist_resnet.onnx image 1
fmnist_resnet fixtures/models/fmnist_resnet.onnx image 256
fmnist_vit fixtures/models/fmnist_vit.onnx image 64"


if want fp32; then
printf '\nlayerdiff %s vs ONNX Runtime %s (CPU), %s threads, %s alternating rounds of %s timed runs after %s warm-up\n\n' \
    "$($LD --version | cut -d' ' -f2)" "$ORT_VERSION" "$THREADS" "$ROUNDS" "$REPEAT" "$WARMUP"
printf '| model | batch | layerdiff ms | ONNX Runtime ms | ratio | layerdiff peak RSS MB | ORT peak RSS MB | max rel diff |\n'
printf '|---|---:|---:|---:|---:|---:|---:|---:|\n'
while read -r name model input batch; do
    shape=$($LD inspect "$model" --json --batch "$batch" --no-nodes | /usr/bin/python3 -c "
import json,sys; d=json.load(sys.stdin); i=[x for x in d['inputs'] if x['name']=='$input'][0]
print(','.join(str(v if isinstance(v,int) else ($batch if k==0 else 1)) for k,v in enumerate(i['shape'])))")
    /usr/bin/python3 -c "
import numpy as np; s=tuple(int(v) for v in '$shape'.split(','))
np.save('$W/in.npy', np.random.default_rng(0).random(s, dtype=np.float32))"
    # each case with the GEMM on the CPU's best instruction set, then on the ones in ISAS
    # (LAYERDIFF_ISA: the AVX2 path on an AVX-512 machine); the numbers are the same
    for isa in "" $ISAS; do
    # ROUNDS alternating rounds (layerdiff, then ONNX Runtime): the machine's speed drifts, and
    # alternating keeps the drift from favouring either; each side's figure is the median of
    # its per-round medians, its RSS the largest seen
    for r in $(seq 1 "$ROUNDS"); do
        env ${isa:+LAYERDIFF_ISA=$isa} /usr/bin/time -v $LD --threads "$THREADS" run "$model" --input "$input=$W/in.npy" --repeat "$REPEAT" \
            --warmup "$WARMUP" --json --save-outputs "$W/ld.npz" --force >"$W/ld$r.json" 2>"$W/ld$r.time"
        /usr/bin/time -v node tools/bench_ort.js "$model" "$input" "$W/in.npy" "$THREADS" "$WARMUP" "$REPEAT" \
            "$W/ort.npy" >"$W/ort$r.json" 2>"$W/ort$r.time"
    done
    /usr/bin/python3 - "$W" "$name${isa:+ ($isa)}" "$batch" "$ROUNDS" <<'PYEOF'
import json, re, statistics, sys, numpy as np
w, name, batch, rounds = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
def rss(f):
    return int(re.search(r'Maximum resident set size \(kbytes\): (\d+)', open(f).read()).group(1))
ld = statistics.median(json.load(open(f'{w}/ld{r}.json'))['latency_ms']['median'] for r in range(1, rounds + 1))
ort = statistics.median(json.load(open(f'{w}/ort{r}.json'))['median'] for r in range(1, rounds + 1))
ldrss = max(rss(f'{w}/ld{r}.time') for r in range(1, rounds + 1))
ortrss = max(rss(f'{w}/ort{r}.time') for r in range(1, rounds + 1))
a = list(np.load(w + '/ld.npz').values())[0]
b = np.load(w + '/ort.npy')
rel = float(np.max(np.abs(a - b)) / max(np.max(np.abs(b)), 1e-30))
print(f'| {name} | {batch} | {ld:.2f} | {ort:.2f} | {ld / ort:.2f}x | {ldrss / 1024:.0f} | {ortrss / 1024:.0f} | {rel:.1e} |')
PYEOF
    done
done <<<"$CASES"
echo
echo "ratio = layerdiff median / ONNX Runtime median (lower is better; 1.00x = same speed)."
echo "ORT's RSS includes the Node.js runtime (about 45 MB)."
fi

if want compare; then
# ---- compare and autopin (issue 3 and 4 goals: compare <= 3x a plain run; autopin < 10 s) ----
wall() { /usr/bin/time -f '%e %M' "$@" 2>&1 >/dev/null | tail -1; }
printf '\ncompare vs run on the same data (%s threads; whole process: load, data, %s)\n\n' "$THREADS" "inference or comparison"
printf '| model | data | target | run s | compare s | compare/run | run RSS MB | compare RSS MB |\n'
printf '|---|---|---|---:|---:|---:|---:|---:|\n'
for spec in "fmnist_resnet fixtures/models/fmnist_resnet.onnx 256" "fmnist_vit fixtures/models/fmnist_vit.onnx 64"; do
    set -- $spec
    name=$1 model=$2 batch=$3
    /usr/bin/python3 -c "
import gzip, numpy as np
raw = gzip.open('$IMG').read()[16:16 + $batch * 784]
np.save('$W/fm.npy', (np.frombuffer(raw, np.uint8).reshape($batch, 1, 28, 28) / 255).astype(np.float32))"
    read -r rt rm <<<"$(wall $LD --threads "$THREADS" run "$model" --input image=$W/fm.npy)"
    for t in fp16 int8; do
        read -r ct cm <<<"$(wall $LD --threads "$THREADS" compare "$model" --target $t --input image=$W/fm.npy -q)"
        /usr/bin/python3 -c "print(f'| $name | {$batch} images | $t | {$rt:.2f} | {$ct:.2f} | {$ct / max($rt, 1e-3):.1f}x | {$rm / 1024:.0f} | {$cm / 1024:.0f} |')"
    done
done
fi

if want full; then
# ---- the full Fashion-MNIST test set (issue 10: compare at most 3x ONNX Runtime's FP32 time on
# the same data). ONNX Runtime's figure: its median batch latency on 500 of the images times the
# number of batches (inference only; the images are already decoded in its input). ----
FULL=${FMNIST_FULL:-/usr/share/datasets/fashion-mnist/t10k-images-idx3-ubyte.gz}
if [ -f "$FULL" ]; then
    NIMG=$(/usr/bin/python3 -c "import gzip; print(int.from_bytes(gzip.open('$FULL').read(8)[4:8], 'big'))")
    printf '\nthe Fashion-MNIST test set (%s images, batch 500, %s threads): compare vs ONNX Runtime FP32\n\n' "$NIMG" "$THREADS"
    printf '| model | target | ISA | compare s (CPU s) | images/s | ORT FP32 s | compare/ORT | compare RSS MB |\n'
    printf '|---|---|---|---:|---:|---:|---:|---:|\n'
    /usr/bin/python3 -c "
import gzip, numpy as np
raw = gzip.open('$FULL').read()[16:16 + 500 * 784]
np.save('$W/fm500.npy', (np.frombuffer(raw, np.uint8).reshape(500, 1, 28, 28) / 255).astype(np.float32))"
    node tools/bench_ort.js fixtures/models/fmnist_resnet.onnx image "$W/fm500.npy" "$THREADS" 1 5 "$W/ort.npy" >"$W/ortfull.json"
    for isa in "" $ISAS; do
        out=$( { env ${isa:+LAYERDIFF_ISA=$isa} /usr/bin/time -f '%e %U %S %M' $LD --threads "$THREADS" compare fixtures/models/fmnist_resnet.onnx \
                  --target fp16 --data "$FULL" --batch 500 -q >/dev/null; } 2>&1 | tail -1)
        /usr/bin/python3 - "$W/ortfull.json" "$NIMG" "${isa:-best}" $out <<'PYEOF'
import json, sys
n, isa = int(sys.argv[2]), sys.argv[3]
ort = json.load(open(sys.argv[1]))['median'] / 1000 * -(-n // 500)   # batches of 500
wall, user, sys_, rss = float(sys.argv[4]), float(sys.argv[5]), float(sys.argv[6]), int(sys.argv[7])
print(f'| fmnist_resnet | fp16 | {isa} | {wall:.1f} ({user + sys_:.1f}) | {n / wall:.0f} | {ort:.1f} | {wall / ort:.1f}x | {rss / 1024:.0f} |')
PYEOF
    done
fi
fi

if want autopin; then
printf '\nautopin on the bundled Fashion-MNIST sample (256 images, batch 64, %s threads)\n\n' "$THREADS"
printf '| model | target | goal | wall s | tries | tries/s | pins | goal met |\n|---|---|---|---:|---:|---:|---:|---|\n'
for spec in "fmnist_vit fixtures/models/fmnist_vit.onnx fp16 sqnr>=60" "fmnist_vit fixtures/models/fmnist_vit.onnx int8 sqnr>=30" "fmnist_resnet fixtures/models/fmnist_resnet.onnx int8 sqnr>=30"; do
    set -- $spec
    start=$(date +%s.%N)
    out=$($LD --threads "$THREADS" autopin "$2" --target "$3" --data "$IMG" --max-samples 256 --batch 64 \
          --goal "$4" --format json -q 2>/dev/null)
    end=$(date +%s.%N)
    printf '%s' "$out" | /usr/bin/python3 -c "
import json, sys
t = sys.stdin.read(); d = json.loads(t[t.index('{'):])
print(f\"| $1 | $3 | $4 | {$end - $start:.1f} | {d['tries']} | {d['tries'] / ($end - $start):.2f} | {len(d['pins'])} | {'yes' if d['met'] else 'no'} |\")"
done
fi

# ---- load/plan stay linear in the number of nodes (issue 12: a 20000-node chain took over a
# minute under ASan through a quadratic path). A 10x longer chain must cost about 10x. ----
if want chain; then
printf '\ninspect of a Relu/Add chain (tools/gen_chain.py): load, plan, shape inference\n\n'
printf '| nodes | wall s | peak RSS MB | s per 100000 nodes |\n|---:|---:|---:|---:|\n'
for n in 10000 100000; do
    /usr/bin/python3 tools/gen_chain.py "$n" "$W/chain.onnx"
    read -r ct cm <<<"$(wall $LD --threads "$THREADS" inspect "$W/chain.onnx")"
    /usr/bin/python3 -c "print(f'| $n | {$ct:.2f} | {$cm / 1024:.0f} | {$ct * 100000 / $n:.2f} |')"
done
fi
