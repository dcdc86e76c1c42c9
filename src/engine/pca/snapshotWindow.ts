/**
 * A window of weight snapshots w(t) (float32, one per SGD step), stored cheaply for a later
 * PCA. Ingest is a copy, a finiteness check and one float64 add per component (~15 µs per
 * 2,500-vector, ~60,000 steps/s); all the heavy work happens in `windowPca`. Storage grows
 * by doubling up to `maxSnapshots` (4,000 × 2,500 float32 = 40 MB).
 *
 * Precision: snapshots are kept as the float32 values the trainer produced, so nothing is
 * lost. The difference of two float32 numbers of similar size is exact in float64, so the
 * differences d(t) = w(t) − w(0) from the reference (first) snapshot are exact, and the
 * running sum Σ d(t) and the centred data d(t) − mean(d) are computed in float64 on these
 * small numbers — the shifted-sums trick, free of the cancellation that Σw² − (Σw)²/m
 * suffers when weights are O(1) and fluctuations O(1e-4).
 */

export interface SnapshotWindowOptions {
  /** Most snapshots the window will hold (default 4,000); `add` past this throws. */
  maxSnapshots?: number;
}

export const DEFAULT_MAX_SNAPSHOTS = 4000;

export class SnapshotWindow {
  readonly dim: number;
  readonly maxSnapshots: number;
  private data: Float32Array;
  private n = 0;
  /** Σ_t (w(t) − w(0)), float64. */
  private readonly sum: Float64Array;

  constructor(dim: number, opts: SnapshotWindowOptions = {}) {
    if (!Number.isInteger(dim) || dim < 1) {
      throw new Error(`SnapshotWindow: dim must be a positive integer, got ${dim}`);
    }
    const cap = opts.maxSnapshots ?? DEFAULT_MAX_SNAPSHOTS;
    if (!Number.isInteger(cap) || cap < 1) {
      throw new Error(`SnapshotWindow: maxSnapshots must be a positive integer, got ${cap}`);
    }
    this.dim = dim;
    this.maxSnapshots = cap;
    this.data = new Float32Array(Math.min(cap, 64) * dim);
    this.sum = new Float64Array(dim);
  }

  /** Number of snapshots held. */
  get count(): number {
    return this.n;
  }

  /** Append one snapshot (length `dim`); it is copied. */
  add(snapshot: Float32Array): void {
    if (snapshot.length !== this.dim) {
      throw new Error(
        `SnapshotWindow.add: snapshot has length ${snapshot.length}, expected ${this.dim}`,
      );
    }
    this.addBatch(snapshot, 1);
  }

  /** Append `count` snapshots stored back to back in `buf` (at least count·dim values). */
  addBatch(buf: Float32Array, count: number): void {
    const dim = this.dim;
    if (!Number.isInteger(count) || count < 0) {
      throw new Error(`SnapshotWindow.addBatch: bad count ${count}`);
    }
    if (buf.length < count * dim) {
      throw new Error(
        `SnapshotWindow.addBatch: buffer of length ${buf.length} holds fewer than ${count} snapshots of ${dim}`,
      );
    }
    if (this.n + count > this.maxSnapshots) {
      throw new Error(
        `SnapshotWindow: capacity of ${this.maxSnapshots} snapshots exceeded ` +
          `(holding ${this.n}, adding ${count}); raise maxSnapshots or shorten the window`,
      );
    }
    if (count === 0) return;
    // Validate before storing, so that a bad batch leaves the window unchanged.
    for (let i = 0, len = count * dim; i < len; i++) {
      const v = buf[i];
      if (v - v !== 0) {
        const t = Math.floor(i / dim);
        throw new Error(
          `SnapshotWindow: snapshot ${this.n + t} has a non-finite value at index ${i - t * dim}`,
        );
      }
    }
    this.reserve(this.n + count);
    const data = this.data;
    data.set(buf.subarray(0, count * dim), this.n * dim);
    const sum = this.sum;
    // data[0 … dim) is the reference; the first snapshot contributes d = 0.
    for (let t = 0; t < count; t++) {
      const off = (this.n + t) * dim;
      for (let j = 0; j < dim; j++) sum[j] += data[off + j] - data[j];
    }
    this.n += count;
  }

  /** Forget all snapshots (the next one becomes the reference). */
  clear(): void {
    this.n = 0;
    this.sum.fill(0);
  }

  /** The reference snapshot w(0) (a copy). */
  reference(): Float32Array {
    this.requireSome('reference');
    return this.data.slice(0, this.dim);
  }

  /** The most recent snapshot (a copy). */
  last(): Float32Array {
    this.requireSome('last');
    return this.data.slice((this.n - 1) * this.dim, this.n * this.dim);
  }

  /** Snapshot t, 0 ≤ t < count (a copy). */
  snapshot(t: number): Float32Array {
    if (!Number.isInteger(t) || t < 0 || t >= this.n) {
      throw new Error(`SnapshotWindow.snapshot: index ${t} out of range [0, ${this.n})`);
    }
    return this.data.slice(t * this.dim, (t + 1) * this.dim);
  }

  /** The window mean ŵ = w(0) + mean_t (w(t) − w(0)), float64. */
  mean(): Float64Array {
    this.requireSome('mean');
    const dim = this.dim;
    const out = new Float64Array(dim);
    const inv = 1 / this.n;
    for (let j = 0; j < dim; j++) out[j] = this.data[j] + this.sum[j] * inv;
    return out;
  }

  /**
   * The centred data x(t) = w(t) − ŵ in float64, computed as (w(t) − w(0)) − mean(d):
   * count × dim row-major, or dim × count with `transpose` (row j = component j over time).
   * Written into `out` (length ≥ count·dim) when given.
   */
  centered(transpose = false, out?: Float64Array): Float64Array {
    this.requireSome('centered');
    const dim = this.dim;
    const m = this.n;
    const data = this.data;
    const md = new Float64Array(dim);
    const inv = 1 / m;
    for (let j = 0; j < dim; j++) md[j] = this.sum[j] * inv;
    if (out && out.length < m * dim) {
      throw new Error(`SnapshotWindow.centered: output of length ${out.length} < ${m * dim}`);
    }
    const res = out ?? new Float64Array(m * dim);
    if (!transpose) {
      for (let t = 0; t < m; t++) {
        const off = t * dim;
        for (let j = 0; j < dim; j++) res[off + j] = data[off + j] - data[j] - md[j];
      }
    } else {
      // Blocked transpose: 32 snapshots at a time keep the writes within a few cache lines.
      const TB = 32;
      for (let t0 = 0; t0 < m; t0 += TB) {
        const t1 = Math.min(m, t0 + TB);
        for (let j = 0; j < dim; j++) {
          const ref = data[j];
          const mj = md[j];
          const row = j * m;
          for (let t = t0; t < t1; t++) res[row + t] = data[t * dim + j] - ref - mj;
        }
      }
    }
    return res;
  }

  private reserve(total: number): void {
    const have = this.data.length / this.dim;
    if (total <= have) return;
    let cap = have;
    while (cap < total) cap *= 2;
    cap = Math.min(cap, this.maxSnapshots);
    const next = new Float32Array(cap * this.dim);
    next.set(this.data.subarray(0, this.n * this.dim));
    this.data = next;
  }

  private requireSome(what: string): void {
    if (this.n === 0) throw new Error(`SnapshotWindow.${what}: the window is empty`);
  }
}
