// Which of section 7's planned runs train together on the fused WebGPU ensemble, on the page's
// own plans (universalityPlans.ts) and the embedded digits' shape.
import { describe, expect, it } from 'vitest';
import { DEFAULT_CONFIG } from '../../src/engine/experiments/config';
import { ensembleWindowBytes, planEnsembles } from '../../src/engine/experiments/ensemblePlan';
import { EMBEDDED_DATA_SHAPE } from '../../src/engine/experiments/memoryPolicy';
import { gridPlan, optimizerPlan, widthPlan } from '../../src/state/universalityPlans';
import type { PlanItem } from '../../src/state/universalityPlans';

const runs = (items: PlanItem[]) =>
  items.map((it, index) => ({ index, config: it.spec.kind === 'mlp' ? it.spec.config : null }));

describe('planEnsembles', () => {
  it('the (B, α) grid trains in ensembles of mixed B and α, as many runs as their windows allow', () => {
    const plan = planEnsembles(runs(gridPlan(DEFAULT_CONFIG)), EMBEDDED_DATA_SHAPE);
    expect(plan.cpu).toEqual([]);
    // B = 25's 10-epoch window (3,200 snapshots of 2,500 weights, held twice) is 64 MB: eight
    // fit half the 1 GB budget, the ninth run takes a second kernel.
    expect(plan.groups.map((g) => g.members.map((m) => m.index))).toEqual([
      [0, 1, 2, 3, 4, 5, 6, 7],
      [8],
    ]);
    expect(new Set(plan.groups[0].members.map((m) => m.config.batchSize))).toEqual(
      new Set([25, 50, 100]),
    );
    expect(plan.note).toBe(
      '9 runs train as 2 fused ensembles on the GPU (one width; at most 8 runs each, their windows 61 MB a run)',
    );
  });

  it('widths differ: one ensemble per width', () => {
    const plan = planEnsembles(runs(widthPlan(DEFAULT_CONFIG)), EMBEDDED_DATA_SHAPE);
    expect(plan.groups.map((g) => [g.hidden, g.members.map((m) => m.index)])).toEqual([
      [10, [0]],
      [20, [1]],
      [30, [2]],
      [50, [3]],
    ]);
    expect(plan.note).toMatch(
      /4 fused ensembles on the GPU \(one kernel per width: h 10, 20, 30, 50\)/,
    );
  });

  it('SGD, momentum and Adam each get a kernel of their own', () => {
    const plan = planEnsembles(runs(optimizerPlan(DEFAULT_CONFIG)), EMBEDDED_DATA_SHAPE);
    expect(plan.groups.map((g) => [g.optimizer, g.members.map((m) => m.index)])).toEqual([
      ['sgd', [0]],
      ['momentum', [1]],
      ['adam', [2]],
    ]);
    expect(plan.cpu).toEqual([]);
    expect(plan.note).toBe(
      '3 runs train as 3 fused ensembles on the GPU (one kernel per optimizer: sgd, momentum, adam)',
    );
  });

  it('runs of one width and optimizer share a kernel; width and optimizer both split them', () => {
    const c = DEFAULT_CONFIG;
    const plan = planEnsembles(
      [
        { index: 0, config: { ...c, optimizer: 'momentum', momentum: 0.9 } },
        { index: 1, config: { ...c, optimizer: 'sgd' } },
        { index: 2, config: { ...c, optimizer: 'momentum', momentum: 0.5, lr: 0.01 } },
        { index: 3, config: { ...c, hidden: 20, optimizer: 'momentum' } },
        { index: 4, config: null },
      ],
      EMBEDDED_DATA_SHAPE,
    );
    expect(plan.groups.map((g) => [g.hidden, g.optimizer, g.members.map((m) => m.index)])).toEqual([
      [50, 'momentum', [0, 2]],
      [50, 'sgd', [1]],
      [20, 'momentum', [3]],
    ]);
    expect(plan.cpu).toEqual([4]);
    expect(plan.note).toBe(
      '4 runs train as 3 fused ensembles on the GPU (one kernel per width and optimizer: h 50 momentum, h 50 sgd, h 20 momentum); 1 on the CPU pool (the fused kernel trains the 784-h-h-10 network; not a deeper network)',
    );
  });

  it('caps an ensemble by its windows’ memory', () => {
    const items = runs(gridPlan(DEFAULT_CONFIG));
    // The largest window of the grid is B = 25's: twice the steps of B = 50.
    const worst = Math.max(
      ...items.map((r) => ensembleWindowBytes(r.config!, EMBEDDED_DATA_SHAPE)),
    );
    // 8,000 digits, B = 25: 320 steps an epoch, 10 epochs, 2,500 weights, held twice.
    expect(worst).toBe(2 * 4 * 3200 * 2500);
    const plan = planEnsembles(items, EMBEDDED_DATA_SHAPE, 4 * worst);
    expect(plan.groups.map((g) => g.members.length)).toEqual([4, 4, 1]);
    expect(plan.note).toMatch(/at most 4 runs each, their windows 61 MB a run/);
  });
});
