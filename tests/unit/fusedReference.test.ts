// The float64 step the fused WGSL trainer is checked against (src/engine/nets/webgpu/reference.ts;
// the GPU side runs in tests/e2e/webgpu.test.mjs): it must itself be the SGD step of the paper's
// MLP. Checked against the float32 PlainMlp step and against finite differences of the loss.
import { describe, expect, it } from 'vitest';
import { MinibatchSampler } from '../../src/engine/data/batches';
import { fillBatch } from '../../src/engine/experiments/training';
import { cloneWeights, initMlp, PlainMlp } from '../../src/engine/nets/mlp';
import { allocBatch } from '../../src/engine/nets/netTypes';
import { referenceSgdStep, relativeMaxError, toF64 } from '../../src/engine/nets/webgpu/reference';
import { fusedMlpWgsl } from '../../src/engine/nets/webgpu/fusedMlpWgsl';
import { loss64 } from './mlpReference';

import { randomSplit } from '../fixtures/randomSplit';

describe('float64 reference of the fused step', () => {
  const train = randomSplit(120, 3);

  it('tracks the float32 PlainMlp step for five steps (B = 20, h = 12)', () => {
    const w0 = initMlp(12, 5);
    const ref = toF64(w0);
    const plain = new PlainMlp(cloneWeights(w0));
    const sampler = new MinibatchSampler(train.count, 20, 5);
    const idx = new Uint32Array(20);
    const batch = allocBatch(20, 784);
    for (let s = 0; s < 5; s++) {
      sampler.nextInto(idx);
      fillBatch(train, idx, 20, batch);
      const a = referenceSgdStep(ref, train, idx, 20, 0.1);
      const b = plain.step(batch.x, batch.labels, 20, 0.1);
      expect(Math.abs(a.loss - b.loss) / b.loss).toBeLessThan(1e-6);
      expect(a.errors).toBe(b.errors);
    }
    expect(relativeMaxError(plain.w.W1, ref.W1)).toBeLessThan(1e-5);
    expect(relativeMaxError(plain.w.W2, ref.W2)).toBeLessThan(1e-5);
    expect(relativeMaxError(plain.w.W3, ref.W3)).toBeLessThan(1e-5);
  });

  it('reports the batch loss before the step and moves W2 along minus α times its gradient', () => {
    const w = toF64(initMlp(6, 9));
    const idx = [4, 17, 33, 80, 101];
    const batch = allocBatch(5, 784);
    fillBatch(train, Uint32Array.from(idx), 5, batch);
    const before = loss64(w, 784, 6, batch);
    const w2 = w.W2.slice();
    // Central differences of the float64 loss for a few entries of W2.
    const eps = 1e-6;
    const fd = [0, 7, 20, 35].map((k) => {
      const p = { ...w, W2: w.W2.slice() };
      p.W2[k] += eps;
      const up = loss64(p, 784, 6, batch);
      p.W2[k] -= 2 * eps;
      return (up - loss64(p, 784, 6, batch)) / (2 * eps);
    });
    const lr = 0.05;
    const r = referenceSgdStep(w, train, idx, 5, lr);
    expect(r.loss).toBeCloseTo(before, 12);
    [0, 7, 20, 35].forEach((k, i) => expect((w2[k] - w.W2[k]) / lr).toBeCloseTo(fd[i], 6));
  });

  it('the shader is specialised to its shape and fits WebGPU’s guaranteed workgroup memory', () => {
    const src = fusedMlpWgsl(50, 784, 50, 256);
    expect(src).toMatch(/const H = 50u;/);
    expect(src).toMatch(/@workgroup_size\(256\)/);
    const shared = Number(/var<workgroup> sh: array<f32, (\d+)>/.exec(src)?.[1]);
    expect(shared * 4).toBeLessThanOrEqual(16384);
  });
});
