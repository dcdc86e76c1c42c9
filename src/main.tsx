import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { App } from './ui/App';
import { useRun } from './state/runStore';
import { useConfig } from './state/configStore';
import { workers } from './ui/workers';
import { forgettingSnapshot } from './state/forgettingStore';
import { universalitySnapshot } from './state/universalityStore';
import { CONFIG_FIELDS } from './state/configSchema';
import { FIGURE_IDS } from './ui/figures';
import { TEST_HOOKS } from './protocol/testHooks';
import { crashPoolJobs, loseEnsembleGpuAt, measureSweepEnsemble } from './ui/poolLazy';
import { usePool } from './ui/poolStore';
import type { UniversalityMode } from './protocol/messages';
import type { PlanItem } from './state/universalityPlans';
import './ui/styles.css';

declare global {
  interface Window {
    /** Read-only hook for automation and tests (README, "Automation surface"). */
    __flatMinima: {
      run: () => unknown;
      config: () => unknown;
      /** The URL schema of every setting (key, URL key, kind, bounds or options). */
      schema: () => unknown;
      /** The figure ids (`data-figure`, `?embed=`). */
      figures: () => string[];
      /** Test builds only (VITE_TEST_HOOKS=1): the trainer worker throws an uncaught error. */
      crashTrainer?: () => void;
      /** Test builds only: the analysis worker throws an uncaught error. */
      crashAnalysis?: () => void;
      /** Test builds only: the next `n` jobs of the sweep pool crash their worker mid-run. */
      crashPoolJobs?: (n?: number) => void;
      /** The sweep pool: workers running, runs in flight, crashed workers replaced, re-queued. */
      pool: () => unknown;
      /** Test builds only: a run on the fused WebGPU trainer loses its device at this step. */
      loseGpuAt?: (step: number) => void;
      /** Test builds only: the next GPU ensemble (section 6 or 7) loses its device at this step. */
      loseEnsembleGpuAt?: (step: number) => void;
      /** Test builds only: the sweeps' GPU ensemble probe (run-steps/s of `runs` runs). */
      measureEnsemble?: (runs: number) => Promise<unknown>;
      /** Test builds only: a section-7 sweep of these runs (e.g. tiny ones) on the pool. */
      startSweep?: (mode: UniversalityMode, items: PlanItem[]) => void;
      /** The forgetting sweep of section 6: state, progress, runs, summary (no images). */
      forgetting: () => unknown;
      /** The universality sweeps of section 7: per sweep its status, progress and finished runs. */
      universality: () => unknown;
    };
  }
}

window.__flatMinima = {
  run: () => {
    const { profiles: _profiles, ...rest } = useRun.getState();
    return JSON.parse(JSON.stringify(rest));
  },
  config: () => JSON.parse(JSON.stringify(useConfig.getState().config)),
  schema: () => JSON.parse(JSON.stringify(CONFIG_FIELDS)),
  figures: () => [...FIGURE_IDS],
  ...(TEST_HOOKS && {
    crashTrainer: () => workers.crash('trainer'),
    crashAnalysis: () => workers.crash('analysis'),
    crashPoolJobs: (n?: number) => crashPoolJobs(n),
    loseGpuAt: (step: number) => workers.loseGpuAt(step),
    loseEnsembleGpuAt: (step: number) => loseEnsembleGpuAt(step),
    measureEnsemble: (runs: number) => measureSweepEnsemble(runs),
    startSweep: (mode: UniversalityMode, items: PlanItem[]) =>
      workers.startUniversality(mode, items),
  }),
  pool: () => JSON.parse(JSON.stringify(usePool.getState())),
  forgetting: () => forgettingSnapshot(),
  universality: () => universalitySnapshot(),
};

const root = document.getElementById('root')!;

// The automation surface (README): run state and backend as attributes of the root element.
useRun.subscribe((s) => {
  const state = s.runState;
  if (root.dataset.runState !== state) root.dataset.runState = state;
  const backend = s.backend?.name ?? '';
  if (root.dataset.backend !== backend) root.dataset.backend = backend;
});

createRoot(root).render(
  <StrictMode>
    <App />
  </StrictMode>,
);
