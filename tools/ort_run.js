// ort_run.js — run one model once with ONNX Runtime (onnxruntime-node, CPU) on one .npy input
// and save the first output as .npy; used by the tests that check layerdiff against ORT.
//   ORT_DIR=.cache/ort node tools/ort_run.js MODEL INPUT_NAME INPUT.npy OUT.npy
const path = require('path');
const ort = require(path.resolve(process.env.ORT_DIR, 'node_modules', 'onnxruntime-node'));

const {readNpy, writeNpy} = require('./npy.js');

(async () => {
  const [model, name, input, out] = process.argv.slice(2);
  const s = await ort.InferenceSession.create(model, {logSeverityLevel: 3});
  const r = await s.run({[name]: readNpy(ort, input)});
  writeNpy(out, r[s.outputNames[0]]);
})().catch(e => { console.error('ort_run: ' + e.message); process.exit(1); });
