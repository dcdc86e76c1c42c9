import { readFileSync, statSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { runsPerSeed } from '../../src/engine/forgetting/config';
import { expandForgettingBundle } from '../../src/state/forgettingBundle';
import { bestOf, ncCurve, pairedDifference, settingStats } from '../../src/state/forgettingData';
import {
  beginForgetting,
  showBundledForgetting,
  useForgetting,
} from '../../src/state/forgettingStore';

const FILE = 'src/data/forgetting-precomputed.json';
const raw: unknown = JSON.parse(readFileSync(FILE, 'utf8'));

describe('the bundled forgetting sweep (section 6 at first visit)', () => {
  const b = expandForgettingBundle(raw);
  const c = b.info.config;

  it('is the page default sweep, whole, and small', () => {
    expect(c.seeds).toEqual([0, 1, 2]);
    expect(b.runs).toHaveLength(c.seeds.length * runsPerSeed(c));
    for (const s of c.seeds)
      expect(b.runs.filter((r) => r.seed === s)).toHaveLength(runsPerSeed(c));
    expect(b.task1.map((t) => t.seed)).toEqual(c.seeds);
    for (const t of b.task1) expect(t.modes).toHaveLength(c.displacementModes);
    expect(statSync(FILE).size).toBeLessThan(100 * 1024);
  });

  it("the page's selection on its runs gives what the headless sweep printed", () => {
    // From `npm run reproduce -- --experiment forgetting --seeds 0,1,2` (the bundle's source):
    // ldc 0.113 at λ = 10, N_c = 300; ewc 0.149 at λ = 1,780,000; none 1.025; paired −0.036.
    const stats = settingStats(b.runs, 'all');
    const ldc = bestOf(stats, 'ldc');
    const ewc = bestOf(stats, 'ewc');
    const none = bestOf(stats, 'none');
    expect([ldc?.lambda, ldc?.nc]).toEqual([10, 300]);
    expect(ewc?.lambda).toBeCloseTo(1.78e6, -3);
    expect(ldc?.total.mean).toBeCloseTo(0.113, 3);
    expect(ewc?.total.mean).toBeCloseTo(0.149, 3);
    expect(none?.total.mean).toBeCloseTo(1.025, 3);
    expect(pairedDifference(b.runs, ldc, ewc, 'all')?.mean).toBeCloseTo(-0.036, 3);
    expect(ncCurve(stats).map((p) => Number(p.total.mean.toFixed(3)))).toEqual([
      0.802, 0.671, 0.596, 0.356, 0.19, 0.12, 0.113,
    ]);
  });

  it('keeps curves and displacements for the settings the figures show first', () => {
    const stats = settingStats(b.runs, 'all');
    const steps = c.task2Steps / c.curveEvery + 1;
    for (const s of [bestOf(stats, 'ldc'), bestOf(stats, 'ewc'), bestOf(stats, 'none')]) {
      const runs = b.runs.filter(
        (r) => r.method === s?.method && r.lambda === s.lambda && r.nc === s.nc,
      );
      expect(runs).toHaveLength(c.seeds.length);
      for (const r of runs) {
        expect(r.curve).toHaveLength(steps);
        expect(r.curve[steps - 1].step).toBe(c.task2Steps);
        expect(r.displacement).toHaveLength(c.displacementModes);
      }
    }
    expect(b.info.detailed).toBe(b.runs.filter((r) => r.curve.length).length);
  });

  it('is shown until a sweep starts, and never over a sweep of the reader', () => {
    expect(showBundledForgetting(b.runs, b.task1, b.info)).toBe(true);
    expect(useForgetting.getState().bundled?.runs).toBe(b.runs.length);
    beginForgetting(c, null);
    expect(useForgetting.getState().bundled).toBeNull();
    expect(useForgetting.getState().runs).toEqual([]);
    expect(showBundledForgetting(b.runs, b.task1, b.info)).toBe(false);
    expect(useForgetting.getState().bundled).toBeNull();
  });

  it('refuses a file that does not fit, saying why', () => {
    expect(() => expandForgettingBundle({ format: 'x' })).toThrow(/flat-minima-forgetting\/1/);
    const bad = JSON.parse(JSON.stringify(raw)) as { runs: unknown[][] };
    bad.runs[3] = bad.runs[3].slice(0, 5);
    expect(() => expandForgettingBundle(bad)).toThrow(/run 3 has 5 fields/);
    const wrong = JSON.parse(JSON.stringify(raw)) as { runs: unknown[][] };
    wrong.runs[0][0] = 'sgd';
    expect(() => expandForgettingBundle(wrong)).toThrow(/unknown method sgd/);
  });
});
