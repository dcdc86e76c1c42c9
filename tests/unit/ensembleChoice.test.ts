// Section 7's sweeps train on the GPU ensemble only where it measured faster than the CPU pool
// (issue 14): the ensemble's run-steps/s at its size against min(workers, runs) × one worker's
// SIMD steps/s; forced, always the ensemble; a software adapter or a missing number, the CPU.
import { describe, expect, it } from 'vitest';
import {
  ensembleChoice,
  type EnsembleChoiceInput,
} from '../../src/engine/experiments/ensembleChoice';
import { fusedChoice } from '../../src/engine/experiments/fusedProbe';
import { measureEnsemble } from '../../src/ui/ensembleProbe';

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
