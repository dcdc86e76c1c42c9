import { describe, expect, it } from 'vitest';
import {
  cumulativeVarianceExcludingFirst,
  logSpacedRanks,
  powerLawFit,
  rankReachingFraction,
  spectrumFit,
  studentTCdf,
  studentTQuantile,
  varianceFlatnessFit,
  varianceFraction,
} from '../../src/engine/landscape/fits';
import { Rng } from '../../src/engine/data/rng';

describe('Student t quantile', () => {
  it('matches tabulated values', () => {
    const table: [number, number, number][] = [
      [0.975, 1, 12.706204736174698],
      [0.975, 2, 4.302652729749464],
      [0.975, 5, 2.5705818356363146],
      [0.975, 30, 2.0422724563012373],
      [0.975, 1000, 1.9623390808264078],
      [0.995, 10, 3.169272672616958],
      [0.9, 3, 1.6377443536962102],
      [0.6, 7, 0.2631668613520229],
    ];
    for (const [p, df, t] of table) {
      expect(Math.abs(studentTQuantile(p, df) - t) / t).toBeLessThan(1e-9);
      expect(studentTQuantile(1 - p, df)).toBeCloseTo(-t, 8);
      expect(studentTCdf(t, df)).toBeCloseTo(p, 12);
    }
    expect(studentTQuantile(0.5, 4)).toBe(0);
    expect(studentTQuantile(0.975, 1e7)).toBeCloseTo(1.959963984540054, 6);
  });
});

describe('powerLawFit', () => {
  it('is exact on noiseless data (r2 = 1)', () => {
    const x = [1, 2, 3, 5, 8, 13, 21];
    const y = x.map((v) => 3.5 * v ** -2.25);
    const fit = powerLawFit(x, y);
    expect(fit.exponent).toBeCloseTo(-2.25, 12);
    expect(fit.prefactor).toBeCloseTo(3.5, 11);
    expect(fit.intercept).toBeCloseTo(Math.log10(3.5), 12);
    expect(fit.r2).toBeCloseTo(1, 12);
    expect(fit.n).toBe(7);
    expect(fit.ci95[1] - fit.ci95[0]).toBeLessThan(1e-9);
  });

  it('recovers a noisy exponent with the true value inside the 95% CI (≈95% coverage)', () => {
    const rng = new Rng(7);
    const truth = -3.1;
    let covered = 0;
    const trials = 400;
    for (let t = 0; t < trials; t++) {
      const x: number[] = [];
      const y: number[] = [];
      for (let i = 1; i <= 20; i++) {
        x.push(i * 1.7);
        y.push(2 * (i * 1.7) ** truth * Math.exp(0.3 * rng.normal()));
      }
      const fit = powerLawFit(x, y);
      if (fit.ci95[0] <= truth && truth <= fit.ci95[1]) covered++;
      if (t === 0) {
        expect(fit.ci95[0]).toBeLessThan(truth);
        expect(fit.ci95[1]).toBeGreaterThan(truth);
        expect(Math.abs(fit.exponent - truth)).toBeLessThan(0.5);
        expect(fit.r2).toBeGreaterThan(0.9);
        expect(fit.r2).toBeLessThan(1);
      }
    }
    // Binomial(400, 0.95): sd ≈ 4.4 → 95% ± 3.3 sd.
    expect(covered / trials).toBeGreaterThan(0.91);
    expect(covered / trials).toBeLessThan(0.99);
  });

  it('skips non-positive and non-finite points; respects an x range', () => {
    const x = [0, 1, 2, -3, 4, 8, NaN, 16];
    const y = [1, 1, 0.25, 5, 1 / 16, 1 / 64, 3, Infinity];
    const fit = powerLawFit(x, y);
    expect(fit.n).toBe(4);
    expect(fit.skipped).toBe(4);
    expect(fit.exponent).toBeCloseTo(-2, 12);
    expect(powerLawFit(x, y, { xMin: 2 }).n).toBe(3);
  });

  it('degenerate inputs', () => {
    expect(Number.isNaN(powerLawFit([1], [1]).exponent)).toBe(true);
    const two = powerLawFit([1, 2], [1, 4]);
    expect(two.exponent).toBeCloseTo(2, 12);
    expect(two.ci95).toEqual([-Infinity, Infinity]);
    expect(Number.isNaN(powerLawFit([2, 2, 2], [1, 2, 3]).exponent)).toBe(true);
  });
});

describe('spectrum and variance–flatness fits', () => {
  it('spectrumFit returns γ positive over the rank range', () => {
    const variance = Array.from({ length: 100 }, (_, i) => (i < 19 ? 10 : 1) * (i + 1) ** -2.5);
    const fit = spectrumFit(variance, 20, 60);
    expect(fit.exponent).toBeCloseTo(2.5, 10);
    expect(fit.slope).toBeCloseTo(-2.5, 10);
    expect(fit.ranks).toEqual([20, 60]);
    expect(fit.n).toBe(41);
    expect(fit.ci95[0]).toBeLessThanOrEqual(fit.exponent);
    expect(fit.ci95[1]).toBeGreaterThanOrEqual(fit.exponent);
    expect(spectrumFit(variance, 90, 500).ranks).toEqual([90, 100]);
  });

  it('varianceFlatnessFit returns ψ = −slope, skipping infinite flatness', () => {
    const modes = [2, 3, 5, 8, 13, 21, 34].map((rank) => {
      const F = 0.5 * rank ** 0.6;
      return { rank, flatness: F, variance: 0.01 * F ** -4 };
    });
    modes.push({ rank: 40, flatness: Infinity, variance: 1e-9 });
    const fit = varianceFlatnessFit(modes, 2, 50);
    expect(fit.exponent).toBeCloseTo(4, 10);
    expect(fit.n).toBe(7);
    expect(varianceFlatnessFit(modes, 3, 13).n).toBe(4);
    // Einstein-like: σ² ∝ F² → ψ = −2.
    const einstein = modes.slice(0, 7).map((m) => ({ ...m, variance: m.flatness ** 2 }));
    expect(varianceFlatnessFit(einstein, 1, 100).exponent).toBeCloseTo(-2, 10);
  });
});

describe('variance shares and ranks', () => {
  const v = [100, 4, 3, 2, 1]; // modes ≥ 2 sum to 10

  it('cumulative variance excluding mode 1', () => {
    const c = cumulativeVarianceExcludingFirst(v);
    expect(Array.from(c).map((x) => +x.toFixed(12))).toEqual([0, 0.4, 0.7, 0.9, 1]);
  });

  it('rank reaching a fraction', () => {
    expect(rankReachingFraction(v, 0.9)).toBe(4);
    expect(rankReachingFraction(v, 0.4)).toBe(2);
    expect(rankReachingFraction(v, 0.41)).toBe(3);
    expect(rankReachingFraction(v, 1)).toBe(5);
    expect(Number.isNaN(rankReachingFraction([1], 0.9))).toBe(true);
  });

  it('variance fraction of modes 2..k', () => {
    expect(varianceFraction(v, 2, 3)).toBeCloseTo(0.7, 12);
    expect(varianceFraction(v, 2, 35)).toBe(1);
    expect(varianceFraction(v, 3, 4)).toBeCloseTo(5 / 6, 12);
  });

  it('log-spaced ranks are unique, sorted, inclusive and as many as asked', () => {
    for (const [from, to, count] of [
      [1, 2500, 50],
      [2, 200, 30],
      [1, 60, 50],
      [5, 9, 10],
      [1, 1000, 7],
    ]) {
      const r = logSpacedRanks(from, to, count);
      expect(r.length).toBe(Math.min(count, to - from + 1));
      expect(r[0]).toBe(from);
      expect(r[r.length - 1]).toBe(to);
      for (let i = 1; i < r.length; i++) expect(r[i]).toBeGreaterThan(r[i - 1]);
    }
    const r = logSpacedRanks(1, 1000, 7);
    expect(r).toEqual([1, 3, 10, 32, 100, 316, 1000]);
  });
});
