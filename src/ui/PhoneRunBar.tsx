/**
 * On a phone the run panel scrolls away above the article: this bar stays at the bottom of the
 * screen with Start (or Pause / Resume), the progress and a way back to the settings.
 */
import { useMemo } from 'react';
import { useConfig } from '../state/configStore';
import { useRun } from '../state/runStore';
import { currentPlan } from './runActions';
import { progressText } from './progressText';
import { useNarrow } from './RunPanel';
import { StartButton } from './StartButton';
import { workers } from './workers';

export function PhoneRunBar() {
  const narrow = useNarrow();
  const run = useRun();
  const config = useConfig((s) => s.config);
  const preset = useConfig((s) => s.preset);
  const plan = useMemo(
    () => (preset === 'forgetting' ? null : currentPlan(config, run.dataset)),
    [preset, config, run.dataset],
  );
  if (!narrow) return null;
  const a = run.analysisProgress;
  const p = run.progress;
  return (
    <div className="phone-run-bar" role="region" aria-label="Run (compact)">
      {run.runState === 'training' && !run.paused ? (
        <button type="button" onClick={() => workers.pause()}>
          Pause
        </button>
      ) : run.runState === 'training' && run.paused ? (
        <button type="button" className="primary" onClick={() => workers.resume()}>
          Resume
        </button>
      ) : (
        <StartButton disabled={run.runState === 'analyzing' || Boolean(plan?.problems.length)} />
      )}
      <div className="phone-run-progress">
        <progress
          max={1}
          value={a && a.phase !== 'window' ? a.fraction : (p?.fraction ?? 0)}
          aria-label="Run progress"
        />
        <span className="phone-run-text">{progressText(run)}</span>
      </div>
      <a href="#run-controls" className="phone-run-settings">
        Settings
      </a>
    </div>
  );
}
