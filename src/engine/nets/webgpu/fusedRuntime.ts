/// <reference types="@webgpu/types" />
/**
 * What both layouts of the fused WGSL trainer share (FusedMlpEnsemble: one workgroup per run;
 * FusedMlpSplit: each step over many workgroups): the run specs' checks, the upload of the
 * digits and weights, the per-run parameters, the chunk's index upload and result read-back,
 * the weights' read-back and the fault handling. A layout supplies its pipelines, where a
 * step's indices go, its per-chunk uniforms and the dispatches of one chunk.
 */
import type { DataSplit } from '../../data/dataset';
import { MinibatchSampler, PIXEL_LUT, type SamplingMode } from '../../data/batches';
import type { MlpWeights } from '../mlp';
import { SGD, type OptimizerSettings, type OptimizerState } from '../netTypes';
import { weightFloats } from './fusedMlpWgsl';
import { adamCorrections, momentCopies } from './fusedOptimizerWgsl';

export class FusedGpuError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'FusedGpuError';
  }
}

export interface FusedRunSpec {
  weights: MlpWeights;
  lr: number;
  batchSize: number;
  /** Sampler seed (the run's training seed). */
  seed: number;
  sampling?: SamplingMode;
  /**
   * The optimizer (default SGD): one kind, β1, β2 and ε for every run of a kernel; μ may differ.
   */
  optimizer?: OptimizerSettings;
  /** The optimizer's state to continue from (default zero: a fresh start). */
  state?: OptimizerState | null;
}

export interface FusedChunk {
  steps: number;
  /** Mean batch loss per run and step, run-major (R × steps). */
  loss: Float32Array;
  /** Misclassified samples per run and step (R × steps). */
  errors: Float32Array;
  /** W2 after every step, run-major (R × steps × h²), when the chunk asked for snapshots. */
  w2?: Float32Array;
}

export const U32 = 4;

/**
 * The buffers both layouts bind (a layout adds its own uniform buffer); momentum and Adam add
 * their moments (binding 8; Adam's per-step bias corrections follow its moments there).
 */
export type RunBuffers = Record<
  'images' | 'lut' | 'idx' | 'params' | 'weights' | 'scratch' | 'outs',
  GPUBuffer
> & { moments?: GPUBuffer };

/** The optimizer's buffer (binding 8), none for SGD. */
export function optimizerBuffers(b: RunBuffers): GPUBuffer[] {
  return b.moments ? [b.moments] : [];
}

/** The shape every run shares, checked: h, the input size and the largest B. */
export interface RunShape {
  hidden: number;
  inputSize: number;
  bmax: number;
  maxChunk: number;
  snapshots: boolean;
  /** The runs' optimizer (the first run's μ; each run's own goes in its parameters). */
  optimizer: OptimizerSettings;
}

export function checkRunSpecs(
  name: string,
  train: DataSplit,
  specs: readonly FusedRunSpec[],
  opts: { maxChunk?: number; snapshots?: boolean },
): RunShape {
  if (specs.length === 0) throw new Error(`${name}: at least one run is needed`);
  const hidden = specs[0].weights.hidden;
  const inputSize = specs[0].weights.W1.length / hidden;
  const optimizer = specs[0].optimizer ?? SGD;
  for (const s of specs) {
    const o = s.optimizer ?? SGD;
    if (
      o.kind !== optimizer.kind ||
      (o.kind === 'adam' &&
        (o.beta1 !== optimizer.beta1 ||
          o.beta2 !== optimizer.beta2 ||
          o.epsilon !== optimizer.epsilon))
    )
      throw new Error(
        `${name}: every run of a kernel needs the same optimizer (${optimizer.kind} and ${o.kind})`,
      );
    if (o.kind === 'momentum' && !(o.momentum >= 0 && o.momentum < 1))
      throw new Error(`${name}: momentum ${o.momentum} is outside [0, 1)`);
    if (s.state && s.state.moments.length !== momentCopies(o))
      throw new Error(
        `${name}: ${o.kind} keeps ${momentCopies(o)} moment sets, the start state has ${s.state.moments.length}`,
      );
    if (s.weights.hidden !== hidden || s.weights.W1.length !== inputSize * hidden)
      throw new Error(
        `${name}: every run needs the same shape (h = ${hidden}); got h = ${s.weights.hidden}`,
      );
    if (!Number.isInteger(s.batchSize) || s.batchSize < 1 || s.batchSize > train.count)
      throw new Error(`${name}: batch size ${s.batchSize} is not in 1…${train.count}`);
  }
  if (train.images.length !== train.count * inputSize)
    throw new Error(`${name}: images are not ${train.count} × ${inputSize} bytes`);
  return {
    hidden,
    inputSize,
    bmax: Math.max(...specs.map((s) => s.batchSize)),
    maxChunk: opts.maxChunk ?? 64,
    snapshots: opts.snapshots ?? false,
    optimizer,
  };
}

/** Floats of the optimizer's moments for R runs of P weights (without Adam's corrections). */
export function momentFloats(R: number, shape: RunShape): number {
  return momentCopies(shape.optimizer) * R * weightFloats(shape.hidden, shape.inputSize);
}

/** Floats of the optimizer's buffer: the moments, then Adam's two corrections per run and step. */
export function optimizerFloats(R: number, shape: RunShape): number {
  const corr = shape.optimizer.kind === 'adam' ? 2 * R * shape.maxChunk : 0;
  return momentFloats(R, shape) + corr;
}

/** Floats of the output ring: loss and errors per run and step, and W2 copies if asked. */
export function outFloats(R: number, shape: RunShape): number {
  const { maxChunk, hidden, snapshots } = shape;
  return R * maxChunk * 2 + (snapshots ? R * maxChunk * hidden * hidden : 0);
}

/** Refuses a buffer larger than the adapter binds, saying what would make it fit. */
export function checkBufferSize(label: string, bytes: number, device: GPUDevice): void {
  const max = device.limits.maxStorageBufferBindingSize;
  if (bytes > max)
    throw new FusedGpuError(
      `${label} needs a ${(bytes / 2 ** 20).toFixed(0)} MiB buffer; this adapter allows ${(max / 2 ** 20).toFixed(0)} MiB (fewer runs, a smaller batch or a shorter chunk)`,
    );
}

/**
 * The shader module, or a FusedGpuError listing the compiler's errors in `who`'s name (the
 * caller has pushed a validation error scope; it is popped on failure).
 */
export async function compileModule(
  device: GPUDevice,
  who: string,
  label: string,
  code: string,
): Promise<GPUShaderModule> {
  const module = device.createShaderModule({ label, code });
  const info = await module.getCompilationInfo();
  const errs = info.messages.filter((m) => m.type === 'error');
  if (errs.length) {
    await device.popErrorScope();
    throw new FusedGpuError(
      `${who}'s WGSL did not compile: ${errs.map((m) => `line ${m.lineNum}: ${m.message}`).join('; ')}`,
    );
  }
  return module;
}

/** The shared buffers, with the digits, the pixel table, the labels and every run's weights. */
export function createRunBuffers(
  device: GPUDevice,
  train: DataSplit,
  specs: readonly FusedRunSpec[],
  shape: RunShape,
  scratchFloats: number,
): RunBuffers {
  const { hidden, inputSize, bmax, maxChunk } = shape;
  const R = specs.length;
  const P = weightFloats(hidden, inputSize);
  const mk = (label: string, size: number, usage: number) =>
    device.createBuffer({ label, size: Math.max(16, Math.ceil(size / 4) * 4), usage });
  const S = GPUBufferUsage.STORAGE;
  const D = GPUBufferUsage.COPY_DST;
  const buffers: RunBuffers = {
    images: mk('images', train.images.length, S | D),
    lut: mk('lut+labels', (256 + train.count) * U32, S | D),
    idx: mk('indices', R * maxChunk * bmax * U32, S | D),
    params: mk('run params', R * 16, S | D),
    weights: mk('weights', R * P * 4, S | D | GPUBufferUsage.COPY_SRC),
    scratch: mk('scratch', R * scratchFloats * 4, S),
    outs: mk('losses+W2 ring', outFloats(R, shape) * 4, S | GPUBufferUsage.COPY_SRC),
  };
  const copies = momentCopies(shape.optimizer);
  if (copies > 0) {
    buffers.moments = mk(
      'optimizer moments',
      optimizerFloats(R, shape) * 4,
      S | D | GPUBufferUsage.COPY_SRC,
    );
    // Zero unless a run continues from a state (a new buffer is zeroed).
    if (specs.some((s) => s.state)) {
      const m = new Float32Array(momentFloats(R, shape));
      specs.forEach((s, r) =>
        s.state?.moments.forEach((w, c) => {
          const o = (c * R + r) * P;
          m.set(w.W1, o);
          m.set(w.W2, o + inputSize * hidden);
          m.set(w.W3, o + inputSize * hidden + hidden * hidden);
        }),
      );
      device.queue.writeBuffer(buffers.moments, 0, m);
    }
  }

  // Image bytes padded to whole u32s (writeBuffer wants a multiple of 4).
  const padded = new Uint8Array(Math.ceil(train.images.length / 4) * 4);
  padded.set(train.images);
  device.queue.writeBuffer(buffers.images, 0, padded);
  const lut = new Uint32Array(256 + train.count);
  lut.set(new Uint32Array(PIXEL_LUT.buffer, PIXEL_LUT.byteOffset, 256));
  lut.set(train.labels, 256);
  device.queue.writeBuffer(buffers.lut, 0, lut);
  const w = new Float32Array(R * P);
  specs.forEach((s, r) => {
    w.set(s.weights.W1, r * P);
    w.set(s.weights.W2, r * P + inputSize * hidden);
    w.set(s.weights.W3, r * P + inputSize * hidden + hidden * hidden);
  });
  device.queue.writeBuffer(buffers.weights, 0, w);
  return buffers;
}

export abstract class FusedRuntime {
  readonly runs: number;
  readonly hidden: number;
  readonly inputSize: number;
  readonly bmax: number;
  readonly maxChunk: number;
  readonly samplers: MinibatchSampler[] = [];
  private readonly lr: Float32Array;
  private readonly batch: Uint32Array;
  readonly optimizer: OptimizerSettings;
  /** Each run's μ (momentum). */
  private readonly mu: Float32Array;
  /** Each run's Adam step count after every chunk queued so far. */
  private readonly adamT: number[];
  private readonly snapshots: boolean;
  private fault: string | null = null;
  private readonly idxHost: Uint32Array<ArrayBuffer>;
  private readonly staging: GPUBuffer[] = [];
  private disposed = false;

  protected constructor(
    /** The class's name, for the messages of a misuse. */
    private readonly name: string,
    protected readonly device: GPUDevice,
    protected readonly buffers: RunBuffers,
    /** The layout's own buffers (its uniforms), destroyed with the rest. */
    private readonly ownBuffers: GPUBuffer[],
    train: DataSplit,
    specs: readonly FusedRunSpec[],
    shape: RunShape,
  ) {
    this.runs = specs.length;
    this.hidden = shape.hidden;
    this.inputSize = shape.inputSize;
    this.bmax = shape.bmax;
    this.maxChunk = shape.maxChunk;
    this.snapshots = shape.snapshots;
    this.lr = Float32Array.from(specs, (s) => s.lr);
    this.batch = Uint32Array.from(specs, (s) => s.batchSize);
    this.optimizer = shape.optimizer;
    this.mu = Float32Array.from(specs, (s) => (s.optimizer ?? SGD).momentum);
    this.adamT = specs.map((s) => s.state?.t ?? 0);
    this.idxHost = new Uint32Array(specs.length * shape.maxChunk * shape.bmax);
    for (const s of specs)
      this.samplers.push(new MinibatchSampler(train.count, s.batchSize, s.seed, s.sampling));
    device.lost.then((info) => {
      if (!this.disposed)
        this.fault ??= `the WebGPU device was lost (${info.message || info.reason})`;
    });
    device.addEventListener('uncapturederror', this.onError);
    this.writeParams();
  }

  /** Where run `r`'s indices for step `s` of a `steps`-step chunk start, in samples. */
  protected abstract indexOffset(r: number, s: number, steps: number): number;

  /** Writes the chunk's uniforms (its length, whether W2 is copied). */
  protected abstract writeChunkUniforms(steps: number, wantSnapshots: boolean): void;

  /** Records the chunk's dispatches into an open compute pass. */
  protected abstract encodeChunk(pass: GPUComputePassEncoder, steps: number): void;

  private readonly onError = (ev: Event): void => {
    this.fault ??= `a WebGPU error stopped the fused trainer: ${(ev as GPUUncapturedErrorEvent).error.message}`;
  };

  /** The GPU's fault, if one happened (lost device, uncaptured error). */
  get error(): string | null {
    return this.fault;
  }

  setLr(run: number, lr: number): void {
    this.lr[run] = lr;
    this.writeParams();
  }

  private writeParams(): void {
    const p = new ArrayBuffer(this.runs * 16);
    const u = new Uint32Array(p);
    const f = new Float32Array(p);
    for (let r = 0; r < this.runs; r++) {
      u[4 * r] = this.batch[r];
      f[4 * r + 1] = this.lr[r];
      if (this.optimizer.kind === 'momentum') f[4 * r + 2] = this.mu[r];
    }
    this.device.queue.writeBuffer(this.buffers.params, 0, p);
  }

  /**
   * Queues `steps` steps of every run (indices drawn now from each run's sampler) and resolves
   * with their losses once the GPU has run them. Calls may overlap: the queue runs them in order.
   */
  runChunk(steps: number, wantSnapshots = false): Promise<FusedChunk> {
    if (this.fault) return Promise.reject(new FusedGpuError(this.fault));
    if (!Number.isInteger(steps) || steps < 1 || steps > this.maxChunk)
      throw new Error(`${this.name}: a chunk is 1…${this.maxChunk} steps, got ${steps}`);
    if (wantSnapshots && !this.snapshots)
      throw new Error(`${this.name}: built without snapshots (pass { snapshots: true })`);
    const { bmax, runs: R } = this;
    const idx = this.idxHost;
    const one = new Uint32Array(bmax);
    // Each run draws its steps in order, whatever order the layout stores them in.
    for (let r = 0; r < R; r++)
      for (let s = 0; s < steps; s++) {
        this.samplers[r].nextInto(one);
        idx.set(one, this.indexOffset(r, s, steps));
      }
    const q = this.device.queue;
    q.writeBuffer(this.buffers.idx, 0, idx, 0, R * steps * bmax);
    if (this.optimizer.kind === 'adam') {
      q.writeBuffer(
        this.buffers.moments!,
        momentCopies(this.optimizer) * R * weightFloats(this.hidden, this.inputSize) * 4,
        adamCorrections(this.optimizer, this.lr, this.adamT, steps),
      );
      for (let r = 0; r < R; r++) this.adamT[r] += steps;
    }
    this.writeChunkUniforms(steps, wantSnapshots);
    const lossFloats = R * steps * 2;
    const floats = lossFloats + (wantSnapshots ? R * steps * this.hidden * this.hidden : 0);
    const staging = this.takeStaging(floats * 4);
    const enc = this.device.createCommandEncoder();
    const pass = enc.beginComputePass();
    this.encodeChunk(pass, steps);
    pass.end();
    enc.copyBufferToBuffer(this.buffers.outs, 0, staging, 0, floats * 4);
    q.submit([enc.finish()]);
    return staging.mapAsync(GPUMapMode.READ, 0, floats * 4).then(
      () => {
        const all = new Float32Array(staging.getMappedRange(0, floats * 4).slice(0));
        staging.unmap();
        this.staging.push(staging);
        const loss = new Float32Array(R * steps);
        const errors = new Float32Array(R * steps);
        for (let i = 0; i < R * steps; i++) {
          loss[i] = all[2 * i];
          errors[i] = all[2 * i + 1];
        }
        return {
          steps,
          loss,
          errors,
          w2: wantSnapshots ? all.subarray(lossFloats) : undefined,
        };
      },
      (e: unknown) => {
        staging.destroy();
        throw new FusedGpuError(
          this.fault ?? `reading the fused trainer's results failed: ${String(e)}`,
        );
      },
    );
  }

  private takeStaging(bytes: number): GPUBuffer {
    const i = this.staging.findIndex((b) => b.size >= bytes);
    if (i >= 0) return this.staging.splice(i, 1)[0];
    return this.device.createBuffer({
      label: `${this.name} staging`,
      size: Math.max(bytes, this.runs * this.maxChunk * 8),
      usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST,
    });
  }

  /** Every run's current weights, in the CPU layout (after all queued chunks). */
  async readWeights(): Promise<MlpWeights[]> {
    if (this.fault) throw new FusedGpuError(this.fault);
    const { inputSize: IN, hidden: h, runs: R } = this;
    const P = weightFloats(h, IN);
    const buf = this.device.createBuffer({
      size: R * P * 4,
      usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST,
    });
    const enc = this.device.createCommandEncoder();
    enc.copyBufferToBuffer(this.buffers.weights, 0, buf, 0, R * P * 4);
    this.device.queue.submit([enc.finish()]);
    await buf.mapAsync(GPUMapMode.READ);
    const all = new Float32Array(buf.getMappedRange().slice(0));
    buf.destroy();
    return Array.from({ length: R }, (_, r) => {
      const o = r * P;
      return {
        hidden: h,
        W1: all.slice(o, o + IN * h),
        W2: all.slice(o + IN * h, o + IN * h + h * h),
        W3: all.slice(o + IN * h + h * h, o + P),
      };
    });
  }

  /**
   * Every run's optimizer state after all queued chunks (momentum's v, Adam's m and s and its
   * step count), in the CPU layout; null for SGD, which has none.
   */
  async readOptimizerState(): Promise<OptimizerState[] | null> {
    if (this.fault) throw new FusedGpuError(this.fault);
    const src = this.buffers.moments;
    if (!src) return null;
    const { inputSize: IN, hidden: h, runs: R } = this;
    const P = weightFloats(h, IN);
    const copies = momentCopies(this.optimizer);
    const t = this.adamT.slice();
    const bytes = copies * R * P * 4;
    const buf = this.device.createBuffer({
      size: bytes,
      usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST,
    });
    const enc = this.device.createCommandEncoder();
    enc.copyBufferToBuffer(src, 0, buf, 0, bytes);
    this.device.queue.submit([enc.finish()]);
    await buf.mapAsync(GPUMapMode.READ);
    const all = new Float32Array(buf.getMappedRange().slice(0));
    buf.destroy();
    return Array.from({ length: R }, (_, r) => ({
      moments: Array.from({ length: copies }, (_, c) => {
        const o = (c * R + r) * P;
        return {
          hidden: h,
          W1: all.slice(o, o + IN * h),
          W2: all.slice(o + IN * h, o + IN * h + h * h),
          W3: all.slice(o + IN * h + h * h, o + P),
        };
      }),
      t: t[r],
    }));
  }

  dispose(): void {
    this.disposed = true;
    this.device.removeEventListener('uncapturederror', this.onError);
    for (const b of Object.values(this.buffers)) b.destroy();
    for (const b of this.ownBuffers) b.destroy();
    for (const b of this.staging) b.destroy();
    this.staging.length = 0;
  }
}
