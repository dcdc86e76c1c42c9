/**
 * How many job workers the page's pool starts (issue 13): all cores but the page's own
 * (`navigator.hardwareConcurrency − 1`, at least 1) or the link's `workers=` (1…16), capped so
 * that the pool stays within POOL_MEMORY_BUDGET. Each worker holds one copy of the data set, a
 * TensorFlow.js wasm backend and the run it trains: its share is WORKER_BASE_BYTES plus the
 * largest run's peak as the run check estimates it (runChecks.ts, which counts the data too).
 *
 * Where a sweep trains fused GPU ensembles (ensemblePlan.ts), the worker that runs an ensemble
 * holds its data copy and every one of its runs' windows until each is handed out
 * (ensembleWorkerBytes: the windows alone up to half the engine's memory budget), and later
 * runs analyses as any worker does: it is counted at the larger of the two. As many ensembles
 * as there are workers may train at once, the largest counted first.
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
  /** The pool's whole count: its workers and the windows of the ensembles they may hold. */
  totalBytes: number;
}

function mb(bytes: number): string {
  return `${Math.round(bytes / 2 ** 20).toLocaleString('en')} MB`;
}

/**
 * The memory of `n` workers of `perWorkerBytes` each, of which the ones training an ensemble
 * hold `extra` more (largest first): the n largest may train at once, one a worker.
 */
function poolBytes(n: number, perWorkerBytes: number, extra: readonly number[]): number {
  let total = n * perWorkerBytes;
  for (let i = 0; i < Math.min(n, extra.length); i++) total += extra[i];
  return total;
}

/**
 * The pool's size for `cores` logical cores, the link's choice (`requested`, or null), a run's
 * peak memory (`runBytes`, the largest of the sweep's runs) and what each of the sweep's GPU
 * ensembles holds in its worker beside the worker's own share while it trains
 * (`ensembleBytes`, one entry an ensemble: ensembleWorkerBytes; none without).
 */
export function poolSizing(
  cores: number | undefined,
  requested: number | null,
  runBytes: number,
  ensembleBytes: readonly number[] = [],
): PoolSizing {
  const perWorkerBytes = WORKER_BASE_BYTES + Math.max(0, runBytes);
  // An ensemble's worker is counted at the larger of its ensemble and a run's peak.
  const ensembles = ensembleBytes
    .map((b) => Math.max(0, b - Math.max(0, runBytes)))
    .filter((b) => b > 0)
    .sort((a, b) => b - a);
  let byMemory = 1;
  while (
    byMemory < MAX_POOL_WORKERS &&
    poolBytes(byMemory + 1, perWorkerBytes, ensembles) <= POOL_MEMORY_BUDGET
  )
    byMemory++;
  const c = cores && cores > 0 ? Math.floor(cores) : 2;
  const wanted = requested ?? Math.min(MAX_POOL_WORKERS, Math.max(1, c - 1));
  const why =
    requested !== null ? `workers=${requested} in the link` : `${c} cores, one left for the page`;
  const size = Math.min(byMemory, wanted);
  const totalBytes = poolBytes(size, perWorkerBytes, ensembles);
  const held = ensembles.slice(0, size);
  const gpu = held.length
    ? `, and ${mb(held.reduce((a, b) => a + b, 0))} more for ${held.length === 1 ? 'one GPU ensemble’s windows' : `${held.length} GPU ensembles’ windows at once`}`
    : '';
  if (byMemory < wanted) {
    return {
      size,
      perWorkerBytes,
      totalBytes,
      reason: `${why}, capped at ${byMemory} by the ${mb(POOL_MEMORY_BUDGET)} memory budget (≈ ${mb(perWorkerBytes)} a worker${gpu})`,
    };
  }
  return {
    size,
    perWorkerBytes,
    totalBytes,
    reason: `${why}; ≈ ${mb(perWorkerBytes)} a worker${gpu}`,
  };
}
