/**
 * SGD on W2 alone, W1 and W3 frozen (the sequential-learning protocol of Fig. 4), on tfjs.
 *
 * H1 = relu(X·W1) of the task's training set is computed once and stays on the backend, so a
 * step is a gather of B rows plus a handful of h×h products: no pixels are uploaded per step.
 * After the SGD step the trainer applies the proximal step of the run's penalty (see
 * penalties.ts), also on the backend. Nothing is read back per step; W2 is read on demand.
 *
 * The minibatches come from MinibatchSampler (seeded), so two trainers built with the same seed
 * on the same task see the same batches in the same order: the unconstrained run, LDC and EWC at
 * any λ differ only through their penalties.
 */
import * as tf from '@tensorflow/tfjs';
import type { DataSplit } from '../data/dataset';
import { MinibatchSampler, PIXEL_LUT } from '../data/batches';
import { Rng } from '../data/rng';
import { CLASSES } from '../nets/mlp';
import type { ProximalSpec } from './penalties';

/** The frozen layers: W1 (in × h) and W3 (h × 10), row-major. */
export interface FrozenLayers {
  hidden: number;
  W1: Float32Array;
  W3: Float32Array;
}

const H1_CHUNK = 2000;

/** H1 = relu(X·W1) of a whole split, on the backend (N × h). */
export function hiddenLayer(split: DataSplit, W1: Float32Array, hidden: number): tf.Tensor2D {
  const P = split.images.length / split.count;
  const w1 = tf.tensor2d(W1, [P, hidden]);
  const parts: tf.Tensor2D[] = [];
  const x = new Float32Array(Math.min(H1_CHUNK, split.count) * P);
  for (let s = 0; s < split.count; s += H1_CHUNK) {
    const c = Math.min(H1_CHUNK, split.count - s);
    for (let i = 0; i < c * P; i++) x[i] = PIXEL_LUT[split.images[s * P + i]];
    parts.push(
      tf.tidy(
        () => tf.relu(tf.matMul(tf.tensor2d(x.subarray(0, c * P), [c, P]), w1)) as tf.Tensor2D,
      ),
    );
  }
  w1.dispose();
  if (parts.length === 1) return parts[0];
  const all = tf.concat(parts, 0);
  parts.forEach((t) => t.dispose());
  return all;
}

/** He-uniform re-initialisation of W2 (h × h), U(−√(6/h), √(6/h)), as initMlp draws it. */
export function reinitW2(hidden: number, seed: number): Float32Array {
  const rng = new Rng(seed);
  const bound = Math.sqrt(6 / hidden);
  const w = new Float32Array(hidden * hidden);
  for (let i = 0; i < w.length; i++) w[i] = (2 * rng.next() - 1) * bound;
  return w;
}

export interface W2TrainerOptions {
  lr: number;
  batchSize: number;
  /** Seed of the minibatch order. */
  seed: number;
}

export class W2Trainer {
  readonly hidden: number;
  readonly lr: number;
  readonly sampler: MinibatchSampler;
  readonly frozen: FrozenLayers;
  step = 0;
  private readonly H1: tf.Tensor2D;
  private readonly Y: tf.Tensor2D;
  private readonly W3: tf.Tensor2D;
  private readonly W3T: tf.Tensor2D;
  private readonly W2: tf.Variable<tf.Rank.R2>;
  private readonly idx: Uint32Array;
  private readonly idx32: Int32Array;
  private prox:
    | { kind: 'none' }
    | { kind: 'ewc'; anchor: tf.Tensor2D; shrink: tf.Tensor2D }
    | {
        kind: 'ldc';
        anchor: tf.Tensor2D;
        modes: tf.Tensor2D;
        modesT: tf.Tensor2D;
        shrink: tf.Tensor2D;
      } = { kind: 'none' };

  constructor(frozen: FrozenLayers, train: DataSplit, w2: Float32Array, opts: W2TrainerOptions) {
    const h = frozen.hidden;
    if (w2.length !== h * h)
      throw new Error(`W2Trainer: W2 has ${w2.length} entries, expected ${h}×${h}`);
    if (!(opts.lr > 0)) throw new Error(`W2Trainer: lr must be > 0, got ${opts.lr}`);
    this.hidden = h;
    this.lr = opts.lr;
    this.frozen = { hidden: h, W1: frozen.W1.slice(), W3: frozen.W3.slice() };
    this.sampler = new MinibatchSampler(
      train.count,
      Math.min(opts.batchSize, train.count),
      opts.seed,
    );
    this.idx = new Uint32Array(this.sampler.batchSize);
    this.idx32 = new Int32Array(this.sampler.batchSize);
    this.H1 = hiddenLayer(train, frozen.W1, h);
    const oneHot = new Float32Array(train.count * CLASSES);
    for (let i = 0; i < train.count; i++) oneHot[i * CLASSES + train.labels[i]] = 1;
    this.Y = tf.tensor2d(oneHot, [train.count, CLASSES]);
    this.W3 = tf.tensor2d(frozen.W3, [h, CLASSES]);
    this.W3T = tf.transpose(this.W3);
    this.W2 = tf.tidy(() => tf.variable(tf.tensor2d(w2, [h, h])));
  }

  /** Steps per epoch of this task's training set. */
  get stepsPerEpoch(): number {
    return this.sampler.stepsPerEpoch;
  }

  get epoch(): number {
    return this.sampler.epoch;
  }

  /** Sets the proximal step applied after every SGD step (replacing any previous one). */
  setProximal(spec: ProximalSpec): void {
    this.clearProximal();
    const h = this.hidden;
    if (spec.kind === 'ewc') {
      this.prox = {
        kind: 'ewc',
        anchor: tf.tensor2d(spec.anchor, [h, h]),
        shrink: tf.tensor2d(spec.shrink, [h, h]),
      };
    } else if (spec.kind === 'ldc') {
      if (spec.nc === 0) return;
      const modes = tf.tensor2d(spec.modes, [spec.nc, h * h]);
      this.prox = {
        kind: 'ldc',
        anchor: tf.tensor2d(spec.anchor, [h, h]),
        modes,
        modesT: tf.transpose(modes),
        shrink: tf.tensor2d(spec.shrink, [1, spec.nc]),
      };
    }
  }

  private clearProximal(): void {
    const p = this.prox;
    if (p.kind === 'ewc') {
      p.anchor.dispose();
      p.shrink.dispose();
    } else if (p.kind === 'ldc') {
      p.anchor.dispose();
      p.modes.dispose();
      p.modesT.dispose();
      p.shrink.dispose();
    }
    this.prox = { kind: 'none' };
  }

  /** One SGD step on the task loss, then the proximal step of the penalty (if any). */
  trainStep(): void {
    const B = this.sampler.nextInto(this.idx);
    for (let i = 0; i < B; i++) this.idx32[i] = this.idx[i];
    const h = this.hidden;
    tf.tidy(() => {
      const ix = tf.tensor1d(this.idx32.subarray(0, B), 'int32');
      const Hb = tf.gather(this.H1, ix);
      const Yb = tf.gather(this.Y, ix);
      const H2 = tf.relu(tf.matMul(Hb, this.W2));
      const Z = tf.matMul(H2, this.W3);
      // Gradient of the mean minibatch cross-entropy, scaled by α up front (see tfMlp.ts).
      const D3 = tf.mul(tf.sub(tf.softmax(Z), Yb), tf.scalar(this.lr / B));
      const D2 = tf.mul(tf.matMul(D3, this.W3T), tf.step(H2));
      const G = tf.matMul(tf.transpose(Hb), D2);
      let W: tf.Tensor2D = tf.sub(this.W2, G);
      const p = this.prox;
      if (p.kind === 'ewc') {
        W = tf.sub(W, tf.mul(tf.sub(W, p.anchor), p.shrink));
      } else if (p.kind === 'ldc') {
        const d = tf.reshape(tf.sub(W, p.anchor), [1, h * h]);
        const c = tf.mul(tf.matMul(d, p.modesT), p.shrink); // 1 × nc, shrunk coordinates
        W = tf.sub(W, tf.reshape(tf.matMul(c, p.modes), [h, h]));
      }
      this.W2.assign(W);
    });
    this.step++;
  }

  /** `n` steps; `each` (if given) is called after every step with the step count. */
  async train(n: number, each?: (step: number) => void | Promise<void>): Promise<void> {
    for (let i = 0; i < n; i++) {
      this.trainStep();
      if (each) await each(this.step);
    }
  }

  /** W2 now (a fresh array the caller owns). */
  async getW2(): Promise<Float32Array> {
    return ((await this.W2.data()) as Float32Array).slice();
  }

  /** Back to step 0 at the given W2 with the first minibatch order again (same seed). */
  reset(w2: Float32Array): void {
    this.setW2(w2);
    this.sampler.reset();
    this.step = 0;
  }

  setW2(w2: Float32Array): void {
    const h = this.hidden;
    tf.tidy(() => this.W2.assign(tf.tensor2d(w2, [h, h])));
  }

  /** H1 of the training set, read back (N × h). */
  async trainH1(): Promise<Float32Array> {
    return ((await this.H1.data()) as Float32Array).slice();
  }

  /** Logits of inputs given by their H1 rows at the current W2 (N × 10, fresh array). */
  async logits(H1: tf.Tensor2D): Promise<Float32Array> {
    const z = tf.tidy(() => tf.matMul(tf.relu(tf.matMul(H1, this.W2)), this.W3));
    try {
      return ((await z.data()) as Float32Array).slice();
    } finally {
      z.dispose();
    }
  }

  /** Logits of this task's training set at the current W2. */
  async trainLogits(): Promise<Float32Array> {
    return this.logits(this.H1);
  }

  dispose(): void {
    this.clearProximal();
    for (const t of [this.H1, this.Y, this.W3, this.W3T, this.W2]) t.dispose();
  }
}
