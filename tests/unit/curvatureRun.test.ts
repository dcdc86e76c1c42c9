/**
 * The curvature pipeline on real tensors (issues 16, 12 §4): the Hessian built from images with
 * the network's own first layer, the Einstein check along its stiffest eigenvectors on a
 * Langevin window of the quadratic model — σⱼ² = T/λⱼ where the direction has relaxed — and the
 * run document's curvature fields.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { Rng } from '../../src/engine/data/rng';
import { W2Hessian } from '../../src/engine/landscape/hessian';
import { FullSetLoss } from '../../src/engine/landscape/fullSetLoss';
import { SnapshotWindow } from '../../src/engine/pca/snapshotWindow';
import { hessianEinstein, windowCurvature } from '../../src/engine/experiments/curvatureRun';
import { addCurvatureJson } from '../../src/cli/experiments/curvature';
import type { AnalysisResult } from '../../src/engine/experiments/analysis';
import { useBackend } from './tfBackend';

const P = 784;
const h = 6;
const N = 120;
const rng = new Rng(21);
const images = Uint8Array.from({ length: N * P }, () => (rng.next() < 0.85 ? 0 : 1 + rng.int(255)));
const labels = Uint8Array.from({ length: N }, () => rng.int(10));
const w1 = Float32Array.from({ length: P * h }, () => 0.15 * rng.normal());
const w2 = Float32Array.from({ length: h * h }, () => 0.6 * rng.normal());
const w3 = Float32Array.from({ length: h * 10 }, () => 0.6 * rng.normal());
const weights = { hidden: h, W1: w1, W2: w2, W3: w3 };
const train = { images, labels, count: N };

beforeAll(() => useBackend('wasm'));

describe('Einstein along Hessian eigenvectors', () => {
  it('relaxed directions of a Langevin window on the quadratic model have σ² = T/λ', async () => {
    const hess = await W2Hessian.fromData({ images, labels, w1, w3, hidden: h }, w2);
    const n = h * h;
    // Langevin on L ≈ ½δᵀHδ with the engine's noise convention, δ ← δ − αHδ + √(2αT)ξ.
    const T = 1e-5;
    const lr = 0.5;
    const every = 2;
    const count = 1500;
    const d = new Float64Array(n);
    const hd = new Float64Array(n);
    const win = new SnapshotWindow(n, { maxSnapshots: count });
    const amp = Math.sqrt(2 * lr * T);
    const noise = new Rng(5);
    for (let t = 0; t < 2000 + count * every; t++) {
      hess.apply(d, hd);
      for (let i = 0; i < n; i++) d[i] += -lr * hd[i] + amp * noise.normal();
      if (t >= 2000 && (t - 2000) % every === every - 1)
        win.add(Float32Array.from(d, (x, i) => w2[i] + x));
    }
    const loss = new FullSetLoss({ images, labels, w1, w3, hidden: h });
    const centre = Float64Array.from(w2);
    try {
      const res = await hessianEinstein({
        window: win,
        centre,
        train,
        weights,
        evalFn: (p) => loss.evaluate(centre, p),
        factor: Math.E,
        initialStep: 0.01,
        maxDistance: 1e3,
        temperature: T,
        lr,
        stepEvery: every,
      });
      expect(res.directions).toBe('hessian-eigenvectors');
      expect(res.equilibratedCount).toBeGreaterThanOrEqual(3);
      for (const m of res.modes.filter((x) => x.equilibrated)) {
        // Sampling error of an AR(1) variance over m snapshots: relative sd
        // √(2(1 + φ²)/((1 − φ²)m)), φ the lag-1 coefficient between snapshots; 3.5 sd either way.
        const phi = Math.pow(1 - lr * m.curvature, every);
        const sd = Math.sqrt((2 * (1 + phi * phi)) / ((1 - phi * phi) * count));
        expect(Math.abs(m.measured / m.predicted - 1)).toBeLessThan(3.5 * sd);
      }
      expect(res.medianRatio).toBeGreaterThan(0.85);
      expect(res.medianRatio).toBeLessThan(1.15);
      // The stiffest direction is λ₁ of the same Hessian.
      const top = res.modes[0];
      expect(top.rank).toBe(1);
      expect(top.curvature).toBeGreaterThan(res.modes[res.modes.length - 1].curvature);
    } finally {
      loss.dispose();
    }
  });
});

describe('windowCurvature and its JSON', () => {
  it('k along given modes, the top spectrum, λ_max at checkpoints and a GD run', async () => {
    const e1 = new Float64Array(h * h);
    e1[0] = 1;
    const e2 = new Float64Array(h * h);
    e2[7] = 1;
    const cps = [0, 1, 2].map((epoch) => ({
      epoch,
      step: 10 * epoch,
      W1: w1,
      W2: Float32Array.from(w2, (x) => x * (1 + 0.1 * epoch)),
      W3: w3,
    }));
    const cur = await windowCurvature(
      {
        train,
        weights,
        centre: Float64Array.from(w2),
        centreKind: 'mean',
        lr: 0.1,
        factor: Math.E,
        modes: [
          { rank: 2, flatness: 0.5, L0: 1, direction: e1 },
          { rank: 3, flatness: 0.8, L0: 1, direction: e2 },
        ],
        overlapModes: [
          { rank: 1, direction: e1 },
          { rank: 2, direction: e2 },
        ],
        checkpoints: cps,
      },
      { gdSteps: 4, gdEvery: 2 },
    );
    const hess = await W2Hessian.fromData({ images, labels, w1, w3, hidden: h }, w2);
    expect(cur.modes[0].curvature).toBeCloseTo(hess.hvp(e1)[0], 10);
    expect(cur.top[0].eigenvalue).toBeGreaterThanOrEqual(cur.modes[0].curvature);
    expect(cur.overlap.length).toBe(cur.top.length);
    expect(cur.edgeOfStability?.sgd.map((p) => p.epoch)).toEqual([0, 1, 2]);
    expect(cur.edgeOfStability?.gd.map((p) => p.step)).toEqual([0, 2, 4]);
    expect(cur.edgeOfStability?.twoOverLr).toBeCloseTo(20, 12);

    const doc: Record<string, unknown> = { modes: [{ rank: 2 }, { rank: 3 }, { rank: 5 }] };
    addCurvatureJson(doc, { curvature: cur } as AnalysisResult, true);
    const modes = doc.modes as { rank: number; curvature?: number }[];
    expect(modes[0].curvature).toBe(cur.modes[0].curvature);
    expect(modes[2].curvature).toBeUndefined();
    const hj = doc.hessian as { top: { eigenvalue: number }[]; trace: { probes: number } };
    expect(hj.top[0].eigenvalue).toBe(cur.top[0].eigenvalue);
    expect(hj.trace.probes).toBe(30);
    expect((doc.edgeOfStability as { twoOverLr: number }).twoOverLr).toBeCloseTo(20, 12);
  });
});
