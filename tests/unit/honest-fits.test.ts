/**
 * Intervals that hold for correlated residuals (issue 12 §2) and the independent check of the
 * correlation time (§3), against known answers.
 */
import { describe, expect, it } from 'vitest';
import { Rng } from '../../src/engine/data/rng';
import {
  blockBootstrapSlope,
  lag1Autocorrelation,
  totalLeastSquaresSlope,
} from '../../src/engine/landscape/blockBootstrap';
import { powerLawFit, spectrumFit, varianceFlatnessFit } from '../../src/engine/landscape/fits';
import {
  acfWindowVariance,
  lagSums,
  velocityStatistics,
  windowLagWeights,
} from '../../src/engine/landscape/velocity';
import { windowFactor } from '../../src/engine/landscape/einstein';

/** A power law σ² = i^(−2.5) over ranks lo..hi with AR(1) noise (lag-1 ρ) in ln σ². */
function ar1PowerLaw(rng: Rng, rho: number, lo: number, hi: number, scale = 0.05) {
  const x: number[] = [];
  const y: number[] = [];
  let e = rng.normal() / Math.sqrt(1 - rho * rho);
  for (let i = lo; i <= hi; i++) {
    e = rho * e + rng.normal();
    x.push(i);
    y.push(Math.exp(-2.5 * Math.log(i) + scale * e));
  }
  return { x, y };
}

describe('block-bootstrap interval', () => {
  it('covers the true slope near the nominal rate on AR(1) residuals (ρ = 0.9), where OLS fails', () => {
    const rng = new Rng(2024);
    const R = 200;
    let boot = 0;
    let ols = 0;
    for (let rep = 0; rep < R; rep++) {
      const { x, y } = ar1PowerLaw(rng, 0.9, 20, 200);
      const f = powerLawFit(x, y, { interval: 'block-bootstrap', seed: rep + 1 });
      if (f.ci95[0] <= -2.5 && -2.5 <= f.ci95[1]) boot++;
      if (f.ciOls[0] <= -2.5 && -2.5 <= f.ciOls[1]) ols++;
      expect(f.method).toBe('block-bootstrap');
    }
    expect(boot / R).toBeGreaterThanOrEqual(0.85);
    expect(boot / R).toBeLessThanOrEqual(0.99);
    expect(ols / R).toBeLessThan(0.5);
  });

  it('matches the Student-t interval for independent residuals', () => {
    const rng = new Rng(7);
    let boot = 0;
    const R = 200;
    for (let rep = 0; rep < R; rep++) {
      const { x, y } = ar1PowerLaw(rng, 0, 20, 200);
      const f = powerLawFit(x, y, { interval: 'block-bootstrap', seed: rep + 1 });
      const w = f.ci95[1] - f.ci95[0];
      const wOls = f.ciOls[1] - f.ciOls[0];
      expect(w / wOls).toBeGreaterThan(0.8);
      expect(w / wOls).toBeLessThan(1.25);
      if (f.ci95[0] <= -2.5 && -2.5 <= f.ci95[1]) boot++;
    }
    expect(boot / R).toBeGreaterThanOrEqual(0.9);
  });

  it('is reproducible: the same seed gives the same interval, the OLS point value is kept', () => {
    const { x, y } = ar1PowerLaw(new Rng(3), 0.9, 20, 200);
    const lx = x.map(Math.log);
    const ly = y.map(Math.log);
    const a = blockBootstrapSlope(lx, ly, { seed: 5 });
    const b = blockBootstrapSlope(lx, ly, { seed: 5 });
    expect(a.ci).toEqual(b.ci);
    const f = powerLawFit(x, y, { interval: 'block-bootstrap', seed: 5 });
    expect(f.slope).toBeCloseTo(powerLawFit(x, y).slope, 12);
    expect(f.ci95).toEqual(a.ci);
    expect(a.lag1).toBeGreaterThan(0.7);
  });

  it('the rank fits default to the bootstrap and keep the t interval as ciOls', () => {
    const { y } = ar1PowerLaw(new Rng(11), 0.9, 1, 200);
    const g = spectrumFit(y, 20, 200);
    expect(g.method).toBe('block-bootstrap');
    expect(g.ci95[1] - g.ci95[0]).toBeGreaterThan(2 * (g.ciOls[1] - g.ciOls[0]));
    expect(g.ci95[0]).toBeLessThan(g.exponent);
    expect(g.ci95[1]).toBeGreaterThan(g.exponent);
  });

  it('lag-1 autocorrelation of an AR(1) series', () => {
    const rng = new Rng(1);
    const e: number[] = [];
    let v = 0;
    for (let i = 0; i < 20000; i++) e.push((v = 0.6 * v + rng.normal()));
    expect(lag1Autocorrelation(e)).toBeCloseTo(0.6, 1);
  });
});

describe('total least squares', () => {
  it('recovers a known slope with noise in both variables, where OLS is attenuated', () => {
    const rng = new Rng(9);
    const lx: number[] = [];
    const ly: number[] = [];
    for (let i = 0; i < 4000; i++) {
      const t = 3 * rng.normal();
      lx.push(t + 0.8 * rng.normal());
      ly.push(-2 * t + 0.8 * rng.normal());
    }
    // Equal error variances on both axes: TLS is consistent; OLS shrinks by var(t)/(var(t)+0.64).
    expect(totalLeastSquaresSlope(lx, ly)).toBeCloseTo(-2, 1);
    const ols = powerLawFit(lx.map(Math.exp), ly.map(Math.exp)).slope;
    expect(ols).toBeGreaterThan(-1.9);
  });

  it('is exact on a noiseless line, and ψ carries it as tls.exponent', () => {
    expect(totalLeastSquaresSlope([0, 1, 2, 3], [1, 4, 7, 10])).toBeCloseTo(3, 12);
    const modes = Array.from({ length: 30 }, (_, i) => ({
      rank: i + 2,
      flatness: 1 + i,
      variance: Math.pow(1 + i, -4),
    }));
    const f = varianceFlatnessFit(modes, 2, 31);
    expect(f.exponent).toBeCloseTo(4, 10);
    expect(f.tls.exponent).toBeCloseTo(4, 10);
  });
});

describe('τ from the velocity autocorrelation', () => {
  it('lag sums by FFT equal the direct sums', () => {
    const rng = new Rng(4);
    const x = Array.from({ length: 300 }, () => rng.normal());
    const s = lagSums(x);
    for (const lag of [0, 1, 7, 150, 299]) {
      let d = 0;
      for (let t = 0; t + lag < x.length; t++) d += x[t] * x[t + lag];
      expect(s[lag]).toBeCloseTo(d, 8);
    }
  });

  it('the window weights turn the exact AR(1) velocity autocovariance into the window variance', () => {
    // θ ← φθ + ε, var ε = 1: γ0 = 1/(1−φ²); velocity autocovariance c(0) = 2γ0(1−φ),
    // c(s) = −γ0·φ^(s−1)(1−φ)². The expected window variance is γ0·windowFactor(φ, m).
    for (const [phi, m] of [
      [0.9, 200],
      [0.99, 500],
      [0.5, 50],
    ]) {
      const g0 = 1 / (1 - phi * phi);
      const W = windowLagWeights(m);
      let total = W[0] * 2 * g0 * (1 - phi);
      for (let s = 1; s < m - 1; s++)
        total += 2 * W[s] * -g0 * Math.pow(phi, s - 1) * (1 - phi) ** 2;
      expect(total / (g0 * windowFactor(phi, m))).toBeCloseTo(1, 9);
    }
  });

  it('for a pure random walk the weighted sum is D·(m²−1)/(6m)', () => {
    const m = 401;
    expect(windowLagWeights(m)[0]).toBeCloseTo((m * m - 1) / (6 * m), 10);
  });

  it('τ_acf equals σ²/(D·T_w) on OU (AR(1)) modes, on average over windows', () => {
    const rng = new Rng(21);
    const count = 2000;
    const phis = [0.9, 0.98, 0.99];
    const proj = new Float64Array(phis.length * count);
    const sumTau = [0, 0, 0];
    const sumAcf = [0, 0, 0];
    const R = 150;
    for (let rep = 0; rep < R; rep++) {
      phis.forEach((phi, k) => {
        let th = rng.normal() / Math.sqrt(1 - phi * phi);
        for (let t = 0; t < count; t++) proj[k * count + t] = th = phi * th + rng.normal();
      });
      const v = velocityStatistics(proj, phis.length, count, [1, 2, 3], { maxLag: 10 });
      v.forEach((m, k) => {
        sumTau[k] += m.tau;
        sumAcf[k] += m.tauAcf;
      });
    }
    // Sampling error of a 2,000-snapshot window's variance at φ = 0.99 (relaxation 100 lags) is
    // ~20% per window; over 150 windows the mean ratio is within a few percent of 1.
    for (let k = 0; k < phis.length; k++)
      expect(Math.abs(sumAcf[k] / sumTau[k] - 1)).toBeLessThan(0.05);
  });

  it('acfWindowVariance of an empty series is 0', () => {
    expect(acfWindowVariance([])).toBe(0);
  });
});
