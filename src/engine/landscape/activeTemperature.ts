/**
 * The minibatch-loss (MLF) ensemble and the active temperature (SCIENCE.md "Active temperature",
 * Fig. 5; the "springs" of Fig. 3A):
 *
 *     T_i(δθ) = (α/2) · var_μ [ ∂L^μ(w* + δθ·p_i) / ∂δθ ]
 *
 * L^μ is the mean cross-entropy of minibatch μ (B samples); only W2 moves (w* = the centre W2,
 * W1 and W3 fixed); p_i is a direction of W2 (a PCA mode).
 *
 * Minibatches. K minibatches are drawn exactly like training draws them (MinibatchSampler:
 * consecutive disjoint blocks of B of a seeded permutation, reshuffled each epoch, last partial
 * block dropped), so K may exceed N/B; μ = 0 … K − 1 are disjoint within each epoch. The same
 * seed gives the same minibatches, which lets a trajectory be followed with a fixed ensemble.
 *
 * Slopes are EXACT directional derivatives (forward mode, no finite differences). With
 * H1 = relu(X·W1) precomputed once for the K·B samples and W = centre + δ·p:
 *     Z2 = H1·W,   H2 = relu(Z2),   dH2 = 1[Z2 > 0] ⊙ (H1·p),
 *     z = H2·W3,   dz = dH2·W3,
 *     dL^μ/dδ = mean_{n∈μ} Σ_c (softmax(z_n)_c − y_nc)·dz_nc = mean_{n∈μ} Σ_c softmax(z_n)_c·(dz_nc − dz_n,y)
 * (the last form keeps its precision when softmax_y ≈ 1). Losses use the same precise form
 * as FullSetLoss: CE = softplus(logsumexp_{c≠y} z_c − z_y). The ensemble itself
 * (MinibatchSlopes) is plain TypeScript (minibatchSlopesPlain.ts), so the analysis worker carries
 * no tensor library; minibatchSlopesTf.ts is the tfjs version it replaced.
 *
 * Statistics. The variance over minibatches is the unbiased one (K − 1). Its standard error is
 * estimated from the sample fourth moment, √[(m₄ − (K−3)/(K−1)·s⁴)/K], which reduces to
 * s²·√(2/(K−1)) for Gaussian slopes and stays honest for heavy-tailed ones. For a target
 * relative error r of T (Gaussian rule), K = ⌈2/r²⌉ + 1: 5% ⇒ 801 minibatches, i.e. 40,050
 * samples at B = 50 (just over five epochs of N = 8,000; each epoch is a new partition).
 */
import { MinibatchSlopes } from './minibatchSlopesPlain';
import { centredMoments } from './moments';

type Vec = Float64Array | Float32Array;

export {
  MinibatchSlopes,
  type EnsembleValues,
  type MinibatchSlopesInputs,
} from './minibatchSlopesPlain';
export { MAX_MINIBATCHES, minibatchesForRelativeError } from './minibatchCount';

// ───────────────────────────── statistics ─────────────────────────────

export interface VarianceEstimate {
  mean: number;
  /** Unbiased variance (K − 1). */
  variance: number;
  /** Standard error of `variance` (fourth-moment estimate; Gaussian: variance·√(2/(K−1))). */
  stderr: number;
}

/** Mean, unbiased variance and the standard error of that variance. */
export function varianceWithError(x: ArrayLike<number>): VarianceEstimate {
  const K = x.length;
  if (K < 2) return { mean: K ? x[0] : NaN, variance: NaN, stderr: NaN };
  let mean = 0;
  for (let i = 0; i < K; i++) mean += x[i];
  mean /= K;
  let m2 = 0;
  let m4 = 0;
  for (let i = 0; i < K; i++) {
    const d = (x[i] - mean) ** 2;
    m2 += d;
    m4 += d * d;
  }
  const variance = m2 / (K - 1);
  m4 /= K;
  const gaussian = variance * Math.sqrt(2 / (K - 1));
  const v4 = (m4 - ((K - 3) / (K - 1)) * variance * variance) / K;
  return { mean, variance, stderr: v4 > 0 ? Math.sqrt(v4) : gaussian };
}

export interface TemperatureProfile {
  deltas: number[];
  /** T(δ) = (α/2)·var_μ(slope). */
  T: number[];
  /** Standard error of each T. */
  stderr: number[];
  /** Mean slope ⟨dL^μ/dδ⟩ = dL/dδ of the overall (K-mean) loss. */
  meanSlope: number[];
  K: number;
}

/** T(δ) = (lr/2)·var_μ[slopes[j]] for each δ_j, from `slopes[j]` (K values each). */
export function activeTemperatureProfile(
  slopes: readonly ArrayLike<number>[],
  lr: number,
  deltas: readonly number[],
): TemperatureProfile {
  if (slopes.length !== deltas.length) {
    throw new Error(
      `activeTemperatureProfile: ${slopes.length} slope sets for ${deltas.length} deltas`,
    );
  }
  const T: number[] = [];
  const stderr: number[] = [];
  const meanSlope: number[] = [];
  for (const s of slopes) {
    const v = varianceWithError(s);
    T.push(0.5 * lr * v.variance);
    stderr.push(0.5 * lr * v.stderr);
    meanSlope.push(v.mean);
  }
  return { deltas: [...deltas], T, stderr, meanSlope, K: slopes[0]?.length ?? 0 };
}

export interface EnsembleMinima {
  /** δ of each minibatch profile's minimum (parabolic refinement around the grid minimum). */
  minima: Float64Array;
  /** How many minima fell on the grid's first or last δ (not bracketed: a lower bound). */
  atEdge: number;
  mean: number;
  /** Standard deviation of the minima (K − 1): the spread of the springs' centres. */
  std: number;
}

/**
 * Where each minibatch loss profile has its minimum: `losses[j][μ]` = L^μ(δ_j) (as returned by
 * `minibatchLosses`), `deltas` increasing. The grid minimum is refined by the parabola through
 * it and its two neighbours (non-uniform spacing allowed), clamped to the neighbours' interval.
 */
export function ensembleMinima(
  losses: readonly ArrayLike<number>[],
  deltas: readonly number[],
): EnsembleMinima {
  const J = deltas.length;
  if (losses.length !== J)
    throw new Error(`ensembleMinima: ${losses.length} loss sets for ${J} deltas`);
  if (J < 3) throw new Error('ensembleMinima: need at least 3 deltas');
  for (let j = 1; j < J; j++)
    if (!(deltas[j] > deltas[j - 1])) throw new Error('ensembleMinima: deltas must increase');
  const K = losses[0].length;
  const minima = new Float64Array(K);
  let atEdge = 0;
  for (let mu = 0; mu < K; mu++) {
    let jm = 0;
    for (let j = 1; j < J; j++) if (losses[j][mu] < losses[jm][mu]) jm = j;
    if (jm === 0 || jm === J - 1) {
      atEdge++;
      minima[mu] = deltas[jm];
      continue;
    }
    const x0 = deltas[jm - 1];
    const x1 = deltas[jm];
    const x2 = deltas[jm + 1];
    const y0 = losses[jm - 1][mu];
    const y1 = losses[jm][mu];
    const y2 = losses[jm + 1][mu];
    // Vertex of the interpolating parabola.
    const num = (x1 - x0) ** 2 * (y1 - y2) - (x1 - x2) ** 2 * (y1 - y0);
    const den = (x1 - x0) * (y1 - y2) - (x1 - x2) * (y1 - y0);
    const v = den !== 0 ? x1 - 0.5 * (num / den) : x1;
    minima[mu] = Math.min(x2, Math.max(x0, Number.isFinite(v) ? v : x1));
  }
  let mean = 0;
  for (let mu = 0; mu < K; mu++) mean += minima[mu];
  mean /= K;
  let ss = 0;
  for (let mu = 0; mu < K; mu++) ss += (minima[mu] - mean) ** 2;
  return { minima, atEdge, mean, std: K > 1 ? Math.sqrt(ss / (K - 1)) : NaN };
}

/** Pearson correlation coefficient of x and y (NaN when either is constant or n < 2). */
export function pearson(x: ArrayLike<number>, y: ArrayLike<number>): number {
  const n = x.length;
  if (y.length !== n) throw new Error(`pearson: ${n} x values, ${y.length} y values`);
  if (n < 2) return NaN;
  const { sxx, sxy, syy } = centredMoments(x, y);
  return sxx > 0 && syy > 0 ? sxy / Math.sqrt(sxx * syy) : NaN;
}

// ───────────────────────────── along the trajectory (Fig. 5C/5D) ─────────────────────────────

export interface WeightCheckpoint {
  step: number;
  W1: Float32Array;
  W2: Float32Array | Float64Array;
  W3: Float32Array;
}

/** Directions of W2: a fixed list, or one chosen per checkpoint (e.g. that epoch's PCA modes). */
export type DirectionChoice =
  readonly Vec[] | ((checkpoint: WeightCheckpoint, index: number) => readonly Vec[]);

export interface TrajectoryTemperatureInputs {
  images: Uint8Array;
  labels: Uint8Array;
  hidden: number;
  batchSize: number;
  /** K minibatches (the same ones at every checkpoint: same seed). */
  minibatches: number;
  seed: number;
  /** Learning rate α. */
  lr: number;
  count?: number;
  inputSize?: number;
  classes?: number;
  budgetBytes?: number;
  /** Called after each checkpoint with the fraction done. */
  onProgress?: (fraction: number) => void;
  signal?: AbortSignal;
}

export interface TrajectoryTemperature {
  steps: number[];
  /** Overall loss L = mean of the K minibatch losses at W2 = checkpoint W2. */
  loss: number[];
  /** T[j][d] = (α/2)·var_μ of the minibatch gradient projected on unit direction d at checkpoint j. */
  T: number[][];
  stderr: number[][];
  /** Pearson correlation of T_d and L over the checkpoints, per direction. */
  correlation: number[];
  /** Pearson correlation of the direction-averaged T and L. */
  meanCorrelation: number;
}

function unit(d: Vec): Float64Array {
  let s = 0;
  for (let i = 0; i < d.length; i++) s += d[i] * d[i];
  const n = Math.sqrt(s);
  if (!(n > 0) || !Number.isFinite(n))
    throw new Error('temperatureAlongTrajectory: zero or non-finite direction');
  return Float64Array.from(d, (v) => v / n);
}

/**
 * For each checkpoint: the overall loss L (mean of the K minibatch losses) and the active
 * temperature at δ = 0, T_d = (α/2)·var_μ[∇_{W2}L^μ · p_d], along each direction (normalised to
 * unit length here). The minibatches are the same at every checkpoint (same seed), so the trend
 * is not blurred by resampling. Pure: depends only on its arguments.
 */
export async function temperatureAlongTrajectory(
  inputs: TrajectoryTemperatureInputs,
  checkpoints: readonly WeightCheckpoint[],
  directions: DirectionChoice,
): Promise<TrajectoryTemperature> {
  const steps: number[] = [];
  const loss: number[] = [];
  const T: number[][] = [];
  const stderr: number[][] = [];
  for (let j = 0; j < checkpoints.length; j++) {
    inputs.signal?.throwIfAborted();
    const cp = checkpoints[j];
    const dirs = (typeof directions === 'function' ? directions(cp, j) : directions).map(unit);
    if (dirs.length === 0) throw new Error('temperatureAlongTrajectory: no directions');
    const ms = new MinibatchSlopes({
      images: inputs.images,
      labels: inputs.labels,
      w1: cp.W1,
      w3: cp.W3,
      hidden: inputs.hidden,
      batchSize: inputs.batchSize,
      minibatches: inputs.minibatches,
      seed: inputs.seed,
      count: inputs.count,
      inputSize: inputs.inputSize,
      classes: inputs.classes,
      budgetBytes: inputs.budgetBytes,
    });
    try {
      const v = await ms.evaluate(
        cp.W2,
        dirs.map((direction) => ({ direction, delta: 0 })),
      );
      let L = 0;
      for (const l of v.losses[0]) L += l;
      steps.push(cp.step);
      loss.push(L / v.losses[0].length);
      const prof = activeTemperatureProfile(
        v.slopes,
        inputs.lr,
        dirs.map(() => 0),
      );
      T.push(prof.T);
      stderr.push(prof.stderr);
    } finally {
      ms.dispose();
    }
    inputs.onProgress?.((j + 1) / checkpoints.length);
  }
  const nd = T.length ? Math.min(...T.map((t) => t.length)) : 0;
  const correlation: number[] = [];
  for (let d = 0; d < nd; d++)
    correlation.push(
      pearson(
        T.map((t) => t[d]),
        loss,
      ),
    );
  const meanT = T.map((t) => t.reduce((a, b) => a + b, 0) / t.length);
  return { steps, loss, T, stderr, correlation, meanCorrelation: pearson(meanT, loss) };
}
