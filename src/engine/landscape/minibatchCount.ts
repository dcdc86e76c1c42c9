/**
 * How many minibatches the active temperature needs, with no TensorFlow.js import: the page's
 * own thread checks a run's settings with it (runChecks.ts) and must never load TensorFlow.js,
 * which lives in the workers only.
 */

/** Hard cap on K used by `minibatchesForRelativeError` unless told otherwise. */
export const MAX_MINIBATCHES = 1000;

/**
 * K for a target relative standard error `rel` of the variance (Gaussian rule
 * se(s²)/s² = √(2/(K−1)) ⇒ K = ⌈2/rel²⌉ + 1; 0.05 → 801), capped at `cap` (default 1,000: 50,000
 * samples at B = 50, ~10 MB of H1 at h = 50; K = 801 took 0.3 s to build and 0.7 s per
 * 21-point profile on single-threaded wasm, 784-50-50-10).
 */
export function minibatchesForRelativeError(rel: number, cap = MAX_MINIBATCHES): number {
  if (!(rel > 0)) throw new Error(`minibatchesForRelativeError: rel must be positive, got ${rel}`);
  return Math.max(2, Math.min(cap, Math.ceil(2 / (rel * rel) - 1e-9) + 1));
}
