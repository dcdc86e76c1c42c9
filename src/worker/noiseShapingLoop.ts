/**
 * Noise shaping (SI §S9) inside the trainer worker: pulls the events of `noiseShapingSeed` for
 * each seed and forwards finished runs and progress to the UI. Cancelling aborts the engine's
 * signal; the loop yields to the event loop every YIELD_MS so that a cancel (or a training
 * 'start') queued behind it is seen.
 */
import type { Dataset } from '../engine/data/dataset';
import { noiseShapingSeed, type NoiseShapingConfig } from '../engine/experiments/noiseShaping';
import type { TrainerEvent } from '../protocol/messages';
import { yieldToEventLoop } from './yieldToEventLoop';

const YIELD_MS = 25;
/** At most this many progress messages a second. */
const PROGRESS_MS = 200;

export class NoiseShapingLoop {
  private readonly ctrl = new AbortController();
  /** Resolves once the runs have ended (done, cancelled or failed). */
  readonly finished: Promise<void>;

  constructor(
    config: NoiseShapingConfig,
    seeds: number[],
    data: Dataset,
    private readonly post: (e: TrainerEvent) => void,
  ) {
    this.finished = this.loop(config, seeds, data);
  }

  cancel(reason: string): void {
    if (!this.ctrl.signal.aborted) this.ctrl.abort(new Error(reason));
  }

  private async loop(config: NoiseShapingConfig, seeds: number[], data: Dataset): Promise<void> {
    const signal = this.ctrl.signal;
    this.post({ type: 'noiseShapingState', state: 'running' });
    let lastYield = performance.now();
    let lastProgress = 0;
    try {
      for (let i = 0; i < seeds.length; i++) {
        const gen = noiseShapingSeed({ ...config, seed: seeds[i] }, data, { signal });
        for (;;) {
          const it = await gen.next();
          if (it.done) break;
          const e = it.value;
          if (e.type === 'run') this.post({ type: 'noiseShapingRun', run: e.run });
          else if (e.type === 'progress') {
            const now = performance.now();
            if (now - lastProgress >= PROGRESS_MS) {
              lastProgress = now;
              this.post({
                type: 'noiseShapingProgress',
                fraction: (i + e.fraction) / seeds.length,
                message: `seed ${seeds[i]}: ${e.message}`,
              });
            }
          }
          if (performance.now() - lastYield > YIELD_MS) {
            await yieldToEventLoop();
            lastYield = performance.now();
          }
          signal.throwIfAborted();
        }
      }
      this.post({ type: 'noiseShapingState', state: 'done' });
    } catch (e) {
      const message = e instanceof Error ? e.message : String(e);
      this.post({
        type: 'noiseShapingState',
        state: signal.aborted ? 'cancelled' : 'error',
        message,
      });
    }
  }
}
