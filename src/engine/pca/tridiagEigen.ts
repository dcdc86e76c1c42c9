/**
 * Eigenvalues and selected eigenvectors of a symmetric tridiagonal matrix
 * T = tridiag(e; d; e) (T[i, i+1] = T[i+1, i] = e[i]).
 *
 * - The matrix is split into unreduced blocks wherever |e[i]| ≤ ε‖T‖ (a perturbation no
 *   larger than the Householder reduction's own backward error).
 * - All eigenvalues: implicit QL with Wilkinson shifts, no vectors (EISPACK tql1), O(n²).
 * - Selected eigenvectors: inverse iteration (LAPACK dstein): LU with partial pivoting of
 *   T − λI, tiny pivots perturbed, up to five solves from a random start until the growth
 *   test has passed twice (dstein asks three times; the eigenvalues here are accurate, and
 *   tests show no loss), and after each solve a classical Gram–Schmidt pass against the
 *   earlier vectors of the same cluster (eigenvalues closer than ORTOL·‖T‖ in a chain),
 *   repeated when it removes most of the vector (DGKS). This keeps the vectors of clustered
 *   eigenvalues orthogonal to ~1e-14; its cost, O(cluster² · n), dominates when hundreds of
 *   vectors of a graded spectrum (all "clustered" near 0) are wanted.
 */

import { Rng } from '../data/rng';
import { dot, Workspace } from './kernels';

const EPS = 2 ** -52;

/** Eigenvalues of T, descending, each tagged with the unreduced block it belongs to. */
export interface TridiagSpectrum {
  values: Float64Array;
  /** blockLo[j], blockHi[j]: the block [lo, hi) of T that holds eigenvalue j. */
  blockLo: Int32Array;
  blockHi: Int32Array;
  /** max_i |e[i−1]| + |d[i]| + |e[i]|. */
  norm: number;
  /** The off-diagonal after splitting (small entries set to 0). */
  e: Float64Array;
}

/** ‖T‖₁ (= ‖T‖∞). */
export function tridiagNorm(d: Float64Array, e: Float64Array, n: number): number {
  let norm = 0;
  for (let i = 0; i < n; i++) {
    const s = Math.abs(d[i]) + (i > 0 ? Math.abs(e[i - 1]) : 0) + (i < n - 1 ? Math.abs(e[i]) : 0);
    if (s > norm) norm = s;
  }
  return norm;
}

/** Implicit QL (Wilkinson shift) on the block [lo, hi) of dd/ee, in place: dd ← eigenvalues. */
function qlBlock(dd: Float64Array, ee: Float64Array, lo: number, hi: number, tiny: number): void {
  for (let l = lo; l < hi; l++) {
    let iter = 0;
    for (;;) {
      let m = l;
      for (; m < hi - 1; m++) {
        const em = Math.abs(ee[m]);
        if (em <= EPS * (Math.abs(dd[m]) + Math.abs(dd[m + 1])) || em <= tiny) break;
      }
      if (m === l) break;
      if (++iter > 100) throw new Error('symmetricEigen: QL iteration did not converge');
      let g = (dd[l + 1] - dd[l]) / (2 * ee[l]);
      let r = Math.hypot(g, 1);
      g = dd[m] - dd[l] + ee[l] / (g + (g >= 0 ? r : -r));
      let s = 1;
      let c = 1;
      let p = 0;
      let i = m - 1;
      let deflated = false;
      for (; i >= l; i--) {
        const f = s * ee[i];
        const b = c * ee[i];
        r = Math.sqrt(f * f + g * g);
        if (!(r > 1e-150 && r < 1e150)) r = Math.hypot(f, g);
        ee[i + 1] = r;
        if (r === 0) {
          dd[i + 1] -= p;
          ee[m] = 0;
          deflated = true;
          break;
        }
        s = f / r;
        c = g / r;
        g = dd[i + 1] - p;
        r = (dd[i] - g) * s + 2 * c * b;
        p = s * r;
        dd[i + 1] = g + p;
        g = c * r - b;
      }
      if (deflated) continue;
      dd[l] -= p;
      ee[l] = g;
      ee[m] = 0;
    }
  }
}

/**
 * All eigenvalues of T, sorted descending. `d` and `e` are not modified.
 */
export function tridiagEigenvalues(d: Float64Array, e: Float64Array, n: number): TridiagSpectrum {
  const norm = tridiagNorm(d, e, n);
  const es = new Float64Array(n);
  const splitTol = EPS * norm;
  for (let i = 0; i < n - 1; i++) es[i] = Math.abs(e[i]) <= splitTol ? 0 : e[i];
  const dd = Float64Array.from(d.subarray(0, n));
  const ee = Float64Array.from(es);
  const lo = new Int32Array(n);
  const hi = new Int32Array(n);
  // Deflate when |e| is negligible relative to its neighbours or to ‖T‖ (the absolute test
  // is needed for clusters at 0, where rounding keeps |e| ~ ε‖T‖ indefinitely; it perturbs
  // eigenvalues by no more than the reduction's own backward error ε‖A‖).
  const tiny = EPS * norm;
  let start = 0;
  for (let i = 0; i < n; i++) {
    if (i === n - 1 || es[i] === 0) {
      if (i > start) qlBlock(dd, ee, start, i + 1, tiny);
      for (let j = start; j <= i; j++) {
        lo[j] = start;
        hi[j] = i + 1;
      }
      start = i + 1;
    }
  }
  const order = new Int32Array(n);
  for (let i = 0; i < n; i++) order[i] = i;
  order.sort((x, y) => dd[y] - dd[x] || x - y);
  const values = new Float64Array(n);
  const blockLo = new Int32Array(n);
  const blockHi = new Int32Array(n);
  for (let j = 0; j < n; j++) {
    const o = order[j];
    values[j] = dd[o];
    blockLo[j] = lo[o];
    blockHi[j] = hi[o];
  }
  return { values, blockLo, blockHi, norm, e: es };
}

/** Eigenvalues closer than this (× ‖T‖) in a chain are orthogonalised against each other. */
const ORTOL = 1e-3;
const MAXITS = 5;
const EXTRA = 1;

/** Doubles of workspace `tridiagEigenvectors` allocates for k vectors of length n. */
export function tridiagEigenvectorsWorkspace(n: number, k: number): number {
  return k * n + n + k;
}

/**
 * Eigenvectors of T for the eigenvalues spec.values[sel[r]], r < k = sel.length (`sel`
 * ascending, so eigenvalues descending), by inverse iteration. Returns a k×n row-major
 * array (row r = unit eigenvector of spec.values[sel[r]]; written into `out` when given,
 * which must be zeroed) and the number of vectors that did not meet the convergence test
 * in MAXITS solves (still returned, normalised). Vectors are re-orthogonalised only
 * against the other selected ones. Cluster scratch comes from `ws`
 * (tridiagEigenvectorsWorkspace(n, k) doubles), so that this runs on its kernels.
 */
export function tridiagEigenvectors(
  d: Float64Array,
  spec: TridiagSpectrum,
  n: number,
  sel: Int32Array,
  out?: Float64Array,
  ws: Workspace = new Workspace(0, 'js'),
  seed = 1,
): { vectors: Float64Array; failures: number } {
  const k = sel.length;
  const z = out ?? new Float64Array(k * n);
  const e = spec.e;
  const norm = spec.norm;
  const rng = new Rng(seed);
  // Work arrays, sized for the largest block.
  const u0 = new Float64Array(n); // U diagonal
  const u1 = new Float64Array(n); // U first super-diagonal
  const u2 = new Float64Array(n); // U second super-diagonal (fill-in)
  const mult = new Float64Array(n); // L multipliers
  const swap = new Uint8Array(n); // row interchange at step k
  const b = ws.alloc(n);
  const cdots = ws.alloc(k);
  const ortol = ORTOL * norm;
  const tol = EPS * norm;
  let failures = 0;

  // Process the selected eigenvalues block by block, each block's in descending order;
  // lists hold output rows r (eigenvalue index sel[r]).
  const byBlock = new Map<number, number[]>();
  for (let r = 0; r < k; r++) {
    const list = byBlock.get(spec.blockLo[sel[r]]);
    if (list) list.push(r);
    else byBlock.set(spec.blockLo[sel[r]], [r]);
  }
  for (const [lo, list] of byBlock) {
    const hi = spec.blockHi[sel[list[0]]];
    const nb = hi - lo;
    if (nb === 1) {
      z[list[0] * n + lo] = 1;
      continue;
    }
    const dtpcrt = Math.sqrt(0.1 / nb);
    // The current cluster's vectors, copied contiguously (nClus × nb).
    const clus = ws.alloc(list.length * nb);
    let nClus = 0;
    let prevLambda = 0;
    for (let li = 0; li < list.length; li++) {
      const row = list[li];
      let lambda = spec.values[sel[row]];
      if (li > 0) {
        if (prevLambda - lambda > ortol) nClus = 0;
        const pertol = 10 * Math.abs(EPS * lambda);
        if (prevLambda - lambda < pertol) lambda = prevLambda - pertol;
      }
      prevLambda = lambda;

      // LU with partial pivoting of T − λI on [lo, hi); U has three diagonals.
      let alpha = d[lo] - lambda;
      let beta = e[lo];
      for (let s = 0; s < nb - 1; s++) {
        const g = lo + s;
        const sub = e[g];
        const diagNext = d[g + 1] - lambda;
        const superNext = s + 1 < nb - 1 ? e[g + 1] : 0;
        if (Math.abs(alpha) >= Math.abs(sub)) {
          swap[s] = 0;
          const l = alpha === 0 ? 0 : sub / alpha;
          mult[s] = l;
          u0[s] = alpha;
          u1[s] = beta;
          u2[s] = 0;
          alpha = diagNext - l * beta;
          beta = superNext;
        } else {
          swap[s] = 1;
          const l = alpha / sub;
          mult[s] = l;
          u0[s] = sub;
          u1[s] = diagNext;
          u2[s] = superNext;
          alpha = beta - l * diagNext;
          beta = -l * superNext;
        }
      }
      u0[nb - 1] = alpha;
      // Perturb tiny pivots so that the solves stay finite.
      for (let s = 0; s < nb; s++) {
        if (Math.abs(u0[s]) < tol) u0[s] = u0[s] < 0 ? -tol : tol;
      }

      for (let s = 0; s < nb; s++) b[s] = 2 * rng.next() - 1;
      const zr = row * n + lo;
      let nrmchk = 0;
      let converged = false;
      for (let its = 0; its < MAXITS; its++) {
        // Scale the right-hand side (dstein), then solve (T − λI) x = b.
        let asum = 0;
        for (let s = 0; s < nb; s++) asum += Math.abs(b[s]);
        const scl = (nb * norm * Math.max(EPS, Math.abs(u0[nb - 1]))) / asum;
        for (let s = 0; s < nb; s++) b[s] *= scl;
        for (let s = 0; s < nb - 1; s++) {
          if (swap[s] === 0) {
            b[s + 1] -= mult[s] * b[s];
          } else {
            const t = b[s];
            b[s] = b[s + 1];
            b[s + 1] = t - mult[s] * b[s];
          }
        }
        b[nb - 1] /= u0[nb - 1];
        if (nb > 1) b[nb - 2] = (b[nb - 2] - u1[nb - 2] * b[nb - 1]) / u0[nb - 2];
        for (let s = nb - 3; s >= 0; s--) {
          let v = (b[s] - u1[s] * b[s + 1] - u2[s] * b[s + 2]) / u0[s];
          if (Math.abs(v) > 1e150) {
            // Rescale the whole system (solved part and remaining right-hand side).
            for (let t = 0; t < nb; t++) b[t] *= 1e-150;
            v = (b[s] - u1[s] * b[s + 1] - u2[s] * b[s + 2]) / u0[s];
          }
          b[s] = v;
        }
        // Orthogonalise against the earlier vectors of this cluster; repeat when the
        // projection removed most of b (the DGKS "twice is enough" criterion).
        if (nClus > 0) {
          const before = sumSquares(b, nb);
          ws.projectOut(nClus, nb, clus, 0, nb, b, cdots);
          if (sumSquares(b, nb) < 0.25 * before) ws.projectOut(nClus, nb, clus, 0, nb, b, cdots);
        }
        let nrm = 0;
        for (let s = 0; s < nb; s++) {
          const v = Math.abs(b[s]);
          if (v > nrm) nrm = v;
        }
        if (!(nrm >= dtpcrt)) {
          if (!Number.isFinite(nrm)) for (let s = 0; s < nb; s++) b[s] = 2 * rng.next() - 1;
          continue;
        }
        nrmchk++;
        if (nrmchk < EXTRA + 1) continue;
        converged = true;
        break;
      }
      if (!converged) failures++;
      const ss = sumSquares(b, nb);
      const inv = ss > 0 ? 1 / Math.sqrt(ss) : 0;
      const co = nClus * nb;
      for (let s = 0; s < nb; s++) {
        const v = b[s] * inv;
        z[zr + s] = v;
        clus[co + s] = v;
      }
      nClus++;
    }
  }
  return { vectors: z, failures };
}

function sumSquares(b: Float64Array, len: number): number {
  return dot(len, b, 0, b, 0);
}
