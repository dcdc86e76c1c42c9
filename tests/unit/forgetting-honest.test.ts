// Issue 12 §1 and issue 20 §2 for the forgetting sweep: settings chosen on held-out validation
// data with equal budgets and a paired interval over seeds; the link's keys read strictly, with
// caps on lists, on a sweep's size, and on what a link starts on its own. Pure: no tensors.
import { describe, expect, it } from 'vitest';
import type { Dataset } from '../../src/engine/data/dataset';
import {
  DEFAULT_FORGETTING_CONFIG,
  EWC_LAMBDA_GRID,
  checkForgettingConfig,
  runsPerSeed,
  selectionBudget,
} from '../../src/engine/forgetting/config';
import type { RunResult } from '../../src/engine/forgetting/experiment';
import { forgettingRun } from '../fixtures/forgettingRun';
import {
  aggregate,
  meanInterval,
  summarize,
  sweepKey,
  type SweepPoint,
} from '../../src/engine/forgetting/selection';
import {
  heldOutCount,
  holdOutValidation,
  parseDigitGroupStrict,
  validationIndices,
} from '../../src/engine/forgetting/tasks';
import {
  DEFAULT_SWEEP_RUNS,
  MAX_SWEEP_RUNS,
  MAX_URL_LIST,
  buildForgettingConfig,
  linkExcess,
  parseForgettingUrl,
  strictNumberList,
  sweepRuns,
} from '../../src/state/forgettingStore';
import { clipUrlValue } from '../../src/state/configSchema';
import {
  bestOf,
  describeSweep,
  pairedDifference,
  settingStats,
  type ForgettingReference,
} from '../../src/state/forgettingData';
import reference from '../../src/views/forgettingReference.json';

/** A number as the page writes a signed difference (a true minus sign). */
const signed = (x: number) => `${x < 0 ? '−' : ''}${Math.abs(x).toFixed(3)}`;

/** A data set whose every image is its own index (4 bytes), so provenance can be read back. */
function indexedData(trainLabels: number[], testLabels: number[]): Dataset {
  const split = (labels: number[], offset: number) => {
    const images = new Uint8Array(labels.length * 4);
    const view = new DataView(images.buffer);
    labels.forEach((_, i) => view.setUint32(4 * i, offset + i));
    return { images, labels: Uint8Array.from(labels), count: labels.length };
  };
  return {
    name: 'indexed',
    source: 'embedded',
    rows: 28,
    cols: 28,
    train: split(trainLabels, 0),
    test: split(testLabels, 1_000_000),
  };
}
const ids = (s: { images: Uint8Array; count: number }) => {
  const v = new DataView(s.images.buffer, s.images.byteOffset);
  return Array.from({ length: s.count }, (_, i) => v.getUint32(4 * i));
};

describe('validation data held out of every training phase', () => {
  // 2,000 training images, digits 0–9 in a scrambled order; 300 test images.
  const labels = Array.from({ length: 2000 }, (_, i) => (i * 7 + (i >> 3)) % 10);
  const data = indexedData(
    labels,
    Array.from({ length: 300 }, (_, i) => i % 10),
  );
  const groups = [
    [0, 1],
    [2, 3],
  ];

  it('is disjoint from the training data (pretraining included) and from the test data', () => {
    const { pretrain, tasks, heldOut } = holdOutValidation(data, groups, 0.15, 2021);
    const val = new Set(tasks.flatMap((t) => ids(t.validation)));
    expect(val.size).toBe(heldOut.length);
    // Exactly 15% of each task digit (rounded), and none of any other digit.
    for (const d of [0, 1, 2, 3]) {
      const n = labels.filter((l) => l === d).length;
      expect([...val].filter((i) => labels[i] === d)).toHaveLength(
        heldOut ? Math.round(0.15 * n) : 0,
      );
    }
    expect([...val].every((i) => labels[i] <= 3)).toBe(true);
    // What pretraining, task 1 (its PCA, flatness and Fisher) and task 2 train on: none of them.
    const trainIds = [...ids(pretrain.train), ...tasks.flatMap((t) => ids(t.train))];
    expect(trainIds.some((i) => val.has(i))).toBe(false);
    expect(pretrain.train.count + heldOut.length).toBe(2000);
    // The test sets are untouched and share nothing with validation.
    expect(ids(pretrain.test)).toEqual(ids(data.test));
    for (const t of tasks) expect(ids(t.test).every((i) => i >= 1_000_000)).toBe(true);
    // Each task's validation examples are its own digits.
    expect([...tasks[0].validation.labels].every((l) => l === 0 || l === 1)).toBe(true);
    expect([...tasks[1].validation.labels].every((l) => l === 2 || l === 3)).toBe(true);
  });

  it('is the same for every method and seed: no training seed enters the draw', () => {
    const a = validationIndices(data.train, [0, 1, 2, 3], 0.15, 2021);
    const b = validationIndices(data.train, [0, 1, 2, 3], 0.15, 2021);
    expect(Array.from(a)).toEqual(Array.from(b));
    // A digit's held-out examples do not depend on which other digits the tasks have.
    const only0 = validationIndices(data.train, [0], 0.15, 2021);
    expect(Array.from(a).filter((i) => labels[i] === 0)).toEqual(Array.from(only0));
    // The draw does depend on its own seed (it is a draw, not the first 15%).
    const other = validationIndices(data.train, [0, 1, 2, 3], 0.15, 7);
    expect(Array.from(other)).not.toEqual(Array.from(a));
    // The sweep's config carries one validation seed, separate from the training seeds.
    expect(DEFAULT_FORGETTING_CONFIG.validationSeed).toBe(2021);
    expect(heldOutCount(1, 0.15)).toBe(0);
    expect(heldOutCount(3, 0.01)).toBe(1);
  });
});

function sweepOf(runs: RunResult[]): SweepPoint[] {
  const by = new Map<string, RunResult[]>();
  for (const r of runs) by.set(sweepKey(r), [...(by.get(sweepKey(r)) ?? []), r]);
  return [...by.values()].map(aggregate);
}

describe('choosing on validation data', () => {
  // EWC λ = 1 has the lowest TEST total (0.10) but λ = 2 the lowest VALIDATION total; LDC the
  // other way round between its two N_c.
  const runs: RunResult[] = [];
  for (const seed of [0, 1, 2]) {
    runs.push(forgettingRun('none', 0, null, seed, 0.9, 0.9));
    runs.push(forgettingRun('ewc', 1, null, seed, 0.1, 0.5));
    runs.push(forgettingRun('ewc', 2, null, seed, 0.3 + 0.02 * seed, 0.2));
    runs.push(forgettingRun('ldc', 3, 10, seed, 0.05, 0.4));
    runs.push(forgettingRun('ldc', 3, 50, seed, 0.2 - 0.01 * seed, 0.1));
  }
  const s = summarize(sweepOf(runs), runs);

  it('picks each setting by its mean validation ε₁ + ε₂ and reports the test ε₁ + ε₂ there', () => {
    expect(s.selection).toBe('validation');
    expect(s.best.ewc).toMatchObject({ lambda: 2, n: 3 });
    expect(s.best.ewc?.valTotal).toBeCloseTo(0.2, 12);
    expect(s.best.ewc?.total).toBeCloseTo(0.32, 12);
    expect(s.best.ewc?.totalSd).toBeCloseTo(0.02, 12);
    expect(s.best.ldc).toMatchObject({ lambda: 3, nc: 50 });
    expect(s.best.ldc?.total).toBeCloseTo(0.19, 12);
    expect(s.bestNc).toBe(50);
    expect(s.ewcReference).toBeCloseTo(0.32, 12);
    // Own-class selection goes by the own-class validation totals (here the same order).
    expect(s.bestOwn.ewc?.lambda).toBe(2);
    expect(s.budget).toEqual({ none: 1, ldc: 2, ewc: 2 });
  });

  it('the paired LDC − EWC difference is taken seed by seed at the chosen settings', () => {
    // Per seed: (0.2 − 0.01 s) − (0.3 + 0.02 s) = −0.1 − 0.03 s → −0.10, −0.13, −0.16.
    const d = s.paired.ldcMinusEwc!;
    expect(d.n).toBe(3);
    expect(d.mean).toBeCloseTo(-0.13, 12);
    expect(d.sd).toBeCloseTo(0.03, 12);
  });

  it('the page picks the same settings from the runs, live', () => {
    const st = settingStats(runs, 'all');
    expect(bestOf(st, 'ewc')).toMatchObject({ lambda: 2 });
    expect(bestOf(st, 'ldc')).toMatchObject({ lambda: 3, nc: 50 });
    const d = pairedDifference(runs, bestOf(st, 'ldc'), bestOf(st, 'ewc'), 'all')!;
    expect(d.mean).toBeCloseTo(-0.13, 12);
  });

  it('a 95% t interval on a known sample', () => {
    // 1..5: mean 3, sd √2.5, t(0.975, 4) = 2.776445 → 3 ± 2.776445·√2.5/√5 = 3 ± 1.963243.
    const d = meanInterval([1, 2, 3, 4, 5]);
    expect(d.mean).toBe(3);
    expect(d.sd).toBeCloseTo(Math.sqrt(2.5), 12);
    expect(d.ci95[0]).toBeCloseTo(1.036757, 5);
    expect(d.ci95[1]).toBeCloseTo(4.963243, 5);
    expect(d.n).toBe(5);
    expect(meanInterval([0.4]).ci95.every(Number.isNaN)).toBe(true);
  });
});

describe('equal budgets', () => {
  it('by default LDC and EWC each choose among 49 settings', () => {
    expect(selectionBudget(DEFAULT_FORGETTING_CONFIG)).toEqual({ ldc: 49, ewc: 49, none: 1 });
    // EWC's grid is log-spaced over the old range, 10³ … 10⁷, 12 values a decade.
    expect(EWC_LAMBDA_GRID[0]).toBe(1e3);
    expect(EWC_LAMBDA_GRID[48]).toBe(1e7);
    expect(EWC_LAMBDA_GRID[12]).toBe(1e4);
    const ratios = EWC_LAMBDA_GRID.slice(1).map((v, i) => v / EWC_LAMBDA_GRID[i]);
    expect(Math.min(...ratios)).toBeGreaterThan(1.17);
    expect(Math.max(...ratios)).toBeLessThan(1.24);
    expect(runsPerSeed(DEFAULT_FORGETTING_CONFIG)).toBe(99);
    expect(() => checkForgettingConfig(DEFAULT_FORGETTING_CONFIG)).not.toThrow();
    expect(() =>
      checkForgettingConfig({ ...DEFAULT_FORGETTING_CONFIG, ewcLambdas: [1, 1] }),
    ).toThrow(/repeats/);
  });

  it('the bundled reference sweep is one of these: validation, equal budgets, ≥ 5 seeds', () => {
    const r = reference as unknown as ForgettingReference;
    expect(r.summary.selection).toBe('validation');
    expect(r.summary.budget).toEqual({ none: 1, ldc: 49, ewc: 49 });
    expect(r.seeds.length).toBeGreaterThanOrEqual(5);
    expect(r.summary.paired.ldcMinusEwc?.n).toBe(r.seeds.length);
    expect(r.runs).toBe(r.seeds.length * 99);
    // The page's sentences carry the reference's numbers, not typed-in ones.
    const text = describeSweep(r).join(' ');
    expect(text).toContain(r.summary.best.ldc!.total.toFixed(3));
    expect(text).toContain(r.summary.best.ewc!.total.toFixed(3));
    expect(text).toContain(signed(r.summary.paired.ldcMinusEwc!.ci95[0]));
  });

  it('the sentences follow the numbers', () => {
    const r = reference as unknown as ForgettingReference;
    const flip: ForgettingReference = {
      ...r,
      summary: {
        ...r.summary,
        paired: { ldcMinusEwc: { mean: 0.01, sd: 0.05, ci95: [-0.05, 0.07], n: 5 } },
        ncCurve: r.summary.ncCurve.map((p) => ({ ...p, total: 1 })),
      },
    };
    const text = describeSweep(flip).join(' ');
    expect(text).toMatch(/neither method is resolved/);
    expect(text).toMatch(/LDC is below EWC at no N_c and above it at N_c = 5, 10/);
  });
});

describe('link keys: strict values, capped lists and sweeps', () => {
  it('refuses ambiguous forms, naming the key and the value', () => {
    const u = parseForgettingUrl(
      '?ft1=10&ft2=2 3&fseeds=0x3&fsteps=%2B7&flambdas=1,,2&fewc=Infinity&fnc=5,5&fpre=1e1&fautorun=yes',
    );
    const text = u.notices.join('\n');
    for (const k of [
      'ft1=10',
      'ft2=2 3',
      'fseeds=0x3',
      'fsteps=+7',
      'flambdas=1,,2',
      'fewc=Infinity',
      'fnc=5,5',
      'fpre=1e1',
      'fautorun=yes',
    ])
      expect(text).toContain(k);
    expect(u.form).toEqual({ task1: '0,1', task2: '2,3', seeds: 3 });
    expect(u.overrides).toEqual({});
    expect(u.autorun).toBe(false);
    expect(parseDigitGroupStrict('0,1')).toEqual([0, 1]);
    expect(() => parseDigitGroupStrict('01')).toThrow(/separated by commas/);
    // Plain decimals with an exponent are fine (EWC's λ is naturally 1e5).
    expect(strictNumberList('1e5,3.5,.5,2E-1', false, 0)).toEqual([1e5, 3.5, 0.5, 0.2]);
  });

  it('a key given twice is refused, not silently read as its first value', () => {
    const u = parseForgettingUrl('?fsteps=10&fsteps=20000&ft1=4,5');
    expect(u.notices.join('\n')).toMatch(/fsteps appears 2 times/);
    expect(u.overrides.task2Steps).toBeUndefined();
    expect(u.form.task1).toBe('4,5');
    // The hash still overrides the query for a key given once in each.
    expect(parseForgettingUrl('?fsteps=10', '#fsteps=20').overrides.task2Steps).toBe(20);
  });

  it('caps each list at 32 values and echoes long values cut to 40 characters', () => {
    const long = Array.from({ length: 10_000 }, (_, i) => i + 1).join(',');
    const u = parseForgettingUrl(`?flambdas=${long}&fautorun=1`);
    expect(u.overrides.lambdas).toBeUndefined();
    const n = u.notices.find((x) => x.startsWith('flambdas='))!;
    expect(n).toMatch(/10,000 values, more than the 32 a link may set/);
    expect(n).toContain(`${long.slice(0, 40)}… (${long.length.toLocaleString('en')} characters)`);
    expect(n.length).toBeLessThan(200);
    expect(clipUrlValue('x'.repeat(40))).toBe('x'.repeat(40));
    const ok = Array.from({ length: MAX_URL_LIST }, (_, i) => i + 1).join(',');
    expect(parseForgettingUrl(`?fnc=${ok}&flambdas=1&fseeds=1`).overrides.ncList).toHaveLength(32);
  });

  it('caps a sweep at 1,000 runs: lists that would pass it fall back to the defaults', () => {
    const l32 = Array.from({ length: 32 }, (_, i) => i + 1).join(',');
    // 10 seeds × (1 + 49 + 32 × 32) = 10,740 runs.
    const u = parseForgettingUrl(`?fseeds=10&flambdas=${l32}&fnc=${l32}&fautorun=1`);
    expect(u.notices.join('\n')).toMatch(/flambdas, fnc, fseeds: 10,740 runs, more than the 1,000/);
    expect(u.overrides.lambdas).toBeUndefined();
    expect(u.overrides.ncList).toBeUndefined();
    expect(u.form.seeds).toBe(10);
    // Task-2 steps are capped the same way.
    const s = parseForgettingUrl('?fseeds=10&fsteps=20000');
    expect(s.notices.join('\n')).toMatch(/fsteps=20000: .* task-2 steps in all/);
    expect(s.overrides.task2Steps).toBeUndefined();
    // A sweep the panel's seeds make too large cannot start, with a message: 10 × (1 + 49 + 54).
    expect(() =>
      buildForgettingConfig(
        { task1: '0,1', task2: '2,3', seeds: 10 },
        { lambdas: [1, 2, 3, 4, 5, 6, 7, 8, 9], ncList: [5, 10, 20, 50, 100, 200] },
        null,
      ),
    ).toThrow(/more than the 1,000 the page runs in one sweep/);
    expect(
      sweepRuns({ ...DEFAULT_FORGETTING_CONFIG, seeds: [...Array(10).keys()] }),
    ).toBeLessThanOrEqual(MAX_SWEEP_RUNS);
  });

  it('a link starts on its own only a sweep no larger than the default', () => {
    const d = DEFAULT_FORGETTING_CONFIG;
    expect(DEFAULT_SWEEP_RUNS).toBe(297);
    expect(linkExcess(d)).toEqual([]);
    expect(linkExcess({ ...d, seeds: [0], task2Steps: 100, lambdas: [1] })).toEqual([]);
    expect(linkExcess({ ...d, seeds: [...Array(10).keys()] }).join()).toMatch(
      /fseeds, flambdas, fewc, fnc: 990 runs \(the default sweep has 297\)/,
    );
    expect(linkExcess({ ...d, task2Steps: 5000 }).join()).toMatch(/fsteps=5000 \(default 320\)/);
    expect(linkExcess({ ...d, task1: [0, 1, 4, 5, 6] }).join()).toMatch(/ft1: 5 digits/);
  });
});
