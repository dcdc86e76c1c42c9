/**
 * Section 7 (universality): the optimizer comparison and the width sweep run in the trainer
 * worker; this store holds their state, progress and finished runs. The worker client routes
 * the trainer's 'universality…' events here. Type-only engine imports: the page bundle stays
 * free of TensorFlow.js.
 */
import { create } from 'zustand';
import type { RunSummary, SweepProgress } from '../engine/experiments/sweeps';
import type { UniversalityMode, UniversalityWorkerEvent } from '../worker/protocol';

export type UniversalityStatus = 'idle' | 'running' | 'cancelling' | 'done' | 'cancelled' | 'error';

/** Widths of the page's sweep: small enough to finish in a minute or two on a CPU. */
export const PAGE_WIDTHS = [10, 20, 30, 50];

export interface UniversalityRuns {
  status: UniversalityStatus;
  message: string | null;
  progress: SweepProgress | null;
  /** Runs the sweep will make (3 optimizers, or one per width). */
  total: number;
  runs: RunSummary[];
}

export interface UniversalityState {
  optimizers: UniversalityRuns;
  widths: UniversalityRuns;
  /** Which sweep the worker is running (events go there). */
  active: UniversalityMode | null;
}

const empty: UniversalityRuns = {
  status: 'idle',
  message: null,
  progress: null,
  total: 0,
  runs: [],
};

export const useUniversality = create<UniversalityState>(() => ({
  optimizers: empty,
  widths: empty,
  active: null,
}));

export function universalityBusy(s: UniversalityState): boolean {
  return s.active !== null;
}

export function beginUniversality(mode: UniversalityMode, total: number): void {
  useUniversality.setState({
    active: mode,
    [mode]: { ...empty, status: 'running', total },
  });
}

export function isUniversalityEvent(e: { type: string }): e is UniversalityWorkerEvent {
  return e.type.startsWith('universality');
}

export function applyUniversalityEvent(e: UniversalityWorkerEvent): void {
  const s = useUniversality.getState();
  const mode = s.active;
  if (!mode) return;
  const cur = s[mode];
  switch (e.type) {
    case 'universalityProgress':
      useUniversality.setState({ [mode]: { ...cur, progress: e.progress } });
      return;
    case 'universalityRun':
      useUniversality.setState({ [mode]: { ...cur, runs: [...cur.runs, e.summary] } });
      return;
    case 'universalityState':
      if (e.state === 'running') return;
      useUniversality.setState({
        active: null,
        [mode]: { ...cur, status: e.state, message: e.message ?? null, progress: null },
      });
      return;
  }
}

/** The workers were restarted or another experiment took over: a running sweep is gone. */
export function stopUniversality(status: 'cancelled' | 'error', message: string): void {
  const s = useUniversality.getState();
  const mode = s.active;
  if (!mode) return;
  useUniversality.setState({
    active: null,
    [mode]: { ...s[mode], status, message, progress: null },
  });
}
