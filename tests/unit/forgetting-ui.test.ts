// The browser side of the forgetting sweep (section 6) without a browser: URL keys, the config
// the panel builds, the worker's sample images, the store's event routing, and what the
// figures compute from the runs.
import { describe, expect, it } from 'vitest';
import type { CurvePoint, RunResult } from '../../src/engine/forgetting';
import { DEFAULT_FORGETTING_CONFIG } from '../../src/engine/forgetting/config';
import type { Dataset } from '../../src/engine/data/dataset';
import {
  applyForgettingEvent,
  beginForgetting,
  buildForgettingConfig,
  parseForgettingUrl,
  useForgetting,
} from '../../src/state/forgettingStore';
import {
  bestOf,
  chosenSettings,
  fmtLambda,
  ncCurve,
  settingCurve,
  settingStats,
  stat,
} from '../../src/state/forgettingData';
import { taskSamples } from '../../src/worker/taskSamples';
import type { DatasetInfo } from '../../src/protocol/messages';

function run(p: Partial<RunResult> & Pick<RunResult, 'method' | 'lambda' | 'seed'>): RunResult {
  const eps1 = p.eps1 ?? 0.1;
  const eps2 = p.eps2 ?? 0.05;
  const curve: CurvePoint[] = p.curve ?? [
    { step: 0, eps1: 0, eps2: 1, eps1Own: 0, eps2Own: 0.5 },
    { step: 10, eps1, eps2, eps1Own: eps1 / 10, eps2Own: eps2 / 2 },
  ];
  return {
    nc: null,
    eps1,
    eps2,
    eps1Own: eps1 / 10,
    eps2Own: eps2 / 2,
    // Validation errors equal to the test errors unless a test sets them apart.
    valEps1: eps1,
    valEps2: eps2,
    valEps1Own: eps1 / 10,
    valEps2Own: eps2 / 2,
    curve,
    displacement: [],
    penalty: 0,
    seconds: 0,
    ...p,
  };
}

describe('forgetting URL keys', () => {
  it('reads valid keys and reports invalid ones by name', () => {
    const u = parseForgettingUrl(
      '?ft1=4,5&ft2=6&fseeds=2&flambdas=1,10&fewc=1e3&fnc=5,10&fsteps=50&fpre=1&fepochs=2&fwindow=3&fautorun=1',
    );
    expect(u.notices).toEqual([]);
    expect(u.form).toEqual({ task1: '4,5', task2: '6', seeds: 2 });
    expect(u.overrides).toEqual({
      lambdas: [1, 10],
      ewcLambdas: [1000],
      ncList: [5, 10],
      task2Steps: 50,
      pretrainEpochs: 1,
      task1Epochs: 2,
      windowEpochs: 3,
    });
    expect(u.autorun).toBe(true);

    const bad = parseForgettingUrl('?ft1=0,x&fseeds=99&fnc=0.5&fsteps=abc', '#ft2=1');
    expect(bad.form.task1).toBe('0,1');
    expect(bad.form.seeds).toBe(DEFAULT_FORGETTING_CONFIG.seeds.length);
    expect(bad.overrides).toEqual({});
    expect(bad.notices.join('\n')).toMatch(/ft1=0,x/);
    expect(bad.notices.join('\n')).toMatch(/fseeds=99/);
    expect(bad.notices.join('\n')).toMatch(/fnc=0.5/);
    expect(bad.notices.join('\n')).toMatch(/fsteps=abc/);
    // The hash's ft2=1 overlaps the default task 1 (0,1): both fall back to the defaults.
    expect(bad.notices.join('\n')).toMatch(/share digit 1/);
    expect(bad.form.task2).toBe('2,3');
  });
});

describe('buildForgettingConfig', () => {
  const info = (counts: number[]): DatasetInfo => ({
    name: 'test',
    source: 'embedded',
    trainCount: counts.reduce((a, b) => a + b, 0),
    testCount: 0,
    classCounts: counts,
  });
  it('takes the form, the overrides and seeds 0…n−1', () => {
    const { config, note } = buildForgettingConfig(
      { task1: '0 1', task2: '2,3', seeds: 2 },
      { lambdas: [3] },
      info(new Array(10).fill(850)),
    );
    expect(config.task1).toEqual([0, 1]);
    expect(config.seeds).toEqual([0, 1]);
    expect(config.lambdas).toEqual([3]);
    expect(config.ncList).toEqual(DEFAULT_FORGETTING_CONFIG.ncList);
    expect(note).toBeNull();
  });
  it('drops N_c values the task-1 window cannot support, and rejects overlapping tasks', () => {
    // Digit 5 alone: 400 images → 8 steps an epoch → 80 snapshots → at most 79 modes.
    const { config, note } = buildForgettingConfig(
      { task1: '5', task2: '6', seeds: 1 },
      {},
      info([0, 0, 0, 0, 0, 400, 400, 0, 0, 0]),
    );
    expect(config.ncList).toEqual([5, 10, 20, 50]);
    expect(note).toMatch(/100, 200, 300 left out/);
    expect(() => buildForgettingConfig({ task1: '1,2', task2: '2,3', seeds: 1 }, {}, null)).toThrow(
      /share digit 2/,
    );
  });
});

describe('taskSamples', () => {
  it('takes the group digits in turn from the training split', () => {
    const labels = Uint8Array.from([3, 2, 2, 9, 3, 2, 3, 3]);
    const images = new Uint8Array(labels.length * 784);
    labels.forEach((_, i) => images.fill(i + 1, i * 784, (i + 1) * 784));
    const data: Dataset = {
      name: 't',
      source: 'embedded',
      rows: 28,
      cols: 28,
      train: { images, labels, count: labels.length },
      test: { images: new Uint8Array(0), labels: new Uint8Array(0), count: 0 },
    };
    const [g, bad] = taskSamples(data, [[3, 2], [11]], 5);
    expect(g.digits).toEqual([2, 3]);
    expect(Array.from(g.labels)).toEqual([2, 3, 2, 3, 2]);
    expect(g.count).toBe(5);
    expect(g.images.length).toBe(5 * 784);
    // The first image is the first 2 (index 1), then the first 3 (index 0), …
    expect([0, 1, 2, 3, 4].map((k) => g.images[k * 784])).toEqual([2, 1, 3, 5, 6]);
    expect(bad.count).toBe(0);
  });
});

describe('forgetting store routing', () => {
  it('ignores the previous sweep’s last messages until the new one runs, then collects', () => {
    beginForgetting({ ...DEFAULT_FORGETTING_CONFIG, seeds: [0] }, null);
    applyForgettingEvent({ type: 'forgettingState', state: 'cancelled', message: 'old' });
    expect(useForgetting.getState().status).toBe('starting');
    applyForgettingEvent({ type: 'forgettingState', state: 'running' });
    expect(useForgetting.getState().status).toBe('running');
    const key = { method: 'ewc' as const, lambda: 10, nc: null, seed: 0 };
    const p = { step: 0, eps1: 0.1, eps2: 0.9, eps1Own: 0, eps2Own: 0.4 };
    applyForgettingEvent({
      type: 'forgettingBatch',
      curves: [{ key, point: p }],
      runs: [],
      sweep: [],
      progress: null,
    });
    applyForgettingEvent({
      type: 'forgettingBatch',
      curves: [{ key, point: { ...p, step: 20 } }],
      runs: [],
      sweep: [],
      progress: { phase: 'task2', seed: 0, fraction: 0.5, etaSeconds: 3 },
    });
    let s = useForgetting.getState();
    expect(s.live?.curve.map((c) => c.step)).toEqual([0, 20]);
    expect(s.progress?.fraction).toBe(0.5);
    applyForgettingEvent({
      type: 'forgettingBatch',
      curves: [],
      runs: [run({ ...key })],
      sweep: [],
      progress: null,
    });
    s = useForgetting.getState();
    expect(s.live).toBeNull();
    expect(s.runs.length).toBe(1);
    applyForgettingEvent({ type: 'forgettingState', state: 'done' });
    expect(useForgetting.getState().status).toBe('done');
  });
});

describe('forgetting figure data', () => {
  const runs = [
    run({ method: 'none', lambda: 0, seed: 0, eps1: 0.9, eps2: 0.03 }),
    run({ method: 'none', lambda: 0, seed: 1, eps1: 0.95, eps2: 0.04 }),
    run({ method: 'ewc', lambda: 1e4, seed: 0, eps1: 0.3, eps2: 0.05 }),
    run({ method: 'ewc', lambda: 1e4, seed: 1, eps1: 0.1, eps2: 0.05 }),
    run({ method: 'ldc', lambda: 3, nc: 10, seed: 0, eps1: 0.5, eps2: 0.05 }),
    run({ method: 'ldc', lambda: 3, nc: 10, seed: 1, eps1: 0.4, eps2: 0.05 }),
    run({ method: 'ldc', lambda: 3, nc: 50, seed: 0, eps1: 0.05, eps2: 0.05 }),
    run({ method: 'ldc', lambda: 3, nc: 50, seed: 1, eps1: 0.07, eps2: 0.05 }),
    // Seen on one seed only so far: must not win "best" while the sweep runs.
    run({ method: 'ldc', lambda: 10, nc: 50, seed: 0, eps1: 0.0, eps2: 0.01 }),
  ];
  it('mean, range and standard deviation over seeds', () => {
    const s = stat([1, 2, 3, NaN]);
    expect(s).toEqual({ mean: 2, min: 1, max: 3, sd: 1, n: 3 });
    const st = settingStats(runs, 'all');
    const ewc = st.find((x) => x.method === 'ewc');
    expect(ewc?.eps1.mean).toBeCloseTo(0.2);
    expect(ewc?.total.min).toBeCloseTo(0.15);
    expect(ewc?.total.max).toBeCloseTo(0.35);
    const own = settingStats(runs, 'own').find((x) => x.method === 'none');
    expect(own?.eps1.mean).toBeCloseTo(0.0925);
  });
  it('best per method (fully seeded settings only), the N_c curve and the chosen settings', () => {
    const st = settingStats(runs, 'all');
    expect(bestOf(st, 'ldc')).toMatchObject({ lambda: 3, nc: 50 });
    expect(ncCurve(st).map((p) => [p.nc, p.lambda])).toEqual([
      [10, 3],
      [50, 3],
    ]);
    const c = chosenSettings(st, { ldc: { lambda: 3, nc: 10 }, ewc: null });
    expect(c.ldc).toMatchObject({ lambda: 3, nc: 10 });
    expect(c.ewc).toMatchObject({ lambda: 1e4 });
    expect(c.none).toMatchObject({ method: 'none' });
    // A choice that no run has falls back to the best.
    expect(chosenSettings(st, { ldc: { lambda: 99, nc: 10 }, ewc: null }).ldc).toMatchObject({
      nc: 50,
    });
  });
  it('mean curves include the run in progress of the same setting', () => {
    const setting = { method: 'ewc' as const, lambda: 1e4, nc: null };
    const live = {
      key: { ...setting, seed: 2 },
      curve: [{ step: 0, eps1: 0.3, eps2: 1, eps1Own: 0, eps2Own: 0.5 }],
    };
    const c = settingCurve(runs, live, setting, 'all');
    expect(c.map((p) => p.step)).toEqual([0, 10]);
    expect(c[0].eps1.n).toBe(3);
    expect(c[0].eps1.mean).toBeCloseTo(0.1);
    expect(c[1].eps1.n).toBe(2);
  });
  it('formats λ as typed', () => {
    expect([0, 0.1, 3, 1000, 1e4, 3e5, 1e7].map(fmtLambda)).toEqual([
      '0',
      '0.1',
      '3',
      '1000',
      '10⁴',
      '3×10⁵',
      '10⁷',
    ]);
  });
});
