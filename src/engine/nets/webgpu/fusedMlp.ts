/// <reference types="@webgpu/types" />
/**
 * R independent SGD runs of the paper's MLP on one WebGPU device, stepped together: each chunk
 * of K steps is one dispatch of R workgroups (fusedMlpWgsl.ts) and one submission. Minibatch
 * indices come from the CPU's own MinibatchSampler (one per run, the run's seed), so a seed
 * means the same batches as on wasm; weights start from the caller's (initMlp), in the CPU
 * layout. Per-step losses (and, when asked, W2 after every step) come back once per chunk,
 * asynchronously: up to `inFlight` chunks may be queued before the first result is read.
 *
 * Faults: a WGSL compile or pipeline error, an uncaptured GPU error or device loss turn into a
 * FusedGpuError with the driver's words; `readWeights()` before that is the caller's way back
 * to the CPU (the last weights read stay valid).
 */
import type { DataSplit } from '../../data/dataset';
import { MinibatchSampler, PIXEL_LUT, type SamplingMode } from '../../data/batches';
import type { MlpWeights } from '../mlp';
import { FUSED_WORKGROUP, fusedMlpWgsl, scratchFloats, weightFloats } from './fusedMlpWgsl';

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

export interface FusedOptions {
  /** Most steps in one chunk (sizes the index and output buffers). */
  maxChunk?: number;
  /** Whether chunks may ask for W2 snapshots (sizes the ring of W2 copies). */
  snapshots?: boolean;
  /**
   * Threads per run (one workgroup each). By default as many as the device allows up to 1,024
   * (256 is WebGPU's guaranteed minimum; a device must be requested with a higher
   * maxComputeInvocationsPerWorkgroup to get more).
   */
  workgroupSize?: number;
  /** The tiled kernel (workgroup memory for the two 784-long products); false: plain loads. */
  tiled?: boolean;
}

const U32 = 4;

export class FusedMlpEnsemble {
  readonly runs: number;
  readonly hidden: number;
  readonly inputSize: number;
  readonly bmax: number;
  readonly maxChunk: number;
  readonly samplers: MinibatchSampler[];
  private readonly lr: Float32Array;
  private readonly batch: Uint32Array;
  private fault: string | null = null;
  private readonly idxHost: Uint32Array<ArrayBuffer>;
  private readonly staging: GPUBuffer[] = [];
  private disposed = false;

  private constructor(
    private readonly device: GPUDevice,
    private readonly pipeline: GPUComputePipeline,
    private readonly bind: GPUBindGroup,
    private readonly buffers: Record<
      'chunk' | 'images' | 'lut' | 'idx' | 'params' | 'weights' | 'scratch' | 'outs',
      GPUBuffer
    >,
    specs: readonly FusedRunSpec[],
    hidden: number,
    inputSize: number,
    bmax: number,
    maxChunk: number,
    private readonly snapshots: boolean,
  ) {
    this.runs = specs.length;
    this.hidden = hidden;
    this.inputSize = inputSize;
    this.bmax = bmax;
    this.maxChunk = maxChunk;
    this.lr = Float32Array.from(specs, (s) => s.lr);
    this.batch = Uint32Array.from(specs, (s) => s.batchSize);
    this.idxHost = new Uint32Array(specs.length * maxChunk * bmax);
    this.samplers = [];
    device.lost.then((info) => {
      if (!this.disposed)
        this.fault ??= `the WebGPU device was lost (${info.message || info.reason})`;
    });
    device.addEventListener('uncapturederror', this.onError);
  }

  /** Builds the buffers and compiles the shader; a compile error is a FusedGpuError. */
  static async create(
    device: GPUDevice,
    train: DataSplit,
    specs: readonly FusedRunSpec[],
    opts: FusedOptions = {},
  ): Promise<FusedMlpEnsemble> {
    if (specs.length === 0) throw new Error('FusedMlpEnsemble: at least one run is needed');
    const hidden = specs[0].weights.hidden;
    const inputSize = specs[0].weights.W1.length / hidden;
    for (const s of specs) {
      if (s.weights.hidden !== hidden || s.weights.W1.length !== inputSize * hidden)
        throw new Error(
          `FusedMlpEnsemble: every run needs the same shape (h = ${hidden}); got h = ${s.weights.hidden}`,
        );
      if (!Number.isInteger(s.batchSize) || s.batchSize < 1 || s.batchSize > train.count)
        throw new Error(`FusedMlpEnsemble: batch size ${s.batchSize} is not in 1…${train.count}`);
    }
    if (train.images.length !== train.count * inputSize)
      throw new Error(`FusedMlpEnsemble: images are not ${train.count} × ${inputSize} bytes`);
    const bmax = Math.max(...specs.map((s) => s.batchSize));
    const maxChunk = opts.maxChunk ?? 64;
    const snapshots = opts.snapshots ?? false;
    const R = specs.length;
    const P = weightFloats(hidden, inputSize);
    const lim = device.limits;
    const outFloats = R * maxChunk * 2 + (snapshots ? R * maxChunk * hidden * hidden : 0);
    // On an H200 one run steps 2.1× faster with 1,024 threads than with 256 (README).
    const wg =
      opts.workgroupSize ??
      Math.max(
        FUSED_WORKGROUP,
        Math.min(1024, lim.maxComputeInvocationsPerWorkgroup, lim.maxComputeWorkgroupSizeX),
      );
    if (wg > lim.maxComputeInvocationsPerWorkgroup || wg > lim.maxComputeWorkgroupSizeX)
      throw new FusedGpuError(
        `the fused trainer asked for ${wg} threads per workgroup; this device allows ${Math.min(lim.maxComputeInvocationsPerWorkgroup, lim.maxComputeWorkgroupSizeX)}`,
      );
    const scratch = scratchFloats(hidden, bmax, inputSize);
    const need = Math.max(R * P, R * scratch, outFloats) * 4;
    if (need > lim.maxStorageBufferBindingSize)
      throw new FusedGpuError(
        `the fused trainer needs a ${(need / 2 ** 20).toFixed(0)} MiB buffer; this adapter allows ${(lim.maxStorageBufferBindingSize / 2 ** 20).toFixed(0)} MiB (fewer runs or a shorter chunk)`,
      );

    device.pushErrorScope('validation');
    const module = device.createShaderModule({
      label: 'fused MLP step',
      code: fusedMlpWgsl(hidden, inputSize, bmax, wg, opts.tiled ?? true),
    });
    const info = await module.getCompilationInfo();
    const errs = info.messages.filter((m) => m.type === 'error');
    if (errs.length) {
      await device.popErrorScope();
      throw new FusedGpuError(
        `the fused trainer's WGSL did not compile: ${errs.map((m) => `line ${m.lineNum}: ${m.message}`).join('; ')}`,
      );
    }
    const pipeline = await device.createComputePipelineAsync({
      label: 'fused MLP step',
      layout: 'auto',
      compute: { module, entryPoint: 'main' },
    });
    const mk = (label: string, size: number, usage: number) =>
      device.createBuffer({ label, size: Math.max(16, Math.ceil(size / 4) * 4), usage });
    const S = GPUBufferUsage.STORAGE;
    const D = GPUBufferUsage.COPY_DST;
    const buffers = {
      chunk: mk('chunk', 16, GPUBufferUsage.UNIFORM | D),
      images: mk('images', train.images.length, S | D),
      lut: mk('lut+labels', (256 + train.count) * U32, S | D),
      idx: mk('indices', R * maxChunk * bmax * U32, S | D),
      params: mk('run params', R * 16, S | D),
      weights: mk('weights', R * P * 4, S | D | GPUBufferUsage.COPY_SRC),
      scratch: mk('scratch', R * scratch * 4, S),
      outs: mk('losses+W2 ring', outFloats * 4, S | GPUBufferUsage.COPY_SRC),
    };
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
    const bind = device.createBindGroup({
      layout: pipeline.getBindGroupLayout(0),
      entries: [
        buffers.chunk,
        buffers.images,
        buffers.lut,
        buffers.idx,
        buffers.params,
        buffers.weights,
        buffers.scratch,
        buffers.outs,
      ].map((buffer, binding) => ({ binding, resource: { buffer } })),
    });
    const err = await device.popErrorScope();
    if (err)
      throw new FusedGpuError(`the fused trainer could not be set up on WebGPU: ${err.message}`);
    const e = new FusedMlpEnsemble(
      device,
      pipeline,
      bind,
      buffers,
      specs,
      hidden,
      inputSize,
      bmax,
      maxChunk,
      snapshots,
    );
    for (const s of specs)
      e.samplers.push(new MinibatchSampler(train.count, s.batchSize, s.seed, s.sampling));
    e.writeParams();
    return e;
  }

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
      throw new Error(`FusedMlpEnsemble: a chunk is 1…${this.maxChunk} steps, got ${steps}`);
    if (wantSnapshots && !this.snapshots)
      throw new Error('FusedMlpEnsemble: built without snapshots (pass { snapshots: true })');
    const { bmax, runs: R } = this;
    const idx = this.idxHost;
    const one = new Uint32Array(bmax);
    for (let r = 0; r < R; r++)
      for (let s = 0; s < steps; s++) {
        this.samplers[r].nextInto(one);
        idx.set(one, (r * steps + s) * bmax);
      }
    const q = this.device.queue;
    q.writeBuffer(this.buffers.idx, 0, idx, 0, R * steps * bmax);
    q.writeBuffer(this.buffers.chunk, 0, new Uint32Array([steps, wantSnapshots ? 1 : 0, bmax, 0]));
    const lossFloats = R * steps * 2;
    const floats = lossFloats + (wantSnapshots ? R * steps * this.hidden * this.hidden : 0);
    const staging = this.takeStaging(floats * 4);
    const enc = this.device.createCommandEncoder();
    const pass = enc.beginComputePass();
    pass.setPipeline(this.pipeline);
    pass.setBindGroup(0, this.bind);
    pass.dispatchWorkgroups(R);
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
      label: 'fused staging',
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

  dispose(): void {
    this.disposed = true;
    this.device.removeEventListener('uncapturederror', this.onError);
    for (const b of Object.values(this.buffers)) b.destroy();
    for (const b of this.staging) b.destroy();
    this.staging.length = 0;
  }
}
