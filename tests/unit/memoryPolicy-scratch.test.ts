// The memory estimate's scratch terms (memoryPolicy.ts) against what the plain kernels really
// hold: each kernel is built on a small synthetic problem and every buffer it can reach (typed
// arrays, WebAssembly memories) is summed, once per ArrayBuffer.
import { describe, expect, it } from 'vitest';
import { C, P, h, heldBytes, problem, vector } from '../fixtures/heldBytes';
import {
  EMBEDDED_DATA_SHAPE,
  MEMORY_BUDGET_BYTES,
  estimateRunMemory,
  fullSetLossScratchBytes,
  sgdWindowEvery,
  temperatureScratchBytes,
  trainerStepBytes,
} from '../../src/engine/experiments/memoryPolicy';
import { DEFAULT_CONFIG, type RunConfig } from '../../src/engine/experiments/config';
import { PlainFullSetLoss } from '../../src/engine/landscape/fullSetLossPlain';
import { MinibatchSlopes } from '../../src/engine/landscape/minibatchSlopesPlain';
import { SimdMlp } from '../../src/engine/nets/simdMlp';
import { Workspace } from '../../src/engine/pca/kernels';
import { PRESETS } from '../../src/state/configSchema';

describe('the plain kernels hold what the memory estimate counts', () => {
  it('uses the WebAssembly workspaces the estimate assumes', () => {
    expect(new Workspace(16).usesWasm).toBe(true);
  });

  it('the full-set loss: H1, the kept directions, and the scratch term', async () => {
    const N = 600;
    const perDirection = PlainFullSetLoss.bytesPerDirection(N, h, C);
    const loss = new PlainFullSetLoss({ ...problem(N), budgetBytes: 3 * perDirection });
    expect(loss.directionCapacity).toBe(3);
    // Four directions: three are kept, the fourth is made for the call and dropped.
    const centre = vector(0);
    await loss.evaluate(
      centre,
      [1, 2, 3, 4].map((k) => ({ direction: vector(k), delta: 0.1 })),
    );
    expect(heldBytes(loss)).toBe(N * h * 4 + 3 * perDirection + fullSetLossScratchBytes(N, h, 3));
  });

  it('the active-temperature ensemble: H1 and the scratch term', async () => {
    const K = 30;
    const B = 20;
    const ms = new MinibatchSlopes({ ...problem(600), batchSize: B, minibatches: K, seed: 7 });
    await ms.profile(vector(0), vector(1), [-0.1, 0, 0.1]);
    expect(heldBytes(ms)).toBe(K * B * h * 4 + temperatureScratchBytes(K, B, h));
  });

  it("the trainer's SIMD step, for batches below, at and beyond its first capacity", async () => {
    const data = problem(400);
    const split = { images: data.images, labels: data.labels, count: 400 };
    for (const B of [10, 64, 100, 300]) {
      const net = new SimdMlp({
        hidden: h,
        W1: data.w1,
        W2: Float32Array.from(vector(2)),
        W3: data.w3,
      });
      const idx = Uint32Array.from({ length: B }, (_, i) => i);
      await net.stepIndices(split, idx, B, 0.01);
      expect(heldBytes(net), `B = ${B}`).toBe(trainerStepBytes(h, P, B));
      net.dispose();
    }
  });
});

describe('the scratch terms in the estimate', () => {
  const part = (c: RunConfig, what: RegExp) =>
    estimateRunMemory(c, EMBEDDED_DATA_SHAPE).parts.find((p) => what.test(p.what))?.bytes;

  it('are parts of the paper preset, about 25 MB together', () => {
    const c = DEFAULT_CONFIG;
    const flat = part(c, /^flatness scratch/)!;
    const temp = part(c, /^active-temperature scratch/)!;
    const step = part(c, /SIMD step/)!;
    // 8,000 digits, h = 50: the directions the loss keeps within its default 64 MB (28).
    const kept = Math.floor((64 * 2 ** 20) / PlainFullSetLoss.bytesPerDirection(8000, 50));
    expect(kept).toBe(28);
    expect(flat).toBe(fullSetLossScratchBytes(8000, 50, kept));
    expect(temp).toBe(temperatureScratchBytes(801, 50, 50));
    expect(step).toBe(trainerStepBytes(50, 784, 50));
    expect((flat + temp + step) / 2 ** 20).toBeGreaterThan(20);
    expect((flat + temp + step) / 2 ** 20).toBeLessThan(30);
  });

  it('refuse no preset and stride none that kept every step', () => {
    for (const p of PRESETS) {
      const c: RunConfig = { ...DEFAULT_CONFIG, ...p.config };
      expect(sgdWindowEvery(c, EMBEDDED_DATA_SHAPE), p.id).toBe(1);
      expect(estimateRunMemory(c, EMBEDDED_DATA_SHAPE).total).toBeLessThan(MEMORY_BUDGET_BYTES);
    }
  });
});
