import { existsSync, readFileSync } from 'node:fs';
import type * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { Rng } from '../../src/engine/data/rng';
import { loadEmbeddedDataset } from '../../src/engine/data/embedded';
import { MinibatchSampler } from '../../src/engine/data/batches';
import { fillBatch, fillRange } from '../../src/engine/experiments/training';
import { cloneWeights, initMlp, PlainMlp, type MlpWeights } from '../../src/engine/nets/mlp';
import { allocBatch, type UploadBatch } from '../../src/engine/nets/netTypes';
import { SimdMlp, type ResidentInputs } from '../../src/engine/nets/simdMlp';
import { fdGradient, loss64, relError } from './mlpReference';

// SimdMlp.evaluateResident accepts the resident tf.Tensor2D that SgdTrainer keeps.
type TensorFits = tf.Tensor2D extends ResidentInputs ? true : false;
const tensorFits: TensorFits = true;

/** A batch of `size` inputs in [0, 1], a fraction `density` of them non-zero (MNIST: ~0.19). */
function sparseBatch(
  n: number,
  size: number,
  rng: Rng,
  density = 0.2,
  out = allocBatch(size, n),
): UploadBatch {
  out.size = size;
  out.oneHot.fill(0);
  for (let s = 0; s < size; s++) {
    for (let i = 0; i < n; i++) {
      const v = rng.next() < density ? rng.next() : 0;
      out.x[s * n + i] = v;
      out.xT[i * size + s] = v;
    }
    out.labels[s] = rng.int(10);
    out.oneHot[s * 10 + out.labels[s]] = 1;
  }
  return out;
}

const available = SimdMlp.available();

describe.skipIf(!available)('SimdMlp (WebAssembly SIMD step)', () => {
  it('is available in Node and reports its implementation', () => {
    expect(tensorFits).toBe(true);
    const net = new SimdMlp(initMlp(6, 1, 12));
    expect(net.impl).toBe('wasm-simd');
    expect(net.hidden).toBe(6);
    expect(net.inputSize).toBe(12);
    net.dispose();
    expect(() => net.setWeights(initMlp(6, 1, 12))).toThrow(/dispose/);
  });

  // Sizes that exercise the padding: h not a multiple of 4, h = 1, an input width not a
  // multiple of 4, B = 1 and B above the initial capacity (the batch regions move).
  const cases: { n: number; h: number; B: number; density: number }[] = [
    { n: 12, h: 6, B: 7, density: 1 },
    { n: 12, h: 6, B: 7, density: 0.3 },
    { n: 13, h: 5, B: 1, density: 0.5 },
    { n: 9, h: 1, B: 3, density: 1 },
    { n: 16, h: 8, B: 4, density: 0.6 },
    { n: 10, h: 17, B: 70, density: 0.4 },
  ];
  for (const { n, h, B, density } of cases) {
    it(`gradient of W1, W2, W3 = central finite differences (n ${n}, h ${h}, B ${B}, density ${density})`, async () => {
      const rng = new Rng(100 + n + h + B);
      const w0 = initMlp(h, 3 + h, n);
      if (h === 1) w0.W2[0] = Math.abs(w0.W2[0]); // keep the single unit of layer 2 alive
      const batch = sparseBatch(n, B, rng, density);
      const fd = fdGradient(w0, n, batch);
      const lr = 1;
      const net = new SimdMlp(cloneWeights(w0));
      const r = await net.step(batch, lr);
      const after = await net.getWeights();
      net.dispose();
      const got = (['W1', 'W2', 'W3'] as const).map((k) =>
        after[k].map((v, i) => (w0[k][i] - v) / lr),
      );
      for (let l = 0; l < 3; l++) {
        const norm = Math.hypot(...fd[l]);
        if (norm > 1e-9) expect(relError(got[l], fd[l])).toBeLessThan(1e-3);
        else expect(Math.hypot(...got[l])).toBeLessThan(1e-7); // a layer cut off by dead ReLUs
      }
      // The loss SGD saw (before the update), against the float64 reference.
      const w64 = {
        W1: Float64Array.from(w0.W1),
        W2: Float64Array.from(w0.W2),
        W3: Float64Array.from(w0.W3),
      };
      expect(r.loss).toBeCloseTo(loss64(w64, n, h, batch), 5);
      // W2 after the step, as a fresh array.
      expect(Array.from(r.w2)).toEqual(Array.from(after.W2));
    });
  }

  it('reports the same minibatch loss and errors as PlainMlp', async () => {
    const rng = new Rng(11);
    const w0 = initMlp(50, 4);
    const batch = sparseBatch(784, 50, rng);
    const plain = new PlainMlp(cloneWeights(w0));
    const ref = plain.evaluate(batch.x, batch.labels, 50);
    const net = new SimdMlp(cloneWeights(w0));
    const r = await net.step(batch, 0.1);
    net.dispose();
    expect(Math.abs(r.loss - ref.loss) / ref.loss).toBeLessThan(1e-6);
    expect(r.errors).toBe(ref.errors);
  });

  it('100 steps on random sparse inputs agree with PlainMlp to float32 rounding', async () => {
    for (const [n, h, B] of [
      [784, 50, 50],
      [100, 13, 9],
    ]) {
      const rng = new Rng(21 + h);
      const w0 = initMlp(h, 5, n);
      const plain = new PlainMlp(cloneWeights(w0));
      const net = new SimdMlp(cloneWeights(w0));
      const batch = allocBatch(B, n);
      let lossErr = 0;
      for (let i = 0; i < 100; i++) {
        sparseBatch(n, B, rng, 0.2, batch);
        const r = await net.step(batch, 0.05);
        const p = plain.step(batch.x, batch.labels, B, 0.05);
        lossErr = Math.max(lossErr, Math.abs(r.loss - p.loss) / p.loss);
      }
      const w = await net.getWeights();
      net.dispose();
      expect(lossErr).toBeLessThan(1e-5);
      expect(relError(w.W1, plain.w.W1)).toBeLessThan(1e-4);
      expect(relError(w.W2, plain.w.W2)).toBeLessThan(1e-4);
      expect(relError(w.W3, plain.w.W3)).toBeLessThan(1e-4);
      // The weights did move: the comparison is not vacuous.
      expect(relError(w.W2, w0.W2)).toBeGreaterThan(1e-3);
    }
  });

  it('same seed → bit-identical weights on two runs', async () => {
    const run = async (): Promise<MlpWeights> => {
      const rng = new Rng(31);
      const net = new SimdMlp(initMlp(50, 9));
      const batch = allocBatch(50, 784);
      for (let i = 0; i < 100; i++) await net.step(sparseBatch(784, 50, rng, 0.2, batch), 0.1);
      const w = await net.getWeights();
      net.dispose();
      return w;
    };
    const a = await run();
    const b = await run();
    expect(Array.from(a.W1)).toEqual(Array.from(b.W1));
    expect(Array.from(a.W2)).toEqual(Array.from(b.W2));
    expect(Array.from(a.W3)).toEqual(Array.from(b.W3));
  });

  it('changing the batch size between steps (regions grow and move) keeps the weights and the numbers', async () => {
    const rng = new Rng(41);
    const n = 30;
    const w0 = initMlp(7, 2, n);
    const plain = new PlainMlp(cloneWeights(w0));
    const net = new SimdMlp(cloneWeights(w0));
    for (const B of [5, 1, 100, 3, 300, 50]) {
      const batch = sparseBatch(n, B, rng, 0.3);
      const r = await net.step(batch, 0.1);
      const p = plain.step(batch.x, batch.labels, B, 0.1);
      expect(Math.abs(r.loss - p.loss) / p.loss).toBeLessThan(1e-5);
    }
    const w = await net.getWeights();
    net.dispose();
    expect(relError(w.W1, plain.w.W1)).toBeLessThan(1e-5);
    expect(relError(w.W2, plain.w.W2)).toBeLessThan(1e-5);
    expect(relError(w.W3, plain.w.W3)).toBeLessThan(1e-5);
  });

  it('w2 is a fresh array the caller owns; getWeights/setWeights round-trip', async () => {
    const rng = new Rng(51);
    const w0 = initMlp(10, 6, 20);
    const net = new SimdMlp(cloneWeights(w0));
    const batch = sparseBatch(20, 8, rng, 0.5);
    const r1 = await net.step(batch, 0.1);
    const keep = r1.w2.slice();
    r1.w2.fill(123); // must not reach the network
    const r2 = await net.step(batch, 0.1);
    expect(r2.w2).not.toBe(r1.w2);
    expect(r2.w2.some((v) => v === 123)).toBe(false);
    expect(relError(r2.w2, keep)).toBeLessThan(0.1);
    net.setWeights(w0);
    const back = await net.getWeights();
    expect(Array.from(back.W1)).toEqual(Array.from(w0.W1));
    expect(Array.from(back.W2)).toEqual(Array.from(w0.W2));
    expect(Array.from(back.W3)).toEqual(Array.from(w0.W3));
    // After setWeights the step starts from w0 again: same W2 as the first step.
    const r3 = await net.step(batch, 0.1);
    expect(Array.from(r3.w2)).toEqual(Array.from(keep));
    expect(() => net.setWeights(initMlp(11, 6, 20))).toThrow(/shapes/);
    net.dispose();
  });

  it('α = 0 leaves the weights bit-identical (no stale gradient from the previous step)', async () => {
    const rng = new Rng(55);
    const net = new SimdMlp(initMlp(9, 2, 40));
    await net.step(sparseBatch(40, 6, rng, 0.4), 0.2);
    const before = await net.getWeights();
    const r = await net.step(sparseBatch(40, 6, rng, 0.4), 0);
    const after = await net.getWeights();
    net.dispose();
    expect(Number.isFinite(r.loss)).toBe(true);
    expect(Array.from(after.W1)).toEqual(Array.from(before.W1));
    expect(Array.from(after.W2)).toEqual(Array.from(before.W2));
    expect(Array.from(after.W3)).toEqual(Array.from(before.W3));
  });

  it('evaluate() (chunked) and evaluateResident() equal PlainMlp.evaluate', async () => {
    const rng = new Rng(61);
    const n = 784;
    const total = 500;
    const all = sparseBatch(n, total, rng, 0.2);
    const w0 = initMlp(50, 8);
    const ref = new PlainMlp(cloneWeights(w0)).evaluate(all.x, all.labels, total);
    const net = new SimdMlp(cloneWeights(w0));
    const scratch = allocBatch(128, n);
    const fill = (start: number, count: number, out: UploadBatch) => {
      out.size = count;
      out.x.set(all.x.subarray(start * n, (start + count) * n));
      out.labels.set(all.labels.subarray(start, start + count));
    };
    const s = await net.evaluate(total, 128, fill, scratch);
    expect(Math.abs(s.loss - ref.loss) / ref.loss).toBeLessThan(1e-6);
    expect(s.errors).toBe(ref.errors);
    const resident: ResidentInputs = {
      shape: [total, n],
      dataSync: () => all.x.subarray(0, total * n),
    };
    const t = await net.evaluateResident(resident, all.labels);
    expect(t.loss).toBeCloseTo(s.loss, 12);
    expect(t.errors).toBe(s.errors);
    // Evaluation leaves training untouched: a step after it matches a fresh net's step.
    const batch = sparseBatch(n, 50, rng, 0.2);
    const a = await net.step(batch, 0.1);
    const fresh = new SimdMlp(cloneWeights(w0));
    const b = await fresh.step(batch, 0.1);
    expect(Array.from(a.w2)).toEqual(Array.from(b.w2));
    net.dispose();
    fresh.dispose();
  });

  it('stepIndices / evaluateSplit (pixel bytes) are bit-identical to fillBatch + step / fillRange + evaluate', async () => {
    for (const n of [784, 20]) {
      const rng = new Rng(81 + n);
      const count = 400;
      const images = new Uint8Array(count * n);
      for (let i = 0; i < images.length; i++) images[i] = rng.next() < 0.3 ? rng.int(256) : 0;
      for (let b = 0; b < 256; b++) images[b] = b; // every byte value occurs
      const labels = Uint8Array.from({ length: count }, () => rng.int(10));
      const split = { images, labels, count };
      const w0 = initMlp(12, 4, n);
      const a = new SimdMlp(cloneWeights(w0));
      const b = new SimdMlp(cloneWeights(w0));
      const batch = allocBatch(200, n);
      for (const B of [37, 1, 150, 50]) {
        const idx = Uint32Array.from({ length: B }, () => rng.int(count));
        if (B > 1) idx[0] = 0; // the sample with all 256 byte values
        fillBatch(split, idx, B, batch);
        const ra = await a.step(batch, 0.1);
        const rb = await b.stepIndices(split, idx, B, 0.1);
        expect(rb.loss).toBe(ra.loss);
        expect(rb.errors).toBe(ra.errors);
        expect(Array.from(rb.w2)).toEqual(Array.from(ra.w2));
      }
      const wa = await a.getWeights();
      const wb = await b.getWeights();
      expect(Array.from(wb.W1)).toEqual(Array.from(wa.W1));
      expect(Array.from(wb.W3)).toEqual(Array.from(wa.W3));
      const scratch = allocBatch(128, n);
      const ea = await a.evaluate(
        count,
        128,
        (st, c, out) => fillRange(split, st, c, out),
        scratch,
      );
      const eb = await b.evaluateSplit(split);
      expect(eb.loss).toBeCloseTo(ea.loss, 12);
      expect(eb.errors).toBe(ea.errors);
      const part = await b.evaluateSplit(split, 100, 50);
      const ref = new PlainMlp(cloneWeights(wa));
      const xs = allocBatch(50, n);
      fillRange(split, 100, 50, xs);
      const pr = ref.evaluate(xs.x, xs.labels, 50);
      expect(Math.abs(part.loss - pr.loss) / pr.loss).toBeLessThan(1e-6);
      expect(part.errors).toBe(pr.errors);
      expect(() => b.stepIndicesSync({ images, labels, count: count / 2 }, [0], 1, 0.1)).toThrow(
        /pixels/,
      );
      a.dispose();
      b.dispose();
    }
  });

  it('handles the widest configurable net (h = 200) and zero / non-finite inputs like PlainMlp', async () => {
    const rng = new Rng(71);
    const w0 = initMlp(200, 3);
    const batch = sparseBatch(784, 20, rng, 0.2);
    for (let i = 0; i < 784; i++) batch.x[3 * 784 + i] = 0; // an all-zero input row
    const plain = new PlainMlp(cloneWeights(w0));
    const net = new SimdMlp(cloneWeights(w0));
    for (let i = 0; i < 3; i++) {
      const r = await net.step(batch, 0.05);
      const p = plain.step(batch.x, batch.labels, 20, 0.05);
      expect(Math.abs(r.loss - p.loss) / p.loss).toBeLessThan(1e-5);
    }
    const w = await net.getWeights();
    expect(relError(w.W1, plain.w.W1)).toBeLessThan(1e-5);
    expect(relError(w.W2, plain.w.W2)).toBeLessThan(1e-5);
    // A NaN input reaches the loss (so SgdTrainer's divergence check sees it).
    batch.x[5] = NaN;
    const bad = await net.step(batch, 0.05);
    expect(Number.isFinite(bad.loss)).toBe(false);
    net.dispose();
  });
});

const dataPath = 'public/data/mnist-10k.bin';

describe.skipIf(!available || !existsSync(dataPath))('SimdMlp on the embedded digits', () => {
  const data = existsSync(dataPath) ? loadEmbeddedDataset(readFileSync(dataPath)) : null;

  it('200 steps (B = 50, α = 0.1) track PlainMlp, and the loss falls', async () => {
    const train = data!.train;
    const w0 = initMlp(50, 7);
    const net = new SimdMlp(cloneWeights(w0));
    const plain = new PlainMlp(cloneWeights(w0));
    const bytes = new SimdMlp(cloneWeights(w0));
    const sampler = new MinibatchSampler(train.count, 50, 7);
    const idx = new Uint32Array(50);
    const batch = allocBatch(50, 784);
    let first = 0;
    let last = 0;
    for (let i = 0; i < 200; i++) {
      sampler.nextInto(idx);
      fillBatch(train, idx, 50, batch);
      const r = await net.step(batch, 0.1);
      plain.step(batch.x, batch.labels, 50, 0.1);
      const rb = await bytes.stepIndices(train, idx, 50, 0.1);
      if (rb.loss !== r.loss || rb.w2.some((v, j) => v !== r.w2[j]))
        throw new Error(`stepIndices differs at step ${i}`);
      if (i < 20) first += r.loss / 20;
      if (i >= 180) last += r.loss / 20;
    }
    const w = await net.getWeights();
    expect(relError(w.W1, plain.w.W1)).toBeLessThan(1e-4);
    expect(relError(w.W2, plain.w.W2)).toBeLessThan(1e-4);
    expect(relError(w.W3, plain.w.W3)).toBeLessThan(1e-4);
    expect(last).toBeLessThan(0.6 * first);
    const wb = await bytes.getWeights();
    expect(Array.from(wb.W1)).toEqual(Array.from(w.W1));
    bytes.dispose();
    // Whole-split evaluation equals the plain forward pass.
    const test = data!.test;
    const scratch = allocBatch(1000, 784);
    const s = await net.evaluate(
      test.count,
      1000,
      (start, count, out) => fillRange(test, start, count, out),
      scratch,
    );
    const all = allocBatch(test.count, 784);
    fillRange(test, 0, test.count, all);
    const ref = plain.evaluate(all.x, all.labels, test.count);
    expect(Math.abs(s.loss - ref.loss) / ref.loss).toBeLessThan(1e-5);
    expect(Math.abs(s.errors - ref.errors)).toBeLessThanOrEqual(1);
    net.dispose();
  });
});
