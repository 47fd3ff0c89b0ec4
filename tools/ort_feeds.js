// ort_feeds.js — run a model once with ONNX Runtime (onnxruntime-node, CPU) on every input found
// as INDIR/<input name>.npy (float32 or int64) and save every output as OUTDIR/<output name>.npy;
// used by the tests that check multi-input models (KV-cache decoders) against ORT.
//   ORT_DIR=.cache/ort node tools/ort_feeds.js MODEL INDIR OUTDIR
const path = require('path');
const ort = require(path.resolve(process.env.ORT_DIR, 'node_modules', 'onnxruntime-node'));

const {readNpy, writeNpy} = require('./npy.js');

(async () => {
  const [model, indir, outdir] = process.argv.slice(2);
  const s = await ort.InferenceSession.create(model, {logSeverityLevel: 3});
  const feeds = {};
  for (const n of s.inputNames) feeds[n] = readNpy(ort, path.join(indir, n + '.npy'));
  const r = await s.run(feeds);
  for (const n of s.outputNames) writeNpy(path.join(outdir, n + '.npy'), r[n]);
})().catch(e => { console.error('ort_feeds: ' + e.message); process.exit(1); });
