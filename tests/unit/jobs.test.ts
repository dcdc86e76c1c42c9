// The engine's job function (issues 13, 15): spec checks, content addresses, the result
// encoding for text transports, and the forgetting sweep split into jobs giving the serial
// run's numbers.
import { existsSync, readFileSync } from 'node:fs';
import { beforeAll, describe, expect, it } from 'vitest';
import { loadEmbeddedDataset } from '../../src/engine/data/embedded';
import type { Dataset } from '../../src/engine/data/dataset';
import { DEFAULT_CONFIG } from '../../src/engine/experiments/config';
import { ARCH_DEFAULTS } from '../../src/engine/experiments/architectures';
import {
  DEFAULT_FORGETTING_CONFIG,
  forgettingRun,
  forgettingSetup,
  setupCounts,
  type ForgettingResult,
  type RunKey,
} from '../../src/engine/forgetting';
import {
  JobSpecError,
  checkJobSpec,
  decodeResult,
  encodeResult,
  jobKey,
  type JobSpec,
} from '../../src/engine/jobs/spec';
import {
  JobCache,
  forgettingJobs,
  runJob,
  type ForgettingJobEvent,
} from '../../src/engine/jobs/run';
import { forgettingFromJobs } from '../../src/engine/jobs/forgettingMerge';
import { useBackend } from './tfBackend';
import { TINY_FORGETTING_CONFIG } from '../fixtures/forgettingConfig';

const dataPath = 'public/data/mnist-10k.bin';
const hasData = existsSync(dataPath);

const runSpec = (over: Record<string, unknown> = {}): Record<string, unknown> => ({
  kind: 'run',
  config: { ...DEFAULT_CONFIG, hidden: 20, warmupEpochs: 1, windowEpochs: 2, ...over },
  sharpC: 4,
});

/** Drops wall-clock fields, which differ between any two runs. */
function withoutTimes(v: unknown): unknown {
  return JSON.parse(
    JSON.stringify(v, (k, x: unknown) =>
      k === 'seconds' || k === 'timings'
        ? undefined
        : typeof x === 'number' && !Number.isFinite(x)
          ? String(x)
          : x,
    ),
  );
}

describe('job specs', () => {
  it('accepts a well-formed spec and refuses malformed ones with the engine’s message', () => {
    expect(checkJobSpec(runSpec()).kind).toBe('run');
    expect(
      checkJobSpec({ kind: 'arch', config: { arch: 'cnn', ...ARCH_DEFAULTS }, sharpC: 4 }).kind,
    ).toBe('arch');
    const bad: [unknown, RegExp][] = [
      [null, /not an object/],
      [{ kind: 'shell', command: 'rm -rf /' }, /unknown kind/],
      [{ ...runSpec(), script: 'x' }, /only kind, config and sharpC/],
      [runSpec({ optimizer: 'lbfgs' }), /optimizer must be one of sgd, momentum, adam/],
      [runSpec({ lr: 'fast' }), /lr must be a finite number/],
      [runSpec({ path: '/etc/passwd' }), /unknown setting "path"/],
      [runSpec({ hidden: 500 }), /hidden width 500 is outside 2…200/],
      // planRun's own message: the window holds too few snapshots for the PCA.
      [runSpec({ batchSize: 4000, windowEpochs: 1 }), /PCA needs at least/],
      [{ ...runSpec(), sharpC: -1 }, /sharpC must be a number > 0/],
    ];
    for (const [spec, message] of bad) {
      expect(() => checkJobSpec(spec)).toThrow(JobSpecError);
      expect(() => checkJobSpec(spec)).toThrow(message);
    }
    const cfg = { ...DEFAULT_FORGETTING_CONFIG, seeds: [0, 1] };
    const [job] = forgettingJobs(cfg, 2);
    expect(checkJobSpec(job).kind).toBe('forgetting');
    expect(() => checkJobSpec({ ...job, seed: 7 })).toThrow(/seed 7 is not one of/);
    expect(() =>
      checkJobSpec({ ...job, runs: [{ method: 'ldc', lambda: 5, nc: 3, seed: 0 }] }),
    ).toThrow(/not in the seed's plan/);
    expect(() => checkJobSpec({ ...job, config: { ...cfg, task2: [1, 0] } })).toThrow(
      /invalid job: .*task/,
    );
  });

  it('content-addresses specs: key order does not matter, any setting does', () => {
    const a = runSpec() as unknown as JobSpec;
    const reordered = JSON.parse(
      JSON.stringify({
        sharpC: 4,
        config: Object.fromEntries(Object.entries((a as { config: object }).config).reverse()),
        kind: 'run',
      }),
    ) as JobSpec;
    expect(jobKey(reordered)).toBe(jobKey(a));
    expect(jobKey(a)).toMatch(/^[0-9a-f]{32}$/);
    expect(jobKey(runSpec({ seed: 1 }) as unknown as JobSpec)).not.toBe(jobKey(a));
  });

  it('encodes NaN, ±Infinity and −0 in results as text and gets them back', () => {
    const v = { a: [NaN, Infinity, -Infinity, -0, 0, 1.5e-300], b: { c: 'x', $num: 2 } };
    const back = decodeResult<typeof v>(encodeResult(v));
    expect(back.a.map((x) => Object.is(x, NaN) || x)).toEqual([
      true,
      Infinity,
      -Infinity,
      -0,
      0,
      1.5e-300,
    ]);
    expect(Object.is(back.a[3], -0)).toBe(true);
    expect(back.b).toEqual(v.b);
  });
});

describe.skipIf(!hasData)('the forgetting sweep as jobs', () => {
  let data: Dataset;
  beforeAll(async () => {
    await useBackend();
    data = loadEmbeddedDataset(readFileSync(dataPath));
  });

  it('seed runs split into jobs (fresh and cached contexts) give the serial run’s numbers', async () => {
    const config = TINY_FORGETTING_CONFIG;
    let serial: ForgettingResult | null = null;
    const serialStream: unknown[] = [];
    for await (const e of forgettingRun(config, data)) {
      if (e.type === 'done') serial = e.result;
      else if (e.type !== 'progress' && e.type !== 'sweepPoint') serialStream.push(e);
    }
    const jobs = forgettingJobs(config, 2);
    expect(jobs.map((j) => j.runs.length)).toEqual([2, 2]);
    // The first job on its own runner, the second on a runner that already holds the seed.
    const cache = new JobCache();
    const streamed: ForgettingJobEvent[] = [];
    let turns = 0;
    const results = [
      await runJob(checkJobSpec(jobs[0]), data, {
        onForgettingEvent: (e) => streamed.push(e),
        yieldEvery: async () => void turns++,
      }),
      await runJob(jobs[0], data, { cache }),
      await runJob(jobs[1], data, { cache }),
    ];
    const [fresh, , second] = results;
    if (fresh.kind !== 'forgetting' || second.kind !== 'forgetting') throw new Error('kind');
    expect(second.seconds.pretrain).toBe(0);
    // The one merge every runner uses (the CLI's threads and queue, the page's pool).
    const merged = forgettingFromJobs(config, [fresh, second], 0);
    expect(withoutTimes(merged)).toEqual(withoutTimes(serial));
    // A job streams the serial sweep's events for its runs (the page's pool shows them live),
    // and its progress reaches its whole work.
    const fractions = streamed.flatMap((e) => (e.type === 'progress' ? [e.fraction] : []));
    expect(fractions[fractions.length - 1]).toBeCloseTo(1, 12);
    expect(fractions.every((f, i) => i === 0 || f >= fractions[i - 1])).toBe(true);
    // A turn of the event loop after every engine event (a worker's cancel gets through);
    // the task-1 modes and the task-2 phase are sent between two of them.
    expect(turns).toBe(streamed.length - 2);
    const firstJob = new Set(jobs[0].runs.map((k) => `${k.method}|${k.lambda}|${k.nc}`));
    const ofFirstJob = (e: unknown) => {
      const x = e as { type: string; key?: RunKey; run?: RunKey };
      const k = x.key ?? x.run;
      return !k || firstJob.has(`${k.method}|${k.lambda}|${k.nc}`);
    };
    // The sweep's closing 'summary' phase is the merger's, not a job's.
    const serialOfJob = serialStream
      .filter((e) => ofFirstJob(e) && (e as { phase?: string }).phase !== 'summary')
      .map((e) => {
        const x = e as { type: string; message?: string };
        // The serial sweep's task-2 phase counts the seed's runs, a job its own.
        return x.type === 'phase' && /task-2 runs/.test(x.message ?? '')
          ? { ...x, message: '' }
          : x;
      });
    const jobStream = streamed
      .filter((e) => e.type !== 'progress')
      .map((e) =>
        e.type === 'phase' && e.phase === 'task2' ? { ...e, message: '' } : (e as unknown),
      );
    expect(withoutTimes(jobStream)).toEqual(withoutTimes(serialOfJob));
    expect(withoutTimes(fresh.counts)).toEqual(
      withoutTimes(setupCounts(forgettingSetup(config, data))),
    );
  });
});
