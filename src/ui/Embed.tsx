/**
 * `?embed=<figure id>`: one figure, sized to its iframe, with its minimal controls (start or
 * pause a live run; until then the bundled precomputed run) and no page chrome. An unknown id
 * gets a message listing the valid ones.
 */
import { Suspense, useLayoutEffect, useMemo, useRef, useState } from 'react';
import { shareUrl, useConfig } from '../state/configStore';
import { clipUrlValue } from '../state/configSchema';
import { useRun } from '../state/runStore';
import { FitHeightContext } from '../views/chart';
import { DataNotice, Notices } from './Notices';
import { EMBEDDABLE, Figure } from './figures';
import { buildForgettingConfig, forgettingBusy, useForgetting } from '../state/forgettingStore';
import { StartButton } from './RunPanel';
import { SweepControls } from './SweepControls';
import { usePrecomputedUniversality } from './usePrecomputedUniversality';
import { sweepPlan } from '../state/universalityPlans';
import type { UniversalityMode } from '../protocol/messages';
import { workers } from './workers';

function EmbedBar() {
  const runState = useRun((s) => s.runState);
  const paused = useRun((s) => s.paused);
  const source = useRun((s) => s.source.kind);
  const p = useRun((s) => s.progress);
  const a = useRun((s) => s.analysisProgress);
  const state = useConfig.getState();
  const full = shareUrl({ ...state, embed: null, hide: [] });
  const training = runState === 'training';
  let text: string;
  if (runState === 'loading') text = 'Loading…';
  else if (source !== 'live' && runState === 'idle')
    text = `${source === 'precomputed' ? 'Precomputed' : 'Saved'} run · Start trains your own`;
  else if (a && a.phase !== 'window') text = `Analysis ${Math.round(a.fraction * 100)}%`;
  else if (runState === 'done') text = 'Done';
  else if (runState === 'error') text = 'Stopped with an error (open the full page for details)';
  else if (p)
    text = `${paused ? 'Paused · ' : ''}epoch ${p.epoch} · step ${p.step.toLocaleString('en')}`;
  else text = 'Ready';
  return (
    <div className="embed-bar">
      {training ? (
        <button
          type="button"
          className={paused ? 'primary' : undefined}
          onClick={() => (paused ? workers.resume() : workers.pause())}
        >
          {paused ? 'Resume' : 'Pause'}
        </button>
      ) : (
        <StartButton disabled={runState === 'analyzing'} />
      )}
      <span className="embed-progress" aria-live="polite" data-testid="progress-text">
        {text}
      </span>
      <a className="embed-open" href={full} target="_blank" rel="noopener">
        Open in Flat Minima Lab
      </a>
    </div>
  );
}

/** Measures the height left for the plot and hands it to the figure (FitHeightContext). */
function Fitted({ id }: { id: string }) {
  const ref = useRef<HTMLDivElement>(null);
  const [height, setHeight] = useState<number | null>(null);
  useLayoutEffect(() => {
    const frame = ref.current?.querySelector<HTMLElement>('.fm-frame');
    if (!frame) return;
    const measure = () => {
      const h = Math.floor(frame.clientHeight);
      setHeight((prev) => (prev === h ? prev : h));
    };
    measure();
    const ro = new ResizeObserver(measure);
    ro.observe(frame);
    return () => ro.disconnect();
  }, []);
  return (
    <div className="embed-figure" ref={ref}>
      <FitHeightContext.Provider value={height}>
        <Figure id={id} suspend />
      </FitHeightContext.Provider>
    </div>
  );
}

/** The bar of a section-7 figure's embed: its sweep's controls (the precomputed runs until then). */
function SweepEmbedBar({ mode }: { mode: UniversalityMode }) {
  usePrecomputedUniversality();
  const config = useConfig((s) => s.config);
  const state = useConfig.getState();
  const full = shareUrl({ ...state, embed: null, hide: [] });
  const plan = sweepPlan(mode, config);
  return (
    <div className="embed-bar embed-sweep">
      <SweepControls
        mode={mode}
        startLabel={plan.startLabel}
        plan={() => plan.items}
        append={plan.append}
      />
      <a className="embed-open" href={`${full}#universality`} target="_blank" rel="noopener">
        Open in Flat Minima Lab
      </a>
    </div>
  );
}

/**
 * The bar of a section-6 figure's embed: start or cancel the forgetting sweep with the link's
 * settings (the full page's section 6 has the fields).
 */
function ForgettingEmbedBar() {
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

export function Embed({ id }: { id: string }) {
  useLayoutEffect(() => {
    document.documentElement.classList.add('embedded');
    return () => document.documentElement.classList.remove('embedded');
  }, []);
  const entry = EMBEDDABLE.find((f) => f.id === id);
  if (!entry) {
    return (
      <main className="embed embed-unknown">
        <h1 className="visually-hidden">Flat Minima Lab</h1>
        <div className="error-box" role="alert" data-testid="embed-error">
          <p>
            There is no figure called &ldquo;{clipUrlValue(id)}&rdquo; to embed. Use{' '}
            <code>?embed=</code> with one of these ids:
          </p>
          <ul>
            {EMBEDDABLE.map((f) => (
              <li key={f.id}>
                <code>{f.id}</code> — {f.title}
              </li>
            ))}
          </ul>
        </div>
      </main>
    );
  }
  return (
    <main className="embed" aria-label={entry.title}>
      <h1 className="visually-hidden">Flat Minima Lab: {entry.title}</h1>
      {entry.sweep ? (
        <SweepEmbedBar mode={entry.sweep} />
      ) : entry.forgetting ? (
        <ForgettingEmbedBar />
      ) : (
        <EmbedBar />
      )}
      <Notices />
      <DataNotice />
      {/* Fitted measures the figure once drawn: it mounts when the figure's code is in. */}
      <Suspense fallback={null}>
        <Fitted id={id} />
      </Suspense>
    </main>
  );
}
