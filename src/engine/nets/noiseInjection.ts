/**
 * Noise for gradient descent on W2 (SI §S9, issue 17), and the SGD noise power it is matched to.
 *
 * SGD's noise on W2 at weights w is η = −α(g^μ − g): the minibatch gradient's deviation from the
 * full-batch gradient g. Its mean power per step, P(w) = α²·E_μ‖g^μ − g‖², is computed EXACTLY
 * here rather than by sampling minibatches: with per-example W2 gradients g_n = h1_n ⊗ δ2_n
 * (first hidden layer output ⊗ back-propagated error at the second), and
 *   V = (1/N) Σ_n ‖g_n − g‖² = (1/N) Σ_n ‖h1_n‖²‖δ2_n‖² − ‖g‖²,
 * a minibatch of B drawn with replacement has E‖g^μ − g‖² = V/B; one drawn without replacement
 * (an epoch's permutation block is marginally a uniform B-subset) has V/B · (N − B)/(N − 1).
 *
 * The injected noises (per GD step, on the d = h² weights of W2):
 *  - isotropic (Langevin): ξ ~ N(0, s²·I), s² = P/d, so E‖ξ‖² = P. In the convention
 *    w ← w − α∇L + √(2αT)·ξ̂ this is temperature T = P/(2αd);
 *  - along modes: ξ = Σ_i √D_i·z_i·p_i with orthonormal p_i, z_i ~ N(0, 1), covariance
 *    Σ_i D_i p_i p_iᵀ, so E‖ξ‖² = Σ_i D_i = P when the strengths are normalised to P.
 */
import type { DataSplit } from '../data/dataset';
import type { SamplingMode } from '../data/batches';
import { imagesToFloat32 } from '../data/batches';
import type { Rng } from '../data/rng';
import { CLASSES, inputSizeOf, matmul, type MlpWeights } from './mlp';

export interface SgdNoisePower {
  /** α²·E‖g^μ − g‖² over W2: SGD's mean noise power per step at these weights. */
  power: number;
  /** V = (1/N) Σ‖g_n − g‖²: the per-example gradient variance over W2 (summed over weights). */
  perExampleVariance: number;
  /** ‖g‖² of the full-batch W2 gradient (the drift SGD's noise rides on). */
  gradientNormSq: number;
}

/** Samples per forward chunk: bounds the memory of the per-example pass (~chunk·(784 + 3h) floats). */
const CHUNK = 500;

/**
 * SGD's exact mean noise power on W2 at `w` for minibatches of B drawn as `sampling` says, from
 * the first `count` examples of `split` (all by default).
 */
export function sgdNoisePower(
  w: MlpWeights,
  split: DataSplit,
  batchSize: number,
  lr: number,
  sampling: SamplingMode,
  count = split.count,
): SgdNoisePower {
  const N = Math.min(count, split.count);
  if (!(N >= 1)) throw new Error('sgdNoisePower: no samples');
  if (!Number.isInteger(batchSize) || batchSize < 1 || batchSize > N)
    throw new Error(`sgdNoisePower: batch size must be an integer in 1..${N}, got ${batchSize}`);
  const h = w.hidden;
  const P = inputSizeOf(w);
  const G = new Float64Array(h * h);
  let sumNormProducts = 0;
  const n0 = Math.min(CHUNK, N);
  const x = new Float32Array(n0 * P);
  const h1 = new Float32Array(n0 * h);
  const h2 = new Float32Array(n0 * h);
  const z = new Float32Array(n0 * CLASSES);
  const d2 = new Float64Array(h);
  const d3 = new Float64Array(CLASSES);
  for (let from = 0; from < N; from += CHUNK) {
    const m = Math.min(CHUNK, N - from);
    imagesToFloat32(split.images.subarray(from * P, (from + m) * P), x);
    matmul(x, w.W1, m, P, h, h1);
    for (let i = 0; i < m * h; i++) if (h1[i] < 0) h1[i] = 0;
    matmul(h1, w.W2, m, h, h, h2);
    for (let i = 0; i < m * h; i++) if (h2[i] < 0) h2[i] = 0;
    matmul(h2, w.W3, m, h, CLASSES, z);
    for (let s = 0; s < m; s++) {
      // δ3 = softmax(z) − onehot(y); δ2 = (W3·δ3) ⊙ 1[h2 > 0].
      let max = -Infinity;
      for (let c = 0; c < CLASSES; c++) max = Math.max(max, z[s * CLASSES + c]);
      let sum = 0;
      for (let c = 0; c < CLASSES; c++) sum += d3[c] = Math.exp(z[s * CLASSES + c] - max);
      for (let c = 0; c < CLASSES; c++) d3[c] /= sum;
      d3[split.labels[from + s]] -= 1;
      let d2sq = 0;
      for (let j = 0; j < h; j++) {
        let v = 0;
        if (h2[s * h + j] > 0) for (let c = 0; c < CLASSES; c++) v += w.W3[j * CLASSES + c] * d3[c];
        d2[j] = v;
        d2sq += v * v;
      }
      let h1sq = 0;
      for (let i = 0; i < h; i++) {
        const a = h1[s * h + i];
        h1sq += a * a;
        if (a === 0) continue;
        for (let j = 0; j < h; j++) G[i * h + j] += a * d2[j];
      }
      sumNormProducts += h1sq * d2sq;
    }
  }
  let gSq = 0;
  for (let i = 0; i < G.length; i++) {
    G[i] /= N;
    gSq += G[i] * G[i];
  }
  const V = Math.max(0, sumNormProducts / N - gSq);
  const finite = sampling === 'epoch' && N > 1 ? (N - batchSize) / (N - 1) : 1;
  return { power: (lr * lr * V * finite) / batchSize, perExampleVariance: V, gradientNormSq: gSq };
}

/** Isotropic Gaussian noise of total mean power `power` over `dim` weights. */
export class IsotropicNoise {
  readonly dim: number;
  readonly power: number;
  private readonly scale: number;
  constructor(dim: number, power: number) {
    if (!(dim >= 1) || !(power >= 0) || !Number.isFinite(power))
      throw new Error(`IsotropicNoise: need dim ≥ 1 and a finite power ≥ 0 (got ${dim}, ${power})`);
    this.dim = dim;
    this.power = power;
    this.scale = Math.sqrt(power / dim);
  }
  /** Langevin temperature of this noise at step size α: T = P/(2αd). */
  temperature(lr: number): number {
    return this.power / (2 * lr * this.dim);
  }
  /** Adds one draw to `w` (length dim). */
  addTo(w: Float32Array | Float64Array, rng: Rng): void {
    for (let i = 0; i < this.dim; i++) w[i] += this.scale * rng.normal();
  }
}

/**
 * Gaussian noise along k orthonormal directions (rows of `modes`, k × dim) with variances
 * `strengths`: covariance Σ_i D_i p_i p_iᵀ, total power Σ_i D_i.
 */
export class ModeNoise {
  readonly dim: number;
  readonly modes: Float64Array;
  readonly strengths: Float64Array;
  constructor(modes: Float64Array, dim: number, strengths: ArrayLike<number>) {
    const k = strengths.length;
    if (modes.length !== k * dim)
      throw new Error(`ModeNoise: ${modes.length} mode entries for ${k} modes of dimension ${dim}`);
    for (let i = 0; i < k; i++)
      if (!(strengths[i] >= 0) || !Number.isFinite(strengths[i]))
        throw new Error(`ModeNoise: strength ${i} is ${strengths[i]}, need a finite value ≥ 0`);
    this.dim = dim;
    this.modes = modes;
    this.strengths = Float64Array.from(strengths);
  }
  get power(): number {
    let s = 0;
    for (const d of this.strengths) s += d;
    return s;
  }
  addTo(w: Float32Array | Float64Array, rng: Rng): void {
    const d = this.dim;
    for (let i = 0; i < this.strengths.length; i++) {
      const a = Math.sqrt(this.strengths[i]) * rng.normal();
      if (a === 0) continue;
      const off = i * d;
      for (let j = 0; j < d; j++) w[j] += a * this.modes[off + j];
    }
  }
}

/**
 * Flatness-detecting strengths: D_i ∝ F_i^(−β₁), scaled so that Σ D_i = `power`. A mode whose
 * flatness is unbounded (F = ∞: the loss never reaches the threshold) or unmeasured (NaN) gets
 * no noise; if none is usable the result is null and the caller must choose another noise.
 */
export function flatnessStrengths(
  flatness: ArrayLike<number>,
  beta1: number,
  power: number,
): Float64Array | null {
  if (!Number.isFinite(beta1)) throw new Error(`flatnessStrengths: β₁ is ${beta1}`);
  const raw = new Float64Array(flatness.length);
  let sum = 0;
  for (let i = 0; i < flatness.length; i++) {
    const F = flatness[i];
    raw[i] = F > 0 && Number.isFinite(F) ? F ** -beta1 : 0;
    sum += raw[i];
  }
  if (!(sum > 0) || !Number.isFinite(sum)) return null;
  for (let i = 0; i < raw.length; i++) raw[i] *= power / sum;
  return raw;
}
