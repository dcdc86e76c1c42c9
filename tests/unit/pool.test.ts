// The CLI's worker-thread pool (issue 13): a tiny sweep and a flatness search give the same
// numbers on 1 and 2 workers as in one thread, and a crashed worker's job is re-queued once,
// then reported failed, with nothing else lost.
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadEmbeddedDataset } from '../../src/engine/data/embedded';
import type { Dataset } from '../../src/engine/data/dataset';
import { DEFAULT_CONFIG, type RunConfig } from '../../src/engine/experiments/config';
import { widthSweep, type RunSummary } from '../../src/engine/experiments/sweeps';
import { measureShare, type FlatnessShare } from '../../src/engine/jobs/flatness';
import { initMlp } from '../../src/engine/nets/mlp';
import { Rng } from '../../src/engine/data/rng';
import { WorkerPool, poolSweepRunner, type FailedJob } from '../../src/cli/pool';
import { useBackend } from './tfBackend';

const dataPath = 'public/data/mnist-10k.bin';
const hasData = existsSync(dataPath);

const TINY: RunConfig = {
  ...DEFAULT_CONFIG,
  warmupEpochs: 1,
  windowEpochs: 2,
  flatnessModes: 6,
};

/** A summary without its wall-clock timings. */
const numbers = (r: RunSummary) => ({ ...r, timings: null });

describe('worker pool: crash recovery', () => {
  const dir = mkdtempSync(join(tmpdir(), 'pool-crash-'));
  const pool = new WorkerPool(2, {
    idx: dir,
    entry: new URL('../fixtures/crashWorker.ts', import.meta.url),
  });
  afterAll(() => pool.close());

  it('re-queues a crashed job once, then reports it failed; the other jobs finish', async () => {
    const spec = (seed: number) => ({ kind: 'run', config: { ...TINY, seed }, sharpC: 4 }) as const;
    const out = await pool.runJobs([1, 13, 2, 666, 3, 4].map(spec));
    expect(out.map((o) => (o.ok ? o.result : o.error))).toEqual([
      1,
      13,
      2,
      expect.stringMatching(/worker died twice \(last exit code 3\)/),
      3,
      4,
    ]);
    expect(readFileSync(join(dir, 'crashed-once'), 'utf8')).toBe('1');
  });
});

describe.skipIf(!hasData)('worker pool: same numbers as one thread', () => {
  let data: Dataset;
  beforeAll(async () => {
    await useBackend();
    data = loadEmbeddedDataset(readFileSync(dataPath));
  });

  it('a tiny width sweep on 1 and 2 workers equals the serial sweep', async () => {
    const widths = [8, 12];
    const serial = await widthSweep(TINY, widths, data);
    for (const n of [1, 2]) {
      const pool = new WorkerPool(n, { idx: null });
      try {
        const failed: FailedJob[] = [];
        const pooled = await widthSweep(TINY, widths, data, {
          runner: poolSweepRunner(pool, failed),
        });
        expect(failed).toEqual([]);
        expect(pooled.map(numbers)).toEqual(serial.map(numbers));
      } finally {
        await pool.close();
      }
    }
  });

  it('the flatness search split over 2 workers equals the one search', async () => {
    const h = 12;
    const w = initMlp(h, 3);
    const rng = new Rng(5);
    const modes = Array.from({ length: 5 }, (_, i) => {
      const d = Float64Array.from({ length: h * h }, () => rng.normal());
      const n = Math.hypot(...d);
      return { rank: i + 2, direction: d.map((x) => x / n) };
    });
    const share: FlatnessShare = {
      hidden: h,
      w1: w.W1,
      w3: w.W3,
      count: 2000,
      centre: Float64Array.from(w.W2),
      modes,
      options: { factor: Math.E, relTol: 1e-3, initialStep: 0.05, maxDistance: 1e3 },
    };
    const one = await measureShare(share, data.train);
    const pool = new WorkerPool(2, { idx: null });
    try {
      expect(await pool.flatnessSearch(share)).toEqual(one);
    } finally {
      await pool.close();
    }
  });
});
