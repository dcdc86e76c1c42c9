/**
 * The catastrophic-forgetting sweep inside the trainer worker (section 6, SCIENCE.md Fig. 4):
 * pulls the events of `forgettingRun` (src/engine/forgetting) and forwards them to the UI.
 * Phase changes, the task-1 mode tables and the final result go out at once; the streamed part
 * (curve points, finished runs, means over seeds, progress) is batched into at most one
 * 'forgettingBatch' message per BATCH_MS. Cancelling aborts the engine's AbortSignal, which
 * it checks between steps; the loop yields to the event loop every YIELD_MS so that a cancel
 * (or a training 'start') queued behind it is seen.
 */
import type { Dataset } from '../engine/data/dataset';
import {
  forgettingRun,
  type CurvePoint,
  type ForgettingConfig,
  type RunKey,
  type RunResult,
  type SweepPoint,
} from '../engine/forgetting';
import type { ForgettingProgress, TrainerEvent } from '../protocol/messages';
import { taskSamples } from './taskSamples';
import { yieldToEventLoop } from './yieldToEventLoop';

/** At most one streamed batch per this many milliseconds (≤ 10 messages a second). */
const BATCH_MS = 100;
const YIELD_MS = 25;

export class ForgettingLoop {
  private readonly ctrl = new AbortController();
  private readonly post: (e: TrainerEvent) => void;
  private curves: { key: RunKey; point: CurvePoint }[] = [];
  private runs: RunResult[] = [];
  private sweep = new Map<string, SweepPoint>();
  private progress: ForgettingProgress | null = null;
  private lastFlush = 0;
  /** Resolves once the sweep has ended (done, cancelled or failed) and its tensors are freed. */
  readonly finished: Promise<void>;

  constructor(config: ForgettingConfig, data: Dataset, post: (e: TrainerEvent) => void) {
    this.post = post;
    this.finished = this.loop(config, data);
  }

  /** Stops the sweep; `reason` is shown to the user. Await `finished` for it to end. */
  cancel(reason: string): void {
    if (!this.ctrl.signal.aborted) this.ctrl.abort(new CancelledError(reason));
  }

  private async loop(config: ForgettingConfig, data: Dataset): Promise<void> {
    this.post({ type: 'forgettingState', state: 'running' });
    this.post({
      type: 'forgettingSamples',
      groups: taskSamples(data, [config.task1, config.task2], 8),
    });
    let lastYield = performance.now();
    try {
      const gen = forgettingRun(config, data, { signal: this.ctrl.signal, streamCurves: true });
      for (;;) {
        const it = await gen.next();
        if (it.done) break;
        const e = it.value;
        switch (e.type) {
          case 'phase':
            this.flush();
            this.post({
              type: 'forgettingPhase',
              phase: e.phase,
              seed: e.seed,
              seedIndex: e.seedIndex,
              message: e.message,
            });
            break;
          case 'progress':
            this.progress = {
              phase: e.phase,
              seed: e.seed,
              fraction: e.fraction,
              etaSeconds: e.etaSeconds,
            };
            break;
          case 'task1Modes':
            this.flush();
            this.post({ type: 'forgettingModes', report: e.report });
            break;
          case 'curve':
            this.curves.push({ key: e.key, point: e.point });
            break;
          case 'run':
            this.runs.push(e.run);
            break;
          case 'sweepPoint':
            this.sweep.set(`${e.point.method}|${e.point.lambda}|${e.point.nc ?? ''}`, e.point);
            break;
          case 'done':
            this.progress = {
              phase: 'summary',
              seed: e.result.config.seeds[e.result.config.seeds.length - 1],
              fraction: 1,
              etaSeconds: 0,
            };
            this.flush();
            this.post({ type: 'forgettingDone', result: e.result });
            break;
        }
        const now = performance.now();
        if (now - this.lastFlush >= BATCH_MS) this.flush();
        if (now - lastYield > YIELD_MS) {
          await yieldToEventLoop();
          lastYield = performance.now();
        }
      }
      this.post({ type: 'forgettingState', state: 'done' });
    } catch (err) {
      this.flush();
      const reason = this.ctrl.signal.reason as unknown;
      if (this.ctrl.signal.aborted && reason instanceof CancelledError) {
        this.post({ type: 'forgettingState', state: 'cancelled', message: reason.message });
      } else {
        this.post({
          type: 'forgettingState',
          state: 'error',
          message: err instanceof Error ? err.message : String(err),
        });
      }
    }
  }

  private flush(): void {
    this.lastFlush = performance.now();
    if (!this.curves.length && !this.runs.length && !this.sweep.size && !this.progress) return;
    this.post({
      type: 'forgettingBatch',
      curves: this.curves,
      runs: this.runs,
      sweep: [...this.sweep.values()],
      progress: this.progress,
    });
    this.curves = [];
    this.runs = [];
    this.sweep = new Map();
    this.progress = null;
  }
}

class CancelledError extends Error {}
