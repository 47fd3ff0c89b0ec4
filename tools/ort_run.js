// ort_run.js — run one model once with ONNX Runtime (onnxruntime-node, CPU) on one .npy input
// and save the first output as .npy; used by the tests that check layerdiff against ORT.
//   ORT_DIR=.cache/ort node tools/ort_run.js MODEL INPUT_NAME INPUT.npy OUT.npy
const fs = require('fs');
const path = require('path');
const ort = require(path.resolve(process.env.ORT_DIR, 'node_modules', 'onnxruntime-node'));

function readNpy(file) {
  const b = fs.readFileSync(file);
  const hlen = b.readUInt16LE(8);
  const hdr = b.toString('latin1', 10, 10 + hlen);
  const shape = hdr.match(/'shape': \(([^)]*)\)/)[1].split(',').map(s => s.trim()).filter(s => s).map(Number);
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
  const data = t.type === 'float32' ? t.data : Float32Array.from(t.data);
  fs.writeFileSync(file, Buffer.concat([head, Buffer.from(h, 'latin1'), Buffer.from(data.buffer)]));
}

(async () => {
  const [model, name, input, out] = process.argv.slice(2);
  const s = await ort.InferenceSession.create(model, {logSeverityLevel: 3});
  const r = await s.run({[name]: readNpy(input)});
  writeNpy(out, r[s.outputNames[0]]);
})().catch(e => { console.error('ort_run: ' + e.message); process.exit(1); });
