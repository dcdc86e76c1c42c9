/**
 * Everything of the trainer worker that runs on TensorFlow.js, in one module the worker imports
 * dynamically (tfLazy.ts): a run on the WebAssembly SIMD step or the fused WebGPU trainer never
 * loads it; a tfjs step (momentum, Adam, `stepImpl=tfjs`, a GPU backend, no SIMD), the Langevin
 * contrast, the forgetting sweep and noise shaping do.
 */
export { selectBackend } from '../engine/backend';
export { TF_RUN_NETS, probeStepsPerSecond } from '../engine/experiments/trainingTf';
export { ForgettingLoop } from './forgettingLoop';
export { NoiseShapingLoop } from './noiseShapingLoop';
