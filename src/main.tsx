import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { App } from './ui/App';
import { useRun } from './state/runStore';
import { useConfig } from './state/configStore';
import { workers } from './ui/workers';
import './ui/styles.css';

declare global {
  interface Window {
    /** Read-only hook for automation and tests (README, "Automation surface"). */
    __flatMinima: { run: () => unknown; config: () => unknown; crashTrainer: () => void };
  }
}

window.__flatMinima = {
  run: () => {
    const { profiles: _profiles, ...rest } = useRun.getState();
    return JSON.parse(JSON.stringify(rest));
  },
  config: () => JSON.parse(JSON.stringify(useConfig.getState().config)),
  crashTrainer: () => workers.crashTrainer(),
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
