/**
 * Training-step benchmark shared by Node (scripts/bench.ts) and the browser benchmark worker:
 * steps/s of each tfjs step implementation against the plain Float32Array step, on the real
 * digits when given, B = 50, h = 50.
 */
import * as tf from '@tensorflow/tfjs';
import type { DataSplit } from '../engine/data/dataset';
import { MinibatchSampler } from '../engine/data/batches';
import { fillBatch } from '../engine/experiments/training';
import { initMlp, PlainMlp } from '../engine/nets/mlp';
import { allocBatch } from '../engine/nets/netTypes';
import type { TrainStepImpl } from '../engine/experiments/training';
import { SimdMlp } from '../engine/nets/simdMlp';

export interface StepBenchRow {
  where: string;
  backend: string;
  impl: TrainStepImpl | 'plain-loop';
  stepsPerSecond: number;
  steps: number;
}

export async function benchSteps(
  train: DataSplit,
  where: string,
  impls: TrainStepImpl[],
  seconds = 2,
  B = 50,
): Promise<StepBenchRow[]> {
  const rows: StepBenchRow[] = [];
  // As training.ts does: a static import here would pin trainingTf to this chunk (a build warning).
  const { createNet } = await import('../engine/experiments/trainingTf');
  const sampler = new MinibatchSampler(train.count, B, 0);
  const batch = allocBatch(B, 784);
  const idx = new Uint32Array(B);
  const next = () => {
    sampler.nextInto(idx);
    fillBatch(train, idx, B, batch);
  };
  for (const impl of impls) {
    const net = createNet(initMlp(50, 0), impl);
    // Each net trains the way SgdTrainer drives it (SimdMlp reads the pixel bytes directly).
    const one = async () => {
      if (net instanceof SimdMlp) {
        sampler.nextInto(idx);
        await net.stepIndices(train, idx, B, 0.1);
      } else {
        next();
        await net.step(batch, 0.1);
      }
    };
    for (let i = 0; i < 30; i++) await one();
    let steps = 0;
    const t0 = performance.now();
    while (performance.now() - t0 < seconds * 1000) {
      await one();
      steps++;
    }
    const dt = (performance.now() - t0) / 1000;
    net.dispose();
    rows.push({
      where,
      backend: impl === 'wasm-simd' ? 'own wasm' : tf.getBackend(),
      impl,
      stepsPerSecond: steps / dt,
      steps,
    });
  }
  return rows;
}

export function benchPlain(train: DataSplit, where: string, seconds = 2, B = 50): StepBenchRow {
  const sampler = new MinibatchSampler(train.count, B, 0);
  const batch = allocBatch(B, 784);
  const idx = new Uint32Array(B);
  const p = new PlainMlp(initMlp(50, 0));
  let steps = 0;
  const t0 = performance.now();
  while (performance.now() - t0 < seconds * 1000) {
    sampler.nextInto(idx);
    fillBatch(train, idx, B, batch);
    p.step(batch.x, batch.labels, B, 0.1);
    steps++;
  }
  return {
    where,
    backend: 'none',
    impl: 'plain-loop',
    stepsPerSecond: steps / ((performance.now() - t0) / 1000),
    steps,
  };
}
