/// <reference types="@webgpu/types" />
/**
 * R independent runs (SGD, momentum or Adam: one optimizer a kernel) of the paper's MLP on one WebGPU device, stepped together: each chunk
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
import { FUSED_WORKGROUP, fusedMlpWgsl, scratchFloats, weightFloats } from './fusedMlpWgsl';
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
  type FusedRunSpec,
  type RunBuffers,
  type RunShape,
} from './fusedRuntime';

export { FusedGpuError, type FusedChunk, type FusedRunSpec } from './fusedRuntime';

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

export class FusedMlpEnsemble extends FusedRuntime {
  private constructor(
    device: GPUDevice,
    private readonly pipeline: GPUComputePipeline,
    private readonly bind: GPUBindGroup,
    buffers: RunBuffers,
    /** The chunk's uniforms: its length, whether W2 is copied, the largest B. */
    private readonly chunk: GPUBuffer,
    train: DataSplit,
    specs: readonly FusedRunSpec[],
    shape: RunShape,
  ) {
    super('FusedMlpEnsemble', device, buffers, [chunk], train, specs, shape);
  }

  /** Builds the buffers and compiles the shader; a compile error is a FusedGpuError. */
  static async create(
    device: GPUDevice,
    train: DataSplit,
    specs: readonly FusedRunSpec[],
    opts: FusedOptions = {},
  ): Promise<FusedMlpEnsemble> {
    const shape = checkRunSpecs('FusedMlpEnsemble', train, specs, opts);
    const { hidden, inputSize, bmax } = shape;
    const R = specs.length;
    const lim = device.limits;
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
    const P = weightFloats(hidden, inputSize);
    checkBufferSize(
      'the fused trainer',
      Math.max(R * P, R * scratch, outFloats(R, shape), optimizerFloats(R, shape)) * 4,
      device,
    );

    device.pushErrorScope('validation');
    const module = await compileModule(
      device,
      'the fused trainer',
      'fused MLP step',
      fusedMlpWgsl(hidden, inputSize, bmax, wg, opts.tiled ?? true, shape.optimizer),
    );
    const pipeline = await device.createComputePipelineAsync({
      label: 'fused MLP step',
      layout: 'auto',
      compute: { module, entryPoint: 'main' },
    });
    const chunk = device.createBuffer({
      label: 'chunk',
      size: 16,
      usage: GPUBufferUsage.UNIFORM | GPUBufferUsage.COPY_DST,
    });
    const buffers = createRunBuffers(device, train, specs, shape, scratch);
    const bind = device.createBindGroup({
      layout: pipeline.getBindGroupLayout(0),
      entries: [
        chunk,
        buffers.images,
        buffers.lut,
        buffers.idx,
        buffers.params,
        buffers.weights,
        buffers.scratch,
        buffers.outs,
        ...optimizerBuffers(buffers),
      ].map((buffer, binding) => ({ binding, resource: { buffer } })),
    });
    const err = await device.popErrorScope();
    if (err)
      throw new FusedGpuError(`the fused trainer could not be set up on WebGPU: ${err.message}`);
    return new FusedMlpEnsemble(device, pipeline, bind, buffers, chunk, train, specs, shape);
  }

  /** Run-major ([run][step][bmax]): each workgroup walks its own run's steps. */
  protected indexOffset(r: number, s: number, steps: number): number {
    return (r * steps + s) * this.bmax;
  }

  protected writeChunkUniforms(steps: number, wantSnapshots: boolean): void {
    this.device.queue.writeBuffer(
      this.chunk,
      0,
      new Uint32Array([steps, wantSnapshots ? 1 : 0, this.bmax, 0]),
    );
  }

  /** The whole chunk is one dispatch: one workgroup per run loops over the steps. */
  protected encodeChunk(pass: GPUComputePassEncoder): void {
    pass.setPipeline(this.pipeline);
    pass.setBindGroup(0, this.bind);
    pass.dispatchWorkgroups(this.runs);
  }
}
