/**
 * The run panel's one-line progress: what is happening now, in the reader's words. A rate is
 * shown only beside the phase it measures (training steps/s only while training runs); an
 * analysis phase shows its own progress (its stage, the modes measured so far) instead.
 */
import { reached, type AnalysisProgress, type RunStoreState } from '../state/runStore';

export function formatEta(s: number | null | undefined): string {
  if (s === null || s === undefined || !Number.isFinite(s)) return '—';
  if (s < 60) return `${Math.ceil(s)} s`;
  return `${Math.floor(s / 60)} min ${Math.round(s % 60)} s`;
}

/** The share of an analysis phase after which its rate, and so its ETA, is worth stating. */
export const ETA_MIN_FRACTION = 0.1;

export const PHASE_LABEL: Record<string, string> = {
  warmup: 'warm-up',
  window: 'PCA window',
  'langevin-burnin': 'Langevin burn-in',
  'langevin-window': 'Langevin window',
};

/** The PCA's stages (src/engine/pca), as the reader would say them. */
const PCA_STAGE: Record<string, string> = {
  build: 'building the covariance',
  tridiagonalise: 'eigendecomposition (tridiagonalising)',
  eigenvectors: 'eigendecomposition (eigenvectors)',
  'back-transform': 'eigendecomposition (back-transform)',
  modes: 'projecting onto the modes',
  done: 'done',
};

const ANALYSIS_PHASE: Record<string, string> = {
  pca: 'PCA',
  flatness: 'flatness',
  fits: 'fitting γ and ψ',
  theory: 'noise strength and active temperature',
  curvature: 'Hessian curvature and the edge of stability',
};

/** "Analysis (SGD): flatness: 12 of 30 modes measured · 40% · ETA 1 min 3 s". */
export function analysisText(a: AnalysisProgress): string {
  const run = a.run === 'sgd' ? 'SGD' : 'Langevin';
  const phase = ANALYSIS_PHASE[a.phase] ?? a.phase;
  const detail = a.detail
    ? a.phase === 'pca'
      ? (PCA_STAGE[a.detail] ?? a.detail)
      : a.detail
    : null;
  // An ETA from the first tenth of a phase is mostly noise: say it once the rate has settled.
  const eta =
    a.etaSeconds !== null && a.fraction >= ETA_MIN_FRACTION
      ? ` · ETA ${formatEta(a.etaSeconds)}`
      : '';
  return `Analysis (${run}): ${phase}${detail ? `: ${detail}` : ''} · ${Math.round(a.fraction * 100)}%${eta}`;
}

export function progressText(
  run: Pick<
    RunStoreState,
    | 'runState'
    | 'source'
    | 'progress'
    | 'analysisProgress'
    | 'paused'
    | 'results'
    | 'resumeFrom'
    | 'epochs'
    | 'minibatch'
  >,
): string {
  const p = run.progress;
  const a =
    run.analysisProgress && run.analysisProgress.phase !== 'window' ? run.analysisProgress : null;
  switch (run.runState) {
    case 'loading':
      return 'Loading the backend and the digits…';
    case 'done':
      if (!p) return 'Done';
      return `Done · ${p.step.toLocaleString('en')} steps, trained at ${Math.round(p.stepsPerSecond).toLocaleString('en')} steps/s${run.results.sgd ? ` · analysis ${run.results.sgd.timings.total.toFixed(1)} s` : ''}`;
    case 'error': {
      if (!p && run.epochs.length === 0) return 'Stopped';
      const at = reached(run);
      return `Stopped · epoch ${at.epoch} · step ${at.step.toLocaleString('en')}${run.resumeFrom ? ` · can resume from epoch ${run.resumeFrom.epoch}` : ''}`;
    }
    case 'analyzing':
      // Training is over: its rate would describe nothing that is running now.
      return a ? analysisText(a) : 'Analysis: starting…';
    case 'idle':
      if (run.source.kind !== 'live')
        return `Showing a ${run.source.kind === 'precomputed' ? 'precomputed' : 'saved'} run · press Start for your own`;
      return 'Ready';
    case 'training': {
      if (!p) return a ? analysisText(a) : 'Starting…';
      const where = `${PHASE_LABEL[p.phase] ?? p.phase} · epoch ${p.epoch} · step ${p.step.toLocaleString('en')}`;
      const training = run.paused
        ? `Paused · ${where}`
        : `${where} · ${Math.round(p.stepsPerSecond).toLocaleString('en')} steps/s${
            // The first epoch's rate includes start-up (backend, kernels): no ETA from it.
            p.epoch >= 1 ? ` · ETA ${formatEta(p.etaSeconds)}` : ''
          }`;
      // With the Langevin contrast the SGD window is analysed while the Langevin run trains.
      return a ? `${training} | ${analysisText(a)}` : training;
    }
  }
}
