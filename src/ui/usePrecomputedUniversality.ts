/**
 * Loads the precomputed section-7 runs (a gzip asset of their own, fetched once) into the sweeps this visit has not
 * run yet; used by the article's section 7 and by the embeds of its figures. A file that does
 * not validate leaves the figures empty and the reason in the store (bundleError).
 */
import { useEffect } from 'react';
import url from '../data/universality-precomputed.json?gzip';
import { fetchGzipJson } from '../state/gzipJson';
import { validateUniversalityBundle } from '../state/universalityBundle';
import {
  setUniversalityBundleError,
  showPrecomputedUniversality,
} from '../state/universalityStore';

let loading: Promise<unknown> | null = null;

export function usePrecomputedUniversality(): void {
  useEffect(() => {
    let live = true;
    (loading ??= fetchGzipJson(url, 'the precomputed section-7 runs'))
      .then((raw) => {
        if (!live) return;
        const v = validateUniversalityBundle(raw);
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
