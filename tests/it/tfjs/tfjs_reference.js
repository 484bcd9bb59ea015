#!/usr/bin/env node
// TF.js side of tests/it/test_tfjs_detectors.sh: runs TF.js graph models on
// TF.js's pure-JS CPU backend (@tensorflow/tfjs-core + tfjs-converter +
// tfjs-backend-cpu from third_party/npm), compares .npy outputs, writes the
// small preprocessing models the test uses and decodes detections.
//
//   node tfjs_reference.js run MODEL.json INPUT.npy OUTDIR   -> OUTDIR/<output>.npy
//   node tfjs_reference.js compare DIR_A DIR_B TOL           exit 1 if max|a-b|/max|b| > TOL
//   node tfjs_reference.js make-pre OUT.json H W OH OW SCALE NCHW
//   node tfjs_reference.js decode nanodet|centernet DIR LABELS.ts [K]
//
// Output files are named as `edgeai run -o` names them: '/', '\' and ':' -> '_'.
'use strict';
const fs = require('fs');
const path = require('path');

const npmRoot = process.env.EAI_NPM_DIR ||
    path.resolve(__dirname, '..', '..', '..', 'third_party', 'npm', 'node_modules');

function die(msg) {
  console.error(`tfjs_reference: ${msg}`);
  process.exit(2);
}

function loadTf() {
  const req = (name) => {
    try {
      return require(path.join(npmRoot, name));
    } catch (e) {
      die(`cannot load ${name} from ${npmRoot} (run scripts/fetch-npm.sh): ${e.message}`);
    }
  };
  const tf = req('@tensorflow/tfjs-core');
  req('@tensorflow/tfjs-backend-cpu');
  const conv = req('@tensorflow/tfjs-converter');
  return {tf, conv};
}

// ---- .npy (v1/v2, little-endian, C order) ----
const NPY_TYPES = {'<f4': Float32Array, '<i4': Int32Array, '|u1': Uint8Array, '|b1': Uint8Array,
                   '<i8': BigInt64Array, '<f8': Float64Array};

function readNpy(file) {
  const buf = fs.readFileSync(file);
  if (buf.toString('latin1', 1, 6) !== 'NUMPY') die(`${file}: not an .npy file`);
  const major = buf[6];
  const hlen = major === 1 ? buf.readUInt16LE(8) : buf.readUInt32LE(8);
  const hstart = major === 1 ? 10 : 12;
  const header = buf.toString('latin1', hstart, hstart + hlen);
  const descr = /'descr':\s*'([^']+)'/.exec(header)[1];
  if (/'fortran_order':\s*True/.test(header)) die(`${file}: fortran order`);
  const shape = /'shape':\s*\(([^)]*)\)/.exec(header)[1].split(',').map((s) => s.trim())
      .filter((s) => s.length).map(Number);
  const Type = NPY_TYPES[descr];
  if (!Type) die(`${file}: dtype ${descr} not handled`);
  const off = hstart + hlen;
  const bytes = buf.subarray(off);
  const copy = new Uint8Array(bytes.length);
  copy.set(bytes);
  let data = new Type(copy.buffer, 0, bytes.length / Type.BYTES_PER_ELEMENT);
  if (Type === BigInt64Array) data = Int32Array.from(data, (v) => Number(v));
  if (Type === Float64Array) data = Float32Array.from(data);
  return {descr, shape, data};
}

function writeNpy(file, shape, data) {
  const descr = data instanceof Float32Array ? '<f4' : data instanceof Int32Array ? '<i4' : '|u1';
  let header = `{'descr': '${descr}', 'fortran_order': False, 'shape': (${shape.join(', ')}${
      shape.length === 1 ? ',' : ''}), }`;
  const pad = 64 - ((10 + header.length + 1) % 64);
  header += ' '.repeat(pad % 64) + '\n';
  const head = Buffer.alloc(10);
  head.write('\x93NUMPY', 0, 'latin1');
  head[6] = 1;
  head[7] = 0;
  head.writeUInt16LE(header.length, 8);
  fs.writeFileSync(file, Buffer.concat([head, Buffer.from(header, 'latin1'),
                                         Buffer.from(data.buffer, data.byteOffset, data.byteLength)]));
}

const safeName = (name) => name.replace(/[/\\:]/g, '_');

// ---- run: the model through TF.js's CPU backend ----
function artifactsFor(jsonPath) {
  const model = JSON.parse(fs.readFileSync(jsonPath, 'utf8'));
  const dir = path.dirname(jsonPath);
  const specs = [];
  const bufs = [];
  for (const group of model.weightsManifest || []) {
    for (const p of group.paths) bufs.push(fs.readFileSync(path.join(dir, p)));
    specs.push(...group.weights);
  }
  const all = Buffer.concat(bufs);
  return {
    modelTopology: model.modelTopology,
    weightSpecs: specs,
    weightData: all.buffer.slice(all.byteOffset, all.byteOffset + all.byteLength),
    format: model.format,
    generatedBy: model.generatedBy,
    convertedBy: model.convertedBy,
    signature: model.signature,
    userDefinedMetadata: model.userDefinedMetadata,
  };
}

async function run(jsonPath, inputNpy, outDir) {
  const {tf, conv} = loadTf();
  await tf.setBackend('cpu');
  await tf.ready();
  // the CPU backend's first write prints a banner recommending tfjs-node
  const warn = console.warn;
  console.warn = () => {};
  const model = await conv.loadGraphModel({load: async () => artifactsFor(jsonPath)});
  console.warn = warn;
  const x = readNpy(inputNpy);
  const input = tf.tensor(x.data, x.shape, x.descr === '<i4' ? 'int32' : 'float32');
  // output node names as edgeai names them: the signature's, without ":0"
  const json = JSON.parse(fs.readFileSync(jsonPath, 'utf8'));
  const sigOut = json.signature && json.signature.outputs ?
      Object.values(json.signature.outputs).map((o) => o.name) : model.outputNodes;
  const names = sigOut.map((n) => n.replace(/:0$/, ''));
  const outs = model.execute(input, names);
  fs.mkdirSync(outDir, {recursive: true});
  const list = Array.isArray(outs) ? outs : [outs];
  for (let i = 0; i < list.length; i++) {
    const t = list[i];
    let data = t.dataSync();
    if (t.dtype === 'bool') data = Uint8Array.from(data);
    const file = path.join(outDir, `${safeName(names[i])}.npy`);
    writeNpy(file, t.shape, data);
    console.log(`tfjs: wrote ${file} (${t.dtype} [${t.shape.join(', ')}])`);
  }
}

// ---- compare: max |a - b| / max |b| per output file of B ----
function compare(dirA, dirB, tol) {
  let bad = 0;
  const files = fs.readdirSync(dirB).filter((f) => f.endsWith('.npy')).sort();
  if (!files.length) die(`${dirB}: no .npy files`);
  for (const f of files) {
    const fa = path.join(dirA, f);
    if (!fs.existsSync(fa)) {
      console.log(`compare: ${f}: missing in ${dirA}`);
      bad++;
      continue;
    }
    const a = readNpy(fa);
    const b = readNpy(path.join(dirB, f));
    if (a.shape.join(',') !== b.shape.join(',')) {
      console.log(`compare: ${f}: shape [${a.shape}] vs [${b.shape}]`);
      bad++;
      continue;
    }
    let maxDiff = 0;
    let maxRef = 0;
    let at = 0;
    for (let i = 0; i < b.data.length; i++) {
      const d = Math.abs(a.data[i] - b.data[i]);
      if (!(d <= maxDiff)) {
        maxDiff = d;
        at = i;
      }
      maxRef = Math.max(maxRef, Math.abs(b.data[i]));
    }
    const rel = maxRef > 0 ? maxDiff / maxRef : maxDiff;
    const ok = rel <= tol;
    console.log(`compare: ${f} [${b.shape}]: max abs diff ${maxDiff.toExponential(3)} at ${at} ` +
                `(edgeai ${a.data[at]}, tfjs ${b.data[at]}), max |ref| ${maxRef.toPrecision(5)}, ` +
                `relative ${rel.toExponential(3)} ${ok ? '<=' : '>'} ${tol} ${ok ? 'ok' : 'FAIL'}`);
    if (!ok) bad++;
  }
  process.exit(bad ? 1 : 0);
}

// ---- make-pre: image [1,H,W,3] in [0,1] -> resized (TF.js's default,
// half_pixel_centers false as @vladmandic/human resizes), scaled, NCHW or NHWC.
// Outputs "pixels" (the input, to check) and "input" (what the detector takes).
function makePre(outJson, h, w, oh, ow, scale, nchw) {
  const base = path.basename(outJson, '.json');
  const node = (name, op, input, attr) => ({name, op, input, attr: attr || {}});
  const dt = (t) => ({type: t});
  const nodes = [
    node('image', 'Placeholder', [], {dtype: dt('DT_FLOAT'), shape: {shape: {dim: [
      {size: '1'}, {size: String(h)}, {size: String(w)}, {size: '3'}]}}}),
    node('size', 'Const', [], {dtype: dt('DT_INT32')}),
    node('scale', 'Const', [], {dtype: dt('DT_FLOAT')}),
    node('perm', 'Const', [], {dtype: dt('DT_INT32')}),
    node('resized', 'ResizeBilinear', ['image', 'size'], {T: dt('DT_FLOAT'),
      align_corners: {b: false}, half_pixel_centers: {b: false}}),
    node('scaled', 'Mul', ['resized', 'scale'], {T: dt('DT_FLOAT')}),
    node('input', nchw ? 'Transpose' : 'Identity', nchw ? ['scaled', 'perm'] : ['scaled'],
         {T: dt('DT_FLOAT')}),
    node('pixels', 'Identity', ['image'], {T: dt('DT_FLOAT')}),
  ];
  const weights = Buffer.alloc(4 * 2 + 4 + 4 * 4);
  weights.writeInt32LE(oh, 0);
  weights.writeInt32LE(ow, 4);
  weights.writeFloatLE(scale, 8);
  [0, 3, 1, 2].forEach((v, i) => weights.writeInt32LE(v, 12 + 4 * i));
  const json = {
    format: 'graph-model', generatedBy: 'edgeai tests', convertedBy: 'tfjs_reference.js',
    modelTopology: {node: nodes, versions: {producer: 1}},
    signature: {inputs: {'image:0': {name: 'image:0'}},
                outputs: {'input:0': {name: 'input:0'}, 'pixels:0': {name: 'pixels:0'}}},
    weightsManifest: [{paths: [`${base}.bin`], weights: [
      {name: 'size', shape: [2], dtype: 'int32'},
      {name: 'scale', shape: [], dtype: 'float32'},
      {name: 'perm', shape: [4], dtype: 'int32'},
    ]}],
  };
  fs.writeFileSync(outJson, JSON.stringify(json, null, 1));
  fs.writeFileSync(path.join(path.dirname(outJson), `${base}.bin`), weights);
}

// ---- decode ----
function labels(tsFile) {
  const src = fs.readFileSync(tsFile, 'utf8');
  const out = [];
  for (const m of src.matchAll(/\{\s*class:\s*(\d+),\s*label:\s*'([^']+)'\s*\}/g))
    out[Number(m[1]) - 1] = m[2];
  if (out.length !== 80) die(`${tsFile}: expected 80 COCO labels, found ${out.length}`);
  return out;
}

function iou(a, b) {
  const ix = Math.max(0, Math.min(a[2], b[2]) - Math.max(a[0], b[0]));
  const iy = Math.max(0, Math.min(a[3], b[3]) - Math.max(a[1], b[1]));
  const inter = ix * iy;
  const area = (r) => Math.max(0, r[2] - r[0]) * Math.max(0, r[3] - r[1]);
  return inter / (area(a) + area(b) - inter + 1e-9);
}

// Greedy per-class NMS, best first.
function nms(dets, thr) {
  dets.sort((p, q) => q.score - p.score);
  const keep = [];
  for (const d of dets)
    if (!keep.some((k) => k.cls === d.cls && iou(k.box, d.box) > thr)) keep.push(d);
  return keep;
}

// NanoDet (GFL head): per stride, sigmoid class scores [N, 80] and 4 x 11
// distance-bin logits [N, 44]; distance = softmax expectation x stride.
function decodeNanodet(dir) {
  const size = 416;
  const dets = [];
  const files = fs.readdirSync(dir).filter((f) => f.endsWith('.npy')).map((f) => readNpy(path.join(dir, f)));
  for (const stride of [8, 16, 32]) {
    const g = size / stride;
    const cls = files.find((t) => t.shape[1] === g * g && t.shape[2] === 80);
    const reg = files.find((t) => t.shape[1] === g * g && t.shape[2] === 44);
    if (!cls || !reg) die(`nanodet: no outputs for stride ${stride}`);
    for (let i = 0; i < g * g; i++) {
      let best = 0;
      for (let c = 1; c < 80; c++) if (cls.data[i * 80 + c] > cls.data[i * 80 + best]) best = c;
      const score = cls.data[i * 80 + best];
      if (score < 0.3) continue;
      const dist = [0, 0, 0, 0];
      for (let side = 0; side < 4; side++) {
        const o = i * 44 + side * 11;
        let m = -Infinity;
        for (let k = 0; k < 11; k++) m = Math.max(m, reg.data[o + k]);
        let sum = 0;
        let ex = 0;
        for (let k = 0; k < 11; k++) {
          const e = Math.exp(reg.data[o + k] - m);
          sum += e;
          ex += e * k;
        }
        dist[side] = (ex / sum) * stride;
      }
      const cx = (i % g) * stride;
      const cy = Math.floor(i / g) * stride;
      dets.push({cls: best, score, box: [cx - dist[0], cy - dist[1], cx + dist[2], cy + dist[3]]});
    }
  }
  return nms(dets, 0.5);
}

// CenterNet: the model's own "detections" output, [1, 100, 6] =
// x1, y1, x2, y2 (512x512 input pixels), score, class.
function decodeCenternet(dir) {
  const t = readNpy(path.join(dir, 'tower_0_detections.npy'));
  const dets = [];
  for (let i = 0; i < t.shape[1]; i++) {
    const r = t.data.subarray(i * 6, i * 6 + 6);
    if (r[4] >= 0.2) dets.push({cls: Math.round(r[5]), score: r[4], box: [r[0], r[1], r[2], r[3]]});
  }
  return nms(dets, 0.5);
}

function decode(kind, dir, labelsTs, k) {
  const names = labels(labelsTs);
  const dets = kind === 'nanodet' ? decodeNanodet(dir) : decodeCenternet(dir);
  const top = dets.slice(0, k);
  for (const d of top)
    console.log(`detect: ${kind}: ${names[d.cls]} (class ${d.cls}) score ${d.score.toFixed(3)} ` +
                `box [${d.box.map((v) => v.toFixed(1)).join(', ')}]`);
  const want = ['bicycle', 'truck', 'dog'];
  const missing = want.filter((w) => !top.some((d) => names[d.cls] === w));
  if (missing.length) {
    console.log(`detect: ${kind}: FAIL: not among the top ${k}: ${missing.join(', ')}`);
    process.exit(1);
  }
  console.log(`detect: ${kind}: ok: ${want.join(', ')} among the top ${k}`);
}

(async () => {
  const [cmd, ...a] = process.argv.slice(2);
  if (cmd === 'run' && a.length === 3) await run(a[0], a[1], a[2]);
  else if (cmd === 'compare' && a.length === 3) compare(a[0], a[1], Number(a[2]));
  else if (cmd === 'make-pre' && a.length === 7)
    makePre(a[0], +a[1], +a[2], +a[3], +a[4], +a[5], a[6] === '1');
  else if (cmd === 'decode' && (a.length === 3 || a.length === 4))
    decode(a[0], a[1], a[2], a.length === 4 ? Number(a[3]) : 5);
  else die('usage: run MODEL INPUT.npy OUTDIR | compare A B TOL | make-pre OUT H W OH OW SCALE NCHW | decode KIND DIR LABELS [K]');
})().catch((e) => die(e.stack || String(e)));
