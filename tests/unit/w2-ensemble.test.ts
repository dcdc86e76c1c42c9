// A forgetting seed's task-2 runs as one ensemble (issue 14): the contract's float64 reference
// takes penalties.ts's proximal steps; the ensemble phase on it gives task2Phase's runs (the
// tfjs trainer, one run after another) and its events in the same order; a kernel failing
// part-way shows nothing and the job trains the runs on the CPU instead; the choice between
// the two follows the measured numbers.
import { existsSync, readFileSync } from 'node:fs';
import { beforeAll, describe, expect, it } from 'vitest';
import { loadEmbeddedDataset } from '../../src/engine/data/embedded';
import type { Dataset } from '../../src/engine/data/dataset';
import { Rng } from '../../src/engine/data/rng';
import {
  DEFAULT_FORGETTING_CONFIG,
  EwcPenalty,
  LdcPenalty,
  forgettingSetup,
  runPlan,
  seedContextPhase,
  task2Phase,
  type ForgettingConfig,
  type ForgettingSetup,
  type PhaseEvent,
  type RunResult,
  type SeedContext,
} from '../../src/engine/forgetting';
import { W2EnsembleReference } from '../../src/engine/forgetting/w2EnsembleReference';
import type {
  W2EnsembleFactory,
  W2EnsembleShared,
  W2Prox,
} from '../../src/engine/forgetting/w2EnsembleKernel';
import {
  Task2EnsembleFault,
  task2EnsemblePhase,
} from '../../src/engine/forgetting/w2EnsemblePhase';
import { task2Choice } from '../../src/engine/forgetting/task2Choice';
import { runJob, type ForgettingJobEvent } from '../../src/engine/jobs/run';
import { forgettingOnGpu } from '../../src/cli/forgettingGpu';
import { useBackend } from './tfBackend';
import { TINY_FORGETTING_CONFIG } from '../fixtures/forgettingConfig';
import { orthonormalRows } from '../../src/engine/pca/synthetic';

const dataPath = 'public/data/mnist-10k.bin';
const hasData = existsSync(dataPath);

/** A small synthetic ensemble: ReLU-like H1 rows, W3, w1* and orthonormal modes. */
function synthetic(h: number, modeCount: number): W2EnsembleShared {
  const rng = new Rng(7);
  const N = 40;
  const dim = h * h;
  const modes = Float32Array.from(orthonormalRows(rng, modeCount, dim));
  const set = (count: number) => ({
    h1: Float32Array.from({ length: count * h }, () => Math.max(0, rng.normal())),
    labels: Uint8Array.from({ length: count }, () => rng.int(10)),
    count,
    own: [2, 3],
  });
  const train = set(N);
  return {
    hidden: h,
    lr: 0.5,
    batchSize: 8,
    trainH1: train.h1,
    trainLabels: train.labels,
    trainCount: N,
    W3: Float32Array.from({ length: h * 10 }, () => rng.normal() * 0.5),
    anchor: Float32Array.from({ length: dim }, () => rng.normal() * 0.3),
    modes,
    modeCount,
    evalSets: [set(30), set(20)],
  };
}

const relErr = (a: ArrayLike<number>, b: ArrayLike<number>): number => {
  let num = 0;
  let den = 0;
  for (let i = 0; i < a.length; i++) {
    num = Math.max(num, Math.abs(a[i] - b[i]));
    den = Math.max(den, Math.abs(b[i]));
  }
  return num / den;
};

describe('the task-2 ensemble’s float64 reference', () => {
  it('takes the SGD step, then exactly the penalty’s proximal step (EWC and LDC)', async () => {
    const h = 6;
    const shared = synthetic(h, 4);
    const dim = h * h;
    const alpha = shared.lr;
    const anchor = Float64Array.from(shared.anchor);
    const rng = new Rng(3);
    const fisher = Float64Array.from({ length: dim }, () => Math.exp(rng.normal()));
    const F = Float64Array.from([0.4, 0.9, Infinity, 2]);
    const ewc = new EwcPenalty(anchor, fisher, 0.7);
    const ldc = new LdcPenalty(anchor, Float64Array.from(shared.modes), F, 0.3);
    const prox: W2Prox[] = [
      { kind: 'none' },
      { kind: 'ewc', shrink: Float32Array.from(ewc.shrink(alpha)) },
      { kind: 'ldc', nc: 4, shrink: Float32Array.from(ldc.shrink(alpha)) },
    ];
    const k = new W2EnsembleReference(shared, prox);
    const idx = Uint32Array.from({ length: 8 }, (_, i) => (i * 5) % 40);
    const loss = await k.runChunk(idx, 1);
    // Every run started at w1*: the same batch loss before the step.
    expect(loss[1]).toBe(loss[0]);
    expect(loss[2]).toBe(loss[0]);
    const y = k.w2.slice(0, dim); // the unconstrained run: the plain SGD step from w1*
    expect(relErr(y, anchor)).toBeGreaterThan(1e-3);
    // The shrinks went through float32, the penalties stay float64.
    expect(relErr(k.w2.slice(dim, 2 * dim), ewc.proximal(y, alpha))).toBeLessThan(1e-6);
    expect(relErr(k.w2.slice(2 * dim), ldc.proximal(y, alpha))).toBeLessThan(1e-6);
    // Pinned (λ → ∞): the constrained coordinates return to w1*.
    const pinned = new W2EnsembleReference(shared, [
      { kind: 'ldc', nc: 2, shrink: Float32Array.from([1, 1]) },
    ]);
    await pinned.runChunk(idx, 1);
    for (let m = 0; m < 2; m++) {
      let c = 0;
      for (let i = 0; i < dim; i++) c += (pinned.w2[i] - anchor[i]) * shared.modes[m * dim + i];
      expect(Math.abs(c)).toBeLessThan(1e-6);
    }
  });

  it('counts errors both ways, ties to the lower class, as taskErrors does', async () => {
    const h = 2;
    const shared: W2EnsembleShared = {
      ...synthetic(h, 0),
      // relu(h1·I)·W3: sample 0 scores class 3 highest, sample 1 ties classes 2 and 3.
      W3: Float32Array.from({ length: h * 10 }, (_, i) =>
        i === 3 ? 2 : i === 10 + 2 || i === 10 + 3 ? 1 : 0,
      ),
      anchor: Float32Array.from([1, 0, 0, 1]),
      evalSets: [
        { h1: Float32Array.from([1, 0, 0, 1]), labels: [3, 3], count: 2, own: [2, 3] },
        { h1: Float32Array.from([1, 0]), labels: [2], count: 1, own: [1, 2] },
      ],
    };
    const k = new W2EnsembleReference(shared, [{ kind: 'none' }]);
    // Set 0: sample 0 right; sample 1 ties 2 and 3 → 2, wrong both ways. Set 1: argmax 3 ≠ 2
    // over all 10; over its own classes {1, 2} both score 0 → 1 ≠ 2.
    expect([...(await k.score())]).toEqual([1, 1, 1, 1]);
  });
});

/** Drops wall-clock fields, which differ between any two runs. */
const withoutTimes = (runs: RunResult[]) => runs.map((r) => ({ ...r, seconds: 0 }));

describe.skipIf(!hasData)('a seed’s task-2 runs as one ensemble', () => {
  const config = TINY_FORGETTING_CONFIG;
  let data: Dataset;
  let setup: ForgettingSetup;
  let ctx: SeedContext;
  const keys = runPlan(config, 0);
  let cpu: { runs: RunResult[]; events: PhaseEvent[] };
  const reference: W2EnsembleFactory = (shared, prox, maxChunk) =>
    Promise.resolve(new W2EnsembleReference(shared, prox, maxChunk));

  async function drain(gen: AsyncGenerator<PhaseEvent, RunResult[], void>) {
    const events: PhaseEvent[] = [];
    let step = await gen.next();
    while (!step.done) {
      events.push(step.value);
      step = await gen.next();
    }
    return { runs: step.value, events };
  }

  beforeAll(async () => {
    await useBackend();
    data = loadEmbeddedDataset(readFileSync(dataPath));
    setup = forgettingSetup(config, data);
    const seconds = { pretrain: 0, task1: 0, analysis: 0, task2: 0 };
    const gen = seedContextPhase(config, setup, 0, 0, seconds);
    let step = await gen.next();
    while (!step.done) step = await gen.next();
    ctx = step.value;
    cpu = await drain(task2Phase(config, setup, ctx, keys, true));
  }, 120_000);

  it('gives task2Phase’s runs and events, in its order', async () => {
    const gpu = await drain(task2EnsemblePhase(config, setup, ctx, keys, true, reference));
    const shape = (events: PhaseEvent[]) =>
      events.flatMap((e) =>
        e.type === 'curve'
          ? [`curve ${e.key.method} ${e.key.lambda} ${e.point.step}`]
          : e.type === 'run'
            ? [`run ${e.run.method} ${e.run.lambda}`]
            : [],
      );
    expect(shape(gpu.events)).toEqual(shape(cpu.events));
    const units = (events: PhaseEvent[]) =>
      events.reduce((a, e) => a + (e.type === 'units' ? e.units : 0), 0);
    expect(units(gpu.events)).toBeCloseTo(units(cpu.events), 9);
    expect(gpu.runs.map((r) => [r.method, r.lambda, r.nc])).toEqual(
      cpu.runs.map((r) => [r.method, r.lambda, r.nc]),
    );
    for (let i = 0; i < keys.length; i++) {
      const a = gpu.runs[i];
      const b = cpu.runs[i];
      const what = `${a.method} λ = ${a.lambda}`;
      // float64 against tfjs's float32: an error count may differ by an example on a near
      // tie (on this seed none does).
      const one = (k: string) =>
        1 / (k.startsWith('eps1') ? setup.task1.test.count : setup.task2.test.count);
      for (const [p, q] of a.curve.map((p, j) => [p, b.curve[j]] as const)) {
        expect(p.step, what).toBe(q.step);
        for (const k of ['eps1', 'eps2', 'eps1Own', 'eps2Own'] as const)
          expect(Math.abs(p[k] - q[k]), `${what} ${k} at ${p.step}`).toBeLessThanOrEqual(
            one(k) * 1.0001,
          );
      }
      const val = (k: string) =>
        1 / (k.startsWith('valEps1') ? setup.task1.validation.count : setup.task2.validation.count);
      for (const k of ['valEps1', 'valEps2', 'valEps1Own', 'valEps2Own'] as const)
        expect(Math.abs(a[k] - b[k]), `${what} ${k}`).toBeLessThanOrEqual(val(k) * 1.0001);
      // 40 float32 steps against float64: ~1e-7 in weights of order 0.1–1.
      const dispErr = Math.max(...a.displacement.map((d, j) => Math.abs(d - b.displacement[j])));
      expect(dispErr, `${what} displacement`).toBeLessThan(1e-6);
      expect(Math.abs(a.penalty - b.penalty), `${what} penalty`).toBeLessThanOrEqual(
        1e-5 * Math.abs(b.penalty),
      );
    }
  });

  it('a kernel failing part-way: a Task2EnsembleFault, with no run shown before it', async () => {
    let chunks = 0;
    const failing: W2EnsembleFactory = async (shared, prox, maxChunk) => {
      const k = new W2EnsembleReference(shared, prox, maxChunk);
      const run = k.runChunk.bind(k);
      k.runChunk = (idx, steps) =>
        ++chunks === 2 ? Promise.reject(new Error('device lost')) : run(idx, steps);
      return k;
    };
    const seen: PhaseEvent[] = [];
    const gen = task2EnsemblePhase(config, setup, ctx, keys, true, failing);
    await expect(
      (async () => {
        for (let s = await gen.next(); !s.done; s = await gen.next()) seen.push(s.value);
      })(),
    ).rejects.toThrow(Task2EnsembleFault);
    expect(seen.every((e) => e.type === 'units')).toBe(true);
    expect(seen.length).toBe(1);
  });

  it('a job offered a GPU trains there when forced, and on the CPU after a fault', async () => {
    const spec = { kind: 'forgetting' as const, config, seed: 0, runs: keys };
    const phases: string[] = [];
    const onForgettingEvent = (e: ForgettingJobEvent) => {
      if (e.type === 'phase' && e.phase === 'task2') phases.push(e.message);
    };
    const gpu = { adapter: 'test adapter', software: true, forced: true };
    const forced = await runJob(spec, data, {
      task2Gpu: { ...gpu, factory: reference },
      onForgettingEvent,
    });
    if (forced.kind !== 'forgetting') throw new Error('kind');
    expect(forced.task2?.gpu).toBe(true);
    expect(phases.pop()).toMatch(
      /^seed 0: 4 task-2 runs of 40 steps on digits 2,3, on the GPU ensemble \(test adapter\), forced by \?backend=webgpu$/,
    );
    const broken: W2EnsembleFactory = () => Promise.reject(new Error('no adapter today'));
    const fallen = await runJob(spec, data, {
      task2Gpu: { ...gpu, factory: broken },
      onForgettingEvent,
    });
    if (fallen.kind !== 'forgetting') throw new Error('kind');
    expect(fallen.task2).toEqual({
      gpu: false,
      reason:
        'the CPU: the GPU ensemble failed (the task-2 ensemble could not be built: no adapter today)',
    });
    expect(phases.pop()).toMatch(/, on the CPU: the GPU ensemble failed \(/);
    // The fallback trains task2Phase's runs: its numbers to the last bit.
    expect(withoutTimes(fallen.runs)).toEqual(withoutTimes(cpu.runs));
  });
});

describe.skipIf(!hasData)('the command line’s forgetting sweep on a GPU', () => {
  it('runs each seed as a job, its task-2 runs on the ensemble, and reports where', async () => {
    await useBackend();
    const data = loadEmbeddedDataset(readFileSync(dataPath));
    const config: ForgettingConfig = {
      ...DEFAULT_FORGETTING_CONFIG,
      seeds: [0, 1],
      pretrainEpochs: 1,
      task1Epochs: 1,
      windowEpochs: 2,
      task2Steps: 20,
      curveEvery: 10,
      lambdas: [10],
      ewcLambdas: [1e5],
      ncList: [5],
      displacementModes: 5,
    };
    const lines: string[] = [];
    const reference: W2EnsembleFactory = (shared, prox, maxChunk) =>
      Promise.resolve(new W2EnsembleReference(shared, prox, maxChunk));
    const { result, gpu } = await forgettingOnGpu(
      config,
      data,
      {
        factory: reference,
        adapter: 'test adapter',
        software: false,
        forced: true,
        forcedBy: '--gpu on',
      },
      (l) => lines.push(l),
    );
    expect(result.runs.map((r) => `${r.seed} ${r.method}`)).toEqual([
      '0 none',
      '0 ewc',
      '0 ldc',
      '1 none',
      '1 ewc',
      '1 ldc',
    ]);
    expect(result.summary.best.ldc).not.toBeNull();
    expect(gpu).toEqual({
      adapter: 'test adapter',
      task2: [0, 1].map((seed) => ({
        seed,
        gpu: true,
        reason: 'the GPU ensemble (test adapter), forced by --gpu on',
      })),
    });
    expect(lines.filter((l) => /task-2 runs/.test(l))).toHaveLength(2);
  }, 120_000);
});

describe('where a seed’s task-2 runs train', () => {
  const base = { adapter: 'GPU X', software: false, runs: 99, forced: false };
  it('takes the faster side by the measured numbers; never a software adapter unforced', () => {
    expect(task2Choice({ ...base, ensemble: 5000, cpu: 400 })).toEqual({
      gpu: true,
      reason:
        'the GPU ensemble (GPU X), the faster: 99 runs at 5,000 run-steps/s against 400 on one core',
    });
    expect(task2Choice({ ...base, ensemble: 300, cpu: 400 })).toEqual({
      gpu: false,
      reason:
        'the CPU: the GPU ensemble (GPU X) is not faster: 99 runs at 300 run-steps/s against 400 on one core',
    });
    expect(task2Choice({ ...base, ensemble: 400, cpu: 400 }).gpu).toBe(false);
    expect(task2Choice({ ...base, software: true, ensemble: 1e6, cpu: 1 }).reason).toBe(
      'the CPU: GPU X is a software adapter (used only under ?backend=webgpu)',
    );
    expect(
      task2Choice({ ...base, software: true, forced: true, ensemble: null, cpu: null }),
    ).toEqual({ gpu: true, reason: 'the GPU ensemble (GPU X), forced by ?backend=webgpu' });
    expect(task2Choice({ ...base, ensemble: { error: 'lost' }, cpu: 400 }).reason).toBe(
      'the CPU: the GPU ensemble could not be measured (lost)',
    );
    expect(task2Choice({ ...base, ensemble: 5000, cpu: null }).gpu).toBe(false);
  });
});
