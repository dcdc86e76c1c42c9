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
import { TfMlp, allocBatch, type StepImpl } from '../engine/nets/tfMlp';

export interface StepBenchRow {
  where: string;
  backend: string;
  impl: StepImpl | 'plain-loop';
  stepsPerSecond: number;
  steps: number;
}

export async function benchSteps(
  train: DataSplit,
  where: string,
  impls: StepImpl[],
  seconds = 2,
  B = 50,
): Promise<StepBenchRow[]> {
  const rows: StepBenchRow[] = [];
  const sampler = new MinibatchSampler(train.count, B, 0);
  const batch = allocBatch(B, 784);
  const idx = new Uint32Array(B);
  const next = () => {
    sampler.nextInto(idx);
    fillBatch(train, idx, B, batch);
  };
  for (const impl of impls) {
    const net = new TfMlp(initMlp(50, 0), impl);
    for (let i = 0; i < 30; i++) {
      next();
      await net.step(batch, 0.1);
    }
    let steps = 0;
    const t0 = performance.now();
    while (performance.now() - t0 < seconds * 1000) {
      next();
      await net.step(batch, 0.1);
      steps++;
    }
    const dt = (performance.now() - t0) / 1000;
    net.dispose();
    rows.push({ where, backend: tf.getBackend(), impl, stepsPerSecond: steps / dt, steps });
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
  return { where, backend: 'none', impl: 'plain-loop', stepsPerSecond: steps / ((performance.now() - t0) / 1000), steps };
}
