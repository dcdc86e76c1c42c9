/**
 * What the workers report: the run's state, backend, data set, training curves, exploration
 * phase, analysis results and errors. Series are append-only with caps so that long runs keep
 * memory bounded.
 */
import { create } from 'zustand';
import type { BackendChoice } from '../engine/backend';
import type { AnalysisPhase, AnalysisResult, ModeProfile } from '../engine/experiments/analysis';
import type { RunConfig } from '../engine/experiments/config';
import type { EpochRecord, RunId } from '../engine/experiments/training';
import type { DatasetInfo, Progress, RunState } from '../protocol/messages';
import type { RunBundle } from './runBundle';

/** Cap on the decimated minibatch-loss series (older points are thinned, never unbounded). */
export const MAX_MINIBATCH_POINTS = 4000;

export interface AnalysisProgress {
  run: RunId;
  phase: 'window' | AnalysisPhase;
  fraction: number;
  etaSeconds: number | null;
  /** Where in the phase it is ("12 of 30 modes measured"), when the phase says. */
  detail: string | null;
}

export interface RunStoreState {
  runState: RunState;
  paused: boolean;
  backend: BackendChoice | null;
  /** The step implementation of the current run. */
  stepImpl: string | null;
  /** Why that step trains it rather than the backend's own (e.g. the GPU failed mid-run). */
  stepNote: string | null;
  dataset: DatasetInfo | null;
  datasetError: string | null;
  progress: Progress | null;
  analysisProgress: AnalysisProgress | null;
  epochs: EpochRecord[];
  minibatch: { step: number; loss: number }[];
  exploration: { epoch: number; step: number; reason: string } | null;
  windows: { run: RunId; startStep: number; endStep: number | null }[];
  results: Partial<Record<RunId, AnalysisResult>>;
  profiles: Record<string, ModeProfile>;
  /** Why a requested profile could not be drawn, by profileKey. */
  profileErrors: Record<string, string>;
  error: string | null;
  /** True when a worker failed and was stopped; the UI offers a restart. */
  crashed: boolean;
  /** The checkpoint a stopped run can resume from (the UI offers it), or null. */
  resumeFrom: { epoch: number; step: number } | null;
  /** Where the shown results come from: this browser's run, the bundled precomputed run, or a file. */
  source:
    | { kind: 'live' }
    | {
        kind: 'precomputed' | 'file';
        note: string;
        preset: string;
        config: RunConfig;
        createdWith: string;
      };
}

export const initialRunState: RunStoreState = {
  // Idle, not loading: the workers start only when a run is asked for (src/ui/workers.ts).
  runState: 'idle',
  paused: false,
  backend: null,
  stepImpl: null,
  stepNote: null,
  dataset: null,
  datasetError: null,
  progress: null,
  analysisProgress: null,
  epochs: [],
  minibatch: [],
  exploration: null,
  windows: [],
  results: {},
  profiles: {},
  profileErrors: {},
  error: null,
  crashed: false,
  resumeFrom: null,
  source: { kind: 'live' },
};

export const useRun = create<RunStoreState>(() => ({ ...initialRunState }));

export function profileKey(run: RunId, rank: number): string {
  return `${run}:${rank}`;
}

/** Appends points, halving the resolution of the oldest half when over the cap. */
export function appendCapped<T>(series: T[], points: T[], cap = MAX_MINIBATCH_POINTS): T[] {
  let out = series.concat(points);
  while (out.length > cap) {
    const half = Math.floor(out.length / 2);
    const thinned = out.slice(0, half).filter((_, i) => i % 2 === 0);
    out = thinned.concat(out.slice(half));
  }
  return out;
}

/**
 * How far the run got: the latest epoch and step any of its series reached (the progress
 * messages are throttled, so on their own they may lag an epoch record or a loss point).
 */
export function reached(s: Pick<RunStoreState, 'progress' | 'epochs' | 'minibatch'>): {
  epoch: number;
  step: number;
} {
  const lastEpoch = s.epochs[s.epochs.length - 1];
  const lastPoint = s.minibatch[s.minibatch.length - 1];
  return {
    epoch: Math.max(s.progress?.epoch ?? 0, lastEpoch?.epoch ?? 0),
    step: Math.max(s.progress?.step ?? 0, lastEpoch?.step ?? 0, lastPoint?.step ?? 0),
  };
}

/**
 * The run as it was at the checkpoint a stopped run resumes from (end of epoch `epoch`, `step`
 * steps in): what was measured up to there stays, what the resumed run will measure again
 * goes. Results and profiles go too: the checkpoint is never later than the SGD window's start,
 * so every window is redone.
 */
export function rewoundRun(
  s: RunStoreState,
  at: { epoch: number; step: number },
): Partial<RunStoreState> {
  const windows = s.windows.filter((w) => w.startStep < at.step);
  return {
    epochs: s.epochs.filter((e) => e.epoch <= at.epoch),
    minibatch: s.minibatch.filter((p) => p.step <= at.step),
    exploration: s.exploration && s.exploration.step < at.step ? s.exploration : null,
    windows,
    results: {},
    profiles: {},
    profileErrors: {},
    progress: s.progress && {
      ...s.progress,
      epoch: at.epoch,
      step: at.step,
      stepsPerSecond: 0,
      etaSeconds: null,
      fraction: s.progress.step > 0 ? (s.progress.fraction * at.step) / s.progress.step : 0,
    },
    analysisProgress: null,
    error: null,
    crashed: false,
    resumeFrom: null,
    paused: false,
  };
}

/** Shows a saved run (the bundled precomputed one, or a file) without training. */
export function showBundle(b: RunBundle, kind: 'precomputed' | 'file', note: string): void {
  const profiles: Record<string, ModeProfile> = {};
  for (const p of b.profiles) profiles[profileKey(p.run, p.rank)] = p;
  const last = b.epochs[b.epochs.length - 1];
  useRun.setState({
    epochs: b.epochs,
    minibatch: b.minibatch,
    exploration: b.exploration,
    windows: b.windows,
    results: b.results,
    profiles,
    progress: last
      ? {
          phase: 'window',
          epoch: last.epoch,
          step: last.step,
          stepsPerSecond: 0,
          fraction: 1,
          etaSeconds: null,
        }
      : null,
    analysisProgress: null,
    error: null,
    source: { kind, note, preset: b.preset, config: b.config, createdWith: b.createdWith },
  });
}
