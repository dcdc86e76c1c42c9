/// <reference types="@webgpu/types" />
/**
 * The task-2 ensemble kernel's check and speed (nets/webgpu/fusedW2Ensemble.ts), for the WebGPU
 * benchmark worker: on a seeded synthetic seed (h = 50, B = 50, ReLU-like H1 rows, orthonormal
 * modes) six runs — none, two EWC, LDC with N_c = 1, 5, M — for six steps against the float64
 * reference (w2EnsembleReference.ts), their error counts against the reference's, and the
 * ensemble against each run alone, and the same deviations at h = 200 with a batch of two
 * tiles; then run-steps/s of ensembles mixing the three penalties as a forgetting seed's sweep
 * does (N_c up to 300).
 */
import { MinibatchSampler } from '../engine/data/batches';
import { Rng } from '../engine/data/rng';
import { CLASSES } from '../engine/nets/mlp';
import { relativeMaxError } from '../engine/nets/webgpu/reference';
import { FusedW2Ensemble } from '../engine/nets/webgpu/fusedW2Ensemble';
import type { W2EnsembleShared, W2Prox } from '../engine/forgetting/w2EnsembleKernel';
import { W2EnsembleReference } from '../engine/forgetting/w2EnsembleReference';
import { orthonormalRows } from '../engine/pca/synthetic';

export interface W2Check {
  /** Largest relative deviation from float64 over six steps: losses, then every run's W2. */
  lossRel: number;
  w2Rel: number;
  /** Largest |GPU − reference| of an error count, before and after the six steps. */
  scoreDiff: number;
  /** Largest |ensemble − alone| over the runs' losses, W2 and error counts (0: bit for bit). */
  ensembleVsSingle: number;
  /** h = 200 and B = 300 (two tiles of the batch), two steps: the same deviations. */
  wide: { lossRel: number; w2Rel: number; scoreDiff: number };
}

export interface W2Bench {
  check: W2Check;
  /** A kernel whose device was destroyed: its `error` and its calls' rejections (w2LostDevice). */
  lost?: { error: string | null; rejections: (string | null)[] };
  /** Aggregate run-steps/s of the task-2 kernel, h = 50, B = 50. */
  speed?: { runs: number; runStepsPerSec: number }[];
}

const H = 50;
const B = 50;

/** A seeded synthetic seed: N training rows, two evaluation sets (classes 0–4 and 5–9). */
export function syntheticW2Shared(
  seed: number,
  N: number,
  M: number,
  h = H,
  batchSize = B,
): W2EnsembleShared {
  const rng = new Rng(seed);
  const relu = (n: number) => Float32Array.from({ length: n }, () => Math.max(0, rng.normal()));
  const normal = (n: number, sd: number) =>
    Float32Array.from({ length: n }, () => sd * rng.normal());
  const labels = (n: number) => Uint8Array.from({ length: n }, () => rng.int(CLASSES));
  const evalSet = (count: number, own: number[]) => ({
    h1: relu(count * h),
    labels: labels(count),
    count,
    own,
  });
  return {
    hidden: h,
    lr: 0.1,
    batchSize,
    trainH1: relu(N * h),
    trainLabels: labels(N),
    trainCount: N,
    W3: normal(h * CLASSES, 1 / Math.sqrt(h)),
    anchor: normal(h * h, 1 / Math.sqrt(h)),
    modes: Float32Array.from(orthonormalRows(rng, M, h * h)),
    modeCount: M,
    evalSets: [evalSet(150, [0, 1, 2, 3, 4]), evalSet(130, [5, 6, 7, 8, 9])],
  };
}

const ewc = (rng: Rng, top: number, h = H): W2Prox => ({
  kind: 'ewc',
  shrink: Float32Array.from({ length: h * h }, () => top * rng.next()),
});
const ldc = (rng: Rng, nc: number): W2Prox => ({
  kind: 'ldc',
  nc,
  shrink: Float32Array.from({ length: nc }, () => 0.05 + 0.9 * rng.next()),
});

/** Indices of `steps` shared minibatches, drawn as a seed's task-2 sampler draws them. */
function draw(sampler: MinibatchSampler, steps: number, batch = B): Uint32Array {
  const idx = new Uint32Array(steps * batch);
  const one = new Uint32Array(batch);
  for (let s = 0; s < steps; s++) {
    sampler.nextInto(one);
    idx.set(one, s * batch);
  }
  return idx;
}

const maxAbsDiff = (a: ArrayLike<number>, b: ArrayLike<number>) => {
  let d = a.length === b.length ? 0 : Infinity;
  for (let i = 0; i < a.length; i++) d = Math.max(d, Math.abs(a[i] - b[i]));
  return d;
};

export async function checkW2Kernel(device: GPUDevice): Promise<W2Check> {
  const M = 20;
  const shared = syntheticW2Shared(7, 400, M);
  const rng = new Rng(11);
  const runs: W2Prox[] = [
    { kind: 'none' },
    ewc(rng, 0.05),
    ewc(rng, 0.5),
    ldc(rng, 1),
    ldc(rng, 5),
    ldc(rng, M),
  ];
  const R = runs.length;
  const sampler = new MinibatchSampler(shared.trainCount, B, 3);
  const chunks = [draw(sampler, 3), draw(sampler, 3)];
  const ref = new W2EnsembleReference(shared, runs, 3);
  const gpu = await FusedW2Ensemble.create(device, shared, runs, 3);
  let lossRel = 0;
  let scoreDiff: number;
  let ensemble: { loss: Float32Array[]; w2: Float32Array; counts: Uint32Array[] };
  try {
    const counts = [await gpu.score()];
    scoreDiff = maxAbsDiff(counts[0], await ref.score());
    const loss: Float32Array[] = [];
    for (const idx of chunks) {
      const l = await gpu.runChunk(idx, 3);
      loss.push(l);
      lossRel = Math.max(lossRel, relativeMaxError(l, await ref.runChunk(idx, 3)));
    }
    counts.push(await gpu.score());
    scoreDiff = Math.max(scoreDiff, maxAbsDiff(counts[1], await ref.score()));
    ensemble = { loss, w2: await gpu.readW2(), counts };
  } finally {
    gpu.dispose();
  }
  const w2Rel = relativeMaxError(ensemble.w2, ref.w2);

  const hh = H * H;
  const sets = shared.evalSets.length * 2;
  let ensembleVsSingle = 0;
  for (let r = 0; r < R; r++) {
    const one = await FusedW2Ensemble.create(device, shared, [runs[r]], 3);
    try {
      const before = await one.score();
      const d: number[] = [
        maxAbsDiff(before, ensemble.counts[0].subarray(r * sets, (r + 1) * sets)),
      ];
      for (let c = 0; c < chunks.length; c++) {
        const l = await one.runChunk(chunks[c], 3);
        d.push(maxAbsDiff(l, ensemble.loss[c].subarray(r * 3, (r + 1) * 3)));
      }
      d.push(maxAbsDiff(await one.readW2(), ensemble.w2.subarray(r * hh, (r + 1) * hh)));
      const after = await one.score();
      d.push(maxAbsDiff(after, ensemble.counts[1].subarray(r * sets, (r + 1) * sets)));
      ensembleVsSingle = Math.max(ensembleVsSingle, ...d);
    } finally {
      one.dispose();
    }
  }
  return { lossRel, w2Rel, scoreDiff, ensembleVsSingle, wide: await checkW2Wide(device) };
}

/**
 * The widest net the job schema allows (h = 200) and a batch of two tiles (B = 300 > BATCH_TILE,
 * W2's gradient accumulated over them): none, EWC and LDC (N_c = 3) for two steps against the
 * float64 reference.
 */
export async function checkW2Wide(device: GPUDevice): Promise<W2Check['wide']> {
  const h = 200;
  const batch = 300;
  const shared = syntheticW2Shared(9, 600, 3, h, batch);
  const rng = new Rng(12);
  const runs: W2Prox[] = [{ kind: 'none' }, ewc(rng, 0.5, h), ldc(rng, 3)];
  const idx = draw(new MinibatchSampler(shared.trainCount, batch, 4), 2, batch);
  const ref = new W2EnsembleReference(shared, runs, 2);
  const gpu = await FusedW2Ensemble.create(device, shared, runs, 2);
  try {
    const lossRel = relativeMaxError(await gpu.runChunk(idx, 2), await ref.runChunk(idx, 2));
    return {
      lossRel,
      w2Rel: relativeMaxError(await gpu.readW2(), ref.w2),
      scoreDiff: maxAbsDiff(await gpu.score(), await ref.score()),
    };
  } finally {
    gpu.dispose();
  }
}

/**
 * Destroys `device` (as a lost GPU would end it) under a built kernel and returns what each of
 * its calls said then: the kernel's `error`, and the rejections of runChunk, score and readW2
 * (null where one resolved). dispose must not throw on the lost device. Call it last.
 */
export async function w2LostDevice(device: GPUDevice): Promise<{
  error: string | null;
  rejections: (string | null)[];
}> {
  const shared = syntheticW2Shared(10, 100, 1);
  const k = await FusedW2Ensemble.create(device, shared, [{ kind: 'none' }], 2);
  device.destroy();
  await device.lost;
  const said = (p: Promise<unknown>) =>
    p.then(
      () => null,
      (e: unknown) => (e instanceof Error ? `${e.name}: ${e.message}` : String(e)),
    );
  const idx = draw(new MinibatchSampler(shared.trainCount, B, 1), 1);
  const rejections = [
    await said(k.runChunk(idx, 1)),
    await said(k.score()),
    await said(k.readW2()),
  ];
  k.dispose();
  return { error: k.error, rejections };
}

/**
 * A seed's sweep in miniature: the unpenalised run, then EWC and LDC alternating (EWC at
 * strengths spread over two decades, LDC at N_c spread log-evenly over 1…300).
 */
export function mixedW2Runs(R: number, rng: Rng): W2Prox[] {
  const runs: W2Prox[] = [{ kind: 'none' }];
  const ewcs = Math.floor((R - 1) / 2);
  const ldcs = R - 1 - ewcs;
  for (let i = 0; i < ldcs; i++) {
    if (i < ewcs) runs.push(ewc(rng, 0.005 * 100 ** (i / Math.max(1, ewcs - 1))));
    runs.push(ldc(rng, Math.round(300 ** (i / Math.max(1, ldcs - 1)))));
  }
  return runs.slice(0, R);
}

/** Run-steps/s of ensembles of `sizes` runs, two chunks in flight, after one of warm-up. */
export async function benchW2Ensemble(
  device: GPUDevice,
  seconds: number,
  sizes: readonly number[] = [1, 16, 99],
): Promise<{ runs: number; runStepsPerSec: number }[]> {
  const shared = syntheticW2Shared(8, 2000, 300);
  const out: { runs: number; runStepsPerSec: number }[] = [];
  for (const R of sizes) {
    const K = Math.max(2, Math.min(32, Math.floor(256 / R)));
    const kernel = await FusedW2Ensemble.create(device, shared, mixedW2Runs(R, new Rng(R)), K);
    const sampler = new MinibatchSampler(shared.trainCount, B, 5);
    const chunk = () => kernel.runChunk(draw(sampler, K), K);
    try {
      await chunk();
      let steps = 0;
      const t0 = performance.now();
      let prev = chunk();
      while (performance.now() - t0 < seconds * 1000) {
        const next = chunk();
        await prev;
        steps += K;
        prev = next;
      }
      await prev;
      steps += K;
      out.push({ runs: R, runStepsPerSec: (R * steps) / ((performance.now() - t0) / 1000) });
    } finally {
      kernel.dispose();
    }
  }
  return out;
}
