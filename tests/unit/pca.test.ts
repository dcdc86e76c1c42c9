import { afterAll, describe, expect, it } from 'vitest';
import { SnapshotWindow } from '../../src/engine/pca/snapshotWindow';
import { windowPca, type PcaResult } from '../../src/engine/pca/pca';
import { Workspace } from '../../src/engine/pca/kernels';
import { driftingRandomWalk, exactCovarianceTrajectory } from '../../src/engine/pca/synthetic';
import { Rng } from '../../src/engine/data/rng';

/** n values from `top` down to top·low, geometric. */
function geometric(n: number, top: number, low: number): Float64Array {
  const v = new Float64Array(n);
  for (let i = 0; i < n; i++) v[i] = top * Math.pow(low, i / (n - 1));
  return v;
}

function windowOf(snapshots: Float32Array, dim: number, maxSnapshots?: number): SnapshotWindow {
  const win = new SnapshotWindow(dim, { maxSnapshots });
  win.addBatch(snapshots, snapshots.length / dim);
  return win;
}

function maxRelDiff(x: ArrayLike<number>, y: ArrayLike<number>, count: number): number {
  let worst = 0;
  for (let i = 0; i < count; i++) worst = Math.max(worst, Math.abs(x[i] - y[i]) / Math.abs(y[i]));
  return worst;
}

function maxAbsDiff(x: ArrayLike<number>, y: ArrayLike<number>): number {
  let worst = 0;
  for (let i = 0; i < x.length; i++) worst = Math.max(worst, Math.abs(x[i] - y[i]));
  return worst;
}

/** |p_i · q_i| for row i of two k × dim arrays. */
function alignment(p: Float64Array, q: Float64Array, i: number, dim: number): number {
  let s = 0;
  for (let j = 0; j < dim; j++) s += p[i * dim + j] * q[i * dim + j];
  return Math.abs(s);
}

function orthogonalityError(v: Float64Array, k: number, n: number): number {
  let worst = 0;
  for (let i = 0; i < k; i++) {
    for (let j = i; j < k; j++) {
      let s = 0;
      for (let t = 0; t < n; t++) s += v[i * n + t] * v[j * n + t];
      worst = Math.max(worst, Math.abs(s - (i === j ? 1 : 0)));
    }
  }
  return worst;
}

/** Offsets like real weights: O(1), fixed over the window. */
function weightsLikeOffset(dim: number, rng: Rng): Float64Array {
  const o = new Float64Array(dim);
  for (let j = 0; j < dim; j++) o[j] = (rng.next() < 0.5 ? -1 : 1) * (0.5 + rng.next());
  return o;
}

describe('SnapshotWindow', () => {
  it('stores snapshots, the reference, the last one and the float64 mean', () => {
    const win = new SnapshotWindow(3, { maxSnapshots: 5 });
    expect(win.count).toBe(0);
    expect(win.dim).toBe(3);
    win.add(Float32Array.from([1, 2, 3]));
    win.addBatch(Float32Array.from([2, 2, 2, 4, 5, 6]), 2);
    expect(win.count).toBe(3);
    expect(Array.from(win.reference())).toEqual([1, 2, 3]);
    expect(Array.from(win.last())).toEqual([4, 5, 6]);
    expect(Array.from(win.snapshot(1))).toEqual([2, 2, 2]);
    const mean = win.mean();
    expect(mean[0]).toBeCloseTo(7 / 3, 15);
    expect(mean[1]).toBe(3);
    expect(mean[2]).toBeCloseTo(11 / 3, 15);
    const xc = win.centered();
    expect(xc[0]).toBeCloseTo(1 - 7 / 3, 15);
    const xt = win.centered(true);
    for (let t = 0; t < 3; t++)
      for (let j = 0; j < 3; j++) expect(xt[j * 3 + t]).toBe(xc[t * 3 + j]);
    // last() is a copy.
    win.last()[0] = 99;
    expect(win.last()[0]).toBe(4);
    win.clear();
    expect(win.count).toBe(0);
    expect(() => win.mean()).toThrow(/empty/);
  });

  it('enforces its capacity and validates input', () => {
    const win = new SnapshotWindow(2, { maxSnapshots: 3 });
    win.addBatch(new Float32Array(6), 3);
    expect(() => win.add(new Float32Array(2))).toThrow(/capacity of 3 snapshots exceeded/);
    expect(win.count).toBe(3);
    const w2 = new SnapshotWindow(2);
    expect(w2.maxSnapshots).toBe(4000);
    expect(() => w2.add(new Float32Array(3))).toThrow(/length 3, expected 2/);
    expect(() => w2.addBatch(new Float32Array(3), 2)).toThrow(/fewer than 2/);
    expect(() => w2.add(Float32Array.from([1, NaN]))).toThrow(/non-finite/);
    expect(() => w2.add(Float32Array.from([Infinity, 1]))).toThrow(/non-finite/);
    expect(w2.count).toBe(0);
    expect(() => new SnapshotWindow(0)).toThrow(/dim/);
  });

  // Its speed (snapshots/s against training steps/s) is a goal of `npm run bench`, not a test.
  it('ingests a 2,500-dim snapshot stream in batches: every value kept, the float64 mean exact', () => {
    const dim = 2500;
    const batch = 160;
    const batches = 10;
    const rng = new Rng(1);
    const bufs = Array.from({ length: batches }, () => {
      const buf = new Float32Array(batch * dim);
      for (let i = 0; i < buf.length; i++) buf[i] = 0.7 + 0.01 * rng.normal();
      return buf;
    });
    const win = new SnapshotWindow(dim);
    for (const buf of bufs) win.addBatch(buf, batch);
    expect(win.count).toBe(batch * batches);
    let mismatches = 0;
    for (let b = 0; b < batches; b++) {
      for (let t = 0; t < batch; t++) {
        const got = win.snapshot(b * batch + t);
        const want = bufs[b].subarray(t * dim, (t + 1) * dim);
        for (let j = 0; j < dim; j++) if (got[j] !== want[j]) mismatches++;
      }
    }
    expect(mismatches).toBe(0);
    expect(Array.from(win.reference())).toEqual(Array.from(bufs[0].subarray(0, dim)));
    expect(Array.from(win.last())).toEqual(
      Array.from(bufs[batches - 1].subarray((batch - 1) * dim)),
    );
    // Against a direct float64 sum: the shifted sums lose nothing at this size.
    const mean = win.mean();
    let worst = 0;
    for (let j = 0; j < dim; j++) {
      let s = 0;
      for (const buf of bufs) for (let t = 0; t < batch; t++) s += buf[t * dim + j];
      worst = Math.max(worst, Math.abs(mean[j] - s / (batch * batches)));
    }
    expect(worst).toBeLessThan(1e-12);
  });
});

describe('windowPca on snapshots with an exactly known covariance', () => {
  // dim 400, 2,000 snapshots, variances spanning eight decades (1e-2 … 1e-10, so standard
  // deviations 0.1 … 1e-5) on top of O(1) weight-like offsets, stored as float32 like real
  // snapshots. Float32 storage of O(1) values is the only noise (rounding ~3e-8, adding
  // ~1e-15 to every variance and ~2σ_E/√(λm) relative error to λ): the tolerances below
  // hold with a wide margin, and only if nothing else loses precision.
  const dim = 400;
  const count = 2000;
  const variances = geometric(dim, 1e-2, 1e-8);
  const rng = new Rng(2021);
  const offset = weightsLikeOffset(dim, rng);
  const { snapshots, modes: truth } = exactCovarianceTrajectory(dim, count, variances, rng, offset);
  const win = windowOf(snapshots, dim);
  const res = windowPca(win, { vectors: 50 });

  it('recovers the spectrum: top 100 to 1e-6, all above 1e-6·σ₁² to 1e-3', () => {
    expect(res.method).toBe('covariance');
    expect(res.count).toBe(count);
    expect(res.dim).toBe(dim);
    expect(res.variance.length).toBe(dim);
    expect(maxRelDiff(res.variance, variances, 100)).toBeLessThan(1e-6);
    const above = variances.filter((v) => v > 1e-6 * variances[0]).length;
    expect(above).toBeGreaterThan(290);
    expect(maxRelDiff(res.variance, variances, above)).toBeLessThan(1e-3);
    for (let i = 1; i < dim; i++) expect(res.variance[i]).toBeLessThanOrEqual(res.variance[i - 1]);
  });

  it('recovers the mean and the modes, and var(θ_i) = σ_i²', () => {
    for (let j = 0; j < dim; j++) expect(Math.abs(res.mean[j] - offset[j])).toBeLessThan(1e-7);
    expect(res.k).toBe(50);
    for (let i = 0; i < 50; i++) expect(1 - alignment(res.modes, truth, i, dim)).toBeLessThan(1e-9);
    expect(orthogonalityError(res.modes, 50, dim)).toBeLessThan(1e-12);
    for (let i = 0; i < 50; i++) {
      let s = 0;
      let ss = 0;
      for (let t = 0; t < count; t++) {
        const th = res.projections[i * count + t];
        s += th;
        ss += th * th;
      }
      expect(Math.abs(s / count)).toBeLessThan(1e-9 * Math.sqrt(res.variance[i]));
      expect(Math.abs(ss / count / res.variance[i] - 1)).toBeLessThan(1e-10);
    }
  });

  it('the O(1) offset costs no precision: same spectrum as the centred trajectory', () => {
    const centred = exactCovarianceTrajectory(dim, count, variances, new Rng(2021 + 1));
    const resC = windowPca(windowOf(centred.snapshots, dim), { vectors: 0 });
    const above = variances.filter((v) => v > 1e-6 * variances[0]).length;
    expect(maxRelDiff(resC.variance, variances, above)).toBeLessThan(1e-6);
    expect(maxRelDiff(res.variance, resC.variance, 100)).toBeLessThan(1e-6);
    // A naive float32 one-pass covariance, Σw² − (Σw)²/m, loses the whole tail here.
    let lostInFloat32 = 0;
    for (let j = 0; j < 20; j++) {
      let s = Math.fround(0);
      let s2 = Math.fround(0);
      for (let t = 0; t < count; t++) {
        const w = snapshots[t * dim + j];
        s = Math.fround(s + w);
        s2 = Math.fround(s2 + Math.fround(w * w));
      }
      const naive = Math.fround(s2 / count - Math.fround(s / count) ** 2);
      let exact = 0;
      for (let i = 0; i < dim; i++) exact += variances[i] * truth[i * dim + j] ** 2;
      lostInFloat32 = Math.max(lostInFloat32, Math.abs(naive - exact) / exact);
    }
    expect(lostInFloat32).toBeGreaterThan(1e-3);
  });
});

describe('Gram and covariance routes agree', () => {
  const spillsBefore = Workspace.totalSpills;
  afterAll(() => {
    // Every array the routes allocate fitted in the workspace they sized up front.
    expect(Workspace.totalSpills).toBe(spillsBefore);
  });

  function compareRoutes(dim: number, count: number, seed: number) {
    const rng = new Rng(seed);
    const rank = Math.min(dim, count - 1);
    const variances = new Float64Array(rank);
    for (let i = 0; i < rank; i++) variances[i] = 1e-3 * Math.pow(0.93, i);
    const offset = weightsLikeOffset(dim, rng);
    const { snapshots } = exactCovarianceTrajectory(dim, count, variances, rng, offset);
    const win = windowOf(snapshots, dim);
    const gram = windowPca(win, { vectors: 30, method: 'gram' });
    const cov = windowPca(win, { vectors: 30, method: 'covariance' });
    return { gram, cov, variances, rank };
  }

  function expectSame(gram: PcaResult, cov: PcaResult, variances: Float64Array, rank: number) {
    expect(gram.method).toBe('gram');
    expect(cov.method).toBe('covariance');
    expect(gram.rank).toBe(rank);
    expect(cov.rank).toBe(rank);
    expect(gram.variance.length).toBe(cov.variance.length);
    const top = gram.variance[0];
    expect(maxAbsDiff(gram.variance, cov.variance) / top).toBeLessThan(1e-13);
    // Against the construction: limited by the float32 rounding of the O(1) snapshots.
    expect(maxRelDiff(gram.variance, variances, rank)).toBeLessThan(1e-4);
    for (let i = rank; i < gram.variance.length; i++) {
      expect(gram.variance[i]).toBe(0);
      expect(cov.variance[i]).toBe(0);
    }
    expect(gram.k).toBe(30);
    expect(maxAbsDiff(gram.modes, cov.modes)).toBeLessThan(1e-9);
    const scale = Math.sqrt(top);
    expect(maxAbsDiff(gram.projections, cov.projections) / scale).toBeLessThan(1e-9);
    expect(maxAbsDiff(gram.mean, cov.mean)).toBe(0);
  }

  it('count < dim (120 snapshots of 200)', () => {
    const { gram, cov, variances, rank } = compareRoutes(200, 120, 5);
    expectSame(gram, cov, variances, rank);
  });

  it('count > dim (200 snapshots of 60)', () => {
    const { gram, cov, variances, rank } = compareRoutes(60, 200, 6);
    expectSame(gram, cov, variances, rank);
  });

  it('the plain-JS kernels give the same PCA as the wasm SIMD ones', () => {
    const rng = new Rng(8);
    const { snapshots } = exactCovarianceTrajectory(90, 70, geometric(60, 1e-3, 1e-6), rng);
    const win = windowOf(snapshots, 90);
    for (const method of ['gram', 'covariance'] as const) {
      const wasm = windowPca(win, { vectors: 20, method });
      const js = windowPca(win, { vectors: 20, method, kernels: 'js' });
      expect(wasm.kernels).toBe('wasm');
      expect(js.kernels).toBe('js');
      expect(maxAbsDiff(wasm.variance, js.variance) / wasm.variance[0]).toBeLessThan(1e-14);
      expect(maxAbsDiff(wasm.modes, js.modes)).toBeLessThan(1e-10);
      expect(maxAbsDiff(wasm.projections, js.projections)).toBeLessThan(1e-10);
    }
  });
});

describe('windowPca on a drifting random walk', () => {
  // Like SGD in the exploration phase: a slow drift along the weights plus a random walk
  // with power-law step sizes; dim 300, 250 snapshots (Gram route).
  const dim = 300;
  const count = 250;
  const { snapshots, direction: dir } = driftingRandomWalk(dim, count, new Rng(77));

  it('streaming with addBatch equals adding one snapshot at a time', () => {
    const one = new SnapshotWindow(dim);
    for (let t = 0; t < count; t++) one.add(snapshots.subarray(t * dim, (t + 1) * dim));
    const batched = new SnapshotWindow(dim);
    for (let t = 0; t < count; t += 50) {
      batched.addBatch(snapshots.subarray(t * dim), Math.min(50, count - t));
    }
    expect(maxAbsDiff(one.mean(), batched.mean())).toBe(0);
    expect(maxAbsDiff(one.centered(), batched.centered())).toBe(0);
    expect(Array.from(one.last())).toEqual(Array.from(batched.last()));
    const a = windowPca(one, { vectors: 10 });
    const b = windowPca(batched, { vectors: 10 });
    expect(maxAbsDiff(a.variance, b.variance)).toBe(0);
    expect(maxAbsDiff(a.modes, b.modes)).toBe(0);
    expect(maxAbsDiff(a.projections, b.projections)).toBe(0);
  });

  it('mode 1 is the drift, along the mean; w(t) = ŵ + Σ θ_i(t) p_i with k = rank', () => {
    const win = windowOf(snapshots, dim);
    const res = windowPca(win, { vectors: count });
    expect(res.method).toBe('gram');
    expect(res.rank).toBe(count - 1);
    expect(res.k).toBe(res.rank);
    let along = 0;
    for (let j = 0; j < dim; j++) along += res.modes[j] * res.mean[j];
    expect(along).toBeGreaterThan(0);
    let cos = 0;
    for (let j = 0; j < dim; j++) cos += res.modes[j] * dir[j];
    expect(cos).toBeGreaterThan(0.99);
    expect(res.variance[0] / res.variance[1]).toBeGreaterThan(10);
    // Other modes: largest component positive.
    for (let i = 1; i < res.k; i++) {
      const row = res.modes.subarray(i * dim, (i + 1) * dim);
      let best = 0;
      for (let j = 1; j < dim; j++) if (Math.abs(row[j]) > Math.abs(row[best])) best = j;
      expect(row[best]).toBeGreaterThan(0);
    }
    // Reconstruction, relative to the size of the fluctuations.
    let worst = 0;
    let size = 0;
    for (let t = 0; t < count; t++) {
      for (let j = 0; j < dim; j++) {
        let v = res.mean[j];
        for (let i = 0; i < res.k; i++)
          v += res.projections[i * count + t] * res.modes[i * dim + j];
        worst = Math.max(worst, Math.abs(v - snapshots[t * dim + j]));
        size = Math.max(size, Math.abs(snapshots[t * dim + j] - res.mean[j]));
      }
    }
    expect(worst / size).toBeLessThan(1e-9);
    // θ_i(t) = (w(t) − ŵ)·p_i.
    const xc = win.centered();
    for (const i of [0, 1, 5, 50]) {
      for (const t of [0, 100, count - 1]) {
        let th = 0;
        for (let j = 0; j < dim; j++) th += xc[t * dim + j] * res.modes[i * dim + j];
        expect(Math.abs(th - res.projections[i * count + t])).toBeLessThan(1e-10 * size);
      }
    }
  });

  it('computes scattered modes by rank, equal to the full computation', () => {
    const win = windowOf(snapshots, dim);
    const full = windowPca(win, { vectors: count });
    const some = windowPca(win, { vectors: 2, ranks: [40, 7, 7, 1000, 120] });
    expect(Array.from(some.ranks)).toEqual([1, 2, 7, 40, 120]);
    expect(some.k).toBe(5);
    expect(Array.from(full.ranks.subarray(0, 3))).toEqual([1, 2, 3]);
    expect(maxAbsDiff(some.variance, full.variance)).toBe(0);
    some.ranks.forEach((rank, r) => {
      const row = some.modes.subarray(r * dim, (r + 1) * dim);
      expect(maxAbsDiff(row, full.modes.subarray((rank - 1) * dim, rank * dim))).toBeLessThan(1e-8);
      const th = some.projections.subarray(r * count, (r + 1) * count);
      const thFull = full.projections.subarray((rank - 1) * count, rank * count);
      expect(maxAbsDiff(th, thFull)).toBeLessThan(1e-8 * Math.sqrt(full.variance[0]));
    });
    expect(() => windowPca(win, { ranks: [0] })).toThrow(/ranks/);
  });

  it('caps k at the rank and handles degenerate windows', () => {
    const win = windowOf(snapshots.subarray(0, 5 * dim), dim);
    const res = windowPca(win, { vectors: 100 });
    expect(res.rank).toBe(4);
    expect(res.k).toBe(4);
    expect(res.modes.length).toBe(4 * dim);
    expect(res.projections.length).toBe(4 * 5);
    const single = windowPca(windowOf(snapshots.subarray(0, dim), dim));
    expect(single.rank).toBe(0);
    expect(single.k).toBe(0);
    expect(Array.from(single.mean)).toEqual(Array.from(snapshots.subarray(0, dim)));
    expect(() => windowPca(new SnapshotWindow(dim))).toThrow(/empty/);
  });
});
