// Float64 references shared by the step tests: the mean cross-entropy of the paper's MLP, its
// central finite-difference gradient, and optimizer steps with the update rules of tfMlp.ts.
import type { MlpWeights } from '../../src/engine/nets/mlp';
import type { OptimizerSettings, UploadBatch } from '../../src/engine/nets/netTypes';

/** Mean cross-entropy in float64 — the independent reference for finite differences. */
export function loss64(
  w: { W1: Float64Array; W2: Float64Array; W3: Float64Array },
  n: number,
  h: number,
  b: UploadBatch,
): number {
  let total = 0;
  for (let s = 0; s < b.size; s++) {
    const a1 = new Float64Array(h);
    for (let j = 0; j < h; j++) {
      let v = 0;
      for (let i = 0; i < n; i++) v += b.x[s * n + i] * w.W1[i * h + j];
      a1[j] = Math.max(0, v);
    }
    const a2 = new Float64Array(h);
    for (let j = 0; j < h; j++) {
      let v = 0;
      for (let i = 0; i < h; i++) v += a1[i] * w.W2[i * h + j];
      a2[j] = Math.max(0, v);
    }
    const z = new Float64Array(10);
    for (let c = 0; c < 10; c++) for (let i = 0; i < h; i++) z[c] += a2[i] * w.W3[i * 10 + c];
    const m = Math.max(...z);
    const lse = Math.log(z.reduce((acc, v) => acc + Math.exp(v - m), 0)) + m;
    total += lse - z[b.labels[s]];
  }
  return total / b.size;
}

/** Central finite differences of loss64 for every weight. */
export function fdGradient(w: MlpWeights, n: number, b: UploadBatch): Float64Array[] {
  const h = w.hidden;
  const w64 = {
    W1: Float64Array.from(w.W1),
    W2: Float64Array.from(w.W2),
    W3: Float64Array.from(w.W3),
  };
  const eps = 1e-6;
  return (['W1', 'W2', 'W3'] as const).map((k) => {
    const arr = w64[k];
    const g = new Float64Array(arr.length);
    for (let i = 0; i < arr.length; i++) {
      const v = arr[i];
      arr[i] = v + eps;
      const up = loss64(w64, n, h, b);
      arr[i] = v - eps;
      const down = loss64(w64, n, h, b);
      arr[i] = v;
      g[i] = (up - down) / (2 * eps);
    }
    return g;
  });
}

export function relError(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let num = 0;
  let den = 0;
  for (let i = 0; i < a.length; i++) {
    num += (a[i] - b[i]) ** 2;
    den += b[i] ** 2;
  }
  return Math.sqrt(num / den);
}

/**
 * `steps` optimizer steps in float64 from w0, with the update rules of tfMlp.ts
 * (applyOptimizerUpdate): SGD, heavy-ball momentum, or bias-corrected Adam. `grad` gives the
 * mean-loss gradient of every parameter at w.
 */
export function optimizerSteps64(
  w0: readonly ArrayLike<number>[],
  grad: (w: Float64Array[]) => Float64Array[],
  lr: number,
  o: OptimizerSettings,
  steps: number,
): Float64Array[] {
  const w = w0.map((a) => Float64Array.from(a));
  const s1 = w.map((a) => new Float64Array(a.length));
  const s2 = w.map((a) => new Float64Array(a.length));
  for (let t = 1; t <= steps; t++) {
    const g = grad(w);
    for (let l = 0; l < w.length; l++) {
      for (let i = 0; i < w[l].length; i++) {
        if (o.kind === 'sgd') w[l][i] -= lr * g[l][i];
        else if (o.kind === 'momentum') {
          s1[l][i] = o.momentum * s1[l][i] + g[l][i];
          w[l][i] -= lr * s1[l][i];
        } else {
          s1[l][i] = o.beta1 * s1[l][i] + (1 - o.beta1) * g[l][i];
          s2[l][i] = o.beta2 * s2[l][i] + (1 - o.beta2) * g[l][i] ** 2;
          const mHat = s1[l][i] / (1 - o.beta1 ** t);
          const sHat = s2[l][i] / (1 - o.beta2 ** t);
          w[l][i] -= (lr * mHat) / (Math.sqrt(sHat) + o.epsilon);
        }
      }
    }
  }
  return w;
}

/** ‖(a − w0) − (b − w0)‖ / ‖b − w0‖: the error of the total update. */
export function updateError(
  a: ArrayLike<number>,
  b: ArrayLike<number>,
  w0: ArrayLike<number>,
): number {
  let num = 0;
  let den = 0;
  for (let i = 0; i < a.length; i++) {
    num += (a[i] - b[i]) ** 2;
    den += (b[i] - w0[i]) ** 2;
  }
  return Math.sqrt(num / den);
}
