/**
 * The MLF ensemble and the active temperature.
 * - Statistics against closed forms: quadratic "springs" L^μ(δ) = ½k_μ(δ − c_μ)².
 * - MinibatchSlopes: forward-mode slopes against central differences of its own minibatch
 *   losses (kink-free net) and against a float64 plain-JS reference (with ReLU kinks); the
 *   K-mean of the minibatch losses against FullSetLoss on the same samples; tensors disposed.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { useBackend } from './tfBackend';
import { Rng } from '../../src/engine/data/rng';
import { FullSetLoss } from '../../src/engine/landscape/fullSetLoss';
import {
  MinibatchSlopes,
  activeTemperatureProfile,
  ensembleMinima,
  minibatchesForRelativeError,
  pearson,
  temperatureAlongTrajectory,
  varianceWithError,
  type WeightCheckpoint,
} from '../../src/engine/landscape/activeTemperature';

describe('active temperature of synthetic quadratic springs', () => {
  const deltas = [-1, -0.5, 0, 0.25, 0.5, 1, 2];
  const lr = 0.1;

  it('equal stiffness: T(δ) = (α/2)·k²·var(c) at every δ, exactly for the sample variance', () => {
    const rng = new Rng(1);
    const K = 400;
    const k = 3;
    const c = Float64Array.from({ length: K }, () => 0.2 + 0.7 * rng.normal());
    let mc = 0;
    for (const v of c) mc += v;
    mc /= K;
    let vc = 0;
    for (const v of c) vc += (v - mc) ** 2;
    vc /= K - 1;
    const slopes = deltas.map((d) => c.map((cm) => k * (d - cm))); // dL^μ/dδ = k(δ − c_μ)
    const prof = activeTemperatureProfile(slopes, lr, deltas);
    expect(prof.K).toBe(K);
    expect(prof.deltas).toEqual(deltas);
    for (let j = 0; j < deltas.length; j++) {
      expect(prof.T[j]).toBeCloseTo((lr / 2) * k * k * vc, 10);
      // And the population value (α/2)·k²·0.49 within 4 standard errors.
      expect(Math.abs(prof.T[j] - (lr / 2) * k * k * 0.49)).toBeLessThan(4 * prof.stderr[j]);
      // Gaussian c: the fourth-moment error is close to var·√(2/(K−1)).
      expect(prof.stderr[j] / (prof.T[j] * Math.sqrt(2 / (K - 1)))).toBeGreaterThan(0.8);
      expect(prof.stderr[j] / (prof.T[j] * Math.sqrt(2 / (K - 1)))).toBeLessThan(1.2);
      expect(prof.meanSlope[j]).toBeCloseTo(k * (deltas[j] - mc), 10);
    }
  });

  it('random stiffness: T(δ) is hot away from the minimum, as the closed form says', () => {
    // k ~ N(k̄, s_k²), c ~ N(c̄, s_c²) independent: var[k(δ − c)] = (s_k² + k̄²)(s_c² + (δ − c̄)²) − k̄²(δ − c̄)².
    const rng = new Rng(2);
    const K = 4000;
    const kb = 2;
    const sk = 0.6;
    const cb = 0.3;
    const sc = 0.4;
    const ks = Float64Array.from({ length: K }, () => kb + sk * rng.normal());
    const cs = Float64Array.from({ length: K }, () => cb + sc * rng.normal());
    const slopes = deltas.map((d) => ks.map((k, m) => k * (d - cs[m])));
    const prof = activeTemperatureProfile(slopes, lr, deltas);
    for (let j = 0; j < deltas.length; j++) {
      const e = deltas[j] - cb;
      const exact = (lr / 2) * ((sk * sk + kb * kb) * (sc * sc + e * e) - kb * kb * e * e);
      expect(Math.abs(prof.T[j] - exact)).toBeLessThan(4 * prof.stderr[j]);
    }
    const at = (d: number) => prof.T[deltas.indexOf(d)];
    expect(at(2)).toBeGreaterThan(at(0.25));
    expect(at(-1)).toBeGreaterThan(at(0.25));
  });

  it('ensembleMinima finds the springs’ centres (exact for parabolas) and flags edges', () => {
    const c = [-0.3, 0.1, 0.77, 1.4, 3];
    const grid = Array.from({ length: 21 }, (_, i) => -1 + 0.125 * i); // −1 … 1.5
    const losses = grid.map((d) => Float64Array.from(c, (cm) => 0.5 * 2 * (d - cm) ** 2 + 0.1));
    const r = ensembleMinima(losses, grid);
    for (let m = 0; m < 4; m++) expect(r.minima[m]).toBeCloseTo(c[m], 12);
    expect(r.minima[4]).toBe(1.5);
    expect(r.atEdge).toBe(1);
    const mean = (c[0] + c[1] + c[2] + c[3] + 1.5) / 5;
    expect(r.mean).toBeCloseTo(mean, 12);
  });

  it('helpers: K for a target error, variance error, pearson', () => {
    expect(minibatchesForRelativeError(0.05)).toBe(801);
    expect(minibatchesForRelativeError(0.1)).toBe(201);
    expect(minibatchesForRelativeError(0.01)).toBe(1000);
    expect(minibatchesForRelativeError(0.01, 50_000)).toBe(20_001);
    const v = varianceWithError([1, 2, 3, 4]);
    expect(v.mean).toBe(2.5);
    expect(v.variance).toBeCloseTo(5 / 3, 12);
    expect(pearson([1, 2, 3], [2, 4, 6])).toBeCloseTo(1, 12);
    expect(pearson([1, 2, 3], [3, 2, 1])).toBeCloseTo(-1, 12);
    expect(Number.isNaN(pearson([1, 1, 1], [1, 2, 3]))).toBe(true);
  });
});

// ───────────────────────────── MinibatchSlopes on a tiny net ─────────────────────────────

interface Net {
  images: Uint8Array;
  labels: Uint8Array;
  w1: Float32Array;
  w2: Float32Array;
  w3: Float32Array;
  h: number;
  P: number;
  N: number;
}

function tinyNet(N: number, h: number, P: number, seed: number, positiveW2: boolean): Net {
  const rng = new Rng(seed);
  const images = new Uint8Array(N * P);
  for (let i = 0; i < images.length; i++) images[i] = rng.next() < 0.5 ? 0 : rng.int(256);
  const labels = new Uint8Array(N);
  for (let i = 0; i < N; i++) labels[i] = rng.int(10);
  const init = (n: number, s: number) => Float32Array.from({ length: n }, () => s * rng.normal());
  const w2 = positiveW2
    ? Float32Array.from({ length: h * h }, () => 0.5 + rng.next())
    : init(h * h, 1.5 / Math.sqrt(h));
  const w1 = init(P * h, 2 / Math.sqrt(P));
  return {
    images,
    labels,
    w1,
    w2,
    w3: init(h * 10, (positiveW2 ? 0.5 : 2) / Math.sqrt(h)),
    h,
    P,
    N,
  };
}

/** Mean CE of the samples `idx` at W2 = w2 and its exact derivative along dir, float64. */
function reference(
  net: Net,
  idx: ArrayLike<number>,
  w2: ArrayLike<number>,
  dir: ArrayLike<number>,
): { L: number; dL: number } {
  const { h, P } = net;
  let L = 0;
  let dL = 0;
  const h1 = new Float64Array(h);
  for (let k = 0; k < idx.length; k++) {
    const n = idx[k];
    for (let j = 0; j < h; j++) {
      let s = 0;
      for (let p = 0; p < P; p++) s += (net.images[n * P + p] / 255) * net.w1[p * h + j];
      h1[j] = Math.max(0, s);
    }
    const z = new Float64Array(10);
    const dz = new Float64Array(10);
    for (let j = 0; j < h; j++) {
      let a = 0;
      let da = 0;
      for (let i = 0; i < h; i++) {
        a += h1[i] * w2[i * h + j];
        da += h1[i] * dir[i * h + j];
      }
      if (a > 0) {
        for (let c = 0; c < 10; c++) {
          z[c] += a * net.w3[j * 10 + c];
          dz[c] += da * net.w3[j * 10 + c];
        }
      }
    }
    const mx = Math.max(...z);
    let se = 0;
    for (let c = 0; c < 10; c++) se += Math.exp(z[c] - mx);
    const y = net.labels[n];
    L += Math.log(se) + mx - z[y];
    for (let c = 0; c < 10; c++) dL += (Math.exp(z[c] - mx) / se - (c === y ? 1 : 0)) * dz[c];
  }
  return { L: L / idx.length, dL: dL / idx.length };
}

function unitDirection(n: number, rng: Rng): Float64Array {
  const d = Float64Array.from({ length: n }, () => rng.normal());
  const s = Math.sqrt(d.reduce((a, b) => a + b * b, 0));
  return d.map((v) => v / s);
}

describe('MinibatchSlopes', () => {
  beforeAll(async () => {
    await useBackend('wasm');
  });

  let before = 0;
  beforeAll(() => {
    before = tf.memory().numTensors;
  });
  afterAll(() => {
    expect(tf.memory().numTensors).toBe(before);
  });

  it('forward-mode slopes equal central differences of the minibatch losses (no ReLU kinks)', async () => {
    // W2 > 0 and H1 ≥ 0 ⇒ Z2 > 0 everywhere along the short segment: the loss is smooth.
    const net = tinyNet(120, 6, 24, 3, true);
    const ms = new MinibatchSlopes({
      images: net.images,
      labels: net.labels,
      w1: net.w1,
      w3: net.w3,
      hidden: net.h,
      inputSize: net.P,
      batchSize: 5,
      minibatches: 24,
      seed: 9,
    });
    try {
      const dir = unitDirection(net.h * net.h, new Rng(4)); // |δ·p_ij| < 0.5 ≤ W2_ij for |δ| ≤ 0.5
      const deltas = [-0.3, 0, 0.25];
      const eps = 0.05;
      const fdDeltas = deltas.flatMap((d) => [d - eps, d + eps]);
      const sl = await ms.slopes(net.w2, dir, deltas);
      const ls = await ms.minibatchLosses(net.w2, dir, fdDeltas);
      expect(sl.length).toBe(3);
      for (let j = 0; j < deltas.length; j++) {
        let num = 0;
        let den = 0;
        for (let mu = 0; mu < 24; mu++) {
          const fd = (ls[2 * j + 1][mu] - ls[2 * j][mu]) / (2 * eps);
          num += (sl[j][mu] - fd) ** 2;
          den += sl[j][mu] ** 2;
        }
        expect(Math.sqrt(num / den)).toBeLessThan(1e-3);
      }
      // Smooth along the segment: the profile call returns the same numbers.
      const both = await ms.profile(net.w2, dir, deltas);
      for (let j = 0; j < 3; j++)
        for (let mu = 0; mu < 24; mu++) expect(both.slopes[j][mu]).toBeCloseTo(sl[j][mu], 6);
    } finally {
      ms.dispose();
    }
  });

  it('losses and slopes match a float64 reference with ReLU kinks, per minibatch', async () => {
    const net = tinyNet(60, 7, 20, 5, false);
    const B = 4;
    const K = 20; // K·B = 80 > N = 60: the ensemble spans two epochs
    const ms = new MinibatchSlopes({
      images: net.images,
      labels: net.labels,
      w1: net.w1,
      w3: net.w3,
      hidden: net.h,
      inputSize: net.P,
      batchSize: B,
      minibatches: K,
      seed: 1,
      budgetBytes: 4 * 3 * B * 2 * net.h * net.h,
    });
    try {
      // Minibatches: disjoint within each epoch of 15.
      const first = new Set(ms.sampleIndices.subarray(0, 60));
      expect(first.size).toBe(60);
      const rng = new Rng(8);
      const d1 = unitDirection(net.h * net.h, rng);
      const d2 = unitDirection(net.h * net.h, rng);
      const points = [
        { direction: d1, delta: 0 },
        { direction: d1, delta: 0.3 },
        { direction: d2, delta: -0.2 },
      ];
      // Every sharing pattern: distinct W and p per point; shared W at δ = 0 with distinct p
      // (gathered); one W and one p for all points (broadcast).
      const sets = [
        points,
        [
          points[2],
          { direction: d1, delta: 0 },
          { direction: d2, delta: 0 },
          points[1],
          { direction: d2, delta: 0 },
        ],
        [points[0], points[0]],
      ];
      for (const pts of sets) await check(pts);
    } finally {
      ms.dispose();
    }

    async function check(points: { direction: Float64Array; delta: number }[]): Promise<void> {
      const v = await ms.evaluate(net.w2, points); // several chunks
      expect(v.losses.length).toBe(points.length);
      expect(v.slopes.length).toBe(points.length);
      for (const [k, pt] of points.entries()) {
        const w = Float64Array.from(net.w2, (x, i) => x + pt.delta * pt.direction[i]);
        for (let mu = 0; mu < K; mu++) {
          const ref = reference(
            net,
            ms.sampleIndices.subarray(mu * B, (mu + 1) * B),
            w,
            pt.direction,
          );
          expect(Math.abs(v.losses[k][mu] - ref.L)).toBeLessThan(1e-5 * Math.max(1, ref.L));
          expect(Math.abs(v.slopes[k][mu] - ref.dL)).toBeLessThan(
            2e-5 * Math.max(0.1, Math.abs(ref.dL)),
          );
        }
      }
    }
  });

  it('the K-mean of the minibatch losses equals FullSetLoss on the same samples', async () => {
    const net = tinyNet(200, 8, 30, 6, false);
    const B = 10;
    const K = 20; // exactly one epoch: every sample once
    const ms = new MinibatchSlopes({
      images: net.images,
      labels: net.labels,
      w1: net.w1,
      w3: net.w3,
      hidden: net.h,
      inputSize: net.P,
      batchSize: B,
      minibatches: K,
      seed: 2,
    });
    const full = new FullSetLoss({
      images: net.images,
      labels: net.labels,
      w1: net.w1,
      w3: net.w3,
      hidden: net.h,
      inputSize: net.P,
    });
    try {
      expect(new Set(ms.sampleIndices).size).toBe(200);
      const dir = unitDirection(net.h * net.h, new Rng(1));
      const deltas = [-0.5, 0, 0.7];
      const ls = await ms.minibatchLosses(net.w2, dir, deltas);
      const fl = await full.evaluate(
        net.w2,
        deltas.map((delta) => ({ direction: dir, delta })),
      );
      for (let j = 0; j < deltas.length; j++) {
        const mean = ls[j].reduce((a, b) => a + b, 0) / K;
        expect(Math.abs(mean - fl[j]) / fl[j]).toBeLessThan(1e-5);
      }
      // The mean slope is the derivative of the overall loss: compare with a difference of FullSetLoss.
      const sl = await ms.slopes(net.w2, dir, [0.2]);
      const eps = 1e-2;
      const f2 = await full.evaluate(net.w2, [
        { direction: dir, delta: 0.2 + eps },
        { direction: dir, delta: 0.2 - eps },
      ]);
      const meanSlope = sl[0].reduce((a, b) => a + b, 0) / K;
      expect(Math.abs(meanSlope - (f2[0] - f2[1]) / (2 * eps))).toBeLessThan(
        2e-2 * Math.abs(meanSlope) + 1e-4,
      );
    } finally {
      ms.dispose();
      full.dispose();
    }
  });

  it('temperatureAlongTrajectory: loss and T per checkpoint, Pearson over checkpoints', async () => {
    const net = tinyNet(100, 6, 20, 7, false);
    const dir = unitDirection(36, new Rng(3));
    // Checkpoints: W3 scaled up along the way, so the loss and the slopes' spread change.
    const cps: WeightCheckpoint[] = [0.5, 1, 1.5, 2].map((s, i) => ({
      step: 100 * i,
      W1: net.w1,
      W2: net.w2,
      W3: net.w3.map((v) => v * s),
    }));
    const inputs = {
      images: net.images,
      labels: net.labels,
      hidden: 6,
      inputSize: 20,
      batchSize: 5,
      minibatches: 20,
      seed: 4,
      lr: 0.1,
    };
    const r = await temperatureAlongTrajectory(inputs, cps, [dir, dir.map((v) => 3 * v)]);
    expect(r.steps).toEqual([0, 100, 200, 300]);
    expect(r.loss.length).toBe(4);
    expect(r.T[0].length).toBe(2);
    for (let j = 0; j < 4; j++) {
      // Directions are normalised: the two agree.
      expect(r.T[j][1]).toBeCloseTo(r.T[j][0], 8);
      // Cross-check one checkpoint against MinibatchSlopes directly.
      const ms = new MinibatchSlopes({
        images: net.images,
        labels: net.labels,
        w1: cps[j].W1,
        w3: cps[j].W3,
        hidden: 6,
        inputSize: 20,
        batchSize: 5,
        minibatches: 20,
        seed: 4,
      });
      try {
        const [sl] = await ms.slopes(cps[j].W2, dir, [0]);
        const [ls] = await ms.minibatchLosses(cps[j].W2, dir, [0]);
        expect(r.T[j][0]).toBeCloseTo(activeTemperatureProfile([sl], 0.1, [0]).T[0], 8);
        expect(r.loss[j]).toBeCloseTo(ls.reduce((a, b) => a + b, 0) / 20, 6);
      } finally {
        ms.dispose();
      }
    }
    expect(r.correlation[0]).toBeCloseTo(
      pearson(
        r.T.map((t) => t[0]),
        r.loss,
      ),
      12,
    );
    expect(r.meanCorrelation).toBeCloseTo(r.correlation[0], 6);
  });
});
