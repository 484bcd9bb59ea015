#!/usr/bin/env node
// The TFLite reference for tests/it/test_tflite_objectron.sh: TensorFlow
// Lite itself, compiled to WebAssembly, from npm @tensorflow/tfjs-tflite
// (installed into third_party/npm-tflite by scripts/fetch-npm.sh).
//
// tfjs-tflite's own loader only works in a browser (it adds a <script> tag or
// calls importScripts), so this loads the Emscripten module it ships
// (wasm/tflite_web_api_cc_simd.js + .wasm) directly and drives the same
// TFLiteWebModelRunner class its JS API wraps: CreateFromBufferAndOptions,
// GetInputs/GetOutputs (tensors with name, dataType, shape and a data() view
// of the interpreter's buffer), Infer.
//
//   node tflite_reference.js run MODEL.tflite OUTDIR IN.npy...   outputs as OUTDIR/<name>.npy
//   node tflite_reference.js compare REF.npy GOT.npy TOL          max |diff| <= TOL
//   node tflite_reference.js decode BOXES.npy SCORES.npy LABELS.txt [K]
//                                   SSD decoding (MediaPipe's objectron settings)
'use strict';
const fs = require('fs');
const path = require('path');

const root = path.resolve(__dirname, '../../..');
const wasmDir = path.join(root, 'third_party/npm-tflite/node_modules/@tensorflow/tfjs-tflite/wasm');

// ---- .npy (format 1.0/2.0, little-endian, C order) ----

const NPY_TYPES = {
    '<f4': Float32Array, '<i4': Int32Array, '|i1': Int8Array, '|u1': Uint8Array,
    '<i8': BigInt64Array, '<f8': Float64Array,
};

function readNpy(file) {
    const b = fs.readFileSync(file);
    if (b.toString('latin1', 0, 6) !== '\x93NUMPY') throw new Error(`${file}: not a .npy file`);
    const major = b[6];
    const hlen = major === 1 ? b.readUInt16LE(8) : b.readUInt32LE(8);
    const start = major === 1 ? 10 : 12;
    const header = b.toString('latin1', start, start + hlen);
    const descr = /'descr':\s*'([^']+)'/.exec(header)[1];
    if (/'fortran_order':\s*True/.test(header)) throw new Error(`${file}: Fortran order`);
    const shape = /'shape':\s*\(([^)]*)\)/.exec(header)[1].split(',').map(s => s.trim())
        .filter(s => s.length).map(Number);
    const T = NPY_TYPES[descr];
    if (!T) throw new Error(`${file}: dtype ${descr} not handled`);
    const off = start + hlen;
    const n = shape.reduce((a, c) => a * c, 1);
    const data = new T(b.buffer.slice(b.byteOffset + off, b.byteOffset + off + n * T.BYTES_PER_ELEMENT));
    return {descr, shape, data};
}

function writeNpy(file, descr, shape, data) {
    const shp = shape.length === 1 ? `(${shape[0]},)` : `(${shape.join(', ')})`;
    let header = `{'descr': '${descr}', 'fortran_order': False, 'shape': ${shp}, }`;
    const total = 10 + header.length + 1;
    header += ' '.repeat((64 - (total % 64)) % 64) + '\n';
    const h = Buffer.alloc(10);
    h.write('\x93NUMPY', 0, 'latin1');
    h[6] = 1;
    h[7] = 0;
    h.writeUInt16LE(header.length, 8);
    fs.writeFileSync(file, Buffer.concat([h, Buffer.from(header, 'latin1'),
        Buffer.from(data.buffer, data.byteOffset, data.byteLength)]));
}

const TFL_TO_NPY = {float32: '<f4', int32: '<i4', int8: '|i1', uint8: '|u1', int64: '<i8', float64: '<f8'};

// edgeai run writes OUTDIR/<output name>.npy with '/' and ':' replaced by '_'
const fileName = name => name.replace(/[/:]/g, '_');

// ---- TFLite ----

async function loadRunner(modelBytes, threads) {
    const src = fs.readFileSync(path.join(wasmDir, 'tflite_web_api_cc_simd.js'), 'utf8');
    // The script defines a global factory; evaluate it in a function scope.
    const factory = new Function(`${src}\nreturn tflite_web_api_ModuleFactory;`)();
    const M = await factory({
        wasmBinary: fs.readFileSync(path.join(wasmDir, 'tflite_web_api_cc_simd.wasm')),
        print: () => {},
        printErr: msg => { if (!/XNNPACK delegate/.test(msg)) console.error(msg); },
    });
    const p = M._malloc(modelBytes.length);
    M.HEAPU8.set(modelBytes, p);
    const r = M.TFLiteWebModelRunner.CreateFromBufferAndOptions(p, modelBytes.length,
        {numThreads: threads, enableProfiling: false, maxProfilingBufferEntries: 1024});
    if (!r.ok()) throw new Error(`TFLite refused the model: ${r.errorMessage()}`);
    return r.value();
}

function vec(v) {
    const out = [];
    for (let i = 0; i < v.size(); i++) out.push(v.get(i));
    return out;
}

async function run(model, outdir, inputs) {
    const runner = await loadRunner(fs.readFileSync(model), 1);
    const ins = vec(runner.GetInputs());
    if (ins.length !== inputs.length)
        throw new Error(`model has ${ins.length} inputs, ${inputs.length} given`);
    ins.forEach((t, i) => {
        const a = readNpy(inputs[i]);
        const want = t.shape.split(',').map(Number);
        if (a.shape.join(',') !== want.join(',') || TFL_TO_NPY[t.dataType] !== a.descr)
            throw new Error(`input ${t.name}: want ${t.dataType} [${want}], ${inputs[i]} is ${a.descr} [${a.shape}]`);
        t.data().set(a.data);
    });
    if (!runner.Infer()) throw new Error('TFLite Infer failed');
    fs.mkdirSync(outdir, {recursive: true});
    for (const t of vec(runner.GetOutputs())) {
        const descr = TFL_TO_NPY[t.dataType];
        if (!descr) throw new Error(`output ${t.name}: type ${t.dataType} not handled`);
        const shape = t.shape.split(',').map(Number);
        const file = path.join(outdir, fileName(t.name) + '.npy');
        writeNpy(file, descr, shape, t.data().slice());
        console.log(`tflite: ${t.name} ${t.dataType} [${shape}] -> ${file}`);
    }
}

// ---- comparison ----

function compare(refFile, gotFile, tol) {
    const a = readNpy(refFile), b = readNpy(gotFile);
    if (a.shape.join(',') !== b.shape.join(','))
        throw new Error(`shape [${a.shape}] vs [${b.shape}]`);
    let maxd = 0, maxr = 0, at = 0;
    for (let i = 0; i < a.data.length; i++) {
        const d = Math.abs(Number(a.data[i]) - Number(b.data[i]));
        if (!(d <= maxd)) { maxd = d; at = i; } // NaN counts as a difference
        maxr = Math.max(maxr, Math.abs(Number(a.data[i])));
    }
    const ok = maxd <= tol;
    console.log(`${path.basename(gotFile)}: max |diff| ${maxd.toExponential(3)} at ${at} ` +
        `(max |ref| ${maxr.toPrecision(4)}, tolerance ${tol}) ${ok ? 'ok' : 'TOO LARGE'}`);
    return ok;
}

// ---- SSD decoding: MediaPipe's SsdAnchorsCalculator and
// TfLiteTensorsToDetectionsCalculator with the options of
// mediapipe/modules/objectron/object_detection_oid_v4_cpu.pbtxt ----

const SSD = {
    numLayers: 6, minScale: 0.2, maxScale: 0.95, size: 300, offset: 0.5,
    strides: [16, 32, 64, 128, 256, 512], aspectRatios: [1.0, 2.0, 0.5, 3.0, 0.3333],
    scaleXY: 10.0, scaleWH: 5.0,
};

function ssdAnchors() {
    const scaleOf = i => SSD.minScale + (SSD.maxScale - SSD.minScale) * i / (SSD.strides.length - 1);
    const anchors = [];
    for (let layer = 0; layer < SSD.numLayers;) {
        const ars = [], scales = [];
        let last = layer;
        for (; last < SSD.strides.length && SSD.strides[last] === SSD.strides[layer]; last++) {
            const scale = scaleOf(last);
            if (last === 0) { // reduce_boxes_in_lowest_layer
                ars.push(1.0, 2.0, 0.5);
                scales.push(0.1, scale, scale);
            } else {
                for (const ar of SSD.aspectRatios) { ars.push(ar); scales.push(scale); }
                // interpolated_scale_aspect_ratio (default 1.0)
                const next = last === SSD.strides.length - 1 ? 1.0 : scaleOf(last + 1);
                ars.push(1.0);
                scales.push(Math.sqrt(scale * next));
            }
        }
        const fm = Math.ceil(SSD.size / SSD.strides[layer]);
        for (let y = 0; y < fm; y++)
            for (let x = 0; x < fm; x++)
                for (let k = 0; k < ars.length; k++)
                    anchors.push({
                        cx: (x + SSD.offset) / fm, cy: (y + SSD.offset) / fm,
                        w: scales[k] * Math.sqrt(ars[k]), h: scales[k] / Math.sqrt(ars[k]),
                    });
        layer = last;
    }
    return anchors;
}

function iou(a, b) {
    const ix = Math.max(0, Math.min(a.x1, b.x1) - Math.max(a.x0, b.x0));
    const iy = Math.max(0, Math.min(a.y1, b.y1) - Math.max(a.y0, b.y0));
    const inter = ix * iy;
    return inter / ((a.x1 - a.x0) * (a.y1 - a.y0) + (b.x1 - b.x0) * (b.y1 - b.y0) - inter);
}

function decode(boxFile, scoreFile, labelFile, k) {
    const boxes = readNpy(boxFile), scores = readNpy(scoreFile);
    const labels = fs.readFileSync(labelFile, 'utf8').split('\n').map(s => s.trim());
    const anchors = ssdAnchors();
    const n = boxes.shape[1], nc = scores.shape[2];
    if (anchors.length !== n) throw new Error(`${anchors.length} anchors for ${n} boxes`);
    const dets = [];
    for (let i = 0; i < n; i++) {
        let best = -1, bs = -Infinity;
        for (let c = 1; c < nc; c++) { // class 0 is the background ("???")
            const s = scores.data[i * nc + c];
            if (s > bs) { bs = s; best = c; }
        }
        const score = 1 / (1 + Math.exp(-bs));
        if (score < 0.3) continue;
        const a = anchors[i], r = boxes.data.subarray(4 * i, 4 * i + 4);
        const cy = r[0] / SSD.scaleXY * a.h + a.cy, cx = r[1] / SSD.scaleXY * a.w + a.cx;
        const h = Math.exp(r[2] / SSD.scaleWH) * a.h, w = Math.exp(r[3] / SSD.scaleWH) * a.w;
        dets.push({score, cls: best, x0: cx - w / 2, y0: cy - h / 2, x1: cx + w / 2, y1: cy + h / 2});
    }
    dets.sort((a, b) => b.score - a.score);
    const kept = [];
    for (const d of dets) {
        if (kept.length >= k) break;
        if (kept.every(e => e.cls !== d.cls || iou(d, e) < 0.4)) kept.push(d);
    }
    for (const d of kept)
        console.log(`detection: ${labels[d.cls]} ${d.score.toFixed(3)} box ` +
            `[${[d.x0, d.y0, d.x1, d.y1].map(v => v.toFixed(2)).join(', ')}]`);
}

(async () => {
    const [cmd, ...args] = process.argv.slice(2);
    if (cmd === 'run' && args.length >= 3) {
        await run(args[0], args[1], args.slice(2));
    } else if (cmd === 'compare' && args.length === 3) {
        process.exit(compare(args[0], args[1], Number(args[2])) ? 0 : 1);
    } else if (cmd === 'decode' && args.length >= 3) {
        decode(args[0], args[1], args[2], Number(args[3] || 5));
    } else {
        console.error('usage: tflite_reference.js run MODEL OUTDIR IN.npy... | compare REF GOT TOL | ' +
            'decode BOXES SCORES LABELS [K]');
        process.exit(2);
    }
})().catch(e => {
    console.error(`tflite_reference: ${e.message}`);
    process.exit(1);
});
