import { describe, expect, it } from 'vitest';
import {
  effectiveDimensions,
  interpolatedFlatness,
  learningDimension,
  rankOrderedFlatness,
  sharpDimension,
  sharpThreshold,
  scaledSharpThreshold,
  sharpCounts,
} from '../../src/engine/landscape/effectiveDimension';
import { logSpacedRanks, rankReachingFraction } from '../../src/engine/landscape/fits';

describe('learning dimension D_L', () => {
  it('counts modes from mode 2 holding the fraction of the variance beyond mode 1', () => {
    // Beyond mode 1: 4 + 3 + 2 + 1 = 10; 90% = 9 → three modes, 95% → four.
    const v = [100, 4, 3, 2, 1];
    expect(learningDimension(v, 0.9)).toBe(3);
    expect(learningDimension(v, 0.95)).toBe(4);
    expect(learningDimension(v, 0.4)).toBe(1);
    expect(learningDimension(v, 0.7)).toBe(2); // exactly 70%: reached, not overshot
    // From mode 1: total 110, 90% = 99 → mode 1 alone is 100.
    expect(learningDimension(v, 0.9, { includeFirst: true })).toBe(1);
  });

  it('agrees with rankReachingFraction − 1 on a power-law spectrum', () => {
    const v = Array.from({ length: 500 }, (_, i) => (i === 0 ? 1e3 : Math.pow(i + 1, -1.5)));
    for (const f of [0.5, 0.9, 0.95]) {
      expect(learningDimension(v, f)).toBe(rankReachingFraction(v, f) - 1);
    }
  });

  it('a flat spectrum of n modes beyond mode 1 needs ⌈f·n⌉ modes; no variance → NaN', () => {
    const v = [5, ...new Array(40).fill(1)];
    expect(learningDimension(v, 0.9)).toBe(36);
    expect(learningDimension(v, 0.95)).toBe(38);
    expect(learningDimension([1, 0, 0], 0.9)).toBeNaN();
    expect(() => learningDimension(v, 0)).toThrow();
  });
});

describe('sharp dimension D_s', () => {
  it('three threshold scales: c RMS weights, a fraction of ‖ŵ‖, a fixed distance', () => {
    // ‖ŵ‖ = 20 over 400 weights: RMS weight 1.
    expect(scaledSharpThreshold('rms', 4, 20, 400)).toBeCloseTo(4, 12);
    expect(scaledSharpThreshold('norm', 0.1, 20, 400)).toBeCloseTo(2, 12);
    expect(scaledSharpThreshold('fixed', 1, 20, 400)).toBe(1);
    // F_r = 10/r at every rank 2…1000: F < F_c ⇔ r > 10/F_c.
    const modes = Array.from({ length: 999 }, (_, i) => ({ rank: i + 2, flatness: 10 / (i + 2) }));
    const counts = sharpCounts(modes, 20, 400);
    expect(counts.map((c) => [c.scale, c.c, c.Ds])).toEqual([
      ['rms', 4, 998], // r ≥ 3
      ['norm', 0.1, 995], // r ≥ 6
      ['fixed', 1, 990], // r ≥ 11
    ]);
    // Doubling the width (4× the weights) at the same norm: only the per-weight threshold moves.
    const wide = sharpCounts(modes, 20, 1600);
    expect(wide.map((c) => c.Ds)).toEqual([995, 995, 990]); // rms F_c 2 → r ≥ 6
  });

  it('threshold is c·‖ŵ‖/√dim', () => {
    expect(sharpThreshold(10, 2500, 1)).toBeCloseTo(0.2, 15);
    expect(sharpThreshold(10, 2500)).toBeCloseTo(0.8, 15); // default c = 4
    expect(sharpThreshold(10, 2500, 2)).toBeCloseTo(0.4, 15);
  });

  it('interpolation in log–log is exact for a power law', () => {
    const ranks = logSpacedRanks(2, 1000, 30);
    const modes = ranks.map((rank) => ({ rank, flatness: 10 / rank }));
    const { first, flatness } = interpolatedFlatness(modes);
    expect(first).toBe(2);
    expect(flatness).toHaveLength(999);
    for (let r = 2; r <= 1000; r++) expect(flatness[r - 2]).toBeCloseTo(10 / r, 10);
  });

  it('F_r = 10/r measured at log-spaced ranks: F < 0.45 exactly for ranks 23…1000 → 978', () => {
    const ranks = logSpacedRanks(2, 1000, 30);
    const modes = ranks.map((rank) => ({ rank, flatness: 10 / rank }));
    // 10/r < 0.45 ⇔ r > 22.2 (a threshold off any rank: interpolation rounds at 1e-16).
    expect(sharpDimension(modes, 0.45)).toBe(978);
    expect(sharpDimension(modes, 100)).toBe(999);
    expect(sharpDimension(modes, 0.001)).toBe(0);
  });

  it('two plateaus: the count follows the geometric crossing between measured ranks', () => {
    // F = 1 up to rank 10, F = 0.01 from rank 100; in between log F falls linearly in log r, so
    // F < 0.1 ⇔ log(r/10)/log(10) > 0.5 ⇔ r > 31.6 → ranks 32…200 = 169.
    const modes = [
      { rank: 2, flatness: 1 },
      { rank: 10, flatness: 1 },
      { rank: 100, flatness: 0.01 },
      { rank: 200, flatness: 0.01 },
    ];
    expect(sharpDimension(modes, 0.1)).toBe(169);
  });

  it('skips non-finite flatness and sorts unsorted input; rank-ordered spectrum ascends', () => {
    const modes = [
      { rank: 8, flatness: 0.1 },
      { rank: 2, flatness: 1 },
      { rank: 4, flatness: NaN },
      { rank: 5, flatness: 0 },
    ];
    const spec = rankOrderedFlatness(modes);
    expect(spec).toHaveLength(7);
    for (let i = 1; i < spec.length; i++) expect(spec[i]).toBeGreaterThanOrEqual(spec[i - 1]);
    expect(sharpDimension([], 1)).toBe(0);
  });

  it('effectiveDimensions bundles D_L90, D_L95, D_s and the threshold used', () => {
    const variance = [100, 4, 3, 2, 1];
    const modes = [
      { rank: 2, flatness: 1 },
      { rank: 5, flatness: 0.01 },
    ];
    const e = effectiveDimensions(variance, modes, 5, 25, 1); // F_c = 1
    expect(e).toMatchObject({ DL90: 3, DL95: 4, threshold: 1, c: 1, norm: 5, ranks: [2, 5] });
    expect(e.Ds).toBe(3); // ranks 3, 4, 5
  });
});
