/**
 * The forgetting sweep where Dawn for Node gives a device (`--gpu`, gpu.ts; issue 14): each
 * seed is the engine's job (pretraining, task 1 and its analysis on the CPU), its task-2 runs
 * offered to the GPU as one ensemble — taken when forced (`--gpu on`) or measured faster
 * (task2Choice.ts), and trained on the CPU after a kernel fault. The seeds run one after another
 * in this process, which owns the device; the results merge as every runner's do
 * (forgettingFromJobs), so a CPU-trained seed gives the serial sweep's numbers.
 */
import type { Dataset } from '../engine/data/dataset';
import { runPlan, type ForgettingConfig, type ForgettingResult } from '../engine/forgetting';
import type { Task2Choice } from '../engine/forgetting/task2Choice';
import { forgettingFromJobs } from '../engine/jobs/forgettingMerge';
import { JobCache, runJob, type ForgettingJobResult, type Task2Gpu } from '../engine/jobs/run';
import { fusedW2Factory } from '../engine/nets/webgpu/fusedW2Ensemble';

/** Where each seed's task-2 runs trained, for the JSON. */
export interface ForgettingGpuReport {
  adapter: string;
  task2: ({ seed: number } & Task2Choice)[];
}

/** The task-2 GPU of a Dawn device: the WGSL ensemble on it. */
export function dawnTask2Gpu(
  gpu: { device: GPUDevice; adapter: string; software: boolean },
  forced: boolean,
): Task2Gpu {
  return {
    factory: fusedW2Factory(gpu.device),
    adapter: gpu.adapter,
    software: gpu.software,
    forced,
    forcedBy: '--gpu on',
  };
}

export async function forgettingOnGpu(
  config: ForgettingConfig,
  data: Dataset,
  task2Gpu: Task2Gpu,
  log: (s: string) => void,
): Promise<{ result: ForgettingResult; gpu: ForgettingGpuReport }> {
  const t0 = performance.now();
  const cache = new JobCache();
  const results: ForgettingJobResult[] = [];
  for (const seed of config.seeds) {
    const r = await runJob(
      { kind: 'forgetting', config, seed, runs: runPlan(config, seed) },
      data,
      {
        cache,
        task2Gpu,
        onForgettingEvent: (e) => {
          if (e.type === 'phase') log(e.message);
        },
      },
    );
    if (r.kind !== 'forgetting') throw new Error('a forgetting job returned another result');
    results.push(r);
  }
  return {
    result: forgettingFromJobs(config, results, (performance.now() - t0) / 1000),
    gpu: {
      adapter: task2Gpu.adapter,
      task2: results.map((r) => ({
        seed: r.seed,
        ...(r.task2 ?? { gpu: false, reason: 'the CPU: no GPU was offered' }),
      })),
    },
  };
}
