/**
 * Blocked Householder reduction of a dense symmetric matrix to tridiagonal form
 * (LAPACK dsytrd/dlatrd, "lower" variant), and the blocked back-transformation of
 * eigenvectors (dormtr with compact-WY block reflectors, dlarft).
 *
 * Storage: the matrix is n×n row-major and only its upper triangle (r ≤ s) is read or kept
 * meaningful — this is LAPACK's column-major lower storage, so LAPACK's "column j" is our
 * contiguous row j. The strict lower triangle is scratch.
 *
 * On return, row i holds the Householder vector v_i of H_i = I − τ_i v_i v_iᵀ in columns
 * i+2 … n−1 (v_i is 0 in columns ≤ i and 1 in column i+1), and
 *   A = Q T Qᵀ,  Q = H_0 H_1 ⋯ H_{n−2},  T = tridiag(e; d; e).
 *
 * Cost: (4/3)n³ flops, half in symmetric matrix–vector products (one per column, reading
 * the trailing triangle once) and half in the rank-2b trailing updates, done as NT GEMMs.
 */

import type { Workspace } from './kernels';

export interface Tridiagonal {
  /** Diagonal, length n. */
  d: Float64Array;
  /** Super-diagonal, length n (e[n−1] = 0): T[i, i+1] = e[i]. */
  e: Float64Array;
  /** Householder scalars τ_i, length n (τ_{n−1} = 0). */
  tau: Float64Array;
}

/** Panel width of the reduction. */
const NB = 32;

/** Doubles of workspace that `tridiagonalize` allocates (besides the matrix). */
export function tridiagonalizeWorkspace(n: number): number {
  return n + 5 * NB * n + 4 * NB;
}

/**
 * Reduce the symmetric matrix in `a` (upper triangle, row-major, overwritten with the
 * reflectors) to tridiagonal form. `a` should be allocated from `ws` so that the wasm
 * kernels apply. `onPanel(done)` is called after each panel with the number of rows finished.
 */
export function tridiagonalize(
  ws: Workspace,
  a: Float64Array,
  n: number,
  onPanel?: (done: number) => void,
): Tridiagonal {
  const d = new Float64Array(n);
  const e = new Float64Array(n);
  const tau = new Float64Array(n);
  if (n === 1) {
    d[0] = a[0];
    return { d, e, tau };
  }
  // W holds the panel's update vectors, row p for reflector j0+p, columns absolute.
  const w = ws.alloc(NB * n);
  const y = ws.alloc(n);
  const t1 = ws.alloc(NB);
  const t2 = ws.alloc(NB);
  const cv = ws.alloc(NB);
  const cw = ws.alloc(NB);
  // Trailing update operands: L = [Vᵀ Wᵀ], R = [Wᵀ Vᵀ], each N × 2b.
  const lBuf = ws.alloc(n * 2 * NB);
  const rBuf = ws.alloc(n * 2 * NB);

  for (let j0 = 0; j0 < n - 1; j0 += NB) {
    const b = Math.min(NB, n - 1 - j0);
    for (let p = 0; p < b; p++) {
      const i = j0 + p;
      const ri = i * n;
      // 1. Bring row i up to date with the panel's earlier reflectors:
      //    A[i, c] −= Σ_q V_q[i] W_q[c] + W_q[i] V_q[c],  c ≥ i.
      if (p > 0) {
        for (let q = 0; q < p; q++) {
          cv[q] = a[(j0 + q) * n + i];
          cw[q] = w[q * n + i];
        }
        ws.axpyRows(p, n - i, w, i, n, cv, -1, a, ri + i);
        ws.axpyRows(p, n - i, a, j0 * n + i, n, cw, -1, a, ri + i);
      }
      d[i] = a[ri + i];
      // 2. Householder reflector annihilating A[i, i+2 …].
      const len = n - i - 1; // length of x = A[i, i+1 …]
      const alpha = a[ri + i + 1];
      let xnorm2 = 0;
      for (let c = i + 2; c < n; c++) {
        const v = a[ri + c];
        xnorm2 += v * v;
      }
      let tauI = 0;
      let beta = alpha;
      if (xnorm2 > 0) {
        beta = -Math.sign(alpha || 1) * Math.sqrt(alpha * alpha + xnorm2);
        tauI = (beta - alpha) / beta;
        const scal = 1 / (alpha - beta);
        for (let c = i + 2; c < n; c++) a[ri + c] *= scal;
      }
      e[i] = beta;
      tau[i] = tauI;
      a[ri + i + 1] = 1;
      // 3. W_p = τ (A22 v − V (Wᵀv) − W (Vᵀv)), then W_p −= (τ/2)(W_pᵀv) v.
      const wp = p * n;
      if (tauI === 0) {
        for (let c = i + 1; c < n; c++) w[wp + c] = 0;
        continue;
      }
      const vOff = ri + i + 1;
      ws.symvUpper(len, a, (i + 1) * n + i + 1, n, a, vOff, y, 0);
      if (p > 0) {
        ws.dotRows(p, len, w, i + 1, n, a, vOff, t1);
        ws.dotRows(p, len, a, j0 * n + i + 1, n, a, vOff, t2);
        ws.axpyRows(p, len, a, j0 * n + i + 1, n, t1, -1, y, 0);
        ws.axpyRows(p, len, w, i + 1, n, t2, -1, y, 0);
      }
      let yv = 0;
      for (let c = 0; c < len; c++) {
        y[c] *= tauI;
        yv += y[c] * a[vOff + c];
      }
      const corr = -0.5 * tauI * yv;
      for (let c = 0; c < len; c++) w[wp + i + 1 + c] = y[c] + corr * a[vOff + c];
    }
    // 4. Trailing update A22 −= V Wᵀ + W Vᵀ on rows/columns ≥ j0 + b.
    const s0 = j0 + b;
    const nt = n - s0;
    if (nt > 0) {
      const k2 = 2 * b;
      for (let r = 0; r < nt; r++) {
        const lr = r * k2;
        for (let q = 0; q < b; q++) {
          const vv = a[(j0 + q) * n + s0 + r];
          const ww = w[q * n + s0 + r];
          lBuf[lr + q] = vv;
          lBuf[lr + b + q] = ww;
          rBuf[lr + q] = ww;
          rBuf[lr + b + q] = vv;
        }
      }
      ws.gemmNT(nt, nt, k2, -1, lBuf, 0, k2, rBuf, 0, k2, a, s0 * n + s0, n, true);
    }
    for (let p = 0; p < b; p++) {
      const i = j0 + p;
      a[i * n + i + 1] = e[i];
    }
    if (onPanel) onPanel(s0);
  }
  d[n - 1] = a[(n - 1) * n + n - 1];
  e[n - 1] = 0;
  return { d, e, tau };
}

/** Block width of the back-transformation. */
const BT = 64;

/** Doubles of workspace that `backTransform` allocates. */
export function backTransformWorkspace(n: number, k: number): number {
  return 2 * BT * n + BT * BT + 2 * k * BT + BT;
}

/**
 * Overwrite the k rows of `z` (k × n row-major, each row an eigenvector of T) with the
 * eigenvectors of A: row ← Q·row, with the reflectors left in `a` by `tridiagonalize`.
 */
export function backTransform(
  ws: Workspace,
  a: Float64Array,
  n: number,
  tau: Float64Array,
  z: Float64Array,
  k: number,
): void {
  // n ≤ 2: the only reflector acts on a 1-vector and is the identity.
  if (k === 0 || n < 3) return;
  const nRef = n - 1; // reflectors 0 … n−2 (the last may be the identity)
  const vd = ws.alloc(BT * n);
  const vdt = ws.alloc(n * BT);
  const tm = ws.alloc(BT * BT);
  const m1 = ws.alloc(k * BT);
  const m2 = ws.alloc(k * BT);
  const u = ws.alloc(BT);
  const nPanels = Math.ceil(nRef / BT);
  // Q Z = B_0 (B_1 (… B_last Z)): apply the last block first.
  for (let pi = nPanels - 1; pi >= 0; pi--) {
    const i0 = pi * BT;
    const b = Math.min(BT, nRef - i0);
    const nc = n - i0 - 1; // columns i0+1 … n−1
    // Dense V (b × nc): V[p, c] = v_{i0+p}[i0+1+c].
    for (let p = 0; p < b; p++) {
      const row = p * nc;
      const src = (i0 + p) * n + i0 + 1;
      for (let c = 0; c < p; c++) vd[row + c] = 0;
      vd[row + p] = 1;
      for (let c = p + 1; c < nc; c++) vd[row + c] = a[src + c];
    }
    // T (b × b, upper): T[p,p] = τ_p; T[0:p, p] = −τ_p T[0:p, 0:p] (Vᵀ v_p)[0:p].
    tm.fill(0, 0, b * b);
    for (let p = 0; p < b; p++) {
      const tp = tau[i0 + p];
      tm[p * b + p] = tp;
      if (p === 0 || tp === 0) continue;
      // u[q] = v_q · v_p for q < p (v_p is zero before column p), into column p of T.
      ws.dotRows(p, nc - p, vd, p, nc, vd, p * nc + p, u);
      for (let q = 0; q < p; q++) tm[q * b + p] = -tp * u[q];
      // T[0:p, p] = T[0:p, 0:p] · u (T upper triangular, in place top-down).
      for (let q = 0; q < p; q++) {
        let s = 0;
        for (let r = q; r < p; r++) s += tm[q * b + r] * tm[r * b + p];
        tm[q * b + p] = s;
      }
    }
    // Vᵀ transposed copy (nc × b) for the final product.
    for (let c = 0; c < nc; c++) {
      const row = c * b;
      for (let p = 0; p < b; p++) vdt[row + p] = vd[p * nc + c];
    }
    // M1 = Z[:, i0+1:] · Vᵀ  (k × b)
    m1.fill(0, 0, k * b);
    ws.gemmNT(k, b, nc, 1, z, i0 + 1, n, vd, 0, nc, m1, 0, b);
    // M2 = M1 · Tᵀ  (k × b)
    m2.fill(0, 0, k * b);
    ws.gemmNT(k, b, b, 1, m1, 0, b, tm, 0, b, m2, 0, b);
    // Z[:, i0+1:] −= M2 · Vᵀᵀ
    ws.gemmNT(k, nc, b, -1, m2, 0, b, vdt, 0, b, z, i0 + 1, n);
  }
}
