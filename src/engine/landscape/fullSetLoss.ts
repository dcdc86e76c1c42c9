/**
 * The overall training loss L(w) — mean softmax cross-entropy over the WHOLE training set — as a
 * function of W2 alone (W1 and W3 fixed), evaluated at many points w = centre + δ·direction in
 * one batched tensor program. This is what the flatness search (flatness.ts) calls.
 *
 * Network (SCIENCE.md): logits = relu(relu(X·W1)·W2)·W3, X = pixels/255, no biases.
 *
 * Method. H1 = relu(X·W1) (N×h) is computed once, in chunks, and kept on the backend. For a
 * batch of K points, the K matrices W2_k = centre + δ_k·d_k are laid side by side as one h×(K·h)
 * matrix, so a chunk of n samples costs
 *   relu(H1_chunk · [W2_1 … W2_K])  — one fused matMul+relu, n × K·h
 *   · W3                            — one matMul on the (n·K)×h reshaped result
 *   softplus(logsumexp_{c≠y} z − z_y) — the cross-entropy, per sample and point, summed.
 * Per-chunk sums are added on the backend and read back once per call.
 *
 * Why not "A = H1·W2c once per centre, B_d = H1·d once per direction, relu(A + δ·B_d)": it was
 * measured on tfjs-wasm (N = 8,000, h = 50, K = 100): the three element-wise passes over the
 * n×K×h tensor cost about the same as the fused matMul they would replace (~4 ns per element
 * either way), plus a stack copy and 1.6 MB of cached B_d per direction (12 MB at N = 60,000).
 * The direct form needs no per-direction memory and no cache invalidation, so it is used.
 *
 * Memory: a call is split into groups of points and chunks of samples so that the largest
 * intermediate (n × K·h floats) stays under `budgetBytes` (default 64 MB).
 * Every tensor made by `evaluate` is disposed before it returns; `dispose()` frees H1.
 */
import * as tf from '@tensorflow/tfjs';
import { chunkedSum, labelTensors, stableCrossEntropy } from './crossEntropy';
import type { ProfilePoint, EvalFn } from './flatness';
import { firstLayerActivations } from '../nets/firstLayer';
import type { W2ProblemInputs } from './w2Kernels';

export interface FullSetLossInputs extends W2ProblemInputs {
  /** Largest intermediate tensor in bytes (default 64 MB). */
  budgetBytes?: number;
  /** Most points per tensor program (default 128). */
  maxPointsPerGroup?: number;
}

const DEFAULT_BUDGET = 64 * 1024 * 1024;

export class FullSetLoss {
  /** Number of training samples N in the mean. */
  readonly count: number;
  readonly hidden: number;
  readonly classes: number;
  private readonly h1: tf.Tensor2D;
  private readonly oneHot: tf.Tensor3D; // N × 1 × classes
  private readonly labelMask: tf.Tensor3D; // N × 1 × classes: −1e30 at the label, 0 elsewhere
  private readonly w3: tf.Tensor2D;
  private readonly budgetElems: number;
  private readonly maxGroup: number;
  private disposed = false;

  constructor(inp: FullSetLossInputs) {
    const h = inp.hidden;
    const P = inp.inputSize ?? 784;
    const C = inp.classes ?? 10;
    const total = Math.floor(inp.images.length / P);
    const N = Math.min(inp.count ?? total, total, inp.labels.length);
    if (!(N > 0)) throw new Error('FullSetLoss: no samples');
    if (inp.w1.length !== P * h)
      throw new Error(`FullSetLoss: W1 has ${inp.w1.length} entries, expected ${P}×${h}`);
    if (inp.w3.length !== h * C)
      throw new Error(`FullSetLoss: W3 has ${inp.w3.length} entries, expected ${h}×${C}`);
    this.count = N;
    this.hidden = h;
    this.classes = C;
    this.budgetElems = Math.max(1, Math.floor((inp.budgetBytes ?? DEFAULT_BUDGET) / 4));
    this.maxGroup = Math.max(1, inp.maxPointsPerGroup ?? 128);

    const lab = new Int32Array(N);
    for (let i = 0; i < N; i++) {
      const y = inp.labels[i];
      if (y >= C) throw new Error(`FullSetLoss: label ${y} at ${i} is not < ${C}`);
      lab[i] = y;
    }
    ({ oneHot: this.oneHot, labelMask: this.labelMask } = labelTensors(lab, C));
    this.w3 = tf.tensor2d(inp.w3, [h, C]);

    this.h1 = firstLayerActivations(inp.images, inp.w1, P, h, N);
  }

  /**
   * L(centre + δ·direction) for every point, in order. `centre` is W2 (h×h, row-major).
   * Directions need not be unit vectors (δ·direction is used as given).
   */
  async evaluate(
    centre: Float64Array | Float32Array,
    points: readonly ProfilePoint[],
  ): Promise<Float64Array> {
    if (this.disposed) throw new Error('FullSetLoss: evaluate after dispose');
    const hh = this.hidden * this.hidden;
    if (centre.length !== hh)
      throw new Error(`FullSetLoss: centre has ${centre.length} entries, expected ${hh}`);
    const out = new Float64Array(points.length);
    for (let g0 = 0; g0 < points.length; g0 += this.maxGroup) {
      const group = points.slice(g0, g0 + this.maxGroup);
      const sums = await this.groupSums(centre, group);
      for (let k = 0; k < group.length; k++) out[g0 + k] = sums[k] / this.count;
    }
    return out;
  }

  /** L(w2) at a single W2. */
  async lossAt(w2: Float64Array | Float32Array): Promise<number> {
    const zero = new Float64Array(w2.length);
    return (await this.evaluate(w2, [{ direction: zero, delta: 0 }]))[0];
  }

  /** An `EvalFn` for measureFlatness / lossProfile around a fixed centre. */
  evalFnAt(centre: Float64Array | Float32Array): EvalFn {
    const c = Float64Array.from(centre);
    return (points) => this.evaluate(c, points);
  }

  /** Frees the resident tensors (H1, labels, W3). */
  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    this.h1.dispose();
    this.oneHot.dispose();
    this.labelMask.dispose();
    this.w3.dispose();
  }

  /** Summed (not mean) cross-entropy for each point of one group. */
  private async groupSums(
    centre: Float64Array | Float32Array,
    group: readonly ProfilePoint[],
  ): Promise<Float64Array> {
    const h = this.hidden;
    const hh = h * h;
    const K = group.length;
    const C = this.classes;
    const N = this.count;
    // W = [W2_1 | W2_2 | … | W2_K], h × (K·h): row i holds row i of every point's matrix.
    const wAll = new Float32Array(h * K * h);
    for (let k = 0; k < K; k++) {
      const { direction: d, delta } = group[k];
      if (d.length !== hh)
        throw new Error(`FullSetLoss: direction has ${d.length} entries, expected ${hh}`);
      for (let i = 0; i < h; i++) {
        const dst = i * K * h + k * h;
        const src = i * h;
        if (delta === 0) for (let j = 0; j < h; j++) wAll[dst + j] = centre[src + j];
        else for (let j = 0; j < h; j++) wAll[dst + j] = centre[src + j] + delta * d[src + j];
      }
    }
    const rows = Math.max(1, Math.min(N, Math.floor(this.budgetElems / (K * h))));
    const w = tf.tensor2d(wAll, [h, K * h]);
    try {
      return await chunkedSum(N, rows, (s, n) => {
        const h1 = n === N ? this.h1 : this.h1.slice([s, 0], [n, h]);
        const a2 = tf.fused.matMul({ a: h1, b: w, activation: 'relu' }); // n × K·h
        const z = tf.matMul(a2.reshape([n * K, h]), this.w3).reshape([n, K, C]);
        const oh = n === N ? this.oneHot : this.oneHot.slice([s, 0, 0], [n, 1, C]);
        const mask = n === N ? this.labelMask : this.labelMask.slice([s, 0, 0], [n, 1, C]);
        return tf.sum(stableCrossEntropy(z, oh, mask), 0) as tf.Tensor1D;
      });
    } finally {
      w.dispose();
    }
  }
}
