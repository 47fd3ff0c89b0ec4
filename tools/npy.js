// npy.js — the .npy reading and writing the ONNX Runtime helper scripts share (float32; int64
// inputs too).
const fs = require('fs');

function readNpy(ort, file) {
  const b = fs.readFileSync(file);
  const hlen = b.readUInt16LE(8);
  const hdr = b.toString('latin1', 10, 10 + hlen);
  const i64 = hdr.includes("'<i8'");
  if (!hdr.includes("'<f4'") && !i64) throw new Error(file + ': only float32 and int64 .npy inputs');
  const shape = hdr.match(/'shape': \(([^)]*)\)/)[1].split(',').map(s => s.trim()).filter(s => s).map(Number);
  const raw = b.buffer.slice(b.byteOffset + 10 + hlen, b.byteOffset + b.length);
  if (i64) return new ort.Tensor('int64', new BigInt64Array(raw), shape);
  return new ort.Tensor('float32', new Float32Array(raw), shape);
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

module.exports = {readNpy, writeNpy};
