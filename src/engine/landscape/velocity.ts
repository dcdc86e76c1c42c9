/**
 * Velocity statistics of the PCA modes (SCIENCE.md "Why: random landscape theory", Fig. 3):
 * the SGD noise strength D_i and the correlation times along each PCA direction, computed from
 * the window projections θ_i(t) alone (no extra training, no loss evaluations).
 *
 * Definitions (ranks are 1-based: rank i is row i − 1 of the k × count projections matrix).
 * Snapshots are `stepEvery` SGD steps apart (1 for the SGD window: a snapshot after every step),
 * so Δt = stepEvery steps and every time below is in STEPS.
 * - velocity            v_i(t) = [θ_i(t+1) − θ_i(t)] / Δt,          t = 0 … n − 1, n = count − 1
 * - noise strength      D_i = var(v_i)            (population variance, mean removed)
 * - weight variance     σ_i² = var(θ_i)           (population variance, = the PCA eigenvalue)
 * - autocorrelation     C_i(s) = c_i(s)/c_i(0),   c_i(s) = Σ_{t<n−s} (v_t − v̄)(v_{t+s} − v̄) / (n − s)
 *                       (unbiased-per-lag autocovariance; s in snapshot lags, lag s = s·Δt steps)
 * - window time scale   τ_i = σ_i² / (D_i · T_w),  T_w = count · Δt  (SCIENCE.md's [choice], the
 *                       paper's Eq. 13 with Δt = 1 step). Units: steps.
 * - integrated time     τ_int,i = ∫_0^{z} C_i(s) ds of the piecewise-linear C, from lag 0 to its
 *                       first zero crossing z (linear interpolation between the last positive
 *                       lag and the first lag with C ≤ 0), times Δt. Units: steps. For
 *                       C(s) = e^{−s/τc} it returns ≈ τc; for white velocities ≈ ½ step
 *                       (C drops from 1 to ~0 within one lag). When C stays positive up to
 *                       maxLag the integral is truncated there and `zeroLag` is null.
 *
 * - autocorrelation τ   τ_acf,i = Σ_{|s|<n} W(|s|)·ĉ_i(s) / (D_i·T_w), with ĉ_i(s) the per-lag
 *                       autocovariance of the RAW snapshot differences (mean not removed; for a
 *                       stationary mode it is 0) and W the window's weighting (`windowLagWeights`):
 *                       for a stationary velocity process E[σ²_window] = Σ_s W(|s|)·c(s) exactly,
 *                       so τ_acf estimates the same τ as σ²/(D·T_w) from the velocity
 *                       correlations alone. Unlike β₁ + β₂ = ψ (an identity once τ is defined
 *                       from σ²), their agreement is a check: it fails where the velocities are
 *                       not stationary over the window (drift, a still-relaxing mode).
 *
 * How the two times relate. For FREE diffusion with short-range velocity correlations the
 * window variance is σ² ≈ D·(Σ_{s=−∞}^{∞} C(s))·T_w/6 ≈ D·2τ_int·T_w/6, i.e. τ ≈ τ_int/3 (and
 * τ ≈ 1/6 step for white velocities). SGD velocities are ANTI-correlated at longer lags (the
 * weights are confined; for a confined, stationary θ the full sum Σ_s C(s) is 0), which is why
 * the paper's τ is far smaller than that free-diffusion value and falls with flatness. τ_int
 * only sees the positive, short-lag part of C; the two can be compared on the same plot.
 *
 * Caveat for stepEvery > 1 (the Langevin window): uncorrelated per-step noise of variance D₁
 * gives var(v) = D₁/Δt, so D and τ depend on the sampling interval; compare runs only at equal
 * stepEvery. Power-law EXPONENTS (theoryFits) are unaffected by such constant factors.
 *
 * Cost: a direct sum, O(modes · n · maxLag): 50 modes × 1,600 snapshots × 320 lags ≈ 26 M
 * multiply–adds, a few tens of milliseconds in plain JS; τ_acf needs every lag, by FFT.
 */
import { negated, powerLawFit, type PowerLawFit } from './fits';

export interface VelocityOptions {
  /** Largest lag (in snapshots) of C(s); default 320 (one epoch at N = 8,000, B = 25 … 50). */
  maxLag?: number;
  /** SGD steps between snapshots (Δt); default 1. */
  stepEvery?: number;
}

export interface ModeVelocity {
  /** 1-based PCA rank. */
  rank: number;
  /** D_i = var(v_i), per step². */
  D: number;
  /** σ_i² = var(θ_i) over the window. */
  sigma2: number;
  /** Mean velocity (drift per step); ≈ 0 for the diffusive modes i ≥ 2. */
  meanVelocity: number;
  /** Normalised velocity autocorrelation C(s), s = 0 … maxLag (snapshot lags), C(0) = 1. */
  C: Float64Array;
  /** Lag (in snapshots) of the first C(s) ≤ 0, or null if C stays positive up to maxLag. */
  zeroLag: number | null;
  /** τ_i = σ_i²/(D_i·T_w), in steps. */
  tau: number;
  /** ∫ C(s) ds from 0 to the first zero crossing (trapezoid, interpolated zero), in steps. */
  tauIntegral: number;
  /** τ from the velocity autocovariance summed over every lag with the window's weighting. */
  tauAcf: number;
}

/**
 * W(s) for s = 0 … m − 2: the weight of the lag-s velocity autocovariance in the expected
 * (population) variance of m snapshots θ_0 … θ_{m−1}, whose m − 1 differences are the
 * velocities: E[σ²] = Σ_{|s|<m−1} W(|s|)·c(s). From σ² = (1/2m²)·Σ_{t,u}(θ_t − θ_u)² and
 * E[(θ_t − θ_u)²] = Σ_{|s|<d} (d − |s|)·c(s), d = |t − u|:
 * W(s) = (m−1−s)(m−s)(m+1−s)/(6m²); W(0) = (m² − 1)/(6m) ≈ T_w/6, the free-diffusion value.
 */
export function windowLagWeights(m: number): Float64Array {
  const W = new Float64Array(Math.max(0, m - 1));
  for (let s = 0; s < m - 1; s++) W[s] = ((m - 1 - s) * (m - s) * (m + 1 - s)) / (6 * m * m);
  return W;
}

/**
 * Σ_{|s|<n} W(|s|)·ĉ(s) for the n = m − 1 raw differences d (ĉ(s) = Σ_t d_t d_{t+s}/(n − s)):
 * the window variance of θ that its velocity autocovariance predicts. The lag sums come from
 * one FFT of the zero-padded series (O(n log n): windows reach 10⁵ snapshots in the tests).
 */
export function acfWindowVariance(d: ArrayLike<number>): number {
  const n = d.length;
  if (n === 0) return 0;
  const W = windowLagWeights(n + 1);
  const sums = lagSums(d);
  let total = W[0] * (sums[0] / n);
  for (let s = 1; s < n; s++) total += 2 * W[s] * (sums[s] / (n - s));
  return total;
}

/** Σ_{t<n−s} x_t x_{t+s} for s = 0 … n − 1, by FFT (Wiener–Khinchin on a zero-padded copy). */
export function lagSums(x: ArrayLike<number>): Float64Array {
  const n = x.length;
  let size = 1;
  while (size < 2 * n) size <<= 1;
  const re = new Float64Array(size);
  const im = new Float64Array(size);
  for (let i = 0; i < n; i++) re[i] = x[i];
  fft(re, im, false);
  for (let i = 0; i < size; i++) {
    re[i] = re[i] * re[i] + im[i] * im[i];
    im[i] = 0;
  }
  fft(re, im, true);
  return re.slice(0, n);
}

/** In-place iterative radix-2 FFT (size a power of two); `inverse` includes the 1/size. */
function fft(re: Float64Array, im: Float64Array, inverse: boolean): void {
  const size = re.length;
  for (let i = 1, j = 0; i < size; i++) {
    let bit = size >> 1;
    for (; j & bit; bit >>= 1) j ^= bit;
    j ^= bit;
    if (i < j) {
      [re[i], re[j]] = [re[j], re[i]];
      [im[i], im[j]] = [im[j], im[i]];
    }
  }
  for (let len = 2; len <= size; len <<= 1) {
    const ang = ((inverse ? 2 : -2) * Math.PI) / len;
    const wr = Math.cos(ang);
    const wi = Math.sin(ang);
    for (let i = 0; i < size; i += len) {
      let cr = 1;
      let ci = 0;
      const h = len >> 1;
      for (let k = 0; k < h; k++) {
        const ar = re[i + k + h] * cr - im[i + k + h] * ci;
        const ai = re[i + k + h] * ci + im[i + k + h] * cr;
        re[i + k + h] = re[i + k] - ar;
        im[i + k + h] = im[i + k] - ai;
        re[i + k] += ar;
        im[i + k] += ai;
        const t = cr * wr - ci * wi;
        ci = cr * wi + ci * wr;
        cr = t;
      }
    }
  }
  if (inverse) for (let i = 0; i < size; i++) re[i] /= size;
}

export const DEFAULT_MAX_LAG = 320;

/**
 * Velocity statistics of the modes `ranks` from the k × count row-major `projections` (PcaResult
 * `projections`, `k`, `count`).
 */
export function velocityStatistics(
  projections: Float64Array,
  k: number,
  count: number,
  ranks: readonly number[],
  opts: VelocityOptions = {},
): ModeVelocity[] {
  if (!Number.isInteger(k) || k < 1 || !Number.isInteger(count) || count < 3) {
    throw new Error(
      `velocityStatistics: need k ≥ 1 modes and count ≥ 3 snapshots (k=${k}, count=${count})`,
    );
  }
  if (projections.length < k * count) {
    throw new Error(
      `velocityStatistics: projections hold ${projections.length} values, expected ${k}×${count}`,
    );
  }
  const dt = opts.stepEvery ?? 1;
  if (!(dt > 0)) throw new Error(`velocityStatistics: stepEvery must be positive, got ${dt}`);
  const n = count - 1;
  const wantLag = opts.maxLag ?? DEFAULT_MAX_LAG;
  if (!Number.isInteger(wantLag) || wantLag < 1) {
    throw new Error(`velocityStatistics: maxLag must be a positive integer, got ${wantLag}`);
  }
  const maxLag = Math.min(wantLag, n - 1);
  const Tw = count * dt;
  const v = new Float64Array(n);
  const out: ModeVelocity[] = [];
  for (const rank of ranks) {
    if (!Number.isInteger(rank) || rank < 1 || rank > k) {
      throw new Error(`velocityStatistics: rank ${rank} is outside 1..${k}`);
    }
    const row = (rank - 1) * count;
    // σ² of θ (two-pass, population).
    let mt = 0;
    for (let t = 0; t < count; t++) mt += projections[row + t];
    mt /= count;
    let s2 = 0;
    for (let t = 0; t < count; t++) {
      const d = projections[row + t] - mt;
      s2 += d * d;
    }
    const sigma2 = s2 / count;
    // Centred velocities; the raw snapshot differences first, for τ_acf.
    let mv = 0;
    for (let t = 0; t < n; t++) v[t] = projections[row + t + 1] - projections[row + t];
    const acfVar = acfWindowVariance(v);
    for (let t = 0; t < n; t++) {
      v[t] /= dt;
      mv += v[t];
    }
    mv /= n;
    for (let t = 0; t < n; t++) v[t] -= mv;
    const C = autocorrelation(v, maxLag);
    let c0 = 0;
    for (let t = 0; t < n; t++) c0 += v[t] * v[t];
    const D = c0 / n;
    const { integral, zeroLag } = integrateToFirstZero(C);
    out.push({
      rank,
      D,
      sigma2,
      meanVelocity: mv,
      C,
      zeroLag,
      tau: D > 0 ? sigma2 / (D * Tw) : NaN,
      tauIntegral: D > 0 ? integral * dt : NaN,
      // acfVar is in snapshot units (θ² per snapshot lag² summed): the same σ² scale as sigma2.
      tauAcf: D > 0 && sigma2 > 0 ? (sigma2 / (D * Tw)) * (acfVar / sigma2) : NaN,
    });
  }
  return out;
}

/**
 * Normalised autocorrelation of an already CENTRED series x (length n): C(s) = c(s)/c(0) with
 * c(s) = Σ_{t<n−s} x_t x_{t+s} / (n − s), for s = 0 … maxLag (maxLag ≤ n − 1). All zero (C(0)
 * included) when x is identically zero.
 */
export function autocorrelation(x: ArrayLike<number>, maxLag: number): Float64Array {
  const n = x.length;
  const L = Math.min(maxLag, n - 1);
  const C = new Float64Array(L + 1);
  let c0 = 0;
  for (let t = 0; t < n; t++) c0 += x[t] * x[t];
  c0 /= n;
  if (!(c0 > 0)) return C;
  C[0] = 1;
  for (let s = 1; s <= L; s++) {
    let acc = 0;
    const m = n - s;
    // Four accumulators: lets the JIT pipeline the loop.
    let a1 = 0;
    let a2 = 0;
    let a3 = 0;
    let t = 0;
    for (; t + 3 < m; t += 4) {
      acc += x[t] * x[t + s];
      a1 += x[t + 1] * x[t + s + 1];
      a2 += x[t + 2] * x[t + s + 2];
      a3 += x[t + 3] * x[t + s + 3];
    }
    for (; t < m; t++) acc += x[t] * x[t + s];
    C[s] = (acc + a1 + a2 + a3) / m / c0;
  }
  return C;
}

/**
 * ∫_0^z C(s) ds of the piecewise-linear C (unit lag spacing), z = the first zero crossing:
 * between the last lag with C > 0 and the first with C ≤ 0, linearly interpolated. If C stays
 * positive, the trapezoid integral up to the last lag, with zeroLag = null.
 */
export function integrateToFirstZero(C: ArrayLike<number>): {
  integral: number;
  zeroLag: number | null;
} {
  if (C.length === 0 || !(C[0] > 0)) return { integral: 0, zeroLag: C.length ? 0 : null };
  let integral = 0;
  for (let s = 1; s < C.length; s++) {
    const a = C[s - 1];
    const b = C[s];
    if (b <= 0) {
      const z = a / (a - b); // fraction of the last interval before the crossing
      integral += 0.5 * a * z;
      return { integral, zeroLag: s };
    }
    integral += 0.5 * (a + b);
  }
  return { integral, zeroLag: null };
}

/** A power-law fit over a PCA rank range, exponent reported NEGATED ("y ∝ F^(−β)"). */
export type TheoryFit = PowerLawFit & { ranks: [number, number] };

export interface TheoryPoint {
  rank: number;
  flatness: number;
  D: number;
  tau: number;
  tauIntegral: number;
  /** τ from the summed velocity autocovariance; absent in results made before it existed. */
  tauAcf?: number;
  /** Active temperature at the profile minimum (absent where it was not measured). */
  T0?: number;
}

/** How τ_acf (velocity correlations) and τ = σ²/(D·T_w) agree over the fitted modes. */
export interface TauAgreement {
  /** Median and quartiles of τ_acf/τ over the modes. */
  medianRatio: number;
  quartiles: [number, number];
  /** ln τ_acf against ln τ: `exponent` is the raw slope (1 when they agree in shape). */
  fit: TheoryFit;
  n: number;
}

export interface TheoryFits {
  /** D_i ∝ F_i^(−β₁): exponent = β₁. */
  D: TheoryFit;
  /** τ_i ∝ F_i^(−β₂): exponent = β₂. */
  tau: TheoryFit;
  /** τ_int,i ∝ F_i^(−β₂'): exponent = β₂'. */
  tauIntegral: TheoryFit;
  /**
   * β₁ + β₂. Not a prediction: σ² = D·τ·T_w by the definition of τ, so over the same modes it
   * equals the ψ fitted to σ² (an identity, kept because the split is the paper's Eq. 13).
   * ci95: the two half-widths added in quadrature (indicative only).
   */
  psiPredicted: { value: number; ci95: [number, number] };
  /** The independent check of τ: its value from the velocity autocorrelation. */
  tauAgreement: TauAgreement | null;
  /**
   * T_i ∝ F_i^(−β_T), the active temperature at each mode's minimum against its flatness (Fig.
   * 5B): exponent = β_T, positive where flatter directions are cooler. Null where no mode has
   * a temperature.
   */
  T0: TheoryFit | null;
}

function negatedFit(f: PowerLawFit, ranks: [number, number]): TheoryFit {
  return negated(f, ranks) as TheoryFit;
}

/** The q-quantile of a sorted, non-empty list (linear interpolation between neighbours). */
function quantile(sorted: readonly number[], q: number): number {
  const pos = q * (sorted.length - 1);
  const lo = Math.floor(pos);
  const hi = Math.ceil(pos);
  return sorted[lo] + (sorted[hi] - sorted[lo]) * (pos - lo);
}

/** τ_acf against τ over the points (rank order); null with fewer than 3 usable modes. */
export function tauAgreement(
  modes: readonly TheoryPoint[],
  ranks: [number, number],
): TauAgreement | null {
  const sel = [...modes]
    .filter(
      (m) =>
        m.rank >= ranks[0] &&
        m.rank <= ranks[1] &&
        m.tau > 0 &&
        m.tauAcf !== undefined &&
        m.tauAcf > 0 &&
        Number.isFinite(m.tauAcf),
    )
    .sort((a, b) => a.rank - b.rank);
  if (sel.length < 3) return null;
  const ratios = sel.map((m) => (m.tauAcf as number) / m.tau).sort((a, b) => a - b);
  const f = powerLawFit(
    sel.map((m) => m.tau),
    sel.map((m) => m.tauAcf as number),
    { interval: 'block-bootstrap' },
  );
  return {
    medianRatio: quantile(ratios, 0.5),
    quartiles: [quantile(ratios, 0.25), quantile(ratios, 0.75)],
    fit: { ...f, ranks },
    n: sel.length,
  };
}

/**
 * Log–log fits of D, τ and τ_int against the flatness F over the modes with rank in
 * fromRank..toRank (inclusive), in rank order, with block-bootstrap intervals (neighbouring
 * modes' residuals are correlated). Modes with non-finite or non-positive values are skipped by
 * powerLawFit. Exponents are reported as the NEGATED slope (positive for an inverse law), like
 * ψ in varianceFlatnessFit.
 */
export function theoryFits(
  modes: readonly TheoryPoint[],
  fromRank: number,
  toRank: number,
): TheoryFits {
  if (
    !Number.isInteger(fromRank) ||
    !Number.isInteger(toRank) ||
    fromRank < 1 ||
    toRank < fromRank
  ) {
    throw new Error(`theoryFits: bad rank range [${fromRank}, ${toRank}]`);
  }
  const sel = modes
    .filter((m) => m.rank >= fromRank && m.rank <= toRank)
    .sort((a, b) => a.rank - b.rank);
  const F = sel.map((m) => m.flatness);
  const ranks: [number, number] = [fromRank, toRank];
  const fit = (y: number[]) =>
    negatedFit(powerLawFit(F, y, { interval: 'block-bootstrap' }), ranks);
  const D = fit(sel.map((m) => m.D));
  const tau = fit(sel.map((m) => m.tau));
  const tauIntegral = fit(sel.map((m) => m.tauIntegral));
  const value = D.exponent + tau.exponent;
  const h1 = 0.5 * (D.ci95[1] - D.ci95[0]);
  const h2 = 0.5 * (tau.ci95[1] - tau.ci95[0]);
  const half = Math.sqrt(h1 * h1 + h2 * h2);
  return {
    D,
    tau,
    tauIntegral,
    psiPredicted: { value, ci95: [value - half, value + half] },
    tauAgreement: tauAgreement(sel, ranks),
    T0: sel.some((m) => m.T0 !== undefined) ? fit(sel.map((m) => m.T0 ?? NaN)) : null,
  };
}
