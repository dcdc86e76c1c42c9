/**
 * The overall training loss L(w) as a function of W2 alone — fullSetLoss.ts's contract (mean
 * softmax cross-entropy over the first `count` training samples, W1 and W3 fixed, at points
 * w = centre + δ·direction) — in plain TypeScript, so the analysis worker carries no tensor
 * library. Network (SCIENCE.md): logits = relu(relu(X·W1)·W2)·W3, X = pixels/255, no biases.
 *
 * Method. H1 = relu(X·W1) once. Along a direction d the layer-2 pre-activation is linear in δ,
 * A + δ·B with A = H1·centre and B = H1·d, and so are the logits as long as no unit of the
 * sample changes side: z(δ) = z₀ + δ·q, z₀ = relu(A)·W3, q = (1[A > 0] ⊙ B)·W3. So, per sample:
 * once per centre A and z₀; once per direction B, q and the interval (lo, hi) of δ in which no
 * unit changes side; then a point costs C multiply-adds and one cross-entropy when δ is inside
 * it, plus a pass over the h units correcting the ones that changed side when it is not —
 * instead of the h² + h·C of evaluating the network afresh. The products H1·V run on the PCA
 * engine's GEMM (WebAssembly SIMD where available; w2Kernels.ts).
 *
 * The per-direction products are kept across calls up to `budgetBytes` (the first directions
 * met; past that, a direction's are made for the call and dropped). The flatness search asks
 * for a point or two along each of its modes per call (lockstep), so `measureFlatnessPlain`
 * runs it over groups of modes that fit (`directionCapacity`), dropping each group's products
 * before the next: every mode's search is the same as in one lockstep run, so are its numbers.
 *
 * Every value of a point depends only on (centre, direction, δ): not on which other points
 * share the call nor on what is kept, so a search split among workers (jobs/flatness.ts) gives
 * the same numbers. Memory: H1 and A, N·h float32 each (1.6 MB at N = 8,000, h = 50), z₀, and
 * per kept direction B (N·h float32), q (N·C float64) and the intervals (2N float64): 2.4 MB at
 * N = 8,000, h = 50; and the GEMM's workspace (2 MB).
 */
import {
  measureFlatness,
  type EvalFn,
  type FlatnessMode,
  type FlatnessOptions,
  type FlatnessReport,
  type ProfilePoint,
} from './flatness';
import { firstLayerH1 } from '../nets/firstLayerPlain';
import {
  HiddenProducts,
  checkedLabels,
  sameValues,
  stableCrossEntropy,
  type W2ProblemInputs,
} from './w2Kernels';

type Vec = Float64Array | Float32Array;

export interface PlainFullSetLossInputs extends W2ProblemInputs {
  /** Bytes of per-direction products B_d kept across calls (default 64 MB). */
  budgetBytes?: number;
}

const DEFAULT_BUDGET = 64 * 1024 * 1024;

interface DirectionProduct {
  /** The direction's values when the products were made (a caller may reuse its array). */
  values: Float64Array;
  /** H1·d, N × h. */
  b: Float32Array;
  /** (1[A > 0] ⊙ B)·W3, N × C. */
  q: Float64Array;
  /** Per sample, the open interval (lo, hi) of δ in which no unit changes side. */
  lo: Float64Array;
  hi: Float64Array;
}

interface CentreProduct {
  values: Float64Array;
  /** H1·centre, N × h. */
  a: Float32Array;
  /** relu(A)·W3, N × C. */
  z0: Float64Array;
}

export class PlainFullSetLoss {
  /** Number of training samples N in the mean. */
  readonly count: number;
  readonly hidden: number;
  readonly classes: number;
  /** Directions whose products fit in the budget together (at least 1). */
  readonly directionCapacity: number;
  private readonly products: HiddenProducts;
  private readonly labels: Int32Array;
  private readonly w3: Float64Array;
  private centre: CentreProduct | null = null;
  private readonly kept = new Map<Vec, DirectionProduct>();
  private readonly z: Float64Array;
  private disposed = false;

  constructor(inp: PlainFullSetLossInputs) {
    const h = inp.hidden;
    const P = inp.inputSize ?? 784;
    const C = inp.classes ?? 10;
    const total = Math.floor(inp.images.length / P);
    const N = Math.min(inp.count ?? total, total, inp.labels.length);
    if (!(N > 0)) throw new Error('FullSetLoss: no samples');
    if (inp.w1.length !== P * h)
      throw new Error(`FullSetLoss: W1 has ${inp.w1.length} entries, expected ${P}×${h}`);
    if (inp.w3.length !== h * C)
      throw new Error(`FullSetLoss: W3 has ${inp.w3.length} entries, expected ${h}×${C}`);
    this.count = N;
    this.hidden = h;
    this.classes = C;
    this.directionCapacity = Math.max(
      1,
      Math.floor(
        Math.max(0, inp.budgetBytes ?? DEFAULT_BUDGET) /
          PlainFullSetLoss.bytesPerDirection(N, h, C),
      ),
    );
    this.labels = checkedLabels(inp.labels.subarray(0, N), C, 'FullSetLoss');
    this.w3 = Float64Array.from(inp.w3);
    this.z = new Float64Array(C);
    this.products = new HiddenProducts(firstLayerH1(inp.images, inp.w1, P, h, N), h);
  }

  /** Bytes of one direction's kept products: B (float32), q (float64), lo and hi (float64). */
  static bytesPerDirection(count: number, hidden: number, classes = 10): number {
    return count * (4 * hidden + 8 * classes + 16);
  }

  /**
   * L(centre + δ·direction) for every point, in order. `centre` is W2 (h×h, row-major).
   * Directions need not be unit vectors (δ·direction is used as given).
   */
  async evaluate(centre: Vec, points: readonly ProfilePoint[]): Promise<Float64Array> {
    return Promise.resolve(this.evaluateSync(centre, points));
  }

  /** `evaluate`, returning at once (the work is synchronous anyway). */
  evaluateSync(centre: Vec, points: readonly ProfilePoint[]): Float64Array {
    if (this.disposed) throw new Error('FullSetLoss: evaluate after dispose');
    const hh = this.hidden * this.hidden;
    if (centre.length !== hh)
      throw new Error(`FullSetLoss: centre has ${centre.length} entries, expected ${hh}`);
    const cp = this.centreProduct(centre);
    // Points by direction (first-seen order): each direction's products are read once per call.
    const byDirection = new Map<Vec, number[]>();
    for (let k = 0; k < points.length; k++) {
      const d = points[k].direction;
      if (d.length !== hh)
        throw new Error(`FullSetLoss: direction has ${d.length} entries, expected ${hh}`);
      const list = byDirection.get(d);
      if (list) list.push(k);
      else byDirection.set(d, [k]);
    }
    const out = new Float64Array(points.length);
    for (const [d, ks] of byDirection) {
      const deltas = Float64Array.from(ks, (k) => points[k].delta);
      const dp = deltas.every((x) => x === 0) ? null : this.directionProduct(d, cp);
      const sums = this.sums(cp, dp, deltas);
      for (let i = 0; i < ks.length; i++) out[ks[i]] = sums[i] / this.count;
    }
    return out;
  }

  /** L(w2) at a single W2. */
  async lossAt(w2: Vec): Promise<number> {
    return Promise.resolve(this.evaluateSync(w2, [{ direction: w2, delta: 0 }])[0]);
  }

  /** An `EvalFn` for measureFlatness / lossProfile around a fixed centre. */
  evalFnAt(centre: Vec): EvalFn {
    const c = Float64Array.from(centre);
    return (points) => this.evaluate(c, points);
  }

  /** Drops the kept per-direction products (the next group of modes starts afresh). */
  forgetDirections(): void {
    this.kept.clear();
  }

  /** Drops everything held; later calls throw. */
  dispose(): void {
    this.disposed = true;
    this.kept.clear();
    this.centre = null;
  }

  /** A and z₀ at the centre, made again only when the centre's values change. */
  private centreProduct(centre: Vec): CentreProduct {
    if (this.centre && sameValues(this.centre.values, centre)) return this.centre;
    const { hidden: h, classes: C, count: N } = this;
    const a = new Float32Array(N * h);
    this.products.times(centre, a);
    const z0 = new Float64Array(N * C);
    for (let s = 0; s < N; s++) {
      const o = s * h;
      const oz = s * C;
      for (let j = 0; j < h; j++) {
        const x = a[o + j];
        if (!(x > 0)) continue;
        const w = j * C;
        for (let c = 0; c < C; c++) z0[oz + c] += x * this.w3[w + c];
      }
    }
    this.centre = { values: Float64Array.from(centre), a, z0 };
    return this.centre;
  }

  /** B, q and the no-flip intervals along d: kept when within the budget. */
  private directionProduct(d: Vec, cp: CentreProduct): DirectionProduct {
    const hit = this.kept.get(d);
    if (hit && sameValues(hit.values, d)) return hit;
    const { hidden: h, classes: C, count: N } = this;
    const a = cp.a;
    const w3 = this.w3;
    const b = new Float32Array(N * h);
    this.products.times(d, b);
    const q = new Float64Array(N * C);
    const lo = new Float64Array(N);
    const hi = new Float64Array(N);
    const acc = this.z;
    for (let s = 0; s < N; s++) {
      const o = s * h;
      let l = -Infinity;
      let u = Infinity;
      acc.fill(0);
      for (let j = 0; j < h; j++) {
        const aj = a[o + j];
        const bj = b[o + j];
        if (bj === 0) continue;
        const on = aj > 0;
        if (on) {
          const w = j * C;
          for (let c = 0; c < C; c++) acc[c] += bj * w3[w + c];
        }
        // Unit j is on at δ iff aj + δ·bj > 0: it changes side past −aj/bj, for δ below
        // it (on with bj > 0, or off with bj < 0) or above it (the other two cases).
        const t = -aj / bj;
        if (on === bj > 0) {
          if (t > l) l = t;
        } else if (t < u) u = t;
      }
      q.set(acc, s * C);
      lo[s] = l;
      hi[s] = u;
    }
    const dp: DirectionProduct = { values: Float64Array.from(d), b, q, lo, hi };
    if (hit || this.kept.size < this.directionCapacity) this.kept.set(d, dp);
    return dp;
  }

  /** Σ over samples of CE(z(δ)) for each δ (dp null: every δ is 0). */
  private sums(cp: CentreProduct, dp: DirectionProduct | null, deltas: Float64Array): Float64Array {
    const { hidden: h, classes: C, count: N } = this;
    const w3 = this.w3;
    const z = this.z;
    const labels = this.labels;
    const { a, z0 } = cp;
    const P = deltas.length;
    const out = new Float64Array(P);
    if (dp === null) {
      for (let s = 0; s < N; s++) {
        for (let c = 0; c < C; c++) z[c] = z0[s * C + c];
        const ce = stableCrossEntropy(z, C, labels[s]);
        for (let k = 0; k < P; k++) out[k] += ce;
      }
      return out;
    }
    const { b, q, lo, hi } = dp;
    for (let s = 0; s < N; s++) {
      const o = s * h;
      const oz = s * C;
      const y = labels[s];
      const l = lo[s];
      const u = hi[s];
      for (let k = 0; k < P; k++) {
        const delta = deltas[k];
        for (let c = 0; c < C; c++) z[c] = z0[oz + c] + delta * q[oz + c];
        if (!(delta > l && delta < u)) {
          // Some unit changed side: on now, + x·W3_j; off now, − x·W3_j (z₀ + δ·q counted
          // it) — |x|·W3_j either way, x = a_j + δ·b_j.
          for (let j = 0; j < h; j++) {
            const aj = a[o + j];
            const x = aj + delta * b[o + j];
            if (x > 0 === aj > 0) continue;
            const m = Math.abs(x);
            const w = j * C;
            for (let c = 0; c < C; c++) z[c] += m * w3[w + c];
          }
        }
        out[k] += stableCrossEntropy(z, C, y);
      }
    }
    return out;
  }
}

/**
 * measureFlatness over `modes` in groups that fit the loss's kept products (each group's
 * dropped before the next), with progress over all of them. Each mode's search is independent
 * of the others, so the results are those of one lockstep run over every mode.
 */
export async function measureFlatnessPlain(
  loss: PlainFullSetLoss,
  centre: Vec,
  modes: readonly FlatnessMode[],
  options: FlatnessOptions = {},
): Promise<FlatnessReport> {
  const c = Float64Array.from(centre);
  const evalFn: EvalFn = (points) => loss.evaluate(c, points);
  const size = loss.directionCapacity;
  const out: FlatnessReport = { modes: [], iterations: 0, evaluations: 0, seconds: 0 };
  try {
    for (let g = 0; g < modes.length; g += size) {
      const before = out.modes.length;
      const evaluationsBefore = out.evaluations;
      const iterationsBefore = out.iterations;
      const rep = await measureFlatness(evalFn, modes.slice(g, g + size), {
        ...options,
        onProgress: (p) =>
          options.onProgress?.({
            iteration: iterationsBefore + p.iteration,
            done: before + p.done,
            modes: modes.length,
            evaluations: evaluationsBefore + p.evaluations,
          }),
      });
      out.modes.push(...rep.modes);
      out.iterations += rep.iterations;
      out.evaluations += rep.evaluations;
      out.seconds += rep.seconds;
      loss.forgetDirections();
    }
  } finally {
    loss.forgetDirections();
  }
  return out;
}
