/**
 * The precomputed section-7 runs (src/data/universality-precomputed.json, made by
 * scripts/build-universality-bundle.ts): what the universality figures show until a visitor
 * runs a sweep. Checked on load; a file that does not fit leaves the figures empty and says so.
 */
import type {
  UniversalityMode,
  UniversalityResult,
  UniversalityRunSpec,
} from '../protocol/messages';

export const UNIVERSALITY_BUNDLE_FORMAT = 'flat-minima-universality/1';

export interface UniversalityBundle {
  format: typeof UNIVERSALITY_BUNDLE_FORMAT;
  createdWith: string;
  date: string;
  /** The run-panel settings the sweeps were planned from. */
  config: { batchSize: number; lr: number; hidden: number; seed: number; momentum: number };
  sweeps: Record<
    UniversalityMode,
    { spec: UniversalityRunSpec; label: string; result: UniversalityResult }[]
  >;
}

const MODES: readonly UniversalityMode[] = ['optimizers', 'widths', 'hyper', 'architectures'];

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** The fields the figures read, per result kind. */
function resultFits(r: unknown): boolean {
  if (!isObject(r)) return false;
  if (r.kind === 'mlp') {
    const s = r.summary;
    return (
      isObject(s) &&
      Array.isArray(s.modes) &&
      Array.isArray(s.variance) &&
      Array.isArray(s.flatnessSpectrum) &&
      isObject(s.psi) &&
      isObject(s.gamma) &&
      isObject(s.dims)
    );
  }
  if (r.kind === 'arch') {
    const a = r.result;
    return (
      isObject(r.config) &&
      isObject(a) &&
      Array.isArray(a.modes) &&
      Array.isArray(a.epochs) &&
      isObject(a.fits) &&
      isObject(a.block) &&
      isObject(a.dims)
    );
  }
  return false;
}

/** Lists whose entries may be null: a fit's interval, undefined for fewer than three points. */
const NULLABLE_LISTS = new Set(['ci95', 'ciOls']);

/**
 * The first number in `x` a figure could not draw, by its path, or null. JSON has no Infinity:
 * a parsed one came from an overflowing literal (1e400). A single value may be null (the
 * engine's NaN); an entry of a numeric list may not, except in NULLABLE_LISTS.
 */
function badNumber(x: unknown, path: string, key = ''): string | null {
  if (typeof x === 'number') return Number.isFinite(x) ? null : `${path} is not finite`;
  if (Array.isArray(x)) {
    const numeric = x.some((v) => typeof v === 'number');
    for (let i = 0; i < x.length; i++) {
      if (x[i] === null && numeric && !NULLABLE_LISTS.has(key))
        return `${path}[${i}] is null, not a number`;
      const bad = badNumber(x[i], `${path}[${i}]`);
      if (bad) return bad;
    }
    return null;
  }
  if (isObject(x)) {
    for (const [k, v] of Object.entries(x)) {
      const bad = badNumber(v, `${path}.${k}`, k);
      if (bad) return bad;
    }
  }
  return null;
}

/** The bundle, or an error naming what does not fit. */
export function validateUniversalityBundle(
  raw: unknown,
): { bundle: UniversalityBundle } | { error: string } {
  if (!isObject(raw)) return { error: 'not a JSON object' };
  if (raw.format !== UNIVERSALITY_BUNDLE_FORMAT)
    return { error: `format is ${String(raw.format)}, expected ${UNIVERSALITY_BUNDLE_FORMAT}` };
  if (!isObject(raw.config) || !isObject(raw.sweeps)) return { error: 'config or sweeps missing' };
  const badConfig = badNumber(raw.config, 'config');
  if (badConfig) return { error: badConfig };
  for (const mode of MODES) {
    const runs = raw.sweeps[mode];
    if (!Array.isArray(runs)) return { error: `sweeps.${mode} is not a list` };
    for (const [i, run] of runs.entries()) {
      if (!isObject(run) || typeof run.label !== 'string' || !isObject(run.spec))
        return { error: `sweeps.${mode}[${i}] has no label or spec` };
      if (!resultFits(run.result)) return { error: `sweeps.${mode}[${i}].result is incomplete` };
      const bad = badNumber(run.result, `sweeps.${mode}[${i}].result`);
      if (bad) return { error: bad };
    }
  }
  return { bundle: raw as unknown as UniversalityBundle };
}
