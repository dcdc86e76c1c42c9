/**
 * The fused step in float64, plainly: the known answer the WGSL trainer is tested against
 * (same pixels through PIXEL_LUT, mean cross-entropy over the batch, then the optimizer's update
 * as tfMlp.ts defines it: w ← w − α·g; momentum v ← μv + g, w ← w − α·v; Adam with bias
 * correction).
 */
import { PIXEL_LUT } from '../../data/batches';
import type { DataSplit } from '../../data/dataset';
import { CLASSES, type MlpWeights } from '../mlp';
import type { OptimizerSettings } from '../netTypes';

export interface WeightsF64 {
  hidden: number;
  W1: Float64Array;
  W2: Float64Array;
  W3: Float64Array;
}

export function toF64(w: MlpWeights): WeightsF64 {
  return {
    hidden: w.hidden,
    W1: Float64Array.from(w.W1),
    W2: Float64Array.from(w.W2),
    W3: Float64Array.from(w.W3),
  };
}

/** One SGD step on the samples `idx[0..B)`; returns the batch's mean loss and error count. */
export function referenceSgdStep(
  w: WeightsF64,
  train: DataSplit,
  idx: ArrayLike<number>,
  B: number,
  lr: number,
): { loss: number; errors: number } {
  const r = referenceGradient(w, train, idx, B);
  for (const k of ['W1', 'W2', 'W3'] as const) {
    const W = w[k];
    const g = r.grads[k];
    for (let i = 0; i < W.length; i++) W[i] -= lr * g[i];
  }
  return { loss: r.loss, errors: r.errors };
}

/** Momentum's velocities or Adam's moments (m, then s) in float64, and Adam's step count. */
export interface OptimizerStateF64 {
  moments: WeightsF64[];
  t: number;
}

/** The zero state `o` starts from (no moments for SGD). */
export function zeroOptimizerState(o: OptimizerSettings, w: WeightsF64): OptimizerStateF64 {
  const n = o.kind === 'adam' ? 2 : o.kind === 'momentum' ? 1 : 0;
  const zero = (): WeightsF64 => ({
    hidden: w.hidden,
    W1: new Float64Array(w.W1.length),
    W2: new Float64Array(w.W2.length),
    W3: new Float64Array(w.W3.length),
  });
  return { moments: Array.from({ length: n }, zero), t: 0 };
}

/** One step of optimizer `o` from state `st` (updated in place), as applyOptimizerUpdate. */
export function referenceStep(
  w: WeightsF64,
  train: DataSplit,
  idx: ArrayLike<number>,
  B: number,
  lr: number,
  o: OptimizerSettings,
  st: OptimizerStateF64,
): { loss: number; errors: number } {
  if (o.kind === 'sgd') return referenceSgdStep(w, train, idx, B, lr);
  const r = referenceGradient(w, train, idx, B);
  const t = st.t + 1;
  for (const k of ['W1', 'W2', 'W3'] as const) {
    const W = w[k];
    const g = r.grads[k];
    if (o.kind === 'momentum') {
      const v = st.moments[0][k];
      for (let i = 0; i < W.length; i++) {
        v[i] = o.momentum * v[i] + g[i];
        W[i] -= lr * v[i];
      }
    } else {
      const m = st.moments[0][k];
      const s = st.moments[1][k];
      for (let i = 0; i < W.length; i++) {
        m[i] = o.beta1 * m[i] + (1 - o.beta1) * g[i];
        s[i] = o.beta2 * s[i] + (1 - o.beta2) * g[i] * g[i];
        const mHat = m[i] / (1 - o.beta1 ** t);
        const sHat = s[i] / (1 - o.beta2 ** t);
        W[i] -= (lr * mHat) / (Math.sqrt(sHat) + o.epsilon);
      }
    }
  }
  if (o.kind === 'adam') st.t = t;
  return { loss: r.loss, errors: r.errors };
}

/** The batch's mean loss, errors and the mean-loss gradients of W1, W2, W3 at `w`. */
function referenceGradient(
  w: WeightsF64,
  train: DataSplit,
  idx: ArrayLike<number>,
  B: number,
): { loss: number; errors: number; grads: Record<'W1' | 'W2' | 'W3', Float64Array> } {
  const h = w.hidden;
  const IN = w.W1.length / h;
  const C = CLASSES;
  const x = new Float64Array(B * IN);
  for (let b = 0; b < B; b++)
    for (let p = 0; p < IN; p++) x[b * IN + p] = PIXEL_LUT[train.images[idx[b] * IN + p]];
  const h1 = new Float64Array(B * h);
  const h2 = new Float64Array(B * h);
  const z = new Float64Array(B * C);
  for (let b = 0; b < B; b++) {
    for (let j = 0; j < h; j++) {
      let a = 0;
      for (let p = 0; p < IN; p++) a += x[b * IN + p] * w.W1[p * h + j];
      h1[b * h + j] = Math.max(a, 0);
    }
    for (let j = 0; j < h; j++) {
      let a = 0;
      for (let k = 0; k < h; k++) a += h1[b * h + k] * w.W2[k * h + j];
      h2[b * h + j] = Math.max(a, 0);
    }
    for (let c = 0; c < C; c++) {
      let a = 0;
      for (let k = 0; k < h; k++) a += h2[b * h + k] * w.W3[k * C + c];
      z[b * C + c] = a;
    }
  }
  let loss = 0;
  let errors = 0;
  const d3 = new Float64Array(B * C);
  for (let b = 0; b < B; b++) {
    const o = b * C;
    let mx = z[o];
    let arg = 0;
    for (let c = 1; c < C; c++)
      if (z[o + c] > mx) {
        mx = z[o + c];
        arg = c;
      }
    let sum = 0;
    for (let c = 0; c < C; c++) sum += Math.exp(z[o + c] - mx);
    const y = train.labels[idx[b]];
    loss += Math.log(sum) + mx - z[o + y];
    if (arg !== y) errors++;
    for (let c = 0; c < C; c++) d3[o + c] = (Math.exp(z[o + c] - mx) / sum - (c === y ? 1 : 0)) / B;
  }
  const d2 = new Float64Array(B * h);
  const d1 = new Float64Array(B * h);
  for (let b = 0; b < B; b++)
    for (let j = 0; j < h; j++) {
      let a = 0;
      for (let c = 0; c < C; c++) a += d3[b * C + c] * w.W3[j * C + c];
      d2[b * h + j] = h2[b * h + j] > 0 ? a : 0;
    }
  for (let b = 0; b < B; b++)
    for (let k = 0; k < h; k++) {
      let a = 0;
      for (let j = 0; j < h; j++) a += d2[b * h + j] * w.W2[k * h + j];
      d1[b * h + k] = h1[b * h + k] > 0 ? a : 0;
    }
  const g3 = new Float64Array(h * C);
  const g2 = new Float64Array(h * h);
  const g1 = new Float64Array(IN * h);
  for (let j = 0; j < h; j++)
    for (let c = 0; c < C; c++) {
      let g = 0;
      for (let b = 0; b < B; b++) g += h2[b * h + j] * d3[b * C + c];
      g3[j * C + c] = g;
    }
  for (let k = 0; k < h; k++)
    for (let j = 0; j < h; j++) {
      let g = 0;
      for (let b = 0; b < B; b++) g += h1[b * h + k] * d2[b * h + j];
      g2[k * h + j] = g;
    }
  for (let p = 0; p < IN; p++)
    for (let j = 0; j < h; j++) {
      let g = 0;
      for (let b = 0; b < B; b++) g += x[b * IN + p] * d1[b * h + j];
      g1[p * h + j] = g;
    }
  return { loss: loss / B, errors, grads: { W1: g1, W2: g2, W3: g3 } };
}

/** max |a − b| / max |b|: a relative error that small weights near zero cannot inflate. */
export function relativeMaxError(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let d = 0;
  let m = 0;
  for (let i = 0; i < b.length; i++) {
    d = Math.max(d, Math.abs(a[i] - b[i]));
    m = Math.max(m, Math.abs(b[i]));
  }
  return m > 0 ? d / m : d;
}
