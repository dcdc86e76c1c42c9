/// <reference types="@webgpu/types" />
/**
 * The page's single run on the fused WebGPU trainer (either layout, nets/webgpu/fusedTrainer.ts,
 * with one run): steps are
 * computed in chunks on the GPU and handed to trainingRun one at a time, so the run's events
 * (steps, epochs, checkpoints, the window's W2 snapshots) are those of the CPU path.
 *
 * - Same run: the minibatches come from the CPU trainer's own sampler (same seed, same B
 *   changes), the weights start from the CPU trainer's network (initMlp's layout).
 * - Chunks end where epochs end, so the per-epoch evaluation and checkpoints see the weights
 *   of exactly that step; the weights are read back after every chunk.
 * - Live α applies from the next chunk, a live B from the next chunk too (the kernel is built
 *   for one B: a new one rebuilds it).
 * - Faults: a lost device or a GPU error (FusedGpuError) discards the chunk in flight (none of
 *   its steps were handed out), puts the weights read back last and the sampler of that moment
 *   into the CPU trainer, and the run continues there; `onFallback` says so.
 */
import type { Dataset } from '../data/dataset';
import type { SamplerState } from '../data/batches';
import { cloneWeights, type MlpWeights } from '../nets/mlp';
import { FusedGpuError } from '../nets/webgpu/fusedMlp';
import {
  createFusedTrainer,
  type FusedLayout,
  type FusedTrainer as FusedKernel,
} from '../nets/webgpu/fusedTrainer';
import type { RunConfig } from './config';
import type { EpochRecord, RunTrainer, SgdTrainer, TrainStepResult } from './training';

export const FUSED_IMPL = 'webgpu-fused';

export interface FusedTrainerOptions {
  /** Told when the run leaves the GPU for the CPU trainer, why, and what trains now. */
  onFallback: (message: string, impl: string) => void;
  /** Most steps per chunk (default 64). */
  maxChunk?: number;
  /** Called with the run's step before each chunk is queued (test builds lose the device here). */
  beforeChunk?: (step: number) => void;
  /** The kernel layout the backend choice measured faster (default one workgroup per run). */
  layout?: FusedLayout;
}

interface ChunkStart {
  step: number;
  weights: MlpWeights;
  sampler: SamplerState;
  epoch: number;
}

export class FusedTrainer implements RunTrainer {
  private gpu: FusedKernel | null;
  /** The latest weights read back from the GPU (at the end of the last chunk). */
  private current: MlpWeights;
  private start: ChunkStart | null = null;
  private chunk: {
    loss: Float32Array;
    errors: Float32Array;
    w2?: Float32Array;
    steps: number;
  } | null = null;
  private at = 0;
  private endsEpoch = false;
  private epochNow: number;
  private gpuLr: number;
  private pendingB: number | null = null;
  private readonly maxChunk: number;

  private constructor(
    private readonly device: GPUDevice,
    private readonly cpu: SgdTrainer,
    private readonly data: Dataset,
    private readonly config: RunConfig,
    gpu: FusedKernel,
    initial: MlpWeights,
    private readonly opts: FusedTrainerOptions,
  ) {
    this.gpu = gpu;
    this.current = initial;
    this.gpuLr = cpu.lr;
    this.epochNow = cpu.epoch;
    this.maxChunk = gpu.maxChunk;
  }

  /**
   * The fused trainer for this run, or `cpu` itself (after `onFallback`) when the kernel cannot
   * be set up on this device.
   */
  static async create(
    device: GPUDevice,
    cpu: SgdTrainer,
    data: Dataset,
    config: RunConfig,
    opts: FusedTrainerOptions,
  ): Promise<RunTrainer> {
    const initial = await cpu.getWeights();
    try {
      const gpu = await build(device, data, config, initial, cpu.lr, cpu.sampler.batchSize, opts);
      gpu.samplers[0] = cpu.sampler;
      return new FusedTrainer(device, cpu, data, config, gpu, initial, opts);
    } catch (e) {
      if (!(e instanceof FusedGpuError)) throw e;
      opts.onFallback(
        `the fused WebGPU trainer could not start (${e.message}); this run trains on ${cpu.impl}`,
        cpu.impl,
      );
      return cpu;
    }
  }

  get impl(): string {
    return this.gpu ? FUSED_IMPL : this.cpu.impl;
  }

  get sampler(): SgdTrainer['sampler'] {
    return this.cpu.sampler;
  }

  get lr(): number {
    return this.cpu.lr;
  }

  set lr(v: number) {
    this.cpu.lr = v;
  }

  get step(): number {
    return this.cpu.step;
  }

  get epoch(): number {
    return this.gpu ? this.epochNow : this.cpu.epoch;
  }

  resumeAt(epoch: number, step: number): void {
    this.cpu.resumeAt(epoch, step);
    this.epochNow = epoch;
  }

  setBatchSize(b: number): void {
    if (this.gpu) this.pendingB = b;
    else this.cpu.setBatchSize(b);
  }

  async trainStep(wantW2: boolean, inWindow: boolean): Promise<TrainStepResult | null> {
    if (!this.gpu) return this.cpu.trainStep(wantW2);
    if (!this.chunk || this.at >= this.chunk.steps) {
      if (!(await this.nextChunk(inWindow))) return this.cpu.trainStep(wantW2);
    }
    const c = this.chunk!;
    const i = this.at++;
    const loss = c.loss[i];
    const dim = this.config.hidden ** 2;
    const w2 = wantW2 && c.w2 ? c.w2.subarray(i * dim, (i + 1) * dim) : undefined;
    if (!Number.isFinite(loss) || (w2 && !allFinite(w2))) return null;
    this.cpu.step++;
    const epochEnded = i === c.steps - 1 && this.endsEpoch;
    if (epochEnded) this.epochNow = this.start!.epoch + 1;
    return { loss, errors: c.errors[i], w2, epochEnded };
  }

  /** Runs the next chunk (to the epoch's end at most); false when the run fell back to the CPU. */
  private async nextChunk(inWindow: boolean): Promise<boolean> {
    const sampler = this.cpu.sampler;
    try {
      const newB = this.pendingB !== null && this.pendingB !== sampler.batchSize;
      if (newB) this.cpu.setBatchSize(this.pendingB!);
      this.pendingB = null;
      // Where the run stands before this chunk: the CPU trainer continues from here on a fault.
      this.start = {
        step: this.cpu.step,
        weights: this.current,
        sampler: sampler.saveState(),
        epoch: sampler.epoch,
      };
      this.epochNow = sampler.epoch;
      if (newB) {
        this.disposeGpu();
        const gpu = await build(
          this.device,
          this.data,
          this.config,
          this.current,
          this.cpu.lr,
          sampler.batchSize,
          this.opts,
        );
        gpu.samplers[0] = sampler;
        this.gpu = gpu;
        this.gpuLr = this.cpu.lr;
      }
      this.opts.beforeChunk?.(this.cpu.step);
      const gpu = this.gpu!;
      if (this.cpu.lr !== this.gpuLr) {
        gpu.setLr(0, this.cpu.lr);
        this.gpuLr = this.cpu.lr;
      }
      const steps = Math.min(this.maxChunk, sampler.stepsLeftInEpoch);
      // Both are queued before either is awaited: one wait per chunk.
      const [chunk, weights] = await Promise.all([
        gpu.runChunk(steps, inWindow),
        gpu.readWeights(),
      ]);
      // An uncaptured error during the chunk leaves its results in doubt.
      if (gpu.error) throw new FusedGpuError(gpu.error);
      this.current = weights[0];
      this.chunk = chunk;
      this.at = 0;
      this.endsEpoch = sampler.epoch !== this.start.epoch;
      return true;
    } catch (e) {
      if (!(e instanceof FusedGpuError)) throw e;
      this.fallBack(e.message);
      return false;
    }
  }

  private fallBack(why: string): void {
    const from = this.start?.step ?? this.cpu.step;
    if (this.start) this.cpu.sampler.restoreState(this.start.sampler);
    this.cpu.step = from;
    this.cpu.net.setWeights(this.current);
    this.disposeGpu();
    this.chunk = null;
    this.opts.onFallback(
      `WebGPU failed at step ${from.toLocaleString('en')} (${why}); the run continues on ${this.cpu.impl} from there with the weights read back from the GPU, and every step before it is kept`,
      this.cpu.impl,
    );
  }

  restoreCheckpoint(): number {
    if (!this.gpu || !this.start) return this.cpu.restoreCheckpoint();
    this.cpu.net.setWeights(this.start.weights);
    this.cpu.step = this.start.step;
    return this.cpu.step;
  }

  async evaluateEpoch(): Promise<EpochRecord> {
    // Chunks end at epoch ends: the weights read back last are this step's.
    if (this.gpu) this.cpu.net.setWeights(this.current);
    return this.cpu.evaluateEpoch();
  }

  async getWeights(): Promise<MlpWeights> {
    return this.gpu ? cloneWeights(this.current) : this.cpu.getWeights();
  }

  private disposeGpu(): void {
    try {
      this.gpu?.dispose();
    } catch {
      // A lost device may refuse to destroy its buffers; they go with it.
    }
    this.gpu = null;
  }

  dispose(): void {
    this.disposeGpu();
    this.cpu.dispose();
  }
}

function build(
  device: GPUDevice,
  data: Dataset,
  config: RunConfig,
  weights: MlpWeights,
  lr: number,
  batchSize: number,
  opts: FusedTrainerOptions,
): Promise<FusedKernel> {
  return createFusedTrainer(
    opts.layout ?? 'workgroup',
    device,
    data.train,
    [{ weights, lr, batchSize, seed: config.seed, sampling: config.sampling ?? 'epoch' }],
    { maxChunk: opts.maxChunk ?? 64, snapshots: true },
  );
}

function allFinite(a: Float32Array): boolean {
  for (let i = 0; i < a.length; i++) if (!Number.isFinite(a[i])) return false;
  return true;
}
