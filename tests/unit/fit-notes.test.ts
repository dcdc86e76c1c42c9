/**
 * A short window's fits (issue: NaN in the (B, α) figure): a 20-snapshot window leaves 19 PCA
 * modes, so γ's ranks 20–200 hold one usable rank and its exponent is NaN. The figures draw only
 * finite exponents and name the runs without one, with the counts from the fit itself.
 */
import { describe, expect, it } from 'vitest';
import { varianceFlatnessSummary } from '../../src/engine/experiments/analysis';
import type { ModeFlatnessResult } from '../../src/engine/landscape/flatness';
import { hasExponent, missingFitReason, missingFitsNote } from '../../src/views/fitNotes';

function mode(rank: number, flatness: number): ModeFlatnessResult {
  return {
    rank,
    L0: 0.1,
    theta0: 0,
    left: -flatness / 2,
    right: flatness / 2,
    flatness,
    evaluations: 10,
    threshold: 0.2,
    leftFound: Number.isFinite(flatness),
    rightFound: Number.isFinite(flatness),
    minimumBracketed: true,
    nonFinite: 0,
    samples: [],
  };
}

/** A 20-snapshot window's spectrum: 19 non-zero variances σ²_i = i^(−2.5), then a 0. */
const variance = [...Array.from({ length: 19 }, (_, i) => (i + 1) ** -2.5), 0];

describe('fits of a short window', () => {
  it('γ over ranks clipped to 19–20 has no exponent, and says it had 1 rank of the 2 needed', () => {
    const measured = [2, 3, 5, 8, 13].map((r) => mode(r, r ** (1 / 3)));
    const { fits } = varianceFlatnessSummary(measured, variance, 19);
    expect(fits.gamma.n).toBe(1);
    expect(fits.gamma.ranks).toEqual([19, 20]);
    expect(Number.isNaN(fits.gamma.exponent)).toBe(true);
    expect(hasExponent(fits.gamma)).toBe(false);
    expect(missingFitReason('gamma', fits.gamma)).toBe(
      '1 rank with non-zero variance in ranks 19–20; a fit needs at least 2',
    );
    // σ² = i^(−2.5) against F = i^(1/3): ψ = 7.5 exactly, and nothing is missing.
    expect(fits.psi.exponent).toBeCloseTo(7.5, 10);
    expect(missingFitReason('psi', fits.psi)).toBeNull();
  });

  it('ψ with one finite flatness among the measured modes names the count and the range', () => {
    const measured = [mode(2, 1.5), mode(3, Infinity), mode(4, NaN)];
    const { fits } = varianceFlatnessSummary(measured, variance, 19);
    expect(fits.psi.n).toBe(1);
    expect(missingFitReason('psi', fits.psi)).toBe(
      '1 mode with a finite flatness in ranks 2–19; a fit needs at least 2',
    );
  });

  it('ψ over modes that all share one flatness has no slope, and says so', () => {
    const measured = [2, 3, 4].map((r) => mode(r, 2));
    const { fits } = varianceFlatnessSummary(measured, variance, 19);
    expect(fits.psi.n).toBe(3);
    expect(hasExponent(fits.psi)).toBe(false);
    expect(missingFitReason('psi', fits.psi)).toBe(
      'its 3 modes with a finite flatness in ranks 2–19 share one flatness, so no slope',
    );
  });

  it('groups the runs by reason and leaves out the runs with an exponent', () => {
    const none = { exponent: NaN, n: 1, ranks: [19, 20] as [number, number] };
    const zero = { exponent: NaN, n: 0, ranks: [19, 20] as [number, number] };
    const ok = { exponent: 2.7, n: 181, ranks: [20, 200] as [number, number] };
    expect(
      missingFitsNote('gamma', [
        { label: 'B 400, α 0.05', fit: none },
        { label: 'B 50, α 0.1', fit: ok },
        { label: 'B 400, α 0.1', fit: none },
        { label: 'B 400, α 0.2', fit: zero },
      ]),
    ).toBe(
      'No γ in 2 runs (B 400, α 0.05; B 400, α 0.1): 1 rank with non-zero variance in ranks 19–20; a fit needs at least 2. ' +
        'No γ in 1 run (B 400, α 0.2): 0 ranks with non-zero variance in ranks 19–20; a fit needs at least 2.',
    );
    expect(missingFitsNote('psi', [{ label: 'h 50', fit: ok }])).toBe('');
  });
});
