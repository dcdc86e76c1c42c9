/**
 * The article's table of contents: one entry per <section> of the article, read from the page
 * itself (so a section another part of the page adds appears without a list to keep), each
 * saying whose data its figures show now: the bundled precomputed data, a run in progress, or
 * the reader's own.
 */
import { useEffect, useState } from 'react';
import { useForgetting } from '../state/forgettingStore';
import { useRun } from '../state/runStore';
import { useUniversality } from '../state/universalityStore';
import type { UniversalityMode } from '../protocol/messages';
import { FIGURES } from './figures';

export type SectionState = 'bundled' | 'running' | 'yours' | 'opened' | 'empty';

export const STATE_LABEL: Record<SectionState, string> = {
  bundled: 'bundled',
  running: 'running',
  yours: 'yours',
  opened: 'opened file',
  empty: 'not run yet',
};

interface Entry {
  id: string;
  /** The heading's own number ("3b"), else its position. */
  n: string;
  title: string;
  short: string;
  figures: string[];
}

const NUMBERED = /^(\d+[a-z]?)\.\s*/;

/** "2. PCA of the trajectory: one drift, …" → "PCA of the trajectory". */
function shortTitle(title: string): string {
  return title.replace(NUMBERED, '').split(/[:—?]/)[0].trim();
}

function readSections(root: HTMLElement): Entry[] {
  return Array.from(root.querySelectorAll<HTMLElement>(':scope > section')).flatMap((s, i) => {
    const h = s.querySelector('h2');
    if (!h) return [];
    if (!s.id) s.id = `section-${i + 1}`;
    const title = h.textContent?.trim() ?? '';
    const figures = Array.from(s.querySelectorAll<HTMLElement>('[data-figure]')).map(
      (f) => f.dataset.figure ?? '',
    );
    const n = NUMBERED.exec(title)?.[1] ?? String(i + 1);
    return [{ id: s.id, n, title, short: shortTitle(title), figures }];
  });
}

/** The sections of `main.article`, kept current as sections come and go. */
function useSections(): Entry[] {
  const [entries, setEntries] = useState<Entry[]>([]);
  useEffect(() => {
    const root = document.querySelector<HTMLElement>('main.article');
    if (!root) return;
    const update = () =>
      setEntries((prev) => {
        const next = readSections(root);
        return JSON.stringify(prev) === JSON.stringify(next) ? prev : next;
      });
    update();
    const mo = new MutationObserver(update);
    // Direct children only: sections come and go there; figures redraw far more often.
    mo.observe(root, { childList: true });
    return () => mo.disconnect();
  }, []);
  return entries;
}

const SWEEP_OF = new Map<string, UniversalityMode>(
  FIGURES.flatMap((f) => (f.sweep ? [[f.id, f.sweep] as const] : [])),
);

/** What a section's figures show now. */
function useSectionState(): (e: Entry) => SectionState {
  const runState = useRun((s) => s.runState);
  const source = useRun((s) => s.source.kind);
  const hasRun = useRun((s) => Boolean(s.results.sgd) || s.epochs.length > 0);
  const forgettingStatus = useForgetting((s) => s.status);
  const forgettingRuns = useForgetting((s) => s.runs.length);
  const forgettingBundled = useForgetting((s) => s.bundled !== null);
  const sweeps = useUniversality((s) => s);
  return (e) => {
    if (e.id === 'forgetting') {
      if (forgettingStatus === 'starting' || forgettingStatus === 'running') return 'running';
      if (forgettingBundled) return 'bundled';
      return forgettingRuns > 0 ? 'yours' : 'empty';
    }
    const modes = [...new Set(e.figures.flatMap((f) => SWEEP_OF.get(f) ?? []))];
    if (modes.length) {
      const r = modes.map((m) => sweeps[m]);
      if (r.some((x) => x.status === 'running' || x.status === 'pausing')) return 'running';
      if (r.some((x) => !x.precomputed && x.plan.some((p) => p.result))) return 'yours';
      return r.some((x) => x.precomputed) ? 'bundled' : 'empty';
    }
    if (runState === 'training' || runState === 'analyzing') return 'running';
    if (source === 'precomputed') return 'bundled';
    if (source === 'file') return 'opened';
    return hasRun ? 'yours' : 'empty';
  };
}

export function SectionNav() {
  const entries = useSections();
  const stateOf = useSectionState();
  if (!entries.length) return null;
  return (
    <nav className="section-nav" aria-label="Sections" data-testid="section-nav">
      <ol>
        {entries.map((e) => {
          const st = stateOf(e);
          return (
            <li key={e.id}>
              <a href={`#${e.id}`} title={e.title} data-state={st}>
                <span className="section-nav-n">{e.n}</span>
                <span className="section-nav-title">{e.short}</span>
                <span className={`section-nav-state state-${st}`}>{STATE_LABEL[st]}</span>
              </a>
            </li>
          );
        })}
      </ol>
    </nav>
  );
}
