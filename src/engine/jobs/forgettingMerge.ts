/**
 * A forgetting sweep's result from the results of its jobs (forgettingJobs in run.ts), whichever
 * runner made them: the CLI's worker threads, the Redis queue or the page's pool. Given in job
 * order (seed outer, each seed's plan in order) the runs are the serial sweep's, so the means
 * over seeds and the chosen settings are its numbers to the last bit. Pure: the page's main
 * thread merges with it without loading TensorFlow.js.
 */
import type { ForgettingConfig } from '../forgetting/config';
import type { ForgettingResult, RunResult, Task1Report } from '../forgetting/experiment';
import { forgettingSummary, type SetupCounts } from '../forgetting/summary';
import type { ForgettingJobResult } from './run';

/**
 * `results`: the jobs that finished, in job order (a failed job's runs are missing). Seeds
 * without any finished job have no task-1 report; `totalSeconds` is the sweep's wall time.
 * `counts`: the data's counts where the caller holds the data (else the jobs' own).
 */
export function forgettingFromJobs(
  config: ForgettingConfig,
  results: readonly ForgettingJobResult[],
  totalSeconds: number,
  counts: SetupCounts | undefined = results[0]?.counts,
): ForgettingResult {
  if (!counts) throw new Error('no job of the forgetting sweep finished');
  const reports = new Map<number, Task1Report>();
  const runs: RunResult[] = [];
  const timings = { pretrain: 0, task1: 0, analysis: 0, task2: 0, total: totalSeconds, runs: 0 };
  for (const r of results) {
    if (!reports.has(r.seed)) reports.set(r.seed, r.report);
    runs.push(...r.runs);
    for (const k of ['pretrain', 'task1', 'analysis', 'task2'] as const) timings[k] += r.seconds[k];
  }
  const seeds = config.seeds.filter((s) => reports.has(s));
  return forgettingSummary(
    config,
    counts,
    seeds.map((s) => reports.get(s)!),
    runs,
    timings,
  );
}
