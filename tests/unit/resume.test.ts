// Resuming a run from an epoch checkpoint reproduces the run that was never interrupted.
import { existsSync, readFileSync } from 'node:fs';
import { beforeAll, describe, expect, it } from 'vitest';
import { MinibatchSampler } from '../../src/engine/data/batches';
import { loadEmbeddedDataset } from '../../src/engine/data/embedded';
import { DEFAULT_CONFIG, type RunConfig } from '../../src/engine/experiments/config';
import {
  trainingRun,
  type EpochRecord,
  type TrainingEvent,
} from '../../src/engine/experiments/training';
import { initMlp, type MlpWeights } from '../../src/engine/nets/mlp';
import { useBackend } from './tfBackend';

describe('MinibatchSampler.seekEpoch', () => {
  it('lands where the same seed is after that many epochs, whatever batch sizes they used', () => {
    const ran = new MinibatchSampler(103, 10, 7);
    for (let i = 0; i < 10; i++) ran.next(); // epoch 1 with B = 10
    ran.setBatchSize(25);
    for (let i = 0; i < 4; i++) ran.next(); // epoch 2 with B = 25
    expect(ran.epoch).toBe(2);
    const sought = new MinibatchSampler(103, 25, 7);
    sought.seekEpoch(2, 14);
    expect(sought.epoch).toBe(2);
    expect(sought.totalSteps).toBe(14);
    expect(sought.stepInEpoch).toBe(0);
    for (let i = 0; i < 9; i++) expect(Array.from(sought.next())).toEqual(Array.from(ran.next()));
  });

  it('refuses a negative or fractional epoch', () => {
    const s = new MinibatchSampler(10, 2, 1);
    expect(() => s.seekEpoch(-1, 0)).toThrow(/epoch/);
    expect(() => s.seekEpoch(1.5, 0)).toThrow(/epoch/);
  });
});

const dataPath = 'public/data/mnist-10k.bin';

describe.skipIf(!existsSync(dataPath))('resuming a training run from a checkpoint', () => {
  beforeAll(async () => {
    await useBackend('wasm');
  });
  const data = existsSync(dataPath) ? loadEmbeddedDataset(readFileSync(dataPath)) : null;
  const cfg: RunConfig = {
    ...DEFAULT_CONFIG,
    hidden: 16,
    batchSize: 200,
    phaseMode: 'warmup',
    warmupEpochs: 3,
    windowEpochs: 1,
  };

  async function collect(
    initial: MlpWeights,
    resume?: { epoch: number; step: number; trainErrors: number[] },
  ): Promise<TrainingEvent[]> {
    const out: TrainingEvent[] = [];
    for await (const e of trainingRun(cfg, data!, { initial, resume })) {
      // Keep copies: the events' arrays may be reused or transferred.
      if (e.type === 'step') out.push({ ...e, w2: e.w2 ? e.w2.slice() : undefined });
      else if (e.type === 'checkpoint')
        out.push({
          ...e,
          weights: {
            ...e.weights,
            W1: e.weights.W1.slice(),
            W2: e.weights.W2.slice(),
            W3: e.weights.W3.slice(),
          },
        });
      else out.push(e);
    }
    return out;
  }
  const epochs = (ev: TrainingEvent[]): EpochRecord[] =>
    ev.flatMap((e) => (e.type === 'epoch' ? [e.record] : []));

  it('from a warm-up epoch and from the window start, the rest of the run is the same', async () => {
    const full = await collect(initMlp(cfg.hidden, cfg.seed));
    const records = epochs(full);
    expect(records.map((r) => r.epoch)).toEqual([0, 1, 2, 3, 4]);
    for (const at of [1, 3]) {
      const cp = full.find((e) => e.type === 'checkpoint' && e.epoch === at);
      if (cp?.type !== 'checkpoint') throw new Error('no checkpoint');
      const trainErrors = records.slice(1, at + 1).map((r) => r.trainError);
      const resumed = await collect(cp.weights, { epoch: at, step: cp.step, trainErrors });
      // No second epoch-0 evaluation: the records continue where the checkpoint left them.
      expect(epochs(resumed)).toEqual(records.slice(at + 1));
      const after = (ev: TrainingEvent[]) =>
        ev.filter((e) =>
          e.type === 'step'
            ? e.step > cp.step
            : e.type === 'epoch'
              ? e.record.epoch > at
              : e.type !== 'checkpoint' && (!('step' in e) || e.step >= cp.step),
        );
      const a = after(full).map((e) => (e.type === 'windowEnd' ? { ...e, weights: null } : e));
      const b = after(resumed).map((e) => (e.type === 'windowEnd' ? { ...e, weights: null } : e));
      expect(b.map((e) => e.type)).toEqual(a.map((e) => e.type));
      expect(b).toEqual(a);
    }
  });

  it('refuses a checkpoint inside the PCA window', async () => {
    const w = initMlp(cfg.hidden, cfg.seed);
    const run = trainingRun(cfg, data!, {
      initial: w,
      resume: { epoch: 4, step: 160, trainErrors: [0.5, 0.4, 0.3, 0.2] },
    });
    await expect(run.next()).rejects.toThrow(/inside the PCA window/);
  });
});
