/**
 * The edge of stability (Cohen et al. 2021; SCIENCE.md, "Curvature"): gradient descent at step
 * α is linearly unstable along a Hessian direction with eigenvalue λ > 2/α, and full-batch GD
 * is observed to sharpen until λ_max ≈ 2/α and hover there, while SGD stays below.
 *
 * Here: λ_max of the W2 block (W1, W3 fixed) at a list of weight checkpoints, and a full-batch
 * GD run on W2 alone from a warm start, both by Lanczos on the exact Hessian (hessian.ts).
 * A short Krylov space suffices for the largest eigenvalue, which converges first.
 */
import { W2Hessian, type W2HessianInputs } from './hessian';
import { lanczos } from './lanczos';

export const LAMBDA_MAX_ITERATIONS = 20;

export interface LambdaMaxPoint {
  lambdaMax: number;
  loss: number;
}

const breathe = () => new Promise<void>((r) => setTimeout(r, 0));

/** λ_max of H by `iterations` Lanczos steps. */
export function lambdaMax(hess: W2Hessian, iterations = LAMBDA_MAX_ITERATIONS, seed = 1): number {
  return lanczos(hess, { iterations, seed }).values[0];
}

/** λ_max and the loss at each checkpoint (each with its own W1, W2, W3). */
export async function lambdaMaxAlongTraining<
  C extends { W1: Float32Array; W2: Float32Array | Float64Array; W3: Float32Array },
>(
  data: Omit<W2HessianInputs, 'w1' | 'w3'>,
  checkpoints: readonly C[],
  opts: { iterations?: number; signal?: AbortSignal; onProgress?: (f: number) => void } = {},
): Promise<(C & LambdaMaxPoint)[]> {
  const out: (C & LambdaMaxPoint)[] = [];
  for (let i = 0; i < checkpoints.length; i++) {
    opts.signal?.throwIfAborted();
    const c = checkpoints[i];
    const h = await W2Hessian.fromData({ ...data, w1: c.W1, w3: c.W3 }, c.W2);
    out.push({ ...c, lambdaMax: lambdaMax(h, opts.iterations), loss: h.loss });
    opts.onProgress?.((i + 1) / checkpoints.length);
    await breathe();
  }
  return out;
}

export interface GradientDescentPoint extends LambdaMaxPoint {
  step: number;
}

/**
 * Full-batch gradient descent on W2 from `start` (whose first layer and W3 stay fixed), with
 * λ_max measured every `every` steps and at the end. Stops early, with what it has, if the
 * loss becomes non-finite (a step past the edge can diverge).
 */
export async function gradientDescentEdge(
  start: W2Hessian,
  p: {
    lr: number;
    steps: number;
    every: number;
    iterations?: number;
    signal?: AbortSignal;
    onProgress?: (f: number) => void;
  },
): Promise<GradientDescentPoint[]> {
  if (!(p.lr > 0)) throw new Error(`gradientDescentEdge: step size must be > 0, got ${p.lr}`);
  if (!(Number.isInteger(p.steps) && p.steps >= 1 && Number.isInteger(p.every) && p.every >= 1))
    throw new Error('gradientDescentEdge: steps and every must be positive integers');
  const out: GradientDescentPoint[] = [];
  let hess = start;
  const w = start.centre();
  const g = new Float64Array(w.length);
  for (let t = 0; t <= p.steps; t++) {
    if (!Number.isFinite(hess.loss)) break;
    if (t % p.every === 0 || t === p.steps) {
      p.signal?.throwIfAborted();
      out.push({ step: t, lambdaMax: lambdaMax(hess, p.iterations), loss: hess.loss });
      p.onProgress?.(t / p.steps);
      await breathe();
    }
    if (t === p.steps) break;
    hess.gradient(g);
    for (let k = 0; k < w.length; k++) w[k] -= p.lr * g[k];
    hess = hess.at(w);
  }
  return out;
}
