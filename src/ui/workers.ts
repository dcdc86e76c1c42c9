/**
 * The single worker client of the page, created once from the URL's backend choice (already
 * validated by the URL schema). UI components call its commands; results come back through the
 * run store.
 *
 * Nothing of the lab loads with the page: the workers — and with them TensorFlow.js, the .wasm
 * files and the digits — start when a run is asked for (every command that needs them calls
 * `workers.ensureWorkers()`: Start, autorun, a sweep, a drop of files), or, on the full page
 * only, when the browser is idle after the first figures are drawn (`prefetchWhenIdle`), so
 * Start is instant there. An embed never prefetches: a course page with five figures loads five
 * figures, not five labs.
 */
import type { BackendName } from '../engine/backend';
import { useConfig } from '../state/configStore';
import { WorkerClient } from './workerClient';

const forced = useConfig.getState().backend as BackendName | null;
export const workers = new WorkerClient(forced ?? undefined);

/** Browsers without requestIdleCallback (Safari) wait this long after the first figures. */
const NO_IDLE_CALLBACK_MS = 2000;
/** The longest the prefetch waits for an idle moment on a page that never has one. */
const IDLE_TIMEOUT_MS = 10_000;

/**
 * Starts the workers once `drawn` has settled (the figures' first data), two frames have been
 * painted and the browser is idle. Returns a cancel (the page unmounting).
 */
export function prefetchWhenIdle(drawn: Promise<unknown>): () => void {
  let cancelled = false;
  const undo: (() => void)[] = [];
  const go = () => {
    if (!cancelled) workers.prefetch();
  };
  const whenIdle = () => {
    if (cancelled) return;
    if (typeof requestIdleCallback === 'function') {
      const id = requestIdleCallback(go, { timeout: IDLE_TIMEOUT_MS });
      undo.push(() => cancelIdleCallback(id));
    } else {
      const id = setTimeout(go, NO_IDLE_CALLBACK_MS);
      undo.push(() => clearTimeout(id));
    }
  };
  void drawn
    .catch(() => undefined)
    .then(() => {
      if (cancelled) return;
      const a = requestAnimationFrame(() => {
        const b = requestAnimationFrame(whenIdle);
        undo.push(() => cancelAnimationFrame(b));
      });
      undo.push(() => cancelAnimationFrame(a));
    });
  return () => {
    cancelled = true;
    for (const u of undo) u();
  };
}
