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
 * Defaults sized so that one full sweep — 3 seeds × (1 unconstrained + 7 EWC λ + 7 LDC λ ×
 * 7 N_c) = 171 runs of 320 task-2 steps (10 epochs of digits 2,3), plus per seed 3 epochs of
 * pretraining, 30 epochs of task 1 (the last 10 its PCA window, 340 snapshots) and the flatness
 * of 300 modes — takes well under a minute in Node (wasm backend, two cores).
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
  windowEpochs: 10,
  anchor: 'mean',
  task2Steps: 320,
  curveEvery: 20,
  lambdas: [0.1, 0.3, 1, 3, 10, 100, 1000],
  ewcLambdas: [1e3, 1e4, 1e5, 3e5, 1e6, 3e6, 1e7],
  ncList: [5, 10, 20, 50, 100, 200, 300],
  seeds: [0, 1, 2],
  flatnessSource: 'measured',
  psi: 4,
  includeDrift: true,
  thresholdFactor: 'e',
  displacementModes: 50,
};

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
  if (c.seeds.length === 0) throw new Error('seeds is empty');
  for (const s of c.seeds) int(s, 'seed', 0);
  if (new Set(c.seeds).size !== c.seeds.length) throw new Error('seeds repeat');
}
