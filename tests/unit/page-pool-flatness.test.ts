// The page's flatness search on its pool (issue 13): the analysis worker's side
// (src/worker/flatnessOnPool.ts) posts shares, the UI runs each on the page's pool
// (src/ui/workerPool.ts) of job workers answering measureShare, as job.worker.ts does, and the
// merged modes equal the in-worker search's to the last bit — also when a worker crashes twice
// on a share and the analysis worker measures that share itself.
import { existsSync, readFileSync } from 'node:fs';
import { beforeAll, describe, expect, it } from 'vitest';
import { loadEmbeddedDataset } from '../../src/engine/data/embedded';
import type { Dataset } from '../../src/engine/data/dataset';
import { Rng } from '../../src/engine/data/rng';
import { splitFingerprint } from '../../src/engine/data/fingerprint';
import { measureShare, type FlatnessShare } from '../../src/engine/jobs/flatness';
import type { ModeFlatnessResult } from '../../src/engine/landscape/flatness';
import { initMlp } from '../../src/engine/nets/mlp';
import type {
  AnalysisCommand,
  AnalysisEvent,
  PoolCommand,
  PoolEvent,
} from '../../src/protocol/messages';
import { WorkerPool, type PoolWorkerLike } from '../../src/ui/workerPool';
import { FlatnessOnPool } from '../../src/worker/flatnessOnPool';

const dataPath = 'public/data/mnist-10k.bin';
const hasData = existsSync(dataPath);

/**
 * A job worker in process: answers a flatness task with measureShare on its own data (the
 * message cloned, as a browser would), or throws (an uncaught error) on the shares holding
 * `crashRank`.
 */
class FakeJobWorker implements PoolWorkerLike {
  onmessage: ((e: MessageEvent<PoolEvent>) => void) | null = null;
  onerror: ((e: ErrorEvent) => void) | null = null;
  private dead = false;

  constructor(
    private readonly data: Dataset,
    private readonly log: { shares: number; crashes: number },
    private readonly crashRank: number | null,
  ) {}

  private emit(e: PoolEvent): void {
    setTimeout(() => !this.dead && this.onmessage?.({ data: e } as MessageEvent));
  }

  postMessage(m: unknown): void {
    const cmd = structuredClone(m) as PoolCommand;
    if (cmd.type === 'init') this.emit({ type: 'ready', backend: 'fake', dataset: 'fake' });
    if (cmd.type !== 'job' || cmd.task.type !== 'flatness') return;
    const { id } = cmd;
    const share = cmd.task.share;
    if (cmd.task.data !== splitFingerprint(this.data.train)) {
      this.emit({ type: 'failed', id, message: 'another training set', cancelled: false });
      return;
    }
    if (share.modes.some((md) => md.rank === this.crashRank)) {
      this.log.crashes++;
      setTimeout(() =>
        this.onerror?.({ message: 'boom', preventDefault: () => undefined } as ErrorEvent),
      );
      return;
    }
    this.log.shares++;
    void measureShare(share, this.data.train).then((modes) =>
      this.emit({ type: 'flatnessDone', id, modes }),
    );
  }

  terminate(): void {
    this.dead = true;
  }
}

/**
 * The page's round trip: the analysis worker's shares go to the UI, which runs each on the
 * pool and answers (as workerClient.shareOnPool does); failures are collected as notices.
 */
function pagePath(
  data: Dataset,
  workers: number,
  crashRank: number | null,
  poolData: Dataset = data,
) {
  const log = { shares: 0, crashes: 0 };
  const pool = new WorkerPool({
    size: workers,
    spawn: () => new FakeJobWorker(poolData, log, crashRank),
    init: { type: 'init', data: { kind: 'embedded', url: 'fake' }, wasmPaths: {} },
  });
  const notices: string[] = [];
  const posted: number[] = [];
  const analysis: FlatnessOnPool = new FlatnessOnPool(
    (e: Extract<AnalysisEvent, { type: 'flatnessShare' }>) => {
      const sent = structuredClone(e);
      posted.push(sent.share.modes.length);
      void pool.submitFlatness(sent.share, sent.data).then((o) => {
        if (!o.ok) notices.push(o.error);
        const answer: AnalysisCommand = o.ok
          ? { type: 'flatnessShareResult', requestId: sent.requestId, modes: o.result }
          : { type: 'flatnessShareFailed', requestId: sent.requestId, message: o.error };
        analysis.answer(
          structuredClone(answer) as Extract<
            AnalysisCommand,
            { type: 'flatnessShareResult' | 'flatnessShareFailed' }
          >,
        );
      });
    },
    (share) => measureShare(share, data.train),
  );
  analysis.workers = workers;
  return { pool, analysis, log, notices, posted };
}

describe.skipIf(!hasData)('the flatness search on the page pool', () => {
  let data: Dataset;
  const opts = () => ({ signal: new AbortController().signal, data: splitFingerprint(data.train) });
  let share: FlatnessShare;
  let one: ModeFlatnessResult[];
  beforeAll(async () => {
    data = loadEmbeddedDataset(readFileSync(dataPath));
    const h = 10;
    const w = initMlp(h, 3);
    const rng = new Rng(7);
    // Directions as views into one basis, as the PCA hands them to the search.
    const basis = Float64Array.from({ length: 5 * h * h }, () => rng.normal());
    const modes = Array.from({ length: 5 }, (_, i) => {
      const d = basis.subarray(i * h * h, (i + 1) * h * h);
      const n = Math.hypot(...d);
      for (let j = 0; j < d.length; j++) d[j] /= n;
      return { rank: i + 2, direction: d };
    });
    share = {
      hidden: h,
      w1: w.W1,
      w3: w.W3,
      count: 1000,
      centre: Float64Array.from(w.W2),
      modes,
      options: { factor: Math.E, relTol: 1e-3, initialStep: 0.05, maxDistance: 1e3 },
    };
    // The analysis worker's own search over all modes.
    one = await measureShare(share, data.train);
    // A search that found each mode's width, so the comparison below is of real numbers.
    expect(one.every((m) => Number.isFinite(m.flatness) && m.flatness > 0)).toBe(true);
  });

  it('split over 2 job workers gives the in-worker numbers exactly', async () => {
    const page = pagePath(data, 2, null);
    const search = page.analysis.search(opts());
    expect(search).toBeDefined();
    const pooled = await search!(share);
    page.pool.dispose();
    expect(page.posted).toEqual([3, 2]);
    expect(page.log.shares).toBe(2);
    expect(page.notices).toEqual([]);
    expect(pooled.map((m) => m.rank)).toEqual([2, 3, 4, 5, 6]);
    expect(pooled).toEqual(one);
  });

  it('a share whose worker crashes twice is measured in the analysis worker: same numbers', async () => {
    const page = pagePath(data, 2, 3);
    const pooled = await page.analysis.search(opts())!(share);
    page.pool.dispose();
    expect(page.log.crashes).toBe(2);
    expect(page.pool.stats.requeued).toBe(1);
    expect(page.notices).toEqual([expect.stringMatching(/crashed twice/)]);
    expect(pooled).toEqual(one);
  });

  it('job workers holding another training set refuse the shares: measured here, same numbers', async () => {
    const other: Dataset = {
      ...data,
      train: {
        ...data.train,
        labels: data.train.labels.map((l, i) => (i === 0 ? (l + 1) % 10 : l)),
      },
    };
    const page = pagePath(data, 2, null, other);
    const pooled = await page.analysis.search(opts())!(share);
    page.pool.dispose();
    expect(page.log.shares).toBe(0);
    expect(page.notices).toEqual(['another training set', 'another training set']);
    expect(pooled).toEqual(one);
  });

  it('with one job worker the search stays in the analysis worker', () => {
    const page = pagePath(data, 1, null);
    expect(page.analysis.search(opts())).toBeUndefined();
    page.pool.dispose();
  });
});
