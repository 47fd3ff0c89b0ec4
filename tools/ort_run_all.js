// ort_run_all.js — run one model once with ONNX Runtime (onnxruntime-node, CPU) on .npy
// inputs and save every graph output: OUTDIR/<k>.npy (as float32) and OUTDIR/names.json (the
// output names in order). The QDQ cross-check (tests/e2e/test_qdq.sh) adds the quantizers'
// outputs to a model's graph outputs and compares them with layerdiff's.
//   ORT_DIR=.cache/ort node tools/ort_run_all.js MODEL OUTDIR NAME=INPUT.npy...
const fs = require('fs');
const path = require('path');
const ort = require(path.resolve(process.env.ORT_DIR, 'node_modules', 'onnxruntime-node'));

const {readNpy, writeNpy} = require('./npy.js');

(async () => {
  const [model, outdir, ...specs] = process.argv.slice(2);
  const feeds = {};
  for (const sp of specs) {
    const i = sp.indexOf('=');
    feeds[sp.slice(0, i)] = readNpy(ort, sp.slice(i + 1));
  }
  // ORT_OPT: graph optimization level (disabled, basic, extended, all; default all): ONNX
  // Runtime's CPU QDQ fusions (QLinearConv) take no float8, so FP8 models run at 'basic'
  const opt = process.env.ORT_OPT || 'all';
  const s = await ort.InferenceSession.create(model, {logSeverityLevel: 3, graphOptimizationLevel: opt});
  const r = await s.run(feeds);
  fs.mkdirSync(outdir, {recursive: true});
  s.outputNames.forEach((n, k) => writeNpy(path.join(outdir, k + '.npy'), r[n]));
  fs.writeFileSync(path.join(outdir, 'names.json'), JSON.stringify(s.outputNames));
})().catch(e => { console.error('ort_run_all: ' + e.message); process.exit(1); });
