/**
 * The universality experiments (issue 7): one variance–flatness run reduced to its headline
 * numbers (ψ, γ, D_L, D_s), and sweeps of it over hidden widths, (B, α) grids and optimizers.
 * Pure engine code shared by the CLI and the trainer worker; each run is one warm-up and one
 * window (no Langevin contrast).
 *
 * Snapshot cap: the analysed block W2 has h² weights, so a window of m snapshots holds m·h²
 * floats. A window keeps at most MAX_SNAPSHOT_FLOATS of them (64 M floats = 256 MB): when
 * windowEpochs × steps-per-epoch snapshots would exceed that, only every k-th step is kept
 * (k = the smallest stride that fits; the PCA sees the coarser trajectory). Widths are capped
 * at MAX_SWEEP_WIDTH = 200 (the schema's maximum).
 */
import type { Dataset } from '../data/dataset';
import { initMlp, INPUT_SIZE, CLASSES } from '../nets/mlp';
import { SnapshotWindow } from '../pca/snapshotWindow';
import {
  effectiveDimensions,
  SHARP_C_CURVE,
  rankOrderedFlatness,
  sharpDimension,
  sharpThreshold,
  type EffectiveDimensions,
} from '../landscape/effectiveDimension';
import { WindowAnalysis, type AnalysisResult, type PowerFit } from './analysis';
import type { OptimizerKind, RunConfig } from './config';
import { trainingRun, type EpochRecord } from './training';

export const MAX_SNAPSHOT_FLOATS = 64 * 1024 * 1024;
export const MAX_SWEEP_WIDTH = 200;
/** Warm-up, window and flatness modes of a sweep run unless set (the 'quick' preset's). */
export const SWEEP_DEFAULTS: Pick<RunConfig, 'warmupEpochs' | 'windowEpochs' | 'flatnessModes'> = {
  warmupEpochs: 8,
  windowEpochs: 3,
  flatnessModes: 30,
};
/** The learning rate Adam runs at when none was chosen: α = 0.1 makes Adam diverge. */
export const ADAM_DEFAULT_LR = 0.001;

/** Weights of the 784-h-h-10 network (no biases). */
export function parameterCount(hidden: number, inputSize = INPUT_SIZE): number {
  return inputSize * hidden + hidden * hidden + hidden * CLASSES;
}

/** Keep every `stride`-th window step so that snapshots × dim ≤ MAX_SNAPSHOT_FLOATS. */
export function snapshotStride(expectedSnapshots: number, dim: number): number {
  const cap = Math.max(2, Math.floor(MAX_SNAPSHOT_FLOATS / dim));
  return Math.max(1, Math.ceil(expectedSnapshots / cap));
}

export interface RunSummary {
  hidden: number;
  batchSize: number;
  lr: number;
  optimizer: OptimizerKind;
  momentum: number;
  params: number;
  /** Dimension of the analysed block (h²). */
  dim: number;
  snapshots: number;
  stepEvery: number;
  psi: PowerFit;
  gamma: PowerFit;
  dims: EffectiveDimensions;
  /** D_s at F_c = c·‖ŵ‖/√dim for several c: how much D_s hangs on the constant. */
  dsCurve: { c: number; Ds: number }[];
  /** All PCA variances, rank order. */
  variance: number[];
  modes: { rank: number; variance: number; flatness: number }[];
  /** Interpolated flatness of ranks dims.ranks[0]…[1], ascending (the rank-ordered spectrum). */
  flatnessSpectrum: number[];
  finalTrainError: number;
  finalTestError: number;
  timings: { train: number; analysis: number; total: number };
}

export interface SweepProgress {
  /** Index of the run in the sweep and how many there are. */
  run: number;
  runs: number;
  phase: 'warmup' | 'window' | 'analysis';
  /** Epoch of the current run (training phases). */
  epoch: number;
}

export interface SweepOptions {
  signal?: AbortSignal;
  onProgress?: (p: SweepProgress) => void;
  log?: (s: string) => void;
  /** The sharpness constant c of F_c = c·‖ŵ‖/√dim. */
  sharpC?: number;
  /** Give the event loop a turn now and then (the worker's pause/cancel); default none. */
  yieldEvery?: () => Promise<void>;
}

/** One warm-up, one window, the variance–flatness analysis and the effective dimensions. */
export async function summariseRun(
  config: RunConfig,
  data: Dataset,
  opts: SweepOptions = {},
  index = 0,
  runs = 1,
): Promise<RunSummary> {
  const cfg: RunConfig = { ...config, contrast: false };
  const t0 = performance.now();
  const dim = cfg.hidden * cfg.hidden;
  let win: SnapshotWindow | null = null;
  let stride = 1;
  let first: number | null = null;
  let inWindow = 0;
  let last: EpochRecord | null = null;
  let phase: SweepProgress['phase'] = 'warmup';
  let analysis: AnalysisResult | null = null;
  let tTrain = 0;
  let steps = 0;
  for await (const e of trainingRun(cfg, data, { initial: initMlp(cfg.hidden, cfg.seed) })) {
    opts.signal?.throwIfAborted();
    if (e.type === 'epoch') {
      last = e.record;
      opts.onProgress?.({ run: index, runs, phase, epoch: e.record.epoch });
    } else if (e.type === 'windowStart') {
      phase = 'window';
      stride = snapshotStride(e.expectedSnapshots, dim);
      win = new SnapshotWindow(dim, {
        maxSnapshots: Math.max(16, Math.ceil(e.expectedSnapshots / stride) + 16),
      });
    } else if (e.type === 'step') {
      if (opts.yieldEvery && ++steps % 200 === 0) await opts.yieldEvery();
      if (!e.w2 || !win) continue;
      if (inWindow++ % stride !== 0) continue;
      if (first === null) first = e.step;
      win.add(e.w2);
    } else if (e.type === 'windowEnd' && e.run === 'sgd' && win) {
      tTrain = (performance.now() - t0) / 1000;
      phase = 'analysis';
      opts.onProgress?.({ run: index, runs, phase, epoch: last?.epoch ?? 0 });
      const a = await WindowAnalysis.analyze(
        'sgd',
        win,
        e.weights,
        data.train,
        cfg,
        first ?? 0,
        stride,
        {
          signal: opts.signal,
        },
      );
      analysis = a.result;
      a.dispose();
      break;
    } else if (e.type === 'diverged') {
      throw new Error(e.message);
    }
  }
  if (!analysis) throw new Error('the run produced no analysis');
  const r = analysis;
  const modes = r.modes.map((m) => ({ rank: m.rank, variance: m.variance, flatness: m.flatness }));
  const norm = r.meanNorm ?? NaN;
  const dims = effectiveDimensions(r.variance, modes, norm, r.dim, opts.sharpC);
  const total = (performance.now() - t0) / 1000;
  const summary: RunSummary = {
    hidden: cfg.hidden,
    batchSize: cfg.batchSize,
    lr: cfg.lr,
    optimizer: cfg.optimizer,
    momentum: cfg.momentum,
    params: parameterCount(cfg.hidden, data.train.images.length / data.train.count),
    dim: r.dim,
    snapshots: r.snapshots,
    stepEvery: stride,
    psi: r.fits.psi,
    gamma: r.fits.gamma,
    dims,
    dsCurve: SHARP_C_CURVE.map((c) => ({
      c,
      Ds: sharpDimension(modes, sharpThreshold(norm, r.dim, c)),
    })),
    variance: r.variance,
    modes,
    flatnessSpectrum: Array.from(rankOrderedFlatness(modes)),
    finalTrainError: last?.trainError ?? NaN,
    finalTestError: last?.testError ?? NaN,
    timings: { train: tTrain, analysis: total - tTrain, total },
  };
  opts.log?.(
    `h ${cfg.hidden}, B ${cfg.batchSize}, α ${cfg.lr}, ${cfg.optimizer}: ψ = ${r.fits.psi.exponent.toFixed(3)}, γ = ${r.fits.gamma.exponent.toFixed(3)}, D_L90 = ${dims.DL90}, D_L95 = ${dims.DL95}, D_s = ${dims.Ds} (F_c ${dims.threshold.toPrecision(3)}); ${r.snapshots} snapshots${stride > 1 ? ` (every ${stride}th step)` : ''}, ${total.toFixed(1)} s`,
  );
  return summary;
}

/** One run per hidden width (one warm-up each), everything else from `config`. */
export async function widthSweep(
  config: RunConfig,
  widths: readonly number[],
  data: Dataset,
  opts: SweepOptions = {},
): Promise<RunSummary[]> {
  for (const h of widths) {
    if (!Number.isInteger(h) || h < 2 || h > MAX_SWEEP_WIDTH)
      throw new Error(`width ${h} is outside 2…${MAX_SWEEP_WIDTH}`);
  }
  const out: RunSummary[] = [];
  for (let i = 0; i < widths.length; i++) {
    out.push(await summariseRun({ ...config, hidden: widths[i] }, data, opts, i, widths.length));
  }
  return out;
}

/** One run per (B, α) pair, B outer. */
export async function hyperSweep(
  config: RunConfig,
  batchSizes: readonly number[],
  lrs: readonly number[],
  data: Dataset,
  opts: SweepOptions = {},
): Promise<RunSummary[]> {
  const out: RunSummary[] = [];
  const runs = batchSizes.length * lrs.length;
  for (const B of batchSizes) {
    for (const lr of lrs) {
      out.push(await summariseRun({ ...config, batchSize: B, lr }, data, opts, out.length, runs));
    }
  }
  return out;
}

/** SGD, momentum and Adam one after another (Adam at its own α unless `adamLr` says else). */
export async function optimizerComparison(
  config: RunConfig,
  data: Dataset,
  opts: SweepOptions = {},
  kinds: readonly OptimizerKind[] = ['sgd', 'momentum', 'adam'],
  adamLr = ADAM_DEFAULT_LR,
): Promise<RunSummary[]> {
  const out: RunSummary[] = [];
  for (let i = 0; i < kinds.length; i++) {
    const lr = kinds[i] === 'adam' ? adamLr : config.lr;
    out.push(
      await summariseRun({ ...config, optimizer: kinds[i], lr }, data, opts, i, kinds.length),
    );
  }
  return out;
}
