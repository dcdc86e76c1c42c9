/**
 * The Einstein check of the Langevin contrast (SCIENCE.md, "Equilibrium"): which PCA modes of
 * the Langevin window have relaxed, and whether those obey the equilibrium prediction.
 *
 * Noise convention (src/engine/nets/langevin.ts): w ← w − α_L·∇L(w) + √(2α_L·T)·ξ, ξ ~ N(0, I)
 * per W2 entry, L the mean cross-entropy over the training set. Along a unit direction p_i with
 * curvature k_i = p_iᵀ∇²L p_i the coordinate θ_i follows θ ← (1 − α_L k_i)θ + √(2α_L T)·ξ: an
 * AR(1) relaxing in ≈ 1/(α_L k_i) steps to the stationary variance
 *   σ_i² = 2α_L T / (1 − (1 − α_L k_i)²) = T / (k_i·(1 − α_L k_i/2))  →  T/k_i for α_L k_i ≪ 1,
 * the Gibbs density ∝ exp(−L/T). A window of m snapshots, e steps apart, sees less than that:
 * the population variance of m draws of an AR(1) with per-snapshot coefficient φ = (1 − α_L k)^e
 * has expectation σ²·[1 − (1/m)(1 + 2Σ_{j<m}(1 − j/m)φ^j)], which `predicted` includes, so that
 * the ratio measured/predicted is 1 in equilibrium without a finite-window bias.
 *
 * Rule (stated on the page and in the JSON): a mode is equilibrated when
 *   (1) k_i > 0 and its relaxation time 1/(α_L k_i) is at most `RELAXATION_FRACTION` (1/10) of
 *       the window, and
 *   (2) the variances of θ_i in the window's two halves agree within a factor
 *       `HALF_TOLERANCE` (1.5): a mode still relaxing or drifting changes between them.
 * The Einstein relation σ² ∝ F² is then fitted on those modes only.
 */
import { powerLawFit } from './fits';

export const RELAXATION_FRACTION = 0.1;
export const HALF_TOLERANCE = 1.5;

export interface EinsteinInput {
  rank: number;
  /** k_i, the second derivative of L along p_i at the window mean. */
  curvature: number;
  /** σ_i² over the whole window (the PCA eigenvalue). */
  measured: number;
  /** σ_i² of each half of the window (each about its own mean). */
  halves: [number, number];
  /** F_i, for the σ²–F slope. */
  flatness: number;
}

export interface EinsteinMode {
  rank: number;
  curvature: number;
  /** 1/(α_L k_i) in steps (Infinity when k_i ≤ 0). */
  relaxationSteps: number;
  equilibrated: boolean;
  /** Expected window variance in equilibrium (T/(k(1 − α_L k/2)) times the window factor). */
  predicted: number;
  measured: number;
  /** Larger half-window variance over the smaller. */
  halfRatio: number;
  flatness: number;
}

export interface EinsteinResult {
  /**
   * Which directions were tested: the stiffest Hessian eigenvectors v_j at the window centre
   * (`rank` = j, `curvature` = λ_j; experiments/curvatureRun.ts), or the window's PCA modes.
   * Absent in results saved before the Hessian check: PCA modes.
   */
  directions?: 'hessian-eigenvectors' | 'pca-modes';
  temperature: number;
  lr: number;
  windowSteps: number;
  stepEvery: number;
  rule: { relaxationFraction: number; halfTolerance: number };
  modes: EinsteinMode[];
  equilibratedCount: number;
  /** Median of measured/predicted over the equilibrated modes (NaN when none). */
  medianRatio: number;
  /** σ² ∝ F^slope over the equilibrated modes: Einstein's +2. `exponent` is the raw slope. */
  slopeEquilibrated: { exponent: number; ci95: [number, number]; r2: number; n: number };
  /** ln measured against ln predicted over the equilibrated modes (1 in equilibrium). */
  slopePredicted: { exponent: number; ci95: [number, number]; r2: number; n: number };
}

/** Second derivative from L(−h), L(0), L(+h). */
export function threePointCurvature(lMinus: number, l0: number, lPlus: number, h: number): number {
  return (lPlus - 2 * l0 + lMinus) / (h * h);
}

/** Stationary variance of θ ← (1 − αk)θ + √(2αT)ξ; NaN outside 0 < αk < 2 (no stationary state). */
export function stationaryVariance(T: number, k: number, lr: number): number {
  const a = lr * k;
  if (!(a > 0 && a < 2)) return NaN;
  return T / (k * (1 - a / 2));
}

/**
 * Expected population variance of m consecutive samples of a stationary AR(1) with lag-1
 * coefficient φ, as a fraction of its stationary variance.
 */
export function windowFactor(phi: number, m: number): number {
  if (m < 2) return 0;
  let s = 0;
  let p = 1;
  for (let j = 1; j < m; j++) {
    p *= phi;
    if (Math.abs(p) < 1e-300) break;
    s += (1 - j / m) * p;
  }
  return 1 - (1 + 2 * s) / m;
}

/** Population variance of x[from..to). */
export function segmentVariance(x: ArrayLike<number>, from: number, to: number): number {
  const n = to - from;
  if (n < 2) return NaN;
  let m = 0;
  for (let i = from; i < to; i++) m += x[i];
  m /= n;
  let s = 0;
  for (let i = from; i < to; i++) s += (x[i] - m) * (x[i] - m);
  return s / n;
}

function slopeSummary(x: number[], y: number[]) {
  const f = powerLawFit(x, y, { interval: 'block-bootstrap' });
  return { exponent: f.slope, ci95: f.ci95, r2: f.r2, n: f.n };
}

/**
 * Classifies the modes and tests σ² = T/k on the equilibrated ones. `count` snapshots `stepEvery`
 * steps apart make the window (windowSteps = count·stepEvery).
 */
export function einsteinCheck(
  inputs: readonly EinsteinInput[],
  p: { temperature: number; lr: number; count: number; stepEvery: number },
): EinsteinResult {
  const windowSteps = p.count * p.stepEvery;
  const modes: EinsteinMode[] = [...inputs]
    .sort((a, b) => a.rank - b.rank)
    .map((m) => {
      const k = m.curvature;
      const relaxationSteps = k > 0 ? 1 / (p.lr * k) : Infinity;
      const stat = stationaryVariance(p.temperature, k, p.lr);
      const phi = Math.pow(1 - p.lr * k, p.stepEvery);
      const predicted = stat * windowFactor(phi, p.count);
      const [a, b] = m.halves;
      const halfRatio = a > 0 && b > 0 ? Math.max(a, b) / Math.min(a, b) : Infinity;
      const equilibrated =
        Number.isFinite(predicted) &&
        predicted > 0 &&
        relaxationSteps <= RELAXATION_FRACTION * windowSteps &&
        halfRatio <= HALF_TOLERANCE;
      return {
        rank: m.rank,
        curvature: k,
        relaxationSteps,
        equilibrated,
        predicted,
        measured: m.measured,
        halfRatio,
        flatness: m.flatness,
      };
    });
  const eq = modes.filter((m) => m.equilibrated);
  const ratios = eq.map((m) => m.measured / m.predicted).sort((a, b) => a - b);
  const mid = ratios.length >> 1;
  const medianRatio =
    ratios.length === 0
      ? NaN
      : ratios.length % 2
        ? ratios[mid]
        : 0.5 * (ratios[mid - 1] + ratios[mid]);
  const withF = eq.filter((m) => Number.isFinite(m.flatness) && m.flatness > 0);
  return {
    temperature: p.temperature,
    lr: p.lr,
    windowSteps,
    stepEvery: p.stepEvery,
    rule: { relaxationFraction: RELAXATION_FRACTION, halfTolerance: HALF_TOLERANCE },
    modes,
    equilibratedCount: eq.length,
    medianRatio,
    slopeEquilibrated: slopeSummary(
      withF.map((m) => m.flatness),
      withF.map((m) => m.measured),
    ),
    slopePredicted: slopeSummary(
      eq.map((m) => m.predicted),
      eq.map((m) => m.measured),
    ),
  };
}
