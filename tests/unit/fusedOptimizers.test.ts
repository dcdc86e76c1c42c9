// Momentum and Adam in the fused WGSL trainer (src/engine/nets/webgpu/fusedOptimizerWgsl.ts):
// the float64 step it is checked against on a GPU adapter (reference.ts's referenceStep; the GPU
// side runs in tests/e2e/webgpu.test.mjs) must itself be the tfjs step the CPU path trains with
// (TfMlp, applyOptimizerUpdate), and the state the fused trainer reads back must continue a
// TfMlp run exactly where it stood.
import { beforeAll, describe, expect, it } from 'vitest';
import { MinibatchSampler } from '../../src/engine/data/batches';
import { fillBatch } from '../../src/engine/experiments/training';
import { cloneWeights, initMlp, type MlpWeights } from '../../src/engine/nets/mlp';
import { allocBatch, optimizerSettings } from '../../src/engine/nets/netTypes';
import { TfMlp } from '../../src/engine/nets/tfMlp';
import { fusedMlpSplitWgsl } from '../../src/engine/nets/webgpu/fusedMlpSplitWgsl';
import { fusedMlpWgsl } from '../../src/engine/nets/webgpu/fusedMlpWgsl';
import { adamCorrections } from '../../src/engine/nets/webgpu/fusedOptimizerWgsl';
import {
  referenceStep,
  relativeMaxError,
  toF64,
  zeroOptimizerState,
} from '../../src/engine/nets/webgpu/reference';
import { useBackend } from './tfBackend';

import { randomSplit } from '../fixtures/randomSplit';

const flat = (
  w: MlpWeights | { W1: ArrayLike<number>; W2: ArrayLike<number>; W3: ArrayLike<number> },
) => [...Array.from(w.W1), ...Array.from(w.W2), ...Array.from(w.W3)];

describe('float64 reference of the fused momentum and Adam steps', () => {
  const train = randomSplit(120, 3);
  beforeAll(async () => {
    await useBackend('wasm');
  });

  for (const [kind, lr, maxRel] of [
    ['momentum', 0.05, 1e-5],
    ['adam', 0.001, 1e-5],
  ] as const)
    it(`${kind}: six steps track TfMlp's float32 step (B = 20, h = 12), state included`, async () => {
      const o = optimizerSettings(kind, 0.8);
      const w0 = initMlp(12, 5);
      const ref = toF64(w0);
      const st = zeroOptimizerState(o, ref);
      const net = new TfMlp(cloneWeights(w0), 'explicit-transpose', o);
      const sampler = new MinibatchSampler(train.count, 20, 5);
      const idx = new Uint32Array(20);
      const batch = allocBatch(20, 784);
      for (let s = 0; s < 6; s++) {
        sampler.nextInto(idx);
        fillBatch(train, idx, 20, batch);
        const a = referenceStep(ref, train, idx, 20, lr, o, st);
        const b = await net.step(batch, lr);
        expect(Math.abs(a.loss - b.loss) / b.loss).toBeLessThan(1e-6);
      }
      const w = await net.getWeights();
      expect(relativeMaxError(flat(w), flat(ref))).toBeLessThan(maxRel);
      const state = (await net.getOptimizerState())!;
      expect(state.t).toBe(st.t);
      expect(state.t).toBe(kind === 'adam' ? 6 : 0);
      expect(state.moments).toHaveLength(st.moments.length);
      state.moments.forEach((m, c) =>
        expect(relativeMaxError(flat(m), flat(st.moments[c]))).toBeLessThan(1e-5),
      );
      net.dispose();
    });

  for (const kind of ['momentum', 'adam'] as const)
    it(`${kind}: a TfMlp given another's weights and state continues its run bit for bit`, async () => {
      const o = optimizerSettings(kind, 0.9);
      const lr = kind === 'adam' ? 0.001 : 0.05;
      const a = new TfMlp(initMlp(10, 2), 'explicit-transpose', o);
      const b = new TfMlp(initMlp(10, 7), 'explicit-transpose', o);
      const sampler = new MinibatchSampler(train.count, 15, 2);
      const idx = new Uint32Array(15);
      const batch = allocBatch(15, 784);
      const step = async (net: TfMlp) => {
        sampler.nextInto(idx);
        fillBatch(train, idx, 15, batch);
        return net.step(batch, lr);
      };
      for (let s = 0; s < 3; s++) await step(a);
      b.setWeights(await a.getWeights());
      b.setOptimizerState((await a.getOptimizerState())!);
      const saved = sampler.saveState();
      const fromA = [await step(a), await step(a)].map((r) => Array.from(r.w2));
      sampler.restoreState(saved);
      const fromB = [await step(b), await step(b)].map((r) => Array.from(r.w2));
      expect(fromB).toEqual(fromA);
      // Without the state the run would differ (setWeights alone restarts the optimizer).
      b.setWeights(await a.getWeights());
      const c = await a.getOptimizerState();
      expect(c!.moments[0].W2.some((v) => v !== 0)).toBe(true);
      a.dispose();
      b.dispose();
    });

  it('Adam’s bias corrections per run and step continue from each run’s step count', () => {
    const o = optimizerSettings('adam');
    const c = adamCorrections(o, [0.001, 0.01], [0, 5], 2);
    expect(c[0]).toBeCloseTo(0.001 / (1 - 0.9), 9);
    expect(c[1]).toBeCloseTo(1 / Math.sqrt(1 - 0.999), 4);
    expect(c[2]).toBeCloseTo(0.001 / (1 - 0.9 ** 2), 9);
    // Run 1, step 0 of the chunk is its 6th step.
    expect(c[4]).toBeCloseTo(0.01 / (1 - 0.9 ** 6), 8);
    expect(c[7]).toBeCloseTo(1 / Math.sqrt(1 - 0.999 ** 7), 4);
  });

  it('the shaders bind the optimizer state only when there is one; SGD’s have none', () => {
    for (const src of [fusedMlpWgsl(50, 784, 50, 256), fusedMlpSplitWgsl(50, 784, 50, 2)]) {
      expect(src).not.toMatch(/moments|fn upd\(/);
      expect(src).toMatch(/-= lr \*/);
    }
    const mom = optimizerSettings('momentum');
    const adam = optimizerSettings('adam');
    for (const src of [
      fusedMlpWgsl(50, 784, 50, 256, true, mom),
      fusedMlpSplitWgsl(50, 784, 50, 2, 256, mom),
    ]) {
      expect(src).toMatch(/@binding\(8\) var<storage, read_write> moments/);
      expect(src).not.toMatch(/arrayLength\(&params\) \* P|-= lr \*/);
    }
    for (const src of [
      fusedMlpWgsl(50, 784, 50, 256, false, adam),
      fusedMlpSplitWgsl(50, 784, 50, 2, 256, adam),
    ]) {
      expect(src).toMatch(/2u \* arrayLength\(&params\) \* P/);
      expect(src).toMatch(/const B2: f32 = 0\.999;/);
      expect(src).not.toMatch(/-= lr \*/);
    }
  });
});
