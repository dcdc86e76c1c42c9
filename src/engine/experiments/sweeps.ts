/**
 * The universality experiments (issue 7): one variance–flatness run reduced to its headline
 * numbers (ψ, γ, D_L, D_s), and sweeps of it over hidden widths, (B, α) grids and optimizers.
 * Pure engine code shared by the CLI and the trainer worker; each run is one warm-up and one
 * window (no Langevin contrast).
 *
 * Snapshot cap: the analysed block W2 has h² weights, so a window of m snapshots holds m·h²
 * floats. Each run is planned by the one memory budget (runChecks.ts): trainingRun refuses a
 * run that cannot fit before its first step, and keeps only every k-th window step when that
 * makes it fit (the PCA sees the coarser trajectory). Widths are capped at MAX_SWEEP_WIDTH = 200
 * (the schema's maximum).
 *
 * The deeper architectures (architectures.ts) sweep the same way: archWidthSweep (the hidden
 * width h of the 4-hidden-layer MLP), archHyperSweep and archOptimizerComparison (MLP4 or CNN),
 * each run an architectureRun reduced by archRunSummary to the same RunSummary. Their analysed
 * block is capped at maxBlockDim weights by a seeded subset, and every window step is kept.
 */
import type { Dataset } from '../data/dataset';
import { initMlp, INPUT_SIZE, CLASSES, type MlpWeights } from '../nets/mlp';
import { SnapshotWindow } from '../pca/snapshotWindow';
import {
  effectiveDimensions,
  SHARP_C_CURVE,
  rankOrderedFlatness,
  sharpDimension,
  sharpThreshold,
  sharpCounts,
  SHARP_THRESHOLD_C,
  type EffectiveDimensions,
  type SharpCount,
} from '../landscape/effectiveDimension';
import { WindowAnalysis, type AnalysisResult, type PowerFit } from './analysis';
import {
  architectureRun,
  collapseWarning,
  type Arch,
  type ArchConfig,
  type ArchProgress,
  type ArchResult,
} from './architectures';
import { momentumLr, type OptimizerKind, type RunConfig } from './config';
import { trainingRun, type EpochRecord, type TrainingOptions } from './training';
import { runJob } from '../jobs/run';
import type { ArchJobSpec, RunJobSpec } from '../jobs/spec';

export const MAX_SWEEP_WIDTH = 200;
/** The learning rate Adam runs at when none was chosen: α = 0.1 makes Adam diverge. */
export const ADAM_DEFAULT_LR = 0.001;

/** Weights of the 784-h-h-10 network (no biases). */
export function parameterCount(hidden: number, inputSize = INPUT_SIZE): number {
  return inputSize * hidden + hidden * hidden + hidden * CLASSES;
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
  /** D_s under each threshold scale (per-weight, whole norm, fixed) at its default c. */
  dsByScale: SharpCount[];
  /** All PCA variances, rank order. */
  variance: number[];
  modes: { rank: number; variance: number; flatness: number }[];
  /** Interpolated flatness of ranks dims.ranks[0]…[1], ascending (the rank-ordered spectrum). */
  flatnessSpectrum: number[];
  finalTrainError: number;
  finalTestError: number;
  timings: { train: number; analysis: number; total: number };
  /**
   * Runs of the deeper architectures only: which network (its total weight count is `params`;
   * `hidden` is h of mlp4, the dense width of the CNN) and the analysed block (`dim` of its
   * `fullDim` weights, a seeded subset when `sampled`).
   */
  arch?: Arch;
  block?: { name: string; fullDim: number; dim: number; sampled: boolean };
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
  /**
   * Runs a sweep's jobs and returns their summaries in order (a worker pool, a queue); default
   * one after another here. Whichever runs them, each job is runJob on its spec.
   */
  runner?: SweepRunner;
  /**
   * Given the whole result of an architecture run before it is reduced to its summary (the
   * page's pool draws the architecture overlay from it).
   */
  onArchResult?: (r: ArchResult) => void;
}

/** A sweep's jobs: one run per point, of the 784-h-h-10 network or of a deeper architecture. */
export type SweepJobSpec = RunJobSpec | ArchJobSpec;
export type SweepRunner = (specs: readonly SweepJobSpec[]) => Promise<RunSummary[]>;

/** What a run's training leaves for its analysis: the PCA window and where it stands. */
export interface TrainedWindow {
  win: SnapshotWindow;
  /** Step of the first snapshot, and the spacing of the kept steps. */
  first: number;
  stride: number;
  /** The weights at the window's end. */
  weights: MlpWeights;
  /** The last epoch's full-set record. */
  last: EpochRecord | null;
  /** Seconds the training took. */
  trainSeconds: number;
}

/**
 * Where one run can be continued from (trainingRun's `resume` with its `initial` weights): an
 * epoch-end checkpoint in the warm-up or at the epoch its window starts, with the full-set
 * training errors of epochs 1..epoch. A run continued from one gives the numbers of the run
 * trained through (the sampler seeks to the epoch; the detector replays the errors).
 */
export interface RunResumePoint {
  epoch: number;
  step: number;
  weights: MlpWeights;
  trainErrors: number[];
}

/** A single run's options: a sweep's, and where it continues from and who hears its checkpoints. */
export interface RunOptions extends SweepOptions {
  /** Continue from this checkpoint (a run of a GPU ensemble that stopped, handed to a CPU). */
  resume?: RunResumePoint;
  /** Told each checkpoint the run could continue from, as it passes (none inside the window). */
  onResumePoint?: (p: RunResumePoint) => void;
}

/**
 * One warm-up and one window of `config` (no Langevin contrast), W2 kept through the window.
 * `trainer`: another trainer around the CPU one (trainingRun's option), e.g. a run of a fused
 * WebGPU ensemble.
 */
export async function trainWindow(
  config: RunConfig,
  data: Dataset,
  opts: RunOptions = {},
  index = 0,
  runs = 1,
  trainer?: TrainingOptions['trainer'],
): Promise<TrainedWindow> {
  const cfg: RunConfig = { ...config, contrast: false };
  const t0 = performance.now();
  const dim = cfg.hidden * cfg.hidden;
  let win: SnapshotWindow | null = null;
  let stride = 1;
  let first: number | null = null;
  let last: EpochRecord | null = null;
  let phase: SweepProgress['phase'] = 'warmup';
  let steps = 0;
  const resume = opts.resume;
  if (resume && resume.weights.hidden !== cfg.hidden)
    throw new Error(
      `the checkpoint to continue from has h = ${resume.weights.hidden}, the run h = ${cfg.hidden}`,
    );
  // Momentum's and Adam's running averages are not in a checkpoint: such a run continued from
  // one would not be the same run, so it offers none (it starts again instead).
  const resumable = (cfg.optimizer ?? 'sgd') === 'sgd';
  // Training errors of epochs 1, 2, …: a resume point replays them into the detector.
  const trainErrors: number[] = resume ? [...resume.trainErrors] : [];
  for await (const e of trainingRun(cfg, data, {
    initial: resume ? resume.weights : initMlp(cfg.hidden, cfg.seed),
    trainer,
    resume: resume && {
      epoch: resume.epoch,
      step: resume.step,
      trainErrors: resume.trainErrors,
    },
  })) {
    opts.signal?.throwIfAborted();
    if (e.type === 'epoch') {
      last = e.record;
      if (e.record.epoch >= 1) trainErrors[e.record.epoch - 1] = e.record.trainError;
      opts.onProgress?.({ run: index, runs, phase, epoch: e.record.epoch });
    } else if (e.type === 'checkpoint') {
      // The checkpoint of the epoch the window starts at comes before its windowStart; later
      // ones lie inside the window, which cannot be continued half-way.
      if (opts.onResumePoint && resumable && phase === 'warmup' && e.epoch >= 1)
        opts.onResumePoint({
          epoch: e.epoch,
          step: e.step,
          weights: e.weights,
          trainErrors: trainErrors.slice(0, e.epoch),
        });
    } else if (e.type === 'windowStart') {
      phase = 'window';
      stride = e.every;
      win = new SnapshotWindow(dim, { maxSnapshots: Math.max(16, e.expectedSnapshots + 16) });
    } else if (e.type === 'step') {
      if (opts.yieldEvery && ++steps % 200 === 0) await opts.yieldEvery();
      if (!e.w2 || !win) continue;
      if (first === null) first = e.step;
      win.add(e.w2);
    } else if (e.type === 'windowEnd' && e.run === 'sgd' && win) {
      const trainSeconds = (performance.now() - t0) / 1000;
      return { win, first: first ?? 0, stride, weights: e.weights, last, trainSeconds };
    } else if (e.type === 'diverged') {
      throw new Error(e.message);
    }
  }
  throw new Error('the run produced no analysis');
}

/** One warm-up, one window, the variance–flatness analysis and the effective dimensions. */
export async function summariseRun(
  config: RunConfig,
  data: Dataset,
  opts: RunOptions = {},
  index = 0,
  runs = 1,
): Promise<RunSummary> {
  const trained = await trainWindow(config, data, opts, index, runs);
  return summariseWindow(config, data, trained, opts, index, runs);
}

/** A trained window's analysis (PCA, flatness, fits) reduced to the run's summary. */
export async function summariseWindow(
  config: RunConfig,
  data: Dataset,
  trained: TrainedWindow,
  opts: SweepOptions = {},
  index = 0,
  runs = 1,
): Promise<RunSummary> {
  const cfg: RunConfig = { ...config, contrast: false };
  const t0 = performance.now();
  const { win, first, stride, last, trainSeconds: tTrain } = trained;
  opts.onProgress?.({ run: index, runs, phase: 'analysis', epoch: last?.epoch ?? 0 });
  const a = await WindowAnalysis.analyze(
    'sgd',
    win,
    trained.weights,
    data.train,
    cfg,
    first,
    stride,
    {
      signal: opts.signal,
    },
  );
  const analysis: AnalysisResult = a.result;
  a.dispose();
  const r = analysis;
  const modes = r.modes.map((m) => ({ rank: m.rank, variance: m.variance, flatness: m.flatness }));
  const norm = r.meanNorm ?? NaN;
  const dims = effectiveDimensions(r.variance, modes, norm, r.dim, opts.sharpC);
  const total = tTrain + (performance.now() - t0) / 1000;
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
    dsByScale: sharpCounts(modes, norm, r.dim),
    variance: r.variance,
    modes,
    flatnessSpectrum: Array.from(rankOrderedFlatness(modes)),
    finalTrainError: last?.trainError ?? NaN,
    finalTestError: last?.testError ?? NaN,
    timings: { train: tTrain, analysis: total - tTrain, total },
  };
  opts.log?.(
    `h ${cfg.hidden}, B ${cfg.batchSize}, α ${cfg.lr}, ${cfg.optimizer}: ψ = ${r.fits.psi.exponent.toFixed(3)}, γ = ${r.fits.gamma.exponent.toFixed(3)}, D_L90 = ${dims.DL90}, D_L95 = ${dims.DL95}, D_s = ${dims.Ds} (F_c ${dims.threshold.toPrecision(3)}; ${summary.dsByScale
      .filter((d) => d.scale !== 'rms')
      .map((d) => `${d.Ds} at F_c ${d.threshold.toPrecision(3)} (${d.scale})`)
      .join(
        ', ',
      )}); ${r.snapshots} snapshots${stride > 1 ? ` (every ${stride}th step)` : ''}, ${total.toFixed(1)} s`,
  );
  return summary;
}

/** The knobs the sweeps vary, shared by RunConfig and ArchConfig. */
type SweepKnobs = Pick<RunConfig, 'hidden' | 'batchSize' | 'lr' | 'optimizer' | 'momentum'>;

function checkWidths(widths: readonly number[]): void {
  for (const h of widths) {
    if (!Number.isInteger(h) || h < 2 || h > MAX_SWEEP_WIDTH)
      throw new Error(`width ${h} is outside 2…${MAX_SWEEP_WIDTH}`);
  }
}

function widthConfigs<C extends SweepKnobs>(config: C, widths: readonly number[]): C[] {
  checkWidths(widths);
  return widths.map((hidden) => ({ ...config, hidden }));
}

/** B outer, α inner. */
function hyperConfigs<C extends SweepKnobs>(
  config: C,
  batchSizes: readonly number[],
  lrs: readonly number[],
): C[] {
  return batchSizes.flatMap((batchSize) => lrs.map((lr) => ({ ...config, batchSize, lr })));
}

/** Adam at its own α unless `adamLr` says else; the others at config.lr. */
function optimizerConfigs<C extends SweepKnobs>(
  config: C,
  kinds: readonly OptimizerKind[],
  adamLr: number,
): C[] {
  return kinds.map((optimizer) => ({
    ...config,
    optimizer,
    lr:
      optimizer === 'adam'
        ? adamLr
        : optimizer === 'momentum'
          ? momentumLr(config.lr, config.momentum)
          : config.lr,
  }));
}

/** The sweep's points as jobs, run by `opts.runner` or one after another through runJob. */
async function runSweep(
  specs: SweepJobSpec[],
  data: Dataset,
  opts: SweepOptions,
): Promise<RunSummary[]> {
  if (opts.runner) return opts.runner(specs);
  const out: RunSummary[] = [];
  for (let i = 0; i < specs.length; i++) {
    const r = await runJob(specs[i], data, { ...opts, index: i, jobs: specs.length });
    if (r.kind === 'forgetting') throw new Error('a sweep job returned a forgetting result');
    out.push(r.summary);
  }
  return out;
}

const runSpecs = (configs: RunConfig[], opts: SweepOptions): SweepJobSpec[] =>
  configs.map((config) => ({ kind: 'run', config, sharpC: opts.sharpC ?? SHARP_THRESHOLD_C }));
const archSpecs = (configs: ArchConfig[], opts: SweepOptions): SweepJobSpec[] =>
  configs.map((config) => ({ kind: 'arch', config, sharpC: opts.sharpC ?? SHARP_THRESHOLD_C }));

/** One run per hidden width (one warm-up each), everything else from `config`. */
export async function widthSweep(
  config: RunConfig,
  widths: readonly number[],
  data: Dataset,
  opts: SweepOptions = {},
): Promise<RunSummary[]> {
  return runSweep(runSpecs(widthConfigs(config, widths), opts), data, opts);
}

/** One run per (B, α) pair, B outer. */
export async function hyperSweep(
  config: RunConfig,
  batchSizes: readonly number[],
  lrs: readonly number[],
  data: Dataset,
  opts: SweepOptions = {},
): Promise<RunSummary[]> {
  return runSweep(runSpecs(hyperConfigs(config, batchSizes, lrs), opts), data, opts);
}

/**
 * SGD, momentum and Adam one after another: momentum at α(1 − μ) (momentumLr: the same
 * effective step as SGD), Adam at its own α unless `adamLr` says else.
 */
export async function optimizerComparison(
  config: RunConfig,
  data: Dataset,
  opts: SweepOptions = {},
  kinds: readonly OptimizerKind[] = ['sgd', 'momentum', 'adam'],
  adamLr = ADAM_DEFAULT_LR,
): Promise<RunSummary[]> {
  return runSweep(runSpecs(optimizerConfigs(config, kinds, adamLr), opts), data, opts);
}

/**
 * An architectureRun reduced to a sweep row: params = all weights of the network, dim = the
 * analysed (possibly subsampled) block, every window step kept (stepEvery 1), D_s's curve over
 * c at the block's window-mean norm.
 */
export function archRunSummary(cfg: ArchConfig, r: ArchResult): RunSummary {
  const modes = r.modes.map((m) => ({ rank: m.rank, variance: m.variance, flatness: m.flatness }));
  const last = r.epochs[r.epochs.length - 1];
  const train = r.timings.warmup + r.timings.window;
  return {
    hidden: cfg.arch === 'cnn' ? cfg.dense : cfg.hidden,
    batchSize: cfg.batchSize,
    lr: r.lr,
    optimizer: r.optimizer,
    momentum: r.momentum,
    params: r.arch.params,
    dim: r.block.dim,
    snapshots: r.snapshots,
    stepEvery: 1,
    psi: r.fits.psi,
    gamma: r.fits.gamma,
    dims: r.dims,
    dsCurve: SHARP_C_CURVE.map((c) => ({
      c,
      Ds: sharpDimension(modes, sharpThreshold(r.meanNorm, r.block.dim, c)),
    })),
    dsByScale: sharpCounts(modes, r.meanNorm, r.block.dim),
    variance: r.variance,
    modes,
    flatnessSpectrum: Array.from(rankOrderedFlatness(modes)),
    finalTrainError: last?.trainError ?? NaN,
    finalTestError: last?.testError ?? NaN,
    timings: { train, analysis: r.timings.total - train, total: r.timings.total },
    arch: r.arch.name,
    block: {
      name: r.block.name,
      fullDim: r.block.fullDim,
      dim: r.block.dim,
      sampled: r.block.sampled,
    },
  };
}

/** One run of a deeper architecture (no warm-up criterion: its fixed warm-up), as a sweep row. */
export async function summariseArchRun(
  cfg: ArchConfig,
  data: Dataset,
  opts: SweepOptions = {},
  index = 0,
  runs = 1,
): Promise<RunSummary> {
  const onProgress = opts.onProgress;
  const r = await architectureRun(cfg, data, {
    signal: opts.signal,
    sharpC: opts.sharpC,
    yieldEvery: opts.yieldEvery,
    onProgress: onProgress
      ? (p: ArchProgress) => onProgress({ run: index, runs, phase: p.phase, epoch: p.epoch })
      : undefined,
  });
  opts.onArchResult?.(r);
  const s = archRunSummary(cfg, r);
  const d = s.dims;
  opts.log?.(
    `${cfg.arch} ${s.block?.name} (${s.dim}${s.block?.sampled ? ` of ${s.block.fullDim}` : ''} weights), ${cfg.arch === 'cnn' ? 'dense' : 'h'} ${s.hidden}, B ${s.batchSize}, α ${s.lr}, ${s.optimizer}: ψ = ${s.psi.exponent.toFixed(3)}, γ = ${s.gamma.exponent.toFixed(3)}, D_L90 = ${d.DL90}, D_L95 = ${d.DL95}, D_s = ${d.Ds} (F_c ${d.threshold.toPrecision(3)}); ${s.snapshots} snapshots, ${s.timings.total.toFixed(1)} s`,
  );
  const warning = collapseWarning(r);
  if (warning) opts.log?.(warning);
  return s;
}

/**
 * One mlp4 run per hidden width h (the analysed block W_block has h² weights, subsampled beyond
 * maxBlockDim). The CNN has no width sweep: its analysed dense matrix is 7·7·conv2 × dense,
 * beyond the default cap already at dense 26, so its dimension would not follow the width.
 */
export async function archWidthSweep(
  config: ArchConfig,
  widths: readonly number[],
  data: Dataset,
  opts: SweepOptions = {},
): Promise<RunSummary[]> {
  if (config.arch !== 'mlp4') throw new Error(`width sweeps vary h of mlp4, not ${config.arch}`);
  return runSweep(archSpecs(widthConfigs(config, widths), opts), data, opts);
}

/** One run of a deeper architecture per (B, α) pair, B outer. */
export async function archHyperSweep(
  config: ArchConfig,
  batchSizes: readonly number[],
  lrs: readonly number[],
  data: Dataset,
  opts: SweepOptions = {},
): Promise<RunSummary[]> {
  return runSweep(archSpecs(hyperConfigs(config, batchSizes, lrs), opts), data, opts);
}

/** SGD, momentum (at α(1 − μ)) and Adam (at `adamLr`) on a deeper architecture. */
export async function archOptimizerComparison(
  config: ArchConfig,
  data: Dataset,
  opts: SweepOptions = {},
  kinds: readonly OptimizerKind[] = ['sgd', 'momentum', 'adam'],
  adamLr = ADAM_DEFAULT_LR,
): Promise<RunSummary[]> {
  return runSweep(archSpecs(optimizerConfigs(config, kinds, adamLr), opts), data, opts);
}
