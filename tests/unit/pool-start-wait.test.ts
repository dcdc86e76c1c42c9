// A sweep on a hardware WebGPU adapter first times its GPU ensemble against the CPU pool
// (poolSweeps.startPoolSweep → chooseEnsembles), and only then starts; meanwhile the start is
// pending, and a cancel, a pause or another start act on it: a cancel ends the sweep at once
// and the probe's late answer starts nothing; a pause starts the sweep held; a second start
// replaces the first. The badge says the ensemble is being timed, then what was chosen and why.
// Driven end to end with a fake global Worker: the probe answers when the test says so, and the
// pool's job workers answer every job at once.
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { DEFAULT_CONFIG } from '../../src/engine/experiments/config';
import type { RunConfig } from '../../src/engine/experiments/config';
import type { PoolCommand, PoolEvent, UniversalityRunSpec } from '../../src/protocol/messages';

type Job = Extract<PoolCommand, { type: 'job' }>;
type Task = Job['task'];

/** The probes asked for, each answered when the test calls `answer`. */
let probes: { runs: number; answer: (runStepsPerSecPerRun: number) => void }[];
/** The pool's job workers (those sent an 'init'), and every job they were given, in order. */
let jobWorkers: FakeWorker[];
let tasks: Task[];

/** As a worker's messages arrive: after the sender's turn. */
const later = (f: () => void) => setTimeout(f);

class FakeWorker {
  onmessage: ((e: { data: unknown }) => void) | null = null;
  onerror: ((e: unknown) => void) | null = null;
  ready = false;
  terminated = false;
  private readonly running = new Set<number>();

  private send(e: PoolEvent): void {
    later(() => {
      if (this.terminated) return;
      if ('id' in e && (e.type === 'done' || e.type === 'failed' || e.type === 'ensembleDone'))
        this.running.delete(e.id);
      this.onmessage?.({ data: e });
    });
  }

  postMessage(m: PoolCommand | { type: 'ensembleProbe'; runs: number }): void {
    switch (m.type) {
      case 'ensembleProbe':
        probes.push({
          runs: m.runs,
          answer: (rate) =>
            this.onmessage?.({
              data: {
                type: 'ensembleProbed',
                measure: { adapter: 'gpu', software: false, runStepsPerSec: rate * m.runs },
              },
            }),
        });
        return;
      case 'init':
        jobWorkers.push(this);
        later(() => {
          this.ready = true;
          this.onmessage?.({ data: { type: 'ready', backend: 'fake', dataset: 'fake' } });
        });
        return;
      case 'hold':
        this.send({ type: 'held' });
        return;
      case 'cancel':
        if (this.running.has(m.id))
          this.send({ type: 'failed', id: m.id, message: 'cancelled', cancelled: true });
        return;
      case 'job':
        tasks.push(m.task);
        this.running.add(m.id);
        this.answer(m);
        return;
    }
  }

  /** A run's result names its width, so a test can tell which sweep it came from. */
  private answer({ id, task }: Job): void {
    const result = (hidden: number, index: number) =>
      ({ kind: 'mlp', summary: { hidden, index } }) as unknown as Extract<
        PoolEvent,
        { type: 'done' }
      >['result'];
    if (task.type === 'sweepRun' && task.spec.kind === 'mlp')
      this.send({ type: 'done', id, result: result(task.spec.config.hidden, task.index) });
    else if (task.type === 'analyse')
      this.send({ type: 'done', id, result: result(task.config.hidden, task.index) });
    else if (task.type === 'ensemble') {
      for (const r of task.runs)
        this.send({
          type: 'ensembleWindow',
          id,
          index: r.index,
          window: { count: 1 } as Extract<PoolEvent, { type: 'ensembleWindow' }>['window'],
        });
      this.send({ type: 'ensembleDone', id });
    }
  }

  terminate(): void {
    this.terminated = true;
  }
}

/** What a task trains: its runs' plan indices and widths ("ensemble 0,1,2 h 10"). */
function describeTask(t: Task): string {
  if (t.type === 'sweepRun')
    return `run ${t.index} h ${t.spec.kind === 'mlp' ? t.spec.config.hidden : '?'}`;
  if (t.type === 'analyse') return `analyse ${t.index} h ${t.config.hidden}`;
  if (t.type === 'ensemble')
    return `ensemble ${t.runs.map((r) => r.index).join(',')} h ${t.runs[0].config.hidden}`;
  return t.type;
}

const items = (n: number, hidden: number): { spec: UniversalityRunSpec; label: string }[] =>
  Array.from({ length: n }, (_, i) => ({
    spec: {
      kind: 'mlp',
      config: { ...DEFAULT_CONFIG, hidden, lr: 0.05 * (i + 1), contrast: false } as RunConfig,
    },
    label: `h ${hidden}, α ${0.05 * (i + 1)}`,
  }));

/** Every callback a settled promise queued has run (the fakes answer the probe synchronously). */
const drained = () => new Promise<void>((r) => setImmediate(r));

const WAIT = { timeout: 60_000 };
const TIMING = 'timing the GPU ensemble against the CPU pool';
/** Per run, what the probe answers: the ensemble far faster or far slower than the pool. */
const FAST = 50_000;
const SLOW = 10;

// Fresh modules for each test: the probe's cache, the pool and the stores start empty.
let sweeps: typeof import('../../src/ui/poolSweeps');
let store: typeof import('../../src/state/universalityStore');
let usePool: (typeof import('../../src/ui/poolStore'))['usePool'];

beforeEach(async () => {
  vi.resetModules();
  probes = [];
  jobWorkers = [];
  tasks = [];
  vi.stubGlobal('Worker', FakeWorker);
  // The pool's init names the data and wasm by absolute URL (the page's base).
  vi.stubGlobal('document', { baseURI: 'http://localhost/' });
  // Four cores, whatever this machine has: the pool's size and the CPU side of the choice.
  vi.stubGlobal('navigator', { hardwareConcurrency: 4 });
  sweeps = await import('../../src/ui/poolSweeps');
  store = await import('../../src/state/universalityStore');
  usePool = (await import('../../src/ui/poolStore')).usePool;
  const { useRun } = await import('../../src/state/runStore');
  // A hardware adapter whose fused step was timed: an unforced sweep weighs its ensembles.
  useRun.setState({
    backend: {
      name: 'webgpu',
      reason: '',
      skipped: [],
      fusedProbe: { adapter: 'gpu', fused: 3_000, cpu: 2_000, cpuName: 'wasm' },
    },
  });
});

afterEach(() => {
  sweeps.disposePagePool();
  vi.unstubAllGlobals();
});

/** Plans `n` runs of width `hidden` as sweep `mode` and starts them the way the page does. */
function start(mode: 'optimizers' | 'widths', n: number, hidden: number): void {
  const todo = store.beginUniversality(mode, items(n, hidden));
  const total = store.useUniversality.getState()[mode].plan.length;
  const setup = sweeps.poolSetup(todo, null);
  expect(setup.weigh).toBeDefined();
  sweeps.startPoolSweep(mode, todo, total, setup);
}

const widths = () => store.useUniversality.getState().widths;

describe('a sweep waiting for its GPU ensemble to be timed', () => {
  it('cancelled meanwhile, ends at once; the probe’s late answer starts nothing', async () => {
    start('widths', 3, 10);
    expect(probes.map((p) => p.runs)).toEqual([3]);
    expect(sweeps.poolSweepRunning()).toBe(true);
    expect(usePool.getState().gpu).toBe(TIMING);
    expect(widths().status).toBe('running');

    sweeps.cancelPoolSweep('Stopped: a training run was started.');
    expect(widths().status).toBe('cancelled');
    expect(widths().message).toBe('Stopped: a training run was started.');
    expect(store.useUniversality.getState().active).toBeNull();
    expect(sweeps.poolSweepRunning()).toBe(false);
    expect(usePool.getState().gpu).toBeNull();

    probes[0].answer(FAST);
    await drained();
    expect(jobWorkers).toEqual([]);
    expect(tasks).toEqual([]);
    expect(widths().status).toBe('cancelled');
    expect(usePool.getState()).toMatchObject({ size: 0, busy: 0, gpu: null });
    expect(sweeps.poolSweepRunning()).toBe(false);
  });

  it('paused meanwhile, starts held once timed: nothing runs until it is resumed', async () => {
    start('widths', 3, 10);
    // As the page's client does: the store says 'pausing' until the pool holds.
    store.setUniversalityStatus('pausing');
    sweeps.pausePoolSweep();
    expect(widths().status).toBe('pausing');

    probes[0].answer(SLOW);
    await vi.waitFor(() => expect(widths().status).toBe('paused'), WAIT);
    // The pool's three workers are up and idle, and were given nothing.
    await vi.waitFor(() => {
      expect(jobWorkers).toHaveLength(3);
      expect(jobWorkers.every((w) => w.ready)).toBe(true);
    }, WAIT);
    await drained();
    expect(tasks).toEqual([]);
    expect(widths().status).toBe('paused');

    store.setUniversalityStatus('running');
    sweeps.resumePoolSweep();
    await vi.waitFor(() => expect(widths().status).toBe('done'), WAIT);
    // The pool was faster: every run trained on it, one job each.
    expect(tasks.map(describeTask).sort()).toEqual(['run 0 h 10', 'run 1 h 10', 'run 2 h 10']);
    expect(widths().message).toBe('Done: 3 runs.');
    expect(widths().plan.every((p) => p.result)).toBe(true);
  });

  it('paused and resumed meanwhile, starts running', async () => {
    start('widths', 2, 10);
    store.setUniversalityStatus('pausing');
    sweeps.pausePoolSweep();
    store.setUniversalityStatus('running');
    sweeps.resumePoolSweep();
    probes[0].answer(SLOW);
    await vi.waitFor(() => expect(widths().status).toBe('done'), WAIT);
    expect(tasks.map(describeTask).sort()).toEqual(['run 0 h 10', 'run 1 h 10']);
  });

  it('a second start meanwhile replaces the first: only its runs are trained', async () => {
    start('optimizers', 2, 10);
    start('widths', 3, 20);
    expect(probes.map((p) => p.runs)).toEqual([2, 3]);
    // The first sweep's probe answers while the second still waits: it starts nothing.
    probes[0].answer(SLOW);
    await drained();
    expect(jobWorkers).toEqual([]);
    expect(usePool.getState().gpu).toBe(TIMING);
    expect(sweeps.poolSweepRunning()).toBe(true);

    probes[1].answer(SLOW);
    await vi.waitFor(() => expect(widths().status).toBe('done'), WAIT);
    expect(tasks.map(describeTask).sort()).toEqual(['run 0 h 20', 'run 1 h 20', 'run 2 h 20']);
    expect(widths().runs.map((r) => (r as unknown as { hidden: number }).hidden)).toEqual([
      20, 20, 20,
    ]);
  });

  it('the badge says the ensemble is being timed, then what was chosen and why', async () => {
    start('widths', 3, 10);
    expect(usePool.getState().gpu).toBe(TIMING);
    probes[0].answer(FAST);
    await vi.waitFor(() => expect(usePool.getState().gpu).not.toBe(TIMING), WAIT);
    // Four cores leave three workers for the pool; each would take one of the three runs.
    expect(usePool.getState().gpu).toBe(
      '3 runs train as one fused ensemble on the GPU; the GPU ensemble is faster: 3 runs at 150,000 run-steps/s on the GPU ensemble (gpu) against 3 workers × 2,000 steps/s on the CPU (wasm)',
    );
    await vi.waitFor(() => expect(widths().status).toBe('done'), WAIT);
    // One ensemble job for the three runs, then each run's analysis as a job of its own.
    expect(tasks.map(describeTask)).toEqual([
      'ensemble 0,1,2 h 10',
      'analyse 0 h 10',
      'analyse 1 h 10',
      'analyse 2 h 10',
    ]);

    // The pool measured faster: the badge says every run went to it, and why.
    start('widths', 2, 30);
    expect(usePool.getState().gpu).toBe(TIMING);
    probes[1].answer(SLOW);
    await vi.waitFor(() => expect(usePool.getState().gpu).not.toBe(TIMING), WAIT);
    // Two runs use two of the three workers.
    expect(usePool.getState().gpu).toBe(
      '2 runs train on the CPU pool; the CPU pool is faster: 2 workers × 2,000 steps/s on the CPU (wasm) = 4,000 run-steps/s against 2 runs at 20 run-steps/s on the GPU ensemble (gpu)',
    );
    await vi.waitFor(() => expect(widths().status).toBe('done'), WAIT);
  });
});
