/**
 * `?embed=<figure id>`: one figure, sized to its iframe, with its minimal controls (start or
 * pause a live run; until then the bundled precomputed run) and no page chrome. An unknown id
 * gets a message listing the valid ones.
 */
import { Suspense, lazy, useLayoutEffect, useRef, useState, type CSSProperties } from 'react';
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

/** At most this share of the figure's height is kept for the caption (a longer one scrolls). */
const CAPTION_SHARE = 0.22;

interface Fit {
  /** Height the plot's frame may take (FitHeightContext). */
  plot: number;
  /** Height kept for the caption. */
  caption: number;
}

/**
 * Splits the figure's height between the plot and the caption. The plot gets what is left by
 * the toolbar, legend, read-out, whatever its frame holds below it (the trajectory's replay) and
 * the caption's share; a plot that its width keeps shorter (aspect ratio) leaves the rest to the
 * caption, after it, not as a blank band above the legend. No term reads the plot's own height,
 * so sizing the plot cannot feed back into it.
 */
function measureFit(figure: HTMLElement, frame: HTMLElement, caption: HTMLElement): Fit {
  const height = figure.clientHeight;
  const text = caption.querySelector<HTMLElement>(':scope > .fm-caption-text') ?? caption;
  const captionH = Math.ceil(Math.min(text.offsetHeight, CAPTION_SHARE * height));
  const fr = frame.getBoundingClientRect();
  const above = fr.top - figure.getBoundingClientRect().top; // toolbar
  const between = caption.getBoundingClientRect().top - fr.bottom; // legend, read-out, table
  const plot = frame.firstElementChild?.getBoundingClientRect();
  const below = plot ? frame.scrollHeight - (plot.bottom - fr.top) : 0;
  return {
    plot: Math.max(0, Math.floor(height - above - between - below - captionH)),
    caption: captionH,
  };
}

/** Measures the height left for the plot and hands it to the figure (FitHeightContext). */
function Fitted({ id }: { id: string }) {
  const ref = useRef<HTMLDivElement>(null);
  const [fit, setFit] = useState<Fit | null>(null);
  useLayoutEffect(() => {
    const frame = ref.current?.querySelector<HTMLElement>('.fm-frame');
    const figure = frame?.parentElement;
    const caption = figure?.querySelector<HTMLElement>(':scope > figcaption');
    if (!frame || !figure || !caption) return;
    const measure = () => {
      const next = measureFit(figure, frame, caption);
      setFit((prev) =>
        prev && prev.plot === next.plot && prev.caption === next.caption ? prev : next,
      );
    };
    measure();
    // The iframe's size, the legend's and read-out's heights (they come with data), the
    // replay under the trajectory and the caption's text all move the split.
    const sizes = new ResizeObserver(measure);
    const observeChildren = () => {
      sizes.disconnect();
      sizes.observe(figure);
      for (const el of [figure, frame, caption])
        for (const child of Array.from(el.children)) sizes.observe(child);
    };
    observeChildren();
    const children = new MutationObserver(observeChildren);
    for (const el of [figure, frame, caption]) children.observe(el, { childList: true });
    return () => {
      sizes.disconnect();
      children.disconnect();
    };
  }, []);
  const style = fit ? ({ '--fm-caption-h': `${fit.caption}px` } as CSSProperties) : undefined;
  return (
    <div className="embed-figure" ref={ref} style={style}>
      <FitHeightContext.Provider value={fit?.plot ?? null}>
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
