/**
 * Training-step benchmark on the real digits (B = 50, 784-50-50-10 unless told otherwise):
 * SimdMlp (one WebAssembly SIMD module) against TfMlp 'explicit-transpose' on the tfjs wasm
 * backend and the plain Float32Array loop. The machine is shared and noisy, so the contenders
 * run interleaved, A/B/C/A/B/C…, in short slices, and each row is the total over its slices;
 * compare ratios within one run, not numbers across runs.
 *
 * Rows with "+ fillBatch" time the trainer's loop (MinibatchSampler.nextInto + fillBatch +
 * step, as in SgdTrainer.trainStep); "step only" rows cycle through one epoch of batches
 * filled beforehand (what a framework with the data already resident measures);
 * "stepIndices" is SimdMlp's own loop, sampler + a step that reads the pixel bytes.
 *
 *   npx tsx scripts/bench-step.ts [--seconds 3] [--rounds 6] [--hidden 50] [--batch 50]
 *   import { benchStep } from './bench-step'   // rows for a combined benchmark
 */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { selectBackend } from '../src/engine/backend';
import type { DataSplit } from '../src/engine/data/dataset';
import { MinibatchSampler } from '../src/engine/data/batches';
import { loadEmbeddedDataset } from '../src/engine/data/embedded';
import { fillBatch } from '../src/engine/experiments/training';
import { initMlp, PlainMlp } from '../src/engine/nets/mlp';
import { SimdMlp } from '../src/engine/nets/simdMlp';
import { TfMlp } from '../src/engine/nets/tfMlp';
import { allocBatch, type UploadBatch } from '../src/engine/nets/netTypes';

export interface StepRow {
  name: string;
  stepsPerSecond: number;
  /** Steps timed, over all slices. */
  steps: number;
  /** Median of the per-slice rates (steps/s): a check on the total when the machine is busy. */
  medianSliceRate: number;
}

export interface BenchStepOptions {
  /** Seconds of timing per contender, split over the rounds (default 3). */
  seconds?: number;
  /** Interleaved rounds (default 6). */
  rounds?: number;
  hidden?: number;
  batch?: number;
  lr?: number;
  /** The digits; loaded from public/data/mnist-10k.bin when absent. */
  train?: DataSplit;
  /** Where the tfjs wasm binaries are (Node: node_modules/@tensorflow/tfjs-backend-wasm/dist/). */
  wasmPaths?: string;
  /** Skip the tfjs contenders (e.g. where no tfjs backend is set up). */
  skipTf?: boolean;
}

interface Contender {
  name: string;
  /** Runs one step (including whatever batch preparation the row times). */
  run: () => Promise<void> | void;
  dispose?: () => void;
  steps: number;
  ms: number;
  rates: number[];
}

export async function benchStep(opts: BenchStepOptions = {}): Promise<StepRow[]> {
  const seconds = opts.seconds ?? 3;
  const rounds = opts.rounds ?? 6;
  const h = opts.hidden ?? 50;
  const B = opts.batch ?? 50;
  const lr = opts.lr ?? 0.1;
  const train = opts.train ?? loadEmbeddedDataset(readFileSync('public/data/mnist-10k.bin')).train;
  const P = train.images.length / train.count;

  /** The trainer's batch preparation: next indices, then fillBatch into `batch`. */
  const feeder = (seed: number) => {
    const sampler = new MinibatchSampler(train.count, B, seed);
    const idx = new Uint32Array(B);
    const batch = allocBatch(B, P);
    return (): UploadBatch => {
      sampler.nextInto(idx);
      fillBatch(train, idx, B, batch);
      return batch;
    };
  };
  /** One epoch of batches filled in advance. */
  const pool: UploadBatch[] = [];
  {
    const next = feeder(99);
    for (let i = 0; i < Math.floor(train.count / B); i++) {
      const b = allocBatch(B, P);
      const src = next();
      b.size = src.size;
      b.x.set(src.x);
      b.xT.set(src.xT);
      b.labels.set(src.labels);
      b.oneHot.set(src.oneHot);
      pool.push(b);
    }
  }
  let cursor = 0;
  const pooled = (): UploadBatch => pool[cursor++ % pool.length];

  const contenders: Contender[] = [];
  const add = (name: string, run: () => Promise<void> | void, dispose?: () => void) =>
    contenders.push({ name, run, dispose, steps: 0, ms: 0, rates: [] });

  if (SimdMlp.available()) {
    const a = new SimdMlp(initMlp(h, 0, P));
    const nextA = feeder(0);
    add(
      'SimdMlp (wasm-simd) + fillBatch',
      async () => void (await a.step(nextA(), lr)),
      () => a.dispose(),
    );
    const b = new SimdMlp(initMlp(h, 0, P));
    add(
      'SimdMlp (wasm-simd), step only',
      async () => void (await b.step(pooled(), lr)),
      () => b.dispose(),
    );
  }
  if (!opts.skipTf) {
    await selectBackend({
      forced: 'wasm',
      wasmPaths: opts.wasmPaths ?? resolve('node_modules/@tensorflow/tfjs-backend-wasm/dist') + '/',
    });
    const a = new TfMlp(initMlp(h, 0, P), 'explicit-transpose');
    const nextA = feeder(0);
    add(
      'TfMlp wasm explicit-transpose + fillBatch',
      async () => void (await a.step(nextA(), lr)),
      () => a.dispose(),
    );
    const b = new TfMlp(initMlp(h, 0, P), 'explicit-transpose');
    add(
      'TfMlp wasm explicit-transpose, step only',
      async () => void (await b.step(pooled(), lr)),
      () => b.dispose(),
    );
  }
  if (SimdMlp.available()) {
    // The trainer's loop without building the float batch: SimdMlp reads the pixel bytes.
    const c = new SimdMlp(initMlp(h, 0, P));
    const sampler = new MinibatchSampler(train.count, B, 0);
    const idx = new Uint32Array(B);
    add(
      'SimdMlp.stepIndices (sampler + step from pixel bytes)',
      async () => {
        sampler.nextInto(idx);
        await c.stepIndices(train, idx, B, lr);
      },
      () => c.dispose(),
    );
  }
  {
    const p = new PlainMlp(initMlp(h, 0, P));
    const next = feeder(0);
    add('PlainMlp (Float32Array loops) + fillBatch', () => {
      const batch = next();
      p.step(batch.x, batch.labels, B, lr);
    });
  }
  {
    const next = feeder(0);
    add('fillBatch alone (sampler + fill)', () => void next());
  }

  // Warm-up (JIT, wasm tier-up, tfjs kernels), then the interleaved slices.
  for (const c of contenders) {
    const t0 = performance.now();
    while (performance.now() - t0 < 300) await c.run();
  }
  const slice = (seconds * 1000) / rounds;
  for (let r = 0; r < rounds; r++) {
    for (const c of contenders) {
      let n = 0;
      const t0 = performance.now();
      let t = t0;
      while (t - t0 < slice) {
        await c.run();
        n++;
        if ((n & 7) === 0) t = performance.now();
      }
      t = performance.now();
      c.steps += n;
      c.ms += t - t0;
      c.rates.push(n / ((t - t0) / 1000));
    }
  }
  for (const c of contenders) c.dispose?.();
  return contenders.map((c) => {
    const sorted = [...c.rates].sort((x, y) => x - y);
    return {
      name: c.name,
      stepsPerSecond: c.steps / (c.ms / 1000),
      steps: c.steps,
      medianSliceRate: sorted[sorted.length >> 1],
    };
  });
}

function fmt(x: number): string {
  return x >= 100 ? x.toFixed(0) : x >= 1 ? x.toFixed(2) : x.toPrecision(3);
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const argv = process.argv.slice(2);
  const arg = (flag: string): number | undefined => {
    const i = argv.indexOf(flag);
    return i >= 0 ? Number(argv[i + 1]) : undefined;
  };
  const hidden = arg('--hidden') ?? 50;
  const batch = arg('--batch') ?? 50;
  const rows = await benchStep({
    seconds: arg('--seconds'),
    rounds: arg('--rounds'),
    hidden,
    batch,
  });
  const tf = rows.find((r) => r.name.startsWith('TfMlp') && r.name.endsWith('fillBatch'));
  const plain = rows.find((r) => r.name.startsWith('PlainMlp'));
  const header = ['implementation', 'steps/s', 'median slice', '× TfMlp', '× plain'];
  const cells = [
    header,
    ...rows.map((r) => [
      r.name,
      fmt(r.stepsPerSecond),
      fmt(r.medianSliceRate),
      tf ? fmt(r.stepsPerSecond / tf.stepsPerSecond) : '-',
      plain ? fmt(r.stepsPerSecond / plain.stepsPerSecond) : '-',
    ]),
  ];
  const widths = header.map((_, j) => Math.max(...cells.map((c) => c[j].length)));
  console.log(
    `\nTraining steps/s, 784-${hidden}-${hidden}-10, B = ${batch}, real digits (Node ${process.version}, interleaved)`,
  );
  for (const [i, c] of cells.entries()) {
    console.log(
      c.map((s, j) => (j === 0 ? s.padEnd(widths[j]) : s.padStart(widths[j]))).join('  '),
    );
    if (i === 0) console.log(widths.map((w) => '-'.repeat(w)).join('  '));
  }
  const fill = rows.find((r) => r.name.startsWith('fillBatch'));
  if (fill) console.log(`\nfillBatch alone costs ${fmt(1e6 / fill.stepsPerSecond)} µs a step.`);
}
