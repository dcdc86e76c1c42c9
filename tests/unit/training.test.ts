import { existsSync, readFileSync } from 'node:fs';
import { beforeAll, describe, expect, it } from 'vitest';
import { loadEmbeddedDataset } from '../../src/engine/data/embedded';
import { DEFAULT_CONFIG } from '../../src/engine/experiments/config';
import { trainingRun, type TrainingEvent } from '../../src/engine/experiments/training';
import { initMlp } from '../../src/engine/nets/mlp';
import { useBackend } from './tfBackend';

const dataPath = 'public/data/mnist-10k.bin';

describe.skipIf(!existsSync(dataPath))('the training protocol', () => {
  beforeAll(async () => {
    await useBackend('wasm');
  });
  const data = existsSync(dataPath) ? loadEmbeddedDataset(readFileSync(dataPath)) : null;

  async function collect(cfg: typeof DEFAULT_CONFIG, max = 100_000): Promise<TrainingEvent[]> {
    const out: TrainingEvent[] = [];
    for await (const e of trainingRun(cfg, data!, { initial: initMlp(cfg.hidden, cfg.seed) })) {
      out.push(e.type === 'step' ? { ...e, w2: e.w2 ? new Float32Array(0) : undefined } : e);
      if (out.length > max) break;
    }
    return out;
  }

  it('warm-up, exploration, a window with one W2 snapshot per step, then done', async () => {
    const cfg = { ...DEFAULT_CONFIG, hidden: 16, batchSize: 100, warmupEpochs: 2, windowEpochs: 2 };
    const ev = await collect(cfg);
    const types = ev.map((e) => e.type).filter((t) => t !== 'step' && t !== 'checkpoint');
    const checkpoints = ev.filter((e) => e.type === 'checkpoint');
    expect(checkpoints.map((e) => e.type === 'checkpoint' && e.epoch)).toEqual([0, 1, 2, 3, 4]);
    expect(types).toEqual([
      'epoch',
      'epoch',
      'epoch',
      'exploration',
      'windowStart',
      'epoch',
      'epoch',
      'windowEnd',
      'done',
    ]);
    const steps = ev.filter((e) => e.type === 'step');
    expect(steps).toHaveLength(4 * 80);
    expect(steps.filter((e) => e.type === 'step' && e.w2).length).toBe(2 * 80);
    const end = ev.find((e) => e.type === 'windowEnd');
    expect(end && end.type === 'windowEnd' && end.weights.W2.length).toBe(256);
  });

  it('a diverging learning rate stops the run with a clear message and finite weights', async () => {
    const cfg = { ...DEFAULT_CONFIG, lr: 1e6, warmupEpochs: 5 };
    const ev = await collect(cfg);
    const last = ev[ev.length - 1];
    expect(last.type).toBe('diverged');
    if (last.type !== 'diverged') return;
    expect(last.message).toMatch(/made the weights diverge at step \d+ .*Lower α/);
    expect(last.restoredStep).toBeLessThan(last.step);
    expect(ev.some((e) => e.type === 'done')).toBe(false);
  });

  it('the Langevin contrast continues from the SGD solution with its own window', async () => {
    const cfg = {
      ...DEFAULT_CONFIG,
      hidden: 16,
      batchSize: 100,
      warmupEpochs: 1,
      windowEpochs: 1,
      contrast: true,
      langevinBurnIn: 20,
      langevinSteps: 40,
      langevinEvery: 4,
      temperature: 1e-6,
    };
    const ev = await collect(cfg);
    const starts = ev.filter((e) => e.type === 'windowStart');
    expect(starts.map((e) => e.type === 'windowStart' && e.run)).toEqual(['sgd', 'langevin']);
    const lsteps = ev.filter((e) => e.type === 'step' && e.phase.startsWith('langevin'));
    expect(lsteps).toHaveLength(60);
    expect(
      ev.filter((e) => e.type === 'step' && e.phase === 'langevin-window' && e.w2).length,
    ).toBe(10);
    expect(ev[ev.length - 1].type).toBe('done');
  });
});
