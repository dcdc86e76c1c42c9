/**
 * Effective dimensions of a solution (SCIENCE.md, "Effective dimension (Fig. 6)"), pure functions
 * of one window's analysis:
 *
 *  - D_L(f), the learning dimension: the number of PCA modes that hold a fraction f (90%, 95%)
 *    of the variance. Mode 1 is the drift along the window mean (nearly parallel to ŵ), not
 *    exploration, so — as the paper's "90% of the variance in the first 35 modes" and the
 *    existing rank90 — modes are counted from mode 2 and the fraction is of the variance of all
 *    modes ≥ 2 (option includeFirst counts from mode 1 instead).
 *
 *  - D_s, the number of sharp directions: PCA directions whose flatness F_i lies below a
 *    threshold set by the solution's norm. The paper does not print the constant; we use
 *    F_c = c·‖ŵ‖/√dim, with ŵ the analysed block at the window mean (W2, dim = h²), i.e. c
 *    times the root-mean-square weight: a direction is sharp when the loss rises e-fold within
 *    a displacement of fewer than c typical single weights. c = 4 by default: with c = 1 no
 *    measured direction of the paper's network is sharp (the sharpest F ≈ 1 while the RMS
 *    weight of W2 is 0.15–0.4 for h = 100…20), so D_s would be 0 at every width. D_s depends
 *    strongly on c; the sweeps also report D_s for c = 1, 2, 4, 8, 16 (dsCurve).
 *    D_s can only count resolved PCA directions: at most snapshots − 1 of the h² (a 3-epoch
 *    window of B = 50 on 8,000 images resolves 479).
 *    Flatness is measured only at log-spaced ranks, so F is interpolated linearly in
 *    (log rank, log F) between neighbouring measured ranks and every integer rank from the first
 *    to the last measured rank is counted (no extrapolation beyond them; mode 1 is never
 *    measured). Non-finite or non-positive flatness values are skipped.
 */

/** Default c of the sharpness threshold F_c = c·‖ŵ‖/√dim. */
export const SHARP_THRESHOLD_C = 4;
/** The c values of the D_s(c) curve the sweeps report. */
export const SHARP_C_CURVE = [1, 2, 4, 8, 16];

export interface LearningDimensionOptions {
  /** Count from mode 1 (the drift) instead of mode 2. Default false, as the paper. */
  includeFirst?: boolean;
}

/**
 * D_L: the smallest number of modes (from mode 2, or mode 1 with includeFirst) whose variances
 * sum to at least `fraction` of the variance of the modes counted. NaN when there is no variance.
 */
export function learningDimension(
  variance: ArrayLike<number>,
  fraction: number,
  opts: LearningDimensionOptions = {},
): number {
  if (!(fraction > 0 && fraction <= 1))
    throw new Error(`learningDimension: bad fraction ${fraction}`);
  const from = opts.includeFirst ? 0 : 1;
  let total = 0;
  for (let i = from; i < variance.length; i++) total += clean(variance[i]);
  if (!(total > 0)) return NaN;
  let acc = 0;
  for (let i = from; i < variance.length; i++) {
    acc += clean(variance[i]);
    // Slack: a cumulative sum that should equal the fraction exactly may round just below it.
    if (acc >= fraction * total * (1 - 1e-12)) return i - from + 1;
  }
  return variance.length - from;
}

function clean(v: number): number {
  return Number.isFinite(v) && v > 0 ? v : 0;
}

/**
 * How the D_s threshold scales with the solution (the paper says only "set by the norm of the
 * solution"):
 *  - 'rms':   F_c = c·‖ŵ‖/√dim, c root-mean-square weights (the default, c = 4);
 *  - 'norm':  F_c = c·‖ŵ‖, a fraction of the whole block's norm (c = 0.1);
 *  - 'fixed': F_c = c in weight-space distance, the same at every width (c = 1).
 * The three differ in how F_c moves with width: the RMS weight falls as ~1/√h, ‖ŵ‖ grows
 * slowly, while the sharp end of the flatness spectrum stays where it is (Fig. 6a).
 */
export type SharpScale = 'rms' | 'norm' | 'fixed';
export const SHARP_SCALES: readonly SharpScale[] = ['rms', 'norm', 'fixed'];
export const SHARP_SCALE_C: Record<SharpScale, number> = {
  rms: SHARP_THRESHOLD_C,
  norm: 0.1,
  fixed: 1,
};

/** F_c for a threshold scale and constant c. */
export function scaledSharpThreshold(
  scale: SharpScale,
  c: number,
  norm: number,
  dim: number,
): number {
  if (scale === 'fixed') return c;
  if (scale === 'norm') return c * norm;
  return sharpThreshold(norm, dim, c);
}

export interface SharpCount {
  scale: SharpScale;
  c: number;
  threshold: number;
  Ds: number;
}

/** D_s under every threshold scale at its default constant. */
export function sharpCounts(
  modes: readonly RankFlatness[],
  norm: number,
  dim: number,
): SharpCount[] {
  return SHARP_SCALES.map((scale) => {
    const c = SHARP_SCALE_C[scale];
    const threshold = scaledSharpThreshold(scale, c, norm, dim);
    return { scale, c, threshold, Ds: sharpDimension(modes, threshold) };
  });
}

/** F_c = c·‖ŵ‖/√dim. */
export function sharpThreshold(norm: number, dim: number, c = SHARP_THRESHOLD_C): number {
  if (!(dim > 0)) throw new Error(`sharpThreshold: bad dimension ${dim}`);
  return (c * norm) / Math.sqrt(dim);
}

export interface RankFlatness {
  rank: number;
  flatness: number;
}

/**
 * The flatness of every integer rank from the first to the last measured one, interpolated
 * linearly in (log rank, log F) between measured ranks; out[k] is the flatness of rank
 * first + k. Measured ranks need not be sorted; invalid flatness values are skipped.
 */
export function interpolatedFlatness(modes: readonly RankFlatness[]): {
  first: number;
  flatness: Float64Array;
} {
  const pts = modes
    .filter((m) => Number.isFinite(m.flatness) && m.flatness > 0 && m.rank >= 1)
    .slice()
    .sort((a, b) => a.rank - b.rank);
  if (pts.length === 0) return { first: 0, flatness: new Float64Array(0) };
  const first = pts[0].rank;
  const last = pts[pts.length - 1].rank;
  const out = new Float64Array(last - first + 1);
  let k = 0;
  for (let r = first; r <= last; r++) {
    while (k < pts.length - 1 && pts[k + 1].rank < r) k++;
    const a = pts[k];
    if (r === a.rank || k === pts.length - 1) {
      out[r - first] = a.flatness;
      continue;
    }
    const b = pts[k + 1];
    const t = Math.log(r / a.rank) / Math.log(b.rank / a.rank);
    out[r - first] = Math.exp(Math.log(a.flatness) + t * Math.log(b.flatness / a.flatness));
  }
  return { first, flatness: out };
}

/** D_s: the number of ranks (first to last measured) whose interpolated flatness is < threshold. */
export function sharpDimension(modes: readonly RankFlatness[], threshold: number): number {
  const { flatness } = interpolatedFlatness(modes);
  let n = 0;
  for (const f of flatness) if (f < threshold) n++;
  return n;
}

/** The rank-ordered flatness spectrum (ascending, sharpest first) of the interpolated modes. */
export function rankOrderedFlatness(modes: readonly RankFlatness[]): Float64Array {
  return interpolatedFlatness(modes).flatness.slice().sort();
}

export interface EffectiveDimensions {
  /** Modes (from mode 2) holding 90% / 95% of the variance of modes ≥ 2. */
  DL90: number;
  DL95: number;
  /** Sharp directions: interpolated F_i < F_c. */
  Ds: number;
  /** F_c = c·‖ŵ‖/√dim, and the c and ‖ŵ‖ it was made from. */
  threshold: number;
  c: number;
  norm: number;
  /** Ranks D_s was counted over (the measured span). */
  ranks: [number, number];
}

/** D_L(90%), D_L(95%) and D_s of one analysed window. */
export function effectiveDimensions(
  variance: ArrayLike<number>,
  modes: readonly RankFlatness[],
  norm: number,
  dim: number,
  c = SHARP_THRESHOLD_C,
): EffectiveDimensions {
  const threshold = sharpThreshold(norm, dim, c);
  const { first, flatness } = interpolatedFlatness(modes);
  return {
    DL90: learningDimension(variance, 0.9),
    DL95: learningDimension(variance, 0.95),
    Ds: sharpDimension(modes, threshold),
    threshold,
    c,
    norm,
    ranks: [first, first + flatness.length - 1],
  };
}
