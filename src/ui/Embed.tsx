/**
 * `?embed=<figure id>`: one figure, sized to its iframe, with its minimal controls (start or
 * pause a live run; until then the bundled precomputed run) and no page chrome. An unknown id
 * gets a message listing the valid ones.
 */
import { useLayoutEffect, useRef, useState } from 'react';
import { shareUrl, useConfig } from '../state/configStore';
import { clipUrlValue } from '../state/configSchema';
import { useRun } from '../state/runStore';
import { FitHeightContext } from '../views/chart';
import { DataNotice, Notices } from './Notices';
import { FIGURES, FIGURE_IDS, Figure } from './figures';
import { StartButton } from './RunPanel';
import { SweepControls } from './SweepControls';
import { usePrecomputedUniversality } from './usePrecomputedUniversality';
import { sweepPlan } from '../state/universalityPlans';
import type { UniversalityMode } from '../worker/protocol';
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
        <Figure id={id} />
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

export function Embed({ id }: { id: string }) {
  useLayoutEffect(() => {
    document.documentElement.classList.add('embedded');
    return () => document.documentElement.classList.remove('embedded');
  }, []);
  const entry = FIGURES.find((f) => f.id === id);
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
            {FIGURE_IDS.map((f) => (
              <li key={f}>
                <code>{f}</code> — {FIGURES.find((x) => x.id === f)?.title}
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
      {entry.sweep ? <SweepEmbedBar mode={entry.sweep} /> : <EmbedBar />}
      <Notices />
      <DataNotice />
      <Fitted id={id} />
    </main>
  );
}
