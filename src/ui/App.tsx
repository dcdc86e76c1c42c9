/**
 * The app: the full page (Page.tsx), or with `?embed=<figure id>` one figure and its minimal
 * controls (Embed.tsx), each loaded on demand, and the setup both share.
 */
import { Suspense, lazy, useEffect } from 'react';
import { syncConfigToUrl, useConfig } from '../state/configStore';
import { showBundle, useRun } from '../state/runStore';
import { validateBundle } from '../state/runBundle';
import { matchPanelToBundle, presetLabel } from './firstVisit';
import { startRun } from './runActions';
import { workers } from './workers';
import { useForgetting } from '../state/forgettingStore';
import { EMBEDDABLE, preloadFigures } from './figures';
import { precomputedRun } from './precomputedRun';

const Embed = lazy(() => import('./Embed').then((m) => ({ default: m.Embed })));
// The page draws once every figure's code is in (preloadFigures), all at once.
const Page = lazy(() =>
  Promise.all([import('./Page'), preloadFigures()]).then(([m]) => ({ default: m.Page })),
);

/** Set once `?autorun=1` has had its one start (module-wide: the page and the embed share it). */
let autorunUsed = false;

/** Everything the page and the embed share: workers, the bundled run, URL sync, data set, theme. */
function useAppSetup(): void {
  const theme = useConfig((s) => s.theme);
  useEffect(() => {
    const root = document.documentElement;
    if (theme === 'auto') delete root.dataset.theme;
    else root.dataset.theme = theme;
  }, [theme]);
  useEffect(() => {
    // A link that runs something needs the workers now; otherwise they wait (workers.ts).
    if (useConfig.getState().autorun || useForgetting.getState().autorun) workers.ensureWorkers();
    // Until the first run of this visit, the figures show a bundled precomputed run; an embed
    // whose figure is drawn from something else (a sweep) does not load it.
    const embed = useConfig.getState().embed;
    const entry = embed === null ? null : EMBEDDABLE.find((f) => f.id === embed);
    const showsRun = embed === null || (entry && !entry.sweep && !entry.forgetting);
    if (!useConfig.getState().autorun && showsRun) {
      void precomputedRun().then((raw) => {
        const s = useRun.getState();
        if (s.epochs.length || s.progress || s.source.kind === 'file') return;
        const b = validateBundle(raw);
        showBundle(
          b,
          'precomputed',
          `Showing a precomputed run of the “${presetLabel(b.preset)}” preset (seed ${b.config.seed}, made with ${b.createdWith}).`,
        );
        matchPanelToBundle(b);
      });
    }
    const unsync = syncConfigToUrl();
    // The URL keeps the data set a run was made with: loading IDX files (or going back to
    // the embedded digits) changes it; the first load of the embedded digits does not, so a
    // link asking for IDX files keeps saying so until they are loaded.
    const unData = useRun.subscribe((s, prev) => {
      if (s.dataset === prev.dataset || !s.dataset) return;
      if (s.dataset.source === 'idx') useConfig.getState().setData('idx');
      else if (prev.dataset?.source === 'idx') useConfig.getState().setData('embedded');
    });
    return () => {
      unsync();
      unData();
      workers.terminate();
    };
  }, []);
  // `?autorun=1` starts the run as soon as the data is in (the link's data set, if it names one).
  const autorun = useConfig((s) => s.autorun);
  const wanted = useConfig((s) => s.data);
  const ready = useRun(
    (s) =>
      s.dataset !== null &&
      s.runState === 'idle' &&
      (wanted !== 'idx' || s.dataset.source === 'idx'),
  );
  useEffect(() => {
    if (!autorun || !ready || autorunUsed) return;
    // Once per visit: a Reset (or a restart after an error) leaves the page idle, as the
    // reader asked, instead of starting the link's run over.
    autorunUsed = true;
    if (useRun.getState().epochs.length === 0 && !useRun.getState().progress) startRun();
  }, [autorun, ready]);
}
export function App() {
  useAppSetup();
  const embed = useConfig((s) => s.embed);
  // Each loads its own code: an embed does not carry the article, nor the page every figure.
  return <Suspense fallback={null}>{embed !== null ? <Embed id={embed} /> : <Page />}</Suspense>;
}
