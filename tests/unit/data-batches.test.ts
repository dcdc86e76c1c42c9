import { describe, expect, it } from 'vitest';
import { MinibatchSampler, gatherBatch, imagesToFloat32 } from '../../src/engine/data/batches';

function runEpoch(s: MinibatchSampler): number[] {
  const seen: number[] = [];
  const e = s.epoch;
  do {
    seen.push(...s.next());
  } while (s.epoch === e);
  return seen;
}

describe('MinibatchSampler', () => {
  it('visits every index exactly once per epoch when B divides N', () => {
    const s = new MinibatchSampler(8000, 50, 7);
    expect(s.stepsPerEpoch).toBe(160);
    const first = runEpoch(s);
    expect(first.length).toBe(8000);
    expect(new Set(first).size).toBe(8000);
    expect(s.epoch).toBe(1);
    expect(s.stepInEpoch).toBe(0);
    expect(s.totalSteps).toBe(160);
    const second = runEpoch(s);
    expect(new Set(second).size).toBe(8000);
    expect(second).not.toEqual(first); // reshuffled
  });

  it('drops the last partial batch: floor(N/B) steps, no repeats within an epoch', () => {
    const s = new MinibatchSampler(103, 10, 3);
    expect(s.stepsPerEpoch).toBe(10);
    for (let ep = 0; ep < 3; ep++) {
      const seen = runEpoch(s);
      expect(seen.length).toBe(100);
      expect(new Set(seen).size).toBe(100);
      for (const i of seen) expect(i).toBeLessThan(103);
    }
  });

  it('is seed-deterministic, and reset() replays', () => {
    const a = new MinibatchSampler(500, 32, 42);
    const b = new MinibatchSampler(500, 32, 42);
    const c = new MinibatchSampler(500, 32, 43);
    const seqA = Array.from({ length: 40 }, () => Array.from(a.next()));
    const seqB = Array.from({ length: 40 }, () => Array.from(b.next()));
    const seqC = Array.from({ length: 40 }, () => Array.from(c.next()));
    expect(seqA).toEqual(seqB);
    expect(seqA).not.toEqual(seqC);
    a.reset();
    expect(Array.from(a.next())).toEqual(seqA[0]);
    expect(a.totalSteps).toBe(1);
  });

  it('returned batches stay valid across epoch boundaries; nextInto does not allocate', () => {
    const s = new MinibatchSampler(20, 10, 1);
    const b1 = s.next();
    const copy = Array.from(b1);
    s.next(); // ends the epoch and reshuffles
    expect(Array.from(b1)).toEqual(copy);
    const out = new Uint32Array(16);
    expect(s.nextInto(out)).toBe(10);
    expect(() => s.nextInto(new Uint32Array(5))).toThrow(/batch size/);
  });

  it('setBatchSize between steps continues the epoch without repeats', () => {
    const s = new MinibatchSampler(100, 10, 9);
    const seen: number[] = [];
    for (let k = 0; k < 3; k++) seen.push(...s.next()); // 30 used
    s.setBatchSize(25);
    expect(s.batchSize).toBe(25);
    expect(s.stepsPerEpoch).toBe(4);
    seen.push(...s.next()); // 55 used
    expect(s.epoch).toBe(0);
    seen.push(...s.next()); // 80 used; 20 left < 25, so the epoch ends right here
    expect(s.epoch).toBe(1);
    expect(s.stepInEpoch).toBe(0);
    expect(seen.length).toBe(80);
    expect(new Set(seen).size).toBe(80);
    expect(() => s.setBatchSize(0)).toThrow();
    expect(() => s.setBatchSize(101)).toThrow();
  });
});

describe('gatherBatch', () => {
  const P = 6;
  const images = new Uint8Array([
    0, 255, 51, 102, 1, 2, 10, 20, 30, 40, 50, 60, 255, 255, 0, 0, 128, 127,
  ]);
  const labels = new Uint8Array([3, 9, 0]);

  it('fills pixels/255 and integer labels', () => {
    const x = new Float32Array(2 * P);
    const y = new Int32Array(2);
    gatherBatch(images, labels, new Uint32Array([2, 0]), x, y, P);
    expect(Array.from(x.subarray(0, P))).toEqual(
      Array.from([255, 255, 0, 0, 128, 127], (v) => Math.fround(v / 255)),
    );
    expect(x[P + 1]).toBe(1);
    expect(x[P + 2]).toBeCloseTo(0.2, 6);
    expect(Array.from(y)).toEqual([0, 3]);
  });

  it('fills one-hot labels and leaves rows past the batch alone', () => {
    const x = new Float32Array(3 * P).fill(-1);
    const y = new Float32Array(3 * 10).fill(5);
    gatherBatch(images, labels, [1, 1], x, y, P, 10);
    expect(x[2 * P]).toBe(-1);
    expect(Array.from(y.subarray(0, 10))).toEqual([0, 0, 0, 0, 0, 0, 0, 0, 0, 1]);
    expect(Array.from(y.subarray(10, 20))).toEqual([0, 0, 0, 0, 0, 0, 0, 0, 0, 1]);
    expect(y[20]).toBe(5);
    expect(() => gatherBatch(images, labels, [0, 1, 2], new Float32Array(P), null, P)).toThrow(
      /xOut/,
    );
  });

  it('imagesToFloat32 matches gatherBatch', () => {
    const all = imagesToFloat32(images);
    const x = new Float32Array(3 * P);
    gatherBatch(images, labels, [0, 1, 2], x, null, P);
    expect(all).toEqual(x);
  });
});

describe('MinibatchSampler state (the fused trainer falls back to the CPU from a saved one)', () => {
  for (const sampling of ['epoch', 'replacement'] as const) {
    it(`restoreState replays the same batches (${sampling})`, () => {
      const s = new MinibatchSampler(103, 10, 7, sampling);
      for (let i = 0; i < 13; i++) s.next();
      const saved = s.saveState();
      const ahead = Array.from({ length: 25 }, () => Array.from(s.next()));
      const epochAhead = s.epoch;
      s.restoreState(saved);
      expect(Array.from({ length: 25 }, () => Array.from(s.next()))).toEqual(ahead);
      expect(s.epoch).toBe(epochAhead);
      expect(s.totalSteps).toBe(13 + 25);
      // The saved state is a copy: drawing on does not move it.
      s.restoreState(saved);
      expect(Array.from(s.next())).toEqual(ahead[0]);
    });
  }

  it('restoreState refuses a state from a sampler of another size', () => {
    const s = new MinibatchSampler(100, 10, 1);
    expect(() => s.restoreState(new MinibatchSampler(50, 10, 1).saveState())).toThrow(
      /another sampler/,
    );
  });

  it('stepsLeftInEpoch counts down to the epoch end, also after a change of B', () => {
    const s = new MinibatchSampler(103, 10, 3);
    expect(s.stepsLeftInEpoch).toBe(10);
    for (let i = 0; i < 4; i++) s.next();
    expect(s.stepsLeftInEpoch).toBe(6);
    s.setBatchSize(20); // 63 unseen indices: 3 batches of 20
    expect(s.stepsLeftInEpoch).toBe(3);
    for (let i = 0; i < 2; i++) s.next();
    expect(s.epoch).toBe(0);
    s.next();
    expect(s.epoch).toBe(1);
    expect(s.stepsLeftInEpoch).toBe(5);
  });
});
