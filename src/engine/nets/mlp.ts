/**
 * The paper's network: 784-h-h-10, ReLU hidden units, softmax cross-entropy, no biases.
 * Weights are row-major Float32Arrays so that x·W is a plain (B×in)·(in×out) product.
 *
 * This file also holds a plain Float32Array implementation of the forward pass, the gradient
 * and the SGD step. It is the reference the tfjs steps are tested against and the baseline the
 * benchmark compares them with.
 */
import { Rng } from '../data/rng';

export const INPUT_SIZE = 784;
export const CLASSES = 10;

export interface MlpWeights {
  hidden: number;
  W1: Float32Array; // 784 × h
  W2: Float32Array; // h × h
  W3: Float32Array; // h × 10
}

/**
 * He-uniform initialisation, U(−√(6/fan_in), √(6/fan_in)): keeps ReLU activations at unit
 * scale without biases. PyTorch's default (bound 1/√fan_in) starts ~3× smaller and, with no
 * biases, needs noticeably more epochs to leave the initial plateau.
 */
export function initMlp(hidden: number, seed: number, inputSize = INPUT_SIZE): MlpWeights {
  const rng = new Rng(seed);
  const layer = (fanIn: number, fanOut: number): Float32Array => {
    const bound = Math.sqrt(6 / fanIn);
    const w = new Float32Array(fanIn * fanOut);
    for (let i = 0; i < w.length; i++) w[i] = (2 * rng.next() - 1) * bound;
    return w;
  };
  return {
    hidden,
    W1: layer(inputSize, hidden),
    W2: layer(hidden, hidden),
    W3: layer(hidden, CLASSES),
  };
}

export function cloneWeights(w: MlpWeights): MlpWeights {
  return { hidden: w.hidden, W1: w.W1.slice(), W2: w.W2.slice(), W3: w.W3.slice() };
}

export function inputSizeOf(w: MlpWeights): number {
  return w.W1.length / w.hidden;
}

/** C (m×n) = A (m×k) · B (k×n), or C += when accumulate. i-k-j loop order keeps rows contiguous. */
export function matmul(
  a: Float32Array,
  b: Float32Array,
  m: number,
  k: number,
  n: number,
  c: Float32Array,
): void {
  c.fill(0, 0, m * n);
  for (let i = 0; i < m; i++) {
    const ci = i * n;
    const ai = i * k;
    for (let p = 0; p < k; p++) {
      const av = a[ai + p];
      if (av === 0) continue;
      const bp = p * n;
      for (let j = 0; j < n; j++) c[ci + j] += av * b[bp + j];
    }
  }
}

/** C (k×n) = Aᵀ·B for A (m×k), B (m×n). */
function matmulTA(
  a: Float32Array,
  b: Float32Array,
  m: number,
  k: number,
  n: number,
  c: Float32Array,
): void {
  c.fill(0, 0, k * n);
  for (let i = 0; i < m; i++) {
    const ai = i * k;
    const bi = i * n;
    for (let p = 0; p < k; p++) {
      const av = a[ai + p];
      if (av === 0) continue;
      const cp = p * n;
      for (let j = 0; j < n; j++) c[cp + j] += av * b[bi + j];
    }
  }
}

/** C (m×k) = A·Bᵀ for A (m×n), B (k×n). */
function matmulTB(
  a: Float32Array,
  b: Float32Array,
  m: number,
  n: number,
  k: number,
  c: Float32Array,
): void {
  for (let i = 0; i < m; i++) {
    const ai = i * n;
    for (let p = 0; p < k; p++) {
      const bp = p * n;
      let s = 0;
      for (let j = 0; j < n; j++) s += a[ai + j] * b[bp + j];
      c[i * k + p] = s;
    }
  }
}

export interface BatchStats {
  /** Mean cross-entropy over the batch (natural log). */
  loss: number;
  /** Number of misclassified samples in the batch. */
  errors: number;
}

/**
 * Mean loss and error count over `total` samples evaluated `chunk` at a time, so memory stays
 * bounded: `evalChunk(start, count)` gives the stats of samples start … start + count − 1.
 */
export async function chunkedStats(
  total: number,
  chunk: number,
  evalChunk: (start: number, count: number) => BatchStats | Promise<BatchStats>,
): Promise<BatchStats> {
  let loss = 0;
  let errors = 0;
  for (let start = 0; start < total; start += chunk) {
    const count = Math.min(chunk, total - start);
    const s = await evalChunk(start, count);
    loss += s.loss * count;
    errors += s.errors;
  }
  return { loss: loss / total, errors };
}

/**
 * Cross-entropy and error count from logits (B×10), writing softmax(logits) − onehot(y) into
 * `dLogits` when given (the gradient of the summed, not mean, loss).
 */
export function softmaxCrossEntropy(
  logits: Float32Array,
  labels: ArrayLike<number>,
  batch: number,
  dLogits?: Float32Array,
): BatchStats {
  let loss = 0;
  let errors = 0;
  for (let i = 0; i < batch; i++) {
    const o = i * CLASSES;
    let max = -Infinity;
    let arg = 0;
    for (let c = 0; c < CLASSES; c++) {
      if (logits[o + c] > max) {
        max = logits[o + c];
        arg = c;
      }
    }
    let sum = 0;
    for (let c = 0; c < CLASSES; c++) sum += Math.exp(logits[o + c] - max);
    const y = labels[i];
    loss += Math.log(sum) + max - logits[o + y];
    if (arg !== y) errors++;
    if (dLogits) {
      for (let c = 0; c < CLASSES; c++) {
        dLogits[o + c] = Math.exp(logits[o + c] - max) / sum - (c === y ? 1 : 0);
      }
    }
  }
  return { loss: loss / batch, errors };
}

/** Gradients of the mean batch loss, same layout as the weights. */
export interface MlpGradients {
  W1: Float32Array;
  W2: Float32Array;
  W3: Float32Array;
}

/**
 * Plain Float32Array forward + backward pass with preallocated buffers. Used as the reference
 * for the tfjs steps and as the benchmark baseline.
 */
export class PlainMlp {
  readonly w: MlpWeights;
  private readonly inSize: number;
  private cap = 0;
  private h1 = new Float32Array(0);
  private h2 = new Float32Array(0);
  private logits = new Float32Array(0);
  private d3 = new Float32Array(0);
  private d2 = new Float32Array(0);
  private d1 = new Float32Array(0);
  readonly grad: MlpGradients;

  constructor(weights: MlpWeights) {
    this.w = weights;
    this.inSize = inputSizeOf(weights);
    this.grad = {
      W1: new Float32Array(weights.W1.length),
      W2: new Float32Array(weights.W2.length),
      W3: new Float32Array(weights.W3.length),
    };
  }

  private ensure(batch: number): void {
    if (batch <= this.cap) return;
    const h = this.w.hidden;
    this.cap = batch;
    this.h1 = new Float32Array(batch * h);
    this.h2 = new Float32Array(batch * h);
    this.logits = new Float32Array(batch * CLASSES);
    this.d3 = new Float32Array(batch * CLASSES);
    this.d2 = new Float32Array(batch * h);
    this.d1 = new Float32Array(batch * h);
  }

  /** Loss and errors of a batch; x is B×784 in [0,1]. */
  evaluate(x: Float32Array, labels: ArrayLike<number>, batch: number): BatchStats {
    this.forward(x, batch);
    return softmaxCrossEntropy(this.logits, labels, batch);
  }

  private forward(x: Float32Array, batch: number): void {
    this.ensure(batch);
    const h = this.w.hidden;
    matmul(x, this.w.W1, batch, this.inSize, h, this.h1);
    relu(this.h1, batch * h);
    matmul(this.h1, this.w.W2, batch, h, h, this.h2);
    relu(this.h2, batch * h);
    matmul(this.h2, this.w.W3, batch, h, CLASSES, this.logits);
  }

  /** Fills `this.grad` with the gradient of the mean batch loss and returns the batch stats. */
  gradient(x: Float32Array, labels: ArrayLike<number>, batch: number): BatchStats {
    this.forward(x, batch);
    const h = this.w.hidden;
    const stats = softmaxCrossEntropy(this.logits, labels, batch, this.d3);
    const inv = 1 / batch;
    for (let i = 0; i < batch * CLASSES; i++) this.d3[i] *= inv;
    matmulTA(this.h2, this.d3, batch, h, CLASSES, this.grad.W3);
    matmulTB(this.d3, this.w.W3, batch, CLASSES, h, this.d2);
    reluBackward(this.d2, this.h2, batch * h);
    matmulTA(this.h1, this.d2, batch, h, h, this.grad.W2);
    matmulTB(this.d2, this.w.W2, batch, h, h, this.d1);
    reluBackward(this.d1, this.h1, batch * h);
    matmulTA(x, this.d1, batch, this.inSize, h, this.grad.W1);
    return stats;
  }

  /** One plain SGD step: w ← w − α·∇L^μ(w). */
  step(x: Float32Array, labels: ArrayLike<number>, batch: number, lr: number): BatchStats {
    const stats = this.gradient(x, labels, batch);
    axpy(this.w.W1, this.grad.W1, -lr);
    axpy(this.w.W2, this.grad.W2, -lr);
    axpy(this.w.W3, this.grad.W3, -lr);
    return stats;
  }
}

function relu(a: Float32Array, n: number): void {
  for (let i = 0; i < n; i++) if (a[i] < 0) a[i] = 0;
}

function reluBackward(d: Float32Array, out: Float32Array, n: number): void {
  for (let i = 0; i < n; i++) if (out[i] <= 0) d[i] = 0;
}

function axpy(y: Float32Array, x: Float32Array, a: number): void {
  for (let i = 0; i < y.length; i++) y[i] += a * x[i];
}
