/**
 * The bar of a section-6 figure's embed: its own module, so the other embeds do not load it.
 */
import { useMemo, useState } from 'react';
import { shareUrl, useConfig } from '../state/configStore';
import { useRun } from '../state/runStore';
import { buildForgettingConfig, forgettingBusy, useForgetting } from '../state/forgettingStore';
import { workers } from './workers';

/**
 * The bar of a section-6 figure's embed: start or cancel the forgetting sweep with the link's
 * settings (the full page's section 6 has the fields).
 */
export function ForgettingEmbedBar() {
  const form = useForgetting((s) => s.form);
  const overrides = useForgetting((s) => s.overrides);
  const status = useForgetting((s) => s.status);
  const runsDone = useForgetting((s) => s.runs.length);
  const fraction = useForgetting((s) => s.progress?.fraction ?? 0);
  const message = useForgetting((s) => s.message);
  const dataset = useRun((s) => s.dataset);
  const busy = forgettingBusy({ status });
  const built = useMemo(() => {
    try {
      return { config: buildForgettingConfig(form, overrides, dataset).config, error: null };
    } catch (e) {
      return { config: null, error: e instanceof Error ? e.message : String(e) };
    }
  }, [form, overrides, dataset]);
  // An embed loads no worker until asked: a click first loads the digits, then starts.
  const [asked, setAsked] = useState(false);
  const start = () => {
    workers.ensureWorkers();
    setAsked(true);
    const go = (info: typeof dataset) => {
      if (!info) return false;
      setAsked(false);
      try {
        workers.startForgetting(buildForgettingConfig(form, overrides, info).config);
      } catch {
        // The settings were checked before the click; the digits cannot make them invalid.
      }
      return true;
    };
    if (go(useRun.getState().dataset)) return;
    const stop = useRun.subscribe((s) => {
      if (go(s.dataset)) stop();
    });
  };
  const state = useConfig.getState();
  const full = shareUrl({ ...state, embed: null, hide: [] });
  const text = built.error
    ? built.error
    : asked
      ? 'Loading…'
      : busy
        ? `${runsDone} runs · ${Math.round(100 * fraction)}%`
        : status === 'done'
          ? `Done · ${runsDone} runs`
          : status === 'cancelled' || status === 'error'
            ? (message ?? status)
            : 'Start sweep trains the runs (minutes)';
  return (
    <div className="embed-bar">
      {busy ? (
        <button
          type="button"
          disabled={status === 'cancelling'}
          onClick={() => workers.cancelForgetting()}
        >
          Cancel
        </button>
      ) : (
        <button type="button" className="primary" disabled={!built.config || asked} onClick={start}>
          Start sweep
        </button>
      )}
      <span className="embed-progress" aria-live="polite" data-testid="progress-text">
        {text}
      </span>
      <a className="embed-open" href={`${full}#forgetting`} target="_blank" rel="noopener">
        Open in Flat Minima Lab
      </a>
    </div>
  );
}
