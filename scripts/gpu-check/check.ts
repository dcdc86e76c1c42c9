// GPU check, run on a machine with a real GPU (see scripts/gpu-check/prepare.sh): the webgpu
// backend through Dawn (the WebGPU implementation inside Chromium) — choice, same losses as cpu, speed.
// Built by prepare.sh only (it fetches the npm package `webgpu`), so it is outside tsc and eslint.
import './gpuGlobals';
import { readFileSync } from 'node:fs';
import type { StepImpl } from '../../src/engine/nets/netTypes';
// Everything else loads after the WebGPU globals exist (the webgpu backend registers itself
// only when navigator.gpu is there at import time).
const tf = await import('@tensorflow/tfjs');
const { selectBackend } = await import('../../src/engine/backend');
const { loadEmbeddedDataset } = await import('../../src/engine/data/embedded');
const { MinibatchSampler } = await import('../../src/engine/data/batches');
const { fillBatch } = await import('../../src/engine/experiments/training');
const { initMlp } = await import('../../src/engine/nets/mlp');
const { TfMlp, allocBatch } = await import('../../src/engine/nets/tfMlp');
const { probeStepsPerSecond } = await import('../../src/engine/experiments/training');
const { FullSetLoss } = await import('../../src/engine/landscape/fullSetLoss');

const data = loadEmbeddedDataset(readFileSync(process.argv[2] ?? 'mnist-10k.bin'));
const out: Record<string, unknown> = {};

async function losses(steps: number, impl?: StepImpl): Promise<number[]> {
  const net = new TfMlp(initMlp(50, 0), impl);
  const s = new MinibatchSampler(data.train.count, 50, 0);
  const b = allocBatch(50, 784);
  const idx = new Uint32Array(50);
  const ls: number[] = [];
  for (let i = 0; i < steps; i++) {
    s.nextInto(idx);
    fillBatch(data.train, idx, 50, b);
    ls.push((await net.step(b, 0.1)).loss);
  }
  net.dispose();
  return ls;
}

async function speed(impl: StepImpl, B: number, seconds: number): Promise<number> {
  const net = new TfMlp(initMlp(50, 0), impl);
  const s = new MinibatchSampler(data.train.count, B, 0);
  const b = allocBatch(B, 784);
  const idx = new Uint32Array(B);
  for (let i = 0; i < 20; i++) {
    s.nextInto(idx);
    fillBatch(data.train, idx, B, b);
    await net.step(b, 0.1);
  }
  let n = 0;
  const t0 = performance.now();
  while (performance.now() - t0 < seconds * 1000) {
    s.nextInto(idx);
    fillBatch(data.train, idx, B, b);
    await net.step(b, 0.1);
    n++;
  }
  net.dispose();
  return n / ((performance.now() - t0) / 1000);
}

const wasmPaths = new URL('./', import.meta.url).pathname;
const choice = await selectBackend({ wasmPaths, probe: () => probeStepsPerSecond() });
out.choice = choice;
console.log('auto choice with probe:', JSON.stringify(choice));
const forced = await selectBackend({ forced: 'webgpu', wasmPaths });
console.log('forced:', JSON.stringify(forced));
if (forced.name === 'webgpu') {
  const gpu = await losses(300);
  const speeds: Record<string, number> = {};
  for (const impl of ['transpose-flags', 'autodiff', 'explicit-transpose'] as StepImpl[])
    speeds[`B50 ${impl}`] = await speed(impl, 50, 3);
  speeds['B500 transpose-flags'] = await speed('transpose-flags', 500, 3);
  // Full-set loss on webgpu.
  const w = initMlp(50, 1);
  const fl = new FullSetLoss({
    images: data.train.images,
    labels: data.train.labels,
    w1: w.W1,
    w3: w.W3,
    hidden: 50,
  });
  const dir = new Float64Array(2500).fill(0.02);
  const pts = Array.from({ length: 100 }, (_, i) => ({ direction: dir, delta: (i - 50) * 0.01 }));
  await fl.evaluate(w.W2, pts);
  const t0 = performance.now();
  const gpuLoss = await fl.evaluate(w.W2, pts);
  const flTime = (performance.now() - t0) / 1000;
  fl.dispose();
  await tf.setBackend('cpu');
  const cpu = await losses(300);
  const fl2 = new FullSetLoss({
    images: data.train.images,
    labels: data.train.labels,
    w1: w.W1,
    w3: w.W3,
    hidden: 50,
  });
  const cpuLoss = await fl2.evaluate(w.W2, pts);
  let maxRel = 0;
  for (let i = 0; i < gpu.length; i++)
    maxRel = Math.max(maxRel, Math.abs(gpu[i] - cpu[i]) / cpu[i]);
  let flRel = 0;
  for (let i = 0; i < 100; i++)
    flRel = Math.max(flRel, Math.abs(gpuLoss[i] - cpuLoss[i]) / cpuLoss[i]);
  Object.assign(out, {
    speeds,
    maxRelLossDiff300Steps: maxRel,
    loss300: [gpu[299], cpu[299]],
    fullSetLoss100PointsSeconds: flTime,
    fullSetLossMaxRel: flRel,
  });
  console.log(JSON.stringify(out, null, 1));
}
