import { describe, expect, it } from 'vitest';
import {
  EMBEDDED_SPLIT,
  classCounts,
  datasetSummary,
  filterClasses,
  splitDataset,
  type Dataset,
} from '../../src/engine/data/dataset';

/** 10,000 one-pixel "images" whose pixel bytes encode their index, so splits are traceable. */
const COUNT = 10000;
const P = 4;
const images = new Uint8Array(COUNT * P);
const labels = new Uint8Array(COUNT);
for (let i = 0; i < COUNT; i++) {
  images[i * P] = i & 0xff;
  images[i * P + 1] = (i >>> 8) & 0xff;
  images[i * P + 2] = 7;
  images[i * P + 3] = i % 10;
  labels[i] = i % 10;
}
const idOf = (imgs: Uint8Array, k: number): number => imgs[k * P] | (imgs[k * P + 1] << 8);
const ids = (imgs: Uint8Array, n: number): number[] =>
  Array.from({ length: n }, (_, k) => idOf(imgs, k));

describe('splitDataset', () => {
  const { nTrain, nTest, seed } = EMBEDDED_SPLIT;
  const a = splitDataset(images, labels, COUNT, nTrain, nTest, seed);

  it('has sizes 8,000 / 2,000 and keeps images and labels together', () => {
    expect(a.train.count).toBe(8000);
    expect(a.test.count).toBe(2000);
    expect(a.train.images.length).toBe(8000 * P);
    expect(a.test.labels.length).toBe(2000);
    for (let k = 0; k < a.train.count; k++) {
      expect(a.train.labels[k]).toBe(idOf(a.train.images, k) % 10);
      expect(a.train.images[k * P + 3]).toBe(a.train.labels[k]);
    }
  });

  it('train and test are disjoint and cover the set', () => {
    const tr = new Set(ids(a.train.images, a.train.count));
    const te = ids(a.test.images, a.test.count);
    expect(tr.size).toBe(8000);
    expect(new Set(te).size).toBe(2000);
    for (const i of te) expect(tr.has(i)).toBe(false);
  });

  it('same seed → same split; different seed → different split', () => {
    const b = splitDataset(images, labels, COUNT, nTrain, nTest, seed);
    expect(b.train.images).toEqual(a.train.images);
    expect(b.test.labels).toEqual(a.test.labels);
    const c = splitDataset(images, labels, COUNT, nTrain, nTest, seed + 1);
    const teA = new Set(ids(a.test.images, a.test.count));
    const overlap = ids(c.test.images, c.test.count).filter((i) => teA.has(i)).length;
    // Independent random 20% subsets overlap in ~400 of 2,000.
    expect(overlap).toBeLessThan(600);
  });

  it('is roughly stratified by chance', () => {
    for (const c of classCounts(a.test)) expect(Math.abs(c - 200)).toBeLessThan(60);
  });

  it('rejects impossible sizes', () => {
    expect(() => splitDataset(images, labels, COUNT, 9000, 2000, 1)).toThrow(/cannot split/);
    expect(() => splitDataset(images, labels.subarray(1), COUNT, 10, 10, 1)).toThrow(/labels/);
    expect(() => splitDataset(images.subarray(1), labels, COUNT, 10, 10, 1)).toThrow(/equal size/);
  });
});

describe('datasetSummary and filterClasses', () => {
  const { train, test } = splitDataset(images, labels, COUNT, 8000, 2000, 12345);
  // Dataset.rows/cols are the literal 28; the tiny pixel count here is irrelevant to the summary.
  const d: Dataset = { name: 't', source: 'embedded', rows: 28, cols: 28, train, test };

  it('counts per class', () => {
    const s = datasetSummary(d);
    expect(s.trainPerClass.length).toBe(10);
    expect(s.trainPerClass.reduce((x, y) => x + y, 0)).toBe(8000);
    expect(s.testPerClass.reduce((x, y) => x + y, 0)).toBe(2000);
    const total = s.trainPerClass.map((c, k) => c + s.testPerClass[k]);
    expect(total).toEqual(new Array(10).fill(1000));
  });

  it('filterClasses keeps only the asked classes, in order, with their pixels', () => {
    const t1 = filterClasses(train, [0, 1]);
    const counts = classCounts(train);
    expect(t1.count).toBe(counts[0] + counts[1]);
    expect(t1.images.length).toBe(t1.count * P);
    const idsT1 = ids(t1.images, t1.count);
    const expected = ids(train.images, train.count).filter((i) => i % 10 <= 1);
    expect(idsT1).toEqual(expected);
    for (let k = 0; k < t1.count; k++) expect(t1.labels[k]).toBe(idsT1[k] % 10);
    expect(filterClasses(train, []).count).toBe(0);
    expect(() => filterClasses(train, [10])).toThrow(/not a digit/);
  });
});
