// Momentum and Adam in TfMlp's hand-written step against a plain-JS float64 hand computation.
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { Rng } from '../../src/engine/data/rng';
import { initMlp } from '../../src/engine/nets/mlp';
import { TfMlp } from '../../src/engine/nets/tfMlp';
import {
  allocBatch,
  optimizerSettings,
  type OptimizerSettings,
  type StepImpl,
  type UploadBatch,
} from '../../src/engine/nets/netTypes';
import { createNet } from '../../src/engine/experiments/trainingTf';
import { SimdMlp } from '../../src/engine/nets/simdMlp';
import { optimizerSteps64, updateError } from './mlpReference';
import { useBackend } from './tfBackend';

const IMPLS: StepImpl[] = ['explicit-transpose', 'transpose-flags', 'autodiff'];
type W64 = [Float64Array, Float64Array, Float64Array];

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

/** Gradient of the mean cross-entropy of the n-h-h-10 ReLU net, by hand in float64. */
function grad64(w: W64, n: number, h: number, b: UploadBatch): W64 {
  const [W1, W2, W3] = w;
  const g: W64 = [
    new Float64Array(W1.length),
    new Float64Array(W2.length),
    new Float64Array(W3.length),
  ];
  for (let s = 0; s < b.size; s++) {
    const x = Array.from({ length: n }, (_, i) => b.x[s * n + i]);
    const a1 = new Float64Array(h);
    for (let j = 0; j < h; j++) {
      let v = 0;
      for (let i = 0; i < n; i++) v += x[i] * W1[i * h + j];
      a1[j] = Math.max(0, v);
    }
    const a2 = new Float64Array(h);
    for (let j = 0; j < h; j++) {
      let v = 0;
      for (let i = 0; i < h; i++) v += a1[i] * W2[i * h + j];
      a2[j] = Math.max(0, v);
    }
    const z = new Float64Array(10);
    for (let c = 0; c < 10; c++) for (let i = 0; i < h; i++) z[c] += a2[i] * W3[i * 10 + c];
    const m = Math.max(...z);
    const e = z.map((v) => Math.exp(v - m));
    const sum = e.reduce((acc, v) => acc + v, 0);
    const d3 = e.map((v, c) => (v / sum - (c === b.labels[s] ? 1 : 0)) / b.size);
    const d2 = new Float64Array(h);
    for (let i = 0; i < h; i++) {
      for (let c = 0; c < 10; c++) {
        g[2][i * 10 + c] += a2[i] * d3[c];
        d2[i] += d3[c] * W3[i * 10 + c];
      }
      if (a2[i] <= 0) d2[i] = 0;
    }
    const d1 = new Float64Array(h);
    for (let i = 0; i < h; i++) {
      for (let j = 0; j < h; j++) {
        g[1][i * h + j] += a1[i] * d2[j];
        d1[i] += d2[j] * W2[i * h + j];
      }
      if (a1[i] <= 0) d1[i] = 0;
    }
    for (let i = 0; i < n; i++) for (let j = 0; j < h; j++) g[0][i * h + j] += x[i] * d1[j];
  }
  return g;
}

describe('optimizers in the hand-written step', () => {
  beforeAll(async () => {
    await useBackend('wasm');
  });

  const n = 12;
  const h = 6;
  const w0 = initMlp(h, 3, n);
  const batch = tinyBatch(n, 7, 4);
  const cases: [string, OptimizerSettings, number][] = [
    ['sgd', optimizerSettings('sgd'), 0.5],
    ['momentum', optimizerSettings('momentum', 0.9), 0.3],
    ['adam', optimizerSettings('adam'), 0.01],
  ];

  for (const [name, opt, lr] of cases) {
    for (const impl of IMPLS) {
      it(`${name}, ${impl}: 3 steps match the float64 hand computation (rel. error < 1e-4)`, async () => {
        const ref = optimizerSteps64(
          [w0.W1, w0.W2, w0.W3],
          (w) => grad64(w as W64, n, w0.hidden, batch),
          lr,
          opt,
          3,
        );
        const net = new TfMlp(w0, impl, opt);
        for (let t = 0; t < 3; t++) await net.step(batch, lr);
        const got = await net.getWeights();
        net.dispose();
        const keys = ['W1', 'W2', 'W3'] as const;
        for (let l = 0; l < 3; l++) {
          expect(updateError(got[keys[l]], ref[l], w0[keys[l]])).toBeLessThan(1e-4);
        }
      });
    }
  }

  it('momentum differs from SGD after the first step (the velocity is really carried)', async () => {
    const a = new TfMlp(w0, 'explicit-transpose', optimizerSettings('momentum', 0.9));
    const b = new TfMlp(w0, 'explicit-transpose');
    for (let t = 0; t < 2; t++) {
      await a.step(batch, 0.1);
      await b.step(batch, 0.1);
    }
    const wa = await a.getWeights();
    const wb = await b.getWeights();
    a.dispose();
    b.dispose();
    expect(updateError(wa.W2, wb.W2, w0.W2)).toBeGreaterThan(0.1);
  });

  it('setWeights restarts the optimizer: the same 3 steps again give the same weights', async () => {
    const net = new TfMlp(w0, 'explicit-transpose', optimizerSettings('adam'));
    for (let t = 0; t < 3; t++) await net.step(batch, 0.01);
    const first = await net.getWeights();
    net.setWeights(w0);
    for (let t = 0; t < 3; t++) await net.step(batch, 0.01);
    const second = await net.getWeights();
    net.dispose();
    expect(Array.from(second.W2)).toEqual(Array.from(first.W2));
  });

  for (const kind of ['momentum', 'adam'] as const) {
    it(`${kind}: tf.memory().numTensors stays flat over 500 steps, and dispose frees the state`, async () => {
      const before = tf.memory().numTensors;
      const net = new TfMlp(initMlp(20, 1), undefined, optimizerSettings(kind));
      const b = tinyBatch(784, 20, 9);
      for (let i = 0; i < 10; i++) await net.step(b, 0.001);
      const after10 = tf.memory().numTensors;
      for (let i = 0; i < 490; i++) await net.step(b, 0.001);
      expect(tf.memory().numTensors).toBe(after10);
      net.dispose();
      expect(tf.memory().numTensors).toBe(before);
    });
  }

  it('createNet trains with TfMlp whenever the optimizer is not plain SGD', () => {
    const w = initMlp(8, 0);
    for (const choice of ['auto', 'wasm-simd', 'tfjs'] as const) {
      const net = createNet(w, choice, optimizerSettings('adam'));
      expect(net).toBeInstanceOf(TfMlp);
      net.dispose();
    }
    const sgd = createNet(w, 'wasm-simd');
    expect(sgd).toBeInstanceOf(SimdMlp);
    sgd.dispose();
  });
});
