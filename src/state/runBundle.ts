/**
 * The page's side of run bundles: checking a file a reader opens before any figure draws it.
 * The bundle itself (format, slimming, rounding) is written by the engine's one serialiser,
 * src/engine/experiments/runDocument.ts, re-exported here for the page.
 */
import { BUNDLE_FORMAT, BUNDLE_VERSION, type RunBundle } from '../engine/experiments/runDocument';

export {
  BUNDLE_FORMAT,
  BUNDLE_VERSION,
  makeBundle,
  roundNumbers,
  slimResult,
  thinSeries,
  type BundleSource,
  type RunBundle,
} from '../engine/experiments/runDocument';

function fail(why: string): never {
  throw new Error(`not a Flat Minima Lab run file: ${why}`);
}

function isObj(x: unknown): x is Record<string, unknown> {
  return typeof x === 'object' && x !== null && !Array.isArray(x);
}

/**
 * Why a value is not a number a figure can draw, or null when it is one. JSON has no Infinity:
 * a parsed Infinity came from an overflowing literal such as 1e400. A single value may be null
 * (the engine's NaN, e.g. no active temperature in a Langevin window), an entry of a numeric
 * list only where the list says so (a fit's undefined interval).
 */
function notNum(x: unknown, nullable: boolean): string | null {
  if (typeof x === 'number')
    return Number.isFinite(x) ? null : 'is not finite (a number too large for JSON?)';
  if (x === null) return nullable ? null : 'is null, not a number';
  return 'is not a number';
}

function numList(x: unknown, path: string, nullable = false): void {
  if (!Array.isArray(x)) fail(`${path} is not a list`);
  for (let i = 0; i < x.length; i++) {
    const why = notNum(x[i], nullable);
    if (why) fail(`${path}[${i}] ${why}`);
  }
}

function numFields(x: unknown, path: string, keys: readonly string[]): void {
  if (!isObj(x)) fail(`${path} is not an object`);
  for (const k of keys) {
    const why = notNum(x[k], true);
    if (why) fail(`${path}.${k} ${why}`);
  }
}

function objList(
  x: unknown,
  path: string,
  keys: readonly string[],
  check?: (o: Record<string, unknown>, p: string) => void,
): void {
  if (!Array.isArray(x)) fail(`${path} is not a list`);
  x.forEach((o, i) => {
    numFields(o, `${path}[${i}]`, keys);
    check?.(o as Record<string, unknown>, `${path}[${i}]`);
  });
}

const FIT_KEYS = ['exponent', 'r2', 'n', 'slope', 'intercept'] as const;
function checkFit(x: unknown, path: string): void {
  numFields(x, path, FIT_KEYS);
  const f = x as Record<string, unknown>;
  // A fit of fewer than three points has no finite interval: written as null.
  numList(f.ci95, `${path}.ci95`, true);
  numList(f.ranks, `${path}.ranks`);
}

function checkRunId(x: unknown, path: string): void {
  if (x !== 'sgd' && x !== 'langevin')
    fail(`${path} is ${JSON.stringify(x)}, expected "sgd" or "langevin"`);
}

function checkProfile(o: Record<string, unknown>, path: string): void {
  checkRunId(o.run, `${path}.run`);
  numList(o.deltas, `${path}.deltas`);
  numList(o.losses, `${path}.losses`);
}

function checkTheory(t: unknown, path: string): void {
  if (!isObj(t)) fail(`${path} is not an object`);
  numFields(t, path, ['K', 'batchSize', 'lr', 'stepEvery']);
  objList(
    t.modes,
    `${path}.modes`,
    ['rank', 'flatness', 'variance', 'D', 'tau', 'tauIntegral', 'T0', 'T0stderr'],
    (m, p) => numList(m.C, `${p}.C`),
  );
  if (!isObj(t.fits)) fail(`${path}.fits is missing`);
  for (const k of ['D', 'tau', 'tauIntegral'] as const) checkFit(t.fits[k], `${path}.fits.${k}`);
  numFields(t.fits.psiPredicted, `${path}.fits.psiPredicted`, ['value']);
  objList(t.temperature, `${path}.temperature`, ['rank', 'flatness', 'K'], (m, p) => {
    for (const k of ['deltas', 'T', 'stderr', 'loss'] as const) numList(m[k], `${p}.${k}`);
    if (!Array.isArray(m.minibatchLosses)) fail(`${p}.minibatchLosses is not a list`);
    m.minibatchLosses.forEach((row, i) => numList(row, `${p}.minibatchLosses[${i}]`));
    numFields(m.minima, `${p}.minima`, ['mean', 'std', 'atEdge']);
    numList((m.minima as Record<string, unknown>).values, `${p}.minima.values`);
  });
  if (t.trajectory !== null && t.trajectory !== undefined) {
    const tr = t.trajectory;
    if (!isObj(tr)) fail(`${path}.trajectory is not an object`);
    for (const k of ['ranks', 'epochs', 'steps', 'loss', 'T'] as const)
      numList(tr[k], `${path}.trajectory.${k}`);
    numFields(tr, `${path}.trajectory`, ['correlation']);
    objList(tr.profiles, `${path}.trajectory.profiles`, ['epoch'], (q, p) => {
      numList(q.deltas, `${p}.deltas`);
      numList(q.T, `${p}.T`);
    });
  }
}

function checkResult(r: unknown, path: string): void {
  if (!isObj(r)) fail(`${path} is not an object`);
  numList(r.variance, `${path}.variance`);
  objList(r.modes, `${path}.modes`, ['rank', 'variance', 'flatness', 'left', 'right', 'L0']);
  if (!isObj(r.fits)) fail(`${path}.fits is missing`);
  checkFit(r.fits.gamma, `${path}.fits.gamma`);
  checkFit(r.fits.psi, `${path}.fits.psi`);
  numFields(r, path, ['snapshots', 'varianceFraction35', 'rank90', 'driftAlignment']);
  if (!isObj(r.trajectory)) fail(`${path}.trajectory is missing`);
  numList(r.trajectory.steps, `${path}.trajectory.steps`);
  if (!Array.isArray(r.trajectory.theta)) fail(`${path}.trajectory.theta is not a list`);
  r.trajectory.theta.forEach((row, i) => numList(row, `${path}.trajectory.theta[${i}]`));
  objList(
    r.profiles,
    `${path}.profiles`,
    ['rank', 'L0', 'left', 'right', 'flatness', 'threshold'],
    checkProfile,
  );
  numFields(r.timings, `${path}.timings`, ['total']);
  if (r.theory !== undefined) checkTheory(r.theory, `${path}.theory`);
}

/**
 * Checks the shape of a parsed bundle, down to every list and number the figures read, so that
 * a file that passes can be drawn; throws a message saying what is wrong.
 */
export function validateBundle(x: unknown): RunBundle {
  if (!isObj(x)) fail('the file is not a JSON object');
  if (x.format !== BUNDLE_FORMAT)
    fail(`"format" is ${JSON.stringify(x.format)}, expected "${BUNDLE_FORMAT}"`);
  if (x.version !== BUNDLE_VERSION)
    fail(`version ${JSON.stringify(x.version)} is not supported (expected ${BUNDLE_VERSION})`);
  if (typeof x.preset !== 'string') fail('"preset" is missing');
  if (!isObj(x.config)) fail('"config" is missing');
  objList(x.epochs, 'epochs', [
    'epoch',
    'step',
    'trainLoss',
    'trainError',
    'testLoss',
    'testError',
  ]);
  objList(x.minibatch, 'minibatch', ['step', 'loss']);
  if (x.exploration !== null) numFields(x.exploration, 'exploration', ['epoch', 'step']);
  objList(x.windows, 'windows', ['startStep', 'endStep'], (w, p) => checkRunId(w.run, `${p}.run`));
  if (!isObj(x.results)) fail('"results" is missing');
  for (const [run, r] of Object.entries(x.results)) {
    if (run !== 'sgd' && run !== 'langevin') fail(`unknown run "${run}" in results`);
    if (!isObj(r) || !Array.isArray(r.variance) || !Array.isArray(r.modes) || !isObj(r.fits)) {
      fail(`results.${run} lacks variance, modes or fits`);
    }
    checkResult(r, `results.${run}`);
  }
  objList(
    x.profiles,
    'profiles',
    ['rank', 'L0', 'left', 'right', 'flatness', 'threshold'],
    checkProfile,
  );
  if (typeof x.createdWith !== 'string') fail('"createdWith" is missing');
  return x as unknown as RunBundle;
}
