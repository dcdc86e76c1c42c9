/// <reference types="@webgpu/types" />
/**
 * The measurement that chooses between the fused WebGPU trainer and the WebAssembly SIMD step
 * for the page's runs: the same network (784-50-50-10, B = 50) stepped the way each trains a
 * run — the fused one in chunks of 64 steps with the weights read back after each (as
 * FusedTrainer does), the SIMD one a step at a time — for a few hundred steps on synthetic
 * digits (sparse, like MNIST's; the pixel values do not change the work).
 */
import type { BackendChoice } from '../backend';
import type { DataSplit } from '../data/dataset';
import { MinibatchSampler } from '../data/batches';
import { initMlp, INPUT_SIZE } from '../nets/mlp';
import { SimdMlp } from '../nets/simdMlp';
import type { FusedRunSpec } from '../nets/webgpu/fusedRuntime';
import {
  createFusedTrainer,
  type FusedLayout,
  type FusedTrainer as FusedKernel,
} from '../nets/webgpu/fusedTrainer';

const PROBE_SAMPLES = 1000;
const CHUNK = 64;

/** `count` sparse synthetic 28×28 digits (about 1 pixel in 5 lit), labels 0–9 in turn. */
export function syntheticSplit(count = PROBE_SAMPLES): DataSplit {
  const images = new Uint8Array(count * INPUT_SIZE);
  for (let i = 0; i < images.length; i++)
    images[i] = (i * 2654435761) % 997 < 200 ? (i * 40503) % 256 : 0;
  const labels = new Uint8Array(count).map((_, i) => i % 10);
  return { images, labels, count };
}

/**
 * Steps per second of one fused run in `layout` (chunks of 64, weights read back after each).
 * Which layout is faster depends on the GPU: on an H200 the split layout ran one run at 42,504
 * steps/s and the one-workgroup layout at 1,938 (README).
 */
export async function fusedStepsPerSecond(
  device: GPUDevice,
  layout: FusedLayout = 'workgroup',
  steps = 256,
  hidden = 50,
  B = 50,
): Promise<number> {
  const train = syntheticSplit();
  const run = await createFusedTrainer(
    layout,
    device,
    train,
    [{ weights: initMlp(hidden, 1), lr: 0.01, batchSize: B, seed: 1 }],
    { maxChunk: CHUNK },
  );
  try {
    const chunk = () => Promise.all([run.runChunk(CHUNK), run.readWeights()]);
    await chunk(); // first dispatch: pipeline warm-up
    const n = Math.max(1, Math.round(steps / CHUNK));
    const t0 = performance.now();
    for (let i = 0; i < n; i++) await chunk();
    return (n * CHUNK) / ((performance.now() - t0) / 1000);
  } finally {
    run.dispose();
  }
}

/** How long, or how many chunks, `chunkStepsPerSecond` times (whichever ends first). */
export interface ChunkTiming {
  seconds: number;
  maxChunks?: number;
  /** Read the weights back with each chunk, as a run's trainer does (default: no). */
  readBack?: boolean;
}

/**
 * Steps per second of each run of `kernel` in chunks of `K` steps, two chunks in flight (the
 * submit and readback of one hide behind the other), after one chunk of warm-up. The bench's
 * ensemble speeds and the sweeps' ensemble probe both time it so.
 */
export async function chunkStepsPerSecond(
  kernel: FusedKernel,
  K: number,
  { seconds, maxChunks = Infinity, readBack = false }: ChunkTiming,
): Promise<number> {
  const chunk = () =>
    readBack ? Promise.all([kernel.runChunk(K), kernel.readWeights()]) : kernel.runChunk(K);
  await chunk();
  let steps = 0;
  let chunks = 1;
  const t0 = performance.now();
  let prev = chunk();
  while (performance.now() - t0 < seconds * 1000 && chunks < maxChunks) {
    const next = chunk();
    chunks++;
    await prev;
    steps += K;
    prev = next;
  }
  await prev;
  steps += K;
  return steps / ((performance.now() - t0) / 1000);
}

/**
 * Aggregate run-steps per second of an ensemble of `runs` runs (784-50-50-10, B = 50, synthetic
 * digits) on the kernel `build` makes — the one an ensemble job would train on — in chunks of
 * about 2,048 run-steps with the weights read back, as the ensemble job steps them.
 */
export async function ensembleRunStepsPerSecond(
  build: (train: DataSplit, specs: FusedRunSpec[], maxChunk: number) => Promise<FusedKernel>,
  runs: number,
  timing: ChunkTiming & { K?: number },
): Promise<number> {
  const specs = Array.from({ length: runs }, (_, r) => ({
    weights: initMlp(50, r + 1),
    lr: 0.01,
    batchSize: 50,
    seed: r + 1,
  }));
  const K = timing.K ?? Math.max(4, Math.min(64, Math.floor(2048 / runs)));
  const kernel = await build(syntheticSplit(), specs, K);
  try {
    return runs * (await chunkStepsPerSecond(kernel, K, { readBack: true, ...timing }));
  } finally {
    kernel.dispose();
  }
}

/** Steps per second of the WebAssembly SIMD step, or null where that kernel cannot run. */
export function simdStepsPerSecond(steps = 256, hidden = 50, B = 50): number | null {
  if (!SimdMlp.available(hidden)) return null;
  const train = syntheticSplit();
  const net = new SimdMlp(initMlp(hidden, 1));
  const sampler = new MinibatchSampler(train.count, B, 1);
  const idx = new Uint32Array(B);
  try {
    const step = () => {
      sampler.nextInto(idx);
      net.stepIndicesSync(train, idx, B, 0.01);
    };
    for (let i = 0; i < 16; i++) step();
    const t0 = performance.now();
    for (let i = 0; i < steps; i++) step();
    return steps / ((performance.now() - t0) / 1000);
  } finally {
    net.dispose();
  }
}

export interface FusedMeasure {
  /** The adapter's name. */
  adapter: string;
  /** The fused kernel's layout that was measured (the faster of the two). */
  layout?: FusedLayout;
  /** Steps per second of the fused trainer and of the CPU step it is weighed against. */
  fused: number;
  cpu: number;
  /** What the CPU step ran on ('wasm' for the SIMD kernel). */
  cpuName: string;
}

/**
 * The trainer's backend from the measurement: WebGPU (the fused trainer; tfjs stays on `base`
 * for what it does not train) when the fused step is faster, else `base` with the measurement
 * as the reason WebGPU was passed over. The badge shows the ratio either way.
 */
export function fusedChoice(base: BackendChoice, m: FusedMeasure): BackendChoice {
  const ratio = m.cpu > 0 ? m.fused / m.cpu : Infinity;
  const fusedProbe = { adapter: m.adapter, fused: m.fused, cpu: m.cpu, cpuName: m.cpuName };
  const rates = `${Math.round(m.fused).toLocaleString('en')} vs ${Math.round(m.cpu).toLocaleString('en')} steps/s`;
  if (ratio > 1)
    return {
      name: 'webgpu',
      reason: `WebGPU fused${m.layout ? ` (${m.layout} layout)` : ''} ${ratio.toFixed(1)}× ${m.cpuName} (${rates}, ${m.adapter}; runs it does not train use ${base.name})`,
      skipped: base.skipped,
      device: m.adapter,
      fusedProbe,
    };
  return {
    ...base,
    fusedProbe,
    reason: `${base.reason}; fused WebGPU step ${ratio.toFixed(1)}× ${m.cpuName} (${rates})`,
    skipped: [
      {
        name: 'webgpu',
        reason: `hardware GPU (${m.adapter}): the fused step measured ${ratio.toFixed(2)}× ${m.cpuName} (${rates})`,
      },
      ...base.skipped,
    ],
  };
}
