/**
 * The page's comparison claims go by intervals, not by means: LDC is "below EWC" at an N_c only
 * where the 95% interval of LDC − EWC lies below zero.
 */
import { describe, expect, it } from 'vitest';
import type { RunResult } from '../../src/engine/forgetting/experiment';
import { forgettingRun } from '../fixtures/forgettingRun';
import { ncCurve, ncVerdictText, ncVersusEwc, settingStats } from '../../src/state/forgettingData';
import { leaderBySeed, welchDifference } from '../../src/state/claims';
import {
  aboveBeyondError,
  correlationInterval,
  lagsWithinBand,
  langevinSlopeClauses,
  quadraticPictureVerdict,
  sharpModesLead,
} from '../../src/views/claimsText';

describe('LDC against EWC at each N_c', () => {
  // EWC per seed 0.30, 0.20, 0.40. LDC at N_c = 5 is 0.2 above EWC on every seed (resolved
  // above); at N_c = 50 its mean is below EWC's but the per-seed differences are −0.2, +0.1,
  // −0.05 (unresolved); at N_c = 200 it is 0.1 below on seeds 0 and 2, 0.12 below on seed 1.
  const ewc = [0.3, 0.2, 0.4];
  const ldc: Record<number, number[]> = {
    5: ewc.map((e) => e + 0.2),
    50: [0.1, 0.3, 0.35],
    200: [0.2, 0.08, 0.3],
  };
  const runs: RunResult[] = [];
  ewc.forEach((e, seed) => runs.push(forgettingRun('ewc', 1e4, null, seed, e)));
  for (const [nc, v] of Object.entries(ldc))
    v.forEach((t, seed) => runs.push(forgettingRun('ldc', 3, Number(nc), seed, t)));
  const cmp = ncVersusEwc(
    runs,
    ncCurve(settingStats(runs, 'all')),
    { method: 'ewc', lambda: 1e4, nc: null },
    'all',
  );

  it('pairs each N_c with EWC seed by seed', () => {
    expect(cmp.map((c) => c.nc)).toEqual([5, 50, 200]);
    expect(cmp.map((c) => c.d.n)).toEqual([3, 3, 3]);
    expect(cmp[0].d.mean).toBeCloseTo(0.2, 12);
    expect(cmp[0].d.sd).toBeCloseTo(0, 12);
    expect(cmp[1].d.mean).toBeCloseTo(-0.05, 12);
    expect(cmp[2].d.mean).toBeCloseTo(-0.32 / 3, 12);
  });

  it('says "below" only where the interval is below zero, even where the mean is lower', () => {
    expect(ncVerdictText(cmp, 'paired seed by seed')).toBe(
      'By the 95% interval of LDC − EWC (paired seed by seed), LDC is below EWC at N_c = 200, above it at N_c = 5 and unresolved (the interval includes 0) at N_c = 50.',
    );
  });

  it('one seed resolves nothing; no EWC, no sentence', () => {
    const one = runs.filter((r) => r.seed === 0);
    const c1 = ncVersusEwc(
      one,
      ncCurve(settingStats(one, 'all')),
      { method: 'ewc', lambda: 1e4, nc: null },
      'all',
    );
    expect(ncVerdictText(c1, 'paired seed by seed')).toBe(
      'One seed cannot say at which N_c LDC is below EWC.',
    );
    expect(ncVersusEwc(runs, ncCurve(settingStats(runs, 'all')), null, 'all')).toEqual([]);
    expect(ncVerdictText([], 'x')).toBe('');
  });

  it('with none below, says so', () => {
    expect(ncVerdictText([cmp[0]], 'paired seed by seed')).toBe(
      'By the 95% interval of LDC − EWC (paired seed by seed), LDC is below EWC at no N_c and above it at N_c = 5.',
    );
  });
});

describe("Welch's interval from means and sds", () => {
  it('a known case: equal sds, n = 5 each → df = 8, t = 2.306004', () => {
    // se = √(1/5 + 1/5) = 0.632456; half = 2.306004 · 0.632456 = 1.458445.
    const d = welchDifference({ mean: 1, sd: 1, n: 5 }, { mean: 0, sd: 1, n: 5 });
    expect(d.mean).toBe(1);
    expect(d.ci95[0]).toBeCloseTo(-0.458445, 5);
    expect(d.ci95[1]).toBeCloseTo(2.458445, 5);
  });

  it('one seed on either side: no interval', () => {
    const d = welchDifference({ mean: 1, sd: 0, n: 1 }, { mean: 0, sd: 1, n: 5 });
    expect(d.ci95.every(Number.isNaN)).toBe(true);
    expect(d.n).toBe(1);
  });
});

describe('the leader among methods, by the paired interval over seeds', () => {
  const r = (method: string, seed: number, v: number) => ({ method, seed, v });
  // a beats c on every seed by 0.1 (resolved); a beats b by +0.1, −0.05, +0.02 (not resolved).
  const runs = [
    ...[0.5, 0.45, 0.47].map((v, s) => r('a', s, v)),
    ...[0.4, 0.5, 0.45].map((v, s) => r('b', s, v)),
    ...[0.4, 0.35, 0.37].map((v, s) => r('c', s, v)),
  ];
  const groups = ['a', 'b', 'c'].map((key) => ({
    key,
    runs: runs.filter((x) => x.method === key),
  }));

  it('names the largest mean and the groups it is not resolved from', () => {
    expect(leaderBySeed(groups, (x) => x.v, true)).toEqual({ leader: 'a', tied: ['b'], seeds: 3 });
  });

  it('the smallest, when asked', () => {
    // c is below a on every seed (resolved) and below b by 0, −0.15, −0.08 (not resolved).
    expect(leaderBySeed(groups, (x) => x.v, false)).toEqual({ leader: 'c', tied: ['b'], seeds: 3 });
  });

  it('one seed resolves nothing', () => {
    const one = groups.map((g) => ({ ...g, runs: g.runs.slice(0, 1) }));
    expect(leaderBySeed(one, (x) => x.v, true)).toEqual({
      leader: 'a',
      tied: ['b', 'c'],
      seeds: 1,
    });
  });
});

describe('caption verdicts from the uncertainty shown', () => {
  it('the flatness figure says "the high-variance modes are the sharp ones" only by ψ’s interval', () => {
    expect(sharpModesLead({ ci95: [2.7, 3.9] })).toBe(
      'The high-variance modes are the sharp ones (ψ’s 95% interval in the σ²–F fit is above zero)',
    );
    expect(sharpModesLead({ ci95: [-0.22, 7.35] })).toBe(
      'Whether the high-variance modes are the sharp ones is not resolved in this window (ψ’s 95% interval in the σ²–F fit includes zero)',
    );
    expect(sharpModesLead({ ci95: [-3, -1] })).toMatch(
      /^Here the high-variance modes are the flat/,
    );
    expect(sharpModesLead(null)).toBe('Flatness by rank');
  });

  it('"hotter" needs a gap beyond 1.96 combined standard errors', () => {
    // Gap 1, combined se = √(0.3² + 0.4²) = 0.5: 1 > 0.98 → hotter; with se 0.4 and 0.4 → 1.109.
    expect(aboveBeyondError({ value: 2, se: 0.3 }, { value: 1, se: 0.4 })).toBe(true);
    expect(aboveBeyondError({ value: 2, se: 0.4 }, { value: 1, se: 0.4 })).toBe(false);
    expect(aboveBeyondError({ value: 2, se: NaN }, { value: 1, se: 0 })).toBe(false);
  });

  it("a correlation's 95% interval by Fisher's z", () => {
    // r = 0.76, n = 11: z = atanh(0.76) = 0.996, half = 1.96/√8 = 0.693 → tanh(0.303), tanh(1.689).
    const [lo, hi] = correlationInterval(0.76, 11);
    expect(lo).toBeCloseTo(0.2939, 3);
    expect(hi).toBeCloseTo(0.9341, 3);
    expect(correlationInterval(0.5, 3).every(Number.isNaN)).toBe(true);
    expect(correlationInterval(1, 10).every(Number.isNaN)).toBe(true);
  });
});

describe('the Langevin paragraph by the slope’s interval', () => {
  // ψ = −slope: ψ's interval [−3.9, −2.5] is the slope's [2.5, 3.9].
  it('above +2: spreads more along flatter modes, beyond +2', () => {
    expect(langevinSlopeClauses({ slope: 3.2, ci95: [-3.9, -2.5] })).toEqual({
      sign: 'spreads more along flatter modes, the sign the Einstein relation predicts (its slope +3.20, 95% CI 2.50–3.90)',
      steep: 'beyond +2 (here its whole interval is beyond it)',
    });
  });
  it('an interval across zero says neither way', () => {
    const c = langevinSlopeClauses({ slope: 0.8, ci95: [-2.1, 0.5] });
    expect(c.sign).toBe(
      'does not resolve which way it spreads with flatness (its slope +0.80, 95% CI −0.50 to 2.10, includes zero)',
    );
    expect(c.steep).toBe('(here the interval includes the +2 of equilibrium)');
  });
  it('below zero is the SGD sign; no fit, no numbers', () => {
    expect(langevinSlopeClauses({ slope: -1, ci95: [0.5, 1.5] }).sign).toMatch(/^spreads less/);
    expect(langevinSlopeClauses({ slope: -1, ci95: [0.5, 1.5] }).steep).toBe(
      '(here the interval lies below the +2 of equilibrium)',
    );
    expect(langevinSlopeClauses({ slope: NaN, ci95: [NaN, NaN] })).toEqual({
      sign: 'has no slope fit in this window',
      steep: '',
    });
  });
});

describe('velocity correlations and the quadratic picture', () => {
  it('counts the single lags within the band from s = 2', () => {
    // Band 0.1 everywhere: lags 2..4 of the first curve are 0.05, −0.2, 0.1 (2 inside); the
    // second has 0.3 at lag 2 (outside) and a NaN (skipped).
    expect(
      lagsWithinBand(
        [
          [1, -0.3, 0.05, -0.2, 0.1],
          [1, 0, 0.3, NaN],
        ],
        () => 0.1,
      ),
    ).toEqual({ inside: 2, total: 4 });
  });

  it('"the same information" needs the slope interval to hold −2 and the median near 1', () => {
    expect(quadraticPictureVerdict({ ci95: [-2.3, -1.8] }, 1.2)).toMatch(
      /^flatness and curvature carry/,
    );
    expect(quadraticPictureVerdict({ ci95: [-1.6, -1.2] }, 1.2)).toMatch(/excludes −2/);
    expect(quadraticPictureVerdict({ ci95: [-2.3, -1.8] }, 2)).toMatch(
      /^the profiles are not quadratic/,
    );
  });
});
