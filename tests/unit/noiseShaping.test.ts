import { existsSync, readFileSync } from 'node:fs';
import { beforeAll, describe, expect, it } from 'vitest';
import { Rng } from '../../src/engine/data/rng';
import { MinibatchSampler } from '../../src/engine/data/batches';
import { loadEmbeddedDataset } from '../../src/engine/data/embedded';
import { PlainMlp, initMlp } from '../../src/engine/nets/mlp';
import {
  IsotropicNoise,
  ModeNoise,
  flatnessStrengths,
  sgdNoisePower,
} from '../../src/engine/nets/noiseInjection';
import {
  NOISE_METHODS,
  noiseShapingSeed,
  summarizeNoiseShaping,
  trajectoryModes,
  type NoiseShapingRun,
} from '../../src/engine/experiments/noiseShaping';
import { useBackend } from './tfBackend';

/** Sample covariance (about the known zero mean) of `n` draws of a d-vector noise. */
function sampleCovariance(d: number, n: number, draw: (w: Float64Array) => void): Float64Array {
  const C = new Float64Array(d * d);
  const w = new Float64Array(d);
  for (let s = 0; s < n; s++) {
    w.fill(0);
    draw(w);
    for (let i = 0; i < d; i++) for (let j = 0; j < d; j++) C[i * d + j] += w[i] * w[j];
  }
  for (let i = 0; i < C.length; i++) C[i] /= n;
  return C;
}

/** Orthonormal rows by Gram–Schmidt of Gaussian vectors. */
function orthonormal(k: number, d: number, rng: Rng): Float64Array {
  const Q = new Float64Array(k * d);
  for (let r = 0; r < k; r++) {
    const q = Q.subarray(r * d, (r + 1) * d);
    for (let j = 0; j < d; j++) q[j] = rng.normal();
    for (let p = 0; p < r; p++) {
      const prev = Q.subarray(p * d, (p + 1) * d);
      let dot = 0;
      for (let j = 0; j < d; j++) dot += q[j] * prev[j];
      for (let j = 0; j < d; j++) q[j] -= dot * prev[j];
    }
    let n = 0;
    for (let j = 0; j < d; j++) n += q[j] * q[j];
    for (let j = 0; j < d; j++) q[j] /= Math.sqrt(n);
  }
  return Q;
}

describe('injected noise', () => {
  it('isotropic noise has covariance (P/d)·I and power P', () => {
    const d = 5;
    const P = 0.3;
    const noise = new IsotropicNoise(d, P);
    const rng = new Rng(1);
    const n = 40000;
    const C = sampleCovariance(d, n, (w) => noise.addTo(w, rng));
    // Each entry's standard error is ≈ (P/d)·√(2/n) on the diagonal, (P/d)/√n off it.
    for (let i = 0; i < d; i++)
      for (let j = 0; j < d; j++)
        expect(Math.abs(C[i * d + j] - (i === j ? P / d : 0))).toBeLessThan(
          (5 * (P / d)) / Math.sqrt(n / 2),
        );
    expect(noise.temperature(0.1)).toBeCloseTo(P / (2 * 0.1 * d), 12);
  });

  it('mode noise has covariance Σ D_i p_i p_iᵀ', () => {
    const d = 6;
    const rng = new Rng(2);
    const modes = orthonormal(3, d, rng);
    const D = [0.5, 0.2, 0.05];
    const noise = new ModeNoise(modes, d, D);
    const n = 40000;
    const C = sampleCovariance(d, n, (w) => noise.addTo(w, rng));
    for (let i = 0; i < d; i++)
      for (let j = 0; j < d; j++) {
        let target = 0;
        for (let r = 0; r < 3; r++) target += D[r] * modes[r * d + i] * modes[r * d + j];
        expect(Math.abs(C[i * d + j] - target)).toBeLessThan((5 * 0.75) / Math.sqrt(n / 2));
      }
    // No power off the modes: the covariance's trace equals Σ D_i.
    let trace = 0;
    for (let i = 0; i < d; i++) trace += C[i * d + i];
    expect(Math.abs(trace / noise.power - 1)).toBeLessThan(0.03);
  });

  it('isotropic and flatness-detecting noise carry the same power to 1%', () => {
    const d = 100;
    const P = 2e-3;
    const rng = new Rng(3);
    const F = [0.2, 0.3, 0.45, 0.6, 1.1, Infinity];
    const D = flatnessStrengths(F, 2.5, P);
    expect(D).not.toBeNull();
    const modes = orthonormal(F.length, d, rng);
    const flat = new ModeNoise(modes, d, D as Float64Array);
    const iso = new IsotropicNoise(d, P);
    expect(flat.power).toBeCloseTo(P, 15);
    const mean = (noise: IsotropicNoise | ModeNoise, n: number) => {
      const w = new Float64Array(d);
      let s = 0;
      for (let t = 0; t < n; t++) {
        w.fill(0);
        noise.addTo(w, rng);
        for (let j = 0; j < d; j++) s += w[j] * w[j];
      }
      return s / n;
    };
    // Relative sd of the mean ‖ξ‖²: √(2/d/n) isotropic, √(2ΣD²)/ΣD/√n along the modes (< 0.2%).
    expect(Math.abs(mean(iso, 4000) / P - 1)).toBeLessThan(0.01);
    expect(Math.abs(mean(flat, 200000) / P - 1)).toBeLessThan(0.01);
  });

  it('flatness-detecting strengths fall as F^(−β₁) and sum to the power', () => {
    const D = flatnessStrengths([0.5, 1, 2, NaN, Infinity], 3, 1) as Float64Array;
    expect(D[0] / D[1]).toBeCloseTo(8, 10);
    expect(D[1] / D[2]).toBeCloseTo(8, 10);
    expect(D[3]).toBe(0);
    expect(D[4]).toBe(0);
    expect(D.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 14);
    expect(flatnessStrengths([Infinity, NaN], 3, 1)).toBeNull();
  });
});

describe("SGD's noise power over W2", () => {
  // A small synthetic problem: 16-pixel inputs, h = 5, N = 40 examples.
  const P = 16;
  const N = 40;
  const rng = new Rng(5);
  const images = new Uint8Array(N * P);
  for (let i = 0; i < images.length; i++) images[i] = rng.int(256);
  const labels = new Uint8Array(N);
  for (let i = 0; i < N; i++) labels[i] = rng.int(10);
  const split = { images, labels, count: N };
  const w = initMlp(5, 9, P);
  const x = new Float32Array(N * P);
  for (let i = 0; i < x.length; i++) x[i] = images[i] / 255;

  const gradientW2 = (idx: ArrayLike<number>) => {
    const net = new PlainMlp({ ...w, W1: w.W1.slice(), W2: w.W2.slice(), W3: w.W3.slice() });
    const xb = new Float32Array(idx.length * P);
    const yb = new Int32Array(idx.length);
    for (let k = 0; k < idx.length; k++) {
      xb.set(x.subarray(idx[k] * P, (idx[k] + 1) * P), k * P);
      yb[k] = labels[idx[k]];
    }
    net.gradient(xb, yb, idx.length);
    return Float64Array.from(net.grad.W2);
  };

  for (const sampling of ['epoch', 'replacement'] as const) {
    it(`equals α²·E‖g^μ − g‖² over sampled minibatches (${sampling})`, () => {
      const B = 8;
      const lr = 0.3;
      const g = gradientW2(Array.from({ length: N }, (_, i) => i));
      const sampler = new MinibatchSampler(N, B, 4, sampling);
      const steps = 6000;
      let sum = 0;
      for (let t = 0; t < steps; t++) {
        const gm = gradientW2(sampler.next());
        for (let j = 0; j < g.length; j++) sum += (gm[j] - g[j]) ** 2;
      }
      const mc = (lr * lr * sum) / steps;
      const exact = sgdNoisePower(w, split, B, lr, sampling);
      expect(exact.gradientNormSq).toBeCloseTo(
        g.reduce((a, b) => a + b * b, 0),
        8,
      );
      // The Monte Carlo mean has a relative error of a few percent at 6,000 batches.
      expect(Math.abs(mc / exact.power - 1)).toBeLessThan(0.06);
    });
  }

  it('without replacement is smaller by (N − B)/(N − 1)', () => {
    const a = sgdNoisePower(w, split, 8, 0.1, 'epoch').power;
    const b = sgdNoisePower(w, split, 8, 0.1, 'replacement').power;
    expect(a / b).toBeCloseTo((N - 8) / (N - 1), 12);
    expect(sgdNoisePower(w, split, N, 0.1, 'epoch').power).toBe(0);
  });
});

describe('trajectory modes', () => {
  it('finds the axes of a trajectory, drift first, and their velocity variance', () => {
    const d = 8;
    const M = 400;
    const rng = new Rng(6);
    const snaps: Float32Array[] = [];
    for (let t = 0; t < M; t++) {
      const s = new Float32Array(d);
      s[0] = 0.05 * t; // drift
      s[3] = 0.3 * rng.normal();
      s[5] = 0.1 * rng.normal();
      snaps.push(s);
    }
    const tm = trajectoryModes(snaps, 2);
    expect(tm.k).toBe(2);
    expect(Math.abs(tm.directions[3])).toBeGreaterThan(0.999);
    expect(Math.abs(tm.directions[d + 5])).toBeGreaterThan(0.999);
    // Independent draws: the velocity variance is twice the variance.
    expect(tm.velocityVariance[0] / (2 * 0.09)).toBeGreaterThan(0.85);
    expect(tm.velocityVariance[0] / (2 * 0.09)).toBeLessThan(1.15);
  });
});

const dataPath = 'public/data/mnist-10k.bin';
describe.skipIf(!existsSync(dataPath))('noise-shaping experiment', () => {
  beforeAll(async () => {
    await useBackend('wasm');
  });

  it('gives the four methods the same start and the same number of example gradients', async () => {
    const data = loadEmbeddedDataset(readFileSync(dataPath));
    const N = 100;
    const B = 20;
    const cfg = {
      hidden: 10,
      batchSize: B,
      lr: 0.1,
      sampling: 'epoch' as const,
      seed: 3,
      trainCount: N,
      testCount: 100,
      epochs: 8,
      errorThreshold: 0.005,
      windowEpochs: 6,
      modes: 3,
      refreshEvery: 3,
      powerSamples: 4,
      stepImpl: 'auto' as const,
    };
    const runs: NoiseShapingRun[] = [];
    for await (const ev of noiseShapingSeed(cfg, data)) if (ev.type === 'run') runs.push(ev.run);
    expect(runs.map((r) => r.method)).toEqual([...NOISE_METHODS]);
    for (const r of runs) {
      expect(r.gradientEvaluations).toBe(cfg.epochs * N);
      expect(r.trainError[0]).toBe(runs[0].trainError[0]);
      expect(r.epochs.at(-1)).toBe(cfg.epochs);
      expect(r.topFlatness).toHaveLength(cfg.modes);
    }
    const [sgd, gd, iso, flat] = runs;
    expect(sgd.steps).toBe(cfg.epochs * (N / B));
    expect(gd.steps).toBe(cfg.epochs);
    expect(gd.noisePower).toBe(0);
    expect(sgd.noisePower).toBeGreaterThan(0);
    expect(Number.isFinite(sgd.beta1)).toBe(true);
    // One GD step injects the noise of N/B SGD steps, for both noises.
    expect(iso.noisePower).toBeCloseTo((sgd.noisePower * N) / B, 12);
    expect(flat.noisePower).toBe(iso.noisePower);
    expect(flat.refreshes).toBeGreaterThan(0);
    const s = summarizeNoiseShaping(runs);
    expect(s.sgd.finalTestError.n).toBe(1);
    expect(s.gd.finalTestError.mean).toBe(gd.finalTestError);
  }, 120_000);
});

describe('noise-shaping command line', () => {
  it('defaults to seeds 0,1,2 and the engine defaults; refuses bad values', async () => {
    const { parseNoiseShapingArgs } = await import('../../src/cli/experiments/noiseShaping');
    const { NOISE_SHAPING_DEFAULTS } =
      await import('../../src/engine/experiments/noiseShapingSummary');
    const o = parseNoiseShapingArgs(['--experiment', 'noise-shaping']);
    expect(o.seeds).toEqual([0, 1, 2]);
    expect(o.config).toEqual(NOISE_SHAPING_DEFAULTS);
    const p = parseNoiseShapingArgs(['--seeds', '4,5', '--sampling', 'replacement', '--B', '25']);
    expect(p.seeds).toEqual([4, 5]);
    expect(p.config.sampling).toBe('replacement');
    expect(p.config.batchSize).toBe(25);
    expect(() => parseNoiseShapingArgs(['--sampling', 'x'])).toThrow();
    expect(() => parseNoiseShapingArgs(['--epochs', '-3'])).toThrow();
  });
});
