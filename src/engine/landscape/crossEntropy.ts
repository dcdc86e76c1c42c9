/**
 * The full-training-set losses' shared pieces (FullSetLoss, the minibatch ensemble of
 * activeTemperature.ts, the deeper networks' BlockLoss): a cross-entropy that keeps its
 * precision for well-classified samples, and a sum over row chunks read back in float64.
 */
import * as tf from '@tensorflow/tfjs';

/**
 * One-hot labels (n × 1 × classes) and the mask stableCrossEntropy takes: −1e30 at each label,
 * 0 elsewhere.
 */
export function labelTensors(
  labels: Int32Array,
  classes: number,
): { oneHot: tf.Tensor3D; labelMask: tf.Tensor3D } {
  return tf.tidy(() => {
    const oneHot = tf
      .oneHot(tf.tensor1d(labels, 'int32'), classes)
      .toFloat()
      .reshape([labels.length, 1, classes]) as tf.Tensor3D;
    return { oneHot, labelMask: tf.mul(oneHot, tf.scalar(-1e30)) as tf.Tensor3D };
  });
}

/**
 * Per-sample cross-entropy of logits z (n × K × C, K points per sample) against one-hot labels
 * (n × 1 × C), with labelMask = −1e30 at the label and 0 elsewhere (n × 1 × C): n × K values
 * CE = log Σ_c exp(z_c − z_y) = softplus(r), r = logsumexp_{c≠y} z_c − z_y. Unlike
 * logsumexp(z) − z_y this keeps its relative precision for CE ≪ 1e-6, the well-classified
 * samples that dominate the exploration phase.
 */
export function stableCrossEntropy(
  z: tf.Tensor,
  oneHot: tf.Tensor,
  labelMask: tf.Tensor,
): tf.Tensor {
  return tf.tidy(() => {
    const others = tf.logSumExp(tf.add(z, labelMask), -1);
    return tf.softplus(tf.sub(others, tf.sum(tf.mul(z, oneHot), -1)));
  });
}

/**
 * Σ of part(start, rows) over row chunks of `count` rows (each a vector of one length), read
 * back as float64. Each part runs in its own tidy; only the running sum is kept.
 */
export async function chunkedSum(
  count: number,
  chunk: number,
  part: (start: number, rows: number) => tf.Tensor1D,
): Promise<Float64Array> {
  const total = tf.tidy(() => {
    let acc: tf.Tensor1D | null = null;
    for (let s = 0; s < count; s += chunk) {
      const p = tf.tidy(() => part(s, Math.min(chunk, count - s)));
      if (acc === null) acc = p;
      else {
        const next: tf.Tensor1D = tf.add(acc, p);
        acc.dispose();
        p.dispose();
        acc = next;
      }
    }
    return acc as tf.Tensor1D;
  });
  try {
    return Float64Array.from(await total.data());
  } finally {
    total.dispose();
  }
}
