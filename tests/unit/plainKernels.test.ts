/**
 * The analysis's own kernels (plain TypeScript, issue 21) against the tfjs implementations they
 * replaced, on small random networks: the same numbers to float32 tolerance.
 *
 * Tolerance. tfjs computes in float32 (unit roundoff 6e-8) and sums ~h + P terms per product and
 * N terms per mean in float32; the plain kernels take the same float32 inputs and weights but sum
 * in float64. Their difference is the tfjs rounding, ~1e-6 relative here; 2e-5 leaves a margin
 * and is still far below anything the figures show (a flatness is found to relTol = 1e-3).
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { useBackend } from './tfBackend';
import { Rng } from '../../src/engine/data/rng';
import { firstLayerActivations } from '../../src/engine/nets/firstLayer';
import { firstLayerH1 } from '../../src/engine/nets/firstLayerPlain';
import { FullSetLoss } from '../../src/engine/landscape/fullSetLoss';
import {
  PlainFullSetLoss,
  measureFlatnessPlain,
} from '../../src/engine/landscape/fullSetLossPlain';
import { measureFlatness, type ProfilePoint } from '../../src/engine/landscape/flatness';
import { MinibatchSlopes } from '../../src/engine/landscape/minibatchSlopesPlain';
import { MinibatchSlopesTf } from '../../src/engine/landscape/minibatchSlopesTf';
import { W2Hessian } from '../../src/engine/landscape/hessian';
import { WindowAnalysis } from '../../src/engine/experiments/analysis';
import { DEFAULT_CONFIG } from '../../src/engine/experiments/config';
import { SnapshotWindow } from '../../src/engine/pca/snapshotWindow';

const REL = 2e-5;
const P = 784;

function net(N: number, h: number, seed: number) {
  const rng = new Rng(seed);
  const images = new Uint8Array(N * P);
  for (let i = 0; i < images.length; i++) images[i] = rng.next() < 0.8 ? 0 : 1 + rng.int(255);
  const labels = Uint8Array.from({ length: N }, () => rng.int(10));
  const init = (n: number, s: number) => Float32Array.from({ length: n }, () => s * rng.normal());
  return {
    images,
    labels,
    w1: init(P * h, 2 / Math.sqrt(P)),
    w2: init(h * h, 1.5 / Math.sqrt(h)),
    w3: init(h * 10, 3 / Math.sqrt(h)),
    h,
    N,
  };
}

function unitVector(n: number, rng: Rng): Float64Array {
  const d = Float64Array.from({ length: n }, () => rng.normal());
  const s = Math.hypot(...d);
  return d.map((v) => v / s);
}

function expectClose(got: ArrayLike<number>, want: ArrayLike<number>, rel: number, abs = 0) {
  expect(got.length).toBe(want.length);
  for (let i = 0; i < want.length; i++) {
    const tol = rel * Math.abs(want[i]) + abs;
    if (!(Math.abs(got[i] - want[i]) <= tol))
      throw new Error(`entry ${i}: ${got[i]} vs ${want[i]} (tolerance ${tol.toExponential(1)})`);
  }
}

beforeAll(async () => {
  await useBackend('wasm');
});

describe('plain kernels against tfjs', () => {
  const n = net(300, 12, 1);
  const inputs = { images: n.images, labels: n.labels, w1: n.w1, w3: n.w3, hidden: n.h };

  it('H1 = relu(X·W1), for the first N images and for given indices', async () => {
    const idx = [5, 0, 299, 17, 17];
    for (const samples of [n.N, idx]) {
      const t = firstLayerActivations(n.images, n.w1, P, n.h, samples);
      const want = await t.data();
      t.dispose();
      expectClose(firstLayerH1(n.images, n.w1, P, n.h, samples), want, REL, 1e-6);
    }
    expect(() => firstLayerH1(n.images, n.w1, P, n.h, [300])).toThrow(/not among the 300/);
  });

  it('the full-set loss at points near and far from the centre (units change side)', async () => {
    const rng = new Rng(2);
    const dirs = [unitVector(n.h * n.h, rng), unitVector(n.h * n.h, rng)];
    const points: ProfilePoint[] = [];
    for (const d of dirs)
      for (const delta of [0, 1e-3, -0.05, 0.3, -1, 2.5, -6]) points.push({ direction: d, delta });
    const ref = new FullSetLoss(inputs);
    const own = new PlainFullSetLoss(inputs);
    try {
      const centre = Float64Array.from(n.w2);
      const want = await ref.evaluate(centre, points);
      const got = await own.evaluate(centre, points);
      expectClose(got, want, REL);
      // A point's value depends only on the point: not on its call's other points, nor on
      // whether its direction's products were kept (a zero budget keeps none).
      const alone = new PlainFullSetLoss({ ...inputs, budgetBytes: 0 });
      for (let k = 0; k < points.length; k += 3)
        expect((await alone.evaluate(centre, [points[k]]))[0]).toBe(got[k]);
      // A changed centre or a direction array changed in place is seen.
      const moved = Float64Array.from(centre, (v, i) => v + 0.01 * dirs[1][i]);
      expectClose(await own.evaluate(moved, points), await ref.evaluate(moved, points), REL);
      dirs[0].set(dirs[1]);
      expectClose(await own.evaluate(centre, points), await ref.evaluate(centre, points), REL);
      expect(() => own.evaluateSync(centre.subarray(1), points)).toThrow(/centre has 143/);
    } finally {
      ref.dispose();
      own.dispose();
    }
  });

  it('the flatness search finds the same brackets, in groups or in one lockstep run', async () => {
    const rng = new Rng(3);
    const modes = Array.from({ length: 7 }, (_, i) => ({
      rank: i + 2,
      direction: unitVector(n.h * n.h, rng),
    }));
    const centre = Float64Array.from(n.w2);
    const ref = new FullSetLoss(inputs);
    // A budget for 3 directions: the 7 modes run in groups of 3, 3 and 1.
    const own = new PlainFullSetLoss({
      ...inputs,
      budgetBytes: 3 * PlainFullSetLoss.bytesPerDirection(300, 12),
    });
    expect(own.directionCapacity).toBe(3);
    try {
      const want = await measureFlatness((p) => ref.evaluate(centre, p), modes);
      const progress: number[] = [];
      const got = await measureFlatnessPlain(own, centre, modes, {
        onProgress: (p) => progress.push(p.done),
      });
      const lockstep = await measureFlatness((p) => own.evaluate(centre, p), modes);
      expect(got.modes.map((m) => m.flatness)).toEqual(lockstep.modes.map((m) => m.flatness));
      expect(progress[progress.length - 1]).toBe(7);
      for (let i = 0; i < modes.length; i++) {
        const a = want.modes[i];
        const b = got.modes[i];
        expect(b.rank).toBe(a.rank);
        expect(Number.isFinite(b.flatness)).toBe(true);
        // Both searches stop within relTol = 1e-3 of the crossing.
        expect(Math.abs(b.flatness - a.flatness)).toBeLessThan(2e-3 * a.flatness);
        expect(Math.abs(b.L0 - a.L0)).toBeLessThan(REL * a.L0);
      }
    } finally {
      ref.dispose();
      own.dispose();
    }
  });

  it('minibatch losses and exact slopes of the active-temperature ensemble', async () => {
    const rng = new Rng(4);
    const d = unitVector(n.h * n.h, rng);
    const e = unitVector(n.h * n.h, rng);
    const ens = { ...inputs, batchSize: 20, minibatches: 23, seed: 9 };
    const ref = new MinibatchSlopesTf(ens);
    // A budget of 2 minibatches per chunk: the K = 23 minibatches run in 12 chunks.
    const own = new MinibatchSlopes({ ...ens, budgetBytes: 2 * 20 * 12 * 4 });
    try {
      expect(Array.from(own.sampleIndices)).toEqual(Array.from(ref.sampleIndices));
      const centre = Float64Array.from(n.w2);
      const points: ProfilePoint[] = [-0.8, 0, 0.2, 1.5].map((delta) => ({ direction: d, delta }));
      points.push({ direction: e, delta: 0 }, { direction: e, delta: -0.4 });
      const want = await ref.evaluate(centre, points);
      const got = await own.evaluate(centre, points);
      for (let k = 0; k < points.length; k++) {
        expectClose(got.losses[k], want.losses[k], REL);
        const scale = Math.max(...want.slopes[k].map(Math.abs));
        expectClose(got.slopes[k], want.slopes[k], 0, REL * scale);
      }
      const slopes = await own.slopes(centre, d, [0.2]);
      expect(Array.from(slopes[0])).toEqual(Array.from(got.slopes[2]));
    } finally {
      ref.dispose();
      own.dispose();
    }
  });

  it('the Hessian built from the plain H1 has the loss the tfjs full-set loss gives', async () => {
    const hess = await W2Hessian.fromData(inputs, n.w2);
    const ref = new FullSetLoss(inputs);
    try {
      expect(Math.abs(hess.loss - (await ref.lossAt(n.w2)))).toBeLessThan(REL * hess.loss);
    } finally {
      ref.dispose();
    }
  });
});

describe('WindowAnalysis with the plain kernels', () => {
  it('gives the σ²–F table of the tfjs flatness search on a small window', async () => {
    const h = 8;
    const n = net(400, h, 5);
    const rng = new Rng(6);
    const dim = h * h;
    const window = new SnapshotWindow(dim, { maxSnapshots: 200 });
    // An anisotropic random walk around W2: variances spread over the modes.
    const scale = Float64Array.from({ length: dim }, (_, i) => 0.02 / (1 + i));
    const w = Float32Array.from(n.w2);
    for (let t = 0; t < 120; t++) {
      for (let i = 0; i < dim; i++) w[i] = 0.9 * w[i] + 0.1 * n.w2[i] + scale[i] * rng.normal();
      window.add(w);
    }
    const weights = { hidden: h, W1: n.w1, W2: Float32Array.from(w), W3: n.w3 };
    const train = { images: n.images, labels: n.labels, count: n.N };
    const config = { ...DEFAULT_CONFIG, hidden: h, flatnessModes: 12 };
    const own = await WindowAnalysis.analyze('sgd', window, weights, train, config, 0, 1);
    // The same analysis with the flatness measured by the tfjs full-set loss.
    const ref = await WindowAnalysis.analyze('sgd', window, weights, train, config, 0, 1, {
      flatnessSearch: async (share) => {
        const loss = new FullSetLoss({
          images: train.images,
          labels: train.labels,
          w1: share.w1,
          w3: share.w3,
          hidden: share.hidden,
          count: share.count,
        });
        try {
          return (
            await measureFlatness((p) => loss.evaluate(share.centre, p), share.modes, share.options)
          ).modes;
        } finally {
          loss.dispose();
        }
      },
    });
    try {
      const a = ref.result;
      const b = own.result;
      expect(b.variance).toEqual(a.variance);
      expect(b.modes.map((m) => m.rank)).toEqual(a.modes.map((m) => m.rank));
      expect(b.modes.length).toBeGreaterThanOrEqual(10);
      for (let i = 0; i < a.modes.length; i++) {
        if (!Number.isFinite(a.modes[i].flatness)) {
          expect(b.modes[i].flatness).toBe(a.modes[i].flatness);
          continue;
        }
        expect(Math.abs(b.modes[i].flatness - a.modes[i].flatness)).toBeLessThan(
          2e-3 * a.modes[i].flatness,
        );
      }
      expect(Math.abs(b.fits.psi.exponent - a.fits.psi.exponent)).toBeLessThan(1e-2);
    } finally {
      own.dispose();
      ref.dispose();
    }
  });
});
