/**
 * Synthetic inputs with exactly known answers, for the eigensolver and PCA tests and
 * benchmarks: symmetric matrices with a prescribed spectrum, and snapshot trajectories
 * whose sample covariance is prescribed.
 */

import { Rng } from '../data/rng';

/** r random unit vectors of length n (r × n row-major), Gaussian directions. */
export function randomUnitVectors(n: number, r: number, rng: Rng): Float64Array {
  const v = new Float64Array(r * n);
  for (let s = 0; s < r; s++) {
    let ss = 0;
    for (let j = 0; j < n; j++) {
      const x = rng.normal();
      v[s * n + j] = x;
      ss += x * x;
    }
    const inv = 1 / Math.sqrt(ss);
    for (let j = 0; j < n; j++) v[s * n + j] *= inv;
  }
  return v;
}

/**
 * k orthonormal rows of length n (k × n row-major): Gaussian draws, Gram–Schmidt twice so that
 * float64 rounding leaves them orthogonal to ~1e-16.
 */
export function orthonormalRows(rng: Rng, k: number, n: number): Float64Array {
  const Q = new Float64Array(k * n);
  for (let i = 0; i < k; i++) {
    const v = Float64Array.from({ length: n }, () => rng.normal());
    for (let pass = 0; pass < 2; pass++)
      for (let j = 0; j < i; j++) {
        let d = 0;
        for (let t = 0; t < n; t++) d += v[t] * Q[j * n + t];
        for (let t = 0; t < n; t++) v[t] -= d * Q[j * n + t];
      }
    const norm = Math.hypot(...v);
    for (let t = 0; t < n; t++) Q[i * n + t] = v[t] / norm;
  }
  return Q;
}

/**
 * A = Q diag(values) Qᵀ with Q = H_r ⋯ H_1 a product of r random Householder reflections
 * (default r = n, which mixes every coordinate). Returns A (n × n row-major, symmetric)
 * and the eigenvectors (n × n, row i = Q e_i, the eigenvector of values[i]). O(r n²).
 */
export function knownSpectrumMatrix(
  values: ArrayLike<number>,
  rng: Rng,
  reflections = values.length,
): { a: Float64Array; vectors: Float64Array } {
  const n = values.length;
  const a = new Float64Array(n * n);
  const q = new Float64Array(n * n);
  for (let i = 0; i < n; i++) {
    a[i * n + i] = values[i];
    q[i * n + i] = 1;
  }
  const refl = randomUnitVectors(n, reflections, rng);
  const p = new Float64Array(n);
  const w = new Float64Array(n);
  for (let s = 0; s < reflections; s++) {
    const v = refl.subarray(s * n, (s + 1) * n);
    // A ← H A H = A − v wᵀ − w vᵀ with p = A v, w = 2p − 2(vᵀp) v.
    let vp = 0;
    for (let i = 0; i < n; i++) {
      let t = 0;
      const r = i * n;
      for (let j = 0; j < n; j++) t += a[r + j] * v[j];
      p[i] = t;
      vp += v[i] * t;
    }
    for (let i = 0; i < n; i++) w[i] = 2 * p[i] - 2 * vp * v[i];
    for (let i = 0; i < n; i++) {
      const r = i * n;
      const vi = v[i];
      const wi = w[i];
      for (let j = 0; j < n; j++) a[r + j] -= vi * w[j] + wi * v[j];
    }
    // Eigenvectors: each row x ← H x.
    for (let i = 0; i < n; i++) {
      const r = i * n;
      let t = 0;
      for (let j = 0; j < n; j++) t += q[r + j] * v[j];
      t *= 2;
      for (let j = 0; j < n; j++) q[r + j] -= t * v[j];
    }
  }
  // Symmetrise exactly (rounding leaves the two triangles a few ulps apart).
  for (let i = 0; i < n; i++) {
    for (let j = i + 1; j < n; j++) {
      const m = 0.5 * (a[i * n + j] + a[j * n + i]);
      a[i * n + j] = m;
      a[j * n + i] = m;
    }
  }
  return { a, vectors: q };
}

/** A dense symmetric n × n matrix with independent uniform(−1, 1) entries. */
export function randomSymmetric(n: number, rng: Rng): Float64Array {
  const a = new Float64Array(n * n);
  for (let i = 0; i < n; i++) {
    for (let j = i; j < n; j++) {
      const x = 2 * rng.next() - 1;
      a[i * n + j] = x;
      a[j * n + i] = x;
    }
  }
  return a;
}

/**
 * A trajectory of `count` snapshots of dimension `dim` whose population covariance is
 * exactly Σ_i variances[i] p_i p_iᵀ (before the final float32 rounding), with the p_i
 * orthonormal: x(t) = Σ_i √variances[i] · c_i(t) · p_i with the DCT-II time profiles
 * c_i(t) = √2 cos(π (i+1)(t+½)/count), which are orthogonal, have mean 0 and mean square 1.
 * Snapshots are offset + x(t), rounded to float32. Needs variances.length < count.
 */
export function exactCovarianceTrajectory(
  dim: number,
  count: number,
  variances: ArrayLike<number>,
  rng: Rng,
  offset?: Float64Array,
): { snapshots: Float32Array; modes: Float64Array } {
  const r = variances.length;
  if (r >= count) throw new Error('exactCovarianceTrajectory: need more snapshots than modes');
  if (r > dim) throw new Error('exactCovarianceTrajectory: more modes than dimensions');
  // Orthonormal modes: the first r eigenvectors of a random rotation.
  const { vectors } = knownSpectrumMatrix(new Float64Array(dim), rng, Math.min(dim, 512));
  const modes = vectors.slice(0, r * dim);
  const snapshots = new Float32Array(count * dim);
  const row = new Float64Array(dim);
  for (let t = 0; t < count; t++) {
    if (offset) row.set(offset);
    else row.fill(0);
    for (let i = 0; i < r; i++) {
      const amp = Math.sqrt(2 * variances[i]) * Math.cos((Math.PI * (i + 1) * (t + 0.5)) / count);
      const off = i * dim;
      for (let j = 0; j < dim; j++) row[j] += amp * modes[off + j];
    }
    for (let j = 0; j < dim; j++) snapshots[t * dim + j] = row[j];
  }
  return { snapshots, modes };
}

export interface RandomWalkOptions {
  /** Drift per step along w(0)/‖w(0)‖ (default 2e-4). */
  drift?: number;
  /** Step standard deviation of coordinate 0 (default 1e-4). */
  step?: number;
  /** Coordinate j steps with std step·(j+1)^(−exponent) (default 1). */
  exponent?: number;
}

/**
 * A drifting random walk like SGD weights in the exploration phase: w(0) ~ N(0, 0.3²) per
 * coordinate, then w(t+1) = w(t) + drift·w(0)/‖w(0)‖ + ξ(t), with independent Gaussian
 * steps whose scale falls as a power of the coordinate index (a graded PCA spectrum whose
 * first mode is the drift along the weights). Snapshots are float32, count × dim.
 */
export function driftingRandomWalk(
  dim: number,
  count: number,
  rng: Rng,
  opts: RandomWalkOptions = {},
): { snapshots: Float32Array; direction: Float64Array } {
  const drift = opts.drift ?? 2e-4;
  const step = opts.step ?? 1e-4;
  const exponent = opts.exponent ?? 1;
  const w = new Float64Array(dim);
  let ss = 0;
  for (let j = 0; j < dim; j++) {
    w[j] = 0.3 * rng.normal();
    ss += w[j] * w[j];
  }
  const direction = w.map((x) => x / Math.sqrt(ss));
  const scale = new Float64Array(dim);
  for (let j = 0; j < dim; j++) scale[j] = step * Math.pow(j + 1, -exponent);
  const snapshots = new Float32Array(count * dim);
  for (let t = 0; t < count; t++) {
    const off = t * dim;
    for (let j = 0; j < dim; j++) {
      w[j] += drift * direction[j] + scale[j] * rng.normal();
      snapshots[off + j] = w[j];
    }
  }
  return { snapshots, direction };
}
