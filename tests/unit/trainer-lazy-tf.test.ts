// The trainer worker trains the default run without TensorFlow.js (issue 21): its backend choice
// is made without tfjs when it is a CPU backend whose step is the WebAssembly SIMD kernel, and
// the per-epoch evaluation on that kernel gives tfjs's numbers. Here: that choice equals
// selectBackend's in Node, where a tfjs step is needed it is null, and the SIMD evaluation of a
// small trained net equals the tfjs evaluation (resident, as SgdTrainer keeps it) to 1e-6.
import { resolve } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { Rng } from '../../src/engine/data/rng';
import type { Dataset, DataSplit } from '../../src/engine/data/dataset';
import { selectBackend } from '../../src/engine/backend';
import { cpuChoiceWithoutTf } from '../../src/engine/backendInfo';
import { SgdTrainer } from '../../src/engine/experiments/training';
import { DEFAULT_CONFIG } from '../../src/engine/experiments/config';
import { initMlp } from '../../src/engine/nets/mlp';
import { SimdMlp } from '../../src/engine/nets/simdMlp';
import { TfMlp } from '../../src/engine/nets/tfMlp';
import { useBackend } from './tfBackend';

const WASM_PATHS = resolve('node_modules/@tensorflow/tfjs-backend-wasm/dist') + '/';

/** `count` images of 28×28 bytes, ~20% ink, labels 0–9. */
function split(count: number, rng: Rng): DataSplit {
  const images = new Uint8Array(count * 784);
  for (let i = 0; i < images.length; i++) images[i] = rng.next() < 0.2 ? rng.int(256) : 0;
  const labels = new Uint8Array(count);
  for (let i = 0; i < count; i++) labels[i] = rng.int(10);
  return { images, labels, count };
}

describe('the backend choice without tfjs', () => {
  afterEach(() => vi.unstubAllGlobals());

  it("equals selectBackend's in Node (wasm, both GPUs skipped with the same reasons)", async () => {
    const lazy = await cpuChoiceWithoutTf({ wasmPaths: WASM_PATHS }, true);
    const eager = await selectBackend({ wasmPaths: WASM_PATHS });
    expect(lazy).toEqual(eager);
    expect(lazy?.name).toBe('wasm');
  });

  it('a forced CPU backend is deferred with its reason; a forced GPU or no SIMD needs tfjs now', async () => {
    expect(await cpuChoiceWithoutTf({ forced: 'cpu' }, true)).toEqual({
      name: 'cpu',
      reason: 'forced by ?backend=cpu',
      skipped: [],
    });
    expect(await cpuChoiceWithoutTf({ forced: 'webgl' }, true)).toBeNull();
    expect(await cpuChoiceWithoutTf({}, false)).toBeNull();
    const last = await cpuChoiceWithoutTf({ exclude: ['webgpu', 'webgl', 'wasm'] }, true);
    expect(last?.name).toBe('cpu');
    expect(last?.reason).toBe('last resort: plain JavaScript');
  });

  it('a hardware WebGPU adapter needs tfjs now; a software one is skipped as selectBackend does', async () => {
    const gpu = (description: string) => ({
      gpu: { requestAdapter: () => Promise.resolve({ info: { vendor: 'v', description } }) },
    });
    vi.stubGlobal('navigator', gpu('NVIDIA H200'));
    expect(await cpuChoiceWithoutTf({}, true)).toBeNull();
    vi.stubGlobal('navigator', gpu('SwiftShader Device'));
    const c = await cpuChoiceWithoutTf({}, true);
    expect(c?.name).toBe('wasm');
    expect(c?.skipped[0]).toEqual({
      name: 'webgpu',
      reason: 'software adapter (v SwiftShader Device) is slower than wasm',
    });
  });
});

describe.skipIf(!SimdMlp.available(24))('per-epoch evaluation on the SIMD kernel', () => {
  beforeAll(async () => {
    await useBackend('wasm');
  });

  it("equals tfjs's (resident inputs) on a small trained net, to 1e-6 relative", async () => {
    const rng = new Rng(3);
    const data: Dataset = {
      name: 'random digits',
      source: 'embedded',
      rows: 28,
      cols: 28,
      train: split(600, rng),
      test: split(200, rng),
    };
    const cfg = { ...DEFAULT_CONFIG, hidden: 24, batchSize: 20, lr: 0.1, seed: 5 };
    const simd = new SimdMlp(initMlp(cfg.hidden, cfg.seed));
    const a = new SgdTrainer(simd, data, cfg);
    for (let i = 0; i < 60; i++) await a.trainStep(false);
    const weights = await simd.getWeights();
    const tensorsBefore = tf.memory().numTensors;
    const tfNet = new TfMlp(weights);
    const b = new SgdTrainer(tfNet, data, cfg);
    b.resumeAt(a.epoch, a.step);
    const viaSimd = await a.evaluateEpoch();
    const viaTf = await b.evaluateEpoch();
    // The net is trained: the loss is away from ln 10 and the errors are not all wrong or right.
    expect(viaSimd.trainLoss).toBeLessThan(Math.log(10) - 0.05);
    for (const k of ['trainLoss', 'testLoss'] as const)
      expect(Math.abs(viaSimd[k] - viaTf[k]) / viaTf[k]).toBeLessThan(1e-6);
    expect(viaSimd.trainError).toBe(viaTf.trainError);
    expect(viaSimd.testError).toBe(viaTf.testError);
    expect(viaSimd.epoch).toBe(viaTf.epoch);
    b.dispose();
    tfNet.dispose();
    simd.dispose();
    expect(tf.memory().numTensors).toBe(tensorsBefore);
  });
});
