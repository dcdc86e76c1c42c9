/**
 * How many job workers the page's pool starts (issue 13): all cores but the page's own
 * (`navigator.hardwareConcurrency − 1`, at least 1) or the link's `workers=` (1…16), capped so
 * that the pool stays within POOL_MEMORY_BUDGET. Each worker holds one copy of the data set, a
 * TensorFlow.js wasm backend and the run it trains: its share is WORKER_BASE_BYTES plus the
 * largest run's peak as the run check estimates it (runChecks.ts, which counts the data too).
 */
export const MAX_POOL_WORKERS = 16;

/** The most the pool's workers may hold together (a browser tab is killed near 4 GB). */
export const POOL_MEMORY_BUDGET = 2 * 2 ** 30;

/**
 * A job worker's own share beside its run: its isolate, the engine's scripts, the tfjs wasm
 * backend's heap. Measured in headless Chromium on 2026-12-04 (the sum of the browser's
 * processes' RSS before and after a pool of 1, 2 and 4 workers ran the optimizer comparison at
 * h 10, B 500 on the embedded digits): 232, 204 and 189 MB per worker, of which the run check
 * counts 127 MB for that run (data copies included); the rest, rounded up, is counted here.
 */
export const WORKER_BASE_BYTES = 128 * 2 ** 20;

export interface PoolSizing {
  size: number;
  /** Why that many, in the reader's words (the run panel shows it). */
  reason: string;
  /** The memory one worker is counted at. */
  perWorkerBytes: number;
}

function mb(bytes: number): string {
  return `${Math.round(bytes / 2 ** 20).toLocaleString('en')} MB`;
}

/**
 * The pool's size for `cores` logical cores, the link's choice (`requested`, or null) and a
 * run's peak memory (`runBytes`, the largest of the sweep's runs).
 */
export function poolSizing(
  cores: number | undefined,
  requested: number | null,
  runBytes: number,
): PoolSizing {
  const perWorkerBytes = WORKER_BASE_BYTES + Math.max(0, runBytes);
  const byMemory = Math.max(1, Math.floor(POOL_MEMORY_BUDGET / perWorkerBytes));
  const c = cores && cores > 0 ? Math.floor(cores) : 2;
  const wanted = requested ?? Math.min(MAX_POOL_WORKERS, Math.max(1, c - 1));
  const why =
    requested !== null ? `workers=${requested} in the link` : `${c} cores, one left for the page`;
  if (byMemory < wanted) {
    return {
      size: byMemory,
      perWorkerBytes,
      reason: `${why}, capped at ${byMemory} by the ${mb(POOL_MEMORY_BUDGET)} memory budget (≈ ${mb(perWorkerBytes)} a worker)`,
    };
  }
  return { size: wanted, perWorkerBytes, reason: `${why}; ≈ ${mb(perWorkerBytes)} a worker` };
}
