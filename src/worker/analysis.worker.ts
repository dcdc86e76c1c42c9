/// <reference lib="webworker" />
/**
 * The analysis worker: receives W2 snapshots from the trainer over a MessageChannel, holds the
 * PCA window, and at the window's end runs the variance–flatness analysis
 * (src/engine/experiments/analysis.ts). Only summaries go to the UI thread. Its kernels are the
 * project's own (plain TypeScript and generated WebAssembly): it loads no tensor library, and
 * tests/e2e/analysis-worker-chunk.test.mjs keeps it so.
 */
import type { DataSplit } from '../engine/data/dataset';
import { WindowAnalysis } from '../engine/experiments/analysis';
import { MAX_WINDOW_SNAPSHOTS } from '../engine/experiments/memoryPolicy';
import type { RunConfig } from '../engine/experiments/config';
import type { RunId } from '../engine/experiments/training';
import { SnapshotWindow } from '../engine/pca/snapshotWindow';
import type { WeightCheckpoint } from '../engine/landscape/activeTemperature';
import type { AnalysisCommand, AnalysisEvent, AnalysisFeed } from '../protocol/messages';
import { appendCheckpoint } from '../protocol/checkpoints';
import { measureShare } from '../engine/jobs/flatness';
import { splitFingerprint } from '../engine/data/fingerprint';
import { FlatnessOnPool } from './flatnessOnPool';
import { TEST_HOOKS, crashSoon, type CrashCommand } from '../protocol/testHooks';

declare const self: DedicatedWorkerGlobalScope;

/** Snapshot cap per window; runChecks.ts refuses or strides a larger window before the run. */
const MAX_SNAPSHOTS = MAX_WINDOW_SNAPSHOTS;

interface OpenWindow {
  window: SnapshotWindow;
  expected: number;
  /** Steps between snapshots. */
  every: number;
  firstStep: number | null;
  lastReport: number;
}

let train: DataSplit | null = null;
/** The training split's fingerprint, computed when the pool first needs it. */
let trainFingerprint: number | null = null;
let checkpoints: (WeightCheckpoint & { epoch: number })[] = [];
let config: RunConfig | null = null;
const open = new Map<RunId, OpenWindow>();
const done = new Map<RunId, WindowAnalysis>();
let abort = new AbortController();

function post(e: AnalysisEvent): void {
  self.postMessage(e);
}

// The flatness search on the page's pool when the UI offers 2 or more job workers.
const flatnessPool = new FlatnessOnPool(post, (share) => {
  if (!train) throw new Error('the analysis worker has no training set');
  return measureShare(share, train);
});

function fail(e: unknown): void {
  if (e instanceof DOMException && e.name === 'AbortError') return;
  post({ type: 'error', message: e instanceof Error ? e.message : String(e) });
}

function resetAll(): void {
  abort.abort();
  abort = new AbortController();
  open.clear();
  checkpoints = [];
  for (const a of done.values()) a.dispose();
  done.clear();
}

async function onFeed(msg: AnalysisFeed): Promise<void> {
  switch (msg.type) {
    case 'dataset':
      train = { images: msg.images, labels: msg.labels, count: msg.count };
      trainFingerprint = null;
      return;
    case 'config':
      config = msg.config;
      return;
    case 'reset':
      resetAll();
      return;
    case 'checkpoint':
      // Thinned past a cap (the middle goes, the first and last stay): bounded on long runs.
      checkpoints = appendCheckpoint(checkpoints, {
        epoch: msg.epoch,
        step: msg.step,
        W1: msg.weights.W1,
        W2: msg.weights.W2,
        W3: msg.weights.W3,
      });
      return;
    case 'history':
      checkpoints = msg.checkpoints.map((c) => ({
        epoch: c.epoch,
        step: c.step,
        W1: c.weights.W1,
        W2: c.weights.W2,
        W3: c.weights.W3,
      }));
      return;
    case 'windowStart': {
      if (msg.expectedSnapshots > MAX_SNAPSHOTS) {
        throw new Error(
          `the window would hold ${msg.expectedSnapshots} snapshots; the cap is ${MAX_SNAPSHOTS} — shorten the window or raise B`,
        );
      }
      done.get(msg.run)?.dispose();
      done.delete(msg.run);
      open.set(msg.run, {
        window: new SnapshotWindow(msg.dim, { maxSnapshots: MAX_SNAPSHOTS }),
        expected: msg.expectedSnapshots,
        every: msg.every,
        firstStep: null,
        lastReport: 0,
      });
      post({ type: 'window', run: msg.run, snapshots: 0, expected: msg.expectedSnapshots });
      return;
    }
    case 'snapshots': {
      const w = open.get(msg.run);
      if (!w) return;
      if (w.firstStep === null) w.firstStep = msg.firstStep;
      const room = w.window.maxSnapshots - w.window.count;
      w.window.addBatch(msg.data, Math.min(msg.count, room));
      const now = performance.now();
      if (now - w.lastReport > 250) {
        w.lastReport = now;
        post({ type: 'window', run: msg.run, snapshots: w.window.count, expected: w.expected });
      }
      return;
    }
    case 'windowEnd': {
      const w = open.get(msg.run);
      open.delete(msg.run);
      if (!w || !train || !config) return;
      if (w.window.count < 3)
        throw new Error(`the ${msg.run} window holds only ${w.window.count} snapshots`);
      const signal = abort.signal;
      const every = w.every;
      const run = msg.run;
      const analysis = await WindowAnalysis.analyze(
        run,
        w.window,
        msg.weights,
        train,
        config,
        w.firstStep ?? 0,
        every,
        {
          signal,
          onProgress: (phase, fraction, etaSeconds, detail) =>
            post({ type: 'progress', run, phase, fraction, etaSeconds, detail }),
          flatnessSearch: flatnessPool.search({
            signal,
            get data() {
              return (trainFingerprint ??= splitFingerprint(train!));
            },
            onShare: (n, of) =>
              post({
                type: 'progress',
                run,
                phase: 'flatness',
                fraction: n / of,
                etaSeconds: null,
                detail: `${n} of ${of} shares of the modes measured on the pool`,
              }),
          }),
        },
      );
      if (signal.aborted) {
        analysis.dispose();
        return;
      }
      done.set(run, analysis);
      post({ type: 'result', result: analysis.result });
      // Then the theory figures (velocity statistics, active temperature): the σ²–F figure
      // does not wait for them.
      const theory = await analysis.theory(run === 'sgd' ? checkpoints : [], {
        signal,
        onProgress: (phase, fraction, etaSeconds, detail) =>
          post({ type: 'progress', run, phase, fraction, etaSeconds, detail }),
      });
      if (signal.aborted) return;
      analysis.result.theory = theory;
      post({ type: 'theory', run, theory });
      if (run === 'sgd') {
        // Then the Hessian figures (curvature along the modes, the top of the spectrum, the edge
        // of stability): the run is 'done' without waiting for them.
        const curvature = await analysis.curvature(checkpoints, {
          signal,
          onProgress: (phase, fraction, etaSeconds, detail) =>
            post({ type: 'progress', run, phase, fraction, etaSeconds, detail }),
        });
        if (signal.aborted) return;
        analysis.result.curvature = curvature;
        post({ type: 'curvature', run, curvature });
      }
      return;
    }
  }
}

// Feed messages are handled strictly in order (a window's end after its last snapshots).
let feedQueue: Promise<void> = Promise.resolve();

self.onmessage = (ev: MessageEvent<AnalysisCommand | CrashCommand>) => {
  const cmd = ev.data;
  switch (cmd.type) {
    case 'init':
      // Nothing to start: the analysis has no tensor backend (the wasm and backend are the trainer's).
      post({ type: 'ready', backend: 'own kernels' });
      cmd.port.onmessage = (e: MessageEvent<AnalysisFeed>) => {
        const msg = e.data;
        feedQueue = feedQueue.then(() => onFeed(msg)).catch(fail);
      };
      return;
    case 'cancel':
      resetAll();
      post({ type: 'cancelled', token: cmd.token });
      return;
    case 'crash':
      // A build without test hooks ignores it.
      if (TEST_HOOKS) crashSoon();
      return;
    case 'flatnessPool':
      flatnessPool.workers = cmd.workers;
      return;
    case 'flatnessShareResult':
    case 'flatnessShareFailed':
      flatnessPool.answer(cmd);
      return;
    case 'profile': {
      const a = done.get(cmd.run);
      if (!a) {
        // A saved or precomputed run, or one analysed by workers since restarted.
        post({
          type: 'profileError',
          requestId: cmd.requestId,
          run: cmd.run,
          rank: cmd.rank,
          message: `no analysis of this ${cmd.run === 'sgd' ? 'SGD' : 'Langevin'} window is held in this browser; run it to draw more profiles`,
        });
        return;
      }
      a.profile(cmd.rank)
        .then((profile) => post({ type: 'profile', requestId: cmd.requestId, profile }))
        .catch((e: unknown) =>
          post({
            type: 'profileError',
            requestId: cmd.requestId,
            run: cmd.run,
            rank: cmd.rank,
            message: e instanceof Error ? e.message : String(e),
          }),
        );
      return;
    }
  }
};
