/**
 * H1 = relu(X·W1) for a set of samples, computed in chunks of rows (so X never exists as one
 * float tensor) and kept on the backend. Everything that varies W2 only — the full-set loss,
 * the minibatch slopes, Langevin dynamics — starts from it.
 */
import * as tf from '@tensorflow/tfjs';
import { PIXEL_LUT } from '../data/batches';

const CHUNK_ROWS = 2048;

/**
 * `samples`: the first `samples` images, or the images at these indices (in this order).
 * `images` holds pixel bytes, `inputSize` per image; `w1` is inputSize × hidden, row-major.
 */
export function firstLayerActivations(
  images: Uint8Array,
  w1: Float32Array,
  inputSize: number,
  hidden: number,
  samples: number | ArrayLike<number>,
): tf.Tensor2D {
  const P = inputSize;
  const rows = typeof samples === 'number' ? samples : samples.length;
  const at = (r: number) => (typeof samples === 'number' ? r : samples[r]);
  const W1 = tf.tensor2d(w1, [P, hidden]);
  const parts: tf.Tensor2D[] = [];
  const x = new Float32Array(Math.min(rows, CHUNK_ROWS) * P);
  for (let s = 0; s < rows; s += CHUNK_ROWS) {
    const n = Math.min(CHUNK_ROWS, rows - s);
    for (let r = 0; r < n; r++) {
      const src = at(s + r) * P;
      const dst = r * P;
      for (let p = 0; p < P; p++) x[dst + p] = PIXEL_LUT[images[src + p]];
    }
    // matMul then relu: on wasm the fused matMul+relu kernel measured ~1.5× slower.
    parts.push(
      tf.tidy(
        () => tf.relu(tf.matMul(tf.tensor2d(x.subarray(0, n * P), [n, P]), W1)) as tf.Tensor2D,
      ),
    );
  }
  W1.dispose();
  if (parts.length === 1) return parts[0];
  const h1 = tf.concat(parts, 0);
  for (const p of parts) p.dispose();
  return h1;
}
