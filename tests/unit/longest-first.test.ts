/**
 * Longest-first dispatch (src/engine/jobs/cost.ts): the order the pools start a sweep's jobs
 * in. The estimate only orders; the pools' tests (page-pool, pool) check that results stay at
 * their plan index and equal the serial sweep's.
 */
import { describe, expect, it } from 'vitest';
import {
  DEFAULT_CONFIG,
  SWEEP_DEFAULTS,
  type RunConfig,
} from '../../src/engine/experiments/config';
import { EMBEDDED_DATA_SHAPE } from '../../src/engine/experiments/memoryPolicy';
import {
  estimateJobCost,
  estimateRunCost,
  inLongestFirstOrder,
  longestFirst,
} from '../../src/engine/jobs/cost';
import type { JobSpec } from '../../src/engine/jobs/spec';

const sweep: RunConfig = { ...DEFAULT_CONFIG, ...SWEEP_DEFAULTS, contrast: false };

describe('longest-first order', () => {
  it('puts the costliest first and keeps plan order among equal costs', () => {
    expect(longestFirst([3, 5, 1, 5])).toEqual([1, 3, 0, 2]);
    expect(longestFirst([])).toEqual([]);
    expect(inLongestFirstOrder(['a', 'b', 'c'], (s) => ({ a: 1, b: 2, c: 2 })[s]!)).toEqual([
      'b',
      'c',
      'a',
    ]);
  });

  it('keeps plan order where a cost is unknown or not finite', () => {
    expect(longestFirst([1, null, 3])).toEqual([0, 1, 2]);
    expect(longestFirst([1, NaN, 3])).toEqual([0, 1, 2]);
  });

  it("orders the page's width sweep widest first, and its (B, α) grid smallest B first", () => {
    const widths = [10, 20, 30, 50].map((hidden) => estimateRunCost({ ...sweep, hidden }));
    expect(longestFirst(widths)).toEqual([3, 2, 1, 0]);
    // h = 50 is the largest share of the width sweep (the README's ~40% on the page).
    const share = widths[3] / widths.reduce((a, b) => a + b, 0);
    expect(share).toBeGreaterThan(0.3);
    expect(share).toBeLessThan(0.6);
    const grid = [25, 50, 100].map((batchSize) =>
      estimateRunCost({ ...sweep, batchSize }, EMBEDDED_DATA_SHAPE),
    );
    expect(longestFirst(grid)).toEqual([0, 1, 2]);
  });

  it('puts the optimizers that train on tfjs ops (momentum, Adam) before SGD', () => {
    const costs = (['sgd', 'momentum', 'adam'] as const).map((optimizer) =>
      estimateRunCost({ ...sweep, optimizer }),
    );
    expect(longestFirst(costs)[2]).toBe(0);
  });

  it('estimates variance–flatness jobs only', () => {
    const run: JobSpec = { kind: 'run', config: { ...sweep, hidden: 12 }, sharpC: 4 };
    expect(estimateJobCost(run)).toBeGreaterThan(0);
    // The CLI pool's test sweep (widths 8 and 12) starts h = 12 first.
    const small: JobSpec = { kind: 'run', config: { ...sweep, hidden: 8 }, sharpC: 4 };
    expect(longestFirst([small, run].map((s) => estimateJobCost(s)))).toEqual([1, 0]);
  });
});
