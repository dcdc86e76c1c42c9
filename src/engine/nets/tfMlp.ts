/**
 * The paper's MLP trained with TensorFlow.js. Three implementations of one SGD step, chosen per
 * backend because the fastest differs (NOTES-platform.md):
 *  - 'explicit-transpose': hand-written backward pass, transposes as separate ops and the
 *    input's transpose uploaded from JS. On wasm, matMul with transpose flags is ~11× slower
 *    than a plain matMul, so this is ~2.5× faster than autodiff there.
 *  - 'transpose-flags': the same backward pass using matMul's transpose flags (GPU backends
 *    fold the transpose into the kernel for free).
 *  - 'autodiff': tf.variableGrads, the reference the hand-written ones are tested against.
 * All three compute the gradient g of the mean minibatch cross-entropy. With plain SGD they apply
 * w ← w − α·g; with momentum or Adam (all three implementations) g goes to applyOptimizer:
 *  - momentum (heavy ball, PyTorch's convention): v ← μ·v + g, w ← w − α·v;
 *  - Adam: m ← β1·m + (1−β1)·g, s ← β2·s + (1−β2)·g², t ← t+1,
 *    w ← w − α·m̂/(√ŝ + ε) with m̂ = m/(1−β1ᵗ), ŝ = s/(1−β2ᵗ).
 * The optimizer state lives in tf.Variables made once (tf.memory().numTensors stays flat) and
 * is zeroed by setWeights (a restored checkpoint or new task restarts the optimizer).
 */
import * as tf from '@tensorflow/tfjs';
import type { DataSplit } from '../data/dataset';
import { PIXEL_LUT } from '../data/batches';
import {
  CLASSES,
  chunkedStats,
  softmaxCrossEntropy,
  type BatchStats,
  type MlpWeights,
} from './mlp';
import {
  SGD,
  preferredStepImpl,
  type OptimizerSettings,
  type OptimizerState,
  type StepImpl,
  type StepResult,
  type UploadBatch,
} from './netTypes';

/**
 * One optimizer update of the variables W from their mean-loss gradients (call inside tf.tidy),
 * shared by TfMlp and the deeper networks' SgdNet:
 *   SGD       w ← w − α·g
 *   momentum  v ← μv + g, w ← w − α·v                     (state: one v per variable)
 *   Adam      m ← β1·m + (1−β1)·g, s ← β2·s + (1−β2)·g²,
 *             w ← w − α·m̂/(√ŝ + ε), bias-corrected at step t  (state: all m, then all s)
 * Returns the step count after the update (Adam's t; unchanged otherwise).
 */
export function applyOptimizerUpdate(
  o: OptimizerSettings,
  W: readonly tf.Variable[],
  grads: readonly tf.Tensor[],
  state: readonly tf.Variable[],
  lr: number,
  t: number,
): number {
  const a = tf.scalar(lr);
  if (o.kind === 'sgd') {
    W.forEach((w, l) => w.assign(tf.sub(w, tf.mul(grads[l], a))));
    return t;
  }
  if (o.kind === 'momentum') {
    const mu = tf.scalar(o.momentum);
    W.forEach((w, l) => {
      const v = state[l];
      v.assign(tf.add(tf.mul(v, mu), grads[l]));
      w.assign(tf.sub(w, tf.mul(v, a)));
    });
    return t;
  }
  const step = t + 1;
  const b1 = tf.scalar(o.beta1);
  const b2 = tf.scalar(o.beta2);
  const c1 = tf.scalar(1 - o.beta1);
  const c2 = tf.scalar(1 - o.beta2);
  // α·m̂/(√ŝ + ε) = α/(1−β1ᵗ) · m / (√s/√(1−β2ᵗ) + ε)
  const stepSize = tf.scalar(lr / (1 - o.beta1 ** step));
  const sCorr = tf.scalar(1 / Math.sqrt(1 - o.beta2 ** step));
  const eps = tf.scalar(o.epsilon);
  const L = W.length;
  W.forEach((w, l) => {
    const m = state[l];
    const s = state[L + l];
    m.assign(tf.add(tf.mul(m, b1), tf.mul(grads[l], c1)));
    s.assign(tf.add(tf.mul(s, b2), tf.mul(tf.square(grads[l]), c2)));
    const denom = tf.add(tf.mul(tf.sqrt(s), sCorr), eps);
    w.assign(tf.sub(w, tf.mul(tf.div(m, denom), stepSize)));
  });
  return step;
}

/** Reads a tensor into a fresh array the caller owns, whatever the backend. */
async function readOwned(t: tf.Tensor, backend: string): Promise<Float32Array> {
  // On webgpu and webgl, data() caches the values on the tensor and hands out that same array
  // on every later read: transferring it detached the cache, and the next read of an unchanged
  // variable (the window's end, right after an epoch's checkpoint) failed to post.
  if (backend === 'webgpu' || backend === 'webgl')
    return ((await t.data()) as Float32Array).slice();
  // On cpu, dataSync returns the tensor's own buffer: copy it before anyone transfers it.
  const d = t.dataSync() as Float32Array;
  return backend === 'cpu' ? d.slice() : d;
}

export class TfMlp {
  readonly hidden: number;
  readonly inputSize: number;
  readonly impl: StepImpl;
  private readonly backend: string;
  private readonly W1: tf.Variable<tf.Rank.R2>;
  private readonly W2: tf.Variable<tf.Rank.R2>;
  private readonly W3: tf.Variable<tf.Rank.R2>;
  readonly optimizer: OptimizerSettings;
  /** Momentum: one velocity per weight matrix; Adam: first then second moments (6 in all). */
  private readonly state: tf.Variable<tf.Rank.R2>[] = [];
  /** Adam's step count t (bias correction). */
  private t = 0;

  constructor(weights: MlpWeights, impl?: StepImpl, optimizer: OptimizerSettings = SGD) {
    this.backend = tf.getBackend();
    this.impl = impl ?? preferredStepImpl(this.backend);
    this.hidden = weights.hidden;
    this.inputSize = weights.W1.length / weights.hidden;
    const h = this.hidden;
    // tf.variable(tf.tensor(...)) would keep the initial tensor alive: build inside tidy.
    this.W1 = tf.tidy(() =>
      tf.variable(tf.tensor2d(weights.W1, [this.inputSize, h]), true, undefined, 'float32'),
    );
    this.W2 = tf.tidy(() => tf.variable(tf.tensor2d(weights.W2, [h, h])));
    this.W3 = tf.tidy(() => tf.variable(tf.tensor2d(weights.W3, [h, CLASSES])));
    this.optimizer = optimizer;
    const copies = optimizer.kind === 'adam' ? 2 : optimizer.kind === 'momentum' ? 1 : 0;
    for (let c = 0; c < copies; c++) {
      for (const W of [this.W1, this.W2, this.W3]) {
        this.state.push(tf.tidy(() => tf.variable(tf.zerosLike(W), false)));
      }
    }
  }

  /** Zeroes the optimizer state (velocities, moments and Adam's step count). */
  resetOptimizer(): void {
    this.t = 0;
    tf.tidy(() => {
      for (const v of this.state) v.assign(tf.zerosLike(v));
    });
  }

  /** Momentum's velocities or Adam's moments and step count (null for SGD), copies. */
  async getOptimizerState(): Promise<OptimizerState | null> {
    if (this.state.length === 0) return null;
    const moments: MlpWeights[] = [];
    for (let c = 0; c < this.state.length; c += 3) {
      const [W1, W2, W3] = await Promise.all(
        this.state.slice(c, c + 3).map((v) => readOwned(v, this.backend)),
      );
      moments.push({ hidden: this.hidden, W1, W2, W3 });
    }
    return { moments, t: this.t };
  }

  /**
   * Continues the optimizer from `s` (another step implementation's state, e.g. the fused
   * WebGPU trainer's): call after setWeights, which zeroes it.
   */
  setOptimizerState(s: OptimizerState): void {
    if (s.moments.length * 3 !== this.state.length)
      throw new Error(
        `TfMlp: ${this.optimizer.kind} keeps ${this.state.length / 3} moment sets, not ${s.moments.length}`,
      );
    tf.tidy(() => {
      s.moments.forEach((m, c) => {
        const h = this.hidden;
        this.state[3 * c].assign(tf.tensor2d(m.W1, [this.inputSize, h]));
        this.state[3 * c + 1].assign(tf.tensor2d(m.W2, [h, h]));
        this.state[3 * c + 2].assign(tf.tensor2d(m.W3, [h, CLASSES]));
      });
    });
    this.t = s.t;
  }

  /** Applies momentum or Adam to the mean-loss gradients g (order W1, W2, W3), inside a tidy. */
  private applyOptimizer(grads: tf.Tensor[], lr: number): void {
    this.t = applyOptimizerUpdate(
      this.optimizer,
      [this.W1, this.W2, this.W3],
      grads,
      this.state,
      lr,
      this.t,
    );
  }

  /**
   * One SGD step on the given batch at learning rate lr. Returns the minibatch loss and error
   * count measured before the update (the loss SGD actually saw) and W2 after it.
   */
  async step(batch: UploadBatch, lr: number): Promise<StepResult> {
    const logits = tf.tidy(() => this.stepTensors(batch, lr));
    const z = await readOwned(logits, this.backend);
    logits.dispose();
    const stats = softmaxCrossEntropy(z, batch.labels, batch.size);
    const w2 = await readOwned(this.W2, this.backend);
    return { ...stats, w2 };
  }

  /** Forward pass, gradient and update; returns the pre-update logits (kept by the caller). */
  private stepTensors(batch: UploadBatch, lr: number): tf.Tensor2D {
    const B = batch.size;
    const n = this.inputSize;
    const X = tf.tensor2d(batch.x.subarray(0, B * n), [B, n]);
    const Y = tf.tensor2d(batch.oneHot.subarray(0, B * CLASSES), [B, CLASSES]);
    if (this.impl === 'autodiff') {
      const { value, grads } = tf.variableGrads(() => {
        const logits = this.forward(X);
        return tf.losses.softmaxCrossEntropy(Y, logits) as tf.Scalar;
      }, [this.W1, this.W2, this.W3]);
      value.dispose();
      const logits = tf.keep(this.forward(X));
      if (this.optimizer.kind !== 'sgd') {
        this.applyOptimizer([grads[this.W1.name], grads[this.W2.name], grads[this.W3.name]], lr);
        return logits;
      }
      const s = tf.scalar(lr);
      this.W1.assign(tf.sub(this.W1, tf.mul(grads[this.W1.name], s)));
      this.W2.assign(tf.sub(this.W2, tf.mul(grads[this.W2.name], s)));
      this.W3.assign(tf.sub(this.W3, tf.mul(grads[this.W3.name], s)));
      return logits;
    }
    const flags = this.impl === 'transpose-flags';
    const H1 = tf.relu(tf.matMul(X, this.W1));
    const H2 = tf.relu(tf.matMul(H1, this.W2));
    const Z3 = tf.keep(tf.matMul(H2, this.W3)) as tf.Tensor2D;
    // Gradient of the summed loss scaled by α/B up front: the backward pass is linear in it,
    // so every weight gradient comes out as its update and needs no separate scaling. Other
    // optimizers need the plain mean gradient: scale by 1/B only.
    const sgd = this.optimizer.kind === 'sgd';
    const D3 = tf.mul(tf.sub(tf.softmax(Z3), Y), tf.scalar((sgd ? lr : 1) / B));
    const gW3 = flags ? tf.matMul(H2, D3, true, false) : tf.matMul(tf.transpose(H2), D3);
    const D2 = tf.mul(
      flags ? tf.matMul(D3, this.W3, false, true) : tf.matMul(D3, tf.transpose(this.W3)),
      tf.step(H2),
    );
    const gW2 = flags ? tf.matMul(H1, D2, true, false) : tf.matMul(tf.transpose(H1), D2);
    const D1 = tf.mul(
      flags ? tf.matMul(D2, this.W2, false, true) : tf.matMul(D2, tf.transpose(this.W2)),
      tf.step(H1),
    );
    const gW1 = flags
      ? tf.matMul(X, D1, true, false)
      : tf.matMul(tf.tensor2d(batch.xT.subarray(0, n * B), [n, B]), D1);
    if (!sgd) {
      this.applyOptimizer([gW1, gW2, gW3], lr);
      return Z3;
    }
    this.W1.assign(tf.sub(this.W1, gW1));
    this.W2.assign(tf.sub(this.W2, gW2));
    this.W3.assign(tf.sub(this.W3, gW3));
    return Z3;
  }

  private forward(X: tf.Tensor2D): tf.Tensor2D {
    // A plain matMul then relu: on wasm the fused matMul+relu kernel measured ~1.5× slower.
    const H1 = tf.relu(tf.matMul(X, this.W1));
    const H2 = tf.relu(tf.matMul(H1, this.W2));
    return tf.matMul(H2, this.W3);
  }

  /**
   * A split's inputs (pixels/255) uploaded to the backend once, for evaluateResident at every
   * epoch; the caller disposes the tensor.
   */
  uploadInputs(split: DataSplit): tf.Tensor2D {
    const P = this.inputSize;
    const x = new Float32Array(split.count * P);
    for (let i = 0; i < x.length; i++) x[i] = PIXEL_LUT[split.images[i]];
    return tf.tensor2d(x, [split.count, P]);
  }

  /** Loss and error count of inputs already resident on the backend, in one forward pass. */
  async evaluateResident(X: tf.Tensor2D, labels: ArrayLike<number>): Promise<BatchStats> {
    const logits = tf.tidy(() => this.forward(X));
    const z = await readOwned(logits, this.backend);
    logits.dispose();
    return softmaxCrossEntropy(z, labels, X.shape[0]);
  }

  /**
   * Loss and error count over a whole data set, evaluated in chunks so memory stays bounded.
   * `fill(start, count, out)` writes `count` samples starting at `start` into `out`.
   */
  async evaluate(
    total: number,
    chunk: number,
    fill: (start: number, count: number, out: UploadBatch) => void,
    scratch: UploadBatch,
  ): Promise<BatchStats> {
    return chunkedStats(total, chunk, async (start, count) => {
      fill(start, count, scratch);
      const logits = tf.tidy(() =>
        this.forward(
          tf.tensor2d(scratch.x.subarray(0, count * this.inputSize), [count, this.inputSize]),
        ),
      );
      const z = await readOwned(logits, this.backend);
      logits.dispose();
      return softmaxCrossEntropy(z, scratch.labels, count);
    });
  }

  async getWeights(): Promise<MlpWeights> {
    return {
      hidden: this.hidden,
      W1: await readOwned(this.W1, this.backend),
      W2: await readOwned(this.W2, this.backend),
      W3: await readOwned(this.W3, this.backend),
    };
  }

  setWeights(w: MlpWeights): void {
    tf.tidy(() => {
      this.W1.assign(tf.tensor2d(w.W1, [this.inputSize, this.hidden]));
      this.W2.assign(tf.tensor2d(w.W2, [this.hidden, this.hidden]));
      this.W3.assign(tf.tensor2d(w.W3, [this.hidden, CLASSES]));
    });
    this.resetOptimizer();
  }

  dispose(): void {
    this.W1.dispose();
    this.W2.dispose();
    this.W3.dispose();
    for (const v of this.state) v.dispose();
  }
}
