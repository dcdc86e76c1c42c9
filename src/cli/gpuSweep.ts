/**
 * A sweep's runs on the fused GPU ensemble from the command line (issue 14), as section 7 of the
 * page does them (src/ui/poolSweeps.ts): planEnsembles groups the runs of one width and optimizer;
 * each group trains as one ensemble on the device (several side by side, within the memory
 * budget), and each run's window, the moment it ends, is analysed on the CPU side (the
 * worker-thread pool, or this thread with --workers 1) as a job of its own; every other run is
 * an ordinary job there. A GPU fault sends the runs not yet handed out to the CPU side from the start (the
 * same seeds, so the same runs) and the later groups with them; the windows handed out are kept.
 */
import type { Dataset } from '../engine/data/dataset';
import type { RunConfig } from '../engine/experiments/config';
import {
  ensembleWindowBytes,
  planEnsembles,
  type EnsembleGroup,
} from '../engine/experiments/ensemblePlan';
import { dataShape, MEMORY_BUDGET_BYTES } from '../engine/experiments/memoryPolicy';
import type { RunSummary, SweepJobSpec } from '../engine/experiments/sweeps';
import { analyseWindow, runEnsembleJob, type EnsembleWindow } from '../engine/jobs/ensemble';
import { runJob, type JobResult } from '../engine/jobs/run';
import type { FusedRunSpec } from '../engine/nets/webgpu/fusedRuntime';
import {
  createFastestFusedTrainer,
  createFusedTrainer,
  type FusedTrainer as FusedKernel,
} from '../engine/nets/webgpu/fusedTrainer';
import type { GpuMode } from './gpu';
import type { FailedJob, Outcome, WorkerPool } from './pool';

export type KernelBuilder = (specs: FusedRunSpec[]) => Promise<FusedKernel>;

/**
 * The ensemble's kernel on `device`, as the page's job worker builds it (job.worker.ts): the
 * faster layout on a hardware adapter; one workgroup per run on a software one, where timing
 * both layouts costs seconds.
 */
export function fusedBuilder(device: GPUDevice, software: boolean, data: Dataset): KernelBuilder {
  const opts = { maxChunk: 64, snapshots: true };
  return async (specs) =>
    software
      ? createFusedTrainer('workgroup', device, data.train, specs, opts)
      : (await createFastestFusedTrainer(device, data.train, specs, opts)).trainer;
}

/** One ensemble run's window to analyse (a pool task: plain data). */
export interface AnalyseTask {
  config: RunConfig;
  window: EnsembleWindow;
  sharpC: number;
  /** The run's index in the sweep and the sweep's size (its log lines). */
  index: number;
  total: number;
}

/** Where the CPU's share of a sweep runs: the worker-thread pool, or this thread. */
export interface CpuSide {
  job(spec: SweepJobSpec, index: number, total: number): Promise<Outcome<RunSummary>>;
  analyse(task: AnalyseTask): Promise<Outcome<RunSummary>>;
}

function failure(e: unknown): { ok: false; error: string } {
  return { ok: false, error: e instanceof Error ? e.message : String(e) };
}

/** The CPU side in this thread (--workers 1): one job at a time, as the serial sweep runs them. */
export function localCpu(data: Dataset, log: (s: string) => void): CpuSide {
  let queue: Promise<unknown> = Promise.resolve();
  const serial = <T>(fn: () => Promise<T>): Promise<Outcome<T>> => {
    const p = queue.then(fn).then(
      (result): Outcome<T> => ({ ok: true, result }),
      (e: unknown) => failure(e),
    );
    queue = p;
    return p;
  };
  return {
    job: (spec, index, total) =>
      serial(async () => {
        const r = await runJob(spec, data, { log, index, jobs: total });
        if (r.kind === 'forgetting') throw new Error('a sweep job returned a forgetting result');
        return r.summary;
      }),
    analyse: (t) =>
      serial(() =>
        analyseWindow(t.config, data, t.window, { sharpC: t.sharpC, log }, t.index, t.total),
      ),
  };
}

/** The CPU side on the worker-thread pool: runs and analyses go to idle threads. */
export function poolCpu(pool: WorkerPool): CpuSide {
  return {
    job: async (spec) => {
      const out = await pool.submit<JobResult>({ type: 'job', spec });
      if (!out.ok) return out;
      if (out.result.kind === 'forgetting') return failure('not a sweep result');
      return { ok: true, result: out.result.summary };
    },
    analyse: (task) => pool.submit<RunSummary>({ type: 'analyse', task }),
  };
}

/** What the output JSON says about where the sweep's runs trained. */
export interface GpuReport {
  mode: GpuMode;
  /** The adapter Dawn offered (null: none, or not asked). */
  adapter: string | null;
  /** Runs whose training finished on the GPU. */
  runsOnGpu: number;
  /** Where the runs trained and why, in one string. */
  note: string;
}

export interface EnsembleSweepOptions {
  build: KernelBuilder;
  cpu: CpuSide;
  data: Dataset;
  sharpC: number;
  /** Filled in as the sweep runs (the JSON's `gpu`). */
  report: GpuReport;
  /** The runs that failed, with why (the JSON's `failed`). */
  failed: FailedJob[];
  log: (s: string) => void;
  /** Bytes the windows of the ensembles in flight may hold (default half the memory budget). */
  budget?: number;
}

const runs = (n: number) => `${n} run${n === 1 ? '' : 's'}`;

/** The sweep's summaries in spec order (failed runs left out and listed in `failed`). */
export async function runOnEnsembles(
  specs: readonly SweepJobSpec[],
  o: EnsembleSweepOptions,
): Promise<RunSummary[]> {
  const total = specs.length;
  const budget = o.budget ?? MEMORY_BUDGET_BYTES / 2;
  const shape = dataShape(o.data);
  const plan = planEnsembles(
    specs.map((s, index) => ({ index, config: s.kind === 'run' ? s.config : null })),
    shape,
    budget,
  );
  const prefix = o.report.note;
  o.report.note = `${prefix}: ${plan.note}`;
  o.log(`gpu: ${o.report.note}`);
  const results: (RunSummary | null)[] = specs.map(() => null);
  const settle = (index: number, out: Outcome<RunSummary>) => {
    if (out.ok) results[index] = out.result;
    else o.failed.push({ spec: specs[index], error: out.error });
  };
  const cpuRun = (index: number) =>
    o.cpu.job(specs[index], index, total).then((out) => settle(index, out));
  const cpuRuns = plan.cpu.map(cpuRun);
  const faults: string[] = [];

  /** Trains group `g` on the GPU, or on the CPU once the GPU has failed; then its analyses. */
  const ensemble = async (g: EnsembleGroup): Promise<void> => {
    const handed = new Set<number>();
    const after: Promise<void>[] = [];
    if (faults.length === 0) {
      o.log(`gpu: ${runs(g.members.length)} of ${groupName(g)} train as one ensemble`);
      try {
        await runEnsembleJob(
          g.members.map((m) => m.config),
          o.data,
          o.build,
          {
            onWindow: (m, window) => {
              const { index, config } = g.members[m];
              handed.add(index);
              o.report.runsOnGpu++;
              after.push(
                o.cpu
                  .analyse({ config, window, sharpC: o.sharpC, index, total })
                  .then((out) => settle(index, out)),
              );
            },
            onRunFailed: (m, error) => {
              const { index } = g.members[m];
              handed.add(index);
              settle(index, { ok: false, error });
            },
          },
        );
      } catch (e) {
        const why = failure(e).error;
        faults.push(why);
        const left = g.members.length - handed.size;
        const kept = handed.size;
        o.report.note += `; the GPU ensemble of ${groupName(g)} stopped (${why}): ${
          kept > 0
            ? `the ${runs(kept)} it had trained were kept, and its ${left} other${left === 1 ? '' : 's'} trained on the CPU from the start`
            : `its ${runs(left)} trained on the CPU`
        } (the same seeds, so the same runs)`;
        o.log(`gpu: ${why}; ${runs(left)} go to the CPU`);
      }
    } else {
      o.report.note += `; the ${runs(g.members.length)} of ${groupName(g)} trained on the CPU (the GPU had failed)`;
    }
    for (const m of g.members) if (!handed.has(m.index)) after.push(cpuRun(m.index));
    await Promise.all(after);
  };

  // The ensembles run side by side on the device (a width sweep's are one run each, and one run
  // keeps one multiprocessor busy), in plan order, as long as the windows of those training or
  // waiting for their analysis stay within half the memory budget (the first always starts).
  const bytes = (g: EnsembleGroup) =>
    g.members.reduce((a, m) => a + ensembleWindowBytes(m.config, shape), 0);
  let held = 0;
  let freed: (() => void) | null = null;
  const started: Promise<void>[] = [];
  for (const g of plan.groups) {
    const b = bytes(g);
    while (held > 0 && held + b > budget) await new Promise<void>((resolve) => (freed = resolve));
    held += b;
    started.push(
      ensemble(g).finally(() => {
        held -= b;
        freed?.();
      }),
    );
  }
  await Promise.all([...started, ...cpuRuns]);
  return results.filter((r): r is RunSummary => r !== null);
}

/** "h = 12", or "h = 12, momentum" for a kernel of another optimizer than plain SGD. */
function groupName(g: EnsembleGroup): string {
  return g.optimizer === 'sgd' ? `h = ${g.hidden}` : `h = ${g.hidden}, ${g.optimizer}`;
}
