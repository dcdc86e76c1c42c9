/**
 * The UI side of the workers: starts the trainer and analysis workers, joins them with a
 * MessageChannel, and turns their events into run-store updates. It is the one place that
 * decides a run's state: an error in either worker stops the run (both workers terminated,
 * everything measured kept), and the run can resume in fresh workers from its last checkpoint,
 * with the reader's data loaded again.
 *
 * The workers start on demand (`ensureWorkers`): every command that needs them starts them, and
 * commands sent meanwhile wait in the trainer's queue behind its backend and data. Until then
 * the page has fetched no worker script, no .wasm and no digits.
 */
import type { BackendName } from '../engine/backend';
import { EMBEDDED_ASSET_PATH } from '../engine/data/embedded';
import type { RunConfig } from '../engine/experiments/config';
import type { RunId } from '../engine/experiments/training';
import type { ForgettingConfig } from '../engine/forgetting';
import {
  applyForgettingEvent,
  beginForgetting,
  forgettingBusy,
  isForgettingEvent,
  stopForgetting,
  useForgetting,
} from '../state/forgettingStore';
import {
  appendCapped,
  profileKey,
  reached,
  rewoundRun,
  useRun,
  type RunStoreState,
} from '../state/runStore';
import {
  applyUniversalityEvent,
  beginUniversality,
  clearUniversalityCache,
  isUniversalityEvent,
  setUniversalityStatus,
  universalityBusy,
  useUniversality,
} from '../state/universalityStore';
import {
  applyNoiseShapingEvent,
  beginNoiseShaping,
  isNoiseShapingEvent,
  noiseShapingBusy,
  setNoiseShapingStatus,
  stopNoiseShaping,
  useNoiseShaping,
} from '../state/noiseShapingStore';
import type { NoiseShapingConfig } from '../engine/experiments/noiseShapingSummary';
import { ResumeTracker } from '../protocol/checkpoints';
import { absolute, wasmPaths as wasmUrls } from './wasmPaths';
import {
  cancelPoolForgetting,
  cancelPoolSweep,
  measureShareOnPool,
  pausePoolSweep,
  resumePoolSweep,
  startPoolForgetting,
  startPoolSweep,
} from './poolLazy';
import { flatnessPoolWorkers, usePool } from './poolStore';
import { TEST_HOOKS, type CrashCommand, type LoseGpuCommand } from '../protocol/testHooks';
import type {
  AnalysisCommand,
  AnalysisEvent,
  DatasetInfo,
  IdxFile,
  ResumePoint,
  TrainerCommand,
  TrainerEvent,
  UniversalityMode,
  UniversalityRunSpec,
} from '../protocol/messages';

/** Training images of each task the digits figure shows (TaskDigitsView's SAMPLES_PER_TASK). */
const FORGETTING_SAMPLES = 8;

/** The run store with the last run's curves, results and progress cleared (a new run, a reset). */
function clearedRun(runState: 'training' | 'loading' | 'idle'): Partial<RunStoreState> {
  return {
    runState,
    paused: false,
    epochs: [],
    minibatch: [],
    exploration: null,
    windows: [],
    results: {},
    profiles: {},
    progress: null,
    analysisProgress: null,
    error: null,
    crashed: false,
    resumeFrom: null,
    source: { kind: 'live' },
  };
}

/** Trainer events that belong to a training run (dropped while a reset is on its way). */
const RUN_EVENTS = new Set<TrainerEvent['type']>([
  'net',
  'state',
  'progress',
  'minibatch',
  'epoch',
  'checkpoint',
  'exploration',
  'windowStart',
  'windowEnd',
  'diverged',
]);

export class WorkerClient {
  private trainer: Worker | null = null;
  private analysis: Worker | null = null;
  private readonly forcedBackend?: BackendName;
  private nextRequest = 1;
  private lastConfig: RunConfig | null = null;
  /** α and B as last set while the run streams (a resumed run keeps them). */
  private live: { lr?: number; batchSize?: number } = {};
  /** True from a run's start until it is done, reset, diverged or stopped by an error. */
  private runLive = false;
  private readonly tracker = new ResumeTracker();
  /** Where the run stopped by an error can continue from (offered as Resume). */
  private stopped: ResumePoint | null = null;
  /**
   * A run asked for while the workers still load (their backend, the digits), or resumed in
   * fresh ones, waits for the trainer's first 'training' before the page leaves 'loading'.
   */
  private awaitingTraining = false;
  /** The workers of this start have reported a data set: a run starts at once. */
  private dataLoaded = false;
  /** Workers were started before (a later start is a restart, shown as 'loading'). */
  private startedBefore = false;
  /** The data set the forgetting sweep runs on (the IDX files kept then, or null: embedded). */
  private forgettingData: IdxFile[] | null = null;
  /** The reader's IDX files: loaded into every restarted worker until they choose other data. */
  private keptIdx: IdxFile[] | null = null;
  /**
   * The loads of IDX files the trainer has yet to answer, in order (it answers each with one
   * 'dataset' or 'datasetError'). `reload`: the kept files, into restarted workers;
   * `superseded`: the reader went back to the embedded digits after asking for it.
   */
  private idxRequests: { files: IdxFile[]; reload: boolean; superseded: boolean }[] = [];
  /**
   * Restarted workers load the kept IDX files after the embedded digits they start with; the
   * embedded data set is not shown meanwhile (the reader's data never seems to go away).
   */
  private reloadingIdx = false;
  private skippedEmbedded: DatasetInfo | null = null;
  private resetTokens = 0;
  /**
   * Set by a reset until each worker answers it: events of the reset run still on their way
   * are dropped, so nothing of it lands on the cleared page.
   */
  private trainerResetting: number | null = null;
  private analysisResetting: number | null = null;

  constructor(forcedBackend?: BackendName) {
    this.forcedBackend = forcedBackend;
  }

  /**
   * Starts (or restarts) both workers. What the last run measured stays on the page, and so
   * does the data set: the reader's IDX files are loaded into the new workers.
   */
  start(): void {
    this.spawn();
    this.stopped = null;
    this.runLive = false;
    this.tracker.clear();
    useRun.setState({
      runState: 'loading',
      paused: false,
      analysisProgress: null,
      error: null,
      crashed: false,
      resumeFrom: null,
    });
  }

  private spawn(): void {
    // Only running workers are ended (with their sweeps; section 7's run on the pool).
    if (this.trainer || this.analysis) this.terminate();
    this.startedBefore = true;
    this.dataLoaded = false;
    const trainer = new Worker(new URL('../worker/trainer.worker.ts', import.meta.url), {
      type: 'module',
      name: 'trainer',
    });
    const analysis = new Worker(new URL('../worker/analysis.worker.ts', import.meta.url), {
      type: 'module',
      name: 'analysis',
    });
    this.trainer = trainer;
    this.analysis = analysis;
    useRun.setState({ backend: null, datasetError: null });
    const channel = new MessageChannel();
    const wasmPaths = wasmUrls();
    // Messages a replaced worker had already sent are dropped with it.
    trainer.onmessage = (e: MessageEvent<TrainerEvent>) => {
      if (this.trainer === trainer) this.onTrainer(e.data);
    };
    analysis.onmessage = (e: MessageEvent<AnalysisEvent>) => {
      if (this.analysis === analysis) this.onAnalysis(e.data);
    };
    const crashed = (which: 'training' | 'analysis', w: Worker) => (e: ErrorEvent) => {
      e.preventDefault();
      if (this.trainer !== w && this.analysis !== w) return;
      this.halt(`The ${which} worker crashed${e.message ? `: ${e.message}` : ''}`);
    };
    trainer.onerror = crashed('training', trainer);
    analysis.onerror = crashed('analysis', analysis);
    this.sendAnalysis({ type: 'init', port: channel.port2 }, [channel.port2]);
    this.sendTrainer(
      {
        type: 'init',
        dataUrl: absolute(EMBEDDED_ASSET_PATH),
        wasmPaths,
        forcedBackend: this.forcedBackend,
        analysisPort: channel.port1,
      },
      [channel.port1],
    );
    if (TEST_HOOKS && this.gpuLossAt !== null)
      trainer.postMessage({ type: 'loseGpuAt', step: this.gpuLossAt } satisfies LoseGpuCommand);
    this.idxRequests = [];
    this.skippedEmbedded = null;
    this.reloadingIdx = this.keptIdx !== null;
    if (this.keptIdx) {
      this.idxRequests.push({ files: this.keptIdx, reload: true, superseded: false });
      this.sendTrainer({ type: 'loadIdx', files: this.keptIdx });
    }
  }

  /**
   * Starts the workers unless they run: the first time quietly (the page stays as it is: the
   * idle prefetch, or the command that needs them sets its own state), later as a restart of
   * workers an error stopped, for the next thing the reader asks of them.
   */
  ensureWorkers(): void {
    if (this.trainer) return;
    if (this.startedBefore) this.start();
    else this.spawn();
  }

  /**
   * The full page's idle prefetch: starts the workers only if they never ran. A pair an error
   * stopped waits for the reader's next command: an idle moment that comes late (the run got
   * there first) must not restart them and drop the crash's resume point.
   */
  prefetch(): void {
    if (!this.startedBefore) this.spawn();
  }

  /**
   * Any failure of either worker ends the run there. Both workers are terminated (one that
   * threw is in an unknown state, and the other would go on with a run that can no longer
   * finish); everything measured stays in the run store; the run can resume from its last
   * checkpoint before the PCA window.
   */
  private halt(what: string): void {
    stopNoiseShaping('error', `${what}; the runs were stopped. Start them again.`);
    this.kill();
    const s = useRun.getState();
    const point = this.runLive ? this.tracker.resumePoint(this.live) : null;
    const wasRunning = this.runLive;
    this.runLive = false;
    this.awaitingTraining = false;
    this.stopped = point;
    const at =
      s.progress || s.epochs.length ? ` at step ${reached(s).step.toLocaleString('en')}` : '';
    // Checkpoints hold the weights only: momentum's and Adam's running averages start again.
    const optimizer = this.lastConfig?.optimizer ?? 'sgd';
    const fresh =
      optimizer === 'sgd' ? '' : ` (${optimizer === 'adam' ? 'Adam' : 'momentum'} starts afresh)`;
    const next = point
      ? `Resume continues it from the checkpoint at the end of epoch ${point.checkpoint.epoch} with the same settings${fresh}.`
      : 'Restart the workers to go on; your settings are kept.';
    useRun.setState({
      runState: 'error',
      crashed: true,
      paused: false,
      analysisProgress: null,
      resumeFrom: point ? { epoch: point.checkpoint.epoch, step: point.checkpoint.step } : null,
      error: `${what}. ${wasRunning ? `The run was stopped${at}; everything measured so far is kept. ` : ''}${next}`,
    });
  }

  /** Ends both workers (leaving the page, or before new ones start). */
  terminate(): void {
    stopNoiseShaping('cancelled', 'Stopped: the workers were restarted.');
    this.kill();
  }

  private kill(): void {
    this.trainerResetting = null;
    this.analysisResetting = null;
    this.trainer?.terminate();
    this.analysis?.terminate();
    this.trainer = null;
    this.analysis = null;
  }

  run(config: RunConfig): void {
    this.ensureWorkers();
    // Pieces still loading: Start says so until the trainer begins (its queue holds the run).
    const cold = !this.dataLoaded;
    // One experiment at a time: the forgetting sweep on the pool stops before this run.
    const why = 'Stopped: a training run was started (one experiment runs at a time).';
    stopForgetting('cancelled', why);
    cancelPoolForgetting(why);
    cancelPoolSweep('Stopped: a training run was started (one experiment runs at a time).');
    this.lastConfig = config;
    this.live = {};
    this.tracker.clear();
    this.stopped = null;
    this.runLive = true;
    this.awaitingTraining = cold;
    useRun.setState(clearedRun(cold ? 'loading' : 'training'));
    this.offerPool();
    this.sendTrainer({ type: 'start', config });
  }

  /**
   * Continues the run an error stopped, in fresh workers with the same settings and data, from
   * its last checkpoint: what was measured up to that checkpoint stays, the rest is measured
   * again (the same numbers: the sampler and detector resume exactly where they were).
   */
  resumeStopped(): void {
    const point = this.stopped;
    const config = this.lastConfig;
    if (!point || !config) return;
    this.spawn();
    this.stopped = null;
    this.tracker.restore(point);
    this.live = { ...point.controls };
    this.runLive = true;
    this.awaitingTraining = true;
    useRun.setState({
      ...rewoundRun(useRun.getState(), point.checkpoint),
      runState: 'loading',
      source: { kind: 'live' },
    });
    this.offerPool();
    this.sendTrainer({ type: 'start', config, resume: point });
  }

  pause(): void {
    this.sendTrainer({ type: 'pause' });
  }
  resume(): void {
    this.sendTrainer({ type: 'resume' });
  }
  step(n: number): void {
    this.sendTrainer({ type: 'step', n });
  }
  /** Stops the run and clears it; the page is left idle (nothing starts by itself). */
  reset(): void {
    this.runLive = false;
    this.awaitingTraining = false;
    this.stopped = null;
    this.tracker.clear();
    if (this.trainer) {
      const token = ++this.resetTokens;
      this.trainerResetting = token;
      this.analysisResetting = token;
      this.sendTrainer({ type: 'reset', token });
      this.sendAnalysis({ type: 'cancel', token });
    }
    useRun.setState(clearedRun('idle'));
  }
  setLive(c: { lr?: number; batchSize?: number }): void {
    this.live = { ...this.live, ...c };
    this.sendTrainer({ type: 'set', ...c });
  }
  loadIdx(files: IdxFile[]): void {
    this.ensureWorkers();
    useRun.setState({ datasetError: null });
    this.idxRequests.push({ files, reload: false, superseded: false });
    this.sendTrainer({ type: 'loadIdx', files });
  }
  useEmbedded(): void {
    this.ensureWorkers();
    this.keptIdx = null;
    this.reloadingIdx = false;
    for (const r of this.idxRequests) r.superseded = true;
    this.sendTrainer({ type: 'useEmbedded' });
  }
  /**
   * Starts the forgetting sweep (section 6) on the page's pool of job workers, one seed per job
   * (poolForgetting.ts), on the data set loaded here. A training run in progress is stopped and
   * cleared first (one experiment at a time); finished results stay.
   */
  startForgetting(config: ForgettingConfig): void {
    if (forgettingBusy(useForgetting.getState())) return;
    this.ensureWorkers();
    const rs = useRun.getState().runState;
    let notice: string | null = null;
    if (rs === 'training' || rs === 'analyzing') {
      this.reset();
      notice = 'The training run in progress was stopped: one experiment runs at a time.';
    }
    cancelPoolSweep('Stopped: the forgetting sweep was started (one experiment runs at a time).');
    if (noiseShapingBusy(useNoiseShaping.getState())) this.cancelNoiseShaping();
    beginForgetting(config, notice);
    // The task digits figure shows the sweep's digits (the trainer holds the same data).
    this.requestTaskSamples([config.task1, config.task2], FORGETTING_SAMPLES);
    this.forgettingData = this.keptIdx;
    startPoolForgetting(config, this.keptIdx, this.forcedBackend);
  }
  cancelForgetting(): void {
    if (!forgettingBusy(useForgetting.getState())) return;
    useForgetting.setState({ status: 'cancelling' });
    cancelPoolForgetting('Cancelled.');
  }
  /**
   * Section 7: a universality sweep on the page's pool of job workers (poolSweeps.ts: the
   * optimizer comparison, a width sweep, a (B, α) grid, or architecture runs appended to that
   * overlay), on the data set loaded here. Runs that an earlier
   * sweep already made are reused; with no `items`, a stopped sweep continues with the runs it
   * has left. A training run in progress is stopped first (one experiment at a time).
   */
  startUniversality(
    mode: UniversalityMode,
    items: { spec: UniversalityRunSpec; label: string }[],
    options: { append?: boolean; keep?: number } = {},
  ): void {
    if (universalityBusy(useUniversality.getState())) return;
    const todo = beginUniversality(mode, items, options.append ?? false, options.keep);
    if (todo.length === 0) return;
    // One experiment at a time: the pool's runs take the cores.
    const rs = useRun.getState().runState;
    if (rs === 'training' || rs === 'analyzing') this.reset();
    if (forgettingBusy(useForgetting.getState())) this.cancelForgetting();
    if (noiseShapingBusy(useNoiseShaping.getState())) this.cancelNoiseShaping();
    const total = useUniversality.getState()[mode].plan.length;
    startPoolSweep(mode, todo, total, this.keptIdx, this.forcedBackend);
  }
  pauseUniversality(): void {
    const s = useUniversality.getState();
    if (!s.active || s[s.active].status !== 'running') return;
    setUniversalityStatus('pausing');
    pausePoolSweep();
  }
  resumeUniversality(): void {
    const s = useUniversality.getState();
    if (!s.active) return;
    const st = s[s.active].status;
    if (st !== 'paused' && st !== 'pausing') return;
    setUniversalityStatus('running');
    resumePoolSweep();
  }
  /** Noise shaping (SI §S9): the four methods per seed in the trainer worker. */
  startNoiseShaping(config: NoiseShapingConfig, seeds: number[]): void {
    if (noiseShapingBusy(useNoiseShaping.getState())) return;
    this.ensureWorkers();
    cancelPoolSweep('Stopped: the noise-shaping runs were started (one experiment at a time).');
    if (forgettingBusy(useForgetting.getState()))
      cancelPoolForgetting(
        'Stopped: the noise-shaping runs were started (one experiment at a time).',
      );
    beginNoiseShaping(config, seeds);
    this.sendTrainer({ type: 'noiseShapingStart', config, seeds });
  }
  cancelNoiseShaping(): void {
    if (useNoiseShaping.getState().status !== 'running') return;
    setNoiseShapingStatus('cancelling');
    this.sendTrainer({ type: 'noiseShapingCancel' });
  }
  cancelUniversality(): void {
    const s = useUniversality.getState();
    if (!s.active) return;
    setUniversalityStatus('cancelling');
    cancelPoolSweep();
  }
  /** Asks the trainer for `perGroup` training images of each digit group. */
  requestTaskSamples(groups: number[][], perGroup = 8): void {
    // No restart for these pictures: the data panel asks again when restarted workers load data.
    this.sendTrainer({ type: 'forgettingSamples', groups, perGroup });
  }

  /**
   * Test builds only: the trainer's fused WebGPU run loses its device at `step` (sent now and
   * to every trainer started later, ahead of any run it is given).
   */
  loseGpuAt(step: number): void {
    if (!TEST_HOOKS) return;
    this.gpuLossAt = step;
    this.trainer?.postMessage({ type: 'loseGpuAt', step } satisfies LoseGpuCommand);
  }
  private gpuLossAt: number | null = null;

  /** Test builds only (src/protocol/testHooks.ts): makes a worker throw an uncaught error. */
  crash(which: 'trainer' | 'analysis'): void {
    if (!TEST_HOOKS) return;
    const crash: CrashCommand = { type: 'crash' };
    (which === 'trainer' ? this.trainer : this.analysis)?.postMessage(crash);
  }
  requestProfile(run: RunId, rank: number): void {
    if (!this.analysis) {
      const s = useRun.getState();
      useRun.setState({
        profileErrors: {
          ...s.profileErrors,
          // Never started: the figures show a bundled or saved run, whose window no worker holds.
          [profileKey(run, rank)]: this.startedBefore
            ? 'the analysis worker was stopped by an error; resume or run again to draw more profiles'
            : `no analysis of this ${run === 'sgd' ? 'SGD' : 'Langevin'} window is held in this browser; run it to draw more profiles`,
        },
      });
      return;
    }
    this.sendAnalysis({ type: 'profile', run, rank, requestId: this.nextRequest++ });
  }

  get config(): RunConfig | null {
    return this.lastConfig;
  }

  /**
   * A share of the analysis worker's flatness search, measured on the page's pool and answered
   * to that worker (a replaced worker's answer is dropped); a share the pool could not measure
   * is measured by the analysis worker itself, and the run panel says why.
   */
  private shareOnPool(e: Extract<AnalysisEvent, { type: 'flatnessShare' }>): void {
    const analysis = this.analysis;
    void measureShareOnPool(e.share, e.data, this.keptIdx, this.forcedBackend).then((o) => {
      if (!analysis || this.analysis !== analysis) return;
      if (!o.ok) {
        usePool.setState({
          flatnessNotice: `the pool could not measure some flatness modes (${o.error}); the analysis worker measured them (the same numbers)`,
        });
      }
      const answer: AnalysisCommand = o.ok
        ? { type: 'flatnessShareResult', requestId: e.requestId, modes: o.result }
        : { type: 'flatnessShareFailed', requestId: e.requestId, message: o.error };
      analysis.postMessage(answer);
    });
  }

  /** Tells the analysis worker how many job workers its flatness search may use. */
  private offerPool(): void {
    usePool.setState({ flatnessNotice: null });
    this.sendAnalysis({ type: 'flatnessPool', workers: flatnessPoolWorkers() });
  }

  private sendTrainer(cmd: TrainerCommand, transfer: Transferable[] = []): void {
    this.trainer?.postMessage(cmd, transfer);
  }
  private sendAnalysis(cmd: AnalysisCommand, transfer: Transferable[] = []): void {
    this.analysis?.postMessage(cmd, transfer);
  }

  private onTrainer(e: TrainerEvent): void {
    if (isForgettingEvent(e)) {
      applyForgettingEvent(e);
      return;
    }
    if (isUniversalityEvent(e)) {
      applyUniversalityEvent(e);
      return;
    }
    if (isNoiseShapingEvent(e)) {
      applyNoiseShapingEvent(e);
      return;
    }
    if (e.type === 'resetDone') {
      if (e.token === this.trainerResetting) this.trainerResetting = null;
      return;
    }
    if (this.trainerResetting !== null && RUN_EVENTS.has(e.type)) return;
    const s = useRun.getState();
    switch (e.type) {
      case 'ready':
        useRun.setState({ backend: e.backend });
        return;
      case 'net':
        useRun.setState({ stepImpl: e.impl, stepNote: e.note ?? null });
        return;
      case 'dataset':
        if (this.reloadingIdx && e.info.source === 'embedded') {
          // Restarted workers start with the embedded digits; the reader's files come next.
          this.skippedEmbedded = e.info;
          return;
        }
        if (e.info.source === 'idx') {
          const r = this.idxRequests.shift();
          if (r?.reload) this.reloadingIdx = false;
          if (r && !r.superseded) this.keptIdx = r.files;
        }
        // The forgetting sweep's workers hold the data it started on: other data stops it.
        if (
          forgettingBusy(useForgetting.getState()) &&
          (e.info.source === 'idx' ? this.keptIdx : null) !== this.forgettingData
        )
          cancelPoolForgetting('Stopped: another data set was loaded.');
        this.showDataset(e.info);
        return;
      case 'datasetError':
        if (this.idxRequests.shift()?.reload && this.reloadingIdx) {
          // The kept files no longer load (e.g. they were deleted on disk): the embedded
          // digits the workers started with are the data set after all.
          this.reloadingIdx = false;
          this.keptIdx = null;
          if (this.skippedEmbedded) this.showDataset(this.skippedEmbedded);
        }
        useRun.setState({ datasetError: e.message });
        return;
      case 'checkpoint':
        if (this.runLive) this.tracker.checkpoint(e.checkpoint);
        return;
      case 'state':
        if (e.state === 'training') {
          this.awaitingTraining = false;
          useRun.setState({ runState: 'training', paused: false });
        } else if (e.state === 'idle') useRun.setState({ paused: s.runState === 'training' });
        // 'done' from the trainer: the analysis worker still has to finish.
        else if (e.state === 'done' && s.runState === 'training')
          useRun.setState({ runState: 'analyzing' });
        return;
      case 'progress':
        useRun.setState({ progress: e.progress });
        return;
      case 'minibatch':
        useRun.setState({ minibatch: appendCapped(s.minibatch, e.points) });
        return;
      case 'epoch':
        if (this.runLive) this.tracker.epoch(e.record);
        useRun.setState({ epochs: [...s.epochs, e.record] });
        return;
      case 'exploration':
        useRun.setState({ exploration: { epoch: e.epoch, step: e.step, reason: e.reason } });
        return;
      case 'windowStart':
        this.tracker.windowStart(e.run);
        useRun.setState({
          windows: [...s.windows, { run: e.run, startStep: e.step, endStep: null }],
        });
        return;
      case 'windowEnd':
        useRun.setState({
          windows: s.windows.map((w) =>
            w.run === e.run && w.endStep === null ? { ...w, endStep: e.step } : w,
          ),
        });
        return;
      case 'diverged':
        // A result, not a failure: the same settings would diverge again, so no resume.
        this.endRun();
        useRun.setState({ runState: 'error', error: e.message });
        return;
      case 'error':
        this.halt(`The training worker failed: ${e.message}`);
        return;
    }
  }

  private showDataset(info: DatasetInfo): void {
    this.dataLoaded = true;
    const s = useRun.getState();
    // Cached universality runs were made on the previous data set.
    if (s.dataset && (s.dataset.name !== info.name || s.dataset.source !== info.source))
      clearUniversalityCache();
    useRun.setState({
      dataset: info,
      datasetError: null,
      runState: s.runState === 'loading' && !this.awaitingTraining ? 'idle' : s.runState,
    });
  }

  /** The run is over (done or diverged): its checkpoints are no longer needed. */
  private endRun(): void {
    this.runLive = false;
    this.stopped = null;
    this.tracker.clear();
  }

  private onAnalysis(e: AnalysisEvent): void {
    if (e.type === 'cancelled') {
      if (e.token === this.analysisResetting) this.analysisResetting = null;
      return;
    }
    if (this.analysisResetting !== null && e.type !== 'ready' && e.type !== 'error') return;
    const s = useRun.getState();
    switch (e.type) {
      case 'ready':
        return;
      case 'window':
        useRun.setState({
          analysisProgress: {
            run: e.run,
            phase: 'window',
            fraction: e.expected ? e.snapshots / e.expected : 0,
            etaSeconds: null,
            detail: null,
          },
        });
        return;
      case 'progress':
        useRun.setState({
          runState:
            s.runState === 'training' && e.run === 'sgd' && !this.lastConfig?.contrast
              ? 'analyzing'
              : s.runState,
          analysisProgress: {
            run: e.run,
            phase: e.phase,
            fraction: e.fraction,
            etaSeconds: e.etaSeconds,
            detail: e.detail ?? null,
          },
        });
        return;
      case 'result': {
        const results = { ...s.results, [e.result.run]: e.result };
        const profiles = { ...s.profiles };
        for (const p of e.result.profiles) profiles[profileKey(p.run, p.rank)] = p;
        // The σ²–F figure is ready; 'done' waits for the theory figures that follow.
        useRun.setState({ results, profiles, analysisProgress: null });
        return;
      }
      case 'profile':
        useRun.setState({
          profiles: { ...s.profiles, [profileKey(e.profile.run, e.profile.rank)]: e.profile },
        });
        return;
      case 'flatnessShare':
        this.shareOnPool(e);
        return;
      case 'profileError':
        useRun.setState({
          profileErrors: { ...s.profileErrors, [profileKey(e.run, e.rank)]: e.message },
        });
        return;
      case 'curvature': {
        const r = s.results[e.run];
        if (!r) return;
        useRun.setState({
          results: { ...s.results, [e.run]: { ...r, curvature: e.curvature } },
          analysisProgress: null,
        });
        return;
      }
      case 'theory': {
        const r = s.results[e.run];
        if (!r) return;
        const finished = !this.lastConfig?.contrast || e.run === 'langevin';
        if (finished) this.endRun();
        useRun.setState({
          results: { ...s.results, [e.run]: { ...r, theory: e.theory } },
          analysisProgress: null,
          runState: finished && s.runState !== 'error' ? 'done' : s.runState,
        });
        return;
      }
      case 'error':
        this.halt(`The analysis failed: ${e.message}`);
        return;
    }
  }
}
