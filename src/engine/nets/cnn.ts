/**
 * The small CNN of issue 7 on MNIST (NHWC, no biases):
 *   x (28×28×1) → conv k×k, c1 channels, 'same' padding, ReLU → 2×2 max-pool
 *               → conv k×k, c2 channels, ReLU → 2×2 max-pool
 *               → flatten (7·7·c2) → dense (ReLU) → logits (10).
 * The convolutions are written as im2col + matMul (pad, k² slices, concat): the tfjs wasm
 * backend has no Conv2DBackpropFilter kernel, and this form has gradients on every backend.
 * A filter is stored as a (k²·cin) × cout matrix in (dy, dx, cin) row order, i.e. tf.conv2d's
 * [k, k, cin, cout] filter reshaped. The dense hidden matrix (parameter 2) is the analysed block.
 */
import * as tf from '@tensorflow/tfjs';
import { denseChain, type BlockNet } from './tfNet';

export interface CnnSpec {
  /** Image side (divisible by 4); 28 for MNIST. */
  side: number;
  /** Kernel size (odd): 3 or 5. */
  kernel: number;
  conv1: number;
  conv2: number;
  dense: number;
  classes: number;
}

export const CNN_DEFAULT: CnnSpec = {
  side: 28,
  kernel: 3,
  conv1: 4,
  conv2: 8,
  dense: 32,
  classes: 10,
};

/** 'same' convolution of x (B×H×W×cin) with a (k²·cin)×cout filter matrix, by im2col. */
export function convSame(x: tf.Tensor4D, filter: tf.Tensor, k: number): tf.Tensor4D {
  const [B, H, W, C] = x.shape;
  const p = (k - 1) / 2;
  const xp = tf.pad(x, [
    [0, 0],
    [p, p],
    [p, p],
    [0, 0],
  ]);
  const cols: tf.Tensor4D[] = [];
  for (let dy = 0; dy < k; dy++)
    for (let dx = 0; dx < k; dx++) cols.push(tf.slice(xp, [0, dy, dx, 0], [B, H, W, C]));
  const patches = (k === 1 ? cols[0] : tf.concat(cols, 3)).reshape([B * H * W, k * k * C]);
  const cout = filter.shape[1] ?? 1;
  return tf.matMul(patches, filter as tf.Tensor2D).reshape([B, H, W, cout]);
}

export function cnn(spec: CnnSpec): BlockNet {
  const { side, kernel: k, conv1, conv2, dense, classes } = spec;
  if (side % 4 !== 0 || k % 2 !== 1) throw new Error('cnn: side must divide by 4, kernel be odd');
  const flat = (side / 4) * (side / 4) * conv2;
  const inputSize = side * side;
  const convFeatures = (x: tf.Tensor2D, p: readonly tf.Tensor[]): tf.Tensor2D => {
    const B = x.shape[0];
    const img = x.reshape([B, side, side, 1]);
    const a1 = tf.maxPool<tf.Tensor4D>(
      tf.relu(convSame(img as tf.Tensor4D, p[0], k)),
      2,
      2,
      'valid',
    );
    const a2 = tf.maxPool<tf.Tensor4D>(tf.relu(convSame(a1, p[1], k)), 2, 2, 'valid');
    return a2.reshape([B, flat]);
  };
  return {
    inputSize,
    classes,
    params: [
      { name: 'conv1', shape: [k * k, conv1], fanIn: k * k },
      { name: 'conv2', shape: [k * k * conv1, conv2], fanIn: k * k * conv1 },
      { name: 'dense', shape: [flat, dense], fanIn: flat },
      { name: 'out', shape: [dense, classes], fanIn: dense },
    ],
    denseFrom: 2,
    logits: (x, p) => denseChain(convFeatures(x, p), p, 2),
    features: (x, p, param) => {
      if (param < 2) throw new Error('cnn: only the dense matrices can be a block');
      return denseChain(convFeatures(x, p), p, 2, param);
    },
  };
}
