/**
 * The top of a symmetric operator's spectrum by Lanczos iteration with full
 * reorthogonalisation (each new vector is Gram–Schmidt-ed against every earlier one, twice), so
 * that no spurious copies of converged eigenvalues appear — the loss of orthogonality of plain
 * Lanczos. m iterations cost m operator applications plus O(m²·dim) arithmetic and keep m basis
 * vectors (m·dim doubles: 50 × 2,500 = 1 MB for W2).
 *
 * The Ritz values of the m×m tridiagonal matrix T approximate the extreme eigenvalues; the
 * residual ‖A·y − θ·y‖ of a Ritz pair (θ, y) is |β_m·s_m|, s_m the last component of T's
 * eigenvector, so convergence is known without further products.
 */
import { Rng } from '../data/rng';
import { eigenWorkspace, symmetricEigen } from '../pca/eigen';
import type { SymmetricOperator } from './hessian';

export interface LanczosOptions {
  /** Iterations m (≤ dim; default 30). */
  iterations?: number;
  /** Ritz vectors wanted, for the largest Ritz values (default 0). */
  vectors?: number;
  /** Seed of the random start vector. */
  seed?: number;
  /** Called after each iteration; may throw to cancel. */
  onProgress?: (done: number, total: number) => void;
}

export interface LanczosResult {
  /** All m Ritz values, descending. */
  values: Float64Array;
  /** Residual norm ‖Ay − θy‖ of each Ritz pair (same order). */
  residuals: Float64Array;
  /** k × dim row-major unit Ritz vectors for values[0 … k−1]. */
  vectors: Float64Array;
  iterations: number;
  /** True when the Krylov space became invariant before m iterations (exact then). */
  invariant: boolean;
}

/**
 * Bytes a `lanczos` run holds at its peak, for the memory policy: the m basis vectors Q, the
 * start vector and the residual w, the k Ritz vectors (each `dim` doubles), and the m-sized
 * tridiagonal problem (α, β, the residuals, T, the eigensolver's copy of T, its workspace and
 * results: eigen.ts with JS kernels).
 */
export function lanczosBytes(dim: number, iterations: number, vectors: number): number {
  const m = Math.min(iterations, dim);
  const k = Math.min(vectors, m);
  return 8 * ((m + 2 + k) * dim + 4 * m + 3 * m * m + eigenWorkspace(m, m));
}

function dot(a: Float64Array, b: Float64Array, bOff = 0): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i] * b[bOff + i];
  return s;
}

export function lanczos(op: SymmetricOperator, opts: LanczosOptions = {}): LanczosResult {
  const n = op.dim;
  const m = Math.min(opts.iterations ?? 30, n);
  if (!(Number.isInteger(m) && m >= 1)) throw new Error(`lanczos: iterations must be ≥ 1`);
  const k = Math.min(opts.vectors ?? 0, m);
  const Q = new Float64Array(m * n);
  const alpha = new Float64Array(m);
  const beta = new Float64Array(m);
  const rng = new Rng(opts.seed ?? 1);
  const q = new Float64Array(n);
  for (let i = 0; i < n; i++) q[i] = rng.normal();
  let nq = Math.sqrt(dot(q, q));
  for (let i = 0; i < n; i++) Q[i] = q[i] / nq;
  const w = new Float64Array(n);
  let steps = m;
  let invariant = false;
  for (let j = 0; j < m; j++) {
    const qj = Q.subarray(j * n, (j + 1) * n);
    op.apply(qj, w);
    alpha[j] = dot(qj, w);
    // Full reorthogonalisation against q_0 … q_j, twice ("twice is enough", Kahan–Parlett).
    for (let pass = 0; pass < 2; pass++) {
      for (let i = 0; i <= j; i++) {
        const c = dot(w, Q, i * n);
        const off = i * n;
        for (let t = 0; t < n; t++) w[t] -= c * Q[off + t];
      }
    }
    nq = Math.sqrt(dot(w, w));
    opts.onProgress?.(j + 1, m);
    if (j === m - 1) {
      beta[j] = nq;
      break;
    }
    // An invariant subspace: T's Ritz values are then exact eigenvalues.
    if (nq <= 1e-12 * Math.max(1, Math.abs(alpha[j]))) {
      steps = j + 1;
      invariant = true;
      beta[j] = 0;
      break;
    }
    beta[j] = nq;
    const next = Q.subarray((j + 1) * n, (j + 2) * n);
    for (let t = 0; t < n; t++) next[t] = w[t] / nq;
  }
  const T = new Float64Array(steps * steps);
  for (let i = 0; i < steps; i++) {
    T[i * steps + i] = alpha[i];
    if (i + 1 < steps) {
      T[i * steps + i + 1] = beta[i];
      T[(i + 1) * steps + i] = beta[i];
    }
  }
  const eig = symmetricEigen(T, steps, { vectors: steps, kernels: 'js' });
  const residuals = new Float64Array(steps);
  const bLast = beta[steps - 1];
  for (let r = 0; r < steps; r++)
    residuals[r] = Math.abs(bLast * eig.vectors[r * steps + steps - 1]);
  const kk = Math.min(k, steps);
  const vectors = new Float64Array(kk * n);
  for (let r = 0; r < kk; r++) {
    const y = vectors.subarray(r * n, (r + 1) * n);
    for (let i = 0; i < steps; i++) {
      const s = eig.vectors[r * steps + i];
      const off = i * n;
      for (let t = 0; t < n; t++) y[t] += s * Q[off + t];
    }
    const ny = Math.sqrt(dot(y, y));
    for (let t = 0; t < n; t++) y[t] /= ny;
  }
  return { values: eig.values, residuals, vectors, iterations: steps, invariant };
}
