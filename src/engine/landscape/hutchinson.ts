/**
 * Hutchinson's trace estimator: tr H = E[zᵀHz] for Rademacher probes z (entries ±1), reported
 * as the mean over probes with its standard error (sample sd / √probes). Only the quadratic
 * form is needed, so for W2 each probe costs the forward half of a Hessian–vector product.
 */
import { Rng } from '../data/rng';

export interface TraceEstimate {
  value: number;
  stderr: number;
  probes: number;
}

export function hutchinsonTrace(
  quadratic: (z: Float64Array) => number,
  dim: number,
  probes: number,
  seed = 1,
  signal?: AbortSignal,
): TraceEstimate {
  if (!(Number.isInteger(probes) && probes >= 2))
    throw new Error(`hutchinsonTrace: need at least 2 probes for a standard error, got ${probes}`);
  const rng = new Rng(seed);
  const z = new Float64Array(dim);
  let mean = 0;
  let m2 = 0;
  for (let k = 0; k < probes; k++) {
    signal?.throwIfAborted();
    for (let i = 0; i < dim; i++) z[i] = rng.next() < 0.5 ? -1 : 1;
    const x = quadratic(z);
    // Welford: one pass, no cancellation.
    const d = x - mean;
    mean += d / (k + 1);
    m2 += d * (x - mean);
  }
  const sd = Math.sqrt(m2 / (probes - 1));
  return { value: mean, stderr: sd / Math.sqrt(probes), probes };
}
