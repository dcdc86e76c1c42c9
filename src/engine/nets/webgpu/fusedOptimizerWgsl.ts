/**
 * The optimizer's part of the fused WGSL kernels (both layouts): how one weight moves given its
 * mean-loss gradient g, as tfMlp.ts's applyOptimizerUpdate defines it, in float32:
 *   SGD       w ← w − α·g                                   (no state: the kernel is unchanged)
 *   momentum  v ← μ·v + g, w ← w − α·v                      (v: one float per weight)
 *   Adam      m ← β1·m + (1−β1)·g, s ← β2·s + (1−β2)·g²,
 *             w ← w − (m / (√s·c + ε))·a                    (m, then s: two floats per weight)
 * with Adam's bias corrections a = α/(1−β1ᵗ) and c = 1/√(1−β2ᵗ) computed on the host in float64
 * per run and step (as tfjs's scalars are), so float32 powers of β2 ≈ 1 lose nothing; they go
 * up with each chunk's indices, after the moments.
 *
 * A kernel is specialised to one optimizer: its runs share it (μ may differ per run). The state
 * sits in the weights' layout (moment i of run r at r·P + i; Adam's s after all runs' m).
 */
import type { OptimizerSettings } from '../netTypes';

export interface OptimizerWgsl {
  /** Binding 8 (the moments; Adam's per-step corrections after them) and the update function. */
  decls: string;
  /**
   * Statements once per run and step before any update, after `lead` (a line break and indent;
   * nothing at all for SGD); `at`: the run-step index (r·K + s).
   */
  prelude(at: string, lead?: string): string;
  /** The statement that moves weight `i` (an index into `weights`) by gradient `g`. */
  apply(i: string, g: string): string;
  /** An expression: weight `i` after gradient `g` (the caller stores it). */
  next(i: string, g: string): string;
}

/** A WGSL abstract-float literal of x (the shader converts it to the nearest float32). */
function lit(x: number): string {
  const s = String(x);
  return /[.e]/.test(s) ? s : `${s}.0`;
}

/** Floats of optimizer state per weight. */
export function momentCopies(o: Pick<OptimizerSettings, 'kind'>): number {
  return o.kind === 'adam' ? 2 : o.kind === 'momentum' ? 1 : 0;
}

export function optimizerWgsl(o: OptimizerSettings): OptimizerWgsl {
  if (o.kind === 'sgd')
    return {
      decls: '',
      prelude: () => '',
      apply: (i, g) => `weights[${i}] -= lr * ${g};`,
      next: (i, g) => `weights[${i}] - lr * ${g}`,
    };
  if (o.kind === 'momentum')
    return {
      decls: `
// Momentum's velocity per weight, in the weights' layout.
@group(0) @binding(8) var<storage, read_write> moments: array<f32>;

fn upd(i: u32, g: f32, lr: f32, mu: f32) -> f32 {
  let v = mu * moments[i] + g;
  moments[i] = v;
  return weights[i] - lr * v;
}
`,
      prelude: (_at, lead = '') => `${lead}let mu = params[r].mu;`,
      apply: (i, g) => `weights[${i}] = upd(${i}, ${g}, lr, mu);`,
      next: (i, g) => `upd(${i}, ${g}, lr, mu)`,
    };
  return {
    decls: `
// Adam's first moments of every run, then its second moments, in the weights' layout; then per
// run and step (run-major) α/(1−β1ᵗ) and 1/√(1−β2ᵗ). One buffer: WebGPU guarantees only eight
// storage buffers per stage, and SGD's kernel already binds seven.
@group(0) @binding(8) var<storage, read_write> moments: array<f32>;

const B1: f32 = ${lit(o.beta1)};
const C1: f32 = ${lit(1 - o.beta1)};
const B2: f32 = ${lit(o.beta2)};
const C2: f32 = ${lit(1 - o.beta2)};
const EPS: f32 = ${lit(o.epsilon)};

fn upd(i: u32, g: f32, c: vec2<f32>) -> f32 {
  let j = i + arrayLength(&params) * P;
  let m = B1 * moments[i] + C1 * g;
  let s = B2 * moments[j] + C2 * (g * g);
  moments[i] = m;
  moments[j] = s;
  return weights[i] - m / (sqrt(s) * c.y + EPS) * c.x;
}
`,
    prelude: (at, lead = '') =>
      `${lead}let ac = vec2<f32>(moments[2u * arrayLength(&params) * P + 2u * (${at})], moments[2u * arrayLength(&params) * P + 2u * (${at}) + 1u]);`,
    apply: (i, g) => `weights[${i}] = upd(${i}, ${g}, ac);`,
    next: (i, g) => `upd(${i}, ${g}, ac)`,
  };
}

/**
 * Adam's bias corrections for `steps` steps of each run starting after step count t[r]
 * (run-major pairs: α/(1−β1ᵗ), 1/√(1−β2ᵗ)), in float64 as tfMlp.ts computes them.
 */
export function adamCorrections(
  o: OptimizerSettings,
  lr: ArrayLike<number>,
  t: ArrayLike<number>,
  steps: number,
): Float32Array<ArrayBuffer> {
  const R = lr.length;
  const out = new Float32Array(R * steps * 2);
  for (let r = 0; r < R; r++)
    for (let s = 0; s < steps; s++) {
      const step = t[r] + s + 1;
      out[2 * (r * steps + s)] = lr[r] / (1 - o.beta1 ** step);
      out[2 * (r * steps + s) + 1] = 1 / Math.sqrt(1 - o.beta2 ** step);
    }
  return out;
}
