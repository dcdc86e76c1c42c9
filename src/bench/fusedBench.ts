/// <reference types="@webgpu/types" />
/**
 * The fused WGSL trainer's checks and speeds, shared by the browser benchmark worker and the
 * Node/Dawn GPU check (scripts/gpu-check/fused.ts): six steps against the float64 reference,
 * an ensemble of three (different seeds, α, B) against the same runs one at a time, then
 * steps/s of one run and run-steps/s of ensembles (two chunks in flight). Either layout of the
 * trainer (fusedTrainer.ts): `workgroup` (one workgroup per run) or `split` (a step over many).
 */
import type { DataSplit } from '../engine/data/dataset';
import { MinibatchSampler } from '../engine/data/batches';
import { initMlp, type MlpWeights } from '../engine/nets/mlp';
import { optimizerSettings, type OptimizerSettings } from '../engine/nets/netTypes';
import type { FusedRunSpec } from '../engine/nets/webgpu/fusedMlp';
import {
  createFusedTrainer,
  type FusedLayout,
  type FusedTrainer,
} from '../engine/nets/webgpu/fusedTrainer';
import { chunkStepsPerSecond } from '../engine/experiments/fusedProbe';
import {
  referenceSgdStep,
  referenceStep,
  relativeMaxError,
  toF64,
  zeroOptimizerState,
  type WeightsF64,
} from '../engine/nets/webgpu/reference';

export interface FusedCheck {
  /** Largest relative deviation from the float64 reference over six steps (losses, W1–W3). */
  reference: { lossRel: number; W1Rel: number; W2Rel: number; W3Rel: number };
  /** Largest deviation of an ensemble member from the same run alone (losses, W1, W2 series). */
  ensembleVsSingle: number;
  /**
   * Momentum and Adam: two runs (own B, α, μ, seed) for two steps, their weights and state read
   * back and handed to a new kernel (as a rebuilt or fallen-back run's are) for two more, against
   * the float64 steps: largest relative deviations, and whether Adam's step count came back.
   */
  optimizers: Record<'momentum' | 'adam', OptimizerCheck>;
}

export interface OptimizerCheck {
  lossRel: number;
  weightsRel: number;
  stateRel: number;
  stepCountOk: boolean;
}

export interface FusedSpeed {
  fused: { stepsPerSec: number };
  ensembles: { runs: number; runStepsPerSec: number }[];
}

const spec = (seed: number, lr = 0.1, B = 50): FusedRunSpec => ({
  weights: initMlp(50, seed),
  lr,
  batchSize: B,
  seed,
});

/** How a check or measurement builds its trainers. */
export interface FusedVariant {
  layout?: FusedLayout;
  workgroupSize?: number;
  /** The workgroup layout's pixel tiles (default on). */
  tiled?: boolean;
}

function make(
  device: GPUDevice,
  train: DataSplit,
  specs: readonly FusedRunSpec[],
  v: FusedVariant,
  maxChunk: number,
  snapshots = false,
): Promise<FusedTrainer> {
  const { layout = 'workgroup', workgroupSize, tiled } = v;
  return createFusedTrainer(layout, device, train, specs, {
    maxChunk,
    snapshots,
    workgroupSize,
    tiled,
  });
}

export async function checkFused(
  device: GPUDevice,
  train: DataSplit,
  v: FusedVariant = {},
): Promise<FusedCheck> {
  const s = spec(0);
  const ref = toF64(s.weights);
  const e = await make(device, train, [s], v, 3);
  const sampler = new MinibatchSampler(train.count, 50, 0);
  const idx = new Uint32Array(50);
  const refLoss: number[] = [];
  for (let i = 0; i < 6; i++) {
    sampler.nextInto(idx);
    refLoss.push(referenceSgdStep(ref, train, idx, 50, 0.1).loss);
  }
  const a = await e.runChunk(3);
  const b = await e.runChunk(3);
  const [w] = await e.readWeights();
  e.dispose();
  const reference = {
    lossRel: relativeMaxError([...a.loss, ...b.loss], refLoss),
    W1Rel: relativeMaxError(w.W1, ref.W1),
    W2Rel: relativeMaxError(w.W2, ref.W2),
    W3Rel: relativeMaxError(w.W3, ref.W3),
  };

  const specs = [spec(1, 0.1, 50), spec(2, 0.05, 25), spec(3, 0.2, 40)];
  const steps = 4;
  const ens = await make(device, train, specs, v, steps, true);
  const c = await ens.runChunk(steps, true);
  const ew = await ens.readWeights();
  ens.dispose();
  const hh = 50 * 50;
  let ensembleVsSingle = 0;
  for (let r = 0; r < specs.length; r++) {
    const one = await make(
      device,
      train,
      [{ ...specs[r], weights: initMlp(50, r + 1) }],
      v,
      steps,
      true,
    );
    const d = await one.runChunk(steps, true);
    const [w1] = await one.readWeights();
    one.dispose();
    ensembleVsSingle = Math.max(
      ensembleVsSingle,
      relativeMaxError(c.loss.subarray(r * steps, (r + 1) * steps), d.loss),
      relativeMaxError(ew[r].W1, w1.W1),
      relativeMaxError(c.w2!.subarray(r * steps * hh, (r + 1) * steps * hh), d.w2!),
    );
  }
  return {
    reference,
    ensembleVsSingle,
    optimizers: {
      momentum: await checkOptimizer(device, train, v, 'momentum'),
      adam: await checkOptimizer(device, train, v, 'adam'),
    },
  };
}

const flat = (w: MlpWeights | WeightsF64): number[] => [...w.W1, ...w.W2, ...w.W3];

async function checkOptimizer(
  device: GPUDevice,
  train: DataSplit,
  v: FusedVariant,
  kind: 'momentum' | 'adam',
): Promise<OptimizerCheck> {
  const runs: { o: OptimizerSettings; lr: number; B: number; seed: number }[] =
    kind === 'momentum'
      ? [
          { o: optimizerSettings(kind, 0.9), lr: 0.05, B: 20, seed: 1 },
          { o: optimizerSettings(kind, 0.5), lr: 0.1, B: 12, seed: 2 },
        ]
      : [
          { o: optimizerSettings(kind), lr: 0.001, B: 20, seed: 1 },
          { o: optimizerSettings(kind), lr: 0.003, B: 12, seed: 2 },
        ];
  const specs: FusedRunSpec[] = runs.map((r) => ({
    weights: initMlp(50, r.seed),
    lr: r.lr,
    batchSize: r.B,
    seed: r.seed,
    optimizer: r.o,
  }));
  // The float64 runs, four steps each on their own samplers.
  const refLoss: number[][] = [];
  const ref = runs.map((r, i) => {
    const w = toF64(specs[i].weights);
    const st = zeroOptimizerState(r.o, w);
    const sampler = new MinibatchSampler(train.count, r.B, r.seed);
    const idx = new Uint32Array(r.B);
    refLoss.push([]);
    for (let s = 0; s < 4; s++) {
      sampler.nextInto(idx);
      refLoss[i].push(referenceStep(w, train, idx, r.B, r.lr, r.o, st).loss);
    }
    return { w, st };
  });
  const first = await make(device, train, specs, v, 2);
  const a = await first.runChunk(2);
  const w = await first.readWeights();
  const st = await first.readOptimizerState();
  const samplers = first.samplers;
  first.dispose();
  const second = await make(
    device,
    train,
    specs.map((s, i) => ({ ...s, weights: w[i], state: st![i] })),
    v,
    2,
  );
  samplers.forEach((s, i) => (second.samplers[i] = s));
  const b = await second.runChunk(2);
  const w2 = await second.readWeights();
  const st2 = (await second.readOptimizerState())!;
  second.dispose();
  let lossRel = 0;
  let weightsRel = 0;
  let stateRel = 0;
  let stepCountOk = true;
  ref.forEach((r, i) => {
    const loss = [...a.loss.subarray(2 * i, 2 * i + 2), ...b.loss.subarray(2 * i, 2 * i + 2)];
    lossRel = Math.max(lossRel, relativeMaxError(loss, refLoss[i]));
    weightsRel = Math.max(weightsRel, relativeMaxError(flat(w2[i]), flat(r.w)));
    st2[i].moments.forEach((m, c) => {
      stateRel = Math.max(stateRel, relativeMaxError(flat(m), flat(r.st.moments[c])));
    });
    stepCountOk &&= st2[i].t === r.st.t && st2[i].moments.length === r.st.moments.length;
  });
  return { lossRel, weightsRel, stateRel, stepCountOk };
}

async function rate(
  device: GPUDevice,
  train: DataSplit,
  R: number,
  seconds: number,
  v: FusedVariant,
) {
  const specs = Array.from({ length: R }, (_, r) => spec(r));
  // About 2,048 run-steps per submission: long enough to hide the submit and readback, short
  // enough that a software adapter finishes a chunk in seconds.
  const K = Math.max(4, Math.min(64, Math.floor(2048 / R)));
  const e = await make(device, train, specs, v, K);
  try {
    return await chunkStepsPerSecond(e, K, { seconds });
  } finally {
    e.dispose();
  }
}

export async function benchFused(
  device: GPUDevice,
  train: DataSplit,
  seconds: number,
  runs: readonly number[] = [1, 8, 32, 128],
  v: FusedVariant = {},
): Promise<FusedSpeed> {
  const ensembles: FusedSpeed['ensembles'] = [];
  for (const R of runs)
    ensembles.push({
      runs: R,
      runStepsPerSec: R * (await rate(device, train, R, seconds, v)),
    });
  const one = ensembles.find((e) => e.runs === 1);
  return {
    fused: {
      stepsPerSec: one ? one.runStepsPerSec : await rate(device, train, 1, seconds, v),
    },
    ensembles,
  };
}
