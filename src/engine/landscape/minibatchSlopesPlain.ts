/**
 * The minibatch-loss (MLF) ensemble of the active temperature (activeTemperature.ts) in plain
 * TypeScript: K minibatches of B samples drawn exactly as training draws them, and at points
 * w = centre + δ·p of W2 each minibatch's mean loss L^μ and its EXACT slope dL^μ/dδ (forward
 * mode). minibatchSlopesTf.ts is the tfjs version it replaced, kept as the tests' reference.
 *
 * With H1 = relu(X·W1) for the K·B samples, A = H1·centre (once per centre) and B = H1·p (once
 * per direction and call, in chunks of whole minibatches so at most `budgetBytes` of it exist;
 * the products run on the PCA engine's GEMM, w2Kernels.ts):
 *     Z2 = A + δ·B,   z = relu(Z2)·W3,   dz = (1[Z2 > 0] ⊙ B)·W3,
 *     dL^μ/dδ = mean_{n∈μ} Σ_c softmax(z_n)_c·(dz_nc − dz_n,y)
 * (this form keeps its precision when softmax_y ≈ 1), and the loss as FullSetLoss: CE =
 * softplus(logsumexp_{c≠y} z_c − z_y). Every value depends only on its own point (not on the
 * other points of the call). Memory: H1 and A, K·B·h float32 each (8 MB at K = 801, B = 50,
 * h = 50), plus one chunk of B and the GEMM's workspace (2 MB).
 */
import { MinibatchSampler } from '../data/batches';
import { firstLayerH1 } from '../nets/firstLayerPlain';
import type { ProfilePoint } from './flatness';
import { HiddenProducts, checkedLabels, sameValues, stableCrossEntropy } from './w2Kernels';

type Vec = Float64Array | Float32Array;

export interface MinibatchSlopesInputs {
  /** N × inputSize pixel bytes (0–255), row-major. */
  images: Uint8Array;
  /** N labels. */
  labels: Uint8Array;
  /** inputSize × h, row-major. */
  w1: Float32Array;
  /** h × classes, row-major. */
  w3: Float32Array;
  hidden: number;
  /** Minibatch size B. */
  batchSize: number;
  /** Number K of minibatches in the ensemble. */
  minibatches: number;
  /** Seed of the minibatch permutation(s). */
  seed: number;
  /** Use only the first `count` samples (default: all). */
  count?: number;
  /** Pixels per image (default 784). */
  inputSize?: number;
  /** Output classes (default 10). */
  classes?: number;
  /** Largest per-call intermediate (a chunk of H1·p) in bytes (default 16 MB). */
  budgetBytes?: number;
}

/** Per point (in order): the K minibatch losses and the K minibatch slopes dL^μ/dδ. */
export interface EnsembleValues {
  losses: Float64Array[];
  slopes: Float64Array[];
}

const DEFAULT_BUDGET = 16 * 1024 * 1024;

export class MinibatchSlopes {
  /** Number K of minibatches. */
  readonly minibatches: number;
  readonly batchSize: number;
  readonly hidden: number;
  readonly classes: number;
  /** The K·B sample indices; minibatch μ is sampleIndices[μB … (μ+1)B). */
  readonly sampleIndices: Uint32Array;
  /** H1 (K·B × h) and its products, a chunk of rows at a time. */
  private readonly products: HiddenProducts;
  private readonly labels: Int32Array;
  private readonly w3: Float64Array;
  /** Minibatches per chunk of H1·p. */
  private readonly chunk: number;
  /** One chunk of H1·p (chunk·B × h), reused by every call. */
  private readonly b: Float32Array;
  private centre: Float64Array | null = null;
  private a: Float32Array | null = null;
  private disposed = false;

  constructor(inp: MinibatchSlopesInputs) {
    const h = inp.hidden;
    const P = inp.inputSize ?? 784;
    const C = inp.classes ?? 10;
    const B = inp.batchSize;
    const K = inp.minibatches;
    const total = Math.floor(inp.images.length / P);
    const N = Math.min(inp.count ?? total, total, inp.labels.length);
    if (!(N > 0)) throw new Error('MinibatchSlopes: no samples');
    if (!Number.isInteger(K) || K < 2)
      throw new Error(`MinibatchSlopes: need K ≥ 2 minibatches, got ${K}`);
    if (inp.w1.length !== P * h)
      throw new Error(`MinibatchSlopes: W1 has ${inp.w1.length} entries, expected ${P}×${h}`);
    if (inp.w3.length !== h * C)
      throw new Error(`MinibatchSlopes: W3 has ${inp.w3.length} entries, expected ${h}×${C}`);
    const sampler = new MinibatchSampler(N, B, inp.seed); // validates B
    this.minibatches = K;
    this.batchSize = B;
    this.hidden = h;
    this.classes = C;
    const budget = inp.budgetBytes ?? DEFAULT_BUDGET;
    this.chunk = Math.max(1, Math.min(K, Math.floor(budget / (4 * B * h))));
    this.b = new Float32Array(this.chunk * B * h);

    const idx = new Uint32Array(K * B);
    for (let k = 0; k < K; k++) sampler.nextInto(idx.subarray(k * B, (k + 1) * B));
    this.sampleIndices = idx;
    this.labels = checkedLabels(inp.labels, C, 'MinibatchSlopes', idx);
    this.w3 = Float64Array.from(inp.w3);
    this.products = new HiddenProducts(firstLayerH1(inp.images, inp.w1, P, h, idx), h);
  }

  /** K slopes dL^μ/dδ at each δ along `direction` (used as given, not normalised). */
  async slopes(centre: Vec, direction: Vec, deltas: readonly number[]): Promise<Float64Array[]> {
    return this.run(centre, along(direction, deltas), false, true).slopes;
  }

  /** K minibatch losses L^μ at each δ along `direction`: the MLF ensemble's profiles. */
  async minibatchLosses(
    centre: Vec,
    direction: Vec,
    deltas: readonly number[],
  ): Promise<Float64Array[]> {
    return this.run(centre, along(direction, deltas), true, false).losses;
  }

  /** Both losses and slopes at each δ along `direction`, in one pass. */
  async profile(centre: Vec, direction: Vec, deltas: readonly number[]): Promise<EnsembleValues> {
    return this.run(centre, along(direction, deltas), true, true);
  }

  /** Losses and slopes at arbitrary (direction, δ) points, e.g. δ = 0 along many PCA modes. */
  async evaluate(centre: Vec, points: readonly ProfilePoint[]): Promise<EnsembleValues> {
    return this.run(centre, points, true, true);
  }

  /** Drops H1 and A. */
  dispose(): void {
    this.disposed = true;
    this.a = null;
    this.centre = null;
  }

  private run(
    centre: Vec,
    points: readonly ProfilePoint[],
    wantLoss: boolean,
    wantSlope: boolean,
  ): EnsembleValues {
    if (this.disposed) throw new Error('MinibatchSlopes: used after dispose');
    const { hidden: h, batchSize: B, minibatches: K } = this;
    const hh = h * h;
    if (centre.length !== hh)
      throw new Error(`MinibatchSlopes: centre has ${centre.length} entries, expected ${hh}`);
    const byDirection = new Map<Vec, number[]>();
    for (let k = 0; k < points.length; k++) {
      const d = points[k].direction;
      if (d.length !== hh)
        throw new Error(`MinibatchSlopes: direction has ${d.length} entries, expected ${hh}`);
      const list = byDirection.get(d);
      if (list) list.push(k);
      else byDirection.set(d, [k]);
    }
    const a = this.centreProduct(centre);
    const lossSums = points.map(() => new Float64Array(K));
    const slopeSums = points.map(() => new Float64Array(K));
    const b = this.b;
    for (let m0 = 0; m0 < K; m0 += this.chunk) {
      const rows = Math.min(this.chunk, K - m0) * B;
      const r0 = m0 * B;
      for (const [d, ks] of byDirection) {
        this.products.times(d, b, r0, rows);
        for (const k of ks)
          this.accumulate(a, b, r0, rows, points[k].delta, lossSums[k], slopeSums[k], wantSlope);
      }
    }
    const out: EnsembleValues = { losses: [], slopes: [] };
    for (let k = 0; k < points.length; k++) {
      for (let mu = 0; mu < K; mu++) {
        lossSums[k][mu] /= B;
        slopeSums[k][mu] /= B;
      }
      if (wantLoss) out.losses.push(lossSums[k]);
      if (wantSlope) out.slopes.push(slopeSums[k]);
    }
    return out;
  }

  /** Adds each sample's loss and slope at one point into its minibatch's sums. */
  private accumulate(
    a: Float32Array,
    b: Float32Array,
    r0: number,
    rows: number,
    delta: number,
    lossSum: Float64Array,
    slopeSum: Float64Array,
    wantSlope: boolean,
  ): void {
    const { hidden: h, classes: C, batchSize: B } = this;
    const w3 = this.w3;
    const z = new Float64Array(C);
    const dz = new Float64Array(C);
    for (let r = 0; r < rows; r++) {
      const s = r0 + r;
      const oa = s * h;
      const ob = r * h;
      const y = this.labels[s];
      z.fill(0);
      dz.fill(0);
      for (let j = 0; j < h; j++) {
        const bj = b[ob + j];
        const x = a[oa + j] + delta * bj;
        if (!(x > 0)) continue;
        const w = j * C;
        for (let c = 0; c < C; c++) z[c] += x * w3[w + c];
        if (wantSlope) for (let c = 0; c < C; c++) dz[c] += bj * w3[w + c];
      }
      const mu = Math.floor(s / B);
      if (!wantSlope) {
        lossSum[mu] += stableCrossEntropy(z, C, y);
        continue;
      }
      // One set of exponentials for both: e_c = exp(z_c − max z).
      let zmax = -Infinity;
      for (let c = 0; c < C; c++) if (z[c] > zmax) zmax = z[c];
      let norm = 0;
      let others = 0;
      let slope = 0;
      const dzy = dz[y];
      for (let c = 0; c < C; c++) {
        const e = Math.exp(z[c] - zmax);
        norm += e;
        if (c !== y) others += e;
        slope += e * (dz[c] - dzy);
      }
      // z_y the largest: CE = log1p(Σ_{c≠y} e_c), precise for CE ≪ 1 (stableCrossEntropy).
      lossSum[mu] += z[y] >= zmax ? Math.log1p(others) : zmax - z[y] + Math.log(norm);
      slopeSum[mu] += slope / norm;
    }
  }

  /** A = H1·centre, made again only when the centre's values change. */
  private centreProduct(centre: Vec): Float32Array {
    if (this.a && this.centre && sameValues(this.centre, centre)) return this.a;
    const rows = this.minibatches * this.batchSize;
    const a = new Float32Array(rows * this.hidden);
    this.products.times(centre, a);
    this.a = a;
    this.centre = Float64Array.from(centre);
    return a;
  }
}

function along(direction: Vec, deltas: readonly number[]): ProfilePoint[] {
  return deltas.map((delta) => ({ direction, delta }));
}
