/**
 * The fused step in float64, plainly: the known answer the WGSL trainer is tested against
 * (same pixels through PIXEL_LUT, mean cross-entropy over the batch, w ← w − α·∇L).
 */
import { PIXEL_LUT } from '../../data/batches';
import type { DataSplit } from '../../data/dataset';
import { CLASSES, type MlpWeights } from '../mlp';

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
  for (let j = 0; j < h; j++)
    for (let c = 0; c < C; c++) {
      let g = 0;
      for (let b = 0; b < B; b++) g += h2[b * h + j] * d3[b * C + c];
      w.W3[j * C + c] -= lr * g;
    }
  for (let k = 0; k < h; k++)
    for (let j = 0; j < h; j++) {
      let g = 0;
      for (let b = 0; b < B; b++) g += h1[b * h + k] * d2[b * h + j];
      w.W2[k * h + j] -= lr * g;
    }
  for (let p = 0; p < IN; p++)
    for (let j = 0; j < h; j++) {
      let g = 0;
      for (let b = 0; b < B; b++) g += x[b * IN + p] * d1[b * h + j];
      w.W1[p * h + j] -= lr * g;
    }
  return { loss: loss / B, errors };
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
