/**
 * What a figure says when a run's ψ or γ fit has no exponent. The fits return NaN, honestly,
 * when their rank range holds too few usable points (a short window has few modes: 20 snapshots
 * leave 19, so γ's ranks 20–200 shrink to one rank); a figure must then neither draw the NaN
 * (an SVG path with "NaN" in it is an error in the console and a mark in the wrong place) nor
 * leave a silent gap: it names the runs and the reason, with the counts from the fit itself.
 */
import type { PowerFit } from '../engine/experiments/analysis';

/** Points a least-squares line needs (powerLawFit returns NaN below this). */
export const MIN_FIT_POINTS = 2;

export type FitKey = 'psi' | 'gamma';

/** The fit's symbol and what one of its points is (what powerLawFit could keep). */
export const FIT_TERMS: Record<FitKey, { symbol: string; one: string; many: string; x: string }> = {
  psi: {
    symbol: 'ψ',
    one: 'mode with a finite flatness',
    many: 'modes with a finite flatness',
    x: 'flatness',
  },
  gamma: {
    symbol: 'γ',
    one: 'rank with non-zero variance',
    many: 'ranks with non-zero variance',
    x: 'rank',
  },
};

type FitCounts = Pick<PowerFit, 'exponent' | 'n' | 'ranks'>;

/** A fit whose exponent can be drawn and quoted. */
export function hasExponent(fit: FitCounts): boolean {
  return Number.isFinite(fit.exponent);
}

/**
 * Why `fit` has no exponent, without naming the run ("1 rank with non-zero variance in ranks
 * 19–20; a fit needs at least 2"), or null when it has one.
 */
export function missingFitReason(key: FitKey, fit: FitCounts): string | null {
  if (hasExponent(fit)) return null;
  const t = FIT_TERMS[key];
  const [a, b] = fit.ranks;
  const where = a === b ? `rank ${a}` : `ranks ${a}–${b}`;
  if (fit.n < MIN_FIT_POINTS)
    return `${fit.n} ${fit.n === 1 ? t.one : t.many} in ${where}; a fit needs at least ${MIN_FIT_POINTS}`;
  return `its ${fit.n} ${t.many} in ${where} share one ${t.x}, so no slope`;
}

/**
 * One sentence per distinct reason naming the runs without a `key` exponent ("No γ in 2 runs
 * (B 400, α 0.05; B 400, α 0.1): 1 rank with non-zero variance in ranks 19–20; a fit needs at
 * least 2."), or '' when every run has one.
 */
export function missingFitsNote(
  key: FitKey,
  runs: readonly { label: string; fit: FitCounts }[],
): string {
  const byReason = new Map<string, string[]>();
  for (const r of runs) {
    const why = missingFitReason(key, r.fit);
    if (why === null) continue;
    const labels = byReason.get(why) ?? [];
    labels.push(r.label);
    byReason.set(why, labels);
  }
  const symbol = FIT_TERMS[key].symbol;
  return [...byReason]
    .map(
      ([why, labels]) =>
        `No ${symbol} in ${labels.length === 1 ? '1 run' : `${labels.length} runs`} (${labels.join('; ')}): ${why}.`,
    )
    .join(' ');
}
