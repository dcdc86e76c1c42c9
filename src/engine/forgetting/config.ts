/**
 * Everything that defines a catastrophic-forgetting sweep (SCIENCE.md, Fig. 4). The CLI
 * (`--experiment forgetting`) and the worker both build this object; the experiment reads
 * nothing else.
 */
import type { ThresholdFactor } from '../experiments/config';
import { checkDisjoint } from './tasks';

export type FlatnessSource = 'measured' | 'estimated';
export type PretrainData = 'all' | 'tasks';
export type AnchorChoice = 'mean' | 'last';

export interface ForgettingConfig {
  /** Digits of task 1 and task 2 (disjoint). */
  task1: number[];
  task2: number[];
  /** Hidden width h of the 784-h-h-10 network. */
  hidden: number;
  /** Minibatch size B and learning rate α of every phase. */
  batchSize: number;
  lr: number;
  /**
   * What the whole network is first trained on before W1 and W3 are frozen: 'all' digits (the
   * paper's "train the network on all tasks", its tasks being the five digit pairs), or only
   * the digits of the two tasks.
   */
  pretrain: PretrainData;
  pretrainEpochs: number;
  /** Epochs of W2-only training on task 1 before its PCA window (into the exploration phase). */
  task1Epochs: number;
  /** Length of the task-1 PCA window in epochs (a W2 snapshot after every step). */
  windowEpochs: number;
  /** w1*: the window mean ŵ (where the flatness is measured, SCIENCE.md) or the last snapshot. */
  anchor: AnchorChoice;
  /** SGD steps on task 2 per run. */
  task2Steps: number;
  /** Test errors are recorded every this many task-2 steps (and at step 0). */
  curveEvery: number;
  /** λ grid of LDC (log-spaced). */
  lambdas: number[];
  /**
   * λ grid of EWC. Its natural scale differs from LDC's by orders of magnitude (the Fisher
   * entries are ~1e-5 where 1/F² is ~0.1), so the two sweeps get their own grids; each should
   * run from "no effect" to "pinned".
   */
  ewcLambdas: number[];
  /** Numbers of constrained task-1 modes N_c; LDC runs on the full λ × N_c grid. */
  ncList: number[];
  /** Independent repetitions: each seed redoes pretraining, task 1, the PCA and every run. */
  seeds: number[];
  /**
   * Share of each task digit's training examples held out as validation data: never trained on
   * (not in pretraining, task 1, its PCA, flatness or Fisher, nor task 2), and the only data
   * each method's setting (λ, N_c) is chosen on, so that the reported test errors are not
   * selected on themselves.
   */
  validationFraction: number;
  /**
   * Seed of the held-out draw. Deliberately not a training seed: every method and every seed
   * is selected on the same validation examples.
   */
  validationSeed: number;
  /** F_i measured along each mode, or estimated from σ_i by Eq. 8, F_i ∝ σ_i^(−2/ψ). */
  flatnessSource: FlatnessSource;
  /** ψ of the estimate (SCIENCE.md: ψ ≈ 4 for MNIST). */
  psi: number;
  /**
   * Which modes LDC constrains: ranks 1..N_c, the drift mode included, as the paper's Eq. 14
   * sums i = 1..N_c (default); or, when false, the diffusive modes 2..N_c+1 only. Measured on
   * the embedded digits, leaving out mode 1 ruins LDC: with modes 2.. pinned, task-2 training
   * shrinks W2 along p_1 ∥ ŵ instead, which erases task 1's margins (class-incremental error
   * ~0.9 at any N_c ≤ 40), while with mode 1 in the set LDC beats EWC.
   */
  includeDrift: boolean;
  /** Flatness threshold factor: L = factor·L⁰. */
  thresholdFactor: ThresholdFactor;
  /** Modes 1..this get their displacement (w − w1*)·p_i reported at the end of each run. */
  displacementModes: number;
}

/**
 * EWC's λ grid: 49 values, 12 per decade from 10³ to 10⁷ (3 significant digits), the span of
 * "no effect" to "pinned" on the embedded digits. 49 = LDC's 7 λ × 7 N_c, so that neither
 * method wins by having more settings to choose from (the selection budget).
 */
export const EWC_LAMBDA_GRID: number[] = Array.from({ length: 49 }, (_, k) =>
  Number((10 ** (3 + k / 12)).toPrecision(3)),
);

/**
 * The page's sweep (also the bench's) — 3 seeds × (1 unconstrained + 49 EWC λ + 7 LDC λ ×
 * 7 N_c) = 297 runs of 320 task-2 steps (10 epochs of digits 2,3), plus per seed 3 epochs of
 * pretraining, 31 epochs of task 1 (the last 11 its PCA window) and the flatness of 300 modes.
 * The CLI runs the same with CLI_FORGETTING_SEEDS.
 */
export const DEFAULT_FORGETTING_CONFIG: ForgettingConfig = {
  task1: [0, 1],
  task2: [2, 3],
  hidden: 50,
  batchSize: 50,
  lr: 0.1,
  pretrain: 'all',
  pretrainEpochs: 3,
  task1Epochs: 20,
  // 11, not 10: with 15% of the digits held out, 10 epochs of 0,1 give 290 snapshots, fewer
  // than N_c = 300 modes need.
  windowEpochs: 11,
  anchor: 'mean',
  task2Steps: 320,
  curveEvery: 20,
  lambdas: [0.1, 0.3, 1, 3, 10, 100, 1000],
  ewcLambdas: EWC_LAMBDA_GRID,
  ncList: [5, 10, 20, 50, 100, 200, 300],
  seeds: [0, 1, 2],
  validationFraction: 0.15,
  validationSeed: 2021,
  flatnessSource: 'measured',
  psi: 4,
  includeDrift: true,
  thresholdFactor: 'e',
  displacementModes: 50,
};

/** The headless default: 5 seeds, enough for a paired interval over seeds (the page runs 3). */
export const CLI_FORGETTING_SEEDS: readonly number[] = [0, 1, 2, 3, 4];

/** Settings each method chooses among: the selection budget (SCIENCE.md, Fig. 4). */
export function selectionBudget(c: Pick<ForgettingConfig, 'lambdas' | 'ewcLambdas' | 'ncList'>): {
  ldc: number;
  ewc: number;
  none: number;
} {
  return { ldc: c.lambdas.length * c.ncList.length, ewc: c.ewcLambdas.length, none: 1 };
}

/** Task-2 runs of one seed (1 unconstrained + EWC grid + LDC grid). */
export function runsPerSeed(
  c: Pick<ForgettingConfig, 'lambdas' | 'ewcLambdas' | 'ncList'>,
): number {
  const b = selectionBudget(c);
  return b.none + b.ewc + b.ldc;
}

/** Throws a readable error for an unusable config. */
export function checkForgettingConfig(c: ForgettingConfig): void {
  checkDisjoint([c.task1, c.task2]);
  const int = (v: number, name: string, min: number) => {
    if (!Number.isInteger(v) || v < min)
      throw new Error(`${name} must be a whole number ≥ ${min}, got ${v}`);
  };
  int(c.hidden, 'hidden', 2);
  int(c.batchSize, 'batchSize', 1);
  int(c.pretrainEpochs, 'pretrainEpochs', 0);
  int(c.task1Epochs, 'task1Epochs', 0);
  int(c.windowEpochs, 'windowEpochs', 1);
  int(c.task2Steps, 'task2Steps', 1);
  int(c.curveEvery, 'curveEvery', 1);
  int(c.displacementModes, 'displacementModes', 1);
  if (!(c.lr > 0) || !Number.isFinite(c.lr)) throw new Error(`lr must be > 0, got ${c.lr}`);
  if (!(c.psi > 0)) throw new Error(`psi must be > 0, got ${c.psi}`);
  for (const l of [...c.lambdas, ...c.ewcLambdas]) {
    if (!(l >= 0) || !Number.isFinite(l))
      throw new Error(`λ must be a finite number ≥ 0, got ${l}`);
  }
  if (c.ncList.length === 0 && c.lambdas.length > 0) throw new Error('ncList is empty');
  for (const n of c.ncList) int(n, 'N_c', 1);
  // A repeated value would be one setting run twice per seed, and counted as two seeds.
  for (const [name, list] of [
    ['λ (LDC)', c.lambdas],
    ['λ (EWC)', c.ewcLambdas],
    ['N_c', c.ncList],
  ] as const) {
    if (new Set(list).size !== list.length) throw new Error(`the ${name} list repeats a value`);
  }
  if (!(c.validationFraction > 0 && c.validationFraction <= 0.5))
    throw new Error(`validationFraction must be in (0, 0.5], got ${c.validationFraction}`);
  int(c.validationSeed, 'validationSeed', 0);
  if (c.seeds.length === 0) throw new Error('seeds is empty');
  for (const s of c.seeds) int(s, 'seed', 0);
  if (new Set(c.seeds).size !== c.seeds.length) throw new Error('seeds repeat');
}
