/**
 * The tfjs version of the minibatch ensemble (minibatchSlopesPlain.ts has the contract and the
 * method): every point's K losses and slopes in one batched tensor program. The analysis uses
 * the plain-TypeScript version; this one is kept as the reference the tests and
 * scripts/bench-analysis.ts compare it with.
 *
 * Many (δ, direction) points go through one tensor program: the distinct matrices W_v side by
 * side as an h × V·h matrix (one matMul; every δ = 0 point shares W = centre), H1·p once per
 * distinct direction (shared by all δ along it), spread over the points by broadcasting or a
 * gather. Samples are processed in chunks of whole minibatches so the largest intermediate
 * (rows × P·h floats) stays under `budgetBytes`. Every tensor made by a call is disposed before
 * it returns; `dispose()` frees H1.
 */
import * as tf from '@tensorflow/tfjs';
import { labelTensors, stableCrossEntropy } from './crossEntropy';
import { MinibatchSampler } from '../data/batches';
import { firstLayerActivations } from '../nets/firstLayer';
import type { ProfilePoint } from './flatness';
import type { EnsembleValues, MinibatchSlopesInputs } from './minibatchSlopesPlain';

type Vec = Float64Array | Float32Array;

export interface MinibatchSlopesTfInputs extends MinibatchSlopesInputs {
  /** Most points per tensor program (default 64). */
  maxPointsPerGroup?: number;
}

const DEFAULT_BUDGET = 16 * 1024 * 1024;

export { MAX_MINIBATCHES, minibatchesForRelativeError } from './minibatchCount';

export class MinibatchSlopesTf {
  /** Number K of minibatches. */
  readonly minibatches: number;
  readonly batchSize: number;
  readonly hidden: number;
  readonly classes: number;
  /** The K·B sample indices; minibatch μ is sampleIndices[μB … (μ+1)B). */
  readonly sampleIndices: Uint32Array;
  private readonly h1: tf.Tensor2D; // K·B × h
  private readonly oneHot: tf.Tensor3D; // K·B × 1 × C
  private readonly labelMask: tf.Tensor3D; // K·B × 1 × C: −1e30 at the label
  private readonly w3: tf.Tensor2D;
  private readonly budgetElems: number;
  private readonly maxGroup: number;
  private disposed = false;

  constructor(inp: MinibatchSlopesTfInputs) {
    const h = inp.hidden;
    const P = inp.inputSize ?? 784;
    const C = inp.classes ?? 10;
    const B = inp.batchSize;
    const K = inp.minibatches;
    const total = Math.floor(inp.images.length / P);
    const N = Math.min(inp.count ?? total, total, inp.labels.length);
    if (!(N > 0)) throw new Error('MinibatchSlopes: no samples');
    if (!Number.isInteger(K) || K < 2)
      throw new Error(`MinibatchSlopes: need K ≥ 2 minibatches, got ${K}`);
    if (inp.w1.length !== P * h)
      throw new Error(`MinibatchSlopes: W1 has ${inp.w1.length} entries, expected ${P}×${h}`);
    if (inp.w3.length !== h * C)
      throw new Error(`MinibatchSlopes: W3 has ${inp.w3.length} entries, expected ${h}×${C}`);
    const sampler = new MinibatchSampler(N, B, inp.seed); // validates B
    this.minibatches = K;
    this.batchSize = B;
    this.hidden = h;
    this.classes = C;
    this.budgetElems = Math.max(1, Math.floor((inp.budgetBytes ?? DEFAULT_BUDGET) / 4));
    this.maxGroup = Math.max(1, inp.maxPointsPerGroup ?? 64);

    const rows = K * B;
    const idx = new Uint32Array(rows);
    for (let k = 0; k < K; k++) sampler.nextInto(idx.subarray(k * B, (k + 1) * B));
    this.sampleIndices = idx;
    const lab = new Int32Array(rows);
    for (let i = 0; i < rows; i++) {
      const y = inp.labels[idx[i]];
      if (y >= C) throw new Error(`MinibatchSlopes: label ${y} of sample ${idx[i]} is not < ${C}`);
      lab[i] = y;
    }
    ({ oneHot: this.oneHot, labelMask: this.labelMask } = labelTensors(lab, C));
    this.w3 = tf.tensor2d(inp.w3, [h, C]);

    this.h1 = firstLayerActivations(inp.images, inp.w1, P, h, idx);
  }

  /** K slopes dL^μ/dδ at each δ along `direction` (used as given, not normalised). */
  async slopes(centre: Vec, direction: Vec, deltas: readonly number[]): Promise<Float64Array[]> {
    return (
      await this.run(
        centre,
        deltas.map((delta) => ({ direction, delta })),
        false,
        true,
      )
    ).slopes;
  }

  /** K minibatch losses L^μ at each δ along `direction`: the MLF ensemble's profiles. */
  async minibatchLosses(
    centre: Vec,
    direction: Vec,
    deltas: readonly number[],
  ): Promise<Float64Array[]> {
    return (
      await this.run(
        centre,
        deltas.map((delta) => ({ direction, delta })),
        true,
        false,
      )
    ).losses;
  }

  /** Both losses and slopes at each δ along `direction`, in one pass. */
  async profile(centre: Vec, direction: Vec, deltas: readonly number[]): Promise<EnsembleValues> {
    return this.run(
      centre,
      deltas.map((delta) => ({ direction, delta })),
      true,
      true,
    );
  }

  /** Losses and slopes at arbitrary (direction, δ) points, e.g. δ = 0 along many PCA modes. */
  async evaluate(centre: Vec, points: readonly ProfilePoint[]): Promise<EnsembleValues> {
    return this.run(centre, points, true, true);
  }

  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    this.h1.dispose();
    this.oneHot.dispose();
    this.labelMask.dispose();
    this.w3.dispose();
  }

  private async run(
    centre: Vec,
    points: readonly ProfilePoint[],
    wantLoss: boolean,
    wantSlope: boolean,
  ): Promise<EnsembleValues> {
    if (this.disposed) throw new Error('MinibatchSlopes: used after dispose');
    const hh = this.hidden * this.hidden;
    if (centre.length !== hh)
      throw new Error(`MinibatchSlopes: centre has ${centre.length} entries, expected ${hh}`);
    const out: EnsembleValues = { losses: [], slopes: [] };
    for (let g0 = 0; g0 < points.length; g0 += this.maxGroup) {
      const group = points.slice(g0, g0 + this.maxGroup);
      const { losses, slopes } = await this.group(centre, group, wantLoss, wantSlope);
      out.losses.push(...losses);
      out.slopes.push(...slopes);
    }
    return out;
  }

  private async group(
    centre: Vec,
    group: readonly ProfilePoint[],
    wantLoss: boolean,
    wantSlope: boolean,
  ): Promise<EnsembleValues> {
    const h = this.hidden;
    const hh = h * h;
    const P = group.length;
    const C = this.classes;
    const B = this.batchSize;
    const K = this.minibatches;
    // Distinct directions (by identity) and distinct weight matrices W = centre + δ·p (every
    // δ = 0 point shares W = centre: T at δ = 0 along many modes needs a single forward pass).
    const dirs: Vec[] = [];
    const whichD = new Int32Array(P);
    const mats: { d: Vec | null; delta: number }[] = [];
    const whichW = new Int32Array(P);
    for (let k = 0; k < P; k++) {
      const { direction: d, delta } = group[k];
      if (d.length !== hh)
        throw new Error(`MinibatchSlopes: direction has ${d.length} entries, expected ${hh}`);
      let u = dirs.indexOf(d);
      if (u < 0) u = dirs.push(d) - 1;
      whichD[k] = u;
      const key = delta === 0 ? null : d;
      let v = mats.findIndex((x) => x.d === key && x.delta === delta);
      if (v < 0) v = mats.push({ d: key, delta }) - 1;
      whichW[k] = v;
    }
    const U = dirs.length;
    const V = mats.length;
    const wAll = new Float32Array(h * V * h);
    for (let v = 0; v < V; v++) {
      const { d, delta } = mats[v];
      for (let i = 0; i < h; i++) {
        const dst = i * V * h + v * h;
        const src = i * h;
        if (d === null) for (let j = 0; j < h; j++) wAll[dst + j] = centre[src + j];
        else for (let j = 0; j < h; j++) wAll[dst + j] = centre[src + j] + delta * d[src + j];
      }
    }
    const dAll = new Float32Array(h * U * h);
    for (let u = 0; u < U; u++) {
      const d = dirs[u];
      for (let i = 0; i < h; i++)
        for (let j = 0; j < h; j++) dAll[i * U * h + u * h + j] = d[i * h + j];
    }
    const isIdentity = (w: Int32Array, n: number) => n === P && w.every((u, k) => u === k);
    const perMb = B * Math.max(V, wantSlope ? P : 0) * h;
    const mbPerChunk = Math.max(1, Math.min(K, Math.floor(this.budgetElems / perMb)));
    const result = tf.tidy(() => {
      const w = tf.tensor2d(wAll, [h, V * h]);
      const dw = wantSlope ? tf.tensor2d(dAll, [h, U * h]) : null;
      // Spread a per-matrix (axis 1 of size V) or per-direction (size U) tensor over the P
      // points: broadcast when there is one, as is when already in point order, else gather.
      const spreader = (which: Int32Array, n: number) => {
        if (n === 1 || isIdentity(which, n)) return (t: tf.Tensor3D) => t;
        const idx = tf.tensor1d(which, 'int32');
        return (t: tf.Tensor3D) => tf.gather(t, idx, 1) as tf.Tensor3D;
      };
      const spreadW = spreader(whichW, V);
      const spreadD = spreader(whichD, U);
      const lossParts: tf.Tensor2D[] = [];
      const slopeParts: tf.Tensor2D[] = [];
      for (let m0 = 0; m0 < K; m0 += mbPerChunk) {
        const m = Math.min(mbPerChunk, K - m0);
        const n = m * B;
        const s = m0 * B;
        const [lp, sp] = tf.tidy(() => {
          const whole = n === K * B;
          const h1 = whole ? this.h1 : this.h1.slice([s, 0], [n, h]);
          const oh = whole ? this.oneHot : this.oneHot.slice([s, 0, 0], [n, 1, C]);
          const Z = tf.matMul(h1, w).reshape([n, V, h]);
          const z = tf.matMul(tf.relu(Z).reshape([n * V, h]), this.w3).reshape([n, V, C]);
          const res: tf.Tensor2D[] = [];
          if (wantLoss) {
            const mask = whole ? this.labelMask : this.labelMask.slice([s, 0, 0], [n, 1, C]);
            const ce = stableCrossEntropy(z, oh, mask); // n × V
            res.push(tf.mean(ce.reshape([m, B, V]), 1) as tf.Tensor2D);
          } else res.push(tf.zeros([m, V]));
          if (dw) {
            const dZ = spreadD(tf.matMul(h1, dw).reshape([n, U, h]));
            const dH2 = tf.mul(spreadW(tf.step(Z) as tf.Tensor3D), dZ);
            const X = dH2.shape[1] ?? P;
            const dz = tf.matMul(dH2.reshape([n * X, h]), this.w3).reshape([n, X, C]);
            const p = spreadW(tf.exp(tf.sub(z, tf.logSumExp(z, -1, true))) as tf.Tensor3D);
            const dzy = tf.sum(tf.mul(dz, oh), -1, true);
            const sl = tf.sum(tf.mul(p, tf.sub(dz, dzy)), -1); // n × (P, or 1 if all points coincide)
            const mean = tf.mean(sl.reshape([m, B, sl.shape[1] ?? 1]), 1);
            res.push((sl.shape[1] === P ? mean : tf.broadcastTo(mean, [m, P])) as tf.Tensor2D);
          } else res.push(tf.zeros([m, P]));
          return res;
        });
        lossParts.push(lp);
        slopeParts.push(sp);
      }
      const cat = (xs: tf.Tensor2D[]) => (xs.length === 1 ? xs[0] : tf.concat(xs, 0));
      return tf.concat([cat(lossParts), cat(slopeParts)], 1) as tf.Tensor2D; // K × (V + P)
    });
    let data: Float32Array;
    try {
      data = (await result.data()) as Float32Array;
    } finally {
      result.dispose();
    }
    const row = V + P;
    const losses: Float64Array[] = [];
    const slopes: Float64Array[] = [];
    for (let k = 0; k < P; k++) {
      if (wantLoss) {
        const l = new Float64Array(K);
        for (let mu = 0; mu < K; mu++) l[mu] = data[mu * row + whichW[k]];
        losses.push(l);
      }
      if (wantSlope) {
        const sl = new Float64Array(K);
        for (let mu = 0; mu < K; mu++) sl[mu] = data[mu * row + V + k];
        slopes.push(sl);
      }
    }
    return { losses, slopes };
  }
}
