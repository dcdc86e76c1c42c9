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
 *   its steps were handed out), puts the weights read back last (with momentum or Adam, the
 *   optimizer's state read back with them) and the sampler of that moment into the CPU trainer,
 *   and the run continues there; `onFallback` says so.
 * - Optimizers: the kernel trains the run's own (SGD, momentum or Adam, configOptimizer); a
 *   rebuilt kernel (a live B) continues from the state read back last.
 * - Lanes: the trainer sees its kernel as one run's lane (FusedLane): its own one-run kernel
 *   here, or one run of an ensemble stepped with others (fusedEnsemble.ts), which may run fewer
 *   steps than asked (the chunk says how many).
 */
import type { Dataset } from '../data/dataset';
import type { MinibatchSampler, SamplerState } from '../data/batches';
import { cloneWeights, type MlpWeights } from '../nets/mlp';
import { FusedGpuError } from '../nets/webgpu/fusedMlp';
import {
  createFusedTrainer,
  type FusedLayout,
  type FusedTrainer as FusedKernel,
} from '../nets/webgpu/fusedTrainer';
import type { FusedChunk } from '../nets/webgpu/fusedRuntime';
import type { OptimizerSettings, OptimizerState } from '../nets/netTypes';
import type { RunConfig } from './config';
import {
  configOptimizer,
  type EpochRecord,
  type RunTrainer,
  type SgdTrainer,
  type TrainStepResult,
} from './training';

export const FUSED_IMPL = 'webgpu-fused';

export interface FusedTrainerOptions {
  /** Told when the run leaves the GPU for the CPU trainer, why, and what trains now. */
  onFallback: (message: string, impl: string, why: string) => void;
  /** Most steps per chunk (default 64). */
  maxChunk?: number;
  /** Called with the run's step before each chunk is queued (test builds lose the device here). */
  beforeChunk?: (step: number) => void;
  /** The kernel layout the backend choice measured faster (default one workgroup per run). */
  layout?: FusedLayout;
}

/** One run's view of a fused kernel. */
export interface FusedLane {
  readonly maxChunk: number;
  /** This run's α from the next chunk queued. */
  setLr(lr: number): void;
  /**
   * Runs up to `steps` steps of this run (an ensemble may run fewer: `chunk.steps`) drawing its
   * batches from the run's sampler; resolves with this run's losses, errors and W2 (if asked)
   * and its weights and optimizer state (null for SGD) after them. A GPU fault rejects with a
   * FusedGpuError.
   */
  run(steps: number, wantSnapshots: boolean): Promise<LaneChunk>;
  dispose(): void;
}

export interface LaneChunk {
  chunk: FusedChunk;
  weights: MlpWeights;
  state?: OptimizerState | null;
}

/** The run's optimizer and the state it continues from (null: a fresh start). */
export interface LaneOptimizer {
  settings: OptimizerSettings;
  state: OptimizerState | null;
}

/**
 * A lane for a run starting from `weights` at α = `lr` whose batches come from `sampler` (the
 * CPU trainer's, so a seed means the same batches; its batch size is the kernel's B), trained
 * by `optimizer`.
 */
export type FusedLaneFactory = (
  weights: MlpWeights,
  lr: number,
  sampler: MinibatchSampler,
  optimizer: LaneOptimizer,
) => Promise<FusedLane>;

interface ChunkStart {
  step: number;
  weights: MlpWeights;
  sampler: SamplerState;
  epoch: number;
}

export class FusedTrainer implements RunTrainer {
  private gpu: FusedLane | null;
  /** The latest weights read back from the GPU (at the end of the last chunk). */
  private current: MlpWeights;
  /** The optimizer's state read back with them (null: SGD, or no chunk yet: zero). */
  private currentState: OptimizerState | null = null;
  private readonly optimizer: OptimizerSettings;
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
    private readonly cpu: SgdTrainer,
    private readonly config: RunConfig,
    private readonly lane: FusedLaneFactory,
    gpu: FusedLane,
    initial: MlpWeights,
    private readonly opts: FusedTrainerOptions,
  ) {
    this.gpu = gpu;
    this.current = initial;
    this.optimizer = configOptimizer(config);
    this.gpuLr = cpu.lr;
    this.epochNow = cpu.epoch;
    this.maxChunk = gpu.maxChunk;
  }

  /**
   * The fused trainer for this run, or `cpu` itself (after `onFallback`) when the kernel cannot
   * be set up on this device.
   */
  static create(
    device: GPUDevice,
    cpu: SgdTrainer,
    data: Dataset,
    config: RunConfig,
    opts: FusedTrainerOptions,
  ): Promise<RunTrainer> {
    return FusedTrainer.onLane(cpu, config, singleRunLane(device, data, config, opts), opts);
  }

  /** The same on lanes from `lane` (one run of an ensemble, fusedEnsemble.ts). */
  static async onLane(
    cpu: SgdTrainer,
    config: RunConfig,
    lane: FusedLaneFactory,
    opts: FusedTrainerOptions,
  ): Promise<RunTrainer> {
    const initial = await cpu.getWeights();
    try {
      const gpu = await lane(initial, cpu.lr, cpu.sampler, {
        settings: configOptimizer(config),
        state: null,
      });
      return new FusedTrainer(cpu, config, lane, gpu, initial, opts);
    } catch (e) {
      if (!(e instanceof FusedGpuError)) throw e;
      opts.onFallback(
        `the fused WebGPU trainer could not start (${e.message}); this run trains on ${cpu.impl}`,
        cpu.impl,
        e.message,
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
        this.gpu = await this.lane(this.current, this.cpu.lr, sampler, {
          settings: this.optimizer,
          state: this.currentState,
        });
        this.gpuLr = this.cpu.lr;
      }
      this.opts.beforeChunk?.(this.cpu.step);
      const gpu = this.gpu!;
      if (this.cpu.lr !== this.gpuLr) {
        gpu.setLr(this.cpu.lr);
        this.gpuLr = this.cpu.lr;
      }
      const steps = Math.min(this.maxChunk, sampler.stepsLeftInEpoch);
      const { chunk, weights, state } = await gpu.run(steps, inWindow);
      this.current = weights;
      this.currentState = state ?? null;
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
    const net = this.cpu.net;
    const state = this.currentState;
    if (state && 'setOptimizerState' in net) net.setOptimizerState(state);
    const carried =
      this.optimizer.kind === 'momentum'
        ? ' (and momentum’s velocities)'
        : this.optimizer.kind === 'adam'
          ? ' (and Adam’s moments and step count)'
          : '';
    this.disposeGpu();
    this.chunk = null;
    this.opts.onFallback(
      `WebGPU failed at step ${from.toLocaleString('en')} (${why}); the run continues on ${this.cpu.impl} from there with the weights${carried} read back from the GPU, and every step before it is kept`,
      this.cpu.impl,
      why,
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

/** Lanes of the run's own one-run kernel (a new B builds a new one). */
function singleRunLane(
  device: GPUDevice,
  data: Dataset,
  config: RunConfig,
  opts: FusedTrainerOptions,
): FusedLaneFactory {
  return async (weights, lr, sampler, optimizer) => {
    const gpu = await createFusedTrainer(
      opts.layout ?? 'workgroup',
      device,
      data.train,
      [
        {
          weights,
          lr,
          batchSize: sampler.batchSize,
          seed: config.seed,
          sampling: config.sampling ?? 'epoch',
          optimizer: optimizer.settings,
          state: optimizer.state,
        },
      ],
      { maxChunk: opts.maxChunk ?? 64, snapshots: true },
    );
    gpu.samplers[0] = sampler;
    return oneRunLane(gpu);
  };
}

/** A one-run kernel as its run's lane. */
function oneRunLane(gpu: FusedKernel): FusedLane {
  return {
    maxChunk: gpu.maxChunk,
    setLr: (lr) => gpu.setLr(0, lr),
    async run(steps, wantSnapshots) {
      // All are queued before any is awaited: one wait per chunk.
      const [chunk, weights, state] = await Promise.all([
        gpu.runChunk(steps, wantSnapshots),
        gpu.readWeights(),
        readState(gpu),
      ]);
      // An uncaptured error during the chunk leaves its results in doubt.
      if (gpu.error) throw new FusedGpuError(gpu.error);
      return { chunk, weights: weights[0], state: state?.[0] ?? null };
    },
    dispose: () => gpu.dispose(),
  };
}

/** The kernel's optimizer state after its queued chunks; none read back for SGD. */
export function readState(gpu: FusedKernel): Promise<OptimizerState[] | null> {
  return gpu.optimizer.kind === 'sgd' ? Promise.resolve(null) : gpu.readOptimizerState();
}

/** Run `r`'s part of a chunk of `runs` runs (views, not copies). */
export function runOf(c: FusedChunk, r: number, hidden: number): FusedChunk {
  const n = c.steps;
  const dim = hidden * hidden;
  return {
    steps: n,
    loss: c.loss.subarray(r * n, (r + 1) * n),
    errors: c.errors.subarray(r * n, (r + 1) * n),
    w2: c.w2?.subarray(r * n * dim, (r + 1) * n * dim),
  };
}

function allFinite(a: Float32Array): boolean {
  for (let i = 0; i < a.length; i++) if (!Number.isFinite(a[i])) return false;
  return true;
}
