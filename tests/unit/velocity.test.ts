/**
 * Velocity statistics against exact discrete-time results.
 *
 * Each synthetic mode is the linear Gaussian process
 *     θ(t+1) = (1 − κ)·θ(t) + u(t),     u(t+1) = ρ·u(t) + b·ξ(t),   ξ ~ N(0, 1) i.i.d.
 * ρ = 0 is the Ornstein–Uhlenbeck series θ(t+1) = (1 − κ)θ(t) + √q·ξ with q = b² (u(t) is then
 * just the previous step's white noise); ρ > 0 adds positively correlated velocities on top of
 * the confinement, like SGD's short positive correlation followed by an anticorrelated tail.
 *
 * Exact moments. With state x = (θ, u), x(t+1) = A·x(t) + (0, b·ξ), A = [[1−κ, 1], [0, ρ]]:
 * the stationary covariance Σ solves Σ = AΣAᵀ + diag(0, b²), the velocity is v(t) = θ(t+1) − θ(t)
 * = gᵀx(t) with g = (−κ, 1), so γ_v(s) = gᵀA^sΣg and γ_θ(s) = e₁ᵀA^sΣe₁ exactly. For ρ = 0 this
 * reduces to the closed forms (a = 1 − κ)
 *     var v = 2q/(2 − κ),   σ² = q/(κ(2 − κ)),   C(s) = −(κ/2)·a^{s−1} (s ≥ 1),
 * which the helper is checked against first.
 *
 * Tolerances. For a Gaussian stationary series of length n the sample variance has
 * var ≈ (2/n)·Σ_{s∈ℤ} γ(s)² and the sample autocorrelation Bartlett's variance
 * (1/n)·Σ_k [ρ_k² + ρ_{k+s}ρ_{k−s} + 2ρ_s²ρ_k² − 4ρ_sρ_kρ_{k−s}]. Assertions allow 4 standard
 * errors (and, for the integrated time, the sum of the per-lag errors up to the crossing, an
 * upper bound on its standard error), so a seeded run fails only on a real discrepancy.
 */
import { describe, expect, it } from 'vitest';
import { Rng } from '../../src/engine/data/rng';
import { varianceFlatnessFit } from '../../src/engine/landscape/fits';
import {
  autocorrelation,
  integrateToFirstZero,
  theoryFits,
  velocityStatistics,
  type TheoryPoint,
} from '../../src/engine/landscape/velocity';

interface ModeSpec {
  kappa: number;
  rho: number;
  b: number;
}

type M2 = [number, number, number, number]; // row-major 2×2

const mul = (x: M2, y: M2): M2 => [
  x[0] * y[0] + x[1] * y[2],
  x[0] * y[1] + x[1] * y[3],
  x[2] * y[0] + x[3] * y[2],
  x[2] * y[1] + x[3] * y[3],
];
const tr = (x: M2): M2 => [x[0], x[2], x[1], x[3]];
const add = (x: M2, y: M2): M2 => [x[0] + y[0], x[1] + y[1], x[2] + y[2], x[3] + y[3]];

/** Exact autocovariances γ_θ(s), γ_v(s) for s = 0 … L. */
function exactMoments(m: ModeSpec, L: number): { gTheta: Float64Array; gV: Float64Array } {
  const A: M2 = [1 - m.kappa, 1, 0, m.rho];
  // Smith's doubling: Σ = Σ_j A^j Q (Aᵀ)^j.
  let S: M2 = [0, 0, 0, m.b * m.b];
  let Ak: M2 = A;
  for (let it = 0; it < 40; it++) {
    S = add(S, mul(mul(Ak, S), tr(Ak)));
    Ak = mul(Ak, Ak);
  }
  const gTheta = new Float64Array(L + 1);
  const gV = new Float64Array(L + 1);
  let P: M2 = S; // A^s Σ
  const g = [-m.kappa, 1];
  for (let s = 0; s <= L; s++) {
    gTheta[s] = P[0];
    const Pg0 = P[0] * g[0] + P[1] * g[1];
    const Pg1 = P[2] * g[0] + P[3] * g[1];
    gV[s] = g[0] * Pg0 + g[1] * Pg1;
    P = mul(A, P);
  }
  return { gTheta, gV };
}

/** (2/n)·Σ_{s∈ℤ} γ(s)²: asymptotic variance of the sample variance. */
function varOfVariance(g: Float64Array, n: number): number {
  let s = g[0] * g[0];
  for (let k = 1; k < g.length; k++) s += 2 * g[k] * g[k];
  return (2 / n) * s;
}

/** Bartlett's asymptotic variance of the sample autocorrelation at lag s. */
function bartlett(r: Float64Array, s: number, n: number): number {
  const at = (k: number) => (Math.abs(k) < r.length ? r[Math.abs(k)] : 0);
  let acc = 0;
  const K = r.length - 1;
  for (let k = -K; k <= K; k++) {
    acc +=
      at(k) ** 2 +
      at(k + s) * at(k - s) +
      2 * at(s) ** 2 * at(k) ** 2 -
      4 * at(s) * at(k) * at(k - s);
  }
  return acc / n;
}

function simulate(modes: ModeSpec[], count: number, seed: number): Float64Array {
  const rng = new Rng(seed);
  const out = new Float64Array(modes.length * count);
  modes.forEach((m, i) => {
    let th = 0;
    let u = 0;
    const burn = Math.ceil(20 / Math.min(m.kappa, 1 - m.rho));
    for (let t = -burn; t < count; t++) {
      if (t >= 0) out[i * count + t] = th;
      th = (1 - m.kappa) * th + u;
      u = m.rho * u + m.b * rng.normal();
    }
  });
  return out;
}

describe('velocityStatistics on synthetic Ornstein–Uhlenbeck modes', () => {
  const modes: ModeSpec[] = [
    { kappa: 0.05, rho: 0, b: 1 },
    { kappa: 0.2, rho: 0, b: 0.3 },
    { kappa: 0.02, rho: 0.8, b: 1 },
    { kappa: 0.1, rho: 0.5, b: 2 },
    { kappa: 0.2, rho: 0.7, b: 0.5 },
  ];
  const count = 120_000;
  const n = count - 1;
  const maxLag = 320;
  const L = 4000; // exact moments far past every correlation time
  const exact = modes.map((m) => exactMoments(m, L));

  it('the exact-moment helper reproduces the closed OU formulas', () => {
    for (const [i, m] of modes.entries()) {
      if (m.rho !== 0) continue;
      const q = m.b * m.b;
      const { gTheta, gV } = exact[i];
      expect(gV[0]).toBeCloseTo((2 * q) / (2 - m.kappa), 10);
      expect(gTheta[0]).toBeCloseTo(q / (m.kappa * (2 - m.kappa)), 8);
      for (const s of [1, 2, 7]) {
        expect(gV[s] / gV[0]).toBeCloseTo((-m.kappa / 2) * (1 - m.kappa) ** (s - 1), 12);
      }
    }
  });

  const proj = simulate(modes, count, 7);
  const stats = velocityStatistics(proj, modes.length, count, [1, 2, 3, 4, 5], { maxLag });

  it('recovers var(v), σ² and τ = σ²/(D·T_w) within 4 standard errors', () => {
    for (const [i, st] of stats.entries()) {
      const { gTheta, gV } = exact[i];
      const seD = Math.sqrt(varOfVariance(gV, n));
      const seS = Math.sqrt(varOfVariance(gTheta, count));
      expect(st.rank).toBe(i + 1);
      expect(Math.abs(st.D - gV[0])).toBeLessThan(4 * seD);
      expect(Math.abs(st.sigma2 - gTheta[0])).toBeLessThan(4 * seS);
      const tauExact = gTheta[0] / (gV[0] * count);
      const relTol = 4 * (seD / gV[0] + seS / gTheta[0]);
      expect(Math.abs(st.tau / tauExact - 1)).toBeLessThan(relTol);
      expect(Math.abs(st.meanVelocity)).toBeLessThan(1e-2 * Math.sqrt(gV[0]));
    }
  });

  it('recovers C(s) lag by lag and the integrated correlation time to the first zero', () => {
    for (const [i, st] of stats.entries()) {
      const r = exact[i].gV.map((g) => g / exact[i].gV[0]);
      expect(st.C.length).toBe(maxLag + 1);
      expect(st.C[0]).toBe(1);
      for (const s of [1, 2, 3, 5, 10, 40]) {
        const se = Math.sqrt(bartlett(r, s, n));
        expect(Math.abs(st.C[s] - r[s])).toBeLessThan(4 * se);
      }
      const ex = integrateToFirstZero(r.subarray(0, maxLag + 1));
      const z = ex.zeroLag ?? NaN;
      expect(z).toBeGreaterThan(0);
      // Where C crosses zero steeply (both neighbours > 5 s.e. from 0) the crossing lag must be
      // exact; otherwise it may move by a lag or two. The interpolated integral is 1-Lipschitz
      // in each C(s) up to the crossing, so Σ s.e.(C(s)) over those lags bounds its error.
      const seAt = (s: number) => Math.sqrt(bartlett(r, s, n));
      if (Math.abs(r[z - 1]) > 5 * seAt(z - 1) && Math.abs(r[z]) > 5 * seAt(z)) {
        expect(st.zeroLag).toBe(z);
      } else {
        expect(Math.abs((st.zeroLag ?? Infinity) - z)).toBeLessThanOrEqual(2);
      }
      let se = 0;
      for (let s = 1; s <= z + 2; s++) se += seAt(s);
      expect(Math.abs(st.tauIntegral - ex.integral)).toBeLessThan(4 * se);
    }
    // Pure OU: C(1) = −κ/2 < 0, so the crossing is inside the first lag: ½·1/(1 + κ/2).
    expect(stats[0].zeroLag).toBe(1);
    expect(stats[0].tauIntegral).toBeCloseTo(0.5 / (1 + 0.05 / 2), 2);
    // Coloured velocities: ∫C ≈ 1/(1 − ρ) − ½ before the weak anticorrelated tail.
    expect(stats[2].tauIntegral).toBeGreaterThan(3);
    expect(stats[2].tauIntegral).toBeLessThan(1 / (1 - 0.8));
    expect(stats[4].zeroLag).toBe(4); // steep crossing: C(3) = 0.056, C(4) = −0.048 exactly
  });

  it('confinement makes τ far smaller than the free-diffusion value τ_int/3', () => {
    for (const st of stats) expect(st.tau).toBeLessThan(0.1 * (st.tauIntegral / 3));
  });

  it('a free random walk with white velocities gives τ ≈ 1/6 and τ_int ≈ ½', () => {
    const m = 200_000;
    const rng = new Rng(3);
    const x = new Float64Array(m);
    for (let t = 1; t < m; t++) x[t] = x[t - 1] + rng.normal();
    const [st] = velocityStatistics(x, 1, m, [1], { maxLag: 20 });
    expect(st.D).toBeGreaterThan(0.99);
    expect(st.D).toBeLessThan(1.01);
    // σ² of one random-walk window fluctuates by O(1) relative: only the order of magnitude.
    expect(st.tau).toBeGreaterThan(0.02);
    expect(st.tau).toBeLessThan(0.6);
    expect(st.tauIntegral).toBeGreaterThan(0.45);
    expect(st.tauIntegral).toBeLessThan(0.6);
  });

  it('stepEvery rescales velocities and times to steps', () => {
    const [a] = velocityStatistics(proj, modes.length, count, [3], { maxLag: 50 });
    const [b] = velocityStatistics(proj, modes.length, count, [3], { maxLag: 50, stepEvery: 4 });
    expect(b.D).toBeCloseTo(a.D / 16, 12);
    expect(b.sigma2).toBe(a.sigma2);
    expect(b.tau).toBeCloseTo(a.tau * 4, 12);
    expect(b.tauIntegral).toBeCloseTo(a.tauIntegral * 4, 10);
    expect(Array.from(b.C)).toEqual(Array.from(a.C));
  });

  // The page's size (50 modes × 1,600 snapshots × 320 lags); its speed is a goal of
  // `npm run bench`. Here: every statistic equals its definition (velocity.ts) summed directly.
  it('50 modes × 1,600 snapshots × 320 lags: each statistic equals its direct definition', () => {
    const k = 50;
    const m = 1600;
    const lags = 320;
    const stepEvery = 2;
    const rng = new Rng(5);
    const p = Float64Array.from({ length: k * m }, (_, i) => 0.3 * (i % m) * 1e-3 + rng.normal());
    const ranks = Array.from({ length: k }, (_, i) => k - i);
    const out = velocityStatistics(p, k, m, ranks, { maxLag: lags, stepEvery });
    expect(out.map((o) => o.rank)).toEqual(ranks);
    const n = m - 1;
    const rel = (a: number, b: number) => Math.abs(a - b) / Math.abs(b);
    let worstC = 0;
    for (const o of out) {
      const th = p.subarray((o.rank - 1) * m, o.rank * m);
      const thMean = th.reduce((a, b) => a + b, 0) / m;
      const sigma2 = th.reduce((a, b) => a + (b - thMean) ** 2, 0) / m;
      const d = Float64Array.from({ length: n }, (_, t) => th[t + 1] - th[t]);
      const vMean = d.reduce((a, b) => a + b, 0) / n / stepEvery;
      const v = d.map((x) => x / stepEvery - vMean);
      const c = (s: number) => {
        let sum = 0;
        for (let t = 0; t < n - s; t++) sum += v[t] * v[t + s];
        return sum / (n - s);
      };
      const D = v.reduce((a, b) => a + b * b, 0) / n;
      expect(rel(o.sigma2, sigma2)).toBeLessThan(1e-12);
      expect(rel(o.D, D)).toBeLessThan(1e-12);
      expect(rel(o.meanVelocity, vMean)).toBeLessThan(1e-9);
      expect(rel(o.tau, sigma2 / (D * m * stepEvery))).toBeLessThan(1e-12);
      expect(o.C.length).toBe(lags + 1);
      const c0 = c(0);
      for (let s = 0; s <= lags; s++) worstC = Math.max(worstC, Math.abs(o.C[s] - c(s) / c0));
      // τ_acf: Σ_{|s|<n} W(|s|)·ĉ(s) over the raw differences, W(s) = (m−1−s)(m−s)(m+1−s)/(6m²).
      let acf = 0;
      for (let s = 0; s < n; s++) {
        let raw = 0;
        for (let t = 0; t < n - s; t++) raw += d[t] * d[t + s];
        const W = ((m - 1 - s) * (m - s) * (m + 1 - s)) / (6 * m * m);
        acf += (s === 0 ? 1 : 2) * W * (raw / (n - s));
      }
      expect(rel(o.tauAcf, acf / (D * m * stepEvery))).toBeLessThan(1e-9);
      // τ_int: the trapezoid of C up to its interpolated first zero, in steps.
      const z = Array.from(o.C).findIndex((x) => x <= 0);
      expect(o.zeroLag).toBe(z < 0 ? null : z);
      if (z > 0) {
        let area = 0;
        for (let s = 1; s < z; s++) area += (o.C[s - 1] + o.C[s]) / 2;
        const frac = o.C[z - 1] / (o.C[z - 1] - o.C[z]);
        area += (o.C[z - 1] * frac) / 2;
        expect(o.tauIntegral).toBeCloseTo(area * stepEvery, 10);
      }
    }
    expect(worstC).toBeLessThan(1e-12);
  });

  it('rejects bad input', () => {
    expect(() => velocityStatistics(proj, modes.length, count, [modes.length + 1])).toThrow(
      /rank 6/,
    );
    expect(() => velocityStatistics(new Float64Array(5), 2, 3, [1])).toThrow(/projections/);
    expect(() => velocityStatistics(proj, 1, 2, [1])).toThrow(/count/);
  });
});

describe('autocorrelation and integrateToFirstZero', () => {
  it('autocorrelation of an alternating series is (−1)^s', () => {
    const x = Float64Array.from({ length: 100 }, (_, t) => (t % 2 ? 1 : -1));
    const C = autocorrelation(x, 4);
    expect(Array.from(C)).toEqual([1, -1, 1, -1, 1]);
  });

  it('trapezoid to the interpolated first zero', () => {
    expect(integrateToFirstZero([1, 0.5, -0.5, 0.7])).toEqual({
      integral: 0.75 + 0.125,
      zeroLag: 2,
    });
    expect(integrateToFirstZero([1, 0.5, 0.25])).toEqual({ integral: 0.75 + 0.375, zeroLag: null });
    // Exponential C(s) = e^{−s/τc}: the continuous integral τc, up to the trapezoid's O(1/τc) bias.
    const tc = 30;
    const C = Float64Array.from({ length: 2000 }, (_, s) => (s < 1999 ? Math.exp(-s / tc) : -1));
    expect(integrateToFirstZero(C).integral).toBeCloseTo(tc, 1);
  });
});

describe('theoryFits', () => {
  it('recovers the exponents of exact power laws and ψ = β₁ + β₂', () => {
    const pts: TheoryPoint[] = [];
    for (let r = 2; r <= 40; r++) {
      const F = 0.3 * r ** 0.7;
      pts.push({
        rank: r,
        flatness: F,
        D: 3 * F ** -1.3,
        tau: 0.2 * F ** -0.9,
        tauIntegral: 4 * F ** -0.4,
        T0: 2e-5 * F ** -2.5,
      });
    }
    const f = theoryFits(pts, 2, 30);
    // Fig. 5B's cooling along flat directions: T ∝ F^−β_T, β_T positive when flatter is cooler.
    expect(f.T0?.exponent).toBeCloseTo(2.5, 10);
    expect(f.T0?.n).toBe(29);
    expect(f.D.exponent).toBeCloseTo(1.3, 10);
    expect(f.tau.exponent).toBeCloseTo(0.9, 10);
    expect(f.tauIntegral.exponent).toBeCloseTo(0.4, 10);
    expect(f.D.n).toBe(29);
    expect(f.D.ranks).toEqual([2, 30]);
    expect(f.D.r2).toBeCloseTo(1, 12);
    expect(f.D.slope).toBeCloseTo(-1.3, 10);
    expect(f.psiPredicted.value).toBeCloseTo(2.2, 10);
  });

  it('with noisy data, β₁ + β₂ equals the ψ fitted to σ² = D·τ·T_w over the same modes', () => {
    const rng = new Rng(11);
    const Tw = 1600;
    const pts: (TheoryPoint & { variance: number })[] = [];
    for (let r = 2; r <= 60; r++) {
      const F = 0.1 * r ** 0.8 * Math.exp(0.2 * rng.normal());
      const D = F ** -1.1 * Math.exp(0.3 * rng.normal());
      const tau = 0.05 * F ** -1.4 * Math.exp(0.3 * rng.normal());
      pts.push({ rank: r, flatness: F, D, tau, tauIntegral: 1, variance: D * tau * Tw });
    }
    const f = theoryFits(pts, 2, 60);
    expect(f.T0).toBeNull(); // no temperatures measured: no fit, not a NaN one
    const psi = varianceFlatnessFit(pts, 2, 60);
    expect(f.psiPredicted.value).toBeCloseTo(psi.exponent, 10);
    expect(f.D.ci95[0]).toBeLessThan(f.D.exponent);
    expect(f.psiPredicted.ci95[0]).toBeLessThan(f.psiPredicted.value);
    expect(f.tauIntegral.exponent).toBeCloseTo(0, 12); // constant τ_int: no dependence on F
  });
});
