/**
 * Minibatch sampling and batch assembly.
 *
 * Epochs: each epoch draws a fresh seeded permutation of 0..N-1 and deals it out in consecutive
 * blocks of B. The last partial block is DROPPED, so an epoch is exactly floor(N/B) steps (the
 * paper's "N/B steps per epoch"); every index appears at most once per epoch, and exactly once
 * when B divides N (true for the defaults N = 8,000, B = 50). Because every epoch reshuffles, the
 * dropped remainder is a different random handful each time.
 *
 * With replacement (`sampling: 'replacement'`): every minibatch is B indices drawn i.i.d.
 * uniformly from 0..N-1, so an example can repeat within a batch (probability of a given index
 * appearing k times is Binomial(B, 1/N)) and consecutive batches are independent — no epoch
 * anticorrelation (Kühn & Rosenow 2023). An "epoch" is still floor(N/B) steps, so evaluation,
 * the exploration phase and the PCA window count time the same way in both modes. Each epoch
 * draws from its own generator seeded by (seed, epoch), which makes seekEpoch exact whatever
 * batch sizes earlier epochs used.
 */

import { Rng, permutation } from './rng';

/** How minibatches are drawn: a fresh permutation per epoch, or i.i.d. with replacement. */
export type SamplingMode = 'epoch' | 'replacement';
export const SAMPLING_MODES: readonly SamplingMode[] = ['epoch', 'replacement'];

/** The generator of epoch `epoch` in replacement mode (distinct streams per (seed, epoch)). */
function epochRng(seed: number, epoch: number): Rng {
  return new Rng((Math.imul(seed >>> 0, 0x9e3779b1) ^ Math.imul(epoch + 1, 0x85ebca77)) >>> 0);
}

/** Where a sampler stands (saveState): restoring it draws the same batches again. */
export interface SamplerState {
  readonly rng: Rng;
  readonly perm: Uint32Array;
  readonly cursor: number;
  readonly batchSize: number;
  readonly epoch: number;
  readonly stepInEpoch: number;
  readonly totalSteps: number;
}

export class MinibatchSampler {
  readonly count: number;
  private readonly seed: number;
  private rng: Rng;
  private perm: Uint32Array;
  /** Position in the current permutation of the next batch. */
  private cursor = 0;
  private _batchSize: number;
  private _epoch = 0;
  private _stepInEpoch = 0;
  private _totalSteps = 0;
  readonly sampling: SamplingMode;

  constructor(count: number, batchSize: number, seed: number, sampling: SamplingMode = 'epoch') {
    if (!Number.isInteger(count) || count < 1) {
      throw new Error(`MinibatchSampler: count must be a positive integer, got ${count}`);
    }
    if (!SAMPLING_MODES.includes(sampling)) {
      throw new Error(`MinibatchSampler: sampling must be epoch or replacement, got ${sampling}`);
    }
    this.count = count;
    this.seed = seed;
    this.sampling = sampling;
    this._batchSize = MinibatchSampler.checkBatch(batchSize, count);
    this.rng = sampling === 'epoch' ? new Rng(seed) : epochRng(seed, 0);
    this.perm = sampling === 'epoch' ? permutation(count, this.rng) : new Uint32Array(0);
  }

  private static checkBatch(b: number, count: number): number {
    if (!Number.isInteger(b) || b < 1 || b > count) {
      throw new Error(`MinibatchSampler: batch size must be an integer in 1..${count}, got ${b}`);
    }
    return b;
  }

  get batchSize(): number {
    return this._batchSize;
  }
  /** Completed epochs (0 during the first epoch; becomes 1 right after its last step). */
  get epoch(): number {
    return this._epoch;
  }
  /** Steps taken in the current epoch (0 right after an epoch ends). */
  get stepInEpoch(): number {
    return this._stepInEpoch;
  }
  /** floor(N / B): the last partial batch of each epoch is dropped. */
  get stepsPerEpoch(): number {
    return Math.floor(this.count / this._batchSize);
  }
  /** Steps still to draw in the current epoch at the current batch size. */
  get stepsLeftInEpoch(): number {
    return Math.floor((this.count - this.cursor) / this._batchSize);
  }
  /** Steps taken since construction or the last reset(). */
  get totalSteps(): number {
    return this._totalSteps;
  }

  /** Indices of the next minibatch, in a fresh array the caller may keep. */
  next(): Uint32Array {
    const out = new Uint32Array(this._batchSize);
    this.nextInto(out);
    return out;
  }

  /** Allocation-free variant: write the next batch's indices into out[0..B). Returns B. */
  nextInto(out: Uint32Array): number {
    const b = this._batchSize;
    if (out.length < b) {
      throw new Error(`MinibatchSampler: output holds ${out.length} indices, batch size is ${b}`);
    }
    if (this.sampling === 'epoch') out.set(this.perm.subarray(this.cursor, this.cursor + b));
    else for (let k = 0; k < b; k++) out[k] = this.rng.int(this.count);
    this.cursor += b;
    this._stepInEpoch++;
    this._totalSteps++;
    this.rollIfDone();
    return b;
  }

  /**
   * Change the batch size between steps. The current epoch continues from where it is (no index
   * is repeated within it); if fewer than B unseen indices remain, the epoch ends now.
   */
  setBatchSize(batchSize: number): void {
    this._batchSize = MinibatchSampler.checkBatch(batchSize, this.count);
    this.rollIfDone();
  }

  /**
   * Puts a fresh sampler where the same seed would be right after epoch `epoch` ended (and
   * `totalSteps` steps), so a run resumed from that epoch's checkpoint draws the batches the
   * uninterrupted run would. Exact whatever batch sizes the earlier epochs used: each epoch
   * boundary reshuffles the permutation exactly once, and nothing else touches the generator.
   */
  seekEpoch(epoch: number, totalSteps: number): void {
    if (!Number.isInteger(epoch) || epoch < 0) {
      throw new Error(`MinibatchSampler: epoch must be a non-negative integer, got ${epoch}`);
    }
    this.reset();
    if (this.sampling === 'epoch') for (let e = 0; e < epoch; e++) this.rng.shuffle(this.perm);
    else this.rng = epochRng(this.seed, epoch);
    this._epoch = epoch;
    this._totalSteps = totalSteps;
  }

  /** A copy of where the sampler stands, for restoreState (e.g. to replay batches elsewhere). */
  saveState(): SamplerState {
    return {
      rng: this.rng.clone(),
      perm: this.perm.slice(),
      cursor: this.cursor,
      batchSize: this._batchSize,
      epoch: this._epoch,
      stepInEpoch: this._stepInEpoch,
      totalSteps: this._totalSteps,
    };
  }

  /** Back to a state saved from this sampler (or one with the same count and sampling). */
  restoreState(s: SamplerState): void {
    if (s.perm.length !== this.perm.length)
      throw new Error('MinibatchSampler.restoreState: the state is from another sampler');
    this.rng = s.rng.clone();
    this.perm = s.perm.slice();
    this.cursor = s.cursor;
    this._batchSize = s.batchSize;
    this._epoch = s.epoch;
    this._stepInEpoch = s.stepInEpoch;
    this._totalSteps = s.totalSteps;
  }

  /** Back to the state right after construction (same seed → same batches again). */
  reset(): void {
    this.rng = this.sampling === 'epoch' ? new Rng(this.seed) : epochRng(this.seed, 0);
    if (this.sampling === 'epoch') this.perm = permutation(this.count, this.rng);
    this.cursor = 0;
    this._epoch = 0;
    this._stepInEpoch = 0;
    this._totalSteps = 0;
  }

  private rollIfDone(): void {
    if (this.cursor + this._batchSize > this.count) {
      if (this.sampling === 'epoch') this.rng.shuffle(this.perm);
      else this.rng = epochRng(this.seed, this._epoch + 1);
      this.cursor = 0;
      this._epoch++;
      this._stepInEpoch = 0;
    }
  }
}

/** byte → byte/255, so conversion is a table look-up. */
export const PIXEL_LUT: Float32Array = (() => {
  const t = new Float32Array(256);
  for (let i = 0; i < 256; i++) t[i] = i / 255;
  return t;
})();

/**
 * Assemble a minibatch without allocating: for k < idx.length,
 *   xOut[k·P .. (k+1)·P) = images of example idx[k] scaled to [0, 1]  (P = pixels per image)
 *   yOut: Int32Array → yOut[k] = label;  Float32Array → one-hot row k of width `numClasses`;
 *         null → labels skipped.
 * xOut / yOut may be longer than needed (rows past idx.length are left untouched).
 */
export function gatherBatch(
  images: Uint8Array,
  labels: Uint8Array,
  idx: ArrayLike<number>,
  xOut: Float32Array,
  yOut: Int32Array | Float32Array | null,
  pixels = 784,
  numClasses = 10,
): void {
  const n = idx.length;
  if (xOut.length < n * pixels) {
    throw new Error(`gatherBatch: xOut holds ${xOut.length} floats, need ${n}×${pixels}`);
  }
  const lut = PIXEL_LUT;
  for (let k = 0; k < n; k++) {
    const src = idx[k] * pixels;
    const dst = k * pixels;
    for (let p = 0; p < pixels; p++) xOut[dst + p] = lut[images[src + p]];
  }
  if (yOut === null) return;
  if (yOut instanceof Int32Array) {
    if (yOut.length < n)
      throw new Error(`gatherBatch: yOut holds ${yOut.length} labels, need ${n}`);
    for (let k = 0; k < n; k++) yOut[k] = labels[idx[k]];
  } else {
    if (yOut.length < n * numClasses) {
      throw new Error(
        `gatherBatch: one-hot yOut holds ${yOut.length} floats, need ${n}×${numClasses}`,
      );
    }
    yOut.fill(0, 0, n * numClasses);
    for (let k = 0; k < n; k++) yOut[k * numClasses + labels[idx[k]]] = 1;
  }
}

/** Whole split → floats in [0, 1] (e.g. for full-training-set loss). Reuses `out` if given. */
export function imagesToFloat32(images: Uint8Array, out?: Float32Array): Float32Array {
  const dst = out ?? new Float32Array(images.length);
  if (dst.length < images.length) {
    throw new Error(`imagesToFloat32: out holds ${dst.length} floats, need ${images.length}`);
  }
  const lut = PIXEL_LUT;
  for (let i = 0; i < images.length; i++) dst[i] = lut[images[i]];
  return dst;
}
