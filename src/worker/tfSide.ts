/**
 * Everything of the trainer worker that runs on TensorFlow.js, in one module the worker imports
 * dynamically (tfLazy.ts): a run on the WebAssembly SIMD step or the fused WebGPU trainer never
 * loads it; a tfjs step (momentum, Adam, `stepImpl=tfjs`, a GPU backend, no SIMD), the Langevin
 * contrast and noise shaping do (the forgetting sweep runs on the job workers).
 */
export { selectBackend } from '../engine/backend';
export { TF_RUN_NETS, probeStepsPerSecond } from '../engine/experiments/trainingTf';
export { NoiseShapingLoop } from './noiseShapingLoop';
