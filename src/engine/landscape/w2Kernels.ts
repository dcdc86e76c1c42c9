/**
 * The plain-TypeScript kernels shared by the W2-only losses of the analysis (PlainFullSetLoss,
 * the minibatch ensemble): products of the fixed first-layer activations H1 with an h × h
 * matrix, and the cross-entropy of one sample's logits in the form that keeps its precision.
 *
 * Why A + δ·B. Along a direction d of W2, the layer-2 pre-activation is linear in δ:
 * H1·(W2 + δ·d) = A + δ·B with A = H1·W2 (once per centre) and B = H1·d (once per direction).
 * A point then costs h multiply-adds per sample for the pre-activation instead of h², leaving
 * relu(·)·W3 (≤ h·C) as the main cost (fullSetLossPlain.ts goes further).
 */
import { Workspace, type KernelChoice } from '../pca/kernels';

/** The fixed parts of the network and the data a W2-only loss is evaluated on. */
export interface W2ProblemInputs {
  /** N × inputSize pixel bytes (0–255), row-major. */
  images: Uint8Array;
  /** N labels 0–9. */
  labels: Uint8Array;
  /** inputSize × h, row-major. */
  w1: Float32Array;
  /** h × classes, row-major. */
  w3: Float32Array;
  /** Hidden width h. */
  hidden: number;
  /** Use only the first `count` samples (default: all). */
  count?: number;
  /** Pixels per image (default 784). */
  inputSize?: number;
  /** Output classes (default 10). */
  classes?: number;
}

/** Rows of H1 a HiddenProducts copies into its GEMM workspace at a time (default). */
export const HIDDEN_PRODUCT_ROWS = 2048;

/** Doubles of a HiddenProducts' workspace: a chunk of H1 and of the product, and Vᵀ. */
export function hiddenProductsDoubles(
  rows: number,
  hidden: number,
  chunkRows = HIDDEN_PRODUCT_ROWS,
): number {
  const chunk = Math.max(1, Math.min(rows, chunkRows));
  return 2 * chunk * hidden + hidden * hidden;
}

/**
 * Products H1·V (V h × h) for rows of a fixed H1, by the PCA engine's blocked GEMM
 * (pca/kernels.ts: WebAssembly SIMD where available, else register-tiled JS): ~5× a plain loop
 * that skips H1's zeros, measured. H1 stays float32 (the caller's array); `chunkRows` rows at a
 * time are copied into the GEMM's float64 workspace, so the extra memory is that chunk.
 */
export class HiddenProducts {
  readonly rows: number;
  readonly hidden: number;
  private readonly h1: Float32Array;
  private readonly chunk: number;
  private readonly ws: Workspace;
  private readonly x: Float64Array;
  private readonly vt: Float64Array;
  private readonly c: Float64Array;

  constructor(
    h1: Float32Array,
    hidden: number,
    chunkRows = HIDDEN_PRODUCT_ROWS,
    kernels: KernelChoice = 'auto',
  ) {
    const h = hidden;
    this.rows = Math.floor(h1.length / h);
    this.hidden = h;
    this.h1 = h1;
    this.chunk = Math.max(1, Math.min(this.rows, chunkRows));
    this.ws = new Workspace(hiddenProductsDoubles(this.rows, h, chunkRows), kernels);
    this.x = this.ws.alloc(this.chunk * h);
    this.vt = this.ws.alloc(h * h);
    this.c = this.ws.alloc(this.chunk * h);
  }

  /** out[r·h + j] = Σ_i H1[(r0 + r)·h + i] · V[i·h + j] for r < n. */
  times(v: ArrayLike<number>, out: Float32Array, r0 = 0, n = this.rows - r0): void {
    const h = this.hidden;
    if (r0 < 0 || n < 0 || r0 + n > this.rows)
      throw new Error(`HiddenProducts: rows ${r0}…${r0 + n} outside 0…${this.rows}`);
    // The GEMM takes Bᵀ by rows: Vᵀ[j, i] = V[i, j].
    for (let i = 0; i < h; i++) for (let j = 0; j < h; j++) this.vt[j * h + i] = v[i * h + j];
    const { x, c } = this;
    for (let s = 0; s < n; s += this.chunk) {
      const m = Math.min(this.chunk, n - s);
      const from = (r0 + s) * h;
      for (let k = 0; k < m * h; k++) x[k] = this.h1[from + k];
      c.fill(0, 0, m * h);
      this.ws.gemmNT(m, h, h, 1, x, 0, h, this.vt, 0, h, c, 0, h);
      const o = s * h;
      for (let k = 0; k < m * h; k++) out[o + k] = c[k];
    }
  }
}

/**
 * CE = log Σ_c exp(z_c − z_y) of the C logits z[0 … C). When z_y is the largest logit this is
 * log1p(Σ_{c≠y} exp(z_c − z_y)), which keeps its relative precision for CE ≪ 1e-16 — the
 * well-classified samples that dominate the exploration phase — where logsumexp(z) − z_y would
 * round to 0 (crossEntropy.ts's softplus form, the same quantity). Otherwise CE > ln 2 and
 * logsumexp(z) − z_y loses nothing.
 */
export function stableCrossEntropy(z: Float64Array, C: number, y: number): number {
  const zy = z[y];
  let m = -Infinity;
  for (let c = 0; c < C; c++) if (c !== y && z[c] > m) m = z[c];
  let s = 0;
  if (m > zy) {
    for (let c = 0; c < C; c++) s += Math.exp(z[c] - m);
    return m - zy + Math.log(s);
  }
  for (let c = 0; c < C; c++) if (c !== y) s += Math.exp(z[c] - zy);
  return Math.log1p(s);
}

/** Labels as an Int32Array, each checked to be a class index below C. */
export function checkedLabels(
  labels: ArrayLike<number>,
  C: number,
  who: string,
  at?: ArrayLike<number>,
): Int32Array {
  const n = at ? at.length : labels.length;
  const out = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    const s = at ? at[i] : i;
    const y = labels[s];
    if (!(y >= 0 && y < C)) throw new Error(`${who}: label ${y} of sample ${s} is not < ${C}`);
    out[i] = y;
  }
  return out;
}

/** True when a and b hold the same values (both of length n). */
export function sameValues(a: ArrayLike<number>, b: ArrayLike<number>): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}
