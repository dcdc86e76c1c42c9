/// <reference types="@webgpu/types" />
/**
 * The two layouts of the fused WGSL trainer behind one interface: `workgroup` (FusedMlpEnsemble,
 * one workgroup per run, the whole chunk in one dispatch: best for many runs) and `split`
 * (FusedMlpSplit, each step spread over many workgroups in two dispatches: for one or a few
 * runs on a GPU with many multiprocessors). Which is faster depends on the GPU, so `auto`
 * times both on the caller's own runs for a few chunks and keeps the faster.
 */
import type { DataSplit } from '../../data/dataset';
import type { MinibatchSampler } from '../../data/batches';
import type { MlpWeights } from '../mlp';
import type { OptimizerSettings, OptimizerState } from '../netTypes';
import { FusedMlpEnsemble, type FusedChunk, type FusedRunSpec } from './fusedMlp';
import { FusedMlpSplit } from './fusedMlpSplit';

export type FusedLayout = 'workgroup' | 'split';

/** What FusedMlpEnsemble and FusedMlpSplit both offer. */
export interface FusedTrainer {
  readonly runs: number;
  readonly hidden: number;
  readonly maxChunk: number;
  readonly samplers: MinibatchSampler[];
  /** The one optimizer every run of the kernel trains with. */
  readonly optimizer: OptimizerSettings;
  readonly error: string | null;
  runChunk(steps: number, wantSnapshots?: boolean): Promise<FusedChunk>;
  setLr(run: number, lr: number): void;
  readWeights(): Promise<MlpWeights[]>;
  /** Momentum's or Adam's state of every run after the queued chunks (null: SGD). */
  readOptimizerState(): Promise<OptimizerState[] | null>;
  dispose(): void;
}

export interface FusedTrainerOptions {
  maxChunk?: number;
  snapshots?: boolean;
  /** Threads per workgroup of the chosen layout (each has its own default). */
  workgroupSize?: number;
  /** The workgroup layout's pixel tiles (FusedOptions.tiled); the split layout has none. */
  tiled?: boolean;
}

export function createFusedTrainer(
  layout: FusedLayout,
  device: GPUDevice,
  train: DataSplit,
  specs: readonly FusedRunSpec[],
  opts: FusedTrainerOptions = {},
): Promise<FusedTrainer> {
  return layout === 'split'
    ? FusedMlpSplit.create(device, train, specs, opts)
    : FusedMlpEnsemble.create(device, train, specs, opts);
}

export interface LayoutChoice {
  layout: FusedLayout;
  /** Run-steps per second each layout reached on the timed chunks. */
  runStepsPerSec: Record<FusedLayout, number>;
}

/**
 * Times both layouts on copies of `specs` (the specs' weights are not changed and no sampler
 * of the caller's advances: the timed trainers are thrown away) for `chunks` chunks of `steps`
 * after one warm-up chunk (create has already compiled the shaders), and names the faster.
 * Costs 2·(chunks + 1)·steps steps of every run: a fraction of a second on a real GPU, but
 * seconds on a software adapter (~30 steps/s), where callers should name a layout instead.
 */
export async function chooseFusedLayout(
  device: GPUDevice,
  train: DataSplit,
  specs: readonly FusedRunSpec[],
  chunks = 3,
  steps = 32,
): Promise<LayoutChoice> {
  const runStepsPerSec: Record<FusedLayout, number> = { workgroup: 0, split: 0 };
  for (const layout of ['workgroup', 'split'] as const) {
    const t = await createFusedTrainer(layout, device, train, specs, { maxChunk: steps });
    try {
      await t.runChunk(steps);
      const t0 = performance.now();
      const pending: Promise<FusedChunk>[] = [];
      for (let c = 0; c < chunks; c++) pending.push(t.runChunk(steps));
      await Promise.all(pending);
      runStepsPerSec[layout] = (specs.length * chunks * steps) / ((performance.now() - t0) / 1000);
    } finally {
      t.dispose();
    }
  }
  return {
    layout: runStepsPerSec.split > runStepsPerSec.workgroup ? 'split' : 'workgroup',
    runStepsPerSec,
  };
}

/** Up to this many runs both layouts are timed; beyond, one workgroup per run fills the GPU. */
export const SPLIT_CANDIDATE_RUNS = 16;

/** The trainer for `specs` in the faster layout on this device (chooseFusedLayout for few runs). */
export async function createFastestFusedTrainer(
  device: GPUDevice,
  train: DataSplit,
  specs: readonly FusedRunSpec[],
  opts: FusedTrainerOptions = {},
): Promise<{ trainer: FusedTrainer; choice?: LayoutChoice }> {
  if (specs.length > SPLIT_CANDIDATE_RUNS)
    return { trainer: await createFusedTrainer('workgroup', device, train, specs, opts) };
  const choice = await chooseFusedLayout(device, train, specs);
  return {
    trainer: await createFusedTrainer(choice.layout, device, train, specs, opts),
    choice,
  };
}
