/**
 * Diagonal Fisher information of task 1 with respect to W2, for EWC.
 *
 * Fisher_j = mean over the task-1 samples s of (∂ log p(y_s | x_s) / ∂w_j)², the empirical
 * Fisher with the true labels (the form most EWC implementations use). With W1 and W3 frozen and
 * H1_s = relu(x_s·W1) the first hidden layer, the per-sample gradient with respect to W2 is the
 * outer product H1_sᵀ·δ2_s, where
 *      z = relu(H1_s·W2)·W3,  g = softmax(z) − onehot(y_s),  δ2_s = (W3·g) ∘ [H1_s·W2 > 0],
 * so the mean of its square is exact and cheap without forming any per-sample gradient:
 *      Fisher[a·h + b] = mean_s H1_s,a² · δ2_s,b²  = (1/N) · ((H1∘H1)ᵀ · (Δ2∘Δ2))[a, b].
 * Everything here runs in float64.
 */
import { CLASSES } from '../nets/mlp';

export interface FisherInputs {
  /** N × h first-hidden-layer activations relu(X·W1), row-major. */
  h1: ArrayLike<number>;
  labels: ArrayLike<number>;
  /** Number of samples N. */
  count: number;
  hidden: number;
  /** h × h, row-major. */
  w2: ArrayLike<number>;
  /** h × classes, row-major. */
  w3: ArrayLike<number>;
  classes?: number;
}

/** δ2_s (length h) of one sample: the gradient of −log p(y|x) w.r.t. the pre-activation H1_s·W2. */
export function sampleDelta2(
  h1Row: ArrayLike<number>,
  label: number,
  w2: ArrayLike<number>,
  w3: ArrayLike<number>,
  hidden: number,
  classes: number,
  out: Float64Array,
): void {
  const h = hidden;
  const a2 = new Float64Array(h);
  for (let a = 0; a < h; a++) {
    const x = h1Row[a];
    if (x === 0) continue;
    const o = a * h;
    for (let b = 0; b < h; b++) a2[b] += x * w2[o + b];
  }
  const z = new Float64Array(classes);
  for (let b = 0; b < h; b++) {
    const v = a2[b];
    if (v <= 0) continue;
    const o = b * classes;
    for (let c = 0; c < classes; c++) z[c] += v * w3[o + c];
  }
  let max = -Infinity;
  for (let c = 0; c < classes; c++) if (z[c] > max) max = z[c];
  let sum = 0;
  for (let c = 0; c < classes; c++) {
    z[c] = Math.exp(z[c] - max);
    sum += z[c];
  }
  for (let c = 0; c < classes; c++) z[c] = z[c] / sum - (c === label ? 1 : 0);
  for (let b = 0; b < h; b++) {
    if (a2[b] <= 0) {
      out[b] = 0;
      continue;
    }
    const o = b * classes;
    let s = 0;
    for (let c = 0; c < classes; c++) s += w3[o + c] * z[c];
    out[b] = s;
  }
}

/** The diagonal Fisher of W2 (length h², row-major like W2). */
export function fisherDiagonal(inp: FisherInputs): Float64Array {
  const h = inp.hidden;
  const C = inp.classes ?? CLASSES;
  const N = inp.count;
  if (!(N > 0)) throw new Error('fisherDiagonal: no samples');
  if (inp.h1.length < N * h)
    throw new Error(`fisherDiagonal: H1 holds ${inp.h1.length} values, need ${N}×${h}`);
  if (inp.w2.length !== h * h || inp.w3.length !== h * C)
    throw new Error('fisherDiagonal: weight shapes do not match the hidden width');
  const F = new Float64Array(h * h);
  const d2 = new Float64Array(h);
  const row = new Float64Array(h);
  for (let s = 0; s < N; s++) {
    for (let a = 0; a < h; a++) row[a] = inp.h1[s * h + a];
    sampleDelta2(row, inp.labels[s], inp.w2, inp.w3, h, C, d2);
    for (let b = 0; b < h; b++) d2[b] *= d2[b];
    for (let a = 0; a < h; a++) {
      const x2 = row[a] * row[a];
      if (x2 === 0) continue;
      const o = a * h;
      for (let b = 0; b < h; b++) F[o + b] += x2 * d2[b];
    }
  }
  for (let j = 0; j < F.length; j++) F[j] /= N;
  return F;
}

/** Summary numbers of a Fisher diagonal (for reports). */
export function fisherStats(F: ArrayLike<number>): { mean: number; max: number; zeros: number } {
  let sum = 0;
  let max = 0;
  let zeros = 0;
  for (let j = 0; j < F.length; j++) {
    sum += F[j];
    if (F[j] > max) max = F[j];
    if (F[j] === 0) zeros++;
  }
  return { mean: sum / F.length, max, zeros };
}
