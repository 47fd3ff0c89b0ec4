// bench_ort.js — time ONNX Runtime (onnxruntime-node, CPU) on one model and input, the same
// way `layerdiff run --repeat` does: W warm-up runs, then R timed runs; prints JSON with the
// latency statistics and writes the first output to OUT.npy for the accuracy check.
//   node bench_ort.js MODEL INPUT_NAME INPUT.npy THREADS WARMUP REPEAT OUT.npy
const fs = require('fs');
const path = require('path');
const ort = require(path.resolve(process.env.ORT_DIR, 'node_modules', 'onnxruntime-node'));

const {readNpy, writeNpy} = require('./npy.js');

(async () => {
  const [model, name, input, threads, warmup, repeat, out] = process.argv.slice(2);
  const s = await ort.InferenceSession.create(model, {
    intraOpNumThreads: Number(threads), interOpNumThreads: 1, executionMode: 'sequential',
    graphOptimizationLevel: 'all'});
  const feeds = {[name]: readNpy(ort, input)};
  let r;
  for (let i = 0; i < Number(warmup); i++) r = await s.run(feeds);
  const times = [];
  for (let i = 0; i < Number(repeat); i++) {
    const t0 = process.hrtime.bigint();
    r = await s.run(feeds);
    times.push(Number(process.hrtime.bigint() - t0) / 1e6);
  }
  writeNpy(out, r[s.outputNames[0]]);
  times.sort((a, b) => a - b);
  const n = times.length, med = n % 2 ? times[(n - 1) / 2] : (times[n / 2 - 1] + times[n / 2]) / 2;
  console.log(JSON.stringify({median: med, mean: times.reduce((a, b) => a + b) / n, min: times[0], max: times[n - 1]}));
})().catch(e => { console.error('bench_ort: ' + e.message); process.exit(1); });
