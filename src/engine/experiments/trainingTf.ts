/**
 * The training run's TensorFlow.js side: the step chosen for tfjs's active backend (createNet),
 * the Langevin contrast on tfjs, and the steps-per-second probe that compares backends. The
 * Node tools, the tests and the sweeps get these by default (training.ts imports this module
 * when a run starts); the trainer worker imports it only when a run needs a tfjs step.
 */
import * as tf from '@tensorflow/tfjs';
import { CLASSES, INPUT_SIZE, initMlp, type MlpWeights } from '../nets/mlp';
import { TfMlp } from '../nets/tfMlp';
import { SGD, allocBatch, type OptimizerSettings } from '../nets/netTypes';
import { SimdMlp } from '../nets/simdMlp';
import { LangevinW2 } from '../nets/langevin';
import type { RunNets, TrainNet, TrainStepImpl } from './training';

/**
 * The fastest correct step for this backend. On the CPU backends tfjs's per-op overhead caps
 * the step at ~1,500 steps/s, so the hand-written WebAssembly SIMD kernel (SimdMlp, ~3× that)
 * trains instead when it compiles here; GPU backends run the tfjs step. The SIMD kernel is
 * SGD-only: with momentum or Adam the tfjs step trains whatever the choice ('auto' and
 * 'wasm-simd' alike fall back to this backend's preferred TfMlp implementation).
 */
export function createNet(
  weights: MlpWeights,
  choice: 'auto' | 'tfjs' | TrainStepImpl = 'auto',
  optimizer: OptimizerSettings = SGD,
): TrainNet {
  if (optimizer.kind !== 'sgd') {
    const impl =
      choice === 'auto' || choice === 'tfjs' || choice === 'wasm-simd' ? undefined : choice;
    return new TfMlp(weights, impl, optimizer);
  }
  if (choice === 'wasm-simd') return new SimdMlp(weights);
  if (choice === 'auto') {
    const backend = tf.getBackend();
    if ((backend === 'wasm' || backend === 'cpu') && SimdMlp.available(weights.hidden))
      return new SimdMlp(weights);
    return new TfMlp(weights);
  }
  return new TfMlp(weights, choice === 'tfjs' ? undefined : choice);
}

/** The networks of a run on tfjs's active backend. */
export const TF_RUN_NETS: RunNets = {
  net: (weights, choice, optimizer) => Promise.resolve(createNet(weights, choice, optimizer)),
  langevin: (start, train, temperature, lr, seed) =>
    Promise.resolve(new LangevinW2(start, train, temperature, lr, seed)),
};

/**
 * Steps per second of the paper's network (B = 50) with the step this backend would use, from
 * a short run on random sparse inputs: the workload-specific measure used to choose a backend.
 */
export async function probeStepsPerSecond(steps = 30, hidden = 50, B = 50): Promise<number> {
  const net = createNet(initMlp(hidden, 1));
  const batch = allocBatch(B, INPUT_SIZE);
  batch.size = B;
  for (let i = 0; i < B * INPUT_SIZE; i++) {
    const v = (i * 2654435761) % 997 < 200 ? ((i * 40503) % 255) / 255 : 0;
    batch.x[i] = v;
    batch.xT[(i % INPUT_SIZE) * B + Math.floor(i / INPUT_SIZE)] = v;
  }
  for (let b = 0; b < B; b++) {
    batch.labels[b] = b % CLASSES;
    batch.oneHot[b * CLASSES + (b % CLASSES)] = 1;
  }
  try {
    for (let i = 0; i < 5; i++) await net.step(batch, 0.01);
    const t0 = performance.now();
    for (let i = 0; i < steps; i++) await net.step(batch, 0.01);
    return steps / ((performance.now() - t0) / 1000);
  } finally {
    net.dispose();
  }
}
