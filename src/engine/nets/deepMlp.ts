/**
 * The deeper MLP of issue 7: 784-h-…-h-10 with `depth` hidden layers (4 by default), ReLU,
 * no biases — logits = relu(…relu(relu(x·W1)·W2)…)·W_{depth+1} — trained by SgdNet (SGD, momentum or Adam).
 * Hidden-to-hidden matrices W2 … W_depth (h×h) can be the analysed block.
 */
import type * as tf from '@tensorflow/tfjs';
import { denseChain, type BlockNet, type ParamSpec } from './tfNet';

export interface DeepMlpSpec {
  inputSize: number;
  hidden: number;
  /** Number of hidden layers (≥ 2). */
  depth: number;
  classes: number;
}

export const DEEP_MLP_DEFAULT: DeepMlpSpec = { inputSize: 784, hidden: 50, depth: 4, classes: 10 };

export function deepMlp(spec: DeepMlpSpec): BlockNet {
  const { inputSize, hidden, depth, classes } = spec;
  if (!(depth >= 2) || !(hidden >= 1)) throw new Error('deepMlp: depth ≥ 2 and hidden ≥ 1');
  const params: ParamSpec[] = [];
  for (let l = 1; l <= depth + 1; l++) {
    const rows = l === 1 ? inputSize : hidden;
    const cols = l === depth + 1 ? classes : hidden;
    params.push({ name: `W${l}`, shape: [rows, cols], fanIn: rows });
  }
  return {
    inputSize,
    classes,
    params,
    denseFrom: 0,
    logits: (x: tf.Tensor2D, p: readonly tf.Tensor[]) => denseChain(x, p, 0),
    features: (x: tf.Tensor2D, p: readonly tf.Tensor[], param: number) =>
      param === 0 ? x : (denseChain(x, p, 0, param) as tf.Tensor2D),
  };
}
