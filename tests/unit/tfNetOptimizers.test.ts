// Momentum and Adam in SgdNet (the deeper architectures' autodiff step) against a plain-JS
// float64 hand computation with TfMlp's update rules, on a tiny 4-hidden-layer MLP.
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { Rng } from '../../src/engine/data/rng';
import { cnn } from '../../src/engine/nets/cnn';
import { deepMlp, type DeepMlpSpec } from '../../src/engine/nets/deepMlp';
import { SgdNet, initParams, type NetDefinition } from '../../src/engine/nets/tfNet';
import { optimizerSettings, type OptimizerSettings } from '../../src/engine/nets/netTypes';
import { optimizerSteps64, updateError } from './mlpReference';
import { useBackend } from './tfBackend';

const SPEC: DeepMlpSpec = { inputSize: 12, hidden: 6, depth: 4, classes: 10 };

/** Gradient of the mean cross-entropy of the dense ReLU chain, by hand in float64. */
function grad64(
  s: DeepMlpSpec,
  w: Float64Array[],
  x: Float32Array,
  y: Int32Array,
  n: number,
): Float64Array[] {
  const L = w.length;
  const width = (l: number) => (l === 0 ? s.inputSize : s.hidden); // rows of W_{l+1}
  const out = (l: number) => (l === L - 1 ? s.classes : s.hidden); // cols of W_{l+1}
  const g = w.map((a) => new Float64Array(a.length));
  for (let b = 0; b < n; b++) {
    // Forward: a[l] enters W_{l+1}.
    const a: Float64Array[] = [
      Float64Array.from(x.subarray(b * s.inputSize, (b + 1) * s.inputSize)),
    ];
    let z = new Float64Array(0);
    for (let l = 0; l < L; l++) {
      const r = width(l);
      const c = out(l);
      z = new Float64Array(c);
      for (let i = 0; i < r; i++) for (let j = 0; j < c; j++) z[j] += a[l][i] * w[l][i * c + j];
      if (l < L - 1) a.push(z.map((v) => Math.max(0, v)));
    }
    const m = Math.max(...z);
    const e = z.map((v) => Math.exp(v - m));
    const sum = e.reduce((acc, v) => acc + v, 0);
    // Backward: d is ∂loss/∂(pre-activation of layer l+1).
    let d = e.map((v, c) => (v / sum - (c === y[b] ? 1 : 0)) / n);
    for (let l = L - 1; l >= 0; l--) {
      const r = width(l);
      const c = out(l);
      const prev = new Float64Array(r);
      for (let i = 0; i < r; i++)
        for (let j = 0; j < c; j++) {
          g[l][i * c + j] += a[l][i] * d[j];
          prev[i] += d[j] * w[l][i * c + j];
        }
      if (l > 0) for (let i = 0; i < r; i++) if (a[l][i] <= 0) prev[i] = 0;
      d = prev;
    }
  }
  return g;
}

function batch(def: NetDefinition, n: number, seed: number): { x: Float32Array; y: Int32Array } {
  const rng = new Rng(seed);
  return {
    x: Float32Array.from({ length: n * def.inputSize }, () => rng.next()),
    y: Int32Array.from({ length: n }, () => rng.int(def.classes)),
  };
}

describe('SgdNet optimizers (deeper architectures)', () => {
  beforeAll(async () => {
    await useBackend('wasm');
  });

  const def = deepMlp(SPEC);
  const w0 = initParams(def, 3);
  const n = 7;
  const { x, y } = batch(def, n, 4);
  const cases: [string, OptimizerSettings, number][] = [
    ['sgd', optimizerSettings('sgd'), 0.5],
    ['momentum', optimizerSettings('momentum', 0.9), 0.3],
    ['momentum μ = 0.5', optimizerSettings('momentum', 0.5), 0.3],
    ['adam', optimizerSettings('adam'), 0.01],
  ];

  for (const [name, opt, lr] of cases) {
    it(`${name}: 4 steps match the float64 hand computation (rel. error < 1e-4)`, () => {
      const ref = optimizerSteps64(w0, (w) => grad64(SPEC, w, x, y, n), lr, opt, 4);
      const net = new SgdNet(def, w0, opt);
      for (let t = 0; t < 4; t++) net.step(x, y, n, lr);
      const got = net.weights();
      net.dispose();
      for (let l = 0; l < got.length; l++)
        expect(updateError(got[l], ref[l], w0[l]), `W${l + 1}`).toBeLessThan(1e-4);
    });
  }

  it('momentum differs from SGD after the first step; resetOptimizer restarts it', () => {
    const a = new SgdNet(def, w0, optimizerSettings('momentum', 0.9));
    const b = new SgdNet(def, w0);
    for (let t = 0; t < 2; t++) {
      a.step(x, y, n, 0.1);
      b.step(x, y, n, 0.1);
    }
    expect(updateError(a.read(2), b.read(2), w0[2])).toBeGreaterThan(0.1);
    b.dispose();
    // After a reset the next step is a plain gradient step from where it stands.
    const at = a.weights();
    a.resetOptimizer();
    a.step(x, y, n, 0.1);
    const sgd = new SgdNet(def, at);
    sgd.step(x, y, n, 0.1);
    expect(updateError(a.read(2), sgd.read(2), at[2])).toBeLessThan(1e-5);
    a.dispose();
    sgd.dispose();
  });

  const small = cnn({ side: 8, kernel: 3, conv1: 2, conv2: 3, dense: 5, classes: 10 });
  for (const [label, net] of [
    ['mlp4', def],
    ['cnn', small],
  ] as const) {
    for (const kind of ['sgd', 'momentum', 'adam'] as const) {
      it(`${label}, ${kind}: numTensors stays flat over 50 steps and dispose frees everything`, () => {
        const before = tf.memory().numTensors;
        const s = new SgdNet(net, initParams(net, 1), optimizerSettings(kind));
        const b = batch(net, 5, 9);
        for (let i = 0; i < 3; i++) s.step(b.x, b.y, 5, 0.001);
        const after3 = tf.memory().numTensors;
        for (let i = 0; i < 47; i++) s.step(b.x, b.y, 5, 0.001);
        expect(tf.memory().numTensors).toBe(after3);
        s.dispose();
        expect(tf.memory().numTensors).toBe(before);
      });
    }
  }

  it('refuses a momentum outside [0, 1)', () => {
    expect(() => new SgdNet(def, w0, optimizerSettings('momentum', 1))).toThrow(/momentum/);
  });
});
