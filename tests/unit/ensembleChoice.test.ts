// Section 7's sweeps train on the GPU ensemble only where it measured faster than the CPU pool
// (issue 14): the ensemble's run-steps/s at its size against min(workers, runs) × one worker's
// SIMD steps/s; forced, always the ensemble; a software adapter or a missing number, the CPU.
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import {
  ensembleChoice,
  type EnsembleChoiceInput,
} from '../../src/engine/experiments/ensembleChoice';
import { fusedChoice } from '../../src/engine/experiments/fusedProbe';
import { DEFAULT_CONFIG } from '../../src/engine/experiments/config';
import { measureEnsemble } from '../../src/ui/ensembleProbe';
import { chooseEnsembles, poolSetup } from '../../src/ui/poolSweeps';
import { useRun } from '../../src/state/runStore';

const base: EnsembleChoiceInput = {
  forced: false,
  runs: 8,
  ensemble: { adapter: 'nvidia hopper', software: false, runStepsPerSec: 41_000 },
  cpu: { stepsPerSec: 2_800, name: 'wasm' },
  workers: 4,
};

describe('ensembleChoice: the GPU ensemble against the CPU pool', () => {
  it('takes the ensemble where it is faster, with both numbers in the reason', () => {
    const c = ensembleChoice(base);
    expect(c.gpu).toBe(true);
    expect(c.reason).toBe(
      'the GPU ensemble is faster: 8 runs at 41,000 run-steps/s on the GPU ensemble (nvidia hopper) against 4 workers × 2,800 steps/s on the CPU (wasm)',
    );
  });

  it('keeps the CPU pool where its workers together are faster', () => {
    const c = ensembleChoice({
      ...base,
      ensemble: { adapter: 'gpu', software: false, runStepsPerSec: 9_000 },
    });
    expect(c.gpu).toBe(false);
    expect(c.reason).toBe(
      'the CPU pool is faster: 4 workers × 2,800 steps/s on the CPU (wasm) = 11,200 run-steps/s against 8 runs at 9,000 run-steps/s on the GPU ensemble (gpu)',
    );
  });

  it('counts no more workers than runs: 2 runs use 2 of 8 workers', () => {
    const c = ensembleChoice({
      ...base,
      runs: 2,
      workers: 8,
      ensemble: { adapter: 'gpu', software: false, runStepsPerSec: 6_000 },
    });
    expect(c.gpu).toBe(true);
    expect(c.reason).toMatch(/against 2 workers × 2,800 steps\/s/);
  });

  it('a tie keeps the CPU pool', () => {
    const c = ensembleChoice({
      ...base,
      ensemble: { adapter: 'gpu', software: false, runStepsPerSec: 11_200 },
    });
    expect(c.gpu).toBe(false);
    expect(c.reason).toMatch(/^the CPU pool is as fast: /);
  });

  it('missing or failed measurements keep the CPU pool and say which', () => {
    expect(ensembleChoice({ ...base, ensemble: null })).toEqual({
      gpu: false,
      reason: 'the GPU ensemble was not measured',
    });
    expect(ensembleChoice({ ...base, ensemble: { error: 'no adapter' } })).toEqual({
      gpu: false,
      reason: 'the GPU ensemble could not be measured (no adapter)',
    });
    expect(ensembleChoice({ ...base, cpu: null })).toEqual({
      gpu: false,
      reason: 'the CPU step was not measured to weigh the GPU ensemble against',
    });
    const zero = { adapter: 'gpu', software: false, runStepsPerSec: 0 };
    expect(ensembleChoice({ ...base, ensemble: zero }).gpu).toBe(false);
    expect(ensembleChoice({ ...base, ensemble: { ...zero, runStepsPerSec: NaN } }).gpu).toBe(false);
  });

  it('never takes a software adapter unforced, however fast; forced, always the ensemble', () => {
    const sw = { adapter: 'SwiftShader', software: true, runStepsPerSec: 1e9 };
    expect(ensembleChoice({ ...base, ensemble: sw })).toEqual({
      gpu: false,
      reason: 'SwiftShader is a software adapter (used only under ?backend=webgpu)',
    });
    expect(ensembleChoice({ ...base, forced: true, ensemble: null, cpu: null })).toEqual({
      gpu: true,
      reason: 'forced by ?backend=webgpu',
    });
  });
});

describe('the numbers the choice reads', () => {
  it('fusedChoice keeps its measurement for the sweeps, whichever backend it picks', () => {
    const wasm = { name: 'wasm' as const, reason: 'fastest CPU backend', skipped: [] };
    const m = { adapter: 'gpu', fused: 3_000, cpu: 2_800, cpuName: 'wasm' };
    expect(fusedChoice(wasm, m).fusedProbe).toEqual(m);
    expect(fusedChoice(wasm, { ...m, fused: 100 }).fusedProbe).toEqual({ ...m, fused: 100 });
  });

  it('measureEnsemble asks a worker of its own once per size, and ends it', async () => {
    const spawned: { posted: unknown[]; terminated: boolean }[] = [];
    const spawn = (answer: boolean) => () => {
      const w = {
        posted: [] as unknown[],
        terminated: false,
        onmessage: null as ((e: { data: unknown }) => void) | null,
        onerror: null as ((e: { message: string }) => void) | null,
        postMessage(m: { runs: number }) {
          this.posted.push(m);
          setTimeout(() =>
            answer
              ? this.onmessage?.({
                  data: {
                    type: 'ensembleProbed',
                    measure: { adapter: 'a', software: false, runStepsPerSec: m.runs * 1000 },
                  },
                })
              : this.onerror?.({ message: 'the worker failed to load' }),
          );
        },
        terminate() {
          this.terminated = true;
        },
      };
      spawned.push(w);
      return w as unknown as Worker;
    };
    const a = await measureEnsemble(7, spawn(true));
    expect(a).toEqual({ adapter: 'a', software: false, runStepsPerSec: 7000 });
    expect(await measureEnsemble(7, spawn(true))).toBe(a);
    expect(spawned).toHaveLength(1);
    expect(spawned[0].posted).toEqual([{ type: 'ensembleProbe', runs: 7 }]);
    expect(spawned[0].terminated).toBe(true);
    expect(await measureEnsemble(9, spawn(false))).toEqual({ error: 'the worker failed to load' });
    expect(spawned[1].terminated).toBe(true);
  });
});

describe('a sweep weighs its ensembles before it starts (poolSweeps.chooseEnsembles)', () => {
  const runs = (n: number) =>
    Array.from({ length: n }, (_, index) => ({
      index,
      spec: {
        kind: 'mlp' as const,
        config: { ...DEFAULT_CONFIG, hidden: 10, lr: 0.05 * (index + 1), contrast: false },
      },
    }));
  /** A job worker whose probe answers `rate` run-steps/s a run. */
  const fakeWorker = (rate: number) =>
    class {
      onmessage: ((e: { data: unknown }) => void) | null = null;
      onerror = null;
      postMessage(m: { runs: number }) {
        setTimeout(() =>
          this.onmessage?.({
            data: {
              type: 'ensembleProbed',
              measure: { adapter: 'gpu', software: false, runStepsPerSec: rate * m.runs },
            },
          }),
        );
      }
      terminate() {}
    };
  const probed = { adapter: 'gpu', fused: 3_000, cpu: 2_000, cpuName: 'wasm' };
  // The pool's init names the data and wasm by absolute URL (the page's base).
  beforeEach(() => vi.stubGlobal('document', { baseURI: 'http://localhost/' }));
  afterEach(() => {
    vi.unstubAllGlobals();
    useRun.setState({ backend: null });
  });

  it('keeps the ensemble where it measured faster, and its note gives both numbers', async () => {
    useRun.setState({ backend: { name: 'webgpu', reason: '', skipped: [], fusedProbe: probed } });
    vi.stubGlobal('Worker', fakeWorker(5_000));
    const setup = poolSetup(runs(3), null);
    expect(setup.weigh?.cpu).toEqual({ stepsPerSec: 2_000, name: 'wasm' });
    const chosen = await chooseEnsembles(setup);
    expect(chosen.ensembles?.groups.map((g) => g.members.map((m) => m.index))).toEqual([[0, 1, 2]]);
    expect(chosen.ensembles?.note).toMatch(
      /^3 runs train as one fused ensemble on the GPU; the GPU ensemble is faster: 3 runs at 15,000 run-steps\/s/,
    );
  });

  it('sends every run to the pool where the pool measured faster, sized without the ensemble', async () => {
    // The fused step lost to wasm for one run, but the adapter is a hardware one: weighed too.
    useRun.setState({
      backend: { name: 'wasm', reason: '', skipped: [], fusedProbe: { ...probed, fused: 1_000 } },
    });
    vi.stubGlobal('Worker', fakeWorker(100));
    const setup = poolSetup(runs(2), null);
    const chosen = await chooseEnsembles(setup);
    expect(chosen.ensembles?.groups).toEqual([]);
    expect(chosen.ensembles?.cpu).toEqual([0, 1]);
    expect(chosen.sizing).toBe(setup.weigh?.cpuSizing);
    expect(chosen.ensembles?.note).toMatch(
      /^2 runs train on the CPU pool; the CPU pool is faster: .* against 2 runs at 200 run-steps\/s on the GPU ensemble \(gpu\)$/,
    );
  });

  it('weighs each ensemble size on its own: an ensemble of 3 stays on the GPU, one of 1 goes to the pool', async () => {
    useRun.setState({ backend: { name: 'webgpu', reason: '', skipped: [], fusedProbe: probed } });
    // A GPU whose run-steps/s grow with the ensemble: 100 for one run, 15,000 for three.
    vi.stubGlobal(
      'Worker',
      class {
        onmessage: ((e: { data: unknown }) => void) | null = null;
        onerror = null;
        postMessage(m: { runs: number }) {
          const runStepsPerSec = m.runs === 1 ? 100 : 5_000 * m.runs;
          setTimeout(() =>
            this.onmessage?.({
              data: {
                type: 'ensembleProbed',
                measure: { adapter: 'gpu', software: false, runStepsPerSec },
              },
            }),
          );
        }
        terminate() {}
      },
    );
    // Three runs at h = 10 and one at h = 20: two kernels, ensembles of 3 and 1.
    const plan = [
      ...runs(3),
      ...runs(1).map((r) => ({
        index: 3,
        spec: { ...r.spec, config: { ...r.spec.config, hidden: 20 } },
      })),
    ];
    const setup = poolSetup(plan, null);
    expect(setup.ensembles?.groups.map((g) => g.members.length)).toEqual([3, 1]);
    const chosen = await chooseEnsembles(setup);
    expect(chosen.ensembles?.groups.map((g) => g.members.map((m) => m.index))).toEqual([[0, 1, 2]]);
    expect(chosen.ensembles?.cpu).toEqual([3]);
    expect(chosen.ensembles?.note).toMatch(
      /^3 runs train as one fused ensemble on the GPU; 1 on the CPU pool where their ensemble size measured slower; the GPU ensemble is faster: 3 runs at 15,000 run-steps\/s .*; the CPU pool is faster: .* against 1 run at 100 run-steps\/s on the GPU ensemble \(gpu\)$/,
    );
  });

  it('forced, the ensembles are not weighed; without a hardware GPU there are none', async () => {
    useRun.setState({ backend: { name: 'webgpu', reason: '', skipped: [] } });
    const forced = poolSetup(runs(3), null, 'webgpu');
    expect(forced.weigh).toBeUndefined();
    expect(await chooseEnsembles(forced)).toBe(forced);
    useRun.setState({ backend: { name: 'wasm', reason: '', skipped: [] } });
    expect(poolSetup(runs(3), null).ensembles).toBeNull();
  });
});
