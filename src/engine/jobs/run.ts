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
  type RunKey,
  type RunResult,
  type SeedContext,
  type Task1Report,
} from '../forgetting/experiment';
import type { ForgettingConfig } from '../forgetting/config';
import { setupCounts, type SetupCounts } from '../forgetting/summary';
import {
  cpuRunStepsPerSecond,
  ensembleRunStepsPerSecond,
  task2Choice,
  type Task2Choice,
} from '../forgetting/task2Choice';
import type { W2EnsembleFactory } from '../forgetting/w2EnsembleKernel';
import {
  Task2EnsembleFault,
  task2EnsemblePhase,
  task2Prox,
  task2Shared,
} from '../forgetting/w2EnsemblePhase';
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
  /** Where the task-2 runs trained and why, when the job was offered a GPU (task2Gpu). */
  task2?: Task2Choice;
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
  /** A GPU the forgetting job's task-2 runs may train on as one ensemble (task2Choice.ts). */
  task2Gpu?: Task2Gpu;
}

export interface Task2Gpu {
  factory: W2EnsembleFactory;
  adapter: string;
  software: boolean;
  /** `?backend=webgpu` or `--gpu on`: the ensemble whatever it measures. */
  forced: boolean;
  /** What forces it, for the reason (default '?backend=webgpu'). */
  forcedBy?: string;
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
  const t0 = performance.now();
  const what = `seed ${seed}: ${spec.runs.length} task-2 runs of ${config.task2Steps} steps on digits ${setup.task2.classes.join(',')}`;
  const phase = (message: string) =>
    emit?.({ type: 'phase', phase: 'task2', seed, seedIndex, message });
  const drain = async (gen: AsyncGenerator<PhaseEvent, RunResult[], void>) => {
    let step = await gen.next();
    while (!step.done) {
      await relay(step.value);
      step = await gen.next();
    }
    return step.value;
  };
  let runs: RunResult[] | null = null;
  let task2: Task2Choice | undefined;
  const g = opts.task2Gpu;
  if (g) {
    const doneBefore = done;
    try {
      const shared = await task2Shared(config, setup, ctx, spec.runs);
      task2 = await weighTask2(g, config, setup, ctx, spec.runs, shared);
      phase(`${what}, on ${task2.reason}`);
      if (task2.gpu) {
        runs = await drain(
          task2EnsemblePhase(
            config,
            setup,
            ctx,
            spec.runs,
            Boolean(emit),
            g.factory,
            opts.signal,
            shared,
          ),
        );
      }
    } catch (e) {
      if (!(e instanceof Task2EnsembleFault)) throw e;
      // Nothing of the ensemble was shown (its runs go out at its end): train them here.
      done = doneBefore;
      task2 = { gpu: false, reason: `the CPU: the GPU ensemble failed (${e.message})` };
      phase(`${what}, on ${task2.reason}`);
    }
  } else phase(what);
  runs ??= await drain(task2Phase(config, setup, ctx, spec.runs, Boolean(emit), opts.signal));
  seconds.task2 = (performance.now() - t0) / 1000;
  return {
    kind: 'forgetting',
    seed,
    report: ctx.report,
    runs,
    counts: setupCounts(setup),
    seconds,
    ...(task2 && { task2 }),
  };
}

/** task2Choice on this seed's measured throughput (not measured where forced or software). */
async function weighTask2(
  g: Task2Gpu,
  config: ForgettingConfig,
  setup: ForgettingSetup,
  ctx: SeedContext,
  keys: readonly RunKey[],
  shared: Awaited<ReturnType<typeof task2Shared>>,
): Promise<Task2Choice> {
  const base = {
    forced: g.forced,
    forcedBy: g.forcedBy,
    adapter: g.adapter,
    software: g.software,
    runs: keys.length,
  };
  if (g.forced || g.software) return task2Choice({ ...base, ensemble: null, cpu: null });
  let ensemble: number | { error: string };
  try {
    ensemble = await ensembleRunStepsPerSecond(g.factory, shared, task2Prox(config, ctx, keys));
  } catch (e) {
    ensemble = { error: e instanceof Error ? e.message : String(e) };
  }
  const cpu = await cpuRunStepsPerSecond(config, setup, ctx, keys);
  return task2Choice({ ...base, ensemble, cpu });
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
