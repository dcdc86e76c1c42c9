// The page's pool with ensemble jobs (issue 14), driven by an in-process fake worker: an
// ensemble job's runs reach the submitter one by one as they hand out their windows or fail,
// in the order the worker sent them, before the job's own outcome; a failed ensemble is an
// outcome that is not a cancel (the page then trains its runs on the pool), and an analysis
// job is an ordinary job.
import { describe, expect, it } from 'vitest';
import { WorkerPool, type PoolWorkerLike } from '../../src/ui/workerPool';
import type {
  EnsembleMemberEvent,
  PoolCommand,
  PoolEvent,
  UniversalityResult,
} from '../../src/protocol/messages';
import type { EnsembleWindow } from '../../src/engine/jobs/ensemble';
import type { RunConfig } from '../../src/engine/experiments/config';

const window = (count: number): EnsembleWindow => ({
  snapshots: new Float32Array(count * 4),
  count,
  first: 1,
  stride: 1,
  weights: { hidden: 2, W1: new Float32Array(2), W2: new Float32Array(4), W3: new Float32Array(2) },
  last: null,
  trainSeconds: 0,
});

/** Answers an ensemble with a window per even index, a failure per odd one (or fails whole). */
class FakeWorker implements PoolWorkerLike {
  onmessage: ((e: MessageEvent<PoolEvent>) => void) | null = null;
  onerror: ((e: ErrorEvent) => void) | null = null;
  constructor(private readonly gpuFails: boolean) {}
  private emit(e: PoolEvent): void {
    setTimeout(() => this.onmessage?.({ data: e } as MessageEvent));
  }
  postMessage(m: unknown): void {
    const cmd = m as PoolCommand;
    if (cmd.type === 'init') this.emit({ type: 'ready', backend: 'fake', dataset: 'fake' });
    if (cmd.type !== 'job') return;
    const { id, task } = cmd;
    if (task.type === 'ensemble') {
      const [first, ...rest] = task.runs;
      this.emit({ type: 'ensembleWindow', id, index: first.index, window: window(first.index) });
      if (this.gpuFails) {
        const { weights } = window(1);
        const point = { epoch: 3, step: 120, weights, trainErrors: [0.3, 0.2, 0.1] };
        this.emit({ type: 'ensembleResumePoint', id, index: rest[0].index, point });
        this.emit({ type: 'failed', id, message: 'the WebGPU device was lost', cancelled: false });
        return;
      }
      for (const r of rest)
        this.emit(
          r.index % 2 === 0
            ? { type: 'ensembleWindow', id, index: r.index, window: window(r.index) }
            : { type: 'ensembleRunFailed', id, index: r.index, message: `run ${r.index} diverged` },
        );
      this.emit({ type: 'ensembleDone', id });
    } else if (task.type === 'analyse') {
      const result = { kind: 'mlp', summary: { snapshots: task.window.count } };
      this.emit({ type: 'done', id, result: result as unknown as UniversalityResult });
    }
  }
  terminate(): void {}
}

const init: Extract<PoolCommand, { type: 'init' }> = {
  type: 'init',
  data: { kind: 'embedded', url: 'x' },
  wasmPaths: {},
};
const runs = [2, 3, 4].map((index) => ({ index, config: {} as RunConfig }));

describe('WorkerPool: ensemble jobs', () => {
  it('hands each run out as it comes, then the job’s outcome; analyses are plain jobs', async () => {
    const pool = new WorkerPool({ size: 2, spawn: () => new FakeWorker(false), init });
    const seen: string[] = [];
    const analyses: Promise<unknown>[] = [];
    const o = await pool.submitEnsemble({ type: 'ensemble', runs, total: 5 }, (e) => {
      seen.push(`${e.type} ${e.index}`);
      if (e.type === 'ensembleWindow')
        analyses.push(
          pool.submit({
            type: 'analyse',
            index: e.index,
            total: 5,
            config: {} as RunConfig,
            window: e.window,
          }),
        );
    });
    expect(o).toEqual({ ok: true, result: null });
    expect(seen).toEqual(['ensembleWindow 2', 'ensembleRunFailed 3', 'ensembleWindow 4']);
    expect(await Promise.all(analyses)).toEqual([
      { ok: true, result: { kind: 'mlp', summary: { snapshots: 2 } } },
      { ok: true, result: { kind: 'mlp', summary: { snapshots: 4 } } },
    ]);
    pool.dispose();
  });

  it('a failed ensemble is not a cancel; its runs and their checkpoints came first', async () => {
    const pool = new WorkerPool({ size: 1, spawn: () => new FakeWorker(true), init });
    const seen: EnsembleMemberEvent[] = [];
    const o = await pool.submitEnsemble({ type: 'ensemble', runs, total: 5 }, (e) => seen.push(e));
    expect(o).toEqual({ ok: false, error: 'the WebGPU device was lost', cancelled: false });
    expect(seen.map((e) => `${e.type} ${e.index}`)).toEqual([
      'ensembleWindow 2',
      'ensembleResumePoint 3',
    ]);
    const point = seen[1].type === 'ensembleResumePoint' ? seen[1].point : null;
    expect(point && [point.epoch, point.step, point.trainErrors]).toEqual([
      3,
      120,
      [0.3, 0.2, 0.1],
    ]);
    pool.dispose();
  });
});
