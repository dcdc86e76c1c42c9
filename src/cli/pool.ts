/**
 * The CLI's pool (issue 13): `--workers N` threads (node:worker_threads), each with its own
 * wasm backend and data copy, running the engine's job function on sweep jobs and flatness
 * shares. Jobs go to idle workers in order (a sweep's costliest first); a worker that dies (a
 * crash, not an error the job throws) is replaced and its job re-queued once, then reported
 * failed — nothing else is lost.
 * Each thread holds one data set copy (about 8 MB for the embedded digits, 55 MB for full
 * MNIST) and its own tfjs heap.
 */
import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import type { JobResult } from '../engine/jobs/run';
import type { JobSpec } from '../engine/jobs/spec';
import { estimateJobCost, longestFirst } from '../engine/jobs/cost';
import {
  mergeShares,
  splitShare,
  type FlatnessSearch,
  type FlatnessShare,
} from '../engine/jobs/flatness';
import type { ModeFlatnessResult } from '../engine/landscape/flatness';
import type { RunSummary, SweepJobSpec, SweepRunner } from '../engine/experiments/sweeps';
import type { AnalyseTask } from './gpuSweep';

export type PoolTask =
  | { type: 'job'; spec: JobSpec }
  | { type: 'flatness'; share: FlatnessShare }
  // A window a GPU ensemble trained, to analyse (gpuSweep.ts).
  | { type: 'analyse'; task: AnalyseTask };
export type PoolRequest = PoolTask & { id: number };
export type PoolReply =
  { id: number; ok: true; result: unknown } | { id: number; ok: false; error: string };

/** One task's outcome: its result, or why it failed (its own error, or its worker died twice). */
export type Outcome<T> = { ok: true; result: T } | { ok: false; error: string };

/** Default pool size: all cores but one (the main thread's), at least 1. */
export function defaultWorkers(): number {
  return Math.max(1, availableParallelism() - 1);
}

export interface PoolOptions {
  /** MNIST IDX folder every worker loads, or null for the embedded digits. */
  idx: string | null;
  /** The worker's TypeScript entry (tests substitute one); default poolWorker.ts. */
  entry?: URL;
  log?: (s: string) => void;
}

interface Task {
  request: PoolTask;
  attempts: number;
  resolve: (o: Outcome<unknown>) => void;
}

interface Slot {
  worker: Worker;
  ready: boolean;
  task: Task | null;
}

export class WorkerPool {
  readonly size: number;
  private readonly slots: Slot[] = [];
  private readonly queue: Task[] = [];
  private nextId = 1;
  private closed = false;
  /** Threads that died before they were ready, and the last thread error: a pool that cannot start stops. */
  private startFailures = 0;
  private lastError = '';

  constructor(
    size: number,
    private readonly opts: PoolOptions,
  ) {
    if (!Number.isInteger(size) || size < 1 || size > 64)
      throw new Error(`--workers must be a whole number in 1…64, got ${size}`);
    this.size = size;
    for (let i = 0; i < size; i++) this.slots.push(this.spawn());
  }

  private spawn(): Slot {
    const entry = this.opts.entry ?? new URL('./poolWorker.ts', import.meta.url);
    const worker = new Worker(new URL('./workerBoot.mjs', import.meta.url), {
      workerData: { entry: entry.href, idx: this.opts.idx },
    });
    const slot: Slot = { worker, ready: false, task: null };
    worker.on('message', (m: PoolReply | { ready: true } | { log: string }) => {
      if ('log' in m) {
        this.opts.log?.(m.log);
        return;
      }
      if ('ready' in m) {
        slot.ready = true;
      } else if (slot.task) {
        const t = slot.task;
        slot.task = null;
        t.resolve(m.ok ? { ok: true, result: m.result } : { ok: false, error: m.error });
      }
      this.dispatch();
    });
    // A thrown error in the thread also ends it: 'exit' follows and does the replacing.
    worker.on('error', (e) => {
      this.lastError = e.message;
      this.opts.log?.(`worker thread error: ${e.message}`);
    });
    worker.on('exit', (code) => this.died(slot, code));
    return slot;
  }

  private died(slot: Slot, code: number): void {
    if (this.closed) return;
    const i = this.slots.indexOf(slot);
    if (i < 0) return;
    const t = slot.task;
    if (!slot.ready && ++this.startFailures > 2 * this.size) {
      // Threads that cannot even load would be replaced forever: fail what is waiting.
      this.closed = true;
      const why = `the pool's threads cannot start (${this.lastError || `exit ${code}`})`;
      for (const q of this.queue.splice(0)) q.resolve({ ok: false, error: why });
      for (const s of this.slots) s.task?.resolve({ ok: false, error: why });
      void Promise.all(this.slots.map((s) => s.worker.terminate()));
      return;
    }
    this.slots[i] = this.spawn();
    if (t) {
      if (t.attempts < 2) {
        this.opts.log?.(`a worker died (exit ${code}) during a job; re-queued`);
        this.queue.unshift(t);
      } else {
        t.resolve({ ok: false, error: `its worker died twice (last exit code ${code})` });
      }
    }
    this.dispatch();
  }

  private dispatch(): void {
    for (const slot of this.slots) {
      if (!slot.ready || slot.task || this.queue.length === 0) continue;
      const t = this.queue.shift()!;
      t.attempts++;
      slot.task = t;
      slot.worker.postMessage({ ...t.request, id: this.nextId++ });
    }
  }

  /** Runs one task on the next idle worker. */
  submit<T>(request: PoolTask): Promise<Outcome<T>> {
    if (this.closed) throw new Error('the pool is closed');
    return new Promise((resolve) => {
      this.queue.push({ request, attempts: 0, resolve: resolve as Task['resolve'] });
      this.dispatch();
    });
  }

  /**
   * Every spec as a job, outcomes in spec order; the costliest start first (cost.ts: a sweep
   * ends with its longest run), which changes when a job runs and no number.
   */
  runJobs(specs: readonly JobSpec[]): Promise<Outcome<JobResult>[]> {
    const outcomes: Promise<Outcome<JobResult>>[] = [];
    for (const i of longestFirst(specs.map((spec) => estimateJobCost(spec))))
      outcomes[i] = this.submit<JobResult>({ type: 'job', spec: specs[i] });
    return Promise.all(outcomes);
  }

  /**
   * The flatness search split over the pool (one share per worker); throws when a share
   * fails, as the one search would.
   */
  readonly flatnessSearch: FlatnessSearch = async (share) => {
    // Copies: a mode's direction is a view into the whole PCA basis, which a message would clone.
    const own = {
      ...share,
      modes: share.modes.map((m) => ({ ...m, direction: Float64Array.from(m.direction) })),
    };
    const outcomes = await Promise.all(
      splitShare(own, this.size).map((s) =>
        this.submit<ModeFlatnessResult[]>({ type: 'flatness', share: s }),
      ),
    );
    const failed = outcomes.find((o) => !o.ok);
    if (failed && !failed.ok) throw new Error(`flatness search: ${failed.error}`);
    return mergeShares(
      own,
      outcomes.map((o) => (o.ok ? o.result : [])),
    );
  };

  async close(): Promise<void> {
    this.closed = true;
    await Promise.all(this.slots.map((s) => s.worker.terminate()));
  }
}

/** A failed job of a sweep: its spec and why (the JSON's `failed`). */
export interface FailedJob {
  spec: JobSpec;
  error: string;
}

/**
 * A sweep runner on the pool: the summaries of the jobs that finished, in spec order; the
 * others are appended to `failed`.
 */
export function poolSweepRunner(pool: WorkerPool, failed: FailedJob[]): SweepRunner {
  return async (specs: readonly SweepJobSpec[]) => {
    const outcomes = await pool.runJobs(specs);
    const out: RunSummary[] = [];
    outcomes.forEach((o, i) => {
      if (o.ok && o.result.kind !== 'forgetting') out.push(o.result.summary);
      else failed.push({ spec: specs[i], error: o.ok ? 'not a sweep result' : o.error });
    });
    return out;
  };
}
