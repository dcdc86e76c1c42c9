/**
 * A finished forgetting sweep's result from its task-1 reports and task-2 runs: the means over
 * seeds per setting, the settings chosen on validation data and the paired comparison
 * (selection.ts). Pure (no tensors), so that the page's main thread can merge the jobs its pool
 * of workers ran (src/engine/jobs/forgettingMerge.ts) without loading TensorFlow.js.
 */
import type {
  ForgettingResult,
  ForgettingSetup,
  ForgettingTimings,
  RunResult,
  Task1Report,
} from './experiment';
import type { ForgettingConfig } from './config';
import { aggregate, summarize, sweepKey } from './selection';

/** What the result reports of the data a sweep ran on: each task's counts and the held-out draw. */
export interface SetupCounts {
  tasks: ForgettingResult['tasks'];
  heldOut: number;
}

export function setupCounts(setup: ForgettingSetup): SetupCounts {
  return {
    tasks: [setup.task1, setup.task2].map((t) => ({
      classes: t.classes,
      train: t.train.count,
      validation: t.validation.count,
      test: t.test.count,
    })),
    heldOut: setup.heldOut,
  };
}

/** Phase 5: the sweep's points, the chosen settings and the paired differences. */
export function forgettingSummary(
  config: ForgettingConfig,
  counts: SetupCounts,
  reports: Task1Report[],
  runs: RunResult[],
  timings: ForgettingTimings,
): ForgettingResult {
  const bySweep = new Map<string, RunResult[]>();
  for (const r of runs) {
    const k = sweepKey(r);
    const list = bySweep.get(k) ?? [];
    list.push(r);
    bySweep.set(k, list);
  }
  const sweep = [...bySweep.values()].map(aggregate);
  return {
    config,
    tasks: counts.tasks,
    validation: {
      fraction: config.validationFraction,
      seed: config.validationSeed,
      heldOut: counts.heldOut,
    },
    task1: reports,
    runs,
    sweep,
    summary: summarize(sweep, runs),
    timings: { ...timings, runs: runs.length },
  };
}
