/**
 * A run as one JSON document: its config and everything the figures draw (training curves,
 * exploration phase, windows, analysis results, loss profiles). The CLI writes one with
 * `--bundle`; the page ships a precomputed one so the first screen shows real results before
 * anything runs. Numbers are rounded to 4 significant digits to keep bundles small.
 */
import type { AnalysisResult, ModeProfile } from '../engine/experiments/analysis';
import type { RunConfig } from '../engine/experiments/config';
import type { EpochRecord, RunId } from '../engine/experiments/training';

export const BUNDLE_FORMAT = 'flat-minima-lab/run';
export const BUNDLE_VERSION = 1;

export interface RunBundle {
  format: typeof BUNDLE_FORMAT;
  version: typeof BUNDLE_VERSION;
  createdAt: string;
  /** How the run was made, e.g. "npm run reproduce (Node, wasm)". */
  createdWith: string;
  preset: string;
  config: RunConfig;
  epochs: EpochRecord[];
  minibatch: { step: number; loss: number }[];
  exploration: { epoch: number; step: number; reason: string } | null;
  windows: { run: RunId; startStep: number; endStep: number | null }[];
  results: Partial<Record<RunId, AnalysisResult>>;
  profiles: ModeProfile[];
}

/** Deep copy with every non-integer number rounded to `digits` significant digits. */
export function roundNumbers<T>(value: T, digits = 4): T {
  return JSON.parse(
    JSON.stringify(value, (_k, v: unknown) =>
      typeof v === 'number' && Number.isFinite(v) && !Number.isInteger(v) ? Number(v.toPrecision(digits)) : v,
    ),
  ) as T;
}

/** Keeps the first `modes` trajectory rows and at most `points` time points. */
export function slimResult(r: AnalysisResult, modes = 8, points = 300): AnalysisResult {
  const stride = Math.max(1, Math.ceil(r.trajectory.steps.length / points));
  const pick = <T>(a: T[]) => a.filter((_, i) => i % stride === 0);
  return {
    ...r,
    // JSON has no Infinity: a mode whose profile never reached the threshold is left out
    // (it is never part of a fit either).
    modes: r.modes.filter((m) => Number.isFinite(m.flatness) && Number.isFinite(m.left) && Number.isFinite(m.right)),
    trajectory: { steps: pick(r.trajectory.steps), theta: r.trajectory.theta.slice(0, modes).map(pick) },
  };
}

function fail(why: string): never {
  throw new Error(`not a Flat Minima Lab run file: ${why}`);
}

function isObj(x: unknown): x is Record<string, unknown> {
  return typeof x === 'object' && x !== null && !Array.isArray(x);
}

/** Checks the shape of a parsed bundle; throws a message saying what is wrong. */
export function validateBundle(x: unknown): RunBundle {
  if (!isObj(x)) fail('the file is not a JSON object');
  if (x.format !== BUNDLE_FORMAT) fail(`"format" is ${JSON.stringify(x.format)}, expected "${BUNDLE_FORMAT}"`);
  if (x.version !== BUNDLE_VERSION) fail(`version ${JSON.stringify(x.version)} is not supported (expected ${BUNDLE_VERSION})`);
  if (!isObj(x.config)) fail('"config" is missing');
  if (!Array.isArray(x.epochs)) fail('"epochs" is not a list');
  if (!isObj(x.results)) fail('"results" is missing');
  for (const [run, r] of Object.entries(x.results)) {
    if (run !== 'sgd' && run !== 'langevin') fail(`unknown run "${run}" in results`);
    if (!isObj(r) || !Array.isArray(r.variance) || !Array.isArray(r.modes) || !isObj(r.fits)) {
      fail(`results.${run} lacks variance, modes or fits`);
    }
  }
  if (!Array.isArray(x.profiles)) fail('"profiles" is not a list');
  return x as unknown as RunBundle;
}

/** At most `max` points, evenly thinned (the minibatch-loss series of a bundle). */
export function thinSeries<T>(series: T[], max = 800): T[] {
  const stride = Math.ceil(series.length / max);
  return stride <= 1 ? series : series.filter((_, i) => i % stride === 0);
}
