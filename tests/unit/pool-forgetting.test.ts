// Section 6's forgetting sweep on the page's pool (src/ui/poolForgetting.ts), driven by a fake
// pool that plays back job events: seeds finishing out of order and a seed re-run after its
// worker crashed still give each run and mode table once, the means over the seeds done so far,
// the progress over all seeds, and at the end the one merge's result in seed order; a failing
// seed stops the sweep; cancel ends it with its reason and nothing after.
import { describe, expect, it } from 'vitest';
import {
  DEFAULT_FORGETTING_CONFIG,
  aggregate,
  runPlan,
  type ForgettingConfig,
  type RunResult,
  type Task1Report,
} from '../../src/engine/forgetting';
import { forgettingFromJobs } from '../../src/engine/jobs/forgettingMerge';
import type { ForgettingJobEvent, ForgettingJobResult } from '../../src/engine/jobs/run';
import { PoolForgetting, type ForgettingPool } from '../../src/ui/poolForgetting';
import type { Outcome } from '../../src/ui/workerPool';
import type { ForgettingPoolTask, ForgettingWorkerEvent } from '../../src/protocol/messages';

const config: ForgettingConfig = {
  ...DEFAULT_FORGETTING_CONFIG,
  seeds: [0, 1],
  lambdas: [1],
  ewcLambdas: [10],
  ncList: [5],
};

/** A finished run with numbers that differ per seed and setting. */
function run(seed: number, i: number): RunResult {
  const k = runPlan(config, seed)[i];
  const e = 0.1 * (i + 1) + 0.01 * seed;
  return {
    ...k,
    eps1: e,
    eps2: 0.05 + e / 10,
    eps1Own: e / 2,
    eps2Own: e / 4,
    valEps1: e + 0.001,
    valEps2: 0.05,
    valEps1Own: e / 3,
    valEps2Own: 0.02,
    curve: [{ step: 0, eps1: 0, eps2: 1, eps1Own: 0, eps2Own: 0.5 }],
    displacement: [e],
    penalty: 0,
    seconds: 1,
  };
}

const report = (seed: number) => ({ seed, modes: [] }) as unknown as Task1Report;

function result(seed: number): ForgettingJobResult {
  return {
    kind: 'forgetting',
    seed,
    report: report(seed),
    runs: [0, 1, 2].map((i) => run(seed, i)),
    counts: { tasks: [], heldOut: 0 },
    seconds: { pretrain: 1, task1: 1, analysis: 1, task2: 1 },
  };
}

/** A seed's job as it streams: its mode table, then each run with a curve point first. */
function stream(seed: number): ForgettingJobEvent[] {
  const out: ForgettingJobEvent[] = [
    { type: 'phase', phase: 'pretrain', seed, seedIndex: seed, message: `seed ${seed}` },
    { type: 'progress', phase: 'analysis', seed, fraction: 0.5, etaSeconds: null },
    { type: 'task1Modes', report: report(seed) },
  ];
  for (let i = 0; i < 3; i++) {
    const r = run(seed, i);
    out.push({ type: 'curve', key: r, point: r.curve[0] });
    out.push({ type: 'run', run: r });
  }
  out.push({ type: 'progress', phase: 'task2', seed, fraction: 1, etaSeconds: null });
  return out;
}

/** A fake pool: each seed's job is played back by `play` (events, then its outcome). */
function fakePool(
  play: (
    task: ForgettingPoolTask,
    send: (e: ForgettingJobEvent[]) => void,
  ) => Promise<Outcome<ForgettingJobResult>>,
): ForgettingPool & { cancelled: number } {
  const pool = {
    cancelled: 0,
    submitForgetting: (task: ForgettingPoolTask, onEvents: (e: ForgettingJobEvent[]) => void) =>
      play(task, onEvents),
    cancelAll: () => void pool.cancelled++,
  };
  return pool as unknown as ForgettingPool & { cancelled: number };
}

const tick = () => new Promise((r) => setTimeout(r, 0));

async function sweep(pool: ForgettingPool, during?: (s: PoolForgetting) => void) {
  const events: ForgettingWorkerEvent[] = [];
  let ended = 0;
  const s = new PoolForgetting(pool, config, {
    emit: (e) => events.push(e),
    onEnd: () => ended++,
    publish: () => undefined,
  });
  const done = s.run();
  during?.(s);
  await done;
  expect(ended).toBe(1);
  return events;
}

describe('the forgetting sweep on the pool', () => {
  it('shows each run once, in any order of seeds and after a re-run, and ends with the merge', async () => {
    const pool = fakePool(async (task, send) => {
      if (task.seed === 0) {
        // Seed 0's worker crashes after its mode table and first run; the pool runs it again.
        await tick();
        send(stream(0).slice(0, 5));
        await tick();
        await tick();
        await tick();
        send(stream(0));
        return { ok: true, result: result(0) };
      }
      await tick();
      send(stream(1));
      return { ok: true, result: result(1) };
    });
    const events = await sweep(pool);
    const types = events.map((e) => e.type);
    expect(types[0]).toBe('forgettingState');
    expect(types.slice(-2)).toEqual(['forgettingDone', 'forgettingState']);
    const last = events[events.length - 1] as { state: string };
    expect(last.state).toBe('done');
    const modes = events.flatMap((e) => (e.type === 'forgettingModes' ? [e.report.seed] : []));
    expect(modes.sort()).toEqual([0, 1]);
    const batches = events.filter(
      (e): e is Extract<ForgettingWorkerEvent, { type: 'forgettingBatch' }> =>
        e.type === 'forgettingBatch',
    );
    const shown = batches.flatMap((b) => b.runs.map((r) => `${r.seed} ${r.method}`));
    expect(shown.sort()).toEqual(['0 ewc', '0 ldc', '0 none', '1 ewc', '1 ldc', '1 none']);
    // The means streamed last for each setting are over both seeds, summed in seed order.
    const means = new Map(batches.flatMap((b) => b.sweep.map((p) => [p.method, p] as const)));
    for (let i = 0; i < 3; i++)
      expect(means.get(run(0, i).method)).toEqual(aggregate([run(0, i), run(1, i)]));
    const fractions = batches.flatMap((b) => (b.progress ? [b.progress.fraction] : []));
    expect(fractions[fractions.length - 1]).toBe(1);
    const done = events.find((e) => e.type === 'forgettingDone') as {
      result: ReturnType<typeof forgettingFromJobs>;
    };
    const merged = forgettingFromJobs(config, [result(0), result(1)], 0);
    expect({ ...done.result, timings: null }).toEqual({ ...merged, timings: null });
    expect(done.result.runs.map((r) => r.seed)).toEqual([0, 0, 0, 1, 1, 1]);
  });

  it('a failing seed stops the sweep and names it; the runs shown stay', async () => {
    const pool = fakePool(async (task, send) => {
      await tick();
      if (task.seed === 1) return { ok: false, error: 'task 2 diverged', cancelled: false };
      send(stream(0).slice(0, 5));
      await tick();
      await tick();
      return { ok: false, error: 'cancelled', cancelled: true };
    });
    const events = await sweep(pool);
    expect(pool.cancelled).toBe(1);
    const last = events[events.length - 1] as { type: string; state: string; message: string };
    expect(last.state).toBe('error');
    expect(last.message).toMatch(/^Seed 1 failed: task 2 diverged/);
    expect(events.some((e) => e.type === 'forgettingDone')).toBe(false);
  });

  it('cancel ends it with its reason, and nothing the jobs still send is shown', async () => {
    let release: () => void = () => undefined;
    const stop = new Promise<void>((r) => (release = r));
    const pool = fakePool(async (task, send) => {
      await stop;
      send(stream(task.seed));
      return { ok: false, error: 'cancelled', cancelled: true };
    });
    const events = await sweep(pool, (s) => {
      s.cancel('Stopped: a training run was started (one experiment runs at a time).');
      release();
    });
    expect(pool.cancelled).toBe(1);
    expect(events.map((e) => e.type)).toEqual(['forgettingState', 'forgettingState']);
    expect(events[1]).toEqual({
      type: 'forgettingState',
      state: 'cancelled',
      message: 'Stopped: a training run was started (one experiment runs at a time).',
    });
  });

  it('offered a GPU, each seed’s job carries it, and the badge says where its task-2 runs trained', async () => {
    const asked: ForgettingPoolTask[] = [];
    const where = [
      'the GPU ensemble (A), forced by ?backend=webgpu',
      'the CPU: the GPU ensemble failed (lost)',
    ];
    const pool = fakePool(async (task, send) => {
      asked.push(task);
      await tick();
      send(stream(task.seed));
      return {
        ok: true,
        result: { ...result(task.seed), task2: { gpu: task.seed === 0, reason: where[task.seed] } },
      };
    });
    const notes: (string | null)[] = [];
    const s = new PoolForgetting(
      pool,
      config,
      {
        emit: () => undefined,
        onEnd: () => undefined,
        publish: () => undefined,
        gpuNote: (n) => notes.push(n),
      },
      'forced',
    );
    await s.run();
    expect(asked.map((t) => [t.seed, t.task2Gpu])).toEqual([
      [0, 'forced'],
      [1, 'forced'],
    ]);
    expect(notes).toEqual([
      "section 6's task-2 runs of seed 0 trained on the GPU ensemble (A), forced by ?backend=webgpu",
      "section 6's task-2 runs trained on: seed 0, the GPU ensemble (A), forced by ?backend=webgpu; seed 1, the CPU: the GPU ensemble failed (lost)",
    ]);
  });
});
