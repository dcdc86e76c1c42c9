/**
 * Everything that defines a run. The URL schema (src/state/configSchema.ts) and the CLI both
 * produce this object; experiments read nothing else, so a config reproduces a run.
 */
import type { SamplingMode } from '../data/batches';
export type Dynamics = 'sgd' | 'langevin';
export type PhaseMode = 'error' | 'warmup';
export type ProfileCentre = 'mean' | 'last';
export type ThresholdFactor = 'e' | '2';
/** 'auto': the WebAssembly SIMD kernel on CPU backends, tfjs ops on GPU backends. */
export type StepChoice = 'auto' | 'wasm-simd' | 'tfjs';
/**
 * The optimizer of the training step (issue 7, universality): plain SGD (the paper's default),
 * SGD with heavy-ball momentum (v ← μv + g, w ← w − αv) or Adam (β1, β2, ε below).
 */
export type OptimizerKind = 'sgd' | 'momentum' | 'adam';
/** Minibatch sampling (issue 17): a fresh permutation per epoch, or i.i.d. with replacement. */
export type { SamplingMode };
/** Adam's moment decay rates and denominator guard (Kingma & Ba's defaults, not settings). */
export const ADAM_BETA1 = 0.9;
export const ADAM_BETA2 = 0.999;
export const ADAM_EPSILON = 1e-8;

/**
 * The learning rate momentum runs at in the optimizer comparisons: α(1 − μ). Heavy-ball momentum
 * moves α/(1 − μ) times the gradient per step once v settles, so α(1 − μ) takes the same
 * effective step as SGD at α (at α = 0.1, μ = 0.9 the step is 10× SGD's: the paper-preset run
 * ends at 2.3% training error with ψ's interval spanning zero, and the 4-layer MLP collapses).
 */
export function momentumLr(lr: number, momentum: number): number {
  return Number((lr * (1 - momentum)).toPrecision(12));
}

export interface RunConfig {
  /** Hidden width h of the 784-h-h-10 network. */
  hidden: number;
  /** Minibatch size B. */
  batchSize: number;
  /** Learning rate α. */
  lr: number;
  /** Optimizer of the training step; anything but 'sgd' trains with tfjs ops (TfMlp). */
  optimizer: OptimizerKind;
  /** Momentum coefficient μ of optimizer 'momentum'. */
  momentum: number;
  /**
   * How minibatches are drawn: 'epoch' (without replacement, a fresh permutation each epoch)
   * or 'replacement' (i.i.d.; no epoch anticorrelation in the noise). Older configs: 'epoch'.
   */
  sampling: SamplingMode;
  /** Seed of initialisation, shuffling and noise (the data split has its own fixed seed). */
  seed: number;
  /** How the training step is computed. */
  stepImpl: StepChoice;
  /** How the exploration phase is found: training error ≤ threshold for an epoch, or fixed warm-up. */
  phaseMode: PhaseMode;
  /** Training-error threshold of the exploration phase (fraction, 0.005 = 0.5%). */
  errorThreshold: number;
  /** Warm-up epochs before the window (phaseMode 'warmup'); also the cap for phaseMode 'error'. */
  warmupEpochs: number;
  /** Length of the PCA window in epochs. */
  windowEpochs: number;
  /** How many PCA modes get a measured flatness (log-spaced ranks). */
  flatnessModes: number;
  /** Threshold factor of the flatness: L = factor·L⁰. */
  thresholdFactor: ThresholdFactor;
  /** Centre of the loss profiles: the window mean ŵ or the last snapshot. */
  profileCentre: ProfileCentre;
  /** Also run the Langevin contrast from the SGD solution. */
  contrast: boolean;
  /** Langevin temperature T (noise variance 2αT per step on W2). */
  temperature: number;
  /** Langevin step size. */
  langevinLr: number;
  /** Langevin burn-in steps before its window. */
  langevinBurnIn: number;
  /** Langevin window length in steps. */
  langevinSteps: number;
  /** Keep every k-th Langevin step in its window. */
  langevinEvery: number;
}

export const DEFAULT_CONFIG: RunConfig = {
  hidden: 50,
  batchSize: 50,
  lr: 0.1,
  optimizer: 'sgd',
  momentum: 0.9,
  sampling: 'epoch',
  seed: 0,
  stepImpl: 'auto',
  phaseMode: 'warmup',
  errorThreshold: 0.005,
  warmupEpochs: 60,
  windowEpochs: 10,
  flatnessModes: 50,
  thresholdFactor: 'e',
  profileCentre: 'mean',
  contrast: false,
  // Langevin contrast: hot enough that noise, not the residual gradient drift, moves W2, yet
  // the sharp modes stay near the SGD minimum; 1,600 snapshots like the SGD window.
  temperature: 1e-7,
  langevinLr: 0.5,
  langevinBurnIn: 5000,
  langevinSteps: 8000,
  langevinEvery: 5,
};

export function thresholdValue(f: ThresholdFactor): number {
  return f === 'e' ? Math.E : 2;
}

/**
 * Warm-up, window and flatness modes of a sweep run unless set: the paper's 60 warm-up epochs
 * and 10-epoch window, with 30 flatness modes instead of 50 (the search is most of a run's
 * time). Training is the cheap part of a run on the SIMD step: on the CLI at h = 50, 60 + 10
 * epochs took 1.4× the CPU time of the old quick 8 + 3, and gave ψ = 3.53 [3.24, 3.82]
 * (R² 0.98) where 8 + 10 gave 2.10 [−2.13, 6.33] (R² 0.30) and 8 + 3 3.56 [−0.22, 7.35].
 */
export const SWEEP_DEFAULTS: Pick<RunConfig, 'warmupEpochs' | 'windowEpochs' | 'flatnessModes'> = {
  warmupEpochs: 60,
  windowEpochs: 10,
  flatnessModes: 30,
};
