/**
 * Intervals for a straight-line fit whose residuals are correlated along the fit's ordering
 * (SCIENCE.md, "Statistics a referee accepts"). The γ fit runs over ~180 consecutive ranks and
 * its log-log residuals have lag-1 autocorrelation ≈ 0.9: neighbouring ranks carry nearly the
 * same information, so the Student-t interval, which counts 180 independent points, is several
 * times too narrow. The same holds, less extremely, for ψ and β₁ over the log-spaced modes.
 *
 * - `blockBootstrapSlope`: circular moving-block bootstrap of the OLS residuals (the design x
 *   stays fixed: ranks and flatnesses are where the points are, not a sample). Each replicate
 *   lays blocks of `blockLength` consecutive residuals, from random starts on a circle, after
 *   the fitted line, and refits; the interval is slope ± z·sd(replicate slopes). The circle
 *   gives every residual the same chance of being drawn (the plain moving-block scheme
 *   under-draws both ends). The point value stays the OLS slope.
 * - Block length: long enough to carry the residuals' correlation. For an AR(1) with lag-1
 *   coefficient ρ the sum of autocorrelations is (1+ρ)/(1−ρ) lags; a block of ℓ lags loses
 *   ≈ 2ρ/(ℓ(1−ρ²)) of the variance, so ℓ = 2·(1+ρ)/(1−ρ) (clipped to [2, n/3]) keeps that
 *   loss near 25% of the variance at ρ = 0.9 and smaller for weaker correlation; the variance
 *   the blocks lose is then put back by that same factor (below), which the tests check gives
 *   close to nominal coverage on AR(1) residuals.
 * - `totalLeastSquaresSlope`: the orthogonal-regression slope (errors in both variables, equal
 *   variances in log space): ψ's sensitivity figure, since F_i is measured with error too.
 *
 * Seeded (xorshift, like the engine's Rng): the same inputs give the same interval.
 */
import { Rng } from '../data/rng';
import { studentTQuantile } from './fits';
import { centredMoments } from './moments';

export interface BlockBootstrapOptions {
  /** Bootstrap replicates (default 2,000). */
  replicates?: number;
  /** Seed of the block starts (default 1). */
  seed?: number;
  /** Block length in points; default from the residuals' lag-1 autocorrelation (above). */
  blockLength?: number;
  /** Two-sided level of the interval (default 0.95). */
  level?: number;
}

export interface BlockBootstrapResult {
  /** Interval on the raw slope. */
  ci: [number, number];
  /** Bootstrap standard error of the slope (after the block-length correction). */
  se: number;
  /** Lag-1 autocorrelation of the OLS residuals in fit order. */
  lag1: number;
  blockLength: number;
  replicates: number;
}

/** Lag-1 autocorrelation of a series (mean removed); 0 for fewer than 3 points. */
export function lag1Autocorrelation(r: ArrayLike<number>): number {
  const n = r.length;
  if (n < 3) return 0;
  let m = 0;
  for (let i = 0; i < n; i++) m += r[i];
  m /= n;
  let c0 = 0;
  let c1 = 0;
  for (let i = 0; i < n; i++) {
    const d = r[i] - m;
    c0 += d * d;
    if (i + 1 < n) c1 += d * (r[i + 1] - m);
  }
  return c0 > 0 ? c1 / c0 : 0;
}

/** The default block length for residuals with lag-1 autocorrelation ρ (module comment). */
export function defaultBlockLength(rho: number, n: number): number {
  const r = Math.min(Math.max(rho, 0), 0.98);
  const l = Math.round((2 * (1 + r)) / (1 - r));
  return Math.max(2, Math.min(l, Math.floor(n / 3)));
}

function olsSlope(x: ArrayLike<number>, y: ArrayLike<number>): number {
  const { sxx, sxy } = centredMoments(x, y);
  return sxy / sxx;
}

/**
 * Moving-block bootstrap interval of the OLS slope of y on x, points in their natural order
 * (rank order). Needs n ≥ 4 points with varying x; otherwise the interval is (NaN, NaN).
 */
export function blockBootstrapSlope(
  x: ArrayLike<number>,
  y: ArrayLike<number>,
  opts: BlockBootstrapOptions = {},
): BlockBootstrapResult {
  const n = x.length;
  const level = opts.level ?? 0.95;
  const B = opts.replicates ?? 2000;
  const nan: BlockBootstrapResult = {
    ci: [NaN, NaN],
    se: NaN,
    lag1: NaN,
    blockLength: NaN,
    replicates: 0,
  };
  if (n < 4 || y.length !== n) return nan;
  const { mx, my, sxx } = centredMoments(x, y);
  const slope = olsSlope(x, y);
  if (!Number.isFinite(slope)) return nan;
  const a = my - slope * mx;
  const resid = new Float64Array(n);
  const fitted = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    fitted[i] = a + slope * x[i];
    resid[i] = y[i] - fitted[i];
  }
  const lag1 = lag1Autocorrelation(resid);
  // A lag-1 estimate from n detrended residuals is biased low by ≈ (1 + 3ρ)/n (Kendall 1954);
  // undoing that matters most where it matters: strong correlation, few points.
  const rho = Math.min(0.98, Math.max(0, lag1 + (2 + 4 * Math.max(lag1, 0)) / n));
  const l = Math.max(1, Math.min(opts.blockLength ?? defaultBlockLength(rho, n), n));
  // Weights of the slope as a linear functional of y: slope* = Σ w_i y*_i.
  const w = new Float64Array(n);
  for (let i = 0; i < n; i++) w[i] = (x[i] - mx) / sxx;
  const rng = new Rng(opts.seed ?? 1);
  let s1 = 0;
  let s2 = 0;
  for (let b = 0; b < B; b++) {
    // slope* − slope = Σ w_i e*_i: the fitted line contributes the OLS slope exactly.
    let d = 0;
    let i = 0;
    while (i < n) {
      const start = rng.int(n);
      for (let j = 0; j < l && i < n; j++, i++) d += w[i] * resid[(start + j) % n];
    }
    s1 += d;
    s2 += d * d;
  }
  const mean = s1 / B;
  let se = Math.sqrt(Math.max(0, s2 / B - mean * mean));
  // Blocks of ℓ drop the correlation between blocks: for an AR(1) the variance they see is
  // short by ≈ 2ρ/(ℓ(1−ρ²)) (relative); restore it, bounded so a poor ρ estimate cannot blow up.
  const loss = Math.min(0.5, (2 * rho) / (l * (1 - rho * rho)));
  se /= Math.sqrt(1 - loss);
  // Residuals of an OLS fit are shrunk by the fit itself (n − 2 degrees of freedom).
  se *= Math.sqrt(n / (n - 2));
  // The standard error itself rests on few effectively independent points, n·(1−ρ)/(1+ρ):
  // Student's t with that many degrees of freedom (less the line's two) widens accordingly.
  // Floored at 4: on ~30 log-spaced modes with curved residuals ρ reaches its 0.98 cap and the
  // count falls below one, where t's quantile (12.7 at 1 df) would measure the shaky estimate of
  // ρ more than the data and turn ψ's interval into ±20; the block bootstrap's own spread stays.
  const dfEff = Math.max(4, (n * (1 - rho)) / (1 + rho) - 2);
  const z = studentTQuantile((1 + level) / 2, dfEff);
  return { ci: [slope - z * se, slope + z * se], se, lag1, blockLength: l, replicates: B };
}

/**
 * Total-least-squares (orthogonal) slope of y on x: the major axis of the centred point cloud,
 * minimising perpendicular distances, so x and y are treated alike. NaN with fewer than 2
 * points or no spread.
 */
export function totalLeastSquaresSlope(x: ArrayLike<number>, y: ArrayLike<number>): number {
  const n = Math.min(x.length, y.length);
  if (n < 2) return NaN;
  const { sxx, sxy, syy } = centredMoments(x, y);
  if (sxy === 0) return sxx >= syy ? 0 : NaN;
  const d = syy - sxx;
  return (d + Math.sqrt(d * d + 4 * sxy * sxy)) / (2 * sxy);
}
