/**
 * The page's pool of job workers (issue 13), the browser twin of the CLI's pool
 * (src/cli/pool.ts): N workers (src/worker/job.worker.ts), each with its own backend and data
 * copy; jobs go to idle workers in the order they were submitted; `runAll` hands the outcomes
 * back in job order. A worker that crashes (its error event) is terminated and replaced, and
 * its job re-queued once, then reported failed — nothing else is lost. Cancel drops the queued
 * jobs and aborts the running ones; hold keeps every worker at its next training step.
 *
 * The pool knows workers only as `PoolWorkerLike` (what a browser Worker offers), so the unit
 * tests drive it with in-process fakes.
 */
import type { FlatnessShare } from '../engine/jobs/flatness';
import type { ForgettingJobEvent, ForgettingJobResult } from '../engine/jobs/run';
import type { ModeFlatnessResult } from '../engine/landscape/flatness';
import type {
  AnalysePoolTask,
  EnsembleMemberEvent,
  EnsemblePoolTask,
  FlatnessPoolTask,
  ForgettingPoolTask,
  PoolCommand,
  PoolEvent,
  PoolTask,
  UniversalityProgress,
} from '../protocol/messages';
import type { UniversalityResult } from '../protocol/messages';

/** What the pool needs of a worker: a browser Worker, or a test's fake. */
export interface PoolWorkerLike {
  postMessage(message: unknown): void;
  terminate(): void;
  onmessage: ((e: MessageEvent<PoolEvent>) => void) | null;
  onerror: ((e: ErrorEvent) => void) | null;
}

/** One job's outcome: its result, or why not (its own error, its worker crashed twice, cancel). */
export type Outcome<T = UniversalityResult> =
  { ok: true; result: T } | { ok: false; error: string; cancelled: boolean };

export interface PoolOptions {
  size: number;
  spawn: () => PoolWorkerLike;
  /** The 'init' every new worker is sent (backend, data set). */
  init: Extract<PoolCommand, { type: 'init' }>;
  /** Test builds: a message sent right after the next `crashes` jobs, to the worker taking each. */
  crashMessage?: unknown;
}

/** What happened to the pool so far (the run panel and the tests read it). */
export interface PoolStats {
  /** Workers that crashed and were replaced. */
  replaced: number;
  /** Jobs re-queued after their worker crashed. */
  requeued: number;
}

interface Job {
  task: PoolTask | FlatnessPoolTask | ForgettingPoolTask | EnsemblePoolTask | AnalysePoolTask;
  attempts: number;
  onProgress?: (p: UniversalityProgress) => void;
  /** A forgetting job's streamed events (a re-queued job streams from its start again). */
  onForgettingEvents?: (events: ForgettingJobEvent[]) => void;
  /** An ensemble job's runs, as each hands out its window or fails. */
  onMember?: (e: EnsembleMemberEvent) => void;
  /**
   * A sweep run's outcome, a flatness share's, a forgetting seed's or an ensemble's (the task's
   * type says which).
   */
  resolve: (
    o: Outcome<UniversalityResult | ModeFlatnessResult[] | ForgettingJobResult | null>,
  ) => void;
}

interface Slot {
  worker: PoolWorkerLike;
  ready: boolean;
  job: Job | null;
  jobId: number;
  /** Holding at a training step (or idle) since the last hold. */
  held: boolean;
}

export class WorkerPool {
  readonly size: number;
  readonly stats: PoolStats = { replaced: 0, requeued: 0 };
  private readonly slots: Slot[] = [];
  private readonly queue: Job[] = [];
  private nextId = 1;
  private closed = false;
  private holding = false;
  private onHeld: (() => void) | null = null;
  /** Workers that failed before they were ready: a pool that cannot start stops. */
  private startFailures = 0;
  private crashes = 0;

  constructor(private readonly opts: PoolOptions) {
    if (!Number.isInteger(opts.size) || opts.size < 1 || opts.size > 64)
      throw new Error(`the pool size must be a whole number in 1…64, got ${opts.size}`);
    this.size = opts.size;
    for (let i = 0; i < opts.size; i++) this.slots.push(this.spawn());
  }

  /** Workers with a job now. */
  get busy(): number {
    return this.slots.filter((s) => s.job).length;
  }

  /** Test builds: the next `n` jobs dispatched crash their worker while they run. */
  armCrashes(n: number): void {
    this.crashes += n;
  }

  private spawn(): Slot {
    const worker = this.opts.spawn();
    const slot: Slot = { worker, ready: false, job: null, jobId: 0, held: false };
    worker.onmessage = (e) => this.onEvent(slot, e.data);
    worker.onerror = (e) => {
      e.preventDefault();
      this.crashed(slot, e.message || 'an uncaught error');
    };
    worker.postMessage(this.opts.init);
    if (this.holding) worker.postMessage({ type: 'hold' } satisfies PoolCommand);
    return slot;
  }

  private onEvent(slot: Slot, e: PoolEvent): void {
    if (this.closed || !this.slots.includes(slot)) return;
    switch (e.type) {
      case 'ready':
        slot.ready = true;
        break;
      case 'initError':
        this.crashed(slot, e.message);
        return;
      case 'progress':
        if (slot.job && e.id === slot.jobId) slot.job.onProgress?.(e.progress);
        return;
      case 'forgettingEvents':
        if (slot.job && e.id === slot.jobId) slot.job.onForgettingEvents?.(e.events);
        return;
      case 'held':
        slot.held = true;
        this.checkHeld();
        return;
      case 'ensembleResumePoint':
      case 'ensembleWindow':
      case 'ensembleRunFailed':
        if (slot.job && e.id === slot.jobId) slot.job.onMember?.(e);
        return;
      case 'done':
      case 'flatnessDone':
      case 'forgettingDone':
      case 'ensembleDone':
      case 'failed': {
        const job = slot.job;
        if (!job || e.id !== slot.jobId) return;
        slot.job = null;
        job.resolve(
          e.type === 'failed'
            ? { ok: false, error: e.message, cancelled: e.cancelled }
            : {
                ok: true,
                result:
                  e.type === 'flatnessDone' ? e.modes : e.type === 'ensembleDone' ? null : e.result,
              },
        );
        break;
      }
    }
    this.dispatch();
    this.checkHeld();
  }

  /** A worker that threw (or could not start): replaced; its job re-queued once. */
  private crashed(slot: Slot, why: string): void {
    const i = this.slots.indexOf(slot);
    if (this.closed || i < 0) return;
    slot.worker.terminate();
    const job = slot.job;
    slot.job = null;
    if (!slot.ready && ++this.startFailures > 2 * this.size) {
      // Workers that cannot even load would be replaced forever: fail what is waiting.
      const error = `the pool's workers cannot start (${why})`;
      this.dispose(error);
      job?.resolve({ ok: false, error, cancelled: false });
      return;
    }
    this.stats.replaced++;
    this.slots[i] = this.spawn();
    if (job) {
      if (job.attempts < 2) {
        this.stats.requeued++;
        this.queue.unshift(job);
      } else {
        job.resolve({
          ok: false,
          error: `its worker crashed twice (last: ${why})`,
          cancelled: false,
        });
      }
    }
    this.dispatch();
    this.checkHeld();
  }

  private dispatch(): void {
    if (this.holding) return;
    for (const slot of this.slots) {
      if (!slot.ready || slot.job || this.queue.length === 0) continue;
      const job = this.queue.shift()!;
      job.attempts++;
      slot.job = job;
      slot.jobId = this.nextId++;
      slot.worker.postMessage({
        type: 'job',
        id: slot.jobId,
        task: job.task,
      } satisfies PoolCommand);
      if (this.crashes > 0 && this.opts.crashMessage) {
        this.crashes--;
        slot.worker.postMessage(this.opts.crashMessage);
      }
    }
  }

  /** Queues a job for the next idle worker; its outcome settles the promise. */
  private enqueue<T>(job: Omit<Job, 'attempts' | 'resolve'>): Promise<Outcome<T>> {
    if (this.closed)
      return Promise.resolve({ ok: false, error: 'the pool is closed', cancelled: true });
    return new Promise((resolve) => {
      this.queue.push({ ...job, attempts: 0, resolve: resolve as Job['resolve'] });
      this.dispatch();
    });
  }

  /** Runs one job on the next idle worker (a sweep run, or a run's analysis). */
  submit(
    task: PoolTask | AnalysePoolTask,
    onProgress?: (p: UniversalityProgress) => void,
  ): Promise<Outcome> {
    return this.enqueue({ task, onProgress });
  }

  /**
   * Trains an ensemble's runs on the next idle worker; `onMember` hears each run's window or
   * failure as it comes (a job re-queued after a crash may send a run's window again).
   */
  submitEnsemble(
    task: EnsemblePoolTask,
    onMember: (e: EnsembleMemberEvent) => void,
    onProgress?: (p: UniversalityProgress) => void,
  ): Promise<Outcome<null>> {
    return this.enqueue({ task, onProgress, onMember });
  }

  /**
   * Measures one share of a flatness search on the next idle worker (crash handling as for a
   * run). A share holds no hold point: a paused sweep's workers take it up after the pause.
   */
  submitFlatness(share: FlatnessShare, data: number): Promise<Outcome<ModeFlatnessResult[]>> {
    // The job worker answers a flatness task with 'flatnessDone' only.
    return this.enqueue({ task: { type: 'flatness', share, data } satisfies FlatnessPoolTask });
  }

  /**
   * Runs one seed of a forgetting sweep on the next idle worker (crash handling as for a run);
   * `onEvents` gets its streamed events.
   */
  submitForgetting(
    task: ForgettingPoolTask,
    onEvents: (events: ForgettingJobEvent[]) => void,
  ): Promise<Outcome<ForgettingJobResult>> {
    return this.enqueue({ task, onForgettingEvents: onEvents });
  }

  /** Every task as a job, outcomes in task order. */
  runAll(
    tasks: readonly PoolTask[],
    onProgress?: (p: UniversalityProgress) => void,
  ): Promise<Outcome[]> {
    return Promise.all(tasks.map((t) => this.submit(t, onProgress)));
  }

  /** Drops the queued jobs and aborts the running ones (each answers as cancelled). */
  cancelAll(): void {
    for (const job of this.queue.splice(0))
      job.resolve({ ok: false, error: 'cancelled', cancelled: true });
    for (const slot of this.slots) {
      if (slot.job)
        slot.worker.postMessage({ type: 'cancel', id: slot.jobId } satisfies PoolCommand);
    }
    // Held jobs must wake to see their abort; the hold is over with the sweep.
    if (this.holding) this.release();
  }

  /**
   * Holds every worker at its next training step and dispatches nothing; `onHeld` is called
   * once every worker holds (or is idle).
   */
  hold(onHeld: () => void): void {
    this.holding = true;
    this.onHeld = onHeld;
    for (const slot of this.slots) {
      slot.held = false;
      slot.worker.postMessage({ type: 'hold' } satisfies PoolCommand);
    }
    this.checkHeld();
  }

  release(): void {
    this.holding = false;
    this.onHeld = null;
    for (const slot of this.slots) {
      slot.held = false;
      slot.worker.postMessage({ type: 'release' } satisfies PoolCommand);
    }
    this.dispatch();
  }

  private checkHeld(): void {
    if (!this.holding || !this.onHeld) return;
    if (this.slots.every((s) => !s.job || s.held)) {
      const f = this.onHeld;
      this.onHeld = null;
      f();
    }
  }

  /** Ends every worker; what was queued or running is reported as cancelled with `why`. */
  dispose(why = 'the pool was closed'): void {
    if (this.closed) return;
    this.closed = true;
    for (const job of this.queue.splice(0)) job.resolve({ ok: false, error: why, cancelled: true });
    for (const slot of this.slots) {
      slot.worker.terminate();
      slot.job?.resolve({ ok: false, error: why, cancelled: true });
      slot.job = null;
    }
  }

  get disposed(): boolean {
    return this.closed;
  }
}
