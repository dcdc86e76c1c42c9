/**
 * Shared pieces of the deeper architectures of issue 7 (deepMlp.ts, cnn.ts): a network given as
 * a pure forward function of its parameter tensors, trained by SGD, momentum or Adam on the
 * gradients of tfjs autodiff (tf.variableGrads), and the full-training-set loss with only one
 * dense weight block moved (`BlockLoss`), the EvalFn of the flatness search.
 *
 * All parameters are seeded He-uniform, U(−√(6/fanIn), √(6/fanIn)), as in initMlp; no biases.
 */
import * as tf from '@tensorflow/tfjs';
import { Rng } from '../data/rng';
import { chunkedSum, stableCrossEntropy } from '../landscape/crossEntropy';
import type { ProfilePoint } from '../landscape/flatness';
import { applyOptimizerUpdate } from './tfMlp';
import { SGD, type OptimizerSettings } from './netTypes';

/** One parameter tensor: its name, shape and fan-in (for the initialisation). */
export interface ParamSpec {
  name: string;
  shape: number[];
  fanIn: number;
}

/** A network as a pure function of its parameters. */
export interface NetDefinition {
  readonly inputSize: number;
  readonly classes: number;
  readonly params: readonly ParamSpec[];
  /** Logits (B × classes) of a batch x (B × inputSize, pixels in [0, 1]). */
  logits(x: tf.Tensor2D, params: readonly tf.Tensor[]): tf.Tensor2D;
}

/**
 * A network whose parameters from `denseFrom` on are dense matrices (rows × cols, row-major)
 * applied as a ReLU chain ending in the logits, so that any of them can be the analysed block.
 */
export interface BlockNet extends NetDefinition {
  readonly denseFrom: number;
  /** The activations (B × rows) entering dense parameter `param` (≥ denseFrom). */
  features(x: tf.Tensor2D, params: readonly tf.Tensor[], param: number): tf.Tensor2D;
}

/** The dense chain from parameter `from` on: relu after each matrix but the last. */
export function denseChain(
  a0: tf.Tensor2D,
  params: readonly tf.Tensor[],
  from: number,
  to = params.length,
): tf.Tensor2D {
  let a = a0;
  for (let i = from; i < to; i++) {
    const z = tf.matMul(a, params[i] as tf.Tensor2D) as tf.Tensor2D;
    a = i < params.length - 1 ? tf.relu<tf.Tensor2D>(z) : z;
  }
  return a;
}

/** Seeded He-uniform initial values of every parameter, in `params` order. */
export function initParams(def: NetDefinition, seed: number): Float32Array[] {
  const rng = new Rng(seed);
  return def.params.map((p) => {
    const n = p.shape.reduce((a, b) => a * b, 1);
    const bound = Math.sqrt(6 / p.fanIn);
    const w = new Float32Array(n);
    for (let i = 0; i < n; i++) w[i] = (2 * rng.next() - 1) * bound;
    return w;
  });
}

/** Mean softmax cross-entropy of logits against integer labels. */
export function meanCrossEntropy(logits: tf.Tensor2D, labels: tf.Tensor1D): tf.Scalar {
  return tf.tidy(() => {
    const oneHot = tf.oneHot(labels, logits.shape[1]).toFloat();
    return tf.losses.softmaxCrossEntropy(oneHot, logits) as tf.Scalar;
  });
}

/**
 * The network's parameters as tf.Variables, trained on the mean minibatch cross-entropy's
 * gradient g with the optimizer chosen at construction — the update rules and conventions of
 * TfMlp (tfMlp.ts):
 *  - 'sgd': w ← w − α·g;
 *  - 'momentum' (heavy ball, PyTorch's convention): v ← μ·v + g, w ← w − α·v;
 *  - 'adam': m ← β1·m + (1−β1)·g, s ← β2·s + (1−β2)·g², t ← t+1,
 *    w ← w − α·m̂/(√ŝ + ε) with m̂ = m/(1−β1ᵗ), ŝ = s/(1−β2ᵗ).
 * The optimizer state lives in tf.Variables made once (tf.memory().numTensors stays flat
 * across steps); resetOptimizer zeroes it.
 */
export class SgdNet {
  readonly def: NetDefinition;
  readonly optimizer: OptimizerSettings;
  private readonly vars: tf.Variable[];
  /** Momentum: one velocity per parameter; Adam: first moments, then second moments. */
  private readonly state: tf.Variable[] = [];
  /** Adam's step count t (bias correction). */
  private t = 0;
  private disposed = false;

  constructor(
    def: NetDefinition,
    initial: readonly Float32Array[],
    optimizer: OptimizerSettings = SGD,
  ) {
    if (initial.length !== def.params.length)
      throw new Error(`SgdNet: ${initial.length} initial arrays for ${def.params.length} params`);
    if (optimizer.kind === 'momentum' && !(optimizer.momentum >= 0 && optimizer.momentum < 1))
      throw new Error(`SgdNet: momentum ${optimizer.momentum} is outside [0, 1)`);
    this.def = def;
    this.optimizer = optimizer;
    // tf.variable(tf.tensor(...)) would keep the initial tensor alive: build inside tidy.
    this.vars = def.params.map((p, i) => {
      const n = p.shape.reduce((a, b) => a * b, 1);
      if (initial[i].length !== n)
        throw new Error(`SgdNet: ${p.name} has ${initial[i].length} values, expected ${n}`);
      return tf.tidy(() => tf.variable(tf.tensor(initial[i], p.shape), true, undefined, 'float32'));
    });
    const copies = optimizer.kind === 'adam' ? 2 : optimizer.kind === 'momentum' ? 1 : 0;
    for (let c = 0; c < copies; c++)
      for (const v of this.vars)
        this.state.push(tf.tidy(() => tf.variable(tf.zerosLike(v), false)));
  }

  /** Zeroes the optimizer state (velocities, moments and Adam's step count). */
  resetOptimizer(): void {
    this.t = 0;
    tf.tidy(() => {
      for (const v of this.state) v.assign(tf.zerosLike(v));
    });
  }

  /** One optimizer step on the batch; returns the minibatch loss before the step. */
  step(x: Float32Array, labels: Int32Array, size: number, lr: number): number {
    const P = this.def.inputSize;
    const loss = tf.tidy(() => {
      const xt = tf.tensor2d(x.subarray(0, size * P), [size, P]);
      const yt = tf.tensor1d(labels.subarray(0, size), 'int32');
      const { value, grads } = tf.variableGrads(
        () => meanCrossEntropy(this.def.logits(xt, this.vars), yt),
        this.vars,
      );
      this.apply(
        this.vars.map((v) => grads[v.name]),
        lr,
      );
      return value;
    });
    const l = loss.dataSync()[0];
    loss.dispose();
    return l;
  }

  /** Applies the optimizer to the gradients g (in parameter order), inside a tidy. */
  private apply(grads: tf.Tensor[], lr: number): void {
    this.t = applyOptimizerUpdate(this.optimizer, this.vars, grads, this.state, lr, this.t);
  }

  /** A copy of parameter `i`. */
  read(i: number): Float32Array {
    return Float32Array.from(this.vars[i].dataSync() as Float32Array);
  }

  /** Copies of every parameter. */
  weights(): Float32Array[] {
    return this.vars.map((_, i) => this.read(i));
  }

  /** Mean loss and error over a split, in chunks. */
  evaluate(
    images: Float32Array,
    labels: Uint8Array,
    count: number,
    chunk = 1000,
  ): { loss: number; error: number } {
    const P = this.def.inputSize;
    let lossSum = 0;
    let wrong = 0;
    for (let s = 0; s < count; s += chunk) {
      const n = Math.min(chunk, count - s);
      const [l, w] = tf.tidy(() => {
        const x = tf.tensor2d(images.subarray(s * P, (s + n) * P), [n, P]);
        const y = tf.tensor1d(Int32Array.from(labels.subarray(s, s + n)), 'int32');
        const z = this.def.logits(x, this.vars);
        const ce = tf.mul(meanCrossEntropy(z, y), n);
        const err = tf.sum(tf.notEqual(tf.argMax(z, 1), y).toFloat());
        return [ce, err];
      });
      lossSum += l.dataSync()[0];
      wrong += w.dataSync()[0];
      l.dispose();
      w.dispose();
    }
    return { loss: lossSum / count, error: wrong / count };
  }

  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    for (const v of this.vars) v.dispose();
    for (const v of this.state) v.dispose();
  }
}

/**
 * A seeded subset of a block's entries when the block is larger than `cap` (sorted indices),
 * or null when the whole block is analysed.
 */
export function blockSubset(size: number, cap: number, seed: number): Uint32Array | null {
  if (size <= cap) return null;
  const rng = new Rng(seed);
  const idx = new Uint32Array(size);
  for (let i = 0; i < size; i++) idx[i] = i;
  // Partial Fisher–Yates: the first `cap` entries are a uniform sample.
  for (let i = 0; i < cap; i++) {
    const j = i + rng.int(size - i);
    const t = idx[i];
    idx[i] = idx[j];
    idx[j] = t;
  }
  return idx.subarray(0, cap).slice().sort();
}

export interface BlockLossInputs {
  /** N × rows activations feeding the block (fixed: nothing before the block moves). */
  features: tf.Tensor2D;
  /** N labels. */
  labels: Uint8Array;
  /** The block's shape: rows (inputs) × cols (outputs); ReLU follows it. */
  rows: number;
  cols: number;
  /** The fixed matrices after the block, ReLU between them, none after the last (the logits). */
  suffix: { values: Float32Array; rows: number; cols: number }[];
  /** The full block at which the analysed entries are set (entries outside the subset stay). */
  base: Float32Array;
  /** Analysed entries of the block (null: all of them, in row-major order). */
  subset: Uint32Array | null;
  /** Largest intermediate in floats (default 16M). */
  budget?: number;
  /** Most points per tensor program (default 64). */
  maxGroup?: number;
}

/**
 * L(centre + δ·d) — the mean cross-entropy over the whole training set with only the analysed
 * block moved — for many points in one batched program per group: the K blocks are laid side
 * by side, relu(F·[B_1 … B_K]) is one matMul, and the suffix runs on the (n·K)-row reshape.
 * `centre` and directions live in the analysed (possibly subsampled) coordinates. Takes
 * ownership of `features`; `dispose()` frees it.
 */
export class BlockLoss {
  readonly dim: number;
  private readonly inp: BlockLossInputs;
  private readonly suffix: tf.Tensor2D[];
  private readonly labels: tf.Tensor1D;
  private readonly count: number;
  private disposed = false;

  constructor(inp: BlockLossInputs) {
    this.inp = inp;
    this.count = inp.features.shape[0];
    this.dim = inp.subset ? inp.subset.length : inp.rows * inp.cols;
    if (inp.base.length !== inp.rows * inp.cols) throw new Error('BlockLoss: base has wrong size');
    this.suffix = inp.suffix.map((m) => tf.tensor2d(m.values, [m.rows, m.cols]));
    this.labels = tf.tensor1d(Int32Array.from(inp.labels.subarray(0, this.count)), 'int32');
  }

  async evaluate(
    centre: Float64Array | Float32Array,
    points: readonly ProfilePoint[],
  ): Promise<Float64Array> {
    if (this.disposed) throw new Error('BlockLoss: evaluate after dispose');
    if (centre.length !== this.dim)
      throw new Error(`BlockLoss: centre has ${centre.length} entries, expected ${this.dim}`);
    const out = new Float64Array(points.length);
    const G = this.inp.maxGroup ?? 64;
    for (let g0 = 0; g0 < points.length; g0 += G) {
      const group = points.slice(g0, g0 + G);
      const sums = await this.groupSums(centre, group);
      for (let k = 0; k < group.length; k++) out[g0 + k] = sums[k] / this.count;
    }
    return out;
  }

  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    this.inp.features.dispose();
    this.labels.dispose();
    for (const s of this.suffix) s.dispose();
  }

  private async groupSums(
    centre: Float64Array | Float32Array,
    group: readonly ProfilePoint[],
  ): Promise<Float64Array> {
    const { rows, cols, subset, base } = this.inp;
    const K = group.length;
    const N = this.count;
    const wAll = new Float32Array(rows * K * cols);
    const blk = new Float64Array(rows * cols);
    for (let k = 0; k < K; k++) {
      const { direction: d, delta } = group[k];
      if (d.length !== this.dim)
        throw new Error(`BlockLoss: direction has ${d.length} entries, expected ${this.dim}`);
      for (let i = 0; i < blk.length; i++) blk[i] = base[i];
      if (subset) for (let j = 0; j < subset.length; j++) blk[subset[j]] = centre[j] + delta * d[j];
      else for (let j = 0; j < blk.length; j++) blk[j] = centre[j] + delta * d[j];
      for (let i = 0; i < rows; i++)
        for (let j = 0; j < cols; j++) wAll[i * K * cols + k * cols + j] = blk[i * cols + j];
    }
    const widest = Math.max(cols, ...this.inp.suffix.map((m) => m.cols));
    const budget = this.inp.budget ?? 16 * 1024 * 1024;
    const chunk = Math.max(1, Math.min(N, Math.floor(budget / (K * widest))));
    const w = tf.tensor2d(wAll, [rows, K * cols]);
    try {
      return await chunkedSum(N, chunk, (s, n) => {
        const f = this.inp.features.slice([s, 0], [n, rows]);
        let a: tf.Tensor2D = tf.relu(tf.matMul(f, w)).reshape([n * K, cols]);
        this.suffix.forEach((m, i) => {
          const z = tf.matMul(a, m) as tf.Tensor2D;
          a = i < this.suffix.length - 1 ? tf.relu<tf.Tensor2D>(z) : z;
        });
        const C = a.shape[1];
        const z = a.reshape([n, K, C]);
        const y = this.labels.slice([s], [n]);
        const oh = tf.oneHot(y, C).toFloat().reshape([n, 1, C]);
        return tf.sum(stableCrossEntropy(z, oh, tf.mul(oh, -1e30)), 0) as tf.Tensor1D;
      });
    } finally {
      w.dispose();
    }
  }
}
