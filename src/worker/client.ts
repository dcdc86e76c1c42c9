/**
 * The UI side of the workers: starts the trainer and analysis workers, joins them with a
 * MessageChannel, turns their events into run-store updates, and restarts them after a crash.
 */
import wasmPlain from '@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm.wasm?url';
import wasmSimd from '@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm-simd.wasm?url';
import wasmThreaded from '@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm-threaded-simd.wasm?url';
import type { BackendName } from '../engine/backend';
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
  initialRunState,
  profileKey,
  useRun,
  type RunStoreState,
} from '../state/runStore';
import {
  applyUniversalityEvent,
  beginUniversality,
  clearUniversalityCache,
  isUniversalityEvent,
  setUniversalityStatus,
  stopUniversality,
  universalityBusy,
  useUniversality,
} from '../state/universalityStore';
import type {
  AnalysisCommand,
  AnalysisEvent,
  IdxFile,
  TrainerCommand,
  TrainerEvent,
  UniversalityMode,
  UniversalityRunSpec,
} from './protocol';

/** The run store with the last run's curves, results and progress cleared (a new run, a reset). */
function clearedRun(runState: 'training' | 'idle'): Partial<RunStoreState> {
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
    source: { kind: 'live' },
  };
}

function absolute(url: string): string {
  return new URL(url, document.baseURI).href;
}

export class WorkerClient {
  private trainer: Worker | null = null;
  private analysis: Worker | null = null;
  private readonly forcedBackend?: BackendName;
  private nextRequest = 1;
  private lastConfig: RunConfig | null = null;

  constructor(forcedBackend?: BackendName) {
    this.forcedBackend = forcedBackend;
  }

  /** Starts (or restarts) both workers; the current data set is the embedded one again. */
  start(): void {
    this.terminate();
    useRun.setState({ ...initialRunState, runState: 'loading' });
    const trainer = new Worker(new URL('./trainer.worker.ts', import.meta.url), {
      type: 'module',
      name: 'trainer',
    });
    const analysis = new Worker(new URL('./analysis.worker.ts', import.meta.url), {
      type: 'module',
      name: 'analysis',
    });
    this.trainer = trainer;
    this.analysis = analysis;
    const channel = new MessageChannel();
    const wasmPaths = {
      'tfjs-backend-wasm.wasm': absolute(wasmPlain),
      'tfjs-backend-wasm-simd.wasm': absolute(wasmSimd),
      'tfjs-backend-wasm-threaded-simd.wasm': absolute(wasmThreaded),
    };
    trainer.onmessage = (e: MessageEvent<TrainerEvent>) => this.onTrainer(e.data);
    analysis.onmessage = (e: MessageEvent<AnalysisEvent>) => this.onAnalysis(e.data);
    const crashed = (which: string) => (e: ErrorEvent) => {
      e.preventDefault();
      stopForgetting(
        'error',
        `The ${which} worker crashed; restart the workers to run the sweep again.`,
      );
      stopUniversality('error', `The ${which} worker crashed; restart the workers to run again.`);
      useRun.setState({
        runState: 'error',
        crashed: true,
        error: `The ${which} worker crashed${e.message ? `: ${e.message}` : ''}. Restart the workers to go on; your settings are kept.`,
      });
    };
    trainer.onerror = crashed('training');
    analysis.onerror = crashed('analysis');
    this.sendAnalysis(
      { type: 'init', port: channel.port2, wasmPaths, forcedBackend: this.forcedBackend },
      [channel.port2],
    );
    this.sendTrainer(
      {
        type: 'init',
        dataUrl: absolute('data/mnist-10k.bin'),
        wasmPaths,
        forcedBackend: this.forcedBackend,
        // Two workers already keep both cores of a small machine busy; threads inside the
        // trainer would fight the analysis worker, and the minified threaded build is broken.
        wasmThreads: false,
        analysisPort: channel.port1,
      },
      [channel.port1],
    );
  }

  terminate(): void {
    stopForgetting('cancelled', 'Stopped: the workers were restarted.');
    stopUniversality('cancelled', 'Stopped: the workers were restarted.');
    this.trainer?.terminate();
    this.analysis?.terminate();
    this.trainer = null;
    this.analysis = null;
  }

  run(config: RunConfig): void {
    // One experiment at a time: the trainer worker stops a forgetting sweep before this run.
    stopForgetting(
      'cancelled',
      'Stopped: a training run was started (one experiment runs at a time).',
    );
    this.lastConfig = config;
    useRun.setState(clearedRun('training'));
    this.sendTrainer({ type: 'start', config });
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
  reset(): void {
    this.sendTrainer({ type: 'reset' });
    this.sendAnalysis({ type: 'cancel' });
    useRun.setState(clearedRun('idle'));
  }
  setLive(c: { lr?: number; batchSize?: number }): void {
    this.sendTrainer({ type: 'set', ...c });
  }
  loadIdx(files: IdxFile[]): void {
    useRun.setState({ datasetError: null });
    this.sendTrainer(
      { type: 'loadIdx', files },
      files.map((f) => f.bytes),
    );
  }
  useEmbedded(): void {
    this.sendTrainer({ type: 'useEmbedded' });
  }
  /**
   * Starts the forgetting sweep (section 6) in the trainer worker. A training run in progress
   * is stopped and cleared first (one experiment at a time); finished results stay.
   */
  startForgetting(config: ForgettingConfig): void {
    if (forgettingBusy(useForgetting.getState())) return;
    const rs = useRun.getState().runState;
    let notice: string | null = null;
    if (rs === 'training' || rs === 'analyzing') {
      this.reset();
      notice = 'The training run in progress was stopped: one experiment runs at a time.';
    }
    beginForgetting(config, notice);
    this.sendTrainer({ type: 'forgettingStart', config });
  }
  cancelForgetting(): void {
    if (!forgettingBusy(useForgetting.getState())) return;
    useForgetting.setState({ status: 'cancelling' });
    this.sendTrainer({ type: 'forgettingCancel' });
  }
  /**
   * Section 7: a universality sweep in the trainer worker (the optimizer comparison, a width
   * sweep, a (B, α) grid, or architecture runs appended to that overlay). Runs that an earlier
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
    const rs = useRun.getState().runState;
    if (rs === 'training' || rs === 'analyzing') this.reset();
    const total = useUniversality.getState()[mode].plan.length;
    this.sendTrainer({ type: 'universalityStart', mode, runs: todo, total });
  }
  pauseUniversality(): void {
    const s = useUniversality.getState();
    if (!s.active || s[s.active].status !== 'running') return;
    setUniversalityStatus('pausing');
    this.sendTrainer({ type: 'universalityPause' });
  }
  resumeUniversality(): void {
    const s = useUniversality.getState();
    if (!s.active) return;
    const st = s[s.active].status;
    if (st !== 'paused' && st !== 'pausing') return;
    setUniversalityStatus('running');
    this.sendTrainer({ type: 'universalityResume' });
  }
  cancelUniversality(): void {
    const s = useUniversality.getState();
    if (!s.active) return;
    setUniversalityStatus('cancelling');
    this.sendTrainer({ type: 'universalityCancel' });
  }
  /** Asks the trainer for `perGroup` training images of each digit group. */
  requestTaskSamples(groups: number[][], perGroup = 8): void {
    this.sendTrainer({ type: 'forgettingSamples', groups, perGroup });
  }

  /** Test hook: makes the trainer worker crash (see protocol.ts). */
  crashTrainer(): void {
    this.sendTrainer({ type: 'crash' });
  }
  requestProfile(run: RunId, rank: number): void {
    this.sendAnalysis({ type: 'profile', run, rank, requestId: this.nextRequest++ });
  }

  get config(): RunConfig | null {
    return this.lastConfig;
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
    const s = useRun.getState();
    switch (e.type) {
      case 'ready':
        useRun.setState({ backend: e.backend });
        return;
      case 'net':
        useRun.setState({ stepImpl: e.impl });
        return;
      case 'dataset':
        // Cached universality runs were made on the previous data set.
        if (s.dataset && (s.dataset.name !== e.info.name || s.dataset.source !== e.info.source))
          clearUniversalityCache();
        useRun.setState({
          dataset: e.info,
          datasetError: null,
          runState: s.runState === 'loading' ? 'idle' : s.runState,
        });
        return;
      case 'datasetError':
        useRun.setState({ datasetError: e.message });
        return;
      case 'state':
        if (e.state === 'training') useRun.setState({ runState: 'training', paused: false });
        else if (e.state === 'idle') useRun.setState({ paused: s.runState === 'training' });
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
        useRun.setState({ epochs: [...s.epochs, e.record] });
        return;
      case 'exploration':
        useRun.setState({ exploration: { epoch: e.epoch, step: e.step, reason: e.reason } });
        return;
      case 'windowStart':
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
        useRun.setState({ runState: 'error', error: e.message });
        return;
      case 'error':
        useRun.setState({ runState: 'error', error: e.message });
        return;
    }
  }

  private onAnalysis(e: AnalysisEvent): void {
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
      case 'profileError':
        useRun.setState({
          profileErrors: { ...s.profileErrors, [profileKey(e.run, e.rank)]: e.message },
        });
        return;
      case 'theory': {
        const r = s.results[e.run];
        if (!r) return;
        const finished = !this.lastConfig?.contrast || e.run === 'langevin';
        useRun.setState({
          results: { ...s.results, [e.run]: { ...r, theory: e.theory } },
          analysisProgress: null,
          runState: finished && s.runState !== 'error' ? 'done' : s.runState,
        });
        return;
      }
      case 'error':
        useRun.setState({ runState: 'error', error: `Analysis: ${e.message}` });
        return;
    }
  }
}
