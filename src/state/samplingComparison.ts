/**
 * With or without replacement (issue 17): ψ, β₁, β₂ and the velocity autocorrelation C(s) of
 * two runs that differ only in how minibatches are drawn — the bundled pair (command line,
 * scripts/build-sampling-bundle.ts) and, once the reader's own run has its theory analysis, that
 * run beside them under its sampling setting.
 */
import { useMemo } from 'react';
import { useConfig } from './configStore';
import { useRun } from './runStore';
import bundle from '../data/sampling-precomputed.json';

export interface SamplingFit {
  exponent: number;
  ci95: number[];
}

export interface SamplingRun {
  key: string;
  label: string;
  sampling: 'epoch' | 'replacement';
  psi: SamplingFit;
  beta1: SamplingFit;
  beta2: SamplingFit;
  modes: { rank: number; zeroLag: number | null; C: number[] }[];
}

const LABEL = { epoch: 'without replacement', replacement: 'with replacement' } as const;

function precomputed(): SamplingRun[] {
  return bundle.runs.map((r) => {
    const sampling = r.sampling === 'replacement' ? 'replacement' : 'epoch';
    return {
      ...r,
      sampling,
      key: `bundle-${sampling}`,
      label: `${LABEL[sampling]} (precomputed)`,
    };
  });
}
const PRECOMPUTED = precomputed();

/** The settings the bundled pair was run at (both runs share them but for sampling). */
export const SAMPLING_BUNDLE_CONFIG = bundle.config as { batchSize: number; lr: number };

/** The bundled pair, then the reader's run when its theory analysis is done. */
export function useSamplingRuns(): SamplingRun[] {
  const theory = useRun((s) => s.results.sgd?.theory ?? null);
  const psi = useRun((s) => s.results.sgd?.fits.psi ?? null);
  const live = useRun((s) => s.source.kind === 'live');
  // The run panel's setting: the run store does not keep a live run's config (changing it
  // after the run would relabel the run; the caption says which setting is shown).
  const sampling = useConfig((s) => s.config.sampling);
  return useMemo(() => {
    if (!theory || !psi || !live) return PRECOMPUTED;
    const own: SamplingRun = {
      key: 'own',
      label: `your run, ${LABEL[sampling]}`,
      sampling,
      psi,
      beta1: theory.fits.D,
      beta2: theory.fits.tau,
      modes: theory.modes
        .filter((m) => m.C.length > 0)
        .map((m) => ({ rank: m.rank, zeroLag: m.zeroLag, C: m.C })),
    };
    return [...PRECOMPUTED, own];
  }, [theory, psi, sampling, live]);
}
