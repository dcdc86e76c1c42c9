/**
 * Exact Hessian–vector products of the full-training-set loss with respect to W2 alone (W1 and
 * W3 fixed), for the no-bias network logits = relu(relu(X·W1)·W2)·W3 (SCIENCE.md, "Curvature").
 *
 * Method (Pearlmutter's R-operator, forward over reverse, by hand). With H1 = relu(X·W1) fixed,
 * the layer-2 pre-activation A = H1·W2 is linear in W2, so along a direction V:
 *   R{A} = H1·V,  R{H2} = R{A} ⊙ 1[A > 0]  (relu'' = 0 almost everywhere),
 *   R{Z} = R{H2}·W3,  R{∂L/∂Z} = (diag p − p pᵀ)·R{Z} per sample (the softmax Jacobian),
 *   H·V = H1ᵀ·[(R{∂L/∂Z}·W3ᵀ) ⊙ 1[A > 0]] / N.
 * Because relu'' vanishes, the W2 block of the Hessian equals its Gauss–Newton matrix
 * Jᵀ(diag p − p pᵀ)J / N: it is positive semi-definite, and vᵀHv needs only the forward half
 * (`quadratic`). Everything is float64 in plain loops over samples; a zero activation of H1
 * (about half of them) is skipped, which is where most of the speed comes from.
 *
 * H1 comes from `firstLayerH1` (nets/firstLayerPlain.ts, plain TypeScript), the same fixed first
 * layer the full-set loss and the flatness search use. Memory: H1 as float64, N·h doubles (3.2 MB at
 * N = 8,000, h = 50), plus the masks and probabilities of the current centre.
 */
import { firstLayerH1 } from '../nets/firstLayerPlain';
import type { W2ProblemInputs } from './w2Kernels';

export type W2HessianInputs = W2ProblemInputs;

/**
 * Bytes a W2Hessian holds for its centre (one `at` makes another set; H1 is shared): the labels
 * (int32), W3 and W2 (float64), the masks (a byte per sample and unit), the probabilities
 * (float64) and the per-sample scratch r, d and rz. The memory policy counts the curvature by it.
 */
export function hessianCentreBytes(count: number, hidden: number, classes = 10): number {
  const h = hidden;
  return (
    count * 4 +
    h * classes * 8 +
    h * h * 8 +
    count * h +
    count * classes * 8 +
    (2 * h + classes) * 8
  );
}

/** Bytes of a W2Hessian built from data: H1 as float64 (N·h doubles) and its centre's arrays. */
export function hessianBytes(count: number, hidden: number, classes = 10): number {
  return count * hidden * 8 + hessianCentreBytes(count, hidden, classes);
}

/** A linear operator v ↦ Hv on vectors of length `dim` (writes into `out`). */
export interface SymmetricOperator {
  dim: number;
  apply(v: Float64Array, out: Float64Array): void;
}

export class W2Hessian implements SymmetricOperator {
  readonly dim: number;
  readonly count: number;
  readonly hidden: number;
  readonly classes: number;
  private readonly h1: Float64Array;
  private readonly labels: Int32Array;
  private readonly w3: Float64Array;
  private readonly w2: Float64Array;
  /** 1 where A = H1·W2 > 0, per sample and hidden unit. */
  private readonly mask: Uint8Array;
  /** Softmax probabilities p, N × classes. */
  private readonly prob: Float64Array;
  private lossValue = 0;
  private readonly r: Float64Array;
  private readonly rz: Float64Array;
  private readonly d: Float64Array;

  /**
   * From the fixed first-layer activations: `h1` is N × h (row-major, non-negative), `w3`
   * h × classes, `w2` the centre (h × h). Throws on inconsistent sizes.
   */
  constructor(
    h1: Float64Array,
    labels: ArrayLike<number>,
    w3: ArrayLike<number>,
    w2: ArrayLike<number>,
    hidden: number,
    classes = 10,
  ) {
    const h = hidden;
    const N = labels.length;
    if (!(N > 0)) throw new Error('W2Hessian: no samples');
    if (h1.length !== N * h)
      throw new Error(`W2Hessian: H1 has ${h1.length} entries, expected ${N}×${h}`);
    if (w3.length !== h * classes)
      throw new Error(`W2Hessian: W3 has ${w3.length} entries, expected ${h}×${classes}`);
    if (w2.length !== h * h)
      throw new Error(`W2Hessian: W2 has ${w2.length} entries, expected ${h}×${h}`);
    this.dim = h * h;
    this.count = N;
    this.hidden = h;
    this.classes = classes;
    this.h1 = h1;
    this.labels = Int32Array.from(labels);
    for (let i = 0; i < N; i++) {
      if (!(this.labels[i] >= 0 && this.labels[i] < classes))
        throw new Error(`W2Hessian: label ${this.labels[i]} at ${i} is not in [0, ${classes})`);
    }
    this.w3 = Float64Array.from(w3);
    this.w2 = Float64Array.from(w2);
    this.mask = new Uint8Array(N * h);
    this.prob = new Float64Array(N * classes);
    this.r = new Float64Array(h);
    this.rz = new Float64Array(classes);
    this.d = new Float64Array(h);
    this.forward();
  }

  /** Builds H1 with the network's first layer, then the masks and probabilities at `w2`. */
  static async fromData(inp: W2HessianInputs, w2: ArrayLike<number>): Promise<W2Hessian> {
    const P = inp.inputSize ?? 784;
    const C = inp.classes ?? 10;
    const total = Math.floor(inp.images.length / P);
    const N = Math.min(inp.count ?? total, total, inp.labels.length);
    if (!(N > 0)) throw new Error('W2Hessian: no samples');
    if (inp.w1.length !== P * inp.hidden)
      throw new Error(`W2Hessian: W1 has ${inp.w1.length} entries, expected ${P}×${inp.hidden}`);
    const h1 = Float64Array.from(firstLayerH1(inp.images, inp.w1, P, inp.hidden, N));
    return Promise.resolve(new W2Hessian(h1, inp.labels.subarray(0, N), inp.w3, w2, inp.hidden, C));
  }

  /** The same fixed first layer and W3 at another centre W2 (H1 is shared, not copied). */
  at(w2: ArrayLike<number>): W2Hessian {
    return new W2Hessian(this.h1, this.labels, this.w3, w2, this.hidden, this.classes);
  }

  /** The centre W2 (a copy). */
  centre(): Float64Array {
    return this.w2.slice();
  }

  /** L(W2) = mean cross-entropy at the centre. */
  get loss(): number {
    return this.lossValue;
  }

  /** ∇_{W2} L at the centre. */
  gradient(out = new Float64Array(this.dim)): Float64Array {
    const { hidden: h, classes: C, count: N } = this;
    out.fill(0);
    const d = this.d;
    for (let s = 0; s < N; s++) {
      const p = this.prob.subarray(s * C, (s + 1) * C);
      const y = this.labels[s];
      const m = this.mask.subarray(s * h, (s + 1) * h);
      for (let j = 0; j < h; j++) {
        if (!m[j]) {
          d[j] = 0;
          continue;
        }
        let acc = 0;
        const w = j * C;
        for (let c = 0; c < C; c++) acc += this.w3[w + c] * p[c];
        d[j] = acc - this.w3[w + y];
      }
      this.scatter(s, d, out);
    }
    for (let k = 0; k < out.length; k++) out[k] /= N;
    return out;
  }

  /** H·v (v and out of length h², row-major like W2). */
  apply(v: Float64Array, out: Float64Array): void {
    const { hidden: h, classes: C, count: N } = this;
    if (v.length !== this.dim || out.length !== this.dim)
      throw new Error(`W2Hessian: vectors must have ${this.dim} entries`);
    out.fill(0);
    const d = this.d;
    const rz = this.rz;
    for (let s = 0; s < N; s++) {
      if (!this.directional(s, v)) continue;
      const p = this.prob.subarray(s * C, (s + 1) * C);
      let pr = 0;
      for (let c = 0; c < C; c++) pr += p[c] * rz[c];
      for (let c = 0; c < C; c++) rz[c] = p[c] * (rz[c] - pr);
      const m = this.mask.subarray(s * h, (s + 1) * h);
      for (let j = 0; j < h; j++) {
        if (!m[j]) {
          d[j] = 0;
          continue;
        }
        let acc = 0;
        const w = j * C;
        for (let c = 0; c < C; c++) acc += this.w3[w + c] * rz[c];
        d[j] = acc;
      }
      this.scatter(s, d, out);
    }
    for (let k = 0; k < out.length; k++) out[k] /= N;
  }

  /** H·v, allocating the result. */
  hvp(v: Float64Array): Float64Array {
    const out = new Float64Array(this.dim);
    this.apply(v, out);
    return out;
  }

  /** vᵀHv by the forward half only: mean over samples of R{Z}ᵀ(diag p − p pᵀ)R{Z}. */
  quadratic(v: ArrayLike<number>): number {
    const { classes: C, count: N } = this;
    if (v.length !== this.dim) throw new Error(`W2Hessian: vectors must have ${this.dim} entries`);
    const rz = this.rz;
    let total = 0;
    for (let s = 0; s < N; s++) {
      if (!this.directional(s, v)) continue;
      const p = this.prob.subarray(s * C, (s + 1) * C);
      let m1 = 0;
      let m2 = 0;
      for (let c = 0; c < C; c++) {
        m1 += p[c] * rz[c];
        m2 += p[c] * rz[c] * rz[c];
      }
      total += m2 - m1 * m1;
    }
    return total / N;
  }

  /** rz ← ((h1_s·V) ⊙ mask_s)·W3 for sample s; false when it is zero (nothing to add). */
  private directional(s: number, v: ArrayLike<number>): boolean {
    const { hidden: h, classes: C } = this;
    const r = this.r;
    r.fill(0);
    const a0 = s * h;
    let any = false;
    for (let i = 0; i < h; i++) {
      const a = this.h1[a0 + i];
      if (a === 0) continue;
      any = true;
      const row = i * h;
      for (let j = 0; j < h; j++) r[j] += a * v[row + j];
    }
    if (!any) return false;
    const rz = this.rz;
    rz.fill(0);
    const m = this.mask.subarray(a0, a0 + h);
    for (let j = 0; j < h; j++) {
      if (!m[j]) continue;
      const rj = r[j];
      const w = j * C;
      for (let c = 0; c < C; c++) rz[c] += rj * this.w3[w + c];
    }
    return true;
  }

  /** out[i, :] += h1_s[i]·d for every active input unit i. */
  private scatter(s: number, d: Float64Array, out: Float64Array): void {
    const h = this.hidden;
    const a0 = s * h;
    for (let i = 0; i < h; i++) {
      const a = this.h1[a0 + i];
      if (a === 0) continue;
      const row = i * h;
      for (let j = 0; j < h; j++) out[row + j] += a * d[j];
    }
  }

  /** Masks, probabilities and the loss at the centre. */
  private forward(): void {
    const { hidden: h, classes: C, count: N } = this;
    const a = new Float64Array(h);
    const z = new Float64Array(C);
    let loss = 0;
    for (let s = 0; s < N; s++) {
      a.fill(0);
      const a0 = s * h;
      for (let i = 0; i < h; i++) {
        const x = this.h1[a0 + i];
        if (x === 0) continue;
        const row = i * h;
        for (let j = 0; j < h; j++) a[j] += x * this.w2[row + j];
      }
      z.fill(0);
      for (let j = 0; j < h; j++) {
        const on = a[j] > 0;
        this.mask[a0 + j] = on ? 1 : 0;
        if (!on) continue;
        const w = j * C;
        for (let c = 0; c < C; c++) z[c] += a[j] * this.w3[w + c];
      }
      let zmax = -Infinity;
      for (let c = 0; c < C; c++) zmax = Math.max(zmax, z[c]);
      let sum = 0;
      for (let c = 0; c < C; c++) sum += Math.exp(z[c] - zmax);
      const lse = zmax + Math.log(sum);
      for (let c = 0; c < C; c++) this.prob[s * C + c] = Math.exp(z[c] - lse);
      loss += lse - z[this.labels[s]];
    }
    this.lossValue = loss / N;
  }
}
