// The page's pool sized for a sweep whose runs train as fused GPU ensembles (issue 14): the
// worker that trains an ensemble holds its data copy and its runs' windows
// (ensembleWorkerBytes), so the pool counts that worker at the larger of its ensemble and a
// run's peak, the largest ensembles first, as many as it has workers.
import { describe, expect, it } from 'vitest';
import { DEFAULT_CONFIG, type RunConfig } from '../../src/engine/experiments/config';
import {
  ensembleWindowBytes,
  ensembleWorkerBytes,
  planEnsembles,
} from '../../src/engine/experiments/ensemblePlan';
import { EMBEDDED_DATA_SHAPE } from '../../src/engine/experiments/memoryPolicy';
import { planRun } from '../../src/engine/experiments/runChecks';
import { gridPlan } from '../../src/state/universalityPlans';
import { POOL_MEMORY_BUDGET, WORKER_BASE_BYTES, poolSizing } from '../../src/ui/poolSize';

const MB = 2 ** 20;

describe('pool size with GPU ensembles', () => {
  it('counts an ensemble’s worker at its ensemble where that is more than a run', () => {
    const run = 100 * MB;
    // 2,048 MB / (128 + 100) MB: 8 workers fit, 7 wanted on 8 cores.
    expect(poolSizing(8, null, run).size).toBe(7);
    // Ensembles of 612 and 164 MB: 512 and 64 MB more than a run. n workers take
    // n × 228 MB + 576 MB (n ≥ 2): 6 fit (1,944 MB), 7 would not (2,172 MB).
    const s = poolSizing(8, null, run, [164 * MB, 612 * MB]);
    expect(s.size).toBe(6);
    expect(s.totalBytes).toBe(6 * (WORKER_BASE_BYTES + run) + 576 * MB);
    expect(s.totalBytes).toBeLessThanOrEqual(POOL_MEMORY_BUDGET);
    expect(s.reason).toBe(
      '8 cores, one left for the page, capped at 6 by the 2,048 MB memory budget (≈ 228 MB a worker, and 576 MB more for 2 GPU ensembles’ windows at once)',
    );
    // One worker trains one ensemble at a time: the largest is counted.
    const one = poolSizing(2, null, run, [164 * MB, 612 * MB]);
    expect(one.size).toBe(1);
    expect(one.totalBytes).toBe(WORKER_BASE_BYTES + 612 * MB);
    expect(one.reason).toBe(
      '2 cores, one left for the page; ≈ 228 MB a worker, and 512 MB more for one GPU ensemble’s windows',
    );
    // An ensemble smaller than a run's peak adds nothing: the worker's analyses need more.
    expect(poolSizing(8, null, run, [80 * MB])).toEqual(poolSizing(8, null, run));
    // The link's workers= is capped the same way; at least one worker whatever the memory.
    expect(poolSizing(8, 16, run, [612 * MB]).size).toBe(6);
    expect(poolSizing(8, 4, 2 * POOL_MEMORY_BUDGET, [612 * MB]).size).toBe(1);
  });

  it('the page’s (B, α) grid on the embedded digits: the ensembles hold less than a run’s peak', () => {
    const items = gridPlan(DEFAULT_CONFIG).map((it, index) => ({
      index,
      config: it.spec.kind === 'mlp' ? it.spec.config : null,
    }));
    const plan = planEnsembles(items, EMBEDDED_DATA_SHAPE);
    const held = plan.groups.map((g) => ensembleWorkerBytes(g, EMBEDDED_DATA_SHAPE));
    // 2,500 weights a snapshot held twice: B = 25's 3,200 snapshots are 64 MB (61 MiB), B = 50's
    // 32 MB and B = 100's 16 MB; eight runs in the first ensemble (3 + 3 + 2), the ninth alone;
    // beside them the 10,000 digits of 785 bytes.
    const perB = (b: number) => 2 * 4 * 2500 * ((10 * 8000) / b);
    const data = 10_000 * 785;
    expect(held).toEqual([data + 3 * perB(25) + 3 * perB(50) + 2 * perB(100), data + perB(100)]);
    expect(ensembleWindowBytes(plan.groups[1].members[0].config, EMBEDDED_DATA_SHAPE)).toBe(
      perB(100),
    );
    // A run's peak (B = 25: its data copies, window, analysis) is 373 MiB; the eight runs'
    // windows 305 MiB: the pool stays at 4 on 8 cores (4 × 501 MiB).
    const runBytes = Math.max(
      ...items.map((r) => planRun(r.config!, EMBEDDED_DATA_SHAPE).memory.total),
    );
    expect(Math.round(runBytes / MB)).toBe(373);
    expect(poolSizing(8, null, runBytes, held)).toEqual(poolSizing(8, null, runBytes));
    expect(poolSizing(8, null, runBytes, held).size).toBe(4);
  });

  it('wider runs: an ensemble’s worker holds more than a run, and the pool shrinks', () => {
    // h = 84, B = 100, a 10-epoch window: 800 snapshots of 7,056 weights, 45 MB held twice;
    // ensembles of up to 11 runs (half the 1 GiB budget), so 12 runs make two (11 and 1).
    const base: RunConfig = { ...DEFAULT_CONFIG, hidden: 84, batchSize: 100, windowEpochs: 10 };
    const items = Array.from({ length: 12 }, (_, index) => ({
      index,
      config: { ...base, lr: 0.01 * (index + 1), seed: index },
    }));
    const plan = planEnsembles(items, EMBEDDED_DATA_SHAPE);
    expect(plan.groups.map((g) => g.members.length)).toEqual([11, 1]);
    const held = plan.groups.map((g) => ensembleWorkerBytes(g, EMBEDDED_DATA_SHAPE));
    const window = 2 * 4 * 800 * 7_056;
    expect(held).toEqual([10_000 * 785 + 11 * window, 10_000 * 785 + window]);
    // A run's peak is 369 MiB, the first ensemble's worker 481 MiB: 4 workers (4 × 497 MiB)
    // fit the 2 GiB budget, but not with 113 MiB more for that ensemble (and 0 for the second,
    // whose 51 MiB is less than a run).
    const runBytes = planRun(base, EMBEDDED_DATA_SHAPE).memory.total;
    expect(Math.round(runBytes / MB)).toBe(369);
    const without = poolSizing(8, null, runBytes);
    const counted = poolSizing(8, null, runBytes, held);
    expect([without.size, counted.size]).toEqual([4, 3]);
    expect(counted.totalBytes).toBe(3 * (WORKER_BASE_BYTES + runBytes) + held[0] - runBytes);
    expect(4 * (WORKER_BASE_BYTES + runBytes) + held[0] - runBytes).toBeGreaterThan(
      POOL_MEMORY_BUDGET,
    );
    expect(counted.reason).toMatch(
      /capped at 3 by the 2,048 MB memory budget \(≈ 497 MB a worker, and 113 MB more for one GPU ensemble’s windows\)$/,
    );
  });
});
