/**
 * The task-2 ensemble's step in float64 on the CPU (w2EnsembleKernel.ts's contract): the answer
 * the WGSL kernel is checked against, and the stand-in kernel of the engine's unit tests. Not a
 * fast path — a forgetting seed on the CPU trains with W2Trainer (tfjs).
 */
import { CLASSES } from '../nets/mlp';
import {
  checkW2Ensemble,
  type W2EnsembleKernel,
  type W2EnsembleShared,
  type W2Prox,
} from './w2EnsembleKernel';

export class W2EnsembleReference implements W2EnsembleKernel {
  readonly runs: number;
  /** Every run's W2 (R × h²). */
  readonly w2: Float64Array;
  error: string | null = null;
  private readonly h: number;

  constructor(
    private readonly shared: W2EnsembleShared,
    private readonly prox: readonly W2Prox[],
    readonly maxChunk = 64,
  ) {
    checkW2Ensemble(shared, prox);
    this.runs = prox.length;
    this.h = shared.hidden;
    this.w2 = new Float64Array(this.runs * this.h * this.h);
    for (let r = 0; r < this.runs; r++) this.w2.set(shared.anchor, r * this.h * this.h);
  }

  runChunk(indices: Uint32Array, steps: number): Promise<Float32Array> {
    if (this.error) return Promise.reject(new Error(this.error));
    const B = this.shared.batchSize;
    if (!Number.isInteger(steps) || steps < 1 || steps > this.maxChunk)
      throw new Error(`task-2 ensemble: a chunk is 1…${this.maxChunk} steps, got ${steps}`);
    if (indices.length < steps * B) throw new Error('task-2 ensemble: too few indices');
    const loss = new Float32Array(this.runs * steps);
    for (let s = 0; s < steps; s++) {
      const batch = indices.subarray(s * B, (s + 1) * B);
      for (let r = 0; r < this.runs; r++) loss[r * steps + s] = this.step(r, batch);
    }
    return Promise.resolve(loss);
  }

  /** One step of run r on `batch`; returns the batch's mean loss before the step. */
  private step(r: number, batch: Uint32Array): number {
    const { h } = this;
    const { trainH1: H1, trainLabels: Y, W3, lr } = this.shared;
    const B = batch.length;
    const o = r * h * h;
    const W = this.w2;
    const G = new Float64Array(h * h);
    const h2 = new Float64Array(h);
    const z = new Float64Array(CLASSES);
    const d2 = new Float64Array(h);
    let loss = 0;
    for (let b = 0; b < B; b++) {
      const x = batch[b] * h;
      for (let j = 0; j < h; j++) {
        let a = 0;
        for (let k = 0; k < h; k++) a += H1[x + k] * W[o + k * h + j];
        h2[j] = Math.max(a, 0);
      }
      let mx = -Infinity;
      for (let c = 0; c < CLASSES; c++) {
        let a = 0;
        for (let j = 0; j < h; j++) a += h2[j] * W3[j * CLASSES + c];
        z[c] = a;
        mx = Math.max(mx, a);
      }
      let sum = 0;
      for (let c = 0; c < CLASSES; c++) sum += Math.exp(z[c] - mx);
      const y = Y[batch[b]];
      loss += Math.log(sum) + mx - z[y];
      for (let c = 0; c < CLASSES; c++)
        z[c] = ((Math.exp(z[c] - mx) / sum - (c === y ? 1 : 0)) * lr) / B;
      for (let j = 0; j < h; j++) {
        let a = 0;
        for (let c = 0; c < CLASSES; c++) a += z[c] * W3[j * CLASSES + c];
        d2[j] = h2[j] > 0 ? a : 0;
      }
      for (let k = 0; k < h; k++) {
        const hk = H1[x + k];
        if (hk !== 0) for (let j = 0; j < h; j++) G[k * h + j] += hk * d2[j];
      }
    }
    for (let i = 0; i < h * h; i++) W[o + i] -= G[i];
    this.proximal(r);
    return loss / B;
  }

  private proximal(r: number): void {
    const p = this.prox[r];
    const { h } = this;
    const n = h * h;
    const o = r * n;
    const W = this.w2;
    const { anchor, modes } = this.shared;
    if (p.kind === 'ewc') {
      for (let i = 0; i < n; i++) W[o + i] -= p.shrink[i] * (W[o + i] - anchor[i]);
    } else if (p.kind === 'ldc') {
      const c = new Float64Array(p.nc);
      for (let m = 0; m < p.nc; m++) {
        let a = 0;
        for (let i = 0; i < n; i++) a += (W[o + i] - anchor[i]) * modes[m * n + i];
        c[m] = a * p.shrink[m];
      }
      for (let m = 0; m < p.nc; m++)
        for (let i = 0; i < n; i++) W[o + i] -= c[m] * modes[m * n + i];
    }
  }

  score(): Promise<Uint32Array> {
    const { h } = this;
    const sets = this.shared.evalSets;
    const out = new Uint32Array(this.runs * sets.length * 2);
    const W3 = this.shared.W3;
    const h2 = new Float64Array(h);
    const z = new Float64Array(CLASSES);
    for (let r = 0; r < this.runs; r++) {
      const o = r * h * h;
      sets.forEach((set, si) => {
        let wrong = 0;
        let wrongOwn = 0;
        for (let s = 0; s < set.count; s++) {
          for (let j = 0; j < h; j++) {
            let a = 0;
            for (let k = 0; k < h; k++) a += set.h1[s * h + k] * this.w2[o + k * h + j];
            h2[j] = Math.max(a, 0);
          }
          for (let c = 0; c < CLASSES; c++) {
            let a = 0;
            for (let j = 0; j < h; j++) a += h2[j] * W3[j * CLASSES + c];
            z[c] = a;
          }
          let arg = 0;
          for (let c = 1; c < CLASSES; c++) if (z[c] > z[arg]) arg = c;
          let argOwn = set.own[0];
          for (const c of set.own) if (z[c] > z[argOwn]) argOwn = c;
          const y = set.labels[s];
          if (arg !== y) wrong++;
          if (argOwn !== y) wrongOwn++;
        }
        out[(r * sets.length + si) * 2] = wrong;
        out[(r * sets.length + si) * 2 + 1] = wrongOwn;
      });
    }
    return Promise.resolve(out);
  }

  readW2(): Promise<Float32Array> {
    if (this.error) return Promise.reject(new Error(this.error));
    return Promise.resolve(Float32Array.from(this.w2));
  }

  dispose(): void {}
}
