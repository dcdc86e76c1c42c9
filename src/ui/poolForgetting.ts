/**
 * Section 6's catastrophic-forgetting sweep on the page's pool of job workers (issue 13): one
 * job per seed (its pretraining, task 1 and its analysis, then every task-2 run of its plan),
 * each the engine's job function on a worker, merged in seed order by the one merge every
 * runner uses (forgettingFromJobs) — so the numbers are the serial sweep's to the last bit.
 *
 * The reader sees what the trainer's former sweep loop showed, as the forgetting store's events:
 * the phase of the earliest seed in flight, the progress over all seeds (each seed weighs the
 * same), every task-1 mode table, the curve of the earliest seed's run in progress, finished runs
 * and the means over the seeds finished so far, batched to at most ~10 messages a second; at the
 * end the merged result. A crashed worker is replaced and its seed re-run once (the pool's own
 * rule); what the re-run streams again is not shown twice. A seed that fails stops the sweep,
 * keeping the runs already shown, as one failing run stopped the serial sweep.
 */
import { DEFAULT_CONFIG } from '../engine/experiments/config';
import type { CurvePoint, ForgettingConfig, RunKey, RunResult } from '../engine/forgetting';
import { aggregate, sweepKey, type SweepPoint } from '../engine/forgetting/selection';
import { forgettingFromJobs } from '../engine/jobs/forgettingMerge';
import type { ForgettingJobEvent, ForgettingJobResult } from '../engine/jobs/run';
import type {
  ForgettingPoolTask,
  ForgettingProgress,
  ForgettingWorkerEvent,
  IdxFile,
} from '../protocol/messages';
import type { BackendName } from '../engine/backend';
import { applyForgettingEvent } from '../state/forgettingStore';
import type { Outcome, WorkerPool } from './workerPool';
import {
  borrowPool,
  gpuCandidate,
  poolSetup,
  publishPool,
  returnPool,
  takeEnsembleGpuLoss,
  type PoolSetup,
} from './poolSweeps';
import { usePool } from './poolStore';

/** At most one batch of streamed events to the store per this many milliseconds. */
const BATCH_MS = 100;

type PhaseEvent = Extract<ForgettingWorkerEvent, { type: 'forgettingPhase' }>;

let current: PoolForgetting | null = null;

/** What the sweep needs of the pool (a WorkerPool; the unit tests give a fake). */
export type ForgettingPool = Pick<WorkerPool, 'submitForgetting' | 'cancelAll'>;

/** A forgetting sweep's pool, and whether its seeds' task-2 runs may use the GPU. */
export interface ForgettingPoolSetup extends PoolSetup {
  task2Gpu: ForgettingPoolTask['task2Gpu'];
}

/**
 * The pool for a forgetting sweep: sized as for section 7 (cores or `workers=`, the memory
 * budget, counting each worker at a run of the sweep's network), and no larger than its seeds.
 * Where section 7 would weigh GPU ensembles (the fused trainer chosen or forced, or a hardware
 * adapter timed), each seed's task-2 runs may train as one ensemble on its worker's device.
 */
export function forgettingPoolSetup(
  config: ForgettingConfig,
  idx: IdxFile[] | null,
  forcedBackend?: BackendName,
): ForgettingPoolSetup {
  // A variance–flatness run of the same network and B holds more than a seed's job (its window
  // spans the whole training set, the forgetting window only task 1): a bound for sizing.
  const proxy = {
    ...DEFAULT_CONFIG,
    hidden: config.hidden,
    batchSize: config.batchSize,
    lr: config.lr,
  };
  const base = poolSetup(
    [{ index: 0, spec: { kind: 'mlp', config: proxy } }],
    idx,
    forcedBackend,
    false,
  );
  const setup: ForgettingPoolSetup = {
    ...base,
    task2Gpu: forcedBackend === 'webgpu' ? 'forced' : gpuCandidate() ? 'auto' : undefined,
  };
  const seeds = config.seeds.length;
  if (setup.sizing.size <= seeds) return setup;
  return {
    ...setup,
    sizing: {
      ...setup.sizing,
      size: seeds,
      reason: `${setup.sizing.reason}; ${seeds} seed${seeds === 1 ? '' : 's'}, one job each`,
    },
  };
}

export class PoolForgetting {
  private cancelReason: string | null = null;
  private readonly t0 = performance.now();
  private readonly n: number;
  /** Per seed (by index in the config): its job's fraction done and latest phase. */
  private readonly fraction: number[];
  private readonly phases: (PhaseEvent | null)[];
  /** Per seed: its run in progress and the curve so far. */
  private readonly live: ({ key: RunKey; curve: CurvePoint[] } | null)[];
  /** Per seed: its finished runs by sweep key (a re-run job's repeats are dropped). */
  private readonly runs: Map<string, RunResult>[];
  private readonly reported = new Set<number>();
  private readonly inFlight = new Set<number>();
  /** The seed whose phase and curve the store shows: the earliest in flight. */
  private shown: number | null = null;
  private pending: {
    curves: { key: RunKey; point: CurvePoint }[];
    runs: RunResult[];
    sweep: Map<string, SweepPoint>;
  } = { curves: [], runs: [], sweep: new Map() };
  private lastFlush = 0;
  private timer: ReturnType<typeof setTimeout> | null = null;
  private progress: ForgettingProgress | null = null;
  /** Per seed: where its task-2 runs trained and why (where the GPU was offered). */
  private readonly task2: (string | null)[];

  /**
   * `emit`: where the store's events go (dropped once another sweep started); `onEnd`: called
   * once every seed's job has ended; `publish`: a job started or ended (the pool's counts).
   */
  constructor(
    private readonly pool: ForgettingPool,
    private readonly config: ForgettingConfig,
    private readonly out: {
      emit: (e: ForgettingWorkerEvent) => void;
      onEnd: () => void;
      publish: () => void;
      /** Where the seeds' task-2 runs train, for the pool badge (null: nothing to say). */
      gpuNote?: (note: string | null) => void;
    },
    private readonly task2Gpu?: ForgettingPoolTask['task2Gpu'],
  ) {
    this.n = config.seeds.length;
    this.task2 = config.seeds.map(() => null);
    this.fraction = config.seeds.map(() => 0);
    this.phases = config.seeds.map(() => null);
    this.live = config.seeds.map(() => null);
    this.runs = config.seeds.map(() => new Map());
  }

  private emit(e: ForgettingWorkerEvent): void {
    // After a cancel only the final state goes out: the runs still answering are dropped.
    if (this.cancelReason !== null && e.type !== 'forgettingState') return;
    this.out.emit(e);
  }

  async run(): Promise<void> {
    this.emit({ type: 'forgettingState', state: 'running' });
    const outcomes = await Promise.all(
      this.config.seeds.map((seed, si) =>
        this.pool
          .submitForgetting(this.task(seed), (events) => this.onEvents(si, events))
          .then((o) => this.ended(si, o)),
      ),
    );
    if (this.timer !== null) clearTimeout(this.timer);
    this.flush();
    const failed = outcomes.findIndex((o) => !o.ok && !o.cancelled);
    const closed = outcomes.find((o) => !o.ok && o.cancelled);
    if (this.cancelReason !== null) {
      this.emit({ type: 'forgettingState', state: 'cancelled', message: this.cancelReason });
    } else if (failed >= 0 || closed) {
      const o = (failed >= 0 ? outcomes[failed] : closed) as { error: string };
      const which = failed >= 0 ? `Seed ${this.config.seeds[failed]} failed: ` : '';
      this.emit({
        type: 'forgettingState',
        state: 'error',
        message: `${which}${o.error}. The sweep was stopped; the runs shown are kept.`,
      });
    } else {
      const results = outcomes.map((o) => (o as { result: ForgettingJobResult }).result);
      const result = forgettingFromJobs(this.config, results, (performance.now() - this.t0) / 1000);
      this.emit({
        type: 'forgettingBatch',
        curves: [],
        runs: [],
        sweep: [],
        progress: {
          phase: 'summary',
          seed: this.config.seeds[this.n - 1],
          fraction: 1,
          etaSeconds: 0,
        },
      });
      this.emit({ type: 'forgettingDone', result });
      this.emit({ type: 'forgettingState', state: 'done' });
    }
    this.out.onEnd();
  }

  private task(seed: number): ForgettingPoolTask {
    const lossAt = this.task2Gpu ? takeEnsembleGpuLoss() : null;
    return {
      type: 'forgetting',
      config: this.config,
      seed,
      ...(this.task2Gpu && { task2Gpu: this.task2Gpu }),
      ...(lossAt !== null && { loseGpuAt: lossAt }),
    };
  }

  /** The badge's word on the seeds' task-2 runs: where each trained and why. */
  private noteTask2(si: number, reason: string): void {
    this.task2[si] = reason;
    const done = this.config.seeds.flatMap((seed, i) => {
      const r = this.task2[i];
      return r === null ? [] : [{ seed, r }];
    });
    const same = done.every((d) => d.r === done[0].r);
    const note = same
      ? `section 6's task-2 runs of seed${done.length === 1 ? '' : 's'} ${done.map((d) => d.seed).join(', ')} trained on ${done[0].r}`
      : `section 6's task-2 runs trained on: ${done.map((d) => `seed ${d.seed}, ${d.r}`).join('; ')}`;
    this.out.gpuNote?.(note);
  }

  /** A seed's job ended: another seed (the earliest in flight) speaks for the sweep. */
  private ended(si: number, o: Outcome<ForgettingJobResult>): Outcome<ForgettingJobResult> {
    this.inFlight.delete(si);
    this.out.publish();
    if (o.ok && o.result.task2) this.noteTask2(si, o.result.task2.reason);
    if (o.ok) this.fraction[si] = 1;
    else if (!o.cancelled && this.cancelReason === null) {
      // One failing seed stops the sweep, as one failing run stopped the serial loop.
      this.pool.cancelAll();
    }
    this.speak();
    return o;
  }

  private onEvents(si: number, events: ForgettingJobEvent[]): void {
    if (!this.inFlight.has(si)) {
      this.inFlight.add(si);
      this.out.publish();
      // A job that starts (again, after its worker crashed) streams from its beginning.
      this.live[si] = null;
      this.speak();
    }
    for (const e of events) {
      switch (e.type) {
        case 'phase': {
          const p: PhaseEvent = {
            type: 'forgettingPhase',
            phase: e.phase,
            seed: e.seed,
            seedIndex: e.seedIndex,
            message: e.message,
          };
          this.phases[si] = p;
          if (si === this.shown) {
            this.flush();
            this.emit(p);
          }
          break;
        }
        case 'progress':
          this.fraction[si] = Math.max(this.fraction[si], e.fraction);
          this.updateProgress();
          break;
        case 'task1Modes':
          if (!this.reported.has(si)) {
            this.reported.add(si);
            this.flush();
            this.emit({ type: 'forgettingModes', report: e.report });
          }
          break;
        case 'curve': {
          const l = this.live[si];
          const same =
            l !== null &&
            l.key.method === e.key.method &&
            l.key.lambda === e.key.lambda &&
            l.key.nc === e.key.nc;
          this.live[si] = same
            ? { key: l.key, curve: [...l.curve, e.point] }
            : {
                key: e.key,
                curve: [e.point],
              };
          if (si === this.shown) this.pending.curves.push({ key: e.key, point: e.point });
          break;
        }
        case 'run': {
          const k = sweepKey(e.run);
          if (this.runs[si].has(k)) break;
          this.runs[si].set(k, e.run);
          this.live[si] = null;
          this.pending.runs.push(e.run);
          // The mean over the seeds done so far, summed in seed order as the serial sweep does.
          const same = this.runs.flatMap((m) => {
            const r = m.get(k);
            return r ? [r] : [];
          });
          this.pending.sweep.set(k, aggregate(same));
          break;
        }
      }
    }
    this.schedule();
  }

  /** The earliest seed in flight speaks: its phase, and its run's curve so far. */
  private speak(): void {
    const next = this.inFlight.size ? Math.min(...this.inFlight) : null;
    if (next === this.shown) return;
    this.shown = next;
    if (next === null) return;
    this.flush();
    const p = this.phases[next];
    if (p) this.emit(p);
    const l = this.live[next];
    if (l) for (const point of l.curve) this.pending.curves.push({ key: l.key, point });
    this.updateProgress();
    this.schedule();
  }

  private updateProgress(): void {
    const fraction = this.fraction.reduce((a, b) => a + b, 0) / this.n;
    const el = (performance.now() - this.t0) / 1000;
    const p = this.shown !== null ? this.phases[this.shown] : null;
    this.progress = {
      phase: p?.phase ?? 'pretrain',
      seed: p?.seed ?? this.config.seeds[0],
      fraction,
      etaSeconds: fraction > 0.02 ? (el / fraction) * (1 - fraction) : null,
      running: this.inFlight.size,
    };
  }

  private schedule(): void {
    const wait = BATCH_MS - (performance.now() - this.lastFlush);
    if (wait <= 0) this.flush();
    else if (this.timer === null)
      this.timer = setTimeout(() => {
        this.timer = null;
        this.flush();
      }, wait);
  }

  private flush(): void {
    this.lastFlush = performance.now();
    const { curves, runs, sweep } = this.pending;
    if (!curves.length && !runs.length && !sweep.size && !this.progress) return;
    this.emit({
      type: 'forgettingBatch',
      curves,
      runs,
      sweep: [...sweep.values()],
      progress: this.progress,
    });
    this.pending = { curves: [], runs: [], sweep: new Map() };
    this.progress = null;
  }

  cancel(reason: string): void {
    if (this.cancelReason !== null) return;
    this.cancelReason = reason;
    this.pool.cancelAll();
  }
}

/** Starts a forgetting sweep on the pool (a sweep running there is cancelled first). */
export function startPoolForgetting(config: ForgettingConfig, setup: ForgettingPoolSetup): void {
  current?.cancel('Stopped: a new sweep was started.');
  if (setup.task2Gpu)
    usePool.setState({
      gpu:
        setup.task2Gpu === 'forced'
          ? "section 6's task-2 runs train as one GPU ensemble per seed (forced by ?backend=webgpu)"
          : "section 6: each seed's task-2 runs train as one GPU ensemble where measured faster than the CPU",
    });
  const s: PoolForgetting = new PoolForgetting(
    borrowPool(setup),
    config,
    {
      emit: (e) => {
        if (current === s) applyForgettingEvent(e);
      },
      onEnd: () => {
        if (current === s) current = null;
        returnPool();
      },
      publish: publishPool,
      gpuNote: (note) => {
        if (current === s) usePool.setState({ gpu: note });
      },
    },
    setup.task2Gpu,
  );
  current = s;
  void s.run();
}

/** Stops the running forgetting sweep; the store shows `reason`. */
export function cancelPoolForgetting(reason = 'Cancelled.'): void {
  current?.cancel(reason);
}
