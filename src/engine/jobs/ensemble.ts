/**
 * A sweep's runs of one network shape trained together on the fused WebGPU ensemble (issue 14),
 * and the hand-over of each run's window to its analysis elsewhere (the page's pool).
 *
 * `runEnsembleJob` trains every run as `trainWindow` does (same sampler, same initial weights,
 * the same events: fusedEnsemble.ts) and hands each run's window out as plain data the moment it
 * ends (`EnsembleWindow`, whose `snapshots` buffer may be transferred); `analyseWindow` turns
 * one back into the run's summary — the summary summariseRun gives for the run trained alone.
 *
 * Faults: a GPU fault (a lost device, an uncaptured error, a kernel that cannot be built) stops
 * the whole job with a FusedGpuError whose message says why; windows already handed out stay
 * valid, and the caller continues the other runs elsewhere, each from the last checkpoint it
 * was told of (`onResumePoint`). A run that diverges fails alone.
 */
import type { Dataset } from '../data/dataset';
import type { MlpWeights } from '../nets/mlp';
import { FusedGpuError, type FusedRunSpec } from '../nets/webgpu/fusedRuntime';
import type { FusedTrainer as FusedKernel } from '../nets/webgpu/fusedTrainer';
import type { RunConfig } from '../experiments/config';
import { ensembleProblem } from '../experiments/ensemblePlan';
import { FusedEnsemble } from '../experiments/fusedEnsemble';
import { FusedTrainer } from '../experiments/fusedTrainer';
import {
  summariseWindow,
  trainWindow,
  type RunResumePoint,
  type RunSummary,
  type SweepOptions,
  type SweepProgress,
} from '../experiments/sweeps';
import type { EpochRecord } from '../experiments/training';
import { SnapshotWindow } from '../pca/snapshotWindow';

/** One run's trained window as plain data (a worker message). */
export interface EnsembleWindow {
  /** W2 snapshots back to back (count × h²). */
  snapshots: Float32Array;
  count: number;
  first: number;
  stride: number;
  weights: MlpWeights;
  last: EpochRecord | null;
  trainSeconds: number;
}

export interface EnsembleJobOptions {
  signal?: AbortSignal;
  yieldEvery?: () => Promise<void>;
  /** Progress of run `member` (its index in `configs`). */
  onProgress?: (member: number, p: SweepProgress) => void;
  onWindow: (member: number, w: EnsembleWindow) => void;
  onRunFailed: (member: number, message: string) => void;
  /**
   * Each checkpoint run `member` could continue from elsewhere (its warm-up's, and its window's
   * start): after a GPU fault, the caller resumes the run from the last one it heard.
   */
  onResumePoint?: (member: number, p: RunResumePoint) => void;
  /** Steps per chunk (default 64). */
  maxChunk?: number;
}

/**
 * Trains `configs` (one shape and optimizer: ensembleProblem) as one ensemble on the kernel
 * `build` makes; resolves once every run has handed out its window or failed.
 */
export async function runEnsembleJob(
  configs: readonly RunConfig[],
  data: Dataset,
  build: (specs: FusedRunSpec[]) => Promise<FusedKernel>,
  opts: EnsembleJobOptions,
): Promise<void> {
  const problem = ensembleProblem(configs);
  if (problem) throw new Error(problem);
  const ensemble = new FusedEnsemble(
    build,
    configs.map((c) => c.seed),
  );
  // A GPU fault stops every run: they are trained elsewhere, not one by one on this core.
  let gpuFault: string | null = null;
  const stop = new AbortController();
  const signal = opts.signal ? AbortSignal.any([opts.signal, stop.signal]) : stop.signal;
  const sweep: SweepOptions = { signal, yieldEvery: opts.yieldEvery };
  await Promise.all(
    configs.map(async (config, m) => {
      try {
        const trained = await trainWindow(
          config,
          data,
          {
            ...sweep,
            onProgress: (p) => opts.onProgress?.(m, p),
            onResumePoint: opts.onResumePoint && ((p) => opts.onResumePoint?.(m, p)),
          },
          m,
          configs.length,
          (cpu) =>
            FusedTrainer.onLane(cpu, config, ensemble.lane(m), {
              maxChunk: opts.maxChunk,
              onFallback: (_note, _impl, why) => {
                gpuFault ??= why;
                stop.abort();
              },
            }),
        );
        const { win } = trained;
        const dim = win.dim;
        const snapshots = new Float32Array(win.count * dim);
        for (let t = 0; t < win.count; t++) snapshots.set(win.snapshot(t), t * dim);
        opts.onWindow(m, {
          snapshots,
          count: win.count,
          first: trained.first,
          stride: trained.stride,
          weights: trained.weights,
          last: trained.last,
          trainSeconds: trained.trainSeconds,
        });
      } catch (e) {
        if (signal.aborted) return;
        opts.onRunFailed(m, e instanceof Error ? e.message : String(e));
      } finally {
        // A run that failed before its trainer joined must not hold the others at the barrier.
        ensemble.leave(m);
      }
    }),
  );
  ensemble.dispose();
  opts.signal?.throwIfAborted();
  if (gpuFault !== null) throw new FusedGpuError(gpuFault);
}

/** A handed-out window's analysis: the run's summary, as summariseRun gives it. */
export function analyseWindow(
  config: RunConfig,
  data: Dataset,
  w: EnsembleWindow,
  opts: SweepOptions = {},
  index = 0,
  runs = 1,
): Promise<RunSummary> {
  const dim = config.hidden * config.hidden;
  if (w.snapshots.length !== w.count * dim)
    throw new Error(
      `the window holds ${w.snapshots.length} floats, not ${w.count} snapshots of ${dim}`,
    );
  const win = new SnapshotWindow(dim, { maxSnapshots: Math.max(1, w.count) });
  win.addBatch(w.snapshots, w.count);
  return summariseWindow(
    config,
    data,
    {
      win,
      first: w.first,
      stride: w.stride,
      weights: w.weights,
      last: w.last,
      trainSeconds: w.trainSeconds,
    },
    opts,
    index,
    runs,
  );
}
