/**
 * The two constraints of sequential learning (SCIENCE.md, Fig. 4), as plain float64 functions
 * of the flattened W2 (row-major, dim = h²), plus the parameters the tfjs trainer needs to
 * apply their proximal steps on the backend.
 *
 *  - LDC (landscape-dependent constraints, the paper's Eq. 14):
 *      P(w) = λ · Σ_{i=1..N_c} c_i² / F_i²,   c_i = (w − w1*)·p_i,
 *    over N_c orthonormal task-1 PCA modes p_i with flatness F_i. A mode whose flatness is not a
 *    finite positive number (a side of its profile never reached the threshold) carries no
 *    constraint: its weight 1/F² is taken as 0.
 *  - EWC (Kirkpatrick et al. 2017):
 *      P(w) = (λ/2) · Σ_j Fisher_j · (w_j − w1*_j)².
 *
 * Stiffness. An explicit gradient step on P diverges once α·2λ/F_i² > 2 (LDC) or
 * α·λ·Fisher_j > 2 (EWC). Instead the trainer takes the SGD step on the task-2 loss and then
 * the EXACT proximal step of P,
 *      prox(y) = argmin_x ½‖x − y‖²/α + P(x),
 * i.e. forward–backward splitting. Both penalties are separable quadratics, so prox is closed
 * form: with d = y − w1*,
 *      LDC: x = y − Σ_i s_i (d·p_i) p_i,   s_i = (2αλ/F_i²) / (1 + 2αλ/F_i²),
 *      EWC: x_j = y_j − s_j d_j,           s_j = αλ·Fisher_j / (1 + αλ·Fisher_j).
 * Written as "subtract the shrunk part" so that λ = 0 gives s = 0 and x = y bit for bit, and
 * s ∈ [0, 1) for every λ ≥ 0: the step contracts towards w1* and can never diverge. For small
 * α·λ/F² it agrees with the explicit step to first order; for large λ the constrained
 * coordinates are pinned to w1*.
 */

export type Method = 'none' | 'ldc' | 'ewc';

/** A quadratic penalty around the task-1 solution w1*. */
export interface Penalty {
  readonly method: Method;
  readonly lambda: number;
  readonly dim: number;
  value(w: ArrayLike<number>): number;
  /** ∇P(w), into `out` when given. */
  gradient(w: ArrayLike<number>, out?: Float64Array): Float64Array;
  /** argmin_x ½‖x − y‖²/α + P(x), into `out` when given (may alias y only for Float64Array). */
  proximal(y: ArrayLike<number>, alpha: number, out?: Float64Array): Float64Array;
  /** What the tfjs trainer needs to apply `proximal` at step size α. */
  proximalSpec(alpha: number): ProximalSpec;
}

/** Backend form of a proximal step: W2 ← W2 − shrink ∘ (projected displacement). */
export type ProximalSpec =
  | { kind: 'none' }
  | { kind: 'ewc'; anchor: Float32Array; shrink: Float32Array }
  | { kind: 'ldc'; anchor: Float32Array; modes: Float32Array; nc: number; shrink: Float32Array };

function checkLambda(lambda: number): void {
  if (!(lambda >= 0) || !Number.isFinite(lambda))
    throw new Error(`penalty: λ must be a finite number ≥ 0, got ${lambda}`);
}

/** 1/F² for a usable flatness, else 0 (no constraint along that mode). */
export function inverseSquareFlatness(F: number): number {
  return Number.isFinite(F) && F > 0 ? 1 / (F * F) : 0;
}

/**
 * LDC's proximal shrink per mode, s_i = (2αλ/F_i²)/(1 + 2αλ/F_i²), from the modes' flatness
 * alone (what a task-2 ensemble needs without the modes themselves).
 */
export function ldcShrink(
  flatness: ArrayLike<number>,
  lambda: number,
  alpha: number,
): Float64Array {
  checkLambda(lambda);
  return Float64Array.from(flatness, (F) => {
    const a = 2 * alpha * lambda * inverseSquareFlatness(F);
    return a / (1 + a);
  });
}

export class NoPenalty implements Penalty {
  readonly method = 'none' as const;
  readonly lambda = 0;
  constructor(readonly dim: number) {}
  value(): number {
    return 0;
  }
  gradient(_w: ArrayLike<number>, out?: Float64Array): Float64Array {
    const g = out ?? new Float64Array(this.dim);
    g.fill(0);
    return g;
  }
  proximal(y: ArrayLike<number>, _alpha: number, out?: Float64Array): Float64Array {
    const x = out ?? new Float64Array(this.dim);
    for (let j = 0; j < this.dim; j++) x[j] = y[j];
    return x;
  }
  proximalSpec(): ProximalSpec {
    return { kind: 'none' };
  }
}

export class LdcPenalty implements Penalty {
  readonly method = 'ldc' as const;
  readonly dim: number;
  readonly nc: number;
  /** 1/F_i² per constrained mode (0 for an unusable flatness). */
  readonly weights: Float64Array;

  /**
   * @param anchor w1* (length dim)
   * @param modes nc × dim row-major orthonormal modes p_i
   * @param flatness F_i, one per mode
   */
  constructor(
    readonly anchor: Float64Array,
    readonly modes: Float64Array,
    readonly flatness: Float64Array,
    readonly lambda: number,
  ) {
    checkLambda(lambda);
    this.dim = anchor.length;
    this.nc = flatness.length;
    if (modes.length !== this.nc * this.dim) {
      throw new Error(
        `LdcPenalty: ${modes.length} mode entries for ${this.nc} modes of dimension ${this.dim}`,
      );
    }
    this.weights = Float64Array.from(flatness, inverseSquareFlatness);
  }

  /** c_i = (w − w1*)·p_i. */
  coordinates(w: ArrayLike<number>): Float64Array {
    const c = new Float64Array(this.nc);
    const { dim, modes, anchor } = this;
    for (let i = 0; i < this.nc; i++) {
      const o = i * dim;
      let s = 0;
      for (let j = 0; j < dim; j++) s += (w[j] - anchor[j]) * modes[o + j];
      c[i] = s;
    }
    return c;
  }

  value(w: ArrayLike<number>): number {
    const c = this.coordinates(w);
    let s = 0;
    for (let i = 0; i < this.nc; i++) s += c[i] * c[i] * this.weights[i];
    return this.lambda * s;
  }

  gradient(w: ArrayLike<number>, out?: Float64Array): Float64Array {
    const c = this.coordinates(w);
    const g = out ?? new Float64Array(this.dim);
    g.fill(0);
    for (let i = 0; i < this.nc; i++) {
      const a = 2 * this.lambda * this.weights[i] * c[i];
      const o = i * this.dim;
      for (let j = 0; j < this.dim; j++) g[j] += a * this.modes[o + j];
    }
    return g;
  }

  /** s_i = (2αλ/F_i²)/(1 + 2αλ/F_i²). */
  shrink(alpha: number): Float64Array {
    return ldcShrink(this.flatness, this.lambda, alpha);
  }

  proximal(y: ArrayLike<number>, alpha: number, out?: Float64Array): Float64Array {
    const c = this.coordinates(y);
    const s = this.shrink(alpha);
    const x = out ?? new Float64Array(this.dim);
    for (let j = 0; j < this.dim; j++) x[j] = y[j];
    for (let i = 0; i < this.nc; i++) {
      const a = s[i] * c[i];
      const o = i * this.dim;
      for (let j = 0; j < this.dim; j++) x[j] -= a * this.modes[o + j];
    }
    return x;
  }

  proximalSpec(alpha: number): ProximalSpec {
    return {
      kind: 'ldc',
      anchor: Float32Array.from(this.anchor),
      modes: Float32Array.from(this.modes),
      nc: this.nc,
      shrink: Float32Array.from(this.shrink(alpha)),
    };
  }
}

export class EwcPenalty implements Penalty {
  readonly method = 'ewc' as const;
  readonly dim: number;

  /**
   * @param anchor w1* (length dim)
   * @param fisher diagonal Fisher information of task 1 at w1* (length dim, ≥ 0)
   */
  constructor(
    readonly anchor: Float64Array,
    readonly fisher: Float64Array,
    readonly lambda: number,
  ) {
    checkLambda(lambda);
    this.dim = anchor.length;
    if (fisher.length !== this.dim)
      throw new Error(`EwcPenalty: Fisher has ${fisher.length} entries, expected ${this.dim}`);
  }

  value(w: ArrayLike<number>): number {
    let s = 0;
    for (let j = 0; j < this.dim; j++) {
      const d = w[j] - this.anchor[j];
      s += this.fisher[j] * d * d;
    }
    return 0.5 * this.lambda * s;
  }

  gradient(w: ArrayLike<number>, out?: Float64Array): Float64Array {
    const g = out ?? new Float64Array(this.dim);
    for (let j = 0; j < this.dim; j++)
      g[j] = this.lambda * this.fisher[j] * (w[j] - this.anchor[j]);
    return g;
  }

  /** s_j = αλF_j/(1 + αλF_j). */
  shrink(alpha: number): Float64Array {
    return this.fisher.map((f) => {
      const a = alpha * this.lambda * f;
      return a / (1 + a);
    });
  }

  proximal(y: ArrayLike<number>, alpha: number, out?: Float64Array): Float64Array {
    const s = this.shrink(alpha);
    const x = out ?? new Float64Array(this.dim);
    for (let j = 0; j < this.dim; j++) {
      const yj = y[j];
      x[j] = yj - s[j] * (yj - this.anchor[j]);
    }
    return x;
  }

  proximalSpec(alpha: number): ProximalSpec {
    return {
      kind: 'ewc',
      anchor: Float32Array.from(this.anchor),
      shrink: Float32Array.from(this.shrink(alpha)),
    };
  }
}
