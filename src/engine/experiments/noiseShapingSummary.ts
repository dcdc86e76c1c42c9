/**
 * Noise shaping (SI §S9, issue 17): the settings, the record of one run, and the summaries over
 * seeds. No TensorFlow.js here, so the page's store can use it; the experiment itself is in
 * noiseShaping.ts.
 */
import type { SamplingMode } from '../data/batches';
import type { StepChoice } from './config';

export type NoiseMethod = 'sgd' | 'gd' | 'gd-isotropic' | 'gd-flatness';
export const NOISE_METHODS: readonly NoiseMethod[] = ['sgd', 'gd', 'gd-isotropic', 'gd-flatness'];

export interface NoiseShapingConfig {
  hidden: number;
  /** SGD's minibatch size B. */
  batchSize: number;
  /** Learning rate α of every method. */
  lr: number;
  sampling: SamplingMode;
  seed: number;
  /** Training examples used (the first n of the training split); all methods see the same. */
  trainCount: number;
  /** Test examples the test error is measured on (the first n of the test split). */
  testCount: number;
  /** Gradient budget in epochs: every method evaluates epochs·N example gradients. */
  epochs: number;
  /** Training error at or below which an epoch starts the exploration phase. */
  errorThreshold: number;
  /** Epochs of trajectory the PCA looks at (the recent trajectory / the solution's window). */
  windowEpochs: number;
  /** PCA modes (ranks 2…k+1) that carry the flatness noise; Hessian directions of a solution. */
  modes: number;
  /** GD steps between refreshes of the flatness noise's modes and strengths. */
  refreshEvery: number;
  /** SGD noise power is measured at this many evenly spaced epochs (and at the start). */
  powerSamples: number;
  stepImpl: StepChoice;
}

export const NOISE_SHAPING_DEFAULTS: NoiseShapingConfig = {
  hidden: 50,
  batchSize: 50,
  lr: 0.1,
  sampling: 'epoch',
  seed: 0,
  trainCount: 500,
  testCount: 1000,
  epochs: 400,
  errorThreshold: 0.005,
  windowEpochs: 20,
  modes: 8,
  refreshEvery: 20,
  powerSamples: 10,
  stepImpl: 'auto',
};

export interface NoiseShapingRun {
  method: NoiseMethod;
  seed: number;
  /**
   * Epoch of the gradient budget after which each error was measured (0 = initialisation; every
   * ⌈epochs/100⌉-th epoch, so a curve has at most 101 points).
   */
  epochs: number[];
  trainError: number[];
  testError: number[];
  /** First measured epoch whose training error is ≤ the threshold; null if none. */
  explorationStartEpoch: number | null;
  finalTrainError: number;
  finalTestError: number;
  /** Median F_i along the solution's k sharpest Hessian directions (NaN if none measured). */
  medianTopFlatness: number;
  /** F_i along those directions, sharpest first. */
  topFlatness: number[];
  /** The W2 Hessian's top k eigenvalues at the solution (Lanczos Ritz values). */
  topCurvature: number[];
  /** Noise power per step over W2: SGD's mean P̄ = α²E‖g^μ − g‖², the injected P_GD, or 0. */
  noisePower: number;
  /** Langevin temperature T = P̄/(2αd) of the injected noise (0 for SGD's row and plain GD). */
  temperature: number;
  steps: number;
  gradientEvaluations: number;
  /** SGD's row: β₁ of D_i ∝ F_i^(−β₁) over its window's top modes (what gd-flatness uses). */
  beta1?: number;
  /** gd-flatness: how many refreshes found usable modes (the rest kept the previous noise). */
  refreshes?: number;
}

export interface NoiseShapingProgress {
  type: 'progress';
  seed: number;
  method: NoiseMethod;
  /** Fraction of this seed's four runs done. */
  fraction: number;
  message: string;
}

export type NoiseShapingEvent =
  | NoiseShapingProgress
  | { type: 'run'; run: NoiseShapingRun }
  | { type: 'epoch'; seed: number; method: NoiseMethod; epoch: number; testError: number };

export function median(values: readonly number[]): number {
  const v = values.filter((x) => !Number.isNaN(x)).sort((a, b) => a - b);
  if (!v.length) return NaN;
  const m = v.length >> 1;
  return v.length % 2 ? v[m] : (v[m - 1] + v[m]) / 2;
}

export interface SeedStat {
  mean: number;
  sd: number;
  n: number;
}

export function seedStat(values: number[]): SeedStat {
  const v = values.filter((x) => Number.isFinite(x));
  const n = v.length;
  if (!n) return { mean: NaN, sd: NaN, n: 0 };
  const mean = v.reduce((a, b) => a + b, 0) / n;
  const sd = n > 1 ? Math.sqrt(v.reduce((a, b) => a + (b - mean) ** 2, 0) / (n - 1)) : NaN;
  return { mean, sd, n };
}

export type NoiseShapingSummary = Record<
  NoiseMethod,
  { finalTestError: SeedStat; medianTopFlatness: SeedStat; explored: number }
>;

export function summarizeNoiseShaping(runs: readonly NoiseShapingRun[]): NoiseShapingSummary {
  const out = {} as NoiseShapingSummary;
  for (const m of NOISE_METHODS) {
    const rs = runs.filter((r) => r.method === m);
    out[m] = {
      finalTestError: seedStat(rs.map((r) => r.finalTestError)),
      medianTopFlatness: seedStat(rs.map((r) => r.medianTopFlatness)),
      explored: rs.filter((r) => r.explorationStartEpoch !== null).length,
    };
  }
  return out;
}

/**
 * The plain answer from the data: among methods whose runs all entered the exploration phase,
 * the one with the flattest solutions (largest mean median F) and the one with the lowest mean
 * test error; `both` when they are the same method.
 */
export function noiseShapingVerdict(summary: NoiseShapingSummary): {
  flattest: NoiseMethod | null;
  lowestTestError: NoiseMethod;
  explored: NoiseMethod[];
} {
  const explored = NOISE_METHODS.filter(
    (m) => summary[m].explored > 0 && summary[m].explored === summary[m].finalTestError.n,
  );
  let flattest: NoiseMethod | null = null;
  for (const m of explored)
    if (
      Number.isFinite(summary[m].medianTopFlatness.mean) &&
      (flattest === null ||
        summary[m].medianTopFlatness.mean > summary[flattest].medianTopFlatness.mean)
    )
      flattest = m;
  let lowest: NoiseMethod = NOISE_METHODS[0];
  for (const m of NOISE_METHODS)
    if (summary[m].finalTestError.mean < summary[lowest].finalTestError.mean) lowest = m;
  return { flattest, lowestTestError: lowest, explored };
}
