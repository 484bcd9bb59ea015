#!/usr/bin/env node
// ONNX Runtime (onnxruntime-node, CPU) latency of one model: the named peer that
// `edgeai bench` is compared against (bench/compare_ort.sh). Same options and
// JSON keys as the edgeai CLI so the two outputs line up.
//
//   node bench/ort/ort_bench.js MODEL.onnx [--threads N] [--runs N] [--warmup N] [--json]
//
// Inputs are random (uniform [-1, 1) floats from a fixed seed; integer and bool
// inputs are zeros, which are valid indices/flags); symbolic dimensions are bound
// to 1. Session: intraOpNumThreads=N, interOpNumThreads=1, graph optimisation
// 'all', sequential execution, CPU provider. Each run is timed around
// session.run() with process.hrtime; p99 is the nearest-rank percentile and ips
// is runs / total timed seconds. peak_rss_bytes is the process's maxRSS
// (process.resourceUsage(), KiB -> bytes): model, arena and Node.js together.
// onnxruntime-node comes from third_party/npm (scripts/fetch-npm.sh), or from
// ORT_NODE_MODULE=/path/to/onnxruntime-node.
'use strict';

const fs = require('fs');
const path = require('path');
const { createRequire } = require('module');

function usage(msg) {
  if (msg) process.stderr.write(`ort_bench: ${msg}\n`);
  process.stderr.write(
    'usage: node bench/ort/ort_bench.js MODEL.onnx [--threads N] [--runs N] [--warmup N] [--json]\n');
  process.exit(2);
}

function parseArgs(argv) {
  const o = { model: null, threads: 1, runs: 50, warmup: 5, json: false };
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
    else if (a === '--json') o.json = true;
    else if (a === '-h' || a === '--help') usage();
    else if (a.startsWith('-')) usage(`unknown option ${a}`);
    else if (o.model) usage(`one model only (got ${o.model} and ${a})`);
    else o.model = a;
  }
  if (!o.model) usage('no model given');
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

function randomFeeds(ort, session) {
  const next = rng(12345);
  const feeds = {};
  const shapes = {};
  for (const m of session.inputMetadata) {
    if (!m.isTensor) throw new Error(`input '${m.name}' is not a tensor`);
    const dims = m.shape.map((d) => (typeof d === 'number' && d > 0 ? d : 1));
    const n = dims.reduce((a, b) => a * b, 1);
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
  }
  return { feeds, shapes };
}

function percentile(sorted, p) {
  const k = Math.max(0, Math.ceil((p / 100) * sorted.length) - 1);
  return sorted[Math.min(k, sorted.length - 1)];
}

async function main() {
  const o = parseArgs(process.argv.slice(2));
  if (!fs.existsSync(o.model)) usage(`${o.model}: no such file`);
  const ort = loadOrt();
  const session = await ort.InferenceSession.create(o.model, {
    executionProviders: ['cpu'],
    intraOpNumThreads: o.threads,
    interOpNumThreads: 1,
    graphOptimizationLevel: 'all',
    executionMode: 'sequential',
  });
  const { feeds, shapes } = randomFeeds(ort, session);
  for (let i = 0; i < o.warmup; i++) await session.run(feeds);
  const ms = [];
  for (let i = 0; i < o.runs; i++) {
    const t0 = process.hrtime.bigint();
    await session.run(feeds);
    ms.push(Number(process.hrtime.bigint() - t0) / 1e6);
  }
  const total = ms.reduce((a, b) => a + b, 0);
  const sorted = [...ms].sort((a, b) => a - b);
  const r = {
    min_ms: sorted[0],
    p50_ms: percentile(sorted, 50),
    p99_ms: percentile(sorted, 99),
    ips: (o.runs * 1000) / total,
    peak_rss_bytes: process.resourceUsage().maxRSS * 1024,
    threads: o.threads,
    runs: o.runs,
    warmup: o.warmup,
    runtime: 'onnxruntime-node',
    version: ort.env.versions ? ort.env.versions.node : undefined,
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
    `${r.ips.toFixed(1)} inf/s  peak RSS ${(r.peak_rss_bytes / 1048576).toFixed(1)} MiB\n`);
}

main().catch((e) => {
  process.stderr.write(`ort_bench: ${e && e.message ? e.message : e}\n`);
  process.exit(1);
});
