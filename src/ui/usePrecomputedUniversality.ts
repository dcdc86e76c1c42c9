/**
 * Loads the precomputed section-7 runs (a chunk of their own) into the sweeps this visit has not
 * run yet; used by the article's section 7 and by the embeds of its figures. A file that does
 * not validate leaves the figures empty and the reason in the store (bundleError).
 */
import { useEffect } from 'react';
import { validateUniversalityBundle } from '../state/universalityBundle';
import {
  setUniversalityBundleError,
  showPrecomputedUniversality,
} from '../state/universalityStore';

export function usePrecomputedUniversality(): void {
  useEffect(() => {
    let live = true;
    import('../data/universality-precomputed.json')
      .then((m) => {
        if (!live) return;
        const v = validateUniversalityBundle(m.default);
        if ('error' in v)
          setUniversalityBundleError(`The precomputed runs could not be shown: ${v.error}.`);
        else showPrecomputedUniversality(v.bundle);
      })
      .catch((e: unknown) =>
        setUniversalityBundleError(
          `The precomputed runs could not be loaded: ${e instanceof Error ? e.message : String(e)}.`,
        ),
      );
    return () => {
      live = false;
    };
  }, []);
}
