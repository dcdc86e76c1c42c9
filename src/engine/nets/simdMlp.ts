/**
 * The paper's MLP (784-h-h-10, ReLU, softmax cross-entropy, no biases, plain SGD) with the whole
 * training step in WebAssembly SIMD (f32x4), assembled here in TypeScript like
 * ../pca/wasmKernels.ts: no toolchain, no binary blob, no dependency.
 *
 * Why: the tfjs step spends most of its time in per-op overhead (~31 ops for a 2.5-MFLOP step);
 * here a step is two calls into one module plus B×10 scalar softmax values in JS:
 *
 *   fwd  per sample: the input row's non-zero pixels are compacted into a list (p, x) — an
 *        MNIST digit is ~80% zeros — and H1 = relu(Σ x·W1[p]) runs over that list; likewise
 *        H2 = relu(H1·W2) and Z = H2·W3 run over the non-zero entries of H1 and H2 (ReLU
 *        zeroes about half).
 *   JS   loss, error count and D3 = (softmax(Z) − onehot)·(α/B), with exactly the float64
 *        arithmetic of softmaxCrossEntropy in ./mlp.
 *   bwd  D2 = (D3·W3ᵀ)⊙[H2>0], D1 = (D2·W2ᵀ)⊙[H1>0] (the old W3, W2; D1 over D2's non-zeros),
 *        then W3 −= H2ᵀ·D3, and W2 −= H1ᵀ·D2 and W1 −= Xᵀ·D1 over the lists: regrouped by
 *        column (a counting sort), each touched weight row is accumulated in registers over the
 *        samples, in sample order, and written once.
 *
 * The module is specialised on h: rows are padded to hp = 4·⌈h/4⌉ floats (the pad columns of
 * every weight stay exactly zero) and each row operation is unrolled over its f32x4 vectors in
 * column blocks that fit the register file. Everything is float32 with one rounding per
 * multiply and per add (no fused multiply-add, no relaxed SIMD), so a run is bit-for-bit
 * repeatable; PlainMlp and the tfjs step agree to float32 rounding.
 *
 * `stepIndices` / `evaluateSplit` read a split's pixel bytes directly (b/255 in float32, the
 * same values as PIXEL_LUT): building the float batch in JS (fillBatch) costs about as much as
 * this whole step.
 *
 * Where WebAssembly SIMD is missing or a Content-Security-Policy forbids compiling,
 * `SimdMlp.available()` is false and the caller keeps to the tfjs step.
 */
import { CLASSES, chunkedStats, type BatchStats, type MlpWeights } from './mlp';
import type { DataSplit } from '../data/dataset';
import type { StepResult, UploadBatch } from './netTypes';
import { DEFAULT_BLOCK, stepModule, type StepExports } from './simdStep/codegen';
import {
  INITIAL_CAPACITY,
  PAGE,
  ZW,
  grownCapacity,
  stepLayout,
  stepShape,
  type Layout,
  type StepShape,
} from './simdStep/layout';

/** Anything with a shape and a synchronous read-back, e.g. a tf.Tensor2D (see evaluateResident). */
export interface ResidentInputs {
  readonly shape: readonly number[];
  dataSync(): ArrayLike<number>;
}

export type SimdImpl = 'wasm-simd';

export interface SimdMlpOptions {
  /** Widest column block in f32x4 vectors (default 7; for benchmarks). */
  maxBlock?: number;
}

const probed = new Map<number, boolean>();

export class SimdMlp {
  readonly hidden: number;
  readonly inputSize: number;
  readonly impl: SimdImpl = 'wasm-simd';
  private readonly shape: StepShape;
  private readonly hp: number;
  /** Input row stride in bytes (the input padded to a multiple of 4 floats). */
  private readonly xStride: number;
  /** Byte-input row stride (the input padded to a multiple of 16 bytes). */
  private readonly xbStride: number;
  private readonly memory: WebAssembly.Memory;
  private readonly k: StepExports;
  private lay: Layout;
  private f32: Float32Array;
  private u8: Uint8Array;
  /** Labels of a stepIndices batch. */
  private labels = new Int32Array(INITIAL_CAPACITY);
  private readonly exps = new Float64Array(CLASSES);
  private disposed = false;

  /**
   * Whether the step module for this hidden width compiles and runs here: false without
   * WebAssembly SIMD or under a Content-Security-Policy that forbids compiling wasm (and, on
   * a browser's main thread, where synchronous compilation of a module this size is refused).
   */
  static available(hidden = 50): boolean {
    const hit = probed.get(hidden);
    if (hit !== undefined) return hit;
    let ok: boolean;
    try {
      // One real step on a 2-sample batch: compiles, instantiates and runs both kernels.
      const n = 6;
      const w: MlpWeights = {
        hidden,
        W1: new Float32Array(n * hidden).map((_, i) => ((i % 7) - 3) / 4),
        W2: new Float32Array(hidden * hidden).map((_, i) => ((i % 5) - 2) / 3),
        W3: new Float32Array(hidden * CLASSES).map((_, i) => ((i % 3) - 1) / 2),
      };
      const net = new SimdMlp(w);
      const x = new Float32Array([0, 1, 0.5, 0, 0, 0.25, 1, 0, 0, 0, 0.75, 0.5]);
      const batch: UploadBatch = {
        size: 2,
        x,
        xT: x,
        labels: new Int32Array([3, 7]),
        oneHot: new Float32Array(20),
      };
      const s = net.stepSync(batch, 0.1);
      const after = net.getWeightsSync();
      net.dispose();
      ok = Number.isFinite(s.loss) && after.W2.every(Number.isFinite);
    } catch {
      ok = false;
    }
    probed.set(hidden, ok);
    return ok;
  }

  constructor(weights: MlpWeights, options: SimdMlpOptions = {}) {
    const h = weights.hidden;
    if (!Number.isInteger(h) || h < 1) throw new Error(`SimdMlp: bad hidden width ${h}`);
    const n = weights.W1.length / h;
    if (!Number.isInteger(n) || n < 1)
      throw new Error(`SimdMlp: W1 has ${weights.W1.length} weights for h = ${h}`);
    if (weights.W2.length !== h * h || weights.W3.length !== h * CLASSES) {
      throw new Error(`SimdMlp: W2/W3 do not match h = ${h}`);
    }
    const mod = stepModule(h, options.maxBlock ?? DEFAULT_BLOCK);
    if (!mod) throw new Error('SimdMlp: WebAssembly SIMD is not available here');
    this.hidden = h;
    this.inputSize = n;
    this.shape = stepShape(h, n);
    this.hp = this.shape.hp;
    this.xStride = this.shape.xStride;
    this.xbStride = this.shape.xbStride;
    this.lay = stepLayout(this.shape, INITIAL_CAPACITY);
    this.memory = new WebAssembly.Memory({ initial: Math.ceil(this.lay.end / PAGE) });
    const inst = new WebAssembly.Instance(mod, { env: { memory: this.memory } });
    this.k = inst.exports as unknown as StepExports;
    this.f32 = new Float32Array(this.memory.buffer);
    this.u8 = new Uint8Array(this.memory.buffer);
    this.setWeights(weights);
  }

  /** Room for batches of `batch` samples (the weights stay where they are). */
  private ensure(batch: number): void {
    if (batch <= this.lay.cap) return;
    const lay = stepLayout(this.shape, grownCapacity(this.lay.cap, batch));
    if (lay.end >= 0x7fff0000) throw new Error(`SimdMlp: batch of ${batch} does not fit in memory`);
    const have = this.memory.buffer.byteLength;
    if (lay.end > have) this.memory.grow(Math.ceil((lay.end - have) / PAGE));
    this.lay = lay;
    this.f32 = new Float32Array(this.memory.buffer);
    this.u8 = new Uint8Array(this.memory.buffer);
    if (this.labels.length < lay.cap) this.labels = new Int32Array(lay.cap);
    // Relocated regions must start clean (the input's pad columns are never written).
    this.f32.fill(0, lay.varStart >> 2, lay.end >> 2);
  }

  /** Copies `count` input rows (row-major, inputSize floats each) to the x region. */
  private loadInputs(src: Float32Array, from: number, count: number): void {
    const n = this.inputSize;
    const base = this.lay.x >> 2;
    if (this.xStride === 4 * n) {
      this.f32.set(src.subarray(from * n, (from + count) * n), base);
    } else {
      const stride = this.xStride >> 2;
      for (let s = 0; s < count; s++) {
        this.f32.set(src.subarray((from + s) * n, (from + s + 1) * n), base + s * stride);
      }
    }
  }

  private forward(count: number, keep: boolean, bytes = false): void {
    const L = this.lay;
    (bytes ? this.k.fwdU8 : this.k.fwd)(
      count,
      bytes ? this.xbStride >> 4 : this.xStride >> 4,
      bytes ? L.xb : L.x,
      bytes ? this.xbStride : this.xStride,
      L.w1,
      L.w2,
      L.w3,
      L.xl,
      L.rsx,
      L.hl,
      L.rsh,
      L.h1,
      L.h2,
      L.z,
      L.tl,
      keep ? 1 : 0,
    );
  }

  /**
   * Loss and errors from the logits of `count` samples (the float64 arithmetic of
   * softmaxCrossEntropy); with a `scale` (not null), also writes D3 = (softmax − onehot)·scale.
   * Returns the summed (not mean) loss.
   */
  private softmax(
    labels: ArrayLike<number>,
    labelFrom: number,
    count: number,
    scale: number | null,
  ): BatchStats {
    const f = this.f32;
    const ex = this.exps;
    const z0 = this.lay.z >> 2;
    const d0 = this.lay.d3 >> 2;
    let loss = 0;
    let errors = 0;
    for (let i = 0; i < count; i++) {
      const o = z0 + i * ZW;
      let max = -Infinity;
      let arg = 0;
      for (let c = 0; c < CLASSES; c++) {
        if (f[o + c] > max) {
          max = f[o + c];
          arg = c;
        }
      }
      let sum = 0;
      for (let c = 0; c < CLASSES; c++) {
        const v = Math.exp(f[o + c] - max);
        ex[c] = v;
        sum += v;
      }
      const y = labels[labelFrom + i];
      loss += Math.log(sum) + max - f[o + y];
      if (arg !== y) errors++;
      if (scale !== null) {
        const d = d0 + i * ZW;
        for (let c = 0; c < CLASSES; c++) f[d + c] = (ex[c] / sum - (c === y ? 1 : 0)) * scale;
        f[d + 10] = 0;
        f[d + 11] = 0;
      }
    }
    return { loss, errors };
  }

  /**
   * One SGD step on the given batch at learning rate lr. Returns the minibatch loss and error
   * count measured before the update and W2 after it (a fresh array the caller owns).
   */
  async step(batch: UploadBatch, lr: number): Promise<StepResult> {
    const stats = this.stepSync(batch, lr);
    return { ...stats, w2: this.readW2() };
  }

  /** The step without the promise or the W2 copy (benchmarks, tests). */
  stepSync(batch: UploadBatch, lr: number): BatchStats {
    this.live();
    const B = batch.size;
    if (!(B >= 1)) throw new Error(`SimdMlp: empty batch`);
    this.ensure(B);
    this.loadInputs(batch.x, 0, B);
    this.forward(B, true);
    const s = this.softmax(batch.labels, 0, B, lr / B);
    this.backward(B);
    return { loss: s.loss / B, errors: s.errors };
  }

  /** The backward pass and the update, after forward(B, keep) and softmax with a scale. */
  private backward(B: number): void {
    const L = this.lay;
    this.k.bwd(
      B,
      this.inputSize,
      L.w1,
      L.w2,
      L.w2t,
      L.w3,
      L.w3t,
      L.h1,
      L.h2,
      L.d3,
      L.d2,
      L.d1,
      L.rsx,
      L.rsh,
      L.tl,
      L.cntx,
      L.cscx,
      L.cnth,
      L.csch,
      L.w2out,
    );
  }

  /**
   * One SGD step on the samples `idx[0..count)` of a split, read straight from its pixel bytes:
   * the same step as fillBatch + step(), bit for bit (b/255 in float32 is PIXEL_LUT[b]), without
   * building the float batch (its xT and one-hot rows) in JS, which costs more than the step.
   */
  async stepIndices(
    split: DataSplit,
    idx: ArrayLike<number>,
    count: number,
    lr: number,
  ): Promise<StepResult> {
    const stats = this.stepIndicesSync(split, idx, count, lr);
    return { ...stats, w2: this.readW2() };
  }

  stepIndicesSync(split: DataSplit, idx: ArrayLike<number>, count: number, lr: number): BatchStats {
    this.live();
    const P = this.checkSplit(split);
    if (!(count >= 1)) throw new Error(`SimdMlp: empty batch`);
    this.ensure(count);
    const { images, labels } = split;
    const base = this.lay.xb;
    for (let i = 0; i < count; i++) {
      const s = idx[i] * P;
      this.u8.set(images.subarray(s, s + P), base + i * this.xbStride);
      this.labels[i] = labels[idx[i]];
    }
    this.forward(count, true, true);
    const s = this.softmax(this.labels, 0, count, lr / count);
    this.backward(count);
    return { loss: s.loss / count, errors: s.errors };
  }

  /** Loss and error count of samples [start, start + count) of a split, from its pixel bytes. */
  async evaluateSplit(
    split: DataSplit,
    start = 0,
    count = split.count - start,
  ): Promise<BatchStats> {
    this.live();
    const P = this.checkSplit(split);
    const cap = this.lay.cap;
    const base = this.lay.xb;
    let loss = 0;
    let errors = 0;
    for (let from = start; from < start + count; from += cap) {
      const m = Math.min(cap, start + count - from);
      if (this.xbStride === P) {
        this.u8.set(split.images.subarray(from * P, (from + m) * P), base);
      } else {
        for (let i = 0; i < m; i++) {
          const s = (from + i) * P;
          this.u8.set(split.images.subarray(s, s + P), base + i * this.xbStride);
        }
      }
      this.forward(m, false, true);
      const s = this.softmax(split.labels, from, m, null);
      loss += s.loss;
      errors += s.errors;
    }
    return { loss: loss / count, errors };
  }

  private checkSplit(split: DataSplit): number {
    const P = split.images.length / split.count;
    if (P !== this.inputSize) {
      throw new Error(`SimdMlp: the split has ${P} pixels an image, the network ${this.inputSize}`);
    }
    return P;
  }

  /** Loss and error count of `count` samples in row-major `x` (inputSize floats each). */
  evaluateArray(x: ArrayLike<number>, labels: ArrayLike<number>, count: number): BatchStats {
    this.live();
    const src = x instanceof Float32Array ? x : Float32Array.from(x);
    const cap = this.lay.cap;
    let loss = 0;
    let errors = 0;
    for (let from = 0; from < count; from += cap) {
      const m = Math.min(cap, count - from);
      this.loadInputs(src, from, m);
      this.forward(m, false);
      const s = this.softmax(labels, from, m, null);
      loss += s.loss;
      errors += s.errors;
    }
    return { loss: loss / count, errors };
  }

  /** Loss and error count of resident inputs (e.g. a tf.Tensor2D [count, inputSize]). */
  async evaluateResident(X: ResidentInputs, labels: ArrayLike<number>): Promise<BatchStats> {
    const [count, n] = X.shape;
    if (n !== this.inputSize)
      throw new Error(`SimdMlp: inputs have ${n} columns, expected ${this.inputSize}`);
    return this.evaluateArray(X.dataSync(), labels, count);
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
    return chunkedStats(total, chunk, (start, count) => {
      fill(start, count, scratch);
      return this.evaluateArray(scratch.x, scratch.labels, count);
    });
  }

  /** W2 as packed by the last step (bwd writes it to w2out). */
  private readW2(): Float32Array {
    const at = this.lay.w2out >> 2;
    return this.f32.slice(at, at + this.hidden * this.hidden);
  }

  /** rows × cols floats from a padded region (row stride `stride` floats) into `out`. */
  private unpad(at: number, rows: number, cols: number, stride: number, out: Float32Array): void {
    const f = this.f32;
    let src = at >> 2;
    if (cols === stride) {
      out.set(f.subarray(src, src + rows * cols));
      return;
    }
    let dst = 0;
    for (let r = 0; r < rows; r++, src += stride)
      for (let c = 0; c < cols; c++) out[dst++] = f[src + c];
  }

  private pad(src: Float32Array, at: number, rows: number, cols: number, stride: number): void {
    const f = this.f32;
    const base = at >> 2;
    if (cols === stride) {
      f.set(src.subarray(0, rows * cols), base);
      return;
    }
    for (let r = 0; r < rows; r++) {
      f.set(src.subarray(r * cols, (r + 1) * cols), base + r * stride);
    }
  }

  async getWeights(): Promise<MlpWeights> {
    return this.getWeightsSync();
  }

  getWeightsSync(): MlpWeights {
    this.live();
    const h = this.hidden;
    const W1 = new Float32Array(this.inputSize * h);
    const W2 = new Float32Array(h * h);
    const W3 = new Float32Array(h * CLASSES);
    this.unpad(this.lay.w1, this.inputSize, h, this.hp, W1);
    this.unpad(this.lay.w2, h, h, this.hp, W2);
    this.unpad(this.lay.w3, h, CLASSES, ZW, W3);
    return { hidden: h, W1, W2, W3 };
  }

  setWeights(w: MlpWeights): void {
    this.live();
    const h = this.hidden;
    if (
      w.hidden !== h ||
      w.W1.length !== this.inputSize * h ||
      w.W2.length !== h * h ||
      w.W3.length !== h * CLASSES
    ) {
      throw new Error('SimdMlp.setWeights: shapes do not match the network');
    }
    const L = this.lay;
    // Pads must be exactly zero: they are what keeps the padded columns out of every product.
    this.f32.fill(0, L.w1 >> 2, L.varStart >> 2);
    this.pad(w.W1, L.w1, this.inputSize, h, this.hp);
    this.pad(w.W2, L.w2, h, h, this.hp);
    this.pad(w.W3, L.w3, h, CLASSES, ZW);
    this.f32.set(w.W2, L.w2out >> 2);
  }

  dispose(): void {
    this.disposed = true;
  }

  private live(): void {
    if (this.disposed) throw new Error('SimdMlp: used after dispose()');
  }
}
