/// <reference types="@webgpu/types" />
/**
 * One forgetting seed's task-2 runs as one GPU ensemble (forgetting/w2EnsembleKernel.ts): a
 * chunk of K steps of R runs is ONE dispatch of R workgroups (fusedW2Wgsl.ts) and one
 * submission, its losses read back once; `score` is one more dispatch. The caller draws the
 * minibatches (the seed's task-2 sampler) and hands every chunk's indices in.
 *
 * Faults: a WGSL compile or pipeline error is a FusedGpuError at `create`; device loss or an
 * uncaptured GPU error sets `error`, and every later call rejects with it.
 */
import {
  checkW2Ensemble,
  type W2EnsembleFactory,
  type W2EnsembleKernel,
  type W2EnsembleShared,
  type W2Prox,
} from '../../forgetting/w2EnsembleKernel';
import { FUSED_WORKGROUP } from './fusedMlpWgsl';
import { checkBufferSize, compileModule, FusedGpuError, U32 } from './fusedRuntime';
import {
  fusedW2ScoreWgsl,
  fusedW2StepWgsl,
  modesOffset,
  packEvalSets,
  packW2Runs,
  w2ScratchFloats,
  type W2Shape,
} from './fusedW2Wgsl';

const WHO = 'the task-2 ensemble';

export interface FusedW2Options {
  /** Threads per run (one workgroup each); by default as many as the device allows up to 1,024. */
  workgroupSize?: number;
}

interface Buffers {
  chunk: GPUBuffer;
  h1: GPUBuffer;
  consts: GPUBuffer;
  ints: GPUBuffer;
  runs: GPUBuffer;
  w2: GPUBuffer;
  scratch: GPUBuffer;
  loss: GPUBuffer;
  evalH1: GPUBuffer;
  evalInts: GPUBuffer;
  counts: GPUBuffer;
}

export class FusedW2Ensemble implements W2EnsembleKernel {
  readonly runs: number;
  private fault: string | null = null;
  private disposed = false;
  private readonly staging: GPUBuffer[] = [];
  private readonly idxHost: Uint32Array<ArrayBuffer>;

  private constructor(
    private readonly device: GPUDevice,
    private readonly shape: W2Shape,
    private readonly buffers: Buffers,
    private readonly step: { pipeline: GPUComputePipeline; bind: GPUBindGroup },
    private readonly scorer: { pipeline: GPUComputePipeline; bind: GPUBindGroup } | null,
    private readonly scoreGroups: number,
    private readonly sets: number,
    private readonly lr: number,
    runs: number,
    readonly maxChunk: number,
  ) {
    this.runs = runs;
    this.idxHost = new Uint32Array(maxChunk * shape.batchSize);
    device.lost.then((info) => {
      if (!this.disposed)
        this.fault ??= `the WebGPU device was lost (${info.message || info.reason})`;
    });
    device.addEventListener('uncapturederror', this.onError);
  }

  /** Uploads the seed's data and compiles both entry points; a compile error is a FusedGpuError. */
  static async create(
    device: GPUDevice,
    shared: W2EnsembleShared,
    runs: readonly W2Prox[],
    maxChunk: number,
    opts: FusedW2Options = {},
  ): Promise<FusedW2Ensemble> {
    checkW2Ensemble(shared, runs);
    if (!Number.isInteger(maxChunk) || maxChunk < 1)
      throw new Error(`${WHO}: a chunk is at least one step, got ${maxChunk}`);
    const h = shared.hidden;
    const R = runs.length;
    const B = shared.batchSize;
    const lim = device.limits;
    const wgMax = Math.min(lim.maxComputeInvocationsPerWorkgroup, lim.maxComputeWorkgroupSizeX);
    const wg = opts.workgroupSize ?? Math.max(FUSED_WORKGROUP, Math.min(1024, wgMax));
    if (wg > wgMax)
      throw new FusedGpuError(
        `${WHO} asked for ${wg} threads per workgroup; this device allows ${wgMax}`,
      );
    if (R > lim.maxComputeWorkgroupsPerDimension)
      throw new FusedGpuError(
        `${WHO}: ${R} runs exceed this device's ${lim.maxComputeWorkgroupsPerDimension} workgroups per dispatch`,
      );
    const shape: W2Shape = {
      hidden: h,
      batchSize: B,
      trainCount: shared.trainCount,
      modeCount: shared.modeCount,
      workgroupSize: wg,
    };
    const evalSets = packEvalSets(shared.evalSets, h);
    if (evalSets.groups > lim.maxComputeWorkgroupsPerDimension)
      throw new FusedGpuError(`${WHO}: the evaluation sets are too large to score in one dispatch`);
    const labels = Uint32Array.from({ length: shared.trainCount }, (_, i) => shared.trainLabels[i]);
    // The shader indexes a sample's logits by its label: one outside 0…9 would read past them.
    if (labels.some((y) => y >= 10)) throw new Error(`${WHO}: a training label is outside 0…9`);
    const scratch = w2ScratchFloats(h, B, shared.modeCount, wg);
    const constFloats = modesOffset(h) + shared.modes.length;
    const intCount = shared.trainCount + maxChunk * B;
    for (const [what, bytes] of [
      ['H1 of the training set', shared.trainH1.length * 4],
      ['W3, w1* and the modes', constFloats * 4],
      ['the labels and indices', intCount * U32],
      ['the runs’ W2', R * h * h * 4],
      ['the scratch', R * scratch * 4],
      ['the evaluation sets', Math.max(evalSets.h1.length, evalSets.ints.length) * 4],
    ] as const)
      checkBufferSize(`${WHO} (${what})`, bytes, device);

    device.pushErrorScope('validation');
    const mk = (label: string, floats: number, usage: number) =>
      device.createBuffer({ label, size: Math.max(16, Math.ceil(floats) * 4), usage });
    const S = GPUBufferUsage.STORAGE;
    const D = GPUBufferUsage.COPY_DST;
    const SRC = GPUBufferUsage.COPY_SRC;
    const buffers: Buffers = {
      chunk: mk('task-2 chunk', 4, GPUBufferUsage.UNIFORM | D),
      h1: mk('task-2 H1', shared.trainH1.length, S | D),
      consts: mk('task-2 W3, w1*, modes', constFloats, S | D),
      ints: mk('task-2 labels+indices', intCount, S | D),
      runs: mk('task-2 runs', packW2Runs(runs).length, S | D),
      w2: mk('task-2 W2', R * h * h, S | D | SRC),
      scratch: mk('task-2 scratch', R * scratch, S),
      loss: mk('task-2 losses', R * maxChunk, S | SRC),
      evalH1: mk('task-2 eval H1', evalSets.h1.length, S | D),
      evalInts: mk('task-2 eval sets', evalSets.ints.length, S | D),
      counts: mk('task-2 error counts', R * shared.evalSets.length * 2, S | D | SRC),
    };
    const destroyAll = () => Object.values(buffers).forEach((b) => b.destroy());
    const q = device.queue;
    // Copies: writeBuffer takes only views of a plain ArrayBuffer.
    q.writeBuffer(buffers.h1, 0, Float32Array.from(shared.trainH1));
    const consts = new Float32Array(constFloats);
    consts.set(shared.W3, 0);
    consts.set(shared.anchor, h * 10);
    consts.set(shared.modes, modesOffset(h));
    q.writeBuffer(buffers.consts, 0, consts);
    q.writeBuffer(buffers.ints, 0, labels);
    q.writeBuffer(buffers.runs, 0, packW2Runs(runs));
    const w2 = new Float32Array(R * h * h);
    for (let r = 0; r < R; r++) w2.set(shared.anchor, r * h * h);
    q.writeBuffer(buffers.w2, 0, w2);
    q.writeBuffer(buffers.evalH1, 0, evalSets.h1);
    q.writeBuffer(buffers.evalInts, 0, evalSets.ints);

    let step: { pipeline: GPUComputePipeline; bind: GPUBindGroup };
    let scorer: { pipeline: GPUComputePipeline; bind: GPUBindGroup } | null = null;
    try {
      const stepModule = await compileModule(device, WHO, 'task-2 step', fusedW2StepWgsl(shape));
      const pipeline = await device.createComputePipelineAsync({
        label: 'task-2 step',
        layout: 'auto',
        compute: { module: stepModule, entryPoint: 'main' },
      });
      const b = buffers;
      step = {
        pipeline,
        bind: bindAll(device, pipeline, [
          b.chunk,
          b.h1,
          b.consts,
          b.ints,
          b.runs,
          b.w2,
          b.scratch,
          b.loss,
        ]),
      };
      if (evalSets.groups > 0) {
        const scoreModule = await compileModule(
          device,
          WHO,
          'task-2 score',
          fusedW2ScoreWgsl(h, shared.evalSets.length),
        );
        const sp = await device.createComputePipelineAsync({
          label: 'task-2 score',
          layout: 'auto',
          compute: { module: scoreModule, entryPoint: 'score' },
        });
        scorer = {
          pipeline: sp,
          bind: bindAll(device, sp, [b.evalH1, b.evalInts, b.consts, b.w2, b.counts]),
        };
      }
    } catch (e) {
      destroyAll();
      if (e instanceof FusedGpuError) throw e; // compileModule popped the scope
      await device.popErrorScope();
      throw new FusedGpuError(
        `${WHO} could not be set up on WebGPU: ${e instanceof Error ? e.message : String(e)}`,
      );
    }
    const err = await device.popErrorScope();
    if (err) {
      destroyAll();
      throw new FusedGpuError(`${WHO} could not be set up on WebGPU: ${err.message}`);
    }
    return new FusedW2Ensemble(
      device,
      shape,
      buffers,
      step,
      scorer,
      evalSets.groups,
      shared.evalSets.length,
      shared.lr,
      R,
      maxChunk,
    );
  }

  private readonly onError = (ev: Event): void => {
    this.fault ??= `a WebGPU error stopped ${WHO}: ${(ev as GPUUncapturedErrorEvent).error.message}`;
  };

  get error(): string | null {
    return this.fault;
  }

  runChunk(indices: Uint32Array, steps: number): Promise<Float32Array> {
    if (this.fault) return Promise.reject(new FusedGpuError(this.fault));
    if (this.disposed) return Promise.reject(new Error(`${WHO} was disposed`));
    const { batchSize: B, trainCount: N } = this.shape;
    if (!Number.isInteger(steps) || steps < 1 || steps > this.maxChunk)
      return Promise.reject(new Error(`${WHO}: a chunk is 1…${this.maxChunk} steps, got ${steps}`));
    if (indices.length < steps * B)
      return Promise.reject(
        new Error(`${WHO}: ${steps} steps of B = ${B} need ${steps * B} indices`),
      );
    for (let i = 0; i < steps * B; i++)
      if (indices[i] >= N)
        return Promise.reject(
          new Error(`${WHO}: index ${indices[i]} is outside the ${N} training examples`),
        );
    const q = this.device.queue;
    // Queue-ordered: a chunk queued behind another sees its own indices, not the next one's.
    this.idxHost.set(indices.subarray(0, steps * B));
    q.writeBuffer(this.buffers.ints, N * U32, this.idxHost, 0, steps * B);
    const u = new ArrayBuffer(16);
    new Uint32Array(u)[0] = steps;
    new Float32Array(u)[1] = this.lr;
    q.writeBuffer(this.buffers.chunk, 0, u);
    const bytes = this.runs * steps * 4;
    const staging = this.takeStaging(bytes);
    const enc = this.device.createCommandEncoder();
    const pass = enc.beginComputePass();
    pass.setPipeline(this.step.pipeline);
    pass.setBindGroup(0, this.step.bind);
    pass.dispatchWorkgroups(this.runs);
    pass.end();
    enc.copyBufferToBuffer(this.buffers.loss, 0, staging, 0, bytes);
    q.submit([enc.finish()]);
    return this.read(staging, bytes, (b) => new Float32Array(b), true);
  }

  score(): Promise<Uint32Array> {
    if (this.fault) return Promise.reject(new FusedGpuError(this.fault));
    if (this.disposed) return Promise.reject(new Error(`${WHO} was disposed`));
    const bytes = this.runs * this.sets * 2 * 4;
    if (!this.scorer) return Promise.resolve(new Uint32Array(this.runs * this.sets * 2));
    const staging = this.takeStaging(bytes);
    const enc = this.device.createCommandEncoder();
    enc.clearBuffer(this.buffers.counts);
    const pass = enc.beginComputePass();
    pass.setPipeline(this.scorer.pipeline);
    pass.setBindGroup(0, this.scorer.bind);
    pass.dispatchWorkgroups(this.scoreGroups, this.runs);
    pass.end();
    enc.copyBufferToBuffer(this.buffers.counts, 0, staging, 0, bytes);
    this.device.queue.submit([enc.finish()]);
    return this.read(staging, bytes, (b) => new Uint32Array(b), true);
  }

  readW2(): Promise<Float32Array> {
    if (this.fault) return Promise.reject(new FusedGpuError(this.fault));
    if (this.disposed) return Promise.reject(new Error(`${WHO} was disposed`));
    const h = this.shape.hidden;
    const bytes = this.runs * h * h * 4;
    const buf = this.device.createBuffer({
      label: 'task-2 W2 read-back',
      size: bytes,
      usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST,
    });
    const enc = this.device.createCommandEncoder();
    enc.copyBufferToBuffer(this.buffers.w2, 0, buf, 0, bytes);
    this.device.queue.submit([enc.finish()]);
    return this.read(buf, bytes, (b) => new Float32Array(b), false);
  }

  /** Maps `buf` and copies its first `bytes` out; a staging buffer goes back to the pool. */
  private read<T>(
    buf: GPUBuffer,
    bytes: number,
    view: (b: ArrayBuffer) => T,
    pooled: boolean,
  ): Promise<T> {
    return buf.mapAsync(GPUMapMode.READ, 0, bytes).then(
      () => {
        const out = view(buf.getMappedRange(0, bytes).slice(0));
        buf.unmap();
        if (pooled && !this.disposed) this.staging.push(buf);
        else buf.destroy();
        return out;
      },
      (e: unknown) => {
        buf.destroy();
        throw new FusedGpuError(this.fault ?? `reading ${WHO}'s results failed: ${String(e)}`);
      },
    );
  }

  private takeStaging(bytes: number): GPUBuffer {
    const i = this.staging.findIndex((b) => b.size >= bytes);
    if (i >= 0) return this.staging.splice(i, 1)[0];
    return this.device.createBuffer({
      label: 'task-2 staging',
      size: Math.max(16, Math.ceil(bytes / 4) * 4, this.runs * this.maxChunk * 4),
      usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST,
    });
  }

  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    this.device.removeEventListener('uncapturederror', this.onError);
    // destroy() on a lost device's buffers is allowed and does nothing harmful.
    for (const b of Object.values(this.buffers)) b.destroy();
    for (const b of this.staging) b.destroy();
    this.staging.length = 0;
  }
}

function bindAll(
  device: GPUDevice,
  pipeline: GPUComputePipeline,
  buffers: readonly GPUBuffer[],
): GPUBindGroup {
  return device.createBindGroup({
    layout: pipeline.getBindGroupLayout(0),
    entries: buffers.map((buffer, binding) => ({ binding, resource: { buffer } })),
  });
}

/** The engine's factory for the GPU kernel on `device`. */
export function fusedW2Factory(device: GPUDevice, opts: FusedW2Options = {}): W2EnsembleFactory {
  return (shared, runs, maxChunk) => FusedW2Ensemble.create(device, shared, runs, maxChunk, opts);
}
