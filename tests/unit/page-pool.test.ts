// The page's pool of job workers (src/ui/workerPool.ts, issue 13), driven by in-process fake
// workers that speak the pool protocol: jobs spread over the workers and come back in job
// order; a crashed worker is replaced and its job re-queued once, then reported failed, with
// nothing else lost; cancel, hold and a pool that cannot start. Also the pool's size (cores,
// the link's workers=, the memory budget) and the `workers=` URL key.
import { describe, expect, it } from 'vitest';
import { WorkerPool, type Outcome, type PoolWorkerLike } from '../../src/ui/workerPool';
import { POOL_MEMORY_BUDGET, WORKER_BASE_BYTES, poolSizing } from '../../src/ui/poolSize';
import { parseUrl } from '../../src/state/configSchema';
import { quickConfig } from '../../src/state/universalityPlans';
import { DEFAULT_CONFIG } from '../../src/engine/experiments/config';
import { estimateRunCost, inLongestFirstOrder } from '../../src/engine/jobs/cost';
import type {
  PoolCommand,
  PoolEvent,
  PoolTask,
  UniversalityResult,
} from '../../src/protocol/messages';

/** What the fakes did, across all of them. */
interface Log {
  started: number;
  running: number;
  maxRunning: number;
  ran: number[];
  /** Job indices in the order the workers started them. */
  begun: number[];
}

/**
 * A fake job worker: 'init' → ready (or initError), a job takes `ticks` macrotasks and returns
 * its index × 10; 'crash' makes the running job's worker throw; 'hold' stops it at its next tick.
 */
class FakeWorker implements PoolWorkerLike {
  onmessage: ((e: MessageEvent<PoolEvent>) => void) | null = null;
  onerror: ((e: ErrorEvent) => void) | null = null;
  private dead = false;
  private held = false;
  private wake: (() => void) | null = null;
  private job: { id: number; aborted: boolean; crash: boolean } | null = null;

  constructor(
    private readonly log: Log,
    private readonly failInit = false,
  ) {}

  private emit(e: PoolEvent): void {
    if (!this.dead) setTimeout(() => !this.dead && this.onmessage?.({ data: e } as MessageEvent));
  }

  postMessage(m: unknown): void {
    const cmd = m as PoolCommand | { type: 'crash' };
    switch (cmd.type) {
      case 'init':
        this.log.started++;
        this.emit(
          this.failInit
            ? { type: 'initError', message: 'no backend' }
            : { type: 'ready', backend: 'fake', dataset: 'fake' },
        );
        return;
      case 'job':
        if (cmd.task.type === 'sweepRun') void this.run(cmd.id, cmd.task);
        return;
      case 'crash':
        if (this.job) this.job.crash = true;
        return;
      case 'cancel':
        if (this.job?.id === cmd.id) this.job.aborted = true;
        this.wake?.();
        return;
      case 'hold':
        this.held = true;
        if (!this.job) this.emit({ type: 'held' });
        return;
      case 'release':
        this.held = false;
        this.wake?.();
        return;
    }
  }

  private async run(id: number, task: PoolTask): Promise<void> {
    const job = { id, aborted: false, crash: false };
    this.job = job;
    this.log.begun.push(task.index);
    this.log.running++;
    this.log.maxRunning = Math.max(this.log.maxRunning, this.log.running);
    const ticks = 2 + (task.index % 3);
    try {
      for (let t = 0; t < ticks; t++) {
        await new Promise((r) => setTimeout(r));
        if (this.dead) return;
        if (job.crash) {
          this.dead = true;
          this.onerror?.({ message: 'deliberate crash', preventDefault() {} } as ErrorEvent);
          return;
        }
        if (this.held) {
          this.emit({ type: 'held' });
          while (this.held && !job.aborted) await new Promise<void>((r) => (this.wake = r));
        }
        if (job.aborted) {
          this.emit({ type: 'failed', id, message: 'aborted', cancelled: true });
          return;
        }
        this.emit({
          type: 'progress',
          id,
          progress: { run: task.index, runs: task.total, phase: 'warmup', epoch: t, epochs: ticks },
        });
      }
      this.log.ran.push(task.index);
      const result = { kind: 'mlp', summary: { hidden: task.index * 10 } };
      this.emit({ type: 'done', id, result: result as unknown as UniversalityResult });
    } finally {
      this.log.running--;
      this.job = null;
    }
  }

  terminate(): void {
    this.dead = true;
  }
}

const init: Extract<PoolCommand, { type: 'init' }> = {
  type: 'init',
  data: { kind: 'embedded', url: 'data' },
  wasmPaths: {},
};

function makePool(size: number, failInit = false) {
  const log: Log = { started: 0, running: 0, maxRunning: 0, ran: [], begun: [] };
  const pool = new WorkerPool({
    size,
    spawn: () => new FakeWorker(log, failInit),
    init,
    crashMessage: { type: 'crash' },
  });
  return { pool, log };
}

const tasks = (n: number): PoolTask[] =>
  Array.from({ length: n }, (_, index) => ({
    type: 'sweepRun',
    spec: { kind: 'mlp', config: {} } as PoolTask['spec'],
    index,
    total: n,
  }));

const hidden = (o: Outcome) =>
  o.ok ? (o.result as unknown as { summary: { hidden: number } }).summary.hidden : o.error;

describe('the page pool', () => {
  it('spreads jobs over the workers and returns the outcomes in job order', async () => {
    const { pool, log } = makePool(3);
    const progress: number[] = [];
    const out = await pool.runAll(tasks(8), (p) => progress.push(p.run));
    expect(out.map(hidden)).toEqual([0, 10, 20, 30, 40, 50, 60, 70]);
    expect(log.maxRunning).toBe(3);
    expect(new Set(progress)).toEqual(new Set([0, 1, 2, 3, 4, 5, 6, 7]));
    pool.dispose();
  });

  it('starts the costliest job first and still reports each outcome at its plan index', async () => {
    // The page's width sweep h = 10, 20, 30, 50 (its sweep settings): longest-first starts
    // h = 50, then 30, 20, 10 (cost.ts); a job's outcome depends only on its task.
    const widths = [10, 20, 30, 50];
    const specs = tasks(4).map((t, i) => ({
      ...t,
      spec: { kind: 'mlp', config: { ...quickConfig(DEFAULT_CONFIG), hidden: widths[i] } },
    })) as PoolTask[];
    const order = inLongestFirstOrder(specs, (t) =>
      t.type === 'sweepRun' && t.spec.kind === 'mlp' ? estimateRunCost(t.spec.config) : null,
    );
    expect(order.map((t) => (t as { index: number }).index)).toEqual([3, 2, 1, 0]);
    const planned = makePool(1);
    const inPlan = await planned.pool.runAll(specs);
    planned.pool.dispose();
    const { pool, log } = makePool(1);
    const byIndex: Outcome[] = [];
    await Promise.all(
      order.map((t) => {
        const index = (t as { index: number }).index;
        return pool.submit(t).then((o) => (byIndex[index] = o));
      }),
    );
    expect(log.begun).toEqual([3, 2, 1, 0]);
    expect(byIndex.map(hidden)).toEqual([0, 10, 20, 30]);
    expect(byIndex).toEqual(inPlan);
    pool.dispose();
  });

  it('replaces a crashed worker and re-queues its job once; the sweep loses nothing', async () => {
    const { pool, log } = makePool(2);
    pool.armCrashes(1);
    const out = await pool.runAll(tasks(5));
    expect(out.map(hidden)).toEqual([0, 10, 20, 30, 40]);
    expect(pool.stats).toEqual({ replaced: 1, requeued: 1 });
    expect(log.started).toBe(3);
    pool.dispose();
  });

  it('reports a job whose worker crashed twice as failed, and runs the others', async () => {
    const { pool } = makePool(1);
    pool.armCrashes(2);
    const out = await pool.runAll(tasks(3));
    expect(out.map(hidden)).toEqual([
      expect.stringMatching(/^its worker crashed twice \(last: deliberate crash\)$/),
      10,
      20,
    ]);
    expect(out[0]).toMatchObject({ ok: false, cancelled: false });
    expect(pool.stats).toEqual({ replaced: 2, requeued: 1 });
    pool.dispose();
  });

  it('cancel drops the queued jobs and aborts the running ones', async () => {
    const { pool, log } = makePool(2);
    const all = pool.runAll(tasks(6));
    // Once two jobs run, cancel everything.
    await new Promise<void>((r) => {
      const poll = () => (log.running === 2 ? r() : setTimeout(poll));
      poll();
    });
    pool.cancelAll();
    const out = await all;
    expect(out.every((o) => !o.ok && o.cancelled)).toBe(true);
    expect(log.ran).toEqual([]);
    pool.dispose();
  });

  it('hold stops every worker at its next step and dispatches nothing until release', async () => {
    const { pool, log } = makePool(2);
    const all = pool.runAll(tasks(4));
    await new Promise<void>((r) => {
      const poll = () => (log.running === 2 ? r() : setTimeout(poll));
      poll();
    });
    await new Promise<void>((r) => pool.hold(r));
    const ranWhenHeld = log.ran.length;
    // Many macrotasks later, nothing has moved.
    for (let i = 0; i < 20; i++) await new Promise((r) => setTimeout(r));
    expect(log.ran.length).toBe(ranWhenHeld);
    expect(log.running).toBe(2);
    pool.release();
    expect((await all).map(hidden)).toEqual([0, 10, 20, 30]);
    pool.dispose();
  });

  it('a pool whose workers cannot start fails its jobs with the reason', async () => {
    const { pool } = makePool(2, true);
    const out = await pool.runAll(tasks(2));
    for (const o of out) expect(hidden(o)).toMatch(/workers cannot start \(no backend\)/);
    expect(pool.disposed).toBe(true);
  });

  it('dispose reports what was queued or running as cancelled', async () => {
    const { pool } = makePool(1);
    const all = pool.runAll(tasks(3));
    pool.dispose('the page was left');
    const out = await all;
    expect(out.every((o) => !o.ok && o.cancelled && o.error === 'the page was left')).toBe(true);
  });
});

describe('pool size', () => {
  const run = 100 * 2 ** 20;
  it('is the cores minus one, at least one, unless the link says', () => {
    expect(poolSizing(8, null, run).size).toBe(7);
    expect(poolSizing(2, null, run).size).toBe(1);
    expect(poolSizing(1, null, run).size).toBe(1);
    expect(poolSizing(undefined, null, run).size).toBe(1);
    // 64 cores: 16 at most, and here the budget allows fewer (2 GB / (128 + 100) MB).
    expect(poolSizing(64, null, run).size).toBe(8);
    expect(poolSizing(64, null, 0).size).toBe(16);
    expect(poolSizing(2, 4, run)).toMatchObject({ size: 4, reason: /workers=4 in the link/ });
  });

  it('is capped by the memory budget', () => {
    const big = 2 ** 30;
    const s = poolSizing(16, null, big);
    expect(s.perWorkerBytes).toBe(WORKER_BASE_BYTES + big);
    expect(s.size).toBe(Math.floor(POOL_MEMORY_BUDGET / (WORKER_BASE_BYTES + big)));
    expect(s.size).toBe(1);
    expect(s.reason).toMatch(/capped at 1 by the 2,048 MB memory budget \(≈ 1,152 MB a worker\)/);
  });

  it('workers= in the link: 1…16, anything else refused with a notice', () => {
    expect(parseUrl('?workers=4').workers).toBe(4);
    expect(parseUrl('?workers=16').notices).toEqual([]);
    expect(parseUrl('').workers).toBeNull();
    for (const [raw, why] of [
      ['0', 'out of range 1–16'],
      ['17', 'out of range 1–16'],
      ['2.5', 'must be a whole number'],
      ['-1', 'not a plain decimal number'],
      ['lots', 'not a plain decimal number'],
    ]) {
      const p = parseUrl(`?workers=${raw}`);
      expect(p.workers).toBeNull();
      expect(p.notices).toEqual([
        `workers=${raw} (job workers for sweeps): ${why}; using the cores minus one`,
      ]);
    }
    expect(parseUrl('?workers=2&workers=3').notices).toEqual([
      'workers appears 2 times in the link; using the default',
    ]);
  });
});
