/**
 * Centred first and second moments of paired samples: the one two-pass sum behind every
 * straight-line statistic of the engine (OLS and TLS slopes, the bootstrap's weights, Pearson's
 * r). Two passes, not running sums, because log-spectra sit far from zero and a one-pass
 * Σx² − n·x̄² loses the digits the slope needs.
 */
export interface CentredMoments {
  n: number;
  mx: number;
  my: number;
  /** Σ(x − x̄)², Σ(x − x̄)(y − ȳ), Σ(y − ȳ)². */
  sxx: number;
  sxy: number;
  syy: number;
}

/** Moments over the first min(|x|, |y|) points. */
export function centredMoments(x: ArrayLike<number>, y: ArrayLike<number>): CentredMoments {
  const n = Math.min(x.length, y.length);
  let mx = 0;
  let my = 0;
  for (let i = 0; i < n; i++) {
    mx += x[i];
    my += y[i];
  }
  mx /= n;
  my /= n;
  let sxx = 0;
  let sxy = 0;
  let syy = 0;
  for (let i = 0; i < n; i++) {
    const dx = x[i] - mx;
    const dy = y[i] - my;
    sxx += dx * dx;
    sxy += dx * dy;
    syy += dy * dy;
  }
  return { n, mx, my, sxx, sxy, syy };
}
