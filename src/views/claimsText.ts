/**
 * Verdicts the figures' captions state, decided by the uncertainty of the numbers shown rather
 * than by their point values. Pure and engine-free, so views can use them (tests/unit/claims.test.ts).
 */
import { fmtDash, fmtSigned } from './format';
import { exponentSign } from './theoryParts';

/**
 * The flatness figure's lead: σ² falls with rank, so "the high-variance modes are the sharp
 * ones" is the sign of ψ in σ² ∝ F^(−ψ), stated by ψ's 95% interval (two end points of the
 * flatness curve would not say it).
 */
export function sharpModesLead(psi: { ci95: readonly number[] } | null): string {
  if (!psi) return 'Flatness by rank';
  switch (exponentSign(psi)) {
    case 'positive':
      return 'The high-variance modes are the sharp ones (ψ’s 95% interval in the σ²–F fit is above zero)';
    case 'negative':
      return 'Here the high-variance modes are the flat ones (ψ’s 95% interval in the σ²–F fit is below zero)';
    default:
      return 'Whether the high-variance modes are the sharp ones is not resolved in this window (ψ’s 95% interval in the σ²–F fit includes zero)';
  }
}

/** Whether a exceeds b by more than 1.96 standard errors of the difference. */
export function aboveBeyondError(
  a: { value: number; se: number },
  b: { value: number; se: number },
): boolean {
  const se = Math.hypot(a.se, b.se);
  return Number.isFinite(se) && a.value - b.value > 1.96 * se;
}

/**
 * 95% interval of a Pearson correlation over n points by Fisher's z; NaN bounds with fewer
 * than 4 points or |r| = 1.
 */
export function correlationInterval(r: number, n: number): [number, number] {
  if (!(n > 3) || !(Math.abs(r) < 1)) return [NaN, NaN];
  const z = Math.atanh(r);
  const half = 1.959964 / Math.sqrt(n - 3);
  return [Math.tanh(z - half), Math.tanh(z + half)];
}

/**
 * Section 4's account of the Langevin slope (σ² ∝ F^slope, the negated ψ), by its 95% interval:
 * which way the run spreads with flatness, and whether the slope is beyond the +2 of the
 * Einstein relation in equilibrium.
 */
export function langevinSlopeClauses(fit: { slope: number; ci95: readonly number[] }): {
  sign: string;
  steep: string;
} {
  const lo = -fit.ci95[1];
  const hi = -fit.ci95[0];
  if (!Number.isFinite(fit.slope) || !(lo <= hi))
    return { sign: 'has no slope fit in this window', steep: '' };
  const ci = `its slope ${fmtSigned(fit.slope)}, 95% CI ${fmtDash([lo, hi], 2)}`;
  const sign =
    lo > 0
      ? `spreads more along flatter modes, the sign the Einstein relation predicts (${ci})`
      : hi < 0
        ? `spreads less along flatter modes, like SGD and unlike the Einstein relation (${ci})`
        : `does not resolve which way it spreads with flatness (${ci}, includes zero)`;
  const steep =
    lo > 2
      ? 'beyond +2 (here its whole interval is beyond it)'
      : hi < 2
        ? '(here the interval lies below the +2 of equilibrium)'
        : '(here the interval includes the +2 of equilibrium)';
  return { sign, steep };
}

/**
 * How many single lags s ≥ `from` of the correlation functions lie within ±band(s), the 95%
 * range of uncorrelated velocities: the count behind "single lags are mostly within the noise".
 */
export function lagsWithinBand(
  cs: readonly (readonly number[])[],
  band: (s: number) => number,
  from = 2,
): { inside: number; total: number } {
  let inside = 0;
  let total = 0;
  for (const c of cs)
    for (let s = from; s < c.length; s++) {
      const b = band(s);
      if (!Number.isFinite(b) || !Number.isFinite(c[s])) continue;
      total++;
      if (Math.abs(c[s]) <= b) inside++;
    }
  return { inside, total };
}

/**
 * Whether curvature and flatness say the same thing: the quadratic picture k ∝ 1/F² needs both
 * the slope of k against F (its 95% interval holding −2) and the median ratio to the picture
 * (within a factor 1.5 of 1).
 */
export function quadraticPictureVerdict(
  fit: { ci95: readonly number[] },
  medianRatio: number,
): string {
  const slopeOk = fit.ci95[0] <= -2 && -2 <= fit.ci95[1];
  const levelOk = Math.abs(Math.log(medianRatio)) < Math.log(1.5);
  if (slopeOk && levelOk)
    return 'flatness and curvature carry the same information here (the interval holds −2 and the median ratio is within a factor 1.5 of 1).';
  if (levelOk)
    return 'the median agrees with the quadratic picture, but the interval of s excludes −2: k is not a fixed multiple of 1/F² across these modes.';
  return 'the profiles are not quadratic in ln L out to the threshold, so F and k differ by more than a constant.';
}
