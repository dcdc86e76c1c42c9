/**
 * H1 = relu(X·W1) without a tensor library: the fixed first layer that every W2-only
 * computation of the analysis (the full-set loss, the minibatch slopes, the Hessian) starts
 * from. Same contract as firstLayer.ts's tfjs version, but the result is an N × h Float32Array
 * (row-major) on the heap.
 *
 * The product runs on the PCA engine's blocked GEMM (pca/kernels.ts: WebAssembly SIMD where
 * available, else register-tiled JS) over chunks of rows, X in float64 (pixels/255 rounded to
 * float32 first, as the network sees them); the sums are float64, stored as float32.
 */
import { PIXEL_LUT } from '../data/batches';
import { Workspace } from '../pca/kernels';

/** Rows of X per GEMM call: 256 × 784 doubles (1.6 MB) stay in L2. */
const CHUNK_ROWS = 256;

/**
 * Doubles of the GEMM workspace firstLayerH1 holds while it builds H1 for `rows` samples: a chunk
 * of X, W1ᵀ and a chunk of the product (its WebAssembly memory: pca/kernels.ts workspaceBytes).
 */
export function firstLayerWorkspaceDoubles(
  rows: number,
  inputSize: number,
  hidden: number,
): number {
  const chunk = Math.max(1, Math.min(rows, CHUNK_ROWS));
  return chunk * inputSize + hidden * inputSize + chunk * hidden;
}

/**
 * `samples`: the first `samples` images, or the images at these indices (in this order).
 * `images` holds pixel bytes, `inputSize` per image; `w1` is inputSize × hidden, row-major.
 */
export function firstLayerH1(
  images: Uint8Array,
  w1: Float32Array,
  inputSize: number,
  hidden: number,
  samples: number | ArrayLike<number>,
): Float32Array {
  const P = inputSize;
  const h = hidden;
  if (w1.length !== P * h)
    throw new Error(`firstLayerH1: W1 has ${w1.length} entries, expected ${P}×${h}`);
  const rows = typeof samples === 'number' ? samples : samples.length;
  const total = Math.floor(images.length / P);
  const out = new Float32Array(rows * h);
  const chunk = Math.max(1, Math.min(rows, CHUNK_ROWS));
  const ws = new Workspace(firstLayerWorkspaceDoubles(rows, P, h));
  const x = ws.alloc(chunk * P);
  // The GEMM takes W1ᵀ by rows: W1ᵀ[j, p] = W1[p, j].
  const w1t = ws.alloc(h * P);
  for (let p = 0; p < P; p++) for (let j = 0; j < h; j++) w1t[j * P + p] = w1[p * h + j];
  const c = ws.alloc(chunk * h);
  for (let r0 = 0; r0 < rows; r0 += chunk) {
    const n = Math.min(chunk, rows - r0);
    for (let r = 0; r < n; r++) {
      const img = typeof samples === 'number' ? r0 + r : samples[r0 + r];
      if (!(img >= 0 && img < total))
        throw new Error(`firstLayerH1: image ${img} is not among the ${total} images`);
      const src = img * P;
      const dst = r * P;
      for (let p = 0; p < P; p++) x[dst + p] = PIXEL_LUT[images[src + p]];
    }
    c.fill(0, 0, n * h);
    ws.gemmNT(n, h, P, 1, x, 0, P, w1t, 0, P, c, 0, h);
    const o = r0 * h;
    for (let k = 0; k < n * h; k++) out[o + k] = c[k] > 0 ? c[k] : 0;
  }
  return out;
}
