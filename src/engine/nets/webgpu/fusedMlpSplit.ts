/// <reference types="@webgpu/types" />
/**
 * R SGD runs of the paper's MLP on one WebGPU device with each step spread over many
 * workgroups (fusedMlpSplitWgsl.ts): two dispatches per step, all K steps of a chunk in one
 * compute pass and one submission. Meant for few runs, where FusedMlpEnsemble's one workgroup
 * per run leaves all but one multiprocessor idle; the interface is FusedMlpEnsemble's (same
 * specs, chunks, snapshots, faults), so a caller can hold either as a FusedTrainer.
 *
 * Minibatch indices come from the CPU's MinibatchSampler (one per run, the run's seed) and go
 * up once per chunk; losses (and, when asked, W2 after every step) come back once per chunk.
 */
import type { DataSplit } from '../../data/dataset';
import { MinibatchSampler, PIXEL_LUT } from '../../data/batches';
import type { MlpWeights } from '../mlp';
import { FusedGpuError, type FusedChunk, type FusedRunSpec } from './fusedMlp';
import { weightFloats } from './fusedMlpWgsl';
import {
  fusedMlpSplitWgsl,
  SPLIT_WORKGROUP,
  splitScratchFloats,
  splitUpdateGroups,
} from './fusedMlpSplitWgsl';

export interface FusedSplitOptions {
  /** Most steps in one chunk (sizes the index, step and output buffers). */
  maxChunk?: number;
  /** Whether chunks may ask for W2 snapshots (sizes the ring of W2 copies). */
  snapshots?: boolean;
  /**
   * Threads per workgroup, 256 by default (WebGPU's guaranteed minimum); more needs a device
   * requested with a higher maxComputeInvocationsPerWorkgroup.
   */
  workgroupSize?: number;
}

const U32 = 4;
type BufferName = 'steps' | 'images' | 'lut' | 'idx' | 'params' | 'weights' | 'scratch' | 'outs';

export class FusedMlpSplit {
  readonly runs: number;
  readonly hidden: number;
  readonly inputSize: number;
  readonly bmax: number;
  readonly maxChunk: number;
  readonly samplers: MinibatchSampler[] = [];
  private readonly lr: Float32Array;
  private readonly batch: Uint32Array;
  private fault: string | null = null;
  private readonly idxHost: Uint32Array<ArrayBuffer>;
  private readonly staging: GPUBuffer[] = [];
  private disposed = false;

  private constructor(
    private readonly device: GPUDevice,
    private readonly forward: GPUComputePipeline,
    private readonly update: GPUComputePipeline,
    private readonly bind: GPUBindGroup,
    private readonly buffers: Record<BufferName, GPUBuffer>,
    /** Bytes between the per-step uniform slots (the device's dynamic-offset alignment). */
    private readonly stepStride: number,
    private readonly workgroupSize: number,
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
    opts: FusedSplitOptions = {},
  ): Promise<FusedMlpSplit> {
    if (specs.length === 0) throw new Error('FusedMlpSplit: at least one run is needed');
    const hidden = specs[0].weights.hidden;
    const inputSize = specs[0].weights.W1.length / hidden;
    for (const s of specs) {
      if (s.weights.hidden !== hidden || s.weights.W1.length !== inputSize * hidden)
        throw new Error(
          `FusedMlpSplit: every run needs the same shape (h = ${hidden}); got h = ${s.weights.hidden}`,
        );
      if (!Number.isInteger(s.batchSize) || s.batchSize < 1 || s.batchSize > train.count)
        throw new Error(`FusedMlpSplit: batch size ${s.batchSize} is not in 1…${train.count}`);
    }
    if (train.images.length !== train.count * inputSize)
      throw new Error(`FusedMlpSplit: images are not ${train.count} × ${inputSize} bytes`);
    const bmax = Math.max(...specs.map((s) => s.batchSize));
    const maxChunk = opts.maxChunk ?? 64;
    const snapshots = opts.snapshots ?? false;
    const R = specs.length;
    const P = weightFloats(hidden, inputSize);
    const lim = device.limits;
    const wg = opts.workgroupSize ?? SPLIT_WORKGROUP;
    const wgMax = Math.min(lim.maxComputeInvocationsPerWorkgroup, lim.maxComputeWorkgroupSizeX);
    if (wg > wgMax)
      throw new FusedGpuError(
        `the split fused trainer asked for ${wg} threads per workgroup; this device allows ${wgMax}`,
      );
    const updateGroups = splitUpdateGroups(hidden, inputSize, wg);
    const perDim = lim.maxComputeWorkgroupsPerDimension;
    if (bmax > perDim || updateGroups > perDim || R > perDim)
      throw new FusedGpuError(
        `the split fused trainer needs ${Math.max(bmax, updateGroups, R)} workgroups in one dimension; this device allows ${perDim}`,
      );
    const outFloats = R * maxChunk * 2 + (snapshots ? R * maxChunk * hidden * hidden : 0);
    const scratch = splitScratchFloats(hidden, bmax, inputSize);
    const need = Math.max(R * P, R * scratch, outFloats) * 4;
    if (need > lim.maxStorageBufferBindingSize)
      throw new FusedGpuError(
        `the split fused trainer needs a ${(need / 2 ** 20).toFixed(0)} MiB buffer; this adapter allows ${(lim.maxStorageBufferBindingSize / 2 ** 20).toFixed(0)} MiB (fewer runs, a smaller batch or a shorter chunk)`,
      );
    const stepStride = Math.max(16, lim.minUniformBufferOffsetAlignment);

    device.pushErrorScope('validation');
    const module = device.createShaderModule({
      label: 'split fused MLP step',
      code: fusedMlpSplitWgsl(hidden, inputSize, bmax, R, wg),
    });
    const info = await module.getCompilationInfo();
    const errs = info.messages.filter((m) => m.type === 'error');
    if (errs.length) {
      await device.popErrorScope();
      throw new FusedGpuError(
        `the split fused trainer's WGSL did not compile: ${errs.map((m) => `line ${m.lineNum}: ${m.message}`).join('; ')}`,
      );
    }
    const C = GPUShaderStage.COMPUTE;
    const storage = (type: GPUBufferBindingType): Omit<GPUBindGroupLayoutEntry, 'binding'> => ({
      visibility: C,
      buffer: { type },
    });
    // One explicit layout for both entry points, so one bind group serves every dispatch; the
    // per-step uniform is bound with a dynamic offset.
    const layout = device.createBindGroupLayout({
      label: 'split fused MLP',
      entries: [
        {
          visibility: C,
          buffer: { type: 'uniform', hasDynamicOffset: true, minBindingSize: 16 },
        } satisfies Omit<GPUBindGroupLayoutEntry, 'binding'>,
        storage('read-only-storage'),
        storage('read-only-storage'),
        storage('read-only-storage'),
        storage('read-only-storage'),
        storage('storage'),
        storage('storage'),
        storage('storage'),
      ].map((e, binding) => ({ binding, ...e })),
    });
    const pipelineLayout = device.createPipelineLayout({ bindGroupLayouts: [layout] });
    const [forward, update] = await Promise.all(
      ['forward', 'update'].map((entryPoint) =>
        device.createComputePipelineAsync({
          label: `split fused MLP ${entryPoint}`,
          layout: pipelineLayout,
          compute: { module, entryPoint },
        }),
      ),
    );
    const mk = (label: string, size: number, usage: number) =>
      device.createBuffer({ label, size: Math.max(16, Math.ceil(size / 4) * 4), usage });
    const S = GPUBufferUsage.STORAGE;
    const D = GPUBufferUsage.COPY_DST;
    const buffers: Record<BufferName, GPUBuffer> = {
      steps: mk('steps', maxChunk * stepStride, GPUBufferUsage.UNIFORM | D),
      images: mk('images', train.images.length, S | D),
      lut: mk('lut+labels', (256 + train.count) * U32, S | D),
      idx: mk('indices', R * maxChunk * bmax * U32, S | D),
      params: mk('run params', R * 16, S | D),
      weights: mk('weights', R * P * 4, S | D | GPUBufferUsage.COPY_SRC),
      scratch: mk('scratch', R * scratch * 4, S),
      outs: mk('losses+W2 ring', outFloats * 4, S | GPUBufferUsage.COPY_SRC),
    };
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
    const order: BufferName[] = [
      'steps',
      'images',
      'lut',
      'idx',
      'params',
      'weights',
      'scratch',
      'outs',
    ];
    const bind = device.createBindGroup({
      layout,
      entries: order.map((name, binding) => ({
        binding,
        resource:
          name === 'steps' ? { buffer: buffers.steps, size: 16 } : { buffer: buffers[name] },
      })),
    });
    const err = await device.popErrorScope();
    if (err)
      throw new FusedGpuError(
        `the split fused trainer could not be set up on WebGPU: ${err.message}`,
      );
    const e = new FusedMlpSplit(
      device,
      forward,
      update,
      bind,
      buffers,
      stepStride,
      wg,
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
      throw new Error(`FusedMlpSplit: a chunk is 1…${this.maxChunk} steps, got ${steps}`);
    if (wantSnapshots && !this.snapshots)
      throw new Error('FusedMlpSplit: built without snapshots (pass { snapshots: true })');
    const { bmax, runs: R, stepStride } = this;
    const idx = this.idxHost;
    const one = new Uint32Array(bmax);
    // Step-major ([step][run][bmax]): the shader finds a step's indices from its number alone.
    for (let s = 0; s < steps; s++)
      for (let r = 0; r < R; r++) {
        this.samplers[r].nextInto(one);
        idx.set(one, (s * R + r) * bmax);
      }
    const q = this.device.queue;
    q.writeBuffer(this.buffers.idx, 0, idx, 0, R * steps * bmax);
    const slots = new Uint32Array((steps * stepStride) / U32);
    for (let s = 0; s < steps; s++)
      slots.set([s, steps, wantSnapshots ? 1 : 0, 0], (s * stepStride) / U32);
    q.writeBuffer(this.buffers.steps, 0, slots);
    const lossFloats = R * steps * 2;
    const floats = lossFloats + (wantSnapshots ? R * steps * this.hidden * this.hidden : 0);
    const staging = this.takeStaging(floats * 4);
    const updateGroups = splitUpdateGroups(this.hidden, this.inputSize, this.workgroupSize);
    const enc = this.device.createCommandEncoder();
    const pass = enc.beginComputePass();
    for (let s = 0; s < steps; s++) {
      pass.setBindGroup(0, this.bind, [s * stepStride]);
      pass.setPipeline(this.forward);
      pass.dispatchWorkgroups(bmax, R);
      pass.setPipeline(this.update);
      pass.dispatchWorkgroups(updateGroups, R);
    }
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
      label: 'split fused staging',
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
