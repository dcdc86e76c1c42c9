// The page's universality sweeps (universalityStore.ts): plans, the cache that reuses a run
// another sweep already made, continuing a stopped sweep, failed runs, and the page's
// architecture settings against the engine's defaults.
import { beforeEach, describe, expect, it } from 'vitest';
import {
  MAX_ARCH_RUNS,
  PAGE_ARCH,
  applyUniversalityEvent,
  beginUniversality,
  clearUniversalityCache,
  pendingRuns,
  specKey,
  useUniversality,
} from '../../src/state/universalityStore';
import {
  ARCH_DEFAULTS,
  MAX_BLOCK_DIM,
  archDefaults,
} from '../../src/engine/experiments/architectures';
import type { RunSummary } from '../../src/engine/experiments/sweeps';
import type { RunConfig } from '../../src/engine/experiments/config';
import type { UniversalityRunSpec } from '../../src/worker/protocol';

const base = { hidden: 20, batchSize: 50, lr: 0.1, seed: 0 } as unknown as RunConfig;
const mlp = (over: Partial<RunConfig>): UniversalityRunSpec => ({
  kind: 'mlp',
  config: { ...base, ...over },
});
const summary = (hidden: number) => ({ hidden, psi: { exponent: 3 } }) as unknown as RunSummary;

function reset() {
  clearUniversalityCache();
  const empty = useUniversality.getState().widths;
  useUniversality.setState({
    active: null,
    widths: { ...empty, status: 'idle', plan: [], runs: [], archRuns: [] },
    optimizers: { ...empty, status: 'idle', plan: [], runs: [], archRuns: [] },
    architectures: { ...empty, status: 'idle', plan: [], runs: [], archRuns: [] },
  });
}

describe('universality sweeps on the page', () => {
  beforeEach(reset);

  it('keys equal settings equally, whatever the key order', () => {
    const a: UniversalityRunSpec = { kind: 'mlp', config: { ...base, hidden: 30 } };
    const b: UniversalityRunSpec = {
      kind: 'mlp',
      config: { seed: 0, lr: 0.1, batchSize: 50, hidden: 30 } as unknown as RunConfig,
    };
    expect(specKey(a)).toBe(specKey(b));
    expect(specKey(a)).not.toBe(specKey(mlp({ hidden: 31 })));
  });

  it('plans a sweep, records runs by index, and reuses them in a later sweep', () => {
    const todo = beginUniversality('widths', [
      { spec: mlp({ hidden: 10 }), label: 'h 10' },
      { spec: mlp({ hidden: 20 }), label: 'h 20' },
    ]);
    expect(todo.map((t) => t.index)).toEqual([0, 1]);
    expect(useUniversality.getState().active).toBe('widths');
    // Results may come back in any order; figures get them in plan order.
    applyUniversalityEvent({
      type: 'universalityRun',
      index: 1,
      result: { kind: 'mlp', summary: summary(20) },
    });
    applyUniversalityEvent({
      type: 'universalityRun',
      index: 0,
      result: { kind: 'mlp', summary: summary(10) },
    });
    applyUniversalityEvent({ type: 'universalityState', state: 'done' });
    let s = useUniversality.getState();
    expect(s.active).toBeNull();
    expect(s.widths.runs.map((r) => r.hidden)).toEqual([10, 20]);
    expect(s.widths.message).toBe('Done: 2 runs.');

    // Another sweep that contains h = 20 at the same settings trains only the new run.
    const next = beginUniversality('optimizers', [
      { spec: mlp({ hidden: 20 }), label: 'SGD' },
      { spec: mlp({ hidden: 20, lr: 0.05 }), label: 'other' },
    ]);
    expect(next).toEqual([{ index: 1, spec: mlp({ hidden: 20, lr: 0.05 }) }]);
    s = useUniversality.getState();
    expect(s.optimizers.runs.map((r) => r.hidden)).toEqual([20]);
    expect(s.optimizers.plan[0].reused).toBe(true);
    applyUniversalityEvent({
      type: 'universalityRun',
      index: 1,
      result: { kind: 'mlp', summary: summary(21) },
    });
    applyUniversalityEvent({ type: 'universalityState', state: 'done' });
    expect(useUniversality.getState().optimizers.message).toBe('Done: 2 runs (1 reused).');

    // All cached: done at once, no worker needed.
    expect(beginUniversality('widths', [{ spec: mlp({ hidden: 10 }), label: 'h 10' }])).toEqual([]);
    expect(useUniversality.getState().widths.status).toBe('done');
    expect(useUniversality.getState().active).toBeNull();
  });

  it('pauses, and continues a cancelled sweep with the runs it has left', () => {
    beginUniversality(
      'widths',
      [10, 20, 30].map((h) => ({ spec: mlp({ hidden: h }), label: `h ${h}` })),
    );
    applyUniversalityEvent({ type: 'universalityState', state: 'paused' });
    expect(useUniversality.getState().widths.status).toBe('paused');
    applyUniversalityEvent({ type: 'universalityState', state: 'running' });
    applyUniversalityEvent({
      type: 'universalityRun',
      index: 0,
      result: { kind: 'mlp', summary: summary(10) },
    });
    applyUniversalityEvent({
      type: 'universalityRunFailed',
      index: 1,
      message: 'diverged at step 7',
    });
    applyUniversalityEvent({
      type: 'universalityState',
      state: 'cancelled',
      message: 'Cancelled.',
    });
    const w = useUniversality.getState().widths;
    expect(w.status).toBe('cancelled');
    expect(pendingRuns(w)).toBe(1);
    // Continue: no new items, the remaining run only (the failed one is not retried).
    const todo = beginUniversality('widths', [], true);
    expect(todo.map((t) => t.index)).toEqual([2]);
    applyUniversalityEvent({
      type: 'universalityRun',
      index: 2,
      result: { kind: 'mlp', summary: summary(30) },
    });
    applyUniversalityEvent({ type: 'universalityState', state: 'done' });
    const done = useUniversality.getState().widths;
    expect(done.runs.map((r) => r.hidden)).toEqual([10, 30]);
    expect(done.message).toBe('Done: 3 runs (1 failed).');
  });

  it('keeps at most MAX_ARCH_RUNS finished architecture runs', () => {
    for (let i = 0; i < MAX_ARCH_RUNS + 2; i++) {
      const spec: UniversalityRunSpec = {
        kind: 'arch',
        arch: 'mlp4',
        settings: { hidden: 10 + i },
      };
      const todo = beginUniversality(
        'architectures',
        [{ spec, label: `h ${10 + i}` }],
        true,
        MAX_ARCH_RUNS,
      );
      applyUniversalityEvent({
        type: 'universalityRun',
        index: todo[0].index,
        result: { kind: 'arch', config: {} as never, result: {} as never },
      });
      applyUniversalityEvent({ type: 'universalityState', state: 'done' });
    }
    const a = useUniversality.getState().architectures;
    expect(a.plan.length).toBe(MAX_ARCH_RUNS);
    expect(a.archRuns.map((r) => r.label)[0]).toBe('h 12');
  });

  it("the page's architecture settings are the engine's quick defaults", () => {
    expect(PAGE_ARCH.hidden).toBe(ARCH_DEFAULTS.hidden);
    expect(PAGE_ARCH.block).toBe(ARCH_DEFAULTS.block);
    expect(PAGE_ARCH.kernel).toBe(ARCH_DEFAULTS.kernel);
    expect(PAGE_ARCH.conv1).toBe(ARCH_DEFAULTS.conv1);
    expect(PAGE_ARCH.conv2).toBe(ARCH_DEFAULTS.conv2);
    expect(PAGE_ARCH.dense).toBe(ARCH_DEFAULTS.dense);
    expect(PAGE_ARCH.maxBlockDim).toBe(MAX_BLOCK_DIM);
    for (const a of ['mlp4', 'cnn'] as const) {
      expect(PAGE_ARCH.warmupEpochs[a]).toBe(archDefaults(a).warmupEpochs);
      expect(PAGE_ARCH.windowEpochs[a]).toBe(archDefaults(a).windowEpochs);
    }
  });
});
