/**
 * Where the CLI's jobs run (issues 13, 15): here one after another (--workers 1), on a pool of
 * worker threads (--workers N, default cores − 1), or on a BullMQ queue (--queue URL) served by
 * `npm run worker` processes. Every runner calls the engine's runJob, so the numbers are the
 * same; the pool and the queue add the jobs that failed to the JSON as `failed: [{spec, error}]`.
 */
import type { Dataset } from '../engine/data/dataset';
import type { SweepRunner } from '../engine/experiments/sweeps';
import type { FlatnessSearch } from '../engine/jobs/flatness';
import { forgettingJobs, type ForgettingJobResult } from '../engine/jobs/run';
import { forgettingFromJobs } from '../engine/jobs/forgettingMerge';
import {
  forgettingSetup,
  setupCounts,
  type ForgettingConfig,
  type ForgettingResult,
} from '../engine/forgetting';
import { WorkerPool, defaultWorkers, poolSweepRunner, type FailedJob, type Outcome } from './pool';
import type { JobResult } from '../engine/jobs/run';
import type { JobSpec } from '../engine/jobs/spec';
import { dataInfo, queueSweepRunner, runOnQueue } from './queue';
import type { GpuChoice } from './gpu';
import { fusedBuilder, localCpu, poolCpu, runOnEnsembles, type GpuReport } from './gpuSweep';

export interface RunnerChoice {
  /** Worker threads; 1 runs here, in this thread. */
  workers: number;
  /** redis://… of a BullMQ queue, or null. */
  queue: string | null;
  idx: string | null;
  experiment: string;
  log: (s: string) => void;
}

export const WORKERS_HELP = `worker threads for sweeps and the flatness search (default cores − 1 = ${defaultWorkers()}; 1: no threads)`;
export const QUEUE_HELP =
  'run the sweep on a BullMQ queue in Redis, served by npm run worker processes:\nredis://[:PASSWORD@]HOST:PORT[/DB] or rediss://… (TLS); README "Sweeps on many machines"';

/** A sweep's GPU (gpu.ts) and what the JSON says about it (filled in as the sweep runs). */
export interface SweepGpu {
  choice: GpuChoice;
  report: GpuReport;
  sharpC: number;
}

/**
 * The sweep's runner (undefined: one after another here) and the list its failures go to.
 * The pool lives for one sweep: started on its first jobs, closed after its last. With a GPU
 * device, the runs of one width and optimizer train as ensembles on it and the rest on the pool (gpuSweep.ts);
 * the device is the sweep's, destroyed when it ends.
 */
export function sweepRunner(
  choice: RunnerChoice,
  data: Dataset,
  failed: FailedJob[],
  gpu?: SweepGpu,
): SweepRunner | undefined {
  if (choice.queue)
    return queueSweepRunner(
      { url: choice.queue, experiment: choice.experiment, data: dataInfo(data), log: choice.log },
      failed,
    );
  const device = gpu?.choice.device;
  if (gpu && device)
    return async (specs) => {
      const pool =
        choice.workers > 1
          ? new WorkerPool(Math.min(choice.workers, specs.length), {
              idx: choice.idx,
              log: choice.log,
            })
          : null;
      if (pool) choice.log(`${pool.size} worker threads beside the GPU`);
      try {
        return await runOnEnsembles(specs, {
          build: fusedBuilder(device, gpu.choice.software, data),
          cpu: pool ? poolCpu(pool) : localCpu(data, choice.log),
          data,
          sharpC: gpu.sharpC,
          report: gpu.report,
          failed,
          log: choice.log,
        });
      } finally {
        await pool?.close();
        gpu.choice.device = null;
        device.destroy();
      }
    };
  if (choice.workers <= 1) return undefined;
  return async (specs) => {
    const pool = new WorkerPool(Math.min(choice.workers, specs.length), {
      idx: choice.idx,
      log: choice.log,
    });
    choice.log(`${pool.size} worker threads`);
    try {
      return await poolSweepRunner(pool, failed)(specs);
    } finally {
      await pool.close();
    }
  };
}

/** Runs `fn` with the flatness search on a pool of `workers` threads (none for 1). */
export async function withFlatnessPool<T>(
  choice: Pick<RunnerChoice, 'workers' | 'idx' | 'log'>,
  fn: (search: FlatnessSearch | undefined) => Promise<T>,
): Promise<T> {
  if (choice.workers <= 1) return fn(undefined);
  const pool = new WorkerPool(choice.workers, { idx: choice.idx, log: choice.log });
  choice.log(`flatness search on ${pool.size} worker threads`);
  try {
    return await fn(pool.flatnessSearch);
  } finally {
    await pool.close();
  }
}

/**
 * The forgetting sweep as jobs on the pool or the queue: each seed's task-2 runs split into
 * as many jobs as there are workers (each computes the seed's pretraining and task 1 once),
 * merged in the serial order. A failed job's runs are missing from the result and listed.
 */
export async function forgettingOnRunner(
  config: ForgettingConfig,
  data: Dataset,
  choice: RunnerChoice,
): Promise<{ result: ForgettingResult; failed: FailedJob[] }> {
  const t0 = performance.now();
  const chunks = choice.queue ? 4 : Math.max(1, choice.workers);
  const specs: JobSpec[] = forgettingJobs(config, chunks);
  let outcomes: Outcome<JobResult>[];
  if (choice.queue) {
    outcomes = await runOnQueue(specs, {
      url: choice.queue,
      experiment: 'forgetting',
      data: dataInfo(data),
      log: choice.log,
    });
  } else {
    const pool = new WorkerPool(Math.min(choice.workers, specs.length), {
      idx: choice.idx,
      log: choice.log,
    });
    choice.log(`${specs.length} jobs on ${pool.size} worker threads`);
    try {
      outcomes = await pool.runJobs(specs);
    } finally {
      await pool.close();
    }
  }
  const failed: FailedJob[] = [];
  const done: ForgettingJobResult[] = [];
  outcomes.forEach((o, i) => {
    if (o.ok && o.result.kind === 'forgetting') done.push(o.result);
    else failed.push({ spec: specs[i], error: o.ok ? 'not a forgetting result' : o.error });
  });
  // The counts from the data here: a sweep whose every job failed still reports them.
  const counts = setupCounts(forgettingSetup(config, data));
  const result = forgettingFromJobs(config, done, (performance.now() - t0) / 1000, counts);
  return { result, failed };
}
