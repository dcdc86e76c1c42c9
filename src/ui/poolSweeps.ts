/**
 * Section 7's sweeps on the page's pool of job workers (issue 13): each run of a sweep is one
 * job, dispatched to an idle worker, so a sweep takes about as long as its runs divided by the
 * pool's size. The events are the ones the trainer's sweep loop sent (universalityStore applies
 * them unchanged): runs finish in any order and land at their plan index; pause holds every
 * worker at its next training step (a run's analysis finishes first); cancel drops the runs not
 * started and aborts the others; continue and the reuse of runs are the store's, as before.
 *
 * Where the page's trainer chose the fused WebGPU backend (a hardware adapter that won the probe,
 * or `?backend=webgpu`), a sweep's runs of one width and optimizer train together as fused
 * ensembles on the GPU (planEnsembles: one per width and optimizer, capped by their windows'
 * memory), each
 * one job on one pool worker; as each run's window ends its analysis is a job of its own on the
 * pool, so results arrive as the same events. A GPU fault sends the ensemble's runs not yet
 * handed out to the pool as ordinary runs, each from its last checkpoint (the ones handed out
 * are kept), and the badge says so.
 *
 * The pool is started with the first sweep and kept for the next ones while they follow within
 * POOL_IDLE_MS (its workers hold a data copy and a backend each); a sweep that needs a
 * different size or data set starts a new one.
 */
import type { BackendName } from '../engine/backend';
import { EMBEDDED_ASSET_PATH } from '../engine/data/embedded';
import type { FlatnessShare } from '../engine/jobs/flatness';
import type { ModeFlatnessResult } from '../engine/landscape/flatness';
import type { RunResumePoint } from '../engine/experiments/sweeps';
import { planRun } from '../engine/experiments/runChecks';
import { estimateRunCost, inLongestFirstOrder } from '../engine/jobs/cost';
import {
  ensembleWorkerBytes,
  planEnsembles,
  type EnsembleGroup,
  type EnsemblePlan,
} from '../engine/experiments/ensemblePlan';
import type {
  IdxFile,
  PoolCommand,
  UniversalityMode,
  UniversalityProgress,
  UniversalityRunSpec,
  UniversalityWorkerEvent,
} from '../protocol/messages';
import { TEST_HOOKS, type CrashCommand } from '../protocol/testHooks';
import { applyUniversalityEvent } from '../state/universalityStore';
import { useConfig } from '../state/configStore';
import { useRun } from '../state/runStore';
import { WorkerPool, type Outcome } from './workerPool';
import { poolSizing, type PoolSizing } from './poolSize';
import { flatnessShareBytes, pageDataShape, usePool } from './poolStore';
import { ensembleFaultNote } from './ensembleFault';
import { measureEnsemble } from './ensembleProbe';
import { ensembleChoice, type EnsembleChoice } from '../engine/experiments/ensembleChoice';
import { absolute, wasmPaths } from './wasmPaths';

/** What a pool is started with: its size, and the 'init' each worker gets (data, backend). */
export interface PoolSetup {
  sizing: PoolSizing;
  init: Extract<PoolCommand, { type: 'init' }>;
  /** Identifies the data set: a pool with another key is replaced. */
  dataKey: unknown;
  /** The runs' fused ensembles, where the page trains on WebGPU (null: every run on the pool). */
  ensembles: EnsemblePlan | null;
  /**
   * Unforced, the ensembles are weighed against the CPU pool before the sweep starts
   * (chooseEnsembles): the CPU step's speed and the pool the runs would have without them.
   */
  weigh?: { cpu: { stepsPerSec: number; name: string } | null; cpuSizing: PoolSizing };
}

/**
 * The pool for a sweep's runs on the data set the page holds (`idx`: the reader's files, or
 * null for the embedded digits): sized by the cores, the link's `workers=` and the largest
 * run's memory (the run check's estimate on that data set).
 */
export function poolSetup(
  runs: readonly { index: number; spec: UniversalityRunSpec }[],
  idx: IdxFile[] | null,
  forcedBackend?: BackendName,
  /** false: every run on the CPU pool (section 6 plans its own GPU work). */
  withEnsembles = true,
  /** A share of a run's flatness search the pool is for: each worker builds its own loss. */
  share?: Pick<FlatnessShare, 'hidden' | 'count'>,
): PoolSetup {
  const shape = pageDataShape();
  let runBytes = share ? flatnessShareBytes(share.hidden, share.count) : 0;
  for (const { spec } of runs) {
    // The deeper architectures keep their block under a fixed cap: the MLP's estimate at the
    // same B bounds them well enough for sizing.
    const config = spec.kind === 'mlp' ? spec.config : { ...useConfig.getState().config };
    runBytes = Math.max(runBytes, planRun(config, shape).memory.total);
  }
  const cores = typeof navigator !== 'undefined' ? navigator.hardwareConcurrency : undefined;
  const backend = useRun.getState().backend;
  const gpu = withEnsembles && gpuCandidate();
  const workers = useConfig.getState().workers;
  const ensembles = gpu
    ? planEnsembles(
        runs.map((r) => ({
          index: r.index,
          config: r.spec.kind === 'mlp' ? r.spec.config : null,
        })),
        shape,
      )
    : null;
  const probe = backend?.fusedProbe;
  return {
    ensembles,
    sizing: poolSizing(
      cores,
      workers,
      runBytes,
      ensembles ? ensembles.groups.map((g) => ensembleWorkerBytes(g, shape)) : [],
    ),
    ...(ensembles &&
      ensembles.groups.length > 0 &&
      forcedBackend !== 'webgpu' && {
        weigh: {
          cpu: probe ? { stepsPerSec: probe.cpu, name: probe.cpuName } : null,
          cpuSizing: poolSizing(cores, workers, runBytes),
        },
      }),
    init: {
      type: 'init',
      data: idx
        ? { kind: 'idx', files: idx }
        : { kind: 'embedded', url: absolute(EMBEDDED_ASSET_PATH) },
      wasmPaths: wasmPaths(),
      // A GPU backend stays the trainer's: N workers would each open a context on one GPU.
      forcedBackend:
        forcedBackend === 'cpu' || forcedBackend === 'wasm' ? forcedBackend : undefined,
    },
    dataKey: idx,
  };
}

/**
 * Whether GPU ensembles are a candidate: the fused trainer was chosen or forced, or a hardware
 * adapter's fused step was timed (fusedProbe); unforced, a sweep weighs them first.
 */
export function gpuCandidate(): boolean {
  const backend = useRun.getState().backend;
  return backend?.name === 'webgpu' || backend?.fusedProbe !== undefined;
}

/** The shape of the data set the page holds (the embedded digits until another is loaded). */
/**
 * A sweep's runs in the order they start: the costliest first (cost.ts), since a sweep ends
 * with its longest run; results still land at their plan index.
 */
function longestFirstRuns<T extends { spec: UniversalityRunSpec }>(runs: readonly T[]): T[] {
  const shape = pageDataShape();
  return inLongestFirstOrder(runs, (r) =>
    r.spec.kind === 'mlp' ? estimateRunCost(r.spec.config, shape) : null,
  );
}

/** An idle pool is ended after this long: a next sweep starts a new one in a few seconds. */
export const POOL_IDLE_MS = 60_000;

let pool: WorkerPool | null = null;
let idleTimer: ReturnType<typeof setTimeout> | null = null;
let poolKey: { size: number; dataKey: unknown } | null = null;
let sweep: PoolSweep | null = null;
/** Flatness shares on the pool now: an idle pool is not ended under them. */
let flatnessInFlight = 0;
/** Other sweeps on the pool now (section 6's forgetting sweep, poolForgetting.ts). */
let borrowed = 0;
/** Test builds: the next ensemble's worker loses its WebGPU device at this step. */
let ensembleGpuLossAt: number | null = null;
/** Test builds: crashes armed before the pool existed. */
let pendingCrashes = 0;
/** Counts of pools already disposed (the store shows the visit's totals). */
let pastStats = { replaced: 0, requeued: 0 };

function spawnJobWorker(): Worker {
  return new Worker(new URL('../worker/job.worker.ts', import.meta.url), {
    type: 'module',
    name: 'job',
  });
}

function publish(): void {
  usePool.setState({
    size: pool && !pool.disposed ? pool.size : 0,
    busy: pool && !pool.disposed ? pool.busy : 0,
    replaced: pastStats.replaced + (pool?.stats.replaced ?? 0),
    requeued: pastStats.requeued + (pool?.stats.requeued ?? 0),
  });
}

function disposePool(why: string): void {
  if (!pool) return;
  pool.dispose(why);
  pastStats = {
    replaced: pastStats.replaced + pool.stats.replaced,
    requeued: pastStats.requeued + pool.stats.requeued,
  };
  pool = null;
  poolKey = null;
  publish();
}

function unused(): boolean {
  return sweep === null && flatnessInFlight === 0 && borrowed === 0;
}

function disposeWhenIdle(): void {
  if (idleTimer !== null) clearTimeout(idleTimer);
  idleTimer = setTimeout(() => {
    idleTimer = null;
    if (unused()) disposePool('the pool was idle');
  }, POOL_IDLE_MS);
}

function poolFor(setup: PoolSetup): WorkerPool {
  if (idleTimer !== null) clearTimeout(idleTimer);
  idleTimer = null;
  const size = setup.sizing.size;
  if (pool && !pool.disposed && poolKey?.size === size && poolKey.dataKey === setup.dataKey)
    return pool;
  disposePool('the pool was replaced');
  const crash: CrashCommand = { type: 'crash' };
  pool = new WorkerPool({
    size,
    spawn: spawnJobWorker,
    init: setup.init,
    crashMessage: TEST_HOOKS ? crash : undefined,
  });
  if (pendingCrashes > 0) pool.armCrashes(pendingCrashes);
  pendingCrashes = 0;
  poolKey = { size, dataKey: setup.dataKey };
  usePool.setState({ reason: setup.sizing.reason });
  return pool;
}

/**
 * One share of the analysis worker's flatness search on the pool (issue 13): the pool a sweep
 * started is used as it is (a share never replaces a pool a sweep runs on); otherwise one for
 * `setup`. The outcome is the share's modes, or why the pool could not measure them.
 */
export async function measureShareOnPool(
  share: FlatnessShare,
  data: number,
  setup: PoolSetup,
): Promise<Outcome<ModeFlatnessResult[]>> {
  let p: WorkerPool;
  if (pool && !pool.disposed && poolKey?.dataKey === setup.dataKey) {
    if (idleTimer !== null) clearTimeout(idleTimer);
    idleTimer = null;
    p = pool;
  } else {
    p = poolFor(setup);
  }
  flatnessInFlight++;
  publish();
  try {
    return await p.submitFlatness(share, data);
  } finally {
    flatnessInFlight--;
    publish();
    if (unused()) disposeWhenIdle();
  }
}

/**
 * The pool for another sweep (section 6's forgetting sweep): the one running if it has the
 * setup's size and data, else a new one. Kept until `returnPool`.
 */
export function borrowPool(setup: PoolSetup): WorkerPool {
  const p = poolFor(setup);
  borrowed++;
  publish();
  return p;
}

export function returnPool(): void {
  borrowed = Math.max(0, borrowed - 1);
  publish();
  if (unused()) disposeWhenIdle();
}

/** Publishes the pool's counts (runs in flight) after a borrower's job started or ended. */
export function publishPool(): void {
  publish();
}

/** One sweep's runs on the pool, reported as the trainer's sweep loop reported them. */
class PoolSweep {
  private cancelReason: string | null = null;
  /** The latest progress of each run in flight, by plan index. */
  private readonly inFlight = new Map<number, UniversalityProgress>();

  constructor(
    private readonly pool: WorkerPool,
    private readonly runs: { index: number; spec: UniversalityRunSpec }[],
    private readonly total: number,
    private readonly ensembles: EnsemblePlan | null,
  ) {}

  /** The error that closed the pool under the sweep, if one did. */
  private closed: string | null = null;

  private settle(index: number, o: Outcome): void {
    this.inFlight.delete(index);
    publish();
    if (o.ok) this.emit({ type: 'universalityRun', index, result: o.result });
    else if (!o.cancelled) this.emit({ type: 'universalityRunFailed', index, message: o.error });
    else if (this.cancelReason === null) this.closed = o.error;
  }

  private cpuRun(index: number, spec: UniversalityRunSpec, resume?: RunResumePoint): Promise<void> {
    return this.pool
      .submit(
        { type: 'sweepRun', spec, index, total: this.total, ...(resume && { resume }) },
        (p) => this.progress(index, p),
      )
      .then((o) => this.settle(index, o));
  }

  /**
   * One ensemble's runs: trained together on one worker's GPU, each window's analysis a job of
   * its own; on a GPU fault, the runs not handed out go to the pool as ordinary runs, each
   * continuing from the last checkpoint the ensemble reported for it.
   */
  private async ensemble(g: EnsembleGroup): Promise<void> {
    const handed = new Set<number>();
    // One checkpoint per run still training (its weights: a few hundred KB at most).
    const resumeFrom = new Map<number, RunResumePoint>();
    const after: Promise<void>[] = [];
    const lossAt = takeEnsembleGpuLoss();
    const o = await this.pool.submitEnsemble(
      {
        type: 'ensemble',
        runs: g.members,
        total: this.total,
        ...(lossAt !== null && { loseGpuAt: lossAt }),
      },
      (e) => {
        if (e.type === 'ensembleResumePoint') {
          // A job re-queued after a crash starts its runs again: the furthest point stands.
          const had = resumeFrom.get(e.index);
          if (!handed.has(e.index) && (!had || had.epoch < e.point.epoch))
            resumeFrom.set(e.index, e.point);
          return;
        }
        // A job re-queued after a crash sends its runs again.
        if (handed.has(e.index)) return;
        handed.add(e.index);
        resumeFrom.delete(e.index);
        if (e.type === 'ensembleRunFailed') {
          this.settle(e.index, { ok: false, error: e.message, cancelled: false });
          return;
        }
        const config = g.members.find((m) => m.index === e.index)?.config;
        if (!config) return;
        after.push(
          this.pool
            .submit(
              { type: 'analyse', index: e.index, total: this.total, config, window: e.window },
              (p) => this.progress(e.index, p),
            )
            .then((a) => this.settle(e.index, a)),
        );
      },
      (p) => this.progress(p.run, p),
    );
    const left = g.members.filter((m) => !handed.has(m.index));
    if (!o.ok && !o.cancelled && left.length > 0) {
      usePool.setState({
        gpu: ensembleFaultNote(
          o.error,
          left.map((m) => ({
            checkpointEpoch: resumeFrom.get(m.index)?.epoch ?? null,
            epochs: m.config.warmupEpochs + m.config.windowEpochs,
          })),
          handed.size,
        ),
      });
      for (const m of left)
        after.push(
          this.cpuRun(m.index, { kind: 'mlp', config: m.config }, resumeFrom.get(m.index)),
        );
    } else if (!o.ok) {
      for (const m of left) this.settle(m.index, o);
    }
    await Promise.all(after);
  }

  private emit(e: UniversalityWorkerEvent): void {
    if (sweep === this) applyUniversalityEvent(e);
  }

  async run(): Promise<void> {
    this.emit({ type: 'universalityState', state: 'running' });
    const plan = this.ensembles;
    usePool.setState({ gpu: plan?.note || null });
    if (!plan)
      await Promise.all(
        longestFirstRuns(this.runs).map(({ index, spec }) => this.cpuRun(index, spec)),
      );
    else {
      const onCpu = new Set(plan.cpu);
      await Promise.all([
        ...plan.groups.map((g) => this.ensemble(g)),
        ...longestFirstRuns(this.runs.filter((r) => onCpu.has(r.index))).map(({ index, spec }) =>
          this.cpuRun(index, spec),
        ),
      ]);
    }
    const closed = this.closed;
    if (this.cancelReason !== null)
      this.emit({ type: 'universalityState', state: 'cancelled', message: this.cancelReason });
    else if (closed !== null)
      this.emit({ type: 'universalityState', state: 'error', message: closed });
    else this.emit({ type: 'universalityState', state: 'done' });
    if (sweep === this) {
      sweep = null;
      if (unused()) disposeWhenIdle();
    }
    publish();
  }

  private progress(index: number, p: UniversalityProgress): void {
    this.inFlight.set(index, p);
    publish();
    // The earliest run in flight speaks for the sweep, with how many run beside it.
    const first = Math.min(...this.inFlight.keys());
    const shown = this.inFlight.get(first);
    if (shown)
      this.emit({
        type: 'universalityProgress',
        progress: { ...shown, running: this.inFlight.size },
      });
  }

  pause(): void {
    this.pool.hold(() => this.emit({ type: 'universalityState', state: 'paused' }));
  }

  resume(): void {
    this.pool.release();
    this.emit({ type: 'universalityState', state: 'running' });
  }

  cancel(reason: string): void {
    if (this.cancelReason !== null) return;
    this.cancelReason = reason;
    this.pool.cancelAll();
  }
}

/**
 * The setup a sweep runs with once its ensembles are weighed against the CPU pool (issue 14),
 * each ensemble size on its own measurement (a grid's ensemble of eight may win where its
 * ensemble of one loses): the ensembles that measured faster stay on the GPU, the others' runs
 * go to the pool, and the note gives the numbers. Where none stays, the pool is sized without
 * them.
 */
export async function chooseEnsembles(setup: PoolSetup): Promise<PoolSetup> {
  const plan = setup.ensembles;
  const weigh = setup.weigh;
  if (!weigh || !plan || plan.groups.length === 0) return setup;
  const sizes = [...new Set(plan.groups.map((g) => g.members.length))].sort((a, b) => b - a);
  const bySize = new Map<number, EnsembleChoice>();
  for (const runs of sizes)
    bySize.set(
      runs,
      ensembleChoice({
        forced: false,
        runs,
        ensemble: await measureSweepEnsemble(runs),
        cpu: weigh.cpu,
        workers: weigh.cpuSizing.size,
      }),
    );
  const reasons = sizes.map((n) => bySize.get(n)!.reason).join('; ');
  const kept = plan.groups.filter((g) => bySize.get(g.members.length)!.gpu);
  if (kept.length === plan.groups.length)
    return { ...setup, ensembles: { ...plan, note: `${plan.note}; ${reasons}` } };
  const moved = plan.groups.filter((g) => !bySize.get(g.members.length)!.gpu);
  const movedRuns = moved.flatMap((g) => g.members.map((m) => m.index));
  const cpu = [...plan.cpu, ...movedRuns].sort((a, b) => a - b);
  const n = (k: number, one: string, many: string) => `${k} ${k === 1 ? one : many}`;
  if (kept.length === 0)
    return {
      ...setup,
      sizing: weigh.cpuSizing,
      ensembles: {
        groups: [],
        cpu,
        note: `${n(cpu.length, 'run trains', 'runs train')} on the CPU pool; ${reasons}`,
      },
    };
  const onGpu = kept.reduce((a, g) => a + g.members.length, 0);
  const parts = [
    `${n(onGpu, 'run', 'runs')} train${onGpu === 1 ? 's' : ''} as ${kept.length === 1 ? 'one fused ensemble' : `${kept.length} fused ensembles`} on the GPU`,
    `${movedRuns.length} on the CPU pool where their ensemble size measured slower`,
    ...(plan.cpuNote ? [plan.cpuNote] : []),
    reasons,
  ];
  return {
    ...setup,
    ensembles: { groups: kept, cpu, note: parts.join('; '), cpuNote: plan.cpuNote },
  };
}

/** Run-steps/s of an ensemble of `runs` runs in a job worker (once per page and size). */
export function measureSweepEnsemble(runs: number): ReturnType<typeof measureEnsemble> {
  return measureEnsemble(runs, spawnJobWorker);
}

/** A sweep waiting for its ensembles to be weighed (a pause or cancel asked meanwhile). */
let starting: { paused: boolean } | null = null;

/** Starts a sweep's runs (`runs`: those still to make, with their plan indices) on the pool. */
export function startPoolSweep(
  _mode: UniversalityMode,
  runs: { index: number; spec: UniversalityRunSpec }[],
  total: number,
  setup: PoolSetup,
): void {
  sweep?.cancel('Stopped: another sweep was started.');
  starting = null;
  const begin = (chosen: PoolSetup, paused = false) => {
    const s = new PoolSweep(poolFor(chosen), runs, total, chosen.ensembles);
    sweep = s;
    publish();
    void s.run();
    if (paused) s.pause();
  };
  if (!setup.weigh) return begin(setup);
  // The sweep cancelled above reports nothing more: the store is this one's now.
  sweep = null;
  const pending = { paused: false };
  starting = pending;
  usePool.setState({ gpu: 'timing the GPU ensemble against the CPU pool' });
  void chooseEnsembles(setup).then((chosen) => {
    if (starting !== pending) return;
    starting = null;
    begin(chosen, pending.paused);
  });
}

export function pausePoolSweep(): void {
  // The store says 'pausing' until the sweep starts and holds its workers.
  if (starting) starting.paused = true;
  sweep?.pause();
}

export function resumePoolSweep(): void {
  if (starting) starting.paused = false;
  sweep?.resume();
}

/** Stops the running sweep (its store entry becomes 'cancelled' with `reason`). */
export function cancelPoolSweep(reason = 'Cancelled.'): void {
  if (starting) {
    starting = null;
    usePool.setState({ gpu: null });
    applyUniversalityEvent({ type: 'universalityState', state: 'cancelled', message: reason });
  }
  sweep?.cancel(reason);
}

export function poolSweepRunning(): boolean {
  return sweep !== null || starting !== null;
}

/** Leaving the page: the workers end. */
export function disposePagePool(): void {
  starting = null;
  sweep?.cancel('Stopped: the page was left.');
  sweep = null;
  disposePool('the page was left');
}

/** Test builds only: the next ensemble's worker destroys its WebGPU device at `step`. */
export function loseEnsembleGpuAt(step: number): void {
  if (TEST_HOOKS) ensembleGpuLossAt = step;
}

/** The step the next ensemble (a sweep's or a forgetting seed's) loses its device at, once. */
export function takeEnsembleGpuLoss(): number | null {
  const at = TEST_HOOKS ? ensembleGpuLossAt : null;
  ensembleGpuLossAt = null;
  return at;
}

/** Test builds only: the next `n` jobs dispatched crash their worker while they run. */
export function crashPoolJobs(n = 1): void {
  if (!TEST_HOOKS) return;
  if (pool && !pool.disposed) pool.armCrashes(n);
  else pendingCrashes += n;
}
