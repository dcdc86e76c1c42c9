/**
 * `?embed=<figure id>`: one figure, sized to its iframe, with its minimal controls (start or
 * pause a live run; until then the bundled precomputed run) and no page chrome. An unknown id
 * gets a message listing the valid ones.
 */
import { Suspense, lazy, useLayoutEffect, useRef, useState } from 'react';
import { shareUrl, useConfig } from '../state/configStore';
import { clipUrlValue } from '../state/configSchema';
import { useRun } from '../state/runStore';
import { FitHeightContext } from '../views/chart';
import { DataNotice, Notices } from './Notices';
import { EMBEDDABLE, Figure } from './figures';
import { StartButton } from './StartButton';
import { workers } from './workers';

// The bars of sections 6 and 7 carry their sweep's code: only their own embeds load them.
const SweepEmbedBar = lazy(() =>
  import('./SweepEmbedBar').then((m) => ({ default: m.SweepEmbedBar })),
);
const ForgettingEmbedBar = lazy(() =>
  import('./ForgettingEmbedBar').then((m) => ({ default: m.ForgettingEmbedBar })),
);

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
      {/* One boundary: the bar, the notices and the figure appear together, so Fitted measures
          the height the bar leaves (a figure drawn first would keep the frame at its height). */}
      <Suspense fallback={null}>
        {entry.sweep ? (
          <SweepEmbedBar mode={entry.sweep} />
        ) : entry.forgetting ? (
          <ForgettingEmbedBar />
        ) : (
          <EmbedBar />
        )}
        <Notices />
        <DataNotice />
        <Fitted id={id} />
      </Suspense>
    </main>
  );
}
