/**
 * The Einstein check of the Langevin contrast (issue 12 §4): on a quadratic landscape with the
 * engine's Langevin noise, w ← w − α∇L + √(2αT)ξ, every relaxed mode has σ² = T/k within
 * sampling error, an unrelaxed one is flagged, and σ² ∝ F² on the relaxed modes.
 */
import { describe, expect, it } from 'vitest';
import { Rng } from '../../src/engine/data/rng';
import {
  HALF_TOLERANCE,
  RELAXATION_FRACTION,
  einsteinCheck,
  segmentVariance,
  stationaryVariance,
  threePointCurvature,
  windowFactor,
} from '../../src/engine/landscape/einstein';

/** Langevin on L(w) = ½Σ k_j w_j², the engine's update and noise, sampled every `every` steps. */
function langevinQuadratic(ks: number[], T: number, lr: number, steps: number, every: number) {
  const rng = new Rng(17);
  const d = ks.length;
  const w = new Float64Array(d);
  // Start each coordinate from its stationary distribution where it has one, else at 0.
  for (let j = 0; j < d; j++) {
    const v = stationaryVariance(T, ks[j], lr);
    w[j] = Number.isFinite(v) ? Math.sqrt(v) * rng.normal() : 0;
  }
  const count = Math.floor(steps / every);
  const traj = ks.map(() => new Float64Array(count));
  const amp = Math.sqrt(2 * lr * T);
  for (let t = 0, c = 0; c < count; t++) {
    for (let j = 0; j < d; j++) w[j] = w[j] - lr * ks[j] * w[j] + amp * rng.normal();
    if ((t + 1) % every === 0) {
      for (let j = 0; j < d; j++) traj[j][c] = w[j];
      c++;
    }
  }
  return { traj, count };
}

describe('Einstein check on a quadratic landscape', () => {
  const T = 1e-4;
  const lr = 0.5;
  const steps = 40_000;
  const every = 5;
  // Relaxation 1/(αk): 4, 20, 100, 400 steps (relaxed within a 40,000-step window) and
  // 200,000 steps (not).
  const ks = [0.5, 0.1, 0.02, 0.005, 1e-5];
  const { traj, count } = langevinQuadratic(ks, T, lr, steps, every);
  const half = Math.floor(count / 2);
  const inputs = ks.map((k, j) => ({
    rank: j + 2,
    curvature: k,
    measured: segmentVariance(traj[j], 0, count),
    halves: [segmentVariance(traj[j], 0, half), segmentVariance(traj[j], half, count)] as [
      number,
      number,
    ],
    // Quadratic L = ½kθ² from L⁰: the e-fold width F ∝ 1/√k, so T/k ∝ F².
    flatness: 2 / Math.sqrt(k),
  }));
  const res = einsteinCheck(inputs, { temperature: T, lr, count, stepEvery: every });

  it('relaxed modes have σ² = T/(k(1 − αk/2)) within sampling error', () => {
    for (const m of res.modes.slice(0, 4)) {
      expect(m.equilibrated).toBe(true);
      // A 40,000-step window holds ≥ 100 relaxation times: the variance is good to ~15%.
      expect(m.measured / m.predicted).toBeGreaterThan(0.8);
      expect(m.measured / m.predicted).toBeLessThan(1.2);
      expect(m.relaxationSteps).toBeCloseTo(1 / (lr * m.curvature), 10);
    }
    expect(res.medianRatio).toBeGreaterThan(0.85);
    expect(res.medianRatio).toBeLessThan(1.15);
  });

  it('the continuum limit is T/k, and the discrete step adds 1/(1 − αk/2)', () => {
    expect(stationaryVariance(T, 1e-3, lr) / (T / 1e-3)).toBeCloseTo(1, 3);
    expect(stationaryVariance(T, 2, 0.5)).toBeCloseTo(T / (2 * 0.5), 12);
    expect(Number.isNaN(stationaryVariance(T, 5, 0.5))).toBe(true);
  });

  it('an unrelaxed mode is not called equilibrated', () => {
    const flat = res.modes[4];
    expect(flat.relaxationSteps).toBeGreaterThan(RELAXATION_FRACTION * steps);
    expect(flat.equilibrated).toBe(false);
    expect(res.equilibratedCount).toBe(4);
    expect(res.rule).toEqual({ relaxationFraction: 0.1, halfTolerance: HALF_TOLERANCE });
  });

  it('the σ²–F slope on the relaxed modes is Einstein’s +2', () => {
    expect(res.slopeEquilibrated.n).toBe(4);
    expect(res.slopeEquilibrated.exponent).toBeGreaterThan(1.8);
    expect(res.slopeEquilibrated.exponent).toBeLessThan(2.2);
    expect(res.slopePredicted.exponent).toBeCloseTo(1, 1);
  });

  it('a mode whose two half-windows disagree is not equilibrated', () => {
    const r = einsteinCheck(
      [{ rank: 2, curvature: 0.5, measured: 1e-4, halves: [1e-4, 3e-4], flatness: 1 }],
      { temperature: T, lr, count, stepEvery: every },
    );
    expect(r.modes[0].equilibrated).toBe(false);
    expect(r.equilibratedCount).toBe(0);
    expect(Number.isNaN(r.medianRatio)).toBe(true);
  });
});

describe('helpers', () => {
  it('three-point curvature is exact on a parabola', () => {
    const f = (x: number) => 3 + 0.7 * x + 2.5 * x * x;
    expect(threePointCurvature(f(-0.1), f(0), f(0.1), 0.1)).toBeCloseTo(5, 9);
  });

  it('window factor: white noise loses 1/m, a frozen series everything', () => {
    expect(windowFactor(0, 100)).toBeCloseTo(0.99, 12);
    expect(windowFactor(1, 100)).toBeCloseTo(0, 12);
  });
});
