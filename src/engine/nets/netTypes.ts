/**
 * What every step implementation of the paper's MLP shares, without a tensor library: the
 * optimizer settings, the minibatch upload layout and a step's result. The tfjs step (tfMlp.ts)
 * and the WebAssembly SIMD step (simdMlp.ts) both use them, so a run on the SIMD step loads no
 * TensorFlow.js (the trainer worker imports it only when a tfjs step is needed).
 */
import { CLASSES, type BatchStats, type MlpWeights } from './mlp';
import { ADAM_BETA1, ADAM_BETA2, ADAM_EPSILON, type OptimizerKind } from '../experiments/config';

export interface OptimizerSettings {
  kind: OptimizerKind;
  /** μ of 'momentum'. */
  momentum: number;
  beta1: number;
  beta2: number;
  epsilon: number;
}

export const SGD: OptimizerSettings = {
  kind: 'sgd',
  momentum: 0.9,
  beta1: ADAM_BETA1,
  beta2: ADAM_BETA2,
  epsilon: ADAM_EPSILON,
};

export function optimizerSettings(kind: OptimizerKind, momentum = 0.9): OptimizerSettings {
  return { ...SGD, kind, momentum };
}

export type StepImpl = 'explicit-transpose' | 'transpose-flags' | 'autodiff';

/** The step implementation that measured fastest on each backend. */
export function preferredStepImpl(backend: string): StepImpl {
  return backend === 'wasm' || backend === 'cpu' ? 'explicit-transpose' : 'transpose-flags';
}

/** A minibatch laid out for upload: x (B×in), its transpose (in×B), one-hot labels (B×10). */
export interface UploadBatch {
  size: number;
  x: Float32Array;
  xT: Float32Array;
  labels: Int32Array;
  oneHot: Float32Array;
}

export function allocBatch(capacity: number, inputSize: number): UploadBatch {
  return {
    size: 0,
    x: new Float32Array(capacity * inputSize),
    xT: new Float32Array(capacity * inputSize),
    labels: new Int32Array(capacity),
    oneHot: new Float32Array(capacity * CLASSES),
  };
}

export interface StepResult extends BatchStats {
  /** W2 after the step, a fresh array the caller owns (may be transferred). */
  w2: Float32Array;
}

/**
 * The optimizer's state between steps, so a run can move between step implementations (the
 * fused WebGPU trainer falling back to tfjs) without restarting it: momentum's velocities v, or
 * Adam's first moments m then second moments s, each in the weights' layout, and Adam's step
 * count t (bias correction). SGD has none.
 */
export interface OptimizerState {
  moments: MlpWeights[];
  t: number;
}
