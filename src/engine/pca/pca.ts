/**
 * PCA of an SGD trajectory window: w(t) = ŵ + Σ_i θ_i(t) p_i, with ŵ the window mean, p_i
 * the eigenvectors of the population covariance C = (1/m) Σ_t x(t) x(t)ᵀ, x(t) = w(t) − ŵ,
 * and σ_i² = var(θ_i) its eigenvalues, descending.
 *
 * Two routes to the same numbers, both in float64 on exactly centred data (see
 * snapshotWindow.ts for why that keeps the ~10-decade tail):
 * - 'gram' (count < dim): eigen-decompose the count×count Gram matrix G = X Xᵀ of the
 *   centred snapshots (rows x(t)); G u_i = μ_i u_i gives σ_i² = μ_i / m,
 *   p_i = Xᵀ u_i / √μ_i and θ_i(t) = √μ_i · u_i(t).
 * - 'covariance' (count ≥ dim): eigen-decompose C itself; θ_i(t) = x(t)·p_i.
 * Building G or C is a cache-blocked GEMM (m²n or mn² flops), as is forming the modes.
 */

import { Workspace, type KernelChoice } from './kernels';
import { eigenInWorkspace, eigenWorkspace, dominantSign } from './eigen';
import type { SnapshotWindow } from './snapshotWindow';

export interface PcaOptions {
  /** Modes 1 … vectors (eigenvectors and projections) wanted; default 100, capped at rank. */
  vectors?: number;
  /**
   * Further modes wanted, by 1-based rank (any order; those beyond `rank` are dropped).
   * The result holds the union with 1 … vectors, ascending — far cheaper than asking for
   * every mode up to the largest rank when a few scattered ones will do.
   */
  ranks?: ArrayLike<number>;
  /** Force a route; default 'auto' = 'gram' when count < dim, else 'covariance'. */
  method?: 'auto' | 'gram' | 'covariance';
  /** Progress (fraction in [0, 1], phase name); may throw to cancel. */
  onProgress?: (fraction: number, phase: string) => void;
  /** 'auto' (default): WebAssembly SIMD kernels where available, else plain JS. */
  kernels?: KernelChoice;
}

export interface PcaResult {
  /** Dimension of a snapshot (2,500 for W2). */
  dim: number;
  /** Number of snapshots m in the window. */
  count: number;
  /** Window mean ŵ. */
  mean: Float64Array;
  /** All dim eigenvalues σ_i² of the covariance, descending; 0 beyond `rank`. */
  variance: Float64Array;
  /**
   * k × dim row-major unit modes: row r is p_i for i = ranks[r] (row i − 1 when no `ranks`
   * option was given); p_1·ŵ > 0, others: largest |component| positive.
   */
  modes: Float64Array;
  k: number;
  /** 1-based rank of each row of `modes` and `projections`, ascending. */
  ranks: Int32Array;
  /** k × count row-major projections θ_i(t) = (w(t) − ŵ)·p_i, rows as in `modes`. */
  projections: Float64Array;
  method: 'gram' | 'covariance';
  /** Number of variances above max(count, dim)·ε·σ_1² (at most count − 1). */
  rank: number;
  /** Wall-clock milliseconds of the phases (matrix build, eigensolver, modes/projections). */
  timings: { build: number; eigen: number; modes: number };
  /** Which kernels ran: WebAssembly SIMD or the plain-JS fallback. */
  kernels: 'wasm' | 'js';
}

const EPS = 2 ** -52;
export const DEFAULT_PCA_VECTORS = 100;

/** PCA of the snapshots held in `win`. */
export function windowPca(win: SnapshotWindow, opts: PcaOptions = {}): PcaResult {
  const m = win.count;
  const n = win.dim;
  if (m === 0) throw new Error('windowPca: the window is empty');
  const want = opts.vectors ?? DEFAULT_PCA_VECTORS;
  if (!Number.isInteger(want) || want < 0) {
    throw new Error(`windowPca: vectors must be a non-negative integer, got ${want}`);
  }
  const extra = opts.ranks ?? [];
  for (let i = 0; i < extra.length; i++) {
    if (!Number.isInteger(extra[i]) || extra[i] < 1) {
      throw new Error(`windowPca: ranks must be positive integers, got ${extra[i]}`);
    }
  }
  const method =
    opts.method === 'gram' || opts.method === 'covariance'
      ? opts.method
      : m < n
        ? 'gram'
        : 'covariance';
  const progress = opts.onProgress;
  const mean = win.mean();
  const now = () => performance.now();
  const size = method === 'gram' ? m : n;
  // Rows wanted, as 0-based eigenvalue indices, once the spectrum (hence the rank) is known.
  let rank = 0;
  const select = (values: Float64Array): Int32Array => {
    rank = countRank(values, Math.max(m, n), m - 1);
    const rows = new Set<number>();
    for (let i = 0; i < Math.min(want, rank); i++) rows.add(i);
    for (let i = 0; i < extra.length; i++) if (extra[i] <= rank) rows.add(extra[i] - 1);
    return Int32Array.from(rows).sort();
  };
  const kMax = Math.min(size, want + extra.length);

  const kernels = opts.kernels;
  const sub =
    progress &&
    ((f: number, phase: string) => progress(0.3 + 0.5 * f, phase === 'done' ? 'modes' : phase));
  let t0 = now();
  progress?.(0, 'build');
  let variance: Float64Array;
  let modes: Float64Array;
  let projections: Float64Array;
  let sel: Int32Array;
  let tBuild: number;
  let tEigen: number;
  let usedWasm: boolean;

  if (method === 'gram') {
    const ws = new Workspace(pcaWorkspaceDoubles(m, n, kMax, method), kernels);
    usedWasm = ws.usesWasm;
    // G = X Xᵀ (m × m), upper triangle.
    const x = win.centered(false, ws.alloc(m * n));
    const g = ws.alloc(m * m);
    ws.gemmNT(m, m, n, 1, x, 0, n, x, 0, n, g, 0, m, true);
    tBuild = now() - t0;
    t0 = now();
    const eig = eigenInWorkspace(ws, g, m, select, sub);
    tEigen = now() - t0;
    t0 = now();
    sel = eig.selected;
    const k = sel.length;
    const mu = eig.values;
    variance = new Float64Array(n);
    for (let i = 0; i < rank; i++) variance[i] = mu[i] / m;
    // Modes p_i = Xᵀ u_i / √μ_i: P = U X (k × n) as an NT product with Xᵀ.
    const xt = win.centered(true, ws.alloc(n * m));
    const p = ws.alloc(k * n);
    ws.gemmNT(k, n, m, 1, eig.vectors, 0, m, xt, 0, m, p, 0, n);
    modes = p.slice();
    projections = new Float64Array(k * m);
    for (let r = 0; r < k; r++) {
      // Normalise explicitly (√μ_i up to rounding) so that modes are unit vectors.
      let ss = 0;
      const o = r * n;
      for (let j = 0; j < n; j++) ss += modes[o + j] * modes[o + j];
      const norm = Math.sqrt(ss);
      for (let j = 0; j < n; j++) modes[o + j] /= norm;
      const ru = r * m;
      for (let t = 0; t < m; t++) projections[ru + t] = norm * eig.vectors[ru + t];
    }
  } else {
    const ws = new Workspace(pcaWorkspaceDoubles(m, n, kMax, method), kernels);
    usedWasm = ws.usesWasm;
    // C = (1/m) Xᵀ X (n × n), from the transposed centred data.
    const xt = win.centered(true, ws.alloc(n * m));
    const c = ws.alloc(n * n);
    ws.gemmNT(n, n, m, 1 / m, xt, 0, m, xt, 0, m, c, 0, n, true);
    tBuild = now() - t0;
    t0 = now();
    const eig = eigenInWorkspace(ws, c, n, select, sub);
    tEigen = now() - t0;
    t0 = now();
    sel = eig.selected;
    const k = sel.length;
    variance = new Float64Array(n);
    for (let i = 0; i < rank; i++) variance[i] = eig.values[i];
    // θ = P Xᵀ (k × m).
    const x = win.centered(false, ws.alloc(m * n));
    const th = ws.alloc(k * m);
    ws.gemmNT(k, m, n, 1, eig.vectors, 0, n, x, 0, n, th, 0, m);
    modes = eig.vectors.slice(0, k * n);
    projections = th.slice();
  }
  const k = sel.length;
  const ranks = sel.map((i) => i + 1);

  // Signs: mode 1 along the mean (the drift), others by their largest component; θ_i
  // follows p_i so that θ_i(t) = x(t)·p_i still holds.
  for (let i = 0; i < k; i++) {
    const r = i * n;
    let sgn = 0;
    if (ranks[i] === 1) {
      let s = 0;
      for (let j = 0; j < n; j++) s += modes[j] * mean[j];
      sgn = Math.sign(s);
    }
    if (sgn === 0) sgn = dominantSign(modes, r, n);
    if (sgn < 0) {
      for (let j = 0; j < n; j++) modes[r + j] = -modes[r + j];
      const ru = i * m;
      for (let t = 0; t < m; t++) projections[ru + t] = -projections[ru + t];
    }
  }
  const tModes = now() - t0;
  progress?.(1, 'done');
  return {
    dim: n,
    count: m,
    mean,
    variance,
    modes,
    k,
    ranks,
    projections,
    method,
    rank,
    timings: { build: tBuild, eigen: tEigen, modes: tModes },
    kernels: usedWasm ? 'wasm' : 'js',
  };
}

/**
 * Doubles of the workspace windowPca allocates for m snapshots of dimension n and at most kMax
 * modes: the centred data twice (as X and Xᵀ), the m×m Gram or n×n covariance matrix, the
 * eigensolver's scratch and the modes or projections. The memory budget (runChecks.ts) reads
 * the same count.
 */
export function pcaWorkspaceDoubles(
  m: number,
  n: number,
  kMax: number,
  method: 'gram' | 'covariance' = m < n ? 'gram' : 'covariance',
): number {
  return method === 'gram'
    ? 2 * m * n + m * m + eigenWorkspace(m, kMax) + kMax * n
    : 2 * m * n + n * n + eigenWorkspace(n, kMax) + kMax * m;
}

/** Number of eigenvalues above dimFactor·ε·λ_1 (and at most maxRank). */
function countRank(values: Float64Array, dimFactor: number, maxRank: number): number {
  const top = values.length > 0 ? values[0] : 0;
  if (!(top > 0)) return 0;
  const tol = dimFactor * EPS * top;
  let r = 0;
  while (r < values.length && r < maxRank && values[r] > tol) r++;
  return r;
}
