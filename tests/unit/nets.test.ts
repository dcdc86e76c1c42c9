import { readFileSync, existsSync } from 'node:fs';
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { Rng } from '../../src/engine/data/rng';
import { loadEmbeddedDataset } from '../../src/engine/data/embedded';
import { initMlp, PlainMlp, type MlpWeights } from '../../src/engine/nets/mlp';
import { TfMlp } from '../../src/engine/nets/tfMlp';
import { allocBatch, type StepImpl, type UploadBatch } from '../../src/engine/nets/netTypes';
import { SgdTrainer } from '../../src/engine/experiments/training';
import { DEFAULT_CONFIG } from '../../src/engine/experiments/config';
import { useBackend } from './tfBackend';
import { fdGradient, loss64, relError } from './mlpReference';

const IMPLS: StepImpl[] = ['explicit-transpose', 'transpose-flags', 'autodiff'];

function tinyBatch(n: number, size: number, seed: number): UploadBatch {
  const rng = new Rng(seed);
  const b = allocBatch(size, n);
  b.size = size;
  for (let s = 0; s < size; s++) {
    for (let i = 0; i < n; i++) {
      const v = rng.next();
      b.x[s * n + i] = v;
      b.xT[i * size + s] = v;
    }
    b.labels[s] = rng.int(10);
    b.oneHot[s * 10 + b.labels[s]] = 1;
  }
  return b;
}

const dataPath = 'public/data/mnist-10k.bin';

describe('training step', () => {
  beforeAll(async () => {
    await useBackend('wasm');
  });

  const n = 12;
  const h = 6;
  const w0 = initMlp(h, 3, n);
  const batch = tinyBatch(n, 7, 4);
  const fd = fdGradient(w0, n, batch);

  for (const impl of IMPLS) {
    it(`${impl}: the gradient of W1, W2, W3 equals central finite differences (rel. error < 1e-3)`, async () => {
      const lr = 1;
      const net = new TfMlp(w0, impl);
      await net.step(batch, lr);
      const after = await net.getWeights();
      net.dispose();
      const got = (['W1', 'W2', 'W3'] as const).map((k) =>
        after[k].map((v, i) => (w0[k][i] - v) / lr),
      );
      for (let l = 0; l < 3; l++) expect(relError(got[l], fd[l])).toBeLessThan(1e-3);
    });
  }

  it('the plain Float32Array step (benchmark baseline) has the same gradient', () => {
    const p = new PlainMlp({ ...w0, W1: w0.W1.slice(), W2: w0.W2.slice(), W3: w0.W3.slice() });
    p.gradient(batch.x, batch.labels, batch.size);
    expect(relError(p.grad.W1, fd[0])).toBeLessThan(1e-3);
    expect(relError(p.grad.W2, fd[1])).toBeLessThan(1e-3);
    expect(relError(p.grad.W3, fd[2])).toBeLessThan(1e-3);
  });

  it('reports the minibatch loss SGD saw, matching the float64 reference', async () => {
    const net = new TfMlp(w0);
    const r = await net.step(batch, 0.1);
    net.dispose();
    const w64 = {
      W1: Float64Array.from(w0.W1),
      W2: Float64Array.from(w0.W2),
      W3: Float64Array.from(w0.W3),
    };
    expect(r.loss).toBeCloseTo(loss64(w64, n, h, batch), 5);
  });

  it('keeps tf.memory().numTensors flat: the same after 10 and after 1,000 steps', async () => {
    const net = new TfMlp(initMlp(50, 1));
    const b = tinyBatch(784, 50, 9);
    for (let i = 0; i < 10; i++) await net.step(b, 0.05);
    const after10 = tf.memory().numTensors;
    for (let i = 0; i < 990; i++) await net.step(b, 0.05);
    expect(tf.memory().numTensors).toBe(after10);
    net.dispose();
  });
});

describe.skipIf(!existsSync(dataPath))('training on the embedded digits', () => {
  beforeAll(async () => {
    await useBackend('wasm');
  });
  const data = existsSync(dataPath) ? loadEmbeddedDataset(readFileSync(dataPath)) : null;

  async function train(seed: number, steps: number): Promise<MlpWeights> {
    const cfg = { ...DEFAULT_CONFIG, seed };
    const net = new TfMlp(initMlp(cfg.hidden, seed));
    const t = new SgdTrainer(net, data!, cfg);
    for (let i = 0; i < steps; i++) await t.trainStep();
    const w = await net.getWeights();
    net.dispose();
    return w;
  }

  it('same seed → identical weights after 100 steps; another seed → different', async () => {
    const a = await train(7, 100);
    const b = await train(7, 100);
    const c = await train(8, 100);
    expect(Array.from(a.W2)).toEqual(Array.from(b.W2));
    expect(Array.from(a.W1)).toEqual(Array.from(b.W1));
    expect(relError(a.W2, c.W2)).toBeGreaterThan(0.1);
  });

  it('5 epochs of the default net (B = 50, α = 0.1) reach training error < 5%', async () => {
    const cfg = { ...DEFAULT_CONFIG };
    const net = new TfMlp(initMlp(cfg.hidden, cfg.seed));
    const t = new SgdTrainer(net, data!, cfg);
    while (t.epoch < 5) await t.trainStep();
    const rec = await t.evaluateEpoch();
    net.dispose();
    expect(rec.epoch).toBe(5);
    expect(rec.trainError).toBeLessThan(0.05);
    expect(rec.testError).toBeLessThan(0.12);
  });
});
