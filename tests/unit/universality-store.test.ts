// The page's universality sweeps (universalityStore.ts): plans, the cache that reuses a run
// another sweep already made, continuing a stopped sweep, failed runs, and the page's
// architecture settings against the engine's defaults.
import { readFileSync } from 'node:fs';
import { beforeEach, describe, expect, it } from 'vitest';
import { DEFAULT_PRESET, presetConfig } from '../../src/state/configSchema';
import { validateUniversalityBundle } from '../../src/state/universalityBundle';
import {
  gridPlan,
  optimizerPlan,
  widthPlan,
  type PlanItem,
} from '../../src/state/universalityPlans';
import {
  MAX_ARCH_RUNS,
  PAGE_ARCH,
  applyUniversalityEvent,
  beginUniversality,
  clearUniversalityCache,
  pendingRuns,
  showPrecomputedUniversality,
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
import type { UniversalityRunSpec } from '../../src/protocol/messages';

const base = { hidden: 20, batchSize: 50, lr: 0.1, seed: 0 } as unknown as RunConfig;
const mlp = (over: Partial<RunConfig>): UniversalityRunSpec => ({
  kind: 'mlp',
  config: { ...base, ...over },
});
const summary = (hidden: number) => ({ hidden, psi: { exponent: 3 } }) as unknown as RunSummary;

function reset() {
  clearUniversalityCache();
  const idle = () => ({
    status: 'idle' as const,
    message: null,
    progress: null,
    plan: [],
    runs: [],
    archRuns: [],
    precomputed: false,
  });
  useUniversality.setState({
    active: null,
    widths: idle(),
    optimizers: idle(),
    architectures: idle(),
    hyper: idle(),
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

describe('the precomputed section-7 runs', () => {
  beforeEach(reset);

  it('the bundled file validates and matches the page plans at the default settings', async () => {
    const raw: unknown = JSON.parse(
      readFileSync(
        new URL('../../src/data/universality-precomputed.json', import.meta.url),
        'utf8',
      ),
    );
    const v = validateUniversalityBundle(raw);
    if ('error' in v) throw new Error(v.error);
    const config = presetConfig(DEFAULT_PRESET);
    const plans = {
      optimizers: optimizerPlan(config),
      widths: widthPlan(config),
      hyper: gridPlan(config),
    };
    for (const [mode, plan] of Object.entries(plans) as [keyof typeof plans, PlanItem[]][]) {
      expect(v.bundle.sweeps[mode].map((r) => r.label)).toEqual(plan.map((p) => p.label));
      // The very same specs the page would send (so the figures show what a click reproduces).
      expect(v.bundle.sweeps[mode].map((r) => specKey(r.spec))).toEqual(
        plan.map((p) => specKey(JSON.parse(JSON.stringify(p.spec)) as UniversalityRunSpec)),
      );
    }
    showPrecomputedUniversality(v.bundle);
    const s = useUniversality.getState();
    expect(s.optimizers.runs.length).toBe(3);
    expect(s.widths.runs.map((r) => r.hidden)).toEqual([10, 20, 30, 50]);
    expect(s.hyper.runs.length).toBe(9);
    expect(s.architectures.archRuns.length).toBe(4);
    expect(s.widths.precomputed).toBe(true);
    for (const r of [...s.optimizers.runs, ...s.widths.runs, ...s.hyper.runs])
      expect(r.psi.exponent).toBeGreaterThan(0);

    // A visitor's sweep replaces them; appending starts from an empty overlay.
    const todo = beginUniversality(
      'architectures',
      [{ spec: { kind: 'arch', arch: 'cnn', settings: {} }, label: 'cnn' }],
      true,
      MAX_ARCH_RUNS,
    );
    expect(todo).toEqual([{ index: 0, spec: { kind: 'arch', arch: 'cnn', settings: {} } }]);
    expect(useUniversality.getState().architectures.precomputed).toBe(false);
    expect(useUniversality.getState().architectures.archRuns).toEqual([]);
  });

  it('a malformed bundle is refused with the reason', () => {
    expect(validateUniversalityBundle(null)).toEqual({ error: 'not a JSON object' });
    expect(validateUniversalityBundle({ format: 'x' })).toEqual({
      error: 'format is x, expected flat-minima-universality/1',
    });
    const broken = {
      format: 'flat-minima-universality/1',
      config: {},
      sweeps: {
        optimizers: [{ label: 'SGD', spec: { kind: 'mlp' }, result: { kind: 'mlp', summary: {} } }],
        widths: [],
        hyper: [],
        architectures: [],
      },
    };
    expect(validateUniversalityBundle(broken)).toEqual({
      error: 'sweeps.optimizers[0].result is incomplete',
    });
  });
});
