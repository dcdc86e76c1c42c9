/// <reference types="@webgpu/types" />
/**
 * R runs (SGD, momentum or Adam: one optimizer a kernel) of the paper's MLP on one WebGPU device with each step spread over many
 * workgroups (fusedMlpSplitWgsl.ts): two dispatches per step, all K steps of a chunk in one
 * compute pass and one submission. Meant for few runs, where FusedMlpEnsemble's one workgroup
 * per run leaves all but one multiprocessor idle; the interface is FusedMlpEnsemble's (same
 * specs, chunks, snapshots, faults), so a caller can hold either as a FusedTrainer.
 *
 * Minibatch indices come from the CPU's MinibatchSampler (one per run, the run's seed) and go
 * up once per chunk; losses (and, when asked, W2 after every step) come back once per chunk.
 */
import type { DataSplit } from '../../data/dataset';
import { weightFloats } from './fusedMlpWgsl';
import {
  fusedMlpSplitWgsl,
  SPLIT_WORKGROUP,
  splitScratchFloats,
  splitUpdateGroups,
} from './fusedMlpSplitWgsl';
import {
  checkBufferSize,
  checkRunSpecs,
  compileModule,
  createRunBuffers,
  FusedGpuError,
  FusedRuntime,
  optimizerFloats,
  optimizerBuffers,
  outFloats,
  U32,
  type FusedRunSpec,
  type RunBuffers,
  type RunShape,
} from './fusedRuntime';

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

export class FusedMlpSplit extends FusedRuntime {
  private readonly updateGroups: number;

  private constructor(
    device: GPUDevice,
    private readonly forward: GPUComputePipeline,
    private readonly update: GPUComputePipeline,
    private readonly bind: GPUBindGroup,
    buffers: RunBuffers,
    /** One uniform slot per step (its number, the chunk's length, whether W2 is copied). */
    private readonly steps: GPUBuffer,
    /** Bytes between the per-step uniform slots (the device's dynamic-offset alignment). */
    private readonly stepStride: number,
    workgroupSize: number,
    train: DataSplit,
    specs: readonly FusedRunSpec[],
    shape: RunShape,
  ) {
    super('FusedMlpSplit', device, buffers, [steps], train, specs, shape);
    this.updateGroups = splitUpdateGroups(shape.hidden, shape.inputSize, workgroupSize);
  }

  /** Builds the buffers and compiles the shader; a compile error is a FusedGpuError. */
  static async create(
    device: GPUDevice,
    train: DataSplit,
    specs: readonly FusedRunSpec[],
    opts: FusedSplitOptions = {},
  ): Promise<FusedMlpSplit> {
    const shape = checkRunSpecs('FusedMlpSplit', train, specs, opts);
    const { hidden, inputSize, bmax, maxChunk } = shape;
    const R = specs.length;
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
    const scratch = splitScratchFloats(hidden, bmax, inputSize);
    const P = weightFloats(hidden, inputSize);
    checkBufferSize(
      'the split fused trainer',
      Math.max(R * P, R * scratch, outFloats(R, shape), optimizerFloats(R, shape)) * 4,
      device,
    );
    const stepStride = Math.max(16, lim.minUniformBufferOffsetAlignment);

    device.pushErrorScope('validation');
    const module = await compileModule(
      device,
      'the split fused trainer',
      'split fused MLP step',
      fusedMlpSplitWgsl(hidden, inputSize, bmax, R, wg, shape.optimizer),
    );
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
        ...(shape.optimizer.kind === 'sgd' ? [] : [storage('storage')]),
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
    const steps = device.createBuffer({
      label: 'steps',
      size: maxChunk * stepStride,
      usage: GPUBufferUsage.UNIFORM | GPUBufferUsage.COPY_DST,
    });
    const buffers = createRunBuffers(device, train, specs, shape, scratch);
    const bind = device.createBindGroup({
      layout,
      entries: [
        { buffer: steps, size: 16 },
        { buffer: buffers.images },
        { buffer: buffers.lut },
        { buffer: buffers.idx },
        { buffer: buffers.params },
        { buffer: buffers.weights },
        { buffer: buffers.scratch },
        { buffer: buffers.outs },
        ...optimizerBuffers(buffers).map((buffer) => ({ buffer })),
      ].map((resource, binding) => ({ binding, resource })),
    });
    const err = await device.popErrorScope();
    if (err)
      throw new FusedGpuError(
        `the split fused trainer could not be set up on WebGPU: ${err.message}`,
      );
    return new FusedMlpSplit(
      device,
      forward,
      update,
      bind,
      buffers,
      steps,
      stepStride,
      wg,
      train,
      specs,
      shape,
    );
  }

  /** Step-major ([step][run][bmax]): the shader finds a step's indices from its number alone. */
  protected indexOffset(r: number, s: number): number {
    return (s * this.runs + r) * this.bmax;
  }

  protected writeChunkUniforms(steps: number, wantSnapshots: boolean): void {
    const { stepStride } = this;
    const slots = new Uint32Array((steps * stepStride) / U32);
    for (let s = 0; s < steps; s++)
      slots.set([s, steps, wantSnapshots ? 1 : 0, 0], (s * stepStride) / U32);
    this.device.queue.writeBuffer(this.steps, 0, slots);
  }

  /** Two dispatches a step, all in one pass: the pass orders their storage writes. */
  protected encodeChunk(pass: GPUComputePassEncoder, steps: number): void {
    for (let s = 0; s < steps; s++) {
      pass.setBindGroup(0, this.bind, [s * this.stepStride]);
      pass.setPipeline(this.forward);
      pass.dispatchWorkgroups(this.bmax, this.runs);
      pass.setPipeline(this.update);
      pass.dispatchWorkgroups(this.updateGroups, this.runs);
    }
  }
}
