/**
 * The task-2 runs of one forgetting seed as ONE ensemble (issue 14): every run starts at w1*,
 * sees the same minibatches (the seed's task-2 sampler) and differs only by its penalty's
 * proximal step (penalties.ts). So a step of R runs shares its batch, H1 rows, W3 and anchor;
 * what is per run is W2 and a shrink vector.
 *
 * This file is the contract between the seed's phase (w2EnsemblePhase.ts) and whoever steps the
 * runs: the WGSL kernel (nets/webgpu/fusedW2*.ts) or the float64 reference (w2EnsembleReference.ts).
 *
 * One step of run r, exactly W2Trainer.trainStep's math (α folded into d3):
 *   H2 = relu(Hb·W2), Z = H2·W3, D3 = (softmax(Z) − Y)·(α/B),
 *   D2 = (D3·W3ᵀ) ⊙ [H2 > 0], W ← W2 − Hbᵀ·D2,
 * then the run's proximal step with d = W − w1*:
 *   none: W stays;  EWC: W ← W − s ⊙ d;  LDC: c_i = d·p_i (i < N_c), W ← W − Σ_i s_i c_i p_i.
 */

/** What every run of the ensemble shares. */
export interface W2EnsembleShared {
  hidden: number;
  /** α of every run. */
  lr: number;
  /** B: every step is one minibatch of B indices, the same for all runs. */
  batchSize: number;
  /** H1 = relu(X·W1) of task 2's training set (N × h, row-major) and its labels. */
  trainH1: Float32Array;
  trainLabels: ArrayLike<number>;
  trainCount: number;
  /** The frozen W3 (h × 10, row-major). */
  W3: Float32Array;
  /** w1* (h²): every run starts here, and the penalties pull towards it. */
  anchor: Float32Array;
  /**
   * LDC's orthonormal modes p_1..p_M (M × h², row-major); a run constraining N_c modes uses the
   * first N_c. M = 0 when no run is LDC.
   */
  modes: Float32Array;
  modeCount: number;
  /** The sets `score` counts errors on: their H1 rows (count × h), labels and own classes. */
  evalSets: readonly W2EvalSet[];
}

export interface W2EvalSet {
  h1: Float32Array;
  labels: ArrayLike<number>;
  count: number;
  /** The task's own classes (task-incremental argmax), ascending. */
  own: readonly number[];
}

/** A run's proximal step at the ensemble's α. */
export type W2Prox =
  | { kind: 'none' }
  /** s_j per entry of W2 (h²). */
  | { kind: 'ewc'; shrink: Float32Array }
  /** s_i per constrained mode (N_c ≤ modeCount), modes 1..N_c of the shared list. */
  | { kind: 'ldc'; nc: number; shrink: Float32Array };

export interface W2EnsembleKernel {
  readonly runs: number;
  /** Most steps one runChunk may take. */
  readonly maxChunk: number;
  /**
   * `steps` steps of every run, step s on the minibatch indices[s·B, (s+1)·B). Resolves with
   * each run's mean minibatch loss per step (R × steps, run-major) once they ran.
   */
  runChunk(indices: Uint32Array, steps: number): Promise<Float32Array>;
  /**
   * Misclassified examples per run and evaluation set at the current W2, run-major
   * (R × sets × 2): over all 10 outputs, then over the set's own classes. Ties go to the lower
   * class, as taskErrors counts them.
   */
  score(): Promise<Uint32Array>;
  /** Every run's W2 now (R × h², run-major). */
  readW2(): Promise<Float32Array>;
  /** A GPU fault that stopped the kernel (a lost device, an uncaptured error), or null. */
  readonly error: string | null;
  dispose(): void;
}

/** Builds a kernel for the shared data and one proximal step per run. */
export type W2EnsembleFactory = (
  shared: W2EnsembleShared,
  runs: readonly W2Prox[],
  maxChunk: number,
) => Promise<W2EnsembleKernel>;

/** The shared data's and the runs' shapes, checked (a kernel calls this before building). */
export function checkW2Ensemble(shared: W2EnsembleShared, runs: readonly W2Prox[]): void {
  const h = shared.hidden;
  const fail = (m: string): never => {
    throw new Error(`task-2 ensemble: ${m}`);
  };
  if (!Number.isInteger(h) || h < 1) fail(`hidden width ${h}`);
  if (runs.length === 0) fail('at least one run is needed');
  if (!(shared.lr > 0)) fail(`α must be > 0, got ${shared.lr}`);
  if (!Number.isInteger(shared.batchSize) || shared.batchSize < 1)
    fail(`batch size ${shared.batchSize}`);
  if (shared.batchSize > shared.trainCount)
    fail(`batch size ${shared.batchSize} exceeds the ${shared.trainCount} training examples`);
  if (shared.trainH1.length !== shared.trainCount * h) fail('H1 is not N × h');
  if (shared.trainLabels.length < shared.trainCount) fail('fewer labels than examples');
  if (shared.W3.length !== h * 10) fail('W3 is not h × 10');
  if (shared.anchor.length !== h * h) fail('w1* is not h × h');
  if (shared.modes.length !== shared.modeCount * h * h) fail('modes are not M × h²');
  for (const s of shared.evalSets) {
    if (s.h1.length !== s.count * h) fail('an evaluation set’s H1 is not count × h');
    if (s.own.length === 0) fail('an evaluation set has no classes of its own');
  }
  for (const r of runs) {
    if (r.kind === 'ewc' && r.shrink.length !== h * h) fail('an EWC shrink is not h × h');
    if (r.kind === 'ldc') {
      if (!Number.isInteger(r.nc) || r.nc < 1 || r.nc > shared.modeCount)
        fail(`N_c = ${r.nc} is outside 1…${shared.modeCount}`);
      if (r.shrink.length !== r.nc) fail('an LDC shrink has not N_c entries');
    }
  }
}
