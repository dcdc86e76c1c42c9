// The lazy pool facade (poolLazy.ts): the pool's sweep code loads with the first sweep, flatness
// share or test hook, never with a stop; calls issued before the import resolves run in the
// order they were made once it does; an import that fails leaves a clear 'error' in the store
// the sweep was reporting to, and a flatness share an outcome naming the failure. The sweep
// modules are replaced by recording fakes (vi.doMock), loaded afresh for each test.
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { DEFAULT_CONFIG } from '../../src/engine/experiments/config';
import { DEFAULT_FORGETTING_CONFIG } from '../../src/engine/forgetting/config';
import type { FlatnessShare } from '../../src/engine/jobs/flatness';
import type { UniversalityRunSpec } from '../../src/protocol/messages';

const SWEEPS = '../../src/ui/poolSweeps';
const FORGETTING = '../../src/ui/poolForgetting';

/** What the fake sweep modules were asked, in order, and how often each was evaluated. */
let calls: string[];
let loads: { sweeps: number; forgetting: number };

/** A module load that waits for `release` (the import is still in flight until then). */
function gate(): { wait: Promise<void>; release: () => void } {
  let release = () => {};
  const wait = new Promise<void>((r) => (release = r));
  return { wait, release };
}

/** `fail`: the first `failures` loads (default: every load) throw it. */
function mockSweeps(opts: { wait?: Promise<void>; fail?: string; failures?: number } = {}): void {
  vi.doMock(SWEEPS, async () => {
    loads.sweeps++;
    await opts.wait;
    if (opts.fail && loads.sweeps <= (opts.failures ?? Infinity)) throw new Error(opts.fail);
    return {
      poolSetup: (runs: unknown[], idx: unknown, forced: unknown) => ({
        setup: `${runs.length} runs, idx ${String(idx)}, forced ${String(forced)}`,
      }),
      startPoolSweep: (mode: string, runs: unknown[], total: number, setup: { setup: string }) =>
        calls.push(`start ${mode} ${runs.length}/${total} (${setup.setup})`),
      pausePoolSweep: () => calls.push('pause'),
      resumePoolSweep: () => calls.push('resume'),
      cancelPoolSweep: (reason?: string) => calls.push(`cancel ${reason}`),
      measureShareOnPool: (share: FlatnessShare, data: number) => {
        calls.push(`share h ${share.hidden} on ${data}`);
        return Promise.resolve({ ok: true, result: [] });
      },
    };
  });
}

function mockForgetting(opts: { wait?: Promise<void>; fail?: string } = {}): void {
  vi.doMock(FORGETTING, async () => {
    loads.forgetting++;
    await opts.wait;
    if (opts.fail) throw new Error(opts.fail);
    return {
      forgettingPoolSetup: () => ({ setup: 'forgetting' }),
      startPoolForgetting: (config: { seeds: number[] }) =>
        calls.push(`start forgetting ${config.seeds.length} seeds`),
      cancelPoolForgetting: (reason?: string) => calls.push(`cancel forgetting ${reason}`),
    };
  });
}

const runs = (n: number): { index: number; spec: UniversalityRunSpec }[] =>
  Array.from({ length: n }, (_, index) => ({
    index,
    spec: { kind: 'mlp', config: { ...DEFAULT_CONFIG, hidden: 10 } },
  }));

const share: FlatnessShare = {
  hidden: 3,
  w1: new Float32Array(784 * 3),
  w3: new Float32Array(30),
  count: 10,
  centre: new Float64Array(9),
} as FlatnessShare;

/**
 * The message of the failed import as the facade saw it (vitest words a failing mock factory
 * its own way; a browser says which chunk it could not fetch).
 */
async function importFailure(path: string): Promise<string> {
  const e: unknown = await import(/* @vite-ignore */ path).then(
    () => new Error('the import did not fail'),
    (err: unknown) => err,
  );
  expect(e).toBeInstanceOf(Error);
  return (e as Error).message;
}

/** Everything the then-callbacks of a settled import have queued has run. */
const drained = () => new Promise<void>((r) => setImmediate(r));

beforeEach(() => {
  vi.resetModules();
  calls = [];
  loads = { sweeps: 0, forgetting: 0 };
});
afterEach(() => {
  vi.doUnmock(SWEEPS);
  vi.doUnmock(FORGETTING);
});

describe('poolLazy: the pool machinery loads with the first start', () => {
  it('a stop, pause or resume before any start loads nothing and does nothing', async () => {
    mockSweeps();
    mockForgetting();
    const lazy = await import('../../src/ui/poolLazy');
    lazy.cancelPoolSweep('Stopped: a training run was started.');
    lazy.cancelPoolForgetting('Cancelled.');
    lazy.pausePoolSweep();
    lazy.resumePoolSweep();
    await drained();
    expect(loads).toEqual({ sweeps: 0, forgetting: 0 });
    expect(calls).toEqual([]);
    // The fakes are the modules the facade loads: a start loads each once.
    lazy.startPoolSweep('widths', runs(2), 2, null, undefined);
    lazy.startPoolForgetting({ ...DEFAULT_FORGETTING_CONFIG, seeds: [1, 2, 3] }, null, undefined);
    await vi.waitFor(() => expect(calls).toHaveLength(2), { timeout: 30_000 });
    expect(loads).toEqual({ sweeps: 1, forgetting: 1 });
    expect(calls).toEqual([
      'start widths 2/2 (2 runs, idx null, forced undefined)',
      'start forgetting 3 seeds',
    ]);
  });

  it('calls made while the import is in flight run in their order once it resolves', async () => {
    const sweepsLoad = gate();
    const forgettingLoad = gate();
    mockSweeps({ wait: sweepsLoad.wait });
    mockForgetting({ wait: forgettingLoad.wait });
    const lazy = await import('../../src/ui/poolLazy');
    lazy.startPoolSweep('optimizers', runs(3), 5, null, 'wasm');
    lazy.pausePoolSweep();
    lazy.resumePoolSweep();
    lazy.cancelPoolSweep('Cancelled.');
    lazy.startPoolForgetting({ ...DEFAULT_FORGETTING_CONFIG, seeds: [7] }, null, undefined);
    lazy.cancelPoolForgetting('Stopped.');
    const outcome = lazy.measureShareOnPool(share, 60, null, undefined);
    await vi.waitFor(() => expect(loads).toEqual({ sweeps: 1, forgetting: 1 }), {
      timeout: 30_000,
    });
    await drained();
    expect(calls).toEqual([]);
    sweepsLoad.release();
    await vi.waitFor(() => expect(calls).toHaveLength(5), { timeout: 30_000 });
    expect(calls).toEqual([
      'start optimizers 3/5 (3 runs, idx null, forced wasm)',
      'pause',
      'resume',
      'cancel Cancelled.',
      'share h 3 on 60',
    ]);
    expect(await outcome).toEqual({ ok: true, result: [] });
    forgettingLoad.release();
    await vi.waitFor(() => expect(calls).toHaveLength(7), { timeout: 30_000 });
    expect(calls.slice(5)).toEqual(['start forgetting 1 seeds', 'cancel forgetting Stopped.']);
    // One import for all of them.
    expect(loads).toEqual({ sweeps: 1, forgetting: 1 });
  });
});

describe('poolLazy: an import that fails', () => {
  const unhandled: unknown[] = [];
  const onUnhandled = (e: unknown) => unhandled.push(e);
  beforeEach(() => {
    unhandled.length = 0;
    process.on('unhandledRejection', onUnhandled);
  });
  afterEach(() => {
    process.off('unhandledRejection', onUnhandled);
  });

  it('turns a sweep into an error that names the failure; a share fails with the same', async () => {
    mockSweeps({ fail: 'the chunk poolSweeps-1a2b.js did not load', failures: 3 });
    const lazy = await import('../../src/ui/poolLazy');
    const store = await import('../../src/state/universalityStore');
    const todo = store.beginUniversality('widths', [
      { spec: runs(1)[0].spec, label: 'h 10' },
      { spec: { kind: 'mlp', config: { ...DEFAULT_CONFIG, hidden: 20 } }, label: 'h 20' },
    ]);
    expect(store.useUniversality.getState().widths.status).toBe('running');
    lazy.startPoolSweep('widths', todo, 2, null, undefined);
    // Stops issued while the failing import is in flight: the failure is reported once, by the
    // start, and nothing is left unhandled.
    lazy.pausePoolSweep();
    lazy.cancelPoolSweep('Cancelled.');
    await vi.waitFor(() => expect(store.useUniversality.getState().widths.status).toBe('error'), {
      timeout: 30_000,
    });
    const s = store.useUniversality.getState();
    // (The sweep's import was the first load, this the second, the share's the third.)
    const failure = await importFailure(SWEEPS);
    expect(s.widths.message).toBe(`the page's sweep code could not be loaded (${failure})`);
    expect(s.active).toBeNull();
    expect(await lazy.measureShareOnPool(share, 60, null, undefined)).toEqual({
      ok: false,
      error: `the page's sweep code could not be loaded (${failure})`,
      cancelled: false,
    });
    // A stop after the failure (a training run starting) is quiet too.
    lazy.cancelPoolSweep('Stopped: a training run was started.');
    await drained();
    expect(unhandled).toEqual([]);
    expect(calls).toEqual([]);
    // The failure is not kept: the next sweep loads the code again, and this time it comes.
    lazy.startPoolSweep('widths', todo, 2, null, undefined);
    await vi.waitFor(
      () => expect(calls).toEqual(['start widths 2/2 (2 runs, idx null, forced undefined)']),
      {
        timeout: 30_000,
      },
    );
  });

  it('turns the forgetting sweep, still starting, into an error that names the failure', async () => {
    mockForgetting({ fail: 'the chunk poolForgetting-9f.js did not load' });
    const lazy = await import('../../src/ui/poolLazy');
    const store = await import('../../src/state/forgettingStore');
    // The client marks the sweep 'starting' before the pool answers (beginForgetting).
    store.beginForgetting({ ...DEFAULT_FORGETTING_CONFIG, seeds: [1, 2] }, null);
    lazy.startPoolForgetting({ ...DEFAULT_FORGETTING_CONFIG, seeds: [1, 2] }, null, undefined);
    lazy.cancelPoolForgetting('Cancelled.');
    await vi.waitFor(() => expect(store.useForgetting.getState().status).toBe('error'), {
      timeout: 30_000,
    });
    expect(store.useForgetting.getState().message).toBe(
      `the page's sweep code could not be loaded (${await importFailure(FORGETTING)})`,
    );
    await drained();
    expect(unhandled).toEqual([]);
    expect(calls).toEqual([]);
  });
});
