#!/usr/bin/env node
// ONNX Runtime (onnxruntime-node, CPU) latency of one model: the named peer that
// `edgeai bench` is compared against (bench/compare_ort.sh, bench/issue3.py).
// Same options and JSON keys as the edgeai CLI so the two outputs line up.
//
//   node bench/ort/ort_bench.js MODEL.onnx [--threads N] [--runs N] [--warmup N]
//                               [-i [NAME=]FILE.npy ...] [--cold] [--json]
//   node bench/ort/ort_bench.js --baseline [--json]      (empty Node.js process)
//   node bench/ort/ort_bench.js --baseline-lib [--json]  (Node.js + onnxruntime-node loaded)
//
// Inputs are the given .npy files (matched by NAME, else in order; C order,
// little-endian), else random (uniform [-1, 1) floats from a fixed seed;
// integer and bool inputs are zeros, which are valid indices/flags); symbolic
// dimensions are bound to 1 (or to the .npy's). Session: intraOpNumThreads=N,
// interOpNumThreads=1, graph optimisation 'all', sequential execution, CPU
// provider. Each run is timed around session.run() with process.hrtime; p99 is
// the nearest-rank percentile and ips is runs / total timed seconds.
// peak_rss_bytes is the process's maxRSS (process.resourceUsage(), KiB ->
// bytes): model, arena and Node.js together.
//
// Start-up split (every mode): require_ms (loading onnxruntime-node), create_ms
// (InferenceSession.create), first_run_ms, session_first_ms (create + first
// run: ORT's own cold cost), script_ms (script start to first result), and
// first_result_monotonic_ns: process.hrtime.bigint() at the first result, which
// is CLOCK_MONOTONIC on Linux, so a parent that noted the clock before the
// spawn gets spawn-to-first-result including Node.js's own start-up. --cold is
// --runs 1 --warmup 0. --baseline prints the same stamp and maxRSS for a
// process that loads nothing (Node.js's own cost).
// onnxruntime-node comes from third_party/npm (scripts/fetch-npm.sh), or from
// ORT_NODE_MODULE=/path/to/onnxruntime-node.
'use strict';

const T_SCRIPT = process.hrtime.bigint();
const fs = require('fs');
const path = require('path');
const { createRequire } = require('module');

function usage(msg) {
  if (msg) process.stderr.write(`ort_bench: ${msg}\n`);
  process.stderr.write(
    'usage: node bench/ort/ort_bench.js MODEL.onnx [--threads N] [--runs N] [--warmup N]\n' +
    '                                   [-i [NAME=]FILE.npy ...] [--cold] [--json]\n' +
    '       node bench/ort/ort_bench.js --baseline | --baseline-lib [--json]\n');
  process.exit(msg ? 2 : 0);
}

function parseArgs(argv) {
  const o = { model: null, threads: 1, runs: 50, warmup: 5, json: false, inputs: [], baseline: null };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const num = (name, min) => {
      const v = argv[++i];
      if (v === undefined || !/^\d+$/.test(v) || Number(v) < min)
        usage(`${name} needs an integer >= ${min}, got ${v === undefined ? 'nothing' : `'${v}'`}`);
      return Number(v);
    };
    if (a === '--threads') o.threads = num(a, 1);
    else if (a === '--runs') o.runs = num(a, 1);
    else if (a === '--warmup') o.warmup = num(a, 0);
    else if (a === '--cold') { o.runs = 1; o.warmup = 0; }
    else if (a === '--json') o.json = true;
    else if (a === '--baseline') o.baseline = 'node';
    else if (a === '--baseline-lib') o.baseline = 'lib';
    else if (a === '-i' || a === '--input') {
      const v = argv[++i];
      if (v === undefined) usage(`${a} needs [NAME=]FILE.npy`);
      const eq = v.indexOf('=');
      o.inputs.push(eq > 0 ? { name: v.slice(0, eq), file: v.slice(eq + 1) } : { name: null, file: v });
    } else if (a === '-h' || a === '--help') usage();
    else if (a.startsWith('-')) usage(`unknown option ${a}`);
    else if (o.model) usage(`one model only (got ${o.model} and ${a})`);
    else o.model = a;
  }
  if (!o.model && !o.baseline) usage('no model given');
  return o;
}

function loadOrt() {
  if (process.env.ORT_NODE_MODULE) return require(path.resolve(process.env.ORT_NODE_MODULE));
  const root = path.resolve(__dirname, '..', '..');
  const req = createRequire(path.join(root, 'third_party', 'npm', 'package.json'));
  try {
    return req('onnxruntime-node');
  } catch (e) {
    process.stderr.write(`ort_bench: cannot load onnxruntime-node from ${root}/third_party/npm ` +
      `(run scripts/fetch-npm.sh): ${e.message}\n`);
    process.exit(1);
  }
}

// mulberry32: a small seeded PRNG so every run feeds the same input.
function rng(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const ARRAYS = {
  float32: Float32Array, float64: Float64Array, float16: Uint16Array,
  int8: Int8Array, uint8: Uint8Array, int16: Int16Array, uint16: Uint16Array,
  int32: Int32Array, uint32: Uint32Array, int64: BigInt64Array, uint64: BigUint64Array,
  bool: Uint8Array,
};
// .npy descr (little-endian or byte-sized) -> ORT tensor type
const NPY_TYPES = {
  '<f4': 'float32', '<f8': 'float64', '<f2': 'float16', '|i1': 'int8', '|u1': 'uint8',
  '<i2': 'int16', '<u2': 'uint16', '<i4': 'int32', '<u4': 'uint32', '<i8': 'int64',
  '<u8': 'uint64', '|b1': 'bool',
};

// Reads a .npy file (versions 1-3, C order, little-endian): { type, dims, data }.
function readNpy(file) {
  const buf = fs.readFileSync(file);
  if (buf.length < 10 || buf.toString('latin1', 0, 6) !== '\x93NUMPY')
    throw new Error(`${file}: not a .npy file`);
  const major = buf[6];
  const hlen = major === 1 ? buf.readUInt16LE(8) : buf.readUInt32LE(8);
  const hoff = major === 1 ? 10 : 12;
  const header = buf.toString('latin1', hoff, hoff + hlen);
  const descr = /'descr':\s*'([^']+)'/.exec(header);
  const shape = /'shape':\s*\(([^)]*)\)/.exec(header);
  if (!descr || !shape) throw new Error(`${file}: bad .npy header ${header.trim()}`);
  if (/'fortran_order':\s*True/.test(header)) throw new Error(`${file}: Fortran order`);
  const type = NPY_TYPES[descr[1].replace(/^=/, '<')];
  if (!type) throw new Error(`${file}: dtype ${descr[1]} not supported`);
  const dims = shape[1].split(',').map((s) => s.trim()).filter(Boolean).map(Number);
  const n = dims.reduce((a, b) => a * b, 1);
  const Arr = ARRAYS[type];
  const bytes = n * Arr.BYTES_PER_ELEMENT;
  const off = hoff + hlen;
  if (buf.length < off + bytes) throw new Error(`${file}: truncated (${buf.length - off} of ${bytes} data bytes)`);
  const data = new Arr(n); // aligned copy: the file's data offset need not be
  new Uint8Array(data.buffer).set(buf.subarray(off, off + bytes));
  return { type, dims, data };
}

function makeFeeds(ort, session, given) {
  const next = rng(12345);
  const feeds = {};
  const shapes = {};
  const meta = session.inputMetadata;
  const byIdx = new Map();
  let pos = 0;
  for (const g of given) {
    const idx = g.name === null ? pos++ : meta.findIndex((m) => m.name === g.name);
    if (idx < 0 || idx >= meta.length)
      throw new Error(`${g.file}: the model has no input ${g.name === null ? `number ${idx}` : `named '${g.name}'`}`);
    byIdx.set(idx, readNpy(g.file));
  }
  meta.forEach((m, idx) => {
    if (!m.isTensor) throw new Error(`input '${m.name}' is not a tensor`);
    const a = byIdx.get(idx);
    if (a) {
      const want = m.shape;
      const ok = a.type === m.type && a.dims.length === want.length &&
        want.every((d, k) => typeof d !== 'number' || d <= 0 || d === a.dims[k]);
      if (!ok)
        throw new Error(`input '${m.name}' takes ${m.type} [${want}], the .npy is ${a.type} [${a.dims}]`);
      feeds[m.name] = new ort.Tensor(a.type, a.data, a.dims);
      shapes[m.name] = a.dims;
      return;
    }
    const dims = m.shape.map((d) => (typeof d === 'number' && d > 0 ? d : 1));
    const n = dims.reduce((x, y) => x * y, 1);
    const Arr = ARRAYS[m.type];
    if (!Arr) throw new Error(`input '${m.name}' has type ${m.type}, which ort_bench cannot fill`);
    const data = new Arr(n);
    if (m.type === 'float32' || m.type === 'float64') {
      for (let i = 0; i < n; i++) data[i] = next() * 2 - 1;
    } else if (m.type === 'float16') {
      // halves in [-1, 1): sign, exponent 0b01110 (0.5..1), random mantissa
      for (let i = 0; i < n; i++)
        data[i] = (next() < 0.5 ? 0x8000 : 0) | 0x3800 | Math.floor(next() * 1024);
    }
    feeds[m.name] = new ort.Tensor(m.type, data, dims);
    shapes[m.name] = dims;
  });
  return { feeds, shapes };
}

function percentile(sorted, p) {
  const k = Math.max(0, Math.ceil((p / 100) * sorted.length) - 1);
  return sorted[Math.min(k, sorted.length - 1)];
}

const msSince = (t) => Number(process.hrtime.bigint() - t) / 1e6;

function baseline(o) {
  const t0 = process.hrtime.bigint();
  let version;
  if (o.baseline === 'lib') {
    const ort = loadOrt();
    version = ort.env.versions ? ort.env.versions.node : undefined;
  }
  const r = {
    runtime: o.baseline === 'lib' ? 'node+onnxruntime-node' : 'node',
    require_ms: o.baseline === 'lib' ? msSince(t0) : 0,
    first_result_monotonic_ns: process.hrtime.bigint().toString(),
    script_start_monotonic_ns: T_SCRIPT.toString(),
    peak_rss_bytes: process.resourceUsage().maxRSS * 1024,
    node_version: process.versions.node,
    version,
  };
  if (o.json) process.stdout.write(`${JSON.stringify(r)}\n`);
  else process.stdout.write(`${r.runtime}: peak RSS ${(r.peak_rss_bytes / 1048576).toFixed(1)} MiB\n`);
}

async function main() {
  const o = parseArgs(process.argv.slice(2));
  if (o.baseline) return baseline(o);
  if (!fs.existsSync(o.model)) usage(`${o.model}: no such file`);
  const tReq = process.hrtime.bigint();
  const ort = loadOrt();
  const requireMs = msSince(tReq);
  const tCreate = process.hrtime.bigint();
  const session = await ort.InferenceSession.create(o.model, {
    executionProviders: ['cpu'],
    intraOpNumThreads: o.threads,
    interOpNumThreads: 1,
    graphOptimizationLevel: 'all',
    executionMode: 'sequential',
  });
  const createMs = msSince(tCreate);
  const { feeds, shapes } = makeFeeds(ort, session, o.inputs);
  const ms = [];
  let firstRunMs = 0, firstNs = 0n;
  for (let i = 0; i < o.warmup + o.runs; i++) {
    const t0 = process.hrtime.bigint();
    await session.run(feeds);
    const t1 = process.hrtime.bigint();
    if (i === 0) {
      firstNs = t1;
      firstRunMs = Number(t1 - t0) / 1e6;
    }
    if (i >= o.warmup) ms.push(Number(t1 - t0) / 1e6);
  }
  const total = ms.reduce((a, b) => a + b, 0);
  const sorted = [...ms].sort((a, b) => a - b);
  const r = {
    min_ms: sorted[0],
    p50_ms: percentile(sorted, 50),
    p99_ms: percentile(sorted, 99),
    mean_ms: total / o.runs,
    ips: (o.runs * 1000) / total,
    require_ms: requireMs,
    create_ms: createMs,
    first_run_ms: firstRunMs,
    session_first_ms: Number(firstNs - tCreate) / 1e6,
    script_ms: Number(firstNs - T_SCRIPT) / 1e6,
    first_result_monotonic_ns: firstNs.toString(),
    peak_rss_bytes: process.resourceUsage().maxRSS * 1024,
    threads: o.threads,
    runs: o.runs,
    warmup: o.warmup,
    input: o.inputs.length ? 'npy' : 'random',
    runtime: 'onnxruntime-node',
    version: ort.env.versions ? ort.env.versions.node : undefined,
    node_version: process.versions.node,
    inputs: shapes,
  };
  await session.release();
  if (o.json) {
    process.stdout.write(`${JSON.stringify(r)}\n`);
    return;
  }
  const f = (x) => x.toFixed(3);
  process.stdout.write(
    `${path.basename(o.model)}: onnxruntime-node ${r.version}, ${o.threads} thread(s), ` +
    `${o.runs} runs after ${o.warmup} warm-up\n` +
    `  min ${f(r.min_ms)} ms  p50 ${f(r.p50_ms)} ms  p99 ${f(r.p99_ms)} ms  ` +
    `${r.ips.toFixed(1)} inf/s  peak RSS ${(r.peak_rss_bytes / 1048576).toFixed(1)} MiB\n` +
    `  start-up: require ${r.require_ms.toFixed(1)} ms, create ${r.create_ms.toFixed(1)} ms, ` +
    `first run ${r.first_run_ms.toFixed(1)} ms (script start to first result ${r.script_ms.toFixed(1)} ms)\n`);
}

main().catch((e) => {
  process.stderr.write(`ort_bench: ${e && e.message ? e.message : e}\n`);
  process.exit(1);
});
