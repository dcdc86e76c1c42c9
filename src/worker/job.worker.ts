/// <reference lib="webworker" />
/**
 * One job worker of the page's pool (src/ui/workerPool.ts, issue 13): loads a backend and one
 * copy of the data set once, then runs what the pool sends, one job at a time, through the
 * engine's job function `runJob` — the function the CLI's worker threads and the serial sweeps
 * call — so a run's numbers do not depend on which worker, or how many, made it.
 *
 * A section-6 forgetting seed arrives as its config and seed, and streams the engine's events
 * while it runs (src/ui/poolForgetting.ts shows them).
 *
 * A section-7 run arrives as the page plans it (UniversalityRunSpec) and leaves as the page
 * shows it (UniversalityResult): an architecture run keeps its whole result for the overlay,
 * and one that did not train counts as failed, as in the trainer's former sweep loop.
 *
 * Where the page trains on WebGPU, a forgetting seed's task-2 runs may train as one ensemble on
 * this worker's own device (task2Gpu, the engine's task2Choice decides).
 *
 * Where the page trains on WebGPU, a worker may instead get an ensemble of a sweep's runs
 * (jobs/ensemble.ts): it opens its own WebGPU device (tfjs here stays on wasm), trains the runs
 * together on the fused kernel and posts each run's window as it ends; another job ('analyse')
 * turns such a window into the run's result on whichever worker is idle.
 */
import { selectBackend } from '../engine/backend';
import type { Dataset, DataSplit } from '../engine/data/dataset';
import { embeddedBytes, loadEmbeddedDataset } from '../engine/data/embedded';
import { loadIdxDataset } from '../engine/data/idx';
import {
  archDefaults,
  notTrained,
  type ArchConfig,
  type ArchResult,
} from '../engine/experiments/architectures';
import { measureShare } from '../engine/jobs/flatness';
import { splitFingerprint } from '../engine/data/fingerprint';
import {
  JobCache,
  runJob,
  type ForgettingJobEvent,
  type ForgettingJobResult,
  type Task2Gpu,
} from '../engine/jobs/run';
import type { W2EnsembleFactory } from '../engine/forgetting/w2EnsembleKernel';
import { fusedW2Factory } from '../engine/nets/webgpu/fusedW2Ensemble';
import { analyseWindow, runEnsembleJob } from '../engine/jobs/ensemble';
import {
  createFastestFusedTrainer,
  createFusedTrainer,
  type FusedTrainer as FusedKernel,
  type FusedTrainerOptions,
} from '../engine/nets/webgpu/fusedTrainer';
import { ensembleRunStepsPerSecond } from '../engine/experiments/fusedProbe';
import type { FusedRunSpec } from '../engine/nets/webgpu/fusedRuntime';
import {
  checkJobSpec,
  type ArchJobSpec,
  type ForgettingJobSpec,
  type RunJobSpec,
} from '../engine/jobs/spec';
import { runPlan } from '../engine/forgetting/experiment';
import { dataShape } from '../engine/experiments/runChecks';
import { SHARP_THRESHOLD_C } from '../engine/landscape/effectiveDimension';
import type {
  AnalysePoolTask,
  EnsemblePoolTask,
  EnsembleProbeCommand,
  EnsembleProbeEvent,
  ForgettingPoolTask,
  PoolCommand,
  PoolData,
  PoolEvent,
  PoolTask,
  UniversalityResult,
} from '../protocol/messages';
import { TEST_HOOKS, crashSoon, type CrashCommand } from '../protocol/testHooks';
import { yieldToEventLoop } from './yieldToEventLoop';
import { wasmFetcher } from './wasmOnce';
import { openDevice } from './fusedBackend';

declare const self: DedicatedWorkerGlobalScope;

const YIELD_MS = 25;
/** A forgetting job's streamed events go out at most once per this many milliseconds. */
const BATCH_MS = 100;

let data: Dataset | null = null;
/** Its training split's fingerprint, computed for the first flatness share. */
let trainFingerprint: number | null = null;
/** The job in progress: its id and how to abort it. */
let current: { id: number; abort: AbortController } | null = null;
let held = false;
/** Wakes what waits at a hold (an ensemble job has a waiter per run). */
const waiting = new Set<() => void>();
const wake = (): void => {
  for (const w of waiting) w();
  waiting.clear();
};
let lastYield = performance.now();
/** Test builds only: the job in progress ends in an uncaught error at its next step. */
let crashArmed = false;
/** The last forgetting seed's pretraining, task 1 and analysis (runJob's cache). */
const jobCache = new JobCache();

function post(e: PoolEvent | EnsembleProbeEvent): void {
  self.postMessage(e);
}

async function load(d: PoolData): Promise<Dataset> {
  if (d.kind === 'idx') {
    const files = await Promise.all(
      d.files.map(async (f) => ({
        name: f.name,
        bytes: new Uint8Array(await f.data.arrayBuffer()),
      })),
    );
    return loadIdxDataset(files);
  }
  const res = await fetch(d.url);
  if (!res.ok) throw new Error(`could not load the embedded digits (${d.url}: HTTP ${res.status})`);
  return loadEmbeddedDataset(await embeddedBytes(res));
}

/**
 * Yields now and then (so cancel and hold get through), and waits here while held. `force`:
 * yield whatever the time (a job's start, so commands sent with it are read first).
 */
async function checkpoint(signal: AbortSignal, force = false): Promise<void> {
  if (force || performance.now() - lastYield >= YIELD_MS) {
    await yieldToEventLoop();
    lastYield = performance.now();
  }
  if (TEST_HOOKS && crashArmed) {
    crashSoon();
    // The job never finishes: the crash reaches the page while it is in flight.
    await new Promise<never>(() => undefined);
  }
  if (!held) return;
  post({ type: 'held' });
  while (held && !signal.aborted) await new Promise<void>((r) => waiting.add(r));
  signal.throwIfAborted();
}

/** The page's plan entry as an engine job (the sharpness constant at its default, c = 4). */
function jobSpec(task: PoolTask): RunJobSpec | ArchJobSpec {
  const s = task.spec;
  if (s.kind === 'mlp') return { kind: 'run', config: s.config, sharpC: SHARP_THRESHOLD_C };
  const config: ArchConfig = { ...archDefaults(s.arch), ...s.settings, arch: s.arch };
  return { kind: 'arch', config, sharpC: SHARP_THRESHOLD_C };
}

async function run(id: number, task: PoolTask, d: Dataset): Promise<UniversalityResult> {
  const abort = new AbortController();
  current = { id, abort };
  const signal = abort.signal;
  await checkpoint(signal, true);
  const spec = jobSpec(task);
  checkJobSpec(spec, dataShape(d));
  const epochs = spec.config.warmupEpochs + spec.config.windowEpochs;
  let arch: ArchResult | null = null;
  const r = await runJob(spec, d, {
    signal,
    resume: task.resume,
    index: task.index,
    jobs: task.total,
    yieldEvery: () => checkpoint(signal),
    onProgress: (p) =>
      post({
        type: 'progress',
        id,
        progress: { run: task.index, runs: task.total, phase: p.phase, epoch: p.epoch, epochs },
      }),
    onArchResult: (a) => (arch = a),
  });
  if (r.kind === 'forgetting') throw new Error('a sweep run returned a forgetting result');
  if (spec.kind === 'run') return { kind: 'mlp', summary: r.summary };
  const result = arch as ArchResult | null;
  if (!result) throw new Error('the architecture run returned no result');
  // A run that did not train counts as failed: its σ²–F fit would be meaningless.
  const why = notTrained(result.epochs[result.epochs.length - 1]?.trainError ?? NaN);
  if (why) throw new Error(why);
  return { kind: 'arch', config: spec.config, result };
}

/**
 * One seed of the forgetting sweep: the engine's job over the seed's whole plan, its events
 * (phases, task-1 modes, curve points, runs, progress) streamed in batches as the trainer's
 * former sweep loop sent them; phase changes and the mode table go out at once.
 */
async function forgetting(
  id: number,
  task: ForgettingPoolTask,
  d: Dataset,
): Promise<ForgettingJobResult> {
  const abort = new AbortController();
  current = { id, abort };
  const signal = abort.signal;
  await checkpoint(signal, true);
  const spec: ForgettingJobSpec = {
    kind: 'forgetting',
    config: task.config,
    seed: task.seed,
    runs: runPlan(task.config, task.seed),
  };
  checkJobSpec(spec, dataShape(d));
  let batch: ForgettingJobEvent[] = [];
  let last = performance.now();
  const flush = () => {
    if (batch.length) post({ type: 'forgettingEvents', id, events: batch });
    batch = [];
    last = performance.now();
  };
  const r = await runJob(spec, d, {
    signal,
    cache: jobCache,
    yieldEvery: () => checkpoint(signal),
    task2Gpu: await task2GpuFor(task),
    onForgettingEvent: (e) => {
      batch.push(e);
      if (e.type === 'phase' || e.type === 'task1Modes' || performance.now() - last >= BATCH_MS)
        flush();
    },
  });
  flush();
  if (r.kind !== 'forgetting') throw new Error('a forgetting job returned another result');
  return r;
}

/**
 * The GPU a forgetting seed's task-2 runs may train on: this worker's device and the WGSL
 * ensemble; without a device, a factory that fails with the reason (the job then says it and
 * trains on the CPU).
 */
async function task2GpuFor(task: ForgettingPoolTask): Promise<Task2Gpu | undefined> {
  if (!task.task2Gpu) return undefined;
  const forced = task.task2Gpu === 'forced';
  let g: Awaited<ReturnType<typeof gpuDevice>>;
  try {
    g = await gpuDevice();
  } catch (e) {
    const why = errorMessage(e);
    return {
      factory: () => Promise.reject(new Error(why)),
      adapter: 'WebGPU',
      software: false,
      forced,
    };
  }
  let factory: W2EnsembleFactory = fusedW2Factory(g.device);
  const lossAt = task.loseGpuAt;
  if (TEST_HOOKS && lossAt !== undefined) {
    const build = factory;
    factory = async (shared, prox, maxChunk) => {
      const kernel = await build(shared, prox, maxChunk);
      kernel.runChunk = loseDeviceAt(kernel.runChunk.bind(kernel), 1, g.device, lossAt);
      return kernel;
    };
  }
  return { factory, adapter: g.name, software: g.software, forced };
}

/**
 * Test builds: a kernel's `runChunk` that destroys `device` before the first chunk starting at
 * or past step `at`; argument `stepsArg` of a call is its chunk's length.
 */
function loseDeviceAt<A extends unknown[], R>(
  runChunk: (...args: A) => R,
  stepsArg: number,
  device: GPUDevice,
  at: number,
): (...args: A) => R {
  let step = 0;
  return (...args) => {
    if (step >= at) device.destroy();
    step += args[stepsArg] as number;
    return runChunk(...args);
  };
}

/** The ensembles' WebGPU device (this worker's own; tfjs here stays on wasm). */
let gpu: { device: GPUDevice; software: boolean; name: string; lost: boolean } | null = null;

async function gpuDevice(): Promise<{ device: GPUDevice; software: boolean; name: string }> {
  if (gpu && !gpu.lost) return gpu;
  const g = await openDevice();
  const held = { device: g.device, software: g.software, name: g.name, lost: false };
  void g.device.lost.then(() => (held.lost = true));
  gpu = held;
  return held;
}

/** The kernel an ensemble trains on: the faster layout on a hardware adapter, else one workgroup per run. */
async function ensembleKernel(
  g: { device: GPUDevice; software: boolean },
  train: DataSplit,
  specs: FusedRunSpec[],
  opts: FusedTrainerOptions,
): Promise<FusedKernel> {
  return g.software
    ? createFusedTrainer('workgroup', g.device, train, specs, opts)
    : (await createFastestFusedTrainer(g.device, train, specs, opts)).trainer;
}

/**
 * The sweeps' ensemble probe (EnsembleProbeCommand): run-steps/s of `runs` runs on this
 * worker's device and kernel. A fraction of a second on a hardware adapter; on a software one a
 * single chunk of two steps (a chunk of 64 there takes seconds a run).
 */
async function probeEnsemble(runs: number): Promise<EnsembleProbeEvent['measure']> {
  try {
    const g = await gpuDevice();
    const runStepsPerSec = await ensembleRunStepsPerSecond(
      (train, specs, maxChunk) => ensembleKernel(g, train, specs, { maxChunk }),
      runs,
      g.software ? { seconds: 0, maxChunks: 1, K: 2 } : { seconds: 0.25, maxChunks: 64 },
    );
    return { adapter: g.name, software: g.software, runStepsPerSec };
  } catch (e) {
    return { error: errorMessage(e) };
  }
}

/**
 * An ensemble job: the runs train together on the fused kernel (in the faster layout on a
 * hardware adapter; one workgroup per run on a software one, where timing both costs seconds),
 * each run's window posted (its snapshots transferred) as it ends.
 */
async function ensemble(id: number, task: EnsemblePoolTask, d: Dataset): Promise<void> {
  const abort = new AbortController();
  current = { id, abort };
  const signal = abort.signal;
  await checkpoint(signal, true);
  // A run that cannot be run fails alone, with the message its own job would have given.
  const runs = task.runs.filter(({ index, config }) => {
    try {
      checkJobSpec({ kind: 'run', config, sharpC: SHARP_THRESHOLD_C }, dataShape(d));
      return true;
    } catch (e) {
      post({ type: 'ensembleRunFailed', id, index, message: errorMessage(e) });
      return false;
    }
  });
  if (runs.length === 0) {
    post({ type: 'ensembleDone', id });
    return;
  }
  const configs = runs.map((r) => r.config);
  const g = await gpuDevice();
  const build = async (specs: FusedRunSpec[]) => {
    const kernel = await ensembleKernel(g, d.train, specs, { maxChunk: 64, snapshots: true });
    const lossAt = task.loseGpuAt;
    if (TEST_HOOKS && lossAt !== undefined)
      kernel.runChunk = loseDeviceAt(kernel.runChunk.bind(kernel), 0, g.device, lossAt);
    return kernel;
  };
  await runEnsembleJob(configs, d, build, {
    signal,
    yieldEvery: () => checkpoint(signal),
    onProgress: (m, p) =>
      post({
        type: 'progress',
        id,
        progress: {
          run: runs[m].index,
          runs: task.total,
          phase: p.phase,
          epoch: p.epoch,
          epochs: configs[m].warmupEpochs + configs[m].windowEpochs,
        },
      }),
    onWindow: (m, window) =>
      self.postMessage(
        { type: 'ensembleWindow', id, index: runs[m].index, window } satisfies PoolEvent,
        [window.snapshots.buffer],
      ),
    onRunFailed: (m, message) =>
      post({ type: 'ensembleRunFailed', id, index: runs[m].index, message }),
    // Copied, not transferred: the trainer may still hold the weights.
    onResumePoint: (m, point) =>
      post({ type: 'ensembleResumePoint', id, index: runs[m].index, point }),
  });
  post({ type: 'ensembleDone', id });
}

/** A run's analysis from the window an ensemble trained: its summary as a run job gives it. */
async function analyse(id: number, task: AnalysePoolTask, d: Dataset): Promise<UniversalityResult> {
  const abort = new AbortController();
  current = { id, abort };
  const signal = abort.signal;
  await checkpoint(signal, true);
  checkJobSpec({ kind: 'run', config: task.config, sharpC: SHARP_THRESHOLD_C }, dataShape(d));
  const { warmupEpochs, windowEpochs } = task.config;
  const summary = await analyseWindow(
    task.config,
    d,
    task.window,
    {
      signal,
      sharpC: SHARP_THRESHOLD_C,
      onProgress: (p) =>
        post({
          type: 'progress',
          id,
          progress: {
            run: task.index,
            runs: task.total,
            phase: p.phase,
            epoch: p.epoch,
            epochs: warmupEpochs + windowEpochs,
          },
        }),
    },
    task.index,
    task.total,
  );
  return { kind: 'mlp', summary };
}

function errorMessage(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

async function handle(cmd: PoolCommand): Promise<void> {
  switch (cmd.type) {
    case 'init':
      try {
        const backend = await selectBackend({
          // CPU cores are what the pool adds; the trainer may hold the GPU.
          forced: cmd.forcedBackend ?? 'wasm',
          wasmPaths: cmd.wasmPaths,
          wasmFetch: wasmFetcher(Object.values(cmd.wasmPaths)),
        });
        data = await load(cmd.data);
        post({ type: 'ready', backend: backend.name, dataset: data.name });
      } catch (e) {
        post({ type: 'initError', message: e instanceof Error ? e.message : String(e) });
      }
      return;
    case 'job': {
      const d = data;
      try {
        if (!d) throw new Error('the worker has no data set');
        if (cmd.task.type === 'flatness') {
          // Some modes of the analysis worker's flatness search (its loss on this data copy).
          const share = cmd.task.share;
          // Another data set (the reader loaded files since) would give other numbers.
          if (cmd.task.data !== (trainFingerprint ??= splitFingerprint(d.train)))
            throw new Error('this job worker holds another training set than the analysis');
          // Held as a run would be, and read the commands sent with it (a test's crash) first.
          current = { id: cmd.id, abort: new AbortController() };
          await checkpoint(current.abort.signal, true);
          post({ type: 'flatnessDone', id: cmd.id, modes: await measureShare(share, d.train) });
          return;
        }
        if (cmd.task.type === 'forgetting') {
          const result = await forgetting(cmd.id, cmd.task, d);
          post({ type: 'forgettingDone', id: cmd.id, result });
          return;
        }
        if (cmd.task.type === 'ensemble') await ensemble(cmd.id, cmd.task, d);
        else
          post({
            type: 'done',
            id: cmd.id,
            result:
              cmd.task.type === 'analyse'
                ? await analyse(cmd.id, cmd.task, d)
                : await run(cmd.id, cmd.task, d),
          });
      } catch (e) {
        const cancelled = current?.id === cmd.id && current.abort.signal.aborted;
        post({
          type: 'failed',
          id: cmd.id,
          message: e instanceof Error ? e.message : String(e),
          cancelled,
        });
      } finally {
        current = null;
        if (held) post({ type: 'held' });
      }
      return;
    }
    default:
      return;
  }
}

// Jobs run one at a time (the pool sends one per worker); cancel and hold act at once.
let queue: Promise<void> = Promise.resolve();
self.onmessage = (ev: MessageEvent<PoolCommand | CrashCommand | EnsembleProbeCommand>) => {
  const cmd = ev.data;
  switch (cmd.type) {
    case 'ensembleProbe': {
      const runs = cmd.runs;
      queue = queue.then(async () =>
        post({ type: 'ensembleProbed', measure: await probeEnsemble(runs) }),
      );
      return;
    }
    case 'crash':
      // A build without test hooks ignores it.
      if (!TEST_HOOKS) return;
      if (current) crashArmed = true;
      else crashSoon();
      return;
    case 'cancel':
      if (current?.id === cmd.id) {
        current.abort.abort();
        wake();
      }
      return;
    case 'hold':
      held = true;
      if (!current) post({ type: 'held' });
      return;
    case 'release':
      held = false;
      wake();
      return;
    default:
      queue = queue.then(() => handle(cmd));
  }
};
