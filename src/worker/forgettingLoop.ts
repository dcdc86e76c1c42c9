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
  checkDigitGroup,
  forgettingRun,
  type CurvePoint,
  type ForgettingConfig,
  type RunKey,
  type RunResult,
  type SweepPoint,
} from '../engine/forgetting';
import type { ForgettingProgress, TaskSamples, TrainerEvent } from '../protocol/messages';
import { yieldToEventLoop } from './yieldToEventLoop';

/** At most one streamed batch per this many milliseconds (≤ 10 messages a second). */
const BATCH_MS = 100;
const YIELD_MS = 25;
const PIXELS = 28 * 28;

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

/**
 * `perGroup` training images of each digit group, taking the group's digits in turn (for
 * {2,3} and 8 images: 2, 3, 2, 3, …), each the next example of that digit in the training
 * split. Groups that are not valid digit sets come back empty.
 */
export function taskSamples(data: Dataset, groups: number[][], perGroup: number): TaskSamples[] {
  const { images, labels, count } = data.train;
  return groups.map((g) => {
    let digits: number[];
    try {
      digits = checkDigitGroup(g);
    } catch {
      return { digits: [], images: new Uint8Array(0), labels: new Uint8Array(0), count: 0 };
    }
    const next = new Map<number, number>(digits.map((d) => [d, 0]));
    const outImages = new Uint8Array(perGroup * PIXELS);
    const outLabels = new Uint8Array(perGroup);
    let n = 0;
    for (let k = 0; k < perGroup * digits.length && n < perGroup; k++) {
      const d = digits[k % digits.length];
      let i = next.get(d) ?? count;
      while (i < count && labels[i] !== d) i++;
      next.set(d, i + 1);
      if (i >= count) continue;
      outImages.set(images.subarray(i * PIXELS, (i + 1) * PIXELS), n * PIXELS);
      outLabels[n] = d;
      n++;
    }
    return {
      digits,
      images: outImages.slice(0, n * PIXELS),
      labels: outLabels.slice(0, n),
      count: n,
    };
  });
}
