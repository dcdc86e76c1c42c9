/**
 * Several runs of one network shape and optimizer stepped together as one fused WebGPU ensemble (issue 14):
 * each run is trained by its own FusedTrainer (fusedTrainer.ts, so its events are those of the
 * CPU path, chunk by chunk) on a lane of one shared kernel of R runs, each with its own B, α,
 * seed and sampler.
 *
 * The lanes meet at two barriers. Building: the kernel is built once every member has handed
 * in its start (weights, α, the CPU trainer's sampler), or left. Stepping: a chunk is run once
 * every member still in the ensemble has asked for one; its length is the shortest asked for,
 * so every run's chunks still end where its epochs end (a run with a longer epoch just gets a
 * shorter chunk). W2 is copied in a chunk when any run is in its window.
 *
 * A member leaves when its trainer is disposed (its window ended, it diverged, it was
 * cancelled): it is then held still (α = 0) on a sampler of its own, and the others go on
 * without waiting for it. A member that asks for a second kernel (a live B change) gets a
 * FusedGpuError, so its FusedTrainer continues on the CPU. A GPU fault rejects every waiting
 * member with the FusedGpuError.
 */
import { MinibatchSampler } from '../data/batches';
import type { MlpWeights } from '../nets/mlp';
import { FusedGpuError, type FusedRunSpec } from '../nets/webgpu/fusedRuntime';
import type { FusedTrainer as FusedKernel } from '../nets/webgpu/fusedTrainer';
import {
  readState,
  runOf,
  type FusedLane,
  type FusedLaneFactory,
  type LaneChunk,
  type LaneOptimizer,
} from './fusedTrainer';

interface Joined {
  weights: MlpWeights;
  lr: number;
  sampler: MinibatchSampler;
  optimizer: LaneOptimizer;
  resolve: (lane: FusedLane) => void;
  reject: (e: unknown) => void;
}

interface Asked {
  steps: number;
  snapshots: boolean;
  resolve: (r: LaneChunk) => void;
  reject: (e: unknown) => void;
}

export class FusedEnsemble {
  private kernel: FusedKernel | null = null;
  private building = false;
  private stepping = false;
  private failure: unknown = null;
  private readonly active: Set<number>;
  private readonly joined = new Map<number, Joined>();
  /** Member → its run's index in the kernel. */
  private readonly slot = new Map<number, number>();
  private readonly asked = new Map<number, Asked>();
  /** Chunks run so far (the tests count them). */
  chunks = 0;

  /**
   * `build` makes the kernel for the members' specs (in member order); `seeds`: each member's
   * training seed (one member per seed).
   */
  constructor(
    private readonly build: (specs: FusedRunSpec[]) => Promise<FusedKernel>,
    private readonly seeds: readonly number[],
  ) {
    this.active = new Set(seeds.map((_, i) => i));
  }

  /** Member `m`'s lane factory (for FusedTrainer.onLane). */
  lane(m: number): FusedLaneFactory {
    return (weights, lr, sampler, optimizer) =>
      new Promise<FusedLane>((resolve, reject) => {
        if (this.joined.has(m) || this.kernel || this.building) {
          reject(
            new FusedGpuError(
              'a run whose batch size changed leaves the ensemble (its kernel is built for one B per run)',
            ),
          );
          return;
        }
        if (this.failure) {
          reject(this.failure);
          return;
        }
        this.joined.set(m, { weights, lr, sampler, optimizer, resolve, reject });
        void this.maybeBuild();
      });
  }

  /** Member `m` trains no more (idempotent). */
  leave(m: number): void {
    if (!this.active.delete(m)) return;
    const k = this.slot.get(m);
    if (this.kernel && k !== undefined) {
      const j = this.joined.get(m)!;
      this.kernel.setLr(k, 0);
      // Its own sampler may go back to a CPU trainer: the kernel draws from a copy from now on.
      this.kernel.samplers[k] = new MinibatchSampler(
        j.sampler.count,
        j.sampler.batchSize,
        this.seeds[m],
        j.sampler.sampling,
      );
    }
    this.asked.get(m)?.reject(new Error('the run left the ensemble'));
    this.asked.delete(m);
    if (this.active.size === 0) this.dispose();
    else {
      void this.maybeBuild();
      this.maybeStep();
    }
  }

  private async maybeBuild(): Promise<void> {
    if (this.kernel || this.building || this.failure) return;
    const members = [...this.active];
    if (members.length === 0 || !members.every((m) => this.joined.has(m))) return;
    this.building = true;
    try {
      const specs = members.map((m) => {
        const j = this.joined.get(m)!;
        return {
          weights: j.weights,
          lr: j.lr,
          batchSize: j.sampler.batchSize,
          seed: this.seeds[m],
          sampling: j.sampler.sampling,
          optimizer: j.optimizer.settings,
          state: j.optimizer.state,
        };
      });
      const kernel = await this.build(specs);
      this.kernel = kernel;
      members.forEach((m, k) => {
        this.slot.set(m, k);
        kernel.samplers[k] = this.joined.get(m)!.sampler;
      });
      for (const m of members) this.joined.get(m)!.resolve(this.memberLane(m));
      // Members that left while the kernel was built stand still in it.
      for (const m of members) if (!this.active.has(m)) this.freeze(m);
    } catch (e) {
      this.failure = e;
      for (const m of members) this.joined.get(m)!.reject(e);
    } finally {
      this.building = false;
    }
  }

  private freeze(m: number): void {
    this.active.add(m);
    this.leave(m);
  }

  private memberLane(m: number): FusedLane {
    const kernel = this.kernel!;
    const k = this.slot.get(m)!;
    return {
      maxChunk: kernel.maxChunk,
      setLr: (lr) => kernel.setLr(k, lr),
      run: (steps, snapshots) =>
        new Promise((resolve, reject) => {
          if (this.failure) return reject(this.failure);
          if (!this.active.has(m)) return reject(new Error('the run left the ensemble'));
          this.asked.set(m, { steps, snapshots, resolve, reject });
          this.maybeStep();
        }),
      dispose: () => this.leave(m),
    };
  }

  /** Runs the next chunk once every member still in has asked for one. */
  private maybeStep(): void {
    const kernel = this.kernel;
    if (!kernel || this.stepping || this.active.size === 0) return;
    for (const m of this.active) if (!this.asked.has(m)) return;
    const asked = new Map(this.asked);
    this.asked.clear();
    const steps = Math.min(...[...asked.values()].map((a) => a.steps));
    const snapshots = [...asked.values()].some((a) => a.snapshots);
    this.stepping = true;
    this.chunks++;
    void Promise.all([kernel.runChunk(steps, snapshots), kernel.readWeights(), readState(kernel)])
      .then(([chunk, weights, state]) => {
        if (kernel.error) throw new FusedGpuError(kernel.error);
        for (const [m, a] of asked) {
          const k = this.slot.get(m)!;
          a.resolve({
            chunk: runOf(chunk, k, kernel.hidden),
            weights: weights[k],
            state: state?.[k] ?? null,
          });
        }
      })
      .catch((e: unknown) => {
        this.failure = e;
        for (const a of asked.values()) a.reject(e);
      })
      .finally(() => {
        this.stepping = false;
        this.maybeStep();
      });
  }

  dispose(): void {
    try {
      this.kernel?.dispose();
    } catch {
      // A lost device may refuse to destroy its buffers; they go with it.
    }
    this.kernel = null;
    this.failure ??= new Error('the ensemble was disposed');
  }
}
