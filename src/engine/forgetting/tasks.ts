/**
 * Sequential-learning task splits (SCIENCE.md, Fig. 4): a task is a set of MNIST digits; the
 * network keeps its 10-way output for every task, so labels keep their original values.
 */
import {
  filterClasses,
  NUM_CLASSES,
  pixelsPerImage,
  takeIndices,
  type Dataset,
  type DataSplit,
} from '../data/dataset';
import { Rng, permutation } from '../data/rng';

export interface Task {
  /** The task's digits, ascending. */
  classes: number[];
  train: DataSplit;
  test: DataSplit;
}

/** Validates one digit group: non-empty, whole digits 0–9, no repeats. Returns it sorted. */
export function checkDigitGroup(group: readonly number[], name = 'task'): number[] {
  if (group.length === 0) throw new Error(`${name}: needs at least one digit`);
  const seen = new Set<number>();
  for (const d of group) {
    if (!Number.isInteger(d) || d < 0 || d >= NUM_CLASSES)
      throw new Error(`${name}: ${d} is not a digit 0–9`);
    if (seen.has(d)) throw new Error(`${name}: digit ${d} appears twice`);
    seen.add(d);
  }
  return [...seen].sort((a, b) => a - b);
}

/** Throws unless the groups are pairwise disjoint (each valid on its own). */
export function checkDisjoint(groups: readonly (readonly number[])[]): void {
  const owner = new Map<number, number>();
  groups.forEach((g, i) => {
    for (const d of checkDigitGroup(g, `task ${i + 1}`)) {
      const o = owner.get(d);
      if (o !== undefined)
        throw new Error(
          `tasks ${o + 1} and ${i + 1} share digit ${d}: task digit groups must be disjoint`,
        );
      owner.set(d, i);
    }
  });
}

/** The tasks of disjoint digit groups, each with its own train and test examples. */
export function makeTasks(data: Dataset, groups: readonly (readonly number[])[]): Task[] {
  checkDisjoint(groups);
  return groups.map((g, i) => {
    const classes = checkDigitGroup(g, `task ${i + 1}`);
    const train = filterClasses(data.train, classes);
    const test = filterClasses(data.test, classes);
    if (train.count === 0 || test.count === 0) {
      throw new Error(
        `task ${i + 1} (digits ${classes.join(',')}): no training or test examples in ${data.name}`,
      );
    }
    return { classes, train, test };
  });
}

/** How many of a digit's n training examples are held out (one at least, one kept at least). */
export function heldOutCount(n: number, fraction: number): number {
  if (n < 2) return 0;
  return Math.min(n - 1, Math.max(1, Math.round(fraction * n)));
}

/**
 * Which training examples of `classes` are held out as validation data: for each digit, its
 * examples (in split order) are permuted by a generator seeded with seed + digit, and the
 * first round(fraction · n) are held out (at least one when the digit has two or more). Per
 * digit, so a digit's held-out examples do not depend on the other digits of the tasks; no
 * training seed enters, so every method and seed is chosen on the same examples. Returns
 * indices into `train`, ascending.
 */
export function validationIndices(
  train: DataSplit,
  classes: readonly number[],
  fraction: number,
  seed: number,
): Uint32Array {
  if (!(fraction > 0 && fraction < 1))
    throw new Error(`validation fraction must be in (0, 1), got ${fraction}`);
  const held: number[] = [];
  for (const d of checkDigitGroup(classes, 'validation digits')) {
    const of: number[] = [];
    for (let i = 0; i < train.count; i++) if (train.labels[i] === d) of.push(i);
    const k = heldOutCount(of.length, fraction);
    if (k === 0) continue;
    const perm = permutation(of.length, new Rng(seed + d));
    for (let j = 0; j < k; j++) held.push(of[perm[j]]);
  }
  return Uint32Array.from(held.sort((a, b) => a - b));
}

/** A task with its held-out validation examples (drawn from its training digits). */
export interface HeldOutTask extends Task {
  validation: DataSplit;
}

/**
 * The data of a forgetting sweep with validation held out: `pretrain` is the data set without
 * the held-out examples (whatever pretraining then selects from it), each task's `train` is
 * its digits' remaining training examples, `validation` the held-out ones, `test` untouched.
 * `heldOut` are the indices into `data.train` (for tests and the record).
 */
export function holdOutValidation(
  data: Dataset,
  groups: readonly (readonly number[])[],
  fraction: number,
  seed: number,
): { pretrain: Dataset; tasks: HeldOutTask[]; heldOut: Uint32Array } {
  checkDisjoint(groups);
  const heldOut = validationIndices(data.train, groups.flat(), fraction, seed);
  const out = new Uint8Array(data.train.count);
  for (const i of heldOut) out[i] = 1;
  const keep: number[] = [];
  for (let i = 0; i < data.train.count; i++) if (!out[i]) keep.push(i);
  const pixels = pixelsPerImage(data.train.images, data.train.count);
  const train = takeIndices(data.train.images, data.train.labels, pixels, keep);
  const held = takeIndices(data.train.images, data.train.labels, pixels, heldOut);
  const pretrain: Dataset = { ...data, train };
  const tasks = makeTasks(pretrain, groups).map((t) => {
    const validation = filterClasses(held, t.classes);
    if (validation.count === 0)
      throw new Error(
        `task digits ${t.classes.join(',')}: too few training examples to hold out validation data`,
      );
    return { ...t, validation };
  });
  return { pretrain, tasks, heldOut };
}

/**
 * A digit group as a link writes it: one digit, or digits separated by commas ("0,1"). Stricter
 * than parseDigitGroup, which also reads "01" and "0 1" for typing: in a link, "10" would be
 * read as the digits 1 and 0 where ten was perhaps meant.
 */
export function parseDigitGroupStrict(s: string): number[] {
  if (!/^[0-9](,[0-9])*$/.test(s))
    throw new Error('expected digits 0–9 separated by commas, e.g. 0,1');
  return checkDigitGroup(s.split(',').map(Number));
}

/** "0,1" or "0 1" or "01" → [0, 1]. Throws on anything else. */
export function parseDigitGroup(s: string): number[] {
  const t = s.trim();
  const parts =
    /^[0-9]+$/.test(t) && !t.includes(',') ? t.split('') : t.split(/[\s,]+/).filter(Boolean);
  const out = parts.map((p) => {
    if (!/^[0-9]$/.test(p)) throw new Error(`"${p}" is not a digit 0–9`);
    return Number(p);
  });
  return checkDigitGroup(out);
}
