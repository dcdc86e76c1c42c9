/**
 * Verdicts the figures' captions state, decided by the uncertainty of the numbers shown rather
 * than by their point values. Pure and engine-free, so views can use them (tests/unit/claims.test.ts).
 */
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
