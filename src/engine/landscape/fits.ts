/**
 * Power-law fits and variance-spectrum summaries (SCIENCE.md, Figs. 1–2 and 6).
 *
 * - `powerLawFit`: ordinary least squares of ln y on ln x, with a 95% confidence interval on
 *   the exponent from Student's t distribution (df = n − 2), or, with `interval:
 *   'block-bootstrap'`, from a moving-block bootstrap over the points in their given (rank)
 *   order (blockBootstrap.ts): fits over consecutive ranks have strongly autocorrelated
 *   residuals, and the t interval, which takes them as independent, is then far too narrow.
 *   The point value is the OLS slope either way. The t quantile is computed here (regularised
 *   incomplete beta + Newton), so no statistics package is needed.
 * - `spectrumFit`: σ_i² ∝ i^(−γ) over a rank range; γ is reported POSITIVE (the slope negated).
 * - `varianceFlatnessFit`: σ_i² ∝ F_i^(−ψ) over a rank range; ψ is reported POSITIVE for the
 *   inverse relation (ψ = −slope), so an Einstein-like (positive-slope) relation gives ψ < 0.
 *   It also gives ψ by total least squares (`tls`): F_i is measured with error too, and OLS of
 *   ln σ² on ln F flattens the slope by that error; the TLS value bounds how much.
 *   Both default to the block-bootstrap interval.
 * - cumulative-variance helpers for the "90% of the variance in the first 35 modes" statement
 *   and log-spaced integer ranks for choosing which modes get a flatness measurement.
 *
 * Conventions: ranks are 1-based (rank i is `variance[i − 1]`), arrays are in rank order
 * (largest variance first), and fits skip points where x or y is non-positive or non-finite.
 */

import { centredMoments } from './moments';
import { blockBootstrapSlope, totalLeastSquaresSlope } from './blockBootstrap';

/** How a fit's interval was made. */
export type IntervalMethod = 'ols-t' | 'block-bootstrap';

/** Result of a log–log least-squares fit y ≈ prefactor · x^exponent. */
export interface PowerLawFit {
  /**
   * The fitted exponent. For `powerLawFit` it is the raw slope of ln y vs ln x; for
   * `spectrumFit` / `varianceFlatnessFit` it is γ / ψ, i.e. the slope NEGATED ("sign as named").
   */
  exponent: number;
  /** Confidence interval (95% unless `level` says otherwise) on `exponent`, by `method`. */
  ci95: [number, number];
  /** Standard error of the slope, by `method`. */
  stderr: number;
  /** How `ci95` was made. */
  method: IntervalMethod;
  /** Student-t interval of the OLS fit (independent residuals), for comparison. */
  ciOls: [number, number];
  /** Lag-1 autocorrelation of the residuals in point order, and the bootstrap's block length. */
  residualLag1?: number;
  blockLength?: number;
  /** Raw slope of ln y vs ln x (equal to log10 y vs log10 x). */
  slope: number;
  /** Intercept of the line log10 y = intercept + slope · log10 x. */
  intercept: number;
  /** y = prefactor · x^slope. */
  prefactor: number;
  /** Coefficient of determination of the log–log line. */
  r2: number;
  /** Number of points used (after skipping non-positive / non-finite ones). */
  n: number;
  /** Points skipped as non-positive or non-finite. */
  skipped: number;
  /** Rank range (inclusive, 1-based) when the fit was over PCA ranks. */
  ranks?: [number, number];
}

export interface PowerLawOptions {
  /** Keep only points with xMin ≤ x ≤ xMax. */
  xMin?: number;
  xMax?: number;
  /** Two-sided confidence level of `ci95` (default 0.95). */
  level?: number;
  /** Interval method (default 'ols-t'); 'block-bootstrap' treats the points as a series in order. */
  interval?: IntervalMethod;
  /** Seed of the bootstrap (default 1). */
  seed?: number;
}

/**
 * Least-squares fit of ln y = a + s·ln x. The interval is s ± t_{(1+level)/2, n−2} · SE(s).
 * With n = 2 the line is exact but the interval is (−∞, ∞); with n < 2 everything is NaN.
 */
export function powerLawFit(
  x: ArrayLike<number>,
  y: ArrayLike<number>,
  opts: PowerLawOptions = {},
): PowerLawFit {
  if (x.length !== y.length)
    throw new Error(`powerLawFit: x has ${x.length} points, y has ${y.length}`);
  const level = opts.level ?? 0.95;
  const xMin = opts.xMin ?? -Infinity;
  const xMax = opts.xMax ?? Infinity;
  const lx: number[] = [];
  const ly: number[] = [];
  let skipped = 0;
  for (let i = 0; i < x.length; i++) {
    const xi = x[i];
    const yi = y[i];
    if (xi < xMin || xi > xMax) continue;
    if (!(xi > 0) || !(yi > 0) || !Number.isFinite(xi) || !Number.isFinite(yi)) {
      skipped++;
      continue;
    }
    lx.push(Math.log(xi));
    ly.push(Math.log(yi));
  }
  const n = lx.length;
  const method = opts.interval ?? 'ols-t';
  const nan: PowerLawFit = {
    exponent: NaN,
    ci95: [NaN, NaN],
    stderr: NaN,
    method,
    ciOls: [NaN, NaN],
    slope: NaN,
    intercept: NaN,
    prefactor: NaN,
    r2: NaN,
    n,
    skipped,
  };
  if (n < 2) return nan;
  const { mx, my, sxx, sxy, syy } = centredMoments(lx, ly);
  if (!(sxx > 0)) return nan; // all x equal: no slope
  const slope = sxy / sxx;
  const a = my - slope * mx;
  let sse = 0;
  for (let i = 0; i < n; i++) {
    const r = ly[i] - a - slope * lx[i];
    sse += r * r;
  }
  const r2 = syy > 0 ? Math.max(0, 1 - sse / syy) : 1;
  let stderr: number;
  let ci: [number, number];
  if (n > 2) {
    stderr = Math.sqrt(sse / (n - 2) / sxx);
    const t = studentTQuantile((1 + level) / 2, n - 2);
    ci = [slope - t * stderr, slope + t * stderr];
  } else {
    stderr = Infinity;
    ci = [-Infinity, Infinity];
  }
  const ciOls = ci;
  let residualLag1: number | undefined;
  let blockLength: number | undefined;
  if (method === 'block-bootstrap') {
    const b = blockBootstrapSlope(lx, ly, { seed: opts.seed ?? 1, level });
    if (b.replicates > 0) {
      ci = b.ci;
      stderr = b.se;
      residualLag1 = b.lag1;
      blockLength = b.blockLength;
    } else {
      // Too few points to resample blocks: no interval is better than a falsely narrow one.
      ci = [-Infinity, Infinity];
      stderr = Infinity;
    }
  }
  return {
    exponent: slope,
    ci95: ci,
    stderr,
    method,
    ciOls,
    ...(residualLag1 !== undefined ? { residualLag1, blockLength } : {}),
    slope,
    intercept: a / Math.LN10,
    prefactor: Math.exp(a),
    r2,
    n,
    skipped,
  };
}

/** Negates the exponent and its intervals: for laws reported as y ∝ x^(−exponent). */
export function negated(fit: PowerLawFit, ranks: [number, number]): PowerLawFit {
  return {
    ...fit,
    exponent: -fit.slope,
    ci95: [-fit.ci95[1], -fit.ci95[0]],
    ciOls: [-fit.ciOls[1], -fit.ciOls[0]],
    ranks,
  };
}

/** Interval options of the rank-range fits: block bootstrap unless asked otherwise. */
export interface RankFitOptions {
  interval?: IntervalMethod;
  seed?: number;
}

function checkRanks(fromRank: number, toRank: number, what: string): void {
  if (
    !Number.isInteger(fromRank) ||
    !Number.isInteger(toRank) ||
    fromRank < 1 ||
    toRank < fromRank
  ) {
    throw new Error(`${what}: bad rank range [${fromRank}, ${toRank}] (1-based, inclusive)`);
  }
}

/**
 * σ_i² ∝ i^(−γ) over ranks fromRank..toRank (1-based, inclusive; clipped to the spectrum).
 * `exponent` is γ, POSITIVE for a decaying spectrum; `slope` keeps the raw sign.
 */
export function spectrumFit(
  variance: ArrayLike<number>,
  fromRank: number,
  toRank: number,
  opts: RankFitOptions = {},
): PowerLawFit {
  checkRanks(fromRank, toRank, 'spectrumFit');
  const hi = Math.min(toRank, variance.length);
  const x: number[] = [];
  const y: number[] = [];
  for (let r = fromRank; r <= hi; r++) {
    x.push(r);
    y.push(variance[r - 1]);
  }
  return negated(
    powerLawFit(x, y, { interval: opts.interval ?? 'block-bootstrap', seed: opts.seed }),
    [fromRank, hi],
  );
}

/** One PCA mode with its variance σ_i² and measured flatness F_i. */
export interface VarianceFlatnessPoint {
  rank: number;
  variance: number;
  flatness: number;
}

/**
 * σ_i² ∝ F_i^(−ψ) over the modes whose rank lies in fromRank..toRank. `exponent` is ψ
 * (= −slope): positive for the paper's inverse relation, negative for an Einstein-like one.
 * Modes with a non-finite flatness (profile never reached the threshold) are skipped.
 */
export function varianceFlatnessFit(
  modes: readonly VarianceFlatnessPoint[],
  fromRank: number,
  toRank: number,
  opts: RankFitOptions = {},
): PowerLawFit & { tls: { exponent: number } } {
  checkRanks(fromRank, toRank, 'varianceFlatnessFit');
  const x: number[] = [];
  const y: number[] = [];
  // Rank order, so the bootstrap's blocks are runs of neighbouring modes.
  for (const m of [...modes].sort((a, b) => a.rank - b.rank)) {
    if (m.rank < fromRank || m.rank > toRank) continue;
    x.push(m.flatness);
    y.push(m.variance);
  }
  const fit = negated(
    powerLawFit(x, y, { interval: opts.interval ?? 'block-bootstrap', seed: opts.seed }),
    [fromRank, toRank],
  );
  const lx: number[] = [];
  const ly: number[] = [];
  for (let i = 0; i < x.length; i++) {
    if (!(x[i] > 0) || !(y[i] > 0) || !Number.isFinite(x[i]) || !Number.isFinite(y[i])) continue;
    lx.push(Math.log(x[i]));
    ly.push(Math.log(y[i]));
  }
  return { ...fit, tls: { exponent: -totalLeastSquaresSlope(lx, ly) } };
}

/**
 * Cumulative share of the variance excluding mode 1, indexed by rank − 1:
 * out[i − 1] = Σ_{k=2..i} σ_k² / Σ_{k≥2} σ_k² (so out[0] = 0 and out[last] = 1).
 * Non-finite or negative entries count as 0.
 */
export function cumulativeVarianceExcludingFirst(variance: ArrayLike<number>): Float64Array {
  const n = variance.length;
  const out = new Float64Array(n);
  let total = 0;
  for (let i = 1; i < n; i++) total += clean(variance[i]);
  let acc = 0;
  for (let i = 1; i < n; i++) {
    acc += clean(variance[i]);
    out[i] = total > 0 ? acc / total : 0;
  }
  return out;
}

function clean(v: number): number {
  return Number.isFinite(v) && v > 0 ? v : 0;
}

/**
 * The smallest rank i such that modes 2..i hold at least `fraction` of the variance of all
 * modes ≥ 2 (mode 1, the drift, is excluded as in the paper). The number of modes counted is
 * i − 1. Returns NaN when the spectrum has fewer than two modes or no variance beyond mode 1.
 */
export function rankReachingFraction(variance: ArrayLike<number>, fraction: number): number {
  const cum = cumulativeVarianceExcludingFirst(variance);
  if (cum.length < 2 || !(cum[cum.length - 1] > 0)) return NaN;
  // 1e-12 slack: a cumulative sum that should equal `fraction` exactly may round just below it.
  for (let i = 1; i < cum.length; i++) if (cum[i] >= fraction - 1e-12) return i + 1;
  return cum.length;
}

/**
 * Share of the variance of modes ≥ `fromRank` held by ranks fromRank..toRank (inclusive,
 * 1-based). varianceFraction(v, 2, 35): the paper's "90% in the first 35 modes" check.
 */
export function varianceFraction(
  variance: ArrayLike<number>,
  fromRank: number,
  toRank: number,
): number {
  checkRanks(fromRank, toRank, 'varianceFraction');
  let part = 0;
  let total = 0;
  for (let r = fromRank; r <= variance.length; r++) {
    const v = clean(variance[r - 1]);
    total += v;
    if (r <= toRank) part += v;
  }
  return total > 0 ? part / total : NaN;
}

/**
 * `count` distinct integers from `from` to `to` (both included), as evenly spaced in log as
 * integers allow: the geometric grid from·(to/from)^(k/(count−1)), rounded, each rank bumped
 * to previous + 1 where rounding would repeat one (the low end, where the grid is denser than
 * the integers). Returns all of from..to when
 * count ≥ to − from + 1.
 */
export function logSpacedRanks(from: number, to: number, count: number): number[] {
  if (!Number.isInteger(from) || !Number.isInteger(to) || from < 1 || to < from) {
    throw new Error(`logSpacedRanks: bad range [${from}, ${to}]`);
  }
  const span = to - from + 1;
  if (count >= span) return Array.from({ length: span }, (_, i) => from + i);
  if (count <= 0) return [];
  if (count === 1) return [from];
  const out = [from];
  const ratio = to / from;
  for (let k = 1; k < count; k++) {
    const ideal = Math.round(from * Math.pow(ratio, k / (count - 1)));
    const next = Math.min(Math.max(ideal, out[k - 1] + 1), to - (count - 1 - k));
    out.push(next);
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Student's t quantile

/** ln Γ(x) for x > 0 (Lanczos, g = 7, n = 9; ~1e-15 relative). */
export function lnGamma(x: number): number {
  if (x < 0.5) return Math.log(Math.PI / Math.abs(Math.sin(Math.PI * x))) - lnGamma(1 - x);
  const c = [
    0.99999999999980993, 676.5203681218851, -1259.1392167224028, 771.32342877765313,
    -176.61502916214059, 12.507343278686905, -0.13857109526572012, 9.9843695780195716e-6,
    1.5056327351493116e-7,
  ];
  x -= 1;
  let a = c[0];
  const t = x + 7.5;
  for (let i = 1; i < 9; i++) a += c[i] / (x + i);
  return 0.5 * Math.log(2 * Math.PI) + (x + 0.5) * Math.log(t) - t + Math.log(a);
}

/** Continued fraction of the incomplete beta function (modified Lentz). */
function betaContinuedFraction(a: number, b: number, x: number): number {
  const TINY = 1e-300;
  const qab = a + b;
  const qap = a + 1;
  const qam = a - 1;
  let c = 1;
  let d = 1 - (qab * x) / qap;
  if (Math.abs(d) < TINY) d = TINY;
  d = 1 / d;
  let h = d;
  for (let m = 1; m <= 10000; m++) {
    const m2 = 2 * m;
    let aa = (m * (b - m) * x) / ((qam + m2) * (a + m2));
    d = 1 + aa * d;
    if (Math.abs(d) < TINY) d = TINY;
    c = 1 + aa / c;
    if (Math.abs(c) < TINY) c = TINY;
    d = 1 / d;
    h *= d * c;
    aa = (-(a + m) * (qab + m) * x) / ((a + m2) * (qap + m2));
    d = 1 + aa * d;
    if (Math.abs(d) < TINY) d = TINY;
    c = 1 + aa / c;
    if (Math.abs(c) < TINY) c = TINY;
    d = 1 / d;
    const del = d * c;
    h *= del;
    if (Math.abs(del - 1) < 1e-15) break;
  }
  return h;
}

/** Regularised incomplete beta I_x(a, b). */
export function regularizedBeta(x: number, a: number, b: number): number {
  if (x <= 0) return 0;
  if (x >= 1) return 1;
  const lnFront = lnGamma(a + b) - lnGamma(a) - lnGamma(b) + a * Math.log(x) + b * Math.log1p(-x);
  if (x < (a + 1) / (a + b + 2)) return (Math.exp(lnFront) * betaContinuedFraction(a, b, x)) / a;
  return 1 - (Math.exp(lnFront) * betaContinuedFraction(b, a, 1 - x)) / b;
}

/** CDF of Student's t distribution with `df` degrees of freedom (df > 0, need not be integer). */
export function studentTCdf(t: number, df: number): number {
  if (Number.isNaN(t)) return NaN;
  if (t === Infinity) return 1;
  if (t === -Infinity) return 0;
  const x = df / (df + t * t);
  const tail = 0.5 * regularizedBeta(x, df / 2, 0.5); // P(T > |t|)
  return t >= 0 ? 1 - tail : tail;
}

/** Density of Student's t distribution. */
function studentTPdf(t: number, df: number): number {
  const lnC = lnGamma((df + 1) / 2) - lnGamma(df / 2) - 0.5 * Math.log(df * Math.PI);
  return Math.exp(lnC - ((df + 1) / 2) * Math.log1p((t * t) / df));
}

/** Standard normal quantile (Acklam's rational approximation, ~1e-9 relative). */
export function normalQuantile(p: number): number {
  if (!(p > 0 && p < 1)) return p === 0 ? -Infinity : p === 1 ? Infinity : NaN;
  const a = [
    -39.69683028665376, 220.9460984245205, -275.9285104469687, 138.357751867269, -30.66479806614716,
    2.506628277459239,
  ];
  const b = [
    -54.47609879822406, 161.5858368580409, -155.6989798598866, 66.80131188771972,
    -13.28068155288572,
  ];
  const c = [
    -0.007784894002430293, -0.3223964580411365, -2.400758277161838, -2.549732539343734,
    4.374664141464968, 2.938163982698783,
  ];
  const d = [0.007784695709041462, 0.3224671290700398, 2.445134137142996, 3.754408661907416];
  const pl = 0.02425;
  if (p < pl) {
    const q = Math.sqrt(-2 * Math.log(p));
    return (
      (((((c[0] * q + c[1]) * q + c[2]) * q + c[3]) * q + c[4]) * q + c[5]) /
      ((((d[0] * q + d[1]) * q + d[2]) * q + d[3]) * q + 1)
    );
  }
  if (p > 1 - pl) return -normalQuantile(1 - p);
  const q = p - 0.5;
  const r = q * q;
  return (
    ((((((a[0] * r + a[1]) * r + a[2]) * r + a[3]) * r + a[4]) * r + a[5]) * q) /
    (((((b[0] * r + b[1]) * r + b[2]) * r + b[3]) * r + b[4]) * r + 1)
  );
}

/**
 * Quantile of Student's t: the t with P(T ≤ t) = p, for df > 0. Exact formulas for df = 1, 2;
 * otherwise Newton's method on the CDF from a Cornish–Fisher start, safeguarded by bisection,
 * to ~1e-12 relative.
 */
export function studentTQuantile(p: number, df: number): number {
  if (!(df > 0)) return NaN;
  if (!(p > 0 && p < 1)) return p === 0 ? -Infinity : p === 1 ? Infinity : NaN;
  if (p === 0.5) return 0;
  if (p < 0.5) return -studentTQuantile(1 - p, df);
  if (df === 1) return Math.tan(Math.PI * (p - 0.5));
  if (df === 2) {
    const a = 4 * p * (1 - p);
    return 2 * (p - 0.5) * Math.sqrt(2 / a);
  }
  // Cornish–Fisher expansion around the normal quantile as the starting point.
  const z = normalQuantile(p);
  const z3 = z * z * z;
  const z5 = z3 * z * z;
  let t = z + (z3 + z) / (4 * df) + (5 * z5 + 16 * z3 + 3 * z) / (96 * df * df);
  // Bracket [lo, hi] with cdf(lo) < p ≤ cdf(hi), then Newton with bisection fallback.
  let lo = 0;
  let hi = Math.max(t * 2, 1);
  while (studentTCdf(hi, df) < p) hi *= 2;
  if (!(t > lo && t < hi)) t = 0.5 * (lo + hi);
  for (let it = 0; it < 200; it++) {
    const f = studentTCdf(t, df) - p;
    if (f === 0) return t;
    if (f < 0) lo = t;
    else hi = t;
    let next = t - f / studentTPdf(t, df);
    if (!(next > lo && next < hi)) next = 0.5 * (lo + hi);
    if (Math.abs(next - t) <= 1e-13 * Math.abs(t)) return next;
    t = next;
  }
  return t;
}
