/**
 * Curvature of an analysed window (issue 16) and the Einstein check of a Langevin window along
 * the Hessian's stiffest eigenvectors (issue 12 §4). Pure engine code: the analysis worker and
 * the CLI call the same functions.
 *
 * - `windowCurvature`: at the window's profile centre, k_i = p_iᵀHp_i for every measured PCA mode,
 *   the top of H's spectrum by Lanczos with the overlaps |⟨v_j, p_i⟩|², tr H by Hutchinson; and
 *   the edge of stability — λ_max at the run's checkpoints (SGD, all layers trained) and along a
 *   full-batch GD run on W2 from the first checkpoint after epoch 1, both against 2/α.
 * - `hessianEinstein`: why the PCA modes of a Langevin window cannot test equilibrium — in a
 *   quadratic basin with isotropic noise the stationary covariance is T·H⁻¹, so the largest
 *   variances lie along the FLATTEST, slowest directions, which have not relaxed. The stiff
 *   Hessian eigenvectors relax in 1/(α_L λ_j) steps, a few steps here, so they are the ones to
 *   test σ_j² = T/λ_j on.
 */
import type { DataSplit } from '../data/dataset';
import type { MlpWeights } from '../nets/mlp';
import type { SnapshotWindow } from '../pca/snapshotWindow';
import { curvatureAnalysis, type CurvatureResult } from '../landscape/curvature';
import {
  LAMBDA_MAX_ITERATIONS,
  gradientDescentEdge,
  lambdaMaxAlongTraining,
} from '../landscape/edgeOfStability';
import { einsteinCheck, segmentVariance, type EinsteinResult } from '../landscape/einstein';
import { measureFlatness, type EvalFn } from '../landscape/flatness';
import { W2Hessian } from '../landscape/hessian';
import { lanczos } from '../landscape/lanczos';

/** λ_max along training: SGD at the run's checkpoints, full-batch GD from a warm start. */
export interface EdgeOfStability {
  /** α of the SGD run (and of the GD run); the stability limit of GD is λ_max = 2/α. */
  lr: number;
  twoOverLr: number;
  sgd: { epoch: number; step: number; lambdaMax: number; loss: number }[];
  /** Steps of full-batch GD on W2 alone (W1, W3 of the warm start fixed). */
  gd: { step: number; lambdaMax: number; loss: number }[];
  /** The checkpoint the GD run starts from. */
  warmStart: { epoch: number; step: number };
  lanczosIterations: number;
}

export interface CurvatureSummary extends CurvatureResult {
  /** Where H was taken: the profile centre of the flatness search. */
  centre: 'mean' | 'last';
  edgeOfStability: EdgeOfStability | null;
}

export interface CurvatureModeSource {
  rank: number;
  flatness: number;
  L0: number;
  direction: Float64Array;
}

/** Checkpoints of the SGD run whose λ_max is measured (log-spaced in epoch). */
export const EDGE_CHECKPOINTS = 8;
/** Full-batch GD steps of the contrast run, and how often λ_max is measured along it. */
export const GD_STEPS = 100;
export const GD_EVERY = 20;
/** PCA modes 1 … this are the columns of the overlap heat map. */
export const OVERLAP_MODES = 20;

export interface CurvatureRunOptions {
  /** Also the λ_max-along-training figure (needs ≥ 2 checkpoints). */
  edge?: boolean;
  gdSteps?: number;
  gdEvery?: number;
  signal?: AbortSignal;
  onProgress?: (fraction: number, detail: string) => void;
}

export async function windowCurvature<
  C extends {
    epoch: number;
    step: number;
    W1: Float32Array;
    W2: Float32Array | Float64Array;
    W3: Float32Array;
  },
>(
  args: {
    train: DataSplit;
    weights: MlpWeights;
    centre: Float64Array;
    centreKind: 'mean' | 'last';
    lr: number;
    factor: number;
    modes: readonly CurvatureModeSource[];
    overlapModes: readonly { rank: number; direction: Float64Array }[];
    /** Checkpoints for λ_max along training, in epoch order; the first is GD's warm start. */
    checkpoints: readonly C[];
  },
  opts: CurvatureRunOptions = {},
): Promise<CurvatureSummary> {
  const progress = opts.onProgress ?? (() => undefined);
  const data = {
    images: args.train.images,
    labels: args.train.labels,
    hidden: args.weights.hidden,
    count: args.train.count,
  };
  const hess = await W2Hessian.fromData(
    { ...data, w1: args.weights.W1, w3: args.weights.W3 },
    args.centre,
  );
  const withEdge = (opts.edge ?? true) && args.checkpoints.length >= 2;
  const share = withEdge ? 0.35 : 1;
  const cur = await curvatureAnalysis(hess, args.modes, args.overlapModes, {
    factor: args.factor,
    signal: opts.signal,
    onProgress: (f, stage) => progress(share * f, stage),
  });
  let edge: EdgeOfStability | null = null;
  if (withEdge) {
    const picked = args.checkpoints;
    const sgd = await lambdaMaxAlongTraining(data, picked, {
      signal: opts.signal,
      onProgress: (f) =>
        progress(
          share + 0.3 * f,
          `λ_max at checkpoint ${Math.round(f * picked.length)} of ${picked.length}`,
        ),
    });
    const start = picked[0];
    const gdStart = await W2Hessian.fromData({ ...data, w1: start.W1, w3: start.W3 }, start.W2);
    const steps = opts.gdSteps ?? GD_STEPS;
    const gd = await gradientDescentEdge(gdStart, {
      lr: args.lr,
      steps,
      every: opts.gdEvery ?? GD_EVERY,
      signal: opts.signal,
      onProgress: (f) =>
        progress(
          share + 0.3 + (0.65 - share) * f,
          `full-batch GD: step ${Math.round(f * steps)} of ${steps}`,
        ),
    });
    edge = {
      lr: args.lr,
      twoOverLr: 2 / args.lr,
      sgd: sgd.map((c) => ({ epoch: c.epoch, step: c.step, lambdaMax: c.lambdaMax, loss: c.loss })),
      gd,
      warmStart: { epoch: start.epoch, step: start.step },
      lanczosIterations: LAMBDA_MAX_ITERATIONS,
    };
  }
  progress(1, 'curvature done');
  return { ...cur, centre: args.centreKind, edgeOfStability: edge };
}

/** Lanczos steps and stiff directions of the Langevin Einstein check. */
export const EINSTEIN_LANCZOS = 40;
export const EINSTEIN_DIRECTIONS = 20;
/** A Ritz pair is used when ‖Hv − λv‖ ≤ this·λ (then vᵀH⁻¹v = 1/λ to about its square). */
export const EINSTEIN_RESIDUAL = 1e-2;

/**
 * The Einstein check along the top Hessian eigenvectors v_j at the Langevin window's centre:
 * θ_j(t) = v_j·(w(t) − centre) over the window's snapshots, its variance and half-window
 * variances, F_j along v_j by the same flatness search as the PCA modes (for the σ²–F slope,
 * Einstein's +2), and the equilibrium prediction T/(λ_j(1 − α_L λ_j/2)) with the window factor
 * (einstein.ts). `rank` in the result is the Hessian eigenvalue's rank j.
 */
export async function hessianEinstein(args: {
  window: SnapshotWindow;
  centre: Float64Array;
  train: DataSplit;
  weights: MlpWeights;
  evalFn: EvalFn;
  factor: number;
  initialStep: number;
  maxDistance: number;
  temperature: number;
  lr: number;
  stepEvery: number;
  signal?: AbortSignal;
}): Promise<EinsteinResult> {
  const hess = await W2Hessian.fromData(
    {
      images: args.train.images,
      labels: args.train.labels,
      hidden: args.weights.hidden,
      count: args.train.count,
      w1: args.weights.W1,
      w3: args.weights.W3,
    },
    args.centre,
  );
  args.signal?.throwIfAborted();
  const lz = lanczos(hess, { iterations: EINSTEIN_LANCZOS, vectors: EINSTEIN_DIRECTIONS, seed: 3 });
  const n = hess.dim;
  const dirs: { rank: number; lambda: number; direction: Float64Array }[] = [];
  for (let j = 0; j < Math.min(EINSTEIN_DIRECTIONS, lz.values.length); j++) {
    if (!(lz.values[j] > 0) || lz.residuals[j] > EINSTEIN_RESIDUAL * lz.values[j]) continue;
    dirs.push({
      rank: j + 1,
      lambda: lz.values[j],
      direction: lz.vectors.subarray(j * n, (j + 1) * n),
    });
  }
  const m = args.window.count;
  const half = Math.floor(m / 2);
  const theta = dirs.map(() => new Float64Array(m));
  for (let t = 0; t < m; t++) {
    const w = args.window.snapshot(t);
    for (let d = 0; d < dirs.length; d++) {
      const v = dirs[d].direction;
      let s = 0;
      for (let i = 0; i < n; i++) s += v[i] * (w[i] - args.centre[i]);
      theta[d][t] = s;
    }
  }
  args.signal?.throwIfAborted();
  const flat = await measureFlatness(
    args.evalFn,
    dirs.map((d) => ({ rank: d.rank, direction: d.direction })),
    {
      factor: args.factor,
      relTol: 1e-3,
      initialStep: args.initialStep,
      maxDistance: args.maxDistance,
      signal: args.signal,
    },
  );
  const res = einsteinCheck(
    dirs.map((d, i) => ({
      rank: d.rank,
      curvature: d.lambda,
      measured: segmentVariance(theta[i], 0, m),
      halves: [segmentVariance(theta[i], 0, half), segmentVariance(theta[i], half, m)],
      flatness: flat.modes[i].flatness,
    })),
    { temperature: args.temperature, lr: args.lr, count: m, stepEvery: args.stepEvery },
  );
  return { ...res, directions: 'hessian-eigenvectors' };
}
