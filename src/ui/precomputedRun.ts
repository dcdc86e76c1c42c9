/**
 * The bundled precomputed run the figures show until the first run of this visit: a gzip asset
 * (~0.06 MB; ~0.21 MB as JSON), fetched once by whichever of the page and the embed asks first.
 */
import url from '../data/precomputed-run.json?gzip';
import { fetchGzipJson } from '../state/gzipJson';

let loading: Promise<unknown> | null = null;

/** The run's JSON (not yet validated: validateBundle). */
export function precomputedRun(): Promise<unknown> {
  loading ??= fetchGzipJson(url, 'the precomputed run');
  return loading;
}
