/**
 * Sequential-learning task splits (SCIENCE.md, Fig. 4): a task is a set of MNIST digits; the
 * network keeps its 10-way output for every task, so labels keep their original values.
 */
import { filterClasses, NUM_CLASSES, type Dataset, type DataSplit } from '../data/dataset';

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
