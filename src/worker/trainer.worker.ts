/// <reference lib="webworker" />
/**
 * The trainer worker: owns the backend and the data, drives the training experiment
 * (src/engine/experiments/training.ts) and streams W2 snapshots to the analysis worker over a
 * MessageChannel. The UI thread gets only decimated curves and progress. TensorFlow.js loads
 * only when something here needs it (tfLazy.ts): the default run trains on the WebAssembly SIMD
 * kernel or the fused WebGPU trainer without it.
 */
import type { Dataset } from '../engine/data/dataset';
import { embeddedBytes, loadEmbeddedDataset } from '../engine/data/embedded';
import { IdxError, loadIdxDataset } from '../engine/data/idx';
import type { RunConfig } from '../engine/experiments/config';
import { trainingRun, type LiveControls, type TrainingEvent } from '../engine/experiments/training';
import { cloneWeights, initMlp } from '../engine/nets/mlp';
import type { NoiseShapingLoop } from './noiseShapingLoop';
import { taskSamples } from './taskSamples';
import { WORKER_NETS, tfSide } from './tfLazy';
import type {
  AnalysisFeed,
  DatasetInfo,
  Progress,
  ResumePoint,
  TrainerCommand,
  TrainerEvent,
} from '../protocol/messages';
import {
  TEST_HOOKS,
  crashSoon,
  type CrashCommand,
  type LoseGpuCommand,
} from '../protocol/testHooks';
import { chooseTrainerBackend, fusedTrainerFor, loseGpuAt } from './fusedBackend';
import { yieldToEventLoop } from './yieldToEventLoop';
import { wasmFetcher } from './wasmOnce';

declare const self: DedicatedWorkerGlobalScope;

const SNAPSHOT_BATCH = 32;
const PROGRESS_MS = 200;
const MINIBATCH_POINTS_PER_EPOCH = 20;
const YIELD_MS = 25;

let dataset: Dataset | null = null;
let embedded: Dataset | null = null;
let analysis: MessagePort | null = null;
let run: RunLoop | null = null;
/** Noise shaping (SI §S9); never at the same time as another experiment. */
let noiseShaping: NoiseShapingLoop | null = null;

async function stopNoiseShaping(reason: string): Promise<void> {
  const n = noiseShaping;
  if (!n) return;
  noiseShaping = null;
  n.cancel(reason);
  await n.finished;
}

function post(e: TrainerEvent): void {
  self.postMessage(e);
}

function feed(msg: AnalysisFeed, transfer: Transferable[] = []): void {
  analysis?.postMessage(msg, transfer);
}

function describe(d: Dataset): DatasetInfo {
  const classCounts = new Array<number>(10).fill(0);
  for (let i = 0; i < d.train.count; i++) classCounts[d.train.labels[i]]++;
  return {
    name: d.name,
    source: d.source,
    trainCount: d.train.count,
    testCount: d.test.count,
    classCounts,
  };
}

function adoptDataset(d: Dataset): void {
  dataset = d;
  post({ type: 'dataset', info: describe(d) });
  // A copy travels to the analysis worker (the full-set loss needs the training images).
  const images = d.train.images.slice();
  const labels = d.train.labels.slice();
  feed({ type: 'dataset', images, labels, count: d.train.count }, [images.buffer, labels.buffer]);
}

/** One training run: pulls events from the experiment generator, honouring pause and step N. */
class RunLoop {
  private readonly gen: AsyncGenerator<TrainingEvent, void, void>;
  private readonly config: RunConfig;
  private controls: LiveControls = {};
  private paused = false;
  private stepsAllowed = Infinity;
  private wake: (() => void) | null = null;
  private stopped = false;
  private ended = false;
  /** Past the SGD window's start: no more checkpoint copies for the page. */
  private inWindow = false;
  private snapBuf: Float32Array | null = null;
  private snapCount = 0;
  private snapFirst = 0;
  private snapRun: 'sgd' | 'langevin' = 'sgd';
  private lossSum = 0;
  private lossN = 0;
  private lossPoints: { step: number; loss: number }[] = [];
  private rateSteps = 0;
  private rateT0 = performance.now();
  private stepsPerSecond = 0;
  private lastProgress = 0;
  private lastStep = 0;
  private readonly pointEvery: number;
  private epoch = 0;
  private totalEpochsGuess: number;
  private impl: string | null = null;
  private note: string | undefined;

  constructor(config: RunConfig, data: Dataset, resume?: ResumePoint) {
    this.config = config;
    this.totalEpochsGuess = config.warmupEpochs + config.windowEpochs;
    if (resume) {
      this.epoch = resume.checkpoint.epoch;
      this.lastStep = resume.checkpoint.step;
      this.controls = { ...resume.controls };
    }
    this.pointEvery = Math.max(
      1,
      Math.floor(Math.floor(data.train.count / config.batchSize) / MINIBATCH_POINTS_PER_EPOCH),
    );
    this.gen = trainingRun(config, data, {
      initial: resume?.checkpoint.weights ?? initMlp(config.hidden, config.seed),
      resume: resume && {
        epoch: resume.checkpoint.epoch,
        step: resume.checkpoint.step,
        trainErrors: resume.trainErrors,
      },
      controls: () => this.controls,
      nets: WORKER_NETS,
      onNet: (impl) => {
        this.impl = impl;
        post({ type: 'net', impl, note: this.note });
      },
      trainer: fusedTrainerFor(config, data, {
        onNote: (note, impl) => {
          this.note = note;
          if (impl) this.impl = impl;
          if (this.impl) post({ type: 'net', impl: this.impl, note });
        },
      }),
    });
  }

  set(c: LiveControls): void {
    this.controls = { ...this.controls, ...c };
  }

  pause(): void {
    this.paused = true;
    this.stepsAllowed = Infinity;
  }

  resume(): void {
    this.paused = false;
    this.stepsAllowed = Infinity;
    this.wake?.();
  }

  stepN(n: number): void {
    this.paused = false;
    this.stepsAllowed = n;
    this.wake?.();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.wake?.();
    await this.gen.return();
  }

  async loop(): Promise<void> {
    post({ type: 'state', state: 'training' });
    let lastYield = performance.now();
    while (!this.stopped) {
      if (this.paused || this.stepsAllowed <= 0) {
        this.flushPoints();
        this.postProgress('warmup', true);
        post({ type: 'state', state: 'idle' });
        await new Promise<void>((r) => (this.wake = r));
        this.wake = null;
        if (this.stopped) return;
        post({ type: 'state', state: 'training' });
        this.rateT0 = performance.now();
        this.rateSteps = 0;
      }
      const { value: e, done } = await this.gen.next();
      if (done || this.stopped) break;
      this.handle(e);
      if (e.type === 'done' || e.type === 'diverged') break;
      const now = performance.now();
      if (now - lastYield > YIELD_MS) {
        await yieldToEventLoop();
        lastYield = performance.now();
      }
    }
    this.flushPoints();
    this.ended = true;
    if (!this.stopped) post({ type: 'state', state: 'done' });
  }

  /** Still training (or paused): not finished and not stopped. */
  get active(): boolean {
    return !this.ended && !this.stopped;
  }

  private handle(e: TrainingEvent): void {
    switch (e.type) {
      case 'step': {
        this.stepsAllowed--;
        this.rateSteps++;
        this.lossSum += e.loss;
        this.lossN++;
        if (e.epoch >= 0) this.epoch = e.epoch;
        if (e.w2)
          this.pushSnapshot(e.step, e.w2, e.phase === 'langevin-window' ? 'langevin' : 'sgd');
        this.lastStep = e.step;
        // One point per ~1/20 epoch (the mean over those steps), however fast the steps run;
        // the points travel with the progress messages.
        if (this.lossN >= this.pointEvery) this.closePoint();
        const now = performance.now();
        if (now - this.lastProgress > PROGRESS_MS) this.postProgress(e.phase, false, e.step);
        return;
      }
      case 'epoch':
        this.flushPoints();
        post({ type: 'epoch', record: e.record });
        return;
      case 'checkpoint': {
        const w = e.weights;
        // The page's copy outlives this worker: a crash later in the run resumes from it. Only
        // the warm-up's are needed (a run resumes at the latest from the window's start).
        if (!this.inWindow) {
          const copy = cloneWeights(w);
          self.postMessage(
            {
              type: 'checkpoint',
              checkpoint: { epoch: e.epoch, step: e.step, weights: copy },
            } satisfies TrainerEvent,
            [copy.W1.buffer, copy.W2.buffer, copy.W3.buffer],
          );
        }
        feed({ type: 'checkpoint', epoch: e.epoch, step: e.step, weights: w }, [
          w.W1.buffer,
          w.W2.buffer,
          w.W3.buffer,
        ]);
        return;
      }
      case 'exploration':
        this.totalEpochsGuess = e.epoch + this.config.windowEpochs;
        post(e);
        return;
      case 'windowStart':
        this.inWindow = true;
        this.snapRun = e.run;
        feed({
          type: 'windowStart',
          run: e.run,
          expectedSnapshots: e.expectedSnapshots,
          dim: this.config.hidden ** 2,
          every: e.every,
        });
        post(e);
        return;
      case 'windowEnd':
        this.flushSnapshots();
        feed({ type: 'windowEnd', run: e.run, weights: e.weights });
        post({ type: 'windowEnd', run: e.run, step: e.step });
        return;
      case 'diverged':
        this.flushSnapshots();
        // A Langevin run that left its minimum leaves the SGD window's analysis to finish: it
        // is the reader's result.
        if (e.run === 'sgd') feed({ type: 'reset' });
        post({ type: 'diverged', step: e.step, message: e.message });
        return;
      case 'done':
        this.postProgress('window', true, e.step);
        return;
    }
  }

  private pushSnapshot(step: number, w2: Float32Array, runId: 'sgd' | 'langevin'): void {
    const dim = w2.length;
    if (!this.snapBuf || this.snapRun !== runId) {
      this.flushSnapshots();
      this.snapRun = runId;
      this.snapBuf = new Float32Array(SNAPSHOT_BATCH * dim);
      this.snapFirst = step;
    }
    this.snapBuf.set(w2, this.snapCount * dim);
    this.snapCount++;
    if (this.snapCount === SNAPSHOT_BATCH) this.flushSnapshots();
  }

  private flushSnapshots(): void {
    if (!this.snapBuf || this.snapCount === 0) return;
    const dim = this.config.hidden ** 2;
    const data =
      this.snapCount === SNAPSHOT_BATCH
        ? this.snapBuf
        : this.snapBuf.slice(0, this.snapCount * dim);
    feed(
      {
        type: 'snapshots',
        run: this.snapRun,
        firstStep: this.snapFirst,
        count: this.snapCount,
        dim,
        data,
      },
      [data.buffer],
    );
    this.snapBuf = null;
    this.snapCount = 0;
  }

  private closePoint(): void {
    if (this.lossN === 0) return;
    this.lossPoints.push({ step: this.lastStep, loss: this.lossSum / this.lossN });
    this.lossSum = 0;
    this.lossN = 0;
  }

  private flushPoints(): void {
    this.closePoint();
    if (this.lossPoints.length) post({ type: 'minibatch', points: this.lossPoints });
    this.lossPoints = [];
  }

  private postProgress(phase: Progress['phase'], force: boolean, step = 0): void {
    const now = performance.now();
    const dt = (now - this.rateT0) / 1000;
    // A rate over at least 0.2 s, or whatever there is when none was measured yet.
    if (dt > 0.2 || force || this.stepsPerSecond === 0) {
      if (this.rateSteps > 0 && dt > 0) this.stepsPerSecond = this.rateSteps / dt;
      this.rateT0 = now;
      this.rateSteps = 0;
    }
    this.lastProgress = now;
    const stepsPerEpoch = dataset ? Math.floor(dataset.train.count / this.config.batchSize) : 1;
    const totalSteps = this.totalEpochsGuess * stepsPerEpoch;
    const langevinSteps = this.config.contrast
      ? this.config.langevinBurnIn + this.config.langevinSteps
      : 0;
    const fraction = Math.min(1, step / (totalSteps + langevinSteps));
    const left = totalSteps + langevinSteps - step;
    post({
      type: 'progress',
      progress: {
        phase,
        epoch: this.epoch,
        step,
        stepsPerSecond: this.stepsPerSecond,
        fraction,
        etaSeconds: this.stepsPerSecond > 0 && left >= 0 ? left / this.stepsPerSecond : null,
      },
    });
    this.flushPoints();
  }
}

async function handle(cmd: TrainerCommand): Promise<void> {
  switch (cmd.type) {
    case 'init': {
      analysis = cmd.analysisPort;
      const backend = await chooseTrainerBackend({
        forced: cmd.forcedBackend,
        wasmPaths: cmd.wasmPaths,
        wasmFetch: wasmFetcher(Object.values(cmd.wasmPaths)),
        probe: async () => (await tfSide()).probeStepsPerSecond(),
      });
      post({ type: 'ready', backend });
      const res = await fetch(cmd.dataUrl);
      if (!res.ok)
        throw new Error(`could not load the embedded digits (${cmd.dataUrl}: HTTP ${res.status})`);
      embedded = loadEmbeddedDataset(await embeddedBytes(res));
      adoptDataset(embedded);
      return;
    }
    case 'loadIdx': {
      try {
        const files = await Promise.all(
          cmd.files.map(async (f) => ({
            name: f.name,
            bytes: new Uint8Array(await f.data.arrayBuffer()),
          })),
        );
        const d = await loadIdxDataset(files);
        await run?.stop();
        run = null;
        adoptDataset(d);
      } catch (e) {
        // The current data set stays loaded: only the message goes out.
        const file = e instanceof IdxError ? e.file : cmd.files.map((f) => f.name).join(', ');
        post({ type: 'datasetError', file, message: e instanceof Error ? e.message : String(e) });
      }
      return;
    }
    case 'useEmbedded':
      if (embedded) {
        await run?.stop();
        run = null;
        adoptDataset(embedded);
      }
      return;
    case 'start': {
      if (!dataset) throw new Error('no data set is loaded yet');
      await stopNoiseShaping(
        'Stopped: a training run was started (one experiment runs at a time).',
      );
      await run?.stop();
      feed({ type: 'reset' });
      feed({ type: 'config', config: cmd.config });
      if (cmd.resume) feed({ type: 'history', checkpoints: cmd.resume.history });
      const r = new RunLoop(cmd.config, dataset, cmd.resume);
      run = r;
      void r.loop().catch(reportError);
      return;
    }
    case 'pause':
      run?.pause();
      return;
    case 'resume':
      run?.resume();
      return;
    case 'step':
      run?.stepN(cmd.n);
      return;
    case 'set':
      run?.set({ lr: cmd.lr, batchSize: cmd.batchSize });
      return;
    case 'noiseShapingStart': {
      if (!dataset) throw new Error('no data set is loaded yet');
      await stopNoiseShaping('Stopped: the runs were started again.');
      if (run?.active) {
        await run.stop();
        run = null;
        feed({ type: 'reset' });
        post({ type: 'state', state: 'idle' });
      }
      const { NoiseShapingLoop: Loop } = await tfSide();
      const n = new Loop(cmd.config, cmd.seeds, dataset, post);
      noiseShaping = n;
      void n.finished.then(() => {
        if (noiseShaping === n) noiseShaping = null;
      });
      return;
    }
    case 'noiseShapingCancel':
      await stopNoiseShaping('Cancelled.');
      return;
    case 'forgettingSamples':
      if (dataset)
        post({ type: 'forgettingSamples', groups: taskSamples(dataset, cmd.groups, cmd.perGroup) });
      return;
    case 'reset':
      await run?.stop();
      run = null;
      feed({ type: 'reset' });
      post({ type: 'state', state: 'idle' });
      post({ type: 'resetDone', token: cmd.token });
      return;
  }
}

function reportError(e: unknown): void {
  post({ type: 'error', message: e instanceof Error ? e.message : String(e) });
}

// Commands are handled one at a time, in order.
let queue: Promise<void> = Promise.resolve();
self.onmessage = (ev: MessageEvent<TrainerCommand | CrashCommand | LoseGpuCommand>) => {
  const cmd = ev.data;
  if (cmd.type === 'loseGpuAt') {
    loseGpuAt(cmd.step);
    return;
  }
  if (cmd.type === 'crash') {
    // In its turn, as any command; a build without test hooks ignores it.
    if (TEST_HOOKS) queue = queue.then(crashSoon);
    return;
  }
  queue = queue.then(() => handle(cmd)).catch(reportError);
};
