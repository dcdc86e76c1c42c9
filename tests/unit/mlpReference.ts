// Float64 references shared by the step tests: the mean cross-entropy of the paper's MLP and
// its central finite-difference gradient.
import type { MlpWeights } from '../../src/engine/nets/mlp';
import type { UploadBatch } from '../../src/engine/nets/tfMlp';

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
