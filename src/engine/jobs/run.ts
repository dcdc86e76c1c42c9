/**
 * `runJob`: a job spec (spec.ts) to its result — the one function every runner calls (serial
 * sweeps, the worker-thread pool, the page's pool, the Redis queue's workers).
 */
import type { Dataset } from '../data/dataset';
import {
  summariseArchRun,
  summariseRun,
  type RunOptions,
  type RunSummary,
} from '../experiments/sweeps';
import {
  forgettingSetup,
  runPlan,
  seedContextPhase,
  seedUnits,
  task2Phase,
  type ForgettingEvent,
  type ForgettingSetup,
  type PhaseEvent,
  type RunResult,
  type SeedContext,
  type Task1Report,
} from '../forgetting/experiment';
import type { ForgettingConfig } from '../forgetting/config';
import { setupCounts, type SetupCounts } from '../forgetting/summary';
import { canonicalJson, type ForgettingJobSpec, type JobSpec } from './spec';

export interface ForgettingJobResult {
  kind: 'forgetting';
  seed: number;
  report: Task1Report;
  runs: RunResult[];
  /** The tasks' example counts and the held-out draw (the same in every job of a sweep). */
  counts: SetupCounts;
  /** Seconds of the seed's phases this job spent (0 where its context came from the cache). */
  seconds: { pretrain: number; task1: number; analysis: number; task2: number };
}

export type JobResult = { kind: 'run' | 'arch'; summary: RunSummary } | ForgettingJobResult;

/**
 * What a runner keeps between jobs: the last forgetting seed's context (pretraining, task 1,
 * its PCA and flatness), so the jobs one seed's runs were split into compute it once per
 * runner. One entry: a seed's context is a few MB (the PCA modes), and jobs come seed by seed.
 */
export class JobCache {
  private key = '';
  private setup: ForgettingSetup | null = null;
  private ctx: SeedContext | null = null;
  private setupKey = '';

  forgettingSetup(config: ForgettingConfig, data: Dataset): ForgettingSetup {
    const k = canonicalJson(config);
    if (!this.setup || this.setupKey !== k) {
      this.setup = forgettingSetup(config, data);
      this.setupKey = k;
    }
    return this.setup;
  }

  get(config: ForgettingConfig, seed: number): SeedContext | null {
    return this.key === canonicalJson({ config, seed }) ? this.ctx : null;
  }

  set(config: ForgettingConfig, seed: number, ctx: SeedContext): void {
    this.key = canonicalJson({ config, seed });
    this.ctx = ctx;
  }
}

/** `resume` and `onResumePoint` (RunOptions) apply to a 'run' job only. */
export interface JobOptions extends RunOptions {
  /** Kept between jobs of one runner (forgetting seeds). */
  cache?: JobCache;
  /** Index of the job in its sweep and the sweep's size, for progress. */
  index?: number;
  jobs?: number;
  /**
   * A forgetting job's events as the serial sweep streams them: phases, the task-1 modes, every
   * curve point and finished run, and 'progress' with `fraction` the job's own share done (its
   * ETA left to the caller, which knows the other jobs).
   */
  onForgettingEvent?: (e: ForgettingJobEvent) => void;
}

/** What a forgetting job streams (the serial sweep's events but its running means and end). */
export type ForgettingJobEvent = Exclude<ForgettingEvent, { type: 'sweepPoint' | 'done' }>;

async function forgettingJob(
  spec: ForgettingJobSpec,
  data: Dataset,
  opts: JobOptions,
): Promise<ForgettingJobResult> {
  const cache = opts.cache ?? new JobCache();
  const { config, seed } = spec;
  const setup = cache.forgettingSetup(config, data);
  const seconds = { pretrain: 0, task1: 0, analysis: 0, task2: 0 };
  const emit = opts.onForgettingEvent;
  const seedIndex = config.seeds.indexOf(seed);
  let ctx = cache.get(config, seed);
  const units = seedUnits(config, setup);
  const total = (ctx ? 0 : units.context) + spec.runs.length * units.perRun;
  let done = 0;
  /** Passes an event on (work done as the job's fraction) and gives the event loop a turn. */
  const relay = async (e: PhaseEvent) => {
    if (emit) {
      if (e.type !== 'units') {
        if (e.type !== 'sweepPoint' && e.type !== 'done') emit(e);
      } else {
        done += e.units;
        emit({
          type: 'progress',
          phase: e.phase,
          seed,
          fraction: Math.min(1, done / total),
          etaSeconds: null,
        });
      }
    }
    await opts.yieldEvery?.();
  };
  if (!ctx) {
    const gen = seedContextPhase(config, setup, seed, seedIndex, seconds, opts.signal);
    let step = await gen.next();
    while (!step.done) {
      await relay(step.value);
      step = await gen.next();
    }
    ctx = step.value;
    cache.set(config, seed, ctx);
  }
  emit?.({ type: 'task1Modes', report: ctx.report });
  emit?.({
    type: 'phase',
    phase: 'task2',
    seed,
    seedIndex,
    message: `seed ${seed}: ${spec.runs.length} task-2 runs of ${config.task2Steps} steps on digits ${setup.task2.classes.join(',')}`,
  });
  const t0 = performance.now();
  const gen = task2Phase(config, setup, ctx, spec.runs, Boolean(emit), opts.signal);
  let step = await gen.next();
  while (!step.done) {
    await relay(step.value);
    step = await gen.next();
  }
  seconds.task2 = (performance.now() - t0) / 1000;
  return {
    kind: 'forgetting',
    seed,
    report: ctx.report,
    runs: step.value,
    counts: setupCounts(setup),
    seconds,
  };
}

/** Runs one job. The spec must have passed checkJobSpec (runners check before calling). */
export async function runJob(
  spec: JobSpec,
  data: Dataset,
  opts: JobOptions = {},
): Promise<JobResult> {
  const index = opts.index ?? 0;
  const jobs = opts.jobs ?? 1;
  if (opts.resume && spec.kind !== 'run')
    throw new Error(`a ${spec.kind} job cannot continue from a run's checkpoint`);
  if (spec.kind === 'run') {
    const summary = await summariseRun(
      spec.config,
      data,
      { ...opts, sharpC: spec.sharpC },
      index,
      jobs,
    );
    return { kind: 'run', summary };
  }
  if (spec.kind === 'arch') {
    const summary = await summariseArchRun(
      spec.config,
      data,
      { ...opts, sharpC: spec.sharpC },
      index,
      jobs,
    );
    return { kind: 'arch', summary };
  }
  return forgettingJob(spec, data, opts);
}

/**
 * The forgetting sweep as jobs: each seed's plan (runPlan) in `chunks` consecutive slices, seed
 * outer — the serial order, so the results concatenated in job order are the serial run's.
 */
export function forgettingJobs(config: ForgettingConfig, chunks = 1): ForgettingJobSpec[] {
  const out: ForgettingJobSpec[] = [];
  for (const seed of config.seeds) {
    const plan = runPlan(config, seed);
    const n = Math.max(1, Math.min(chunks, plan.length));
    for (let c = 0; c < n; c++) {
      const runs = plan.slice(
        Math.floor((c * plan.length) / n),
        Math.floor(((c + 1) * plan.length) / n),
      );
      if (runs.length) out.push({ kind: 'forgetting', config, seed, runs });
    }
  }
  return out;
}
