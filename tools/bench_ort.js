// bench_ort.js — time ONNX Runtime (onnxruntime-node, CPU) on one model and input, the same
// way `layerdiff run --repeat` does: W warm-up runs, then R timed runs; prints JSON with the
// latency statistics and writes the first output to OUT.npy for the accuracy check.
//   node bench_ort.js MODEL INPUT_NAME INPUT.npy THREADS WARMUP REPEAT OUT.npy
const fs = require('fs');
const path = require('path');
const ort = require(path.resolve(process.env.ORT_DIR, 'node_modules', 'onnxruntime-node'));

function readNpy(file) {
  const b = fs.readFileSync(file);
  const hlen = b.readUInt16LE(8);
  const hdr = b.toString('latin1', 10, 10 + hlen);
  const shape = hdr.match(/'shape': \(([^)]*)\)/)[1].split(',').map(s => s.trim()).filter(s => s).map(Number);
  if (!hdr.includes("'<f4'")) throw new Error('only float32 inputs');
  const data = new Float32Array(b.buffer.slice(b.byteOffset + 10 + hlen, b.byteOffset + b.length));
  return new ort.Tensor('float32', data, shape);
}

function writeNpy(file, t) {
  const shape = '(' + t.dims.join(', ') + (t.dims.length === 1 ? ',' : '') + ')';
  let h = `{'descr': '<f4', 'fortran_order': False, 'shape': ${shape}, }`;
  while ((10 + h.length + 1) % 64) h += ' ';
  h += '\n';
  const head = Buffer.alloc(10);
  Buffer.from('\x93NUMPY', 'latin1').copy(head);
  head[6] = 1; head[7] = 0; head.writeUInt16LE(h.length, 8);
  fs.writeFileSync(file, Buffer.concat([head, Buffer.from(h, 'latin1'), Buffer.from(t.data.buffer)]));
}

(async () => {
  const [model, name, input, threads, warmup, repeat, out] = process.argv.slice(2);
  const s = await ort.InferenceSession.create(model, {
    intraOpNumThreads: Number(threads), interOpNumThreads: 1, executionMode: 'sequential',
    graphOptimizationLevel: 'all'});
  const feeds = {[name]: readNpy(input)};
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
