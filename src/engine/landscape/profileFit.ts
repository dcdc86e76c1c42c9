/**
 * The fit of a measured loss profile (SCIENCE.md, Fig. 2): near a minimum the profile is close
 * to an inverse Gaussian, L(δ) = L⁰·exp((δ − δ⁰)²/(2f²)), so ln L is a parabola in δ and its
 * least-squares fit gives the width f and the flatness it implies, independent of the search in
 * ./flatness.ts (used to check it and to draw the fitted curve).
 */

/** Quadratic fit of ln L: ln L ≈ a + b·δ + c·δ² ("inverse Gaussian" L = L⁰·exp((δ−δ⁰)²/(2f²))). */
export interface InverseGaussianFit {
  a: number;
  b: number;
  c: number;
  /** R² of the fit of ln L. */
  r2: number;
  /** Points used (finite, positive L). */
  n: number;
  /** Vertex δ⁰ = −b/(2c). */
  center: number;
  /** L⁰ = exp(a − b²/(4c)), the fitted minimum. */
  L0: number;
  /** Gaussian width f = 1/√(2c) (NaN when c ≤ 0). */
  f: number;
  /** Implied flatness for the given factor: F = 2·√(ln(factor)/c) = 2f·√(2 ln factor). */
  flatness: number;
}

/**
 * Least-squares fit of ln L = a + b·δ + c·δ² over the given points (non-finite or
 * non-positive L skipped). With factor e, F = 2√2·f; with factor 2, F = 2f·√(2 ln 2).
 */
export function inverseGaussianFit(
  deltas: ArrayLike<number>,
  losses: ArrayLike<number>,
  factor: number = Math.E,
): InverseGaussianFit {
  const xs: number[] = [];
  const ys: number[] = [];
  for (let i = 0; i < deltas.length; i++) {
    const l = losses[i];
    const x = deltas[i];
    if (Number.isFinite(l) && l > 0 && Number.isFinite(x)) {
      xs.push(x);
      ys.push(Math.log(l));
    }
  }
  const n = xs.length;
  const none: InverseGaussianFit = {
    a: NaN,
    b: NaN,
    c: NaN,
    r2: NaN,
    n,
    center: NaN,
    L0: NaN,
    f: NaN,
    flatness: NaN,
  };
  if (n < 3) return none;
  // Centre and scale δ for conditioning: u = (δ − m)/s.
  let m = 0;
  for (const x of xs) m += x;
  m /= n;
  let s = 0;
  for (const x of xs) s = Math.max(s, Math.abs(x - m));
  if (!(s > 0)) return none;
  // Normal equations for y = p0 + p1 u + p2 u².
  const S = new Float64Array(5);
  const T = new Float64Array(3);
  let ym = 0;
  for (let i = 0; i < n; i++) {
    const u = (xs[i] - m) / s;
    let up = 1;
    for (let k = 0; k < 5; k++) {
      S[k] += up;
      if (k < 3) T[k] += up * ys[i];
      up *= u;
    }
    ym += ys[i];
  }
  ym /= n;
  const M = [
    [S[0], S[1], S[2]],
    [S[1], S[2], S[3]],
    [S[2], S[3], S[4]],
  ];
  const p = solve3(M, [T[0], T[1], T[2]]);
  if (!p) return none;
  const [p0, p1, p2] = p;
  // Back to δ: u = (δ − m)/s ⇒ y = p0 + p1 (δ − m)/s + p2 (δ − m)²/s².
  const c = p2 / (s * s);
  const b = p1 / s - (2 * p2 * m) / (s * s);
  const a = p0 - (p1 * m) / s + (p2 * m * m) / (s * s);
  let sse = 0;
  let sst = 0;
  for (let i = 0; i < n; i++) {
    const u = (xs[i] - m) / s;
    const r = ys[i] - (p0 + p1 * u + p2 * u * u);
    sse += r * r;
    sst += (ys[i] - ym) * (ys[i] - ym);
  }
  const r2 = sst > 0 ? 1 - sse / sst : 1;
  const center = c > 0 ? -b / (2 * c) : NaN;
  return {
    a,
    b,
    c,
    r2,
    n,
    center,
    L0: c > 0 ? Math.exp(a - (b * b) / (4 * c)) : NaN,
    f: c > 0 ? 1 / Math.sqrt(2 * c) : NaN,
    flatness: c > 0 ? 2 * Math.sqrt(Math.log(factor) / c) : NaN,
  };
}

/** Solves a 3×3 system by Gaussian elimination with partial pivoting; null if singular. */
function solve3(M: number[][], rhs: number[]): [number, number, number] | null {
  const A = M.map((row, i) => [...row, rhs[i]]);
  for (let col = 0; col < 3; col++) {
    let piv = col;
    for (let r = col + 1; r < 3; r++) if (Math.abs(A[r][col]) > Math.abs(A[piv][col])) piv = r;
    if (!(Math.abs(A[piv][col]) > 1e-300)) return null;
    [A[col], A[piv]] = [A[piv], A[col]];
    for (let r = col + 1; r < 3; r++) {
      const f = A[r][col] / A[col][col];
      for (let k = col; k < 4; k++) A[r][k] -= f * A[col][k];
    }
  }
  const x = [0, 0, 0];
  for (let r = 2; r >= 0; r--) {
    let v = A[r][3];
    for (let k = r + 1; k < 3; k++) v -= A[r][k] * x[k];
    x[r] = v / A[r][r];
  }
  return [x[0], x[1], x[2]];
}
