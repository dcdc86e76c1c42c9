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
 * (the last form keeps float32 precision when softmax_y ≈ 1). Losses use the same precise form
 * as FullSetLoss: CE = softplus(logsumexp_{c≠y} z_c − z_y). Many (δ, direction) points go through
 * one tensor program: the distinct matrices W_v side by side as an h × V·h matrix (one matMul;
 * every δ = 0 point shares W = centre), H1·p once per distinct direction (shared by all δ along
 * it), spread over the points by broadcasting or a gather. Samples are processed in chunks of whole
 * minibatches so the largest intermediate (rows × P·h floats) stays under `budgetBytes`.
 * Every tensor made by a call is disposed before it returns; `dispose()` frees H1.
 *
 * Statistics. The variance over minibatches is the unbiased one (K − 1). Its standard error is
 * estimated from the sample fourth moment, √[(m₄ − (K−3)/(K−1)·s⁴)/K], which reduces to
 * s²·√(2/(K−1)) for Gaussian slopes and stays honest for heavy-tailed ones. For a target
 * relative error r of T (Gaussian rule), K = ⌈2/r²⌉ + 1: 5% ⇒ 801 minibatches, i.e. 40,050
 * samples at B = 50 (just over five epochs of N = 8,000; each epoch is a new partition).
 */
import * as tf from '@tensorflow/tfjs';
import { labelTensors, stableCrossEntropy } from './crossEntropy';
import { MinibatchSampler } from '../data/batches';
import { firstLayerActivations } from '../nets/firstLayer';
import type { ProfilePoint } from './flatness';
import { centredMoments } from './moments';

type Vec = Float64Array | Float32Array;

export interface MinibatchSlopesInputs {
  /** N × inputSize pixel bytes (0–255), row-major. */
  images: Uint8Array;
  /** N labels. */
  labels: Uint8Array;
  /** inputSize × h, row-major. */
  w1: Float32Array;
  /** h × classes, row-major. */
  w3: Float32Array;
  hidden: number;
  /** Minibatch size B. */
  batchSize: number;
  /** Number K of minibatches in the ensemble. */
  minibatches: number;
  /** Seed of the minibatch permutation(s). */
  seed: number;
  /** Use only the first `count` samples (default: all). */
  count?: number;
  /** Pixels per image (default 784). */
  inputSize?: number;
  /** Output classes (default 10). */
  classes?: number;
  /** Largest intermediate tensor in bytes (default 16 MB). */
  budgetBytes?: number;
  /** Most points per tensor program (default 64). */
  maxPointsPerGroup?: number;
}

/** Per point (in order): the K minibatch losses and the K minibatch slopes dL^μ/dδ. */
export interface EnsembleValues {
  losses: Float64Array[];
  slopes: Float64Array[];
}

const DEFAULT_BUDGET = 16 * 1024 * 1024;

export { MAX_MINIBATCHES, minibatchesForRelativeError } from './minibatchCount';

export class MinibatchSlopes {
  /** Number K of minibatches. */
  readonly minibatches: number;
  readonly batchSize: number;
  readonly hidden: number;
  readonly classes: number;
  /** The K·B sample indices; minibatch μ is sampleIndices[μB … (μ+1)B). */
  readonly sampleIndices: Uint32Array;
  private readonly h1: tf.Tensor2D; // K·B × h
  private readonly oneHot: tf.Tensor3D; // K·B × 1 × C
  private readonly labelMask: tf.Tensor3D; // K·B × 1 × C: −1e30 at the label
  private readonly w3: tf.Tensor2D;
  private readonly budgetElems: number;
  private readonly maxGroup: number;
  private disposed = false;

  constructor(inp: MinibatchSlopesInputs) {
    const h = inp.hidden;
    const P = inp.inputSize ?? 784;
    const C = inp.classes ?? 10;
    const B = inp.batchSize;
    const K = inp.minibatches;
    const total = Math.floor(inp.images.length / P);
    const N = Math.min(inp.count ?? total, total, inp.labels.length);
    if (!(N > 0)) throw new Error('MinibatchSlopes: no samples');
    if (!Number.isInteger(K) || K < 2)
      throw new Error(`MinibatchSlopes: need K ≥ 2 minibatches, got ${K}`);
    if (inp.w1.length !== P * h)
      throw new Error(`MinibatchSlopes: W1 has ${inp.w1.length} entries, expected ${P}×${h}`);
    if (inp.w3.length !== h * C)
      throw new Error(`MinibatchSlopes: W3 has ${inp.w3.length} entries, expected ${h}×${C}`);
    const sampler = new MinibatchSampler(N, B, inp.seed); // validates B
    this.minibatches = K;
    this.batchSize = B;
    this.hidden = h;
    this.classes = C;
    this.budgetElems = Math.max(1, Math.floor((inp.budgetBytes ?? DEFAULT_BUDGET) / 4));
    this.maxGroup = Math.max(1, inp.maxPointsPerGroup ?? 64);

    const rows = K * B;
    const idx = new Uint32Array(rows);
    for (let k = 0; k < K; k++) sampler.nextInto(idx.subarray(k * B, (k + 1) * B));
    this.sampleIndices = idx;
    const lab = new Int32Array(rows);
    for (let i = 0; i < rows; i++) {
      const y = inp.labels[idx[i]];
      if (y >= C) throw new Error(`MinibatchSlopes: label ${y} of sample ${idx[i]} is not < ${C}`);
      lab[i] = y;
    }
    ({ oneHot: this.oneHot, labelMask: this.labelMask } = labelTensors(lab, C));
    this.w3 = tf.tensor2d(inp.w3, [h, C]);

    this.h1 = firstLayerActivations(inp.images, inp.w1, P, h, idx);
  }

  /** K slopes dL^μ/dδ at each δ along `direction` (used as given, not normalised). */
  async slopes(centre: Vec, direction: Vec, deltas: readonly number[]): Promise<Float64Array[]> {
    return (
      await this.run(
        centre,
        deltas.map((delta) => ({ direction, delta })),
        false,
        true,
      )
    ).slopes;
  }

  /** K minibatch losses L^μ at each δ along `direction`: the MLF ensemble's profiles. */
  async minibatchLosses(
    centre: Vec,
    direction: Vec,
    deltas: readonly number[],
  ): Promise<Float64Array[]> {
    return (
      await this.run(
        centre,
        deltas.map((delta) => ({ direction, delta })),
        true,
        false,
      )
    ).losses;
  }

  /** Both losses and slopes at each δ along `direction`, in one pass. */
  async profile(centre: Vec, direction: Vec, deltas: readonly number[]): Promise<EnsembleValues> {
    return this.run(
      centre,
      deltas.map((delta) => ({ direction, delta })),
      true,
      true,
    );
  }

  /** Losses and slopes at arbitrary (direction, δ) points, e.g. δ = 0 along many PCA modes. */
  async evaluate(centre: Vec, points: readonly ProfilePoint[]): Promise<EnsembleValues> {
    return this.run(centre, points, true, true);
  }

  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    this.h1.dispose();
    this.oneHot.dispose();
    this.labelMask.dispose();
    this.w3.dispose();
  }

  private async run(
    centre: Vec,
    points: readonly ProfilePoint[],
    wantLoss: boolean,
    wantSlope: boolean,
  ): Promise<EnsembleValues> {
    if (this.disposed) throw new Error('MinibatchSlopes: used after dispose');
    const hh = this.hidden * this.hidden;
    if (centre.length !== hh)
      throw new Error(`MinibatchSlopes: centre has ${centre.length} entries, expected ${hh}`);
    const out: EnsembleValues = { losses: [], slopes: [] };
    for (let g0 = 0; g0 < points.length; g0 += this.maxGroup) {
      const group = points.slice(g0, g0 + this.maxGroup);
      const { losses, slopes } = await this.group(centre, group, wantLoss, wantSlope);
      out.losses.push(...losses);
      out.slopes.push(...slopes);
    }
    return out;
  }

  private async group(
    centre: Vec,
    group: readonly ProfilePoint[],
    wantLoss: boolean,
    wantSlope: boolean,
  ): Promise<EnsembleValues> {
    const h = this.hidden;
    const hh = h * h;
    const P = group.length;
    const C = this.classes;
    const B = this.batchSize;
    const K = this.minibatches;
    // Distinct directions (by identity) and distinct weight matrices W = centre + δ·p (every
    // δ = 0 point shares W = centre: T at δ = 0 along many modes needs a single forward pass).
    const dirs: Vec[] = [];
    const whichD = new Int32Array(P);
    const mats: { d: Vec | null; delta: number }[] = [];
    const whichW = new Int32Array(P);
    for (let k = 0; k < P; k++) {
      const { direction: d, delta } = group[k];
      if (d.length !== hh)
        throw new Error(`MinibatchSlopes: direction has ${d.length} entries, expected ${hh}`);
      let u = dirs.indexOf(d);
      if (u < 0) u = dirs.push(d) - 1;
      whichD[k] = u;
      const key = delta === 0 ? null : d;
      let v = mats.findIndex((x) => x.d === key && x.delta === delta);
      if (v < 0) v = mats.push({ d: key, delta }) - 1;
      whichW[k] = v;
    }
    const U = dirs.length;
    const V = mats.length;
    const wAll = new Float32Array(h * V * h);
    for (let v = 0; v < V; v++) {
      const { d, delta } = mats[v];
      for (let i = 0; i < h; i++) {
        const dst = i * V * h + v * h;
        const src = i * h;
        if (d === null) for (let j = 0; j < h; j++) wAll[dst + j] = centre[src + j];
        else for (let j = 0; j < h; j++) wAll[dst + j] = centre[src + j] + delta * d[src + j];
      }
    }
    const dAll = new Float32Array(h * U * h);
    for (let u = 0; u < U; u++) {
      const d = dirs[u];
      for (let i = 0; i < h; i++)
        for (let j = 0; j < h; j++) dAll[i * U * h + u * h + j] = d[i * h + j];
    }
    const isIdentity = (w: Int32Array, n: number) => n === P && w.every((u, k) => u === k);
    const perMb = B * Math.max(V, wantSlope ? P : 0) * h;
    const mbPerChunk = Math.max(1, Math.min(K, Math.floor(this.budgetElems / perMb)));
    const result = tf.tidy(() => {
      const w = tf.tensor2d(wAll, [h, V * h]);
      const dw = wantSlope ? tf.tensor2d(dAll, [h, U * h]) : null;
      // Spread a per-matrix (axis 1 of size V) or per-direction (size U) tensor over the P
      // points: broadcast when there is one, as is when already in point order, else gather.
      const spreader = (which: Int32Array, n: number) => {
        if (n === 1 || isIdentity(which, n)) return (t: tf.Tensor3D) => t;
        const idx = tf.tensor1d(which, 'int32');
        return (t: tf.Tensor3D) => tf.gather(t, idx, 1) as tf.Tensor3D;
      };
      const spreadW = spreader(whichW, V);
      const spreadD = spreader(whichD, U);
      const lossParts: tf.Tensor2D[] = [];
      const slopeParts: tf.Tensor2D[] = [];
      for (let m0 = 0; m0 < K; m0 += mbPerChunk) {
        const m = Math.min(mbPerChunk, K - m0);
        const n = m * B;
        const s = m0 * B;
        const [lp, sp] = tf.tidy(() => {
          const whole = n === K * B;
          const h1 = whole ? this.h1 : this.h1.slice([s, 0], [n, h]);
          const oh = whole ? this.oneHot : this.oneHot.slice([s, 0, 0], [n, 1, C]);
          const Z = tf.matMul(h1, w).reshape([n, V, h]);
          const z = tf.matMul(tf.relu(Z).reshape([n * V, h]), this.w3).reshape([n, V, C]);
          const res: tf.Tensor2D[] = [];
          if (wantLoss) {
            const mask = whole ? this.labelMask : this.labelMask.slice([s, 0, 0], [n, 1, C]);
            const ce = stableCrossEntropy(z, oh, mask); // n × V
            res.push(tf.mean(ce.reshape([m, B, V]), 1) as tf.Tensor2D);
          } else res.push(tf.zeros([m, V]));
          if (dw) {
            const dZ = spreadD(tf.matMul(h1, dw).reshape([n, U, h]));
            const dH2 = tf.mul(spreadW(tf.step(Z) as tf.Tensor3D), dZ);
            const X = dH2.shape[1] ?? P;
            const dz = tf.matMul(dH2.reshape([n * X, h]), this.w3).reshape([n, X, C]);
            const p = spreadW(tf.exp(tf.sub(z, tf.logSumExp(z, -1, true))) as tf.Tensor3D);
            const dzy = tf.sum(tf.mul(dz, oh), -1, true);
            const sl = tf.sum(tf.mul(p, tf.sub(dz, dzy)), -1); // n × (P, or 1 if all points coincide)
            const mean = tf.mean(sl.reshape([m, B, sl.shape[1] ?? 1]), 1);
            res.push((sl.shape[1] === P ? mean : tf.broadcastTo(mean, [m, P])) as tf.Tensor2D);
          } else res.push(tf.zeros([m, P]));
          return res;
        });
        lossParts.push(lp);
        slopeParts.push(sp);
      }
      const cat = (xs: tf.Tensor2D[]) => (xs.length === 1 ? xs[0] : tf.concat(xs, 0));
      return tf.concat([cat(lossParts), cat(slopeParts)], 1) as tf.Tensor2D; // K × (V + P)
    });
    let data: Float32Array;
    try {
      data = (await result.data()) as Float32Array;
    } finally {
      result.dispose();
    }
    const row = V + P;
    const losses: Float64Array[] = [];
    const slopes: Float64Array[] = [];
    for (let k = 0; k < P; k++) {
      if (wantLoss) {
        const l = new Float64Array(K);
        for (let mu = 0; mu < K; mu++) l[mu] = data[mu * row + whichW[k]];
        losses.push(l);
      }
      if (wantSlope) {
        const sl = new Float64Array(K);
        for (let mu = 0; mu < K; mu++) sl[mu] = data[mu * row + V + k];
        slopes.push(sl);
      }
    }
    return { losses, slopes };
  }
}

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
