/**
 * The variance–flatness pipeline on the deeper architectures of issue 7 (CLI / engine only):
 * a 4-hidden-layer MLP (784-h-h-h-h-10) or a small CNN (cnn.ts), trained by SGD, heavy-ball
 * momentum or Adam (SgdNet: tfjs autodiff, TfMlp's update rules) from a seeded initialisation
 * with seeded minibatches; after a fixed warm-up, the
 * analysed weight block is snapshotted after every step of the window, then PCA (windowPca),
 * flatness (measureFlatness on the full training-set loss with only that block moved) and the
 * γ and ψ fits, as for the 3-layer MLP.
 *
 * The block: W2, W3 or W4 of the MLP (`block` 2–4; hidden-to-hidden, h² weights), the dense
 * hidden matrix of the CNN (7·7·c2 × dense). A block larger than `maxBlockDim` (default
 * 10,000) is analysed on a fixed seeded subset of `maxBlockDim` of its entries (seed + 1009):
 * the snapshots hold those entries only, the other entries stay at their window mean in the
 * flatness profiles.
 */
import type { Dataset } from '../data/dataset';
import { MinibatchSampler, gatherBatch, imagesToFloat32 } from '../data/batches';
import * as tf from '@tensorflow/tfjs';
import { measureFlatness, type EvalFn } from '../landscape/flatness';
import { logSpacedRanks, rankReachingFraction, varianceFraction } from '../landscape/fits';
import { effectiveDimensions, type EffectiveDimensions } from '../landscape/effectiveDimension';
import { windowPca } from '../pca/pca';
import { RunSettingsError, blockWindowProblems, dataShape } from './runChecks';
import { SnapshotWindow } from '../pca/snapshotWindow';
import { cnn, CNN_DEFAULT } from '../nets/cnn';
import { deepMlp } from '../nets/deepMlp';
import { BlockLoss, SgdNet, blockSubset, initParams, type BlockNet } from '../nets/tfNet';
import { optimizerSettings } from '../nets/netTypes';
import {
  modeRow,
  modeVector,
  varianceFlatnessSummary,
  type ModeFlatness,
  type PowerFit,
} from './analysis';
import {
  thresholdValue,
  type OptimizerKind,
  type ProfileCentre,
  type ThresholdFactor,
} from './config';

export type Arch = 'mlp4' | 'cnn';

export interface ArchConfig {
  arch: Arch;
  /** MLP hidden width h. */
  hidden: number;
  /** MLP: which W_k (2, 3 or 4) is analysed; ignored by the CNN (its dense matrix). */
  block: number;
  /** CNN sizes. */
  kernel: number;
  conv1: number;
  conv2: number;
  dense: number;
  batchSize: number;
  lr: number;
  /** Optimizer of the training step (momentum: v ← μv + g, w ← w − αv; Adam: tfMlp.ts). */
  optimizer: OptimizerKind;
  /** μ of optimizer 'momentum'. */
  momentum: number;
  seed: number;
  warmupEpochs: number;
  windowEpochs: number;
  flatnessModes: number;
  thresholdFactor: ThresholdFactor;
  profileCentre: ProfileCentre;
  /** Largest analysed block; beyond it a seeded subset of entries. */
  maxBlockDim: number;
}

export const MAX_BLOCK_DIM = 10_000;

/**
 * Quick defaults (a minute or less on one laptop CPU core with the 8,000 embedded digits):
 * h = 50, B = 50, α = 0.1, plain SGD (μ = 0.9 when momentum is chosen), a fixed warm-up (no error criterion), 30 flatness modes;
 * mlp4: 20 warm-up epochs and a 5-epoch window (800 snapshots of W3, 2,500 weights);
 * CNN: 3×3 kernels, 4 and 8 channels, dense 32 (block 392×32 = 12,544 → 10,000 sampled
 * entries), 3 warm-up epochs and a 2-epoch window (320 snapshots) — its im2col step is ~15×
 * slower than the MLP's on tfjs-wasm.
 */
export const ARCH_DEFAULTS: Omit<ArchConfig, 'arch'> = {
  hidden: 50,
  block: 3,
  kernel: CNN_DEFAULT.kernel,
  conv1: CNN_DEFAULT.conv1,
  conv2: CNN_DEFAULT.conv2,
  dense: CNN_DEFAULT.dense,
  batchSize: 50,
  lr: 0.1,
  optimizer: 'sgd',
  momentum: 0.9,
  seed: 0,
  warmupEpochs: 20,
  windowEpochs: 5,
  flatnessModes: 30,
  thresholdFactor: 'e',
  profileCentre: 'mean',
  maxBlockDim: MAX_BLOCK_DIM,
};

/** The quick defaults of one architecture. */
export function archDefaults(arch: Arch): Omit<ArchConfig, 'arch'> {
  return arch === 'cnn' ? { ...ARCH_DEFAULTS, warmupEpochs: 3, windowEpochs: 2 } : ARCH_DEFAULTS;
}

export interface ArchEpoch {
  epoch: number;
  step: number;
  trainLoss: number;
  trainError: number;
  testLoss: number;
  testError: number;
}

export interface ArchResult {
  arch: { name: Arch; params: number; layers: { name: string; shape: number[] }[] };
  block: { name: string; shape: [number, number]; fullDim: number; dim: number; sampled: boolean };
  /** The optimizer that trained the network, its α and μ (μ is recorded whatever the kind). */
  optimizer: OptimizerKind;
  lr: number;
  momentum: number;
  epochs: ArchEpoch[];
  snapshots: number;
  method: 'gram' | 'covariance';
  variance: number[];
  modes: ModeFlatness[];
  fits: { gamma: PowerFit; psi: PowerFit };
  varianceFraction35: number;
  rank90: number;
  /** ‖mean of the analysed coordinates over the window‖ (the solution's norm for D_s). */
  meanNorm: number;
  dims: EffectiveDimensions;
  timings: { warmup: number; window: number; pca: number; flatness: number; total: number };
}

export interface ArchProgress {
  phase: 'warmup' | 'window' | 'analysis';
  /** Epochs finished, of `epochs` (training phases). */
  epoch: number;
  epochs: number;
}

export interface ArchRunOptions {
  log?: (s: string) => void;
  signal?: AbortSignal;
  onProgress?: (p: ArchProgress) => void;
  /** Called every few steps: the worker yields to its event loop here (pause, cancel). */
  yieldEvery?: () => Promise<void>;
  /** The sharpness constant c of D_s's threshold c·‖ŵ‖/√dim. */
  sharpC?: number;
}

/**
 * Why a run did not train, or null: it ended its window at ≥ 50% training error (a collapse,
 * e.g. momentum μ = 0.9 at α = 0.1 is an effective step of 1 and can kill the deep MLP's
 * units). The analysis of such a window is not one of a trained network's exploration phase.
 */
export function notTrained(trainError: number): string | null {
  if (!(trainError >= 0.5)) return null;
  return `training error ${(trainError * 100).toFixed(1)}% at the end of the window; the run did not train (lower α?)`;
}

/** notTrained of an architecture run, as a warning for the command line's log. */
export function collapseWarning(r: Pick<ArchResult, 'epochs'>): string | null {
  const last = r.epochs[r.epochs.length - 1];
  const why = last ? notTrained(last.trainError) : null;
  return why ? `warning: ${why}` : null;
}

function network(cfg: ArchConfig): { def: BlockNet; param: number } {
  if (cfg.arch === 'mlp4') {
    if (!(cfg.block >= 2 && cfg.block <= 4))
      throw new Error(`mlp4: block must be 2, 3 or 4 (W2…W4), got ${cfg.block}`);
    return {
      def: deepMlp({ inputSize: 784, hidden: cfg.hidden, depth: 4, classes: 10 }),
      param: cfg.block - 1,
    };
  }
  const def = cnn({
    side: 28,
    kernel: cfg.kernel,
    conv1: cfg.conv1,
    conv2: cfg.conv2,
    dense: cfg.dense,
    classes: 10,
  });
  return { def, param: 2 };
}

/** Trains the chosen architecture and analyses its block's window. */
export async function architectureRun(
  cfg: ArchConfig,
  data: Dataset,
  opts: ArchRunOptions = {},
): Promise<ArchResult> {
  const log = opts.log ?? (() => undefined);
  const t0 = performance.now();
  const { def, param } = network(cfg);
  const spec = def.params[param];
  const [rows, cols] = spec.shape;
  const fullDim = rows * cols;
  const subset = blockSubset(fullDim, cfg.maxBlockDim, cfg.seed + 1009);
  const dim = subset ? subset.length : fullDim;
  // Every window step is kept: a window the PCA cannot hold is refused before training.
  const problems = blockWindowProblems(cfg, dim, dataShape(data));
  if (problems.length) throw new RunSettingsError(problems);
  const net = new SgdNet(
    def,
    initParams(def, cfg.seed),
    optimizerSettings(cfg.optimizer, cfg.momentum),
  );
  const train = data.train;
  const P = def.inputSize;
  const trainX = imagesToFloat32(train.images.subarray(0, train.count * P));
  const testX = imagesToFloat32(data.test.images.subarray(0, data.test.count * P));
  const sampler = new MinibatchSampler(train.count, cfg.batchSize, cfg.seed);
  const idx = new Uint32Array(cfg.batchSize);
  const xb = new Float32Array(cfg.batchSize * P);
  const yb = new Int32Array(cfg.batchSize);
  const perEpoch = sampler.stepsPerEpoch;
  const win = new SnapshotWindow(dim, { maxSnapshots: perEpoch * cfg.windowEpochs + 1 });
  const snap = new Float32Array(dim);
  const blockSum = new Float64Array(fullDim);
  const epochs: ArchEpoch[] = [];
  let step = 0;
  let tWarm = 0;
  try {
    const totalEpochs = cfg.warmupEpochs + cfg.windowEpochs;
    for (let epoch = 1; epoch <= totalEpochs; epoch++) {
      const inWindow = epoch > cfg.warmupEpochs;
      if (inWindow && tWarm === 0) tWarm = performance.now();
      opts.onProgress?.({
        phase: inWindow ? 'window' : 'warmup',
        epoch: epoch - 1,
        epochs: totalEpochs,
      });
      for (let s = 0; s < perEpoch; s++) {
        opts.signal?.throwIfAborted();
        if (opts.yieldEvery && s % 20 === 0) await opts.yieldEvery();
        sampler.nextInto(idx);
        gatherBatch(train.images, train.labels, idx, xb, yb, P);
        const loss = net.step(xb, yb, cfg.batchSize, cfg.lr);
        step++;
        if (!Number.isFinite(loss)) throw new Error(`training diverged at step ${step}: lower α`);
        if (inWindow) {
          const w = net.read(param);
          for (let i = 0; i < fullDim; i++) blockSum[i] += w[i];
          if (subset) for (let j = 0; j < dim; j++) snap[j] = w[subset[j]];
          else snap.set(w);
          win.add(snap);
        }
      }
      const tr = net.evaluate(trainX, train.labels, train.count);
      const te = net.evaluate(testX, data.test.labels, data.test.count);
      epochs.push({
        epoch,
        step,
        trainLoss: tr.loss,
        trainError: tr.error,
        testLoss: te.loss,
        testError: te.error,
      });
      log(
        `${cfg.arch} epoch ${epoch}${inWindow ? ' (window)' : ''}: train loss ${tr.loss.toExponential(3)}, error ${(tr.error * 100).toFixed(2)}%, test error ${(te.error * 100).toFixed(2)}%`,
      );
    }
  } catch (e) {
    net.dispose();
    throw e;
  }
  const tWin = performance.now();
  const weights = net.weights();
  net.dispose();
  opts.onProgress?.({
    phase: 'analysis',
    epoch: cfg.warmupEpochs + cfg.windowEpochs,
    epochs: cfg.warmupEpochs + cfg.windowEpochs,
  });
  if (opts.yieldEvery) await opts.yieldEvery();

  // PCA of the block's window.
  const maxRank = Math.max(2, Math.min(win.count - 1, dim));
  const wanted = logSpacedRanks(2, maxRank, cfg.flatnessModes);
  const pca = windowPca(win, { vectors: 2, ranks: wanted });
  if (pca.rank < 3) throw new Error(`the block barely moved during the window (rank ${pca.rank})`);
  const tPca = performance.now();
  log(`${win.count} snapshots of ${dim} weights; PCA rank ${pca.rank}; flatness…`);

  // Flatness: full training-set loss with only the block moved, around the window mean (or
  // the last snapshot); entries outside a subset sit at their window mean.
  const base = new Float32Array(fullDim);
  for (let i = 0; i < fullDim; i++) base[i] = blockSum[i] / win.count;
  if (cfg.profileCentre === 'last') base.set(weights[param]);
  const centre = cfg.profileCentre === 'mean' ? pca.mean : Float64Array.from(win.last());
  const features = tf.tidy(() => {
    const ps = weights.map((w, i) => tf.tensor(w, def.params[i].shape));
    const parts: tf.Tensor2D[] = [];
    for (let s = 0; s < train.count; s += 1000) {
      const n = Math.min(1000, train.count - s);
      parts.push(def.features(tf.tensor2d(trainX.subarray(s * P, (s + n) * P), [n, P]), ps, param));
    }
    return tf.concat(parts, 0);
  });
  const loss = new BlockLoss({
    features,
    labels: train.labels.subarray(0, train.count),
    rows,
    cols,
    suffix: weights.slice(param + 1).map((w, i) => ({
      values: w,
      rows: def.params[param + 1 + i].shape[0],
      cols: def.params[param + 1 + i].shape[1],
    })),
    base,
    subset,
  });
  const evalFn: EvalFn = (points) => loss.evaluate(centre, points);
  const ranks = wanted.filter((r) => modeRow(pca, r) >= 0);
  let report;
  try {
    report = await measureFlatness(
      evalFn,
      ranks.map((rank) => ({ rank, direction: modeVector(pca, rank) })),
      {
        factor: thresholdValue(cfg.thresholdFactor),
        relTol: 1e-3,
        initialStep: Math.max(1e-3, 0.5 * Math.sqrt(pca.variance[0])),
        signal: opts.signal,
      },
    );
  } finally {
    loss.dispose();
  }
  const tFlat = performance.now();

  const variance = Array.from(pca.variance);
  const { modes, fits } = varianceFlatnessSummary(report.modes, variance, pca.rank);
  let norm2 = 0;
  for (let i = 0; i < dim; i++) norm2 += pca.mean[i] * pca.mean[i];
  const meanNorm = Math.sqrt(norm2);
  const dims = effectiveDimensions(variance, modes, meanNorm, dim, opts.sharpC);
  const tEnd = performance.now();
  return {
    arch: {
      name: cfg.arch,
      params: def.params.reduce((a, p) => a + p.shape.reduce((x, y) => x * y, 1), 0),
      layers: def.params.map((p) => ({ name: p.name, shape: p.shape })),
    },
    block: { name: spec.name, shape: [rows, cols], fullDim, dim, sampled: subset !== null },
    optimizer: cfg.optimizer,
    lr: cfg.lr,
    momentum: cfg.momentum,
    epochs,
    snapshots: pca.count,
    method: pca.method,
    variance,
    modes,
    fits,
    varianceFraction35: varianceFraction(variance, 2, 35),
    rank90: rankReachingFraction(variance, 0.9),
    meanNorm,
    dims,
    timings: {
      warmup: ((tWarm || tWin) - t0) / 1000,
      window: (tWin - (tWarm || tWin)) / 1000,
      pca: (tPca - tWin) / 1000,
      flatness: (tFlat - tPca) / 1000,
      total: (tEnd - t0) / 1000,
    },
  };
}
